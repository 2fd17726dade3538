//! Retry policies and Catch routes.

use serde_json::Value;

use super::condition::Numeric;
use crate::diagnostics::Code;
use crate::model::{Catcher, JitterStrategy, Object, Retrier};

/// The error that matches every error (`States.ALL`).
pub const STATES_ALL: &str = "States.ALL";

/// A retry policy (a `Retry` entry), built fluently. Unset fields keep the AWS defaults
/// (IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.0, no jitter) and are not written out.
///
/// ```
/// use stepwright::builder::Retry;
/// let r = Retry::on(["States.Timeout"]).interval(5).max_attempts(2).backoff_rate(1.5);
/// let json = serde_json::to_string(&stepwright::Retrier::from(r)).unwrap();
/// assert_eq!(json, r#"{"ErrorEquals":["States.Timeout"],"IntervalSeconds":5,"MaxAttempts":2,"BackoffRate":1.5}"#);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Retry {
    pub(crate) retrier: Retrier,
    pub(crate) issues: Vec<(Code, String)>,
}

impl Retry {
    /// Retries the named errors.
    pub fn on<I, S>(errors: I) -> Retry
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Retry {
            retrier: Retrier {
                error_equals: errors.into_iter().map(Into::into).collect(),
                ..Retrier::default()
            },
            issues: Vec::new(),
        }
    }

    /// Retries every error (`States.ALL`). Put it last: retriers are tried in order.
    pub fn all() -> Retry {
        Retry::on([STATES_ALL])
    }

    /// The transient Lambda service errors AWS recommends retrying
    /// (`Lambda.ClientExecutionTimeoutException`, `Lambda.ServiceException`,
    /// `Lambda.AWSLambdaException`, `Lambda.SdkClientException`), every 2 s, 6 times, doubling:
    /// the same policy the CDK's `LambdaInvoke` adds by default.
    ///
    /// ```
    /// use stepwright::builder::Retry;
    /// let r = stepwright::Retrier::from(Retry::lambda_transient());
    /// assert_eq!(r.max_attempts, Some(6));
    /// ```
    pub fn lambda_transient() -> Retry {
        Retry::on([
            "Lambda.ClientExecutionTimeoutException",
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
        ])
        .interval(2)
        .max_attempts(6)
        .backoff_rate(2)
    }

    /// `IntervalSeconds`: seconds before the first retry (AWS default 1).
    pub fn interval(mut self, seconds: u64) -> Retry {
        self.retrier.interval_seconds = Some(seconds);
        self
    }

    /// `MaxAttempts`: how many retries (AWS default 3; 0 never retries).
    pub fn max_attempts(mut self, attempts: u64) -> Retry {
        self.retrier.max_attempts = Some(attempts);
        self
    }

    /// `BackoffRate`: the interval multiplier (AWS default 2.0; at least 1.0).
    pub fn backoff_rate(mut self, rate: impl Numeric) -> Retry {
        match rate.to_json() {
            Value::Number(n) => self.retrier.backoff_rate = Some(n),
            _ => self.issues.push((
                Code::OutOfRange,
                "BackoffRate must be a finite number".to_string(),
            )),
        }
        self
    }

    /// `MaxDelaySeconds`: the cap on the interval.
    pub fn max_delay(mut self, seconds: u64) -> Retry {
        self.retrier.max_delay_seconds = Some(seconds);
        self
    }

    /// `JitterStrategy`.
    pub fn jitter(mut self, strategy: JitterStrategy) -> Retry {
        self.retrier.jitter_strategy = Some(strategy);
        self
    }

    /// `JitterStrategy: FULL`: randomises each interval, which spreads out retries of many
    /// executions failing at once.
    pub fn full_jitter(self) -> Retry {
        self.jitter(JitterStrategy::Full)
    }

    /// `Comment`.
    pub fn comment(mut self, comment: impl Into<String>) -> Retry {
        self.retrier.comment = Some(comment.into());
        self
    }
}

impl From<Retrier> for Retry {
    fn from(retrier: Retrier) -> Retry {
        Retry {
            retrier,
            issues: Vec::new(),
        }
    }
}

impl From<Retry> for Retrier {
    fn from(r: Retry) -> Retrier {
        r.retrier
    }
}

/// A Catch route (which errors, and what to do with the error output); the target is given to
/// the state's `catch` method.
///
/// By default (as in ASL) the error output replaces the state's input; in JSONPath states use
/// [`Catch::result_path`] (for example `"$.error"`) to keep the input and add the error to it.
///
/// ```
/// use stepwright::builder::*;
/// let task = Task::new("Work", Task::resource("arn:aws:states:::lambda:invoke"))
///     .catch(Catch::all().result_path("$.error"), Fail::new("Failed"));
/// let m = StateMachine::builder().start(task).build()?;
/// let c = &m.states["Work"].catchers()[0];
/// assert_eq!((c.next.as_str(), c.error_equals[0].as_str()), ("Failed", "States.ALL"));
/// # Ok::<(), stepwright::builder::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Catch {
    pub(crate) catcher: Catcher,
}

impl Catch {
    /// Catches the named errors.
    pub fn on<I, S>(errors: I) -> Catch
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Catch {
            catcher: Catcher {
                error_equals: errors.into_iter().map(Into::into).collect(),
                ..Catcher::default()
            },
        }
    }

    /// Catches every error (`States.ALL`). Put it last: catchers are tried in order.
    pub fn all() -> Catch {
        Catch::on([STATES_ALL])
    }

    /// JSONPath: `ResultPath`, where the error output goes in the state's input.
    pub fn result_path(mut self, path: impl Into<String>) -> Catch {
        self.catcher.result_path = Some(Some(path.into()));
        self
    }

    /// JSONPath: `ResultPath: null`, the error output is discarded and the input passed on.
    pub fn discard_error(mut self) -> Catch {
        self.catcher.result_path = Some(None);
        self
    }

    /// JSONata: `Output`, what goes to the handler (`$states.errorOutput` is the error).
    pub fn output(mut self, output: impl Into<Value>) -> Catch {
        self.catcher.output = Some(output.into());
        self
    }

    /// Adds one workflow variable to `Assign`.
    pub fn assign(mut self, name: impl Into<String>, value: impl Into<Value>) -> Catch {
        self.catcher
            .assign
            .get_or_insert_with(Object::new)
            .insert(name.into(), value.into());
        self
    }

    /// `Comment`.
    pub fn comment(mut self, comment: impl Into<String>) -> Catch {
        self.catcher.comment = Some(comment.into());
        self
    }
}
