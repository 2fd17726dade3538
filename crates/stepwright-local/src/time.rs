//! Virtual time: the clock every execution runs on, and ISO 8601 timestamps as AWS formats and
//! parses them.
//!
//! Time never comes from the wall clock: an execution starts at a configurable instant and only
//! moves forward when a state waits (Wait, Retry intervals, a task handler reporting how long it
//! took). A Wait of a day therefore takes no real time, and two runs produce the same timestamps.

use std::fmt;

/// An instant in virtual time: nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(i128);

/// The default start of every execution: 2024-01-01T00:00:00Z.
pub const DEFAULT_START: Instant = Instant(1_704_067_200 * NANOS_PER_SEC);

const NANOS_PER_SEC: i128 = 1_000_000_000;

impl Instant {
    /// The instant `secs` seconds after the Unix epoch.
    pub const fn from_unix_seconds(secs: i64) -> Instant {
        Instant(secs as i128 * NANOS_PER_SEC)
    }

    /// The instant `ms` milliseconds after the Unix epoch.
    pub const fn from_unix_millis(ms: i64) -> Instant {
        Instant(ms as i128 * 1_000_000)
    }

    /// Nanoseconds since the Unix epoch.
    pub const fn unix_nanos(self) -> i128 {
        self.0
    }

    /// Whole milliseconds since the Unix epoch (rounded toward negative infinity).
    pub fn unix_millis(self) -> i64 {
        self.0.div_euclid(1_000_000) as i64
    }

    /// This instant plus `nanos` nanoseconds (saturating).
    pub fn plus_nanos(self, nanos: i128) -> Instant {
        Instant(self.0.saturating_add(nanos))
    }

    /// This instant plus `secs` seconds (saturating).
    pub fn plus_seconds(self, secs: f64) -> Instant {
        let n = secs * 1e9;
        if !n.is_finite() || n >= i128::MAX as f64 {
            return Instant(i128::MAX / 2);
        }
        Instant(self.0.saturating_add(n as i128))
    }

    /// Nanoseconds from `earlier` to `self` (negative when `earlier` is later).
    pub fn nanos_since(self, earlier: Instant) -> i128 {
        self.0 - earlier.0
    }

    /// Formats as AWS does in the context object: `2024-01-01T00:00:00.000Z` (milliseconds, UTC).
    ///
    /// ```
    /// use stepwright_local::time::Instant;
    /// assert_eq!(Instant::from_unix_millis(1_704_067_200_123).to_iso_millis(), "2024-01-01T00:00:00.123Z");
    /// ```
    pub fn to_iso_millis(self) -> String {
        let mut s = String::with_capacity(24);
        self.write_iso_millis(&mut s);
        s
    }

    /// Appends the `to_iso_millis` form to `out`.
    pub fn write_iso_millis(self, out: &mut String) {
        use std::fmt::Write;
        let ms = self.unix_millis();
        let secs = ms.div_euclid(1000);
        let milli = ms.rem_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let _ = write!(
            out,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        );
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso_millis())
    }
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// Parses an ISO 8601 extended offset date-time as Step Functions accepts it in Wait `Timestamp`
/// and the Choice `Timestamp*` operators: `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`. The `T`
/// and the zone are required; every field is range-checked (month 13 or hour 25 are errors).
///
/// ```
/// use stepwright_local::time::{parse_timestamp, Instant};
/// assert_eq!(parse_timestamp("2016-03-14T01:59:00Z"), Some(Instant::from_unix_seconds(1_457_920_740)));
/// assert_eq!(parse_timestamp("2016-03-14T01:59:00+01:00"), Some(Instant::from_unix_seconds(1_457_917_140)));
/// assert_eq!(parse_timestamp("2016-03-14 01:59:00Z"), None);
/// assert_eq!(parse_timestamp("2016-13-14T01:59:00Z"), None);
/// ```
pub fn parse_timestamp(s: &str) -> Option<Instant> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0i64, |a, c| a * 10 + (c - b'0') as i64))
    };
    let year = num(0, 4)?;
    if b.get(4) != Some(&b'-') {
        return None;
    }
    let month = num(5, 2)? as u32;
    if b.get(7) != Some(&b'-') {
        return None;
    }
    let day = num(8, 2)? as u32;
    if !matches!(b.get(10), Some(b'T') | Some(b't')) {
        return None;
    }
    let hour = num(11, 2)?;
    if b.get(13) != Some(&b':') {
        return None;
    }
    let minute = num(14, 2)?;
    if b.get(16) != Some(&b':') {
        return None;
    }
    let second = num(17, 2)?;
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &b[start..i];
        if digits.is_empty() {
            return None;
        }
        let mut scale: i128 = 100_000_000;
        for d in digits {
            nanos += (d - b'0') as i128 * scale;
            scale /= 10;
        }
    }
    let offset_secs: i64 = match b.get(i) {
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) => {
            let oh = num(i + 1, 2)?;
            if b.get(i + 3) != Some(&b':') {
                return None;
            }
            let om = num(i + 4, 2)?;
            if i + 6 != b.len() || oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(Instant(secs as i128 * NANOS_PER_SEC + nanos))
}

/// The virtual clock of one execution.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    now: Instant,
}

impl Clock {
    /// A clock reading `start`.
    pub fn new(start: Instant) -> Clock {
        Clock { now: start }
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Moves the clock forward by `nanos` (never backwards).
    pub fn advance_nanos(&mut self, nanos: i128) {
        if nanos > 0 {
            self.now = self.now.plus_nanos(nanos);
        }
    }

    /// Moves the clock to `t` if that is later than now.
    pub fn advance_to(&mut self, t: Instant) {
        if t > self.now {
            self.now = t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [
            -800_000i64,
            -1,
            0,
            1,
            59,
            60,
            365,
            10_957,
            19_723,
            2_932_896,
        ] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }

    #[test]
    fn parses_what_aws_accepts() {
        assert!(parse_timestamp("2016-12-05T21:29:29.123456789Z").is_some());
        assert_eq!(
            parse_timestamp("2016-12-05T21:29:29.5Z")
                .unwrap()
                .nanos_since(parse_timestamp("2016-12-05T21:29:29Z").unwrap()),
            500_000_000
        );
        for bad in [
            "2016-13-05T21:29:29Z",
            "05-12-2016T21:29:29Z",
            "2016-12-05T25:29:29Z",
            "2016-12-05 21:29:29Z",
            "2016-12-05T21:29:29",
            "2016-02-30T00:00:00Z",
            "2016-12-05T21:29:29.Z",
            "2016-12-05T21:29:29Zx",
            "",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        assert!(parse_timestamp("2016-02-29T00:00:00Z").is_some());
    }

    #[test]
    fn formats_millis() {
        assert_eq!(DEFAULT_START.to_iso_millis(), "2024-01-01T00:00:00.000Z");
        assert_eq!(
            Instant::from_unix_millis(-1).to_iso_millis(),
            "1969-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn clock_only_moves_forward() {
        let mut c = Clock::new(DEFAULT_START);
        c.advance_nanos(-5);
        assert_eq!(c.now(), DEFAULT_START);
        c.advance_to(Instant::from_unix_seconds(0));
        assert_eq!(c.now(), DEFAULT_START);
        c.advance_nanos(1_000_000_000);
        assert_eq!(c.now().nanos_since(DEFAULT_START), 1_000_000_000);
    }
}
