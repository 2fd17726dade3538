//! Stepwright Lambda: the S3 trigger. Starts one state machine execution per new S3 object,
//! exactly once.
//!
//! It accepts S3 event notifications (`{"Records": [...]}`, object keys URL-encoded) and
//! EventBridge `Object Created` events from `aws.s3` (keys not encoded), keeps the objects whose
//! key matches the configured prefixes and suffixes, and calls `StartExecution` with:
//!
//! * a **deterministic execution name** ([`execution_name`]) derived from the bucket, the key and
//!   the object's version id (else its event sequencer, else its ETag): a redelivered event (S3 and
//!   EventBridge both deliver at least once, and a bucket may send both) maps to the same name;
//! * the input `{"bucket", "key", "version", "size", "etag"}` ([`ObjectCreated::execution_input`]).
//!
//! Step Functions never runs two executions with one name: while the first runs, an identical
//! `StartExecution` returns it (reported `started`, same ARN); afterwards the name is refused with
//! `ExecutionAlreadyExists`, which the trigger reports as `already_started` (success). Either way
//! a redelivered event never starts a second execution.
//!
//! Errors are named for Step Functions and Lambda retries: `Trigger.InvalidEvent` (wrong event
//! shape), `Trigger.InvalidConfig` (missing `STATE_MACHINE_ARN`), `Trigger.StartFailed`
//! (`StartExecution` failed for a reason other than a duplicate; Lambda's async retry may then
//! redeliver the event, which is safe).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::s3::S3Event;
use aws_sdk_sfn::error::ProvideErrorMetadata;
use lambda_kit::encoding::form_decode;
use lambda_kit::LambdaError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Maximum length of a Step Functions execution name.
pub const MAX_NAME_LEN: usize = 80;
/// Hex digits of the SHA-256 identity kept in execution names (128 bits).
const HASH_HEX: usize = 32;

/// Which objects start an execution, and which state machine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TriggerConfig {
    /// The state machine to start.
    pub state_machine_arn: String,
    /// Key prefixes; an object matches when its key starts with any of them (none = all keys).
    pub prefixes: Vec<String>,
    /// Key suffixes; an object matches when its key ends with any of them (none = all keys).
    pub suffixes: Vec<String>,
}

impl TriggerConfig {
    /// Reads `STATE_MACHINE_ARN` (required), `TRIGGER_PREFIXES` and `TRIGGER_SUFFIXES`
    /// (comma-separated, optional) through `get`.
    ///
    /// ```
    /// use trigger::TriggerConfig;
    /// let env = |k: &str| match k {
    ///     "STATE_MACHINE_ARN" => Some("arn:aws:states:us-east-1:123456789012:stateMachine:train".to_string()),
    ///     "TRIGGER_SUFFIXES" => Some(".csv, .jsonl".to_string()),
    ///     _ => None,
    /// };
    /// let cfg = TriggerConfig::from_lookup(env).unwrap();
    /// assert_eq!(cfg.suffixes, [".csv", ".jsonl"]);
    /// assert!(cfg.prefixes.is_empty());
    /// assert!(TriggerConfig::from_lookup(|_| None).is_err());
    /// ```
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, LambdaError> {
        let arn = get("STATE_MACHINE_ARN")
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                LambdaError::new("Trigger.InvalidConfig", "STATE_MACHINE_ARN is not set")
            })?;
        if !arn.starts_with("arn:") || !arn.contains(":stateMachine:") {
            return Err(LambdaError::new(
                "Trigger.InvalidConfig",
                format!("STATE_MACHINE_ARN `{arn}` is not a state machine ARN"),
            ));
        }
        let list = |k: &str| -> Vec<String> {
            get(k)
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Self {
            state_machine_arn: arn.trim().to_owned(),
            prefixes: list("TRIGGER_PREFIXES"),
            suffixes: list("TRIGGER_SUFFIXES"),
        })
    }

    /// [`from_lookup`](Self::from_lookup) over the process environment.
    pub fn from_env() -> Result<Self, LambdaError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Whether `key` passes the prefix and suffix filters.
    pub fn matches(&self, key: &str) -> bool {
        (self.prefixes.is_empty() || self.prefixes.iter().any(|p| key.starts_with(p.as_str())))
            && (self.suffixes.is_empty() || self.suffixes.iter().any(|s| key.ends_with(s.as_str())))
    }
}

/// One created object, from either event source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectCreated {
    /// Bucket name.
    pub bucket: String,
    /// Object key (decoded).
    pub key: String,
    /// Version id, for versioned buckets.
    pub version: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// ETag without quotes.
    pub etag: Option<String>,
    /// The event sequencer (orders events for one key; unique per write).
    pub sequencer: Option<String>,
}

