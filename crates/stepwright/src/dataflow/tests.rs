use serde_json::json;

use super::*;

fn p(s: &str) -> NullablePath {
    Some(Some(s.to_string()))
}

#[test]
fn input_and_output_paths() {
    let input = json!({"a": {"b": 1}, "l": [1, 2, 3]});
    let env = Env::new(&input);
    assert_eq!(apply_input_path(&None, &env).unwrap(), input);
    assert_eq!(apply_input_path(&Some(None), &env).unwrap(), json!({}));
    assert_eq!(apply_input_path(&p("$"), &env).unwrap(), input);
    assert_eq!(apply_input_path(&p("$.a"), &env).unwrap(), json!({"b": 1}));
    assert_eq!(
        apply_output_path(&p("$.l[1:]"), &env).unwrap(),
        json!([2, 3])
    );
    assert_eq!(apply_output_path(&Some(None), &env).unwrap(), json!({}));
    let e = apply_output_path(&p("$.NoSuchOutputPath"), &env).unwrap_err();
    assert_eq!(e.error(), "States.Runtime");
    assert_eq!(
        e.cause_in_state("pass", 2),
        "An error occurred while executing the state 'pass' (entered at the event id #2). \
         Invalid path '$.NoSuchOutputPath' : No results for path: $['NoSuchOutputPath']"
    );
    let e = apply_input_path(&p("$.a.x.y"), &env).unwrap_err();
    assert_eq!(
        e.cause(),
        "Invalid path '$.a.x.y' : Missing property in path $['a']['x']"
    );
    let e = apply_input_path(&p("a"), &env).unwrap_err();
    assert!(e
        .cause()
        .starts_with("Invalid path 'a' : a path must start with '$'"));
    // Variables and the context object work in InputPath (localstack assign cases).
    let mut vars = serde_json::Map::new();
    vars.insert("theAnswer".into(), json!(42));
    let ctx = json!({"Execution": {"Name": "x"}});
    let env = env.with_variables(&vars).with_context(&ctx);
    assert_eq!(apply_input_path(&p("$theAnswer"), &env).unwrap(), json!(42));
    assert_eq!(
        apply_input_path(&p("$$.Execution.Name"), &env).unwrap(),
        json!("x")
    );
}

#[test]
fn payload_templates() {
    let input = json!({"id": 7, "items": [{"n": 1}, {"n": 2}], "tpl": "x={}"});
    let ctx = json!({"Map": {"Item": {"Value": "v", "Index": 3}}});
    let mut vars = serde_json::Map::new();
    vars.insert("limit".into(), json!(5));
    let env = Env::new(&input).with_context(&ctx).with_variables(&vars);
    let t = json!({
        "Id.$": "$.id",
        "Ns.$": "$.items[*].n",
        "Item.$": "$$.Map.Item.Value",
        "Limit.$": "$limit",
        "Text.$": "States.Format($.tpl, $$.Map.Item.Index)",
        "Static": {"keep": "$.not-a-path", "deep": [{"v.$": "$.id"}, 1]},
        "Whole.$": "$",
        "Empty": {},
    });
    assert_eq!(
        evaluate_payload(&t, &env).unwrap(),
        json!({
            "Id": 7,
            "Ns": [1, 2],
            "Item": "v",
            "Limit": 5,
            "Text": "x=3",
            "Static": {"keep": "$.not-a-path", "deep": [{"v": 7}, 1]},
            "Whole": input,
            "Empty": {},
        })
    );
    // A non-object template is copied (ItemSelector may be any JSON).
    assert_eq!(
        evaluate_payload(&json!([1, "a"]), &env).unwrap(),
        json!([1, "a"])
    );
    // An index past the end reads as null in a plain `.$` path.
    assert_eq!(
        evaluate_payload(&json!({"v.$": "$.items[9]"}), &env).unwrap(),
        json!({"v": null})
    );
    // Key order is kept.
    let out = evaluate_payload(&json!({"b.$": "$.id", "a": 1}), &env).unwrap();
    assert_eq!(
        out.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["b", "a"]
    );
}

