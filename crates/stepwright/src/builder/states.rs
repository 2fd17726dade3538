//! One builder per state type.

use std::marker::PhantomData;

use serde_json::Value;

use super::chain::{Chain, Closed, Fragment, IntoChain, Node, Open, Subflow};
use super::condition::Numeric;
use super::retry::{Catch, Retry};
use crate::diagnostics::Code;
use crate::model::*;

/// Typestate markers for builders that must be given something before they can be used.
pub mod marker {
    /// A [`Choice`](super::Choice) without any rule yet: add one with `when`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct NoRules;
    /// A [`Parallel`](super::Parallel) without any branch yet: add one with `branch`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct NoBranches;
    /// A [`Map`](super::Map) without its processor yet: set it with `processor`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct NoProcessor;
    /// Complete: the builder can be chained and built.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Ready;
}
use marker::{NoBranches, NoProcessor, NoRules, Ready};

type Issues = Vec<(Code, String)>;

impl From<u64> for IntOrExpr {
    fn from(n: u64) -> IntOrExpr {
        IntOrExpr::Int(n)
    }
}

impl From<&str> for IntOrExpr {
    fn from(s: &str) -> IntOrExpr {
        IntOrExpr::Expr(s.to_string())
    }
}

impl From<String> for IntOrExpr {
    fn from(s: String) -> IntOrExpr {
        IntOrExpr::Expr(s)
    }
}

// ---------------------------------------------------------------------------------------------
// Setter groups, generated for each builder that has the fields.

macro_rules! common_setters {
    ([$($g:ident),*] $ty:ty) => {
        impl<$($g),*> $ty {
            /// Sets the state's `Comment`.
            pub fn comment(mut self, comment: impl Into<String>) -> Self {
                self.state.common.comment = Some(comment.into());
                self
            }
            /// Sets the state's `QueryLanguage` (overriding the machine's).
            pub fn query_language(mut self, language: QueryLanguage) -> Self {
                self.state.common.query_language = Some(language);
                self
            }
            /// `QueryLanguage: JSONata` for this state.
            pub fn jsonata(self) -> Self {
                self.query_language(QueryLanguage::Jsonata)
            }
            /// `QueryLanguage: JSONPath` for this state.
            pub fn jsonpath(self) -> Self {
                self.query_language(QueryLanguage::JsonPath)
            }
        }
    };
}

macro_rules! io_setters {
    ([$($g:ident),*] $ty:ty) => {
        impl<$($g),*> $ty {
            /// JSONPath: `InputPath`, the part of the input the state works on.
            pub fn input_path(mut self, path: impl Into<String>) -> Self {
                self.state.input_path = Some(Some(path.into()));
                self
            }
            /// JSONPath: `InputPath: null`, the state works on `{}`.
            pub fn discard_input(mut self) -> Self {
                self.state.input_path = Some(None);
                self
            }
            /// JSONPath: `OutputPath`, the part of the output passed on.
            pub fn output_path(mut self, path: impl Into<String>) -> Self {
                self.state.output_path = Some(Some(path.into()));
                self
            }
            /// JSONPath: `OutputPath: null`, the state passes on `{}`.
            pub fn discard_output(mut self) -> Self {
                self.state.output_path = Some(None);
                self
            }
            /// JSONata: `Output`, the state's output (`"{% ... %}"` strings are evaluated).
            pub fn output(mut self, output: impl Into<Value>) -> Self {
                self.state.output = Some(output.into());
                self
            }
        }
    };
}

macro_rules! result_setters {
    ([$($g:ident),*] $ty:ty) => {
        impl<$($g),*> $ty {
            /// JSONPath: `ResultPath`, where the result goes in the input (`$` replaces it).
            pub fn result_path(mut self, path: impl Into<String>) -> Self {
                self.state.result_path = Some(Some(path.into()));
                self
            }
            /// JSONPath: `ResultPath: null`, the result is discarded and the input passed on.
            pub fn discard_result(mut self) -> Self {
                self.state.result_path = Some(None);
                self
            }
            /// JSONPath: `Parameters`, a payload template (`"key.$": "$.path"` keys are
            /// evaluated, including intrinsic functions such as `States.Format`).
            pub fn parameters(mut self, parameters: impl Into<Value>) -> Self {
                self.state.parameters = Some(parameters.into());
                self
            }
        }
    };
}

macro_rules! selector_setters {
    ([$($g:ident),*] $ty:ty) => {
        impl<$($g),*> $ty {
            /// JSONPath: `ResultSelector`, a payload template applied to the raw result.
            pub fn result_selector(mut self, selector: impl Into<Value>) -> Self {
                self.state.result_selector = Some(selector.into());
                self
            }
        }
    };
}

macro_rules! arguments_setter {
    ([$($g:ident),*] $ty:ty) => {
        impl<$($g),*> $ty {
            /// JSONata: `Arguments`, the request (`"{% ... %}"` strings are evaluated).
            pub fn arguments(mut self, arguments: impl Into<Value>) -> Self {
                self.state.arguments = Some(arguments.into());
                self
            }
        }
    };
}

macro_rules! assign_setters {
    ([$($g:ident),*] $ty:ty) => {
        impl<$($g),*> $ty {
            /// Adds one workflow variable to `Assign` (in JSONPath states, a key ending in `.$`
            /// takes a path; in JSONata states, `"{% ... %}"` values are evaluated).
            pub fn assign(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
                self.state
                    .assign
                    .get_or_insert_with(Object::new)
                    .insert(name.into(), value.into());
                self
            }
            /// Replaces the whole `Assign` block.
            pub fn assign_all(mut self, assign: Object) -> Self {
                self.state.assign = Some(assign);
                self
            }
        }
    };
}

