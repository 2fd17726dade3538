//! A client for the Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`), so
//! that a run can call functions served locally, for example by `cargo lambda watch` on
//! `http://127.0.0.1:9000`.
//!
//! It is a small HTTP/1.1 client on `std::net` (plain `http://` only: local emulators do not use
//! TLS), which keeps this crate free of an async runtime and an HTTP stack.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde_json::Value;

use crate::error::SetupError;
use crate::tasks::{TaskContext, TaskError, TaskHandler, TaskRequest};

/// A Lambda Invoke API endpoint.
///
/// ```
/// use stepwright_local::lambda_http::LambdaEndpoint;
/// let ep = LambdaEndpoint::new("http://127.0.0.1:9000").unwrap();
/// assert_eq!(ep.invocation_path("cleanse"), "/2015-03-31/functions/cleanse/invocations");
/// assert!(LambdaEndpoint::new("https://example.com").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct LambdaEndpoint {
    host: String,
    port: u16,
    base: String,
    timeout: Duration,
}

impl LambdaEndpoint {
    /// An endpoint from a URL such as `http://127.0.0.1:9000` (a path prefix is kept).
    pub fn new(url: &str) -> Result<LambdaEndpoint, SetupError> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            SetupError::new(format!(
                "the Lambda endpoint '{url}' must start with http:// (local endpoints only; https is not supported)"
            ))
        })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>().map_err(|_| {
                    SetupError::new(format!("the Lambda endpoint '{url}' has an invalid port"))
                })?,
            ),
            None => (authority, 80),
        };
        if host.is_empty() {
            return Err(SetupError::new(format!(
                "the Lambda endpoint '{url}' has no host"
            )));
        }
        Ok(LambdaEndpoint {
            host: host.to_string(),
            port,
            base: path.to_string(),
            timeout: Duration::from_secs(900),
        })
    }

    /// Sets the socket timeout (default 900 s, Lambda's maximum).
    pub fn with_timeout(mut self, timeout: Duration) -> LambdaEndpoint {
        self.timeout = timeout;
        self
    }

    /// The request path for a function.
    pub fn invocation_path(&self, function: &str) -> String {
        format!("{}/2015-03-31/functions/{function}/invocations", self.base)
    }

    /// Invokes `function` with `payload`: `Ok(result)`, or `Err` with the function's
    /// `errorType` as the error name and its error document as the cause.
    pub fn invoke(&self, function: &str, payload: &Value) -> Result<Value, TaskError> {
        let body = payload.to_string();
        let (status, function_error, resp) = self
            .post(&self.invocation_path(function), body.as_bytes())
            .map_err(|e| {
                TaskError::new(
                    "Lambda.SdkClientException",
                    format!(
                        "cannot reach the Lambda endpoint {}:{} for function '{function}': {e}",
                        self.host, self.port
                    ),
                )
            })?;
        let text = String::from_utf8_lossy(&resp).into_owned();
        if status == 404 {
            return Err(TaskError::new(
                "Lambda.ResourceNotFoundException",
                format!("Function not found: {function} ({text})"),
            ));
        }
        if !(200..300).contains(&status) {
            return Err(TaskError::new(
                "Lambda.ServiceException",
                format!("the Lambda endpoint answered HTTP {status}: {text}"),
            ));
        }
        if function_error {
            let name = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| {
                    v.get("errorType")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_else(|| "Lambda.Unknown".to_string());
            return Err(TaskError::new(name, text));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| {
            TaskError::new(
                "Lambda.InvalidResponse",
                format!("function '{function}' returned invalid JSON: {e}"),
            )
        })
    }

    fn post(&self, path: &str, body: &[u8]) -> std::io::Result<(u16, bool, Vec<u8>)> {
        let addr = (self.host.as_str(), self.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::other("the host resolves to no address"))?;
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
        stream.set_read_timeout(Some(self.timeout))?;
        stream.set_write_timeout(Some(self.timeout))?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\nAccept: application/json\r\nX-Amz-Invocation-Type: RequestResponse\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.host,
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        stream.flush()?;
        read_response(BufReader::new(stream))
    }
}

/// Reads an HTTP/1.1 response: status, whether `X-Amz-Function-Error` was set, and the body
/// (Content-Length, chunked, or until close).
fn read_response<R: BufRead>(mut r: R) -> std::io::Result<(u16, bool, Vec<u8>)> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("malformed HTTP status line"))?;
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    let mut function_error = false;
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            break;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim();
            match k.as_str() {
                "content-length" => content_length = v.parse().ok(),
                "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
                "x-amz-function-error" => function_error = true,
                _ => {}
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| bad("malformed chunk size"))?;
            if size == 0 {
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..])?;
            line.clear();
            r.read_line(&mut line)?;
        }
    } else if let Some(n) = content_length {
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    } else {
        r.read_to_end(&mut body)?;
    }
    Ok((status, function_error, body))
}

impl TaskHandler for LambdaEndpoint {
    fn invoke(&self, req: &TaskRequest<'_>, _: &mut TaskContext) -> Result<Value, TaskError> {
        let name = req.function_name.ok_or_else(|| {
            TaskError::new(
                "States.Runtime",
                format!(
                    "state '{}': no Lambda function name in the request for resource '{}'",
                    req.state_name, req.resource
                ),
            )
        })?;
        LambdaEndpoint::invoke(self, name, req.lambda_payload())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::net::TcpListener;

    #[test]
    fn parses_responses() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"a\":1}".to_vec();
        assert_eq!(
            read_response(Cursor::new(r)).unwrap(),
            (200, false, b"{\"a\":1}".to_vec())
        );
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Amz-Function-Error: Unhandled\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n".to_vec();
        assert_eq!(
            read_response(Cursor::new(r)).unwrap(),
            (200, true, b"{\"a\":1}".to_vec())
        );
        assert!(read_response(Cursor::new(b"garbage\r\n".to_vec())).is_err());
    }

    #[test]
    fn round_trip_with_a_local_server() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            for (i, stream) in listener.incoming().take(2).enumerate() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let (request_line, body) = testkit::read_http_request(&mut reader);
                assert!(request_line.starts_with("POST /2015-03-31/functions/f/invocations"));
                let resp = if i == 0 {
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
                        .into_bytes()
                        .into_iter()
                        .chain(body)
                        .collect::<Vec<u8>>()
                } else {
                    let e = br#"{"errorType":"Boom","errorMessage":"bad"}"#;
                    let mut v = format!("HTTP/1.1 200 OK\r\nX-Amz-Function-Error: Unhandled\r\nContent-Length: {}\r\n\r\n", e.len()).into_bytes();
                    v.extend_from_slice(e);
                    v
                };
                stream.write_all(&resp).unwrap();
            }
        });
        let ep = LambdaEndpoint::new(&format!("http://127.0.0.1:{port}")).unwrap();
        assert_eq!(
            ep.invoke("f", &serde_json::json!({"x": 1})).unwrap(),
            serde_json::json!({"x": 1})
        );
        let err = ep.invoke("f", &serde_json::json!({})).unwrap_err();
        assert_eq!(err.error, "Boom");
        assert!(err.cause.contains("bad"));
        server.join().unwrap();
    }
}
