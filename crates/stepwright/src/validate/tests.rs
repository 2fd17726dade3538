//! Unit tests per rule: each asserts the code and the pointer of the diagnostic.

use serde_json::{json, Value};

use super::*;

fn run(v: &Value, opts: &Options) -> Vec<(Code, Severity, String)> {
    let text = serde_json::to_string_pretty(v).unwrap();
    validate_str(&text, opts)
        .diagnostics()
        .into_iter()
        .map(|d| (d.code, d.severity, d.pointer.clone()))
        // `one` adds a `Done` target that most tests do not use.
        .filter(|(c, _, p)| !(*c == Code::UnreachableState && p == "/States/Done"))
        .collect()
}

/// A machine of one state `S` (plus `Done`, a Succeed state, as a target).
fn one(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state, "Done": {"Type": "Succeed"}}})
}

fn jsonata(state: Value) -> Value {
    let mut m = one(state);
    m["QueryLanguage"] = json!("JSONata");
    m
}

#[track_caller]
fn has(v: Value, code: Code, pointer: &str) {
    let d = run(&v, &Options::default());
    assert!(
        d.iter()
            .any(|(c, s, p)| *c == code && *s == Severity::Error && p == pointer),
        "expected error {code} at {pointer}, got {d:?}"
    );
}

#[track_caller]
fn warns(v: Value, code: Code, pointer: &str) {
    let d = run(&v, &Options::default());
    assert!(
        d.iter()
            .any(|(c, s, p)| *c == code && *s == Severity::Warning && p == pointer),
        "expected warning {code} at {pointer}, got {d:?}"
    );
    assert!(d.iter().all(|(_, s, _)| *s == Severity::Warning), "{d:?}");
}

#[track_caller]
fn valid(v: Value) {
    let d = run(&v, &Options::default());
    assert!(d.iter().all(|(_, s, _)| *s == Severity::Warning), "{d:?}");
}

// ---- text-level checks ----------------------------------------------------------------------

#[test]
fn json_syntax_errors_have_a_place() {
    let r = validate_str(
        "{\n  \"StartAt\": \"A\",\n  \"States\": {\n}",
        &Options::default(),
    );
    let (d, span) = r.iter().next().unwrap();
    assert_eq!(d.code, Code::InvalidJson);
    assert_eq!(d.pointer, "");
    assert_eq!(span.unwrap().line, 4);
    assert!(!r.is_valid());
    let r = validate_str("   ", &Options::default());
    assert_eq!(r.diagnostics()[0].code, Code::InvalidJson);
}

#[test]
fn duplicate_keys_are_found_in_the_text() {
    let text =
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Type": "Pass"}}}"#;
    let r = validate_str(text, &Options::default());
    assert_eq!(r.diagnostics()[0].code, Code::DuplicateJsonKey);
    assert_eq!(r.diagnostics()[0].pointer, "/States/A/Type");
    let text =
        r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "A": {"Type": "Succeed"}}}"#;
    let r = validate_str(text, &Options::default());
    assert_eq!(r.diagnostics()[0].code, Code::DuplicateJsonKey);
    assert_eq!(r.diagnostics()[0].pointer, "/States/A");
}

#[test]
fn size_limit() {
    let big = "x".repeat(MAX_DEFINITION_BYTES);
    let text = format!(
        r#"{{"Comment": "{big}", "StartAt": "A", "States": {{"A": {{"Type": "Succeed"}}}}}}"#
    );
    let r = validate_str(&text, &Options::default());
    assert_eq!(r.diagnostics()[0].code, Code::SizeLimitExceeded);
    assert_eq!(r.error_count(), 1);
}

#[test]
fn deep_nesting_is_a_diagnostic_not_a_crash() {
    let text = "[".repeat(10_000) + &"]".repeat(10_000);
    let r = validate_str(&text, &Options::default());
    assert_eq!(r.diagnostics()[0].code, Code::InvalidJson);
    assert!(r.diagnostics()[0].message.contains("recursion limit"));
    let deep = format!(
        r#"{{"StartAt": "A", "States": {{"A": {{"Type": "Pass", "Result": {}1{}, "End": true}}}}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    assert!(validate_str(&deep, &Options::default()).is_valid());
}

#[test]
fn wrong_types_everywhere_are_diagnostics() {
    for text in [
        "[]",
        "1",
        "null",
        r#"{"StartAt": 1, "States": []}"#,
        r#"{"StartAt": "A", "States": {"A": 5}}"#,
        r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": 1, "Retry": {}, "End": "yes"}}}"#,
        r#"{"StartAt": "A", "States": {"A": {"Type": "Map", "ItemProcessor": [], "End": true}}}"#,
    ] {
        let r = validate_str(text, &Options::default());
        assert!(!r.is_valid(), "{text}");
        let _ = r.render("x.json", text);
    }
}

// ---- graph ------------------------------------------------------------------------------------

#[test]
fn missing_targets() {
    has(
        one(json!({"Type": "Pass", "Next": "Nowhere"})),
        Code::MissingTransitionTarget,
        "/States/S/Next",
    );
    has(
        json!({"StartAt": "Nope", "States": {"S": {"Type": "Succeed"}}}),
        Code::MissingTransitionTarget,
        "/StartAt",
    );
    has(
        one(
            json!({"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": true, "Next": "X"}], "Default": "Done"}),
        ),
        Code::MissingTransitionTarget,
        "/States/S/Choices/0/Next",
    );
    has(
        one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Done",
                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}]}),
        ),
        Code::MissingTransitionTarget,
        "/States/S/Catch/0/Next",
    );
}

