//! The pipelines run on the local runner with stub Lambdas and SageMaker: every path (deploy by
//! creating or updating the endpoint, human approval, rejections, invalid data, a failing step)
//! ends where it should, with the error and cause the brief asks for.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use stepwright_local::tasks::{TaskError, TaskRequest};
use stepwright_local::{Execution, Runner, Status};

/// Every token replaced by a value: function tokens by short names the stubs register.
fn substituted(machine: &stepwright::StateMachine) -> String {
    let mut text = machine.to_json_pretty();
    for t in pipelines::tokens::TOKENS {
        let value = match t.name {
            "CleanseFunctionArn" => "cleanse",
            "ValidateFunctionArn" => "validate",
            "ApprovalGateFunctionArn" => "gate",
            "ApprovalNotifyFunctionArn" => "notify",
            "DataBucket" => "data",
            "MinValidationAuc" => "0.8",
            "RequireManualApproval" => "false",
            "ApprovalTimeoutSeconds" => "3600",
            "ShardBatchSize" => "2",
            "ShardMaxConcurrency" => "4",
            "ToleratedFailurePercentage" => "0",
            "MaxInvalidObjectPercentage" => "0",
            _ => t.example,
        };
        text = text.replace(&format!("${{{}}}", t.name), value);
    }
    assert!(pipelines::tokens::find(&text).is_empty(), "a token is left");
    text
}

fn input() -> Value {
    json!({"bucket": "raw", "key": "in/churn.csv", "version": null, "size": 1234, "etag": "abc"})
}

/// What the stubs do, so each test can change one step.
#[derive(Clone)]
struct World {
    valid: bool,
    auc: f64,
    decision: &'static str,
    endpoint_exists: bool,
    training_fails: bool,
    human: Result<(), (&'static str, &'static str)>,
    sns: Arc<Mutex<Vec<Value>>>,
}

impl Default for World {
    fn default() -> Self {
        World {
            valid: true,
            auc: 0.91,
            decision: "Approved",
            endpoint_exists: false,
            training_fails: false,
            human: Ok(()),
            sns: Arc::default(),
        }
    }
}

fn training_runner(w: &World) -> Runner {
    let m = pipelines::training().unwrap();
    let w1 = w.clone();
    let w2 = w.clone();
    let w3 = w.clone();
    let w4 = w.clone();
    let w5 = w.clone();
    let sns = w.sns.clone();
    Runner::from_json(&substituted(&m))
        .unwrap()
        .handler("cleanse", |r: &TaskRequest| {
            let p = r.lambda_payload();
            assert_eq!(p["input"], "s3://raw/in/churn.csv");
            assert_eq!(p["config_url"], "s3://stepwright-data-123456789012/config/cleanse.json");
            Ok(json!({"input": p["input"], "output": p["output"], "rejects": p["rejects"],
                      "rows_in": 100, "rows_out": 97, "rows_rejected": 3}))
        })
        .handler("validate", move |r: &TaskRequest| {
            let p = r.lambda_payload();
            assert!(p["input"].as_str().unwrap().starts_with("s3://data/clean/"));
            let failed = if w1.valid { json!([]) } else { json!([{"expect": "not_null", "column": "tenure"}]) };
            Ok(json!({"input": p["input"], "passed": w1.valid, "rows": 97, "failed": failed,
                      "checks": [], "profile": {}, "profile_output": p["profile_output"]}))
        })
        .handler("gate", move |r: &TaskRequest| {
            let p = r.lambda_payload();
            assert_eq!(p["thresholds"]["validation:auc"]["min"], 0.8);
            assert_eq!(p["manual_approval"], false);
            assert_eq!(p["metrics"]["final_metric_data_list"][0]["Value"], w2.auc);
            Ok(json!({"decision": w2.decision,
                      "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/1",
                      "reasons": [{"check": "threshold", "metric": "validation:auc", "outcome": "pass", "message": "ok"}],
                      "metrics": {"validation:auc": w2.auc}, "baseline": null}))
        })
        .state_handler("Human approval", move |r: &TaskRequest| {
            assert!(r.task_token.is_some());
            assert_eq!(r.lambda_payload()["task_token"], r.task_token.unwrap());
            match w3.human {
                Ok(()) => Ok(json!({"decision": "Approved", "approver": "ana"})),
                Err((e, c)) => Err(TaskError::new(e, c)),
            }
        })
        .resource_handler("arn:aws:states:::sagemaker:createTrainingJob", move |r: &TaskRequest| {
            if w4.training_fails {
                return Err(TaskError::new("States.TaskFailed", "AlgorithmError: out of memory"));
            }
            let name = r.payload["TrainingJobName"].as_str().unwrap();
            assert!(name.starts_with("churn-") && name.len() == 46, "{name}");
            assert_eq!(r.payload["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3Uri"],
                       "s3://stepwright-data-123456789012/holdout/");
            Ok(json!({"TrainingJobName": name, "TrainingJobStatus": "Completed",
                      "ModelArtifacts": {"S3ModelArtifacts": format!("s3://data/models/{name}/output/model.tar.gz")},
                      "FinalMetricDataList": [{"MetricName": "validation:auc", "Value": w4.auc, "Timestamp": 1.7e9}]}))
        })
        .resource_handler("arn:aws:states:::sagemaker:createModel", |r: &TaskRequest| {
            Ok(json!({"ModelArn": format!("arn:aws:sagemaker:us-east-1:123456789012:model/{}", r.payload["ModelName"].as_str().unwrap())}))
        })
        .resource_handler("arn:aws:states:::sagemaker:createEndpointConfig", |_r: &TaskRequest| {
            Ok(json!({"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/c"}))
        })
        .resource_handler("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", move |_r: &TaskRequest| {
            if w5.endpoint_exists {
                Ok(json!({"EndpointName": "churn", "EndpointStatus": "InService", "EndpointConfigName": "old"}))
            } else {
                Err(TaskError::new("SageMaker.ValidationException", "Could not find endpoint \"churn\"."))
            }
        })
        .resource_handler("arn:aws:states:::sagemaker:createEndpoint", |_r: &TaskRequest| {
            Ok(json!({"EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn"}))
        })
        .resource_handler("arn:aws:states:::sagemaker:updateEndpoint", |_r: &TaskRequest| {
            Ok(json!({"EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn"}))
        })
        .resource_handler("arn:aws:states:::sns:publish", move |r: &TaskRequest| {
            sns.lock().unwrap().push(r.payload.clone());
            Ok(json!({"MessageId": "m-1"}))
        })
}

