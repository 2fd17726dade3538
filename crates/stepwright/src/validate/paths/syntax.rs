//! Syntax of JSONPath, reference paths and intrinsic functions, as the validator needs it:
//! accept or reject, with the offset and a message.
//!
//! Nothing here recurses on the input except intrinsic calls, whose depth is capped at AWS's
//! limit (10), so no input can overflow the stack.

/// What a field expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathKind {
    /// Any JSONPath (wildcards, filters, slices allowed).
    Path,
    /// A reference path: one node (names and indexes only).
    Reference,
    /// A JSONPath or an intrinsic function call.
    PathOrIntrinsic,
}

/// Which roots a path may start from besides `$` (the input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Roots {
    /// `$$`, the context object.
    pub context: bool,
    /// `$name`, a workflow variable.
    pub variables: bool,
}

impl Roots {
    /// `$`, `$$` and `$name`.
    pub const ALL: Roots = Roots {
        context: true,
        variables: true,
    };
    /// `$` only (ResultPath).
    pub const INPUT_ONLY: Roots = Roots {
        context: false,
        variables: false,
    };
}

/// A syntax error: where (byte offset in the string) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        offset,
        message: message.into(),
    })
}

/// Checks a JSONPath (or reference path) string.
pub(crate) fn check_path(s: &str, kind: PathKind, roots: Roots) -> Result<(), SyntaxError> {
    let reference = kind == PathKind::Reference;
    let b = s.as_bytes();
    if b.first() != Some(&b'$') {
        return err(0, "a path starts with $");
    }
    let mut i = 1;
    if b.get(1) == Some(&b'$') {
        if !roots.context {
            return err(0, "the context object ($$) cannot be used here");
        }
        i = 2;
    } else if b
        .get(1)
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_' || *c >= 0x80)
    {
        if !roots.variables {
            return err(
                0,
                "a workflow variable cannot be used here; the path must start with $",
            );
        }
        while i < b.len() && !matches!(b[i], b'.' | b'[') {
            if b[i].is_ascii_whitespace() {
                return err(i, "unexpected whitespace in the variable name");
            }
            i += 1;
        }
    }
    while i < b.len() {
        match b[i] {
            b'.' => {
                if b.get(i + 1) == Some(&b'.') {
                    if reference {
                        return err(i, "a reference path cannot use .. (deep scan)");
                    }
                    i += 2;
                    if b.get(i) == Some(&b'.') {
                        return err(i, "too many dots");
                    }
                    if b.get(i) == Some(&b'[') {
                        continue;
                    }
                } else {
                    i += 1;
                }
                match b.get(i) {
                    None => return err(i, "a name is missing after the dot"),
                    Some(b'*') => {
                        if reference {
                            return err(i, "a reference path cannot use * (wildcard)");
                        }
                        i += 1;
                    }
                    Some(_) => {
                        let start = i;
                        while i < b.len() && !matches!(b[i], b'.' | b'[') {
                            let c = b[i];
                            if c.is_ascii_whitespace()
                                || matches!(c, b']' | b'(' | b')' | b'\'' | b'"' | b',')
                            {
                                return err(i, format!("unexpected character '{}' in a name (use ['...'] for unusual names)", c as char));
                            }
                            i += 1;
                        }
                        if i == start {
                            return err(i, "a name is missing after the dot");
                        }
                    }
                }
            }
            b'[' => {
                let start = i;
                let end = matching_bracket(b, i)?;
                bracket(&s[start + 1..end], start + 1, reference)?;
                i = end + 1;
            }
            c => {
                return err(
                    i,
                    format!(
                        "unexpected character '{}' (a segment starts with . or [)",
                        char_at(s, i, c)
                    ),
                );
            }
        }
    }
    Ok(())
}

fn char_at(s: &str, i: usize, fallback: u8) -> char {
    s.get(i..)
        .and_then(|r| r.chars().next())
        .unwrap_or(fallback as char)
}

/// The offset of the `]` closing the `[` at `open`, skipping quoted strings and nested brackets.
fn matching_bracket(b: &[u8], open: usize) -> Result<usize, SyntaxError> {
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'[' | b'(' => depth += 1,
            b']' | b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if b[i] == b')' {
                        return err(i, "unbalanced )");
                    }
                    return Ok(i);
                }
            }
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= b.len() {
                    return err(open, "unterminated string in brackets");
                }
            }
            _ => {}
        }
        i += 1;
    }
    err(open, "unclosed [")
}

