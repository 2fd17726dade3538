//! Stepwright Lambda: **cleanse** — streams a CSV or JSON Lines object through declared rules and
//! writes the cleaned object, a rejects object and a small report.
//!
//! The engine is pure, synchronous library code over [`std::io::Read`] / [`std::io::Write`]:
//! constant memory whatever the input size (except `dedupe`, whose cost per distinct row is stated
//! in [`stats::FingerprintSet`]), no allocation per field, every malformed or dropped row counted
//! and written to the rejects object with its line number and reason.
//!
//! - [`run`] makes one pass; it serves every configuration without mean/median/mode imputation.
//! - [`run_passes`] reopens the input for each statistics pass (one per imputation stage), then
//!   makes the writing pass. Statistics are computed over the rows that reach the `impute` rule
//!   (after the rules before it: rows they drop do not count). One mean or median imputation
//!   (followed by clipping `range` rules and a final `dedupe`, if any) takes a single pass: rows
//!   with a value to impute are written with holes and completed at the end, through spools that
//!   keep a bounded amount in memory and the rest in an unlinked temporary file (at most
//!   256 MiB: the input after that point takes two passes); the output is the two-pass output
//!   byte for byte.
//! - `handler` (feature `lambda`, on by default): the Lambda handler over lambda-kit's object IO;
//!   `src/main.rs` only wires it to `lambda_runtime`. Without the feature the crate is the pure
//!   engine (serde, ryu, itoa, xxhash).
//!
//! ```
//! let cfg = cleanse::Config::from_json(r#"{
//!   "rules": [
//!     {"rule": "trim"},
//!     {"rule": "null_markers", "values": ["", "NA"]},
//!     {"rule": "required", "columns": ["label"]},
//!     {"rule": "coerce", "columns": {"x": "float", "label": "int"}},
//!     {"rule": "impute", "columns": ["x"], "strategy": "mean"},
//!     {"rule": "select", "columns": ["label", "x"]}
//!   ],
//!   "output": {"format": "sagemaker", "label": "label"}
//! }"#).unwrap();
//! let data = "x,label\n 1.5 ,1\nNA,0\n2.5,\noops,1\n";
//! let (mut out, mut rejects) = (Vec::new(), Vec::new());
//! let report = cleanse::run_passes(&cfg, || Ok(data.as_bytes()), &mut out, &mut rejects).unwrap();
//! assert_eq!(String::from_utf8(out).unwrap(), "1,1.5\n0,1.5\n");
//! assert_eq!((report.rows_in, report.rows_out, report.rows_rejected), (4, 2, 2));
//! assert_eq!(String::from_utf8(rejects).unwrap().lines().count(), 2);
//! ```

#![warn(missing_docs)]

pub mod conf;
pub mod config;
mod engine;
#[cfg(feature = "lambda")]
pub mod handler;
pub mod input;
pub mod output;
mod spool;
pub mod stats;
#[doc(hidden)]
pub mod trace;
pub mod types;

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};

pub use config::{Config, OutputFormat, Rule};
pub use engine::Plan;
use serde::Serialize;

/// A cleanse failure. [`CleanseError::name`] is the error name Step Functions sees.
#[derive(Debug)]
pub enum CleanseError {
    /// The configuration is wrong (`Cleanse.InvalidConfig`), with the JSON pointer of the field.
    InvalidConfig(conf::ConfError),
    /// The input cannot be read as the configured format at all (`Cleanse.InvalidInput`): empty,
    /// unusable header, no JSON object. (Single bad records are rejects, not errors.)
    InvalidInput(String),
    /// Fewer rows survived than `min_rows_out` (`Cleanse.NoRows`); the report says why.
    NoRows(Box<Report>),
    /// Reading the input or writing an output failed (`Cleanse.IOError`).
    Io(io::Error),
    /// A bug (`Cleanse.Internal`).
    Internal(String),
}

