//! Lambda, SNS, SQS, EventBridge, DynamoDB, nested Step Functions, activities and any
//! `aws-sdk:<service>:<action>` call.
//!
//! ```
//! use serde_json::json;
//! use stepwright::integrations::{Input, services::*};
//!
//! // A callback: the Lambda gets the task token and the execution waits for SendTaskSuccess.
//! let approve = LambdaInvoke::new("approval-gate")
//!     .payload(json!({"token.$": "$$.Task.Token", "model.$": "$.model"}))
//!     .wait_for_task_token()
//!     .unwrap();
//! let state: stepwright::TaskState = approve.into();
//! assert_eq!(state.resource.as_arn(), Some("arn:aws:states:::lambda:invoke.waitForTaskToken"));
//!
//! // Without the token in the payload, nothing could ever resume the execution.
//! assert!(LambdaInvoke::new("approval-gate").payload(json!({"x": 1})).wait_for_task_token().is_err());
//! ```

use serde_json::Value;

use super::{request_object, IntegrationError, IntegrationPattern, RenderCx, TaskSpec};
use crate::integrations::{Input, Render};
use crate::model::{QueryLanguage, Retrier, TaskState};

// ---------------------------------------------------------------------------------------------
// Lambda

request_object! {
    /// `lambda:invoke`: calls a Lambda function ([docs](https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html)).
    ///
    /// Request-response by default, or `.waitForTaskToken`. Like the CDK, the task retries the
    /// transient Lambda service errors (`Lambda.ServiceException`, `Lambda.AWSLambdaException`,
    /// `Lambda.SdkClientException`, `Lambda.ClientExecutionTimeoutException`: 6 attempts, 2 s
    /// interval, backoff 2) unless [`without_default_retry`](Self::without_default_retry).
    ///
    /// ```
    /// use stepwright::integrations::{Input, services::LambdaInvoke};
    /// let state = LambdaInvoke::new("arn:aws:lambda:us-east-1:123456789012:function:cleanse")
    ///     .payload(Input::path("$"))
    ///     .try_into_task()
    ///     .unwrap();
    /// let json = serde_json::to_value(&state).unwrap();
    /// assert_eq!(json["Parameters"]["Payload.$"], "$");
    /// assert_eq!(json["Retry"][0]["ErrorEquals"][1], "Lambda.ServiceException");
    /// ```
    pub struct LambdaInvoke {
        /// `Payload`: the event (a JSON value or template, a path, or a JSONata expression).
        payload: Value => "Payload",
        /// `InvocationType`: `RequestResponse` (default), `Event` or `DryRun`.
        invocation_type: String => "InvocationType",
        /// `ClientContext` (base64).
        client_context: String => "ClientContext",
        /// `Qualifier`: a version or alias.
        qualifier: String => "Qualifier",
        /// `LogType`: `None` or `Tail`.
        log_type: String => "LogType",
    }
    fixed {
        function_name: String => "FunctionName",
    }
    private {
        default_retry: bool = true,
    }
    task { "lambda:invoke", [RequestResponse, WaitForTaskToken], RequestResponse,
           required ["FunctionName"], finish lambda_finish }
}

/// The retrier the CDK adds to every Lambda task (`retryOnServiceExceptions`).
pub fn lambda_service_retry() -> Retrier {
    Retrier {
        error_equals: vec![
            "Lambda.ClientExecutionTimeoutException".into(),
            "Lambda.ServiceException".into(),
            "Lambda.AWSLambdaException".into(),
            "Lambda.SdkClientException".into(),
        ],
        interval_seconds: Some(2),
        max_attempts: Some(6),
        backoff_rate: Some(2.into()),
        ..Retrier::default()
    }
}

fn lambda_finish(t: &LambdaInvoke, task: &mut TaskState) {
    if t.default_retry {
        task.retry = Some(vec![lambda_service_retry()]);
    }
}

