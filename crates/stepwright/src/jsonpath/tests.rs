use serde_json::json;

use super::*;

fn eval(path: &str, input: &Value) -> Result<Value, Miss> {
    Path::parse(path).unwrap().evaluate(&Roots::new(input))
}

fn detail(path: &str, input: &Value) -> String {
    eval(path, input).unwrap_err().detail()
}

#[test]
fn definite_paths_select_one_value() {
    let input = json!({"a": {"b": [1, 2, {"c": "x"}]}, "with space": 1, "dash-ed": 2});
    assert_eq!(eval("$", &input).unwrap(), input);
    assert_eq!(eval("$.a.b[2].c", &input).unwrap(), json!("x"));
    assert_eq!(eval("$['a']['b'][-1]['c']", &input).unwrap(), json!("x"));
    assert_eq!(eval("$[\"a\"].b[0]", &input).unwrap(), json!(1));
    assert_eq!(eval("$['with space']", &input).unwrap(), json!(1));
    assert_eq!(eval("$.dash-ed", &input).unwrap(), json!(2));
    assert_eq!(eval("$.a.['b'][1]", &input).unwrap(), json!(2));
}

#[test]
fn indefinite_paths_select_arrays() {
    let input = json!({"items": [{"id": 1, "tags": ["x"]}, {"id": 2}, {"id": 3, "tags": []}]});
    assert_eq!(eval("$.items[*].id", &input).unwrap(), json!([1, 2, 3]));
    assert_eq!(eval("$.items[1:].id", &input).unwrap(), json!([2, 3]));
    assert_eq!(eval("$.items[:1].id", &input).unwrap(), json!([1]));
    assert_eq!(eval("$.items[-2:].id", &input).unwrap(), json!([2, 3]));
    assert_eq!(eval("$.items[0,2].id", &input).unwrap(), json!([1, 3]));
    assert_eq!(eval("$..id", &input).unwrap(), json!([1, 2, 3]));
    assert_eq!(
        eval("$.items[?(@.tags)].id", &input).unwrap(),
        json!([1, 3])
    );
    assert_eq!(
        eval("$.items[?(@.id >= 2)].id", &input).unwrap(),
        json!([2, 3])
    );
    assert_eq!(
        eval("$.items[?(@.id == 1 || @.id == 3)].id", &input).unwrap(),
        json!([1, 3])
    );
    assert_eq!(eval("$.items[?(!@.tags)].id", &input).unwrap(), json!([2]));
    assert_eq!(eval("$.items[?@.id > 2].id", &input).unwrap(), json!([3]));
    // Nothing matched is an empty array, never an error (localstack base cases).
    assert_eq!(eval("$.missing[*]", &input).unwrap(), json!([]));
    assert_eq!(
        eval("$.item.items[1:5].itemValue", &json!({})).unwrap(),
        json!([])
    );
    assert_eq!(eval("$[*]", &json!({})).unwrap(), json!([]));
}

