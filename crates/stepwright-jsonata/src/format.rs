//! `$formatNumber`, `$formatInteger`, `$parseInteger` (XPath F&O picture strings, as jsonata-js).

use serde_json::Value;

use crate::error::{Err, ErrExt, R};
use crate::eval::{Ev, Res};
use crate::functions::{arg, round_half_even};
use crate::value::{Env, Val};

// ------------------------------------------------------------ formatNumber

struct Props {
    decimal: char,
    grouping: char,
    exponent: char,
    minus: String,
    percent: char,
    permille: char,
    zero: char,
    digit: char,
    pattern: char,
}

struct Parts {
    prefix: Vec<char>,
    suffix: Vec<char>,
    active: Vec<char>,
    mantissa: Vec<char>,
    exponent: Option<Vec<char>>,
    integer: Vec<char>,
    fractional: Vec<char>,
    sub: Vec<char>,
}

struct Pic {
    int_groups: Vec<usize>,
    regular: usize,
    min_int: usize,
    scaling: usize,
    prefix: String,
    frac_groups: Vec<usize>,
    min_frac: usize,
    max_frac: usize,
    min_exp: usize,
    suffix: String,
    sub: Vec<char>,
}

fn index_of(v: &[char], c: char) -> Option<usize> {
    v.iter().position(|&x| x == c)
}

fn last_index_of(v: &[char], c: char) -> Option<usize> {
    v.iter().rposition(|&x| x == c)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn regular(indexes: &[usize]) -> usize {
    if indexes.is_empty() {
        return 0;
    }
    let factor = indexes.iter().copied().reduce(gcd).unwrap_or(0);
    if factor == 0 {
        return 0;
    }
    for i in 1..=indexes.len() {
        if !indexes.contains(&(i * factor)) {
            return 0;
        }
    }
    factor
}

pub(crate) fn f_format_number<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(Val::Num(value)) = arg(args, 0) else {
        return Ok(None);
    };
    let picture = match arg(args, 1) {
        Some(Val::Str(s)) => s.to_string(),
        _ => return Ok(None),
    };
    let mut p = Props {
        decimal: '.',
        grouping: ',',
        exponent: 'e',
        minus: "-".into(),
        percent: '%',
        permille: '\u{2030}',
        zero: '0',
        digit: '#',
        pattern: ';',
    };
    let mut infinity = "Infinity".to_string();
    let mut nan = "NaN".to_string();
    if let Some(Val::Obj(o, _)) = arg(args, 2) {
        for (k, v) in o.iter() {
            let Some(s) = v.as_str() else { continue };
            let c = s.chars().next().unwrap_or(' ');
            match k.as_str() {
                "decimal-separator" => p.decimal = c,
                "grouping-separator" => p.grouping = c,
                "exponent-separator" => p.exponent = c,
                "minus-sign" => p.minus = s.to_string(),
                "percent" => p.percent = c,
                "per-mille" => p.permille = c,
                "zero-digit" => p.zero = c,
                "digit" => p.digit = c,
                "pattern-separator" => p.pattern = c,
                "infinity" => infinity = s.to_string(),
                "NaN" => nan = s.to_string(),
                _ => {}
            }
        }
    }
    if value.is_nan() {
        return Ok(Some(Val::string(nan)));
    }
    if value.is_infinite() {
        return Ok(Some(Val::string(infinity)));
    }
    Ok(Some(Val::string(format_number(*value, &picture, &p)?)))
}