#[test]
fn next_xor_end() {
    has(
        one(json!({"Type": "Pass", "Next": "Done", "End": true})),
        Code::SchemaValidationFailed,
        "/States/S/End",
    );
    has(
        json!({"StartAt": "S", "States": {"S": {"Type": "Pass"}, "T": {"Type": "Succeed"}}}),
        Code::SchemaValidationFailed,
        "/States/S",
    );
}

#[test]
fn unreachable_and_terminal_states() {
    has(
        json!({"StartAt": "S", "States": {"S": {"Type": "Succeed"}, "Lost": {"Type": "Succeed"}}}),
        Code::UnreachableState,
        "/States/Lost",
    );
    has(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}}),
        Code::MissingEndState,
        "/States",
    );
    // A loop with no way out, next to a terminal state elsewhere: a warning.
    let d = run(
        &json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": true, "Next": "Loop"}], "Default": "End"},
            "Loop": {"Type": "Wait", "Seconds": 1, "Next": "Loop"},
            "End": {"Type": "Succeed"}}}),
        &Options::default(),
    );
    assert!(
        d.contains(&(
            Code::NoTerminalState,
            Severity::Warning,
            "/States/Loop".into()
        )),
        "{d:?}"
    );
}

#[test]
fn branch_transitions_stay_inside() {
    has(
        one(json!({"Type": "Parallel", "Next": "Done", "Branches": [
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "Done"}}}]})),
        Code::InvalidBranchTransition,
        "/States/S/Branches/0/States/B/Next",
    );
    has(
        one(json!({"Type": "Map", "End": true, "ItemProcessor":
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}, "Next": "Done"})),
        Code::SchemaValidationFailed,
        "/States/S/End",
    );
    has(
        json!({"StartAt": "S", "States": {"S": {"Type": "Parallel", "End": true, "Branches": []}}}),
        Code::SchemaValidationFailed,
        "/States/S/Branches",
    );
}

#[test]
fn state_names_are_unique_and_short() {
    has(
        json!({"StartAt": "S", "States": {"S": {"Type": "Parallel", "Next": "X", "Branches": [
            {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}]}, "X": {"Type": "Succeed"}}}),
        Code::DuplicateStateName,
        "/States/X",
    );
    let long = "n".repeat(81);
    has(
        json!({"StartAt": long, "States": {long.clone(): {"Type": "Succeed"}}}),
        Code::InvalidStateName,
        &format!("/States/{long}"),
    );
    valid(json!({"StartAt": "n".repeat(80), "States": {"n".repeat(80): {"Type": "Succeed"}}}));
}

// ---- fields -----------------------------------------------------------------------------------

#[test]
fn query_language_fields() {
    has(
        jsonata(json!({"Type": "Pass", "Parameters": {"a": 1}, "End": true})),
        Code::QueryLanguageMismatch,
        "/States/S/Parameters",
    );
    has(
        jsonata(json!({"Type": "Pass", "ResultPath": "$.x", "End": true})),
        Code::QueryLanguageMismatch,
        "/States/S/ResultPath",
    );
    has(
        one(json!({"Type": "Pass", "Output": {"a": 1}, "End": true})),
        Code::QueryLanguageMismatch,
        "/States/S/Output",
    );
    has(
        one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": {}, "End": true}),
        ),
        Code::QueryLanguageMismatch,
        "/States/S/Arguments",
    );
    has(
        one(
            json!({"Type": "Choice", "Choices": [{"Condition": "{% true %}", "Next": "Done"}], "Default": "Done"}),
        ),
        Code::QueryLanguageMismatch,
        "/States/S/Choices/0/Condition",
    );
    has(
        jsonata(
            json!({"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": true, "Next": "Done"}], "Default": "Done"}),
        ),
        Code::QueryLanguageMismatch,
        "/States/S/Choices/0/Variable",
    );
    has(
        jsonata(json!({"Type": "Pass", "QueryLanguage": "JSONPath", "End": true})),
        Code::QueryLanguageMismatch,
        "/States/S/QueryLanguage",
    );
    // A JSONata state in a JSONPath machine is fine.
    valid(one(
        json!({"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input %}", "End": true}),
    ));
}

#[test]
fn task_timeouts() {
    let t = |extra: Value| {
        let mut s =
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
        s.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        one(s)
    };
    has(
        t(json!({"TimeoutSeconds": 10, "TimeoutSecondsPath": "$.t"})),
        Code::InvalidTimeout,
        "/States/S/TimeoutSecondsPath",
    );
    has(
        t(json!({"HeartbeatSeconds": 10, "HeartbeatSecondsPath": "$.t"})),
        Code::InvalidTimeout,
        "/States/S/HeartbeatSecondsPath",
    );
    has(
        t(json!({"TimeoutSeconds": 10, "HeartbeatSeconds": 10})),
        Code::InvalidTimeout,
        "/States/S/HeartbeatSeconds",
    );
    has(
        t(json!({"TimeoutSeconds": 0})),
        Code::OutOfRange,
        "/States/S/TimeoutSeconds",
    );
    has(
        t(json!({"TimeoutSeconds": 100_000_000u64})),
        Code::OutOfRange,
        "/States/S/TimeoutSeconds",
    );
    has(
        t(json!({"TimeoutSeconds": "10"})),
        Code::SchemaValidationFailed,
        "/States/S/TimeoutSeconds",
    );
    valid(t(
        json!({"TimeoutSeconds": "${Timeout}", "HeartbeatSeconds": 5}),
    ));
    valid(t(json!({"TimeoutSeconds": 30, "HeartbeatSeconds": 10})));
}

