//! The Lambda handler: reads the input object, runs the engine on a blocking thread, writes the
//! cleaned and rejects objects atomically, returns the report (feature `lambda`).
//!
//! Event (JSON):
//!
//! ```json
//! {
//!   "input": "s3://bucket/raw/data.csv",          // or {"bucket": "...", "key": "..."} or a path
//!   "output": "s3://bucket/clean/data.csv",
//!   "rejects": "s3://bucket/clean/data.rejects.jsonl", // optional: <output>.rejects.jsonl
//!   "config": { "rules": [ ... ] },                 // inline, or
//!   "config_url": "s3://bucket/config/cleanse.json"   // a JSON document
//! }
//! ```
//!
//! Errors are named for Step Functions: `Cleanse.InvalidEvent` (wrong event shape),
//! `Cleanse.InvalidConfig`, `Cleanse.InvalidInput`, `Cleanse.NoRows`, `Cleanse.IOError`,
//! `Cleanse.ObjectNotFound` / `Cleanse.AccessDenied` / ... (object IO, from lambda-kit). On any
//! error neither output object is written.

use std::io::{self, Read};

use lambda_kit::{BlockingStore, LambdaError, ObjectError, ObjectStore, ObjectUrl};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{CleanseError, Config, Report};

/// Where an object is: a URL (`s3://bucket/key`, `file:///path`, a path) or a bucket and key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Location {
    /// `s3://bucket/key`, `file:///abs/path` or a plain path.
    Url(String),
    /// An S3 bucket and key.
    BucketKey {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
}

impl Location {
    /// The object URL.
    pub fn url(&self) -> Result<ObjectUrl, ObjectError> {
        match self {
            Location::Url(u) => ObjectUrl::parse(u),
            Location::BucketKey { bucket, key } => Ok(ObjectUrl::s3(bucket.clone(), key.clone())),
        }
    }
}

/// The cleanse event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleanseEvent {
    /// The object to cleanse.
    pub input: Location,
    /// Where the cleaned object goes.
    pub output: Location,
    /// Where the rejects go (default: the output's URL + `.rejects.jsonl`).
    #[serde(default)]
    pub rejects: Option<Location>,
    /// The configuration, inline.
    #[serde(default)]
    pub config: Option<Value>,
    /// The configuration, as a JSON object.
    #[serde(default)]
    pub config_url: Option<Location>,
}

/// What the handler returns: the engine's report plus the object locations.
#[derive(Debug, Clone, Serialize)]
pub struct CleanseResult {
    /// The input object.
    pub input: String,
    /// The cleaned object.
    pub output: String,
    /// The rejects object.
    pub rejects: String,
    /// The engine's report.
    #[serde(flatten)]
    pub report: Report,
}

/// `Cleanse.<kind>` for an engine error.
pub fn named(e: &CleanseError) -> LambdaError {
    LambdaError::new(e.name(), e.to_string())
}

fn object_err(e: &ObjectError) -> LambdaError {
    LambdaError::from_object("Cleanse", e)
}

/// Parses the event, naming what is wrong (`Cleanse.InvalidEvent`).
pub fn parse_event(event: Value) -> Result<CleanseEvent, LambdaError> {
    let ev: CleanseEvent = serde_json::from_value(event).map_err(|e| {
        LambdaError::new(
            "Cleanse.InvalidEvent",
            format!("the event is not a cleanse event ({e}); expected {{\"input\", \"output\", \"config\" or \"config_url\", optional \"rejects\"}}"),
        )
    })?;
    if ev.config.is_some() == ev.config_url.is_some() {
        return Err(LambdaError::new(
            "Cleanse.InvalidEvent",
            "give exactly one of `config` (inline) and `config_url`",
        ));
    }
    Ok(ev)
}

/// Reads a JSON document (configuration, suite) from an object.
pub fn read_json(
    store: &BlockingStore,
    url: &ObjectUrl,
    prefix: &str,
) -> Result<Value, LambdaError> {
    let mut text = String::new();
    store
        .open(url)
        .map_err(|e| LambdaError::from_object(prefix, &e))?
        .read_to_string(&mut text)
        .map_err(|e| {
            LambdaError::new(format!("{prefix}.IOError"), format!("reading {url}: {e}"))
        })?;
    serde_json::from_str(&text).map_err(|e| {
        LambdaError::new(
            format!("{prefix}.InvalidConfig"),
            format!("{url} is not JSON: {e}"),
        )
    })
}

/// The input object, opened once per pass: the first reader is the one opened to check the
/// object; a pass that resumes past the spool limit reads from that byte on (a range of an S3
/// object), not the whole object again. Every pass reads the version the first one read (an
/// object overwritten during the run is `Cleanse.ObjectChanged`, never a mix of two versions).
struct ObjectSource<'a> {
    store: &'a BlockingStore,
    url: &'a ObjectUrl,
    first: Option<lambda_kit::BlockingReader>,
    pin: Option<lambda_kit::ObjectPin>,
}

impl<'a> ObjectSource<'a> {
    fn new(store: &'a BlockingStore, url: &'a ObjectUrl) -> Result<Self, ObjectError> {
        let first = store.open(url)?;
        Ok(ObjectSource {
            pin: first.pin().cloned(),
            first: Some(first),
            store,
            url,
        })
    }
}