fn format_number(value: f64, picture: &str, p: &Props) -> R<String> {
    let family: Vec<char> = (0..10)
        .map(|i| char::from_u32(p.zero as u32 + i).unwrap_or('0'))
        .collect();
    let mut active: Vec<char> = family.clone();
    active.extend([p.decimal, p.exponent, p.grouping, p.digit, p.pattern]);
    let is_digit = |c: char| family.contains(&c);
    let pic: Vec<char> = picture.chars().collect();
    let subs: Vec<Vec<char>> = pic.split(|&c| c == p.pattern).map(|s| s.to_vec()).collect();
    if subs.len() > 2 {
        return Err(Err::new("D3080"));
    }
    let split_parts = |sub: &Vec<char>| -> Parts {
        let prefix_len = sub
            .iter()
            .position(|&c| active.contains(&c) && c != p.exponent)
            .unwrap_or(0);
        let prefix: Vec<char> = sub[..prefix_len].to_vec();
        let suffix_start = sub
            .iter()
            .rposition(|&c| active.contains(&c) && c != p.exponent)
            .map_or(sub.len(), |i| i + 1);
        let suffix: Vec<char> = sub[suffix_start.max(prefix_len)..].to_vec();
        let active_part: Vec<char> = sub[prefix_len..sub.len() - suffix.len()].to_vec();
        let exp_pos = sub[prefix_len..]
            .iter()
            .position(|&c| c == p.exponent)
            .map(|i| i + prefix_len);
        let (mantissa, exponent) = match exp_pos {
            Some(e) if e <= sub.len() - suffix.len() => {
                let rel = e - prefix_len;
                (
                    active_part[..rel.min(active_part.len())].to_vec(),
                    Some(active_part[(rel + 1).min(active_part.len())..].to_vec()),
                )
            }
            _ => (active_part.clone(), None),
        };
        let (integer, fractional) = match index_of(&mantissa, p.decimal) {
            None => (mantissa.clone(), suffix.clone()),
            Some(d) => (mantissa[..d].to_vec(), mantissa[d + 1..].to_vec()),
        };
        Parts {
            prefix,
            suffix,
            active: active_part,
            mantissa,
            exponent,
            integer,
            fractional,
            sub: sub.clone(),
        }
    };
    let parts: Vec<Parts> = subs.iter().map(split_parts).collect();
    for parts in &parts {
        let sub = &parts.sub;
        let mut error = None;
        let dpos = index_of(sub, p.decimal);
        if dpos != last_index_of(sub, p.decimal) {
            error = Some("D3081");
        }
        if index_of(sub, p.percent) != last_index_of(sub, p.percent) {
            error = Some("D3082");
        }
        if index_of(sub, p.permille) != last_index_of(sub, p.permille) {
            error = Some("D3083");
        }
        if index_of(sub, p.percent).is_some() && index_of(sub, p.permille).is_some() {
            error = Some("D3084");
        }
        if !parts.mantissa.iter().any(|&c| is_digit(c) || c == p.digit) {
            error = Some("D3085");
        }
        if parts.active.iter().any(|c| !active.contains(c)) {
            error = Some("D3086");
        }
        if let Some(d) = dpos {
            if (d > 0 && sub[d - 1] == p.grouping) || sub.get(d + 1) == Some(&p.grouping) {
                error = Some("D3087");
            }
        } else if parts.integer.last() == Some(&p.grouping) {
            error = Some("D3088");
        }
        if sub
            .windows(2)
            .any(|w| w[0] == p.grouping && w[1] == p.grouping)
        {
            error = Some("D3089");
        }
        if let Some(od) = index_of(&parts.integer, p.digit) {
            if parts.integer[..od].iter().any(|&c| is_digit(c)) {
                error = Some("D3090");
            }
        }
        if let Some(od) = last_index_of(&parts.fractional, p.digit) {
            if parts.fractional[od..].iter().any(|&c| is_digit(c)) {
                error = Some("D3091");
            }
        }
        if let Some(e) = &parts.exponent {
            if !e.is_empty()
                && (index_of(sub, p.percent).is_some() || index_of(sub, p.permille).is_some())
            {
                error = Some("D3092");
            }
            if e.is_empty() || e.iter().any(|&c| !is_digit(c)) {
                error = Some("D3093");
            }
        }
        if let Some(e) = error {
            return Err(Err::new(e));
        }
    }
    let analyse = |parts: &Parts| -> Pic {
        let grouping_positions = |part: &[char], to_left: bool| -> Vec<usize> {
            let mut positions = Vec::new();
            let mut gp = index_of(part, p.grouping);
            while let Some(g) = gp {
                let slice = if to_left { &part[..g] } else { &part[g..] };
                positions.push(
                    slice
                        .iter()
                        .filter(|&&c| is_digit(c) || c == p.digit)
                        .count(),
                );
                gp = parts.integer[(g + 1).min(parts.integer.len())..]
                    .iter()
                    .position(|&c| c == p.grouping)
                    .map(|i| i + g + 1);
                if to_left {
                    gp = part[(g + 1).min(part.len())..]
                        .iter()
                        .position(|&c| c == p.grouping)
                        .map(|i| i + g + 1);
                }
            }
            positions
        };
        let int_groups = grouping_positions(&parts.integer, false);
        let regular = regular(&int_groups);
        let frac_groups = grouping_positions(&parts.fractional, true);
        let mut min_int = parts.integer.iter().filter(|&&c| is_digit(c)).count();
        let scaling = min_int;
        let mut min_frac = parts.fractional.iter().filter(|&&c| is_digit(c)).count();
        let mut max_frac = parts
            .fractional
            .iter()
            .filter(|&&c| is_digit(c) || c == p.digit)
            .count();
        let exp_present = parts.exponent.is_some();
        if min_int == 0 && max_frac == 0 {
            if exp_present {
                min_frac = 1;
                max_frac = 1;
            } else {
                min_int = 1;
            }
        }
        if exp_present && min_int == 0 && index_of(&parts.integer, p.digit).is_some() {
            min_int = 1;
        }
        if min_int == 0 && min_frac == 0 {
            min_frac = 1;
        }
        let min_exp = parts
            .exponent
            .as_ref()
            .map_or(0, |e| e.iter().filter(|&&c| is_digit(c)).count());
        Pic {
            int_groups,
            regular,
            min_int,
            scaling,
            prefix: parts.prefix.iter().collect(),
            frac_groups,
            min_frac,
            max_frac,
            min_exp,
            suffix: parts.suffix.iter().collect(),
            sub: parts.sub.clone(),
        }
    };
    let mut pics: Vec<Pic> = parts.iter().map(analyse).collect();
    if pics.len() == 1 {
        let mut neg = analyse(&parts[0]);
        neg.prefix = format!("{}{}", p.minus, neg.prefix);
        pics.push(neg);
    }
    let pic = if value >= 0.0 { &pics[0] } else { &pics[1] };
    let adjusted = if pic.sub.contains(&p.percent) {
        value * 100.0
    } else if pic.sub.contains(&p.permille) {
        value * 1000.0
    } else {
        value
    };
    let (mantissa, exponent) = if pic.min_exp == 0 {
        (adjusted, None)
    } else {
        let max_m = 10f64.powi(pic.scaling as i32);
        let min_m = 10f64.powi(pic.scaling as i32 - 1);
        let mut m = adjusted;
        let mut e = 0i32;
        if m != 0.0 {
            while m.abs() < min_m {
                m *= 10.0;
                e -= 1;
            }
            while m.abs() > max_m {
                m /= 10.0;
                e += 1;
            }
        }
        (m, Some(e))
    };
    let rounded = round_half_even(mantissa, pic.max_frac as i32);
    let make_string = |v: f64, dp: usize| -> String {
        let s = format!("{:.*}", dp, v.abs());
        if p.zero != '0' {
            s.chars()
                .map(|c| {
                    if c.is_ascii_digit() {
                        family[(c as u8 - b'0') as usize]
                    } else {
                        c
                    }
                })
                .collect()
        } else {
            s
        }
    };
    let sv = make_string(rounded, pic.max_frac);
    let mut s: Vec<char> = if sv.contains('.') {
        sv.replace('.', &p.decimal.to_string()).chars().collect()
    } else {
        let mut x: Vec<char> = sv.chars().collect();
        x.push(p.decimal);
        x
    };
    while s.first() == Some(&p.zero) {
        s.remove(0);
    }
    while s.last() == Some(&p.zero) {
        s.pop();
    }
    let dpos = index_of(&s, p.decimal).unwrap_or(s.len());
    let pad_left = pic.min_int as i64 - dpos as i64;
    let pad_right = pic.min_frac as i64 - (s.len() as i64 - dpos as i64 - 1);
    if pad_left > 0 {
        let mut v = vec![p.zero; pad_left as usize];
        v.extend(s);
        s = v;
    }
    if pad_right > 0 {
        s.extend(vec![p.zero; pad_right as usize]);
    }
    let mut dpos = index_of(&s, p.decimal).unwrap_or(s.len());
    if let Some(group_count) = ((dpos as i64 - 1).max(0) as usize).checked_div(pic.regular) {
        for g in 1..=group_count {
            let at = dpos - g * pic.regular;
            s.insert(at, p.grouping);
        }
    } else {
        for &pos in &pic.int_groups {
            if pos <= dpos {
                s.insert(dpos - pos, p.grouping);
                dpos += 1;
            }
        }
    }
    let dpos = index_of(&s, p.decimal).unwrap_or(s.len());
    for &pos in &pic.frac_groups {
        let at = pos + dpos + 1;
        if at <= s.len() {
            s.insert(at, p.grouping);
        }
    }
    let dpos = index_of(&s, p.decimal);
    if dpos == Some(s.len().wrapping_sub(1)) {
        s.pop();
    }
    let mut out: String = s.into_iter().collect();
    if let Some(e) = exponent {
        let mut es = make_string(e as f64, 0);
        let pad = pic.min_exp as i64 - es.chars().count() as i64;
        if pad > 0 {
            es = format!("{}{}", p.zero.to_string().repeat(pad as usize), es);
        }
        out = format!(
            "{out}{}{}{es}",
            p.exponent,
            if e < 0 { p.minus.as_str() } else { "" }
        );
    }
    Ok(format!("{}{}{}", pic.prefix, out, pic.suffix))
}

