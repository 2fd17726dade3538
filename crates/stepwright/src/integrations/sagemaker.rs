//! Amazon SageMaker, every optimized integration (`arn:aws:states:::sagemaker:*`).
//!
//! Jobs (training, processing, transform, tuning, labeling) run `.sync` by default (the task waits
//! for the job to finish); call `.request_response()` to only start them. SageMaker has no
//! `.waitForTaskToken`: asking for it is an [`IntegrationError`].
//!
//! Every field takes a literal, a JSONPath reference ([`Input::path`]) or a JSONata expression
//! ([`Input::jsonata`]); fields without a typed setter go through `with_field`. S3 locations are
//! `s3://` URIs ([`s3_uri`](super::s3_uri)).
//!
//! ```
//! use stepwright::integrations::sagemaker::*;
//! use stepwright::integrations::{Input, IntegrationPattern};
//!
//! let train = TrainingJob::new(
//!     Input::path("$.JobName"),
//!     "arn:aws:iam::123456789012:role/SageMakerRole",
//!     AlgorithmSpecification::training_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1")
//!         .training_input_mode("File"),
//!     OutputDataConfig::new("s3://models/churn/"),
//! )
//! .input_data_config(vec![Channel::new("train", DataSource::s3(S3DataSource::prefix("s3://data/train/")))])
//! .resource_config(ResourceConfig::new("ml.m5.xlarge", 1, 30))
//! .stopping_condition(StoppingCondition::max_runtime(3600))
//! .hyper_parameters(stepwright::integrations::string_map([("max_depth", "5")]));
//! let state = train.try_into_task().unwrap();
//! assert_eq!(state.resource.as_arn(), Some("arn:aws:states:::sagemaker:createTrainingJob.sync"));
//!
//! // SageMaker has no callback pattern.
//! assert!(TrainingJob::new("j", "r", AlgorithmSpecification::training_image("i"), OutputDataConfig::new("s3://b/"))
//!     .integration_pattern(IntegrationPattern::WaitForTaskToken).is_err());
//! ```

use super::{request_object, IntegrationError, StringMap, Tag};
use crate::integrations::Input;

