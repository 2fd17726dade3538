//! A borrowed JSON tree for the model reader, and a strict one-pass parser that builds it from
//! text.
//!
//! Reading a definition through `serde_json::Value` costs a hash-map entry, an owned key and a
//! SipHash per member, then a clone of every payload the model keeps. This tree borrows its
//! strings from the text (escaped strings are decoded into owned ones), keeps object members
//! in a vector, and is converted to `Value` only for the payloads the model stores.
//!
//! The parser is a fast path, not a second JSON implementation to trust: it returns `None` for
//! anything it does not accept exactly as `serde_json` would (any syntax error, duplicate keys,
//! deep nesting, numbers other than plain integers and strings with escapes are delegated to
//! `serde_json` itself), and the caller then takes the `serde_json::Value` route, which produces
//! the diagnostics. The two routes give the same model: `tests` compare them on the corpus.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

/// The members of an object, in text order (keys are unique: see [`parse`]).
pub(crate) type Members<'a> = Vec<(Cow<'a, str>, J<'a>)>;

/// A JSON value whose strings may borrow from the text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum J<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<J<'a>>),
    Object(Members<'a>),
}

/// Nesting deeper than this goes to `serde_json` (whose limit is 128 levels), so that its error
/// is the one reported.
const MAX_DEPTH: usize = 100;

/// Objects with more members than this check their keys for duplicates with a hash set.
const LINEAR_KEYS: usize = 16;

impl<'a> J<'a> {
    /// Borrows a `serde_json` value (strings are not copied).
    pub(crate) fn from_value(v: &'a Value) -> J<'a> {
        match v {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => J::Number(n.clone()),
            Value::String(s) => J::String(Cow::Borrowed(s)),
            Value::Array(items) => J::Array(items.iter().map(J::from_value).collect()),
            Value::Object(m) => J::Object(
                m.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), J::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// The value as a `serde_json::Value` (for the payloads the model keeps).
    pub(crate) fn to_value(&self) -> Value {
        match self {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Number(n.clone()),
            J::String(s) => Value::String(s.to_string()),
            J::Array(items) => Value::Array(items.iter().map(J::to_value).collect()),
            J::Object(m) => Value::Object(to_map(m)),
        }
    }

    /// The members when the value is an object.
    pub(crate) fn as_object(&self) -> Option<&Members<'a>> {
        match self {
            J::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The JSON type of the value, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            J::Null => "null",
            J::Bool(_) => "a boolean",
            J::Number(_) => "a number",
            J::String(_) => "a string",
            J::Array(_) => "an array",
            J::Object(_) => "an object",
        }
    }
}

/// An object's members as a `serde_json` map.
pub(crate) fn to_map(m: &[(Cow<'_, str>, J<'_>)]) -> Map<String, Value> {
    let mut out = Map::with_capacity(m.len());
    for (k, v) in m {
        out.insert(k.to_string(), v.to_value());
    }
    out
}

/// Parses `text` when it is valid JSON without duplicate keys, nested at most [`MAX_DEPTH`]
/// levels; `None` otherwise (and for anything this parser leaves to `serde_json`).
pub(crate) fn parse(text: &str) -> Option<J<'_>> {
    parse_with(text, None).map(|(v, _)| v)
}

/// A callback taking each top-level state (name and tree) as soon as it is parsed, with the
/// machine's members written before `States` (e.g. its `QueryLanguage`); `false` stops the parse
/// (the caller then takes the `serde_json` route).
pub(crate) type StateHook<'h, 'a> =
    &'h mut dyn FnMut(&[(Cow<'a, str>, J<'a>)], Cow<'a, str>, J<'a>) -> bool;

/// [`parse`], handing the members of the top-level `States` object to `hook` one at a time
/// instead of keeping them in the tree (where an empty object stands in for them). The flag says
/// whether that happened (it does not when there is no top-level `States` object).
pub(crate) fn parse_streaming_states<'a>(
    text: &'a str,
    hook: StateHook<'_, 'a>,
) -> Option<(J<'a>, bool)> {
    parse_with(text, Some(hook))
}