#[test]
fn payload_template_errors() {
    let input = json!({"int-literal": 0});
    let ctx = json!({"Execution": {"Name": "n"}});
    let env = Env::new(&input).with_context(&ctx);
    let e = evaluate_payload(&json!({"value.$": "$.no_such_jsonpath"}), &env).unwrap_err();
    assert_eq!(e.error(), "States.Runtime");
    assert_eq!(
        e.cause(),
        "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"int-literal\":0}'"
    );
    let e = evaluate_payload(&json!({"a": {"value.$": "$$.Execution.Input.x"}}), &env).unwrap_err();
    assert_eq!(
        e.cause(),
        "The JSONPath '$$.Execution.Input.x' specified for the field 'value.$' could not be found in the input '{\"Execution\":{\"Name\":\"n\"}}'"
    );
    let e = evaluate_payload(&json!({"a.$": ["$.x"]}), &env).unwrap_err();
    assert_eq!(
        e.cause(),
        "The value for the field 'a.$' must be a STRING that contains a JSONPath but was an ARRAY"
    );
    let e = evaluate_payload(&json!({"a.$": "hello"}), &env).unwrap_err();
    assert!(e
        .cause()
        .contains("must be a valid JSONPath or a valid intrinsic function call"));
    let e = evaluate_payload(&json!({"a.$": "States.Nope()"}), &env).unwrap_err();
    assert!(e.cause().contains("unknown intrinsic function"));
    let e =
        evaluate_payload(&json!({"a.$": "States.MathAdd($.int-literal, 'x')"}), &env).unwrap_err();
    assert_eq!(
        e.cause(),
        "The function 'States.MathAdd($.int-literal, 'x')' had the following error: Invalid arguments in States.MathAdd"
    );
    // A key that is only ".$" is an ordinary key.
    assert_eq!(
        evaluate_payload(&json!({".$": "$.x"}), &env).unwrap(),
        json!({".$": "$.x"})
    );
}

#[test]
fn compiled_templates_evaluate_repeatedly() {
    let t = PayloadTemplate::compile(&json!({"x.$": "$.x"})).unwrap();
    for i in 0..3 {
        let input = json!({ "x": i });
        assert_eq!(t.evaluate(&Env::new(&input)).unwrap(), json!({ "x": i }));
    }
    assert!(PayloadTemplate::compile(&json!({"x.$": 1})).is_err());
}

#[test]
fn result_path() {
    let input = json!({"a": {"keep": 1}, "arr": [1, 2], "s": "t"});
    let r = json!({"r": true});
    assert_eq!(apply_result_path(&input, r.clone(), &None).unwrap(), r);
    assert_eq!(apply_result_path(&input, r.clone(), &p("$")).unwrap(), r);
    assert_eq!(
        apply_result_path(&input, r.clone(), &Some(None)).unwrap(),
        input
    );
    assert_eq!(
        apply_result_path(&input, json!(1), &p("$.a.keep")).unwrap(),
        json!({"a": {"keep": 1}, "arr": [1, 2], "s": "t"})
    );
    assert_eq!(
        apply_result_path(&input, json!(9), &p("$.x.y['z w']")).unwrap()["x"],
        json!({"y": {"z w": 9}})
    );
    assert_eq!(
        apply_result_path(&input, json!(9), &p("$.arr[-1]")).unwrap()["arr"],
        json!([1, 9])
    );
    assert_eq!(
        apply_result_path(&input, json!(9), &p("$.arr[0]")).unwrap()["arr"],
        json!([9, 2])
    );
    for bad in ["$.s.x", "$.arr[5]", "$.a[0]", "$.arr.x"] {
        let e = apply_result_path(&input, json!(9), &p(bad)).unwrap_err();
        assert_eq!(e.error(), "States.ResultPathMatchFailure", "{bad}");
        assert!(e
            .cause()
            .starts_with(&format!("Unable to apply ResultPath '{bad}' to input")));
    }
    let e = apply_result_path(&json!(42), json!(1), &p("$.x")).unwrap_err();
    assert_eq!(
        e.cause(),
        "Unable to apply ResultPath '$.x' to input '42': $ is not an object"
    );
    // ResultPath is a reference path on the input: no wildcards, no context, no variables.
    for bad in ["$.a[*]", "$$.x", "$v.x", "x"] {
        assert_eq!(
            apply_result_path(&input, json!(1), &p(bad))
                .unwrap_err()
                .error(),
            "States.Runtime"
        );
    }
    // The localstack map case: ResultPath $.arr on {} creates the member.
    assert_eq!(
        apply_result_path(&json!({}), json!([1, "Hello"]), &p("$.arr")).unwrap(),
        json!({"arr": [1, "Hello"]})
    );
}

