//! # stepwright-local
//!
//! Run AWS Step Functions state machines offline: deterministic, mockable, as AWS does.
//!
//! - Every state type, JSONPath (`InputPath`, `Parameters`, `ResultSelector`, `ResultPath`,
//!   `OutputPath`, `$$`, workflow variables) and JSONata (`{% %}`, `$states`, `Assign` scoping).
//! - Tasks answered by in-process handlers ([`tasks::TaskHandler`], registered by Lambda function
//!   name, Resource ARN or state name), by a Lambda Invoke API endpoint
//!   ([`lambda_http::LambdaEndpoint`], e.g. `cargo lambda watch`), or by a Step Functions Local
//!   mock configuration file ([`mock::MockConfig`]). An unanswered task fails the run with
//!   `States.Runtime`, naming the state and the resource.
//! - Virtual time ([`time`]): a Wait of a day takes no time; timestamps come from a configurable
//!   start. Seeded randomness ([`rng`]). Iterations and branches run in a fixed order.
//! - AWS's limits: 256 KiB payloads, 25,000 history events, execution and task timeouts,
//!   heartbeats.
//! - The result: status, output or error and cause, and the history in the
//!   `GetExecutionHistory` shape ([`history`]).
//!
//! ```
//! use serde_json::json;
//! use stepwright_local::{Runner, Status};
//!
//! let runner = Runner::from_json(r#"{
//!   "StartAt": "Wait a day",
//!   "States": {
//!     "Wait a day": {"Type": "Wait", "Seconds": 86400, "Next": "Done"},
//!     "Done": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": "$.status", "End": true}
//!   }
//! }"#)?;
//! let exec = runner.run(json!({"job": 7}));
//! assert_eq!(exec.status, Status::Succeeded);
//! assert_eq!(exec.output, Some(json!({"job": 7, "status": {"ok": true}})));
//! assert_eq!(exec.stop.nanos_since(exec.start), 86_400_000_000_000);
//! # Ok::<(), stepwright_local::SetupError>(())
//! ```

#![warn(missing_docs)]

pub mod error;
pub mod history;
pub mod items;
pub mod lambda_http;
pub mod mock;
pub mod rng;
pub mod tasks;
pub mod test_state;
pub mod time;

mod exec;
mod jp;
mod jx;
mod map;
mod program;
mod runner;
mod vars;

pub use error::{Failure, SetupError};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
pub use history::{EventDetails, History, HistoryEvent};
pub use runner::{Execution, Options, Runner, Status};

/// The Rust examples of docs/local-runner.md, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/local-runner.md")]
pub struct LocalRunnerGuide;

/// The Rust examples of docs/library.md, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/library.md")]
pub struct LibraryGuide;
