//! The execution history, in the shape of Step Functions' `GetExecutionHistory`.
//!
//! Every event has an `id` (from 1), the `previousEventId` of the event it follows in its branch
//! of the execution, a virtual-time `timestamp` and typed details. Inputs and outputs are shared
//! (`Arc<Value>`) with the running execution, so recording the full history costs no copies.
//! [`History::to_json`] renders the AWS JSON shape (inputs and outputs as JSON strings, as the API
//! returns them); [`History::trace`] renders a readable trace.

use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::time::Instant;

/// A JSON value shared between the execution and its history.
pub type Data = Arc<Value>;

/// The kind of a state, as it appears in event type names (`PassStateEntered`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateKind {
    /// A Pass state.
    Pass,
    /// A Task state.
    Task,
    /// A Choice state.
    Choice,
    /// A Wait state.
    Wait,
    /// A Succeed state.
    Succeed,
    /// A Fail state.
    Fail,
    /// A Parallel state.
    Parallel,
    /// A Map state.
    Map,
}

impl StateKind {
    /// `Pass`, `Task`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            StateKind::Pass => "Pass",
            StateKind::Task => "Task",
            StateKind::Choice => "Choice",
            StateKind::Wait => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail => "Fail",
            StateKind::Parallel => "Parallel",
            StateKind::Map => "Map",
        }
    }

    fn entered(self) -> &'static str {
        match self {
            StateKind::Pass => "PassStateEntered",
            StateKind::Task => "TaskStateEntered",
            StateKind::Choice => "ChoiceStateEntered",
            StateKind::Wait => "WaitStateEntered",
            StateKind::Succeed => "SucceedStateEntered",
            StateKind::Fail => "FailStateEntered",
            StateKind::Parallel => "ParallelStateEntered",
            StateKind::Map => "MapStateEntered",
        }
    }

    fn exited(self) -> &'static str {
        match self {
            StateKind::Pass => "PassStateExited",
            StateKind::Task => "TaskStateExited",
            StateKind::Choice => "ChoiceStateExited",
            StateKind::Wait => "WaitStateExited",
            StateKind::Succeed => "SucceedStateExited",
            StateKind::Fail => "FailStateExited",
            StateKind::Parallel => "ParallelStateExited",
            StateKind::Map => "MapStateExited",
        }
    }

    fn aborted(self) -> &'static str {
        match self {
            StateKind::Task => "TaskStateAborted",
            StateKind::Wait => "WaitStateAborted",
            StateKind::Parallel => "ParallelStateAborted",
            StateKind::Map => "MapStateAborted",
            // Other states finish instantly and are never aborted; keep a stable name anyway.
            StateKind::Pass => "PassStateAborted",
            StateKind::Choice => "ChoiceStateAborted",
            StateKind::Succeed => "SucceedStateAborted",
            StateKind::Fail => "FailStateAborted",
        }
    }
}

/// How a task was dispatched: selects the `Task*`, `LambdaFunction*` or `Activity*` event family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskFamily {
    /// A service integration (`arn:aws:states:::lambda:invoke`, `aws-sdk:...`): `Task*` events
    /// with `resourceType` and `resource`.
    Service {
        /// e.g. `lambda`, `aws-sdk:s3`, `sagemaker`.
        resource_type: Arc<str>,
        /// e.g. `invoke`, `getObject`, `createTrainingJob.sync`.
        resource: Arc<str>,
    },
    /// A Lambda function ARN used directly as the Resource: `LambdaFunction*` events.
    Lambda {
        /// The function ARN.
        resource: Arc<str>,
    },
    /// An activity ARN: `Activity*` events.
    Activity {
        /// The activity ARN.
        resource: Arc<str>,
    },
}

/// An error name and cause, as events carry them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorInfo {
    /// The error name (absent for a Fail state without `Error`).
    pub error: Option<String>,
    /// The cause.
    pub cause: Option<String>,
}

/// Variables a state assigned: (name, value), in assignment order.
pub type AssignedVariables = Arc<[(Arc<str>, Value)]>;

