//! The function library (jsonata-js's functions.js) plus the AWS Step Functions additions.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::error::{Err, ErrExt, R};
use crate::eval::{append, js_str_cmp, lookup_field, merge_sort, Ev, Res};
use crate::regex::Re;
use crate::signature::Signature;
use crate::value::{
    deep_equal, js_num, precision15, stringify_val, to_bool, Env, Func, Obj, Val, OUTER, SEQ,
};

/// A native function: validated arguments, the context value, the calling environment.
pub(crate) type BuiltinFn =
    for<'a> fn(&Ev<'a>, &[Option<Val<'a>>], Option<&Val<'a>>, &Env<'a>) -> Res<'a>;

/// A registered native function.
pub(crate) struct Builtin {
    pub name: &'static str,
    pub sig: Signature,
    /// The declared parameter count of jsonata-js's implementation (what higher-order
    /// functions pass: `$map(xs, $string)` calls `$string(x)`, not `$string(x, i)`).
    pub arity: usize,
    pub f: BuiltinFn,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${}", self.name)
    }
}

fn table() -> &'static HashMap<&'static str, Builtin> {
    static TABLE: OnceLock<HashMap<&'static str, Builtin>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let defs: &[(&'static str, &'static str, BuiltinFn)] = &[
            ("sum", "<a<n>:n>", f_sum),
            ("count", "<a:n>", f_count),
            ("max", "<a<n>:n>", f_max),
            ("min", "<a<n>:n>", f_min),
            ("average", "<a<n>:n>", f_average),
            ("string", "<x-b?:s>", f_string),
            ("substring", "<s-nn?:s>", f_substring),
            ("substringBefore", "<s-s:s>", f_substring_before),
            ("substringAfter", "<s-s:s>", f_substring_after),
            ("lowercase", "<s-:s>", f_lowercase),
            ("uppercase", "<s-:s>", f_uppercase),
            ("length", "<s-:n>", f_length),
            ("trim", "<s-:s>", f_trim),
            ("pad", "<s-ns?:s>", f_pad),
            ("match", "<s-f<s:o>n?:a<o>>", f_match),
            ("contains", "<s-(sf):b>", f_contains),
            ("replace", "<s-(sf)(sf)n?:s>", f_replace),
            ("split", "<s-(sf)n?:a<s>>", f_split),
            ("join", "<a<s>s?:s>", f_join),
            ("formatNumber", "<n-so?:s>", crate::format::f_format_number),
            ("formatBase", "<n-n?:s>", f_format_base),
            ("formatInteger", "<n-s:s>", crate::format::f_format_integer),
            ("parseInteger", "<s-s:n>", crate::format::f_parse_integer),
            ("number", "<(nsb)-:n>", f_number),
            ("floor", "<n-:n>", f_floor),
            ("ceil", "<n-:n>", f_ceil),
            ("round", "<n-n?:n>", f_round),
            ("abs", "<n-:n>", f_abs),
            ("sqrt", "<n-:n>", f_sqrt),
            ("power", "<n-n:n>", f_power),
            ("random", "<n?:n>", crate::aws::f_random),
            ("boolean", "<x-:b>", f_boolean),
            ("not", "<x-:b>", f_not),
            ("map", "<af>", f_map),
            ("zip", "<a+>", f_zip),
            ("filter", "<af>", f_filter),
            ("single", "<af?>", f_single),
            ("reduce", "<afj?:j>", f_reduce),
            ("sift", "<o-f?:o>", f_sift),
            ("keys", "<x-:a<s>>", f_keys),
            ("lookup", "<x-s:x>", f_lookup),
            ("append", "<xx:a>", f_append),
            ("exists", "<x:b>", f_exists),
            ("spread", "<x-:a<o>>", f_spread),
            ("merge", "<a<o>:o>", f_merge),
            ("reverse", "<a:a>", f_reverse),
            ("each", "<o-f:a>", f_each),
            ("error", "<s?:x>", f_error),
            ("assert", "<bs?:x>", f_assert),
            ("type", "<x:s>", f_type),
            ("sort", "<af?:a>", f_sort),
            ("shuffle", "<a:a>", f_shuffle),
            ("distinct", "<x:x>", f_distinct),
            ("base64encode", "<s-:s>", f_base64encode),
            ("base64decode", "<s-:s>", f_base64decode),
            ("encodeUrlComponent", "<s-:s>", f_encode_url_component),
            ("encodeUrl", "<s-:s>", f_encode_url),
            ("decodeUrlComponent", "<s-:s>", f_decode_url_component),
            ("decodeUrl", "<s-:s>", f_decode_url),
            ("toMillis", "<s-s?:n>", crate::datetime::f_to_millis),
            ("fromMillis", "<n-s?s?:s>", crate::datetime::f_from_millis),
            ("now", "<s?s?:s>", crate::datetime::f_now),
            ("millis", "<:n>", crate::datetime::f_millis),
            ("clone", "<(oa)-:o>", f_clone),
            // AWS Step Functions additions
            ("partition", "<an:a>", crate::aws::f_partition),
            ("range", "<nnn?:a>", crate::aws::f_range),
            ("hash", "<ss?:s>", crate::aws::f_hash),
            ("uuid", "<:s>", crate::aws::f_uuid),
            ("parse", "<s:j>", crate::aws::f_parse),
        ];
        defs.iter()
            .map(|(name, sig, f)| {
                let sig = Signature::parse(sig).unwrap_or(Signature { params: Vec::new() });
                let arity = match *name {
                    "random" | "zip" | "millis" | "uuid" => 0,
                    "sum" | "count" | "max" | "min" | "average" | "string" | "lowercase"
                    | "uppercase" | "length" | "trim" | "number" | "floor" | "ceil" | "abs"
                    | "sqrt" | "boolean" | "not" | "keys" | "exists" | "spread" | "merge"
                    | "reverse" | "error" | "type" | "shuffle" | "distinct" | "base64encode"
                    | "base64decode" | "encodeUrlComponent" | "encodeUrl"
                    | "decodeUrlComponent" | "decodeUrl" | "clone" | "parse" => 1,
                    "substring" | "pad" | "match" | "split" | "formatNumber" | "reduce"
                    | "fromMillis" | "range" => 3,
                    "replace" => 4,
                    _ => 2,
                };
                (
                    *name,
                    Builtin {
                        name,
                        sig,
                        arity,
                        f: *f,
                    },
                )
            })
            .collect()
    })
}

