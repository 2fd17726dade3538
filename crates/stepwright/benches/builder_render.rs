//! Builder and renderer throughput: `cargo bench -p stepwright --bench builder_render`.
//!
//! - `build/chain/N`: a machine of N states written with the builder (Tasks with Retry and
//!   Catch, a Choice every 50 states) through `build()` and its checks.
//! - `build/parallel`: 10 Parallel branches of 100 states each.
//! - `render/{mermaid,dot}/N`: drawing the N-state machine.
//! - `render/corpus`: drawing every localstack corpus definition in both formats.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::json;
use stepwright::builder::*;

fn chain(n: usize) -> MachineBuilder {
    let failed = Fail::new("Failed").error("X");
    let mut c: Chain = Pass::new("s0").into_chain();
    let mut i = 1;
    while i < n - 1 {
        if i % 50 == 0 {
            let name = format!("s{i}");
            c = c.next(
                Choice::new(name)
                    .when(
                        Condition::numeric_greater_than("$.n", i),
                        Pass::new(format!("s{}", i + 1)),
                    )
                    .otherwise(format!("s{}", i + 1))
                    .afterwards(),
            );
            i += 2;
        } else {
            c = c.next(
                Task::new(
                    format!("s{i}"),
                    Task::resource("arn:aws:states:::lambda:invoke"),
                )
                .parameters(json!({"FunctionName": "f", "Payload.$": "$"}))
                .retry(Retry::lambda_transient())
                .catch(Catch::all().result_path("$.error"), failed.clone()),
            );
            i += 1;
        }
    }
    StateMachine::builder().start(c.next(Succeed::new("done")))
}

fn parallel() -> MachineBuilder {
    let mut p = Parallel::new("fan").branch(Pass::new("b0_0"));
    for b in 0..10 {
        let mut c: Chain = Pass::new(format!("b{b}_start")).into_chain();
        for k in 1..100 {
            c = c.next(Pass::new(format!("b{b}_{k}")));
        }
        p = p.branch(c);
    }
    StateMachine::builder().start(p)
}

fn corpus() -> Vec<StateMachine> {
    let dir = testkit::conformance_dir().join("localstack");
    testkit::json_files(&dir)
        .iter()
        .filter_map(|p| testkit::read_json(p).get("definition").cloned())
        .filter_map(|d| StateMachine::from_value(&d).ok())
        .collect()
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("build");
    for n in [1_000usize, 10_000] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("chain", n), &n, |b, &n| {
            b.iter_batched(
                || chain(n),
                |m| m.build().unwrap(),
                criterion::BatchSize::LargeInput,
            )
        });
        g.bench_with_input(BenchmarkId::new("chain+builder calls", n), &n, |b, &n| {
            b.iter(|| chain(n).build().unwrap())
        });
    }
    g.bench_function("parallel", |b| b.iter(|| parallel().build().unwrap()));
    g.finish();

    let mut g = c.benchmark_group("render");
    for n in [1_000usize, 10_000] {
        let m = chain(n).build().unwrap();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("mermaid", n), &m, |b, m| {
            b.iter(|| m.to_mermaid())
        });
        g.bench_with_input(BenchmarkId::new("dot", n), &m, |b, m| b.iter(|| m.to_dot()));
    }
    let all = corpus();
    g.throughput(Throughput::Elements(all.len() as u64));
    g.bench_function("corpus", |b| {
        b.iter(|| {
            all.iter()
                .map(|m| m.to_mermaid().len() + m.to_dot().len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
