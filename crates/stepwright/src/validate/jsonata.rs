//! JSONata states: every `{% ... %}` string is surrounded exactly and parses; `$states` and
//! JSONata expressions do not appear in JSONPath states.
//!
//! A string is a JSONata expression when it starts with `{%` and ends with `%}` (AWS treats
//! anything else, such as `" {% x %} "`, as a literal). The surround must be exact: a space or
//! line break after `{%` and before `%}`, and something in between.

use serde_json::Value;

use super::{is_substitution, Ctx};
use crate::diagnostics::{pointer_push, Code, Diagnostic};
use crate::model::*;

/// Values nested deeper than this are reported instead of walked.
const MAX_DEPTH: usize = 256;

struct J<'o> {
    out: &'o mut Vec<Diagnostic>,
    subst: bool,
}

impl J<'_> {
    /// Checks every string in a value that may hold expressions.
    fn value(&mut self, v: &Value, ptr: &str, depth: usize) {
        if depth > MAX_DEPTH {
            self.out.push(Diagnostic::error(
                Code::LimitExceeded,
                ptr.to_string(),
                format!("the value is nested more than {MAX_DEPTH} levels deep"),
            ));
            return;
        }
        match v {
            Value::String(s) => self.string(s, ptr),
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    self.value(x, &format!("{ptr}/{i}"), depth + 1);
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    self.value(x, &pointer_push(ptr, k), depth + 1);
                }
            }
            _ => {}
        }
    }

    fn opt(&mut self, v: Option<&Value>, ptr: String) {
        if let Some(v) = v {
            self.value(v, &ptr, 0);
        }
    }

    fn opt_str(&mut self, v: Option<&str>, ptr: String) {
        if let Some(s) = v {
            self.string(s, &ptr);
        }
    }

    fn int(&mut self, v: Option<&IntOrExpr>, ptr: String) {
        if let Some(IntOrExpr::Expr(s)) = v {
            self.string(s, &ptr);
        }
    }

    fn string(&mut self, s: &str, ptr: &str) {
        if let Err((offset, msg, help)) = check_expression_string(s, self.subst) {
            self.out.push(
                Diagnostic::error(
                    Code::InvalidJsonata,
                    ptr.to_string(),
                    format!("{msg} (at character {} of the string)", offset + 1),
                )
                .with_help(help),
            );
        }
    }
}

/// Checks one string of a JSONata state. `Err((offset, message, help))`.
pub(crate) fn check_expression_string(s: &str, subst: bool) -> Result<(), (usize, String, String)> {
    let opens = s.starts_with("{%");
    let closes = s.ends_with("%}");
    if !opens && !closes {
        return Ok(()); // a literal string
    }
    if subst && is_substitution(s) {
        return Ok(());
    }
    if opens && !closes || s.len() < 4 {
        return Err((
            s.len(),
            "the JSONata expression is not closed with %}".into(),
            "write the expression as \"{% <expression> %}\"".into(),
        ));
    }
    if !opens {
        if s.trim_start().starts_with("{%") {
            // Leading whitespace: AWS passes the string literally. Not an error, but surely a slip;
            // the caller cannot warn from here, so accept it as the literal AWS sees.
            return Ok(());
        }
        return Err((
            0,
            "the string ends with %} but does not start with {%".into(),
            "write the expression as \"{% <expression> %}\", or remove the %} to keep a literal"
                .into(),
        ));
    }
    let inner = &s[2..s.len() - 2];
    let starts_ws = inner.starts_with(|c: char| c.is_whitespace());
    let ends_ws = inner.ends_with(|c: char| c.is_whitespace());
    if !starts_ws || !ends_ws {
        return Err((
            if starts_ws { s.len() - 2 } else { 2 },
            "a JSONata expression is written \"{% expression %}\", with a space after {% and before %}".into(),
            "add the spaces: \"{% <expression> %}\"".into(),
        ));
    }
    if inner.trim().is_empty() {
        return Err((
            2,
            "the JSONata expression is empty".into(),
            "write an expression between {% and %}".into(),
        ));
    }
    parse(inner).map_err(|(off, msg)| {
        (
            off + 2,
            format!("JSONata syntax error: {msg}"),
            "fix the expression; see https://docs.jsonata.org".into(),
        )
    })
}