impl LambdaInvoke {
    /// Invokes `function_name`: a name, a partial or full ARN, with or without a
    /// `:version`/`:alias` qualifier.
    pub fn new(function_name: impl Into<Input<String>>) -> Self {
        let mut t = LambdaInvoke::blank();
        t.function_name = Some(function_name.into());
        t
    }

    /// Do not add the default retrier on Lambda service errors.
    pub fn without_default_retry(mut self) -> Self {
        self.default_retry = false;
        self
    }
}

// ---------------------------------------------------------------------------------------------
// SNS, SQS, EventBridge

request_object! {
    /// `sns:publish`: publishes a message ([docs](https://docs.aws.amazon.com/step-functions/latest/dg/connect-sns.html)).
    /// Request-response or `.waitForTaskToken`.
    ///
    /// ```
    /// use stepwright::integrations::{Input, services::SnsPublish};
    /// let state = SnsPublish::topic("arn:aws:sns:us-east-1:123456789012:alerts", Input::path("$.message"))
    ///     .subject("Model deployed")
    ///     .try_into_task()
    ///     .unwrap();
    /// assert_eq!(state.parameters.unwrap()["Message.$"], "$.message");
    /// ```
    pub struct SnsPublish {
        /// `Message`: a string or, with `MessageStructure: json`, an object.
        message: Value => "Message",
        /// `Subject`.
        subject: String => "Subject",
        /// `MessageAttributes`, as raw JSON.
        message_attributes: Value => "MessageAttributes",
        /// `MessageStructure`: `json` to send a different message per protocol.
        message_structure: String => "MessageStructure",
        /// `MessageGroupId` (FIFO topics).
        message_group_id: String => "MessageGroupId",
        /// `MessageDeduplicationId` (FIFO topics).
        message_deduplication_id: String => "MessageDeduplicationId",
    }
    fixed {
        topic_arn: String => "TopicArn",
        target_arn: String => "TargetArn",
        phone_number: String => "PhoneNumber",
    }
    task { "sns:publish", [RequestResponse, WaitForTaskToken], RequestResponse, required ["Message"] }
}

impl SnsPublish {
    /// Publishes `message` to the topic `topic_arn`.
    pub fn topic(topic_arn: impl Into<Input<String>>, message: impl Into<Input<Value>>) -> Self {
        let mut t = SnsPublish::blank();
        t.topic_arn = Some(topic_arn.into());
        t.message = Some(message.into());
        t
    }

    /// Publishes `message` to a mobile endpoint (`TargetArn`).
    pub fn target(target_arn: impl Into<Input<String>>, message: impl Into<Input<Value>>) -> Self {
        let mut t = SnsPublish::blank();
        t.target_arn = Some(target_arn.into());
        t.message = Some(message.into());
        t
    }

    /// Sends `message` as an SMS to `phone_number`.
    pub fn sms(phone_number: impl Into<Input<String>>, message: impl Into<Input<Value>>) -> Self {
        let mut t = SnsPublish::blank();
        t.phone_number = Some(phone_number.into());
        t.message = Some(message.into());
        t
    }
}

request_object! {
    /// `sqs:sendMessage` ([docs](https://docs.aws.amazon.com/step-functions/latest/dg/connect-sqs.html)).
    /// Request-response or `.waitForTaskToken`.
    ///
    /// ```
    /// use serde_json::json;
    /// use stepwright::integrations::services::SqsSendMessage;
    /// let state = SqsSendMessage::new(
    ///     "https://sqs.us-east-1.amazonaws.com/123456789012/review",
    ///     json!({"token.$": "$$.Task.Token", "model.$": "$.model"}),
    /// )
    /// .wait_for_task_token()
    /// .unwrap()
    /// .try_into_task()
    /// .unwrap();
    /// assert!(state.resource.as_arn().unwrap().ends_with("sendMessage.waitForTaskToken"));
    /// ```
    pub struct SqsSendMessage {
        /// `DelaySeconds`.
        delay_seconds: u32 => "DelaySeconds",
        /// `MessageAttributes`, as raw JSON.
        message_attributes: Value => "MessageAttributes",
        /// `MessageGroupId` (FIFO queues).
        message_group_id: String => "MessageGroupId",
        /// `MessageDeduplicationId` (FIFO queues).
        message_deduplication_id: String => "MessageDeduplicationId",
    }
    fixed {
        queue_url: String => "QueueUrl",
        message_body: Value => "MessageBody",
    }
    task { "sqs:sendMessage", [RequestResponse, WaitForTaskToken], RequestResponse,
           required ["QueueUrl", "MessageBody"] }
}

