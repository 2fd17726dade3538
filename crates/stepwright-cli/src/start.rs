//! `stepwright start ARN|NAME --input JSON|@FILE [--name EXECUTION_NAME] [--watch]`: starts an
//! execution (`StartExecution`) and prints its ARN; with `--watch`, follows it as
//! `stepwright watch --follow` does and exits with its status.
//!
//! Executions are always named. Without `--name` the name is
//! `run-<UTC time to the second>-<first 12 hex digits of SHA-256 of the input>`, e.g.
//! `run-20240601T120000Z-5c1a0e2d9b3f`: readable, sortable by time, and deterministic, so that
//! the same command repeated within the same second (a double click, a retried script) names the
//! same execution and Step Functions starts it only once (an identical `StartExecution` for a
//! running execution returns that execution).
//!
//! Exit codes: 0 started (with `--watch`: succeeded), 1 AWS refused the call (with `--watch`:
//! the execution failed, timed out or was aborted), 2 usage, I/O, configuration or connection
//! errors, 3 (with `--watch --timeout`) still running.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_sfn::error::ProvideErrorMetadata;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::aws::{self, Aws, AwsArgs, CliError};
use crate::deploy::{find_state_machine, parse_name};
use crate::watch::{self, Format, WatchOptions};

/// The largest execution input Step Functions accepts (256 KiB of UTF-8).
pub const MAX_INPUT_BYTES: usize = 262_144;

/// Arguments of `stepwright start`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    stepwright start training --input '{\"bucket\": \"raw\", \"key\": \"in/churn.csv\"}'\n  \
    stepwright start arn:aws:states:us-east-1:123456789012:stateMachine:training --input @input.json --name nightly-2024-06-01\n  \
    stepwright start training --input @input.json --watch        # follow it; exit code from its status\n  \
    echo '{}' | stepwright start flow --input @-\n\n\
    Without --name the execution is named run-<UTC time>-<input hash> (same input, same second: \
    same execution). Exit codes: 0 started (--watch: succeeded), 1 AWS refused (--watch: the \
    execution failed), 2 usage, I/O, configuration or connection error, 3 still running after \
    --timeout.")]
pub struct Args {
    /// The state machine: its ARN (or a version or alias ARN), or its name in the region.
    #[arg(value_name = "ARN|NAME")]
    pub state_machine: String,
    /// The execution input: JSON text, `@FILE` to read a file, `@-` for standard input.
    #[arg(long, value_name = "JSON|@FILE", default_value = "{}")]
    pub input: String,
    /// The execution name (1-80 characters; default: run-<time>-<input hash>).
    #[arg(long, value_parser = parse_name)]
    pub name: Option<String>,
    /// Follow the execution until it ends, as `stepwright watch --follow`.
    #[arg(long)]
    pub watch: bool,
    #[command(flatten)]
    pub options: WatchOptions,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Reads `--input`: JSON text, `@file` or `@-`; checks that it is JSON within the size limit.
fn read_input(arg: &str) -> Result<String, CliError> {
    let (text, from) = match arg.strip_prefix('@') {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| {
                CliError::usage(format!("cannot read the input from standard input: {e}"))
            })?;
            (s, "standard input".to_owned())
        }
        Some(path) => {
            let s = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("cannot read the input file {path}: {e}")))?;
            (s, path.to_owned())
        }
        None => (arg.to_owned(), "--input".to_owned()),
    };
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
        return Err(CliError::usage(format!(
            "{from}: the input is not valid JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
        .hint(
            "quote JSON for the shell: --input '{\"key\": \"value\"}', or use --input @file.json",
        ));
    }
    if text.len() > MAX_INPUT_BYTES {
        return Err(CliError::usage(format!(
            "{from}: the input is {} bytes; Step Functions accepts at most {MAX_INPUT_BYTES}",
            text.len()
        ))
        .hint("put the data in S3 and pass its location instead"));
    }
    Ok(text)
}

