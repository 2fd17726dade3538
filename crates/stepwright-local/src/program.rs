//! A machine compiled for execution: states in vectors with transitions resolved to indices,
//! paths, payload templates and JSONata expressions parsed once.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use stepwright::{
    Branch, Catcher, ChoiceRule, Condition, IntOrExpr, JitterStrategy, MapState, NullablePath,
    NumberOrExpr, Object, OperandKind, Operator, QueryLanguage, Retrier, State, StateMachine,
    States,
};

use crate::error::SetupError;
use crate::history::{Data, StateKind, TaskFamily};
use crate::jp::{JPath, JResultPath, Template};
use crate::jx::{inner, JTemplate};
use crate::tasks::{is_activity_arn, is_function_arn, resource_type_and_name};
use crate::time::{parse_timestamp, Instant};

pub(crate) struct Program {
    pub root: Graph,
    pub timeout_seconds: Option<u64>,
}

pub(crate) struct Graph {
    pub nodes: Vec<Node>,
    pub start: usize,
}

/// `InputPath` / `OutputPath`.
pub(crate) enum PathSpec {
    /// `$` (absent).
    Identity,
    /// `null`: `{}`.
    Discard,
    Path(JPath),
}

/// `ResultPath`.
pub(crate) enum ResultSpec {
    /// `$` (absent): the result replaces the input.
    Replace,
    /// `null`: the result is discarded, the input passes through.
    Discard,
    Path(JResultPath),
}

/// `Assign`.
pub(crate) enum AssignSpec {
    /// JSONPath: the whole `Assign` object as one payload template (`x.$` keys evaluated).
    Path(Template),
    /// JSONata: variable name → template (with `{% %}`).
    Jsonata(Vec<(Arc<str>, JTemplate)>),
}

/// A number field: literal, JSONPath `...Path`, or JSONata.
pub(crate) enum NumSpec {
    None,
    Lit(f64),
    Path(JPath),
    Jsonata(JTemplate),
}

pub(crate) struct RetrySpec {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub jitter: bool,
}

pub(crate) struct CatchSpec {
    pub error_equals: Vec<String>,
    pub next: usize,
    pub result_path: ResultSpec,
    pub output: Option<JTemplate>,
    pub assign: Option<AssignSpec>,
}

pub(crate) struct Node {
    pub name: Arc<str>,
    pub kind: StateKind,
    pub jsonata: bool,
    /// `None` = End.
    pub next: Option<usize>,
    pub input_path: PathSpec,
    pub output_path: PathSpec,
    pub result_path: ResultSpec,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub arguments: Option<JTemplate>,
    pub output: Option<JTemplate>,
    pub assign: Option<AssignSpec>,
    pub retry: Vec<RetrySpec>,
    pub catch: Vec<CatchSpec>,
    pub op: Op,
    /// True when some path or template of the state reads `$$` / `$states.context`.
    pub uses_context: bool,
}

pub(crate) enum Op {
    Pass { result: Option<Data> },
    Task(Box<TaskOp>),
    Choice(ChoiceOp),
    Wait(WaitOp),
    Succeed,
    Fail(FailOp),
    Parallel { branches: Vec<Graph> },
    Map(Box<MapOp>),
}

pub(crate) struct TaskOp {
    pub resource: Arc<str>,
    pub family: TaskFamily,
    pub wait_for_token: bool,
    pub timeout: NumSpec,
    pub heartbeat: NumSpec,
    pub timeout_literal: Option<u64>,
    pub heartbeat_literal: Option<u64>,
}

pub(crate) struct ChoiceOp {
    pub rules: Vec<Rule>,
    pub default: Option<usize>,
}

pub(crate) struct Rule {
    pub cond: Cond,
    pub next: usize,
    pub output: Option<JTemplate>,
    pub assign: Option<AssignSpec>,
}

pub(crate) enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp {
        var: JPath,
        op: Operator,
        operand: Operand,
    },
    Jsonata(JTemplate),
}

