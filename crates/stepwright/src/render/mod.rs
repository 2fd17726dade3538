//! Drawing a state machine: [`to_mermaid`] and [`to_dot`] (also
//! [`StateMachine::to_mermaid`] / [`StateMachine::to_dot`]).
//!
//! Every state is a node whose shape says its type (a Task also shows what it calls, such as
//! `lambda:invoke`, on a second line); each scope (the machine, each Parallel
//! branch, each Map processor) has a start and an end marker; Choice edges carry their
//! condition (`$.status == "ok"`, shortened to [`label::MAX_LABEL`] characters) and `Default`;
//! Parallel and Map states are boxes holding their branches, nested to any depth; Catch edges are
//! dashed and carry the error names. Names are escaped for each format, so quotes, spaces and
//! any Unicode are safe.
//!
//! Both renderers draw the same format-neutral [`graph::Graph`]; a new output format (an SVG
//! layout, say) is one more function from that graph to text.
//!
//! ```
//! use stepwright::builder::*;
//! let m = StateMachine::builder()
//!     .start(Choice::new("Ok?")
//!         .when(Condition::string_equals("$.status", "ok"), Succeed::new("Yes"))
//!         .otherwise(Fail::new("No")))
//!     .build()?;
//! let mermaid = m.to_mermaid();
//! assert!(mermaid.starts_with("flowchart TD\n"));
//! assert!(mermaid.contains(r#"s0 -->|"$.status == #34;ok#34;"| s1"#));
//! let dot = m.to_dot();
//! assert!(dot.contains(r#"s0 -> s1 [label="$.status == \"ok\""];"#));
//! # Ok::<(), BuildError>(())
//! ```

pub mod dot;
pub mod graph;
pub mod label;
pub mod mermaid;

use std::fmt;
use std::str::FromStr;

use crate::model::StateMachine;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// A Mermaid flowchart (renders in GitHub Markdown, mermaid.live, ...).
    Mermaid,
    /// A Graphviz `digraph` (`dot -Tsvg`).
    Dot,
}

impl Format {
    /// Every format, in the order the CLI lists them.
    pub const ALL: &'static [Format] = &[Format::Mermaid, Format::Dot];

    /// The format's name as the CLI spells it (`mermaid`, `dot`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Mermaid => "mermaid",
            Format::Dot => "dot",
        }
    }

    /// The usual file extension, without the dot (`mmd`, `dot`).
    ///
    /// ```
    /// use stepwright::render::Format;
    /// assert_eq!(format!("training.{}", Format::Mermaid.extension()), "training.mmd");
    /// ```
    pub fn extension(self) -> &'static str {
        match self {
            Format::Mermaid => "mmd",
            Format::Dot => "dot",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown format name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
        write!(
            f,
            "unknown format \"{}\" (expected one of: {})",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;
    /// ```
    /// use stepwright::render::Format;
    /// assert_eq!("DOT".parse::<Format>(), Ok(Format::Dot));
    /// assert!("svgz".parse::<Format>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        match s.to_ascii_lowercase().as_str() {
            "mermaid" | "mmd" => Ok(Format::Mermaid),
            "dot" | "gv" | "graphviz" => Ok(Format::Dot),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}

/// Renders `machine` in `format`.
pub fn render(machine: &StateMachine, format: Format) -> String {
    let g = graph::Graph::of(machine);
    match format {
        Format::Mermaid => mermaid::render(&g),
        Format::Dot => dot::render(&g),
    }
}

/// The machine as a Mermaid flowchart.
pub fn to_mermaid(machine: &StateMachine) -> String {
    render(machine, Format::Mermaid)
}

/// The machine as a Graphviz `digraph`.
pub fn to_dot(machine: &StateMachine) -> String {
    render(machine, Format::Dot)
}

impl StateMachine {
    /// The machine as a Mermaid flowchart (see [`crate::render`]).
    pub fn to_mermaid(&self) -> String {
        to_mermaid(self)
    }

    /// The machine as a Graphviz `digraph` (see [`crate::render`]).
    pub fn to_dot(&self) -> String {
        to_dot(self)
    }
}
