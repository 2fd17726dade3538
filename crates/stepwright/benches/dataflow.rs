//! The local runner's hot path: JSONPath evaluation, payload templates, intrinsic functions and a
//! whole JSONPath state's data flow.
//!
//! Run: `cargo bench -p stepwright --bench dataflow`. Numbers are recorded in docs/BENCHMARKS.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use stepwright::dataflow::{self, Env, IoPath, PayloadTemplate, ResultPath};
use stepwright::intrinsics::{Call, SeededRandom};
use stepwright::jsonpath::{Path, Roots};

fn order(items: usize) -> Value {
    json!({
        "detail": {
            "orderId": "o-123",
            "customer": {"id": "c-9", "name": "Ada", "tier": "gold"},
            "items": (0..items).map(|i| json!({"sku": format!("sku-{i}"), "price": i % 100, "qty": 1 + i % 3})).collect::<Vec<_>>()
        },
        "meta": {"source": "api", "attempt": 1}
    })
}

fn context() -> Value {
    json!({
        "Execution": {"Id": "arn:aws:states:us-east-1:111111111111:execution:m:e", "Name": "e",
                      "StartTime": "2024-01-01T00:00:00.000Z"},
        "State": {"Name": "Prepare", "EnteredTime": "2024-01-01T00:00:00.000Z"},
        "StateMachine": {"Id": "arn:aws:states:us-east-1:111111111111:stateMachine:m", "Name": "m"}
    })
}

fn paths(c: &mut Criterion) {
    let doc = order(100);
    let roots = Roots::new(&doc);
    let mut g = c.benchmark_group("jsonpath");
    g.bench_function("parse $.detail.items[0].sku", |b| {
        b.iter(|| Path::parse(black_box("$.detail.items[0].sku")))
    });
    g.bench_function("parse filter", |b| {
        b.iter(|| {
            Path::parse(black_box(
                "$.detail.items[?(@.price > 50 && @.qty == 2)].sku",
            ))
        })
    });
    let definite = Path::parse("$.detail.customer.name").unwrap();
    g.bench_function("select definite (borrowed)", |b| {
        b.iter(|| black_box(&definite).select(&roots).map(|_| ()))
    });
    g.bench_function("evaluate definite (owned)", |b| {
        b.iter(|| black_box(&definite).evaluate(&roots))
    });
    let wildcard = Path::parse("$.detail.items[*].price").unwrap();
    g.bench_function("evaluate wildcard over 100 items", |b| {
        b.iter(|| black_box(&wildcard).evaluate(&roots))
    });
    let filter = Path::parse("$.detail.items[?(@.price > 50)].sku").unwrap();
    g.bench_function("evaluate filter over 100 items", |b| {
        b.iter(|| black_box(&filter).evaluate(&roots))
    });
    let scan = Path::parse("$..sku").unwrap();
    g.bench_function("evaluate ..sku over 100 items", |b| {
        b.iter(|| black_box(&scan).evaluate(&roots))
    });
    g.finish();
}

fn templates(c: &mut Criterion) {
    let doc = order(10);
    let ctx = context();
    let rng = SeededRandom::new(1);
    let env = Env::new(&doc).with_context(&ctx).with_random(&rng);
    let template = json!({
        "OrderId.$": "$.detail.orderId",
        "Customer.$": "$.detail.customer",
        "Execution.$": "$$.Execution.Name",
        "Key.$": "States.Format('orders/{}/{}.json', $.detail.customer.id, $.detail.orderId)",
        "Count.$": "States.ArrayLength($.detail.items)",
        "Bucket": "orders",
        "Options": {"Retry": true, "Tier.$": "$.detail.customer.tier"}
    });
    let compiled = PayloadTemplate::compile(&template).unwrap();
    let mut g = c.benchmark_group("payload template");
    g.bench_function("compiled, 7 fields", |b| {
        b.iter(|| compiled.evaluate(black_box(&env)))
    });
    g.bench_function("compile + evaluate, 7 fields", |b| {
        b.iter(|| dataflow::evaluate_payload(black_box(&template), &env))
    });
    let literal = json!({"Bucket": "orders", "Prefix": "in/", "Limits": {"a": 1, "b": [1, 2, 3]}});
    let compiled_literal = PayloadTemplate::compile(&literal).unwrap();
    g.bench_function("compiled, literal only", |b| {
        b.iter(|| compiled_literal.evaluate(black_box(&env)))
    });
    g.finish();

    let mut g = c.benchmark_group("intrinsics");
    let format =
        Call::parse("States.Format('{}-{}', $.detail.orderId, $$.Execution.Name)").unwrap();
    g.bench_function("States.Format", |b| {
        b.iter(|| format.evaluate(black_box(&env)))
    });
    let text = json!({"s": "x".repeat(1000)});
    let env_text = Env::new(&text);
    let hash = Call::parse("States.Hash($.s, 'SHA-256')").unwrap();
    g.bench_function("States.Hash SHA-256 of 1000 chars", |b| {
        b.iter(|| hash.evaluate(black_box(&env_text)))
    });
    let uuid = Call::parse("States.UUID()").unwrap();
    g.bench_function("States.UUID", |b| b.iter(|| uuid.evaluate(black_box(&env))));
    g.finish();
}

fn state(c: &mut Criterion) {
    // A Task-like JSONPath state: InputPath, Parameters, result, ResultSelector, ResultPath,
    // OutputPath, compiled once as the runner does.
    let doc = order(10);
    let ctx = context();
    let rng = SeededRandom::new(1);
    let input_path = IoPath::compile(&Some(Some("$.detail".into()))).unwrap();
    let parameters = PayloadTemplate::compile(&json!({
        "OrderId.$": "$.orderId", "Items.$": "$.items[*].sku", "Run.$": "$$.Execution.Name"
    }))
    .unwrap();
    let selector =
        PayloadTemplate::compile(&json!({"Status.$": "$.status", "Count.$": "$.count"})).unwrap();
    let result_path = ResultPath::compile("$.result").unwrap();
    let output_path = IoPath::compile(&Some(Some("$.result".into()))).unwrap();
    c.bench_function("JSONPath state data flow (6 stages)", |b| {
        b.iter(|| {
            let env = Env::new(&doc).with_context(&ctx).with_random(&rng);
            let effective = input_path.apply(&env).unwrap();
            let params = parameters.evaluate(&env.with_input(&effective)).unwrap();
            let raw = json!({"status": "ok", "count": params["Items"].as_array().map(Vec::len)});
            let selected = selector.evaluate(&env.with_input(&raw)).unwrap();
            let output = result_path.apply(&doc, selected).unwrap();
            black_box(output_path.apply(&env.with_input(&output)).unwrap())
        })
    });
}

criterion_group!(benches, paths, templates, state);
criterion_main!(benches);
