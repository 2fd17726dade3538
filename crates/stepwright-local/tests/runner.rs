//! Behaviour of the runner: retries, catches, timeouts, limits, Parallel, Map, Distributed Map,
//! task dispatch, virtual time and determinism.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use stepwright_local::items::{LocalDirStore, ObjectStore};
use stepwright_local::tasks::{with_context, TaskError, TaskRequest};
use stepwright_local::time::parse_timestamp;
use stepwright_local::{Options, Runner, Status};

fn runner(def: Value) -> Runner {
    Runner::from_json(&def.to_string()).expect("definition compiles")
}

fn task(resource: &str, extra: Value) -> Value {
    let mut t = json!({"Type": "Task", "Resource": resource});
    for (k, v) in extra.as_object().unwrap() {
        t[k] = v.clone();
    }
    t
}

#[test]
fn retry_backoff_uses_virtual_time_and_max_delay() {
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let r = runner(json!({
        "StartAt": "T",
        "States": {"T": task("arn:aws:states:::lambda:invoke", json!({
            "Parameters": {"FunctionName": "flaky", "Payload": {}},
            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 3, "BackoffRate": 2.0, "MaxAttempts": 4, "MaxDelaySeconds": 10}],
            "ResultSelector": {"v.$": "$.Payload"},
            "End": true
        }))}
    }))
    .handler("flaky", move |_: &TaskRequest| {
        if c.fetch_add(1, Ordering::SeqCst) < 4 {
            Err(TaskError::new("Flaky", "try again"))
        } else {
            Ok(json!("done"))
        }
    });
    let e = r.run(json!({}));
    assert_eq!(e.status, Status::Succeeded, "{:?}", e.cause);
    assert_eq!(e.output, Some(json!({"v": "done"})));
    assert_eq!(calls.load(Ordering::SeqCst), 5);
    // 3 + 6 + 10 (capped from 12) + 10 (capped from 24) seconds of virtual time.
    assert_eq!(e.stop.nanos_since(e.start), 29 * 1_000_000_000);
    let types = e.history.event_types();
    assert_eq!(types.iter().filter(|t| **t == "TaskFailed").count(), 4);
    assert_eq!(types.iter().filter(|t| **t == "TaskScheduled").count(), 5);
}

#[test]
fn retries_exhausted_then_caught_with_result_path() {
    let r = runner(json!({
        "StartAt": "T",
        "States": {
            "T": task("arn:aws:states:::sqs:sendMessage", json!({
                "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2, "IntervalSeconds": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handled"}],
                "End": true
            })),
            "Handled": {"Type": "Pass", "End": true}
        }
    }))
    .resource_handler("arn:aws:states:::sqs:sendMessage", |_: &TaskRequest| {
        Err(TaskError::new("SQS.QueueDoesNotExist", "no queue"))
    });
    let e = r.run(json!({"msg": 1}));
    assert_eq!(e.status, Status::Succeeded);
    assert_eq!(
        e.output,
        Some(json!({"msg": 1, "error": {"Error": "SQS.QueueDoesNotExist", "Cause": "no queue"}}))
    );
    assert_eq!(
        e.history
            .event_types()
            .iter()
            .filter(|t| **t == "TaskFailed")
            .count(),
        3
    );
}

#[test]
fn runtime_errors_are_never_caught() {
    let r = runner(json!({
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "InputPath": "$.missing", "Next": "End"},
            "End": {"Type": "Succeed"}
        }
    }));
    let e = r.run(json!({}));
    assert_eq!(e.status, Status::Failed);
    assert_eq!(e.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        e.cause.as_deref(),
        Some("An error occurred while executing the state 'P' (entered at the event id #2). Invalid path '$.missing' : No results for path: $['missing']")
    );
}

#[test]
fn task_timeout_and_heartbeat_in_virtual_time() {
    let def = |extra: Value| {
        runner(json!({
            "StartAt": "T",
            "States": {"T": task("arn:aws:states:::glue:startJobRun.sync", extra)}
        }))
        .resource_handler(
            "arn:aws:states:::glue:startJobRun",
            with_context(|_req, ctx| {
                ctx.sleep(Duration::from_secs(100));
                ctx.heartbeat();
                ctx.sleep(Duration::from_secs(100));
                Ok(json!({"JobRunState": "SUCCEEDED"}))
            }),
        )
    };
    let slow = def(json!({"TimeoutSeconds": 150, "End": true})).run(json!({}));
    assert_eq!(slow.status, Status::Failed);
    assert_eq!(slow.error.as_deref(), Some("States.Timeout"));
    assert!(slow.history.event_types().contains(&"TaskTimedOut"));
    assert_eq!(slow.stop.nanos_since(slow.start), 150 * 1_000_000_000);

    let hb =
        def(json!({"TimeoutSeconds": 1000, "HeartbeatSeconds": 60, "End": true})).run(json!({}));
    assert_eq!(hb.error.as_deref(), Some("States.HeartbeatTimeout"));
    assert_eq!(hb.stop.nanos_since(hb.start), 60 * 1_000_000_000);

    let ok =
        def(json!({"TimeoutSeconds": 1000, "HeartbeatSeconds": 120, "End": true})).run(json!({}));
    assert_eq!(ok.status, Status::Succeeded);
    assert_eq!(ok.output, Some(json!({"JobRunState": "SUCCEEDED"})));
}

