//! Path evaluation with AWS's (Jayway's) semantics.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use super::{Path, Root, Roots, Selection, Token};

/// `null`, for an index past the end of an array (AWS's JSON provider reads it as `null`).
static NULL: Value = Value::Null;

/// Jayway's JSON provider, as AWS's error texts name it.
const PROVIDER: &str = "com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider";

/// Why a definite path found nothing. [`Miss::detail`] words it as AWS (Jayway) does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Miss {
    /// The last name is missing: `No results for path: $['a']['b']`.
    NoResults {
        /// The whole path, normalised (`$['a']['b']`).
        path: String,
    },
    /// A name before the last is missing: `Missing property in path $['a']`.
    MissingProperty {
        /// The path up to and including the missing name.
        path: String,
    },
    /// A name was looked up in something that is not an object.
    NotAnObject {
        /// The path up to the value that is not an object.
        path: String,
        /// The name, as `['name']`.
        property: String,
        /// What was found, as Jayway names it (`java.lang.String`, `null`, ...).
        found: String,
    },
    /// An index was applied to `null`.
    NullArray {
        /// The path up to the `null`.
        path: String,
    },
    /// An index was applied to something that is not an array.
    NotAnArray {
        /// The index step, e.g. `[0]`.
        step: String,
        /// The value it was applied to, as text.
        context: String,
    },
    /// The path starts at `$$` but there is no context object.
    NoContext,
    /// The path starts at `$name` but no such variable is defined.
    UndefinedVariable(String),
}

impl Miss {
    /// The explanation in AWS's words, e.g. `No results for path: $['customer']`.
    pub fn detail(&self) -> String {
        match self {
            Miss::NoResults { path } => format!("No results for path: {path}"),
            Miss::MissingProperty { path } => format!("Missing property in path {path}"),
            Miss::NotAnObject {
                path,
                property,
                found,
            } => format!(
                "Expected to find an object with property {property} in path {path} but found '{found}'. This is not a json object according to the JsonProvider: '{PROVIDER}'."
            ),
            Miss::NullArray { path } => format!("The path {path} is null"),
            Miss::NotAnArray { step, context } => format!(
                "Filter: {step} can only be applied to arrays. Current context is: {context}"
            ),
            Miss::NoContext => "There is no context object to evaluate the path against".to_string(),
            Miss::UndefinedVariable(name) => format!("The variable '${name}' is not defined"),
        }
    }
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail())
    }
}

impl std::error::Error for Miss {}

/// Appends a token in Jayway's normalised notation.
pub(super) fn push_token(s: &mut String, t: &Token) {
    match t {
        Token::Property(names) => {
            s.push('[');
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push('\'');
                s.push_str(n);
                s.push('\'');
            }
            s.push(']');
        }
        Token::Wildcard => s.push_str("[*]"),
        Token::Index(ix) => {
            s.push('[');
            for (i, n) in ix.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push_str(&n.to_string());
            }
            s.push(']');
        }
        Token::Slice(a, b) => {
            s.push('[');
            if let Some(a) = a {
                s.push_str(&a.to_string());
            }
            s.push(':');
            if let Some(b) = b {
                s.push_str(&b.to_string());
            }
            s.push(']');
        }
        Token::Scan => s.push_str(".."),
        Token::Filter(_) => s.push_str("[?]"),
    }
}

/// The Java class Jayway reports for a value it could not descend into.
fn java_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                if i32::try_from(i).is_ok() {
                    "java.lang.Integer"
                } else {
                    "java.lang.Long"
                }
            } else if n.is_u64() {
                "java.math.BigInteger"
            } else {
                "java.lang.Double"
            }
        }
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "com.fasterxml.jackson.databind.node.ArrayNode",
        Value::Object(_) => "com.fasterxml.jackson.databind.node.ObjectNode",
    }
}

