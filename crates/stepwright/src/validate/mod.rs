//! The validator: everything AWS checks before it accepts a definition, and more.
//!
//! Two entry points:
//! - [`validate_str`] checks JSON text: syntax (with line and column), duplicate object keys
//!   (which `serde_json` would silently collapse), the definition size limit, the model's strict
//!   parse, then every semantic rule. It returns a [`Report`] whose diagnostics are sorted in
//!   document order and can be rendered with file:line:col and the offending snippet.
//! - [`validate`] checks a [`StateMachine`] built in code (the builder calls it from `build()`).
//!
//! ```
//! use stepwright::validate::{validate_str, Options};
//! use stepwright::Code;
//!
//! let text = r#"{"StartAt": "A", "States": {
//!   "A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "Done"}],
//!         "Default": "Nowhere"},
//!   "Done": {"Type": "Succeed"}}}"#;
//! let report = validate_str(text, &Options::default());
//! assert!(!report.is_valid());
//! let d = &report.diagnostics()[0];
//! assert_eq!(d.code, Code::MissingTransitionTarget);
//! assert_eq!(d.pointer, "/States/A/Default");
//! println!("{}", report.render("machine.asl.json", text));
//! ```
//!
//! The rules live in passes (see [`PASSES`]); each is a function from a [`Ctx`] to diagnostics.
//! Adding a rule family is one line in that list.
//!
//! [`validate_str`] runs the passes on each top-level state as soon as it is read, then drops
//! the state (only what the machine-level graph rules need of it is kept), so a large machine is
//! never held whole and each state is checked while it is in cache; the report is the one
//! [`validate`] gives on the whole machine. A pass that needs more than one state at a time
//! belongs in the graph rules (see the `stream` module).
//!
//! A large definition (128 KiB or more, some 1,400 states of the benchmark's kind) is checked
//! on several threads: its top-level states are cut into slices of at least 64 KiB of text, each
//! read and checked on a thread of its own, and the findings joined in text order. The report is
//! the one-thread report, byte for byte; when a slice's findings could depend on another slice
//! (a state name met in two slices), the definition is checked again on one thread.
//! [`Options::threads`] caps the threads (1 turns this off); the default is one per core.

mod fields;
mod graph;
mod integrations;
mod jsonata;
mod paths;
mod resource;
mod stream;
mod text;

use std::borrow::Cow;

use serde_json::Value;

use crate::diagnostics::{Code, Diagnostic, ParseError, Severity};
use crate::model::json::{self, J};
use crate::model::{ExecutionType, State, StateMachine, StatePlace};
use crate::source::{locate_all, LineIndex, Span};

/// The largest definition AWS accepts, in bytes (`CreateStateMachine`: definition length
/// 1..=1,048,576; the "maximum size of a state machine definition" quota, 1 MB, is hard).
pub const MAX_DEFINITION_BYTES: usize = 1_048_576;

/// The longest state name AWS accepts, in characters.
pub const MAX_STATE_NAME_CHARS: usize = 80;

/// What the validation depends on besides the definition itself.
///
/// ```
/// use stepwright::validate::Options;
/// use stepwright::ExecutionType;
/// let mut opts = Options::default();
/// opts.machine_type = ExecutionType::Express;
/// assert!(opts.allow_substitutions);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The workflow type the definition is for: `STANDARD` (default) or `EXPRESS`. Express
    /// workflows do not support `.sync` and `.waitForTaskToken` integrations or activities.
    pub machine_type: ExecutionType,
    /// Accept `${Name}` SAM/CloudFormation `DefinitionSubstitutions` tokens where a value is
    /// substituted before AWS sees the definition (Resource, numbers, paths). Default: true.
    pub allow_substitutions: bool,
    /// Check the syntax of JSONPath, reference paths and intrinsic functions. Default: true.
    /// (asl-validator's `checkPaths`; turning it off accepts definitions AWS would reject.)
    pub check_paths: bool,
    /// Check the shape of Task `Resource` ARNs. Default: true. (asl-validator's `checkArn`.)
    pub check_resource_arns: bool,
    /// The most threads [`validate_str`] uses on a large definition (one per 64 KiB of states at
    /// most): 0, the default, for one per core; 1 to validate on the calling thread only. The
    /// report is the same whatever the number.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            machine_type: ExecutionType::Standard,
            allow_substitutions: true,
            check_paths: true,
            check_resource_arns: true,
            threads: 0,
        }
    }
}

