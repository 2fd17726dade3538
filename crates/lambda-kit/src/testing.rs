//! Test support (feature `testing`): a moto server per test and SDK clients configured for it.
//!
//! [`MotoServer::start`] finds `moto_server` (the `MOTO_SERVER` variable, else
//! `<workspace>/.venv/bin/moto_server` as installed by `scripts/setup.sh`, else `PATH`), starts
//! it on a free port of 127.0.0.1, waits until it serves, and stops it when dropped. The server
//! also stops when the test process dies without running destructors: a small watchdog shell
//! kills it as soon as the test process's end of the watchdog's stdin pipe closes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lambda_kit::testing::MotoServer;
//!
//! let moto = MotoServer::start()?;
//! let s3 = moto.s3_client().await;
//! s3.create_bucket().bucket("data").send().await?;
//! // any other service: aws_sdk_sfn::Client::new(&moto.sdk_config().await)
//! let config = moto.sdk_config().await;
//! # let _ = config; Ok(()) }
//! ```

use std::io::BufRead;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;

use crate::object::ObjectStore;

/// How long to wait for moto to start serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server, stopped on drop.
#[derive(Debug)]
pub struct MotoServer {
    moto: Child,
    watchdog: Child,
    watchdog_stdin: Option<ChildStdin>,
    port: u16,
    log: PathBuf,
}

/// Why moto could not be started.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    /// No `moto_server` binary was found.
    #[error(
        "moto_server not found (looked at $MOTO_SERVER, {venv} and PATH): run scripts/setup.sh \
         (installs moto[server] into .venv)"
    )]
    NotFound {
        /// The .venv location that was tried.
        venv: String,
    },
    /// It was found but did not start.
    #[error("moto_server did not start: {0}")]
    Start(String),
}

impl MotoServer {
    /// Starts a fresh moto server on a free loopback port.
    pub fn start() -> Result<Self, MotoError> {
        let bin = find_moto()?;
        let mut last = String::new();
        // A port picked by binding to :0 can be taken by another process before moto binds it;
        // moto then exits with "Address already in use" and we try another port.
        for _ in 0..5 {
            match Self::start_on_free_port(&bin) {
                Ok(server) => return Ok(server),
                Err(e) => last = e,
            }
        }
        Err(MotoError::Start(last))
    }

