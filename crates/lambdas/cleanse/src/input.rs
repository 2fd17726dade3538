//! Streaming record readers for CSV (RFC 4180) and JSON Lines, with bounded memory and malformed
//! records reported (never silently dropped).
//!
//! A [`RecordReader`] yields one [`Record`] at a time into a buffer that is reused from record to
//! record: no allocation per field or per row once the buffers have grown to the widest record.
//! A record whose shape is wrong (wrong column count, invalid UTF-8, a field or record over its size
//! limit, a JSON line that is not an object) comes back as [`Next::Malformed`] with the reason and
//! its line number, for the caller to count and send to a rejects object.
//!
//! ```
//! use cleanse::input::{InputConfig, Next, Record, RecordReader};
//! let cfg = InputConfig::default();
//! let data = "a,b\n1,\"x, y\"\n2\n";
//! let mut rdr = RecordReader::new(&cfg, data.as_bytes()).unwrap();
//! assert_eq!(rdr.columns(), ["a", "b"]);
//! let mut rec = Record::default();
//! assert!(matches!(rdr.next(&mut rec).unwrap(), Next::Record));
//! assert_eq!(rec.text(1), "x, y");
//! match rdr.next(&mut rec).unwrap() {
//!     Next::Malformed(m) => assert_eq!((m.kind.as_str(), rec.line), ("wrong_column_count", 3)),
//!     _ => unreachable!(),
//! }
//! assert!(matches!(rdr.next(&mut rec).unwrap(), Next::End));
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};

use crate::conf::{ConfError, Node};

/// The input's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV (RFC 4180: quoting, doubled quotes, embedded line breaks), configurable delimiter.
    Csv,
    /// JSON Lines: one JSON object per line; its members are the columns.
    Jsonl,
}

/// What to do with a CSV record whose field count differs from the header's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ragged {
    /// Reject it (counted, written to the rejects object). The default.
    Reject,
    /// Keep it: drop the extra trailing fields, fill missing trailing fields with null (what
    /// polars' `truncate_ragged_lines=True` does). Counted in the report as `padded`/`truncated`.
    PadTruncate,
}

/// How to read the input (the `input` member of a cleanse or validate configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputConfig {
    /// CSV or JSON Lines.
    pub format: Format,
    /// CSV field delimiter (default `,`).
    pub delimiter: u8,
    /// CSV quote character (default `"`).
    pub quote: u8,
    /// Whether the first CSV record is the header (default true).
    pub header: bool,
    /// Column names: required for CSV without a header; for JSON Lines the column set and order
    /// (default: the members of the first line, in order).
    pub columns: Option<Vec<String>>,
    /// A record with a longer field is rejected (default 64 KiB).
    pub max_field_bytes: usize,
    /// A longer record is rejected without being held in memory (default 1 MiB).
    pub max_record_bytes: usize,
    /// Wrong field counts: reject (default) or pad/truncate.
    pub ragged: Ragged,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            format: Format::Csv,
            delimiter: b',',
            quote: b'"',
            header: true,
            columns: None,
            max_field_bytes: 64 * 1024,
            max_record_bytes: 1024 * 1024,
            ragged: Ragged::Reject,
        }
    }
}

/// The largest `max_record_bytes` accepted (64 MiB): the record buffer is the reader's memory.
pub const MAX_RECORD_LIMIT: usize = 64 * 1024 * 1024;

impl InputConfig {
    /// Parses the `input` member of a configuration (`node` may be absent: the defaults).
    pub fn parse(node: Option<&Node<'_>>) -> Result<Self, ConfError> {
        let mut cfg = InputConfig::default();
        let Some(node) = node else { return Ok(cfg) };
        node.deny_unknown(&[
            "format",
            "delimiter",
            "quote",
            "header",
            "columns",
            "max_field_bytes",
            "max_record_bytes",
            "ragged",
        ])?;
        if let Some(n) = node.field("format")? {
            cfg.format = match n.one_of(&["csv", "jsonl"])? {
                "csv" => Format::Csv,
                _ => Format::Jsonl,
            };
        }
        if let Some(n) = node.field("delimiter")? {
            cfg.delimiter = n.ascii_byte()?;
        }
        if let Some(n) = node.field("quote")? {
            cfg.quote = n.ascii_byte()?;
        }
        if cfg.quote == cfg.delimiter {
            return Err(node.error("`quote` and `delimiter` must differ"));
        }
        if let Some(n) = node.field("header")? {
            cfg.header = n.bool()?;
        }
        if let Some(n) = node.field("columns")? {
            let cols: Vec<String> = n.strings()?.into_iter().map(|(s, _)| s).collect();
            if cols.is_empty() {
                return Err(n.error("`columns` must name at least one column"));
            }
            if let Some(d) = first_duplicate(&cols) {
                return Err(n.error(format!("column `{d}` is listed twice")));
            }
            cfg.columns = Some(cols);
        }
        if let Some(n) = node.field("max_record_bytes")? {
            let v = n.u64()?;
            if v < 1024 || v > MAX_RECORD_LIMIT as u64 {
                return Err(n.error(format!("must be between 1024 and {MAX_RECORD_LIMIT} bytes")));
            }
            cfg.max_record_bytes = v as usize;
        }
        if let Some(n) = node.field("max_field_bytes")? {
            let v = n.u64()?;
            if v == 0 || v > cfg.max_record_bytes as u64 {
                return Err(n.error("must be at least 1 and at most `max_record_bytes`"));
            }
            cfg.max_field_bytes = v as usize;
        }
        if let Some(n) = node.field("ragged")? {
            cfg.ragged = match n.one_of(&["reject", "pad_truncate"])? {
                "reject" => Ragged::Reject,
                _ => Ragged::PadTruncate,
            };
        }
        if cfg.format == Format::Csv && !cfg.header && cfg.columns.is_none() {
            return Err(
                node.error("a CSV input without a header needs `columns` (the column names)")
            );
        }
        Ok(cfg)
    }
}

fn first_duplicate(cols: &[String]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    cols.iter()
        .find(|c| !seen.insert(c.as_str()))
        .map(|s| s.as_str())
}

/// What kind of value a field holds (CSV fields are always [`FieldKind::Str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Text.
    Str,
    /// A JSON number literal (its text).
    Number,
    /// A JSON `true`/`false` literal (its text).
    Bool,
    /// JSON `null`, or a JSON Lines member that is absent, or a padded CSV field.
    Null,
    /// A JSON object or array (its raw text).
    Json,
}

/// One record: the field bytes of every column (in column order) in one reusable buffer.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// The field bytes, concatenated.
    pub buf: Vec<u8>,
    /// Per column: `(start, end, kind)` into `buf`.
    pub spans: Vec<(u32, u32, FieldKind)>,
    /// The line on which the record starts (1-based; the header is line 1).
    pub line: u64,
    /// For a CSV record kept by [`Ragged::PadTruncate`]: the field count it had.
    pub ragged_from: Option<usize>,
}

impl Record {
    /// The bytes of field `i`.
    pub fn bytes(&self, i: usize) -> &[u8] {
        let (s, e, _) = self.spans[i];
        &self.buf[s as usize..e as usize]
    }

    /// The text of field `i` (lossy for invalid UTF-8, which only malformed records contain).
    pub fn text(&self, i: usize) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.bytes(i))
    }

    /// The record as one CSV line (fields quoted where needed), for rejects; at most `limit`
    /// bytes (then cut, on a character boundary, with `…`).
    pub fn to_csv_lossy(&self, delimiter: u8, limit: usize) -> String {
        let mut out = Vec::new();
        for i in 0..self.spans.len() {
            if i > 0 {
                out.push(delimiter);
            }
            crate::output::write_csv_field(&mut out, self.bytes(i), delimiter);
            if out.len() > limit {
                break;
            }
        }
        let mut s = String::from_utf8_lossy(&out).into_owned();
        if s.len() > limit {
            let mut cut = limit;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s.push('…');
        }
        s
    }
}

/// Why a record was malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MalformedKind {
    /// A CSV record with more or fewer fields than the header.
    WrongColumnCount,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// A field longer than `max_field_bytes`.
    FieldTooLarge,
    /// A record longer than `max_record_bytes` (its content is not kept).
    RecordTooLarge,
    /// A JSON line that is not a JSON object, or has a member that is not a column.
    InvalidJson,
}

impl MalformedKind {
    /// The stable name used in reports and rejects.
    pub fn as_str(self) -> &'static str {
        match self {
            MalformedKind::WrongColumnCount => "wrong_column_count",
            MalformedKind::InvalidUtf8 => "invalid_utf8",
            MalformedKind::FieldTooLarge => "field_too_large",
            MalformedKind::RecordTooLarge => "record_too_large",
            MalformedKind::InvalidJson => "invalid_json",
        }
    }
}

/// A malformed record: the kind and a human-readable detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The kind (stable name via [`MalformedKind::as_str`]).
    pub kind: MalformedKind,
    /// What exactly is wrong (e.g. `14 fields, expected 12`).
    pub detail: String,
}

/// What [`RecordReader::next`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// A well-formed record is in the [`Record`].
    Record,
    /// A malformed record (its fields, as far as kept, are in the [`Record`]).
    Malformed(Malformed),
    /// End of input.
    End,
}

/// Errors that stop reading altogether (as opposed to a malformed record, which is counted).
#[derive(Debug)]
pub enum InputError {
    /// The input is empty (no header, no record).
    Empty,
    /// The header is unusable (not UTF-8, duplicate names, too large).
    BadHeader(String),
    /// Reading failed.
    Io(io::Error),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Empty => write!(f, "the input is empty (no header and no records)"),
            InputError::BadHeader(m) => write!(f, "unusable header: {m}"),
            InputError::Io(e) => write!(f, "reading the input failed: {e}"),
        }
    }
}

impl std::error::Error for InputError {}

impl From<io::Error> for InputError {
    fn from(e: io::Error) -> Self {
        InputError::Io(e)
    }
}

const CHUNK: usize = 256 * 1024;

/// A streaming reader of CSV or JSON Lines records with bounded memory.
pub struct RecordReader<R> {
    input: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    format: Format,
    delimiter: u8,
    quote: u8,
    columns: Vec<String>,
    column_index: HashMap<String, usize>,
    max_field: usize,
    max_record: usize,
    ragged: Ragged,
    key: Vec<u8>,
    seen: Vec<bool>,
    line: u64,
    bytes_read: u64,
    chunk_bytes: usize,
}

