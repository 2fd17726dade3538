//! Stepwright Lambda: **validate** — checks a CSV or JSON Lines data set against an expectation
//! suite and profiles it, in one streaming pass with bounded memory.
//!
//! Returns `passed`, every check with its observed and expected values (the failed ones also in
//! `failed`), and a profile per column (type, null fraction, min/max/mean/std, quantiles, histogram,
//! distinct count, top values) that a later run can use as its drift baseline (PSI for numeric and
//! categorical columns). With `on_failure: "fail"` a failed suite is an error named
//! `Validate.SchemaMismatch` (a `columns`/`type` check failed) or `Validate.Failed`, so a Step
//! Functions `Catch` can route it.
//!
//! ```
//! let suite = validate::Suite::from_json(r#"{
//!   "expectations": [
//!     {"expect": "columns", "columns": ["id", "price"]},
//!     {"expect": "unique", "columns": ["id"]},
//!     {"expect": "between", "column": "price", "min": 0},
//!     {"expect": "row_count", "min": 3}
//!   ]
//! }"#).unwrap();
//! let out = validate::run(&suite, "id,price\n1,9.5\n2,-1\n2,3\n".as_bytes()).unwrap();
//! assert!(!out.passed);
//! let failed: Vec<&str> = out.failed.iter().map(|c| c["expect"].as_str().unwrap()).collect();
//! assert_eq!(failed, ["unique", "between"]);
//! assert_eq!(out.profile["columns"]["price"]["type"], "float");
//! ```

#![warn(missing_docs)]

#[cfg(feature = "lambda")]
pub mod handler;
pub mod merge;
pub mod profile;
#[cfg(feature = "lambda")]
pub mod scale;
pub mod suite;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::{self, Read};

use cleanse::conf::ConfError;
use cleanse::input::{Batch, FieldKind, Next, Record, RecordReader};
use cleanse::stats::{FingerprintSet, FxBuild};
use cleanse::types::{parse_bool, parse_float, parse_int, Timestamp, ValueType};
use serde::Serialize;
use serde_json::{json, Map, Value};

pub use profile::ColumnStats;
pub use suite::{Check, OnFailure, Suite};

/// Unexpected values kept per check as examples.
pub const SAMPLES: usize = 5;

/// A validate failure. [`ValidateError::name`] is the error name Step Functions sees.
#[derive(Debug)]
pub enum ValidateError {
    /// The suite is wrong (`Validate.InvalidConfig`), with the JSON pointer of the field.
    InvalidConfig(ConfError),
    /// The input cannot be read at all (`Validate.InvalidInput`).
    InvalidInput(String),
    /// `on_failure: "fail"` and a schema check failed (`Validate.SchemaMismatch`).
    SchemaMismatch(Box<Outcome>),
    /// `on_failure: "fail"` and a check failed (`Validate.Failed`).
    Failed(Box<Outcome>),
    /// Reading failed (`Validate.IOError`).
    Io(io::Error),
}

impl ValidateError {
    /// The Step Functions error name, stable.
    pub fn name(&self) -> &'static str {
        match self {
            ValidateError::InvalidConfig(_) => "Validate.InvalidConfig",
            ValidateError::InvalidInput(_) => "Validate.InvalidInput",
            ValidateError::SchemaMismatch(_) => "Validate.SchemaMismatch",
            ValidateError::Failed(_) => "Validate.Failed",
            ValidateError::Io(_) => "Validate.IOError",
        }
    }
}

fn summary(o: &Outcome) -> String {
    let names: Vec<String> = o
        .failed
        .iter()
        .map(|c| {
            let what = c
                .get("column")
                .or_else(|| c.get("columns"))
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            format!(
                "{}{what} ({})",
                c["expect"].as_str().unwrap_or("?"),
                c["pointer"].as_str().unwrap_or("")
            )
        })
        .collect();
    format!(
        "{} of {} checks failed: {}",
        o.failed.len(),
        o.checks.len(),
        names.join(", ")
    )
}

impl fmt::Display for ValidateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidateError::InvalidConfig(e) => write!(f, "invalid suite: {e}"),
            ValidateError::InvalidInput(m) => write!(f, "invalid input: {m}"),
            ValidateError::SchemaMismatch(o) => write!(f, "schema mismatch: {}", summary(o)),
            ValidateError::Failed(o) => write!(f, "validation failed: {}", summary(o)),
            ValidateError::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl std::error::Error for ValidateError {}