#[test]
fn wait_takes_no_real_time_and_timestamps_come_from_the_virtual_clock() {
    let r = runner(json!({
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 86400, "Next": "Until"},
            "Until": {"Type": "Wait", "Timestamp": "2030-01-01T00:00:00Z", "Next": "Ctx"},
            "Ctx": {"Type": "Pass", "Parameters": {"entered.$": "$$.State.EnteredTime", "start.$": "$$.Execution.StartTime"}, "End": true}
        }
    }));
    let t0 = std::time::Instant::now();
    let e = r.run(json!({}));
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(e.status, Status::Succeeded);
    assert_eq!(
        e.output,
        Some(json!({"entered": "2030-01-01T00:00:00.000Z", "start": "2024-01-01T00:00:00.000Z"}))
    );
    assert_eq!(e.stop, parse_timestamp("2030-01-01T00:00:00Z").unwrap());
}

#[test]
fn execution_timeout_ends_as_timed_out() {
    let r = runner(json!({
        "StartAt": "W",
        "TimeoutSeconds": 60,
        "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}
    }));
    let e = r.run(json!({}));
    assert_eq!(e.status, Status::TimedOut);
    assert_eq!(e.error.as_deref(), Some("States.Timeout"));
    assert_eq!(e.history.event_types().last(), Some(&"ExecutionTimedOut"));
    assert_eq!(e.stop.nanos_since(e.start), 60 * 1_000_000_000);
}

#[test]
fn a_runaway_loop_ends_at_the_history_limit() {
    let r = runner(json!({
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "Next": "A"}
        }
    }));
    let e = r.run(json!({}));
    assert_eq!(e.status, Status::Failed);
    assert_eq!(e.error.as_deref(), Some("States.Runtime"));
    assert!(e.cause.as_deref().unwrap().contains("25000"));
    assert!(e.history.len() <= 25_000);

    let unlimited = runner(json!({
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Next": "A"}}
    }))
    .options(Options {
        max_history_events: None,
        max_state_transitions: Some(1000),
        record_history: false,
        ..Options::default()
    })
    .run(json!({}));
    assert_eq!(unlimited.status, Status::Failed);
    assert!(unlimited
        .cause
        .as_deref()
        .unwrap()
        .contains("1000 state transitions"));
}

#[test]
fn payloads_over_256_kib_fail_with_data_limit_exceeded() {
    let big = "x".repeat(200 * 1024);
    let r = runner(json!({
        "StartAt": "Double",
        "States": {"Double": {"Type": "Pass", "Parameters": {"a.$": "$.s", "b.$": "$.s"}, "End": true}}
    }));
    let e = r.run(json!({"s": big}));
    assert_eq!(e.status, Status::Failed);
    assert_eq!(e.error.as_deref(), Some("States.DataLimitExceeded"));
}

#[test]
fn parallel_runs_branches_in_order_and_fails_on_a_branch_error() {
    let def = |second: Value| {
        runner(json!({
            "StartAt": "Par",
            "States": {"Par": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": true}}},
                {"StartAt": "B", "States": {"B": second}}
            ],
            "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.caught", "Next": "Done"}]},
            "Done": {"Type": "Pass", "End": true}}
        }))
    };
    let ok = def(json!({"Type": "Pass", "Result": 2, "End": true})).run(json!({}));
    assert_eq!(ok.output, Some(json!([1, 2])));
    let types = ok.history.event_types();
    assert_eq!(
        types,
        vec![
            "ExecutionStarted",
            "ParallelStateEntered",
            "ParallelStateStarted",
            "PassStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ParallelStateSucceeded",
            "ParallelStateExited",
            "ExecutionSucceeded"
        ]
    );
    let failed = def(json!({"Type": "Fail", "Error": "Boom", "Cause": "b"})).run(json!({"in": 1}));
    assert_eq!(failed.status, Status::Succeeded);
    assert_eq!(
        failed.output,
        Some(json!({"in": 1, "caught": {"Error": "Boom", "Cause": "b"}}))
    );
    assert!(failed
        .history
        .event_types()
        .contains(&"ParallelStateFailed"));
}

