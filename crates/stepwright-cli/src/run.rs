//! `stepwright run`: execute a state machine locally with the `stepwright-local` runner.
//!
//! ```text
//! stepwright run FILE --input JSON|@file [--mock-config F --test-case NAME]
//!                [--lambda-endpoint URL] [--history out.json] [--format text|json]
//! ```
//!
//! Text output is a readable trace (one line per state entered and exited, with the elapsed
//! virtual time) followed by the result. With `--format json`, the last line of stdout is exactly
//! one JSON object `{"status", "output", "error", "cause"}`: a stable contract for scripts.
//! Exit codes: 0 when the execution succeeded, 1 when it failed or timed out, 2 for usage, I/O or
//! an invalid definition (its diagnostics are printed).

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde_json::Value;
use stepwright_local::items::LocalDirStore;
use stepwright_local::mock::MockConfig;
use stepwright_local::time::parse_timestamp;
use stepwright_local::{Options, Runner, Status};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable trace and the output.
    Text,
    /// The trace on stderr; one JSON summary line on stdout.
    Json,
}

/// Arguments of `stepwright run`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    stepwright run flow.asl.json --input '{\"ok\": true}'\n  \
    stepwright run flow.asl.json --input @event.json --mock-config MockConfigFile.json --test-case HappyPath\n  \
    stepwright run flow.asl.json --lambda-endpoint http://127.0.0.1:9000   # cargo lambda watch\n  \
    stepwright run statemachines/training.asl.json --substitutions demo/substitutions.json \\\n      \
    --objects out/s3 --lambda arn:aws:lambda:us-east-1:123456789012:function:cleanse=builtin:cleanse \\\n      \
    --mock-config demo/mock-config.json --test-case Deploy --input @demo/inputs/training.json\n  \
    stepwright run flow.asl.json --format json --history out/history.json | tail -n 1 | jq .status\n\n\
    The trace is printed as the execution runs (virtual time: a Wait of a day takes none). \
    --format json prints, as the last line of standard output, {\"status\", \"output\", \"error\", \
    \"cause\"}. Exit codes: 0 the execution succeeded, 1 it failed, timed out or was aborted, \
    2 usage or I/O error or an invalid definition.")]
pub struct Args {
    /// The state machine definition (ASL JSON).
    pub file: PathBuf,
    /// The execution input: JSON text, or @path to read it from a file (default `{}`).
    #[arg(long, short = 'i', default_value = "{}")]
    pub input: String,
    /// A Step Functions Local mock configuration file (MockConfigFile.json format).
    #[arg(long, requires = "test_case")]
    pub mock_config: Option<PathBuf>,
    /// The test case of the mock configuration to use.
    #[arg(long, requires = "mock_config")]
    pub test_case: Option<String>,
    /// The state machine name in the mock configuration (default: the one that has the test
    /// case, or the definition's file name).
    #[arg(long)]
    pub state_machine: Option<String>,
    /// Send Lambda tasks to this Lambda Invoke API endpoint (e.g. http://127.0.0.1:9000 for
    /// `cargo lambda watch`).
    #[arg(long)]
    pub lambda_endpoint: Option<String>,
    /// A directory standing in for S3 (bucket = sub-directory) for ItemReader / ResultWriter.
    #[arg(long)]
    pub objects: Option<PathBuf>,
    /// Write the execution history (GetExecutionHistory JSON shape) to this file.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Seed for UUIDs, random numbers and retry jitter.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Virtual start time (ISO 8601, e.g. 2024-01-01T00:00:00Z).
    #[arg(long)]
    pub start_time: Option<String>,
    /// Lift AWS's 25,000-event history limit (for very large inline Maps).
    #[arg(long)]
    pub no_history_limit: bool,
    /// Give the `${Name}` substitution token `Name` this value (repeatable), as SAM's
    /// DefinitionSubstitutions do.
    #[arg(long = "sub", value_name = "NAME=VALUE")]
    pub subs: Vec<String>,
    /// A JSON object of substitution token values (repeatable; `--sub` wins).
    #[arg(long = "substitutions", value_name = "FILE")]
    pub substitutions: Vec<PathBuf>,
    /// Answer Lambda tasks calling NAME (a function name or ARN) with one of the project's
    /// Lambdas in process: builtin:cleanse, builtin:validate, builtin:approval-gate,
    /// builtin:approval-notify (repeatable). With --objects, their s3:// locations are files
    /// under that directory.
    #[arg(long = "lambda", value_name = "NAME=builtin:HANDLER")]
    pub lambdas: Vec<String>,
    /// What the person asked by builtin:approval-notify answers.
    #[cfg(feature = "lambdas")]
    #[arg(long, value_enum, default_value_t = crate::lambdas::HumanDecision::Approve)]
    pub human: crate::lambdas::HumanDecision,
}

