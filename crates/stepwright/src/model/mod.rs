//! The typed Amazon States Language model.
//!
//! One [`StateMachine`] is what the builder produces, the validator checks, the local runner
//! executes, the renderer draws and the IAM generator reads. Parsing is strict (an unknown field is
//! an error with its JSON pointer, as AWS rejects it) and JSON → model → JSON round-trips every
//! definition AWS accepts.
//!
//! Field order on output is fixed (the order of the struct fields), so the JSON a machine renders
//! to is deterministic.

pub(crate) mod json;
pub(crate) mod read;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::diagnostics::{Diagnostic, ParseError};

/// A JSON object: payload templates, `Assign` blocks and the like keep their key order.
pub type Object = Map<String, Value>;

/// The states of a machine, branch or Map processor, in definition order.
///
/// Keyed with a fast seeded hasher ([`StatesHasher`]): a machine's state names are looked up many
/// times by the validator and the runner. Create one with `States::default()`.
pub type States = IndexMap<String, State, StatesHasher>;

/// The hasher of [`States`] (foldhash's seeded fast hasher: several times cheaper than SipHash on
/// short names, still randomly seeded per map).
pub type StatesHasher = foldhash::fast::RandomState;

/// Which language a state uses to select and transform data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
pub enum QueryLanguage {
    /// JSONPath: `InputPath`, `Parameters`, `ResultSelector`, `ResultPath`, `OutputPath`, `.$` keys.
    #[default]
    #[serde(rename = "JSONPath")]
    JsonPath,
    /// JSONata: `Arguments`, `Output`, `Assign`, `{% ... %}` expressions.
    #[serde(rename = "JSONata")]
    Jsonata,
}

impl QueryLanguage {
    /// `JSONPath` or `JSONata`, as written in ASL.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryLanguage::JsonPath => "JSONPath",
            QueryLanguage::Jsonata => "JSONata",
        }
    }
}

/// A whole state machine definition.
///
/// ```
/// use stepwright::StateMachine;
/// let m = StateMachine::from_json(r#"{
///   "StartAt": "Hello",
///   "States": { "Hello": { "Type": "Pass", "Result": "world", "End": true } }
/// }"#).unwrap();
/// assert_eq!(m.start_at, "Hello");
/// assert!(m.to_json_pretty().contains("\"Result\": \"world\""));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateMachine {
    /// A human-readable description.
    #[serde(rename = "Comment", skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The default query language of every state (JSONPath when absent).
    #[serde(rename = "QueryLanguage", skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
    /// The first state to run.
    #[serde(rename = "StartAt")]
    pub start_at: String,
    /// Maximum run time of an execution, in seconds.
    #[serde(rename = "TimeoutSeconds", skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// The ASL version (`"1.0"`).
    #[serde(rename = "Version", skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The states, by name.
    #[serde(rename = "States")]
    pub states: States,
}

/// A Parallel branch or a Map processor (`Iterator` / `ItemProcessor`): a sub-machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Branch {
    /// A human-readable description.
    #[serde(rename = "Comment", skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The query language of the branch's states (inherits from the machine when absent).
    #[serde(rename = "QueryLanguage", skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
    /// Map only: how the processor runs (inline or distributed).
    #[serde(rename = "ProcessorConfig", skip_serializing_if = "Option::is_none")]
    pub processor_config: Option<ProcessorConfig>,
    /// The first state of the branch.
    #[serde(rename = "StartAt")]
    pub start_at: String,
    /// The branch's states.
    #[serde(rename = "States")]
    pub states: States,
}

/// One state. `Type` selects the variant.
// Every variant is boxed: a `State` is 16 bytes. Unboxed, a state was 784 bytes (1,784 before Map
// was boxed), and reading a 10,000-state machine spent a tenth of its instructions copying states
// into the `States` map and its cache on the copies (docs/BENCHMARKS.md, validator section).
// Matching works as before (`State::Task(t)` gives a `&Box<TaskState>`, which derefs); building
// one takes `Box::new`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "Type")]
pub enum State {
    /// Passes its input to its output, optionally injecting data.
    Pass(Box<PassState>),
    /// Does work: calls an AWS service, a Lambda or an activity.
    Task(Box<TaskState>),
    /// Branches on the data.
    Choice(Box<ChoiceState>),
    /// Waits for a time or until a date.
    Wait(Box<WaitState>),
    /// Stops the execution (or branch) successfully.
    Succeed(Box<SucceedState>),
    /// Stops the execution as failed.
    Fail(Box<FailState>),
    /// Runs branches in parallel.
    Parallel(Box<ParallelState>),
    /// Runs a processor for each item of an array or data set.
    Map(Box<MapState>),
}

/// A field that is a literal in JSONPath and may be a `{% %}` JSONata expression in JSONata states
/// (`TimeoutSeconds`, `MaxConcurrency`, `Seconds`, ...). `${Name}` substitution tokens are kept as
/// [`IntOrExpr::Expr`] too.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum IntOrExpr {
    /// A literal non-negative integer.
    Int(u64),
    /// A JSONata expression (`"{% $x %}"`) or a `${Name}` DefinitionSubstitutions token.
    Expr(String),
}

/// Like [`IntOrExpr`], for fields that take any number (`ToleratedFailurePercentage`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum NumberOrExpr {
    /// A literal number.
    Number(serde_json::Number),
    /// A JSONata expression or a `${Name}` token.
    Expr(String),
}

/// A Task's `Resource`: an ARN, or a CloudFormation intrinsic (`{"Ref": ...}`,
/// `{"Fn::GetAtt": [...]}`, `{"Fn::Sub": ...}`) when the definition is embedded in a template
/// that resolves it before AWS sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Resource {
    /// An ARN such as `arn:aws:states:::lambda:invoke` (or a `${Name}` substitution token).
    Arn(String),
    /// A CloudFormation intrinsic function object, resolved at deploy time.
    Cfn(Object),
}

impl Resource {
    /// The ARN, unless this is a CloudFormation intrinsic.
    pub fn as_arn(&self) -> Option<&str> {
        match self {
            Resource::Arn(s) => Some(s),
            Resource::Cfn(_) => None,
        }
    }
}

impl Default for Resource {
    fn default() -> Self {
        Resource::Arn(String::new())
    }
}

impl From<String> for Resource {
    fn from(s: String) -> Self {
        Resource::Arn(s)
    }
}

impl From<&str> for Resource {
    fn from(s: &str) -> Self {
        Resource::Arn(s.to_string())
    }
}

/// The fields every state shares.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Common {
    /// A human-readable description.
    #[serde(rename = "Comment", skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// This state's query language; overrides the machine's.
    #[serde(rename = "QueryLanguage", skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
}