impl ObjectCreated {
    /// The execution input: `{"bucket", "key", "version", "size", "etag"}` (absent values null).
    pub fn execution_input(&self) -> Value {
        json!({
            "bucket": self.bucket,
            "key": self.key,
            "version": self.version,
            "size": self.size,
            "etag": self.etag,
        })
    }
}

/// What the trigger did with one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An execution was started (or, for a duplicate while it still runs, Step Functions
    /// returned that same execution).
    Started,
    /// An execution with this name already exists (a redelivered event): nothing new started.
    AlreadyStarted,
    /// The key did not pass the prefix/suffix filters.
    Filtered,
    /// Not an object-created event (e.g. `ObjectRemoved:*`).
    Ignored,
}

/// The result for one event record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordResult {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// What happened.
    pub outcome: Outcome,
    /// The execution name (for started or already started executions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_name: Option<String>,
    /// The execution ARN (for started or already started executions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
}

/// The handler's response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerOutput {
    /// One result per record of the event.
    pub results: Vec<RecordResult>,
}

/// An event record: a created object, or another kind of event to ignore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventRecord {
    /// An object was created.
    Created(ObjectCreated),
    /// Another S3 event (bucket, key, event name).
    Other {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The event name or detail-type.
        event: String,
    },
}

fn invalid(msg: impl Into<String>) -> LambdaError {
    LambdaError::new("Trigger.InvalidEvent", msg)
}

fn unquote(s: &str) -> String {
    s.trim_matches('"').to_owned()
}

/// The object key and event fields of an EventBridge `aws.s3` event's `detail`.
#[derive(Debug, Deserialize)]
struct BridgeDetail {
    bucket: BridgeBucket,
    object: BridgeObject,
}

#[derive(Debug, Deserialize)]
struct BridgeBucket {
    name: String,
}

#[derive(Debug, Deserialize)]
struct BridgeObject {
    key: String,
    size: Option<u64>,
    etag: Option<String>,
    #[serde(rename = "version-id")]
    version_id: Option<String>,
    sequencer: Option<String>,
}

/// Parses an S3 notification or an EventBridge event into records.
///
/// ```
/// use trigger::{parse_event, EventRecord};
/// let event = serde_json::json!({
///     "detail-type": "Object Created", "source": "aws.s3",
///     "detail": {"bucket": {"name": "raw"}, "object": {"key": "in/a b.csv", "size": 3, "sequencer": "01"}}
/// });
/// let records = parse_event(&event).unwrap();
/// assert!(matches!(&records[0], EventRecord::Created(o) if o.key == "in/a b.csv"));
/// let err = parse_event(&serde_json::json!({"hello": 1})).unwrap_err();
/// assert_eq!(err.name(), "Trigger.InvalidEvent");
/// ```
pub fn parse_event(event: &Value) -> Result<Vec<EventRecord>, LambdaError> {
    let Some(obj) = event.as_object() else {
        return Err(invalid(format!(
            "the event is not a JSON object but {}",
            type_name(event)
        )));
    };
    if obj.contains_key("Records") {
        let s3: S3Event = serde_json::from_value(event.clone())
            .map_err(|e| invalid(format!("not an S3 event notification: {e}")))?;
        if s3.records.is_empty() {
            return Err(invalid("the S3 event has no Records"));
        }
        return s3
            .records
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let at = |field: &str| format!("Records[{i}].{field}");
                if r.event_source.as_deref().is_some_and(|s| s != "aws:s3") {
                    return Err(invalid(format!(
                        "{} is `{}`, not aws:s3 (wrapped SQS/SNS messages must be unwrapped first)",
                        at("eventSource"),
                        r.event_source.unwrap_or_default()
                    )));
                }
                let bucket =
                    r.s3.bucket
                        .name
                        .filter(|b| !b.is_empty())
                        .ok_or_else(|| invalid(format!("{} is missing", at("s3.bucket.name"))))?;
                let raw_key =
                    r.s3.object
                        .key
                        .filter(|k| !k.is_empty())
                        .ok_or_else(|| invalid(format!("{} is missing", at("s3.object.key"))))?;
                let key = form_decode(&raw_key)
                    .map_err(|e| invalid(format!("{}: {e}", at("s3.object.key"))))?;
                let event_name = r.event_name.unwrap_or_default();
                if !event_name.starts_with("ObjectCreated:") {
                    return Ok(EventRecord::Other {
                        bucket,
                        key,
                        event: event_name,
                    });
                }
                Ok(EventRecord::Created(ObjectCreated {
                    bucket,
                    key,
                    version: r
                        .s3
                        .object
                        .version_id
                        .filter(|v| !v.is_empty() && v != "null"),
                    size: r.s3.object.size.and_then(|s| u64::try_from(s).ok()),
                    etag: r.s3.object.e_tag.as_deref().map(unquote),
                    sequencer: r.s3.object.sequencer.filter(|s| !s.is_empty()),
                }))
            })
            .collect();
    }
    if obj.contains_key("detail-type") {
        let ev: EventBridgeEvent<Value> = serde_json::from_value(event.clone())
            .map_err(|e| invalid(format!("not an EventBridge event: {e}")))?;
        if ev.source != "aws.s3" {
            return Err(invalid(format!(
                "EventBridge source is `{}`, not aws.s3",
                ev.source
            )));
        }
        let detail: BridgeDetail = serde_json::from_value(ev.detail)
            .map_err(|e| invalid(format!("EventBridge detail is not an S3 object event: {e}")))?;
        if detail.object.key.is_empty() || detail.bucket.name.is_empty() {
            return Err(invalid(
                "EventBridge detail has an empty bucket name or object key",
            ));
        }
        if ev.detail_type != "Object Created" {
            return Ok(vec![EventRecord::Other {
                bucket: detail.bucket.name,
                key: detail.object.key,
                event: ev.detail_type,
            }]);
        }
        return Ok(vec![EventRecord::Created(ObjectCreated {
            bucket: detail.bucket.name,
            key: detail.object.key,
            version: detail
                .object
                .version_id
                .filter(|v| !v.is_empty() && v != "null"),
            size: detail.object.size,
            etag: detail.object.etag.as_deref().map(unquote),
            sequencer: detail.object.sequencer.filter(|s| !s.is_empty()),
        })]);
    }
    Err(invalid(
        "expected an S3 event notification (with `Records`) or an EventBridge event (with `detail-type`)",
    ))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The deterministic execution name for an object write: a readable part from the key's file
