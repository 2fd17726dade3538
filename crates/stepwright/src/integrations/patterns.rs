//! Integration patterns, and which integration supports which: one table that the typed API, the
//! validator ([`check_machine`]) and the IAM generator share.
//!
//! ```
//! use stepwright::integrations::patterns::{parse_resource, IntegrationPattern, ResourceKind};
//! let r = parse_resource("arn:aws:states:::sagemaker:createTrainingJob.sync").unwrap();
//! assert_eq!(r.pattern, IntegrationPattern::Sync);
//! assert!(matches!(r.kind, ResourceKind::Optimized { ref service, ref action }
//!     if service == "sagemaker" && action == "createTrainingJob"));
//! assert!(!r.supported().unwrap().contains(&IntegrationPattern::WaitForTaskToken));
//! ```

use std::fmt;

use serde_json::Value;

use crate::diagnostics::{pointer_push, Code, Diagnostic};
use crate::model::{QueryLanguage, State, StateMachine, StatePlace};

/// How Step Functions waits for a service call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum IntegrationPattern {
    /// Call and move on when the service answers (no suffix).
    #[default]
    RequestResponse,
    /// Run a job and wait for it to finish (`.sync`).
    Sync,
    /// `.sync:2`: as `.sync`, with the nested execution's output parsed as JSON (Step Functions
    /// StartExecution only).
    Sync2,
    /// Wait for a callback with the task token (`.waitForTaskToken`).
    WaitForTaskToken,
}

impl IntegrationPattern {
    /// The Resource ARN suffix: `""`, `.sync`, `.sync:2` or `.waitForTaskToken`.
    pub fn suffix(self) -> &'static str {
        match self {
            IntegrationPattern::RequestResponse => "",
            IntegrationPattern::Sync => ".sync",
            IntegrationPattern::Sync2 => ".sync:2",
            IntegrationPattern::WaitForTaskToken => ".waitForTaskToken",
        }
    }

    /// The CDK's name for the pattern (`REQUEST_RESPONSE`, `RUN_JOB`, `WAIT_FOR_TASK_TOKEN`).
    pub fn name(self) -> &'static str {
        match self {
            IntegrationPattern::RequestResponse => "REQUEST_RESPONSE",
            IntegrationPattern::Sync => "RUN_JOB",
            IntegrationPattern::Sync2 => "RUN_JOB_2",
            IntegrationPattern::WaitForTaskToken => "WAIT_FOR_TASK_TOKEN",
        }
    }
}

impl fmt::Display for IntegrationPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a Task's `Resource` ARN points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceKind {
    /// An optimized integration, `arn:<partition>:states:::<service>:<action>`.
    Optimized {
        /// `sagemaker`, `lambda`, `sns`, ...
        service: String,
        /// `createTrainingJob`, `invoke`, `publish`, ...
        action: String,
    },
    /// An AWS SDK integration, `arn:<partition>:states:::aws-sdk:<service>:<action>`.
    AwsSdk {
        /// The SDK service name (`sagemaker`, `s3`, `sfn`, ...).
        service: String,
        /// The API action in camelCase (`createModelPackage`).
        action: String,
    },
    /// A Lambda function ARN used directly as the Resource.
    LambdaFunction {
        /// The full function ARN (with its qualifier, if any).
        arn: String,
    },
    /// An activity, `arn:<partition>:states:<region>:<account>:activity:<name>`.
    Activity {
        /// The activity ARN.
        arn: String,
    },
}

/// A parsed Task `Resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedResource {
    /// The ARN partition (`aws`, `aws-cn`, `aws-us-gov`).
    pub partition: String,
    /// What the resource is.
    pub kind: ResourceKind,
    /// The pattern the suffix selects.
    pub pattern: IntegrationPattern,
    /// The suffix as written when it is not one Step Functions knows (e.g. `.sync:3`).
    pub unknown_suffix: Option<String>,
}

impl ParsedResource {
    /// The integration name, e.g. `sagemaker:createTrainingJob` or
    /// `aws-sdk:sagemaker:createModelPackage` (None for Lambda ARNs and activities).
    pub fn integration(&self) -> Option<String> {
        match &self.kind {
            ResourceKind::Optimized { service, action } => Some(format!("{service}:{action}")),
            ResourceKind::AwsSdk { service, action } => Some(format!("aws-sdk:{service}:{action}")),
            _ => None,
        }
    }