/// How a state moves on: `Next` or `End`. Kept as written so that output round-trips.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Transition {
    /// The state to run next.
    #[serde(rename = "Next", skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// True when this state ends the execution (or branch).
    #[serde(rename = "End", skip_serializing_if = "Option::is_none")]
    pub end: Option<bool>,
}

impl Transition {
    /// `Next: name`.
    pub fn next(name: impl Into<String>) -> Self {
        Transition {
            next: Some(name.into()),
            end: None,
        }
    }
    /// `End: true`.
    pub fn end() -> Self {
        Transition {
            next: None,
            end: Some(true),
        }
    }
    /// True when the state ends its branch (`End: true`).
    pub fn is_end(&self) -> bool {
        self.end == Some(true)
    }
}

/// `InputPath` / `OutputPath` / `ResultPath`: absent, `null` (discard), or a path.
///
/// `None` = the field is absent (default `$`); `Some(None)` = `null`; `Some(Some(p))` = a path.
pub type NullablePath = Option<Option<String>>;

/// A Pass state.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PassState {
    /// Comment and QueryLanguage.
    #[serde(flatten)]
    pub common: Common,
    /// JSONPath: selects part of the input.
    #[serde(rename = "InputPath", skip_serializing_if = "Option::is_none")]
    pub input_path: NullablePath,
    /// JSONPath: a payload template building the effective input.
    #[serde(rename = "Parameters", skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// The data to output (instead of the input).
    #[serde(rename = "Result", skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// JSONPath: where the result goes in the input.
    #[serde(rename = "ResultPath", skip_serializing_if = "Option::is_none")]
    pub result_path: NullablePath,
    /// JSONPath: selects part of the output.
    #[serde(rename = "OutputPath", skip_serializing_if = "Option::is_none")]
    pub output_path: NullablePath,
    /// JSONata: the state output.
    #[serde(rename = "Output", skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Workflow variables to set.
    #[serde(rename = "Assign", skip_serializing_if = "Option::is_none")]
    pub assign: Option<Object>,
    /// Next or End.
    #[serde(flatten)]
    pub transition: Transition,
}

/// A retry policy.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Retrier {
    /// A human-readable description.
    #[serde(rename = "Comment", skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The error names this retrier handles (`States.ALL` matches all, alone and last).
    #[serde(rename = "ErrorEquals")]
    pub error_equals: Vec<String>,
    /// Seconds before the first retry (default 1).
    #[serde(rename = "IntervalSeconds", skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<u64>,
    /// Maximum number of retries (default 3; 0 = never retry).
    #[serde(rename = "MaxAttempts", skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
    /// The multiplier of the interval after each attempt (default 2.0, at least 1.0).
    #[serde(rename = "BackoffRate", skip_serializing_if = "Option::is_none")]
    pub backoff_rate: Option<serde_json::Number>,
    /// The cap on the interval, in seconds.
    #[serde(rename = "MaxDelaySeconds", skip_serializing_if = "Option::is_none")]
    pub max_delay_seconds: Option<u64>,
    /// `FULL` to randomise the interval, `NONE` (default) for none.
    #[serde(rename = "JitterStrategy", skip_serializing_if = "Option::is_none")]
    pub jitter_strategy: Option<JitterStrategy>,
}

/// Retry jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum JitterStrategy {
    /// Each interval is a random value between 0 and the computed interval.
    #[serde(rename = "FULL")]
    Full,
    /// No jitter.
    #[serde(rename = "NONE")]
    None,
}

/// A fallback route for errors.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Catcher {
    /// A human-readable description.
    #[serde(rename = "Comment", skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The error names this catcher handles.
    #[serde(rename = "ErrorEquals")]
    pub error_equals: Vec<String>,
    /// The state to go to.
    #[serde(rename = "Next")]
    pub next: String,
    /// JSONPath: where the error output goes in the input.
    #[serde(rename = "ResultPath", skip_serializing_if = "Option::is_none")]
    pub result_path: NullablePath,
    /// JSONata: the output sent to `Next`.
    #[serde(rename = "Output", skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Workflow variables to set.
    #[serde(rename = "Assign", skip_serializing_if = "Option::is_none")]
    pub assign: Option<Object>,
}

/// A Task state.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TaskState {
    /// Comment and QueryLanguage.
    #[serde(flatten)]
    pub common: Common,
    /// The ARN of the integration, Lambda function or activity.
    #[serde(rename = "Resource")]
    pub resource: Resource,
    /// JSONPath: selects part of the input.
    #[serde(rename = "InputPath", skip_serializing_if = "Option::is_none")]
    pub input_path: NullablePath,
    /// JSONPath: the request payload template.
    #[serde(rename = "Parameters", skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// JSONata: the request.
    #[serde(rename = "Arguments", skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    /// JSONPath: reshapes the result.
    #[serde(rename = "ResultSelector", skip_serializing_if = "Option::is_none")]
    pub result_selector: Option<Value>,
    /// JSONPath: where the result goes in the input.
    #[serde(rename = "ResultPath", skip_serializing_if = "Option::is_none")]
    pub result_path: NullablePath,
    /// JSONPath: selects part of the output.
    #[serde(rename = "OutputPath", skip_serializing_if = "Option::is_none")]
    pub output_path: NullablePath,
    /// JSONata: the state output.
    #[serde(rename = "Output", skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Workflow variables to set.
    #[serde(rename = "Assign", skip_serializing_if = "Option::is_none")]
    pub assign: Option<Object>,
    /// Retry policies, tried in order.
    #[serde(rename = "Retry", skip_serializing_if = "Option::is_none")]
    pub retry: Option<Vec<Retrier>>,
    /// Error routes, tried in order after retries are exhausted.
    #[serde(rename = "Catch", skip_serializing_if = "Option::is_none")]
    pub catch: Option<Vec<Catcher>>,
    /// Maximum run time of the task, seconds (default 99999999).
    #[serde(rename = "TimeoutSeconds", skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<IntOrExpr>,
    /// JSONPath: the timeout, read from the input.
    #[serde(rename = "TimeoutSecondsPath", skip_serializing_if = "Option::is_none")]
    pub timeout_seconds_path: Option<String>,
    /// Maximum time between heartbeats, seconds; less than the timeout.
    #[serde(rename = "HeartbeatSeconds", skip_serializing_if = "Option::is_none")]
    pub heartbeat_seconds: Option<IntOrExpr>,
    /// JSONPath: the heartbeat, read from the input.
    #[serde(
        rename = "HeartbeatSecondsPath",
        skip_serializing_if = "Option::is_none"
    )]
    pub heartbeat_seconds_path: Option<String>,
    /// A role to assume for the call: `{"RoleArn": ...}` (or `RoleArn.$` / JSONata).
    #[serde(rename = "Credentials", skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Object>,
    /// Next or End.
    #[serde(flatten)]
    pub transition: Transition,
}