macro_rules! error_setters {
    ([$($g:ident),*] $ty:ty) => {
        impl<$($g),*> $ty {
            /// Adds a retry policy (tried in order; put `States.ALL` last).
            pub fn retry(mut self, retry: impl Into<Retry>) -> Self {
                let r = retry.into();
                self.issues.extend(r.issues);
                self.state.retry.get_or_insert_with(Vec::new).push(r.retrier);
                self
            }
            /// Adds a Catch route to `handler`: a chain of states (added to the machine after
            /// the main path) or the name of a state defined elsewhere.
            pub fn catch(mut self, catch: Catch, handler: impl IntoChain) -> Self {
                let frag = handler.into_chain().frag;
                let mut catcher = catch.catcher;
                catcher.next = frag.start.clone();
                self.state.catch.get_or_insert_with(Vec::new).push(catcher);
                Fragment::append_side(&mut self.side, frag);
                self
            }
        }
    };
}

macro_rules! chainable {
    ($ty:ty) => {
        impl IntoChain for $ty {
            type Tail = Open;
            fn into_chain(self) -> Chain<Open> {
                let (node, side) = self.into_node();
                Chain::from_fragment(Fragment::single(node, side, true))
            }
        }
        impl $ty {
            /// Continues with `then`: this state's `Next` is `then`'s first state.
            pub fn next<C: IntoChain>(self, then: C) -> Chain<C::Tail> {
                self.into_chain().next(then)
            }
            /// Ends here: `End: true`. The result cannot be continued.
            pub fn end(self) -> Chain<Closed> {
                self.into_chain().end()
            }
        }
    };
}

macro_rules! terminal {
    ($ty:ty) => {
        impl IntoChain for $ty {
            type Tail = Closed;
            fn into_chain(self) -> Chain<Closed> {
                let (node, side) = self.into_node();
                Chain::from_fragment(Fragment::single(node, side, false))
            }
        }
    };
}

fn node(name: String, state: State, issues: Issues) -> Node {
    let mut n = Node::new(name, state);
    n.issues = issues;
    n
}

// ---------------------------------------------------------------------------------------------
// Pass

/// A Pass state: passes its input on, optionally injecting a `Result` (JSONPath) or shaping an
/// `Output` (JSONata).
///
/// ```
/// use stepwright::builder::*;
/// use serde_json::json;
/// let p = Pass::new("Defaults").result(json!({"epochs": 10})).result_path("$.config");
/// let m = StateMachine::builder().start(p).build()?;
/// assert!(m.to_json_pretty().contains(r#""ResultPath": "$.config""#));
/// # Ok::<(), stepwright::builder::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Pass {
    name: String,
    state: PassState,
}

impl Pass {
    /// A Pass state named `name`.
    pub fn new(name: impl Into<String>) -> Pass {
        Pass {
            name: name.into(),
            state: PassState::default(),
        }
    }

    /// JSONPath: `Result`, the data to output instead of the input.
    pub fn result(mut self, result: impl Into<Value>) -> Pass {
        self.state.result = Some(result.into());
        self
    }

    fn into_node(self) -> (Node, Vec<Node>) {
        (
            node(self.name, State::Pass(Box::new(self.state)), Vec::new()),
            Vec::new(),
        )
    }
}

common_setters!([] Pass);
io_setters!([] Pass);
result_setters!([] Pass);
assign_setters!([] Pass);
chainable!(Pass);

// ---------------------------------------------------------------------------------------------
// Task

/// A Task state: does work through a service integration, a Lambda function or an activity.
///
/// The body is any [`TaskState`]: the typed service integrations convert into one, and
/// [`Task::resource`] makes a raw one from an ARN. The builder owns the transition (`Next` /
/// `End`): whatever the body had there is replaced.
///
/// ```
/// use stepwright::builder::*;
/// use serde_json::json;
/// let cleanse = Task::new("Cleanse", Task::resource("arn:aws:states:::lambda:invoke"))
///     .parameters(json!({"FunctionName": "cleanse", "Payload.$": "$"}))
///     .result_selector(json!({"report.$": "$.Payload"}))
///     .result_path("$.cleanse")
///     .retry(Retry::lambda_transient())
///     .timeout_seconds(300);
/// let m = StateMachine::builder().start(cleanse).build()?;
/// let State::Task(t) = &m.states["Cleanse"] else { unreachable!() };
/// assert_eq!(t.timeout_seconds, Some(IntOrExpr::Int(300)));
/// # Ok::<(), stepwright::builder::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Task {
    name: String,
    state: TaskState,
    side: Vec<Node>,
    issues: Issues,
}

impl Task {
    /// A Task state named `name` doing `body` (a typed integration or a raw [`TaskState`]).
    pub fn new(name: impl Into<String>, body: impl Into<TaskState>) -> Task {
        let mut state = body.into();
        state.transition = Transition::default();
        Task {
            name: name.into(),
            state,
            side: Vec::new(),
            issues: Vec::new(),
        }
    }

