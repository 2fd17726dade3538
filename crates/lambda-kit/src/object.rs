//! Object IO over S3 and local files through one interface.
//!
//! * [`ObjectUrl`] names an object: `s3://bucket/key`, `file:///abs/path` or a plain path.
//! * [`ObjectStore`] opens streaming readers ([`ObjectReader`], an `AsyncBufRead`) and atomic
//!   writers ([`ObjectWriter`]): the output object is either complete or absent. On S3 a small
//!   object is one `PutObject` at [`ObjectWriter::finish`]; a larger one is a multipart upload
//!   completed only at `finish` and aborted on error or when the writer is dropped unfinished.
//!   Locally the writer fills a temporary file beside the destination and renames it at `finish`.
//! * [`BlockingStore`] gives the same objects as `std::io::Read` / `std::io::Write` for
//!   synchronous engines (CSV parsers, ...) running under `tokio::task::spawn_blocking`. Local
//!   files are read and written directly with `std::fs`; S3 bodies are bridged to the async
//!   client.
//!
//! Every error names the object (`s3://bucket/key` or the path).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use tokio::io::{AsyncBufRead, AsyncRead, AsyncWriteExt, ReadBuf};

/// The default multipart part size: 8 MiB (S3's minimum is 5 MiB, except for the last part).
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;
/// S3's minimum part size for all parts but the last.
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

/// An error reading or writing an object. Every variant names the object.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// The URL is not `s3://bucket/key`, `file://...` or a path.
    #[error("invalid object URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The object (or its bucket) does not exist.
    #[error("object not found: {url}")]
    NotFound {
        /// The object.
        url: String,
    },
    /// S3 or the file system refused access.
    #[error("access denied: {url}: {message}")]
    AccessDenied {
        /// The object.
        url: String,
        /// The service's message.
        message: String,
    },
    /// An `s3://` URL was used with a store that has no S3 client.
    #[error("cannot access {url}: this object store has no S3 client")]
    NoS3 {
        /// The object.
        url: String,
    },
    /// The object is no longer the version an earlier read saw (see [`ObjectStore::open_pinned`]):
    /// it was overwritten or deleted and written again in between.
    #[error("{url} changed since it was first read: {message}")]
    Changed {
        /// The object.
        url: String,
        /// What differs.
        message: String,
    },
    /// Any other IO or service failure.
    #[error("{url}: {message}")]
    Io {
        /// The object.
        url: String,
        /// What failed.
        message: String,
    },
}

impl ObjectError {
    /// The object URL this error is about.
    pub fn url(&self) -> &str {
        match self {
            ObjectError::InvalidUrl { url, .. }
            | ObjectError::NotFound { url }
            | ObjectError::AccessDenied { url, .. }
            | ObjectError::NoS3 { url }
            | ObjectError::Changed { url, .. }
            | ObjectError::Io { url, .. } => url,
        }
    }

    /// A stable short name for the kind of failure, used as the suffix of Step Functions error
    /// names (see [`crate::LambdaError::from_object`]).
    pub fn kind_name(&self) -> &'static str {
        match self {
            ObjectError::InvalidUrl { .. } => "InvalidUrl",
            ObjectError::NotFound { .. } => "ObjectNotFound",
            ObjectError::AccessDenied { .. } => "AccessDenied",
            ObjectError::NoS3 { .. } => "NoS3Client",
            ObjectError::Changed { .. } => "ObjectChanged",
            ObjectError::Io { .. } => "ObjectIo",
        }
    }

    fn from_io(url: &ObjectUrl, err: &io::Error) -> Self {
        let url = url.to_string();
        match err.kind() {
            io::ErrorKind::NotFound => ObjectError::NotFound { url },
            io::ErrorKind::PermissionDenied => ObjectError::AccessDenied {
                url,
                message: err.to_string(),
            },
            _ => ObjectError::Io {
                url,
                message: err.to_string(),
            },
        }
    }

    fn from_sdk<E>(url: &ObjectUrl, op: &str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let url = url.to_string();
        let status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code().map(str::to_owned);
        let message = match (&code, err.message()) {
            (Some(c), Some(m)) => format!("{op}: {c}: {m}"),
            (Some(c), None) => format!("{op}: {c}"),
            _ => format!("{op}: {}", DisplayErrorChain(&err)),
        };
        match code.as_deref() {
            Some("NoSuchKey" | "NoSuchBucket" | "NotFound") => ObjectError::NotFound { url },
            Some("AccessDenied" | "Forbidden" | "InvalidAccessKeyId" | "SignatureDoesNotMatch") => {
                ObjectError::AccessDenied { url, message }
            }
            Some("PreconditionFailed") => ObjectError::Changed { url, message },
            _ if status == Some(412) => ObjectError::Changed { url, message },
            _ if status == Some(404) => ObjectError::NotFound { url },
            _ if status == Some(403) => ObjectError::AccessDenied { url, message },
            _ => ObjectError::Io { url, message },
        }
    }
}

/// Renders an error with its sources (`a: b: c`), since SDK errors put the cause in the chain.
struct DisplayErrorChain<'a>(&'a dyn std::error::Error);

impl fmt::Display for DisplayErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

