//! `stepwright run --lambda NAME=builtin:HANDLER`: the project's Lambdas, in process.
//!
//! A Lambda task whose function is `NAME` (a name or ARN, as the definition has it after
//! substitution) is answered by the library function the real Lambda runs:
//!
//! | handler | runs |
//! |---|---|
//! | `builtin:cleanse` | `cleanse::handler::run_blocking` (the cleanse Lambda) |
//! | `builtin:validate` | `validate::scale::run_blocking` (validate, and its `batch` and `merge` modes) |
//! | `builtin:approval-gate` | the approval gate's checks (`approval_gate::gate::load_metrics` and `decide`); the model registry is local: the package is "registered" under a local ARN |
//! | `builtin:approval-notify` | the notify handler's message (`approval_gate::human::approval_message`, printed instead of sent to SNS), then the person's answer: `--human approve` (default) resumes the task as the callback would, `--human reject` fails it with `Approval.Rejected` |
//!
//! The handlers are async in the Lambdas; here they run on a small tokio runtime (their object IO
//! is blocking-friendly on local files). With `--objects DIR`, `s3://bucket/key` locations in an
//! event become the file `DIR/bucket/key` (the directory that stands in for S3 for ItemReader and
//! ResultWriter too), and the results name them as `s3://` again.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use stepwright::{State, StateMachine};
use stepwright_local::tasks::{function_name, TaskError, TaskRequest};
use stepwright_local::Runner;

/// A project Lambda that can run in process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// The cleanse Lambda.
    Cleanse,
    /// The validate Lambda (validate, batch, merge).
    Validate,
    /// The approval gate's automatic checks.
    ApprovalGate,
    /// The approval gate's notify handler plus a person's answer.
    ApprovalNotify,
}

impl Builtin {
    const ALL: [(&'static str, Builtin); 4] = [
        ("cleanse", Builtin::Cleanse),
        ("validate", Builtin::Validate),
        ("approval-gate", Builtin::ApprovalGate),
        ("approval-notify", Builtin::ApprovalNotify),
    ];

    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, b)| *b == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

/// One `--lambda NAME=builtin:HANDLER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaSpec {
    /// The function name or ARN the definition uses.
    pub function: String,
    /// What answers it.
    pub builtin: Builtin,
}

/// Parses `NAME=builtin:HANDLER`.
pub fn parse_spec(s: &str) -> Result<LambdaSpec, String> {
    let names: Vec<&str> = Builtin::ALL.iter().map(|(n, _)| *n).collect();
    let (function, target) = s.split_once('=').ok_or_else(|| {
        format!(
            "--lambda `{s}` is not NAME=builtin:HANDLER (HANDLER: {})",
            names.join(", ")
        )
    })?;
    let handler = target.strip_prefix("builtin:").ok_or_else(|| {
        format!(
            "--lambda `{s}`: the target must be builtin:HANDLER (HANDLER: {})",
            names.join(", ")
        )
    })?;
    let builtin = Builtin::ALL
        .iter()
        .find(|(n, _)| *n == handler)
        .map(|(_, b)| *b)
        .ok_or_else(|| {
            format!(
                "--lambda `{s}`: unknown handler `{handler}` (expected one of: {})",
                names.join(", ")
            )
        })?;
    if function.trim().is_empty() {
        return Err(format!("--lambda `{s}`: the function name is empty"));
    }
    Ok(LambdaSpec {
        function: function.trim().to_string(),
        builtin,
    })
}

/// What a person answers to an approval request (`--human`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HumanDecision {
    /// Approve the model.
    Approve,
    /// Reject it (the waiting task fails with `Approval.Rejected`).
    Reject,
}

