//! Reproduces every rendering in ../shared/conformance/sagemaker-renderings with Stepwright's
//! typed SageMaker API: the AWS CDK's (aws-stepfunctions-tasks, `expected_resolved_us_east_1`)
//! and the Step Functions Data Science SDK's (TrainingStep, ModelStep, ..., TrainingPipeline,
//! InferencePipeline). Each case is built by hand from the case's props/kwargs.
//!
//! Differences that only come from the other tool's defaults are passed explicitly:
//! - the CDK defaults jobs to request-response, so its cases call `.request_response()` where it
//!   rendered no `.sync`; its ResourceConfig/StoppingCondition/TrainingInputMode defaults are
//!   passed as values; its S3 locations are https URLs, passed as such;
//! - the Data Science SDK's estimator fixtures (image, instance type, hyperparameters) are passed
//!   as the literal values the fixture holds; where the SDK renders a value SageMaker would reject
//!   (`null` names, non-string hyperparameters, `Tags` on UpdateEndpoint) the escape hatch
//!   `with_field` reproduces it; `<<py:...>>` values (unknown statically) are passed as the same
//!   placeholder strings.
//!
//! The CDK's error cases must be errors here too, with the CDK's message in ours.

use serde_json::{json, Value};
use stepwright::integrations::sagemaker::*;
use stepwright::integrations::{string_map, tags, Input, IntegrationPattern, StringMap};
use stepwright::{State, StateMachine, TaskState, Transition};
use testkit::{conformance_dir, json_eq, read_json, Tally};

const PCA_IMAGE: &str = "382416733822.dkr.ecr.us-east-1.amazonaws.com/pca:1";
const TF_IMAGE: &str =
    "520713654638.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tensorflow:1.13-gpu-py2";
const S3: &str = "https://s3.us-east-1.amazonaws.com/mybucket";

fn end(t: impl Into<TaskState>) -> TaskState {
    let mut t = t.into();
    t.transition = Transition::end();
    t
}

fn next(t: impl Into<TaskState>, n: &str) -> TaskState {
    let mut t = t.into();
    t.transition = Transition::next(n);
    t
}

fn value(t: TaskState) -> Value {
    serde_json::to_value(State::Task(Box::new(t))).unwrap()
}

fn p(s: &str) -> Input<String> {
    Input::path(s)
}

fn exec(s: &str) -> String {
    format!("$$.Execution.Input['{s}']")
}

// ----------------------------------------------------------------------------------------------
// CDK

fn cdk_basic_training(with_input: bool) -> TrainingJob {
    let job = TrainingJob::new(
        "MyTrainJob",
        "${GetAtt:TrainSagemakerSagemakerRole89E8C593.Arn}",
        AlgorithmSpecification::algorithm_name("BlazingText")
            .unwrap()
            .training_input_mode("File"),
        OutputDataConfig::new(format!("{S3}/myoutputpath")),
    )
    .resource_config(ResourceConfig::new("ml.m4.xlarge", 1, 10))
    .stopping_condition(StoppingCondition::max_runtime(3600))
    .request_response();
    if with_input {
        job.input_data_config(vec![Channel::new(
            "train",
            DataSource::s3(S3DataSource::prefix(format!("{S3}/mytrainpath"))),
        )])
    } else {
        job
    }
}

fn cdk_channel(name: &str, compression: &str, path: &str) -> Channel {
    Channel::new(
        name,
        DataSource::s3(
            S3DataSource::prefix(format!("{S3}/{path}"))
                .attribute_names(vec!["source-ref".to_string(), "class".to_string()]),
        ),
    )
    .compression_type(compression)
    .record_wrapper_type("RecordIO")
    .content_type("image/jpeg")
}

fn cdk_vpc(sgs: [&str; 2]) -> VpcConfig {
    VpcConfig::new(
        sgs.iter().map(|s| s.to_string()).collect(),
        vec![
            "${Ref:VPCPrivateSubnet1Subnet8BCA10E0}".into(),
            "${Ref:VPCPrivateSubnet2SubnetCFCDAA7A}".into(),
        ],
    )
}

fn cdk_transform() -> TransformJob {
    TransformJob::new(
        "MyTransformJob",
        "MyModelName",
        TransformInput::s3_prefix("s3://inputbucket/prefix"),
        TransformOutput::new("s3://outputbucket/prefix"),
        TransformResources::new("ml.m4.xlarge", 1),
    )
    .request_response()
}

fn wftt_error<T>(
    r: Result<T, stepwright::integrations::IntegrationError>,
) -> Result<Value, String> {
    match r {
        Ok(_) => Ok(json!("accepted")),
        Err(e) => Err(e.to_string()),
    }
}

