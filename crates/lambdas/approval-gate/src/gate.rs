//! The automatic gate: metrics → checks → a registered model package and a decision.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_sagemaker::error::ProvideErrorMetadata;
use aws_sdk_sagemaker::types::{
    InferenceSpecification, ModelApprovalStatus, ModelPackageContainerDefinition,
    ModelPackageSortBy, SortOrder,
};
use lambda_kit::{LambdaError, ObjectStore, ObjectUrl};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Prefix of the `CustomerMetadataProperties` keys holding a package's metrics, which later
/// gates compare against.
pub const METRIC_PREFIX: &str = "stepwright:metric:";

fn invalid(msg: impl Into<String>) -> LambdaError {
    LambdaError::new("Approval.InvalidInput", msg)
}

/// Where the candidate model's metrics come from.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MetricsSource {
    /// A training job's `FinalMetricDataList` (`[{"MetricName": ..., "Value": ...}]`).
    #[serde(alias = "FinalMetricDataList")]
    FinalMetricDataList(Vec<FinalMetric>),
    /// An evaluation JSON object (`s3://...` or a path). Every number in it is a metric named by
    /// its dotted path, with a trailing `.value` dropped: SageMaker's model-quality report
    /// `{"binary_classification_metrics": {"auc": {"value": 0.9}}}` gives
    /// `binary_classification_metrics.auc`; a flat `{"auc": 0.9}` gives `auc`.
    EvaluationUri(String),
    /// Metrics given inline.
    Values(BTreeMap<String, f64>),
}

/// One entry of a SageMaker `FinalMetricDataList`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FinalMetric {
    /// The metric name, e.g. `validation:auc`.
    pub metric_name: String,
    /// Its value.
    pub value: f64,
    /// When it was recorded (ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Value>,
}

/// Bounds for one metric (either or both).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// The metric must be at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The metric must be at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// Whether larger or smaller values of the compared metric are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Larger is better (accuracy, AUC, F1).
    Maximize,
    /// Smaller is better (RMSE, loss).
    Minimize,
}

/// Comparison with the latest Approved package of the group.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// The metric to compare.
    pub metric: String,
    /// Which way is better.
    pub direction: Direction,
    /// The candidate must improve on the baseline by at least this much (0 = not worse).
    #[serde(default)]
    pub min_delta: f64,
}

/// The container to register (the model package's inference specification).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// The inference image URI.
    pub image: String,
    /// The model artifact (`s3://.../model.tar.gz`).
    pub model_data_url: String,
    /// Request content types (default `text/csv`).
    #[serde(default = "default_types")]
    pub content_types: Vec<String>,
    /// Response MIME types (default `text/csv`).
    #[serde(default = "default_types")]
    pub response_types: Vec<String>,
}

fn default_types() -> Vec<String> {
    vec!["text/csv".to_owned()]
}

/// The gate's input.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GateInput {
    /// The SageMaker model package group to register into and compare with.
    pub model_package_group: String,
    /// The candidate's metrics.
    pub metrics: MetricsSource,
    /// Per-metric bounds.
    #[serde(default)]
    pub thresholds: BTreeMap<String, Threshold>,
    /// Comparison with the latest Approved package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    /// When true, a model that passes every check is registered as `PendingManualApproval`
    /// (for the human approval step) instead of `Approved`.
    #[serde(default)]
    pub manual_approval: bool,
    /// The container to register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelSpec>,
    /// The package description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Idempotency key for `CreateModelPackage` (`ClientToken`); by default a hash of this input,
    /// so a retried invocation does not register a second package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// Passed.
    Pass,
    /// Failed: the model is rejected.
    Fail,
    /// Could not be decided automatically: a person must approve.
    Escalate,
}

/// One reason behind the decision.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Reason {
    /// `threshold` or `baseline`.
    pub check: String,
    /// The metric concerned.
    pub metric: String,
    /// The outcome.
    pub outcome: CheckOutcome,
    /// What was compared, in words.
    pub message: String,
}

/// The baseline the candidate was compared with.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Baseline {
    /// The latest Approved package.
    pub model_package_arn: String,
    /// Its recorded metrics.
    pub metrics: BTreeMap<String, f64>,
}

/// The gate's result.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct GateOutput {
    /// `Approved`, `Rejected` or `PendingManualApproval`.
    pub decision: String,
    /// The registered package.
    pub model_package_arn: String,
    /// Every check and its outcome.
    pub reasons: Vec<Reason>,
    /// The candidate's metrics.
    pub metrics: BTreeMap<String, f64>,
    /// The baseline, if the group has an Approved package.
    pub baseline: Option<Baseline>,
}

