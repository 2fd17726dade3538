//! Step Functions Local mock configuration files, in the format of the AWS documentation
//! ("Using mocked service integrations for testing in Step Functions Local"), drive Task states:
//! Return/Throw responses, retries walking through attempt ranges ("1-2"), several test cases
//! per state machine, and Map iterations.

use serde_json::{json, Value};
use stepwright_local::mock::MockConfig;
use stepwright_local::{Runner, Status};

/// The mock configuration example of the AWS documentation, verbatim.
const AWS_MOCK_CONFIG: &str = r#"{
  "StateMachines":{
    "LambdaSQSIntegration":{
      "TestCases":{
        "HappyPath":{
          "LambdaState":"MockedLambdaSuccess",
          "SQSState":"MockedSQSSuccess"
        },
        "RetryPath":{
          "LambdaState":"MockedLambdaRetry",
          "SQSState":"MockedSQSSuccess"
        },
        "HybridPath":{
          "LambdaState":"MockedLambdaSuccess"
        }
      }
    }
  },
  "MockedResponses":{
    "MockedLambdaSuccess":{
      "0":{
        "Return":{
          "StatusCode":200,
          "Payload":{
            "StatusCode":200,
            "body":"Hello from Lambda!"
          }
        }
      }
    },
    "LambdaMockedResourceNotReady":{
      "0":{
        "Throw":{
          "Error":"Lambda.ResourceNotReadyException",
          "Cause":"Lambda resource is not ready."
        }
      }
    },
    "MockedSQSSuccess":{
      "0":{
        "Return":{
          "MD5OfMessageBody":"3bcb6e8e-7h85-4375-b0bc-1a59812c6e51",
          "MessageId":"3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"
        }
      }
    },
    "MockedLambdaRetry":{
      "0":{
        "Throw":{
          "Error":"Lambda.ResourceNotReadyException",
          "Cause":"Lambda resource is not ready."
        }
      },
      "1-2":{
        "Throw":{
          "Error":"Lambda.TimeoutException",
          "Cause":"Lambda timed out."
        }
      },
      "3":{
        "Return":{
          "StatusCode":200,
          "Payload":{
            "StatusCode":200,
            "body":"Hello from Lambda!"
          }
        }
      }
    }
  }
}"#;

/// The state machine the documentation's example mocks: a Lambda call, then an SQS message.
fn machine(retry_attempts: u64) -> Runner {
    Runner::from_json(
        &json!({
            "StartAt": "LambdaState",
            "States": {
                "LambdaState": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"Payload.$": "$", "FunctionName": "HelloWorldFunction"},
                    "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": retry_attempts, "BackoffRate": 2}],
                    "Next": "SQSState"
                },
                "SQSState": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage",
                    "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/myQueue", "MessageBody.$": "$.Payload.body"},
                    "End": true
                }
            }
        })
        .to_string(),
    )
    .unwrap()
}

fn case(name: &str) -> stepwright_local::mock::MockTestCase {
    MockConfig::from_json(AWS_MOCK_CONFIG)
        .unwrap()
        .test_case(Some("LambdaSQSIntegration"), name)
        .unwrap()
}

fn count(types: &[&str], t: &str) -> usize {
    types.iter().filter(|x| **x == t).count()
}

#[test]
fn happy_path() {
    let e = machine(3)
        .mock_test_case(case("HappyPath"))
        .run(json!({"id": 1}));
    assert_eq!(e.status, Status::Succeeded);
    assert_eq!(
        e.output,
        Some(
            json!({"MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51", "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"})
        )
    );
    let sent = e
        .history
        .events()
        .iter()
        .filter_map(|ev| match &ev.details {
            stepwright_local::EventDetails::TaskScheduled(t) => Some((*t.parameters).clone()),
            _ => None,
        })
        .nth(1)
        .unwrap();
    assert_eq!(sent["MessageBody"], json!("Hello from Lambda!"));
}

#[test]
fn retry_path_walks_the_attempt_ranges() {
    let e = machine(3).mock_test_case(case("RetryPath")).run(json!({}));
    assert_eq!(e.status, Status::Succeeded, "{:?}", e.cause);
    let types = e.history.event_types();
    assert_eq!(count(&types, "TaskFailed"), 3);
    let errors: Vec<String> = e
        .history
        .events()
        .iter()
        .filter_map(|ev| match &ev.details {
            stepwright_local::EventDetails::TaskFailed { error, .. } => error.error.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(
        errors,
        [
            "Lambda.ResourceNotReadyException",
            "Lambda.TimeoutException",
            "Lambda.TimeoutException"
        ]
    );
    // Retries waited 2 + 4 + 8 seconds of virtual time.
    assert_eq!(e.stop.nanos_since(e.start), 14_000_000_000);
}

#[test]
fn too_few_retries_fail_with_the_mocked_error() {
    let e = machine(2).mock_test_case(case("RetryPath")).run(json!({}));
    assert_eq!(e.status, Status::Failed);
    assert_eq!(e.error.as_deref(), Some("Lambda.TimeoutException"));
    assert_eq!(e.cause.as_deref(), Some("Lambda timed out."));
}

#[test]
fn hybrid_path_leaves_unmocked_states_to_handlers() {
    let e = machine(3).mock_test_case(case("HybridPath")).run(json!({}));
    assert_eq!(e.error.as_deref(), Some("States.Runtime"));
    assert!(e.cause.as_deref().unwrap().contains("SQSState"));

    let e = machine(3)
        .mock_test_case(case("HybridPath"))
        .resource_handler(
            "arn:aws:states:::sqs:sendMessage",
            |req: &stepwright_local::tasks::TaskRequest| {
                Ok(json!({"MessageId": "local", "Body": req.payload["MessageBody"].clone()}))
            },
        )
        .run(json!({}));
    assert_eq!(
        e.output,
        Some(json!({"MessageId": "local", "Body": "Hello from Lambda!"}))
    );
}

#[test]
fn attempts_beyond_the_mock_are_an_error_naming_the_state() {
    let cfg = MockConfig::from_json(
        r#"{"StateMachines": {"M": {"TestCases": {"T": {"LambdaState": "Once"}}}},
            "MockedResponses": {"Once": {"0": {"Throw": {"Error": "E", "Cause": "c"}}}}}"#,
    )
    .unwrap();
    let e = machine(3)
        .mock_test_case(cfg.test_case(None, "T").unwrap())
        .run(json!({}));
    assert_eq!(e.error.as_deref(), Some("States.Runtime"));
    let cause = e.cause.unwrap();
    assert!(
        cause.contains("attempt 1") && cause.contains("LambdaState"),
        "{cause}"
    );
}

#[test]
fn each_map_iteration_starts_at_attempt_zero() {
    let cfg = MockConfig::from_json(
        r#"{"StateMachines": {"M": {"TestCases": {"T": {"Work": "Ok"}}}},
            "MockedResponses": {"Ok": {"0": {"Return": {"done": true}}}}}"#,
    )
    .unwrap();
    let r = Runner::from_json(
        &json!({
            "StartAt": "Each",
            "States": {"Each": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "Work", "States": {
                "Work": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "End": true}}}}}
        })
        .to_string(),
    )
    .unwrap()
    .mock_test_case(cfg.test_case(Some("M"), "T").unwrap());
    let e = r.run(json!([1, 2, 3]));
    assert_eq!(e.output, Some(Value::Array(vec![json!({"done": true}); 3])));
}
