//! Value types and their parsers: int, float, bool, timestamp (ISO 8601 / RFC 3339).
//!
//! Parsers take the field text (already trimmed by a `trim` rule if the configuration asks for it)
//! and return `None` when the text is not a value of the type. They never allocate.
//!
//! ```
//! use cleanse::types::{parse_bool, parse_float, parse_int, Timestamp};
//! assert_eq!(parse_int(b"-42"), Some(-42));
//! assert_eq!(parse_float(b"1e3"), Some(1000.0));
//! assert_eq!(parse_float(b"NaN"), None); // non-finite values are not data
//! assert_eq!(parse_bool(b"Yes"), Some(true));
//! let t = Timestamp::parse(b"2024-02-29T23:59:60.5+01:00").unwrap();
//! assert_eq!(t.to_string(), "2024-02-29T23:00:00.5Z"); // leap second folded, offset applied
//! ```

use std::fmt;

/// The type a column is coerced to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// Text (no conversion).
    String,
    /// Signed 64-bit integer (`+12`, `-7`; `1.0` is not an int).
    Int,
    /// Finite 64-bit float (`1.5`, `-2e-3`, `7`; not `NaN`/`inf`).
    Float,
    /// `true/false`, `t/f`, `yes/no`, `y/n`, `1/0` (case-insensitive).
    Bool,
    /// ISO 8601 date or date-time (see [`Timestamp::parse`]).
    Timestamp,
    /// Text marking a categorical column.
    Category,
}

impl ValueType {
    /// Parses a type name as written in configurations.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "string" => ValueType::String,
            "int" | "integer" => ValueType::Int,
            "float" | "double" | "number" => ValueType::Float,
            "bool" | "boolean" => ValueType::Bool,
            "timestamp" | "datetime" => ValueType::Timestamp,
            "category" => ValueType::Category,
            _ => return None,
        })
    }

    /// The names accepted by [`ValueType::from_name`] (canonical ones).
    pub const NAMES: &'static [&'static str] =
        &["string", "int", "float", "bool", "timestamp", "category"];

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::Bool => "bool",
            ValueType::Timestamp => "timestamp",
            ValueType::Category => "category",
        }
    }

    /// Int or float.
    pub fn is_numeric(self) -> bool {
        matches!(self, ValueType::Int | ValueType::Float)
    }
}

/// Parses a signed decimal integer (optional sign, ASCII digits, no spaces).
pub fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    if digits.len() <= 18 {
        // at most 18 digits cannot overflow an i64: no checked arithmetic per digit
        let mut v: u64 = 0;
        for &c in digits {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + d as u64;
        }
        let v = v as i64;
        return Some(if neg { -v } else { v });
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub((d - b'0') as i64)?
        } else {
            v.checked_add((d - b'0') as i64)?
        };
    }
    Some(v)
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parses a finite float (decimal or exponent notation; `inf`/`NaN` are rejected).
///
/// Plain decimals (`-?digits[.digits]`) whose digits, as one integer, are below 2^53 (at most 19
/// digits) take Clinger's fast path: that integer (exact in an f64) divided by an exact power of
/// ten, which IEEE division rounds correctly, so the result is the standard parser's, bit for
/// bit. Everything else goes to the standard library's parser.
#[inline(always)]
pub fn parse_float(s: &[u8]) -> Option<f64> {
    let (neg, digits) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.len() <= 20 {
        // the integer and the fraction digits into two integers: two short dependency chains
        // (each digit waits for the previous one's multiply-add) instead of one long one
        let (mut int, mut rest) = (0u64, digits);
        while let [c, tail @ ..] = rest {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            int = int.wrapping_mul(10).wrapping_add(d as u64);
            rest = tail;
        }
        let int_digits = digits.len() - rest.len();
        let (mut fraction, mut frac) = (0u64, 0usize);
        if let [b'.', tail @ ..] = rest {
            rest = tail;
            // four digits at a time while they last (SWAR), then one by one
            while let [a, b, c, d, more @ ..] = rest {
                let w = u32::from_le_bytes([*a, *b, *c, *d]);
                if let Some(v) = four_digits(w) {
                    fraction = fraction.wrapping_mul(10_000).wrapping_add(v as u64);
                    rest = more;
                } else {
                    break;
                }
            }
            while let [c, tail @ ..] = rest {
                let d = c.wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                fraction = fraction.wrapping_mul(10).wrapping_add(d as u64);
                rest = tail;
            }
            frac = tail.len() - rest.len();
        }
        // (wrapping above: more than 19 digits may overflow, and they go to std below); with at
        // most 19 digits the mantissa fits a u64, below 2^53 it is exact in an f64, and
        // frac <= 19 < 23: the power of ten is exact too
        let n = int_digits + frac;
        if rest.is_empty() && n > 0 && n <= 19 {
            let m = int * POW10_INT[frac] + fraction;
            if m < 1 << 53 {
                let v = m as f64 / POW10[frac];
                return Some(if neg { -v } else { v });
            }
        }
    }
    parse_float_slow(s)
}

