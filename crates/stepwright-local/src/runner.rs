//! The public entry point: [`Runner`] (a compiled machine plus its task handlers, mocks and
//! options) and [`Execution`] (the result of one run).

use std::fmt;
use std::sync::Arc;

use serde_json::{json, Value};
use stepwright::StateMachine;

use crate::error::SetupError;
use crate::exec::Exec;
use crate::history::{History, HistoryEvent};
use crate::items::ObjectStore;
use crate::lambda_http::LambdaEndpoint;
use crate::mock::MockTestCase;
use crate::program::{compile, Program};
use crate::tasks::{Registry, TaskHandler};
use crate::time::{Instant, DEFAULT_START};

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// It reached a Succeed state or an `End`.
    Succeeded,
    /// A state failed and nothing caught the error.
    Failed,
    /// It ran longer than the machine's `TimeoutSeconds` (virtual time).
    TimedOut,
    /// It was stopped.
    Aborted,
}

impl Status {
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`, as AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
            Status::Aborted => "ABORTED",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Options of a run. The defaults give a deterministic execution that behaves as AWS does
/// (256 KiB payloads, 25,000 history events).
#[derive(Debug, Clone)]
pub struct Options {
    /// When the execution starts (virtual time). Default 2024-01-01T00:00:00Z.
    pub start_time: Instant,
    /// Seed of every random value (UUIDs, `$random`, jitter, task tokens). Default 0.
    pub seed: u64,
    /// The region in ARNs and events. Default `us-east-1`.
    pub region: String,
    /// The account id in ARNs. Default `123456789012`.
    pub account_id: String,
    /// The state machine name (in ARNs and the context object). Default `StateMachine`.
    pub state_machine_name: String,
    /// The execution name. Default `local`.
    pub execution_name: String,
    /// The execution role ARN.
    pub role_arn: String,
    /// AWS fails an execution whose history reaches 25,000 events; `None` lifts the limit.
    pub max_history_events: Option<usize>,
    /// AWS's payload limit, 256 KiB (`States.DataLimitExceeded`); `None` lifts it.
    pub max_payload_bytes: Option<usize>,
    /// A guard against runaway loops when the history limit is lifted. Default 10,000,000.
    pub max_state_transitions: Option<u64>,
    /// Record the history (default true). Without it, runs are faster and `history` is empty.
    pub record_history: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            start_time: DEFAULT_START,
            seed: 0,
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            state_machine_name: "StateMachine".into(),
            execution_name: "local".into(),
            role_arn: "arn:aws:iam::123456789012:role/StepwrightLocal".into(),
            max_history_events: Some(25_000),
            max_payload_bytes: Some(256 * 1024),
            max_state_transitions: Some(10_000_000),
            record_history: true,
        }
    }
}

/// What a run is configured with (shared by every execution of a runner).
pub(crate) struct Config {
    pub options: Options,
    pub registry: Registry,
    pub mock: Option<MockTestCase>,
    pub store: Option<Arc<dyn ObjectStore>>,
    /// The history length of the last run: the next one reserves that much up front.
    pub history_hint: std::sync::atomic::AtomicUsize,
    /// Called with each event as it is recorded ([`Runner::on_event`]).
    pub observer: Option<Observer>,
}

/// A function called with each history event as it is recorded.
pub(crate) type Observer = Arc<dyn Fn(&HistoryEvent) + Send + Sync>;

/// Runs one state machine, as many times as you like, offline and deterministically.
///
/// ```
/// use serde_json::json;
/// use stepwright_local::{Runner, Status, tasks::TaskError};
///
/// let runner = Runner::from_json(r#"{
///   "StartAt": "Double",
///   "States": {
///     "Double": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
///                "Parameters": {"FunctionName": "double", "Payload.$": "$"},
///                "ResultSelector": {"x.$": "$.Payload.x"}, "End": true}
///   }
/// }"#)?
/// .handler("double", |req: &stepwright_local::tasks::TaskRequest| {
///     let x = req.lambda_payload()["x"].as_i64().ok_or_else(|| TaskError::new("Bad.Input", "x"))?;
///     Ok(json!({"x": x * 2}))
/// });
/// let exec = runner.run(json!({"x": 21}));
/// assert_eq!(exec.status, Status::Succeeded);
/// assert_eq!(exec.output, Some(json!({"x": 42})));
/// assert!(exec.history.event_types().contains(&"TaskSucceeded"));
/// # Ok::<(), stepwright_local::SetupError>(())
/// ```
pub struct Runner {
    program: Arc<Program>,
    config: Config,
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("options", &self.config.options)
            .field("registry", &self.config.registry)
            .field("mock", &self.config.mock.as_ref().map(|m| &m.name))
            .finish()
    }
}