fn usage(msg: impl std::fmt::Display) -> i32 {
    eprintln!("stepwright run: {msg}");
    2
}

fn read_input(spec: &str) -> Result<Value, String> {
    let (text, from) = match spec.strip_prefix('@') {
        Some(path) => (
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read input file {path}: {e}"))?,
            path.to_string(),
        ),
        None => (spec.to_string(), "--input".to_string()),
    };
    serde_json::from_str(&text).map_err(|e| format!("{from} is not valid JSON: {e}"))
}

fn machine_name(file: &Path) -> String {
    let stem = file
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "StateMachine".into());
    stem.trim_end_matches(".json")
        .trim_end_matches(".asl")
        .to_string()
}

/// Runs the subcommand; returns the exit code.
pub fn run(args: &Args) -> i32 {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => return usage(format!("cannot read {}: {e}", args.file.display())),
    };
    let text = match crate::substitute::Substitutions::load(&args.substitutions, &args.subs) {
        Ok(subs) => match subs.apply(&text) {
            Ok(t) => t,
            Err(missing) => {
                return usage(crate::substitute::missing_message(
                    &args.file.display().to_string(),
                    &missing,
                ))
            }
        },
        Err(e) => return usage(e),
    };
    let report =
        stepwright::validate::validate_str(&text, &stepwright::validate::Options::default());
    if !report.is_valid() {
        eprint!("{}", report.render(&args.file.display().to_string(), &text));
        eprintln!(
            "{}: invalid state machine definition ({} error(s)); not run",
            args.file.display(),
            report.error_count()
        );
        return 2;
    }
    let machine = match stepwright::StateMachine::from_json(&text) {
        Ok(m) => m,
        Err(err) => {
            eprintln!("{}: invalid state machine definition", args.file.display());
            for d in err.diagnostics() {
                eprintln!(
                    "  {} [{}] {}",
                    if d.pointer.is_empty() {
                        "/"
                    } else {
                        &d.pointer
                    },
                    d.code,
                    d.message
                );
                if let Some(h) = &d.help {
                    eprintln!("    help: {h}");
                }
            }
            return 2;
        }
    };
    let input = match read_input(&args.input) {
        Ok(v) => v,
        Err(e) => return usage(e),
    };
    let mut runner = match Runner::new(&machine) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: invalid state machine definition", args.file.display());
            eprintln!("  {e}");
            return 2;
        }
    };
    let name = machine_name(&args.file);
    let mut options = Options {
        seed: args.seed,
        state_machine_name: args.state_machine.clone().unwrap_or_else(|| name.clone()),
        ..Options::default()
    };
    if let Some(t) = &args.start_time {
        match parse_timestamp(t) {
            Some(i) => options.start_time = i,
            None => {
                return usage(format!(
                    "--start-time '{t}' is not an ISO 8601 timestamp like 2024-01-01T00:00:00Z"
                ))
            }
        }
    }
    if args.no_history_limit {
        options.max_history_events = None;
    }
    if let (Some(path), Some(tc)) = (&args.mock_config, &args.test_case) {
        let cfg = match MockConfig::from_file(path) {
            Ok(c) => c,
            Err(e) => return usage(e),
        };
        let by_name = args.state_machine.clone().or_else(|| {
            cfg.state_machines()
                .any(|m| m == name)
                .then(|| name.clone())
        });
        let case = match cfg.test_case(by_name.as_deref(), tc) {
            Ok(c) => c,
            Err(e) => return usage(e),
        };
        options.state_machine_name = case.state_machine.clone();
        runner = runner.mock_test_case(case);
    }
    if let Some(url) = &args.lambda_endpoint {
        runner = match runner.lambda_endpoint(url) {
            Ok(r) => r,
            Err(e) => return usage(e),
        };
    }
    if let Some(dir) = &args.objects {
        runner = runner.object_store(LocalDirStore::new(dir));
    }
    // keeps the in-process Lambdas' runtime alive for the run
    let (runner, _lambda_runtime) = match with_lambdas(runner, &machine, args) {
        Ok(r) => r,
        Err(e) => return usage(e),
    };
    // the trace is printed as the execution runs (text: stdout; json: stderr, so that the
    // summary stays the last stdout line)
    let writer = std::sync::Mutex::new(stepwright_local::history::TraceWriter::new());
    let to_stderr = matches!(args.format, Format::Json);
    let runner = runner.options(options).on_event(move |e| {
        let line = match writer.lock() {
            Ok(mut w) => w.line(e),
            Err(_) => return,
        };
        if to_stderr {
            eprint!("{line}");
        } else {
            print!("{line}");
        }
    });
    let exec = runner.run(input);

    if let Some(path) = &args.history {
        let body = serde_json::to_string_pretty(&exec.history.to_json()).unwrap_or_default();
        if let Err(e) = std::fs::write(path, body + "\n") {
            return usage(format!(
                "cannot write the history to {}: {e}",
                path.display()
            ));
        }
    }
    match args.format {
        Format::Text => {
            println!("status: {}", exec.status);
            match exec.status {
                Status::Succeeded => {
                    let out = exec.output.clone().unwrap_or(Value::Null);
                    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
                }
                _ => {
                    println!("error: {}", exec.error.as_deref().unwrap_or("-"));
                    println!("cause: {}", exec.cause.as_deref().unwrap_or("-"));
                }
            }
        }
        Format::Json => {
            println!("{}", exec.summary());
        }
    }
    if exec.succeeded() {
        0
    } else {
        1
    }
}

