//! Named errors that Step Functions can route on.
//!
//! A Lambda handler that returns `Err(LambdaError)` is reported by `lambda_runtime` as
//! `{"errorType": <name>, "errorMessage": <message>}`; Step Functions exposes `errorType` as the
//! task's `Error`, which `Retry`/`Catch` match with `ErrorEquals` (e.g. `["Cleanse.InvalidInput"]`).

use std::borrow::Cow;
use std::fmt;

use crate::object::ObjectError;

/// An error with a Step Functions error name (`Cleanse.InvalidInput`, `Approval.TokenInvalid`, ...)
/// and a human-readable message.
///
/// ```
/// use lambda_kit::LambdaError;
/// use lambda_runtime::Diagnostic;
///
/// let err = LambdaError::new("Cleanse.InvalidInput", "column `age` is not declared");
/// let diag: Diagnostic = err.into();
/// assert_eq!(diag.error_type, "Cleanse.InvalidInput");
/// assert_eq!(diag.error_message, "column `age` is not declared");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaError {
    name: Cow<'static, str>,
    message: String,
}

impl LambdaError {
    /// An error named `name` (the `errorType` Step Functions sees) with `message`.
    pub fn new(name: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            message: message.into(),
        }
    }

    /// The error for an object IO failure, named `<prefix>.<kind>` where kind is
    /// [`ObjectError::kind_name`] (`ObjectNotFound`, `AccessDenied`, `InvalidUrl`, `ObjectIo`, ...).
    ///
    /// ```
    /// use lambda_kit::{LambdaError, ObjectError};
    ///
    /// let err = ObjectError::NotFound { url: "s3://data/in.csv".into() };
    /// let named = LambdaError::from_object("Cleanse", &err);
    /// assert_eq!(named.name(), "Cleanse.ObjectNotFound");
    /// assert!(named.message().contains("s3://data/in.csv"));
    /// ```
    pub fn from_object(prefix: &str, err: &ObjectError) -> Self {
        Self::new(format!("{prefix}.{}", err.kind_name()), err.to_string())
    }

    /// The Step Functions error name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for LambdaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for LambdaError {}

impl From<LambdaError> for lambda_runtime::Diagnostic {
    fn from(err: LambdaError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: err.name.into_owned(),
            error_message: err.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_diagnostic_carry_name_and_message() {
        let err = LambdaError::new("Approval.TokenInvalid", "signature does not match");
        assert_eq!(
            err.to_string(),
            "Approval.TokenInvalid: signature does not match"
        );
        let diag = lambda_runtime::Diagnostic::from(err.clone());
        let json = serde_json::to_value(&diag).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"errorType": "Approval.TokenInvalid", "errorMessage": "signature does not match"})
        );
    }

    #[test]
    fn object_errors_are_prefixed_by_kind() {
        let err = ObjectError::InvalidUrl {
            url: "s3://".into(),
            reason: "missing bucket".into(),
        };
        assert_eq!(
            LambdaError::from_object("Validate", &err).name(),
            "Validate.InvalidUrl"
        );
    }
}