/// name (letters, digits, `-`, `_`) and 128 bits of SHA-256 over bucket, key and the write's
/// identity (version id, else sequencer, else ETag). At most 80 characters, only `[A-Za-z0-9_-]`
/// (valid for Step Functions and for CloudWatch log names).
///
/// ```
/// use trigger::{execution_name, ObjectCreated};
/// let obj = ObjectCreated {
///     bucket: "raw".into(), key: "2024/06/train data.csv".into(), version: None,
///     size: Some(10), etag: Some("abc".into()), sequencer: Some("0055AED6DCD90281E5".into()),
/// };
/// let name = execution_name(&obj).unwrap();
/// assert!(name.starts_with("train-data-csv-"));
/// assert!(name.len() <= 80);
/// assert_eq!(name, execution_name(&obj.clone()).unwrap());
/// ```
pub fn execution_name(obj: &ObjectCreated) -> Result<String, LambdaError> {
    let identity = match (&obj.version, &obj.sequencer, &obj.etag) {
        (Some(v), _, _) => format!("version:{v}"),
        (None, Some(s), _) => format!("sequencer:{s}"),
        (None, None, Some(e)) => format!("etag:{e}"),
        (None, None, None) => {
            return Err(invalid(format!(
                "s3://{}/{}: the event has no version id, sequencer or ETag to tell this write \
                 from another write of the same key",
                obj.bucket, obj.key
            )))
        }
    };
    let mut h = Sha256::new();
    for part in [
        obj.bucket.as_bytes(),
        obj.key.as_bytes(),
        identity.as_bytes(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    let digest = hex::encode(h.finalize());
    let file = obj.key.rsplit('/').find(|s| !s.is_empty()).unwrap_or("");
    let mut slug = String::new();
    for c in file.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let budget = MAX_NAME_LEN - HASH_HEX - 1;
    slug.truncate(budget);
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() { "object" } else { slug };
    Ok(format!("{slug}-{}", &digest[..HASH_HEX]))
}

/// The ARN of execution `name` of `state_machine_arn`.
fn execution_arn(state_machine_arn: &str, name: &str) -> String {
    format!(
        "{}:{name}",
        state_machine_arn.replacen(":stateMachine:", ":execution:", 1)
    )
}

/// Handles one event: filters, then starts one execution per created object.
///
/// Every record is attempted; if any `StartExecution` failed (other than for a duplicate name),
/// the error `Trigger.StartFailed` lists them (a retry is safe: started ones are deduplicated).
pub async fn handle(
    sfn: &aws_sdk_sfn::Client,
    config: &TriggerConfig,
    event: Value,
) -> Result<TriggerOutput, LambdaError> {
    let records = parse_event(&event)?;
    let mut results = Vec::with_capacity(records.len());
    let mut failures = Vec::new();
    for record in records {
        let obj = match record {
            EventRecord::Other { bucket, key, event } => {
                tracing::info!(%bucket, %key, %event, "ignored: not an object-created event");
                results.push(RecordResult {
                    bucket,
                    key,
                    outcome: Outcome::Ignored,
                    execution_name: None,
                    execution_arn: None,
                });
                continue;
            }
            EventRecord::Created(obj) => obj,
        };
        if !config.matches(&obj.key) {
            tracing::info!(bucket = %obj.bucket, key = %obj.key, "filtered out by prefix/suffix");
            results.push(RecordResult {
                bucket: obj.bucket,
                key: obj.key,
                outcome: Outcome::Filtered,
                execution_name: None,
                execution_arn: None,
            });
            continue;
        }
        let name = execution_name(&obj)?;
        let input = obj.execution_input().to_string();
        let sent = sfn
            .start_execution()
            .state_machine_arn(&config.state_machine_arn)
            .name(&name)
            .input(input)
            .send()
            .await;
        let (outcome, arn) = match sent {
            Ok(out) => (Outcome::Started, out.execution_arn().to_owned()),
            Err(e) if e.code() == Some("ExecutionAlreadyExists") => (
                Outcome::AlreadyStarted,
                execution_arn(&config.state_machine_arn, &name),
            ),
            Err(e) => {
                let msg = e
                    .message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{e:?}"));
                let code = e.code().unwrap_or("error").to_owned();
                tracing::error!(bucket = %obj.bucket, key = %obj.key, %code, %msg, "StartExecution failed");
                failures.push(format!(
                    "s3://{}/{}: StartExecution: {code}: {msg}",
                    obj.bucket, obj.key
                ));
                continue;
            }
        };
        tracing::info!(bucket = %obj.bucket, key = %obj.key, execution = %name, ?outcome, "handled");
        results.push(RecordResult {
            bucket: obj.bucket,
            key: obj.key,
            outcome,
            execution_name: Some(name),
            execution_arn: Some(arn),
        });
    }
    if !failures.is_empty() {
        return Err(LambdaError::new("Trigger.StartFailed", failures.join("; ")));
    }
    Ok(TriggerOutput { results })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3_event(key: &str, event_name: &str) -> Value {
        json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2024-06-01T12:00:00.000Z", "eventName": event_name,
            "userIdentity": {"principalId": "EXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "R"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                   "bucket": {"name": "raw", "ownerIdentity": {"principalId": "E"}, "arn": "arn:aws:s3:::raw"},
                   "object": {"key": key, "size": 1024, "eTag": "\"0123abc\"", "sequencer": "0A1B2C3D4E5F678901"}}
        }]})
    }

    fn bridge_event(key: &str) -> Value {
        json!({
            "version": "0", "id": "x", "detail-type": "Object Created", "source": "aws.s3",
            "account": "123456789012", "time": "2024-06-01T12:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:s3:::raw"],
            "detail": {"version": "0", "bucket": {"name": "raw"},
                       "object": {"key": key, "size": 1024, "etag": "0123abc", "sequencer": "0A1B2C3D4E5F678901"},
                       "request-id": "R", "requester": "123456789012", "reason": "PutObject"}
        })
    }

    fn created(records: Vec<EventRecord>) -> ObjectCreated {
        match records.into_iter().next() {
            Some(EventRecord::Created(o)) => o,
            other => panic!("not created: {other:?}"),
        }
    }

    #[test]
    fn both_sources_give_the_same_object_and_name() {
        let a =
            created(parse_event(&s3_event("in/my+data%281%29.csv", "ObjectCreated:Put")).unwrap());
        let b = created(parse_event(&bridge_event("in/my data(1).csv")).unwrap());
        assert_eq!(a, b);
        assert_eq!(a.key, "in/my data(1).csv");
        assert_eq!(a.etag.as_deref(), Some("0123abc"));
        assert_eq!(execution_name(&a).unwrap(), execution_name(&b).unwrap());
        assert_eq!(
            a.execution_input(),
            json!({"bucket": "raw", "key": "in/my data(1).csv", "version": null, "size": 1024, "etag": "0123abc"})
        );
    }

    #[test]
    fn names_differ_per_write_and_are_valid() {
        let base = ObjectCreated {
            bucket: "b".into(),
            key: "k.csv".into(),
            version: None,
            size: None,
            etag: None,
            sequencer: Some("01".into()),
        };
        let n1 = execution_name(&base).unwrap();
        let n2 = execution_name(&ObjectCreated {
            sequencer: Some("02".into()),
            ..base.clone()
        })
        .unwrap();
        let n3 = execution_name(&ObjectCreated {
            bucket: "c".into(),
            ..base.clone()
        })
        .unwrap();
        let n4 = execution_name(&ObjectCreated {
            version: Some("v1".into()),
            ..base.clone()
        })
        .unwrap();
        assert!(n1 != n2 && n1 != n3 && n1 != n4, "{n1} {n2} {n3} {n4}");
        // bucket/key boundaries are unambiguous
        let x = execution_name(&ObjectCreated {
            bucket: "ab".into(),
            key: "c".into(),
            ..base.clone()
        })
        .unwrap();
        let y = execution_name(&ObjectCreated {
            bucket: "a".into(),
            key: "bc".into(),
            ..base.clone()
        })
        .unwrap();
        assert_ne!(x, y);
        for key in [
            "",
            "/",
            "a/",
            "ünïcødé 💥.csv",
            &"x".repeat(300),
            "..",
            "a b<c>{d}[e]?*\"#%\\^|~`$&,;:/",
        ] {
            let n = execution_name(&ObjectCreated {
                key: key.into(),
                ..base.clone()
            })
            .unwrap();
            assert!(n.len() <= MAX_NAME_LEN, "{n}");
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{n}"
            );
            assert!(!n.starts_with('-'), "{n}");
        }
        let err = execution_name(&ObjectCreated {
            sequencer: None,
            ..base
        })
        .unwrap_err();
        assert_eq!(err.name(), "Trigger.InvalidEvent");
        assert!(err.message().contains("s3://b/k.csv"));
    }

    #[test]
    fn wrong_shapes_are_named_errors() {
        for (event, needle) in [
            (json!([1, 2]), "not a JSON object"),
            (json!({"Records": []}), "no Records"),
            (
                json!({"Records": [{"eventName": "ObjectCreated:Put"}]}),
                "not an S3 event notification",
            ),
            (
                json!({"detail-type": "Object Created", "source": "aws.ec2", "detail": {}}),
                "not aws.s3",
            ),
            (
                json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {"bucket": {}}}),
                "not an S3 object event",
            ),
            (json!({"foo": "bar"}), "expected an S3 event notification"),
        ] {
            let err = parse_event(&event).unwrap_err();
            assert_eq!(err.name(), "Trigger.InvalidEvent");
            assert!(err.message().contains(needle), "{needle}: {err}");
        }
        let mut bad_key = s3_event("bad%zz", "ObjectCreated:Put");
        let err = parse_event(&bad_key).unwrap_err();
        assert!(err.message().contains("Records[0].s3.object.key"), "{err}");
        bad_key["Records"][0]["eventSource"] = json!("aws:sqs");
        assert!(parse_event(&bad_key)
            .unwrap_err()
            .message()
            .contains("not aws:s3"));
    }

    #[test]
    fn other_events_are_ignored_not_errors() {
        let records = parse_event(&s3_event("a.csv", "ObjectRemoved:Delete")).unwrap();
        assert!(
            matches!(&records[0], EventRecord::Other { event, .. } if event == "ObjectRemoved:Delete")
        );
        let mut ev = bridge_event("a.csv");
        ev["detail-type"] = json!("Object Deleted");
        assert!(matches!(
            &parse_event(&ev).unwrap()[0],
            EventRecord::Other { .. }
        ));
    }

    #[test]
    fn filters() {
        let cfg = TriggerConfig {
            state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:m".into(),
            prefixes: vec!["incoming/".into(), "batch/".into()],
            suffixes: vec![".csv".into()],
        };
        assert!(cfg.matches("incoming/a.csv"));
        assert!(cfg.matches("batch/x/y.csv"));
        assert!(!cfg.matches("incoming/a.json"));
        assert!(!cfg.matches("other/a.csv"));
        assert!(TriggerConfig {
            prefixes: vec![],
            suffixes: vec![],
            ..cfg
        }
        .matches("anything"));
        let err =
            TriggerConfig::from_lookup(|k| (k == "STATE_MACHINE_ARN").then(|| "nope".to_string()))
                .unwrap_err();
        assert_eq!(err.name(), "Trigger.InvalidConfig");
    }

    #[test]
    fn execution_arns() {
        assert_eq!(
            execution_arn("arn:aws:states:us-east-1:1:stateMachine:train", "n"),
            "arn:aws:states:us-east-1:1:execution:train:n"
        );
    }
}