/// A Choice state.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ChoiceState {
    /// Comment and QueryLanguage.
    #[serde(flatten)]
    pub common: Common,
    /// JSONPath: selects part of the input.
    #[serde(rename = "InputPath", skip_serializing_if = "Option::is_none")]
    pub input_path: NullablePath,
    /// JSONPath: selects part of the output.
    #[serde(rename = "OutputPath", skip_serializing_if = "Option::is_none")]
    pub output_path: NullablePath,
    /// The rules, tried in order; the first that matches picks `Next`.
    #[serde(rename = "Choices")]
    pub choices: Vec<ChoiceRule>,
    /// The state to go to when no rule matches (`States.NoChoiceMatched` when absent).
    #[serde(rename = "Default", skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// JSONata: the state output.
    #[serde(rename = "Output", skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Workflow variables to set (when the Default is taken).
    #[serde(rename = "Assign", skip_serializing_if = "Option::is_none")]
    pub assign: Option<Object>,
}

/// A top-level Choice rule: a condition and where to go when it holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChoiceRule {
    /// A human-readable description.
    #[serde(rename = "Comment", skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The condition.
    #[serde(flatten)]
    pub condition: Condition,
    /// The state to go to.
    #[serde(rename = "Next")]
    pub next: String,
    /// JSONata: the state output when this rule is taken.
    #[serde(rename = "Output", skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Workflow variables to set when this rule is taken.
    #[serde(rename = "Assign", skip_serializing_if = "Option::is_none")]
    pub assign: Option<Object>,
}

/// A boolean condition of a Choice rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// All must hold.
    And(Vec<NestedCondition>),
    /// Any must hold.
    Or(Vec<NestedCondition>),
    /// Must not hold.
    Not(Box<NestedCondition>),
    /// JSONPath: compare the value at `variable` using `operator`.
    Compare {
        /// The path to test (`$.x`, `$$.Execution.Input.x`, `$var.x`).
        variable: String,
        /// The comparison operator.
        operator: Operator,
        /// The operand: a literal (string, number, boolean) or, for `*Path` operators, a path.
        value: Value,
    },
    /// JSONata: `Condition: "{% ... %}"` (or a literal boolean).
    Jsonata(Value),
}

/// A condition nested in `And`, `Or` or `Not` (no `Next`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NestedCondition {
    /// A human-readable description.
    #[serde(rename = "Comment", skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The condition.
    #[serde(flatten)]
    pub condition: Condition,
}

impl From<Condition> for NestedCondition {
    fn from(condition: Condition) -> Self {
        NestedCondition {
            comment: None,
            condition,
        }
    }
}

impl Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        match self {
            Condition::And(v) => m.serialize_entry("And", v)?,
            Condition::Or(v) => m.serialize_entry("Or", v)?,
            Condition::Not(v) => m.serialize_entry("Not", v)?,
            Condition::Compare {
                variable,
                operator,
                value,
            } => {
                m.serialize_entry("Variable", variable)?;
                m.serialize_entry(operator.as_str(), value)?;
            }
            Condition::Jsonata(c) => m.serialize_entry("Condition", c)?,
        }
        m.end()
    }
}

macro_rules! operators {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal : $kind:ident $(, path $path:literal)? ;)*) => {
        /// A Choice comparison operator (`StringEquals`, `NumericLessThanPath`, `IsPresent`, ...).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operator {
            $( $(#[$doc])* $variant, )*
        }

        impl Operator {
            /// Every operator, in the order the ASL specification lists them.
            pub const ALL: &'static [Operator] = &[$(Operator::$variant,)*];

            /// The ASL field name, e.g. `NumericGreaterThanEquals`.
            pub fn as_str(self) -> &'static str {
                match self { $(Operator::$variant => $name,)* }
            }

            /// Looks up an operator by its ASL field name.
            pub fn from_name(name: &str) -> Option<Operator> {
                match name { $($name => Some(Operator::$variant),)* _ => None }
            }

            /// What the operand must be.
            pub fn operand(self) -> OperandKind {
                match self { $(Operator::$variant => OperandKind::$kind,)* }
            }
        }
    };
}

/// The kind of operand an [`Operator`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperandKind {
    /// A string literal.
    String,
    /// A number literal.
    Number,
    /// A boolean literal.
    Boolean,
    /// An ISO 8601 timestamp string.
    Timestamp,
    /// A string pattern where `*` matches anything (`\*` is a literal star).
    Pattern,
    /// A reference path to the value to compare with.
    Path,
}

operators! {
    /// Strings are equal.
    StringEquals = "StringEquals": String;
    /// Strings are equal (operand from a path).
    StringEqualsPath = "StringEqualsPath": Path;
    /// String sorts before.
    StringLessThan = "StringLessThan": String;
    /// String sorts before (operand from a path).
    StringLessThanPath = "StringLessThanPath": Path;
    /// String sorts after.
    StringGreaterThan = "StringGreaterThan": String;
    /// String sorts after (operand from a path).
    StringGreaterThanPath = "StringGreaterThanPath": Path;
    /// String sorts before or equal.
    StringLessThanEquals = "StringLessThanEquals": String;
    /// String sorts before or equal (operand from a path).
    StringLessThanEqualsPath = "StringLessThanEqualsPath": Path;
    /// String sorts after or equal.
    StringGreaterThanEquals = "StringGreaterThanEquals": String;
    /// String sorts after or equal (operand from a path).
    StringGreaterThanEqualsPath = "StringGreaterThanEqualsPath": Path;
    /// String matches a `*` wildcard pattern.
    StringMatches = "StringMatches": Pattern;
    /// Numbers are equal.
    NumericEquals = "NumericEquals": Number;
    /// Numbers are equal (operand from a path).
    NumericEqualsPath = "NumericEqualsPath": Path;
    /// Number is less.
    NumericLessThan = "NumericLessThan": Number;
    /// Number is less (operand from a path).
    NumericLessThanPath = "NumericLessThanPath": Path;
    /// Number is greater.
    NumericGreaterThan = "NumericGreaterThan": Number;
    /// Number is greater (operand from a path).
    NumericGreaterThanPath = "NumericGreaterThanPath": Path;
    /// Number is less or equal.
    NumericLessThanEquals = "NumericLessThanEquals": Number;
    /// Number is less or equal (operand from a path).
    NumericLessThanEqualsPath = "NumericLessThanEqualsPath": Path;
    /// Number is greater or equal.
    NumericGreaterThanEquals = "NumericGreaterThanEquals": Number;
    /// Number is greater or equal (operand from a path).
    NumericGreaterThanEqualsPath = "NumericGreaterThanEqualsPath": Path;
    /// Booleans are equal.
    BooleanEquals = "BooleanEquals": Boolean;
    /// Booleans are equal (operand from a path).
    BooleanEqualsPath = "BooleanEqualsPath": Path;
    /// Timestamps are equal.
    TimestampEquals = "TimestampEquals": Timestamp;
    /// Timestamps are equal (operand from a path).
    TimestampEqualsPath = "TimestampEqualsPath": Path;
    /// Timestamp is earlier.
    TimestampLessThan = "TimestampLessThan": Timestamp;
    /// Timestamp is earlier (operand from a path).
    TimestampLessThanPath = "TimestampLessThanPath": Path;
    /// Timestamp is later.
    TimestampGreaterThan = "TimestampGreaterThan": Timestamp;
    /// Timestamp is later (operand from a path).
    TimestampGreaterThanPath = "TimestampGreaterThanPath": Path;
    /// Timestamp is earlier or equal.
    TimestampLessThanEquals = "TimestampLessThanEquals": Timestamp;
    /// Timestamp is earlier or equal (operand from a path).
    TimestampLessThanEqualsPath = "TimestampLessThanEqualsPath": Path;
    /// Timestamp is later or equal.
    TimestampGreaterThanEquals = "TimestampGreaterThanEquals": Timestamp;
    /// Timestamp is later or equal (operand from a path).
    TimestampGreaterThanEqualsPath = "TimestampGreaterThanEqualsPath": Path;
    /// The value is (or is not, with `false`) `null`.
    IsNull = "IsNull": Boolean;
    /// The path exists (or does not, with `false`).
    IsPresent = "IsPresent": Boolean;
    /// The value is (or is not) a number.
    IsNumeric = "IsNumeric": Boolean;
    /// The value is (or is not) a string.
    IsString = "IsString": Boolean;
    /// The value is (or is not) a boolean.
    IsBoolean = "IsBoolean": Boolean;
    /// The value is (or is not) a string holding an ISO 8601 timestamp.
    IsTimestamp = "IsTimestamp": Boolean;
}

