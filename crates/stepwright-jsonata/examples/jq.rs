//! Evaluates a JSONata expression against JSON on stdin: `cargo run --example jq -- 'expr'`.
use std::io::Read;

fn main() {
    let expr = std::env::args().nth(1).unwrap_or_else(|| "$".into());
    let mut input = String::new();
    let _ = std::io::stdin().read_to_string(&mut input);
    let data: Option<serde_json::Value> = if input.trim().is_empty() {
        None
    } else {
        match serde_json::from_str(&input) {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln!("input is not JSON: {e}");
                std::process::exit(2);
            }
        }
    };
    match stepwright_jsonata::parse(&expr) {
        Err(e) => {
            eprintln!("{} at {}: {}", e.code, e.position, e.message);
            std::process::exit(1);
        }
        Ok(x) => match x.evaluate(data.as_ref(), &stepwright_jsonata::Environment::new()) {
            Ok(Some(v)) => println!("{v}"),
            Ok(None) => println!("undefined"),
            Err(e) => {
                eprintln!("{} at {}: {}", e.code, e.position, e.message);
                std::process::exit(1);
            }
        },
    }
}
