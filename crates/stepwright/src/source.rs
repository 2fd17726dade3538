//! Source positions: from a JSON pointer to a line, a column and the text it covers.
//!
//! Diagnostics carry JSON pointers (`/States/Train/Parameters`); people read files by line and
//! column. [`locate`] and [`locate_all`] find the place a pointer names in the JSON text it was
//! computed from, and [`LineIndex`] turns byte offsets into 1-based lines and columns.
//!
//! The scanner is iterative (no recursion), so any nesting depth is safe, and it never panics on
//! malformed text: it finds what it can and reports the rest as not found.
//!
//! ```
//! use stepwright::source::locate;
//! let text = "{\n  \"StartAt\": \"A\",\n  \"States\": {\"A\": {\"Type\": \"Pass\", \"End\": true}}\n}";
//! let span = locate(text, "/States/A/Type").unwrap();
//! assert_eq!((span.line, span.column), (3, 20));
//! assert_eq!(&text[span.start..span.end], "\"Type\": \"Pass\"");
//! ```

use std::borrow::Cow;
use std::collections::HashMap;

use crate::diagnostics::pointer_push;

/// A place in the text: byte offsets and the 1-based line and column (in characters) of the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Span {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column of `start`, counted in characters.
    pub column: usize,
}

/// Line starts of a text, for turning byte offsets into lines and columns.
///
/// ```
/// use stepwright::source::LineIndex;
/// let idx = LineIndex::new("ab\ncdé\nf");
/// assert_eq!(idx.line_col(4), (2, 2));
/// assert_eq!(idx.line_text(2), "cdé");
/// ```
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`.
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { text, starts }
    }

    /// The 1-based line and column (in characters) of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let col = self.text[self.starts[line]..offset].chars().count() + 1;
        (line + 1, col)
    }

    /// The byte offset of a 1-based line and column (in characters), clamped to the text.
    pub fn offset(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let line_len = rest.find('\n').unwrap_or(rest.len());
        rest[..line_len]
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(start + line_len, |(i, _)| start + i)
    }

    /// The text of a 1-based line, without its line break (empty past the end).
    pub fn line_text(&self, line: usize) -> &'a str {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else {
            return "";
        };
        let end = self
            .starts
            .get(line)
            .map_or(self.text.len(), |&next| next - 1);
        self.text[start..end.max(start)].trim_end_matches('\r')
    }

    /// A [`Span`] for a byte range.
    pub fn span(&self, start: usize, end: usize) -> Span {
        let (line, column) = self.line_col(start);
        Span {
            start,
            end: end.max(start),
            line,
            column,
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Finds the place a JSON pointer names in JSON text.
///
/// For an object member the span runs from the key to the end of the value; for an array element
/// or the root it covers the value. When the pointer names something that is not in the text (a
/// missing field), the nearest ancestor that is present is returned. `None` only when not even
/// the root is found (the text is not JSON).
pub fn locate(text: &str, pointer: &str) -> Option<Span> {
    locate_all(text, &[pointer]).pop().flatten()
}

/// [`locate`] for many pointers at once, in one pass over the text; results are in the order of
/// `pointers`.
pub fn locate_all(text: &str, pointers: &[&str]) -> Vec<Option<Span>> {
    // Every requested pointer and its ancestors, so that a missing field resolves to its parent.
    let mut wanted: HashMap<String, Found> = HashMap::new();
    for p in pointers {
        let mut p: &str = p;
        loop {
            wanted.entry(p.to_string()).or_default();
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => break,
            }
        }
    }
    find_pointers(text, &mut wanted);
    let index = LineIndex::new(text);
    pointers
        .iter()
        .map(|p| {
            let mut p: &str = p;
            loop {
                if let Some(f) = wanted.get(p) {
                    if let Some((s, e)) = f.range() {
                        return Some(index.span(s, e));
                    }
                }
                match p.rfind('/') {
                    Some(i) => p = &p[..i],
                    None => return None,
                }
            }
        })
        .collect()
}

#[derive(Default, Debug, Clone, Copy)]
struct Found {
    key: Option<usize>,
    value: Option<(usize, usize)>,
}

impl Found {
    fn range(&self) -> Option<(usize, usize)> {
        let (vs, ve) = self.value?;
        Some((self.key.unwrap_or(vs), ve))
    }
}

/// One thing the scanner saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// `{` at this offset.
    BeginObject(usize),
    /// `}` at this offset.
    EndObject(usize),
    /// `[` at this offset.
    BeginArray(usize),
    /// `]` at this offset.
    EndArray(usize),
    /// An object key: the byte range of the string including its quotes.
    Key(usize, usize),
    /// A string, number, boolean or null value: its byte range.
    Scalar(usize, usize),
}

/// Scans JSON text and reports its structure, iteratively. Stops at the first byte that cannot
/// start a token (the text is assumed to have been checked by a real parser; on bad input the
/// scan just ends early).
pub(crate) fn scan(text: &str, mut f: impl FnMut(Event)) {
    let b = text.as_bytes();
    let mut i = 0;
    // true = inside an object
    let mut stack: Vec<bool> = Vec::new();
    let mut expect_key = false;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b':' => i += 1,
            b',' => {
                expect_key = stack.last() == Some(&true);
                i += 1;
            }
            b'{' => {
                f(Event::BeginObject(i));
                stack.push(true);
                expect_key = true;
                i += 1;
            }
            b'[' => {
                f(Event::BeginArray(i));
                stack.push(false);
                expect_key = false;
                i += 1;
            }
            b'}' => {
                f(Event::EndObject(i));
                stack.pop();
                expect_key = false;
                i += 1;
            }
            b']' => {
                f(Event::EndArray(i));
                stack.pop();
                expect_key = false;
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                let end = (i + 1).min(b.len());
                i = end;
                if expect_key {
                    f(Event::Key(start, end));
                    expect_key = false;
                } else {
                    f(Event::Scalar(start, end));
                }
            }
            c if c == b'-' || c.is_ascii_alphanumeric() => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'-' | b'+' | b'.'))
                {
                    i += 1;
                }
                f(Event::Scalar(start, i));
            }
            _ => return,
        }
    }
}

/// The value of a JSON string literal (with its quotes), escapes resolved. Borrowed when it has
/// no escapes. Malformed escapes are kept as written.
pub(crate) fn unescape(raw: &str) -> Cow<'_, str> {
    let inner = raw
        .strip_prefix('"')
        .map(|s| s.strip_suffix('"').unwrap_or(s))
        .unwrap_or(raw);
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let Ok(hi) = u32::from_str_radix(&hex, 16) else {
                    out.push_str("\\u");
                    out.push_str(&hex);
                    continue;
                };
                if (0xD800..0xDC00).contains(&hi) {
                    // A surrogate pair: \uD83D\uDE00
                    let rest = chars.as_str();
                    if let Some(lo) = rest
                        .strip_prefix("\\u")
                        .and_then(|r| r.get(..4))
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .filter(|lo| (0xDC00..0xE000).contains(lo))
                    {
                        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                        chars = rest[6..].chars();
                        continue;
                    }
                }
                out.push(char::from_u32(hi).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Records the key start and value range of every wanted pointer.
fn find_pointers(text: &str, wanted: &mut HashMap<String, Found>) {
    struct Frame {
        base_len: usize,
        is_object: bool,
        index: usize,
        /// True when this container's own pointer is wanted.
        recording: bool,
        start: usize,
    }
    let mut cur = String::new();
    let mut frames: Vec<Frame> = Vec::new();
    // Called when a value starts: sets `cur` to the value's pointer.
    fn enter_value(cur: &mut String, frames: &mut [Frame]) {
        if let Some(top) = frames.last_mut() {
            if !top.is_object {
                cur.truncate(top.base_len);
                cur.push('/');
                cur.push_str(&top.index.to_string());
                top.index += 1;
            }
        }
    }
    scan(text, |ev| match ev {
        Event::Key(s, e) => {
            if let Some(top) = frames.last() {
                cur.truncate(top.base_len);
                let key = unescape(&text[s..e]);
                let p = pointer_push("", &key);
                cur.push_str(&p);
                if let Some(f) = wanted.get_mut(cur.as_str()) {
                    f.key = Some(s);
                }
            }
        }
        Event::Scalar(s, e) => {
            enter_value(&mut cur, &mut frames);
            if let Some(f) = wanted.get_mut(cur.as_str()) {
                f.value = Some((s, e));
            }
        }
        Event::BeginObject(s) | Event::BeginArray(s) => {
            enter_value(&mut cur, &mut frames);
            let recording = wanted.contains_key(cur.as_str());
            frames.push(Frame {
                base_len: cur.len(),
                is_object: matches!(ev, Event::BeginObject(_)),
                index: 0,
                recording,
                start: s,
            });
        }
        Event::EndObject(e) | Event::EndArray(e) => {
            if let Some(fr) = frames.pop() {
                cur.truncate(fr.base_len);
                if fr.recording {
                    if let Some(f) = wanted.get_mut(cur.as_str()) {
                        f.value = Some((fr.start, e + 1));
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"{
  "StartAt": "A",
  "States": {
    "A": {"Type": "Pass", "Next": "B~/x"},
    "B~/x": {
      "Type": "Pass",
      "Result": [1, {"k": "v"}, [true]],
      "End": true
    }
  }
}"#;

    fn at(p: &str) -> (usize, usize, &'static str) {
        let s = locate(TEXT, p).unwrap();
        (s.line, s.column, &TEXT[s.start..s.end])
    }

    #[test]
    fn finds_members_elements_and_escaped_names() {
        assert_eq!(at("/StartAt"), (2, 3, "\"StartAt\": \"A\""));
        assert_eq!(at("/States/A/Next"), (4, 27, "\"Next\": \"B~/x\""));
        assert_eq!(at("/States/B~0~1x/Result/1/k"), (7, 22, "\"k\": \"v\""));
        assert_eq!(at("/States/B~0~1x/Result/2/0"), (7, 34, "true"));
        assert_eq!(at("/States/B~0~1x/Result/0"), (7, 18, "1"));
        let root = locate(TEXT, "").unwrap();
        assert_eq!((root.start, root.end), (0, TEXT.len()));
    }

    #[test]
    fn missing_fields_resolve_to_the_nearest_ancestor() {
        let (l, c, s) = at("/States/A/Missing/Deeper");
        assert_eq!((l, c), (4, 5));
        assert!(s.starts_with("\"A\": {"));
    }

    #[test]
    fn many_at_once_keep_their_order() {
        let v = locate_all(TEXT, &["/States/A", "/StartAt", "/nope"]);
        assert_eq!(v[0].unwrap().line, 4);
        assert_eq!(v[1].unwrap().line, 2);
        assert_eq!(v[2].unwrap().line, 1); // the root
    }

    #[test]
    fn garbage_is_not_a_panic() {
        for t in [
            "",
            "{",
            "}",
            "\"",
            "[[[",
            "{\"a\":",
            "\u{e9}\"\\",
            "{\"a\\u12\":1}",
        ] {
            let _ = locate_all(t, &["/a/0", ""]);
        }
        assert_eq!(locate("", "/a"), None);
    }

    #[test]
    fn unescapes_keys() {
        assert_eq!(unescape(r#""a\"b""#), "a\"b");
        assert_eq!(unescape(r#""\u0041\n""#), "A\n");
        assert_eq!(unescape(r#""\ud83d\ude00!""#), "\u{1F600}!");
        assert!(matches!(unescape("\"plain\""), Cow::Borrowed("plain")));
    }

    #[test]
    fn line_index_round_trips() {
        let idx = LineIndex::new("ab\r\ncé\n\nx");
        assert_eq!(idx.line_col(0), (1, 1));
        assert_eq!(idx.line_col(5), (2, 2));
        assert_eq!(idx.line_text(1), "ab");
        assert_eq!(idx.line_text(3), "");
        assert_eq!(idx.offset(2, 2), 5);
        assert_eq!(idx.offset(9, 1), 10);
        assert_eq!(idx.line_col(999), (4, 2));
    }
}
