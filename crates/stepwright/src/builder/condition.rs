//! Typed constructors and combinators for Choice conditions ([`Condition`]).

use serde_json::Value;

use crate::model::{Condition, NestedCondition, Operator};

/// A number a condition or field can take: any Rust integer or float.
///
/// Floats that are not finite (NaN, infinities) cannot be written in JSON; they become `null`
/// and `build()` reports them.
pub trait Numeric: Copy {
    /// The JSON value (`null` for a non-finite float).
    fn to_json(self) -> Value;
}

macro_rules! int_number {
    ($($t:ty),*) => {$(
        impl Numeric for $t {
            fn to_json(self) -> Value { Value::from(self) }
        }
    )*};
}
int_number!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl Numeric for f64 {
    fn to_json(self) -> Value {
        serde_json::Number::from_f64(self)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

impl Numeric for f32 {
    fn to_json(self) -> Value {
        // Through the shortest decimal form, so that 0.1f32 renders as 0.1, not 0.10000000149.
        let f: f64 = self.to_string().parse().unwrap_or(f64::NAN);
        f.to_json()
    }
}

fn cmp(variable: impl Into<String>, operator: Operator, value: Value) -> Condition {
    Condition::Compare {
        variable: variable.into(),
        operator,
        value,
    }
}

macro_rules! ops {
    ($( $(#[$doc:meta])* $fn:ident($arg:ident : $kind:tt) => $op:ident; )*) => {
        impl Condition {
            $(
                $(#[$doc])*
                pub fn $fn(variable: impl Into<String>, $arg: ops!(@ty $kind)) -> Condition {
                    cmp(variable, Operator::$op, ops!(@val $kind, $arg))
                }
            )*
        }
    };
    (@ty str) => { impl Into<String> };
    (@ty path) => { impl Into<String> };
    (@ty num) => { impl Numeric };
    (@ty bool) => { bool };
    (@val str, $a:ident) => { Value::String($a.into()) };
    (@val path, $a:ident) => { Value::String($a.into()) };
    (@val num, $a:ident) => { $a.to_json() };
    (@val bool, $a:ident) => { Value::Bool($a) };
}

ops! {
    /// `StringEquals`: the string at `variable` equals `value`.
    ///
    /// ```
    /// use stepwright::Condition;
    /// let c = Condition::string_equals("$.status", "ok");
    /// assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"Variable":"$.status","StringEquals":"ok"}"#);
    /// ```
    string_equals(value: str) => StringEquals;
    /// `StringEqualsPath`: the string at `variable` equals the string at `path`.
    string_equals_path(path: path) => StringEqualsPath;
    /// `StringLessThan`.
    string_less_than(value: str) => StringLessThan;
    /// `StringLessThanPath`.
    string_less_than_path(path: path) => StringLessThanPath;
    /// `StringGreaterThan`.
    string_greater_than(value: str) => StringGreaterThan;
    /// `StringGreaterThanPath`.
    string_greater_than_path(path: path) => StringGreaterThanPath;
    /// `StringLessThanEquals`.
    string_less_than_equals(value: str) => StringLessThanEquals;
    /// `StringLessThanEqualsPath`.
    string_less_than_equals_path(path: path) => StringLessThanEqualsPath;
    /// `StringGreaterThanEquals`.
    string_greater_than_equals(value: str) => StringGreaterThanEquals;
    /// `StringGreaterThanEqualsPath`.
    string_greater_than_equals_path(path: path) => StringGreaterThanEqualsPath;
    /// `StringMatches`: the string matches `pattern`, where `*` matches any run of characters
    /// (write `\\*` for a literal star).
    string_matches(pattern: str) => StringMatches;
    /// `NumericEquals`.
    ///
    /// ```
    /// use stepwright::Condition;
    /// let c = Condition::numeric_equals("$.n", 3);
    /// assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"Variable":"$.n","NumericEquals":3}"#);
    /// ```
    numeric_equals(value: num) => NumericEquals;
    /// `NumericEqualsPath`.
    numeric_equals_path(path: path) => NumericEqualsPath;
    /// `NumericLessThan`.
    numeric_less_than(value: num) => NumericLessThan;
    /// `NumericLessThanPath`.
    numeric_less_than_path(path: path) => NumericLessThanPath;
    /// `NumericGreaterThan`.
    numeric_greater_than(value: num) => NumericGreaterThan;
    /// `NumericGreaterThanPath`.
    numeric_greater_than_path(path: path) => NumericGreaterThanPath;
    /// `NumericLessThanEquals`.
    numeric_less_than_equals(value: num) => NumericLessThanEquals;
    /// `NumericLessThanEqualsPath`.
    numeric_less_than_equals_path(path: path) => NumericLessThanEqualsPath;
    /// `NumericGreaterThanEquals`.
    numeric_greater_than_equals(value: num) => NumericGreaterThanEquals;
    /// `NumericGreaterThanEqualsPath`.
    numeric_greater_than_equals_path(path: path) => NumericGreaterThanEqualsPath;
    /// `BooleanEquals`.
    boolean_equals(value: bool) => BooleanEquals;
    /// `BooleanEqualsPath`.
    boolean_equals_path(path: path) => BooleanEqualsPath;
    /// `TimestampEquals` (an ISO 8601 timestamp such as `2024-01-01T00:00:00Z`).
    timestamp_equals(value: str) => TimestampEquals;
    /// `TimestampEqualsPath`.
    timestamp_equals_path(path: path) => TimestampEqualsPath;
    /// `TimestampLessThan`.
    timestamp_less_than(value: str) => TimestampLessThan;
    /// `TimestampLessThanPath`.
    timestamp_less_than_path(path: path) => TimestampLessThanPath;
    /// `TimestampGreaterThan`.
    timestamp_greater_than(value: str) => TimestampGreaterThan;
    /// `TimestampGreaterThanPath`.
    timestamp_greater_than_path(path: path) => TimestampGreaterThanPath;
    /// `TimestampLessThanEquals`.
    timestamp_less_than_equals(value: str) => TimestampLessThanEquals;
    /// `TimestampLessThanEqualsPath`.
    timestamp_less_than_equals_path(path: path) => TimestampLessThanEqualsPath;
    /// `TimestampGreaterThanEquals`.
    timestamp_greater_than_equals(value: str) => TimestampGreaterThanEquals;
    /// `TimestampGreaterThanEqualsPath`.
    timestamp_greater_than_equals_path(path: path) => TimestampGreaterThanEqualsPath;
    /// `IsNull`: the value is `null` (`true`) or is not (`false`).
    is_null(expected: bool) => IsNull;
    /// `IsPresent`: the path exists (`true`) or does not (`false`).
    is_present(expected: bool) => IsPresent;
    /// `IsNumeric`.
    is_numeric(expected: bool) => IsNumeric;
    /// `IsString`.
    is_string(expected: bool) => IsString;
    /// `IsBoolean`.
    is_boolean(expected: bool) => IsBoolean;
    /// `IsTimestamp`.
    is_timestamp(expected: bool) => IsTimestamp;
}

impl Condition {
    /// Any comparison, with the operand given as JSON (for operators chosen at run time).
    ///
    /// ```
    /// use stepwright::{Condition, Operator};
    /// let c = Condition::compare("$.n", Operator::NumericLessThan, serde_json::json!(5));
    /// assert_eq!(c, Condition::numeric_less_than("$.n", 5));
    /// ```
    pub fn compare(variable: impl Into<String>, operator: Operator, operand: Value) -> Condition {
        cmp(variable, operator, operand)
    }

    /// A JSONata condition (`"Condition": "{% ... %}"`), for JSONata states. The `{% %}`
    /// delimiters are added when `expression` does not already have them.
    ///
    /// ```
    /// use stepwright::Condition;
    /// assert_eq!(
    ///     Condition::jsonata("$states.input.n > 1"),
    ///     Condition::jsonata("{% $states.input.n > 1 %}"),
    /// );
    /// ```
    pub fn jsonata(expression: impl Into<String>) -> Condition {
        let e: String = expression.into();
        let t = e.trim();
        if t.starts_with("{%") && t.ends_with("%}") {
            Condition::Jsonata(Value::String(e))
        } else {
            Condition::Jsonata(Value::String(format!("{{% {t} %}}")))
        }
    }

    /// Both must hold (`And`). Chained `and`s make one flat `And` list.
    ///
    /// ```
    /// use stepwright::Condition;
    /// let c = Condition::is_present("$.x", true)
    ///     .and(Condition::numeric_greater_than("$.x", 0))
    ///     .and(Condition::numeric_less_than("$.x", 10));
    /// let Condition::And(all) = &c else { panic!() };
    /// assert_eq!(all.len(), 3);
    /// ```
    pub fn and(self, other: Condition) -> Condition {
        match self {
            Condition::And(mut v) => {
                v.push(other.into());
                Condition::And(v)
            }
            c => Condition::And(vec![c.into(), other.into()]),
        }
    }

    /// Either must hold (`Or`). Chained `or`s make one flat `Or` list.
    pub fn or(self, other: Condition) -> Condition {
        match self {
            Condition::Or(mut v) => {
                v.push(other.into());
                Condition::Or(v)
            }
            c => Condition::Or(vec![c.into(), other.into()]),
        }
    }

    /// Must not hold (`Not`). `!condition` does the same.
    #[allow(clippy::should_implement_trait)] // it is implemented too: `!c` calls this
    pub fn not(self) -> Condition {
        Condition::Not(Box::new(self.into()))
    }

    /// All of `conditions` must hold (`And`).
    pub fn all(conditions: impl IntoIterator<Item = Condition>) -> Condition {
        Condition::And(conditions.into_iter().map(Into::into).collect())
    }

    /// Any of `conditions` must hold (`Or`).
    pub fn any(conditions: impl IntoIterator<Item = Condition>) -> Condition {
        Condition::Or(conditions.into_iter().map(Into::into).collect())
    }

    /// This condition with a `Comment`, for use inside `And`, `Or` or `Not`.
    pub fn with_comment(self, comment: impl Into<String>) -> NestedCondition {
        NestedCondition {
            comment: Some(comment.into()),
            condition: self,
        }
    }
}

/// `!c` is `c.not()`.
impl std::ops::Not for Condition {
    type Output = Condition;
    fn not(self) -> Condition {
        Condition::not(self)
    }
}

/// `a & b` is `a.and(b)`.
impl std::ops::BitAnd for Condition {
    type Output = Condition;
    fn bitand(self, rhs: Condition) -> Condition {
        self.and(rhs)
    }
}

/// `a | b` is `a.or(b)`.
impl std::ops::BitOr for Condition {
    type Output = Condition;
    fn bitor(self, rhs: Condition) -> Condition {
        self.or(rhs)
    }
}