impl Options {
    /// The threads a validation may use: [`Options::threads`], or one per core when it is 0.
    fn thread_count(&self) -> usize {
        static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        match self.threads {
            0 => *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            n => n,
        }
    }

    /// Options for an EXPRESS workflow.
    pub fn express() -> Self {
        Options {
            machine_type: ExecutionType::Express,
            ..Options::default()
        }
    }
}

/// What a pass sees: the machine, the options and every state with its place.
pub struct Ctx<'a> {
    /// The machine being checked.
    pub machine: &'a StateMachine,
    /// The options.
    pub options: &'a Options,
    /// Every state of the machine (nested ones included), depth first in definition order.
    pub states: Vec<StatePlace<'a>>,
    /// True when checking a single state (the TestState API): transition targets are not
    /// required to exist.
    pub single_state: bool,
}

/// A rule pass: reads the context, appends diagnostics.
pub type Pass = fn(&Ctx<'_>, &mut Vec<Diagnostic>);

/// Every rule pass, run in this order. To add a family of rules, write a `fn(&Ctx, &mut Vec<Diagnostic>)`
/// and add one line here.
pub const PASSES: &[(&str, Pass)] = &[
    ("graph", graph::check),
    ("fields", fields::check),
    ("paths", paths::check),
    ("jsonata", jsonata::check),
    ("resource", resource::check),
    ("integrations", integrations::check_pass),
];

/// Validates a machine built in code (or already parsed): every semantic rule.
///
/// ```
/// use stepwright::validate::{validate, Options};
/// let m = stepwright::StateMachine::from_json(
///     r#"{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 5, "End": true}}}"#,
/// ).unwrap();
/// assert!(validate(&m, &Options::default()).is_empty());
/// ```
pub fn validate(machine: &StateMachine, options: &Options) -> Vec<Diagnostic> {
    run(machine, options, false)
}

fn run(machine: &StateMachine, options: &Options, single_state: bool) -> Vec<Diagnostic> {
    let states = machine.places();
    let ctx = Ctx {
        machine,
        options,
        states,
        single_state,
    };
    let mut out = Vec::new();
    for (_, pass) in PASSES {
        pass(&ctx, &mut out);
    }
    out
}

/// Validates an already parsed JSON value (no syntax or duplicate-key checks: those need the
/// text; see [`validate_str`]).
pub fn validate_value(value: &Value, options: &Options) -> Vec<Diagnostic> {
    match StateMachine::from_value(value) {
        Ok(m) => validate(&m, options),
        Err(e) => e.into_diagnostics(),
    }
}

/// The name given to the single state checked by [`validate_state_str`] inside its wrapper.
const SINGLE: &str = "State";

/// Validates one state on its own, as the `TestState` API does: the state's own rules apply,
/// and its `Next` and Choice targets need not exist.
///
/// ```
/// use stepwright::validate::{validate_state_str, Options};
/// let r = validate_state_str(r#"{"Type": "Pass", "Next": "Elsewhere"}"#, &Options::default());
/// assert!(r.is_valid());
/// let r = validate_state_str(r#"{"Type": "Wait", "End": true}"#, &Options::default());
/// assert_eq!(r.diagnostics()[0].pointer, "");
/// ```
pub fn validate_state_str(text: &str, options: &Options) -> Report {
    validate_state_text(text, options, true)
}

/// [`validate_state_str`], optionally without the one-pass fast path.
fn validate_state_text(text: &str, options: &Options, fast: bool) -> Report {
    let rules = |tree: J<'_>, opts: &Options, out: &mut Vec<Diagnostic>| {
        let wrapped = J::Object(vec![
            (Cow::Borrowed("StartAt"), J::String(Cow::Borrowed(SINGLE))),
            (
                Cow::Borrowed("States"),
                J::Object(vec![(Cow::Borrowed(SINGLE), tree)]),
            ),
        ]);
        let diags = match StateMachine::from_tree(&wrapped) {
            Ok(machine) => run(&machine, opts, true),
            Err(e) => e.into_diagnostics(),
        };
        let prefix = format!("/States/{SINGLE}");
        for mut d in diags {
            if let Some(rest) = d.pointer.strip_prefix(&prefix) {
                d.pointer = rest.to_string();
                out.push(d);
            } else if d.pointer.is_empty() || d.pointer == "/States" {
                d.pointer = String::new();
                out.push(d);
            }
        }
    };
    check_text(
        text,
        options,
        |text, opts, out| {
            // Checked first: with `fast` off, the text is not parsed twice.
            let tree = if fast {
                json::parse(text)?
            } else {
                return None;
            };
            rules(tree, opts, out);
            Some(())
        },
        rules,
    )
}

