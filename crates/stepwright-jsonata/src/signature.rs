//! Function signatures (`<s-n?:s>`), ported from jsonata-js's signature.js.

use crate::error::{Err, ErrExt, R};
use crate::value::Val;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quant {
    One,
    Opt,
    Plus,
}

/// One parameter of a signature.
#[derive(Debug, Clone)]
pub(crate) struct Param {
    /// Accepted type symbols (`s n b l o a f m`).
    pub accepts: String,
    pub quant: Quant,
    /// `a` parameters wrap non-arrays.
    pub array: bool,
    pub context: bool,
    pub subtype: Option<String>,
}

/// A parsed signature.
#[derive(Debug, Clone)]
pub struct Signature {
    pub(crate) params: Vec<Param>,
}

fn closing(s: &[char], start: usize, open: char, close: char) -> usize {
    let mut depth = 1;
    let mut p = start;
    while p < s.len() {
        p += 1;
        match s.get(p) {
            Some(c) if *c == close => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Some(c) if *c == open => depth += 1,
            _ => {}
        }
    }
    p
}

impl Signature {
    /// Parses a signature string such as `<s-n?:s>`.
    pub(crate) fn parse(sig: &str) -> R<Signature> {
        let s: Vec<char> = sig.chars().collect();
        let mut params: Vec<Param> = Vec::new();
        let mut pos = 1;
        let new = |accepts: &str, array: bool| Param {
            accepts: accepts.to_string(),
            quant: Quant::One,
            array,
            context: false,
            subtype: None,
        };
        while pos < s.len() {
            let c = s[pos];
            if c == ':' {
                break;
            }
            match c {
                's' | 'n' | 'b' | 'l' | 'o' => params.push(new(&format!("{c}m"), false)),
                'a' => params.push(new("asnblfom", true)),
                'f' => params.push(new("f", false)),
                'j' => params.push(new("asnblom", false)),
                'x' => params.push(new("asnblfom", false)),
                '-' => {
                    if let Some(p) = params.last_mut() {
                        p.context = true;
                        p.quant = Quant::Opt;
                    }
                }
                '?' => {
                    if let Some(p) = params.last_mut() {
                        p.quant = Quant::Opt;
                    }
                }
                '+' => {
                    if let Some(p) = params.last_mut() {
                        p.quant = Quant::Plus;
                    }
                }
                '(' => {
                    let end = closing(&s, pos, '(', ')');
                    let choice: String = s[pos + 1..end.min(s.len())].iter().collect();
                    if choice.contains('<') {
                        let mut e = Err::new("S0402").val(serde_json::Value::String(choice));
                        e.position = Some(pos);
                        return Err(e);
                    }
                    params.push(new(&format!("{choice}m"), false));
                    pos = end;
                }
                '<' => {
                    let ok = params.last().is_some_and(|p| p.array || p.accepts == "f");
                    if !ok {
                        let mut e = Err::new("S0401");
                        e.position = Some(pos);
                        return Err(e);
                    }
                    let end = closing(&s, pos, '<', '>');
                    let sub: String = s[pos + 1..end.min(s.len())].iter().collect();
                    if let Some(p) = params.last_mut() {
                        p.subtype = Some(sub);
                    }
                    pos = end;
                }
                _ => {}
            }
            pos += 1;
        }
        Ok(Signature { params })
    }

    /// Matches type symbols against the parameters (regex semantics: greedy with
    /// backtracking); returns how many symbols each parameter took.
    fn matches(&self, syms: &[char]) -> Option<Vec<usize>> {
        fn go(params: &[Param], syms: &[char], out: &mut Vec<usize>) -> bool {
            let Some(p) = params.first() else {
                return syms.is_empty();
            };
            let ok = |c: &char| p.accepts.contains(*c);
            let max_take = match p.quant {
                Quant::One => 1,
                Quant::Opt => 1,
                Quant::Plus => syms.iter().take_while(|c| ok(c)).count(),
            };
            let min_take = if p.quant == Quant::One || p.quant == Quant::Plus {
                1
            } else {
                0
            };
            let mut take = max_take.min(syms.len());
            loop {
                if take >= min_take && syms[..take].iter().all(ok) {
                    out.push(take);
                    if go(&params[1..], &syms[take..], out) {
                        return true;
                    }
                    out.pop();
                }
                if take == 0 || take <= min_take {
                    return false;
                }
                take -= 1;
            }
        }
        let mut out = Vec::new();
        if go(&self.params, syms, &mut out) {
            Some(out)
        } else {
            None
        }
    }

