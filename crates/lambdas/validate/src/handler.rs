//! The Lambda handler (feature `lambda`): reads the object, validates and profiles it on a blocking
//! thread, optionally writes the profile (the next run's drift baseline) atomically, returns the
//! outcome.
//!
//! Event (JSON):
//!
//! ```json
//! {
//!   "input": "s3://bucket/clean/data.csv",        // or {"bucket": "...", "key": "..."} or a path
//!   "suite": { "expectations": [ ... ] },         // inline, or
//!   "suite_url": "s3://bucket/config/suite.json", // a JSON document
//!   "baseline_url": "s3://bucket/profiles/last.json", // optional: drift baseline (a profile or an
//!                                                 //   earlier result), replaces `suite.baseline`
//!   "profile_output": "s3://bucket/profiles/this.json" // optional: where to write this profile
//! }
//! ```
//!
//! Errors: `Validate.InvalidEvent`, `Validate.InvalidConfig`, `Validate.InvalidInput`,
//! `Validate.SchemaMismatch` and `Validate.Failed` (with `on_failure: "fail"`),
//! `Validate.IOError`, `Validate.ObjectNotFound` / ... (object IO, from lambda-kit).

use cleanse::handler::{read_json, Location};
use lambda_kit::{BlockingStore, LambdaError, ObjectError, ObjectStore};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Outcome, Suite, ValidateError};

/// The validate event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateEvent {
    /// The object to validate.
    pub input: Location,
    /// The suite, inline.
    #[serde(default)]
    pub suite: Option<Value>,
    /// The suite, as a JSON object.
    #[serde(default)]
    pub suite_url: Option<Location>,
    /// A baseline profile for drift checks (replaces the suite's `baseline`).
    #[serde(default)]
    pub baseline_url: Option<Location>,
    /// Where to write this run's profile.
    #[serde(default)]
    pub profile_output: Option<Location>,
}

/// What the handler returns.
#[derive(Debug, Clone, Serialize)]
pub struct ValidateResult {
    /// The input object.
    pub input: String,
    /// Where the profile was written, if asked.
    pub profile_output: Option<String>,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
}

pub(crate) fn object_err(e: &ObjectError) -> LambdaError {
    LambdaError::from_object("Validate", e)
}

/// `Validate.<kind>` for an engine error.
pub fn named(e: &ValidateError) -> LambdaError {
    LambdaError::new(e.name(), e.to_string())
}

/// Parses the event, naming what is wrong (`Validate.InvalidEvent`).
pub fn parse_event(event: Value) -> Result<ValidateEvent, LambdaError> {
    let ev: ValidateEvent = serde_json::from_value(event).map_err(|e| {
        LambdaError::new(
            "Validate.InvalidEvent",
            format!("the event is not a validate event ({e}); expected {{\"input\", \"suite\" or \"suite_url\", optional \"baseline_url\", \"profile_output\"}}"),
        )
    })?;
    if ev.suite.is_some() == ev.suite_url.is_some() {
        return Err(LambdaError::new(
            "Validate.InvalidEvent",
            "give exactly one of `suite` (inline) and `suite_url`",
        ));
    }
    Ok(ev)
}

/// Runs one validate event synchronously (call it on a blocking thread).
pub fn run_blocking(
    store: &BlockingStore,
    ev: ValidateEvent,
) -> Result<ValidateResult, LambdaError> {
    let input = ev.input.url().map_err(|e| object_err(&e))?;
    let mut suite_value = match (&ev.suite, &ev.suite_url) {
        (Some(v), _) => v.clone(),
        (None, Some(l)) => read_json(store, &l.url().map_err(|e| object_err(&e))?, "Validate")?,
        (None, None) => return Err(LambdaError::new("Validate.InvalidEvent", "no suite")),
    };
    if let Some(b) = &ev.baseline_url {
        let baseline = read_json(store, &b.url().map_err(|e| object_err(&e))?, "Validate")?;
        match suite_value.as_object_mut() {
            Some(obj) => {
                obj.insert("baseline".into(), baseline);
            }
            None => {
                return Err(LambdaError::new(
                    "Validate.InvalidConfig",
                    "the suite is not a JSON object (at /)",
                ))
            }
        }
    }
    let suite =
        Suite::from_value(&suite_value).map_err(|e| named(&ValidateError::InvalidConfig(e)))?;
    let reader = store.open(&input).map_err(|e| object_err(&e))?;
    let outcome = crate::run(&suite, reader).map_err(|e| named(&e))?;
    let profile_output = match &ev.profile_output {
        None => None,
        Some(l) => {
            let url = l.url().map_err(|e| object_err(&e))?;
            let text = serde_json::to_vec_pretty(&outcome.profile)
                .map_err(|e| LambdaError::new("Validate.Internal", e.to_string()))?;
            store.put(&url, text).map_err(|e| object_err(&e))?;
            Some(url.to_string())
        }
    };
    Ok(ValidateResult {
        input: input.to_string(),
        profile_output,
        outcome,
    })
}

/// The async handler: parses the event and runs the engine on a blocking thread.
pub async fn handle(store: &ObjectStore, event: Value) -> Result<ValidateResult, LambdaError> {
    let ev = parse_event(event)?;
    on_blocking_thread(store, move |blocking| run_blocking(blocking, ev)).await
}

/// Runs `work` with a blocking view of `store` on tokio's blocking pool (the engine reads and
/// writes synchronously); a panicked thread is `Validate.Internal`.
pub(crate) async fn on_blocking_thread<T, F>(store: &ObjectStore, work: F) -> Result<T, LambdaError>
where
    F: FnOnce(&BlockingStore) -> Result<T, LambdaError> + Send + 'static,
    T: Send + 'static,
{
    let blocking = store.blocking().map_err(|e| object_err(&e))?;
    tokio::task::spawn_blocking(move || work(&blocking))
        .await
        .map_err(|e| {
            LambdaError::new(
                "Validate.Internal",
                format!("the engine thread failed: {e}"),
            )
        })?
}