/// Flattens an evaluation JSON document into metrics (see [`MetricsSource::EvaluationUri`]).
///
/// ```
/// let doc = serde_json::json!({"regression_metrics": {"mse": {"value": 2.5, "standard_deviation": 0.1}}, "r2": 0.8});
/// let m = approval_gate::gate::flatten_metrics(&doc);
/// assert_eq!(m["regression_metrics.mse"], 2.5);
/// assert_eq!(m["regression_metrics.mse.standard_deviation"], 0.1);
/// assert_eq!(m["r2"], 0.8);
/// ```
pub fn flatten_metrics(doc: &Value) -> BTreeMap<String, f64> {
    fn walk(v: &Value, path: &mut Vec<String>, out: &mut BTreeMap<String, f64>) {
        match v {
            Value::Number(n) => {
                if let Some(x) = n.as_f64() {
                    let mut p: Vec<&str> = path.iter().map(String::as_str).collect();
                    if p.len() > 1 && p.last() == Some(&"value") {
                        p.pop();
                    }
                    out.insert(p.join("."), x);
                }
            }
            Value::Object(map) => {
                for (k, child) in map {
                    path.push(k.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk(doc, &mut Vec::new(), &mut out);
    out
}

/// Collects the candidate's metrics from its source.
pub async fn load_metrics(
    source: &MetricsSource,
    objects: &ObjectStore,
) -> Result<BTreeMap<String, f64>, LambdaError> {
    match source {
        MetricsSource::Values(v) => Ok(v.clone()),
        MetricsSource::FinalMetricDataList(list) => Ok(list
            .iter()
            .map(|m| (m.metric_name.clone(), m.value))
            .collect()),
        MetricsSource::EvaluationUri(uri) => {
            let url = ObjectUrl::parse(uri)
                .map_err(|e| invalid(format!("metrics.evaluation_uri: {e}")))?;
            let bytes = objects
                .get(&url)
                .await
                .map_err(|e| LambdaError::from_object("Approval", &e))?;
            let doc: Value = serde_json::from_slice(&bytes)
                .map_err(|e| invalid(format!("{url} is not JSON: {e}")))?;
            let m = flatten_metrics(&doc);
            if m.is_empty() {
                return Err(invalid(format!("{url} holds no numeric metrics")));
            }
            Ok(m)
        }
    }
}

/// Applies thresholds and the baseline comparison. Pure: no AWS calls.
///
/// ```
/// use std::collections::BTreeMap;
/// use approval_gate::gate::{decide, CheckOutcome, Threshold};
///
/// let metrics = BTreeMap::from([("auc".to_string(), 0.91)]);
/// let thresholds = BTreeMap::from([("auc".to_string(), Threshold { min: Some(0.8), max: None })]);
/// let (status, reasons) = decide(&metrics, &thresholds, None, None, false);
/// assert_eq!(status, "Approved");
/// assert_eq!(reasons[0].outcome, CheckOutcome::Pass);
/// ```
pub fn decide(
    metrics: &BTreeMap<String, f64>,
    thresholds: &BTreeMap<String, Threshold>,
    comparison: Option<&Comparison>,
    baseline: Option<&Baseline>,
    manual_approval: bool,
) -> (&'static str, Vec<Reason>) {
    let mut reasons = Vec::new();
    let mut reason = |check: &str, metric: &str, outcome, message: String| {
        reasons.push(Reason {
            check: check.into(),
            metric: metric.into(),
            outcome,
            message,
        })
    };
    for (name, t) in thresholds {
        match metrics.get(name) {
            None => reason(
                "threshold",
                name,
                CheckOutcome::Fail,
                format!("metric `{name}` was not reported"),
            ),
            Some(v) if !v.is_finite() => reason(
                "threshold",
                name,
                CheckOutcome::Fail,
                format!("{name} = {v} is not a finite number"),
            ),
            Some(&v) => {
                if let Some(min) = t.min {
                    let ok = v >= min;
                    let rel = if ok { ">=" } else { "<" };
                    reason(
                        "threshold",
                        name,
                        outcome(ok),
                        format!("{name} = {v} {rel} min {min}"),
                    );
                }
                if let Some(max) = t.max {
                    let ok = v <= max;
                    let rel = if ok { "<=" } else { ">" };
                    reason(
                        "threshold",
                        name,
                        outcome(ok),
                        format!("{name} = {v} {rel} max {max}"),
                    );
                }
            }
        }
    }
    if let Some(c) = comparison {
        let name = c.metric.as_str();
        match (metrics.get(name), baseline) {
            (None, _) => reason(
                "baseline",
                name,
                CheckOutcome::Fail,
                format!("metric `{name}` was not reported"),
            ),
            (Some(_), None) => reason(
                "baseline",
                name,
                CheckOutcome::Pass,
                "no Approved model package in the group: nothing to compare with".into(),
            ),
            (Some(&v), Some(b)) => match b.metrics.get(name) {
                None => reason(
                    "baseline",
                    name,
                    CheckOutcome::Escalate,
                    format!(
                        "the baseline {} has no recorded `{name}`: a person must compare",
                        b.model_package_arn
                    ),
                ),
                Some(&base) => {
                    let gain = match c.direction {
                        Direction::Maximize => v - base,
                        Direction::Minimize => base - v,
                    };
                    let ok = v.is_finite() && gain >= c.min_delta;
                    let dir = match c.direction {
                        Direction::Maximize => "higher",
                        Direction::Minimize => "lower",
                    };
                    reason(
                        "baseline",
                        name,
                        outcome(ok),
                        format!(
                            "{name} = {v} vs baseline {base}: improvement {gain} ({dir} is better) {} min_delta {}",
                            if ok { ">=" } else { "<" },
                            c.min_delta
                        ),
                    );
                }
            },
        }
    }
    let status = if reasons.iter().any(|r| r.outcome == CheckOutcome::Fail) {
        "Rejected"
    } else if manual_approval || reasons.iter().any(|r| r.outcome == CheckOutcome::Escalate) {
        "PendingManualApproval"
    } else {
        "Approved"
    };
    (status, reasons)
}

fn outcome(ok: bool) -> CheckOutcome {
    if ok {
        CheckOutcome::Pass
    } else {
        CheckOutcome::Fail
    }
}

fn registry_error<E: ProvideErrorMetadata + std::fmt::Debug>(
    op: &str,
    group: &str,
    e: E,
) -> LambdaError {
    let detail = match (e.code(), e.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_owned(),
        _ => format!("{e:?}"),
    };
    LambdaError::new(
        "Approval.RegistryFailed",
        format!("{op} (model package group `{group}`): {detail}"),
    )
}

/// The latest Approved package of `group` and its recorded metrics, if any.
pub async fn latest_approved(
    sm: &aws_sdk_sagemaker::Client,
    group: &str,
) -> Result<Option<Baseline>, LambdaError> {
    let list = sm
        .list_model_packages()
        .model_package_group_name(group)
        .model_approval_status(ModelApprovalStatus::Approved)
        .sort_by(ModelPackageSortBy::CreationTime)
        .sort_order(SortOrder::Descending)
        .max_results(1)
        .send()
        .await
        .map_err(|e| registry_error("ListModelPackages", group, e))?;
    let Some(arn) = list
        .model_package_summary_list()
        .first()
        .and_then(|s| s.model_package_arn())
        .map(str::to_owned)
    else {
        return Ok(None);
    };
    let pkg = sm
        .describe_model_package()
        .model_package_name(&arn)
        .send()
        .await
        .map_err(|e| registry_error("DescribeModelPackage", group, e))?;
    Ok(Some(Baseline {
        model_package_arn: arn,
        metrics: metrics_from_metadata(pkg.customer_metadata_properties()),
    }))
}

/// Reads metrics recorded under [`METRIC_PREFIX`] in customer metadata.
pub fn metrics_from_metadata(meta: Option<&HashMap<String, String>>) -> BTreeMap<String, f64> {
    meta.into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.strip_prefix(METRIC_PREFIX)?.to_owned(), v.parse().ok()?)))
        .collect()
}

/// Whether a string may be a `CustomerMetadataProperties` key or value
/// (`[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, at most `max` characters).
fn metadata_ok(s: &str, max: usize) -> bool {
    s.chars().count() <= max
        && s.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
}

fn client_token(input: &GateInput) -> String {
    let source = match &input.idempotency_key {
        Some(k) => k.clone(),
        None => serde_json::to_string(input).unwrap_or_default(),
    };
    // ClientToken: [a-zA-Z0-9-]{1,36}
    hex::encode(Sha256::digest(source.as_bytes()))[..36].to_owned()
}

/// Runs the automatic gate: loads the metrics, compares with the latest Approved package,
/// registers the candidate (`CreateModelPackage`) with the decided status, and returns the
/// decision with every reason.
pub async fn evaluate(
    sm: &aws_sdk_sagemaker::Client,
    objects: &ObjectStore,
    input: GateInput,
) -> Result<GateOutput, LambdaError> {
    let group = input.model_package_group.trim();
    if group.is_empty() {
        return Err(invalid("model_package_group is empty"));
    }
    if input.thresholds.is_empty() && input.comparison.is_none() {
        return Err(invalid(
            "no checks configured: give `thresholds`, `comparison` or both",
        ));
    }
    for (name, t) in &input.thresholds {
        if t.min.is_none() && t.max.is_none() {
            return Err(invalid(format!(
                "thresholds.{name}: give `min`, `max` or both"
            )));
        }
        if let (Some(lo), Some(hi)) = (t.min, t.max) {
            if lo > hi {
                return Err(invalid(format!("thresholds.{name}: min {lo} > max {hi}")));
            }
        }
    }
    if let Some(c) = &input.comparison {
        if !c.min_delta.is_finite() || c.min_delta < 0.0 {
            return Err(invalid(format!(
                "comparison.min_delta must be a number >= 0, got {}",
                c.min_delta
            )));
        }
    }
    let metrics = load_metrics(&input.metrics, objects).await?;
    let baseline = match &input.comparison {
        Some(_) => latest_approved(sm, group).await?,
        None => None,
    };
    let (status, reasons) = decide(
        &metrics,
        &input.thresholds,
        input.comparison.as_ref(),
        baseline.as_ref(),
        input.manual_approval,
    );

    let mut meta: HashMap<String, String> = metrics
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(k, v)| (format!("{METRIC_PREFIX}{k}"), v.to_string()))
        .filter(|(k, v)| metadata_ok(k, 128) && metadata_ok(v, 256))
        .take(49)
        .collect();
    meta.insert("stepwright:gate-decision".into(), status.into());
    let description = input.description.clone().unwrap_or_else(|| {
        let failed = reasons
            .iter()
            .filter(|r| r.outcome == CheckOutcome::Fail)
            .count();
        format!(
            "Registered by the Stepwright approval gate: {status}, {} checks, {failed} failed",
            reasons.len()
        )
    });
    let mut req = sm
        .create_model_package()
        .model_package_group_name(group)
        .model_approval_status(ModelApprovalStatus::from(status))
        .model_package_description(description.chars().take(1024).collect::<String>())
        .client_token(client_token(&input))
        .set_customer_metadata_properties(Some(meta));
    if let Some(m) = &input.model {
        let mut spec = InferenceSpecification::builder().containers(
            ModelPackageContainerDefinition::builder()
                .image(&m.image)
                .model_data_url(&m.model_data_url)
                .build(),
        );
        for t in &m.content_types {
            spec = spec.supported_content_types(t);
        }
        for t in &m.response_types {
            spec = spec.supported_response_mime_types(t);
        }
        req = req.inference_specification(spec.build());
    }
    let out = req
        .send()
        .await
        .map_err(|e| registry_error("CreateModelPackage", group, e))?;
    let arn = out.model_package_arn().unwrap_or_default().to_owned();
    tracing::info!(decision = status, model_package_arn = %arn, reasons = reasons.len(), "gate decided");
    Ok(GateOutput {
        decision: status.into(),
        model_package_arn: arn,
        reasons,
        metrics,
        baseline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn t(name: &str, min: Option<f64>, max: Option<f64>) -> BTreeMap<String, Threshold> {
        BTreeMap::from([(name.to_string(), Threshold { min, max })])
    }

    #[test]
    fn thresholds_pass_fail_and_missing() {
        let metrics = m(&[("auc", 0.75), ("rmse", 2.0)]);
        let (s, r) = decide(&metrics, &t("auc", Some(0.8), None), None, None, false);
        assert_eq!(s, "Rejected");
        assert_eq!(r[0].message, "auc = 0.75 < min 0.8");
        let (s, _) = decide(&metrics, &t("rmse", None, Some(2.0)), None, None, false);
        assert_eq!(s, "Approved", "max is inclusive");
        let (s, r) = decide(&metrics, &t("f1", Some(0.1), None), None, None, false);
        assert_eq!(
            (s, r[0].message.as_str()),
            ("Rejected", "metric `f1` was not reported")
        );
        let (s, _) = decide(
            &m(&[("auc", f64::NAN)]),
            &t("auc", Some(0.1), None),
            None,
            None,
            false,
        );
        assert_eq!(s, "Rejected");
        let (s, _) = decide(&metrics, &t("auc", Some(0.5), Some(0.9)), None, None, true);
        assert_eq!(s, "PendingManualApproval");
    }

    #[test]
    fn baseline_comparison_in_both_directions() {
        let base = Baseline {
            model_package_arn: "arn:base".into(),
            metrics: m(&[("auc", 0.90), ("rmse", 3.0)]),
        };
        let up = Comparison {
            metric: "auc".into(),
            direction: Direction::Maximize,
            min_delta: 0.01,
        };
        let none = BTreeMap::new();
        assert_eq!(
            decide(&m(&[("auc", 0.92)]), &none, Some(&up), Some(&base), false).0,
            "Approved"
        );
        let (s, r) = decide(&m(&[("auc", 0.905)]), &none, Some(&up), Some(&base), false);
        assert_eq!(s, "Rejected");
        assert!(r[0].message.contains("vs baseline 0.9"), "{}", r[0].message);
        let down = Comparison {
            metric: "rmse".into(),
            direction: Direction::Minimize,
            min_delta: 0.5,
        };
        assert_eq!(
            decide(&m(&[("rmse", 2.4)]), &none, Some(&down), Some(&base), false).0,
            "Approved"
        );
        assert_eq!(
            decide(&m(&[("rmse", 2.8)]), &none, Some(&down), Some(&base), false).0,
            "Rejected"
        );
        // first model: nothing to compare with
        assert_eq!(
            decide(&m(&[("auc", 0.5)]), &none, Some(&up), None, false).0,
            "Approved"
        );
        // baseline without the metric: a person decides
        let f1 = Comparison {
            metric: "f1".into(),
            ..up
        };
        assert_eq!(
            decide(&m(&[("f1", 0.5)]), &none, Some(&f1), Some(&base), false).0,
            "PendingManualApproval"
        );
        // a failed threshold wins over an escalation
        assert_eq!(
            decide(
                &m(&[("f1", 0.5)]),
                &t("f1", Some(0.6), None),
                Some(&f1),
                Some(&base),
                false
            )
            .0,
            "Rejected"
        );
    }

    #[test]
    fn inputs_parse_from_step_functions_shapes() {
        let input: GateInput = serde_json::from_value(json!({
            "model_package_group": "churn",
            "metrics": {"FinalMetricDataList": [
                {"MetricName": "validation:auc", "Value": 0.9, "Timestamp": "2024-01-01T00:00:00Z"}]},
            "thresholds": {"validation:auc": {"min": 0.8}}
        }))
        .unwrap();
        assert!(
            matches!(&input.metrics, MetricsSource::FinalMetricDataList(l) if l[0].metric_name == "validation:auc")
        );
        let err = serde_json::from_value::<GateInput>(json!({
            "model_package_group": "g", "metrics": {"values": {}}, "thresholds": {"a": {"minimum": 1}}
        }))
        .unwrap_err();
        assert!(err.to_string().contains("minimum"), "{err}");
    }

    #[test]
    fn metadata_rules_and_tokens() {
        assert!(metadata_ok("stepwright:metric:validation:auc", 128));
        assert!(!metadata_ok("a,b", 128));
        assert!(!metadata_ok(&"x".repeat(129), 128));
        let got = metrics_from_metadata(Some(&HashMap::from([
            ("stepwright:metric:auc".to_string(), "0.9".to_string()),
            ("stepwright:metric:bad".to_string(), "x".to_string()),
            ("other".to_string(), "1".to_string()),
        ])));
        assert_eq!(got, m(&[("auc", 0.9)]));
        let input: GateInput = serde_json::from_value(json!({
            "model_package_group": "g", "metrics": {"values": {"a": 1.0}}, "thresholds": {"a": {"min": 0}}
        }))
        .unwrap();
        let tok = client_token(&input);
        assert_eq!(tok.len(), 36);
        assert_eq!(tok, client_token(&input.clone()));
        assert_ne!(
            tok,
            client_token(&GateInput {
                manual_approval: true,
                ..input
            })
        );
    }
}
