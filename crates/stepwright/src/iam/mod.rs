//! IAM policy generation: the least-privilege policy the state machine's role needs, derived
//! from the definition itself, so it works on any parsed machine (hand-written JSON too).
//!
//! For each Task the [`Resource`](crate::TaskState::resource) selects the statements (as the
//! CDK's per-task `policyStatements` and the Step Functions documentation do) and the request
//! (`Parameters` or `Arguments`) scopes them: a literal name becomes a real ARN (partition `aws`
//! unless configured; region and account `*` unless configured), a dynamic one (`Key.$`,
//! `{% %}`) the narrowest pattern that still covers it (`training-job/*`, `function:*`, or `*`
//! where the API has no resource-level permissions). Distributed Maps add their child executions
//! and S3 reader/writer permissions; `.sync` adds the EventBridge managed rule; SageMaker adds
//! `iam:PassRole` with an `iam:PassedToService` condition; HTTP Tasks add
//! `states:InvokeHTTPEndpoint` (conditioned on the method and URL) and the connection's
//! credentials. A Task with `Credentials` runs as another role: the machine's role gets
//! `sts:AssumeRole` on it, and that role needs the task's permissions.
//!
//! A `${Name}` substitution token (SAM `DefinitionSubstitutions`) is dynamic by default: its
//! value is known only at deployment. With [`PolicyOptions::keep_substitutions`] (or
//! [`PolicyOptions::cloudformation`]) tokens stay in the resources, so that a template scopes
//! them with `Fn::Sub` and the same values as the definition (infra/sam does).
//!
//! Statements are deduplicated and merged (same actions: resources joined; then same resources:
//! actions joined) and sorted, so the same machine always yields the same document. A document
//! over 10,240 bytes (the inline role policy limit; whitespace not counted) gets a warning.
//!
//! ```
//! use stepwright::StateMachine;
//! let m = StateMachine::from_json(r#"{"StartAt":"Score","States":{"Score":{"Type":"Task",
//!   "Resource":"arn:aws:states:::lambda:invoke",
//!   "Parameters":{"FunctionName":"score","Payload.$":"$"},"End":true}}}"#).unwrap();
//! let policy = m.iam_policy();
//! let s = &policy.statements[0];
//! assert_eq!(s.actions, ["lambda:InvokeFunction"]);
//! assert_eq!(s.resources, ["arn:aws:lambda:*:*:function:score", "arn:aws:lambda:*:*:function:score:*"]);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::diagnostics::{pointer_push, Code, Diagnostic};
use crate::integrations::patterns::{parse_resource, IntegrationPattern, ResourceKind};
use crate::model::{MapState, State, StateMachine, TaskState};

/// The inline IAM role policy size limit, in bytes (whitespace not counted).
pub const INLINE_POLICY_LIMIT: usize = 10_240;

/// Where the machine will run: fills the ARNs' partition, region and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyOptions {
    /// `aws` (default), `aws-cn`, `aws-us-gov`.
    pub partition: String,
    /// The region; `*` when not given.
    pub region: Option<String>,
    /// The account id; `*` when not given.
    pub account: Option<String>,
    /// The state machine's own name (Distributed Map child executions); `*` when not given.
    pub state_machine_name: Option<String>,
    /// Keep `${Name}` substitution tokens (SAM `DefinitionSubstitutions`, CDK
    /// `definitionSubstitutions`) in the resources instead of treating the field as dynamic
    /// (`*`), so that a template can scope them with `Fn::Sub` and the same values. Default
    /// `false`.
    ///
    /// A token that is a whole field value stands for an ARN when the field only takes ARNs
    /// (`RoleArn`, `TopicArn`, ...) or when its name ends in `Arn` (`${CleanseFunctionArn}`);
    /// otherwise for a name (`${EndpointName}` → `...:endpoint/${EndpointName}`). SageMaker
    /// lowercases some ARNs: a literal name with capitals also gets its lowercase ARN, which a
    /// token cannot, so give such tokens lowercase values.
    pub keep_substitutions: bool,
}

impl Default for PolicyOptions {
    fn default() -> Self {
        PolicyOptions {
            partition: "aws".into(),
            region: None,
            account: None,
            state_machine_name: None,
            keep_substitutions: false,
        }
    }
}