/// The native function registered under `name`.
pub(crate) fn lookup(name: &str) -> Option<&'static Builtin> {
    table().get(name)
}

// ------------------------------------------------------------------- helpers

pub(crate) fn arg<'b, 'a>(args: &'b [Option<Val<'a>>], i: usize) -> Option<&'b Val<'a>> {
    args.get(i).and_then(|a| a.as_ref())
}

fn json(v: Option<&Val>) -> Value {
    v.and_then(|v| v.to_json()).unwrap_or(Value::Null)
}

fn num_arg(args: &[Option<Val>], i: usize) -> Option<f64> {
    arg(args, i).and_then(|v| v.as_num())
}

fn str_arg<'b>(args: &'b [Option<Val>], i: usize) -> Option<&'b str> {
    arg(args, i).and_then(|v| v.as_str())
}

fn items<'a>(v: &Val<'a>) -> Vec<Val<'a>> {
    v.items()
}

/// `$string()` of a value (errors on non-finite numbers).
pub(crate) fn to_string(v: &Val) -> R<String> {
    to_string_pretty(v, false)
}

fn to_string_pretty(v: &Val, pretty: bool) -> R<String> {
    Ok(match v {
        Val::Str(s) => s.to_string(),
        Val::Func(_) => String::new(),
        Val::Num(n) if !n.is_finite() => {
            return Err(Err::new("D3001").val(Value::Null));
        }
        Val::Arr(a, f) if f & OUTER != 0 && !a.is_empty() => stringify_val(&a[0], pretty)?,
        v => stringify_val(v, pretty)?,
    })
}

fn arity(f: &Val) -> usize {
    match f {
        Val::Func(f) => f.arity(),
        _ => 0,
    }
}

fn hof_args<'a>(f: &Val<'a>, a: Val<'a>, b: Val<'a>, c: &Val<'a>) -> Vec<Option<Val<'a>>> {
    let n = arity(f);
    let mut v = vec![Some(a)];
    if n >= 2 {
        v.push(Some(b));
    }
    if n >= 3 {
        v.push(Some(c.clone()));
    }
    v
}

fn call<'a>(ev: &Ev<'a>, env: &Env<'a>, f: &Val<'a>, args: Vec<Option<Val<'a>>>) -> Res<'a> {
    ev.apply(Some(f), args, None, env)
}

fn chars_of(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// JS `Array.prototype.slice` index normalisation.
fn slice_idx(i: f64, len: usize) -> usize {
    let len = len as f64;
    let i = if i.is_nan() { 0.0 } else { i.trunc() };
    let r = if i < 0.0 {
        (len + i).max(0.0)
    } else {
        i.min(len)
    };
    r as usize
}

/// Byte offset to JS (UTF-16) string index.
pub(crate) fn utf16_index(s: &str, byte: usize) -> usize {
    s[..byte.min(s.len())].encode_utf16().count()
}

// --------------------------------------------------------------- aggregates

fn f_sum<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    Ok(Some(Val::Num(
        items(a).iter().filter_map(|v| v.as_num()).sum(),
    )))
}

fn f_count<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    Ok(Some(Val::Num(match arg(args, 0) {
        None => 0.0,
        Some(a) => items(a).len() as f64,
    })))
}

fn extreme<'a>(args: &[Option<Val<'a>>], max: bool) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let nums: Vec<f64> = items(a).iter().filter_map(|v| v.as_num()).collect();
    if nums.is_empty() {
        return Ok(None);
    }
    let r = nums.into_iter().fold(
        if max {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        },
        |x, y| {
            if max {
                x.max(y)
            } else {
                x.min(y)
            }
        },
    );
    Ok(Some(Val::Num(r)))
}

fn f_max<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    extreme(args, true)
}

fn f_min<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    extreme(args, false)
}

