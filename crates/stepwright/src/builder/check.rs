//! Assembly of built fragments into the model, and the checks `build()` runs on the result.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::chain::{Fragment, Node, Subflow};
use crate::diagnostics::{pointer_push, Code, Diagnostic};
use crate::model::*;

/// Turns fragments into model states, reporting duplicate names and the setters' issues.
pub(crate) struct Assembler {
    pub(crate) errors: Vec<Diagnostic>,
    /// Every state name assembled so far, with its pointer (names are machine-wide unique).
    names: HashMap<String, String>,
}

impl Assembler {
    pub(crate) fn new() -> Assembler {
        Assembler {
            errors: Vec::new(),
            names: HashMap::new(),
        }
    }

    /// Assembles the states of one scope (the machine, a branch or a processor). `fragments` are
    /// laid out in order: all their main states first, then all their side (Catch handler)
    /// states.
    pub(crate) fn scope(&mut self, fragments: Vec<Fragment>, base: &str) -> States {
        let mut main = Vec::new();
        let mut side = Vec::new();
        for f in fragments {
            main.extend(f.nodes);
            side.extend(f.side);
        }
        // Pass 1: one node per name. The same state given twice (e.g. one handler cloned
        // into several Catch routes) is one state; two different states with one name are an
        // error.
        let mut unique: Vec<(Node, String)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for mut node in main.into_iter().chain(side) {
            if let Some(t) = node.state.transition_mut() {
                if t.next.is_none() && t.end.is_none() {
                    t.end = Some(true);
                }
            }
            let pointer = pointer_push(base, &node.name);
            if let Some(&i) = index.get(&node.name) {
                let prev = &unique[i].0;
                if *prev != node {
                    self.errors.push(
                        Diagnostic::error(
                            Code::DuplicateStateName,
                            &pointer,
                            format!(
                                "two different states are named \"{}\" ({} and {})",
                                node.name,
                                prev.state.type_name(),
                                node.state.type_name()
                            ),
                        )
                        .with_help("rename one of them; to jump to an existing state, pass its name (a &str) instead of a new state"),
                    );
                }
                continue;
            }
            index.insert(node.name.clone(), unique.len());
            unique.push((node, pointer));
        }
        // Pass 2: machine-wide uniqueness, setter issues, nested branches.
        let mut states = States::with_capacity_and_hasher(unique.len(), Default::default());
        for (node, pointer) in unique {
            if node.name.is_empty() {
                self.errors.push(Diagnostic::error(
                    Code::SchemaValidationFailed,
                    &pointer,
                    "a state name cannot be empty",
                ));
            }
            if let Some(other) = self.names.get(&node.name) {
                self.errors.push(
                    Diagnostic::error(
                        Code::DuplicateStateName,
                        &pointer,
                        format!(
                            "state name \"{}\" is already used at {other}",
                            node.name
                        ),
                    )
                    .with_help("state names must be unique across the whole machine, Parallel branches and Map processors included"),
                );
                // Kept in its own scope, so that its branch is still checked as written.
            } else {
                self.names.insert(node.name.clone(), pointer.clone());
            }
            let Node {
                name,
                state,
                subs,
                legacy_iterator,
                issues,
            } = node;
            for (code, message) in issues {
                self.errors.push(Diagnostic::error(
                    code,
                    &pointer,
                    format!("state \"{name}\": {message}"),
                ));
            }
            let mut state = *state;
            match &mut state {
                State::Parallel(p) => {
                    for (i, sub) in subs.into_iter().enumerate() {
                        let b = self.branch(sub, &format!("{pointer}/Branches/{i}"));
                        p.branches.push(b);
                    }
                }
                State::Map(m) => {
                    if let Some(sub) = subs.into_iter().next() {
                        if legacy_iterator {
                            m.iterator = Some(self.branch(sub, &format!("{pointer}/Iterator")));
                        } else {
                            m.item_processor =
                                Some(self.branch(sub, &format!("{pointer}/ItemProcessor")));
                        }
                    }
                }
                _ => {}
            }
            states.insert(name, state);
        }
        states
    }