#[test]
fn assign_and_fields() {
    let input = json!({"answer": 42, "input": "PENDING"});
    let env = Env::new(&input);
    let assign = json!({"theAnswer.$": "$.answer", "result": "SUCCESS", "nested": {"x.$": "$.input"}, "n.$": "States.MathAdd($.answer, 1)"});
    let vars = evaluate_assign(assign.as_object().unwrap(), &env).unwrap();
    assert_eq!(
        Value::Object(vars),
        json!({"theAnswer": 42, "result": "SUCCESS", "nested": {"x": "PENDING"}, "n": 43})
    );
    let e = evaluate_assign(json!({"x.$": "$.nope"}).as_object().unwrap(), &env).unwrap_err();
    assert!(e.cause().contains("specified for the field 'x.$'"));
    assert_eq!(
        evaluate_field("ErrorPath", "$.answer", &env).unwrap(),
        json!(42)
    );
    assert_eq!(
        evaluate_field("CausePath", "States.Format('c{}', $.answer)", &env).unwrap(),
        json!("c42")
    );
    let e = evaluate_field("ErrorPath", "$.ErrorX", &env).unwrap_err();
    assert_eq!(
        e.cause_in_state("fail", 4),
        "An error occurred while executing the state 'fail' (entered at the event id #4). \
         The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input '{\"answer\":42,\"input\":\"PENDING\"}'"
    );
}

#[test]
fn owned_variants_and_reference_queries() {
    let input = json!({"a": {"b": 1}});
    let env = Env::new(&input);
    let rp = ResultPath::compile("$.a.c").unwrap();
    assert_eq!(
        rp.apply_owned(input.clone(), json!(2)).unwrap(),
        json!({"a": {"b": 1, "c": 2}})
    );
    let e = ResultPath::compile("$.a.b.c")
        .unwrap()
        .apply_owned(input.clone(), json!(2));
    assert_eq!(
        e.unwrap_err().cause(),
        "Unable to apply ResultPath '$.a.b.c' to input '{\"a\":{\"b\":1}}': $.a.b is not an object"
    );
    assert_eq!(
        IoPath::compile(&None)
            .unwrap()
            .apply_owned(json!(5), &env)
            .unwrap(),
        json!(5)
    );
    assert_eq!(
        IoPath::compile(&p("$.x"))
            .unwrap()
            .apply_owned(json!({"x": 3}), &env)
            .unwrap(),
        json!(3)
    );
    assert!(IoPath::compile(&p("$$.x")).unwrap().uses_context());
    assert!(!IoPath::compile(&p("$.x")).unwrap().uses_context());

    let t =
        PayloadTemplate::compile(&json!({"a": [{"b.$": "States.Format('{}', $$.x)"}]})).unwrap();
    assert!(t.uses_context() && !t.uses_variables() && !t.uses_random() && !t.is_literal());
    let t = PayloadTemplate::compile(&json!({"id.$": "States.UUID()", "v.$": "$v"})).unwrap();
    assert!(!t.uses_context() && t.uses_variables() && t.uses_random());
    let t = PayloadTemplate::compile(&json!({"r.$": "States.MathRandom(1, 2, 3)"})).unwrap();
    assert!(!t.uses_random());
    assert!(PayloadTemplate::compile(&json!({"a": 1}))
        .unwrap()
        .is_literal());
    let c = Call::parse("States.Format('{}{}', $x, States.Array($y.z, $$.w))").unwrap();
    assert_eq!(c.variables(), vec!["x", "y"]);
    assert!(c.uses_context());
}