/// Where an object lives: an S3 bucket and key, or a local path.
///
/// ```
/// use lambda_kit::ObjectUrl;
///
/// let s3: ObjectUrl = "s3://raw-data/2024/in.csv".parse().unwrap();
/// assert_eq!(s3, ObjectUrl::S3 { bucket: "raw-data".into(), key: "2024/in.csv".into() });
/// assert_eq!(s3.to_string(), "s3://raw-data/2024/in.csv");
///
/// let local: ObjectUrl = "file:///tmp/out.csv".parse().unwrap();
/// assert_eq!(local, ObjectUrl::Local("/tmp/out.csv".into()));
/// assert!("s3://bucket-only".parse::<ObjectUrl>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ObjectUrl {
    /// `s3://bucket/key`
    S3 {
        /// The bucket name.
        bucket: String,
        /// The object key (may contain `/`).
        key: String,
    },
    /// A local file.
    Local(PathBuf),
}

impl ObjectUrl {
    /// An S3 object URL.
    pub fn s3(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        ObjectUrl::S3 {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    /// Parses `s3://bucket/key`, `file:///path` or a plain local path.
    pub fn parse(url: &str) -> Result<Self, ObjectError> {
        let invalid = |reason: &str| ObjectError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.into(),
        };
        if url.is_empty() {
            return Err(invalid("the URL is empty"));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(invalid("missing bucket name (expected s3://bucket/key)"));
            }
            if !bucket
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
            {
                return Err(invalid(
                    "bucket names contain only letters, digits, `-`, `.` and `_`",
                ));
            }
            if key.is_empty() {
                return Err(invalid("missing object key (expected s3://bucket/key)"));
            }
            return Ok(ObjectUrl::s3(bucket, key));
        }
        if let Some(path) = url.strip_prefix("file://") {
            if path.is_empty() {
                return Err(invalid("missing path after file://"));
            }
            return Ok(ObjectUrl::Local(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(invalid(&format!(
                    "unsupported scheme `{scheme}://` (use s3://bucket/key or a local path)"
                )));
            }
        }
        Ok(ObjectUrl::Local(PathBuf::from(url)))
    }

    /// Whether this is an S3 object.
    pub fn is_s3(&self) -> bool {
        matches!(self, ObjectUrl::S3 { .. })
    }
}

impl std::str::FromStr for ObjectUrl {
    type Err = ObjectError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ObjectUrl::parse(s)
    }
}

impl fmt::Display for ObjectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectUrl::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            ObjectUrl::Local(path) => write!(f, "{}", path.display()),
        }
    }
}

impl serde::Serialize for ObjectUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ObjectUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ObjectUrl::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What is known about a stored object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectMeta {
    /// The object.
    pub url: ObjectUrl,
    /// Its size in bytes.
    pub size: u64,
    /// The S3 ETag (quotes removed); `None` for local files.
    pub etag: Option<String>,
    /// The S3 version id, when the bucket is versioned.
    pub version: Option<String>,
}

/// Reads and writes objects on S3 and the local file system.
///
/// Cloning is cheap (the S3 client is shared).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), lambda_kit::ObjectError> {
/// use lambda_kit::{ObjectStore, ObjectUrl};
/// use tokio::io::AsyncReadExt;
///
/// let dir = std::env::temp_dir().join(format!("lk-doc-{}", std::process::id()));
/// let url = ObjectUrl::Local(dir.join("hello.txt"));
/// let store = ObjectStore::local();
///
/// let mut writer = store.create(&url).await?;
/// writer.write(b"hello ").await?;
/// writer.write(b"world").await?;
/// let meta = writer.finish().await?; // the file appears only now
/// assert_eq!(meta.size, 11);
///
/// let mut text = String::new();
/// store.open(&url).await?.read_to_string(&mut text).await.unwrap();
/// assert_eq!(text, "hello world");
/// # std::fs::remove_dir_all(dir).unwrap(); Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ObjectStore {
    s3: Option<aws_sdk_s3::Client>,
    part_size: usize,
}

impl ObjectStore {
    /// A store for local files only (`s3://` URLs fail with [`ObjectError::NoS3`]).
    pub fn local() -> Self {
        Self {
            s3: None,
            part_size: DEFAULT_PART_SIZE,
        }
    }

    /// A store for S3 (through `client`) and local files.
    pub fn with_s3(client: aws_sdk_s3::Client) -> Self {
        Self {
            s3: Some(client),
            part_size: DEFAULT_PART_SIZE,
        }
    }

    /// A store with an S3 client configured from the environment (see [`crate::aws::sdk_config`]
    /// and [`crate::aws::s3_client`]: region, credentials, `AWS_ENDPOINT_URL`, path style).
    pub async fn from_env() -> Self {
        let config = crate::aws::sdk_config().await;
        Self::with_s3(crate::aws::s3_client(&config))
    }

    /// Sets the multipart part size (clamped to at least [`MIN_PART_SIZE`]). Objects smaller than
    /// one part are written with a single `PutObject`.
    pub fn with_part_size(mut self, bytes: usize) -> Self {
        self.part_size = bytes.max(MIN_PART_SIZE);
        self
    }

    /// The S3 client, if any.
    pub fn s3_client(&self) -> Option<&aws_sdk_s3::Client> {
        self.s3.as_ref()
    }

    fn client(&self, url: &ObjectUrl) -> Result<&aws_sdk_s3::Client, ObjectError> {
        self.s3.as_ref().ok_or_else(|| ObjectError::NoS3 {
            url: url.to_string(),
        })
    }

