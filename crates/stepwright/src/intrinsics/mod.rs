//! The 18 intrinsic functions of JSONPath states (`States.Format`, `States.ArrayRange`, ...).
//!
//! An intrinsic is the value of a `.$` key in a payload template (`Parameters`, `ResultSelector`,
//! `ItemSelector`, `Credentials`, `Assign`, ...):
//!
//! ```
//! use serde_json::json;
//! use stepwright::intrinsics::{Call, Env};
//!
//! let call = Call::parse("States.Format('Hello, {}!', $.name)")?;
//! let input = json!({"name": "Ada"});
//! assert_eq!(call.evaluate(&Env::new(&input)).unwrap(), json!("Hello, Ada!"));
//!
//! let err = Call::parse("States.MathAdd($.n, 1)")?.evaluate(&Env::new(&input)).unwrap_err();
//! assert_eq!(err.error(), "States.Runtime");
//! assert_eq!(
//!     err.cause(),
//!     "The function 'States.MathAdd($.n, 1)' had the following error: \
//!      The JsonPath argument for the field '$.n' could not be found in the input '{\"name\":\"Ada\"}'"
//! );
//! # Ok::<(), stepwright::jsonpath::SyntaxError>(())
//! ```
//!
//! **Syntax.** Arguments are string literals in single quotes, numbers, `true`, `false`, `null`,
//! paths (`$.x`, `$$.Execution.Id`, `$variable`) and nested calls, at most 10 deep. In a string
//! literal the characters `'`, `{`, `}` and `\` are escaped with a backslash (`\'`, `\{`, `\}`,
//! `\\`); any other escape is a syntax error. In `States.Format`'s template an escaped brace is a
//! literal brace and `{}` is a placeholder.
//!
//! **Errors.** AWS reports a failing intrinsic at run time as `States.Runtime` (not
//! `States.IntrinsicFailure`, which the documentation lists but real executions do not raise),
//! with the cause `The function '<expression>' had the following error: <detail>`; the runner
//! prefixes the state (see [`crate::dataflow::DataFlowError::cause_in_state`]). A wrong argument
//! count or type is also a run-time failure on AWS (`Invalid arguments in States.X`); [`check`]
//! reports a wrong count statically, and [`Call::type_problems`] lists literal arguments of the
//! wrong type, for the validator.
//!
//! **Observed AWS behaviour reproduced here.** Fractional arguments are truncated towards zero,
//! except in `States.MathAdd`, which rounds half up (Java's `Math.round`); `States.MathRandom(a,
//! b)` draws from `[a, b)`; `States.ArrayGetItem` on an empty array gives `null`;
//! `States.StringSplit` splits at any of the delimiter's characters and drops empty pieces;
//! `States.Base64Decode` skips characters outside the alphabet; `States.ArrayRange` accepts a
//! negative step and at most 1000 items; inputs of `States.Hash`, `States.Base64Encode` and
//! `States.Base64Decode` hold at most 10,000 characters.

mod codec;
mod functions;
mod random;

use std::fmt;

use serde_json::Value;

use crate::jsonpath::{Path, Roots, SyntaxError, Variables};

pub use random::{RandomSource, SeededRandom};

/// Intrinsic functions can be nested at most this deep (a call inside a call inside ...).
pub const MAX_NESTING: usize = 10;

/// The error name AWS raises when an intrinsic function fails at run time.
pub const ERROR: &str = "States.Runtime";

macro_rules! functions {
    ($($variant:ident => $name:literal, $min:literal, $max:expr, $doc:literal;)*) => {
        /// One of the 18 intrinsic functions.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Function {
            $(#[doc = $doc] $variant,)*
        }

        impl Function {
            /// Every function, in the order the AWS documentation lists them.
            pub const ALL: &'static [Function] = &[$(Function::$variant,)*];

            /// The full name, e.g. `States.Format`.
            pub fn name(self) -> &'static str {
                match self { $(Function::$variant => $name,)* }
            }

            /// Looks a function up by its full name (`States.Format`).
            pub fn from_name(name: &str) -> Option<Function> {
                match name { $($name => Some(Function::$variant),)* _ => None }
            }

            /// The fewest and the most arguments the function takes (`None`: no upper bound).
            pub fn arity(self) -> (usize, Option<usize>) {
                match self { $(Function::$variant => ($min, $max),)* }
            }
        }
    };
}