    /// A raw task body calling `arn` (an integration such as
    /// `arn:aws:states:::lambda:invoke`, a Lambda function or activity ARN, or a `${Name}`
    /// substitution token). Give it to [`Task::new`] and set the request with
    /// [`Task::parameters`] or [`Task::arguments`].
    pub fn resource(arn: impl Into<Resource>) -> TaskState {
        TaskState {
            resource: arn.into(),
            ..TaskState::default()
        }
    }

    /// `TimeoutSeconds`: a number, or a `"{% ... %}"` expression in JSONata states.
    pub fn timeout_seconds(mut self, seconds: impl Into<IntOrExpr>) -> Task {
        self.state.timeout_seconds = Some(seconds.into());
        self.state.timeout_seconds_path = None;
        self
    }

    /// JSONPath: `TimeoutSecondsPath`, the timeout read from the input.
    pub fn timeout_seconds_path(mut self, path: impl Into<String>) -> Task {
        self.state.timeout_seconds_path = Some(path.into());
        self.state.timeout_seconds = None;
        self
    }

    /// `HeartbeatSeconds`: a number, or a `"{% ... %}"` expression in JSONata states.
    pub fn heartbeat_seconds(mut self, seconds: impl Into<IntOrExpr>) -> Task {
        self.state.heartbeat_seconds = Some(seconds.into());
        self.state.heartbeat_seconds_path = None;
        self
    }

    /// JSONPath: `HeartbeatSecondsPath`, the heartbeat read from the input.
    pub fn heartbeat_seconds_path(mut self, path: impl Into<String>) -> Task {
        self.state.heartbeat_seconds_path = Some(path.into());
        self.state.heartbeat_seconds = None;
        self
    }

    /// `Credentials: {"RoleArn": role}`: the role to assume for the call (a literal ARN; for a
    /// path use [`Task::credentials`] with `{"RoleArn.$": "$.role"}`).
    pub fn role_arn(mut self, role: impl Into<String>) -> Task {
        let mut o = Object::new();
        o.insert("RoleArn".into(), Value::String(role.into()));
        self.state.credentials = Some(o);
        self
    }

    /// `Credentials`, as a JSON object.
    pub fn credentials(mut self, credentials: Object) -> Task {
        self.state.credentials = Some(credentials);
        self
    }

    fn into_node(self) -> (Node, Vec<Node>) {
        (
            node(self.name, State::Task(Box::new(self.state)), self.issues),
            self.side,
        )
    }
}

common_setters!([] Task);
io_setters!([] Task);
result_setters!([] Task);
selector_setters!([] Task);
arguments_setter!([] Task);
assign_setters!([] Task);
error_setters!([] Task);
chainable!(Task);

// ---------------------------------------------------------------------------------------------
// Choice

/// One Choice rule: a condition, plus the optional `Comment`, and (JSONata) `Output` and
/// `Assign` applied when the rule is taken. A bare [`Condition`] converts into a rule.
///
/// ```
/// use stepwright::builder::*;
/// let rule = Rule::new(Condition::jsonata("$states.input.ok")).assign("verdict", "pass");
/// let c = Choice::new("Ok?").jsonata().when(rule, Succeed::new("Yes")).otherwise(Fail::new("No"));
/// let m = StateMachine::builder().jsonata().start(c).build()?;
/// let State::Choice(c) = &m.states["Ok?"] else { unreachable!() };
/// assert!(c.choices[0].assign.is_some());
/// # Ok::<(), stepwright::builder::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Rule {
    condition: Condition,
    comment: Option<String>,
    output: Option<Value>,
    assign: Option<Object>,
}

impl Rule {
    /// A rule testing `condition`.
    pub fn new(condition: Condition) -> Rule {
        Rule {
            condition,
            comment: None,
            output: None,
            assign: None,
        }
    }

    /// `Comment` of the rule.
    pub fn comment(mut self, comment: impl Into<String>) -> Rule {
        self.comment = Some(comment.into());
        self
    }

    /// JSONata: `Output` when the rule is taken.
    pub fn output(mut self, output: impl Into<Value>) -> Rule {
        self.output = Some(output.into());
        self
    }

    /// Adds one workflow variable to the rule's `Assign`.
    pub fn assign(mut self, name: impl Into<String>, value: impl Into<Value>) -> Rule {
        self.assign
            .get_or_insert_with(Object::new)
            .insert(name.into(), value.into());
        self
    }
}

impl From<Condition> for Rule {
    fn from(condition: Condition) -> Rule {
        Rule::new(condition)
    }
}

/// A Choice state: the first rule whose condition holds picks the next state; `otherwise` is
/// the `Default`.
///
/// A Choice needs at least one rule: only `Choice<Ready>` (after a `when`) can be chained or
/// built, so a rule-less Choice does not compile.
///
/// ```
/// use stepwright::builder::*;
/// let gate = Choice::new("Valid?")
///     .when(Condition::string_equals("$.status", "ok"), Pass::new("Train"))
///     .when(Condition::numeric_greater_than("$.errors", 100) | Condition::is_present("$.fatal", true),
///           Fail::new("Reject").error("Data.Invalid"))
///     .otherwise("Train");
/// let m = StateMachine::builder().start(gate).build()?;
/// assert_eq!(m.states.len(), 3);
/// # Ok::<(), stepwright::builder::BuildError>(())
/// ```
///
/// ```compile_fail
/// use stepwright::builder::*;
/// // error: a Choice without rules is not `IntoChain`
/// let m = StateMachine::builder().start(Choice::new("Empty")).build();
/// ```
///
/// Open ends of the rules' chains end the machine there unless [`Choice::afterwards`] continues
/// them:
///
/// ```
/// use stepwright::builder::*;
/// let flow = Choice::new("Big?")
///     .when(Condition::numeric_greater_than("$.n", 10), Pass::new("Split"))
///     .otherwise(Pass::new("Keep"))
///     .afterwards()
///     .next(Succeed::new("Done"));
/// let m = StateMachine::builder().start(flow).build()?;
/// assert_eq!(m.states["Split"].successors(), ["Done"]);
/// assert_eq!(m.states["Keep"].successors(), ["Done"]);
/// # Ok::<(), stepwright::builder::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Choice<R = Ready> {
    name: String,
    state: ChoiceState,
    /// The states of the rules' chains (definition order).
    nodes: Vec<Node>,
    side: Vec<Node>,
    /// Open states of the rules' chains, indices into `nodes`.
    open: Vec<usize>,
    _rules: PhantomData<R>,
}