// ----------------------------------------------------------- formatInteger

#[derive(Clone, Copy, PartialEq)]
enum Case {
    Upper,
    Lower,
    Title,
}

#[derive(Clone, PartialEq)]
enum Primary {
    Decimal,
    Letters,
    Roman,
    Words,
    Sequence(String),
}

/// An analysed integer picture (also used by date/time components).
#[derive(Clone)]
pub(crate) struct IntFormat {
    primary: Primary,
    case: Case,
    pub ordinal: bool,
    zero: u32,
    pub mandatory: usize,
    pub optional: usize,
    pub regular: Option<(usize, char)>,
    pub separators: Vec<(usize, char)>,
}

impl IntFormat {
    /// A regex matching this format (jsonata-js's `generateRegex` for integers).
    pub(crate) fn regex(&self, n: i64) -> R<String> {
        let upper = self.case == Case::Upper;
        let occurrences = if n > 0 {
            if self.optional == 0 {
                format!("{{{n}}}")
            } else {
                format!("{{{},{}}}", n - self.optional as i64, n)
            }
        } else {
            "+".to_string()
        };
        Ok(match &self.primary {
            Primary::Letters => (if upper { "[A-Z]+" } else { "[a-z]+" }).to_string(),
            Primary::Roman => (if upper { "[MDCLXVI]+" } else { "[mdclxvi]+" }).to_string(),
            Primary::Words => {
                let mut words: Vec<String> = vec!["and".into()];
                for w in FEW.iter().chain(ORDINALS.iter()).chain(MAGNITUDES.iter()) {
                    words.push(w.to_lowercase());
                }
                for w in MAGNITUDES.iter() {
                    words.push(format!("{}th", w.to_lowercase()));
                }
                for w in DECADES.iter() {
                    let l = w.to_lowercase();
                    words.push(format!("{}ieth", &l[..l.len() - 1]));
                    words.push(l);
                }
                words.push("hundredth".into());
                words.sort_by_key(|w| std::cmp::Reverse(w.len()));
                format!("(?:{}|[ ,\\-])+", words.join("|"))
            }
            Primary::Decimal => {
                let mut r = format!("[0-9]{occurrences}");
                if self.ordinal {
                    r.push_str("(?:th|st|nd|rd)");
                }
                r
            }
            Primary::Sequence(tok) => {
                return Err(Err::new("D3130").val(Value::String(tok.clone())));
            }
        })
    }
}

