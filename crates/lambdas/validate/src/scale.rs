//! The scale-out modes (feature `lambda`): `batch` (one call per Distributed Map batch: cleanse
//! and validate each object) and `merge` (the per-batch results, read from the Map's
//! ResultWriter manifest, combined into one verdict and one profile).
//!
//! [`handle_event`] dispatches an event to the right mode: `{"batch": {...}}`, `{"merge": {...}}`,
//! or a plain validate event ([`crate::handler`]).
//!
//! # `batch`
//!
//! ```json
//! {"batch": {
//!   "items": [{"key": "raw/2024-06-01/part-0001.csv", "size": 1048576, "etag": "\"9b2c...\""}],
//!   "source": "s3://bucket",                    // the items' keys are relative to this
//!   "output": "s3://bucket/clean/run-42",       // each object goes to <output>/<key>
//!   "cleanse_config_url": "s3://bucket/config/cleanse.json",
//!   "suite_url": "s3://bucket/config/suite.json"
//! }}
//! ```
//!
//! For each item: cleanse `<source>/<key>` into `<output>/<key>` (rejects beside it), then
//! validate that. Returns `{"objects": [...], "profile": {...}}`: one summary per object
//! (`key`, `output`, `rows_in`, `rows_out`, `rows_rejected`, `passed`, `rows`, `failed`: the
//! failed checks without their samples; or `error` and `message` when the object could not be
//! cleansed or read) and the batch's merged profile ([`crate::merge`]). Problems with one object
//! (bad data: `Cleanse.InvalidInput`, `Cleanse.NoRows`, `Validate.InvalidInput`, or a missing
//! object) are recorded in its summary; problems that would fail every object (an invalid
//! configuration or suite, an IO failure) fail the call, so the Map's retry and tolerated-failure
//! settings apply.
//!
//! # `merge`
//!
//! ```json
//! {"merge": {
//!   "manifest": "s3://bucket/shards/run-42/<map run id>/manifest.json",
//!   "profile_output": "s3://bucket/profiles/run-42/merged.json",   // optional
//!   "max_invalid_percentage": 0                                     // default 0
//! }}
//! ```
//!
//! Reads the manifest and its `SUCCEEDED` and `FAILED` result files (which sit beside it),
//! returns `{"passed", "objects", "objects_invalid", "objects_failed", "rows", "invalid",
//! "profile", "profile_output"}`: `objects_invalid` failed their checks or could not be read,
//! `objects_failed` were in batches that failed (the Map tolerated them), `invalid` lists the
//! first 20 of both with the reason, and `passed` is true when there is at least one object and
//! `objects_invalid + objects_failed` is at most `max_invalid_percentage` % of `objects`.
//! Errors: `Validate.InvalidEvent`, `Validate.InvalidInput` (a manifest or result file that is
//! not what the Map writes), object errors (`Validate.ObjectNotFound`, ...).

use cleanse::handler::{CleanseEvent, Location};
use lambda_kit::{BlockingStore, LambdaError, ObjectStore, ObjectUrl};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::handler::{self, object_err, ValidateEvent};

/// How many invalid objects the merge result lists.
pub const INVALID_LISTED: usize = 20;

/// One object of a batch (a Distributed Map item after the ItemSelector).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct BatchItem {
    /// The object's key (relative to the batch's `source`).
    pub key: String,
    /// Its size, if known.
    #[serde(default)]
    pub size: Option<u64>,
    /// Its ETag, if known.
    #[serde(default)]
    pub etag: Option<String>,
}

/// The `batch` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchEvent {
    /// The objects.
    pub items: Vec<BatchItem>,
    /// The location the keys are relative to (`s3://bucket` or a directory).
    pub source: String,
    /// Where cleansed objects go: `<output>/<key>`.
    pub output: String,
    /// The cleanse configuration.
    pub cleanse_config_url: Location,
    /// The expectation suite.
    pub suite_url: Location,
}

/// The `merge` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeEvent {
    /// The Distributed Map's ResultWriter manifest.
    pub manifest: String,
    /// Where to write the merged profile.
    #[serde(default)]
    pub profile_output: Option<String>,
    /// The share of objects that may be invalid while the data set passes (default 0).
    #[serde(default)]
    pub max_invalid_percentage: f64,
}

fn join(base: &str, key: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        key.trim_start_matches('/')
    )
}

/// Errors that are about one object's data, not about the batch.
fn per_object(name: &str) -> bool {
    matches!(
        name,
        "Cleanse.InvalidInput"
            | "Cleanse.NoRows"
            | "Cleanse.ObjectNotFound"
            | "Validate.InvalidInput"
            | "Validate.ObjectNotFound"
            | "Validate.SchemaMismatch"
            | "Validate.Failed"
    )
}

