//! Typed service integrations: each one renders a [`TaskState`] exactly as AWS expects it,
//! refuses what AWS would refuse, and is known to the IAM generator ([`crate::iam`]).
//!
//! - [`sagemaker`]: every optimized SageMaker integration (training, processing, transform,
//!   tuning and labeling jobs, models, endpoint configs, endpoints).
//! - [`registry`]: the SageMaker model registry through the `aws-sdk` integration.
//! - [`services`]: Lambda, SNS, SQS, EventBridge, DynamoDB, nested Step Functions, activities and
//!   any `aws-sdk:<service>:<action>` call.
//! - [`patterns`]: which integration supports which [`IntegrationPattern`]; the validator uses the
//!   same table, so hand-written JSON gets the same checks.
//!
//! # Literal, JSONPath or JSONata: [`Input`]
//!
//! Every field takes an [`Input`]: a literal (anything that converts into the field's type), a
//! JSONPath reference ([`Input::path`], rendered as `"Key.$": "$.x"`) or a JSONata expression
//! ([`Input::jsonata`], rendered as `"Key": "{% $states.input.x %}"`).
//!
//! # Parameters or Arguments
//!
//! A task renders its request under `Parameters` (JSONPath) unless it uses a JSONata expression
//! or was asked for JSONata with `.query_language(QueryLanguage::Jsonata)`: then the request goes
//! under `Arguments` and the state gets `"QueryLanguage": "JSONata"`, so it is right inside a
//! JSONPath machine too. A state with only literals and paths does not set `QueryLanguage` (it
//! inherits the machine's); mixing JSONPath references and JSONata expressions in one task is an
//! error ([`IntegrationError::MixedQueryLanguages`]) from `try_into_task()`. In a JSONata
//! machine, give literal-only tasks `.query_language(QueryLanguage::Jsonata)` or pass the
//! rendered state through [`into_jsonata`].
//!
//! ```
//! use stepwright::integrations::{Input, sagemaker::CreateEndpoint};
//! use stepwright::TaskState;
//!
//! let task: TaskState = CreateEndpoint::new("churn", Input::path("$.config")).into();
//! let json = serde_json::to_value(&task).unwrap();
//! assert_eq!(json["Resource"], "arn:aws:states:::sagemaker:createEndpoint");
//! assert_eq!(json["Parameters"]["EndpointName"], "churn");
//! assert_eq!(json["Parameters"]["EndpointConfigName.$"], "$.config");
//! ```
//!
//! # In 30 seconds (the README's example)
//!
//! ```
//! use stepwright::integrations::sagemaker::*;
//! use stepwright::integrations::{Input, IntegrationPattern};
//!
//! let train = TrainingJob::new(
//!     Input::path("$$.Execution.Name"),
//!     "arn:aws:iam::123456789012:role/SageMakerRole",
//!     AlgorithmSpecification::training_image("683313688378.dkr.ecr.us-east-1.amazonaws.com/xgb:1")
//!         .training_input_mode("File"),
//!     OutputDataConfig::new("s3://models/churn/"),
//! )
//! .input_data_config(vec![Channel::new("train", DataSource::s3(S3DataSource::prefix("s3://data/train/")))])
//! .resource_config(ResourceConfig::new("ml.m5.xlarge", 1, 30))
//! .stopping_condition(StoppingCondition::max_runtime(3600)); // runs .sync unless .request_response()
//!
//! // What AWS would refuse is refused here: SageMaker has no callback pattern.
//! assert!(train.clone().integration_pattern(IntegrationPattern::WaitForTaskToken).is_err());
//!
//! let state: stepwright::TaskState = train.try_into_task()?; // or `.into()`: a builder task body
//! let machine = stepwright::StateMachine::from_json(r#"{"StartAt":"Train","States":{"Train":{"Type":"Task",
//!   "Resource":"arn:aws:states:::sagemaker:createTrainingJob.sync","End":true,
//!   "Parameters":{"TrainingJobName":"t","RoleArn":"arn:aws:iam::123456789012:role/SageMakerRole"}}}}"#)?;
//! let policy = machine.iam_policy(); // CreateTrainingJob on training-job/t*, PassRole, the .sync rule
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::model::{QueryLanguage, TaskState};

