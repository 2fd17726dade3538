//! The functions AWS Step Functions adds to JSONata: `$partition`, `$range`, `$hash`,
//! `$random([seed])`, `$uuid`, `$parse`.
//!
//! Errors these functions raise beyond signature mismatches (`T0410`) use codes in jsonata-js's
//! dynamic-error style that jsonata-js itself does not define:
//! `D3150` (`$partition` size), `D3151` (`$range` step), `D3152` (`$hash` algorithm),
//! `D3153` (`$parse` input).

use md5::Md5;
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::error::{Err, ErrExt};
use crate::eval::{Ev, Res};
use crate::functions::arg;
use crate::value::{Env, Val};

/// splitmix64: a small, well-distributed generator for `$random`/`$uuid`/`$shuffle`.
pub(crate) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// The next number in [0, 1) from the evaluation's generator.
pub(crate) fn next_random(ev: &Ev) -> f64 {
    let mut s = ev.rng.get();
    let r = splitmix(&mut s);
    ev.rng.set(s);
    unit(r)
}

fn err(code: &'static str, msg: impl Into<String>) -> Box<Err> {
    Err::new(code).extra(msg)
}

pub(crate) fn f_random<'a>(
    ev: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    match arg(args, 0) {
        Some(Val::Num(seed)) => {
            let mut s = seed.to_bits();
            Ok(Some(Val::Num(unit(splitmix(&mut s)))))
        }
        _ => Ok(Some(Val::Num(next_random(ev)))),
    }
}

pub(crate) fn f_uuid<'a>(
    ev: &Ev<'a>,
    _: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let mut s = ev.rng.get();
    let hi = splitmix(&mut s);
    let lo = splitmix(&mut s);
    ev.rng.set(s);
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&hi.to_be_bytes());
    b[8..].copy_from_slice(&lo.to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(Some(Val::string(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))))
}

pub(crate) fn f_partition<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let size = match arg(args, 1) {
        Some(Val::Num(n)) => *n,
        _ => return Ok(None),
    };
    if size.fract() != 0.0 || size < 1.0 {
        return Err(err(
            "D3150",
            format!(
                "The chunk size argument of $partition must be a positive integer, but was {}",
                crate::value::js_num(size)
            ),
        ));
    }
    let items = a.items();
    let chunks = items
        .chunks(size as usize)
        .map(|c| Val::arr(c.to_vec()))
        .collect();
    Ok(Some(Val::arr(chunks)))
}

pub(crate) fn f_range<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let (Some(Val::Num(start)), Some(Val::Num(end))) = (arg(args, 0), arg(args, 1)) else {
        return Ok(None);
    };
    let step = match arg(args, 2) {
        Some(Val::Num(s)) => *s,
        _ => 1.0,
    };
    if step == 0.0 || !step.is_finite() {
        return Err(err(
            "D3151",
            "The step argument of $range must be a non-zero number",
        ));
    }
    let count = ((end - start) / step).floor();
    if count < 0.0 {
        return Ok(Some(Val::seq(vec![])));
    }
    if count >= 1e7 {
        return Err(Err::new("D2014").val(crate::value::num_to_json(count + 1.0)));
    }
    let out = (0..=count as i64)
        .map(|i| Val::Num(start + step * i as f64))
        .collect();
    Ok(Some(Val::seq(out)))
}

pub(crate) fn f_hash<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(Val::Str(data)) = arg(args, 0) else {
        return Ok(None);
    };
    let alg = match arg(args, 1) {
        Some(Val::Str(a)) => a.to_string(),
        _ => "SHA-256".to_string(),
    };
    let bytes = data.as_bytes();
    let digest: Vec<u8> = match alg.as_str() {
        "MD5" => Md5::digest(bytes).to_vec(),
        "SHA-1" => Sha1::digest(bytes).to_vec(),
        "SHA-256" => Sha256::digest(bytes).to_vec(),
        "SHA-384" => Sha384::digest(bytes).to_vec(),
        "SHA-512" => Sha512::digest(bytes).to_vec(),
        other => {
            return Err(err(
                "D3152",
                format!(
                    "The hash algorithm {} is not supported; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512",
                    crate::value::json_string(&Value::String(other.to_string()))
                ),
            ))
        }
    };
    Ok(Some(Val::string(
        digest.iter().map(|b| format!("{b:02x}")).collect(),
    )))
}

pub(crate) fn f_parse<'a>(
    _: &Ev<'a>,
    args: &[Option<Val<'a>>],
    _: Option<&Val<'a>>,
    _: &Env<'a>,
) -> Res<'a> {
    let Some(Val::Str(s)) = arg(args, 0) else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(s) {
        Ok(v) => Ok(Some(Val::from_json(&v))),
        Err(e) => Err(err(
            "D3153",
            format!("The argument of $parse is not valid JSON: {e}"),
        )),
    }
}
