//! The cleanse configuration: input format, an ordered list of rules, and the output format.
//!
//! See `docs/lambdas.md` for the full format. Every error names the JSON pointer of the bad field.
//!
//! ```
//! let cfg = cleanse::Config::from_json(r#"{
//!   "rules": [
//!     {"rule": "trim"},
//!     {"rule": "null_markers", "values": ["", "NA"]},
//!     {"rule": "coerce", "columns": {"x": "float"}, "on_error": "null"}
//!   ]
//! }"#).unwrap();
//! assert_eq!(cfg.rules.len(), 3);
//! let err = cleanse::Config::from_json(r#"{"rules": [{"rule": "trimm"}]}"#).unwrap_err();
//! assert_eq!(err.pointer, "/rules/0/rule");
//! ```

use serde_json::Value;

use crate::conf::{ConfError, Node};
use crate::input::InputConfig;
use crate::types::ValueType;

/// Columns a rule applies to: all of the columns present at that point, or the listed ones.
#[derive(Debug, Clone, PartialEq)]
pub enum Columns {
    /// Every column present when the rule runs.
    All,
    /// These columns (name, JSON pointer of the name in the configuration).
    Named(Vec<(String, String)>),
}

/// What a rule does with a row whose value fails it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFail {
    /// Drop the row (it goes to the rejects object with the reason).
    Drop,
    /// Set the value to null and keep the row.
    Null,
    /// Clip the value to the nearest bound (ranges only).
    Clip,
}

/// A range bound as written in the configuration (a number, or an ISO 8601 string for
/// timestamp columns); interpreted against the column's type when the rules are compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// The value.
    pub value: Value,
    /// Where it is in the configuration.
    pub pointer: String,
}

/// How `impute` fills nulls.
#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    /// A fixed value (a JSON scalar).
    Constant(Value),
    /// The column's mean (numeric columns; ints round to the nearest int).
    Mean,
    /// The column's median (numeric columns; exact up to 100,000 values, then within 0.2 %).
    Median,
    /// The column's most frequent value (any type; exact while it has at most 65,536 distinct
    /// values, else the Misra–Gries heavy hitter).
    Mode,
}

/// One rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// Strip leading and trailing (Unicode) whitespace from text values.
    Trim {
        /// Columns.
        columns: Columns,
    },
    /// Change text to lower or upper case.
    Case {
        /// Columns.
        columns: Columns,
        /// Upper case (else lower).
        upper: bool,
    },
    /// Turn marker strings (`""`, `"NA"`, `"null"`, ...) into null.
    NullMarkers {
        /// Columns.
        columns: Columns,
        /// The markers.
        values: Vec<String>,
        /// Compare ignoring ASCII case.
        case_insensitive: bool,
    },
    /// Drop rows where any of the columns is null.
    Required {
        /// Columns.
        columns: Columns,
    },
    /// Convert text to a type; a value that does not convert drops the row or becomes null.
    Coerce {
        /// Column, JSON pointer, type.
        columns: Vec<(String, String, ValueType)>,
        /// Drop or Null.
        on_error: OnFail,
    },
    /// Keep numeric/timestamp values within bounds: drop the row, clip, or null the value.
    Range {
        /// Columns.
        columns: Columns,
        /// Lower bound (inclusive).
        min: Option<Bound>,
        /// Upper bound (inclusive).
        max: Option<Bound>,
        /// Drop, Clip or Null.
        action: OnFail,
    },
    /// Keep only listed values: drop the row or null the value otherwise.
    Allowed {
        /// Columns.
        columns: Columns,
        /// The allowed values (JSON scalars).
        values: Vec<Value>,
        /// Drop or Null.
        action: OnFail,
        /// Compare text ignoring ASCII case.
        case_insensitive: bool,
    },
    /// Drop rows equal (on the columns) to an earlier row.
    Dedupe {
        /// Columns compared (all by default).
        columns: Columns,
    },
    /// Fill nulls.
    Impute {
        /// Columns.
        columns: Columns,
        /// How.
        strategy: Strategy,
    },
    /// Keep only these columns, in this order (select and reorder).
    Select {
        /// Columns.
        columns: Columns,
    },
    /// Remove these columns.
    Drop {
        /// Columns.
        columns: Columns,
    },
    /// Rename columns (`{"old": "new"}`).
    Rename {
        /// (old, new, JSON pointer).
        names: Vec<(String, String, String)>,
    },
    /// Replace category text by its index in a list (for numeric-only consumers).
    Encode {
        /// Columns.
        columns: Columns,
        /// The categories; index = position.
        categories: Vec<String>,
        /// What to do with a value not in the list: Drop or Null.
        unknown: OnFail,
    },
}