    /// The patterns the integration supports, when Stepwright knows the integration.
    pub fn supported(&self) -> Option<&'static [IntegrationPattern]> {
        use IntegrationPattern::*;
        const RR: &[IntegrationPattern] = &[RequestResponse];
        const RR_SYNC: &[IntegrationPattern] = &[RequestResponse, Sync];
        const RR_TOKEN: &[IntegrationPattern] = &[RequestResponse, WaitForTaskToken];
        const RR_SYNC_TOKEN: &[IntegrationPattern] = &[RequestResponse, Sync, WaitForTaskToken];
        const ALL: &[IntegrationPattern] = &[RequestResponse, Sync, Sync2, WaitForTaskToken];
        match &self.kind {
            ResourceKind::LambdaFunction { .. } | ResourceKind::Activity { .. } => Some(RR),
            ResourceKind::AwsSdk { .. } => Some(RR_TOKEN),
            ResourceKind::Optimized { service, action } => {
                Some(match (service.as_str(), action.as_str()) {
                    ("sagemaker", a) => match a {
                        "createTrainingJob"
                        | "createTransformJob"
                        | "createProcessingJob"
                        | "createHyperParameterTuningJob"
                        | "createLabelingJob" => RR_SYNC,
                        "createModel"
                        | "createEndpointConfig"
                        | "createEndpoint"
                        | "updateEndpoint" => RR,
                        _ => return None,
                    },
                    ("lambda", "invoke") => RR_TOKEN,
                    ("sns", "publish") => RR_TOKEN,
                    ("sqs", "sendMessage") => RR_TOKEN,
                    ("events", "putEvents") => RR_TOKEN,
                    ("dynamodb", "getItem" | "putItem" | "updateItem" | "deleteItem") => RR,
                    ("states", "startExecution") => ALL,
                    ("batch", "submitJob") => RR_SYNC_TOKEN,
                    ("ecs", "runTask") => RR_SYNC_TOKEN,
                    ("codebuild", "startBuild") => RR_SYNC_TOKEN,
                    ("athena", "startQueryExecution") => RR_SYNC_TOKEN,
                    ("glue", "startJobRun") => RR_SYNC_TOKEN,
                    ("apigateway", "invoke") => RR_TOKEN,
                    ("http", "invoke") => RR_TOKEN,
                    ("s3", "getObject" | "listObjectsV2" | "putObject") => RR,
                    _ => return None,
                })
            }
        }
    }
}

/// Parses a Task `Resource` ARN. `None` when it is not an ARN Step Functions can run (a
/// `${Name}` substitution token, a CloudFormation intrinsic, or malformed).
///
/// ```
/// use stepwright::integrations::patterns::{parse_resource, ResourceKind, IntegrationPattern};
/// let r = parse_resource("arn:aws:states:::states:startExecution.sync:2").unwrap();
/// assert_eq!(r.pattern, IntegrationPattern::Sync2);
/// let r = parse_resource("arn:aws:lambda:us-east-1:123456789012:function:f:live").unwrap();
/// assert!(matches!(r.kind, ResourceKind::LambdaFunction { .. }));
/// ```
pub fn parse_resource(arn: &str) -> Option<ParsedResource> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(6, ':');
    let partition = parts.next()?.to_string();
    let service = parts.next()?;
    let region = parts.next()?;
    let account = parts.next()?;
    let tail = parts.next()?;
    let after = parts.next();
    if partition.is_empty() {
        return None;
    }
    match service {
        "lambda" => {
            if tail != "function" || after.is_none_or(str::is_empty) {
                return None;
            }
            Some(ParsedResource {
                partition,
                kind: ResourceKind::LambdaFunction {
                    arn: arn.to_string(),
                },
                pattern: IntegrationPattern::RequestResponse,
                unknown_suffix: None,
            })
        }
        "states" if !region.is_empty() || !account.is_empty() => {
            if tail != "activity" || after.is_none_or(str::is_empty) {
                return None;
            }
            Some(ParsedResource {
                partition,
                kind: ResourceKind::Activity {
                    arn: arn.to_string(),
                },
                pattern: IntegrationPattern::RequestResponse,
                unknown_suffix: None,
            })
        }
        "states" => {
            // arn:aws:states:::<service>:<action>[.suffix] or aws-sdk:<service>:<action>[.suffix]
            let svc = tail;
            let rest = after?;
            let (kind, action_and_suffix) = if svc == "aws-sdk" {
                let (sdk_service, action) = rest.split_once(':')?;
                (Some(sdk_service.to_string()), action)
            } else {
                (None, rest)
            };
            let (action, suffix) = match action_and_suffix.find('.') {
                Some(i) => (&action_and_suffix[..i], &action_and_suffix[i..]),
                None => (action_and_suffix, ""),
            };
            if action.is_empty() || svc.is_empty() {
                return None;
            }
            let (pattern, unknown_suffix) = match suffix {
                "" => (IntegrationPattern::RequestResponse, None),
                ".sync" => (IntegrationPattern::Sync, None),
                ".sync:2" => (IntegrationPattern::Sync2, None),
                ".waitForTaskToken" => (IntegrationPattern::WaitForTaskToken, None),
                other => (IntegrationPattern::RequestResponse, Some(other.to_string())),
            };
            let kind = match kind {
                Some(service) => ResourceKind::AwsSdk {
                    service,
                    action: action.to_string(),
                },
                None => ResourceKind::Optimized {
                    service: svc.to_string(),
                    action: action.to_string(),
                },
            };
            Some(ParsedResource {
                partition,
                kind,
                pattern,
                unknown_suffix,
            })
        }
        _ => None,
    }
}

