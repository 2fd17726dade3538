//! Validator oracles: every definition AWS accepted (the localstack corpus) is valid, and the
//! asl-validator fixtures get the verdict expected.json records (with the deliberate
//! disagreements listed below).

use serde_json::Value;
use stepwright::validate::{validate_state_str, validate_str, Options};
use testkit::{conformance_dir, json_files, read_json, Tally};

/// asl-validator fixtures where we deliberately give another verdict, with the reason.
const DISAGREEMENTS: &[(&str, &str)] = &[
    (
        "valid-current-value-predicate.json",
        "the filter [?(@.OutputKey == FooBar)] compares with an unquoted word: AWS evaluates \
         paths with Jayway JsonPath, where string literals in filters are quoted; \
         stepwright::jsonpath rejects it (INVALID_INTRINSIC_FUNCTION, its argument path)",
    ),
    (
        "valid-path-array-context.json",
        "$[(@.length-1)] is a script expression (Goessner's original JSONPath); Jayway, which AWS \
         uses, has none, so stepwright::jsonpath rejects it (INVALID_JSON_PATH); write $[-1:]",
    ),
    (
        "valid-map-noconfig.asl.json",
        "ItemReader and ResultWriter in a Map without ProcessorConfig (so INLINE): AWS \
         documents them for the Distributed Map only, and an inline Map cannot read items from \
         S3 or write results there; we reject them (SCHEMA_VALIDATION_FAILED). (Label and the \
         tolerated-failure fields only get a warning: AWS accepts them in an inline Map.)",
    ),
    (
        "valid-map-with-item-batcher-jsonata.json",
        "a state sets QueryLanguage JSONPath inside a machine whose QueryLanguage is JSONata: \
         AWS (and the CDK, which throws) only allow opting single states into JSONata from a \
         JSONPath machine, not the reverse",
    ),
    (
        "invalid-json-surround-syntax-extra-spaces.json",
        "\"{% \\n10         %}\": asl-validator's surround pattern ^\\{% .+ %\\}$ fails only because \
         JavaScript's . does not match the line break; a multi-line JSONata expression is \
         valid JSONata and the surround is exact, so we accept it",
    ),
];

#[test]
fn localstack_definitions_are_valid() {
    let dir = conformance_dir().join("localstack");
    let mut tally = Tally::new();
    let opts = Options::default();
    for path in json_files(&dir) {
        if path.file_name().is_some_and(|n| n == "index.json") {
            continue;
        }
        let case = read_json(&path);
        let area = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let (text, report) = if let Some(def) = case.get("definition") {
            let text = serde_json::to_string_pretty(def).unwrap();
            let r = validate_str(&text, &opts);
            (text, r)
        } else if let Some(state) = case.get("state_definition") {
            let text = serde_json::to_string_pretty(state).unwrap();
            let r = validate_state_str(&text, &opts);
            (text, r)
        } else {
            continue;
        };
        if report.is_valid() {
            tally.record(&area, true);
        } else {
            tally.fail(
                &area,
                format!(
                    "{}:\n{}",
                    path.display(),
                    report.render("definition", &text)
                ),
            );
        }
    }
    tally.report("validator: localstack definitions AWS accepted are valid");
    for f in tally.failures().iter().take(30) {
        eprintln!("{f}");
    }
    let (p, t) = tally.totals();
    assert_eq!(t, 752, "expected 733 machines + 19 test_state states");
    assert_eq!(p, t, "{} AWS-accepted definitions were rejected", t - p);
}

fn options_from(o: &Value) -> Options {
    let mut opts = Options::default();
    if let Some(b) = o.get("checkPaths").and_then(Value::as_bool) {
        opts.check_paths = b;
    }
    if let Some(b) = o.get("checkArn").and_then(Value::as_bool) {
        opts.check_resource_arns = b;
    }
    opts
}

#[test]
fn asl_validator_fixtures_agree() {
    let dir = conformance_dir().join("asl-validator");
    let expected = read_json(&dir.join("expected.json"));
    let mut tally = Tally::new();
    let mut disagreed = Vec::new();
    let mut run = |area: &str, file: &str, opts: &Options, want: bool| {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let report = validate_str(&text, opts);
        let name = file.rsplit('/').next().unwrap();
        if report.is_valid() == want {
            tally.record(area, true);
        } else if let Some((_, why)) = DISAGREEMENTS.iter().find(|(f, _)| *f == name) {
            disagreed.push(format!("{name}: {why}"));
        } else {
            let what = if want { "rejected" } else { "accepted" };
            tally.fail(
                area,
                format!("{name} ({what}):\n{}", report.render(name, &text)),
            );
        }
    };
    for case in expected["cases"].as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let want = case["expected_valid"].as_bool().unwrap();
        let area = if want {
            "valid fixtures"
        } else {
            "invalid fixtures"
        };
        run(area, file, &Options::default(), want);
    }
    for case in expected["option_cases"].as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let want = case["expected_valid"].as_bool().unwrap();
        run("option cases", file, &options_from(&case["options"]), want);
    }
    tally.report("validator: asl-validator fixtures agree with expected.json");
    for f in tally.failures() {
        eprintln!("{f}");
    }
    for d in &disagreed {
        println!("deliberate disagreement: {d}");
    }
    let (p, t) = tally.totals();
    assert_eq!(p, t, "{} fixtures disagree", t - p);
    assert_eq!(
        disagreed.len(),
        DISAGREEMENTS.len(),
        "a listed disagreement no longer happens"
    );
    assert!(t + disagreed.len() >= 116);
}
