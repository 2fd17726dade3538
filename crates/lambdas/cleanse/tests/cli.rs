//! `cleanse-file`, the engine on local files (what `scripts/bench-data.sh` runs): its report,
//! its exit codes, and outputs that appear whole or not at all. Runs with the `cli` feature
//! (`make test` does: `cargo test -p cleanse --no-default-features --features cli --test cli`).
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cleanse-file"))
        .args(args)
        .output()
        .expect("cleanse-file runs")
}

/// The names in `dir`, sorted (temporary files included: none may be left behind).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

const CONFIG: &str = r#"{"input": {"format": "csv"},
  "rules": [{"rule": "null_markers"}, {"rule": "required", "columns": ["label"]},
            {"rule": "coerce", "columns": {"x": "float", "label": "int"}},
            {"rule": "impute", "columns": ["x"], "strategy": "mean"}, {"rule": "dedupe"}],
  "output": {"format": "csv", "header": false}}"#;

#[test]
fn cleanses_a_file_and_prints_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("cfg.json"), CONFIG).unwrap();
    std::fs::write(d.join("in.csv"), "x,label\n1,1\nNA,0\n3,\n1,1\n5,1,extra\n").unwrap();
    let out = run(&[
        &d.join("cfg.json"),
        &d.join("in.csv"),
        &d.join("out.csv"),
        &d.join("rej.jsonl"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // (the mean of 1 and 1 imputed; the duplicate of the first row and the row without a label
    // and the one with an extra field rejected)
    assert_eq!(
        std::fs::read_to_string(d.join("out.csv")).unwrap(),
        "1,1\n1.0,0\n"
    );
    let rejects = std::fs::read_to_string(d.join("rej.jsonl")).unwrap();
    assert_eq!(rejects.lines().count(), 3, "{rejects}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            &report["rows_in"],
            &report["rows_out"],
            &report["rows_rejected"]
        ),
        (&5.into(), &2.into(), &3.into()),
        "{report}"
    );
    assert_eq!(names(d), ["cfg.json", "in.csv", "out.csv", "rej.jsonl"]);
}

#[test]
fn a_failed_run_names_the_problem_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("in.csv"), "x,label\n1,1\n").unwrap();
    std::fs::write(d.join("good.json"), CONFIG).unwrap();
    std::fs::write(d.join("bad.json"), r#"{"rules": [{"rule": "frobnicate"}]}"#).unwrap();
    std::fs::write(d.join("empty.csv"), "").unwrap();
    // a previous output at the destination stays as it was
    std::fs::write(d.join("out.csv"), "old\n").unwrap();
    for (cfg, input, says) in [
        ("bad.json", "in.csv", "/rules/0"),
        ("good.json", "missing.csv", "No such file"),
        ("good.json", "empty.csv", "invalid input"),
        ("missing.json", "in.csv", "No such file"),
    ] {
        let out = run(&[
            &d.join(cfg),
            &d.join(input),
            &d.join("out.csv"),
            &d.join("rej.jsonl"),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cfg} {input}: {err}");
        assert!(
            err.starts_with("cleanse-file: ") && err.contains(says),
            "{cfg} {input}: {err}"
        );
        assert!(out.stdout.is_empty(), "{cfg} {input}");
        assert_eq!(std::fs::read_to_string(d.join("out.csv")).unwrap(), "old\n");
        assert_eq!(
            names(d),
            ["bad.json", "empty.csv", "good.json", "in.csv", "out.csv"],
            "{cfg} {input}: no rejects, no temporary file"
        );
    }
}

#[test]
fn wrong_arguments_print_the_usage() {
    let out = run(&[Path::new("only-one")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("usage: cleanse-file CONFIG.json INPUT OUTPUT REJECTS"));
}
