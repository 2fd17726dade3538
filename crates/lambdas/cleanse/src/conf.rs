//! Reading JSON configuration documents with errors that carry the JSON pointer of the bad field.
//!
//! The cleanse rules and the validate expectation suites are parsed by hand through [`Node`], so that
//! every mistake (an unknown rule, a field of the wrong type, a misspelt key) is reported with the
//! exact pointer of the offending value, e.g. `/rules/3/action`.
//!
//! ```
//! use cleanse::conf::Node;
//! let doc = serde_json::json!({"rules": [{"rule": "trim", "colums": ["a"]}]});
//! let root = Node::root(&doc);
//! let rule = root.field("rules").unwrap().unwrap().items().unwrap().remove(0);
//! let err = rule.deny_unknown(&["rule", "columns"]).unwrap_err();
//! assert_eq!(err.pointer, "/rules/0/colums");
//! ```

use std::fmt;

use serde_json::Value;

/// A configuration error: what is wrong and where (a JSON pointer into the configuration document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfError {
    /// JSON pointer of the offending value (`""` for the whole document).
    pub pointer: String,
    /// What is wrong and, where it helps, how to fix it.
    pub message: String,
}

impl ConfError {
    /// A new error at `pointer`.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        ConfError {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{} (at {at})", self.message)
    }
}

impl std::error::Error for ConfError {}

/// Appends one reference token to a JSON pointer, escaping `~` and `/` (RFC 6901).
pub fn pointer_push(base: &str, token: &str) -> String {
    let mut s = String::with_capacity(base.len() + token.len() + 1);
    s.push_str(base);
    s.push('/');
    for c in token.chars() {
        match c {
            '~' => s.push_str("~0"),
            '/' => s.push_str("~1"),
            c => s.push(c),
        }
    }
    s
}

/// A value inside a configuration document together with its JSON pointer.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// The value.
    pub value: &'a Value,
    /// Its JSON pointer from the document root.
    pub pointer: String,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> Node<'a> {
    /// The document root.
    pub fn root(value: &'a Value) -> Self {
        Node {
            value,
            pointer: String::new(),
        }
    }

    /// An error at this node.
    pub fn error(&self, message: impl Into<String>) -> ConfError {
        ConfError::new(self.pointer.clone(), message)
    }

    fn expected(&self, what: &str) -> ConfError {
        self.error(format!("expected {what}, found {}", type_name(self.value)))
    }

    /// The object's members, or an error when this is not an object.
    pub fn object(&self) -> Result<&'a serde_json::Map<String, Value>, ConfError> {
        self.value
            .as_object()
            .ok_or_else(|| self.expected("an object"))
    }

    /// Fails on the first member whose name is not in `allowed`, naming the allowed ones.
    pub fn deny_unknown(&self, allowed: &[&str]) -> Result<(), ConfError> {
        for k in self.object()?.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(ConfError::new(
                    pointer_push(&self.pointer, k),
                    format!(
                        "unknown field `{k}`; expected one of: {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The member `name` if present (an error when this node is not an object).
    pub fn field(&self, name: &str) -> Result<Option<Node<'a>>, ConfError> {
        Ok(self.object()?.get(name).map(|v| Node {
            value: v,
            pointer: pointer_push(&self.pointer, name),
        }))
    }

    /// The member `name`, which must be present.
    pub fn req(&self, name: &str) -> Result<Node<'a>, ConfError> {
        self.field(name)?
            .ok_or_else(|| self.error(format!("missing required field `{name}`")))
    }

    /// The array's elements.
    pub fn items(&self) -> Result<Vec<Node<'a>>, ConfError> {
        let arr = self
            .value
            .as_array()
            .ok_or_else(|| self.expected("an array"))?;
        Ok(arr
            .iter()
            .enumerate()
            .map(|(i, v)| Node {
                value: v,
                pointer: pointer_push(&self.pointer, &i.to_string()),
            })
            .collect())
    }

    /// The object's members as nodes, in document order.
    pub fn members(&self) -> Result<Vec<(&'a str, Node<'a>)>, ConfError> {
        Ok(self
            .object()?
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    Node {
                        value: v,
                        pointer: pointer_push(&self.pointer, k),
                    },
                )
            })
            .collect())
    }

    /// A string.
    pub fn str(&self) -> Result<&'a str, ConfError> {
        self.value.as_str().ok_or_else(|| self.expected("a string"))
    }

    /// A boolean.
    pub fn bool(&self) -> Result<bool, ConfError> {
        self.value
            .as_bool()
            .ok_or_else(|| self.expected("a boolean"))
    }

    /// A finite number.
    pub fn f64(&self) -> Result<f64, ConfError> {
        self.value.as_f64().ok_or_else(|| self.expected("a number"))
    }

    /// A non-negative integer.
    pub fn u64(&self) -> Result<u64, ConfError> {
        self.value
            .as_u64()
            .ok_or_else(|| self.expected("a non-negative integer"))
    }

    /// One of the listed strings.
    pub fn one_of(&self, choices: &[&'static str]) -> Result<&'static str, ConfError> {
        let s = self.str()?;
        choices.iter().copied().find(|c| *c == s).ok_or_else(|| {
            self.error(format!(
                "unknown value `{s}`; expected one of: {}",
                choices.join(", ")
            ))
        })
    }

    /// A string or an array of strings (a single string is a one-element list).
    pub fn strings(&self) -> Result<Vec<(String, String)>, ConfError> {
        if let Some(s) = self.value.as_str() {
            return Ok(vec![(s.to_string(), self.pointer.clone())]);
        }
        self.items()?
            .into_iter()
            .map(|n| Ok((n.str()?.to_string(), n.pointer.clone())))
            .collect()
    }

    /// A single byte given as a one-character ASCII string (`","`, `"\t"`).
    pub fn ascii_byte(&self) -> Result<u8, ConfError> {
        let s = self.str()?;
        match s.as_bytes() {
            [b] if b.is_ascii() && *b != b'\n' && *b != b'\r' => Ok(*b),
            _ => Err(self.error(format!(
                "expected a single ASCII character other than a line break, found {s:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_escape_tilde_and_slash() {
        assert_eq!(pointer_push("/a", "b/c~d"), "/a/b~1c~0d");
    }

    #[test]
    fn type_errors_name_the_pointer_and_the_found_type() {
        let doc = json!({"a": [1, "x"]});
        let items = Node::root(&doc).req("a").unwrap().items().unwrap();
        let e = items[1].f64().unwrap_err();
        assert_eq!(e.pointer, "/a/1");
        assert!(e.message.contains("found a string"), "{e}");
        let e = Node::root(&doc).req("b").unwrap_err();
        assert_eq!(e.pointer, "");
        assert!(e.message.contains("`b`"));
    }

    #[test]
    fn one_of_lists_choices() {
        let doc = json!("clamp");
        let e = Node::root(&doc).one_of(&["drop", "clip"]).unwrap_err();
        assert!(e.message.contains("drop, clip"), "{e}");
    }

    #[test]
    fn ascii_byte_rejects_multichar_and_newline() {
        assert_eq!(Node::root(&json!(";")).ascii_byte().unwrap(), b';');
        assert!(Node::root(&json!(";;")).ascii_byte().is_err());
        assert!(Node::root(&json!("\n")).ascii_byte().is_err());
    }
}
