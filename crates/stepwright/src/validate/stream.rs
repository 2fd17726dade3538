//! Validation while reading: each top-level state is checked as soon as it is read from the
//! text, and then dropped; only what the machine-level graph rules need of it (its name, targets
//! and whether it ends: a [`graph::Node`]) is kept.
//!
//! A large machine is then never held whole, and every rule runs on a state while it is still in
//! the caches: reading a 10,000-state machine and sweeping it once per rule pass cost far more in
//! cache misses than in instructions (the model of a state is about a kilobyte).
//!
//! The report is the one [`super::validate`] gives on the whole machine, in the same order: each
//! pass's diagnostics on one state are the same whether the pass sees that state alone or the
//! whole machine, so they are kept per pass and joined in pass order at the end; the graph rules
//! that need the whole machine run at the end on the kept nodes. When a rule cannot be decided
//! this way — a transition out of a Parallel branch to a state not read yet, or a machine whose
//! `QueryLanguage` comes after its `States` — the caller validates the whole machine instead.

use std::borrow::Cow;

use foldhash::HashMap;

use super::{fields, graph, integrations, jsonata, paths, resource, Ctx, Options, Pass};
use crate::diagnostics::{pointer_push, Diagnostic, ParseError};
use crate::model::json::J;
use crate::model::read::{read_machine_parallel, read_machine_streaming, StateSink};
use crate::model::{QueryLanguage, State, StateMachine, States};

/// The passes that look at one state at a time, in [`super::PASSES`] order (the graph pass comes
/// first there; the machine-level field rules are run once, at the end). A test checks that this
/// list follows `PASSES`: a pass added there must be added here (or to the graph rules).
const STATE_PASSES: [(&str, Pass); 5] = [
    ("fields", fields::check_states),
    ("paths", paths::check),
    ("jsonata", jsonata::check),
    ("resource", resource::check),
    ("integrations", integrations::check_pass),
];

/// What came of validating while reading.
pub(super) enum Outcome {
    /// The report's diagnostics (in pass order, not yet in document order).
    Done(Vec<Diagnostic>),
    /// The text is not for the fast parser: take the `serde_json` route.
    Declined,
    /// Some rule needs the whole machine (see the module comment): read it whole and validate.
    Whole,
}

/// The least text a thread of [`validate_parallel`] gets: about 700 states of the benchmark's
/// chain, some 0.6 ms of work, against some 20 µs to start a thread.
const MIN_SLICE_BYTES: usize = 64 * 1024;

/// Validates `text` while reading it.
pub(super) fn validate_streaming(text: &str, options: &Options) -> Outcome {
    validate_streaming_with(text, options, MIN_SLICE_BYTES)
}

/// [`validate_streaming`], with slices of at least `min_slice_bytes` for the threads.
pub(super) fn validate_streaming_with(
    text: &str,
    options: &Options,
    min_slice_bytes: usize,
) -> Outcome {
    let threads = options.thread_count();
    if threads > 1 && text.len() >= 2 * min_slice_bytes {
        if let Some(out) = validate_parallel(text, options, threads, min_slice_bytes) {
            return out;
        }
    }
    let mut errs = Vec::new();
    let mut s = Streamer::new(options, text.len());
    let Some((machine, streamed)) = read_machine_streaming(text, &mut errs, &mut s) else {
        return Outcome::Declined;
    };
    let machine = match machine {
        Some(m) if errs.is_empty() => m,
        _ => return Outcome::Done(ParseError::new(errs).into_diagnostics()),
    };
    let lang_changed = s
        .lang
        .is_some_and(|l| l != machine.default_query_language());
    if !streamed || lang_changed || s.undecided {
        return Outcome::Whole;
    }
    Outcome::Done(s.finish(&machine))
}