/// The top-level `States` object of a text cut into slices for several threads
/// ([`split_states`]): each slice is parsed with [`parse_state_slice`] on a thread of its own,
/// and the rest of the machine with [`parse_skipping_states`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StatesSplit<'a> {
    /// The machine's members written before `States`.
    pub(crate) before: Members<'a>,
    /// The offset of the object's `{`.
    pub(crate) open: usize,
    /// Where each slice starts: the first member (its key's opening quote), then the places
    /// guessed to start a member, in increasing order. Only the first is known to be one: each
    /// slice's parse checks that the next slice starts where one of its members ends.
    pub(crate) starts: Vec<usize>,
}

/// The first byte at or after `i` inside a JSON string that ends a plain run (see
/// [`special_bytes`]), eight bytes at a time; the end of `b` is reached in the last few bytes.
#[inline(always)]
fn plain_run_end(b: &[u8], mut i: usize) -> usize {
    while let Some(&chunk) = b.get(i..i + 8).and_then(|c| <&[u8; 8]>::try_from(c).ok()) {
        let mask = special_bytes(u64::from_le_bytes(chunk));
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

/// The byte after the string whose opening quote is at `i` (escapes are skipped, not checked).
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        i = plain_run_end(b, i);
        match *b.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

#[inline]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

/// The first place at or after `from` that looks like the start of a state in a `States`
/// object: `}`, a comma, then `"name": {` (whitespace allowed between). A guess: the same bytes
/// can be found inside a state, or inside a string.
fn state_start_after(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        i += b.get(i..)?.iter().position(|&c| c == b'}')? + 1;
        let comma = skip_ws(b, i);
        if b.get(comma) != Some(&b',') {
            continue;
        }
        let key = skip_ws(b, comma + 1);
        if b.get(key) != Some(&b'"') {
            continue;
        }
        let Some(end) = skip_string(b, key) else {
            continue;
        };
        let colon = skip_ws(b, end);
        let open = skip_ws(b, colon + 1);
        if b.get(colon) == Some(&b':') && b.get(open) == Some(&b'{') && has_type(b, open) {
            return Some(key);
        }
    }
}

/// Whether the object at `open` has a `Type` member with a string value, as a state has (and
/// the other objects of a state seldom have).
fn has_type(b: &[u8], open: usize) -> bool {
    let mut i = skip_ws(b, open + 1);
    while b.get(i) == Some(&b'"') {
        let Some(end) = skip_string(b, i) else {
            return false;
        };
        let key = &b[i..end];
        i = skip_ws(b, end);
        if b.get(i) != Some(&b':') {
            return false;
        }
        i = skip_ws(b, i + 1);
        if key == b"\"Type\"" {
            return b.get(i) == Some(&b'"');
        }
        let Some(end) = skip_value(b, i) else {
            return false;
        };
        i = skip_ws(b, end);
        if b.get(i) != Some(&b',') {
            return false;
        }
        i = skip_ws(b, i + 1);
    }
    false
}

/// The offset just past the value starting at `i` (at the `,`, `}` or `]` after a scalar):
/// brackets are counted and strings skipped, nothing else is checked.
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        match *b.get(i)? {
            b'"' => {
                i = skip_string(b, i)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b',' if depth == 0 => return Some(i),
            _ => i += 1,
        }
    }
}

/// Parses the machine's members written before its top-level `States` object and cuts that
/// object into at most `n` slices of about `min_slice_bytes` or more, by guessing where states
/// start (see [`StatesSplit::starts`]). `None` when there would be fewer than two slices, or when
/// the text is not what the fast parser accepts up to there (the caller then parses it in one
/// piece, which reports what is wrong).
pub(crate) fn split_states(
    text: &str,
    n: usize,
    min_slice_bytes: usize,
) -> Option<StatesSplit<'_>> {
    let mut p = Parser::new(text, 8, 8, None);
    p.ws();
    if p.b.get(p.pos) != Some(&b'{') {
        return None;
    }
    p.pos += 1;
    let open = loop {
        p.ws();
        if p.b.get(p.pos) != Some(&b'"') {
            return None;
        }
        let key = p.string()?;
        p.eat(b':')?;
        if key == "States" {
            p.ws();
            if p.b.get(p.pos) != Some(&b'{') {
                return None;
            }
            break p.pos;
        }
        let v = p.value(1)?;
        p.members.push((key, v));
        p.eat(b',')?;
    };
    let first = skip_ws(p.b, open + 1);
    if p.b.get(first) != Some(&b'"') {
        return None;
    }
    // `States` is most of a large definition: its size is taken as the rest of the text.
    let bytes = text.len() - open;
    let n = n.min(bytes / min_slice_bytes.max(1));
    let mut starts = vec![first];
    for k in 1..n {
        let at = open + bytes * k / n;
        match state_start_after(p.b, at.max(*starts.last()? + 1)) {
            Some(s) => starts.push(s),
            None => break,
        }
    }
    (starts.len() > 1).then(|| StatesSplit {
        before: std::mem::take(&mut p.members),
        open,
        starts,
    })
}

