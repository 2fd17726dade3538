//! Task dispatch: in-process handlers registered by function name, resource ARN or state name.
//!
//! A handler is anything implementing [`TaskHandler`]; closures
//! `Fn(&TaskRequest) -> Result<Value, TaskError>` implement it. Handlers are synchronous from the
//! runner's view: an async handler can be adapted by the caller (e.g. with a runtime's
//! `block_on`). A handler may report how much virtual time its work took and when it sent
//! heartbeats through the [`TaskContext`], so that `TimeoutSeconds` and `HeartbeatSeconds` are
//! enforced in virtual time.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

/// What a Task state asks of its handler.
#[derive(Debug)]
pub struct TaskRequest<'a> {
    /// The Task state's name.
    pub state_name: &'a str,
    /// The state's `Resource` ARN, as written.
    pub resource: &'a str,
    /// For Lambda resources, the function name (from `FunctionName` or the function ARN).
    pub function_name: Option<&'a str>,
    /// The request: the payload after `Parameters`/`Arguments` (for `lambda:invoke`, the
    /// `Payload` field is what a Lambda handler receives: see [`TaskRequest::lambda_payload`]).
    pub payload: &'a Value,
    /// The context object (`$$`).
    pub context: &'a Value,
    /// The task token, for `.waitForTaskToken` resources.
    pub task_token: Option<&'a str>,
    /// 0 for the first attempt, then 1, 2, ... for retries.
    pub attempt: u32,
}

impl TaskRequest<'_> {
    /// What a Lambda function receives: the `Payload` field for `lambda:invoke`, the whole
    /// payload for a function ARN resource (and for any other resource).
    pub fn lambda_payload(&self) -> &Value {
        if is_lambda_invoke(self.resource) {
            self.payload.get("Payload").unwrap_or(&Value::Null)
        } else {
            self.payload
        }
    }
}

/// An error a task reports: the name Retry/Catch match on, and a cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    /// The error name, e.g. `Cleanse.InvalidInput` or `Lambda.ServiceException`.
    pub error: String,
    /// The cause.
    pub cause: String,
}