#[test]
fn retry_rules() {
    let r = |retry: Value| {
        one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Retry": retry}),
        )
    };
    has(
        r(json!([{"ErrorEquals": ["States.ALL", "X"]}])),
        Code::InvalidErrorName,
        "/States/S/Retry/0/ErrorEquals/0",
    );
    has(
        r(json!([{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}])),
        Code::InvalidErrorName,
        "/States/S/Retry/0/ErrorEquals/0",
    );
    has(
        r(json!([{"ErrorEquals": []}])),
        Code::SchemaValidationFailed,
        "/States/S/Retry/0/ErrorEquals",
    );
    has(
        r(json!([{"ErrorEquals": ["X"], "BackoffRate": 0.5}])),
        Code::OutOfRange,
        "/States/S/Retry/0/BackoffRate",
    );
    has(
        r(json!([{"ErrorEquals": ["X"], "IntervalSeconds": 0}])),
        Code::OutOfRange,
        "/States/S/Retry/0/IntervalSeconds",
    );
    has(
        r(json!([{"ErrorEquals": ["X"], "MaxAttempts": 100_000_000u64}])),
        Code::OutOfRange,
        "/States/S/Retry/0/MaxAttempts",
    );
    has(
        r(json!([{"ErrorEquals": ["X"], "MaxDelaySeconds": 31_622_401u64}])),
        Code::OutOfRange,
        "/States/S/Retry/0/MaxDelaySeconds",
    );
    warns(
        r(json!([{"ErrorEquals": ["States.Runtime"]}])),
        Code::InvalidErrorName,
        "/States/S/Retry/0/ErrorEquals",
    );
    warns(
        r(json!([{"ErrorEquals": ["States.Timeot"]}])),
        Code::InvalidErrorName,
        "/States/S/Retry/0/ErrorEquals/0",
    );
    valid(r(
        json!([{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "MaxAttempts": 0, "BackoffRate": 1.0, "MaxDelaySeconds": 60, "JitterStrategy": "FULL"},
                   {"ErrorEquals": ["States.ALL"]}]),
    ));
}

#[test]
fn catch_rules() {
    has(
        one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}, {"ErrorEquals": ["X"], "Next": "Done"}]}),
        ),
        Code::InvalidErrorName,
        "/States/S/Catch/0/ErrorEquals/0",
    );
}

#[test]
fn wait_rules() {
    has(
        one(json!({"Type": "Wait", "Next": "Done"})),
        Code::SchemaValidationFailed,
        "/States/S",
    );
    has(
        one(json!({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "Next": "Done"})),
        Code::SchemaValidationFailed,
        "/States/S/SecondsPath",
    );
    has(
        one(json!({"Type": "Wait", "Timestamp": "2024-01-01", "Next": "Done"})),
        Code::SchemaValidationFailed,
        "/States/S/Timestamp",
    );
    has(
        one(json!({"Type": "Wait", "Seconds": 100_000_000u64, "Next": "Done"})),
        Code::OutOfRange,
        "/States/S/Seconds",
    );
    valid(one(
        json!({"Type": "Wait", "Timestamp": "2024-01-01T00:00:00Z", "Next": "Done"}),
    ));
    valid(jsonata(
        json!({"Type": "Wait", "Seconds": "{% $states.input.s %}", "Next": "Done"}),
    ));
}

#[test]
fn fail_rules() {
    has(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}}}),
        Code::SchemaValidationFailed,
        "/States/F/ErrorPath",
    );
    has(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Cause": "C", "CausePath": "$.c"}}}),
        Code::SchemaValidationFailed,
        "/States/F/CausePath",
    );
    valid(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "States.Format('{}', $.e)", "CausePath": "$.c"}}}),
    );
}

#[test]
fn choice_rules() {
    has(
        one(json!({"Type": "Choice", "Choices": [], "Default": "Done"})),
        Code::SchemaValidationFailed,
        "/States/S/Choices",
    );
    warns(
        one(
            json!({"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": true, "Next": "Done"}]}),
        ),
        Code::NoDefault,
        "/States/S",
    );
    has(
        one(
            json!({"Type": "Choice", "Choices": [{"Variable": "$.x", "StringMatches": "a\\b", "Next": "Done"}], "Default": "Done"}),
        ),
        Code::SchemaValidationFailed,
        "/States/S/Choices/0/StringMatches",
    );
    has(
        one(
            json!({"Type": "Choice", "Choices": [{"Variable": "States.ArrayLength($.x)", "NumericEquals": 1, "Next": "Done"}], "Default": "Done"}),
        ),
        Code::InvalidIntrinsic,
        "/States/S/Choices/0/Variable",
    );
    has(
        one(
            json!({"Type": "Choice", "Choices": [{"And": [{"Variable": "$.x[*]", "IsNull": true}], "Next": "Done"}], "Default": "Done"}),
        ),
        Code::InvalidJsonPath,
        "/States/S/Choices/0/And/0/Variable",
    );
    has(
        one(
            json!({"Type": "Choice", "Choices": [{"Variable": "$.x", "StringEqualsPath": "x", "Next": "Done"}], "Default": "Done"}),
        ),
        Code::InvalidJsonPath,
        "/States/S/Choices/0/StringEqualsPath",
    );
}