/// Rewrites `s3://bucket/key` strings to `root/bucket/key` paths.
fn to_local(v: &mut Value, root: &Path) {
    match v {
        Value::String(s) => {
            if let Some(rest) = s.strip_prefix("s3://") {
                *s = root.join(rest).to_string_lossy().into_owned();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| to_local(x, root)),
        Value::Object(o) => o.values_mut().for_each(|x| to_local(x, root)),
        _ => {}
    }
}

/// Rewrites `root/bucket/key` paths back to `s3://bucket/key`.
fn to_s3(v: &mut Value, root: &str) {
    match v {
        Value::String(s) => {
            if let Some(rest) = s.strip_prefix(root) {
                if let Some(rest) = rest.strip_prefix('/') {
                    *s = format!("s3://{rest}");
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| to_s3(x, root)),
        Value::Object(o) => o.values_mut().for_each(|x| to_s3(x, root)),
        _ => {}
    }
}

fn task_error(e: lambda_kit::LambdaError) -> TaskError {
    TaskError::new(e.name().to_string(), e.message().to_string())
}

/// Region and account of the execution (from `$$.StateMachine.Id`), for local ARNs.
fn region_account(ctx: &Value) -> (String, String) {
    let id = ctx["StateMachine"]["Id"].as_str().unwrap_or_default();
    let parts: Vec<&str> = id.split(':').collect();
    if parts.len() > 4 && !parts[3].is_empty() {
        (parts[3].to_string(), parts[4].to_string())
    } else {
        ("us-east-1".into(), "123456789012".into())
    }
}

/// Unix seconds of the state's (virtual) entry time.
fn entered_unix(ctx: &Value) -> u64 {
    ctx["State"]["EnteredTime"]
        .as_str()
        .and_then(stepwright_local::time::parse_timestamp)
        .map(|t| (t.unix_millis() / 1000).max(0) as u64)
        .unwrap_or(0)
}

/// The shared state of the in-process Lambdas.
struct Env {
    handle: tokio::runtime::Handle,
    store: lambda_kit::BlockingStore,
    objects: Option<PathBuf>,
    human: HumanDecision,
    packages: AtomicU64,
}

impl Env {
    fn call(&self, b: Builtin, req: &TaskRequest<'_>) -> Result<Value, TaskError> {
        let mut payload = req.lambda_payload().clone();
        eprintln!(
            "  λ {} ({}) ← {}",
            req.state_name,
            b.name(),
            short(&payload)
        );
        // the notify handler reads no object: its message keeps the s3:// locations
        if let (Some(root), false) = (&self.objects, b == Builtin::ApprovalNotify) {
            to_local(&mut payload, root);
        }
        let _guard = self.handle.enter();
        let mut out = self.dispatch(b, payload, req).map_err(|mut e| {
            if self.objects.is_none() && e.cause.contains("s3://") {
                e.cause.push_str(
                    " (stepwright run: give --objects DIR to read and write s3://bucket/key as DIR/bucket/key)",
                );
            }
            e
        })?;
        if let Some(root) = &self.objects {
            to_s3(&mut out, &root.to_string_lossy());
        }
        eprintln!("  λ {} → {}", req.state_name, short(&out));
        for line in report_lines(b, &out) {
            eprintln!("    {line}");
        }
        Ok(out)
    }

    fn dispatch(
        &self,
        b: Builtin,
        payload: Value,
        req: &TaskRequest<'_>,
    ) -> Result<Value, TaskError> {
        Ok(match b {
            Builtin::Cleanse => {
                let ev = cleanse::handler::parse_event(payload).map_err(task_error)?;
                let r = cleanse::handler::run_blocking(&self.store, ev).map_err(task_error)?;
                serde_json::to_value(r)
                    .map_err(|e| TaskError::new("Cleanse.Internal", e.to_string()))?
            }
            Builtin::Validate => {
                let ev = validate::scale::parse(payload).map_err(task_error)?;
                validate::scale::run_blocking(&self.store, ev).map_err(task_error)?
            }
            Builtin::ApprovalGate => self.gate(payload, req.context)?,
            Builtin::ApprovalNotify => self.notify(payload, req.context)?,
        })
    }

    fn gate(&self, payload: Value, ctx: &Value) -> Result<Value, TaskError> {
        use approval_gate::gate::{decide, load_metrics, GateInput, GateOutput};
        let input: GateInput = serde_json::from_value(payload).map_err(|e| {
            TaskError::new(
                "Approval.InvalidInput",
                format!("the gate input is not valid: {e}"),
            )
        })?;
        let group = input.model_package_group.trim().to_string();
        if group.is_empty() {
            return Err(TaskError::new(
                "Approval.InvalidInput",
                "model_package_group is empty",
            ));
        }
        if input.thresholds.is_empty() && input.comparison.is_none() {
            return Err(TaskError::new(
                "Approval.InvalidInput",
                "no checks configured: give `thresholds`, `comparison` or both",
            ));
        }
        let objects = self.store.store().clone();
        let metrics = self
            .handle
            .block_on(load_metrics(&input.metrics, &objects))
            .map_err(task_error)?;
        // The local registry is empty: no baseline to compare with.
        let (decision, reasons) = decide(
            &metrics,
            &input.thresholds,
            input.comparison.as_ref(),
            None,
            input.manual_approval,
        );
        let (region, account) = region_account(ctx);
        let n = self.packages.fetch_add(1, Ordering::Relaxed) + 1;
        let out = GateOutput {
            decision: decision.to_string(),
            model_package_arn: format!(
                "arn:aws:sagemaker:{region}:{account}:model-package/{}/{n}",
                group.to_ascii_lowercase()
            ),
            reasons,
            metrics,
            baseline: None,
        };
        serde_json::to_value(out).map_err(|e| TaskError::new("Approval.Internal", e.to_string()))
    }

    fn notify(&self, payload: Value, ctx: &Value) -> Result<Value, TaskError> {
        use approval_gate::human::{approval_message, HumanConfig, NotifyInput};
        let input: NotifyInput = serde_json::from_value(payload).map_err(|e| {
            TaskError::new(
                "Approval.InvalidInput",
                format!("the notify input is not valid: {e}"),
            )
        })?;
        let (region, account) = region_account(ctx);
        let config = HumanConfig {
            topic_arn: format!("arn:aws:sns:{region}:{account}:stepwright-approvals"),
            callback_url: "http://localhost:9000/approve".into(),
            secret: b"stepwright-run-local-approval-links-are-not-secret".to_vec(),
        };
        let (subject, message, _expires) =
            approval_message(&config, &input, entered_unix(ctx)).map_err(task_error)?;
        eprintln!(
            "  ✉ approval request (would be published to {}):",
            config.topic_arn
        );
        eprintln!("    Subject: {subject}");
        for line in message.lines() {
            eprintln!("    {line}");
        }
        match self.human {
            HumanDecision::Approve => {
                eprintln!("  ✔ approved (stepwright run --human approve)");
                Ok(json!({
                    "decision": "Approved",
                    "model_package_arn": input.model_package_arn,
                    "approver": "stepwright run --human approve",
                    "reason": "approved locally"
                }))
            }
            HumanDecision::Reject => {
                eprintln!("  ✘ rejected (stepwright run --human reject)");
                Err(TaskError::new(
                    "Approval.Rejected",
                    "rejected by stepwright run --human reject: rejected locally",
                ))
            }
        }
    }
}

/// What a person wants to see of a cleanse or validate report: the rows, what each rule
/// changed or dropped, the checks that failed.
fn report_lines(b: Builtin, out: &Value) -> Vec<String> {
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let mut lines = Vec::new();
    match b {
        Builtin::Cleanse if out.get("rows_in").is_some() => {
            lines.push(format!(
                "rows: {} in, {} out, {} rejected (one line each in the rejects file)",
                n(&out["rows_in"]),
                n(&out["rows_out"]),
                n(&out["rows_rejected"])
            ));
            let mut rules: Vec<String> = Vec::new();
            if let Some(m) = out["malformed"].as_object() {
                for (k, v) in m.iter().filter(|(_, v)| n(v) > 0) {
                    rules.push(format!("{k}: {} dropped", n(v)));
                }
            }
            for r in out["rules"].as_array().into_iter().flatten() {
                let (changed, dropped) = (n(&r["changed"]), n(&r["dropped"]));
                let name = r["rule"].as_str().unwrap_or("?");
                match (changed, dropped) {
                    (0, 0) => {}
                    (c, 0) => rules.push(format!("{name}: {c} changed")),
                    (0, d) => rules.push(format!("{name}: {d} dropped")),
                    (c, d) => rules.push(format!("{name}: {c} changed, {d} dropped")),
                }
            }
            if !rules.is_empty() {
                lines.push(format!("rules: {}", rules.join("; ")));
            }
        }
        Builtin::Validate if out.get("passed").is_some() && out.get("checks").is_some() => {
            let checks = out["checks"].as_array().map_or(0, Vec::len);
            let failed: Vec<String> = out["failed"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    let what = match f["column"].as_str() {
                        Some(c) => format!("{} on {c}", f["expect"].as_str().unwrap_or("?")),
                        None => f["expect"].as_str().unwrap_or("?").to_string(),
                    };
                    format!("{what} (observed {})", f["observed"])
                })
                .collect();
            if failed.is_empty() {
                lines.push(format!(
                    "all {checks} checks passed on {} rows",
                    n(&out["rows"])
                ));
            } else {
                lines.push(format!(
                    "{} of {checks} checks failed on {} rows: {}",
                    failed.len(),
                    n(&out["rows"]),
                    failed.join("; ")
                ));
            }
        }
        _ => {}
    }
    lines
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        let cut: String = s.chars().take(157).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// The literal `FunctionName` of a Lambda task, if any.
fn task_function(state: &State) -> Option<(String, bool)> {
    let State::Task(t) = state else { return None };
    let arn = t.resource.as_arn()?;
    let (base, wait) = match arn.strip_suffix(".waitForTaskToken") {
        Some(b) => (b, true),
        None => (arn, false),
    };
    if base.ends_with(":states:::lambda:invoke") {
        let params = t.parameters.as_ref().or(t.arguments.as_ref())?;
        let f = params.get("FunctionName")?.as_str()?;
        Some((function_name(f).to_string(), wait))
    } else if stepwright_local::tasks::is_function_arn(base) {
        Some((function_name(base).to_string(), false))
    } else {
        None
    }
}

/// The warning for a `--lambda` whose function no task of the machine names literally (a
/// misspelt name would otherwise show up only as a task without a handler).
fn unmatched_warning(spec: &LambdaSpec, functions: &[String]) -> Option<String> {
    let wanted = function_name(&spec.function);
    if functions.iter().any(|f| f == wanted) {
        return None;
    }
    Some(format!(
        "warning: --lambda {}: no Lambda task of this machine names the function `{wanted}` (after substitution it names: {})",
        spec.function,
        if functions.is_empty() {
            "none".to_string()
        } else {
            functions.join(", ")
        }
    ))
}

/// Registers the in-process Lambdas with the runner. Callback (`.waitForTaskToken`) tasks of a
/// builtin are registered by state name: their result is the callback's output, not a Lambda
/// response.
pub fn register(
    mut runner: Runner,
    machine: &StateMachine,
    specs: &[LambdaSpec],
    objects: Option<&Path>,
    human: HumanDecision,
) -> Result<(Runner, Option<tokio::runtime::Runtime>), String> {
    if specs.is_empty() {
        return Ok((runner, None));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime for the in-process Lambdas: {e}"))?;
    let store = {
        let _g = rt.enter();
        lambda_kit::ObjectStore::local()
            .blocking()
            .map_err(|e| e.to_string())?
    };
    let env = Arc::new(Env {
        handle: rt.handle().clone(),
        store,
        objects: objects.map(Path::to_path_buf),
        human,
        packages: AtomicU64::new(0),
    });
    let mut callbacks: Vec<(String, String)> = Vec::new();
    let mut functions: Vec<String> = Vec::new();
    machine.walk(|place| {
        if let Some((f, wait)) = task_function(place.state) {
            if wait {
                callbacks.push((place.name.to_string(), f.clone()));
            }
            if !functions.contains(&f) {
                functions.push(f);
            }
        }
    });
    for spec in specs {
        let wanted = function_name(&spec.function).to_string();
        if let Some(w) = unmatched_warning(spec, &functions) {
            eprintln!("{w}");
        }
        let (e, b) = (env.clone(), spec.builtin);
        runner = runner.handler(&spec.function, move |req: &TaskRequest<'_>| e.call(b, req));
        for (state, f) in &callbacks {
            if *f == wanted {
                let (e, b) = (env.clone(), spec.builtin);
                runner = runner.state_handler(state, move |req: &TaskRequest<'_>| e.call(b, req));
            }
        }
    }
    Ok((runner, Some(rt)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(
            parse_spec("arn:aws:lambda:us-east-1:1:function:c=builtin:cleanse").unwrap(),
            LambdaSpec {
                function: "arn:aws:lambda:us-east-1:1:function:c".into(),
                builtin: Builtin::Cleanse
            }
        );
        assert!(parse_spec("c")
            .unwrap_err()
            .contains("NAME=builtin:HANDLER"));
        assert!(parse_spec("c=cleanse")
            .unwrap_err()
            .contains("builtin:HANDLER"));
        assert!(parse_spec("c=builtin:nope")
            .unwrap_err()
            .contains("approval-notify"));
        assert!(parse_spec("=builtin:cleanse").is_err());
    }

    #[test]
    fn s3_urls_map_to_the_objects_directory_and_back() {
        let root = Path::new("/tmp/objs");
        let mut v = json!({"input": "s3://raw/in/a.csv", "n": 1, "list": ["s3://b/k", "x"], "path": "/tmp/objs-other/a"});
        to_local(&mut v, root);
        assert_eq!(v["input"], "/tmp/objs/raw/in/a.csv");
        assert_eq!(v["list"][0], "/tmp/objs/b/k");
        to_s3(&mut v, "/tmp/objs");
        assert_eq!(v["input"], "s3://raw/in/a.csv");
        assert_eq!(v["list"][0], "s3://b/k");
        assert_eq!(v["path"], "/tmp/objs-other/a", "only paths under the root");
    }

    #[test]
    fn reports_say_what_cleanse_and_validate_did() {
        let cleanse = json!({"rows_in": 10, "rows_out": 7, "rows_rejected": 3,
            "malformed": {"wrong_column_count": 1},
            "rules": [{"rule": "trim", "changed": 4, "dropped": 0},
                      {"rule": "range", "changed": 0, "dropped": 2},
                      {"rule": "select", "changed": 0, "dropped": 0}]});
        assert_eq!(
            report_lines(Builtin::Cleanse, &cleanse),
            [
                "rows: 10 in, 7 out, 3 rejected (one line each in the rejects file)",
                "rules: wrong_column_count: 1 dropped; trim: 4 changed; range: 2 dropped"
            ]
        );
        let failed = json!({"passed": false, "rows": 380, "checks": [{}, {}, {}],
            "failed": [{"expect": "row_count", "observed": {"rows": 380}},
                       {"expect": "stat", "column": "churned", "observed": {"value": 1.0}}]});
        assert_eq!(
            report_lines(Builtin::Validate, &failed),
            [
                r#"2 of 3 checks failed on 380 rows: row_count (observed {"rows":380}); stat on churned (observed {"value":1.0})"#
            ]
        );
        let passed = json!({"passed": true, "rows": 5, "checks": [{}], "failed": []});
        assert_eq!(
            report_lines(Builtin::Validate, &passed),
            ["all 1 checks passed on 5 rows"]
        );
        assert!(report_lines(Builtin::ApprovalGate, &passed).is_empty());
        assert!(report_lines(Builtin::Validate, &json!({"objects": []})).is_empty());
    }

    #[test]
    fn a_lambda_no_task_names_is_a_warning() {
        let fns = vec!["stepwright-cleanse".to_string()];
        let spec = |f: &str| LambdaSpec {
            function: f.into(),
            builtin: Builtin::Cleanse,
        };
        assert_eq!(
            unmatched_warning(
                &spec("arn:aws:lambda:us-east-1:1:function:stepwright-cleanse"),
                &fns
            ),
            None
        );
        assert_eq!(unmatched_warning(&spec("stepwright-cleanse"), &fns), None);
        let w = unmatched_warning(&spec("stepwright-clense"), &fns).unwrap();
        assert!(
            w.contains("`stepwright-clense`") && w.ends_with("names: stepwright-cleanse)"),
            "{w}"
        );
        assert!(unmatched_warning(&spec("x"), &[])
            .unwrap()
            .ends_with("names: none)"));
    }

    #[test]
    fn arns_from_the_context() {
        let ctx = json!({"StateMachine": {"Id": "arn:aws:states:eu-west-1:111122223333:stateMachine:t"},
                         "State": {"EnteredTime": "2024-01-01T00:00:10.000Z"}});
        assert_eq!(
            region_account(&ctx),
            ("eu-west-1".to_string(), "111122223333".to_string())
        );
        assert_eq!(entered_unix(&ctx), 1_704_067_210);
        assert_eq!(region_account(&json!({})).0, "us-east-1");
    }
}