impl Choice<NoRules> {
    /// A Choice state named `name`; add rules with [`Choice::when`].
    pub fn new(name: impl Into<String>) -> Choice<NoRules> {
        Choice {
            name: name.into(),
            state: ChoiceState::default(),
            nodes: Vec::new(),
            side: Vec::new(),
            open: Vec::new(),
            _rules: PhantomData,
        }
    }
}

impl<R> Choice<R> {
    fn add_target(&mut self, target: Chain<impl Sized>) -> String {
        let frag = target.frag;
        let start = frag.start.clone();
        let offset = self.nodes.len();
        self.nodes.extend(frag.nodes);
        self.side.extend(frag.side);
        self.open.extend(frag.open.into_iter().map(|i| i + offset));
        start
    }

    /// Adds a rule: when `rule` holds, go to `target` (a chain of states, or the name of a
    /// state defined elsewhere).
    pub fn when(mut self, rule: impl Into<Rule>, target: impl IntoChain) -> Choice<Ready> {
        let rule = rule.into();
        let next = self.add_target(target.into_chain());
        self.state.choices.push(ChoiceRule {
            comment: rule.comment,
            condition: rule.condition,
            next,
            output: rule.output,
            assign: rule.assign,
        });
        Choice {
            name: self.name,
            state: self.state,
            nodes: self.nodes,
            side: self.side,
            open: self.open,
            _rules: PhantomData,
        }
    }

    /// JSONPath: `InputPath`.
    pub fn input_path(mut self, path: impl Into<String>) -> Self {
        self.state.input_path = Some(Some(path.into()));
        self
    }

    /// JSONPath: `OutputPath`.
    pub fn output_path(mut self, path: impl Into<String>) -> Self {
        self.state.output_path = Some(Some(path.into()));
        self
    }

    /// JSONata: `Output` (when the Default is taken, or a rule has no `Output`).
    pub fn output(mut self, output: impl Into<Value>) -> Self {
        self.state.output = Some(output.into());
        self
    }
}

impl Choice<Ready> {
    /// `Default`: where to go when no rule holds (without it, the execution fails with
    /// `States.NoChoiceMatched`). A second call replaces the `Default`; the states the first
    /// call added stay, and `build()` reports them unreachable unless something else goes there.
    pub fn otherwise(mut self, target: impl IntoChain) -> Choice<Ready> {
        let next = self.add_target(target.into_chain());
        self.state.default = Some(next);
        self
    }

    /// Continues after the Choice: the open ends of every rule's chain (and of the Default's)
    /// go on to whatever is chained next, like the CDK's `afterwards()`.
    pub fn afterwards(self) -> Chain<Open> {
        let open: Vec<usize> = self.open.iter().map(|i| i + 1).collect();
        let mut frag = self.into_fragment();
        frag.open = open;
        Chain::from_fragment(frag)
    }

    fn into_fragment(self) -> Fragment {
        let n = Node::new(self.name, State::Choice(Box::new(self.state)));
        let mut nodes = Vec::with_capacity(self.nodes.len() + 1);
        nodes.push(n);
        nodes.extend(self.nodes);
        Fragment {
            start: nodes[0].name.clone(),
            nodes,
            side: self.side,
            open: Vec::new(),
        }
    }
}

impl IntoChain for Choice<Ready> {
    type Tail = Closed;
    fn into_chain(self) -> Chain<Closed> {
        Chain::from_fragment(self.into_fragment())
    }
}

common_setters!([R] Choice<R>);
assign_setters!([R] Choice<R>);

// ---------------------------------------------------------------------------------------------
// Wait

/// A Wait state. The constructors cover the four forms, so exactly one is always set.
///
/// ```
/// use stepwright::builder::*;
/// let poll = Wait::seconds("Pause", 30).next(Pass::new("Check"));
/// let m = StateMachine::builder().start(poll).build()?;
/// assert!(m.to_json().contains(r#""Seconds":30"#));
/// # Ok::<(), stepwright::builder::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Wait {
    name: String,
    state: WaitState,
}

impl Wait {
    fn with(name: impl Into<String>, state: WaitState) -> Wait {
        Wait {
            name: name.into(),
            state,
        }
    }

    /// Waits `seconds` (a number, or a `"{% ... %}"` expression in JSONata states).
    pub fn seconds(name: impl Into<String>, seconds: impl Into<IntOrExpr>) -> Wait {
        Wait::with(
            name,
            WaitState {
                seconds: Some(seconds.into()),
                ..WaitState::default()
            },
        )
    }

