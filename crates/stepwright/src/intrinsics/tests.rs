use serde_json::json;

use super::*;

fn run(expr: &str, input: Value) -> Result<Value, IntrinsicError> {
    Call::parse(expr)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .evaluate(&Env::new(&input))
}

fn ok(expr: &str, input: Value) -> Value {
    run(expr, input).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

fn invalid(expr: &str, input: Value) {
    let e = run(expr, input).expect_err(expr);
    assert_eq!(e.error(), "States.Runtime");
    let name = expr.split('(').next().unwrap_or("");
    assert_eq!(e.detail(), format!("Invalid arguments in {name}"), "{expr}");
    assert_eq!(
        e.cause(),
        format!("The function '{expr}' had the following error: Invalid arguments in {name}")
    );
}

#[test]
fn format() {
    assert_eq!(
        ok("States.Format('Hello, {}!', $.n)", json!({"n": "Ada"})),
        json!("Hello, Ada!")
    );
    assert_eq!(
        ok("States.Format('{} {} {}', 'x', 2, true)", json!({})),
        json!("x 2 true")
    );
    assert_eq!(
        ok("States.Format('no placeholders')", json!({})),
        json!("no placeholders")
    );
    assert_eq!(
        ok("States.Format($.t, 1)", json!({"t": "n={}"})),
        json!("n=1")
    );
    assert_eq!(
        ok(
            "States.Format('{}|{}|{}', $.o, $.a, $.z)",
            json!({"o": {"Arg1": 1, "Arg2": []}, "a": [1, "x", null], "z": null})
        ),
        json!("{Arg1=1, Arg2=[]}|[1, x, null]|null")
    );
    assert_eq!(
        ok(r"States.Format('\{\} {} \'q\' \\', 1)", json!({})),
        json!("{} 1 'q' \\")
    );
    invalid("States.Format('{} {}', 1)", json!({}));
    invalid("States.Format('{}', 1, 2)", json!({}));
    invalid("States.Format('Hello {', 1)", json!({}));
    invalid("States.Format('}')", json!({}));
    invalid("States.Format('Hello {{}}', 1)", json!({}));
    invalid("States.Format($.t, 1)", json!({"t": 123}));
}

#[test]
fn json_conversions() {
    assert_eq!(
        ok("States.StringToJson($.s)", json!({"s": "{\"a\": [1]}"})),
        json!({"a": [1]})
    );
    assert_eq!(
        ok("States.StringToJson($.s)", json!({"s": "  "})),
        Value::Null
    );
    assert_eq!(ok("States.StringToJson($.s)", json!({"s": "-0"})), json!(0));
    invalid("States.StringToJson($.s)", json!({"s": "{oops"}));
    invalid("States.StringToJson(1)", json!({}));
    assert_eq!(
        ok("States.JsonToString($)", json!({"a": [1, "x"]})),
        json!("{\"a\":[1,\"x\"]}")
    );
    assert_eq!(
        ok("States.JsonToString($.n)", json!({"n": null})),
        json!("null")
    );
    assert_eq!(
        ok(
            "States.JsonMerge($.a, $.b, false)",
            json!({"a": {"x": 1, "y": {"k": 1}}, "b": {"y": {"j": 2}, "z": 3}})
        ),
        json!({"x": 1, "y": {"j": 2}, "z": 3})
    );
    invalid(
        "States.JsonMerge($.a, $.b, true)",
        json!({"a": {}, "b": {}}),
    );
    invalid(
        "States.JsonMerge($.a, $.b, false)",
        json!({"a": {}, "b": []}),
    );
}

#[test]
fn arrays() {
    assert_eq!(ok("States.Array()", json!({})), json!([]));
    assert_eq!(
        ok("States.Array(1, 'a', $.x, null)", json!({"x": [true]})),
        json!([1, "a", [true], null])
    );
    assert_eq!(
        ok("States.ArrayPartition($.a, 2)", json!({"a": [1, 2, 3]})),
        json!([[1, 2], [3]])
    );
    assert_eq!(
        ok("States.ArrayPartition($.a, 2.9)", json!({"a": [1, 2, 3]})),
        json!([[1, 2], [3]])
    );
    invalid("States.ArrayPartition($.a, 0.49)", json!({"a": [1]}));
    invalid("States.ArrayPartition($.a, 1)", json!({"a": "x"}));
    assert_eq!(
        ok(
            "States.ArrayContains($.a, $.v)",
            json!({"a": [1, {"b": [2]}], "v": {"b": [2.0]}})
        ),
        json!(true)
    );
    assert_eq!(
        ok("States.ArrayContains($.a, 3)", json!({"a": [1]})),
        json!(false)
    );
    assert_eq!(
        ok("States.ArrayRange(1, 9, 2)", json!({})),
        json!([1, 3, 5, 7, 9])
    );
    assert_eq!(
        ok("States.ArrayRange(5, 1, -2)", json!({})),
        json!([5, 3, 1])
    );
    assert_eq!(ok("States.ArrayRange(5, 1, 1)", json!({})), json!([]));
    assert_eq!(
        ok("States.ArrayRange(5.4, -0.6, -2.4)", json!({})),
        json!([5, 3, 1])
    );
    assert_eq!(
        ok("States.ArrayRange(1, 1000, 1)", json!({}))
            .as_array()
            .map(Vec::len),
        Some(1000)
    );
    invalid("States.ArrayRange(1, 1001, 1)", json!({}));
    invalid("States.ArrayRange(1, 10, 0.49)", json!({}));
    invalid("States.ArrayRange('a', 5, 1)", json!({}));
    invalid("States.ArrayRange(1, 5)", json!({}));
    assert_eq!(
        ok("States.ArrayGetItem($.a, 1.2)", json!({"a": [10, 20, 30]})),
        json!(20)
    );
    assert_eq!(
        ok("States.ArrayGetItem($.a, 999)", json!({"a": []})),
        Value::Null
    );
    invalid("States.ArrayGetItem($.a, 3)", json!({"a": [10, 20, 30]}));
    invalid("States.ArrayGetItem($.a, -1)", json!({"a": [10, 20, 30]}));
    invalid("States.ArrayGetItem('x', 0)", json!({}));
    assert_eq!(
        ok("States.ArrayLength($.a)", json!({"a": [1, 2]})),
        json!(2)
    );
    invalid("States.ArrayLength($.a)", json!({"a": {}}));
    assert_eq!(
        ok(
            "States.ArrayUnique($.a)",
            json!({"a": [1, 2, 1, 1.0, "1", [1], [1]]})
        ),
        json!([1, 2, "1", [1]])
    );
}

#[test]
fn encoding_and_hashing() {
    assert_eq!(
        ok("States.Base64Encode('Data to encode')", json!({})),
        json!("RGF0YSB0byBlbmNvZGU=")
    );
    assert_eq!(
        ok("States.Base64Decode($.s)", json!({"s": "4pyT"})),
        json!("✓")
    );
    assert_eq!(
        ok("States.Base64Decode(States.Base64Encode('hé'))", json!({})),
        json!("hé")
    );
    invalid("States.Base64Decode(123)", json!({}));
    let long = "A".repeat(10_001);
    invalid("States.Base64Decode($.s)", json!({ "s": long }));
    invalid("States.Base64Encode($.s)", json!({ "s": long }));
    assert_eq!(
        ok("States.Hash('input data', 'SHA-256')", json!({})),
        json!("b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3")
    );
    invalid("States.Hash('x', 'sha-256')", json!({}));
    invalid("States.Hash($.s, 'MD5')", json!({ "s": long }));
}

#[test]
fn math() {
    for (a, b, sum) in [
        (1.5, 0.0, 2),
        (-1.5, 0.0, -1),
        (2.5, 0.0, 3),
        (-0.5, 0.5, 1),
        (-1.49, -1.5, -2),
    ] {
        assert_eq!(
            ok("States.MathAdd($.a, $.b)", json!({"a": a, "b": b})),
            json!(sum),
            "{a} + {b}"
        );
    }
    assert_eq!(
        ok("States.MathAdd(2147483646, 1)", json!({})),
        json!(2147483647)
    );
    invalid("States.MathAdd(2147483647, 1)", json!({}));
    invalid("States.MathAdd('1', 1)", json!({}));
    // A seed makes the draw deterministic; the range is [start, end).
    let a = ok("States.MathRandom(0, 999, 3)", json!({}));
    assert_eq!(a, ok("States.MathRandom(0, 999, 3)", json!({})));
    assert_eq!(a, json!(239));
    for _ in 0..50 {
        let v = ok("States.MathRandom(1.6, 5.4)", json!({}))
            .as_i64()
            .unwrap_or(-1);
        assert!((1..5).contains(&v));
    }
    invalid("States.MathRandom(1, 1)", json!({}));
    invalid("States.MathRandom(10, 5)", json!({}));
    invalid("States.MathRandom(1, 10, null)", json!({}));
    invalid("States.MathRandom(1)", json!({}));
}

#[test]
fn random_draws_come_from_the_callers_source() {
    let input = json!({});
    let rng = SeededRandom::new(99);
    let env = Env::new(&input).with_random(&rng);
    let call = Call::parse("States.MathRandom(0, 1000000)").unwrap();
    let first: Vec<Value> = (0..5).map(|_| call.evaluate(&env).unwrap()).collect();
    let rng2 = SeededRandom::new(99);
    let env2 = Env::new(&input).with_random(&rng2);
    let second: Vec<Value> = (0..5).map(|_| call.evaluate(&env2).unwrap()).collect();
    assert_eq!(first, second);
    assert!(first.windows(2).any(|w| w[0] != w[1]));
    let uuid = Call::parse("States.UUID()")
        .unwrap()
        .evaluate(&env)
        .unwrap();
    let s = uuid.as_str().unwrap_or("");
    assert_eq!(s.len(), 36);
    assert_eq!(&s[14..15], "4");
    assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"));
}

#[test]
fn string_split() {
    assert_eq!(
        ok("States.StringSplit('1,2,3', ',')", json!({})),
        json!(["1", "2", "3"])
    );
    assert_eq!(
        ok("States.StringSplit(', , ,', ',')", json!({})),
        json!([" ", " "])
    );
    assert_eq!(
        ok("States.StringSplit('This.is+a,test', '.+,')", json!({})),
        json!(["This", "is", "a", "test"])
    );
    assert_eq!(ok("States.StringSplit(',,', ',')", json!({})), json!([]));
    invalid("States.StringSplit(1, ',')", json!({}));
}

#[test]
fn missing_arguments_fail_with_aws_text() {
    let e = run("States.Format('{}', $.nope)", json!({"other": 1})).unwrap_err();
    assert_eq!(
        e.cause(),
        "The function 'States.Format('{}', $.nope)' had the following error: \
         The JsonPath argument for the field '$.nope' could not be found in the input '{\"other\":1}'"
    );
    // The whole expression is named, and the later argument that failed.
    let e = run(
        "States.Format('{} {}', $.other, States.Array($.a.b))",
        json!({"other": 1}),
    )
    .unwrap_err();
    assert!(e
        .cause()
        .starts_with("The function 'States.Format('{} {}', $.other, States.Array($.a.b))'"));
    assert!(e.cause().contains("field '$.a.b'"));
    // An index past the end is a miss here (a plain `.$` path gives null).
    let e = run("States.Format('{}', $.items[5])", json!({"items": [1, 2]})).unwrap_err();
    assert!(e.detail().contains("'$.items[5]'"));
    // `$$` paths are reported as `$` paths.
    let input = json!({"x": 1});
    let ctx = json!({});
    let e = Call::parse("States.Format('{}', $$.Nope.Deep)")
        .unwrap()
        .evaluate(&Env::new(&input).with_context(&ctx))
        .unwrap_err();
    assert!(e
        .detail()
        .starts_with("The JsonPath argument for the field '$.Nope.Deep'"));
    // Indexing a non-array passes Jayway's text through.
    let e = run("States.Format('{}', $.other[0])", json!({"other": 1})).unwrap_err();
    assert_eq!(
        e.detail(),
        "Filter: [0] can only be applied to arrays. Current context is: 1"
    );
    // An explicit null is a value.
    assert_eq!(
        ok("States.Format('{}', $.n)", json!({"n": null})),
        json!("null")
    );
    // A wildcard that matches nothing is an empty array, not a miss.
    assert_eq!(
        ok(
            "States.ArrayLength($.items[*].nope)",
            json!({"items": [1, 2]})
        ),
        json!(0)
    );
}

#[test]
fn nested_calls_and_variables() {
    let input = json!({"arn": "arn:aws:states:us-east-1:1:stateMachine:m-1"});
    assert_eq!(
        ok("States.ArrayGetItem(States.StringSplit($.arn, ':'), States.MathAdd(States.ArrayLength(States.StringSplit($.arn, ':')), -1))", input),
        json!("m-1")
    );
    let mut vars = serde_json::Map::new();
    vars.insert("name".into(), json!("Ada"));
    let input = json!({});
    let env = Env::new(&input).with_variables(&vars);
    assert_eq!(
        Call::parse("States.Format('Hi {}', $name)")
            .unwrap()
            .evaluate(&env)
            .unwrap(),
        json!("Hi Ada")
    );
}

#[test]
fn parse_errors_have_positions() {
    let cases: &[(&str, usize, &str)] = &[
        ("$.x", 0, "must start with 'States.'"),
        (
            "States.Frobnicate(1)",
            0,
            "unknown intrinsic function 'States.Frobnicate'",
        ),
        ("States.format('x')", 0, "did you mean States.Format"),
        ("States.Format", 13, "expected '('"),
        ("States.Format('x'", 17, "expected ',' or ')'"),
        ("States.Format('x", 14, "unterminated string"),
        ("States.Format('a\\nb')", 16, "invalid escape"),
        ("States.Format(\"x\")", 14, "single quotes"),
        ("States.Array(1, , 2)", 16, "expected an argument"),
        ("States.Array(yes)", 13, "unexpected 'yes'"),
        ("States.Array(1) x", 16, "unexpected text"),
        ("States.Array($.a b)", 17, "expected ',' or ')'"),
        ("States.Array($.a[)", 17, "expected a quoted name"),
        ("States.Array(1.2.3)", 13, "not a valid number"),
    ];
    for (text, offset, msg) in cases {
        let err = Call::parse(text).unwrap_err();
        assert_eq!(err.offset, *offset, "offset for {text:?}: {err}");
        assert!(err.message.contains(msg), "message for {text:?}: {err}");
    }
}

#[test]
fn nesting_is_limited_to_ten() {
    let nest = |n: usize| format!("{}1{}", "States.Array(".repeat(n), ")".repeat(n));
    let ten = Call::parse(&nest(10)).unwrap();
    assert_eq!(ten.depth(), 10);
    let err = Call::parse(&nest(11)).unwrap_err();
    assert_eq!(err.offset, 10 * "States.Array(".len());
    assert!(err.message.contains("at most 10"));
    // Very deep input is refused, not a stack overflow.
    assert!(Call::parse(&nest(100_000)).is_err());
}

#[test]
fn check_reports_arity_and_type_problems_are_listed() {
    assert!(check("States.UUID()").is_ok());
    let err = check("States.Array(States.UUID(1))").unwrap_err();
    assert_eq!(err.offset, 13);
    assert_eq!(err.message, "States.UUID takes 0 arguments, but 1 is given");
    assert!(check("States.MathRandom(1, 2, 3, 4)")
        .unwrap_err()
        .message
        .contains("2 to 3 arguments"));
    assert!(check("States.Format()")
        .unwrap_err()
        .message
        .contains("at least 1 argument,"));
    let problems =
        Call::parse("States.ArrayLength(States.Format('x')) ").map(|c| c.type_problems());
    let problems = problems.unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].offset, 19);
    assert!(problems[0].message.contains("must be an array"));
    let p = Call::parse("States.Hash('x', 'SHA256')")
        .unwrap()
        .type_problems();
    assert!(p[0].message.contains("unknown hash algorithm"));
    let p = Call::parse("States.JsonMerge($.a, $.b, true)")
        .unwrap()
        .type_problems();
    assert!(p[0].message.contains("shallow"));
    let p = Call::parse("States.Format('{} {}', 1)")
        .unwrap()
        .type_problems();
    assert!(p[0].message.contains("one {} per value"));
    assert!(Call::parse("States.MathAdd($.a, 1)")
        .unwrap()
        .type_problems()
        .is_empty());
    assert_eq!(Function::ALL.len(), 18);
    for f in Function::ALL {
        assert_eq!(Function::from_name(f.name()), Some(*f));
    }
}
