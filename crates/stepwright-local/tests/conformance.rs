//! Runs every execution recorded against AWS in ../shared/conformance/localstack and compares
//! status, output, error and cause (clean cases) or status and error name (cases whose recorded
//! values were masked or are nondeterministic), printing pass counts per folder and per tag.
//! A second table compares the history's event-type sequence with the recorded one.
//!
//! `STEPWRIGHT_SHOW_FAILURES=1` prints every failing case with the difference.

use serde_json::Value;
use stepwright_local::{Options, Runner, Status};
use testkit::{conformance_dir, json_eq, read_json, Tally};

struct Case {
    file: String,
    folder: String,
    tags: Vec<String>,
    doc: Value,
}

fn cases() -> Vec<Case> {
    let dir = conformance_dir().join("localstack");
    let index = read_json(&dir.join("index.json"));
    index
        .as_array()
        .expect("index.json is an array")
        .iter()
        .map(|e| {
            let file = e["file"].as_str().expect("file").to_string();
            Case {
                folder: file.split('/').next().unwrap_or("").to_string(),
                tags: e["tags"]
                    .as_array()
                    .map(|t| {
                        t.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
                doc: read_json(&dir.join(&file)),
                file,
            }
        })
        .collect()
}

fn clean(tags: &[String]) -> bool {
    !tags
        .iter()
        .any(|t| t == "snapshot_placeholders" || t == "nondeterministic")
}

fn status_name(s: Status) -> &'static str {
    s.as_str()
}

/// Compares one execution case; `Err` says what differs.
fn check_execution(c: &Case) -> Result<Option<Vec<&'static str>>, String> {
    let def = serde_json::to_string(&c.doc["definition"]).unwrap();
    let runner = Runner::from_json(&def).map_err(|e| format!("setup: {e}"))?;
    let runner = runner.options(Options {
        state_machine_name: "test_sm".into(),
        ..Options::default()
    });
    let exec = runner.run(c.doc["input"].clone());
    let exp = &c.doc["expected"];
    let exp_status = exp["status"].as_str().unwrap_or("");
    let types = Some(exec.history.event_types());
    if status_name(exec.status) != exp_status {
        return Err(format!(
            "status {} (error {:?} cause {:?} output {:?}), expected {exp_status} {}",
            exec.status, exec.error, exec.cause, exec.output, exp
        ));
    }
    if clean(&c.tags) {
        if exp_status == "SUCCEEDED" {
            let out = exec.output.clone().unwrap_or(Value::Null);
            if !json_eq(&out, &exp["output"]) {
                return Err(format!("output {out}, expected {}", exp["output"]));
            }
        } else {
            let e = exp["error"].as_str().map(String::from);
            if exec.error != e {
                return Err(format!("error {:?}, expected {:?}", exec.error, e));
            }
            let want = exp["cause"].as_str().map(String::from);
            let same = if exp["cause_is_json"].as_bool() == Some(true) {
                match (&exec.cause, &want) {
                    (Some(a), Some(b)) => {
                        match (
                            serde_json::from_str::<Value>(a),
                            serde_json::from_str::<Value>(b),
                        ) {
                            (Ok(x), Ok(y)) => json_eq(&x, &y),
                            _ => a == b,
                        }
                    }
                    (a, b) => a == b,
                }
            } else {
                exec.cause == want
            };
            if !same {
                return Err(format!("cause {:?}, expected {:?}", exec.cause, want));
            }
        }
    } else if exp_status != "SUCCEEDED" {
        let e = exp["error"].as_str().map(String::from);
        if exec.error != e {
            return Err(format!("error {:?}, expected {:?}", exec.error, e));
        }
    }
    Ok(types)
}

