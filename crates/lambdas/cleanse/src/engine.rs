//! The compiled rule plan and the streaming passes.
//!
//! [`Plan::compile`] resolves every rule's columns against the input's columns (tracking renames,
//! selections and each column's type as the rules change them) and turns the rules into ops over
//! column slots. A row is a vector of [`Cell`]s whose text lives in the record's buffer: rules move
//! offsets, and only rewrite bytes when they must (case changes, imputed text).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};

use serde_json::Value;

use crate::conf::ConfError;
use crate::config::{Columns, Config, OnFail, OutputFormat, Rule, Strategy};
use crate::input::{
    Chunk, ChunkParser, ChunkPos, FieldKind, Malformed, MalformedKind, Next, Record, RecordReader,
};
use crate::output::{needs_quotes, write_csv_field, write_json_string, Sink, FLUSH_AT};
use crate::stats::{FingerprintSet, FxBuild, HeavyHitters, MeanSum, QuantileSketch};
use crate::types::{parse_bool, parse_float_at, parse_int, Timestamp, ValueType};
use crate::{CleanseError, ColumnSchema, Imputed, Report, RuleReport};

/// Median imputation keeps this many values exactly before switching to the sketch.
pub const MEDIAN_EXACT_CAP: usize = 100_000;
/// Mode imputation tracks this many distinct values exactly.
pub const MODE_CAPACITY: usize = 65_536;
/// Rejects show at most this many bytes of a record.
pub const REJECT_RECORD_LIMIT: usize = 4096;

/// One value of a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// Null.
    Null,
    /// Text: a byte range of the record buffer.
    Text(u32, u32),
    /// A JSON number literal not yet coerced (a byte range).
    Num(u32, u32),
    /// A JSON object/array (raw text, a byte range).
    Json(u32, u32),
    /// Integer.
    Int(i64),
    /// Float, and the byte range of the text it was parsed from (empty when computed by a rule):
    /// CSV output writes that text back unchanged rather than reformatting the number.
    Float(f64, u32, u32),
    /// Boolean.
    Bool(bool),
    /// Timestamp.
    Ts(Timestamp),
}

/// A column's type while compiling: `None` = raw input (text, or JSON values), not yet coerced.
type Ty = Option<ValueType>;

fn is_text(t: Ty) -> bool {
    matches!(
        t,
        None | Some(ValueType::String) | Some(ValueType::Category)
    )
}

fn ty_name(t: Ty) -> &'static str {
    t.map_or("untyped text", |t| t.name())
}

#[derive(Debug, Clone)]
enum Fill {
    None,
    Cell(Cell),
    Text(Vec<u8>),
}

#[derive(Debug)]
enum Collector {
    Mean(MeanSum),
    Median(QuantileSketch),
    Mode(HeavyHitters),
}

#[derive(Debug)]
enum Op {
    Trim(Vec<usize>),
    Case {
        slots: Vec<usize>,
        upper: bool,
    },
    NullMarkers {
        slots: Vec<usize>,
        markers: Vec<Vec<u8>>,
        ci: bool,
        /// Bit `n` set when a marker has `n` bytes (bit 63: 63 bytes or more): a field whose
        /// length has no bit set is no marker, without comparing.
        lens: u64,
    },
    Required(Vec<usize>),
    Coerce {
        slots: Vec<(usize, ValueType)>,
        drop: bool,
    },
    Range {
        slots: Vec<usize>,
        min: Option<f64>,
        max: Option<f64>,
        min_ts: Option<Timestamp>,
        max_ts: Option<Timestamp>,
        action: OnFail,
    },
    Allowed {
        slots: Vec<usize>,
        set: HashSet<Vec<u8>, FxBuild>,
        ci: bool,
        drop: bool,
    },
    Dedupe {
        slots: Vec<usize>,
    },
    Impute {
        slots: Vec<usize>,
        strategy: Strategy,
        fills: Vec<Fill>,
    },
    Encode {
        slots: Vec<usize>,
        map: HashMap<Vec<u8>, i64, FxBuild>,
        drop: bool,
    },
}

/// Why a row was dropped: the op and the slot (the message is built only for rejects).
#[derive(Debug, Clone, Copy)]
struct Dropped {
    op: usize,
    slot: usize,
}

/// The rules compiled against the input's columns.
#[derive(Debug)]
pub struct Plan {
    input_names: Vec<String>,
    ops: Vec<Op>,
    /// Per op: index of its rule in the configuration.
    op_rule: Vec<usize>,
    rule_meta: Vec<(&'static str, String)>,
    /// Ops that need statistics (impute mean/median/mode), in order.
    stages: Vec<usize>,
    out_slots: Vec<usize>,
    out_names: Vec<String>,
    out_types: Vec<Ty>,
    out_format: OutputFormat,
    delimiter: u8,
    header: bool,
    input_delimiter: u8,
    /// Slot names per op at the time the op runs (for messages).
    slot_names: Vec<Vec<String>>,
    min_rows_out: u64,
    /// The first `dedupe` op (`ops.len()` when none): workers run the ops before it, in
    /// parallel; it and the ops after it run in input order.
    first_dedupe: usize,
}

impl Plan {
    /// Compiles `cfg`'s rules against the input columns `names`.
    pub fn compile(cfg: &Config, names: &[String]) -> Result<Plan, ConfError> {
        let n = names.len();
        let mut cur: Vec<String> = names.to_vec();
        let mut live: Vec<usize> = (0..n).collect();
        let mut types: Vec<Ty> = vec![None; n];
        let mut ops = Vec::new();
        let mut op_rule = Vec::new();
        let mut stages = Vec::new();
        let mut slot_names = Vec::new();
        let mut rule_meta = Vec::new();

        for (ri, spec) in cfg.rules.iter().enumerate() {
            rule_meta.push((spec.rule.name(), spec.pointer.clone()));
            let resolve = |cols: &Columns,
                           live: &[usize],
                           cur: &[String]|
             -> Result<Vec<usize>, ConfError> {
                match cols {
                    Columns::All => Ok(live.to_vec()),
                    Columns::Named(list) => {
                        let mut out = Vec::with_capacity(list.len());
                        for (name, ptr) in list {
                            let slot = live.iter().copied().find(|&s| cur[s] == *name).ok_or_else(|| {
                                let have: Vec<&str> = live.iter().map(|&s| cur[s].as_str()).collect();
                                ConfError::new(
                                    ptr.clone(),
                                    format!(
                                        "unknown column `{name}` (at this rule the columns are: {})",
                                        have.join(", ")
                                    ),
                                )
                            })?;
                            if out.contains(&slot) {
                                return Err(ConfError::new(
                                    ptr.clone(),
                                    format!("column `{name}` is listed twice"),
                                ));
                            }
                            out.push(slot);
                        }
                        Ok(out)
                    }
                }
            };
            let ptr_of = |cols: &Columns, i: usize| -> String {
                match cols {
                    Columns::Named(list) => list[i].1.clone(),
                    Columns::All => spec.pointer.clone(),
                }
            };
            let need_text = |slots: &[usize],
                             cols: &Columns,
                             types: &[Ty],
                             cur: &[String],
                             what: &str|
             -> Result<(), ConfError> {
                for (i, &s) in slots.iter().enumerate() {
                    if !is_text(types[s]) {
                        return Err(ConfError::new(
                            ptr_of(cols, i),
                            format!(
                                "`{what}` works on text, but column `{}` is {} at this rule: put `{what}` before the `coerce` rule",
                                cur[s],
                                ty_name(types[s])
                            ),
                        ));
                    }
                }
                Ok(())
            };
            let op = match &spec.rule {
                Rule::Trim { columns } => {
                    let slots: Vec<usize> = resolve(columns, &live, &cur)?;
                    let slots = if *columns == Columns::All {
                        slots.into_iter().filter(|&s| is_text(types[s])).collect()
                    } else {
                        need_text(&slots, columns, &types, &cur, "trim")?;
                        slots
                    };
                    Some(Op::Trim(slots))
                }
                Rule::Case { columns, upper } => {
                    let slots = resolve(columns, &live, &cur)?;
                    let slots = if *columns == Columns::All {
                        slots.into_iter().filter(|&s| is_text(types[s])).collect()
                    } else {
                        need_text(&slots, columns, &types, &cur, "case")?;
                        slots
                    };
                    Some(Op::Case {
                        slots,
                        upper: *upper,
                    })
                }
                Rule::NullMarkers {
                    columns,
                    values,
                    case_insensitive,
                } => {
                    let slots = resolve(columns, &live, &cur)?;
                    let slots = if *columns == Columns::All {
                        slots.into_iter().filter(|&s| is_text(types[s])).collect()
                    } else {
                        need_text(&slots, columns, &types, &cur, "null_markers")?;
                        slots
                    };
                    let markers: Vec<Vec<u8>> = values
                        .iter()
                        .map(|v| {
                            if *case_insensitive {
                                v.to_ascii_lowercase().into_bytes()
                            } else {
                                v.clone().into_bytes()
                            }
                        })
                        .collect();
                    let lens = markers.iter().fold(0u64, |m, v| m | len_bit(v.len()));
                    Some(Op::NullMarkers {
                        slots,
                        markers,
                        ci: *case_insensitive,
                        lens,
                    })
                }
                Rule::Required { columns } => Some(Op::Required(resolve(columns, &live, &cur)?)),
                Rule::Coerce { columns, on_error } => {
                    let mut slots = Vec::new();
                    for (name, ptr, ty) in columns {
                        let named = Columns::Named(vec![(name.clone(), ptr.clone())]);
                        let s = resolve(&named, &live, &cur)?[0];
                        types[s] = Some(*ty);
                        slots.push((s, *ty));
                    }
                    Some(Op::Coerce {
                        slots,
                        drop: *on_error == OnFail::Drop,
                    })
                }
                Rule::Range {
                    columns,
                    min,
                    max,
                    action,
                } => {
                    let slots = resolve(columns, &live, &cur)?;
                    let mut kind = None;
                    for (i, &s) in slots.iter().enumerate() {
                        let k = match types[s] {
                            Some(ValueType::Int) | Some(ValueType::Float) => "number",
                            Some(ValueType::Timestamp) => "timestamp",
                            t => {
                                return Err(ConfError::new(
                                    ptr_of(columns, i),
                                    format!(
                                        "`range` needs a numeric or timestamp column, but `{}` is {}: coerce it first",
                                        cur[s],
                                        ty_name(t)
                                    ),
                                ))
                            }
                        };
                        if kind.is_some_and(|prev| prev != k) {
                            return Err(ConfError::new(
                                ptr_of(columns, i),
                                "one `range` rule cannot mix numeric and timestamp columns",
                            ));
                        }
                        kind = Some(k);
                    }
                    let (mut fmin, mut fmax, mut tmin, mut tmax) = (None, None, None, None);
                    for (b, f, t) in [(min, &mut fmin, &mut tmin), (max, &mut fmax, &mut tmax)] {
                        let Some(b) = b else { continue };
                        if kind == Some("timestamp") {
                            let ts = b
                                .value
                                .as_str()
                                .and_then(|s| Timestamp::parse(s.as_bytes()))
                                .ok_or_else(|| ConfError::new(b.pointer.clone(), "expected an ISO 8601 timestamp string (the columns are timestamps)"))?;
                            *t = Some(ts);
                        } else {
                            let v = b.value.as_f64().ok_or_else(|| {
                                ConfError::new(b.pointer.clone(), "expected a number")
                            })?;
                            *f = Some(v);
                        }
                    }
                    if let (Some(a), Some(b)) = (fmin, fmax) {
                        if a > b {
                            return Err(ConfError::new(
                                spec.pointer.clone(),
                                format!("`min` ({a}) is greater than `max` ({b})"),
                            ));
                        }
                    }
                    if let (Some(a), Some(b)) = (tmin, tmax) {
                        if a > b {
                            return Err(ConfError::new(
                                spec.pointer.clone(),
                                "`min` is later than `max`",
                            ));
                        }
                    }
                    Some(Op::Range {
                        slots,
                        min: fmin,
                        max: fmax,
                        min_ts: tmin,
                        max_ts: tmax,
                        action: *action,
                    })
                }
                Rule::Allowed {
                    columns,
                    values,
                    action,
                    case_insensitive,
                } => {
                    let slots = resolve(columns, &live, &cur)?;
                    let mut set = HashSet::default();
                    for v in values {
                        let mut key = match v {
                            Value::String(s) => s.clone().into_bytes(),
                            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                                (Some(i), _) => i.to_string().into_bytes(),
                                (None, Some(f)) => ryu::Buffer::new().format(f).as_bytes().to_vec(),
                                _ => n.to_string().into_bytes(),
                            },
                            Value::Bool(b) => b.to_string().into_bytes(),
                            _ => continue, // null: nulls are never checked
                        };
                        if *case_insensitive {
                            key.make_ascii_lowercase();
                        }
                        set.insert(key);
                    }
                    Some(Op::Allowed {
                        slots,
                        set,
                        ci: *case_insensitive,
                        drop: *action == OnFail::Drop,
                    })
                }
                Rule::Dedupe { columns } => Some(Op::Dedupe {
                    slots: resolve(columns, &live, &cur)?,
                }),
                Rule::Impute { columns, strategy } => {
                    let slots = resolve(columns, &live, &cur)?;
                    let mut fills = Vec::new();
                    for (i, &s) in slots.iter().enumerate() {
                        match strategy {
                            Strategy::Mean | Strategy::Median
                                if !types[s].is_some_and(|t| t.is_numeric()) =>
                            {
                                return Err(ConfError::new(
                                    ptr_of(columns, i),
                                    format!(
                                        "mean/median imputation needs an int or float column, but `{}` is {}: coerce it first",
                                        cur[s],
                                        ty_name(types[s])
                                    ),
                                ));
                            }
                            Strategy::Constant(v) => {
                                fills.push(constant_fill(v, types[s]).map_err(|m| {
                                    ConfError::new(
                                        format!("{}/value", spec.pointer),
                                        format!("column `{}`: {m}", cur[s]),
                                    )
                                })?)
                            }
                            _ => fills.push(Fill::None),
                        }
                    }
                    if !matches!(strategy, Strategy::Constant(_)) {
                        stages.push(ops.len());
                    }
                    Some(Op::Impute {
                        slots,
                        strategy: strategy.clone(),
                        fills,
                    })
                }
                Rule::Encode {
                    columns,
                    categories,
                    unknown,
                } => {
                    let slots = resolve(columns, &live, &cur)?;
                    need_text(&slots, columns, &types, &cur, "encode")?;
                    for &s in &slots {
                        types[s] = Some(ValueType::Int);
                    }
                    Some(Op::Encode {
                        slots,
                        map: categories
                            .iter()
                            .enumerate()
                            .map(|(i, c)| (c.clone().into_bytes(), i as i64))
                            .collect(),
                        drop: *unknown == OnFail::Drop,
                    })
                }
                Rule::Select { columns } => {
                    live = resolve(columns, &live, &cur)?;
                    None
                }
                Rule::Drop { columns } => {
                    let gone = resolve(columns, &live, &cur)?;
                    live.retain(|s| !gone.contains(s));
                    if live.is_empty() {
                        return Err(ConfError::new(
                            spec.pointer.clone(),
                            "this would drop every column",
                        ));
                    }
                    None
                }
                Rule::Rename { names } => {
                    let mut next = cur.clone();
                    for (old, new, ptr) in names {
                        let named = Columns::Named(vec![(old.clone(), ptr.clone())]);
                        let s = resolve(&named, &live, &cur)?[0];
                        next[s] = new.clone();
                    }
                    let mut seen = HashSet::new();
                    for &s in &live {
                        if !seen.insert(next[s].as_str()) {
                            return Err(ConfError::new(
                                spec.pointer.clone(),
                                format!("after renaming, two columns are called `{}`", next[s]),
                            ));
                        }
                    }
                    cur = next;
                    None
                }
            };
            if let Some(op) = op {
                ops.push(op);
                op_rule.push(ri);
                slot_names.push(cur.clone());
            }
        }

        let mut out_slots = live.clone();
        if let Some((label, ptr)) = &cfg.output.label {
            let pos = out_slots
                .iter()
                .position(|&s| cur[s] == *label)
                .ok_or_else(|| {
                    ConfError::new(
                        ptr.clone(),
                        format!("the label column `{label}` is not among the output columns"),
                    )
                })?;
            if cfg.output.format == OutputFormat::SageMaker {
                let s = out_slots.remove(pos);
                out_slots.insert(0, s);
            }
        }
        if cfg.output.format == OutputFormat::SageMaker {
            for &s in &out_slots {
                if !matches!(
                    types[s],
                    Some(
                        ValueType::Int | ValueType::Float | ValueType::Bool | ValueType::Timestamp
                    )
                ) {
                    return Err(ConfError::new(
                        "/output/format",
                        format!(
                            "the sagemaker format writes numbers only, but column `{}` is {}: coerce it, encode it, or drop it",
                            cur[s],
                            ty_name(types[s])
                        ),
                    ));
                }
            }
        }
        Ok(Plan {
            input_names: names.to_vec(),
            out_names: out_slots.iter().map(|&s| cur[s].clone()).collect(),
            out_types: out_slots.iter().map(|&s| types[s]).collect(),
            out_slots,
            op_rule,
            rule_meta,
            stages,
            out_format: cfg.output.format,
            delimiter: cfg.output.delimiter,
            header: cfg.output.header,
            input_delimiter: cfg.input.delimiter,
            slot_names,
            min_rows_out: cfg.min_rows_out,
            first_dedupe: ops
                .iter()
                .position(|o| matches!(o, Op::Dedupe { .. }))
                .unwrap_or(ops.len()),
            ops,
        })
    }

    /// How many passes over the input the plan needs (1 + one per imputation stage).
    pub fn passes(&self) -> usize {
        1 + self.stages.len()
    }

    /// The output schema (name and type of each output column).
    pub fn schema(&self) -> Vec<ColumnSchema> {
        self.out_names
            .iter()
            .zip(&self.out_types)
            .map(|(n, t)| ColumnSchema {
                name: n.clone(),
                r#type: t.map_or("string", |t| t.name()).to_string(),
            })
            .collect()
    }
}

