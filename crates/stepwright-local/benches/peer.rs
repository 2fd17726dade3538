//! Peer benchmark: the machines of ../shared/peer-bench on this runner and on moto server's
//! Step Functions interpreter, in the same run, reporting state transitions per second (states
//! entered / wall time, as `sfn_bench.py` counts them) and the ratio.
//!
//! ```text
//! cargo bench -p stepwright-local --bench peer
//! STEPWRIGHT_BENCH_MOTO=0 cargo bench -p stepwright-local --bench peer   # skip moto
//! ```
//!
//! The local runner records the full history (every event, inputs and outputs shared, not
//! copied). The 10,000-item inline Map produces ~80,000 events: AWS would stop such an
//! execution at 25,000 events, so the benchmark lifts that limit (`max_history_events: None`).
//! moto needs `moto[server]` and `boto3`: the workspace `.venv` (scripts/setup.sh) is used when
//! present, otherwise `python3` and `moto_server` from PATH.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use stepwright_local::{Options, Runner};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

struct Measure {
    wall_s: f64,
    entered: usize,
    events: usize,
}

fn run_local(def: &str, input: &Value, reps: usize) -> Result<Vec<Measure>, String> {
    let runner = Runner::from_json(def)
        .map_err(|e| e.to_string())?
        .options(Options {
            max_history_events: None,
            ..Options::default()
        });
    // Warm up once.
    let _ = runner.run(input.clone());
    Ok((0..reps)
        .map(|_| {
            let inp = input.clone();
            let t = Instant::now();
            let exec = runner.run(inp);
            let wall = t.elapsed().as_secs_f64();
            assert!(exec.succeeded(), "{:?} {:?}", exec.error, exec.cause);
            let entered = exec
                .history
                .events()
                .iter()
                .filter(|e| e.event_type().ends_with("StateEntered"))
                .count();
            Measure {
                wall_s: wall,
                entered,
                events: exec.history.len(),
            }
        })
        .collect())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/stepwright-local is two levels below the root")
        .to_path_buf()
}

fn tool(venv_name: &str, fallback: &str) -> PathBuf {
    let v = workspace_root().join(".venv/bin").join(venv_name);
    if v.exists() {
        v
    } else {
        PathBuf::from(fallback)
    }
}

struct Moto {
    child: Child,
}

impl Moto {
    fn start() -> Result<Moto, String> {
        if TcpStream::connect("127.0.0.1:5000").is_ok() {
            return Err("port 5000 is already in use (sfn_bench.py needs it)".into());
        }
        let child = Command::new(tool("moto_server", "moto_server"))
            .args(["-H", "127.0.0.1", "-p", "5000"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start moto_server: {e}"))?;
        let mut m = Moto { child };
        for _ in 0..600 {
            if TcpStream::connect("127.0.0.1:5000").is_ok() {
                m.configure()?;
                return Ok(m);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        m.stop();
        Err("moto_server did not start listening on 127.0.0.1:5000".into())
    }

    fn configure(&mut self) -> Result<(), String> {
        let body = r#"{"stepfunctions":{"execute_state_machine":true}}"#;
        let mut s = TcpStream::connect("127.0.0.1:5000").map_err(|e| e.to_string())?;
        write!(
            s,
            "POST /moto-api/config HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .map_err(|e| e.to_string())?;
        let mut line = String::new();
        BufReader::new(s)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        if line.contains(" 20") {
            Ok(())
        } else {
            Err(format!("moto config answered: {line}"))
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `sfn_bench.py KIND N REPS` against a fresh moto server; one JSON object per rep.
/// A run that exceeds `STEPWRIGHT_BENCH_MOTO_TIMEOUT` seconds (default 1200) is stopped and
/// reported as a lower bound on its time.
fn run_moto(peer: &Path, kind: &str, n: usize, reps: usize) -> Result<Vec<Value>, String> {
    let _moto = Moto::start()?;
    let limit: u64 = std::env::var("STEPWRIGHT_BENCH_MOTO_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1200);
    let started = Instant::now();
    let mut child = Command::new(tool("python", "python3"))
        .arg(peer.join("sfn_bench.py"))
        .args([kind, &n.to_string(), &reps.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run sfn_bench.py: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
            .collect::<Vec<_>>()
    });
    loop {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(limit) {
            let _ = child.kill();
            let _ = child.wait();
            let rows = reader.join().unwrap_or_default();
            if rows.is_empty() {
                return Err(format!(
                    "timed out: {kind} n={n} did not finish in {limit} s (< {:.1} transitions/s)",
                    (if kind == "map" { 3 * n + 1 } else { 2 * n + 1 }) as f64 / limit as f64
                ));
            }
            return Ok(rows);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let rows = reader.join().unwrap_or_default();
    if rows.is_empty() {
        return Err(format!("sfn_bench.py {kind} {n} produced no result"));
    }
    Ok(rows)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let peer = testkit::conformance_dir()
        .parent()
        .map(|p| p.join("peer-bench"))
        .expect("../shared/peer-bench");
    let map_def = std::fs::read_to_string(peer.join("sfn_map.asl.json")).expect("sfn_map.asl.json");
    let loop_def =
        std::fs::read_to_string(peer.join("sfn_loop.asl.json")).expect("sfn_loop.asl.json");
    let map_input = json!({"items": (0..10_000).map(|i| json!({"v": i})).collect::<Vec<_>>()});
    let loop_input = json!({"counter": 0, "limit": 1000});
    let with_moto = std::env::var("STEPWRIGHT_BENCH_MOTO")
        .map(|v| v != "0")
        .unwrap_or(true);

    println!("load average before: {}", loadavg());
    let mut rows = Vec::new();
    for (kind, def, input, n, reps, moto_reps) in [
        ("map", &map_def, &map_input, 10_000usize, 15usize, 1usize),
        ("loop", &loop_def, &loop_input, 1_000, 50, 3),
    ] {
        let local = match run_local(def, input, reps) {
            Ok(l) => l,
            Err(e) => {
                println!("stepwright-local {kind} n={n}: cannot run: {e}");
                continue;
            }
        };
        let entered = local[0].entered;
        let events = local[0].events;
        let wall = median(local.iter().map(|m| m.wall_s).collect());
        let local_tps = entered as f64 / wall;
        println!(
            "stepwright-local {kind} n={n}: {entered} states entered, {events} history events, median {:.3} ms over {reps} runs -> {:.0} transitions/s",
            wall * 1e3,
            local_tps
        );
        let moto_tps = if with_moto {
            match run_moto(&peer, kind, n, moto_reps) {
                Ok(rs) => {
                    for r in &rs {
                        println!("moto {kind} n={n}: {r}");
                    }
                    let ok: Vec<f64> = rs
                        .iter()
                        .filter(|r| r["status"] == "SUCCEEDED")
                        .filter_map(|r| r["transitions_per_s"].as_f64())
                        .collect();
                    (!ok.is_empty()).then(|| median(ok))
                }
                Err(e) => {
                    println!("moto {kind} n={n}: skipped: {e}");
                    None
                }
            }
        } else {
            None
        };
        rows.push((kind, n, local_tps, moto_tps));
    }
    println!("load average after: {}", loadavg());
    println!();
    println!(
        "| machine | stepwright-local (transitions/s) | moto server (transitions/s) | ratio |"
    );
    println!("|---|---|---|---|");
    for (kind, n, l, m) in &rows {
        match m {
            Some(m) => println!("| {kind} n={n} | {l:.0} | {m:.1} | {:.0}x |", l / m),
            None => println!("| {kind} n={n} | {l:.0} | (not run) | - |"),
        }
    }
}
