//! Tokenizer, Pratt parser and AST post-processing, ported from jsonata-js's parser.js.

use serde_json::Value;

use crate::ast::{BinOp, Kind, Node, SortTerm, Stage};
use crate::error::{Err, ErrExt, R};
use crate::signature::Signature;

/// Deepest syntax tree accepted (deeper input is rejected with `U1001`, never a stack overflow).
pub(crate) const MAX_NESTING: u32 = 400;

/// Stack the parser may use (deeper input is rejected with `U1001`).
const PARSE_STACK_LIMIT: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq)]
enum TokKind {
    Name(String),
    Var(String),
    Str(String),
    Num(f64),
    Value(Value),
    Regex(String, String),
    Op(&'static str),
    End,
}

#[derive(Debug, Clone)]
struct Tok {
    kind: TokKind,
    pos: usize,
}

impl Tok {
    fn id(&self) -> &str {
        match &self.kind {
            TokKind::Op(o) => o,
            TokKind::End => "(end)",
            TokKind::Name(_) | TokKind::Var(_) => "(name)",
            TokKind::Regex(..) => "(regex)",
            _ => "(literal)",
        }
    }
    fn value_str(&self) -> String {
        match &self.kind {
            TokKind::Name(s) | TokKind::Var(s) | TokKind::Str(s) => s.clone(),
            TokKind::Num(n) => crate::value::js_num(*n),
            TokKind::Value(v) => v.to_string(),
            TokKind::Regex(p, _) => p.clone(),
            TokKind::Op(o) => o.to_string(),
            TokKind::End => "(end)".into(),
        }
    }
    fn is_op(&self, o: &str) -> bool {
        matches!(&self.kind, TokKind::Op(x) if *x == o)
    }
}

const OPERATORS: &[&str] = &[
    ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":", "?", "+", "-", "*", "/", "%", "|",
    "=", "<", ">", "^", "&", "!", "~",
];

fn is_op_char(c: char) -> bool {
    matches!(
        c,
        '.' | '['
            | ']'
            | '{'
            | '}'
            | '('
            | ')'
            | ','
            | '@'
            | '#'
            | ';'
            | ':'
            | '?'
            | '+'
            | '-'
            | '*'
            | '/'
            | '%'
            | '|'
            | '='
            | '<'
            | '>'
            | '^'
            | '&'
            | '!'
            | '~'
    )
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}')
}

fn lbp(id: &str) -> u32 {
    match id {
        "." => 75,
        "[" | "(" | "@" | "#" => 80,
        "{" => 70,
        "?" => 20,
        "+" | "-" | "&" => 50,
        "*" | "/" | "%" => 60,
        "=" | "<" | ">" | "!=" | "<=" | ">=" | "^" | "~>" | "?:" | "??" | "in" => 40,
        "and" => 30,
        "or" => 25,
        ":=" => 10,
        _ => 0,
    }
}

struct Lexer {
    src: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn at(&self, i: usize) -> Option<char> {
        self.src.get(i).copied()
    }