fn constant_fill(v: &Value, ty: Ty) -> Result<Fill, String> {
    let bad = || format!("the value {v} is not a {}", ty_name(ty));
    Ok(match ty {
        None | Some(ValueType::String) | Some(ValueType::Category) => match v {
            Value::String(s) => Fill::Text(s.clone().into_bytes()),
            other => Fill::Text(other.to_string().into_bytes()),
        },
        Some(ValueType::Int) => Fill::Cell(Cell::Int(v.as_i64().ok_or_else(bad)?)),
        Some(ValueType::Float) => Fill::Cell(Cell::Float(v.as_f64().ok_or_else(bad)?, 0, 0)),
        Some(ValueType::Bool) => Fill::Cell(Cell::Bool(v.as_bool().ok_or_else(bad)?)),
        Some(ValueType::Timestamp) => Fill::Cell(Cell::Ts(
            v.as_str()
                .and_then(|s| Timestamp::parse(s.as_bytes()))
                .ok_or_else(bad)?,
        )),
    })
}

/// A row being processed: the record (field bytes + scratch) and one cell per input column.
#[derive(Default)]
struct Row {
    rec: Record,
    cells: Vec<Cell>,
}

impl Row {
    #[inline]
    fn bytes(&self, s: u32, e: u32) -> &[u8] {
        &self.rec.buf[s as usize..e as usize]
    }

    fn load(&mut self) {
        self.cells.clear();
        // (extend from an exact-size iterator: one capacity check, not one per cell)
        let buf = &self.rec.buf;
        self.cells
            .extend(self.rec.spans.iter().map(|&(s, e, k)| match k {
                FieldKind::Str => Cell::Text(s, e),
                FieldKind::Number => Cell::Num(s, e),
                FieldKind::Json => Cell::Json(s, e),
                FieldKind::Null => Cell::Null,
                FieldKind::Bool => Cell::Bool(buf.get(s as usize) == Some(&b't')),
            }));
        // (bytes after the last field, so that `parse_float_at` reads every field as a word)
        self.rec.buf.extend_from_slice(&[0; 8]);
    }

    fn push_text(&mut self, bytes: &[u8]) -> Cell {
        let s = self.rec.buf.len() as u32;
        self.rec.buf.extend_from_slice(bytes);
        Cell::Text(s, self.rec.buf.len() as u32)
    }

    /// The cell's canonical text (for allowed-value checks, mode counting, messages).
    fn canonical(&self, c: Cell, out: &mut Vec<u8>) {
        out.clear();
        match c {
            Cell::Null => {}
            Cell::Text(s, e) | Cell::Num(s, e) | Cell::Json(s, e) => {
                out.extend_from_slice(self.bytes(s, e))
            }
            Cell::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
            Cell::Float(f, ..) => out.extend_from_slice(ryu::Buffer::new().format(f).as_bytes()),
            Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Cell::Ts(t) => out.extend_from_slice(t.to_string().as_bytes()),
        }
    }
}

/// The bit of a null-marker length set (lengths from 63 on share bit 63).
#[inline]
fn len_bit(n: usize) -> u64 {
    1u64 << n.min(63)
}

fn trim_range(bytes: &[u8]) -> (usize, usize) {
    let mut a = 0;
    let mut b = bytes.len();
    while a < b && bytes[a].is_ascii_whitespace() {
        a += 1;
    }
    while b > a && bytes[b - 1].is_ascii_whitespace() {
        b -= 1;
    }
    if (a < b) && (bytes[a] >= 0x80 || bytes[b - 1] >= 0x80) {
        // Unicode whitespace at an edge: let str::trim decide (the record is valid UTF-8)
        if let Ok(s) = std::str::from_utf8(&bytes[a..b]) {
            let t = s.trim();
            let off = t.as_ptr() as usize - s.as_ptr() as usize;
            return (a + off, a + off + t.len());
        }
    }
    (a, b)
}

fn coerce(row: &Row, c: Cell, ty: ValueType) -> Option<Cell> {
    let text = |s: u32, e: u32| row.bytes(s, e);
    Some(match (c, ty) {
        (Cell::Null, _) => Cell::Null,
        (Cell::Text(s, e) | Cell::Num(s, e), ValueType::Int) => Cell::Int(parse_int(text(s, e))?),
        (Cell::Text(s, e) | Cell::Num(s, e), ValueType::Float) => {
            Cell::Float(parse_float_at(&row.rec.buf, s as usize, e as usize)?, s, e)
        }
        (Cell::Text(s, e), ValueType::Bool) => Cell::Bool(parse_bool(text(s, e))?),
        (Cell::Text(s, e), ValueType::Timestamp) => Cell::Ts(Timestamp::parse(text(s, e))?),
        (Cell::Text(..), ValueType::String | ValueType::Category) => c,
        (Cell::Num(s, e) | Cell::Json(s, e), ValueType::String | ValueType::Category) => {
            Cell::Text(s, e)
        }
        (Cell::Int(i), ValueType::Float) => Cell::Float(i as f64, 0, 0),
        (Cell::Float(f, ..), ValueType::Int) if f.fract() == 0.0 && f.abs() < 9.2e18 => {
            Cell::Int(f as i64)
        }
        (Cell::Bool(b), ValueType::Int) => Cell::Int(b as i64),
        (Cell::Bool(b), ValueType::Float) => Cell::Float(b as i64 as f64, 0, 0),
        (Cell::Num(s, e), ValueType::Bool) => match text(s, e) {
            b"1" => Cell::Bool(true),
            b"0" => Cell::Bool(false),
            _ => return None,
        },
        (Cell::Int(_), ValueType::Int)
        | (Cell::Float(..), ValueType::Float)
        | (Cell::Bool(_), ValueType::Bool)
        | (Cell::Ts(_), ValueType::Timestamp) => c,
        // typed values to text are handled by the caller (they need the arena)
        (
            Cell::Int(_) | Cell::Float(..) | Cell::Bool(_) | Cell::Ts(_),
            ValueType::String | ValueType::Category,
        ) => c,
        _ => return None,
    })
}

/// Per-rule counters.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    changed: u64,
    dropped: u64,
}

/// Executes the plan's ops on rows. `collect` (when set) gathers the statistics of stage `k`.
struct Exec<'p> {
    plan: &'p Plan,
    counts: Vec<Counts>,
    dedupe: Vec<FingerprintSet>,
    scratch: Vec<u8>,
}

impl<'p> Exec<'p> {
    fn new(plan: &'p Plan) -> Self {
        let n = plan.ops.len();
        Exec {
            plan,
            counts: vec![Counts::default(); n],
            dedupe: (0..n)
                .map(|i| match plan.ops[i] {
                    Op::Dedupe { .. } => FingerprintSet::default(),
                    _ => FingerprintSet::empty(),
                })
                .collect(),
            scratch: Vec::new(),
        }
    }