/// A Wait state.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct WaitState {
    /// Comment and QueryLanguage.
    #[serde(flatten)]
    pub common: Common,
    /// JSONPath: selects part of the input.
    #[serde(rename = "InputPath", skip_serializing_if = "Option::is_none")]
    pub input_path: NullablePath,
    /// JSONPath: selects part of the output.
    #[serde(rename = "OutputPath", skip_serializing_if = "Option::is_none")]
    pub output_path: NullablePath,
    /// Seconds to wait (a JSONata expression in JSONata states).
    #[serde(rename = "Seconds", skip_serializing_if = "Option::is_none")]
    pub seconds: Option<IntOrExpr>,
    /// Wait until this ISO 8601 time (or a JSONata expression).
    #[serde(rename = "Timestamp", skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// JSONPath: seconds, read from the input.
    #[serde(rename = "SecondsPath", skip_serializing_if = "Option::is_none")]
    pub seconds_path: Option<String>,
    /// JSONPath: the timestamp, read from the input.
    #[serde(rename = "TimestampPath", skip_serializing_if = "Option::is_none")]
    pub timestamp_path: Option<String>,
    /// JSONata: the state output.
    #[serde(rename = "Output", skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Workflow variables to set.
    #[serde(rename = "Assign", skip_serializing_if = "Option::is_none")]
    pub assign: Option<Object>,
    /// Next or End.
    #[serde(flatten)]
    pub transition: Transition,
}

/// A Succeed state.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SucceedState {
    /// Comment and QueryLanguage.
    #[serde(flatten)]
    pub common: Common,
    /// JSONPath: selects part of the input.
    #[serde(rename = "InputPath", skip_serializing_if = "Option::is_none")]
    pub input_path: NullablePath,
    /// JSONPath: selects part of the output.
    #[serde(rename = "OutputPath", skip_serializing_if = "Option::is_none")]
    pub output_path: NullablePath,
    /// JSONata: the state output.
    #[serde(rename = "Output", skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
}

/// A Fail state.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct FailState {
    /// Comment and QueryLanguage.
    #[serde(flatten)]
    pub common: Common,
    /// The error name (a JSONata expression in JSONata states).
    #[serde(rename = "Error", skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// JSONPath: the error name, from a path or intrinsic function.
    #[serde(rename = "ErrorPath", skip_serializing_if = "Option::is_none")]
    pub error_path: Option<String>,
    /// The cause (a JSONata expression in JSONata states).
    #[serde(rename = "Cause", skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// JSONPath: the cause, from a path or intrinsic function.
    #[serde(rename = "CausePath", skip_serializing_if = "Option::is_none")]
    pub cause_path: Option<String>,
}

/// A Parallel state.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ParallelState {
    /// Comment and QueryLanguage.
    #[serde(flatten)]
    pub common: Common,
    /// JSONPath: selects part of the input.
    #[serde(rename = "InputPath", skip_serializing_if = "Option::is_none")]
    pub input_path: NullablePath,
    /// JSONPath: a payload template building each branch's input.
    #[serde(rename = "Parameters", skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// JSONata: each branch's input.
    #[serde(rename = "Arguments", skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    /// The branches.
    #[serde(rename = "Branches")]
    pub branches: Vec<Branch>,
    /// JSONPath: reshapes the result array.
    #[serde(rename = "ResultSelector", skip_serializing_if = "Option::is_none")]
    pub result_selector: Option<Value>,
    /// JSONPath: where the result goes in the input.
    #[serde(rename = "ResultPath", skip_serializing_if = "Option::is_none")]
    pub result_path: NullablePath,
    /// JSONPath: selects part of the output.
    #[serde(rename = "OutputPath", skip_serializing_if = "Option::is_none")]
    pub output_path: NullablePath,
    /// JSONata: the state output.
    #[serde(rename = "Output", skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Workflow variables to set.
    #[serde(rename = "Assign", skip_serializing_if = "Option::is_none")]
    pub assign: Option<Object>,
    /// Retry policies.
    #[serde(rename = "Retry", skip_serializing_if = "Option::is_none")]
    pub retry: Option<Vec<Retrier>>,
    /// Error routes.
    #[serde(rename = "Catch", skip_serializing_if = "Option::is_none")]
    pub catch: Option<Vec<Catcher>>,
    /// Next or End.
    #[serde(flatten)]
    pub transition: Transition,
}