    /// Size, ETag and version of an object.
    pub async fn head(&self, url: &ObjectUrl) -> Result<ObjectMeta, ObjectError> {
        match url {
            ObjectUrl::Local(path) => {
                let meta = tokio::fs::metadata(path)
                    .await
                    .map_err(|e| ObjectError::from_io(url, &e))?;
                if meta.is_dir() {
                    return Err(ObjectError::Io {
                        url: url.to_string(),
                        message: "is a directory".into(),
                    });
                }
                Ok(ObjectMeta {
                    url: url.clone(),
                    size: meta.len(),
                    etag: None,
                    version: None,
                })
            }
            ObjectUrl::S3 { bucket, key } => {
                let out = self
                    .client(url)?
                    .head_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| ObjectError::from_sdk(url, "HeadObject", e))?;
                Ok(ObjectMeta {
                    url: url.clone(),
                    size: out
                        .content_length()
                        .and_then(|n| u64::try_from(n).ok())
                        .unwrap_or(0),
                    etag: out.e_tag().map(unquote),
                    version: out.version_id().map(str::to_owned),
                })
            }
        }
    }

    /// Opens an object for streaming reads.
    pub async fn open(&self, url: &ObjectUrl) -> Result<ObjectReader, ObjectError> {
        self.open_at(url, 0).await
    }

    /// Opens an object for streaming reads from byte `offset` on (a local file seeks; S3 is
    /// asked for the range `bytes=offset-`). An offset at or past the end gives an empty reader.
    pub async fn open_at(&self, url: &ObjectUrl, offset: u64) -> Result<ObjectReader, ObjectError> {
        self.open_pinned(url, offset, None).await
    }

    /// [`ObjectStore::open_at`], insisting on the version of the object that an earlier read saw
    /// ([`ObjectReader::pin`]), so that the reads of a job that reads an object more than once
    /// see one version: S3 is asked with `If-Match` on that read's ETag, a local file must have
    /// kept its size and modification time. Another version is [`ObjectError::Changed`].
    ///
    /// ```no_run
    /// # async fn f(store: &lambda_kit::ObjectStore) -> Result<(), lambda_kit::ObjectError> {
    /// let url = lambda_kit::ObjectUrl::parse("s3://data/in.csv")?;
    /// let first = store.open(&url).await?;
    /// // ... read it; later, the rest from byte 1000, of the same version or an error:
    /// let rest = store.open_pinned(&url, 1000, first.pin()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn open_pinned(
        &self,
        url: &ObjectUrl,
        offset: u64,
        pin: Option<&ObjectPin>,
    ) -> Result<ObjectReader, ObjectError> {
        let mut seen = pin.cloned();
        let inner: Pin<Box<dyn AsyncBufRead + Send + Sync>> = match url {
            ObjectUrl::Local(path) => {
                let mut file = tokio::fs::File::open(path)
                    .await
                    .map_err(|e| ObjectError::from_io(url, &e))?;
                let meta = file
                    .metadata()
                    .await
                    .map_err(|e| ObjectError::from_io(url, &e))?;
                seen = Some(local_pin(url, &meta, pin)?);
                if offset > 0 {
                    use tokio::io::AsyncSeekExt;
                    file.seek(std::io::SeekFrom::Start(offset))
                        .await
                        .map_err(|e| ObjectError::from_io(url, &e))?;
                }
                Box::pin(tokio::io::BufReader::with_capacity(256 * 1024, file))
            }
            ObjectUrl::S3 { bucket, key } => {
                let get = self.client(url)?.get_object().bucket(bucket).key(key);
                let get = if offset > 0 {
                    get.range(format!("bytes={offset}-"))
                } else {
                    get
                };
                let get = match pin {
                    Some(ObjectPin::ETag(etag)) => get.if_match(etag),
                    _ => get,
                };
                match get.send().await {
                    Ok(out) => {
                        if let Some(etag) = out.e_tag() {
                            seen = Some(ObjectPin::ETag(etag.to_owned()));
                        }
                        Box::pin(out.body.into_async_read())
                    }
                    // a range that starts at or past the end: nothing to read
                    Err(e)
                        if offset > 0
                            && e.raw_response().map(|r| r.status().as_u16()) == Some(416) =>
                    {
                        Box::pin(tokio::io::BufReader::new(tokio::io::empty()))
                    }
                    Err(e) => return Err(ObjectError::from_sdk(url, "GetObject", e)),
                }
            }
        };
        Ok(ObjectReader {
            url: url.clone(),
            inner,
            pin: seen,
        })
    }

    /// Reads a whole object into memory (for small objects such as configuration or metrics).
    pub async fn get(&self, url: &ObjectUrl) -> Result<Bytes, ObjectError> {
        match url {
            ObjectUrl::Local(path) => tokio::fs::read(path)
                .await
                .map(Bytes::from)
                .map_err(|e| ObjectError::from_io(url, &e)),
            ObjectUrl::S3 { bucket, key } => {
                let out = self
                    .client(url)?
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| ObjectError::from_sdk(url, "GetObject", e))?;
                let data = out.body.collect().await.map_err(|e| ObjectError::Io {
                    url: url.to_string(),
                    message: format!("reading the body: {}", DisplayErrorChain(&e)),
                })?;
                Ok(data.into_bytes())
            }
        }
    }

    /// Writes a whole object atomically.
    pub async fn put(
        &self,
        url: &ObjectUrl,
        data: impl Into<Bytes>,
    ) -> Result<ObjectMeta, ObjectError> {
        let data = data.into();
        let mut writer = self.create(url).await?;
        writer.write(&data).await?;
        writer.finish().await
    }

    /// Deletes an object (deleting a missing object is not an error).
    pub async fn delete(&self, url: &ObjectUrl) -> Result<(), ObjectError> {
        match url {
            ObjectUrl::Local(path) => match tokio::fs::remove_file(path).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(ObjectError::from_io(url, &e)),
            },
            ObjectUrl::S3 { bucket, key } => {
                self.client(url)?
                    .delete_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| ObjectError::from_sdk(url, "DeleteObject", e))?;
                Ok(())
            }
        }
    }

    /// Starts an atomic write: nothing is visible at `url` until [`ObjectWriter::finish`].
    pub async fn create(&self, url: &ObjectUrl) -> Result<ObjectWriter, ObjectError> {
        let inner = match url {
            ObjectUrl::Local(path) => {
                let tmp = LocalTemp::create(url, path)?;
                let file = tokio::fs::File::from_std(
                    tmp.file
                        .try_clone()
                        .map_err(|e| ObjectError::from_io(url, &e))?,
                );
                WriterInner::Local {
                    file: tokio::io::BufWriter::with_capacity(256 * 1024, file),
                    tmp,
                }
            }
            ObjectUrl::S3 { bucket, key } => WriterInner::S3(S3Upload {
                client: self.client(url)?.clone(),
                bucket: bucket.clone(),
                key: key.clone(),
                buf: Vec::new(),
                part_size: self.part_size,
                upload_id: None,
                parts: Vec::new(),
            }),
        };
        Ok(ObjectWriter {
            url: url.clone(),
            inner,
            written: 0,
            done: false,
            failed: false,
        })
    }

    /// A blocking view of this store for synchronous code, bound to the current tokio runtime.
    ///
    /// Call this inside the runtime (e.g. in the async handler), then move the [`BlockingStore`]
    /// into `tokio::task::spawn_blocking`. Fails outside a tokio runtime.
    pub fn blocking(&self) -> Result<BlockingStore, ObjectError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|e| ObjectError::Io {
            url: String::new(),
            message: format!("ObjectStore::blocking needs a tokio runtime: {e}"),
        })?;
        Ok(BlockingStore {
            store: self.clone(),
            handle,
        })
    }
}

