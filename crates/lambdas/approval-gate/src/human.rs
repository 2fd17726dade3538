//! Human approval: the notify handler (a `.waitForTaskToken` task) and the callback handler (a
//! Lambda function URL).
//!
//! # Security model
//!
//! * The **task token** is the capability: Step Functions resumes the waiting execution only for
//!   it, and `SendTaskSuccess`/`SendTaskFailure` refuse a token whose task has already completed
//!   or timed out (`TaskDoesNotExist`, `TaskTimedOut`, `InvalidToken`). Nobody can approve
//!   without it.
//! * The notify handler publishes to SNS an **approval link** carrying the token, the model
//!   package ARN and an expiry, signed with HMAC-SHA256 under `APPROVAL_SECRET` (at least 32
//!   bytes, from the function's environment, ideally injected from Secrets Manager). The callback
//!   recomputes the signature and refuses a link that was altered, forged (a token from elsewhere,
//!   a different package) or expired, before any AWS call: `Approval.TokenInvalid`,
//!   `Approval.TokenExpired`.
//! * A **replayed** link is refused twice over: the callback first checks that the package is still
//!   `PendingManualApproval` (`Approval.AlreadyDecided`), then Step Functions refuses the used
//!   token. Two simultaneous clicks race on `SendTask*`: only one succeeds, and only that one
//!   updates the package.
//! * Opening the link (`GET`) never decides: it shows a confirmation page whose form `POST`s the
//!   decision, so mail scanners that prefetch links cannot approve.
//! * The function URL should use `AuthType: AWS_IAM` behind a corporate proxy or keep `NONE` with
//!   the signed links as the only credential; the SNS topic's subscribers are the approvers.

use std::collections::HashMap;

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use aws_sdk_sagemaker::types::ModelApprovalStatus;
use aws_sdk_sfn::error::ProvideErrorMetadata;
use lambda_kit::encoding::{base64_decode, base64url_encode, parse_form, query_encode};
use lambda_kit::LambdaError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::hmac::{constant_time_eq, hmac_sha256};

/// Shortest accepted `APPROVAL_SECRET`.
pub const MIN_SECRET_LEN: usize = 32;
/// Default lifetime of an approval link: 7 days.
pub const DEFAULT_TTL_SECONDS: u64 = 7 * 24 * 3600;

/// The human-approval configuration (from the environment in the Lambda).
#[derive(Clone)]
pub struct HumanConfig {
    /// The SNS topic approvers subscribe to (`APPROVAL_TOPIC_ARN`).
    pub topic_arn: String,
    /// The callback function URL (`APPROVAL_CALLBACK_URL`).
    pub callback_url: String,
    /// The link-signing secret (`APPROVAL_SECRET`).
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for HumanConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HumanConfig")
            .field("topic_arn", &self.topic_arn)
            .field("callback_url", &self.callback_url)
            .field("secret", &"<redacted>")
            .finish()
    }
}

fn config_error(msg: impl Into<String>) -> LambdaError {
    LambdaError::new("Approval.InvalidConfig", msg)
}

impl HumanConfig {
    /// Reads `APPROVAL_TOPIC_ARN` (notify only), `APPROVAL_CALLBACK_URL` (notify only) and
    /// `APPROVAL_SECRET` (both) through `get`.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        need_links: bool,
    ) -> Result<Self, LambdaError> {
        let secret = get("APPROVAL_SECRET").unwrap_or_default().into_bytes();
        if secret.len() < MIN_SECRET_LEN {
            return Err(config_error(format!(
                "APPROVAL_SECRET must be set to at least {MIN_SECRET_LEN} bytes (it has {})",
                secret.len()
            )));
        }
        let topic_arn = get("APPROVAL_TOPIC_ARN").unwrap_or_default();
        let callback_url = get("APPROVAL_CALLBACK_URL").unwrap_or_default();
        if need_links {
            if !topic_arn.starts_with("arn:") {
                return Err(config_error("APPROVAL_TOPIC_ARN must be an SNS topic ARN"));
            }
            if !(callback_url.starts_with("https://") || callback_url.starts_with("http://")) {
                return Err(config_error(
                    "APPROVAL_CALLBACK_URL must be the callback's http(s) URL",
                ));
            }
        }
        Ok(Self {
            topic_arn,
            callback_url,
            secret,
        })
    }
}

/// A signed approval link's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLink {
    /// The task token.
    pub task_token: String,
    /// The model package to approve or reject.
    pub model_package_arn: String,
    /// Expiry, seconds since the Unix epoch.
    pub expires: u64,
}

