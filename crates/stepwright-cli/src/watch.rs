//! `stepwright watch EXECUTION_ARN [--follow]`: prints an execution's history as progress lines
//! (one per state entered, exited or failed, plus the execution's start and end), and with
//! `--follow` keeps polling `GetExecutionHistory` until the execution ends.
//!
//! Polling asks for the newest events first (`reverseOrder`) and pages back only to the last
//! event already printed, so each poll costs one call however long the history is; the interval
//! starts at 250 ms, grows by half when nothing happened, up to 5 s, and drops back when events
//! arrive. Each failure line names the state it happened in (followed through
//! `previousEventId`).
//!
//! Exit codes: 0 SUCCEEDED, 1 FAILED, TIMED_OUT or ABORTED, 2 usage, I/O, configuration or AWS
//! errors (an unknown execution among them), 3 still running (without `--follow`, or when
//! `--timeout` elapsed).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sfn::primitives::{DateTime, DateTimeFormat};
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use clap::ValueEnum;
use serde_json::{json, Map, Value};

use crate::aws::{self, Aws, AwsArgs, CliError};
use crate::exit;

/// Exit code: the execution has not finished.
pub const RUNNING: u8 = 3;

const FIRST_INTERVAL: Duration = Duration::from_millis(250);
const MAX_INTERVAL: Duration = Duration::from_secs(5);

/// Arguments of `stepwright watch`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    stepwright watch arn:aws:states:us-east-1:123456789012:execution:training:run-1 --follow\n  \
    stepwright watch $EXECUTION_ARN --follow --format json | jq -c 'select(.event == \"failed\")'\n  \
    stepwright watch $EXECUTION_ARN            # the history so far; exit 3 while running\n\n\
    Exit codes: 0 SUCCEEDED, 1 FAILED/TIMED_OUT/ABORTED, 2 usage, I/O, configuration or AWS \
    error, 3 still running (no --follow, or --timeout elapsed).")]
pub struct Args {
    /// The execution ARN (as printed by `stepwright start`).
    #[arg(value_name = "EXECUTION_ARN", value_parser = parse_execution_arn)]
    pub execution_arn: String,
    /// Keep polling until the execution ends.
    #[arg(short, long)]
    pub follow: bool,
    #[command(flatten)]
    pub options: WatchOptions,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// What `watch` and `start --watch` share.
#[derive(Debug, Clone, clap::Args)]
pub struct WatchOptions {
    /// Progress lines for people, or one JSON object per line (events, then the result).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Stop following after this many seconds (exit 3 if still running).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
}

/// Output format of `watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A progress line per event, then the status (and output or error).
    Text,
    /// One JSON object per line: `{"event": ...}` per event, then `{"status": ...}`.
    Json,
}

