//! Validates and profiles a local file: `validate-file SUITE.json INPUT [OUTPUT.json]` (prints or
//! writes the outcome). The engine exactly as the Lambda runs it, without AWS: used by
//! `scripts/bench-data.sh`.

use std::fs::File;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (suite, input, output) = match args.as_slice() {
        [s, i] => (s, i, None),
        [s, i, o] => (s, i, Some(o)),
        _ => {
            eprintln!("usage: validate-file SUITE.json INPUT [OUTPUT.json]");
            return ExitCode::from(2);
        }
    };
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let suite = validate::Suite::from_json(&std::fs::read_to_string(suite)?)?;
        let outcome = validate::run(&suite, File::open(input)?)?;
        let text = serde_json::to_string_pretty(&outcome)?;
        match output {
            Some(o) => std::fs::write(o, text)?,
            None => println!("{text}"),
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("validate-file: {e}");
            ExitCode::FAILURE
        }
    }
}
