//! Every expectation, the profile, drift and the error names, through the public API.

use serde_json::{json, Value};
use validate::{Outcome, Suite, ValidateError};

fn check(suite: Value, data: &str) -> Result<Outcome, ValidateError> {
    let suite = Suite::from_value(&suite).unwrap_or_else(|e| panic!("{e}"));
    validate::run(&suite, data.as_bytes())
}

fn ok(suite: Value, data: &str) -> Outcome {
    check(suite, data).unwrap_or_else(|e| panic!("{}: {e}", e.name()))
}

fn passed(o: &Outcome) -> Vec<bool> {
    o.checks
        .iter()
        .map(|c| c["passed"].as_bool().unwrap())
        .collect()
}

const DATA: &str =
    "id,cat,x,ts\n1,a,1.5,2024-01-01\n2,b,,2024-01-02\n3,a,10,2024-01-03\n3,c,NA,bad\n";

#[test]
fn schema_checks() {
    let o = ok(
        json!({"expectations": [
            {"expect": "columns", "columns": ["id", "cat", "x", "ts"]},
            {"expect": "columns", "columns": ["id", "x"], "exact": false},
            {"expect": "columns", "columns": ["x", "id"], "exact": false, "ordered": true},
            {"expect": "columns", "columns": ["id", "cat", "x"]},
            {"expect": "type", "column": "ts", "type": "timestamp"},
            {"expect": "type", "column": "ts", "type": "timestamp", "mostly": 0.7},
            {"expect": "type", "column": "nope", "type": "int"}
        ]}),
        DATA,
    );
    assert_eq!(passed(&o), [true, true, false, false, false, true, false]);
    assert_eq!(o.checks[3]["observed"]["extra"], json!(["ts"]));
    assert_eq!(o.checks[4]["observed"]["unexpected_count"], 1);
    assert_eq!(o.checks[4]["samples"], json!([{"line": 5, "value": "bad"}]));
    assert_eq!(o.checks[6]["observed"]["missing_columns"], json!(["nope"]));
}