/// The default execution name for `input` started at `unix_secs`.
///
/// ```text
/// run-20240601T120000Z-5c1a0e2d9b3f
/// ```
pub fn default_name(input: &str, unix_secs: u64) -> String {
    let digest = hex::encode(Sha256::digest(input.as_bytes()));
    format!("run-{}-{}", utc_stamp(unix_secs), &digest[..12])
}

/// `YYYYMMDDTHHMMSSZ` for a Unix time (proleptic Gregorian calendar, UTC).
fn utc_stamp(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm for days since 1970-01-01 (non-negative).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Runs the subcommand; returns the exit code.
pub fn run(args: &Args) -> u8 {
    let result = read_input(&args.input).and_then(|input| {
        let name = args.name.clone().unwrap_or_else(|| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            default_name(&input, now)
        });
        aws::block_on(async {
            let aws = aws::load(&args.aws).await?;
            let arn = start(&aws, &args.state_machine, &name, &input).await?;
            if !args.watch {
                match args.options.format {
                    Format::Text => println!("{arn}"),
                    Format::Json => {
                        println!("{}", json!({"executionArn": arn, "name": name}));
                    }
                }
                return Ok(crate::exit::OK);
            }
            if args.options.format == Format::Text {
                println!("execution {arn}");
            }
            watch::watch(&aws, &arn, true, &args.options).await
        })?
    });
    match result {
        Ok(code) => code,
        Err(e) => e.report("start"),
    }
}

/// Starts execution `name` of `target` (ARN or name) with `input`; returns its ARN.
async fn start(aws: &Aws, target: &str, name: &str, input: &str) -> Result<String, CliError> {
    let arn = if target.starts_with("arn:") {
        target.to_owned()
    } else {
        parse_name(target).map_err(CliError::usage)?;
        find_state_machine(aws, target).await?.ok_or_else(|| {
            CliError::usage(format!(
                "there is no state machine named `{target}` in {}",
                aws.region()
            ))
            .hint("check the name and --region, or deploy it first: stepwright deploy FILE --name NAME")
        })?
    };
    let out = aws
        .sfn()
        .start_execution()
        .state_machine_arn(&arn)
        .name(name)
        .input(input)
        .send()
        .await
        .map_err(|e| {
            let already = e.code() == Some("ExecutionAlreadyExists");
            let err = aws.error("StartExecution", &e);
            if already {
                err.hint(format!(
                    "execution names are unique per state machine (for 90 days after they end): \
                     pass another --name than `{name}`"
                ))
            } else {
                err
            }
        })?;
    Ok(out.execution_arn().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_are_valid_and_deterministic() {
        // 2024-06-01T12:00:00Z
        let n = default_name("{}", 1_717_243_200);
        assert!(n.starts_with("run-20240601T120000Z-"), "{n}");
        assert_eq!(n.len(), "run-20240601T120000Z-".len() + 12);
        assert!(parse_name(&n).is_ok());
        assert_eq!(n, default_name("{}", 1_717_243_200));
        assert_ne!(n, default_name("{\"a\":1}", 1_717_243_200));
        assert_ne!(n, default_name("{}", 1_717_243_201));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(utc_stamp(951_782_400), "20000229T000000Z");
        assert_eq!(utc_stamp(1_709_251_199), "20240229T235959Z");
        assert_eq!(utc_stamp(4_102_444_800), "21000101T000000Z");
    }

    #[test]
    fn inputs_are_checked() {
        assert_eq!(read_input("{\"a\": 1}").unwrap(), "{\"a\": 1}");
        let e = read_input("{a: 1}").unwrap_err();
        assert!(e.message.contains("not valid JSON"), "{e}");
        let e = read_input("@/nonexistent/input.json").unwrap_err();
        assert!(e.message.contains("cannot read the input file"), "{e}");
        let big = format!("\"{}\"", "x".repeat(MAX_INPUT_BYTES));
        assert!(read_input(&big).unwrap_err().message.contains("at most"));
    }
}