/// The recorded event types. Where the recording masked event ids (the branch events of
/// Parallel states), it also dropped some events and ordered branches arbitrarily: those
/// histories are compared as multisets of the event types both sides keep.
fn recorded_types(history: &[Value]) -> (Vec<String>, bool) {
    let masked = history.iter().any(|e| !e["id"].is_u64());
    let types = history
        .iter()
        .filter_map(|e| e["type"].as_str().map(String::from))
        .collect();
    (types, masked)
}

fn comparable(mut types: Vec<String>, masked: bool) -> Vec<String> {
    if masked {
        types.retain(|t| t != "ParallelStateSucceeded" && t != "ParallelStateExited");
        types.sort();
    }
    types
}

#[test]
fn localstack_executions() {
    let show = std::env::var("STEPWRIGHT_SHOW_FAILURES").is_ok();
    let mut by_folder = Tally::new();
    let mut by_tag = Tally::new();
    let mut clean_tally = Tally::new();
    let mut hist = Tally::new();
    let mut failures = Vec::new();
    for c in cases() {
        if c.doc.get("definition").is_none() {
            continue;
        }
        let res = check_execution(&c);
        let ok = res.is_ok();
        by_folder.record(&c.folder, ok);
        for t in &c.tags {
            by_tag.record(t, ok);
        }
        clean_tally.record(
            if clean(&c.tags) {
                "clean"
            } else {
                "masked/nondeterministic"
            },
            ok,
        );
        match &res {
            Err(e) => failures.push(format!("{}: {e}", c.file)),
            Ok(Some(types)) => {
                if let Some(h) = c.doc["history"].as_array().filter(|h| !h.is_empty()) {
                    let (want, masked) = recorded_types(h);
                    let want = comparable(want, masked);
                    let got = comparable(types.iter().map(|s| s.to_string()).collect(), masked);
                    let same = want == got;
                    hist.record(&c.folder, same);
                    if !same && show {
                        println!("HISTORY {}\n   got  {:?}\n   want {:?}", c.file, got, want);
                    }
                }
            }
            Ok(None) => {}
        }
    }
    by_folder.report("localstack executions by folder");
    by_tag.report("localstack executions by tag");
    clean_tally.report("localstack executions: clean vs masked");
    hist.report("history event-type sequences matching AWS");
    if show {
        for f in &failures {
            println!("FAIL {f}");
        }
    }
    let (p, t) = by_folder.totals();
    println!("{p}/{t} executions pass");
    let floor = 729;
    assert!(p >= floor, "pass count {p} fell below the floor {floor}");
}

/// The TestState API cases (one state, data after each stage at DEBUG/TRACE level).
#[test]
fn localstack_test_state() {
    use stepwright_local::test_state::{test_state, InspectionLevel, TestStateRequest};
    let mut tally = Tally::new();
    let mut failures = Vec::new();
    for c in cases() {
        let Some(def) = c.doc.get("state_definition") else {
            continue;
        };
        let level = match c.doc["source"]["inspectionLevel"].as_str() {
            Some("DEBUG") => InspectionLevel::Debug,
            Some("TRACE") => InspectionLevel::Trace,
            _ => InspectionLevel::Info,
        };
        let r = test_state(&TestStateRequest {
            definition: def.clone(),
            input: c.doc["input"].clone(),
            inspection_level: level,
            ..Default::default()
        });
        let exp = &c.doc["expected"];
        let ok = match r {
            Err(e) => {
                failures.push(format!("{}: setup {e}", c.file));
                false
            }
            Ok(r) => {
                let got = r.to_json();
                if json_eq(&got, exp) {
                    true
                } else {
                    failures.push(format!("{}: got {got}\n   want {exp}", c.file));
                    false
                }
            }
        };
        tally.record(&format!("inspectionLevel {:?}", level), ok);
    }
    tally.report("TestState cases");
    for f in &failures {
        println!("FAIL {f}");
    }
    let (p, t) = tally.totals();
    assert_eq!(t, 19, "the corpus has 19 TestState cases");
    assert!(p >= 19, "TestState pass count {p} fell below the floor");
}
