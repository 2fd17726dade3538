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

/// Parses a JSONata expression with `stepwright_jsonata`; `Err((offset in the expression,
/// message))`. jsonata-js positions count characters and point just past the offending token.
fn parse(expr: &str) -> Result<(), (usize, String)> {
    match stepwright_jsonata::parse(expr) {
        Ok(_) => Ok(()),
        Err(e) => {
            let chars = e.position.saturating_sub(1);
            let offset = expr
                .char_indices()
                .nth(chars)
                .map_or(expr.len(), |(i, _)| i);
            Err((offset, format!("{} [{}]", e.message, e.code)))
        }
    }
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
        assert!(c("{% 10 + * 2 %}", true).is_err());
        assert!(c("{% $sum($states.input.items.numbers %}", true).is_err());
        assert!(c("{% $.store.book[?(@.price < 10)].title %}", true).is_err());
        assert!(c("{% 420. %}", true).is_err());
        assert!(c("{% $round($random() * 10) %}", true).is_ok());
        assert!(c("{% $contains('hello$world', /^hello\\$/) %}", true).is_ok());
    }
}
