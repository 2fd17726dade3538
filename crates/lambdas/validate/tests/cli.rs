//! `validate-file`, the engine on local files (what `scripts/bench-data.sh` runs): the outcome on
//! stdout or in a file, and its exit codes. Runs with the `cli` feature (`make test` does:
//! `cargo test -p validate --no-default-features --features cli --test cli`).
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_validate-file"))
        .args(args)
        .output()
        .expect("validate-file runs")
}

const SUITE: &str = r#"{"expectations": [{"expect": "row_count", "min": 3}]}"#;

#[test]
fn validates_a_file_to_stdout_or_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("suite.json"), SUITE).unwrap();
    std::fs::write(d.join("in.csv"), "x,label\n1,a\n2,b\n").unwrap();
    let out = run(&[&d.join("suite.json"), &d.join("in.csv")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // two rows against a minimum of three: the outcome says so, the run itself succeeds
    assert_eq!(printed["passed"], false, "{printed}");
    assert_eq!(printed["rows"], 2, "{printed}");
    let out = run(&[&d.join("suite.json"), &d.join("in.csv"), &d.join("o.json")]);
    assert!(out.status.success() && out.stdout.is_empty());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("o.json")).unwrap()).unwrap();
    assert_eq!(written, printed);
}

#[test]
fn a_failed_run_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("suite.json"), SUITE).unwrap();
    std::fs::write(
        d.join("bad.json"),
        r#"{"expectations": [{"expect": "frobnicate"}]}"#,
    )
    .unwrap();
    std::fs::write(d.join("in.csv"), "x\n1\n").unwrap();
    for (suite, input) in [("bad.json", "in.csv"), ("suite.json", "missing.csv")] {
        let out = run(&[&d.join(suite), &d.join(input), &d.join("o.json")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{suite} {input}: {err}");
        assert!(err.starts_with("validate-file: "), "{err}");
        assert!(!d.join("o.json").exists(), "{suite} {input}");
    }
    let out = run(&[Path::new("only-one")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: validate-file"));
}