/// Runs a batch synchronously (call it on a blocking thread).
pub fn run_batch(store: &BlockingStore, ev: BatchEvent) -> Result<Value, LambdaError> {
    let parse_loc = |l: &Location| l.url().map_err(|e| object_err(&e));
    let config =
        cleanse::handler::read_json(store, &parse_loc(&ev.cleanse_config_url)?, "Cleanse")?;
    cleanse::Config::from_value(&config)
        .map_err(|e| cleanse::handler::named(&cleanse::CleanseError::InvalidConfig(e)))?;
    let suite = cleanse::handler::read_json(store, &parse_loc(&ev.suite_url)?, "Validate")?;
    crate::Suite::from_value(&suite)
        .map_err(|e| handler::named(&crate::ValidateError::InvalidConfig(e)))?;
    let mut objects = Vec::with_capacity(ev.items.len());
    let mut profiles = Vec::with_capacity(ev.items.len());
    for item in &ev.items {
        let input = join(&ev.source, &item.key);
        let output = join(&ev.output, &item.key);
        let cleansed = cleanse::handler::run_blocking(
            store,
            CleanseEvent {
                input: Location::Url(input.clone()),
                output: Location::Url(output.clone()),
                rejects: None,
                config: Some(config.clone()),
                config_url: None,
            },
        );
        let report = match cleansed {
            Ok(r) => r,
            Err(e) if per_object(e.name()) => {
                objects.push(json!({"key": item.key, "input": input, "error": e.name(), "message": e.message()}));
                continue;
            }
            Err(e) => return Err(e),
        };
        let validated = handler::run_blocking(
            store,
            ValidateEvent {
                input: Location::Url(report.output.clone()),
                suite: Some(suite.clone()),
                suite_url: None,
                baseline_url: None,
                profile_output: None,
            },
        );
        let result = match validated {
            Ok(r) => r,
            Err(e) if per_object(e.name()) => {
                objects.push(
                    json!({"key": item.key, "input": input, "output": report.output,
                                    "error": e.name(), "message": e.message()}),
                );
                continue;
            }
            Err(e) => return Err(e),
        };
        let failed: Vec<Value> = result
            .outcome
            .failed
            .iter()
            .map(|c| {
                let mut s = json!({"expect": c["expect"], "pointer": c["pointer"]});
                for k in ["column", "columns"] {
                    if let Some(v) = c.get(k) {
                        s[k] = v.clone();
                    }
                }
                s
            })
            .collect();
        objects.push(json!({
            "key": item.key, "input": input, "output": report.output, "rejects": report.rejects,
            "rows_in": report.report.rows_in, "rows_out": report.report.rows_out,
            "rows_rejected": report.report.rows_rejected,
            "passed": result.outcome.passed, "rows": result.outcome.rows, "failed": failed,
        }));
        profiles.push(result.outcome.profile);
    }
    Ok(json!({"objects": objects, "profile": crate::merge::merge_profiles(&profiles)}))
}

/// A result file's entries as child execution outputs (`Output` of the default transformation
/// parsed, or the entry itself with `COMPACT`/`FLATTEN`), or as failed child inputs.
fn entries(text: &str, url: &str) -> Result<Vec<Value>, LambdaError> {
    let bad = |e: String| {
        LambdaError::new(
            "Validate.InvalidInput",
            format!("{url} is not a Distributed Map result file: {e}"),
        )
    };
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        match serde_json::from_str::<Value>(text).map_err(|e| bad(e.to_string()))? {
            Value::Array(a) => Ok(a),
            _ => Err(bad("not an array".into())),
        }
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| bad(e.to_string())))
            .collect()
    }
}

fn embedded(entry: &Value, field: &str) -> Value {
    match entry.get(field) {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => entry.clone(),
    }
}