impl Runner {
    /// A runner for a parsed machine.
    pub fn new(machine: &StateMachine) -> Result<Runner, SetupError> {
        Ok(Runner {
            program: Arc::new(compile(machine)?),
            config: Config {
                options: Options::default(),
                registry: Registry::default(),
                mock: None,
                store: None,
                history_hint: Default::default(),
                observer: None,
            },
        })
    }

    /// A runner for a definition's JSON text (parse errors carry their JSON pointer).
    pub fn from_json(text: &str) -> Result<Runner, SetupError> {
        let m = StateMachine::from_json(text).map_err(|e| {
            let d = e.diagnostics().first();
            SetupError {
                message: format!("invalid state machine definition: {e}"),
                pointer: d.map(|d| d.pointer.clone()),
            }
        })?;
        Runner::new(&m)
    }

    /// Calls `f` with each history event as it is recorded, while the execution runs: for a live
    /// trace ([`TraceWriter`](crate::history::TraceWriter) formats events as
    /// [`History::trace`](crate::History::trace) does) or a progress display. Events are
    /// recorded, and `f` called, in history order on the thread that runs the execution; with
    /// [`Options::record_history`] off, `f` is not called.
    pub fn on_event(mut self, f: impl Fn(&HistoryEvent) + Send + Sync + 'static) -> Runner {
        self.config.observer = Some(Arc::new(f));
        self
    }

    /// Registers a handler for a Lambda function name (used for `lambda:invoke` with that
    /// `FunctionName` and for the function's ARN as a Resource).
    pub fn handler(mut self, function: &str, h: impl TaskHandler + 'static) -> Runner {
        self.config.registry.by_function.insert(
            crate::tasks::function_name(function).to_string(),
            Arc::new(h),
        );
        self
    }

    /// Registers a handler for a Resource ARN (e.g. `arn:aws:states:::sqs:sendMessage`); it
    /// matches with or without the `.sync` / `.waitForTaskToken` suffix.
    pub fn resource_handler(mut self, resource: &str, h: impl TaskHandler + 'static) -> Runner {
        self.config
            .registry
            .by_resource
            .insert(resource.to_string(), Arc::new(h));
        self
    }

    /// Registers a handler for one Task state, by name (takes precedence over the others).
    pub fn state_handler(mut self, state: &str, h: impl TaskHandler + 'static) -> Runner {
        self.config
            .registry
            .by_state
            .insert(state.to_string(), Arc::new(h));
        self
    }

    /// Sends Lambda functions without a registered handler to a Lambda Invoke API endpoint,
    /// e.g. `http://127.0.0.1:9000` (`cargo lambda watch`).
    pub fn lambda_endpoint(mut self, url: &str) -> Result<Runner, SetupError> {
        self.config.registry.lambda_fallback = Some(Arc::new(LambdaEndpoint::new(url)?));
        Ok(self)
    }

    /// Answers Task states from a Step Functions Local mock configuration test case.
    pub fn mock_test_case(mut self, tc: MockTestCase) -> Runner {
        self.config.mock = Some(tc);
        self
    }

    /// The storage ItemReader and ResultWriter use.
    pub fn object_store(mut self, store: impl ObjectStore + 'static) -> Runner {
        self.config.store = Some(Arc::new(store));
        self
    }

    /// Replaces all options.
    pub fn options(mut self, options: Options) -> Runner {
        self.config.options = options;
        self
    }

    /// The current options.
    pub fn get_options(&self) -> &Options {
        &self.config.options
    }

    /// Sets the random seed.
    pub fn seed(mut self, seed: u64) -> Runner {
        self.config.options.seed = seed;
        self
    }

    /// Sets the virtual start time.
    pub fn start_time(mut self, t: Instant) -> Runner {
        self.config.options.start_time = t;
        self
    }

    /// Runs the machine on `input`.
    pub fn run(&self, input: Value) -> Execution {
        Exec::new(&self.config, &self.program, Arc::new(input)).run(&self.program)
    }
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    /// How it ended.
    pub status: Status,
    /// The output, when it succeeded.
    pub output: Option<Value>,
    /// The error name, when it failed or timed out.
    pub error: Option<String>,
    /// The cause, when it failed or timed out.
    pub cause: Option<String>,
    /// Every event, in the `GetExecutionHistory` shape.
    pub history: History,
    /// Virtual start time.
    pub start: Instant,
    /// Virtual stop time.
    pub stop: Instant,
    /// How many states were entered.
    pub state_transitions: u64,
}

impl Execution {
    /// True when the status is SUCCEEDED.
    pub fn succeeded(&self) -> bool {
        self.status == Status::Succeeded
    }

    /// The stable summary `{"status", "output", "error", "cause"}` (the `--format json` line).
    pub fn summary(&self) -> Value {
        json!({
            "status": self.status.as_str(),
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
        })
    }
}
