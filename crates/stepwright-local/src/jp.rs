//! JSONPath data flow for the runner, on `stepwright::jsonpath`, `stepwright::intrinsics` and
//! `stepwright::dataflow`: paths and payload templates are compiled once per machine; evaluation
//! shares the input when a path selects all of it, and builds the context object (`$$`) only for
//! the paths and templates that read it.

use std::cell::OnceCell;
use std::sync::Arc;

use serde_json::Value;
use stepwright::dataflow::{DataFlowError, Env, PayloadTemplate, ResultPath};
use stepwright::intrinsics::RandomSource;
use stepwright::jsonpath::{Miss, Path, Root, Roots, Selection, Step, Variables};

use crate::error::Failure;
use crate::history::Data;
use crate::vars::Vars;

/// A value built on first use (the context object: most states never read it).
pub(crate) struct Lazy<'a> {
    cell: OnceCell<Value>,
    build: &'a dyn Fn() -> Value,
}

impl<'a> Lazy<'a> {
    pub fn new(build: &'a dyn Fn() -> Value) -> Lazy<'a> {
        Lazy {
            cell: OnceCell::new(),
            build,
        }
    }

    pub fn get(&self) -> &Value {
        self.cell.get_or_init(|| (self.build)())
    }
}

impl Variables for Vars {
    fn get_variable(&self, name: &str) -> Option<&Value> {
        self.get_ref(name)
    }
}

/// What paths and templates are evaluated against.
pub(crate) struct Scope<'a> {
    pub input: &'a Value,
    pub context: &'a Lazy<'a>,
    pub vars: &'a Vars,
    pub random: &'a dyn RandomSource,
}

impl<'a> Scope<'a> {
    fn roots(&self, with_context: bool) -> Roots<'a> {
        let r = Roots::new(self.input).with_variables(self.vars);
        if with_context {
            r.with_context(self.context.get())
        } else {
            r
        }
    }

    fn env(&self, with_context: bool) -> Env<'a> {
        Env::from_roots(self.roots(with_context)).with_random(self.random)
    }
}

/// A compiled JSONPath (`$...`, `$$...`, `$var...`).
#[derive(Debug, Clone)]
pub(crate) struct JPath {
    pub src: Arc<str>,
    path: Path,
    context: bool,
}

impl JPath {
    pub fn parse(src: &str) -> Result<JPath, String> {
        let path = Path::parse(src).map_err(|e| format!("invalid path '{src}': {e}"))?;
        Ok(JPath {
            src: src.into(),
            context: *path.root() == Root::Context,
            path,
        })
    }

    /// True when evaluating reads the context object.
    pub fn uses_context(&self) -> bool {
        self.context
    }

    /// The selected value, or why nothing was selected.
    pub fn select_or_miss(&self, s: &Scope<'_>) -> Result<Value, Miss> {
        self.path.evaluate(&s.roots(self.context))
    }

    /// The selected value, or `None` when nothing matches.
    pub fn select(&self, s: &Scope<'_>) -> Option<Value> {
        self.select_or_miss(s).ok()
    }

    /// Calls `f` with the selected value (borrowed when possible), or `None`.
    pub fn with_ref<R>(&self, s: &Scope<'_>, f: impl FnOnce(Option<&Value>) -> R) -> R {
        match self.path.select(&s.roots(self.context)) {
            Ok(Selection::One(v)) => f(Some(&v)),
            Ok(many @ Selection::Many(_)) => f(Some(&many.into_value())),
            Err(_) => f(None),
        }
    }

    /// Like `select`, but shares the value when the path is `$` or `$var`.
    pub fn select_data(&self, input: &Data, s: &Scope<'_>) -> Result<Data, Miss> {
        if self.path.is_root() {
            match self.path.root() {
                Root::Input => return Ok(input.clone()),
                Root::Variable(name) => {
                    if let Some(v) = s.vars.get(name) {
                        return Ok(v);
                    }
                }
                _ => {}
            }
        }
        self.select_or_miss(s).map(Arc::new)
    }

    /// The key, when the path is `$.key` (one member of the input).
    pub fn single_key(&self) -> Option<&str> {
        if *self.path.root() != Root::Input {
            return None;
        }
        match self.path.steps()?.as_slice() {
            [Step::Name(k)] => Some(k),
            _ => None,
        }
    }
}

/// A compiled `ResultPath`.
#[derive(Debug, Clone)]
pub(crate) struct JResultPath {
    rp: ResultPath,
    single_key: Option<String>,
}

impl JResultPath {
    pub fn parse(src: &str) -> Result<JResultPath, String> {
        let rp = ResultPath::compile(src).map_err(|e| e.cause().to_string())?;
        let single_key = JPath::parse(src)
            .ok()
            .and_then(|p| p.single_key().map(str::to_string));
        Ok(JResultPath { rp, single_key })
    }

    pub fn single_key(&self) -> Option<&str> {
        self.single_key.as_deref()
    }

    pub fn apply(&self, input: &Value, result: Value) -> Result<Value, Failure> {
        self.rp.apply(input, result).map_err(Failure::dataflow)
    }
}

/// A compiled payload template (`Parameters`, `ResultSelector`, `ItemSelector`, JSONPath
/// `Assign`, ...).
#[derive(Debug, Clone)]
pub(crate) struct Template {
    t: PayloadTemplate,
    context: bool,
}

/// True when some `.$` value of the template mentions `$$` (the context object).
fn mentions_context(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| {
            (k.ends_with(".$") && v.as_str().is_some_and(|s| s.contains("$$")))
                || mentions_context(v)
        }),
        Value::Array(a) => a.iter().any(mentions_context),
        _ => false,
    }
}

impl Template {
    pub fn compile(v: &Value) -> Result<Template, String> {
        Ok(Template {
            t: PayloadTemplate::compile(v).map_err(|e| e.cause().to_string())?,
            context: mentions_context(v),
        })
    }

    pub fn uses_context(&self) -> bool {
        self.context
    }

    pub fn eval(&self, s: &Scope<'_>) -> Result<Value, Failure> {
        self.t
            .evaluate(&s.env(self.context))
            .map_err(Failure::dataflow)
    }
}

/// Evaluates a path or intrinsic function written in a field (`ErrorPath`, `CausePath`).
pub(crate) fn eval_field(field: &str, text: &str, s: &Scope<'_>) -> Result<Value, Failure> {
    stepwright::dataflow::evaluate_field(field, text, &s.env(text.contains("$$")))
        .map_err(Failure::dataflow)
}

impl Failure {
    /// A data-flow error: `States.Runtime` is never caught; every such error gets the state
    /// prefix AWS writes.
    pub(crate) fn dataflow(e: DataFlowError) -> Failure {
        let mut f = if e.error() == crate::error::names::RUNTIME {
            Failure::runtime(e.cause())
        } else {
            Failure::new(e.error(), e.cause())
        };
        f.prefixable = true;
        f
    }
}