    /// Runs ops `from..upto` on the row (only those `mask` keeps, when given).
    fn apply(
        &mut self,
        row: &mut Row,
        from: usize,
        upto: usize,
        mask: Option<&[bool]>,
    ) -> Result<(), Dropped> {
        // (the ops and their counters as slices: no bounds check per op)
        let plan = self.plan;
        let ops = plan.ops.get(from..upto).unwrap_or_default();
        let counters = self.counts.get_mut(from..upto).unwrap_or_default();
        for (oi, (op, counts)) in (from..).zip(ops.iter().zip(counters)) {
            if mask.is_some_and(|m| !m[oi]) {
                continue;
            }
            match op {
                Op::Trim(slots) => {
                    for &s in slots {
                        if let Cell::Text(a, b) = row.cells[s] {
                            let (x, y) = trim_range(row.bytes(a, b));
                            if x != 0 || y != (b - a) as usize {
                                row.cells[s] = Cell::Text(a + x as u32, a + y as u32);
                                counts.changed += 1;
                            }
                        }
                    }
                }
                Op::Case { slots, upper } => {
                    for &s in slots {
                        if let Cell::Text(a, b) = row.cells[s] {
                            let bytes = row.bytes(a, b);
                            let needs = if *upper {
                                bytes.iter().any(|c| c.is_ascii_lowercase() || *c >= 0x80)
                            } else {
                                bytes.iter().any(|c| c.is_ascii_uppercase() || *c >= 0x80)
                            };
                            if !needs {
                                continue;
                            }
                            self.scratch.clear();
                            if bytes.is_ascii() {
                                self.scratch.extend(bytes.iter().map(|c| {
                                    if *upper {
                                        c.to_ascii_uppercase()
                                    } else {
                                        c.to_ascii_lowercase()
                                    }
                                }));
                            } else {
                                let t = String::from_utf8_lossy(bytes);
                                let t = if *upper {
                                    t.to_uppercase()
                                } else {
                                    t.to_lowercase()
                                };
                                self.scratch.extend_from_slice(t.as_bytes());
                            }
                            if self.scratch != row.bytes(a, b) {
                                row.cells[s] = row.push_text(&self.scratch);
                                counts.changed += 1;
                            }
                        }
                    }
                }
                Op::NullMarkers {
                    slots,
                    markers,
                    ci,
                    lens,
                } => {
                    for &s in slots {
                        if let Cell::Text(a, b) = row.cells[s] {
                            if lens & len_bit((b - a) as usize) == 0 {
                                continue;
                            }
                            let bytes = row.bytes(a, b);
                            let hit = markers.iter().any(|m| {
                                m.len() == bytes.len()
                                    && if *ci {
                                        m.eq_ignore_ascii_case(bytes)
                                    } else {
                                        m[..] == *bytes
                                    }
                            });
                            if hit {
                                row.cells[s] = Cell::Null;
                                counts.changed += 1;
                            }
                        }
                    }
                }
                Op::Required(slots) => {
                    for &s in slots {
                        if row.cells[s] == Cell::Null {
                            counts.dropped += 1;
                            return Err(Dropped { op: oi, slot: s });
                        }
                    }
                }
                Op::Coerce { slots, drop } => {
                    for &(s, ty) in slots {
                        let c = row.cells[s];
                        // The usual cases first, writing the cell in place: building an
                        // `Option<Cell>` to copy out made the CPU reload it from a temporary it
                        // had just written in pieces (a store-forwarding stall on every value).
                        let ok = match (c, ty) {
                            (Cell::Null, _) => true,
                            (Cell::Text(a, b), ValueType::Float) => {
                                match parse_float_at(&row.rec.buf, a as usize, b as usize) {
                                    Some(f) => {
                                        row.cells[s] = Cell::Float(f, a, b);
                                        true
                                    }
                                    None => false,
                                }
                            }
                            (Cell::Text(a, b), ValueType::Int) => {
                                match parse_int(row.bytes(a, b)) {
                                    Some(i) => {
                                        row.cells[s] = Cell::Int(i);
                                        true
                                    }
                                    None => false,
                                }
                            }
                            _ => match coerce(row, c, ty) {
                                Some(n) => {
                                    let n = match (n, ty) {
                                        (
                                            Cell::Int(_)
                                            | Cell::Float(..)
                                            | Cell::Bool(_)
                                            | Cell::Ts(_),
                                            ValueType::String | ValueType::Category,
                                        ) => {
                                            row.canonical(n, &mut self.scratch);
                                            row.push_text(&self.scratch)
                                        }
                                        _ => n,
                                    };
                                    row.cells[s] = n;
                                    true
                                }
                                None => false,
                            },
                        };
                        match ok {
                            true => {}
                            false if *drop => {
                                counts.dropped += 1;
                                return Err(Dropped { op: oi, slot: s });
                            }
                            false => {
                                row.cells[s] = Cell::Null;
                                counts.changed += 1;
                            }
                        }
                    }
                }
                Op::Range {
                    slots,
                    min,
                    max,
                    min_ts,
                    max_ts,
                    action,
                } => {
                    for &s in slots {
                        let c = row.cells[s];
                        let (lo, hi) = match c {
                            Cell::Int(i) => (
                                min.is_some_and(|m| (i as f64) < m),
                                max.is_some_and(|m| (i as f64) > m),
                            ),
                            Cell::Float(f, ..) => {
                                (min.is_some_and(|m| f < m), max.is_some_and(|m| f > m))
                            }
                            Cell::Ts(t) => {
                                (min_ts.is_some_and(|m| t < m), max_ts.is_some_and(|m| t > m))
                            }
                            _ => (false, false),
                        };
                        if !(lo || hi) {
                            continue;
                        }
                        match action {
                            OnFail::Drop => {
                                counts.dropped += 1;
                                return Err(Dropped { op: oi, slot: s });
                            }
                            OnFail::Null => row.cells[s] = Cell::Null,
                            OnFail::Clip => {
                                row.cells[s] = match c {
                                    Cell::Int(_) => Cell::Int(if lo {
                                        min.map_or(0, |m| m.ceil() as i64)
                                    } else {
                                        max.map_or(0, |m| m.floor() as i64)
                                    }),
                                    Cell::Float(..) => Cell::Float(
                                        if lo {
                                            min.unwrap_or(0.0)
                                        } else {
                                            max.unwrap_or(0.0)
                                        },
                                        0,
                                        0,
                                    ),
                                    Cell::Ts(_) => Cell::Ts(if lo {
                                        min_ts.unwrap_or(Timestamp {
                                            secs: 0,
                                            nanos: 0,
                                            utc: false,
                                        })
                                    } else {
                                        max_ts.unwrap_or(Timestamp {
                                            secs: 0,
                                            nanos: 0,
                                            utc: false,
                                        })
                                    }),
                                    other => other,
                                }
                            }
                        }
                        counts.changed += 1;
                    }
                }
                Op::Allowed {
                    slots,
                    set,
                    ci,
                    drop,
                } => {
                    for &s in slots {
                        let c = row.cells[s];
                        if c == Cell::Null {
                            continue;
                        }
                        row.canonical(c, &mut self.scratch);
                        if *ci {
                            self.scratch.make_ascii_lowercase();
                        }
                        if set.contains(&self.scratch) {
                            continue;
                        }
                        if *drop {
                            counts.dropped += 1;
                            return Err(Dropped { op: oi, slot: s });
                        }
                        row.cells[s] = Cell::Null;
                        counts.changed += 1;
                    }
                }
                Op::Dedupe { slots } => {
                    dedupe_key(row, slots, &mut self.scratch);
                    if !self.dedupe[oi].insert_bytes(&self.scratch) {
                        counts.dropped += 1;
                        return Err(Dropped {
                            op: oi,
                            slot: usize::MAX,
                        });
                    }
                }
                Op::Impute { slots, fills, .. } => {
                    for (i, &s) in slots.iter().enumerate() {
                        if row.cells[s] != Cell::Null {
                            continue;
                        }
                        match &fills[i] {
                            Fill::None => continue,
                            Fill::Cell(c) => row.cells[s] = *c,
                            Fill::Text(t) => row.cells[s] = row.push_text(t),
                        }
                        counts.changed += 1;
                    }
                }
                Op::Encode { slots, map, drop } => {
                    for &s in slots {
                        match row.cells[s] {
                            Cell::Null => {}
                            Cell::Text(a, b) => match map.get(row.bytes(a, b)) {
                                Some(&i) => {
                                    row.cells[s] = Cell::Int(i);
                                    counts.changed += 1;
                                }
                                None if *drop => {
                                    counts.dropped += 1;
                                    return Err(Dropped { op: oi, slot: s });
                                }
                                None => {
                                    row.cells[s] = Cell::Null;
                                    counts.changed += 1;
                                }
                            },
                            _ => {}
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn drop_reason(&self, row: &Row, d: Dropped) -> String {
        let names = &self.plan.slot_names[d.op];
        let name = |s: usize| names.get(s).map_or("?", |n| n.as_str());
        let mut text = Vec::new();
        let orig = |s: usize| -> String {
            let (a, b, _) = row.rec.spans[s];
            let v = String::from_utf8_lossy(&row.rec.buf[a as usize..b as usize]).into_owned();
            if v.len() > 80 {
                let mut cut = 80;
                while !v.is_char_boundary(cut) {
                    cut -= 1;
                }
                format!("{}…", &v[..cut])
            } else {
                v
            }
        };
        match &self.plan.ops[d.op] {
            Op::Required(_) => format!("column `{}` is null", name(d.slot)),
            Op::Coerce { slots, .. } => {
                let ty = slots
                    .iter()
                    .find(|(s, _)| *s == d.slot)
                    .map_or("?", |(_, t)| t.name());
                row.canonical(row.cells[d.slot], &mut text);
                format!(
                    "column `{}`: {:?} is not a valid {ty}",
                    name(d.slot),
                    String::from_utf8_lossy(&text)
                )
            }
            Op::Range { .. } => {
                row.canonical(row.cells[d.slot], &mut text);
                format!(
                    "column `{}`: {} is out of range",
                    name(d.slot),
                    String::from_utf8_lossy(&text)
                )
            }
            Op::Allowed { .. } => {
                row.canonical(row.cells[d.slot], &mut text);
                format!(
                    "column `{}`: {:?} is not an allowed value",
                    name(d.slot),
                    String::from_utf8_lossy(&text)
                )
            }
            Op::Encode { .. } => format!(
                "column `{}`: {:?} is not a known category",
                name(d.slot),
                orig(d.slot)
            ),
            Op::Dedupe { .. } => "duplicate of an earlier row".to_string(),
            _ => "dropped".to_string(),
        }
    }
}

/// The bytes a `dedupe` op compares rows by (typed: numbers by value, `-0.0` = `0.0`).
fn dedupe_key(row: &Row, slots: &[usize], buf: &mut Vec<u8>) {
    buf.clear();
    // (room for every key of this row at once: at most 15 bytes per cell besides its text)
    buf.reserve(slots.len() * 15 + row.rec.buf.len());
    for &s in slots {
        key_cell(buf, row, row.cells[s]);
    }
}

/// The one-pass dedupe fingerprint ([`one_pass`], and the writing pass of the input after its
/// spool limit): the key's slots that are not imputed hashed together ([`FpHasher`], over the
/// same cell encoding as [`dedupe_key`]), plus one hash per imputed slot ([`part_fp`], by its
/// place in the key). A row with holes (imputed columns whose values are not known yet: bit `k`
/// of `holes` for the `k`-th imputed column) leaves those parts out; once the imputed values are
/// known, adding their parts gives the fingerprint the row has with the values filled in. Two
/// rows get the same fingerprint when their keys are equal, and different ones otherwise up to
/// collisions of a 128-bit hash (two independent 64-bit lanes, in the rest and in every part;
/// the parts summed as 128-bit numbers). Like [`dedupe_key`]'s `xxh3_128` this is a
/// non-cryptographic hash: rows built to collide could, random ones do not.
#[inline]
fn split_fp(row: &Row, sk: &SplitKey, holes: u64) -> u128 {
    let mut h = FpHasher::new();
    for &s in &sk.rest {
        h.cell(row, row.cells[s]);
    }
    let mut parts = h.finish();
    for (s, k, seeds) in &sk.parts {
        if (holes >> k) & 1 == 0 {
            parts = parts.wrapping_add(part_fp(seeds, row, row.cells[*s]));
        }
    }
    parts
}

/// A dedupe key's slots as [`split_fp`] takes them.
#[derive(Debug, Default)]
struct SplitKey {
    /// The slots not imputed, in key order.
    rest: Vec<usize>,
    /// The imputed ones: slot, imputed column, [`part_seeds`] of the place in the key.
    parts: Vec<(usize, u16, PartSeeds)>,
}

impl SplitKey {
    /// `slots` (a dedupe key) with `imputed` (the imputed slots, in imputed-column order).
    fn new(slots: &[usize], imputed: &[usize]) -> Self {
        let mut sk = SplitKey::default();
        for (i, &s) in slots.iter().enumerate() {
            match imputed.iter().position(|&t| t == s) {
                Some(k) => sk.parts.push((s, k as u16, part_seeds(i))),
                None => sk.rest.push(s),
            }
        }
        sk
    }
}

/// The 64-bit product of `x` and `y` folded: the high half XOR the low half of the 128-bit
/// product (the step of wyhash, rapidhash and foldhash).
#[inline(always)]
fn fold_mul(x: u64, y: u64) -> u64 {
    let p = (x as u128) * (y as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

/// MurmurHash3's 64-bit finaliser: a bijection of `u64` whose every output bit depends on every
/// input bit.
#[inline(always)]
fn fmix_a(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// Stafford's "Mix13" (SplitMix64's finaliser): another bijection, with other constants and
/// shifts than [`fmix_a`], for the second lane.
#[inline(always)]
fn fmix_b(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The streaming 128-bit hash of [`split_fp`]'s key cells: every cell is written as the words of
/// [`key_cell`]'s encoding (a header word with the type tag, and the length for text; then the
/// value: a number as one word, text in 8-byte words, the last one overlapping the one before,
/// or for up to 8 bytes two overlapping halves; the length makes each encoding unambiguous), and
/// every word goes into two lanes, each `lane = fold_mul(lane ^ word, K)` with its own start and
/// multiplier `K`; each lane is finished by its own bijective mix. No key buffer is built.
struct FpHasher {
    a: u64,
    b: u64,
}

/// [`FpHasher`]'s starting lanes and multipliers (odd, from the digits of π and e).
const FP_A0: u64 = 0x243f_6a88_85a3_08d3;
const FP_B0: u64 = 0x1319_8a2e_0370_7344;
const FP_KA: u64 = 0xa409_3822_299f_31d1;
const FP_KB: u64 = 0xb7e1_5162_8aed_2a6b;

impl FpHasher {
    #[inline(always)]
    fn new() -> Self {
        FpHasher { a: FP_A0, b: FP_B0 }
    }

    #[inline(always)]
    fn word(&mut self, w: u64) {
        self.a = fold_mul(self.a ^ w, FP_KA);
        self.b = fold_mul(self.b ^ w, FP_KB);
    }

    /// Bytes whose length the caller has already written.
    #[inline(always)]
    fn bytes(&mut self, t: &[u8]) {
        let n = t.len();
        if n > 8 {
            let mut i = 0;
            while i + 8 < n {
                self.word(le_u64(&t[i..i + 8]));
                i += 8;
            }
            self.word(le_u64(&t[n - 8..]));
        } else if n >= 4 {
            self.word(le_u32(&t[..4]) | le_u32(&t[n - 4..]) << 32);
        } else if n > 0 {
            self.word(t[0] as u64 | (t[n / 2] as u64) << 8 | (t[n - 1] as u64) << 16);
        }
    }

    /// One cell, as [`key_cell`] encodes it.
    #[inline(always)]
    fn cell(&mut self, row: &Row, c: Cell) {
        match c {
            Cell::Null => self.word(0),
            Cell::Text(a, b) | Cell::Num(a, b) | Cell::Json(a, b) => {
                self.word(1 | ((b - a) as u64) << 8);
                self.bytes(row.bytes(a, b));
            }
            Cell::Int(i) => {
                self.word(2);
                self.word(i as u64);
            }
            Cell::Float(f, ..) => {
                self.word(3);
                let f = if f == 0.0 { 0.0 } else { f };
                self.word(f.to_bits());
            }
            Cell::Bool(b) => self.word(4 | (b as u64) << 8),
            Cell::Ts(t) => {
                self.word(5 | (t.utc as u64) << 8 | (t.nanos as u64) << 16);
                self.word(t.secs as u64);
            }
        }
    }

    #[inline(always)]
    fn finish(&self) -> u128 {
        (fmix_b(self.b) as u128) << 64 | fmix_a(self.a) as u128
    }
}

/// [`part_fp`]'s keys for one place in the key: per kind of cell (null, other, integer, float),
/// one key per lane.
type PartSeeds = [[u64; 2]; 4];

/// The keys of [`part_fp`] for the slot at place `i` in the key, each the mix of the place, the
/// kind of cell and the lane.
fn part_seeds(i: usize) -> PartSeeds {
    std::array::from_fn(|tag| {
        let x = PART_SEED.wrapping_add((i as u64) << 8 | tag as u64);
        [fmix_a(x), fmix_b(x)]
    })
}

/// [`part_fp`]'s multipliers (odd), one per lane.
const PART_KA: u64 = 0x4528_21e6_38d0_1377;
const PART_KB: u64 = 0xbe54_66cf_34e9_0c6d;

/// One imputed slot's part of [`split_fp`]: the cell's value (a number's 8 bytes; another cell
/// through [`FpHasher`]) in two lanes, each `fold_mul(value ^ key, K)` with its own key (of the
/// slot's place in the key and the cell's kind: [`part_seeds`]) and multiplier.
#[inline(always)]
fn part_fp(seeds: &PartSeeds, row: &Row, c: Cell) -> u128 {
    let word = |x: u64, k: &[u64; 2]| {
        (fold_mul(x ^ k[1], PART_KB) as u128) << 64 | fold_mul(x ^ k[0], PART_KA) as u128
    };
    match c {
        Cell::Float(f, ..) => {
            let f = if f == 0.0 { 0.0 } else { f };
            word(f.to_bits(), &seeds[3])
        }
        Cell::Int(v) => word(v as u64, &seeds[2]),
        Cell::Null => word(0, &seeds[0]),
        // (an imputed column holds numbers or null: other cells only in theory)
        _ => {
            let mut h = FpHasher::new();
            h.word(seeds[1][0]);
            h.cell(row, c);
            h.finish()
        }
    }
}

/// The first 8 bytes of `t` (at least 8), little-endian.
#[inline(always)]
fn le_u64(t: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&t[..8]);
    u64::from_le_bytes(w)
}

/// The first 4 bytes of `t` (at least 4), little-endian.
#[inline(always)]
fn le_u32(t: &[u8]) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&t[..4]);
    u32::from_le_bytes(w) as u64
}

/// The seed of [`part_fp`]'s first slot (any constant: it only has to differ per slot).
const PART_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// One cell's part of a dedupe key.
#[inline(always)]
fn key_cell(buf: &mut Vec<u8>, row: &Row, c: Cell) {
    match c {
        Cell::Null => buf.push(0),
        Cell::Text(a, b) | Cell::Num(a, b) | Cell::Json(a, b) => {
            buf.push(1);
            buf.extend_from_slice(&(b - a).to_le_bytes());
            buf.extend_from_slice(row.bytes(a, b));
        }
        Cell::Int(i) => {
            buf.push(2);
            buf.extend_from_slice(&i.to_le_bytes());
        }
        Cell::Float(f, ..) => {
            buf.push(3);
            let f = if f == 0.0 { 0.0 } else { f };
            buf.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Cell::Bool(b) => buf.extend_from_slice(&[4, b as u8]),
        Cell::Ts(t) => {
            buf.push(5);
            buf.extend_from_slice(&t.secs.to_le_bytes());
            buf.extend_from_slice(&t.nanos.to_le_bytes());
            buf.push(t.utc as u8);
        }
    }
}

#[inline(always)]
fn write_cell_text(out: &mut Vec<u8>, row: &Row, c: Cell, delimiter: u8, sagemaker: bool) {
    match c {
        Cell::Null => {}
        Cell::Text(s, e) | Cell::Num(s, e) | Cell::Json(s, e) => {
            write_csv_field(out, row.bytes(s, e), delimiter)
        }
        // (a one-digit integer, e.g. a class label, without formatting and copying)
        Cell::Int(i @ 0..=9) => out.push(b'0' + i as u8),
        Cell::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
        Cell::Float(_, s, e) if s < e => out.extend_from_slice(row.bytes(s, e)),
        Cell::Float(f, ..) => out.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes()),
        Cell::Bool(b) => out.extend_from_slice(match (b, sagemaker) {
            (true, true) => b"1",
            (false, true) => b"0",
            (true, false) => b"true",
            (false, false) => b"false",
        }),
        Cell::Ts(t) => {
            if sagemaker {
                if t.nanos == 0 {
                    out.extend_from_slice(itoa::Buffer::new().format(t.secs).as_bytes());
                } else {
                    out.extend_from_slice(ryu::Buffer::new().format(t.epoch_seconds()).as_bytes());
                }
            } else {
                out.extend_from_slice(t.to_string().as_bytes());
            }
        }
    }
}

/// [`write_cell_text`] kept out of [`write_row`]'s loop (its many cases there cost the loop
/// registers).
#[inline(never)]
fn write_cell_apart(out: &mut Vec<u8>, row: &Row, c: Cell, delimiter: u8, sagemaker: bool) {
    write_cell_text(out, row, c, delimiter, sagemaker)
}

fn write_row(plan: &Plan, row: &Row, out: &mut Vec<u8>, json_keys: &[Vec<u8>]) {
    match plan.out_format {
        OutputFormat::Csv | OutputFormat::SageMaker => {
            let sm = plan.out_format == OutputFormat::SageMaker;
            let d = if sm { b',' } else { plan.delimiter };
            // Cells written as their own bytes of the record buffer (a float's text, text that
            // needs no quotes) that follow each other there with `d` between them (adjacent
            // fields of the input line, untouched) are copied as one run: the same bytes as
            // writing them one by one with the delimiters.
            // (`NONE`: no run open; a cell that is not its own bytes)
            const NONE: usize = usize::MAX;
            let buf = &row.rec.buf[..];
            let (mut rs, mut re) = (NONE, NONE);
            for (i, &s) in plan.out_slots.iter().enumerate() {
                let c = &row.cells[s];
                let (a, b) = match *c {
                    Cell::Float(_, a, b) if a < b => (a as usize, b as usize),
                    Cell::Text(a, b) | Cell::Num(a, b) | Cell::Json(a, b)
                        if !needs_quotes(row.bytes(a, b), d) =>
                    {
                        (a as usize, b as usize)
                    }
                    _ => (NONE, 0),
                };
                // (with no run open, `re + 1` wraps to 0 but `buf.get(NONE)` is None)
                if a == re.wrapping_add(1) && buf.get(re) == Some(&d) {
                    re = b;
                    continue;
                }
                if rs != NONE {
                    out.extend_from_slice(&buf[rs..re]);
                }
                if i > 0 {
                    out.push(d);
                }
                (rs, re) = (a, b);
                if a == NONE {
                    (rs, re) = (NONE, NONE);
                    write_cell_apart(out, row, *c, d, sm);
                }
            }
            if rs != NONE {
                out.extend_from_slice(&buf[rs..re]);
            }
            out.push(b'\n');
        }
        OutputFormat::Jsonl => {
            out.push(b'{');
            for (i, &s) in plan.out_slots.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&json_keys[i]);
                write_json_cell(out, row, row.cells[s]);
            }
            out.extend_from_slice(b"}\n");
        }
    }
}

/// [`write_row`], and where each output column's text starts and ends in `out` (`marks`).
fn write_row_marked(
    plan: &Plan,
    row: &Row,
    out: &mut Vec<u8>,
    json_keys: &[Vec<u8>],
    marks: &mut Vec<(u32, u32)>,
) {
    marks.clear();
    match plan.out_format {
        OutputFormat::Csv | OutputFormat::SageMaker => {
            let sm = plan.out_format == OutputFormat::SageMaker;
            let d = if sm { b',' } else { plan.delimiter };
            for (i, &s) in plan.out_slots.iter().enumerate() {
                if i > 0 {
                    out.push(d);
                }
                let a = out.len() as u32;
                write_cell_text(out, row, row.cells[s], d, sm);
                marks.push((a, out.len() as u32));
            }
            out.push(b'\n');
        }
        OutputFormat::Jsonl => {
            out.push(b'{');
            for (i, &s) in plan.out_slots.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&json_keys[i]);
                let a = out.len() as u32;
                write_json_cell(out, row, row.cells[s]);
                marks.push((a, out.len() as u32));
            }
            out.extend_from_slice(b"}\n");
        }
    }
}

/// One cell as a JSON value.
#[inline(always)]
fn write_json_cell(out: &mut Vec<u8>, row: &Row, c: Cell) {
    match c {
        Cell::Null => out.extend_from_slice(b"null"),
        Cell::Text(a, b) => write_json_string(out, row.bytes(a, b)),
        Cell::Num(a, b) | Cell::Json(a, b) => out.extend_from_slice(row.bytes(a, b)),
        Cell::Int(v) => out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
        Cell::Float(f, ..) => out.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes()),
        Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Cell::Ts(t) => write_json_string(out, t.to_string().as_bytes()),
    }
}

/// One cell's output text, as [`write_row`] writes it.
fn cell_text(plan: &Plan, row: &Row, c: Cell, out: &mut Vec<u8>) {
    match plan.out_format {
        OutputFormat::Csv => write_cell_text(out, row, c, plan.delimiter, false),
        OutputFormat::SageMaker => write_cell_text(out, row, c, b',', true),
        OutputFormat::Jsonl => write_json_cell(out, row, c),
    }
}

struct Reject<'a> {
    line: u64,
    reason: &'a str,
    detail: &'a str,
    rule: Option<&'a str>,
    record: &'a str,
}

fn write_reject(out: &mut Vec<u8>, r: &Reject<'_>) {
    out.extend_from_slice(b"{\"line\":");
    out.extend_from_slice(itoa::Buffer::new().format(r.line).as_bytes());
    out.extend_from_slice(b",\"reason\":");
    write_json_string(out, r.reason.as_bytes());
    out.extend_from_slice(b",\"detail\":");
    write_json_string(out, r.detail.as_bytes());
    if let Some(rule) = r.rule {
        out.extend_from_slice(b",\"rule\":");
        write_json_string(out, rule.as_bytes());
    }
    out.extend_from_slice(b",\"record\":");
    write_json_string(out, r.record.as_bytes());
    out.extend_from_slice(b"}\n");
}

fn io_err(e: std::io::Error) -> CleanseError {
    CleanseError::Io(e)
}

/// The input bytes per chunk of the passes. 512 KiB parses the first chunk sooner (100 MB: done
/// after ~27 instead of ~48 ms) for 8 MB less peak RSS (43 against 51 MB at 100 MB), but hands
/// twice as many chunks between the threads: 1 MiB made a 1 GB cleanse 5-6 % faster (best and
/// median of 6 alternating runs), and 100 MB no slower.
const CHUNK_BYTES: usize = 1 << 20;

/// The passes' chunk size on `rdr` ([`CHUNK_BYTES`]; tests may set another).
fn set_chunk_bytes<R: Read>(rdr: &mut RecordReader<R>) {
    rdr.set_chunk_bytes(CHUNK_BYTES);
    #[cfg(test)]
    TEST_CHUNK_BYTES.with(|n| {
        if n.get() > 0 {
            rdr.set_chunk_bytes(n.get());
        }
    });
}

/// Opens the reader and checks its columns.
pub(crate) fn open<R: Read + Send>(
    cfg: &Config,
    input: R,
) -> Result<RecordReader<R>, CleanseError> {
    let mut rdr = RecordReader::new(&cfg.input, input).map_err(CleanseError::from_input)?;
    set_chunk_bytes(&mut rdr);
    rdr.prime().map_err(CleanseError::from_input)?;
    if rdr.columns().is_empty() {
        return Err(CleanseError::InvalidInput(
            "no columns: the JSON Lines input has no line that is a JSON object".into(),
        ));
    }
    Ok(rdr)
}

/// A reader of the input from byte `start` on, line `line`, opened there by the source (see
/// [`crate::Source::open_at`]): the record an earlier reader of the same input cut a chunk at,
/// with that reader's columns.
pub(crate) fn resume<R: Read + Send>(
    cfg: &Config,
    input: R,
    columns: &[String],
    start: u64,
    line: u64,
) -> Result<RecordReader<R>, CleanseError> {
    let mut rdr = RecordReader::resume(&cfg.input, input, columns.to_vec(), start, line)
        .map_err(CleanseError::from_input)?;
    set_chunk_bytes(&mut rdr);
    Ok(rdr)
}

#[cfg(test)]
thread_local! {
    /// Tests: the chunk size of the readers `open` makes on this thread (0 = the default).
    static TEST_CHUNK_BYTES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Worker threads for the passes: one per core.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8))
}

