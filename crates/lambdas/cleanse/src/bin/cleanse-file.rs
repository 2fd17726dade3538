//! Cleanses a local file: `cleanse-file CONFIG.json INPUT OUTPUT REJECTS` (prints the report).
//!
//! The engine exactly as the Lambda runs it, without AWS: used by `scripts/bench-data.sh`.
//! With `CLEANSE_TIMINGS` set in the environment it prints per-phase timings on stderr.
//!
//! The outputs are written to temporary files beside them (`.NAME.PID-N.tmp`) and renamed into
//! place when the run succeeds, as the Lambda's outputs are: a failed run (bad input, a
//! `min_rows_out` not reached, a full disk) leaves neither output, and never a partial one.

use cleanse::input::LocalFile;
use cleanse::output::LocalOutput;
use std::process::ExitCode;

fn main() -> ExitCode {
    cleanse::trace::begin();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [config, input, output, rejects] = args.as_slice() else {
        eprintln!("usage: cleanse-file CONFIG.json INPUT OUTPUT REJECTS");
        return ExitCode::from(2);
    };
    let run = || -> Result<cleanse::Report, Box<dyn std::error::Error>> {
        let cfg = cleanse::Config::from_json(&std::fs::read_to_string(config)?)?;
        let mut out = LocalOutput::create(output)?;
        let mut rej = LocalOutput::create(rejects)?;
        let report = cleanse::run_passes(&cfg, LocalFile::new(input), &mut out, &mut rej)?;
        // the rejects first: an output in place means the run succeeded
        rej.commit()?;
        out.commit()?;
        cleanse::trace::mark("cli: outputs closed");
        Ok(report)
    };
    match run() {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            cleanse::trace::mark("cli: report printed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cleanse-file: {e}");
            ExitCode::FAILURE
        }
    }
}