impl crate::Source for ObjectSource<'_> {
    type Reader = lambda_kit::BlockingReader;

    fn open(&mut self) -> io::Result<Self::Reader> {
        match self.first.take() {
            Some(r) => Ok(r),
            // (the object error kept whole: `run_blocking` names it)
            None => self
                .store
                .open_pinned(self.url, 0, self.pin.as_ref())
                .map_err(io::Error::other),
        }
    }

    fn open_at(&mut self, offset: u64) -> Option<io::Result<Self::Reader>> {
        Some(
            self.store
                .open_pinned(self.url, offset, self.pin.as_ref())
                .map_err(io::Error::other),
        )
    }
}

/// Runs one cleanse event synchronously (call it on a blocking thread).
pub fn run_blocking(store: &BlockingStore, ev: CleanseEvent) -> Result<CleanseResult, LambdaError> {
    let input = ev.input.url().map_err(|e| object_err(&e))?;
    let output = ev.output.url().map_err(|e| object_err(&e))?;
    let rejects = match &ev.rejects {
        Some(l) => l.url().map_err(|e| object_err(&e))?,
        None => ObjectUrl::parse(&format!("{output}.rejects.jsonl")).map_err(|e| object_err(&e))?,
    };
    let cfg_value = match (&ev.config, &ev.config_url) {
        (Some(v), _) => v.clone(),
        (None, Some(l)) => read_json(store, &l.url().map_err(|e| object_err(&e))?, "Cleanse")?,
        (None, None) => return Err(LambdaError::new("Cleanse.InvalidEvent", "no configuration")),
    };
    let cfg = Config::from_value(&cfg_value).map_err(|e| named(&CleanseError::InvalidConfig(e)))?;
    // the first open names a missing object precisely; later passes reopen it
    let source = ObjectSource::new(store, &input).map_err(|e| object_err(&e))?;
    let mut out = store.create(&output).map_err(|e| object_err(&e))?;
    let mut rej = store.create(&rejects).map_err(|e| object_err(&e))?;
    match crate::run_passes(&cfg, source, &mut out, &mut rej) {
        Ok(report) => {
            out.finish().map_err(|e| object_err(&e))?;
            rej.finish().map_err(|e| object_err(&e))?;
            Ok(CleanseResult {
                input: input.to_string(),
                output: output.to_string(),
                rejects: rejects.to_string(),
                report,
            })
        }
        Err(e) => {
            // nothing is published: both writes are abandoned
            let _ = out.abort();
            let _ = rej.abort();
            Err(run_error(&e))
        }
    }
}

/// The name of a failed run: the engine's (`Cleanse.InvalidInput`, ...), but an object error
/// from opening the input again for a later pass keeps its own (`Cleanse.ObjectChanged`,
/// `Cleanse.ObjectNotFound`, ...).
fn run_error(e: &CleanseError) -> LambdaError {
    match e {
        CleanseError::Io(io) => match io.get_ref().and_then(|x| x.downcast_ref()) {
            Some(oe) => object_err(oe),
            None => named(e),
        },
        _ => named(e),
    }
}

/// The async handler: parses the event and runs the engine on a blocking thread.
pub async fn handle(store: &ObjectStore, event: Value) -> Result<CleanseResult, LambdaError> {
    let ev = parse_event(event)?;
    let blocking = store.blocking().map_err(|e| object_err(&e))?;
    tokio::task::spawn_blocking(move || run_blocking(&blocking, ev))
        .await
        .map_err(|e| {
            LambdaError::new("Cleanse.Internal", format!("the engine thread failed: {e}"))
        })?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An input overwritten between passes (here: when the writing pass opens it) fails the run
    /// as `Cleanse.ObjectChanged` instead of mixing two versions.
    #[tokio::test(flavor = "multi_thread")]
    async fn an_input_overwritten_between_passes_is_object_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        let url = ObjectUrl::parse(&path.to_string_lossy()).unwrap();
        // (a mode imputation takes a statistics pass, then a writing pass)
        let cfg = Config::from_json(
            r#"{"rules": [{"rule": "null_markers"},
                {"rule": "impute", "columns": ["x"], "strategy": "mode"}]}"#,
        )
        .unwrap();
        let store = ObjectStore::local().blocking().unwrap();
        let run = move |overwrite: bool| {
            std::fs::write(&path, "x,label\n1,a\n,b\n1,a\n").unwrap();
            let mut src = ObjectSource::new(&store, &url).unwrap();
            let mut opened = 0;
            let source = || {
                opened += 1;
                if opened == 2 && overwrite {
                    std::fs::write(&path, "x,label\n2,a\n,b\n").unwrap();
                }
                crate::Source::open(&mut src)
            };
            let (mut out, mut rej) = (Vec::new(), Vec::new());
            crate::run_passes(&cfg, source, &mut out, &mut rej).map(|_| out)
        };
        let (kept, changed) = tokio::task::spawn_blocking(move || (run(false), run(true)))
            .await
            .unwrap();
        assert_eq!(kept.unwrap(), b"x,label\n1,a\n1,b\n1,a\n");
        let e = run_error(&changed.unwrap_err());
        assert_eq!(e.name(), "Cleanse.ObjectChanged", "{e}");
        assert!(
            e.message()
                .contains("in.csv changed since it was first read"),
            "{e}"
        );
    }
}
