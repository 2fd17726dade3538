//! Readable text for Choice conditions and other edge labels.

use serde_json::Value;

use crate::model::{Condition, Operator, Resource};

/// Longest edge label, in characters; longer ones are cut and end with `…`.
pub const MAX_LABEL: usize = 60;

/// Cuts `s` to [`MAX_LABEL`] characters (on a character boundary), ending with `…` when cut.
///
/// ```
/// use stepwright::render::label::shorten;
/// assert_eq!(shorten("short"), "short");
/// assert_eq!(shorten(&"x".repeat(100)).chars().count(), 60);
/// ```
pub fn shorten(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().count() <= MAX_LABEL {
        return s;
    }
    let mut out: String = s.chars().take(MAX_LABEL - 1).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// A Choice condition as short readable text: `$.status == "ok"`, `$.n >= 3 and $.x is present`,
/// `not ($.flag == true)`, or a JSONata expression without its `{% %}`; shortened with
/// [`shorten`].
///
/// ```
/// use stepwright::{Condition, render::label::condition};
/// assert_eq!(condition(&Condition::string_equals("$.status", "ok")), r#"$.status == "ok""#);
/// assert_eq!(condition(&Condition::jsonata("{% $x > 1 %}")), "$x > 1");
/// ```
pub fn condition(c: &Condition) -> String {
    shorten(&text(c, false))
}

fn text(c: &Condition, nested: bool) -> String {
    match c {
        Condition::And(v) | Condition::Or(v) => {
            let op = if matches!(c, Condition::And(_)) {
                " and "
            } else {
                " or "
            };
            let parts: Vec<String> = v.iter().map(|n| text(&n.condition, true)).collect();
            let joined = parts.join(op);
            if nested && parts.len() > 1 {
                format!("({joined})")
            } else {
                joined
            }
        }
        Condition::Not(n) => match &n.condition {
            Condition::Compare { .. } | Condition::Jsonata(_) => {
                format!("not ({})", text(&n.condition, false))
            }
            inner => format!("not {}", text(inner, true)),
        },
        Condition::Jsonata(v) => match v {
            Value::String(s) => {
                let t = s.trim();
                t.strip_prefix("{%")
                    .and_then(|t| t.strip_suffix("%}"))
                    .map(str::trim)
                    .unwrap_or(t)
                    .to_string()
            }
            other => other.to_string(),
        },
        Condition::Compare {
            variable,
            operator,
            value,
        } => compare(variable, *operator, value),
    }
}

fn compare(variable: &str, op: Operator, value: &Value) -> String {
    use Operator::*;
    let test = |what: &str| -> String {
        match value {
            Value::Bool(false) => format!("{variable} is not {what}"),
            _ => format!("{variable} is {what}"),
        }
    };
    let sym = match op {
        IsNull => return test("null"),
        IsPresent => return test("present"),
        IsNumeric => return test("numeric"),
        IsString => return test("a string"),
        IsBoolean => return test("a boolean"),
        IsTimestamp => return test("a timestamp"),
        StringMatches => "matches",
        StringEquals | StringEqualsPath | NumericEquals | NumericEqualsPath | BooleanEquals
        | BooleanEqualsPath | TimestampEquals | TimestampEqualsPath => "==",
        StringLessThan
        | StringLessThanPath
        | NumericLessThan
        | NumericLessThanPath
        | TimestampLessThan
        | TimestampLessThanPath => "<",
        StringGreaterThan
        | StringGreaterThanPath
        | NumericGreaterThan
        | NumericGreaterThanPath
        | TimestampGreaterThan
        | TimestampGreaterThanPath => ">",
        StringLessThanEquals
        | StringLessThanEqualsPath
        | NumericLessThanEquals
        | NumericLessThanEqualsPath
        | TimestampLessThanEquals
        | TimestampLessThanEqualsPath => "<=",
        StringGreaterThanEquals
        | StringGreaterThanEqualsPath
        | NumericGreaterThanEquals
        | NumericGreaterThanEqualsPath
        | TimestampGreaterThanEquals
        | TimestampGreaterThanEqualsPath => ">=",
    };
    // Path operands are shown bare ($.other); literals as JSON ("ok", 3, true).
    let operand = match (op.operand(), value) {
        (crate::model::OperandKind::Path, Value::String(p)) => p.clone(),
        (_, v) => v.to_string(),
    };
    format!("{variable} {sym} {operand}")
}

/// A Task's `Resource` in a few words: the integration without its common prefix
/// (`lambda:invoke`, `sagemaker:createTrainingJob.sync`, `aws-sdk:s3:getObject`), a Lambda
/// function or activity by name (`lambda:cleanse`, `activity:approve`), or the text as written;
/// shortened with [`shorten`].
///
/// ```
/// use stepwright::render::label::resource;
/// use stepwright::Resource;
/// assert_eq!(resource(&"arn:aws:states:::sagemaker:createTrainingJob.sync".into()), "sagemaker:createTrainingJob.sync");
/// assert_eq!(resource(&"arn:aws:lambda:us-east-1:123456789012:function:cleanse:live".into()), "lambda:cleanse:live");
/// assert_eq!(resource(&"${CleanseArn}".into()), "${CleanseArn}");
/// ```
pub fn resource(r: &Resource) -> String {
    let Some(arn) = r.as_arn() else {
        return "(CloudFormation intrinsic)".into();
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let short = match parts.as_slice() {
        ["arn", _, "states", "", "", rest] => (*rest).to_string(),
        ["arn", _, "lambda", _, _, rest] => match rest.strip_prefix("function:") {
            Some(f) => format!("lambda:{f}"),
            None => arn.to_string(),
        },
        ["arn", _, "states", _, _, rest] => match rest.strip_prefix("activity:") {
            Some(a) => format!("activity:{a}"),
            None => arn.to_string(),
        },
        _ => arn.to_string(),
    };
    shorten(&short)
}