pub mod patterns;
pub mod registry;
pub mod sagemaker;
pub mod services;

pub use patterns::IntegrationPattern;

/// A field value: a literal, a JSONPath reference or a JSONata expression.
///
/// ```
/// use stepwright::integrations::Input;
/// let a: Input<String> = "literal".into();
/// let b: Input<String> = Input::path("$.name");
/// let c: Input<u32> = Input::jsonata("$states.input.count");
/// assert!(a.is_literal() && !b.is_literal());
/// assert_eq!(c, Input::Jsonata("{% $states.input.count %}".to_string()));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Input<T> {
    /// A literal value, rendered as it is.
    Literal(T),
    /// A JSONPath reference path or intrinsic (`$.x`, `$$.Execution.Input.x`,
    /// `States.Format(...)`), rendered under the key with `.$` appended.
    Path(String),
    /// A JSONata expression, always stored with its `{% %}` delimiters.
    Jsonata(String),
}

impl<T> Input<T> {
    /// A literal value.
    pub fn literal(value: T) -> Self {
        Input::Literal(value)
    }

    /// A JSONPath reference path (`$.x`, `$$.Task.Token`) or intrinsic function call.
    pub fn path(path: impl Into<String>) -> Self {
        Input::Path(path.into())
    }

    /// A JSONata expression; `{% %}` is added unless already there.
    pub fn jsonata(expr: impl Into<String>) -> Self {
        let e = expr.into();
        let t = e.trim();
        if t.starts_with("{%") && t.ends_with("%}") && t.len() >= 4 {
            Input::Jsonata(e)
        } else {
            Input::Jsonata(format!("{{% {t} %}}"))
        }
    }

    /// True for [`Input::Literal`].
    pub fn is_literal(&self) -> bool {
        matches!(self, Input::Literal(_))
    }

    /// The literal value, if this is one.
    pub fn as_literal(&self) -> Option<&T> {
        match self {
            Input::Literal(v) => Some(v),
            _ => None,
        }
    }
}

impl<T> From<T> for Input<T> {
    fn from(value: T) -> Self {
        Input::Literal(value)
    }
}

impl From<&str> for Input<String> {
    fn from(value: &str) -> Self {
        Input::Literal(value.to_string())
    }
}

impl From<&String> for Input<String> {
    fn from(value: &String) -> Self {
        Input::Literal(value.clone())
    }
}

impl From<&str> for Input<Value> {
    fn from(value: &str) -> Self {
        Input::Literal(Value::String(value.to_string()))
    }
}

/// What a rendering used: JSONPath references, JSONata expressions, or both.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RenderCx {
    pub(crate) path: bool,
    pub(crate) jsonata: bool,
}

/// A value that renders into a request payload.
pub(crate) trait Render {
    fn render(&self, cx: &mut RenderCx) -> Value;
}

macro_rules! render_as_json {
    ($($t:ty),*) => {$(
        impl Render for $t {
            fn render(&self, _cx: &mut RenderCx) -> Value {
                Value::from(self.clone())
            }
        }
    )*};
}
render_as_json!(String, bool, u32, u64, i64, f64);

impl Render for Value {
    /// A literal JSON value is written as it is; it may be a payload template with its own
    /// `.$` keys or `{% %}` strings, which decide the query language like typed fields do.
    fn render(&self, cx: &mut RenderCx) -> Value {
        fn scan(v: &Value, cx: &mut RenderCx, depth: usize) {
            if depth > 128 {
                return;
            }
            match v {
                Value::Object(o) => {
                    for (k, v) in o {
                        if k.ends_with(".$") {
                            cx.path = true;
                        }
                        scan(v, cx, depth + 1);
                    }
                }
                Value::Array(a) => a.iter().for_each(|v| scan(v, cx, depth + 1)),
                Value::String(s) if s.starts_with("{%") && s.ends_with("%}") => cx.jsonata = true,
                _ => {}
            }
        }
        scan(self, cx, 0);
        self.clone()
    }
}