/// [`parse_float`] of the field `buf[a..b]`, the same value bit for bit, reading up to nine bytes
/// of `buf` from `a` (the field and what follows it, when `buf` holds them).
///
/// A short plain decimal (an optional sign, then at most eight bytes of digits with at most one
/// dot) is read as one word without a branch on its shape: where a column's values differ in sign and length from
/// row to row, the per-digit loop of [`parse_float`] mispredicts about once a value, which took
/// half of its time. Anything else goes to [`parse_float`].
///
/// ```
/// use cleanse::types::parse_float_at;
/// let line = b"27.5329,-114.4810,NA";
/// assert_eq!(parse_float_at(line, 8, 17), Some(-114.481));
/// assert_eq!(parse_float_at(line, 0, 7), Some(27.5329));
/// assert_eq!(parse_float_at(line, 18, 20), None);
/// ```
#[inline(always)]
pub fn parse_float_at(buf: &[u8], a: usize, b: usize) -> Option<f64> {
    if let Some(w) = buf.get(a..a.wrapping_add(9)) {
        if let Some(v) = short_decimal(w, b.wrapping_sub(a)) {
            return Some(v);
        }
    }
    parse_float(buf.get(a..b)?)
}

/// The bytes below byte `p` of a little-endian word, for `p` in `0..=8`.
const BELOW: [u64; 9] = [
    0,
    0xff,
    0xffff,
    0xff_ffff,
    0xffff_ffff,
    0xff_ffff_ffff,
    0xffff_ffff_ffff,
    0xff_ffff_ffff_ffff,
    u64::MAX,
];

/// [`parse_float_at`]'s word path: the first `n` bytes of `w` (nine bytes) as an optional sign
/// and at most eight bytes of digits with at most one dot, or `None` for anything else (left to
/// [`parse_float`]).
/// Exact: at most eight digits are below 2^53, and over a power of ten up to 1e8 IEEE division
/// rounds correctly (Clinger's fast path, as in [`parse_float`]).
#[inline(always)]
fn short_decimal(w: &[u8], n: usize) -> Option<f64> {
    const L: u64 = 0x0101_0101_0101_0101;
    let b0 = *w.first()?;
    let neg = b0 == b'-';
    let signed = (neg | (b0 == b'+')) as usize;
    let n = n.wrapping_sub(signed);
    if n == 0 || n > 8 {
        return None;
    }
    let word: [u8; 8] = w.get(signed..signed + 8)?.try_into().ok()?;
    // (the bytes after the field are read but only the field's bytes are tested: those after
    // it leave the word in the final shift)
    let valid = BELOW[n];
    let x = u64::from_le_bytes(word);
    // per byte, 0x80 where it is not a digit / where it is a dot (exact: no carry crosses a
    // byte, as in `split_fields`)
    let d = x ^ (L * 0x30);
    let not_digit = (((d & (L * 0x7f)) + L * 0x76) | d) & (L * 0x80) & valid;
    let z = x ^ (L * 0x2e);
    let dot = !(((z & (L * 0x7f)) + L * 0x7f) | z | (L * 0x7f)) & valid;
    if not_digit & !dot != 0 || dot & dot.wrapping_sub(1) != 0 {
        return None;
    }
    let has_dot = (dot != 0) as usize;
    let digits = n - has_dot;
    if digits == 0 {
        return None;
    }
    // the dot taken out (the bytes above it moved down one), then the digits moved up so that
    // the first is the most significant of eight (zeros before it)
    let p = ((dot.trailing_zeros() / 8) as usize).min(n);
    let below = BELOW[p];
    let packed = ((d & below) | ((d >> 8) & !below)) << (8 * (8 - digits));
    let v = eight_digits(packed) as f64 / POW10[n - p - has_dot];
    Some(f64::from_bits(v.to_bits() | (neg as u64) << 63))
}