    /// Waits until `timestamp` (ISO 8601, e.g. `2025-01-01T00:00:00Z`, or a JSONata expression).
    pub fn until(name: impl Into<String>, timestamp: impl Into<String>) -> Wait {
        Wait::with(
            name,
            WaitState {
                timestamp: Some(timestamp.into()),
                ..WaitState::default()
            },
        )
    }

    /// JSONPath: waits the number of seconds found at `path`.
    pub fn seconds_path(name: impl Into<String>, path: impl Into<String>) -> Wait {
        Wait::with(
            name,
            WaitState {
                seconds_path: Some(path.into()),
                ..WaitState::default()
            },
        )
    }

    /// JSONPath: waits until the timestamp found at `path`.
    pub fn timestamp_path(name: impl Into<String>, path: impl Into<String>) -> Wait {
        Wait::with(
            name,
            WaitState {
                timestamp_path: Some(path.into()),
                ..WaitState::default()
            },
        )
    }

    fn into_node(self) -> (Node, Vec<Node>) {
        (
            node(self.name, State::Wait(Box::new(self.state)), Vec::new()),
            Vec::new(),
        )
    }
}

common_setters!([] Wait);
io_setters!([] Wait);
assign_setters!([] Wait);
chainable!(Wait);

// ---------------------------------------------------------------------------------------------
// Succeed and Fail

/// A Succeed state: ends the execution (or the branch) successfully.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Succeed {
    name: String,
    state: SucceedState,
}

impl Succeed {
    /// A Succeed state named `name`.
    pub fn new(name: impl Into<String>) -> Succeed {
        Succeed {
            name: name.into(),
            state: SucceedState::default(),
        }
    }

    fn into_node(self) -> (Node, Vec<Node>) {
        (
            node(self.name, State::Succeed(Box::new(self.state)), Vec::new()),
            Vec::new(),
        )
    }
}

common_setters!([] Succeed);
io_setters!([] Succeed);
terminal!(Succeed);

/// A Fail state: stops the execution with an error name and a cause.
///
/// Each of `Error` / `ErrorPath` (and `Cause` / `CausePath`) replaces the other: ASL allows only
/// one of each pair.
///
/// ```
/// use stepwright::builder::*;
/// let f = Fail::new("Rejected").error("Model.Rejected").cause_path("$.reason");
/// let m = StateMachine::builder().start(f).build()?;
/// assert!(m.to_json().contains(r#""CausePath":"$.reason""#));
/// # Ok::<(), stepwright::builder::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Fail {
    name: String,
    state: FailState,
}

impl Fail {
    /// A Fail state named `name`.
    pub fn new(name: impl Into<String>) -> Fail {
        Fail {
            name: name.into(),
            state: FailState::default(),
        }
    }

    /// `Error`: the error name (a JSONata expression in JSONata states).
    pub fn error(mut self, error: impl Into<String>) -> Fail {
        self.state.error = Some(error.into());
        self.state.error_path = None;
        self
    }

    /// `Cause`: a human-readable cause (a JSONata expression in JSONata states).
    pub fn cause(mut self, cause: impl Into<String>) -> Fail {
        self.state.cause = Some(cause.into());
        self.state.cause_path = None;
        self
    }

    /// JSONPath: `ErrorPath`, the error name from a path or intrinsic function.
    pub fn error_path(mut self, path: impl Into<String>) -> Fail {
        self.state.error_path = Some(path.into());
        self.state.error = None;
        self
    }

    /// JSONPath: `CausePath`, the cause from a path or intrinsic function.
    pub fn cause_path(mut self, path: impl Into<String>) -> Fail {
        self.state.cause_path = Some(path.into());
        self.state.cause = None;
        self
    }

    fn into_node(self) -> (Node, Vec<Node>) {
        (
            node(self.name, State::Fail(Box::new(self.state)), Vec::new()),
            Vec::new(),
        )
    }
}

common_setters!([] Fail);
terminal!(Fail);

// ---------------------------------------------------------------------------------------------
// Parallel

/// A Parallel state: runs its branches at once; the output is the array of their outputs.
///
/// Only `Parallel<Ready>` (with at least one branch) can be chained or built.
///
/// ```
/// use stepwright::builder::*;
/// let fan = Parallel::new("Profile")
///     .branch(Pass::new("Stats"))
///     .branch(Pass::new("Schema").next(Pass::new("Drift")))
///     .result_path("$.profile")
///     .next(Succeed::new("Done"));
/// let m = StateMachine::builder().start(fan).build()?;
/// assert_eq!(m.states["Profile"].branches().len(), 2);
/// # Ok::<(), stepwright::builder::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Parallel<B = Ready> {
    name: String,
    state: ParallelState,
    branches: Vec<Subflow>,
    side: Vec<Node>,
    issues: Issues,
    _branches: PhantomData<B>,
}

impl Parallel<NoBranches> {
    /// A Parallel state named `name`; add branches with [`Parallel::branch`].
    pub fn new(name: impl Into<String>) -> Parallel<NoBranches> {
        Parallel {
            name: name.into(),
            state: ParallelState::default(),
            branches: Vec::new(),
            side: Vec::new(),
            issues: Vec::new(),
            _branches: PhantomData,
        }
    }
}

impl<B> Parallel<B> {
    /// Adds a branch: a chain of states, or a [`Subflow`] to give the branch a comment or query
    /// language. Branch states' names must be unique across the whole machine.
    pub fn branch(mut self, branch: impl Into<Subflow>) -> Parallel<Ready> {
        self.branches.push(branch.into());
        Parallel {
            name: self.name,
            state: self.state,
            branches: self.branches,
            side: self.side,
            issues: self.issues,
            _branches: PhantomData,
        }
    }
}