impl TaskError {
    /// A task error.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> TaskError {
        TaskError {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for TaskError {}

/// Lets a handler report virtual time and heartbeats.
#[derive(Debug, Default)]
pub struct TaskContext {
    elapsed: Duration,
    heartbeats: Vec<Duration>,
}

impl TaskContext {
    pub(crate) fn new() -> TaskContext {
        TaskContext::default()
    }

    /// Records that the task's work took `d` more (virtual) time.
    pub fn sleep(&mut self, d: Duration) {
        self.elapsed += d;
    }

    /// Records a heartbeat at the current (virtual) time of the task.
    pub fn heartbeat(&mut self) {
        self.heartbeats.push(self.elapsed);
    }

    /// The virtual time the task has taken so far.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    pub(crate) fn heartbeats(&self) -> &[Duration] {
        &self.heartbeats
    }
}

/// A task implementation.
///
/// ```
/// use serde_json::{json, Value};
/// use stepwright_local::tasks::{TaskContext, TaskError, TaskHandler, TaskRequest};
///
/// struct Doubler;
/// impl TaskHandler for Doubler {
///     fn invoke(&self, req: &TaskRequest<'_>, _ctx: &mut TaskContext) -> Result<Value, TaskError> {
///         let x = req.lambda_payload()["x"].as_i64().ok_or_else(|| TaskError::new("Bad", "no x"))?;
///         Ok(json!({"x": x * 2}))
///     }
/// }
/// ```
pub trait TaskHandler: Send + Sync {
    /// Runs the task: `Ok(result)` or `Err(error)` (Retry/Catch see the error name).
    fn invoke(&self, request: &TaskRequest<'_>, ctx: &mut TaskContext) -> Result<Value, TaskError>;
}

impl<F> TaskHandler for F
where
    F: Fn(&TaskRequest<'_>) -> Result<Value, TaskError> + Send + Sync,
{
    fn invoke(&self, request: &TaskRequest<'_>, _: &mut TaskContext) -> Result<Value, TaskError> {
        self(request)
    }
}

/// Adapts a closure that also takes the [`TaskContext`] (to report virtual time or heartbeats).
///
/// ```
/// use std::time::Duration;
/// use serde_json::json;
/// use stepwright_local::tasks::with_context;
/// let slow = with_context(|_req, ctx| { ctx.sleep(Duration::from_secs(3600)); Ok(json!({})) });
/// # let _ = slow;
/// ```
pub fn with_context<F>(f: F) -> impl TaskHandler
where
    F: Fn(&TaskRequest<'_>, &mut TaskContext) -> Result<Value, TaskError> + Send + Sync,
{
    struct WithCtx<F>(F);
    impl<F> TaskHandler for WithCtx<F>
    where
        F: Fn(&TaskRequest<'_>, &mut TaskContext) -> Result<Value, TaskError> + Send + Sync,
    {
        fn invoke(
            &self,
            request: &TaskRequest<'_>,
            ctx: &mut TaskContext,
        ) -> Result<Value, TaskError> {
            (self.0)(request, ctx)
        }
    }
    WithCtx(f)
}

/// Handlers registered with a runner.
#[derive(Clone, Default)]
pub(crate) struct Registry {
    /// By state name (most specific).
    pub by_state: HashMap<String, Arc<dyn TaskHandler>>,
    /// By Lambda function name.
    pub by_function: HashMap<String, Arc<dyn TaskHandler>>,
    /// By resource ARN (exact, or with the `.sync`/`.waitForTaskToken` suffix removed).
    pub by_resource: HashMap<String, Arc<dyn TaskHandler>>,
    /// Catch-all for Lambda functions (e.g. the Lambda Invoke API client).
    pub lambda_fallback: Option<Arc<dyn TaskHandler>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("states", &self.by_state.keys().collect::<Vec<_>>())
            .field("functions", &self.by_function.keys().collect::<Vec<_>>())
            .field("resources", &self.by_resource.keys().collect::<Vec<_>>())
            .field("lambda_fallback", &self.lambda_fallback.is_some())
            .finish()
    }
}

/// True for `arn:<partition>:states:::lambda:invoke` (and its `.waitForTaskToken` form).
pub fn is_lambda_invoke(resource: &str) -> bool {
    let r = strip_pattern(resource);
    r.starts_with("arn:") && r.ends_with(":states:::lambda:invoke")
}

/// True for a Lambda function ARN `arn:<partition>:lambda:<region>:<account>:function:<name>`.
pub fn is_function_arn(resource: &str) -> bool {
    let parts: Vec<&str> = resource.split(':').collect();
    parts.len() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function"
}

/// True for an activity ARN.
pub fn is_activity_arn(resource: &str) -> bool {
    let parts: Vec<&str> = resource.split(':').collect();
    parts.len() >= 7 && parts[0] == "arn" && parts[2] == "states" && parts[5] == "activity"
}

/// The resource without its integration pattern suffix (`.sync`, `.sync:2`, `.waitForTaskToken`).
pub fn strip_pattern(resource: &str) -> &str {
    for suffix in [".sync:2", ".sync", ".waitForTaskToken"] {
        if let Some(r) = resource.strip_suffix(suffix) {
            return r;
        }
    }
    resource
}

/// The function name in a Lambda `FunctionName`: a name, a name with a qualifier
/// (`name:alias`), a partial ARN (`123456789012:function:name`) or a full ARN.
///
/// ```
/// use stepwright_local::tasks::function_name;
/// assert_eq!(function_name("cleanse"), "cleanse");
/// assert_eq!(function_name("arn:aws:lambda:us-east-1:123456789012:function:cleanse:live"), "cleanse");
/// assert_eq!(function_name("123456789012:function:cleanse"), "cleanse");
/// assert_eq!(function_name("cleanse:$LATEST"), "cleanse");
/// ```
pub fn function_name(s: &str) -> &str {
    let parts: Vec<&str> = s.split(':').collect();
    if let Some(i) = parts.iter().position(|p| *p == "function") {
        if let Some(name) = parts.get(i + 1) {
            return name;
        }
    }
    parts[0]
}

/// The `(resourceType, resource)` pair AWS records for a service integration ARN
/// `arn:aws:states:::lambda:invoke` → (`lambda`, `invoke`),
/// `arn:aws:states:::aws-sdk:s3:getObject` → (`aws-sdk:s3`, `getObject`).
pub fn resource_type_and_name(resource: &str) -> (String, String) {
    let rest = resource
        .split_once(":states:::")
        .map(|(_, r)| r)
        .unwrap_or(resource);
    match rest.rsplit_once(':') {
        Some((ty, name)) => (ty.to_string(), name.to_string()),
        None => (rest.to_string(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_shapes() {
        assert!(is_lambda_invoke("arn:aws:states:::lambda:invoke"));
        assert!(is_lambda_invoke(
            "arn:aws:states:::lambda:invoke.waitForTaskToken"
        ));
        assert!(!is_lambda_invoke("arn:aws:states:::sqs:sendMessage"));
        assert!(is_function_arn(
            "arn:aws:lambda:us-east-1:123456789012:function:f"
        ));
        assert!(!is_function_arn("arn:aws:states:::lambda:invoke"));
        assert!(is_activity_arn(
            "arn:aws:states:us-east-1:123456789012:activity:a"
        ));
        assert_eq!(
            resource_type_and_name("arn:aws:states:::aws-sdk:s3:getObject"),
            ("aws-sdk:s3".into(), "getObject".into())
        );
        assert_eq!(
            resource_type_and_name("arn:aws:states:::sagemaker:createTrainingJob.sync"),
            ("sagemaker".into(), "createTrainingJob.sync".into())
        );
        assert_eq!(
            strip_pattern("arn:aws:states:::glue:startJobRun.sync"),
            "arn:aws:states:::glue:startJobRun"
        );
    }
}