/// The details of one history event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventDetails {
    /// The execution started with this input.
    ExecutionStarted {
        /// The execution input.
        input: Data,
        /// The role the execution runs as.
        role_arn: Arc<str>,
    },
    /// The execution succeeded.
    ExecutionSucceeded {
        /// The execution output.
        output: Data,
    },
    /// The execution failed.
    ExecutionFailed(ErrorInfo),
    /// The execution ran longer than its `TimeoutSeconds`.
    ExecutionTimedOut(ErrorInfo),
    /// The execution was stopped.
    ExecutionAborted(ErrorInfo),
    /// A state was entered.
    StateEntered {
        /// The state's type.
        kind: StateKind,
        /// The state's name.
        name: Arc<str>,
        /// The state's raw input.
        input: Data,
    },
    /// A state was left.
    StateExited {
        /// The state's type.
        kind: StateKind,
        /// The state's name.
        name: Arc<str>,
        /// The state's output.
        output: Data,
        /// Variables the state assigned (name, value), in assignment order.
        assigned_variables: Option<AssignedVariables>,
    },
    /// A running state was stopped because a sibling branch or iteration failed.
    StateAborted {
        /// The state's type.
        kind: StateKind,
        /// The state's name.
        name: Arc<str>,
    },
    /// A task was scheduled.
    TaskScheduled(Box<ScheduledTask>),
    /// The task started.
    TaskStarted {
        /// How it is dispatched.
        family: TaskFamily,
    },
    /// The task succeeded.
    TaskSucceeded {
        /// How it is dispatched.
        family: TaskFamily,
        /// The raw result.
        output: Data,
    },
    /// The task failed.
    TaskFailed {
        /// How it is dispatched.
        family: TaskFamily,
        /// Error and cause.
        error: Box<ErrorInfo>,
    },
    /// The task timed out (or missed a heartbeat).
    TaskTimedOut {
        /// How it is dispatched.
        family: TaskFamily,
        /// Error and cause.
        error: Box<ErrorInfo>,
    },
    /// A Map state started its iterations.
    MapStateStarted {
        /// The number of items.
        length: usize,
    },
    /// A Map state's iterations all finished.
    MapStateSucceeded,
    /// A Map state failed.
    MapStateFailed,
    /// An inline Map iteration started.
    MapIterationStarted {
        /// The Map state's name.
        name: Arc<str>,
        /// The item index.
        index: usize,
    },
    /// An inline Map iteration succeeded.
    MapIterationSucceeded {
        /// The Map state's name.
        name: Arc<str>,
        /// The item index.
        index: usize,
    },
    /// An inline Map iteration failed.
    MapIterationFailed {
        /// The Map state's name.
        name: Arc<str>,
        /// The item index.
        index: usize,
    },
    /// An inline Map iteration was aborted.
    MapIterationAborted {
        /// The Map state's name.
        name: Arc<str>,
        /// The item index.
        index: usize,
    },
    /// A Distributed Map run started.
    MapRunStarted {
        /// The Map Run ARN.
        map_run_arn: Arc<str>,
    },
    /// A Distributed Map run succeeded.
    MapRunSucceeded,
    /// A Distributed Map run failed.
    MapRunFailed(ErrorInfo),
    /// A Parallel state started its branches.
    ParallelStateStarted,
    /// A Parallel state's branches all succeeded.
    ParallelStateSucceeded,
    /// A Parallel state failed.
    ParallelStateFailed,
    /// An expression of a JSONata state failed to evaluate.
    EvaluationFailed(Box<EvaluationFailure>),
}

/// The details of a `TaskScheduled` (`LambdaFunctionScheduled`, `ActivityScheduled`) event.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledTask {
    /// How it is dispatched.
    pub family: TaskFamily,
    /// The region (service integrations only).
    pub region: Arc<str>,
    /// The request (after Parameters/Arguments).
    pub parameters: Data,
    /// `TimeoutSeconds`, when the state sets it.
    pub timeout_seconds: Option<u64>,
    /// `HeartbeatSeconds`, when the state sets it.
    pub heartbeat_seconds: Option<u64>,
}