/// Merges a Distributed Map's results synchronously (call it on a blocking thread).
pub fn run_merge(store: &BlockingStore, ev: MergeEvent) -> Result<Value, LambdaError> {
    if !(0.0..=100.0).contains(&ev.max_invalid_percentage) {
        return Err(LambdaError::new(
            "Validate.InvalidEvent",
            format!(
                "max_invalid_percentage is a percentage (0 to 100), got {}",
                ev.max_invalid_percentage
            ),
        ));
    }
    let manifest_url = ObjectUrl::parse(&ev.manifest).map_err(|e| object_err(&e))?;
    let manifest = cleanse::handler::read_json(store, &manifest_url, "Validate")?;
    let files = manifest.get("ResultFiles").ok_or_else(|| {
        LambdaError::new(
            "Validate.InvalidInput",
            format!("{manifest_url} is not a Distributed Map manifest (no ResultFiles)"),
        )
    })?;
    // result files sit beside the manifest
    let dir = ev
        .manifest
        .rsplit_once('/')
        .map(|(d, _)| d.to_string())
        .unwrap_or_default();
    let file_url = |f: &Value| -> Option<String> {
        let key = f.get("Key")?.as_str()?;
        Some(join(&dir, key.rsplit('/').next().unwrap_or(key)))
    };
    let read = |url: &str| -> Result<Vec<Value>, LambdaError> {
        let u = ObjectUrl::parse(url).map_err(|e| object_err(&e))?;
        let bytes = store.open(&u).map_err(|e| object_err(&e))?;
        let text = std::io::read_to_string(bytes)
            .map_err(|e| LambdaError::new("Validate.IOError", format!("reading {url}: {e}")))?;
        entries(&text, url)
    };
    let mut objects = 0u64;
    let mut invalid_count = 0u64;
    let mut failed_count = 0u64;
    let mut rows = 0u64;
    let mut invalid = Vec::new();
    let mut profiles = Vec::new();
    for f in files
        .get("SUCCEEDED")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(url) = file_url(f) else { continue };
        for entry in read(&url)? {
            let out = embedded(&entry, "Output");
            for o in out
                .get("objects")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                objects += 1;
                rows += o.get("rows").and_then(Value::as_u64).unwrap_or(0);
                if o.get("passed") != Some(&Value::Bool(true)) {
                    invalid_count += 1;
                    if invalid.len() < INVALID_LISTED {
                        let mut s = json!({"key": o["key"]});
                        for k in ["error", "message", "failed"] {
                            if let Some(v) = o.get(k) {
                                s[k] = v.clone();
                            }
                        }
                        invalid.push(s);
                    }
                }
            }
            if let Some(p) = out.get("profile") {
                profiles.push(p.clone());
            }
        }
    }
    for f in files
        .get("FAILED")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(url) = file_url(f) else { continue };
        for entry in read(&url)? {
            let input = embedded(&entry, "Input");
            let items = input
                .get("Items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let n = items.len().max(1) as u64;
            objects += n;
            failed_count += n;
            for it in items
                .iter()
                .take(INVALID_LISTED.saturating_sub(invalid.len()))
            {
                invalid.push(json!({"key": it.get("key").or_else(|| it.get("Key")), "error": entry.get("Error"), "message": entry.get("Cause")}));
            }
        }
    }
    let profile = crate::merge::merge_profiles(&profiles);
    let profile_output = match &ev.profile_output {
        Some(u) => {
            let url = ObjectUrl::parse(u).map_err(|e| object_err(&e))?;
            let text = serde_json::to_vec_pretty(&profile)
                .map_err(|e| LambdaError::new("Validate.Internal", e.to_string()))?;
            store.put(&url, text).map_err(|e| object_err(&e))?;
            Some(url.to_string())
        }
        None => None,
    };
    let bad = invalid_count + failed_count;
    let passed = objects > 0 && (bad as f64) * 100.0 <= ev.max_invalid_percentage * objects as f64;
    Ok(json!({
        "passed": passed, "objects": objects, "objects_invalid": invalid_count,
        "objects_failed": failed_count, "rows": rows, "invalid": invalid,
        "profile": profile, "profile_output": profile_output,
    }))
}

/// Which mode an event asks for.
#[derive(Debug)]
pub enum Event {
    /// `{"batch": ...}`.
    Batch(BatchEvent),
    /// `{"merge": ...}`.
    Merge(MergeEvent),
    /// A plain validate event.
    Validate(ValidateEvent),
}

/// Parses an event of any mode (`Validate.InvalidEvent` names what is wrong).
///
/// ```
/// use serde_json::json;
/// use validate::scale::{parse, Event};
/// assert!(matches!(parse(json!({"merge": {"manifest": "s3://b/m.json"}})), Ok(Event::Merge(_))));
/// assert!(matches!(parse(json!({"input": "x.csv", "suite": {}})), Ok(Event::Validate(_))));
/// assert_eq!(parse(json!({"batch": {"items": 3}})).unwrap_err().name(), "Validate.InvalidEvent");
/// ```
pub fn parse(event: Value) -> Result<Event, LambdaError> {
    let invalid = |mode: &str, e: serde_json::Error| {
        LambdaError::new(
            "Validate.InvalidEvent",
            format!("the `{mode}` event is not valid: {e}"),
        )
    };
    match event {
        Value::Object(mut o) if o.len() == 1 && o.contains_key("batch") => {
            let v = o.remove("batch").unwrap_or_default();
            Ok(Event::Batch(
                serde_json::from_value(v).map_err(|e| invalid("batch", e))?,
            ))
        }
        Value::Object(mut o) if o.len() == 1 && o.contains_key("merge") => {
            let v = o.remove("merge").unwrap_or_default();
            Ok(Event::Merge(
                serde_json::from_value(v).map_err(|e| invalid("merge", e))?,
            ))
        }
        other => Ok(Event::Validate(handler::parse_event(other)?)),
    }
}

/// Runs an event of any mode synchronously (call it on a blocking thread).
pub fn run_blocking(store: &BlockingStore, event: Event) -> Result<Value, LambdaError> {
    match event {
        Event::Batch(b) => run_batch(store, b),
        Event::Merge(m) => run_merge(store, m),
        Event::Validate(v) => {
            let r = handler::run_blocking(store, v)?;
            serde_json::to_value(r)
                .map_err(|e| LambdaError::new("Validate.Internal", e.to_string()))
        }
    }
}

/// The validate Lambda's handler for every mode: parses the event and runs it on a blocking
/// thread.
pub async fn handle_event(store: &ObjectStore, event: Value) -> Result<Value, LambdaError> {
    let ev = parse(event)?;
    handler::on_blocking_thread(store, move |blocking| run_blocking(blocking, ev)).await
}
