//! # Stepwright
//!
//! The Amazon States Language (AWS Step Functions) as Rust types: a typed model that round-trips
//! every definition AWS accepts, a builder, a validator whose diagnostics name the place, the rule
//! and the fix, service integrations, IAM policy generation and graph rendering.
//!
//! ```
//! use stepwright::StateMachine;
//!
//! let machine = StateMachine::from_json(r#"{
//!   "StartAt": "Hello",
//!   "States": { "Hello": { "Type": "Pass", "End": true } }
//! }"#)?;
//! assert_eq!(machine.states.len(), 1);
//! # Ok::<(), stepwright::diagnostics::ParseError>(())
//! ```

#![warn(missing_docs)]

pub mod builder;
pub mod dataflow;
pub mod diagnostics;
pub mod iam;
pub mod integrations;
pub mod intrinsics;
pub mod jsonpath;
pub mod model;
pub mod render;
pub mod source;
pub mod validate;

pub use diagnostics::{Code, Diagnostic, ParseError, Severity};
pub use model::*;
pub use validate::{validate, validate_str, Options, Report};
