//! The project's pipelines through `stepwright run` with the Lambdas in process (`--lambda
//! NAME=builtin:...`), substitution tokens (`--substitutions`, `--sub`), the demo's mock
//! configuration and data; and `stepwright render --format svg`.
#![cfg(feature = "lambdas")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stepwright"));
    c.current_dir(root());
    c
}

/// A fresh out/s3 stand-in with the demo's raw data and configuration.
fn objects(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sw-pipelines-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let raw = d.join("demo-data/raw");
    let cfg = d.join("demo-data/config");
    std::fs::create_dir_all(&raw).unwrap();
    std::fs::create_dir_all(&cfg).unwrap();
    for f in ["churn.csv", "churn-broken-export.csv"] {
        std::fs::copy(root().join("demo/data").join(f), raw.join(f)).unwrap();
    }
    for e in std::fs::read_dir(root().join("demo/config")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, cfg.join(p.file_name().unwrap())).unwrap();
    }
    d
}

const FN: &str = "arn:aws:lambda:us-east-1:123456789012:function:stepwright";

fn run_training(objs: &Path, input: &str, case: &str, extra: &[&str]) -> (Output, Value) {
    let history = objs.join("history.json");
    let out = bin()
        .args(["run", "statemachines/training.asl.json", "--format", "json"])
        .args([
            "--substitutions",
            "demo/substitutions.json",
            "--mock-config",
            "demo/mock-config.json",
        ])
        .args(["--test-case", case, "--input", input])
        .arg("--objects")
        .arg(objs)
        .arg("--history")
        .arg(&history)
        .args(["--lambda", &format!("{FN}-cleanse=builtin:cleanse")])
        .args(["--lambda", &format!("{FN}-validate=builtin:validate")])
        .args([
            "--lambda",
            &format!("{FN}-approval-gate=builtin:approval-gate"),
        ])
        .args([
            "--lambda",
            &format!("{FN}-approval-notify=builtin:approval-notify"),
        ])
        .args(extra)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let summary =
        serde_json::from_str(text.lines().last().unwrap_or("null")).unwrap_or(Value::Null);
    (out, summary)
}