impl<R: Read> RecordReader<R> {
    /// Opens a reader: reads the header (CSV) or settles the columns (JSON Lines).
    pub fn new(cfg: &InputConfig, input: R) -> Result<Self, InputError> {
        let mut rdr = Self::unread(cfg, input, 0, 1);
        rdr.fill()?;
        // a UTF-8 byte order mark is not part of the first column's name
        if rdr.buf[..rdr.len].starts_with(b"\xEF\xBB\xBF") {
            rdr.pos = 3;
        }
        if rdr.pos == rdr.len && rdr.eof {
            return Err(InputError::Empty);
        }
        match cfg.format {
            Format::Csv => {
                if cfg.header {
                    let mut rec = Record::default();
                    match rdr.next_csv(&mut rec, None)? {
                        Next::End => return Err(InputError::Empty),
                        Next::Malformed(m) => return Err(InputError::BadHeader(m.detail)),
                        Next::Record => {}
                    }
                    let mut names = Vec::with_capacity(rec.spans.len());
                    for i in 0..rec.spans.len() {
                        names.push(String::from_utf8(rec.bytes(i).to_vec()).map_err(|_| {
                            InputError::BadHeader(format!("column {} is not UTF-8", i + 1))
                        })?);
                    }
                    if let Some(cols) = &cfg.columns {
                        if cols.len() != names.len() {
                            return Err(InputError::BadHeader(format!(
                                "the header has {} columns but `input.columns` lists {}",
                                names.len(),
                                cols.len()
                            )));
                        }
                        names = cols.clone();
                    }
                    rdr.set_columns(names)?;
                } else if let Some(cols) = &cfg.columns {
                    rdr.set_columns(cols.clone())?;
                }
            }
            Format::Jsonl => {
                if let Some(cols) = &cfg.columns {
                    rdr.set_columns(cols.clone())?;
                }
            }
        }
        Ok(rdr)
    }

    /// A reader of `input` that starts at byte `start` of the whole input, on line `line`, with
    /// these columns: `input` was opened there (a file seeked, a range of an object), at the
    /// start of a record an earlier reader of the same input reached ([`Chunk::start`] and
    /// [`Chunk::first_line`]). No header is read; offsets ([`Chunk::start`],
    /// [`RecordReader::bytes_read`]) count from the start of the whole input.
    pub fn resume(
        cfg: &InputConfig,
        input: R,
        columns: Vec<String>,
        start: u64,
        line: u64,
    ) -> Result<Self, InputError> {
        let mut rdr = Self::unread(cfg, input, start, line);
        rdr.set_columns(columns)?;
        Ok(rdr)
    }

    /// A reader that has read nothing of `input`, which starts at byte `start` (on line `line`)
    /// of the whole input.
    fn unread(cfg: &InputConfig, input: R, start: u64, line: u64) -> Self {
        RecordReader {
            input,
            buf: vec![0; CHUNK],
            pos: 0,
            len: 0,
            eof: false,
            format: cfg.format,
            delimiter: cfg.delimiter,
            quote: cfg.quote,
            columns: Vec::new(),
            column_index: HashMap::new(),
            max_field: cfg.max_field_bytes,
            max_record: cfg.max_record_bytes,
            ragged: cfg.ragged,
            key: Vec::new(),
            seen: Vec::new(),
            line,
            bytes_read: start,
            chunk_bytes: CHUNK_BYTES,
        }
    }

    fn set_columns(&mut self, names: Vec<String>) -> Result<(), InputError> {
        if let Some(d) = first_duplicate(&names) {
            return Err(InputError::BadHeader(format!("column `{d}` appears twice")));
        }
        self.column_index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        self.seen = vec![false; names.len()];
        self.columns = names;
        Ok(())
    }

