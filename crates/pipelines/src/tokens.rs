//! The `${Name}` substitution tokens the generated definitions contain.
//!
//! SAM's `DefinitionSubstitutions` (and the CDK app, and `stepwright run --sub`) replace each
//! token with a value when the machine is deployed or run. Tokens are always whole JSON strings
//! (`"FunctionName": "${CleanseFunctionArn}"`), so every generated file is valid JSON and valid
//! ASL before substitution; numbers and booleans are read from their strings at run time
//! (`States.StringToJson`, JSONata `$number`).

/// One substitution token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// The name between `${` and `}`.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// A typical value (what the local demo or a first deployment would use).
    pub example: &'static str,
}

/// Every token, in the order docs/pipelines.md lists them.
///
/// ```
/// assert!(pipelines::tokens::TOKENS.iter().any(|t| t.name == "CleanseFunctionArn"));
/// ```
pub const TOKENS: &[Token] = &[
    Token {
        name: "CleanseFunctionArn",
        description: "ARN of the cleanse Lambda function.",
        example: "arn:aws:lambda:us-east-1:123456789012:function:stepwright-cleanse",
    },
    Token {
        name: "ValidateFunctionArn",
        description: "ARN of the validate Lambda function (also runs the scale-out `batch` and `merge` modes).",
        example: "arn:aws:lambda:us-east-1:123456789012:function:stepwright-validate",
    },
    Token {
        name: "ApprovalGateFunctionArn",
        description: "ARN of the approval-gate Lambda in `gate` mode (`APPROVAL_MODE=gate`): checks the metrics, registers the model package.",
        example: "arn:aws:lambda:us-east-1:123456789012:function:stepwright-approval-gate",
    },
    Token {
        name: "ApprovalNotifyFunctionArn",
        description: "ARN of the approval-gate Lambda in `notify` mode (`APPROVAL_MODE=notify`, with `APPROVAL_TOPIC_ARN` = the approval topic): publishes the signed approval link for a `.waitForTaskToken` task.",
        example: "arn:aws:lambda:us-east-1:123456789012:function:stepwright-approval-notify",
    },
    Token {
        name: "AlertTopicArn",
        description: "SNS topic that receives a message when a pipeline fails (which step, which error, why).",
        example: "arn:aws:sns:us-east-1:123456789012:stepwright-alerts",
    },
    Token {
        name: "SageMakerRoleArn",
        description: "Execution role SageMaker assumes for training jobs and models (passed with `iam:PassRole`).",
        example: "arn:aws:iam::123456789012:role/stepwright-sagemaker",
    },
    Token {
        name: "DataBucket",
        description: "Bucket the pipelines write to: `clean/`, `profiles/`, `models/`, `predictions/`, `shards/` (scale-out results), each under the execution name.",
        example: "stepwright-data-123456789012",
    },
    Token {
        name: "CleanseConfigUrl",
        description: "Cleanse rules for training data (`s3://` URL or path of a JSON document; see docs/lambdas.md).",
        example: "s3://stepwright-data-123456789012/config/cleanse.json",
    },
    Token {
        name: "ValidationSuiteUrl",
        description: "Expectation suite for cleansed training data.",
        example: "s3://stepwright-data-123456789012/config/suite.json",
    },
    Token {
        name: "InferenceCleanseConfigUrl",
        description: "Cleanse rules for data to score (no label column).",
        example: "s3://stepwright-data-123456789012/config/cleanse-inference.json",
    },
    Token {
        name: "InferenceSuiteUrl",
        description: "Expectation suite for cleansed data to score.",
        example: "s3://stepwright-data-123456789012/config/suite-inference.json",
    },
    Token {
        name: "ValidationDataUri",
        description: "Fixed hold-out data set (`s3://` prefix, CSV, label first, no header) the training job reports `validation:auc` on, so that models of different runs are compared on the same data.",
        example: "s3://stepwright-data-123456789012/holdout/",
    },
    Token {
        name: "TrainingImage",
        description: "Training and inference container image (SageMaker built-in XGBoost by default).",
        example: "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
    },
    Token {
        name: "TrainingInstanceType",
        description: "Instance type of the training job.",
        example: "ml.m5.xlarge",
    },
    Token {
        name: "InferenceInstanceType",
        description: "Instance type of the endpoint's production variant.",
        example: "ml.m5.large",
    },
    Token {
        name: "TransformInstanceType",
        description: "Instance type of the batch transform job.",
        example: "ml.m5.xlarge",
    },
    Token {
        name: "ModelName",
        description: "Prefix of the training job, model and endpoint config names (`<ModelName>-<sha1>`: at most 22 characters, letters, digits and hyphens).",
        example: "churn",
    },
    Token {
        name: "EndpointName",
        description: "The SageMaker endpoint the training pipeline creates or updates and batch inference scores with.",
        example: "churn",
    },
    Token {
        name: "ModelPackageGroupName",
        description: "SageMaker model package group the approval gate registers models in (and compares with its latest approved model).",
        example: "churn",
    },
    Token {
        name: "MinValidationAuc",
        description: "Approval threshold: the lowest `validation:auc` a model may have (a number, as text).",
        example: "0.75",
    },
    Token {
        name: "RequireManualApproval",
        description: "`true` to ask a person (SNS link) before deploying every model that passes the gate; `false` to ask only when the gate cannot decide.",
        example: "true",
    },
    Token {
        name: "ApprovalTimeoutSeconds",
        description: "How long a human approval may take before the execution fails with `States.Timeout` (also the approval link's lifetime).",
        example: "86400",
    },
    Token {
        name: "ShardBatchSize",
        description: "Scale-out: objects per child execution (one Lambda call each).",
        example: "20",
    },
    Token {
        name: "ShardMaxConcurrency",
        description: "Scale-out: child executions running at once.",
        example: "50",
    },
    Token {
        name: "ToleratedFailurePercentage",
        description: "Scale-out: percentage of objects whose batch may fail (Lambda crash, timeout) before the Distributed Map fails.",
        example: "5",
    },
    Token {
        name: "MaxInvalidObjectPercentage",
        description: "Scale-out: percentage of objects that may fail their checks while the data set as a whole passes.",
        example: "0",
    },
];

/// The names of the `${Name}` tokens in `text`, in order of first appearance, each once.
///
/// ```
/// let names = pipelines::tokens::find(r#"{"a": "${One}", "b": "x-${Two}-${One}", "c": "$x"}"#);
/// assert_eq!(names, ["One", "Two"]);
/// ```
pub fn find(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => {
                let name = &after[..j];
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !out.iter().any(|n| n == name)
                {
                    out.push(name.to_string());
                }
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
    out
}

/// The token named `name`, if it is one of [`TOKENS`].
pub fn get(name: &str) -> Option<&'static Token> {
    TOKENS.iter().find(|t| t.name == name)
}
