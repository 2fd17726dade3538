//! `stepwright render FILE [--format mermaid|dot|svg] [-o OUT]`: draws a state machine (SVG:
//! [`crate::svg`], a standalone drawing with no Graphviz needed).
//!
//! Exit codes (stable; scripts depend on them): 0 rendered, 1 the definition does not parse
//! (its diagnostics go to standard error), 2 usage or I/O errors.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use stepwright::render::Format;
use stepwright::StateMachine;

/// Arguments of `stepwright render`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    stepwright render statemachines/training.asl.json > training.mmd\n  \
    stepwright render training.asl.json --format svg -o training.svg\n  \
    stepwright render training.asl.json --format dot | dot -Tsvg > training.svg\n  \
    cat training.asl.json | stepwright render - -f dot -o training.dot")]
pub struct Args {
    /// The state machine definition (Amazon States Language JSON); `-` reads standard input.
    pub file: PathBuf,
    /// Output format: a Mermaid flowchart, a Graphviz digraph, or an SVG drawing to open in a
    /// browser.
    #[arg(
        short,
        long,
        default_value = "mermaid",
        value_parser = PossibleValuesParser::new(["mermaid", "dot", "svg"]).try_map(|s| {
            if s.eq_ignore_ascii_case("svg") {
                Ok(Drawing::Svg)
            } else {
                s.parse::<Format>().map(Drawing::Text)
            }
        })
    )]
    pub format: Drawing,
    /// Write the drawing to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What `--format` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drawing {
    /// A text format of the library (Mermaid, DOT).
    Text(Format),
    /// SVG, laid out here.
    Svg,
}

/// Runs the command; returns the exit code.
pub fn run(args: Args) -> i32 {
    let shown = args.file.display().to_string();
    let text = if args.file.as_os_str() == "-" {
        let mut s = String::new();
        match std::io::stdin().read_to_string(&mut s) {
            Ok(_) => s,
            Err(e) => {
                eprintln!("stepwright render: cannot read standard input: {e}");
                return 2;
            }
        }
    } else {
        match std::fs::read_to_string(&args.file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("stepwright render: cannot read {shown}: {e}");
                return 2;
            }
        }
    };
    let machine = match StateMachine::from_json(&text) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("stepwright render: {shown} is not a valid state machine definition:");
            for d in e.diagnostics() {
                eprintln!("  {d}");
            }
            return 1;
        }
    };
    let drawing = match args.format {
        Drawing::Text(f) => stepwright::render::render(&machine, f),
        Drawing::Svg => crate::svg::render(&machine),
    };
    let written = match &args.output {
        Some(path) => std::fs::write(path, drawing.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(drawing.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write standard output: {e}"))
        }
    };
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("stepwright render: {e}");
            2
        }
    }
}
