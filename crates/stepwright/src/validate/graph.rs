//! The shape of the graph: state names, transitions, reachability and terminal states.
//!
//! Each machine, Parallel branch and Map processor is a *scope*: its transitions must stay inside
//! it, its states must be reachable from its `StartAt`, and it must be able to end. State names
//! are unique across the whole machine. Scopes are visited with an explicit stack, so any nesting
//! depth is safe.

use foldhash::HashMap;

use super::{Ctx, MAX_STATE_NAME_CHARS};
use crate::diagnostics::{pointer_push, Code, Diagnostic};
use crate::model::{State, States};

struct Scope<'a> {
    /// The pointer of the object holding `StartAt` and `States` ("" for the machine).
    pointer: String,
    start_at: &'a str,
    states: &'a States,
    what: &'static str,
    top: bool,
}

/// Runs the graph rules.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let m = ctx.machine;
    // Unique names across the whole machine, and each name's own limits.
    let mut seen: HashMap<&str, &str> =
        HashMap::with_capacity_and_hasher(ctx.states.len(), Default::default());
    for p in &ctx.states {
        if let Some(first) = seen.insert(p.name, p.pointer.as_str()) {
            out.push(
                Diagnostic::error(
                    Code::DuplicateStateName,
                    p.pointer.clone(),
                    format!("the state name \"{}\" is already used at {first}", p.name),
                )
                .with_help("state names are unique across the whole machine, including inside Parallel branches and Map processors: rename one"),
            );
            seen.insert(p.name, first);
        }
        check_name(p.name, &p.pointer, out);
    }

    let mut scopes = vec![Scope {
        pointer: String::new(),
        start_at: &m.start_at,
        states: &m.states,
        what: "the state machine",
        top: true,
    }];
    while let Some(scope) = scopes.pop() {
        let base = pointer_push(&scope.pointer, "States");
        for (name, state) in scope.states {
            let sp = || pointer_push(&base, name);
            match state {
                State::Parallel(p) => {
                    let sp = sp();
                    if p.branches.is_empty() {
                        out.push(
                            Diagnostic::error(
                                Code::SchemaValidationFailed,
                                pointer_push(&sp, "Branches"),
                                "a Parallel state needs at least one branch",
                            )
                            .with_help("add a branch: {\"StartAt\": ..., \"States\": {...}}"),
                        );
                    }
                    for (i, b) in p.branches.iter().enumerate() {
                        scopes.push(Scope {
                            pointer: format!("{sp}/Branches/{i}"),
                            start_at: &b.start_at,
                            states: &b.states,
                            what: "this Parallel branch",
                            top: false,
                        });
                    }
                }
                State::Map(mp) => {
                    let Some(proc_) = mp.processor() else {
                        continue;
                    };
                    let field = if mp.item_processor.is_some() {
                        "ItemProcessor"
                    } else {
                        "Iterator"
                    };
                    scopes.push(Scope {
                        pointer: pointer_push(&sp(), field),
                        start_at: &proc_.start_at,
                        states: &proc_.states,
                        what: "this Map processor",
                        top: false,
                    });
                }
                _ => {}
            }
        }
        check_scope(ctx, &scope, &seen, out);
    }
}

fn check_name(name: &str, pointer: &str, out: &mut Vec<Diagnostic>) {
    let n = name.chars().count();
    if n == 0 {
        out.push(
            Diagnostic::error(
                Code::InvalidStateName,
                pointer,
                "a state name must not be empty",
            )
            .with_help("give the state a short descriptive name"),
        );
    } else if n > MAX_STATE_NAME_CHARS {
        out.push(
            Diagnostic::error(
                Code::InvalidStateName,
                pointer,
                format!("the state name is {n} characters long; AWS allows at most {MAX_STATE_NAME_CHARS}"),
            )
            .with_help("shorten the name (and every Next/Default/StartAt that refers to it)"),
        );
    }
    if name.chars().any(|c| c.is_control()) {
        out.push(
            Diagnostic::error(
                Code::InvalidStateName,
                pointer,
                "the state name contains a control character",
            )
            .with_help("state names are printable text"),
        );
    }
}

