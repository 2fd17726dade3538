//! Distributed Map data: where `ItemReader` reads items and `ResultWriter` writes results.
//!
//! The runner talks to storage through the [`ObjectStore`] trait, S3-shaped (bucket, key), so the
//! CLI can plug S3 in behind a cargo feature while this crate stays free of the AWS SDK.
//! [`LocalDirStore`] maps bucket `b`, key `k` to the file `<root>/b/k`.

use std::path::{Component, Path, PathBuf};

use serde_json::{json, Map, Value};

/// An error from an object store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    /// An S3-style error name, e.g. `S3.NoSuchKey`.
    pub error: String,
    /// What happened.
    pub message: String,
}

impl StoreError {
    /// A store error.
    pub fn new(error: impl Into<String>, message: impl Into<String>) -> StoreError {
        StoreError {
            error: error.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

impl std::error::Error for StoreError {}

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// An entity tag.
    pub etag: String,
    /// Last modification, ISO 8601.
    pub last_modified: String,
}

/// S3-shaped storage for ItemReader and ResultWriter.
pub trait ObjectStore: Send + Sync {
    /// The bytes of an object.
    fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, StoreError>;
    /// The objects whose key starts with `prefix`, sorted by key.
    fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError>;
    /// Writes an object.
    fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> Result<(), StoreError>;
}

/// A directory standing in for S3: bucket `b`, key `k` ↔ `<root>/b/k`.
///
/// ```
/// use stepwright_local::items::{LocalDirStore, ObjectStore};
/// let dir = std::env::temp_dir().join(format!("sw-doc-{}", std::process::id()));
/// let store = LocalDirStore::new(&dir);
/// store.put_object("bucket", "in/a.json", b"[1,2]").unwrap();
/// assert_eq!(store.get_object("bucket", "in/a.json").unwrap(), b"[1,2]");
/// assert_eq!(store.list_objects("bucket", "in/").unwrap()[0].key, "in/a.json");
/// assert!(store.get_object("bucket", "../escape").is_err());
/// # std::fs::remove_dir_all(&dir).ok();
/// ```
#[derive(Debug, Clone)]
pub struct LocalDirStore {
    root: PathBuf,
}

impl LocalDirStore {
    /// A store rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> LocalDirStore {
        LocalDirStore { root: root.into() }
    }

    fn path(&self, bucket: &str, key: &str) -> Result<PathBuf, StoreError> {
        let check = |part: &str, what: &str| -> Result<(), StoreError> {
            let ok = !part.is_empty()
                && Path::new(part)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)));
            if ok {
                Ok(())
            } else {
                Err(StoreError::new(
                    "S3.InvalidRequest",
                    format!("invalid {what} '{part}' for a local object store"),
                ))
            }
        };
        check(bucket, "bucket")?;
        check(key, "key")?;
        Ok(self.root.join(bucket).join(key))
    }
}

fn etag(bytes: &[u8]) -> String {
    // FNV-1a: a stable tag for the content (not an MD5, but deterministic).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x1000_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

impl ObjectStore for LocalDirStore {
    fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, StoreError> {
        let p = self.path(bucket, key)?;
        std::fs::read(&p).map_err(|e| {
            StoreError::new(
                if e.kind() == std::io::ErrorKind::NotFound {
                    "S3.NoSuchKey"
                } else {
                    "S3.InternalError"
                },
                format!("cannot read s3://{bucket}/{key} ({}): {e}", p.display()),
            )
        })
    }

    fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        let base = self.path(bucket, "x")?;
        let base = base.parent().map(Path::to_path_buf).unwrap_or_default();
        if !base.is_dir() {
            return Err(StoreError::new(
                "S3.NoSuchBucket",
                format!("no bucket directory {}", base.display()),
            ));
        }
        let mut out = Vec::new();
        let mut stack = vec![base.clone()];
        while let Some(dir) = stack.pop() {
            let rd = std::fs::read_dir(&dir)
                .map_err(|e| StoreError::new("S3.InternalError", e.to_string()))?;
            for entry in rd.flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let Ok(rel) = p.strip_prefix(&base) else {
                    continue;
                };
                let key = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                if !key.starts_with(prefix) {
                    continue;
                }
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.push(ObjectInfo {
                    size: bytes.len() as u64,
                    etag: etag(&bytes),
                    last_modified: "2024-01-01T00:00:00.000Z".into(),
                    key,
                });
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> Result<(), StoreError> {
        let p = self.path(bucket, key)?;
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::new("S3.InternalError", e.to_string()))?;
        }
        std::fs::write(&p, body).map_err(|e| StoreError::new("S3.InternalError", e.to_string()))
    }
}

