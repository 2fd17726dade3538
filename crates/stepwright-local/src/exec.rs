//! The interpreter: runs a compiled [`Program`] against an input, recording the history.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use stepwright::Operator;

use crate::error::{names, Failure, FailureKind};
use crate::history::{
    Data, ErrorInfo, EvaluationFailure, EventDetails, History, HistoryEvent, ScheduledTask,
    StateKind, TaskFamily,
};
use crate::jp::{JPath, Lazy, Scope, Template};
use crate::jx::{self, JEnv, JTemplate};
use crate::program::{
    AssignSpec, CatchSpec, ChoiceOp, Cond, FailOp, Graph, MapOp, Node, NumSpec, Op, Operand,
    PatPart, PathSpec, Program, ResultSpec, SelectorSpec, StrSpec, TaskOp, WaitOp,
};
use crate::rng::Rng;
use crate::runner::{Config, Execution, Status};
use crate::tasks::{function_name, is_lambda_invoke, strip_pattern, TaskContext, TaskRequest};
use crate::time::{parse_timestamp, Clock, Instant};
use crate::vars::Vars;

/// Variables assigned by a state: (name, value), applied when the state exits.
pub(crate) type Assigned = Vec<(Arc<str>, Value)>;

/// Where the interpreter is inside the execution: a branch, an iteration or the top level.
pub(crate) struct Frame {
    /// The id of the last event of this frame's chain.
    pub prev: u64,
    pub vars: Vars,
    /// False inside Distributed Map child executions (their events are not the parent's).
    pub record: bool,
}

/// The state being run.
pub(crate) struct Cur<'a> {
    pub node: &'a Node,
    pub entered_id: u64,
    pub entered_at: Instant,
    pub retry_count: u32,
    pub token: Option<String>,
    pub item: Option<(usize, Data)>,
}

/// How a state hands over.
pub(crate) enum Flow {
    Next(usize, Data),
    End(Data),
}

/// Static facts about the execution (for the context object).
pub(crate) struct ExecInfo {
    pub execution_arn: String,
    pub execution_name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub role_arn: Arc<str>,
    pub input: Data,
    pub start: Instant,
}

/// The data after each processing stage of one state (TestState's `inspectionData`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Inspection {
    pub input: Option<Value>,
    pub after_input_path: Option<Value>,
    pub after_parameters: Option<Value>,
    pub after_arguments: Option<Value>,
    pub result: Option<Value>,
    pub after_result_selector: Option<Value>,
    pub after_result_path: Option<Value>,
}

/// How a TestState run ended besides success and failure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TestOutcome {
    /// A retrier would retry the error.
    Retriable,
    /// A catcher caught the error.
    Caught(Failure),
}

pub(crate) struct Exec<'r> {
    pub cfg: &'r Config,
    /// Set by TestState: record the data after each stage.
    pub inspect: Option<Box<Inspection>>,
    /// Set by TestState: run one attempt; report retriable and caught errors.
    pub single_attempt: bool,
    pub test_outcome: Option<TestOutcome>,
    /// The random source of intrinsic functions (`States.UUID`, `States.MathRandom`).
    pub intrinsic_random: stepwright::intrinsics::SeededRandom,
    pub history: History,
    pub last_id: u64,
    pub clock: Clock,
    pub rng: Rng,
    pub deadline: Option<Instant>,
    pub halt: Option<(Failure, Status)>,
    pub transitions: u64,
    pub info: ExecInfo,
}

fn prefix(cur: &Cur<'_>) -> String {
    format!(
        "An error occurred while executing the state '{}' (entered at the event id #{}). ",
        cur.node.name, cur.entered_id
    )
}

impl<'r> Exec<'r> {
    pub fn new(cfg: &'r Config, program: &Program, input: Data) -> Exec<'r> {
        let o = &cfg.options;
        let start = o.start_time;
        let hint = cfg.history_hint.load(std::sync::atomic::Ordering::Relaxed);
        let deadline = program
            .timeout_seconds
            .map(|s| start.plus_seconds(s as f64));
        Exec {
            cfg,
            inspect: None,
            single_attempt: false,
            test_outcome: None,
            intrinsic_random: stepwright::intrinsics::SeededRandom::new(o.seed ^ 0x5157_4e44),
            history: History::with_capacity(if o.record_history { hint } else { 0 }),
            last_id: 0,
            clock: Clock::new(start),
            rng: Rng::new(o.seed),
            deadline,
            halt: None,
            transitions: 0,
            info: ExecInfo {
                execution_arn: format!(
                    "arn:aws:states:{}:{}:execution:{}:{}",
                    o.region, o.account_id, o.state_machine_name, o.execution_name
                ),
                execution_name: o.execution_name.clone(),
                state_machine_arn: format!(
                    "arn:aws:states:{}:{}:stateMachine:{}",
                    o.region, o.account_id, o.state_machine_name
                ),
                state_machine_name: o.state_machine_name.clone(),
                role_arn: o.role_arn.as_str().into(),
                input,
                start,
            },
        }
    }

    /// Runs the whole execution.
    pub fn run(mut self, program: &Program) -> Execution {
        let input = self.info.input.clone();
        let mut frame = Frame {
            prev: 0,
            vars: Vars::default(),
            record: true,
        };
        self.emit(
            &mut frame,
            EventDetails::ExecutionStarted {
                input: input.clone(),
                role_arn: self.info.role_arn.clone(),
            },
            false,
        );
        let outcome = match self.check_size_exec_input(&input) {
            Ok(()) => self.run_graph(&program.root, input, &mut frame),
            Err(f) => Err(f),
        };
        let (status, output, error, cause) = match outcome {
            Ok(out) if self.halt.is_none() => {
                self.emit_final(
                    &mut frame,
                    EventDetails::ExecutionSucceeded {
                        output: out.clone(),
                    },
                );
                (Status::Succeeded, Some(out), None, None)
            }
            result => {
                let (f, status) = match (self.halt.take(), result) {
                    (Some((h, s)), _) => (h, s),
                    (None, Err(f)) => (f, Status::Failed),
                    (None, Ok(_)) => unreachable_ok(),
                };
                let info = ErrorInfo {
                    error: f.error.clone(),
                    cause: f.cause.clone(),
                };
                let d = match status {
                    Status::TimedOut => EventDetails::ExecutionTimedOut(info),
                    Status::Aborted => EventDetails::ExecutionAborted(info),
                    _ => EventDetails::ExecutionFailed(info),
                };
                self.emit_final(&mut frame, d);
                (status, None, f.error, f.cause)
            }
        };
        self.cfg
            .history_hint
            .store(self.history.len(), std::sync::atomic::Ordering::Relaxed);
        Execution {
            status,
            output: output.map(|d| Arc::try_unwrap(d).unwrap_or_else(|a| (*a).clone())),
            error,
            cause,
            history: self.history,
            start: self.info.start,
            stop: self.clock.now(),
            state_transitions: self.transitions,
        }
    }

    // ---------------------------------------------------------------- events

    /// Records an event; `side` events do not move the frame's chain.
    pub fn emit(&mut self, frame: &mut Frame, d: EventDetails, side: bool) -> u64 {
        if !frame.record {
            return frame.prev;
        }
        let id = self.push_event(frame.prev, d);
        if !side {
            frame.prev = id;
        }
        id
    }

    /// Records an event with an explicit previous id.
    pub fn emit_after(&mut self, frame: &Frame, prev: u64, d: EventDetails) -> u64 {
        if !frame.record {
            return prev;
        }
        self.push_event(prev, d)
    }

    /// Hands the event just recorded to the observer, if any.
    fn observe(&self) {
        if let (Some(f), Some(e)) = (&self.cfg.observer, self.history.events().last()) {
            f(e);
        }
    }

    fn push_event(&mut self, prev: u64, d: EventDetails) -> u64 {
        if let Some(max) = self.cfg.options.max_history_events {
            if self.history.len() >= max.saturating_sub(1) {
                if self.halt.is_none() {
                    self.halt = Some((
                        Failure::halt(
                            names::RUNTIME,
                            format!(
                                "The execution reached the maximum number of history events ({max})."
                            ),
                        ),
                        Status::Failed,
                    ));
                }
                return self.last_id;
            }
        }
        self.last_id += 1;
        if self.cfg.options.record_history {
            self.history.push(HistoryEvent {
                id: self.last_id,
                previous_event_id: prev,
                timestamp: self.clock.now(),
                details: d,
            });
            self.observe();
        }
        self.last_id
    }

    /// The closing event, recorded even when the history limit was reached.
    fn emit_final(&mut self, frame: &mut Frame, d: EventDetails) {
        self.last_id += 1;
        self.history.push(HistoryEvent {
            id: self.last_id,
            previous_event_id: frame.prev,
            timestamp: self.clock.now(),
            details: d,
        });
        self.observe();
    }

    fn check_halt(&self) -> Result<(), Failure> {
        match &self.halt {
            Some((f, _)) => Err(f.clone()),
            None => Ok(()),
        }
    }

    /// Moves virtual time forward, stopping at the execution deadline.
    pub fn advance_to(&mut self, t: Instant) -> Result<(), Failure> {
        if let Some(d) = self.deadline {
            if t > d {
                self.clock.advance_to(d);
                self.timeout_halt();
                return self.check_halt();
            }
        }
        self.clock.advance_to(t);
        Ok(())
    }

    fn timeout_halt(&mut self) {
        if self.halt.is_none() {
            self.halt = Some((
                Failure::halt(
                    names::TIMEOUT,
                    "The execution ran longer than its TimeoutSeconds.",
                )
                .with_kind(FailureKind::Halt),
                Status::TimedOut,
            ));
        }
    }

    // ---------------------------------------------------------------- context

    pub fn context_object(&self, cur: &Cur<'_>) -> Value {
        context_object(&self.info, cur)
    }

    /// `$states` for JSONata expressions.
    fn states_value(
        &self,
        cur: &Cur<'_>,
        input: &Value,
        result: Option<&Value>,
        error_output: Option<&Value>,
    ) -> Value {
        let mut m = Map::new();
        m.insert("input".into(), input.clone());
        if let Some(r) = result {
            m.insert("result".into(), r.clone());
        }
        if let Some(e) = error_output {
            m.insert("errorOutput".into(), e.clone());
        }
        m.insert("context".into(), self.context_object(cur));
        Value::Object(m)
    }

    fn jenv<'a>(&mut self, states: &'a Value, vars: &'a Vars) -> JEnv<'a> {
        JEnv {
            states,
            vars,
            seed: self.rng.next_u64(),
            now_millis: self.clock.now().unix_millis(),
        }
    }

    // ---------------------------------------------------------------- limits

    fn check_size(&self, cur: &Cur<'_>, v: &Value) -> Result<(), Failure> {
        let Some(max) = self.cfg.options.max_payload_bytes else {
            return Ok(());
        };
        if json_size_exceeds(v, max) {
            return Err(Failure::new(
                names::DATA_LIMIT_EXCEEDED,
                format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    cur.node.name
                ),
            ));
        }
        Ok(())
    }

