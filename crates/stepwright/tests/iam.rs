//! IAM policy generation: one test per integration asserting the exact statements, merging,
//! the size warning, and the whole-pipeline least-privilege property.

use serde_json::{json, Value};
use stepwright::iam::{policy_with, PolicyOptions};
use stepwright::integrations::registry::*;
use stepwright::integrations::sagemaker::*;
use stepwright::integrations::services::*;
use stepwright::integrations::{string_map, tags, Input};
use stepwright::{Code, StateMachine, TaskState};

const ROLE: &str = "arn:aws:iam::123456789012:role/SageMakerRole";

fn opts() -> PolicyOptions {
    PolicyOptions {
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        state_machine_name: Some("pipeline".into()),
        ..PolicyOptions::default()
    }
}

/// A machine running the tasks in a chain.
fn chain(tasks: Vec<TaskState>) -> StateMachine {
    let n = tasks.len();
    let mut states = serde_json::Map::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let mut v = serde_json::to_value(stepwright::State::Task(Box::new(t))).unwrap();
        if i + 1 < n {
            v["Next"] = json!(format!("S{}", i + 1));
        } else {
            v["End"] = json!(true);
        }
        states.insert(format!("S{i}"), v);
    }
    StateMachine::from_value(&json!({"StartAt": "S0", "States": states})).unwrap()
}

fn statements(tasks: Vec<TaskState>) -> Value {
    let p = policy_with(&chain(tasks), &opts());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    p.document.to_value()["Statement"].clone()
}

