//! The builder: write state machines in Rust, with the mistakes the type system can catch
//! caught at compile time and the rest reported by [`MachineBuilder::build`], each naming the
//! state.
//!
//! # Tutorial: a small ML pipeline
//!
//! A Lambda cleanses the data, a Choice checks the result, a SageMaker training job runs, and
//! the machine succeeds, or fails with a named error when the data is bad or a step fails.
//!
//! ```
//! use stepwright::builder::*;
//! use serde_json::json;
//!
//! // One failure state, used as the Choice's default and as every Catch target. Cloning a state
//! // into several places defines it once (identical copies are merged).
//! let failed = Fail::new("PipelineFailed").error("Pipeline.Failed").cause_path("$.error.Cause");
//!
//! let cleanse = Task::new("Cleanse", Task::resource("arn:aws:states:::lambda:invoke"))
//!     .parameters(json!({"FunctionName": "${CleanseFunctionArn}", "Payload.$": "$"}))
//!     .result_selector(json!({"valid.$": "$.Payload.valid", "rows.$": "$.Payload.rows"}))
//!     .result_path("$.cleanse")
//!     .retry(Retry::lambda_transient())
//!     .catch(Catch::all().result_path("$.error"), failed.clone());
//!
//! let train = Task::new("Train", Task::resource("arn:aws:states:::sagemaker:createTrainingJob.sync"))
//!     .parameters(json!({"TrainingJobName.$": "$$.Execution.Name", "RoleArn": "${SageMakerRoleArn}"}))
//!     .result_path("$.training")
//!     .catch(Catch::all().result_path("$.error"), failed.clone());
//!
//! let machine = StateMachine::builder()
//!     .comment("Cleanse, check, train")
//!     .timeout_seconds(24 * 3600)
//!     .start(
//!         cleanse.next(
//!             Choice::new("Data valid?")
//!                 .when(
//!                     Condition::boolean_equals("$.cleanse.valid", true)
//!                         .and(Condition::numeric_greater_than("$.cleanse.rows", 0)),
//!                     train.next(Succeed::new("Trained")),
//!                 )
//!                 .otherwise(failed),
//!         ),
//!     )
//!     .build()?;
//!
//! assert_eq!(machine.start_at, "Cleanse");
//! assert_eq!(
//!     machine.states.keys().collect::<Vec<_>>(),
//!     ["Cleanse", "Data valid?", "Train", "Trained", "PipelineFailed"],
//! );
//! // Deterministic, pretty JSON with a stable field order, ready for statemachines/*.asl.json:
//! let json = machine.to_json_pretty();
//! assert!(json.starts_with("{\n  \"Comment\": \"Cleanse, check, train\","));
//! # Ok::<(), BuildError>(())
//! ```
//!
//! # The README example
//!
//! The example of the project README (a test keeps the two identical):
//!
//! ```
//! use serde_json::json;
//! use stepwright::builder::*;
//! use stepwright::integrations::{services::LambdaInvoke, Input};
//!
//! let failed = Fail::new("Failed").error("Pipeline.Failed");
//! let machine = StateMachine::builder()
//!     .comment("Cleanse, check, train")
//!     .start(
//!         Task::new("Cleanse", LambdaInvoke::new("cleanse").payload(Input::path("$")))
//!             .result_path("$.cleanse")
//!             .catch(Catch::all().result_path("$.error"), failed.clone())
//!             .next(
//!                 Choice::new("Valid?")
//!                     .when(
//!                         Condition::boolean_equals("$.cleanse.Payload.valid", true),
//!                         Task::new("Train", Task::resource("arn:aws:states:::sagemaker:createTrainingJob.sync"))
//!                             .parameters(json!({"TrainingJobName.$": "$$.Execution.Name"}))
//!                             .next(Succeed::new("Done")),
//!                     )
//!                     .otherwise(failed),
//!             ),
//!     )
//!     .build()?; // a mistake (duplicate name, dangling target, unreachable state, ...) names the state
//!
//! let asl = machine.to_json_pretty(); // deterministic JSON, stable field order
//! let graph = machine.to_mermaid(); // or .to_dot(); `stepwright render FILE` does the same
//! # Ok::<(), BuildError>(())
//! ```
//!
//! # How it fits together
//!
//! - **States** are built by [`Pass`], [`Task`], [`Choice`], [`Wait`], [`Succeed`], [`Fail`],
//!   [`Parallel`] and [`Map`], each with one setter per ASL field (`parameters`, `result_path`,
//!   `arguments`, `output`, `assign`, `retry`, `catch`, ...). A [`Task`]'s body is any
//!   [`TaskState`]: the typed service integrations convert into one, and
//!   [`Task::resource`] makes a raw one.
//! - **Chains**: `a.next(b)` sets `a`'s `Next` to `b` and gives a [`Chain`]. A chain whose end is
//!   still open ends there (`End: true`); [`Chain::end`] ends it explicitly. A chain ending in a
//!   Choice, Succeed, Fail or an explicit end is a `Chain<Closed>`, which has no `next` method.
//! - **Jumps**: wherever a chain is expected, a state name (`"Poll"`) jumps to a state defined
//!   elsewhere in the same branch: that is how loops and shared handlers are written.
//! - **Choice**: `Choice::new(name).when(condition, target).otherwise(target)`, with typed
//!   [`Condition`]s (`Condition::string_equals("$.status", "ok")`, every operator and its `Path`
//!   form, `.and()`, `.or()`, `.not()` or `&`, `|`, `!`, and `Condition::jsonata("...")`).
//!   [`Choice::afterwards`] continues after all its branches.
//! - **Errors**: `.retry(Retry::on([...]).interval(2).max_attempts(5))`,
//!   `.catch(Catch::all().result_path("$.error"), handler)`.
//! - **Parallel and Map**: `Parallel::new(name).branch(chain)...`,
//!   `Map::new(name).items_path("$.items").processor(chain)`; distributed Maps with
//!   [`Map::distributed`], [`ItemReader`],
//!   [`ItemBatcher`], [`ResultWriter`] and tolerated
//!   failures. [`Subflow`] gives a branch its own comment or query language.
//! - **Query languages**: `StateMachine::builder().jsonata()` makes every state JSONata;
//!   `.jsonata()` / `.jsonpath()` on a state sets it for that state.
//!
//! # What does not compile
//!
//! - continuing a chain that has ended (`Pass::new("A").end().next(...)`);
//! - a Choice without a rule, a Parallel without a branch, a Map without a processor, used as a
//!   state (only their `Ready` forms are [`IntoChain`]);
//! - a Wait without a duration (its constructors are the four forms);
//! - building a machine without a start ([`MachineBuilder::build`] exists only after
//!   [`MachineBuilder::start`]).
//!
//! ```compile_fail
//! use stepwright::builder::*;
//! let m = StateMachine::builder().comment("no start").build();
//! ```
//!
//! # What `build()` reports
//!
//! [`MachineBuilder::build`] returns a [`BuildError`] listing every problem, each a
//! [`Diagnostic`] with a stable code, the JSON pointer of the state and a
//! message naming it: two different states with one name (anywhere in the machine), a jump to a
//! state that does not exist (with a "did you mean" hint) or that is outside the branch,
//! unreachable states, states from which every path loops forever, fields of the other query
//! language (`ResultPath` on a JSONata state, `Arguments` on a JSONPath state, a JSONPath state
//! in a JSONata machine), and Choice operands of the wrong type. When the builder's own checks
//! pass, the full validator ([`crate::validate()`]) runs too: JSONPath and intrinsic syntax,
//! JSONata expressions, Resource ARNs, integration patterns, limits; its errors fail the build
//! ([`MachineBuilder::build_with`] takes the validator's [`Options`], e.g. EXPRESS).
//!
//! ```
//! use stepwright::builder::*;
//! let err = StateMachine::builder()
//!     .start(Pass::new("A").next("Fnish"))
//!     .also(Succeed::new("Finish"))
//!     .build()
//!     .unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "cannot build the state machine (2 problems):\n  \
//!      error[MISSING_TRANSITION_TARGET] at /States/A: state \"A\" goes to \"Fnish\", which does not exist (help: did you mean \"Finish\"?)\n  \
//!      error[UNREACHABLE_STATE] at /States/Finish: state \"Finish\" cannot be reached from \"A\" (help: chain it after another state, make it a Choice or Catch target, or remove it)"
//! );
//! ```