impl SqsSendMessage {
    /// Sends `message_body` to the queue at `queue_url`.
    pub fn new(queue_url: impl Into<Input<String>>, message_body: impl Into<Input<Value>>) -> Self {
        let mut t = SqsSendMessage::blank();
        t.queue_url = Some(queue_url.into());
        t.message_body = Some(message_body.into());
        t
    }
}

request_object! {
    /// One EventBridge event (`Entries` item).
    pub struct EventEntry {
        /// `Detail`: the event body (an object; Step Functions serialises it).
        detail: Value => "Detail",
        /// `DetailType`.
        detail_type: String => "DetailType",
        /// `Source`.
        source: String => "Source",
        /// `EventBusName`: a name or ARN (default bus when absent).
        event_bus_name: String => "EventBusName",
        /// `Resources`.
        resources: Vec<String> => "Resources",
    }
}

impl EventEntry {
    /// An event from `source` of type `detail_type`.
    pub fn new(
        source: impl Into<Input<String>>,
        detail_type: impl Into<Input<String>>,
        detail: impl Into<Input<Value>>,
    ) -> Self {
        EventEntry::default()
            .source(source)
            .detail_type(detail_type)
            .detail(detail)
    }
}

request_object! {
    /// `events:putEvents` ([docs](https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html)).
    /// Request-response or `.waitForTaskToken`.
    ///
    /// ```
    /// use serde_json::json;
    /// use stepwright::integrations::services::{EventBridgePutEvents, EventEntry};
    /// let state = EventBridgePutEvents::new(vec![
    ///     EventEntry::new("stepwright.pipeline", "ModelDeployed", json!({"model.$": "$.model"}))
    ///         .event_bus_name("ml-events"),
    /// ]).try_into_task().unwrap();
    /// assert_eq!(state.parameters.unwrap()["Entries"][0]["EventBusName"], "ml-events");
    /// ```
    pub struct EventBridgePutEvents {
    }
    fixed {
        entries: Vec<EventEntry> => "Entries",
    }
    task { "events:putEvents", [RequestResponse, WaitForTaskToken], RequestResponse, required ["Entries"] }
}

impl EventBridgePutEvents {
    /// Puts these events.
    pub fn new(entries: impl Into<Input<Vec<EventEntry>>>) -> Self {
        let mut t = EventBridgePutEvents::blank();
        t.entries = Some(entries.into());
        t
    }
}

// ---------------------------------------------------------------------------------------------
// DynamoDB