/// A Map state, inline or distributed.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MapState {
    /// Comment and QueryLanguage.
    #[serde(flatten)]
    pub common: Common,
    /// JSONPath: selects part of the input.
    #[serde(rename = "InputPath", skip_serializing_if = "Option::is_none")]
    pub input_path: NullablePath,
    /// JSONPath: where the items array is in the input (default `$`).
    #[serde(rename = "ItemsPath", skip_serializing_if = "Option::is_none")]
    pub items_path: Option<String>,
    /// JSONata: the items (an array or an expression).
    #[serde(rename = "Items", skip_serializing_if = "Option::is_none")]
    pub items: Option<Value>,
    /// Distributed: where the items come from (S3 object, listing, manifest).
    #[serde(rename = "ItemReader", skip_serializing_if = "Option::is_none")]
    pub item_reader: Option<ItemReader>,
    /// Builds each item's input (replaces the legacy `Parameters`).
    #[serde(rename = "ItemSelector", skip_serializing_if = "Option::is_none")]
    pub item_selector: Option<Value>,
    /// Legacy JSONPath form of `ItemSelector`.
    #[serde(rename = "Parameters", skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Distributed: groups items into batches.
    #[serde(rename = "ItemBatcher", skip_serializing_if = "Option::is_none")]
    pub item_batcher: Option<ItemBatcher>,
    /// The processor run for each item (with its `ProcessorConfig`).
    #[serde(rename = "ItemProcessor", skip_serializing_if = "Option::is_none")]
    pub item_processor: Option<Branch>,
    /// Legacy form of `ItemProcessor` (inline only).
    #[serde(rename = "Iterator", skip_serializing_if = "Option::is_none")]
    pub iterator: Option<Branch>,
    /// Maximum items processed at once (0 = as many as possible).
    #[serde(rename = "MaxConcurrency", skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<IntOrExpr>,
    /// JSONPath: the concurrency, read from the input.
    #[serde(rename = "MaxConcurrencyPath", skip_serializing_if = "Option::is_none")]
    pub max_concurrency_path: Option<String>,
    /// Distributed: how many item failures are tolerated.
    #[serde(
        rename = "ToleratedFailureCount",
        skip_serializing_if = "Option::is_none"
    )]
    pub tolerated_failure_count: Option<IntOrExpr>,
    /// JSONPath: the tolerated count, read from the input.
    #[serde(
        rename = "ToleratedFailureCountPath",
        skip_serializing_if = "Option::is_none"
    )]
    pub tolerated_failure_count_path: Option<String>,
    /// Distributed: what percentage of failed items is tolerated.
    #[serde(
        rename = "ToleratedFailurePercentage",
        skip_serializing_if = "Option::is_none"
    )]
    pub tolerated_failure_percentage: Option<NumberOrExpr>,
    /// JSONPath: the tolerated percentage, read from the input.
    #[serde(
        rename = "ToleratedFailurePercentagePath",
        skip_serializing_if = "Option::is_none"
    )]
    pub tolerated_failure_percentage_path: Option<String>,
    /// Distributed: a label for the child executions (Map Run).
    #[serde(rename = "Label", skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Distributed: writes the results to S3.
    #[serde(rename = "ResultWriter", skip_serializing_if = "Option::is_none")]
    pub result_writer: Option<ResultWriter>,
    /// JSONPath: reshapes the result array.
    #[serde(rename = "ResultSelector", skip_serializing_if = "Option::is_none")]
    pub result_selector: Option<Value>,
    /// JSONPath: where the result goes in the input.
    #[serde(rename = "ResultPath", skip_serializing_if = "Option::is_none")]
    pub result_path: NullablePath,
    /// JSONPath: selects part of the output.
    #[serde(rename = "OutputPath", skip_serializing_if = "Option::is_none")]
    pub output_path: NullablePath,
    /// JSONata: the state output.
    #[serde(rename = "Output", skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Workflow variables to set.
    #[serde(rename = "Assign", skip_serializing_if = "Option::is_none")]
    pub assign: Option<Object>,
    /// Retry policies.
    #[serde(rename = "Retry", skip_serializing_if = "Option::is_none")]
    pub retry: Option<Vec<Retrier>>,
    /// Error routes.
    #[serde(rename = "Catch", skip_serializing_if = "Option::is_none")]
    pub catch: Option<Vec<Catcher>>,
    /// Next or End.
    #[serde(flatten)]
    pub transition: Transition,
}

impl MapState {
    /// The processor, whichever form (`ItemProcessor` or legacy `Iterator`) was used.
    pub fn processor(&self) -> Option<&Branch> {
        self.item_processor.as_ref().or(self.iterator.as_ref())
    }

    /// Mutable access to the processor.
    pub fn processor_mut(&mut self) -> Option<&mut Branch> {
        match (&mut self.item_processor, &mut self.iterator) {
            (Some(p), _) => Some(p),
            (None, Some(i)) => Some(i),
            _ => None,
        }
    }

    /// True when the processor runs as a Distributed Map.
    pub fn is_distributed(&self) -> bool {
        self.processor()
            .and_then(|p| p.processor_config.as_ref())
            .and_then(|c| c.mode)
            == Some(ProcessorMode::Distributed)
    }
}

/// How a Map processor runs.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ProcessorConfig {
    /// `INLINE` (default) or `DISTRIBUTED`.
    #[serde(rename = "Mode", skip_serializing_if = "Option::is_none")]
    pub mode: Option<ProcessorMode>,
    /// Distributed: `STANDARD` or `EXPRESS` child executions.
    #[serde(rename = "ExecutionType", skip_serializing_if = "Option::is_none")]
    pub execution_type: Option<ExecutionType>,
}

/// Map processor mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ProcessorMode {
    /// Iterations run inside the parent execution (at most 40 at once).
    #[serde(rename = "INLINE")]
    Inline,
    /// Iterations run as child executions (up to 10,000 at once).
    #[serde(rename = "DISTRIBUTED")]
    Distributed,
}

/// The type of a workflow (or of Distributed Map child executions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ExecutionType {
    /// Exactly-once, up to a year.
    #[serde(rename = "STANDARD")]
    Standard,
    /// At-least-once, up to five minutes.
    #[serde(rename = "EXPRESS")]
    Express,
}

/// Where a Distributed Map reads its items.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ItemReader {
    /// `arn:aws:states:::s3:getObject` or `arn:aws:states:::s3:listObjectsV2`.
    #[serde(rename = "Resource")]
    pub resource: String,
    /// How to read the object.
    #[serde(rename = "ReaderConfig", skip_serializing_if = "Option::is_none")]
    pub reader_config: Option<ReaderConfig>,
    /// JSONPath: the request (`Bucket`, `Key`/`Prefix`).
    #[serde(rename = "Parameters", skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// JSONata: the request.
    #[serde(rename = "Arguments", skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
}