impl From<io::Error> for ValidateError {
    fn from(e: io::Error) -> Self {
        ValidateError::Io(e)
    }
}

impl From<ConfError> for ValidateError {
    fn from(e: ConfError) -> Self {
        ValidateError::InvalidConfig(e)
    }
}

/// The result of a validation.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Every check passed.
    pub passed: bool,
    /// Well-formed rows.
    pub rows: u64,
    /// Malformed records by kind (not profiled, not checked).
    pub malformed: BTreeMap<&'static str, u64>,
    /// The failed checks (as in `checks`).
    pub failed: Vec<Value>,
    /// Every check: `expect`, `pointer`, `passed`, `observed`, `expected`, and for row-level
    /// checks `unexpected_count`, `unexpected_fraction` and a few `samples` (line, value).
    pub checks: Vec<Value>,
    /// The profile: `rows`, and per column its statistics (usable as a later `baseline`).
    pub profile: Value,
}

#[derive(Debug)]
enum RowKind {
    Type(ValueType),
    NotNull,
    Between(Option<f64>, Option<f64>),
    InSet(HashSet<Vec<u8>, FxBuild>),
    Regex(regex::bytes::Regex),
}

#[derive(Debug)]
struct RowCheck {
    spec: usize,
    kind: RowKind,
    mostly: f64,
    unexpected: u64,
    evaluated: u64,
    samples: Vec<Value>,
}

struct UniqueCheck {
    spec: usize,
    slots: Vec<usize>,
    set: FingerprintSet,
    duplicates: u64,
    samples: Vec<Value>,
}

/// Field `i` of `rec`, and whether it is null (a JSON null, or one of the null markers).
#[inline]
fn field<'r>(rec: &'r Record, i: usize, markers: &[&[u8]]) -> (&'r [u8], bool) {
    let (s, e, kind) = rec.spans[i];
    let v = &rec.buf[s as usize..e as usize];
    let null = kind == FieldKind::Null || markers.iter().any(|m| m.len() == v.len() && *m == v);
    (v, null)
}

/// One column's statistics and row checks, as the pass updates them.
struct ColumnWork<'a> {
    i: usize,
    col: &'a mut ColumnStats,
    checks: &'a mut Vec<RowCheck>,
}

impl ColumnWork<'_> {
    /// The column's value in `rec`.
    #[inline]
    fn record(&mut self, rec: &Record, markers: &[&[u8]]) {
        let (v, null) = field(rec, self.i, markers);
        if null {
            self.col.push_null();
            for c in self.checks.iter_mut() {
                if matches!(c.kind, RowKind::NotNull) {
                    c.evaluated += 1;
                    c.unexpected += 1;
                    sample(&mut c.samples, rec.line, b"");
                }
            }
            return;
        }
        let x = self.col.push(v);
        for c in self.checks.iter_mut() {
            c.evaluated += 1;
            let ok = match &c.kind {
                RowKind::NotNull => true,
                RowKind::Type(t) => type_ok(*t, v),
                RowKind::Between(min, max) => x
                    .or_else(|| parse_float(v))
                    .is_some_and(|x| within(x, *min, *max)),
                RowKind::InSet(set) => set.contains(v),
                RowKind::Regex(re) => re.is_match(v),
            };
            if !ok {
                c.unexpected += 1;
                sample(&mut c.samples, rec.line, v);
            }
        }
    }
}

fn sample(samples: &mut Vec<Value>, line: u64, v: &[u8]) {
    if samples.len() < SAMPLES {
        let mut s = String::from_utf8_lossy(&v[..v.len().min(200)]).into_owned();
        if v.len() > 200 {
            s.push('…');
        }
        samples.push(json!({"line": line, "value": s}));
    }
}

fn type_ok(ty: ValueType, v: &[u8]) -> bool {
    match ty {
        ValueType::Int => parse_int(v).is_some(),
        ValueType::Float => parse_float(v).is_some(),
        ValueType::Bool => parse_bool(v).is_some(),
        ValueType::Timestamp => Timestamp::parse(v).is_some(),
        ValueType::String | ValueType::Category => true,
    }
}

