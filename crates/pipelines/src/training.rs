//! The training pipeline: a new data set in S3 → cleanse → validate → train → evaluate →
//! approve → deploy.

use serde_json::json;
use stepwright::builder::*;
use stepwright::integrations::sagemaker::*;
use stepwright::integrations::services::{AwsSdkCall, LambdaInvoke};
use stepwright::integrations::{string_map, Input};

use crate::common::*;
use crate::PipelineError;

/// The metric the approval gate checks (XGBoost's validation AUC, reported by the training job).
pub const GATE_METRIC: &str = "validation:auc";

/// The training pipeline (`statemachines/training.asl.json`).
///
/// Input: the trigger Lambda's `{"bucket", "key", "version", "size", "etag"}` for the uploaded
/// data set. Steps:
///
/// 1. **Configure** / **Plan run**: the deployment's settings (substitution tokens) and this
///    run's object locations and resource names (`<ModelName>-<sha1 of the execution ARN>`).
/// 2. **Cleanse** (Lambda) the uploaded object into `clean/<execution>/train.csv`, then
///    **Validate** (Lambda) it against the expectation suite, writing its profile.
/// 3. **Data valid?**: a failed suite stops the pipeline (`Pipeline.DataInvalid`).
/// 4. **Train model**: a SageMaker training job (`.sync`, built-in XGBoost by default) on the
///    cleaned data, with the fixed hold-out set `${ValidationDataUri}` as its validation channel.
/// 5. **Evaluate model**: the approval-gate Lambda checks the job's `validation:auc` against
///    `${MinValidationAuc}` and the latest approved model, and registers the model package.
/// 6. **Gate decision**: `Approved` deploys; `PendingManualApproval` (always, when
///    `${RequireManualApproval}` is `true`) asks a person first (**Human approval**, a
///    `.waitForTaskToken` task: the approval-gate's notify handler mails a signed link through
///    SNS, and the callback resumes the execution); `Rejected` stops (`Pipeline.ModelRejected`).
/// 7. **Create model**, **Create endpoint config**, then **Find endpoint** (DescribeEndpoint):
///    **Update endpoint** when `${EndpointName}` exists, **Create endpoint** when it does not.
/// 8. **Summarize** → **Deployed**.
///
/// Every task retries its transient errors; any failure is caught, published to
/// `${AlertTopicArn}` and ends the execution in **Pipeline failed** with the original error
/// name and the cause `"<step> failed: <why>"`.
///
/// ```
/// let m = pipelines::training()?;
/// assert_eq!(m.start_at, "Configure");
/// assert!(m.states.contains_key("Human approval"));
/// # Ok::<(), pipelines::PipelineError>(())
/// ```
pub fn training() -> Result<StateMachine, PipelineError> {
    let configure = Pass::new("Configure")
        .comment("The deployment's settings: SAM/CDK DefinitionSubstitutions fill in the tokens.")
        .parameters(json!({
            "data_bucket": "${DataBucket}",
            "model_name": "${ModelName}",
            "endpoint_name": "${EndpointName}",
            "cleanse_config_url": "${CleanseConfigUrl}",
            "validation_suite_url": "${ValidationSuiteUrl}",
            "validation_data_uri": "${ValidationDataUri}",
            "min_validation_auc": "${MinValidationAuc}",
            "require_manual_approval": "${RequireManualApproval}",
            "approval_timeout_seconds": "${ApprovalTimeoutSeconds}",
            "run_hash.$": "States.Hash($$.Execution.Id, 'SHA-1')"
        }))
        .result_path("$.settings");

    let plan = Pass::new("Plan run")
        .comment("Where this run's objects go and what its SageMaker resources are called.")
        .parameters(json!({
            "execution.$": "$$.Execution.Name",
            "raw_url.$": "States.Format('s3://{}/{}', $.bucket, $.key)",
            "clean_url.$": "States.Format('s3://{}/clean/{}/train.csv', $.settings.data_bucket, $$.Execution.Name)",
            "rejects_url.$": "States.Format('s3://{}/clean/{}/rejects.jsonl', $.settings.data_bucket, $$.Execution.Name)",
            "profile_url.$": "States.Format('s3://{}/profiles/{}/train.json', $.settings.data_bucket, $$.Execution.Name)",
            "model_output.$": "States.Format('s3://{}/models/{}/', $.settings.data_bucket, $$.Execution.Name)",
            "resource_name.$": "States.Format('{}-{}', $.settings.model_name, $.settings.run_hash)",
            "min_validation_auc.$": "States.StringToJson($.settings.min_validation_auc)",
            "manual_approval.$": "States.StringToJson($.settings.require_manual_approval)",
            "approval_timeout_seconds.$": "States.StringToJson($.settings.approval_timeout_seconds)"
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
            "rejects.$": "$.Payload.rejects",
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
            "failed.$": "$.Payload.failed",
            "profile.$": "$.Payload.profile_output"
        }),
        "$.validation",
    )
    .timeout_seconds(900);

    let data_invalid = check_failed(
        "Data invalid",
        "Validate",
        "Pipeline.DataInvalid",
        "States.Format('{} of the data checks failed on {} rows: {}', States.ArrayLength($.validation.failed), $.validation.rows, States.JsonToString($.validation.failed))",
    );

    let train = Task::new(
        "Train model",
        TrainingJob::new(
            Input::path("$.run.resource_name"),
            "${SageMakerRoleArn}",
            AlgorithmSpecification::training_image("${TrainingImage}").training_input_mode("File"),
            OutputDataConfig::new(Input::path("$.run.model_output")),
        )
        .input_data_config(vec![
            Channel::new(
                "train",
                DataSource::s3(S3DataSource::prefix(Input::path("$.cleanse.output"))),
            )
            .content_type("text/csv"),
            Channel::new(
                "validation",
                DataSource::s3(S3DataSource::prefix(Input::path(
                    "$.settings.validation_data_uri",
                ))),
            )
            .content_type("text/csv"),
        ])
        .resource_config(ResourceConfig::new("${TrainingInstanceType}", 1, 30))
        .stopping_condition(StoppingCondition::max_runtime(3600))
        .hyper_parameters(string_map([
            ("objective", "binary:logistic"),
            ("eval_metric", "auc"),
            ("num_round", "200"),
            ("max_depth", "5"),
            ("eta", "0.2"),
            ("early_stopping_rounds", "20"),
        ]))
        .tags(stepwright::integrations::tags([(
            "stepwright:pipeline",
            "training",
        )]))
        .try_into_task()?,
    )
    .result_selector(json!({
        "job_name.$": "$.TrainingJobName",
        "model_data.$": "$.ModelArtifacts.S3ModelArtifacts",
        "metrics.$": "$.FinalMetricDataList"
    }))
    .result_path("$.training")
    .retry(sagemaker_transient())
    .catch(catch_failure("Train model"), NOTIFY_FAILURE);

    let evaluate = lambda_task(
        "Evaluate model",
        "${ApprovalGateFunctionArn}",
        json!({
            "model_package_group": "${ModelPackageGroupName}",
            "metrics": {"final_metric_data_list.$": "$.training.metrics"},
            "thresholds": {GATE_METRIC: {"min.$": "$.run.min_validation_auc"}},
            "comparison": {"metric": GATE_METRIC, "direction": "maximize", "min_delta": 0},
            "manual_approval.$": "$.run.manual_approval",
            "model": {"image": "${TrainingImage}", "model_data_url.$": "$.training.model_data"},
            "description.$": "States.Format('Trained by {} on {}', $$.Execution.Name, $.run.raw_url)",
            "idempotency_key.$": "$$.Execution.Id"
        }),
        json!({
            "decision.$": "$.Payload.decision",
            "model_package_arn.$": "$.Payload.model_package_arn",
            "reasons.$": "$.Payload.reasons",
            "metrics.$": "$.Payload.metrics"
        }),
        "$.gate",
    )
    .timeout_seconds(300);

    let model_rejected = check_failed(
        "Model rejected",
        "Evaluate model",
        "Pipeline.ModelRejected",
        "States.Format('the approval gate rejected {}: {}', $.gate.model_package_arn, States.JsonToString($.gate.reasons))",
    );

    let human_approval = Task::new(
        "Human approval",
        LambdaInvoke::new("${ApprovalNotifyFunctionArn}")
            .payload(Input::Literal(json!({
                "task_token.$": "$$.Task.Token",
                "model_package_arn.$": "$.gate.model_package_arn",
                "summary": {
                    "execution.$": "$$.Execution.Name",
                    "data.$": "$.run.raw_url",
                    "training_job.$": "$.training.job_name",
                    "metrics.$": "$.gate.metrics",
                    "reasons.$": "$.gate.reasons"
                },
                "expires_in_seconds.$": "$.run.approval_timeout_seconds"
            })))
            .wait_for_task_token()?,
    )
    .timeout_seconds_path("$.run.approval_timeout_seconds")
    .result_path("$.approval")
    .retry(lambda_throttling())
    .catch(catch_failure("Human approval"), NOTIFY_FAILURE);

    let create_model = Task::new(
        "Create model",
        CreateModel::new(Input::path("$.run.resource_name"), "${SageMakerRoleArn}")
            .primary_container(
                ContainerDefinition::new("${TrainingImage}")
                    .model_data_url(Input::path("$.training.model_data")),
            )
            .tags(stepwright::integrations::tags([(
                "stepwright:pipeline",
                "training",
            )]))
            .try_into_task()?,
    )
    .result_selector(json!({"arn.$": "$.ModelArn"}))
    .result_path("$.model")
    .retry(sagemaker_transient())
    .catch(catch_failure("Create model"), NOTIFY_FAILURE);

    let create_config = Task::new(
        "Create endpoint config",
        CreateEndpointConfig::new(
            Input::path("$.run.resource_name"),
            vec![
                ProductionVariant::new("AllTraffic", Input::path("$.run.resource_name"))
                    .initial_instance_count(1)
                    .instance_type("${InferenceInstanceType}")
                    .initial_variant_weight(1.0),
            ],
        )?
        .try_into_task()?,
    )
    .result_selector(json!({"arn.$": "$.EndpointConfigArn"}))
    .result_path("$.endpoint_config")
    .retry(sagemaker_transient())
    .catch(catch_failure("Create endpoint config"), NOTIFY_FAILURE);

    let summarize = Pass::new("Summarize")
        .parameters(json!({
            "execution.$": "$$.Execution.Name",
            "data": {
                "source.$": "$.run.raw_url",
                "cleaned.$": "$.cleanse.output",
                "rows_in.$": "$.cleanse.rows_in",
                "rows_out.$": "$.cleanse.rows_out",
                "rows_rejected.$": "$.cleanse.rows_rejected",
                "profile.$": "$.validation.profile"
            },
            "training_job.$": "$.training.job_name",
            "model_data.$": "$.training.model_data",
            "metrics.$": "$.gate.metrics",
            "model_package_arn.$": "$.gate.model_package_arn",
            "decision.$": "$.gate.decision",
            "model.$": "$.model.arn",
            "endpoint.$": "$.endpoint"
        }))
        .next(Succeed::new("Deployed"));

    let create_endpoint = Task::new(
        "Create endpoint",
        CreateEndpoint::new("${EndpointName}", Input::path("$.run.resource_name"))
            .try_into_task()?,
    )
    .result_selector(
        json!({"name": "${EndpointName}", "arn.$": "$.EndpointArn", "action": "created"}),
    )
    .result_path("$.endpoint")
    .retry(sagemaker_transient())
    .catch(catch_failure("Create endpoint"), NOTIFY_FAILURE)
    .next(summarize);

    let update_endpoint = Task::new(
        "Update endpoint",
        UpdateEndpoint::new("${EndpointName}", Input::path("$.run.resource_name"))
            .try_into_task()?,
    )
    .result_selector(
        json!({"name": "${EndpointName}", "arn.$": "$.EndpointArn", "action": "updated"}),
    )
    .result_path("$.endpoint")
    .retry(sagemaker_transient())
    .catch(catch_failure("Update endpoint"), NOTIFY_FAILURE)
    .next("Summarize");

    // DescribeEndpoint answers whether the endpoint exists: a missing endpoint is a
    // ValidationException ("Could not find endpoint").
    let find_endpoint = Task::new(
        "Find endpoint",
        AwsSdkCall::new("sagemaker", "describeEndpoint")
            .field("EndpointName", "${EndpointName}")
            .try_into_task()?,
    )
    .result_selector(json!({"status.$": "$.EndpointStatus", "config.$": "$.EndpointConfigName"}))
    .result_path("$.existing_endpoint")
    .retry(sagemaker_sdk_transient())
    .catch(
        Catch::on([
            "SageMaker.ValidationException",
            "SageMaker.ResourceNotFoundException",
        ])
        .result_path("$.existing_endpoint"),
        create_endpoint,
    )
    .catch(catch_failure("Find endpoint"), NOTIFY_FAILURE)
    .next(update_endpoint);

    let deploy = create_model.next(create_config).next(find_endpoint);

    let decision = Choice::new("Gate decision")
        .when(
            Condition::string_equals("$.gate.decision", "Approved"),
            deploy,
        )
        .when(
            Condition::string_equals("$.gate.decision", "PendingManualApproval"),
            human_approval.next("Create model"),
        )
        .otherwise(model_rejected);

    let machine = StateMachine::builder()
        .comment(
            "Stepwright training pipeline: cleanse, validate, train, evaluate, approve and deploy a model when a data set lands in S3. Generated by crates/pipelines: do not edit.",
        )
        .timeout_seconds(7 * 24 * 3600)
        .start(
            configure.next(plan).next(cleanse).next(validate).next(
                Choice::new("Data valid?")
                    .when(
                        Condition::boolean_equals("$.validation.passed", true),
                        train.next(evaluate).next(decision),
                    )
                    .otherwise(data_invalid),
            ),
        )
        .also(failure_path("training"))
        .build()?;
    Ok(machine)
}
