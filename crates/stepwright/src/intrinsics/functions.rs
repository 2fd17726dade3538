//! Evaluation of the 18 functions, with AWS's observed argument rules.

use std::borrow::Cow;

use serde_json::Value;

use super::codec;
use super::random::{below, JavaRandom, SeededRandom};
use super::{Arg, Call, Env, Function, Problem};
use crate::jsonpath::{Miss, Root};

/// `Err` holds the detail text AWS puts after "had the following error: ".
type Eval<T> = Result<T, String>;

/// The most items `States.ArrayRange` may produce.
const MAX_RANGE: i64 = 1000;
/// The most characters `States.Hash`, `States.Base64Encode` and `States.Base64Decode` accept.
const MAX_TEXT: usize = 10_000;

fn invalid(f: Function) -> String {
    format!("Invalid arguments in {f}")
}

pub(super) fn eval(call: &Call, env: &Env<'_>) -> Eval<Value> {
    let f = call.function;
    let (min, max) = f.arity();
    let n = call.args.len();
    if n < min || max.is_some_and(|m| n > m) {
        return Err(invalid(f));
    }
    let mut vals = Vec::with_capacity(n);
    for a in &call.args {
        vals.push(arg_value(a, env)?);
    }
    apply(call, vals, env)
}

/// An argument's value, borrowed from the input or the call where possible (so that
/// `States.ArrayLength($.items)` does not copy the array).
fn arg_value<'x>(a: &'x Arg, env: &Env<'x>) -> Eval<Cow<'x, Value>> {
    match a {
        Arg::Literal(v) => Ok(Cow::Borrowed(v)),
        Arg::Str { value, .. } => Ok(Cow::Owned(Value::String(value.clone()))),
        Arg::Call(c) => eval(c, env).map(Cow::Owned),
        Arg::Path(p) => match p.select_argument(&env.roots) {
            Ok(crate::jsonpath::Selection::One(v)) => Ok(v),
            Ok(sel) => Ok(Cow::Owned(sel.into_value())),
            // Indexing a non-array: AWS passes Jayway's own text through.
            Err(m @ Miss::NotAnArray { .. }) => Err(m.detail()),
            Err(_) => {
                // A `$$` path is reported as AWS rewrites it (`$$.a` → `$.a`), with the state input.
                let shown = match p.root() {
                    Root::Context => &p.as_str()[1..],
                    _ => p.as_str(),
                };
                Err(format!(
                    "The JsonPath argument for the field '{shown}' could not be found in the input '{}'",
                    compact(env.input())
                ))
            }
        },
    }
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A number truncated towards zero (AWS's rule for counts, indexes and bounds).
fn trunc(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let x = n.as_f64()?.trunc();
    (x.is_finite() && x.abs() < 9.2e18).then_some(x as i64)
}

/// A number rounded half up, as Java's `Math.round` (what `States.MathAdd` does).
fn round_half_up(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let x = (n.as_f64()? + 0.5).floor();
    (x.is_finite() && x.abs() < 9.2e18).then_some(x as i64)
}

fn apply(call: &Call, mut vals: Vec<Cow<'_, Value>>, env: &Env<'_>) -> Eval<Value> {
    use crate::jsonpath::json_equal;
    let f = call.function;
    let bad = || invalid(f);
    match f {
        Function::Format => {
            let template = match &call.args[0] {
                Arg::Str { raw, .. } => raw.clone(),
                _ => match vals[0].as_ref() {
                    Value::String(s) => s.clone(),
                    _ => return Err(bad()),
                },
            };
            format(&template, &vals[1..])
                .ok_or_else(bad)
                .map(Value::String)
        }
        Function::StringToJson => {
            let Value::String(s) = vals[0].as_ref() else {
                return Err(bad());
            };
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            let mut v: Value = serde_json::from_str(s).map_err(|_| bad())?;
            integral_negative_zero(&mut v);
            Ok(v)
        }
        Function::JsonToString => Ok(Value::String(compact(&vals[0]))),
        Function::Array => Ok(Value::Array(
            vals.into_iter().map(Cow::into_owned).collect(),
        )),
        Function::ArrayPartition => {
            let size = trunc(&vals[1]).filter(|s| *s > 0).ok_or_else(bad)?;
            let Value::Array(a) = vals[0].as_ref() else {
                return Err(bad());
            };
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            Ok(Value::Array(
                a.chunks(size).map(|c| Value::Array(c.to_vec())).collect(),
            ))
        }
        Function::ArrayContains => {
            let Value::Array(a) = vals[0].as_ref() else {
                return Err(bad());
            };
            Ok(Value::Bool(a.iter().any(|x| json_equal(x, &vals[1]))))
        }
        Function::ArrayRange => {
            let first = trunc(&vals[0]).ok_or_else(bad)?;
            let last = trunc(&vals[1]).ok_or_else(bad)?;
            let step = trunc(&vals[2]).ok_or_else(bad)?;
            if step == 0 {
                return Err(bad());
            }
            let span = if step > 0 {
                last.checked_sub(first)
            } else {
                first.checked_sub(last)
            }
            .ok_or_else(bad)?;
            let count = if span < 0 {
                0
            } else {
                span / step.checked_abs().ok_or_else(bad)? + 1
            };
            if count > MAX_RANGE {
                return Err(bad());
            }
            Ok(Value::Array(
                (0..count).map(|i| Value::from(first + i * step)).collect(),
            ))
        }
        Function::ArrayGetItem => {
            let index = trunc(&vals[1]).ok_or_else(bad)?;
            let Value::Array(a) = vals[0].as_ref() else {
                return Err(bad());
            };
            if a.is_empty() {
                // Observed on AWS: any index into an empty array gives null.
                return Ok(Value::Null);
            }
            let i = usize::try_from(index).ok().filter(|i| *i < a.len());
            Ok(a[i.ok_or_else(bad)?].clone())
        }
        Function::ArrayLength => match vals[0].as_ref() {
            Value::Array(a) => Ok(Value::from(a.len())),
            _ => Err(bad()),
        },
        Function::ArrayUnique => {
            let Value::Array(a) = vals[0].as_ref() else {
                return Err(bad());
            };
            let mut out: Vec<Value> = Vec::with_capacity(a.len());
            for x in a {
                if !out.iter().any(|y| json_equal(y, x)) {
                    out.push(x.clone());
                }
            }
            Ok(Value::Array(out))
        }
        Function::Base64Encode => {
            let s = text_arg(&vals[0]).ok_or_else(bad)?;
            Ok(Value::String(codec::base64_encode(s.as_bytes())))
        }
        Function::Base64Decode => {
            let s = text_arg(&vals[0]).ok_or_else(bad)?;
            let bytes = codec::base64_decode_lenient(s);
            Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        }
        Function::Hash => {
            let data = text_arg(&vals[0]).ok_or_else(bad)?;
            let digest = match vals[1].as_str() {
                Some("MD5") => codec::md5(data.as_bytes()),
                Some("SHA-1") => codec::sha1(data.as_bytes()),
                Some("SHA-256") => codec::sha256(data.as_bytes()),
                Some("SHA-384") => codec::sha384(data.as_bytes()),
                Some("SHA-512") => codec::sha512(data.as_bytes()),
                _ => return Err(bad()),
            };
            Ok(Value::String(codec::hex(&digest)))
        }
        Function::JsonMerge => {
            // AWS supports only the shallow merge: the third argument must be false.
            if *vals[2] != Value::Bool(false) {
                return Err(bad());
            }
            let second = vals.swap_remove(1).into_owned();
            let (Value::Object(mut a), Value::Object(b)) =
                (vals.swap_remove(0).into_owned(), second)
            else {
                return Err(bad());
            };
            for (k, v) in b {
                a.insert(k, v);
            }
            Ok(Value::Object(a))
        }
        Function::MathRandom => {
            let start = trunc(&vals[0]).ok_or_else(bad)?;
            let end = trunc(&vals[1]).ok_or_else(bad)?;
            if start >= end {
                return Err(bad());
            }
            let span = end.checked_sub(start).ok_or_else(bad)?;
            let offset = match vals.get(2) {
                Some(seed) => {
                    let seed = trunc(seed).ok_or_else(bad)?;
                    match i32::try_from(span) {
                        Ok(b) => i64::from(JavaRandom::new(seed).next_int_below(b)),
                        Err(_) => below(&SeededRandom::new(seed as u64), span as u64) as i64,
                    }
                }
                None => match env.random {
                    Some(rng) => below(rng, span as u64) as i64,
                    None => below(&SeededRandom::new(0), span as u64) as i64,
                },
            };
            Ok(Value::from(start + offset))
        }
        Function::MathAdd => {
            let a = round_half_up(&vals[0]).ok_or_else(bad)?;
            let b = round_half_up(&vals[1]).ok_or_else(bad)?;
            let in_i32 = |x: i64| i32::try_from(x).is_ok();
            let sum = a + b;
            if !in_i32(a) || !in_i32(b) || !in_i32(sum) {
                return Err(bad());
            }
            Ok(Value::from(sum))
        }
        Function::StringSplit => {
            let (Some(s), Some(delims)) = (vals[0].as_str(), vals[1].as_str()) else {
                return Err(bad());
            };
            // java.util.StringTokenizer: split at any delimiter character, drop empty pieces.
            Ok(Value::Array(
                s.split(|c| delims.contains(c))
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_string()))
                    .collect(),
            ))
        }
        Function::Uuid => {
            let fallback = SeededRandom::new(0);
            let rng: &dyn super::RandomSource = env.random.unwrap_or(&fallback);
            Ok(Value::String(uuid_v4(rng.next_u64(), rng.next_u64())))
        }
    }
}

