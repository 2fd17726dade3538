//! Date/time picture strings (`$fromMillis`/`$toMillis`/`$now` with a picture), ported from
//! jsonata-js's datetime.js (XPath F&O 3.1 §9.8).

use serde_json::Value;

use crate::datetime::{civil_from_days, days_from_civil};
use crate::error::{Err, ErrExt, R};
use crate::format::{analyse_integer_picture, format_integer, parse_integer_with, IntFormat};

#[derive(Clone, Copy, PartialEq)]
enum Names {
    Upper,
    Lower,
    Title,
}

struct Marker {
    component: char,
    presentation1: String,
    presentation2: Option<char>,
    width: Option<(Option<usize>, Option<usize>)>,
    names: Option<Names>,
    int: Option<IntFormat>,
    n: i64,
}

enum Part {
    Literal(String),
    Marker(Box<Marker>),
}

fn default_presentation(c: char) -> Option<&'static str> {
    Some(match c {
        'Y' | 'M' | 'D' | 'd' | 'W' | 'w' | 'X' | 'x' | 'H' | 'h' | 'f' => "1",
        'F' | 'P' | 'C' | 'E' => "n",
        'm' | 's' => "01",
        'Z' | 'z' => "01:01",
        _ => return None,
    })
}

const DAYS: [&str; 8] = [
    "",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAY_MS: i64 = 86_400_000;

fn analyse(picture: &str) -> R<Vec<Part>> {
    let pic: Vec<char> = picture.chars().collect();
    let mut parts = Vec::new();
    let add_literal = |parts: &mut Vec<Part>, start: usize, end: usize| {
        if end > start {
            let lit: String = pic[start..end].iter().collect();
            parts.push(Part::Literal(lit.replace("]]", "]")));
        }
    };
    let mut start = 0;
    let mut pos = 0;
    while pos < pic.len() {
        if pic[pos] == '[' {
            if pic.get(pos + 1) == Some(&'[') {
                add_literal(&mut parts, start, pos);
                parts.push(Part::Literal("[".into()));
                pos += 2;
                start = pos;
                continue;
            }
            add_literal(&mut parts, start, pos);
            start = pos;
            let Some(close) = pic[start..].iter().position(|&c| c == ']') else {
                return Err(Err::new("D3135"));
            };
            pos = start + close;
            let marker: String = pic[start + 1..pos]
                .iter()
                .filter(|c| !c.is_whitespace())
                .collect();
            let mchars: Vec<char> = marker.chars().collect();
            let component = mchars.first().copied().unwrap_or(' ');
            let mut width = None;
            let pres_mod: String = match marker.rfind(',') {
                Some(comma) => {
                    let wm = &marker[comma + 1..];
                    let parse_w = |s: &str| -> Option<usize> {
                        if s == "*" || s.is_empty() {
                            None
                        } else {
                            s.parse().ok()
                        }
                    };
                    width = Some(match wm.find('-') {
                        None => (parse_w(wm), None),
                        Some(d) => (parse_w(&wm[..d]), parse_w(&wm[d + 1..])),
                    });
                    marker[component.len_utf8()..comma].to_string()
                }
                None => marker[component.len_utf8().min(marker.len())..].to_string(),
            };
            let mut presentation2 = None;
            let presentation1: String = if pres_mod.chars().count() == 1 {
                pres_mod.clone()
            } else if pres_mod.chars().count() > 1 {
                let last = pres_mod.chars().last().unwrap_or(' ');
                if "atco".contains(last) {
                    presentation2 = Some(last);
                    pres_mod[..pres_mod.len() - last.len_utf8()].to_string()
                } else {
                    pres_mod.clone()
                }
            } else {
                match default_presentation(component) {
                    Some(p) => p.to_string(),
                    None => return Err(Err::new("D3132").val(Value::String(component.to_string()))),
                }
            };
            if default_presentation(component).is_none() {
                return Err(Err::new("D3132").val(Value::String(component.to_string())));
            }
            let p1: Vec<char> = presentation1.chars().collect();
            let names = match p1.first() {
                Some('n') => Some(Names::Lower),
                Some('N') => Some(if p1.get(1) == Some(&'n') {
                    Names::Title
                } else {
                    Names::Upper
                }),
                _ => None,
            };
            let mut int = None;
            let mut n = -1i64;
            if "YMDdFWwXxHhmsf".contains(component) {
                let mut pat = presentation1.clone();
                if let Some(p2) = presentation2 {
                    pat.push(';');
                    pat.push(p2);
                }
                let mut f = analyse_integer_picture(&pat)?;
                if let Some((Some(min), _)) = width {
                    if f.mandatory < min {
                        f.mandatory = min;
                    }
                }
                if component == 'Y' {
                    if let Some((_, Some(max))) = width {
                        n = max as i64;
                        f.mandatory = max;
                    } else {
                        let w = f.mandatory + f.optional;
                        if w >= 2 {
                            n = w as i64;
                        }
                    }
                }
                int = Some(f);
            }
            if component == 'Z' || component == 'z' {
                int = Some(analyse_integer_picture(&presentation1)?);
            }
            parts.push(Part::Marker(Box::new(Marker {
                component,
                presentation1,
                presentation2,
                width,
                names,
                int,
                n,
            })));
            start = pos + 1;
        }
        pos += 1;
    }
    add_literal(&mut parts, start, pos.min(pic.len()));
    Ok(parts)
}

struct DateParts {
    millis: i64,
    year: i64,
    month: i64, // 0-based
    day: i64,
    weekday: i64, // 0 = Sunday
    hours: i64,
    minutes: i64,
    seconds: i64,
    ms: i64,
}

fn date_parts(millis: i64) -> DateParts {
    let days = millis.div_euclid(DAY_MS);
    let rem = millis.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    DateParts {
        millis,
        year: y,
        month: m - 1,
        day: d,
        weekday: (days + 4).rem_euclid(7),
        hours: rem / 3_600_000,
        minutes: (rem / 60_000) % 60,
        seconds: (rem / 1000) % 60,
        ms: rem % 1000,
    }
}

fn utc(year: i64, month0: i64) -> i64 {
    let y = year + month0.div_euclid(12);
    let m = month0.rem_euclid(12);
    days_from_civil(y, m + 1, 1) * DAY_MS
}

fn start_of_first_week(year: i64, month0: i64) -> i64 {
    let jan1 = utc(year, month0);
    let mut dow = (jan1.div_euclid(DAY_MS) + 4).rem_euclid(7);
    if dow == 0 {
        dow = 7;
    }
    if dow > 4 {
        jan1 + (8 - dow) * DAY_MS
    } else {
        jan1 - (dow - 1) * DAY_MS
    }
}

fn delta_weeks(start: i64, end: i64) -> f64 {
    (end - start) as f64 / (DAY_MS * 7) as f64 + 1.0
}

enum Frag {
    Num(i64),
    Str(&'static str),
    None,
}

fn fragment(d: &DateParts, c: char) -> Frag {
    Frag::Num(match c {
        'Y' => d.year,
        'M' => d.month + 1,
        'D' => d.day,
        'd' => (days_from_civil(d.year, d.month + 1, d.day) - days_from_civil(d.year, 1, 1)) + 1,
        'F' => {
            if d.weekday == 0 {
                7
            } else {
                d.weekday
            }
        }
        'W' => {
            let s1 = start_of_first_week(d.year, 0);
            let today = days_from_civil(d.year, d.month + 1, d.day) * DAY_MS;
            let mut week = delta_weeks(s1, today);
            if week > 52.0 {
                if today >= start_of_first_week(d.year + 1, 0) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                week = delta_weeks(start_of_first_week(d.year - 1, 0), today);
            }
            week.floor() as i64
        }
        'w' => {
            let s1 = start_of_first_week(d.year, d.month);
            let today = days_from_civil(d.year, d.month + 1, d.day) * DAY_MS;
            let mut week = delta_weeks(s1, today);
            if week > 4.0 {
                if today >= start_of_first_week(d.year, d.month + 1) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                week = delta_weeks(start_of_first_week(d.year, d.month - 1), today);
            }
            week.floor() as i64
        }
        'X' => {
            let start = start_of_first_week(d.year, 0);
            let end = start_of_first_week(d.year + 1, 0);
            if d.millis < start {
                d.year - 1
            } else if d.millis >= end {
                d.year + 1
            } else {
                d.year
            }
        }
        'x' => {
            let start = start_of_first_week(d.year, d.month);
            let end = start_of_first_week(d.year, d.month + 1);
            if d.millis < start {
                (d.month - 1).rem_euclid(12) + 1
            } else if d.millis >= end {
                (d.month + 1).rem_euclid(12) + 1
            } else {
                d.month + 1
            }
        }
        'H' => d.hours,
        'h' => {
            let h = d.hours % 12;
            if h == 0 {
                12
            } else {
                h
            }
        }
        'P' => return Frag::Str(if d.hours >= 12 { "pm" } else { "am" }),
        'm' => d.minutes,
        's' => d.seconds,
        'f' => d.ms,
        'C' | 'E' => return Frag::Str("ISO"),
        _ => return Frag::None,
    })
}

fn parse_tz(tz: &str) -> (i64, i64) {
    let t: String = tz
        .trim()
        .chars()
        .enumerate()
        .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && (*c == '-' || *c == '+')))
        .map(|(_, c)| c)
        .collect();
    let offset: i64 = t.parse().unwrap_or(0);
    let hours = (offset as f64 / 100.0).floor() as i64;
    (hours, offset % 100)
}

