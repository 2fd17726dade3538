//! Parse and evaluate typical Step Functions expressions.
//!
//! `cargo bench -p stepwright-jsonata --bench jsonata`

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use stepwright_jsonata::{parse, Environment};

const EXPRS: &[(&str, &str)] = &[
    (
        "filter_project",
        r#"$states.input.items[price > 10].{"id": id}"#,
    ),
    ("sum", "$sum($states.input.x)"),
    ("field", "$states.input.detail.status"),
    (
        "object",
        r#"{"total": $sum($states.input.items.price), "count": $count($states.input.items), "ids": $states.input.items.id}"#,
    ),
    (
        "condition",
        r#"$states.input.detail.status = "FAILED" ? "retry" : "done""#,
    ),
];

fn states() -> Value {
    let items: Vec<Value> = (0..50)
        .map(|i| json!({"id": format!("item-{i}"), "price": i, "name": format!("n{i}")}))
        .collect();
    let x: Vec<Value> = (0..100).map(|i| json!(i as f64 * 1.5)).collect();
    json!({"input": {"items": items, "x": x, "detail": {"status": "FAILED"}}})
}

fn bench(c: &mut Criterion) {
    let mut env = Environment::new().with_seed(1);
    env.bind("states", states());
    for (name, src) in EXPRS {
        c.bench_function(&format!("parse/{name}"), |b| {
            b.iter(|| parse(std::hint::black_box(src)).expect("parses"))
        });
        let e = parse(src).expect("parses");
        c.bench_function(&format!("evaluate/{name}"), |b| {
            b.iter(|| e.evaluate(None, &env).expect("evaluates"))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
