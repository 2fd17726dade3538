//! The trigger against Step Functions on a moto server.

use lambda_kit::testing::MotoServer;
use serde_json::{json, Value};
use trigger::{handle, Outcome, TriggerConfig};

const DEFINITION: &str = r#"{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}"#;

async fn setup() -> (MotoServer, aws_sdk_sfn::Client, TriggerConfig) {
    let moto = MotoServer::start().expect("moto server");
    let sfn = aws_sdk_sfn::Client::new(&moto.sdk_config().await);
    let out = sfn
        .create_state_machine()
        .name("train")
        .definition(DEFINITION)
        .role_arn("arn:aws:iam::123456789012:role/sfn")
        .send()
        .await
        .unwrap();
    let config = TriggerConfig {
        state_machine_arn: out.state_machine_arn().to_owned(),
        prefixes: vec!["incoming/".into()],
        suffixes: vec![".csv".into()],
    };
    (moto, sfn, config)
}

fn s3_event(key: &str, sequencer: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2024-06-01T12:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "EXAMPLE"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {},
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "raw", "arn": "arn:aws:s3:::raw"},
               "object": {"key": key, "size": 42, "eTag": "abc", "sequencer": sequencer}}
    }]})
}

async fn executions(sfn: &aws_sdk_sfn::Client, arn: &str) -> Vec<(String, Value)> {
    let list = sfn
        .list_executions()
        .state_machine_arn(arn)
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    for e in list.executions() {
        let d = sfn
            .describe_execution()
            .execution_arn(e.execution_arn())
            .send()
            .await
            .unwrap();
        let input = serde_json::from_str(d.input().unwrap_or("null")).unwrap();
        out.push((e.name().to_owned(), input));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_twice_starts_exactly_one_execution() {
    let (_moto, sfn, config) = setup().await;
    let event = s3_event("incoming/day+1.csv", "0055AED6DCD90281E5");

    let first = handle(&sfn, &config, event.clone()).await.unwrap();
    assert_eq!(first.results[0].outcome, Outcome::Started);
    // while the first execution runs, Step Functions answers an identical StartExecution with
    // that same execution (idempotent start)
    let again = handle(&sfn, &config, event.clone()).await.unwrap();
    assert_eq!(
        again.results[0].execution_arn, first.results[0].execution_arn,
        "{again:?}"
    );

    // once it has finished, the name is refused with ExecutionAlreadyExists: still success
    let arn = first.results[0].execution_arn.clone().unwrap();
    sfn.stop_execution()
        .execution_arn(&arn)
        .send()
        .await
        .unwrap();
    let after = handle(&sfn, &config, event.clone()).await.unwrap();
    assert_eq!(
        after.results[0].outcome,
        Outcome::AlreadyStarted,
        "{after:?}"
    );
    assert_eq!(
        after.results[0].execution_arn.as_deref(),
        Some(arn.as_str())
    );

    // the same write seen through EventBridge is the same execution
    let bridge = json!({"detail-type": "Object Created", "source": "aws.s3",
        "detail": {"bucket": {"name": "raw"},
                   "object": {"key": "incoming/day 1.csv", "size": 42, "etag": "abc", "sequencer": "0055AED6DCD90281E5"}}});
    let third = handle(&sfn, &config, bridge).await.unwrap();
    assert_eq!(third.results[0].outcome, Outcome::AlreadyStarted);

    let runs = executions(&sfn, &config.state_machine_arn).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].0, first.results[0].execution_name.clone().unwrap());
    assert_eq!(
        runs[0].1,
        json!({"bucket": "raw", "key": "incoming/day 1.csv", "version": null, "size": 42, "etag": "abc"})
    );

    // a new write of the same key (new sequencer) is a new execution
    let next = handle(
        &sfn,
        &config,
        s3_event("incoming/day+1.csv", "0055AED6DCD90281F0"),
    )
    .await
    .unwrap();
    assert_eq!(next.results[0].outcome, Outcome::Started);
    assert_eq!(executions(&sfn, &config.state_machine_arn).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtered_keys_start_nothing_and_failures_are_named() {
    let (_moto, sfn, config) = setup().await;
    let out = handle(&sfn, &config, s3_event("incoming/notes.txt", "01"))
        .await
        .unwrap();
    assert_eq!(out.results[0].outcome, Outcome::Filtered);
    let out = handle(&sfn, &config, s3_event("elsewhere/a.csv", "01"))
        .await
        .unwrap();
    assert_eq!(out.results[0].outcome, Outcome::Filtered);
    assert!(executions(&sfn, &config.state_machine_arn).await.is_empty());

    let err = handle(&sfn, &config, json!({"not": "an event"}))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "Trigger.InvalidEvent");

    let missing = TriggerConfig {
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:nope".into(),
        ..config
    };
    let err = handle(&sfn, &missing, s3_event("incoming/a.csv", "01"))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "Trigger.StartFailed");
    assert!(err.message().contains("s3://raw/incoming/a.csv"), "{err}");
}