/// Builds CDK case `i`: Ok(state JSON) or Err(error text).
fn cdk_case(i: usize) -> Option<Result<Value, String>> {
    let kms = "${GetAtt:Key961B73FD.Arn}";
    Some(match i {
        0 => Ok(value(end(cdk_basic_training(true)))),
        1 => Ok(value(end(cdk_basic_training(false)))),
        2 => Ok(value(end(TrainingJob::new(
            "MyTrainJob",
            "${GetAtt:Role1ABCC5F0.Arn}",
            AlgorithmSpecification::algorithm_name("BlazingText")
                .unwrap()
                .training_input_mode("FastFile")
                .metric_definitions(vec![MetricDefinition::new("mymetric", "regex_pattern")]),
            OutputDataConfig::new(format!("{S3}/myoutputpath")).kms_key_id(kms),
        )
        .enable_network_isolation(true)
        .hyper_parameters(string_map([("lr", "0.1")]))
        .input_data_config(vec![
            cdk_channel("train", "None", "mytrainpath"),
            cdk_channel("test", "Gzip", "mytestpath"),
        ])
        .resource_config(ResourceConfig::new("ml.p3.2xlarge", 1, 50).volume_kms_key_id(kms))
        .stopping_condition(StoppingCondition::max_runtime(3600))
        .tags(tags([("Project", "MyProject")]))
        .vpc_config(cdk_vpc([
            "${GetAtt:TrainSagemakerTrainJobSecurityGroup7C858EB9.GroupId}",
            "${GetAtt:SecurityGroupDD263621.GroupId}",
        ]))
        .environment(string_map([("SOMEVAR", "myvalue")]))))),
        3 => Ok(value(end(TrainingJob::new(
            p("$.JobName"),
            "${GetAtt:Role1ABCC5F0.Arn}",
            AlgorithmSpecification::algorithm_name("BlazingText")
                .unwrap()
                .training_input_mode("File"),
            OutputDataConfig::new(format!("{S3}/myoutputpath")),
        )
        .input_data_config(vec![Channel::new(
            "train",
            DataSource::s3(S3DataSource::prefix(p("$.S3Bucket"))),
        )])
        .resource_config(ResourceConfig::new(p("$.TrainingJob.InstanceType"), 1, 50))
        .stopping_condition(StoppingCondition::max_runtime(3600))
        .request_response()))),
        4 => Ok(value(end(TrainingJob::new(
            "MyTrainJob",
            "role",
            AlgorithmSpecification::training_image(p("$.Training.imageName"))
                .training_input_mode("File"),
            OutputDataConfig::new(format!("{S3}/myoutputpath")),
        )))),
        5 => Ok(value(end(TrainingJob::new(
            "MyTrainJob",
            "role",
            AlgorithmSpecification::algorithm_name(
                "arn:aws:sagemaker:us-east-1:123456789012:algorithm/scikit-decision-trees",
            )
            .unwrap(),
            OutputDataConfig::new(format!("{S3}/myoutputpath")),
        )))),
        6 => wftt_error(
            cdk_basic_training(true).integration_pattern(IntegrationPattern::WaitForTaskToken),
        ),
        7 => wftt_error(AlgorithmSpecification::from_parts(None, None)),
        8 => wftt_error(AlgorithmSpecification::from_parts(
            Some("BlazingText".into()),
            Some("image".into()),
        )),
        9 => wftt_error(AlgorithmSpecification::algorithm_name("a".repeat(171))),
        10 => wftt_error(AlgorithmSpecification::algorithm_name("Blazing_Text")),
        11 => Ok(value(end(CreateEndpointConfig::new(
            "MyEndpointConfig",
            vec![ProductionVariant::new("awesome-variant", "MyModel")
                .initial_instance_count(2)
                .instance_type("ml.m5.xlarge")],
        )
        .unwrap()))),
        12 => Ok(value(end(CreateEndpointConfig::new(
            p("$.Endpoint.EndpointConfig"),
            vec![
                ProductionVariant::new("awesome-variant", "MyModel")
                    .initial_instance_count(1)
                    .instance_type("ml.m5.xlarge")
                    .initial_variant_weight(0.8),
                ProductionVariant::new("awesome-variant-2", p("$.Endpoint.Model"))
                    .initial_instance_count(1)
                    .instance_type(p("$.Endpoint.InstanceType"))
                    .initial_variant_weight(0.2),
            ],
        )
        .unwrap()
        .kms_key_id("${Ref:Key961B73FD}")
        .tags(tags([("Project", "ML")]))))),
        13 => wftt_error(CreateEndpointConfig::new("MyEndpointConfig", vec![])),
        14 => wftt_error(
            CreateEndpointConfig::new(
                "MyEndpointConfig",
                vec![ProductionVariant::new("v", "MyModel")],
            )
            .unwrap()
            .integration_pattern(IntegrationPattern::WaitForTaskToken),
        ),
        15 => Ok(value(end(CreateModel::new(
            "MyModel",
            "${GetAtt:SagemakerModelSagemakerRoleF5035084.Arn}",
        )
        .primary_container(
            ContainerDefinition::new(p("$.Model.imageName"))
                .model_data_url(p("$.TrainingJob.ModelArtifacts.S3ModelArtifacts"))
                .mode("SingleModel"),
        )))),
        16 => Ok(value(end(CreateModel::new(
            p("$.ModelName"),
            "${GetAtt:Role1ABCC5F0.Arn}",
        )
        .primary_container(
            ContainerDefinition::new(p("$.Model.imageName"))
                .model_data_url(p("$.TrainingJob.ModelArtifacts.S3ModelArtifacts"))
                .mode("MultiModel"),
        )
        .enable_network_isolation(true)
        .tags(tags([("Project", "ML")]))
        .vpc_config(cdk_vpc([
            "${GetAtt:SecurityGroupDD263621.GroupId}",
            "${GetAtt:SagemakerModelModelSecurityGroup4D2A2C36.GroupId}",
        ]))))),
        17 => wftt_error(
            CreateModel::new("MyModel", "role")
                .integration_pattern(IntegrationPattern::WaitForTaskToken),
        ),
        18 => Ok(value(end(cdk_transform()))),
        19 => Ok(value(end(TransformJob::new(
            "MyTransformJob",
            "MyModelName",
            TransformInput::s3_prefix("s3://inputbucket/prefix"),
            TransformOutput::new("s3://outputbucket/prefix").kms_key_id(kms),
            TransformResources::new("ml.p3.2xlarge", 1).volume_kms_key_id(kms),
        )
        .model_client_config(
            ModelClientConfig::default()
                .invocations_max_retries(1)
                .invocations_timeout_in_seconds(1200),
        )
        .tags(tags([("Project", "MyProject")]))
        .max_concurrent_transforms(3)
        .max_payload_in_mb(100)
        .environment(string_map([("SOMEVAR", "myvalue")]))
        .batch_strategy("MultiRecord")))),
        20 => Ok(value(end(TransformJob::new(
            p("$.TransformJobName"),
            p("$.ModelName"),
            TransformInput::s3_prefix("s3://inputbucket/prefix"),
            TransformOutput::new("s3://outputbucket/prefix"),
            TransformResources::new("ml.p3.2xlarge", 1),
        )
        .request_response()))),
        21 => Ok(value(end(TransformJob::new(
            "MyTransformJob",
            "MyModelName",
            TransformInput::s3_prefix("s3://inputbucket/prefix"),
            TransformOutput::new("s3://outputbucket/prefix"),
            TransformResources::new(p("$.InstanceType"), 1),
        )
        .request_response()))),
        22 => wftt_error(cdk_transform().integration_pattern(IntegrationPattern::WaitForTaskToken)),
        23 => Ok(value(end(CreateEndpoint::new(
            "MyEndpoint",
            "MyEndpointConfig",
        )))),
        24 => Ok(value(end(CreateEndpoint::new(
            "MyEndpoint",
            "MyEndpointConfig",
        )
        .tags(tags([("Label", "ML")]))))),
        25 => Ok(value(end(CreateEndpoint::new(
            p("$.EndpointName"),
            p("$.EndpointConfig"),
        )))),
        26 => wftt_error(
            CreateEndpoint::new("MyEndpoint", "MyEndpointConfig")
                .integration_pattern(IntegrationPattern::WaitForTaskToken),
        ),
        27 => Ok(value(end(UpdateEndpoint::new(
            "MyEndpoint",
            "MyEndpointConfig",
        )))),
        28 => Ok(value(end(UpdateEndpoint::new(
            p("$.Endpoint.Name"),
            p("$.Endpoint.Config"),
        )))),
        29 => wftt_error(
            UpdateEndpoint::new("MyEndpoint", "MyEndpointConfig")
                .integration_pattern(IntegrationPattern::WaitForTaskToken),
        ),
        _ => return None,
    })
}

