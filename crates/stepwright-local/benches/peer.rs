//! Peer benchmark: the machines of ../shared/peer-bench on this runner and on moto server's
//! Step Functions interpreter, in the same run, reporting state transitions per second (states
//! entered / wall time, as `sfn_bench.py` counts them) and the ratio.
//!
//! ```text
//! cargo bench -p stepwright-local --bench peer
//! STEPWRIGHT_BENCH_MOTO=0 cargo bench -p stepwright-local --bench peer   # skip moto
//! STEPWRIGHT_BENCH_MAP_ITEMS=1000 STEPWRIGHT_BENCH_LOOP_ROUNDS=100 cargo bench -p stepwright-local --bench peer
//! ```
//!
//! Sizes default to the peer README's (Map of 10,000 items, loop of 1,000 rounds). moto 5.2.1
//! runs one execution per server in execute mode (a second `StartExecution` fails with HTTP
//! 500), so each moto repetition gets a fresh server.
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
    /// CPU time of the running thread, when available.
    cpu_s: Option<f64>,
    entered: usize,
    events: usize,
}

/// CPU time this thread has run, in seconds (`CLOCK_THREAD_CPUTIME_ID`).
fn thread_cpu_s() -> Option<f64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given, which lives on this stack.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9)
}

/// User + system CPU time of process `pid` and all its threads, in seconds (`/proc/PID/stat`,
/// clock ticks of 1/100 s).
fn process_cpu_s(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
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
    // CPU time is taken over all repetitions and shared out evenly.
    let c0 = thread_cpu_s();
    let mut runs: Vec<Measure> = (0..reps)
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
                cpu_s: None,
                entered,
                events: exec.history.len(),
            }
        })
        .collect();
    let per_run = c0
        .zip(thread_cpu_s())
        .map(|(a, b)| (b - a) / reps.max(1) as f64);
    for m in &mut runs {
        m.cpu_s = per_run;
    }
    Ok(runs)
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
    let mut rows = Vec::new();
    for _ in 0..reps {
        rows.extend(run_moto_once(peer, kind, n)?);
    }
    Ok(rows)
}

/// One repetition on a fresh moto server.
fn run_moto_once(peer: &Path, kind: &str, n: usize) -> Result<Vec<Value>, String> {
    let reps = 1;
    let moto = Moto::start()?;
    let cpu_before = process_cpu_s(moto.child.id());
    let limit: u64 = std::env::var("STEPWRIGHT_BENCH_MOTO_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1200);
    let started = Instant::now();
    let mut child = Command::new(tool("python", "python3"))
        .arg(peer.join("sfn_bench.py"))
        .args([kind, &n.to_string(), &reps.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run sfn_bench.py: {e}"))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let errors = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .filter(|l| !l.trim().is_empty())
            .last()
            .unwrap_or_default()
    });
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
    let mut rows = reader.join().unwrap_or_default();
    if rows.is_empty() {
        let last = errors.join().unwrap_or_default();
        return Err(format!(
            "sfn_bench.py {kind} {n} produced no result: {last}"
        ));
    }
    // the server's CPU time over the run (it also answers the 20 ms status polls)
    if let (Some(a), Some(b)) = (cpu_before, process_cpu_s(moto.child.id())) {
        for r in &mut rows {
            r["server_cpu_s"] = json!(b - a);
            if let Some(entered) = r["state_entered"].as_f64() {
                r["transitions_per_cpu_s"] = json!(entered / (b - a).max(0.01));
            }
        }
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
    let size = |var: &str, default: usize| -> usize {
        std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(default)
    };
    let map_items = size("STEPWRIGHT_BENCH_MAP_ITEMS", 10_000);
    let loop_rounds = size("STEPWRIGHT_BENCH_LOOP_ROUNDS", 1_000);
    let map_input = json!({"items": (0..map_items).map(|i| json!({"v": i})).collect::<Vec<_>>()});
    let loop_input = json!({"counter": 0, "limit": loop_rounds});
    let with_moto = std::env::var("STEPWRIGHT_BENCH_MOTO")
        .map(|v| v != "0")
        .unwrap_or(true);

    println!("load average before: {}", loadavg());
    let mut rows = Vec::new();
    for (kind, def, input, n, reps, moto_reps) in [
        ("map", &map_def, &map_input, map_items, 15usize, 1usize),
        ("loop", &loop_def, &loop_input, loop_rounds, 50, 3),
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
        let cpus: Vec<f64> = local.iter().filter_map(|m| m.cpu_s).collect();
        let local_cpu_tps = (!cpus.is_empty()).then(|| entered as f64 / median(cpus).max(1e-9));
        println!(
            "stepwright-local {kind} n={n}: {entered} states entered, {events} history events, median {:.3} ms over {reps} runs -> {:.0} transitions/s ({} transitions per CPU-second)",
            wall * 1e3,
            local_tps,
            local_cpu_tps.map_or("?".into(), |t| format!("{t:.0}"))
        );
        let moto_tps = if with_moto {
            match run_moto(&peer, kind, n, moto_reps) {
                Ok(rs) => {
                    for r in &rs {
                        println!("moto {kind} n={n}: {r}");
                    }
                    let ok = |field: &str| -> Option<f64> {
                        let v: Vec<f64> = rs
                            .iter()
                            .filter(|r| r["status"] == "SUCCEEDED")
                            .filter_map(|r| r[field].as_f64())
                            .collect();
                        (!v.is_empty()).then(|| median(v))
                    };
                    ok("transitions_per_s").map(|w| (w, ok("transitions_per_cpu_s")))
                }
                Err(e) => {
                    println!("moto {kind} n={n}: skipped: {e}");
                    None
                }
            }
        } else {
            None
        };
        rows.push((kind, n, local_tps, local_cpu_tps, moto_tps));
    }
    println!("load average after: {}", loadavg());
    println!();
    println!(
        "| machine | stepwright-local transitions/s (per CPU-s) | moto server transitions/s (per CPU-s) | ratio wall | ratio CPU |"
    );
    println!("|---|---|---|---|---|");
    let show = |t: Option<f64>| t.map_or("?".to_owned(), |t| format!("{t:.0}"));
    for (kind, n, l, lc, m) in &rows {
        match m {
            Some((m, mc)) => println!(
                "| {kind} n={n} | {l:.0} ({}) | {m:.1} ({}) | {:.0}x | {} |",
                show(*lc),
                show(*mc),
                l / m,
                lc.zip(*mc)
                    .map_or("?".to_owned(), |(a, b)| format!("{:.0}x", a / b))
            ),
            None => println!(
                "| {kind} n={n} | {l:.0} ({}) | (not run) | - | - |",
                show(*lc)
            ),
        }
    }
}