/// How to parse an object read by `ItemReader` (from `ReaderConfig`).
#[derive(Debug, Clone, Default)]
pub struct ReaderOptions {
    /// `CSV`, `JSON`, `JSONL` or `MANIFEST` (default JSON).
    pub input_type: Option<String>,
    /// `FIRST_ROW` (default) or `GIVEN`.
    pub csv_header_location: Option<String>,
    /// Column names for `GIVEN`.
    pub csv_headers: Option<Vec<String>>,
    /// `COMMA` (default), `PIPE`, `SEMICOLON`, `SPACE` or `TAB`.
    pub csv_delimiter: Option<String>,
}

fn delimiter(name: Option<&str>) -> Result<u8, String> {
    Ok(match name.unwrap_or("COMMA") {
        "COMMA" => b',',
        "PIPE" => b'|',
        "SEMICOLON" => b';',
        "SPACE" => b' ',
        "TAB" => b'\t',
        other => return Err(format!("unknown CSVDelimiter '{other}'")),
    })
}

/// Parses an object's bytes into items as Step Functions does for each `InputType`. Manifest
/// data files are fetched through `store` from `bucket`.
pub fn parse_items(
    bytes: &[u8],
    opts: &ReaderOptions,
    store: &dyn ObjectStore,
) -> Result<Vec<Value>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("the object is not UTF-8: {e}"))?;
    match opts.input_type.as_deref().unwrap_or("JSON") {
        "JSON" => match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(a)) => Ok(a),
            Ok(other) => Err(format!(
                "a JSON item file must hold an array, found {}",
                crate::jx::type_name(&other)
            )),
            Err(e) => Err(format!("the object is not valid JSON: {e}")),
        },
        "JSONL" => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .map_err(|e| format!("line {} is not valid JSON: {e}", i + 1))
            })
            .collect(),
        "CSV" => parse_csv(bytes, opts),
        "MANIFEST" => parse_manifest(text, store),
        other => Err(format!(
            "unsupported InputType '{other}' (CSV, JSON, JSONL, MANIFEST)"
        )),
    }
}

fn parse_csv(bytes: &[u8], opts: &ReaderOptions) -> Result<Vec<Value>, String> {
    let given = opts.csv_header_location.as_deref() == Some("GIVEN");
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter(opts.csv_delimiter.as_deref())?)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = rdr.records();
    let headers: Vec<String> = if given {
        opts.csv_headers
            .clone()
            .ok_or("CSVHeaderLocation GIVEN needs CSVHeaders")?
    } else {
        match rows.next() {
            Some(r) => r
                .map_err(|e| format!("bad CSV header: {e}"))?
                .iter()
                .map(str::to_string)
                .collect(),
            None => return Ok(Vec::new()),
        }
    };
    let mut out = Vec::new();
    for (i, r) in rows.enumerate() {
        let r = r.map_err(|e| format!("bad CSV row {}: {e}", i + 1))?;
        if r.len() != headers.len() {
            return Err(format!(
                "CSV row {} has {} fields but there are {} headers",
                i + 1,
                r.len(),
                headers.len()
            ));
        }
        let mut m = Map::new();
        for (h, v) in headers.iter().zip(r.iter()) {
            m.insert(h.clone(), Value::String(v.to_string()));
        }
        out.push(Value::Object(m));
    }
    Ok(out)
}