/// `expected` is contained in `actual` (jest's toMatchObject).
fn matches_object(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| matches_object(av, v))),
        _ => json_eq(actual, expected),
    }
}

#[test]
fn cdk_sagemaker_tasks() {
    let data =
        read_json(&conformance_dir().join("sagemaker-renderings/sagemaker_tasks.expected.json"));
    let cases = data["cases"].as_array().unwrap();
    let mut tally = Tally::new();
    for (i, case) in cases.iter().enumerate() {
        let name = format!(
            "cdk #{i} {}: {}",
            case["construct"].as_str().unwrap(),
            case["test"].as_str().unwrap()
        );
        let kind = case["kind"].as_str().unwrap();
        let area = format!("cdk {kind}");
        let Some(got) = cdk_case(i) else {
            tally.fail(&area, format!("{name}: not built"));
            continue;
        };
        let ok = match (kind, &got) {
            ("toThrow", Err(msg)) => {
                let want = case["expected_error"].as_str().unwrap();
                msg.contains(want)
            }
            ("toEqual", Ok(v)) => json_eq(v, &case["expected_resolved_us_east_1"]),
            ("toMatchObject", Ok(v)) => matches_object(v, &case["expected_resolved_us_east_1"]),
            _ => false,
        };
        if ok {
            tally.record(&area, true);
        } else {
            tally.fail(
                &area,
                format!(
                    "{name}\n  got:      {}\n  expected: {}",
                    match &got {
                        Ok(v) => v.to_string(),
                        Err(e) => format!("error: {e}"),
                    },
                    case.get("expected_resolved_us_east_1")
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| case["expected_error"].to_string())
                ),
            );
        }
    }
    tally.report("CDK SageMaker task renderings reproduced");
    for f in tally.failures() {
        println!("FAIL {f}");
    }
    let (passed, total) = tally.totals();
    assert_eq!(total, 30, "the corpus has 30 CDK cases");
    assert_eq!(passed, total, "every CDK case must be reproduced");
}

// ----------------------------------------------------------------------------------------------
// Data Science SDK

fn pca_hyperparameters() -> StringMap {
    string_map([
        ("feature_dim", "50000"),
        ("num_components", "10"),
        ("subtract_mean", "True"),
        ("algorithm_mode", "randomized"),
        ("mini_batch_size", "200"),
    ])
}

fn pca_training(job: impl Into<Input<String>>, output: &str) -> TrainingJob {
    TrainingJob::new(
        job,
        "execution-role",
        AlgorithmSpecification::training_image(PCA_IMAGE).training_input_mode("File"),
        OutputDataConfig::new(output),
    )
    .stopping_condition(StoppingCondition::max_runtime(86400))
    .resource_config(ResourceConfig::new("ml.c4.xlarge", 1, 30))
    .hyper_parameters(pca_hyperparameters())
}

fn tf_hyperparameters(job_name: &str) -> StringMap {
    string_map([
        (
            "checkpoint_path",
            "\"s3://sagemaker/models/sagemaker-tensorflow/checkpoints\"",
        ),
        ("evaluation_steps", "100"),
        ("sagemaker_container_log_level", "20"),
        ("sagemaker_job_name", job_name),
        ("sagemaker_program", "\"tf_train.py\""),
        ("sagemaker_region", "\"us-east-1\""),
        ("sagemaker_submit_directory", "\"s3://sagemaker/source\""),
        ("training_steps", "1000"),
    ])
}

fn fully_replicated(uri: impl Into<Input<String>>, name: &str) -> Channel {
    Channel::new(
        name,
        DataSource::s3(S3DataSource::prefix(uri).s3_data_distribution_type("FullyReplicated")),
    )
}

fn tf_training(hp: StringMap) -> TrainingJob {
    TrainingJob::new(
        "tensorflow-job",
        "execution-role",
        AlgorithmSpecification::training_image(TF_IMAGE).training_input_mode("File"),
        OutputDataConfig::new("s3://sagemaker/models"),
    )
    .input_data_config(vec![fully_replicated("s3://sagemaker/train", "train")])
    .debug_hook_config(DebugHookConfig::default().s3_output_path("s3://sagemaker/models/debug"))
    .stopping_condition(StoppingCondition::max_runtime(86400))
    .resource_config(ResourceConfig::new("ml.p2.xlarge", 1, 30))
    .hyper_parameters(hp)
}