const DECIMAL_GROUPS: &[u32] = &[
    0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10,
];

fn regular_repeat(seps: &[(usize, char)]) -> usize {
    if seps.is_empty() {
        return 0;
    }
    if seps.iter().any(|s| s.1 != seps[0].1) {
        return 0;
    }
    let idx: Vec<usize> = seps.iter().map(|s| s.0).collect();
    regular(&idx)
}

/// Analyses an integer picture such as `#,##0`, `w`, `I`, `01;o`.
pub(crate) fn analyse_integer_picture(picture: &str) -> R<IntFormat> {
    let mut f = IntFormat {
        primary: Primary::Decimal,
        case: Case::Lower,
        ordinal: false,
        zero: 0x30,
        mandatory: 0,
        optional: 0,
        regular: None,
        separators: Vec::new(),
    };
    let primary = match picture.rfind(';') {
        None => picture,
        Some(i) => {
            if picture[i + 1..].starts_with('o') {
                f.ordinal = true;
            }
            &picture[..i]
        }
    };
    match primary {
        "A" => {
            f.case = Case::Upper;
            f.primary = Primary::Letters;
        }
        "a" => f.primary = Primary::Letters,
        "I" => {
            f.case = Case::Upper;
            f.primary = Primary::Roman;
        }
        "i" => f.primary = Primary::Roman,
        "W" => {
            f.case = Case::Upper;
            f.primary = Primary::Words;
        }
        "Ww" => {
            f.case = Case::Title;
            f.primary = Primary::Words;
        }
        "w" => f.primary = Primary::Words,
        _ => {
            let mut zero: Option<u32> = None;
            let mut mandatory = 0;
            let mut seps = Vec::new();
            let mut sep_pos = 0;
            for c in primary.chars().rev() {
                let cp = c as u32;
                let mut digit = false;
                for &g in DECIMAL_GROUPS {
                    if cp >= g && cp <= g + 9 {
                        digit = true;
                        mandatory += 1;
                        sep_pos += 1;
                        match zero {
                            None => zero = Some(g),
                            Some(z) if z != g => return Err(Err::new("D3131")),
                            _ => {}
                        }
                        break;
                    }
                }
                if !digit {
                    if c == '#' {
                        sep_pos += 1;
                        f.optional += 1;
                    } else {
                        seps.push((sep_pos, c));
                    }
                }
            }
            if mandatory > 0 {
                f.zero = zero.unwrap_or(0x30);
                f.mandatory = mandatory;
                let r = regular_repeat(&seps);
                if r > 0 {
                    f.regular = Some((r, seps[0].1));
                } else {
                    f.separators = seps;
                }
            } else {
                f.primary = Primary::Sequence(primary.to_string());
            }
        }
    }
    Ok(f)
}

