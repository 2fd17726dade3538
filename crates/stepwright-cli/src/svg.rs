//! `stepwright render --format svg`: a drawing a person can open in a browser, with no Graphviz.
//!
//! It draws the same format-neutral [`Graph`] as the Mermaid and DOT renderers, with a small
//! layered layout written here rather than a layout crate: Step Functions graphs are
//! flowcharts that read top to bottom (a start, a main path, Choice fan-outs that join again,
//! Catch edges to a shared failure path, Parallel and Map boxes holding their branches), so a
//! longest-path layering with one barycenter ordering pass gives a readable drawing, in a few
//! hundred lines, deterministically, with no dependency (the `layout-rs` crate would bring a DOT
//! parser and its own graph model for what is already a graph here, and nests clusters less
//! well).
//!
//! Layout, per scope (the machine, each branch, each processor), recursively:
//! - layers: the longest path from the scope's start over forward edges (an edge to a state on
//!   the current depth-first path is a back edge: a loop); the end marker goes last;
//! - order in a layer: first-visit order, then sorted by the mean position of the predecessors;
//! - a Parallel or Map state is a box with its title, its own node and one box per branch side by
//!   side, each laid out the same way;
//! - forward edges go down from the bottom of a node to the top of the next; back edges (loops)
//!   and edges that stay in a layer go round the right side. Choice edges carry their condition,
//!   `Default` its label; Catch edges are dashed with the error names; edges into branches are
//!   dotted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

use stepwright::render::graph::{Edge, EdgeKind, Graph, Item, Node, NodeKind, Scope};
use stepwright::StateMachine;

const CHAR_W: f64 = 7.2;
const NODE_H: f64 = 34.0;
const DETAIL_H: f64 = 14.0;
const MARKER: f64 = 22.0;
const H_GAP: f64 = 34.0;
const V_GAP: f64 = 46.0;
const PAD: f64 = 14.0;
const TITLE_H: f64 = 22.0;

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The width of an edge label's background (10px text).
fn label_w(s: &str) -> f64 {
    text_w(s) * 0.85 + 8.0
}

fn text_w(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_W
}