    /// The column names (for JSON Lines without declared columns: known after the first record,
    /// see [`RecordReader::prime`]).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Bytes read from the input so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// For JSON Lines without declared columns: takes the column names from the first line that
    /// is a JSON object (its member names, in order), looking at most `max_record_bytes` ahead
    /// without consuming anything. Other formats: nothing to do.
    pub fn prime(&mut self) -> Result<(), InputError> {
        if self.format != Format::Jsonl || !self.columns.is_empty() {
            return Ok(());
        }
        self.fill()?; // moves the unread bytes to the front; `pos` is 0 from here
        let mut cursor = 0usize;
        loop {
            let nl = self.buf[cursor..self.len].iter().position(|&b| b == b'\n');
            let end = match nl {
                Some(i) => cursor + i,
                None if self.eof => self.len,
                None => {
                    if self.len >= self.max_record + CHUNK {
                        return Ok(());
                    }
                    if self.len == self.buf.len() {
                        let n = (self.buf.len() * 2).min(self.max_record + CHUNK);
                        self.buf.resize(n, 0);
                    }
                    let n = self.input.read(&mut self.buf[self.len..])?;
                    if n == 0 {
                        self.eof = true;
                    }
                    self.len += n;
                    self.bytes_read += n as u64;
                    continue;
                }
            };
            let line = trim_ascii(&self.buf[cursor..end]);
            if !line.is_empty() {
                let mut names = Vec::new();
                if collect_keys(line, &mut names).is_ok() && !names.is_empty() {
                    return self.set_columns(names);
                }
            }
            if end >= self.len {
                return Ok(());
            }
            cursor = end + 1;
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
        }
        if self.len == self.buf.len() {
            let grow = (self.buf.len() * 2).min(self.max_record.max(CHUNK) + CHUNK);
            if grow > self.buf.len() {
                self.buf.resize(grow, 0);
            }
        }
        while self.len < self.buf.len() && !self.eof {
            match self.input.read(&mut self.buf[self.len..]) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.len += n;
                    self.bytes_read += n as u64;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads the next record into `rec`.
    pub fn next(&mut self, rec: &mut Record) -> io::Result<Next> {
        match self.format {
            Format::Csv => {
                let want = if self.columns.is_empty() {
                    None
                } else {
                    Some(self.columns.len())
                };
                self.next_csv(rec, want)
            }
            Format::Jsonl => self.next_json(rec),
        }
    }

    fn next_csv(&mut self, rec: &mut Record, want: Option<usize>) -> io::Result<Next> {
        rec.buf.clear();
        rec.spans.clear();
        rec.ragged_from = None;
        // blank lines between records are skipped (as csv-core and most readers do)
        loop {
            if self.pos == self.len {
                if self.eof {
                    return Ok(Next::End);
                }
                self.fill()?;
                continue;
            }
            match self.buf[self.pos] {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b'\r' => self.pos += 1,
                _ => break,
            }
        }
        rec.line = self.line;
        loop {
            let buf = &self.buf[..self.len];
            match parse_csv_record(buf, self.pos, self.eof, self.delimiter, self.quote, rec) {
                Some((next, newlines)) => {
                    let start = self.pos;
                    self.pos = next;
                    self.line += newlines;
                    // the limit [`ChunkParser::next`] applies: a whole record (its line break
                    // included) over it is malformed, even when it happens to fit the buffer
                    if next - start > self.max_record {
                        rec.buf.clear();
                        rec.spans.clear();
                        return Ok(Next::Malformed(Malformed {
                            kind: MalformedKind::RecordTooLarge,
                            detail: format!("record over {} bytes", self.max_record),
                        }));
                    }
                    break;
                }
                None => {
                    if self.len - self.pos >= self.max_record {
                        self.skip_record()?;
                        return Ok(Next::Malformed(Malformed {
                            kind: MalformedKind::RecordTooLarge,
                            detail: format!("record over {} bytes", self.max_record),
                        }));
                    }
                    self.fill()?;
                    rec.buf.clear();
                    rec.spans.clear();
                }
            }
        }
        Ok(check_csv_record(rec, want, self.ragged, self.max_field))
    }

    /// Skips the record starting at `self.pos` without keeping it (it is over the size limit):
    /// the same quoting rules as [`Self::parse_record`], as a state machine across refills.
    fn skip_record(&mut self) -> io::Result<()> {
        #[derive(PartialEq)]
        enum St {
            FieldStart,
            Unquoted,
            Quoted,
            QuoteInQuoted,
        }
        let (d, q) = (self.delimiter, self.quote);
        let mut st = St::FieldStart;
        loop {
            while self.pos < self.len {
                let b = self.buf[self.pos];
                self.pos += 1;
                if b == b'\n' {
                    self.line += 1;
                }
                st = match st {
                    St::Quoted if b == q => St::QuoteInQuoted,
                    St::Quoted => St::Quoted,
                    St::QuoteInQuoted if b == q => St::Quoted,
                    St::FieldStart if b == q => St::Quoted,
                    _ if b == d => St::FieldStart,
                    _ if b == b'\n' || b == b'\r' => {
                        if b == b'\r' && self.pos < self.len && self.buf[self.pos] == b'\n' {
                            self.pos += 1;
                            self.line += 1;
                        }
                        return Ok(());
                    }
                    _ => St::Unquoted,
                };
            }
            if self.eof {
                return Ok(());
            }
            self.pos = self.len;
            self.fill()?;
        }
    }

    /// The next line (without its terminator) as a range of `self.buf`, or `None` at the end.
    /// A line over `max_record` bytes is returned as `start == end == usize::MAX`.
    fn next_line(&mut self) -> io::Result<Option<(usize, usize)>> {
        let mut scanned = 0usize;
        let mut too_long = false;
        loop {
            let hay = &self.buf[self.pos + scanned..self.len];
            if let Some(i) = hay.iter().position(|&b| b == b'\n') {
                let start = self.pos;
                let end = self.pos + scanned + i;
                self.pos = end + 1;
                self.line += 1;
                if too_long || end - start > self.max_record {
                    return Ok(Some((usize::MAX, usize::MAX)));
                }
                let end = if end > start && self.buf[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                return Ok(Some((start, end)));
            }
            scanned = self.len - self.pos;
            if self.eof {
                if scanned == 0 {
                    return Ok(None);
                }
                let start = self.pos;
                self.pos = self.len;
                self.line += 1;
                if too_long || scanned > self.max_record {
                    return Ok(Some((usize::MAX, usize::MAX)));
                }
                return Ok(Some((start, self.len)));
            }
            if scanned > self.max_record {
                // discard what we have of this overlong line and keep scanning for its end
                too_long = true;
                self.pos = self.len;
                scanned = 0;
            }
            self.fill()?;
        }
    }

    fn next_json(&mut self, rec: &mut Record) -> io::Result<Next> {
        rec.buf.clear();
        rec.spans.clear();
        rec.ragged_from = None;
        loop {
            let line_no = self.line;
            let Some((start, end)) = self.next_line()? else {
                return Ok(Next::End);
            };
            rec.line = line_no;
            if start == usize::MAX {
                return Ok(Next::Malformed(Malformed {
                    kind: MalformedKind::RecordTooLarge,
                    detail: format!("line over {} bytes", self.max_record),
                }));
            }
            let (ls, le) = trim_range_ascii(&self.buf[start..end]);
            let (ls, le) = (start + ls, start + le);
            if ls == le {
                continue;
            }
            if self.columns.is_empty() {
                let mut names = Vec::new();
                if collect_keys(&self.buf[ls..le], &mut names).is_ok() && !names.is_empty() {
                    if let Err(e) = self.set_columns(names) {
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
                    }
                }
            }
            let line = &self.buf[ls..le];
            return Ok(json_record(
                line,
                rec,
                &mut self.key,
                &self.column_index,
                &mut self.seen,
                self.max_field,
            ));
        }
    }
}

/// Parses one JSON Lines record (a trimmed, non-empty line) into `rec`.
fn json_record(
    line: &[u8],
    rec: &mut Record,
    key: &mut Vec<u8>,
    index: &HashMap<String, usize>,
    seen: &mut [bool],
    max_field: usize,
) -> Next {
    if let Err(e) = std::str::from_utf8(line) {
        rec.buf.extend_from_slice(line);
        rec.spans.push((0, line.len() as u32, FieldKind::Str));
        return Next::Malformed(Malformed {
            kind: MalformedKind::InvalidUtf8,
            detail: format!("byte {} is not valid UTF-8", e.valid_up_to() + 1),
        });
    }
    let n = seen.len();
    rec.spans.clear();
    rec.spans.resize(n, (0, 0, FieldKind::Null));
    seen.iter_mut().for_each(|s| *s = false);
    let res = parse_object(
        line,
        &mut rec.buf,
        key,
        index,
        &mut rec.spans,
        seen,
        max_field,
    );
    if let Err(detail) = res {
        // keep the raw line for the rejects object
        rec.buf.clear();
        rec.buf.extend_from_slice(line);
        rec.spans.clear();
        rec.spans.push((0, line.len() as u32, FieldKind::Str));
        let kind = if detail.starts_with("field ") && detail.contains("over the limit") {
            MalformedKind::FieldTooLarge
        } else {
            MalformedKind::InvalidJson
        };
        return Next::Malformed(Malformed { kind, detail });
    }
    Next::Record
}

/// Records per batch handed from the reading thread to the processing thread: ~200 KB of a CSV
/// like the benchmark's, small enough for a core's L2 cache (every profiling thread reads every
/// batch) and large enough that the hand-overs cost little (a 1 GB profile: 7,300 context
/// switches with batches of 2048 against 27,300 with 512).
const BATCH: usize = 2048;

impl<R: Read + Send> RecordReader<R> {
    /// Hands every record (and malformed record) over to `f` in input order, in batches of 2048,
    /// until the end, `f` failing, or a read error. Reading and CSV/JSON parsing run on a second
    /// thread (a two-stage pipeline: the caller's work overlaps the parsing). Each batch is in
    /// input order and never empty; the last one ends with [`Next::End`]. `f` may give a batch
    /// back to be filled again (its own, or an earlier one it kept), or `None`.
    pub fn for_each_batch<E: From<io::Error>>(
        &mut self,
        mut f: impl FnMut(Batch) -> Result<Option<Batch>, E>,
    ) -> Result<(), E> {
        use std::sync::mpsc::{channel, sync_channel};
        let (tx, rx) = sync_channel::<io::Result<Batch>>(4);
        let (back_tx, back_rx) = channel::<Batch>();
        std::thread::scope(|scope| {
            let rdr = &mut *self;
            scope.spawn(move || loop {
                let mut batch = back_rx.try_recv().unwrap_or_default();
                let mut n = 0;
                let mut end = false;
                while n < BATCH {
                    if n == batch.len() {
                        batch.push((Record::default(), Next::End));
                    }
                    let slot = &mut batch[n];
                    match rdr.next(&mut slot.0) {
                        Ok(next) => {
                            end = next == Next::End;
                            slot.1 = next;
                            n += 1;
                            if end {
                                break;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
                batch.truncate(n);
                if tx.send(Ok(batch)).is_err() || end {
                    return;
                }
            });
            for batch in rx {
                let batch = batch?;
                let end = batch.last().is_none_or(|(_, n)| *n == Next::End);
                if let Some(b) = f(batch)? {
                    let _ = back_tx.send(b);
                }
                if end {
                    return Ok(());
                }
            }
            Ok(())
        })
    }
}

/// Records handed over together by [`RecordReader::for_each_batch`], each with what it is.
pub type Batch = Vec<(Record, Next)>;

/// Bytes a chunk of records aims at (it ends at the last record boundary after this many bytes).
pub const CHUNK_BYTES: usize = 1 << 20;

/// What a [`Chunk`] holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    /// Whole records (and blank lines): parse them with a [`ChunkParser`].
    Records,
    /// One record over `max_record_bytes`, skipped without being held (its line is
    /// [`Chunk::first_line`]); a [`ChunkParser`] yields it as [`MalformedKind::RecordTooLarge`].
    TooLarge,
    /// The end of the input.
    #[default]
    End,
}

/// A local file as a [`crate::Source`]: opened at its start for each pass, and at an offset by
/// seeking (a pass that resumes there does not read the bytes before it again). Every pass reads
/// the file the first one read: one whose size or modification time changed in between is an
/// error that says so, never a mix of two versions.
#[derive(Debug, Clone)]
pub struct LocalFile {
    path: std::path::PathBuf,
    /// The size and modification time the first open saw.
    pin: Option<(u64, Option<std::time::SystemTime>)>,
}

impl LocalFile {
    /// The file at `path`.
    pub fn new(path: impl AsRef<std::path::Path>) -> Self {
        LocalFile {
            path: path.as_ref().to_path_buf(),
            pin: None,
        }
    }
}

impl crate::Source for LocalFile {
    type Reader = std::fs::File;

    fn open(&mut self) -> io::Result<std::fs::File> {
        let f = std::fs::File::open(&self.path)?;
        let meta = f.metadata()?;
        let now = (meta.len(), meta.modified().ok());
        match self.pin {
            None => self.pin = Some(now),
            Some(first) if first != now => {
                return Err(io::Error::other(format!(
                    "{} changed since the first pass read it ({})",
                    self.path.display(),
                    if first.0 != now.0 {
                        format!("{} bytes then, {} now", first.0, now.0)
                    } else {
                        "its modification time changed".to_owned()
                    }
                )))
            }
            Some(_) => {}
        }
        Ok(f)
    }

    fn open_at(&mut self, offset: u64) -> Option<io::Result<std::fs::File>> {
        use std::io::{Seek, SeekFrom};
        Some(
            self.open()
                .and_then(|mut f| f.seek(SeekFrom::Start(offset)).map(|_| f)),
        )
    }
}

/// A block of whole records cut from the input at a record boundary (quote-aware for CSV), so
/// that blocks can be parsed independently, in parallel (see [`RecordReader::par_chunks`]).
#[derive(Debug, Default)]
pub struct Chunk {
    /// The bytes (whole records).
    pub data: Vec<u8>,
    /// The line on which `data` starts (1-based).
    pub first_line: u64,
    /// The input offset of `data`'s first byte (of the skipped record, for
    /// [`ChunkKind::TooLarge`]): where [`RecordReader::skip_to`] resumes.
    pub start: u64,
    /// What the chunk holds.
    pub kind: ChunkKind,
}

/// Parses the records of [`Chunk`]s exactly as [`RecordReader::next`] parses the input (same
/// records, line numbers, malformed kinds). One per worker thread (it holds scratch buffers).
#[derive(Debug, Clone)]
pub struct ChunkParser {
    format: Format,
    delimiter: u8,
    quote: u8,
    ncols: usize,
    ragged: Ragged,
    max_field: usize,
    max_record: usize,
    column_index: HashMap<String, usize>,
    key: Vec<u8>,
    seen: Vec<bool>,
}

/// A position in a [`Chunk`] for [`ChunkParser::next`].
#[derive(Debug, Clone, Copy)]
pub struct ChunkPos {
    /// Byte offset into the chunk's data.
    pub pos: usize,
    /// The line at `pos`.
    pub line: u64,
}

impl ChunkPos {
    /// The start of `chunk`.
    pub fn start(chunk: &Chunk) -> Self {
        ChunkPos {
            pos: 0,
            line: chunk.first_line,
        }
    }
}

impl ChunkParser {
    /// Reads the record at `at` into `rec` and advances `at` past it; `None` at the end of the
    /// chunk. The record's byte offset in the chunk is `at.pos` before the call (blank lines
    /// skipped): parsing again from there gives the same record.
    pub fn next(&mut self, chunk: &Chunk, at: &mut ChunkPos, rec: &mut Record) -> Option<Next> {
        rec.buf.clear();
        rec.spans.clear();
        rec.ragged_from = None;
        let data = &chunk.data[..];
        match chunk.kind {
            ChunkKind::End => return None,
            ChunkKind::TooLarge => {
                if at.pos > 0 {
                    return None;
                }
                at.pos = 1;
                rec.line = chunk.first_line;
                let what = if self.format == Format::Csv {
                    "record"
                } else {
                    "line"
                };
                return Some(Next::Malformed(Malformed {
                    kind: MalformedKind::RecordTooLarge,
                    detail: format!("{what} over {} bytes", self.max_record),
                }));
            }
            ChunkKind::Records => {}
        }
        match self.format {
            Format::Csv => {
                loop {
                    match data.get(at.pos) {
                        None => return None,
                        Some(b'\n') => {
                            at.line += 1;
                            at.pos += 1;
                        }
                        Some(b'\r') => at.pos += 1,
                        Some(_) => break,
                    }
                }
                rec.line = at.line;
                let start = at.pos;
                let (next, newlines) =
                    parse_csv_record(data, start, true, self.delimiter, self.quote, rec)
                        .unwrap_or((data.len(), 0));
                at.pos = next;
                at.line += newlines;
                if next - start > self.max_record {
                    rec.buf.clear();
                    rec.spans.clear();
                    return Some(Next::Malformed(Malformed {
                        kind: MalformedKind::RecordTooLarge,
                        detail: format!("record over {} bytes", self.max_record),
                    }));
                }
                Some(check_csv_record(
                    rec,
                    Some(self.ncols),
                    self.ragged,
                    self.max_field,
                ))
            }
            Format::Jsonl => loop {
                if at.pos >= data.len() {
                    return None;
                }
                let start = at.pos;
                let line_no = at.line;
                let end = match memchr::memchr(b'\n', &data[start..]) {
                    Some(i) => {
                        at.pos = start + i + 1;
                        start + i
                    }
                    None => {
                        at.pos = data.len();
                        data.len()
                    }
                };
                at.line += 1;
                rec.line = line_no;
                if end - start > self.max_record {
                    return Some(Next::Malformed(Malformed {
                        kind: MalformedKind::RecordTooLarge,
                        detail: format!("line over {} bytes", self.max_record),
                    }));
                }
                let end = if end > start && data[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                let line = trim_ascii(&data[start..end]);
                if line.is_empty() {
                    continue;
                }
                return Some(json_record(
                    line,
                    rec,
                    &mut self.key,
                    &self.column_index,
                    &mut self.seen,
                    self.max_field,
                ));
            },
        }
    }
}

/// The end of the last whole CSV record in `data` (which starts at a record boundary): after the
/// last line break outside a quoted field. A quoted field still open at the end (or closed by the
/// last byte, which might be the first of a doubled quote) makes its record incomplete.
fn csv_split(data: &[u8], d: u8, q: u8) -> Option<usize> {
    if memchr::memchr(q, data).is_none() {
        return memchr::memrchr(b'\n', data)
            .or_else(|| memchr::memrchr(b'\r', data))
            .map(|i| i + 1);
    }
    // quoted regions [open, after close): a quote opens one only at the start of a field
    let mut regions: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while let Some(k) = memchr::memchr(q, &data[i..]) {
        let p = i + k;
        let field_start = p == 0 || matches!(data[p - 1], b'\n' | b'\r') || data[p - 1] == d;
        if !field_start {
            i = p + 1;
            continue;
        }
        // find the closing quote (a doubled quote is an escaped quote)
        let mut j = p + 1;
        let close = loop {
            match memchr::memchr(q, &data[j..]) {
                None => break None,
                Some(k) => {
                    let c = j + k;
                    match data.get(c + 1) {
                        None => break None, // might be the first of a doubled quote
                        Some(&b) if b == q => j = c + 2,
                        Some(_) => break Some(c + 1),
                    }
                }
            }
        };
        match close {
            Some(end) => {
                regions.push((p, end));
                i = end;
            }
            None => {
                regions.push((p, data.len()));
                break;
            }
        }
    }
    // the last `\n` outside quotes; with none, the last `\r` (records ended by CR alone)
    last_break_outside(data, &regions, b'\n').or_else(|| last_break_outside(data, &regions, b'\r'))
}

/// The position after the last `brk` in `data` outside the quoted `regions`.
fn last_break_outside(data: &[u8], regions: &[(usize, usize)], brk: u8) -> Option<usize> {
    let mut limit = data.len();
    for &(a, b) in regions.iter().rev() {
        if b < limit {
            if let Some(nl) = memchr::memrchr(brk, &data[b..limit]) {
                return Some(b + nl + 1);
            }
        }
        limit = a;
    }
    memchr::memrchr(brk, &data[..limit]).map(|i| i + 1)
}

impl<R: Read> RecordReader<R> {
    /// A parser for the chunks of this reader (columns and limits as configured).
    pub fn chunk_parser(&self) -> ChunkParser {
        ChunkParser {
            format: self.format,
            delimiter: self.delimiter,
            quote: self.quote,
            ncols: self.columns.len(),
            ragged: self.ragged,
            max_field: self.max_field,
            max_record: self.max_record,
            column_index: self.column_index.clone(),
            key: Vec::new(),
            seen: vec![false; self.columns.len()],
        }
    }

    /// Sets the bytes a chunk aims at (default [`CHUNK_BYTES`]; at least 1): smaller chunks
    /// use less memory in [`RecordReader::par_chunks`] and give the workers less to do each.
    pub fn set_chunk_bytes(&mut self, n: usize) {
        self.chunk_bytes = n.max(1);
    }

    /// Reads the next chunk of whole records (about [`RecordReader::set_chunk_bytes`] bytes)
    /// into `chunk`.
    pub fn next_chunk(&mut self, chunk: &mut Chunk) -> io::Result<()> {
        let step = self.chunk_bytes;
        chunk.start = self.offset();
        chunk.data.clear();
        chunk.data.extend_from_slice(&self.buf[self.pos..self.len]);
        self.pos = 0;
        self.len = 0;
        let limit = self.max_record.max(step) + step;
        let mut want = step;
        loop {
            while chunk.data.len() < want && !self.eof {
                let need = (want - chunk.data.len()) as u64;
                let n = (&mut self.input).take(need).read_to_end(&mut chunk.data)?;
                self.bytes_read += n as u64;
                if (n as u64) < need {
                    self.eof = true;
                }
            }
            if self.eof {
                chunk.kind = if chunk.data.is_empty() {
                    ChunkKind::End
                } else {
                    ChunkKind::Records
                };
                chunk.first_line = self.line;
                self.line += memchr_count(b'\n', &chunk.data);
                return Ok(());
            }
            let split = match self.format {
                Format::Csv => csv_split(&chunk.data, self.delimiter, self.quote),
                Format::Jsonl => memchr::memrchr(b'\n', &chunk.data).map(|i| i + 1),
            };
            if let Some(cut) = split {
                self.buf.clear();
                self.buf.extend_from_slice(&chunk.data[cut..]);
                self.len = self.buf.len();
                chunk.data.truncate(cut);
                chunk.kind = ChunkKind::Records;
                chunk.first_line = self.line;
                self.line += memchr_count(b'\n', &chunk.data);
                return Ok(());
            }
            if chunk.data.len() < limit {
                want = chunk.data.len() + step;
                continue;
            }
            // one record over the limit: skip it without holding it
            std::mem::swap(&mut self.buf, &mut chunk.data);
            chunk.data.clear();
            self.len = self.buf.len();
            if self.format == Format::Csv {
                while self.pos < self.len && matches!(self.buf[self.pos], b'\n' | b'\r') {
                    self.line += (self.buf[self.pos] == b'\n') as u64;
                    self.pos += 1;
                }
                // (the buffer is the chunk's bytes: the record starts `pos` bytes in)
                chunk.start += self.pos as u64;
                chunk.first_line = self.line;
                self.skip_record()?;
            } else {
                chunk.first_line = self.line;
                self.skip_line()?;
            }
            chunk.kind = ChunkKind::TooLarge;
            return Ok(());
        }
    }

    /// The input offset of the first byte not consumed yet (read ahead into the buffer or not).
    fn offset(&self) -> u64 {
        self.bytes_read - (self.len - self.pos) as u64
    }

    /// Resumes where an earlier reader of the same input cut a chunk: `start` and `line` are that
    /// chunk's [`Chunk::start`] and [`Chunk::first_line`]. The bytes before it are read and
    /// dropped without being parsed or cut into chunks. The records from there on are the ones
    /// the earlier reader's chunks held from that chunk on, with the same line numbers (the
    /// chunks themselves may be cut elsewhere: where depends on the sizes the reads return). An
    /// input that ends before `start` changed since: an error ([`io::ErrorKind::UnexpectedEof`]);
    /// so is a `start` behind this reader.
    pub fn skip_to(&mut self, start: u64, line: u64) -> io::Result<()> {
        let at = self.offset();
        let mut n = start.checked_sub(at).ok_or_else(|| {
            io::Error::other(format!(
                "cannot skip back to input offset {start} from {at}"
            ))
        })?;
        let buffered = (self.len - self.pos).min(usize::try_from(n).unwrap_or(usize::MAX));
        self.pos += buffered;
        n -= buffered as u64;
        let mut scratch = vec![0u8; usize::try_from(n).unwrap_or(usize::MAX).min(1 << 20)];
        while n > 0 {
            let want = scratch.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            let got = match self.input.read(&mut scratch[..want]) {
                Ok(0) => {
                    self.eof = true;
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "the input ends before offset {start}, where an earlier pass left \
                             it: it changed between passes"
                        ),
                    ));
                }
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.bytes_read += got as u64;
            n -= got as u64;
        }
        self.line = line;
        Ok(())
    }

    /// Skips to after the next line break (a JSON line over the size limit).
    fn skip_line(&mut self) -> io::Result<()> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.pos..self.len]) {
                self.pos += i + 1;
                self.line += 1;
                return Ok(());
            }
            if self.eof {
                self.pos = self.len;
                self.line += 1;
                return Ok(());
            }
            self.pos = self.len;
            self.fill()?;
        }
    }
}

/// A chunk in flight: the input bytes, the workers' result for it, and a read error if any.
struct Slot<S> {
    chunk: Chunk,
    result: S,
    error: Option<io::Error>,
}

impl<R: Read + Send> RecordReader<R> {
    /// Processes the input in chunks on `workers` threads, in order: a reading thread cuts the
    /// input into [`Chunk`]s of whole records, the workers run `work` on each (parse it with their
    /// own state made by `init`, e.g. a [`ChunkParser`], and fill the chunk's result `S`, made by
    /// `new_result` and recycled), and the calling thread runs `consume` on the chunks in input
    /// order. At most `2 × workers + 2` chunks are in flight (bounded memory). Returns the
    /// workers' states (e.g. counters to add up) once the input ends, or the first error (a read
    /// error, or one `consume` returned); a panicking worker is an error too.
    pub fn par_chunks<Wk, S, E>(
        &mut self,
        workers: usize,
        init: impl Fn() -> Wk + Sync,
        new_result: impl Fn() -> S,
        work: impl Fn(&mut Wk, &Chunk, &mut S) + Sync,
        mut consume: impl FnMut(&Chunk, &mut S) -> Result<(), E>,
    ) -> Result<Vec<Wk>, E>
    where
        Wk: Send,
        S: Send,
        E: From<io::Error>,
    {
        use std::sync::mpsc::channel;
        use std::sync::Mutex;
        let workers = workers.max(1);
        let in_flight = 2 * workers + 2;
        let (free_tx, free_rx) = channel::<Slot<S>>();
        for _ in 0..in_flight {
            let _ = free_tx.send(Slot {
                chunk: Chunk::default(),
                result: new_result(),
                error: None,
            });
        }
        let (work_tx, work_rx) = channel::<(u64, Slot<S>)>();
        let work_rx = Mutex::new(work_rx);
        let (done_tx, done_rx) = channel::<(u64, Slot<S>)>();
        let (init, work) = (&init, &work);
        std::thread::scope(|scope| {
            let rdr = &mut *self;
            scope.spawn(move || {
                let mut seq = 0u64;
                let mut busy = 0.0f64;
                while let Ok(mut slot) = free_rx.recv() {
                    let t = crate::trace::now_ms();
                    let res = rdr.next_chunk(&mut slot.chunk);
                    if crate::trace::on() {
                        busy += crate::trace::now_ms() - t;
                        if seq == 0 {
                            crate::trace::mark("pass: first chunk read");
                        }
                        if slot.chunk.kind == ChunkKind::End {
                            crate::trace::note(format_args!("pass: reader busy {busy:.1} ms"));
                        }
                    }
                    let stop = match res {
                        Ok(()) => slot.chunk.kind == ChunkKind::End,
                        Err(e) => {
                            slot.chunk.kind = ChunkKind::End;
                            slot.error = Some(e);
                            true
                        }
                    };
                    if work_tx.send((seq, slot)).is_err() || stop {
                        return;
                    }
                    seq += 1;
                }
            });
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    let done_tx = done_tx.clone();
                    let work_rx = &work_rx;
                    scope.spawn(move || {
                        let mut state = init();
                        let mut busy = 0.0f64;
                        let report = Busy(&mut busy, "worker");
                        loop {
                            let item = match work_rx.lock() {
                                Ok(rx) => rx.recv(),
                                Err(_) => return state,
                            };
                            let Ok((seq, mut slot)) = item else {
                                return state;
                            };
                            if slot.chunk.kind != ChunkKind::End {
                                let t = crate::trace::now_ms();
                                let run = std::panic::AssertUnwindSafe(|| {
                                    work(&mut state, &slot.chunk, &mut slot.result)
                                });
                                let res = std::panic::catch_unwind(run);
                                if crate::trace::on() {
                                    *report.0 += crate::trace::now_ms() - t;
                                    if seq == 0 {
                                        crate::trace::mark("pass: first chunk worked");
                                    }
                                }
                                if res.is_err() {
                                    slot.error = Some(io::Error::other("a worker thread panicked"));
                                    let _ = done_tx.send((seq, slot));
                                    return state;
                                }
                            }
                            if done_tx.send((seq, slot)).is_err() {
                                return state;
                            }
                        }
                    })
                })
                .collect();
            drop(done_tx);
            let mut pending: std::collections::BTreeMap<u64, Slot<S>> = Default::default();
            let mut expected = 0u64;
            let mut busy = 0.0f64;
            let outcome = (|| -> Result<(), E> {
                while let Ok((seq, slot)) = done_rx.recv() {
                    pending.insert(seq, slot);
                    while let Some(mut slot) = pending.remove(&expected) {
                        if let Some(e) = slot.error.take() {
                            return Err(e.into());
                        }
                        if slot.chunk.kind == ChunkKind::End {
                            if crate::trace::on() {
                                crate::trace::mark("pass: last chunk consumed");
                                crate::trace::note(format_args!(
                                    "pass: in-order stage busy {busy:.1} ms over {expected} chunks"
                                ));
                            }
                            return Ok(());
                        }
                        let t = crate::trace::now_ms();
                        consume(&slot.chunk, &mut slot.result)?;
                        busy += crate::trace::now_ms() - t;
                        if expected == 0 {
                            crate::trace::mark("pass: first chunk consumed");
                        }
                        expected += 1;
                        let _ = free_tx.send(slot);
                    }
                }
                Err(io::Error::other("a worker thread stopped before the end of the input").into())
            })();
            drop(free_tx);
            drop(done_rx);
            drop(pending);
            let mut states = Vec::with_capacity(workers);
            let mut panicked = false;
            for h in handles {
                match h.join() {
                    Ok(s) => states.push(s),
                    Err(_) => panicked = true,
                }
            }
            outcome?;
            if panicked {
                return Err(io::Error::other("a worker thread panicked").into());
            }
            Ok(states)
        })
    }
}