fn bracket(inner: &str, at: usize, reference: bool) -> Result<(), SyntaxError> {
    let t = inner.trim();
    if t.is_empty() {
        return err(at, "empty brackets");
    }
    let not_ref = |what: &str| -> Result<(), SyntaxError> {
        if reference {
            err(at, format!("a reference path cannot use {what}"))
        } else {
            Ok(())
        }
    };
    if t == "*" {
        return not_ref("[*] (wildcard)");
    }
    if let Some(rest) = t.strip_prefix('?') {
        not_ref("a filter")?;
        let r = rest.trim_start();
        if !(r.starts_with('(') && r.ends_with(')')) || r.len() < 3 {
            return err(at, "a filter is written [?(<expression>)]");
        }
        return Ok(());
    }
    if t.starts_with('(') {
        not_ref("a script expression")?;
        if !t.ends_with(')') || t.len() < 3 {
            return err(at, "a script expression is written [(<expression>)]");
        }
        return Ok(());
    }
    let parts = split_top(t);
    if parts.len() > 1 {
        not_ref("a union")?;
    }
    for part in parts {
        let p = part.trim();
        if (p.starts_with('\'') && p.ends_with('\'') && p.len() >= 2)
            || (p.starts_with('"') && p.ends_with('"') && p.len() >= 2)
        {
            continue;
        }
        if p.contains(':') {
            not_ref("a slice")?;
            let pieces: Vec<&str> = p.split(':').collect();
            if pieces.len() > 3
                || pieces
                    .iter()
                    .any(|x| !x.trim().is_empty() && !is_int(x.trim()))
            {
                return err(at, format!("invalid slice [{p}]"));
            }
            continue;
        }
        if is_int(p) {
            continue;
        }
        return err(at, format!("invalid bracket expression [{p}] (expected an index, 'name', *, a slice or a filter)"));
    }
    Ok(())
}

fn is_int(s: &str) -> bool {
    let d = s.strip_prefix('-').unwrap_or(s);
    !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit())
}

/// Splits on commas outside quotes.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, ',') => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// The most deeply intrinsic functions may be nested.
pub(crate) const MAX_INTRINSIC_NESTING: usize = 10;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    Any,
    Str,
    Num,
    Bool,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Arg {
    Str,
    Num,
    Bool,
    Null,
    Dynamic,
}

/// (name, min args, max args, literal types by position; the last repeats)
const FUNCTIONS: &[(&str, usize, usize, &[Ty])] = &[
    ("Format", 1, usize::MAX, &[Ty::Str, Ty::Any]),
    ("StringToJson", 1, 1, &[Ty::Str]),
    ("JsonToString", 1, 1, &[Ty::Any]),
    ("Array", 0, usize::MAX, &[Ty::Any]),
    ("ArrayPartition", 2, 2, &[Ty::Any, Ty::Num]),
    ("ArrayContains", 2, 2, &[Ty::Any, Ty::Any]),
    ("ArrayRange", 3, 3, &[Ty::Num]),
    ("ArrayGetItem", 2, 2, &[Ty::Any, Ty::Num]),
    ("ArrayLength", 1, 1, &[Ty::Any]),
    ("ArrayUnique", 1, 1, &[Ty::Any]),
    ("Base64Encode", 1, 1, &[Ty::Str]),
    ("Base64Decode", 1, 1, &[Ty::Str]),
    ("Hash", 2, 2, &[Ty::Any, Ty::Str]),
    ("JsonMerge", 3, 3, &[Ty::Any, Ty::Any, Ty::Bool]),
    ("MathRandom", 2, 3, &[Ty::Num]),
    ("MathAdd", 2, 2, &[Ty::Num]),
    ("StringSplit", 2, 2, &[Ty::Str]),
    ("UUID", 0, 0, &[Ty::Any]),
];

const HASH_ALGORITHMS: &[&str] = &["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"];