/// `-0` parses as the float `-0.0`; the JVM's parser (and so AWS) reads it as the integer `0`.
fn integral_negative_zero(v: &mut Value) {
    match v {
        Value::Number(n)
            if n.is_f64() && n.as_f64().is_some_and(|x| x == 0.0 && x.is_sign_negative()) =>
        {
            *v = Value::from(0);
        }
        Value::Array(a) => a.iter_mut().for_each(integral_negative_zero),
        Value::Object(m) => m.values_mut().for_each(integral_negative_zero),
        _ => {}
    }
}

/// A string argument of at most [`MAX_TEXT`] characters.
fn text_arg(v: &Value) -> Option<&str> {
    let s = v.as_str()?;
    (s.chars().count() <= MAX_TEXT).then_some(s)
}

fn uuid_v4(hi: u64, lo: u64) -> String {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&hi.to_be_bytes());
    b[8..].copy_from_slice(&lo.to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = codec::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Fills a `States.Format` template: `{}` is a placeholder, `\{`, `\}`, `\'` and `\\` are
/// literal characters, and any other brace is an error. The number of placeholders must equal the
/// number of values.
fn format<V: std::borrow::Borrow<Value>>(template: &str, values: &[V]) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut next = 0;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&e @ ('{' | '}' | '\\' | '\'')) => {
                    out.push(e);
                    chars.next();
                }
                _ => out.push('\\'),
            },
            '{' => {
                if chars.next() != Some('}') {
                    return None;
                }
                let v = values.get(next)?;
                next += 1;
                format_value(v.borrow(), &mut out);
            }
            '}' => return None,
            c => out.push(c),
        }
    }
    (next == values.len()).then_some(out)
}