#[test]
fn filter_operators() {
    let input = json!([
        {"n": 1, "s": "a", "l": [1, 2]},
        {"n": 2, "s": "b", "l": []},
        {"n": 3, "s": "c", "l": [3]}
    ]);
    let ids = |p: &str| eval(p, &input).unwrap();
    assert_eq!(ids("$[?(@.s in ['a', 'c'])].n"), json!([1, 3]));
    assert_eq!(ids("$[?(@.s nin ['a', 'c'])].n"), json!([2]));
    assert_eq!(ids("$[?(@.l size 1)].n"), json!([3]));
    assert_eq!(ids("$[?(@.l empty true)].n"), json!([2]));
    assert_eq!(ids("$[?(@.l subsetof [1, 2, 3])].n"), json!([1, 2, 3]));
    assert_eq!(ids("$[?(@.l anyof [2, 3])].n"), json!([1, 3]));
    assert_eq!(ids("$[?(@.l noneof [1])].n"), json!([2, 3]));
    assert_eq!(ids("$[?(@.s < 'b')].n"), json!([1]));
    assert_eq!(ids("$[?(@.n != 2 && @.n <= 3)].n"), json!([1, 3]));
    assert_eq!(ids("$[?(@.n == $[0].n)].s"), json!(["a"]));
    // A filter on an object tests the object itself (Jayway).
    assert_eq!(
        eval("$[?(@.a == 1)]", &json!({"a": 1})).unwrap(),
        json!([{"a": 1}])
    );
    // The localstack base case: a filter on numbers.
    let users = json!({"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}]});
    assert_eq!(
        eval("$.users[?(@.status == 0)]", &users).unwrap(),
        json!([{"year": 1997, "status": 0}])
    );
}

#[test]
fn misses_carry_jaywayss_text() {
    let input = json!({"a": {"b": 1, "s": "text", "n": null}, "arr": [1, 2]});
    assert_eq!(detail("$.x", &input), "No results for path: $['x']");
    assert_eq!(detail("$.a.x", &input), "No results for path: $['a']['x']");
    assert_eq!(detail("$.x.y", &input), "Missing property in path $['x']");
    assert_eq!(
        detail("$.a.s.y", &input),
        "Expected to find an object with property ['y'] in path $['a']['s'] but found 'java.lang.String'. \
         This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider'."
    );
    assert_eq!(detail("$.a.n[0]", &input), "The path $['a']['n'] is null");
    assert_eq!(
        detail("$.a.b[0]", &input),
        "Filter: [0] can only be applied to arrays. Current context is: 1"
    );
    let p = Path::parse("$.a.x").unwrap();
    assert_eq!(p.normalized(), "$['a']['x']");
}

#[test]
fn an_index_past_the_end_reads_as_null_except_for_arguments() {
    let input = json!({"items": [1, 2]});
    assert_eq!(eval("$.items[5]", &input).unwrap(), Value::Null);
    assert_eq!(eval("$.items[-5]", &input).unwrap(), Value::Null);
    let p = Path::parse("$.items[5]").unwrap();
    assert!(p.select_argument(&Roots::new(&input)).is_err());
    assert_eq!(
        p.select_argument(&Roots::new(&json!({"items": [1, 2, 3, 4, 5, 6]})))
            .unwrap()
            .into_value(),
        json!(6)
    );
}

#[test]
fn roots_context_and_variables() {
    let input = json!({"x": 1});
    let ctx = json!({"Execution": {"Input": {"x": 2}, "Name": "n"}});
    let mut vars = serde_json::Map::new();
    vars.insert("count".into(), json!({"v": [10, 20]}));
    let roots = Roots::new(&input).with_context(&ctx).with_variables(&vars);
    let ev = |p: &str| Path::parse(p).unwrap().evaluate(&roots);
    assert_eq!(ev("$$.Execution.Input.x").unwrap(), json!(2));
    assert_eq!(ev("$$").unwrap(), ctx);
    assert_eq!(ev("$count.v[1]").unwrap(), json!(20));
    assert_eq!(ev("$count").unwrap(), json!({"v": [10, 20]}));
    assert_eq!(ev("$.x").unwrap(), json!(1));
    assert_eq!(
        ev("$nope").unwrap_err(),
        Miss::UndefinedVariable("nope".into())
    );
    assert_eq!(
        Path::parse("$$.a").unwrap().evaluate(&Roots::new(&input)),
        Err(Miss::NoContext)
    );
    assert_eq!(
        Path::parse("$_v1").unwrap().root(),
        &Root::Variable("_v1".into())
    );
}

#[test]
fn quoted_names_keep_backslashes_as_aws_does() {
    // localstack ESCAPE_SEQUENCES_JSONPATH: the key `Test\""Name"` is read by $['Test\""Name"'].
    let input = json!({"Test\\\"\"Name\"": "Value\"\\"});
    assert_eq!(
        eval("$['Test\\\"\"Name\"']", &input).unwrap(),
        json!("Value\"\\")
    );
    assert_eq!(
        eval(r"$['it\'s']", &json!({"it\\'s": 1})).unwrap(),
        json!(1)
    );
}

#[test]
fn syntax_errors_have_positions() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "must start with '$'"),
        ("a.b", 0, "must start with '$'"),
        (" $.a", 0, "no leading blanks"),
        ("$.", 1, "must not end with '.'"),
        ("$..", 1, "must not end with '..'"),
        ("$.a b", 3, "cannot hold blanks"),
        ("$.a.length()", 10, "not supported"),
        ("$[", 2, "end of the path"),
        ("$['a'", 5, "not closed"),
        ("$['a", 2, "unterminated"),
        ("$[01]", 2, "leading zeros"),
        ("$[1:2:3]", 5, "slice steps"),
        ("$[?(@.a =~ /x/)]", 8, "regular-expression"),
        ("$[?(length(@) > 1)]", 4, "not supported"),
        ("$[?(@.a = 1)]", 8, "'=='"),
        ("$[?(1)]", 4, "literal alone"),
        ("$.a[?(@.b > 1]", 13, "')'"),
        ("$x-y", 2, "unexpected '-'"),
        ("$[-0]", 2, "'-0'"),
        ("$.a]", 3, "without a matching '['"),
        ("$.a.b]", 5, "without a matching '['"),
        ("$['a']]", 6, "expected '.' or '['"),
        ("$[0]]", 4, "expected '.' or '['"),
    ];
    for (text, offset, msg) in cases {
        let err = Path::parse(text).unwrap_err();
        assert_eq!(err.offset, *offset, "offset for {text:?}: {err}");
        assert!(err.message.contains(msg), "message for {text:?}: {err}");
    }
}

