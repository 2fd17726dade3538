//! `stepwright validate`: output formats and the exit-code contract, running the real binary.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

const VALID: &str = r#"{
  "StartAt": "Hello",
  "States": { "Hello": { "Type": "Pass", "End": true } }
}"#;

const INVALID: &str = r#"{
  "StartAt": "Hello",
  "States": {
    "Hello": { "Type": "Pass", "Next": "Goodbye" }
  }
}"#;

const WARNING_ONLY: &str = r#"{
  "StartAt": "C",
  "States": {
    "C": { "Type": "Choice", "Choices": [ { "Variable": "$.x", "IsPresent": true, "Next": "D" } ] },
    "D": { "Type": "Succeed" }
  }
}"#;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn stepwright(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stepwright"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn valid_files_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(&dir, "a.asl.json", VALID);
    let w = write(&dir, "w.asl.json", WARNING_ONLY);
    let out = stepwright(&["validate", s(&a), s(&w)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("a.asl.json: valid (0 errors, 0 warnings)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning[CHOICE_WITHOUT_DEFAULT]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("w.asl.json: valid (0 errors, 1 warning)"),
        "{stdout}"
    );
}

#[test]
fn invalid_file_exits_one_with_place_snippet_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(&dir, "a.asl.json", VALID);
    let b = write(&dir, "b.asl.json", INVALID);
    let out = stepwright(&["validate", s(&a), s(&b)]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("error[MISSING_TRANSITION_TARGET]"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("--> {}:4:32 (at /States/Hello/Next)", s(&b))),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"4 |     "Hello": { "Type": "Pass", "Next": "Goodbye" }"#),
        "{stdout}"
    );
    assert!(stdout.contains("^^^^^^^^^^^^^^^^^"), "{stdout}");
    assert!(stdout.contains("= help:"), "{stdout}");
    // No state can end the machine either: MISSING_END_STATE comes first, in document order.
    let end = stdout.find("error[MISSING_END_STATE]").unwrap();
    let target = stdout.find("error[MISSING_TRANSITION_TARGET]").unwrap();
    assert!(end < target, "{stdout}");
    assert!(
        stdout.contains("b.asl.json: invalid (2 errors, 0 warnings)"),
        "{stdout}"
    );
}

#[test]
fn json_format_is_one_stable_document() {
    let dir = tempfile::tempdir().unwrap();
    let b = write(&dir, "b.asl.json", INVALID);
    let w = write(&dir, "w.asl.json", WARNING_ONLY);
    let out = stepwright(&["validate", "--format", "json", s(&b), s(&w)]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(doc["valid"], false);
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["file"], s(&b));
    assert_eq!(files[0]["valid"], false);
    assert_eq!(files[0]["errors"], 2);
    assert_eq!(files[0]["diagnostics"][0]["code"], "MISSING_END_STATE");
    let d = &files[0]["diagnostics"][1];
    assert_eq!(d["code"], "MISSING_TRANSITION_TARGET");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["pointer"], "/States/Hello/Next");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(4), Some(32))
    );
    assert!(d["help"].is_string());
    assert_eq!(files[1]["valid"], true);
    assert_eq!(files[1]["warnings"], 1);
    assert_eq!(files[1]["diagnostics"][0]["severity"], "warning");
}

#[test]
fn io_errors_exit_two_even_next_to_invalid_files() {
    let dir = tempfile::tempdir().unwrap();
    let b = write(&dir, "b.asl.json", INVALID);
    let missing = dir.path().join("missing.json");
    let out = stepwright(&["validate", s(&b), s(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    let out = stepwright(&["validate", "--format", "json", s(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["files"][0]["error"]
        .as_str()
        .unwrap()
        .contains("cannot read"));
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(stepwright(&["validate"]).status.code(), Some(2));
    assert_eq!(
        stepwright(&["validate", "--format", "xml", "x"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(stepwright(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn express_and_substitution_flags() {
    let dir = tempfile::tempdir().unwrap();
    let sub = write(
        &dir,
        "sub.asl.json",
        r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "${FunctionArn}", "End": true}}}"#,
    );
    assert_eq!(stepwright(&["validate", s(&sub)]).status.code(), Some(0));
    assert_eq!(
        stepwright(&["validate", "--express", s(&sub)])
            .status
            .code(),
        Some(0)
    );
    let out = stepwright(&["validate", "--no-substitutions", s(&sub)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("INVALID_DEFINITION_SUBSTITUTION"));
}

#[test]
fn syntax_errors_have_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        &dir,
        "bad.json",
        "{\n  \"StartAt\": \"A\",\n  \"States\": {,}\n}",
    );
    let out = stepwright(&["validate", s(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("error[INVALID_JSON_DESCRIPTION]"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("{}:3:14", s(&bad))), "{stdout}");
}

#[test]
fn single_states_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let st = write(
        &dir,
        "state.json",
        r#"{"Type": "Pass", "Next": "Elsewhere"}"#,
    );
    assert_eq!(
        stepwright(&["validate", "--state", s(&st)]).status.code(),
        Some(0)
    );
    assert_eq!(stepwright(&["validate", s(&st)]).status.code(), Some(1));
    let mut child = Command::new(env!("CARGO_BIN_EXE_stepwright"))
        .args(["validate", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(VALID.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("-: valid"));
}

#[test]
fn bad_input_is_diagnosed_not_crashed() {
    let dir = tempfile::tempdir().unwrap();
    // 50 MB: over AWS's 1 MiB limit, still fully checked.
    let big = format!(
        r#"{{"Comment": "{}", "StartAt": "A", "States": {{"A": {{"Type": "Succeed"}}}}}}"#,
        "x".repeat(50 * 1024 * 1024)
    );
    let f = write(&dir, "big.json", &big);
    let out = stepwright(&["validate", "--format", "json", s(&f)]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["files"][0]["diagnostics"][0]["code"],
        "SIZE_LIMIT_EXCEEDED"
    );
    // 10,000 levels of nesting.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let f = write(&dir, "deep.json", &deep);
    let out = stepwright(&["validate", s(&f)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("recursion limit"));
    // Not JSON, not even text.
    let f = dir.path().join("bin.json");
    std::fs::write(&f, [0xff, 0xfe, 0x00, 0x7b]).unwrap();
    let out = stepwright(&["validate", s(&f)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not UTF-8"));
    // Wrong types everywhere.
    let f = write(
        &dir,
        "types.json",
        r#"{"StartAt": 1, "States": {"A": {"Type": "Task", "Resource": [], "Retry": "x", "End": "yes"}}}"#,
    );
    let out = stepwright(&["validate", s(&f)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SCHEMA_VALIDATION_FAILED"));
}
