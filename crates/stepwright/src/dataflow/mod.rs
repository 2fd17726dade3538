//! The data flow of a JSONPath state, stage by stage, with AWS's errors.
//!
//! A JSONPath state processes its input in this order (the local runner calls one function per
//! stage):
//!
//! 1. [`apply_input_path`]: `InputPath` selects part of the state input (`null` gives `{}`).
//! 2. [`evaluate_payload`]: `Parameters` builds the effective input from a payload template
//!    (`ItemSelector`, `Credentials` and the `Parameters` of `ItemReader` / `ResultWriter` are
//!    payload templates too).
//! 3. the task runs (or the Pass state takes its `Result`);
//! 4. [`evaluate_payload`] again for `ResultSelector`, with the result as `$`;
//! 5. [`evaluate_assign`]: `Assign` computes the new variables (see its documentation for what
//!    `$` is in each state);
//! 6. [`apply_result_path`]: `ResultPath` puts the result into a copy of the state input;
//! 7. [`apply_output_path`]: `OutputPath` selects part of that (`null` gives `{}`).
//!
//! Every stage takes an [`Env`]: the value `$` stands for at that stage, the context object (`$$`),
//! the variables in scope (`$name`) and the random source of the intrinsic functions. Errors carry
//! AWS's error name and cause text; [`DataFlowError::cause_in_state`] adds the state prefix AWS
//! writes (`An error occurred while executing the state 'X' (entered at the event id #2). `).
//!
//! ```
//! use serde_json::json;
//! use stepwright::dataflow::{self, Env};
//!
//! let input = json!({"order": {"id": 7, "items": [1, 2]}, "debug": true});
//! let env = Env::new(&input);
//! let effective = dataflow::apply_input_path(&Some(Some("$.order".into())), &env)?;
//! let params = dataflow::evaluate_payload(
//!     &json!({"OrderId.$": "$.id", "Count.$": "States.ArrayLength($.items)", "Kind": "batch"}),
//!     &env.with_input(&effective),
//! )?;
//! assert_eq!(params, json!({"OrderId": 7, "Count": 2, "Kind": "batch"}));
//! let output = dataflow::apply_result_path(&input, json!("done"), &Some(Some("$.status".into())))?;
//! assert_eq!(output["status"], "done");
//! # Ok::<(), dataflow::DataFlowError>(())
//! ```

mod template;

use std::fmt;

use serde_json::{Map, Value};

use crate::intrinsics::{self, Call};
use crate::jsonpath::{Miss, Path, Root, Step};
use crate::model::NullablePath;

pub use crate::intrinsics::Env;
pub use template::PayloadTemplate;

/// `States.Runtime`: a path matched nothing, a template is malformed, an intrinsic failed.
pub const RUNTIME: &str = "States.Runtime";
/// `States.ResultPathMatchFailure`: `ResultPath` could not be applied to the state input.
pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";

/// A data-flow stage failed: the AWS error name and cause.
///
/// ```
/// use serde_json::json;
/// use stepwright::dataflow::{self, Env};
/// let input = json!({"a": 1});
/// let err = dataflow::apply_input_path(&Some(Some("$.b".into())), &Env::new(&input)).unwrap_err();
/// assert_eq!(err.error(), "States.Runtime");
/// assert_eq!(err.cause(), "Invalid path '$.b' : No results for path: $['b']");
/// assert_eq!(
///     err.cause_in_state("Prepare", 2),
///     "An error occurred while executing the state 'Prepare' (entered at the event id #2). \
///      Invalid path '$.b' : No results for path: $['b']"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFlowError {
    error: String,
    cause: String,
}

impl DataFlowError {
    /// An error with a name and a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        DataFlowError {
            error: error.into(),
            cause: cause.into(),
        }
    }

    /// The AWS error name, e.g. `States.Runtime`.
    pub fn error(&self) -> &str {
        &self.error
    }

    /// The cause, without the state prefix.
    pub fn cause(&self) -> &str {
        &self.cause
    }

    /// The cause as AWS reports it for a state: `An error occurred while executing the state
    /// '<state>' (entered at the event id #<id>). <cause>`.
    pub fn cause_in_state(&self, state: &str, entered_event_id: u64) -> String {
        format!(
            "An error occurred while executing the state '{state}' (entered at the event id #{entered_event_id}). {}",
            self.cause
        )
    }
}