/// Validates JSON text: syntax, duplicate keys, size, the strict parse, then every rule.
///
/// See the [module documentation](self) for an example.
pub fn validate_str(text: &str, options: &Options) -> Report {
    validate_text(text, options, true)
}

/// [`validate_str`], optionally without the one-pass fast path (the tests compare the two).
fn validate_text(text: &str, options: &Options, fast: bool) -> Report {
    let report =
        |machine: Result<StateMachine, ParseError>, opts: &Options, out: &mut Vec<_>| match machine
        {
            Ok(m) => out.extend(validate(&m, opts)),
            Err(e) => out.extend(e.into_diagnostics()),
        };
    check_text(
        text,
        options,
        |text, opts, out| {
            if !fast {
                return None;
            }
            // Each top-level state is checked as it is read (see `stream`); when a rule needs
            // the whole machine, it is read whole (still without a tree of the whole text).
            match stream::validate_streaming(text, opts) {
                stream::Outcome::Done(d) => out.extend(d),
                stream::Outcome::Declined => return None,
                stream::Outcome::Whole => report(StateMachine::from_text_fast(text)?, opts, out),
            }
            Some(())
        },
        |tree, opts, out| {
            let machine = StateMachine::from_tree(&tree);
            // The tree is not needed any more: freeing it before the passes lets them reuse
            // its memory while it is still in cache.
            drop(tree);
            report(machine, opts, out);
        },
    )
}

/// The checks on the text, then `rules` on the parsed tree. Valid JSON without duplicate keys
/// (nearly every definition) is read in one pass straight from the text; anything else goes
/// through `serde_json`, whose syntax errors are reported, and the duplicate-key scan.
fn check_text(
    text: &str,
    options: &Options,
    fast_rules: impl FnOnce(&str, &Options, &mut Vec<Diagnostic>) -> Option<()>,
    rules: impl FnOnce(J<'_>, &Options, &mut Vec<Diagnostic>),
) -> Report {
    let mut diags = Vec::new();
    if text.len() > MAX_DEFINITION_BYTES {
        diags.push(
            Diagnostic::error(
                Code::SizeLimitExceeded,
                "",
                format!(
                    "the definition is {} bytes; AWS accepts at most {MAX_DEFINITION_BYTES} bytes (1 MiB)",
                    text.len()
                ),
            )
            .with_help("move large static data out of the definition (S3, parameters), or split the workflow into nested state machines"),
        );
    }
    if text.trim().is_empty() {
        diags.push(
            Diagnostic::error(Code::InvalidJson, "", "the definition is empty")
                .with_help(r#"a definition is a JSON object such as {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#),
        );
        return Report::from_text(diags, text, Vec::new());
    }
    // The fast route adds nothing to `diags` when it declines the text.
    if fast_rules(text, options, &mut diags).is_some() {
        return Report::from_text(diags, text, Vec::new());
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let index = LineIndex::new(text);
            let at = index.offset(e.line(), e.column().max(1));
            let span = index.span(at, (at + 1).min(text.len()).max(at));
            let mut msg = e.to_string();
            if let Some(i) = msg.rfind(" at line ") {
                msg.truncate(i);
            }
            let help = if msg.contains("recursion limit") {
                "nesting is limited to 128 levels of objects and arrays"
            } else {
                "fix the JSON syntax (a trailing comma, a missing quote or brace?)"
            };
            diags.push(
                Diagnostic::error(Code::InvalidJson, "", format!("not valid JSON: {msg}"))
                    .with_help(help),
            );
            let last = diags.len() - 1;
            return Report::from_text(diags, text, vec![(last, span)]);
        }
    };
    text::duplicate_keys(text, &mut diags);
    rules(J::from_value(&value), options, &mut diags);
    Report::from_text(diags, text, Vec::new())
}

/// The result of validating a text: diagnostics in document order, each with its place.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    items: Vec<(Diagnostic, Option<Span>)>,
}