impl PolicyOptions {
    /// Options for a policy inside a CloudFormation template (SAM, CDK): partition, region and
    /// account are the pseudo parameters `${AWS::Partition}`, `${AWS::Region}` and
    /// `${AWS::AccountId}`, and substitution tokens are kept
    /// ([`keep_substitutions`](Self::keep_substitutions)). Every resource string that contains
    /// `${` is then meant for `Fn::Sub` with the state machine's substitutions as its variables.
    ///
    /// ```
    /// use stepwright::iam::{policy_with, PolicyOptions};
    /// use stepwright::StateMachine;
    /// let m = StateMachine::from_json(r#"{"StartAt":"Clean","States":{"Clean":{"Type":"Task",
    ///   "Resource":"arn:aws:states:::lambda:invoke",
    ///   "Parameters":{"FunctionName":"${CleanseFunctionArn}","Payload.$":"$"},"Next":"Ping"},
    ///   "Ping":{"Type":"Task","Resource":"arn:aws:states:::sns:publish",
    ///   "Parameters":{"TopicArn":"${AlertTopicArn}","Message":"done"},"End":true}}}"#).unwrap();
    /// let p = policy_with(&m, &PolicyOptions::cloudformation());
    /// let resources: Vec<&str> = p.document.resources().collect();
    /// assert_eq!(resources, ["${CleanseFunctionArn}", "${CleanseFunctionArn}:*", "${AlertTopicArn}"]);
    /// // Without the option a token is dynamic: any function.
    /// let p = policy_with(&m, &PolicyOptions::default());
    /// assert_eq!(p.document.statements[0].resources, ["arn:aws:lambda:*:*:function:*"]);
    /// ```
    pub fn cloudformation() -> Self {
        PolicyOptions {
            partition: "${AWS::Partition}".into(),
            region: Some("${AWS::Region}".into()),
            account: Some("${AWS::AccountId}".into()),
            state_machine_name: None,
            keep_substitutions: true,
        }
    }
}

/// One `Allow` statement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Statement {
    /// `service:Action` names, sorted.
    pub actions: Vec<String>,
    /// Resource ARNs (or `*`), sorted.
    pub resources: Vec<String>,
    /// A `Condition` block, as JSON text (kept as text so statements order and compare).
    pub condition: Option<String>,
}

impl Statement {
    /// The statement as IAM JSON.
    pub fn to_value(&self) -> Value {
        let mut o = Map::new();
        o.insert("Effect".into(), json!("Allow"));
        o.insert("Action".into(), json!(self.actions));
        o.insert("Resource".into(), json!(self.resources));
        if let Some(c) = &self.condition {
            if let Ok(v) = serde_json::from_str::<Value>(c) {
                o.insert("Condition".into(), v);
            }
        }
        Value::Object(o)
    }
}

/// An IAM policy document (`Version` 2012-10-17).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyDocument {
    /// The statements, merged and sorted.
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// The document as JSON.
    pub fn to_value(&self) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": self.statements.iter().map(Statement::to_value).collect::<Vec<_>>(),
        })
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json_pretty(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.to_value()).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The size IAM counts: the JSON without whitespace.
    pub fn size(&self) -> usize {
        serde_json::to_string(&self.to_value())
            .map(|s| s.len())
            .unwrap_or(0)
    }

    /// Every action of every statement.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.statements
            .iter()
            .flat_map(|s| s.actions.iter().map(String::as_str))
    }

    /// Every resource of every statement.
    pub fn resources(&self) -> impl Iterator<Item = &str> {
        self.statements
            .iter()
            .flat_map(|s| s.resources.iter().map(String::as_str))
    }
}

/// A generated policy and what the generator has to say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The policy document.
    pub document: PolicyDocument,
    /// Warnings: the size limit ([`Code::SizeLimitExceeded`]), tasks whose permissions
    /// Stepwright does not know ([`Code::IamUnknownIntegration`]).
    pub diagnostics: Vec<Diagnostic>,
}

/// The policy for `machine` with default options (partition `aws`, any region and account).
pub fn policy_for(machine: &StateMachine) -> PolicyDocument {
    policy_with(machine, &PolicyOptions::default()).document
}

/// The policy for `machine` in the given partition/region/account, with its diagnostics.
///
/// ```
/// use stepwright::iam::{policy_with, PolicyOptions};
/// use stepwright::StateMachine;
/// let m = StateMachine::from_json(r#"{"StartAt":"N","States":{"N":{"Type":"Task",
///   "Resource":"arn:aws:states:::sns:publish",
///   "Parameters":{"TopicArn":"arn:aws:sns:eu-west-1:123456789012:alerts","Message":"done"},"End":true}}}"#).unwrap();
/// let opts = PolicyOptions { region: Some("eu-west-1".into()), account: Some("123456789012".into()), ..Default::default() };
/// let p = policy_with(&m, &opts);
/// assert!(p.diagnostics.is_empty());
/// assert_eq!(p.document.statements[0].resources, ["arn:aws:sns:eu-west-1:123456789012:alerts"]);
/// ```
pub fn policy_with(machine: &StateMachine, options: &PolicyOptions) -> Policy {
    let mut g = Gen {
        o: options,
        raw: Vec::new(),
        diagnostics: Vec::new(),
    };
    machine.walk(|place| match place.state {
        State::Task(t) => g.task(&place.pointer, t),
        State::Map(m) => g.map(&place.pointer, m),
        _ => {}
    });
    let document = merge(g.raw);
    let mut diagnostics = g.diagnostics;
    let size = document.size();
    if size > INLINE_POLICY_LIMIT {
        diagnostics.push(
            Diagnostic::warning(
                Code::SizeLimitExceeded,
                "",
                format!(
                    "the generated IAM policy is {size} bytes, over the {INLINE_POLICY_LIMIT}-byte inline role policy limit"
                ),
            )
            .with_help(
                "attach it as a managed policy (6,144 characters each, split it) or use wildcards in names you control",
            ),
        );
    }
    Policy {
        document,
        diagnostics,
    }
}