impl fmt::Display for DataFlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for DataFlowError {}

impl From<intrinsics::IntrinsicError> for DataFlowError {
    fn from(e: intrinsics::IntrinsicError) -> Self {
        DataFlowError::new(e.error(), e.cause())
    }
}

pub(crate) fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `InputPath` or `OutputPath`, compiled: absent (`$`), `null` (`{}`) or a path.
///
/// The runner compiles each state's paths once and applies them on every visit.
#[derive(Debug, Clone, PartialEq)]
pub enum IoPath {
    /// The field is absent: the whole value passes.
    Whole,
    /// The field is `null`: the value becomes `{}`.
    Discard,
    /// A path.
    Path(Path),
}

impl IoPath {
    /// Compiles an `InputPath` / `OutputPath` field of the model.
    pub fn compile(field: &NullablePath) -> Result<IoPath, DataFlowError> {
        match field {
            None => Ok(IoPath::Whole),
            Some(None) => Ok(IoPath::Discard),
            Some(Some(p)) if p == "$" => Ok(IoPath::Whole),
            Some(Some(p)) => Path::parse(p).map(IoPath::Path).map_err(|e| {
                DataFlowError::new(RUNTIME, format!("Invalid path '{p}' : {}", e.message))
            }),
        }
    }

    /// True when the path reads the context object (`$$`).
    pub fn uses_context(&self) -> bool {
        matches!(self, IoPath::Path(p) if p.uses_context())
    }

    /// Applies the path to a value the caller owns, without copying it when the field is absent
    /// (`env.input()` is not used: `value` is `$`).
    pub fn apply_owned(&self, value: Value, env: &Env<'_>) -> Result<Value, DataFlowError> {
        match self {
            IoPath::Whole => Ok(value),
            IoPath::Discard => Ok(Value::Object(Map::new())),
            IoPath::Path(_) => self.apply(&env.with_input(&value)),
        }
    }

    /// Applies the path to `env.input()`.
    pub fn apply(&self, env: &Env<'_>) -> Result<Value, DataFlowError> {
        match self {
            IoPath::Whole => Ok(env.input().clone()),
            IoPath::Discard => Ok(Value::Object(Map::new())),
            IoPath::Path(p) => p.evaluate(&env.roots).map_err(|m| {
                DataFlowError::new(RUNTIME, format!("Invalid path '{p}' : {}", m.detail()))
            }),
        }
    }
}

/// Applies `InputPath` to the state input (`env.input()`): absent keeps it, `null` gives `{}`, a
/// path selects (a path that matches nothing fails with `States.Runtime`).
pub fn apply_input_path(path: &NullablePath, env: &Env<'_>) -> Result<Value, DataFlowError> {
    IoPath::compile(path)?.apply(env)
}

/// Applies `OutputPath` to the state output (`env.input()`), with the same rules as
/// [`apply_input_path`].
pub fn apply_output_path(path: &NullablePath, env: &Env<'_>) -> Result<Value, DataFlowError> {
    IoPath::compile(path)?.apply(env)
}

/// Evaluates a payload template (`Parameters`, `ResultSelector`, `ItemSelector`, `Credentials`,
/// `ItemReader`/`ResultWriter` `Parameters`) against `env`: every key ending in `.$` takes the
/// value of its path, context path, variable path or intrinsic function (and loses the `.$`);
/// objects and arrays are evaluated recursively; other values are copied.
///
/// To evaluate the same template many times, compile it once with [`PayloadTemplate::compile`].
pub fn evaluate_payload(template: &Value, env: &Env<'_>) -> Result<Value, DataFlowError> {
    PayloadTemplate::compile(template)?.evaluate(env)
}

