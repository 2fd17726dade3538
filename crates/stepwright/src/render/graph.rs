//! The format-neutral graph every renderer draws: nodes (one per state, plus start and end
//! markers per scope), clusters (Parallel and Map states with their branches, nested to any
//! depth) and labelled edges.

use std::collections::HashMap;

use super::label;
use crate::model::{State, StateMachine, States};

/// What a node stands for; renderers pick its shape from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// The start marker of a scope (machine, branch or processor).
    Start,
    /// The end marker of a scope.
    End,
    /// A state of this type (`"Task"`, `"Choice"`, ...; see [`State::type_name`]).
    State(&'static str),
    /// A name some transition targets but no state defines (an invalid definition).
    Missing,
}

/// One node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// An identifier safe in every output format (`s3`, `start0`, ...).
    pub id: String,
    /// The text shown (the state's name, unescaped).
    pub label: String,
    /// What the node is.
    pub kind: NodeKind,
    /// A second, smaller line: for a Task, what it calls (`lambda:invoke`,
    /// `sagemaker:createTrainingJob.sync`, `activity:approve`).
    pub detail: Option<String>,
}

/// What an edge means; renderers pick its style from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// `Next`, and the edges from start markers and to end markers.
    Next,
    /// A Choice rule (labelled with its condition).
    Choice,
    /// A Choice `Default`.
    Default,
    /// A Catch route (labelled with its error names; drawn dashed).
    Catch,
    /// From a Parallel or Map state into one of its branches (drawn dotted).
    Branch,
}

/// One edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Source node id.
    pub from: String,
    /// Target node id.
    pub to: String,
    /// The text on the edge, if any (unescaped, already shortened).
    pub label: Option<String>,
    /// What the edge means.
    pub kind: EdgeKind,
}

/// The states of one scope and their markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The start marker.
    pub start: Node,
    /// The end marker.
    pub end: Node,
    /// The scope's states, in definition order (Parallel and Map states as clusters).
    pub items: Vec<Item>,
}

/// A state in a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A state without sub-machines.
    Node(Node),
    /// A Parallel or Map state with its branches.
    Cluster(Cluster),
}

/// A Parallel or Map state drawn as a box holding the state's node and one box per branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// An identifier safe in every output format.
    pub id: String,
    /// The box's title (`Fan (Parallel)`).
    pub label: String,
    /// The state's own node.
    pub node: Node,
    /// Each branch (Parallel) or the processor (Map): an id, a title and the scope.
    pub branches: Vec<(String, String, Scope)>,
}

/// The whole drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// The machine's scope.
    pub root: Scope,
    /// Every edge, in a stable order.
    pub edges: Vec<Edge>,
}

impl Graph {
    /// Builds the graph of a machine. Never fails: targets that do not exist become
    /// [`NodeKind::Missing`] nodes.
    pub fn of(machine: &StateMachine) -> Graph {
        let mut b = GraphBuilder {
            edges: Vec::new(),
            next_state: 0,
            next_scope: 0,
        };
        let root = b.scope(&machine.states, &machine.start_at);
        Graph {
            root,
            edges: b.edges,
        }
    }

