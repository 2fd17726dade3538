//! A JSONata 2.x parser and evaluator with the AWS Step Functions additions, on `serde_json`.
//!
//! Step Functions' JSONata query language (`"{% expr %}"` strings) is jsonata-js 2.0 without
//! `$eval`, plus `$partition`, `$range`, `$hash`, `$random([seed])`, `$uuid` and `$parse`. This
//! crate parses expressions once ([`parse`]) and evaluates them many times
//! ([`Expression::evaluate`]) against `serde_json::Value` input, keeping object key order.
//!
//! ```
//! use serde_json::json;
//! use stepwright_jsonata::{parse, Environment};
//!
//! let expr = parse(r#"$states.input.items[price > 10].{"id": id}"#).unwrap();
//! let mut env = Environment::new();
//! env.bind("states", json!({"input": {"items": [
//!     {"id": "a", "price": 5}, {"id": "b", "price": 20}, {"id": "c", "price": 30}
//! ]}}));
//! let out = expr.evaluate(None, &env).unwrap();
//! assert_eq!(out, Some(json!([{"id": "b"}, {"id": "c"}])));
//! ```
//!
//! `None` is JSONata's `undefined` (no value), both as input and as result.
//!
//! Regular expression literals (`/ab+c/i`) follow ECMAScript semantics (backreferences and
//! lookaround included) through the `regress` engine, as jsonata-js uses JavaScript's `RegExp`.
//!
//! # Conformance and differences from jsonata-js
//!
//! The crate passes 1,672 of the 1,674 cases of jsonata-js's own test suite (all but the `$eval`
//! cases, which AWS does not support); the other two hold lone UTF-16 surrogates, which Rust
//! strings cannot represent. Otherwise:
//!
//! - `$eval` is not defined (calling it is `T1006`), as in Step Functions.
//! - Positions in errors count Unicode code points; jsonata-js counts UTF-16 units (they differ
//!   only after characters outside the Basic Multilingual Plane).
//! - The AWS functions raise `T0410` on argument types (like every built-in) and these codes of
//!   their own: `D3150` (`$partition` chunk size not a positive integer), `D3151` (`$range` step
//!   zero), `D3152` (`$hash` algorithm not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512; the
//!   default is SHA-256), `D3153` (`$parse` input not JSON).
//! - Limits are errors with code `U1001`, never a crash: evaluation depth
//!   ([`Environment::with_max_depth`]), time ([`Environment::with_time_limit`]), stack
//!   ([`Environment::with_stack_limit`]), expressions nested deeper than 400 levels, and
//!   values nested deeper than 1,000 levels.
//! - Numbers are `f64` as in JavaScript; results that are integers come out as JSON integers.

#![warn(missing_docs)]

mod ast;
mod aws;
mod datetime;
mod error;
mod eval;
mod format;
mod functions;
mod parser;
mod picture;
mod regex;
mod signature;
mod value;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

pub use error::Error;

/// The stack budget of one evaluation unless [`Environment::with_stack_limit`] says otherwise.
pub const DEFAULT_STACK_LIMIT: usize = 512 * 1024;

/// A parsed JSONata expression: immutable, cheap to evaluate many times, `Send + Sync`.
pub struct Expression {
    root: ast::Node,
    labels: Vec<String>,
    source: String,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expression")
            .field("source", &self.source)
            .finish()
    }
}

/// Parses a JSONata expression.
///
/// Syntax errors carry jsonata-js's code (`S0xxx`) and the character position.
///
/// ```
/// let e = stepwright_jsonata::parse("$sum(items.price)").unwrap();
/// assert_eq!(e.source(), "$sum(items.price)");
/// let err = stepwright_jsonata::parse("a +").unwrap_err();
/// assert_eq!(err.code, "S0207");
/// ```
pub fn parse(src: &str) -> Result<Expression, Error> {
    let base = eval::stack_addr();
    let parsed = parser::parse(src, base).map_err(|e| e.finish())?;
    Ok(Expression {
        root: parsed.root,
        labels: parsed.slot_labels,
        source: src.to_string(),
    })
}

/// The clock `$now()` and `$millis()` read (epoch milliseconds).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Variable bindings and evaluation settings.
///
/// - bindings: `bind("states", v)` makes `$states` available;
/// - a seeded random generator for `$random()`, `$uuid()` and `$shuffle()` (seed it with
///   [`Environment::with_seed`] for deterministic runs; by default it is seeded from the time);
/// - a clock for `$now()`/`$millis()` (read once per evaluation, as jsonata-js does);
/// - limits: evaluation depth (`U1001`), wall-clock time (`U1001`), and a stack budget that
///   turns runaway recursion into an error instead of a stack overflow.
pub struct Environment {
    vars: HashMap<String, Value>,
    rng: AtomicU64,
    clock: Clock,
    max_depth: Option<usize>,
    time_limit: Option<Duration>,
    stack_limit: usize,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("vars", &self.vars)
            .field("max_depth", &self.max_depth)
            .field("time_limit", &self.time_limit)
            .field("stack_limit", &self.stack_limit)
            .finish()
    }
}

impl Default for Environment {
    fn default() -> Self {
        Self::new()
    }
}