impl Parallel<Ready> {
    fn into_node(self) -> (Node, Vec<Node>) {
        let mut n = node(
            self.name,
            State::Parallel(Box::new(self.state)),
            self.issues,
        );
        n.subs = self.branches;
        (n, self.side)
    }
}

common_setters!([B] Parallel<B>);
io_setters!([B] Parallel<B>);
result_setters!([B] Parallel<B>);
selector_setters!([B] Parallel<B>);
arguments_setter!([B] Parallel<B>);
assign_setters!([B] Parallel<B>);
error_setters!([B] Parallel<B>);
chainable!(Parallel<Ready>);

// ---------------------------------------------------------------------------------------------
// Map

/// A Map state: runs a processor for each item, inline (up to 40 at once) or distributed
/// (child executions; items from S3 with [`ItemReader`], batches, tolerated failures, results
/// written to S3).
///
/// Only `Map<Ready>` (with a processor) can be chained or built.
///
/// ```
/// use stepwright::builder::*;
/// use serde_json::json;
/// let each = Map::new("CleanseAll")
///     .items_path("$.files")
///     .item_selector(json!({"file.$": "$$.Map.Item.Value"}))
///     .max_concurrency(10)
///     .processor(Pass::new("CleanseOne"))
///     .result_path("$.cleansed");
/// let m = StateMachine::builder().start(each).build()?;
/// assert!(!m.states["CleanseAll"].branches().is_empty());
/// # Ok::<(), stepwright::builder::BuildError>(())
/// ```
///
/// A distributed Map over every object under an S3 prefix, 100 objects per child execution:
///
/// ```
/// use stepwright::builder::*;
/// use serde_json::json;
/// let scale_out = Map::new("CleanseShards")
///     .distributed(ExecutionType::Express)
///     .item_reader(ItemReader::list_objects_v2().parameters(json!({"Bucket": "data", "Prefix": "raw/"})))
///     .item_batcher(ItemBatcher::max_items(100))
///     .tolerated_failure_percentage(5)
///     .label("cleanse")
///     .result_writer(ResultWriter::put_object().parameters(json!({"Bucket": "data", "Prefix": "out/"})))
///     .processor(Pass::new("CleanseBatch"));
/// let m = StateMachine::builder().start(scale_out).build()?;
/// let State::Map(map) = &m.states["CleanseShards"] else { unreachable!() };
/// assert!(map.is_distributed());
/// # Ok::<(), stepwright::builder::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Map<P = Ready> {
    name: String,
    state: MapState,
    processor: Option<Subflow>,
    config: Option<ProcessorConfig>,
    legacy_iterator: bool,
    side: Vec<Node>,
    issues: Issues,
    _processor: PhantomData<P>,
}

impl Map<NoProcessor> {
    /// A Map state named `name`; set what runs for each item with [`Map::processor`].
    pub fn new(name: impl Into<String>) -> Map<NoProcessor> {
        Map {
            name: name.into(),
            state: MapState::default(),
            processor: None,
            config: None,
            legacy_iterator: false,
            side: Vec::new(),
            issues: Vec::new(),
            _processor: PhantomData,
        }
    }
}

impl<P> Map<P> {
    /// `ItemProcessor`: the chain run for each item (or a [`Subflow`] with a comment or query
    /// language). A second call replaces the first.
    pub fn processor(self, processor: impl Into<Subflow>) -> Map<Ready> {
        Map {
            name: self.name,
            state: self.state,
            processor: Some(processor.into()),
            config: self.config,
            legacy_iterator: self.legacy_iterator,
            side: self.side,
            issues: self.issues,
            _processor: PhantomData,
        }
    }

    /// Writes the processor as the legacy `Iterator` field (inline Maps only), for definitions
    /// that must keep the old form.
    pub fn legacy_iterator(mut self) -> Self {
        self.legacy_iterator = true;
        self
    }

    /// `ProcessorConfig: {"Mode": "INLINE"}`, written out explicitly (inline is the default).
    pub fn inline(mut self) -> Self {
        self.config = Some(ProcessorConfig {
            mode: Some(ProcessorMode::Inline),
            execution_type: None,
        });
        self
    }

    /// `ProcessorConfig: {"Mode": "DISTRIBUTED", "ExecutionType": ...}`: a Distributed Map,
    /// each item (or batch) a child execution of the given type.
    pub fn distributed(mut self, execution_type: ExecutionType) -> Self {
        self.config = Some(ProcessorConfig {
            mode: Some(ProcessorMode::Distributed),
            execution_type: Some(execution_type),
        });
        self
    }

    /// JSONPath: `ItemsPath`, where the items array is in the input.
    pub fn items_path(mut self, path: impl Into<String>) -> Self {
        self.state.items_path = Some(path.into());
        self
    }

    /// JSONata: `Items`, an array or a `"{% ... %}"` expression giving one.
    pub fn items(mut self, items: impl Into<Value>) -> Self {
        self.state.items = Some(items.into());
        self
    }

    /// `ItemSelector`: builds each item's input (`$$.Map.Item.Value` / `$states.context.Map.Item.Value`
    /// is the item).
    pub fn item_selector(mut self, selector: impl Into<Value>) -> Self {
        self.state.item_selector = Some(selector.into());
        self
    }