fn f_average<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let nums: Vec<f64> = items(a).iter().filter_map(|v| v.as_num()).collect();
    if nums.is_empty() {
        return Ok(None);
    }
    Ok(Some(Val::Num(nums.iter().sum::<f64>() / nums.len() as f64)))
}

// ------------------------------------------------------------------ strings

fn f_string<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let pretty = matches!(arg(args, 1), Some(Val::Bool(true)));
    Ok(Some(Val::string(to_string_pretty(a, pretty)?)))
}

fn f_substring<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(s) = str_arg(args, 0) else {
        return Ok(None);
    };
    let chars = chars_of(s);
    let len = chars.len();
    let mut start = num_arg(args, 1).unwrap_or(0.0);
    if len as f64 + start < 0.0 {
        start = 0.0;
    }
    let out: String = match num_arg(args, 2) {
        Some(length) => {
            if length <= 0.0 {
                return Ok(Some(Val::str("")));
            }
            let end = if start >= 0.0 {
                start + length
            } else {
                len as f64 + start + length
            };
            let (a, b) = (slice_idx(start, len), slice_idx(end, len));
            if a >= b {
                String::new()
            } else {
                chars[a..b].iter().collect()
            }
        }
        None => chars[slice_idx(start, len)..].iter().collect(),
    };
    Ok(Some(Val::string(out)))
}

fn f_substring_before<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(s) = str_arg(args, 0) else {
        return Ok(None);
    };
    let c = str_arg(args, 1).unwrap_or("");
    Ok(Some(match s.find(c) {
        Some(i) => Val::str(&s[..i]),
        None => Val::str(s),
    }))
}

fn f_substring_after<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(s) = str_arg(args, 0) else {
        return Ok(None);
    };
    let c = str_arg(args, 1).unwrap_or("");
    Ok(Some(match s.find(c) {
        Some(i) => Val::str(&s[i + c.len()..]),
        None => Val::str(s),
    }))
}

fn f_lowercase<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    Ok(str_arg(args, 0).map(|s| Val::string(s.to_lowercase())))
}

fn f_uppercase<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    Ok(str_arg(args, 0).map(|s| Val::string(s.to_uppercase())))
}

fn f_length<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    Ok(str_arg(args, 0).map(|s| Val::Num(s.chars().count() as f64)))
}

fn f_trim<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let Some(s) = str_arg(args, 0) else {
        return Ok(None);
    };
    let mut out = String::with_capacity(s.len());
    let mut in_ws = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            if !in_ws {
                out.push(' ');
            }
            in_ws = true;
        } else {
            out.push(c);
            in_ws = false;
        }
    }
    let out = out.strip_prefix(' ').unwrap_or(&out);
    let out = out.strip_suffix(' ').unwrap_or(out);
    Ok(Some(Val::str(out)))
}

fn f_pad<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let Some(s) = str_arg(args, 0) else {
        return Ok(None);
    };
    let width = num_arg(args, 1).unwrap_or(0.0);
    let ch = match str_arg(args, 2) {
        Some(c) if !c.is_empty() => c,
        _ => " ",
    };
    let pad_len = width.abs().trunc() as i64 - s.chars().count() as i64;
    if pad_len <= 0 {
        return Ok(Some(Val::str(s)));
    }
    let padding: String = ch.chars().cycle().take(pad_len as usize).collect();
    Ok(Some(Val::string(if width > 0.0 {
        format!("{s}{padding}")
    } else {
        format!("{padding}{s}")
    })))
}

/// One regex match as jsonata's matcher returns it.
pub(crate) struct MatchInfo {
    pub start: usize,
    pub end: usize,
    pub groups: Vec<Option<(usize, usize)>>,
}

/// Matches of a regex, with jsonata-js's iteration rules (D1004 on a zero-length repeat).
fn regex_matches(re: &Re, s: &str, limit: Option<usize>) -> R<Vec<MatchInfo>> {
    let mut out = Vec::new();
    let mut m = re.find_at(s, 0);
    while let Some(mm) = m {
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
        let last = mm.end;
        out.push(MatchInfo {
            start: mm.start,
            end: mm.end,
            groups: mm.groups,
        });
        if last >= s.len() {
            break;
        }
        m = re.find_at(s, last);
        if let Some(n) = &m {
            if n.start == n.end {
                return Err(Err::new("D1004").val(Value::String(re.source.clone())));
            }
        }
    }
    Ok(out)
}

fn match_object<'a>(s: &str, m: &MatchInfo) -> Val<'a> {
    let mut o = Obj::new();
    o.insert("match".into(), Val::str(&s[m.start..m.end]));
    o.insert("index".into(), Val::Num(utf16_index(s, m.start) as f64));
    o.insert(
        "groups".into(),
        Val::arr(
            m.groups
                .iter()
                .map(|g| match g {
                    Some((a, b)) => Val::str(&s[*a..*b]),
                    None => Val::str(""),
                })
                .collect(),
        ),
    );
    Val::obj(o)
}

