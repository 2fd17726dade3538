//! JSONata in states: `{% %}` strings in `Arguments`, `Output`, `Assign`, `Condition`, `Items`,
//! `Seconds`, ..., compiled once per machine, evaluated with `$states` and the workflow variables
//! bound, with AWS's error texts.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::Failure;
use crate::vars::Vars;

/// A parsed `{% expression %}`.
#[derive(Debug, Clone)]
pub(crate) struct JExpr {
    /// The expression text between `{%` and `%}`, trimmed (as AWS quotes it in causes).
    pub src: Arc<str>,
    expr: Arc<stepwright_jsonata::Expression>,
}

/// Returns the inner text when `s` is a `{% ... %}` expression string.
pub(crate) fn inner(s: &str) -> Option<&str> {
    if s.len() >= 4 && s.starts_with("{%") && s.ends_with("%}") {
        Some(s[2..s.len() - 2].trim())
    } else {
        None
    }
}

impl JExpr {
    pub fn parse(src: &str) -> Result<JExpr, String> {
        let expr = stepwright_jsonata::parse(src).map_err(|e| {
            format!(
                "the JSONata expression '{src}' does not parse: {}: {} (at character {})",
                e.code, e.message, e.position
            )
        })?;
        Ok(JExpr {
            src: src.into(),
            expr: Arc::new(expr),
        })
    }
}

/// What JSONata expressions of one state are evaluated with.
pub(crate) struct JEnv<'a> {
    /// `$states`: input, context, and result / errorOutput when available.
    pub states: &'a Value,
    /// Workflow variables.
    pub vars: &'a Vars,
    /// Seed for `$random()` / `$uuid()` of this evaluation.
    pub seed: u64,
    /// Milliseconds since the epoch for `$now()` / `$millis()`.
    pub now_millis: i64,
}

/// A value with `{% %}` strings anywhere inside (objects and arrays are walked).
#[derive(Debug, Clone)]
pub(crate) enum JTemplate {
    Literal(Value),
    Expr(JExpr),
    Object(Vec<(String, JTemplate)>),
    Array(Vec<JTemplate>),
}

impl JTemplate {
    pub fn compile(v: &Value) -> Result<JTemplate, String> {
        Ok(match v {
            Value::String(s) => match inner(s) {
                Some(src) => JTemplate::Expr(JExpr::parse(src)?),
                None => JTemplate::Literal(v.clone()),
            },
            Value::Object(m) => {
                let items = m
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), JTemplate::compile(v)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                if items
                    .iter()
                    .all(|(_, t)| matches!(t, JTemplate::Literal(_)))
                {
                    JTemplate::Literal(v.clone())
                } else {
                    JTemplate::Object(items)
                }
            }
            Value::Array(a) => {
                let items = a
                    .iter()
                    .map(JTemplate::compile)
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|t| matches!(t, JTemplate::Literal(_))) {
                    JTemplate::Literal(v.clone())
                } else {
                    JTemplate::Array(items)
                }
            }
            other => JTemplate::Literal(other.clone()),
        })
    }

    /// The single expression, when the template is exactly one `{% %}` string.
    pub fn as_expr(&self) -> Option<&JExpr> {
        match self {
            JTemplate::Expr(e) => Some(e),
            _ => None,
        }
    }

    /// Evaluates; `field` names the place for error texts (`Output`, `Assign/x`, ...).
    pub fn eval(&self, env: &JEnv<'_>, field: &str) -> Result<Value, Failure> {
        match self {
            JTemplate::Literal(v) => Ok(v.clone()),
            JTemplate::Expr(e) => eval_defined(e, env, field),
            JTemplate::Object(items) => {
                let mut m = Map::with_capacity(items.len());
                for (k, t) in items {
                    m.insert(k.clone(), t.eval(env, &format!("{field}/{k}"))?);
                }
                Ok(Value::Object(m))
            }
            JTemplate::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, t) in items.iter().enumerate() {
                    out.push(t.eval(env, &format!("{field}[{i}]"))?);
                }
                Ok(Value::Array(out))
            }
        }
    }
}

/// Evaluates an expression that must produce a value.
pub(crate) fn eval_defined(e: &JExpr, env: &JEnv<'_>, field: &str) -> Result<Value, Failure> {
    match evaluate(e, env) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(Failure::query(
            Some(field.to_string()),
            format!(
                "The JSONata expression '{}' specified for the field '{field}' returned nothing (undefined).",
                e.src
            ),
        )),
        Err(msg) => Err(Failure::query(
            Some(field.to_string()),
            format!(
                "The JSONata expression '{}' specified for the field '{field}' threw an error during evaluation. {msg}",
                e.src
            ),
        )),
    }
}

/// The AWS text for an expression whose result has the wrong type.
pub(crate) fn wrong_type(e: &JExpr, field: &str, expected: &str, v: &Value) -> Failure {
    Failure::query(
        Some(field.to_string()),
        format!(
            "The JSONata expression '{}' specified for the field '{field}' returned an unexpected result type. Expected '{expected}', but was '{}' for value: {v}",
            e.src,
            type_name(v)
        ),
    )
}

/// JSON type names as AWS prints them.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Evaluates `e`: `Ok(None)` is JSONata's undefined; `Err` carries `CODE: message`.
pub(crate) fn evaluate(e: &JExpr, env: &JEnv<'_>) -> Result<Option<Value>, String> {
    let now = env.now_millis;
    let mut jenv = stepwright_jsonata::Environment::new()
        .with_seed(env.seed)
        .with_clock(Arc::new(move || now));
    for (k, v) in env.vars.iter() {
        jenv.bind(&**k, (**v).clone());
    }
    jenv.bind("states", env.states.clone());
    e.expr
        .evaluate(None, &jenv)
        .map_err(|err| format!("{}: {}", err.code, err.message))
}