/// Evaluates a JSONPath state's `Assign` block: the variables to set, by name (keys ending in
/// `.$` are evaluated as in a payload template and lose the `.$`; other values are payload
/// templates themselves).
///
/// What `$` is (pass it as `env.input()`), following AWS:
/// - Pass, Task, Parallel, Map: the state's result, before `ResultSelector` (for a Pass state:
///   `Result`, or the effective input when there is none);
/// - Choice (in the chosen rule or with `Default`) and Wait: the state input;
/// - a Catch: the error output (`{"Error": ..., "Cause": ...}`).
///
/// The new values become visible after the state: the runner sets them once the state's own paths
/// (`ResultPath`, `OutputPath`) have been evaluated with the old ones.
pub fn evaluate_assign(
    assign: &Map<String, Value>,
    env: &Env<'_>,
) -> Result<Map<String, Value>, DataFlowError> {
    match PayloadTemplate::compile(&Value::Object(assign.clone()))?.evaluate(env)? {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

/// Evaluates a single path-or-intrinsic field such as a Fail state's `ErrorPath` or `CausePath`:
/// a path that matches nothing fails with AWS's text `The JSONPath '<path>' specified for the
/// field '<field>' could not be found in the input '<input>'`.
///
/// ```
/// use serde_json::json;
/// use stepwright::dataflow::{self, Env};
/// let input = json!({"Error": "Boom"});
/// let env = Env::new(&input);
/// assert_eq!(dataflow::evaluate_field("ErrorPath", "$.Error", &env).unwrap(), json!("Boom"));
/// let err = dataflow::evaluate_field("CausePath", "$.Cause", &env).unwrap_err();
/// assert_eq!(
///     err.cause(),
///     "The JSONPath '$.Cause' specified for the field 'CausePath' could not be found in the input '{\"Error\":\"Boom\"}'"
/// );
/// ```
pub fn evaluate_field(
    field: &str,
    expression: &str,
    env: &Env<'_>,
) -> Result<Value, DataFlowError> {
    template::evaluate_expression(field, expression, env)
}

/// Applies `ResultPath`: where the result goes in a copy of the state input.
///
/// - absent (or `$`): the result replaces the input;
/// - `null`: the result is discarded and the input passes unchanged;
/// - a reference path such as `$.a.b`: the result is set there, creating missing objects on the
///   way (AWS). Setting into something that is not an object (or an array index that does not
///   exist) fails with `States.ResultPathMatchFailure`.
///
/// ```
/// use serde_json::json;
/// use stepwright::dataflow::apply_result_path;
/// let input = json!({"a": {"keep": 1}});
/// let out = apply_result_path(&input, json!(42), &Some(Some("$.a.b.c".into())))?;
/// assert_eq!(out, json!({"a": {"keep": 1, "b": {"c": 42}}}));
/// let err = apply_result_path(&json!("text"), json!(1), &Some(Some("$.x".into()))).unwrap_err();
/// assert_eq!(err.error(), "States.ResultPathMatchFailure");
/// # Ok::<(), stepwright::dataflow::DataFlowError>(())
/// ```
pub fn apply_result_path(
    input: &Value,
    result: Value,
    path: &NullablePath,
) -> Result<Value, DataFlowError> {
    match path {
        None => Ok(result),
        Some(None) => Ok(input.clone()),
        Some(Some(p)) => ResultPath::compile(p)?.apply(input, result),
    }
}

/// A compiled `ResultPath` (a reference path on the state input).
#[derive(Debug, Clone, PartialEq)]
pub struct ResultPath {
    path: Path,
}

impl ResultPath {
    /// Compiles a `ResultPath` value (not `null`: that discards the result, see
    /// [`apply_result_path`]).
    pub fn compile(text: &str) -> Result<ResultPath, DataFlowError> {
        let path = Path::parse_reference(text).map_err(|e| {
            DataFlowError::new(
                RUNTIME,
                format!("Invalid ResultPath '{text}' : {}", e.message),
            )
        })?;
        if *path.root() != Root::Input {
            return Err(DataFlowError::new(
                RUNTIME,
                format!("Invalid ResultPath '{text}' : a ResultPath must start with '$'"),
            ));
        }
        Ok(ResultPath { path })
    }

    /// Puts `result` at the path in a copy of `input`.
    pub fn apply(&self, input: &Value, result: Value) -> Result<Value, DataFlowError> {
        if self.path.is_root() {
            return Ok(result);
        }
        self.apply_owned(input.clone(), result)
    }

    /// Puts `result` at the path in `input`, which the caller gives up (no copy of the input).
    ///
    /// ```
    /// use serde_json::json;
    /// use stepwright::dataflow::ResultPath;
    /// let rp = ResultPath::compile("$.out")?;
    /// assert_eq!(rp.apply_owned(json!({"in": 1}), json!(2))?, json!({"in": 1, "out": 2}));
    /// # Ok::<(), stepwright::dataflow::DataFlowError>(())
    /// ```
    pub fn apply_owned(&self, input: Value, result: Value) -> Result<Value, DataFlowError> {
        let steps = self.path.steps().unwrap_or_default();
        if steps.is_empty() {
            return Ok(result);
        }
        if let Err(why) = check_result_path(&input, &steps) {
            return Err(DataFlowError::new(
                RESULT_PATH_MATCH_FAILURE,
                format!(
                    "Unable to apply ResultPath '{}' to input '{}': {why}",
                    self.path,
                    compact(&input)
                ),
            ));
        }
        let mut out = input;
        let mut cur = &mut out;
        let last = steps.len() - 1;
        for (i, step) in steps.iter().enumerate() {
            cur = match (*step, cur) {
                (Step::Name(name), Value::Object(m)) => {
                    if i == last {
                        m.insert(name.to_string(), result);
                        break;
                    }
                    m.entry(name.to_string())
                        .or_insert_with(|| Value::Object(Map::new()))
                }
                (Step::Index(k), Value::Array(a)) => {
                    let len = a.len() as i64;
                    let j = (if k < 0 { len + k } else { k }) as usize;
                    if i == last {
                        a[j] = result;
                        break;
                    }
                    &mut a[j]
                }
                // `check_result_path` has ruled these out.
                _ => break,
            };
        }
        Ok(out)
    }
}

/// Can `ResultPath` be applied? Missing members are created (as objects); an existing value of
/// the wrong kind, or an array index that does not exist, cannot be.
fn check_result_path(input: &Value, steps: &[Step<'_>]) -> Result<(), String> {
    let mut cur = Some(input);
    let mut at = String::from("$");
    for step in steps {
        match *step {
            Step::Name(name) => {
                cur = match cur {
                    Some(Value::Object(m)) => m.get(name),
                    None => None,
                    Some(_) => return Err(format!("{at} is not an object")),
                };
                at.push('.');
                at.push_str(name);
            }
            Step::Index(k) => {
                let Some(Value::Array(a)) = cur else {
                    return Err(format!("{at} is not an array"));
                };
                let len = a.len() as i64;
                let j = if k < 0 { len + k } else { k };
                if !(0..len).contains(&j) {
                    return Err(format!("{at} has no element [{k}]"));
                }
                cur = Some(&a[j as usize]);
                at.push_str(&format!("[{k}]"));
            }
        }
    }
    Ok(())
}

/// Where a path that failed was evaluated: the JSON AWS prints after "in the input".
fn shown_root(path: &Path, env: &Env<'_>) -> String {
    match path.root() {
        Root::Input => compact(env.input()),
        Root::Context => env
            .roots
            .context
            .map(compact)
            .unwrap_or_else(|| "{}".into()),
        Root::Variable(name) => env
            .roots
            .variables
            .and_then(|v| v.get_variable(name))
            .map(compact)
            .unwrap_or_else(|| compact(env.input())),
    }
}

fn path_miss(field: &str, path: &Path, env: &Env<'_>, _miss: Miss) -> DataFlowError {
    DataFlowError::new(
        RUNTIME,
        format!(
            "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{}'",
            shown_root(path, env)
        ),
    )
}

fn call_error(e: intrinsics::IntrinsicError) -> DataFlowError {
    e.into()
}

fn parse_call(field: &str, text: &str) -> Result<Call, DataFlowError> {
    Call::parse(text).map_err(|e| {
        DataFlowError::new(
            RUNTIME,
            format!(
                "The value for the field '{field}' is not a valid intrinsic function: {}",
                e
            ),
        )
    })
}

#[cfg(test)]
mod tests;