/// Checks an intrinsic function call such as `States.Format('{}', $.x)`.
pub(crate) fn check_intrinsic(s: &str) -> Result<(), SyntaxError> {
    let mut p = Parser {
        s,
        b: s.as_bytes(),
        i: 0,
    };
    p.call(1)?;
    p.ws();
    if p.i < p.b.len() {
        return err(p.i, "unexpected text after the function call");
    }
    Ok(())
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn call(&mut self, depth: usize) -> Result<(), SyntaxError> {
        if depth > MAX_INTRINSIC_NESTING {
            return err(
                self.i,
                format!(
                    "intrinsic functions are nested more than {MAX_INTRINSIC_NESTING} levels deep"
                ),
            );
        }
        let start = self.i;
        if !self.s[self.i..].starts_with("States.") {
            return err(self.i, "an intrinsic function starts with States.");
        }
        self.i += "States.".len();
        let name_start = self.i;
        while self.i < self.b.len() && self.b[self.i].is_ascii_alphanumeric() {
            self.i += 1;
        }
        let name = &self.s[name_start..self.i];
        let Some(&(_, min, max, types)) = FUNCTIONS.iter().find(|f| f.0 == name) else {
            let names: Vec<&str> = FUNCTIONS.iter().map(|f| f.0).collect();
            let hint = super::super::suggest(name, &names)
                .map(|n| format!(" (did you mean States.{n}?)"))
                .unwrap_or_default();
            return err(
                name_start,
                format!("unknown intrinsic function States.{name}{hint}"),
            );
        };
        self.ws();
        if self.b.get(self.i) != Some(&b'(') {
            return err(self.i, format!("expected ( after States.{name}"));
        }
        self.i += 1;
        let mut args: Vec<(usize, Arg, Option<&'a str>)> = Vec::new();
        self.ws();
        if self.b.get(self.i) == Some(&b')') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                let at = self.i;
                let (arg, lit) = self.arg(depth)?;
                args.push((at, arg, lit));
                self.ws();
                match self.b.get(self.i) {
                    Some(b',') => self.i += 1,
                    Some(b')') => {
                        self.i += 1;
                        break;
                    }
                    _ => {
                        return err(
                            self.i,
                            format!("expected , or ) in the arguments of States.{name}"),
                        )
                    }
                }
            }
        }
        if args.len() < min || args.len() > max {
            let expected = match (min, max) {
                (a, b) if a == b => format!("{a}"),
                (a, usize::MAX) => format!("at least {a}"),
                (a, b) => format!("{a} to {b}"),
            };
            return err(
                start,
                format!(
                    "States.{name} takes {expected} argument(s), found {}",
                    args.len()
                ),
            );
        }
        for (k, (at, arg, lit)) in args.iter().enumerate() {
            let ty = types.get(k).or(types.last()).copied().unwrap_or(Ty::Any);
            let ok = matches!(
                (ty, arg),
                (Ty::Any, _)
                    | (_, Arg::Dynamic)
                    | (Ty::Str, Arg::Str)
                    | (Ty::Num, Arg::Num)
                    | (Ty::Bool, Arg::Bool)
            );
            if !ok {
                let want = match ty {
                    Ty::Str => "a string",
                    Ty::Num => "a number",
                    Ty::Bool => "a boolean",
                    Ty::Any => "a value",
                };
                return err(
                    *at,
                    format!(
                        "argument {} of States.{name} must be {want} (or a path)",
                        k + 1
                    ),
                );
            }
            if name == "Hash" && k == 1 {
                if let Some(alg) = lit {
                    if !HASH_ALGORITHMS.contains(alg) {
                        return err(
                            *at,
                            format!(
                                "States.Hash algorithm must be one of {}, found '{alg}'",
                                HASH_ALGORITHMS.join(", ")
                            ),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn arg(&mut self, depth: usize) -> Result<(Arg, Option<&'a str>), SyntaxError> {
        let src: &'a str = self.s;
        let rest = &src[self.i..];
        match self.b.get(self.i) {
            None => err(self.i, "an argument is missing"),
            Some(b'\'') => {
                self.i += 1;
                let start = self.i;
                loop {
                    match self.b.get(self.i) {
                        None => return err(start - 1, "unterminated string"),
                        Some(b'\\') => {
                            match self.b.get(self.i + 1) {
                                Some(b'\'' | b'{' | b'}' | b'\\') => {}
                                _ => return err(self.i, "invalid escape in a string: only \\' \\{ \\} and \\\\ are escapes"),
                            }
                            self.i += 2;
                        }
                        Some(b'\'') => break,
                        Some(_) => self.i += 1,
                    }
                }
                let lit = &src[start..self.i];
                self.i += 1;
                Ok((Arg::Str, Some(lit)))
            }
            Some(b'$') => {
                let start = self.i;
                let mut depth_b = 0usize;
                while self.i < self.b.len() {
                    match self.b[self.i] {
                        b'[' | b'(' => depth_b += 1,
                        b']' | b')' if depth_b > 0 => depth_b -= 1,
                        b',' | b')' if depth_b == 0 => break,
                        b'\'' | b'"' => {
                            let q = self.b[self.i];
                            self.i += 1;
                            while self.i < self.b.len() && self.b[self.i] != q {
                                self.i += 1;
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
                let path = self.s[start..self.i.min(self.b.len())].trim_end();
                check_path(path, PathKind::Path, Roots::ALL).map_err(|e| SyntaxError {
                    offset: start + e.offset,
                    message: e.message,
                })?;
                Ok((Arg::Dynamic, None))
            }
            Some(_) if rest.starts_with("States.") => {
                self.call(depth + 1)?;
                Ok((Arg::Dynamic, None))
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                let start = self.i;
                self.i += 1;
                while self.i < self.b.len()
                    && (self.b[self.i].is_ascii_alphanumeric()
                        || matches!(self.b[self.i], b'.' | b'+' | b'-'))
                {
                    self.i += 1;
                }
                let t = &self.s[start..self.i];
                if t.parse::<f64>().map_or(true, |v| !v.is_finite()) {
                    return err(start, format!("invalid number {t}"));
                }
                Ok((Arg::Num, None))
            }
            Some(_) => {
                for (word, a) in [
                    ("true", Arg::Bool),
                    ("false", Arg::Bool),
                    ("null", Arg::Null),
                ] {
                    if rest.starts_with(word) {
                        self.i += word.len();
                        return Ok((a, None));
                    }
                }
                err(self.i, "an argument is a 'string', a number, true, false, null, a path or an intrinsic function")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> bool {
        check_path(s, PathKind::Path, Roots::ALL).is_ok()
    }
    fn refp(s: &str) -> bool {
        check_path(s, PathKind::Reference, Roots::ALL).is_ok()
    }

    #[test]
    fn paths() {
        for ok in [
            "$",
            "$$",
            "$.a",
            "$.a.b",
            "$['a b']",
            "$.a[0]",
            "$.a[-1:]",
            "$.a[1:3]",
            "$.a[*]",
            "$..a",
            "$.a[?(@.x > 1)]",
            "$.a[0,1]",
            "$$.Execution.Input",
            "$var",
            "$var.a",
            "$.books[-2]",
            "$[(@.length-1)].bar",
            "$.a-b",
            "$.x[?(@.OutputKey == FooBar)].OutputValue",
            "$..[0]",
            "$.*",
        ] {
            assert!(path(ok), "{ok}");
        }
        for bad in [
            ".guid", "..guid", "()", "$...", "$.", "$.a[", "$.a]", "$ .a", "$.a b", "$.a[]",
            "$.a[x]", "bug$.a",
        ] {
            assert!(!path(bad), "{bad}");
        }
    }

    #[test]
    fn reference_paths() {
        assert!(refp("$.a.b[0]['c']"));
        for bad in [
            "$..a",
            "$.a[*]",
            "$.a[0:1]",
            "$.a[?(@.x)]",
            "$.a[0,1]",
            "$.*",
        ] {
            assert!(!refp(bad), "{bad}");
        }
        assert!(check_path("$foo", PathKind::Reference, Roots::INPUT_ONLY).is_err());
        assert!(check_path("$$.x", PathKind::Reference, Roots::INPUT_ONLY).is_err());
        assert!(check_path("$.foo", PathKind::Reference, Roots::INPUT_ONLY).is_ok());
    }

    #[test]
    fn intrinsics() {
        for ok in [
            "States.Format('Welcome to {} {}\\'s playlist.', $.firstName, $.lastName)",
            "States.Array('Foo', 2020, $.someJson, null)",
            "States.ArrayRange(1, 9, 2)",
            "States.JsonMerge($.a, $.b, false)",
            "States.UUID()",
            "States.MathRandom($.start, $.end)",
            "States.Hash($.Data, 'SHA-256')",
            "States.ArrayGetItem($.x[?(@.OutputKey == FooBar)].OutputValue, 0)",
            "States.Format('{}{}', $.field1, $field2)",
            "States.StringToJson(States.JsonToString($.a))",
        ] {
            assert_eq!(check_intrinsic(ok), Ok(()), "{ok}");
        }
        for bad in [
            "States.MathAdd(1,'-1')",
            "States.Nope($.a)",
            "States.UUID(1)",
            "States.Format()",
            "States.Format('x'",
            "States.Format('a\\nb')",
            "States.Hash($.a, 'SHA-2')",
            "States.Array(1) x",
            "States.Array(bogus)",
        ] {
            assert!(check_intrinsic(bad).is_err(), "{bad}");
        }
        let deep = (0..11).fold("$.x".to_string(), |acc, _| {
            format!("States.JsonToString({acc})")
        });
        assert!(check_intrinsic(&deep)
            .unwrap_err()
            .message
            .contains("nested"));
        let ok = (0..10).fold("$.x".to_string(), |acc, _| {
            format!("States.JsonToString({acc})")
        });
        assert_eq!(check_intrinsic(&ok), Ok(()));
        let very_deep = "States.Array(".repeat(100_000);
        assert!(check_intrinsic(&very_deep).is_err());
    }
}