fn pass_role(role: &str) -> Value {
    json!({"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": [role],
           "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}})
}

fn rule(name: &str) -> Value {
    json!({"Effect": "Allow",
           "Action": ["events:DescribeRule", "events:PutRule", "events:PutTargets"],
           "Resource": [format!("arn:aws:events:us-east-1:123456789012:rule/{name}")]})
}

fn allow(actions: &[&str], resources: &[&str]) -> Value {
    json!({"Effect": "Allow", "Action": actions, "Resource": resources})
}

fn training(name: impl Into<Input<String>>) -> TrainingJob {
    TrainingJob::new(
        name,
        ROLE,
        AlgorithmSpecification::training_image("xgb:1").training_input_mode("File"),
        OutputDataConfig::new("s3://models/"),
    )
    .resource_config(ResourceConfig::new("ml.m5.xlarge", 1, 30))
    .stopping_condition(StoppingCondition::max_runtime(3600))
}

#[test]
fn training_job_sync_with_tags() {
    let got = statements(vec![training("churn-train")
        .tags(tags([("p", "x")]))
        .into()]);
    assert_eq!(
        got,
        json!([
            rule("StepFunctionsGetEventsForSageMakerTrainingJobsRule"),
            pass_role(ROLE),
            allow(
                &[
                    "sagemaker:AddTags",
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:ListTags",
                    "sagemaker:StopTrainingJob"
                ],
                &["arn:aws:sagemaker:us-east-1:123456789012:training-job/churn-train*"]
            ),
        ])
    );
}

#[test]
fn training_job_request_response_dynamic_name_and_mixed_case() {
    let got = statements(vec![training(Input::path("$.name"))
        .request_response()
        .into()]);
    assert_eq!(
        got,
        json!([
            pass_role(ROLE),
            allow(
                &["sagemaker:CreateTrainingJob", "sagemaker:ListTags"],
                &["arn:aws:sagemaker:us-east-1:123456789012:training-job/*"]
            ),
        ])
    );
    // SageMaker lowercases some ARNs: both spellings are granted.
    let got = statements(vec![training("MyJob").request_response().into()]);
    assert_eq!(
        got[1]["Resource"],
        json!([
            "arn:aws:sagemaker:us-east-1:123456789012:training-job/MyJob*",
            "arn:aws:sagemaker:us-east-1:123456789012:training-job/myjob*"
        ])
    );
}

#[test]
fn processing_transform_tuning_labeling_jobs() {
    let processing = ProcessingJob::new(
        "eval",
        ROLE,
        AppSpecification::new("eval:1"),
        ProcessingResources::new("ml.m5.xlarge", 1, 30),
    );
    assert_eq!(
        statements(vec![processing.into()]),
        json!([
            rule("StepFunctionsGetEventsForSageMakerProcessingJobsRule"),
            pass_role(ROLE),
            allow(
                &[
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:ListTags",
                    "sagemaker:StopProcessingJob"
                ],
                &["arn:aws:sagemaker:us-east-1:123456789012:processing-job/eval*"]
            ),
        ])
    );

    let transform = TransformJob::new(
        "score",
        "churn-model",
        TransformInput::s3_prefix("s3://d/in/"),
        TransformOutput::new("s3://d/out/"),
        TransformResources::new("ml.m5.xlarge", 1),
    );
    // A transform job passes no role.
    assert_eq!(
        statements(vec![transform.into()]),
        json!([
            rule("StepFunctionsGetEventsForSageMakerTransformJobsRule"),
            allow(
                &[
                    "sagemaker:CreateTransformJob",
                    "sagemaker:DescribeTransformJob",
                    "sagemaker:ListTags",
                    "sagemaker:StopTransformJob"
                ],
                &["arn:aws:sagemaker:us-east-1:123456789012:transform-job/score*"]
            ),
        ])
    );

    let tuning = TuningJob::new(
        "tune",
        TuningJobConfig::default()
            .strategy("Bayesian")
            .objective(TuningObjective::maximize("auc"))
            .resource_limits(ResourceLimits::new(4, 2)),
    )
    .training_job_definition(
        TrainingJobDefinition::default()
            .role_arn(ROLE)
            .algorithm_specification(AlgorithmSpecification::training_image("xgb:1")),
    );
    assert_eq!(
        statements(vec![tuning.into()]),
        json!([
            rule("StepFunctionsGetEventsForSageMakerTuningJobsRule"),
            pass_role(ROLE),
            allow(
                &[
                    "sagemaker:CreateHyperParameterTuningJob",
                    "sagemaker:DescribeHyperParameterTuningJob",
                    "sagemaker:ListTags",
                    "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
                    "sagemaker:StopHyperParameterTuningJob"
                ],
                &["arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/tune*"]
            ),
        ])
    );

    let labeling = LabelingJob::new(
        "label",
        "label",
        "s3://d/manifest.json",
        LabelingOutputConfig::default().s3_output_path("s3://d/labels/"),
        ROLE,
        HumanTaskConfig::default()
            .workteam_arn("arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/t"),
    )
    .request_response();
    assert_eq!(
        statements(vec![labeling.into()]),
        json!([
            pass_role(ROLE),
            allow(
                &["sagemaker:CreateLabelingJob", "sagemaker:ListTags"],
                &["arn:aws:sagemaker:us-east-1:123456789012:labeling-job/label*"]
            ),
        ])
    );
}

#[test]
fn model_endpoint_config_endpoint_update() {
    let got = statements(vec![
        CreateModel::new("churn-model", ROLE)
            .primary_container(ContainerDefinition::new("xgb:1"))
            .into(),
        CreateEndpointConfig::new(
            "churn-config",
            vec![ProductionVariant::new("AllTraffic", "churn-model")],
        )
        .unwrap()
        .tags(tags([("p", "x")]))
        .into(),
        CreateEndpoint::new("churn", "churn-config").into(),
        UpdateEndpoint::new("churn", "churn-config").into(),
    ]);
    let sm = |r: &str| format!("arn:aws:sagemaker:us-east-1:123456789012:{r}");
    assert_eq!(
        got,
        json!([
            pass_role(ROLE),
            allow(
                &["sagemaker:AddTags", "sagemaker:CreateEndpointConfig"],
                &[&sm("endpoint-config/churn-config")]
            ),
            allow(
                &["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"],
                &[&sm("endpoint-config/churn-config"), &sm("endpoint/churn")]
            ),
            allow(&["sagemaker:CreateModel"], &[&sm("model/churn-model")]),
        ])
    );
}

#[test]
fn model_registry_steps() {
    let pkg = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3";
    let got = statements(vec![
        CreateModelPackage::new("churn")
            .model_approval_status("PendingManualApproval")
            .into(),
        UpdateModelPackage::approve(pkg).into(),
        DescribeModelPackage::new(pkg).into(),
        DescribeEndpoint::new("churn").into(),
    ]);
    let sm = |r: &str| format!("arn:aws:sagemaker:us-east-1:123456789012:{r}");
    assert_eq!(
        got,
        json!([
            allow(
                &["sagemaker:CreateModelPackage"],
                &[
                    &sm("model-package-group/churn"),
                    &sm("model-package/churn/*")
                ]
            ),
            allow(&["sagemaker:DescribeEndpoint"], &[&sm("endpoint/churn")]),
            allow(
                &[
                    "sagemaker:DescribeModelPackage",
                    "sagemaker:UpdateModelPackage"
                ],
                &[pkg]
            ),
        ])
    );
    // ListModelPackages has no resource-level permissions.
    assert_eq!(
        statements(vec![ListModelPackages::new("churn").into()]),
        json!([allow(&["sagemaker:ListModelPackages"], &["*"])])
    );
}

#[test]
fn lambda_functions_with_and_without_qualifiers() {
    let f = |r: &str| format!("arn:aws:lambda:us-east-1:123456789012:function:{r}");
    let got = statements(vec![
        LambdaInvoke::new("cleanse").into(),
        LambdaInvoke::new("validate:live").into(),
        LambdaInvoke::new("arn:aws:lambda:eu-west-1:999999999999:function:gate").into(),
        LambdaInvoke::new("trigger").qualifier("7").into(),
    ]);
    assert_eq!(
        got,
        json!([allow(
            &["lambda:InvokeFunction"],
            &[
                "arn:aws:lambda:eu-west-1:999999999999:function:gate",
                "arn:aws:lambda:eu-west-1:999999999999:function:gate:*",
                &f("cleanse"),
                &f("cleanse:*"),
                &f("trigger:7"),
                &f("validate:live"),
            ]
        )])
    );
    // Dynamic name: any function of the account, never `*`.
    assert_eq!(
        statements(vec![LambdaInvoke::new(Input::path("$.fn")).into()]),
        json!([allow(&["lambda:InvokeFunction"], &[&f("*")])])
    );
    // A Lambda ARN used directly as the Resource.
    let m = StateMachine::from_json(
        r#"{"StartAt":"L","States":{"L":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:old:prod","End":true}}}"#,
    )
    .unwrap();
    assert_eq!(
        policy_with(&m, &opts()).document.to_value()["Statement"],
        json!([allow(&["lambda:InvokeFunction"], &[&f("old:prod")])])
    );
}

#[test]
fn jsonata_arguments_are_read_too() {
    let f = |r: &str| format!("arn:aws:lambda:us-east-1:123456789012:function:{r}");
    let t: TaskState = LambdaInvoke::new("score")
        .payload(Input::jsonata("$states.input"))
        .into();
    assert!(t.arguments.is_some());
    assert_eq!(
        statements(vec![t]),
        json!([allow(
            &["lambda:InvokeFunction"],
            &[&f("score"), &f("score:*")]
        )])
    );
    let t: TaskState = LambdaInvoke::new(Input::jsonata("$states.input.fn")).into();
    assert_eq!(
        statements(vec![t]),
        json!([allow(&["lambda:InvokeFunction"], &[&f("*")])])
    );
}

#[test]
fn sns_sqs_eventbridge() {
    let got = statements(vec![
        SnsPublish::topic("arn:aws:sns:us-east-1:123456789012:alerts", "done").into(),
        SqsSendMessage::new(
            "https://sqs.us-east-1.amazonaws.com/123456789012/review",
            json!({"a": 1}),
        )
        .into(),
        EventBridgePutEvents::new(vec![
            EventEntry::new("ml", "Deployed", json!({})),
            EventEntry::new("ml", "Deployed", json!({})).event_bus_name("ml-bus"),
        ])
        .into(),
    ]);
    assert_eq!(
        got,
        json!([
            allow(
                &["events:PutEvents"],
                &[
                    "arn:aws:events:us-east-1:123456789012:event-bus/default",
                    "arn:aws:events:us-east-1:123456789012:event-bus/ml-bus"
                ]
            ),
            allow(
                &["sns:Publish"],
                &["arn:aws:sns:us-east-1:123456789012:alerts"]
            ),
            allow(
                &["sqs:SendMessage"],
                &["arn:aws:sqs:us-east-1:123456789012:review"]
            ),
        ])
    );
    // SMS: sns:Publish has no resource.
    assert_eq!(
        statements(vec![SnsPublish::sms("+15555550100", "hi").into()]),
        json!([allow(&["sns:Publish"], &["*"])])
    );
}

#[test]
fn dynamodb_operations() {
    let key = json!({"pk": {"S": "a"}});
    let got = statements(vec![
        DynamoGetItem::new("models", key.clone()).into(),
        DynamoPutItem::new("models", key.clone()).into(),
        DynamoUpdateItem::new("models", key.clone()).into(),
        DynamoDeleteItem::new(Input::path("$.table"), key).into(),
    ]);
    assert_eq!(
        got,
        json!([
            allow(
                &["dynamodb:DeleteItem"],
                &["arn:aws:dynamodb:us-east-1:123456789012:table/*"]
            ),
            allow(
                &[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem"
                ],
                &["arn:aws:dynamodb:us-east-1:123456789012:table/models"]
            ),
        ])
    );
}

#[test]
fn nested_step_functions() {
    let sm = "arn:aws:states:us-east-1:123456789012:stateMachine:train";
    assert_eq!(
        statements(vec![StartExecution::new(sm).into()]),
        json!([
            rule("StepFunctionsGetEventsForStepFunctionsExecutionRule"),
            allow(
                &["states:DescribeExecution", "states:StopExecution"],
                &["arn:aws:states:us-east-1:123456789012:execution:train:*"]
            ),
            allow(&["states:StartExecution"], &[sm]),
        ])
    );
    let rr: TaskState = StartExecution::new(sm)
        .integration_pattern(stepwright::integrations::IntegrationPattern::RequestResponse)
        .unwrap()
        .into();
    assert_eq!(
        statements(vec![rr]),
        json!([allow(&["states:StartExecution"], &[sm])])
    );
}

#[test]
fn activities_need_no_permission_and_sdk_calls_map_names() {
    let m = chain(vec![
        Activity::new("arn:aws:states:us-east-1:123456789012:activity:review").into(),
        AwsSdkCall::new("sfn", "describeExecution")
            .field("ExecutionArn", Input::path("$.arn"))
            .into(),
        AwsSdkCall::new("s3", "copyObject")
            .field("Bucket", "models")
            .field("CopySource", "staging/model.tar.gz")
            .field("Key", "prod/model.tar.gz")
            .into(),
    ]);
    assert_eq!(
        policy_with(&m, &opts()).document.to_value()["Statement"],
        json!([
            allow(&["s3:GetObject"], &["arn:aws:s3:::staging/model.tar.gz"]),
            allow(
                &["s3:PutObject"],
                &["arn:aws:s3:::models/prod/model.tar.gz"]
            ),
            allow(&["states:DescribeExecution"], &["*"]),
        ])
    );
}

fn distributed_map() -> Value {
    json!({
        "Type": "Map",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Score",
            "States": {"Score": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "score-batch", "Payload.$": "$"}, "End": true}}
        },
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            "Parameters": {"Bucket": "data", "Key": "batches/input.csv"}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "data", "Prefix": "results/"}},
        "End": true
    })
}