impl CleanseError {
    /// The Step Functions error name (`Cleanse.InvalidConfig`, ...), stable.
    pub fn name(&self) -> &'static str {
        match self {
            CleanseError::InvalidConfig(_) => "Cleanse.InvalidConfig",
            CleanseError::InvalidInput(_) => "Cleanse.InvalidInput",
            CleanseError::NoRows(_) => "Cleanse.NoRows",
            CleanseError::Io(_) => "Cleanse.IOError",
            CleanseError::Internal(_) => "Cleanse.Internal",
        }
    }

    pub(crate) fn from_input(e: input::InputError) -> Self {
        match e {
            input::InputError::Io(e) => CleanseError::Io(e),
            other => CleanseError::InvalidInput(other.to_string()),
        }
    }
}

impl fmt::Display for CleanseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CleanseError::InvalidConfig(e) => write!(f, "invalid configuration: {e}"),
            CleanseError::InvalidInput(m) => write!(f, "invalid input: {m}"),
            CleanseError::NoRows(r) => write!(
                f,
                "{} rows out of {} survived cleansing ({} rejected), fewer than required",
                r.rows_out, r.rows_in, r.rows_rejected
            ),
            CleanseError::Io(e) => write!(f, "I/O error: {e}"),
            CleanseError::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for CleanseError {}

impl From<io::Error> for CleanseError {
    fn from(e: io::Error) -> Self {
        CleanseError::Io(e)
    }
}

impl From<conf::ConfError> for CleanseError {
    fn from(e: conf::ConfError) -> Self {
        CleanseError::InvalidConfig(e)
    }
}

/// Counts for one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleReport {
    /// The rule's name.
    pub rule: String,
    /// Its JSON pointer in the configuration.
    pub pointer: String,
    /// Values it changed (trimmed, nulled, clipped, imputed, encoded, ...).
    pub changed: u64,
    /// Rows it dropped (sent to the rejects object).
    pub dropped: u64,
}

/// One output column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnSchema {
    /// Name.
    pub name: String,
    /// Type (`string` for untyped text).
    pub r#type: String,
}

/// A value that imputation filled in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Imputed {
    /// The column.
    pub column: String,
    /// `constant`, `mean`, `median` or `mode`.
    pub strategy: String,
    /// The value used (null when the column had no values to compute it from).
    pub value: serde_json::Value,
}

/// What a cleanse run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Data records read (malformed ones included; the header is not a row).
    pub rows_in: u64,
    /// Rows written to the output.
    pub rows_out: u64,
    /// Rows written to the rejects object (malformed + dropped by rules).
    pub rows_rejected: u64,
    /// Malformed records by kind (`wrong_column_count`, `invalid_utf8`, `field_too_large`,
    /// `record_too_large`, `invalid_json`).
    pub malformed: BTreeMap<&'static str, u64>,
    /// Short CSV records kept and padded with nulls (`ragged: pad_truncate`).
    pub ragged_padded: u64,
    /// Long CSV records kept with their extra fields cut (`ragged: pad_truncate`).
    pub ragged_truncated: u64,
    /// Counts per rule, in configuration order.
    pub rules: Vec<RuleReport>,
    /// The values imputation used.
    pub imputed: Vec<Imputed>,
    /// The output columns.
    pub columns: Vec<ColumnSchema>,
    /// Passes over the input.
    pub passes: u32,
    /// Bytes read in the writing pass.
    pub bytes_in: u64,
    /// Bytes written to the output.
    pub bytes_out: u64,
    /// Bytes written to the rejects object.
    pub rejects_bytes: u64,
    /// Memory held by dedupe fingerprints at the end.
    pub dedupe_memory_bytes: u64,
}

/// Cleanses in one pass. Fails with `Cleanse.InvalidConfig` when the rules need statistics
/// (mean/median/mode imputation): use [`run_passes`] for those.
///
/// On error, whatever was written to `output`/`rejects` must be discarded (the Lambda handler
/// writes both atomically, so they are either complete or absent).
pub fn run<R: Read + Send, W: Write, J: Write>(
    cfg: &Config,
    input: R,
    output: W,
    rejects: J,
) -> Result<Report, CleanseError> {
    let mut rdr = engine::open(cfg, input)?;
    let mut plan = Plan::compile(cfg, rdr.columns())?;
    if plan.passes() > 1 {
        return Err(CleanseError::InvalidConfig(conf::ConfError::new(
            "/rules",
            "mean/median/mode imputation needs a statistics pass: call run_passes",
        )));
    }
    engine::write_pass(&mut plan, &mut rdr, output, rejects)
}