/// Parses slice `k` of `split` exactly as [`parse`] would parse those members of `States`,
/// handing each (name, tree) to `each` as soon as it is parsed (`false` from `each` stops). The
/// slice ends where the first later slice starts at the end of one of its members (the slices
/// between were wrong guesses), or at the `}` that closes the object. Returns that end: the
/// later slice's index and start, or `split.starts.len()` and the offset of the `}`.
///
/// `None` when the text is not what the parser accepts. When slice `k` starts where no member
/// starts (a wrong guess), what it returns means nothing: only the slices reached from the first
/// one, each from the end of the one before, are read.
pub(crate) fn parse_state_slice<'a>(
    text: &'a str,
    split: &StatesSplit<'_>,
    k: usize,
    each: &mut dyn FnMut(Cow<'a, str>, J<'a>) -> bool,
) -> Option<(usize, usize)> {
    let mut next = k + 1;
    let mut p = Parser::new(text, 64, 64, None);
    p.pos = *split.starts.get(k)?;
    loop {
        if p.b.get(p.pos) != Some(&b'"') {
            return None;
        }
        let name = p.string()?;
        p.eat(b':')?;
        // The depth `parse` has there: the machine is 1, `States` 2.
        let state = p.value(2)?;
        if !each(name, state) {
            return None;
        }
        p.ws();
        match p.b.get(p.pos)? {
            b',' => {
                p.pos += 1;
                p.ws();
                while split.starts.get(next).is_some_and(|&s| s < p.pos) {
                    next += 1;
                }
                if split.starts.get(next) == Some(&p.pos) {
                    return Some((next, p.pos));
                }
            }
            b'}' => return Some((split.starts.len(), p.pos)),
            _ => return None,
        }
    }
}

/// [`parse`], with the top-level `States` object that starts at `open` and ends just before
/// `end` left out of the tree (an empty object stands in for it) and not parsed: the caller
/// parses it with [`parse_state_slice`]. The flag says whether it was left out.
pub(crate) fn parse_skipping_states(text: &str, open: usize, end: usize) -> Option<(J<'_>, bool)> {
    let mut p = Parser::new(text, 64, 64, None);
    p.skip = Some((open, end));
    p.whole()
}

fn parse_with<'a>(text: &'a str, hook: Option<StateHook<'_, 'a>>) -> Option<(J<'a>, bool)> {
    // Reserve the stacks once, at their upper bounds (a member per ':', an item per ',' or '['):
    // growing them step by step costs a large allocation per step, and glibc consolidates its
    // free lists on each one, which made parsing superlinear in the number of states. A large
    // reservation is only address space until it is used.
    // With a hook, the states leave the stacks as they are read: they stay as small as the
    // largest state, and counting would only cost a pass over the text.
    let (colons, items) = match hook {
        Some(_) => (64, 64),
        None => count_separators(text.as_bytes()),
    };
    Parser::new(text, colons, items, hook).whole()
}

/// A mask whose lowest set bit is the high bit of the first byte of `w` (little-endian) that ends
/// a plain run inside a JSON string: `"`, `\` or a control byte (< 0x20). Bits above the first
/// such byte may be set spuriously (borrows), so only the lowest one is meaningful.
#[inline]
fn special_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    zero(w ^ (ONES * u64::from(b'"')))
        | zero(w ^ (ONES * u64::from(b'\\')))
        | (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
}

