//! What every Stepwright Lambda shares: object IO, error names, logging, the runtime entry point.
//!
//! * [`ObjectStore`]: streaming reads and atomic writes of `s3://bucket/key` and local objects,
//!   also as blocking `std::io::Read`/`Write` ([`BlockingStore`]) for synchronous engines.
//! * [`LambdaError`]: an error with a Step Functions error name (`Cleanse.InvalidInput`, ...),
//!   rendered by `lambda_runtime` as `errorType`/`errorMessage` so `Retry`/`Catch` can route on it.
//! * [`init_logging`]: JSON logs through `tracing`.
//! * [`run`]: the `lambda_runtime` entry point; a Lambda's `main.rs` is
//!   `lambda_kit::run(service_fn(handler)).await`.
//! * [`aws`]: SDK configuration from the environment (`AWS_ENDPOINT_URL`, path-style S3 for
//!   local endpoints such as moto).
//! * `testing` (feature `testing`): a moto server harness and clients configured for it.
//!
//! # Why the AWS SDK and not `object_store`
//!
//! Object IO is written directly on `aws-sdk-s3`. The Lambdas already need the AWS SDK (Step
//! Functions, SageMaker, SNS), and every SDK crate shares one HTTP/TLS stack and one credential
//! chain; `object_store`'s `aws` feature would add a second HTTP client and TLS stack (reqwest),
//! a second credential implementation and more compile time on a 2-core CI, for an interface we
//! use a small part of (get, head, put, multipart upload, delete). The SDK also gives us the
//! service error codes (`NoSuchKey`, `AccessDenied`) that become named errors, and ETags and
//! version ids for the trigger's idempotency.
//!
//! # Atomic writes
//!
//! An object written through [`ObjectWriter`] or [`BlockingWriter`] is either complete or absent:
//! S3 objects up to one part (8 MiB by default) are sent with one `PutObject` at `finish`;
//! larger ones use a multipart upload that only `CompleteMultipartUpload` at `finish` makes
//! visible, aborted on any error or when the writer is dropped unfinished. Local objects are
//! written to a temporary file in the destination directory and renamed over the destination
//! (atomic on POSIX file systems) at `finish`.
#![warn(missing_docs)]

pub mod aws;
pub mod encoding;
mod error;
mod log;
mod object;
mod runtime;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::LambdaError;
pub use lambda_runtime::{service_fn, Context, Diagnostic, LambdaEvent};
pub use log::{init_logging, log_filter, DEFAULT_FILTER};
pub use object::{
    BlockingReader, BlockingStore, BlockingWriter, ObjectError, ObjectMeta, ObjectPin,
    ObjectReader, ObjectStore, ObjectUrl, ObjectWriter, DEFAULT_PART_SIZE, MIN_PART_SIZE,
};
pub use runtime::{check_runtime_env, run, BoxError};
