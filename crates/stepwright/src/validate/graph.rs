//! The shape of the graph: state names, transitions, reachability and terminal states.
//!
//! Each machine, Parallel branch and Map processor is a *scope*: its transitions must stay inside
//! it, its states must be reachable from its `StartAt`, and it must be able to end. State names
//! are unique across the whole machine. Scopes are visited with an explicit stack, so any nesting
//! depth is safe.

use std::borrow::Cow;
use std::collections::hash_map::Entry;

use foldhash::HashMap;
use indexmap::IndexMap;

use super::{Ctx, MAX_STATE_NAME_CHARS};
use crate::diagnostics::{pointer_push, Code, Diagnostic};
use crate::model::{State, StatePlace, States};

pub(crate) struct Scope<'a> {
    /// The pointer of the object holding `StartAt` and `States` ("" for the machine).
    pointer: String,
    start_at: &'a str,
    states: &'a States,
    what: &'static str,
    top: bool,
}

/// Where a missing transition target is elsewhere in the machine: `Some(Some(pointer))` in
/// another scope, `Some(None)` nowhere, `None` not known yet (a streamed machine's later states).
pub(crate) type Elsewhere<'r> = &'r dyn Fn(&str) -> Option<Option<Cow<'r, str>>>;

/// Runs the graph rules.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let m = ctx.machine;
    // Unique names across the whole machine, and each name's own limits.
    let mut seen: HashMap<&str, &str> =
        HashMap::with_capacity_and_hasher(ctx.states.len(), Default::default());
    for p in &ctx.states {
        let first = match seen.entry(p.name) {
            Entry::Occupied(e) => Some(*e.get()),
            Entry::Vacant(e) => {
                e.insert(&p.pointer);
                None
            }
        };
        check_place(p, first, out);
    }
    let elsewhere = |name: &str| Some(seen.get(name).map(|p| Cow::Borrowed(*p)));
    let top = Scope {
        pointer: String::new(),
        start_at: &m.start_at,
        states: &m.states,
        what: "the state machine",
        top: true,
    };
    let undecided = check_scopes(vec![top], ctx.single_state, &elsewhere, out);
    debug_assert!(!undecided, "every name is known");
}

/// The name rules of one place: unique across the machine (`first` is the pointer of an earlier
/// state of the same name, if any), and the name's own limits.
pub(crate) fn check_place(p: &StatePlace<'_>, first: Option<&str>, out: &mut Vec<Diagnostic>) {
    if let Some(first) = first {
        out.push(
            Diagnostic::error(
                Code::DuplicateStateName,
                p.pointer.clone(),
                format!("the state name \"{}\" is already used at {first}", p.name),
            )
            .with_help("state names are unique across the whole machine, including inside Parallel branches and Map processors: rename one"),
        );
    }
    check_name(p.name, &p.pointer, out);
}

/// The scope rules on `scopes` and every scope nested in them, popped last first (a Parallel
/// state's or Map state's inner scopes are visited after its own scope). True when a rule could
/// not be decided because `elsewhere` did not know a name yet.
pub(crate) fn check_scopes(
    mut scopes: Vec<Scope<'_>>,
    single_state: bool,
    elsewhere: Elsewhere<'_>,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let mut undecided = false;
    while let Some(scope) = scopes.pop() {
        let base = pointer_push(&scope.pointer, "States");
        for (name, state) in scope.states {
            push_nested(state, || pointer_push(&base, name), &mut scopes, out);
        }
        let lenient = single_state && scope.top;
        undecided |= check_scope(
            scope.states,
            (&scope.pointer, scope.start_at, scope.what),
            lenient,
            elsewhere,
            out,
        );
    }
    undecided
}

