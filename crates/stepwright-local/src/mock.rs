//! The AWS Step Functions Local mock configuration format, unchanged, so that existing
//! `MockConfigFile.json` files work.
//!
//! ```json
//! {
//!   "StateMachines": {
//!     "LambdaSQSIntegration": {
//!       "TestCases": { "RetryPath": { "LambdaState": "MockedLambdaRetry" } }
//!     }
//!   },
//!   "MockedResponses": {
//!     "MockedLambdaRetry": {
//!       "0":   { "Throw": { "Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready." } },
//!       "1-2": { "Throw": { "Error": "Lambda.TimeoutException", "Cause": "Lambda timed out." } },
//!       "3":   { "Return": { "StatusCode": 200, "Payload": { "StatusCode": 200, "body": "Hello from Lambda!" } } }
//!     }
//!   }
//! }
//! ```
//!
//! A test case maps state names to mocked responses. The keys of a mocked response are attempt
//! numbers (`"0"` is the first call of the state, `"1"` its first retry, ...) or inclusive ranges
//! (`"1-2"`); they must cover `0..n` without gaps or overlaps. Each attempt either returns a value
//! (`Return`: the task's result, shaped as the real service returns it) or throws an error
//! (`Throw`: `Error` and `Cause`). Numbering restarts each time the state is entered (so each Map
//! iteration and each loop round starts at `"0"`), as in Step Functions Local; an attempt beyond
//! the last defined key is an error naming the state and the attempt.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::error::SetupError;

/// One mocked attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum MockResponse {
    /// The task succeeds with this result.
    Return(Value),
    /// The task fails with this error and cause.
    Throw {
        /// The error name.
        error: String,
        /// The cause.
        cause: String,
    },
}

/// A parsed mock configuration file.
#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    /// state machine name → test case name → state name → mocked response name.
    machines: HashMap<String, HashMap<String, Vec<(String, String)>>>,
    /// mocked response name → responses by attempt.
    responses: HashMap<String, Arc<Vec<MockResponse>>>,
}

/// The mocks of one test case: state name → responses by attempt.
#[derive(Debug, Clone, Default)]
pub struct MockTestCase {
    /// The state machine name the test case belongs to.
    pub state_machine: String,
    /// The test case name.
    pub name: String,
    states: HashMap<String, (String, Arc<Vec<MockResponse>>)>,
}

impl MockTestCase {
    /// The mocked response for `state` at `attempt` (0 = first call). `None` when the state is
    /// not mocked; `Some(Err(..))` when it is mocked but has no response for that attempt.
    pub fn response(&self, state: &str, attempt: u32) -> Option<Result<&MockResponse, String>> {
        let (name, responses) = self.states.get(state)?;
        Some(responses.get(attempt as usize).ok_or_else(|| {
            format!(
                "the mocked response '{name}' of test case '{}' has no entry for attempt {attempt} of state '{state}' (it defines attempts 0-{})",
                self.name,
                responses.len().saturating_sub(1)
            )
        }))
    }

    /// A test case mocking one state with one response for every attempt.
    pub fn single(state: &str, response: MockResponse) -> MockTestCase {
        let mut states = HashMap::new();
        states.insert(
            state.to_string(),
            ("TestState".to_string(), Arc::new(vec![response; 1])),
        );
        MockTestCase {
            state_machine: String::new(),
            name: "TestState".into(),
            states,
        }
    }

    /// The names of the mocked states.
    pub fn states(&self) -> impl Iterator<Item = &str> {
        self.states.keys().map(String::as_str)
    }
}

fn obj<'a>(v: &'a Value, pointer: &str) -> Result<&'a serde_json::Map<String, Value>, SetupError> {
    v.as_object()
        .ok_or_else(|| SetupError::new("expected a JSON object").at(pointer))
}