    fn next(&mut self, prefix: bool) -> R<Option<Tok>> {
        loop {
            while self.pos < self.src.len() && is_ws(self.src[self.pos]) {
                self.pos += 1;
            }
            if self.pos >= self.src.len() {
                return Ok(None);
            }
            if self.at(self.pos) == Some('/') && self.at(self.pos + 1) == Some('*') {
                let start = self.pos;
                self.pos += 2;
                loop {
                    if self.pos + 1 >= self.src.len() {
                        return Err(Err::new("S0106").pos(start));
                    }
                    if self.src[self.pos] == '*' && self.src[self.pos + 1] == '/' {
                        self.pos += 2;
                        break;
                    }
                    self.pos += 1;
                }
                continue;
            }
            break;
        }
        let c = self.src[self.pos];
        let tok = |kind, pos| Ok(Some(Tok { kind, pos }));
        if !prefix && c == '/' {
            self.pos += 1;
            return self.scan_regex();
        }
        let two: Option<&'static str> = match (c, self.at(self.pos + 1)) {
            ('.', Some('.')) => Some(".."),
            (':', Some('=')) => Some(":="),
            ('!', Some('=')) => Some("!="),
            ('>', Some('=')) => Some(">="),
            ('<', Some('=')) => Some("<="),
            ('*', Some('*')) => Some("**"),
            ('~', Some('>')) => Some("~>"),
            ('?', Some(':')) => Some("?:"),
            ('?', Some('?')) => Some("??"),
            _ => None,
        };
        if let Some(op) = two {
            self.pos += 2;
            return tok(TokKind::Op(op), self.pos);
        }
        if is_op_char(c) {
            self.pos += 1;
            let op = OPERATORS
                .iter()
                .find(|o| o.starts_with(c))
                .copied()
                .unwrap_or(".");
            return tok(TokKind::Op(op), self.pos);
        }
        if c == '"' || c == '\'' {
            let quote = c;
            self.pos += 1;
            let mut s = String::new();
            while self.pos < self.src.len() {
                let ch = self.src[self.pos];
                if ch == '\\' {
                    self.pos += 1;
                    let Some(e) = self.at(self.pos) else {
                        break;
                    };
                    match e {
                        '"' => s.push('"'),
                        '\\' => s.push('\\'),
                        '/' => s.push('/'),
                        'b' => s.push('\u{8}'),
                        'f' => s.push('\u{c}'),
                        'n' => s.push('\n'),
                        'r' => s.push('\r'),
                        't' => s.push('\t'),
                        'u' => {
                            let hex: String =
                                self.src[self.pos + 1..].iter().take(4).collect::<String>();
                            if hex.len() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit()) {
                                let cp = u32::from_str_radix(&hex, 16).unwrap_or(0xfffd);
                                self.pos += 4;
                                // surrogate pairs written as two escapes
                                if (0xd800..0xdc00).contains(&cp)
                                    && self.at(self.pos + 1) == Some('\\')
                                    && self.at(self.pos + 2) == Some('u')
                                {
                                    let lo: String =
                                        self.src[self.pos + 3..].iter().take(4).collect();
                                    if let Ok(l) = u32::from_str_radix(&lo, 16) {
                                        if (0xdc00..0xe000).contains(&l) {
                                            let full =
                                                0x10000 + ((cp - 0xd800) << 10) + (l - 0xdc00);
                                            s.push(char::from_u32(full).unwrap_or('\u{fffd}'));
                                            self.pos += 6;
                                            self.pos += 1;
                                            continue;
                                        }
                                    }
                                }
                                s.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                            } else {
                                return Err(Err::new("S0104").pos(self.pos));
                            }
                        }
                        other => {
                            return Err(Err::new("S0103").pos(self.pos).tok(other.to_string()));
                        }
                    }
                } else if ch == quote {
                    self.pos += 1;
                    return tok(TokKind::Str(s), self.pos);
                } else {
                    s.push(ch);
                }
                self.pos += 1;
            }
            return Err(Err::new("S0101").pos(self.pos));
        }
        // numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)?
        if c.is_ascii_digit() {
            let start = self.pos;
            let mut i = self.pos;
            if self.src[i] == '0' {
                i += 1;
            } else {
                while i < self.src.len() && self.src[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if self.at(i) == Some('.') && self.at(i + 1).is_some_and(|d| d.is_ascii_digit()) {
                i += 1;
                while i < self.src.len() && self.src[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if matches!(self.at(i), Some('e') | Some('E')) {
                let mut j = i + 1;
                if matches!(self.at(j), Some('+') | Some('-')) {
                    j += 1;
                }
                if self.at(j).is_some_and(|d| d.is_ascii_digit()) {
                    while j < self.src.len() && self.src[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            let text: String = self.src[start..i].iter().collect();
            let n: f64 = text.parse().unwrap_or(f64::NAN);
            if n.is_finite() {
                self.pos = i;
                return tok(TokKind::Num(n), self.pos);
            }
            return Err(Err::new("S0102").pos(start).tok(text));
        }
        if c == '`' {
            self.pos += 1;
            let rest = &self.src[self.pos..];
            if let Some(end) = rest.iter().position(|&x| x == '`') {
                let name: String = rest[..end].iter().collect();
                self.pos += end + 1;
                return tok(TokKind::Name(name), self.pos);
            }
            self.pos = self.src.len();
            return Err(Err::new("S0105").pos(self.pos));
        }
        let mut i = self.pos;
        while i < self.src.len() && !is_ws(self.src[i]) && !is_op_char(self.src[i]) {
            i += 1;
        }
        if c == '$' {
            let name: String = self.src[self.pos + 1..i].iter().collect();
            self.pos = i;
            return tok(TokKind::Var(name), self.pos);
        }
        let name: String = self.src[self.pos..i].iter().collect();
        self.pos = i;
        let kind = match name.as_str() {
            "or" => TokKind::Op("or"),
            "in" => TokKind::Op("in"),
            "and" => TokKind::Op("and"),
            "true" => TokKind::Value(Value::Bool(true)),
            "false" => TokKind::Value(Value::Bool(false)),
            "null" => TokKind::Value(Value::Null),
            _ => TokKind::Name(name),
        };
        tok(kind, self.pos)
    }

    fn scan_regex(&mut self) -> R<Option<Tok>> {
        let start = self.pos;
        let mut depth: i32 = 0;
        while self.pos < self.src.len() {
            let c = self.src[self.pos];
            if c == '/' && depth == 0 {
                let mut bs = 0;
                while self.pos > bs && self.src[self.pos - (bs + 1)] == '\\' {
                    bs += 1;
                }
                if bs % 2 == 0 {
                    let pattern: String = self.src[start..self.pos].iter().collect();
                    if pattern.is_empty() {
                        return Err(Err::new("S0301").pos(self.pos));
                    }
                    self.pos += 1;
                    let fstart = self.pos;
                    while matches!(self.at(self.pos), Some('i') | Some('m')) {
                        self.pos += 1;
                    }
                    let flags: String = self.src[fstart..self.pos].iter().collect();
                    return Ok(Some(Tok {
                        kind: TokKind::Regex(pattern, flags),
                        pos: self.pos,
                    }));
                }
            }
            let prev = if self.pos > 0 {
                self.src.get(self.pos - 1).copied()
            } else {
                None
            };
            if matches!(c, '(' | '[' | '{') && prev != Some('\\') {
                depth += 1;
            }
            if matches!(c, ')' | ']' | '}') && prev != Some('\\') {
                depth -= 1;
            }
            self.pos += 1;
        }
        Err(Err::new("S0302").pos(self.pos))
    }
}

/// The raw parse tree (before processing).
#[derive(Debug)]
struct Raw {
    k: RK,
    pos: usize,
    keep_array: bool,
    depth: u32,
}

#[derive(Debug)]
enum RK {
    /// The end of input used as an operand (an error when processed).
    End,
    Name(String),
    Var(String),
    Lit(Value),
    Regex(String, String),
    /// `and`, `or`, `in` used as names; `?` placeholders.
    Op(String),
    Binary(String, Box<Raw>, Box<Raw>),
    Group(Box<Raw>, Vec<(Raw, Raw)>),
    Sort(Box<Raw>, Vec<(bool, Raw)>),
    Neg(Box<Raw>),
    Array(Vec<Raw>),
    Object(Vec<(Raw, Raw)>),
    Wildcard,
    Descendant,
    Parent,
    Function {
        procedure: Box<Raw>,
        args: Vec<Raw>,
        partial: bool,
    },
    Lambda {
        params: Vec<String>,
        signature: Option<Signature>,
        body: Box<Raw>,
    },
    Condition(Box<Raw>, Box<Raw>, Option<Box<Raw>>),
    Coalesce(Box<Raw>, Box<Raw>),
    Elvis(Box<Raw>, Box<Raw>),
    Block(Vec<Raw>),
    Transform(Box<Raw>, Box<Raw>, Option<Box<Raw>>),
}

fn raw(k: RK, pos: usize, children: &[u32]) -> Raw {
    Raw {
        k,
        pos,
        keep_array: false,
        depth: 1 + children.iter().copied().max().unwrap_or(0),
    }
}

struct Parser {
    lexer: Lexer,
    node: Tok,
    src_len: usize,
    slots: Vec<(i64, usize)>, // (level, label id)
    labels: usize,
    stack_base: usize,
}

/// The result of parsing: the processed tree plus the ancestry slot labels.
pub(crate) struct Parsed {
    pub root: Node,
    pub slot_labels: Vec<String>,
}

pub(crate) fn parse(src: &str, stack_base: usize) -> R<Parsed> {
    let chars: Vec<char> = src.chars().collect();
    let len = chars.len();
    let mut p = Parser {
        lexer: Lexer { src: chars, pos: 0 },
        node: Tok {
            kind: TokKind::End,
            pos: 0,
        },
        src_len: len,
        slots: Vec::new(),
        labels: 0,
        stack_base,
    };
    p.advance(None, false)?;
    let expr = p.expression(0)?;
    if p.node.kind != TokKind::End {
        return Err(Err::new("S0201").pos(p.node.pos).tok(p.node.value_str()));
    }
    let root = p.process(expr)?;
    if matches!(root.kind, Kind::Parent(_)) || !root.seeking_parent.is_empty() {
        return Err(Err::new("S0217").pos(root.position).tok(root.type_name()));
    }
    let slot_labels = p.slots.iter().map(|(_, l)| format!("!{l}")).collect();
    Ok(Parsed { root, slot_labels })
}

impl Parser {
    fn advance(&mut self, id: Option<&str>, infix: bool) -> R<()> {
        if let Some(id) = id {
            if self.node.id() != id {
                let code = if self.node.kind == TokKind::End {
                    "S0203"
                } else {
                    "S0202"
                };
                return Err(Err::new(code)
                    .pos(self.node.pos)
                    .tok(self.node.value_str())
                    .val(Value::String(id.to_string())));
            }
        }
        match self.lexer.next(infix)? {
            None => {
                self.node = Tok {
                    kind: TokKind::End,
                    pos: self.src_len,
                }
            }
            Some(t) => {
                if let TokKind::Op(o) = &t.kind {
                    if matches!(*o, "!" | "~") {
                        return Err(Err::new("S0204").pos(t.pos).tok(o.to_string()));
                    }
                }
                self.node = t;
            }
        }
        Ok(())
    }

    fn expression(&mut self, rbp: u32) -> R<Raw> {
        if self.stack_base.abs_diff(crate::eval::stack_addr()) > PARSE_STACK_LIMIT {
            return Err(nesting(self.node.pos));
        }
        let t = self.node.clone();
        self.advance(None, true)?;
        let mut left = self.nud(t)?;
        if left.depth > MAX_NESTING {
            return Err(nesting(left.pos));
        }
        while rbp < lbp(self.node.id()) {
            let t = self.node.clone();
            self.advance(None, false)?;
            left = self.led(t, left)?;
            if left.depth > MAX_NESTING {
                return Err(nesting(left.pos));
            }
        }
        Ok(left)
    }

    fn nud(&mut self, t: Tok) -> R<Raw> {
        let pos = t.pos;
        Ok(match t.kind {
            TokKind::Name(n) => raw(RK::Name(n), pos, &[]),
            TokKind::Var(n) => raw(RK::Var(n), pos, &[]),
            TokKind::Str(s) => raw(RK::Lit(Value::String(s)), pos, &[]),
            TokKind::Num(n) => raw(
                RK::Lit(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)),
                pos,
                &[],
            ),
            TokKind::Value(v) => raw(RK::Lit(v), pos, &[]),
            TokKind::Regex(p, f) => raw(RK::Regex(p, f), pos, &[]),
            TokKind::End => raw(RK::End, pos, &[]),
            TokKind::Op(op) => match op {
                "and" | "or" | "in" => raw(RK::Op(op.to_string()), pos, &[]),
                "-" => {
                    let e = self.expression(70)?;
                    let d = e.depth;
                    raw(RK::Neg(Box::new(e)), pos, &[d])
                }
                "*" => raw(RK::Wildcard, pos, &[]),
                "**" => raw(RK::Descendant, pos, &[]),
                "%" => raw(RK::Parent, pos, &[]),
                "(" => {
                    let mut exprs = Vec::new();
                    while !self.node.is_op(")") {
                        exprs.push(self.expression(0)?);
                        if !self.node.is_op(";") {
                            break;
                        }
                        self.advance(Some(";"), false)?;
                    }
                    self.advance(Some(")"), true)?;
                    let ds: Vec<u32> = exprs.iter().map(|e| e.depth).collect();
                    raw(RK::Block(exprs), pos, &ds)
                }
                "[" => {
                    let mut items = Vec::new();
                    if !self.node.is_op("]") {
                        loop {
                            let mut item = self.expression(0)?;
                            if self.node.is_op("..") {
                                let rpos = self.node.pos;
                                self.advance(Some(".."), false)?;
                                let rhs = self.expression(0)?;
                                let ds = [item.depth, rhs.depth];
                                item = raw(
                                    RK::Binary("..".into(), Box::new(item), Box::new(rhs)),
                                    rpos,
                                    &ds,
                                );
                            }
                            items.push(item);
                            if !self.node.is_op(",") {
                                break;
                            }
                            self.advance(Some(","), false)?;
                        }
                    }
                    self.advance(Some("]"), true)?;
                    let ds: Vec<u32> = items.iter().map(|e| e.depth).collect();
                    raw(RK::Array(items), pos, &ds)
                }
                "{" => {
                    let pairs = self.object_pairs()?;
                    let ds: Vec<u32> = pairs.iter().map(|(a, b)| a.depth.max(b.depth)).collect();
                    raw(RK::Object(pairs), pos, &ds)
                }
                "|" => {
                    let pattern = self.expression(0)?;
                    self.advance(Some("|"), false)?;
                    let update = self.expression(0)?;
                    let mut delete = None;
                    if self.node.is_op(",") {
                        self.advance(Some(","), false)?;
                        delete = Some(Box::new(self.expression(0)?));
                    }
                    self.advance(Some("|"), false)?;
                    let ds = [
                        pattern.depth,
                        update.depth,
                        delete.as_ref().map_or(0, |d| d.depth),
                    ];
                    raw(
                        RK::Transform(Box::new(pattern), Box::new(update), delete),
                        pos,
                        &ds,
                    )
                }
                _ => return Err(Err::new("S0211").pos(pos).tok(op.to_string())),
            },
        })
    }

    fn object_pairs(&mut self) -> R<Vec<(Raw, Raw)>> {
        let mut pairs = Vec::new();
        if !self.node.is_op("}") {
            loop {
                let n = self.expression(0)?;
                self.advance(Some(":"), false)?;
                let v = self.expression(0)?;
                pairs.push((n, v));
                if !self.node.is_op(",") {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some("}"), true)?;
        Ok(pairs)
    }

    fn led(&mut self, t: Tok, left: Raw) -> R<Raw> {
        let pos = t.pos;
        let TokKind::Op(op) = t.kind else {
            return Err(Err::new("S0201").pos(pos).tok(t.value_str()));
        };
        let ld = left.depth;
        Ok(match op {
            "(" => {
                let mut args = Vec::new();
                let mut partial = false;
                if !self.node.is_op(")") {
                    loop {
                        if self.node.is_op("?") {
                            partial = true;
                            args.push(raw(RK::Op("?".into()), self.node.pos, &[]));
                            self.advance(Some("?"), false)?;
                        } else {
                            args.push(self.expression(0)?);
                        }
                        if !self.node.is_op(",") {
                            break;
                        }
                        self.advance(Some(","), false)?;
                    }
                }
                self.advance(Some(")"), true)?;
                let is_lambda = matches!(&left.k, RK::Name(n) if n == "function" || n == "\u{3bb}");
                if is_lambda {
                    let mut params = Vec::new();
                    for (i, a) in args.iter().enumerate() {
                        match &a.k {
                            RK::Var(v) => params.push(v.clone()),
                            _ => {
                                let tok = match &a.k {
                                    RK::Name(n) | RK::Op(n) => n.clone(),
                                    RK::Lit(v) => v.to_string(),
                                    _ => String::new(),
                                };
                                return Err(Err::new("S0208")
                                    .pos(a.pos)
                                    .tok(tok)
                                    .val(Value::from(i + 1)));
                            }
                        }
                    }
                    let mut signature = None;
                    if self.node.is_op("<") {
                        let sig_pos = self.node.pos;
                        let mut depth = 1;
                        let mut sig = String::from("<");
                        while depth > 0 && !self.node.is_op("{") && self.node.kind != TokKind::End {
                            self.advance(None, false)?;
                            if self.node.is_op(">") {
                                depth -= 1;
                            } else if self.node.is_op("<") {
                                depth += 1;
                            }
                            sig.push_str(&self.node.value_str());
                        }
                        self.advance(Some(">"), false)?;
                        signature = Some(Signature::parse(&sig).map_err(|e| {
                            let off = e.position.unwrap_or(0);
                            e.pos(sig_pos + off)
                        })?);
                    }
                    self.advance(Some("{"), false)?;
                    let body = self.expression(0)?;
                    self.advance(Some("}"), false)?;
                    let d = body.depth;
                    raw(
                        RK::Lambda {
                            params,
                            signature,
                            body: Box::new(body),
                        },
                        pos,
                        &[d],
                    )
                } else {
                    let mut ds: Vec<u32> = args.iter().map(|a| a.depth).collect();
                    ds.push(ld);
                    raw(
                        RK::Function {
                            procedure: Box::new(left),
                            args,
                            partial,
                        },
                        pos,
                        &ds,
                    )
                }
            }
            "[" => {
                if self.node.is_op("]") {
                    let mut left = left;
                    {
                        let mut step = &mut left;
                        loop {
                            match step.k {
                                RK::Binary(ref o, ref mut lhs, _) if o == "[" => step = lhs,
                                _ => break,
                            }
                        }
                        step.keep_array = true;
                    }
                    self.advance(Some("]"), false)?;
                    left
                } else {
                    let rhs = self.expression(0)?;
                    self.advance(Some("]"), true)?;
                    let rd = rhs.depth;
                    raw(
                        RK::Binary("[".into(), Box::new(left), Box::new(rhs)),
                        pos,
                        &[ld, rd],
                    )
                }
            }
            "{" => {
                let pairs = self.object_pairs()?;
                let mut ds: Vec<u32> = pairs.iter().map(|(a, b)| a.depth.max(b.depth)).collect();
                ds.push(ld);
                raw(RK::Group(Box::new(left), pairs), pos, &ds)
            }
            "^" => {
                self.advance(Some("("), false)?;
                let mut terms = Vec::new();
                loop {
                    let mut desc = false;
                    if self.node.is_op("<") {
                        self.advance(Some("<"), false)?;
                    } else if self.node.is_op(">") {
                        desc = true;
                        self.advance(Some(">"), false)?;
                    }
                    terms.push((desc, self.expression(0)?));
                    if !self.node.is_op(",") {
                        break;
                    }
                    self.advance(Some(","), false)?;
                }
                self.advance(Some(")"), false)?;
                let mut ds: Vec<u32> = terms.iter().map(|(_, e)| e.depth).collect();
                ds.push(ld);
                raw(RK::Sort(Box::new(left), terms), pos, &ds)
            }
            ":=" => {
                if !matches!(left.k, RK::Var(_)) {
                    let tok = raw_token(&left);
                    return Err(Err::new("S0212").pos(left.pos).tok(tok));
                }
                let rhs = self.expression(lbp(":=") - 1)?;
                let rd = rhs.depth;
                raw(
                    RK::Binary(":=".into(), Box::new(left), Box::new(rhs)),
                    pos,
                    &[ld, rd],
                )
            }
            "@" | "#" => {
                let rhs = self.expression(80)?;
                if !matches!(rhs.k, RK::Var(_)) {
                    return Err(Err::new("S0214").pos(rhs.pos).tok(op));
                }
                let rd = rhs.depth;
                raw(
                    RK::Binary(op.into(), Box::new(left), Box::new(rhs)),
                    pos,
                    &[ld, rd],
                )
            }
            "?" => {
                let then = self.expression(0)?;
                let mut els = None;
                if self.node.is_op(":") {
                    self.advance(Some(":"), false)?;
                    els = Some(Box::new(self.expression(0)?));
                }
                let ds = [ld, then.depth, els.as_ref().map_or(0, |e| e.depth)];
                raw(RK::Condition(Box::new(left), Box::new(then), els), pos, &ds)
            }
            "?:" => {
                let rhs = self.expression(0)?;
                let rd = rhs.depth;
                raw(RK::Elvis(Box::new(left), Box::new(rhs)), pos, &[ld, rd])
            }
            "??" => {
                let rhs = self.expression(0)?;
                let rd = rhs.depth;
                raw(RK::Coalesce(Box::new(left), Box::new(rhs)), pos, &[ld, rd])
            }
            _ => {
                let rhs = self.expression(lbp(op))?;
                let rd = rhs.depth;
                raw(
                    RK::Binary(op.into(), Box::new(left), Box::new(rhs)),
                    pos,
                    &[ld, rd],
                )
            }
        })
    }

    // ---------------------------------------------------------------- processAST

    fn new_slot(&mut self) -> usize {
        let label = self.labels;
        self.labels += 1;
        self.slots.push((1, label));
        self.slots.len() - 1
    }

    fn push_ancestry(result: &mut Node, value: &Node) {
        result
            .seeking_parent
            .extend(value.seeking_parent.iter().copied());
        if let Kind::Parent(s) = value.kind {
            result.seeking_parent.push(s);
        }
    }

    fn seek_parent(&mut self, node: &mut Node, slot: usize) -> R<usize> {
        match &mut node.kind {
            Kind::Name(_) | Kind::Wildcard => {
                self.slots[slot].0 -= 1;
                if self.slots[slot].0 == 0 {
                    if let Some(anc) = node.ancestor {
                        self.slots[slot].1 = self.slots[anc].1;
                    }
                    node.ancestor = Some(slot);
                    node.tuple = true;
                }
            }
            Kind::Parent(_) => {
                self.slots[slot].0 += 1;
            }
            Kind::Block(exprs) => {
                if let Some(last) = exprs.last_mut() {
                    node.tuple = true;
                    return self.seek_parent(last, slot);
                }
            }
            Kind::Path(steps) => {
                node.tuple = true;
                let mut index = steps.len() as i64 - 1;
                let s = self.seek_parent(&mut steps[index as usize], slot)?;
                index -= 1;
                while self.slots[s].0 > 0 && index >= 0 {
                    self.seek_parent(&mut steps[index as usize], s)?;
                    index -= 1;
                }
                return Ok(s);
            }
            _ => {
                return Err(Err::new("S0217").pos(node.position).tok(node.type_name()));
            }
        }
        Ok(slot)
    }

    fn resolve_ancestry(&mut self, path: &mut Node) -> R<()> {
        let Kind::Path(steps) = &mut path.kind else {
            return Ok(());
        };
        let Some(last) = steps.last() else {
            return Ok(());
        };
        let mut slots = last.seeking_parent.clone();
        if let Kind::Parent(s) = last.kind {
            slots.push(s);
        }
        let mut unresolved = Vec::new();
        for slot in slots {
            let mut index = steps.len() as i64 - 2;
            while self.slots[slot].0 > 0 {
                if index < 0 {
                    unresolved.push(slot);
                    break;
                }
                let mut si = index as usize;
                index -= 1;
                while index >= 0
                    && steps[si].focus.is_some()
                    && steps[index as usize].focus.is_some()
                {
                    si = index as usize;
                    index -= 1;
                }
                self.seek_parent(&mut steps[si], slot)?;
            }
        }
        path.seeking_parent.extend(unresolved);
        Ok(())
    }

    fn process_pair(&mut self, l: Raw, r: Raw, pos: usize) -> R<(Node, Node, Node)> {
        let mut n = Node::new(Kind::Placeholder, pos);
        let l = self.process(l)?;
        Self::push_ancestry(&mut n, &l);
        let r = self.process(r)?;
        Self::push_ancestry(&mut n, &r);
        Ok((n, l, r))
    }

    fn tail_call_optimize(expr: Node) -> Node {
        match expr.kind {
            Kind::Function { .. } if expr.predicate.is_empty() => {
                let pos = expr.position;
                Node::new(
                    Kind::Lambda {
                        params: Vec::new(),
                        signature: None,
                        body: Box::new(expr),
                        thunk: true,
                    },
                    pos,
                )
            }
            Kind::Condition(c, t, e) => {
                let kind = Kind::Condition(
                    c,
                    Box::new(Self::tail_call_optimize(*t)),
                    e.map(|e| Box::new(Self::tail_call_optimize(*e))),
                );
                Node { kind, ..expr }
            }
            Kind::Block(mut exprs) => {
                if let Some(last) = exprs.pop() {
                    exprs.push(Self::tail_call_optimize(last));
                }
                Node {
                    kind: Kind::Block(exprs),
                    ..expr
                }
            }
            kind => Node { kind, ..expr },
        }
    }

    fn process(&mut self, expr: Raw) -> R<Node> {
        let keep_array = expr.keep_array;
        let pos = expr.pos;
        let mut result = match expr.k {
            RK::Binary(op, lhs, rhs) => match op.as_str() {
                "." => {
                    let lstep = self.process(*lhs)?;
                    let mut result = if matches!(lstep.kind, Kind::Path(_)) {
                        lstep
                    } else {
                        let lslot = match lstep.kind {
                            Kind::Parent(s) => Some(s),
                            _ => None,
                        };
                        let mut p = Node::new(Kind::Path(vec![lstep]), pos);
                        if let Some(s) = lslot {
                            p.seeking_parent = vec![s];
                        }
                        p
                    };
                    let rest = self.process(*rhs)?;
                    let Kind::Path(steps) = &mut result.kind else {
                        return unreachable_path();
                    };
                    match rest.kind {
                        Kind::Path(rsteps) => steps.extend(rsteps),
                        _ => {
                            let mut rest = rest;
                            if !rest.predicate.is_empty() {
                                rest.stages = std::mem::take(&mut rest.predicate);
                            }
                            steps.push(rest);
                        }
                    }
                    for step in steps.iter_mut() {
                        match &step.kind {
                            Kind::Literal(Value::String(s)) => step.kind = Kind::Name(s.clone()),
                            Kind::Literal(v) => {
                                return Err(Err::new("S0213").pos(step.position).val(v.clone()));
                            }
                            _ => {}
                        }
                    }
                    if steps.iter().any(|s| s.keep_array) {
                        result.keep_singleton_array = true;
                    }
                    if let Kind::Path(steps) = &mut result.kind {
                        if let Some(first) = steps.first_mut() {
                            if matches!(first.kind, Kind::Array(_)) {
                                first.consarray = true;
                            }
                        }
                        if let Some(last) = steps.last_mut() {
                            if matches!(last.kind, Kind::Array(_)) {
                                last.consarray = true;
                            }
                        }
                    }
                    self.resolve_ancestry(&mut result)?;
                    result
                }
                "[" => {
                    let mut result = self.process(*lhs)?;
                    let predicate = self.process(*rhs)?;
                    let is_path = matches!(result.kind, Kind::Path(_));
                    let step: &mut Node = match &mut result.kind {
                        Kind::Path(steps) => match steps.last_mut() {
                            Some(s) => s,
                            None => return unreachable_path(),
                        },
                        _ => &mut result,
                    };
                    if step.group.is_some() {
                        return Err(Err::new("S0209").pos(pos));
                    }
                    if !predicate.seeking_parent.is_empty() {
                        for &slot in &predicate.seeking_parent {
                            if self.slots[slot].0 == 1 {
                                self.seek_parent(step, slot)?;
                            } else {
                                self.slots[slot].0 -= 1;
                            }
                        }
                        Self::push_ancestry(step, &predicate);
                    }
                    let stage = Stage::Filter(Box::new(predicate));
                    if is_path {
                        step.stages.push(stage);
                    } else {
                        step.predicate.push(stage);
                    }
                    result
                }
                ":=" => {
                    let name = match lhs.k {
                        RK::Var(v) => v,
                        _ => String::new(),
                    };
                    let rhs = self.process(*rhs)?;
                    let mut result = Node::new(
                        Kind::Bind(name, Box::new(Node::new(Kind::Placeholder, 0))),
                        pos,
                    );
                    Self::push_ancestry(&mut result, &rhs);
                    result.kind = match result.kind {
                        Kind::Bind(n, _) => Kind::Bind(n, Box::new(rhs)),
                        k => k,
                    };
                    result
                }
                "@" => {
                    let var = match rhs.k {
                        RK::Var(v) => v,
                        _ => String::new(),
                    };
                    let mut result = self.process(*lhs)?;
                    let step: &mut Node = match &mut result.kind {
                        Kind::Path(steps) => match steps.last_mut() {
                            Some(s) => s,
                            None => return unreachable_path(),
                        },
                        _ => &mut result,
                    };
                    if !step.stages.is_empty() || !step.predicate.is_empty() {
                        return Err(Err::new("S0215").pos(pos));
                    }
                    if matches!(step.kind, Kind::Sort(_)) {
                        return Err(Err::new("S0216").pos(pos));
                    }
                    if keep_array {
                        step.keep_array = true;
                    }
                    step.focus = Some(var);
                    step.tuple = true;
                    result
                }
                "#" => {
                    let var = match rhs.k {
                        RK::Var(v) => v,
                        _ => String::new(),
                    };
                    let mut result = self.process(*lhs)?;
                    if !matches!(result.kind, Kind::Path(_)) {
                        let mut inner = result;
                        if !inner.predicate.is_empty() {
                            inner.stages = std::mem::take(&mut inner.predicate);
                        }
                        let p = inner.position;
                        result = Node::new(Kind::Path(vec![inner]), p);
                    }
                    if let Kind::Path(steps) = &mut result.kind {
                        if let Some(step) = steps.last_mut() {
                            if step.stages.is_empty() {
                                step.index = Some(var);
                            } else {
                                step.stages.push(Stage::Index(var));
                            }
                            step.tuple = true;
                        }
                    }
                    result
                }
                "~>" => {
                    let l = self.process(*lhs)?;
                    let r = self.process(*rhs)?;
                    let ka = l.keep_array || r.keep_array;
                    let mut n = Node::new(Kind::Apply(Box::new(l), Box::new(r)), pos);
                    n.keep_array = ka;
                    n
                }
                _ => {
                    let Some(bop) = BinOp::from_str(&op) else {
                        return Err(Err::new("S0201").pos(pos).tok(op));
                    };
                    let l = self.process(*lhs)?;
                    let r = self.process(*rhs)?;
                    let mut n = Node::new(Kind::Placeholder, pos);
                    Self::push_ancestry(&mut n, &l);
                    Self::push_ancestry(&mut n, &r);
                    n.kind = Kind::Binary(bop, Box::new(l), Box::new(r));
                    n
                }
            },
            RK::Group(lhs, pairs) => {
                let mut result = self.process(*lhs)?;
                if result.group.is_some() {
                    return Err(Err::new("S0210").pos(pos));
                }
                let mut ps = Vec::new();
                for (k, v) in pairs {
                    ps.push((self.process(k)?, self.process(v)?));
                }
                result.group = Some(Box::new((ps, pos)));
                result
            }
            RK::Sort(lhs, terms) => {
                let mut result = self.process(*lhs)?;
                if !matches!(result.kind, Kind::Path(_)) {
                    let p = result.position;
                    result = Node::new(Kind::Path(vec![result]), p);
                }
                let mut sort = Node::new(Kind::Placeholder, pos);
                let mut ts = Vec::new();
                for (desc, e) in terms {
                    let e = self.process(e)?;
                    Self::push_ancestry(&mut sort, &e);
                    ts.push(SortTerm {
                        descending: desc,
                        expr: e,
                    });
                }
                sort.kind = Kind::Sort(ts);
                if let Kind::Path(steps) = &mut result.kind {
                    steps.push(sort);
                }
                self.resolve_ancestry(&mut result)?;
                result
            }
            RK::Neg(e) => {
                let e = self.process(*e)?;
                if let Kind::Literal(Value::Number(n)) = &e.kind {
                    let v = -n.as_f64().unwrap_or(0.0);
                    let mut e = e;
                    e.kind = Kind::Literal(
                        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
                    );
                    e
                } else {
                    let mut n = Node::new(Kind::Placeholder, pos);
                    Self::push_ancestry(&mut n, &e);
                    n.kind = Kind::Neg(Box::new(e));
                    n
                }
            }
            RK::Array(items) => {
                let mut n = Node::new(Kind::Placeholder, pos);
                let mut out = Vec::new();
                for it in items {
                    let v = self.process(it)?;
                    Self::push_ancestry(&mut n, &v);
                    out.push(v);
                }
                n.kind = Kind::Array(out);
                n
            }
            RK::Object(pairs) => {
                let mut n = Node::new(Kind::Placeholder, pos);
                let mut out = Vec::new();
                for (k, v) in pairs {
                    let k = self.process(k)?;
                    Self::push_ancestry(&mut n, &k);
                    let v = self.process(v)?;
                    Self::push_ancestry(&mut n, &v);
                    out.push((k, v));
                }
                n.kind = Kind::Object(out);
                n
            }
            RK::Function {
                procedure,
                args,
                partial,
            } => {
                let mut n = Node::new(Kind::Placeholder, pos);
                let mut out = Vec::new();
                for a in args {
                    let v = self.process(a)?;
                    Self::push_ancestry(&mut n, &v);
                    out.push(v);
                }
                let procedure = Box::new(self.process(*procedure)?);
                n.kind = if partial {
                    Kind::Partial {
                        procedure,
                        args: out,
                    }
                } else {
                    Kind::Function {
                        procedure,
                        args: out,
                    }
                };
                n
            }
            RK::Lambda {
                params,
                signature,
                body,
            } => {
                let body = self.process(*body)?;
                let body = Self::tail_call_optimize(body);
                Node::new(
                    Kind::Lambda {
                        params,
                        signature,
                        body: Box::new(body),
                        thunk: false,
                    },
                    pos,
                )
            }
            RK::Condition(c, t, e) => {
                let mut n = Node::new(Kind::Placeholder, pos);
                let c = self.process(*c)?;
                Self::push_ancestry(&mut n, &c);
                let t = self.process(*t)?;
                Self::push_ancestry(&mut n, &t);
                let e = match e {
                    Some(e) => {
                        let e = self.process(*e)?;
                        Self::push_ancestry(&mut n, &e);
                        Some(Box::new(e))
                    }
                    None => None,
                };
                n.kind = Kind::Condition(Box::new(c), Box::new(t), e);
                n
            }
            RK::Coalesce(l, r) => {
                let (n, l, r) = self.process_pair(*l, *r, pos)?;
                Node {
                    kind: Kind::Coalesce(Box::new(l), Box::new(r)),
                    ..n
                }
            }
            RK::Elvis(l, r) => {
                let (n, l, r) = self.process_pair(*l, *r, pos)?;
                Node {
                    kind: Kind::Elvis(Box::new(l), Box::new(r)),
                    ..n
                }
            }
            RK::Transform(p, u, d) => {
                let pattern = Box::new(self.process(*p)?);
                let update = Box::new(self.process(*u)?);
                let delete = match d {
                    Some(d) => Some(Box::new(self.process(*d)?)),
                    None => None,
                };
                Node::new(
                    Kind::Transform {
                        pattern,
                        update,
                        delete,
                    },
                    pos,
                )
            }
            RK::Block(exprs) => {
                let mut n = Node::new(Kind::Placeholder, pos);
                let mut out = Vec::new();
                for e in exprs {
                    let part = self.process(e)?;
                    Self::push_ancestry(&mut n, &part);
                    let cons = part.consarray
                        || matches!(&part.kind, Kind::Path(s) if s.first().is_some_and(|f| f.consarray));
                    if cons {
                        n.consarray = true;
                    }
                    out.push(part);
                }
                n.kind = Kind::Block(out);
                n
            }
            RK::Name(name) => {
                let mut step = Node::new(Kind::Name(name), pos);
                step.keep_array = keep_array;
                let mut p = Node::new(Kind::Path(vec![step]), pos);
                if keep_array {
                    p.keep_singleton_array = true;
                }
                p
            }
            RK::Parent => {
                let s = self.new_slot();
                Node::new(Kind::Parent(s), pos)
            }
            RK::End => return Err(Err::new("S0207").pos(pos).tok("(end)")),
            RK::Lit(v) => Node::new(Kind::Literal(v), pos),
            RK::Wildcard => Node::new(Kind::Wildcard, pos),
            RK::Descendant => Node::new(Kind::Descendant, pos),
            RK::Var(v) => Node::new(Kind::Variable(v), pos),
            RK::Regex(p, f) => {
                let re = crate::regex::Re::new(&p, &f)
                    .map_err(|m| Err::new("S0303").pos(pos).tok(p.clone()).extra(m))?;
                Node::new(Kind::Regex(re), pos)
            }
            RK::Op(op) => match op.as_str() {
                "and" | "or" | "in" => {
                    let step = Node::new(Kind::Name(op), pos);
                    Node::new(Kind::Path(vec![step]), pos)
                }
                "?" => Node::new(Kind::Placeholder, pos),
                _ => return Err(Err::new("S0201").pos(pos).tok(op)),
            },
        };
        if keep_array {
            result.keep_array = true;
        }
        Ok(result)
    }
}

fn raw_token(r: &Raw) -> String {
    match &r.k {
        RK::Name(n) | RK::Var(n) | RK::Op(n) => n.clone(),
        RK::Lit(Value::String(s)) => s.clone(),
        RK::Lit(v) => v.to_string(),
        RK::Binary(o, ..) => o.clone(),
        _ => String::new(),
    }
}

fn nesting(pos: usize) -> Box<Err> {
    Err::new("U1001")
        .pos(pos)
        .extra("Expression is nested too deeply")
}

fn unreachable_path<T>() -> R<T> {
    Err(Err::new("S0201").extra("empty path"))
}