/// Where [`run_passes`] reads its input: opened once per pass, the same bytes each time.
///
/// Any `FnMut() -> io::Result<R>` is a source (`|| File::open(path)`, `|| Ok(data.as_bytes())`).
/// A source that can also open the input at a byte offset (a file seeks, an S3 object is read
/// from a range) implements [`Source::open_at`], as [`input::LocalFile`] does: a pass that
/// resumes where an earlier one stopped (the rest of the input past the spool limit of a
/// single-pass imputation) then does not read the bytes before it again.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("in.csv");
/// std::fs::write(&path, "x\n1\nNA\n3\n")?;
/// let cfg = cleanse::Config::from_json(r#"{"rules": [
///   {"rule": "null_markers", "values": ["NA"]},
///   {"rule": "coerce", "columns": {"x": "float"}},
///   {"rule": "impute", "columns": ["x"], "strategy": "mean"}
/// ]}"#).unwrap();
/// let (mut out, mut rejects) = (Vec::new(), Vec::new());
/// let src = cleanse::input::LocalFile::new(&path);
/// cleanse::run_passes(&cfg, src, &mut out, &mut rejects).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "x\n1\n2.0\n3\n");
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait Source {
    /// What the input is read through.
    type Reader: Read + Send;

    /// Opens the input at its start.
    fn open(&mut self) -> io::Result<Self::Reader>;

    /// Opens the input at byte `offset`, when the source can (by default it cannot: the input is
    /// opened at its start and the bytes before `offset` are read and dropped).
    fn open_at(&mut self, offset: u64) -> Option<io::Result<Self::Reader>> {
        let _ = offset;
        None
    }
}

impl<R: Read + Send, F: FnMut() -> io::Result<R>> Source for F {
    type Reader = R;

    fn open(&mut self) -> io::Result<R> {
        self()
    }
}

/// Cleanses with as many passes as the rules need: `input` is opened once per pass and must
/// give the same bytes each time (see [`Source`]).
pub fn run_passes<S, W, J>(
    cfg: &Config,
    mut input: S,
    mut output: W,
    mut rejects: J,
) -> Result<Report, CleanseError>
where
    S: Source,
    W: Write,
    J: Write,
{
    let mut rdr = engine::open(cfg, input.open().map_err(CleanseError::Io)?)?;
    let columns = rdr.columns().to_vec();
    let mut plan = Plan::compile(cfg, &columns)?;
    trace::mark("opened, plan compiled");
    // the input again: from its start, or from a record (byte offset and line) an earlier pass
    // reached
    let mut reopen = |at: Option<(u64, u64)>| {
        if let Some((start, line)) = at {
            if let Some(r) = input.open_at(start) {
                let r = r.map_err(CleanseError::Io)?;
                return engine::resume(cfg, r, &columns, start, line);
            }
        }
        let mut rdr = engine::open(cfg, input.open().map_err(CleanseError::Io)?)?;
        if rdr.columns() != columns.as_slice() {
            return Err(CleanseError::InvalidInput(
                "the input changed between passes (different columns)".into(),
            ));
        }
        if let Some((start, line)) = at {
            rdr.skip_to(start, line).map_err(CleanseError::Io)?;
        }
        Ok(rdr)
    };
    if plan.one_pass_ok() {
        match engine::one_pass(&mut plan, &mut rdr, &mut reopen, &mut output, &mut rejects)? {
            engine::OnePass::Done(report) => {
                trace::mark("one pass returned (spools and sets dropped)");
                return Ok(report);
            }
            engine::OnePass::TwoPasses => {
                // nothing written; the statistics are set: the writing pass
                let mut rdr = reopen(None)?;
                return engine::write_pass(&mut plan, &mut rdr, output, rejects);
            }
        }
    }
    for k in 0..plan.passes() - 1 {
        if k > 0 {
            rdr = reopen(None)?;
        }
        engine::stats_pass(&mut plan, k, &mut rdr)?;
        rdr = reopen(None)?;
    }
    engine::write_pass(&mut plan, &mut rdr, output, rejects)
}
