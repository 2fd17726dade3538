//! What `deploy`, `start` and `watch` share: the AWS options (`--region`, `--profile`,
//! `--endpoint-url`), loading the SDK configuration through the standard chain, and turning SDK
//! errors into one line and a hint (never a debug dump).
//!
//! Configuration follows the AWS CLI: the region from `--region`, else `AWS_REGION` /
//! `AWS_DEFAULT_REGION`, else the profile; credentials from the environment, the shared
//! `~/.aws/credentials` and `~/.aws/config` files (static keys, `role_arn` + `source_profile`,
//! web identity), the container and EC2 instance metadata. `--endpoint-url` (or the SDK's own
//! `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_SFN`) points every call at an emulator such as moto.
//! SSO and `credential_process` profiles are not compiled in (they would enlarge every Lambda of
//! the workspace, which shares one `aws-config` build): export their credentials first, e.g.
//! `eval "$(aws configure export-credentials --format env)"`.

use std::error::Error;
use std::fmt;
use std::future::Future;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sfn::config::http::HttpResponse;
use aws_sdk_sfn::config::ProvideCredentials;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};

use crate::exit;

/// The AWS options every AWS subcommand takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsArgs {
    /// AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE, then
    /// `default`).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send every AWS call to this URL, e.g. a moto server or LocalStack (default:
    /// AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SFN, then AWS itself).
    #[arg(long, value_name = "URL", value_parser = parse_endpoint)]
    pub endpoint_url: Option<String>,
}

fn parse_endpoint(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or_else(|| format!("`{s}` is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("`{s}` has no host"));
    }
    Ok(s.to_owned())
}

/// A failure of an AWS subcommand: the exit code, one line saying what went wrong and an
/// optional hint saying what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// The exit code ([`exit::INVALID`] when AWS refused the request, [`exit::USAGE`] for
    /// usage, I/O, configuration and connection problems).
    pub code: u8,
    /// What went wrong, on one line.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl CliError {
    /// A usage, I/O or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: exit::USAGE,
            message: message.into(),
            hint: None,
        }
    }

    /// The operation failed (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        CliError {
            code: exit::INVALID,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prints the error (and its hint) to standard error, prefixed by the command, and returns
    /// its exit code.
    pub fn report(&self, command: &str) -> u8 {
        eprintln!("stepwright {command}: error: {}", self.message);
        if let Some(h) = &self.hint {
            eprintln!("  hint: {h}");
        }
        self.code
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

/// A loaded configuration and where its calls go (for error messages).
#[derive(Debug, Clone)]
pub struct Aws {
    /// The SDK configuration.
    pub config: SdkConfig,
    /// The endpoint override, if any.
    pub endpoint: Option<String>,
}

impl Aws {
    /// A Step Functions client.
    pub fn sfn(&self) -> aws_sdk_sfn::Client {
        aws_sdk_sfn::Client::new(&self.config)
    }

    /// An IAM client (IAM is global: its calls go to the partition's IAM endpoint).
    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config)
    }

    /// The region the calls go to.
    pub fn region(&self) -> &str {
        self.config.region().map_or("", Region::as_ref)
    }

    /// Describes an SDK error of operation `op` as one line and a hint. A request AWS refused
    /// exits 1; anything that kept it from being answered exits 2.
    pub fn error<E>(&self, op: &str, err: &SdkError<E, HttpResponse>) -> CliError
    where
        E: ProvideErrorMetadata + Error + 'static,
    {
        sdk_error(op, err, self.endpoint.as_deref())
    }
}

/// Runs a future on a single-threaded Tokio runtime (the AWS commands make one call at a time).
pub fn block_on<F: Future>(future: F) -> Result<F::Output, CliError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))?;
    Ok(rt.block_on(future))
}

const CREDENTIALS_HINT: &str = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pick a \
    profile with --profile / AWS_PROFILE (`aws configure` writes one); for SSO profiles run \
    `eval \"$(aws configure export-credentials --format env)\"` first";

/// Loads the configuration (standard chain plus the flags), then checks that there is a region
/// and that credentials resolve, so that a missing one is reported before any call is made.
pub async fn load(args: &AwsArgs) -> Result<Aws, CliError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = &args.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &args.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(u) = &args.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    let config = loader.load().await;
    let endpoint = args
        .endpoint_url
        .clone()
        .or_else(|| config.endpoint_url().map(str::to_owned));
    if config.region().is_none_or(|r| r.as_ref().is_empty()) {
        let from = args
            .profile
            .as_deref()
            .map_or(String::new(), |p| format!(" (profile `{p}` has none)"));
        return Err(CliError::usage(format!("no AWS region is configured{from}")).hint(
            "pass --region, set AWS_REGION, or add `region = ...` to the profile in ~/.aws/config",
        ));
    }
    let Some(provider) = config.credentials_provider() else {
        return Err(
            CliError::usage("no AWS credentials provider is configured").hint(CREDENTIALS_HINT)
        );
    };
    if let Err(e) = provider.provide_credentials().await {
        let detail = one_line(&e);
        let profile = args
            .profile
            .as_deref()
            .map_or(String::new(), |p| format!(" for profile `{p}`"));
        return Err(CliError::usage(format!(
            "no AWS credentials could be loaded{profile}: {detail}"
        ))
        .hint(CREDENTIALS_HINT));
    }
    Ok(Aws { config, endpoint })
}