/// Prints a thread's busy time when it ends (timings on).
struct Busy<'a>(&'a mut f64, &'static str);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        crate::trace::note(format_args!("pass: {} busy {:.1} ms", self.1, self.0));
    }
}

fn memchr_count(needle: u8, hay: &[u8]) -> u64 {
    memchr::memchr_iter(needle, hay).count() as u64
}

/// Parses one CSV record of `buf` starting at `pos` into `rec` (appending to its buffer and
/// spans). Returns the position after the record and the line breaks it spans, or `None` when the
/// buffer ends before the record does and `eof` is false (more input may complete it).
fn parse_csv_record(
    buf: &[u8],
    pos: usize,
    eof: bool,
    d: u8,
    q: u8,
    rec: &mut Record,
) -> Option<(usize, u64)> {
    // the common record: no quote and no CR before its LF. One SIMD scan finds its end, one
    // copy keeps it, and a word-at-a-time scan splits it (the same fields as the loop below).
    // (A delimiter or quote that is itself CR or LF takes the general path.)
    let plain = !matches!(d, b'\n' | b'\r') && !matches!(q, b'\n' | b'\r');
    if let Some(k) = memchr::memchr3(b'\n', b'\r', q, &buf[pos..]).filter(|_| plain) {
        if buf[pos + k] == b'\n' {
            let base = rec.buf.len();
            rec.buf.extend_from_slice(&buf[pos..pos + k]);
            split_fields(&rec.buf[base..], base as u32, d, &mut rec.spans);
            return Some((pos + k + 1, 1));
        }
    }
    let n = buf.len();
    let mut i = pos;
    let mut newlines = 0u64;
    loop {
        let start = rec.buf.len();
        if i < n && buf[i] == q {
            i += 1;
            loop {
                let Some(k) = memchr::memchr(q, &buf[i..]) else {
                    if !eof {
                        return None;
                    }
                    // unterminated quote at the end of the input: the rest is the field
                    newlines += memchr_count(b'\n', &buf[i..]);
                    rec.buf.extend_from_slice(&buf[i..]);
                    i = n;
                    break;
                };
                let seg = &buf[i..i + k];
                newlines += memchr_count(b'\n', seg);
                rec.buf.extend_from_slice(seg);
                i += k + 1;
                if i < n && buf[i] == q {
                    rec.buf.push(q);
                    i += 1;
                    continue;
                }
                if i == n && !eof {
                    return None;
                }
                break;
            }
        }
        // unquoted text (or text after a closing quote, kept literally as csv-core does)
        let mut j = i;
        while j < n {
            let b = buf[j];
            if b == d || b == b'\n' || b == b'\r' {
                break;
            }
            j += 1;
        }
        rec.buf.extend_from_slice(&buf[i..j]);
        i = j;
        rec.spans
            .push((start as u32, rec.buf.len() as u32, FieldKind::Str));
        if i == n {
            return if eof { Some((i, newlines)) } else { None };
        }
        match buf[i] {
            b'\n' => return Some((i + 1, newlines + 1)),
            b'\r' => {
                if i + 1 < n {
                    let crlf = buf[i + 1] == b'\n';
                    return Some((i + 1 + crlf as usize, newlines + crlf as u64));
                }
                return if eof { Some((i + 1, newlines)) } else { None };
            }
            _ => i += 1, // delimiter: next field
        }
    }
}

