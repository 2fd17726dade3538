//! Validator benchmark: every corpus definition (the localstack machines AWS accepted and the
//! asl-validator fixtures) and generated 1,000- and 10,000-state machines, with criterion, then
//! the same definitions through asl-validator 4.0.0 in one warm Node process
//! (tools/asl-validator-bench.js), and a comparison table with the ratios.
//!
//! Run: `cargo bench -p stepwright --bench validate` (needs `node` and `tools/node_modules`,
//! installed by `make setup`; without them the comparison is skipped with a note).
//! `STEPWRIGHT_BENCH_QUICK=1` shortens the criterion runs; `STEPWRIGHT_BENCH_PROFILE=N[:RUNS]`
//! only validates the N-state chain RUNS times (a workload for a profiler).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};
use stepwright::validate::{validate_state_str, validate_str, Options};

/// The allocator the `stepwright` CLI ships with (crates/stepwright-cli/src/main.rs), so that the
/// benchmark measures what `stepwright validate` runs. The library itself uses whatever allocator
/// its caller's binary has; docs/BENCHMARKS.md gives the numbers with glibc's malloc too.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Case {
    name: String,
    text: String,
    /// A single state (TestState) rather than a machine: asl-validator cannot check those.
    single_state: bool,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn conformance() -> PathBuf {
    testkit::conformance_dir()
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") && !p.ends_with("index.json") {
            out.push(p);
        }
    }
}

/// The localstack definitions (AWS accepted all of them) as compact JSON text.
fn corpus() -> Vec<Case> {
    let mut files = Vec::new();
    json_files(&conformance().join("localstack"), &mut files);
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if let Some(d) = v.get("definition") {
            out.push(Case {
                name,
                text: d.to_string(),
                single_state: false,
            });
        } else if let Some(s) = v.get("state_definition") {
            out.push(Case {
                name,
                text: s.to_string(),
                single_state: true,
            });
        }
    }
    out
}

/// A chain of `n` Pass states with a payload template each, and a Choice every 100 states.
fn chain(n: usize) -> String {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let next = format!("S{}", i + 1);
        let s = if i + 1 == n {
            json!({"Type": "Pass", "Parameters": {"i": i, "v.$": "$.v"}, "End": true})
        } else if i % 100 == 99 {
            json!({"Type": "Choice", "Choices": [{"Variable": "$.v", "NumericGreaterThan": 0, "Next": next}], "Default": next})
        } else {
            json!({"Type": "Pass", "Parameters": {"i": i, "v.$": "$.v"}, "ResultPath": "$.r", "Next": next})
        };
        states.insert(format!("S{i}"), s);
    }
    json!({"StartAt": "S0", "States": states}).to_string()
}

fn check(case: &Case, opts: &Options) -> bool {
    if case.single_state {
        validate_state_str(&case.text, opts).is_valid()
    } else {
        validate_str(&case.text, opts).is_valid()
    }
}

/// CPU time of this process in seconds, all its threads (those that have ended too): a large
/// definition is validated on several threads. CPU time does not count the time other
/// processes hold the cores, so it stays meaningful on a loaded box.
fn process_cpu() -> Option<f64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9)
}

/// Mean (wall, CPU) seconds per validation, over at least `min` of wall time and 3 runs.
fn time_ours(case: &Case, opts: &Options, min: Duration) -> (f64, f64) {
    let mut runs = 0u32;
    let cpu0 = process_cpu();
    let start = Instant::now();
    while start.elapsed() < min || runs < 3 {
        std::hint::black_box(check(case, opts));
        runs += 1;
    }
    let wall = start.elapsed().as_secs_f64() / f64::from(runs);
    let cpu = match (cpu0, process_cpu()) {
        (Some(a), Some(b)) => (b - a) / f64::from(runs),
        _ => wall,
    };
    (wall, cpu)
}

/// The median wall and the median CPU time of several measurements.
fn median_pair(v: &[(f64, f64)]) -> (f64, f64) {
    let median = |mut x: Vec<f64>| {
        x.sort_by(f64::total_cmp);
        x[x.len() / 2]
    };
    (
        median(v.iter().map(|p| p.0).collect()),
        median(v.iter().map(|p| p.1).collect()),
    )
}