#[test]
fn distributed_map_reader_writer_and_child_executions() {
    let m =
        StateMachine::from_value(&json!({"StartAt": "Fan", "States": {"Fan": distributed_map()}}))
            .unwrap();
    let f = |r: &str| format!("arn:aws:lambda:us-east-1:123456789012:function:{r}");
    assert_eq!(
        policy_with(&m, &opts()).document.to_value()["Statement"],
        json!([
            allow(
                &["lambda:InvokeFunction"],
                &[&f("score-batch"), &f("score-batch:*")]
            ),
            allow(
                &[
                    "s3:AbortMultipartUpload",
                    "s3:GetObject",
                    "s3:ListMultipartUploadParts",
                    "s3:PutObject"
                ],
                &["arn:aws:s3:::data/results/*"]
            ),
            allow(&["s3:GetObject"], &["arn:aws:s3:::data/batches/input.csv"]),
            allow(
                &["states:DescribeExecution", "states:StopExecution"],
                &["arn:aws:states:us-east-1:123456789012:execution:pipeline/*"]
            ),
            allow(
                &["states:StartExecution"],
                &["arn:aws:states:us-east-1:123456789012:stateMachine:pipeline"]
            ),
        ])
    );
}

#[test]
fn duplicates_merge_and_order_is_stable() {
    let a = statements(vec![
        LambdaInvoke::new("a").into(),
        LambdaInvoke::new("a").into(),
        LambdaInvoke::new("b").into(),
    ]);
    assert_eq!(a.as_array().unwrap().len(), 1);
    assert_eq!(a[0]["Resource"].as_array().unwrap().len(), 4);
    let b = statements(vec![
        LambdaInvoke::new("b").into(),
        LambdaInvoke::new("a").into(),
    ]);
    assert_eq!(a, b, "order of tasks does not change the document");
}

