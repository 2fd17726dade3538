//! `stepwright run`: exit codes, the `--format json` last-line contract, mocks and history.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stepwright"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sw-run-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, file: &str, v: &Value) -> PathBuf {
    let p = dir.join(file);
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

fn last_json_line(stdout: &[u8]) -> Value {
    let text = String::from_utf8_lossy(stdout);
    serde_json::from_str(text.lines().last().expect("a last line")).expect("the last line is JSON")
}

#[test]
fn json_format_prints_one_summary_object_last() {
    let d = scratch("json");
    let def = write(
        &d,
        "m.asl.json",
        &json!({
            "StartAt": "W", "States": {
                "W": {"Type": "Wait", "Seconds": 3600, "Next": "P"},
                "P": {"Type": "Pass", "Result": 1, "ResultPath": "$.r", "End": true}}
        }),
    );
    let hist = d.join("h.json");
    let out = bin()
        .args([
            "run",
            def.to_str().unwrap(),
            "--input",
            "{\"a\":true}",
            "--format",
            "json",
            "--history",
        ])
        .arg(&hist)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        last_json_line(&out.stdout),
        json!({"status": "SUCCEEDED", "output": {"a": true, "r": 1}, "error": null, "cause": null})
    );
    let h: Value = serde_json::from_str(&std::fs::read_to_string(&hist).unwrap()).unwrap();
    assert_eq!(h["events"][0]["type"], json!("ExecutionStarted"));
    assert_eq!(h["events"].as_array().unwrap().len(), 6);
}

#[test]
fn failures_exit_1_and_text_shows_the_trace() {
    let d = scratch("fail");
    let def = write(
        &d,
        "m.json",
        &json!({
            "StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "because"}}
        }),
    );
    let input = write(&d, "in.json", &json!({"x": 1}));
    let out = bin()
        .args(["run", def.to_str().unwrap(), "--input"])
        .arg(format!("@{}", input.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("> F (Fail)"), "{text}");
    assert!(
        text.contains("error: Nope") && text.contains("cause: because"),
        "{text}"
    );
}

#[test]
fn mock_config_and_test_case_drive_tasks() {
    let d = scratch("mock");
    let def = write(
        &d,
        "Orders.asl.json",
        &json!({
            "StartAt": "Charge", "States": {"Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
                "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 2}],
                "OutputPath": "$.Payload", "End": true}}
        }),
    );
    let cfg = write(
        &d,
        "MockConfigFile.json",
        &json!({
            "StateMachines": {"Orders": {"TestCases": {"Throttled": {"Charge": "ThrottledThenOk"}}}},
            "MockedResponses": {"ThrottledThenOk": {
                "0-1": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "slow down"}},
                "2": {"Return": {"StatusCode": 200, "Payload": {"charged": true}}}}}
        }),
    );
    let out = bin()
        .args([
            "run",
            def.to_str().unwrap(),
            "--format",
            "json",
            "--test-case",
            "Throttled",
            "--mock-config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        last_json_line(&out.stdout)["output"],
        json!({"charged": true})
    );
}

#[test]
fn usage_io_and_invalid_definitions_exit_2() {
    let d = scratch("usage");
    let bad = write(
        &d,
        "bad.json",
        &json!({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}),
    );
    let out = bin().args(["run", bad.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid state machine definition"));
    let out = bin().args(["run", "/no/such/file.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let ok = write(
        &d,
        "ok.json",
        &json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}),
    );
    let out = bin()
        .args(["run", ok.to_str().unwrap(), "--input", "{nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