impl Rule {
    /// The rule's name as written in configurations.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Trim { .. } => "trim",
            Rule::Case { .. } => "case",
            Rule::NullMarkers { .. } => "null_markers",
            Rule::Required { .. } => "required",
            Rule::Coerce { .. } => "coerce",
            Rule::Range { .. } => "range",
            Rule::Allowed { .. } => "allowed",
            Rule::Dedupe { .. } => "dedupe",
            Rule::Impute { .. } => "impute",
            Rule::Select { .. } => "select",
            Rule::Drop { .. } => "drop",
            Rule::Rename { .. } => "rename",
            Rule::Encode { .. } => "encode",
        }
    }

    /// Every rule name.
    pub const NAMES: &'static [&'static str] = &[
        "trim",
        "case",
        "null_markers",
        "required",
        "coerce",
        "range",
        "allowed",
        "dedupe",
        "impute",
        "select",
        "drop",
        "rename",
        "encode",
    ];
}

/// A rule and where it is in the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    /// The rule.
    pub rule: Rule,
    /// Its JSON pointer (`/rules/3`).
    pub pointer: String,
}

/// The output file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// CSV (header by default).
    Csv,
    /// JSON Lines with typed values.
    Jsonl,
    /// CSV for SageMaker built-in algorithms: label column first, no header, numbers only
    /// (bools as 1/0, timestamps as epoch seconds, nulls as empty fields).
    SageMaker,
}

/// How to write the output.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputConfig {
    /// Format.
    pub format: OutputFormat,
    /// CSV delimiter (default `,`; SageMaker always `,`).
    pub delimiter: u8,
    /// Write a header row (CSV only; default true).
    pub header: bool,
    /// The label column (SageMaker: written first; required there).
    pub label: Option<(String, String)>,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            format: OutputFormat::Csv,
            delimiter: b',',
            header: true,
            label: None,
        }
    }
}

/// A whole cleanse configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// How to read the input.
    pub input: InputConfig,
    /// The rules, applied in order to every row.
    pub rules: Vec<RuleSpec>,
    /// How to write the output.
    pub output: OutputConfig,
    /// Fewer rows out than this is an error (`Cleanse.NoRows`); default 1.
    pub min_rows_out: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            input: InputConfig::default(),
            rules: Vec::new(),
            output: OutputConfig::default(),
            min_rows_out: 1,
        }
    }
}

fn columns(node: &Node<'_>, field: &str) -> Result<Columns, ConfError> {
    match node.field(field)? {
        None => Ok(Columns::All),
        Some(n) => {
            let cols = n.strings()?;
            if cols.is_empty() {
                return Err(n.error("list at least one column (or omit the field for all columns)"));
            }
            Ok(Columns::Named(cols))
        }
    }
}

fn named_columns(node: &Node<'_>, field: &str) -> Result<Columns, ConfError> {
    let n = node.req(field)?;
    let cols = n.strings()?;
    if cols.is_empty() {
        return Err(n.error("list at least one column"));
    }
    Ok(Columns::Named(cols))
}