/// A value as `States.Format` prints it (Java's `toString` of the parsed JSON: strings bare,
/// objects as `{k=v, ...}`, arrays as `[a, b]`).
fn format_value(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                format_value(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                format_value(x, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// What an argument position accepts, or what a function returns.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Any,
    Str,
    Num,
    Bool,
    Arr,
    Obj,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Any => "any value",
            Kind::Str => "a string",
            Kind::Num => "a number",
            Kind::Bool => "a boolean",
            Kind::Arr => "an array",
            Kind::Obj => "an object",
        }
    }
}

fn param_kind(f: Function, i: usize) -> Kind {
    use Kind::*;
    let kinds: &[Kind] = match f {
        Function::Format => &[Str],
        Function::StringToJson => &[Str],
        Function::ArrayPartition => &[Arr, Num],
        Function::ArrayContains => &[Arr, Any],
        Function::ArrayRange => &[Num, Num, Num],
        Function::ArrayGetItem => &[Arr, Num],
        Function::ArrayLength | Function::ArrayUnique => &[Arr],
        Function::Base64Encode | Function::Base64Decode => &[Str],
        Function::Hash => &[Str, Str],
        Function::JsonMerge => &[Obj, Obj, Bool],
        Function::MathRandom => &[Num, Num, Num],
        Function::MathAdd => &[Num, Num],
        Function::StringSplit => &[Str, Str],
        Function::JsonToString | Function::Array | Function::Uuid => &[],
    };
    kinds.get(i).copied().unwrap_or(Any)
}