#[test]
fn map_rules() {
    let proc_ = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let dist = json!({"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
                      "States": {"P": {"Type": "Pass", "End": true}}});
    has(
        one(json!({"Type": "Map", "End": true})),
        Code::SchemaValidationFailed,
        "/States/S",
    );
    has(
        one(json!({"Type": "Map", "End": true, "ItemProcessor": proc_, "Iterator": proc_})),
        Code::SchemaValidationFailed,
        "/States/S/Iterator",
    );
    has(
        one(
            json!({"Type": "Map", "End": true, "ItemProcessor": proc_, "ItemSelector": {}, "Parameters": {}}),
        ),
        Code::SchemaValidationFailed,
        "/States/S/Parameters",
    );
    has(
        jsonata(
            json!({"Type": "Map", "End": true, "ItemProcessor": proc_, "ItemsPath": "$.x", "Items": []}),
        ),
        Code::QueryLanguageMismatch,
        "/States/S/ItemsPath",
    );
    has(
        one(
            json!({"Type": "Map", "End": true, "ItemProcessor": proc_, "ItemBatcher": {"MaxItemsPerBatch": 2}}),
        ),
        Code::SchemaValidationFailed,
        "/States/S/ItemBatcher",
    );
    has(
        one(
            json!({"Type": "Map", "End": true, "ItemProcessor": dist, "ToleratedFailurePercentage": 101}),
        ),
        Code::OutOfRange,
        "/States/S/ToleratedFailurePercentage",
    );
    has(
        one(
            json!({"Type": "Map", "End": true, "ItemProcessor": dist, "ToleratedFailureCount": 1, "ToleratedFailureCountPath": "$.c"}),
        ),
        Code::SchemaValidationFailed,
        "/States/S/ToleratedFailureCountPath",
    );
    has(
        one(json!({"Type": "Map", "End": true, "ItemProcessor": dist, "ItemBatcher": {}})),
        Code::SchemaValidationFailed,
        "/States/S/ItemBatcher",
    );
    has(
        one(
            json!({"Type": "Map", "End": true, "ItemProcessor": dist, "ItemBatcher": {"MaxItemsPerBatch": 2, "MaxItemsPerBatchPath": "$.n"}}),
        ),
        Code::SchemaValidationFailed,
        "/States/S/ItemBatcher/MaxItemsPerBatchPath",
    );
    has(
        one(
            json!({"Type": "Map", "End": true, "ItemProcessor": dist, "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 1, "MaxItemsPath": "$.m"}}}),
        ),
        Code::SchemaValidationFailed,
        "/States/S/ItemReader/ReaderConfig/MaxItemsPath",
    );
    has(
        one(
            json!({"Type": "Map", "End": true, "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "P", "States": {"P": {"Type": "Succeed"}}}}),
        ),
        Code::SchemaValidationFailed,
        "/States/S/ItemProcessor/ProcessorConfig",
    );
    has(
        one(json!({"Type": "Map", "End": true, "ItemProcessor": dist, "Label": "has space"})),
        Code::SchemaValidationFailed,
        "/States/S/Label",
    );
    warns(
        one(
            json!({"Type": "Map", "End": true, "ItemProcessor": proc_, "ToleratedFailureCount": 1}),
        ),
        Code::SchemaValidationFailed,
        "/States/S/ToleratedFailureCount",
    );
    valid(one(
        json!({"Type": "Map", "End": true, "ItemProcessor": dist, "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "b"}},
        "ItemBatcher": {"MaxInputBytesPerBatch": 262_144}, "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"}},
        "ToleratedFailurePercentage": 5.5, "MaxConcurrency": 1000, "Label": "Run-1"}),
    ));
}

#[test]
fn assign_rules() {
    has(
        one(json!({"Type": "Pass", "Assign": {"states": 1}, "End": true})),
        Code::InvalidVariableName,
        "/States/S/Assign/states",
    );
    has(
        one(json!({"Type": "Pass", "Assign": {"1x": 1}, "End": true})),
        Code::InvalidVariableName,
        "/States/S/Assign/1x",
    );
    has(
        jsonata(json!({"Type": "Pass", "Assign": {"x.$": "$.y"}, "End": true})),
        Code::QueryLanguageMismatch,
        "/States/S/Assign/x.$",
    );
    valid(one(
        json!({"Type": "Pass", "Assign": {"x.$": "$.y", "count": 1, "z.$": "States.ArrayLength($.a)"}, "End": true}),
    ));
}

#[test]
fn version_and_machine_timeout() {
    let mut m = one(json!({"Type": "Succeed"}));
    m["Version"] = json!("2.0");
    has(m, Code::SchemaValidationFailed, "/Version");
    let mut m = one(json!({"Type": "Succeed"}));
    m["TimeoutSeconds"] = json!(0);
    has(m, Code::OutOfRange, "/TimeoutSeconds");
}

// ---- paths, payloads, intrinsics -------------------------------------------------------------

#[test]
fn path_fields() {
    has(
        one(json!({"Type": "Pass", "InputPath": "bug$.x", "End": true})),
        Code::InvalidJsonPath,
        "/States/S/InputPath",
    );
    has(
        one(json!({"Type": "Pass", "ResultPath": "$..x", "End": true})),
        Code::InvalidJsonPath,
        "/States/S/ResultPath",
    );
    has(
        one(json!({"Type": "Pass", "ResultPath": "$var", "End": true})),
        Code::InvalidJsonPath,
        "/States/S/ResultPath",
    );
    has(
        one(json!({"Type": "Pass", "ResultPath": "$$.Execution", "End": true})),
        Code::InvalidJsonPath,
        "/States/S/ResultPath",
    );
    has(
        one(json!({"Type": "Pass", "InputPath": "States.Array($.x)", "End": true})),
        Code::InvalidIntrinsic,
        "/States/S/InputPath",
    );
    has(
        one(json!({"Type": "Pass", "OutputPath": "$states.input", "End": true})),
        Code::QueryLanguageMismatch,
        "/States/S/OutputPath",
    );
    has(
        one(json!({"Type": "Wait", "SecondsPath": "$.a[*]", "Next": "Done"})),
        Code::InvalidJsonPath,
        "/States/S/SecondsPath",
    );
    valid(one(
        json!({"Type": "Pass", "InputPath": "$.books[?(@.price < 10)]", "ResultPath": null, "OutputPath": "$$.Execution.Input", "End": true}),
    ));
}

#[test]
fn payload_templates() {
    has(
        one(json!({"Type": "Pass", "Parameters": {"a": {"x": 1, "x.$": "$.x"}}, "End": true})),
        Code::DuplicatePayloadKey,
        "/States/S/Parameters/a/x.$",
    );
    has(
        one(json!({"Type": "Pass", "Parameters": {"l": [{"x.$": "nope"}]}, "End": true})),
        Code::InvalidJsonPath,
        "/States/S/Parameters/l/0/x.$",
    );
    has(
        one(json!({"Type": "Pass", "Parameters": {"x.$": 5}, "End": true})),
        Code::InvalidJsonPath,
        "/States/S/Parameters/x.$",
    );
    has(
        one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "ResultSelector": {"p.$": "States.MathAdd(1, 'a')"}, "End": true}),
        ),
        Code::InvalidIntrinsic,
        "/States/S/ResultSelector/p.$",
    );
    has(
        one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Credentials": {"RoleArn.$": "bad"}, "End": true}),
        ),
        Code::InvalidJsonPath,
        "/States/S/Credentials/RoleArn.$",
    );
    warns(
        one(json!({"Type": "Pass", "Parameters": {"x": "$.y"}, "End": true})),
        Code::NoDollar,
        "/States/S/Parameters/x",
    );
    warns(
        one(json!({"Type": "Pass", "Result": {"x.$": "$.y"}, "End": true})),
        Code::PassResultIsStatic,
        "/States/S/Result/x.$",
    );
}

