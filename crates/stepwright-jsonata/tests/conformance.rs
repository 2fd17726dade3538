//! jsonata-js's own test suite (../shared/conformance/jsonata-test-suite), read in place.
//!
//! Every case runs except those using `$eval`, which AWS Step Functions does not support.
//! Set `JSONATA_FAILURES=path` to write the failing cases to a file.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use stepwright_jsonata::{parse, Environment};
use testkit::{conformance_dir, json_eq, json_files, Tally};

/// Cases that must pass (raise it when the engine improves; a drop is a regression).
const FLOOR: usize = 1672;

enum Outcome {
    Value(Value),
    Undefined,
    Error(String, String),
}

/// The expression of a case: `expr`, or the file named by `expr-file` beside the case.
fn expr_of(case: &Value, dir: &Path) -> String {
    if let Some(e) = case["expr"].as_str() {
        return e.to_string();
    }
    match case["expr-file"].as_str() {
        Some(f) => std::fs::read_to_string(dir.join(f))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(f).display())),
        None => String::new(),
    }
}

/// The error code a case expects (`code`, or `error.code`).
fn expected_code(case: &Value) -> Option<&str> {
    case.get("code")
        .and_then(|c| c.as_str())
        .or_else(|| case.get("error").and_then(|e| e["code"].as_str()))
}

fn run_case(case: &Value, expr: &str, datasets: &Path) -> Outcome {
    let data: Option<Value> = if let Some(d) = case.get("data") {
        Some(d.clone())
    } else if let Some(Value::String(name)) = case.get("dataset") {
        let text = std::fs::read_to_string(datasets.join(format!("{name}.json")))
            .unwrap_or_else(|e| panic!("dataset {name}: {e}"));
        Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("dataset {name}: {e}")))
    } else {
        None
    };
    let mut env = Environment::new()
        .with_seed(1)
        .with_stack_limit(100 * 1024 * 1024);
    if let Some(Value::Object(b)) = case.get("bindings") {
        for (k, v) in b {
            env.bind(k.clone(), v.clone());
        }
    }
    if let Some(d) = case.get("depth").and_then(|d| d.as_u64()) {
        env = env.with_max_depth(d as usize);
    }
    if let Some(t) = case.get("timelimit").and_then(|d| d.as_u64()) {
        env = env.with_time_limit(Duration::from_millis(t));
    }
    let e = match parse(expr) {
        Ok(e) => e,
        Err(e) => return Outcome::Error(e.code.to_string(), e.message),
    };
    match e.evaluate(data.as_ref(), &env) {
        Ok(Some(v)) => Outcome::Value(v),
        Ok(None) => Outcome::Undefined,
        Err(e) => Outcome::Error(e.code.to_string(), e.message),
    }
}

fn suite() -> (Tally, Vec<String>) {
    let root = conformance_dir().join("jsonata-test-suite");
    let datasets = root.join("datasets");
    let mut tally = Tally::new();
    let mut failures = Vec::new();
    for file in json_files(&root.join("groups")) {
        let group = file
            .parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = file
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&file).expect("readable case");
        let parsed: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                // serde_json rejects lone surrogate escapes, which jsonata-js accepts
                tally.fail(&group, format!("{group}/{name}: unreadable case: {e}"));
                failures.push(format!("{group}/{name}: unreadable case: {e}"));
                continue;
            }
        };
        let cases = match parsed {
            Value::Array(a) => a,
            v => vec![v],
        };
        let dir = file.parent().unwrap_or(&root).to_path_buf();
        for (i, case) in cases.iter().enumerate() {
            let expr = expr_of(case, &dir);
            if expr.contains("$eval") {
                continue; // AWS Step Functions does not support $eval
            }
            let outcome = run_case(case, &expr, &datasets);
            let want_code = expected_code(case);
            let ok = match (&outcome, case) {
                (Outcome::Error(code, _), _) if want_code.is_some() => {
                    want_code == Some(code.as_str())
                }
                _ if want_code.is_some() => false,
                (Outcome::Value(v), c) if c.get("result").is_some() => json_eq(v, &c["result"]),
                (Outcome::Undefined, c) => c.get("result").is_none(),
                _ => false,
            };
            tally.record(&group, ok);
            if !ok {
                let got = match &outcome {
                    Outcome::Value(v) => v.to_string(),
                    Outcome::Undefined => "undefined".into(),
                    Outcome::Error(c, m) => format!("error {c}: {m}"),
                };
                let want = if let Some(c) = want_code {
                    format!("error {c}")
                } else if let Some(r) = case.get("result") {
                    r.to_string()
                } else {
                    "undefined".into()
                };
                let mut got = got;
                got.truncate(300);
                failures.push(format!(
                    "{group}/{name}[{i}]: {expr}\n    want {want}\n    got  {got}"
                ));
            }
        }
    }
    (tally, failures)
}

#[test]
fn jsonata_test_suite() {
    // deep (non-tail) recursion in some cases needs more stack than a test thread has
    let (tally, failures) = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(suite)
        .expect("spawn")
        .join()
        .expect("suite thread");
    tally.report("jsonata-test-suite (excluding $eval)");
    if let Ok(path) = std::env::var("JSONATA_FAILURES") {
        std::fs::write(path, failures.join("\n")).expect("write failures");
    }
    let (passed, total) = tally.totals();
    assert!(
        passed >= FLOOR,
        "{passed}/{total} passed, below the floor of {FLOOR}"
    );
}
