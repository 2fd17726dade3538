//! Stepwright Lambda: the model-approval gate.
//!
//! Three handlers share this crate (and one bootstrap, chosen by `APPROVAL_MODE`):
//!
//! * [`gate::evaluate`] (`APPROVAL_MODE=gate`, the default): the automatic gate. It takes the
//!   candidate's metrics (a training job's `FinalMetricDataList`, an evaluation JSON in S3, or
//!   inline values), per-metric `min`/`max` thresholds, and optionally a comparison with the latest
//!   `Approved` package of the model package group (improvement by at least `min_delta`); it
//!   registers the candidate with `CreateModelPackage` as `Approved`, `Rejected` or
//!   `PendingManualApproval` and returns the decision with every reason.
//! * [`human::notify`] (`APPROVAL_MODE=notify`): for a `.waitForTaskToken` task, publishes the
//!   summary and a signed approval link to SNS.
//! * [`human::handle_http`] (`APPROVAL_MODE=callback`): the function URL behind the link; checks
//!   the link and the decision, calls `SendTaskSuccess`/`SendTaskFailure` and
//!   `UpdateModelPackage`. See [`human`] for the security model.
//!
//! Error names: `Approval.InvalidInput`, `Approval.InvalidConfig`, `Approval.RegistryFailed`,
//! `Approval.ObjectNotFound` (and other `Approval.<object error>`), `Approval.NotifyFailed`,
//! `Approval.InvalidRequest`, `Approval.UnknownDecision`, `Approval.TokenInvalid`,
//! `Approval.TokenExpired`, `Approval.AlreadyDecided`, `Approval.CallbackFailed`; a rejected
//! model fails the waiting task with `Approval.Rejected`.

pub mod gate;
pub mod hmac;
pub mod human;

use lambda_kit::{LambdaError, ObjectStore};

/// Which handler the bootstrap runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The automatic gate.
    Gate,
    /// Publish an approval request.
    Notify,
    /// The function URL callback.
    Callback,
}

impl Mode {
    /// Parses `APPROVAL_MODE` (`gate` when unset).
    ///
    /// ```
    /// use approval_gate::Mode;
    /// assert_eq!(Mode::parse(None).unwrap(), Mode::Gate);
    /// assert_eq!(Mode::parse(Some("callback")).unwrap(), Mode::Callback);
    /// assert_eq!(Mode::parse(Some("other")).unwrap_err().name(), "Approval.InvalidConfig");
    /// ```
    pub fn parse(value: Option<&str>) -> Result<Self, LambdaError> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("gate") => Ok(Mode::Gate),
            Some("notify") => Ok(Mode::Notify),
            Some("callback") => Ok(Mode::Callback),
            Some(other) => Err(LambdaError::new(
                "Approval.InvalidConfig",
                format!("APPROVAL_MODE `{other}` is not gate, notify or callback"),
            )),
        }
    }
}

/// The AWS clients the handlers use.
#[derive(Debug, Clone)]
pub struct Clients {
    /// SageMaker (model registry).
    pub sagemaker: aws_sdk_sagemaker::Client,
    /// Step Functions (task tokens).
    pub sfn: aws_sdk_sfn::Client,
    /// SNS (approval requests).
    pub sns: aws_sdk_sns::Client,
    /// Object IO (evaluation reports).
    pub objects: ObjectStore,
}

impl Clients {
    /// Clients for one SDK configuration.
    pub fn new(config: &lambda_kit::aws::SdkConfig, objects: ObjectStore) -> Self {
        Self {
            sagemaker: aws_sdk_sagemaker::Client::new(config),
            sfn: aws_sdk_sfn::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            objects,
        }
    }

    /// Clients configured from the environment.
    pub async fn from_env() -> Self {
        let config = lambda_kit::aws::sdk_config().await;
        let objects = ObjectStore::with_s3(lambda_kit::aws::s3_client(&config));
        Self::new(&config, objects)
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
