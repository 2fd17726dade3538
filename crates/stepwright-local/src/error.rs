//! Errors: the failures an execution raises (with AWS's error names and cause texts) and the
//! errors that stop a run before it starts (bad definition, bad mock file, bad input).

use std::fmt;

/// Error names Step Functions defines (`States.*`).
pub mod names {
    /// Matches any error name (except `States.Runtime`; `States.DataLimitExceeded` only by name).
    pub const ALL: &str = "States.ALL";
    /// A runtime error that cannot be caught or retried (bad path, bad input type, ...).
    pub const RUNTIME: &str = "States.Runtime";
    /// A payload exceeded 256 KiB.
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    /// A task ran longer than `TimeoutSeconds`.
    pub const TIMEOUT: &str = "States.Timeout";
    /// A task missed a heartbeat.
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    /// A Task state failed (as a matcher: any error of a Task except `States.Timeout`).
    pub const TASK_FAILED: &str = "States.TaskFailed";
    /// No Choice rule matched and there is no Default.
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    /// An intrinsic function failed.
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    /// A JSONata expression failed or returned something unusable.
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
    /// A ResultPath could not be applied.
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    /// A parameter path could not be resolved.
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    /// A branch of a Parallel state failed.
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    /// A Distributed Map exceeded its tolerated failures.
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    /// A Distributed Map could not read its items.
    pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
    /// A Distributed Map could not write its results.
    pub const RESULT_WRITER_FAILED: &str = "States.ResultWriterFailed";
    /// Permissions (never raised locally).
    pub const PERMISSIONS: &str = "States.Permissions";
}

/// How a failure is reported and handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// An ordinary error: retriable and catchable by name or `States.ALL`.
    Normal,
    /// `States.Runtime`: ends the execution; never retried or caught.
    Runtime,
    /// A JSONata evaluation error: an `EvaluationFailed` event precedes it.
    Evaluation,
    /// The execution must stop (history limit, execution timeout): not catchable.
    Halt,
}

/// An error raised while running a state: the error name, the cause, and how AWS reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The error name (`States.Runtime`, `Lambda.ServiceException`, a Fail state's `Error`, ...).
    pub error: Option<String>,
    /// The cause text.
    pub cause: Option<String>,
    pub(crate) kind: FailureKind,
    /// For evaluation failures: the field (`Output`, `Assign/x`, `Items`, ...).
    pub(crate) location: Option<String>,
    /// Set when a task produced this failure (drives `TaskFailed` events).
    pub(crate) from_task: bool,
    /// The "An error occurred while executing the state ..." prefix was added.
    pub(crate) located: bool,
    /// The `EvaluationFailed` event was recorded.
    pub(crate) reported: bool,
    /// A data-flow error: gets the state prefix whatever its name.
    pub(crate) prefixable: bool,
}