/// The value of eight digit values (0..=9, the most significant in the lowest byte).
#[inline(always)]
fn eight_digits(v: u64) -> u64 {
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let a = (v & 0x0000_00ff_0000_00ff).wrapping_mul(100 + (1_000_000 << 32));
    let b = ((v >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(1 + (10_000 << 32));
    a.wrapping_add(b) >> 32
}

/// The value of four ASCII digits (the first in the lowest byte of `w`), or `None` when a byte
/// is not a digit: each byte's high nibble must be 3 and, with 6 added, still 3 (a carry out of
/// a byte only happens for bytes above 0xF9, which fail the first test anyway).
#[inline(always)]
fn four_digits(w: u32) -> Option<u32> {
    if (w & 0xF0F0_F0F0) | ((w.wrapping_add(0x0606_0606) & 0xF0F0_F0F0) >> 4) != 0x3333_3333 {
        return None;
    }
    let v = w - 0x3030_3030;
    // pairs: bytes 0 and 2 hold 10 * d0 + d1 and 10 * d2 + d3; then 100 * first + second
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    Some(((v & 0x00FF_00FF).wrapping_mul(1 + (100 << 16))) >> 16)
}

const POW10_INT: [u64; 20] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
    10_000_000_000_000_000_000,
];

fn parse_float_slow(s: &[u8]) -> Option<f64> {
    // the standard parser accepts "inf"/"nan"/"infinity"; data fields with those are errors
    let first = *s.first()?;
    let lead = if first == b'-' || first == b'+' {
        *s.get(1)?
    } else {
        first
    };
    if !(lead.is_ascii_digit() || lead == b'.') {
        return None;
    }
    // SAFETY-free: a float literal is ASCII; from_utf8 fails fast otherwise
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    v.is_finite().then_some(v)
}

/// Parses a boolean: `true/false`, `t/f`, `yes/no`, `y/n`, `1/0`, any case.
pub fn parse_bool(s: &[u8]) -> Option<bool> {
    if s.len() > 5 {
        return None;
    }
    let mut low = [0u8; 5];
    for (d, c) in low.iter_mut().zip(s) {
        *d = c.to_ascii_lowercase();
    }
    match &low[..s.len()] {
        b"true" | b"t" | b"yes" | b"y" | b"1" => Some(true),
        b"false" | b"f" | b"no" | b"n" | b"0" => Some(false),
        _ => None,
    }
}

/// A point in time: seconds since the Unix epoch plus nanoseconds, and whether the text carried
/// a UTC offset (then the instant is UTC; otherwise it is a local "naive" date-time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00 (UTC when `utc`).
    pub secs: i64,
    /// Nanoseconds, 0..1e9.
    pub nanos: u32,
    /// Whether the text had `Z` or an offset.
    pub utc: bool,
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(s: &[u8], at: usize, n: usize) -> Option<u32> {
    let d = s.get(at..at + n)?;
    let mut v = 0u32;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

impl Timestamp {
    /// Parses `YYYY-MM-DD`, or `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]]` with an optional `Z`,
    /// `±HH:MM`, `±HHMM` or `±HH` offset. A leap second (`:60`) is folded into the next second.
    pub fn parse(s: &[u8]) -> Option<Timestamp> {
        let y = digits(s, 0, 4)? as i64;
        if s.get(4) != Some(&b'-') || s.get(7) != Some(&b'-') {
            return None;
        }
        let mo = digits(s, 5, 2)?;
        let d = digits(s, 8, 2)?;
        if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        if s.len() == 10 {
            return Some(Timestamp {
                secs: days * 86_400,
                nanos: 0,
                utc: false,
            });
        }
        if !matches!(s.get(10), Some(b'T') | Some(b't') | Some(b' ')) {
            return None;
        }
        let h = digits(s, 11, 2)?;
        if s.get(13) != Some(&b':') {
            return None;
        }
        let mi = digits(s, 14, 2)?;
        let mut i = 16;
        let mut sec = 0;
        let mut nanos = 0u32;
        if s.get(i) == Some(&b':') {
            sec = digits(s, 17, 2)?;
            i = 19;
            if matches!(s.get(i), Some(b'.') | Some(b',')) {
                i += 1;
                let start = i;
                let mut scale = 100_000_000u32;
                while let Some(c) = s.get(i).filter(|c| c.is_ascii_digit()) {
                    nanos += (c - b'0') as u32 * scale;
                    scale /= 10;
                    i += 1;
                }
                if i == start {
                    return None;
                }
            }
        }
        if h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        let mut secs = days * 86_400 + (h * 3600 + mi * 60 + sec) as i64;
        let mut utc = false;
        match s.get(i) {
            None => {}
            Some(b'Z') | Some(b'z') if i + 1 == s.len() => utc = true,
            Some(&sign @ (b'+' | b'-')) => {
                let oh = digits(s, i + 1, 2)?;
                let om = match s.len() - (i + 3) {
                    0 => 0,
                    3 if s[i + 3] == b':' => digits(s, i + 4, 2)?,
                    2 => digits(s, i + 3, 2)?,
                    _ => return None,
                };
                if oh > 23 || om > 59 {
                    return None;
                }
                let off = (oh * 3600 + om * 60) as i64;
                secs += if sign == b'+' { -off } else { off };
                utc = true;
            }
            _ => return None,
        }
        Some(Timestamp { secs, nanos, utc })
    }

    /// Seconds since the epoch as a float (fraction included).
    pub fn epoch_seconds(&self) -> f64 {
        self.secs as f64 + self.nanos as f64 / 1e9
    }
}

impl fmt::Display for Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS[.fraction]` plus `Z` for UTC instants; the fraction has no trailing
    /// zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )?;
        if self.nanos > 0 {
            let mut n = self.nanos;
            let mut w = 9;
            while n % 10 == 0 {
                n /= 10;
                w -= 1;
            }
            write!(f, ".{n:0w$}")?;
        }
        if self.utc {
            f.write_str("Z")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(parse_int(b"+7"), Some(7));
        assert_eq!(parse_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        for bad in [&b""[..], b"-", b"1.0", b" 1", b"1e3", b"0x10"] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
    }

    fn std_float(s: &str) -> Option<f64> {
        let lead = s.trim_start_matches(['-', '+']).bytes().next()?;
        if !(lead.is_ascii_digit() || lead == b'.') {
            return None;
        }
        s.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    #[test]
    fn four_digits_reads_every_digit_group_and_nothing_else() {
        use super::four_digits;
        for n in 0..10_000u32 {
            let t = format!("{n:04}");
            let w = u32::from_le_bytes(t.as_bytes().try_into().unwrap());
            assert_eq!(four_digits(w), Some(n), "{t}");
        }
        // any one byte that is not a digit, at any place
        for bad in (0..=255u8).filter(|b| !b.is_ascii_digit()) {
            for i in 0..4 {
                let mut t = *b"9090";
                t[i] = bad;
                assert_eq!(four_digits(u32::from_le_bytes(t)), None, "{t:?}");
            }
        }
    }

    proptest::proptest! {
        /// Integers agree with `str::parse::<i64>` at every length (the unchecked path up to 18
        /// digits, the checked one at 19, overflow at the edges) and on near-integers (more than 19
        /// digits are refused, as before, even with leading zeros).
        #[test]
        fn parse_int_agrees_with_std(
            sign in proptest::sample::select(vec!["", "-", "+"]),
            digits in "[0-9]{0,19}",
            tail in proptest::sample::select(vec!["", "", "", "x", ".0", " ", "-"]),
        ) {
            let text = format!("{sign}{digits}{tail}");
            proptest::prop_assert_eq!(parse_int(text.as_bytes()), text.parse::<i64>().ok(), "{}", text);
        }

        /// The fast path gives the standard parser's value, bit for bit, on plain decimals of
        /// every length around its limits (19 digits, 2^53) and on near-decimals it must refuse.
        #[test]
        fn parse_float_agrees_with_std(
            sign in proptest::sample::select(vec!["", "-", "+"]),
            int in "[0-9]{0,20}",
            dot in proptest::bool::ANY,
            frac in "[0-9]{0,20}",
            tail in proptest::sample::select(vec!["", "", "", "e5", "E-3", ".", "x", " "]),
        ) {
            let text = format!("{sign}{int}{}{frac}{tail}", if dot { "." } else { "" });
            let ours = parse_float(text.as_bytes()).map(f64::to_bits);
            let std = std_float(&text).map(f64::to_bits);
            proptest::prop_assert_eq!(ours, std, "{}", text);
        }

        /// `parse_float_at` gives the standard parser's value, bit for bit, whatever follows the
        /// field in the buffer (its word path must not read past the field's end), with nothing
        /// after it, and on the shapes it leaves to `parse_float`.
        #[test]
        fn parse_float_at_agrees_with_std(
            field in "[-+]?[0-9.]{0,10}|[-+0-9.eEx ]{0,10}",
            after in proptest::collection::vec(proptest::num::u8::ANY, 0..12),
            before in proptest::collection::vec(proptest::num::u8::ANY, 0..3),
        ) {
            let mut buf = before.clone();
            buf.extend_from_slice(field.as_bytes());
            buf.extend_from_slice(&after);
            let (a, b) = (before.len(), before.len() + field.len());
            let std = std_float(&field).map(f64::to_bits);
            proptest::prop_assert_eq!(parse_float_at(&buf, a, b).map(f64::to_bits), std, "{:?}", field);
        }

        /// Random doubles printed shortest (what data files hold) parse back exactly.
        #[test]
        fn parse_float_round_trips(bits in proptest::num::u64::ANY) {
            let v = f64::from_bits(bits);
            if v.is_finite() {
                let text = format!("{v}");
                proptest::prop_assert_eq!(
                    parse_float(text.as_bytes()).map(f64::to_bits),
                    Some(v.to_bits()),
                    "{}",
                    text
                );
            }
        }
    }

    #[test]
    fn floats() {
        assert_eq!(parse_float(b"-.5"), Some(-0.5));
        assert_eq!(parse_float(b"12.3400"), Some(12.34));
        assert_eq!(parse_float(b"1E-3"), Some(0.001));
        assert_eq!(parse_float(b"5."), Some(5.0));
        assert_eq!(
            parse_float(b"-0.0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(parse_float(b"0.1"), Some(0.1));
        assert_eq!(parse_float(b"123456789012.345"), Some(123456789012.345));
        assert_eq!(
            parse_float(b"1234567890123456789"),
            Some(1234567890123456789.0)
        );
        assert_eq!(parse_float(b"."), None);
        assert_eq!(parse_float(b"1.2.3"), None);
        for bad in [
            &b""[..],
            b"inf",
            b"-infinity",
            b"nan",
            b"1e999",
            b"1,5",
            b"abc",
            b" 1",
        ] {
            assert_eq!(parse_float(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_word_path_reads_every_short_decimal_shape() {
        use super::short_decimal;
        // every placement of a dot among 1-8 digits, signed or not, with digits that are all
        // different (so a digit read from the wrong place shows) and junk after the field
        for len in 1..=8usize {
            for dot in 0..=len {
                for sign in ["", "-", "+"] {
                    let digits = &"31415926"[..len];
                    let body = match dot {
                        d if d == len => digits.to_string(),
                        d => format!("{}.{}", &digits[..d], &digits[d..]),
                    };
                    if body.len() > 8 {
                        continue;
                    }
                    let text = format!("{sign}{body}");
                    let mut buf = text.clone().into_bytes();
                    buf.extend_from_slice(b"9.9.9.9.9");
                    let want = std_float(&text).map(f64::to_bits);
                    assert_eq!(
                        short_decimal(&buf, text.len()).map(f64::to_bits),
                        want,
                        "{text}"
                    );
                    assert_eq!(parse_float_at(&buf, 0, text.len()).map(f64::to_bits), want);
                }
            }
        }
        // refused by the word path (then decided by `parse_float`)
        for bad in [
            "",
            "-",
            "+",
            ".",
            "-.",
            "1.2.3",
            "1e5",
            "12345678.9",
            "1 2",
            "\u{e9}1",
        ] {
            let mut buf = bad.as_bytes().to_vec();
            buf.extend_from_slice(b"000000000");
            assert_eq!(short_decimal(&buf, bad.len()), None, "{bad}");
        }
        // a field too near the end of the buffer for a word
        assert_eq!(parse_float_at(b"x,-1.5", 2, 6), Some(-1.5));
        assert_eq!(parse_float_at(b"x,-1.5", 2, 9), None);
        assert_eq!(
            parse_float_at(b"-0", 0, 2).map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
    }

    #[test]
    fn fast_float_path_agrees_with_std() {
        // every 1-4 decimal-place value in a range, and some awkward ones
        let mut cases: Vec<String> = (0..20_000)
            .map(|i| format!("{:.4}", (i as f64 - 10_000.0) * 0.0137))
            .collect();
        cases.extend(
            [
                "0.30000000000000004",
                "9007199254740993",
                "999999999999999",
                "0.000000000000001",
            ]
            .map(String::from),
        );
        for c in cases {
            let want: f64 = c.parse().unwrap();
            assert_eq!(
                parse_float(c.as_bytes()).map(f64::to_bits),
                Some(want.to_bits()),
                "{c}"
            );
        }
    }

    #[test]
    fn bools() {
        assert_eq!(parse_bool(b"FALSE"), Some(false));
        assert_eq!(parse_bool(b"n"), Some(false));
        assert_eq!(parse_bool(b"1"), Some(true));
        assert_eq!(parse_bool(b"maybe"), None);
        assert_eq!(parse_bool(b"truest"), None);
    }

    #[test]
    fn timestamps() {
        let t = |s: &str| Timestamp::parse(s.as_bytes()).map(|t| t.to_string());
        assert_eq!(t("2024-01-01"), Some("2024-01-01T00:00:00".into()));
        assert_eq!(t("2024-01-01 10:20"), Some("2024-01-01T10:20:00".into()));
        assert_eq!(
            t("2024-01-01T10:20:30.1200Z"),
            Some("2024-01-01T10:20:30.12Z".into())
        );
        assert_eq!(
            t("2024-01-01T00:30:00-0130"),
            Some("2024-01-01T02:00:00Z".into())
        );
        assert_eq!(
            t("1969-12-31T23:59:59+00"),
            Some("1969-12-31T23:59:59Z".into())
        );
        assert_eq!(
            t("2023-12-31T23:59:60Z"),
            Some("2024-01-01T00:00:00Z".into())
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-01-01T24:00",
            "2024-01-01T10",
            "2024-01-01X10:00",
            "2024-01-01T10:00:00.",
            "2024-01-01T10:00Zjunk",
            "2024-1-01",
            "",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
        let a = Timestamp::parse(b"2024-03-01T00:00:00Z").unwrap();
        assert_eq!(a.secs, 1_709_251_200);
        assert_eq!(
            Timestamp::parse(b"1900-03-01").unwrap().to_string(),
            "1900-03-01T00:00:00"
        );
    }

    #[test]
    fn type_names_round_trip() {
        for n in ValueType::NAMES {
            assert_eq!(ValueType::from_name(n).unwrap().name(), *n);
        }
        assert_eq!(ValueType::from_name("decimal"), None);
    }
}