fn system_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Environment {
    /// An environment with no bindings, the system clock and a time-seeded generator.
    pub fn new() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x5eed);
        Environment {
            vars: HashMap::new(),
            rng: AtomicU64::new(seed),
            clock: Arc::new(system_millis),
            max_depth: None,
            time_limit: None,
            stack_limit: DEFAULT_STACK_LIMIT,
        }
    }

    /// Binds `$name` (without the `$`) to a value.
    ///
    /// ```
    /// use serde_json::json;
    /// let mut env = stepwright_jsonata::Environment::new();
    /// env.bind("x", json!(41));
    /// let e = stepwright_jsonata::parse("$x + 1").unwrap();
    /// assert_eq!(e.evaluate(None, &env).unwrap(), Some(json!(42)));
    /// ```
    pub fn bind(&mut self, name: impl Into<String>, value: Value) -> &mut Self {
        self.vars.insert(name.into(), value);
        self
    }

    /// Removes a binding.
    pub fn unbind(&mut self, name: &str) -> Option<Value> {
        self.vars.remove(name)
    }

    /// The value bound to `$name`, if any.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }

    /// Seeds the generator behind `$random()`, `$uuid()` and `$shuffle()`.
    ///
    /// ```
    /// let e = stepwright_jsonata::parse("$uuid()").unwrap();
    /// let a = e.evaluate(None, &stepwright_jsonata::Environment::new().with_seed(7)).unwrap();
    /// let b = e.evaluate(None, &stepwright_jsonata::Environment::new().with_seed(7)).unwrap();
    /// assert_eq!(a, b);
    /// ```
    pub fn with_seed(self, seed: u64) -> Self {
        self.rng.store(seed, Ordering::Relaxed);
        self
    }

    /// Uses `clock` (epoch milliseconds) for `$now()` and `$millis()`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let env = stepwright_jsonata::Environment::new().with_clock(Arc::new(|| 0));
    /// let e = stepwright_jsonata::parse("$now()").unwrap();
    /// assert_eq!(e.evaluate(None, &env).unwrap(), Some(serde_json::json!("1970-01-01T00:00:00.000Z")));
    /// ```
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Limits the nesting depth of evaluation (error `U1001` beyond it).
    pub fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = Some(depth);
        self
    }

    /// Limits the wall-clock time of one evaluation (error `U1001` beyond it).
    pub fn with_time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }

    /// Bytes of stack one evaluation may use before failing with `U1001` (default
    /// [`DEFAULT_STACK_LIMIT`]); keep it well below the calling thread's stack size.
    pub fn with_stack_limit(mut self, bytes: usize) -> Self {
        self.stack_limit = bytes;
        self
    }
}

impl Expression {
    /// The source text this expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against `input` (`None` = no input) with the environment's bindings.
    ///
    /// Returns `Ok(None)` when the result is `undefined`. Errors carry jsonata-js's codes
    /// (`T`/`D`/`U` codes) and messages.
    ///
    /// ```
    /// use serde_json::json;
    /// use stepwright_jsonata::{parse, Environment};
    /// let e = parse("$sum(x)").unwrap();
    /// let env = Environment::new();
    /// assert_eq!(e.evaluate(Some(&json!({"x": [1, 2.5]})), &env).unwrap(), Some(json!(3.5)));
    /// assert_eq!(e.evaluate(Some(&json!({})), &env).unwrap(), None);
    /// let err = parse("1 + 'a'").unwrap().evaluate(None, &env).unwrap_err();
    /// assert_eq!(err.code, "T2002");
    /// ```
    pub fn evaluate(
        &self,
        input: Option<&Value>,
        env: &Environment,
    ) -> Result<Option<Value>, Error> {
        let input_val = input.map(|v| match value::Val::from_json(v) {
            a @ value::Val::Arr(..) => value::Val::mk_arr(vec![a], value::SEQ | value::OUTER),
            v => v,
        });
        let root = Rc::new(value::Frame {
            vars: RefCell::new(HashMap::new()),
            parent: None,
        });
        root.bind("$", input_val.clone());
        let ev = eval::Ev {
            labels: &self.labels,
            bindings: &env.vars,
            depth: Cell::new(0),
            max_depth: env.max_depth,
            deadline: env.time_limit.map(|d| Instant::now() + d),
            ticks: Cell::new(0),
            stack_base: eval::stack_addr(),
            stack_limit: env.stack_limit,
            now_ms: (env.clock)(),
            rng: Cell::new(env.rng.load(Ordering::Relaxed)),
            frames: RefCell::new(Vec::new()),
            converted: RefCell::new(HashMap::new()),
        };
        if let Some(direct) = ev.direct_binding(&self.root, &root) {
            root.vars.borrow_mut().clear();
            return Ok(direct.map(value::js_clone));
        }
        let result = ev.eval(&self.root, input_val.as_ref(), &root);
        let out = match result {
            Ok(v) => Ok(v.and_then(|v| v.to_json())),
            Err(e) => Err(e.finish()),
        };
        ev.clear_frames();
        root.vars.borrow_mut().clear();
        env.rng.store(ev.rng.get(), Ordering::Relaxed);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expression_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Expression>();
        check::<Environment>();
    }
}