/// What a regex literal returns when invoked directly: `{match, start, end, groups}`.
pub(crate) fn regex_match_obj<'a>(re: &Re, s: &str, from: usize) -> Option<Val<'a>> {
    let m = re.find_at(s, from)?;
    let mut o = Obj::new();
    o.insert("match".into(), Val::str(&s[m.start..m.end]));
    o.insert("start".into(), Val::Num(utf16_index(s, m.start) as f64));
    o.insert("end".into(), Val::Num(utf16_index(s, m.end) as f64));
    o.insert(
        "groups".into(),
        Val::arr(
            m.groups
                .iter()
                .map(|g| match g {
                    Some((a, b)) => Val::str(&s[*a..*b]),
                    None => Val::str(""),
                })
                .collect(),
        ),
    );
    Some(Val::obj(o))
}

/// Matches produced by a user-defined matcher function (`{match, start, end, groups, next}`).
fn custom_matches<'a>(
    ev: &Ev<'a>,
    env: &Env<'a>,
    f: &Val<'a>,
    s: &str,
    limit: Option<usize>,
) -> R<Vec<MatchInfo>> {
    let chars_to_byte = |ci: f64| -> usize {
        let ci = ci.max(0.0) as usize;
        s.char_indices().nth(ci).map_or(s.len(), |(b, _)| b)
    };
    let mut out = Vec::new();
    let mut m = call(ev, env, f, vec![Some(Val::str(s))])?;
    loop {
        let Some(mv) = m else { break };
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
        let Val::Obj(o, _) = &mv else {
            return Err(Err::new("T1010"));
        };
        let (Some(Val::Num(st)), Some(Val::Num(en))) = (o.get("start"), o.get("end")) else {
            return Err(Err::new("T1010"));
        };
        let groups = match o.get("groups") {
            Some(Val::Arr(g, _)) => g
                .iter()
                .map(|x| {
                    x.as_str()
                        .and_then(|gs| s.find(gs).map(|b| (b, b + gs.len())))
                })
                .collect(),
            _ => Vec::new(),
        };
        out.push(MatchInfo {
            start: chars_to_byte(*st),
            end: chars_to_byte(*en),
            groups,
        });
        m = match o.get("next") {
            Some(n @ Val::Func(_)) => call(ev, env, n, vec![])?,
            _ => None,
        };
    }
    Ok(out)
}

fn matches_of<'a>(
    ev: &Ev<'a>,
    env: &Env<'a>,
    pattern: &Val<'a>,
    s: &str,
    limit: Option<usize>,
) -> R<Vec<MatchInfo>> {
    match pattern {
        Val::Func(f) => match f.as_ref() {
            Func::Regex(re) => regex_matches(re, s, limit),
            _ => custom_matches(ev, env, pattern, s, limit),
        },
        _ => Ok(Vec::new()),
    }
}

fn f_match<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    env: &Env<'a>,
) -> Res<'a> {
    let Some(s) = str_arg(args, 0) else {
        return Ok(None);
    };
    let limit = num_arg(args, 2);
    if let Some(l) = limit {
        if l < 0.0 {
            return Err(Err::new("D3040").val(crate::value::num_to_json(l)).idx(3));
        }
    }
    let lim = limit.map(|l| l.max(0.0) as usize);
    if lim == Some(0) {
        return Ok(Some(Val::seq(vec![])));
    }
    let Some(p) = arg(args, 1) else {
        return Ok(None);
    };
    let ms = matches_of(ev, env, p, s, lim)?;
    Ok(Some(Val::seq(
        ms.iter().map(|m| match_object(s, m)).collect(),
    )))
}

fn f_contains<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    env: &Env<'a>,
) -> Res<'a> {
    let Some(s) = str_arg(args, 0) else {
        return Ok(None);
    };
    Ok(match arg(args, 1) {
        Some(Val::Str(t)) => Some(Val::Bool(s.contains(t.as_ref()))),
        Some(p) => Some(Val::Bool(!matches_of(ev, env, p, s, Some(1))?.is_empty())),
        None => None,
    })
}

fn substitute(replacement: &str, s: &str, m: &MatchInfo) -> String {
    let r: Vec<char> = replacement.chars().collect();
    let mut out = String::new();
    let mut pos = 0;
    let ngroups = m.groups.len();
    let find = |from: usize| r[from..].iter().position(|&c| c == '$').map(|i| i + from);
    let mut index = find(0);
    while let Some(i) = index {
        if pos >= r.len() {
            break;
        }
        out.extend(&r[pos..i]);
        pos = i + 1;
        let dv = r.get(pos).copied();
        if dv == Some('$') {
            out.push('$');
            pos += 1;
        } else if dv == Some('0') {
            out.push_str(&s[m.start..m.end]);
            pos += 1;
        } else {
            let max_digits = if ngroups == 0 {
                1
            } else {
                (ngroups as f64).log10().floor() as usize + 1
            };
            let parse = |n: usize| -> Option<usize> {
                let t: String = r[pos..(pos + n).min(r.len())].iter().collect();
                let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
                digits.parse().ok()
            };
            let mut idx = parse(max_digits);
            if max_digits > 1 && idx.is_some_and(|x| x > ngroups) {
                idx = parse(max_digits - 1);
            }
            match idx {
                Some(ix) => {
                    if ngroups > 0 && ix >= 1 {
                        if let Some(Some((a, b))) = m.groups.get(ix - 1) {
                            out.push_str(&s[*a..*b]);
                        }
                    }
                    pos += ix.to_string().len();
                }
                None => out.push('$'),
            }
        }
        index = find(pos.min(r.len()));
    }
    if pos < r.len() {
        out.extend(&r[pos..]);
    }
    out
}

