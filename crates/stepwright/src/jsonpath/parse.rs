//! The path parser: a hand-written scanner over the path's bytes (names may hold any UTF-8; every
//! delimiter is ASCII, so byte positions always fall on character boundaries).

use serde_json::Value;

use super::filter::{CmpOp, Filter, FilterPath, Operand};
use super::{Root, SyntaxError, Token};

/// Where a run of path tokens is being read: a whole path, or a path inside a filter (where a
/// name also ends at blanks and operator characters).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Top,
    Filter,
}

/// Filter nesting (parentheses, `!`, nested filters) is bounded so that no input can overflow the
/// stack.
const MAX_FILTER_DEPTH: usize = 64;

/// The largest index magnitude (I-JSON's exact integer range).
const MAX_INDEX: i64 = (1 << 53) - 1;

type Parsed = (Root, Vec<Token>, Vec<usize>);

/// Parses a whole path. `base` is added to every error offset (for paths embedded in a larger
/// string, such as an intrinsic function argument).
pub(super) fn parse_path(text: &str, base: usize) -> Result<Parsed, SyntaxError> {
    let mut p = Parser {
        s: text,
        b: text.as_bytes(),
        pos: 0,
        base,
        depth: 0,
    };
    if p.b.first() != Some(&b'$') {
        let msg = if text.trim_start().starts_with('$') {
            "a path must start with '$' (no leading blanks)"
        } else {
            "a path must start with '$' (the input), '$$' (the context object) or '$name' (a variable)"
        };
        return Err(p.err(0, msg));
    }
    let root = p.root()?;
    let (tokens, spans) = p.segments(Mode::Top)?;
    Ok((root, tokens, spans))
}

