//! `stepwright validate FILE...`: validates definitions and reports every problem.
//!
//! Human output (default): each diagnostic with `file:line:col`, the JSON pointer, the offending
//! line with a caret and a help line, then one summary line per file. `--format json`: one JSON
//! document (see [`json_report`]) on stdout. Exit code: 0 when every file is valid (warnings
//! allowed), 1 when any file has errors, 2 for usage or I/O errors.

use std::io::Read;
use std::path::PathBuf;

use clap::ValueEnum;
use serde_json::{json, Value};
use stepwright::validate::{validate_state_str, validate_str, Options, Report};
use stepwright::{Code, Diagnostic};

use crate::exit;

/// Arguments of `stepwright validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Definition files (`*.asl.json`); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Validate for an EXPRESS workflow (default: STANDARD).
    #[arg(long)]
    express: bool,
    /// Reject `${Name}` DefinitionSubstitutions tokens (by default they are accepted where
    /// SAM/CloudFormation substitutes a value).
    #[arg(long)]
    no_substitutions: bool,
    /// Each file holds a single state (as the TestState API takes), not a whole machine.
    #[arg(long)]
    state: bool,
}

/// How `validate` prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: file:line:col, the snippet and help.
    Human,
    /// One stable JSON document for scripts.
    Json,
}

enum Outcome {
    Checked { text: String, report: Report },
    Unreadable(String),
}

/// Runs the subcommand; returns the exit code.
pub fn run(args: &Args) -> u8 {
    let mut opts = if args.express {
        Options::express()
    } else {
        Options::default()
    };
    opts.allow_substitutions = !args.no_substitutions;
    let results: Vec<(String, Outcome)> = args
        .files
        .iter()
        .map(|path| {
            let name = path.display().to_string();
            let outcome = match read(path) {
                Ok(Err(not_utf8)) => Outcome::Checked {
                    text: String::new(),
                    report: Report::new(vec![Diagnostic::error(
                        Code::InvalidJson,
                        "",
                        format!("not valid JSON: the file is not UTF-8 text (invalid byte at offset {not_utf8})"),
                    )
                    .with_help("a definition is UTF-8 JSON text")]),
                },
                Ok(Ok(text)) => {
                    let report = if args.state {
                        validate_state_str(&text, &opts)
                    } else {
                        validate_str(&text, &opts)
                    };
                    Outcome::Checked { text, report }
                }
                Err(e) => Outcome::Unreadable(e),
            };
            (name, outcome)
        })
        .collect();
    match args.format {
        Format::Human => print_human(&results),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json_report(&results)).unwrap_or_default()
        ),
    }
    let io_error = results
        .iter()
        .any(|(_, o)| matches!(o, Outcome::Unreadable(_)));
    let invalid = results
        .iter()
        .any(|(_, o)| matches!(o, Outcome::Checked { report, .. } if !report.is_valid()));
    if io_error {
        exit::USAGE
    } else if invalid {
        exit::INVALID
    } else {
        exit::OK
    }
}

/// Reads a file (or stdin): `Err` for I/O errors, `Ok(Err(offset))` when it is not UTF-8.
fn read(path: &PathBuf) -> Result<Result<String, usize>, String> {
    let mut bytes = Vec::new();
    let res = if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes).map(|_| ()))
    };
    res.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(String::from_utf8(bytes).map_err(|e| e.utf8_error().valid_up_to()))
}

fn print_human(results: &[(String, Outcome)]) {
    for (name, outcome) in results {
        match outcome {
            Outcome::Checked { text, report } => {
                print!("{}", report.render(name, text));
                let (e, w) = (report.error_count(), report.warning_count());
                let verdict = if e == 0 { "valid" } else { "invalid" };
                println!(
                    "{name}: {verdict} ({e} error{}, {w} warning{})",
                    plural(e),
                    plural(w)
                );
            }
            Outcome::Unreadable(msg) => eprintln!("error: {msg}"),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The `--format json` document:
///
/// ```json
/// {"valid": false,
///  "files": [{"file": "a.asl.json", "valid": false, "errors": 1, "warnings": 0,
///             "diagnostics": [{"code": "MISSING_TRANSITION_TARGET", "severity": "error",
///                              "pointer": "/States/A/Next", "message": "...", "help": "...",
///                              "line": 3, "column": 5}]},
///            {"file": "missing.json", "valid": false, "error": "cannot read ..."}]}
/// ```
fn json_report(results: &[(String, Outcome)]) -> Value {
    let files: Vec<Value> = results
        .iter()
        .map(|(name, outcome)| match outcome {
            Outcome::Checked { report, .. } => {
                let diags: Vec<Value> = report
                    .iter()
                    .map(|(d, span)| {
                        let mut v = json!({
                            "code": d.code.as_str(),
                            "severity": d.severity,
                            "pointer": d.pointer,
                            "message": d.message,
                        });
                        if let Some(h) = &d.help {
                            v["help"] = json!(h);
                        }
                        if let Some(s) = span {
                            v["line"] = json!(s.line);
                            v["column"] = json!(s.column);
                        }
                        v
                    })
                    .collect();
                json!({
                    "file": name,
                    "valid": report.is_valid(),
                    "errors": report.error_count(),
                    "warnings": report.warning_count(),
                    "diagnostics": diags,
                })
            }
            Outcome::Unreadable(msg) => json!({"file": name, "valid": false, "error": msg}),
        })
        .collect();
    let valid = results
        .iter()
        .all(|(_, o)| matches!(o, Outcome::Checked { report, .. } if report.is_valid()));
    json!({ "valid": valid, "files": files })
}