/// A row a worker stored for the in-order stage (the ops from the first `dedupe` on).
#[derive(Debug, Clone, Copy)]
struct Stored {
    /// Its bytes in the arena.
    arena: (u32, u32),
    /// Its index among the stored rows (spans and cells at `index * columns`).
    index: u32,
    line: u64,
    ragged_from: Option<usize>,
}

/// Rows stored by a worker for the in-order stage.
#[derive(Debug, Default)]
struct Arena {
    bytes: Vec<u8>,
    spans: Vec<(u32, u32, FieldKind)>,
    cells: Vec<Cell>,
    count: u32,
}

impl Arena {
    fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
        self.cells.clear();
        self.count = 0;
    }

    fn store(&mut self, row: &Row) -> Stored {
        let a = self.bytes.len() as u32;
        self.bytes.extend_from_slice(&row.rec.buf);
        self.spans.extend_from_slice(&row.rec.spans);
        self.cells.extend_from_slice(&row.cells);
        let index = self.count;
        self.count += 1;
        Stored {
            arena: (a, self.bytes.len() as u32),
            index,
            line: row.rec.line,
            ragged_from: row.rec.ragged_from,
        }
    }

    fn load(&self, st: &Stored, ncols: usize, row: &mut Row) {
        let i = st.index as usize * ncols;
        row.rec.buf.clear();
        row.rec
            .buf
            .extend_from_slice(&self.bytes[st.arena.0 as usize..st.arena.1 as usize]);
        row.rec.spans.clear();
        row.rec.spans.extend_from_slice(&self.spans[i..i + ncols]);
        row.rec.line = st.line;
        row.rec.ragged_from = st.ragged_from;
        row.cells.clear();
        row.cells.extend_from_slice(&self.cells[i..i + ncols]);
    }
}

/// One statistics pass's result for a chunk.
#[derive(Debug, Default)]
struct StatsChunk {
    /// Per target slot: the numeric values, in row order (mean, median).
    vals: Vec<Vec<f64>>,
    /// Per target slot: the value keys, concatenated, and where each ends (mode).
    keys: Vec<(Vec<u8>, Vec<u32>)>,
    /// Rows for the in-order stage (a `dedupe` before the imputation).
    arena: Arena,
    stored: Vec<Stored>,
}

fn collect_cell(row: &Row, c: Cell, i: usize, strategy: &Strategy, out: &mut StatsChunk) {
    match strategy {
        Strategy::Mean | Strategy::Median => match c {
            Cell::Int(v) => out.vals[i].push(v as f64),
            Cell::Float(v, ..) => out.vals[i].push(v),
            _ => {}
        },
        _ => {
            if c != Cell::Null {
                let (bytes, ends) = &mut out.keys[i];
                encode_key(row, c, bytes);
                ends.push(bytes.len() as u32);
            }
        }
    }
}

/// Stats pass for stage `k`: runs the ops before the stage's impute op (those that matter for
/// its statistics), collects, and sets its fills. Workers parse and run the ops before the first
/// `dedupe` in parallel; values reach the collectors in input order, so the statistics are the
/// same as one thread's.
pub(crate) fn stats_pass<R: Read + Send>(
    plan: &mut Plan,
    k: usize,
    rdr: &mut RecordReader<R>,
) -> Result<(), CleanseError> {
    let op_idx = plan.stages[k];
    let (slots, strategy) = match &plan.ops[op_idx] {
        Op::Impute {
            slots, strategy, ..
        } => (slots.clone(), strategy.clone()),
        _ => return Err(CleanseError::Internal("stage is not an impute op".into())),
    };
    let mut collectors: Vec<Collector> = slots
        .iter()
        .map(|_| match strategy {
            Strategy::Mean => Collector::Mean(MeanSum::default()),
            Strategy::Median => Collector::Median(QuantileSketch::new(MEDIAN_EXACT_CAP)),
            _ => Collector::Mode(HeavyHitters::new(MODE_CAPACITY, 4096)),
        })
        .collect();
    let needed = needed_ops(&plan.ops, op_idx, &slots);
    let ncols = plan.input_names.len();
    {
        let plan: &Plan = plan;
        let split = plan.first_dedupe.min(op_idx);
        let parser = rdr.chunk_parser();
        let nslots = slots.len();
        let numeric = matches!(strategy, Strategy::Mean | Strategy::Median);
        let mut cexec = Exec::new(plan);
        let mut crow = Row::default();
        let mut scratch = StatsChunk {
            vals: vec![Vec::new(); nslots],
            keys: vec![Default::default(); nslots],
            ..StatsChunk::default()
        };
        rdr.par_chunks(
            workers(),
            || (Exec::new(plan), parser.clone(), Row::default()),
            || StatsChunk {
                vals: vec![Vec::new(); nslots],
                keys: vec![Default::default(); nslots],
                ..StatsChunk::default()
            },
            |(exec, parser, row), chunk, out: &mut StatsChunk| {
                out.vals.iter_mut().for_each(Vec::clear);
                out.keys.iter_mut().for_each(|(b, e)| {
                    b.clear();
                    e.clear();
                });
                out.arena.clear();
                out.stored.clear();
                let mut at = ChunkPos::start(chunk);
                while let Some(next) = parser.next(chunk, &mut at, &mut row.rec) {
                    if next != Next::Record {
                        continue;
                    }
                    row.load();
                    if exec.apply(row, 0, split, Some(&needed)).is_err() {
                        continue;
                    }
                    if split == op_idx {
                        if numeric {
                            // (the strategy's match hoisted out of the per-value loop)
                            for (v, &s) in out.vals.iter_mut().zip(&slots) {
                                match row.cells[s] {
                                    Cell::Int(x) => v.push(x as f64),
                                    Cell::Float(x, ..) => v.push(x),
                                    _ => {}
                                }
                            }
                        } else {
                            for (i, &s) in slots.iter().enumerate() {
                                collect_cell(row, row.cells[s], i, &strategy, out);
                            }
                        }
                    } else {
                        let st = out.arena.store(row);
                        out.stored.push(st);
                    }
                }
            },
            |_, res: &mut StatsChunk| -> Result<(), CleanseError> {
                let mut push = |res: &StatsChunk| {
                    for (i, c) in collectors.iter_mut().enumerate() {
                        match c {
                            Collector::Mean(m) => m.extend(&res.vals[i]),
                            Collector::Median(q) => res.vals[i].iter().for_each(|&v| q.push(v)),
                            Collector::Mode(h) => {
                                let (bytes, ends) = &res.keys[i];
                                let mut a = 0usize;
                                for &e in ends {
                                    h.push(&bytes[a..e as usize]);
                                    a = e as usize;
                                }
                            }
                        }
                    }
                };
                if split == op_idx {
                    push(res);
                    return Ok(());
                }
                // in order: the rest of the ops before the imputation, one row at a time
                for st in &res.stored {
                    res.arena.load(st, ncols, &mut crow);
                    scratch.vals.iter_mut().for_each(Vec::clear);
                    scratch.keys.iter_mut().for_each(|(b, e)| {
                        b.clear();
                        e.clear();
                    });
                    if cexec.apply(&mut crow, split, op_idx, Some(&needed)).is_ok() {
                        for (i, &s) in slots.iter().enumerate() {
                            collect_cell(&crow, crow.cells[s], i, &strategy, &mut scratch);
                        }
                        push(&scratch);
                    }
                }
                Ok(())
            },
        )?;
    }
    set_fills(plan, op_idx, &slots, &collectors);
    Ok(())
}

/// Sets the fills of the impute op `op_idx` from its statistics.
fn set_fills(plan: &mut Plan, op_idx: usize, slots: &[usize], collectors: &[Collector]) {
    let types: Vec<Ty> = {
        // the column types at this op: recompute from the ops before it
        let mut t: Vec<Ty> = vec![None; plan.input_names.len()];
        for op in &plan.ops[..op_idx] {
            match op {
                Op::Coerce { slots, .. } => slots.iter().for_each(|&(s, ty)| t[s] = Some(ty)),
                Op::Encode { slots, .. } => slots.iter().for_each(|&s| t[s] = Some(ValueType::Int)),
                _ => {}
            }
        }
        t
    };
    let fills: Vec<Fill> = collectors
        .iter()
        .zip(slots)
        .map(|(c, &s)| {
            let num = |v: Option<f64>| match (v, types[s]) {
                (None, _) => Fill::None,
                (Some(v), Some(ValueType::Int)) => Fill::Cell(Cell::Int(v.round() as i64)),
                (Some(v), _) => Fill::Cell(Cell::Float(v, 0, 0)),
            };
            match c {
                Collector::Mean(m) => num(m.mean()),
                Collector::Median(q) => num(q.quantile(0.5)),
                Collector::Mode(h) => match h.top(1).first() {
                    None => Fill::None,
                    Some((k, _)) => decode_key(k),
                },
            }
        })
        .collect();
    if let Op::Impute { fills: f, .. } = &mut plan.ops[op_idx] {
        *f = fills;
    }
}

/// The ops before `upto` that a statistics pass must run for the values of `target` slots: those
/// that can drop a row, and those that change a slot read by a needed op or by the statistics.
/// The others (e.g. `case` on a column the statistics never see) are skipped in that pass.
fn needed_ops(ops: &[Op], upto: usize, target: &[usize]) -> Vec<bool> {
    let mut slots_needed: HashSet<usize> = target.iter().copied().collect();
    let mut needed = vec![false; upto];
    for i in (0..upto).rev() {
        let (slots, drops): (Vec<usize>, bool) = match &ops[i] {
            Op::Trim(s) | Op::Case { slots: s, .. } | Op::NullMarkers { slots: s, .. } => {
                (s.clone(), false)
            }
            Op::Impute { slots: s, .. } => (s.clone(), false),
            Op::Required(s) | Op::Dedupe { slots: s } => (s.clone(), true),
            Op::Coerce { slots, drop } => (slots.iter().map(|&(s, _)| s).collect(), *drop),
            Op::Range { slots, action, .. } => (slots.clone(), *action == OnFail::Drop),
            Op::Allowed { slots, drop, .. } | Op::Encode { slots, drop, .. } => {
                (slots.clone(), *drop)
            }
        };
        if drops || slots.iter().any(|s| slots_needed.contains(s)) {
            needed[i] = true;
            slots_needed.extend(slots);
        }
    }
    needed
}

fn encode_key(row: &Row, c: Cell, key: &mut Vec<u8>) {
    match c {
        Cell::Null => {}
        Cell::Text(a, b) | Cell::Num(a, b) | Cell::Json(a, b) => {
            key.push(b't');
            key.extend_from_slice(row.bytes(a, b));
        }
        Cell::Int(i) => {
            key.push(b'i');
            key.extend_from_slice(&i.to_le_bytes());
        }
        Cell::Float(f, ..) => {
            key.push(b'f');
            key.extend_from_slice(&(if f == 0.0 { 0.0f64 } else { f }).to_bits().to_le_bytes());
        }
        Cell::Bool(b) => key.extend_from_slice(&[b'b', b as u8]),
        Cell::Ts(t) => {
            key.push(b's');
            key.extend_from_slice(&t.secs.to_le_bytes());
            key.extend_from_slice(&t.nanos.to_le_bytes());
            key.push(t.utc as u8);
        }
    }
}

fn decode_key(k: &[u8]) -> Fill {
    let le8 = |b: &[u8]| -> [u8; 8] {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        a
    };
    match k.split_first() {
        Some((b't', rest)) => Fill::Text(rest.to_vec()),
        Some((b'i', rest)) if rest.len() == 8 => {
            Fill::Cell(Cell::Int(i64::from_le_bytes(le8(rest))))
        }
        Some((b'f', rest)) if rest.len() == 8 => Fill::Cell(Cell::Float(
            f64::from_bits(u64::from_le_bytes(le8(rest))),
            0,
            0,
        )),
        Some((b'b', rest)) if rest.len() == 1 => Fill::Cell(Cell::Bool(rest[0] == 1)),
        Some((b's', rest)) if rest.len() == 13 => {
            let mut n = [0u8; 4];
            n.copy_from_slice(&rest[8..12]);
            Fill::Cell(Cell::Ts(Timestamp {
                secs: i64::from_le_bytes(le8(rest)),
                nanos: u32::from_le_bytes(n),
                utc: rest[12] == 1,
            }))
        }
        _ => Fill::None,
    }
}

fn fill_json(f: &Fill) -> Value {
    match f {
        Fill::None => Value::Null,
        Fill::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        Fill::Cell(c) => match *c {
            Cell::Int(i) => Value::from(i),
            Cell::Float(f, ..) => Value::from(f),
            Cell::Bool(b) => Value::Bool(b),
            Cell::Ts(t) => Value::String(t.to_string()),
            _ => Value::Null,
        },
    }
}

/// Where a chunk's row went, for the in-order stage of the writing pass.
#[derive(Debug, Clone, Copy)]
enum Pend {
    /// Rejected by a worker: its rejects line ends at this offset of the chunk's rejects bytes.
    Rejected(u32),
    /// The first `dedupe` is the last op: the row's fingerprint for it, where its output line
    /// ends in the chunk's output bytes, and where its record starts in the chunk (to parse it
    /// again for a rejects line).
    Fingerprint {
        fp: u128,
        out_end: u32,
        at: (usize, u64),
    },
    /// Ops run after the first `dedupe`: the row, stored.
    Row(Stored),
    /// One pass ([`one_pass`]): a row with a null to impute, its output line (holes where the
    /// imputed values go) at `out_start..out_end` of the chunk's output bytes, its hole record
    /// ending at `holes_end` of the chunk's hole bytes.
    Hole {
        out_start: u32,
        out_end: u32,
        holes_end: u32,
        keys_end: u32,
    },
}

/// The in-order stage warms the dedupe set's slots this many rows ahead, this many at a time.
const WARM: usize = 16;

/// The writing pass's result for a chunk.
#[derive(Debug, Default)]
struct WriteChunk {
    out: Vec<u8>,
    rej: Vec<u8>,
    rows: Vec<Pend>,
    arena: Arena,
    rows_in: u64,
    rows_out: u64,
    rejected: u64,
    padded: u64,
    truncated: u64,
    malformed: [u64; 5],
    /// One pass: per imputed column, its values (in row order) for the statistics.
    vals: Vec<Vec<f64>>,
    /// One pass: the hole records of the chunk's [`Pend::Hole`] rows, and their fingerprints
    /// without the holes' parts (16 bytes) and holes (8 bytes).
    holes: Vec<u8>,
    keys: Vec<u8>,
    /// One pass: per imputed column, the rows with a hole in it.
    hole_counts: Vec<u64>,
    /// One pass: the ops' counts for this chunk.
    counts: Vec<Counts>,
}

impl WriteChunk {
    /// Counts a record with too many fields (truncated) or too few (padded).
    fn count_ragged(&mut self, rec: &Record, ncols: usize) {
        if let Some(from) = rec.ragged_from {
            if from > ncols {
                self.truncated += 1;
            } else {
                self.padded += 1;
            }
        }
    }

    /// Counts a malformed record and writes its reject line (the record itself is left out when
    /// it is over the size limit).
    fn reject_malformed(&mut self, rec: &Record, m: &Malformed, delim: u8) {
        self.rejected += 1;
        self.malformed[malformed_index(m.kind)] += 1;
        let record = if m.kind == MalformedKind::RecordTooLarge {
            String::new()
        } else {
            rec.to_csv_lossy(delim, REJECT_RECORD_LIMIT)
        };
        write_reject(
            &mut self.rej,
            &Reject {
                line: rec.line,
                reason: m.kind.as_str(),
                detail: &m.detail,
                rule: None,
                record: &record,
            },
        );
    }
}

fn malformed_index(k: MalformedKind) -> usize {
    match k {
        MalformedKind::WrongColumnCount => 0,
        MalformedKind::InvalidUtf8 => 1,
        MalformedKind::FieldTooLarge => 2,
        MalformedKind::RecordTooLarge => 3,
        MalformedKind::InvalidJson => 4,
    }
}

const MALFORMED_KINDS: [MalformedKind; 5] = [
    MalformedKind::WrongColumnCount,
    MalformedKind::InvalidUtf8,
    MalformedKind::FieldTooLarge,
    MalformedKind::RecordTooLarge,
    MalformedKind::InvalidJson,
];

/// The rejects line of a row that the in-order stage found to duplicate an earlier one (dropped
/// by op `op`). Workers keep only its fingerprint, so its record is parsed again from `chunk`
/// at byte `pos` (line `line`) into `row`.
#[allow(clippy::too_many_arguments)]
fn reject_duplicate(
    exec: &Exec<'_>,
    parser: &mut ChunkParser,
    chunk: &Chunk,
    (pos, line): (usize, u64),
    row: &mut Row,
    op: usize,
    delim: u8,
    out: &mut Vec<u8>,
) {
    let mut at = ChunkPos { pos, line };
    parser.next(chunk, &mut at, &mut row.rec);
    let d = Dropped {
        op,
        slot: usize::MAX,
    };
    reject_dropped(exec, row, d, delim, out);
}

/// Every [`WARM`] rows, warms `set`'s slots for the fingerprints (`fp` of a row, if it has one)
/// of the [`WARM`] rows after the next [`WARM`] (the lookups then find them in cache).
fn warm_ahead<T>(set: &FingerprintSet, rows: &[T], k: usize, fp: impl Fn(&T) -> Option<u128>) {
    if k % WARM != 0 {
        return;
    }
    let ahead = rows.get(k + WARM..k + 2 * WARM).unwrap_or_default();
    set.warm(ahead.iter().filter_map(fp));
}

/// The fingerprint of an in-order stage's row, if it has one.
fn pend_fp(p: &Pend) -> Option<u128> {
    match *p {
        Pend::Fingerprint { fp, .. } => Some(fp),
        _ => None,
    }
}