fn f_replace<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    env: &Env<'a>,
) -> Res<'a> {
    let Some(s) = str_arg(args, 0) else {
        return Ok(None);
    };
    let pattern = arg(args, 1);
    if let Some(Val::Str(p)) = pattern {
        if p.is_empty() {
            return Err(Err::new("D3010").val(Value::String(String::new())).idx(2));
        }
    }
    let limit = num_arg(args, 3);
    if let Some(l) = limit {
        if l < 0.0 {
            return Err(Err::new("D3011").val(crate::value::num_to_json(l)).idx(4));
        }
    }
    let lim = limit.map(|l| l as usize);
    if lim == Some(0) {
        return Ok(Some(Val::str(s)));
    }
    let replacement = arg(args, 2);
    let mut out = String::new();
    match pattern {
        Some(Val::Str(p)) => {
            let rep = match replacement {
                Some(Val::Str(r)) => r.to_string(),
                Some(v) => to_string(v)?,
                None => String::new(),
            };
            let mut pos = 0;
            let mut count = 0;
            while let Some(i) = s[pos..].find(p.as_ref()) {
                if lim.is_some_and(|l| count >= l) {
                    break;
                }
                out.push_str(&s[pos..pos + i]);
                out.push_str(&rep);
                pos += i + p.len();
                count += 1;
            }
            out.push_str(&s[pos..]);
        }
        Some(p) => {
            let ms = matches_of(ev, env, p, s, lim)?;
            if ms.is_empty() {
                return Ok(Some(Val::str(s)));
            }
            let mut pos = 0;
            for m in &ms {
                if m.start < pos {
                    continue;
                }
                out.push_str(&s[pos..m.start]);
                match replacement {
                    Some(Val::Str(r)) => out.push_str(&substitute(r, s, m)),
                    Some(f @ Val::Func(_)) => {
                        let mut o = Obj::new();
                        o.insert("match".into(), Val::str(&s[m.start..m.end]));
                        o.insert("index".into(), Val::Num(utf16_index(s, m.start) as f64));
                        o.insert(
                            "groups".into(),
                            Val::arr(
                                m.groups
                                    .iter()
                                    .map(|g| match g {
                                        Some((a, b)) => Val::str(&s[*a..*b]),
                                        None => Val::str(""),
                                    })
                                    .collect(),
                            ),
                        );
                        let r = call(ev, env, f, vec![Some(Val::obj(o))])?;
                        match r {
                            Some(Val::Str(r)) => out.push_str(&r),
                            r => return Err(Err::new("D3012").val(json(r.as_ref()))),
                        }
                    }
                    _ => {}
                }
                pos = m.end;
            }
            out.push_str(&s[pos..]);
        }
        None => return Ok(Some(Val::str(s))),
    }
    Ok(Some(Val::string(out)))
}

fn f_split<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    env: &Env<'a>,
) -> Res<'a> {
    let Some(s) = str_arg(args, 0) else {
        return Ok(None);
    };
    let limit = num_arg(args, 2);
    if let Some(l) = limit {
        if l < 0.0 {
            return Err(Err::new("D3020").val(crate::value::num_to_json(l)).idx(3));
        }
    }
    let lim = limit.map(|l| l.floor() as usize);
    if lim == Some(0) {
        return Ok(Some(Val::arr(vec![])));
    }
    let mut out: Vec<Val<'a>> = Vec::new();
    match arg(args, 1) {
        Some(Val::Str(sep)) => {
            if sep.is_empty() {
                out = s.chars().map(|c| Val::string(c.to_string())).collect();
            } else {
                out = s.split(sep.as_ref()).map(Val::str).collect();
            }
            if let Some(l) = lim {
                out.truncate(l);
            }
        }
        Some(p) => {
            let ms = matches_of(ev, env, p, s, lim)?;
            if ms.is_empty() {
                out.push(Val::str(s));
            } else {
                let mut start = 0;
                for m in &ms {
                    out.push(Val::str(&s[start.min(m.start)..m.start]));
                    start = m.end;
                }
                if lim.is_none_or(|l| ms.len() < l) {
                    out.push(Val::str(&s[start.min(s.len())..]));
                }
            }
        }
        None => {}
    }
    Ok(Some(Val::arr(out)))
}

fn f_join<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let sep = str_arg(args, 1).unwrap_or("");
    let parts: Vec<String> = items(a)
        .iter()
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect();
    Ok(Some(Val::string(parts.join(sep))))
}