impl Failure {
    /// An ordinary, catchable error.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Failure {
        Failure {
            error: Some(error.into()),
            cause: Some(cause.into()),
            kind: FailureKind::Normal,
            location: None,
            from_task: false,
            located: false,
            reported: false,
            prefixable: false,
        }
    }

    /// An error name without a cause.
    pub(crate) fn bare(error: Option<String>, cause: Option<String>) -> Failure {
        Failure {
            error,
            cause,
            kind: FailureKind::Normal,
            location: None,
            from_task: false,
            located: false,
            reported: false,
            prefixable: false,
        }
    }

    /// `States.Runtime` with a cause (never caught).
    pub(crate) fn runtime(cause: impl Into<String>) -> Failure {
        Failure {
            error: Some(names::RUNTIME.into()),
            cause: Some(cause.into()),
            kind: FailureKind::Runtime,
            location: None,
            from_task: false,
            located: false,
            reported: false,
            prefixable: false,
        }
    }

    /// `States.QueryEvaluationError` (reported with an `EvaluationFailed` event).
    pub(crate) fn query(location: Option<String>, cause: impl Into<String>) -> Failure {
        Failure {
            error: Some(names::QUERY_EVALUATION_ERROR.into()),
            cause: Some(cause.into()),
            kind: FailureKind::Evaluation,
            location,
            from_task: false,
            located: false,
            reported: false,
            prefixable: false,
        }
    }

    /// A failure that stops the execution.
    pub(crate) fn halt(error: impl Into<String>, cause: impl Into<String>) -> Failure {
        Failure {
            error: Some(error.into()),
            cause: Some(cause.into()),
            kind: FailureKind::Halt,
            location: None,
            from_task: false,
            located: false,
            reported: false,
            prefixable: false,
        }
    }

    /// Changes the kind.
    pub(crate) fn with_kind(mut self, kind: FailureKind) -> Failure {
        self.kind = kind;
        self
    }

    /// The error name, or `""`.
    pub fn error_name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    /// The error output a Catch passes on: `{"Error": ..., "Cause": ...}`.
    pub fn error_output(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert(
            "Error".into(),
            serde_json::Value::String(self.error.clone().unwrap_or_default()),
        );
        m.insert(
            "Cause".into(),
            serde_json::Value::String(self.cause.clone().unwrap_or_default()),
        );
        serde_json::Value::Object(m)
    }

    /// True when a Retrier or Catcher with these `ErrorEquals` names handles this failure.
    /// `in_task` tells whether the failing state is a Task (for `States.TaskFailed`).
    pub(crate) fn matches(&self, error_equals: &[String], in_task: bool) -> bool {
        if matches!(self.kind, FailureKind::Runtime | FailureKind::Halt) {
            return false;
        }
        let name = self.error_name();
        error_equals.iter().any(|e| {
            if e == name {
                return true;
            }
            match e.as_str() {
                names::ALL => name != names::DATA_LIMIT_EXCEEDED && name != names::RUNTIME,
                names::TIMEOUT => name == names::HEARTBEAT_TIMEOUT,
                names::TASK_FAILED => {
                    in_task
                        && name != names::TIMEOUT
                        && name != names::HEARTBEAT_TIMEOUT
                        && name != names::DATA_LIMIT_EXCEEDED
                        && name != names::RUNTIME
                }
                _ => false,
            }
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error.as_deref().unwrap_or("(no error name)"))?;
        if let Some(c) = &self.cause {
            write!(f, ": {c}")?;
        }
        Ok(())
    }
}

/// A problem that prevents a run from starting: an invalid definition, an unreadable mock file,
/// a bad option. (Failures *during* a run are part of the [`crate::ExecutionResult`] instead.)
#[derive(Debug, Clone, PartialEq)]
pub struct SetupError {
    /// What is wrong.
    pub message: String,
    /// Where: a JSON pointer into the definition or mock file, when known.
    pub pointer: Option<String>,
}

impl SetupError {
    /// A setup error with a message.
    pub fn new(message: impl Into<String>) -> SetupError {
        SetupError {
            message: message.into(),
            pointer: None,
        }
    }

    /// The same error, located at a JSON pointer.
    pub fn at(mut self, pointer: impl Into<String>) -> SetupError {
        self.pointer = Some(pointer.into());
        self
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pointer {
            Some(p) if !p.is_empty() => write!(f, "{p}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for SetupError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn matching_rules() {
        let f = Failure::new("Custom", "c");
        assert!(f.matches(&eq(&["States.ALL"]), false));
        assert!(f.matches(&eq(&["Custom"]), false));
        assert!(!f.matches(&eq(&["Other"]), false));
        assert!(f.matches(&eq(&["States.TaskFailed"]), true));
        assert!(!f.matches(&eq(&["States.TaskFailed"]), false));

        let rt = Failure::runtime("x");
        assert!(!rt.matches(&eq(&["States.ALL", "States.Runtime"]), true));

        let dl = Failure::new(names::DATA_LIMIT_EXCEEDED, "x");
        assert!(!dl.matches(&eq(&["States.ALL"]), true));
        assert!(dl.matches(&eq(&["States.DataLimitExceeded"]), true));

        let hb = Failure::new(names::HEARTBEAT_TIMEOUT, "x");
        assert!(hb.matches(&eq(&["States.Timeout"]), true));
        assert!(!hb.matches(&eq(&["States.TaskFailed"]), true));
        let to = Failure::new(names::TIMEOUT, "x");
        assert!(!to.matches(&eq(&["States.TaskFailed"]), true));
    }

    #[test]
    fn error_output_shape() {
        let f = Failure::bare(Some("E".into()), None);
        assert_eq!(
            f.error_output(),
            serde_json::json!({"Error": "E", "Cause": ""})
        );
    }
}
