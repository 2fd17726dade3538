//! Chains: sequences of states wired by `Next`, and the typestate that says whether a chain can
//! still be continued.

use std::marker::PhantomData;

use crate::diagnostics::Code;
use crate::model::{ProcessorConfig, QueryLanguage, State};

/// Typestate of a [`Chain`] whose last state(s) can still get a `Next`: call
/// [`Chain::next`] to continue it, or leave it open and it ends there (`End: true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Open;

/// Typestate of a [`Chain`] that cannot be continued: it ends in a Choice, Succeed or Fail
/// state, in a state that was explicitly [ended](Chain::end), or in a jump to a named state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// One state while it is being built: the model state plus what still has to be assembled into
/// it (Parallel branches, the Map processor) and the problems found by its setters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) name: String,
    /// Boxed: a `State` is large (the Map variant is ~1.8 KB) and nodes move between vectors
    /// as chains are joined.
    pub(crate) state: Box<State>,
    /// Parallel branches, or the Map processor (one entry).
    pub(crate) subs: Vec<Subflow>,
    /// Map only: emit the processor as the legacy `Iterator` field.
    pub(crate) legacy_iterator: bool,
    /// Problems a setter could not reject at compile time (a NaN number, ...), reported by
    /// `build()` at this state's pointer.
    pub(crate) issues: Vec<(Code, String)>,
}

impl Node {
    pub(crate) fn new(name: String, state: State) -> Node {
        Node {
            name,
            state: Box::new(state),
            subs: Vec::new(),
            legacy_iterator: false,
            issues: Vec::new(),
        }
    }
}

/// A piece of a state machine: the states of a chain in definition order, the states only
/// reached through Catch routes (`side`, emitted after the others), and the states whose `Next`
/// is still open.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Fragment {
    /// The name of the first state (for a jump, the state jumped to; it is not in `nodes`).
    pub(crate) start: String,
    pub(crate) nodes: Vec<Node>,
    pub(crate) side: Vec<Node>,
    /// Indices into `nodes` of the states whose `Next` is not set yet.
    pub(crate) open: Vec<usize>,
}

impl Fragment {
    /// A fragment of one state; `open` when the state takes `Next`.
    pub(crate) fn single(node: Node, side: Vec<Node>, open: bool) -> Fragment {
        Fragment {
            start: node.name.clone(),
            nodes: vec![node],
            side,
            open: if open { vec![0] } else { Vec::new() },
        }
    }

    /// A jump to a state defined elsewhere.
    pub(crate) fn jump(name: String) -> Fragment {
        Fragment {
            start: name,
            ..Fragment::default()
        }
    }

    /// Sets `Next` of every open state to `target`; afterwards no state is open.
    pub(crate) fn wire_open_to(&mut self, target: &str) {
        for &i in &self.open {
            if let Some(t) = self.nodes[i].state.transition_mut() {
                t.next = Some(target.to_string());
                t.end = None;
            }
        }
        self.open.clear();
    }

    /// Sets `End: true` on every open state.
    pub(crate) fn end_open(&mut self) {
        for &i in &self.open {
            if let Some(t) = self.nodes[i].state.transition_mut() {
                t.next = None;
                t.end = Some(true);
            }
        }
        self.open.clear();
    }

    /// Appends `other`'s states after this fragment's; returns `other`'s open states, re-indexed.
    pub(crate) fn append(&mut self, other: Fragment) -> Vec<usize> {
        let offset = self.nodes.len();
        self.nodes.extend(other.nodes);
        self.side.extend(other.side);
        other.open.into_iter().map(|i| i + offset).collect()
    }

    /// Appends every state of `other` to the side states (Catch handlers).
    pub(crate) fn append_side(side: &mut Vec<Node>, other: Fragment) {
        side.extend(other.nodes);
        side.extend(other.side);
    }
}

/// A sequence of states wired together with `Next`, built with [`Chain::next`] (or the `next`
/// method every state that can have a `Next` offers). `S` is [`Open`] when the chain can be
/// continued and [`Closed`] when it cannot.
///
/// A chain that is still open when the machine is built ends there: its last state gets
/// `End: true` (as the AWS CDK does).
///
/// ```
/// use stepwright::builder::*;
///
/// let chain: Chain = Pass::new("A").next(Pass::new("B"));
/// let closed: Chain<Closed> = chain.next(Succeed::new("Done"));
/// let machine = StateMachine::builder().start(closed).build()?;
/// assert_eq!(machine.start_at, "A");
/// assert_eq!(machine.states.len(), 3);
/// # Ok::<(), stepwright::builder::BuildError>(())
/// ```
///
/// A closed chain has no `next` method, so this does not compile:
///
/// ```compile_fail
/// use stepwright::builder::*;
/// let done = Pass::new("A").end();
/// let _ = done.next(Pass::new("B")); // error: `next` only exists on `Chain<Open>`
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a chain does nothing until it is given to a machine, branch or Choice rule"]
pub struct Chain<S = Open> {
    pub(crate) frag: Fragment,
    _state: PhantomData<S>,
}

