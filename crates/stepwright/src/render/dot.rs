//! Graphviz DOT output.

use std::fmt::Write;

use super::graph::{EdgeKind, Graph, Item, Node, NodeKind, Scope};

/// Escapes text for a double-quoted DOT string: `\` and `"` are backslash-escaped, control
/// characters become spaces.
///
/// ```
/// use stepwright::render::dot::escape;
/// assert_eq!(escape(r#"a "b" \ c"#), r#"a \"b\" \\ c"#);
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn attrs(n: &Node) -> String {
    let mut t = escape(&n.label);
    if let Some(d) = &n.detail {
        t.push_str("\\n");
        t.push_str(&escape(d));
    }
    match n.kind {
        NodeKind::Start => {
            "label=\"\", shape=circle, style=filled, fillcolor=\"#333333\", width=0.25".into()
        }
        NodeKind::End => {
            "label=\"\", shape=doublecircle, style=filled, fillcolor=\"#333333\", width=0.18".into()
        }
        NodeKind::Missing => {
            format!("label=\"{t} (missing)\", shape=box, style=dashed, color=\"#c62828\"")
        }
        NodeKind::State(ty) => {
            let shape = match ty {
                "Pass" => "shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\"",
                "Choice" => "shape=diamond, style=filled, fillcolor=\"#fff6dc\"",
                "Wait" => "shape=hexagon, style=filled, fillcolor=\"#eef3fb\"",
                "Succeed" => "shape=oval, style=filled, fillcolor=\"#e3f6e3\"",
                "Fail" => "shape=octagon, style=filled, fillcolor=\"#fde2e2\"",
                "Parallel" => "shape=parallelogram, style=filled, fillcolor=\"#eef3fb\"",
                "Map" => "shape=box3d, style=filled, fillcolor=\"#eef3fb\"",
                _ => "shape=box, style=filled, fillcolor=\"#eef3fb\"",
            };
            format!("label=\"{t}\", {shape}")
        }
    }
}

fn line(out: &mut String, depth: usize, s: &str) {
    for _ in 0..depth {
        out.push_str("  ");
    }
    out.push_str(s);
    out.push('\n');
}

fn node(out: &mut String, depth: usize, n: &Node) {
    line(out, depth, &format!("{} [{}];", n.id, attrs(n)));
}

fn scope(out: &mut String, depth: usize, s: &Scope) {
    node(out, depth, &s.start);
    for item in &s.items {
        match item {
            Item::Node(n) => node(out, depth, n),
            Item::Cluster(c) => {
                line(out, depth, &format!("subgraph cluster_{} {{", c.id));
                line(
                    out,
                    depth + 1,
                    &format!(
                        "label=\"{}\"; style=rounded; color=\"#4a6fa5\";",
                        escape(&c.label)
                    ),
                );
                node(out, depth + 1, &c.node);
                for (id, title, b) in &c.branches {
                    line(out, depth + 1, &format!("subgraph cluster_{id} {{"));
                    line(
                        out,
                        depth + 2,
                        &format!(
                            "label=\"{}\"; style=dashed; color=\"#888888\";",
                            escape(title)
                        ),
                    );
                    scope(out, depth + 2, b);
                    line(out, depth + 1, "}");
                }
                line(out, depth, "}");
            }
        }
    }
    node(out, depth, &s.end);
}

/// Renders a graph as a Graphviz `digraph`.
pub fn render(g: &Graph) -> String {
    let mut out = String::from("digraph StateMachine {\n");
    line(
        &mut out,
        1,
        "graph [rankdir=TB, fontname=\"Helvetica\", fontsize=11];",
    );
    line(&mut out, 1, "node [fontname=\"Helvetica\", fontsize=11];");
    line(&mut out, 1, "edge [fontname=\"Helvetica\", fontsize=10];");
    scope(&mut out, 1, &g.root);
    for e in &g.edges {
        let mut a: Vec<String> = Vec::new();
        if let Some(l) = &e.label {
            a.push(format!("label=\"{}\"", escape(l)));
        }
        match e.kind {
            EdgeKind::Catch => a.push("style=dashed, color=\"#c62828\"".into()),
            EdgeKind::Branch => a.push("style=dotted".into()),
            EdgeKind::Default => a.push("style=bold".into()),
            EdgeKind::Next | EdgeKind::Choice => {}
        }
        let mut s = format!("{} -> {}", e.from, e.to);
        if !a.is_empty() {
            let _ = write!(s, " [{}]", a.join(", "));
        }
        s.push(';');
        line(&mut out, 1, &s);
    }
    out.push_str("}\n");
    out
}
