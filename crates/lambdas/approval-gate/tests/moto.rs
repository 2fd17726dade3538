//! The approval gate against SageMaker's model registry, S3, SNS and Step Functions on moto.

use std::collections::HashMap;

use approval_gate::gate::{self, GateInput};
use approval_gate::human::{self, CallbackRequest, HumanConfig, NotifyInput, SignedLink};
use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use lambda_kit::encoding::parse_form;
use lambda_kit::testing::MotoServer;
use lambda_kit::ObjectStore;
use serde_json::{json, Value};

const SECRET: &[u8] = b"an approval secret of 32+ bytes!";
const NOW: u64 = 1_700_000_000;

struct Env {
    moto: MotoServer,
    sm: aws_sdk_sagemaker::Client,
    sfn: aws_sdk_sfn::Client,
    sns: aws_sdk_sns::Client,
    objects: ObjectStore,
}

async fn setup(group: &str) -> Env {
    let moto = MotoServer::start().expect("moto server");
    let config = moto.sdk_config().await;
    let sm = aws_sdk_sagemaker::Client::new(&config);
    sm.create_model_package_group()
        .model_package_group_name(group)
        .send()
        .await
        .unwrap();
    let objects = moto.object_store().await;
    Env {
        sfn: aws_sdk_sfn::Client::new(&config),
        sns: aws_sdk_sns::Client::new(&config),
        sm,
        objects,
        moto,
    }
}

fn input(v: Value) -> GateInput {
    serde_json::from_value(v).unwrap()
}