fn action(
    node: &Node<'_>,
    field: &str,
    choices: &[&'static str],
    default: OnFail,
) -> Result<OnFail, ConfError> {
    Ok(match node.field(field)? {
        None => default,
        Some(n) => match n.one_of(choices)? {
            "drop" => OnFail::Drop,
            "null" => OnFail::Null,
            _ => OnFail::Clip,
        },
    })
}

fn scalar(n: &Node<'_>) -> Result<Value, ConfError> {
    match n.value {
        Value::Array(_) | Value::Object(_) => {
            Err(n.error("expected a string, number, boolean or null"))
        }
        v => Ok(v.clone()),
    }
}

fn parse_rule(n: &Node<'_>) -> Result<Rule, ConfError> {
    let name_node = n.req("rule")?;
    let name = name_node.str()?;
    let allow = |fields: &[&str]| {
        let mut all = vec!["rule", "comment"];
        all.extend_from_slice(fields);
        n.deny_unknown(&all)
    };
    let case_insensitive = |n: &Node<'_>| -> Result<bool, ConfError> {
        n.field("case_insensitive")?.map_or(Ok(false), |b| b.bool())
    };
    Ok(match name {
        "trim" => {
            allow(&["columns"])?;
            Rule::Trim {
                columns: columns(n, "columns")?,
            }
        }
        "case" => {
            allow(&["columns", "to"])?;
            Rule::Case {
                columns: columns(n, "columns")?,
                upper: n.req("to")?.one_of(&["lower", "upper"])? == "upper",
            }
        }
        "null_markers" => {
            allow(&["columns", "values", "case_insensitive"])?;
            let values = match n.field("values")? {
                None => vec![
                    "".into(),
                    "NA".into(),
                    "N/A".into(),
                    "null".into(),
                    "NULL".into(),
                    "NaN".into(),
                ],
                Some(v) => v.strings()?.into_iter().map(|(s, _)| s).collect(),
            };
            Rule::NullMarkers {
                columns: columns(n, "columns")?,
                values,
                case_insensitive: case_insensitive(n)?,
            }
        }
        "required" => {
            allow(&["columns"])?;
            Rule::Required {
                columns: named_columns(n, "columns")?,
            }
        }
        "coerce" => {
            allow(&["columns", "on_error"])?;
            let cols = n.req("columns")?;
            let mut out = Vec::new();
            for (name, t) in cols.members()? {
                let ty = ValueType::from_name(t.str()?).ok_or_else(|| {
                    t.error(format!(
                        "unknown type `{}`; expected one of: {}",
                        t.value.as_str().unwrap_or_default(),
                        ValueType::NAMES.join(", ")
                    ))
                })?;
                out.push((name.to_string(), t.pointer.clone(), ty));
            }
            if out.is_empty() {
                return Err(
                    cols.error("map at least one column to a type, e.g. {\"price\": \"float\"}")
                );
            }
            Rule::Coerce {
                columns: out,
                on_error: action(n, "on_error", &["drop", "null"], OnFail::Drop)?,
            }
        }
        "range" => {
            allow(&["columns", "min", "max", "action"])?;
            let bound = |f: &str| -> Result<Option<Bound>, ConfError> {
                Ok(n.field(f)?.map(|b| Bound {
                    value: b.value.clone(),
                    pointer: b.pointer.clone(),
                }))
            };
            let (min, max) = (bound("min")?, bound("max")?);
            if min.is_none() && max.is_none() {
                return Err(n.error("give `min`, `max` or both"));
            }
            Rule::Range {
                columns: named_columns(n, "columns")?,
                min,
                max,
                action: action(n, "action", &["drop", "clip", "null"], OnFail::Drop)?,
            }
        }
        "allowed" => {
            allow(&["columns", "values", "action", "case_insensitive"])?;
            let values = n
                .req("values")?
                .items()?
                .iter()
                .map(scalar)
                .collect::<Result<Vec<_>, _>>()?;
            Rule::Allowed {
                columns: named_columns(n, "columns")?,
                values,
                action: action(n, "action", &["drop", "null"], OnFail::Drop)?,
                case_insensitive: case_insensitive(n)?,
            }
        }
        "dedupe" => {
            allow(&["columns"])?;
            Rule::Dedupe {
                columns: columns(n, "columns")?,
            }
        }
        "impute" => {
            allow(&["columns", "strategy", "value"])?;
            let s = n.req("strategy")?;
            let strategy = match s.one_of(&["constant", "mean", "median", "mode"])? {
                "constant" => Strategy::Constant(scalar(&n.req("value")?)?),
                other => {
                    if let Some(v) = n.field("value")? {
                        return Err(v.error(format!(
                            "`value` only goes with strategy `constant`, not `{other}`"
                        )));
                    }
                    match other {
                        "mean" => Strategy::Mean,
                        "median" => Strategy::Median,
                        _ => Strategy::Mode,
                    }
                }
            };
            if strategy == Strategy::Constant(Value::Null) {
                return Err(n
                    .req("value")?
                    .error("imputing null changes nothing; give a value"));
            }
            Rule::Impute {
                columns: named_columns(n, "columns")?,
                strategy,
            }
        }
        "select" => {
            allow(&["columns"])?;
            Rule::Select {
                columns: named_columns(n, "columns")?,
            }
        }
        "drop" => {
            allow(&["columns"])?;
            Rule::Drop {
                columns: named_columns(n, "columns")?,
            }
        }
        "rename" => {
            allow(&["columns"])?;
            let cols = n.req("columns")?;
            let mut names = Vec::new();
            for (old, new) in cols.members()? {
                let new_name = new.str()?;
                if new_name.is_empty() {
                    return Err(new.error("a column name cannot be empty"));
                }
                names.push((old.to_string(), new_name.to_string(), new.pointer.clone()));
            }
            if names.is_empty() {
                return Err(cols.error("map at least one column to its new name"));
            }
            Rule::Rename { names }
        }
        "encode" => {
            allow(&["columns", "categories", "unknown"])?;
            let cats: Vec<String> = n
                .req("categories")?
                .strings()?
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            if cats.is_empty() {
                return Err(n.req("categories")?.error("list at least one category"));
            }
            Rule::Encode {
                columns: named_columns(n, "columns")?,
                categories: cats,
                unknown: action(n, "unknown", &["drop", "null"], OnFail::Null)?,
            }
        }
        other => {
            return Err(name_node.error(format!(
                "unknown rule `{other}`; expected one of: {}",
                Rule::NAMES.join(", ")
            )))
        }
    })
}