/// Parses a JSONata expression; `Err((offset in the expression, message))`.
fn parse(expr: &str) -> Result<(), (usize, String)> {
    lite::check(expr)
}

/// Runs the JSONata rules on every JSONata state.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let mut j = J {
        out,
        subst: ctx.options.allow_substitutions,
    };
    for p in &ctx.states {
        if p.query_language != QueryLanguage::Jsonata {
            continue;
        }
        let sp = p.pointer.as_str();
        let at = |f: &str| pointer_push(sp, f);
        match p.state {
            State::Pass(s) => {
                j.opt(s.output.as_ref(), at("Output"));
                j.opt(s.result.as_ref(), at("Result"));
                assign(&mut j, s.assign.as_ref(), &at("Assign"));
            }
            State::Task(s) => {
                j.opt(s.arguments.as_ref(), at("Arguments"));
                j.opt(s.output.as_ref(), at("Output"));
                j.int(s.timeout_seconds.as_ref(), at("TimeoutSeconds"));
                j.int(s.heartbeat_seconds.as_ref(), at("HeartbeatSeconds"));
                if let Some(c) = &s.credentials {
                    j.value(&Value::Object(c.clone()), &at("Credentials"), 0);
                }
                assign(&mut j, s.assign.as_ref(), &at("Assign"));
                catchers(&mut j, p.state, sp);
            }
            State::Choice(s) => {
                for (i, r) in s.choices.iter().enumerate() {
                    let rp = format!("{sp}/Choices/{i}");
                    if let Condition::Jsonata(v) = &r.condition {
                        j.value(v, &pointer_push(&rp, "Condition"), 0);
                    }
                    j.opt(r.output.as_ref(), pointer_push(&rp, "Output"));
                    assign(&mut j, r.assign.as_ref(), &pointer_push(&rp, "Assign"));
                }
                j.opt(s.output.as_ref(), at("Output"));
                assign(&mut j, s.assign.as_ref(), &at("Assign"));
            }
            State::Wait(s) => {
                j.int(s.seconds.as_ref(), at("Seconds"));
                j.opt_str(s.timestamp.as_deref(), at("Timestamp"));
                j.opt(s.output.as_ref(), at("Output"));
                assign(&mut j, s.assign.as_ref(), &at("Assign"));
            }
            State::Succeed(s) => j.opt(s.output.as_ref(), at("Output")),
            State::Fail(s) => {
                j.opt_str(s.error.as_deref(), at("Error"));
                j.opt_str(s.cause.as_deref(), at("Cause"));
            }
            State::Parallel(s) => {
                j.opt(s.arguments.as_ref(), at("Arguments"));
                j.opt(s.output.as_ref(), at("Output"));
                assign(&mut j, s.assign.as_ref(), &at("Assign"));
                catchers(&mut j, p.state, sp);
            }
            State::Map(s) => {
                j.opt(s.items.as_ref(), at("Items"));
                j.opt(s.item_selector.as_ref(), at("ItemSelector"));
                j.opt(s.output.as_ref(), at("Output"));
                j.int(s.max_concurrency.as_ref(), at("MaxConcurrency"));
                j.int(
                    s.tolerated_failure_count.as_ref(),
                    at("ToleratedFailureCount"),
                );
                if let Some(NumberOrExpr::Expr(e)) = &s.tolerated_failure_percentage {
                    j.string(e, &at("ToleratedFailurePercentage"));
                }
                j.opt_str(s.label.as_deref(), at("Label"));
                if let Some(r) = &s.item_reader {
                    let rp = at("ItemReader");
                    j.opt(r.arguments.as_ref(), pointer_push(&rp, "Arguments"));
                    if let Some(c) = &r.reader_config {
                        j.int(c.max_items.as_ref(), format!("{rp}/ReaderConfig/MaxItems"));
                    }
                }
                if let Some(b) = &s.item_batcher {
                    let bp = at("ItemBatcher");
                    j.int(
                        b.max_items_per_batch.as_ref(),
                        pointer_push(&bp, "MaxItemsPerBatch"),
                    );
                    j.int(
                        b.max_input_bytes_per_batch.as_ref(),
                        pointer_push(&bp, "MaxInputBytesPerBatch"),
                    );
                    j.opt(b.batch_input.as_ref(), pointer_push(&bp, "BatchInput"));
                }
                if let Some(w) = &s.result_writer {
                    j.opt(w.arguments.as_ref(), format!("{sp}/ResultWriter/Arguments"));
                }
                assign(&mut j, s.assign.as_ref(), &at("Assign"));
                catchers(&mut j, p.state, sp);
            }
        }
    }
}