    /// Every state node, depth first in definition order (markers and missing targets excluded).
    pub fn state_nodes(&self) -> Vec<&Node> {
        fn go<'a>(s: &'a Scope, out: &mut Vec<&'a Node>) {
            for item in &s.items {
                match item {
                    Item::Node(n) => {
                        if matches!(n.kind, NodeKind::State(_)) {
                            out.push(n)
                        }
                    }
                    Item::Cluster(c) => {
                        out.push(&c.node);
                        for (_, _, b) in &c.branches {
                            go(b, out);
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        go(&self.root, &mut out);
        out
    }
}

struct GraphBuilder {
    edges: Vec<Edge>,
    next_state: usize,
    next_scope: usize,
}

impl GraphBuilder {
    fn edge(&mut self, from: &str, to: &str, label: Option<String>, kind: EdgeKind) {
        self.edges.push(Edge {
            from: from.to_string(),
            to: to.to_string(),
            label,
            kind,
        });
    }

    fn scope(&mut self, states: &States, start_at: &str) -> Scope {
        let k = self.next_scope;
        self.next_scope += 1;
        let start = Node {
            id: format!("start{k}"),
            label: "Start".into(),
            kind: NodeKind::Start,
            detail: None,
        };
        let end = Node {
            id: format!("stop{k}"),
            label: "End".into(),
            kind: NodeKind::End,
            detail: None,
        };
        // Ids first, so that edges can point forward.
        let mut ids: HashMap<&str, String> = HashMap::new();
        for name in states.keys() {
            ids.insert(name, format!("s{}", self.next_state));
            self.next_state += 1;
        }
        let mut missing: Vec<Node> = Vec::new();
        let resolve = |name: &str, missing: &mut Vec<Node>| -> String {
            if let Some(id) = ids.get(name) {
                return id.clone();
            }
            if let Some(n) = missing.iter().find(|n| n.label == name) {
                return n.id.clone();
            }
            let id = format!("missing{k}_{}", missing.len());
            missing.push(Node {
                id: id.clone(),
                label: name.to_string(),
                kind: NodeKind::Missing,
                detail: None,
            });
            id
        };
        let first = resolve(start_at, &mut missing);
        self.edge(&start.id, &first, None, EdgeKind::Next);
        let mut items = Vec::new();
        for (name, state) in states {
            let id = resolve(name, &mut missing);
            let node = Node {
                id: id.clone(),
                label: name.clone(),
                kind: NodeKind::State(state.type_name()),
                detail: match state {
                    State::Task(t) => Some(label::resource(&t.resource)),
                    _ => None,
                },
            };
            // Outgoing edges, in a fixed order: Next / rules / Default, then Catch, then End.
            match state {
                State::Choice(c) => {
                    for rule in &c.choices {
                        let to = resolve(&rule.next, &mut missing);
                        let text = label::condition(&rule.condition);
                        self.edge(&id, &to, Some(text), EdgeKind::Choice);
                    }
                    if let Some(d) = &c.default {
                        let to = resolve(d, &mut missing);
                        self.edge(&id, &to, Some("Default".into()), EdgeKind::Default);
                    }
                }
                s => {
                    if let Some(n) = s.transition().and_then(|t| t.next.as_deref()) {
                        let to = resolve(n, &mut missing);
                        self.edge(&id, &to, None, EdgeKind::Next);
                    }
                }
            }
            for c in state.catchers() {
                let to = resolve(&c.next, &mut missing);
                let text = label::shorten(&c.error_equals.join(", "));
                self.edge(&id, &to, Some(text), EdgeKind::Catch);
            }
            if state.is_terminal() {
                self.edge(&id, &end.id, None, EdgeKind::Next);
            }
            let branches = match state {
                State::Parallel(p) => p
                    .branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| (format!("Branch {}", i + 1), b))
                    .collect::<Vec<_>>(),
                State::Map(m) => m
                    .processor()
                    .map(|b| {
                        let title = if m.is_distributed() {
                            "Item processor (distributed)"
                        } else {
                            "Item processor"
                        };
                        vec![(title.to_string(), b)]
                    })
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            if matches!(state, State::Parallel(_) | State::Map(_)) {
                let mut subs = Vec::new();
                for (i, (title, b)) in branches.into_iter().enumerate() {
                    // The edge into the branch comes before the branch's own edges.
                    let at = self.edges.len();
                    self.edge(&id, "", None, EdgeKind::Branch);
                    let scope = self.scope(&b.states, &b.start_at);
                    self.edges[at].to = scope.start.id.clone();
                    subs.push((format!("{id}_b{i}"), title, scope));
                }
                items.push(Item::Cluster(Cluster {
                    id: format!("{id}_c"),
                    label: format!("{name} ({})", state.type_name()),
                    node,
                    branches: subs,
                }));
            } else {
                items.push(Item::Node(node));
            }
        }
        items.extend(missing.into_iter().map(Item::Node));
        Scope { start, end, items }
    }
}