fn unquote(etag: &str) -> String {
    etag.trim_matches('"').to_owned()
}

/// The version of an object that a read saw ([`ObjectReader::pin`], [`BlockingReader::pin`]),
/// for a later read to insist on ([`ObjectStore::open_pinned`], [`BlockingStore::open_pinned`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectPin {
    /// An S3 object's ETag, as `GetObject` returned it (quotes included).
    ETag(String),
    /// A local file's size and modification time (a rewrite that keeps both within the file
    /// system's time resolution goes unnoticed).
    File {
        /// Size in bytes.
        len: u64,
        /// Last modification, where the file system records it.
        modified: Option<std::time::SystemTime>,
    },
}

/// A local file's [`ObjectPin`]; an error when `expected` is another.
fn local_pin(
    url: &ObjectUrl,
    meta: &std::fs::Metadata,
    expected: Option<&ObjectPin>,
) -> Result<ObjectPin, ObjectError> {
    if meta.is_dir() {
        return Err(ObjectError::Io {
            url: url.to_string(),
            message: "is a directory".into(),
        });
    }
    let pin = ObjectPin::File {
        len: meta.len(),
        modified: meta.modified().ok(),
    };
    match expected {
        Some(want) if *want != pin => Err(ObjectError::Changed {
            url: url.to_string(),
            message: match (want, &pin) {
                (ObjectPin::File { len: a, .. }, ObjectPin::File { len: b, .. }) if a != b => {
                    format!("its size is now {b} bytes, not {a}")
                }
                (ObjectPin::File { .. }, _) => "its modification time changed".into(),
                (ObjectPin::ETag(e), _) => format!("it was an S3 object (ETag {e})"),
            },
        }),
        _ => Ok(pin),
    }
}

/// A streaming reader over an object (`AsyncRead` + `AsyncBufRead`). IO errors name the object.
pub struct ObjectReader {
    url: ObjectUrl,
    inner: Pin<Box<dyn AsyncBufRead + Send + Sync>>,
    pin: Option<ObjectPin>,
}

impl fmt::Debug for ObjectReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectReader")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl ObjectReader {
    /// The object being read.
    pub fn url(&self) -> &ObjectUrl {
        &self.url
    }

    /// The version of the object this reader reads (`None` when S3 gave no ETag).
    pub fn pin(&self) -> Option<&ObjectPin> {
        self.pin.as_ref()
    }

    fn name_error(url: &ObjectUrl, err: io::Error) -> io::Error {
        io::Error::new(err.kind(), format!("{url}: {err}"))
    }
}

impl AsyncRead for ObjectReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.inner.as_mut().poll_read(cx, buf) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(Self::name_error(&this.url, e))),
            other => other,
        }
    }
}

impl AsyncBufRead for ObjectReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        match this.inner.as_mut().poll_fill_buf(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(Self::name_error(&this.url, e))),
            other => other,
        }
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().inner.as_mut().consume(amt)
    }
}

/// A temporary file beside the destination, removed on drop unless persisted.
struct LocalTemp {
    path: PathBuf,
    dest: PathBuf,
    file: std::fs::File,
    persisted: bool,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl LocalTemp {
    fn create(url: &ObjectUrl, dest: &Path) -> Result<Self, ObjectError> {
        let name = dest.file_name().ok_or_else(|| ObjectError::InvalidUrl {
            url: url.to_string(),
            reason: "the path has no file name".into(),
        })?;
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| ObjectError::from_io(url, &e))?;
        if dest.is_dir() {
            return Err(ObjectError::Io {
                url: url.to_string(),
                message: "is a directory".into(),
            });
        }
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(
            ".{}.{}-{}.tmp",
            name.to_string_lossy(),
            std::process::id(),
            n
        ));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| ObjectError::from_io(url, &e))?;
        Ok(Self {
            path,
            dest: dest.to_path_buf(),
            file,
            persisted: false,
        })
    }

    fn persist(&mut self, url: &ObjectUrl) -> Result<(), ObjectError> {
        self.file
            .sync_all()
            .map_err(|e| ObjectError::from_io(url, &e))?;
        std::fs::rename(&self.path, &self.dest).map_err(|e| ObjectError::from_io(url, &e))?;
        self.persisted = true;
        Ok(())
    }
}

