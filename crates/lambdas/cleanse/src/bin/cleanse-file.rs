//! Cleanses a local file: `cleanse-file CONFIG.json INPUT OUTPUT REJECTS` (prints the report).
//!
//! The engine exactly as the Lambda runs it, without AWS: used by `scripts/bench-data.sh`.

use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [config, input, output, rejects] = args.as_slice() else {
        eprintln!("usage: cleanse-file CONFIG.json INPUT OUTPUT REJECTS");
        return ExitCode::from(2);
    };
    let run = || -> Result<cleanse::Report, Box<dyn std::error::Error>> {
        let cfg = cleanse::Config::from_json(&std::fs::read_to_string(config)?)?;
        let out = BufWriter::new(File::create(output)?);
        let rej = BufWriter::new(File::create(rejects)?);
        Ok(cleanse::run_passes(&cfg, || File::open(input), out, rej)?)
    };
    match run() {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cleanse-file: {e}");
            ExitCode::FAILURE
        }
    }
}