fn ds_model(name: impl Into<Input<String>>, image: &str, env: StringMap) -> CreateModel {
    CreateModel::new(name, "execution-role").primary_container(
        ContainerDefinition::new(image)
            .environment(env)
            .model_data_url(p("$['ModelArtifacts']['S3ModelArtifacts']")),
    )
}

fn job_env() -> StringMap {
    string_map([("JobName", "job_name"), ("ModelName", "model_name")])
}

fn purpose() -> Vec<stepwright::integrations::Tag> {
    tags([("Purpose", "unittests")])
}

fn ds_processing_inputs() -> Vec<ProcessingInput> {
    vec![ProcessingInput::default()
        .with_field("InputName", Value::Null)
        .app_managed(false)
        .s3_input(
            ProcessingS3Input::new("dataset.csv", "/opt/ml/processing/input")
                .s3_compression_type("None")
                .s3_data_distribution_type("FullyReplicated"),
        )]
}

fn ds_processing_outputs() -> Vec<ProcessingOutput> {
    ["train", "validation", "test"]
        .iter()
        .map(|n| {
            ProcessingOutput::default()
                .with_field("OutputName", Value::Null)
                .app_managed(false)
                .s3_output(
                    ProcessingS3Output::default()
                        .local_path(format!("/opt/ml/processing/output/{n}"))
                        .s3_upload_mode("EndOfJob")
                        .with_field("S3Uri", Value::Null),
                )
        })
        .collect()
}

fn tuning_config() -> TuningJobConfig {
    TuningJobConfig::default()
        .objective(TuningObjective::minimize("test:msd"))
        .parameter_ranges(
            ParameterRanges::default()
                .categorical_parameter_ranges(vec![CategoricalParameterRange::new(
                    "init_method",
                    vec!["\"kmeans++\"".into(), "\"random\"".into()],
                )])
                .continuous_parameter_ranges(vec![])
                .integer_parameter_ranges(vec![
                    IntegerParameterRange::new("extra_center_factor", 4, 10).scaling_type("Auto"),
                    IntegerParameterRange::new("epochs", 1, 2).scaling_type("Auto"),
                ]),
        )
        .resource_limits(ResourceLimits::new(2, 2))
        .strategy("Bayesian")
        .training_job_early_stopping_type("Off")
}

fn tuning_definition() -> TrainingJobDefinition {
    let mut hp = tf_hyperparameters("<<py:generated_sagemaker_job_name>>");
    hp.insert(
        "sagemaker_estimator_class_name".into(),
        "\"TensorFlow\"".into(),
    );
    hp.insert(
        "sagemaker_estimator_module".into(),
        "\"sagemaker.tensorflow.estimator\"".into(),
    );
    TrainingJobDefinition::default()
        .algorithm_specification(
            AlgorithmSpecification::training_image(TF_IMAGE).training_input_mode("File"),
        )
        .output_data_config(OutputDataConfig::new("s3://sagemaker/models"))
        .resource_config(ResourceConfig::new("ml.p2.xlarge", 1, 30))
        .role_arn("execution-role")
        .static_hyper_parameters(hp)
        .stopping_condition(StoppingCondition::max_runtime(86400))
}

fn experiment(component: &str) -> ExperimentConfig {
    ExperimentConfig::default()
        .experiment_name("pca_experiment")
        .trial_name("pca_trial")
        .trial_component_display_name(component)
}

