//! Compiled payload templates.

use serde_json::{Map, Value};

use super::{call_error, parse_call, path_miss, DataFlowError, Env, RUNTIME};
use crate::intrinsics::{is_intrinsic, Call};
use crate::jsonpath::Path;

/// Templates nested deeper than this are refused (serde_json itself stops at 128 levels when
/// parsing text; a value built in code could be deeper).
const MAX_DEPTH: usize = 512;

/// A payload template compiled once (paths and intrinsic calls parsed) and evaluated many times:
/// the local runner's hot path.
///
/// ```
/// use serde_json::json;
/// use stepwright::dataflow::{Env, PayloadTemplate};
/// let t = PayloadTemplate::compile(&json!({
///     "Bucket": "models",
///     "Key.$": "States.Format('runs/{}/model.tar.gz', $$.Execution.Name)",
///     "Tags": [{"Run.$": "$.run"}]
/// }))?;
/// let input = json!({"run": 3});
/// let context = json!({"Execution": {"Name": "exec-1"}});
/// let out = t.evaluate(&Env::new(&input).with_context(&context))?;
/// assert_eq!(out, json!({
///     "Bucket": "models",
///     "Key": "runs/exec-1/model.tar.gz",
///     "Tags": [{"Run": 3}]
/// }));
/// # Ok::<(), stepwright::dataflow::DataFlowError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PayloadTemplate {
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A subtree without `.$` keys: copied as is.
    Literal(Value),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    /// `"key.$": "$..."`: the field name (with `.$`) for error messages, and the path.
    Path(String, Path),
    /// `"key.$": "States...."`.
    Call(Call),
}

impl PayloadTemplate {
    /// Compiles a template. A `.$` value that is not a string holding a path or an intrinsic
    /// function call fails with `States.Runtime` (the validator rejects such definitions).
    pub fn compile(template: &Value) -> Result<PayloadTemplate, DataFlowError> {
        Ok(PayloadTemplate {
            root: compile(template, 0)?,
        })
    }

    /// True when evaluating the template reads the context object (`$$`): a caller that builds
    /// the context object lazily can skip it otherwise.
    pub fn uses_context(&self) -> bool {
        self.root.any(&mut |n| match n {
            Node::Path(_, p) => p.uses_context(),
            Node::Call(c) => c.uses_context(),
            _ => false,
        })
    }

    /// True when the template reads workflow variables (`$name`).
    pub fn uses_variables(&self) -> bool {
        self.root.any(&mut |n| match n {
            Node::Path(_, p) => !p.variables().is_empty(),
            Node::Call(c) => !c.variables().is_empty(),
            _ => false,
        })
    }

    /// True when the template draws random numbers (`States.UUID`, unseeded
    /// `States.MathRandom`).
    pub fn uses_random(&self) -> bool {
        self.root
            .any(&mut |n| matches!(n, Node::Call(c) if c.uses_random()))
    }

    /// True when the template has no `.$` key: it evaluates to a copy of itself.
    pub fn is_literal(&self) -> bool {
        matches!(self.root, Node::Literal(_))
    }

    /// Evaluates the template against `env` (`$` is `env.input()`).
    pub fn evaluate(&self, env: &Env<'_>) -> Result<Value, DataFlowError> {
        eval(&self.root, env)
    }
}

impl Node {
    fn any(&self, f: &mut dyn FnMut(&Node) -> bool) -> bool {
        if f(self) {
            return true;
        }
        match self {
            Node::Object(fields) => fields.iter().any(|(_, n)| n.any(f)),
            Node::Array(items) => items.iter().any(|n| n.any(f)),
            _ => false,
        }
    }
}

fn has_dynamic(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k.ends_with(".$") || has_dynamic(v)),
        Value::Array(a) => a.iter().any(has_dynamic),
        _ => false,
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "a NULL",
        Value::Bool(_) => "a BOOLEAN",
        Value::Number(_) => "a NUMBER",
        Value::String(_) => "a STRING",
        Value::Array(_) => "an ARRAY",
        Value::Object(_) => "an OBJECT",
    }
}

fn compile(v: &Value, depth: usize) -> Result<Node, DataFlowError> {
    if depth > MAX_DEPTH {
        return Err(DataFlowError::new(
            RUNTIME,
            format!("The payload template is nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    if !has_dynamic(v) {
        return Ok(Node::Literal(v.clone()));
    }
    match v {
        Value::Object(m) => {
            let mut fields = Vec::with_capacity(m.len());
            for (k, v) in m {
                match k.strip_suffix(".$").filter(|name| !name.is_empty()) {
                    Some(name) => fields.push((name.to_string(), compile_expression(k, v)?)),
                    None => fields.push((k.clone(), compile(v, depth + 1)?)),
                }
            }
            Ok(Node::Object(fields))
        }
        Value::Array(a) => Ok(Node::Array(
            a.iter()
                .map(|x| compile(x, depth + 1))
                .collect::<Result<_, _>>()?,
        )),
        other => Ok(Node::Literal(other.clone())),
    }
}

fn compile_expression(field: &str, v: &Value) -> Result<Node, DataFlowError> {
    let Value::String(text) = v else {
        return Err(DataFlowError::new(
            RUNTIME,
            format!(
                "The value for the field '{field}' must be a STRING that contains a JSONPath but was {}",
                json_type(v)
            ),
        ));
    };
    if text.starts_with('$') {
        let path = Path::parse(text).map_err(|e| {
            DataFlowError::new(
                RUNTIME,
                format!("The value for the field '{field}' must be a valid JSONPath: {e}"),
            )
        })?;
        Ok(Node::Path(field.to_string(), path))
    } else if is_intrinsic(text) {
        Ok(Node::Call(parse_call(field, text)?))
    } else {
        Err(DataFlowError::new(
            RUNTIME,
            format!(
                "The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call"
            ),
        ))
    }
}

fn eval(n: &Node, env: &Env<'_>) -> Result<Value, DataFlowError> {
    match n {
        Node::Literal(v) => Ok(v.clone()),
        Node::Object(fields) => {
            let mut m = Map::with_capacity(fields.len());
            for (k, node) in fields {
                m.insert(k.clone(), eval(node, env)?);
            }
            Ok(Value::Object(m))
        }
        Node::Array(items) => items
            .iter()
            .map(|x| eval(x, env))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Node::Path(field, path) => path
            .evaluate(&env.roots)
            .map_err(|m| path_miss(field, path, env, m)),
        Node::Call(call) => call.evaluate(env).map_err(call_error),
    }
}

/// One path-or-intrinsic expression in a named field (`ErrorPath`, `CausePath`, ...).
pub(super) fn evaluate_expression(
    field: &str,
    text: &str,
    env: &Env<'_>,
) -> Result<Value, DataFlowError> {
    let node = compile_expression(field, &Value::String(text.to_string()))?;
    eval(&node, env)
}