#[test]
fn default_options_use_partition_aws_and_wildcard_region_account() {
    let m = chain(vec![LambdaInvoke::new("f").into()]);
    assert_eq!(
        m.iam_policy().statements[0].resources,
        [
            "arn:aws:lambda:*:*:function:f",
            "arn:aws:lambda:*:*:function:f:*"
        ]
    );
    let cn = PolicyOptions {
        partition: "aws-cn".into(),
        ..PolicyOptions::default()
    };
    assert!(
        policy_with(&m, &cn).document.statements[0].resources[0].starts_with("arn:aws-cn:lambda:")
    );
}

#[test]
fn unknown_integrations_are_reported() {
    let m = StateMachine::from_json(
        r#"{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:states:::batch:submitJob.sync","End":true}}}"#,
    )
    .unwrap();
    let p = policy_with(&m, &opts());
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].code, Code::IamUnknownIntegration);
    assert_eq!(p.diagnostics[0].pointer, "/States/B/Resource");
}

#[test]
fn size_warning_over_the_inline_limit() {
    let small = policy_with(&chain(vec![LambdaInvoke::new("f").into()]), &opts());
    assert!(small.diagnostics.is_empty());
    let tasks = (0..150)
        .map(|i| LambdaInvoke::new(format!("a-rather-long-function-name-number-{i:04}")).into())
        .collect();
    let big = policy_with(&chain(tasks), &opts());
    assert!(big.document.size() > stepwright::iam::INLINE_POLICY_LIMIT);
    assert_eq!(big.diagnostics.len(), 1);
    assert_eq!(big.diagnostics[0].code, Code::SizeLimitExceeded);
    assert!(!big.diagnostics[0].is_error());
}

