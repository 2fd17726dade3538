//! `stepwright policy FILE [--partition P] [--region R] [--account A] [--state-machine-name N]
//! [--keep-substitutions | --cloudformation] [-o OUT]`: prints the least-privilege IAM policy the
//! state machine's role needs.
//!
//! Exit codes (stable; as `validate`): 0 printed (warnings such as the 10,240-byte inline policy
//! limit go to standard error), 1 the definition is invalid (the same verdict and diagnostics as
//! `stepwright validate`, integration patterns included), 2 usage or I/O errors.

use std::io::{Read, Write};
use std::path::PathBuf;

use stepwright::iam::{policy_with, PolicyOptions};
use stepwright::validate::{validate_str, Options};
use stepwright::StateMachine;

/// Arguments of `stepwright policy`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    stepwright policy statemachines/training.asl.json\n  \
    stepwright policy training.asl.json --region us-east-1 --account 123456789012 -o policy.json\n  \
    cat training.asl.json | stepwright policy -\n  \
    stepwright policy statemachines/training.asl.json --cloudformation   # for Fn::Sub in a template\n\n\
`${Name}` substitution tokens (SAM DefinitionSubstitutions) are dynamic (`*`) unless \
--keep-substitutions or --cloudformation keeps them in the resources.")]
pub struct Args {
    /// The state machine definition (Amazon States Language JSON); `-` reads standard input.
    pub file: PathBuf,
    /// The ARN partition.
    #[arg(long, default_value = "aws", value_parser = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"])]
    pub partition: String,
    /// The region in the ARNs (default `*`).
    #[arg(long, conflicts_with = "cloudformation")]
    pub region: Option<String>,
    /// The account id in the ARNs (default `*`).
    #[arg(long, value_parser = parse_account, conflicts_with = "cloudformation")]
    pub account: Option<String>,
    /// Keep `${Name}` substitution tokens in the resources (`${CleanseFunctionArn}`,
    /// `endpoint/${EndpointName}`) instead of `*`, for a template that scopes them with `Fn::Sub`.
    #[arg(long)]
    pub keep_substitutions: bool,
    /// A policy for a CloudFormation template: `--keep-substitutions`, and the partition, region
    /// and account as `${AWS::Partition}`, `${AWS::Region}`, `${AWS::AccountId}`.
    #[arg(long, conflicts_with = "partition")]
    pub cloudformation: bool,
    /// The state machine's own name, for Distributed Map child executions (default `*`).
    #[arg(long)]
    pub state_machine_name: Option<String>,
    /// The machine is an EXPRESS workflow (no `.sync`, no callbacks, no activities).
    #[arg(long)]
    pub express: bool,
    /// Write the policy to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not a 12-digit AWS account id"))
    }
}

/// Runs the command; returns the exit code.
pub fn run(args: Args) -> i32 {
    let shown = args.file.display().to_string();
    let text = if args.file.as_os_str() == "-" {
        let mut s = String::new();
        match std::io::stdin().read_to_string(&mut s) {
            Ok(_) => s,
            Err(e) => {
                eprintln!("stepwright policy: cannot read standard input: {e}");
                return 2;
            }
        }
    } else {
        match std::fs::read_to_string(&args.file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("stepwright policy: cannot read {shown}: {e}");
                return 2;
            }
        }
    };
    // The same verdict as `stepwright validate`: any error makes the definition invalid.
    let opts = if args.express {
        Options::express()
    } else {
        Options::default()
    };
    let report = validate_str(&text, &opts);
    if !report.is_valid() {
        eprintln!("stepwright policy: {shown} is not a valid state machine definition:");
        eprint!("{}", report.render(&shown, &text));
        return 1;
    }
    let machine = match StateMachine::from_json(&text) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("stepwright policy: {shown} is not a valid state machine definition:");
            for d in e.diagnostics() {
                eprintln!("  {d}");
            }
            return 1;
        }
    };
    let options = if args.cloudformation {
        PolicyOptions {
            state_machine_name: args.state_machine_name,
            ..PolicyOptions::cloudformation()
        }
    } else {
        PolicyOptions {
            partition: args.partition,
            region: args.region,
            account: args.account,
            state_machine_name: args.state_machine_name,
            keep_substitutions: args.keep_substitutions,
        }
    };
    let policy = policy_with(&machine, &options);
    for d in &policy.diagnostics {
        eprintln!("stepwright policy: {shown}: {d}");
    }
    let text = policy.document.to_json_pretty();
    let written = match &args.output {
        Some(path) => std::fs::write(path, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write standard output: {e}"))
        }
    };
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("stepwright policy: {e}");
            2
        }
    }
}