    fn branch(&mut self, sub: Subflow, base: &str) -> Branch {
        let start_at = sub.frag.start.clone();
        let states = self.scope(vec![sub.frag], &format!("{base}/States"));
        Branch {
            comment: sub.comment,
            query_language: sub.query_language,
            processor_config: sub.processor_config,
            start_at,
            states,
        }
    }
}

/// The graph checks the builder runs on any machine: targets, reachability, termination, query
/// language fields and Choice operands.
pub(crate) fn check(machine: &StateMachine, errors: &mut Vec<Diagnostic>) {
    let mut all_names: HashMap<&str, String> = HashMap::new();
    machine.walk(|p| {
        all_names.entry(p.name).or_insert_with(|| p.pointer.clone());
    });
    let top = machine.default_query_language();
    let ctx = Ctx {
        all_names: &all_names,
        machine_lang: top,
    };
    ctx.scope(&machine.states, &machine.start_at, "", top, errors);
}

struct Ctx<'a> {
    all_names: &'a HashMap<&'a str, String>,
    machine_lang: QueryLanguage,
}

impl Ctx<'_> {
    fn scope(
        &self,
        states: &States,
        start_at: &str,
        base: &str,
        lang: QueryLanguage,
        errors: &mut Vec<Diagnostic>,
    ) {
        let states_base = format!("{base}/States");
        // Targets.
        if !states.contains_key(start_at) {
            errors.push(self.missing(
                &format!("{base}/StartAt"),
                &format!("StartAt names \"{start_at}\""),
                start_at,
                states,
            ));
        }
        for (name, state) in states {
            let pointer = pointer_push(&states_base, name);
            for target in state.successors() {
                if !states.contains_key(target) {
                    errors.push(self.missing(
                        &pointer,
                        &format!("state \"{name}\" goes to \"{target}\""),
                        target,
                        states,
                    ));
                }
            }
        }
        // Reachability from StartAt.
        let mut reached: HashSet<&str> = HashSet::new();
        if states.contains_key(start_at) {
            let mut stack = vec![start_at];
            while let Some(n) = stack.pop() {
                if !reached.insert(n) {
                    continue;
                }
                if let Some(s) = states.get(n) {
                    stack.extend(
                        s.successors()
                            .into_iter()
                            .filter(|t| states.contains_key(*t)),
                    );
                }
            }
            for name in states.keys() {
                if !reached.contains(name.as_str()) {
                    errors.push(
                        Diagnostic::error(
                            Code::UnreachableState,
                            pointer_push(&states_base, name),
                            format!("state \"{name}\" cannot be reached from \"{start_at}\""),
                        )
                        .with_help("chain it after another state, make it a Choice or Catch target, or remove it"),
                    );
                }
            }
        }
        // Termination: every reachable state must have a path to a terminal state.
        // Backwards from the terminal states over reversed edges (linear in states + edges).
        // A missing target is reported above; its state is not also called endless.
        let mut preds: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut ends: HashSet<&str> = HashSet::new();
        let mut work: Vec<&str> = Vec::new();
        for (name, s) in states {
            let succ = s.successors();
            if s.is_terminal() || succ.iter().any(|t| !states.contains_key(*t)) {
                ends.insert(name);
                work.push(name);
            }
            for t in succ {
                preds.entry(t).or_default().push(name);
            }
        }
        while let Some(n) = work.pop() {
            for p in preds.get(n).map(Vec::as_slice).unwrap_or_default() {
                if ends.insert(p) {
                    work.push(p);
                }
            }
        }
        for name in states.keys() {
            if reached.contains(name.as_str()) && !ends.contains(name.as_str()) {
                errors.push(
                    Diagnostic::error(
                        Code::NoTerminalState,
                        pointer_push(&states_base, name),
                        format!("state \"{name}\" never reaches an end: every path from it loops forever"),
                    )
                    .with_help("give the loop an exit: a Choice rule or Default to a Succeed/Fail state, or a state with End"),
                );
            }
        }
        // Per state: query language fields, Choice operands, nested scopes.
        for (name, state) in states {
            let pointer = pointer_push(&states_base, name);
            let here = state.query_language(lang);
            if self.machine_lang == QueryLanguage::Jsonata && here == QueryLanguage::JsonPath {
                errors.push(
                    Diagnostic::error(
                        Code::QueryLanguageMismatch,
                        format!("{pointer}/QueryLanguage"),
                        format!("state \"{name}\" uses JSONPath, but the machine's QueryLanguage is JSONata"),
                    )
                    .with_help("a JSONata machine cannot contain JSONPath states; make the machine JSONPath and set JSONata per state, or convert this state"),
                );
            }
            for (field, why) in wrong_language_fields(state, here) {
                errors.push(
                    Diagnostic::error(
                        Code::QueryLanguageMismatch,
                        format!("{pointer}/{field}"),
                        format!("state \"{name}\" is a {} state: {why}", here.as_str()),
                    )
                    .with_help(match here {
                        QueryLanguage::Jsonata => "in JSONata states use Arguments, Output, Assign, Items and {% %} expressions; or make this state JSONPath with .jsonpath()",
                        QueryLanguage::JsonPath => "in JSONPath states use InputPath, Parameters, ResultSelector, ResultPath and OutputPath; or make this state JSONata with .jsonata()",
                    }),
                );
            }
            if let State::Choice(c) = state {
                for (i, rule) in c.choices.iter().enumerate() {
                    check_operands(
                        &rule.condition,
                        &format!("{pointer}/Choices/{i}"),
                        name,
                        errors,
                    );
                }
            }
            match state {
                State::Parallel(p) => {
                    for (i, b) in p.branches.iter().enumerate() {
                        self.scope(
                            &b.states,
                            &b.start_at,
                            &format!("{pointer}/Branches/{i}"),
                            b.query_language.unwrap_or(here),
                            errors,
                        );
                    }
                }
                State::Map(m) => {
                    let field = if m.item_processor.is_some() {
                        "ItemProcessor"
                    } else {
                        "Iterator"
                    };
                    if let Some(b) = m.processor() {
                        self.scope(
                            &b.states,
                            &b.start_at,
                            &format!("{pointer}/{field}"),
                            b.query_language.unwrap_or(here),
                            errors,
                        );
                    }
                }
                _ => {}
            }
        }
    }

    fn missing(&self, pointer: &str, what: &str, target: &str, states: &States) -> Diagnostic {
        if let Some(elsewhere) = self.all_names.get(target) {
            Diagnostic::error(
                Code::InvalidBranchTransition,
                pointer,
                format!("{what}, which is outside this branch (at {elsewhere})"),
            )
            .with_help("states in a Parallel branch or Map processor can only go to states of the same branch; end the branch and continue after the Parallel/Map state")
        } else {
            let d = Diagnostic::error(
                Code::MissingTransitionTarget,
                pointer,
                format!("{what}, which does not exist"),
            );
            match closest(target, states.keys().map(String::as_str)) {
                Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
                None => d.with_help("define a state with that name in the same branch"),
            }
        }
    }
}