/// Adds `.sync()` and `.request_response()` to a job task.
macro_rules! job_patterns {
    ($name:ident) => {
        impl $name {
            /// Run the job and wait for it to finish (`.sync`, the default).
            pub fn sync(mut self) -> Self {
                self.pattern = crate::integrations::IntegrationPattern::Sync;
                self
            }

            /// Only start the job (request-response): the task succeeds as soon as SageMaker
            /// accepts the request.
            pub fn request_response(mut self) -> Self {
                self.pattern = crate::integrations::IntegrationPattern::RequestResponse;
                self
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Shared request objects

request_object! {
    /// `VpcConfig`: the security groups and subnets of the job's or model's network interfaces.
    pub struct VpcConfig {
        /// `SecurityGroupIds`.
        security_group_ids: Vec<String> => "SecurityGroupIds",
        /// `Subnets`.
        subnets: Vec<String> => "Subnets",
    }
}

impl VpcConfig {
    /// A VPC configuration from security group ids and subnet ids.
    pub fn new(security_group_ids: Vec<String>, subnets: Vec<String>) -> Self {
        VpcConfig::default()
            .security_group_ids(security_group_ids)
            .subnets(subnets)
    }
}

request_object! {
    /// `ExperimentConfig`: associates the job with a SageMaker experiment and trial.
    pub struct ExperimentConfig {
        /// `ExperimentName`.
        experiment_name: String => "ExperimentName",
        /// `TrialName`.
        trial_name: String => "TrialName",
        /// `TrialComponentDisplayName`.
        trial_component_display_name: String => "TrialComponentDisplayName",
        /// `RunName`.
        run_name: String => "RunName",
    }
}

request_object! {
    /// `StoppingCondition`: limits on the job's run time.
    pub struct StoppingCondition {
        /// `MaxRuntimeInSeconds`.
        max_runtime_in_seconds: u64 => "MaxRuntimeInSeconds",
        /// `MaxWaitTimeInSeconds` (managed spot training).
        max_wait_time_in_seconds: u64 => "MaxWaitTimeInSeconds",
        /// `MaxPendingTimeInSeconds`.
        max_pending_time_in_seconds: u64 => "MaxPendingTimeInSeconds",
    }
}

impl StoppingCondition {
    /// Stop the job after this many seconds.
    pub fn max_runtime(seconds: impl Into<Input<u64>>) -> Self {
        StoppingCondition::default().max_runtime_in_seconds(seconds)
    }
}

// ---------------------------------------------------------------------------------------------
// CreateTrainingJob

/// The `AlgorithmSpecification` of a training job: a built-in or marketplace algorithm
/// (`AlgorithmName`) or a container image (`TrainingImage`), never both.
///
/// ```
/// use stepwright::integrations::sagemaker::AlgorithmSpecification;
/// assert!(AlgorithmSpecification::algorithm_name("BlazingText").is_ok());
/// assert!(AlgorithmSpecification::algorithm_name("Blazing_Text").is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AlgorithmSpecification {
    inner: AlgorithmSpecificationFields,
}

request_object! {
    /// The optional fields of [`AlgorithmSpecification`].
    pub struct AlgorithmSpecificationFields {
        /// `TrainingInputMode`: `File`, `Pipe` or `FastFile`.
        training_input_mode: String => "TrainingInputMode",
        /// `MetricDefinitions`: metrics to read from the logs.
        metric_definitions: Vec<MetricDefinition> => "MetricDefinitions",
        /// `EnableSageMakerMetricsTimeSeries`.
        enable_sage_maker_metrics_time_series: bool => "EnableSageMakerMetricsTimeSeries",
        /// `ContainerEntrypoint`.
        container_entrypoint: Vec<String> => "ContainerEntrypoint",
        /// `ContainerArguments`.
        container_arguments: Vec<String> => "ContainerArguments",
    }
    fixed {
        training_image: String => "TrainingImage",
        algorithm_name: String => "AlgorithmName",
    }
}

/// Checks a literal algorithm name as SageMaker (and the CDK) do: 1 to 170 characters, an
/// optional algorithm ARN prefix, then a name of letters, digits and hyphens (not ending in `-`).
fn check_algorithm_name(name: &str) -> Result<(), IntegrationError> {
    let field = "AlgorithmSpecification.AlgorithmName".to_string();
    let len = name.chars().count();
    if !(1..=170).contains(&len) {
        return Err(IntegrationError::InvalidField {
            field,
            message: format!("Algorithm name length must be between 1 and 170, but got {len}"),
        });
    }
    let short = match name.strip_prefix("arn:") {
        Some(rest) => {
            // aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:[a-z-]*/NAME
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let ok_prefix = parts.len() == 5
                && parts[0].starts_with("aws")
                && parts[0].chars().all(|c| c.is_ascii_lowercase() || c == '-')
                && parts[1] == "sagemaker"
                && parts[2]
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && parts[3].len() == 12
                && parts[3].chars().all(|c| c.is_ascii_digit());
            match (ok_prefix, parts.get(4).and_then(|t| t.split_once('/'))) {
                (true, Some((kind, n)))
                    if kind.chars().all(|c| c.is_ascii_lowercase() || c == '-') =>
                {
                    n
                }
                _ => "",
            }
        }
        None => name,
    };
    let valid = !short.is_empty()
        && short.len() <= 63
        && short
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && !short.ends_with('-')
        && short.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(IntegrationError::InvalidField {
            field,
            message: format!(
                "Expected algorithm name to match pattern ^(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{{12}}:[a-z\\-]*\\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){{0,62}})(?<!-)$, got {name:?}"
            ),
        });
    }
    Ok(())
}

impl AlgorithmSpecification {
    /// A built-in or subscribed algorithm by name or ARN; a literal name is checked (length,
    /// characters) as SageMaker does.
    pub fn algorithm_name(name: impl Into<Input<String>>) -> Result<Self, IntegrationError> {
        let name = name.into();
        if let Input::Literal(n) = &name {
            check_algorithm_name(n)?;
        }
        let inner = AlgorithmSpecificationFields {
            algorithm_name: Some(name),
            ..AlgorithmSpecificationFields::default()
        };
        Ok(AlgorithmSpecification { inner })
    }

    /// From optional parts, as configuration gives them: exactly one of `algorithm_name` and
    /// `training_image` must be set.
    ///
    /// ```
    /// use stepwright::integrations::sagemaker::AlgorithmSpecification;
    /// let none = AlgorithmSpecification::from_parts(None, None).unwrap_err();
    /// assert!(none.to_string().contains("Must define either an algorithm name or training image URI"));
    /// ```
    pub fn from_parts(
        algorithm_name: Option<Input<String>>,
        training_image: Option<Input<String>>,
    ) -> Result<Self, IntegrationError> {
        let field = "AlgorithmSpecification".to_string();
        match (algorithm_name, training_image) {
            (Some(name), None) => AlgorithmSpecification::algorithm_name(name),
            (None, Some(image)) => Ok(AlgorithmSpecification::training_image(image)),
            (None, None) => Err(IntegrationError::InvalidField {
                field,
                message: "Must define either an algorithm name or training image URI in the algorithm specification".into(),
            }),
            (Some(_), Some(_)) => Err(IntegrationError::InvalidField {
                field,
                message: "Cannot define both an algorithm name and training image URI in the algorithm specification".into(),
            }),
        }
    }

    /// A training container image URI.
    pub fn training_image(image: impl Into<Input<String>>) -> Self {
        let inner = AlgorithmSpecificationFields {
            training_image: Some(image.into()),
            ..AlgorithmSpecificationFields::default()
        };
        AlgorithmSpecification { inner }
    }

    /// `TrainingInputMode`: `File`, `Pipe` or `FastFile`.
    pub fn training_input_mode(mut self, mode: impl Into<Input<String>>) -> Self {
        self.inner = self.inner.training_input_mode(mode);
        self
    }

    /// `MetricDefinitions`.
    pub fn metric_definitions(mut self, metrics: impl Into<Input<Vec<MetricDefinition>>>) -> Self {
        self.inner = self.inner.metric_definitions(metrics);
        self
    }

    /// `EnableSageMakerMetricsTimeSeries`.
    pub fn enable_sage_maker_metrics_time_series(mut self, on: impl Into<Input<bool>>) -> Self {
        self.inner = self.inner.enable_sage_maker_metrics_time_series(on);
        self
    }

    /// `ContainerEntrypoint`.
    pub fn container_entrypoint(mut self, v: impl Into<Input<Vec<String>>>) -> Self {
        self.inner = self.inner.container_entrypoint(v);
        self
    }

    /// `ContainerArguments`.
    pub fn container_arguments(mut self, v: impl Into<Input<Vec<String>>>) -> Self {
        self.inner = self.inner.container_arguments(v);
        self
    }

    /// Escape hatch: any other field of the algorithm specification.
    pub fn with_field(
        mut self,
        key: impl Into<String>,
        value: impl Into<Input<serde_json::Value>>,
    ) -> Self {
        self.inner = self.inner.with_field(key, value);
        self
    }
}

impl super::Render for AlgorithmSpecification {
    fn render(&self, cx: &mut super::RenderCx) -> serde_json::Value {
        self.inner.render(cx)
    }
}

request_object! {
    /// A metric read from the training logs with a regular expression.
    pub struct MetricDefinition {
        /// `Name`.
        name: String => "Name",
        /// `Regex`.
        regex: String => "Regex",
    }
}

impl MetricDefinition {
    /// A metric named `name`, read with `regex`.
    pub fn new(name: impl Into<Input<String>>, regex: impl Into<Input<String>>) -> Self {
        MetricDefinition::default().name(name).regex(regex)
    }
}

request_object! {
    /// `S3DataSource` of a training channel.
    pub struct S3DataSource {
        /// `S3DataType`: `S3Prefix`, `ManifestFile` or `AugmentedManifestFile`.
        s3_data_type: String => "S3DataType",
        /// `S3Uri`: an `s3://` URI.
        s3_uri: String => "S3Uri",
        /// `S3DataDistributionType`: `FullyReplicated` or `ShardedByS3Key`.
        s3_data_distribution_type: String => "S3DataDistributionType",
        /// `AttributeNames` (augmented manifests).
        attribute_names: Vec<String> => "AttributeNames",
        /// `InstanceGroupNames`.
        instance_group_names: Vec<String> => "InstanceGroupNames",
    }
}

impl S3DataSource {
    /// Every object under an S3 prefix (`S3DataType: S3Prefix`).
    pub fn prefix(uri: impl Into<Input<String>>) -> Self {
        S3DataSource::default().s3_data_type("S3Prefix").s3_uri(uri)
    }

    /// An S3 data source of the given type.
    pub fn new(data_type: impl Into<Input<String>>, uri: impl Into<Input<String>>) -> Self {
        S3DataSource::default().s3_data_type(data_type).s3_uri(uri)
    }
}

request_object! {
    /// `DataSource` of a training channel.
    pub struct DataSource {
        /// `S3DataSource`.
        s3_data_source: S3DataSource => "S3DataSource",
        /// `FileSystemDataSource` (EFS/FSx), as raw JSON.
        file_system_data_source: serde_json::Value => "FileSystemDataSource",
    }
}

impl DataSource {
    /// Data read from S3.
    pub fn s3(source: impl Into<Input<S3DataSource>>) -> Self {
        DataSource::default().s3_data_source(source)
    }
}

request_object! {
    /// One input channel of a training job (`InputDataConfig` entry).
    pub struct Channel {
        /// `ChannelName`.
        channel_name: String => "ChannelName",
        /// `DataSource`.
        data_source: DataSource => "DataSource",
        /// `CompressionType`: `None` or `Gzip`.
        compression_type: String => "CompressionType",
        /// `ContentType` (MIME type).
        content_type: String => "ContentType",
        /// `RecordWrapperType`: `None` or `RecordIO`.
        record_wrapper_type: String => "RecordWrapperType",
        /// `InputMode`: overrides the job's `TrainingInputMode`.
        input_mode: String => "InputMode",
        /// `ShuffleConfig`, as raw JSON (`{"Seed": 1}`).
        shuffle_config: serde_json::Value => "ShuffleConfig",
    }
}

impl Channel {
    /// A channel named `name` reading `data_source`.
    pub fn new(name: impl Into<Input<String>>, data_source: impl Into<Input<DataSource>>) -> Self {
        Channel::default()
            .channel_name(name)
            .data_source(data_source)
    }
}

request_object! {
    /// `OutputDataConfig`: where the model artifacts go.
    pub struct OutputDataConfig {
        /// `S3OutputPath`: an `s3://` URI.
        s3_output_path: String => "S3OutputPath",
        /// `KmsKeyId`.
        kms_key_id: String => "KmsKeyId",
        /// `CompressionType`: `GZIP` or `NONE`.
        compression_type: String => "CompressionType",
    }
}

impl OutputDataConfig {
    /// Artifacts under this `s3://` URI.
    pub fn new(s3_output_path: impl Into<Input<String>>) -> Self {
        OutputDataConfig::default().s3_output_path(s3_output_path)
    }
}

request_object! {
    /// `ResourceConfig`: the training cluster.
    pub struct ResourceConfig {
        /// `InstanceCount`.
        instance_count: u32 => "InstanceCount",
        /// `InstanceType`, e.g. `ml.m5.xlarge`.
        instance_type: String => "InstanceType",
        /// `VolumeSizeInGB`.
        volume_size_in_gb: u32 => "VolumeSizeInGB",
        /// `VolumeKmsKeyId`.
        volume_kms_key_id: String => "VolumeKmsKeyId",
        /// `KeepAlivePeriodInSeconds` (warm pools).
        keep_alive_period_in_seconds: u32 => "KeepAlivePeriodInSeconds",
        /// `InstanceGroups` (heterogeneous clusters), as raw JSON.
        instance_groups: serde_json::Value => "InstanceGroups",
    }
}

impl ResourceConfig {
    /// `instance_count` instances of `instance_type` with `volume_size_in_gb` GB of storage each.
    pub fn new(
        instance_type: impl Into<Input<String>>,
        instance_count: impl Into<Input<u32>>,
        volume_size_in_gb: impl Into<Input<u32>>,
    ) -> Self {
        ResourceConfig::default()
            .instance_count(instance_count)
            .instance_type(instance_type)
            .volume_size_in_gb(volume_size_in_gb)
    }
}

request_object! {
    /// `CheckpointConfig`: where checkpoints are saved (spot training).
    pub struct CheckpointConfig {
        /// `S3Uri`.
        s3_uri: String => "S3Uri",
        /// `LocalPath`.
        local_path: String => "LocalPath",
    }
}

request_object! {
    /// A Debugger tensor collection.
    pub struct CollectionConfiguration {
        /// `CollectionName`.
        collection_name: String => "CollectionName",
        /// `CollectionParameters`.
        collection_parameters: StringMap => "CollectionParameters",
    }
}

impl CollectionConfiguration {
    /// The collection `name`.
    pub fn new(name: impl Into<Input<String>>) -> Self {
        CollectionConfiguration::default().collection_name(name)
    }
}

request_object! {
    /// `DebugHookConfig`: SageMaker Debugger output.
    pub struct DebugHookConfig {
        /// `S3OutputPath`.
        s3_output_path: String => "S3OutputPath",
        /// `LocalPath`.
        local_path: String => "LocalPath",
        /// `HookParameters`.
        hook_parameters: StringMap => "HookParameters",
        /// `CollectionConfigurations`.
        collection_configurations: Vec<CollectionConfiguration> => "CollectionConfigurations",
    }
}

request_object! {
    /// A SageMaker Debugger rule (`DebugRuleConfigurations` entry).
    pub struct DebugRuleConfiguration {
        /// `RuleConfigurationName`.
        rule_configuration_name: String => "RuleConfigurationName",
        /// `RuleEvaluatorImage`.
        rule_evaluator_image: String => "RuleEvaluatorImage",
        /// `RuleParameters`.
        rule_parameters: StringMap => "RuleParameters",
        /// `InstanceType`.
        instance_type: String => "InstanceType",
        /// `VolumeSizeInGB`.
        volume_size_in_gb: u32 => "VolumeSizeInGB",
        /// `S3OutputPath`.
        s3_output_path: String => "S3OutputPath",
        /// `LocalPath`.
        local_path: String => "LocalPath",
    }
}

request_object! {
    /// `sagemaker:createTrainingJob`: trains a model ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html)).
    ///
    /// Runs `.sync` by default. `try_into_task()` checks the fields the API requires
    /// (`ResourceConfig` and `StoppingCondition` besides the constructor's).
    ///
    /// ```
    /// use stepwright::integrations::sagemaker::*;
    /// let task = TrainingJob::new(
    ///     "churn-train",
    ///     "arn:aws:iam::123456789012:role/SageMakerRole",
    ///     AlgorithmSpecification::algorithm_name("xgboost").unwrap().training_input_mode("File"),
    ///     OutputDataConfig::new("s3://models/churn/"),
    /// )
    /// .resource_config(ResourceConfig::new("ml.m5.xlarge", 1, 30))
    /// .stopping_condition(StoppingCondition::max_runtime(3600))
    /// .try_into_task()
    /// .unwrap();
    /// assert_eq!(task.parameters.unwrap()["TrainingJobName"], "churn-train");
    /// ```
    pub struct TrainingJob {
        /// `InputDataConfig`: the input channels.
        input_data_config: Vec<Channel> => "InputDataConfig",
        /// `ResourceConfig`: the training cluster.
        resource_config: ResourceConfig => "ResourceConfig",
        /// `StoppingCondition`.
        stopping_condition: StoppingCondition => "StoppingCondition",
        /// `HyperParameters`: string to string, as SageMaker requires.
        hyper_parameters: StringMap => "HyperParameters",
        /// `Environment`.
        environment: StringMap => "Environment",
        /// `VpcConfig`.
        vpc_config: VpcConfig => "VpcConfig",
        /// `Tags`.
        tags: Vec<Tag> => "Tags",
        /// `ExperimentConfig`.
        experiment_config: ExperimentConfig => "ExperimentConfig",
        /// `EnableNetworkIsolation`.
        enable_network_isolation: bool => "EnableNetworkIsolation",
        /// `EnableInterContainerTrafficEncryption`.
        enable_inter_container_traffic_encryption: bool => "EnableInterContainerTrafficEncryption",
        /// `EnableManagedSpotTraining`.
        enable_managed_spot_training: bool => "EnableManagedSpotTraining",
        /// `CheckpointConfig`.
        checkpoint_config: CheckpointConfig => "CheckpointConfig",
        /// `DebugHookConfig`.
        debug_hook_config: DebugHookConfig => "DebugHookConfig",
        /// `DebugRuleConfigurations`.
        debug_rule_configurations: Vec<DebugRuleConfiguration> => "DebugRuleConfigurations",
        /// `RetryStrategy`, as raw JSON (`{"MaximumRetryAttempts": 2}`).
        retry_strategy: serde_json::Value => "RetryStrategy",
    }
    fixed {
        training_job_name: String => "TrainingJobName",
        role_arn: String => "RoleArn",
        algorithm_specification: AlgorithmSpecification => "AlgorithmSpecification",
        output_data_config: OutputDataConfig => "OutputDataConfig",
    }
    task { "sagemaker:createTrainingJob", [RequestResponse, Sync], Sync,
           required ["TrainingJobName", "RoleArn", "AlgorithmSpecification", "OutputDataConfig", "ResourceConfig", "StoppingCondition"] }
}
job_patterns!(TrainingJob);

impl TrainingJob {
    /// A training job: its name, the role SageMaker assumes, the algorithm and where the model
    /// goes. Each may be literal or dynamic (the algorithm and output as whole objects too).
    pub fn new(
        training_job_name: impl Into<Input<String>>,
        role_arn: impl Into<Input<String>>,
        algorithm_specification: impl Into<Input<AlgorithmSpecification>>,
        output_data_config: impl Into<Input<OutputDataConfig>>,
    ) -> Self {
        let mut t = TrainingJob::blank();
        t.training_job_name = Some(training_job_name.into());
        t.role_arn = Some(role_arn.into());
        t.algorithm_specification = Some(algorithm_specification.into());
        t.output_data_config = Some(output_data_config.into());
        t
    }
}

// ---------------------------------------------------------------------------------------------
// CreateProcessingJob

request_object! {
    /// `AppSpecification`: the processing container.
    pub struct AppSpecification {
        /// `ImageUri`.
        image_uri: String => "ImageUri",
        /// `ContainerEntrypoint`.
        container_entrypoint: Vec<String> => "ContainerEntrypoint",
        /// `ContainerArguments`.
        container_arguments: Vec<String> => "ContainerArguments",
    }
}

impl AppSpecification {
    /// The container image.
    pub fn new(image_uri: impl Into<Input<String>>) -> Self {
        AppSpecification::default().image_uri(image_uri)
    }
}

request_object! {
    /// `S3Input` of a processing input.
    pub struct ProcessingS3Input {
        /// `S3Uri`.
        s3_uri: String => "S3Uri",
        /// `LocalPath` inside the container.
        local_path: String => "LocalPath",
        /// `S3DataType`: `S3Prefix` or `ManifestFile`.
        s3_data_type: String => "S3DataType",
        /// `S3InputMode`: `File` or `Pipe`.
        s3_input_mode: String => "S3InputMode",
        /// `S3DataDistributionType`.
        s3_data_distribution_type: String => "S3DataDistributionType",
        /// `S3CompressionType`.
        s3_compression_type: String => "S3CompressionType",
    }
}

impl ProcessingS3Input {
    /// Copies `s3_uri` (an S3 prefix, in File mode) to `local_path`.
    pub fn new(s3_uri: impl Into<Input<String>>, local_path: impl Into<Input<String>>) -> Self {
        ProcessingS3Input::default()
            .s3_uri(s3_uri)
            .local_path(local_path)
            .s3_data_type("S3Prefix")
            .s3_input_mode("File")
    }
}

request_object! {
    /// One `ProcessingInputs` entry.
    pub struct ProcessingInput {
        /// `InputName`.
        input_name: String => "InputName",
        /// `AppManaged`.
        app_managed: bool => "AppManaged",
        /// `S3Input`.
        s3_input: ProcessingS3Input => "S3Input",
        /// `DatasetDefinition` (Athena/Redshift), as raw JSON.
        dataset_definition: serde_json::Value => "DatasetDefinition",
    }
}

impl ProcessingInput {
    /// An input named `name` read from S3.
    pub fn s3(name: impl Into<Input<String>>, s3_input: ProcessingS3Input) -> Self {
        ProcessingInput::default()
            .input_name(name)
            .s3_input(s3_input)
    }
}

request_object! {
    /// `S3Output` of a processing output.
    pub struct ProcessingS3Output {
        /// `S3Uri`.
        s3_uri: String => "S3Uri",
        /// `LocalPath` inside the container.
        local_path: String => "LocalPath",
        /// `S3UploadMode`: `Continuous` or `EndOfJob`.
        s3_upload_mode: String => "S3UploadMode",
    }
}

impl ProcessingS3Output {
    /// Uploads `local_path` to `s3_uri` at the end of the job.
    pub fn new(s3_uri: impl Into<Input<String>>, local_path: impl Into<Input<String>>) -> Self {
        ProcessingS3Output::default()
            .s3_uri(s3_uri)
            .local_path(local_path)
            .s3_upload_mode("EndOfJob")
    }
}

request_object! {
    /// One `ProcessingOutputConfig.Outputs` entry.
    pub struct ProcessingOutput {
        /// `OutputName`.
        output_name: String => "OutputName",
        /// `AppManaged`.
        app_managed: bool => "AppManaged",
        /// `S3Output`.
        s3_output: ProcessingS3Output => "S3Output",
        /// `FeatureStoreOutput`, as raw JSON.
        feature_store_output: serde_json::Value => "FeatureStoreOutput",
    }
}

impl ProcessingOutput {
    /// An output named `name` written to S3.
    pub fn s3(name: impl Into<Input<String>>, s3_output: ProcessingS3Output) -> Self {
        ProcessingOutput::default()
            .output_name(name)
            .s3_output(s3_output)
    }
}

request_object! {
    /// `ProcessingOutputConfig`.
    pub struct ProcessingOutputConfig {
        /// `Outputs`.
        outputs: Vec<ProcessingOutput> => "Outputs",
        /// `KmsKeyId`.
        kms_key_id: String => "KmsKeyId",
    }
}

impl ProcessingOutputConfig {
    /// The outputs.
    pub fn new(outputs: impl Into<Input<Vec<ProcessingOutput>>>) -> Self {
        ProcessingOutputConfig::default().outputs(outputs)
    }
}

request_object! {
    /// `ClusterConfig` of a processing job.
    pub struct ClusterConfig {
        /// `InstanceCount`.
        instance_count: u32 => "InstanceCount",
        /// `InstanceType`.
        instance_type: String => "InstanceType",
        /// `VolumeSizeInGB`.
        volume_size_in_gb: u32 => "VolumeSizeInGB",
        /// `VolumeKmsKeyId`.
        volume_kms_key_id: String => "VolumeKmsKeyId",
    }
}

request_object! {
    /// `ProcessingResources`.
    pub struct ProcessingResources {
        /// `ClusterConfig`.
        cluster_config: ClusterConfig => "ClusterConfig",
    }
}

impl ProcessingResources {
    /// `instance_count` instances of `instance_type` with `volume_size_in_gb` GB each.
    pub fn new(
        instance_type: impl Into<Input<String>>,
        instance_count: impl Into<Input<u32>>,
        volume_size_in_gb: impl Into<Input<u32>>,
    ) -> Self {
        ProcessingResources::default().cluster_config(
            ClusterConfig::default()
                .instance_count(instance_count)
                .instance_type(instance_type)
                .volume_size_in_gb(volume_size_in_gb),
        )
    }
}

request_object! {
    /// `sagemaker:createProcessingJob`: runs a processing container (feature engineering,
    /// evaluation) ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateProcessingJob.html)).
    /// Runs `.sync` by default.
    ///
    /// ```
    /// use stepwright::integrations::sagemaker::*;
    /// let task = ProcessingJob::new(
    ///     "evaluate",
    ///     "arn:aws:iam::123456789012:role/SageMakerRole",
    ///     AppSpecification::new("123456789012.dkr.ecr.us-east-1.amazonaws.com/eval:1"),
    ///     ProcessingResources::new("ml.m5.xlarge", 1, 30),
    /// )
    /// .processing_inputs(vec![ProcessingInput::s3("model",
    ///     ProcessingS3Input::new("s3://models/churn/model.tar.gz", "/opt/ml/processing/model"))])
    /// .processing_output_config(ProcessingOutputConfig::new(vec![ProcessingOutput::s3("report",
    ///     ProcessingS3Output::new("s3://reports/churn/", "/opt/ml/processing/report"))]))
    /// .try_into_task()
    /// .unwrap();
    /// assert_eq!(task.resource.as_arn(), Some("arn:aws:states:::sagemaker:createProcessingJob.sync"));
    /// ```
    pub struct ProcessingJob {
        /// `ProcessingInputs`.
        processing_inputs: Vec<ProcessingInput> => "ProcessingInputs",
        /// `ProcessingOutputConfig`.
        processing_output_config: ProcessingOutputConfig => "ProcessingOutputConfig",
        /// `StoppingCondition` (only `MaxRuntimeInSeconds` applies).
        stopping_condition: StoppingCondition => "StoppingCondition",
        /// `Environment`.
        environment: StringMap => "Environment",
        /// `NetworkConfig`, as raw JSON.
        network_config: serde_json::Value => "NetworkConfig",
        /// `Tags`.
        tags: Vec<Tag> => "Tags",
        /// `ExperimentConfig`.
        experiment_config: ExperimentConfig => "ExperimentConfig",
    }
    fixed {
        processing_job_name: String => "ProcessingJobName",
        role_arn: String => "RoleArn",
        app_specification: AppSpecification => "AppSpecification",
        processing_resources: ProcessingResources => "ProcessingResources",
    }
    task { "sagemaker:createProcessingJob", [RequestResponse, Sync], Sync,
           required ["ProcessingJobName", "RoleArn", "AppSpecification", "ProcessingResources"] }
}
job_patterns!(ProcessingJob);

impl ProcessingJob {
    /// A processing job: its name, role, container and cluster.
    pub fn new(
        processing_job_name: impl Into<Input<String>>,
        role_arn: impl Into<Input<String>>,
        app_specification: impl Into<Input<AppSpecification>>,
        processing_resources: impl Into<Input<ProcessingResources>>,
    ) -> Self {
        let mut t = ProcessingJob::blank();
        t.processing_job_name = Some(processing_job_name.into());
        t.role_arn = Some(role_arn.into());
        t.app_specification = Some(app_specification.into());
        t.processing_resources = Some(processing_resources.into());
        t
    }
}

// ---------------------------------------------------------------------------------------------
// CreateTransformJob

request_object! {
    /// `S3DataSource` of a transform input.
    pub struct TransformS3DataSource {
        /// `S3DataType`: `S3Prefix`, `ManifestFile` or `AugmentedManifestFile`.
        s3_data_type: String => "S3DataType",
        /// `S3Uri`.
        s3_uri: String => "S3Uri",
    }
}

request_object! {
    /// `DataSource` of a transform input.
    pub struct TransformDataSource {
        /// `S3DataSource`.
        s3_data_source: TransformS3DataSource => "S3DataSource",
    }
}

request_object! {
    /// `TransformInput`: the data to run inference on.
    pub struct TransformInput {
        /// `DataSource`.
        data_source: TransformDataSource => "DataSource",
        /// `ContentType`.
        content_type: String => "ContentType",
        /// `CompressionType`: `None` or `Gzip`.
        compression_type: String => "CompressionType",
        /// `SplitType`: `None`, `Line`, `RecordIO` or `TFRecord`.
        split_type: String => "SplitType",
    }
}

impl TransformInput {
    /// Every object under an S3 prefix.
    pub fn s3_prefix(uri: impl Into<Input<String>>) -> Self {
        TransformInput::s3("S3Prefix", uri)
    }

    /// Data of the given S3 data type.
    pub fn s3(data_type: impl Into<Input<String>>, uri: impl Into<Input<String>>) -> Self {
        TransformInput::default().data_source(
            TransformDataSource::default().s3_data_source(
                TransformS3DataSource::default()
                    .s3_uri(uri)
                    .s3_data_type(data_type),
            ),
        )
    }
}

request_object! {
    /// `TransformOutput`: where the results go.
    pub struct TransformOutput {
        /// `S3OutputPath`.
        s3_output_path: String => "S3OutputPath",
        /// `Accept`.
        accept: String => "Accept",
        /// `AssembleWith`: `None` or `Line`.
        assemble_with: String => "AssembleWith",
        /// `KmsKeyId`.
        kms_key_id: String => "KmsKeyId",
    }
}

impl TransformOutput {
    /// Results under this `s3://` URI.
    pub fn new(s3_output_path: impl Into<Input<String>>) -> Self {
        TransformOutput::default().s3_output_path(s3_output_path)
    }
}

request_object! {
    /// `TransformResources`: the inference cluster.
    pub struct TransformResources {
        /// `InstanceCount`.
        instance_count: u32 => "InstanceCount",
        /// `InstanceType`.
        instance_type: String => "InstanceType",
        /// `VolumeKmsKeyId`.
        volume_kms_key_id: String => "VolumeKmsKeyId",
    }
}

impl TransformResources {
    /// `instance_count` instances of `instance_type`.
    pub fn new(
        instance_type: impl Into<Input<String>>,
        instance_count: impl Into<Input<u32>>,
    ) -> Self {
        TransformResources::default()
            .instance_count(instance_count)
            .instance_type(instance_type)
    }
}

request_object! {
    /// `ModelClientConfig`: timeouts and retries of the model invocations.
    pub struct ModelClientConfig {
        /// `InvocationsTimeoutInSeconds`.
        invocations_timeout_in_seconds: u32 => "InvocationsTimeoutInSeconds",
        /// `InvocationsMaxRetries`.
        invocations_max_retries: u32 => "InvocationsMaxRetries",
    }
}

request_object! {
    /// `DataProcessing`: JSONPath filters and join of a transform job.
    pub struct DataProcessing {
        /// `InputFilter`.
        input_filter: String => "InputFilter",
        /// `OutputFilter`.
        output_filter: String => "OutputFilter",
        /// `JoinSource`: `Input` or `None`.
        join_source: String => "JoinSource",
    }
}

request_object! {
    /// `sagemaker:createTransformJob`: batch inference ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTransformJob.html)).
    /// Runs `.sync` by default.
    ///
    /// ```
    /// use stepwright::integrations::sagemaker::*;
    /// let task = TransformJob::new(
    ///     "score-2024-06-01",
    ///     "churn-model",
    ///     TransformInput::s3_prefix("s3://data/score/"),
    ///     TransformOutput::new("s3://data/scored/"),
    ///     TransformResources::new("ml.m5.xlarge", 1),
    /// )
    /// .request_response()
    /// .try_into_task()
    /// .unwrap();
    /// assert_eq!(task.resource.as_arn(), Some("arn:aws:states:::sagemaker:createTransformJob"));
    /// ```
    pub struct TransformJob {
        /// `BatchStrategy`: `MultiRecord` or `SingleRecord`.
        batch_strategy: String => "BatchStrategy",
        /// `Environment`.
        environment: StringMap => "Environment",
        /// `MaxConcurrentTransforms`.
        max_concurrent_transforms: u32 => "MaxConcurrentTransforms",
        /// `MaxPayloadInMB`.
        max_payload_in_mb: u32 => "MaxPayloadInMB",
        /// `ModelClientConfig`.
        model_client_config: ModelClientConfig => "ModelClientConfig",
        /// `DataProcessing`.
        data_processing: DataProcessing => "DataProcessing",
        /// `ExperimentConfig`.
        experiment_config: ExperimentConfig => "ExperimentConfig",
        /// `Tags`.
        tags: Vec<Tag> => "Tags",
    }
    fixed {
        transform_job_name: String => "TransformJobName",
        model_name: String => "ModelName",
        transform_input: TransformInput => "TransformInput",
        transform_output: TransformOutput => "TransformOutput",
        transform_resources: TransformResources => "TransformResources",
    }
    task { "sagemaker:createTransformJob", [RequestResponse, Sync], Sync,
           required ["TransformJobName", "ModelName", "TransformInput", "TransformOutput", "TransformResources"] }
}
job_patterns!(TransformJob);

impl TransformJob {
    /// A transform job: its name, the model, input, output and cluster.
    pub fn new(
        transform_job_name: impl Into<Input<String>>,
        model_name: impl Into<Input<String>>,
        transform_input: impl Into<Input<TransformInput>>,
        transform_output: impl Into<Input<TransformOutput>>,
        transform_resources: impl Into<Input<TransformResources>>,
    ) -> Self {
        let mut t = TransformJob::blank();
        t.transform_job_name = Some(transform_job_name.into());
        t.model_name = Some(model_name.into());
        t.transform_input = Some(transform_input.into());
        t.transform_output = Some(transform_output.into());
        t.transform_resources = Some(transform_resources.into());
        t
    }
}

// ---------------------------------------------------------------------------------------------
// CreateHyperParameterTuningJob

request_object! {
    /// An integer hyperparameter range (bounds are strings, as in the API).
    pub struct IntegerParameterRange {
        /// `Name`.
        name: String => "Name",
        /// `MinValue`.
        min_value: String => "MinValue",
        /// `MaxValue`.
        max_value: String => "MaxValue",
        /// `ScalingType`: `Auto`, `Linear`, `Logarithmic` or `ReverseLogarithmic`.
        scaling_type: String => "ScalingType",
    }
}

impl IntegerParameterRange {
    /// `name` from `min` to `max`.
    pub fn new(name: impl Into<Input<String>>, min: i64, max: i64) -> Self {
        IntegerParameterRange::default()
            .name(name)
            .min_value(min.to_string())
            .max_value(max.to_string())
    }
}

request_object! {
    /// A continuous hyperparameter range (bounds are strings, as in the API).
    pub struct ContinuousParameterRange {
        /// `Name`.
        name: String => "Name",
        /// `MinValue`.
        min_value: String => "MinValue",
        /// `MaxValue`.
        max_value: String => "MaxValue",
        /// `ScalingType`.
        scaling_type: String => "ScalingType",
    }
}

impl ContinuousParameterRange {
    /// `name` from `min` to `max`.
    pub fn new(name: impl Into<Input<String>>, min: f64, max: f64) -> Self {
        ContinuousParameterRange::default()
            .name(name)
            .min_value(min.to_string())
            .max_value(max.to_string())
    }
}

request_object! {
    /// A categorical hyperparameter range.
    pub struct CategoricalParameterRange {
        /// `Name`.
        name: String => "Name",
        /// `Values`.
        values: Vec<String> => "Values",
    }
}

impl CategoricalParameterRange {
    /// `name` taking one of `values`.
    pub fn new(name: impl Into<Input<String>>, values: Vec<String>) -> Self {
        CategoricalParameterRange::default()
            .name(name)
            .values(values)
    }
}

request_object! {
    /// `ParameterRanges`: the hyperparameters to tune.
    pub struct ParameterRanges {
        /// `IntegerParameterRanges`.
        integer_parameter_ranges: Vec<IntegerParameterRange> => "IntegerParameterRanges",
        /// `ContinuousParameterRanges`.
        continuous_parameter_ranges: Vec<ContinuousParameterRange> => "ContinuousParameterRanges",
        /// `CategoricalParameterRanges`.
        categorical_parameter_ranges: Vec<CategoricalParameterRange> => "CategoricalParameterRanges",
    }
}

request_object! {
    /// `HyperParameterTuningJobObjective`.
    pub struct TuningObjective {
        /// `Type`: `Minimize` or `Maximize`.
        objective_type: String => "Type",
        /// `MetricName`.
        metric_name: String => "MetricName",
    }
}

impl TuningObjective {
    /// Minimize `metric`.
    pub fn minimize(metric: impl Into<Input<String>>) -> Self {
        TuningObjective::default()
            .metric_name(metric)
            .objective_type("Minimize")
    }

    /// Maximize `metric`.
    pub fn maximize(metric: impl Into<Input<String>>) -> Self {
        TuningObjective::default()
            .metric_name(metric)
            .objective_type("Maximize")
    }
}

request_object! {
    /// `ResourceLimits` of a tuning job.
    pub struct ResourceLimits {
        /// `MaxNumberOfTrainingJobs`.
        max_number_of_training_jobs: u32 => "MaxNumberOfTrainingJobs",
        /// `MaxParallelTrainingJobs`.
        max_parallel_training_jobs: u32 => "MaxParallelTrainingJobs",
        /// `MaxRuntimeInSeconds`.
        max_runtime_in_seconds: u64 => "MaxRuntimeInSeconds",
    }
}

impl ResourceLimits {
    /// At most `max_jobs` training jobs, `max_parallel` at a time.
    pub fn new(max_jobs: impl Into<Input<u32>>, max_parallel: impl Into<Input<u32>>) -> Self {
        ResourceLimits::default()
            .max_number_of_training_jobs(max_jobs)
            .max_parallel_training_jobs(max_parallel)
    }
}

request_object! {
    /// `HyperParameterTuningJobConfig`.
    pub struct TuningJobConfig {
        /// `Strategy`: `Bayesian`, `Random`, `Hyperband` or `Grid`.
        strategy: String => "Strategy",
        /// `HyperParameterTuningJobObjective`.
        objective: TuningObjective => "HyperParameterTuningJobObjective",
        /// `ResourceLimits`.
        resource_limits: ResourceLimits => "ResourceLimits",
        /// `ParameterRanges`.
        parameter_ranges: ParameterRanges => "ParameterRanges",
        /// `TrainingJobEarlyStoppingType`: `Off` or `Auto`.
        training_job_early_stopping_type: String => "TrainingJobEarlyStoppingType",
    }
}

request_object! {
    /// `TrainingJobDefinition` of a tuning job: the training job each trial runs.
    pub struct TrainingJobDefinition {
        /// `AlgorithmSpecification`.
        algorithm_specification: AlgorithmSpecification => "AlgorithmSpecification",
        /// `RoleArn`.
        role_arn: String => "RoleArn",
        /// `InputDataConfig`.
        input_data_config: Vec<Channel> => "InputDataConfig",
        /// `OutputDataConfig`.
        output_data_config: OutputDataConfig => "OutputDataConfig",
        /// `ResourceConfig`.
        resource_config: ResourceConfig => "ResourceConfig",
        /// `StoppingCondition`.
        stopping_condition: StoppingCondition => "StoppingCondition",
        /// `StaticHyperParameters`.
        static_hyper_parameters: StringMap => "StaticHyperParameters",
        /// `HyperParameterRanges` (per-definition ranges).
        hyper_parameter_ranges: ParameterRanges => "HyperParameterRanges",
        /// `VpcConfig`.
        vpc_config: VpcConfig => "VpcConfig",
        /// `EnableNetworkIsolation`.
        enable_network_isolation: bool => "EnableNetworkIsolation",
        /// `Environment`.
        environment: StringMap => "Environment",
    }
}

request_object! {
    /// `sagemaker:createHyperParameterTuningJob`: hyperparameter tuning ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateHyperParameterTuningJob.html)).
    /// Runs `.sync` by default.
    ///
    /// ```
    /// use stepwright::integrations::sagemaker::*;
    /// let config = TuningJobConfig::default()
    ///     .strategy("Bayesian")
    ///     .objective(TuningObjective::maximize("validation:auc"))
    ///     .resource_limits(ResourceLimits::new(20, 2))
    ///     .parameter_ranges(ParameterRanges::default()
    ///         .integer_parameter_ranges(vec![IntegerParameterRange::new("max_depth", 3, 10)]));
    /// let definition = TrainingJobDefinition::default()
    ///     .algorithm_specification(AlgorithmSpecification::training_image("xgb:1").training_input_mode("File"))
    ///     .role_arn("arn:aws:iam::123456789012:role/SageMakerRole")
    ///     .output_data_config(OutputDataConfig::new("s3://models/tuning/"))
    ///     .resource_config(ResourceConfig::new("ml.m5.xlarge", 1, 30))
    ///     .stopping_condition(StoppingCondition::max_runtime(3600));
    /// let task = TuningJob::new("churn-tune", config)
    ///     .training_job_definition(definition)
    ///     .try_into_task()
    ///     .unwrap();
    /// assert!(task.resource.as_arn().unwrap().ends_with("createHyperParameterTuningJob.sync"));
    /// ```
    pub struct TuningJob {
        /// `TrainingJobDefinition`.
        training_job_definition: TrainingJobDefinition => "TrainingJobDefinition",
        /// `TrainingJobDefinitions` (several algorithms).
        training_job_definitions: Vec<TrainingJobDefinition> => "TrainingJobDefinitions",
        /// `WarmStartConfig`, as raw JSON.
        warm_start_config: serde_json::Value => "WarmStartConfig",
        /// `Tags`.
        tags: Vec<Tag> => "Tags",
    }
    fixed {
        hyper_parameter_tuning_job_name: String => "HyperParameterTuningJobName",
        hyper_parameter_tuning_job_config: TuningJobConfig => "HyperParameterTuningJobConfig",
    }
    task { "sagemaker:createHyperParameterTuningJob", [RequestResponse, Sync], Sync,
           required ["HyperParameterTuningJobName", "HyperParameterTuningJobConfig"] }
}
job_patterns!(TuningJob);

impl TuningJob {
    /// A tuning job: its name and configuration (add the training job definition with
    /// [`training_job_definition`](Self::training_job_definition)).
    pub fn new(name: impl Into<Input<String>>, config: impl Into<Input<TuningJobConfig>>) -> Self {
        let mut t = TuningJob::blank();
        t.hyper_parameter_tuning_job_name = Some(name.into());
        t.hyper_parameter_tuning_job_config = Some(config.into());
        t
    }
}

// ---------------------------------------------------------------------------------------------
// CreateLabelingJob

request_object! {
    /// `UiConfig` of a labeling task.
    pub struct UiConfig {
        /// `UiTemplateS3Uri`.
        ui_template_s3_uri: String => "UiTemplateS3Uri",
        /// `HumanTaskUiArn`.
        human_task_ui_arn: String => "HumanTaskUiArn",
    }
}

request_object! {
    /// `HumanTaskConfig`: who labels and how.
    pub struct HumanTaskConfig {
        /// `WorkteamArn`.
        workteam_arn: String => "WorkteamArn",
        /// `UiConfig`.
        ui_config: UiConfig => "UiConfig",
        /// `PreHumanTaskLambdaArn`.
        pre_human_task_lambda_arn: String => "PreHumanTaskLambdaArn",
        /// `TaskTitle`.
        task_title: String => "TaskTitle",
        /// `TaskDescription`.
        task_description: String => "TaskDescription",
        /// `TaskKeywords`.
        task_keywords: Vec<String> => "TaskKeywords",
        /// `NumberOfHumanWorkersPerDataObject`.
        number_of_human_workers_per_data_object: u32 => "NumberOfHumanWorkersPerDataObject",
        /// `TaskTimeLimitInSeconds`.
        task_time_limit_in_seconds: u32 => "TaskTimeLimitInSeconds",
        /// `TaskAvailabilityLifetimeInSeconds`.
        task_availability_lifetime_in_seconds: u32 => "TaskAvailabilityLifetimeInSeconds",
        /// `MaxConcurrentTaskCount`.
        max_concurrent_task_count: u32 => "MaxConcurrentTaskCount",
        /// `AnnotationConsolidationConfig`, as raw JSON
        /// (`{"AnnotationConsolidationLambdaArn": ...}`).
        annotation_consolidation_config: serde_json::Value => "AnnotationConsolidationConfig",
    }
}

request_object! {
    /// `OutputConfig` of a labeling job.
    pub struct LabelingOutputConfig {
        /// `S3OutputPath`.
        s3_output_path: String => "S3OutputPath",
        /// `KmsKeyId`.
        kms_key_id: String => "KmsKeyId",
        /// `SnsTopicArn`.
        sns_topic_arn: String => "SnsTopicArn",
    }
}

request_object! {
    /// `sagemaker:createLabelingJob`: a Ground Truth labeling job ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateLabelingJob.html)).
    /// Runs `.sync` by default.
    ///
    /// ```
    /// use stepwright::integrations::sagemaker::*;
    /// let task = LabelingJob::new(
    ///     "label-churn",
    ///     "label",
    ///     "s3://data/manifest.json",
    ///     LabelingOutputConfig::default().s3_output_path("s3://data/labels/"),
    ///     "arn:aws:iam::123456789012:role/SageMakerRole",
    ///     HumanTaskConfig::default()
    ///         .workteam_arn("arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team")
    ///         .task_title("Label churn")
    ///         .task_description("Was this a churn?")
    ///         .number_of_human_workers_per_data_object(1)
    ///         .task_time_limit_in_seconds(300),
    /// )
    /// .try_into_task()
    /// .unwrap();
    /// assert!(task.resource.as_arn().unwrap().ends_with("createLabelingJob.sync"));
    /// ```
    pub struct LabelingJob {
        /// `LabelCategoryConfigS3Uri`.
        label_category_config_s3_uri: String => "LabelCategoryConfigS3Uri",
        /// `StoppingConditions`, as raw JSON.
        stopping_conditions: serde_json::Value => "StoppingConditions",
        /// `LabelingJobAlgorithmsConfig`, as raw JSON (automated labeling).
        labeling_job_algorithms_config: serde_json::Value => "LabelingJobAlgorithmsConfig",
        /// `Tags`.
        tags: Vec<Tag> => "Tags",
    }
    fixed {
        labeling_job_name: String => "LabelingJobName",
        label_attribute_name: String => "LabelAttributeName",
        input_config: serde_json::Value => "InputConfig",
        output_config: LabelingOutputConfig => "OutputConfig",
        role_arn: String => "RoleArn",
        human_task_config: HumanTaskConfig => "HumanTaskConfig",
    }
    task { "sagemaker:createLabelingJob", [RequestResponse, Sync], Sync,
           required ["LabelingJobName", "LabelAttributeName", "InputConfig", "OutputConfig", "RoleArn", "HumanTaskConfig"] }
}
job_patterns!(LabelingJob);

impl LabelingJob {
    /// A labeling job over the input manifest at `manifest_s3_uri`.
    pub fn new(
        labeling_job_name: impl Into<Input<String>>,
        label_attribute_name: impl Into<Input<String>>,
        manifest_s3_uri: impl Into<Input<String>>,
        output_config: impl Into<Input<LabelingOutputConfig>>,
        role_arn: impl Into<Input<String>>,
        human_task_config: impl Into<Input<HumanTaskConfig>>,
    ) -> Self {
        let mut cx = super::RenderCx::default();
        let mut s3 = serde_json::Map::new();
        super::put(&mut s3, "ManifestS3Uri", &manifest_s3_uri.into(), &mut cx);
        let input = serde_json::json!({ "DataSource": { "S3DataSource": s3 } });
        let mut t = LabelingJob::blank();
        t.labeling_job_name = Some(labeling_job_name.into());
        t.label_attribute_name = Some(label_attribute_name.into());
        t.input_config = Some(Input::Literal(input));
        t.output_config = Some(output_config.into());
        t.role_arn = Some(role_arn.into());
        t.human_task_config = Some(human_task_config.into());
        t
    }
}

// ---------------------------------------------------------------------------------------------
// CreateModel

request_object! {
    /// A model container (`PrimaryContainer` or a `Containers` entry).
    pub struct ContainerDefinition {
        /// `Image`.
        image: String => "Image",
        /// `ModelDataUrl`: the model artifacts (`s3://.../model.tar.gz`).
        model_data_url: String => "ModelDataUrl",
        /// `Environment`.
        environment: StringMap => "Environment",
        /// `Mode`: `SingleModel` or `MultiModel`.
        mode: String => "Mode",
        /// `ContainerHostname`.
        container_hostname: String => "ContainerHostname",
        /// `ModelPackageName`: deploy a registered model package.
        model_package_name: String => "ModelPackageName",
        /// `InferenceSpecificationName`.
        inference_specification_name: String => "InferenceSpecificationName",
        /// `ImageConfig`, as raw JSON.
        image_config: serde_json::Value => "ImageConfig",
    }
}

impl ContainerDefinition {
    /// A container running `image`.
    pub fn new(image: impl Into<Input<String>>) -> Self {
        ContainerDefinition::default().image(image)
    }
}

request_object! {
    /// `sagemaker:createModel`: registers a model for hosting or batch transform ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModel.html)).
    /// Request-response only.
    ///
    /// ```
    /// use stepwright::integrations::{Input, sagemaker::*};
    /// let task = CreateModel::new("churn-model", "arn:aws:iam::123456789012:role/SageMakerRole")
    ///     .primary_container(ContainerDefinition::new("xgb:1")
    ///         .model_data_url(Input::path("$.Training.ModelArtifacts.S3ModelArtifacts")))
    ///     .try_into_task()
    ///     .unwrap();
    /// assert_eq!(task.parameters.unwrap()["PrimaryContainer"]["ModelDataUrl.$"],
    ///            "$.Training.ModelArtifacts.S3ModelArtifacts");
    /// ```
    pub struct CreateModel {
        /// `PrimaryContainer`.
        primary_container: ContainerDefinition => "PrimaryContainer",
        /// `Containers` (an inference pipeline).
        containers: Vec<ContainerDefinition> => "Containers",
        /// `InferenceExecutionConfig`, as raw JSON.
        inference_execution_config: serde_json::Value => "InferenceExecutionConfig",
        /// `VpcConfig`.
        vpc_config: VpcConfig => "VpcConfig",
        /// `EnableNetworkIsolation`.
        enable_network_isolation: bool => "EnableNetworkIsolation",
        /// `Tags`.
        tags: Vec<Tag> => "Tags",
    }
    fixed {
        model_name: String => "ModelName",
        execution_role_arn: String => "ExecutionRoleArn",
    }
    task { "sagemaker:createModel", [RequestResponse], RequestResponse,
           required ["ModelName"] }
}

impl CreateModel {
    /// A model named `model_name`, run with `execution_role_arn`.
    pub fn new(
        model_name: impl Into<Input<String>>,
        execution_role_arn: impl Into<Input<String>>,
    ) -> Self {
        let mut t = CreateModel::blank();
        t.model_name = Some(model_name.into());
        t.execution_role_arn = Some(execution_role_arn.into());
        t
    }
}

// ---------------------------------------------------------------------------------------------
// CreateEndpointConfig

request_object! {
    /// `ServerlessConfig` of a production variant.
    pub struct ServerlessConfig {
        /// `MemorySizeInMB`: 1024 to 6144.
        memory_size_in_mb: u32 => "MemorySizeInMB",
        /// `MaxConcurrency`.
        max_concurrency: u32 => "MaxConcurrency",
        /// `ProvisionedConcurrency`.
        provisioned_concurrency: u32 => "ProvisionedConcurrency",
    }
}

impl ServerlessConfig {
    /// A serverless variant with this memory and concurrency.
    pub fn new(
        memory_size_in_mb: impl Into<Input<u32>>,
        max_concurrency: impl Into<Input<u32>>,
    ) -> Self {
        ServerlessConfig::default()
            .memory_size_in_mb(memory_size_in_mb)
            .max_concurrency(max_concurrency)
    }
}

request_object! {
    /// One `ProductionVariants` entry: a model on instances (or serverless).
    pub struct ProductionVariant {
        /// `VariantName`.
        variant_name: String => "VariantName",
        /// `ModelName`.
        model_name: String => "ModelName",
        /// `InitialInstanceCount`.
        initial_instance_count: u32 => "InitialInstanceCount",
        /// `InstanceType`.
        instance_type: String => "InstanceType",
        /// `InitialVariantWeight`.
        initial_variant_weight: f64 => "InitialVariantWeight",
        /// `AcceleratorType`.
        accelerator_type: String => "AcceleratorType",
        /// `ServerlessConfig`.
        serverless_config: ServerlessConfig => "ServerlessConfig",
        /// `VolumeSizeInGB`.
        volume_size_in_gb: u32 => "VolumeSizeInGB",
        /// `ModelDataDownloadTimeoutInSeconds`.
        model_data_download_timeout_in_seconds: u32 => "ModelDataDownloadTimeoutInSeconds",
        /// `ContainerStartupHealthCheckTimeoutInSeconds`.
        container_startup_health_check_timeout_in_seconds: u32 => "ContainerStartupHealthCheckTimeoutInSeconds",
    }
}

impl ProductionVariant {
    /// The variant `variant_name` serving `model_name`.
    pub fn new(
        variant_name: impl Into<Input<String>>,
        model_name: impl Into<Input<String>>,
    ) -> Self {
        ProductionVariant::default()
            .variant_name(variant_name)
            .model_name(model_name)
    }
}

request_object! {
    /// A `CaptureOptions` entry.
    pub struct CaptureOption {
        /// `CaptureMode`: `Input` or `Output`.
        capture_mode: String => "CaptureMode",
    }
}

request_object! {
    /// `CaptureContentTypeHeader`.
    pub struct CaptureContentTypeHeader {
        /// `CsvContentTypes`.
        csv_content_types: Vec<String> => "CsvContentTypes",
        /// `JsonContentTypes`.
        json_content_types: Vec<String> => "JsonContentTypes",
    }
}

request_object! {
    /// `DataCaptureConfig`: captures requests and responses for model monitoring.
    pub struct DataCaptureConfig {
        /// `EnableCapture`.
        enable_capture: bool => "EnableCapture",
        /// `InitialSamplingPercentage`.
        initial_sampling_percentage: u32 => "InitialSamplingPercentage",
        /// `DestinationS3Uri`.
        destination_s3_uri: String => "DestinationS3Uri",
        /// `KmsKeyId`.
        kms_key_id: String => "KmsKeyId",
        /// `CaptureOptions`.
        capture_options: Vec<CaptureOption> => "CaptureOptions",
        /// `CaptureContentTypeHeader`.
        capture_content_type_header: CaptureContentTypeHeader => "CaptureContentTypeHeader",
    }
}

impl DataCaptureConfig {
    /// Capture inputs and outputs at `sampling_percentage` % to `destination`.
    pub fn new(destination: impl Into<Input<String>>, sampling_percentage: u32) -> Self {
        DataCaptureConfig::default()
            .enable_capture(true)
            .initial_sampling_percentage(sampling_percentage)
            .destination_s3_uri(destination)
            .capture_options(vec![
                CaptureOption::default().capture_mode("Input"),
                CaptureOption::default().capture_mode("Output"),
            ])
    }
}

request_object! {
    /// `sagemaker:createEndpointConfig` ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html)).
    /// Request-response only.
    ///
    /// ```
    /// use stepwright::integrations::sagemaker::*;
    /// let task = CreateEndpointConfig::new("churn-config", vec![
    ///     ProductionVariant::new("AllTraffic", "churn-model")
    ///         .serverless_config(ServerlessConfig::new(2048, 5)),
    /// ]).unwrap();
    /// let state: stepwright::TaskState = task.into();
    /// assert_eq!(state.parameters.unwrap()["ProductionVariants"][0]["ServerlessConfig"]["MemorySizeInMB"], 2048);
    /// // 1 to 10 variants
    /// assert!(CreateEndpointConfig::new("c", vec![]).is_err());
    /// ```
    pub struct CreateEndpointConfig {
        /// `DataCaptureConfig`.
        data_capture_config: DataCaptureConfig => "DataCaptureConfig",
        /// `KmsKeyId`.
        kms_key_id: String => "KmsKeyId",
        /// `AsyncInferenceConfig`, as raw JSON.
        async_inference_config: serde_json::Value => "AsyncInferenceConfig",
        /// `Tags`.
        tags: Vec<Tag> => "Tags",
    }
    fixed {
        endpoint_config_name: String => "EndpointConfigName",
        production_variants: Vec<ProductionVariant> => "ProductionVariants",
    }
    task { "sagemaker:createEndpointConfig", [RequestResponse], RequestResponse,
           required ["EndpointConfigName", "ProductionVariants"] }
}

impl CreateEndpointConfig {
    /// An endpoint configuration with 1 to 10 production variants (checked when literal).
    pub fn new(
        endpoint_config_name: impl Into<Input<String>>,
        production_variants: impl Into<Input<Vec<ProductionVariant>>>,
    ) -> Result<Self, IntegrationError> {
        let variants = production_variants.into();
        if let Input::Literal(v) = &variants {
            if v.is_empty() || v.len() > 10 {
                return Err(IntegrationError::InvalidField {
                    field: "ProductionVariants".into(),
                    message: format!(
                        "Must specify from 1 to 10 production variants per endpoint configuration, got {}",
                        v.len()
                    ),
                });
            }
        }
        let mut t = CreateEndpointConfig::blank();
        t.endpoint_config_name = Some(endpoint_config_name.into());
        t.production_variants = Some(variants);
        Ok(t)
    }
}

// ---------------------------------------------------------------------------------------------
// CreateEndpoint / UpdateEndpoint

request_object! {
    /// `sagemaker:createEndpoint` ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html)).
    /// Request-response only: the task succeeds when SageMaker starts creating the endpoint.
    ///
    /// ```
    /// use stepwright::integrations::{Input, sagemaker::CreateEndpoint};
    /// let state: stepwright::TaskState =
    ///     CreateEndpoint::new("churn", Input::path("$.EndpointConfigName")).into();
    /// assert_eq!(state.parameters.unwrap()["EndpointConfigName.$"], "$.EndpointConfigName");
    /// ```
    pub struct CreateEndpoint {
        /// `DeploymentConfig`, as raw JSON.
        deployment_config: serde_json::Value => "DeploymentConfig",
        /// `Tags`.
        tags: Vec<Tag> => "Tags",
    }
    fixed {
        endpoint_name: String => "EndpointName",
        endpoint_config_name: String => "EndpointConfigName",
    }
    task { "sagemaker:createEndpoint", [RequestResponse], RequestResponse,
           required ["EndpointName", "EndpointConfigName"] }
}

impl CreateEndpoint {
    /// The endpoint `endpoint_name`, configured by `endpoint_config_name`.
    pub fn new(
        endpoint_name: impl Into<Input<String>>,
        endpoint_config_name: impl Into<Input<String>>,
    ) -> Self {
        let mut t = CreateEndpoint::blank();
        t.endpoint_name = Some(endpoint_name.into());
        t.endpoint_config_name = Some(endpoint_config_name.into());
        t
    }
}

request_object! {
    /// `sagemaker:updateEndpoint`: points an endpoint at a new configuration ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html)).
    /// Request-response only.
    ///
    /// ```
    /// use stepwright::integrations::sagemaker::UpdateEndpoint;
    /// let state: stepwright::TaskState = UpdateEndpoint::new("churn", "churn-config-v2").into();
    /// assert_eq!(state.resource.as_arn(), Some("arn:aws:states:::sagemaker:updateEndpoint"));
    /// ```
    pub struct UpdateEndpoint {
        /// `RetainAllVariantProperties`.
        retain_all_variant_properties: bool => "RetainAllVariantProperties",
        /// `ExcludeRetainedVariantProperties`, as raw JSON.
        exclude_retained_variant_properties: serde_json::Value => "ExcludeRetainedVariantProperties",
        /// `RetainDeploymentConfig`.
        retain_deployment_config: bool => "RetainDeploymentConfig",
        /// `DeploymentConfig`, as raw JSON (blue/green, rolling).
        deployment_config: serde_json::Value => "DeploymentConfig",
    }
    fixed {
        endpoint_name: String => "EndpointName",
        endpoint_config_name: String => "EndpointConfigName",
    }
    task { "sagemaker:updateEndpoint", [RequestResponse], RequestResponse,
           required ["EndpointName", "EndpointConfigName"] }
}

impl UpdateEndpoint {
    /// Moves `endpoint_name` to `endpoint_config_name`.
    pub fn new(
        endpoint_name: impl Into<Input<String>>,
        endpoint_config_name: impl Into<Input<String>>,
    ) -> Self {
        let mut t = UpdateEndpoint::blank();
        t.endpoint_name = Some(endpoint_name.into());
        t.endpoint_config_name = Some(endpoint_config_name.into());
        t
    }
}