impl SignedLink {
    fn message(&self) -> Vec<u8> {
        // length-prefixed fields: no ambiguity between (token, arn) pairs
        let mut m = Vec::new();
        for part in [
            self.task_token.as_bytes(),
            self.model_package_arn.as_bytes(),
        ] {
            m.extend_from_slice(&(part.len() as u64).to_be_bytes());
            m.extend_from_slice(part);
        }
        m.extend_from_slice(&self.expires.to_be_bytes());
        m
    }

    /// The hex HMAC-SHA256 signature under `secret`.
    pub fn sign(&self, secret: &[u8]) -> String {
        hex::encode(hmac_sha256(secret, &self.message()))
    }

    /// The link's query string (`t`, `p`, `e`, `s`).
    pub fn query(&self, secret: &[u8]) -> String {
        format!(
            "t={}&p={}&e={}&s={}",
            base64url_encode(self.task_token.as_bytes()),
            query_encode(&self.model_package_arn),
            self.expires,
            self.sign(secret)
        )
    }

    /// Checks `signature` and the expiry against `now`.
    pub fn verify(&self, secret: &[u8], signature: &str, now: u64) -> Result<(), LambdaError> {
        let ok = hex::decode(signature.trim())
            .map(|sig| constant_time_eq(&sig, &hmac_sha256(secret, &self.message())))
            .unwrap_or(false);
        if !ok {
            return Err(LambdaError::new(
                "Approval.TokenInvalid",
                "the approval link's signature does not match: it was altered or not issued by this gate",
            ));
        }
        if now > self.expires {
            return Err(LambdaError::new(
                "Approval.TokenExpired",
                format!(
                    "the approval link expired at {} (unix time); ask for a new one",
                    self.expires
                ),
            ));
        }
        Ok(())
    }
}

/// The notify handler's input (the payload of a `lambda:invoke.waitForTaskToken` task).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyInput {
    /// `$$.Task.Token`.
    pub task_token: String,
    /// The package awaiting approval (registered `PendingManualApproval` by the gate).
    pub model_package_arn: String,
    /// Anything to show the approver (metrics, the gate's reasons, links to reports).
    #[serde(default)]
    pub summary: Value,
    /// Link lifetime in seconds (default 7 days; keep it within the task's `TimeoutSeconds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<u64>,
}

/// The notify handler's result.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct NotifyOutput {
    /// The SNS message id.
    pub message_id: String,
    /// When the link expires (unix seconds).
    pub expires: u64,
}

/// Builds the approval link for `input` (the callback URL with the signed query).
pub fn approval_link(config: &HumanConfig, link: &SignedLink) -> String {
    let sep = if config.callback_url.contains('?') {
        '&'
    } else {
        '?'
    };
    format!("{}{sep}{}", config.callback_url, link.query(&config.secret))
}

/// The SNS subject and message for `input`, and the link's expiry. Pure: no AWS calls.
pub fn approval_message(
    config: &HumanConfig,
    input: &NotifyInput,
    now: u64,
) -> Result<(String, String, u64), LambdaError> {
    if input.task_token.trim().is_empty() {
        return Err(LambdaError::new(
            "Approval.InvalidInput",
            "task_token is empty (pass $$.Task.Token)",
        ));
    }
    if !input.model_package_arn.starts_with("arn:")
        || !input.model_package_arn.contains(":model-package/")
    {
        return Err(LambdaError::new(
            "Approval.InvalidInput",
            format!(
                "model_package_arn `{}` is not a model package ARN",
                input.model_package_arn
            ),
        ));
    }
    let ttl = input.expires_in_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    let link = SignedLink {
        task_token: input.task_token.clone(),
        model_package_arn: input.model_package_arn.clone(),
        expires: now.saturating_add(ttl),
    };
    let url = approval_link(config, &link);
    let package = input
        .model_package_arn
        .rsplit(":model-package/")
        .next()
        .unwrap_or("");
    let subject: String = format!("Model approval needed: {package}")
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
        .take(100)
        .collect();
    let summary = serde_json::to_string_pretty(&input.summary).unwrap_or_default();
    let message = format!(
        "A model package is waiting for your approval.\n\nModel package: {}\n\nSummary:\n{summary}\n\n\
         Review and approve or reject (the link expires at unix time {}):\n{url}\n",
        input.model_package_arn, link.expires
    );
    Ok((subject, message, link.expires))
}

