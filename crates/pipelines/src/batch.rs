//! The batch inference pipeline: a data set to score lands in S3 → cleanse → validate → a
//! SageMaker batch transform with the model serving at the endpoint.

use serde_json::json;
use stepwright::builder::*;
use stepwright::integrations::sagemaker::*;
use stepwright::integrations::services::AwsSdkCall;
use stepwright::integrations::Input;

use crate::common::*;
use crate::PipelineError;

/// The batch inference pipeline (`statemachines/batch-inference.asl.json`).
///
/// Input: the trigger's `{"bucket", "key", "version", "size", "etag"}`. Steps: **Configure** /
/// **Plan run**; **Cleanse** and **Validate** the data with the inference configuration and
/// suite (`${InferenceCleanseConfigUrl}`, `${InferenceSuiteUrl}`: no label column);
/// **Data valid?**; **Find serving model** (DescribeEndpoint on `${EndpointName}`, then
/// DescribeEndpointConfig: the model of its first production variant, so batch scores come from
/// the model the training pipeline last deployed); **Score** (a SageMaker transform job,
/// `.sync`) into `predictions/<execution>/`; **Summarize** → **Scored**. Failures take the same
/// notify-and-fail path as the training pipeline.
///
/// ```
/// let m = pipelines::batch_inference()?;
/// assert!(m.states.contains_key("Score"));
/// # Ok::<(), pipelines::PipelineError>(())
/// ```
pub fn batch_inference() -> Result<StateMachine, PipelineError> {
    let configure = Pass::new("Configure")
        .comment("The deployment's settings: SAM/CDK DefinitionSubstitutions fill in the tokens.")
        .parameters(json!({
            "data_bucket": "${DataBucket}",
            "endpoint_name": "${EndpointName}",
            "cleanse_config_url": "${InferenceCleanseConfigUrl}",
            "validation_suite_url": "${InferenceSuiteUrl}",
            "run_hash.$": "States.Hash($$.Execution.Id, 'SHA-1')"
        }))
        .result_path("$.settings");

    let plan = Pass::new("Plan run")
        .parameters(json!({
            "execution.$": "$$.Execution.Name",
            "raw_url.$": "States.Format('s3://{}/{}', $.bucket, $.key)",
            "clean_url.$": "States.Format('s3://{}/clean/{}/score.csv', $.settings.data_bucket, $$.Execution.Name)",
            "rejects_url.$": "States.Format('s3://{}/clean/{}/rejects.jsonl', $.settings.data_bucket, $$.Execution.Name)",
            "profile_url.$": "States.Format('s3://{}/profiles/{}/score.json', $.settings.data_bucket, $$.Execution.Name)",
            "predictions_url.$": "States.Format('s3://{}/predictions/{}/', $.settings.data_bucket, $$.Execution.Name)",
            "job_name.$": "States.Format('score-{}', $.settings.run_hash)"
        }))
        .result_path("$.run");

    let cleanse = lambda_task(
        "Cleanse",
        "${CleanseFunctionArn}",
        json!({
            "input.$": "$.run.raw_url",
            "output.$": "$.run.clean_url",
            "rejects.$": "$.run.rejects_url",
            "config_url.$": "$.settings.cleanse_config_url"
        }),
        json!({
            "output.$": "$.Payload.output",
            "rows_in.$": "$.Payload.rows_in",
            "rows_out.$": "$.Payload.rows_out",
            "rows_rejected.$": "$.Payload.rows_rejected"
        }),
        "$.cleanse",
    )
    .timeout_seconds(900);

    let validate = lambda_task(
        "Validate",
        "${ValidateFunctionArn}",
        json!({
            "input.$": "$.cleanse.output",
            "suite_url.$": "$.settings.validation_suite_url",
            "profile_output.$": "$.run.profile_url"
        }),
        json!({
            "passed.$": "$.Payload.passed",
            "rows.$": "$.Payload.rows",
            "failed.$": "$.Payload.failed"
        }),
        "$.validation",
    )
    .timeout_seconds(900);

    let find_endpoint = Task::new(
        "Find serving model",
        AwsSdkCall::new("sagemaker", "describeEndpoint")
            .field("EndpointName", "${EndpointName}")
            .try_into_task()?,
    )
    .result_selector(json!({"config.$": "$.EndpointConfigName", "status.$": "$.EndpointStatus"}))
    .result_path("$.serving")
    .retry(sagemaker_sdk_transient())
    .catch(catch_failure("Find serving model"), NOTIFY_FAILURE);

    let find_model = Task::new(
        "Find model of the endpoint config",
        AwsSdkCall::new("sagemaker", "describeEndpointConfig")
            .field("EndpointConfigName", Input::path("$.serving.config"))
            .try_into_task()?,
    )
    .result_selector(json!({"model.$": "$.ProductionVariants[0].ModelName"}))
    .result_path("$.model")
    .retry(sagemaker_sdk_transient())
    .catch(
        catch_failure("Find model of the endpoint config"),
        NOTIFY_FAILURE,
    );

    let score = Task::new(
        "Score",
        TransformJob::new(
            Input::path("$.run.job_name"),
            Input::path("$.model.model"),
            TransformInput::s3_prefix(Input::path("$.cleanse.output"))
                .content_type("text/csv")
                .split_type("Line"),
            TransformOutput::new(Input::path("$.run.predictions_url"))
                .accept("text/csv")
                .assemble_with("Line"),
            TransformResources::new("${TransformInstanceType}", 1),
        )
        .batch_strategy("MultiRecord")
        .max_payload_in_mb(6)
        .tags(stepwright::integrations::tags([(
            "stepwright:pipeline",
            "batch-inference",
        )]))
        .try_into_task()?,
    )
    .result_selector(json!({
        "job_name.$": "$.TransformJobName",
        "output.$": "$.TransformOutput.S3OutputPath"
    }))
    .result_path("$.transform")
    .retry(sagemaker_transient())
    .catch(catch_failure("Score"), NOTIFY_FAILURE);

    let summarize = Pass::new("Summarize").parameters(json!({
        "execution.$": "$$.Execution.Name",
        "data": {
            "source.$": "$.run.raw_url",
            "cleaned.$": "$.cleanse.output",
            "rows_in.$": "$.cleanse.rows_in",
            "rows_out.$": "$.cleanse.rows_out",
            "rows_rejected.$": "$.cleanse.rows_rejected"
        },
        "model.$": "$.model.model",
        "transform_job.$": "$.transform.job_name",
        "predictions.$": "$.transform.output"
    }));

    let data_invalid = check_failed(
        "Data invalid",
        "Validate",
        "Pipeline.DataInvalid",
        "States.Format('{} of the data checks failed on {} rows: {}', States.ArrayLength($.validation.failed), $.validation.rows, States.JsonToString($.validation.failed))",
    );

    let machine = StateMachine::builder()
        .comment(
            "Stepwright batch inference pipeline: cleanse and validate a data set, then score it with the model serving at the endpoint (SageMaker batch transform). Generated by crates/pipelines: do not edit.",
        )
        .timeout_seconds(24 * 3600)
        .start(
            configure.next(plan).next(cleanse).next(validate).next(
                Choice::new("Data valid?")
                    .when(
                        Condition::boolean_equals("$.validation.passed", true),
                        find_endpoint
                            .next(find_model)
                            .next(score)
                            .next(summarize)
                            .next(Succeed::new("Scored")),
                    )
                    .otherwise(data_invalid),
            ),
        )
        .also(failure_path("batch inference"))
        .build()?;
    Ok(machine)
}
