//! The typed integrations' contract: literal/path/JSONata rendering, the choice between
//! Parameters and Arguments, refusals up front, and the pattern checks on hand-written JSON.

use serde_json::{json, Value};
use stepwright::integrations::patterns::{check_machine, parse_resource, CheckOptions};
use stepwright::integrations::registry::*;
use stepwright::integrations::sagemaker::*;
use stepwright::integrations::services::*;
use stepwright::integrations::{Input, IntegrationError, IntegrationPattern};
use stepwright::{Code, QueryLanguage, StateMachine, TaskState};

fn v(t: impl Into<TaskState>) -> Value {
    serde_json::to_value(t.into()).unwrap()
}

#[test]
fn literal_path_and_jsonata_fields() {
    let s = v(CreateEndpoint::new("a", Input::path("$.cfg")).tags(vec![
        stepwright::integrations::Tag::new("k", Input::path("$.v")),
    ]));
    assert_eq!(s["Parameters"]["EndpointName"], "a");
    assert_eq!(s["Parameters"]["EndpointConfigName.$"], "$.cfg");
    assert_eq!(s["Parameters"]["Tags"][0]["Value.$"], "$.v");
    assert!(s.get("Arguments").is_none());
    assert!(s.get("QueryLanguage").is_none());

    // One JSONata field moves the whole request to Arguments and marks the state JSONata.
    let s = v(CreateEndpoint::new(
        "a",
        Input::jsonata("$states.input.cfg"),
    ));
    assert_eq!(s["QueryLanguage"], "JSONata");
    assert_eq!(s["Arguments"]["EndpointName"], "a");
    assert_eq!(
        s["Arguments"]["EndpointConfigName"],
        "{% $states.input.cfg %}"
    );
    assert!(s.get("Parameters").is_none());

    // Asking for JSONata with literals only.
    let s = v(CreateEndpoint::new("a", "b").query_language(QueryLanguage::Jsonata));
    assert_eq!(s["QueryLanguage"], "JSONata");
    assert_eq!(
        s["Arguments"],
        json!({"EndpointName": "a", "EndpointConfigName": "b"})
    );

    // An expression already wrapped is kept as it is.
    assert_eq!(
        Input::<String>::jsonata("{% $x %}"),
        Input::Jsonata("{% $x %}".into())
    );
}

#[test]
fn mixing_query_languages_is_refused() {
    let t = CreateEndpoint::new(Input::path("$.name"), Input::jsonata("$states.input.c"));
    match t.try_into_task() {
        Err(IntegrationError::MixedQueryLanguages { integration }) => {
            assert_eq!(integration, "sagemaker:createEndpoint")
        }
        other => panic!("{other:?}"),
    }
    // A path with an explicit JSONata language too.
    let t = CreateEndpoint::new(Input::path("$.name"), "c").query_language(QueryLanguage::Jsonata);
    assert!(t.try_into_task().is_err());
    // A literal payload template with `.$` keys counts as JSONPath.
    let t = LambdaInvoke::new(Input::jsonata("$states.input.f")).payload(json!({"a.$": "$.a"}));
    assert!(matches!(
        t.try_into_task(),
        Err(IntegrationError::MixedQueryLanguages { .. })
    ));
}

#[test]
fn required_fields_are_checked() {
    // CreateTrainingJob requires ResourceConfig and StoppingCondition.
    let t = TrainingJob::new(
        "j",
        "r",
        AlgorithmSpecification::training_image("i"),
        OutputDataConfig::new("s3://b/"),
    );
    let e = t.try_into_task().unwrap_err();
    assert_eq!(
        e,
        IntegrationError::InvalidField {
            field: "ResourceConfig".into(),
            message: "sagemaker:createTrainingJob requires ResourceConfig".into()
        }
    );
    // A dynamic value satisfies the requirement.
    let t = t
        .resource_config(Input::path("$.rc"))
        .stopping_condition(StoppingCondition::max_runtime(60));
    assert!(t.try_into_task().is_ok());
}

#[test]
fn job_patterns_default_to_sync_with_opt_out() {
    let t = ProcessingJob::new("p", "r", AppSpecification::new("i"), Input::path("$.res"));
    assert_eq!(t.pattern(), IntegrationPattern::Sync);
    assert_eq!(
        v(t.clone()).get("Resource").unwrap(),
        "arn:aws:states:::sagemaker:createProcessingJob.sync"
    );
    let rr = t.request_response();
    assert_eq!(rr.pattern(), IntegrationPattern::RequestResponse);
    assert_eq!(
        v(rr.sync()).get("Resource").unwrap(),
        "arn:aws:states:::sagemaker:createProcessingJob.sync"
    );
    assert_eq!(
        TrainingJob::SUPPORTED_PATTERNS,
        &[
            IntegrationPattern::RequestResponse,
            IntegrationPattern::Sync
        ]
    );
    assert_eq!(
        CreateModel::SUPPORTED_PATTERNS,
        &[IntegrationPattern::RequestResponse]
    );
    // Every SageMaker task refuses callbacks, by name of the pattern in the error.
    let e = CreateModel::new("m", "r")
        .wait_for_task_token()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Supported Patterns: REQUEST_RESPONSE. Received: WAIT_FOR_TASK_TOKEN"),
        "{e}"
    );
    // Registry steps are request-response only.
    assert!(DescribeEndpoint::new("e")
        .integration_pattern(IntegrationPattern::Sync)
        .is_err());
}