/// The details of an `EvaluationFailed` event.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationFailure {
    /// Error and cause.
    pub error: ErrorInfo,
    /// The field, e.g. `Output` or `Assign/result`.
    pub location: Option<String>,
    /// The state's name.
    pub state: Arc<str>,
}

/// One history event.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    /// Sequential id, from 1.
    pub id: u64,
    /// The id of the event this one follows (0 for none).
    pub previous_event_id: u64,
    /// When it happened, in virtual time.
    pub timestamp: Instant,
    /// What happened.
    pub details: EventDetails,
}

impl HistoryEvent {
    /// The AWS event type name, e.g. `PassStateEntered`, `TaskSucceeded`, `LambdaFunctionFailed`.
    pub fn event_type(&self) -> &'static str {
        use EventDetails as D;
        fn fam(
            f: &TaskFamily,
            svc: &'static str,
            lam: &'static str,
            act: &'static str,
        ) -> &'static str {
            match f {
                TaskFamily::Service { .. } => svc,
                TaskFamily::Lambda { .. } => lam,
                TaskFamily::Activity { .. } => act,
            }
        }
        match &self.details {
            D::ExecutionStarted { .. } => "ExecutionStarted",
            D::ExecutionSucceeded { .. } => "ExecutionSucceeded",
            D::ExecutionFailed(_) => "ExecutionFailed",
            D::ExecutionTimedOut(_) => "ExecutionTimedOut",
            D::ExecutionAborted(_) => "ExecutionAborted",
            D::StateEntered { kind, .. } => kind.entered(),
            D::StateExited { kind, .. } => kind.exited(),
            D::StateAborted { kind, .. } => kind.aborted(),
            D::TaskScheduled(t) => fam(
                &t.family,
                "TaskScheduled",
                "LambdaFunctionScheduled",
                "ActivityScheduled",
            ),
            D::TaskStarted { family } => fam(
                family,
                "TaskStarted",
                "LambdaFunctionStarted",
                "ActivityStarted",
            ),
            D::TaskSucceeded { family, .. } => fam(
                family,
                "TaskSucceeded",
                "LambdaFunctionSucceeded",
                "ActivitySucceeded",
            ),
            D::TaskFailed { family, .. } => fam(
                family,
                "TaskFailed",
                "LambdaFunctionFailed",
                "ActivityFailed",
            ),
            D::TaskTimedOut { family, .. } => fam(
                family,
                "TaskTimedOut",
                "LambdaFunctionTimedOut",
                "ActivityTimedOut",
            ),
            D::MapStateStarted { .. } => "MapStateStarted",
            D::MapStateSucceeded => "MapStateSucceeded",
            D::MapStateFailed => "MapStateFailed",
            D::MapIterationStarted { .. } => "MapIterationStarted",
            D::MapIterationSucceeded { .. } => "MapIterationSucceeded",
            D::MapIterationFailed { .. } => "MapIterationFailed",
            D::MapIterationAborted { .. } => "MapIterationAborted",
            D::MapRunStarted { .. } => "MapRunStarted",
            D::MapRunSucceeded => "MapRunSucceeded",
            D::MapRunFailed(_) => "MapRunFailed",
            D::ParallelStateStarted => "ParallelStateStarted",
            D::ParallelStateSucceeded => "ParallelStateSucceeded",
            D::ParallelStateFailed => "ParallelStateFailed",
            D::EvaluationFailed { .. } => "EvaluationFailed",
        }
    }

    /// The event in the AWS `GetExecutionHistory` JSON shape.
    pub fn to_json(&self) -> Value {
        use EventDetails as D;
        let mut m = Map::new();
        m.insert(
            "timestamp".into(),
            Value::String(self.timestamp.to_iso_millis()),
        );
        m.insert("type".into(), Value::String(self.event_type().into()));
        m.insert("id".into(), json!(self.id));
        m.insert("previousEventId".into(), json!(self.previous_event_id));
        let (key, details): (&str, Value) = match &self.details {
            D::ExecutionStarted { input, role_arn } => (
                "executionStartedEventDetails",
                json!({"input": json_string(input), "inputDetails": {"truncated": false}, "roleArn": &**role_arn}),
            ),
            D::ExecutionSucceeded { output } => (
                "executionSucceededEventDetails",
                json!({"output": json_string(output), "outputDetails": {"truncated": false}}),
            ),
            D::ExecutionFailed(e) => ("executionFailedEventDetails", error_json(e)),
            D::ExecutionTimedOut(e) => ("executionTimedOutEventDetails", error_json(e)),
            D::ExecutionAborted(e) => ("executionAbortedEventDetails", error_json(e)),
            D::StateEntered { name, input, .. } => (
                "stateEnteredEventDetails",
                json!({"name": &**name, "input": json_string(input), "inputDetails": {"truncated": false}}),
            ),
            D::StateExited {
                name,
                output,
                assigned_variables,
                ..
            } => {
                let mut d = json!({"name": &**name, "output": json_string(output), "outputDetails": {"truncated": false}});
                if let Some(vars) = assigned_variables {
                    let mut am = Map::new();
                    for (k, v) in vars.iter() {
                        am.insert(k.to_string(), Value::String(v.to_string()));
                    }
                    d["assignedVariables"] = Value::Object(am);
                    d["assignedVariablesDetails"] = json!({"truncated": false});
                }
                ("stateExitedEventDetails", d)
            }
            D::StateAborted { .. } => return Value::Object(m),
            D::TaskScheduled(t) => {
                let ScheduledTask {
                    family,
                    region,
                    parameters,
                    timeout_seconds,
                    heartbeat_seconds,
                } = &**t;
                let mut d = Map::new();
                let key = match family {
                    TaskFamily::Service {
                        resource_type,
                        resource,
                    } => {
                        d.insert("resourceType".into(), json!(&**resource_type));
                        d.insert("resource".into(), json!(&**resource));
                        d.insert("region".into(), json!(&**region));
                        d.insert("parameters".into(), json_string(parameters));
                        "taskScheduledEventDetails"
                    }
                    TaskFamily::Lambda { resource } => {
                        d.insert("resource".into(), json!(&**resource));
                        d.insert("input".into(), json_string(parameters));
                        d.insert("inputDetails".into(), json!({"truncated": false}));
                        "lambdaFunctionScheduledEventDetails"
                    }
                    TaskFamily::Activity { resource } => {
                        d.insert("resource".into(), json!(&**resource));
                        d.insert("input".into(), json_string(parameters));
                        d.insert("inputDetails".into(), json!({"truncated": false}));
                        "activityScheduledEventDetails"
                    }
                };
                if let Some(t) = timeout_seconds {
                    d.insert("timeoutInSeconds".into(), json!(t));
                }
                if let Some(h) = heartbeat_seconds {
                    d.insert("heartbeatInSeconds".into(), json!(h));
                }
                (key, Value::Object(d))
            }
            D::TaskStarted { family } => match family {
                TaskFamily::Service {
                    resource_type,
                    resource,
                } => (
                    "taskStartedEventDetails",
                    json!({"resourceType": &**resource_type, "resource": &**resource}),
                ),
                TaskFamily::Lambda { .. } => return Value::Object(m),
                TaskFamily::Activity { .. } => (
                    "activityStartedEventDetails",
                    json!({"workerName": "stepwright-local"}),
                ),
            },
            D::TaskSucceeded { family, output } => match family {
                TaskFamily::Service {
                    resource_type,
                    resource,
                } => (
                    "taskSucceededEventDetails",
                    json!({"resourceType": &**resource_type, "resource": &**resource, "output": json_string(output), "outputDetails": {"truncated": false}}),
                ),
                TaskFamily::Lambda { .. } => (
                    "lambdaFunctionSucceededEventDetails",
                    json!({"output": json_string(output), "outputDetails": {"truncated": false}}),
                ),
                TaskFamily::Activity { .. } => (
                    "activitySucceededEventDetails",
                    json!({"output": json_string(output), "outputDetails": {"truncated": false}}),
                ),
            },
            D::TaskFailed { family, error } | D::TaskTimedOut { family, error } => {
                let timed_out = matches!(self.details, D::TaskTimedOut { .. });
                let mut d = error_json(error);
                let key = match family {
                    TaskFamily::Service {
                        resource_type,
                        resource,
                    } => {
                        d["resourceType"] = json!(&**resource_type);
                        d["resource"] = json!(&**resource);
                        if timed_out {
                            "taskTimedOutEventDetails"
                        } else {
                            "taskFailedEventDetails"
                        }
                    }
                    TaskFamily::Lambda { .. } => {
                        if timed_out {
                            "lambdaFunctionTimedOutEventDetails"
                        } else {
                            "lambdaFunctionFailedEventDetails"
                        }
                    }
                    TaskFamily::Activity { .. } => {
                        if timed_out {
                            "activityTimedOutEventDetails"
                        } else {
                            "activityFailedEventDetails"
                        }
                    }
                };
                (key, d)
            }
            D::MapStateStarted { length } => {
                ("mapStateStartedEventDetails", json!({"length": length}))
            }
            D::MapIterationStarted { name, index } => (
                "mapIterationStartedEventDetails",
                json!({"name": &**name, "index": index}),
            ),
            D::MapIterationSucceeded { name, index } => (
                "mapIterationSucceededEventDetails",
                json!({"name": &**name, "index": index}),
            ),
            D::MapIterationFailed { name, index } => (
                "mapIterationFailedEventDetails",
                json!({"name": &**name, "index": index}),
            ),
            D::MapIterationAborted { name, index } => (
                "mapIterationAbortedEventDetails",
                json!({"name": &**name, "index": index}),
            ),
            D::MapRunStarted { map_run_arn } => (
                "mapRunStartedEventDetails",
                json!({"mapRunArn": &**map_run_arn}),
            ),
            D::MapRunFailed(e) => ("mapRunFailedEventDetails", error_json(e)),
            D::EvaluationFailed(ev) => {
                let EvaluationFailure {
                    error,
                    location,
                    state,
                } = &**ev;
                let mut d = error_json(error);
                if let Some(l) = location {
                    d["location"] = json!(l);
                }
                d["state"] = json!(&**state);
                ("evaluationFailedEventDetails", d)
            }
            D::MapStateSucceeded
            | D::MapStateFailed
            | D::MapRunSucceeded
            | D::ParallelStateStarted
            | D::ParallelStateSucceeded
            | D::ParallelStateFailed => return Value::Object(m),
        };
        m.insert(key.into(), details);
        Value::Object(m)
    }
}