/// Publishes the approval request (summary and signed link) to the SNS topic.
pub async fn notify(
    sns: &aws_sdk_sns::Client,
    config: &HumanConfig,
    input: NotifyInput,
    now: u64,
) -> Result<NotifyOutput, LambdaError> {
    let (subject, message, expires) = approval_message(config, &input, now)?;
    let out = sns
        .publish()
        .topic_arn(&config.topic_arn)
        .subject(subject)
        .message(message)
        .send()
        .await
        .map_err(|e| {
            LambdaError::new(
                "Approval.NotifyFailed",
                format!(
                    "SNS Publish to {}: {}",
                    config.topic_arn,
                    e.message().unwrap_or(e.code().unwrap_or("error"))
                ),
            )
        })?;
    tracing::info!(model_package_arn = %input.model_package_arn, expires, "approval requested");
    Ok(NotifyOutput {
        message_id: out.message_id().unwrap_or_default().to_owned(),
        expires,
    })
}

/// A decision submitted through the callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// Approve the model package.
    Approve,
    /// Reject it.
    Reject,
}

impl Decision {
    /// Parses `approve` / `reject` (any case).
    pub fn parse(s: &str) -> Result<Self, LambdaError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "approve" | "approved" => Ok(Decision::Approve),
            "reject" | "rejected" => Ok(Decision::Reject),
            other => Err(LambdaError::new(
                "Approval.UnknownDecision",
                format!("decision `{other}` is neither `approve` nor `reject`"),
            )),
        }
    }
}

/// A parsed callback request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRequest {
    /// The signed link fields.
    pub link: SignedLink,
    /// The signature.
    pub signature: String,
    /// The decision (`None` when the link is only being opened).
    pub decision: Option<String>,
    /// Who decided (free text from the form).
    pub approver: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

fn bad_request(msg: impl Into<String>) -> LambdaError {
    LambdaError::new("Approval.InvalidRequest", msg)
}

impl CallbackRequest {
    /// Builds a request from decoded form/query fields (`t`, `p`, `e`, `s`, `decision`,
    /// `approver`, `reason`).
    pub fn from_fields(fields: &HashMap<String, String>) -> Result<Self, LambdaError> {
        let get = |k: &str| fields.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let need = |k: &str, what: &str| {
            get(k).ok_or_else(|| bad_request(format!("missing `{k}` ({what})")))
        };
        let token_b64 = need("t", "the task token")?;
        let token = base64_decode(token_b64)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                LambdaError::new(
                    "Approval.TokenInvalid",
                    "the task token in the link is not valid",
                )
            })?;
        let expires = need("e", "the expiry")?
            .parse::<u64>()
            .map_err(|_| bad_request("`e` (the expiry) is not a unix time"))?;
        Ok(Self {
            link: SignedLink {
                task_token: token,
                model_package_arn: need("p", "the model package ARN")?.to_owned(),
                expires,
            },
            signature: need("s", "the signature")?.to_owned(),
            decision: get("decision").map(str::to_owned),
            approver: get("approver").map(|s| s.chars().take(128).collect()),
            reason: get("reason").map(|s| s.chars().take(512).collect()),
        })
    }
}

/// The outcome of a recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackOutcome {
    /// `Approved` or `Rejected`.
    pub status: String,
    /// The package.
    pub model_package_arn: String,
}

fn sfn_error<E: ProvideErrorMetadata>(op: &str, e: E) -> LambdaError {
    let msg = format!("{op}: {}", e.message().or(e.code()).unwrap_or("failed"));
    match e.code() {
        Some("TaskDoesNotExist" | "InvalidToken") => LambdaError::new(
            "Approval.TokenInvalid",
            format!(
                "{msg} (the token is unknown, or its execution already moved on: a replayed link?)"
            ),
        ),
        Some("TaskTimedOut") => LambdaError::new(
            "Approval.TokenExpired",
            format!("{msg} (the waiting task timed out or already completed)"),
        ),
        _ => LambdaError::new("Approval.CallbackFailed", msg),
    }
}

