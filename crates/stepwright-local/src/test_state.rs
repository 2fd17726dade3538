//! A TestState-style entry point: run one state on an input (with a mocked task result or
//! error) and get its output, next state, error, and the data after each processing stage, as
//! the Step Functions `TestState` API returns them.

use std::sync::Arc;

use serde_json::{Map, Value};
use stepwright::{QueryLanguage, State};

use crate::error::SetupError;
use crate::exec::{Exec, Flow, Frame, Inspection, TestOutcome};
use crate::mock::{MockResponse, MockTestCase};
use crate::program::{compile_single, Graph, Program};
use crate::runner::{Config, Options};
use crate::tasks::Registry;

/// How much TestState reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InspectionLevel {
    /// Output, next state, error and cause only.
    #[default]
    Info,
    /// Also the data after each processing stage.
    Debug,
    /// As `Debug` (HTTP request/response details do not apply locally).
    Trace,
}

/// The outcome of a TestState run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStatus {
    /// The state succeeded.
    Succeeded,
    /// The state failed and no Retry or Catch handles the error.
    Failed,
    /// A Retrier would retry the error.
    Retriable,
    /// A Catcher caught the error (see `next_state` and `output`).
    CaughtError,
}

impl TestStatus {
    /// `SUCCEEDED`, `FAILED`, `RETRIABLE` or `CAUGHT_ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Succeeded => "SUCCEEDED",
            TestStatus::Failed => "FAILED",
            TestStatus::Retriable => "RETRIABLE",
            TestStatus::CaughtError => "CAUGHT_ERROR",
        }
    }
}

/// What to test.
#[derive(Debug, Clone, Default)]
pub struct TestStateRequest {
    /// The state's definition (one state's JSON object).
    pub definition: Value,
    /// The state's input.
    pub input: Value,
    /// For a Task: the mocked result (`Return`) or error (`Throw`).
    pub mock: Option<MockResponse>,
    /// How much to report.
    pub inspection_level: InspectionLevel,
    /// The state's name (AWS uses the name you give; default `TestState`).
    pub state_name: Option<String>,
    /// Workflow variables visible to the state.
    pub variables: Map<String, Value>,
    /// The query language inherited from the (absent) machine. Default JSONPath.
    pub query_language: Option<QueryLanguage>,
}

/// What TestState reports.
#[derive(Debug, Clone, PartialEq)]
pub struct TestStateResult {
    /// The outcome.
    pub status: TestStatus,
    /// The state output (success, or caught error).
    pub output: Option<Value>,
    /// The error name (failed, retriable or caught).
    pub error: Option<String>,
    /// The cause.
    pub cause: Option<String>,
    /// The next state (none when the state ends the execution or fails).
    pub next_state: Option<String>,
    /// `inspectionData` (DEBUG and TRACE levels).
    pub inspection_data: Option<Value>,
}

impl TestStateResult {
    /// The result in the TestState API response shape.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("status".into(), Value::String(self.status.as_str().into()));
        if let Some(o) = &self.output {
            m.insert("output".into(), o.clone());
        }
        if let Some(e) = &self.error {
            m.insert("error".into(), Value::String(e.clone()));
        }
        if let Some(c) = &self.cause {
            m.insert("cause".into(), Value::String(c.clone()));
        }
        if let Some(n) = &self.next_state {
            m.insert("nextState".into(), Value::String(n.clone()));
        }
        if let Some(i) = &self.inspection_data {
            m.insert("inspectionData".into(), i.clone());
        }
        Value::Object(m)
    }
}

fn inspection_json(i: &Inspection) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: &Option<Value>| {
        if let Some(v) = v {
            m.insert(k.into(), v.clone());
        }
    };
    put("input", &i.input);
    put("afterInputPath", &i.after_input_path);
    put("afterParameters", &i.after_parameters);
    put("afterArguments", &i.after_arguments);
    put("result", &i.result);
    put("afterResultSelector", &i.after_result_selector);
    put("afterResultPath", &i.after_result_path);
    Value::Object(m)
}

