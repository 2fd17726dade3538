//! The evaluator's value type: JSON plus functions, with jsonata-js's sequence flags.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use indexmap::IndexMap;
use serde_json::{Map, Number, Value};

use crate::ast::Node;
use crate::functions::Builtin;
use crate::signature::Signature;

/// Array flags (jsonata-js keeps them as properties on JS arrays).
pub(crate) const SEQ: u32 = 1;
pub(crate) const KEEP: u32 = 2;
pub(crate) const CONS: u32 = 4;
pub(crate) const OUTER: u32 = 8;
pub(crate) const TUPLES: u32 = 16;
/// Array flags live in the low byte; the nesting depth of the array above it.
const FLAG_BITS: u32 = 0xff;
const DEPTH_SHIFT: u32 = 8;

/// The deepest value an evaluation may build (deeper is `U1001`): every recursive walk over
/// values (output conversion, equality, stringification, dropping) stays within the stack.
pub(crate) const MAX_VALUE_DEPTH: u32 = 1000;

pub(crate) type Obj<'a> = IndexMap<String, Val<'a>>;

/// A JSONata value (`undefined` is `Option::None` around it).
#[derive(Clone)]
pub(crate) enum Val<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Rc<str>),
    /// Items, and flags (low byte) with the nesting depth above them.
    Arr(Rc<Vec<Val<'a>>>, u32),
    /// Entries and the nesting depth.
    Obj(Rc<Obj<'a>>, u32),
    Func(Rc<Func<'a>>),
}

/// A variable scope.
pub(crate) struct Frame<'a> {
    /// Bound names; `None` is a name bound to `undefined` (it shadows outer bindings).
    pub vars: RefCell<HashMap<String, Option<Val<'a>>>>,
    pub parent: Option<Rc<Frame<'a>>>,
}

pub(crate) type Env<'a> = Rc<Frame<'a>>;

impl<'a> Frame<'a> {
    pub fn child(parent: &Env<'a>) -> Env<'a> {
        Rc::new(Frame {
            vars: RefCell::new(HashMap::new()),
            parent: Some(parent.clone()),
        })
    }
    pub fn bind(&self, name: &str, v: Option<Val<'a>>) {
        self.vars.borrow_mut().insert(name.to_string(), v);
    }
    /// Looks a name up through the chain of frames (not the builtins): `Some(value)` when
    /// bound (the value may be `undefined`).
    pub fn lookup(&self, name: &str) -> Option<Option<Val<'a>>> {
        let mut f = self;
        loop {
            if let Some(v) = f.vars.borrow().get(name) {
                return Some(v.clone());
            }
            match &f.parent {
                Some(p) => f = p,
                None => return None,
            }
        }
    }
}

/// An argument of a partial application.
pub(crate) enum PArg<'a> {
    Hole,
    Arg(Option<Val<'a>>),
}

/// A callable value.
pub(crate) enum Func<'a> {
    Lambda {
        node: &'a Node,
        env: Env<'a>,
        input: Option<Val<'a>>,
    },
    Builtin(&'static Builtin),
    /// Partial application: `Hole` marks a `?` placeholder.
    Partial {
        func: Val<'a>,
        args: Vec<PArg<'a>>,
    },
    Regex(&'a crate::regex::Re),
    Transform {
        node: &'a Node,
        env: Env<'a>,
    },
    /// `f ~> g`: `λ($x){ g(f($x)) }`.
    Chain(Val<'a>, Val<'a>),
}

impl<'a> Func<'a> {
    pub fn arity(&self) -> usize {
        match self {
            Func::Lambda { node, .. } => node.lambda_params().len(),
            Func::Builtin(b) => b.arity,
            Func::Partial { args, .. } => args.iter().filter(|a| matches!(a, PArg::Hole)).count(),
            Func::Regex(_) => 1,
            Func::Transform { .. } => 1,
            Func::Chain(..) => 1,
        }
    }
    pub fn signature(&self) -> Option<&Signature> {
        match self {
            Func::Lambda { node, .. } => node.lambda_signature(),
            Func::Builtin(b) => Some(&b.sig),
            _ => None,
        }
    }
}

impl<'a> Val<'a> {
    pub fn str(s: &str) -> Val<'a> {
        Val::Str(Rc::from(s))
    }
    pub fn string(s: String) -> Val<'a> {
        Val::Str(Rc::from(s))
    }
    pub fn arr(v: Vec<Val<'a>>) -> Val<'a> {
        Val::mk_arr(v, 0)
    }
    pub fn seq(v: Vec<Val<'a>>) -> Val<'a> {
        Val::mk_arr(v, SEQ)
    }
    /// An array with flags; its depth is computed from the items.
    pub fn mk_arr(v: Vec<Val<'a>>, flags: u32) -> Val<'a> {
        let depth = 1 + v.iter().map(Val::depth).max().unwrap_or(0);
        let depth = depth.min(FLAG_BITS << 16);
        Val::Arr(Rc::new(v), (flags & FLAG_BITS) | (depth << DEPTH_SHIFT))
    }
    pub fn obj(o: Obj<'a>) -> Val<'a> {
        let depth = 1 + o.values().map(Val::depth).max().unwrap_or(0);
        Val::Obj(Rc::new(o), depth)
    }
    /// Nesting depth: 0 for scalars and functions.
    pub fn depth(&self) -> u32 {
        match self {
            Val::Arr(_, f) => f >> DEPTH_SHIFT,
            Val::Obj(_, d) => *d,
            _ => 0,
        }
    }
    pub fn flags(&self) -> u32 {
        match self {
            Val::Arr(_, f) => f & FLAG_BITS,
            _ => 0,
        }
    }
    pub fn is_seq(&self) -> bool {
        self.flags() & SEQ != 0
    }
    pub fn is_array(&self) -> bool {
        matches!(self, Val::Arr(..))
    }
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn add_flags(self, f: u32) -> Val<'a> {
        match self {
            Val::Arr(a, g) => Val::Arr(a, g | f),
            v => v,
        }
    }
    /// jsonata-js's signature type symbol.
    pub fn type_symbol(v: Option<&Val<'a>>) -> char {
        match v {
            None => 'm',
            Some(Val::Null) => 'l',
            Some(Val::Bool(_)) => 'b',
            Some(Val::Num(_)) => 'n',
            Some(Val::Str(_)) => 's',
            Some(Val::Arr(..)) => 'a',
            Some(Val::Obj(_, _)) => 'o',
            Some(Val::Func(_)) => 'f',
        }
    }
    /// Items of an array (or the value itself as a one-item slice).
    pub fn items(&self) -> Vec<Val<'a>> {
        match self {
            Val::Arr(a, _) => a.as_ref().clone(),
            v => vec![v.clone()],
        }
    }

    /// Converts serde JSON into a value.
    pub fn from_json(v: &Value) -> Val<'a> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Val::str(s),
            Value::Array(a) => Val::arr(a.iter().map(Val::from_json).collect()),
            Value::Object(o) => Val::obj(
                o.iter()
                    .map(|(k, v)| (k.clone(), Val::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Converts to serde JSON as `JSON.stringify` would (functions dropped from objects,
    /// `null` in arrays; `None` at the top).
    pub fn to_json(&self) -> Option<Value> {
        Some(match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => num_to_json(*n),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Arr(a, _) => Value::Array(
                a.iter()
                    .map(|v| v.to_json().unwrap_or(Value::Null))
                    .collect(),
            ),
            Val::Obj(o, _) => {
                let mut m = Map::new();
                for (k, v) in o.iter() {
                    if let Some(j) = v.to_json() {
                        m.insert(k.clone(), j);
                    }
                }
                Value::Object(m)
            }
            Val::Func(_) => return None,
        })
    }
}

/// A copy of JSON as JSONata outputs it (numbers as JavaScript holds them: `1.0` becomes `1`,
/// integers beyond 2^53 lose precision), without building evaluator values.
pub(crate) fn js_clone(v: &Value) -> Value {
    match v {
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) if i.unsigned_abs() < (1u64 << 53) => v.clone(),
            (None, Some(u)) if u < (1u64 << 53) => v.clone(),
            _ => num_to_json(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::Array(a) => Value::Array(a.iter().map(js_clone).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, x)| (k.clone(), js_clone(x))).collect())
        }
        v => v.clone(),
    }
}

/// A number as a serde JSON number (integers without a fraction).
pub(crate) fn num_to_json(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Value::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// `Number.prototype.toString()` as JavaScript prints it.
pub(crate) fn js_num(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let s = format!("{:e}", x);
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.as_str()),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let n = exp + 1;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&digits);
        for _ in 0..(n - k) {
            out.push('0');
        }
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        for _ in 0..(-n) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        out.push_str(&(n - 1).abs().to_string());
    }
    out
}