fn parse_execution_arn(s: &str) -> Result<String, String> {
    if s.starts_with("arn:") && (s.contains(":execution:") || s.contains(":express:")) {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{s}` is not an execution ARN (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME)"
        ))
    }
}

/// Runs the subcommand; returns the exit code.
pub fn run(args: &Args) -> u8 {
    let result = aws::block_on(async {
        let aws = aws::load(&args.aws).await?;
        watch(&aws, &args.execution_arn, args.follow, &args.options).await
    })
    .and_then(|r| r);
    match result {
        Ok(code) => code,
        Err(e) => e.report("watch"),
    }
}

/// Prints the execution's events (all of them; with `follow`, until it ends) and its status;
/// returns the exit code for that status.
pub(crate) async fn watch(
    aws: &Aws,
    arn: &str,
    follow: bool,
    options: &WatchOptions,
) -> Result<u8, CliError> {
    let sfn = aws.sfn();
    let deadline = options
        .timeout
        .filter(|t| t.is_finite() && *t >= 0.0)
        .map(|t| Instant::now() + Duration::from_secs_f64(t.min(1e9)));
    let mut printer = Printer::new(options.format);
    let mut last_id = 0_i64;
    let mut interval = FIRST_INTERVAL;
    loop {
        let events = new_events(aws, &sfn, arn, last_id).await?;
        let got_any = !events.is_empty();
        let mut ended = false;
        for e in &events {
            last_id = last_id.max(e.id());
            ended |= is_terminal(e.r#type());
            printer.event(e);
        }
        if ended || !follow {
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        interval = if got_any {
            FIRST_INTERVAL
        } else {
            (interval * 3 / 2).min(MAX_INTERVAL)
        };
        let mut sleep = interval;
        if let Some(d) = deadline {
            sleep = sleep.min(d.saturating_duration_since(Instant::now()));
        }
        tokio::time::sleep(sleep).await;
    }
    let described = sfn
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .map_err(|e| {
            let mut err = aws.error("DescribeExecution", &e);
            err.code = exit::USAGE;
            err
        })?;
    let status = described.status().clone();
    let code = match status {
        ExecutionStatus::Succeeded => exit::OK,
        ExecutionStatus::Failed | ExecutionStatus::TimedOut | ExecutionStatus::Aborted => {
            exit::INVALID
        }
        _ => RUNNING,
    };
    let end = described.stop_date();
    let elapsed = end.map(|e| seconds_between(described.start_date(), e));
    printer.result(&Final {
        arn,
        status: status.as_str(),
        elapsed,
        output: described.output(),
        error: described.error(),
        cause: described.cause(),
        follow,
    });
    Ok(code)
}

/// The events after `last_id`, oldest first: newest-first pages until one reaches `last_id`.
async fn new_events(
    aws: &Aws,
    sfn: &aws_sdk_sfn::Client,
    arn: &str,
    last_id: i64,
) -> Result<Vec<HistoryEvent>, CliError> {
    let mut out: Vec<HistoryEvent> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(arn)
            .reverse_order(true)
            .include_execution_data(true)
            .max_results(if last_id == 0 { 1000 } else { 100 })
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| {
                let mut err = aws.error("GetExecutionHistory", &e);
                err.code = exit::USAGE;
                err
            })?;
        let mut reached = false;
        for e in page.events() {
            if e.id() > last_id {
                out.push(e.clone());
            } else {
                reached = true;
            }
        }
        match page.next_token() {
            Some(t) if !reached && !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    // Emulators may ignore reverseOrder: sort rather than reverse.
    out.sort_by_key(HistoryEvent::id);
    out.dedup_by_key(|e| e.id());
    Ok(out)
}

fn is_terminal(t: &HistoryEventType) -> bool {
    matches!(
        t,
        HistoryEventType::ExecutionSucceeded
            | HistoryEventType::ExecutionFailed
            | HistoryEventType::ExecutionAborted
            | HistoryEventType::ExecutionTimedOut
    )
}

fn seconds_between(a: &DateTime, b: &DateTime) -> f64 {
    (b.as_secs_f64() - a.as_secs_f64()).max(0.0)
}

/// The (error, cause) of a failure event, from whichever details it carries.
fn failure(e: &HistoryEvent) -> Option<(Option<&str>, Option<&str>)> {
    macro_rules! first {
        ($($acc:ident),* $(,)?) => {
            $(if let Some(d) = e.$acc() { return Some((d.error(), d.cause())); })*
        };
    }
    first!(
        task_failed_event_details,
        task_timed_out_event_details,
        task_start_failed_event_details,
        task_submit_failed_event_details,
        lambda_function_failed_event_details,
        lambda_function_timed_out_event_details,
        lambda_function_start_failed_event_details,
        lambda_function_schedule_failed_event_details,
        activity_failed_event_details,
        activity_timed_out_event_details,
        activity_schedule_failed_event_details,
        execution_failed_event_details,
        execution_timed_out_event_details,
        execution_aborted_event_details,
        map_run_failed_event_details,
    );
    if let Some(d) = e.evaluation_failed_event_details() {
        return Some((d.error(), d.cause()));
    }
    let t = e.r#type().as_str();
    (t.ends_with("Failed") || t.ends_with("TimedOut") || t.ends_with("Aborted"))
        .then_some((None, None))
}

/// What one event means for the progress display.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    /// started, entered, exited, failed, succeeded, aborted, timed_out, redriven
    event: &'static str,
    state: Option<String>,
    /// The state's type for `entered` (Task, Choice, ...).
    kind: Option<String>,
    error: Option<String>,
    cause: Option<String>,
}

/// Turns events into progress lines (remembering which state each event belongs to).
struct Printer {
    format: Format,
    start: Option<DateTime>,
    state_of: HashMap<i64, String>,
}

impl Printer {
    fn new(format: Format) -> Self {
        Printer {
            format,
            start: None,
            state_of: HashMap::new(),
        }
    }

    /// The line for `e`, if it is one the display shows.
    fn line(&mut self, e: &HistoryEvent) -> Option<Line> {
        let t = e.r#type().as_str();
        let inherited = self.state_of.get(&e.previous_event_id()).cloned();
        let mut line = Line {
            event: "",
            state: None,
            kind: None,
            error: None,
            cause: None,
        };
        if let Some(d) = e.state_entered_event_details() {
            self.state_of.insert(e.id(), d.name().to_owned());
            line.event = "entered";
            line.state = Some(d.name().to_owned());
            line.kind = t.strip_suffix("StateEntered").map(str::to_owned);
            return Some(line);
        }
        if let Some(d) = e.state_exited_event_details() {
            // events after an exit belong to the next state, not this one
            line.event = "exited";
            line.state = Some(d.name().to_owned());
            return Some(line);
        }
        if let Some(s) = inherited.clone() {
            self.state_of.insert(e.id(), s);
        }
        line.event = match e.r#type() {
            HistoryEventType::ExecutionStarted => "started",
            HistoryEventType::ExecutionSucceeded => "succeeded",
            HistoryEventType::ExecutionFailed => "failed",
            HistoryEventType::ExecutionAborted => "aborted",
            HistoryEventType::ExecutionTimedOut => "timed_out",
            HistoryEventType::ExecutionRedriven => "redriven",
            _ => match failure(e) {
                Some(_) => "failed",
                None => return None,
            },
        };
        if let Some((error, cause)) = failure(e) {
            line.error = error.map(str::to_owned);
            line.cause = cause.map(str::to_owned);
        }
        if !t.starts_with("Execution") {
            line.state = inherited;
        }
        Some(line)
    }

    fn event(&mut self, e: &HistoryEvent) {
        if self.start.is_none() || e.r#type() == &HistoryEventType::ExecutionStarted {
            self.start = Some(*e.timestamp());
        }
        let Some(line) = self.line(e) else {
            return;
        };
        let elapsed = self
            .start
            .as_ref()
            .map_or(0.0, |s| seconds_between(s, e.timestamp()));
        match self.format {
            Format::Text => println!("{}", text_line(&line, elapsed)),
            Format::Json => {
                let mut o = Map::new();
                o.insert("event".into(), json!(line.event));
                o.insert("id".into(), json!(e.id()));
                o.insert("type".into(), json!(e.r#type().as_str()));
                o.insert(
                    "timestamp".into(),
                    json!(e.timestamp().fmt(DateTimeFormat::DateTime).ok()),
                );
                o.insert("elapsed".into(), json!(round3(elapsed)));
                for (k, v) in [
                    ("state", &line.state),
                    ("stateType", &line.kind),
                    ("error", &line.error),
                    ("cause", &line.cause),
                ] {
                    if let Some(v) = v {
                        o.insert(k.into(), json!(v));
                    }
                }
                println!("{}", Value::Object(o));
            }
        }
    }

    fn result(&self, f: &Final<'_>) {
        match self.format {
            Format::Text => {
                let took = f
                    .elapsed
                    .map_or_else(String::new, |s| format!(" in {s:.2}s"));
                println!("{}{took}", f.status);
                if let Some(o) = f.output {
                    println!("output: {o}");
                }
                if f.error.is_some() || f.cause.is_some() {
                    println!(
                        "error: {}{}",
                        f.error.unwrap_or("(none)"),
                        f.cause.map_or_else(String::new, |c| format!(": {c}"))
                    );
                }
                if f.status == "RUNNING" && !f.follow {
                    println!("(still running: add --follow to wait for the end)");
                }
            }
            Format::Json => {
                let output = f
                    .output
                    .map(|o| serde_json::from_str::<Value>(o).unwrap_or_else(|_| json!(o)));
                let mut o = Map::new();
                o.insert("status".into(), json!(f.status));
                o.insert("executionArn".into(), json!(f.arn));
                if let Some(s) = f.elapsed {
                    o.insert("elapsed".into(), json!(round3(s)));
                }
                if let Some(v) = output {
                    o.insert("output".into(), v);
                }
                if let Some(v) = f.error {
                    o.insert("error".into(), json!(v));
                }
                if let Some(v) = f.cause {
                    o.insert("cause".into(), json!(v));
                }
                println!("{}", Value::Object(o));
            }
        }
    }
}

/// The execution's end, as `DescribeExecution` reports it.
struct Final<'a> {
    arn: &'a str,
    status: &'a str,
    elapsed: Option<f64>,
    output: Option<&'a str>,
    error: Option<&'a str>,
    cause: Option<&'a str>,
    follow: bool,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn text_line(line: &Line, elapsed: f64) -> String {
    let mut s = format!("{elapsed:>8.2}s  {:<9}", line.event);
    if let Some(st) = &line.state {
        s.push(' ');
        s.push_str(st);
    }
    if let Some(k) = &line.kind {
        s.push_str(&format!(" ({k})"));
    }
    if line.error.is_some() || line.cause.is_some() {
        s.push_str(if line.state.is_some() { ": " } else { " " });
        s.push_str(line.error.as_deref().unwrap_or("(no error name)"));
        if let Some(c) = &line.cause {
            let c = c.replace(['\n', '\r'], " ");
            let short: String = c.chars().take(300).collect();
            s.push_str(": ");
            s.push_str(&short);
            if short.len() < c.len() {
                s.push('…');
            }
        }
    }
    s.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sfn::types::{
        ExecutionFailedEventDetails, StateEnteredEventDetails, StateExitedEventDetails,
        TaskFailedEventDetails,
    };

    fn ev(
        id: i64,
        prev: i64,
        t: HistoryEventType,
        secs: i64,
    ) -> aws_sdk_sfn::types::builders::HistoryEventBuilder {
        HistoryEvent::builder()
            .id(id)
            .previous_event_id(prev)
            .r#type(t)
            .timestamp(DateTime::from_secs(1_700_000_000 + secs))
    }

    fn entered(id: i64, prev: i64, t: HistoryEventType, name: &str) -> HistoryEvent {
        ev(id, prev, t, 1)
            .state_entered_event_details(
                StateEnteredEventDetails::builder()
                    .name(name)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn failures_name_their_state_and_quiet_events_are_skipped() {
        let mut p = Printer::new(Format::Text);
        let start = ev(1, 0, HistoryEventType::ExecutionStarted, 0)
            .build()
            .unwrap();
        assert_eq!(p.line(&start).unwrap().event, "started");
        let l = p
            .line(&entered(2, 1, HistoryEventType::TaskStateEntered, "Train"))
            .unwrap();
        assert_eq!(
            (l.event, l.state.as_deref(), l.kind.as_deref()),
            ("entered", Some("Train"), Some("Task"))
        );
        let scheduled = ev(3, 2, HistoryEventType::TaskScheduled, 1)
            .build()
            .unwrap();
        assert!(p.line(&scheduled).is_none());
        let failed = ev(4, 3, HistoryEventType::TaskFailed, 2)
            .task_failed_event_details(
                TaskFailedEventDetails::builder()
                    .resource_type("lambda")
                    .resource("invoke")
                    .error("Cleanse.InvalidInput")
                    .cause("bad row 3")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let l = p.line(&failed).unwrap();
        assert_eq!(l.state.as_deref(), Some("Train"));
        assert_eq!(
            text_line(&l, 1.5),
            "    1.50s  failed    Train: Cleanse.InvalidInput: bad row 3"
        );
        let exited = ev(5, 4, HistoryEventType::TaskStateExited, 2)
            .state_exited_event_details(
                StateExitedEventDetails::builder()
                    .name("Train")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        assert_eq!(p.line(&exited).unwrap().event, "exited");
        let end = ev(6, 5, HistoryEventType::ExecutionFailed, 3)
            .execution_failed_event_details(
                ExecutionFailedEventDetails::builder().error("E").build(),
            )
            .build()
            .unwrap();
        let l = p.line(&end).unwrap();
        assert_eq!(
            (l.event, l.state.as_deref(), l.error.as_deref()),
            ("failed", None, Some("E"))
        );
        assert!(is_terminal(end.r#type()));
        assert!(!is_terminal(exited.r#type()));
        assert_eq!(text_line(&l, 3.0), "    3.00s  failed    E");
    }

    #[test]
    fn execution_arns_are_checked() {
        assert!(parse_execution_arn("arn:aws:states:us-east-1:1:execution:m:n").is_ok());
        assert!(parse_execution_arn("arn:aws:states:us-east-1:1:stateMachine:m").is_err());
        assert!(parse_execution_arn("run-1").is_err());
    }
}