/// The scopes inside `state` (Parallel branches, a Map processor), pushed in definition order,
/// and the error for a Parallel state without branches. `sp` is the state's pointer.
pub(crate) fn push_nested<'a>(
    state: &'a State,
    sp: impl Fn() -> String,
    scopes: &mut Vec<Scope<'a>>,
    out: &mut Vec<Diagnostic>,
) {
    match state {
        State::Parallel(p) => {
            let sp = sp();
            if p.branches.is_empty() {
                no_branches(&sp, out);
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
                return;
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

pub(crate) fn no_branches(sp: &str, out: &mut Vec<Diagnostic>) {
    out.push(
        Diagnostic::error(
            Code::SchemaValidationFailed,
            pointer_push(sp, "Branches"),
            "a Parallel state needs at least one branch",
        )
        .with_help("add a branch: {\"StartAt\": ..., \"States\": {...}}"),
    );
}

/// Where a transition target is written, besides `Next`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    Choice(usize),
    Default,
    Catch(usize),
}

/// What the scope rules read of a state: a [`State`], or what [`Nodes`] kept of a streamed one.
pub(crate) trait AsNode {
    fn kind(&self) -> &'static str;
    /// `Next` and `End`, for the states that have them.
    fn transition(&self) -> Option<(Option<&str>, Option<bool>)>;
    /// Choice rule targets, then Default, then Catch targets, in order.
    fn each_target(&self, f: impl FnMut(Target, &str));
    fn terminal(&self) -> bool;
}

impl AsNode for &State {
    fn kind(&self) -> &'static str {
        super::state_kind(self)
    }
    fn transition(&self) -> Option<(Option<&str>, Option<bool>)> {
        State::transition(self).map(|t| (t.next.as_deref(), t.end))
    }
    fn each_target(&self, mut f: impl FnMut(Target, &str)) {
        if let State::Choice(c) = self {
            for (i, r) in c.choices.iter().enumerate() {
                f(Target::Choice(i), &r.next);
            }
            if let Some(d) = &c.default {
                f(Target::Default, d);
            }
        }
        for (i, c) in self.catchers().iter().enumerate() {
            f(Target::Catch(i), &c.next);
        }
    }
    fn terminal(&self) -> bool {
        self.is_terminal()
    }
}

/// The states of one scope, as the scope rules read them.
pub(crate) trait ScopeStates {
    type Node<'s>: AsNode
    where
        Self: 's;
    fn len(&self) -> usize;
    fn index_of(&self, name: &str) -> Option<usize>;
    /// The name and the state at `i` (definition order).
    fn entry(&self, i: usize) -> (&str, Self::Node<'_>);
}

impl ScopeStates for States {
    type Node<'s> = &'s State;
    fn len(&self) -> usize {
        IndexMap::len(self)
    }
    fn index_of(&self, name: &str) -> Option<usize> {
        self.get_index_of(name)
    }
    fn entry(&self, i: usize) -> (&str, &State) {
        let (k, v) = self.get_index(i).expect("an index below len");
        (k, v)
    }
}

/// A slice of [`Nodes`]' text.
#[derive(Debug, Clone, Copy)]
struct Span(u32, u32);

impl Span {
    const NONE: Span = Span(0, u32::MAX);
    fn get(self) -> Option<Span> {
        (self.1 != u32::MAX).then_some(self)
    }
}

/// What the machine-level scope rules need of the top-level states once the states themselves
/// are gone (the streamed validation keeps this). Names and targets live in one string and the
/// nodes (28 bytes each) in one vector: a 10,000-state machine's nodes take a few hundred
/// kilobytes, read without a cache miss per name.
#[derive(Default)]
pub(crate) struct Nodes {
    text: String,
    nodes: Vec<Node>,
    targets: Vec<(Target, Span)>,
    /// Node indices by name.
    index: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

#[derive(Debug)]
struct Node {
    name: Span,
    /// `Next`, or [`Span::NONE`].
    next: Span,
    /// This node's entries in `targets`: first and count.
    targets: (u32, u32),
    /// Index in [`super::STATE_KINDS`].
    kind: u8,
    /// [`Node::TRANSITION`] and the other flags.
    flags: u8,
}

impl Node {
    /// The state has `Next`/`End` (all types but Choice, Succeed and Fail).
    const TRANSITION: u8 = 1;
    /// `End` is written; its value is [`Node::END_TRUE`].
    const END: u8 = 2;
    const END_TRUE: u8 = 4;
    const TERMINAL: u8 = 8;
    /// A Parallel state without branches.
    const NO_BRANCHES: u8 = 16;

    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

impl Nodes {
    /// Room for about `n` states without growing.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Nodes {
            text: String::with_capacity(n * 8),
            nodes: Vec::with_capacity(n),
            targets: Vec::new(),
            index: hashbrown::HashTable::with_capacity(n),
            hasher: Default::default(),
        }
    }

    fn str(&self, s: Span) -> &str {
        &self.text[s.0 as usize..(s.0 + s.1) as usize]
    }

    fn keep(&mut self, s: &str) -> Span {
        let at = self.text.len();
        self.text.push_str(s);
        Span(at as u32, s.len() as u32)
    }

    fn hash(&self, name: &str) -> u64 {
        hash_name(&self.hasher, name)
    }

    /// Whether a state of this name was kept.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.index_of(name).is_some()
    }

    /// Keeps what the rules need of `state`, named `name`. The name must be new.
    pub(crate) fn push(&mut self, name: &str, state: &State) {
        let i = self.nodes.len() as u32;
        let span = self.keep(name);
        let first = self.targets.len() as u32;
        (&state).each_target(|t, to| {
            let to = self.keep(to);
            self.targets.push((t, to));
        });
        let mut flags = 0;
        let mut next = Span::NONE;
        if let Some(t) = State::transition(state) {
            flags |= Node::TRANSITION;
            if let Some(n) = &t.next {
                next = self.keep(n);
            }
            match t.end {
                Some(true) => flags |= Node::END | Node::END_TRUE,
                Some(false) => flags |= Node::END,
                None => {}
            }
        }
        if state.is_terminal() {
            flags |= Node::TERMINAL;
        }
        if matches!(state, State::Parallel(p) if p.branches.is_empty()) {
            flags |= Node::NO_BRANCHES;
        }
        self.nodes.push(Node {
            name: span,
            next,
            targets: (first, self.targets.len() as u32 - first),
            kind: super::state_kind_index(state) as u8,
            flags,
        });
        self.index_node(i);
    }

    /// Puts node `i` in the index by name.
    fn index_node(&mut self, i: u32) {
        let hash = self.hash(self.str(self.nodes[i as usize].name));
        let Nodes {
            index,
            nodes,
            text,
            hasher,
            ..
        } = self;
        let rehash = |&j: &u32| {
            let s = nodes[j as usize].name;
            hash_name(hasher, &text[s.0 as usize..(s.0 + s.1) as usize])
        };
        index.insert_unique(hash, i, rehash);
    }

    /// Every kept name, in order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|n| self.str(n.name))
    }

    /// Keeps `other`'s states after these; `false` (and some of them kept) when one of their
    /// names is kept already.
    #[must_use]
    pub(crate) fn append(&mut self, other: Nodes) -> bool {
        let shift = |s: Span, by: u32| match s.get() {
            Some(s) => Span(s.0 + by, s.1),
            None => Span::NONE,
        };
        let text = self.text.len() as u32;
        let targets = self.targets.len() as u32;
        self.text.push_str(&other.text);
        self.targets
            .extend(other.targets.into_iter().map(|(t, s)| (t, shift(s, text))));
        self.nodes.reserve(other.nodes.len());
        for n in other.nodes {
            let name = shift(n.name, text);
            if self.contains(self.str(name)) {
                return false;
            }
            let i = self.nodes.len() as u32;
            self.nodes.push(Node {
                name,
                next: shift(n.next, text),
                targets: (n.targets.0 + targets, n.targets.1),
                ..n
            });
            self.index_node(i);
        }
        true
    }

    /// The names of the Parallel states without branches, in order.
    pub(crate) fn without_branches(&self) -> impl Iterator<Item = &str> {
        self.nodes
            .iter()
            .filter(|n| n.has(Node::NO_BRANCHES))
            .map(|n| self.str(n.name))
    }
}

/// A state name's hash in [`Nodes::index`] (one function: the table rehashes with it too).
fn hash_name(hasher: &foldhash::fast::RandomState, name: &str) -> u64 {
    use std::hash::BuildHasher;
    hasher.hash_one(name)
}

/// One of [`Nodes`].
pub(crate) struct NodeRef<'s> {
    nodes: &'s Nodes,
    node: &'s Node,
}