fn within(x: f64, min: Option<f64>, max: Option<f64>) -> bool {
    min.is_none_or(|m| x >= m) && max.is_none_or(|m| x <= m)
}

fn bounds_json(min: Option<f64>, max: Option<f64>) -> Value {
    json!({"min": min, "max": max})
}

/// Validates and profiles `input` in one pass.
///
/// Reading and parsing run on a second thread; on two or more cores, the columns' statistics
/// and checks are shared out between one thread more than the cores, up to four (each thread
/// sees every record in input order, so the outcome does not depend on the number of cores).
pub fn run<R: Read + Send>(suite: &Suite, input: R) -> Result<Outcome, ValidateError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    run_on(suite, input, column_threads(cores))
}

/// How many threads share the columns on `cores` cores: none besides the calling thread on one
/// core, else one more than the cores (at most four). The columns' costs differ (a timestamp or
/// a text column costs more than a number), so one thread per core leaves a core idle while the
/// other finishes its columns; with a spare thread the scheduler keeps both busy (on 2 cores,
/// 1 GB profiled in 2.64-2.73 s on three threads against 2.98-3.50 s on two).
fn column_threads(cores: usize) -> usize {
    if cores <= 1 {
        1
    } else {
        (cores + 1).min(4)
    }
}

/// [`run`] with the columns shared out between at most `threads` threads (at least one, at most
/// four).
fn run_on<R: Read + Send>(
    suite: &Suite,
    input: R,
    threads: usize,
) -> Result<Outcome, ValidateError> {
    let from_input = |e: cleanse::input::InputError| match e {
        cleanse::input::InputError::Io(e) => ValidateError::Io(e),
        other => ValidateError::InvalidInput(other.to_string()),
    };
    let mut rdr = RecordReader::new(&suite.input, input).map_err(from_input)?;
    rdr.prime().map_err(from_input)?;
    let names: Vec<String> = rdr.columns().to_vec();
    if names.is_empty() {
        return Err(ValidateError::InvalidInput(
            "no columns: the JSON Lines input has no line that is a JSON object".into(),
        ));
    }
    let index = |c: &str| names.iter().position(|n| n == c);
    let mut cols: Vec<ColumnStats> = names
        .iter()
        .map(|n| ColumnStats::new(n, suite.types.iter().find(|(c, _)| c == n).map(|(_, t)| *t)))
        .collect();

    // drift: count numeric columns into the baseline's bins during the pass
    let baseline_cols = suite
        .baseline
        .as_ref()
        .and_then(|b| b.get("columns"))
        .and_then(Value::as_object);
    if let Some(bc) = baseline_cols {
        for c in cols.iter_mut() {
            let edges: Option<Vec<f64>> = bc
                .get(&c.name)
                .and_then(|b| b.get("histogram"))
                .and_then(|h| h.get("edges"))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_f64).collect());
            if let Some(edges) = edges.filter(|e| e.len() >= 2) {
                c.drift_counts = vec![0; edges.len() - 1];
                c.drift_edges = Some(edges);
            }
        }
    }

    // row-level checks by column
    let mut row_checks: Vec<Vec<RowCheck>> = (0..names.len()).map(|_| Vec::new()).collect();
    let mut uniques: Vec<UniqueCheck> = Vec::new();
    let mut missing: Vec<(usize, Vec<String>)> = Vec::new();
    for (si, spec) in suite.expectations.iter().enumerate() {
        let (col, kind, mostly) = match &spec.check {
            Check::Type { column, ty, mostly } => (column, RowKind::Type(*ty), *mostly),
            Check::NotNull { column, mostly } => (column, RowKind::NotNull, *mostly),
            Check::Between {
                column,
                min,
                max,
                mostly,
            } => (column, RowKind::Between(*min, *max), *mostly),
            Check::InSet {
                column,
                values,
                mostly,
            } => (
                column,
                RowKind::InSet(values.iter().map(|v| v.clone().into_bytes()).collect()),
                *mostly,
            ),
            Check::Regex {
                column,
                regex,
                mostly,
            } => (column, RowKind::Regex(regex.clone()), *mostly),
            Check::Unique { columns } => {
                let slots: Vec<Option<usize>> = columns.iter().map(|c| index(c)).collect();
                if slots.iter().any(Option::is_none) {
                    let gone = columns
                        .iter()
                        .filter(|c| index(c).is_none())
                        .cloned()
                        .collect();
                    missing.push((si, gone));
                } else {
                    uniques.push(UniqueCheck {
                        spec: si,
                        slots: slots.into_iter().flatten().collect(),
                        set: FingerprintSet::default(),
                        duplicates: 0,
                        samples: Vec::new(),
                    });
                }
                continue;
            }
            Check::Stat { column, .. } => {
                if index(column).is_none() {
                    missing.push((si, vec![column.clone()]));
                }
                continue;
            }
            _ => continue,
        };
        match index(col) {
            Some(i) => row_checks[i].push(RowCheck {
                spec: si,
                kind,
                mostly,
                unexpected: 0,
                evaluated: 0,
                samples: Vec::new(),
            }),
            None => missing.push((si, vec![col.clone()])),
        }
    }

    let markers: Vec<&[u8]> = suite.null_markers.iter().map(|m| m.as_bytes()).collect();
    let mut rows = 0u64;
    let mut malformed: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut key = Vec::new();
    // The columns' statistics and checks are shared out between this thread and up to three
    // more (one per further core, every k-th column each): each thread sees all the records in
    // input order, so every column's results are the one-thread results. Row counts and the
    // multi-column `unique` checks stay on this thread.
    let threads = threads.min(names.len()).clamp(1, 4);
    let mut groups: Vec<Vec<ColumnWork<'_>>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, (col, checks)) in cols.iter_mut().zip(row_checks.iter_mut()).enumerate() {
        groups[i % threads].push(ColumnWork { i, col, checks });
    }
    let mut mine = groups.remove(0);
    let markers = &markers[..];
    std::thread::scope(|scope| -> Result<(), ValidateError> {
        use std::sync::mpsc::{channel, sync_channel};
        use std::sync::Arc;
        // (batches the other threads let go of last, for the reader to fill again)
        let (back_tx, back_rx) = channel::<Batch>();
        let mut helpers = Vec::new();
        for mut theirs in groups {
            let (tx, rx) = sync_channel::<Arc<Batch>>(4);
            let back_tx = back_tx.clone();
            let h = scope.spawn(move || {
                for batch in rx {
                    for (rec, next) in batch.iter() {
                        if *next == Next::Record {
                            for w in theirs.iter_mut() {
                                w.record(rec, markers);
                            }
                        }
                    }
                    if let Ok(b) = Arc::try_unwrap(batch) {
                        let _ = back_tx.send(b);
                    }
                }
            });
            helpers.push((tx, h));
        }
        drop(back_tx);
        let read = rdr.for_each_batch(|batch| -> Result<Option<Batch>, ValidateError> {
            let batch = Arc::new(batch);
            for (tx, _) in &helpers {
                tx.send(Arc::clone(&batch)).map_err(|_| {
                    ValidateError::Io(io::Error::other("a profiling thread stopped"))
                })?;
            }
            for (rec, next) in batch.iter() {
                match next {
                    Next::End => break,
                    Next::Malformed(m) => {
                        *malformed.entry(m.kind.as_str()).or_default() += 1;
                        continue;
                    }
                    Next::Record => {}
                }
                rows += 1;
                for w in mine.iter_mut() {
                    w.record(rec, markers);
                }
                for u in uniques.iter_mut() {
                    key.clear();
                    for &s in &u.slots {
                        let (v, null) = field(rec, s, markers);
                        if null {
                            key.push(0);
                        } else {
                            key.push(1);
                            key.extend_from_slice(&(v.len() as u32).to_le_bytes());
                            key.extend_from_slice(v);
                        }
                    }
                    if !u.set.insert_bytes(&key) {
                        u.duplicates += 1;
                        let (a, b, _) = rec.spans[u.slots[0]];
                        sample(&mut u.samples, rec.line, &rec.buf[a as usize..b as usize]);
                    }
                }
            }
            // this batch if the other threads are done with it, else one they let go of
            Ok(Arc::try_unwrap(batch)
                .ok()
                .or_else(|| back_rx.try_recv().ok()))
        });
        for (tx, h) in helpers {
            drop(tx);
            h.join()
                .map_err(|_| ValidateError::Io(io::Error::other("a profiling thread panicked")))?;
        }
        read
    })?;
    for c in cols.iter_mut() {
        c.decide();
    }

    // evaluate
    let col = |name: &str| cols.iter().find(|c| c.name == name);
    let mut results: Vec<Option<Value>> = vec![None; suite.expectations.len()];
    for (si, gone) in &missing {
        let spec = &suite.expectations[*si];
        results[*si] = Some(json!({
            "expect": spec.check.name(), "pointer": spec.pointer, "passed": false, "schema": true,
            "observed": {"missing_columns": gone}, "expected": "the columns to exist",
        }));
    }
    for checks in &row_checks {
        for c in checks {
            let spec = &suite.expectations[c.spec];
            let column = match &spec.check {
                Check::Type { column, .. }
                | Check::NotNull { column, .. }
                | Check::Between { column, .. }
                | Check::InSet { column, .. }
                | Check::Regex { column, .. } => column.clone(),
                _ => String::new(),
            };
            let frac = if c.evaluated == 0 {
                0.0
            } else {
                c.unexpected as f64 / c.evaluated as f64
            };
            let passed = 1.0 - frac >= c.mostly - 1e-12;
            let expected = match &c.kind {
                RowKind::Type(t) => json!({"type": t.name(), "mostly": c.mostly}),
                RowKind::NotNull => json!({"not_null": true, "mostly": c.mostly}),
                RowKind::Between(a, b) => json!({"min": a, "max": b, "mostly": c.mostly}),
                RowKind::InSet(_) => match &spec.check {
                    Check::InSet { values, .. } => json!({"values": values, "mostly": c.mostly}),
                    _ => Value::Null,
                },
                RowKind::Regex(re) => json!({"pattern": re.as_str(), "mostly": c.mostly}),
            };
            results[c.spec] = Some(json!({
                "expect": spec.check.name(), "pointer": spec.pointer, "column": column, "passed": passed,
                "schema": matches!(c.kind, RowKind::Type(_)),
                "observed": {"unexpected_count": c.unexpected, "unexpected_fraction": frac, "evaluated": c.evaluated},
                "expected": expected, "samples": c.samples,
            }));
        }
    }
    for u in &uniques {
        let spec = &suite.expectations[u.spec];
        let Check::Unique { columns } = &spec.check else {
            continue;
        };
        results[u.spec] = Some(json!({
            "expect": "unique", "pointer": spec.pointer, "columns": columns, "passed": u.duplicates == 0,
            "observed": {"duplicates": u.duplicates, "distinct": u.set.len()}, "expected": {"duplicates": 0},
            "samples": u.samples,
        }));
    }
    let mut drift_report = Map::new();
    for (si, spec) in suite.expectations.iter().enumerate() {
        if results[si].is_some() {
            continue;
        }
        let r = match &spec.check {
            Check::Columns {
                columns,
                exact,
                ordered,
            } => {
                let missing: Vec<&String> = columns.iter().filter(|c| !names.contains(c)).collect();
                let extra: Vec<&String> = names.iter().filter(|c| !columns.contains(c)).collect();
                let order_ok = !*ordered || {
                    let present: Vec<&String> =
                        names.iter().filter(|n| columns.contains(n)).collect();
                    present
                        .iter()
                        .zip(columns.iter().filter(|c| names.contains(c)))
                        .all(|(a, b)| *a == b)
                };
                let passed = missing.is_empty() && (!*exact || extra.is_empty()) && order_ok;
                json!({"expect": "columns", "pointer": spec.pointer, "passed": passed, "schema": true,
                       "observed": {"columns": names, "missing": missing, "extra": extra, "order_ok": order_ok},
                       "expected": {"columns": columns, "exact": exact, "ordered": ordered}})
            }
            Check::RowCount { min, max } => {
                let passed = min.is_none_or(|m| rows >= m) && max.is_none_or(|m| rows <= m);
                json!({"expect": "row_count", "pointer": spec.pointer, "passed": passed,
                       "observed": {"rows": rows}, "expected": {"min": min, "max": max}})
            }
            Check::Stat {
                column,
                stat,
                min,
                max,
            } => {
                let c = col(column);
                let value: Option<f64> = c.and_then(|c| match stat {
                    suite::Stat::Mean => c.mean(),
                    suite::Stat::Std => c.std(),
                    suite::Stat::Min => c.min(),
                    suite::Stat::Max => c.max(),
                    suite::Stat::Median => c.quantile(0.5),
                    suite::Stat::Quantile(q) => c.quantile(*q),
                    suite::Stat::NullFraction => Some(c.null_fraction()),
                    suite::Stat::Distinct => c.distinct().map(|d| d.0 as f64),
                });
                let passed = value.is_some_and(|v| within(v, *min, *max));
                let stat_name = match stat {
                    suite::Stat::Mean => "mean".to_string(),
                    suite::Stat::Std => "std".into(),
                    suite::Stat::Min => "min".into(),
                    suite::Stat::Max => "max".into(),
                    suite::Stat::Median => "median".into(),
                    suite::Stat::Quantile(q) => format!("quantile {q}"),
                    suite::Stat::NullFraction => "null_fraction".into(),
                    suite::Stat::Distinct => "distinct".into(),
                };
                json!({"expect": "stat", "pointer": spec.pointer, "column": column, "passed": passed,
                       "observed": {"stat": stat_name, "value": value}, "expected": bounds_json(*min, *max)})
            }
            Check::Drift { columns, max_psi } => {
                let bc = baseline_cols.cloned().unwrap_or_default();
                let targets: Vec<String> = if columns.is_empty() {
                    bc.keys().filter(|k| names.contains(k)).cloned().collect()
                } else {
                    columns.clone()
                };
                let mut per = Map::new();
                let mut passed = true;
                for name in &targets {
                    let (Some(c), Some(b)) = (col(name), bc.get(name)) else {
                        per.insert(name.clone(), json!({"psi": null, "note": "column missing from the data or the baseline"}));
                        passed = false;
                        continue;
                    };
                    let psi_value = if let (Some(edges), Some(counts)) = (
                        &c.drift_edges,
                        b.get("histogram")
                            .and_then(|h| h.get("counts"))
                            .and_then(Value::as_array),
                    ) {
                        let base: Vec<f64> = counts.iter().filter_map(Value::as_f64).collect();
                        let bt: f64 = base.iter().sum::<f64>().max(1.0);
                        let now_total = c.drift_counts.iter().sum::<u64>().max(1) as f64;
                        let e: Vec<f64> = base.iter().map(|x| x / bt).collect();
                        let a: Vec<f64> = c
                            .drift_counts
                            .iter()
                            .map(|&x| x as f64 / now_total)
                            .collect();
                        let _ = edges;
                        (e.len() == a.len()).then(|| ("numeric", profile::psi(&e, &a)))
                    } else if let Some(top) = b.get("top").and_then(Value::as_array) {
                        let cats: Vec<String> = top
                            .iter()
                            .filter_map(|t| {
                                t.get("value").and_then(Value::as_str).map(String::from)
                            })
                            .collect();
                        let total = b
                            .get("count")
                            .and_then(Value::as_f64)
                            .unwrap_or(0.0)
                            .max(1.0);
                        let mut e: Vec<f64> = top
                            .iter()
                            .map(|t| t.get("count").and_then(Value::as_f64).unwrap_or(0.0) / total)
                            .collect();
                        e.push((1.0 - e.iter().sum::<f64>()).max(0.0));
                        c.category_shares(&cats)
                            .map(|a| ("categorical", profile::psi(&e, &a)))
                    } else {
                        None
                    };
                    match psi_value {
                        Some((method, p)) => {
                            let ok = p <= *max_psi;
                            passed &= ok;
                            per.insert(
                                name.clone(),
                                json!({"psi": p, "method": method, "passed": ok}),
                            );
                        }
                        None => {
                            passed = false;
                            per.insert(name.clone(), json!({"psi": null, "note": "types differ between the data and the baseline"}));
                        }
                    }
                }
                for (k, v) in &per {
                    drift_report.insert(k.clone(), v.clone());
                }
                json!({"expect": "drift", "pointer": spec.pointer, "passed": passed,
                       "observed": {"psi": per}, "expected": {"max_psi": max_psi}})
            }
            _ => continue,
        };
        results[si] = Some(r);
    }
    let checks: Vec<Value> = results.into_iter().flatten().collect();
    let failed: Vec<Value> = checks
        .iter()
        .filter(|c| c["passed"] == false)
        .cloned()
        .collect();
    let mut pcols = Map::new();
    for c in &cols {
        pcols.insert(c.name.clone(), c.to_json(&suite.profile));
    }
    let mut profile = json!({"rows": rows, "columns": pcols});
    if !drift_report.is_empty() {
        profile["drift"] = Value::Object(drift_report);
    }
    let outcome = Outcome {
        passed: failed.is_empty(),
        rows,
        malformed,
        failed,
        checks,
        profile,
    };
    if !outcome.passed && suite.on_failure == OnFailure::Fail {
        let schema = outcome
            .failed
            .iter()
            .any(|c| c.get("schema") == Some(&Value::Bool(true)));
        return Err(if schema {
            ValidateError::SchemaMismatch(Box::new(outcome))
        } else {
            ValidateError::Failed(Box::new(outcome))
        });
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_core_adds_no_column_thread_and_more_cores_one_spare() {
        let got: Vec<usize> = (0..=6).map(column_threads).collect();
        assert_eq!(got, [1, 1, 3, 4, 4, 4, 4]);
    }

    /// Rows past type inference and over several batches, with nulls, invalid values, duplicates,
    /// malformed records and every row-level check: the outcome on 2, 3 and 4 threads is the
    /// one-thread outcome, samples and all.
    #[test]
    fn the_outcome_does_not_depend_on_the_threads() {
        let mut data = String::from("id,cat,x,ts,flag,note\n");
        for i in 0..6000u64 {
            let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
            let id = if h % 17 == 0 { i / 2 } else { i };
            let cat = ["a", "b", "C", "", "NA", "d"][(h % 6) as usize];
            let x = match h % 13 {
                0 => String::new(),
                1 => "oops".to_string(),
                _ => format!("{}.{}", (h % 2000) as i64 - 1000, h % 97),
            };
            let ts = if h % 29 == 0 {
                "bad".to_string()
            } else {
                format!(
                    "2024-{:02}-{:02}T00:00:{:02}",
                    1 + h % 12,
                    1 + h % 28,
                    h % 60
                )
            };
            let flag = ["true", "false", "1", "maybe"][(h % 4) as usize];
            if h % 251 == 0 {
                data.push_str("short,row\n");
                continue;
            }
            data.push_str(&format!("{id},{cat},{x},{ts},{flag},n{}\n", h % 7));
        }
        let suite = Suite::from_value(&json!({"expectations": [
            {"expect": "not_null", "column": "cat"},
            {"expect": "not_null", "column": "x", "mostly": 0.9},
            {"expect": "type", "column": "x", "type": "float"},
            {"expect": "type", "column": "ts", "type": "timestamp"},
            {"expect": "type", "column": "flag", "type": "bool"},
            {"expect": "between", "column": "x", "min": -500, "max": 500},
            {"expect": "in_set", "column": "cat", "values": ["a", "b", "d"]},
            {"expect": "regex", "column": "note", "pattern": "^n[0-5]$"},
            {"expect": "unique", "columns": ["id"]},
            {"expect": "unique", "columns": ["cat", "note"]},
            {"expect": "stat", "column": "x", "stat": "mean", "min": -10, "max": 10},
            {"expect": "row_count", "min": 1000}
        ]}))
        .unwrap_or_else(|e| panic!("{e}"));
        let view = |o: &Outcome| {
            json!({"passed": o.passed, "rows": o.rows, "malformed": o.malformed,
                   "failed": o.failed, "checks": o.checks, "profile": o.profile})
        };
        let one = run_on(&suite, data.as_bytes(), 1).unwrap_or_else(|e| panic!("{e}"));
        assert!(one.rows > 5000 && !one.malformed.is_empty() && !one.passed);
        assert!(one
            .checks
            .iter()
            .any(|c| c["samples"].as_array().is_some_and(|s| !s.is_empty())));
        for threads in [2, 3, 4] {
            let many = run_on(&suite, data.as_bytes(), threads).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(view(&many), view(&one), "{threads} threads");
        }
    }
}
