//! `$now`, `$millis`, `$toMillis`, `$fromMillis` (ISO 8601 and XPath picture strings).

use serde_json::Value;

use crate::error::{Err, ErrExt};
use crate::eval::{Ev, Res};
use crate::functions::arg;
use crate::value::{Env, Val};

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Civil date of days since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `new Date(millis).toISOString()`.
pub(crate) fn iso_string(millis: i64) -> String {
    let days = millis.div_euclid(86_400_000);
    let ms = millis.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let year = if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else if y < 0 {
        format!("-{:06}", -y)
    } else {
        format!("+{y:06}")
    };
    format!(
        "{year}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms / 3_600_000,
        (ms / 60_000) % 60,
        (ms / 1000) % 60,
        ms % 1000
    )
}

/// Parses the ISO 8601 forms jsonata-js accepts (its regex, then `Date.parse`).
pub(crate) fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let mut i = 0;
    let num = |i: &mut usize, n: usize| -> Option<i64> {
        let t = s.get(*i..*i + n)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        *i += n;
        t.parse().ok()
    };
    let year = num(&mut i, 4)?;
    let (mut month, mut day) = (1, 1);
    let (mut h, mut mi, mut sec, mut ms) = (0, 0, 0, 0i64);
    let mut offset_min: i64 = 0;
    if b.get(i) == Some(&b'-') {
        i += 1;
        month = num(&mut i, 2)?;
        if b.get(i) == Some(&b'-') {
            i += 1;
            day = num(&mut i, 2)?;
        }
    }
    if b.get(i) == Some(&b'T') {
        i += 1;
        h = num(&mut i, 2)?;
        if b.get(i) != Some(&b':') {
            return None;
        }
        i += 1;
        mi = num(&mut i, 2)?;
        if b.get(i) != Some(&b':') {
            return None;
        }
        i += 1;
        sec = num(&mut i, 2)?;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == st {
            return None;
        }
        let frac = &s[st..i];
        let f3: String = frac.chars().chain("000".chars()).take(3).collect();
        ms = f3.parse().ok()?;
    }
    if i < b.len() {
        match b[i] {
            b'Z' => i += 1,
            b'+' | b'-' => {
                let sign = if b[i] == b'-' { -1 } else { 1 };
                i += 1;
                let oh = num(&mut i, 2)?;
                if b.get(i) == Some(&b':') {
                    i += 1;
                }
                let om = num(&mut i, 2)?;
                offset_min = sign * (oh * 60 + om);
            }
            _ => return None,
        }
    }
    if i != b.len() {
        return None;
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 24 || mi > 59 || sec > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400_000 + ((h * 60 + mi) * 60 + sec) * 1000 + ms - offset_min * 60_000)
}

pub(crate) fn f_millis<'a>(
    ev: &Ev<'a>,
    _: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    Ok(Some(Val::Num(ev.now_ms as f64)))
}

pub(crate) fn f_now<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let picture = arg(args, 0).and_then(|v| v.as_str());
    let tz = arg(args, 1).and_then(|v| v.as_str());
    format_millis(ev.now_ms, picture, tz).map(|s| Some(Val::string(s)))
}

fn format_millis(millis: i64, picture: Option<&str>, tz: Option<&str>) -> crate::error::R<String> {
    match (picture, tz) {
        (None, None) => Ok(iso_string(millis)),
        (p, tz) => crate::picture::format_datetime(
            millis,
            p.unwrap_or("[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"),
            tz,
        ),
    }
}

pub(crate) fn f_from_millis<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(Val::Num(m)) = arg(args, 0) else {
        return Ok(None);
    };
    let picture = arg(args, 1).and_then(|v| v.as_str());
    let tz = arg(args, 2).and_then(|v| v.as_str());
    format_millis(m.trunc() as i64, picture, tz).map(|s| Some(Val::string(s)))
}

pub(crate) fn f_to_millis<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(Val::Str(s)) = arg(args, 0) else {
        return Ok(None);
    };
    match arg(args, 1).and_then(|v| v.as_str()) {
        None => match parse_iso(s) {
            Some(m) => Ok(Some(Val::Num(m as f64))),
            None => Err(Err::new("D3110").val(Value::String(s.to_string()))),
        },
        Some(p) => Ok(crate::picture::parse_datetime(s, p, ev.now_ms)?.map(|m| Val::Num(m as f64))),
    }
}