/// [`validate_streaming`] on several threads: each validates a slice of the top-level states
/// as it reads them (see [`read_machine_parallel`]), and their findings are joined in text order.
/// The report is the one-thread report: `None` (validate on one thread) when a slice's findings
/// could depend on another slice, that is when a state name is met in more than one slice (a
/// duplicate, which the one-thread reading reports or declines) or a rule inside a slice could
/// not be decided.
fn validate_parallel(
    text: &str,
    options: &Options,
    threads: usize,
    min_slice_bytes: usize,
) -> Option<Outcome> {
    let mut errs = Vec::new();
    let new_sink = |bytes: usize| Streamer::new(options, bytes);
    let (machine, slices) =
        read_machine_parallel(text, threads, min_slice_bytes, &mut errs, &new_sink)?;
    let mut slices = slices.into_iter();
    let first = slices.next()?;
    let (mut all, mut unread) = (first.sink, first.unread);
    for next in slices {
        // A name met in an earlier slice: what it means (a duplicate state, a transition out of a
        // branch) is decided on one thread. `append` finds the top-level names met twice.
        let known = |n: &str| {
            all.top.contains(n) || all.seen.contains_key(n) || unread.iter().any(|u| u == n)
        };
        let earlier_nested = !all.seen.is_empty() || !unread.is_empty();
        if next.sink.seen.keys().any(|n| known(n))
            || next.unread.iter().any(|n| known(n))
            || (earlier_nested && next.sink.top.names().any(known))
            || !all.append(next.sink)
        {
            return None;
        }
        unread.extend(next.unread);
    }
    // (`append` joins the flags: one slice undecided is enough)
    if all.undecided {
        return None;
    }
    let machine = match machine {
        Some(m) if errs.is_empty() => m,
        _ => return Some(Outcome::Done(ParseError::new(errs).into_diagnostics())),
    };
    if all
        .lang
        .is_some_and(|l| l != machine.default_query_language())
    {
        return Some(Outcome::Whole);
    }
    Some(Outcome::Done(all.finish(&machine)))
}

struct Streamer<'o> {
    options: &'o Options,
    /// A machine without states, with the query language of the machine being read: what the
    /// passes' context needs besides the places.
    one: StateMachine,
    /// The machine's query language, as known when the first state was read.
    lang: Option<QueryLanguage>,
    /// Each of [`STATE_PASSES`]'s diagnostics, in reading order.
    by_pass: [Vec<Diagnostic>; STATE_PASSES.len()],
    /// The graph pass's name rules, in reading order.
    names: Vec<Diagnostic>,
    /// Every state name read so far (nested ones too) and the pointer of its first state.
    seen: HashMap<String, String>,
    /// The top-level states as the machine-level graph rules need them.
    top: graph::Nodes,
    /// The graph rules of the scopes inside each top-level Parallel or Map state.
    nested: Vec<Vec<Diagnostic>>,
    /// A rule could not be decided while reading.
    undecided: bool,
}

impl<'o> Streamer<'o> {
    /// A streamer for a text of `len` bytes.
    fn new(options: &'o Options, len: usize) -> Self {
        Streamer {
            options,
            one: StateMachine {
                comment: None,
                query_language: None,
                start_at: String::new(),
                timeout_seconds: None,
                version: None,
                states: States::default(),
            },
            lang: None,
            by_pass: Default::default(),
            names: Vec::new(),
            seen: HashMap::default(),
            // A state takes some 40 to 200 bytes of text: room for most machines.
            top: graph::Nodes::with_capacity(len / 64),
            nested: Vec::new(),
            undecided: false,
        }
    }

    /// Takes over what `next` found in the states read after these; `false` when a top-level
    /// state name is in both (`self` is then to be dropped).
    #[must_use]
    fn append(&mut self, next: Streamer<'_>) -> bool {
        if !self.top.append(next.top) {
            return false;
        }
        self.lang = self.lang.or(next.lang);
        for (mine, theirs) in self.by_pass.iter_mut().zip(next.by_pass) {
            mine.extend(theirs);
        }
        self.names.extend(next.names);
        self.seen.extend(next.seen);
        self.nested.extend(next.nested);
        self.undecided |= next.undecided;
        true
    }

    /// The report once the whole text is read: the graph pass (its name rules, the machine's
    /// scope, the inner scopes as [`graph::check_scopes`] orders them), then the other passes.
    fn finish(self, machine: &StateMachine) -> Vec<Diagnostic> {
        let mut out = self.names;
        for name in self.top.without_branches() {
            graph::no_branches(&pointer_push("/States", name), &mut out);
        }
        let (seen, top) = (&self.seen, &self.top);
        let elsewhere = |n: &str| match seen.get(n) {
            Some(p) => Some(Some(Cow::Borrowed(p.as_str()))),
            None => Some(
                top.contains(n)
                    .then(|| Cow::Owned(pointer_push("/States", n))),
            ),
        };
        let at = ("", machine.start_at.as_str(), "the state machine");
        graph::check_scope(&self.top, at, false, &elsewhere, &mut out);
        for block in self.nested.into_iter().rev() {
            out.extend(block);
        }
        fields::check_machine(machine, &mut out);
        for d in self.by_pass {
            out.extend(d);
        }
        out
    }
}

/// The machine's query language as written before `States` (JSONPath when it is not).
fn lang_before_states(machine: &[(Cow<'_, str>, J<'_>)]) -> QueryLanguage {
    let jsonata = machine
        .iter()
        .any(|(k, v)| k == "QueryLanguage" && matches!(v, J::String(s) if s == "JSONata"));
    if jsonata {
        QueryLanguage::Jsonata
    } else {
        QueryLanguage::JsonPath
    }
}