/// Builds Data Science SDK case `i` of test_sagemaker_steps: the whole state JSON.
fn ds_step(i: usize) -> Option<Value> {
    let tf_job = "\"tensorflow-job\"";
    Some(match i {
        0 => value(end(pca_training("TrainingJob", "s3://sagemaker-us-east-1-111111111111")
            .experiment_config(experiment("Training"))
            .tags(purpose()))),
        1 => value(end(TrainingJob::new(
            p("$['JobName']"),
            "execution-role",
            AlgorithmSpecification::training_image(PCA_IMAGE)
                .training_input_mode("File")
                .metric_definitions(Input::path(exec("MetricDefinitions")))
                .enable_sage_maker_metrics_time_series(Input::path(exec("EnableSagemakerMetrics"))),
            OutputDataConfig::new(p(&exec("OutputPath"))),
        )
        .checkpoint_config(
            CheckpointConfig::default()
                .local_path(p(&exec("CheckpointLocalPath")))
                .s3_uri(p(&exec("CheckpointS3Uri"))),
        )
        .enable_network_isolation(Input::path(exec("EnableNetworkIsolation")))
        .environment(Input::path(exec("Environment")))
        .stopping_condition(
            StoppingCondition::max_runtime(Input::path(exec("MaxRun")))
                .max_wait_time_in_seconds(Input::path(exec("MaxWait"))),
        )
        .resource_config(
            ResourceConfig::new(p(&exec("InstanceType")), Input::path(exec("InstanceCount")), 30),
        )
        .hyper_parameters(Input::path(exec("HyperParameters")))
        .input_data_config(vec![fully_replicated(p(&exec("Data")), "training")])
        .experiment_config(Input::path(exec("ExperimentConfig")))
        .tags(Input::path(exec("Tags"))))),
        2 => value(end(pca_training(p("$['JobName']"), "s3://x")
            // The SDK merges the estimator's hyperparameters as numbers and booleans here
            // (SageMaker requires strings); reproduced through the escape hatch.
            .with_field(
                "HyperParameters",
                json!({
                    "HyperParamA.$": "$$.Execution.Input['HyperParamA']",
                    "HyperParamB.$": "$$.Execution.Input['HyperParamB']",
                    "algorithm_mode": "randomized",
                    "feature_dim": 50000,
                    "mini_batch_size": 200,
                    "num_components.$": "$$.Execution.Input['num_components']",
                    "subtract_mean": true
                }),
            ))),
        3 => value(end(pca_training("TrainingJob", "s3://sagemaker/models")
            .debug_hook_config(
                DebugHookConfig::default()
                    .s3_output_path("s3://sagemaker/output/debug")
                    .hook_parameters(string_map([("save_interval", "1")]))
                    .collection_configurations(vec![
                        CollectionConfiguration::new("hyperparameters"),
                        CollectionConfiguration::new("metrics"),
                    ]),
            )
            .debug_rule_configurations(vec![DebugRuleConfiguration::default()
                .rule_configuration_name("Confusion")
                .rule_evaluator_image(
                    "503895931360.dkr.ecr.us-east-1.amazonaws.com/sagemaker-debugger-rules:latest",
                )
                .rule_parameters(string_map([
                    ("rule_to_invoke", "Confusion"),
                    ("category_no", "15"),
                    ("min_diag", "0.7"),
                    ("max_off_diag", "0.3"),
                    ("start_step", "17"),
                    ("end_step", "19"),
                ]))]))),
        4 => value(end(pca_training("TrainingJob", "s3://sagemaker/models"))),
        5 | 7 => value(next(
            pca_training("TrainingJob", "s3://sagemaker/models"),
            "Training - Save Model",
        )),
        6 => value(end(ds_model(p("$['TrainingJobName']"), PCA_IMAGE, StringMap::new()))),
        8 => value(end(ds_model(p("$['TrainingJobName']"), PCA_IMAGE, job_env()))),
        9 => value(end(tf_training(tf_hyperparameters(tf_job)).tags(purpose()))),
        10 => {
            let mut hp = tf_hyperparameters(tf_job);
            hp.insert("key".into(), "value".into());
            value(end(tf_training(hp)))
        }
        11 => {
            let mut hp = tf_hyperparameters(tf_job);
            hp.insert("training_steps".into(), "500".into());
            value(end(tf_training(hp)))
        }
        12 => value(end(TransformJob::new(
            "transform-job",
            "pca-model",
            TransformInput::s3_prefix("s3://sagemaker/inference"),
            TransformOutput::new("s3://sagemaker/transform-output"),
            TransformResources::new("ml.c4.xlarge", 1),
        )
        .experiment_config(experiment("Transform"))
        .data_processing(
            DataProcessing::default()
                .input_filter("$[1:]")
                .output_filter("$[2:]")
                .join_source("Input"),
        )
        .tags(purpose()))),
        13 => value(end(TransformJob::new(
            p(&exec("job_name")),
            p(&exec("model_name")),
            TransformInput::s3(p(&exec("data_type")), p(&exec("data")))
                .compression_type(p(&exec("compression_type")))
                .content_type(p(&exec("content_type")))
                .split_type(p(&exec("split_type"))),
            TransformOutput::new(p(&exec("output_path")))
                .accept(p(&exec("accept")))
                .assemble_with(p(&exec("assemble_with")))
                .kms_key_id(p(&exec("output_kms_key"))),
            TransformResources::new(p("$['instance_type']"), Input::path(exec("instance_count")))
                .volume_kms_key_id(p(&exec("volume_kms_key"))),
        )
        .batch_strategy(p(&exec("strategy")))
        .experiment_config(Input::path(exec("experiment_config")))
        .data_processing(
            DataProcessing::default()
                .input_filter(p(&exec("input_filter")))
                .output_filter(p(&exec("output_filter")))
                .join_source(p(&exec("join_source"))),
        )
        .tags(Input::path(exec("tags")))
        .environment(Input::path(exec("env")))
        .max_concurrent_transforms(Input::path(exec("max_concurrent_transforms")))
        .max_payload_in_mb(Input::path(exec("max_payload"))))),
        14 => value(end(CreateModel::new("pca-model", "execution-role").primary_container(
            ContainerDefinition::new("<<py:expected_model.image_uri>>")
                .environment(StringMap::new())
                .model_data_url(p("$['ModelArtifacts']['S3ModelArtifacts']")),
        ))),
        15 => value(end(ds_model("pca-model", "<<py:expected_model.image_uri>>", job_env()))),
        16 => value(end(ds_model(
            "tf-model",
            "<<py:expected_model.image_uri>>",
            string_map([
                ("SAGEMAKER_PROGRAM", "tf_train.py"),
                (
                    "SAGEMAKER_SUBMIT_DIRECTORY",
                    "s3://sagemaker/tensorflow-job/source/sourcedir.tar.gz",
                ),
                ("SAGEMAKER_CONTAINER_LOG_LEVEL", "20"),
                ("SAGEMAKER_REGION", "us-east-1"),
            ]),
        ))),
        17 | 19 => value(end(CreateModel::new("pca-model", "execution-role")
            .primary_container(
                ContainerDefinition::new(PCA_IMAGE)
                    .environment(if i == 17 { StringMap::new() } else { job_env() })
                    .model_data_url("s3://sagemaker/models/pca.tar.gz"),
            )
            .tags(purpose()))),
        18 => value(end(CreateModel::new(p("$['ModelName']"), "execution-role")
            .primary_container(
                ContainerDefinition::new(PCA_IMAGE)
                    .environment(Input::path(exec("Environment")))
                    .model_data_url("s3://sagemaker/models/pca.tar.gz"),
            )
            .tags(Input::path(exec("Tags"))))),
        20 => value(end(CreateEndpointConfig::new(
            "MyEndpointConfig",
            vec![ProductionVariant::new("AllTraffic", "pca-model")
                .initial_instance_count(1)
                .instance_type("ml.p2.xlarge")],
        )
        .unwrap()
        .data_capture_config(
            DataCaptureConfig::new("s3://sagemaker/datacapture", 100).capture_content_type_header(
                CaptureContentTypeHeader::default()
                    .csv_content_types(vec!["text/csv".into()])
                    .json_content_types(vec!["application/json".into()]),
            ),
        )
        .tags(purpose()))),
        21 => value(end(CreateEndpoint::new("MyEndPoint", "MyEndpointConfig").tags(purpose()))),
        // UpdateEndpoint takes no Tags in the SageMaker API; the SDK renders them anyway.
        22 => value(end(UpdateEndpoint::new("MyEndPoint", "MyEndpointConfig").with_field(
            "Tags",
            json!([{"Key": "Purpose", "Value": "unittests"}]),
        ))),
        23 => value(end(ProcessingJob::new(
            "MyProcessingJob",
            "execution-role",
            AppSpecification::new(
                "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:0.20.0-cpu-py3",
            ),
            ProcessingResources::new("ml.m5.xlarge", 1, 30),
        )
        .processing_inputs(ds_processing_inputs())
        .processing_output_config(ProcessingOutputConfig::new(ds_processing_outputs())))),
        24 => value(end(ProcessingJob::new(
            "MyProcessingJob",
            p(&exec("role")),
            AppSpecification::new(p(&exec("image_uri")))
                .container_arguments(Input::path(exec("container_arguments")))
                .container_entrypoint(Input::path(exec("entrypoint"))),
            ProcessingResources::default().cluster_config(
                ClusterConfig::default()
                    .instance_count(Input::path(exec("instance_count")))
                    .instance_type(p("$['instance_type']"))
                    .volume_kms_key_id(p(&exec("volume_kms_key")))
                    .volume_size_in_gb(Input::path(exec("volume_size_in_gb"))),
            ),
        )
        .environment(Input::path(exec("env")))
        .processing_inputs(ds_processing_inputs())
        .processing_output_config(
            ProcessingOutputConfig::new(ds_processing_outputs())
                .kms_key_id(p(&exec("output_kms_key"))),
        )
        .tags(Input::path(exec("tags")))
        .stopping_condition(StoppingCondition::max_runtime(Input::path(exec(
            "max_runtime_in_seconds",
        )))))),
        25 => value(end(TuningJob::new("tensorflow-job", tuning_config())
            .tags(purpose())
            .training_job_definition(
                tuning_definition()
                    .input_data_config(vec![fully_replicated("s3://sagemaker/train", "train")]),
            ))),
        26 => value(end(TuningJob::new(
            p("$['job_name']"),
            tuning_config()
                .objective(
                    TuningObjective::default()
                        .metric_name(p(&exec("objective_metric_name")))
                        .objective_type(p(&exec("objective_type"))),
                )
                .resource_limits(
                    ResourceLimits::new(
                        Input::path(exec("max_jobs")),
                        Input::path(exec("max_parallel_jobs")),
                    ),
                )
                .strategy(p(&exec("strategy")))
                .training_job_early_stopping_type(p(&exec("early_stopping_type"))),
        )
        .tags(Input::path(exec("tags")))
        .training_job_definition(
            tuning_definition()
                .hyper_parameter_ranges(Input::path(exec("hyperparameter_ranges")))
                .input_data_config(Input::path(exec("data_input"))),
        ))),
        _ => return None,
    })
}