/// Key equality for the short keys of a definition: length and first byte decide most pairs
/// without a call to `memcmp`.
#[inline]
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// The number of `:` and of `,` or `[` bytes in `text` (upper bounds of the members and items
/// the parser will stack). Counted in blocks of at most 255 bytes with byte-wide counters, which
/// the compiler turns into vector code: a byte-at-a-time count cost about a tenth of the parse.
fn count_separators(text: &[u8]) -> (usize, usize) {
    let (mut colons, mut items) = (0usize, 0usize);
    for block in text.chunks(255) {
        let (mut c, mut i) = (0u8, 0u8);
        for &b in block {
            c += u8::from(b == b':');
            i += u8::from(b == b',') + u8::from(b == b'[');
        }
        colons += usize::from(c);
        items += usize::from(i);
    }
    (colons, items)
}

struct Parser<'a, 'h> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    /// Members of the objects being read, innermost last: each object moves its own into a
    /// vector of the exact size when it closes (no growth, no reallocation per object).
    members: Members<'a>,
    /// The same for array items.
    items: Vec<J<'a>>,
    /// Takes the top-level states as they are parsed (see [`parse_streaming_states`]).
    hook: Option<StateHook<'h, 'a>>,
    /// Whether the top-level `States` went to the hook (or was skipped).
    streamed: bool,
    /// Where the top-level `States` object starts and ends (exclusive) when it is skipped
    /// (see [`parse_skipping_states`]).
    skip: Option<(usize, usize)>,
}

impl<'a, 'h> Parser<'a, 'h> {
    /// A parser at the start of `text`, its stacks reserved for `members` and `items`.
    fn new(text: &'a str, members: usize, items: usize, hook: Option<StateHook<'h, 'a>>) -> Self {
        Parser {
            s: text,
            b: text.as_bytes(),
            pos: 0,
            members: Vec::with_capacity(members),
            items: Vec::with_capacity(items),
            hook,
            streamed: false,
            skip: None,
        }
    }

    fn ws(&mut self) {
        self.pos = skip_ws(self.b, self.pos);
    }

