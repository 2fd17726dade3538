//! JSON logs through `tracing`: one JSON object per line on stdout, which CloudWatch Logs (and
//! Lambda's JSON log format) index by field.

use tracing_subscriber::EnvFilter;

/// The filter used when neither `RUST_LOG` nor `AWS_LAMBDA_LOG_LEVEL` is set.
pub const DEFAULT_FILTER: &str = "info";

/// Picks the log filter: `RUST_LOG` if set, else Lambda's `AWS_LAMBDA_LOG_LEVEL` (set by the
/// function's logging configuration; `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`), else
/// [`DEFAULT_FILTER`].
///
/// ```
/// use lambda_kit::log_filter;
/// assert_eq!(log_filter(Some("debug,hyper=warn"), Some("ERROR")), "debug,hyper=warn");
/// assert_eq!(log_filter(None, Some("WARN")), "warn");
/// assert_eq!(log_filter(None, Some("FATAL")), "error");
/// assert_eq!(log_filter(None, None), "info");
/// ```
pub fn log_filter(rust_log: Option<&str>, lambda_level: Option<&str>) -> String {
    if let Some(f) = rust_log.filter(|s| !s.trim().is_empty()) {
        return f.to_owned();
    }
    match lambda_level
        .map(|l| l.trim().to_ascii_lowercase())
        .as_deref()
    {
        Some(l @ ("trace" | "debug" | "info" | "warn" | "error")) => l.to_owned(),
        Some("fatal") => "error".to_owned(),
        _ => DEFAULT_FILTER.to_owned(),
    }
}

/// Installs the JSON `tracing` subscriber (once; later calls and an already installed
/// subscriber are left alone). Span fields such as the Lambda request id are included.
pub fn init_logging() {
    let filter = log_filter(
        std::env::var("RUST_LOG").ok().as_deref(),
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
    );
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(true)
        .try_init();
}
