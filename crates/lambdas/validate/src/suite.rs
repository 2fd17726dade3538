//! The expectation suite: what to check, how to profile, the baseline for drift.
//!
//! The check vocabulary follows Great Expectations / Deequ / TFDV (see `docs/lambdas.md`):
//! `columns` (schema), `type`, `not_null` (completeness), `unique` (one or several columns),
//! `between` (value ranges), `in_set`, `regex`, `row_count`, `stat` (mean, std, min, max, median,
//! a quantile, null fraction, distinct count of a column within bounds) and `drift` (PSI against a
//! baseline profile). Row-level checks take `mostly` (the fraction of non-null values that must
//! meet them, default 1), as in Great Expectations.

use cleanse::conf::{ConfError, Node};
use cleanse::input::InputConfig;
use cleanse::types::ValueType;
use serde_json::Value;

/// An aggregate statistic a `stat` check bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    /// Mean (numeric columns).
    Mean,
    /// Sample standard deviation.
    Std,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
    /// Median.
    Median,
    /// A quantile (0..1).
    Quantile(f64),
    /// Fraction of nulls.
    NullFraction,
    /// Number of distinct values (approximate beyond 65,536, HyperLogLog ±1.6 %).
    Distinct,
}

/// One expectation.
#[derive(Debug, Clone)]
pub enum Check {
    /// The data's columns: exactly these (`exact`, default), in this order (`ordered`), or at
    /// least these.
    Columns {
        /// Expected names.
        columns: Vec<String>,
        /// No other column may exist.
        exact: bool,
        /// Same order.
        ordered: bool,
    },
    /// Non-null values parse as the type.
    Type {
        /// Column.
        column: String,
        /// Type.
        ty: ValueType,
        /// Fraction required.
        mostly: f64,
    },
    /// Values are not null.
    NotNull {
        /// Column.
        column: String,
        /// Fraction of all rows required to be non-null.
        mostly: f64,
    },
    /// No two rows share the values of these columns (nulls included).
    Unique {
        /// Columns.
        columns: Vec<String>,
    },
    /// Numeric values within bounds (inclusive).
    Between {
        /// Column.
        column: String,
        /// Lower bound.
        min: Option<f64>,
        /// Upper bound.
        max: Option<f64>,
        /// Fraction required.
        mostly: f64,
    },
    /// Values in a set.
    InSet {
        /// Column.
        column: String,
        /// Allowed values (as text).
        values: Vec<String>,
        /// Fraction required.
        mostly: f64,
    },
    /// Values match a regular expression (anchored by the pattern, not implicitly).
    Regex {
        /// Column.
        column: String,
        /// The compiled pattern.
        regex: regex::bytes::Regex,
        /// Fraction required.
        mostly: f64,
    },
    /// The number of (well-formed) rows within bounds.
    RowCount {
        /// Minimum.
        min: Option<u64>,
        /// Maximum.
        max: Option<u64>,
    },
    /// A column statistic within bounds.
    Stat {
        /// Column.
        column: String,
        /// Statistic.
        stat: Stat,
        /// Minimum.
        min: Option<f64>,
        /// Maximum.
        max: Option<f64>,
    },
    /// Population stability index against the baseline profile at most `max_psi` per column.
    Drift {
        /// Columns (all columns of the baseline when empty).
        columns: Vec<String>,
        /// Threshold (0.1 small, 0.25 large shift by the usual rule of thumb; default 0.2).
        max_psi: f64,
    },
}

impl Check {
    /// The check's name as written in suites.
    pub fn name(&self) -> &'static str {
        match self {
            Check::Columns { .. } => "columns",
            Check::Type { .. } => "type",
            Check::NotNull { .. } => "not_null",
            Check::Unique { .. } => "unique",
            Check::Between { .. } => "between",
            Check::InSet { .. } => "in_set",
            Check::Regex { .. } => "regex",
            Check::RowCount { .. } => "row_count",
            Check::Stat { .. } => "stat",
            Check::Drift { .. } => "drift",
        }
    }

    /// Every check name.
    pub const NAMES: &'static [&'static str] = &[
        "columns",
        "type",
        "not_null",
        "unique",
        "between",
        "in_set",
        "regex",
        "row_count",
        "stat",
        "drift",
    ];

    /// Whether a failure of this check is a schema mismatch (`Validate.SchemaMismatch`).
    pub fn is_schema(&self) -> bool {
        matches!(self, Check::Columns { .. } | Check::Type { .. })
    }
}