#[test]
fn completeness_uniqueness_ranges_sets_regex() {
    let o = ok(
        json!({"expectations": [
            {"expect": "not_null", "column": "x"},
            {"expect": "not_null", "column": "x", "mostly": 0.5},
            {"expect": "unique", "columns": ["id"]},
            {"expect": "unique", "columns": ["id", "cat"]},
            {"expect": "between", "column": "x", "min": 0, "max": 5},
            {"expect": "between", "column": "x", "min": 0},
            {"expect": "in_set", "column": "cat", "values": ["a", "b"]},
            {"expect": "regex", "column": "ts", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
            {"expect": "row_count", "min": 4, "max": 4},
            {"expect": "row_count", "min": 5}
        ]}),
        DATA,
    );
    assert_eq!(
        passed(&o),
        [false, true, false, true, false, true, false, false, true, false]
    );
    assert_eq!(o.checks[0]["observed"]["unexpected_fraction"], 0.5);
    assert_eq!(o.checks[2]["observed"]["duplicates"], 1);
    assert_eq!(o.checks[4]["samples"], json!([{"line": 4, "value": "10"}]));
    assert_eq!(o.checks[6]["samples"][0]["value"], "c");
    assert_eq!(o.failed.len(), 6);
    assert!(!o.passed);
}

#[test]
fn stat_checks() {
    let o = ok(
        json!({"expectations": [
            {"expect": "stat", "column": "x", "stat": "mean", "min": 5.7, "max": 5.8},
            {"expect": "stat", "column": "x", "stat": "max", "max": 5},
            {"expect": "stat", "column": "x", "stat": "median", "min": 5.75, "max": 5.75},
            {"expect": "stat", "column": "x", "stat": "quantile", "q": 0, "min": 1.5, "max": 1.5},
            {"expect": "stat", "column": "x", "stat": "null_fraction", "max": 0.5},
            {"expect": "stat", "column": "cat", "stat": "distinct", "min": 3, "max": 3},
            {"expect": "stat", "column": "x", "stat": "std", "min": 6.0, "max": 6.1},
            {"expect": "stat", "column": "gone", "stat": "mean", "min": 0}
        ]}),
        DATA,
    );
    assert_eq!(
        passed(&o),
        [true, false, true, true, true, true, true, false]
    );
    assert_eq!(o.checks[1]["observed"]["value"], 10.0);
}

#[test]
fn profile_describes_every_column() {
    let o = ok(json!({}), DATA);
    let p = &o.profile;
    assert_eq!(p["rows"], 4);
    let x = &p["columns"]["x"];
    assert_eq!(
        (
            x["type"].clone(),
            x["nulls"].clone(),
            x["null_fraction"].clone()
        ),
        (json!("float"), json!(2), json!(0.5))
    );
    assert_eq!(
        (x["min"].clone(), x["max"].clone(), x["mean"].clone()),
        (json!(1.5), json!(10.0), json!(5.75))
    );
    assert_eq!(p["columns"]["id"]["type"], "int");
    assert_eq!(p["columns"]["ts"]["type"], "string"); // "bad" is not a timestamp
    let cat = &p["columns"]["cat"];
    assert_eq!(cat["top"][0], json!({"value": "a", "count": 2}));
    assert_eq!(cat["distinct"], 3);
    assert!(o.passed && o.checks.is_empty());
    // declared types: values that do not fit are counted as invalid
    let o = ok(json!({"types": {"ts": "timestamp"}}), DATA);
    assert_eq!(o.profile["columns"]["ts"]["invalid"], 1);
    assert_eq!(o.profile["columns"]["ts"]["max"], "2024-01-03T00:00:00");
}

fn numbers(n: usize, shift: f64, cat_b_share: usize) -> String {
    let mut s = String::from("v,c\n");
    for i in 0..n {
        let x = ((i * 7919) % 1000) as f64 / 10.0 + shift;
        let c = if i % 100 < cat_b_share { "b" } else { "a" };
        s.push_str(&format!("{x},{c}\n"));
    }
    s
}

#[test]
fn drift_against_a_baseline_profile() {
    let base = ok(json!({}), &numbers(5000, 0.0, 30));
    let suite = |baseline: &Value| json!({"baseline": baseline, "expectations": [{"expect": "drift", "max_psi": 0.1}]});
    // same distribution: PSI ~ 0
    let same = ok(suite(&base.profile), &numbers(3000, 0.0, 30));
    assert!(same.passed, "{:?}", same.failed);
    assert!(same.profile["drift"]["v"]["psi"].as_f64().unwrap() < 0.01);
    assert_eq!(same.profile["drift"]["c"]["method"], "categorical");
    // shifted numbers and categories: both columns drift; a whole earlier result is accepted too
    let base_result = serde_json::to_value(&base).unwrap();
    let moved = ok(suite(&base_result), &numbers(3000, 30.0, 70));
    assert!(!moved.passed);
    let psi = &moved.checks[0]["observed"]["psi"];
    assert!(psi["v"]["psi"].as_f64().unwrap() > 0.25, "{psi}");
    assert!(psi["c"]["psi"].as_f64().unwrap() > 0.25, "{psi}");
}

#[test]
fn on_failure_fail_names_the_error() {
    let e = check(
        json!({"on_failure": "fail", "expectations": [{"expect": "row_count", "min": 10}]}),
        DATA,
    )
    .unwrap_err();
    assert_eq!(e.name(), "Validate.Failed");
    assert!(e.to_string().contains("row_count"), "{e}");
    let e = check(
        json!({"on_failure": "fail", "expectations": [{"expect": "columns", "columns": ["id"]}]}),
        DATA,
    )
    .unwrap_err();
    assert_eq!(e.name(), "Validate.SchemaMismatch");
    let o = ok(
        json!({"on_failure": "fail", "expectations": [{"expect": "row_count", "min": 1}]}),
        DATA,
    );
    assert!(o.passed);
}

#[test]
fn bad_suites_name_the_field() {
    let cases = [
        (
            json!({"expectations": [{"expect": "nonsense"}]}),
            "/expectations/0/expect",
            "unknown expectation",
        ),
        (
            json!({"expectations": [{"expect": "between", "column": "x"}]}),
            "/expectations/0",
            "give `min`",
        ),
        (
            json!({"expectations": [{"expect": "not_null", "column": "x", "mostly": 2}]}),
            "/expectations/0/mostly",
            "fraction",
        ),
        (
            json!({"expectations": [{"expect": "regex", "column": "x", "pattern": "("}]}),
            "/expectations/0/pattern",
            "invalid regular expression",
        ),
        (
            json!({"expectations": [{"expect": "stat", "column": "x", "stat": "mode", "min": 1}]}),
            "/expectations/0/stat",
            "expected one of",
        ),
        (
            json!({"expectations": [{"expect": "drift"}]}),
            "/expectations/0",
            "needs a `baseline`",
        ),
        (
            json!({"baseline": {"x": 1}}),
            "/baseline",
            "a baseline is a profile",
        ),
        (
            json!({"on_failure": "explode"}),
            "/on_failure",
            "return, fail",
        ),
        (
            json!({"types": {"x": "decimal"}}),
            "/types/x",
            "unknown type",
        ),
        (
            json!({"profile": {"bins": 1}}),
            "/profile/bins",
            "between 2 and 100",
        ),
        (
            json!({"expectations": [{"expect": "type", "column": "x", "type": "int", "extra": 1}]}),
            "/expectations/0/extra",
            "unknown field",
        ),
    ];
    for (suite, ptr, msg) in cases {
        let e = Suite::from_value(&suite).unwrap_err();
        assert_eq!(e.pointer, ptr, "{suite}: {e}");
        assert!(e.message.contains(msg), "{suite}: {e}");
    }
}

#[test]
fn bad_input_is_named_or_counted() {
    let e = check(json!({}), "").unwrap_err();
    assert_eq!(e.name(), "Validate.InvalidInput");
    let o = ok(
        json!({"expectations": [{"expect": "row_count", "min": 1}]}),
        "a,b\n",
    );
    assert_eq!((o.rows, o.passed), (0, false));
    let mut data = b"a,b\n1,2\n1,2,3\n".to_vec();
    data.extend_from_slice(b"\xff,1\n");
    data.extend_from_slice(format!("{},1\n", "x".repeat(1_000_000)).as_bytes());
    let o = validate::run(&Suite::from_value(&json!({})).unwrap(), &data[..]).unwrap();
    assert_eq!(o.rows, 1);
    assert_eq!(o.malformed["wrong_column_count"], 1);
    assert_eq!(o.malformed["invalid_utf8"], 1);
    assert_eq!(o.malformed["field_too_large"], 1);
}

#[test]
fn jsonl_input_is_profiled_like_csv() {
    let o = ok(
        json!({"input": {"format": "jsonl"}, "expectations": [{"expect": "between", "column": "n", "max": 2}]}),
        "{\"n\": 1, \"s\": \"x\"}\n{\"n\": 3}\n",
    );
    assert_eq!(o.profile["columns"]["n"]["type"], "int");
    assert_eq!(o.profile["columns"]["s"]["nulls"], 1);
    assert_eq!(passed(&o), [false]);
}