impl<T: Render> Render for Vec<T> {
    fn render(&self, cx: &mut RenderCx) -> Value {
        Value::Array(self.iter().map(|v| v.render(cx)).collect())
    }
}

/// A map of strings whose values may each be literal or dynamic (environment variables,
/// hyperparameters, rule parameters).
pub type StringMap = IndexMap<String, Input<String>>;

impl Render for StringMap {
    fn render(&self, cx: &mut RenderCx) -> Value {
        let mut o = Map::new();
        for (k, v) in self {
            put(&mut o, k, v, cx);
        }
        Value::Object(o)
    }
}

/// Builds a [`StringMap`] of literal values from pairs.
///
/// ```
/// let env = stepwright::integrations::string_map([("MODE", "train")]);
/// assert_eq!(env["MODE"], "train".into());
/// ```
pub fn string_map<K: Into<String>, V: Into<String>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> StringMap {
    pairs
        .into_iter()
        .map(|(k, v)| (k.into(), Input::Literal(v.into())))
        .collect()
}

/// Writes `key` into `obj`: `key: literal`, `key.$: path` or `key: "{% expr %}"`. A previous value
/// under `key` or `key.$` is replaced.
pub(crate) fn put<T: Render>(
    obj: &mut Map<String, Value>,
    key: &str,
    v: &Input<T>,
    cx: &mut RenderCx,
) {
    let dollar = format!("{key}.$");
    obj.shift_remove(key);
    obj.shift_remove(&dollar);
    match v {
        Input::Literal(t) => {
            obj.insert(key.to_string(), t.render(cx));
        }
        Input::Path(p) => {
            cx.path = true;
            obj.insert(dollar, Value::String(p.clone()));
        }
        Input::Jsonata(e) => {
            cx.jsonata = true;
            obj.insert(key.to_string(), Value::String(e.clone()));
        }
    }
}

/// A resource tag (`{"Key": ..., "Value": ...}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    /// The tag key.
    pub key: Input<String>,
    /// The tag value.
    pub value: Input<String>,
}

impl Tag {
    /// A tag.
    pub fn new(key: impl Into<Input<String>>, value: impl Into<Input<String>>) -> Self {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

impl Render for Tag {
    fn render(&self, cx: &mut RenderCx) -> Value {
        let mut o = Map::new();
        put(&mut o, "Key", &self.key, cx);
        put(&mut o, "Value", &self.value, cx);
        Value::Object(o)
    }
}

/// Builds a tag list from `(key, value)` pairs.
///
/// ```
/// let tags = stepwright::integrations::tags([("Project", "churn")]);
/// assert_eq!(tags.len(), 1);
/// ```
pub fn tags<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Vec<Tag> {
    pairs
        .into_iter()
        .map(|(k, v)| Tag::new(k.into(), v.into()))
        .collect()
}

/// An `s3://bucket/key` URI (Stepwright renders S3 locations as `s3://` URIs).
///
/// ```
/// assert_eq!(stepwright::integrations::s3_uri("data", "train/"), "s3://data/train/");
/// ```
pub fn s3_uri(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{}", key.trim_start_matches('/'))
}

/// Why a typed integration refused its input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IntegrationError {
    /// The integration does not support the requested pattern.
    UnsupportedPattern {
        /// The integration, e.g. `sagemaker:createTrainingJob`.
        integration: String,
        /// What it supports.
        supported: Vec<IntegrationPattern>,
        /// What was asked.
        received: IntegrationPattern,
    },
    /// A field value is not valid (name length, pattern, count).
    InvalidField {
        /// The request field, e.g. `AlgorithmSpecification.AlgorithmName`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// `.waitForTaskToken` without the task token in the payload.
    MissingTaskToken {
        /// The integration.
        integration: String,
    },
    /// One task uses both JSONPath references and JSONata expressions.
    MixedQueryLanguages {
        /// The integration.
        integration: String,
    },
}

impl fmt::Display for IntegrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntegrationError::UnsupportedPattern {
                integration,
                supported,
                received,
            } => {
                let s: Vec<&str> = supported.iter().map(|p| p.name()).collect();
                write!(
                    f,
                    "{integration}: Unsupported service integration pattern. Supported Patterns: {}. Received: {}",
                    s.join(","),
                    received.name()
                )
            }
            IntegrationError::InvalidField { field, message } => write!(f, "{field}: {message}"),
            IntegrationError::MissingTaskToken { integration } => write!(
                f,
                "{integration}: .waitForTaskToken needs the task token in the payload: pass $$.Task.Token (JSONPath) or $states.context.Task.Token (JSONata)"
            ),
            IntegrationError::MixedQueryLanguages { integration } => write!(
                f,
                "{integration}: a task cannot mix JSONPath references and JSONata expressions; use one query language"
            ),
        }
    }
}