impl Report {
    /// A report of diagnostics for a machine that has no text (built in code).
    pub fn new(diagnostics: Vec<Diagnostic>) -> Self {
        Report {
            items: diagnostics.into_iter().map(|d| (d, None)).collect(),
        }
    }

    /// Locates each diagnostic's pointer in `text` and sorts them in document order.
    /// `fixed` gives spans known in advance (by diagnostic index).
    fn from_text(diagnostics: Vec<Diagnostic>, text: &str, fixed: Vec<(usize, Span)>) -> Self {
        if diagnostics.is_empty() {
            return Report { items: Vec::new() };
        }
        let pointers: Vec<&str> = diagnostics.iter().map(|d| d.pointer.as_str()).collect();
        let mut spans = locate_all(text, &pointers);
        for (i, s) in fixed {
            if let Some(slot) = spans.get_mut(i) {
                *slot = Some(s);
            }
        }
        let mut items: Vec<(Diagnostic, Option<Span>)> =
            diagnostics.into_iter().zip(spans).collect();
        items.sort_by_key(|(_, s)| s.map_or(0, |s| s.start));
        Report { items }
    }

    /// Every diagnostic, in document order.
    pub fn diagnostics(&self) -> Vec<&Diagnostic> {
        self.items.iter().map(|(d, _)| d).collect()
    }

    /// Each diagnostic with its place in the text (when it has one).
    pub fn iter(&self) -> impl Iterator<Item = (&Diagnostic, Option<&Span>)> {
        self.items.iter().map(|(d, s)| (d, s.as_ref()))
    }

    /// The diagnostics, consuming the report.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.items.into_iter().map(|(d, _)| d).collect()
    }

    /// True when there is no error (warnings are allowed: AWS accepts the definition).
    pub fn is_valid(&self) -> bool {
        self.error_count() == 0
    }

    /// The number of errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|(d, _)| d.is_error()).count()
    }

    /// The number of warnings.
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// True when there are no diagnostics at all.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Renders every diagnostic for a person, rustc style: the rule, the message, `file:line:col`
    /// with the JSON pointer, the offending line with a caret under the place, and the help line.
    ///
    /// `text` must be the text the report was made from.
    ///
    /// ```
    /// use stepwright::validate::{validate_str, Options};
    /// let text = "{\"StartAt\": \"A\",\n \"States\": {\"A\": {\"Type\": \"Pass\", \"Nxt\": \"B\"}}}";
    /// let out = validate_str(text, &Options::default()).render("m.json", text);
    /// assert!(out.contains("--> m.json:2:35"));
    /// assert!(out.contains("help: did you mean \"Next\"?"));
    /// ```
    pub fn render(&self, file: &str, text: &str) -> String {
        let index = LineIndex::new(text);
        let mut out = String::new();
        for (d, span) in &self.items {
            render_one(&mut out, d, span.as_ref(), file, &index);
        }
        out
    }
}