impl StateSink for Streamer<'_> {
    fn has(&self, name: &str) -> bool {
        self.top.contains(name)
    }

    fn take(&mut self, machine: &[(Cow<'_, str>, J<'_>)], name: Cow<'_, str>, state: State) {
        if self.lang.is_none() {
            let lang = lang_before_states(machine);
            self.lang = Some(lang);
            self.one.query_language = (lang == QueryLanguage::Jsonata).then_some(lang);
        }
        {
            let lang = self.one.default_query_language();
            // `one` has no states: the passes read the places, and the machine's query language.
            let ctx = Ctx {
                machine: &self.one,
                options: self.options,
                states: StateMachine::places_of(&name, &state, lang),
                single_state: false,
            };
            for ((_, pass), out) in STATE_PASSES.iter().zip(&mut self.by_pass) {
                pass(&ctx, out);
            }
            // The state itself comes first, then the states nested in it.
            let own = ctx.states[0].name;
            let at_top = |n: &str| n == own || self.top.contains(n);
            for p in &ctx.states {
                // Top-level names are in `top` (their pointer is `/States/<name>`); only nested
                // ones need a place in `seen`. A name in `seen` was first met nested, before any
                // top-level state of that name (it is only put there when new).
                let first = match (self.seen.get(p.name), p.depth > 0 && at_top(p.name)) {
                    (Some(first), _) => Some(Cow::Borrowed(first.as_str())),
                    (None, true) => Some(Cow::Owned(pointer_push("/States", p.name))),
                    (None, false) => {
                        if p.depth > 0 {
                            self.seen.insert(p.name.to_owned(), p.pointer.clone());
                        }
                        None
                    }
                };
                graph::check_place(p, first.as_deref(), &mut self.names);
            }
            let mut scopes = Vec::new();
            // A top-level Parallel state without branches is reported with the machine's scope.
            let sp = || pointer_push("/States", &name);
            graph::push_nested(&state, sp, &mut scopes, &mut Vec::new());
            if !scopes.is_empty() {
                let seen = &self.seen;
                // A name not read yet may still come: undecided until the end.
                let elsewhere = |n: &str| match seen.get(n) {
                    Some(p) => Some(Some(Cow::Borrowed(p.as_str()))),
                    None => at_top(n).then(|| Some(Cow::Owned(pointer_push("/States", n)))),
                };
                let mut block = Vec::new();
                self.undecided |= graph::check_scopes(scopes, false, &elsewhere, &mut block);
                self.nested.push(block);
            }
        }
        self.top.push(&name, &state);
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// What validating `text` on `threads` threads with slices of `min_slice_bytes` gives: the
    /// outcome when the threads decided it (`None` when it was left to one thread), with the
    /// one-thread outcome, which it must equal.
    pub(crate) fn parallel_and_one(
        text: &str,
        opts: &Options,
        threads: usize,
        min_slice_bytes: usize,
    ) -> (Option<String>, String) {
        let show = |o: Outcome| match o {
            Outcome::Done(d) => format!("done {d:#?}"),
            Outcome::Declined => "declined".to_string(),
            Outcome::Whole => "whole".to_string(),
        };
        let one = Options {
            threads: 1,
            ..opts.clone()
        };
        let par = validate_parallel(text, opts, threads, min_slice_bytes).map(show);
        (
            par,
            show(validate_streaming_with(text, &one, min_slice_bytes)),
        )
    }

    /// The benchmark's kind of machine, `n` states, with what `edit` does to it.
    fn chain(
        n: usize,
        edit: impl Fn(usize, &mut serde_json::Map<String, serde_json::Value>),
    ) -> String {
        let mut states = serde_json::Map::new();
        for i in 0..n {
            let mut s = serde_json::json!({"Type": "Pass", "Parameters": {"i": i, "v.$": "$.v"}, "ResultPath": "$.r"});
            let o = s.as_object_mut().unwrap();
            if i + 1 == n {
                o.insert("End".into(), true.into());
            } else {
                o.insert("Next".into(), format!("S{}", i + 1).into());
            }
            edit(i, o);
            states.insert(format!("S{i}"), s);
        }
        serde_json::json!({"StartAt": "S0", "States": states}).to_string()
    }

    /// Large machines, valid and not, validated on 1 to 5 threads: the one-thread report every
    /// time, and the threads decide every machine whose slices do not share a name.
    #[test]
    fn threads_report_what_one_thread_reports() {
        use serde_json::json;
        type Edit = Box<dyn Fn(usize, &mut serde_json::Map<String, serde_json::Value>)>;
        // (what, the edit, whether the slices can decide alone)
        let cases: Vec<(&str, Edit, bool)> = vec![
            ("valid", Box::new(|_, _| {}), true),
            (
                "errors in many states",
                Box::new(|i, o| {
                    if i % 47 == 5 {
                        o.insert("Nxt".into(), json!("S1"));
                    } else if i % 43 == 7 {
                        o.insert("ResultPath".into(), json!("$$bad"));
                    }
                }),
                true,
            ),
            (
                "rule errors only",
                Box::new(|i, o| {
                    if i % 47 == 5 {
                        o.insert("InputPath".into(), json!("$.a[?("));
                    } else if i % 43 == 7 {
                        o.insert("Next".into(), json!("Nowhere"));
                    } else if i % 41 == 9 {
                        o.insert("Parameters".into(), json!({"x.$": "States.Format("}));
                    }
                }),
                true,
            ),
            (
                "branches with names and targets of their own",
                Box::new(|i, o| {
                    if i % 50 == 3 {
                        o.insert("Type".into(), json!("Parallel"));
                        o.remove("Parameters");
                        o.insert(
                            "Branches".into(),
                            json!([{"StartAt": format!("B{i}"), "States": {
                            format!("B{i}"): {"Type": "Pass", "Next": format!("C{i}")},
                            format!("C{i}"): {"Type": "Succeed"}}}]),
                        );
                    }
                }),
                true,
            ),
            (
                "a branch state named as a top-level state in another slice",
                Box::new(|i, o| {
                    if i == 2 {
                        o.insert("Type".into(), json!("Parallel"));
                        o.remove("Parameters");
                        o.insert(
                            "Branches".into(),
                            json!([{"StartAt": "S350", "States": {
                            "S2900": {"Type": "Succeed"}}}]),
                        );
                    }
                }),
                false,
            ),
            (
                "a branch transition to a state of an earlier slice",
                Box::new(|i, o| {
                    if i == 380 {
                        o.insert("Type".into(), json!("Parallel"));
                        o.remove("Parameters");
                        o.insert(
                            "Branches".into(),
                            json!([{"StartAt": "B", "States": {
                            "B": {"Type": "Pass", "Next": "S1"}}}]),
                        );
                    }
                }),
                false,
            ),
        ];
        // A top-level name twice, in two slices: the serde_json route reports the duplicate key.
        let text = chain(400, |_, _| {}).replacen(r#""S350":"#, r#""S2":"#, 1);
        let opts = Options::default();
        assert_eq!(
            parallel_and_one(&text, &opts, 2, 2 * 1024),
            (None, "declined".into())
        );
        let report = super::super::validate_str(&text, &opts);
        let codes: Vec<_> = report.diagnostics().iter().map(|d| d.code).collect();
        assert!(codes.contains(&crate::Code::DuplicateJsonKey), "{codes:?}");
        for (what, edit, decided) in cases {
            let text = chain(400, edit);
            // The machine's query language: none, before `States`, after `States` (which sends
            // the one-thread reading to the whole-machine route).
            for lang in 0..3 {
                let text = match lang {
                    0 => text.clone(),
                    1 => text.replacen('{', r#"{"QueryLanguage": "JSONata", "#, 1),
                    _ => format!(
                        r#"{}, "QueryLanguage": "JSONata"}}"#,
                        &text[..text.len() - 1]
                    ),
                };
                for threads in 2..=5 {
                    let opts = Options {
                        threads,
                        ..Options::default()
                    };
                    let (par, one) = parallel_and_one(&text, &opts, threads, 2 * 1024);
                    assert_eq!(par.is_some(), decided, "{what}, {threads} threads");
                    if let Some(par) = par {
                        assert_eq!(par, one, "{what}, {threads} threads");
                    }
                    // The public entry point, whichever way it goes.
                    assert_eq!(
                        super::super::validate_str(&text, &opts),
                        super::super::validate_str(
                            &text,
                            &Options {
                                threads: 1,
                                ..opts.clone()
                            }
                        ),
                        "{what}, {threads} threads"
                    );
                }
            }
        }
    }

    /// Validation while reading runs the graph rules itself, then the other passes of
    /// `PASSES` in their order: a pass added to `PASSES` and not here would be skipped.
    #[test]
    fn the_streamed_passes_follow_the_pass_list() {
        let all: Vec<&str> = super::super::PASSES.iter().map(|(n, _)| *n).collect();
        let here: Vec<&str> = STATE_PASSES.iter().map(|(n, _)| *n).collect();
        assert_eq!(all[0], "graph");
        assert_eq!(
            all[1..],
            here[..],
            "add the new pass to validate::stream (STATE_PASSES, or the graph rules)"
        );
    }
}