/// How the item reader parses its object.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ReaderConfig {
    /// `CSV`, `JSON`, `JSONL`, `MANIFEST` or `PARQUET`.
    #[serde(rename = "InputType", skip_serializing_if = "Option::is_none")]
    pub input_type: Option<String>,
    /// `FIRST_ROW` or `GIVEN`.
    #[serde(rename = "CSVHeaderLocation", skip_serializing_if = "Option::is_none")]
    pub csv_header_location: Option<String>,
    /// The column names, with `CSVHeaderLocation: GIVEN`.
    #[serde(rename = "CSVHeaders", skip_serializing_if = "Option::is_none")]
    pub csv_headers: Option<Vec<String>>,
    /// `COMMA`, `PIPE`, `SEMICOLON`, `SPACE` or `TAB`.
    #[serde(rename = "CSVDelimiter", skip_serializing_if = "Option::is_none")]
    pub csv_delimiter: Option<String>,
    /// `ATHENA_DATA` or `S3_INVENTORY`, with `InputType: MANIFEST`.
    #[serde(rename = "ManifestType", skip_serializing_if = "Option::is_none")]
    pub manifest_type: Option<String>,
    /// At most this many items are read.
    #[serde(rename = "MaxItems", skip_serializing_if = "Option::is_none")]
    pub max_items: Option<IntOrExpr>,
    /// JSONPath: `MaxItems`, read from the input.
    #[serde(rename = "MaxItemsPath", skip_serializing_if = "Option::is_none")]
    pub max_items_path: Option<String>,
}

/// How a Distributed Map groups items into batches.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ItemBatcher {
    /// At most this many items per batch.
    #[serde(rename = "MaxItemsPerBatch", skip_serializing_if = "Option::is_none")]
    pub max_items_per_batch: Option<IntOrExpr>,
    /// JSONPath: `MaxItemsPerBatch`, read from the input.
    #[serde(
        rename = "MaxItemsPerBatchPath",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_items_per_batch_path: Option<String>,
    /// At most this many bytes per batch (up to 256 KiB).
    #[serde(
        rename = "MaxInputBytesPerBatch",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_input_bytes_per_batch: Option<IntOrExpr>,
    /// JSONPath: `MaxInputBytesPerBatch`, read from the input.
    #[serde(
        rename = "MaxInputBytesPerBatchPath",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_input_bytes_per_batch_path: Option<String>,
    /// A fixed JSON object added to each batch as `BatchInput`.
    #[serde(rename = "BatchInput", skip_serializing_if = "Option::is_none")]
    pub batch_input: Option<Value>,
}

/// Where a Distributed Map writes its results.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ResultWriter {
    /// `arn:aws:states:::s3:putObject`.
    #[serde(rename = "Resource", skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// JSONPath: `Bucket` and `Prefix`.
    #[serde(rename = "Parameters", skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// JSONata: `Bucket` and `Prefix`.
    #[serde(rename = "Arguments", skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    /// The output format.
    #[serde(rename = "WriterConfig", skip_serializing_if = "Option::is_none")]
    pub writer_config: Option<WriterConfig>,
}

/// The format of Distributed Map results.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct WriterConfig {
    /// `JSON` or `JSONL`.
    #[serde(rename = "OutputType", skip_serializing_if = "Option::is_none")]
    pub output_type: Option<String>,
    /// `NONE`, `COMPACT` or `FLATTEN`.
    #[serde(rename = "Transformation", skip_serializing_if = "Option::is_none")]
    pub transformation: Option<String>,
}

