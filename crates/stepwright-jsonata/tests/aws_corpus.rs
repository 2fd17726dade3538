//! Every JSONata expression in the LocalStack corpus (definitions AWS accepted) parses.

use serde_json::Value;
use stepwright_jsonata::parse;
use testkit::{conformance_dir, json_files, read_json, Tally};

fn collect(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            let t = s.as_str();
            if let Some(inner) = t.strip_prefix("{%").and_then(|r| r.strip_suffix("%}")) {
                out.push(inner.to_string());
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect(x, out)),
        _ => {}
    }
}

#[test]
fn localstack_jsonata_expressions_parse() {
    let dir = conformance_dir().join("localstack");
    let mut tally = Tally::new();
    let mut seen = std::collections::BTreeSet::new();
    for file in json_files(&dir) {
        let case = read_json(&file);
        let mut exprs = Vec::new();
        collect(&case["definition"], &mut exprs);
        for e in exprs {
            if !seen.insert(e.clone()) {
                continue;
            }
            match parse(&e) {
                Ok(_) => tally.record("localstack definitions", true),
                Err(err) => tally.fail("localstack definitions", format!("{e:?}: {err}")),
            }
        }
    }
    tally.report("JSONata expressions in AWS-accepted definitions");
    let (passed, total) = tally.totals();
    assert!(
        total >= 30,
        "expected the corpus to hold JSONata expressions, found {total}"
    );
    assert_eq!(passed, total, "{:#?}", tally.failures());
}