    /// The whole text as one value (nothing but whitespace after it), and whether the top-level
    /// `States` went to the hook or was skipped.
    fn whole(mut self) -> Option<(J<'a>, bool)> {
        let v = self.value(0)?;
        self.ws();
        (self.pos == self.b.len()).then_some((v, self.streamed))
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        if self.b.get(self.pos) == Some(&c) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    fn value(&mut self, depth: usize) -> Option<J<'a>> {
        self.ws();
        match *self.b.get(self.pos)? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string().map(J::String),
            b't' => self.literal("true", J::Bool(true)),
            b'f' => self.literal("false", J::Bool(false)),
            b'n' => self.literal("null", J::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str, v: J<'a>) -> Option<J<'a>> {
        if self.b[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Some(v)
        } else {
            None
        }
    }

    fn object(&mut self, depth: usize) -> Option<J<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let first = self.members.len();
        self.each_member(|p, key| {
            let skip = p
                .skip
                .filter(|_| depth == 1 && !p.streamed && key == "States");
            let v = if let Some((open, end)) = skip {
                p.ws();
                if p.pos == open {
                    p.pos = end;
                    p.streamed = true;
                    J::Object(Vec::new())
                } else {
                    p.value(depth)?
                }
            } else if depth == 1 && !p.streamed && p.hook.is_some() && key == "States" {
                p.streamed = p.stream_states(depth + 1, first)?;
                if p.streamed {
                    J::Object(Vec::new())
                } else {
                    p.value(depth)?
                }
            } else {
                p.value(depth)?
            };
            p.members.push((key, v));
            Some(())
        })?;
        let members: Members<'a> = self.members.split_off(first);
        if has_duplicates(&members) {
            return None;
        }
        Some(J::Object(members))
    }

    /// The members of the object at the current position (`{`): `member` gets each key and
    /// parses its value (the position is just after the colon).
    fn each_member(
        &mut self,
        mut member: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>,
    ) -> Option<()> {
        self.pos += 1; // '{'
        self.ws();
        if self.b.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.ws();
            if self.b.get(self.pos) != Some(&b'"') {
                return None;
            }
            let key = self.string()?;
            self.eat(b':')?;
            member(self, key)?;
            self.ws();
            match self.b.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The members of the top-level `States` object (at `depth`), each handed to the hook as soon
    /// as it is parsed. `Some(false)` when the value is not an object (it is then parsed as usual).
    /// `first` is where the machine's own members start in `members`.
    fn stream_states(&mut self, depth: usize, first: usize) -> Option<bool> {
        self.ws();
        if self.b.get(self.pos) != Some(&b'{') {
            return Some(false);
        }
        if depth > MAX_DEPTH {
            return None;
        }
        self.each_member(|p, name| {
            let state = p.value(depth)?;
            let hook = p.hook.as_mut()?;
            hook(&p.members[first..], name, state).then_some(())
        })?;
        Some(true)
    }

    fn array(&mut self, depth: usize) -> Option<J<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1; // '['
        self.ws();
        if self.b.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Some(J::Array(Vec::new()));
        }
        let first = self.items.len();
        loop {
            let v = self.value(depth)?;
            self.items.push(v);
            self.ws();
            match self.b.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Some(J::Array(self.items.split_off(first)));
                }
                _ => return None,
            }
        }
    }

    /// A string; the current byte is `"`. Strings without escapes are borrowed; escaped ones are
    /// decoded by `serde_json` (its rules for surrogates and escapes, exactly).
    #[inline(always)]
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.pos;
        let b = self.b;
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            i = plain_run_end(b, i);
            match *b.get(i)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                c if c < 0x20 => return None,
                _ => i += 1,
            }
        }
        self.pos = i + 1;
        if escaped {
            return self.escaped(start, i);
        }
        Some(Cow::Borrowed(&self.s[start + 1..i]))
    }

    /// The string with escapes between the quotes at `start` and `end`.
    #[cold]
    fn escaped(&self, start: usize, end: usize) -> Option<Cow<'a, str>> {
        serde_json::from_str::<String>(&self.s[start..=end])
            .ok()
            .map(Cow::Owned)
    }

    /// A number. Plain non-negative integers of up to 19 digits are read here; any other number
    /// text is handed to `serde_json` (floats, negatives, huge values: its exact semantics).
    fn number(&mut self) -> Option<J<'a>> {
        let start = self.pos;
        let b = self.b;
        let mut i = start;
        if b[i] == b'-' {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = b.get(i) {
                    i += 1;
                }
            }
            _ => return None,
        }
        let int_end = i;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let digits = i;
            while let Some(b'0'..=b'9') = b.get(i) {
                i += 1;
            }
            if i == digits {
                return None;
            }
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let digits = i;
            while let Some(b'0'..=b'9') = b.get(i) {
                i += 1;
            }
            if i == digits {
                return None;
            }
        }
        self.pos = i;
        let text = &self.s[start..i];
        if int_end == i && b[start] != b'-' && text.len() <= 19 {
            return text.parse::<u64>().ok().map(|u| J::Number(u.into()));
        }
        serde_json::from_str::<Number>(text).ok().map(J::Number)
    }
}