struct Parser<'s> {
    s: &'s str,
    b: &'s [u8],
    pos: usize,
    base: usize,
    depth: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl<'s> Parser<'s> {
    fn err(&self, at: usize, msg: impl Into<String>) -> SyntaxError {
        SyntaxError::new(self.base + at, msg)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, i: usize) -> Option<u8> {
        self.b.get(self.pos + i).copied()
    }

    fn peek_char(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), SyntaxError> {
        match self.peek() {
            Some(x) if x == c => {
                self.pos += 1;
                Ok(())
            }
            None => Err(self.err(
                self.pos,
                format!("unexpected end of the path: expected {what}"),
            )),
            Some(_) => Err(self.err(
                self.pos,
                format!(
                    "expected {what}, found '{}'",
                    self.peek_char().unwrap_or('?')
                ),
            )),
        }
    }

    /// Reads `$`, `$$` or `$name`; the current byte is `$`.
    fn root(&mut self) -> Result<Root, SyntaxError> {
        self.pos += 1;
        if self.peek() == Some(b'$') {
            self.pos += 1;
            return Ok(Root::Context);
        }
        match self.peek_char() {
            Some(c) if is_ident_start(c) => {
                let start = self.pos;
                while let Some(c) = self.peek_char() {
                    if !is_ident_char(c) {
                        break;
                    }
                    self.pos += c.len_utf8();
                }
                Ok(Root::Variable(self.s[start..self.pos].to_string()))
            }
            _ => Ok(Root::Input),
        }
    }

    fn segments(&mut self, mode: Mode) -> Result<(Vec<Token>, Vec<usize>), SyntaxError> {
        let mut tokens = Vec::new();
        let mut spans = Vec::new();
        loop {
            let start = self.pos;
            match self.peek() {
                None => break,
                Some(b'.') if self.peek_at(1) == Some(b'.') => {
                    self.pos += 2;
                    tokens.push(Token::Scan);
                    spans.push(start);
                    let at = self.pos;
                    let t = match self.peek() {
                        None => return Err(self.err(start, "a path must not end with '..'")),
                        Some(b'*') => {
                            self.pos += 1;
                            Token::Wildcard
                        }
                        Some(b'[') => self.bracket()?,
                        Some(b'.') => {
                            return Err(self.err(at, "unexpected '.' after '..'"));
                        }
                        Some(_) => self.dot_name(mode)?,
                    };
                    tokens.push(t);
                    spans.push(at);
                }
                Some(b'.') => {
                    self.pos += 1;
                    let t = match self.peek() {
                        None => return Err(self.err(start, "a path must not end with '.'")),
                        Some(b'*') => {
                            self.pos += 1;
                            Token::Wildcard
                        }
                        Some(b'[') => self.bracket()?,
                        Some(_) => self.dot_name(mode)?,
                    };
                    tokens.push(t);
                    spans.push(start);
                }
                Some(b'[') => {
                    let t = self.bracket()?;
                    tokens.push(t);
                    spans.push(start);
                }
                Some(_) if mode == Mode::Filter => break,
                Some(_) => {
                    let c = self.peek_char().unwrap_or('?');
                    let msg = if c.is_whitespace() {
                        "unexpected blank: a path holds no blanks outside brackets".to_string()
                    } else {
                        format!("unexpected '{c}': expected '.' or '['")
                    };
                    return Err(self.err(start, msg));
                }
            }
        }
        Ok((tokens, spans))
    }

    /// A name after `.`.
    fn dot_name(&mut self, mode: Mode) -> Result<Token, SyntaxError> {
        let start = self.pos;
        while let Some(c) = self.peek_char() {
            match c {
                '.' | '[' => break,
                '(' => {
                    return Err(self.err(
                        self.pos,
                        "JSONPath functions such as 'length()' are not supported in Step Functions",
                    ))
                }
                c if c.is_whitespace() => {
                    if mode == Mode::Filter {
                        break;
                    }
                    return Err(self.err(
                        self.pos,
                        "a name after '.' cannot hold blanks: write ['my name'] instead",
                    ));
                }
                ')' | ']' | '=' | '!' | '<' | '>' | '&' | '|' | ',' if mode == Mode::Filter => {
                    break
                }
                ']' => return Err(self.err(self.pos, "unexpected ']' without a matching '['")),
                _ => self.pos += c.len_utf8(),
            }
        }
        if self.pos == start {
            return Err(self.err(start, "expected a name after '.'"));
        }
        Ok(Token::Property(vec![self.s[start..self.pos].to_string()]))
    }

    /// A bracketed step; the current byte is `[`.
    fn bracket(&mut self) -> Result<Token, SyntaxError> {
        let open = self.pos;
        self.pos += 1;
        self.skip_ws();
        let token = match self.peek() {
            None => {
                return Err(self.err(
                    self.pos,
                    "unexpected end of the path: expected a quoted name, an index, a slice, '*' or a filter after '['",
                ))
            }
            Some(q @ (b'\'' | b'"')) => {
                let mut names = vec![self.quoted_name(q)?];
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => {
                            self.pos += 1;
                            self.skip_ws();
                            match self.peek() {
                                Some(q @ (b'\'' | b'"')) => names.push(self.quoted_name(q)?),
                                _ => {
                                    return Err(self.err(self.pos, "expected a quoted name after ','"))
                                }
                            }
                        }
                        _ => break,
                    }
                }
                Token::Property(names)
            }
            Some(b'*') => {
                self.pos += 1;
                Token::Wildcard
            }
            Some(b'?') => {
                self.pos += 1;
                self.skip_ws();
                let f = self.filter_or()?;
                Token::Filter(Box::new(f))
            }
            Some(b'-' | b'0'..=b'9' | b':') => self.index_or_slice()?,
            Some(_) => {
                let c = self.peek_char().unwrap_or('?');
                return Err(self.err(
                    self.pos,
                    format!("unexpected '{c}': expected a quoted name, an index, a slice, '*' or a filter after '['"),
                ));
            }
        };
        self.skip_ws();
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                Ok(token)
            }
            None => Err(self.err(
                self.pos,
                format!(
                    "unexpected end of the path: the '[' at offset {} is not closed",
                    self.base + open
                ),
            )),
            Some(_) => {
                let c = self.peek_char().unwrap_or('?');
                Err(self.err(self.pos, format!("expected ']', found '{c}'")))
            }
        }
    }

    /// A name in quotes. A backslash keeps the next character from closing the name; like AWS
    /// (Jayway 2.x), the name is taken as written, backslashes included.
    fn quoted_name(&mut self, q: u8) -> Result<String, SyntaxError> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                None => {
                    return Err(self.err(open, "unterminated quoted name: the quote is not closed"))
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek_char() {
                        Some(c) => self.pos += c.len_utf8(),
                        None => {
                            return Err(
                                self.err(open, "unterminated quoted name: the quote is not closed")
                            )
                        }
                    }
                }
                Some(c) if c == q => {
                    let name = self.s[start..self.pos].to_string();
                    self.pos += 1;
                    return Ok(name);
                }
                Some(c) if c < 0x20 => {
                    return Err(self.err(
                        self.pos,
                        format!("a quoted name cannot hold the control character U+{c:04X}"),
                    ))
                }
                Some(_) => {
                    let c = self.peek_char().unwrap_or('?');
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn int(&mut self) -> Result<Option<i64>, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        if self.pos == digits {
            if self.pos > start {
                return Err(self.err(start, "expected digits after '-'"));
            }
            return Ok(None);
        }
        let text = &self.s[start..self.pos];
        if self.pos - digits > 1 && self.b[digits] == b'0' {
            return Err(self.err(
                start,
                format!("an index cannot have leading zeros: '{text}'"),
            ));
        }
        if text == "-0" {
            return Err(self.err(start, "'-0' is not a valid index: write 0"));
        }
        match text.parse::<i64>() {
            Ok(i) if i.abs() <= MAX_INDEX => Ok(Some(i)),
            _ => Err(self.err(
                start,
                format!("index '{text}' is out of range (at most 2^53 - 1 either way)"),
            )),
        }
    }

    fn index_or_slice(&mut self) -> Result<Token, SyntaxError> {
        let start = self.pos;
        let from = self.int()?;
        self.skip_ws();
        if self.peek() == Some(b':') {
            self.pos += 1;
            self.skip_ws();
            let to = self.int()?;
            self.skip_ws();
            if self.peek() == Some(b':') {
                return Err(self.err(
                    self.pos,
                    "slice steps ([start:end:step]) are not supported in Step Functions",
                ));
            }
            return Ok(Token::Slice(from, to));
        }
        let Some(first) = from else {
            return Err(self.err(start, "expected an index"));
        };
        let mut list = vec![first];
        while self.peek() == Some(b',') {
            self.pos += 1;
            self.skip_ws();
            let at = self.pos;
            match self.int()? {
                Some(i) => list.push(i),
                None => return Err(self.err(at, "expected an index after ','")),
            }
            self.skip_ws();
        }
        Ok(Token::Index(list))
    }

    // ---- filters ----

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(self.err(self.pos, "filter expression nested too deeply"));
        }
        Ok(())
    }

    fn filter_or(&mut self) -> Result<Filter, SyntaxError> {
        self.enter()?;
        let mut list = vec![self.filter_and()?];
        loop {
            self.skip_ws();
            if self.b[self.pos..].starts_with(b"||") {
                self.pos += 2;
                list.push(self.filter_and()?);
            } else {
                break;
            }
        }
        self.depth -= 1;
        Ok(if list.len() == 1 {
            list.pop().unwrap_or(Filter::Or(Vec::new()))
        } else {
            Filter::Or(list)
        })
    }

    fn filter_and(&mut self) -> Result<Filter, SyntaxError> {
        let mut list = vec![self.filter_not()?];
        loop {
            self.skip_ws();
            if self.b[self.pos..].starts_with(b"&&") {
                self.pos += 2;
                list.push(self.filter_not()?);
            } else {
                break;
            }
        }
        Ok(if list.len() == 1 {
            list.pop().unwrap_or(Filter::And(Vec::new()))
        } else {
            Filter::And(list)
        })
    }

    fn filter_not(&mut self) -> Result<Filter, SyntaxError> {
        self.skip_ws();
        if self.peek() == Some(b'!') && self.peek_at(1) != Some(b'=') {
            self.pos += 1;
            self.enter()?;
            let inner = self.filter_not()?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner)));
        }
        self.filter_primary()
    }

    fn filter_primary(&mut self) -> Result<Filter, SyntaxError> {
        self.skip_ws();
        if self.peek() == Some(b'(') {
            self.pos += 1;
            let f = self.filter_or()?;
            self.skip_ws();
            self.expect(b')', "')'")?;
            return Ok(f);
        }
        let start = self.pos;
        let lhs = self.operand()?;
        self.skip_ws();
        if let Some(op) = self.operator()? {
            self.skip_ws();
            let rhs = self.operand()?;
            return Ok(Filter::Compare(lhs, op, rhs));
        }
        match lhs {
            Operand::Path(p) => Ok(Filter::Exists(p)),
            Operand::Literal(_) => Err(self.err(
                start,
                "a literal alone is not a filter test: compare it with something",
            )),
        }
    }

    fn operator(&mut self) -> Result<Option<CmpOp>, SyntaxError> {
        let rest = &self.b[self.pos..];
        for (sym, op) in [
            (&b"=="[..], CmpOp::Eq),
            (b"!=", CmpOp::Ne),
            (b"<=", CmpOp::Le),
            (b">=", CmpOp::Ge),
            (b"<", CmpOp::Lt),
            (b">", CmpOp::Gt),
        ] {
            if rest.starts_with(sym) {
                self.pos += sym.len();
                return Ok(Some(op));
            }
        }
        if rest.starts_with(b"=~") {
            return Err(self.err(
                self.pos,
                "regular-expression filters (=~) are not supported in Step Functions",
            ));
        }
        if rest.starts_with(b"=") {
            return Err(self.err(self.pos, "use '==' to compare"));
        }
        for (word, op) in [
            ("nin", CmpOp::Nin),
            ("in", CmpOp::In),
            ("subsetof", CmpOp::SubsetOf),
            ("anyof", CmpOp::AnyOf),
            ("noneof", CmpOp::NoneOf),
            ("size", CmpOp::Size),
            ("empty", CmpOp::Empty),
        ] {
            if rest.starts_with(word.as_bytes()) {
                let after = self.s[self.pos + word.len()..].chars().next();
                if !after.is_some_and(is_ident_char) {
                    self.pos += word.len();
                    return Ok(Some(op));
                }
            }
        }
        Ok(None)
    }

    fn operand(&mut self) -> Result<Operand, SyntaxError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            None => Err(self.err(
                start,
                "unexpected end of the path inside a filter: expected a value or a path",
            )),
            Some(b'@') => {
                self.pos += 1;
                let (tokens, _) = self.segments(Mode::Filter)?;
                Ok(Operand::Path(FilterPath::new(None, tokens)))
            }
            Some(b'$') => {
                let root = self.root()?;
                let (tokens, _) = self.segments(Mode::Filter)?;
                Ok(Operand::Path(FilterPath::new(Some(root), tokens)))
            }
            Some(q @ (b'\'' | b'"')) => {
                Ok(Operand::Literal(Value::String(self.string_literal(q)?)))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => self.list_literal(),
            Some(b'{') => self.json_literal(),
            Some(_) => {
                let c = self.peek_char().unwrap_or('?');
                if is_ident_start(c) {
                    while let Some(c) = self.peek_char() {
                        if !is_ident_char(c) {
                            break;
                        }
                        self.pos += c.len_utf8();
                    }
                    let word = &self.s[start..self.pos];
                    match word {
                        "true" => return Ok(Operand::Literal(Value::Bool(true))),
                        "false" => return Ok(Operand::Literal(Value::Bool(false))),
                        "null" => return Ok(Operand::Literal(Value::Null)),
                        _ => {}
                    }
                    self.skip_ws();
                    if self.peek() == Some(b'(') {
                        return Err(self.err(
                            start,
                            format!("filter functions such as '{word}()' are not supported in Step Functions"),
                        ));
                    }
                    return Err(self.err(
                        start,
                        format!("unexpected '{word}' in a filter: expected a value, '@' or '$'"),
                    ));
                }
                Err(self.err(
                    start,
                    format!("unexpected '{c}' in a filter: expected a value, '@' or '$'"),
                ))
            }
        }
    }

    fn number(&mut self) -> Result<Operand, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        if self.pos == digits {
            return Err(self.err(start, "expected a number"));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let frac = self.pos;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
            if self.pos == frac {
                return Err(self.err(start, "expected digits after the decimal point"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            let exp = self.pos;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
            if self.pos == exp {
                return Err(self.err(start, "expected digits in the exponent"));
            }
        }
        let text = &self.s[start..self.pos];
        if self.pos - digits > 1 && self.b[digits] == b'0' && self.b[digits + 1].is_ascii_digit() {
            return Err(self.err(
                start,
                format!("a number cannot have leading zeros: '{text}'"),
            ));
        }
        serde_json::from_str::<Value>(text)
            .map(Operand::Literal)
            .map_err(|_| self.err(start, format!("'{text}' is not a valid number")))
    }

    /// A string literal in a filter, with JSON-style escapes (`\n`, `\uXXXX`, ...) and `\'`.
    fn string_literal(&mut self, q: u8) -> Result<String, SyntaxError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek_char() else {
                return Err(self.err(open, "unterminated string: the quote is not closed"));
            };
            let at = self.pos;
            self.pos += c.len_utf8();
            if c as u32 == q as u32 {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek_char() else {
                return Err(self.err(open, "unterminated string: the quote is not closed"));
            };
            self.pos += e.len_utf8();
            match e {
                '\\' | '/' | '\'' | '"' => out.push(e),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    let hi = self.hex4(at)?;
                    let ch = if (0xD800..0xDC00).contains(&hi) {
                        if !self.b[self.pos..].starts_with(b"\\u") {
                            return Err(self
                                .err(at, "a high surrogate must be followed by a low surrogate"));
                        }
                        self.pos += 2;
                        let lo = self.hex4(at)?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return Err(self
                                .err(at, "a high surrogate must be followed by a low surrogate"));
                        }
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                    } else {
                        char::from_u32(hi)
                    };
                    match ch {
                        Some(ch) => out.push(ch),
                        None => return Err(self.err(at, "invalid \\u escape")),
                    }
                }
                _ => return Err(self.err(at, format!("invalid escape '\\{e}' in a string"))),
            }
        }
    }

    fn hex4(&mut self, at: usize) -> Result<u32, SyntaxError> {
        let h = self.s.get(self.pos..self.pos + 4).unwrap_or("");
        if h.len() != 4 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.err(at, "a \\u escape needs four hexadecimal digits"));
        }
        self.pos += 4;
        u32::from_str_radix(h, 16).map_err(|_| self.err(at, "invalid \\u escape"))
    }

    /// A list literal (`in ['a', "b", 1]`): literal values in either quotes.
    fn list_literal(&mut self) -> Result<Operand, SyntaxError> {
        let open = self.pos;
        self.pos += 1;
        self.enter()?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Operand::Literal(Value::Array(items)));
        }
        loop {
            let at = self.pos;
            match self.operand()? {
                Operand::Literal(v) => items.push(v),
                Operand::Path(_) => {
                    return Err(self.err(at, "a list in a filter holds only literal values"))
                }
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.err(open, "unterminated list: the '[' is not closed")),
                Some(_) => return Err(self.err(self.pos, "expected ',' or ']' in a list")),
            }
        }
        self.depth -= 1;
        Ok(Operand::Literal(Value::Array(items)))
    }

    /// A JSON object literal (`== {"a": 1}`).
    fn json_literal(&mut self) -> Result<Operand, SyntaxError> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut in_str = false;
        while let Some(b) = self.peek() {
            self.pos += 1;
            if in_str {
                match b {
                    b'\\' => self.pos += 1,
                    b'"' => in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        let text = &self.s[start..self.pos];
                        return serde_json::from_str::<Value>(text)
                            .map(Operand::Literal)
                            .map_err(|e| self.err(start, format!("invalid JSON literal: {e}")));
                    }
                }
                _ => {}
            }
        }
        Err(self.err(start, "unterminated JSON literal in a filter"))
    }
}