pub(crate) enum Operand {
    Value(Value),
    Timestamp(Option<Instant>),
    Pattern(Vec<PatPart>),
    Path(JPath),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PatPart {
    Lit(String),
    Star,
}

pub(crate) enum WaitOp {
    Seconds(NumSpec),
    Timestamp(Option<Instant>, String),
    TimestampJsonata(JTemplate),
    SecondsPath(JPath),
    TimestampPath(JPath),
}

pub(crate) enum StrSpec {
    None,
    Lit(String),
    /// `ErrorPath` / `CausePath`: a path or an intrinsic function.
    Path(String),
    Jsonata(JTemplate),
}

pub(crate) struct FailOp {
    pub error: StrSpec,
    pub cause: StrSpec,
}

pub(crate) enum ItemsSpec {
    Path(PathSpec),
    Jsonata(JTemplate),
}

pub(crate) enum SelectorSpec {
    Path(Template),
    Jsonata(JTemplate),
}

pub(crate) struct MapOp {
    pub processor: Graph,
    pub items: ItemsSpec,
    pub selector: Option<SelectorSpec>,
    pub max_concurrency: NumSpec,
    pub tolerated_count: NumSpec,
    pub tolerated_percentage: NumSpec,
    pub distributed: bool,
    pub reader: Option<ReaderSpec>,
    pub batcher: Option<BatcherSpec>,
    pub writer: Option<WriterSpec>,
    pub label: Option<String>,
}

pub(crate) struct ReaderSpec {
    pub resource: String,
    pub request: Option<SelectorSpec>,
    pub input_type: Option<String>,
    pub csv_header_location: Option<String>,
    pub csv_headers: Option<Vec<String>>,
    pub csv_delimiter: Option<String>,
    pub max_items: NumSpec,
}

pub(crate) struct BatcherSpec {
    pub max_items: NumSpec,
    pub max_bytes: NumSpec,
    pub batch_input: Option<SelectorSpec>,
}

pub(crate) struct WriterSpec {
    pub request: Option<SelectorSpec>,
    pub output_type: Option<String>,
    pub transformation: Option<String>,
}

/// Compiles a machine; errors name the place with a JSON pointer.
pub(crate) fn compile(m: &StateMachine) -> Result<Program, SetupError> {
    let lang = m.query_language.unwrap_or_default();
    let root = compile_graph(&m.states, &m.start_at, lang, "")?;
    Ok(Program {
        root,
        timeout_seconds: m.timeout_seconds,
    })
}

/// Compiles a single state as a one-state graph (for TestState). Transitions to other states
/// are kept as names only: the graph's `next` indices point past the end.
pub(crate) fn compile_single(
    name: &str,
    state: &State,
    lang: QueryLanguage,
) -> Result<(Node, Vec<String>), SetupError> {
    let mut targets: Vec<String> = state.successors().iter().map(|s| s.to_string()).collect();
    let mut index: HashMap<&str, usize> = HashMap::new();
    index.insert(name, 0);
    for (i, t) in targets.iter().enumerate() {
        index.entry(t.as_str()).or_insert(i + 1);
    }
    let node = compile_node(name, state, lang, &index, "")?;
    targets.insert(0, name.to_string());
    Ok((node, targets))
}

fn ptr(base: &str, key: &str) -> String {
    stepwright::diagnostics::pointer_push(base, key)
}

fn compile_graph(
    states: &States,
    start_at: &str,
    lang: QueryLanguage,
    base: &str,
) -> Result<Graph, SetupError> {
    let index: HashMap<&str, usize> = states
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let start = *index.get(start_at).ok_or_else(|| {
        SetupError::new(format!("StartAt '{start_at}' names no state"))
            .at(format!("{base}/StartAt"))
    })?;
    let mut nodes = Vec::with_capacity(states.len());
    let states_ptr = format!("{base}/States");
    for (name, state) in states {
        nodes.push(compile_node(
            name,
            state,
            lang,
            &index,
            &ptr(&states_ptr, name),
        )?);
    }
    Ok(Graph { nodes, start })
}

fn target(index: &HashMap<&str, usize>, name: &str, at: &str) -> Result<usize, SetupError> {
    index.get(name).copied().ok_or_else(|| {
        SetupError::new(format!(
            "'{name}' names no state in this scope (transitions stay inside their branch)"
        ))
        .at(at)
    })
}

fn path(src: &str, at: &str) -> Result<JPath, SetupError> {
    JPath::parse(src).map_err(|e| SetupError::new(e).at(at))
}

fn path_spec(p: &NullablePath, at: &str) -> Result<PathSpec, SetupError> {
    Ok(match p {
        None => PathSpec::Identity,
        Some(None) => PathSpec::Discard,
        Some(Some(s)) if s == "$" => PathSpec::Identity,
        Some(Some(s)) => PathSpec::Path(path(s, at)?),
    })
}

fn result_spec(p: &NullablePath, at: &str) -> Result<ResultSpec, SetupError> {
    Ok(match p {
        None => ResultSpec::Replace,
        Some(None) => ResultSpec::Discard,
        Some(Some(s)) if s == "$" => ResultSpec::Replace,
        Some(Some(s)) => {
            ResultSpec::Path(JResultPath::parse(s).map_err(|e| SetupError::new(e).at(at))?)
        }
    })
}

fn template(v: &Option<Value>, at: &str) -> Result<Option<Template>, SetupError> {
    v.as_ref()
        .map(|v| Template::compile(v).map_err(|e| SetupError::new(e).at(at)))
        .transpose()
}

fn jtemplate(v: &Option<Value>, at: &str) -> Result<Option<JTemplate>, SetupError> {
    v.as_ref()
        .map(|v| JTemplate::compile(v).map_err(|e| SetupError::new(e).at(at)))
        .transpose()
}

fn selector(
    v: &Option<Value>,
    jsonata: bool,
    at: &str,
) -> Result<Option<SelectorSpec>, SetupError> {
    Ok(if jsonata {
        jtemplate(v, at)?.map(SelectorSpec::Jsonata)
    } else {
        template(v, at)?.map(SelectorSpec::Path)
    })
}

fn assign(a: &Option<Object>, jsonata: bool, at: &str) -> Result<Option<AssignSpec>, SetupError> {
    let Some(a) = a else { return Ok(None) };
    if jsonata {
        let mut out = Vec::with_capacity(a.len());
        for (k, v) in a {
            let t = JTemplate::compile(v).map_err(|e| SetupError::new(e).at(ptr(at, k)))?;
            out.push((Arc::from(k.as_str()), t));
        }
        Ok(Some(AssignSpec::Jsonata(out)))
    } else {
        let t =
            Template::compile(&Value::Object(a.clone())).map_err(|e| SetupError::new(e).at(at))?;
        Ok(Some(AssignSpec::Path(t)))
    }
}

fn num_spec(
    lit: &Option<IntOrExpr>,
    path_field: &Option<String>,
    at_lit: &str,
    at_path: &str,
) -> Result<NumSpec, SetupError> {
    if let Some(p) = path_field {
        return Ok(NumSpec::Path(path(p, at_path)?));
    }
    Ok(match lit {
        None => NumSpec::None,
        Some(IntOrExpr::Int(n)) => NumSpec::Lit(*n as f64),
        Some(IntOrExpr::Expr(s)) => match inner(s) {
            Some(_) => NumSpec::Jsonata(
                JTemplate::compile(&Value::String(s.clone()))
                    .map_err(|e| SetupError::new(e).at(at_lit))?,
            ),
            None => {
                return Err(SetupError::new(format!(
                    "'{s}' is neither a number nor a {{% %}} expression (unresolved substitution?)"
                ))
                .at(at_lit))
            }
        },
    })
}

fn num_spec_f(
    lit: &Option<NumberOrExpr>,
    path_field: &Option<String>,
    at_lit: &str,
    at_path: &str,
) -> Result<NumSpec, SetupError> {
    if let Some(p) = path_field {
        return Ok(NumSpec::Path(path(p, at_path)?));
    }
    Ok(match lit {
        None => NumSpec::None,
        Some(NumberOrExpr::Number(n)) => NumSpec::Lit(n.as_f64().unwrap_or(0.0)),
        Some(NumberOrExpr::Expr(s)) => match inner(s) {
            Some(_) => NumSpec::Jsonata(
                JTemplate::compile(&Value::String(s.clone()))
                    .map_err(|e| SetupError::new(e).at(at_lit))?,
            ),
            None => {
                return Err(SetupError::new(format!(
                    "'{s}' is neither a number nor a {{% %}} expression"
                ))
                .at(at_lit))
            }
        },
    })
}

fn retriers(r: &[Retrier], at: &str) -> Result<Vec<RetrySpec>, SetupError> {
    r.iter()
        .enumerate()
        .map(|(i, r)| {
            let backoff = r
                .backoff_rate
                .as_ref()
                .and_then(|n| n.as_f64())
                .unwrap_or(2.0);
            if backoff < 1.0 {
                return Err(SetupError::new("BackoffRate must be at least 1.0")
                    .at(format!("{at}/{i}/BackoffRate")));
            }
            Ok(RetrySpec {
                error_equals: r.error_equals.clone(),
                interval_seconds: r.interval_seconds.unwrap_or(1) as f64,
                max_attempts: r.max_attempts.unwrap_or(3),
                backoff_rate: backoff,
                max_delay_seconds: r.max_delay_seconds.map(|d| d as f64),
                jitter: r.jitter_strategy == Some(JitterStrategy::Full),
            })
        })
        .collect()
}

fn catchers(
    c: &[Catcher],
    jsonata: bool,
    index: &HashMap<&str, usize>,
    at: &str,
) -> Result<Vec<CatchSpec>, SetupError> {
    c.iter()
        .enumerate()
        .map(|(i, c)| {
            let cat = format!("{at}/{i}");
            Ok(CatchSpec {
                error_equals: c.error_equals.clone(),
                next: target(index, &c.next, &format!("{cat}/Next"))?,
                result_path: result_spec(&c.result_path, &format!("{cat}/ResultPath"))?,
                output: jtemplate(&c.output, &format!("{cat}/Output"))?,
                assign: assign(&c.assign, jsonata, &format!("{cat}/Assign"))?,
            })
        })
        .collect()
}

fn str_spec(
    lit: &Option<String>,
    path_field: &Option<String>,
    jsonata: bool,
    field: &'static str,
    at: &str,
) -> Result<StrSpec, SetupError> {
    if let Some(p) = path_field {
        return Ok(StrSpec::Path(p.clone()));
    }
    Ok(match lit {
        None => StrSpec::None,
        Some(s) if jsonata && inner(s).is_some() => StrSpec::Jsonata(
            JTemplate::compile(&Value::String(s.clone()))
                .map_err(|e| SetupError::new(e).at(format!("{at}/{field}")))?,
        ),
        Some(s) => StrSpec::Lit(s.clone()),
    })
}

fn pattern(p: &str) -> Vec<PatPart> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => lit.push(n),
                None => lit.push('\\'),
            },
            '*' => {
                if !lit.is_empty() {
                    parts.push(PatPart::Lit(std::mem::take(&mut lit)));
                }
                if parts.last() != Some(&PatPart::Star) {
                    parts.push(PatPart::Star);
                }
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        parts.push(PatPart::Lit(lit));
    }
    parts
}