fn json_string(v: &Value) -> Value {
    Value::String(v.to_string())
}

fn error_json(e: &ErrorInfo) -> Value {
    let mut m = Map::new();
    if let Some(x) = &e.error {
        m.insert("error".into(), json!(x));
    }
    if let Some(x) = &e.cause {
        m.insert("cause".into(), json!(x));
    }
    Value::Object(m)
}

/// The events of one execution, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    events: Vec<HistoryEvent>,
}

impl History {
    /// An empty history.
    pub fn new() -> History {
        History::default()
    }

    /// An empty history with room for `n` events.
    pub fn with_capacity(n: usize) -> History {
        History {
            events: Vec::with_capacity(n),
        }
    }

    /// Appends an event (ids are assigned by the caller).
    pub(crate) fn push(&mut self, e: HistoryEvent) {
        self.events.push(e);
    }

    /// The events.
    pub fn events(&self) -> &[HistoryEvent] {
        &self.events
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when no event was recorded.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The event type names, in order (handy in tests).
    pub fn event_types(&self) -> Vec<&'static str> {
        self.events.iter().map(HistoryEvent::event_type).collect()
    }

    /// The history as `{"events": [...]}`, the `GetExecutionHistory` response shape.
    pub fn to_json(&self) -> Value {
        json!({"events": self.events.iter().map(HistoryEvent::to_json).collect::<Vec<_>>()})
    }