/// An error and its sources on one line, without repeating a source whose text the previous
/// message already contains.
pub fn one_line(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let text = e.to_string().replace(['\n', '\r'], " ");
        let text = text.trim();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(text)) {
            parts.push(text.to_owned());
        }
        cur = e.source();
    }
    if parts.is_empty() {
        "unknown error".to_owned()
    } else {
        parts.join(": ")
    }
}

/// See [`Aws::error`].
pub fn sdk_error<E>(op: &str, err: &SdkError<E, HttpResponse>, endpoint: Option<&str>) -> CliError
where
    E: ProvideErrorMetadata + Error + 'static,
{
    let target = endpoint.map_or_else(|| "AWS".to_owned(), |e| format!("`{e}`"));
    match err {
        SdkError::ServiceError(ctx) => {
            let e = ctx.err();
            let Some(code) = e.code() else {
                // not an AWS error document (an HTML error page, an empty body)
                let status = ctx.raw().status().as_u16();
                return CliError::failed(format!(
                    "{op}: {target} answered HTTP {status} without an AWS error"
                ))
                .hint(if status >= 500 {
                    "the service failed internally: retry; an emulator may not support this call"
                } else {
                    "is the endpoint URL an AWS API (or an emulator of one)?"
                });
            };
            let message = e
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| one_line(e));
            let mut out = CliError::failed(format!("{op}: {code}: {message}"));
            if let Some(h) = service_hint(code) {
                out = out.hint(h);
            }
            out
        }
        SdkError::DispatchFailure(d) => {
            let detail = one_line(err);
            let hint = if d.is_io() || d.is_timeout() {
                if endpoint.is_some() {
                    "is the emulator running at that URL? (--endpoint-url / AWS_ENDPOINT_URL)"
                } else {
                    "check the network connection and the region"
                }
            } else {
                "check the endpoint URL, the region and the credentials"
            };
            CliError::usage(format!("{op}: could not reach {target}: {detail}")).hint(hint)
        }
        SdkError::TimeoutError(_) => CliError::usage(format!(
            "{op}: {target} did not answer in time: {}",
            one_line(err)
        ))
        .hint("retry, or check the network connection"),
        SdkError::ResponseError(_) => CliError::usage(format!(
            "{op}: {target} sent a response that is not a Step Functions answer: {}",
            one_line(err)
        ))
        .hint("is the endpoint URL an AWS API (or an emulator of one)?"),
        _ => CliError::usage(format!(
            "{op}: the request could not be made: {}",
            one_line(err)
        )),
    }
}

fn service_hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch" => {
            "the credentials are not valid in this account/region: check the profile and region"
        }
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            "the session credentials have expired: refresh them"
        }
        "AccessDeniedException" | "AccessDenied" => {
            "the identity lacks this permission: ask for it, or use another profile"
        }
        "ThrottlingException" | "TooManyRequestsException" => "AWS throttled the call: retry later",
        "StateMachineDoesNotExist" => {
            "check the name or ARN (`aws stepfunctions list-state-machines`) and the region"
        }
        "ExecutionDoesNotExist" => "check the execution ARN and the region",
        "InvalidArn" => "an ARN looks like arn:aws:states:REGION:ACCOUNT:stateMachine:NAME",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_checked() {
        assert!(parse_endpoint("http://127.0.0.1:5000").is_ok());
        assert!(parse_endpoint("https://states.eu-west-1.amazonaws.com").is_ok());
        assert!(parse_endpoint("127.0.0.1:5000")
            .unwrap_err()
            .contains("not an http"));
        assert!(parse_endpoint("http://").unwrap_err().contains("no host"));
    }

    #[derive(Debug)]
    struct Outer(Inner);
    #[derive(Debug)]
    struct Inner;
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("dispatch failure")
        }
    }
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("connection refused\n(os error 111)")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }
    impl Error for Inner {}

    #[test]
    fn one_line_joins_sources_without_newlines() {
        assert_eq!(
            one_line(&Outer(Inner)),
            "dispatch failure: connection refused (os error 111)"
        );
    }

    #[test]
    fn errors_report_their_code() {
        let e = CliError::failed("x").hint("y");
        assert_eq!(e.code, exit::INVALID);
        assert_eq!(e.to_string(), "x (hint: y)");
        assert_eq!(CliError::usage("z").code, exit::USAGE);
    }
}