/// The issue's acceptance test: every SageMaker step plus Lambda, SNS and a Distributed Map,
/// all names literal → no `*` action and no `*` resource.
#[test]
fn full_pipeline_is_least_privilege() {
    let tasks: Vec<TaskState> = vec![
        ProcessingJob::new(
            "prep",
            ROLE,
            AppSpecification::new("prep:1"),
            ProcessingResources::new("ml.m5.xlarge", 1, 30),
        )
        .into(),
        training("train")
            .hyper_parameters(string_map([("eta", "0.1")]))
            .into(),
        TuningJob::new("tune", TuningJobConfig::default().strategy("Random"))
            .training_job_definition(TrainingJobDefinition::default().role_arn(ROLE))
            .into(),
        LabelingJob::new(
            "label",
            "label",
            "s3://d/m.json",
            LabelingOutputConfig::default().s3_output_path("s3://d/l/"),
            ROLE,
            HumanTaskConfig::default(),
        )
        .into(),
        CreateModel::new("model", ROLE).into(),
        TransformJob::new(
            "batch",
            "model",
            TransformInput::s3_prefix("s3://d/in/"),
            TransformOutput::new("s3://d/out/"),
            TransformResources::new("ml.m5.xlarge", 1),
        )
        .into(),
        CreateEndpointConfig::new(
            "config",
            vec![ProductionVariant::new("AllTraffic", "model")],
        )
        .unwrap()
        .into(),
        CreateEndpoint::new("endpoint", "config").into(),
        UpdateEndpoint::new("endpoint", "config").into(),
        CreateModelPackage::new("group").into(),
        DescribeEndpoint::new("endpoint").into(),
        LambdaInvoke::new("gate").into(),
        SnsPublish::topic("arn:aws:sns:us-east-1:123456789012:alerts", "deployed").into(),
    ];
    let mut m = chain(tasks);
    // Append the Distributed Map.
    let mut v = m.to_value();
    let last = format!("S{}", m.states.len() - 1);
    v["States"][&last].as_object_mut().unwrap().remove("End");
    v["States"][&last]["Next"] = json!("Fan");
    v["States"]["Fan"] = distributed_map();
    m = StateMachine::from_value(&v).unwrap();

    let policy = policy_with(&m, &opts());
    assert!(policy.diagnostics.is_empty(), "{:?}", policy.diagnostics);
    let doc = policy.document;
    for a in doc.actions() {
        assert!(!a.contains('*'), "wildcard action {a}");
    }
    for r in doc.resources() {
        assert_ne!(r, "*", "bare * resource in {}", doc.to_json_pretty());
        assert!(
            !r.ends_with("/*")
                || r.contains("execution:pipeline/")
                || r.contains("model-package/group/")
                || r.ends_with("data/results/*"),
            "unexpected wildcard {r}"
        );
    }
    // Every literal name shows up scoped.
    let all: Vec<&str> = doc.resources().collect();
    for name in [
        "processing-job/prep*",
        "training-job/train*",
        "hyper-parameter-tuning-job/tune*",
        "labeling-job/label*",
        "model/model",
        "transform-job/batch*",
        "endpoint-config/config",
        "endpoint/endpoint",
        "function:gate",
        ":alerts",
    ] {
        assert!(
            all.iter().any(|r| r.ends_with(name)),
            "{name} missing in {all:?}"
        );
    }
    assert!(doc.size() < stepwright::iam::INLINE_POLICY_LIMIT);
    println!(
        "full pipeline policy: {} statements, {} bytes",
        doc.statements.len(),
        doc.size()
    );
}