#[test]
fn callbacks_need_the_task_token() {
    let ok = SnsPublish::topic(
        "arn:aws:sns:us-east-1:1:t",
        json!({"token.$": "$$.Task.Token"}),
    )
    .wait_for_task_token()
    .unwrap();
    assert!(v(ok)["Resource"]
        .as_str()
        .unwrap()
        .ends_with("publish.waitForTaskToken"));
    let e = SnsPublish::topic("arn:aws:sns:us-east-1:1:t", "no token")
        .wait_for_task_token()
        .unwrap_err();
    assert!(matches!(e, IntegrationError::MissingTaskToken { .. }));
    // JSONata form.
    let ok = LambdaInvoke::new("f")
        .payload(Input::jsonata("{'token': $states.context.Task.Token}"))
        .wait_for_task_token()
        .unwrap();
    let s = v(ok);
    assert_eq!(s["QueryLanguage"], "JSONata");
    assert_eq!(
        s["Arguments"]["Payload"],
        "{% {'token': $states.context.Task.Token} %}"
    );
    // Nested StartExecution: token in the child's input.
    assert!(
        StartExecution::new("arn:aws:states:us-east-1:1:stateMachine:c")
            .input(json!({"token.$": "$$.Task.Token"}))
            .wait_for_task_token()
            .is_ok()
    );
    // DynamoDB has no callback pattern at all.
    assert!(matches!(
        DynamoGetItem::new("t", json!({})).wait_for_task_token(),
        Err(IntegrationError::UnsupportedPattern { .. })
    ));
}

#[test]
fn lambda_default_retry_and_opt_out() {
    let s = v(LambdaInvoke::new("f"));
    assert_eq!(
        s["Retry"],
        json!([{
            "ErrorEquals": ["Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException",
                            "Lambda.AWSLambdaException", "Lambda.SdkClientException"],
            "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2
        }])
    );
    assert!(v(LambdaInvoke::new("f").without_default_retry())
        .get("Retry")
        .is_none());
}

#[test]
fn escape_hatch_overrides_typed_fields() {
    let s = v(CreateEndpoint::new("a", "b").with_field("EndpointName", Input::path("$.n")));
    assert_eq!(
        s["Parameters"],
        json!({"EndpointName.$": "$.n", "EndpointConfigName": "b"})
    );
}

#[test]
fn activities_and_sdk_calls() {
    let s = v(
        Activity::new("arn:aws:states:us-east-1:123456789012:activity:a")
            .input(json!({"x.$": "$.x"})),
    );
    assert_eq!(s["Parameters"]["x.$"], "$.x");
    assert!(AwsSdkCall::new("s3", "get Object").try_into_task().is_err());
    assert!(AwsSdkCall::new("s3", "getObject")
        .integration_pattern(IntegrationPattern::Sync)
        .is_err());
}

#[test]
fn resource_parsing() {
    let r =
        parse_resource("arn:aws-cn:states:::aws-sdk:sfn:startExecution.waitForTaskToken").unwrap();
    assert_eq!(r.partition, "aws-cn");
    assert_eq!(r.integration().unwrap(), "aws-sdk:sfn:startExecution");
    assert_eq!(r.pattern, IntegrationPattern::WaitForTaskToken);
    assert!(parse_resource("${LambdaArn}").is_none());
    assert!(parse_resource("arn:aws:lambda:us-east-1:1:layer:x").is_none());
    assert!(parse_resource("arn:aws:states:us-east-1:1:activity:").is_none());
    assert_eq!(
        parse_resource("arn:aws:states:::lambda:invoke.sync:3")
            .unwrap()
            .unknown_suffix
            .as_deref(),
        Some(".sync:3")
    );
}

fn machine(task: Value) -> StateMachine {
    StateMachine::from_value(&json!({"StartAt": "T", "States": {"T": task}})).unwrap()
}

fn codes(m: &StateMachine, express: bool) -> Vec<(Code, String)> {
    check_machine(m, &CheckOptions { express })
        .into_iter()
        .map(|d| (d.code, d.pointer))
        .collect()
}

