//! Diagnostics: what is wrong, where (a JSON pointer), the rule (a stable code) and how to fix it.
//!
//! Every problem the parser or the validator finds is a [`Diagnostic`]. Codes mirror the ones AWS
//! returns from `ValidateStateMachineDefinition` where AWS has one (`SCHEMA_VALIDATION_FAILED`,
//! `MISSING_TRANSITION_TARGET`, ...); the others are Stepwright's own and equally stable.

use std::fmt;

/// How bad a diagnostic is. AWS rejects a definition with any [`Severity::Error`]; warnings are
/// advice (AWS accepts the definition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// AWS would reject the definition.
    Error,
    /// AWS accepts the definition, but it is probably not what was meant.
    Warning,
}

/// The stable rule code of a diagnostic.
///
/// The string form ([`Code::as_str`]) is part of the public contract: scripts match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Code {
    /// The input is not JSON, or not a JSON object where one is required.
    InvalidJson,
    /// A field is unknown, has the wrong type, is missing, or two fields exclude each other.
    SchemaValidationFailed,
    /// The same key appears twice in one JSON object.
    DuplicateJsonKey,
    /// A `Next`, `Default`, `StartAt` or Catch `Next` names a state that does not exist.
    MissingTransitionTarget,
    /// A state cannot be reached from `StartAt`.
    UnreachableState,
    /// No path from a state leads to a terminal state (`End`, `Succeed` or `Fail`).
    NoTerminalState,
    /// Two states share a name (names are unique across the whole machine).
    DuplicateStateName,
    /// A transition leaves a Parallel branch or Map processor for a state outside it.
    InvalidBranchTransition,
    /// A field only the JSONPath query language knows is used in a JSONata state, or the reverse.
    QueryLanguageMismatch,
    /// A JSONPath, reference path or `.$` value is not valid.
    InvalidJsonPath,
    /// An intrinsic function call is not valid (syntax, unknown name, arity, nesting).
    InvalidIntrinsic,
    /// A JSONata expression does not parse, or `{% %}` is malformed.
    InvalidJsonata,
    /// `States.ALL` is not alone or not last, or an error name is malformed.
    InvalidErrorName,
    /// A number is out of its allowed range (BackoffRate < 1, MaxAttempts < 0, ...).
    OutOfRange,
    /// A timeout or heartbeat rule is broken (heartbeat not less than timeout, both forms given).
    InvalidTimeout,
    /// A payload template has both `x` and `x.$`.
    DuplicatePayloadKey,
    /// A limit AWS enforces (state name length, definition size, nesting) is exceeded.
    LimitExceeded,
    /// A `${Name}` DefinitionSubstitutions token is malformed.
    InvalidSubstitution,
    /// A Task `Resource` is not a valid ARN or integration.
    InvalidResource,
    /// An integration does not support the requested pattern (`.sync`, `.waitForTaskToken`).
    UnsupportedIntegrationPattern,
    /// A `.waitForTaskToken` task does not pass the task token in its payload.
    MissingTaskToken,
    /// The IAM generator does not know the permissions a task needs (warning).
    IamUnknownIntegration,
    /// A Choice state has no rule that can match and no Default (warning).
    NoDefault,
    /// The document exceeds a size limit (for example an inline IAM policy over 10,240 bytes).
    SizeLimitExceeded,
    /// A machine, branch or processor has no terminal state at all (AWS `MISSING_END_STATE`).
    MissingEndState,
    /// A state name is empty, too long (over 80 characters) or otherwise not allowed.
    InvalidStateName,
    /// A workflow variable name in `Assign` is not valid, or is reserved (`states`).
    InvalidVariableName,
    /// Warning: a payload value looks like a path or intrinsic but its key does not end with
    /// `.$`, so it is passed as a literal string (AWS `NO_DOLLAR`).
    NoDollar,
    /// Warning: a Pass state's `Result` holds a path, which is not evaluated
    /// (AWS `PASS_RESULT_IS_STATIC`).
    PassResultIsStatic,
}