impl<S> Chain<S> {
    pub(crate) fn from_fragment(frag: Fragment) -> Chain<S> {
        Chain {
            frag,
            _state: PhantomData,
        }
    }

    /// The name of the chain's first state (for a jump, the state it jumps to).
    pub fn start_name(&self) -> &str {
        &self.frag.start
    }

    /// The names of the states defined by this chain, in definition order (nested branch states
    /// not included).
    pub fn state_names(&self) -> Vec<&str> {
        self.frag
            .nodes
            .iter()
            .chain(&self.frag.side)
            .map(|n| n.name.as_str())
            .collect()
    }
}

impl Chain<Open> {
    /// Continues the chain: every open state of this chain gets `Next` = the first state of
    /// `then`. The result is open or closed as `then` is.
    ///
    /// ```
    /// use stepwright::builder::*;
    /// let chain = Pass::new("A").next(Pass::new("B")).next(Pass::new("C"));
    /// assert_eq!(chain.state_names(), ["A", "B", "C"]);
    /// ```
    pub fn next<C: IntoChain>(mut self, then: C) -> Chain<C::Tail> {
        let other = then.into_chain().frag;
        self.frag.wire_open_to(&other.start);
        let open = self.frag.append(other);
        self.frag.open = open;
        Chain::from_fragment(self.frag)
    }

    /// Ends the chain here: its open states get `End: true`. The result cannot be continued.
    pub fn end(mut self) -> Chain<Closed> {
        self.frag.end_open();
        Chain::from_fragment(self.frag)
    }
}

/// Anything that can be the next step of a chain, a Choice target, a Catch handler, a Parallel
/// branch or a Map processor: a state builder ([`Pass`](super::Pass), [`Task`](super::Task), ...),
/// a [`Chain`], or a state name (`&str` / `String`) to jump to a state defined elsewhere (loops,
/// shared handlers).
///
/// `Tail` says whether the resulting chain can be continued ([`Open`]) or not ([`Closed`]).
pub trait IntoChain {
    /// [`Open`] or [`Closed`].
    type Tail;
    /// Converts into a chain.
    fn into_chain(self) -> Chain<Self::Tail>;
}

impl<S> IntoChain for Chain<S> {
    type Tail = S;
    fn into_chain(self) -> Chain<S> {
        self
    }
}

/// A state name: a jump to the state of that name, defined elsewhere in the same branch.
impl IntoChain for &str {
    type Tail = Closed;
    fn into_chain(self) -> Chain<Closed> {
        Chain::from_fragment(Fragment::jump(self.to_string()))
    }
}

/// A state name: a jump to the state of that name, defined elsewhere in the same branch.
impl IntoChain for String {
    type Tail = Closed;
    fn into_chain(self) -> Chain<Closed> {
        Chain::from_fragment(Fragment::jump(self))
    }
}

/// A state name: a jump to the state of that name, defined elsewhere in the same branch.
impl IntoChain for &String {
    type Tail = Closed;
    fn into_chain(self) -> Chain<Closed> {
        Chain::from_fragment(Fragment::jump(self.clone()))
    }
}

/// A sub-machine: a Parallel branch or a Map processor, with its own `Comment` and
/// `QueryLanguage`. Any chain converts into one; use [`Subflow::new`] to set those fields.
///
/// ```
/// use stepwright::builder::*;
/// let branch = Subflow::new(Pass::new("Inner")).comment("one branch").jsonata();
/// let fan = Parallel::new("Fan").branch(branch).branch(Pass::new("Other"));
/// let m = StateMachine::builder().start(fan).build()?;
/// let State::Parallel(p) = &m.states["Fan"] else { unreachable!() };
/// assert_eq!(p.branches[0].comment.as_deref(), Some("one branch"));
/// # Ok::<(), stepwright::builder::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Subflow {
    pub(crate) frag: Fragment,
    pub(crate) comment: Option<String>,
    pub(crate) query_language: Option<QueryLanguage>,
    /// Set by the Map builder for its processor.
    pub(crate) processor_config: Option<ProcessorConfig>,
}

impl Subflow {
    /// A sub-machine running `chain`.
    pub fn new(chain: impl IntoChain) -> Subflow {
        Subflow {
            frag: chain.into_chain().frag,
            comment: None,
            query_language: None,
            processor_config: None,
        }
    }

    /// Sets the branch's `Comment`.
    pub fn comment(mut self, comment: impl Into<String>) -> Subflow {
        self.comment = Some(comment.into());
        self
    }

    /// Sets the branch's `QueryLanguage` (inherited by its states).
    pub fn query_language(mut self, language: QueryLanguage) -> Subflow {
        self.query_language = Some(language);
        self
    }

    /// Shorthand for `query_language(QueryLanguage::Jsonata)`.
    pub fn jsonata(self) -> Subflow {
        self.query_language(QueryLanguage::Jsonata)
    }

    /// Shorthand for `query_language(QueryLanguage::JsonPath)`.
    pub fn jsonpath(self) -> Subflow {
        self.query_language(QueryLanguage::JsonPath)
    }
}

impl<C: IntoChain> From<C> for Subflow {
    fn from(chain: C) -> Subflow {
        Subflow::new(chain)
    }
}
