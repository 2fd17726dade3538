//! Mermaid flowchart output.

use std::fmt::Write;

use super::graph::{EdgeKind, Graph, Item, Node, NodeKind, Scope};

/// Escapes text for a double-quoted Mermaid string: characters Mermaid or its HTML labels would
/// interpret become numeric entity codes (`#34;` for `"`), control characters become spaces.
///
/// ```
/// use stepwright::render::mermaid::escape;
/// assert_eq!(escape(r#"say "hi" <b> #1"#), "say #34;hi#34; #60;b> #35;1");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '#' | '&' | '<' | '`' | '|' | '%' | '\\' => {
                let _ = write!(out, "#{};", c as u32);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn node_decl(n: &Node) -> String {
    let mut t = escape(&n.label);
    if let Some(d) = &n.detail {
        t.push_str("<br/>");
        t.push_str(&escape(d));
    }
    match n.kind {
        NodeKind::Start => format!("{}((\"{t}\"))", n.id),
        NodeKind::End => format!("{}(((\"{t}\")))", n.id),
        NodeKind::Missing => format!("{}[\"{t} (missing)\"]", n.id),
        NodeKind::State(ty) => match ty {
            "Pass" => format!("{}(\"{t}\")", n.id),
            "Choice" => format!("{}{{\"{t}\"}}", n.id),
            "Wait" => format!("{}{{{{\"{t}\"}}}}", n.id),
            "Succeed" => format!("{}([\"{t}\"])", n.id),
            "Fail" => format!("{}>\"{t}\"]", n.id),
            "Parallel" => format!("{}[/\"{t}\"\\]", n.id),
            "Map" => format!("{}[[\"{t}\"]]", n.id),
            _ => format!("{}[\"{t}\"]", n.id),
        },
    }
}

fn class_of(n: &Node) -> &'static str {
    match n.kind {
        NodeKind::Start | NodeKind::End => "marker",
        NodeKind::Missing => "missing",
        NodeKind::State("Succeed") => "succeed",
        NodeKind::State("Fail") => "fail",
        NodeKind::State("Choice") => "choice",
        NodeKind::State(_) => "state",
    }
}

struct Out {
    text: String,
    classes: Vec<(&'static str, Vec<String>)>,
}

impl Out {
    fn line(&mut self, depth: usize, s: &str) {
        for _ in 0..depth {
            self.text.push_str("    ");
        }
        self.text.push_str(s);
        self.text.push('\n');
    }

    fn node(&mut self, depth: usize, n: &Node) {
        self.line(depth, &node_decl(n));
        let class = class_of(n);
        match self.classes.iter_mut().find(|(c, _)| *c == class) {
            Some((_, ids)) => ids.push(n.id.clone()),
            None => self.classes.push((class, vec![n.id.clone()])),
        }
    }

    fn scope(&mut self, depth: usize, s: &Scope) {
        self.node(depth, &s.start);
        for item in &s.items {
            match item {
                Item::Node(n) => self.node(depth, n),
                Item::Cluster(c) => {
                    self.line(
                        depth,
                        &format!("subgraph {}[\"{}\"]", c.id, escape(&c.label)),
                    );
                    self.node(depth + 1, &c.node);
                    for (id, title, b) in &c.branches {
                        self.line(depth + 1, &format!("subgraph {id}[\"{}\"]", escape(title)));
                        self.scope(depth + 2, b);
                        self.line(depth + 1, "end");
                    }
                    self.line(depth, "end");
                }
            }
        }
        self.node(depth, &s.end);
    }
}

/// Renders a graph as a Mermaid flowchart.
pub fn render(g: &Graph) -> String {
    let mut o = Out {
        text: String::from("flowchart TD\n"),
        classes: Vec::new(),
    };
    o.scope(1, &g.root);
    for e in &g.edges {
        let arrow = match e.kind {
            EdgeKind::Catch | EdgeKind::Branch => "-.->",
            EdgeKind::Next | EdgeKind::Choice | EdgeKind::Default => "-->",
        };
        let line = match &e.label {
            Some(l) => format!("{} {arrow}|\"{}\"| {}", e.from, escape(l), e.to),
            None => format!("{} {arrow} {}", e.from, e.to),
        };
        o.line(1, &line);
    }
    o.line(1, "classDef marker fill:#333,stroke:#333,color:#fff");
    o.line(1, "classDef state fill:#eef3fb,stroke:#4a6fa5");
    o.line(1, "classDef choice fill:#fff6dc,stroke:#b8860b");
    o.line(1, "classDef succeed fill:#e3f6e3,stroke:#2e7d32");
    o.line(1, "classDef fail fill:#fde2e2,stroke:#c62828");
    o.line(
        1,
        "classDef missing fill:#fff,stroke:#c62828,stroke-dasharray:5 5",
    );
    let classes = std::mem::take(&mut o.classes);
    for (class, ids) in classes {
        o.line(1, &format!("class {} {class}", ids.join(",")));
    }
    o.text
}
