//! The SageMaker model registry (and endpoint lookup) through the AWS SDK integration,
//! `arn:aws:states:::aws-sdk:sagemaker:<action>`. Request-response only.
//!
//! A typical deploy step registers the trained model, waits for approval, then creates or
//! updates the endpoint depending on whether [`DescribeEndpoint`] finds it.
//!
//! ```
//! use stepwright::integrations::{Input, registry::*};
//! let register = CreateModelPackage::new("churn")
//!     .model_approval_status("PendingManualApproval")
//!     .inference_specification(InferenceSpecification::new(
//!         vec![ModelPackageContainer::new("xgb:1")
//!             .model_data_url(Input::path("$.Training.ModelArtifacts.S3ModelArtifacts"))],
//!         vec!["text/csv".into()],
//!         vec!["text/csv".into()],
//!     ));
//! let state: stepwright::TaskState = register.into();
//! assert_eq!(state.resource.as_arn(), Some("arn:aws:states:::aws-sdk:sagemaker:createModelPackage"));
//! ```

use super::{request_object, StringMap, Tag};
use crate::integrations::Input;

request_object! {
    /// A container of a model package's inference specification.
    pub struct ModelPackageContainer {
        /// `Image`.
        image: String => "Image",
        /// `ModelDataUrl`.
        model_data_url: String => "ModelDataUrl",
        /// `Environment`.
        environment: StringMap => "Environment",
        /// `Framework`.
        framework: String => "Framework",
    }
}

impl ModelPackageContainer {
    /// A container running `image`.
    pub fn new(image: impl Into<Input<String>>) -> Self {
        ModelPackageContainer::default().image(image)
    }
}

request_object! {
    /// `InferenceSpecification` of a model package.
    pub struct InferenceSpecification {
        /// `Containers`.
        containers: Vec<ModelPackageContainer> => "Containers",
        /// `SupportedContentTypes`.
        supported_content_types: Vec<String> => "SupportedContentTypes",
        /// `SupportedResponseMIMETypes`.
        supported_response_mime_types: Vec<String> => "SupportedResponseMIMETypes",
        /// `SupportedRealtimeInferenceInstanceTypes`.
        supported_realtime_inference_instance_types: Vec<String> => "SupportedRealtimeInferenceInstanceTypes",
        /// `SupportedTransformInstanceTypes`.
        supported_transform_instance_types: Vec<String> => "SupportedTransformInstanceTypes",
    }
}

impl InferenceSpecification {
    /// Containers with the content types they accept and return.
    pub fn new(
        containers: Vec<ModelPackageContainer>,
        content_types: Vec<String>,
        response_mime_types: Vec<String>,
    ) -> Self {
        InferenceSpecification::default()
            .containers(containers)
            .supported_content_types(content_types)
            .supported_response_mime_types(response_mime_types)
    }
}

request_object! {
    /// `aws-sdk:sagemaker:createModelPackage`: registers a model version in a model package
    /// group ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModelPackage.html)).
    ///
    /// ```
    /// use stepwright::integrations::{Input, registry::*};
    /// let state = CreateModelPackage::new("churn")
    ///     .model_approval_status("PendingManualApproval")
    ///     .model_package_description(Input::path("$.Training.TrainingJobName"))
    ///     .try_into_task()
    ///     .unwrap();
    /// let params = state.parameters.unwrap();
    /// assert_eq!(params["ModelPackageGroupName"], "churn");
    /// assert_eq!(params["ModelPackageDescription.$"], "$.Training.TrainingJobName");
    /// ```
    pub struct CreateModelPackage {
        /// `ModelPackageDescription`.
        model_package_description: String => "ModelPackageDescription",
        /// `InferenceSpecification`.
        inference_specification: InferenceSpecification => "InferenceSpecification",
        /// `ModelApprovalStatus`: `Approved`, `Rejected` or `PendingManualApproval`.
        model_approval_status: String => "ModelApprovalStatus",
        /// `ModelMetrics`, as raw JSON.
        model_metrics: serde_json::Value => "ModelMetrics",
        /// `CustomerMetadataProperties`.
        customer_metadata_properties: StringMap => "CustomerMetadataProperties",
        /// `ClientToken` (idempotency).
        client_token: String => "ClientToken",
        /// `Tags`.
        tags: Vec<Tag> => "Tags",
    }
    fixed {
        model_package_group_name: String => "ModelPackageGroupName",
    }
    task { "aws-sdk:sagemaker:createModelPackage", [RequestResponse], RequestResponse,
           required ["ModelPackageGroupName"] }
}

impl CreateModelPackage {
    /// A new version in the model package group `group`.
    pub fn new(group: impl Into<Input<String>>) -> Self {
        let mut t = CreateModelPackage::blank();
        t.model_package_group_name = Some(group.into());
        t
    }
}