#[cfg(feature = "lambdas")]
type LambdaRuntime = Option<tokio::runtime::Runtime>;
#[cfg(not(feature = "lambdas"))]
type LambdaRuntime = ();

/// Registers the `--lambda` builtins (see [`crate::lambdas`]).
fn with_lambdas(
    runner: Runner,
    machine: &stepwright::StateMachine,
    args: &Args,
) -> Result<(Runner, LambdaRuntime), String> {
    #[cfg(feature = "lambdas")]
    {
        let specs = args
            .lambdas
            .iter()
            .map(|s| crate::lambdas::parse_spec(s))
            .collect::<Result<Vec<_>, _>>()?;
        crate::lambdas::register(runner, machine, &specs, args.objects.as_deref(), args.human)
    }
    #[cfg(not(feature = "lambdas"))]
    {
        let _ = machine;
        if args.lambdas.is_empty() {
            Ok((runner, ()))
        } else {
            Err(
                "--lambda needs the `lambdas` feature (this stepwright was built without it)"
                    .into(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_forms() {
        assert_eq!(
            read_input("{\"a\":1}").unwrap(),
            serde_json::json!({"a": 1})
        );
        assert!(read_input("{").unwrap_err().contains("--input"));
        assert!(read_input("@/no/such/file")
            .unwrap_err()
            .contains("cannot read"));
    }

    #[test]
    fn names_from_files() {
        assert_eq!(machine_name(Path::new("a/training.asl.json")), "training");
        assert_eq!(machine_name(Path::new("x.json")), "x");
    }
}
