//! The Stepwright MLOps state machines, written with the builder and the typed integrations.
//!
//! - [`training()`]: cleanse → validate → train (SageMaker, `.sync`) → evaluate (approval gate) →
//!   optional human approval (`.waitForTaskToken`) → create model → endpoint config → create or
//!   update the endpoint.
//! - [`batch_inference()`]: cleanse → validate → SageMaker batch transform with the serving model.
//! - [`scale_out()`]: cleanse and validate every object under a prefix as a Distributed Map, then
//!   merge the per-object profiles into one verdict.
//!
//! Deployment-specific values are `${Name}` substitution tokens ([`tokens::TOKENS`]), filled in
//! by SAM/CDK `DefinitionSubstitutions` or `stepwright run --sub`. `make statemachines` (the
//! `pipelines` binary) writes each machine to `statemachines/<name>.asl.json` with its
//! generated IAM policy `statemachines/<name>.policy.json`, and refreshes the generated parts of
//! docs/pipelines.md; a test fails when the checked-in files differ from what this crate
//! generates.
//!
//! ```
//! for (name, machine) in pipelines::machines()? {
//!     let json = machine.to_json_pretty();
//!     assert!(stepwright::validate_str(&json, &Default::default()).is_valid(), "{name}");
//! }
//! # Ok::<(), pipelines::PipelineError>(())
//! ```

#![warn(missing_docs)]

mod batch;
pub mod common;
pub mod generate;
mod scale_out;
pub mod tokens;
mod training;

use std::fmt;

use stepwright::builder::BuildError;
use stepwright::integrations::IntegrationError;
use stepwright::StateMachine;

pub use batch::batch_inference;
pub use scale_out::scale_out;
pub use training::{training, GATE_METRIC};

/// Why a machine could not be built: a bug in this crate (its tests build every machine), never
/// a user's input.
#[derive(Debug, Clone, PartialEq)]
pub enum PipelineError {
    /// A typed integration refused a request.
    Integration(IntegrationError),
    /// The builder or the validator refused the machine.
    Build(BuildError),
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipelineError::Integration(e) => write!(f, "integration: {e}"),
            PipelineError::Build(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for PipelineError {}

impl From<IntegrationError> for PipelineError {
    fn from(e: IntegrationError) -> Self {
        PipelineError::Integration(e)
    }
}

impl From<BuildError> for PipelineError {
    fn from(e: BuildError) -> Self {
        PipelineError::Build(e)
    }
}

/// A function that builds one pipeline.
pub type Build = fn() -> Result<StateMachine, PipelineError>;

/// The file names (without extension) and builders of every pipeline, in a stable order.
pub const PIPELINES: &[(&str, Build)] = &[
    ("training", training),
    ("batch-inference", batch_inference),
    ("scale-out", scale_out),
];

/// Every pipeline, built: `(file name without extension, machine)`.
pub fn machines() -> Result<Vec<(&'static str, StateMachine)>, PipelineError> {
    PIPELINES
        .iter()
        .map(|(name, build)| Ok((*name, build()?)))
        .collect()
}