/// A value as Java's `toString` prints it in Jayway's messages.
fn java_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn start<'v>(root: &Root, roots: &Roots<'v>) -> Result<&'v Value, Miss> {
    match root {
        Root::Input => Ok(roots.input),
        Root::Context => roots.context.ok_or(Miss::NoContext),
        Root::Variable(name) => roots
            .variables
            .and_then(|v| v.get_variable(name))
            .ok_or_else(|| Miss::UndefinedVariable(name.clone())),
    }
}

pub(super) fn select<'v>(
    path: &Path,
    roots: &Roots<'v>,
    strict_index: bool,
) -> Result<Selection<'v>, Miss> {
    let root = start(&path.root, roots)?;
    if path.definite {
        definite(path, root, strict_index).map(|v| Selection::One(Cow::Borrowed(v)))
    } else {
        Ok(Selection::Many(collect(&path.tokens, root, roots)))
    }
}

/// Walks a definite path, failing as Jayway does.
fn definite<'v>(path: &Path, root: &'v Value, strict_index: bool) -> Result<&'v Value, Miss> {
    let mut cur = root;
    let n = path.tokens.len();
    for (i, t) in path.tokens.iter().enumerate() {
        let leaf = i + 1 == n;
        match t {
            Token::Property(names) => {
                let name = &names[0];
                match cur {
                    Value::Object(m) => match m.get(name) {
                        Some(v) => cur = v,
                        None => {
                            if leaf {
                                return Err(Miss::NoResults {
                                    path: path.normalized(),
                                });
                            }
                            let mut p = prefix(path, i);
                            push_token(&mut p, t);
                            return Err(Miss::MissingProperty { path: p });
                        }
                    },
                    other => {
                        return Err(Miss::NotAnObject {
                            path: prefix(path, i),
                            property: format!("['{name}']"),
                            found: java_class(other).to_string(),
                        })
                    }
                }
            }
            Token::Index(ix) => {
                let k = ix[0];
                match cur {
                    Value::Array(a) => match index(a.len(), k) {
                        Some(j) => cur = &a[j],
                        None if strict_index => {
                            return Err(Miss::NoResults {
                                path: path.normalized(),
                            })
                        }
                        None => cur = &NULL,
                    },
                    Value::Null => {
                        return Err(Miss::NullArray {
                            path: prefix(path, i),
                        })
                    }
                    other => {
                        return Err(Miss::NotAnArray {
                            step: format!("[{k}]"),
                            context: java_string(other),
                        })
                    }
                }
            }
            // Definite paths hold only single names and indexes.
            _ => {
                return Err(Miss::NoResults {
                    path: path.normalized(),
                })
            }
        }
    }
    Ok(cur)
}

fn prefix(path: &Path, upto: usize) -> String {
    let mut s = String::from("$");
    for t in &path.tokens[..upto] {
        push_token(&mut s, t);
    }
    s
}

fn index(len: usize, k: i64) -> Option<usize> {
    let len = len as i64;
    let j = if k < 0 { len + k } else { k };
    (0..len).contains(&j).then_some(j as usize)
}

/// A definite walk that never fails: `None` when anything is missing (filters use this).
pub(super) fn lookup_lenient<'v>(tokens: &[Token], root: &'v Value) -> Option<&'v Value> {
    let mut cur = root;
    for t in tokens {
        cur = match t {
            Token::Property(n) => cur.as_object()?.get(&n[0])?,
            Token::Index(ix) => {
                let a = cur.as_array()?;
                &a[index(a.len(), ix[0])?]
            }
            _ => return None,
        };
    }
    Some(cur)
}

