//! Arbitrary input bytes never panic the validator: an outcome or a named error, every time.

use proptest::prelude::*;
use serde_json::json;

proptest! {
    #[test]
    fn validate_never_panics(
        data in proptest::collection::vec(
            prop_oneof![Just(b','), Just(b'"'), Just(b'\n'), Just(b'1'), Just(b'.'), Just(b'-'),
                        Just(b'a'), Just(b'{'), Just(0xff), any::<u8>()],
            0..400),
        jsonl in any::<bool>(),
    ) {
        let suite = validate::Suite::from_value(&json!({
            "input": {"format": if jsonl { "jsonl" } else { "csv" }, "max_field_bytes": 64, "max_record_bytes": 1024},
            "expectations": [
                {"expect": "unique", "columns": ["a"]},
                {"expect": "between", "column": "a", "min": 0},
                {"expect": "regex", "column": "a", "pattern": "^[0-9]+$"},
                {"expect": "stat", "column": "a", "stat": "median", "min": 0},
                {"expect": "row_count", "min": 1}
            ],
            "profile": {"bins": 4, "top_k": 3}
        })).unwrap();
        if let Err(e) = validate::run(&suite, &data[..]) {
            prop_assert!(e.name().starts_with("Validate."));
        }
    }
}