fn pipeline_input(state: &str, field: &str) -> String {
    format!("$$.Execution.Input['{state}'].{field}")
}

fn pipeline_training(state: &str, debug_hook: bool) -> TrainingJob {
    let f = |field: &str| pipeline_input(state, field);
    let job = TrainingJob::new(
        p(&f("TrainingJobName")),
        p(&f("RoleArn")),
        Input::path(f("AlgorithmSpecification")),
        Input::path(f("OutputDataConfig")),
    )
    .hyper_parameters(Input::path(f("HyperParameters")))
    .input_data_config(Input::path(f("InputDataConfig")))
    .resource_config(Input::path(f("ResourceConfig")))
    .stopping_condition(Input::path(f("StoppingCondition")));
    if debug_hook {
        job.debug_hook_config(Input::path(f("DebugHookConfig")))
    } else {
        job
    }
}

fn pipeline_model(state: &str, pipeline: bool) -> CreateModel {
    let f = |field: &str| pipeline_input(state, field);
    let m = CreateModel::new(p(&f("ModelName")), p(&f("ExecutionRoleArn")));
    if pipeline {
        m.containers(Input::path(f("Containers")))
    } else {
        m.primary_container(Input::path(f("PrimaryContainer")))
    }
}

fn pipeline_deploy(states: &mut Vec<(String, TaskState)>) {
    let f = |s: &str, field: &str| pipeline_input(s, field);
    states.push((
        "Configure Endpoint".into(),
        next(
            CreateEndpointConfig::new(
                p(&f("Configure Endpoint", "EndpointConfigName")),
                Input::path(f("Configure Endpoint", "ProductionVariants")),
            )
            .unwrap(),
            "Deploy",
        ),
    ));
    states.push((
        "Deploy".into(),
        end(CreateEndpoint::new(
            p(&f("Deploy", "EndpointName")),
            p(&f("Deploy", "EndpointConfigName")),
        )),
    ));
}

fn machine(states: Vec<(String, TaskState)>) -> Value {
    let json = json!({
        "StartAt": states[0].0,
        "States": states.into_iter().map(|(n, t)| (n, value(t))).collect::<serde_json::Map<_, _>>(),
    });
    // Round-trip through the model: the machine must parse.
    StateMachine::from_value(&json).unwrap().to_value()
}