#[test]
fn cross_account_credentials_and_http_tasks() {
    let m = StateMachine::from_json(
        r#"{"StartAt":"X","States":{
          "X":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
               "Credentials":{"RoleArn":"arn:aws:iam::999999999999:role/deployer"},
               "Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:999999999999:function:f"},"Next":"H"},
          "H":{"Type":"Task","Resource":"arn:aws:states:::http:invoke",
               "Parameters":{"ApiEndpoint":"https://api.example.com/v1/models","Method":"POST",
                 "Authentication":{"ConnectionArn":"arn:aws:events:us-east-1:123456789012:connection/c/1"}},
               "End":true}}}"#,
    )
    .unwrap();
    let got = policy_with(&m, &opts()).document.to_value()["Statement"].clone();
    assert_eq!(
        got,
        json!([
            allow(&["events:RetrieveConnectionCredentials"], &["arn:aws:events:us-east-1:123456789012:connection/c/1"]),
            allow(
                &["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                &["arn:aws:secretsmanager:us-east-1:123456789012:secret:events!connection/*"]
            ),
            {"Effect": "Allow", "Action": ["states:InvokeHTTPEndpoint"],
             "Resource": ["arn:aws:states:us-east-1:123456789012:stateMachine:pipeline"],
             "Condition": {"StringEquals": {"states:HTTPMethod": "POST"},
                           "StringLike": {"states:HTTPEndpoint": "https://api.example.com/v1/models"}}},
            allow(&["sts:AssumeRole"], &["arn:aws:iam::999999999999:role/deployer"]),
        ])
    );
}

/// A machine with `${Name}` substitution tokens where a pipeline has them (SAM
/// `DefinitionSubstitutions`): Lambda ARNs, a topic, the SageMaker role, an endpoint name, the
/// bucket of a Distributed Map.
const TOKENS: &str = r#"{"StartAt":"Clean","States":{
  "Clean":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
    "Parameters":{"FunctionName":"${CleanseFunctionArn}","Payload.$":"$"},"Next":"Gate"},
  "Gate":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
    "Parameters":{"FunctionName":"${GateFunctionArn}","Qualifier":"live","Payload.$":"$"},"Next":"Train"},
  "Train":{"Type":"Task","Resource":"arn:aws:states:::sagemaker:createTrainingJob.sync",
    "Parameters":{"TrainingJobName.$":"$$.Execution.Name","RoleArn":"${SageMakerRoleArn}",
      "AlgorithmSpecification":{"TrainingImage":"${TrainingImage}","TrainingInputMode":"File"},
      "OutputDataConfig":{"S3OutputPath":"s3://${DataBucket}/models/"},
      "ResourceConfig":{"InstanceCount":1,"InstanceType":"${TrainingInstanceType}","VolumeSizeInGB":10},
      "StoppingCondition":{"MaxRuntimeInSeconds":60}},"Next":"Find"},
  "Find":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
    "Parameters":{"EndpointName":"${EndpointName}"},"Next":"Update"},
  "Update":{"Type":"Task","Resource":"arn:aws:states:::sagemaker:updateEndpoint",
    "Parameters":{"EndpointName":"${EndpointName}","EndpointConfigName.$":"$.config"},"Next":"Shards"},
  "Shards":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2",
      "Parameters":{"Bucket":"${DataBucket}","Prefix.$":"$.prefix"}},
    "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
      "StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
    "ResultWriter":{"Resource":"arn:aws:states:::s3:putObject",
      "Parameters":{"Bucket":"${DataBucket}","Prefix":"shards/"}},"Next":"Child"},
  "Child":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution",
    "Parameters":{"StateMachineArn":"${ChildStateMachineArn}","Input.$":"$"},"Next":"Notify"},
  "Notify":{"Type":"Task","Resource":"arn:aws:states:::sns:publish",
    "Parameters":{"TopicArn":"${AlertTopicArn}","Message":"done"},"End":true}}}"#;

#[test]
fn substitution_tokens_are_kept_when_asked() {
    let m = StateMachine::from_json(TOKENS).unwrap();
    let keep = PolicyOptions {
        keep_substitutions: true,
        ..opts()
    };
    let p = policy_with(&m, &keep);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let got = p.document.to_value()["Statement"].clone();
    let sm = |r: &str| format!("arn:aws:sagemaker:us-east-1:123456789012:{r}");
    assert_eq!(
        got,
        json!([
            allow(&["events:DescribeRule", "events:PutRule", "events:PutTargets"],
                  &["arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule"]),
            pass_role("${SageMakerRoleArn}"),
            allow(&["lambda:InvokeFunction"],
                  &["${CleanseFunctionArn}", "${CleanseFunctionArn}:*", "${GateFunctionArn}:live"]),
            allow(&["s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"],
                  &["arn:aws:s3:::${DataBucket}/shards/*"]),
            allow(&["s3:ListBucket"], &["arn:aws:s3:::${DataBucket}"]),
            allow(&["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:ListTags",
                    "sagemaker:StopTrainingJob"], &[&sm("training-job/*")]),
            // a token is never lowercased (it would name another token)
            allow(&["sagemaker:DescribeEndpoint"], &[&sm("endpoint/${EndpointName}")]),
            allow(&["sagemaker:UpdateEndpoint"], &[&sm("endpoint-config/*"), &sm("endpoint/${EndpointName}")]),
            allow(&["sns:Publish"], &["${AlertTopicArn}"]),
            allow(&["states:DescribeExecution", "states:StopExecution"],
                  &["arn:aws:states:us-east-1:123456789012:execution:pipeline/*"]),
            allow(&["states:StartExecution"],
                  &["${ChildStateMachineArn}", "arn:aws:states:us-east-1:123456789012:stateMachine:pipeline"]),
        ])
    );
}

#[test]
fn substitution_tokens_are_dynamic_by_default() {
    let m = StateMachine::from_json(TOKENS).unwrap();
    let doc = policy_with(&m, &opts()).document;
    let all: Vec<&str> = doc.resources().collect();
    assert!(all.iter().all(|r| !r.contains("${")), "{all:?}");
    let text = doc.to_value().to_string();
    assert!(text.contains("arn:aws:lambda:us-east-1:123456789012:function:*"));
    assert!(text.contains("arn:aws:sns:us-east-1:123456789012:*"));
    assert!(text.contains("arn:aws:sagemaker:us-east-1:123456789012:endpoint/*"));
    assert!(text.contains("arn:aws:s3:::*"));
    // A token inside a value (not only a whole value) is dynamic too.
    let m = StateMachine::from_json(
        r#"{"StartAt":"G","States":{"G":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject",
          "Parameters":{"Bucket":"data","Key":"config/${Stage}/rules.json"},"End":true}}}"#,
    )
    .unwrap();
    assert_eq!(
        policy_with(&m, &opts()).document.statements[0].resources,
        ["arn:aws:s3:::data/*"]
    );
    let keep = PolicyOptions {
        keep_substitutions: true,
        ..opts()
    };
    assert_eq!(
        policy_with(&m, &keep).document.statements[0].resources,
        ["arn:aws:s3:::data/config/${Stage}/rules.json"]
    );
}

#[test]
fn cloudformation_options_use_pseudo_parameters() {
    let m = StateMachine::from_json(TOKENS).unwrap();
    let p = policy_with(&m, &PolicyOptions::cloudformation());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let all: Vec<&str> = p.document.resources().collect();
    assert!(
        all.contains(&"arn:${AWS::Partition}:s3:::${DataBucket}"),
        "{all:?}"
    );
    assert!(all.contains(
        &"arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/${EndpointName}"
    ));
    // Everything is an ARN with the pseudo parameters or a kept token: no hard-coded partition.
    for r in &all {
        assert!(
            r.starts_with("arn:${AWS::Partition}:") || r.starts_with("${"),
            "{r}"
        );
    }
    assert!(p.document.actions().all(|a| !a.contains('*')));
}