    fn start_on_free_port(bin: &Path) -> Result<Self, String> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let log =
            std::env::temp_dir().join(format!("stepwright-moto-{}-{port}.log", std::process::id()));
        let log_file =
            std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let (program, mut args) = launcher(bin);
        args.extend([
            "-H".to_owned(),
            "127.0.0.1".to_owned(),
            "-p".to_owned(),
            port.to_string(),
        ]);
        let mut moto = Command::new(&program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", bin.display()))?;
        // The watchdog blocks reading its stdin; when our end of the pipe closes because this
        // process died without running Drop, `read` returns and it kills moto.
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(r#"read -r _ignored; kill "$0" 2>/dev/null; exit 0"#)
            .arg(moto.id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut watchdog = match watchdog {
            Ok(w) => w,
            Err(e) => {
                let _ = moto.kill();
                let _ = moto.wait();
                return Err(format!("spawning the watchdog shell: {e}"));
            }
        };
        let watchdog_stdin = watchdog.stdin.take();
        // from here on, Drop cleans up
        let mut server = MotoServer {
            moto,
            watchdog,
            watchdog_stdin,
            port,
            log,
        };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.moto.try_wait() {
                let text = std::fs::read_to_string(&self.log).unwrap_or_default();
                return Err(format!("exited with {status}: {}", tail(&text)));
            }
            // "Running on" is printed by moto (werkzeug) once it has bound the port: a connect
            // alone could reach another process that took the port first.
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            if text.contains("Running on") && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let text = std::fs::read_to_string(&self.log).unwrap_or_default();
                return Err(format!(
                    "not serving after {START_TIMEOUT:?}: {}",
                    tail(&text)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port moto listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Environment variables that point an AWS SDK process (e.g. a Lambda bootstrap or the CLI)
    /// at this server with dummy credentials in us-east-1.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_SESSION_TOKEN", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_S3_FORCE_PATH_STYLE", "true".into()),
        ]
    }

    /// An SDK configuration for this server: dummy credentials, us-east-1, its endpoint. Build
    /// any service client from it (`aws_sdk_sfn::Client::new(&config)`); use
    /// [`s3_client`](Self::s3_client) for S3, which also needs path-style addressing.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }

    /// An S3 client for this server (path-style addressing).
    pub async fn s3_client(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk_config().await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// An [`ObjectStore`] over this server's S3.
    pub async fn object_store(&self) -> ObjectStore {
        ObjectStore::with_s3(self.s3_client().await)
    }

    /// Changes moto's behaviour through its `/moto-api/config` endpoint, e.g.
    /// `{"stepfunctions": {"execute_state_machine": true}}` to run state machines for real (task
    /// tokens are then checked by `SendTaskSuccess`/`SendTaskFailure`).
    pub fn configure(&self, config_json: &str) -> Result<(), String> {
        use std::io::{Read, Write};
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        let request = format!(
            "POST /moto-api/config HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{config_json}",
            self.port,
            config_json.len()
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())?;
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .map_err(|e| e.to_string())?;
        let status = response.split_whitespace().nth(1).unwrap_or("");
        if status.starts_with('2') {
            Ok(())
        } else {
            Err(format!(
                "moto refused the config: {}",
                response.lines().next().unwrap_or("")
            ))
        }
    }

    /// Creates a bucket (test setup helper); panics with the service error if that fails.
    pub async fn create_bucket(&self, name: &str) -> aws_sdk_s3::Client {
        let s3 = self.s3_client().await;
        if let Err(e) = s3.create_bucket().bucket(name).send().await {
            panic!("creating bucket {name} on moto failed: {e:?}");
        }
        s3
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // stop the watchdog first (SIGKILL: it does not run its own kill), then moto
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
        drop(self.watchdog_stdin.take());
        let _ = self.moto.kill();
        let _ = self.moto.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// moto 5.2.1 names the root element of the CompleteMultipartUpload result
/// `CompleteMultipartUploadResponse`; S3 (and the Rust SDK, which checks it) use
/// `CompleteMultipartUploadResult`. moto is started through its own Python with this one-line
/// fix of the response body; nothing else is changed, and the patch is skipped if the method
/// moves in a later moto.
const MOTO_LAUNCHER: &str = r#"
import sys
try:
    from moto.s3.responses import S3Response
    _orig = S3Response._key_response_post
    def _fixed(self, *a, **k):
        r = _orig(self, *a, **k)
        if isinstance(r, tuple) and len(r) == 3:
            b = r[2]
            if isinstance(b, bytes):
                b = b.replace(b"CompleteMultipartUploadResponse", b"CompleteMultipartUploadResult")
            elif isinstance(b, str):
                b = b.replace("CompleteMultipartUploadResponse", "CompleteMultipartUploadResult")
            r = (r[0], r[1], b)
        return r
    S3Response._key_response_post = _fixed
except (ImportError, AttributeError):
    pass
from moto.server import main
sys.argv[0] = "moto_server"
sys.exit(main())
"#;

/// The program and leading arguments that run moto: the Python interpreter named in the
/// `moto_server` script's `#!` line with [`MOTO_LAUNCHER`], or the binary itself when it is not
/// a Python script (e.g. a pyenv shim, then `python3` from PATH is used).
fn launcher(bin: &Path) -> (PathBuf, Vec<String>) {
    let first = std::fs::read(bin)
        .ok()
        .and_then(|b| {
            b.split(|&c| c == b'\n')
                .next()
                .map(|l| String::from_utf8_lossy(l).into_owned())
        })
        .unwrap_or_default();
    let interpreter = first
        .strip_prefix("#!")
        .map(str::trim)
        .filter(|l| l.contains("python"))
        .map(|l| {
            let mut words = l.split_whitespace();
            match words.next() {
                Some(env) if env.ends_with("/env") => {
                    PathBuf::from(words.next().unwrap_or("python3"))
                }
                Some(p) => PathBuf::from(p),
                None => PathBuf::from("python3"),
            }
        });
    let interpreter = interpreter.unwrap_or_else(|| PathBuf::from("python3"));
    (interpreter, vec!["-c".to_owned(), MOTO_LAUNCHER.to_owned()])
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n")
}

/// The workspace root: the nearest ancestor of this crate's manifest dir (or the current dir)
/// holding a `Cargo.lock`.
fn workspace_root() -> Option<PathBuf> {
    let start = [
        PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        std::env::current_dir().ok()?,
    ];
    start.iter().find_map(|dir| {
        dir.ancestors()
            .find(|d| d.join("Cargo.lock").is_file())
            .map(Path::to_path_buf)
    })
}

fn find_moto() -> Result<PathBuf, MotoError> {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return Ok(PathBuf::from(p));
    }
    let venv = workspace_root().map(|r| r.join(".venv/bin/moto_server"));
    if let Some(v) = venv.as_ref().filter(|v| v.is_file()) {
        return Ok(v.clone());
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let cand = dir.join("moto_server");
            if cand.is_file() {
                return Ok(cand);
            }
        }
    }
    Err(MotoError::NotFound {
        venv: venv
            .map(|v| v.display().to_string())
            .unwrap_or_else(|| ".venv".into()),
    })
}

/// Reads moto's log, for debugging a failing test.
pub fn read_log(server: &MotoServer) -> Vec<String> {
    std::fs::File::open(&server.log)
        .map(|f| {
            std::io::BufReader::new(f)
                .lines()
                .map_while(Result::ok)
                .collect()
        })
        .unwrap_or_default()
}