fn condition(c: &Condition, at: &str) -> Result<Cond, SetupError> {
    Ok(match c {
        Condition::And(v) => Cond::And(
            v.iter()
                .enumerate()
                .map(|(i, n)| condition(&n.condition, &format!("{at}/And/{i}")))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Or(v) => Cond::Or(
            v.iter()
                .enumerate()
                .map(|(i, n)| condition(&n.condition, &format!("{at}/Or/{i}")))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Not(n) => Cond::Not(Box::new(condition(&n.condition, &format!("{at}/Not"))?)),
        Condition::Compare {
            variable,
            operator,
            value,
        } => {
            let op_at = format!("{at}/{}", operator.as_str());
            let operand = match operator.operand() {
                OperandKind::Path => {
                    let Value::String(s) = value else {
                        return Err(
                            SetupError::new("a *Path operator takes a path string").at(op_at)
                        );
                    };
                    Operand::Path(path(s, &op_at)?)
                }
                OperandKind::Timestamp => {
                    Operand::Timestamp(value.as_str().and_then(parse_timestamp))
                }
                OperandKind::Pattern => Operand::Pattern(pattern(value.as_str().unwrap_or(""))),
                _ => Operand::Value(value.clone()),
            };
            Cond::Cmp {
                var: path(variable, &format!("{at}/Variable"))?,
                op: *operator,
                operand,
            }
        }
        Condition::Jsonata(v) => Cond::Jsonata(
            JTemplate::compile(v).map_err(|e| SetupError::new(e).at(format!("{at}/Condition")))?,
        ),
    })
}

fn rule(
    r: &ChoiceRule,
    jsonata: bool,
    index: &HashMap<&str, usize>,
    at: &str,
) -> Result<Rule, SetupError> {
    Ok(Rule {
        cond: condition(&r.condition, at)?,
        next: target(index, &r.next, &format!("{at}/Next"))?,
        output: jtemplate(&r.output, &format!("{at}/Output"))?,
        assign: assign(&r.assign, jsonata, &format!("{at}/Assign"))?,
    })
}

fn branch_graph(b: &Branch, lang: QueryLanguage, at: &str) -> Result<Graph, SetupError> {
    compile_graph(&b.states, &b.start_at, b.query_language.unwrap_or(lang), at)
}

fn template_uses_context(t: &Option<Template>) -> bool {
    t.as_ref().is_some_and(Template::uses_context)
}

fn path_uses_context(p: &PathSpec) -> bool {
    matches!(p, PathSpec::Path(jp) if jp.uses_context())
}

fn compile_node(
    name: &str,
    state: &State,
    inherited: QueryLanguage,
    index: &HashMap<&str, usize>,
    at: &str,
) -> Result<Node, SetupError> {
    let lang = state.query_language(inherited);
    let jsonata = lang == QueryLanguage::Jsonata;
    let next = match state.transition() {
        Some(t) if t.is_end() => None,
        Some(t) => match &t.next {
            Some(n) => Some(target(index, n, &format!("{at}/Next"))?),
            None => return Err(SetupError::new("the state needs Next or End").at(at.to_string())),
        },
        None => None,
    };
    let f = |field: &str| format!("{at}/{field}");
    let mut node = Node {
        name: name.into(),
        kind: kind_of(state),
        jsonata,
        next,
        input_path: PathSpec::Identity,
        output_path: PathSpec::Identity,
        result_path: ResultSpec::Replace,
        parameters: None,
        result_selector: None,
        arguments: None,
        output: None,
        assign: assign(&state.assign().cloned(), jsonata, &f("Assign"))?,
        retry: retriers(state.retriers(), &f("Retry"))?,
        catch: catchers(state.catchers(), jsonata, index, &f("Catch"))?,
        op: Op::Succeed,
        uses_context: jsonata,
    };
    match state {
        State::Pass(s) => {
            node.input_path = path_spec(&s.input_path, &f("InputPath"))?;
            node.output_path = path_spec(&s.output_path, &f("OutputPath"))?;
            node.result_path = result_spec(&s.result_path, &f("ResultPath"))?;
            node.parameters = template(&s.parameters, &f("Parameters"))?;
            node.output = jtemplate(&s.output, &f("Output"))?;
            node.op = Op::Pass {
                result: s.result.clone().map(Arc::new),
            };
        }
        State::Task(s) => {
            node.input_path = path_spec(&s.input_path, &f("InputPath"))?;
            node.output_path = path_spec(&s.output_path, &f("OutputPath"))?;
            node.result_path = result_spec(&s.result_path, &f("ResultPath"))?;
            node.parameters = template(&s.parameters, &f("Parameters"))?;
            node.result_selector = template(&s.result_selector, &f("ResultSelector"))?;
            node.arguments = jtemplate(&s.arguments, &f("Arguments"))?;
            node.output = jtemplate(&s.output, &f("Output"))?;
            let resource: Arc<str> = match s.resource.as_arn() {
                Some(a) => a.into(),
                None => {
                    return Err(SetupError::new(
                        "the Resource is a CloudFormation intrinsic: resolve it before running",
                    )
                    .at(f("Resource")))
                }
            };
            let family = if is_function_arn(&resource) {
                TaskFamily::Lambda {
                    resource: resource.clone(),
                }
            } else if is_activity_arn(&resource) {
                TaskFamily::Activity {
                    resource: resource.clone(),
                }
            } else {
                let (t, r) = resource_type_and_name(&resource);
                TaskFamily::Service {
                    resource_type: t.into(),
                    resource: r.into(),
                }
            };
            let lit = |v: &Option<IntOrExpr>| match v {
                Some(IntOrExpr::Int(n)) => Some(*n),
                _ => None,
            };
            node.op = Op::Task(Box::new(TaskOp {
                wait_for_token: resource.ends_with(".waitForTaskToken"),
                resource,
                family,
                timeout: num_spec(
                    &s.timeout_seconds,
                    &s.timeout_seconds_path,
                    &f("TimeoutSeconds"),
                    &f("TimeoutSecondsPath"),
                )?,
                heartbeat: num_spec(
                    &s.heartbeat_seconds,
                    &s.heartbeat_seconds_path,
                    &f("HeartbeatSeconds"),
                    &f("HeartbeatSecondsPath"),
                )?,
                timeout_literal: lit(&s.timeout_seconds),
                heartbeat_literal: lit(&s.heartbeat_seconds),
            }));
        }
        State::Choice(s) => {
            node.input_path = path_spec(&s.input_path, &f("InputPath"))?;
            node.output_path = path_spec(&s.output_path, &f("OutputPath"))?;
            node.output = jtemplate(&s.output, &f("Output"))?;
            let rules = s
                .choices
                .iter()
                .enumerate()
                .map(|(i, r)| rule(r, jsonata, index, &format!("{at}/Choices/{i}")))
                .collect::<Result<Vec<_>, _>>()?;
            let default = s
                .default
                .as_ref()
                .map(|d| target(index, d, &f("Default")))
                .transpose()?;
            node.uses_context |= rules.iter().any(|r| cond_uses_context(&r.cond));
            node.op = Op::Choice(ChoiceOp { rules, default });
        }
        State::Wait(s) => {
            node.input_path = path_spec(&s.input_path, &f("InputPath"))?;
            node.output_path = path_spec(&s.output_path, &f("OutputPath"))?;
            node.output = jtemplate(&s.output, &f("Output"))?;
            let op = if let Some(p) = &s.seconds_path {
                WaitOp::SecondsPath(path(p, &f("SecondsPath"))?)
            } else if let Some(p) = &s.timestamp_path {
                WaitOp::TimestampPath(path(p, &f("TimestampPath"))?)
            } else if let Some(ts) = &s.timestamp {
                if jsonata && inner(ts).is_some() {
                    WaitOp::TimestampJsonata(
                        JTemplate::compile(&Value::String(ts.clone()))
                            .map_err(|e| SetupError::new(e).at(f("Timestamp")))?,
                    )
                } else {
                    WaitOp::Timestamp(parse_timestamp(ts), ts.clone())
                }
            } else {
                WaitOp::Seconds(num_spec(&s.seconds, &None, &f("Seconds"), "")?)
            };
            if let WaitOp::SecondsPath(p) | WaitOp::TimestampPath(p) = &op {
                node.uses_context |= p.uses_context();
            }
            node.op = Op::Wait(op);
        }
        State::Succeed(s) => {
            node.input_path = path_spec(&s.input_path, &f("InputPath"))?;
            node.output_path = path_spec(&s.output_path, &f("OutputPath"))?;
            node.output = jtemplate(&s.output, &f("Output"))?;
            node.op = Op::Succeed;
        }
        State::Fail(s) => {
            let error = str_spec(&s.error, &s.error_path, jsonata, "Error", at)?;
            let cause = str_spec(&s.cause, &s.cause_path, jsonata, "Cause", at)?;
            for sp in [&error, &cause] {
                if let StrSpec::Path(p) = sp {
                    node.uses_context |= p.contains("$$");
                }
            }
            node.op = Op::Fail(FailOp { error, cause });
        }
        State::Parallel(s) => {
            node.input_path = path_spec(&s.input_path, &f("InputPath"))?;
            node.output_path = path_spec(&s.output_path, &f("OutputPath"))?;
            node.result_path = result_spec(&s.result_path, &f("ResultPath"))?;
            node.parameters = template(&s.parameters, &f("Parameters"))?;
            node.result_selector = template(&s.result_selector, &f("ResultSelector"))?;
            node.arguments = jtemplate(&s.arguments, &f("Arguments"))?;
            node.output = jtemplate(&s.output, &f("Output"))?;
            let branches = s
                .branches
                .iter()
                .enumerate()
                .map(|(i, b)| branch_graph(b, lang, &format!("{at}/Branches/{i}")))
                .collect::<Result<Vec<_>, _>>()?;
            node.op = Op::Parallel { branches };
        }
        State::Map(s) => {
            node.input_path = path_spec(&s.input_path, &f("InputPath"))?;
            node.output_path = path_spec(&s.output_path, &f("OutputPath"))?;
            node.result_path = result_spec(&s.result_path, &f("ResultPath"))?;
            node.result_selector = template(&s.result_selector, &f("ResultSelector"))?;
            node.output = jtemplate(&s.output, &f("Output"))?;
            node.op = Op::Map(Box::new(map_op(s, lang, jsonata, at)?));
        }
    }
    node.uses_context |= path_uses_context(&node.input_path)
        || path_uses_context(&node.output_path)
        || template_uses_context(&node.parameters)
        || template_uses_context(&node.result_selector)
        || match &node.assign {
            Some(AssignSpec::Path(t)) => t.uses_context(),
            _ => false,
        }
        || matches!(node.op, Op::Map(_) | Op::Task(_));
    Ok(node)
}

fn cond_uses_context(c: &Cond) -> bool {
    match c {
        Cond::And(v) | Cond::Or(v) => v.iter().any(cond_uses_context),
        Cond::Not(c) => cond_uses_context(c),
        Cond::Cmp { var, operand, .. } => {
            var.uses_context() || matches!(operand, Operand::Path(p) if p.uses_context())
        }
        Cond::Jsonata(_) => true,
    }
}

fn map_op(s: &MapState, lang: QueryLanguage, jsonata: bool, at: &str) -> Result<MapOp, SetupError> {
    let f = |field: &str| format!("{at}/{field}");
    let (pfield, proc_) = match (&s.item_processor, &s.iterator) {
        (Some(p), _) => ("ItemProcessor", p),
        (None, Some(p)) => ("Iterator", p),
        (None, None) => {
            return Err(SetupError::new("a Map state needs an ItemProcessor").at(at.to_string()))
        }
    };
    let processor = branch_graph(proc_, lang, &f(pfield))?;
    let items = if jsonata {
        match &s.items {
            Some(v) => ItemsSpec::Jsonata(
                JTemplate::compile(v).map_err(|e| SetupError::new(e).at(f("Items")))?,
            ),
            None => ItemsSpec::Path(PathSpec::Identity),
        }
    } else {
        ItemsSpec::Path(match &s.items_path {
            None => PathSpec::Identity,
            Some(p) if p == "$" => PathSpec::Identity,
            Some(p) => PathSpec::Path(path(p, &f("ItemsPath"))?),
        })
    };
    let sel_src = s.item_selector.clone().or_else(|| s.parameters.clone());
    let sel_at = if s.item_selector.is_some() {
        f("ItemSelector")
    } else {
        f("Parameters")
    };
    let reader = match &s.item_reader {
        None => None,
        Some(r) => {
            let rc = r.reader_config.clone().unwrap_or_default();
            let rat = f("ItemReader");
            Some(ReaderSpec {
                resource: r.resource.clone(),
                request: selector(
                    if jsonata { &r.arguments } else { &r.parameters },
                    jsonata,
                    &format!("{rat}/Parameters"),
                )?,
                input_type: rc.input_type.clone(),
                csv_header_location: rc.csv_header_location.clone(),
                csv_headers: rc.csv_headers.clone(),
                csv_delimiter: rc.csv_delimiter.clone(),
                max_items: num_spec(
                    &rc.max_items,
                    &rc.max_items_path,
                    &format!("{rat}/ReaderConfig/MaxItems"),
                    &format!("{rat}/ReaderConfig/MaxItemsPath"),
                )?,
            })
        }
    };
    let batcher = match &s.item_batcher {
        None => None,
        Some(b) => {
            let bat = f("ItemBatcher");
            Some(BatcherSpec {
                max_items: num_spec(
                    &b.max_items_per_batch,
                    &b.max_items_per_batch_path,
                    &format!("{bat}/MaxItemsPerBatch"),
                    &format!("{bat}/MaxItemsPerBatchPath"),
                )?,
                max_bytes: num_spec(
                    &b.max_input_bytes_per_batch,
                    &b.max_input_bytes_per_batch_path,
                    &format!("{bat}/MaxInputBytesPerBatch"),
                    &format!("{bat}/MaxInputBytesPerBatchPath"),
                )?,
                batch_input: selector(&b.batch_input, jsonata, &format!("{bat}/BatchInput"))?,
            })
        }
    };
    let writer = match &s.result_writer {
        None => None,
        Some(w) => Some(WriterSpec {
            request: selector(
                if jsonata { &w.arguments } else { &w.parameters },
                jsonata,
                &f("ResultWriter"),
            )?,
            output_type: w.writer_config.as_ref().and_then(|c| c.output_type.clone()),
            transformation: w
                .writer_config
                .as_ref()
                .and_then(|c| c.transformation.clone()),
        }),
    };
    Ok(MapOp {
        processor,
        items,
        selector: selector(&sel_src, jsonata, &sel_at)?,
        max_concurrency: num_spec(
            &s.max_concurrency,
            &s.max_concurrency_path,
            &f("MaxConcurrency"),
            &f("MaxConcurrencyPath"),
        )?,
        tolerated_count: num_spec(
            &s.tolerated_failure_count,
            &s.tolerated_failure_count_path,
            &f("ToleratedFailureCount"),
            &f("ToleratedFailureCountPath"),
        )?,
        tolerated_percentage: num_spec_f(
            &s.tolerated_failure_percentage,
            &s.tolerated_failure_percentage_path,
            &f("ToleratedFailurePercentage"),
            &f("ToleratedFailurePercentagePath"),
        )?,
        distributed: s.is_distributed(),
        reader,
        batcher,
        writer,
        label: s.label.clone(),
    })
}

pub(crate) fn kind_of(s: &State) -> StateKind {
    match s {
        State::Pass(_) => StateKind::Pass,
        State::Task(_) => StateKind::Task,
        State::Choice(_) => StateKind::Choice,
        State::Wait(_) => StateKind::Wait,
        State::Succeed(_) => StateKind::Succeed,
        State::Fail(_) => StateKind::Fail,
        State::Parallel(_) => StateKind::Parallel,
        State::Map(_) => StateKind::Map,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert_eq!(
            pattern("log-*.txt"),
            vec![
                PatPart::Lit("log-".into()),
                PatPart::Star,
                PatPart::Lit(".txt".into())
            ]
        );
        assert_eq!(pattern(r"a\*b"), vec![PatPart::Lit("a*b".into())]);
        assert_eq!(pattern("**"), vec![PatPart::Star]);
    }
}