    /// JSONPath, legacy: `Parameters`, the old name of `ItemSelector`.
    pub fn parameters(mut self, parameters: impl Into<Value>) -> Self {
        self.state.parameters = Some(parameters.into());
        self
    }

    /// Distributed: `ItemReader`, where the items come from.
    pub fn item_reader(mut self, reader: ItemReader) -> Self {
        self.state.item_reader = Some(reader);
        self
    }

    /// Distributed: `ItemBatcher`, how items are grouped into batches.
    pub fn item_batcher(mut self, batcher: ItemBatcher) -> Self {
        self.state.item_batcher = Some(batcher);
        self
    }

    /// Distributed: `ResultWriter`, where results are written.
    pub fn result_writer(mut self, writer: ResultWriter) -> Self {
        self.state.result_writer = Some(writer);
        self
    }

    /// `MaxConcurrency`: items processed at once (0 = as many as possible), or a JSONata
    /// expression.
    pub fn max_concurrency(mut self, n: impl Into<IntOrExpr>) -> Self {
        self.state.max_concurrency = Some(n.into());
        self.state.max_concurrency_path = None;
        self
    }

    /// JSONPath: `MaxConcurrencyPath`.
    pub fn max_concurrency_path(mut self, path: impl Into<String>) -> Self {
        self.state.max_concurrency_path = Some(path.into());
        self.state.max_concurrency = None;
        self
    }

    /// Distributed: `ToleratedFailureCount` (a number or a JSONata expression).
    pub fn tolerated_failure_count(mut self, n: impl Into<IntOrExpr>) -> Self {
        self.state.tolerated_failure_count = Some(n.into());
        self.state.tolerated_failure_count_path = None;
        self
    }

    /// JSONPath: `ToleratedFailureCountPath`.
    pub fn tolerated_failure_count_path(mut self, path: impl Into<String>) -> Self {
        self.state.tolerated_failure_count_path = Some(path.into());
        self.state.tolerated_failure_count = None;
        self
    }

    /// Distributed: `ToleratedFailurePercentage` (0 to 100).
    pub fn tolerated_failure_percentage(mut self, percent: impl Numeric) -> Self {
        match percent.to_json() {
            Value::Number(n) => {
                self.state.tolerated_failure_percentage = Some(NumberOrExpr::Number(n));
                self.state.tolerated_failure_percentage_path = None;
            }
            _ => self.issues.push((
                Code::OutOfRange,
                "ToleratedFailurePercentage must be a finite number".into(),
            )),
        }
        self
    }

    /// JSONata: `ToleratedFailurePercentage` as a `"{% ... %}"` expression.
    pub fn tolerated_failure_percentage_expr(mut self, expr: impl Into<String>) -> Self {
        self.state.tolerated_failure_percentage = Some(NumberOrExpr::Expr(expr.into()));
        self.state.tolerated_failure_percentage_path = None;
        self
    }

    /// JSONPath: `ToleratedFailurePercentagePath`.
    pub fn tolerated_failure_percentage_path(mut self, path: impl Into<String>) -> Self {
        self.state.tolerated_failure_percentage_path = Some(path.into());
        self.state.tolerated_failure_percentage = None;
        self
    }

    /// Distributed: `Label`, shown in the Map Run's child execution names.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.state.label = Some(label.into());
        self
    }
}

impl Map<Ready> {
    fn into_node(self) -> (Node, Vec<Node>) {
        let mut n = node(self.name, State::Map(Box::new(self.state)), self.issues);
        if let Some(mut p) = self.processor {
            p.processor_config = self.config;
            n.subs = vec![p];
        }
        n.legacy_iterator = self.legacy_iterator;
        (n, self.side)
    }
}

common_setters!([P] Map<P>);
io_setters!([P] Map<P>);
selector_setters!([P] Map<P>);
assign_setters!([P] Map<P>);
error_setters!([P] Map<P>);
chainable!(Map<Ready>);

impl<P> Map<P> {
    /// JSONPath: `ResultPath`, where the results array goes in the input.
    pub fn result_path(mut self, path: impl Into<String>) -> Self {
        self.state.result_path = Some(Some(path.into()));
        self
    }