fn check_scope(
    ctx: &Ctx<'_>,
    scope: &Scope<'_>,
    all_names: &HashMap<&str, &str>,
    out: &mut Vec<Diagnostic>,
) {
    let lenient = ctx.single_state && scope.top;
    let states = scope.states;
    let base = pointer_push(&scope.pointer, "States");
    if states.is_empty() {
        out.push(
            Diagnostic::error(
                Code::SchemaValidationFailed,
                base.clone(),
                format!("{} has no states", scope.what),
            )
            .with_help("add at least one state"),
        );
        return;
    }
    let names: Vec<&str> = states.keys().map(String::as_str).collect();
    // The pointer is only built when the target is missing.
    let target = |name: &str, pointer: &dyn Fn() -> String, out: &mut Vec<Diagnostic>| {
        if states.contains_key(name) || lenient {
            return;
        }
        let pointer = pointer();
        if let Some(elsewhere) = all_names.get(name) {
            out.push(
                Diagnostic::error(
                    Code::InvalidBranchTransition,
                    pointer,
                    format!("\"{name}\" is outside {} (it is at {elsewhere})", scope.what),
                )
                .with_help("a transition cannot leave a Parallel branch or Map processor, nor enter one: end the branch and continue after the Parallel/Map state"),
            );
        } else {
            let mut d = Diagnostic::error(
                Code::MissingTransitionTarget,
                pointer,
                format!("there is no state named \"{name}\" in {}", scope.what),
            );
            d = match super::suggest(name, &names) {
                Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
                None => d.with_help("add the state, or point to an existing one"),
            };
            out.push(d);
        }
    };
    if !states.contains_key(scope.start_at) {
        target(
            scope.start_at,
            &|| pointer_push(&scope.pointer, "StartAt"),
            out,
        );
    }
    for (name, state) in states {
        let sp = || pointer_push(&base, name);
        if let Some(t) = state.transition() {
            match (&t.next, t.end) {
                (Some(_), Some(true)) => out.push(
                    Diagnostic::error(
                        Code::SchemaValidationFailed,
                        pointer_push(&sp(), "End"),
                        "a state has either Next or End: true, not both",
                    )
                    .with_help("remove End to continue with Next, or remove Next to end here"),
                ),
                (None, Some(true)) => {}
                (None, _) => out.push(
                    Diagnostic::error(
                        Code::SchemaValidationFailed,
                        sp(),
                        format!("{} needs Next or \"End\": true", super::state_kind(state)),
                    )
                    .with_help(
                        "add \"Next\": \"<state>\" to continue, or \"End\": true to end here",
                    ),
                ),
                (Some(_), _) => {}
            }
            if let Some(n) = &t.next {
                target(n, &|| pointer_push(&sp(), "Next"), out);
            }
        }
        if let State::Choice(c) = state {
            for (i, r) in c.choices.iter().enumerate() {
                target(&r.next, &|| format!("{}/Choices/{i}/Next", sp()), out);
            }
            if let Some(d) = &c.default {
                target(d, &|| pointer_push(&sp(), "Default"), out);
            }
        }
        for (i, c) in state.catchers().iter().enumerate() {
            target(&c.next, &|| format!("{}/Catch/{i}/Next", sp()), out);
        }
    }
    if lenient {
        return;
    }
    // Reachability from StartAt (successors within the scope only).
    let n = states.len();
    // Edges in one flat vector: state i's successors are succ[succ_at[i]..succ_at[i + 1]].
    let mut succ: Vec<usize> = Vec::with_capacity(n + n / 4);
    let mut succ_at: Vec<usize> = Vec::with_capacity(n + 1);
    for s in states.values() {
        succ_at.push(succ.len());
        s.each_successor(|t| succ.extend(states.get_index_of(t)));
    }
    succ_at.push(succ.len());
    let succ_of = |i: usize| &succ[succ_at[i]..succ_at[i + 1]];
    let mut reached = vec![false; n];
    let mut stack: Vec<usize> = Vec::with_capacity(n);
    stack.extend(states.get_index_of(scope.start_at));
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut reached[i], true) {
            continue;
        }
        stack.extend(succ_of(i).iter().copied().filter(|&j| !reached[j]));
    }
    if states.contains_key(scope.start_at) {
        for (i, (name, _)) in states.iter().enumerate() {
            if !reached[i] {
                out.push(
                    Diagnostic::error(
                        Code::UnreachableState,
                        pointer_push(&base, name),
                        format!(
                            "the state \"{name}\" cannot be reached from StartAt \"{}\"",
                            scope.start_at
                        ),
                    )
                    .with_help("point a Next, Choice rule, Default or Catch at it, or remove it"),
                );
            }
        }
    }
    // Terminal states: at least one, and every reachable state can get to one.
    let terminal: Vec<bool> = states.values().map(State::is_terminal).collect();
    if !terminal.iter().any(|&t| t) {
        out.push(
            Diagnostic::error(
                Code::MissingEndState,
                base.clone(),
                format!("{} has no terminal state", scope.what),
            )
            .with_help("end a path with \"End\": true, a Succeed state or a Fail state"),
        );
        return;
    }
    // Reverse edges, flat too (a counting sort of the edges by target).
    let mut pred_at = vec![0usize; n + 1];
    for &j in &succ {
        pred_at[j + 1] += 1;
    }
    for i in 0..n {
        pred_at[i + 1] += pred_at[i];
    }
    let mut fill = pred_at.clone();
    let mut pred = vec![0usize; succ.len()];
    for i in 0..n {
        for &j in succ_of(i) {
            pred[fill[j]] = i;
            fill[j] += 1;
        }
    }
    let mut ends = vec![false; n];
    stack.clear();
    stack.extend((0..n).filter(|&i| terminal[i]));
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut ends[i], true) {
            continue;
        }
        stack.extend(
            pred[pred_at[i]..pred_at[i + 1]]
                .iter()
                .copied()
                .filter(|&j| !ends[j]),
        );
    }
    for (i, (name, _)) in states.iter().enumerate() {
        if reached[i] && !ends[i] {
            out.push(
                Diagnostic::warning(
                    Code::NoTerminalState,
                    pointer_push(&base, name),
                    format!("no path from \"{name}\" leads to a terminal state: executions that get here never end"),
                )
                .with_help("add a way out of the loop (a Choice rule, a Catch, or End: true)"),
            );
        }
    }
}