functions! {
    Format => "States.Format", 1, None, "`States.Format(template, values...)`: fills each `{}` of the template.";
    StringToJson => "States.StringToJson", 1, Some(1), "`States.StringToJson(text)`: parses JSON text.";
    JsonToString => "States.JsonToString", 1, Some(1), "`States.JsonToString(value)`: serialises a value as compact JSON.";
    Array => "States.Array", 0, None, "`States.Array(values...)`: an array of its arguments.";
    ArrayPartition => "States.ArrayPartition", 2, Some(2), "`States.ArrayPartition(array, size)`: chunks of `size` items.";
    ArrayContains => "States.ArrayContains", 2, Some(2), "`States.ArrayContains(array, value)`: whether the array holds the value.";
    ArrayRange => "States.ArrayRange", 3, Some(3), "`States.ArrayRange(first, last, step)`: the numbers from first to last.";
    ArrayGetItem => "States.ArrayGetItem", 2, Some(2), "`States.ArrayGetItem(array, index)`: one item.";
    ArrayLength => "States.ArrayLength", 1, Some(1), "`States.ArrayLength(array)`: the number of items.";
    ArrayUnique => "States.ArrayUnique", 1, Some(1), "`States.ArrayUnique(array)`: the items without repeats.";
    Base64Encode => "States.Base64Encode", 1, Some(1), "`States.Base64Encode(text)`: Base64 of the UTF-8 bytes.";
    Base64Decode => "States.Base64Decode", 1, Some(1), "`States.Base64Decode(text)`: the text Base64 encodes.";
    Hash => "States.Hash", 2, Some(2), "`States.Hash(text, algorithm)`: hexadecimal MD5, SHA-1, SHA-256, SHA-384 or SHA-512.";
    JsonMerge => "States.JsonMerge", 3, Some(3), "`States.JsonMerge(a, b, false)`: a shallow merge, `b` winning.";
    MathRandom => "States.MathRandom", 2, Some(3), "`States.MathRandom(start, end[, seed])`: a random integer in `[start, end)`.";
    MathAdd => "States.MathAdd", 2, Some(2), "`States.MathAdd(a, b)`: the sum of two integers.";
    StringSplit => "States.StringSplit", 2, Some(2), "`States.StringSplit(text, delimiters)`: the pieces between delimiter characters.";
    Uuid => "States.UUID", 0, Some(0), "`States.UUID()`: a random version 4 UUID.";
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An argument of an intrinsic function call.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A number, `true`, `false` or `null`.
    Literal(Value),
    /// A string literal: its value, and the text between the quotes as written (escapes
    /// included; `States.Format` reads its template from it).
    Str {
        /// The string, escapes resolved.
        value: String,
        /// The source text between the quotes.
        raw: String,
    },
    /// A path: `$.x`, `$$.Execution.Id`, `$variable.x`.
    Path(Path),
    /// A nested call.
    Call(Call),
}

/// A parsed intrinsic function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    function: Function,
    args: Vec<Arg>,
    /// Byte offset of each argument in `text`.
    arg_offsets: Vec<usize>,
    /// The whole expression as written (for a nested call: its own text).
    text: String,
    /// Byte offset of this call in the top-level expression.
    offset: usize,
}

/// A statically detectable problem in a call (see [`Call::type_problems`] and [`check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte offset in the expression.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// True when a `.$` value is an intrinsic function call rather than a path (it starts with
/// `States.`).
///
/// ```
/// assert!(stepwright::intrinsics::is_intrinsic("States.UUID()"));
/// assert!(!stepwright::intrinsics::is_intrinsic("$.id"));
/// ```
pub fn is_intrinsic(text: &str) -> bool {
    text.starts_with("States.")
}

/// Checks an intrinsic function call: syntax (with the position of the first problem), function
/// names, nesting depth and argument counts. The validator calls this on every `.$` value that is
/// not a path.
///
/// ```
/// use stepwright::intrinsics::check;
/// assert!(check("States.ArrayGetItem(States.StringSplit($.arn, ':'), 4)").is_ok());
/// let err = check("States.ArrayRange(1, 2)").unwrap_err();
/// assert!(err.message.contains("takes 3 arguments"));
/// let err = check("States.Frobnicate($.x)").unwrap_err();
/// assert_eq!(err.offset, 0);
/// ```
pub fn check(text: &str) -> Result<(), SyntaxError> {
    let call = Call::parse(text)?;
    match call.arity_problems().into_iter().next() {
        Some(p) => Err(SyntaxError::new(p.offset, p.message)),
        None => Ok(()),
    }
}