#[test]
fn pattern_checks_on_hand_written_json() {
    let at = |f: &str| format!("/States/T/{f}");
    // Unsupported patterns.
    for r in [
        "arn:aws:states:::sagemaker:createTrainingJob.waitForTaskToken",
        "arn:aws:states:::sagemaker:createEndpoint.sync",
        "arn:aws:states:::lambda:invoke.sync",
        "arn:aws:states:::dynamodb:getItem.waitForTaskToken",
        "arn:aws:states:::aws-sdk:s3:getObject.sync",
        "arn:aws:states:::sns:publish.sync:2",
        "arn:aws:states:::lambda:invoke.sync:3",
    ] {
        let m = machine(json!({"Type": "Task", "Resource": r, "End": true}));
        assert_eq!(
            codes(&m, false),
            [(Code::UnsupportedIntegrationPattern, at("Resource"))],
            "{r}"
        );
    }
    // Supported ones pass, in STANDARD.
    for r in [
        "arn:aws:states:::sagemaker:createTrainingJob.sync",
        "arn:aws:states:::states:startExecution.sync:2",
        "arn:aws:states:::ecs:runTask.sync",
        "arn:aws:states:::glue:startJobRun",
        "arn:aws:states:::unknownservice:anything.sync",
    ] {
        let m = machine(json!({"Type": "Task", "Resource": r, "End": true}));
        assert!(codes(&m, false).is_empty(), "{r}");
    }
    // EXPRESS: no .sync, no callbacks, no activities.
    for r in [
        "arn:aws:states:::sagemaker:createTrainingJob.sync",
        "arn:aws:states:::states:startExecution.sync:2",
        "arn:aws:states:us-east-1:123456789012:activity:review",
    ] {
        let m = machine(json!({"Type": "Task", "Resource": r, "End": true}));
        assert_eq!(
            codes(&m, true),
            [(Code::UnsupportedIntegrationPattern, at("Resource"))],
            "{r}"
        );
    }
    let cb = machine(
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "f", "Payload": {"t.$": "$$.Task.Token"}}, "End": true}),
    );
    assert!(codes(&cb, false).is_empty());
    assert_eq!(
        codes(&cb, true),
        [(Code::UnsupportedIntegrationPattern, at("Resource"))]
    );
    assert!(codes(
        &machine(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f"}, "End": true})
        ),
        true
    )
    .is_empty());
}

#[test]
fn callbacks_without_token_are_reported() {
    let m = machine(
        json!({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"t": "$$.Task.Token"}}, "End": true}),
    );
    let d = check_machine(&m, &CheckOptions::default());
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, Code::MissingTaskToken);
    assert_eq!(d[0].pointer, "/States/T/Parameters");
    assert!(d[0].help.as_deref().unwrap().contains("$$.Task.Token"));

    // JSONata state: Arguments, $states.context.Task.Token.
    let m = StateMachine::from_value(
        &json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Arguments": {"FunctionName": "f", "Payload": {"x": 1}}, "End": true}}}),
    )
    .unwrap();
    let d = check_machine(&m, &CheckOptions::default());
    assert_eq!(
        (d[0].code, d[0].pointer.as_str()),
        (Code::MissingTaskToken, "/States/T/Arguments")
    );
    assert!(d[0]
        .help
        .as_deref()
        .unwrap()
        .contains("$states.context.Task.Token"));

    // Nested states are checked too.
    let m = StateMachine::from_value(&json!({"StartAt": "P", "States": {"P": {"Type": "Parallel",
        "Branches": [{"StartAt": "T", "States": {"T": {"Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createModel.sync", "End": true}}}], "End": true}}}))
    .unwrap();
    let d = check_machine(&m, &CheckOptions::default());
    assert_eq!(d[0].pointer, "/States/P/Branches/0/States/T/Resource");
}

#[test]
fn the_validator_runs_the_pattern_checks() {
    use stepwright::validate::Options;
    let def = |r: &str| {
        format!(
            r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{r}","End":true}}}}}}"#
        )
    };
    let found = |text: &str, opts: &Options, code: Code| {
        stepwright::validate_str(text, opts)
            .diagnostics()
            .iter()
            .filter(|d| d.code == code && d.pointer == "/States/T/Resource")
            .count()
    };
    let wftt = def("arn:aws:states:::sagemaker:createModel.waitForTaskToken");
    assert_eq!(
        found(
            &wftt,
            &Options::default(),
            Code::UnsupportedIntegrationPattern
        ),
        1
    );
    let sync = def("arn:aws:states:::sagemaker:createTrainingJob.sync");
    assert_eq!(
        found(
            &sync,
            &Options::default(),
            Code::UnsupportedIntegrationPattern
        ),
        0
    );
    assert_eq!(
        found(
            &sync,
            &Options::express(),
            Code::UnsupportedIntegrationPattern
        ),
        1
    );
    // A malformed suffix is reported once, by the resource rules, not again here.
    let bad = def("arn:aws:states:::lambda:invoke.sync:3");
    assert_eq!(
        found(
            &bad,
            &Options::default(),
            Code::UnsupportedIntegrationPattern
        ),
        0
    );
    assert!(!stepwright::validate_str(&bad, &Options::default()).is_valid());
    // A callback without the token.
    let cb = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters":{"FunctionName":"f"},"End":true}}}"#;
    let r = stepwright::validate_str(cb, &Options::default());
    assert!(r
        .diagnostics()
        .iter()
        .any(|d| d.code == Code::MissingTaskToken && d.pointer == "/States/T/Parameters"));
}
