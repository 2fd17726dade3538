//! The JSONPath data flow against executions recorded on AWS: every localstack case whose machine
//! is a chain of JSONPath Pass, Succeed and Fail states runs through `stepwright::dataflow`
//! (InputPath → Parameters → Result → Assign → ResultPath → OutputPath, variables committed after
//! the state; Fail's Error/ErrorPath/Cause/CausePath), and the outcome is compared with AWS's.
//!
//! Clean cases (tags without `snapshot_placeholders` and `nondeterministic`) must match status,
//! output, error and cause exactly (cause as JSON when `cause_is_json`); the others their status
//! and error name. The pass count is printed per folder.

use serde_json::{json, Map, Value};
use stepwright::dataflow::{self, DataFlowError, Env};
use stepwright::intrinsics::SeededRandom;
use testkit::{conformance_dir, json_eq, json_files, read_json, Tally};

fn nullable(v: Option<&Value>) -> Option<Option<String>> {
    v.map(|x| x.as_str().map(str::to_string))
}

enum Outcome {
    Succeeded(Value),
    Failed(String, String),
}

/// True when every state is a JSONPath Pass, Succeed or Fail state.
fn supported(def: &Value) -> bool {
    if def.get("QueryLanguage").is_some_and(|q| q != "JSONPath") {
        return false;
    }
    def["States"].as_object().is_some_and(|states| {
        states.values().all(|s| {
            matches!(s["Type"].as_str(), Some("Pass" | "Succeed" | "Fail"))
                && s.get("QueryLanguage").is_none_or(|q| q == "JSONPath")
        })
    })
}

/// Runs a chain of Pass/Succeed/Fail states from `StartAt`.
fn run(def: &Value, input: &Value) -> Result<Outcome, (String, DataFlowError)> {
    let states = def["States"].as_object().expect("States");
    let rng = SeededRandom::new(1);
    let mut vars = Map::new();
    let mut current = def["StartAt"].as_str().unwrap_or("").to_string();
    let mut data = input.clone();
    for _ in 0..1000 {
        let state = &states[&current];
        let context = json!({
            "Execution": {"Id": "arn:aws:states:us-east-1:111111111111:execution:m:e", "Input": input,
                          "Name": "e", "RoleArn": "arn:aws:iam::111111111111:role/r",
                          "StartTime": "2024-01-01T00:00:00.000Z"},
            "State": {"EnteredTime": "2024-01-01T00:00:00.000Z", "Name": current},
            "StateMachine": {"Id": "arn:aws:states:us-east-1:111111111111:stateMachine:m", "Name": "m"}
        });
        let env = Env::new(&data)
            .with_context(&context)
            .with_variables(&vars)
            .with_random(&rng);
        let name = current.clone();
        let wrap = |e: DataFlowError| (name.clone(), e);
        match state["Type"].as_str() {
            Some("Fail") => {
                let error = match (state.get("Error"), state.get("ErrorPath")) {
                    (Some(e), _) => e.as_str().map(str::to_string),
                    (_, Some(p)) => {
                        dataflow::evaluate_field("ErrorPath", p.as_str().unwrap_or(""), &env)
                            .map_err(wrap)?
                            .as_str()
                            .map(str::to_string)
                    }
                    _ => None,
                };
                let cause = match (state.get("Cause"), state.get("CausePath")) {
                    (Some(c), _) => c.as_str().map(str::to_string),
                    (_, Some(p)) => {
                        dataflow::evaluate_field("CausePath", p.as_str().unwrap_or(""), &env)
                            .map_err(wrap)?
                            .as_str()
                            .map(str::to_string)
                    }
                    _ => None,
                };
                return Ok(Outcome::Failed(
                    error.unwrap_or_else(|| "None".into()),
                    cause.unwrap_or_else(|| "None".into()),
                ));
            }
            Some("Succeed") => {
                let effective = dataflow::apply_input_path(&nullable(state.get("InputPath")), &env)
                    .map_err(wrap)?;
                let out = dataflow::apply_output_path(
                    &nullable(state.get("OutputPath")),
                    &env.with_input(&effective),
                )
                .map_err(wrap)?;
                return Ok(Outcome::Succeeded(out));
            }
            _ => {}
        }
        // Pass.
        let effective =
            dataflow::apply_input_path(&nullable(state.get("InputPath")), &env).map_err(wrap)?;
        let effective = match state.get("Parameters") {
            Some(t) => dataflow::evaluate_payload(t, &env.with_input(&effective)).map_err(wrap)?,
            None => effective,
        };
        let result = state.get("Result").cloned().unwrap_or(effective);
        let assigned = match state.get("Assign").and_then(Value::as_object) {
            Some(a) => Some(dataflow::evaluate_assign(a, &env.with_input(&result)).map_err(wrap)?),
            None => None,
        };
        let output = dataflow::apply_result_path(&data, result, &nullable(state.get("ResultPath")))
            .map_err(wrap)?;
        let output = dataflow::apply_output_path(
            &nullable(state.get("OutputPath")),
            &env.with_input(&output),
        )
        .map_err(wrap)?;
        if let Some(a) = assigned {
            vars.extend(a);
        }
        data = output;
        if state["End"] == json!(true) {
            return Ok(Outcome::Succeeded(data));
        }
        current = state["Next"].as_str().unwrap_or("").to_string();
    }
    Ok(Outcome::Failed("loop".into(), "loop".into()))
}