/// Writes the rejects line of a row an op dropped.
fn reject_dropped(exec: &Exec<'_>, row: &Row, d: Dropped, delim: u8, out: &mut Vec<u8>) {
    let reason = exec.drop_reason(row, d);
    let rule = exec.plan.op_rule[d.op];
    let (name, ptr) = &exec.plan.rule_meta[rule];
    let record = row.rec.to_csv_lossy(delim, REJECT_RECORD_LIMIT);
    write_reject(
        out,
        &Reject {
            line: row.rec.line,
            reason: name,
            detail: &reason,
            rule: Some(ptr),
            record: &record,
        },
    );
}

/// The JSON Lines output's keys (`"name":`), per output column.
fn json_keys(plan: &Plan) -> Vec<Vec<u8>> {
    plan.out_names
        .iter()
        .map(|n| {
            let mut k = Vec::new();
            write_json_string(&mut k, n.as_bytes());
            k.push(b':');
            k
        })
        .collect()
}

/// The CSV header line, when configured.
fn write_header(plan: &Plan, out: &mut Vec<u8>) {
    if plan.header && plan.out_format == OutputFormat::Csv {
        for (i, n) in plan.out_names.iter().enumerate() {
            if i > 0 {
                out.push(plan.delimiter);
            }
            write_csv_field(out, n.as_bytes(), plan.delimiter);
        }
        out.push(b'\n');
    }
}

/// The final pass: applies every op and writes the output and the rejects. Workers parse
/// chunks and run the ops before the first `dedupe` in parallel (formatting the output lines
/// when nothing follows it); the calling thread runs the `dedupe` and the ops after it in input
/// order and writes both objects in input order.
pub(crate) fn write_pass<R: Read + Send, W: Write, J: Write>(
    plan: &mut Plan,
    rdr: &mut RecordReader<R>,
    output: W,
    rejects: J,
) -> Result<Report, CleanseError> {
    let plan: &Plan = plan;
    let mut out = Sink::new(output);
    let mut rej = Sink::new(rejects);
    write_header(plan, &mut out.buf);
    let mut total = WriteChunk::default();
    let mut cexec = Exec::new(plan);
    let counts = write_body(plan, rdr, &mut out, &mut rej, &mut cexec, &mut total, None)?;
    let dedupe_bytes: usize = cexec.dedupe.iter().map(|d| d.heap_bytes()).sum();
    drop(cexec);
    let bytes_in = rdr.bytes_read();
    finish(plan, &total, &counts, dedupe_bytes, bytes_in, 2, out, rej)
}

/// The writing pass's work between the header and the report: every chunk of `rdr`, in order,
/// into `out` and `rej`; `cexec` runs the in-order ops (its dedupe sets may already hold rows),
/// `total` adds up the rows. Returns the ops' counts (`cexec`'s and the workers').
fn write_body<'p, R: Read + Send, W: Write, J: Write>(
    plan: &'p Plan,
    rdr: &mut RecordReader<R>,
    out: &mut Sink<W>,
    rej: &mut Sink<J>,
    cexec: &mut Exec<'p>,
    total: &mut WriteChunk,
    split_keys: Option<&SplitKey>,
) -> Result<Vec<Counts>, CleanseError> {
    let json_keys = json_keys(plan);
    let ncols = plan.input_names.len();
    let delim = plan.input_delimiter;
    let nops = plan.ops.len();
    let split = plan.first_dedupe;
    let fast = split + 1 == nops;
    let dedupe_slots: &[usize] = match plan.ops.get(split) {
        Some(Op::Dedupe { slots }) => slots,
        _ => &[],
    };
    let mut crow = Row::default();
    let mut cparser = rdr.chunk_parser();
    let parser = cparser.clone();
    let json_keys = &json_keys;
    let states = rdr.par_chunks(
        workers(),
        || (Exec::new(plan), parser.clone(), Row::default(), Vec::new()),
        WriteChunk::default,
        |(exec, parser, row, key), chunk, r: &mut WriteChunk| {
            r.out.clear();
            r.rej.clear();
            r.rows.clear();
            r.arena.clear();
            (r.rows_in, r.rows_out, r.rejected, r.padded, r.truncated) = (0, 0, 0, 0, 0);
            r.malformed = [0; 5];
            let mut at = ChunkPos::start(chunk);
            loop {
                let start = (at.pos, at.line);
                let Some(next) = parser.next(chunk, &mut at, &mut row.rec) else {
                    break;
                };
                r.rows_in += 1;
                if let Next::Malformed(m) = &next {
                    r.reject_malformed(&row.rec, m, delim);
                    if split < nops {
                        r.rows.push(Pend::Rejected(r.rej.len() as u32));
                    }
                    continue;
                }
                r.count_ragged(&row.rec, ncols);
                row.load();
                match exec.apply(row, 0, split, None) {
                    Err(d) => {
                        r.rejected += 1;
                        reject_dropped(exec, row, d, delim, &mut r.rej);
                        if split < nops {
                            r.rows.push(Pend::Rejected(r.rej.len() as u32));
                        }
                    }
                    Ok(()) if split == nops => {
                        r.rows_out += 1;
                        write_row(plan, row, &mut r.out, json_keys);
                    }
                    Ok(()) if fast => {
                        let fp = match split_keys {
                            // (after a one pass: its fingerprints)
                            Some(sk) => split_fp(row, sk, 0),
                            None => {
                                dedupe_key(row, dedupe_slots, key);
                                xxhash_rust::xxh3::xxh3_128(key)
                            }
                        };
                        write_row(plan, row, &mut r.out, json_keys);
                        r.rows.push(Pend::Fingerprint {
                            fp,
                            out_end: r.out.len() as u32,
                            at: start,
                        });
                    }
                    Ok(()) => {
                        let st = r.arena.store(row);
                        r.rows.push(Pend::Row(st));
                    }
                }
            }
        },
        |chunk, r: &mut WriteChunk| -> Result<(), CleanseError> {
            total.rows_in += r.rows_in;
            total.rows_out += r.rows_out;
            total.rejected += r.rejected;
            total.padded += r.padded;
            total.truncated += r.truncated;
            for (t, c) in total.malformed.iter_mut().zip(r.malformed) {
                *t += c;
            }
            if split == nops {
                out.buf.extend_from_slice(&r.out);
                rej.buf.extend_from_slice(&r.rej);
                out.maybe_flush().map_err(io_err)?;
                rej.maybe_flush().map_err(io_err)?;
                return Ok(());
            }
            let (mut op, mut rp) = (0usize, 0usize);
            // output lines are copied in runs (up to the next duplicate)
            let mut run = 0usize;
            for (k, p) in r.rows.iter().enumerate() {
                if fast {
                    warm_ahead(&cexec.dedupe[split], &r.rows, k, pend_fp);
                }
                match *p {
                    Pend::Rejected(end) => {
                        rej.buf.extend_from_slice(&r.rej[rp..end as usize]);
                        rp = end as usize;
                    }
                    Pend::Fingerprint { fp, out_end, at } => {
                        if cexec.dedupe[split].insert(fp) {
                            total.rows_out += 1;
                        } else {
                            out.buf.extend_from_slice(&r.out[run..op]);
                            run = out_end as usize;
                            cexec.counts[split].dropped += 1;
                            total.rejected += 1;
                            reject_duplicate(
                                cexec,
                                &mut cparser,
                                chunk,
                                at,
                                &mut crow,
                                split,
                                delim,
                                &mut rej.buf,
                            );
                        }
                        op = out_end as usize;
                    }
                    Pend::Hole { .. } => {
                        return Err(CleanseError::Internal(
                            "a one-pass row reached the writing pass".into(),
                        ))
                    }
                    Pend::Row(st) => {
                        r.arena.load(&st, ncols, &mut crow);
                        match cexec.apply(&mut crow, split, nops, None) {
                            Ok(()) => {
                                total.rows_out += 1;
                                write_row(plan, &crow, &mut out.buf, json_keys);
                            }
                            Err(d) => {
                                total.rejected += 1;
                                reject_dropped(cexec, &crow, d, delim, &mut rej.buf);
                            }
                        }
                    }
                }
                if out.buf.len() >= FLUSH_AT || rej.buf.len() >= FLUSH_AT {
                    out.buf.extend_from_slice(&r.out[run..op]);
                    run = op;
                    out.maybe_flush().map_err(io_err)?;
                    rej.maybe_flush().map_err(io_err)?;
                }
            }
            out.buf.extend_from_slice(&r.out[run..op]);
            out.maybe_flush().map_err(io_err)?;
            rej.maybe_flush().map_err(io_err)?;
            Ok(())
        },
    )?;
    let mut counts = cexec.counts.clone();
    for (exec, ..) in &states {
        for (t, c) in counts.iter_mut().zip(&exec.counts) {
            t.changed += c.changed;
            t.dropped += c.dropped;
        }
    }
    Ok(counts)
}

/// Bytes each spool of [`one_pass`] keeps in memory before moving to a temporary file.
pub const SPOOL_MEMORY: usize = 2 << 20;
/// The most [`one_pass`] spools in all (output, rejects, hole records, their fingerprints): a bound on
/// the temporary files (Lambda's `/tmp` holds 512 MB by default). The chunks after it take a
/// statistics pass and a writing pass (about the first 170 MB of a CSV like the benchmark's are
/// done in one pass).
pub const SPOOL_LIMIT: u64 = 256 << 20;

#[cfg(test)]
thread_local! {
    /// Tests: the spools' memory bound and total limit on this thread (0 = the defaults), and
    /// whether `run_passes` may make one pass.
    /// Tests: how the last `one_pass` on this thread ended (1 = one pass, 2 = back to two
    /// passes, 3 = one pass up to the spool limit and a writing pass of the rest).
    static TEST_ENDED: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
    static TEST_SPOOL: std::cell::Cell<(usize, u64, bool)> =
        const { std::cell::Cell::new((0, 0, true)) };
}

fn spool_limits() -> (usize, u64) {
    #[cfg(test)]
    {
        let (m, l, _) = TEST_SPOOL.with(|t| t.get());
        if l > 0 {
            return (m, l);
        }
    }
    (SPOOL_MEMORY, SPOOL_LIMIT)
}

/// What [`one_pass`] did.
pub(crate) enum OnePass {
    /// The output and rejects are written.
    Done(Report),
    /// Nothing was written, the statistics are set: make the writing pass.
    TwoPasses,
}

impl Plan {
    /// Whether [`one_pass`] serves this plan: one mean/median imputation, before the first
    /// `dedupe` (the last op) or with no `dedupe`, and between them only `range` rules that clip
    /// or null (whose result on an imputed value depends on that value alone).
    pub(crate) fn one_pass_ok(&self) -> bool {
        #[cfg(test)]
        if !TEST_SPOOL.with(|t| t.get().2) {
            return false;
        }
        let nops = self.ops.len();
        let split = self.first_dedupe;
        let [stage] = self.stages[..] else {
            return false;
        };
        matches!(
            &self.ops[stage],
            Op::Impute { strategy: Strategy::Mean | Strategy::Median, slots, .. } if slots.len() <= 64
        ) && stage < split
            && (split == nops || split + 1 == nops)
            && self.ops[stage + 1..split].iter().all(|o| {
                matches!(
                    o,
                    Op::Range {
                        action: OnFail::Clip | OnFail::Null,
                        ..
                    }
                )
            })
    }
}

/// Reads the records of a spool (hole records, their fingerprints) a block at a time.
struct Blocks<'a> {
    r: crate::spool::SpoolReader<'a>,
    buf: Vec<u8>,
    /// The unread bytes are `buf[pos..len]`.
    pos: usize,
    len: usize,
}

impl<'a> Blocks<'a> {
    fn new(r: crate::spool::SpoolReader<'a>) -> Self {
        Blocks {
            r,
            buf: vec![0; 1 << 18],
            pos: 0,
            len: 0,
        }
    }

    /// The next `n` bytes.
    #[inline]
    fn take(&mut self, n: usize) -> std::io::Result<&[u8]> {
        if self.len - self.pos < n {
            self.buf.copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
            if self.buf.len() < n {
                self.buf.resize(n, 0);
            }
            while self.len < n {
                match self.r.read(&mut self.buf[self.len..]) {
                    Ok(0) => {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "the spool ended early",
                        ))
                    }
                    Ok(k) => self.len += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        self.pos += n;
        Ok(&self.buf[self.pos - n..self.pos])
    }

    fn u32(&mut self) -> std::io::Result<u32> {
        let mut w = [0u8; 4];
        w.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(w))
    }
}

/// A hole record (what the end of [`one_pass`] needs of a row with a null to impute, besides its
/// dedupe key). In the spool, after its length (u32): `out_pos u64, rej_pos u64, line u64,
/// line_len u32, raw_len u32, n u32, n × (start u32, end u32, k u32), raw bytes`.
#[derive(Debug, Default)]
struct HoleRec {
    /// Where its output line starts in the output spool, and its length.
    out_pos: u64,
    line_len: u32,
    /// Where its rejects line would go in the rejects spool.
    rej_pos: u64,
    /// Its record's line and bytes (parsed again for a rejects line).
    line: u64,
    raw: Vec<u8>,
    /// Per hole in the output line: start, end (in the line) and imputed column.
    out_holes: Vec<(u32, u32, u32)>,
}

fn put_u32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

/// A cursor over one spool record.
struct Cur<'a>(&'a [u8]);

impl<'a> Cur<'a> {
    #[inline(always)]
    fn bytes(&mut self, n: usize) -> std::io::Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(std::io::Error::other("a bad record in the spool"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    #[inline(always)]
    fn u32(&mut self) -> std::io::Result<u32> {
        let mut w = [0u8; 4];
        w.copy_from_slice(self.bytes(4)?);
        Ok(u32::from_le_bytes(w))
    }

    #[inline(always)]
    fn u64(&mut self) -> std::io::Result<u64> {
        let mut w = [0u8; 8];
        w.copy_from_slice(self.bytes(8)?);
        Ok(u64::from_le_bytes(w))
    }
}

/// The next length-prefixed record of a spool.
fn record<'b>(r: &'b mut Blocks<'_>) -> std::io::Result<Cur<'b>> {
    let len = r.u32()? as usize;
    Ok(Cur(r.take(len)?))
}

impl HoleRec {
    fn read(&mut self, r: &mut Blocks<'_>) -> std::io::Result<()> {
        let mut c = record(r)?;
        self.out_pos = c.u64()?;
        self.rej_pos = c.u64()?;
        self.line = c.u64()?;
        self.line_len = c.u32()?;
        let raw = c.u32()? as usize;
        let n = c.u32()? as usize;
        self.out_holes.clear();
        for _ in 0..n {
            self.out_holes.push((c.u32()?, c.u32()?, c.u32()?));
        }
        self.raw.clear();
        self.raw.extend_from_slice(c.bytes(raw)?);
        Ok(())
    }
}

/// Appends a hole row's output line with the imputed values' texts in its holes.
#[inline]
fn fill_line(
    out: &mut Vec<u8>,
    line: &[u8],
    holes: &[(u32, u32, u32)],
    texts: &[Vec<u8>],
) -> Result<(), CleanseError> {
    let mut prev = 0usize;
    for &(a, b, k) in holes {
        match (line.get(prev..a as usize), texts.get(k as usize)) {
            (Some(l), Some(t)) => {
                out.extend_from_slice(l);
                out.extend_from_slice(t);
            }
            _ => return Err(CleanseError::Internal("a bad hole record".into())),
        }
        prev = b as usize;
    }
    out.extend_from_slice(line.get(prev..).unwrap_or_default());
    Ok(())
}

/// `to - from` for spool offsets (an error, not a panic, if a spool record is bad).
fn gap(to: u64, from: u64) -> Result<u64, CleanseError> {
    to.checked_sub(from)
        .ok_or_else(|| CleanseError::Internal("a bad hole record in the spool".into()))
}

/// Whether `set` holds one of `fps` (the lookups [`WARM`] at a time, the next [`WARM`]'s slots
/// read first: their cache misses overlap).
fn clashes(set: &FingerprintSet, fps: &[u128]) -> bool {
    for (k, batch) in fps.chunks(WARM).enumerate() {
        if k == 0 {
            set.warm(batch.iter().copied());
        }
        if let Some(next) = fps.get((k + 1) * WARM..) {
            set.warm(next.iter().take(WARM).copied());
        }
        if batch.iter().any(|&fp| set.contains(fp)) {
            return true;
        }
    }
    false
}

/// Drops `t` on a thread of its own (not waited for), or here if no thread can be made.
fn drop_later<T: Send + 'static>(t: T) {
    let _ = std::thread::Builder::new()
        .name("cleanse-drop".into())
        .spawn(move || drop(t));
}

/// Moves `n` bytes from a spool to a [`Handoff`].
fn pour(
    r: &mut crate::spool::SpoolReader<'_>,
    mut n: u64,
    sink: &mut Handoff<'_>,
) -> Result<(), CleanseError> {
    use std::io::BufRead;
    while n > 0 {
        let avail = r.fill_buf().map_err(io_err)?;
        if avail.is_empty() {
            return Err(CleanseError::Internal("the spool ended early".into()));
        }
        let m = avail.len().min(usize::try_from(n).unwrap_or(usize::MAX));
        sink.buf.extend_from_slice(&avail[..m]);
        r.consume(m);
        sink.maybe_flush()?;
        n -= m as u64;
    }
    Ok(())
}

/// Bytes for the output (or the rejects) gathered in blocks and handed to the thread that writes
/// them; the writer hands emptied blocks back through `pool`.
struct Handoff<'a> {
    buf: Vec<u8>,
    rejects: bool,
    tx: std::sync::mpsc::SyncSender<(bool, Vec<u8>)>,
    pool: &'a std::sync::mpsc::Receiver<Vec<u8>>,
}

impl<'a> Handoff<'a> {
    fn new(
        rejects: bool,
        tx: std::sync::mpsc::SyncSender<(bool, Vec<u8>)>,
        pool: &'a std::sync::mpsc::Receiver<Vec<u8>>,
    ) -> Self {
        Handoff {
            buf: Vec::with_capacity(FLUSH_AT + 64 * 1024),
            rejects,
            tx,
            pool,
        }
    }