impl Drop for LocalTemp {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

struct S3Upload {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    buf: Vec<u8>,
    part_size: usize,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
}

impl S3Upload {
    async fn upload_part(&mut self, url: &ObjectUrl, data: Vec<u8>) -> Result<(), ObjectError> {
        let upload_id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let out = self
                    .client
                    .create_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&self.key)
                    .send()
                    .await
                    .map_err(|e| ObjectError::from_sdk(url, "CreateMultipartUpload", e))?;
                let id = out
                    .upload_id()
                    .map(str::to_owned)
                    .ok_or_else(|| ObjectError::Io {
                        url: url.to_string(),
                        message: "CreateMultipartUpload returned no upload id".into(),
                    })?;
                self.upload_id = Some(id.clone());
                id
            }
        };
        let number = i32::try_from(self.parts.len() + 1).unwrap_or(i32::MAX);
        if number > 10_000 {
            return Err(ObjectError::Io {
                url: url.to_string(),
                message: "more than 10000 parts: raise the part size".into(),
            });
        }
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(data))
            .send()
            .await
            .map_err(|e| ObjectError::from_sdk(url, "UploadPart", e))?;
        self.parts.push(
            CompletedPart::builder()
                .set_e_tag(out.e_tag().map(str::to_owned))
                .part_number(number)
                .build(),
        );
        Ok(())
    }

    async fn abort(&mut self, url: &ObjectUrl) -> Result<(), ObjectError> {
        if let Some(id) = self.upload_id.take() {
            self.client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(&self.key)
                .upload_id(id)
                .send()
                .await
                .map_err(|e| ObjectError::from_sdk(url, "AbortMultipartUpload", e))?;
        }
        Ok(())
    }
}

enum WriterInner {
    Local {
        file: tokio::io::BufWriter<tokio::fs::File>,
        tmp: LocalTemp,
    },
    S3(S3Upload),
}

/// An atomic object writer: the object appears at its URL only when [`finish`](Self::finish)
/// succeeds. On error, [`abort`](Self::abort) or drop, nothing is left at the URL (a multipart
/// upload is aborted; a local temporary file is removed).
pub struct ObjectWriter {
    url: ObjectUrl,
    inner: WriterInner,
    written: u64,
    done: bool,
    failed: bool,
}

impl fmt::Debug for ObjectWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectWriter")
            .field("url", &self.url)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl ObjectWriter {
    /// The destination.
    pub fn url(&self) -> &ObjectUrl {
        &self.url
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Appends `data`. On S3, a full part is uploaded as soon as it is buffered. After an error
    /// the writer is poisoned: later writes and [`finish`](Self::finish) fail and nothing is
    /// published.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), ObjectError> {
        if self.failed {
            return Err(self.poisoned());
        }
        let result = self.write_inner(data).await;
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn poisoned(&self) -> ObjectError {
        ObjectError::Io {
            url: self.url.to_string(),
            message: "an earlier write failed; the object was not published".into(),
        }
    }

    async fn write_inner(&mut self, data: &[u8]) -> Result<(), ObjectError> {
        let url = &self.url;
        match &mut self.inner {
            WriterInner::Local { file, .. } => file
                .write_all(data)
                .await
                .map_err(|e| ObjectError::from_io(url, &e))?,
            WriterInner::S3(up) => {
                let mut rest = data;
                while !rest.is_empty() {
                    let room = up.part_size - up.buf.len();
                    let take = room.min(rest.len());
                    up.buf.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if up.buf.len() == up.part_size {
                        let part = std::mem::replace(&mut up.buf, Vec::with_capacity(up.part_size));
                        if let Err(e) = up.upload_part(url, part).await {
                            let _ = up.abort(url).await;
                            return Err(e);
                        }
                    }
                }
            }
        }
        self.written += data.len() as u64;
        Ok(())
    }

    /// Completes the object and returns its metadata.
    pub async fn finish(mut self) -> Result<ObjectMeta, ObjectError> {
        if self.failed {
            let err = self.poisoned();
            if let WriterInner::S3(up) = &mut self.inner {
                let _ = up.abort(&self.url.clone()).await;
            }
            self.done = true;
            return Err(err);
        }
        let url = self.url.clone();
        let size = self.written;
        let result = match &mut self.inner {
            WriterInner::Local { file, tmp } => {
                async {
                    file.flush()
                        .await
                        .map_err(|e| ObjectError::from_io(&url, &e))?;
                    tmp.persist(&url)?;
                    Ok(ObjectMeta {
                        url: url.clone(),
                        size,
                        etag: None,
                        version: None,
                    })
                }
                .await
            }
            WriterInner::S3(up) => {
                let r = finish_s3(up, &url, size).await;
                if r.is_err() {
                    let _ = up.abort(&url).await;
                }
                r
            }
        };
        self.done = true;
        result
    }

    /// Abandons the write: nothing appears at the URL.
    pub async fn abort(mut self) -> Result<(), ObjectError> {
        self.done = true;
        let url = self.url.clone();
        match &mut self.inner {
            WriterInner::Local { .. } => Ok(()), // the temp file is removed on drop
            WriterInner::S3(up) => up.abort(&url).await,
        }
    }
}

async fn finish_s3(
    up: &mut S3Upload,
    url: &ObjectUrl,
    size: u64,
) -> Result<ObjectMeta, ObjectError> {
    if up.upload_id.is_none() {
        let body = std::mem::take(&mut up.buf);
        let out = up
            .client
            .put_object()
            .bucket(&up.bucket)
            .key(&up.key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| ObjectError::from_sdk(url, "PutObject", e))?;
        return Ok(ObjectMeta {
            url: url.clone(),
            size,
            etag: out.e_tag().map(unquote),
            version: out.version_id().map(str::to_owned),
        });
    }
    if !up.buf.is_empty() {
        let last = std::mem::take(&mut up.buf);
        up.upload_part(url, last).await?;
    }
    let upload_id = up.upload_id.clone().unwrap_or_default();
    let out = up
        .client
        .complete_multipart_upload()
        .bucket(&up.bucket)
        .key(&up.key)
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(up.parts.clone()))
                .build(),
        )
        .send()
        .await
        .map_err(|e| ObjectError::from_sdk(url, "CompleteMultipartUpload", e))?;
    up.upload_id = None;
    Ok(ObjectMeta {
        url: url.clone(),
        size,
        etag: out.e_tag().map(unquote),
        version: out.version_id().map(str::to_owned),
    })
}