    /// JSONPath: `ResultPath: null`, the results are discarded and the input passed on.
    pub fn discard_result(mut self) -> Self {
        self.state.result_path = Some(None);
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Distributed Map parts: builder-style constructors on the model types.

impl ItemReader {
    /// Reads items from one S3 object (`arn:aws:states:::s3:getObject`) of the given
    /// `InputType` (`CSV`, `JSON`, `JSONL`, `MANIFEST` or `PARQUET`). Set `Bucket`/`Key` with
    /// [`ItemReader::parameters`] or [`ItemReader::arguments`].
    pub fn get_object(input_type: impl Into<String>) -> ItemReader {
        ItemReader {
            resource: "arn:aws:states:::s3:getObject".into(),
            reader_config: Some(ReaderConfig {
                input_type: Some(input_type.into()),
                ..ReaderConfig::default()
            }),
            ..ItemReader::default()
        }
    }

    /// One item per object under a prefix (`arn:aws:states:::s3:listObjectsV2`). Set
    /// `Bucket`/`Prefix` with [`ItemReader::parameters`] or [`ItemReader::arguments`].
    pub fn list_objects_v2() -> ItemReader {
        ItemReader {
            resource: "arn:aws:states:::s3:listObjectsV2".into(),
            ..ItemReader::default()
        }
    }

    /// JSONPath: the request (`Bucket`, `Key` or `Prefix`; `.$` keys are evaluated).
    pub fn parameters(mut self, parameters: impl Into<Value>) -> ItemReader {
        self.parameters = Some(parameters.into());
        self
    }

    /// JSONata: the request.
    pub fn arguments(mut self, arguments: impl Into<Value>) -> ItemReader {
        self.arguments = Some(arguments.into());
        self
    }

    fn config(&mut self) -> &mut ReaderConfig {
        self.reader_config.get_or_insert_with(ReaderConfig::default)
    }

    /// CSV: `CSVHeaderLocation: FIRST_ROW`, column names from the first line.
    pub fn csv_headers_first_row(mut self) -> ItemReader {
        let c = self.config();
        c.csv_header_location = Some("FIRST_ROW".into());
        c.csv_headers = None;
        self
    }

    /// CSV: `CSVHeaderLocation: GIVEN` with these column names.
    pub fn csv_headers<I, S>(mut self, headers: I) -> ItemReader
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let c = self.config();
        c.csv_header_location = Some("GIVEN".into());
        c.csv_headers = Some(headers.into_iter().map(Into::into).collect());
        self
    }

    /// CSV: `CSVDelimiter` (`COMMA`, `PIPE`, `SEMICOLON`, `SPACE` or `TAB`).
    pub fn csv_delimiter(mut self, delimiter: impl Into<String>) -> ItemReader {
        self.config().csv_delimiter = Some(delimiter.into());
        self
    }

    /// `ManifestType` (`ATHENA_DATA` or `S3_INVENTORY`).
    pub fn manifest_type(mut self, manifest: impl Into<String>) -> ItemReader {
        self.config().manifest_type = Some(manifest.into());
        self
    }

    /// `MaxItems`: read at most this many items (or a JSONata expression).
    pub fn max_items(mut self, n: impl Into<IntOrExpr>) -> ItemReader {
        let c = self.config();
        c.max_items = Some(n.into());
        c.max_items_path = None;
        self
    }

    /// JSONPath: `MaxItemsPath`.
    pub fn max_items_path(mut self, path: impl Into<String>) -> ItemReader {
        let c = self.config();
        c.max_items_path = Some(path.into());
        c.max_items = None;
        self
    }
}

impl ItemBatcher {
    /// Batches of at most `n` items (`MaxItemsPerBatch`, a number or JSONata expression).
    pub fn max_items(n: impl Into<IntOrExpr>) -> ItemBatcher {
        ItemBatcher {
            max_items_per_batch: Some(n.into()),
            ..ItemBatcher::default()
        }
    }

    /// Batches of at most `bytes` bytes (`MaxInputBytesPerBatch`, up to 256 KiB).
    pub fn max_bytes(bytes: impl Into<IntOrExpr>) -> ItemBatcher {
        ItemBatcher {
            max_input_bytes_per_batch: Some(bytes.into()),
            ..ItemBatcher::default()
        }
    }

    /// JSONPath: batch size read from the input (`MaxItemsPerBatchPath`).
    pub fn max_items_path(path: impl Into<String>) -> ItemBatcher {
        ItemBatcher {
            max_items_per_batch_path: Some(path.into()),
            ..ItemBatcher::default()
        }
    }

    /// Adds a byte cap to a batcher (`MaxInputBytesPerBatch`).
    pub fn and_max_bytes(mut self, bytes: impl Into<IntOrExpr>) -> ItemBatcher {
        self.max_input_bytes_per_batch = Some(bytes.into());
        self.max_input_bytes_per_batch_path = None;
        self
    }

    /// JSONPath: adds a byte cap read from the input (`MaxInputBytesPerBatchPath`).
    pub fn and_max_bytes_path(mut self, path: impl Into<String>) -> ItemBatcher {
        self.max_input_bytes_per_batch_path = Some(path.into());
        self.max_input_bytes_per_batch = None;
        self
    }

    /// `BatchInput`: a fixed JSON object added to every batch.
    pub fn batch_input(mut self, input: impl Into<Value>) -> ItemBatcher {
        self.batch_input = Some(input.into());
        self
    }
}

impl ResultWriter {
    /// Writes results to S3 (`arn:aws:states:::s3:putObject`); set `Bucket`/`Prefix` with
    /// [`ResultWriter::parameters`] or [`ResultWriter::arguments`].
    pub fn put_object() -> ResultWriter {
        ResultWriter {
            resource: Some("arn:aws:states:::s3:putObject".into()),
            ..ResultWriter::default()
        }
    }

    /// JSONPath: `Bucket` and `Prefix`.
    pub fn parameters(mut self, parameters: impl Into<Value>) -> ResultWriter {
        self.parameters = Some(parameters.into());
        self
    }

    /// JSONata: `Bucket` and `Prefix`.
    pub fn arguments(mut self, arguments: impl Into<Value>) -> ResultWriter {
        self.arguments = Some(arguments.into());
        self
    }

    /// `WriterConfig`: `OutputType` (`JSON` or `JSONL`) and `Transformation` (`NONE`,
    /// `COMPACT` or `FLATTEN`).
    pub fn writer_config(
        mut self,
        output_type: impl Into<String>,
        transformation: impl Into<String>,
    ) -> ResultWriter {
        self.writer_config = Some(WriterConfig {
            output_type: Some(output_type.into()),
            transformation: Some(transformation.into()),
        });
        self
    }
}