    fn check_size_exec_input(&self, v: &Value) -> Result<(), Failure> {
        if let Some(max) = self.cfg.options.max_payload_bytes {
            if json_size_exceeds(v, max) {
                return Err(Failure::new(
                    names::DATA_LIMIT_EXCEEDED,
                    "The execution input exceeds the maximum number of bytes service limit.",
                ));
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- graph

    pub fn run_graph(
        &mut self,
        g: &Graph,
        input: Data,
        frame: &mut Frame,
    ) -> Result<Data, Failure> {
        let mut idx = g.start;
        let mut input = input;
        loop {
            self.check_halt()?;
            match self.run_node(&g.nodes[idx], input, frame, None)? {
                Flow::Next(n, out) => {
                    idx = n;
                    input = out;
                }
                Flow::End(out) => return Ok(out),
            }
        }
    }

    /// Runs one state: entered event, the work, exited event.
    pub fn run_node(
        &mut self,
        node: &Node,
        input: Data,
        frame: &mut Frame,
        item: Option<(usize, Data)>,
    ) -> Result<Flow, Failure> {
        self.transitions += 1;
        if let Some(max) = self.cfg.options.max_state_transitions {
            if self.transitions > max && self.halt.is_none() {
                self.halt = Some((
                    Failure::halt(
                        names::RUNTIME,
                        format!("The execution exceeded {max} state transitions (runaway loop?)."),
                    ),
                    Status::Failed,
                ));
                return self.check_halt().map(|_| Flow::End(input));
            }
        }
        let entered_id = self.emit(
            frame,
            EventDetails::StateEntered {
                kind: node.kind,
                name: node.name.clone(),
                input: input.clone(),
            },
            false,
        );
        let mut cur = Cur {
            node,
            entered_id,
            entered_at: self.clock.now(),
            retry_count: 0,
            token: None,
            item,
        };
        let res = match &node.op {
            Op::Pass { result } => self.pass(&mut cur, &input, result.as_ref(), frame),
            Op::Choice(c) => self.choice(&mut cur, &input, c, frame),
            Op::Wait(w) => self.wait(&mut cur, &input, w, frame),
            Op::Succeed => self.succeed(&mut cur, &input, frame),
            Op::Fail(f) => Err(self.fail_state(&mut cur, &input, f, frame)),
            Op::Task(t) => {
                return self.with_retry(&mut cur, &input, frame, |ex, cur, frame| {
                    ex.task_attempt(cur, &input, t, frame)
                })
            }
            Op::Parallel { branches } => {
                return self.with_retry(&mut cur, &input, frame, |ex, cur, frame| {
                    ex.parallel_attempt(cur, &input, branches, frame)
                })
            }
            Op::Map(m) => {
                return self.with_retry(&mut cur, &input, frame, |ex, cur, frame| {
                    ex.map_attempt(cur, &input, m, frame)
                })
            }
        };
        match res {
            Ok((next, out, assigned)) => Ok(self.exit(&cur, frame, next, out, assigned)),
            Err(f) => Err(self.locate(f, &cur, frame)),
        }
    }

    /// Records the exit, applies assignments, and picks the transition.
    fn exit(
        &mut self,
        cur: &Cur<'_>,
        frame: &mut Frame,
        next: Option<usize>,
        out: Data,
        assigned: Assigned,
    ) -> Flow {
        frame.vars.assign(&assigned);
        let assigned_variables = if assigned.is_empty() {
            None
        } else {
            Some(assigned.into())
        };
        self.emit(
            frame,
            EventDetails::StateExited {
                kind: cur.node.kind,
                name: cur.node.name.clone(),
                output: out.clone(),
                assigned_variables,
            },
            false,
        );
        match next {
            Some(n) => Flow::Next(n, out),
            None => Flow::End(out),
        }
    }

    /// Adds AWS's "An error occurred while executing the state ..." prefix to runtime and
    /// evaluation errors, and records `EvaluationFailed` for JSONata errors (once).
    pub fn locate(&mut self, mut f: Failure, cur: &Cur<'_>, frame: &mut Frame) -> Failure {
        if (f.prefixable || matches!(f.kind, FailureKind::Runtime | FailureKind::Evaluation))
            && !f.located
        {
            f.cause = Some(format!(
                "{}{}",
                prefix(cur),
                f.cause.as_deref().unwrap_or("")
            ));
            f.located = true;
        }
        if f.kind == FailureKind::Evaluation && !f.reported {
            f.reported = true;
            self.emit(
                frame,
                EventDetails::EvaluationFailed(Box::new(EvaluationFailure {
                    error: ErrorInfo {
                        error: f.error.clone(),
                        cause: f.cause.clone(),
                    },
                    location: f.location.clone(),
                    state: cur.node.name.clone(),
                })),
                false,
            );
        }
        f
    }

    /// Records a stage value when inspecting (TestState).
    fn rec(&mut self, f: impl FnOnce(&mut Inspection)) {
        if let Some(i) = self.inspect.as_deref_mut() {
            f(i);
        }
    }

    // ---------------------------------------------------------------- JSONPath helpers

    fn scope<'a>(&'a self, input: &'a Value, ctx: &'a Lazy<'a>, vars: &'a Vars) -> Scope<'a> {
        Scope {
            input,
            context: ctx,
            vars,
            random: &self.intrinsic_random,
        }
    }

    fn apply_path_spec(
        &self,
        spec: &PathSpec,
        value: Data,
        ctx: &Lazy<'_>,
        vars: &Vars,
    ) -> Result<Data, Failure> {
        match spec {
            PathSpec::Identity => Ok(value),
            PathSpec::Discard => Ok(Arc::new(Value::Object(Map::new()))),
            PathSpec::Path(p) => {
                let s = self.scope(&value, ctx, vars);
                p.select_data(&value, &s).map_err(|m| invalid_path(p, &m))
            }
        }
    }

    fn apply_result_path(
        &self,
        spec: &ResultSpec,
        raw: &Data,
        result: Data,
    ) -> Result<Data, Failure> {
        match spec {
            ResultSpec::Replace => Ok(result),
            ResultSpec::Discard => Ok(raw.clone()),
            ResultSpec::Path(p) => {
                if let (Some(key), Value::Object(m)) = (p.single_key(), &**raw) {
                    // The common `ResultPath: "$.x"` on an object: one copy with room for the key.
                    let mut out = Map::with_capacity(m.len() + 1);
                    for (k, v) in m {
                        out.insert(k.clone(), v.clone());
                    }
                    let r = Arc::try_unwrap(result).unwrap_or_else(|a| (*a).clone());
                    out.insert(key.to_string(), r);
                    return Ok(Arc::new(Value::Object(out)));
                }
                let r = Arc::try_unwrap(result).unwrap_or_else(|a| (*a).clone());
                Ok(Arc::new(p.apply(raw, r)?))
            }
        }
    }

    fn eval_assign_path(
        &self,
        spec: &Option<AssignSpec>,
        value: &Value,
        ctx: &Lazy<'_>,
        vars: &Vars,
    ) -> Result<Assigned, Failure> {
        match spec {
            Some(AssignSpec::Path(t)) => {
                let s = self.scope(value, ctx, vars);
                match t.eval(&s)? {
                    Value::Object(m) => Ok(m.into_iter().map(|(k, v)| (Arc::from(k), v)).collect()),
                    _ => Ok(Vec::new()),
                }
            }
            _ => Ok(Vec::new()),
        }
    }

    fn eval_assign_jsonata(
        &mut self,
        spec: &Option<AssignSpec>,
        states: &Value,
        vars: &Vars,
        field: &str,
    ) -> Result<Assigned, Failure> {
        match spec {
            Some(AssignSpec::Jsonata(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (k, t) in items {
                    let env = self.jenv(states, vars);
                    out.push((k.clone(), t.eval(&env, &format!("{field}/{k}"))?));
                }
                Ok(out)
            }
            _ => Ok(Vec::new()),
        }
    }

    fn eval_output_jsonata(
        &mut self,
        t: &Option<JTemplate>,
        states: &Value,
        vars: &Vars,
        field: &str,
        default: Data,
    ) -> Result<Data, Failure> {
        match t {
            Some(t) => {
                let env = self.jenv(states, vars);
                Ok(Arc::new(t.eval(&env, field)?))
            }
            None => Ok(default),
        }
    }

    fn num(
        &mut self,
        spec: &NumSpec,
        input: &Value,
        cur: &Cur<'_>,
        vars: &Vars,
        field: &str,
    ) -> Result<Option<NumValue>, Failure> {
        Ok(match spec {
            NumSpec::None => None,
            NumSpec::Lit(n) => Some(NumValue::Literal(*n)),
            NumSpec::Path(p) => {
                let build = || context_object(&self.info, cur);
                let ctx = Lazy::new(&build);
                let s = self.scope(input, &ctx, vars);
                let v = p.select_or_miss(&s).map_err(|m| invalid_path(p, &m))?;
                Some(NumValue::FromPath(v, p.src.to_string()))
            }
            NumSpec::Jsonata(t) => {
                let states = self.states_value(cur, input, None, None);
                let env = self.jenv(&states, vars);
                let v = match t.as_expr() {
                    Some(e) => jx::eval_defined(e, &env, field)?,
                    None => t.eval(&env, field)?,
                };
                Some(NumValue::FromJsonata(
                    v,
                    t.as_expr().map(|e| e.src.to_string()).unwrap_or_default(),
                ))
            }
        })
    }

    // ---------------------------------------------------------------- Pass

    fn pass(
        &mut self,
        cur: &mut Cur<'_>,
        raw: &Data,
        result: Option<&Data>,
        frame: &mut Frame,
    ) -> Result<(Option<usize>, Data, Assigned), Failure> {
        let node = cur.node;
        if node.jsonata {
            let states = self.states_value(cur, raw, None, None);
            let assigned =
                self.eval_assign_jsonata(&node.assign, &states, &frame.vars, "Assign")?;
            let out = self.eval_output_jsonata(
                &node.output,
                &states,
                &frame.vars,
                "Output",
                raw.clone(),
            )?;
            if !Arc::ptr_eq(&out, raw) {
                self.check_size(cur, &out)?;
            }
            return Ok((node.next, out, assigned));
        }
        let build = || context_object(&self.info, cur);
        let ctx = Lazy::new(&build);
        let result = match result {
            Some(r) => {
                if let Some(i) = self.inspect.as_deref_mut() {
                    i.result = Some((**r).clone());
                }
                r.clone()
            }
            None => {
                let eff = self.apply_path_spec(&node.input_path, raw.clone(), &ctx, &frame.vars)?;
                let after_ip = self.inspect.is_some().then(|| (*eff).clone());
                let eff = match &node.parameters {
                    Some(p) => Arc::new(p.eval(&self.scope(&eff, &ctx, &frame.vars))?),
                    None => eff,
                };
                if let Some(i) = self.inspect.as_deref_mut() {
                    i.after_input_path = after_ip;
                    i.after_parameters = Some((*eff).clone());
                }
                eff
            }
        };
        if let Some(i) = self.inspect.as_deref_mut() {
            i.after_result_selector = Some((*result).clone());
        }
        let assigned = self.eval_assign_path(&node.assign, &result, &ctx, &frame.vars)?;
        let combined = self.apply_result_path(&node.result_path, raw, result)?;
        if let Some(i) = self.inspect.as_deref_mut() {
            i.after_result_path = Some((*combined).clone());
        }
        let out = self.apply_path_spec(&node.output_path, combined, &ctx, &frame.vars)?;
        drop(ctx);
        if !Arc::ptr_eq(&out, raw) {
            self.check_size(cur, &out)?;
        }
        Ok((node.next, out, assigned))
    }

    // ---------------------------------------------------------------- Succeed

    fn succeed(
        &mut self,
        cur: &mut Cur<'_>,
        raw: &Data,
        frame: &mut Frame,
    ) -> Result<(Option<usize>, Data, Assigned), Failure> {
        let node = cur.node;
        if node.jsonata {
            let states = self.states_value(cur, raw, None, None);
            let out = self.eval_output_jsonata(
                &node.output,
                &states,
                &frame.vars,
                "Output",
                raw.clone(),
            )?;
            return Ok((None, out, Vec::new()));
        }
        let build = || context_object(&self.info, cur);
        let ctx = Lazy::new(&build);
        let eff = self.apply_path_spec(&node.input_path, raw.clone(), &ctx, &frame.vars)?;
        if let Some(i) = self.inspect.as_deref_mut() {
            i.after_input_path = Some((*eff).clone());
        }
        let out = self.apply_path_spec(&node.output_path, eff, &ctx, &frame.vars)?;
        Ok((None, out, Vec::new()))
    }

    // ---------------------------------------------------------------- Fail

    fn fail_state(
        &mut self,
        cur: &mut Cur<'_>,
        raw: &Data,
        f: &FailOp,
        frame: &mut Frame,
    ) -> Failure {
        self.rec(|i| i.after_input_path = Some((**raw).clone()));
        let error = self.fail_field(cur, raw, &f.error, "Error", frame);
        let cause = self.fail_field(cur, raw, &f.cause, "Cause", frame);
        match (error, cause) {
            (Ok(e), Ok(c)) => Failure::bare(e, c),
            (Err(x), _) | (_, Err(x)) => x,
        }
    }

    fn fail_field(
        &mut self,
        cur: &Cur<'_>,
        raw: &Data,
        spec: &StrSpec,
        field: &'static str,
        frame: &Frame,
    ) -> Result<Option<String>, Failure> {
        match spec {
            StrSpec::None => Ok(None),
            StrSpec::Lit(s) => Ok(Some(s.clone())),
            StrSpec::Path(p) => {
                let build = || context_object(&self.info, cur);
                let ctx = Lazy::new(&build);
                let s = self.scope(raw, &ctx, &frame.vars);
                let v = crate::jp::eval_field(&format!("{field}Path"), p, &s)?;
                Ok(Some(match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                }))
            }
            StrSpec::Jsonata(t) => {
                let states = self.states_value(cur, raw, None, None);
                let env = self.jenv(&states, &frame.vars);
                let name = field;
                let v = t.eval(&env, name)?;
                match v {
                    Value::String(s) => Ok(Some(s)),
                    other => Err(match t.as_expr() {
                        Some(e) => jx::wrong_type(e, name, "string", &other),
                        None => Failure::query(
                            Some(name.into()),
                            format!("The field '{name}' must be a string"),
                        ),
                    }),
                }
            }
        }
    }

    // ---------------------------------------------------------------- Choice

    fn choice(
        &mut self,
        cur: &mut Cur<'_>,
        raw: &Data,
        c: &ChoiceOp,
        frame: &mut Frame,
    ) -> Result<(Option<usize>, Data, Assigned), Failure> {
        let node = cur.node;
        if node.jsonata {
            let states = self.states_value(cur, raw, None, None);
            for (i, r) in c.rules.iter().enumerate() {
                if self.cond_jsonata(
                    &r.cond,
                    &states,
                    &frame.vars,
                    &format!("Choices[{i}]/Condition"),
                )? {
                    let assigned = self.eval_assign_jsonata(
                        &r.assign,
                        &states,
                        &frame.vars,
                        &format!("Choices[{i}]/Assign"),
                    )?;
                    let out = self.eval_output_jsonata(
                        &r.output,
                        &states,
                        &frame.vars,
                        &format!("Choices[{i}]/Output"),
                        raw.clone(),
                    )?;
                    return Ok((Some(r.next), out, assigned));
                }
            }
            let Some(d) = c.default else {
                return Err(no_choice());
            };
            let assigned =
                self.eval_assign_jsonata(&node.assign, &states, &frame.vars, "Assign")?;
            let out = self.eval_output_jsonata(
                &node.output,
                &states,
                &frame.vars,
                "Output",
                raw.clone(),
            )?;
            return Ok((Some(d), out, assigned));
        }
        let build = || context_object(&self.info, cur);
        let ctx = Lazy::new(&build);
        let eff = self.apply_path_spec(&node.input_path, raw.clone(), &ctx, &frame.vars)?;
        if let Some(i) = self.inspect.as_deref_mut() {
            i.after_input_path = Some((*eff).clone());
        }
        let s = self.scope(&eff, &ctx, &frame.vars);
        let mut chosen = None;
        for r in &c.rules {
            if eval_cond(&r.cond, &s)? {
                chosen = Some((r.next, &r.assign));
                break;
            }
        }
        let (next, assign) = match chosen {
            Some(x) => x,
            None => match c.default {
                Some(d) => (d, &node.assign),
                None => return Err(no_choice()),
            },
        };
        let assigned = self.eval_assign_path(assign, &eff, &ctx, &frame.vars)?;
        let out = self.apply_path_spec(&node.output_path, eff, &ctx, &frame.vars)?;
        Ok((Some(next), out, assigned))
    }

    fn cond_jsonata(
        &mut self,
        c: &Cond,
        states: &Value,
        vars: &Vars,
        field: &str,
    ) -> Result<bool, Failure> {
        match c {
            Cond::Jsonata(t) => {
                let env = self.jenv(states, vars);
                let v = t.eval(&env, field)?;
                match v {
                    Value::Bool(b) => Ok(b),
                    other => Err(match t.as_expr() {
                        Some(e) => jx::wrong_type(e, field, "boolean", &other),
                        None => Failure::query(
                            Some(field.into()),
                            format!("The Condition must be a boolean but was: {other}"),
                        ),
                    }),
                }
            }
            Cond::And(v) => {
                for c in v {
                    if !self.cond_jsonata(c, states, vars, field)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Cond::Or(v) => {
                for c in v {
                    if self.cond_jsonata(c, states, vars, field)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Cond::Not(c) => Ok(!self.cond_jsonata(c, states, vars, field)?),
            Cond::Cmp { .. } => Err(Failure::query(
                Some(field.into()),
                "JSONPath comparison operators cannot be used in a JSONata Choice state",
            )),
        }
    }

    // ---------------------------------------------------------------- Wait

    fn wait(
        &mut self,
        cur: &mut Cur<'_>,
        raw: &Data,
        w: &WaitOp,
        frame: &mut Frame,
    ) -> Result<(Option<usize>, Data, Assigned), Failure> {
        let node = cur.node;
        let eff = if node.jsonata {
            raw.clone()
        } else {
            let build = || context_object(&self.info, cur);
            let ctx = Lazy::new(&build);
            self.apply_path_spec(&node.input_path, raw.clone(), &ctx, &frame.vars)?
        };
        if let Some(i) = self.inspect.as_deref_mut() {
            i.after_input_path = Some((*eff).clone());
        }
        let now = self.clock.now();
        let until = match w {
            WaitOp::Seconds(spec) => match self.num(spec, raw, cur, &frame.vars, "Seconds")? {
                None => now,
                Some(NumValue::Literal(n)) => now.plus_seconds(n),
                Some(NumValue::FromJsonata(v, src)) => match v.as_f64() {
                    Some(n) if n >= 0.0 && n.fract() == 0.0 => now.plus_seconds(n),
                    _ => {
                        return Err(Failure::query(
                            Some("Seconds".into()),
                            format!("The JSONata expression '{src}' specified for the field 'Seconds' returned an unexpected result type. Expected 'integer', but was '{}' for value: {v}", jx::type_name(&v)),
                        ))
                    }
                },
                Some(NumValue::FromPath(v, _)) => now.plus_seconds(v.as_f64().unwrap_or(0.0)),
            },
            WaitOp::Timestamp(Some(t), _) => *t,
            WaitOp::Timestamp(None, s) => {
                return Err(Failure::runtime(format!(
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {s}"
                )))
            }
            WaitOp::TimestampJsonata(t) => {
                let states = self.states_value(cur, raw, None, None);
                let env = self.jenv(&states, &frame.vars);
                let v = t.eval(&env, "Timestamp")?;
                match v.as_str().and_then(parse_timestamp) {
                    Some(t) => t,
                    None => {
                        let shown = match &v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        return Err(Failure::query(
                            Some("Timestamp".into()),
                            format!("The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {shown}"),
                        ));
                    }
                }
            }
            WaitOp::SecondsPath(p) => {
                let v = self.select_path(p, &eff, cur, &frame.vars)?;
                match &v {
                    Value::Number(n) if n.is_i64() || n.is_u64() => {
                        let secs = n.as_i64().unwrap_or(i64::MAX);
                        if secs < 0 {
                            return Err(Failure::runtime(format!(
                                "The SecondsPath parameter references a negative value: {} == {v}",
                                p.src
                            )));
                        }
                        now.plus_seconds(secs as f64)
                    }
                    _ => {
                        return Err(Failure::runtime(format!(
                            "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                            p.src,
                            display_plain(&v)
                        )))
                    }
                }
            }
            WaitOp::TimestampPath(p) => {
                let v = self.select_path(p, &eff, cur, &frame.vars)?;
                match v.as_str().and_then(parse_timestamp) {
                    Some(t) => t,
                    None => {
                        return Err(Failure::runtime(format!(
                            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                            p.src,
                            display_plain(&v)
                        )))
                    }
                }
            }
        };
        self.advance_to(until)?;
        if node.jsonata {
            let states = self.states_value(cur, raw, None, None);
            let assigned =
                self.eval_assign_jsonata(&node.assign, &states, &frame.vars, "Assign")?;
            let out = self.eval_output_jsonata(
                &node.output,
                &states,
                &frame.vars,
                "Output",
                raw.clone(),
            )?;
            return Ok((node.next, out, assigned));
        }
        let build = || context_object(&self.info, cur);
        let ctx = Lazy::new(&build);
        let assigned = self.eval_assign_path(&node.assign, &eff, &ctx, &frame.vars)?;
        let out = self.apply_path_spec(&node.output_path, eff, &ctx, &frame.vars)?;
        Ok((node.next, out, assigned))
    }

    fn select_path(
        &self,
        p: &JPath,
        input: &Value,
        cur: &Cur<'_>,
        vars: &Vars,
    ) -> Result<Value, Failure> {
        let build = || context_object(&self.info, cur);
        let ctx = Lazy::new(&build);
        let s = self.scope(input, &ctx, vars);
        p.select_or_miss(&s).map_err(|m| invalid_path(p, &m))
    }

    // ---------------------------------------------------------------- Retry / Catch

    /// Runs `attempt` until it succeeds, is caught, or retries are exhausted.
    fn with_retry(
        &mut self,
        cur: &mut Cur<'_>,
        raw: &Data,
        frame: &mut Frame,
        mut attempt: impl FnMut(
            &mut Self,
            &mut Cur<'_>,
            &mut Frame,
        ) -> Result<(Data, Assigned), Failure>,
    ) -> Result<Flow, Failure> {
        let node = cur.node;
        let mut counts = vec![0u64; node.retry.len()];
        loop {
            self.check_halt()?;
            let err = match attempt(self, cur, frame) {
                Ok((out, assigned)) => {
                    return Ok(self.exit(cur, frame, node.next, out, assigned));
                }
                Err(f) => f,
            };
            let err = self.locate(err, cur, frame);
            if matches!(err.kind, FailureKind::Halt) || self.halt.is_some() {
                return Err(err);
            }
            let in_task = node.kind == StateKind::Task;
            if let Some(ri) = node
                .retry
                .iter()
                .position(|r| err.matches(&r.error_equals, in_task))
            {
                let r = &node.retry[ri];
                if counts[ri] < r.max_attempts && self.single_attempt {
                    self.test_outcome = Some(TestOutcome::Retriable);
                    return Err(err);
                }
                if counts[ri] < r.max_attempts {
                    let mut delay = r.interval_seconds * r.backoff_rate.powi(counts[ri] as i32);
                    if let Some(m) = r.max_delay_seconds {
                        delay = delay.min(m);
                    }
                    if r.jitter {
                        delay *= self.rng.next_f64();
                    }
                    counts[ri] += 1;
                    cur.retry_count += 1;
                    let t = self.clock.now().plus_seconds(delay);
                    self.advance_to(t)?;
                    continue;
                }
            }
            if err.kind != FailureKind::Runtime {
                match node.kind {
                    StateKind::Map => {
                        self.emit(frame, EventDetails::MapStateFailed, false);
                    }
                    StateKind::Parallel => {
                        self.emit(frame, EventDetails::ParallelStateFailed, false);
                    }
                    _ => {}
                }
            }
            if let Some(c) = node
                .catch
                .iter()
                .find(|c| err.matches(&c.error_equals, in_task))
            {
                let (out, assigned) = self.catch_output(cur, raw, c, &err, frame)?;
                if self.single_attempt {
                    self.test_outcome = Some(TestOutcome::Caught(err.clone()));
                }
                return Ok(self.exit(cur, frame, Some(c.next), out, assigned));
            }
            return Err(err);
        }
    }

    fn catch_output(
        &mut self,
        cur: &Cur<'_>,
        raw: &Data,
        c: &CatchSpec,
        err: &Failure,
        frame: &mut Frame,
    ) -> Result<(Data, Assigned), Failure> {
        let err_out = err.error_output();
        let i = cur
            .node
            .catch
            .iter()
            .position(|x| std::ptr::eq(x, c))
            .unwrap_or(0);
        if cur.node.jsonata {
            let states = self.states_value(cur, raw, None, Some(&err_out));
            let assigned = self.eval_assign_jsonata(
                &c.assign,
                &states,
                &frame.vars,
                &format!("Catch[{i}]/Assign"),
            )?;
            let out = self.eval_output_jsonata(
                &c.output,
                &states,
                &frame.vars,
                &format!("Catch[{i}]/Output"),
                Arc::new(err_out),
            )?;
            return Ok((out, assigned));
        }
        let build = || context_object(&self.info, cur);
        let ctx = Lazy::new(&build);
        let assigned = self.eval_assign_path(&c.assign, &err_out, &ctx, &frame.vars)?;
        drop(ctx);
        let out = self.apply_result_path(&c.result_path, raw, Arc::new(err_out))?;
        Ok((out, assigned))
    }

    /// JSONPath result processing shared by Task, Parallel and Map: Assign (on the raw result),
    /// ResultSelector, ResultPath, OutputPath. JSONata: Output and Assign with `$states.result`.
    pub fn finish_result(
        &mut self,
        cur: &Cur<'_>,
        raw: &Data,
        result: Data,
        frame: &mut Frame,
    ) -> Result<(Data, Assigned), Failure> {
        let node = cur.node;
        if node.jsonata {
            self.rec(|i| i.result = Some((*result).clone()));
            let states = self.states_value(cur, raw, Some(&result), None);
            let assigned =
                self.eval_assign_jsonata(&node.assign, &states, &frame.vars, "Assign")?;
            let out =
                self.eval_output_jsonata(&node.output, &states, &frame.vars, "Output", result)?;
            self.check_size(cur, &out)?;
            return Ok((out, assigned));
        }
        let build = || context_object(&self.info, cur);
        let ctx = Lazy::new(&build);
        let assigned = self.eval_assign_path(&node.assign, &result, &ctx, &frame.vars)?;
        if let Some(i) = self.inspect.as_deref_mut() {
            i.result = Some((*result).clone());
        }
        let selected = match &node.result_selector {
            Some(t) => Arc::new(t.eval(&self.scope(&result, &ctx, &frame.vars))?),
            None => result,
        };
        if let Some(i) = self.inspect.as_deref_mut() {
            i.after_result_selector = Some((*selected).clone());
        }
        let combined = self.apply_result_path(&node.result_path, raw, selected)?;
        if let Some(i) = self.inspect.as_deref_mut() {
            i.after_result_path = Some((*combined).clone());
        }
        let out = self.apply_path_spec(&node.output_path, combined, &ctx, &frame.vars)?;
        drop(ctx);
        if !Arc::ptr_eq(&out, raw) {
            self.check_size(cur, &out)?;
        }
        Ok((out, assigned))
    }

    /// The effective input of an execution state: JSONPath InputPath + Parameters, or JSONata
    /// Arguments (defaults to the raw input).
    fn effective_input(
        &mut self,
        cur: &Cur<'_>,
        raw: &Data,
        frame: &Frame,
    ) -> Result<Data, Failure> {
        let node = cur.node;
        if node.jsonata {
            let args = match &node.arguments {
                Some(t) => {
                    let states = self.states_value(cur, raw, None, None);
                    let env = self.jenv(&states, &frame.vars);
                    Arc::new(t.eval(&env, "Arguments")?)
                }
                None => raw.clone(),
            };
            self.rec(|i| i.after_arguments = Some((*args).clone()));
            return Ok(args);
        }
        let build = || context_object(&self.info, cur);
        let ctx = Lazy::new(&build);
        let eff = self.apply_path_spec(&node.input_path, raw.clone(), &ctx, &frame.vars)?;
        let after_ip = self.inspect.is_some().then(|| (*eff).clone());
        let eff = match &node.parameters {
            Some(p) => Arc::new(p.eval(&self.scope(&eff, &ctx, &frame.vars))?),
            None => eff,
        };
        if let Some(i) = self.inspect.as_deref_mut() {
            i.after_input_path = after_ip;
            i.after_parameters = Some((*eff).clone());
        }
        Ok(eff)
    }

    // ---------------------------------------------------------------- Task

    fn positive_seconds(
        &mut self,
        spec: &NumSpec,
        raw: &Data,
        cur: &Cur<'_>,
        frame: &Frame,
        field: &str,
    ) -> Result<Option<u64>, Failure> {
        match self.num(spec, raw, cur, &frame.vars, field)? {
            None => Ok(None),
            Some(NumValue::Literal(n)) => Ok(Some(n as u64)),
            Some(NumValue::FromPath(v, src)) => match v.as_u64() {
                Some(n) if n > 0 => Ok(Some(n)),
                _ => Err(Failure::runtime(format!(
                    "The {field}Path field refers to value {v} which is not a valid positive integer: {src}"
                ))),
            },
            Some(NumValue::FromJsonata(v, src)) => match v.as_u64() {
                Some(n) if n > 0 => Ok(Some(n)),
                _ => Err(Failure::query(
                    Some(field.into()),
                    format!("The JSONata expression '{src}' specified for the field '{field}' returned an unexpected result type. Expected 'integer', but was '{}' for value: {v}", jx::type_name(&v)),
                )),
            },
        }
    }

    fn task_attempt(
        &mut self,
        cur: &mut Cur<'_>,
        raw: &Data,
        t: &TaskOp,
        frame: &mut Frame,
    ) -> Result<(Data, Assigned), Failure> {
        if t.wait_for_token {
            cur.token = Some(task_token(&mut self.rng));
        }
        let timeout = self.positive_seconds(&t.timeout, raw, cur, frame, "TimeoutSeconds")?;
        let heartbeat = self.positive_seconds(&t.heartbeat, raw, cur, frame, "HeartbeatSeconds")?;
        let request = self.effective_input(cur, raw, frame)?;
        self.emit(
            frame,
            EventDetails::TaskScheduled(Box::new(ScheduledTask {
                family: t.family.clone(),
                region: self.cfg.options.region.as_str().into(),
                parameters: request.clone(),
                timeout_seconds: timeout.or(t.timeout_literal),
                heartbeat_seconds: heartbeat.or(t.heartbeat_literal),
            })),
            false,
        );
        self.emit(
            frame,
            EventDetails::TaskStarted {
                family: t.family.clone(),
            },
            false,
        );
        let started = self.clock.now();
        let mut tctx = TaskContext::new();
        let outcome = self.dispatch(cur, t, &request, &mut tctx);
        // Virtual time: the task took what the handler reported; timeouts and heartbeats are
        // checked against it.
        let elapsed = tctx.elapsed().as_nanos() as i128;
        let mut fail_at: Option<(i128, Failure)> = None;
        if let Some(h) = heartbeat {
            let hb = h as i128 * 1_000_000_000;
            let mut last = 0i128;
            for beat in tctx
                .heartbeats()
                .iter()
                .map(|d| d.as_nanos() as i128)
                .chain([elapsed])
            {
                if beat - last > hb {
                    fail_at = Some((
                        last + hb,
                        Failure::bare(Some(names::HEARTBEAT_TIMEOUT.into()), None),
                    ));
                    break;
                }
                last = beat;
            }
        }
        if let Some(to) = timeout {
            let tn = to as i128 * 1_000_000_000;
            if elapsed > tn && fail_at.as_ref().is_none_or(|(at, _)| *at > tn) {
                fail_at = Some((tn, Failure::bare(Some(names::TIMEOUT.into()), None)));
            }
        }
        if let Some((at, f)) = fail_at {
            self.advance_to(started.plus_nanos(at))?;
            self.emit(
                frame,
                EventDetails::TaskTimedOut {
                    family: t.family.clone(),
                    error: Box::new(ErrorInfo {
                        error: f.error.clone(),
                        cause: f.cause.clone(),
                    }),
                },
                false,
            );
            let mut f = f;
            f.from_task = true;
            return Err(f);
        }
        self.advance_to(started.plus_nanos(elapsed))?;
        match outcome {
            Ok(result) => {
                let result = Arc::new(result);
                self.check_size(cur, &result)?;
                self.emit(
                    frame,
                    EventDetails::TaskSucceeded {
                        family: t.family.clone(),
                        output: result.clone(),
                    },
                    false,
                );
                self.finish_result(cur, raw, result, frame)
            }
            Err(f) => {
                if f.kind != FailureKind::Runtime {
                    self.emit(
                        frame,
                        EventDetails::TaskFailed {
                            family: t.family.clone(),
                            error: Box::new(ErrorInfo {
                                error: f.error.clone(),
                                cause: f.cause.clone(),
                            }),
                        },
                        false,
                    );
                }
                Err(f)
            }
        }
    }

    /// Finds who answers a task: mock test case, then handlers (state, function, resource), then
    /// the Lambda endpoint.
    fn dispatch(
        &mut self,
        cur: &Cur<'_>,
        t: &TaskOp,
        request: &Value,
        tctx: &mut TaskContext,
    ) -> Result<Value, Failure> {
        let name = &*cur.node.name;
        if let Some(tc) = &self.cfg.mock {
            if let Some(r) = tc.response(name, cur.retry_count) {
                return match r {
                    Ok(crate::mock::MockResponse::Return(v)) => Ok(v.clone()),
                    Ok(crate::mock::MockResponse::Throw { error, cause }) => {
                        let mut f = Failure::new(error.clone(), cause.clone());
                        f.from_task = true;
                        Err(f)
                    }
                    Err(msg) => Err(Failure::runtime(msg)),
                };
            }
        }
        let resource = &*t.resource;
        let lambda_invoke = is_lambda_invoke(resource);
        let function_arn = matches!(t.family, TaskFamily::Lambda { .. });
        let fname: Option<String> = if lambda_invoke {
            request
                .get("FunctionName")
                .and_then(Value::as_str)
                .map(|s| function_name(s).to_string())
        } else if function_arn {
            Some(function_name(resource).to_string())
        } else {
            None
        };
        let reg = &self.cfg.registry;
        let (handler, wraps_lambda) = if let Some(h) = reg.by_state.get(name) {
            (Some(h.clone()), false)
        } else if let Some(f) = fname.as_deref().filter(|_| lambda_invoke || function_arn) {
            match reg.by_function.get(f).or(reg.lambda_fallback.as_ref()) {
                Some(h) => (Some(h.clone()), lambda_invoke),
                None => (None, false),
            }
        } else {
            (None, false)
        };
        let (handler, wraps_lambda) = match handler {
            Some(h) => (h, wraps_lambda),
            None => match reg
                .by_resource
                .get(resource)
                .or_else(|| reg.by_resource.get(strip_pattern(resource)))
            {
                Some(h) => (h.clone(), false),
                None => {
                    let what = match &fname {
                        Some(f) => format!("Lambda function '{f}' (resource '{resource}')"),
                        None => format!("resource '{resource}'"),
                    };
                    return Err(Failure::runtime(format!(
                        "No handler for Task state '{name}': {what} is not mocked. Register a handler (Runner::handler / Runner::resource_handler / Runner::state_handler), give a mock configuration test case, or a Lambda endpoint."
                    )));
                }
            },
        };
        let ctx_value = self.context_object(cur);
        let req = TaskRequest {
            state_name: name,
            resource,
            function_name: fname.as_deref(),
            payload: request,
            context: &ctx_value,
            task_token: cur.token.as_deref(),
            attempt: cur.retry_count,
        };
        match handler.invoke(&req, tctx) {
            Ok(v) => {
                if wraps_lambda {
                    Ok(json!({
                        "ExecutedVersion": "$LATEST",
                        "Payload": v,
                        "SdkHttpMetadata": {"HttpStatusCode": 200},
                        "SdkResponseMetadata": {"RequestId": self.rng.uuid_v4()},
                        "StatusCode": 200
                    }))
                } else {
                    Ok(v)
                }
            }
            Err(e) => {
                let cause = if (lambda_invoke || function_arn)
                    && serde_json::from_str::<Value>(&e.cause)
                        .map(|v| v.is_object())
                        .unwrap_or(false)
                {
                    e.cause
                } else if lambda_invoke || function_arn {
                    json!({"errorMessage": e.cause, "errorType": e.error}).to_string()
                } else {
                    e.cause
                };
                let mut f = Failure::new(e.error, cause);
                f.from_task = true;
                if f.error.as_deref() == Some(names::RUNTIME) {
                    f.kind = FailureKind::Runtime;
                }
                Err(f)
            }
        }
    }

    // ---------------------------------------------------------------- Parallel

    fn parallel_attempt(
        &mut self,
        cur: &mut Cur<'_>,
        raw: &Data,
        branches: &[Graph],
        frame: &mut Frame,
    ) -> Result<(Data, Assigned), Failure> {
        let branch_input = self.effective_input(cur, raw, frame)?;
        let started = self.emit(frame, EventDetails::ParallelStateStarted, false);
        let mut results = Vec::with_capacity(branches.len());
        let mut last = started;
        for g in branches {
            let mut bf = Frame {
                prev: started,
                vars: frame.vars.clone(),
                record: frame.record,
            };
            match self.run_graph(g, branch_input.clone(), &mut bf) {
                Ok(out) => {
                    results.push(Arc::try_unwrap(out).unwrap_or_else(|a| (*a).clone()));
                    last = last.max(bf.prev);
                }
                Err(f) => {
                    frame.prev = bf.prev;
                    return Err(f);
                }
            }
        }
        let _ = self.emit_after(frame, last, EventDetails::ParallelStateSucceeded);
        frame.prev = last;
        let result = Arc::new(Value::Array(results));
        self.finish_result(cur, raw, result, frame)
    }

    // ---------------------------------------------------------------- Map

    fn map_attempt(
        &mut self,
        cur: &mut Cur<'_>,
        raw: &Data,
        m: &MapOp,
        frame: &mut Frame,
    ) -> Result<(Data, Assigned), Failure> {
        crate::map::map_attempt(self, cur, raw, m, frame)
    }

    /// Evaluates a JSONPath template or JSONata selector with an optional Map item in context.
    pub fn eval_selector(
        &mut self,
        cur: &Cur<'_>,
        sel: &SelectorSpec,
        input: &Data,
        frame: &Frame,
        field: &str,
    ) -> Result<Value, Failure> {
        match sel {
            SelectorSpec::Path(t) => self.eval_template(cur, t, input, frame),
            SelectorSpec::Jsonata(t) => {
                let states = self.states_value(cur, input, None, None);
                let env = self.jenv(&states, &frame.vars);
                t.eval(&env, field)
            }
        }
    }

    pub fn eval_template(
        &self,
        cur: &Cur<'_>,
        t: &Template,
        input: &Value,
        frame: &Frame,
    ) -> Result<Value, Failure> {
        let build = || context_object(&self.info, cur);
        let ctx = Lazy::new(&build);
        t.eval(&self.scope(input, &ctx, &frame.vars))
    }

    pub fn input_path(
        &self,
        cur: &Cur<'_>,
        spec: &PathSpec,
        raw: &Data,
        frame: &Frame,
    ) -> Result<Data, Failure> {
        let build = || context_object(&self.info, cur);
        let ctx = Lazy::new(&build);
        self.apply_path_spec(spec, raw.clone(), &ctx, &frame.vars)
    }

    pub fn num_value(
        &mut self,
        spec: &NumSpec,
        input: &Value,
        cur: &Cur<'_>,
        frame: &Frame,
        field: &str,
    ) -> Result<Option<NumValue>, Failure> {
        self.num(spec, input, cur, &frame.vars, field)
    }

    pub fn jsonata_value(
        &mut self,
        cur: &Cur<'_>,
        t: &JTemplate,
        input: &Value,
        frame: &Frame,
        field: &str,
    ) -> Result<Value, Failure> {
        let states = self.states_value(cur, input, None, None);
        let env = self.jenv(&states, &frame.vars);
        t.eval(&env, field)
    }
}

/// A number read for a field, and where it came from (for error texts).
pub(crate) enum NumValue {
    Literal(f64),
    FromPath(Value, String),
    FromJsonata(Value, String),
}

/// The context object (`$$`) of the state being run.
pub(crate) fn context_object(info: &ExecInfo, cur: &Cur<'_>) -> Value {
    let mut exec = Map::new();

    exec.insert("Id".into(), json!(info.execution_arn));
    exec.insert("Input".into(), (*info.input).clone());
    exec.insert("Name".into(), json!(info.execution_name));
    exec.insert("RoleArn".into(), json!(&*info.role_arn));
    exec.insert("StartTime".into(), json!(info.start.to_iso_millis()));
    exec.insert("RedriveCount".into(), json!(0));
    let mut ctx = Map::new();
    ctx.insert("Execution".into(), Value::Object(exec));
    ctx.insert(
        "State".into(),
        json!({
            "EnteredTime": cur.entered_at.to_iso_millis(),
            "Name": &*cur.node.name,
            "RetryCount": cur.retry_count,
        }),
    );
    ctx.insert(
        "StateMachine".into(),
        json!({"Id": info.state_machine_arn, "Name": info.state_machine_name}),
    );
    if let Some(t) = &cur.token {
        ctx.insert("Task".into(), json!({"Token": t}));
    }
    if let Some((i, v)) = &cur.item {
        ctx.insert("Map".into(), json!({"Item": {"Index": i, "Value": &**v}}));
    }
    Value::Object(ctx)
}

fn unreachable_ok() -> (Failure, Status) {
    (
        Failure::halt(names::RUNTIME, "internal: inconsistent execution outcome"),
        Status::Failed,
    )
}

fn no_choice() -> Failure {
    Failure::new(names::NO_CHOICE_MATCHED, "No Matches!")
}

/// AWS's text for an InputPath/OutputPath/ItemsPath that selects nothing.
pub(crate) fn invalid_path(p: &JPath, miss: &stepwright::jsonpath::Miss) -> Failure {
    Failure::runtime(format!("Invalid path '{}' : {}", p.src, miss.detail()))
}

/// Strings without quotes, other values as JSON (as AWS prints values in some causes).
fn display_plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn task_token(rng: &mut Rng) -> String {
    let mut s = String::with_capacity(128);
    for _ in 0..4 {
        s.push_str(&rng.uuid_v4().replace('-', ""));
    }
    s
}

// -------------------------------------------------------------------- Choice (JSONPath)

fn eval_cond(c: &Cond, s: &Scope<'_>) -> Result<bool, Failure> {
    Ok(match c {
        Cond::And(v) => {
            for c in v {
                if !eval_cond(c, s)? {
                    return Ok(false);
                }
            }
            true
        }
        Cond::Or(v) => {
            for c in v {
                if eval_cond(c, s)? {
                    return Ok(true);
                }
            }
            false
        }
        Cond::Not(c) => !eval_cond(c, s)?,
        Cond::Jsonata(_) => {
            return Err(Failure::runtime(
                "a JSONata Condition cannot be used in a JSONPath Choice state",
            ))
        }
        Cond::Cmp { var, op, operand } => match operand {
            Operand::Path(p) => {
                let other = p.select(s);
                var.with_ref(s, |v| compare(*op, v, other.as_ref(), None))
            }
            Operand::Value(lit) => var.with_ref(s, |v| compare(*op, v, Some(lit), None)),
            Operand::Timestamp(t) => var.with_ref(s, |v| compare_ts(*op, v, *t)),
            Operand::Pattern(pat) => var.with_ref(s, |v| match v {
                Some(Value::String(x)) => matches_pattern(x, pat),
                _ => false,
            }),
        },
    })
}

fn base_op(op: Operator) -> Operator {
    use Operator::*;
    match op {
        StringEqualsPath => StringEquals,
        StringLessThanPath => StringLessThan,
        StringGreaterThanPath => StringGreaterThan,
        StringLessThanEqualsPath => StringLessThanEquals,
        StringGreaterThanEqualsPath => StringGreaterThanEquals,
        NumericEqualsPath => NumericEquals,
        NumericLessThanPath => NumericLessThan,
        NumericGreaterThanPath => NumericGreaterThan,
        NumericLessThanEqualsPath => NumericLessThanEquals,
        NumericGreaterThanEqualsPath => NumericGreaterThanEquals,
        BooleanEqualsPath => BooleanEquals,
        TimestampEqualsPath => TimestampEquals,
        TimestampLessThanPath => TimestampLessThan,
        TimestampGreaterThanPath => TimestampGreaterThan,
        TimestampLessThanEqualsPath => TimestampLessThanEquals,
        TimestampGreaterThanEqualsPath => TimestampGreaterThanEquals,
        other => other,
    }
}

fn num_cmp(a: &serde_json::Number, b: &serde_json::Number) -> Option<std::cmp::Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

fn compare(op: Operator, v: Option<&Value>, other: Option<&Value>, _: Option<()>) -> bool {
    use std::cmp::Ordering::*;
    use Operator::*;
    let op = base_op(op);
    match op {
        IsPresent => return v.is_some() == other.and_then(Value::as_bool).unwrap_or(false),
        IsNull => {
            return v.map(Value::is_null).unwrap_or(false)
                == other.and_then(Value::as_bool).unwrap_or(false)
                && v.is_some()
        }
        IsNumeric => {
            return v.is_some()
                && (matches!(v, Some(Value::Number(_)))
                    == other.and_then(Value::as_bool).unwrap_or(false))
        }
        IsString => {
            return v.is_some()
                && (matches!(v, Some(Value::String(_)))
                    == other.and_then(Value::as_bool).unwrap_or(false))
        }
        IsBoolean => {
            return v.is_some()
                && (matches!(v, Some(Value::Bool(_)))
                    == other.and_then(Value::as_bool).unwrap_or(false))
        }
        IsTimestamp => {
            let is = matches!(v, Some(Value::String(s)) if parse_timestamp(s).is_some());
            return v.is_some() && is == other.and_then(Value::as_bool).unwrap_or(false);
        }
        _ => {}
    }
    let (Some(v), Some(other)) = (v, other) else {
        return false;
    };
    match op {
        StringEquals
        | StringLessThan
        | StringGreaterThan
        | StringLessThanEquals
        | StringGreaterThanEquals => {
            let (Value::String(a), Value::String(b)) = (v, other) else {
                return false;
            };
            let o = a.cmp(b);
            match op {
                StringEquals => o == Equal,
                StringLessThan => o == Less,
                StringGreaterThan => o == Greater,
                StringLessThanEquals => o != Greater,
                _ => o != Less,
            }
        }
        NumericEquals
        | NumericLessThan
        | NumericGreaterThan
        | NumericLessThanEquals
        | NumericGreaterThanEquals => {
            let (Value::Number(a), Value::Number(b)) = (v, other) else {
                return false;
            };
            let Some(o) = num_cmp(a, b) else { return false };
            match op {
                NumericEquals => o == Equal,
                NumericLessThan => o == Less,
                NumericGreaterThan => o == Greater,
                NumericLessThanEquals => o != Greater,
                _ => o != Less,
            }
        }
        BooleanEquals => matches!((v, other), (Value::Bool(a), Value::Bool(b)) if a == b),
        TimestampEquals
        | TimestampLessThan
        | TimestampGreaterThan
        | TimestampLessThanEquals
        | TimestampGreaterThanEquals => {
            compare_ts(op, Some(v), other.as_str().and_then(parse_timestamp))
        }
        _ => false,
    }
}

fn compare_ts(op: Operator, v: Option<&Value>, t: Option<Instant>) -> bool {
    use std::cmp::Ordering::*;
    use Operator::*;
    let (Some(Value::String(s)), Some(t)) = (v, t) else {
        return false;
    };
    let Some(a) = parse_timestamp(s) else {
        return false;
    };
    let o = a.cmp(&t);
    match base_op(op) {
        TimestampEquals => o == Equal,
        TimestampLessThan => o == Less,
        TimestampGreaterThan => o == Greater,
        TimestampLessThanEquals => o != Greater,
        TimestampGreaterThanEquals => o != Less,
        _ => false,
    }
}

fn matches_pattern(s: &str, pat: &[PatPart]) -> bool {
    match pat.split_first() {
        None => s.is_empty(),
        Some((PatPart::Lit(l), rest)) => s
            .strip_prefix(l.as_str())
            .is_some_and(|r| matches_pattern(r, rest)),
        Some((PatPart::Star, rest)) => {
            if rest.is_empty() {
                return true;
            }
            s.char_indices()
                .map(|(i, _)| i)
                .chain([s.len()])
                .any(|i| matches_pattern(&s[i..], rest))
        }
    }
}

/// True when the compact JSON of `v` is longer than `max` bytes (stops counting early).
pub(crate) fn json_size_exceeds(v: &Value, max: usize) -> bool {
    struct Counter {
        n: usize,
        max: usize,
    }
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.n += buf.len();
            if self.n > self.max {
                return Err(std::io::Error::other("limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Counter { n: 0, max };
    serde_json::to_writer(&mut c, v).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_patterns() {
        let p = |s: &str| {
            let mut parts = Vec::new();
            for (i, chunk) in s.split('*').enumerate() {
                if i > 0 {
                    parts.push(PatPart::Star);
                }
                if !chunk.is_empty() {
                    parts.push(PatPart::Lit(chunk.into()));
                }
            }
            parts
        };
        assert!(matches_pattern("log-2024.txt", &p("log-*.txt")));
        assert!(!matches_pattern("log-2024.csv", &p("log-*.txt")));
        assert!(matches_pattern("abc", &p("*")));
        assert!(matches_pattern("", &p("*")));
        assert!(matches_pattern("a*b", &[PatPart::Lit("a*b".into())]));
        assert!(matches_pattern("xaxb", &p("*a*b")));
    }

    #[test]
    fn size_limit() {
        assert!(!json_size_exceeds(&json!({"a": 1}), 7));
        assert!(json_size_exceeds(&json!({"a": 12}), 7));
    }

    #[test]
    fn comparisons() {
        use Operator::*;
        assert!(compare(
            NumericEquals,
            Some(&json!(1)),
            Some(&json!(1.0)),
            None
        ));
        assert!(!compare(
            NumericEquals,
            Some(&json!("1")),
            Some(&json!(1)),
            None
        ));
        assert!(compare(
            NumericLessThanPath,
            Some(&json!(1)),
            Some(&json!(2)),
            None
        ));
        assert!(compare(
            StringGreaterThan,
            Some(&json!("b")),
            Some(&json!("a")),
            None
        ));
        assert!(compare(IsPresent, None, Some(&json!(false)), None));
        assert!(!compare(IsNull, None, Some(&json!(true)), None));
        assert!(compare(
            IsNull,
            Some(&json!(null)),
            Some(&json!(true)),
            None
        ));
        assert!(compare(
            BooleanEquals,
            Some(&json!(true)),
            Some(&json!(true)),
            None
        ));
        assert!(compare(
            TimestampLessThan,
            Some(&json!("2016-03-14T01:59:00Z")),
            Some(&json!("2016-03-14T02:00:00Z")),
            None
        ));
    }
}