/// The Data Science SDK's TrainingPipeline and InferencePipeline, as whole machines.
fn ds_pipeline(test: &str) -> Option<Value> {
    let mut states: Vec<(String, TaskState)> = Vec::new();
    match test {
        "test_pca_training_pipeline" => {
            states.push((
                "Training".into(),
                next(pipeline_training("Training", false), "Create Model"),
            ));
            states.push((
                "Create Model".into(),
                next(pipeline_model("Create Model", false), "Configure Endpoint"),
            ));
        }
        "test_inference_pipeline" => {
            let f = |field: &str| pipeline_input("Transform Input", field);
            states.push((
                "Train Preprocessor".into(),
                next(
                    pipeline_training("Train Preprocessor", true),
                    "Create Preprocessor Model",
                ),
            ));
            states.push((
                "Create Preprocessor Model".into(),
                next(
                    pipeline_model("Create Preprocessor Model", false),
                    "Transform Input",
                ),
            ));
            states.push((
                "Transform Input".into(),
                next(
                    TransformJob::new(
                        p(&f("TransformJobName")),
                        p(&f("ModelName")),
                        Input::path(f("TransformInput")),
                        Input::path(f("TransformOutput")),
                        Input::path(f("TransformResources")),
                    )
                    .environment(Input::path(f("Environment")))
                    .max_payload_in_mb(Input::path(f("MaxPayloadInMB"))),
                    "Training",
                ),
            ));
            states.push((
                "Training".into(),
                next(pipeline_training("Training", true), "Create Pipeline Model"),
            ));
            states.push((
                "Create Pipeline Model".into(),
                next(
                    pipeline_model("Create Pipeline Model", true),
                    "Configure Endpoint",
                ),
            ));
        }
        _ => return None,
    }
    pipeline_deploy(&mut states);
    Some(machine(states))
}

fn subpath<'a>(v: &'a Value, path: &[Value]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k.as_str().unwrap()))
}

#[test]
fn data_science_sdk_steps_and_pipelines() {
    let dir = conformance_dir().join("sagemaker-renderings");
    let mut tally = Tally::new();
    for (file, area) in [
        (
            "test_sagemaker_steps.expected.json",
            "data science sdk steps",
        ),
        ("test_pipeline.expected.json", "data science sdk pipelines"),
    ] {
        let data = read_json(&dir.join(file));
        for (i, case) in data["cases"].as_array().unwrap().iter().enumerate() {
            let test = case["test"].as_str().unwrap();
            let name = format!(
                "{file} #{i} {test} ({})",
                case["step_class"].as_str().unwrap()
            );
            let built = if area.ends_with("steps") {
                ds_step(i)
            } else {
                ds_pipeline(test)
            };
            let Some(built) = built else {
                tally.fail(area, format!("{name}: not built"));
                continue;
            };
            let path = case["expected_subpath"].as_array().unwrap();
            let got = subpath(&built, path);
            let expected = &case["expected"];
            if got.is_some_and(|g| json_eq(g, expected)) {
                tally.record(area, true);
            } else {
                tally.fail(
                    area,
                    format!(
                        "{name}\n  got:      {}\n  expected: {expected}",
                        got.map(|g| g.to_string()).unwrap_or_default()
                    ),
                );
            }
        }
    }
    tally.report("Data Science SDK SageMaker renderings reproduced");
    for f in tally.failures() {
        println!("FAIL {f}");
    }
    let (passed, total) = tally.totals();
    assert_eq!(
        total,
        27 + 12,
        "the corpus has 27 step and 12 pipeline cases"
    );
    assert_eq!(
        passed, total,
        "every Data Science SDK case must be reproduced"
    );
}

/// Every reproduced state passes our own integration checks and parses as part of a machine.
#[test]
fn rendered_states_parse_and_pass_pattern_checks() {
    use stepwright::integrations::patterns::{check_machine, CheckOptions};
    let mut states = serde_json::Map::new();
    for i in 0..40 {
        if let Some(Ok(v)) = cdk_case(i) {
            states.insert(format!("cdk{i}"), v);
        }
        if let Some(v) = ds_step(i) {
            let mut v = v;
            v.as_object_mut().unwrap().remove("Next");
            v["End"] = json!(true);
            states.insert(format!("ds{i}"), v);
        }
    }
    let n = states.len();
    let json = json!({"StartAt": "cdk0", "States": states});
    let m = StateMachine::from_value(&json).expect("every rendered state parses");
    assert_eq!(m.states.len(), n);
    assert!(check_machine(&m, &CheckOptions::default()).is_empty());
    // The same machine as EXPRESS: every .sync job is refused.
    let d = check_machine(&m, &CheckOptions { express: true });
    let syncs = m
        .states
        .values()
        .filter(|s| matches!(s, State::Task(t) if t.resource.as_arn().unwrap().ends_with(".sync")))
        .count();
    assert!(syncs > 10);
    assert_eq!(d.len(), syncs);
}

/// asl-validator (npm, the project's pinned 4.0.0 in tools/, or `STEPWRIGHT_ASL_VALIDATOR`
/// pointing at its `dist/bin/asl-validator.js`). Required in CI once tools/package.json pins it;
/// otherwise skipped with a message when it is not installed.
fn asl_validator() -> Option<std::path::PathBuf> {
    if let Ok(p) = std::env::var("STEPWRIGHT_ASL_VALIDATOR") {
        return Some(p.into());
    }
    // This crate's own manifest dir (testkit's may come from another checkout sharing a target
    // directory).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = root.join("tools/node_modules/asl-validator/dist/bin/asl-validator.js");
    if p.exists() {
        return Some(p);
    }
    let pinned = std::fs::read_to_string(root.join("tools/package.json"))
        .is_ok_and(|s| s.contains("asl-validator"));
    assert!(
        !(pinned && std::env::var_os("CI").is_some()),
        "asl-validator is pinned in tools/package.json but not installed (make setup)"
    );
    None
}