macro_rules! dynamodb_task {
    ($(#[$meta:meta])* $name:ident, $integration:literal, $first:ident => $first_key:literal,
     { $( $(#[$fmeta:meta])* $field:ident : $ty:ty => $key:literal, )* }) => {
        request_object! {
            $(#[$meta])*
            pub struct $name {
                $( $(#[$fmeta])* $field : $ty => $key, )*
                /// `ConditionExpression`.
                condition_expression: String => "ConditionExpression",
                /// `ExpressionAttributeNames`, as raw JSON.
                expression_attribute_names: Value => "ExpressionAttributeNames",
                /// `ExpressionAttributeValues`, as raw JSON (DynamoDB typed values).
                expression_attribute_values: Value => "ExpressionAttributeValues",
                /// `ReturnValues`.
                return_values: String => "ReturnValues",
                /// `ReturnConsumedCapacity`.
                return_consumed_capacity: String => "ReturnConsumedCapacity",
            }
            fixed {
                table_name: String => "TableName",
                $first: Value => $first_key,
            }
            task { $integration, [RequestResponse], RequestResponse, required ["TableName", $first_key] }
        }

        impl $name {
            #[doc = concat!("A `", $integration, "` call on `table_name` with this `", $first_key, "` (DynamoDB typed JSON, e.g. `{\"pk\": {\"S\": \"a\"}}`).")]
            pub fn new(table_name: impl Into<Input<String>>, $first: impl Into<Input<Value>>) -> Self {
                let mut t = $name::blank();
                t.table_name = Some(table_name.into());
                t.$first = Some($first.into());
                t
            }
        }
    };
}

dynamodb_task! {
    /// `dynamodb:getItem` ([docs](https://docs.aws.amazon.com/step-functions/latest/dg/connect-ddb.html)).
    /// Request-response only.
    ///
    /// ```
    /// use serde_json::json;
    /// use stepwright::integrations::services::DynamoGetItem;
    /// let state = DynamoGetItem::new("models", json!({"pk": {"S.$": "$.model"}}))
    ///     .consistent_read(true)
    ///     .try_into_task()
    ///     .unwrap();
    /// assert_eq!(state.parameters.unwrap()["Key"]["pk"]["S.$"], "$.model");
    /// ```
    DynamoGetItem, "dynamodb:getItem", key => "Key", {
        /// `ConsistentRead`.
        consistent_read: bool => "ConsistentRead",
        /// `ProjectionExpression`.
        projection_expression: String => "ProjectionExpression",
    }
}

dynamodb_task! {
    /// `dynamodb:putItem`. Request-response only.
    ///
    /// ```
    /// use serde_json::json;
    /// use stepwright::integrations::services::DynamoPutItem;
    /// let state: stepwright::TaskState = DynamoPutItem::new("models",
    ///     json!({"pk": {"S.$": "$.model"}, "status": {"S": "approved"}})).into();
    /// assert_eq!(state.resource.as_arn(), Some("arn:aws:states:::dynamodb:putItem"));
    /// ```
    DynamoPutItem, "dynamodb:putItem", item => "Item", {}
}

dynamodb_task! {
    /// `dynamodb:updateItem`. Request-response only.
    ///
    /// ```
    /// use serde_json::json;
    /// use stepwright::integrations::services::DynamoUpdateItem;
    /// let state: stepwright::TaskState = DynamoUpdateItem::new("models", json!({"pk": {"S": "churn"}}))
    ///     .update_expression("SET #s = :s")
    ///     .expression_attribute_names(json!({"#s": "status"}))
    ///     .expression_attribute_values(json!({":s": {"S": "deployed"}}))
    ///     .into();
    /// assert_eq!(state.parameters.unwrap()["UpdateExpression"], "SET #s = :s");
    /// ```
    DynamoUpdateItem, "dynamodb:updateItem", key => "Key", {
        /// `UpdateExpression`.
        update_expression: String => "UpdateExpression",
    }
}

dynamodb_task! {
    /// `dynamodb:deleteItem`. Request-response only.
    ///
    /// ```
    /// use serde_json::json;
    /// use stepwright::integrations::services::DynamoDeleteItem;
    /// let state: stepwright::TaskState = DynamoDeleteItem::new("models", json!({"pk": {"S": "old"}})).into();
    /// assert_eq!(state.parameters.unwrap()["TableName"], "models");
    /// ```
    DynamoDeleteItem, "dynamodb:deleteItem", key => "Key", {}
}

// ---------------------------------------------------------------------------------------------
// Step Functions

request_object! {
    /// `states:startExecution`: runs another state machine ([docs](https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html)).
    ///
    /// Waits for the child with `.sync:2` by default (its output arrives as JSON); also
    /// `.sync` (output as a string), request-response and `.waitForTaskToken`.
    ///
    /// ```
    /// use stepwright::integrations::{Input, IntegrationPattern, services::StartExecution};
    /// let state = StartExecution::new("arn:aws:states:us-east-1:123456789012:stateMachine:train")
    ///     .input(Input::path("$.training"))
    ///     .try_into_task()
    ///     .unwrap();
    /// assert!(state.resource.as_arn().unwrap().ends_with("startExecution.sync:2"));
    /// ```
    pub struct StartExecution {
        /// `Input`: the child's input (Step Functions serialises an object).
        input: Value => "Input",
        /// `Name`: the execution name.
        name: String => "Name",
        /// `TraceHeader`.
        trace_header: String => "TraceHeader",
    }
    fixed {
        state_machine_arn: String => "StateMachineArn",
    }
    task { "states:startExecution", [RequestResponse, Sync, Sync2, WaitForTaskToken], Sync2,
           required ["StateMachineArn"] }
}

impl StartExecution {
    /// Starts an execution of `state_machine_arn`.
    pub fn new(state_machine_arn: impl Into<Input<String>>) -> Self {
        let mut t = StartExecution::blank();
        t.state_machine_arn = Some(state_machine_arn.into());
        t
    }
}

// ---------------------------------------------------------------------------------------------
// Activities

/// An activity task: a worker polls `GetActivityTask` and answers with the task token. The
/// Resource is the activity ARN; activities have no integration patterns and do not run in
/// EXPRESS machines.
///
/// ```
/// use stepwright::integrations::services::Activity;
/// let state: stepwright::TaskState =
///     Activity::new("arn:aws:states:us-east-1:123456789012:activity:review")
///         .heartbeat_seconds(300)
///         .into();
/// assert_eq!(state.resource.as_arn(), Some("arn:aws:states:us-east-1:123456789012:activity:review"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    arn: String,
    input: Option<Input<Value>>,
    heartbeat_seconds: Option<u64>,
}

impl Activity {
    /// The activity `arn` (`arn:aws:states:<region>:<account>:activity:<name>`).
    pub fn new(arn: impl Into<String>) -> Self {
        Activity {
            arn: arn.into(),
            input: None,
            heartbeat_seconds: None,
        }
    }

    /// The input the worker receives: a payload template (JSONPath `Parameters`) or a JSONata
    /// expression (`Arguments`).
    pub fn input(mut self, input: impl Into<Input<Value>>) -> Self {
        self.input = Some(input.into());
        self
    }

    /// `HeartbeatSeconds`: the worker must heartbeat at least this often.
    pub fn heartbeat_seconds(mut self, seconds: u64) -> Self {
        self.heartbeat_seconds = Some(seconds);
        self
    }
}

impl From<Activity> for TaskState {
    fn from(a: Activity) -> TaskState {
        let mut task = TaskState {
            resource: a.arn.into(),
            heartbeat_seconds: a.heartbeat_seconds.map(crate::model::IntOrExpr::Int),
            ..TaskState::default()
        };
        let mut cx = RenderCx::default();
        match a.input {
            Some(Input::Literal(v)) => {
                let v = v.render(&mut cx);
                if cx.jsonata {
                    task.common.query_language = Some(QueryLanguage::Jsonata);
                    task.arguments = Some(v);
                } else {
                    task.parameters = Some(v);
                }
            }
            Some(Input::Path(p)) => {
                task.input_path = Some(Some(p));
            }
            Some(Input::Jsonata(e)) => {
                task.common.query_language = Some(QueryLanguage::Jsonata);
                task.arguments = Some(Value::String(e));
            }
            None => {}
        }
        task
    }
}

// ---------------------------------------------------------------------------------------------
// Any AWS SDK call

/// `aws-sdk:<service>:<action>`: any AWS API through the SDK integration
/// ([docs](https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html)).
/// Request-response or `.waitForTaskToken` (no `.sync`). The IAM generator grants
/// `<service>:<Action>`.
///
/// ```
/// use serde_json::json;
/// use stepwright::integrations::{Input, services::AwsSdkCall};
/// let state = AwsSdkCall::new("s3", "copyObject")
///     .field("Bucket", "models")
///     .field("CopySource", Input::path("$.source"))
///     .field("Key", "latest/model.tar.gz")
///     .try_into_task()
///     .unwrap();
/// assert_eq!(state.resource.as_arn(), Some("arn:aws:states:::aws-sdk:s3:copyObject"));
/// assert_eq!(state.parameters.unwrap()["CopySource.$"], "$.source");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AwsSdkCall {
    service: String,
    action: String,
    fields: Vec<(String, Input<Value>)>,
    pattern: IntegrationPattern,
    query_language: Option<QueryLanguage>,
}

impl AwsSdkCall {
    /// Calls `action` (camelCase, as in the ARN: `copyObject`) of `service` (the SDK service
    /// name: `s3`, `sagemaker`, `sfn`, ...).
    pub fn new(service: impl Into<String>, action: impl Into<String>) -> Self {
        AwsSdkCall {
            service: service.into(),
            action: action.into(),
            fields: Vec::new(),
            pattern: IntegrationPattern::RequestResponse,
            query_language: None,
        }
    }

    /// Sets one request field (literal JSON, path or JSONata).
    pub fn field(mut self, key: impl Into<String>, value: impl Into<Input<Value>>) -> Self {
        self.fields.push((key.into(), value.into()));
        self
    }

    /// Renders the request under `Arguments` (JSONata) or `Parameters` (JSONPath).
    pub fn query_language(mut self, language: QueryLanguage) -> Self {
        self.query_language = Some(language);
        self
    }

    /// Sets the pattern: request-response or `.waitForTaskToken` (the SDK integration has no
    /// `.sync`).
    pub fn integration_pattern(
        mut self,
        pattern: IntegrationPattern,
    ) -> Result<Self, IntegrationError> {
        self.pattern = super::check_pattern(
            &self.integration(),
            &[
                IntegrationPattern::RequestResponse,
                IntegrationPattern::WaitForTaskToken,
            ],
            pattern,
        )?;
        Ok(self)
    }

    fn integration(&self) -> String {
        format!("aws-sdk:{}:{}", self.service, self.action)
    }

    fn spec(&self) -> TaskSpec {
        let mut cx = RenderCx::default();
        let mut o = serde_json::Map::new();
        for (k, v) in &self.fields {
            super::put(&mut o, k, v, &mut cx);
        }
        TaskSpec::new(
            self.integration(),
            self.pattern,
            Value::Object(o),
            cx,
            self.query_language,
        )
    }

    /// The Task state, after the whole-request checks (one query language, the task token).
    pub fn try_into_task(&self) -> Result<TaskState, IntegrationError> {
        if self.service.is_empty()
            || self.action.is_empty()
            || !self
                .service
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            || !self.action.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(IntegrationError::InvalidField {
                field: "Resource".into(),
                message: format!(
                    "aws-sdk:{}:{} is not an SDK service and action (e.g. aws-sdk:s3:getObject)",
                    self.service, self.action
                ),
            });
        }
        let spec = self.spec();
        spec.check()?;
        Ok(spec.into_task())
    }

    /// The Task state, without the checks of [`try_into_task`](Self::try_into_task).
    pub fn into_task(&self) -> TaskState {
        self.spec().into_task()
    }
}

impl From<AwsSdkCall> for TaskState {
    fn from(t: AwsSdkCall) -> TaskState {
        t.into_task()
    }
}