impl Code {
    /// The stable string form, e.g. `SCHEMA_VALIDATION_FAILED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidJson => "INVALID_JSON_DESCRIPTION",
            Code::SchemaValidationFailed => "SCHEMA_VALIDATION_FAILED",
            Code::DuplicateJsonKey => "DUPLICATE_JSON_KEY",
            Code::MissingTransitionTarget => "MISSING_TRANSITION_TARGET",
            Code::UnreachableState => "UNREACHABLE_STATE",
            Code::NoTerminalState => "NO_TERMINAL_STATE",
            Code::DuplicateStateName => "DUPLICATE_STATE_NAME",
            Code::InvalidBranchTransition => "INVALID_BRANCH_TRANSITION",
            Code::QueryLanguageMismatch => "QUERY_LANGUAGE_MISMATCH",
            Code::InvalidJsonPath => "INVALID_JSON_PATH",
            Code::InvalidIntrinsic => "INVALID_INTRINSIC_FUNCTION",
            Code::InvalidJsonata => "INVALID_JSONATA",
            Code::InvalidErrorName => "INVALID_ERROR_NAME",
            Code::OutOfRange => "OUT_OF_RANGE",
            Code::InvalidTimeout => "INVALID_TIMEOUT",
            Code::DuplicatePayloadKey => "DUPLICATE_PAYLOAD_KEY",
            Code::LimitExceeded => "LIMIT_EXCEEDED",
            Code::InvalidSubstitution => "INVALID_DEFINITION_SUBSTITUTION",
            Code::InvalidResource => "INVALID_RESOURCE",
            Code::UnsupportedIntegrationPattern => "UNSUPPORTED_INTEGRATION_PATTERN",
            Code::MissingTaskToken => "MISSING_TASK_TOKEN",
            Code::IamUnknownIntegration => "IAM_UNKNOWN_INTEGRATION",
            Code::NoDefault => "CHOICE_WITHOUT_DEFAULT",
            Code::SizeLimitExceeded => "SIZE_LIMIT_EXCEEDED",
            Code::MissingEndState => "MISSING_END_STATE",
            Code::InvalidStateName => "INVALID_STATE_NAME",
            Code::InvalidVariableName => "INVALID_VARIABLE_NAME",
            Code::NoDollar => "NO_DOLLAR",
            Code::PassResultIsStatic => "PASS_RESULT_IS_STATIC",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One problem in a definition.
///
/// ```
/// use stepwright::{StateMachine, diagnostics::Code};
/// let err = StateMachine::from_json(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Nxt":"B"}}}"#)
///     .unwrap_err();
/// let d = &err.diagnostics()[0];
/// assert_eq!(d.code, Code::SchemaValidationFailed);
/// assert_eq!(d.pointer, "/States/A/Nxt");
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Diagnostic {
    /// The rule that was broken.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// Where: an RFC 6901 JSON pointer into the definition, e.g. `/States/Train/Parameters`.
    pub pointer: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it, when there is something to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            pointer: pointer.into(),
            message: message.into(),
            help: None,
        }
    }

    /// A warning diagnostic.
    pub fn warning(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, pointer, message)
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{sev}[{}] at {at}: {}", self.code, self.message)?;
        if let Some(h) = &self.help {
            write!(f, " (help: {h})")?;
        }
        Ok(())
    }
}

/// A definition that could not be read into the model: one or more error diagnostics.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    diagnostics: Vec<Diagnostic>,
}

impl ParseError {
    pub(crate) fn new(diagnostics: Vec<Diagnostic>) -> Self {
        debug_assert!(!diagnostics.is_empty());
        ParseError { diagnostics }
    }

    /// Every problem found, in document order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Consumes the error, giving its diagnostics.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        if n == 0 {
            f.write_str("invalid state machine definition")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// A JSON pointer built only when a diagnostic needs it: passes and the reader hand these down
/// instead of formatting a pointer string for every object they visit.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ptr<'p> {
    /// A pointer already rendered (`""` for the document itself).
    Str(&'p str),
    /// A member of an object.
    Key(&'p Ptr<'p>, &'p str),
    /// An item of an array.
    Index(&'p Ptr<'p>, usize),
}

impl Ptr<'_> {
    /// The pointer as text, e.g. `/States/A/Parameters/x.$`.
    pub(crate) fn render(&self) -> String {
        match self {
            Ptr::Str(s) => s.to_string(),
            Ptr::Key(parent, key) => pointer_push(&parent.render(), key),
            Ptr::Index(parent, i) => format!("{}/{i}", parent.render()),
        }
    }
}

/// Appends one reference token to a JSON pointer, escaping `~` and `/` as RFC 6901 says.
///
/// ```
/// assert_eq!(stepwright::diagnostics::pointer_push("/States", "a/b~c"), "/States/a~1b~0c");
/// ```
pub fn pointer_push(base: &str, token: &str) -> String {
    let mut s = String::with_capacity(base.len() + token.len() + 1);
    s.push_str(base);
    s.push('/');
    if !token.contains(['~', '/']) {
        s.push_str(token);
        return s;
    }
    for c in token.chars() {
        match c {
            '~' => s.push_str("~0"),
            '/' => s.push_str("~1"),
            c => s.push(c),
        }
    }
    s
}
