//! The `stepwright` command: one subcommand per module (`validate`, `render`, and the others as
//! they land). To add one: a module with `Args` (clap) and `run`, one variant in [`Command`] and
//! one arm in `main`.
//!
//! Exit codes are a stable contract shared by every subcommand: 0 success, 1 the input is invalid
//! (or the operation failed), 2 usage or I/O errors.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod aws;
mod completions;
mod deploy;
#[cfg(feature = "lambdas")]
mod lambdas;
mod policy;
mod render;
mod role;
mod run;
mod start;
mod substitute;
mod svg;
mod validate;
mod watch;

/// Exit codes every subcommand uses.
pub mod exit {
    /// Success (warnings allowed).
    pub const OK: u8 = 0;
    /// A definition is invalid (or the operation failed).
    pub const INVALID: u8 = 1;
    /// Usage or I/O error (clap uses 2 for usage errors too).
    pub const USAGE: u8 = 2;
}

/// Stepwright: AWS Step Functions state machines in Rust, checked before deploy.
#[derive(Debug, Parser)]
#[command(name = "stepwright", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check Amazon States Language definitions: syntax, structure, paths, expressions, limits.
    Validate(validate::Args),
    /// Draw a state machine as a Mermaid flowchart, a Graphviz digraph or an SVG drawing.
    Render(render::Args),
    /// Print the least-privilege IAM policy the state machine's role needs.
    Policy(policy::Args),
    /// Run a state machine locally: deterministic, mockable, as AWS does.
    Run(run::Args),
    /// Create or update a state machine on AWS (validated first; idempotent).
    Deploy(deploy::Args),
    /// Start a named execution of a deployed state machine (and optionally follow it).
    Start(start::Args),
    /// Follow an execution's history: a line per state, exit code from its final status.
    Watch(watch::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::Args),
}

/// mimalloc: reading a machine allocates a small object per field; glibc's malloc spent about a
/// quarter of the validator's instructions on them (docs/BENCHMARKS.md, validator section).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let code = match Cli::parse().command {
        Command::Validate(args) => validate::run(&args),
        Command::Render(args) => u8::try_from(render::run(args)).unwrap_or(exit::USAGE),
        Command::Policy(args) => u8::try_from(policy::run(args)).unwrap_or(exit::USAGE),
        Command::Run(args) => u8::try_from(run::run(&args)).unwrap_or(exit::USAGE),
        Command::Deploy(args) => deploy::run(&args),
        Command::Start(args) => start::run(&args),
        Command::Watch(args) => watch::run(&args),
        Command::Completions(args) => completions::run(&args),
    };
    ExitCode::from(code)
}