/// Appends the spans of `line`'s fields (split at every `d`; `line` holds no quote or line
/// break), offset by `base`. Sixty-four bytes at a time: in each word, the bytes equal to `d`
/// are found with exact bit arithmetic (no false positives: no carry crosses a byte) and their
/// top bits gathered into one bit each; the block's 64-bit mask is then visited lowest first.
/// (One loop per block rather than one per word: the number of delimiters in a word varies
/// from row to row, and each word's loop exit was a mispredicted branch about half the time.)
#[inline]
fn split_fields(line: &[u8], base: u32, d: u8, spans: &mut Vec<(u32, u32, FieldKind)>) {
    let mut start = 0usize;
    for (k, block) in line.chunks(64).enumerate() {
        let mut mask = 0u64;
        let mut words = block.chunks_exact(8);
        for (i, w) in (&mut words).enumerate() {
            mask |= delimiter_bits(w, d) << (8 * i);
        }
        // (the last block's bytes after its last whole word)
        let done = block.len() - words.remainder().len();
        for (j, &b) in words.remainder().iter().enumerate() {
            mask |= ((b == d) as u64) << (done + j);
        }
        push_fields(mask, 64 * k, base, &mut start, spans);
    }
    spans.push((
        base + start as u32,
        base + line.len() as u32,
        FieldKind::Str,
    ));
}

