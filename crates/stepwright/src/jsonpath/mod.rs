//! JSONPath as the Amazon States Language uses it.
//!
//! AWS Step Functions evaluates paths with the Jayway JsonPath library (its error texts, such as
//! `No results for path: $['x']`, are Jayway's). This module implements that dialect:
//!
//! | syntax | meaning |
//! |---|---|
//! | `$` | the whole input |
//! | `$$` | the context object (`$$.Execution.Input`, `$$.Map.Item.Value`, ...) |
//! | `$name` | the workflow variable `name` (`$name.a.b`, `$name[0]`) |
//! | `.name`, `['name']`, `["name"]` | an object member (dot names may hold any character but `.`, `[`, `(` and blanks) |
//! | `['a','b']` | several members: as the last step, one object holding those present |
//! | `[0]`, `[-1]`, `[0,2]` | array elements (negative counts from the end) |
//! | `[1:3]`, `[1:]`, `[:2]`, `[-2:]` | array slices (no step) |
//! | `.*`, `[*]` | every member value or element |
//! | `..name`, `..*`, `..[0]` | descendants |
//! | `[?(@.price < 10 && @.tag)]` | filters (also written `[?@.price < 10]`) |
//!
//! Evaluation follows AWS: a *definite* path (only single names and single indexes) yields one
//! value or fails with a [`Miss`] whose [`Miss::detail`] is Jayway's text; an *indefinite* path
//! yields an array of every match (empty when nothing matches, never an error). An index past the
//! end of an array yields `null` in a definite path, as AWS's JSON provider does (intrinsic
//! function arguments are stricter: see [`Path::select_argument`]).
//!
//! *Reference paths* (`ResultPath`, Choice `Variable`, the `*Path` fields) are the definite
//! subset: [`Path::parse_reference`] rejects anything that could match more than one node.
//!
//! ```
//! use serde_json::json;
//! use stepwright::jsonpath::{Path, Roots};
//!
//! let input = json!({"orders": [{"id": 1, "total": 5}, {"id": 2, "total": 50}]});
//! let big = Path::parse("$.orders[?(@.total > 10)].id")?;
//! assert_eq!(big.evaluate(&Roots::new(&input)).unwrap(), json!([2]));
//!
//! let first = Path::parse_reference("$.orders[0].total")?;
//! assert_eq!(first.evaluate(&Roots::new(&input)).unwrap(), json!(5));
//!
//! let missing = Path::parse("$.customer")?.evaluate(&Roots::new(&input)).unwrap_err();
//! assert_eq!(missing.detail(), "No results for path: $['customer']");
//! # Ok::<(), stepwright::jsonpath::SyntaxError>(())
//! ```

mod eval;
mod filter;
mod parse;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::Value;

pub use eval::Miss;
pub(crate) use filter::json_equal;

/// A syntax error in a path (or an intrinsic function call), with its position.
///
/// `offset` is a byte offset into the string that was parsed (the unescaped JSON string value).
///
/// ```
/// let err = stepwright::jsonpath::check("$.a[").unwrap_err();
/// assert_eq!(err.offset, 4);
/// assert!(err.message.contains("end of the path"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset of the problem in the parsed string.
    pub offset: usize,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl SyntaxError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        SyntaxError {
            offset,
            message: message.into(),
        }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at offset {})", self.message, self.offset)
    }
}

impl std::error::Error for SyntaxError {}

/// Checks the syntax of a path; the validator calls this on every path field and `.$` value.
///
/// ```
/// assert!(stepwright::jsonpath::check("$.items[*].id").is_ok());
/// assert!(stepwright::jsonpath::check("items").is_err());
/// ```
pub fn check(text: &str) -> Result<(), SyntaxError> {
    Path::parse(text).map(|_| ())
}

/// Checks that a string is a reference path (a path to a single node).
///
/// ```
/// assert!(stepwright::jsonpath::check_reference("$.result.value").is_ok());
/// assert!(stepwright::jsonpath::check_reference("$.items[*]").is_err());
/// ```
pub fn check_reference(text: &str) -> Result<(), SyntaxError> {
    Path::parse_reference(text).map(|_| ())
}

/// What a path is evaluated against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Root {
    /// `$`: the input of the current stage.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// `.a`, `['a']`, or several names `['a','b']`.
    Property(Vec<String>),
    /// `.*` or `[*]`.
    Wildcard,
    /// `[0]` or several indexes `[0,1]`.
    Index(Vec<i64>),
    /// `[from:to]`.
    Slice(Option<i64>, Option<i64>),
    /// `..`: the next token applies to every descendant (and the node itself).
    Scan,
    /// `[?(...)]`.
    Filter(Box<filter::Filter>),
}

impl Token {
    fn is_definite(&self) -> bool {
        match self {
            Token::Property(names) => names.len() == 1,
            Token::Index(ix) => ix.len() == 1,
            _ => false,
        }
    }
}