/// True when a payload template passes the task token: a `$$.Task.Token` reference (JSONPath,
/// under a `.$` key or inside an intrinsic) or `$states.context.Task.Token` in a JSONata
/// expression, anywhere in the payload.
///
/// ```
/// use serde_json::json;
/// use stepwright::integrations::patterns::payload_has_task_token;
/// assert!(payload_has_task_token(&json!({"Payload": {"token.$": "$$.Task.Token"}})));
/// assert!(payload_has_task_token(&json!({"Payload": "{% {'t': $states.context.Task.Token} %}"})));
/// assert!(!payload_has_task_token(&json!({"Payload": {"token": "$$.Task.Token"}})));
/// ```
pub fn payload_has_task_token(payload: &Value) -> bool {
    fn go(v: &Value, depth: usize) -> bool {
        if depth > 64 {
            return false;
        }
        match v {
            Value::Object(o) => o.iter().any(|(k, v)| {
                (k.ends_with(".$") && v.as_str().is_some_and(|s| s.contains("$$.Task.Token")))
                    || go(v, depth + 1)
            }),
            Value::Array(a) => a.iter().any(|v| go(v, depth + 1)),
            Value::String(s) => {
                let t = s.trim();
                t.starts_with("{%") && t.contains("$states.context.Task.Token")
            }
            _ => false,
        }
    }
    go(payload, 0)
}

/// Options of the integration checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckOptions {
    /// The machine is an EXPRESS workflow: no `.sync`, no `.waitForTaskToken`, no activities.
    pub express: bool,
}

/// The integration-pattern checks of the validator, on a whole machine: unsupported patterns
/// ([`Code::UnsupportedIntegrationPattern`]), EXPRESS restrictions, and `.waitForTaskToken`
/// without the task token in the payload.
///
/// ```
/// use stepwright::{StateMachine, Code};
/// use stepwright::integrations::patterns::{check_machine, CheckOptions};
/// let m = StateMachine::from_json(r#"{"StartAt":"T","States":{"T":{"Type":"Task",
///   "Resource":"arn:aws:states:::sagemaker:createModel.waitForTaskToken","End":true}}}"#).unwrap();
/// let d = check_machine(&m, &CheckOptions::default());
/// assert_eq!(d[0].code, Code::UnsupportedIntegrationPattern);
/// assert_eq!(d[0].pointer, "/States/T/Resource");
/// ```
pub fn check_machine(machine: &StateMachine, options: &CheckOptions) -> Vec<Diagnostic> {
    check(machine, options, true)
}

/// [`check_machine`]; `unknown_suffixes` reports suffixes that are no pattern at all (the
/// validator's resource pass already does).
pub(crate) fn check(
    machine: &StateMachine,
    options: &CheckOptions,
    unknown_suffixes: bool,
) -> Vec<Diagnostic> {
    check_places(&machine.places(), options, unknown_suffixes)
}