#[test]
fn intrinsic_functions() {
    let p = |expr: &str| one(json!({"Type": "Pass", "Parameters": {"v.$": expr}, "End": true}));
    for bad in [
        "States.Nope()",
        "States.UUID(1)",
        "States.Format()",
        "States.Hash($.a, 'SHA-2')",
        "States.Array(",
        "States.Format('\\n')",
    ] {
        has(p(bad), Code::InvalidIntrinsic, "/States/S/Parameters/v.$");
    }
    let nested = (0..11).fold("$.x".to_string(), |a, _| {
        format!("States.JsonToString({a})")
    });
    has(
        p(&nested),
        Code::InvalidIntrinsic,
        "/States/S/Parameters/v.$",
    );
    valid(p(
        "States.Format('{} \\{x\\}', States.ArrayGetItem($.a, 0))",
    ));
}

// ---- JSONata ------------------------------------------------------------------------------------

#[test]
fn jsonata_expressions() {
    let o = |expr: &str| jsonata(json!({"Type": "Pass", "Output": {"v": expr}, "End": true}));
    for bad in [
        "{% 10 %",
        "10 %}",
        "{%10%}",
        "{% 10 + * 2 %}",
        "{% $sum($x %}",
        "{%  %}",
    ] {
        has(o(bad), Code::InvalidJsonata, "/States/S/Output/v");
    }
    valid(o("{% $states.input.items[price > 10].{'id': id} %}"));
    valid(o(" {% not an expression, a literal %} "));
    has(
        jsonata(
            json!({"Type": "Choice", "Choices": [{"Condition": "$x", "Next": "Done"}], "Default": "Done"}),
        ),
        Code::InvalidJsonata,
        "/States/S/Choices/0/Condition",
    );
    has(
        jsonata(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": {"a": ["{% ( %}"]}, "End": true}),
        ),
        Code::InvalidJsonata,
        "/States/S/Arguments/a/0",
    );
    has(
        jsonata(json!({"Type": "Wait", "Seconds": "ten", "Next": "Done"})),
        Code::SchemaValidationFailed,
        "/States/S/Seconds",
    );
}

#[test]
fn jsonata_errors_point_inside_the_string() {
    let text = r#"{"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {"Type": "Pass", "Output": "{% 1 + %}", "End": true}}}"#;
    let r = validate_str(text, &Options::default());
    let d = r.diagnostics()[0];
    assert_eq!(d.code, Code::InvalidJsonata);
    assert!(d.message.contains("at character"), "{}", d.message);
}

// ---- resources and substitutions ------------------------------------------------------------

#[test]
fn resources() {
    let t = |r: &str| one(json!({"Type": "Task", "Resource": r, "End": true}));
    has(
        t("lambda:invoke"),
        Code::InvalidResource,
        "/States/S/Resource",
    );
    has(
        t("arn:aws:lambda:us-east-1:123456789012:function:f:"),
        Code::InvalidResource,
        "/States/S/Resource",
    );
    has(
        t("arn:aws:states:::lambda:invoke.sink"),
        Code::InvalidResource,
        "/States/S/Resource",
    );
    has(
        t("${lambdaArn"),
        Code::InvalidSubstitution,
        "/States/S/Resource",
    );
    valid(t("${LambdaArn}"));
    valid(t(
        "arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:f",
    ));
    valid(one(
        json!({"Type": "Task", "Resource": {"Fn::GetAtt": ["F", "Arn"]}, "End": true}),
    ));
    let no_subst = Options {
        allow_substitutions: false,
        ..Options::default()
    };
    let d = run(&t("${LambdaArn}"), &no_subst);
    assert!(
        d.iter()
            .any(|(c, _, p)| *c == Code::InvalidSubstitution && p == "/States/S/Resource"),
        "{d:?}"
    );
    let no_arn = Options {
        check_resource_arns: false,
        ..Options::default()
    };
    assert!(run(&t("not an arn"), &no_arn).is_empty());
}

// ---- API ----------------------------------------------------------------------------------------

#[test]
fn single_states() {
    let r = validate_state_str(
        r#"{"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": true, "Next": "Elsewhere"}]}"#,
        &Options::default(),
    );
    assert!(r.is_empty(), "{:?}", r.diagnostics());
    let r = validate_state_str(
        r#"{"Type": "Pass", "ResultPath": "x", "End": true}"#,
        &Options::default(),
    );
    assert_eq!(r.diagnostics()[0].pointer, "/ResultPath");
    let r = validate_state_str("[1]", &Options::default());
    assert!(!r.is_valid());
}

#[test]
fn reports_are_in_document_order() {
    let text = r#"{
  "StartAt": "A",
  "States": {
    "A": {"Type": "Pass", "ResultPath": "x", "Next": "B"},
    "B": {"Type": "Pass", "InputPath": "y", "Next": "Nowhere"}
  }
}"#;
    let r = validate_str(text, &Options::default());
    let lines: Vec<usize> = r.iter().map(|(_, s)| s.unwrap().line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    assert_eq!(r.error_count(), 4); // and no state ends the machine
    let out = r.render("m.json", text);
    assert!(
        out.contains("--> m.json:4:27 (at /States/A/ResultPath)"),
        "{out}"
    );
}

#[test]
fn machines_built_in_code() {
    let mut m =
        StateMachine::from_json(r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#)
            .unwrap();
    assert!(validate(&m, &Options::default()).is_empty());
    m.start_at = "Z".into();
    let d = validate(&m, &Options::default());
    assert_eq!(d[0].code, Code::MissingTransitionTarget);
    assert_eq!(d[0].pointer, "/StartAt");
}

#[test]
fn passes_are_registered_once() {
    let mut names: Vec<&str> = PASSES.iter().map(|(n, _)| *n).collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n);
}

// ---- the one-pass text reader and the serde_json route agree ---------------------------------

/// Every corpus text (as written, compact and pretty), and variants with one member's value
/// replaced by a value of another JSON type: the fast path gives exactly the report (codes,
/// messages, pointers, spans, order) of the serde_json route it replaces.
#[test]
fn fast_path_reports_equal_the_serde_json_route() {
    fn texts(dir: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        for f in testkit::json_files(dir) {
            let text = std::fs::read_to_string(&f).unwrap();
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                out.push(text);
                continue;
            };
            match (v.get("definition"), v.get("state_definition")) {
                (Some(d), _) | (None, Some(d)) => {
                    out.push(d.to_string());
                    out.push(serde_json::to_string_pretty(d).unwrap());
                }
                _ => out.push(text),
            }
        }
        out
    }
    /// Pointers to every object member and array item, in document order.
    fn slots(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let p = crate::diagnostics::pointer_push(&at, k);
                    out.push(p.clone());
                    slots(x, p, out);
                }
            }
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    let p = format!("{at}/{i}");
                    out.push(p.clone());
                    slots(x, p, out);
                }
            }
            _ => {}
        }
    }
    let replacements = [
        json!(null),
        json!(7),
        json!(-3),
        json!(2.5),
        json!("$.x"),
        json!("x\n\"y\""),
        json!([]),
        json!({}),
        json!(true),
        json!({"Type": "Pass", "End": true}),
    ];
    let root = testkit::conformance_dir();
    let mut all = texts(&root.join("localstack"));
    all.extend(texts(&root.join("asl-validator")));
    assert!(all.len() > 1500, "the corpus is there: {} texts", all.len());
    let (mut compared, mut fast, mut streamed, mut on_threads) = (0usize, 0usize, 0usize, 0usize);
    let mut check = |text: &str, opts: &Options| {
        let via_serde = validate_text(text, opts, false);
        let direct = validate_text(text, opts, true);
        assert_eq!(direct, via_serde, "text: {text}");
        // The single-state (TestState) entry point too.
        let via_serde = validate_state_text(text, opts, false);
        let direct = validate_state_text(text, opts, true);
        assert_eq!(direct, via_serde, "state text: {text}");
        compared += 1;
        fast += usize::from(crate::model::json::parse(text).is_some());
        streamed += usize::from(matches!(
            stream::validate_streaming(text, opts),
            stream::Outcome::Done(_)
        ));
        // On threads, in slices of a state or two: the one-thread outcome when they decide.
        let (par, one) = stream::tests::parallel_and_one(text, opts, 3, 1);
        if let Some(par) = par {
            assert_eq!(par, one, "on threads: {text}");
            on_threads += 1;
        }
    };
    for (n, text) in all.iter().enumerate() {
        check(text, &Options::default());
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        if n % 2 == 1 {
            continue; // the pretty twin: same members
        }
        let mut at = Vec::new();
        slots(&v, String::new(), &mut at);
        let stride = (at.len() / 6).max(1);
        for (i, p) in at.iter().enumerate().step_by(stride) {
            let mut m = v.clone();
            *m.pointer_mut(p).unwrap() = replacements[(n + i) % replacements.len()].clone();
            check(&m.to_string(), &Options::default());
        }
    }
    assert!(
        fast * 10 > compared * 9,
        "{fast} of {compared} texts took the fast path"
    );
    // Most of them were validated while read (the rest: single states, machines whose
    // QueryLanguage follows States, branch transitions to later states).
    assert!(
        streamed * 10 > compared * 8,
        "{streamed} of {compared} texts were validated while read"
    );
    assert!(
        on_threads * 10 > compared * 3,
        "{on_threads} of {compared} texts were validated on threads"
    );
}