/// `Number(x.toPrecision(15))`.
pub(crate) fn precision15(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    format!("{:.14e}", x).parse().unwrap_or(x)
}

fn quote_into(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// JSON.stringify of a serde value (numbers as JS prints them).
pub(crate) fn json_string(v: &Value) -> String {
    let mut out = String::new();
    fn go(v: &Value, out: &mut String) {
        match v {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => match n.as_f64() {
                Some(f) if n.is_f64() => out.push_str(&js_num(f)),
                _ => out.push_str(&n.to_string()),
            },
            Value::String(s) => quote_into(out, s),
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    go(x, out);
                }
                out.push(']');
            }
            Value::Object(o) => {
                out.push('{');
                for (i, (k, x)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    quote_into(out, k);
                    out.push(':');
                    go(x, out);
                }
                out.push('}');
            }
        }
    }
    go(v, &mut out);
    out
}

/// `$string()`'s JSON.stringify with the toPrecision(15) replacer; `indent` for prettify.
pub(crate) fn stringify_val(v: &Val, indent: bool) -> crate::error::R<String> {
    fn finite(v: &Val) -> crate::error::R<()> {
        match v {
            Val::Num(n) if !n.is_finite() => Err(crate::error::Err::new("D1001")),
            Val::Arr(a, _) => a.iter().try_for_each(finite),
            Val::Obj(o, _) => o.values().try_for_each(finite),
            _ => Ok(()),
        }
    }
    finite(v)?;
    let mut out = String::new();
    fn nl(out: &mut String, indent: bool, level: usize) {
        if indent {
            out.push('\n');
            for _ in 0..level {
                out.push_str("  ");
            }
        }
    }
    fn go(v: &Val, out: &mut String, indent: bool, level: usize) {
        match v {
            Val::Null => out.push_str("null"),
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::Num(n) => {
                if n.fract() == 0.0 && n.is_finite() {
                    out.push_str(&js_num(*n))
                } else if n.is_finite() {
                    out.push_str(&js_num(precision15(*n)))
                } else {
                    out.push_str("null")
                }
            }
            Val::Str(s) => quote_into(out, s),
            Val::Func(_) => out.push_str("\"\""),
            Val::Arr(a, _) => {
                if a.is_empty() {
                    out.push_str("[]");
                    return;
                }
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    nl(out, indent, level + 1);
                    go(x, out, indent, level + 1);
                }
                nl(out, indent, level);
                out.push(']');
            }
            Val::Obj(o, _) => {
                if o.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push('{');
                for (i, (k, x)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    nl(out, indent, level + 1);
                    quote_into(out, k);
                    out.push(':');
                    if indent {
                        out.push(' ');
                    }
                    go(x, out, indent, level + 1);
                }
                nl(out, indent, level);
                out.push('}');
            }
        }
    }
    go(v, &mut out, indent, 0);
    Ok(out)
}

/// jsonata-js's `isDeepEqual`.
pub(crate) fn deep_equal<'a>(a: &Val<'a>, b: &Val<'a>) -> bool {
    match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Num(x), Val::Num(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Arr(x, _), Val::Arr(y, _)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| deep_equal(a, b))
        }
        (Val::Obj(x, _), Val::Obj(y, _)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Val::Func(x), Val::Func(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// jsonata-js's `$boolean` cast (`None` stays undefined).
pub(crate) fn to_bool(v: Option<&Val>) -> Option<bool> {
    let v = v?;
    Some(match v {
        Val::Arr(a, _) => {
            if a.len() == 1 {
                to_bool(Some(&a[0])).unwrap_or(false)
            } else {
                a.iter().any(|x| to_bool(Some(x)).unwrap_or(false))
            }
        }
        Val::Str(s) => !s.is_empty(),
        Val::Num(n) => *n != 0.0 && !n.is_nan(),
        Val::Obj(o, _) => !o.is_empty(),
        Val::Bool(b) => *b,
        Val::Null => false,
        Val::Func(_) => false,
    })
}