impl StateMachine {
    /// The least-privilege IAM policy the machine's role needs (see [`crate::iam`]).
    pub fn iam_policy(&self) -> PolicyDocument {
        policy_for(self)
    }

    /// The IAM policy for a given partition/region/account, with its warnings.
    pub fn iam_policy_with(&self, options: &PolicyOptions) -> Policy {
        policy_with(self, options)
    }
}

/// Merges raw statements: same actions and condition → resources joined; then same resources
/// and condition → actions joined; sorted.
fn merge(raw: Vec<Statement>) -> PolicyDocument {
    type Key = (Vec<String>, Option<String>);
    let mut by_actions: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    for s in raw {
        let mut actions = s.actions;
        actions.sort();
        actions.dedup();
        by_actions
            .entry((actions, s.condition))
            .or_default()
            .extend(s.resources);
    }
    let mut by_resources: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    for ((actions, condition), resources) in by_actions {
        let mut resources: Vec<String> = resources.into_iter().collect();
        // `*` covers everything else of the statement.
        if resources.iter().any(|r| r == "*") {
            resources = vec!["*".into()];
        }
        by_resources
            .entry((resources, condition))
            .or_default()
            .extend(actions);
    }
    let mut statements: Vec<Statement> = by_resources
        .into_iter()
        .map(|((resources, condition), actions)| Statement {
            actions: actions.into_iter().collect(),
            resources,
            condition,
        })
        .collect();
    statements.sort();
    PolicyDocument { statements }
}

/// A request field: literal, dynamic (a path or an expression), or absent.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field<'a> {
    Literal(&'a str),
    Dynamic,
    Absent,
}

/// The request of a task (Parameters or Arguments).
struct Request<'a> {
    value: Option<&'a Value>,
    /// Substitution tokens are literals ([`PolicyOptions::keep_substitutions`]).
    keep: bool,
}

impl<'a> Request<'a> {
    fn of(task: &'a TaskState, keep: bool) -> Self {
        Request {
            value: task.parameters.as_ref().or(task.arguments.as_ref()),
            keep,
        }
    }

    /// A whole-request JSONata expression makes every field dynamic.
    fn is_dynamic(&self) -> bool {
        matches!(self.value, Some(Value::String(_)))
    }

    fn get(&self, key: &str) -> Field<'a> {
        field_in(self.value, key, self.is_dynamic(), self.keep)
    }

    fn at(&self, path: &[&str]) -> Field<'a> {
        let mut v = self.value;
        for (i, k) in path.iter().enumerate() {
            if i + 1 == path.len() {
                return field_in(v, k, self.is_dynamic(), self.keep);
            }
            match v.and_then(|v| v.as_object()) {
                Some(o) => {
                    if o.contains_key(&format!("{k}.$")) {
                        return Field::Dynamic;
                    }
                    match o.get(*k) {
                        Some(Value::String(s)) if is_jsonata(s) => return Field::Dynamic,
                        other => v = other,
                    }
                }
                None => return Field::Absent,
            }
        }
        Field::Absent
    }

    fn has(&self, key: &str) -> bool {
        self.get(key) != Field::Absent
            || self
                .value
                .and_then(|v| v.as_object())
                .is_some_and(|o| o.contains_key(key))
    }

    fn raw(&self, key: &str) -> Option<&'a Value> {
        self.value.and_then(|v| v.get(key))
    }
}

fn is_jsonata(s: &str) -> bool {
    let t = s.trim();
    t.starts_with("{%") && t.ends_with("%}")
}

/// Whether `s` holds a `${...}` substitution token (SAM/CDK definition substitutions,
/// CloudFormation pseudo parameters).
fn has_token(s: &str) -> bool {
    s.find("${")
        .is_some_and(|i| s[i + 2..].find('}').is_some_and(|j| j > 0))
}

/// Whether `s` is one whole token whose name says it is an ARN (`${CleanseFunctionArn}`,
/// `${Role.Arn}`).
fn is_arn_token(s: &str) -> bool {
    s.strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .is_some_and(|name| {
            !name.is_empty()
                && !name.contains(['{', '}'])
                && (name.ends_with("Arn") || name.ends_with("ARN"))
        })
}

/// Whether a literal field value is an ARN (or a token standing for one).
fn is_arn(s: &str) -> bool {
    s.starts_with("arn:") || is_arn_token(s)
}

/// A field's value: `keep` makes substitution tokens literals; otherwise a value with a token
/// is dynamic (its value is known only at deployment).
fn field_in<'a>(v: Option<&'a Value>, key: &str, dynamic: bool, keep: bool) -> Field<'a> {
    if dynamic {
        return Field::Dynamic;
    }
    let Some(o) = v.and_then(|v| v.as_object()) else {
        return Field::Absent;
    };
    if o.contains_key(&format!("{key}.$")) {
        return Field::Dynamic;
    }
    match o.get(key) {
        Some(Value::String(s)) if is_jsonata(s) => Field::Dynamic,
        Some(Value::String(s)) if !keep && has_token(s) => Field::Dynamic,
        Some(Value::String(s)) => Field::Literal(s),
        Some(Value::Null) | None => Field::Absent,
        Some(_) => Field::Dynamic,
    }
}