/// The closest name by edit distance, when it is close enough to be a likely typo.
fn closest<'a>(target: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let t: Vec<char> = target.chars().collect();
    names
        .map(|n| (levenshtein(&t, &n.chars().collect::<Vec<_>>()), n))
        .filter(|(d, n)| *d > 0 && *d * 3 <= t.len().max(n.chars().count()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn is_jsonata_expr(s: &str) -> bool {
    let t = s.trim();
    t.starts_with("{%") && t.ends_with("%}")
}

fn int_expr(v: &Option<IntOrExpr>) -> bool {
    matches!(v, Some(IntOrExpr::Expr(s)) if is_jsonata_expr(s))
}

/// Fields present on `state` that its query language does not allow, with the reason.
fn wrong_language_fields(state: &State, lang: QueryLanguage) -> Vec<(String, String)> {
    let mut out = Vec::new();
    macro_rules! push {
        ($present:expr, $field:expr $(,)?) => {
            if $present {
                let field: &str = $field;
                let why = match lang {
                    QueryLanguage::Jsonata => format!("{field} is a JSONPath field"),
                    QueryLanguage::JsonPath => format!("{field} is a JSONata field"),
                };
                out.push((field.to_string(), why));
            }
        };
    }
    match lang {
        QueryLanguage::Jsonata => {
            macro_rules! jp {
                ($s:expr; $($f:ident => $n:literal),*) => {{ $( push!($s.$f.is_some(), $n); )* }};
            }
            match state {
                State::Pass(s) => {
                    jp!(s; input_path => "InputPath", parameters => "Parameters", result => "Result", result_path => "ResultPath", output_path => "OutputPath")
                }
                State::Task(s) => {
                    jp!(s; input_path => "InputPath", parameters => "Parameters", result_selector => "ResultSelector", result_path => "ResultPath", output_path => "OutputPath", timeout_seconds_path => "TimeoutSecondsPath", heartbeat_seconds_path => "HeartbeatSecondsPath")
                }
                State::Choice(s) => {
                    jp!(s; input_path => "InputPath", output_path => "OutputPath");
                    for (i, r) in s.choices.iter().enumerate() {
                        if !matches!(r.condition, Condition::Jsonata(_)) {
                            out.push((
                                choice_field(i),
                                "its rules take a JSONata Condition, not Variable/And/Or/Not"
                                    .into(),
                            ));
                        }
                    }
                }
                State::Wait(s) => {
                    jp!(s; input_path => "InputPath", output_path => "OutputPath", seconds_path => "SecondsPath", timestamp_path => "TimestampPath")
                }
                State::Succeed(s) => jp!(s; input_path => "InputPath", output_path => "OutputPath"),
                State::Fail(s) => jp!(s; error_path => "ErrorPath", cause_path => "CausePath"),
                State::Parallel(s) => {
                    jp!(s; input_path => "InputPath", parameters => "Parameters", result_selector => "ResultSelector", result_path => "ResultPath", output_path => "OutputPath")
                }
                State::Map(s) => {
                    jp!(s; input_path => "InputPath", items_path => "ItemsPath", parameters => "Parameters", result_selector => "ResultSelector", result_path => "ResultPath", output_path => "OutputPath", max_concurrency_path => "MaxConcurrencyPath", tolerated_failure_count_path => "ToleratedFailureCountPath", tolerated_failure_percentage_path => "ToleratedFailurePercentagePath");
                    if let Some(r) = &s.item_reader {
                        push!(r.parameters.is_some(), "ItemReader/Parameters");
                        push!(
                            r.reader_config
                                .as_ref()
                                .is_some_and(|c| c.max_items_path.is_some()),
                            "ItemReader/ReaderConfig/MaxItemsPath",
                        );
                    }
                    if let Some(b) = &s.item_batcher {
                        push!(
                            b.max_items_per_batch_path.is_some(),
                            "ItemBatcher/MaxItemsPerBatchPath"
                        );
                        push!(
                            b.max_input_bytes_per_batch_path.is_some(),
                            "ItemBatcher/MaxInputBytesPerBatchPath"
                        );
                    }
                    if let Some(w) = &s.result_writer {
                        push!(w.parameters.is_some(), "ResultWriter/Parameters");
                    }
                }
            }
            for (i, c) in state.catchers().iter().enumerate() {
                if c.result_path.is_some() {
                    out.push((
                        catch_field(i),
                        "Catch ResultPath is a JSONPath field".into(),
                    ));
                }
            }
        }
        QueryLanguage::JsonPath => {
            macro_rules! ja {
                ($s:expr; $($f:ident => $n:literal),*) => {{ $( push!($s.$f.is_some(), $n); )* }};
            }
            match state {
                State::Pass(s) => ja!(s; output => "Output"),
                State::Task(s) => {
                    ja!(s; arguments => "Arguments", output => "Output");
                    push!(int_expr(&s.timeout_seconds), "TimeoutSeconds");
                    push!(int_expr(&s.heartbeat_seconds), "HeartbeatSeconds");
                }
                State::Choice(s) => {
                    ja!(s; output => "Output");
                    for (i, r) in s.choices.iter().enumerate() {
                        if matches!(r.condition, Condition::Jsonata(_)) {
                            out.push((
                                choice_field(i),
                                "its rules take Variable/And/Or/Not conditions, not a JSONata Condition".into(),
                            ));
                        }
                        if r.output.is_some() {
                            out.push((
                                choice_field(i),
                                "a rule's Output is a JSONata field".into(),
                            ));
                        }
                    }
                }
                State::Wait(s) => {
                    ja!(s; output => "Output");
                    push!(int_expr(&s.seconds), "Seconds");
                }
                State::Succeed(s) => ja!(s; output => "Output"),
                State::Fail(_) => {}
                State::Parallel(s) => ja!(s; arguments => "Arguments", output => "Output"),
                State::Map(s) => {
                    ja!(s; items => "Items", output => "Output");
                    push!(int_expr(&s.max_concurrency), "MaxConcurrency");
                    push!(
                        int_expr(&s.tolerated_failure_count),
                        "ToleratedFailureCount"
                    );
                    push!(
                        matches!(&s.tolerated_failure_percentage, Some(NumberOrExpr::Expr(e)) if is_jsonata_expr(e)),
                        "ToleratedFailurePercentage",
                    );
                    if let Some(r) = &s.item_reader {
                        push!(r.arguments.is_some(), "ItemReader/Arguments");
                    }
                    if let Some(w) = &s.result_writer {
                        push!(w.arguments.is_some(), "ResultWriter/Arguments");
                    }
                }
            }
            for (i, c) in state.catchers().iter().enumerate() {
                if c.output.is_some() {
                    out.push((catch_field(i), "Catch Output is a JSONata field".into()));
                }
            }
        }
    }
    out
}

fn choice_field(i: usize) -> String {
    format!("Choices/{i}")
}

fn catch_field(i: usize) -> String {
    format!("Catch/{i}")
}

fn check_operands(c: &Condition, pointer: &str, state: &str, errors: &mut Vec<Diagnostic>) {
    match c {
        Condition::And(v) | Condition::Or(v) => {
            let field = if matches!(c, Condition::And(_)) {
                "And"
            } else {
                "Or"
            };
            if v.is_empty() {
                errors.push(Diagnostic::error(
                    Code::SchemaValidationFailed,
                    format!("{pointer}/{field}"),
                    format!("state \"{state}\": {field} needs at least one condition"),
                ));
            }
            for (i, n) in v.iter().enumerate() {
                check_operands(
                    &n.condition,
                    &format!("{pointer}/{field}/{i}"),
                    state,
                    errors,
                );
            }
        }
        Condition::Not(n) => check_operands(&n.condition, &format!("{pointer}/Not"), state, errors),
        Condition::Jsonata(_) => {}
        Condition::Compare {
            operator, value, ..
        } => {
            let ok = match operator.operand() {
                OperandKind::String
                | OperandKind::Timestamp
                | OperandKind::Pattern
                | OperandKind::Path => value.is_string(),
                OperandKind::Number => value.is_number(),
                OperandKind::Boolean => value.is_boolean(),
            };
            if !ok {
                let want = match operator.operand() {
                    OperandKind::String => "a string",
                    OperandKind::Timestamp => "an ISO 8601 timestamp string",
                    OperandKind::Pattern => "a string pattern",
                    OperandKind::Path => "a path string",
                    OperandKind::Number => "a finite number",
                    OperandKind::Boolean => "true or false",
                };
                let found = match value {
                    Value::Null => "null (a NaN or infinite number?)".to_string(),
                    v => v.to_string(),
                };
                errors.push(Diagnostic::error(
                    Code::SchemaValidationFailed,
                    format!("{pointer}/{}", operator.as_str()),
                    format!(
                        "state \"{state}\": {} takes {want}, found {found}",
                        operator.as_str()
                    ),
                ));
            }
        }
    }
}