impl Drop for ObjectWriter {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Unfinished: local temp files are removed by LocalTemp's Drop; an S3 multipart upload is
        // aborted in the background when a runtime is available. An upload that is never
        // completed is invisible anyway (the object stays absent); a bucket lifecycle rule
        // `AbortIncompleteMultipartUpload` reclaims its parts if this best-effort abort is lost.
        if let WriterInner::S3(up) = &mut self.inner {
            if let (Some(id), Ok(handle)) =
                (up.upload_id.take(), tokio::runtime::Handle::try_current())
            {
                let req = up
                    .client
                    .abort_multipart_upload()
                    .bucket(&up.bucket)
                    .key(&up.key)
                    .upload_id(id);
                let url = self.url.to_string();
                handle.spawn(async move {
                    if let Err(e) = req.send().await {
                        tracing::warn!(%url, error = %DisplayErrorChain(&e), "aborting an unfinished multipart upload failed");
                    }
                });
            }
        }
    }
}

/// Blocking access to objects for synchronous code; see [`ObjectStore::blocking`].
///
/// Use it from `tokio::task::spawn_blocking` or another thread that is not running async tasks
/// (calling it from an async task would block that task's worker thread).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// use std::io::{BufRead, Write};
/// use lambda_kit::{ObjectStore, ObjectUrl};
///
/// let dir = std::env::temp_dir().join(format!("lk-doc-blocking-{}", std::process::id()));
/// let input = ObjectUrl::Local(dir.join("in.txt"));
/// let output = ObjectUrl::Local(dir.join("out.txt"));
/// let store = ObjectStore::local();
/// store.put(&input, "a\nb\n").await?;
///
/// let blocking = store.blocking()?;
/// let lines = tokio::task::spawn_blocking(move || -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
///     let reader = std::io::BufReader::new(blocking.open(&input)?);
///     let mut writer = blocking.create(&output)?;
///     let mut n = 0;
///     for line in reader.lines() {
///         writeln!(writer, "{}", line?.to_uppercase())?;
///         n += 1;
///     }
///     writer.finish()?;
///     Ok(n)
/// }).await??;
/// assert_eq!(lines, 2);
/// assert_eq!(std::fs::read_to_string(dir.join("out.txt"))?, "A\nB\n");
/// # std::fs::remove_dir_all(dir)?; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct BlockingStore {
    store: ObjectStore,
    handle: tokio::runtime::Handle,
}

impl BlockingStore {
    /// The async store behind this view.
    pub fn store(&self) -> &ObjectStore {
        &self.store
    }

    /// Size, ETag and version of an object.
    pub fn head(&self, url: &ObjectUrl) -> Result<ObjectMeta, ObjectError> {
        self.handle.block_on(self.store.head(url))
    }

    /// Opens an object as a `std::io::Read` (local files directly; S3 through a bridge).
    pub fn open(&self, url: &ObjectUrl) -> Result<BlockingReader, ObjectError> {
        self.open_at(url, 0)
    }

    /// [`BlockingStore::open`] from byte `offset` on (see [`ObjectStore::open_at`]).
    pub fn open_at(&self, url: &ObjectUrl, offset: u64) -> Result<BlockingReader, ObjectError> {
        self.open_pinned(url, offset, None)
    }