    /// Hands the block over when it is large.
    #[inline]
    fn maybe_flush(&mut self) -> Result<(), CleanseError> {
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands the block over (if not empty).
    fn flush(&mut self) -> Result<(), CleanseError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let next = self
            .pool
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(FLUSH_AT + 64 * 1024));
        let full = std::mem::replace(&mut self.buf, next);
        self.tx
            .send((self.rejects, full))
            .map_err(|_| CleanseError::Internal("the output writer stopped".into()))
    }
}

/// Mean/median imputation in **one pass** over the input (plans [`Plan::one_pass_ok`] accepts):
/// the workers run every op (the imputation has no values yet) and collect the statistics; a row
/// with nothing to impute is final (written, deduplicated in input order); a row with a null to
/// impute is written with holes where the imputed values go, and its dedupe fingerprint
/// without the holes' parts ([`split_fp`]: every row's fingerprint here). Output, rejects and
/// these hole records go to spools (memory, then a temporary file). At the end the imputed
/// values are known: each imputed column's final value (after the `range` rules) is one text
/// and one fingerprint part, filled into the holes; the hole rows are deduplicated among
/// themselves in input order, and everything is written out in input order.
///
/// When the spools would exceed [`SPOOL_LIMIT`], the chunks spooled so far are finished as above
/// and the rest of the input (`reopen`, skipping those chunks) takes a writing pass after the
/// statistics, deduplicated against every row already written.
///
/// The result is the two-pass result byte for byte. Where it could differ — a hole row's final
/// key equals a row without holes (which of them is first decides which is dropped), or the
/// temporary file fails — nothing has been written, the statistics are set, and it returns
/// [`OnePass::TwoPasses`]: the caller makes the usual writing pass.
pub(crate) fn one_pass<R: Read + Send, W: Write, J: Write>(
    plan: &mut Plan,
    rdr: &mut RecordReader<R>,
    mut reopen: impl FnMut(Option<(u64, u64)>) -> Result<RecordReader<R>, CleanseError>,
    output: W,
    rejects: J,
) -> Result<OnePass, CleanseError> {
    use crate::spool::Spool;
    use std::sync::atomic::{AtomicBool, Ordering};
    let stage = plan.stages[0];
    let (slots, strategy) = match &plan.ops[stage] {
        Op::Impute {
            slots, strategy, ..
        } => (slots.clone(), strategy.clone()),
        _ => return Err(CleanseError::Internal("stage is not an impute op".into())),
    };
    let mut collectors: Vec<Collector> = slots
        .iter()
        .map(|_| match strategy {
            Strategy::Median => Collector::Median(QuantileSketch::new(MEDIAN_EXACT_CAP)),
            _ => Collector::Mean(MeanSum::default()),
        })
        .collect();
    let nslots = slots.len();
    let ncols = plan.input_names.len();
    let delim = plan.input_delimiter;
    let nops = plan.ops.len();
    let split = plan.first_dedupe;
    let dedupe = split < nops;
    let (mem, limit) = spool_limits();
    let mut spools = Some([
        Spool::new(mem, limit),
        Spool::new(mem, limit),
        Spool::new(mem, limit),
        Spool::new(mem, limit),
    ]);
    let mut nholes = 0u64;
    // the first chunk left to a writing pass (the spools were full): its input offset and line
    let mut rest_from = None::<(u64, u64)>;
    let mut ccounts = vec![Counts::default(); nops];
    let stats_only = AtomicBool::new(false);
    let mut total = WriteChunk {
        hole_counts: vec![0; nslots],
        ..WriteChunk::default()
    };
    // per output column: its imputed column, if any
    let kof = |s: usize| slots.iter().position(|&t| t == s).map(|k| k as u16);
    let split_key = match plan.ops.get(split) {
        Some(Op::Dedupe { slots: d }) => SplitKey::new(d, &slots),
        _ => SplitKey::default(),
    };
    let (states, cexec) = {
        let plan: &Plan = plan;
        let json_keys = json_keys(plan);
        // per output column: its imputed column, if any
        let out_k: Vec<Option<u16>> = plan.out_slots.iter().map(|&s| kof(s)).collect();
        let mut cexec = Exec::new(plan);
        let mut crow = Row::default();
        let mut cparser = rdr.chunk_parser();
        let parser = cparser.clone();
        let (json_keys, slots, stats_only) = (&json_keys, &slots, &stats_only);
        let (out_k, split_key) = (&out_k, &split_key);
        let mut scratch = Vec::new();
        let states = rdr.par_chunks(
            workers(),
            || (Exec::new(plan), parser.clone(), Row::default(), Vec::new()),
            || WriteChunk {
                vals: vec![Vec::new(); nslots],
                hole_counts: vec![0; nslots],
                ..WriteChunk::default()
            },
            |(exec, parser, row, marks), chunk, r: &mut WriteChunk| {
                r.out.clear();
                r.rej.clear();
                r.rows.clear();
                r.holes.clear();
                r.keys.clear();
                r.vals.iter_mut().for_each(Vec::clear);
                r.hole_counts.iter_mut().for_each(|c| *c = 0);
                (r.rows_in, r.rows_out, r.rejected, r.padded, r.truncated) = (0, 0, 0, 0, 0);
                r.malformed = [0; 5];
                let only_stats = stats_only.load(Ordering::Relaxed);
                exec.counts.iter_mut().for_each(|c| *c = Counts::default());
                let mut at = ChunkPos::start(chunk);
                loop {
                    let start = (at.pos, at.line);
                    let Some(next) = parser.next(chunk, &mut at, &mut row.rec) else {
                        break;
                    };
                    if only_stats {
                        if next == Next::Record {
                            row.load();
                            if exec.apply(row, 0, stage, None).is_ok() {
                                for (v, &s) in r.vals.iter_mut().zip(slots) {
                                    match row.cells[s] {
                                        Cell::Int(x) => v.push(x as f64),
                                        Cell::Float(x, ..) => v.push(x),
                                        _ => {}
                                    }
                                }
                            }
                        }
                        continue;
                    }
                    r.rows_in += 1;
                    if let Next::Malformed(m) = &next {
                        r.reject_malformed(&row.rec, m, delim);
                        if dedupe {
                            r.rows.push(Pend::Rejected(r.rej.len() as u32));
                        }
                        continue;
                    }
                    r.count_ragged(&row.rec, ncols);
                    row.load();
                    let mut holes = 0u64;
                    let res = exec.apply(row, 0, stage, None).and_then(|()| {
                        for (k, (v, &s)) in r.vals.iter_mut().zip(slots).enumerate() {
                            match row.cells[s] {
                                Cell::Int(x) => v.push(x as f64),
                                Cell::Float(x, ..) => v.push(x),
                                Cell::Null => holes |= 1 << k,
                                _ => {}
                            }
                        }
                        exec.apply(row, stage, split, None)
                    });
                    if let Err(d) = res {
                        r.rejected += 1;
                        reject_dropped(exec, row, d, delim, &mut r.rej);
                        if dedupe {
                            r.rows.push(Pend::Rejected(r.rej.len() as u32));
                        }
                        continue;
                    }
                    if holes == 0 {
                        if !dedupe {
                            r.rows_out += 1;
                            write_row(plan, row, &mut r.out, json_keys);
                        } else {
                            let fp = split_fp(row, split_key, 0);
                            write_row(plan, row, &mut r.out, json_keys);
                            r.rows.push(Pend::Fingerprint {
                                fp,
                                out_end: r.out.len() as u32,
                                at: start,
                            });
                        }
                        continue;
                    }
                    for (k, c) in r.hole_counts.iter_mut().enumerate() {
                        *c += (holes >> k) & 1;
                    }
                    let is_hole = |k: Option<u16>| k.is_some_and(|k| (holes >> k) & 1 == 1);
                    let line_start = r.out.len() as u32;
                    write_row_marked(plan, row, &mut r.out, json_keys, marks);
                    let h = &mut r.holes;
                    put_u64(h, start.1);
                    put_u32(h, r.out.len() as u32 - line_start);
                    let raw = &chunk.data[start.0..at.pos];
                    put_u32(h, raw.len() as u32);
                    put_u32(h, out_k.iter().filter(|&&k| is_hole(k)).count() as u32);
                    for (&(a, b), &k) in marks.iter().zip(out_k) {
                        if let Some(k) = k.filter(|_| is_hole(k)) {
                            put_u32(h, a - line_start);
                            put_u32(h, b - line_start);
                            put_u32(h, k as u32);
                        }
                    }
                    h.extend_from_slice(raw);
                    if dedupe {
                        // the fingerprint without the holes' parts, and the holes
                        let fp = split_fp(row, split_key, holes);
                        r.keys.extend_from_slice(&fp.to_le_bytes());
                        put_u64(&mut r.keys, holes);
                    }
                    r.rows.push(Pend::Hole {
                        out_start: line_start,
                        out_end: r.out.len() as u32,
                        holes_end: h.len() as u32,
                        keys_end: r.keys.len() as u32,
                    });
                }
                r.counts.clone_from(&exec.counts);
            },
            |chunk, r: &mut WriteChunk| -> Result<(), CleanseError> {
                for (i, c) in collectors.iter_mut().enumerate() {
                    match c {
                        Collector::Mean(m) => m.extend(&r.vals[i]),
                        Collector::Median(q) => r.vals[i].iter().for_each(|&v| q.push(v)),
                        Collector::Mode(_) => {}
                    }
                }
                let Some([out, rej, hol, keys]) = &mut spools else {
                    return Ok(());
                };
                if rest_from.is_some() {
                    return Ok(());
                }
                let need = (r.out.len() + r.rej.len() + r.holes.len() + r.keys.len()) as u64
                    + 16 * r.rows.len() as u64;
                if out.len() + rej.len() + hol.len() + keys.len() + need > limit {
                    // the spools are full: the chunks so far are done in one pass; the rest is
                    // a statistics pass, then a writing pass from this chunk on
                    rest_from = Some((chunk.start, chunk.first_line));
                    stats_only.store(true, Ordering::Relaxed);
                    return Ok(());
                }
                for (t, c) in ccounts.iter_mut().zip(&r.counts) {
                    t.changed += c.changed;
                    t.dropped += c.dropped;
                }
                total.rows_in += r.rows_in;
                total.rows_out += r.rows_out;
                total.rejected += r.rejected;
                total.padded += r.padded;
                total.truncated += r.truncated;
                for (t, c) in total.malformed.iter_mut().zip(r.malformed) {
                    *t += c;
                }
                for (t, c) in total.hole_counts.iter_mut().zip(&r.hole_counts) {
                    *t += c;
                }
                let mut spool = || -> Result<(), crate::spool::SpoolFull> {
                    let (mut op, mut rp, mut run) = (0usize, 0usize, 0usize);
                    let (mut hp, mut kp) = (0usize, 0usize);
                    for (k, p) in r.rows.iter().enumerate() {
                        if dedupe {
                            warm_ahead(&cexec.dedupe[split], &r.rows, k, pend_fp);
                        }
                        match *p {
                            Pend::Rejected(end) => {
                                rej.push(&r.rej[rp..end as usize])?;
                                rp = end as usize;
                            }
                            Pend::Fingerprint { fp, out_end, at } => {
                                if cexec.dedupe[split].insert(fp) {
                                    total.rows_out += 1;
                                } else {
                                    out.push(&r.out[run..op])?;
                                    run = out_end as usize;
                                    cexec.counts[split].dropped += 1;
                                    total.rejected += 1;
                                    scratch.clear();
                                    reject_duplicate(
                                        &cexec,
                                        &mut cparser,
                                        chunk,
                                        at,
                                        &mut crow,
                                        split,
                                        delim,
                                        &mut scratch,
                                    );
                                    rej.push(&scratch)?;
                                }
                                op = out_end as usize;
                            }
                            Pend::Hole {
                                out_start,
                                out_end,
                                holes_end,
                                keys_end,
                            } => {
                                // (without dedupe the whole output is one run)
                                let (done, pending) = if dedupe {
                                    (out.len(), op - run)
                                } else {
                                    (out.len(), out_start as usize)
                                };
                                let mut head = [0u8; 20];
                                let rec = &r.holes[hp..holes_end as usize];
                                head[..4].copy_from_slice(&(16 + rec.len() as u32).to_le_bytes());
                                head[4..12].copy_from_slice(&(done + pending as u64).to_le_bytes());
                                head[12..].copy_from_slice(&rej.len().to_le_bytes());
                                hol.push(&head)?;
                                hol.push(rec)?;
                                hp = holes_end as usize;
                                keys.push(&r.keys[kp..keys_end as usize])?;
                                kp = keys_end as usize;
                                nholes += 1;
                                op = out_end as usize;
                            }
                            Pend::Row(_) => {}
                        }
                    }
                    if dedupe {
                        out.push(&r.out[run..op])?;
                    } else {
                        out.push(&r.out)?;
                        rej.push(&r.rej)?;
                    }
                    Ok(())
                };
                if spool().is_err() {
                    // the temporary file failed: finish as a statistics pass, then two passes
                    spools = None;
                    stats_only.store(true, Ordering::Relaxed);
                }
                Ok(())
            },
        )?;
        (states, cexec)
    };
    crate::trace::mark("pass: threads joined");
    let mut counts = cexec.counts.clone();
    for (t, c) in counts.iter_mut().zip(&ccounts) {
        t.changed += c.changed;
        t.dropped += c.dropped;
    }
    let mut seen = if dedupe {
        std::mem::take(&mut { cexec }.dedupe[split])
    } else {
        FingerprintSet::empty()
    };
    drop(states);
    set_fills(plan, stage, &slots, &collectors);
    let Some([mut out_sp, mut rej_sp, mut hol_sp, mut key_sp]) = spools else {
        #[cfg(test)]
        TEST_ENDED.with(|t| t.set(2));
        return Ok(OnePass::TwoPasses);
    };
    let plan: &Plan = plan;
    let cexec = Exec::new(plan);
    // each imputed column's final value (imputed, then the range rules), its text and key part;
    // and what one hole in it adds to the ops' counts
    let mut texts = Vec::with_capacity(nslots);
    let mut hole_parts = Vec::with_capacity(nslots);
    for (k, &s) in slots.iter().enumerate() {
        let mut fexec = Exec::new(plan);
        let mut row = Row {
            cells: vec![Cell::Bool(false); ncols],
            ..Row::default()
        };
        row.cells[s] = Cell::Null;
        if fexec.apply(&mut row, stage, split, None).is_err() {
            return Err(CleanseError::Internal(
                "a one-pass imputed value was dropped".into(),
            ));
        }
        let c = row.cells[s];
        let mut t = Vec::new();
        cell_text(plan, &row, c, &mut t);
        texts.push(t);
        // its part of a hole row's dedupe fingerprint: one per place in the key
        hole_parts.push(
            split_key
                .parts
                .iter()
                .filter(|p| p.1 == k as u16)
                .fold(0u128, |a, p| a.wrapping_add(part_fp(&p.2, &row, c))),
        );
        for (t, c) in counts.iter_mut().zip(&fexec.counts) {
            t.changed += c.changed * total.hole_counts[k];
        }
    }
    crate::trace::mark("end: imputed values");
    // the hole rows' fingerprints, completed
    let mut fps: Vec<u128> = Vec::new();
    if dedupe {
        fps.reserve_exact(nholes as usize);
        let mut kr = Blocks::new(key_sp.reader().map_err(io_err)?);
        for _ in 0..nholes {
            let mut c = Cur(kr.take(24).map_err(io_err)?);
            let (lo, hi) = (c.u64().map_err(io_err)?, c.u64().map_err(io_err)?);
            let holes = c.u64().map_err(io_err)?;
            fps.push(
                ((hi as u128) << 64 | lo as u128).wrapping_add(
                    hole_parts
                        .iter()
                        .enumerate()
                        .filter(|&(k, _)| (holes >> k) & 1 == 1)
                        .fold(0u128, |a, (_, &p)| a.wrapping_add(p)),
                ),
            );
        }
    }
    crate::trace::mark("end: hole fingerprints completed");
    let mut h = HoleRec::default();
    let mut out = Sink::new(output);
    let mut rej = Sink::new(rejects);
    write_header(plan, &mut out.buf);
    // Two threads from here. This one checks the hole rows against the rows without holes (one
    // with the same key: which came first decides, so back to two passes before anything is
    // written), then writes. The other deduplicates the hole rows among themselves in input
    // order, reads the spools and fills the holes, in blocks this one writes (reading and
    // writing overlap), then closes the spools.
    type Filled = (u64, u64, FingerprintSet, Vec<u128>);
    let filled = std::thread::scope(|scope| -> Result<Option<Filled>, CleanseError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(bool, Vec<u8>)>(4);
        let (pool_tx, pool_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        let (fps, texts) = (&fps, &texts);
        let mut cparser = rdr.chunk_parser();
        // (the check is split: this thread takes the first half of the hole rows, the other
        // thread the second half before it fills)
        let (mine, theirs) = fps.split_at(fps.len() / 2);
        let (clash_tx, clash_rx) = std::sync::mpsc::channel::<bool>();
        let seen_ref = &seen;
        let filler = scope.spawn(move || -> Result<Option<Filled>, CleanseError> {
            crate::trace::mark("end: filler starts");
            let clash = clashes(seen_ref, theirs);
            let _ = clash_tx.send(clash);
            if clash {
                return Ok(None);
            }
            let mut hset = FingerprintSet::empty();
            // (kept for the writing pass of the rest, if any: they join the dedupe set)
            let mut hole_fps = Vec::new();
            let pool = &pool_rx;
            let mut o = Handoff::new(false, tx.clone(), pool);
            let mut r = Handoff::new(true, tx, pool);
            let (olen, rlen) = (out_sp.len(), rej_sp.len());
            let mut orr = out_sp.reader().map_err(io_err)?;
            let mut rr = rej_sp.reader().map_err(io_err)?;
            let mut hr = Blocks::new(hol_sp.reader().map_err(io_err)?);
            let (mut odone, mut rdone) = (0u64, 0u64);
            let (mut rows_out, mut dropped) = (0u64, 0u64);
            let cexec = Exec::new(plan);
            let mut crow = Row::default();
            let mut chunk = crate::input::Chunk::default();
            for i in 0..nholes as usize {
                warm_ahead(&hset, fps, i, |&fp| Some(fp));
                h.read(&mut hr).map_err(io_err)?;
                pour(&mut orr, gap(h.out_pos, odone)?, &mut o)?;
                odone = h.out_pos + h.line_len as u64;
                let is_dup = match fps.get(i) {
                    Some(&fp) if dedupe => {
                        let new = hset.insert(fp);
                        if new && rest_from.is_some() {
                            hole_fps.push(fp);
                        }
                        !new
                    }
                    _ => false,
                };
                if is_dup {
                    orr.skip(h.line_len as u64).map_err(io_err)?;
                    pour(&mut rr, gap(h.rej_pos, rdone)?, &mut r)?;
                    rdone = h.rej_pos;
                    std::mem::swap(&mut chunk.data, &mut h.raw);
                    chunk.first_line = h.line;
                    chunk.kind = crate::input::ChunkKind::Records;
                    reject_duplicate(
                        &cexec,
                        &mut cparser,
                        &chunk,
                        (0, h.line),
                        &mut crow,
                        split,
                        delim,
                        &mut r.buf,
                    );
                    std::mem::swap(&mut chunk.data, &mut h.raw);
                    dropped += 1;
                    r.maybe_flush()?;
                } else {
                    use std::io::BufRead;
                    let len = h.line_len as usize;
                    if orr.fill_buf().map_err(io_err)?.len() >= len {
                        // (the usual case: the line is in the reader's buffer)
                        let avail = orr.fill_buf().map_err(io_err)?;
                        fill_line(&mut o.buf, &avail[..len], &h.out_holes, texts)?;
                        orr.consume(len);
                    } else {
                        let mut line = vec![0; len];
                        orr.read_exact(&mut line).map_err(io_err)?;
                        fill_line(&mut o.buf, &line, &h.out_holes, texts)?;
                    }
                    rows_out += 1;
                    o.maybe_flush()?;
                }
            }
            pour(&mut orr, gap(olen, odone)?, &mut o)?;
            pour(&mut rr, gap(rlen, rdone)?, &mut r)?;
            o.flush()?;
            r.flush()?;
            crate::trace::mark("end: filler done");
            drop((o, r, orr, rr, hr));
            // (closing the spools' files frees ~1.5x the output's size of pages: 20 ms per
            // 100 MB, while the rest finishes)
            drop_later((out_sp, rej_sp, hol_sp, key_sp));
            Ok(Some((rows_out, dropped, hset, hole_fps)))
        });
        let mut clash = clashes(&seen, mine);
        // (no answer: the other thread panicked, which its join reports)
        clash |= clash_rx.recv().unwrap_or(false);
        crate::trace::mark("end: hole rows checked against the others");
        if clash {
            drop(rx);
            let _ = filler.join();
            return Ok(None);
        }
        let mut written = Ok(());
        for (is_rej, mut b) in rx.iter() {
            let w = if is_rej {
                rej.write_direct(&b)
            } else {
                out.write_direct(&b)
            };
            if let Err(e) = w {
                written = Err(io_err(e));
                break;
            }
            b.clear();
            let _ = pool_tx.send(b);
        }
        drop(rx);
        let filled = filler
            .join()
            .map_err(|_| CleanseError::Internal("the spool reader panicked".into()))?;
        written?;
        filled
    })?;
    let Some((rows_out, dropped, hset, hole_fps)) = filled else {
        // a row without holes has a hole row's key: which came first decides
        #[cfg(test)]
        TEST_ENDED.with(|t| t.set(2));
        return Ok(OnePass::TwoPasses);
    };
    if let Some(c) = counts.get_mut(split) {
        c.dropped += dropped;
    }
    total.rejected += dropped;
    total.rows_out += rows_out;
    crate::trace::mark("end: spools written out");
    drop(cexec);
    let Some((from, from_line)) = rest_from else {
        let dedupe_bytes = seen.heap_bytes() + hset.heap_bytes();
        let bytes_in = rdr.bytes_read();
        return finish(plan, &total, &counts, dedupe_bytes, bytes_in, 1, out, rej).map(|r| {
            #[cfg(test)]
            TEST_ENDED.with(|t| t.set(1));
            OnePass::Done(r)
        });
    };
    // the rest of the input: a writing pass from the first chunk not spooled, deduplicating
    // against every row written so far
    drop(hset);
    let mut rdr = reopen(Some((from, from_line)))?;
    let mut cexec = Exec::new(plan);
    if dedupe {
        // (on one thread while the other core waits: the slots warmed ahead, as in the passes)
        for (i, &fp) in hole_fps.iter().enumerate() {
            warm_ahead(&seen, &hole_fps, i, |&fp| Some(fp));
            seen.insert(fp);
        }
        cexec.dedupe[split] = seen;
    }
    let more = write_body(
        plan,
        &mut rdr,
        &mut out,
        &mut rej,
        &mut cexec,
        &mut total,
        Some(&split_key),
    )?;
    for (t, c) in counts.iter_mut().zip(&more) {
        t.changed += c.changed;
        t.dropped += c.dropped;
    }
    let dedupe_bytes: usize = cexec.dedupe.iter().map(|d| d.heap_bytes()).sum();
    drop(cexec);
    let bytes_in = rdr.bytes_read();
    #[cfg(test)]
    TEST_ENDED.with(|t| t.set(3));
    finish(plan, &total, &counts, dedupe_bytes, bytes_in, 2, out, rej).map(OnePass::Done)
}