impl OutputConfig {
    /// Parses the `output` member (absent: the defaults).
    pub fn parse(node: Option<&Node<'_>>) -> Result<Self, ConfError> {
        let mut out = OutputConfig::default();
        let Some(node) = node else { return Ok(out) };
        node.deny_unknown(&["format", "delimiter", "header", "label"])?;
        if let Some(n) = node.field("format")? {
            out.format = match n.one_of(&["csv", "jsonl", "sagemaker"])? {
                "csv" => OutputFormat::Csv,
                "jsonl" => OutputFormat::Jsonl,
                _ => OutputFormat::SageMaker,
            };
        }
        if let Some(n) = node.field("delimiter")? {
            if out.format != OutputFormat::Csv {
                return Err(n.error("`delimiter` applies to the csv format only"));
            }
            out.delimiter = n.ascii_byte()?;
            if out.delimiter == b'"' {
                return Err(n.error("the delimiter cannot be the quote character"));
            }
        }
        if let Some(n) = node.field("header")? {
            if out.format != OutputFormat::Csv {
                return Err(
                    n.error("`header` applies to the csv format only (sagemaker never has one)")
                );
            }
            out.header = n.bool()?;
        }
        if let Some(n) = node.field("label")? {
            out.label = Some((n.str()?.to_string(), n.pointer.clone()));
        }
        if out.format == OutputFormat::SageMaker {
            out.header = false;
            if out.label.is_none() {
                return Err(node.error(
                    "the sagemaker format needs `label` (the target column, written first)",
                ));
            }
        }
        Ok(out)
    }
}