fn return_kind(f: Function) -> Kind {
    use Kind::*;
    match f {
        Function::Format
        | Function::JsonToString
        | Function::Base64Encode
        | Function::Base64Decode
        | Function::Hash
        | Function::Uuid => Str,
        Function::Array
        | Function::ArrayPartition
        | Function::ArrayRange
        | Function::ArrayUnique
        | Function::StringSplit => Arr,
        Function::ArrayContains => Bool,
        Function::ArrayLength | Function::MathRandom | Function::MathAdd => Num,
        Function::JsonMerge => Obj,
        Function::StringToJson | Function::ArrayGetItem => Any,
    }
}

fn literal_kind(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Any,
        Value::Bool(_) => Kind::Bool,
        Value::Number(_) => Kind::Num,
        Value::String(_) => Kind::Str,
        Value::Array(_) => Kind::Arr,
        Value::Object(_) => Kind::Obj,
    }
}

/// Arguments whose type is known statically (literals and nested calls) and wrong.
pub(super) fn type_problems(call: &Call, out: &mut Vec<Problem>) {
    for (i, a) in call.args.iter().enumerate() {
        let want = param_kind(call.function, i);
        let offset = call.arg_offsets.get(i).copied().unwrap_or(call.offset);
        let (have, what) = match a {
            Arg::Literal(Value::Null) if want != Kind::Any => (None, "null".to_string()),
            Arg::Literal(v) => (Some(literal_kind(v)), v.to_string()),
            Arg::Str { raw, .. } => (Some(Kind::Str), format!("'{raw}'")),
            Arg::Call(c) => (
                Some(return_kind(c.function)),
                format!("{}(...)", c.function),
            ),
            Arg::Path(_) => continue,
        };
        let wrong = match have {
            None => true,
            Some(Kind::Any) => false,
            Some(k) => want != Kind::Any && k != want,
        };
        if wrong {
            out.push(Problem {
                offset,
                message: format!(
                    "argument {} of {} must be {}, but {what} is not",
                    i + 1,
                    call.function,
                    want.name()
                ),
            });
        }
    }
    match call.function {
        Function::Hash => {
            if let Some(Arg::Str { value, .. }) = call.args.get(1) {
                if !["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"].contains(&value.as_str()) {
                    out.push(Problem {
                        offset: call.arg_offsets.get(1).copied().unwrap_or(call.offset),
                        message: format!(
                            "unknown hash algorithm '{value}': use MD5, SHA-1, SHA-256, SHA-384 or SHA-512"
                        ),
                    });
                }
            }
        }
        Function::JsonMerge => {
            if let Some(Arg::Literal(Value::Bool(true))) = call.args.get(2) {
                out.push(Problem {
                    offset: call.arg_offsets.get(2).copied().unwrap_or(call.offset),
                    message: "States.JsonMerge supports only the shallow merge: the third argument must be false".to_string(),
                });
            }
        }
        Function::Format => {
            if let Some(Arg::Str { raw, .. }) = call.args.first() {
                let values = vec![Value::Null; call.args.len() - 1];
                if format(raw, &values).is_none() {
                    out.push(Problem {
                        offset: call.arg_offsets.first().copied().unwrap_or(call.offset),
                        message: format!(
                            "the template of States.Format must hold one {{}} per value ({} given) and no other unescaped braces",
                            call.args.len() - 1
                        ),
                    });
                }
            }
        }
        _ => {}
    }
}