fn has_duplicates(members: &Members<'_>) -> bool {
    if members.len() <= LINEAR_KEYS {
        // A first sieve: keys that differ in length or end bytes fall in different bits of a
        // word, and an object whose keys all do has no duplicate (the common case, decided
        // without comparing pairs).
        let mut bits = 0u64;
        let mut clash = false;
        for (k, _) in members {
            let b = k.as_bytes();
            let h = b.len() * 7
                + usize::from(b.first().copied().unwrap_or(0))
                + usize::from(b.last().copied().unwrap_or(0));
            let bit = 1u64 << (h % 64);
            clash |= bits & bit != 0;
            bits |= bit;
        }
        if !clash {
            return false;
        }
        members
            .iter()
            .enumerate()
            .any(|(i, (k, _))| members[..i].iter().any(|(k2, _)| same_key(k2, k)))
    } else {
        let mut seen: foldhash::HashSet<&str> =
            foldhash::HashSet::with_capacity_and_hasher(members.len(), Default::default());
        members.iter().any(|(k, _)| !seen.insert(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The states of `text` parsed in up to `n` slices, then the machine without them: what
    /// [`parse`] gives in one piece, or `None` (left to the one-piece parser).
    fn in_slices(text: &str, n: usize) -> Option<J<'_>> {
        let split = split_states(text, n, 1)?;
        assert!(split.starts.len() >= 2 && split.starts.len() <= n);
        assert!(split.starts.windows(2).all(|w| w[0] < w[1]));
        // Every slice parsed (as the threads do), then the ones reached from the first joined.
        let parsed: Vec<_> = (0..split.starts.len())
            .map(|k| {
                let mut states = Vec::new();
                let end = parse_state_slice(text, &split, k, &mut |name, v| {
                    states.push((name, v));
                    true
                });
                end.map(|end| (states, end))
            })
            .collect();
        let (mut states, mut k, mut end) = (Vec::new(), 0, 0);
        while k < split.starts.len() {
            let (part, (next, at)) = parsed[k].clone()?;
            assert!(next > k);
            if next < split.starts.len() {
                assert_eq!(at, split.starts[next]);
            }
            states.extend(part);
            (k, end) = (next, at);
        }
        let (mut machine, skipped) = parse_skipping_states(text, split.open, end + 1)?;
        assert!(skipped);
        if let J::Object(m) = &mut machine {
            let before: Vec<_> = m
                .iter()
                .take_while(|(k, _)| k != "States")
                .cloned()
                .collect();
            assert_eq!(before, split.before);
            let slot = m.iter_mut().find(|(k, _)| k == "States")?;
            slot.1 = J::Object(states);
        }
        Some(machine)
    }

    /// Where the members of the top-level `States` start.
    fn member_starts(text: &str) -> Vec<usize> {
        let split = split_states(text, 1 << 20, 1).unwrap();
        let mut out = vec![split.starts[0]];
        let mut p = Parser::new(text, 8, 8, None);
        p.pos = split.starts[0];
        loop {
            p.string().unwrap();
            p.eat(b':').unwrap();
            p.value(2).unwrap();
            if p.eat(b',').is_none() {
                return out;
            }
            p.ws();
            out.push(p.pos);
        }
    }

    #[test]
    fn states_parsed_in_slices_equal_the_one_piece_parse() {
        let chain: String = (0..40)
            .map(|i| format!(r#""S{i}": {{"Type": "Pass", "Parameters": {{"a": {{"x": {i}}}, "b": {{"y": "}}, \"c\": {{"}}}}, "Next": "S{}"}}"#, i + 1))
            .collect::<Vec<_>>()
            .join(",\n  ");
        let chain = format!(
            r#"{{"Comment": "c", "StartAt": "S0", "States": {{{chain}, "S40": {{"Type": "Succeed"}}}}}}"#
        );
        let texts = [
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}}"#,
            // Braces, brackets, commas, quotes and backslashes inside strings and keys; nested
            // `States`; arrays; every kind of scalar; the machine's members after `States`.
            r#" { "Comment" : "a \"States\": {\"x\"}, ]" , "St\u0061rtAt": "A}", "States" : {
                "A}" : {"Type": "Pass", "Parameters": {"s": "}\\", "t": ["{", [1, 2.5e3, -0], {"States": {}}]}, "Next": "B,"},
                "B," : {"Type": "Parallel", "Branches": [{"StartAt": "C", "States": {"C": {"Type": "Succeed"}, "D": {"Type": "Succeed"}}}], "Next": "D\u0041"},
                "D\u0041": {"Type": "Pass", "Result": {"k": {}, "l": {"m": 1}}, "ResultPath": "$.x", "End": true} ,
                "E": {"Type": "Fail", "Error": "E\n", "Cause": "}, \"F\": {"}
              } , "Version": "1.0" } "#,
            &chain,
        ];
        let (mut sliced, mut wrong_guesses) = (0, 0);
        for text in texts {
            let whole = parse(text).expect("valid JSON");
            for n in 2..=8 {
                // A wrong guess of where a state starts: the slice before reads on.
                let m = in_slices(text, n).unwrap_or_else(|| panic!("{n} slices: {text}"));
                assert_eq!(m, whole, "{n} slices: {text}");
                let split = split_states(text, n, 1).unwrap();
                sliced += 1;
                wrong_guesses += split
                    .starts
                    .iter()
                    .filter(|&&s| !member_starts(text).contains(&s))
                    .count();
            }
        }
        assert!(
            sliced == 21 && wrong_guesses >= 3,
            "{sliced} parsed in slices, {wrong_guesses} wrong guesses"
        );
    }

    #[test]
    fn texts_not_for_slices_are_left_to_the_one_piece_parser() {
        // No `States` object with members, or nothing to cut: no slices.
        for text in [
            "",
            "[]",
            r#"{"StartAt": "A"}"#,
            r#"{"States": []}"#,
            r#"{"States": {}}"#,
            r#"{"States": {"A": {}}}"#,
            r#"{"Comment": 01, "States": {"A": {}, "B": {}}}"#,
        ] {
            assert_eq!(split_states(text, 4, 1), None, "{text}");
        }
        // What the parser would not accept: no parse in slices either.
        for text in [
            r#"{"States": {"A": {"Type": "Pass", "x": 1,}, "B": {"Type": "Pass"}}}"#,
            r#"{"States": {"A": {"Type": "Pass"}, "B": {"Type": "Pass", "x": 01}}}"#,
            r#"{"States": {"A": {"Type": "Pass", "x": 2, "x": 2}, "B": {"Type": "Pass"}}}"#,
            r#"{"States": {"A": {"Type": "Pass", "x": [1 2]}, "B": {"Type": "Pass"}}}"#,
            r#"{"States": {"A": {"Type": "Pass"}, "B": {"Type": "Pass"}}, "States": {"C": {}}}"#,
            r#"{"States": {"A": {"Type": "Pass"}, "B": {"Type": "Pass"}} "x": 1}"#,
            r#"{"States": {"A": {"Type": "Pass"}, "B": {"Type": "Pass"}}"#,
            r#"{"States": {"A": {"Type": "Pass"}, "B": {"Type": "Pass"}}}}"#,
            "{\"States\": {\"A\": {\"Type\": \"\u{1}\"}, \"B\": {\"Type\": \"Pass\"}}}",
        ] {
            // The first state made long, so that the second starts after the middle of `States`.
            let text = &text.replacen(
                r#""A": {"#,
                &format!(r#""A": {{"Comment": "{}", "#, ".".repeat(80)),
                1,
            );
            assert_eq!(parse(text), None, "{text}");
            assert!(split_states(text, 2, 1).is_some(), "{text}");
            assert_eq!(in_slices(text, 2), None, "{text}");
        }
    }

    /// The fast parser either agrees with serde_json or leaves the text to it.
    fn agrees(text: &str) {
        let ours = parse(text).map(|j| j.to_value());
        let theirs = serde_json::from_str::<Value>(text).ok();
        if let Some(v) = ours {
            assert_eq!(Some(&v), theirs.as_ref(), "text: {text:?}");
            // Number representation too (u64 / i64 / f64), not only numeric equality.
            assert_eq!(v.to_string(), theirs.unwrap().to_string(), "text: {text:?}");
        }
    }

    /// The word scan finds the first quote, backslash or control byte exactly (including next to
    /// UTF-8 continuation bytes and bytes just above and below the thresholds).
    #[test]
    fn special_byte_scan_finds_the_first_special_byte() {
        let interesting = [
            0x00u8, 0x01, 0x1f, 0x20, 0x21, b'"', 0x23, b'\\', 0x5b, 0x5d, b'a', 0x7f, 0x80, 0xc3,
            0xa9, 0xff,
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let bytes: [u8; 8] =
                std::array::from_fn(|k| interesting[((seed >> (k * 4)) & 15) as usize]);
            let w = u64::from_le_bytes(bytes);
            let first = bytes
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20);
            let mask = special_bytes(w);
            let found = (mask != 0).then(|| (mask.trailing_zeros() / 8) as usize);
            assert_eq!(found, first, "{bytes:02x?}");
        }
    }

    #[test]
    fn strings_with_long_plain_runs_and_late_escapes_parse_as_serde_json_does() {
        for t in [
            r#"{"abcdefghijklmnopqrstuvwxyz": "0123456789abcdef\"quoted\" and more text é ü"}"#,
            r#"["exactly8", "12345678", "1234567", "123456789", "tab\there", ""]"#,
        ] {
            agrees(t);
            assert!(parse(t).is_some(), "{t}");
        }
        // A control byte after a long plain run is rejected (serde_json's error is reported).
        assert!(parse("[\"0123456789abcdef\u{1}\"]").is_none());
    }

    #[test]
    fn separator_counts_match_a_plain_count_across_block_boundaries() {
        for n in [0usize, 1, 254, 255, 256, 511, 1_000, 70_000] {
            let text: Vec<u8> = (0..n).map(|i| b":,[x"[(i * 7 + i / 3) % 4]).collect();
            let plain = (
                text.iter().filter(|&&b| b == b':').count(),
                text.iter().filter(|&&b| b == b',' || b == b'[').count(),
            );
            assert_eq!(count_separators(&text), plain, "{n} bytes");
        }
        // A block made only of separators: the byte-wide counters reach 255 without overflowing.
        assert_eq!(count_separators(&[b':'; 600]), (600, 0));
        assert_eq!(count_separators(&[b'['; 600]), (0, 600));
    }

    #[test]
    fn accepts_what_serde_json_accepts_with_the_same_value() {
        for t in [
            r#"{"a": 1, "b": [true, false, null], "c": {"d": "e"}}"#,
            r#" { } "#,
            r#"[]"#,
            r#"[0, -0, 1.5, -2, 1e3, 1E-3, 12345678901234567890, 18446744073709551615, -9223372036854775808, 0.1]"#,
            r#""esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00""#,
            r#"{"k\u0041": 1}"#,
            "\t\r\n{\"a\"\n:\n\"b\"}\n",
            r#""héllo wörld""#,
        ] {
            assert!(parse(t).is_some(), "should parse: {t:?}");
            agrees(t);
        }
    }

    #[test]
    fn leaves_everything_else_to_serde_json() {
        for t in [
            "",
            "{",
            "{\"a\": 1,}",
            "[1,]",
            "[01]",
            "[1.]",
            "[.5]",
            "[-]",
            "[1e]",
            "[+1]",
            "{\"a\" 1}",
            "{a: 1}",
            "{\"a\": 1} x",
            "\"unterminated",
            "\"tab\tinside\"",
            "\"bad \\x escape\"",
            "\"lone \\ud800 surrogate\"",
            "[1e400]",
            "tru",
            "nul",
            "{\"a\": 1, \"a\": 2}",
            "{\"a\": 1, \"\\u0061\": 2}",
            "\u{feff}{}",
        ] {
            assert!(parse(t).is_none(), "should be left to serde_json: {t:?}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep).is_none());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_some());
    }

    #[test]
    fn duplicates_in_large_objects_are_found() {
        let mut members: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        let unique = format!("{{{}}}", members.join(","));
        assert!(parse(&unique).is_some());
        members.push("\"k7\": 0".into());
        assert!(parse(&format!("{{{}}}", members.join(","))).is_none());
    }

    /// The sieve of small objects never hides a duplicate: random key lists drawn from keys
    /// that share lengths and end bytes ("aXb", "aYb", ...), checked against a set.
    #[test]
    fn duplicates_in_small_objects_match_a_set() {
        let pool = [
            "a", "b", "ab", "ba", "aab", "abb", "axb", "ayb", "Type", "Next", "End", "",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut dup, mut unique) = (0, 0);
        for _ in 0..5_000 {
            let n = 1 + rand(LINEAR_KEYS);
            let keys: Vec<&str> = (0..n).map(|_| pool[rand(pool.len())]).collect();
            let members: Members<'_> = keys.iter().map(|k| (Cow::Borrowed(*k), J::Null)).collect();
            let set: std::collections::HashSet<&str> = keys.iter().copied().collect();
            let expected = set.len() != keys.len();
            assert_eq!(has_duplicates(&members), expected, "{keys:?}");
            if expected {
                dup += 1;
            } else {
                unique += 1;
            }
        }
        assert!(
            dup > 100 && unique > 100,
            "both kinds drawn: {dup} / {unique}"
        );
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let Some(J::Object(m)) = parse(r#"{"a": "b", "c\n": "d\u0021"}"#) else {
            panic!("an object")
        };
        assert!(matches!(&m[0].0, Cow::Borrowed("a")));
        assert!(matches!(&m[0].1, J::String(Cow::Borrowed("b"))));
        assert_eq!(m[1].0, "c\n");
        assert_eq!(m[1].1, J::String(Cow::Owned("d!".into())));
    }

    #[test]
    fn round_trips_through_value() {
        let v: Value =
            serde_json::from_str(r#"{"b": [1, -2, 2.5, "x"], "a": {"n": null}}"#).unwrap();
        assert_eq!(J::from_value(&v).to_value(), v);
    }
}