    /// [`BlockingStore::open_at`] of the version an earlier read saw (see
    /// [`ObjectStore::open_pinned`]).
    pub fn open_pinned(
        &self,
        url: &ObjectUrl,
        offset: u64,
        pin: Option<&ObjectPin>,
    ) -> Result<BlockingReader, ObjectError> {
        match url {
            ObjectUrl::Local(path) => {
                let mut file =
                    std::fs::File::open(path).map_err(|e| ObjectError::from_io(url, &e))?;
                let meta = file.metadata().map_err(|e| ObjectError::from_io(url, &e))?;
                let pin = local_pin(url, &meta, pin)?;
                if offset > 0 {
                    use std::io::Seek;
                    file.seek(std::io::SeekFrom::Start(offset))
                        .map_err(|e| ObjectError::from_io(url, &e))?;
                }
                Ok(BlockingReader {
                    url: url.clone(),
                    inner: ReaderInner::Local(file),
                    pin: Some(pin),
                })
            }
            ObjectUrl::S3 { .. } => {
                let reader = self
                    .handle
                    .block_on(self.store.open_pinned(url, offset, pin))?;
                let pin = reader.pin.clone();
                let bridge =
                    tokio_util::io::SyncIoBridge::new_with_handle(reader, self.handle.clone());
                Ok(BlockingReader {
                    url: url.clone(),
                    inner: ReaderInner::Bridge(Box::new(bridge)),
                    pin,
                })
            }
        }
    }

    /// Starts an atomic write as a `std::io::Write`; call [`BlockingWriter::finish`] to publish.
    pub fn create(&self, url: &ObjectUrl) -> Result<BlockingWriter, ObjectError> {
        let inner = match url {
            ObjectUrl::Local(path) => {
                let tmp = LocalTemp::create(url, path)?;
                let file = tmp
                    .file
                    .try_clone()
                    .map_err(|e| ObjectError::from_io(url, &e))?;
                BlockingInner::Local {
                    file: io::BufWriter::with_capacity(256 * 1024, file),
                    tmp,
                }
            }
            ObjectUrl::S3 { .. } => {
                BlockingInner::Async(Box::new(self.handle.block_on(self.store.create(url))?))
            }
        };
        Ok(BlockingWriter {
            url: url.clone(),
            inner,
            handle: self.handle.clone(),
            failed: false,
        })
    }

    /// Writes a whole object atomically.
    pub fn put(&self, url: &ObjectUrl, data: impl Into<Bytes>) -> Result<ObjectMeta, ObjectError> {
        self.handle.block_on(self.store.put(url, data))
    }
}

enum ReaderInner {
    Local(std::fs::File),
    Bridge(Box<tokio_util::io::SyncIoBridge<ObjectReader>>),
}

/// A blocking reader over an object; IO errors name the object. Wrap it in a `BufReader` for
/// line- or record-oriented parsing.
pub struct BlockingReader {
    url: ObjectUrl,
    inner: ReaderInner,
    pin: Option<ObjectPin>,
}

impl fmt::Debug for BlockingReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingReader")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl BlockingReader {
    /// The object being read.
    pub fn url(&self) -> &ObjectUrl {
        &self.url
    }

    /// The version of the object this reader reads (see [`ObjectReader::pin`]).
    pub fn pin(&self) -> Option<&ObjectPin> {
        self.pin.as_ref()
    }
}

impl io::Read for BlockingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            ReaderInner::Local(f) => f
                .read(buf)
                .map_err(|e| ObjectReader::name_error(&self.url, e)),
            // errors from the bridge already name the object (ObjectReader does)
            ReaderInner::Bridge(b) => b.read(buf),
        }
    }
}

enum BlockingInner {
    Local {
        file: io::BufWriter<std::fs::File>,
        tmp: LocalTemp,
    },
    Async(Box<ObjectWriter>),
}

/// A blocking atomic writer (`std::io::Write`). Dropping it unfinished leaves nothing at the URL.
pub struct BlockingWriter {
    url: ObjectUrl,
    inner: BlockingInner,
    handle: tokio::runtime::Handle,
    failed: bool,
}

impl fmt::Debug for BlockingWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingWriter")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl BlockingWriter {
    /// The destination.
    pub fn url(&self) -> &ObjectUrl {
        &self.url
    }

    /// Completes the object and returns its metadata.
    /// Fails (publishing nothing) if an earlier write failed.
    pub fn finish(self) -> Result<ObjectMeta, ObjectError> {
        if self.failed {
            let err = ObjectError::Io {
                url: self.url.to_string(),
                message: "an earlier write failed; the object was not published".into(),
            };
            let _ = self.abort();
            return Err(err);
        }
        let url = self.url;
        match self.inner {
            BlockingInner::Local { file, mut tmp } => {
                let file = file
                    .into_inner()
                    .map_err(|e| ObjectError::from_io(&url, e.error()))?;
                drop(file);
                tmp.persist(&url)?;
                let size = std::fs::metadata(&tmp.dest)
                    .map_err(|e| ObjectError::from_io(&url, &e))?
                    .len();
                Ok(ObjectMeta {
                    url,
                    size,
                    etag: None,
                    version: None,
                })
            }
            BlockingInner::Async(writer) => self.handle.block_on(writer.finish()),
        }
    }

    /// Abandons the write: nothing appears at the URL.
    pub fn abort(self) -> Result<(), ObjectError> {
        match self.inner {
            BlockingInner::Local { .. } => Ok(()),
            BlockingInner::Async(writer) => self.handle.block_on(writer.abort()),
        }
    }
}