/// Records a decision: verifies the link, checks the package is still pending, resumes the
/// execution (`SendTaskSuccess` with `{"decision": "Approved", ...}` or `SendTaskFailure` with
/// error `Approval.Rejected`) and updates the package's approval status.
pub async fn decide(
    sfn: &aws_sdk_sfn::Client,
    sm: &aws_sdk_sagemaker::Client,
    config: &HumanConfig,
    req: &CallbackRequest,
    now: u64,
) -> Result<CallbackOutcome, LambdaError> {
    req.link.verify(&config.secret, &req.signature, now)?;
    let decision = Decision::parse(req.decision.as_deref().unwrap_or(""))?;
    let arn = &req.link.model_package_arn;
    let pkg = sm
        .describe_model_package()
        .model_package_name(arn)
        .send()
        .await
        .map_err(|e| {
            LambdaError::new(
                "Approval.RegistryFailed",
                format!(
                    "DescribeModelPackage {arn}: {}",
                    e.message().or(e.code()).unwrap_or("failed")
                ),
            )
        })?;
    let current = pkg
        .model_approval_status()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    if current != "PendingManualApproval" {
        return Err(LambdaError::new(
            "Approval.AlreadyDecided",
            format!("{arn} is already {current}: this link was used before"),
        ));
    }
    let approver = req.approver.clone().unwrap_or_else(|| "unknown".into());
    let reason = req.reason.clone().unwrap_or_default();
    let (status, approval_status) = match decision {
        Decision::Approve => {
            let output = json!({"decision": "Approved", "model_package_arn": arn, "approver": approver, "reason": reason});
            sfn.send_task_success()
                .task_token(&req.link.task_token)
                .output(output.to_string())
                .send()
                .await
                .map_err(|e| sfn_error("SendTaskSuccess", e))?;
            ("Approved", ModelApprovalStatus::Approved)
        }
        Decision::Reject => {
            let cause = format!("rejected by {approver}: {reason}");
            sfn.send_task_failure()
                .task_token(&req.link.task_token)
                .error("Approval.Rejected")
                .cause(cause.chars().take(32_000).collect::<String>())
                .send()
                .await
                .map_err(|e| sfn_error("SendTaskFailure", e))?;
            ("Rejected", ModelApprovalStatus::Rejected)
        }
    };
    // Re-send the existing metadata: AWS merges it, and emulators that replace it keep it.
    let mut meta = pkg
        .customer_metadata_properties()
        .cloned()
        .unwrap_or_default();
    let who: String = approver
        .chars()
        .filter(|c| c.is_alphanumeric() || " _.:/=+-@".contains(*c))
        .take(256)
        .collect();
    meta.insert("stepwright:approver".into(), who);
    let description = format!("{status} by {approver}: {reason}")
        .chars()
        .take(1024)
        .collect::<String>();
    sm.update_model_package()
        .model_package_arn(arn)
        .model_approval_status(approval_status)
        .approval_description(description)
        .set_customer_metadata_properties(Some(meta))
        .send()
        .await
        .map_err(|e| {
            LambdaError::new(
                "Approval.RegistryFailed",
                format!(
                    "the execution was resumed ({status}) but UpdateModelPackage {arn} failed: {}",
                    e.message().or(e.code()).unwrap_or("failed")
                ),
            )
        })?;
    tracing::info!(model_package_arn = %arn, status, %approver, "human decision recorded");
    Ok(CallbackOutcome {
        status: status.into(),
        model_package_arn: arn.clone(),
    })
}

/// The HTTP status for a callback error name.
pub fn http_status(error_name: &str) -> i64 {
    match error_name {
        "Approval.InvalidRequest" | "Approval.UnknownDecision" => 400,
        "Approval.TokenInvalid" => 403,
        "Approval.AlreadyDecided" => 409,
        "Approval.TokenExpired" => 410,
        _ => 502,
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn response(status: i64, content_type: &str, body: String) -> LambdaFunctionUrlResponse {
    let mut r = LambdaFunctionUrlResponse::default();
    r.status_code = status;
    if let Ok(v) = content_type.parse() {
        r.headers.insert("content-type", v);
    }
    if let Ok(v) = "no-store".parse() {
        r.headers.insert("cache-control", v);
    }
    r.body = Some(body);
    r
}

fn confirmation_page(req: &CallbackRequest, fields: &HashMap<String, String>) -> String {
    let hidden: String = ["t", "p", "e", "s"]
        .iter()
        .map(|k| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                escape_html(fields.get(*k).map(String::as_str).unwrap_or(""))
            )
        })
        .collect();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Model approval</title></head><body>\
         <h1>Model approval</h1><p>Model package: <code>{}</code></p>\
         <form method=\"post\">{hidden}\
         <p><label>Your name <input name=\"approver\" required></label></p>\
         <p><label>Reason <input name=\"reason\"></label></p>\
         <button name=\"decision\" value=\"approve\">Approve</button> \
         <button name=\"decision\" value=\"reject\">Reject</button></form></body></html>",
        escape_html(&req.link.model_package_arn)
    )
}