/// Runs one state as the TestState API does.
///
/// ```
/// use serde_json::json;
/// use stepwright_local::test_state::{test_state, InspectionLevel, TestStateRequest, TestStatus};
///
/// let r = test_state(&TestStateRequest {
///     definition: json!({"Type": "Pass", "InputPath": "$.a", "Parameters": {"b.$": "$.x"}, "Next": "After"}),
///     input: json!({"a": {"x": 1}}),
///     inspection_level: InspectionLevel::Debug,
///     ..Default::default()
/// })?;
/// assert_eq!(r.status, TestStatus::Succeeded);
/// assert_eq!(r.output, Some(json!({"b": 1})));
/// assert_eq!(r.next_state.as_deref(), Some("After"));
/// assert_eq!(r.inspection_data.unwrap()["afterInputPath"], json!({"x": 1}));
/// # Ok::<(), stepwright_local::SetupError>(())
/// ```
pub fn test_state(req: &TestStateRequest) -> Result<TestStateResult, SetupError> {
    let name = req.state_name.clone().unwrap_or_else(|| "TestState".into());
    // Parse the state through a one-state machine so that it gets the model's strict checks.
    let mut states = Map::new();
    let mut def = req.definition.clone();
    // Transitions may name states that do not exist here; the model only checks the shape.
    if let Some(o) = def.as_object_mut() {
        o.remove("QueryLanguage")
            .map(|q| o.insert("QueryLanguage".into(), q));
    }
    states.insert(name.clone(), def);
    let machine_json = serde_json::json!({"StartAt": name, "States": states});
    let machine = stepwright::StateMachine::from_value(&machine_json)
        .map_err(|e| SetupError::new(format!("invalid state definition: {e}")))?;
    let state: &State = &machine.states[0];
    let lang = req.query_language.unwrap_or_default();
    let (node, targets) = compile_single(&name, state, lang)?;
    let mut mock = MockTestCase::default();
    if let Some(m) = &req.mock {
        mock = MockTestCase::single(&name, m.clone());
    }
    let config = Config {
        options: Options::default(),
        registry: Registry::default(),
        mock: req.mock.as_ref().map(|_| mock),
        store: None,
        history_hint: Default::default(),
        observer: None,
    };
    let program = Program {
        root: Graph {
            nodes: vec![node],
            start: 0,
        },
        timeout_seconds: None,
    };
    let input = Arc::new(req.input.clone());
    let mut ex = Exec::new(&config, &program, input.clone());
    let inspecting = req.inspection_level != InspectionLevel::Info;
    ex.inspect = Some(Box::new(Inspection {
        input: Some(req.input.clone()),
        ..Inspection::default()
    }));
    ex.single_attempt = true;
    let mut vars = crate::vars::Vars::default();
    let assigned: Vec<(Arc<str>, Value)> = req
        .variables
        .iter()
        .map(|(k, v)| (Arc::from(k.as_str()), v.clone()))
        .collect();
    vars.assign(&assigned);
    let mut frame = Frame {
        prev: 0,
        vars,
        record: true,
    };
    let res = ex.run_node(&program.root.nodes[0], input, &mut frame, None);
    let inspection = ex
        .inspect
        .take()
        .filter(|_| inspecting)
        .map(|i| inspection_json(&i));
    let outcome = ex.test_outcome.take();
    let next_name = |i: usize| targets.get(i).cloned();
    Ok(match res {
        Ok(flow) => {
            let (next, out) = match flow {
                Flow::Next(i, out) => (next_name(i), out),
                Flow::End(out) => (None, out),
            };
            let (status, error, cause) = match outcome {
                Some(TestOutcome::Caught(f)) => (TestStatus::CaughtError, f.error, f.cause),
                _ => (TestStatus::Succeeded, None, None),
            };
            TestStateResult {
                status,
                output: Some((*out).clone()),
                error,
                cause,
                next_state: next,
                inspection_data: inspection,
            }
        }
        Err(f) => TestStateResult {
            status: if outcome == Some(TestOutcome::Retriable) {
                TestStatus::Retriable
            } else {
                TestStatus::Failed
            },
            output: None,
            error: f.error,
            cause: f.cause,
            next_state: None,
            inspection_data: inspection,
        },
    })
}