impl State {
    /// The state's type name (`"Task"`, `"Map"`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            State::Pass(_) => "Pass",
            State::Task(_) => "Task",
            State::Choice(_) => "Choice",
            State::Wait(_) => "Wait",
            State::Succeed(_) => "Succeed",
            State::Fail(_) => "Fail",
            State::Parallel(_) => "Parallel",
            State::Map(_) => "Map",
        }
    }

    /// Comment and QueryLanguage.
    pub fn common(&self) -> &Common {
        match self {
            State::Pass(s) => &s.common,
            State::Task(s) => &s.common,
            State::Choice(s) => &s.common,
            State::Wait(s) => &s.common,
            State::Succeed(s) => &s.common,
            State::Fail(s) => &s.common,
            State::Parallel(s) => &s.common,
            State::Map(s) => &s.common,
        }
    }

    /// Mutable Comment and QueryLanguage.
    pub fn common_mut(&mut self) -> &mut Common {
        match self {
            State::Pass(s) => &mut s.common,
            State::Task(s) => &mut s.common,
            State::Choice(s) => &mut s.common,
            State::Wait(s) => &mut s.common,
            State::Succeed(s) => &mut s.common,
            State::Fail(s) => &mut s.common,
            State::Parallel(s) => &mut s.common,
            State::Map(s) => &mut s.common,
        }
    }

    /// `Next`/`End` for the states that have them (not Choice, Succeed, Fail).
    pub fn transition(&self) -> Option<&Transition> {
        match self {
            State::Pass(s) => Some(&s.transition),
            State::Task(s) => Some(&s.transition),
            State::Wait(s) => Some(&s.transition),
            State::Parallel(s) => Some(&s.transition),
            State::Map(s) => Some(&s.transition),
            State::Choice(_) | State::Succeed(_) | State::Fail(_) => None,
        }
    }

    /// Mutable `Next`/`End`.
    pub fn transition_mut(&mut self) -> Option<&mut Transition> {
        match self {
            State::Pass(s) => Some(&mut s.transition),
            State::Task(s) => Some(&mut s.transition),
            State::Wait(s) => Some(&mut s.transition),
            State::Parallel(s) => Some(&mut s.transition),
            State::Map(s) => Some(&mut s.transition),
            State::Choice(_) | State::Succeed(_) | State::Fail(_) => None,
        }
    }

    /// The query language this state runs with, given the enclosing default.
    pub fn query_language(&self, inherited: QueryLanguage) -> QueryLanguage {
        self.common().query_language.unwrap_or(inherited)
    }

    /// True for states that end a branch by themselves: Succeed, Fail, or `End: true`.
    pub fn is_terminal(&self) -> bool {
        match self {
            State::Succeed(_) | State::Fail(_) => true,
            s => s.transition().is_some_and(Transition::is_end),
        }
    }

    /// Every state this one can go to (Next, Choice targets and Default, Catch targets), in order,
    /// without duplicates.
    pub fn successors(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        match self {
            State::Choice(c) => {
                for r in &c.choices {
                    if !out.contains(&r.next.as_str()) {
                        out.push(&r.next);
                    }
                }
                if let Some(d) = &c.default {
                    if !out.contains(&d.as_str()) {
                        out.push(d);
                    }
                }
            }
            s => {
                if let Some(n) = s.transition().and_then(|t| t.next.as_deref()) {
                    out.push(n);
                }
            }
        }
        for c in self.catchers() {
            if !out.contains(&c.next.as_str()) {
                out.push(&c.next);
            }
        }
        out
    }

    /// The state's Retry policies (empty when it has none or cannot have any).
    pub fn retriers(&self) -> &[Retrier] {
        match self {
            State::Task(s) => s.retry.as_deref().unwrap_or(&[]),
            State::Parallel(s) => s.retry.as_deref().unwrap_or(&[]),
            State::Map(s) => s.retry.as_deref().unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The state's Catch routes (empty when it has none or cannot have any).
    pub fn catchers(&self) -> &[Catcher] {
        match self {
            State::Task(s) => s.catch.as_deref().unwrap_or(&[]),
            State::Parallel(s) => s.catch.as_deref().unwrap_or(&[]),
            State::Map(s) => s.catch.as_deref().unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The sub-machines inside this state: Parallel branches or the Map processor.
    pub fn branches(&self) -> Vec<&Branch> {
        match self {
            State::Parallel(p) => p.branches.iter().collect(),
            State::Map(m) => m.processor().into_iter().collect(),
            _ => Vec::new(),
        }
    }

    /// The `Assign` block, if any.
    pub fn assign(&self) -> Option<&Object> {
        match self {
            State::Pass(s) => s.assign.as_ref(),
            State::Task(s) => s.assign.as_ref(),
            State::Choice(s) => s.assign.as_ref(),
            State::Wait(s) => s.assign.as_ref(),
            State::Parallel(s) => s.assign.as_ref(),
            State::Map(s) => s.assign.as_ref(),
            State::Succeed(_) | State::Fail(_) => None,
        }
    }
}

impl StateMachine {
    /// Parses a definition from JSON text, strictly: unknown fields, wrong types and missing
    /// required fields are errors, each with its JSON pointer.
    ///
    /// This checks the shape only; [`crate::validate()`] checks everything else (transitions,
    /// paths, expressions, limits).
    pub fn from_json(text: &str) -> Result<StateMachine, ParseError> {
        // Fast path: valid JSON without duplicate keys is read straight from the text.
        if let Some(m) = StateMachine::from_text_fast(text) {
            return m;
        }
        let value: Value = serde_json::from_str(text).map_err(|e| {
            ParseError::new(vec![Diagnostic::error(
                crate::diagnostics::Code::InvalidJson,
                "",
                format!("not valid JSON: {e}"),
            )
            .with_help("a state machine definition is one JSON object")])
        })?;
        StateMachine::from_value(&value)
    }

    /// Reads a definition from a parsed JSON value (see [`StateMachine::from_json`]).
    pub fn from_value(value: &Value) -> Result<StateMachine, ParseError> {
        StateMachine::from_tree(&json::J::from_value(value))
    }

    /// Reads a definition straight from its text when the one-pass parser takes it (valid JSON
    /// without duplicate keys, nearly every definition), each top-level state as soon as it is
    /// parsed; `None` otherwise (the caller takes the `serde_json` route).
    pub(crate) fn from_text_fast(text: &str) -> Option<Result<StateMachine, ParseError>> {
        let mut errors = Vec::new();
        let machine = read::read_machine_text(text, &mut errors)?;
        Some(match machine {
            Some(m) if errors.is_empty() => Ok(m),
            _ => Err(ParseError::new(errors)),
        })
    }

    /// Reads a definition from a borrowed JSON tree (what [`StateMachine::from_value`] and the
    /// text fast path share).
    pub(crate) fn from_tree(tree: &json::J<'_>) -> Result<StateMachine, ParseError> {
        let mut errors = Vec::new();
        let machine = read::read_machine(tree, &mut errors);
        match machine {
            Some(m) if errors.is_empty() => Ok(m),
            _ => Err(ParseError::new(errors)),
        }
    }

    /// The definition as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a state machine always serializes")
    }

    /// The definition as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a state machine always serializes")
    }

    /// The definition as pretty JSON (two-space indent, stable field order, trailing newline).
    pub fn to_json_pretty(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a state machine always serializes");
        s.push('\n');
        s
    }

    /// The effective default query language of the machine.
    pub fn default_query_language(&self) -> QueryLanguage {
        self.query_language.unwrap_or_default()
    }

    /// Visits every state of the machine, depth first in definition order, including states
    /// inside Parallel branches and Map processors. The callback gets the state's JSON pointer,
    /// its name, the state and its effective query language.
    ///
    /// The walk keeps its own stack (no recursion), so a machine built in code with thousands of
    /// nested branches cannot overflow the thread's stack.
    ///
    /// ```
    /// let m = stepwright::StateMachine::from_json(r#"{"StartAt": "P", "States": {
    ///   "P": {"Type": "Parallel", "End": true, "Branches": [
    ///     {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}]},
    ///   "Z": {"Type": "Succeed"}}}"#).unwrap();
    /// let mut seen = Vec::new();
    /// m.walk(|p| seen.push((p.pointer.clone(), p.depth)));
    /// assert_eq!(seen, [
    ///     ("/States/P".to_string(), 0),
    ///     ("/States/P/Branches/0/States/A".to_string(), 1),
    ///     ("/States/Z".to_string(), 0),
    /// ]);
    /// ```
    pub fn walk<'a>(&'a self, mut f: impl FnMut(&StatePlace<'a>)) {
        self.walk_owned(|p| f(&p));
    }

    /// Every state of the machine in [`StateMachine::walk`] order.
    pub fn places(&self) -> Vec<StatePlace<'_>> {
        let mut out = Vec::with_capacity(self.states.len());
        self.walk_owned(|p| out.push(p));
        out
    }

    /// The places of a top-level state `name` and of the states nested in it, in
    /// [`StateMachine::walk`] order, for a machine whose query language is `lang`.
    pub(crate) fn places_of<'a>(
        name: &'a str,
        state: &'a State,
        lang: QueryLanguage,
    ) -> Vec<StatePlace<'a>> {
        if !matches!(state, State::Parallel(_) | State::Map(_)) {
            // Nothing nested (most states): no walk.
            return vec![StatePlace {
                pointer: crate::diagnostics::pointer_push("/States", name),
                name,
                state,
                query_language: state.query_language(lang),
                depth: 0,
            }];
        }
        let mut out = Vec::new();
        let first = Frame {
            states: WalkStates::One(Some((name, state))),
            base: "/States".to_string(),
            lang,
            depth: 0,
        };
        walk_from(first, |p| out.push(p));
        out
    }

    /// The walk itself (see [`walk_from`]).
    fn walk_owned<'a>(&'a self, f: impl FnMut(StatePlace<'a>)) {
        let first = Frame {
            states: WalkStates::Map(self.states.iter()),
            base: "/States".to_string(),
            lang: self.default_query_language(),
            depth: 0,
        };
        walk_from(first, f);
    }
}