/// The report, once both outputs are written (the sinks are flushed here).
#[allow(clippy::too_many_arguments)]
fn finish<W: Write, J: Write>(
    plan: &Plan,
    total: &WriteChunk,
    counts: &[Counts],
    dedupe_bytes: usize,
    bytes_in: u64,
    passes: u32,
    out: Sink<W>,
    rej: Sink<J>,
) -> Result<Report, CleanseError> {
    let mut malformed: BTreeMap<&'static str, u64> = BTreeMap::new();
    for (k, c) in MALFORMED_KINDS.iter().zip(total.malformed) {
        if c > 0 {
            malformed.insert(k.as_str(), c);
        }
    }
    let mut rules: Vec<RuleReport> = plan
        .rule_meta
        .iter()
        .map(|(name, ptr)| RuleReport {
            rule: name.to_string(),
            pointer: ptr.clone(),
            changed: 0,
            dropped: 0,
        })
        .collect();
    for (oi, c) in counts.iter().enumerate() {
        let r = &mut rules[plan.op_rule[oi]];
        r.changed += c.changed;
        r.dropped += c.dropped;
    }
    let mut imputed = Vec::new();
    for (oi, op) in plan.ops.iter().enumerate() {
        if let Op::Impute {
            slots,
            strategy,
            fills,
        } = op
        {
            for (i, &s) in slots.iter().enumerate() {
                imputed.push(Imputed {
                    column: plan.slot_names[oi][s].clone(),
                    strategy: match strategy {
                        Strategy::Constant(_) => "constant",
                        Strategy::Mean => "mean",
                        Strategy::Median => "median",
                        Strategy::Mode => "mode",
                    }
                    .to_string(),
                    value: fill_json(&fills[i]),
                });
            }
        }
    }
    let (bytes_out, _) = out.finish().map_err(io_err)?;
    crate::trace::mark("finish: output flushed and dropped");
    let (rejects_bytes, _) = rej.finish().map_err(io_err)?;
    crate::trace::mark("finish: rejects flushed and dropped");
    let report = Report {
        rows_in: total.rows_in,
        rows_out: total.rows_out,
        rows_rejected: total.rejected,
        malformed,
        ragged_padded: total.padded,
        ragged_truncated: total.truncated,
        rules,
        imputed,
        columns: plan.schema(),
        passes: if passes == 1 { 1 } else { plan.passes() as u32 },
        bytes_in,
        bytes_out,
        rejects_bytes,
        dedupe_memory_bytes: dedupe_bytes as u64,
    };
    if total.rows_out < plan.min_rows_out {
        return Err(CleanseError::NoRows(Box::new(report)));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::{TEST_CHUNK_BYTES, TEST_ENDED, TEST_SPOOL};
    use crate::Config;
    use serde_json::json;

    /// Messy CSV: duplicates, null markers, bad numbers, ragged rows, quoted line breaks.
    fn messy(rows: usize) -> String {
        let mut s = String::from("id,cat,x,y,label\n");
        for i in 0..rows {
            let r = (i * 7919) % 101;
            let cat = match r % 5 {
                0 => " Red ".to_string(),
                1 => "\"multi\nline\"".to_string(),
                2 => "NA".to_string(),
                3 => "blue".to_string(),
                _ => format!("c{}", r % 3),
            };
            let x = match r % 11 {
                0 => String::new(),
                1 => "oops".into(),
                _ => format!("{}.{}", r, i % 10),
            };
            let label = if r % 13 == 0 { "" } else { "1" };
            if r % 17 == 0 {
                s.push_str(&format!("{},{cat},{x}\n", i % 50)); // ragged
            } else {
                // ids repeat, so some rows are exact duplicates
                s.push_str(&format!("{},{cat},{x},{},{label}\n", i % 50, r % 4));
            }
        }
        s
    }

    fn run(cfg: &Config, data: &str, chunk: usize) -> (Vec<u8>, Vec<u8>, crate::Report) {
        TEST_CHUNK_BYTES.with(|n| n.set(chunk));
        let (mut out, mut rej) = (Vec::new(), Vec::new());
        let report = crate::run_passes(cfg, || Ok(data.as_bytes()), &mut out, &mut rej)
            .expect("cleanse runs");
        TEST_CHUNK_BYTES.with(|n| n.set(0));
        (out, rej, report)
    }

    #[test]
    fn many_small_chunks_give_the_same_output_rejects_and_report() {
        let data = messy(3000);
        let head = json!([
            {"rule": "trim", "columns": ["cat"]},
            {"rule": "null_markers", "values": ["", "NA"]},
            {"rule": "required", "columns": ["label"]},
            {"rule": "coerce", "on_error": "drop", "columns": {"x": "float", "y": "int"}},
            {"rule": "impute", "strategy": "mean", "columns": ["x"]},
            {"rule": "range", "min": 0, "max": 60, "action": "clip", "columns": ["x"]}
        ]);
        let tails = [
            json!([]),                   // no dedupe: workers write
            json!([{"rule": "dedupe"}]), // dedupe last: fingerprints
            json!([{"rule": "dedupe", "columns": ["id", "x"]},
                   {"rule": "allowed", "columns": ["cat"], "values": ["red", "blue", "c1"]},
                   {"rule": "case", "columns": ["cat"], "to": "upper"}]), // ops after dedupe
        ];
        for tail in tails {
            let mut rules = head.as_array().unwrap().clone();
            rules.extend(tail.as_array().unwrap().iter().cloned());
            let cfg =
                Config::from_value(&json!({"input": {"ragged": "pad_truncate"}, "rules": rules}))
                    .expect("valid config");
            let whole = run(&cfg, &data, 0);
            assert!(
                whole.2.rows_rejected > 100 && whole.2.rows_out > 100,
                "{:?}",
                whole.2
            );
            for chunk in [1, 97, 4096] {
                let got = run(&cfg, &data, chunk);
                assert_eq!(
                    String::from_utf8_lossy(&got.0),
                    String::from_utf8_lossy(&whole.0),
                    "output, chunk {chunk}"
                );
                assert_eq!(
                    String::from_utf8_lossy(&got.1),
                    String::from_utf8_lossy(&whole.1),
                    "rejects, chunk {chunk}"
                );
                assert_eq!(got.2, whole.2, "report, chunk {chunk}");
            }
        }
    }

    /// Runs `cfg` with the spools' memory bound and limit (`one` false: the two-pass path).
    fn run_spool(
        cfg: &Config,
        data: &str,
        chunk: usize,
        spool: (usize, u64, bool),
    ) -> (Vec<u8>, Vec<u8>, crate::Report) {
        TEST_SPOOL.with(|t| t.set(spool));
        let r = run(cfg, data, chunk);
        TEST_SPOOL.with(|t| t.set((0, 0, true)));
        r
    }

    fn same(
        a: &(Vec<u8>, Vec<u8>, crate::Report),
        b: &(Vec<u8>, Vec<u8>, crate::Report),
        what: &str,
    ) {
        assert_eq!(
            String::from_utf8_lossy(&a.0),
            String::from_utf8_lossy(&b.0),
            "output, {what}"
        );
        assert_eq!(
            String::from_utf8_lossy(&a.1),
            String::from_utf8_lossy(&b.1),
            "rejects, {what}"
        );
        let (mut ra, mut rb) = (a.2.clone(), b.2.clone());
        (ra.passes, rb.passes) = (0, 0);
        (ra.dedupe_memory_bytes, rb.dedupe_memory_bytes) = (0, 0);
        assert_eq!(ra, rb, "report, {what}");
    }

    #[test]
    fn one_pass_imputation_gives_the_two_pass_output_rejects_and_counts() {
        // messy rows, then the records of its first half again (duplicates, holes among them)
        let mut data = messy(3000);
        let again: String = data.split_inclusive('\n').skip(1).take(1500).collect();
        data.push_str(&again);
        let head = json!([
            {"rule": "trim", "columns": ["cat"]},
            {"rule": "null_markers", "values": ["", "NA"]},
            {"rule": "required", "columns": ["label"]},
            {"rule": "coerce", "on_error": "drop", "columns": {"x": "float", "y": "int", "label": "int"}}
        ]);
        let cases = [
            // mean, clipped (the mean itself is clipped: below 30), dedupe last
            (
                json!([{"rule": "impute", "strategy": "mean", "columns": ["x", "y"]},
                    {"rule": "range", "min": 30, "max": 60, "action": "clip", "columns": ["x"]},
                    {"rule": "range", "min": 1, "max": 2, "action": "null", "columns": ["y"]},
                    {"rule": "dedupe"}]),
                json!({}),
                true,
            ),
            // median, dedupe on some columns, JSON Lines
            (
                json!([{"rule": "impute", "strategy": "median", "columns": ["x"]},
                    {"rule": "dedupe", "columns": ["id", "x"]}]),
                json!({"format": "jsonl"}),
                false,
            ),
            // no dedupe, SageMaker CSV with a header-less label-first layout
            (
                json!([{"rule": "impute", "strategy": "mean", "columns": ["x"]},
                    {"rule": "select", "columns": ["label", "x", "y"]}]),
                json!({"format": "sagemaker", "label": "label"}),
                true,
            ),
            // an int column's mean (rounded), the imputed column not in the output
            (
                json!([{"rule": "impute", "strategy": "mean", "columns": ["y", "x"]},
                    {"rule": "dedupe"},
                    {"rule": "select", "columns": ["id", "cat", "label"]}]),
                json!({"header": true}),
                false,
            ),
        ];
        // (the median and a rounded int mean are values some rows have: a hole row can equal a
        // row without holes, and those runs take two passes)
        for (tail, output, one_pass) in cases {
            let mut rules = head.as_array().unwrap().clone();
            rules.extend(tail.as_array().unwrap().iter().cloned());
            let cfg = Config::from_value(
                &json!({"input": {"ragged": "pad_truncate"}, "rules": rules, "output": output}),
            )
            .expect("valid config");
            let two = run_spool(&cfg, &data, 0, (0, 0, false));
            assert_eq!(two.2.passes, 2);
            assert!(
                two.2.rows_out > 100 && two.2.rows_rejected > 100,
                "{:?}",
                two.2
            );
            for chunk in [0, 97, 4096] {
                for mem in [0, 64, 1 << 20] {
                    let one = run_spool(&cfg, &data, chunk, (mem, u64::MAX, true));
                    if one_pass {
                        assert_eq!(one.2.passes, 1, "{tail}");
                        // rows with a hole that duplicate each other (x empty in the record)
                        let hole_dups = String::from_utf8_lossy(&one.1)
                            .lines()
                            .filter(|l| l.contains("\"dedupe\"") && l.contains(",,"))
                            .count();
                        assert!(hole_dups > 0 || !tail.to_string().contains("dedupe"));
                    }
                    same(&one, &two, &format!("{tail}, chunk {chunk}, memory {mem}"));
                }
            }
            // over the spool limit: the chunks before it in one pass, then a statistics pass and
            // a writing pass of the rest; the same result
            assert!(
                data.len() > 60_000,
                "the data is over the limits: {}",
                data.len()
            );
            for (chunk, limit) in [(4096, 2000), (4096, 15_000), (97, 15_000), (4096, 30_000)] {
                let over = run_spool(&cfg, &data, chunk, (64, limit, true));
                assert_eq!(over.2.passes, 2, "{tail}");
                same(
                    &over,
                    &two,
                    &format!("{tail}, chunk {chunk}, limit {limit}"),
                );
            }
        }
    }

    #[test]
    fn one_pass_dedupe_of_imputed_rows_matches_two_passes() {
        // x's mean is 2: rows with x null become "…,2", equal to rows with x = 2
        let cfg = || {
            Config::from_value(&json!({"rules": [
                {"rule": "null_markers"},
                {"rule": "coerce", "columns": {"x": "float"}},
                {"rule": "impute", "strategy": "mean", "columns": ["x"]},
                {"rule": "dedupe"}
            ]}))
            .unwrap()
        };
        let cases = [
            // hole rows duplicating each other only (kept: the first)
            "k,x\na,1\nb,\nb,\nc,3\nb,\n",
            // a hole row first, then a row with the mean itself: the later one is the duplicate
            "k,x\na,1\nb,\nb,2\nc,3\nb,2.0\n",
            // the row with the mean first, then the hole row
            "k,x\na,1\nb,2\nb,\nc,3\n",
        ];
        for data in cases {
            let c = cfg();
            let two = run_spool(&c, data, 0, (0, 0, false));
            assert!(two.2.rows_rejected >= 1, "{data}: {:?}", two.2);
            for mem in [0, 1 << 20] {
                let one = run_spool(&c, data, 0, (mem, u64::MAX, true));
                same(&one, &two, data);
            }
        }
        // JSON Lines input: imputed rows' records are parsed again for their rejects lines
        let jl = Config::from_value(&json!({"input": {"format": "jsonl"}, "rules": [
            {"rule": "coerce", "columns": {"x": "float"}},
            {"rule": "impute", "strategy": "mean", "columns": ["x"]},
            {"rule": "dedupe"}
        ]}))
        .unwrap();
        let data = "{\"k\":\"a\",\"x\":1}\n{\"k\":\"b\",\"x\":null}\n\n{\"x\":null,\"k\":\"b\"}\n{\"k\":\"c\",\"x\":3}\n{\"k\":\"b\"}\n";
        let two = run_spool(&jl, data, 0, (0, 0, false));
        let one = run_spool(&jl, data, 0, (0, u64::MAX, true));
        assert_eq!(
            (one.2.passes, one.2.rows_out, one.2.rows_rejected),
            (1, 3, 2)
        );
        same(&one, &two, "jsonl");
        assert!(
            String::from_utf8_lossy(&one.1).contains("\"line\":4,"),
            "{}",
            String::from_utf8_lossy(&one.1)
        );
        // hole rows only duplicating each other stay one pass
        let one = run_spool(&cfg(), cases[0], 0, (0, u64::MAX, true));
        assert_eq!(
            (one.2.passes, one.2.rows_out, one.2.rows_rejected),
            (1, 3, 2)
        );
        assert!(String::from_utf8_lossy(&one.1).contains("\"line\":4,"));
        // a hole row equal to a row without holes: two passes decide which is first
        let two = run_spool(&cfg(), cases[1], 0, (0, u64::MAX, true));
        assert_eq!(two.2.passes, 2);
        assert_eq!(String::from_utf8_lossy(&two.0), "k,x\na,1\nb,2.0\nc,3\n");
    }

    /// Rows with and without holes, then all of them again: past a spool limit the repeats are
    /// duplicates of rows the one pass kept (hole rows among them), found through the one pass's
    /// fingerprints; x and y never equal their means (no fallback).
    fn carried_rows() -> String {
        let mut data = String::from("id,k,x,y\n");
        let mut rows = String::new();
        for i in 0..14_000u64 {
            let x = if i % 5 == 0 {
                String::new()
            } else {
                format!("{}.{:07}", i % 37, (i * 7919) % 10_000_000)
            };
            let y = if i % 7 == 3 {
                "NA".to_string()
            } else {
                format!("{}.{:05}", (i * 31) % 1000, (i * 104_729) % 100_000)
            };
            rows.push_str(&format!(
                "{},{},{x},{y}\n",
                i % 900,
                ["a", "b", "c"][i as usize % 3]
            ));
        }
        data.push_str(&rows);
        data.push_str(&rows);
        data
    }

    #[test]
    fn one_pass_fingerprints_carry_into_the_writing_pass_after_the_spool_limit() {
        let data = carried_rows();
        for (dedupe, out) in [
            (json!({"rule": "dedupe"}), json!({})),
            (
                json!({"rule": "dedupe", "columns": ["x", "k", "y"]}),
                json!({"format": "jsonl"}),
            ),
        ] {
            let cfg = Config::from_value(&json!({"rules": [
                {"rule": "null_markers", "values": ["", "NA"]},
                {"rule": "coerce", "columns": {"x": "float", "y": "float", "id": "int"}},
                {"rule": "impute", "strategy": "mean", "columns": ["y", "x"]},
                {"rule": "range", "min": -1e9, "max": 1e9, "action": "clip", "columns": ["x"]},
                dedupe
            ], "output": out}))
            .unwrap();
            let two = run_spool(&cfg, &data, 0, (0, 0, false));
            assert!(two.2.rows_rejected >= 1200, "{:?}", two.2);
            let one = run_spool(&cfg, &data, 4096, (0, u64::MAX, true));
            assert_eq!(TEST_ENDED.with(|t| t.get()), 1);
            same(&one, &two, "one pass");
            // (the first chunk holds what the reader read first: 256 KiB of input, ~700 KB of
            // spool; the rows are repeated from ~330 KB of input on)
            for (chunk, limit) in [(4096, 750_000), (4096, 850_000), (97, 800_000)] {
                let over = run_spool(&cfg, &data, chunk, (64, limit, true));
                assert_eq!(
                    TEST_ENDED.with(|t| t.get()),
                    3,
                    "chunk {chunk}, limit {limit}"
                );
                same(&over, &two, &format!("chunk {chunk}, limit {limit}"));
            }
        }
    }

    /// [`carried_rows`], a configuration that takes one pass with a dedupe, and its two-pass
    /// output, rejects and report.
    fn resume_case() -> (String, Config, (Vec<u8>, Vec<u8>, crate::Report)) {
        let data = carried_rows();
        let cfg = Config::from_value(&json!({"rules": [
            {"rule": "null_markers", "values": ["", "NA"]},
            {"rule": "coerce", "columns": {"x": "float", "y": "float", "id": "int"}},
            {"rule": "impute", "strategy": "mean", "columns": ["y", "x"]},
            {"rule": "dedupe"}
        ]}))
        .unwrap();
        let two = run_spool(&cfg, &data, 0, (0, 0, false));
        (data, cfg, two)
    }

    /// Past the spool limit, the writing pass resumes at the input offset where the one pass
    /// stopped, also when the second opening of the input reads in other sizes than the first
    /// (an S3 body's reads return what the network brought, so its chunks are cut elsewhere):
    /// every row once, as in two passes.
    #[test]
    fn the_writing_pass_resumes_at_the_same_row_whatever_the_reads() {
        let (data, cfg, two) = resume_case();
        for (first, then) in [(1 << 20, 4093), (4093, 1 << 20), (1 << 20, 1 << 20)] {
            TEST_SPOOL.with(|t| t.set((64, 800_000, true)));
            TEST_CHUNK_BYTES.with(|n| n.set(4096));
            let mut opens = 0;
            let open = || {
                opens += 1;
                Ok(crate::input::ShortReads(
                    data.as_bytes(),
                    if opens == 1 { first } else { then },
                ))
            };
            let (mut out, mut rej) = (Vec::new(), Vec::new());
            let report = crate::run_passes(&cfg, open, &mut out, &mut rej).expect("cleanse runs");
            TEST_CHUNK_BYTES.with(|n| n.set(0));
            TEST_SPOOL.with(|t| t.set((0, 0, true)));
            assert_eq!(TEST_ENDED.with(|t| t.get()), 3, "reads {first} then {then}");
            same(
                &(out, rej, report),
                &two,
                &format!("reads {first} then {then}"),
            );
        }
    }

    /// A source that opens the input at an offset is asked for the rest where the one pass
    /// stopped (and the bytes before are not read again): the output, rejects and report are the
    /// two-pass ones, `bytes_in` the whole input.
    #[test]
    fn a_source_that_opens_at_an_offset_resumes_there() {
        struct Ranged<'a> {
            data: &'a [u8],
            opens: &'a std::cell::RefCell<Vec<u64>>,
        }
        impl<'a> crate::Source for Ranged<'a> {
            type Reader = crate::input::ShortReads<'a>;
            fn open(&mut self) -> std::io::Result<Self::Reader> {
                self.opens.borrow_mut().push(0);
                Ok(crate::input::ShortReads(self.data, 4093))
            }
            fn open_at(&mut self, offset: u64) -> Option<std::io::Result<Self::Reader>> {
                self.opens.borrow_mut().push(offset);
                let rest = self.data.get(offset as usize..)?;
                Some(Ok(crate::input::ShortReads(rest, 4093)))
            }
        }
        let (data, cfg, two) = resume_case();
        TEST_SPOOL.with(|t| t.set((64, 800_000, true)));
        TEST_CHUNK_BYTES.with(|n| n.set(4096));
        let opens = std::cell::RefCell::new(Vec::new());
        let src = Ranged {
            data: data.as_bytes(),
            opens: &opens,
        };
        let (mut out, mut rej) = (Vec::new(), Vec::new());
        let report = crate::run_passes(&cfg, src, &mut out, &mut rej).expect("cleanse runs");
        TEST_CHUNK_BYTES.with(|n| n.set(0));
        TEST_SPOOL.with(|t| t.set((0, 0, true)));
        assert_eq!(TEST_ENDED.with(|t| t.get()), 3);
        assert_eq!(report.bytes_in, data.len() as u64);
        same(&(out, rej, report), &two, "opened at the offset");
        let [0, at] = opens.borrow()[..] else {
            panic!("opens: {:?}", opens.borrow())
        };
        assert!(at > 0 && at < data.len() as u64, "{at}");
        // (at the start of a record)
        assert_eq!(data.as_bytes()[at as usize - 1], b'\n');
    }

    /// A writer that fails after `0` bytes.
    struct Fails(usize);

    impl std::io::Write for Fails {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if b.len() > self.0 {
                return Err(std::io::Error::other("disk full"));
            }
            self.0 -= b.len();
            Ok(b.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn one_pass_write_failures_are_io_errors() {
        // (the end's two threads: the writer stops, the spool reader stops too)
        let cfg = Config::from_value(&json!({"input": {"ragged": "pad_truncate"}, "rules": [
            {"rule": "null_markers", "values": ["", "NA"]},
            {"rule": "coerce", "on_error": "drop", "columns": {"x": "float"}},
            {"rule": "impute", "strategy": "mean", "columns": ["x"]},
            {"rule": "dedupe"}
        ]}))
        .unwrap();
        let data = messy(60_000);
        assert!(data.len() > 3 * crate::output::FLUSH_AT, "{}", data.len());
        for (out_ok, rej_ok) in [(1000, usize::MAX), (usize::MAX, 1000)] {
            for mem in [0, 1 << 20] {
                TEST_SPOOL.with(|t| t.set((mem, u64::MAX, true)));
                let r =
                    crate::run_passes(&cfg, || Ok(data.as_bytes()), Fails(out_ok), Fails(rej_ok));
                TEST_SPOOL.with(|t| t.set((0, 0, true)));
                assert_eq!(TEST_ENDED.with(|t| t.get()), 0, "the one pass failed");
                let e = r.unwrap_err();
                assert!(e.to_string().contains("disk full"), "{e}");
            }
        }
    }

    /// A row over `line` (fields split at `,`, as the CSV reader's plain path keeps them: the
    /// line's bytes with the delimiters, the spans between) with the given cells.
    fn row_of(line: &str, cells: Vec<super::Cell>) -> super::Row {
        let mut row = super::Row::default();
        row.rec.buf = line.as_bytes().to_vec();
        let mut a = 0u32;
        for f in line.split(',') {
            let b = a + f.len() as u32;
            row.rec.spans.push((a, b, crate::input::FieldKind::Str));
            a = b + 1;
        }
        row.cells = cells;
        row
    }

    #[test]
    fn runs_of_adjacent_cells_write_the_same_bytes_as_cell_by_cell() {
        use super::{write_cell_text, write_row, Cell, Plan};
        use crate::config::OutputFormat;
        // fields:      0      1    2     3    4   5      6
        let line = "1.50,abc,2.25,x;y,-0,\"q,7";
        let t = |i: usize| {
            let (a, b, _) = row_of(line, vec![]).rec.spans[i];
            (a, b)
        };
        let (f0, f1, f2, f3, f5) = (t(0), t(1), t(2), t(3), t(5));
        let mut row = row_of(
            line,
            vec![
                Cell::Float(1.5, f0.0, f0.1),
                Cell::Text(f1.0, f1.1),
                Cell::Float(2.25, f2.0, f2.1),
                Cell::Text(f3.0, f3.1),
                Cell::Float(-0.0, 0, 0), // computed: formatted, not copied
                Cell::Text(f5.0, f5.1),  // a quote: needs quoting
                Cell::Int(7),
                Cell::Null,
                Cell::Text(f1.0 + 1, f1.1), // trimmed: not adjacent to its neighbours
            ],
        );
        // a case change appends its text after the line: adjacent to nothing
        let up = row.push_text(b"ABC");
        row.cells.push(up);
        let cfg = Config::from_value(&json!({"rules": []})).unwrap();
        let names: Vec<String> = (0..row.cells.len()).map(|i| format!("c{i}")).collect();
        let mut plan = Plan::compile(&cfg, &names).unwrap();
        let orders: [&[usize]; 8] = [
            &[0, 1, 2],
            &[0, 1, 2, 3],
            &[1, 2, 3, 4, 5],
            &[2, 1, 0],
            &[6, 0, 1, 2, 7, 3],
            &[8, 2, 9, 0, 1],
            &[7, 7, 0, 1],
            &[3, 4, 5, 6, 0, 1, 2, 3],
        ];
        for (fmt, d) in [
            (OutputFormat::Csv, b','),
            (OutputFormat::Csv, b';'),
            (OutputFormat::SageMaker, b';'),
        ] {
            plan.out_format = fmt;
            plan.delimiter = d;
            let sm = fmt == OutputFormat::SageMaker;
            let d = if sm { b',' } else { d };
            for order in orders {
                plan.out_slots = order.to_vec();
                let mut want = Vec::new();
                for (i, &s) in order.iter().enumerate() {
                    if i > 0 {
                        want.push(d);
                    }
                    write_cell_text(&mut want, &row, row.cells[s], d, sm);
                }
                want.push(b'\n');
                let mut got = b"before|".to_vec();
                write_row(&plan, &row, &mut got, &[]);
                assert_eq!(
                    String::from_utf8_lossy(&got[7..]),
                    String::from_utf8_lossy(&want),
                    "{fmt:?} {order:?}"
                );
            }
        }
    }

    /// [`super::split_fp`] of one row: `cells` over `line`, the key all of them, `imputed` the
    /// imputed slots, `holes` the ones left out.
    fn fp_of(line: &str, cells: Vec<super::Cell>, imputed: &[usize], holes: u64) -> u128 {
        let row = row_of(line, cells);
        let key: Vec<usize> = (0..row.cells.len()).collect();
        super::split_fp(&row, &super::SplitKey::new(&key, imputed), holes)
    }

    #[test]
    fn split_fingerprints_tell_keys_apart_and_complete_holes() {
        use super::{part_fp, part_seeds, Cell};
        use std::collections::HashSet;
        // every byte of a text of any length counts, and so does its length
        let mut seen = HashSet::new();
        let base: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        let mut texts = vec![String::new()];
        for n in 1..=40 {
            let t = &base[..n];
            texts.push(String::from_utf8(t.to_vec()).unwrap());
            for i in 0..n {
                let mut u = t.to_vec();
                u[i] = b'#';
                texts.push(String::from_utf8(u).unwrap());
            }
            // a shorter text padded with what a short read would see
            let mut z = t[..n - 1].to_vec();
            z.push(0);
            texts.push(String::from_utf8(z).unwrap());
        }
        texts.sort();
        texts.dedup();
        for t in &texts {
            let fp = fp_of(t, vec![Cell::Text(0, t.len() as u32)], &[], 0);
            assert!(seen.insert(fp), "{t:?} collides");
            // the same key in another buffer place: the same fingerprint
            let line = format!("zz,{t}");
            let c = Cell::Text(3, 3 + t.len() as u32);
            assert_ne!(fp_of(&line, vec![Cell::Null, c], &[], 0), fp);
            assert_eq!(
                fp_of(&line, vec![c], &[], 0),
                fp,
                "{t:?} depends on its place"
            );
        }
        // kinds and values: an integer, a float and a text of the same digits differ; -0 = 0
        let one = |c: Cell| fp_of("1", vec![c], &[], 0);
        let kinds = [
            one(Cell::Int(1)),
            one(Cell::Float(1.0, 0, 0)),
            one(Cell::Text(0, 1)),
            one(Cell::Null),
            one(Cell::Bool(true)),
        ];
        assert_eq!(kinds.iter().collect::<HashSet<_>>().len(), kinds.len());
        assert_eq!(one(Cell::Float(0.0, 0, 0)), one(Cell::Float(-0.0, 0, 0)));
        // cells move between columns: another key
        let two = |a: Cell, b: Cell, imp: &[usize]| fp_of("", vec![a, b], imp, 0);
        for imp in [&[][..], &[0], &[1], &[0, 1]] {
            assert_ne!(
                two(Cell::Int(1), Cell::Int(2), imp),
                two(Cell::Int(2), Cell::Int(1), imp)
            );
            assert_ne!(
                two(Cell::Null, Cell::Int(0), imp),
                two(Cell::Int(0), Cell::Null, imp)
            );
        }
        // a row with holes plus its holes' parts is the row without holes
        let cells = vec![
            Cell::Int(42),
            Cell::Float(2.5, 0, 0),
            Cell::Text(0, 3),
            Cell::Float(-7.0, 0, 0),
            Cell::Null,
        ];
        let imputed = [1, 3, 4];
        let full = fp_of("abc", cells.clone(), &imputed, 0);
        for holes in 0..8u64 {
            let mut fp = fp_of("abc", cells.clone(), &imputed, holes);
            let row = row_of("abc", cells.clone());
            for (k, &s) in imputed.iter().enumerate() {
                if (holes >> k) & 1 == 1 {
                    fp = fp.wrapping_add(part_fp(&part_seeds(s), &row, row.cells[s]));
                }
            }
            assert_eq!(fp, full, "holes {holes:b}");
        }
        // each lane alone keeps a million integers (or floats) apart: in the rest, and in a part
        let row = row_of("", vec![]);
        let seeds = part_seeds(3);
        let (mut lo, mut hi) = (HashSet::new(), HashSet::new());
        let (mut plo, mut phi) = (HashSet::new(), HashSet::new());
        for i in 0..1_000_000i64 {
            let fp = fp_of("", vec![Cell::Int(i)], &[], 0);
            assert!(
                lo.insert(fp as u64) && hi.insert((fp >> 64) as u64),
                "rest {i}"
            );
            let p = part_fp(&seeds, &row, Cell::Float(i as f64 * 0.25, 0, 0));
            assert!(
                plo.insert(p as u64) && phi.insert((p >> 64) as u64),
                "part {i}"
            );
        }
    }
}