fn entered(exec: &Execution) -> Vec<String> {
    exec.history.to_json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            e["stateEnteredEventDetails"]["name"]
                .as_str()
                .map(String::from)
        })
        .collect()
}

#[test]
fn training_deploys_a_new_endpoint() {
    let w = World::default();
    let exec = training_runner(&w).run(input());
    assert_eq!(
        exec.status,
        Status::Succeeded,
        "{:?} {:?}",
        exec.error,
        exec.cause
    );
    assert_eq!(
        entered(&exec),
        [
            "Configure",
            "Plan run",
            "Cleanse",
            "Validate",
            "Data valid?",
            "Train model",
            "Evaluate model",
            "Gate decision",
            "Create model",
            "Create endpoint config",
            "Find endpoint",
            "Create endpoint",
            "Summarize",
            "Deployed"
        ]
    );
    let out = exec.output.unwrap();
    assert_eq!(out["endpoint"]["action"], "created");
    assert_eq!(out["decision"], "Approved");
    assert_eq!(out["data"]["rows_out"], 97);
    assert!(w.sns.lock().unwrap().is_empty());
}

#[test]
fn training_updates_an_existing_endpoint() {
    let w = World {
        endpoint_exists: true,
        ..World::default()
    };
    let exec = training_runner(&w).run(input());
    assert_eq!(exec.status, Status::Succeeded, "{:?}", exec.cause);
    assert!(entered(&exec).contains(&"Update endpoint".to_string()));
    assert_eq!(exec.output.unwrap()["endpoint"]["action"], "updated");
}

#[test]
fn training_asks_a_person_when_the_gate_cannot_decide() {
    let w = World {
        decision: "PendingManualApproval",
        ..World::default()
    };
    let exec = training_runner(&w).run(input());
    assert_eq!(exec.status, Status::Succeeded, "{:?}", exec.cause);
    let states = entered(&exec);
    let i = states.iter().position(|s| s == "Human approval").unwrap();
    assert_eq!(states[i + 1], "Create model");
}

#[test]
fn a_person_rejecting_the_model_fails_the_pipeline_with_their_reason() {
    let w = World {
        decision: "PendingManualApproval",
        human: Err((
            "Approval.Rejected",
            "rejected by ana: AUC dropped on the holdout",
        )),
        ..World::default()
    };
    let exec = training_runner(&w).run(input());
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.error.as_deref(), Some("Approval.Rejected"));
    let cause = exec.cause.clone().unwrap();
    assert!(cause.starts_with("Human approval failed: "), "{cause}");
    assert!(cause.contains("AUC dropped"), "{cause}");
    let sns = w.sns.lock().unwrap();
    assert_eq!(sns.len(), 1);
    assert_eq!(
        sns[0]["TopicArn"],
        "arn:aws:sns:us-east-1:123456789012:stepwright-alerts"
    );
    let msg = sns[0]["Message"].as_str().unwrap();
    assert!(
        msg.contains("failed at step \"Human approval\" with Approval.Rejected"),
        "{msg}"
    );
}

#[test]
fn invalid_data_stops_before_training() {
    let w = World {
        valid: false,
        ..World::default()
    };
    let exec = training_runner(&w).run(input());
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.error.as_deref(), Some("Pipeline.DataInvalid"));
    let cause = exec.cause.clone().unwrap();
    assert!(
        cause.starts_with("Validate failed: 1 of the data checks failed on 97 rows"),
        "{cause}"
    );
    assert!(cause.contains("tenure"), "{cause}");
    assert!(!entered(&exec).contains(&"Train model".to_string()));
    assert_eq!(w.sns.lock().unwrap().len(), 1);
}