fn f_format_base<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(n) = num_arg(args, 0) else {
        return Ok(None);
    };
    let n = round_half_even(n, 0);
    let radix = num_arg(args, 1).unwrap_or(10.0);
    if !(2.0..=36.0).contains(&radix) {
        return Err(Err::new("D3100").val(crate::value::num_to_json(radix)));
    }
    let radix = radix as u32;
    let neg = n < 0.0;
    let mut x = n.abs() as u128;
    let mut digits = Vec::new();
    if x == 0 {
        digits.push('0');
    }
    while x > 0 {
        let d = (x % radix as u128) as u32;
        digits.push(std::char::from_digit(d, radix).unwrap_or('0'));
        x /= radix as u128;
    }
    if neg {
        digits.push('-');
    }
    digits.reverse();
    Ok(Some(Val::string(digits.into_iter().collect())))
}

// ------------------------------------------------------------------ numbers

fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let ds = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == ds {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == fs {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let es = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            return false;
        }
    }
    i == b.len()
}

/// `$number()` cast.
pub(crate) fn to_number<'a>(v: &Val<'a>) -> R<f64> {
    match v {
        Val::Num(n) => Ok(*n),
        Val::Str(s) => {
            if is_json_number(s) {
                if let Ok(n) = s.parse::<f64>() {
                    if n.is_finite() {
                        return Ok(n);
                    }
                }
            }
            let lower = s.to_ascii_lowercase();
            let radix = if lower.starts_with("0x") {
                16
            } else if lower.starts_with("0o") {
                8
            } else if lower.starts_with("0b") {
                2
            } else {
                0
            };
            if radix > 0 && s.len() > 2 {
                if let Ok(n) = u64::from_str_radix(&s[2..], radix) {
                    return Ok(n as f64);
                }
            }
            Err(Err::new("D3030").val(Value::String(s.to_string())).idx(1))
        }
        Val::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
        v => Err(Err::new("D3030").val(json(Some(v))).idx(1)),
    }
}

fn f_number<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    Ok(Some(Val::Num(to_number(a)?)))
}

fn num_fn<'a>(args: &[Option<Val<'a>>], f: fn(f64) -> f64) -> Res<'a> {
    Ok(num_arg(args, 0).map(|n| Val::Num(f(n))))
}

fn f_floor<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    num_fn(args, f64::floor)
}

fn f_ceil<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    num_fn(args, f64::ceil)
}

fn f_abs<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    num_fn(args, f64::abs)
}

fn f_sqrt<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let Some(n) = num_arg(args, 0) else {
        return Ok(None);
    };
    if n < 0.0 {
        return Err(Err::new("D3060").val(crate::value::num_to_json(n)).idx(1));
    }
    Ok(Some(Val::Num(n.sqrt())))
}

fn f_power<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let Some(b) = num_arg(args, 0) else {
        return Ok(None);
    };
    let e = num_arg(args, 1).unwrap_or(f64::NAN);
    let r = b.powf(e);
    if !r.is_finite() {
        return Err(Err::new("D3061")
            .val(crate::value::num_to_json(b))
            .val2(crate::value::num_to_json(e))
            .idx(1));
    }
    Ok(Some(Val::Num(r)))
}

/// `$round` (half to even, decimal shifting via the string form as jsonata-js does).
pub(crate) fn round_half_even(x: f64, precision: i32) -> f64 {
    let shift = |v: f64, p: i32| -> f64 {
        let s = js_num(v);
        let (m, e) = match s.split_once('e') {
            Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
            None => (s, 0),
        };
        format!("{m}e{}", e + p).parse().unwrap_or(v)
    };
    let arg = if precision != 0 {
        shift(x, precision)
    } else {
        x
    };
    let mut result = (arg + 0.5).floor();
    let diff = result - arg;
    if diff.abs() == 0.5 && (result % 2.0).abs() == 1.0 {
        result -= 1.0;
    }
    if precision != 0 {
        result = shift(result, -precision);
    }
    if result == 0.0 {
        result = 0.0;
    }
    result
}

fn f_round<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let Some(n) = num_arg(args, 0) else {
        return Ok(None);
    };
    let p = num_arg(args, 1).unwrap_or(0.0) as i32;
    Ok(Some(Val::Num(round_half_even(n, p))))
}

// ----------------------------------------------------------------- booleans

fn f_boolean<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    Ok(to_bool(arg(args, 0)).map(Val::Bool))
}

fn f_not<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    Ok(to_bool(arg(args, 0)).map(|b| Val::Bool(!b)))
}

fn f_exists<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    Ok(Some(Val::Bool(arg(args, 0).is_some())))
}

// ---------------------------------------------------------- higher-order

fn f_map<'a>(ev: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, env: &Env<'a>) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(args, 1) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (i, v) in items(a).into_iter().enumerate() {
        if let Some(r) = call(ev, env, f, hof_args(f, v, Val::Num(i as f64), a))? {
            out.push(r);
        }
    }
    Ok(Some(Val::seq(out)))
}

fn f_filter<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    env: &Env<'a>,
) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(args, 1) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (i, v) in items(a).into_iter().enumerate() {
        let r = call(ev, env, f, hof_args(f, v.clone(), Val::Num(i as f64), a))?;
        if to_bool(r.as_ref()).unwrap_or(false) {
            out.push(v);
        }
    }
    Ok(Some(Val::seq(out)))
}