fn assign(j: &mut J<'_>, a: Option<&Object>, ptr: &str) {
    if let Some(a) = a {
        for (k, v) in a {
            j.value(v, &pointer_push(ptr, k), 0);
        }
    }
}

fn catchers(j: &mut J<'_>, state: &State, sp: &str) {
    for (i, c) in state.catchers().iter().enumerate() {
        let cp = format!("{sp}/Catch/{i}");
        j.opt(c.output.as_ref(), pointer_push(&cp, "Output"));
        assign(j, c.assign.as_ref(), &pointer_push(&cp, "Assign"));
    }
}

/// A light syntax check of JSONata: balanced brackets and strings, no two operands or two binary
/// operators in a row, no JSONPath-only syntax (`[?(`, `@.`). It finds the common mistakes; the
/// full parser in `stepwright-jsonata` replaces it.
mod lite {
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Tok {
        Operand,
        BinOp,
        Open(u8),
        Close,
        Comma,
        Semicolon,
        Colon,
        Question,
        Dot,
        Minus,
        Star,
        Other,
    }

    pub(super) fn check(src: &str) -> Result<(), (usize, String)> {
        let b = src.as_bytes();
        let mut i = 0;
        let mut stack: Vec<(u8, usize)> = Vec::new();
        let mut prev: Option<Tok> = None;
        let mut toks = 0usize;
        while i < b.len() {
            let c = b[i];
            let start = i;
            let tok = match c {
                b' ' | b'\t' | b'\n' | b'\r' => {
                    i += 1;
                    continue;
                }
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    match src[i + 2..].find("*/") {
                        Some(j) => i += j + 4,
                        None => return Err((i, "unterminated comment".into())),
                    }
                    continue;
                }
                b'"' | b'\'' | b'`' => {
                    i += 1;
                    while i < b.len() && b[i] != c {
                        if b[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    if i >= b.len() {
                        return Err((start, "unterminated string".into()));
                    }
                    i += 1;
                    Tok::Operand
                }
                b'0'..=b'9' => {
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                        // 1.5, 1e3 (but not the range operator 1..3)
                        if b[i] == b'.' && b.get(i + 1) == Some(&b'.') {
                            break;
                        }
                        if b[i] == b'.' && !b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                            return Err((start, format!("invalid number {}", &src[start..=i])));
                        }
                        i += 1;
                    }
                    Tok::Operand
                }
                b'/' if !matches!(
                    prev,
                    Some(Tok::Operand) | Some(Tok::Close) | Some(Tok::Star)
                ) =>
                {
                    // A regular expression literal /.../flags.
                    i += 1;
                    let mut class = false;
                    loop {
                        match b.get(i) {
                            None => return Err((start, "unterminated regular expression".into())),
                            Some(b'\\') => i += 2,
                            Some(b'[') => {
                                class = true;
                                i += 1;
                            }
                            Some(b']') => {
                                class = false;
                                i += 1;
                            }
                            Some(b'/') if !class => break,
                            Some(_) => i += 1,
                        }
                    }
                    i += 1;
                    if i == start + 2 {
                        return Err((start, "empty regular expression".into()));
                    }
                    while i < b.len() && b[i].is_ascii_alphabetic() {
                        i += 1;
                    }
                    Tok::Operand
                }
                b'$' => {
                    i += 1;
                    if b.get(i) == Some(&b'$') {
                        i += 1;
                    }
                    while i < b.len()
                        && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80)
                    {
                        i += 1;
                    }
                    Tok::Operand
                }
                b'@' => {
                    if b.get(i + 1) != Some(&b'$') {
                        return Err((
                            i,
                            "@ must be followed by a $variable (this looks like JSONPath)".into(),
                        ));
                    }
                    i += 1;
                    Tok::BinOp
                }
                b'#' => {
                    if b.get(i + 1) != Some(&b'$') {
                        return Err((i, "# must be followed by a $variable".into()));
                    }
                    i += 1;
                    Tok::BinOp
                }
                b'(' | b'[' | b'{' => {
                    if c == b'['
                        && b[i + 1..].iter().find(|x| !x.is_ascii_whitespace()) == Some(&b'?')
                    {
                        return Err((
                            i,
                            "[? is JSONPath filter syntax; JSONata filters are written [condition]"
                                .into(),
                        ));
                    }
                    stack.push((c, i));
                    i += 1;
                    Tok::Open(c)
                }
                b')' | b']' | b'}' => {
                    let want = match c {
                        b')' => b'(',
                        b']' => b'[',
                        _ => b'{',
                    };
                    match stack.pop() {
                        Some((o, _)) if o == want => {}
                        Some((o, at)) => {
                            return Err((
                                i,
                                format!(
                                    "'{}' closes '{}' opened at character {}",
                                    c as char,
                                    o as char,
                                    at + 1
                                ),
                            ))
                        }
                        None => return Err((i, format!("unbalanced '{}'", c as char))),
                    }
                    i += 1;
                    Tok::Close
                }
                b',' => {
                    i += 1;
                    Tok::Comma
                }
                b';' => {
                    i += 1;
                    Tok::Semicolon
                }
                b'?' => {
                    i += 1;
                    if b.get(i) == Some(&b':') || b.get(i) == Some(&b'?') {
                        i += 1;
                        Tok::BinOp
                    } else {
                        Tok::Question
                    }
                }
                b':' => {
                    i += 1;
                    if b.get(i) == Some(&b'=') {
                        i += 1;
                        Tok::BinOp
                    } else {
                        Tok::Colon
                    }
                }
                b'.' => {
                    i += 1;
                    if b.get(i) == Some(&b'.') {
                        i += 1;
                        Tok::BinOp
                    } else {
                        Tok::Dot
                    }
                }
                b'-' => {
                    i += 1;
                    Tok::Minus
                }
                b'*' => {
                    i += 1;
                    if b.get(i) == Some(&b'*') {
                        i += 1;
                    }
                    if matches!(
                        prev,
                        Some(Tok::Operand) | Some(Tok::Close) | Some(Tok::Star)
                    ) {
                        Tok::BinOp // multiplication
                    } else {
                        Tok::Star // a wildcard: a value
                    }
                }
                b'+' | b'/' | b'%' | b'&' | b'=' | b'!' | b'<' | b'>' | b'~' | b'^' | b'|' => {
                    i += 1;
                    while i < b.len() && matches!(b[i], b'=' | b'>') {
                        i += 1;
                    }
                    Tok::BinOp
                }
                c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                    while i < b.len()
                        && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80)
                    {
                        i += 1;
                    }
                    match &src[start..i] {
                        "and" | "or" | "in" => Tok::BinOp,
                        "function" => Tok::Other,
                        _ => Tok::Operand,
                    }
                }
                _ => {
                    let ch = src[i..].chars().next().unwrap_or('?');
                    return Err((i, format!("unexpected character '{ch}'")));
                }
            };
            toks += 1;
            let needs_left = matches!(tok, Tok::BinOp | Tok::Question | Tok::Dot);
            let left_ok = matches!(
                prev,
                Some(Tok::Operand) | Some(Tok::Close) | Some(Tok::Star)
            );
            let binop_star = tok == Tok::BinOp && c == b'*';
            if needs_left
                && !left_ok
                && !binop_star
                && !(tok == Tok::BinOp && (c == b'<' || c == b'>' || c == b'^' || c == b'|'))
            {
                return Err((
                    start,
                    format!("'{}' needs a value before it", &src[start..i]),
                ));
            }
            if tok == Tok::Operand
                && matches!(
                    prev,
                    Some(Tok::Operand) | Some(Tok::Close) | Some(Tok::Star)
                )
                && c.is_ascii_digit()
            {
                return Err((
                    start,
                    format!(
                        "unexpected '{}' after a value (a missing operator?)",
                        &src[start..i]
                    ),
                ));
            }
            prev = Some(tok);
        }
        if let Some((o, at)) = stack.pop() {
            return Err((at, format!("'{}' is never closed", o as char)));
        }
        if toks == 0 {
            return Err((0, "empty expression".into()));
        }
        if matches!(
            prev,
            Some(Tok::BinOp)
                | Some(Tok::Question)
                | Some(Tok::Dot)
                | Some(Tok::Minus)
                | Some(Tok::Comma)
        ) {
            return Err((
                src.trim_end().len().saturating_sub(1),
                "the expression ends with an operator".into(),
            ));
        }
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::check;

        #[test]
        fn accepts_common_expressions() {
            for ok in [
                "10",
                "$states.input",
                "$sum($states.input.items.numbers)",
                "$not(null in $each($states.input.data.address, function($v) { $length($trim($v)) > 0 ? $v : null }))",
                "$exists($states.input.moreData) ? $states.input.moreData : {}",
                "$states.input.items[price > 10].{\"id\": id}",
                "[1..5]",
                "-1",
                "$x := 1; $x * 2",
                "a.*.b",
                "**.c",
                "$states.input ~> $uppercase()",
                "/* note */ 1 + 2",
                "$join($each($inputPayload.data.address, function($v) { $v }), ', ')",
                "$inputPayload.data.firstname & ' ' & $inputPayload.data.lastname",
                "$states.result.isIdentityValid and $states.result.isAddressValid",
                "Account.Order[0].Product ^(>Price)",
                "$round($random() * 10)",
                "$contains('hello$world', /^hello\\$/)",
                "$match(x, /^[a-z/]+$/i)",
                "6 / 2",
                "$partition([1,2,3], 2)",
            ] {
                assert_eq!(check(ok), Ok(()), "{ok}");
            }
        }

        #[test]
        fn rejects_common_mistakes() {
            for bad in [
                "10 + * 2",
                "$sum($states.input.items.numbers",
                "$.store.book[?(@.price < 10)].title",
                "(]",
                "1 +",
                "'open",
                "1 2",
                "420.",
                "/unclosed",
                "",
            ] {
                assert!(check(bad).is_err(), "{bad}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_expression_string as c;

    #[test]
    fn surround() {
        assert!(c("{% 10 %}", true).is_ok());
        assert!(c("plain text", true).is_ok());
        assert!(c(" {% states.input %} ", true).is_ok());
        assert!(c("{% 10 %", true).is_err());
        assert!(c("10 %}", true).is_err());
        assert!(c("{%10%}", true).is_err());
        assert!(c("{%  %}", true).is_err());
        assert!(c("{% \n10         %}", true).is_ok());
        assert_eq!(c("{% 10 + * 2 %}", true).unwrap_err().0, 10);
    }
}