/// Validation while reading (`stream`) gives the report of the whole machine on the rules that
/// span states: names across branches, transitions into and out of branches, reachability,
/// terminal states, empty branches, the machine's QueryLanguage. The cases it cannot decide
/// while reading are handed to the whole-machine route (`Outcome::Whole`), with the same report.
#[test]
fn validation_while_reading_reports_what_the_whole_machine_gives() {
    let par = |branch_states: Value| json!({"Type": "Parallel", "Branches": [{"StartAt": "B1", "States": branch_states}], "Next": "Z"});
    let z = json!({"Type": "Succeed"});
    // (machine, decided while reading, the codes the report must hold)
    let cases: Vec<(Value, bool, Vec<Code>)> = vec![
        // A branch transition to a state read later: undecided while reading.
        (
            json!({"StartAt": "P", "States": {"P": par(json!({"B1": {"Type": "Pass", "Next": "Z"}})), "Z": z}}),
            false,
            vec![Code::InvalidBranchTransition],
        ),
        // ... to a state read earlier, and to the Parallel state itself: decided.
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "P"}, "P": par(json!({"B1": {"Type": "Pass", "Next": "A"}})), "Z": z}}),
            true,
            vec![Code::InvalidBranchTransition],
        ),
        (
            json!({"StartAt": "P", "States": {"P": par(json!({"B1": {"Type": "Pass", "Next": "P"}})), "Z": z}}),
            true,
            vec![Code::InvalidBranchTransition],
        ),
        // A missing target inside a branch: known missing only at the end.
        (
            json!({"StartAt": "P", "States": {"P": par(json!({"B1": {"Type": "Pass", "Next": "B2x"}, "B2": {"Type": "Succeed"}})), "Z": z}}),
            false,
            vec![Code::MissingTransitionTarget, Code::UnreachableState],
        ),
        // Duplicate names: nested after top, top after nested, nested named as its parent,
        // twice in one branch.
        (
            json!({"StartAt": "A", "States": {
                "A": {"Type": "Pass", "Next": "P"},
                "P": par(json!({"B1": {"Type": "Pass", "Next": "A"}, "P": {"Type": "Succeed"}})),
                "Q": {"Type": "Parallel", "Branches": [{"StartAt": "C", "States": {"C": {"Type": "Succeed"}}}, {"StartAt": "C", "States": {"C": {"Type": "Succeed"}}}], "End": true},
                "B1": {"Type": "Pass", "Next": "Q"},
                "Z": z
            }}),
            true,
            vec![
                Code::DuplicateStateName,
                Code::InvalidBranchTransition,
                Code::UnreachableState,
            ],
        ),
        // Empty branches at the top and nested; a Map processor with its own graph errors.
        (
            json!({"StartAt": "P", "States": {
                "P": {"Type": "Parallel", "Branches": [], "Next": "M"},
                "M": {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {
                    "I": {"Type": "Parallel", "Branches": [], "Next": "J"},
                    "J": {"Type": "Pass", "Next": "J"},
                    "K": {"Type": "Succeed"}}}, "Next": "Z"},
                "Z": z
            }}),
            true,
            vec![
                Code::SchemaValidationFailed,
                Code::UnreachableState,
                Code::NoTerminalState,
            ],
        ),
        // Machine-level graph rules: StartAt, missing targets from Choice, Default and Catch,
        // Next with End, a state without Next or End (with StartAt missing, reachability is not
        // judged).
        (
            json!({"StartAt": "Nope", "States": {
                "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "Gone"}], "Default": "Lost"},
                "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": {}, "QueryLanguage": "JSONata",
                      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Away"}], "Next": "L", "End": true},
                "L": {"Type": "Pass", "Next": "L"},
                "W": {"Type": "Wait"}
            }}),
            true,
            vec![Code::MissingTransitionTarget, Code::SchemaValidationFailed],
        ),
        // QueryLanguage before States: known while reading; after States: JSONata is found
        // too late (whole machine), JSONPath is what was assumed.
        (
            json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% $states.input %}", "InputPath": "$.x", "End": true}}}),
            true,
            vec![Code::QueryLanguageMismatch],
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% $states.input %}", "InputPath": "$.x", "End": true}}, "QueryLanguage": "JSONata"}),
            false,
            vec![Code::QueryLanguageMismatch],
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% $states.input %}", "End": true}}, "QueryLanguage": "JSONPath"}),
            true,
            vec![Code::QueryLanguageMismatch],
        ),
        // Machine fields checked at the end; a state that cannot be read gives the parse errors
        // only.
        (
            json!({"StartAt": "A", "Version": "2.0", "TimeoutSeconds": 0, "States": {"A": {"Type": "Pass", "End": true, "ResultPath": "$$bad"}}}),
            true,
            vec![Code::SchemaValidationFailed, Code::OutOfRange],
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Nxt": "B", "End": true}, "B": {"Type": "Wat"}}}),
            true,
            vec![Code::SchemaValidationFailed],
        ),
    ];
    let opts = Options::default();
    for (i, (machine, decided, codes)) in cases.iter().enumerate() {
        // The member order as written matters (QueryLanguage after States): serde_json keeps it.
        for text in [
            machine.to_string(),
            serde_json::to_string_pretty(machine).unwrap(),
        ] {
            let whole = validate_text(&text, &opts, false);
            let streamed = validate_text(&text, &opts, true);
            assert_eq!(streamed, whole, "case {i}: {text}");
            let outcome = stream::validate_streaming(&text, &opts);
            assert_eq!(
                matches!(outcome, stream::Outcome::Done(_)),
                *decided,
                "case {i}: decided while reading?"
            );
            let got: Vec<Code> = whole.diagnostics().iter().map(|d| d.code).collect();
            for c in codes {
                assert!(got.contains(c), "case {i}: {c:?} in {got:?}");
            }
        }
    }
}

