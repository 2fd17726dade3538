//! The Lambda entry point: JSON logs and `lambda_runtime`, with a clear error (not a panic) when
//! the process is not running under a Lambda runtime API.

use std::fmt;
use std::future::Future;

use lambda_runtime::{Diagnostic, IntoFunctionResponse, LambdaEvent, Service};
use serde::{Deserialize, Serialize};

/// The boxed error type `main` returns.
pub type BoxError = lambda_runtime::Error;

/// The variables `lambda_runtime` needs; it panics when one is missing, so [`run`] checks first.
const REQUIRED_ENV: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

/// Checks that the Lambda runtime environment is present, naming what is missing.
///
/// ```
/// let missing = lambda_kit::check_runtime_env(|_| None).unwrap_err();
/// assert!(missing.contains("AWS_LAMBDA_RUNTIME_API"));
/// ```
pub fn check_runtime_env(get: impl Fn(&str) -> Option<String>) -> Result<(), String> {
    let missing: Vec<&str> = REQUIRED_ENV
        .iter()
        .copied()
        .filter(|v| get(v).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "not running under a Lambda runtime: {} not set (deploy the bootstrap, run it under \
             `cargo lambda watch`, or call the handler library function directly)",
            missing.join(", ")
        ));
    }
    if let Some(mem) = get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") {
        if mem.trim().parse::<i32>().is_err() {
            return Err(format!(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE is not an integer: `{mem}`"
            ));
        }
    }
    Ok(())
}

/// Runs `handler` under the Lambda runtime with JSON logs ([`crate::init_logging`]).
///
/// `main.rs` of every Stepwright Lambda is this call around `service_fn`:
///
/// ```no_run
/// use lambda_kit::{LambdaError, LambdaEvent, service_fn};
/// use serde_json::Value;
///
/// async fn handler(event: LambdaEvent<Value>) -> Result<Value, LambdaError> {
///     Ok(event.payload)
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), lambda_kit::BoxError> {
///     lambda_kit::run(service_fn(handler)).await
/// }
/// ```
pub async fn run<A, F, R, B, S, D, E>(handler: F) -> Result<(), BoxError>
where
    F: Service<LambdaEvent<A>, Response = R>,
    F::Future: Future<Output = Result<R, F::Error>>,
    F::Error: Into<Diagnostic> + fmt::Debug,
    A: for<'de> Deserialize<'de>,
    R: IntoFunctionResponse<B, S>,
    B: Serialize,
    S: futures::Stream<Item = Result<D, E>> + Unpin + Send + 'static,
    D: Into<bytes::Bytes> + Send,
    E: Into<BoxError> + Send + fmt::Debug,
{
    check_runtime_env(|k| std::env::var(k).ok())?;
    crate::init_logging();
    lambda_runtime::run(handler).await
}