/// [`check`] on the states of a machine already listed (the validator lists them once for all
/// its passes).
pub(crate) fn check_places(
    places: &[StatePlace<'_>],
    options: &CheckOptions,
    unknown_suffixes: bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for place in places {
        let State::Task(task) = place.state else {
            continue;
        };
        let Some(arn) = task.resource.as_arn() else {
            continue;
        };
        let Some(parsed) = parse_resource(arn) else {
            continue;
        };
        let at = || pointer_push(&place.pointer, "Resource");
        if let Some(suffix) = &parsed.unknown_suffix {
            if !unknown_suffixes {
                continue;
            }
            out.push(
                Diagnostic::error(
                    Code::UnsupportedIntegrationPattern,
                    at(),
                    format!("`{suffix}` is not an integration pattern"),
                )
                .with_help("use no suffix (request-response), .sync, .sync:2 or .waitForTaskToken"),
            );
            continue;
        }
        let name = parsed.integration().unwrap_or_else(|| match &parsed.kind {
            ResourceKind::Activity { .. } => "activity".to_string(),
            _ => "Lambda function ARN".to_string(),
        });
        let mut unsupported = false;
        if let Some(supported) = parsed.supported() {
            if !supported.contains(&parsed.pattern) {
                unsupported = true;
                let list: Vec<&str> = supported.iter().map(|p| p.suffix()).collect();
                let list: Vec<String> = list
                    .iter()
                    .map(|s| {
                        if s.is_empty() {
                            "request-response".to_string()
                        } else {
                            s.to_string()
                        }
                    })
                    .collect();
                out.push(
                    Diagnostic::error(
                        Code::UnsupportedIntegrationPattern,
                        at(),
                        format!("{name} does not support {}", parsed.pattern.suffix()),
                    )
                    .with_help(format!("{name} supports: {}", list.join(", "))),
                );
            }
        }
        if options.express {
            match (&parsed.kind, parsed.pattern) {
                (ResourceKind::Activity { .. }, _) => out.push(
                    Diagnostic::error(
                        Code::UnsupportedIntegrationPattern,
                        at(),
                        "EXPRESS state machines cannot run activities",
                    )
                    .with_help("use a STANDARD state machine, or call a Lambda function instead"),
                ),
                (_, IntegrationPattern::Sync | IntegrationPattern::Sync2) => out.push(
                    Diagnostic::error(
                        Code::UnsupportedIntegrationPattern,
                        at(),
                        format!(
                            "EXPRESS state machines do not support {} (run a job)",
                            parsed.pattern.suffix()
                        ),
                    )
                    .with_help(
                        "use a STANDARD state machine, or the request-response form and poll",
                    ),
                ),
                (_, IntegrationPattern::WaitForTaskToken) => out.push(
                    Diagnostic::error(
                        Code::UnsupportedIntegrationPattern,
                        at(),
                        "EXPRESS state machines do not support .waitForTaskToken (callbacks)",
                    )
                    .with_help("use a STANDARD state machine for callbacks"),
                ),
                _ => {}
            }
        }
        if parsed.pattern == IntegrationPattern::WaitForTaskToken && !unsupported {
            let (field, payload) = match place.query_language {
                QueryLanguage::Jsonata => ("Arguments", task.arguments.as_ref()),
                QueryLanguage::JsonPath => ("Parameters", task.parameters.as_ref()),
            };
            if !payload.is_some_and(payload_has_task_token) {
                let token = match place.query_language {
                    QueryLanguage::Jsonata => "$states.context.Task.Token",
                    QueryLanguage::JsonPath => "$$.Task.Token",
                };
                out.push(
                    Diagnostic::error(
                        Code::MissingTaskToken,
                        pointer_push(&place.pointer, field),
                        format!("{name}.waitForTaskToken does not pass the task token in {field}"),
                    )
                    .with_help(format!(
                        "pass {token} in the payload (e.g. {}) so that the worker can call SendTaskSuccess",
                        match place.query_language {
                            QueryLanguage::Jsonata => "\"Payload\": \"{% {'token': $states.context.Task.Token} %}\"".to_string(),
                            QueryLanguage::JsonPath => "\"Payload\": {\"token.$\": \"$$.Task.Token\"}".to_string(),
                        }
                    )),
                );
            }
        }
    }
    out
}