fn ptr(base: &str, key: &str) -> String {
    format!("{base}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// Parses an attempt key: `"3"` → (3, 3), `"1-2"` → (1, 2).
fn parse_range(key: &str) -> Option<(usize, usize)> {
    let key = key.trim();
    match key.split_once('-') {
        None => key.parse().ok().map(|n| (n, n)),
        Some((a, b)) => {
            let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a <= b).then_some((a, b))
        }
    }
}

impl MockConfig {
    /// Parses a mock configuration file's text.
    pub fn from_json(text: &str) -> Result<MockConfig, SetupError> {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            SetupError::new(format!("the mock configuration is not valid JSON: {e}"))
        })?;
        MockConfig::from_value(&v)
    }

    /// Reads a mock configuration file.
    pub fn from_file(path: &std::path::Path) -> Result<MockConfig, SetupError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SetupError::new(format!(
                "cannot read the mock configuration {}: {e}",
                path.display()
            ))
        })?;
        MockConfig::from_json(&text).map_err(|e| SetupError {
            message: format!("{}: {}", path.display(), e.message),
            pointer: e.pointer,
        })
    }

    /// Reads a parsed mock configuration, checking its structure.
    pub fn from_value(v: &Value) -> Result<MockConfig, SetupError> {
        let root = obj(v, "")?;
        for k in root.keys() {
            if k != "StateMachines" && k != "MockedResponses" {
                return Err(SetupError::new(format!(
                    "unknown field '{k}' (expected StateMachines and MockedResponses)"
                ))
                .at(ptr("", k)));
            }
        }
        let mut cfg = MockConfig::default();
        if let Some(resp) = root.get("MockedResponses") {
            for (name, steps) in obj(resp, "/MockedResponses")? {
                let base = ptr("/MockedResponses", name);
                let mut ranged: Vec<(usize, usize, MockResponse, String)> = Vec::new();
                for (key, step) in obj(steps, &base)? {
                    let p = ptr(&base, key);
                    let (a, b) = parse_range(key).ok_or_else(|| {
                        SetupError::new(format!(
                            "'{key}' is not an attempt number (\"0\") or range (\"1-2\")"
                        ))
                        .at(p.clone())
                    })?;
                    let step_obj = obj(step, &p)?;
                    let r = match (step_obj.get("Return"), step_obj.get("Throw")) {
                        (Some(_), Some(_)) => {
                            return Err(SetupError::new(
                                "a mocked response has either Return or Throw, not both",
                            )
                            .at(p))
                        }
                        (Some(ret), None) => MockResponse::Return(ret.clone()),
                        (None, Some(th)) => {
                            let tp = format!("{p}/Throw");
                            let t = obj(th, &tp)?;
                            let field =
                                |f: &str| -> Result<String, SetupError> {
                                    match t.get(f) {
                                        Some(Value::String(s)) => Ok(s.clone()),
                                        Some(_) => {
                                            Err(SetupError::new(format!("{f} must be a string"))
                                                .at(format!("{tp}/{f}")))
                                        }
                                        None => Err(SetupError::new(format!("Throw needs {f}"))
                                            .at(tp.clone())),
                                    }
                                };
                            MockResponse::Throw {
                                error: field("Error")?,
                                cause: field("Cause")?,
                            }
                        }
                        (None, None) => {
                            return Err(
                                SetupError::new("a mocked response needs Return or Throw").at(p)
                            )
                        }
                    };
                    ranged.push((a, b, r, p));
                }
                ranged.sort_by_key(|r| r.0);
                let mut list = Vec::new();
                for (a, b, r, p) in ranged {
                    if a != list.len() {
                        return Err(SetupError::new(format!(
                            "attempts must be numbered consecutively from 0: expected attempt {} next, found {a}",
                            list.len()
                        ))
                        .at(p));
                    }
                    for _ in a..=b {
                        list.push(r.clone());
                    }
                }
                if list.is_empty() {
                    return Err(
                        SetupError::new("a mocked response needs at least attempt \"0\"").at(base),
                    );
                }
                cfg.responses.insert(name.clone(), Arc::new(list));
            }
        }
        if let Some(sms) = root.get("StateMachines") {
            for (sm, def) in obj(sms, "/StateMachines")? {
                let base = ptr("/StateMachines", sm);
                let d = obj(def, &base)?;
                let mut cases = HashMap::new();
                if let Some(tcs) = d.get("TestCases") {
                    let tbase = format!("{base}/TestCases");
                    for (tc, states) in obj(tcs, &tbase)? {
                        let cbase = ptr(&tbase, tc);
                        let mut list = Vec::new();
                        for (state, resp) in obj(states, &cbase)? {
                            let rp = ptr(&cbase, state);
                            let Value::String(resp) = resp else {
                                return Err(SetupError::new(
                                    "expected the name of a mocked response",
                                )
                                .at(rp));
                            };
                            if !cfg.responses.contains_key(resp) {
                                return Err(SetupError::new(format!(
                                    "no mocked response named '{resp}' in MockedResponses"
                                ))
                                .at(rp));
                            }
                            list.push((state.clone(), resp.clone()));
                        }
                        cases.insert(tc.clone(), list);
                    }
                }
                cfg.machines.insert(sm.clone(), cases);
            }
        }
        Ok(cfg)
    }

    /// The test case `test_case` of state machine `machine`; with `machine` `None`, the test
    /// case must exist under exactly one state machine.
    pub fn test_case(
        &self,
        machine: Option<&str>,
        test_case: &str,
    ) -> Result<MockTestCase, SetupError> {
        let machine_name = match machine {
            Some(m) if self.machines.contains_key(m) => m.to_string(),
            Some(m) => {
                let mut known: Vec<&str> = self.machines.keys().map(String::as_str).collect();
                known.sort();
                return Err(SetupError::new(format!(
                    "no state machine '{m}' in the mock configuration (it has: {})",
                    known.join(", ")
                )));
            }
            None => {
                let mut having: Vec<&str> = self
                    .machines
                    .iter()
                    .filter(|(_, cases)| cases.contains_key(test_case))
                    .map(|(m, _)| m.as_str())
                    .collect();
                having.sort();
                match having.as_slice() {
                    [one] => one.to_string(),
                    [] => {
                        return Err(SetupError::new(format!(
                            "no state machine in the mock configuration has a test case '{test_case}'"
                        )))
                    }
                    many => {
                        return Err(SetupError::new(format!(
                            "test case '{test_case}' exists for several state machines ({}): name the state machine",
                            many.join(", ")
                        )))
                    }
                }
            }
        };
        let cases = &self.machines[&machine_name];
        let states = cases.get(test_case).ok_or_else(|| {
            let mut known: Vec<&str> = cases.keys().map(String::as_str).collect();
            known.sort();
            SetupError::new(format!(
                "state machine '{machine_name}' has no test case '{test_case}' (it has: {})",
                known.join(", ")
            ))
        })?;
        Ok(MockTestCase {
            state_machine: machine_name.clone(),
            name: test_case.to_string(),
            states: states
                .iter()
                .map(|(s, r)| (s.clone(), (r.clone(), self.responses[r].clone())))
                .collect(),
        })
    }

    /// The state machine names.
    pub fn state_machines(&self) -> impl Iterator<Item = &str> {
        self.machines.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const AWS_EXAMPLE: &str = r#"{
      "StateMachines":{
        "LambdaSQSIntegration":{
          "TestCases":{
            "HappyPath":{ "LambdaState":"MockedLambdaSuccess", "SQSState":"MockedSQSSuccess" },
            "RetryPath":{ "LambdaState":"MockedLambdaRetry", "SQSState":"MockedSQSSuccess" },
            "HybridPath":{ "LambdaState":"MockedLambdaSuccess" }
          }
        }
      },
      "MockedResponses":{
        "MockedLambdaSuccess":{ "0":{ "Return":{ "StatusCode":200, "Payload":{ "StatusCode":200, "body":"Hello from Lambda!" } } } },
        "LambdaMockedResourceNotReady":{ "0":{ "Throw":{ "Error":"Lambda.ResourceNotReadyException", "Cause":"Lambda resource is not ready." } } },
        "MockedSQSSuccess":{ "0":{ "Return":{ "MD5OfMessageBody":"3bcb6e8e-7h85-4375-b0bc-1a59812c6e51", "MessageId":"3bcb6e8e-8b51-4375-b0bc-1a59812c6e51" } } },
        "MockedLambdaRetry":{
          "0":{ "Throw":{ "Error":"Lambda.ResourceNotReadyException", "Cause":"Lambda resource is not ready." } },
          "1-2":{ "Throw":{ "Error":"Lambda.TimeoutException", "Cause":"Lambda timed out." } },
          "3":{ "Return":{ "StatusCode":200, "Payload":{ "StatusCode":200, "body":"Hello from Lambda!" } } }
        }
      }
    }"#;

    #[test]
    fn reads_the_aws_example() {
        let cfg = MockConfig::from_json(AWS_EXAMPLE).unwrap();
        let tc = cfg.test_case(None, "RetryPath").unwrap();
        assert_eq!(tc.state_machine, "LambdaSQSIntegration");
        let err = |a| match tc.response("LambdaState", a).unwrap().unwrap() {
            MockResponse::Throw { error, .. } => error.clone(),
            MockResponse::Return(_) => "return".into(),
        };
        assert_eq!(err(0), "Lambda.ResourceNotReadyException");
        assert_eq!(err(1), "Lambda.TimeoutException");
        assert_eq!(err(2), "Lambda.TimeoutException");
        assert_eq!(err(3), "return");
        assert!(tc.response("LambdaState", 4).unwrap().is_err());
        assert!(tc.response("Unmocked", 0).is_none());
        assert_eq!(
            tc.response("SQSState", 0).unwrap().unwrap(),
            &MockResponse::Return(
                json!({"MD5OfMessageBody":"3bcb6e8e-7h85-4375-b0bc-1a59812c6e51","MessageId":"3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"})
            )
        );
    }

    #[test]
    fn rejects_bad_files_with_a_pointer() {
        let gap =
            r#"{"StateMachines":{},"MockedResponses":{"R":{"0":{"Return":1},"2":{"Return":2}}}}"#;
        let e = MockConfig::from_json(gap).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/MockedResponses/R/2"));
        let both =
            r#"{"MockedResponses":{"R":{"0":{"Return":1,"Throw":{"Error":"a","Cause":"b"}}}}}"#;
        assert!(MockConfig::from_json(both)
            .unwrap_err()
            .message
            .contains("not both"));
        let missing =
            r#"{"StateMachines":{"M":{"TestCases":{"T":{"S":"Nope"}}}},"MockedResponses":{}}"#;
        let e = MockConfig::from_json(missing).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/StateMachines/M/TestCases/T/S"));
        let cfg = MockConfig::from_json(AWS_EXAMPLE).unwrap();
        assert!(cfg.test_case(Some("Other"), "HappyPath").is_err());
        assert!(cfg
            .test_case(Some("LambdaSQSIntegration"), "Nope")
            .unwrap_err()
            .message
            .contains("HappyPath"));
    }
}