    /// A readable trace: one line per state entered and exited (and per task, iteration,
    /// branch and failure), with the virtual time elapsed since the execution started.
    pub fn trace(&self) -> String {
        let mut w = TraceWriter::new();
        self.events.iter().map(|e| w.line(e)).collect()
    }
}

/// Formats history events one at a time, as [`History::trace`] does: for printing an execution
/// while it runs (see [`Runner::on_event`](crate::Runner::on_event)).
///
/// ```
/// use stepwright_local::{history::TraceWriter, Runner};
/// use std::sync::{Arc, Mutex};
///
/// let lines = Arc::new(Mutex::new(Vec::new()));
/// let seen = lines.clone();
/// let writer = Mutex::new(TraceWriter::new());
/// let runner = Runner::from_json(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#)?
///     .on_event(move |e| seen.lock().unwrap().push(writer.lock().unwrap().line(e)));
/// let exec = runner.run(serde_json::json!({"x": 1}));
/// assert_eq!(lines.lock().unwrap().concat(), exec.history.trace());
/// # Ok::<(), stepwright_local::SetupError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TraceWriter {
    t0: Option<Instant>,
    depth: usize,
}

impl TraceWriter {
    /// A writer for a new execution (elapsed times count from its first event).
    pub fn new() -> TraceWriter {
        TraceWriter::default()
    }