fn f_single<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    env: &Env<'a>,
) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let f = arg(args, 1);
    let mut found: Option<Val<'a>> = None;
    for (i, v) in items(a).into_iter().enumerate() {
        let ok = match f {
            Some(f) => {
                let r = call(ev, env, f, hof_args(f, v.clone(), Val::Num(i as f64), a))?;
                to_bool(r.as_ref()).unwrap_or(false)
            }
            None => true,
        };
        if ok {
            if found.is_some() {
                return Err(Err::new("D3138").idx(i));
            }
            found = Some(v);
        }
    }
    match found {
        Some(v) => Ok(Some(v)),
        None => Err(Err::new("D3139")),
    }
}

fn f_reduce<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    env: &Env<'a>,
) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(args, 1) else {
        return Ok(None);
    };
    let n = arity(f);
    if n < 2 {
        return Err(Err::new("D3050").idx(1));
    }
    let seq = items(a);
    let init = arg(args, 2).cloned();
    let (mut result, mut index) = match init {
        None if !seq.is_empty() => (Some(seq[0].clone()), 1),
        init => (init, 0),
    };
    while index < seq.len() {
        let mut cargs = vec![result, Some(seq[index].clone())];
        if n >= 3 {
            cargs.push(Some(Val::Num(index as f64)));
        }
        if n >= 4 {
            cargs.push(Some(a.clone()));
        }
        result = call(ev, env, f, cargs)?;
        index += 1;
    }
    Ok(result)
}

fn f_sift<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    env: &Env<'a>,
) -> Res<'a> {
    let Some(whole @ Val::Obj(o, _)) = arg(args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(args, 1) else {
        return Ok(None);
    };
    let mut out = Obj::new();
    for (k, v) in o.iter() {
        let r = call(ev, env, f, hof_args(f, v.clone(), Val::str(k), whole))?;
        if to_bool(r.as_ref()).unwrap_or(false) {
            out.insert(k.clone(), v.clone());
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    Ok(Some(Val::obj(out)))
}

fn f_each<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    env: &Env<'a>,
) -> Res<'a> {
    let Some(whole @ Val::Obj(o, _)) = arg(args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(args, 1) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (k, v) in o.iter() {
        if let Some(r) = call(ev, env, f, hof_args(f, v.clone(), Val::str(k), whole))? {
            out.push(r);
        }
    }
    Ok(Some(Val::seq(out)))
}

fn f_zip<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let arrays: Vec<Vec<Val<'a>>> = args
        .iter()
        .map(|a| match a {
            Some(Val::Arr(x, _)) => x.as_ref().clone(),
            _ => Vec::new(),
        })
        .collect();
    let len = arrays.iter().map(|a| a.len()).min().unwrap_or(0);
    let out = (0..len)
        .map(|i| Val::arr(arrays.iter().map(|a| a[i].clone()).collect()))
        .collect();
    Ok(Some(Val::arr(out)))
}

fn f_sort<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    env: &Env<'a>,
) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let its = items(a);
    if its.len() <= 1 {
        return Ok(Some(a.clone()));
    }
    let sorted = match arg(args, 1) {
        None => {
            let all_num = its.iter().all(|v| matches!(v, Val::Num(_)));
            let all_str = its.iter().all(|v| matches!(v, Val::Str(_)));
            if !all_num && !all_str {
                return Err(Err::new("D3070").idx(1));
            }
            merge_sort(its, &|x, y| {
                Ok(match (x, y) {
                    (Val::Num(p), Val::Num(q)) => p > q,
                    (Val::Str(p), Val::Str(q)) => js_str_cmp(p, q) > 0,
                    _ => false,
                })
            })?
        }
        Some(f) => merge_sort(its, &|x, y| {
            let r = call(ev, env, f, vec![Some(x.clone()), Some(y.clone())])?;
            Ok(js_truthy(r.as_ref()))
        })?,
    };
    Ok(Some(Val::arr(sorted)))
}

fn js_truthy(v: Option<&Val>) -> bool {
    match v {
        None | Some(Val::Null) => false,
        Some(Val::Bool(b)) => *b,
        Some(Val::Num(n)) => *n != 0.0 && !n.is_nan(),
        Some(Val::Str(s)) => !s.is_empty(),
        _ => true,
    }
}

fn f_shuffle<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let mut its = items(a);
    if its.len() <= 1 {
        return Ok(Some(a.clone()));
    }
    for i in (1..its.len()).rev() {
        let j = (crate::aws::next_random(ev) * (i + 1) as f64) as usize;
        its.swap(i, j.min(i));
    }
    Ok(Some(Val::arr(its)))
}

fn f_distinct<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let Val::Arr(items, f) = a else {
        return Ok(Some(a.clone()));
    };
    if items.len() <= 1 {
        return Ok(Some(a.clone()));
    }
    let mut out: Vec<Val<'a>> = Vec::new();
    for v in items.iter() {
        if !out.iter().any(|x| deep_equal(x, v)) {
            out.push(v.clone());
        }
    }
    Ok(Some(Val::mk_arr(out, f & SEQ)))
}

// ------------------------------------------------------------------ objects