#[test]
fn a_rejected_model_is_not_deployed() {
    let w = World {
        decision: "Rejected",
        auc: 0.6,
        ..World::default()
    };
    let exec = training_runner(&w).run(input());
    assert_eq!(exec.error.as_deref(), Some("Pipeline.ModelRejected"));
    assert!(exec
        .cause
        .clone()
        .unwrap()
        .starts_with("Evaluate model failed: the approval gate rejected"));
    assert!(!entered(&exec).contains(&"Create model".to_string()));
}

#[test]
fn a_failing_training_job_names_the_step_and_keeps_its_error() {
    let w = World {
        training_fails: true,
        ..World::default()
    };
    let exec = training_runner(&w).run(input());
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.error.as_deref(), Some("States.TaskFailed"));
    assert_eq!(
        exec.cause.as_deref(),
        Some("Train model failed: AlgorithmError: out of memory")
    );
}

// ---- scale-out -------------------------------------------------------------------------------

fn scale_out_runner(dir: &std::path::Path, invalid_objects: u64) -> Runner {
    let m = pipelines::scale_out().unwrap();
    let d = dir.to_path_buf();
    let batches = Arc::new(Mutex::new(0u64));
    let counted = batches.clone();
    Runner::from_json(&substituted(&m))
        .unwrap()
        .object_store(stepwright_local::items::LocalDirStore::new(dir))
        .handler("validate", move |r: &TaskRequest| {
            let p = r.lambda_payload();
            if let Some(b) = p.get("batch") {
                assert_eq!(b["source"], "s3://data");
                assert_eq!(b["cleanse_config_url"], "s3://stepwright-data-123456789012/config/cleanse.json");
                let items = b["items"].as_array().unwrap();
                assert!(!items.is_empty() && items.len() <= 2, "ShardBatchSize is 2");
                *counted.lock().unwrap() += 1;
                let objects: Vec<Value> = items
                    .iter()
                    .map(|i| json!({"key": i["key"], "passed": true, "rows": 10}))
                    .collect();
                return Ok(json!({"objects": objects, "profile": {"rows": 10 * items.len()}}));
            }
            let m = &p["merge"];
            let manifest = m["manifest"].as_str().unwrap();
            let rel = manifest.strip_prefix("s3://").unwrap();
            let text = std::fs::read_to_string(d.join(rel)).unwrap();
            let manifest: Value = serde_json::from_str(&text).unwrap();
            let files = manifest["ResultFiles"]["SUCCEEDED"].as_array().unwrap();
            assert_eq!(files.len(), 1);
            // one entry per child execution, each the batch's output
            let key = files[0]["Key"].as_str().unwrap();
            let results: Value = serde_json::from_str(&std::fs::read_to_string(d.join("data").join(key)).unwrap()).unwrap();
            assert_eq!(results.as_array().unwrap().len() as u64, *batches.lock().unwrap());
            let objects: usize = results.as_array().unwrap().iter()
                .map(|e| serde_json::from_str::<Value>(e["Output"].as_str().unwrap()).unwrap()["objects"].as_array().unwrap().len())
                .sum();
            Ok(json!({"passed": invalid_objects == 0, "objects": objects, "objects_invalid": invalid_objects,
                      "objects_failed": 0, "rows": 50, "invalid": [], "profile_output": m["profile_output"]}))
        })
        .resource_handler("arn:aws:states:::sns:publish", |_r: &TaskRequest| Ok(json!({"MessageId": "m"})))
}

fn objects_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pipelines-scale-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    for i in 0..5 {
        let p = d.join(format!("data/raw/2024-06-01/part-{i}.csv"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "id,x\n1,2\n").unwrap();
    }
    std::fs::write(d.join("data/raw/other.csv"), "not under the prefix").unwrap();
    d
}

#[test]
fn scale_out_batches_the_prefix_and_merges_the_verdict() {
    let dir = objects_dir("ok");
    // started by the trigger for a marker object: the prefix is its "directory"
    let exec =
        scale_out_runner(&dir, 0).run(json!({"bucket": "data", "key": "raw/2024-06-01/_SUCCESS"}));
    assert_eq!(
        exec.status,
        Status::Succeeded,
        "{:?} {:?}",
        exec.error,
        exec.cause
    );
    let out = exec.output.unwrap();
    assert_eq!(out["prefix"], "raw/2024-06-01/");
    assert_eq!(out["objects"], 5);
    assert_eq!(out["cleaned"], "s3://data/clean/local");
    // 5 objects in batches of 2: 3 child executions, results written beside a manifest
    let shards = dir.join("data/shards");
    assert!(shards.is_dir());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn scale_out_fails_with_the_invalid_objects() {
    let dir = objects_dir("bad");
    let exec =
        scale_out_runner(&dir, 2).run(json!({"bucket": "data", "prefix": "raw/2024-06-01/"}));
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.error.as_deref(), Some("Pipeline.DataInvalid"));
    let cause = exec.cause.unwrap();
    assert!(
        cause.starts_with(
            "Merge profiles failed: 2 of 5 objects failed their checks (at most 0 % may)"
        ),
        "{cause}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