/// Random machines built to stress the rules that span states — names shared across branches
/// and the top level, transitions into, out of and within branches and Map processors, missing
/// and unreachable states, loops, empty branches, QueryLanguage before or after States —
/// validated while read and as a whole: the same report, every time.
#[test]
fn validation_while_reading_agrees_on_random_graphs() {
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }
    const NAMES: [&str; 7] = ["A", "B", "C", "P", "M", "X", "Z"];
    fn states(r: &mut Rng, depth: usize) -> serde_json::Map<String, Value> {
        let mut out = serde_json::Map::new();
        for _ in 0..1 + r.below(4) {
            let name = NAMES[r.below(NAMES.len())].to_string();
            let next = |r: &mut Rng| -> Value {
                if r.below(4) == 0 {
                    json!({"End": true})
                } else {
                    json!({"Next": NAMES[r.below(NAMES.len())]})
                }
            };
            let mut st = match r.below(if depth < 2 { 6 } else { 3 }) {
                0 => json!({"Type": "Pass"}),
                1 => {
                    let n = NAMES[r.below(NAMES.len())];
                    let d = NAMES[r.below(NAMES.len())];
                    json!({"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": n}], "Default": d})
                }
                2 => json!({"Type": "Succeed"}),
                3 => {
                    let branches: Vec<Value> = (0..r.below(3))
                        .map(|_| {
                            let inner = states(r, depth + 1);
                            let start = NAMES[r.below(NAMES.len())];
                            json!({"StartAt": start, "States": inner})
                        })
                        .collect();
                    json!({"Type": "Parallel", "Branches": branches})
                }
                4 => {
                    let inner = states(r, depth + 1);
                    let start = NAMES[r.below(NAMES.len())];
                    json!({"Type": "Map", "ItemProcessor": {"StartAt": start, "States": inner}})
                }
                _ => {
                    let c = NAMES[r.below(NAMES.len())];
                    json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                           "Parameters": {"FunctionName": "f", "Payload.$": "$"},
                           "Catch": [{"ErrorEquals": ["States.ALL"], "Next": c}]})
                }
            };
            if let (Some(o), Value::Object(t)) = (st.as_object_mut(), next(r)) {
                if !matches!(o["Type"].as_str(), Some("Choice" | "Succeed")) {
                    o.extend(t);
                }
            }
            out.insert(name, st);
        }
        out
    }
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let opts = Options::default();
    let (mut streamed, mut whole_route, mut with_errors, mut on_threads) = (0, 0, 0, 0);
    for i in 0..3_000 {
        let body = states(&mut r, 0);
        let start = NAMES[r.below(NAMES.len())];
        let lang = ["", "JSONPath", "JSONata"][r.below(3)];
        // Members in this order as written (serde_json keeps insertion order).
        let mut m = serde_json::Map::new();
        let before = r.below(2) == 0;
        if before && !lang.is_empty() {
            m.insert("QueryLanguage".into(), json!(lang));
        }
        m.insert("StartAt".into(), json!(start));
        m.insert("States".into(), Value::Object(body));
        if !before && !lang.is_empty() {
            m.insert("QueryLanguage".into(), json!(lang));
        }
        let text = Value::Object(m).to_string();
        let direct = validate_text(&text, &opts, true);
        let whole = validate_text(&text, &opts, false);
        assert_eq!(direct, whole, "machine {i}: {text}");
        // On threads, a state or two per slice: the same outcome when the slices decide.
        let (par, one) = stream::tests::parallel_and_one(&text, &opts, 3, 1);
        if let Some(par) = par {
            assert_eq!(par, one, "machine {i} on threads: {text}");
            on_threads += 1;
        }
        match stream::validate_streaming(&text, &opts) {
            stream::Outcome::Done(_) => streamed += 1,
            stream::Outcome::Whole => whole_route += 1,
            stream::Outcome::Declined => {}
        }
        with_errors += usize::from(!whole.is_valid());
    }
    assert!(
        streamed > 1_000 && whole_route > 100,
        "{streamed} streamed, {whole_route} whole"
    );
    assert!(with_errors > 1_000, "{with_errors} machines with errors");
    assert!(on_threads > 300, "{on_threads} machines decided on threads");
}