/// Decodes a function URL request into fields: the query string, plus for POST a body that is
/// form-encoded or JSON (base64 bodies are decoded).
pub fn request_fields(
    req: &LambdaFunctionUrlRequest,
) -> Result<HashMap<String, String>, LambdaError> {
    let mut fields: HashMap<String, String> = HashMap::new();
    if let Some(q) = req.raw_query_string.as_deref().filter(|q| !q.is_empty()) {
        fields.extend(parse_form(q).map_err(|e| bad_request(format!("query string: {e}")))?);
    } else {
        fields.extend(
            req.query_string_parameters
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    let method = req.request_context.http.method.as_deref().unwrap_or("GET");
    if method.eq_ignore_ascii_case("POST") {
        let raw = req.body.clone().unwrap_or_default();
        let encoded = req.is_base64_encoded;
        let body = if encoded {
            String::from_utf8(base64_decode(&raw).map_err(|e| bad_request(format!("body: {e}")))?)
                .map_err(|_| bad_request("body is not UTF-8"))?
        } else {
            raw
        };
        let content_type = req
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("application/json") {
            let v: Value =
                serde_json::from_str(&body).map_err(|e| bad_request(format!("JSON body: {e}")))?;
            let obj = v
                .as_object()
                .ok_or_else(|| bad_request("JSON body is not an object"))?;
            for (k, v) in obj {
                let s = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                fields.insert(k.clone(), s);
            }
        } else if !body.is_empty() {
            fields.extend(parse_form(&body).map_err(|e| bad_request(format!("form body: {e}")))?);
        }
    }
    Ok(fields)
}

/// Handles a function URL request: `GET` shows the confirmation page for a valid link; `POST`
/// records the decision. Errors become HTTP statuses with `{"errorType", "errorMessage"}`
/// bodies (400, 403, 409, 410, 502).
pub async fn handle_http(
    sfn: &aws_sdk_sfn::Client,
    sm: &aws_sdk_sagemaker::Client,
    config: &HumanConfig,
    req: LambdaFunctionUrlRequest,
    now: u64,
) -> LambdaFunctionUrlResponse {
    let method = req
        .request_context
        .http
        .method
        .clone()
        .unwrap_or_else(|| "GET".into())
        .to_ascii_uppercase();
    let result = async {
        let fields = request_fields(&req)?;
        let parsed = CallbackRequest::from_fields(&fields)?;
        match method.as_str() {
            "GET" => {
                parsed.link.verify(&config.secret, &parsed.signature, now)?;
                Ok(response(
                    200,
                    "text/html; charset=utf-8",
                    confirmation_page(&parsed, &fields),
                ))
            }
            "POST" => {
                let out = decide(sfn, sm, config, &parsed, now).await?;
                Ok(response(200, "application/json", json!(out).to_string()))
            }
            other => Err(bad_request(format!(
                "method {other} is not allowed (GET or POST)"
            ))),
        }
    }
    .await;
    result.unwrap_or_else(|e: LambdaError| {
        tracing::warn!(
            error = e.name(),
            message = e.message(),
            "approval callback refused"
        );
        response(
            http_status(e.name()),
            "application/json",
            json!({"errorType": e.name(), "errorMessage": e.message()}).to_string(),
        )
    })
}

/// Reads the body of a function URL response as text (tests and tools).
pub fn body_text(resp: &LambdaFunctionUrlResponse) -> &str {
    resp.body.as_deref().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn link() -> SignedLink {
        SignedLink {
            task_token: "AQCEAAAAKgAAAAMAAAAAAAAAAS+token/with=chars".into(),
            model_package_arn: "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3"
                .into(),
            expires: 1_000,
        }
    }

    fn fields_of(query: &str) -> HashMap<String, String> {
        parse_form(query).unwrap().into_iter().collect()
    }

    #[test]
    fn links_round_trip_and_verify() {
        let l = link();
        let req = CallbackRequest::from_fields(&fields_of(&l.query(SECRET))).unwrap();
        assert_eq!(req.link, l);
        req.link.verify(SECRET, &req.signature, 999).unwrap();
        req.link.verify(SECRET, &req.signature, 1_000).unwrap();
        let err = req.link.verify(SECRET, &req.signature, 1_001).unwrap_err();
        assert_eq!(err.name(), "Approval.TokenExpired");
        let err = req
            .link
            .verify(b"another secret of enough length!!", &req.signature, 0)
            .unwrap_err();
        assert_eq!(err.name(), "Approval.TokenInvalid");
    }

    #[test]
    fn tampering_is_detected() {
        let l = link();
        let sig = l.sign(SECRET);
        for changed in [
            SignedLink {
                task_token: "other-token".into(),
                ..l.clone()
            },
            SignedLink {
                model_package_arn: l.model_package_arn.replace("/3", "/4"),
                ..l.clone()
            },
            SignedLink {
                expires: 9_999_999,
                ..l.clone()
            },
        ] {
            assert_eq!(
                changed.verify(SECRET, &sig, 0).unwrap_err().name(),
                "Approval.TokenInvalid"
            );
        }
        assert_eq!(
            l.verify(SECRET, "not-hex", 0).unwrap_err().name(),
            "Approval.TokenInvalid"
        );
        assert_eq!(
            l.verify(SECRET, "", 0).unwrap_err().name(),
            "Approval.TokenInvalid"
        );
    }

    #[test]
    fn bad_requests_are_named() {
        let err = CallbackRequest::from_fields(&fields_of("p=x&e=1&s=ab")).unwrap_err();
        assert_eq!(
            (err.name(), err.message()),
            ("Approval.InvalidRequest", "missing `t` (the task token)")
        );
        let err = CallbackRequest::from_fields(&fields_of("t=***&p=x&e=1&s=ab")).unwrap_err();
        assert_eq!(err.name(), "Approval.TokenInvalid");
        let err = CallbackRequest::from_fields(&fields_of("t=YQ&p=x&e=soon&s=ab")).unwrap_err();
        assert!(err.message().contains("unix time"));
        assert_eq!(Decision::parse("APPROVE").unwrap(), Decision::Approve);
        let err = Decision::parse("maybe").unwrap_err();
        assert_eq!(err.name(), "Approval.UnknownDecision");
        assert_eq!(http_status(err.name()), 400);
    }

    #[test]
    fn config_needs_a_long_secret() {
        let err = HumanConfig::from_lookup(|_| Some("short".into()), false).unwrap_err();
        assert_eq!(err.name(), "Approval.InvalidConfig");
        let env = |k: &str| match k {
            "APPROVAL_SECRET" => Some(String::from_utf8(SECRET.to_vec()).unwrap()),
            _ => None,
        };
        assert!(HumanConfig::from_lookup(env, false).is_ok());
        assert!(
            HumanConfig::from_lookup(env, true).is_err(),
            "notify needs the topic and URL"
        );
        let cfg = HumanConfig::from_lookup(env, false).unwrap();
        assert!(
            !format!("{cfg:?}").contains("0123456789"),
            "the secret is not printed"
        );
    }

    #[test]
    fn the_message_carries_a_verifiable_link() {
        let cfg = HumanConfig {
            topic_arn: "arn:t".into(),
            callback_url: "https://cb.example/x".into(),
            secret: SECRET.to_vec(),
        };
        let input = NotifyInput {
            task_token: link().task_token,
            model_package_arn: link().model_package_arn,
            summary: serde_json::json!({"auc": 0.91}),
            expires_in_seconds: Some(60),
        };
        let (subject, message, expires) = approval_message(&cfg, &input, 100).unwrap();
        assert_eq!(subject, "Model approval needed: churn/3");
        assert_eq!(expires, 160);
        assert!(message.contains("\"auc\": 0.91"), "{message}");
        let url = message
            .lines()
            .find(|l| l.starts_with("https://cb.example/x?"))
            .unwrap();
        let req = CallbackRequest::from_fields(&fields_of(url.split_once('?').unwrap().1)).unwrap();
        assert_eq!(req.link.task_token, input.task_token);
        req.link.verify(SECRET, &req.signature, 160).unwrap();
        let bad = NotifyInput {
            model_package_arn: "churn/3".into(),
            ..input.clone()
        };
        assert_eq!(
            approval_message(&cfg, &bad, 0).unwrap_err().name(),
            "Approval.InvalidInput"
        );
        let bad = NotifyInput {
            task_token: " ".into(),
            ..input
        };
        assert_eq!(
            approval_message(&cfg, &bad, 0).unwrap_err().name(),
            "Approval.InvalidInput"
        );
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
