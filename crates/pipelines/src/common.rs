//! What the three machines share: retry policies for transient errors, the Lambda task shape,
//! and the failure path (notify, then fail with the step's name and the reason).

use serde_json::{json, Value};
use stepwright::builder::*;
use stepwright::integrations::services::{LambdaInvoke, SnsPublish};
use stepwright::integrations::Input;

/// The workflow variable every Catch sets to the name of the step that failed.
pub const FAILED_STEP: &str = "failedStep";

/// Name of the shared notify state of the failure path.
pub const NOTIFY_FAILURE: &str = "Notify failure";

/// Name of the shared Fail state.
pub const PIPELINE_FAILED: &str = "Pipeline failed";

/// Transient Lambda errors beyond the service errors [`LambdaInvoke`] already retries:
/// throttling and the function's own network hiccups.
pub fn lambda_throttling() -> Retry {
    Retry::on([
        "Lambda.TooManyRequestsException",
        "Lambda.EC2ThrottledException",
        "Lambda.ResourceConflictException",
    ])
    .interval(5)
    .max_attempts(5)
    .backoff_rate(2)
    .full_jitter()
}

/// Transient errors of the optimized SageMaker integrations (`arn:aws:states:::sagemaker:*`),
/// which report service errors as `SageMaker.AmazonSageMakerException` (throttling,
/// capacity, internal errors).
pub fn sagemaker_transient() -> Retry {
    Retry::on([
        "SageMaker.AmazonSageMakerException",
        "SageMaker.ThrottlingException",
    ])
    .interval(10)
    .max_attempts(4)
    .backoff_rate(2)
    .full_jitter()
}

/// Transient errors of `aws-sdk:sagemaker:*` calls (named `SageMaker.<Code>Exception`).
pub fn sagemaker_sdk_transient() -> Retry {
    Retry::on([
        "SageMaker.ThrottlingException",
        "SageMaker.InternalFailureException",
        "SageMaker.ServiceUnavailableException",
    ])
    .interval(5)
    .max_attempts(4)
    .backoff_rate(2)
    .full_jitter()
}

/// Transient SNS errors.
pub fn sns_transient() -> Retry {
    Retry::on([
        "SNS.AmazonSNSException",
        "SNS.ThrottledException",
        "SNS.InternalErrorException",
    ])
    .interval(2)
    .max_attempts(4)
    .backoff_rate(2)
    .full_jitter()
}

/// The Catch every step has: the error goes to `$.error`, the step's name to `$failedStep`,
/// and the execution to the failure path.
pub fn catch_failure(step: &str) -> Catch {
    Catch::all()
        .result_path("$.error")
        .assign(FAILED_STEP, step)
}

/// A Lambda task: `FunctionName` is a literal substitution token (so the IAM policy names the
/// function), the payload a JSONPath template; retries the Lambda service errors (the
/// integration's default) and throttling; failures go to the failure path.
pub fn lambda_task(
    name: &str,
    function_token: &str,
    payload: Value,
    selector: Value,
    result_path: &str,
) -> Task {
    Task::new(
        name,
        LambdaInvoke::new(function_token).payload(Input::Literal(payload)),
    )
    .result_selector(selector)
    .result_path(result_path)
    .retry(lambda_throttling())
    .catch(catch_failure(name), NOTIFY_FAILURE)
}

/// A Pass state that records why the pipeline stops when a check (not a task) fails: sets
/// `$.error` to `{Error, Cause}` and `$failedStep`, then goes to the failure path.
pub fn check_failed(name: &str, step: &str, error: &str, cause_intrinsic: &str) -> Chain<Closed> {
    Pass::new(name)
        .parameters(json!({"Error": error, "Cause.$": cause_intrinsic}))
        .result_path("$.error")
        .assign(FAILED_STEP, step)
        .next(NOTIFY_FAILURE)
}

/// The failure path: publish the failure to `${AlertTopicArn}`, then fail with the original
/// error name and a cause naming the step. A failure to notify does not hide the pipeline's
/// own failure: it goes straight to the Fail state.
pub fn failure_path(pipeline: &str) -> Chain<Closed> {
    let failed = Fail::new(PIPELINE_FAILED)
        .error_path("$.error.Error")
        .cause_path(format!(
            "States.Format('{{}} failed: {{}}', ${FAILED_STEP}, $.error.Cause)"
        ));
    let notify = Task::new(
        NOTIFY_FAILURE,
        SnsPublish::topic(
            "${AlertTopicArn}",
            Input::path(format!(
                "States.Format('The {pipeline} pipeline execution {{}} failed at step \"{{}}\" with {{}}: {{}}', $$.Execution.Name, ${FAILED_STEP}, $.error.Error, $.error.Cause)"
            )),
        )
        .subject(format!("Stepwright {pipeline} pipeline failed")),
    )
    .discard_result()
    .retry(sns_transient())
    .catch(
        Catch::all().result_path("$.notifyError"),
        PIPELINE_FAILED,
    );
    notify.next(failed)
}
