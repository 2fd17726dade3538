//! Filter expressions: `[?(@.price < 10 && @.tags)]`.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::eval::{collect, lookup_lenient};
use super::{Root, Roots, Token};

/// A filter test.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    Or(Vec<Filter>),
    And(Vec<Filter>),
    Not(Box<Filter>),
    /// `@.x`: the path matches at least one node.
    Exists(FilterPath),
    Compare(Operand, CmpOp, Operand),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Nin,
    SubsetOf,
    AnyOf,
    NoneOf,
    Size,
    Empty,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Path(FilterPath),
    Literal(Value),
}

/// A path inside a filter: relative to the current node (`@`) or to a root (`$`, `$$`, `$x`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FilterPath {
    /// `None` for `@`.
    root: Option<Root>,
    tokens: Vec<Token>,
    definite: bool,
}

impl FilterPath {
    pub(crate) fn new(root: Option<Root>, tokens: Vec<Token>) -> Self {
        let definite = tokens.iter().all(Token::is_definite);
        FilterPath {
            root,
            tokens,
            definite,
        }
    }

    fn roots<'a>(&'a self, out: &mut Vec<&'a Root>) {
        if let Some(r) = &self.root {
            out.push(r);
        }
        for t in &self.tokens {
            if let Token::Filter(x) = t {
                x.roots(out);
            }
        }
    }

    fn start<'v>(&self, node: &'v Value, roots: &Roots<'v>) -> Option<&'v Value> {
        match &self.root {
            None => Some(node),
            Some(Root::Input) => Some(roots.input),
            Some(Root::Context) => roots.context,
            Some(Root::Variable(n)) => roots.variables.and_then(|v| v.get_variable(n)),
        }
    }

    /// The value of the path: the node of a definite path (`None` = nothing), or an array of the
    /// matches of an indefinite one.
    fn value<'v>(&self, node: &'v Value, roots: &Roots<'v>) -> Option<Cow<'v, Value>> {
        let start = self.start(node, roots)?;
        if self.definite {
            lookup_lenient(&self.tokens, start).map(Cow::Borrowed)
        } else {
            let found = collect(&self.tokens, start, roots);
            Some(Cow::Owned(Value::Array(
                found.into_iter().map(Cow::into_owned).collect(),
            )))
        }
    }

    fn exists(&self, node: &Value, roots: &Roots<'_>) -> bool {
        let Some(start) = self.start(node, roots) else {
            return false;
        };
        if self.definite {
            lookup_lenient(&self.tokens, start).is_some()
        } else {
            !collect(&self.tokens, start, roots).is_empty()
        }
    }
}

impl Filter {
    /// The roots of every absolute path in the filter (`$`, `$$`, `$x`).
    pub(crate) fn roots<'a>(&'a self, out: &mut Vec<&'a Root>) {
        match self {
            Filter::Or(l) | Filter::And(l) => l.iter().for_each(|x| x.roots(out)),
            Filter::Not(x) => x.roots(out),
            Filter::Exists(p) => p.roots(out),
            Filter::Compare(a, _, b) => {
                for o in [a, b] {
                    if let Operand::Path(p) = o {
                        p.roots(out);
                    }
                }
            }
        }
    }

    /// Does `node` pass the filter?
    pub(crate) fn test(&self, node: &Value, roots: &Roots<'_>) -> bool {
        match self {
            Filter::Or(list) => list.iter().any(|f| f.test(node, roots)),
            Filter::And(list) => list.iter().all(|f| f.test(node, roots)),
            Filter::Not(f) => !f.test(node, roots),
            Filter::Exists(p) => p.exists(node, roots),
            Filter::Compare(l, op, r) => {
                let lv = operand(l, node, roots);
                let rv = operand(r, node, roots);
                compare(lv.as_deref(), *op, rv.as_deref())
            }
        }
    }
}

fn operand<'v>(o: &'v Operand, node: &'v Value, roots: &Roots<'v>) -> Option<Cow<'v, Value>> {
    match o {
        Operand::Literal(v) => Some(Cow::Borrowed(v)),
        Operand::Path(p) => p.value(node, roots),
    }
}

/// JSON equality with numbers compared by value.
pub(crate) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_cmp(x, y) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn num_cmp(x: &serde_json::Number, y: &serde_json::Number) -> Option<Ordering> {
    if let (Some(a), Some(b)) = (x.as_i64(), y.as_i64()) {
        return Some(a.cmp(&b));
    }
    if let (Some(a), Some(b)) = (x.as_u64(), y.as_u64()) {
        return Some(a.cmp(&b));
    }
    x.as_f64()?.partial_cmp(&y.as_f64()?)
}

fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_cmp(x, y),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn contains(list: &Value, v: &Value) -> bool {
    list.as_array()
        .is_some_and(|a| a.iter().any(|x| json_equal(x, v)))
}

fn compare(l: Option<&Value>, op: CmpOp, r: Option<&Value>) -> bool {
    match op {
        CmpOp::Eq => eq(l, r),
        CmpOp::Ne => !eq(l, r),
        CmpOp::Lt => matches!((l, r), (Some(a), Some(b)) if order(a, b) == Some(Ordering::Less)),
        CmpOp::Gt => matches!((l, r), (Some(a), Some(b)) if order(a, b) == Some(Ordering::Greater)),
        CmpOp::Le => {
            eq(l, r) || matches!((l, r), (Some(a), Some(b)) if order(a, b) == Some(Ordering::Less))
        }
        CmpOp::Ge => {
            eq(l, r)
                || matches!((l, r), (Some(a), Some(b)) if order(a, b) == Some(Ordering::Greater))
        }
        CmpOp::In => matches!((l, r), (Some(a), Some(b)) if contains(b, a)),
        CmpOp::Nin => matches!((l, r), (Some(a), Some(b)) if b.is_array() && !contains(b, a)),
        CmpOp::SubsetOf => {
            matches!((l, r), (Some(Value::Array(a)), Some(b)) if b.is_array() && a.iter().all(|x| contains(b, x)))
        }
        CmpOp::AnyOf => {
            matches!((l, r), (Some(Value::Array(a)), Some(b)) if a.iter().any(|x| contains(b, x)))
        }
        CmpOp::NoneOf => {
            matches!((l, r), (Some(Value::Array(a)), Some(b)) if b.is_array() && !a.iter().any(|x| contains(b, x)))
        }
        CmpOp::Size => {
            let len = match l {
                Some(Value::Array(a)) => a.len(),
                Some(Value::String(s)) => s.chars().count(),
                _ => return false,
            };
            r.and_then(Value::as_u64).is_some_and(|n| n == len as u64)
        }
        CmpOp::Empty => {
            let empty = match l {
                Some(Value::Array(a)) => a.is_empty(),
                Some(Value::String(s)) => s.is_empty(),
                _ => return false,
            };
            r.and_then(Value::as_bool) == Some(empty)
        }
    }
}

fn eq(l: Option<&Value>, r: Option<&Value>) -> bool {
    match (l, r) {
        (None, None) => true,
        (Some(a), Some(b)) => json_equal(a, b),
        _ => false,
    }
}