impl std::error::Error for IntegrationError {}

/// Everything a typed integration knows before it becomes a [`TaskState`].
#[derive(Debug, Clone)]
pub(crate) struct TaskSpec {
    /// `sagemaker:createTrainingJob`, `lambda:invoke`, `aws-sdk:sagemaker:createModelPackage`.
    pub(crate) integration: String,
    pub(crate) pattern: IntegrationPattern,
    pub(crate) payload: Map<String, Value>,
    pub(crate) cx: RenderCx,
    pub(crate) query_language: Option<QueryLanguage>,
    pub(crate) required: &'static [&'static str],
}

impl TaskSpec {
    pub(crate) fn required(mut self, required: &'static [&'static str]) -> Self {
        self.required = required;
        self
    }

    pub(crate) fn new(
        integration: impl Into<String>,
        pattern: IntegrationPattern,
        payload: Value,
        cx: RenderCx,
        query_language: Option<QueryLanguage>,
    ) -> Self {
        let payload = match payload {
            Value::Object(o) => o,
            _ => Map::new(),
        };
        TaskSpec {
            integration: integration.into(),
            pattern,
            payload,
            cx,
            query_language,
            required: &[],
        }
    }

    pub(crate) fn check(&self) -> Result<(), IntegrationError> {
        for key in self.required {
            if !self.payload.contains_key(*key) && !self.payload.contains_key(&format!("{key}.$")) {
                return Err(IntegrationError::InvalidField {
                    field: (*key).to_string(),
                    message: format!("{} requires {key}", self.integration),
                });
            }
        }
        if self.cx.path && (self.cx.jsonata || self.query_language == Some(QueryLanguage::Jsonata))
        {
            return Err(IntegrationError::MixedQueryLanguages {
                integration: self.integration.clone(),
            });
        }
        if self.pattern == IntegrationPattern::WaitForTaskToken
            && !patterns::payload_has_task_token(&Value::Object(self.payload.clone()))
        {
            return Err(IntegrationError::MissingTaskToken {
                integration: self.integration.clone(),
            });
        }
        Ok(())
    }

    pub(crate) fn into_task(self) -> TaskState {
        let resource = format!(
            "arn:aws:states:::{}{}",
            self.integration,
            self.pattern.suffix()
        );
        let jsonata = self.cx.jsonata || self.query_language == Some(QueryLanguage::Jsonata);
        let mut task = TaskState {
            resource: resource.into(),
            ..TaskState::default()
        };
        let payload = (!self.payload.is_empty()).then_some(Value::Object(self.payload));
        if jsonata {
            task.common.query_language = Some(QueryLanguage::Jsonata);
            task.arguments = payload;
        } else {
            task.common.query_language = self.query_language;
            task.parameters = payload;
        }
        task
    }
}

