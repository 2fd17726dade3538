//! JSONPath data flow for the runner: compiled paths, payload templates and ResultPath.
//!
//! Paths and templates are compiled once per machine, so evaluating them costs no parsing.
//! (Reference-path subset: `$`, `$.a.b`, `$['a']`, `$.a[0]`, `$$.x`, `$var.x`.)

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::Failure;
use crate::history::Data;
use crate::vars::Vars;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Root {
    /// `$`: the input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Var(Arc<str>),
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(i64),
}

/// A compiled JSONPath.
#[derive(Debug, Clone)]
pub(crate) struct JPath {
    pub src: Arc<str>,
    pub root: Root,
    segs: Vec<Seg>,
}

/// A value built on first use (the context object: most states never read it).
pub(crate) struct Lazy<'a> {
    cell: std::cell::OnceCell<Value>,
    build: &'a dyn Fn() -> Value,
}

impl<'a> Lazy<'a> {
    pub fn new(build: &'a dyn Fn() -> Value) -> Lazy<'a> {
        Lazy {
            cell: std::cell::OnceCell::new(),
            build,
        }
    }

    pub fn get(&self) -> &Value {
        self.cell.get_or_init(|| (self.build)())
    }
}

/// What a path is evaluated against.
pub(crate) struct Scope<'a> {
    pub input: &'a Value,
    pub context: &'a Lazy<'a>,
    pub vars: &'a Vars,
}