mod chain;
mod check;
mod condition;
mod retry;
mod states;

use std::fmt;
use std::marker::PhantomData;

pub use chain::{Chain, Closed, IntoChain, Open, Subflow};
pub use condition::Numeric;
pub use retry::{Catch, Retry, STATES_ALL};
pub use states::marker;
pub use states::{Choice, Fail, Map, Parallel, Pass, Rule, Succeed, Task, Wait};

pub use crate::diagnostics::{Code, Diagnostic};
pub use crate::model::{
    Condition, ExecutionType, IntOrExpr, ItemBatcher, ItemReader, JitterStrategy, Object, Operator,
    QueryLanguage, ResultWriter, State, StateMachine, TaskState,
};
pub use crate::validate::Options;

use chain::Fragment;
use marker::Ready;

/// Typestate of a [`MachineBuilder`] that has no start yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoStart;

/// Builds a [`StateMachine`]: machine-level fields, the start chain, then [`build`](Self::build).
/// Made by [`StateMachine::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct MachineBuilder<S = Ready> {
    comment: Option<String>,
    query_language: Option<QueryLanguage>,
    timeout_seconds: Option<u64>,
    version: Option<String>,
    start: Option<Fragment>,
    also: Vec<Fragment>,
    _start: PhantomData<S>,
}

