//! Evaluates one expression many times against a typical Step Functions state (for profiling):
//! `cargo run --profile bench --example timing -- 'expr' [iterations]`.
use serde_json::{json, Value};
use std::time::Instant;

fn main() {
    let src = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "$states.input.items".into());
    let n: u32 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let items: Vec<Value> = (0..50)
        .map(|i| json!({"id": format!("item-{i}"), "price": i, "name": format!("n{i}")}))
        .collect();
    let mut env = stepwright_jsonata::Environment::new();
    env.bind(
        "states",
        json!({"input": {"items": items, "one": {"a": 1}}}),
    );
    let e = match stepwright_jsonata::parse(&src) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{}: {}", e.code, e.message);
            std::process::exit(1);
        }
    };
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(e.evaluate(None, &env).ok());
    }
    println!("{src}: {:?} per evaluation", t.elapsed() / n.max(1));
}