/// One bit per byte of the 8-byte `w` (the first byte's lowest) that equals `d`.
#[inline(always)]
fn delimiter_bits(w: &[u8], d: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut word = [0u8; 8];
    word.copy_from_slice(w);
    let x = u64::from_le_bytes(word) ^ u64::from_ne_bytes([d; 8]);
    // 0x80 in each byte of x that is zero: (x & 0x7f) + 0x7f sets bit 7 unless the low bits are
    // zero; or-ing x itself covers bytes whose bit 7 is set
    let m = !(((x & LOW7) + LOW7) | x | LOW7);
    // bit 7 of byte k to bit 56 + k (each product term lands on its own bit: no carries)
    (m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// The fields ended by the delimiters whose bits are set in `mask` (bit `k`: byte `at + k`).
#[inline(always)]
fn push_fields(
    mut mask: u64,
    at: usize,
    base: u32,
    start: &mut usize,
    spans: &mut Vec<(u32, u32, FieldKind)>,
) {
    while mask != 0 {
        let j = at + mask.trailing_zeros() as usize;
        spans.push((base + *start as u32, base + j as u32, FieldKind::Str));
        *start = j + 1;
        mask &= mask - 1;
    }
}

/// Whether every byte is ASCII: eight bytes at a time and without an early exit, so that the
/// compiler vectorises it (`<[u8]>::is_ascii` ran byte by byte here, about 5% of a cleanse run).
#[inline]
fn all_ascii(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    let mut acc = 0u64;
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        acc |= u64::from_ne_bytes(word);
    }
    let tail = words.remainder().iter().fold(0u8, |a, &b| a | b);
    acc & 0x8080_8080_8080_8080 == 0 && tail < 0x80
}

/// Checks a parsed CSV record: UTF-8 (the whole record, and no field boundary inside a multi-byte
/// character), field sizes, and the field count (`want`), padding or truncating it when `ragged`
/// says so.
fn check_csv_record(
    rec: &mut Record,
    want: Option<usize>,
    ragged: Ragged,
    max_field: usize,
) -> Next {
    if !all_ascii(&rec.buf)
        && (std::str::from_utf8(&rec.buf).is_err()
            || rec
                .spans
                .iter()
                .any(|&(s, _, _)| rec.buf.get(s as usize).is_some_and(|b| b & 0xC0 == 0x80)))
    {
        let field = rec
            .spans
            .iter()
            .position(|&(s, e, _)| std::str::from_utf8(&rec.buf[s as usize..e as usize]).is_err())
            .map_or(1, |i| i + 1);
        return Next::Malformed(Malformed {
            kind: MalformedKind::InvalidUtf8,
            detail: format!("field {field} is not valid UTF-8"),
        });
    }
    // (a record no longer than the limit has no field over it)
    if rec.buf.len() <= max_field {
    } else if let Some(i) = rec
        .spans
        .iter()
        .position(|&(s, e, _)| (e - s) as usize > max_field)
    {
        let (s, e, _) = rec.spans[i];
        return Next::Malformed(Malformed {
            kind: MalformedKind::FieldTooLarge,
            detail: format!(
                "field {} has {} bytes, over the limit of {}",
                i + 1,
                e - s,
                max_field
            ),
        });
    }
    if let Some(n) = want {
        let got = rec.spans.len();
        if got != n {
            if ragged == Ragged::PadTruncate {
                rec.ragged_from = Some(got);
                if got > n {
                    rec.spans.truncate(n);
                } else {
                    let end = rec.buf.len() as u32;
                    rec.spans.resize(n, (end, end, FieldKind::Null));
                }
            } else {
                return Next::Malformed(Malformed {
                    kind: MalformedKind::WrongColumnCount,
                    detail: format!("{got} fields, expected {n}"),
                });
            }
        }
    }
    Next::Record
}

fn trim_range_ascii(s: &[u8]) -> (usize, usize) {
    let t = trim_ascii(s);
    let a = t.as_ptr() as usize - s.as_ptr() as usize;
    (a, a + t.len())
}

fn trim_ascii(s: &[u8]) -> &[u8] {
    let mut a = 0;
    let mut b = s.len();
    while a < b && matches!(s[a], b' ' | b'\t' | b'\r' | b'\n') {
        a += 1;
    }
    while b > a && matches!(s[b - 1], b' ' | b'\t' | b'\r' | b'\n') {
        b -= 1;
    }
    &s[a..b]
}

/// The member names of a JSON object line (for inferring the columns).
fn collect_keys(line: &[u8], names: &mut Vec<String>) -> Result<(), String> {
    let mut p = JsonParser {
        s: line,
        i: 0,
        max_field: usize::MAX,
    };
    p.object_keys(names)?;
    p.end()
}

fn parse_object(
    line: &[u8],
    buf: &mut Vec<u8>,
    key: &mut Vec<u8>,
    index: &HashMap<String, usize>,
    spans: &mut [(u32, u32, FieldKind)],
    seen: &mut [bool],
    max_field: usize,
) -> Result<(), String> {
    let mut p = JsonParser {
        s: line,
        i: 0,
        max_field,
    };
    p.object_fixed(buf, key, index, spans, seen)?;
    p.end()
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
    max_field: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\r' | b'\n') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected `{}`", c as char)))
        }
    }

    fn err(&self, what: &str) -> String {
        match self.peek() {
            Some(c) => format!("{what} at byte {} (found `{}`)", self.i + 1, c as char),
            None => format!("{what} at byte {} (end of line)", self.i + 1),
        }
    }

    fn end(&mut self) -> Result<(), String> {
        self.ws();
        if self.i == self.s.len() {
            Ok(())
        } else {
            Err(self.err("unexpected text after the JSON object"))
        }
    }

    /// Collect mode: member names into `names`, values skipped.
    fn object_keys(&mut self, names: &mut Vec<String>) -> Result<(), String> {
        let mut key = Vec::new();
        let mut scratch = Vec::new();
        self.expect(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            key.clear();
            self.string(&mut key)?;
            let k = String::from_utf8(key.clone()).map_err(|_| "member name is not UTF-8")?;
            if names.contains(&k) {
                return Err(format!("member `{k}` appears twice"));
            }
            names.push(k);
            self.expect(b':')?;
            scratch.clear();
            self.value(&mut scratch)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.err("expected `,` or `}`")),
            }
        }
    }

    fn object_fixed(
        &mut self,
        buf: &mut Vec<u8>,
        key: &mut Vec<u8>,
        index: &HashMap<String, usize>,
        spans: &mut [(u32, u32, FieldKind)],
        seen: &mut [bool],
    ) -> Result<(), String> {
        self.ws();
        if self.peek() != Some(b'{') {
            return Err(self.err("a JSON Lines record must be a JSON object"));
        }
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            key.clear();
            self.string(key)?;
            let k = std::str::from_utf8(key).map_err(|_| "member name is not UTF-8".to_string())?;
            let Some(&col) = index.get(k) else {
                return Err(format!("member `{k}` is not a column"));
            };
            if seen[col] {
                return Err(format!("member `{k}` appears twice"));
            }
            seen[col] = true;
            self.expect(b':')?;
            let start = buf.len();
            let kind = self.value(buf)?;
            if buf.len() - start > self.max_field {
                return Err(format!(
                    "field `{}` has {} bytes, over the limit of {}",
                    String::from_utf8_lossy(key),
                    buf.len() - start,
                    self.max_field
                ));
            }
            spans[col] = (start as u32, buf.len() as u32, kind);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.err("expected `,` or `}`")),
            }
        }
    }

    /// A value: strings are unescaped into `buf`; other values are copied as their JSON text.
    fn value(&mut self, buf: &mut Vec<u8>) -> Result<FieldKind, String> {
        self.ws();
        match self.peek() {
            Some(b'"') => {
                self.string(buf)?;
                Ok(FieldKind::Str)
            }
            Some(b't') | Some(b'f') | Some(b'n') => {
                for (lit, kind) in [
                    (&b"true"[..], FieldKind::Bool),
                    (b"false", FieldKind::Bool),
                    (b"null", FieldKind::Null),
                ] {
                    if self.s[self.i..].starts_with(lit) {
                        self.i += lit.len();
                        if kind != FieldKind::Null {
                            buf.extend_from_slice(lit);
                        }
                        return Ok(kind);
                    }
                }
                Err(self.err("invalid literal"))
            }
            Some(b'-') | Some(b'0'..=b'9') => {
                let start = self.i;
                self.number()?;
                buf.extend_from_slice(&self.s[start..self.i]);
                Ok(FieldKind::Number)
            }
            Some(b'{') | Some(b'[') => {
                let start = self.i;
                let mut de = serde_json::Deserializer::from_slice(&self.s[start..])
                    .into_iter::<serde::de::IgnoredAny>();
                if !matches!(de.next(), Some(Ok(_))) {
                    return Err(self.err("invalid nested JSON value"));
                }
                self.i = start + de.byte_offset();
                buf.extend_from_slice(&self.s[start..self.i]);
                Ok(FieldKind::Json)
            }
            _ => Err(self.err("expected a JSON value")),
        }
    }

    fn number(&mut self) -> Result<(), String> {
        let s = self.s;
        let mut i = self.i;
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        match s.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while s.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            _ => {
                self.i = i;
                return Err(self.err("invalid number"));
            }
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            if !s.get(i).is_some_and(u8::is_ascii_digit) {
                self.i = i;
                return Err(self.err("invalid number"));
            }
            while s.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if matches!(s.get(i), Some(b'e') | Some(b'E')) {
            i += 1;
            if matches!(s.get(i), Some(b'+') | Some(b'-')) {
                i += 1;
            }
            if !s.get(i).is_some_and(u8::is_ascii_digit) {
                self.i = i;
                return Err(self.err("invalid number"));
            }
            while s.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        self.i = i;
        Ok(())
    }

    /// A JSON string (at `"`), unescaped into `out`.
    fn string(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        if self.peek() != Some(b'"') {
            return Err(self.err("expected a string"));
        }
        self.i += 1;
        loop {
            let rest = &self.s[self.i..];
            let Some(j) = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            else {
                self.i = self.s.len();
                return Err(self.err("unterminated string"));
            };
            out.extend_from_slice(&rest[..j]);
            self.i += j;
            match self.s[self.i] {
                b'"' => {
                    self.i += 1;
                    return Ok(());
                }
                b'\\' => {
                    self.i += 1;
                    let Some(c) = self.peek() else {
                        return Err(self.err("unterminated escape"));
                    };
                    self.i += 1;
                    match c {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp) {
                                if self.s[self.i..].starts_with(b"\\u") {
                                    self.i += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return Err(self.err("invalid surrogate pair"));
                                    }
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                } else {
                                    return Err(self.err("lone surrogate in \\u escape"));
                                }
                            }
                            let ch =
                                char::from_u32(cp).ok_or_else(|| self.err("invalid \\u escape"))?;
                            let mut tmp = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.err("invalid escape"));
                        }
                    }
                }
                _ => return Err(self.err("control character in string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("short \\u escape"))?;
        let s = std::str::from_utf8(h).map_err(|_| self.err("invalid \\u escape"))?;
        let v = u32::from_str_radix(s, 16).map_err(|_| self.err("invalid \\u escape"))?;
        self.i += 4;
        Ok(v)
    }
}

/// Tests: a reader over `0` whose reads return at most `1` bytes each (as a network stream's
/// return what has arrived).
#[cfg(test)]
pub(crate) struct ShortReads<'a>(pub &'a [u8], pub usize);