struct Gen<'o> {
    o: &'o PolicyOptions,
    raw: Vec<Statement>,
    diagnostics: Vec<Diagnostic>,
}

impl Gen<'_> {
    fn region(&self) -> &str {
        self.o.region.as_deref().unwrap_or("*")
    }

    fn account(&self) -> &str {
        self.o.account.as_deref().unwrap_or("*")
    }

    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.o.partition,
            self.region(),
            self.account()
        )
    }

    fn allow(&mut self, actions: &[&str], resources: Vec<String>) {
        self.raw.push(Statement {
            actions: actions.iter().map(|s| s.to_string()).collect(),
            resources,
            condition: None,
        });
    }

    fn events_rule(&mut self, rule: &str) {
        let r = self.arn("events", &format!("rule/{rule}"));
        self.allow(
            &["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            vec![r],
        );
    }

    fn pass_role(&mut self, role: Field<'_>) {
        let resource = match role {
            Field::Literal(r) if is_arn(r) => r.to_string(),
            Field::Literal(r) => {
                format!("arn:{}:iam::{}:role/{r}", self.o.partition, self.account())
            }
            Field::Dynamic => "*".to_string(),
            Field::Absent => return,
        };
        self.raw.push(Statement {
            actions: vec!["iam:PassRole".into()],
            resources: vec![resource],
            condition: Some(
                json!({"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})
                    .to_string(),
            ),
        });
    }

    /// SageMaker resource ARNs for a name: as written and lowercased (SageMaker lowercases some
    /// ARNs), `suffix` appended; the type's wildcard when dynamic.
    fn sagemaker_arns(&self, kind: &str, name: Field<'_>, suffix: &str) -> Vec<String> {
        match name {
            Field::Literal(n) if is_arn(n) => vec![n.to_string()],
            Field::Literal(n) => {
                let mut v = vec![self.arn("sagemaker", &format!("{kind}/{n}{suffix}"))];
                let lower = n.to_ascii_lowercase();
                // a token's value is unknown here (and lowercasing would rename the token)
                if lower != n && !has_token(n) {
                    v.push(self.arn("sagemaker", &format!("{kind}/{lower}{suffix}")));
                }
                v
            }
            Field::Dynamic | Field::Absent => vec![self.arn("sagemaker", &format!("{kind}/*"))],
        }
    }

    fn unknown(&mut self, pointer: &str, what: &str) {
        self.diagnostics.push(
            Diagnostic::warning(
                Code::IamUnknownIntegration,
                pointer_push(pointer, "Resource"),
                format!("no IAM statements are known for {what}"),
            )
            .with_help("add the permissions this task needs to the role by hand"),
        );
    }

    fn task(&mut self, pointer: &str, task: &TaskState) {
        // With `Credentials`, the task runs as another role: the machine's role only assumes it
        // (the other role needs the task's own permissions).
        if let Some(creds) = &task.credentials {
            let creds = Value::Object(creds.clone());
            let role = field_in(Some(&creds), "RoleArn", false, self.o.keep_substitutions);
            let r = match role {
                Field::Literal(r) => r.to_string(),
                _ => "*".to_string(),
            };
            self.allow(&["sts:AssumeRole"], vec![r]);
            return;
        }
        let Some(arn) = task.resource.as_arn() else {
            self.unknown(pointer, "a CloudFormation-resolved Resource");
            return;
        };
        let Some(parsed) = parse_resource(arn) else {
            if !arn.starts_with("${") {
                self.unknown(pointer, arn);
            }
            return;
        };
        let req = Request::of(task, self.o.keep_substitutions);
        let sync = matches!(
            parsed.pattern,
            IntegrationPattern::Sync | IntegrationPattern::Sync2
        );
        match &parsed.kind {
            ResourceKind::Activity { .. } => {}
            ResourceKind::LambdaFunction { arn } => {
                let r = lambda_arns(self, Field::Literal(arn), Field::Absent);
                self.allow(&["lambda:InvokeFunction"], r);
            }
            ResourceKind::Optimized { service, action } => {
                self.optimized(pointer, service, action, sync, &req)
            }
            ResourceKind::AwsSdk { service, action } => self.sdk(service, action, &req),
        }
    }

    fn optimized(
        &mut self,
        pointer: &str,
        service: &str,
        action: &str,
        sync: bool,
        req: &Request<'_>,
    ) {
        match (service, action) {
            ("sagemaker", a) => self.sagemaker(pointer, a, sync, req),
            ("lambda", "invoke") => {
                let r = lambda_arns(self, req.get("FunctionName"), req.get("Qualifier"));
                self.allow(&["lambda:InvokeFunction"], r);
            }
            ("sns", "publish") => {
                let r = match (req.get("TopicArn"), req.get("TargetArn")) {
                    (Field::Literal(t), _) | (_, Field::Literal(t)) => t.to_string(),
                    (Field::Dynamic, _) | (_, Field::Dynamic) => self.arn("sns", "*"),
                    // SMS to a phone number: sns:Publish has no resource then.
                    _ => "*".into(),
                };
                self.allow(&["sns:Publish"], vec![r]);
            }
            ("sqs", "sendMessage") => {
                let r = match req.get("QueueUrl") {
                    Field::Literal(u) => {
                        sqs_arn(&self.o.partition, u).unwrap_or_else(|| self.arn("sqs", "*"))
                    }
                    _ => self.arn("sqs", "*"),
                };
                self.allow(&["sqs:SendMessage"], vec![r]);
            }
            ("events", "putEvents") => {
                let mut r = Vec::new();
                match req.raw("Entries") {
                    Some(Value::Array(entries)) if !req.is_dynamic() => {
                        for e in entries {
                            let bus =
                                field_in(Some(e), "EventBusName", false, self.o.keep_substitutions);
                            r.push(match bus {
                                Field::Literal(b) if is_arn(b) => b.to_string(),
                                Field::Literal(b) => self.arn("events", &format!("event-bus/{b}")),
                                Field::Absent => self.arn("events", "event-bus/default"),
                                Field::Dynamic => self.arn("events", "event-bus/*"),
                            });
                        }
                    }
                    _ => r.push(self.arn("events", "event-bus/*")),
                }
                self.allow(&["events:PutEvents"], r);
            }
            ("dynamodb", a @ ("getItem" | "putItem" | "updateItem" | "deleteItem")) => {
                let act = match a {
                    "getItem" => "dynamodb:GetItem",
                    "putItem" => "dynamodb:PutItem",
                    "updateItem" => "dynamodb:UpdateItem",
                    _ => "dynamodb:DeleteItem",
                };
                let r = match req.get("TableName") {
                    Field::Literal(t) if is_arn(t) => t.to_string(),
                    Field::Literal(t) => self.arn("dynamodb", &format!("table/{t}")),
                    _ => self.arn("dynamodb", "table/*"),
                };
                self.allow(&[act], vec![r]);
            }
            ("states", "startExecution") => {
                let (machine, executions) = match req.get("StateMachineArn") {
                    // a token's execution ARNs cannot be derived from it: any execution
                    Field::Literal(a) if is_arn_token(a) => {
                        (a.to_string(), self.arn("states", "execution:*"))
                    }
                    Field::Literal(a) if a.contains(":stateMachine:") => {
                        let base = a.split(':').take(7).collect::<Vec<_>>().join(":");
                        (
                            a.to_string(),
                            format!("{}:*", base.replacen(":stateMachine:", ":execution:", 1)),
                        )
                    }
                    _ => (
                        self.arn("states", "stateMachine:*"),
                        self.arn("states", "execution:*"),
                    ),
                };
                self.allow(&["states:StartExecution"], vec![machine]);
                if sync {
                    self.allow(
                        &["states:DescribeExecution", "states:StopExecution"],
                        vec![executions],
                    );
                    self.events_rule("StepFunctionsGetEventsForStepFunctionsExecutionRule");
                }
            }
            ("http", "invoke") => self.http(req),
            ("s3", a @ ("getObject" | "putObject" | "listObjectsV2")) => {
                self.s3(a, req.get("Bucket"), req.get("Key").or(req.get("Prefix")))
            }
            _ => self.unknown(pointer, &format!("{service}:{action}")),
        }
    }

    fn sagemaker(&mut self, pointer: &str, action: &str, sync: bool, req: &Request<'_>) {
        struct Job {
            create: &'static str,
            describe: &'static str,
            stop: &'static str,
            kind: &'static str,
            name: &'static str,
            rule: &'static str,
        }
        let job = match action {
            "createTrainingJob" => Some(Job {
                create: "sagemaker:CreateTrainingJob",
                describe: "sagemaker:DescribeTrainingJob",
                stop: "sagemaker:StopTrainingJob",
                kind: "training-job",
                name: "TrainingJobName",
                rule: "StepFunctionsGetEventsForSageMakerTrainingJobsRule",
            }),
            "createTransformJob" => Some(Job {
                create: "sagemaker:CreateTransformJob",
                describe: "sagemaker:DescribeTransformJob",
                stop: "sagemaker:StopTransformJob",
                kind: "transform-job",
                name: "TransformJobName",
                rule: "StepFunctionsGetEventsForSageMakerTransformJobsRule",
            }),
            "createProcessingJob" => Some(Job {
                create: "sagemaker:CreateProcessingJob",
                describe: "sagemaker:DescribeProcessingJob",
                stop: "sagemaker:StopProcessingJob",
                kind: "processing-job",
                name: "ProcessingJobName",
                rule: "StepFunctionsGetEventsForSageMakerProcessingJobsRule",
            }),
            "createHyperParameterTuningJob" => Some(Job {
                create: "sagemaker:CreateHyperParameterTuningJob",
                describe: "sagemaker:DescribeHyperParameterTuningJob",
                stop: "sagemaker:StopHyperParameterTuningJob",
                kind: "hyper-parameter-tuning-job",
                name: "HyperParameterTuningJobName",
                rule: "StepFunctionsGetEventsForSageMakerTuningJobsRule",
            }),
            "createLabelingJob" => Some(Job {
                create: "sagemaker:CreateLabelingJob",
                describe: "sagemaker:DescribeLabelingJob",
                stop: "sagemaker:StopLabelingJob",
                kind: "labeling-job",
                name: "LabelingJobName",
                rule: "StepFunctionsGetEventsForSageMakerLabelingJobsRule",
            }),
            _ => None,
        };
        let tagged = req.has("Tags");
        if let Some(job) = job {
            let arns = self.sagemaker_arns(job.kind, req.get(job.name), "*");
            let mut actions = vec![job.create, "sagemaker:ListTags"];
            if sync {
                actions.extend([job.describe, job.stop]);
                if action == "createHyperParameterTuningJob" {
                    actions.push("sagemaker:ListTrainingJobsForHyperParameterTuningJob");
                }
            }
            if tagged {
                actions.push("sagemaker:AddTags");
            }
            self.allow(&actions, arns);
            if action == "createHyperParameterTuningJob" {
                self.pass_role(req.at(&["TrainingJobDefinition", "RoleArn"]));
                if let Some(Value::Array(defs)) = req.raw("TrainingJobDefinitions") {
                    for d in defs {
                        self.pass_role(field_in(
                            Some(d),
                            "RoleArn",
                            false,
                            self.o.keep_substitutions,
                        ));
                    }
                } else if req.get("TrainingJobDefinitions") == Field::Dynamic {
                    self.pass_role(Field::Dynamic);
                }
            } else if action != "createTransformJob" {
                self.pass_role(req.get("RoleArn"));
            }
            if sync {
                self.events_rule(job.rule);
            }
            return;
        }
        let with_tags = |mut a: Vec<&'static str>| {
            if tagged {
                a.push("sagemaker:AddTags");
            }
            a
        };
        match action {
            "createModel" => {
                let arns = self.sagemaker_arns("model", req.get("ModelName"), "");
                self.allow(&with_tags(vec!["sagemaker:CreateModel"]), arns);
                self.pass_role(req.get("ExecutionRoleArn"));
            }
            "createEndpointConfig" => {
                let arns =
                    self.sagemaker_arns("endpoint-config", req.get("EndpointConfigName"), "");
                self.allow(&with_tags(vec!["sagemaker:CreateEndpointConfig"]), arns);
            }
            "createEndpoint" | "updateEndpoint" => {
                let act = if action == "createEndpoint" {
                    "sagemaker:CreateEndpoint"
                } else {
                    "sagemaker:UpdateEndpoint"
                };
                let mut arns = self.sagemaker_arns("endpoint", req.get("EndpointName"), "");
                arns.extend(self.sagemaker_arns(
                    "endpoint-config",
                    req.get("EndpointConfigName"),
                    "",
                ));
                let acts = if action == "createEndpoint" {
                    with_tags(vec![act])
                } else {
                    vec![act]
                };
                self.allow(&acts, arns);
            }
            _ => self.unknown(pointer, &format!("sagemaker:{action}")),
        }
    }

    fn sdk(&mut self, service: &str, action: &str, req: &Request<'_>) {
        let pascal = {
            let mut c = action.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        };
        match (service, action) {
            ("sagemaker", "createModelPackage") => {
                let r = match req.get("ModelPackageGroupName") {
                    // the group's ARN as a token: its packages' ARNs cannot be derived from it
                    Field::Literal(g) if is_arn_token(g) => {
                        vec![g.to_string(), self.arn("sagemaker", "model-package/*")]
                    }
                    Field::Literal(g) => {
                        let name = g.rsplit('/').next().unwrap_or(g);
                        vec![
                            self.arn("sagemaker", &format!("model-package-group/{name}")),
                            self.arn("sagemaker", &format!("model-package/{name}/*")),
                        ]
                    }
                    _ => vec![
                        self.arn("sagemaker", "model-package-group/*"),
                        self.arn("sagemaker", "model-package/*"),
                    ],
                };
                let mut acts = vec!["sagemaker:CreateModelPackage"];
                if req.has("Tags") {
                    acts.push("sagemaker:AddTags");
                }
                self.allow(&acts, r);
            }
            ("sagemaker", "updateModelPackage" | "describeModelPackage") => {
                let key = if action == "updateModelPackage" {
                    "ModelPackageArn"
                } else {
                    "ModelPackageName"
                };
                let r = match req.get(key) {
                    Field::Literal(a) if is_arn(a) => a.to_string(),
                    Field::Literal(n) => self.arn("sagemaker", &format!("model-package/{n}")),
                    _ => self.arn("sagemaker", "model-package/*"),
                };
                let act = format!("sagemaker:{pascal}");
                self.allow(&[act.as_str()], vec![r]);
            }
            ("sagemaker", "describeEndpoint" | "describeEndpointConfig" | "describeModel") => {
                let (kind, key) = match action {
                    "describeEndpoint" => ("endpoint", "EndpointName"),
                    "describeEndpointConfig" => ("endpoint-config", "EndpointConfigName"),
                    _ => ("model", "ModelName"),
                };
                let r = self.sagemaker_arns(kind, req.get(key), "");
                let act = format!("sagemaker:{pascal}");
                self.allow(&[act.as_str()], r);
            }
            (
                "s3",
                "getObject" | "putObject" | "headObject" | "deleteObject" | "listObjectsV2"
                | "listObjects",
            ) => {
                let a = match action {
                    "listObjects" => "listObjectsV2",
                    "headObject" => "getObject",
                    a => a,
                };
                self.s3(a, req.get("Bucket"), req.get("Key").or(req.get("Prefix")));
            }
            ("s3", "copyObject") => {
                // CopySource is `bucket/key`; there is no s3:CopyObject action.
                let p = self.o.partition.clone();
                let src = match req.get("CopySource") {
                    Field::Literal(s) => format!("arn:{p}:s3:::{}", s.trim_start_matches('/')),
                    _ => format!("arn:{p}:s3:::*/*"),
                };
                self.allow(&["s3:GetObject"], vec![src]);
                self.s3("putObject", req.get("Bucket"), req.get("Key"));
            }
            _ => {
                // List* and most read APIs have no resource-level permissions: `*`.
                let prefix = iam_prefix(service);
                let act = format!("{prefix}:{pascal}");
                self.allow(&[act.as_str()], vec!["*".into()]);
            }
        }
    }

    fn s3(&mut self, action: &str, bucket: Field<'_>, key: Field<'_>) {
        let p = self.o.partition.clone();
        let b = match bucket {
            Field::Literal(b) => b.to_string(),
            _ => "*".to_string(),
        };
        let object = |k: Field<'_>, star: bool| match k {
            Field::Literal(k) if star => format!("arn:{p}:s3:::{b}/{k}*"),
            Field::Literal(k) => format!("arn:{p}:s3:::{b}/{k}"),
            _ => format!("arn:{p}:s3:::{b}/*"),
        };
        match action {
            "getObject" => self.allow(&["s3:GetObject"], vec![object(key, false)]),
            "deleteObject" => self.allow(&["s3:DeleteObject"], vec![object(key, false)]),
            "putObject" => self.allow(&["s3:PutObject"], vec![object(key, false)]),
            "listObjectsV2" => self.allow(&["s3:ListBucket"], vec![format!("arn:{p}:s3:::{b}")]),
            // Distributed Map ResultWriter: a prefix, multipart uploads.
            _ => self.allow(
                &[
                    "s3:PutObject",
                    "s3:GetObject",
                    "s3:ListMultipartUploadParts",
                    "s3:AbortMultipartUpload",
                ],
                vec![object(key, true)],
            ),
        }
    }

    /// HTTP Task: invoke the endpoint (scoped by method and URL when literal), read the
    /// EventBridge connection's credentials and its secret.
    fn http(&mut self, req: &Request<'_>) {
        let name = self
            .o
            .state_machine_name
            .as_deref()
            .unwrap_or("*")
            .to_string();
        let sm = self.arn("states", &format!("stateMachine:{name}"));
        let mut equals = Map::new();
        if let Field::Literal(m) = req.get("Method") {
            equals.insert("states:HTTPMethod".into(), json!(m));
        }
        let mut like = Map::new();
        if let Field::Literal(e) = req.get("ApiEndpoint") {
            like.insert("states:HTTPEndpoint".into(), json!(e));
        }
        let mut cond = Map::new();
        if !equals.is_empty() {
            cond.insert("StringEquals".into(), Value::Object(equals));
        }
        if !like.is_empty() {
            cond.insert("StringLike".into(), Value::Object(like));
        }
        self.raw.push(Statement {
            actions: vec!["states:InvokeHTTPEndpoint".into()],
            resources: vec![sm],
            condition: (!cond.is_empty()).then(|| Value::Object(cond).to_string()),
        });
        let connection = match req.at(&["Authentication", "ConnectionArn"]) {
            Field::Literal(c) => c.to_string(),
            _ => self.arn("events", "connection/*"),
        };
        self.allow(&["events:RetrieveConnectionCredentials"], vec![connection]);
        let secret = self.arn("secretsmanager", "secret:events!connection/*");
        self.allow(
            &[
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
            ],
            vec![secret],
        );
    }

    fn map(&mut self, pointer: &str, m: &MapState) {
        if !m.is_distributed() {
            return;
        }
        let name = self
            .o
            .state_machine_name
            .as_deref()
            .unwrap_or("*")
            .to_string();
        let sm = self.arn("states", &format!("stateMachine:{name}"));
        let ex = self.arn("states", &format!("execution:{name}/*"));
        self.allow(&["states:StartExecution"], vec![sm]);
        self.allow(
            &["states:DescribeExecution", "states:StopExecution"],
            vec![ex],
        );
        if let Some(reader) = &m.item_reader {
            let req = Request {
                value: reader.parameters.as_ref().or(reader.arguments.as_ref()),
                keep: self.o.keep_substitutions,
            };
            match parse_resource(&reader.resource) {
                Some(r) => match &r.kind {
                    ResourceKind::Optimized { service, action } if service == "s3" => {
                        let key = req.get("Key").or(req.get("Prefix"));
                        self.s3(action, req.get("Bucket"), key);
                        if reader
                            .reader_config
                            .as_ref()
                            .and_then(|c| c.input_type.as_deref())
                            == Some("MANIFEST")
                        {
                            self.s3("getObject", req.get("Bucket"), Field::Dynamic);
                        }
                    }
                    _ => self.unknown(&pointer_push(pointer, "ItemReader"), &reader.resource),
                },
                None => self.unknown(&pointer_push(pointer, "ItemReader"), &reader.resource),
            }
        }
        if let Some(writer) = &m.result_writer {
            if writer.resource.is_some() {
                let req = Request {
                    value: writer.parameters.as_ref().or(writer.arguments.as_ref()),
                    keep: self.o.keep_substitutions,
                };
                self.s3("resultWriter", req.get("Bucket"), req.get("Prefix"));
            }
        }
    }
}