/// A check and where it is in the suite.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    /// The check.
    pub check: Check,
    /// Its JSON pointer (`/expectations/2`).
    pub pointer: String,
}

/// Profiling options.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileConfig {
    /// Quantiles reported per numeric column.
    pub quantiles: Vec<f64>,
    /// Histogram bins per numeric column (equal-mass bins from the quantiles; PSI baseline).
    pub bins: usize,
    /// Most frequent values reported per text column.
    pub top_k: usize,
}

impl Default for ProfileConfig {
    fn default() -> Self {
        ProfileConfig {
            quantiles: vec![0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99],
            bins: 10,
            top_k: 20,
        }
    }
}

/// What to do when a check fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Return `passed: false` with the failed checks.
    Return,
    /// Fail with `Validate.Failed` (or `Validate.SchemaMismatch`) so a Catch can route it.
    Fail,
}

/// A whole validation suite.
#[derive(Debug, Clone)]
pub struct Suite {
    /// How to read the input.
    pub input: InputConfig,
    /// Values read as null (default `""`, `NA`, `N/A`, `null`, `NULL`, `NaN`).
    pub null_markers: Vec<String>,
    /// Declared column types (others are inferred from their first 1,000 non-null values).
    pub types: Vec<(String, ValueType)>,
    /// The checks.
    pub expectations: Vec<CheckSpec>,
    /// Profiling options.
    pub profile: ProfileConfig,
    /// A baseline profile (the `profile` of an earlier result) for drift checks.
    pub baseline: Option<Value>,
    /// Return or fail.
    pub on_failure: OnFailure,
}

fn mostly(n: &Node<'_>) -> Result<f64, ConfError> {
    match n.field("mostly")? {
        None => Ok(1.0),
        Some(m) => {
            let v = m.f64()?;
            if !(0.0..=1.0).contains(&v) {
                return Err(m.error("`mostly` is a fraction between 0 and 1"));
            }
            Ok(v)
        }
    }
}

fn opt_f64(n: &Node<'_>, f: &str) -> Result<Option<f64>, ConfError> {
    n.field(f)?.map(|v| v.f64()).transpose()
}

fn column(n: &Node<'_>) -> Result<String, ConfError> {
    Ok(n.req("column")?.str()?.to_string())
}

fn bounds(n: &Node<'_>) -> Result<(Option<f64>, Option<f64>), ConfError> {
    let (min, max) = (opt_f64(n, "min")?, opt_f64(n, "max")?);
    if min.is_none() && max.is_none() {
        return Err(n.error("give `min`, `max` or both"));
    }
    if let (Some(a), Some(b)) = (min, max) {
        if a > b {
            return Err(n.error(format!("`min` ({a}) is greater than `max` ({b})")));
        }
    }
    Ok((min, max))
}