/// `STEPWRIGHT_BENCH_PROFILE=N[:RUNS[:THREADS]]`: validate the N-state chain RUNS times (default
/// 10) on at most THREADS threads (default: one per core) and print the wall and CPU time per
/// run, nothing else: a short, repeatable workload for a profiler (`valgrind --tool=callgrind`,
/// `perf record`; THREADS=1 for instruction counts of the one-thread work).
fn profile(spec: &str) {
    let mut it = spec.split(':');
    let n: usize = it.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let runs: u32 = it.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let mut opts = Options::default();
    opts.threads = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let text = chain(n);
    let cpu0 = process_cpu().unwrap_or(0.0);
    let start = Instant::now();
    let mut valid = true;
    for _ in 0..runs {
        valid &= std::hint::black_box(validate_str(&text, &opts).is_valid());
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = process_cpu().unwrap_or(0.0) - cpu0;
    let per = |x: f64| x * 1e3 / f64::from(runs.max(1));
    println!(
        "chain-{n}: {runs} runs, {:.3} ms wall, {:.3} ms CPU per run, valid: {valid}",
        per(wall),
        per(cpu)
    );
}

fn main() {
    let quick = std::env::var_os("STEPWRIGHT_BENCH_QUICK").is_some();
    let opts = Options::default();
    if let Ok(spec) = std::env::var("STEPWRIGHT_BENCH_PROFILE") {
        profile(&spec);
        return;
    }
    let corpus = corpus();
    let chains = [(1_000usize, chain(1_000)), (10_000, chain(10_000))];
    let rejected: Vec<&str> = corpus
        .iter()
        .filter(|c| !check(c, &opts))
        .map(|c| c.name.as_str())
        .collect();
    println!(
        "corpus: {} definitions, stepwright rejects {}: {:?}",
        corpus.len(),
        rejected.len(),
        rejected
    );

    let mut c = Criterion::default().configure_from_args();
    if quick {
        c = c
            .sample_size(10)
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(500));
    }
    {
        let mut g = c.benchmark_group("validate");
        g.throughput(Throughput::Elements(corpus.len() as u64));
        g.bench_function("corpus (all definitions)", |b| {
            b.iter(|| corpus.iter().filter(|case| check(case, &opts)).count())
        });
        for (n, text) in &chains {
            g.throughput(Throughput::Elements(*n as u64));
            g.bench_with_input(BenchmarkId::new("chain", n), text, |b, t| {
                b.iter(|| validate_str(t, &opts).is_valid())
            });
        }
        g.finish();
    }
    c.final_summary();

    // ---- the comparison with asl-validator, in the same run ------------------------------------
    let min = Duration::from_millis(if quick { 20 } else { 100 });
    let chain_cases: Vec<Case> = chains
        .iter()
        .map(|(n, t)| Case {
            name: format!("chain-{n}"),
            text: t.clone(),
            single_state: false,
        })
        .collect();
    // Seven interleaved rounds per chain, the median of each: one round can land on a moment
    // when the 2-core machine is busy elsewhere.
    // Each chain on as many threads as there are cores (the default) and on one thread.
    let mut one_thread = Options::default();
    one_thread.threads = 1;
    let mut rounds: Vec<Vec<(f64, f64)>> = vec![Vec::new(); chain_cases.len()];
    let mut rounds_one: Vec<Vec<(f64, f64)>> = vec![Vec::new(); chain_cases.len()];
    for _ in 0..7 {
        for ((c, r), r1) in chain_cases.iter().zip(&mut rounds).zip(&mut rounds_one) {
            r.push(time_ours(c, &opts, min * 2));
            r1.push(time_ours(c, &one_thread, min * 2));
        }
    }
    let ours_chain: Vec<(f64, f64)> = rounds.iter().map(|r| median_pair(r)).collect();
    let ours_one: Vec<(f64, f64)> = rounds_one.iter().map(|r| median_pair(r)).collect();
    let all: Vec<(f64, f64)> = corpus.iter().map(|c| time_ours(c, &opts, min)).collect();
    let mean = |v: &[(f64, f64)]| {
        let n = v.len().max(1) as f64;
        (
            v.iter().map(|x| x.0).sum::<f64>() / n,
            v.iter().map(|x| x.1).sum::<f64>() / n,
        )
    };
    let (w, cpu) = mean(&all);
    println!(
        "\nstepwright: {:.1} µs wall, {:.1} µs CPU per corpus definition ({} definitions)",
        w * 1e6,
        cpu * 1e6,
        all.len()
    );
    for ((c, (w, cpu)), (w1, cpu1)) in chain_cases.iter().zip(&ours_chain).zip(&ours_one) {
        println!(
            "stepwright: {:.2} ms wall, {:.2} ms CPU for {} ({:.2} ms wall, {:.2} ms CPU on one thread)",
            w * 1e3,
            cpu * 1e3,
            c.name,
            w1 * 1e3,
            cpu1 * 1e3
        );
    }
    println!(
        "stepwright: 10x the states costs {:.2}x the CPU time ({:.2}x wall)",
        ours_chain[1].1 / ours_chain[0].1,
        ours_chain[1].0 / ours_chain[0].0
    );

    let tools = workspace_root().join("tools");
    if !tools.join("node_modules/asl-validator").is_dir() {
        println!(
            "\nasl-validator: tools/node_modules is missing (run `make setup`); comparison skipped"
        );
        return;
    }
    // asl-validator takes whole machines only: the test_state cases are ours alone.
    let machines: Vec<(usize, &Case)> = corpus
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.single_state)
        .collect();
    let mut payload: Vec<Value> = machines
        .iter()
        .map(|(_, c)| json!({"name": c.name, "definition": serde_json::from_str::<Value>(&c.text).unwrap()}))
        .collect();
    for c in &chain_cases {
        payload.push(
            json!({"name": c.name, "definition": serde_json::from_str::<Value>(&c.text).unwrap()}),
        );
    }
    let cases_file = std::env::temp_dir().join(format!(
        "stepwright-bench-cases-{}.json",
        std::process::id()
    ));
    std::fs::write(&cases_file, serde_json::to_string(&payload).unwrap()).unwrap();
    let node_min = if quick { "0" } else { "0.05" };
    let out = Command::new("node")
        .arg(tools.join("asl-validator-bench.js"))
        .arg(&cases_file)
        .arg(node_min)
        .output();
    let _ = std::fs::remove_file(&cases_file);
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            println!(
                "\nasl-validator: the node script failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            return;
        }
        Err(e) => {
            println!("\nasl-validator: cannot run node ({e}); comparison skipped");
            return;
        }
    };
    let doc: Value = serde_json::from_slice(&out.stdout).expect("the node script prints JSON");
    let results = doc["results"].as_array().unwrap();
    let theirs = |name: &str| {
        let r = results.iter().find(|r| r["name"] == name);
        let f = |k: &str| r.and_then(|r| r[k].as_f64()).unwrap_or(f64::NAN);
        (f("seconds_per_run"), f("cpu_seconds_per_run"))
    };
    let ours_m: Vec<(f64, f64)> = machines.iter().map(|(i, _)| all[*i]).collect();
    let theirs_m: Vec<(f64, f64)> = machines.iter().map(|(_, c)| theirs(&c.name)).collect();
    let (ow, oc) = mean(&ours_m);
    let (tw, tc) = mean(&theirs_m);
    let false_rejections: Vec<String> = results
        .iter()
        .filter(|r| r["valid"] == false && !r["name"].as_str().unwrap_or("").starts_with("chain-"))
        .map(|r| {
            format!(
                "{} ({})",
                r["name"].as_str().unwrap_or(""),
                r["errors"][0].as_str().unwrap_or("")
            )
        })
        .collect();
    println!(
        "\n== stepwright vs asl-validator {} (one warm Node process) ==",
        doc["version"].as_str().unwrap_or("?")
    );
    println!(
        "corpus ({} machines), per definition: stepwright {:.1} µs CPU ({:.1} µs wall), asl-validator {:.2} ms CPU ({:.2} ms wall): {:.0}x less CPU ({:.0}x wall)",
        machines.len(), oc * 1e6, ow * 1e6, tc * 1e3, tw * 1e3, tc / oc, tw / ow
    );
    for ((c, (w, cpu)), (w1, cpu1)) in chain_cases.iter().zip(&ours_chain).zip(&ours_one) {
        let (tw, tc) = theirs(&c.name);
        println!(
            "{}: stepwright {:.2} ms CPU ({:.2} ms wall), asl-validator {:.0} ms CPU ({:.0} ms wall): {:.0}x less CPU ({:.0}x wall)",
            c.name, cpu * 1e3, w * 1e3, tc * 1e3, tw * 1e3, tc / cpu, tw / w
        );
        println!(
            "{} on one thread: stepwright {:.2} ms CPU ({:.2} ms wall): {:.0}x less CPU ({:.0}x wall)",
            c.name, cpu1 * 1e3, w1 * 1e3, tc / cpu1, tw / w1
        );
    }
    let (t1, t10) = (theirs("chain-1000"), theirs("chain-10000"));
    println!(
        "scaling 1,000 -> 10,000 states (CPU): stepwright {:.2}x, asl-validator {:.2}x",
        ours_chain[1].1 / ours_chain[0].1,
        t10.1 / t1.1
    );
    println!(
        "AWS-accepted corpus definitions rejected: stepwright {}, asl-validator {}",
        rejected.len(),
        false_rejections.len()
    );
    for f in &false_rejections {
        println!("  asl-validator rejects {f}");
    }
}