request_object! {
    /// `aws-sdk:sagemaker:updateModelPackage`: approves or rejects a model version
    /// ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateModelPackage.html)).
    ///
    /// ```
    /// use stepwright::integrations::{Input, registry::UpdateModelPackage};
    /// let state: stepwright::TaskState = UpdateModelPackage::approve(Input::path("$.ModelPackageArn"))
    ///     .approval_description("metrics above threshold")
    ///     .into();
    /// assert_eq!(state.parameters.unwrap()["ModelApprovalStatus"], "Approved");
    /// ```
    pub struct UpdateModelPackage {
        /// `ApprovalDescription`.
        approval_description: String => "ApprovalDescription",
        /// `CustomerMetadataProperties`.
        customer_metadata_properties: StringMap => "CustomerMetadataProperties",
    }
    fixed {
        model_package_arn: String => "ModelPackageArn",
        model_approval_status: String => "ModelApprovalStatus",
    }
    task { "aws-sdk:sagemaker:updateModelPackage", [RequestResponse], RequestResponse,
           required ["ModelPackageArn"] }
}

impl UpdateModelPackage {
    /// Sets the approval status of `model_package_arn`.
    pub fn new(
        model_package_arn: impl Into<Input<String>>,
        status: impl Into<Input<String>>,
    ) -> Self {
        let mut t = UpdateModelPackage::blank();
        t.model_package_arn = Some(model_package_arn.into());
        t.model_approval_status = Some(status.into());
        t
    }

    /// Approves `model_package_arn`.
    pub fn approve(model_package_arn: impl Into<Input<String>>) -> Self {
        UpdateModelPackage::new(model_package_arn, "Approved")
    }

    /// Rejects `model_package_arn`.
    pub fn reject(model_package_arn: impl Into<Input<String>>) -> Self {
        UpdateModelPackage::new(model_package_arn, "Rejected")
    }
}

request_object! {
    /// `aws-sdk:sagemaker:describeModelPackage` ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeModelPackage.html)).
    ///
    /// ```
    /// use stepwright::integrations::{Input, registry::DescribeModelPackage};
    /// let state: stepwright::TaskState = DescribeModelPackage::new(Input::path("$.arn")).into();
    /// assert_eq!(state.parameters.unwrap()["ModelPackageName.$"], "$.arn");
    /// ```
    pub struct DescribeModelPackage {
    }
    fixed {
        model_package_name: String => "ModelPackageName",
    }
    task { "aws-sdk:sagemaker:describeModelPackage", [RequestResponse], RequestResponse,
           required ["ModelPackageName"] }
}

impl DescribeModelPackage {
    /// Describes a model package by name or ARN.
    pub fn new(model_package_name: impl Into<Input<String>>) -> Self {
        let mut t = DescribeModelPackage::blank();
        t.model_package_name = Some(model_package_name.into());
        t
    }
}

request_object! {
    /// `aws-sdk:sagemaker:listModelPackages` ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ListModelPackages.html)).
    ///
    /// ```
    /// use stepwright::integrations::registry::ListModelPackages;
    /// let state: stepwright::TaskState = ListModelPackages::new("churn")
    ///     .model_approval_status("Approved")
    ///     .sort_by("CreationTime")
    ///     .sort_order("Descending")
    ///     .max_results(1)
    ///     .into();
    /// assert_eq!(state.parameters.unwrap()["MaxResults"], 1);
    /// ```
    pub struct ListModelPackages {
        /// `ModelApprovalStatus`.
        model_approval_status: String => "ModelApprovalStatus",
        /// `ModelPackageType`: `Versioned`, `Unversioned` or `Both`.
        model_package_type: String => "ModelPackageType",
        /// `SortBy`: `Name` or `CreationTime`.
        sort_by: String => "SortBy",
        /// `SortOrder`: `Ascending` or `Descending`.
        sort_order: String => "SortOrder",
        /// `MaxResults`.
        max_results: u32 => "MaxResults",
        /// `NextToken`.
        next_token: String => "NextToken",
    }
    fixed {
        model_package_group_name: String => "ModelPackageGroupName",
    }
    task { "aws-sdk:sagemaker:listModelPackages", [RequestResponse], RequestResponse,
           required [] }
}

impl ListModelPackages {
    /// Lists the versions in the model package group `group`.
    pub fn new(group: impl Into<Input<String>>) -> Self {
        let mut t = ListModelPackages::blank();
        t.model_package_group_name = Some(group.into());
        t
    }
}

request_object! {
    /// `aws-sdk:sagemaker:describeEndpoint`: fails with `SageMaker.SageMakerException` when the
    /// endpoint does not exist, so a Catch can route to CreateEndpoint and success to
    /// UpdateEndpoint ([API](https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeEndpoint.html)).
    ///
    /// ```
    /// use stepwright::integrations::registry::DescribeEndpoint;
    /// let state: stepwright::TaskState = DescribeEndpoint::new("churn").into();
    /// assert_eq!(state.resource.as_arn(), Some("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint"));
    /// ```
    pub struct DescribeEndpoint {
    }
    fixed {
        endpoint_name: String => "EndpointName",
    }
    task { "aws-sdk:sagemaker:describeEndpoint", [RequestResponse], RequestResponse,
           required ["EndpointName"] }
}

impl DescribeEndpoint {
    /// Describes the endpoint `endpoint_name`.
    pub fn new(endpoint_name: impl Into<Input<String>>) -> Self {
        let mut t = DescribeEndpoint::blank();
        t.endpoint_name = Some(endpoint_name.into());
        t
    }
}