#[test]
fn reference_paths_are_the_definite_subset() {
    for ok in [
        "$",
        "$.a",
        "$.a[0].b",
        "$['a b'][-1]",
        "$$.Execution.Input",
        "$var.x",
    ] {
        assert!(check_reference(ok).is_ok(), "{ok}");
        assert!(Path::parse(ok).unwrap().is_definite());
    }
    let cases = [
        ("$.a[*]", 3, "wildcard"),
        ("$..a", 1, "'..'"),
        ("$.a[1:2]", 3, "slice"),
        ("$.a[0,1]", 3, "union of indexes"),
        ("$['a','b']", 1, "union of names"),
        ("$.a[?(@.b)]", 3, "filter"),
    ];
    for (text, offset, what) in cases {
        let err = Path::parse_reference(text).unwrap_err();
        assert_eq!(err.offset, offset, "{text}");
        assert!(err.message.contains(what), "{text}: {err}");
        assert!(!Path::parse(text).unwrap().is_definite());
    }
}

#[test]
fn steps_and_display() {
    let p = Path::parse("$.a[2]['b c']").unwrap();
    assert_eq!(
        p.steps().unwrap(),
        vec![Step::Name("a"), Step::Index(2), Step::Name("b c")]
    );
    assert_eq!(p.to_string(), "$.a[2]['b c']");
    assert!(Path::parse("$.a[*]").unwrap().steps().is_none());
    assert!(Path::parse("$").unwrap().is_root());
    let q: Path = "$.x".parse().unwrap();
    assert_eq!(q.as_str(), "$.x");
}

#[test]
fn multi_name_union_merges_like_jayway() {
    let input = json!({"a": 1, "b": 2, "c": 3});
    assert_eq!(
        eval("$['a','c','z']", &input).unwrap(),
        json!([{"a": 1, "c": 3}])
    );
}

#[test]
fn hostile_input_does_not_overflow_the_stack() {
    let deep = "$".to_string() + &"[?(@".repeat(200) + &")]".repeat(200);
    assert!(Path::parse(&deep).is_err());
    let nots = format!("$[?({}@.a)]", "!".repeat(10_000));
    assert!(Path::parse(&nots).is_err());
    let mut v = json!(1);
    for _ in 0..50_000 {
        v = Value::Array(vec![v]);
    }
    let p = Path::parse("$..*").unwrap();
    match p.select(&Roots::new(&v)).unwrap() {
        Selection::Many(found) => assert_eq!(found.len(), 50_000),
        other => panic!("expected many, got {other:?}"),
    }
    // Tear the deep value down iteratively (dropping it recursively would overflow).
    while let Value::Array(mut a) = v {
        v = a.pop().unwrap_or(Value::Null);
    }
}