#[cfg(test)]
impl Read for ShortReads<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.len().min(buf.len()).min(self.1);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(cfg: &InputConfig, data: &[u8]) -> (Vec<String>, Vec<Result<Vec<String>, String>>) {
        let mut rdr = RecordReader::new(cfg, data).unwrap();
        rdr.prime().unwrap();
        let mut rec = Record::default();
        let mut out = Vec::new();
        loop {
            match rdr.next(&mut rec).unwrap() {
                Next::End => break,
                Next::Record => out.push(Ok((0..rec.spans.len())
                    .map(|i| match rec.spans[i].2 {
                        FieldKind::Null => "<null>".to_string(),
                        _ => rec.text(i).into_owned(),
                    })
                    .collect())),
                Next::Malformed(m) => out.push(Err(format!(
                    "{}@{}: {}",
                    m.kind.as_str(),
                    rec.line,
                    m.detail
                ))),
            }
        }
        (rdr.columns().to_vec(), out)
    }

    #[test]
    fn csv_quoting_embedded_newlines_and_line_numbers() {
        let data = b"a,b\n\"x\"\"y\",\"multi\nline\"\n3,4\r\n\n5,6";
        let (cols, rows) = read_all(&InputConfig::default(), data);
        assert_eq!(cols, ["a", "b"]);
        assert_eq!(rows[0], Ok(vec!["x\"y".into(), "multi\nline".into()]));
        assert_eq!(rows[1], Ok(vec!["3".into(), "4".into()]));
        assert_eq!(rows[2], Ok(vec!["5".into(), "6".into()]));
        assert_eq!(rows.len(), 3);
        // line numbers: record 2 starts on line 4, record 3 on line 6 (after a blank line)
        let mut rdr = RecordReader::new(&InputConfig::default(), &data[..]).unwrap();
        let mut rec = Record::default();
        let mut lines = Vec::new();
        while rdr.next(&mut rec).unwrap() != Next::End {
            lines.push(rec.line);
        }
        assert_eq!(lines, [2, 4, 6]);
    }

    #[test]
    fn csv_delimiter_and_bom() {
        let cfg = InputConfig {
            delimiter: b';',
            ..InputConfig::default()
        };
        let (cols, rows) = read_all(&cfg, "\u{feff}a;b\n1,5;2\n".as_bytes());
        assert_eq!(cols, ["a", "b"]);
        assert_eq!(rows, [Ok(vec!["1,5".to_string(), "2".to_string()])]);
    }

    #[test]
    fn csv_malformed_kinds() {
        let mut data = b"a,b\n1,2,3\n1\n".to_vec();
        data.extend_from_slice(b"\xff\xfe,2\n");
        data.extend_from_slice(format!("{},2\n", "z".repeat(70_000)).as_bytes());
        data.extend_from_slice(b"ok,fine\n");
        let (_, rows) = read_all(&InputConfig::default(), &data);
        let kinds: Vec<String> = rows
            .iter()
            .map(|r| match r {
                Ok(_) => "ok".to_string(),
                Err(e) => e.split(':').next().unwrap().to_string(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "wrong_column_count@2",
                "wrong_column_count@3",
                "invalid_utf8@4",
                "field_too_large@5",
                "ok"
            ]
        );
    }

    #[test]
    fn csv_record_over_the_limit_is_skipped_without_holding_it() {
        let cfg = InputConfig {
            max_record_bytes: 4096,
            max_field_bytes: 4096,
            ..InputConfig::default()
        };
        let mut data = b"a,b\n".to_vec();
        data.extend_from_slice(format!("\"{}\",2\n", "q\n".repeat(600_000)).as_bytes());
        data.extend_from_slice(b"x,y\n");
        let (_, rows) = read_all(&cfg, &data);
        assert!(rows[0]
            .as_ref()
            .unwrap_err()
            .starts_with("record_too_large@2"));
        assert_eq!(rows[1], Ok(vec!["x".to_string(), "y".to_string()]));
    }

    #[test]
    fn csv_pad_truncate() {
        let cfg = InputConfig {
            ragged: Ragged::PadTruncate,
            ..InputConfig::default()
        };
        let (_, rows) = read_all(&cfg, b"a,b,c\n1,2,3,4\n1\n");
        assert_eq!(rows[0], Ok(vec!["1".into(), "2".into(), "3".into()]));
        assert_eq!(
            rows[1],
            Ok(vec!["1".into(), "<null>".into(), "<null>".into()])
        );
    }

    #[test]
    fn empty_and_header_errors() {
        assert!(matches!(
            RecordReader::new(&InputConfig::default(), &b""[..]),
            Err(InputError::Empty)
        ));
        assert!(matches!(
            RecordReader::new(&InputConfig::default(), &b"a,a\n"[..]),
            Err(InputError::BadHeader(_))
        ));
        let (cols, rows) = read_all(&InputConfig::default(), b"a,b\n");
        assert_eq!(cols, ["a", "b"]);
        assert!(rows.is_empty());
    }

    #[test]
    fn jsonl_columns_kinds_and_errors() {
        let cfg = InputConfig {
            format: Format::Jsonl,
            ..InputConfig::default()
        };
        let data = concat!(
            "{\"a\": 1.5e3, \"b\": \"x\\ny\\u00e9\\ud83d\\ude00\", \"c\": true}\n",
            "\n",
            "{\"b\": null, \"a\": -0, \"c\": {\"n\": [1, 2]}}\r\n",
            "[1]\n",
            "{\"a\": 1, \"z\": 2}\n",
            "{\"a\": 1,}\n",
            "{\"a\": 01}\n",
            "{\"a\": \"x\", \"a\": \"y\"}\n",
            "{\"c\": 3}"
        );
        let (cols, rows) = read_all(&cfg, data.as_bytes());
        assert_eq!(cols, ["a", "b", "c"]);
        assert_eq!(
            rows[0],
            Ok(vec!["1.5e3".into(), "x\nyé😀".into(), "true".into()])
        );
        assert_eq!(
            rows[1],
            Ok(vec!["-0".into(), "<null>".into(), "{\"n\": [1, 2]}".into()])
        );
        for (i, line) in [(2, 4), (3, 5), (4, 6), (5, 7), (6, 8)] {
            let e = rows[i].as_ref().unwrap_err();
            assert!(e.starts_with(&format!("invalid_json@{line}")), "{e}");
        }
        assert_eq!(
            rows[7],
            Ok(vec!["<null>".into(), "<null>".into(), "3".into()])
        );
    }

    #[test]
    fn jsonl_declared_columns_and_invalid_utf8() {
        let cfg = InputConfig {
            format: Format::Jsonl,
            columns: Some(vec!["b".into(), "a".into()]),
            ..InputConfig::default()
        };
        let (cols, rows) = read_all(&cfg, b"{\"a\":1,\"b\":2}\n{\"a\":\"\xff\"}\n");
        assert_eq!(cols, ["b", "a"]);
        assert_eq!(rows[0], Ok(vec!["2".into(), "1".into()]));
        assert!(rows[1].as_ref().unwrap_err().starts_with("invalid_utf8@2"));
    }

    fn csv_core_records(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut rdr = csv_core::Reader::new();
        let mut out = vec![0u8; data.len() + 16];
        let mut ends = vec![0usize; data.len() + 16];
        let mut input = data;
        let mut records = Vec::new();
        let (mut outlen, mut endlen) = (0, 0);
        loop {
            let (res, nin, nout, nend) =
                rdr.read_record(input, &mut out[outlen..], &mut ends[endlen..]);
            input = &input[nin..];
            outlen += nout;
            endlen += nend;
            match res {
                csv_core::ReadRecordResult::Record => {
                    let mut start = 0;
                    let mut rec = Vec::new();
                    for &e in &ends[..endlen] {
                        rec.push(out[start..e].to_vec());
                        start = e;
                    }
                    records.push(rec);
                    (outlen, endlen) = (0, 0);
                }
                csv_core::ReadRecordResult::End => return records,
                csv_core::ReadRecordResult::InputEmpty => {}
                other => panic!("{other:?}"),
            }
        }
    }

    fn our_records(data: &[u8], chunk: usize) -> Vec<Vec<Vec<u8>>> {
        let cfg = InputConfig {
            header: false,
            columns: Some(vec!["only".into()]),
            ragged: Ragged::Reject,
            ..InputConfig::default()
        };
        let mut rdr = RecordReader::new(&cfg, ShortReads(data, chunk)).unwrap();
        let mut rec = Record::default();
        let mut out = Vec::new();
        loop {
            match rdr.next(&mut rec).unwrap() {
                Next::End => return out,
                Next::Record
                | Next::Malformed(Malformed {
                    kind: MalformedKind::WrongColumnCount,
                    ..
                }) => out.push(
                    (0..rec.spans.len())
                        .map(|i| rec.bytes(i).to_vec())
                        .collect(),
                ),
                Next::Malformed(m) => panic!("{m:?}"),
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn csv_reader_agrees_with_csv_core(
            data in proptest::collection::vec(proptest::sample::select(vec![b'a', b'b', b',', b'"', b'\n', b'\r', b' ']), 0..200),
            chunk in 1usize..64,
        ) {
            if !data.is_empty() {
                proptest::prop_assert_eq!(our_records(&data, chunk), csv_core_records(&data));
            }
        }
    }

    /// Reads `data` (handed over at most `read` bytes per `read` call) and describes every
    /// record as `line:fields` or `line:!kind`, either sequentially or in chunks of
    /// `chunk_bytes` on `workers` threads.
    fn describe(
        cfg: &InputConfig,
        data: &[u8],
        read: usize,
        chunked: Option<(usize, usize)>,
    ) -> Vec<String> {
        fn one(rec: &Record, next: &Next) -> String {
            match next {
                Next::Malformed(m) => format!("{}:!{}", rec.line, m.kind.as_str()),
                _ => format!(
                    "{}:{:?}",
                    rec.line,
                    (0..rec.spans.len())
                        .map(|i| (rec.text(i).into_owned(), rec.spans[i].2))
                        .collect::<Vec<_>>()
                ),
            }
        }
        let Ok(mut rdr) = RecordReader::new(cfg, ShortReads(data, read)) else {
            return vec!["empty".into()];
        };
        rdr.prime().unwrap();
        let mut out = Vec::new();
        let mut rec = Record::default();
        match chunked {
            None => loop {
                let next = rdr.next(&mut rec).unwrap();
                if next == Next::End {
                    return out;
                }
                out.push(one(&rec, &next));
            },
            Some((chunk_bytes, workers)) => {
                rdr.set_chunk_bytes(chunk_bytes);
                let parser = rdr.chunk_parser();
                rdr.par_chunks(
                    workers,
                    || (parser.clone(), Record::default()),
                    Vec::<String>::new,
                    |(p, rec), chunk, res: &mut Vec<String>| {
                        res.clear();
                        let mut at = ChunkPos::start(chunk);
                        while let Some(next) = p.next(chunk, &mut at, rec) {
                            res.push(one(rec, &next));
                        }
                    },
                    |_, res: &mut Vec<String>| -> Result<(), io::Error> {
                        out.append(res);
                        Ok(())
                    },
                )
                .unwrap();
                out
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn chunked_parallel_reading_gives_the_same_records(
            data in proptest::collection::vec(proptest::sample::select(vec![b'a', b'b', b',', b'"', b'\n', b'\r', b' ']), 0..300),
            read in 1usize..40,
            chunk_bytes in 1usize..40,
            workers in 1usize..4,
            pad in proptest::bool::ANY,
        ) {
            let cfg = InputConfig {
                header: false,
                columns: Some(vec!["x".into(), "y".into()]),
                ragged: if pad { Ragged::PadTruncate } else { Ragged::Reject },
                ..InputConfig::default()
            };
            proptest::prop_assert_eq!(
                describe(&cfg, &data, read, Some((chunk_bytes, workers))),
                describe(&cfg, &data, read, None)
            );
        }
    }

    #[test]
    fn chunks_split_at_record_boundaries_in_every_format() {
        // CR-only line ends, quoted line breaks, CRLF, a header
        let csv = b"h1,h2\r1,\"a\r\nb\"\r2,x\r\n3,\"\"\"q\"\"\"\r\n\n4,y\r";
        let cfg = InputConfig::default();
        let seq = describe(&cfg, csv, 5, None);
        assert_eq!(seq.len(), 4);
        for chunk in [1, 2, 3, 7, 64] {
            assert_eq!(
                describe(&cfg, csv, 5, Some((chunk, 2))),
                seq,
                "chunk {chunk}"
            );
        }
        // CR-only line ends over more bytes than a chunk may grow to before a break is needed
        let cr: Vec<u8> = (0..40)
            .flat_map(|i| format!("{i},\"v\r{i}\"\r").into_bytes())
            .collect();
        let cfg = InputConfig {
            header: false,
            columns: Some(vec!["x".into(), "y".into()]),
            max_record_bytes: 32,
            ..InputConfig::default()
        };
        let seq = describe(&cfg, &cr, 7, None);
        assert_eq!(seq.len(), 40);
        assert!(seq.iter().all(|r| !r.contains('!')), "{seq:?}");
        assert_eq!(describe(&cfg, &cr, 7, Some((8, 2))), seq);
        let jsonl = b"{\"a\":1,\"b\":\"x\\ny\"}\r\n\n  \n{\"b\":null}\nnot json\n{\"a\":2}";
        let cfg = InputConfig {
            format: Format::Jsonl,
            ..InputConfig::default()
        };
        let seq = describe(&cfg, jsonl, 4, None);
        assert_eq!(seq.len(), 4);
        assert!(seq[2].ends_with("!invalid_json"), "{seq:?}");
        for chunk in [1, 5, 64] {
            assert_eq!(
                describe(&cfg, jsonl, 4, Some((chunk, 3))),
                seq,
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn chunks_skip_a_record_over_the_limit() {
        let mut data = b"a,b\n1,2\n".to_vec();
        data.extend(std::iter::repeat_n(b'z', 5000));
        data.extend_from_slice(b",9\n3,4\n");
        let cfg = InputConfig {
            max_record_bytes: 1000,
            ..InputConfig::default()
        };
        let got = describe(&cfg, &data, 64, Some((100, 2)));
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[1], "3:!record_too_large");
        assert!(got[2].starts_with("4:"), "{got:?}");
        assert_eq!(got, describe(&cfg, &data, 64, None));
    }

    /// `skip_to` a chunk's start and line resumes with that chunk's records (quoted line breaks,
    /// CRLF, a record over the limit, line numbers), also when the second reader's reads return
    /// other sizes than the first's, as a network stream's do: its chunks may be cut elsewhere
    /// (which is why a chunk count could not say where to resume). An input that is shorter the
    /// second time is an error, not a silent end.
    #[test]
    fn skip_to_resumes_at_a_chunk_an_earlier_reader_cut() {
        let mut data = b"a,b\r\n".to_vec();
        for i in 0..300 {
            data.extend_from_slice(format!("{i},\"q\r\n{i}\"\r\n").as_bytes());
            if i == 150 {
                data.extend_from_slice(b"\r\n\n");
                data.extend(std::iter::repeat_n(b'z', 5000));
                data.extend_from_slice(b",x\n");
            }
        }
        let cfg = InputConfig {
            max_record_bytes: 300,
            ..InputConfig::default()
        };
        let open = |read: usize, step: usize| {
            let mut rdr = RecordReader::new(&cfg, ShortReads(&data, read)).unwrap();
            rdr.prime().unwrap();
            rdr.set_chunk_bytes(step);
            rdr
        };
        // every chunk to the end, and the records in them
        let rest = |rdr: &mut RecordReader<ShortReads<'_>>| {
            let mut parser = rdr.chunk_parser();
            let (mut chunks, mut records) = (Vec::new(), Vec::new());
            loop {
                let mut c = Chunk::default();
                rdr.next_chunk(&mut c).unwrap();
                if c.kind == ChunkKind::End {
                    return (chunks, records);
                }
                let (mut at, mut rec) = (ChunkPos::start(&c), Record::default());
                while let Some(next) = parser.next(&c, &mut at, &mut rec) {
                    records.push(match next {
                        Next::Malformed(m) => format!("{}:!{}", rec.line, m.kind.as_str()),
                        _ => format!("{}:{}|{}", rec.line, rec.text(0), rec.text(1)),
                    });
                }
                chunks.push((c.start, c.first_line, records.len(), c.kind));
            }
        };
        // (other chunk sizes put the long record's chunk elsewhere)
        let cases = [(3, 97), (1 << 20, 97)]
            .into_iter()
            .chain((80..90).map(|step| (3, step)));
        for (first, step) in cases {
            let (chunks, records) = rest(&mut open(first, step));
            assert!(records.iter().any(|r| r.ends_with("!record_too_large")));
            assert_eq!(records.len(), 301);
            // (read 3 bytes at a time, the long record is a chunk of its own)
            let alone = chunks.iter().any(|c| c.3 == ChunkKind::TooLarge);
            assert_eq!(alone, first == 3);
            let reads: &[usize] = if step == 97 { &[5, 64, 1 << 20] } else { &[64] };
            for &read in reads {
                for k in 0..chunks.len() {
                    let (start, line) = (chunks[k].0, chunks[k].1);
                    let before = if k == 0 { 0 } else { chunks[k - 1].2 };
                    let mut rdr = open(read, step);
                    rdr.skip_to(start, line).unwrap();
                    let (_, got) = rest(&mut rdr);
                    let what = format!("reads {first}/{read}, chunks of {step}, from chunk {k}");
                    assert_eq!(got, records[before..], "{what}");
                    // the same from an input opened at that offset
                    let from = ShortReads(&data[start as usize..], read);
                    let columns = vec!["a".to_string(), "b".to_string()];
                    let mut rdr = RecordReader::resume(&cfg, from, columns, start, line).unwrap();
                    rdr.set_chunk_bytes(step);
                    let (_, got) = rest(&mut rdr);
                    assert_eq!(got, records[before..], "{what}, opened there");
                }
            }
        }
        // chunks cut from other read sizes start elsewhere
        let starts =
            |read| -> Vec<u64> { rest(&mut open(read, 97)).0.iter().map(|c| c.0).collect() };
        assert_ne!(starts(3), starts(1 << 20));
        let (chunks, _) = rest(&mut open(64, 97));
        let last = chunks[chunks.len() - 1];
        let mut short =
            RecordReader::new(&cfg, ShortReads(&data[..last.0 as usize - 1], 64)).unwrap();
        short.prime().unwrap();
        let e = short.skip_to(last.0, last.1).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        assert!(e.to_string().contains("changed between passes"), "{e}");
    }

    /// `split_fields` gives `split(d)`'s fields: lines with 0 to 8 delimiters in a word, long
    /// lines, delimiters in the tail after the last full word, and bytes above 0x80 whose low
    /// seven bits are the delimiter's (no false positive from the word-at-a-time test).
    #[test]
    fn split_fields_gives_the_fields_of_split() {
        let mut lines: Vec<Vec<u8>> = vec![b"".to_vec(), b";".to_vec(), b";;;;;;;;".to_vec()];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in [1usize, 7, 8, 9, 15, 16, 17, 63, 64, 65, 200, 520, 1000] {
            for density in [0u64, 1, 3, 8] {
                lines.push(
                    (0..len)
                        .map(|_| {
                            seed ^= seed << 13;
                            seed ^= seed >> 7;
                            seed ^= seed << 17;
                            // delimiters at density/8, other bytes from ASCII and above 0x80
                            if seed % 8 < density {
                                b';'
                            } else {
                                [b'a', b'7', 0xC3, 0x3B ^ 0x80][(seed >> 8) as usize % 4]
                            }
                        })
                        .collect(),
                );
            }
        }
        for line in &lines {
            let mut spans = vec![(9, 9, FieldKind::Null)];
            split_fields(line, 5, b';', &mut spans);
            let mut want = vec![(9, 9, FieldKind::Null)];
            let mut at = 0u32;
            for f in line.split(|&b| b == b';') {
                want.push((5 + at, 5 + at + f.len() as u32, FieldKind::Str));
                at += f.len() as u32 + 1;
            }
            assert_eq!(spans, want, "{line:?}");
        }
    }

    #[test]
    fn a_local_file_opens_at_its_start_and_at_an_offset() {
        use crate::Source;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(&path, b"a,b\n1,2\n").unwrap();
        let mut src = LocalFile::new(&path);
        let read = |r: io::Result<std::fs::File>| {
            let mut got = Vec::new();
            r.unwrap().read_to_end(&mut got).unwrap();
            got
        };
        assert_eq!(read(src.open()), b"a,b\n1,2\n");
        assert_eq!(read(src.open_at(4).unwrap()), b"1,2\n");
        assert_eq!(read(src.open_at(99).unwrap()), b"");
        // rewritten between passes: every later open is refused, naming the file
        std::fs::write(&path, b"a,b\n1,2\n3,4\n").unwrap();
        for e in [
            src.open().unwrap_err(),
            src.open_at(4).unwrap().unwrap_err(),
        ] {
            let m = e.to_string();
            assert!(
                m.contains("in.csv changed since the first pass read it"),
                "{m}"
            );
            assert!(m.contains("8 bytes then, 12 now"), "{m}");
        }
        // (a new source reads the new version)
        assert_eq!(read(LocalFile::new(&path).open_at(8).unwrap()), b"3,4\n");
        let e = LocalFile::new(dir.path().join("missing.csv"))
            .open()
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    /// A complete record over the limit that fits the reader's buffer is malformed for the
    /// record-at-a-time reader too, exactly as for the chunk parser; one at the limit is kept.
    #[test]
    fn record_limit_is_the_same_for_both_readers() {
        let cfg = InputConfig {
            max_record_bytes: 100,
            ..InputConfig::default()
        };
        let mut data = b"a,b\n".to_vec();
        // 99 bytes + LF = 100: at the limit
        data.extend(std::iter::repeat_n(b'y', 97));
        data.extend_from_slice(b",1\n");
        // 100 bytes + LF = 101: over it (and far below the buffer size)
        data.extend(std::iter::repeat_n(b'z', 98));
        data.extend_from_slice(b",2\n3,4\n");
        let seq = describe(&cfg, &data, 1 << 20, None);
        assert_eq!(seq.len(), 3, "{seq:?}");
        assert!(seq[0].starts_with("2:[("), "{seq:?}");
        assert_eq!(seq[1], "3:!record_too_large");
        assert!(seq[2].starts_with("4:"), "{seq:?}");
        for read in [7, 64, 1 << 20] {
            assert_eq!(describe(&cfg, &data, read, None), seq, "read {read}");
            assert_eq!(
                describe(&cfg, &data, read, Some((256, 2))),
                seq,
                "read {read}"
            );
        }
        let (_, rows) = read_all(&cfg, &data);
        assert!(rows[1]
            .as_ref()
            .unwrap_err()
            .starts_with("record_too_large@3"));
    }

    #[test]
    fn all_ascii_agrees_with_std() {
        for len in 0..40 {
            let base: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(all_ascii(&base));
            for at in 0..len {
                let mut v = base.clone();
                v[at] = 0x80 | (at as u8);
                assert_eq!(all_ascii(&v), v.is_ascii(), "len {len} at {at}");
                assert!(!all_ascii(&v));
            }
        }
    }

    #[test]
    fn leading_delimiter_is_an_empty_field() {
        assert_eq!(
            our_records(b"\n,a\nb,\n", 4),
            vec![
                vec![b"".to_vec(), b"a".to_vec()],
                vec![b"b".to_vec(), b"".to_vec()]
            ]
        );
        assert_eq!(
            our_records(b"a,", 1),
            vec![vec![b"a".to_vec(), b"".to_vec()]]
        );
    }

    #[test]
    fn reading_in_small_chunks_gives_the_same_records() {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(3);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let data = b"a,b\n\"x\ny\",2\n3,4\n";
        let mut rdr = RecordReader::new(&InputConfig::default(), Trickle(data)).unwrap();
        let mut rec = Record::default();
        assert_eq!(rdr.next(&mut rec).unwrap(), Next::Record);
        assert_eq!(rec.text(0), "x\ny");
        assert_eq!(rdr.next(&mut rec).unwrap(), Next::Record);
        assert_eq!((rec.text(1).as_ref(), rec.line), ("4", 4));
        assert_eq!(rdr.next(&mut rec).unwrap(), Next::End);
    }
}