/// A parsed JSONPath expression.
///
/// Parse once with [`Path::parse`] (or [`Path::parse_reference`]) and evaluate many times.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    text: String,
    root: Root,
    tokens: Vec<Token>,
    /// Byte offset of each token in `text`.
    spans: Vec<usize>,
    definite: bool,
}

impl Path {
    /// Parses a path in the dialect described in the [module documentation](self).
    ///
    /// ```
    /// use stepwright::jsonpath::{Path, Root};
    /// assert_eq!(Path::parse("$$.Execution.Id")?.root(), &Root::Context);
    /// assert_eq!(Path::parse("$count")?.root(), &Root::Variable("count".into()));
    /// assert!(Path::parse("$.a b").is_err());
    /// # Ok::<(), stepwright::jsonpath::SyntaxError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Path, SyntaxError> {
        let (root, tokens, spans) = parse::parse_path(text, 0)?;
        let definite = tokens.iter().all(Token::is_definite);
        Ok(Path {
            text: text.to_string(),
            root,
            tokens,
            spans,
            definite,
        })
    }

    /// Parses a reference path: a path that identifies a single node (names and single indexes
    /// only). `ResultPath`, Choice `Variable` and the `*Path` fields take reference paths.
    ///
    /// ```
    /// use stepwright::jsonpath::Path;
    /// assert!(Path::parse_reference("$.a['b c'][0]").is_ok());
    /// let err = Path::parse_reference("$.a..b").unwrap_err();
    /// assert_eq!(err.offset, 3);
    /// ```
    pub fn parse_reference(text: &str) -> Result<Path, SyntaxError> {
        let path = Path::parse(text)?;
        if let Some(i) = path.tokens.iter().position(|t| !t.is_definite()) {
            let what = match &path.tokens[i] {
                Token::Property(_) => "a union of names",
                Token::Wildcard => "a wildcard",
                Token::Index(_) => "a union of indexes",
                Token::Slice(..) => "a slice",
                Token::Scan => "'..'",
                Token::Filter(_) => "a filter",
            };
            return Err(SyntaxError::new(
                path.spans[i],
                format!("a reference path must identify a single node, but this one uses {what}"),
            ));
        }
        Ok(path)
    }

    /// The text the path was parsed from.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// What the path is evaluated against: the input, the context object or a variable.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// Every root the path reads: its own and those of absolute paths inside its filters.
    fn roots(&self) -> Vec<&Root> {
        let mut out = vec![&self.root];
        for t in &self.tokens {
            if let Token::Filter(x) = t {
                x.roots(&mut out);
            }
        }
        out
    }

    /// True when evaluating the path reads the context object (`$$`), so that a caller can build
    /// the context object only when it is needed.
    ///
    /// ```
    /// use stepwright::jsonpath::Path;
    /// assert!(Path::parse("$$.Execution.Id")?.uses_context());
    /// assert!(Path::parse("$.a[?(@.id == $$.Map.Item.Index)]")?.uses_context());
    /// assert!(!Path::parse("$.a")?.uses_context());
    /// # Ok::<(), stepwright::jsonpath::SyntaxError>(())
    /// ```
    pub fn uses_context(&self) -> bool {
        self.roots().into_iter().any(|r| *r == Root::Context)
    }

    /// The workflow variables the path reads (`$name`), in order of appearance.
    ///
    /// ```
    /// let p = stepwright::jsonpath::Path::parse("$items[?(@.n > $min)]")?;
    /// assert_eq!(p.variables(), vec!["items", "min"]);
    /// # Ok::<(), stepwright::jsonpath::SyntaxError>(())
    /// ```
    pub fn variables(&self) -> Vec<&str> {
        self.roots()
            .into_iter()
            .filter_map(|r| match r {
                Root::Variable(n) => Some(n.as_str()),
                _ => None,
            })
            .collect()
    }

    /// True when the path can match at most one node (no wildcard, slice, filter, union or
    /// `..`); such a path yields a value rather than an array.
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// True for the bare root (`$`, `$$` or `$name`).
    pub fn is_root(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The path in Jayway's normalised form, as AWS prints it in error messages, e.g.
    /// `$['a'][0]`. The root is always written `$` (AWS evaluates `$$.x` as `$.x` on the context
    /// object).
    ///
    /// ```
    /// let p = stepwright::jsonpath::Path::parse("$$.Execution.Input.items[0]")?;
    /// assert_eq!(p.normalized(), "$['Execution']['Input']['items'][0]");
    /// # Ok::<(), stepwright::jsonpath::SyntaxError>(())
    /// ```
    pub fn normalized(&self) -> String {
        let mut s = String::from("$");
        for t in &self.tokens {
            eval::push_token(&mut s, t);
        }
        s
    }

    /// The steps of a definite path, e.g. `[Name("a"), Index(0)]` for `$.a[0]` (for tools that walk
    /// or build the path themselves); `None` for an indefinite path.
    pub fn steps(&self) -> Option<Vec<Step<'_>>> {
        let mut out = Vec::with_capacity(self.tokens.len());
        for t in &self.tokens {
            match t {
                Token::Property(n) if n.len() == 1 => out.push(Step::Name(&n[0])),
                Token::Index(i) if i.len() == 1 => out.push(Step::Index(i[0])),
                _ => return None,
            }
        }
        Some(out)
    }

    /// Selects with AWS's payload-template semantics: a definite path gives one value (borrowed)
    /// or a [`Miss`]; an indefinite path gives every match.
    pub fn select<'v>(&self, roots: &Roots<'v>) -> Result<Selection<'v>, Miss> {
        eval::select(self, roots, false)
    }

    /// Like [`Path::select`], with the stricter rule AWS applies to intrinsic function arguments:
    /// an index past the end of an array is a miss rather than `null`.
    pub fn select_argument<'v>(&self, roots: &Roots<'v>) -> Result<Selection<'v>, Miss> {
        eval::select(self, roots, true)
    }

    /// Evaluates to an owned value: the value of a definite path, or an array of the matches of
    /// an indefinite one.
    pub fn evaluate(&self, roots: &Roots<'_>) -> Result<Value, Miss> {
        self.select(roots).map(Selection::into_value)
    }

    /// Every node the path matches, in document order, ignoring AWS's definite-path rules (a
    /// definite path that matches nothing gives an empty list). Useful for tools and tests.
    pub fn matches<'v>(&self, roots: &Roots<'v>) -> Vec<Cow<'v, Value>> {
        match eval::select(self, roots, true) {
            Ok(Selection::One(v)) => vec![v],
            Ok(Selection::Many(v)) => v,
            Err(_) => Vec::new(),
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Path {
    type Err = SyntaxError;
    fn from_str(s: &str) -> Result<Path, SyntaxError> {
        Path::parse(s)
    }
}

/// One step of a definite path (see [`Path::steps`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// An object member.
    Name(&'a str),
    /// An array element (negative counts from the end).
    Index(i64),
}

/// The result of [`Path::select`].
#[derive(Debug, Clone, PartialEq)]
pub enum Selection<'v> {
    /// The value of a definite path.
    One(Cow<'v, Value>),
    /// The matches of an indefinite path, in document order.
    Many(Vec<Cow<'v, Value>>),
}

impl Selection<'_> {
    /// The value AWS passes on: the single value, or an array of the matches.
    pub fn into_value(self) -> Value {
        match self {
            Selection::One(v) => v.into_owned(),
            Selection::Many(v) => Value::Array(v.into_iter().map(Cow::into_owned).collect()),
        }
    }
}

/// Workflow variables visible to a path (`$name`).
///
/// Implemented for the usual maps; the local runner implements it for its scopes.
pub trait Variables {
    /// The value of a variable, if it is defined.
    fn get_variable(&self, name: &str) -> Option<&Value>;
}

impl Variables for serde_json::Map<String, Value> {
    fn get_variable(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl<S: std::hash::BuildHasher> Variables for HashMap<String, Value, S> {
    fn get_variable(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl Variables for BTreeMap<String, Value> {
    fn get_variable(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl<S: std::hash::BuildHasher> Variables for indexmap::IndexMap<String, Value, S> {
    fn get_variable(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// The documents a path can start from: the input (`$`), the context object (`$$`) and the
/// workflow variables (`$name`).
///
/// ```
/// use serde_json::json;
/// use stepwright::jsonpath::{Path, Roots};
/// let input = json!({"a": 1});
/// let context = json!({"Execution": {"Name": "run-1"}});
/// let mut vars = serde_json::Map::new();
/// vars.insert("limit".into(), json!(10));
/// let roots = Roots::new(&input).with_context(&context).with_variables(&vars);
/// assert_eq!(Path::parse("$$.Execution.Name")?.evaluate(&roots).unwrap(), json!("run-1"));
/// assert_eq!(Path::parse("$limit")?.evaluate(&roots).unwrap(), json!(10));
/// # Ok::<(), stepwright::jsonpath::SyntaxError>(())
/// ```
#[derive(Clone, Copy)]
pub struct Roots<'v> {
    /// `$`.
    pub input: &'v Value,
    /// `$$`, when there is one.
    pub context: Option<&'v Value>,
    /// `$name`, when variables are in scope.
    pub variables: Option<&'v dyn Variables>,
}

impl<'v> Roots<'v> {
    /// Roots with only an input (no context object, no variables).
    pub fn new(input: &'v Value) -> Self {
        Roots {
            input,
            context: None,
            variables: None,
        }
    }

    /// Sets the context object.
    pub fn with_context(mut self, context: &'v Value) -> Self {
        self.context = Some(context);
        self
    }

    /// Sets the variables in scope.
    pub fn with_variables(mut self, variables: &'v dyn Variables) -> Self {
        self.variables = Some(variables);
        self
    }

    /// The same roots with another input.
    pub fn with_input(mut self, input: &'v Value) -> Self {
        self.input = input;
        self
    }
}

impl fmt::Debug for Roots<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Roots")
            .field("input", self.input)
            .field("context", &self.context)
            .field("variables", &self.variables.map(|_| ".."))
            .finish()
    }
}

#[cfg(test)]
mod tests;