fn run_asl_validator(bin: &std::path::Path, machine: &Value, name: &str) -> Result<(), String> {
    let file = std::env::temp_dir().join(format!("stepwright-{name}-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_string_pretty(machine).unwrap()).unwrap();
    let out = std::process::Command::new("node")
        .arg(bin)
        .arg("--json-path")
        .arg(&file)
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    let _ = std::fs::remove_file(&file);
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Every reproduced rendering and an example of every other integration in a JSONPath machine,
/// and JSONata renderings in a JSONata machine.
fn all_rendered() -> (Value, Value) {
    use stepwright::integrations::registry::*;
    use stepwright::integrations::services::*;
    let mut tasks: Vec<TaskState> = Vec::new();
    // SageMaker renderings (as states).
    let mut states = serde_json::Map::new();
    for i in 0..40 {
        if let Some(Ok(v)) = cdk_case(i) {
            states.insert(format!("cdk{i}"), v);
        }
        if let Some(v) = ds_step(i) {
            states.insert(format!("ds{i}"), v);
        }
    }
    // Every other integration.
    tasks.push(LambdaInvoke::new("f").payload(Input::path("$")).into());
    tasks.push(
        LambdaInvoke::new("f")
            .payload(json!({"token.$": "$$.Task.Token"}))
            .wait_for_task_token()
            .unwrap()
            .into(),
    );
    tasks.push(SnsPublish::topic("arn:aws:sns:us-east-1:123456789012:t", "m").into());
    tasks.push(
        SqsSendMessage::new(
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
            json!({"a": 1}),
        )
        .into(),
    );
    tasks.push(EventBridgePutEvents::new(vec![EventEntry::new("s", "d", json!({}))]).into());
    tasks.push(DynamoGetItem::new("t", json!({"pk": {"S": "a"}})).into());
    tasks.push(DynamoPutItem::new("t", json!({"pk": {"S": "a"}})).into());
    tasks.push(
        DynamoUpdateItem::new("t", json!({"pk": {"S": "a"}}))
            .update_expression("SET a = :a")
            .into(),
    );
    tasks.push(DynamoDeleteItem::new("t", json!({"pk": {"S": "a"}})).into());
    tasks.push(StartExecution::new("arn:aws:states:us-east-1:123456789012:stateMachine:c").into());
    tasks.push(Activity::new("arn:aws:states:us-east-1:123456789012:activity:a").into());
    tasks.push(
        AwsSdkCall::new("s3", "getObject")
            .field("Bucket", "b")
            .field("Key", "k")
            .into(),
    );
    tasks.push(CreateModelPackage::new("g").into());
    tasks.push(UpdateModelPackage::approve(Input::path("$.arn")).into());
    tasks.push(DescribeModelPackage::new("p").into());
    tasks.push(ListModelPackages::new("g").into());
    tasks.push(DescribeEndpoint::new("e").into());
    tasks.push(
        LabelingJob::new(
            "l",
            "label",
            "s3://d/m.json",
            LabelingOutputConfig::default().s3_output_path("s3://d/l/"),
            "r",
            HumanTaskConfig::default().workteam_arn("w"),
        )
        .into(),
    );
    for (i, t) in tasks.into_iter().enumerate() {
        states.insert(format!("svc{i}"), value(t));
    }
    // Chain them so that every state is reachable.
    let names: Vec<String> = states.keys().cloned().collect();
    for (i, n) in names.iter().enumerate() {
        let s = states[n].as_object_mut().unwrap();
        s.remove("Next");
        s.remove("End");
        match names.get(i + 1) {
            Some(next) => s.insert("Next".into(), json!(next)),
            None => s.insert("End".into(), json!(true)),
        };
    }
    let jsonpath = json!({"StartAt": names[0], "States": states});

    // The same integrations in a JSONata machine (Arguments, {% %}).
    let jsonata_tasks: Vec<TaskState> = vec![
        LambdaInvoke::new("f")
            .payload(Input::jsonata("$states.input"))
            .into(),
        CreateEndpoint::new("e", Input::jsonata("$states.input.config")).into(),
        TrainingJob::new(
            Input::jsonata("$states.input.name"),
            "r",
            AlgorithmSpecification::training_image("i").training_input_mode("File"),
            OutputDataConfig::new("s3://b/"),
        )
        .resource_config(ResourceConfig::new("ml.m5.xlarge", 1, 10))
        .stopping_condition(StoppingCondition::max_runtime(60))
        .into(),
        SnsPublish::topic("arn:aws:sns:us-east-1:123456789012:t", "m")
            .query_language(stepwright::QueryLanguage::Jsonata)
            .into(),
    ];
    let mut states = serde_json::Map::new();
    let k = jsonata_tasks.len();
    for (i, t) in jsonata_tasks.into_iter().enumerate() {
        let t = if i + 1 < k {
            next(t, &format!("J{}", i + 1))
        } else {
            end(t)
        };
        states.insert(format!("J{i}"), value(t));
    }
    let jsonata = json!({"QueryLanguage": "JSONata", "StartAt": "J0", "States": states});
    (jsonpath, jsonata)
}

/// asl-validator accepts every rendered state.
#[test]
fn asl_validator_accepts_rendered_states() {
    let Some(bin) = asl_validator() else {
        println!("asl-validator not installed: skipped (run `make setup`)");
        return;
    };
    let (jsonpath, jsonata) = all_rendered();
    run_asl_validator(&bin, &jsonpath, "jsonpath").unwrap();
    run_asl_validator(&bin, &jsonata, "jsonata").unwrap();
    println!(
        "asl-validator accepted {} JSONPath states and {} JSONata states",
        jsonpath["States"].as_object().unwrap().len(),
        jsonata["States"].as_object().unwrap().len()
    );
}

/// Stepwright's validator accepts every rendered state (STANDARD), and as EXPRESS refuses
/// exactly the `.sync` and callback tasks.
#[test]
fn our_validator_accepts_rendered_states() {
    let (jsonpath, jsonata) = all_rendered();
    for machine in [&jsonpath, &jsonata] {
        let text = serde_json::to_string_pretty(machine).unwrap();
        let report = stepwright::validate_str(&text, &stepwright::Options::default());
        let errors: Vec<String> = report
            .diagnostics()
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
    let m = StateMachine::from_value(&jsonpath).unwrap();
    let express = stepwright::validate(&m, &stepwright::validate::Options::express());
    let waiting = m
        .states
        .values()
        .filter(|s| match s {
            State::Task(t) => {
                let r = t.resource.as_arn().unwrap();
                r.contains(".sync") || r.contains(".waitForTaskToken") || r.contains(":activity:")
            }
            _ => false,
        })
        .count();
    assert!(waiting > 10);
    let refused = express
        .iter()
        .filter(|d| d.code == stepwright::Code::UnsupportedIntegrationPattern)
        .count();
    assert_eq!(refused, waiting);
}