impl io::Write for BlockingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = match &mut self.inner {
            BlockingInner::Local { file, .. } => file
                .write(buf)
                .map_err(|e| ObjectReader::name_error(&self.url, e)),
            BlockingInner::Async(w) => self
                .handle
                .block_on(w.write(buf))
                .map(|()| buf.len())
                .map_err(io::Error::other),
        };
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            BlockingInner::Local { file, .. } => file.flush(),
            // S3 data is only published by finish(); buffered parts are uploaded as they fill
            BlockingInner::Async(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn parses_urls() {
        assert_eq!(
            ObjectUrl::parse("s3://b/k/with/slashes").unwrap(),
            ObjectUrl::s3("b", "k/with/slashes")
        );
        assert_eq!(
            ObjectUrl::parse("data/in.csv").unwrap(),
            ObjectUrl::Local("data/in.csv".into())
        );
        assert_eq!(
            ObjectUrl::parse("/abs/in.csv").unwrap(),
            ObjectUrl::Local("/abs/in.csv".into())
        );
        for (bad, needle) in [
            ("", "empty"),
            ("s3://", "missing bucket"),
            ("s3:///key", "missing bucket"),
            ("s3://bucket", "missing object key"),
            ("s3://bucket/", "missing object key"),
            ("s3://bu cket/k", "bucket names"),
            ("http://example.com/x", "unsupported scheme `http://`"),
            ("file://", "missing path"),
        ] {
            let err = ObjectUrl::parse(bad).unwrap_err();
            assert!(err.to_string().contains(needle), "{bad}: {err}");
            assert_eq!(err.kind_name(), "InvalidUrl");
            assert_eq!(err.url(), bad);
        }
    }

    #[test]
    fn urls_round_trip_through_serde() {
        let url: ObjectUrl = serde_json::from_str("\"s3://b/a b.csv\"").unwrap();
        assert_eq!(serde_json::to_string(&url).unwrap(), "\"s3://b/a b.csv\"");
        let err = serde_json::from_str::<ObjectUrl>("\"s3://b\"").unwrap_err();
        assert!(err.to_string().contains("missing object key"), "{err}");
    }

    #[tokio::test]
    async fn local_write_is_atomic_and_readable() {
        let dir = tempfile::tempdir().unwrap();
        let url = ObjectUrl::Local(dir.path().join("sub/out.bin"));
        let store = ObjectStore::local();
        let mut w = store.create(&url).await.unwrap();
        w.write(b"abc").await.unwrap();
        assert!(
            !dir.path().join("sub/out.bin").exists(),
            "visible before finish"
        );
        let meta = w.finish().await.unwrap();
        assert_eq!(meta.size, 3);
        let mut s = String::new();
        store
            .open(&url)
            .await
            .unwrap()
            .read_to_string(&mut s)
            .await
            .unwrap();
        assert_eq!(s, "abc");
        assert_eq!(store.get(&url).await.unwrap(), Bytes::from_static(b"abc"));
        assert_eq!(store.head(&url).await.unwrap().size, 3);
        // only the object itself is left in the directory
        assert_eq!(
            std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
            1
        );
    }

    #[tokio::test]
    async fn dropped_or_aborted_local_writes_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local();
        let url = ObjectUrl::Local(dir.path().join("a.txt"));
        let mut w = store.create(&url).await.unwrap();
        w.write(b"partial").await.unwrap();
        drop(w);
        let mut w = store.create(&url).await.unwrap();
        w.write(b"partial").await.unwrap();
        w.abort().await.unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn overwrite_replaces_whole_object() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local();
        let url = ObjectUrl::Local(dir.path().join("a.txt"));
        store.put(&url, "first version, long").await.unwrap();
        let mut w = store.create(&url).await.unwrap();
        w.write(b"second").await.unwrap();
        // until finish, readers still see the old complete object
        assert_eq!(
            store.get(&url).await.unwrap(),
            Bytes::from_static(b"first version, long")
        );
        w.finish().await.unwrap();
        assert_eq!(
            store.get(&url).await.unwrap(),
            Bytes::from_static(b"second")
        );
    }

    #[tokio::test]
    async fn missing_local_objects_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let url = ObjectUrl::Local(dir.path().join("nope.csv"));
        let store = ObjectStore::local();
        let err = store.open(&url).await.unwrap_err();
        assert!(matches!(err, ObjectError::NotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("nope.csv"));
        assert!(matches!(
            store.head(&url).await.unwrap_err(),
            ObjectError::NotFound { .. }
        ));
        let err = store
            .open(&ObjectUrl::Local(dir.path().into()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
        store.delete(&url).await.unwrap();
    }

    #[tokio::test]
    async fn s3_urls_need_a_client() {
        let err = ObjectStore::local()
            .open(&ObjectUrl::s3("b", "k.csv"))
            .await
            .unwrap_err();
        assert_eq!(err.kind_name(), "NoS3Client");
        assert!(err.to_string().contains("s3://b/k.csv"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn blocking_local_round_trip_and_drop() {
        use std::io::{Read, Write};
        let dir = tempfile::tempdir().unwrap();
        let url = ObjectUrl::Local(dir.path().join("x.txt"));
        let bs = ObjectStore::local().blocking().unwrap();
        let url2 = url.clone();
        let path = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut w = bs.create(&url2).unwrap();
            w.write_all(b"dropped").unwrap();
            drop(w);
            assert_eq!(std::fs::read_dir(&path).unwrap().count(), 0);
            let mut w = bs.create(&url2).unwrap();
            w.write_all(b"kept").unwrap();
            assert_eq!(w.finish().unwrap().size, 4);
            let mut s = String::new();
            bs.open(&url2).unwrap().read_to_string(&mut s).unwrap();
            assert_eq!(s, "kept");
            let err = bs
                .open(&ObjectUrl::Local(path.join("missing")))
                .unwrap_err();
            assert!(matches!(err, ObjectError::NotFound { .. }));
        })
        .await
        .unwrap();
    }

    #[test]
    fn blocking_needs_a_runtime() {
        let err = ObjectStore::local().blocking().unwrap_err();
        assert!(err.to_string().contains("tokio runtime"), "{err}");
    }
}