/// Formats epoch millis with a picture (and optional `±HHMM` timezone).
pub(crate) fn format_datetime(millis: i64, picture: &str, tz: Option<&str>) -> R<String> {
    let (oh, om) = tz.map(parse_tz).unwrap_or((0, 0));
    let parts = analyse(picture)?;
    let offset_ms = (60 * oh + om) * 60_000;
    let d = date_parts(millis + offset_ms);
    let mut out = String::new();
    for part in &parts {
        let m = match part {
            Part::Literal(l) => {
                out.push_str(l);
                continue;
            }
            Part::Marker(m) => m,
        };
        let c = m.component;
        let frag = fragment(&d, c);
        let s = if "YMDdFWwXxHhms".contains(c) {
            let Frag::Num(mut v) = frag else { continue };
            if c == 'Y' && m.n != -1 {
                v %= 10i64.pow(m.n.clamp(0, 18) as u32);
            }
            if let Some(names) = m.names {
                let name = if c == 'M' || c == 'x' {
                    MONTHS[((v - 1).rem_euclid(12)) as usize]
                } else if c == 'F' {
                    DAYS[v.clamp(0, 7) as usize]
                } else {
                    return Err(Err::new("D3133").val(Value::String(c.to_string())));
                };
                let mut name = match names {
                    Names::Upper => name.to_uppercase(),
                    Names::Lower => name.to_lowercase(),
                    Names::Title => name.to_string(),
                };
                if let Some((_, Some(max))) = m.width {
                    if name.chars().count() > max {
                        name = name.chars().take(max).collect();
                    }
                }
                name
            } else {
                match &m.int {
                    Some(f) => format_integer(v as f64, f)?,
                    None => v.to_string(),
                }
            }
        } else if c == 'f' {
            let Frag::Num(v) = frag else { continue };
            match &m.int {
                Some(f) => format_integer(v as f64, f)?,
                None => v.to_string(),
            }
        } else if c == 'Z' || c == 'z' {
            let offset = oh * 100 + om;
            let f = m.int.as_ref();
            let mut s = match f {
                Some(f) if f.regular.is_some() => format_integer(offset as f64, f)?,
                Some(f) => {
                    let nd = f.mandatory;
                    if nd == 1 || nd == 2 {
                        let mut s = format_integer(oh as f64, f)?;
                        if om != 0 {
                            s.push(':');
                            s.push_str(&format!("{:02}", om.abs()));
                        }
                        s
                    } else if nd == 3 || nd == 4 {
                        format_integer(offset as f64, f)?
                    } else {
                        return Err(Err::new("D3134").val(Value::from(nd)));
                    }
                }
                None => offset.to_string(),
            };
            if offset >= 0 {
                s.insert(0, '+');
            }
            if c == 'z' {
                s.insert_str(0, "GMT");
            }
            if offset == 0 && m.presentation2 == Some('t') {
                s = "Z".into();
            }
            s
        } else if c == 'P' {
            let Frag::Str(v) = frag else { continue };
            if m.names == Some(Names::Upper) {
                v.to_uppercase()
            } else {
                v.to_string()
            }
        } else {
            match frag {
                Frag::Str(s) => s.to_string(),
                Frag::Num(n) => n.to_string(),
                Frag::None => String::new(),
            }
        };
        out.push_str(&s);
    }
    let _ = &parts
        .iter()
        .any(|p| matches!(p, Part::Marker(m) if m.presentation1.is_empty()));
    Ok(out)
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if ".*+?^${}()|[]\\/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

enum Parser {
    None,
    Int(IntFormat),
    Tz(char, Option<char>),
    Names(Vec<(String, i64)>),
}

/// Parses a timestamp with a picture into epoch millis (`None` when it does not match).
pub(crate) fn parse_datetime(ts: &str, picture: &str, now_ms: i64) -> R<Option<i64>> {
    let parts = analyse(picture)?;
    let mut regex = String::from("^");
    let mut parsers: Vec<(char, Parser)> = Vec::new();
    for part in &parts {
        match part {
            Part::Literal(l) => {
                regex.push('(');
                regex.push_str(&regex_escape(l));
                regex.push(')');
                parsers.push((' ', Parser::None));
            }
            Part::Marker(m) => {
                let c = m.component;
                if c == 'Z' || c == 'z' {
                    let sep = m.int.as_ref().and_then(|f| f.regular.map(|(_, ch)| ch));
                    let mut r = String::new();
                    if c == 'z' {
                        r.push_str("GMT");
                    }
                    r.push_str("[-+][0-9]+");
                    if let Some(s) = sep {
                        r.push_str(&regex_escape(&s.to_string()));
                        r.push_str("[0-9]+");
                    }
                    regex.push_str(&format!("({r})"));
                    parsers.push((c, Parser::Tz(c, sep)));
                } else if let (Some(f), None) = (&m.int, m.names) {
                    // fixed-width numeric components (e.g. [M01]) match exactly that many
                    // digits, so adjacent components like [Y0001][M01][D01] can be split
                    let n = if c == 'Y' {
                        m.n
                    } else if f.mandatory + f.optional >= 2 {
                        (f.mandatory + f.optional) as i64
                    } else {
                        -1
                    };
                    let r = f.regex(n)?;
                    regex.push_str(&format!("({r})"));
                    parsers.push((c, Parser::Int(f.clone())));
                } else {
                    let mut lookup = Vec::new();
                    let max = m.width.and_then(|w| w.1);
                    let cut = |s: &str| -> String {
                        match max {
                            Some(mx) => s.chars().take(mx).collect(),
                            None => s.to_string(),
                        }
                    };
                    if c == 'M' || c == 'x' {
                        for (i, name) in MONTHS.iter().enumerate() {
                            lookup.push((cut(name), i as i64 + 1));
                        }
                    } else if c == 'F' {
                        for (i, name) in DAYS.iter().enumerate().skip(1) {
                            lookup.push((cut(name), i as i64));
                        }
                    } else if c == 'P' {
                        lookup = vec![("am".into(), 0), ("pm".into(), 1)];
                    } else {
                        return Err(Err::new("D3133").val(Value::String(c.to_string())));
                    }
                    regex.push_str("([a-zA-Z]+)");
                    parsers.push((c, Parser::Names(lookup)));
                }
            }
        }
    }
    regex.push('$');
    let re = crate::regex::Re::new(&regex, "i").map_err(|e| Err::new("D3136").extra(e))?;
    let Some(m) = re.find_at(ts, 0) else {
        return Ok(None);
    };
    let mut comps: std::collections::HashMap<char, i64> = std::collections::HashMap::new();
    for (i, (c, p)) in parsers.iter().enumerate() {
        let Some(Some((a, b))) = m.groups.get(i) else {
            continue;
        };
        let text = &ts[*a..*b];
        let v = match p {
            Parser::None => continue,
            Parser::Int(_) if *c == 'f' => {
                // fractional seconds: the digits are a fraction of a second
                let digits: String = text.chars().filter(|d| d.is_ascii_digit()).collect();
                let ms: String = digits.chars().chain("000".chars()).take(3).collect();
                ms.parse::<i64>().ok()
            }
            Parser::Int(f) => parse_integer_with(text, f)?.map(|x| x as i64),
            Parser::Names(l) => l
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(text))
                .map(|(_, v)| *v),
            Parser::Tz(kind, sep) => {
                let t = if *kind == 'z' { &text[3..] } else { text };
                let (h, mi) = match sep {
                    Some(s) => {
                        let idx = t.find(*s).unwrap_or(t.len());
                        let h: i64 = t[..idx].parse().unwrap_or(0);
                        let mi: i64 = t
                            .get(idx + s.len_utf8()..)
                            .and_then(|x| x.parse().ok())
                            .unwrap_or(0);
                        (h, mi)
                    }
                    None => {
                        let nd = t.len() - 1;
                        if nd <= 2 {
                            (t.parse().unwrap_or(0), 0)
                        } else {
                            let h: i64 = t[..3].parse().unwrap_or(0);
                            let mi: i64 = t[3..].parse().unwrap_or(0);
                            (h, if h < 0 { -mi } else { mi })
                        }
                    }
                };
                Some(h * 60 + mi)
            }
        };
        if let Some(v) = v {
            comps.insert(*c, v);
        }
    }
    if comps.is_empty() {
        return Ok(None);
    }
    let mask_of = |keys: &str| -> u32 {
        let mut mask = 0u32;
        for k in keys.chars() {
            mask <<= 1;
            if comps.get(&k).is_some_and(|v| *v != 0) {
                mask += 1;
            }
        }
        mask
    };
    let is_type = |ty: u32, mask: u32| (!ty & mask) == 0 && (ty & mask) != 0;
    let dmask = mask_of("YXMxWwdD");
    let date_a = is_type(161, dmask);
    let date_b = !date_a && is_type(130, dmask);
    let date_c = is_type(84, dmask);
    let date_d = !date_c && is_type(72, dmask);
    let tmask = mask_of("PHhmsf");
    let time_a = is_type(23, tmask);
    let time_b = !time_a && is_type(47, tmask);
    let date_comps = if date_b {
        "YD"
    } else if date_c {
        "XxwF"
    } else if date_d {
        "XWF"
    } else {
        "YMD"
    };
    let time_comps = if time_b { "Phmsf" } else { "Hmsf" };
    let now = date_parts(now_ms);
    let mut start_spec = false;
    let mut end_spec = false;
    for part in date_comps.chars().chain(time_comps.chars()) {
        if let std::collections::hash_map::Entry::Vacant(e) = comps.entry(part) {
            if start_spec {
                e.insert(if "MDd".contains(part) { 1 } else { 0 });
                end_spec = true;
            } else {
                let v = match fragment(&now, part) {
                    Frag::Num(n) => n,
                    Frag::Str(s) => i64::from(s == "pm"),
                    Frag::None => 0,
                };
                e.insert(v);
            }
        } else {
            start_spec = true;
            if end_spec {
                return Err(Err::new("D3136"));
            }
        }
    }
    let g = |k: char| comps.get(&k).copied().unwrap_or(0);
    let mut month0 = if g('M') > 0 { g('M') - 1 } else { 0 };
    let mut day = g('D');
    if date_b {
        let first = days_from_civil(g('Y'), 1, 1) + g('d') - 1;
        let (_, m, d) = civil_from_days(first);
        month0 = m - 1;
        day = d;
    }
    if date_c || date_d {
        return Err(Err::new("D3136"));
    }
    let mut hours = g('H');
    if time_b {
        hours = if g('h') == 12 { 0 } else { g('h') };
        if g('P') == 1 {
            hours += 12;
        }
    }
    let y = g('Y') + month0.div_euclid(12);
    let days = days_from_civil(y, month0.rem_euclid(12) + 1, 1) + day - 1;
    let mut millis = days * DAY_MS + hours * 3_600_000 + g('m') * 60_000 + g('s') * 1000 + g('f');
    let tz = comps.get(&'Z').or(comps.get(&'z')).copied().unwrap_or(0);
    millis -= tz * 60_000;
    Ok(Some(millis))
}
