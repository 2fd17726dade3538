//! The scale-out pipeline: cleanse and validate a data set made of many objects as a
//! Distributed Map, then merge the per-object validation profiles into one verdict.

use serde_json::json;
use stepwright::builder::*;
use stepwright::integrations::services::LambdaInvoke;
use stepwright::integrations::Input;

use crate::common::*;
use crate::PipelineError;

/// The scale-out pipeline (`statemachines/scale-out.asl.json`).
///
/// For a data set that is a prefix of many objects (more than one Lambda can cleanse in its 15
/// minutes), Step Functions is the distributed engine: the same machine handles one object or a
/// million.
///
/// Input: `{"bucket", "prefix"}`, or the trigger's `{"bucket", "key", ...}` for a marker object
/// (such as `raw/2024-06-01/_SUCCESS`), whose "directory" is the prefix. Steps:
///
/// 1. **Configure** and **Plan run** (a JSONata state: the prefix, where outputs go, the numeric
///    settings).
/// 2. **Cleanse and validate shards**: a Distributed Map (STANDARD child executions, as a batch
///    may take up to the Lambda's 15 minutes) whose ItemReader lists the objects under the
///    prefix (`s3:listObjectsV2`); an ItemBatcher groups `${ShardBatchSize}` objects per child
///    execution, which makes **one** call of the validate Lambda in `batch` mode (it cleanses
///    each object into `clean/<execution>/`, validates it and writes its profile); up to
///    `${ShardMaxConcurrency}` batches run at once, and up to `${ToleratedFailurePercentage}` %
///    of the objects may fail (a Lambda crash or timeout) before the Map fails. Results go to S3
///    (ResultWriter, under `shards/<map run id>/`), not into the state: a million objects fit.
/// 3. **Merge profiles**: the validate Lambda in `merge` mode reads the Map's result manifest
///    and combines the per-object outcomes and profiles into one verdict and one profile; the
///    data set is invalid when more than `${MaxInvalidObjectPercentage}` % of its objects failed
///    their checks.
/// 4. **Data set valid?** → **Summarize** → **Data set ready**, or the notify-and-fail path.
///
/// ```
/// let m = pipelines::scale_out()?;
/// let stepwright::State::Map(map) = &m.states["Cleanse and validate shards"] else { unreachable!() };
/// assert!(map.is_distributed());
/// # Ok::<(), pipelines::PipelineError>(())
/// ```
pub fn scale_out() -> Result<StateMachine, PipelineError> {
    let configure = Pass::new("Configure")
        .comment("The deployment's settings: SAM/CDK DefinitionSubstitutions fill in the tokens.")
        .parameters(json!({
            "data_bucket": "${DataBucket}",
            "cleanse_config_url": "${CleanseConfigUrl}",
            "validation_suite_url": "${ValidationSuiteUrl}",
            "batch_size": "${ShardBatchSize}",
            "max_concurrency": "${ShardMaxConcurrency}",
            "tolerated_failure_percentage": "${ToleratedFailurePercentage}",
            "max_invalid_percentage": "${MaxInvalidObjectPercentage}"
        }))
        .result_path("$.settings");

    // JSONata: the "directory" of a marker key needs a regular expression, which JSONPath's
    // intrinsics do not have.
    let plan = Pass::new("Plan run")
        .jsonata()
        .output(
            "{% $merge([$states.input, {'run': {\
               'prefix': $exists($states.input.prefix) ? $states.input.prefix : $replace($states.input.key, /[^\\/]*$/, ''),\
               'execution': $states.context.Execution.Name,\
               'source': 's3://' & $states.input.settings.data_bucket,\
               'clean_output': 's3://' & $states.input.settings.data_bucket & '/clean/' & $states.context.Execution.Name,\
               'merged_profile_url': 's3://' & $states.input.settings.data_bucket & '/profiles/' & $states.context.Execution.Name & '/merged.json',\
               'batch_size': $number($states.input.settings.batch_size),\
               'max_concurrency': $number($states.input.settings.max_concurrency),\
               'tolerated_failure_percentage': $number($states.input.settings.tolerated_failure_percentage),\
               'max_invalid_percentage': $number($states.input.settings.max_invalid_percentage)\
             }}]) %}",
        );

    let batch = Task::new(
        "Cleanse and validate batch",
        LambdaInvoke::new("${ValidateFunctionArn}").payload(Input::Literal(json!({
            "batch": {
                "items.$": "$.Items",
                "source.$": "$.BatchInput.source",
                "output.$": "$.BatchInput.output",
                "cleanse_config_url.$": "$.BatchInput.cleanse_config_url",
                "suite_url.$": "$.BatchInput.suite_url"
            }
        }))),
    )
    .result_selector(json!({"objects.$": "$.Payload.objects", "profile.$": "$.Payload.profile"}))
    .timeout_seconds(900)
    .retry(lambda_throttling());

    let shards = Map::new("Cleanse and validate shards")
        .distributed(ExecutionType::Standard)
        .label("shards")
        .item_reader(ItemReader::list_objects_v2().parameters(json!({
            "Bucket": "${DataBucket}",
            "Prefix.$": "$.run.prefix"
        })))
        .item_selector(json!({
            "key.$": "$$.Map.Item.Value.Key",
            "size.$": "$$.Map.Item.Value.Size",
            "etag.$": "$$.Map.Item.Value.Etag"
        }))
        .item_batcher(
            ItemBatcher::max_items_path("$.run.batch_size")
                .and_max_bytes(256 * 1024)
                .batch_input(json!({
                    "source.$": "$.run.source",
                    "output.$": "$.run.clean_output",
                    "cleanse_config_url.$": "$.settings.cleanse_config_url",
                    "suite_url.$": "$.settings.validation_suite_url"
                })),
        )
        .max_concurrency_path("$.run.max_concurrency")
        .tolerated_failure_percentage_path("$.run.tolerated_failure_percentage")
        .result_writer(
            ResultWriter::put_object()
                .parameters(json!({"Bucket": "${DataBucket}", "Prefix": "shards"})),
        )
        .processor(batch)
        .result_path("$.shards")
        .catch(catch_failure("Cleanse and validate shards"), NOTIFY_FAILURE);

    let merge = lambda_task(
        "Merge profiles",
        "${ValidateFunctionArn}",
        json!({
            "merge": {
                "manifest.$": "States.Format('s3://{}/{}', $.shards.ResultWriterDetails.Bucket, $.shards.ResultWriterDetails.Key)",
                "profile_output.$": "$.run.merged_profile_url",
                "max_invalid_percentage.$": "$.run.max_invalid_percentage"
            }
        }),
        json!({
            "passed.$": "$.Payload.passed",
            "objects.$": "$.Payload.objects",
            "objects_invalid.$": "$.Payload.objects_invalid",
            "objects_failed.$": "$.Payload.objects_failed",
            "rows.$": "$.Payload.rows",
            "invalid.$": "$.Payload.invalid",
            "profile.$": "$.Payload.profile_output"
        }),
        "$.verdict",
    )
    .timeout_seconds(900);

    let data_invalid = check_failed(
        "Data invalid",
        "Merge profiles",
        "Pipeline.DataInvalid",
        "States.Format('{} of {} objects failed their checks (at most {} % may): {}', $.verdict.objects_invalid, $.verdict.objects, $.run.max_invalid_percentage, States.JsonToString($.verdict.invalid))",
    );

    let summarize = Pass::new("Summarize").parameters(json!({
        "execution.$": "$$.Execution.Name",
        "prefix.$": "$.run.prefix",
        "objects.$": "$.verdict.objects",
        "objects_invalid.$": "$.verdict.objects_invalid",
        "objects_failed.$": "$.verdict.objects_failed",
        "rows.$": "$.verdict.rows",
        "cleaned.$": "$.run.clean_output",
        "profile.$": "$.verdict.profile",
        "map_run.$": "$.shards.MapRunArn"
    }));

    let machine = StateMachine::builder()
        .comment(
            "Stepwright scale-out pipeline: cleanse and validate every object under a prefix as a Distributed Map, then merge the per-object profiles into one verdict. Generated by crates/pipelines: do not edit.",
        )
        .timeout_seconds(24 * 3600)
        .start(
            configure.next(plan).next(shards).next(merge).next(
                Choice::new("Data set valid?")
                    .when(
                        Condition::boolean_equals("$.verdict.passed", true),
                        summarize.next(Succeed::new("Data set ready")),
                    )
                    .otherwise(data_invalid),
            ),
        )
        .also(failure_path("scale-out"))
        .build()?;
    Ok(machine)
}