async fn status_of(sm: &aws_sdk_sagemaker::Client, arn: &str) -> (String, HashMap<String, String>) {
    let d = sm
        .describe_model_package()
        .model_package_name(arn)
        .send()
        .await
        .unwrap();
    (
        d.model_approval_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        d.customer_metadata_properties()
            .cloned()
            .unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gate_registers_and_compares_with_the_latest_approved_package() {
    let env = setup("churn").await;
    let model = json!({"image": "123.dkr.ecr.us-east-1.amazonaws.com/xgb:1", "model_data_url": "s3://m/model.tar.gz"});
    let cmp = json!({"metric": "validation:auc", "direction": "maximize", "min_delta": 0.01});

    // first model: thresholds pass, nothing to compare with
    let first = gate::evaluate(
        &env.sm,
        &env.objects,
        input(json!({
            "model_package_group": "churn", "model": model, "comparison": cmp,
            "metrics": {"FinalMetricDataList": [{"MetricName": "validation:auc", "Value": 0.90}]},
            "thresholds": {"validation:auc": {"min": 0.8}}
        })),
    )
    .await
    .unwrap();
    assert_eq!(first.decision, "Approved", "{first:?}");
    assert!(first.baseline.is_none());
    let (status, meta) = status_of(&env.sm, &first.model_package_arn).await;
    assert_eq!(status, "Approved");
    assert_eq!(
        meta.get("stepwright:metric:validation:auc")
            .map(String::as_str),
        Some("0.9")
    );

    // not better by min_delta: rejected, with the baseline named
    let worse = gate::evaluate(
        &env.sm,
        &env.objects,
        input(json!({
            "model_package_group": "churn", "comparison": cmp,
            "metrics": {"values": {"validation:auc": 0.905}}
        })),
    )
    .await
    .unwrap();
    assert_eq!(worse.decision, "Rejected");
    assert_eq!(
        worse.baseline.as_ref().unwrap().model_package_arn,
        first.model_package_arn
    );
    assert!(
        worse.reasons[0].message.contains("vs baseline 0.9"),
        "{:?}",
        worse.reasons
    );
    assert_eq!(
        status_of(&env.sm, &worse.model_package_arn).await.0,
        "Rejected"
    );

    // better, from an evaluation report in S3, with manual approval required
    env.moto.create_bucket("eval").await;
    let report = json!({"binary_classification_metrics": {"auc": {"value": 0.95, "standard_deviation": 0.01}}});
    env.objects
        .put(
            &"s3://eval/run-3/evaluation.json".parse().unwrap(),
            report.to_string(),
        )
        .await
        .unwrap();
    let better = gate::evaluate(&env.sm, &env.objects, input(json!({
        "model_package_group": "churn", "manual_approval": true,
        "comparison": {"metric": "binary_classification_metrics.auc", "direction": "maximize", "min_delta": 0.01},
        "metrics": {"evaluation_uri": "s3://eval/run-3/evaluation.json"},
        "thresholds": {"binary_classification_metrics.auc": {"min": 0.9, "max": 1.0}}
    }))).await.unwrap();
    // the baseline recorded `validation:auc`, not this name: a person must compare
    assert_eq!(
        better.decision, "PendingManualApproval",
        "{:?}",
        better.reasons
    );
    assert_eq!(
        status_of(&env.sm, &better.model_package_arn).await.0,
        "PendingManualApproval"
    );

    // a clear improvement on the same metric is approved and becomes the new baseline
    let best = gate::evaluate(
        &env.sm,
        &env.objects,
        input(json!({
            "model_package_group": "churn", "comparison": cmp,
            "metrics": {"values": {"validation:auc": 0.93}}
        })),
    )
    .await
    .unwrap();
    assert_eq!(best.decision, "Approved");
    let latest = gate::latest_approved(&env.sm, "churn")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.model_package_arn, best.model_package_arn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gate_bad_input_gives_named_errors() {
    let env = setup("churn").await;
    env.moto.create_bucket("eval").await;
    let cases = [
        (
            json!({"model_package_group": "churn", "metrics": {"values": {"a": 1.0}}}),
            "Approval.InvalidInput",
        ),
        (
            json!({"model_package_group": "churn", "metrics": {"evaluation_uri": "s3://eval/missing.json"},
                   "thresholds": {"a": {"min": 0}}}),
            "Approval.ObjectNotFound",
        ),
        (
            json!({"model_package_group": "churn", "metrics": {"evaluation_uri": "s3://eval"},
                   "thresholds": {"a": {"min": 0}}}),
            "Approval.InvalidInput",
        ),
        (
            json!({"model_package_group": "nope", "metrics": {"values": {"a": 1.0}}, "thresholds": {"a": {"min": 0}}}),
            "Approval.RegistryFailed",
        ),
        (
            json!({"model_package_group": "churn", "metrics": {"values": {"a": 1.0}}, "thresholds": {"a": {"min": 2, "max": 1}}}),
            "Approval.InvalidInput",
        ),
    ];
    for (value, name) in cases {
        let err = gate::evaluate(&env.sm, &env.objects, input(value.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.name(), name, "{value}: {err}");
    }
    env.objects
        .put(&"s3://eval/bad.json".parse().unwrap(), "not json")
        .await
        .unwrap();
    let err = gate::evaluate(&env.sm, &env.objects, input(json!({
        "model_package_group": "churn", "metrics": {"evaluation_uri": "s3://eval/bad.json"}, "thresholds": {"a": {"min": 0}}
    }))).await.unwrap_err();
    assert!(
        err.message().contains("s3://eval/bad.json is not JSON"),
        "{err}"
    );
}

fn config(env: &Env, topic: &str) -> HumanConfig {
    let _ = env;
    HumanConfig {
        topic_arn: topic.into(),
        callback_url: "https://approve.example.com/".into(),
        secret: SECRET.to_vec(),
    }
}

fn url_request(method: &str, query: &str, body: Option<(&str, &str)>) -> LambdaFunctionUrlRequest {
    let mut event = json!({
        "version": "2.0", "rawPath": "/", "rawQueryString": query, "headers": {},
        "requestContext": {"timeEpoch": 0, "http": {"method": method, "path": "/"}},
        "isBase64Encoded": false
    });
    if let Some((ct, b)) = body {
        event["headers"]["content-type"] = json!(ct);
        event["body"] = json!(b);
    }
    serde_json::from_value(event).unwrap()
}

async fn pending_package(env: &Env) -> String {
    gate::evaluate(
        &env.sm,
        &env.objects,
        input(json!({
            "model_package_group": "churn", "manual_approval": true,
            "metrics": {"values": {"auc": 0.9}}, "thresholds": {"auc": {"min": 0.5}}
        })),
    )
    .await
    .unwrap()
    .model_package_arn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_approval_via_the_signed_link() {
    let env = setup("churn").await;
    let topic = env
        .sns
        .create_topic()
        .name("approvals")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    let cfg = config(&env, &topic);
    let arn = pending_package(&env).await;

    let sent = human::notify(
        &env.sns,
        &cfg,
        NotifyInput {
            task_token: "token-123".into(),
            model_package_arn: arn.clone(),
            summary: json!({"auc": 0.9}),
            expires_in_seconds: Some(3600),
        },
        NOW,
    )
    .await
    .unwrap();
    assert!(!sent.message_id.is_empty());
    assert_eq!(sent.expires, NOW + 3600);

    let link = SignedLink {
        task_token: "token-123".into(),
        model_package_arn: arn.clone(),
        expires: NOW + 3600,
    };
    let query = link.query(SECRET);

    // opening the link shows the form and decides nothing
    let page = human::handle_http(
        &env.sfn,
        &env.sm,
        &cfg,
        url_request("GET", &query, None),
        NOW,
    )
    .await;
    assert_eq!(page.status_code, 200);
    assert!(human::body_text(&page).contains("<form method=\"post\">"));
    assert_eq!(status_of(&env.sm, &arn).await.0, "PendingManualApproval");

    // an unknown decision is refused
    let body = format!("{query}&decision=promote&approver=ann");
    let resp = human::handle_http(
        &env.sfn,
        &env.sm,
        &cfg,
        url_request(
            "POST",
            "",
            Some(("application/x-www-form-urlencoded", &body)),
        ),
        NOW,
    )
    .await;
    assert_eq!(resp.status_code, 400);
    assert!(human::body_text(&resp).contains("Approval.UnknownDecision"));

    // approve (form post): the package is Approved, keeps its metrics, records the approver
    let body = format!("{query}&decision=approve&approver=ann&reason=looks+good");
    let resp = human::handle_http(
        &env.sfn,
        &env.sm,
        &cfg,
        url_request(
            "POST",
            "",
            Some(("application/x-www-form-urlencoded", &body)),
        ),
        NOW + 10,
    )
    .await;
    assert_eq!(resp.status_code, 200, "{}", human::body_text(&resp));
    let (status, meta) = status_of(&env.sm, &arn).await;
    assert_eq!(status, "Approved");
    assert_eq!(
        meta.get("stepwright:approver").map(String::as_str),
        Some("ann")
    );
    assert_eq!(
        meta.get("stepwright:metric:auc").map(String::as_str),
        Some("0.9")
    );

    // replaying the same link is refused
    let resp = human::handle_http(
        &env.sfn,
        &env.sm,
        &cfg,
        url_request(
            "POST",
            "",
            Some(("application/x-www-form-urlencoded", &body)),
        ),
        NOW + 20,
    )
    .await;
    assert_eq!(resp.status_code, 409);
    assert!(human::body_text(&resp).contains("Approval.AlreadyDecided"));

    // a forged link (valid shape, wrong signature) and an expired one
    let forged = query.replace(
        &link.sign(SECRET),
        &SignedLink {
            expires: NOW + 99_999,
            ..link.clone()
        }
        .sign(SECRET),
    );
    let resp = human::handle_http(
        &env.sfn,
        &env.sm,
        &cfg,
        url_request("GET", &forged, None),
        NOW,
    )
    .await;
    assert_eq!(resp.status_code, 403);
    let resp = human::handle_http(
        &env.sfn,
        &env.sm,
        &cfg,
        url_request("GET", &query, None),
        NOW + 3601,
    )
    .await;
    assert_eq!(resp.status_code, 410);
    assert!(human::body_text(&resp).contains("Approval.TokenExpired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tokens_are_refused_by_step_functions_and_nothing_changes() {
    let env = setup("churn").await;
    // run state machines for real so that SendTask* checks tokens
    env.moto
        .configure(r#"{"stepfunctions": {"execute_state_machine": true}}"#)
        .unwrap();
    let cfg = config(&env, "arn:aws:sns:us-east-1:123456789012:none");
    let arn = pending_package(&env).await;
    let link = SignedLink {
        task_token: "no-such-token".into(),
        model_package_arn: arn.clone(),
        expires: NOW + 60,
    };
    let fields: HashMap<String, String> = parse_form(&format!(
        "{}&decision=reject&approver=bob",
        link.query(SECRET)
    ))
    .unwrap()
    .into_iter()
    .collect();
    let req = CallbackRequest::from_fields(&fields).unwrap();
    let err = human::decide(&env.sfn, &env.sm, &cfg, &req, NOW)
        .await
        .unwrap_err();
    assert_eq!(err.name(), "Approval.TokenInvalid", "{err}");
    assert_eq!(status_of(&env.sm, &arn).await.0, "PendingManualApproval");

    // JSON bodies are accepted too; a missing field is a named 400
    let resp = human::handle_http(
        &env.sfn,
        &env.sm,
        &cfg,
        url_request(
            "POST",
            "",
            Some(("application/json", r#"{"decision": "approve"}"#)),
        ),
        NOW,
    )
    .await;
    assert_eq!(resp.status_code, 400);
    assert!(human::body_text(&resp).contains("Approval.InvalidRequest"));

    // notify to a missing topic is a named error
    let err = human::notify(
        &env.sns,
        &cfg,
        NotifyInput {
            task_token: "t".into(),
            model_package_arn: arn,
            summary: Value::Null,
            expires_in_seconds: None,
        },
        NOW,
    )
    .await
    .unwrap_err();
    assert_eq!(err.name(), "Approval.NotifyFailed");
}
