//! `stepwright render`: output, files, and the exit codes scripts depend on.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const MACHINE: &str = r#"{"StartAt": "Ok?", "States": {
  "Ok?": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": true, "Next": "Yes"}], "Default": "No"},
  "Yes": {"Type": "Succeed"},
  "No": {"Type": "Fail", "Error": "Nope"}}}"#;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stepwright"))
}

/// A path in this test process's own directory: two test runs sharing a target directory (two
/// CI runs, or `cargo test` in two terminals) must not read each other's half-written files.
fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("render-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = bin()
        .arg("render")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn renders_mermaid_by_default_and_dot_on_request() {
    let f = tmp("ok.asl.json");
    std::fs::write(&f, MACHINE).unwrap();
    let out = run(&[f.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("flowchart TD\n"));
    assert!(stdout.contains("s0 -->|\"$.ok == true\"| s1"), "{stdout}");

    let out = run(&[f.to_str().unwrap(), "--format", "dot"], None);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("digraph StateMachine {\n"));
    assert!(
        stdout.contains("s0 -> s2 [label=\"Default\", style=bold];"),
        "{stdout}"
    );
}

#[test]
fn reads_stdin_and_writes_a_file() {
    let o = tmp("out.dot");
    let _ = std::fs::remove_file(&o);
    let out = run(
        &["-", "-f", "dot", "-o", o.to_str().unwrap()],
        Some(MACHINE),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(std::fs::read_to_string(&o).unwrap().starts_with("digraph"));
}

#[test]
fn invalid_definition_exits_1_with_diagnostics() {
    let out = run(
        &["-"],
        Some(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Nxt": "B"}}}"#),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("is not a valid state machine definition"),
        "{err}"
    );
    assert!(err.contains("/States/A/Nxt"), "{err}");
    assert!(out.stdout.is_empty());

    let out = run(&["-"], Some("not json"));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn usage_and_io_errors_exit_2() {
    // missing file
    let out = run(&[tmp("does-not-exist.json").to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read"));
    // unknown format
    let f = tmp("ok2.asl.json");
    std::fs::write(&f, MACHINE).unwrap();
    let out = run(&[f.to_str().unwrap(), "--format", "png"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("png"));
    // no file argument
    let out = run(&[], None);
    assert_eq!(out.status.code(), Some(2));
    // unwritable output
    let out = run(
        &[
            f.to_str().unwrap(),
            "-o",
            tmp("no-such-dir/x.mmd").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot write"));
}