impl<'a> Field<'a> {
    fn or(self, other: Field<'a>) -> Field<'a> {
        if self == Field::Absent {
            other
        } else {
            self
        }
    }
}

/// The IAM service prefix of an SDK service name, where they differ.
fn iam_prefix(service: &str) -> &str {
    match service {
        "sfn" => "states",
        "cloudwatchlogs" => "logs",
        "elasticloadbalancingv2" => "elasticloadbalancing",
        "emrcontainers" => "emr-containers",
        "emrserverless" => "emr-serverless",
        "sagemakerruntime" => "sagemaker",
        "apigatewayv2" | "apigatewaymanagementapi" => "execute-api",
        other => other,
    }
}

/// Lambda ARNs to invoke: a name, `name:qualifier`, a partial ARN (`account:function:name`) or
/// a full ARN. Unqualified: the function and `function:*` (its versions and aliases), as the
/// CDK grants; qualified: exactly that version or alias.
fn lambda_arns(g: &Gen<'_>, function: Field<'_>, qualifier: Field<'_>) -> Vec<String> {
    let p = &g.o.partition;
    let (region, account, name, qual) = match function {
        // `${CleanseFunctionArn}`: the function and its versions and aliases
        Field::Literal(f) if is_arn_token(f) => {
            return match qualifier {
                Field::Literal(q) => vec![format!("{f}:{q}")],
                _ => vec![f.to_string(), format!("{f}:*")],
            };
        }
        Field::Literal(f) => {
            let parts: Vec<&str> = f.split(':').collect();
            match parts.as_slice() {
                ["arn", _, "lambda", r, a, "function", n] => {
                    (r.to_string(), a.to_string(), n.to_string(), None)
                }
                ["arn", _, "lambda", r, a, "function", n, q] => (
                    r.to_string(),
                    a.to_string(),
                    n.to_string(),
                    Some(q.to_string()),
                ),
                [a, "function", n] => (g.region().into(), a.to_string(), n.to_string(), None),
                [a, "function", n, q] => (
                    g.region().into(),
                    a.to_string(),
                    n.to_string(),
                    Some(q.to_string()),
                ),
                [n] => (g.region().into(), g.account().into(), n.to_string(), None),
                [n, q] => (
                    g.region().into(),
                    g.account().into(),
                    n.to_string(),
                    Some(q.to_string()),
                ),
                _ => (g.region().into(), g.account().into(), "*".into(), None),
            }
        }
        _ => (g.region().into(), g.account().into(), "*".into(), None),
    };
    let base = format!("arn:{p}:lambda:{region}:{account}:function:{name}");
    let qual = qual.or(match qualifier {
        Field::Literal(q) => Some(q.to_string()),
        _ => None,
    });
    match (name.as_str(), qual) {
        ("*", _) => vec![base],
        (_, Some(q)) if qualifier != Field::Dynamic => vec![format!("{base}:{q}")],
        _ => vec![base.clone(), format!("{base}:*")],
    }
}

/// `https://sqs.<region>.amazonaws.com/<account>/<queue>` → the queue ARN.
fn sqs_arn(partition: &str, url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let mut parts = rest.split('/');
    let host = parts.next()?;
    let account = parts.next()?;
    let queue = parts.next()?;
    let region = host
        .strip_prefix("sqs.")
        .and_then(|h| h.split('.').next())
        .or_else(|| host.split('.').next().filter(|_| host.contains(".queue.")))?;
    if account.is_empty() || queue.is_empty() {
        return None;
    }
    Some(format!("arn:{partition}:sqs:{region}:{account}:{queue}"))
}