/// Moves a literal-only request from `Parameters` to `Arguments`, for a task that will run in a
/// JSONata machine (or branch). A typed task cannot know the machine's language when it is
/// converted; with only literals it renders `Parameters`, which a JSONata state does not accept.
/// Requests with JSONPath references (`.$` keys) cannot move: that is an error. Tasks already in
/// `Arguments`, or without a request, are left as they are.
///
/// ```
/// use stepwright::integrations::{into_jsonata, sagemaker::CreateEndpoint, Input};
/// let mut task = CreateEndpoint::new("churn", "churn-config").into_task();
/// into_jsonata(&mut task).unwrap();
/// assert!(task.parameters.is_none());
/// assert_eq!(task.arguments.unwrap()["EndpointName"], "churn");
///
/// let mut dynamic = CreateEndpoint::new("churn", Input::path("$.config")).into_task();
/// assert!(into_jsonata(&mut dynamic).is_err());
/// ```
pub fn into_jsonata(task: &mut TaskState) -> Result<(), IntegrationError> {
    let Some(params) = &task.parameters else {
        return Ok(());
    };
    let mut cx = RenderCx::default();
    params.render(&mut cx);
    if cx.path {
        return Err(IntegrationError::MixedQueryLanguages {
            integration: task.resource.as_arn().unwrap_or_default().to_string(),
        });
    }
    task.arguments = task.parameters.take();
    Ok(())
}

/// Checks a pattern against what an integration supports.
pub(crate) fn check_pattern(
    integration: &str,
    supported: &[IntegrationPattern],
    p: IntegrationPattern,
) -> Result<IntegrationPattern, IntegrationError> {
    if supported.contains(&p) {
        Ok(p)
    } else {
        Err(IntegrationError::UnsupportedPattern {
            integration: integration.to_string(),
            supported: supported.to_vec(),
            received: p,
        })
    }
}

