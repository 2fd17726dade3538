//! JSONPath-language data flow: path fields, reference paths, payload templates (`.$` keys),
//! intrinsic functions, and duplicate `x` / `x.$` keys.
//!
//! Syntax checks go through [`syntax`], which wraps the path and intrinsic parsers.

use serde_json::Value;

use super::{is_substitution, Ctx};
use crate::diagnostics::{pointer_push, Code, Diagnostic, Ptr};
use crate::model::*;

pub(crate) mod syntax;

use syntax::{PathKind, Roots};

/// Payload templates nested deeper than this are reported instead of walked.
const MAX_TEMPLATE_DEPTH: usize = 256;

struct P<'o> {
    out: &'o mut Vec<Diagnostic>,
    check: bool,
    subst: bool,
}

impl P<'_> {
    /// A field that holds a path (not a template).
    /// `base` is the pointer of the object holding `field`; the field's pointer is only built
    /// when a diagnostic needs it.
    fn path(&mut self, value: Option<&str>, base: &str, field: &str, kind: PathKind, roots: Roots) {
        self.path_at(value, Ptr::Str(base), field, kind, roots);
    }

    /// [`P::path`] under a pointer that is only rendered for a diagnostic.
    fn path_at(
        &mut self,
        value: Option<&str>,
        base: Ptr<'_>,
        field: &str,
        kind: PathKind,
        roots: Roots,
    ) {
        let Some(v) = value else { return };
        let ptr = || Ptr::Key(&base, field).render();
        if self.subst && is_substitution(v) {
            return;
        }
        if v.starts_with("States.") && v.contains('(') {
            if kind == PathKind::PathOrIntrinsic {
                if self.check {
                    if let Err(e) = syntax::check_intrinsic(v) {
                        self.out.push(intrinsic_error(ptr(), field, v, &e));
                    }
                }
                return;
            }
            self.out.push(
                Diagnostic::error(
                    Code::InvalidIntrinsic,
                    ptr(),
                    format!("{field} cannot hold an intrinsic function; it takes a path"),
                )
                .with_help("intrinsic functions are allowed in payload templates (Parameters, ResultSelector, ItemSelector, Assign with .$ keys) and in ErrorPath/CausePath"),
            );
            return;
        }
        if let Some(d) = states_in_jsonpath(v, ptr) {
            self.out.push(d);
            return;
        }
        if !self.check {
            return;
        }
        if let Err(e) = syntax::check_path(v, kind, roots) {
            let what = match kind {
                PathKind::Reference => "a reference path",
                PathKind::Path | PathKind::PathOrIntrinsic => "a JSONPath",
            };
            self.out.push(
                Diagnostic::error(
                    Code::InvalidJsonPath,
                    ptr(),
                    format!(
                        "{field} must be {what}: {} (at character {} of \"{}\")",
                        e.message,
                        e.offset + 1,
                        clip(v)
                    ),
                )
                .with_help(path_help(kind, roots)),
            );
        }
    }

    /// A payload template: `.$` keys take paths or intrinsics; nested objects and arrays recurse.
    fn template(&mut self, v: &Value, ptr: Ptr<'_>, field: &str, depth: usize) {
        if depth > MAX_TEMPLATE_DEPTH {
            self.out.push(Diagnostic::error(
                Code::LimitExceeded,
                ptr.render(),
                format!("{field} is nested more than {MAX_TEMPLATE_DEPTH} levels deep"),
            ));
            return;
        }
        match v {
            Value::Object(m) => self.template_object(m, ptr, field, depth),
            Value::Array(items) => {
                for (i, it) in items.iter().enumerate() {
                    self.template(it, Ptr::Index(&ptr, i), field, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// The entries of a template object (`depth` already checked). Each key's pointer is only
    /// built when a diagnostic or a nested template needs it.
    fn template_object(&mut self, m: &Object, ptr: Ptr<'_>, field: &str, depth: usize) {
        for (k, val) in m {
            let kp = || Ptr::Key(&ptr, k).render();
            if let Some(base) = k.strip_suffix(".$") {
                // Templates are small: a scan is cheaper than hashing the key (serde_json's
                // maps hash with SipHash).
                let has_base = if m.len() <= 16 {
                    m.keys().any(|other| other == base)
                } else {
                    m.contains_key(base)
                };
                if has_base {
                    self.out.push(
                        Diagnostic::error(
                            Code::DuplicatePayloadKey,
                            kp(),
                            format!("\"{k}\" and \"{base}\" both produce the field \"{base}\""),
                        )
                        .with_help(format!(
                            "keep \"{k}\" to read a path, or \"{base}\" for a literal, not both"
                        )),
                    );
                }
                match val {
                    Value::String(s) => {
                        self.path_at(Some(s), ptr, k, PathKind::PathOrIntrinsic, Roots::ALL)
                    }
                    other => self.out.push(
                        Diagnostic::error(
                            Code::InvalidJsonPath,
                            kp(),
                            format!("\"{k}\" ends with .$, so its value must be a path or intrinsic function string, found {}", kind(other)),
                        )
                        .with_help(format!("drop the .$ to pass the value literally: \"{base}\"")),
                    ),
                }
            } else {
                if let Value::String(s) = val {
                    if looks_like_path(s) {
                        self.out.push(
                            Diagnostic::warning(
                                Code::NoDollar,
                                kp(),
                                format!("\"{k}\" holds \"{}\", which looks like a path or intrinsic function but is passed as a literal string", clip(s)),
                            )
                            .with_help(format!("rename the key to \"{k}.$\" to evaluate it")),
                        );
                    }
                }
                // Nested values recurse; a scalar one level past the limit is reported as a
                // nested value would be.
                if matches!(val, Value::Object(_) | Value::Array(_))
                    || depth + 1 > MAX_TEMPLATE_DEPTH
                {
                    self.template(val, Ptr::Key(&ptr, k), field, depth + 1);
                }
            }
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 60 {
        let t: String = s.chars().take(57).collect();
        format!("{t}...")
    } else {
        s.to_string()
    }
}

fn looks_like_path(s: &str) -> bool {
    (s.starts_with("$.") || s.starts_with("$$.") || s.starts_with("$[")) && !s.contains(' ')
        || (s.starts_with("States.") && s.ends_with(')') && s.contains('('))
}

fn path_help(kind: PathKind, roots: Roots) -> String {
    let mut h = match kind {
        PathKind::Reference => "a reference path selects one node: $.a.b, $['a b'], $.list[0] (no wildcards, filters or slices)".to_string(),
        _ => "a JSONPath starts with $ (the input), e.g. $.a.b, $.list[0], $.list[*].id".to_string(),
    };
    if roots.context {
        h.push_str("; $$ is the context object");
    }
    if roots.variables {
        h.push_str("; $name reads a workflow variable");
    }
    h
}

fn intrinsic_error(ptr: String, field: &str, v: &str, e: &syntax::SyntaxError) -> Diagnostic {
    Diagnostic::error(
        Code::InvalidIntrinsic,
        ptr,
        format!("{field}: invalid intrinsic function: {} (at character {} of \"{}\")", e.message, e.offset + 1, clip(v)),
    )
    .with_help("intrinsic functions are States.Name(arg, ...): arguments are 'strings', numbers, true/false/null, paths or nested calls (at most 10 levels)")
}

/// `$states` is JSONata's; in a JSONPath field it is a (reserved) variable that does not exist.
fn states_in_jsonpath(v: &str, ptr: impl FnOnce() -> String) -> Option<Diagnostic> {
    let rest = v.strip_prefix("$states")?;
    if rest.is_empty() || rest.starts_with('.') || rest.starts_with('[') {
        return Some(
            Diagnostic::error(
                Code::QueryLanguageMismatch,
                ptr(),
                "$states is only available in JSONata states",
            )
            .with_help("in JSONPath use $ for the input and $$ for the context object, or make the state JSONata"),
        );
    }
    None
}

/// A nullable path field's path (`None` when absent or null).
fn np(v: &NullablePath) -> Option<&str> {
    v.as_ref().and_then(|x| x.as_deref())
}

/// Runs the path rules on every JSONPath state.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let mut p = P {
        out,
        check: ctx.options.check_paths,
        subst: ctx.options.allow_substitutions,
    };
    for place in &ctx.states {
        if place.query_language != QueryLanguage::JsonPath {
            continue;
        }
        let sp = place.pointer.as_str();
        let spp = Ptr::Str(sp);
        let at = |f: &str| pointer_push(sp, f);
        let input_roots = Roots::ALL;
        let result_roots = Roots::INPUT_ONLY;
        match place.state {
            State::Pass(s) => {
                p.path(
                    np(&s.input_path),
                    sp,
                    "InputPath",
                    PathKind::Path,
                    input_roots,
                );
                p.path(
                    np(&s.result_path),
                    sp,
                    "ResultPath",
                    PathKind::Reference,
                    result_roots,
                );
                p.path(
                    np(&s.output_path),
                    sp,
                    "OutputPath",
                    PathKind::Path,
                    input_roots,
                );
                if let Some(v) = &s.parameters {
                    p.template(v, Ptr::Key(&spp, "Parameters"), "Parameters", 0);
                }
                assign(&mut p, s.assign.as_ref(), || at("Assign"));
            }
            State::Task(s) => {
                p.path(
                    np(&s.input_path),
                    sp,
                    "InputPath",
                    PathKind::Path,
                    input_roots,
                );
                p.path(
                    np(&s.result_path),
                    sp,
                    "ResultPath",
                    PathKind::Reference,
                    result_roots,
                );
                p.path(
                    np(&s.output_path),
                    sp,
                    "OutputPath",
                    PathKind::Path,
                    input_roots,
                );
                p.path(
                    s.timeout_seconds_path.as_deref(),
                    sp,
                    "TimeoutSecondsPath",
                    PathKind::Reference,
                    input_roots,
                );
                p.path(
                    s.heartbeat_seconds_path.as_deref(),
                    sp,
                    "HeartbeatSecondsPath",
                    PathKind::Reference,
                    input_roots,
                );
                if let Some(v) = &s.parameters {
                    p.template(v, Ptr::Key(&spp, "Parameters"), "Parameters", 0);
                }
                if let Some(v) = &s.result_selector {
                    p.template(v, Ptr::Key(&spp, "ResultSelector"), "ResultSelector", 0);
                }
                if let Some(c) = &s.credentials {
                    p.template_object(c, Ptr::Key(&spp, "Credentials"), "Credentials", 0);
                }
                assign(&mut p, s.assign.as_ref(), || at("Assign"));
                catchers(&mut p, place.state, sp);
            }
            State::Choice(s) => {
                p.path(
                    np(&s.input_path),
                    sp,
                    "InputPath",
                    PathKind::Path,
                    input_roots,
                );
                p.path(
                    np(&s.output_path),
                    sp,
                    "OutputPath",
                    PathKind::Path,
                    input_roots,
                );
                for (i, r) in s.choices.iter().enumerate() {
                    let rp = format!("{sp}/Choices/{i}");
                    condition(&mut p, &r.condition, &rp, 0);
                    assign(&mut p, r.assign.as_ref(), || pointer_push(&rp, "Assign"));
                }
                assign(&mut p, s.assign.as_ref(), || at("Assign"));
            }
            State::Wait(s) => {
                p.path(
                    np(&s.input_path),
                    sp,
                    "InputPath",
                    PathKind::Path,
                    input_roots,
                );
                p.path(
                    np(&s.output_path),
                    sp,
                    "OutputPath",
                    PathKind::Path,
                    input_roots,
                );
                p.path(
                    s.seconds_path.as_deref(),
                    sp,
                    "SecondsPath",
                    PathKind::Reference,
                    input_roots,
                );
                p.path(
                    s.timestamp_path.as_deref(),
                    sp,
                    "TimestampPath",
                    PathKind::Reference,
                    input_roots,
                );
                assign(&mut p, s.assign.as_ref(), || at("Assign"));
            }
            State::Succeed(s) => {
                p.path(
                    np(&s.input_path),
                    sp,
                    "InputPath",
                    PathKind::Path,
                    input_roots,
                );
                p.path(
                    np(&s.output_path),
                    sp,
                    "OutputPath",
                    PathKind::Path,
                    input_roots,
                );
            }
            State::Fail(s) => {
                p.path(
                    s.error_path.as_deref(),
                    sp,
                    "ErrorPath",
                    PathKind::PathOrIntrinsic,
                    input_roots,
                );
                p.path(
                    s.cause_path.as_deref(),
                    sp,
                    "CausePath",
                    PathKind::PathOrIntrinsic,
                    input_roots,
                );
            }
            State::Parallel(s) => {
                p.path(
                    np(&s.input_path),
                    sp,
                    "InputPath",
                    PathKind::Path,
                    input_roots,
                );
                p.path(
                    np(&s.result_path),
                    sp,
                    "ResultPath",
                    PathKind::Reference,
                    result_roots,
                );
                p.path(
                    np(&s.output_path),
                    sp,
                    "OutputPath",
                    PathKind::Path,
                    input_roots,
                );
                if let Some(v) = &s.parameters {
                    p.template(v, Ptr::Key(&spp, "Parameters"), "Parameters", 0);
                }
                if let Some(v) = &s.result_selector {
                    p.template(v, Ptr::Key(&spp, "ResultSelector"), "ResultSelector", 0);
                }
                assign(&mut p, s.assign.as_ref(), || at("Assign"));
                catchers(&mut p, place.state, sp);
            }
            State::Map(s) => {
                p.path(
                    np(&s.input_path),
                    sp,
                    "InputPath",
                    PathKind::Path,
                    input_roots,
                );
                p.path(
                    np(&s.result_path),
                    sp,
                    "ResultPath",
                    PathKind::Reference,
                    result_roots,
                );
                p.path(
                    np(&s.output_path),
                    sp,
                    "OutputPath",
                    PathKind::Path,
                    input_roots,
                );
                p.path(
                    s.items_path.as_deref(),
                    sp,
                    "ItemsPath",
                    PathKind::Reference,
                    input_roots,
                );
                p.path(
                    s.max_concurrency_path.as_deref(),
                    sp,
                    "MaxConcurrencyPath",
                    PathKind::Reference,
                    input_roots,
                );
                p.path(
                    s.tolerated_failure_count_path.as_deref(),
                    sp,
                    "ToleratedFailureCountPath",
                    PathKind::Reference,
                    input_roots,
                );
                p.path(
                    s.tolerated_failure_percentage_path.as_deref(),
                    sp,
                    "ToleratedFailurePercentagePath",
                    PathKind::Reference,
                    input_roots,
                );
                for (f, v) in [
                    ("ItemSelector", &s.item_selector),
                    ("Parameters", &s.parameters),
                    ("ResultSelector", &s.result_selector),
                ] {
                    if let Some(v) = v {
                        p.template(v, Ptr::Key(&spp, f), f, 0);
                    }
                }
                if let Some(r) = &s.item_reader {
                    let rp = at("ItemReader");
                    if let Some(v) = &r.parameters {
                        p.template(v, Ptr::Key(&Ptr::Str(&rp), "Parameters"), "Parameters", 0);
                    }
                    if let Some(c) = &r.reader_config {
                        p.path(
                            c.max_items_path.as_deref(),
                            &format!("{rp}/ReaderConfig"),
                            "MaxItemsPath",
                            PathKind::Reference,
                            input_roots,
                        );
                    }
                }
                if let Some(b) = &s.item_batcher {
                    let bp = at("ItemBatcher");
                    p.path(
                        b.max_items_per_batch_path.as_deref(),
                        &bp,
                        "MaxItemsPerBatchPath",
                        PathKind::Reference,
                        input_roots,
                    );
                    p.path(
                        b.max_input_bytes_per_batch_path.as_deref(),
                        &bp,
                        "MaxInputBytesPerBatchPath",
                        PathKind::Reference,
                        input_roots,
                    );
                    if let Some(v) = &b.batch_input {
                        p.template(v, Ptr::Key(&Ptr::Str(&bp), "BatchInput"), "BatchInput", 0);
                    }
                }
                if let Some(w) = &s.result_writer {
                    if let Some(v) = &w.parameters {
                        p.template(
                            v,
                            Ptr::Key(&Ptr::Key(&spp, "ResultWriter"), "Parameters"),
                            "Parameters",
                            0,
                        );
                    }
                }
                assign(&mut p, s.assign.as_ref(), || at("Assign"));
                catchers(&mut p, place.state, sp);
            }
        }
    }
}

fn catchers(p: &mut P<'_>, state: &State, sp: &str) {
    for (i, c) in state.catchers().iter().enumerate() {
        let cp = format!("{sp}/Catch/{i}");
        let rp = c.result_path.as_ref().and_then(|x| x.as_deref());
        p.path(
            rp,
            &cp,
            "ResultPath",
            PathKind::Reference,
            Roots::INPUT_ONLY,
        );
        assign(p, c.assign.as_ref(), || pointer_push(&cp, "Assign"));
    }
}

/// JSONPath `Assign`: like a payload template (keys with `.$` take paths or intrinsics).
fn assign(p: &mut P<'_>, a: Option<&Object>, ptr: impl FnOnce() -> String) {
    if let Some(a) = a {
        p.template_object(a, Ptr::Str(&ptr()), "Assign", 0);
    }
}

fn condition(p: &mut P<'_>, c: &Condition, ptr: &str, depth: usize) {
    if depth > 64 {
        return; // reported by the fields pass
    }
    match c {
        Condition::And(v) | Condition::Or(v) => {
            let key = if matches!(c, Condition::And(_)) {
                "And"
            } else {
                "Or"
            };
            for (i, n) in v.iter().enumerate() {
                condition(p, &n.condition, &format!("{ptr}/{key}/{i}"), depth + 1);
            }
        }
        Condition::Not(n) => condition(p, &n.condition, &pointer_push(ptr, "Not"), depth + 1),
        Condition::Compare {
            variable,
            operator,
            value,
        } => {
            p.path(
                Some(variable),
                ptr,
                "Variable",
                PathKind::Reference,
                Roots::ALL,
            );
            if operator.operand() == OperandKind::Path {
                if let Value::String(s) = value {
                    p.path(
                        Some(s),
                        ptr,
                        operator.as_str(),
                        PathKind::Reference,
                        Roots::ALL,
                    );
                }
            }
        }
        Condition::Jsonata(_) => {}
    }
}
