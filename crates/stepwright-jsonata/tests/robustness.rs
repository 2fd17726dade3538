//! No input string makes the engine panic or overflow the stack: deep nesting and runaway
//! recursion are errors. Runs on the default (2 MiB) test thread stack on purpose.

use std::time::Duration;

use serde_json::json;
use stepwright_jsonata::{parse, Environment};

fn outcome(src: &str) -> Result<Option<serde_json::Value>, String> {
    let e = parse(src).map_err(|e| e.code.to_string())?;
    let env = Environment::new()
        .with_seed(3)
        .with_time_limit(Duration::from_millis(2000));
    e.evaluate(Some(&json!({"a": [1, {"b": 2}], "c": "x"})), &env)
        .map_err(|e| e.code.to_string())
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let n = 100_000;
    let cases = [
        "(".repeat(n),
        format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        format!("{}1{}", "[".repeat(n), "]".repeat(n)),
        format!("{}1", "-".repeat(n)),
        format!("{}{}", "{\"a\":".repeat(n), "}".repeat(n)),
        vec!["a"; n].join("."),
        vec!["1"; n].join("+"),
        format!("{}1{}", "$f(".repeat(n), ")".repeat(n)),
        format!("{}x", "a[".repeat(n)),
        format!("{}1", "1 ? ".repeat(n)),
        format!("{}1", "$x := ".repeat(n)),
        "function($x){".repeat(n),
    ];
    for src in &cases {
        let r = outcome(src);
        assert!(r.is_err(), "{}…: expected an error, got {r:?}", &src[..20]);
    }
    // deep but reasonable expressions still work
    let ok = format!("{}1{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(outcome(&ok), Ok(Some(json!(1))));
    let ok = format!("{}1{}", "[".repeat(50), "]".repeat(50));
    assert!(outcome(&ok).is_ok());
}

#[test]
fn runaway_recursion_is_an_error() {
    // non-tail recursion: the stack budget stops it
    assert_eq!(
        outcome("($f := function($x){ 1 + $f($x) }; $f(1))"),
        Err("U1001".into())
    );
    // tail recursion runs in constant stack; the time limit stops it
    assert_eq!(
        outcome("($f := function($x){ $f($x) }; $f(1))"),
        Err("U1001".into())
    );
    // deep but finite tail recursion completes
    assert_eq!(
        outcome("($f := function($n, $acc){ $n = 0 ? $acc : $f($n - 1, $acc + 1) }; $f(20000, 0))"),
        Ok(Some(json!(20000)))
    );
}

#[test]
fn deeply_nested_results_are_an_error() {
    // loops that build ever deeper values run in constant stack; the values they build must not
    // overflow the stack when converted, compared or dropped
    assert_eq!(
        outcome(r#"$reduce([1..100000], function($acc, $x){ {"a": $acc} }, {})"#),
        Err("U1001".into())
    );
    assert_eq!(
        outcome(
            "($f := function($n, $acc){ $n = 0 ? $acc : $f($n - 1, [[$acc]]) }; $f(100000, 1))"
        ),
        Err("U1001".into())
    );
    let ok = outcome(r#"$reduce([1..300], function($acc, $x){ {"a": $acc} }, {})"#);
    assert!(matches!(ok, Ok(Some(_))), "{ok:?}");
}

#[test]
fn depth_limit_is_honoured() {
    let e = parse("($f := function($x){ $x = 0 ? 0 : 1 + $f($x - 1) }; $f(50))").expect("parses");
    let env = Environment::new().with_max_depth(20);
    assert_eq!(e.evaluate(None, &env).map_err(|e| e.code), Err("U1001"));
    let env = Environment::new().with_max_depth(1000);
    assert_eq!(e.evaluate(None, &env).ok(), Some(Some(json!(50))));
}

/// A deterministic pseudo-fuzzer: random token soup must parse or fail cleanly, and whatever
/// parses must evaluate or fail cleanly.
#[test]
fn random_token_soup_never_panics() {
    const TOKENS: &[&str] = &[
        "a",
        "b",
        "$",
        "$$",
        "$x",
        "$f",
        "1",
        "0",
        "-1.5e3",
        "\"s\"",
        "'t'",
        "true",
        "null",
        ".",
        "[",
        "]",
        "{",
        "}",
        "(",
        ")",
        ",",
        ":",
        ";",
        "?",
        "??",
        "?:",
        "+",
        "-",
        "*",
        "/",
        "%",
        "**",
        "..",
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "&",
        "and",
        "or",
        "in",
        ":=",
        "~>",
        "@",
        "#",
        "^",
        "|",
        "function",
        "λ",
        "$sum",
        "$map",
        "$string",
        "$match",
        "$replace",
        "$sort",
        "$formatNumber",
        "$fromMillis",
        "$toMillis",
        "/a+/",
        "/(/",
        "`q`",
        "<",
        "s-",
        "\\",
        "!",
        "~",
        "/*",
        "*/",
        " ",
        "\u{e9}",
        "\"\\u12",
        "%",
        "0x1",
        "1e999",
    ];
    let mut state: u64 = 0x1234_5678;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let len = (next() % 24) as usize;
        let src: String = (0..len)
            .map(|_| TOKENS[(next() % TOKENS.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(if next() % 2 == 0 { " " } else { "" });
        let r = std::panic::catch_unwind(|| outcome(&src));
        assert!(r.is_ok(), "panicked on {src:?}");
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut state: u64 = 99;
    for _ in 0..5_000 {
        let len = (state % 40) as usize;
        let mut bytes = Vec::with_capacity(len);
        for _ in 0..len {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            bytes.push((state >> 33) as u8);
        }
        let src = String::from_utf8_lossy(&bytes).into_owned();
        let r = std::panic::catch_unwind(|| outcome(&src));
        assert!(r.is_ok(), "panicked on {src:?}");
    }
}
