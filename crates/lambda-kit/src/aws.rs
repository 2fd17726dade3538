//! AWS SDK configuration shared by every Lambda: the standard credential chain and region, plus
//! `AWS_ENDPOINT_URL` (e.g. a moto server at `http://127.0.0.1:5000`) and S3 path-style
//! addressing for such endpoints.

use aws_config::BehaviorVersion;
pub use aws_config::SdkConfig;

/// Loads the SDK configuration from the environment (credentials chain, region,
/// `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>`), with the latest behavior version.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// An S3 client for `config`, using path-style addressing when [`use_path_style`] says so.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let s3_endpoint = std::env::var("AWS_ENDPOINT_URL_S3").ok();
    let endpoint = s3_endpoint.as_deref().or(config.endpoint_url());
    let forced = std::env::var("AWS_S3_FORCE_PATH_STYLE").ok();
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(use_path_style(forced.as_deref(), endpoint))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Whether S3 requests should use path-style URLs (`http://host/bucket/key`) instead of
/// virtual-hosted ones (`http://bucket.host/key`).
///
/// `AWS_S3_FORCE_PATH_STYLE` (`true`/`1` or `false`/`0`) decides when set. Otherwise path style
/// is used for custom endpoints whose host is an IP address or `localhost` (moto, MinIO,
/// LocalStack), where virtual-hosted names cannot resolve, and never for AWS itself.
///
/// ```
/// use lambda_kit::aws::use_path_style;
///
/// assert!(use_path_style(None, Some("http://127.0.0.1:5000")));
/// assert!(use_path_style(None, Some("http://localhost:4566")));
/// assert!(!use_path_style(None, Some("https://s3.eu-west-1.amazonaws.com")));
/// assert!(!use_path_style(None, None));
/// assert!(use_path_style(Some("true"), None));
/// assert!(!use_path_style(Some("0"), Some("http://127.0.0.1:5000")));
/// ```
pub fn use_path_style(forced: Option<&str>, endpoint: Option<&str>) -> bool {
    match forced.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Some("true" | "1" | "yes") => return true,
        Some("false" | "0" | "no") => return false,
        _ => {}
    }
    let Some(endpoint) = endpoint else {
        return false;
    };
    let after_scheme = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let authority = after_scheme.split('/').next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok()
        || host.to_ascii_lowercase().ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::use_path_style;

    #[test]
    fn path_style_for_ip_hosts() {
        assert!(use_path_style(None, Some("http://[::1]:5000/")));
        assert!(use_path_style(None, Some("http://10.0.0.5")));
        assert!(use_path_style(None, Some("http://s3.localhost:9000")));
        assert!(!use_path_style(None, Some("http://minio.internal:9000")));
        assert!(!use_path_style(Some("maybe"), Some("https://example.com")));
    }
}