const FEW: [&str; 20] = [
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
];
const ORDINALS: [&str; 20] = [
    "Zeroth",
    "First",
    "Second",
    "Third",
    "Fourth",
    "Fifth",
    "Sixth",
    "Seventh",
    "Eighth",
    "Ninth",
    "Tenth",
    "Eleventh",
    "Twelfth",
    "Thirteenth",
    "Fourteenth",
    "Fifteenth",
    "Sixteenth",
    "Seventeenth",
    "Eighteenth",
    "Nineteenth",
];
const DECADES: [&str; 9] = [
    "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred",
];
const MAGNITUDES: [&str; 4] = ["Thousand", "Million", "Billion", "Trillion"];

fn words_lookup(num: f64, prev: bool, ord: bool) -> String {
    let mut words;
    if num <= 19.0 {
        let n = num as usize;
        words = format!(
            "{}{}",
            if prev { " and " } else { "" },
            if ord { ORDINALS[n] } else { FEW[n] }
        );
    } else if num < 100.0 {
        let tens = (num / 10.0).floor() as usize;
        let rem = num % 10.0;
        words = format!("{}{}", if prev { " and " } else { "" }, DECADES[tens - 2]);
        if rem > 0.0 {
            words.push('-');
            words.push_str(&words_lookup(rem, false, ord));
        } else if ord {
            words.pop();
            words.push_str("ieth");
        }
    } else if num < 1000.0 {
        let hundreds = (num / 100.0).floor() as usize;
        let rem = num % 100.0;
        words = format!("{}{} Hundred", if prev { ", " } else { "" }, FEW[hundreds]);
        if rem > 0.0 {
            words.push_str(&words_lookup(rem, true, ord));
        } else if ord {
            words.push_str("th");
        }
    } else {
        let mut mag = (num.log10() / 3.0).floor() as usize;
        if mag > MAGNITUDES.len() {
            mag = MAGNITUDES.len();
        }
        let factor = 10f64.powi(mag as i32 * 3);
        let mant = (num / factor).floor();
        let rem = num - mant * factor;
        words = format!(
            "{}{} {}",
            if prev { ", " } else { "" },
            words_lookup(mant, false, false),
            MAGNITUDES[mag - 1]
        );
        if rem > 0.0 {
            words.push_str(&words_lookup(rem, true, ord));
        } else if ord {
            words.push_str("th");
        }
    }
    words
}