impl AsNode for NodeRef<'_> {
    fn kind(&self) -> &'static str {
        super::STATE_KINDS[self.node.kind as usize]
    }
    fn transition(&self) -> Option<(Option<&str>, Option<bool>)> {
        let n = self.node;
        n.has(Node::TRANSITION).then(|| {
            let end = n.has(Node::END).then(|| n.has(Node::END_TRUE));
            (n.next.get().map(|s| self.nodes.str(s)), end)
        })
    }
    fn each_target(&self, mut f: impl FnMut(Target, &str)) {
        let (first, n) = self.node.targets;
        for (t, to) in &self.nodes.targets[first as usize..(first + n) as usize] {
            f(*t, self.nodes.str(*to));
        }
    }
    fn terminal(&self) -> bool {
        self.node.has(Node::TERMINAL)
    }
}

impl ScopeStates for Nodes {
    type Node<'s> = NodeRef<'s>;
    fn len(&self) -> usize {
        self.nodes.len()
    }
    fn index_of(&self, name: &str) -> Option<usize> {
        let hash = self.hash(name);
        self.index
            .find(hash, |&j| self.str(self.nodes[j as usize].name) == name)
            .map(|&j| j as usize)
    }
    fn entry(&self, i: usize) -> (&str, NodeRef<'_>) {
        let node = &self.nodes[i];
        (self.str(node.name), NodeRef { nodes: self, node })
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

/// The rules of one scope: transition targets exist in it, every state is reachable from
/// `StartAt` and can reach a terminal state. `at` is the scope's pointer, `StartAt` and name in
/// messages. True when a rule could not be decided (see [`check_scopes`]).
pub(crate) fn check_scope<S: ScopeStates + ?Sized>(
    states: &S,
    at: (&str, &str, &'static str),
    lenient: bool,
    elsewhere: Elsewhere<'_>,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let (pointer, start_at, what) = at;
    let mut undecided = false;
    let base = pointer_push(pointer, "States");
    let n = states.len();
    if n == 0 {
        out.push(
            Diagnostic::error(
                Code::SchemaValidationFailed,
                base.clone(),
                format!("{what} has no states"),
            )
            .with_help("add at least one state"),
        );
        return false;
    }
    // Indices are u32 (a scope holds far fewer states): the vectors of a 10,000-state scope
    // then stay within the caches.
    let name = |i: u32| states.entry(i as usize).0;
    // Edges in one flat vector: state i's successors are succ[succ_at[i]..succ_at[i + 1]]
    // (within the scope only), collected while the targets are checked.
    let mut succ: Vec<u32> = Vec::with_capacity(n + n / 4);
    let mut succ_at: Vec<u32> = Vec::with_capacity(n + 1);
    let mut terminal: Vec<bool> = Vec::with_capacity(n);
    // Checks that `name` is in the scope (the pointer is only built when it is not); its index.
    let mut target = |name: &str,
                      pointer: &dyn Fn() -> String,
                      out: &mut Vec<Diagnostic>|
     -> Option<u32> {
        let found = states.index_of(name).map(|i| i as u32);
        if found.is_some() || lenient {
            return found;
        }
        match elsewhere(name) {
            None => undecided = true,
            Some(Some(elsewhere)) => out.push(
                Diagnostic::error(
                    Code::InvalidBranchTransition,
                    pointer(),
                    format!("\"{name}\" is outside {what} (it is at {elsewhere})"),
                )
                .with_help("a transition cannot leave a Parallel branch or Map processor, nor enter one: end the branch and continue after the Parallel/Map state"),
            ),
            Some(None) => {
                let mut d = Diagnostic::error(
                    Code::MissingTransitionTarget,
                    pointer(),
                    format!("there is no state named \"{name}\" in {what}"),
                );
                let names: Vec<&str> = (0..n).map(|i| states.entry(i).0).collect();
                d = match super::suggest(name, &names) {
                    Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
                    None => d.with_help("add the state, or point to an existing one"),
                };
                out.push(d);
            }
        }
        None
    };
    let start = target(start_at, &|| pointer_push(pointer, "StartAt"), out);
    for i in 0..n {
        let (name, state) = states.entry(i);
        succ_at.push(succ.len() as u32);
        terminal.push(state.terminal());
        let sp = || pointer_push(&base, name);
        if let Some((next, end)) = state.transition() {
            match (next, end) {
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
                        format!("{} needs Next or \"End\": true", state.kind()),
                    )
                    .with_help(
                        "add \"Next\": \"<state>\" to continue, or \"End\": true to end here",
                    ),
                ),
                (Some(_), _) => {}
            }
            if let Some(n) = next {
                succ.extend(target(n, &|| pointer_push(&sp(), "Next"), out));
            }
        }
        state.each_target(|t, next| {
            let j = match t {
                Target::Choice(i) => target(next, &|| format!("{}/Choices/{i}/Next", sp()), out),
                Target::Default => target(next, &|| pointer_push(&sp(), "Default"), out),
                Target::Catch(i) => target(next, &|| format!("{}/Catch/{i}/Next", sp()), out),
            };
            succ.extend(j);
        });
    }
    if lenient {
        return undecided;
    }
    // Reachability from StartAt.
    succ_at.push(succ.len() as u32);
    let succ_of = |i: u32| &succ[succ_at[i as usize] as usize..succ_at[i as usize + 1] as usize];
    let reached = flood(n, start, succ_of);
    if start.is_some() {
        for (i, _) in reached.iter().enumerate().filter(|(_, r)| !**r) {
            let name = name(i as u32);
            out.push(
                Diagnostic::error(
                    Code::UnreachableState,
                    pointer_push(&base, name),
                    format!("the state \"{name}\" cannot be reached from StartAt \"{start_at}\""),
                )
                .with_help("point a Next, Choice rule, Default or Catch at it, or remove it"),
            );
        }
    }
    // Terminal states: at least one, and every reachable state can get to one.
    if !terminal.iter().any(|&t| t) {
        out.push(
            Diagnostic::error(
                Code::MissingEndState,
                base.clone(),
                format!("{what} has no terminal state"),
            )
            .with_help("end a path with \"End\": true, a Succeed state or a Fail state"),
        );
        return undecided;
    }
    // Reverse edges, flat too (a counting sort of the edges by target).
    let mut pred_at = vec![0u32; n + 1];
    for &j in &succ {
        pred_at[j as usize + 1] += 1;
    }
    for i in 0..n {
        pred_at[i + 1] += pred_at[i];
    }
    let mut fill = pred_at.clone();
    let mut pred = vec![0u32; succ.len()];
    for i in 0..n as u32 {
        for &j in succ_of(i) {
            let f = &mut fill[j as usize];
            pred[*f as usize] = i;
            *f += 1;
        }
    }
    let pred_of = |i: u32| &pred[pred_at[i as usize] as usize..pred_at[i as usize + 1] as usize];
    let ends = flood(n, (0..n as u32).filter(|&i| terminal[i as usize]), pred_of);
    for i in (0..n).filter(|&i| reached[i] && !ends[i]) {
        let name = name(i as u32);
        out.push(
            Diagnostic::warning(
                Code::NoTerminalState,
                pointer_push(&base, name),
                format!("no path from \"{name}\" leads to a terminal state: executions that get here never end"),
            )
            .with_help("add a way out of the loop (a Choice rule, a Catch, or End: true)"),
        );
    }
    undecided
}

/// Marks every state that can be reached from `from` along `next` (an explicit stack: any
/// length of chain is safe).
fn flood<'e>(
    n: usize,
    from: impl IntoIterator<Item = u32>,
    next: impl Fn(u32) -> &'e [u32],
) -> Vec<bool> {
    let mut marked = vec![false; n];
    let mut stack: Vec<u32> = from.into_iter().collect();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut marked[i as usize], true) {
            continue;
        }
        stack.extend(next(i).iter().copied().filter(|&j| !marked[j as usize]));
    }
    marked
}