/// Defines a request object: a struct of optional [`Input`] fields with one setter each, an
/// escape hatch for any other field, and its rendering. Fields in the `fixed` group get no
/// public setter (a constructor sets them, after checking them). With a `task` block the struct is
/// a whole Task: it also has an integration pattern, a query language, and converts into a
/// [`TaskState`].
macro_rules! request_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty => $key:literal, )*
        }
        $( fixed { $( $xfield:ident : $xty:ty => $xkey:literal, )* } )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $( $field: Option<$crate::integrations::Input<$ty>>, )*
            $( $( $xfield: Option<$crate::integrations::Input<$xty>>, )* )?
            extra: Vec<(String, $crate::integrations::Input<serde_json::Value>)>,
        }
        $crate::integrations::request_object!(@common $name { $( $(#[$fmeta])* $field : $ty => $key, )* } $( fixed { $( $xfield : $xty => $xkey, )* } )?);
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty => $key:literal, )*
        }
        $( fixed { $( $xfield:ident : $xty:ty => $xkey:literal, )* } )?
        $( private { $( $pfield:ident : $pty:ty = $pdefault:expr, )* } )?
        task { $integration:literal, [$($pat:ident),*], $default:ident, required [$($req:literal),*] $(, finish $finish:path)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $field: Option<$crate::integrations::Input<$ty>>, )*
            $( $( $xfield: Option<$crate::integrations::Input<$xty>>, )* )?
            extra: Vec<(String, $crate::integrations::Input<serde_json::Value>)>,
            pattern: $crate::integrations::IntegrationPattern,
            query_language: Option<$crate::model::QueryLanguage>,
            $( $( $pfield: $pty, )* )?
        }
        impl $name {
            /// The integration, as in the Resource ARN after `arn:aws:states:::`.
            pub const INTEGRATION: &'static str = $integration;
            /// The integration patterns this task supports.
            pub const SUPPORTED_PATTERNS: &'static [$crate::integrations::IntegrationPattern] =
                &[$($crate::integrations::IntegrationPattern::$pat),*];

            fn blank() -> Self {
                $name {
                    $( $field: None, )*
                    $( $( $xfield: None, )* )?
                    extra: Vec::new(),
                    pattern: $crate::integrations::IntegrationPattern::$default,
                    query_language: None,
                    $( $( $pfield: $pdefault, )* )?
                }
            }

            /// Sets the integration pattern; an error when the integration does not support it
            /// (for example `.waitForTaskToken` on SageMaker).
            pub fn integration_pattern(
                mut self,
                pattern: $crate::integrations::IntegrationPattern,
            ) -> Result<Self, $crate::integrations::IntegrationError> {
                self.pattern = $crate::integrations::check_pattern(
                    $integration,
                    Self::SUPPORTED_PATTERNS,
                    pattern,
                )?;
                Ok(self)
            }

            /// The integration pattern the task will use.
            pub fn pattern(&self) -> $crate::integrations::IntegrationPattern {
                self.pattern
            }

            /// Renders the request under `Arguments` (JSONata) or `Parameters` (JSONPath) and
            /// sets the state's `QueryLanguage`; by default the expressions used decide.
            pub fn query_language(mut self, language: $crate::model::QueryLanguage) -> Self {
                self.query_language = Some(language);
                self
            }

            fn spec(&self) -> $crate::integrations::TaskSpec {
                let mut cx = $crate::integrations::RenderCx::default();
                let payload = $crate::integrations::Render::render(self, &mut cx);
                $crate::integrations::TaskSpec::new(
                    $integration,
                    self.pattern,
                    payload,
                    cx,
                    self.query_language,
                )
                .required(&[$($req),*])
            }

            /// The Task state, after checking what can only be checked on the whole request
            /// (required fields present, one query language, the task token for callbacks).
            pub fn try_into_task(
                &self,
            ) -> Result<$crate::model::TaskState, $crate::integrations::IntegrationError> {
                let spec = self.spec();
                spec.check()?;
                #[allow(unused_mut)]
                let mut task = spec.into_task();
                $( $finish(self, &mut task); )?
                Ok(task)
            }

            /// The Task state, without the whole-request checks of
            /// [`try_into_task`](Self::try_into_task) (the validator reports the same problems).
            pub fn into_task(&self) -> $crate::model::TaskState {
                #[allow(unused_mut)]
                let mut task = self.spec().into_task();
                $( $finish(self, &mut task); )?
                task
            }

            /// Switches to `.waitForTaskToken` (wait for a callback); an error when the
            /// integration has no callback pattern or the payload does not pass the task token
            /// (`$$.Task.Token` / `$states.context.Task.Token`). Set the payload first.
            pub fn wait_for_task_token(
                self,
            ) -> Result<Self, $crate::integrations::IntegrationError> {
                let t = self.integration_pattern(
                    $crate::integrations::IntegrationPattern::WaitForTaskToken,
                )?;
                t.spec().check()?;
                Ok(t)
            }
        }

        impl From<$name> for $crate::model::TaskState {
            fn from(t: $name) -> $crate::model::TaskState {
                t.into_task()
            }
        }

        $crate::integrations::request_object!(@common $name { $( $(#[$fmeta])* $field : $ty => $key, )* } $( fixed { $( $xfield : $xty => $xkey, )* } )?);
    };
    (@common $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty => $key:literal, )*
        }
        $( fixed { $( $xfield:ident : $xty:ty => $xkey:literal, )* } )?
    ) => {
        impl $name {
            $(
                $(#[$fmeta])*
                pub fn $field(mut self, value: impl Into<$crate::integrations::Input<$ty>>) -> Self {
                    self.$field = Some(value.into());
                    self
                }
            )*

            /// Escape hatch: sets any request field by its API name (a literal JSON value, a
            /// path or a JSONata expression). It replaces a typed field of the same name.
            pub fn with_field(
                mut self,
                key: impl Into<String>,
                value: impl Into<$crate::integrations::Input<serde_json::Value>>,
            ) -> Self {
                self.extra.push((key.into(), value.into()));
                self
            }
        }

        impl $crate::integrations::Render for $name {
            fn render(&self, cx: &mut $crate::integrations::RenderCx) -> serde_json::Value {
                let mut o = serde_json::Map::new();
                $( $( if let Some(v) = &self.$xfield {
                    $crate::integrations::put(&mut o, $xkey, v, cx);
                } )* )?
                $( if let Some(v) = &self.$field {
                    $crate::integrations::put(&mut o, $key, v, cx);
                } )*
                for (k, v) in &self.extra {
                    $crate::integrations::put(&mut o, k, v, cx);
                }
                serde_json::Value::Object(o)
            }
        }
    };
}
pub(crate) use request_object;
