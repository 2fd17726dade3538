//! Test support shared by Stepwright's crates.
//!
//! - [`conformance_dir`] finds `../shared/conformance` (the corpora recorded against AWS and other
//!   tools), read in place and never copied.
//! - [`json_eq`] compares JSON values the way AWS outputs are compared: numbers by value
//!   (`1` equals `1.0`), objects regardless of key order.
//! - [`Tally`] counts passes per area and prints them, so test output carries the pass rates.
//! - [`read_http_request`] reads one HTTP/1.1 request, for tests that stand up a tiny server.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Reads one HTTP/1.1 request from `reader`: its request line (with the line break) and its
/// body (`Content-Length` bytes). Panics on I/O errors or a malformed length: it is for tests.
pub fn read_http_request(reader: &mut impl std::io::BufRead) -> (String, Vec<u8>) {
    let mut request_line = String::new();
    reader.read_line(&mut request_line).expect("request line");
    let mut len = 0usize;
    loop {
        let mut l = String::new();
        reader.read_line(&mut l).expect("header line");
        if l.trim().is_empty() {
            break;
        }
        if let Some(v) = l.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().expect("Content-Length");
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).expect("request body");
    (request_line, body)
}

/// The conformance corpora directory.
///
/// `STEPWRIGHT_CONFORMANCE` overrides; otherwise the first `shared/conformance` found beside the
/// workspace root or one of its ancestors (`../shared/conformance` from the project root).
///
/// # Panics
/// When it cannot be found: the conformance tests must not pass vacuously.
pub fn conformance_dir() -> PathBuf {
    if let Ok(p) = std::env::var("STEPWRIGHT_CONFORMANCE") {
        return PathBuf::from(p);
    }
    let root = workspace_root();
    for dir in root.ancestors() {
        let c = dir.join("shared").join("conformance");
        if c.join("README.md").exists() {
            return c;
        }
        let c = dir.join("..").join("shared").join("conformance");
        if c.join("README.md").exists() {
            return c;
        }
    }
    panic!(
        "conformance corpora not found: expected ../shared/conformance beside {} (set STEPWRIGHT_CONFORMANCE to its path)",
        root.display()
    );
}

/// The workspace root (the directory holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/testkit is two levels below the workspace root")
        .to_path_buf()
}

/// Reads and parses a JSON file, panicking with the path on failure.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Every `*.json` file under `dir`, recursively, sorted by path.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    fn go(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                go(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    go(dir, &mut out);
    out.sort();
    out
}

/// JSON equality as AWS outputs are compared: numbers by numeric value, objects as maps.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return x == y;
            }
            if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                return x == y;
            }
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y || ((x - y).abs() <= 1e-12 * x.abs().max(y.abs())),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Pass counts per area, printed as a table. The table goes straight to stderr, past the test
/// harness's output capture, so that `make test` and CI logs show every pass rate (not only
/// with `--nocapture` or on failure).
#[derive(Default)]
pub struct Tally {
    areas: BTreeMap<String, (usize, usize)>,
    failures: Vec<String>,
}

impl Tally {
    /// A new, empty tally.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one case of `area`.
    pub fn record(&mut self, area: &str, passed: bool) {
        let e = self.areas.entry(area.to_string()).or_default();
        e.1 += 1;
        if passed {
            e.0 += 1;
        }
    }

    /// Records a failure description (kept for the report).
    pub fn fail(&mut self, area: &str, what: impl Into<String>) {
        self.record(area, false);
        self.failures.push(what.into());
    }

    /// Total passed and total cases.
    pub fn totals(&self) -> (usize, usize) {
        self.areas
            .values()
            .fold((0, 0), |(p, t), (a, b)| (p + a, t + b))
    }

    /// The failure descriptions recorded.
    pub fn failures(&self) -> &[String] {
        &self.failures
    }

    /// Prints the table under a title (to stderr, uncaptured) and returns it.
    pub fn report(&self, title: &str) -> String {
        let mut s = format!("== {title} ==\n");
        for (area, (p, t)) in &self.areas {
            s.push_str(&format!("  {area:<40} {p:>5}/{t:<5}\n"));
        }
        let (p, t) = self.totals();
        s.push_str(&format!("  {:<40} {p:>5}/{t:<5}\n", "TOTAL"));
        // (`eprintln!` would be captured by libtest; one locked write keeps the table together
        // when tests run in parallel)
        use std::io::Write;
        let _ = std::io::stderr()
            .lock()
            .write_all(format!("{s}\n").as_bytes());
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value() {
        assert!(json_eq(&json!(1), &json!(1.0)));
        assert!(!json_eq(&json!(1), &json!(2)));
        assert!(json_eq(
            &json!({"a": [1, {"b": 2.5}]}),
            &json!({"a": [1.0, {"b": 2.5}]})
        ));
        assert!(!json_eq(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(!json_eq(&json!("1"), &json!(1)));
    }

    #[test]
    fn finds_the_corpora() {
        assert!(conformance_dir().join("localstack").is_dir());
    }
}