impl JPath {
    pub fn parse(src: &str) -> Result<JPath, String> {
        let b = src.as_bytes();
        if b.first() != Some(&b'$') {
            return Err(format!("'{src}' is not a path: it must start with $"));
        }
        let mut i = 1;
        let root = if b.get(1) == Some(&b'$') {
            i = 2;
            Root::Context
        } else if b
            .get(1)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        {
            let start = 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            Root::Var(src[start..i].into())
        } else {
            Root::Input
        };
        let mut segs = Vec::new();
        while i < b.len() {
            match b[i] {
                b'.' => {
                    i += 1;
                    let start = i;
                    while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                        i += 1;
                    }
                    if start == i {
                        return Err(format!("'{src}': empty name at offset {start}"));
                    }
                    let name = &src[start..i];
                    if name == "*" {
                        return Err(format!("'{src}': wildcards are not supported here"));
                    }
                    segs.push(Seg::Key(name.to_string()));
                }
                b'[' => {
                    i += 1;
                    if matches!(b.get(i), Some(b'\'') | Some(b'"')) {
                        let q = b[i];
                        i += 1;
                        let start = i;
                        while i < b.len() && b[i] != q {
                            i += 1;
                        }
                        let name = src[start..i].to_string();
                        i += 1;
                        if b.get(i) != Some(&b']') {
                            return Err(format!("'{src}': expected ] at offset {i}"));
                        }
                        i += 1;
                        segs.push(Seg::Key(name));
                    } else {
                        let start = i;
                        while i < b.len() && b[i] != b']' {
                            i += 1;
                        }
                        let n: i64 = src[start..i].trim().parse().map_err(|_| {
                            format!("'{src}': unsupported subscript '{}'", &src[start..i])
                        })?;
                        i += 1;
                        segs.push(Seg::Index(n));
                    }
                }
                _ => return Err(format!("'{src}': unexpected character at offset {i}")),
            }
        }
        Ok(JPath {
            src: src.into(),
            root,
            segs,
        })
    }

    /// True when evaluating needs the context object.
    pub fn uses_context(&self) -> bool {
        self.root == Root::Context
    }

    /// The value the path selects, or `None` when nothing matches.
    pub fn select(&self, s: &Scope<'_>) -> Option<Value> {
        match &self.root {
            Root::Input => walk(s.input, &self.segs).cloned(),
            Root::Context => walk(s.context.get(), &self.segs).cloned(),
            Root::Var(name) => {
                let v = s.vars.get(name)?;
                walk(&v, &self.segs).cloned()
            }
        }
    }

    /// Calls `f` with a reference to the selected value (no copy), or `None`.
    pub fn with_ref<R>(&self, s: &Scope<'_>, f: impl FnOnce(Option<&Value>) -> R) -> R {
        match &self.root {
            Root::Input => f(walk(s.input, &self.segs)),
            Root::Context => f(walk(s.context.get(), &self.segs)),
            Root::Var(name) => match s.vars.get(name) {
                Some(v) => f(walk(&v, &self.segs)),
                None => f(None),
            },
        }
    }

    /// Like `select`, but shares the input when the path is `$`.
    pub fn select_data(&self, input: &Data, s: &Scope<'_>) -> Option<Data> {
        if self.root == Root::Input && self.segs.is_empty() {
            return Some(input.clone());
        }
        if let Root::Var(name) = &self.root {
            if self.segs.is_empty() {
                return s.vars.get(name);
            }
        }
        self.select(s).map(Arc::new)
    }

    /// The key, when the path is `$.key` (one object member of the input).
    pub fn single_key(&self) -> Option<&str> {
        match (&self.root, self.segs.as_slice()) {
            (Root::Input, [Seg::Key(k)]) => Some(k),
            _ => None,
        }
    }

    /// `$['a']['b']` form used in AWS messages.
    pub fn bracketed(&self) -> String {
        let mut s = String::from("$");
        for seg in &self.segs {
            match seg {
                Seg::Key(k) => s.push_str(&format!("['{k}']")),
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }

    /// Sets `value` at this (input-rooted) reference path in a copy of `target`, creating objects
    /// on the way. Errors when an intermediate value is not an object.
    pub fn set(&self, target: &mut Value, value: Value) -> Result<(), String> {
        if self.root != Root::Input {
            return Err(format!(
                "ResultPath '{}' must be rooted at $ (the state input)",
                self.src
            ));
        }
        let mut cur = target;
        for (n, seg) in self.segs.iter().enumerate() {
            let last = n + 1 == self.segs.len();
            match seg {
                Seg::Key(k) => {
                    if !cur.is_object() {
                        return Err(format!(
                            "Unable to apply ResultPath '{}': the value at '{}' is not an object",
                            self.src,
                            prefix(&self.segs[..n])
                        ));
                    }
                    let obj = cur.as_object_mut().expect("checked above");
                    if last {
                        obj.insert(k.clone(), value);
                        return Ok(());
                    }
                    cur = obj
                        .entry(k.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                }
                Seg::Index(i) => {
                    let Some(arr) = cur.as_array_mut() else {
                        return Err(format!(
                            "Unable to apply ResultPath '{}': the value at '{}' is not an array",
                            self.src,
                            prefix(&self.segs[..n])
                        ));
                    };
                    let len = arr.len() as i64;
                    let idx = if *i < 0 { len + i } else { *i };
                    if idx < 0 || idx >= len {
                        return Err(format!(
                            "Unable to apply ResultPath '{}': index {i} is out of bounds",
                            self.src
                        ));
                    }
                    let slot = &mut arr[idx as usize];
                    if last {
                        *slot = value;
                        return Ok(());
                    }
                    cur = slot;
                }
            }
        }
        *cur = value;
        Ok(())
    }
}

fn prefix(segs: &[Seg]) -> String {
    let mut s = String::from("$");
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn walk<'v>(mut v: &'v Value, segs: &[Seg]) -> Option<&'v Value> {
    for seg in segs {
        v = match (seg, v) {
            (Seg::Key(k), Value::Object(m)) => m.get(k)?,
            (Seg::Index(i), Value::Array(a)) => {
                let len = a.len() as i64;
                let idx = if *i < 0 { len + i } else { *i };
                if idx < 0 {
                    return None;
                }
                a.get(idx as usize)?
            }
            _ => return None,
        };
    }
    Some(v)
}

/// A compiled payload template (`Parameters`, `ResultSelector`, `ItemSelector`, JSONPath
/// `Assign` values).
#[derive(Debug, Clone)]
pub(crate) enum Template {
    /// A literal, copied as is.
    Literal(Value),
    /// An object; keys ending in `.$` were compiled to their value's path (the `.$` removed).
    Object(Vec<(String, Template)>),
    /// An array of templates.
    Array(Vec<Template>),
    /// A `.$` value: a path.
    Path { path: JPath, field: String },
}

impl Template {
    pub fn compile(v: &Value) -> Result<Template, String> {
        Ok(match v {
            Value::Object(m) => {
                let mut out = Vec::with_capacity(m.len());
                for (k, val) in m {
                    if let Some(stripped) = k.strip_suffix(".$") {
                        let Value::String(src) = val else {
                            return Err(format!(
                                "the value of '{k}' must be a string holding a path or intrinsic function"
                            ));
                        };
                        let path = JPath::parse(src)?;
                        out.push((
                            stripped.to_string(),
                            Template::Path {
                                path,
                                field: k.clone(),
                            },
                        ));
                    } else {
                        out.push((k.clone(), Template::compile(val)?));
                    }
                }
                if out.iter().all(|(_, t)| matches!(t, Template::Literal(_))) {
                    Template::Literal(v.clone())
                } else {
                    Template::Object(out)
                }
            }
            Value::Array(a) => {
                let items = a
                    .iter()
                    .map(Template::compile)
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|t| matches!(t, Template::Literal(_))) {
                    Template::Literal(v.clone())
                } else {
                    Template::Array(items)
                }
            }
            other => Template::Literal(other.clone()),
        })
    }

    pub fn uses_context(&self) -> bool {
        match self {
            Template::Literal(_) => false,
            Template::Object(o) => o.iter().any(|(_, t)| t.uses_context()),
            Template::Array(a) => a.iter().any(Template::uses_context),
            Template::Path { path, .. } => path.uses_context(),
        }
    }

    pub fn eval(&self, s: &Scope<'_>) -> Result<Value, Failure> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Object(o) => {
                let mut m = Map::with_capacity(o.len());
                for (k, t) in o {
                    m.insert(k.clone(), t.eval(s)?);
                }
                Ok(Value::Object(m))
            }
            Template::Array(a) => Ok(Value::Array(
                a.iter().map(|t| t.eval(s)).collect::<Result<_, _>>()?,
            )),
            Template::Path { path, field } => path.select(s).ok_or_else(|| {
                let input = match path.root {
                    Root::Context => s.context.get().to_string(),
                    _ => s.input.to_string(),
                };
                Failure::runtime(format!(
                    "The JSONPath '{}' specified for the field '{field}' could not be found in the input '{input}'",
                    path.src
                ))
            }),
        }
    }
}