impl StateMachine {
    /// Starts building a state machine.
    ///
    /// ```
    /// use stepwright::builder::*;
    /// let m = StateMachine::builder().start(Succeed::new("Done")).build()?;
    /// assert_eq!(m.to_json(), r#"{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}"#);
    /// # Ok::<(), BuildError>(())
    /// ```
    pub fn builder() -> MachineBuilder<NoStart> {
        MachineBuilder {
            comment: None,
            query_language: None,
            timeout_seconds: None,
            version: None,
            start: None,
            also: Vec::new(),
            _start: PhantomData,
        }
    }
}

impl<S> MachineBuilder<S> {
    /// The machine's `Comment`.
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// The machine's `QueryLanguage`, inherited by every state that does not set its own.
    pub fn query_language(mut self, language: QueryLanguage) -> Self {
        self.query_language = Some(language);
        self
    }

    /// `QueryLanguage: JSONata` for the whole machine (no state may then use JSONPath).
    pub fn jsonata(self) -> Self {
        self.query_language(QueryLanguage::Jsonata)
    }

    /// `QueryLanguage: JSONPath`, written out explicitly (it is the default).
    pub fn jsonpath(self) -> Self {
        self.query_language(QueryLanguage::JsonPath)
    }

    /// `TimeoutSeconds`: the maximum run time of an execution.
    pub fn timeout_seconds(mut self, seconds: u64) -> Self {
        self.timeout_seconds = Some(seconds);
        self
    }

    /// `Version` (`"1.0"`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Adds states that are not on the start chain and are reached only by name (shared
    /// handlers, loop targets). They are written after the start chain's states.
    pub fn also(mut self, chain: impl IntoChain) -> Self {
        self.also.push(chain.into_chain().frag);
        self
    }
}

impl MachineBuilder<NoStart> {
    /// The chain the machine starts with (`StartAt` is its first state).
    pub fn start(self, chain: impl IntoChain) -> MachineBuilder<Ready> {
        MachineBuilder {
            comment: self.comment,
            query_language: self.query_language,
            timeout_seconds: self.timeout_seconds,
            version: self.version,
            start: Some(chain.into_chain().frag),
            also: self.also,
            _start: PhantomData,
        }
    }
}

impl MachineBuilder<Ready> {
    /// Assembles and checks the machine for a STANDARD workflow (see
    /// [`build_with`](Self::build_with)). On success the machine is ready to render with
    /// [`StateMachine::to_json_pretty`]; otherwise the error lists every problem found.
    pub fn build(self) -> Result<StateMachine, BuildError> {
        self.build_with(&Options::default())
    }

    /// Assembles the machine, runs the builder's own checks (names, targets, reachability,
    /// termination, query-language fields, Choice operands: each message names the state), then,
    /// when those pass, the full validator ([`crate::validate()`]) with `options` (for example
    /// [`Options::express`] for an EXPRESS workflow). Validator errors fail the build;
    /// warnings do not (call [`crate::validate()`] on the result to see them).
    ///
    /// ```
    /// use stepwright::builder::*;
    /// // a malformed path: only the validator knows JSONPath syntax
    /// let bad = StateMachine::builder().start(Pass::new("P").result_path("$.a["));
    /// let err = bad.build_with(&Options::express()).unwrap_err();
    /// assert!(err.has(Code::InvalidJsonPath));
    /// assert!(err.diagnostics()[0].pointer.starts_with("/States/P/ResultPath"));
    /// ```
    pub fn build_with(self, options: &Options) -> Result<StateMachine, BuildError> {
        let start = self.start.unwrap_or_default();
        let start_at = start.start.clone();
        let mut fragments = vec![start];
        fragments.extend(self.also);
        let mut asm = check::Assembler::new();
        let states = asm.scope(fragments, "/States");
        let machine = StateMachine {
            comment: self.comment,
            query_language: self.query_language,
            start_at,
            timeout_seconds: self.timeout_seconds,
            version: self.version,
            states,
        };
        let mut errors = asm.errors;
        check::check(&machine, &mut errors);
        if errors.is_empty() {
            // The builder's checks report graph problems in its own words; the validator then
            // checks everything else (paths, intrinsics, JSONata, limits, integrations, ...).
            errors = crate::validate::validate(&machine, options)
                .into_iter()
                .filter(Diagnostic::is_error)
                .collect();
        }
        if errors.is_empty() {
            Ok(machine)
        } else {
            Err(BuildError {
                diagnostics: errors,
            })
        }
    }
}

/// Why [`MachineBuilder::build`] failed: one or more diagnostics, each with the pointer of the
/// state (`/States/Train`), a stable code and a message naming the state.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildError {
    diagnostics: Vec<Diagnostic>,
}

impl BuildError {
    /// Every problem found.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Consumes the error, giving its diagnostics.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    /// True when some diagnostic has this code.
    pub fn has(&self, code: Code) -> bool {
        self.diagnostics.iter().any(|d| d.code == code)
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        write!(
            f,
            "cannot build the state machine ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for d in &self.diagnostics {
            write!(f, "\n  {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildError {}