    /// Length of the longest prefix of `syms` matched by the first `n` params (for error index).
    fn prefix_match(&self, n: usize, syms: &[char]) -> Option<usize> {
        // regex ^p1p2..pn (unanchored end) : find any match, greedy-first
        fn go(params: &[Param], syms: &[char], taken: usize) -> Option<usize> {
            let Some(p) = params.first() else {
                return Some(taken);
            };
            let ok = |c: &char| p.accepts.contains(*c);
            let rest = &syms[taken..];
            let max_take = match p.quant {
                Quant::One | Quant::Opt => 1,
                Quant::Plus => rest.iter().take_while(|c| ok(c)).count(),
            };
            let min_take = if p.quant == Quant::Opt { 0 } else { 1 };
            let mut take = max_take.min(rest.len());
            loop {
                if take >= min_take && rest[..take].iter().all(ok) {
                    if let Some(t) = go(&params[1..], syms, taken + take) {
                        return Some(t);
                    }
                }
                if take == 0 || take <= min_take {
                    return None;
                }
                take -= 1;
            }
        }
        go(&self.params[..n], syms, 0)
    }

    /// Validates (and fixes up) arguments: context substitution, array wrapping.
    pub(crate) fn validate<'a>(
        &self,
        args: Vec<Option<Val<'a>>>,
        context: Option<&Val<'a>>,
    ) -> R<Vec<Option<Val<'a>>>> {
        let syms: Vec<char> = args.iter().map(|a| Val::type_symbol(a.as_ref())).collect();
        let Some(takes) = self.matches(&syms) else {
            let mut good_to = 0;
            for i in 0..self.params.len() {
                match self.prefix_match(i + 1, &syms) {
                    None => {
                        return Err(Err::new("T0410")
                            .idx(good_to + 1)
                            .val(arg_json(&args, good_to)));
                    }
                    Some(t) => good_to = t,
                }
            }
            return Err(Err::new("T0410")
                .idx(good_to + 1)
                .val(arg_json(&args, good_to)));
        };
        let mut out = Vec::with_capacity(args.len() + 1);
        let mut arg_index = 0;
        for (p, &take) in self.params.iter().zip(takes.iter()) {
            if take == 0 {
                if p.context {
                    let ct = Val::type_symbol(context);
                    if p.accepts.contains(ct) {
                        out.push(context.cloned());
                    } else {
                        return Err(Err::new("T0411")
                            .idx(arg_index + 1)
                            .val(context.and_then(|c| c.to_json()).unwrap_or_default()));
                    }
                } else {
                    // jsonata-js pushes the argument at the current index and moves on
                    out.push(args.get(arg_index).cloned().flatten());
                    arg_index += 1;
                }
                continue;
            }
            for _ in 0..take {
                let arg = args.get(arg_index).cloned().flatten();
                if p.array {
                    match arg {
                        None => out.push(None),
                        Some(a) => {
                            if let Some(sub) = &p.subtype {
                                let first = sub.chars().next().unwrap_or('x');
                                let ok = match &a {
                                    Val::Arr(items, _) => {
                                        items.is_empty()
                                            || items
                                                .iter()
                                                .all(|v| Val::type_symbol(Some(v)) == first)
                                    }
                                    v => Val::type_symbol(Some(v)) == first,
                                };
                                if !ok {
                                    let ty = match first {
                                        's' => "strings",
                                        'n' => "numbers",
                                        'b' => "booleans",
                                        'o' => "objects",
                                        'f' => "functions",
                                        'a' => "arrays",
                                        'l' => "nulls",
                                        _ => "values",
                                    };
                                    return Err(Err::new("T0412")
                                        .idx(arg_index + 1)
                                        .val(a.to_json().unwrap_or_default())
                                        .extra(ty));
                                }
                            }
                            if a.is_array() {
                                out.push(Some(a));
                            } else {
                                out.push(Some(Val::arr(vec![a])));
                            }
                        }
                    }
                } else {
                    out.push(arg);
                }
                arg_index += 1;
            }
        }
        Ok(out)
    }
}

fn arg_json(args: &[Option<Val>], i: usize) -> serde_json::Value {
    args.get(i)
        .and_then(|a| a.as_ref())
        .and_then(|a| a.to_json())
        .unwrap_or_default()
}