fn entered(history: &Path) -> Vec<String> {
    let h: Value = serde_json::from_str(&std::fs::read_to_string(history).unwrap()).unwrap();
    h["events"]
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
fn training_runs_end_to_end_with_the_lambdas_in_process() {
    let objs = objects("train");
    let (out, s) = run_training(&objs, "@demo/inputs/training.json", "Deploy", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{s}\n{stderr}");
    assert_eq!(s["status"], "SUCCEEDED");
    let o = &s["output"];
    // the real cleanse engine ran on the dirty data set
    assert_eq!(o["data"]["rows_in"], 2043);
    assert_eq!(o["data"]["rows_out"], 1906);
    assert_eq!(o["data"]["rows_rejected"], 137);
    assert_eq!(o["data"]["cleaned"], "s3://demo-data/clean/local/train.csv");
    assert!(objs.join("demo-data/clean/local/train.csv").is_file());
    assert!(objs.join("demo-data/clean/local/rejects.jsonl").is_file());
    assert!(objs.join("demo-data/profiles/local/train.json").is_file());
    // the gate decided on the mocked training job's metrics; a person approved
    assert_eq!(o["decision"], "PendingManualApproval");
    assert_eq!(o["metrics"]["validation:auc"], 0.8437);
    assert_eq!(
        o["model_package_arn"],
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/1"
    );
    assert_eq!(o["endpoint"]["action"], "created");
    assert!(
        stderr.contains("Model approval needed: churn/1"),
        "{stderr}"
    );
    let states = entered(&objs.join("history.json"));
    assert!(states.contains(&"Human approval".to_string()));
    assert_eq!(states.last().map(String::as_str), Some("Deployed"));
    std::fs::remove_dir_all(&objs).ok();
}

#[test]
fn training_updates_an_existing_endpoint_and_a_person_can_reject() {
    let objs = objects("update");
    let (out, s) = run_training(&objs, "@demo/inputs/training.json", "Redeploy", &[]);
    assert_eq!(out.status.code(), Some(0), "{s}");
    assert_eq!(s["output"]["endpoint"]["action"], "updated");
    let (out, s) = run_training(
        &objs,
        "@demo/inputs/training.json",
        "Deploy",
        &["--human", "reject"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(s["error"], "Approval.Rejected");
    assert!(
        s["cause"]
            .as_str()
            .unwrap()
            .starts_with("Human approval failed: "),
        "{s}"
    );
    std::fs::remove_dir_all(&objs).ok();
}

#[test]
fn a_broken_export_fails_validation_and_is_not_trained_on() {
    let objs = objects("broken");
    let (out, s) = run_training(&objs, "@demo/inputs/training-broken.json", "Deploy", &[]);
    assert_eq!(out.status.code(), Some(1), "{s}");
    assert_eq!(s["error"], "Pipeline.DataInvalid");
    let cause = s["cause"].as_str().unwrap();
    assert!(
        cause.starts_with("Validate failed: 2 of the data checks failed on 380 rows"),
        "{cause}"
    );
    let states = entered(&objs.join("history.json"));
    assert!(!states.contains(&"Train model".to_string()));
    assert!(states.contains(&"Notify failure".to_string()));
    std::fs::remove_dir_all(&objs).ok();
}

#[test]
fn a_failing_training_job_names_the_step() {
    let objs = objects("trainfail");
    let (out, s) = run_training(&objs, "@demo/inputs/training.json", "TrainingFails", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(s["error"], "States.TaskFailed");
    assert!(
        s["cause"]
            .as_str()
            .unwrap()
            .starts_with("Train model failed: "),
        "{s}"
    );
    assert!(
        s["cause"].as_str().unwrap().contains("AlgorithmError"),
        "{s}"
    );
    std::fs::remove_dir_all(&objs).ok();
}

#[test]
fn scale_out_cleanses_and_validates_a_prefix_as_a_distributed_map() {
    let objs = objects("scale");
    // the data set as a prefix of shards
    let text = std::fs::read_to_string(root().join("demo/data/churn.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let shards = objs.join("demo-data/raw/2024-06-01");
    std::fs::create_dir_all(&shards).unwrap();
    for (i, chunk) in rows.chunks(450).enumerate() {
        std::fs::write(
            shards.join(format!("part-{i}.csv")),
            format!("{header}\n{}\n", chunk.join("\n")),
        )
        .unwrap();
    }
    let out = bin()
        .args([
            "run",
            "statemachines/scale-out.asl.json",
            "--format",
            "json",
        ])
        .args([
            "--substitutions",
            "demo/substitutions.json",
            "--mock-config",
            "demo/mock-config.json",
        ])
        .args(["--test-case", "Shards", "--sub", "ShardBatchSize=2"])
        .args(["--sub", "MaxInvalidObjectPercentage=100"])
        .args([
            "--input",
            r#"{"bucket": "demo-data", "key": "raw/2024-06-01/_SUCCESS"}"#,
        ])
        .arg("--objects")
        .arg(&objs)
        .args(["--lambda", &format!("{FN}-validate=builtin:validate")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let s: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{s}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let o = &s["output"];
    assert_eq!(o["objects"], 5);
    // each shard alone has fewer than the suite's 1,000 rows: every object is invalid, which
    // MaxInvalidObjectPercentage=100 tolerates here
    assert_eq!(o["objects_invalid"], 5);
    assert!(o["rows"].as_u64().unwrap() > 1800);
    assert!(objs
        .join("demo-data/clean/local/raw/2024-06-01/part-0.csv")
        .is_file());
    let merged: Value = serde_json::from_str(
        &std::fs::read_to_string(objs.join("demo-data/profiles/local/merged.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(merged["parts"], 3, "one merged profile per batch of 2");
    assert_eq!(merged["rows"], o["rows"]);
    std::fs::remove_dir_all(&objs).ok();
}

#[test]
fn tokens_without_values_and_bad_lambda_specs_are_usage_errors() {
    let out = bin()
        .args([
            "run",
            "statemachines/training.asl.json",
            "--sub",
            "DataBucket=b",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("substitution tokens without a value: ") && e.contains("${CleanseFunctionArn}"),
        "{e}"
    );
    assert!(!e.contains("${DataBucket}"), "{e}");
    let out = bin()
        .args([
            "run",
            "statemachines/training.asl.json",
            "--substitutions",
            "demo/substitutions.json",
        ])
        .args(["--lambda", "x=builtin:nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown handler `nope`"));
}

#[test]
fn svg_drawings_parse_as_xml_with_one_node_per_state() {
    for name in ["training", "batch-inference", "scale-out"] {
        let out = bin()
            .args([
                "render",
                &format!("statemachines/{name}.asl.json"),
                "--format",
                "svg",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let svg = doc.root_element();
        assert_eq!(svg.tag_name().name(), "svg");
        let machine = stepwright::StateMachine::from_json(
            &std::fs::read_to_string(root().join(format!("statemachines/{name}.asl.json")))
                .unwrap(),
        )
        .unwrap();
        let mut states = Vec::new();
        machine.walk(|p| states.push(p.name.to_string()));
        let drawn: Vec<String> = doc
            .descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|c| c.starts_with("node state"))
            })
            .map(|n| n.attribute("data-name").unwrap().to_string())
            .collect();
        let mut a = states.clone();
        let mut b = drawn.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{name}: one node per state");
        // every edge ends at drawn nodes, and the Catch edges are there
        let edges = doc
            .descendants()
            .filter(|n| n.attribute("class").is_some_and(|c| c.starts_with("edge")))
            .count();
        assert!(edges > states.len(), "{name}: {edges} edges");
        assert!(text.contains(r#"class="edge catch""#));
        // no node overlaps another (their boxes are laid out apart)
        let boxes: Vec<(f64, f64, f64, f64)> = doc
            .descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|c| c.starts_with("node state"))
            })
            .filter_map(|n| n.children().find(|c| c.tag_name().name() == "rect"))
            .map(|r| {
                let f = |k: &str| r.attribute(k).unwrap().parse::<f64>().unwrap();
                (f("x"), f("y"), f("width"), f("height"))
            })
            .collect();
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let apart =
                    a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
                assert!(apart, "{name}: {a:?} overlaps {b:?}");
            }
        }
    }
}

fn last_event(history: &Path) -> Value {
    let h: Value = serde_json::from_str(&std::fs::read_to_string(history).unwrap()).unwrap();
    h["events"].as_array().unwrap().last().unwrap().clone()
}

/// `make demo` itself (scripts/demo.sh, with this build's binary and its own output directory):
/// the happy path reaches a deployed endpoint, the broken export fails at validation, the script
/// exits 0 and says so, and it writes the histories and drawings.
#[test]
fn the_demo_deploys_then_fails_at_validation_as_intended() {
    let dir = std::env::temp_dir().join(format!("sw-demo-{}", std::process::id()));
    let out = Command::new("bash")
        .arg("scripts/demo.sh")
        .current_dir(root())
        .env("STEPWRIGHT", env!("CARGO_BIN_EXE_stepwright"))
        .env("DEMO_OUT", &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Run 2 failed as intended"), "{stdout}");
    // the person sees what cleanse and validate did, and the approval request
    assert!(
        stdout.contains("rows: 2043 in, 1906 out, 137 rejected"),
        "{stdout}"
    );
    assert!(
        stdout.contains("all 8 checks passed on 1906 rows"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 of 8 checks failed on 380 rows"),
        "{stdout}"
    );
    assert!(stdout.contains("Subject: Model approval needed: churn/1"));
    assert!(
        stdout.contains("> Create endpoint (Task)"),
        "one line per state"
    );

    let happy = dir.join("training-history.json");
    assert_eq!(
        entered(&happy),
        [
            "Configure",
            "Plan run",
            "Cleanse",
            "Validate",
            "Data valid?",
            "Train model",
            "Evaluate model",
            "Gate decision",
            "Human approval",
            "Create model",
            "Create endpoint config",
            "Find endpoint",
            "Create endpoint",
            "Summarize",
            "Deployed"
        ]
    );
    let end = last_event(&happy);
    assert_eq!(end["type"], "ExecutionSucceeded");
    let output: Value = serde_json::from_str(
        end["executionSucceededEventDetails"]["output"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(output["endpoint"]["action"], "created");

    let broken = dir.join("training-broken-history.json");
    assert_eq!(
        entered(&broken),
        [
            "Configure",
            "Plan run",
            "Cleanse",
            "Validate",
            "Data valid?",
            "Data invalid",
            "Notify failure",
            "Pipeline failed"
        ]
    );
    let end = last_event(&broken);
    assert_eq!(end["type"], "ExecutionFailed");
    assert_eq!(
        end["executionFailedEventDetails"]["error"],
        "Pipeline.DataInvalid"
    );

    let svg = std::fs::read_to_string(dir.join("training.svg")).unwrap();
    roxmltree::Document::parse(&svg).unwrap();
    let mmd = std::fs::read_to_string(dir.join("training.mmd")).unwrap();
    assert!(mmd.contains("Human approval"), "{mmd}");
    assert!(dir.join("s3/demo-data/clean/local/rejects.jsonl").is_file());
    std::fs::remove_dir_all(&dir).ok();
}

/// The straight edges (lanes on the left, loops on the right) never run through a state's box:
/// an edge from a state with a neighbour between it and its lane leaves from its bottom.
#[test]
fn svg_straight_edges_go_round_the_states() {
    for name in ["training", "batch-inference", "scale-out"] {
        let out = bin()
            .args([
                "render",
                &format!("statemachines/{name}.asl.json"),
                "-f",
                "svg",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let rects: Vec<(f64, f64, f64, f64)> = doc
            .descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|c| c.starts_with("node state"))
            })
            .filter_map(|n| n.children().find(|c| c.tag_name().name() == "rect"))
            .map(|r| {
                let f = |k: &str| r.attribute(k).unwrap().parse::<f64>().unwrap();
                (f("x"), f("y"), f("width"), f("height"))
            })
            .collect();
        let mut checked = 0;
        for e in doc
            .descendants()
            .filter(|n| n.attribute("class").is_some_and(|c| c.starts_with("edge")))
        {
            let Some(d) = e
                .children()
                .find(|c| c.tag_name().name() == "path")
                .and_then(|p| p.attribute("d"))
            else {
                continue;
            };
            if d.contains('C') {
                continue;
            }
            let points: Vec<(f64, f64)> = d
                .split(['M', 'L'])
                .filter(|p| !p.trim().is_empty())
                .map(|p| {
                    let (x, y) = p.trim().split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            for w in points.windows(2) {
                let ((x0, y0), (x1, y1)) = (w[0], w[1]);
                if (y0 - y1).abs() > 0.01 {
                    continue;
                }
                checked += 1;
                let (lo, hi) = (x0.min(x1), x0.max(x1));
                for &(bx, by, bw, bh) in &rects {
                    let crosses = by < y0 && y0 < by + bh && bx < hi - 0.5 && lo + 0.5 < bx + bw;
                    assert!(
                        !crosses,
                        "{name}: edge {:?} -> {:?} crosses the box at ({bx}, {by})",
                        e.attribute("data-from"),
                        e.attribute("data-to")
                    );
                }
            }
        }
        assert!(checked > 0, "{name}: no straight edge checked");
    }
}

/// A misspelt `--lambda` name is a warning naming the machine's functions; s3:// locations
/// without `--objects` fail with a hint to give it.
#[test]
fn lambda_mistakes_say_what_to_do() {
    let out = bin()
        .args(["run", "statemachines/training.asl.json", "--format", "json"])
        .args(["--substitutions", "demo/substitutions.json"])
        .args([
            "--mock-config",
            "demo/mock-config.json",
            "--test-case",
            "Deploy",
        ])
        .args(["--input", "@demo/inputs/training.json"])
        .args(["--lambda", "stepwright-clense=builtin:cleanse"])
        .args(["--lambda", &format!("{FN}-cleanse=builtin:cleanse")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: --lambda stepwright-clense: no Lambda task of this machine names the function `stepwright-clense`"),
        "{stderr}"
    );
    assert!(stderr.contains("stepwright-approval-notify"), "{stderr}");
    assert!(
        !stderr.contains("warning: --lambda arn:"),
        "the right name is no warning: {stderr}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let s: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(s["error"], "Cleanse.NoS3Client");
    assert!(
        s["cause"].as_str().unwrap().contains("give --objects DIR"),
        "{s}"
    );
}

/// Edge labels (Catch error names, Choice conditions) never cover a state's box or each other.
#[test]
fn svg_edge_labels_stay_off_the_states() {
    for name in ["training", "batch-inference", "scale-out"] {
        let out = bin()
            .args([
                "render",
                &format!("statemachines/{name}.asl.json"),
                "-f",
                "svg",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let rect = |r: roxmltree::Node| {
            let f = |k: &str| r.attribute(k).unwrap().parse::<f64>().unwrap();
            (f("x"), f("y"), f("width"), f("height"))
        };
        let states: Vec<(f64, f64, f64, f64)> = doc
            .descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|c| c.starts_with("node state"))
            })
            .filter_map(|n| n.children().find(|c| c.tag_name().name() == "rect"))
            .map(rect)
            .collect();
        let labels: Vec<(f64, f64, f64, f64)> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("label-bg"))
            .map(rect)
            .collect();
        assert!(!labels.is_empty(), "{name}: no edge labels");
        for l in &labels {
            for s in &states {
                let apart =
                    l.0 + l.2 <= s.0 || s.0 + s.2 <= l.0 || l.1 + l.3 <= s.1 || s.1 + s.3 <= l.1;
                assert!(
                    apart,
                    "{name}: the label at {l:?} covers the state at {s:?}"
                );
            }
        }
        for (i, a) in labels.iter().enumerate() {
            for b in &labels[i + 1..] {
                let apart =
                    a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
                assert!(apart, "{name}: the labels at {a:?} and {b:?} overlap");
            }
        }
    }
}
