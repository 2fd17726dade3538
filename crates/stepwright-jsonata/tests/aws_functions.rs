//! The functions AWS Step Functions adds to JSONata.

use serde_json::{json, Value};
use stepwright_jsonata::{parse, Environment};

fn eval(src: &str) -> Option<Value> {
    parse(src)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .evaluate(None, &Environment::new().with_seed(42))
        .unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn eval_err(src: &str) -> String {
    match parse(src) {
        Err(e) => e.code.to_string(),
        Ok(x) => match x.evaluate(None, &Environment::new()) {
            Err(e) => e.code.to_string(),
            Ok(v) => panic!("{src}: expected an error, got {v:?}"),
        },
    }
}

#[test]
fn partition_chunks_with_a_shorter_last_chunk() {
    assert_eq!(
        eval("$partition([1,2,3,4,5,6,7,8,9], 4)"),
        Some(json!([[1, 2, 3, 4], [5, 6, 7, 8], [9]]))
    );
    assert_eq!(eval("$partition([0], 1)"), Some(json!([[0]])));
    assert_eq!(eval("$partition([0, 1, 2], 5)"), Some(json!([[0, 1, 2]])));
    assert_eq!(eval("$partition([], 2)"), Some(json!([])));
}

#[test]
fn partition_rejects_bad_sizes() {
    assert_eq!(eval_err("$partition([1,2], 0)"), "D3150");
    assert_eq!(eval_err("$partition([1,2], -1)"), "D3150");
    assert_eq!(eval_err("$partition([1,2], 1.5)"), "D3150");
    assert_eq!(eval_err("$partition([1,2], 'a')"), "T0410");
}

#[test]
fn range_is_inclusive_and_a_sequence() {
    assert_eq!(eval("$range(0, 10, 2)"), Some(json!([0, 2, 4, 6, 8, 10])));
    assert_eq!(eval("$range(0, 10, 3)"), Some(json!([0, 3, 6, 9])));
    assert_eq!(eval("$range(10, 0, -5)"), Some(json!([10, 5, 0])));
    // a single value collapses, as AWS returns it
    assert_eq!(eval("$range(1, 9, 9)"), Some(json!(1)));
    assert_eq!(eval("$range(5, 1, 1)"), None);
    assert_eq!(eval_err("$range(0, 10, 0)"), "D3151");
}

#[test]
fn hash_supports_the_five_algorithms() {
    assert_eq!(
        eval("$hash('abc', 'MD5')"),
        Some(json!("900150983cd24fb0d6963f7d28e17f72"))
    );
    assert_eq!(
        eval("$hash('abc', 'SHA-1')"),
        Some(json!("a9993e364706816aba3e25717850c26c9cd0d89d"))
    );
    assert_eq!(
        eval("$hash('abc', 'SHA-256')"),
        Some(json!(
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        ))
    );
    assert_eq!(
        eval("$hash('abc', 'SHA-384')"),
        Some(json!("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"))
    );
    assert_eq!(
        eval("$hash('abc', 'SHA-512')"),
        Some(json!("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"))
    );
    assert_eq!(eval_err("$hash('abc', 'SHA-3')"), "D3152");
    assert_eq!(eval_err("$hash(1, 'MD5')"), "T0410");
}

#[test]
fn random_with_a_seed_is_deterministic() {
    let a = eval("$random(7)").and_then(|v| v.as_f64()).expect("number");
    let b = eval("$random(7)").and_then(|v| v.as_f64()).expect("number");
    let c = eval("$random(8)").and_then(|v| v.as_f64()).expect("number");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!((0.0..1.0).contains(&a));
    let r = eval("$random()").and_then(|v| v.as_f64()).expect("number");
    assert!((0.0..1.0).contains(&r));
}

#[test]
fn uuid_is_version_4() {
    let u = eval("$uuid()").expect("a uuid");
    let s = u.as_str().expect("string");
    assert_eq!(s.len(), 36);
    let parts: Vec<&str> = s.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        vec![8, 4, 4, 4, 12]
    );
    assert!(parts[2].starts_with('4'));
    assert!(matches!(
        parts[3].chars().next(),
        Some('8' | '9' | 'a' | 'b')
    ));
    assert_ne!(eval("[$uuid(), $uuid()]").map(|v| v[0] == v[1]), Some(true));
}

#[test]
fn parse_deserialises_json_text() {
    assert_eq!(
        eval(r#"$parse('{"Arg1": 1, "Arg2": []}')"#),
        Some(json!({"Arg1": 1, "Arg2": []}))
    );
    assert_eq!(
        eval("$parse('[1, 2, \"HelloWorld\"]')"),
        Some(json!([1, 2, "HelloWorld"]))
    );
    assert_eq!(eval("$parse('-0')"), Some(json!(0)));
    assert_eq!(eval("$parse('1.1')"), Some(json!(1.1)));
    assert_eq!(eval("$parse('true')"), Some(json!(true)));
    assert_eq!(eval_err("$parse('{nope')"), "D3153");
}

#[test]
fn eval_is_not_available() {
    assert_eq!(eval_err("$eval('1 + 1')"), "T1006");
}
