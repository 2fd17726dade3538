//! Properties of the path and intrinsic parsers and evaluators: no input makes them panic, and
//! what parses evaluates without panicking on any document.

use proptest::prelude::*;
use serde_json::{json, Value};
use stepwright::dataflow::{self, Env};
use stepwright::intrinsics::{self, Call};
use stepwright::jsonpath::{self, Path, Roots};

/// Strings built from the characters paths and intrinsic calls are made of, so that many of
/// them are almost valid.
fn path_like() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "$",
        "$$",
        "$v",
        ".",
        "..",
        "a",
        "b",
        "[",
        "]",
        "*",
        "0",
        "-1",
        "1:",
        ":2",
        ",",
        "'x'",
        "\"y\"",
        "?(",
        "?",
        "@",
        "@.a",
        ")",
        "(",
        " == ",
        " > ",
        "1",
        "&&",
        "||",
        "!",
        "'",
        "\\",
        " ",
        "in",
        "[1,2]",
        "{",
        "}",
        "é",
        "\u{0}",
        "States.Format(",
        "States.Array(",
        "States.MathAdd(",
        "'{}'",
        "\\{",
        "true",
        "null",
        "1.5",
        "e",
        "length()",
    ]);
    prop::collection::vec(pieces, 0..16).prop_map(|v| v.concat())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|x| json!(x)),
        "[a-c]{0,3}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-c]{1,2}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn path_parser_never_panics(s in path_like(), doc in json_value()) {
        let _ = jsonpath::check(&s);
        let _ = jsonpath::check_reference(&s);
        if let Ok(p) = Path::parse(&s) {
            // What parses, evaluates (to a value or a miss) on any document.
            let vars = serde_json::Map::from_iter([("v".to_string(), doc.clone())]);
            let roots = Roots::new(&doc).with_context(&doc).with_variables(&vars);
            let _ = p.evaluate(&roots);
            let _ = p.matches(&roots);
            // The text round-trips through Display.
            let again = Path::parse(&p.to_string());
            prop_assert_eq!(again.as_ref(), Ok(&p));
            // A definite path yields one value, an indefinite one an array.
            if let Ok(v) = p.evaluate(&roots) {
                if !p.is_definite() {
                    prop_assert!(v.is_array());
                }
            }
        }
    }

    #[test]
    fn intrinsic_parser_never_panics(s in path_like(), doc in json_value()) {
        let _ = intrinsics::check(&s);
        if let Ok(c) = Call::parse(&s) {
            let _ = c.type_problems();
            let _ = c.evaluate(&Env::new(&doc));
        }
        let text = format!("States.{s}");
        if let Ok(c) = Call::parse(&text) {
            let _ = c.evaluate(&Env::new(&doc));
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,40}") {
        let _ = jsonpath::check(&s);
        let _ = intrinsics::check(&s);
        let _ = dataflow::evaluate_payload(&json!({"k.$": s}), &Env::new(&json!({})));
    }

    #[test]
    fn result_path_puts_the_value_where_the_path_reads_it(doc in json_value(), v in json_value(),
                                                          names in prop::collection::vec("[a-c]", 1..4)) {
        let path = format!("$.{}", names.join("."));
        match dataflow::apply_result_path(&doc, v.clone(), &Some(Some(path.clone()))) {
            Ok(out) => {
                let got = Path::parse(&path).unwrap().evaluate(&Roots::new(&out)).unwrap();
                prop_assert_eq!(got, v);
            }
            Err(e) => prop_assert_eq!(e.error(), "States.ResultPathMatchFailure"),
        }
    }
}