fn parse_check(n: &Node<'_>) -> Result<Check, ConfError> {
    let name_node = n.req("expect")?;
    let name = name_node.str()?;
    let allow = |fields: &[&str]| {
        let mut all = vec!["expect", "comment"];
        all.extend_from_slice(fields);
        n.deny_unknown(&all)
    };
    Ok(match name {
        "columns" => {
            allow(&["columns", "exact", "ordered"])?;
            Check::Columns {
                columns: n
                    .req("columns")?
                    .strings()?
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect(),
                exact: n.field("exact")?.map_or(Ok(true), |b| b.bool())?,
                ordered: n.field("ordered")?.map_or(Ok(false), |b| b.bool())?,
            }
        }
        "type" => {
            allow(&["column", "type", "mostly"])?;
            let t = n.req("type")?;
            Check::Type {
                column: column(n)?,
                ty: ValueType::from_name(t.str()?).ok_or_else(|| {
                    t.error(format!(
                        "unknown type; expected one of: {}",
                        ValueType::NAMES.join(", ")
                    ))
                })?,
                mostly: mostly(n)?,
            }
        }
        "not_null" => {
            allow(&["column", "mostly"])?;
            Check::NotNull {
                column: column(n)?,
                mostly: mostly(n)?,
            }
        }
        "unique" => {
            allow(&["columns"])?;
            let cols: Vec<String> = n
                .req("columns")?
                .strings()?
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            if cols.is_empty() {
                return Err(n.req("columns")?.error("list at least one column"));
            }
            Check::Unique { columns: cols }
        }
        "between" => {
            allow(&["column", "min", "max", "mostly"])?;
            let (min, max) = bounds(n)?;
            Check::Between {
                column: column(n)?,
                min,
                max,
                mostly: mostly(n)?,
            }
        }
        "in_set" => {
            allow(&["column", "values", "mostly"])?;
            let values = n
                .req("values")?
                .items()?
                .iter()
                .map(|v| match v.value {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(x) => Ok(x.to_string()),
                    Value::Bool(b) => Ok(b.to_string()),
                    _ => Err(v.error("expected a string, number or boolean")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Check::InSet {
                column: column(n)?,
                values,
                mostly: mostly(n)?,
            }
        }
        "regex" => {
            allow(&["column", "pattern", "mostly"])?;
            let p = n.req("pattern")?;
            let regex = regex::bytes::Regex::new(p.str()?)
                .map_err(|e| p.error(format!("invalid regular expression: {e}")))?;
            Check::Regex {
                column: column(n)?,
                regex,
                mostly: mostly(n)?,
            }
        }
        "row_count" => {
            allow(&["min", "max"])?;
            let min = n.field("min")?.map(|v| v.u64()).transpose()?;
            let max = n.field("max")?.map(|v| v.u64()).transpose()?;
            if min.is_none() && max.is_none() {
                return Err(n.error("give `min`, `max` or both"));
            }
            Check::RowCount { min, max }
        }
        "stat" => {
            allow(&["column", "stat", "q", "min", "max"])?;
            let s = n.req("stat")?;
            let stat = match s.one_of(&[
                "mean",
                "std",
                "min",
                "max",
                "median",
                "quantile",
                "null_fraction",
                "distinct",
            ])? {
                "mean" => Stat::Mean,
                "std" => Stat::Std,
                "min" => Stat::Min,
                "max" => Stat::Max,
                "median" => Stat::Median,
                "null_fraction" => Stat::NullFraction,
                "distinct" => Stat::Distinct,
                _ => {
                    let q = n.req("q")?;
                    let v = q.f64()?;
                    if !(0.0..=1.0).contains(&v) {
                        return Err(q.error("`q` is between 0 and 1"));
                    }
                    Stat::Quantile(v)
                }
            };
            if !matches!(stat, Stat::Quantile(_)) {
                if let Some(q) = n.field("q")? {
                    return Err(q.error("`q` only goes with stat `quantile`"));
                }
            }
            let (min, max) = bounds(n)?;
            Check::Stat {
                column: column(n)?,
                stat,
                min,
                max,
            }
        }
        "drift" => {
            allow(&["columns", "max_psi"])?;
            let columns = match n.field("columns")? {
                None => Vec::new(),
                Some(c) => c.strings()?.into_iter().map(|(s, _)| s).collect(),
            };
            let max_psi = match n.field("max_psi")? {
                None => 0.2,
                Some(m) => {
                    let v = m.f64()?;
                    if v < 0.0 {
                        return Err(m.error("`max_psi` cannot be negative"));
                    }
                    v
                }
            };
            Check::Drift { columns, max_psi }
        }
        other => {
            return Err(name_node.error(format!(
                "unknown expectation `{other}`; expected one of: {}",
                Check::NAMES.join(", ")
            )))
        }
    })
}

impl Suite {
    /// Parses a suite from JSON text.
    pub fn from_json(text: &str) -> Result<Self, ConfError> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| ConfError::new("", format!("the suite is not JSON: {e}")))?;
        Self::from_value(&v)
    }

    /// Parses a suite from a JSON value.
    pub fn from_value(v: &Value) -> Result<Self, ConfError> {
        let root = Node::root(v);
        root.deny_unknown(&[
            "input",
            "null_markers",
            "types",
            "expectations",
            "profile",
            "baseline",
            "on_failure",
            "comment",
        ])?;
        let input = InputConfig::parse(root.field("input")?.as_ref())?;
        let null_markers = match root.field("null_markers")? {
            None => ["", "NA", "N/A", "null", "NULL", "NaN"]
                .map(String::from)
                .to_vec(),
            Some(n) => n.strings()?.into_iter().map(|(s, _)| s).collect(),
        };
        let mut types = Vec::new();
        if let Some(t) = root.field("types")? {
            for (name, ty) in t.members()? {
                let vt = ValueType::from_name(ty.str()?).ok_or_else(|| {
                    ty.error(format!(
                        "unknown type; expected one of: {}",
                        ValueType::NAMES.join(", ")
                    ))
                })?;
                types.push((name.to_string(), vt));
            }
        }
        let mut expectations = Vec::new();
        if let Some(list) = root.field("expectations")? {
            for n in list.items()? {
                n.object()?;
                expectations.push(CheckSpec {
                    check: parse_check(&n)?,
                    pointer: n.pointer.clone(),
                });
            }
        }
        let mut profile = ProfileConfig::default();
        if let Some(p) = root.field("profile")? {
            p.deny_unknown(&["quantiles", "bins", "top_k"])?;
            if let Some(q) = p.field("quantiles")? {
                profile.quantiles = q
                    .items()?
                    .iter()
                    .map(|x| {
                        let v = x.f64()?;
                        if (0.0..=1.0).contains(&v) {
                            Ok(v)
                        } else {
                            Err(x.error("a quantile is between 0 and 1"))
                        }
                    })
                    .collect::<Result<_, _>>()?;
            }
            if let Some(b) = p.field("bins")? {
                let v = b.u64()?;
                if !(2..=100).contains(&v) {
                    return Err(b.error("`bins` is between 2 and 100"));
                }
                profile.bins = v as usize;
            }
            if let Some(k) = p.field("top_k")? {
                let v = k.u64()?;
                if v > 1000 {
                    return Err(k.error("`top_k` is at most 1000"));
                }
                profile.top_k = v as usize;
            }
        }
        let baseline = match root.field("baseline")? {
            None
            | Some(Node {
                value: Value::Null, ..
            }) => None,
            Some(b) => {
                b.object()?;
                // accept a whole earlier result as well as its `profile`
                let p = b.value.get("profile").unwrap_or(b.value);
                if !p.get("columns").is_some_and(Value::is_object) {
                    return Err(b.error("a baseline is a profile (an object with `columns`), e.g. the `profile` of an earlier result"));
                }
                Some(p.clone())
            }
        };
        if baseline.is_none() {
            if let Some(spec) = expectations
                .iter()
                .find(|c| matches!(c.check, Check::Drift { .. }))
            {
                return Err(ConfError::new(
                    spec.pointer.clone(),
                    "a `drift` expectation needs a `baseline` profile",
                ));
            }
        }
        let on_failure = match root.field("on_failure")? {
            None => OnFailure::Return,
            Some(n) => match n.one_of(&["return", "fail"])? {
                "return" => OnFailure::Return,
                _ => OnFailure::Fail,
            },
        };
        Ok(Suite {
            input,
            null_markers,
            types,
            expectations,
            profile,
            baseline,
            on_failure,
        })
    }
}