/// What an intrinsic function call is evaluated against: the roots of its paths and the source
/// of randomness for `States.MathRandom` and `States.UUID`.
///
/// ```
/// use serde_json::json;
/// use stepwright::intrinsics::{Call, Env, SeededRandom};
/// let rng = SeededRandom::new(7);
/// let input = json!({});
/// let env = Env::new(&input).with_random(&rng);
/// let a = Call::parse("States.UUID()")?.evaluate(&env).unwrap();
/// let b = Call::parse("States.UUID()")?.evaluate(&env).unwrap();
/// assert_ne!(a, b);
/// // The same seed gives the same sequence.
/// let rng2 = SeededRandom::new(7);
/// let env2 = Env::new(&input).with_random(&rng2);
/// assert_eq!(Call::parse("States.UUID()")?.evaluate(&env2).unwrap(), a);
/// # Ok::<(), stepwright::jsonpath::SyntaxError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Env<'a> {
    /// `$`, `$$` and `$name`.
    pub roots: Roots<'a>,
    /// Where `States.MathRandom` (without a seed) and `States.UUID` draw from. Without one they
    /// draw from a generator seeded with 0 on each call, so every call gives the same value.
    pub random: Option<&'a dyn RandomSource>,
}

impl<'a> Env<'a> {
    /// An environment with only an input.
    pub fn new(input: &'a Value) -> Self {
        Env {
            roots: Roots::new(input),
            random: None,
        }
    }

    /// An environment from path roots.
    pub fn from_roots(roots: Roots<'a>) -> Self {
        Env {
            roots,
            random: None,
        }
    }

    /// Sets the context object (`$$`).
    pub fn with_context(mut self, context: &'a Value) -> Self {
        self.roots.context = Some(context);
        self
    }

    /// Sets the variables in scope (`$name`).
    pub fn with_variables(mut self, variables: &'a dyn Variables) -> Self {
        self.roots.variables = Some(variables);
        self
    }

    /// Sets the source of randomness.
    pub fn with_random(mut self, random: &'a dyn RandomSource) -> Self {
        self.random = Some(random);
        self
    }

    /// The same environment with another input (`$`).
    pub fn with_input(mut self, input: &'a Value) -> Self {
        self.roots.input = input;
        self
    }

    /// `$`.
    pub fn input(&self) -> &'a Value {
        self.roots.input
    }
}

impl fmt::Debug for dyn RandomSource + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RandomSource")
    }
}

/// An intrinsic function that failed at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrinsicError {
    detail: String,
    cause: String,
}

impl IntrinsicError {
    /// The error name: always [`ERROR`] (`States.Runtime`), as AWS raises it.
    pub fn error(&self) -> &'static str {
        ERROR
    }

    /// What went wrong, e.g. `Invalid arguments in States.MathAdd`.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// AWS's cause text: `The function '<expression>' had the following error: <detail>`.
    pub fn cause(&self) -> &str {
        &self.cause
    }
}

impl fmt::Display for IntrinsicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", ERROR, self.cause)
    }
}

impl std::error::Error for IntrinsicError {}

impl Call {
    /// Parses an intrinsic function call (syntax, function names and nesting depth; argument
    /// counts are checked by [`check`] and at evaluation, as AWS does).
    pub fn parse(text: &str) -> Result<Call, SyntaxError> {
        let mut p = Parser {
            s: text,
            b: text.as_bytes(),
            pos: 0,
        };
        if !is_intrinsic(text) {
            return Err(SyntaxError::new(
                0,
                "an intrinsic function call must start with 'States.'",
            ));
        }
        let call = p.call(1)?;
        p.skip_ws();
        if p.pos < p.b.len() {
            return Err(SyntaxError::new(
                p.pos,
                "unexpected text after the closing ')' of the call",
            ));
        }
        Ok(call)
    }

    /// The function called.
    pub fn function(&self) -> Function {
        self.function
    }

