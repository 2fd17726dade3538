//! Paths starting at a bound variable (`$states.input.x`, walked on the JSON directly) give
//! exactly what the same path gives through the generic evaluator (`$$.input.x`).

use serde_json::json;
use stepwright_jsonata::{parse, Environment};

#[test]
fn bound_variable_paths_match_the_generic_evaluator() {
    let data = json!({
        "input": {
            "a": 1,
            "s": "x",
            "n": null,
            "obj": {"k": [1, 2], "m": {"z": true}},
            "arr": [{"x": 1, "y": [1, 2]}, {"x": 2, "y": [3]}, {"z": 0}],
            "single": [{"x": 5}],
            "nested": [[1, 2], [3, [4, 5]]],
            "empty": [],
            "float": 1.0,
            "floats": [2.0, 2.5, {"f": 3.0}],
            "big": 12345678901234567890u64
        },
        "context": {"Execution": {"Id": "e1"}}
    });
    let mut env = Environment::new();
    env.bind("states", data.clone());
    let paths = [
        "input",
        "input.a",
        "input.s",
        "input.n",
        "input.obj",
        "input.obj.k",
        "input.obj.m.z",
        "input.arr",
        "input.arr.x",
        "input.arr.y",
        "input.arr[0]",
        "input.arr[x > 1]",
        "input.arr.x[0]",
        "input.single",
        "input.single.x",
        "input.single[]",
        "input.nested",
        "input.nested.$",
        "input.empty",
        "input.empty.x",
        "input.missing",
        "input.missing.x",
        "input.a.b",
        "input.obj.*",
        "input.obj.k[1]",
        "input.arr{x: y}",
        "input.arr^(>x)",
        "input.arr#$i.x",
        "input.arr@$e.x",
        "context.Execution.Id",
        "input.(a + 1)",
        "input.float",
        "input.floats",
        "input.big",
        "input.arr.(x * 2)",
    ];
    for p in paths {
        let fast = parse(&format!("$states.{p}")).expect("parses");
        let generic = parse(&format!("$$.{p}")).expect("parses");
        let a = fast.evaluate(None, &env).map_err(|e| e.code);
        let b = generic.evaluate(Some(&data), &env).map_err(|e| e.code);
        assert_eq!(a, b, "$states.{p}");
        // the same text, not only the same value (1.0 prints as 1, as JavaScript does)
        assert_eq!(
            a.map(|v| v.map(|v| v.to_string())),
            b.map(|v| v.map(|v| v.to_string())),
            "$states.{p}"
        );
    }
}

#[test]
fn local_rebinding_shadows_the_environment() {
    let mut env = Environment::new();
    env.bind("states", json!({"input": {"a": 1}}));
    let e = parse(r#"($states := {"input": {"a": 2}}; $states.input.a)"#).expect("parses");
    assert_eq!(e.evaluate(None, &env).unwrap(), Some(json!(2)));
    let e = parse("$states.input.a").expect("parses");
    assert_eq!(e.evaluate(None, &env).unwrap(), Some(json!(1)));
}
