//! Arbitrary input bytes never panic the engines: a report or a named error, every time.

use proptest::prelude::*;
use serde_json::json;

fn config(format: &str) -> cleanse::Config {
    cleanse::Config::from_value(&json!({
        "input": {"format": format, "max_field_bytes": 64, "max_record_bytes": 1024,
                  "columns": ["a", "b", "c"], "header": format == "jsonl"},
        "min_rows_out": 0,
        "rules": [
            {"rule": "trim"}, {"rule": "case", "columns": ["a"], "to": "upper"},
            {"rule": "null_markers"},
            {"rule": "coerce", "columns": {"b": "float", "c": "timestamp"}, "on_error": "null"},
            {"rule": "range", "columns": ["b"], "min": -10, "max": 10, "action": "clip"},
            {"rule": "impute", "columns": ["b"], "strategy": "median"},
            {"rule": "impute", "columns": ["a"], "strategy": "mode"},
            {"rule": "allowed", "columns": ["a"], "values": ["X", "Y"], "action": "null"},
            {"rule": "dedupe"},
            {"rule": "select", "columns": ["c", "b", "a"]}
        ],
        "output": {"format": "jsonl"}
    }))
    .unwrap()
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            Just(b','),
            Just(b'"'),
            Just(b'\n'),
            Just(b'\r'),
            Just(b'{'),
            Just(b'}'),
            Just(b':'),
            Just(b'1'),
            Just(b'.'),
            Just(b'-'),
            Just(b'a'),
            Just(b' '),
            Just(0xff),
            Just(0xc3),
            any::<u8>()
        ],
        0..400,
    )
}

proptest! {
    #[test]
    fn cleanse_csv_and_jsonl_never_panic(data in bytes()) {
        for format in ["csv", "jsonl"] {
            let cfg = config(format);
            let r = cleanse::run_passes(&cfg, || Ok(&data[..]), Vec::new(), Vec::new());
            if let Err(e) = r {
                prop_assert!(e.name().starts_with("Cleanse."));
            }
        }
    }

    #[test]
    fn jsonl_lines_of_json_values_never_panic(lines in proptest::collection::vec("\\{(\"[abc]\": ?(-?[0-9.e]{1,6}|\"[^\"]{0,5}\"|true|null|\\[\\]),? ?){0,4}\\}?", 0..20)) {
        let data = lines.join("\n");
        let cfg = config("jsonl");
        if let Err(e) = cleanse::run_passes(&cfg, || Ok(data.as_bytes()), Vec::new(), Vec::new()) {
            prop_assert!(e.name().starts_with("Cleanse."));
        }
    }
}