    /// The trace line of `e` (elapsed time, indentation by nesting, a newline at the end).
    pub fn line(&mut self, e: &HistoryEvent) -> String {
        let mut out = String::new();
        use EventDetails as D;
        let t0 = *self.t0.get_or_insert(e.timestamp);
        let dt = e.timestamp.nanos_since(t0);
        let line = match &e.details {
            D::ExecutionStarted { input, .. } => {
                format!("execution started  input={}", short(input))
            }
            D::ExecutionSucceeded { output } => {
                format!("execution succeeded output={}", short(output))
            }
            D::ExecutionFailed(er) => format!("execution failed   {}", err_text(er)),
            D::ExecutionTimedOut(er) => format!("execution timed out {}", err_text(er)),
            D::ExecutionAborted(er) => format!("execution aborted  {}", err_text(er)),
            D::StateEntered { kind, name, input } => {
                let s = format!(
                    "{}> {name} ({}) input={}",
                    "  ".repeat(self.depth),
                    kind.as_str(),
                    short(input)
                );
                self.depth += 1;
                out_line(&mut out, dt, &s);
                return out;
            }
            D::StateExited {
                name,
                output,
                assigned_variables,
                ..
            } => {
                self.depth = self.depth.saturating_sub(1);
                let mut s = format!(
                    "{}< {name} output={}",
                    "  ".repeat(self.depth),
                    short(output)
                );
                if let Some(vars) = assigned_variables {
                    let names: Vec<&str> = vars.iter().map(|(k, _)| &**k).collect();
                    let _ = write!(s, " assigned=[{}]", names.join(", "));
                }
                out_line(&mut out, dt, &s);
                return out;
            }
            D::StateAborted { name, .. } => {
                self.depth = self.depth.saturating_sub(1);
                format!("{name} aborted")
            }
            D::TaskScheduled(t) => {
                format!("{} request={}", e.event_type(), short(&t.parameters))
            }
            D::TaskSucceeded { output, .. } => {
                format!("{} result={}", e.event_type(), short(output))
            }
            D::TaskFailed { error, .. } | D::TaskTimedOut { error, .. } => {
                format!("{} {}", e.event_type(), err_text(error))
            }
            D::MapIterationStarted { index, .. } => format!("iteration {index} started"),
            D::MapIterationSucceeded { index, .. } => format!("iteration {index} succeeded"),
            D::MapIterationFailed { index, .. } => format!("iteration {index} failed"),
            D::MapIterationAborted { index, .. } => format!("iteration {index} aborted"),
            D::MapStateStarted { length } => format!("map started with {length} items"),
            D::EvaluationFailed(ev) => format!(
                "evaluation failed{} {}",
                ev.location
                    .as_deref()
                    .map(|l| format!(" in {l}"))
                    .unwrap_or_default(),
                err_text(&ev.error)
            ),
            D::MapRunFailed(er) => format!("map run failed {}", err_text(er)),
            _ => e.event_type().to_string(),
        };
        let top = matches!(
            e.details,
            D::ExecutionStarted { .. }
                | D::ExecutionSucceeded { .. }
                | D::ExecutionFailed(_)
                | D::ExecutionTimedOut(_)
                | D::ExecutionAborted(_)
        );
        let indented = if top {
            line
        } else {
            format!("{}{}", "  ".repeat(self.depth), line)
        };
        out_line(&mut out, dt, &indented);
        out
    }
}