    /// The arguments.
    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The deepest nesting of calls (1 for a call without nested calls).
    pub fn depth(&self) -> usize {
        1 + self
            .args
            .iter()
            .map(|a| match a {
                Arg::Call(c) => c.depth(),
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }

    /// True when evaluating the call reads the context object (`$$`).
    pub fn uses_context(&self) -> bool {
        let mut found = false;
        self.visit(&mut |c| {
            found |= c
                .args
                .iter()
                .any(|a| matches!(a, Arg::Path(p) if p.uses_context()));
        });
        found
    }

    /// The workflow variables the call reads, in order of appearance (repeats included).
    pub fn variables(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for a in &self.args {
            match a {
                Arg::Path(p) => out.extend(p.variables()),
                Arg::Call(c) => out.extend(c.variables()),
                _ => {}
            }
        }
        out
    }

    /// True when the call draws random numbers (`States.UUID`, `States.MathRandom` without a
    /// seed).
    pub fn uses_random(&self) -> bool {
        let mut found = false;
        self.visit(&mut |c| {
            found |= c.function == Function::Uuid
                || (c.function == Function::MathRandom && c.args.len() < 3);
        });
        found
    }

    /// Wrong argument counts, in this call and the nested ones.
    pub fn arity_problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        self.visit(&mut |c| {
            let (min, max) = c.function.arity();
            let n = c.args.len();
            if n < min || max.is_some_and(|m| n > m) {
                let expected = match max {
                    Some(m) if m == min => format!("{min}"),
                    Some(m) => format!("{min} to {m}"),
                    None => format!("at least {min}"),
                };
                let s = if expected.ends_with(" 1") || expected == "1" {
                    ""
                } else {
                    "s"
                };
                out.push(Problem {
                    offset: c.offset,
                    message: format!(
                        "{} takes {expected} argument{s}, but {n} {} given",
                        c.function,
                        if n == 1 { "is" } else { "are" }
                    ),
                });
            }
        });
        out
    }

    /// Literal arguments of a type the function cannot take (`States.ArrayLength('abc')`,
    /// `States.MathAdd('1', 2)`), in this call and the nested ones. AWS accepts such a definition
    /// and fails when the state runs; the validator reports these as warnings.
    pub fn type_problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        self.visit(&mut |c| functions::type_problems(c, &mut out));
        out
    }

    fn visit(&self, f: &mut dyn FnMut(&Call)) {
        f(self);
        for a in &self.args {
            if let Arg::Call(c) = a {
                c.visit(f);
            }
        }
    }

    /// Evaluates the call. Paths in the arguments must match something (an index past the end
    /// of an array is a miss); see the [module documentation](self) for AWS's rules.
    pub fn evaluate(&self, env: &Env<'_>) -> Result<Value, IntrinsicError> {
        functions::eval(self, env).map_err(|detail| IntrinsicError {
            cause: format!(
                "The function '{}' had the following error: {detail}",
                self.text
            ),
            detail,
        })
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

struct Parser<'s> {
    s: &'s str,
    b: &'s [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while matches!(self.b.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn found(&self) -> String {
        match self.s[self.pos..].chars().next() {
            Some(c) => format!("'{c}'"),
            None => "the end of the expression".to_string(),
        }
    }