fn keys_of<'a>(v: &Val<'a>, out: &mut Vec<String>) {
    match v {
        Val::Arr(a, _) => {
            for x in a.iter() {
                keys_of(x, out);
            }
        }
        Val::Obj(o, _) => {
            for k in o.keys() {
                if !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
        _ => {}
    }
}

fn f_keys<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(Some(Val::seq(vec![])));
    };
    let mut keys = Vec::new();
    keys_of(a, &mut keys);
    Ok(Some(Val::seq(keys.into_iter().map(Val::string).collect())))
}

fn f_lookup<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let key = str_arg(args, 1).unwrap_or("");
    Ok(lookup_field(arg(args, 0), key))
}

fn f_append<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    Ok(append(arg(args, 0).cloned(), arg(args, 1).cloned()))
}

fn f_spread<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    fn spread<'a>(v: &Val<'a>) -> Option<Val<'a>> {
        match v {
            Val::Arr(a, _) => {
                let mut r = Some(Val::seq(vec![]));
                for x in a.iter() {
                    r = append(r, spread(x));
                }
                r
            }
            Val::Obj(o, _) => Some(Val::seq(
                o.iter()
                    .map(|(k, x)| {
                        let mut m = Obj::new();
                        m.insert(k.clone(), x.clone());
                        Val::obj(m)
                    })
                    .collect(),
            )),
            v => Some(v.clone()),
        }
    }
    Ok(arg(args, 0).and_then(spread))
}

fn f_merge<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let mut out = Obj::new();
    for v in items(a) {
        if let Val::Obj(o, _) = v {
            for (k, x) in o.iter() {
                out.insert(k.clone(), x.clone());
            }
        }
    }
    Ok(Some(Val::obj(out)))
}

fn f_reverse<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let mut its = items(a);
    if its.len() <= 1 {
        return Ok(Some(a.clone()));
    }
    its.reverse();
    Ok(Some(Val::arr(its)))
}

fn f_error<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    let msg = str_arg(args, 0)
        .filter(|s| !s.is_empty())
        .unwrap_or("$error() function evaluated");
    Err(Err::new("D3137").extra(msg))
}

fn f_assert<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    if matches!(arg(args, 0), Some(Val::Bool(true))) {
        return Ok(None);
    }
    let msg = str_arg(args, 1)
        .filter(|s| !s.is_empty())
        .unwrap_or("$assert() statement failed");
    Err(Err::new("D3141").extra(msg))
}

fn f_type<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    Ok(arg(args, 0).map(|v| {
        Val::str(match v {
            Val::Null => "null",
            Val::Num(_) => "number",
            Val::Str(_) => "string",
            Val::Bool(_) => "boolean",
            Val::Arr(..) => "array",
            Val::Func(_) => "function",
            Val::Obj(_, _) => "object",
        })
    }))
}

/// Deep copy with fresh identities (`JSON.parse($string(x))`).
pub(crate) fn deep_clone<'a>(v: &Val<'a>) -> Val<'a> {
    match v {
        Val::Obj(o, _) => Val::obj(o.iter().map(|(k, x)| (k.clone(), deep_clone(x))).collect()),
        Val::Arr(a, _) => Val::arr(a.iter().map(deep_clone).collect()),
        Val::Num(n) => Val::Num(precision15(*n)),
        Val::Func(_) => Val::str(""),
        v => v.clone(),
    }
}

fn f_clone<'a>(_: &Ev<'a>, args: &[Option<Val<'a>>], _: Option<&Val<'a>>, _: &Env<'a>) -> Res<'a> {
    Ok(arg(args, 0).map(deep_clone))
}

// -------------------------------------------------------------- encodings

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

fn base64_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => continue,
        };
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    out
}

fn f_base64encode<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    Ok(str_arg(args, 0).map(|s| Val::string(base64_encode(s.as_bytes()))))
}

fn f_base64decode<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    Ok(str_arg(args, 0)
        .map(|s| Val::string(String::from_utf8_lossy(&base64_decode(s)).into_owned())))
}

fn encode_uri(s: &str, keep: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c) || keep.contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

fn decode_uri(s: &str, reserved: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            let v = u8::from_str_radix(hex, 16).ok()?;
            if v < 0x80 && reserved.contains(v as char) {
                out.extend_from_slice(&b[i..i + 3]);
            } else {
                out.push(v);
            }
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn url_fn<'a>(args: &[Option<Val<'a>>], name: &str, f: impl Fn(&str) -> Option<String>) -> Res<'a> {
    let Some(s) = str_arg(args, 0) else {
        return Ok(None);
    };
    match f(s) {
        Some(r) => Ok(Some(Val::string(r))),
        None => Err(Err::new("D3140")
            .tok(name)
            .val(Value::String(s.to_string()))),
    }
}

fn f_encode_url_component<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    url_fn(args, "encodeUrlComponent", |s| Some(encode_uri(s, "")))
}

fn f_encode_url<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    url_fn(args, "encodeUrl", |s| Some(encode_uri(s, ";,/?:@&=+$#")))
}

fn f_decode_url_component<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    url_fn(args, "decodeUrlComponent", |s| decode_uri(s, ""))
}

fn f_decode_url<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    url_fn(args, "decodeUrl", |s| decode_uri(s, ";,/?:@&=+$#"))
}
