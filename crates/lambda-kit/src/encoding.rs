//! Small text encodings the Lambdas need at their edges: `application/x-www-form-urlencoded`
//! (S3 event keys, function URL forms and query strings) and base64 (function URL bodies).

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space and `%XX` a byte; the bytes
/// must form UTF-8. S3 event notifications encode object keys this way.
///
/// ```
/// use lambda_kit::encoding::form_decode;
/// assert_eq!(form_decode("data/my+file%C3%A9.csv").unwrap(), "data/my fileé.csv");
/// assert!(form_decode("bad%2").is_err());
/// ```
pub fn form_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                match byte {
                    Some(b) => out.push(b),
                    None => return Err(format!("bad percent escape at byte {i} of `{s}`")),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("`{s}` does not decode to UTF-8"))
}

/// Encodes text for a URL query component: unreserved characters (`A-Z a-z 0-9 - . _ ~`) stay,
/// every other byte becomes `%XX`.
///
/// ```
/// use lambda_kit::encoding::{form_decode, query_encode};
/// assert_eq!(query_encode("a b/c=d"), "a%20b%2Fc%3Dd");
/// assert_eq!(form_decode(&query_encode("x+y é")).unwrap(), "x+y é");
/// ```
pub fn query_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parses `a=1&b=2` (form or query string) into decoded pairs, in order.
///
/// ```
/// use lambda_kit::encoding::parse_form;
/// let pairs = parse_form("decision=approve&note=looks+good&empty=").unwrap();
/// assert_eq!(pairs[1], ("note".to_string(), "looks good".to_string()));
/// assert_eq!(pairs[2].1, "");
/// ```
pub fn parse_form(s: &str) -> Result<Vec<(String, String)>, String> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((form_decode(k)?, form_decode(v)?))
        })
        .collect()
}

/// Decodes standard base64 (with or without `=` padding; whitespace ignored).
///
/// ```
/// use lambda_kit::encoding::base64_decode;
/// assert_eq!(base64_decode("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
/// assert!(base64_decode("a*b").is_err());
/// ```
pub fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    }
    let clean: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let data = clean
        .strip_suffix(b"==")
        .or_else(|| clean.strip_suffix(b"="))
        .unwrap_or(&clean);
    if data.len() % 4 == 1 {
        return Err("base64 text has an impossible length".into());
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    for chunk in data.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = value(c).ok_or_else(|| format!("invalid base64 character `{}`", c as char))?;
            acc |= v << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Ok(out)
}

/// Encodes bytes as URL-safe base64 without padding (RFC 4648 §5).
///
/// ```
/// use lambda_kit::encoding::{base64_decode, base64url_encode};
/// let text = base64url_encode(b"\xfb\xff token");
/// assert!(!text.contains('+') && !text.contains('/') && !text.contains('='));
/// assert_eq!(base64_decode(&text).unwrap(), b"\xfb\xff token");
/// ```
pub fn base64url_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let mut buf = [0u8; 3];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_length() {
        for len in 0..40 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(
                base64_decode(&base64url_encode(&data)).unwrap(),
                data,
                "len {len}"
            );
        }
        assert_eq!(base64_decode("TWFu").unwrap(), b"Man");
        assert_eq!(base64_decode("TWE=").unwrap(), b"Ma");
        assert_eq!(base64_decode("TQ==").unwrap(), b"M");
        assert!(base64_decode("TWFuT").is_err());
    }

    #[test]
    fn form_decoding_rejects_bad_input() {
        assert!(form_decode("%zz").is_err());
        assert!(form_decode("%ff").is_err(), "lone 0xff is not UTF-8");
        assert_eq!(form_decode("a%2Bb").unwrap(), "a+b");
    }
}