#[test]
fn inline_map_with_item_selector_and_context() {
    let r = runner(json!({
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemsPath": "$.xs", "End": true,
            "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"},
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}
    }));
    let e = r.run(json!({"xs": ["a", "b"], "k": 7}));
    assert_eq!(
        e.output,
        Some(json!([{"i": 0, "v": "a", "k": 7}, {"i": 1, "v": "b", "k": 7}]))
    );
    assert_eq!(
        e.history
            .event_types()
            .iter()
            .filter(|t| **t == "MapIterationSucceeded")
            .count(),
        2
    );
}

#[test]
fn distributed_map_reads_batches_tolerates_and_writes_results() {
    let dir = std::env::temp_dir().join(format!("sw-dmap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = LocalDirStore::new(&dir);
    store
        .put_object("data", "in/rows.csv", b"id,ok\n1,yes\n2,no\n3,yes\n4,yes\n")
        .unwrap();
    let def = json!({
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "End": true,
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                "Parameters": {"Bucket": "data", "Key": "in/rows.csv"}},
            "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"run": "r1"}},
            "ToleratedFailureCount": 1,
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "data", "Prefix": "out"}},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Check",
                "States": {
                    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.Items[1].ok", "StringEquals": "no", "Next": "Bad"}], "Default": "Good"},
                    "Bad": {"Type": "Fail", "Error": "Row.Bad", "Cause": "a row said no"},
                    "Good": {"Type": "Pass", "End": true}
                }}}}
    });
    let e = runner(def.clone())
        .object_store(LocalDirStore::new(&dir))
        .run(json!({}));
    assert_eq!(e.status, Status::Succeeded, "{:?} {:?}", e.error, e.cause);
    let out = e.output.unwrap();
    let key = out["ResultWriterDetails"]["Key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(key.starts_with("out/") && key.ends_with("/manifest.json"));
    let manifest: Value = serde_json::from_slice(&store.get_object("data", &key).unwrap()).unwrap();
    let ok_key = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]
        .as_str()
        .unwrap();
    let ok: Value = serde_json::from_slice(&store.get_object("data", ok_key).unwrap()).unwrap();
    assert_eq!(ok.as_array().unwrap().len(), 1);
    let output: Value = serde_json::from_str(ok[0]["Output"].as_str().unwrap()).unwrap();
    assert_eq!(
        output,
        json!({"BatchInput": {"run": "r1"}, "Items": [{"id": "3", "ok": "yes"}, {"id": "4", "ok": "yes"}]})
    );
    let failed_key = manifest["ResultFiles"]["FAILED"][0]["Key"]
        .as_str()
        .unwrap();
    let failed: Value =
        serde_json::from_slice(&store.get_object("data", failed_key).unwrap()).unwrap();
    assert_eq!(failed[0]["Error"], json!("Row.Bad"));
    let types = e.history.event_types();
    assert!(types.contains(&"MapRunStarted") && types.contains(&"MapRunSucceeded"));
    assert!(!types.contains(&"MapIterationStarted"));

    // With no failure tolerated, the run fails with the threshold error.
    let mut strict = def;
    strict["States"]["M"]["ToleratedFailureCount"] = json!(0);
    let e = runner(strict)
        .object_store(LocalDirStore::new(&dir))
        .run(json!({}));
    assert_eq!(
        e.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    assert!(e.history.event_types().contains(&"MapRunFailed"));

    // Without a store, the reader fails clearly.
    let e = runner(json!({
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "End": true,
            "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "data", "Prefix": "in/"}},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}
    }))
    .run(json!({}));
    assert_eq!(e.error.as_deref(), Some("States.ItemReaderFailed"));
    assert!(e.cause.unwrap().contains("no object store"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unmocked_tasks_name_the_state_and_resource() {
    let e = runner(json!({
        "StartAt": "Train",
        "States": {"Train": task("arn:aws:states:::sagemaker:createTrainingJob.sync", json!({"End": true, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "X"}]})),
                   "X": {"Type": "Pass", "End": true}}
    }))
    .run(json!({}));
    assert_eq!(e.status, Status::Failed);
    assert_eq!(e.error.as_deref(), Some("States.Runtime"));
    let cause = e.cause.unwrap();
    assert!(
        cause.contains("'Train'")
            && cause.contains("arn:aws:states:::sagemaker:createTrainingJob.sync"),
        "{cause}"
    );
}

#[test]
fn handlers_resolve_by_state_then_function_then_resource() {
    let def = json!({
        "StartAt": "A",
        "States": {
            "A": task("arn:aws:states:::lambda:invoke", json!({"Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f:live", "Payload.$": "$"}, "OutputPath": "$.Payload", "Next": "B"})),
            "B": task("arn:aws:lambda:us-east-1:123456789012:function:f", json!({"Next": "C"})),
            "C": task("arn:aws:states:::lambda:invoke", json!({"Parameters": {"FunctionName": "f", "Payload.$": "$"}, "End": true}))
        }
    });
    let r = runner(def)
        .handler("f", |req: &TaskRequest| {
            let n = req.lambda_payload()["n"].as_i64().unwrap_or(0);
            Ok(json!({"n": n + 1}))
        })
        .state_handler("C", |req: &TaskRequest| {
            Ok(json!({"from": "C", "got": req.payload["Payload"].clone()}))
        });
    let e = r.run(json!({"n": 0}));
    assert_eq!(e.output, Some(json!({"from": "C", "got": {"n": 2}})));
    let types = e.history.event_types();
    assert!(
        types.contains(&"LambdaFunctionScheduled") && types.contains(&"LambdaFunctionSucceeded")
    );
}