    fn call(&mut self, depth: usize) -> Result<Call, SyntaxError> {
        let start = self.pos;
        if depth > MAX_NESTING {
            return Err(SyntaxError::new(
                start,
                format!("intrinsic functions can be nested at most {MAX_NESTING} deep"),
            ));
        }
        if !self.s[self.pos..].starts_with("States.") {
            return Err(SyntaxError::new(
                start,
                "expected an intrinsic function ('States.')",
            ));
        }
        self.pos += "States.".len();
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
            self.pos += 1;
        }
        let name = &self.s[start..self.pos];
        let Some(function) = Function::from_name(name) else {
            let hint = Function::ALL
                .iter()
                .find(|f| f.name().eq_ignore_ascii_case(name))
                .map(|f| format!(" (did you mean {f}?)"))
                .unwrap_or_default();
            return Err(SyntaxError::new(
                start,
                format!("unknown intrinsic function '{name}'{hint}"),
            ));
        };
        self.skip_ws();
        if self.peek() != Some(b'(') {
            return Err(SyntaxError::new(
                self.pos,
                format!("expected '(' after {name}, found {}", self.found()),
            ));
        }
        self.pos += 1;
        self.skip_ws();
        let mut args = Vec::new();
        let mut arg_offsets = Vec::new();
        if self.peek() == Some(b')') {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                arg_offsets.push(self.pos);
                args.push(self.arg(depth)?);
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b')') => {
                        self.pos += 1;
                        break;
                    }
                    _ => {
                        return Err(SyntaxError::new(
                            self.pos,
                            format!(
                                "expected ',' or ')' in the arguments of {name}, found {}",
                                self.found()
                            ),
                        ))
                    }
                }
            }
        }
        Ok(Call {
            function,
            args,
            arg_offsets,
            text: self.s[start..self.pos].to_string(),
            offset: start,
        })
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, SyntaxError> {
        let start = self.pos;
        match self.peek() {
            Some(b'\'') => self.string(),
            Some(b'$') => self.path(),
            Some(b'S') if self.s[self.pos..].starts_with("States.") => {
                Ok(Arg::Call(self.call(depth + 1)?))
            }
            Some(b'-' | b'0'..=b'9') => {
                while matches!(
                    self.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.pos += 1;
                }
                let text = &self.s[start..self.pos];
                match serde_json::from_str::<Value>(text) {
                    Ok(v @ Value::Number(_)) => Ok(Arg::Literal(v)),
                    _ => Err(SyntaxError::new(
                        start,
                        format!("'{text}' is not a valid number"),
                    )),
                }
            }
            Some(b) if b.is_ascii_alphabetic() => {
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    self.pos += 1;
                }
                match &self.s[start..self.pos] {
                    "true" => Ok(Arg::Literal(Value::Bool(true))),
                    "false" => Ok(Arg::Literal(Value::Bool(false))),
                    "null" => Ok(Arg::Literal(Value::Null)),
                    w => Err(SyntaxError::new(
                        start,
                        format!("unexpected '{w}': an argument is a 'string', a number, true, false, null, a path or an intrinsic function"),
                    )),
                }
            }
            Some(b'"') => Err(SyntaxError::new(
                start,
                "string literals in intrinsic functions use single quotes: 'text'",
            )),
            _ => Err(SyntaxError::new(
                start,
                format!("expected an argument, found {}", self.found()),
            )),
        }
    }

    /// A single-quoted string; `\'`, `\{`, `\}` and `\\` are the only escapes.
    fn string(&mut self) -> Result<Arg, SyntaxError> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        let mut value = String::new();
        loop {
            let Some(c) = self.s[self.pos..].chars().next() else {
                return Err(SyntaxError::new(
                    open,
                    "unterminated string: the quote is not closed",
                ));
            };
            match c {
                '\'' => {
                    let raw = self.s[start..self.pos].to_string();
                    self.pos += 1;
                    return Ok(Arg::Str { value, raw });
                }
                '\\' => {
                    let at = self.pos;
                    self.pos += 1;
                    match self.s[self.pos..].chars().next() {
                        Some(e @ ('\'' | '{' | '}' | '\\')) => {
                            value.push(e);
                            self.pos += 1;
                        }
                        Some(e) => {
                            return Err(SyntaxError::new(
                                at,
                                format!("invalid escape '\\{e}': only \\', \\{{, \\}} and \\\\ are allowed in intrinsic function strings"),
                            ))
                        }
                        None => {
                            return Err(SyntaxError::new(
                                open,
                                "unterminated string: the quote is not closed",
                            ))
                        }
                    }
                }
                c => {
                    value.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// A path argument: up to the next `,` or `)` outside brackets, parentheses and quotes.
    fn path(&mut self) -> Result<Arg, SyntaxError> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut quote: Option<u8> = None;
        while let Some(b) = self.peek() {
            if let Some(q) = quote {
                if b == b'\\' {
                    self.pos += 1;
                } else if b == q {
                    quote = None;
                }
                self.pos += 1;
                continue;
            }
            match b {
                b'\'' | b'"' if depth > 0 => quote = Some(b),
                b'[' | b'(' => depth += 1,
                b']' | b')' if depth > 0 => depth -= 1,
                b',' | b')' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => break,
                _ => {}
            }
            self.pos += 1;
        }
        self.pos = self.pos.min(self.b.len());
        let text = &self.s[start..self.pos];
        Path::parse(text)
            .map(Arg::Path)
            .map_err(|e| SyntaxError::new(start + e.offset, e.message))
    }
}

#[cfg(test)]
mod tests;