impl Config {
    /// Parses a configuration from JSON text.
    pub fn from_json(text: &str) -> Result<Self, ConfError> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| ConfError::new("", format!("the configuration is not JSON: {e}")))?;
        Self::from_value(&v)
    }

    /// Parses a configuration from a JSON value.
    pub fn from_value(v: &Value) -> Result<Self, ConfError> {
        let root = Node::root(v);
        root.deny_unknown(&["input", "rules", "output", "min_rows_out", "comment"])?;
        let input = InputConfig::parse(root.field("input")?.as_ref())?;
        let mut rules = Vec::new();
        if let Some(list) = root.field("rules")? {
            for n in list.items()? {
                n.object()?;
                rules.push(RuleSpec {
                    rule: parse_rule(&n)?,
                    pointer: n.pointer.clone(),
                });
            }
        }
        let output = OutputConfig::parse(root.field("output")?.as_ref())?;
        let min_rows_out = match root.field("min_rows_out")? {
            Some(n) => n.u64()?,
            None => 1,
        };
        Ok(Config {
            input,
            rules,
            output,
            min_rows_out,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> ConfError {
        Config::from_value(&v).unwrap_err()
    }

    #[test]
    fn bad_configs_name_the_field() {
        let cases = [
            (
                json!({"rules": [{"rule": "nope"}]}),
                "/rules/0/rule",
                "unknown rule",
            ),
            (
                json!({"rules": [{}]}),
                "/rules/0",
                "missing required field `rule`",
            ),
            (json!({"rules": {}}), "/rules", "expected an array"),
            (
                json!({"rules": [{"rule": "trim", "column": ["a"]}]}),
                "/rules/0/column",
                "unknown field",
            ),
            (
                json!({"rules": [{"rule": "coerce", "columns": {"a": "decimal"}}]}),
                "/rules/0/columns/a",
                "unknown type",
            ),
            (
                json!({"rules": [{"rule": "coerce", "columns": {"a": 1}}]}),
                "/rules/0/columns/a",
                "expected a string",
            ),
            (
                json!({"rules": [{"rule": "range", "columns": ["a"], "action": "clamp"}]}),
                "/rules/0",
                "give `min`",
            ),
            (
                json!({"rules": [{"rule": "range", "columns": ["a"], "min": 0, "action": "clamp"}]}),
                "/rules/0/action",
                "drop, clip, null",
            ),
            (
                json!({"rules": [{"rule": "required", "columns": []}]}),
                "/rules/0/columns",
                "at least one",
            ),
            (
                json!({"rules": [{"rule": "impute", "columns": ["a"], "strategy": "mean", "value": 1}]}),
                "/rules/0/value",
                "only goes with",
            ),
            (
                json!({"rules": [{"rule": "impute", "columns": ["a"], "strategy": "constant"}]}),
                "/rules/0",
                "`value`",
            ),
            (
                json!({"rules": [{"rule": "allowed", "columns": ["a"], "values": [[1]]}]}),
                "/rules/0/values/0",
                "expected a string",
            ),
            (
                json!({"input": {"delimiter": ",,"}}),
                "/input/delimiter",
                "single ASCII",
            ),
            (
                json!({"input": {"format": "parquet"}}),
                "/input/format",
                "csv, jsonl",
            ),
            (
                json!({"input": {"header": false}}),
                "/input",
                "needs `columns`",
            ),
            (
                json!({"output": {"format": "sagemaker"}}),
                "/output",
                "needs `label`",
            ),
            (
                json!({"output": {"format": "jsonl", "header": false}}),
                "/output/header",
                "csv format only",
            ),
            (json!({"min_rows_out": -1}), "/min_rows_out", "non-negative"),
            (json!({"extra": 1}), "/extra", "unknown field"),
        ];
        for (cfg, ptr, msg) in cases {
            let e = err(cfg.clone());
            assert_eq!(e.pointer, ptr, "{cfg}: {e}");
            assert!(e.message.contains(msg), "{cfg}: {e}");
        }
        let e = Config::from_json("{").unwrap_err();
        assert!(e.message.contains("not JSON"));
    }

    #[test]
    fn every_rule_parses() {
        let cfg = Config::from_value(&json!({
            "input": {"format": "csv", "delimiter": ";", "ragged": "pad_truncate"},
            "rules": [
                {"rule": "trim", "columns": "a"},
                {"rule": "case", "columns": ["a"], "to": "upper"},
                {"rule": "null_markers"},
                {"rule": "required", "columns": ["a"]},
                {"rule": "coerce", "columns": {"b": "int", "c": "timestamp"}, "on_error": "null"},
                {"rule": "range", "columns": ["b"], "min": 0, "max": 10, "action": "clip"},
                {"rule": "allowed", "columns": ["a"], "values": ["X", 1, true, null], "case_insensitive": true},
                {"rule": "dedupe"},
                {"rule": "impute", "columns": ["b"], "strategy": "median"},
                {"rule": "impute", "columns": ["a"], "strategy": "constant", "value": "none"},
                {"rule": "encode", "columns": ["a"], "categories": ["X", "Y"], "unknown": "drop"},
                {"rule": "rename", "columns": {"a": "A"}},
                {"rule": "drop", "columns": ["c"]},
                {"rule": "select", "columns": ["b", "A"]},
            ],
            "output": {"format": "sagemaker", "label": "b"},
            "min_rows_out": 0
        }))
        .unwrap();
        let names: Vec<_> = cfg.rules.iter().map(|r| r.rule.name()).collect();
        assert_eq!(names.len(), 14);
        assert!(Rule::NAMES.iter().all(|n| names.contains(n)));
        assert_eq!(cfg.rules[3].pointer, "/rules/3");
        assert_eq!(cfg.min_rows_out, 0);
        assert!(!cfg.output.header);
        match &cfg.rules[2].rule {
            Rule::NullMarkers { values, .. } => assert!(values.contains(&"NA".to_string())),
            r => panic!("{r:?}"),
        }
    }
}
