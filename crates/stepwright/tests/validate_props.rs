//! Property tests of the validator's invariants:
//! - generated well-formed machines are valid, whatever their shape;
//! - validating text and validating the parsed model agree;
//! - removing a state that something points at is reported at exactly those pointers;
//! - any JSON value gives diagnostics (never a panic), each pointer located in the text and the
//!   report in document order.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use stepwright::validate::{validate, validate_str, Options};
use stepwright::{Code, StateMachine};

/// A machine of `kinds.len()` states chained in order; a Choice jumps back to `targets` (so
/// loops are allowed) and falls through by Default; the last state ends.
fn machine(kinds: &[u8], targets: &[usize]) -> Value {
    let n = kinds.len();
    let name = |i: usize| format!("S{i}");
    let mut states = Map::new();
    for (i, k) in kinds.iter().enumerate() {
        let last = i + 1 == n;
        let next = name(i + 1);
        let mut s = match k % 5 {
            0 => json!({"Type": "Pass", "Parameters": {"i": i, "v.$": "$.v"}, "ResultPath": "$.r"}),
            1 => json!({"Type": "Wait", "Seconds": i}),
            2 if !last => json!({"Type": "Choice",
                "Choices": [{"Variable": "$.v", "NumericGreaterThan": i, "Next": name(targets[i] % n)}],
                "Default": next}),
            3 => json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "f", "Payload": "{% $states.input %}"},
                "QueryLanguage": "JSONata",
                "Retry": [{"ErrorEquals": ["States.TaskFailed"], "BackoffRate": 1.5}, {"ErrorEquals": ["States.ALL"]}]}),
            _ => json!({"Type": "Parallel", "Branches": [
                {"StartAt": format!("B{i}"), "States": {format!("B{i}"): {"Type": "Pass", "End": true}}}]}),
        };
        if s["Type"] != "Choice" {
            if last {
                s["End"] = json!(true);
            } else {
                s["Next"] = json!(next);
            }
        }
        states.insert(name(i), s);
    }
    json!({"StartAt": "S0", "States": states})
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        prop_oneof![
            Just("$.x".to_string()),
            Just("States.Array(1)".to_string()),
            Just("{% $x %}".to_string()),
            Just("Pass".to_string()),
            Just("Task".to_string()),
            Just("Choice".to_string()),
            Just("Map".to_string()),
            "[a-zA-Z${}%. ]{0,8}",
        ]
        .prop_map(Value::String),
    ];
    let keys = prop_oneof![
        Just("Type".to_string()),
        Just("StartAt".to_string()),
        Just("States".to_string()),
        Just("Next".to_string()),
        Just("End".to_string()),
        Just("Parameters".to_string()),
        Just("x.$".to_string()),
        Just("Branches".to_string()),
        Just("ItemProcessor".to_string()),
        Just("Choices".to_string()),
        "[a-zA-Z~/]{1,6}",
    ];
    leaf.prop_recursive(6, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn generated_machines_are_valid(kinds in prop::collection::vec(0u8..5, 1..40), targets in prop::collection::vec(0usize..64, 40)) {
        let v = machine(&kinds, &targets);
        let text = serde_json::to_string_pretty(&v).unwrap();
        let report = validate_str(&text, &Options::default());
        prop_assert!(report.is_valid(), "{}", report.render("m.json", &text));
        // The same machine, parsed and validated as a model, gets the same diagnostics.
        let m = StateMachine::from_json(&text).unwrap();
        let mut a: Vec<(Code, String)> = validate(&m, &Options::default()).into_iter().map(|d| (d.code, d.pointer)).collect();
        let mut b: Vec<(Code, String)> = report.diagnostics().into_iter().map(|d| (d.code, d.pointer.clone())).collect();
        a.sort();
        b.sort();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn removing_a_target_is_reported_where_it_is_used(kinds in prop::collection::vec(0u8..3, 2..30), targets in prop::collection::vec(0usize..64, 30), pick in 1usize..30) {
        let mut v = machine(&kinds, &targets);
        let n = kinds.len();
        let victim = format!("S{}", pick % (n - 1) + 1);
        let users: Vec<String> = v["States"].as_object().unwrap().iter().filter(|(name, _)| **name != victim).flat_map(|(name, s)| {
            let mut u = Vec::new();
            if s["Next"] == json!(victim) { u.push(format!("/States/{name}/Next")); }
            if s["Default"] == json!(victim) { u.push(format!("/States/{name}/Default")); }
            if s["Choices"][0]["Next"] == json!(victim) { u.push(format!("/States/{name}/Choices/0/Next")); }
            u
        }).collect();
        v["States"].as_object_mut().unwrap().remove(&victim);
        let text = v.to_string();
        let report = validate_str(&text, &Options::default());
        let mut missing: Vec<String> = report.diagnostics().into_iter()
            .filter(|d| d.code == Code::MissingTransitionTarget)
            .map(|d| d.pointer.clone()).collect();
        missing.sort();
        let mut want = users;
        want.sort();
        prop_assert_eq!(missing, want);
    }

    #[test]
    fn any_json_gives_located_ordered_diagnostics(v in arb_json()) {
        let text = serde_json::to_string_pretty(&v).unwrap();
        let report = validate_str(&text, &Options::default());
        let mut last = 0;
        for (d, span) in report.iter() {
            let span = span.expect("every diagnostic of a text has a place");
            prop_assert!(span.start <= span.end && span.end <= text.len(), "{d}");
            prop_assert!(span.start >= last, "not in document order");
            last = span.start;
        }
        let _ = report.render("x.json", &text);
    }
}