/// Every match of an indefinite path, in document order (Jayway's traversal order).
pub(super) fn collect<'v>(
    tokens: &[Token],
    root: &'v Value,
    roots: &Roots<'v>,
) -> Vec<Cow<'v, Value>> {
    let mut nodes: Vec<&'v Value> = vec![root];
    let mut i = 0;
    while i < tokens.len() {
        let last = i + 1 == tokens.len();
        match &tokens[i] {
            Token::Property(names) if names.len() > 1 && last => {
                return merge_properties(&nodes, names);
            }
            Token::Scan => {
                let Some(next) = tokens.get(i + 1) else {
                    break;
                };
                if let Token::Property(names) = next {
                    if names.len() > 1 && i + 2 == tokens.len() {
                        let mut holders = Vec::new();
                        for n in &nodes {
                            descendants(n, &mut |d| {
                                if d.as_object()
                                    .is_some_and(|m| names.iter().any(|k| m.contains_key(k)))
                                {
                                    holders.push(d);
                                }
                            });
                        }
                        return merge_properties(&holders, names);
                    }
                }
                let mut out = Vec::new();
                for n in &nodes {
                    descendants(n, &mut |d| match next {
                        Token::Filter(f) => {
                            if d.is_object() && f.test(d, roots) {
                                out.push(d);
                            }
                        }
                        t => step(t, d, roots, &mut out),
                    });
                }
                nodes = out;
                i += 2;
                continue;
            }
            t => {
                let mut out = Vec::new();
                for n in &nodes {
                    step(t, n, roots, &mut out);
                }
                nodes = out;
            }
        }
        i += 1;
    }
    nodes.into_iter().map(Cow::Borrowed).collect()
}

/// Calls `f` on `v` and every container below it, parents before children.
fn descendants<'v>(v: &'v Value, f: &mut dyn FnMut(&'v Value)) {
    // An explicit stack: no recursion, so no input can overflow the call stack.
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                f(v);
                stack.extend(m.values().rev().filter(|c| c.is_object() || c.is_array()));
            }
            Value::Array(a) => {
                f(v);
                stack.extend(a.iter().rev().filter(|c| c.is_object() || c.is_array()));
            }
            _ => {}
        }
    }
}

/// Applies one (non-scan) token to one node.
fn step<'v>(t: &Token, node: &'v Value, roots: &Roots<'v>, out: &mut Vec<&'v Value>) {
    match t {
        Token::Property(names) => {
            if let Value::Object(m) = node {
                for n in names {
                    if let Some(v) = m.get(n) {
                        out.push(v);
                    }
                }
            }
        }
        Token::Wildcard => match node {
            Value::Object(m) => out.extend(m.values()),
            Value::Array(a) => out.extend(a.iter()),
            _ => {}
        },
        Token::Index(ix) => {
            if let Value::Array(a) = node {
                for &k in ix {
                    // AWS's JSON provider reads an index past the end as null.
                    out.push(index(a.len(), k).map_or(&NULL, |j| &a[j]));
                }
            }
        }
        Token::Slice(from, to) => {
            if let Value::Array(a) = node {
                let len = a.len() as i64;
                let clamp = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let from = from.map_or(0, clamp);
                let to = to.map_or(len, clamp);
                if from < to {
                    out.extend(&a[from as usize..to as usize]);
                }
            }
        }
        Token::Filter(f) => match node {
            Value::Array(a) => out.extend(a.iter().filter(|e| f.test(e, roots))),
            // Jayway applies a filter on an object to the object itself.
            Value::Object(_) if f.test(node, roots) => out.push(node),
            _ => {}
        },
        Token::Scan => out.push(node),
    }
}

/// `['a','b']` as the last step: one object per node holding the names present (Jayway).
fn merge_properties<'v>(nodes: &[&'v Value], names: &[String]) -> Vec<Cow<'v, Value>> {
    let mut out = Vec::new();
    for n in nodes {
        if let Value::Object(m) = n {
            let mut merged = serde_json::Map::new();
            for k in names {
                if let Some(v) = m.get(k) {
                    merged.insert(k.clone(), v.clone());
                }
            }
            out.push(Cow::Owned(Value::Object(merged)));
        }
    }
    out
}
