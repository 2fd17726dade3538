//! The `stepwright` command.

mod policy;
mod render;

use clap::{Parser, Subcommand};

/// Stepwright: AWS Step Functions state machines in Rust.
#[derive(Debug, Parser)]
#[command(name = "stepwright", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Draw a state machine as a Mermaid flowchart or a Graphviz digraph.
    Render(render::Args),
    /// Print the least-privilege IAM policy the state machine's role needs.
    Policy(policy::Args),
}

fn main() {
    let code = match Cli::parse().command {
        Command::Render(args) => render::run(args),
        Command::Policy(args) => policy::run(args),
    };
    std::process::exit(code);
}