/// An S3 Inventory `manifest.json`: lists CSV data files (bucket, key, ...) whose rows become
/// `{"Bucket": ..., "Key": ...}` items.
fn parse_manifest(text: &str, store: &dyn ObjectStore) -> Result<Vec<Value>, String> {
    let m: Value = serde_json::from_str(text).map_err(|e| format!("bad manifest: {e}"))?;
    let bucket = m["destinationBucket"]
        .as_str()
        .map(|b| b.rsplit(':').next().unwrap_or(b).to_string())
        .ok_or("the manifest has no destinationBucket")?;
    let schema: Vec<String> = m["fileSchema"]
        .as_str()
        .unwrap_or("Bucket, Key")
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let files = m["files"].as_array().ok_or("the manifest has no files")?;
    let mut out = Vec::new();
    for f in files {
        let key = f["key"]
            .as_str()
            .ok_or("a manifest file entry has no key")?;
        let data = store.get_object(&bucket, key).map_err(|e| e.to_string())?;
        let opts = ReaderOptions {
            input_type: Some("CSV".into()),
            csv_header_location: Some("GIVEN".into()),
            csv_headers: Some(schema.clone()),
            csv_delimiter: None,
        };
        out.extend(parse_csv(&data, &opts)?);
    }
    Ok(out)
}

/// Items for `s3:listObjectsV2`.
pub fn listing_items(objects: &[ObjectInfo]) -> Vec<Value> {
    objects
        .iter()
        .map(|o| {
            json!({
                "Etag": o.etag,
                "Key": o.key,
                "LastModified": o.last_modified,
                "Size": o.size,
                "StorageClass": "STANDARD"
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoStore;
    impl ObjectStore for NoStore {
        fn get_object(&self, b: &str, k: &str) -> Result<Vec<u8>, StoreError> {
            if k == "data/part-0.csv" && b == "inv" {
                return Ok(b"inv,a.txt\ninv,b.txt\n".to_vec());
            }
            Err(StoreError::new("S3.NoSuchKey", k))
        }
        fn list_objects(&self, _: &str, _: &str) -> Result<Vec<ObjectInfo>, StoreError> {
            Ok(Vec::new())
        }
        fn put_object(&self, _: &str, _: &str, _: &[u8]) -> Result<(), StoreError> {
            Ok(())
        }
    }

    fn opts(t: &str) -> ReaderOptions {
        ReaderOptions {
            input_type: Some(t.into()),
            ..Default::default()
        }
    }

    #[test]
    fn reads_each_input_type() {
        assert_eq!(
            parse_items(b"[1,{\"a\":2}]", &opts("JSON"), &NoStore).unwrap(),
            vec![json!(1), json!({"a": 2})]
        );
        assert!(parse_items(b"{}", &opts("JSON"), &NoStore).is_err());
        assert_eq!(
            parse_items(b"{\"a\":1}\n\n{\"a\":2}\n", &opts("JSONL"), &NoStore).unwrap(),
            vec![json!({"a": 1}), json!({"a": 2})]
        );
        assert_eq!(
            parse_items(b"id,name\n1,\"x, y\"\n2,z\n", &opts("CSV"), &NoStore).unwrap(),
            vec![
                json!({"id": "1", "name": "x, y"}),
                json!({"id": "2", "name": "z"})
            ]
        );
        let given = ReaderOptions {
            input_type: Some("CSV".into()),
            csv_header_location: Some("GIVEN".into()),
            csv_headers: Some(vec!["a".into(), "b".into()]),
            csv_delimiter: Some("PIPE".into()),
        };
        assert_eq!(
            parse_items(b"1|2\n", &given, &NoStore).unwrap(),
            vec![json!({"a": "1", "b": "2"})]
        );
        assert!(parse_items(b"a,b\n1\n", &opts("CSV"), &NoStore).is_err());
        let manifest = br#"{"destinationBucket":"arn:aws:s3:::inv","fileSchema":"Bucket, Key","files":[{"key":"data/part-0.csv"}]}"#;
        assert_eq!(
            parse_items(manifest, &opts("MANIFEST"), &NoStore).unwrap(),
            vec![
                json!({"Bucket": "inv", "Key": "a.txt"}),
                json!({"Bucket": "inv", "Key": "b.txt"})
            ]
        );
        assert!(parse_items(b"x", &opts("PARQUET"), &NoStore).is_err());
    }
}