/// The states of one map being walked (or one state alone).
enum WalkStates<'a> {
    Map(indexmap::map::Iter<'a, String, State>),
    One(Option<(&'a str, &'a State)>),
}

impl<'a> Iterator for WalkStates<'a> {
    type Item = (&'a str, &'a State);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            WalkStates::Map(it) => it.next().map(|(k, v)| (k.as_str(), v)),
            WalkStates::One(one) => one.take(),
        }
    }
}

struct Frame<'a> {
    states: WalkStates<'a>,
    base: String,
    lang: QueryLanguage,
    depth: usize,
}

/// The walk: an explicit stack of the state maps being visited, from `first`; each place is
/// handed over by value (its pointer is built once).
fn walk_from<'a>(first: Frame<'a>, mut f: impl FnMut(StatePlace<'a>)) {
    let mut stack = vec![first];
    while let Some(top) = stack.last_mut() {
        let Some((name, state)) = top.states.next() else {
            stack.pop();
            continue;
        };
        let pointer = crate::diagnostics::pointer_push(&top.base, name);
        let lang_here = state.query_language(top.lang);
        let depth = top.depth;
        // Children are pushed after the state is handed over, last branch first, so that the
        // first branch is visited next (depth first, definition order).
        let mut children: Vec<Frame<'a>> = Vec::new();
        match state {
            State::Parallel(p) => {
                for (i, b) in p.branches.iter().enumerate().rev() {
                    children.push(Frame {
                        states: WalkStates::Map(b.states.iter()),
                        base: format!("{pointer}/Branches/{i}/States"),
                        lang: b.query_language.unwrap_or(lang_here),
                        depth: depth + 1,
                    });
                }
            }
            State::Map(m) => {
                let proc_ = match (&m.item_processor, &m.iterator) {
                    (Some(p), _) => Some(("ItemProcessor", p)),
                    (None, Some(i)) => Some(("Iterator", i)),
                    _ => None,
                };
                if let Some((field, p)) = proc_ {
                    children.push(Frame {
                        states: WalkStates::Map(p.states.iter()),
                        base: format!("{pointer}/{field}/States"),
                        lang: p.query_language.unwrap_or(lang_here),
                        depth: depth + 1,
                    });
                }
            }
            _ => {}
        }
        f(StatePlace {
            pointer,
            name,
            state,
            query_language: lang_here,
            depth,
        });
        stack.extend(children);
    }
}

/// A state found by [`StateMachine::walk`].
#[derive(Debug)]
pub struct StatePlace<'a> {
    /// The state's JSON pointer, e.g. `/States/Fan/Branches/0/States/A`.
    pub pointer: String,
    /// The state's name.
    pub name: &'a str,
    /// The state.
    pub state: &'a State,
    /// The query language the state runs with.
    pub query_language: QueryLanguage,
    /// 0 for top-level states, 1 inside a branch or processor, and so on.
    pub depth: usize,
}

impl<'de> serde::Deserialize<'de> for StateMachine {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        StateMachine::from_value(&v).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for StateMachine {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StateMachine::from_json(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A machine built in code with `depth` Parallel states nested inside each other.
    fn nested_parallels(depth: usize) -> StateMachine {
        let leaf = StateMachine::from_json(
            r#"{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
                "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}]}}}"#,
        )
        .unwrap();
        let mut m = leaf.clone();
        for _ in 1..depth {
            let Some(State::Parallel(mut p)) = leaf.states.get("P").cloned() else {
                unreachable!("the leaf is a Parallel state")
            };
            let mut branch = p.branches.pop().unwrap();
            branch.start_at = "P".into();
            branch.states = std::mem::take(&mut m.states);
            p.branches.push(branch);
            m.states.insert("P".into(), State::Parallel(p));
        }
        m
    }

    /// Drops a deeply nested machine without recursing (the derived drop would).
    fn dismantle(mut m: StateMachine) {
        let mut pending = vec![std::mem::take(&mut m.states)];
        while let Some(mut states) = pending.pop() {
            for (_, s) in states.drain(..) {
                if let State::Parallel(mut p) = s {
                    pending.extend(p.branches.drain(..).map(|b| b.states));
                }
            }
        }
    }

    /// States are boxed so that a machine's state map holds small entries: reading a large
    /// machine copies each state several times on its way into the map.
    #[test]
    fn a_state_is_two_words() {
        assert_eq!(std::mem::size_of::<State>(), 16);
        assert_eq!(std::mem::size_of::<Option<State>>(), 16);
    }

    #[test]
    fn walk_handles_deep_nesting_without_recursion() {
        const DEPTH: usize = 10_000;
        let m = nested_parallels(DEPTH);
        // A small stack: the former recursive walk overflowed it at a few hundred levels.
        let (count, max_depth, last) = std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn_scoped(s, || {
                    let mut count = 0usize;
                    let mut max_depth = 0usize;
                    let mut last = String::new();
                    m.walk(|p| {
                        count += 1;
                        max_depth = max_depth.max(p.depth);
                        if matches!(p.state, State::Succeed(_)) {
                            last = p.pointer.clone();
                        }
                    });
                    (count, max_depth, last)
                })
                .unwrap()
                .join()
                .unwrap()
        });
        assert_eq!(
            count,
            DEPTH + 1,
            "every Parallel state and the innermost Succeed"
        );
        assert_eq!(max_depth, DEPTH);
        assert_eq!(
            last,
            format!(
                "/States/P{}/A",
                "/Branches/0/States/P".repeat(DEPTH - 1) + "/Branches/0/States"
            )
        );
        dismantle(m);
    }

    #[test]
    fn walk_order_is_depth_first_in_definition_order() {
        let m = StateMachine::from_json(
            r#"{"StartAt": "P", "States": {
              "P": {"Type": "Parallel", "Next": "M", "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}},
                {"StartAt": "C", "QueryLanguage": "JSONata", "States": {"C": {"Type": "Succeed"}}}]},
              "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "D",
                "States": {"D": {"Type": "Succeed"}}}}}}"#,
        )
        .unwrap();
        let places: Vec<(String, usize, QueryLanguage)> = m
            .places()
            .into_iter()
            .map(|p| (p.pointer, p.depth, p.query_language))
            .collect();
        let jp = QueryLanguage::JsonPath;
        assert_eq!(
            places,
            [
                ("/States/P".to_string(), 0, jp),
                ("/States/P/Branches/0/States/A".to_string(), 1, jp),
                ("/States/P/Branches/0/States/B".to_string(), 1, jp),
                (
                    "/States/P/Branches/1/States/C".to_string(),
                    1,
                    QueryLanguage::Jsonata
                ),
                ("/States/M".to_string(), 0, jp),
                ("/States/M/ItemProcessor/States/D".to_string(), 1, jp),
            ]
        );
    }
}