/// A laid-out thing: its size, and (for clusters) its inside.
#[derive(Debug, Clone)]
enum Shape<'g> {
    Node(&'g Node),
    Cluster {
        label: &'g str,
        node: &'g Node,
        branches: Vec<(&'g str, &'g str, Layout<'g>)>,
        node_x: f64,
        branch_y: f64,
        branch_x: Vec<f64>,
    },
}

/// A scope laid out with its own origin at (0, 0).
#[derive(Debug, Clone)]
struct Layout<'g> {
    w: f64,
    h: f64,
    /// id → (x, y, w, h, shape) relative to the scope.
    items: Vec<(String, f64, f64, f64, f64, Shape<'g>)>,
    /// Edges whose ends are both in this scope.
    edges: Vec<&'g Edge>,
    /// Forward edges that skip layers go down a lane on the left (one lane per target): the
    /// lane's x for each such edge `(from, to)`.
    lanes: HashMap<(String, String), f64>,
}

fn node_size(n: &Node) -> (f64, f64) {
    match n.kind {
        NodeKind::Start | NodeKind::End => (MARKER, MARKER),
        _ => {
            let label = if matches!(n.kind, NodeKind::Missing) {
                format!("{} (missing)", n.label)
            } else {
                n.label.clone()
            };
            let w = text_w(&label)
                .max(n.detail.as_deref().map_or(0.0, |d| text_w(d) * 0.85))
                .max(40.0)
                + 28.0;
            let h = NODE_H + if n.detail.is_some() { DETAIL_H } else { 0.0 };
            // a Choice is a diamond-ish hexagon: wider
            if matches!(n.kind, NodeKind::State("Choice")) {
                (w + 24.0, h)
            } else {
                (w, h)
            }
        }
    }
}

fn layout<'g>(scope: &'g Scope, edges: &'g [Edge]) -> Layout<'g> {
    // the scope's members: id → shape and size
    let mut shapes: Vec<(String, Shape<'g>, f64, f64)> = Vec::new();
    shapes.push((
        scope.start.id.clone(),
        Shape::Node(&scope.start),
        MARKER,
        MARKER,
    ));
    for item in &scope.items {
        match item {
            Item::Node(n) => {
                let (w, h) = node_size(n);
                shapes.push((n.id.clone(), Shape::Node(n), w, h));
            }
            Item::Cluster(c) => {
                let branches: Vec<(&str, &str, Layout<'g>)> = c
                    .branches
                    .iter()
                    .map(|(id, title, s)| (id.as_str(), title.as_str(), layout(s, edges)))
                    .collect();
                let (nw, nh) = node_size(&c.node);
                let inner_w: f64 = branches
                    .iter()
                    .map(|(_, t, l)| l.w.max(text_w(t) + 16.0) + 2.0 * PAD)
                    .sum::<f64>()
                    + H_GAP * (branches.len().saturating_sub(1)) as f64;
                let w = inner_w.max(nw).max(text_w(&c.label) + 16.0) + 2.0 * PAD;
                let branch_y = TITLE_H + nh + V_GAP * 0.7;
                let inner_h = branches
                    .iter()
                    .map(|(_, _, l)| l.h + TITLE_H + 2.0 * PAD)
                    .fold(0.0, f64::max);
                let h = branch_y + inner_h + PAD;
                let mut x = (w - inner_w) / 2.0;
                let mut branch_x = Vec::new();
                for (_, t, l) in &branches {
                    branch_x.push(x);
                    x += l.w.max(text_w(t) + 16.0) + 2.0 * PAD + H_GAP;
                }
                shapes.push((
                    c.node.id.clone(),
                    Shape::Cluster {
                        label: &c.label,
                        node: &c.node,
                        branches,
                        node_x: (w - nw) / 2.0,
                        branch_y,
                        branch_x,
                    },
                    w,
                    h,
                ));
            }
        }
    }
    shapes.push((
        scope.end.id.clone(),
        Shape::Node(&scope.end),
        MARKER,
        MARKER,
    ));
    let index: HashMap<&str, usize> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| (s.0.as_str(), i))
        .collect();
    let scope_edges: Vec<&Edge> = edges
        .iter()
        .filter(|e| index.contains_key(e.from.as_str()) && index.contains_key(e.to.as_str()))
        .collect();
    let n = shapes.len();
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in &scope_edges {
        out[index[e.from.as_str()]].push(index[e.to.as_str()]);
    }
    // depth-first from the start: visit order and back edges
    let mut order: Vec<usize> = Vec::new();
    let mut back: HashSet<(usize, usize)> = HashSet::new();
    let mut state = vec![0u8; n]; // 0 new, 1 on path, 2 done
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    state[0] = 1;
    order.push(0);
    while let Some((v, k)) = stack.pop() {
        if k < out[v].len() {
            stack.push((v, k + 1));
            let w = out[v][k];
            match state[w] {
                0 => {
                    state[w] = 1;
                    order.push(w);
                    stack.push((w, 0));
                }
                1 => {
                    back.insert((v, w));
                }
                _ => {}
            }
        } else {
            state[v] = 2;
        }
    }
    for (i, s) in state.iter().enumerate() {
        if *s == 0 {
            order.push(i); // unreachable (only in invalid machines)
        }
    }
    // longest-path layers over forward edges, in topological order (Kahn)
    let mut indeg = vec![0usize; n];
    for (v, targets) in out.iter().enumerate() {
        for &w in targets {
            if !back.contains(&(v, w)) && v != w {
                indeg[w] += 1;
            }
        }
    }
    let rank: HashMap<usize, usize> = order.iter().enumerate().map(|(i, &v)| (v, i)).collect();
    let mut ready: BTreeMap<usize, usize> = BTreeMap::new(); // visit rank → node
    for v in 0..n {
        if indeg[v] == 0 {
            ready.insert(rank[&v], v);
        }
    }
    let mut layer = vec![0usize; n];
    let mut done = 0;
    while let Some((_, v)) = ready.pop_first() {
        done += 1;
        for &w in &out[v] {
            if back.contains(&(v, w)) || v == w {
                continue;
            }
            layer[w] = layer[w].max(layer[v] + 1);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                ready.insert(rank[&w], w);
            }
        }
    }
    debug_assert_eq!(done, n);
    let end = n - 1;
    let last = (0..end).map(|v| layer[v]).max().unwrap_or(0);
    layer[end] = last + 1;
    let layers = layer[end] + 1;
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for &v in &order {
        rows[layer[v]].push(v);
    }
    // one barycenter pass: order each layer by its predecessors' positions
    let mut pos = vec![0.0f64; n];
    for (l, row) in rows.iter_mut().enumerate() {
        if l > 0 {
            let bary = |v: usize| -> f64 {
                let preds: Vec<f64> = (0..n)
                    .filter(|&u| out[u].contains(&v) && !back.contains(&(u, v)) && layer[u] < l)
                    .map(|u| pos[u])
                    .collect();
                if preds.is_empty() {
                    f64::MAX
                } else {
                    preds.iter().sum::<f64>() / preds.len() as f64
                }
            };
            let mut keyed: Vec<(f64, usize, usize)> =
                row.iter().map(|&v| (bary(v), rank[&v], v)).collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            *row = keyed.into_iter().map(|k| k.2).collect();
        }
        for (i, &v) in row.iter().enumerate() {
            pos[v] = i as f64;
        }
    }
    // coordinates
    let row_w: Vec<f64> = rows
        .iter()
        .map(|r| {
            r.iter().map(|&v| shapes[v].2).sum::<f64>() + H_GAP * (r.len().saturating_sub(1)) as f64
        })
        .collect();
    // lanes for the forward edges that skip a layer (Catch edges to a shared handler, joins)
    let mut lane_of_target: Vec<usize> = Vec::new();
    let mut long: Vec<(usize, usize)> = Vec::new();
    // the widest label on a lane edge: the margin leaves room for it between lane and states
    let mut lane_label_w: f64 = 0.0;
    for e in &scope_edges {
        let (v, w) = (index[e.from.as_str()], index[e.to.as_str()]);
        if !back.contains(&(v, w)) && layer[w] > layer[v] + 1 {
            if !lane_of_target.contains(&w) {
                lane_of_target.push(w);
            }
            long.push((v, w));
            if let Some(label) = &e.label {
                lane_label_w = lane_label_w.max(label_w(label) + 8.0);
            }
        }
    }
    const LANE: f64 = 12.0;
    let left = if lane_of_target.is_empty() {
        0.0
    } else {
        LANE * lane_of_target.len() as f64 + 8.0 + lane_label_w
    };
    let lanes: HashMap<(String, String), f64> = long
        .iter()
        .map(|&(v, w)| {
            let k = lane_of_target.iter().position(|&t| t == w).unwrap_or(0);
            (
                (shapes[v].0.clone(), shapes[w].0.clone()),
                4.0 + LANE * k as f64,
            )
        })
        .collect();
    let width = row_w.iter().copied().fold(MARKER, f64::max) + left;
    let mut xy = vec![(0.0f64, 0.0f64); n];
    let mut y = 0.0;
    for (l, r) in rows.iter().enumerate() {
        let h = r.iter().map(|&v| shapes[v].3).fold(0.0, f64::max);
        let mut x = left + (width - left - row_w[l]) / 2.0;
        for &v in r {
            xy[v] = (x, y + (h - shapes[v].3) / 2.0);
            x += shapes[v].2 + H_GAP;
        }
        y += h + V_GAP;
    }
    let height = (y - V_GAP).max(MARKER);
    let items = shapes
        .into_iter()
        .enumerate()
        .map(|(i, (id, shape, w, h))| (id, xy[i].0, xy[i].1, w, h, shape))
        .collect();
    Layout {
        w: width,
        h: height,
        items,
        edges: scope_edges,
        lanes,
    }
}

struct Svg {
    body: String,
    /// Where loop edges of each scope go round: the right margin used so far.
    right: f64,
    /// The own node of each Parallel/Map box (edges into its branches start there; every other
    /// edge starts or ends at the box).
    cluster_nodes: Boxes,
}

fn node_svg(svg: &mut Svg, n: &Node, x: f64, y: f64, w: f64, h: f64) {
    let (kind, ty) = match n.kind {
        NodeKind::Start => ("marker", "Start"),
        NodeKind::End => ("marker", "End"),
        NodeKind::Missing => ("missing", "Missing"),
        NodeKind::State(t) => ("state", t),
    };
    let b = &mut svg.body;
    let _ = write!(
        b,
        r#"<g class="node {kind} {}" data-name="{}" data-type="{ty}">"#,
        ty.to_ascii_lowercase(),
        escape(&n.label)
    );
    let _ = write!(b, "<title>{} ({ty})</title>", escape(&n.label));
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    match n.kind {
        NodeKind::Start => {
            let _ = write!(
                b,
                r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="{:.1}"/>"#,
                w / 2.0
            );
        }
        NodeKind::End => {
            let _ = write!(
                b,
                r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="{:.1}"/><circle class="inner" cx="{cx:.1}" cy="{cy:.1}" r="{:.1}"/>"#,
                w / 2.0,
                w / 2.0 - 4.0
            );
        }
        NodeKind::State("Choice") => {
            let d = 14.0;
            let _ = write!(
                b,
                r#"<polygon points="{:.1},{cy:.1} {:.1},{y:.1} {:.1},{y:.1} {:.1},{cy:.1} {:.1},{:.1} {:.1},{:.1}"/>"#,
                x,
                x + d,
                x + w - d,
                x + w,
                x + w - d,
                y + h,
                x + d,
                y + h
            );
        }
        NodeKind::State("Succeed") | NodeKind::State("Fail") | NodeKind::State("Pass") => {
            let r = if matches!(n.kind, NodeKind::State("Pass")) {
                8.0
            } else {
                h / 2.0
            };
            let _ = write!(
                b,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="{r:.1}"/>"#
            );
        }
        _ => {
            let _ = write!(
                b,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="3"/>"#
            );
        }
    }
    if !matches!(n.kind, NodeKind::Start | NodeKind::End) {
        let label = if matches!(n.kind, NodeKind::Missing) {
            format!("{} (missing)", n.label)
        } else {
            n.label.clone()
        };
        let ty_y = y + 12.0;
        let _ = write!(
            b,
            r#"<text class="type" x="{:.1}" y="{ty_y:.1}">{ty}</text>"#,
            x + w - 6.0
        );
        let main_y = if n.detail.is_some() {
            y + 23.0
        } else {
            cy + 8.0
        };
        let _ = write!(
            b,
            r#"<text class="label" x="{cx:.1}" y="{main_y:.1}">{}</text>"#,
            escape(&label)
        );
        if let Some(d) = &n.detail {
            let _ = write!(
                b,
                r#"<text class="detail" x="{cx:.1}" y="{:.1}">{}</text>"#,
                y + 39.0,
                escape(d)
            );
        }
    }
    b.push_str("</g>\n");
}

/// Absolute boxes of every node drawn, for the edges.
type Boxes = HashMap<String, (f64, f64, f64, f64)>;

fn scope_svg(svg: &mut Svg, l: &Layout<'_>, ox: f64, oy: f64, boxes: &mut Boxes) {
    for (id, x, y, w, h, shape) in &l.items {
        let (x, y) = (ox + x, oy + y);
        match shape {
            Shape::Node(n) => {
                node_svg(svg, n, x, y, *w, *h);
                boxes.insert(id.clone(), (x, y, *w, *h));
            }
            Shape::Cluster {
                label,
                node,
                branches,
                node_x,
                branch_y,
                branch_x,
            } => {
                let _ = write!(
                    svg.body,
                    r#"<g class="cluster"><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="6"/><text class="title" x="{:.1}" y="{:.1}">{}</text></g>"#,
                    x + 8.0,
                    y + 15.0,
                    escape(label)
                );
                svg.body.push('\n');
                let (nw, nh) = node_size(node);
                node_svg(svg, node, x + node_x, y + TITLE_H, nw, nh);
                boxes.insert(id.clone(), (x, y, *w, *h));
                svg.cluster_nodes
                    .insert(id.clone(), (x + node_x, y + TITLE_H, nw, nh));
                for ((bid, title, bl), bx) in branches.iter().zip(branch_x) {
                    let bw = bl.w.max(text_w(title) + 16.0) + 2.0 * PAD;
                    let bh = bl.h + TITLE_H + 2.0 * PAD;
                    let (bx, by) = (x + bx, y + branch_y);
                    let _ = write!(
                        svg.body,
                        r#"<g class="branch" id="{}"><rect x="{bx:.1}" y="{by:.1}" width="{bw:.1}" height="{bh:.1}" rx="4"/><text class="title" x="{:.1}" y="{:.1}">{}</text></g>"#,
                        escape(bid),
                        bx + 6.0,
                        by + 14.0,
                        escape(title)
                    );
                    svg.body.push('\n');
                    scope_svg(svg, bl, bx + (bw - bl.w) / 2.0, by + TITLE_H + PAD, boxes);
                }
            }
        }
    }
    let lanes: HashMap<(String, String), f64> =
        l.lanes.iter().map(|(k, x)| (k.clone(), ox + x)).collect();
    edges_svg(svg, &l.edges, boxes, ox + l.w, &lanes);
}

fn edges_svg(
    svg: &mut Svg,
    edges: &[&Edge],
    boxes: &Boxes,
    right_edge: f64,
    lanes: &HashMap<(String, String), f64>,
) {
    let mut lane = 0.0;
    // the labels placed so far (x, y, width): a label that would cover one moves aside, in the
    // direction its edge goes
    let mut placed: Vec<(f64, f64, f64)> = Vec::new();
    for e in edges {
        let from = if e.kind == EdgeKind::Branch {
            svg.cluster_nodes.get(&e.from)
        } else {
            boxes.get(&e.from)
        };
        let (Some(&(fx, fy, fw, fh)), Some(&(tx, ty, tw, th))) = (from, boxes.get(&e.to)) else {
            continue;
        };
        let class = match e.kind {
            EdgeKind::Next => "next",
            EdgeKind::Choice => "choice",
            EdgeKind::Default => "default",
            EdgeKind::Catch => "catch",
            EdgeKind::Branch => "branch",
        };
        let (sx, sy) = (fx + fw / 2.0, fy + fh);
        let (ex, ey) = (tx + tw / 2.0, ty);
        let lane_x = lanes.get(&(e.from.clone(), e.to.clone()));
        let (path, lx, ly) = if let Some(&x) = lane_x {
            // down the lane on the left: out of the source's left side, or, when another node
            // of its row is in the way, out of its bottom; into the target's left side, or its
            // top when a node is in the way
            let (ay, by) = (fy + fh / 2.0, ty + th / 2.0);
            let (src, dst) = ((fx, fy, fw, fh), (tx, ty, tw, th));
            let mut d = if blocked(boxes, src, x, fx, ay) {
                let y = sy + 10.0;
                format!("M{sx:.1},{sy:.1} L{sx:.1},{y:.1} L{x:.1},{y:.1}")
            } else {
                format!("M{fx:.1},{ay:.1} L{x:.1},{ay:.1}")
            };
            let label_y = if d.starts_with(&format!("M{sx:.1},")) {
                sy + 10.0
            } else {
                ay
            };
            if blocked(boxes, dst, x, tx, by) {
                let y = ty - 10.0;
                let _ = write!(d, " L{x:.1},{y:.1} L{ex:.1},{y:.1} L{ex:.1},{ey:.1}");
            } else {
                let _ = write!(d, " L{x:.1},{by:.1} L{tx:.1},{by:.1}");
            }
            (d, x + (fx - x) / 2.0, label_y)
        } else if ey > sy + 4.0 {
            let mid = sy + (ey - sy) / 2.0;
            (
                format!("M{sx:.1},{sy:.1} C{sx:.1},{mid:.1} {ex:.1},{mid:.1} {ex:.1},{ey:.1}"),
                sx + (ex - sx) * 0.5,
                mid,
            )
        } else {
            // a loop or an edge within a layer: round the right side
            lane += 12.0;
            let rx = right_edge.max(fx + fw).max(tx + tw) + 16.0 + lane;
            svg.right = svg.right.max(rx + 8.0);
            let (ay, by) = (fy + fh / 2.0, ty + th / 2.0);
            (
                format!(
                    "M{:.1},{ay:.1} L{rx:.1},{ay:.1} L{rx:.1},{by:.1} L{:.1},{by:.1}",
                    fx + fw,
                    tx + tw
                ),
                rx,
                (ay + by) / 2.0,
            )
        };
        let _ = write!(
            svg.body,
            r#"<g class="edge {class}" data-from="{}" data-to="{}"><path d="{path}" marker-end="url(#arrow)"/>"#,
            escape(&e.from),
            escape(&e.to)
        );
        if let Some(label) = &e.label {
            let w = label_w(label);
            let (mut x0, y0) = (lx - w / 2.0, ly - 9.0);
            let rightwards = ex >= sx;
            for _ in 0..placed.len() {
                let hit = placed.iter().find(|&&(px, py, pw)| {
                    x0 < px + pw && px < x0 + w && y0 < py + 14.0 && py < y0 + 14.0
                });
                match hit {
                    Some(&(px, _, pw)) if rightwards => x0 = px + pw + 2.0,
                    Some(&(px, _, _)) => x0 = px - w - 2.0,
                    None => break,
                }
            }
            placed.push((x0, y0, w));
            let _ = write!(
                svg.body,
                r#"<rect class="label-bg" x="{x0:.1}" y="{y0:.1}" width="{w:.1}" height="14"/><text class="edge-label" x="{:.1}" y="{:.1}">{}</text>"#,
                x0 + w / 2.0,
                ly + 2.0,
                escape(label)
            );
        }
        svg.body.push_str("</g>\n");
    }
}

/// Whether a horizontal segment at `y` from `x0` to `x1` crosses a node other than `own` (and
/// other than the Parallel/Map boxes holding `own`).
fn blocked(boxes: &Boxes, own: (f64, f64, f64, f64), x0: f64, x1: f64, y: f64) -> bool {
    let (lo, hi) = (x0.min(x1), x0.max(x1));
    let (ox, oy, ow, oh) = own;
    boxes.values().any(|&(bx, by, bw, bh)| {
        let same = (bx, by, bw, bh) == own;
        let holds = bx <= ox && oy >= by && ox + ow <= bx + bw && oy + oh <= by + bh;
        !same && !holds && by < y && y < by + bh && bx < hi && lo < bx + bw
    })
}

const STYLE: &str = r#"<style>
  text { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 12px; fill: #1f2933; }
  .node rect, .node polygon { fill: #eef3fb; stroke: #4a6fa5; stroke-width: 1.2; }
  .node.choice polygon { fill: #fff6dc; stroke: #b8860b; }
  .node.succeed rect { fill: #e3f6e3; stroke: #2e7d32; }
  .node.fail rect { fill: #fde2e2; stroke: #c62828; }
  .node.pass rect { fill: #f4f4f4; stroke: #777; }
  .node.wait rect { fill: #f1ecfb; stroke: #6a4fa5; }
  .node.missing rect { fill: #fff; stroke: #c62828; stroke-dasharray: 5 4; }
  .node.marker circle { fill: #333; stroke: #333; }
  .node.marker circle.inner { fill: none; stroke: #fff; stroke-width: 1.5; }
  .node .label { text-anchor: middle; font-weight: 600; }
  .node .detail { text-anchor: middle; font-size: 10px; fill: #52606d; }
  .node .type { text-anchor: end; font-size: 8px; fill: #7b8794; text-transform: uppercase; }
  .cluster rect { fill: #fafbfc; stroke: #9aa5b1; stroke-dasharray: 6 3; }
  .branch rect { fill: #ffffff; stroke: #cbd2d9; }
  .title { font-size: 11px; font-weight: 600; fill: #52606d; }
  .edge path { fill: none; stroke: #52606d; stroke-width: 1.2; }
  .edge.catch path { stroke: #c62828; stroke-dasharray: 5 4; }
  .edge.branch path { stroke-dasharray: 2 3; }
  .edge.default path { stroke: #b8860b; }
  .edge.choice path { stroke: #b8860b; }
  .edge-label { font-size: 10px; text-anchor: middle; fill: #3e4c59; }
  .edge.catch .edge-label { fill: #c62828; }
  .label-bg { fill: #ffffff; opacity: 0.85; }
</style>"#;

/// The machine as a standalone SVG document.
pub fn render(machine: &StateMachine) -> String {
    let g = Graph::of(machine);
    let l = layout(&g.root, &g.edges);
    let mut svg = Svg {
        body: String::new(),
        right: 0.0,
        cluster_nodes: Boxes::new(),
    };
    let margin = 20.0;
    let mut boxes = Boxes::new();
    scope_svg(&mut svg, &l, margin, margin + 24.0, &mut boxes);
    // the edges into branches (from a cluster's node to a branch's start marker)
    let branch_edges: Vec<&Edge> = g
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Branch)
        .collect();
    edges_svg(
        &mut svg,
        &branch_edges,
        &boxes,
        margin + l.w,
        &HashMap::new(),
    );
    let title = machine
        .comment
        .as_deref()
        .map(|c| {
            if c.chars().count() > 140 {
                format!("{}…", c.chars().take(139).collect::<String>().trim_end())
            } else {
                c.to_string()
            }
        })
        .unwrap_or_default();
    let width = (l.w + 2.0 * margin)
        .max(svg.right + margin)
        .max(text_w(&title) * 0.95 + 2.0 * margin);
    let height = l.h + 2.0 * margin + 24.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}">"#
    );
    out.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#52606d"/></marker></defs>"##);
    out.push('\n');
    out.push_str(STYLE);
    out.push('\n');
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="#ffffff"/><text class="title" x="{margin}" y="22">{}</text>"##,
        escape(&title)
    );
    out.push_str(&svg.body);
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape(r#"a<b>&"c"'"#), "a&lt;b&gt;&amp;&quot;c&quot;&#39;");
        assert_eq!(escape("x\u{1}y"), "x y");
    }

    #[test]
    fn a_loop_goes_round_the_side() {
        let m = StateMachine::from_json(
            r#"{"StartAt":"Poll","States":{"Poll":{"Type":"Wait","Seconds":5,"Next":"Done?"},
            "Done?":{"Type":"Choice","Choices":[{"Variable":"$.done","BooleanEquals":true,"Next":"Ok"}],"Default":"Poll"},
            "Ok":{"Type":"Succeed"}}}"#,
        )
        .unwrap();
        let s = render(&m);
        assert!(s.contains(r#"class="edge default""#));
        // the Default edge goes back up: drawn with straight segments round the right
        let back = s
            .lines()
            .find(|l| l.contains(r#"class="edge default""#))
            .unwrap();
        assert!(back.contains(" L"), "{back}");
    }
}