/// The id of the `*StateEntered` event of a state, from the recorded history.
fn entered_event_id(case: &Value, state: &str) -> u64 {
    case["history"]
        .as_array()
        .and_then(|h| {
            h.iter().rev().find(|e| {
                e["type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("StateEntered"))
                    && e["stateEnteredEventDetails"]["name"] == state
            })
        })
        .and_then(|e| e["id"].as_u64())
        .unwrap_or(0)
}

#[test]
fn localstack_pass_chains() {
    let root = conformance_dir().join("localstack");
    let mut tally = Tally::new();
    let mut kinds = Tally::new();
    for file in json_files(&root) {
        let case = read_json(&file);
        let Some(def) = case.get("definition") else {
            continue;
        };
        if !supported(def) {
            continue;
        }
        let folder = file
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|f| f.to_str())
            .unwrap_or("?")
            .to_string();
        let tags: Vec<&str> = case["tags"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let clean = !tags.contains(&"snapshot_placeholders") && !tags.contains(&"nondeterministic");
        let expected = &case["expected"];
        let cause_matches = |got: &str| {
            let want = expected["cause"].as_str().unwrap_or("None");
            if expected["cause_is_json"] == json!(true) {
                match (
                    serde_json::from_str::<Value>(got),
                    serde_json::from_str::<Value>(want),
                ) {
                    (Ok(a), Ok(b)) => json_eq(&a, &b),
                    _ => false,
                }
            } else {
                got == want
            }
        };
        let ok = match (expected["status"].as_str(), run(def, &case["input"])) {
            (Some("SUCCEEDED"), Ok(Outcome::Succeeded(out))) => {
                !clean || json_eq(&out, &expected["output"])
            }
            (Some("FAILED"), Ok(Outcome::Failed(error, cause))) => {
                error == expected["error"].as_str().unwrap_or("None")
                    && (!clean || cause_matches(&cause))
            }
            (Some("FAILED"), Err((state, e))) => {
                e.error() == expected["error"].as_str().unwrap_or("")
                    && (!clean
                        || cause_matches(
                            &e.cause_in_state(&state, entered_event_id(&case, &state)),
                        ))
            }
            _ => false,
        };
        let name = file.file_name().and_then(|f| f.to_str()).unwrap_or("?");
        if ok {
            tally.record(&folder, true);
        } else {
            tally.fail(&folder, format!("{folder}/{name}: expected {expected}"));
        }
        kinds.record(
            if clean {
                "clean"
            } else {
                "masked (status and error only)"
            },
            ok,
        );
    }
    tally.report("localstack: JSONPath Pass/Succeed/Fail chains through stepwright::dataflow");
    kinds.report("localstack: JSONPath Pass/Succeed/Fail chains, by kind");
    for f in tally.failures() {
        println!("  FAIL {f}");
    }
    let (passed, total) = tally.totals();
    assert!(total >= 50, "expected at least 50 cases, found {total}");
    assert!(
        passed + ALLOWED_FAILURES >= total,
        "{passed}/{total} Pass-chain cases match AWS; at most {ALLOWED_FAILURES} may fail"
    );
}

/// One case is known to fail: intrinsic_functions/TestMathOperations_test_math_random_seeded
/// recorded the placeholder "RandomNumberGenerated" as its output (localstack masked the seeded
/// random number) without tagging the case `snapshot_placeholders`.
const ALLOWED_FAILURES: usize = 1;

/// The TestState cases of Pass states: the data after each stage (`afterInputPath`,
/// `afterParameters`, `afterResultSelector`, `afterResultPath`) and the output, as AWS's
/// TestState API returned them.
#[test]
fn localstack_test_state_pass_stages() {
    let dir = conformance_dir().join("localstack").join("test_state");
    let mut tally = Tally::new();
    for file in json_files(&dir) {
        let case = read_json(&file);
        let state = &case["state_definition"];
        if state["Type"] != "Pass" {
            continue;
        }
        let input = &case["input"];
        let env = Env::new(input);
        let after_input =
            dataflow::apply_input_path(&nullable(state.get("InputPath")), &env).unwrap();
        let after_parameters = match state.get("Parameters") {
            Some(t) => dataflow::evaluate_payload(t, &env.with_input(&after_input)).unwrap(),
            None => after_input.clone(),
        };
        let result = state
            .get("Result")
            .cloned()
            .unwrap_or(after_parameters.clone());
        let after_result_path =
            dataflow::apply_result_path(input, result.clone(), &nullable(state.get("ResultPath")))
                .unwrap();
        let output = dataflow::apply_output_path(
            &nullable(state.get("OutputPath")),
            &env.with_input(&after_result_path),
        )
        .unwrap();
        let expected = &case["expected"];
        let inspection = &expected["inspectionData"];
        let stages = [
            ("afterInputPath", &after_input),
            ("afterParameters", &after_parameters),
            ("afterResultSelector", &result),
            ("afterResultPath", &after_result_path),
        ];
        let name = file
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("?")
            .to_string();
        for (stage, got) in stages {
            if let Some(want) = inspection.get(stage) {
                if json_eq(got, want) {
                    tally.record(stage, true);
                } else {
                    tally.fail(stage, format!("{name}: {stage} {got} != {want}"));
                }
            }
        }
        if json_eq(&output, &expected["output"]) {
            tally.record("output", true);
        } else {
            tally.fail("output", format!("{name}: output {output}"));
        }
    }
    tally.report("localstack test_state: Pass state stages");
    for f in tally.failures() {
        println!("  FAIL {f}");
    }
    let (passed, total) = tally.totals();
    assert!(
        total >= 20,
        "expected at least 20 stage checks, found {total}"
    );
    assert_eq!(passed, total);
}