fn to_letters(mut v: f64, a: char) -> String {
    let mut out = Vec::new();
    while v > 0.0 {
        let d = ((v - 1.0) % 26.0) as u32;
        out.push(char::from_u32(a as u32 + d).unwrap_or('?'));
        v = ((v - 1.0) / 26.0).floor();
    }
    out.reverse();
    out.into_iter().collect()
}

fn to_roman(mut v: f64) -> String {
    const R: [(f64, &str); 13] = [
        (1000.0, "m"),
        (900.0, "cm"),
        (500.0, "d"),
        (400.0, "cd"),
        (100.0, "c"),
        (90.0, "xc"),
        (50.0, "l"),
        (40.0, "xl"),
        (10.0, "x"),
        (9.0, "ix"),
        (5.0, "v"),
        (4.0, "iv"),
        (1.0, "i"),
    ];
    let mut out = String::new();
    for (n, s) in R {
        while v >= n {
            out.push_str(s);
            v -= n;
        }
    }
    out
}

/// Formats an integer with an analysed picture.
pub(crate) fn format_integer(value: f64, f: &IntFormat) -> R<String> {
    let neg = value < 0.0;
    let value = value.abs();
    let mut s = match &f.primary {
        Primary::Letters => to_letters(value, if f.case == Case::Upper { 'A' } else { 'a' }),
        Primary::Roman => {
            let r = to_roman(value);
            if f.case == Case::Upper {
                r.to_uppercase()
            } else {
                r
            }
        }
        Primary::Words => {
            let w = words_lookup(value, false, f.ordinal);
            match f.case {
                Case::Upper => w.to_uppercase(),
                Case::Lower => w.to_lowercase(),
                Case::Title => w,
            }
        }
        Primary::Decimal => {
            let mut s = format!("{value:.0}");
            if s.len() < f.mandatory {
                s = format!("{}{}", "0".repeat(f.mandatory - s.len()), s);
            }
            let mut chars: Vec<char> = s
                .chars()
                .map(|c| char::from_u32(c as u32 + f.zero - 0x30).unwrap_or(c))
                .collect();
            if let Some((pos, ch)) = f.regular {
                let n = (chars.len() - 1) / pos;
                for ii in (1..=n).rev() {
                    let at = chars.len() - ii * pos;
                    chars.insert(at, ch);
                }
            } else {
                for &(pos, ch) in f.separators.iter().rev() {
                    if pos <= chars.len() {
                        let at = chars.len() - pos;
                        chars.insert(at, ch);
                    }
                }
            }
            let mut s: String = chars.into_iter().collect();
            if f.ordinal {
                let b: Vec<char> = s.chars().collect();
                let last = b.last().copied();
                let mut suffix = match last {
                    Some('1') => "st",
                    Some('2') => "nd",
                    Some('3') => "rd",
                    _ => "th",
                };
                if b.len() > 1 && b[b.len() - 2] == '1' {
                    suffix = "th";
                }
                s.push_str(suffix);
            }
            s
        }
        Primary::Sequence(tok) => {
            return Err(Err::new("D3130").val(Value::String(tok.clone())));
        }
    };
    if neg {
        s.insert(0, '-');
    }
    Ok(s)
}

pub(crate) fn f_format_integer<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(Val::Num(v)) = arg(args, 0) else {
        return Ok(None);
    };
    let pic = arg(args, 1).and_then(|p| p.as_str()).unwrap_or("0");
    let f = analyse_integer_picture(pic)?;
    Ok(Some(Val::string(format_integer(v.floor(), &f)?)))
}