fn render_one(
    out: &mut String,
    d: &Diagnostic,
    span: Option<&Span>,
    file: &str,
    index: &LineIndex<'_>,
) {
    use std::fmt::Write;
    let sev = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{sev}[{}]: {}", d.code, d.message);
    let pointer = if d.pointer.is_empty() {
        "/"
    } else {
        &d.pointer
    };
    match span {
        Some(s) => {
            let _ = writeln!(out, "  --> {file}:{}:{} (at {pointer})", s.line, s.column);
            let line = index.line_text(s.line);
            let num = s.line.to_string();
            let pad = " ".repeat(num.len());
            // Show at most 160 characters of the line, starting near the column.
            let skip = s.column.saturating_sub(60);
            let shown: String = line.chars().skip(skip).take(160).collect();
            let prefix = if skip > 0 { "..." } else { "" };
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{num} | {prefix}{shown}");
            // Underline the span on this line.
            let end_line = index.line_col(s.end).0;
            let width = if end_line == s.line {
                text_width(index, s)
            } else {
                line.chars().count().saturating_sub(s.column - 1)
            }
            .clamp(1, 160);
            let caret_at = s.column - 1 - skip + prefix.len();
            let _ = writeln!(out, "{pad} | {}{}", " ".repeat(caret_at), "^".repeat(width));
            if let Some(h) = &d.help {
                let _ = writeln!(out, "{pad} = help: {h}");
            }
        }
        None => {
            let _ = writeln!(out, "  --> {file} (at {pointer})");
            if let Some(h) = &d.help {
                let _ = writeln!(out, "   = help: {h}");
            }
        }
    }
    out.push('\n');
}

fn text_width(index: &LineIndex<'_>, s: &Span) -> usize {
    let (_, end_col) = index.line_col(s.end);
    end_col.saturating_sub(s.column)
}

// ---- helpers shared by the passes -------------------------------------------------------------

/// True for a complete `${Name}` DefinitionSubstitutions token (the whole string).
pub(crate) fn is_substitution(s: &str) -> bool {
    s.len() > 3
        && s.starts_with("${")
        && s.ends_with('}')
        && s[2..s.len() - 1]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// True when a string contains `${` without a well-formed token (`${lambdaArn`).
pub(crate) fn has_broken_substitution(s: &str) -> bool {
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j)
                if j > 0
                    && after[..j].chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
                    }) =>
            {
                rest = &after[j + 1..];
            }
            _ => return true,
        }
    }
    false
}

/// True for a JSONata expression string `{% ... %}` (surround only, not its syntax).
pub(crate) fn is_jsonata_expr(s: &str) -> bool {
    s.starts_with("{%") && s.ends_with("%}") && s.len() >= 4
}

pub(crate) fn state_kind(s: &State) -> &'static str {
    STATE_KINDS[state_kind_index(s)]
}

/// What messages call each state type, by [`state_kind_index`].
pub(crate) const STATE_KINDS: [&str; 8] = [
    "a Pass state",
    "a Task state",
    "a Choice state",
    "a Wait state",
    "a Succeed state",
    "a Fail state",
    "a Parallel state",
    "a Map state",
];

/// The state type's index in [`STATE_KINDS`].
pub(crate) fn state_kind_index(s: &State) -> usize {
    match s {
        State::Pass(_) => 0,
        State::Task(_) => 1,
        State::Choice(_) => 2,
        State::Wait(_) => 3,
        State::Succeed(_) => 4,
        State::Fail(_) => 5,
        State::Parallel(_) => 6,
        State::Map(_) => 7,
    }
}

/// The candidate closest to `word` by edit distance, when close enough to be a likely typo.
pub(crate) fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    if word.len() > 200 {
        return None;
    }
    let lw: Vec<char> = word.to_lowercase().chars().collect();
    let mut best: Option<(usize, &str)> = None;
    for &c in candidates {
        if c.len() > 200 {
            continue;
        }
        let cl: Vec<char> = c.to_lowercase().chars().collect();
        let d = levenshtein(&lw, &cl);
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (lw.len().max(3) / 3).max(1);
    (d <= limit && d > 0).then_some(c)
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests;