#[test]
fn function_errors_surface_as_lambda_errors() {
    let e = runner(json!({
        "StartAt": "A",
        "States": {"A": task("arn:aws:states:::lambda:invoke", json!({"Parameters": {"FunctionName": "cleanse", "Payload": {}}, "End": true}))}
    }))
    .handler("cleanse", |_: &TaskRequest| Err(TaskError::new("Cleanse.InvalidInput", "bad header")))
    .run(json!({}));
    assert_eq!(e.error.as_deref(), Some("Cleanse.InvalidInput"));
    let cause: Value = serde_json::from_str(e.cause.as_deref().unwrap()).unwrap();
    assert_eq!(
        cause,
        json!({"errorMessage": "bad header", "errorType": "Cleanse.InvalidInput"})
    );
}

#[test]
fn same_seed_same_run() {
    let def = json!({
        "StartAt": "T",
        "States": {"T": task("arn:aws:states:::lambda:invoke.waitForTaskToken", json!({
            "Parameters": {"FunctionName": "approve", "Payload": {"token.$": "$$.Task.Token"}},
            "Retry": [{"ErrorEquals": ["States.ALL"], "JitterStrategy": "FULL", "MaxAttempts": 2}],
            "End": true}))}
    });
    let mk = |seed| {
        let calls = Arc::new(AtomicU32::new(0));
        runner(def.clone())
            .handler("approve", move |req: &TaskRequest| {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Err(TaskError::new("Retry.Me", "once"));
                }
                Ok(json!({"token": req.task_token}))
            })
            .seed(seed)
            .run(json!({}))
    };
    let (a, b, c) = (mk(1), mk(1), mk(2));
    assert_eq!(a, b);
    assert_ne!(a.output, c.output);
    assert_ne!(a.stop, c.stop, "jitter differs with the seed");
}

#[test]
fn definition_errors_are_setup_errors_with_a_pointer() {
    let e =
        Runner::from_json(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}}"#)
            .unwrap_err();
    assert_eq!(e.pointer.as_deref(), Some("/States/A/Next"));
    let e = Runner::from_json(
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Bogus": 1}}}"#,
    )
    .unwrap_err();
    assert!(e.message.contains("Bogus"), "{e}");
}

#[test]
fn lambda_tasks_go_to_the_invoke_api_endpoint() {
    use std::io::{BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let (first, body) = testkit::read_http_request(&mut reader);
        let req: Value = serde_json::from_slice(&body).unwrap();
        let resp = json!({"path": first.split_whitespace().nth(1).unwrap(), "doubled": req["x"].as_i64().unwrap() * 2}).to_string();
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{resp}",
            resp.len()
        )
        .unwrap();
    });
    let e = runner(json!({
        "StartAt": "Call",
        "States": {"Call": task("arn:aws:states:::lambda:invoke", json!({
            "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:doubler", "Payload.$": "$"},
            "ResultSelector": {"out.$": "$.Payload", "status.$": "$.StatusCode"},
            "End": true}))}
    }))
    .lambda_endpoint(&format!("http://127.0.0.1:{port}"))
    .unwrap()
    .run(json!({"x": 21}));
    server.join().unwrap();
    assert_eq!(e.status, Status::Succeeded, "{:?}", e.cause);
    assert_eq!(
        e.output,
        Some(
            json!({"out": {"path": "/2015-03-31/functions/doubler/invocations", "doubled": 42}, "status": 200})
        )
    );
}