fn word_value(w: &str) -> Option<f64> {
    for (i, x) in FEW.iter().enumerate() {
        if x.to_lowercase() == w {
            return Some(i as f64);
        }
    }
    for (i, x) in ORDINALS.iter().enumerate() {
        if x.to_lowercase() == w {
            return Some(i as f64);
        }
    }
    for (i, x) in DECADES.iter().enumerate() {
        let l = x.to_lowercase();
        let v = (i as f64 + 2.0) * 10.0;
        if l == w || format!("{}ieth", &l[..l.len() - 1]) == w {
            return Some(v);
        }
    }
    if w == "hundredth" {
        return Some(100.0);
    }
    for (i, x) in MAGNITUDES.iter().enumerate() {
        let l = x.to_lowercase();
        let v = 10f64.powi((i as i32 + 1) * 3);
        if l == w || format!("{l}th") == w {
            return Some(v);
        }
    }
    None
}

fn words_to_number(text: &str) -> f64 {
    let t = text.replace(", ", " ").replace(" and ", " ");
    let mut segs: Vec<f64> = vec![0.0];
    for part in t.split([' ', '-']).filter(|p| !p.is_empty()) {
        let Some(v) = word_value(part) else {
            return f64::NAN;
        };
        if v < 100.0 {
            let mut top = segs.pop().unwrap_or(0.0);
            if top >= 1000.0 {
                segs.push(top);
                top = 0.0;
            }
            segs.push(top + v);
        } else {
            let top = segs.pop().unwrap_or(0.0);
            segs.push(top * v);
        }
    }
    segs.iter().sum()
}

/// Parses an integer formatted with an analysed picture; `None` when it does not parse.
pub(crate) fn parse_integer_with(value: &str, f: &IntFormat) -> R<Option<f64>> {
    Ok(match &f.primary {
        Primary::Letters => {
            let a = if f.case == Case::Upper { 'A' } else { 'a' };
            let mut d = 0.0;
            for (i, c) in value.chars().rev().enumerate() {
                d += (c as i64 - a as i64 + 1) as f64 * 26f64.powi(i as i32);
            }
            Some(d)
        }
        Primary::Roman => {
            let mut dec = 0.0;
            let mut max = 1.0;
            for c in value.to_uppercase().chars().rev() {
                let v = match c {
                    'M' => 1000.0,
                    'D' => 500.0,
                    'C' => 100.0,
                    'L' => 50.0,
                    'X' => 10.0,
                    'V' => 5.0,
                    'I' => 1.0,
                    _ => return Ok(None),
                };
                if v < max {
                    dec -= v;
                } else {
                    max = v;
                    dec += v;
                }
            }
            Some(dec)
        }
        Primary::Words => {
            let n = words_to_number(&value.to_lowercase());
            if n.is_nan() {
                None
            } else {
                Some(n)
            }
        }
        Primary::Decimal => {
            let mut digits: String = value.to_string();
            if f.ordinal {
                let n = digits.chars().count();
                digits = digits.chars().take(n.saturating_sub(2)).collect();
            }
            if let Some((_, ch)) = f.regular {
                digits = digits.replace(ch, "");
            } else {
                for (_, ch) in &f.separators {
                    digits = digits.replace(*ch, "");
                }
            }
            let digits: String = digits
                .chars()
                .map(|c| char::from_u32((c as u32).wrapping_sub(f.zero) + 0x30).unwrap_or(c))
                .collect();
            let lead: String = digits
                .chars()
                .enumerate()
                .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '-'))
                .map(|(_, c)| c)
                .collect();
            lead.parse::<f64>().ok()
        }
        Primary::Sequence(tok) => {
            return Err(Err::new("D3130").val(Value::String(tok.clone())));
        }
    })
}

pub(crate) fn f_parse_integer<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(Val::Str(v)) = arg(args, 0) else {
        return Ok(None);
    };
    let pic = arg(args, 1).and_then(|p| p.as_str()).unwrap_or("0");
    let f = analyse_integer_picture(pic)?;
    Ok(parse_integer_with(v, &f)?.map(Val::Num))
}