fn out_line(out: &mut String, nanos: i128, text: &str) {
    let _ = writeln!(out, "{:>12} {text}", fmt_elapsed(nanos));
}

/// `+0.000s`, `+1m30.000s`, `+2d3h0m0.000s`.
pub(crate) fn fmt_elapsed(nanos: i128) -> String {
    let ms = nanos / 1_000_000;
    let (s, ms) = (ms / 1000, ms % 1000);
    let (m, s) = (s / 60, s % 60);
    let (h, m) = (m / 60, m % 60);
    let (d, h) = (h / 24, h % 24);
    if d > 0 {
        format!("+{d}d{h}h{m}m{s}.{ms:03}s")
    } else if h > 0 {
        format!("+{h}h{m}m{s}.{ms:03}s")
    } else if m > 0 {
        format!("+{m}m{s}.{ms:03}s")
    } else {
        format!("+{s}.{ms:03}s")
    }
}

fn err_text(e: &ErrorInfo) -> String {
    format!(
        "error={} cause={}",
        e.error.as_deref().unwrap_or("-"),
        e.cause
            .as_deref()
            .map(truncate)
            .unwrap_or_else(|| "-".into())
    )
}

fn short(v: &Value) -> String {
    truncate(&v.to_string())
}

fn truncate(s: &str) -> String {
    const MAX: usize = 120;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_json_shape() {
        let e = HistoryEvent {
            id: 2,
            previous_event_id: 0,
            timestamp: crate::time::DEFAULT_START,
            details: EventDetails::StateEntered {
                kind: StateKind::Pass,
                name: "A".into(),
                input: Arc::new(json!({"x": 1})),
            },
        };
        assert_eq!(e.event_type(), "PassStateEntered");
        let j = e.to_json();
        assert_eq!(j["stateEnteredEventDetails"]["input"], json!("{\"x\":1}"));
        assert_eq!(j["previousEventId"], json!(0));
        assert_eq!(j["timestamp"], json!("2024-01-01T00:00:00.000Z"));
    }

    #[test]
    fn task_families_name_events() {
        let lambda = TaskFamily::Lambda {
            resource: "arn:aws:lambda:us-east-1:1:function:f".into(),
        };
        let e = HistoryEvent {
            id: 1,
            previous_event_id: 0,
            timestamp: crate::time::DEFAULT_START,
            details: EventDetails::TaskFailed {
                family: lambda,
                error: Box::new(ErrorInfo {
                    error: Some("E".into()),
                    cause: None,
                }),
            },
        };
        assert_eq!(e.event_type(), "LambdaFunctionFailed");
        assert_eq!(
            e.to_json()["lambdaFunctionFailedEventDetails"],
            json!({"error": "E"})
        );
    }

    #[test]
    fn elapsed_formatting() {
        assert_eq!(fmt_elapsed(0), "+0.000s");
        assert_eq!(fmt_elapsed(90_000_000_000), "+1m30.000s");
        assert_eq!(fmt_elapsed(86_400_000_000_000), "+1d0h0m0.000s");
    }
}
