//! Checks that need the JSON text itself: duplicate object keys.
//!
//! `serde_json` keeps the last of two equal keys silently; AWS rejects the definition. One
//! iterative pass over the text (no recursion: any depth is safe) finds every duplicate.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::diagnostics::{pointer_push, Code, Diagnostic};
use crate::source::{scan, unescape, Event};

/// Above this many keys an object's key set switches from a vector to a hash set.
const LINEAR_KEYS: usize = 16;

enum Keys<'a> {
    Few(Vec<Cow<'a, str>>),
    Many(HashSet<Cow<'a, str>>),
}

impl<'a> Keys<'a> {
    /// Inserts a key; false when it was already there.
    fn insert(&mut self, k: Cow<'a, str>) -> bool {
        match self {
            Keys::Few(v) => {
                if v.contains(&k) {
                    return false;
                }
                v.push(k);
                if v.len() > LINEAR_KEYS {
                    let set: HashSet<Cow<'a, str>> = std::mem::take(v).into_iter().collect();
                    *self = Keys::Many(set);
                }
                true
            }
            Keys::Many(s) => s.insert(k),
        }
    }
}

enum Frame<'a> {
    Object {
        keys: Keys<'a>,
        /// The current member's key (its pointer token).
        current: Option<Cow<'a, str>>,
    },
    Array {
        index: usize,
    },
}

/// Appends a `DUPLICATE_JSON_KEY` error for every key that appears twice in one object.
pub(crate) fn duplicate_keys(text: &str, out: &mut Vec<Diagnostic>) {
    let mut frames: Vec<Frame<'_>> = Vec::new();
    let mut found: Vec<(String, String)> = Vec::new();
    // Array frames need to count elements; objects remember the current key.
    let value_starts = |frames: &mut Vec<Frame<'_>>| {
        if let Some(Frame::Array { index }) = frames.last_mut() {
            *index += 1;
        }
    };
    scan(text, |ev| match ev {
        Event::Key(s, e) => {
            let k = unescape(&text[s..e]);
            let dup = match frames.last_mut() {
                Some(Frame::Object { keys, .. }) => !keys.insert(k.clone()),
                _ => false,
            };
            if dup {
                found.push((pointer_of(&frames_prefix(&frames)), k.to_string()));
            }
            if let Some(Frame::Object { current, .. }) = frames.last_mut() {
                *current = Some(k);
            }
        }
        Event::Scalar(..) => value_starts(&mut frames),
        Event::BeginObject(_) => {
            value_starts(&mut frames);
            frames.push(Frame::Object {
                keys: Keys::Few(Vec::new()),
                current: None,
            });
        }
        Event::BeginArray(_) => {
            value_starts(&mut frames);
            frames.push(Frame::Array { index: 0 });
        }
        Event::EndObject(_) | Event::EndArray(_) => {
            frames.pop();
        }
    });
    for (base, key) in found {
        out.push(
            Diagnostic::error(
                Code::DuplicateJsonKey,
                pointer_push(&base, &key),
                format!("the key \"{key}\" appears more than once in this object"),
            )
            .with_help("JSON parsers keep only one of them (and AWS rejects the definition): remove or rename one"),
        );
    }
}

/// The pointer tokens of the containers on the stack (up to, not including, the top object's
/// current member).
fn frames_prefix(frames: &[Frame<'_>]) -> Vec<String> {
    let mut tokens = Vec::new();
    let n = frames.len();
    for (i, f) in frames.iter().enumerate() {
        if i + 1 == n {
            break;
        }
        match f {
            Frame::Object { current, .. } => {
                tokens.push(current.as_deref().unwrap_or("").to_string())
            }
            Frame::Array { index } => tokens.push(index.saturating_sub(1).to_string()),
        }
    }
    tokens
}

fn pointer_of(tokens: &[String]) -> String {
    tokens
        .iter()
        .fold(String::new(), |p, t| pointer_push(&p, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dups(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        duplicate_keys(text, &mut out);
        out.into_iter().map(|d| d.pointer).collect()
    }

    #[test]
    fn finds_duplicates_at_any_depth() {
        assert_eq!(dups(r#"{"a": 1, "a": 2}"#), vec!["/a"]);
        assert_eq!(
            dups(r#"{"x": [{"b": 1}, {"c": {"d": 1, "d": [1]}}]}"#),
            vec!["/x/1/c/d"]
        );
        assert_eq!(
            dups(r#"{"a": {"k": 1}, "b": {"k": 1}}"#),
            Vec::<String>::new()
        );
        assert_eq!(dups(r#"{"a\u0062": 1, "ab": 2}"#), vec!["/ab"]);
        assert_eq!(dups(r#"{"a/b": {"~": 1, "~": 2}}"#), vec!["/a~1b/~0"]);
    }

    #[test]
    fn many_keys_use_the_set() {
        let mut s = String::from("{");
        for i in 0..100 {
            s.push_str(&format!("\"k{i}\": {i},"));
        }
        s.push_str("\"k42\": 0}");
        assert_eq!(dups(&s), vec!["/k42"]);
    }

    #[test]
    fn deep_nesting_is_fine() {
        let s = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(dups(&s).is_empty());
    }
}
