//! Parse + validate any input: no panic, no stack overflow, no hang.
//!
//! Run: `cargo +nightly fuzz run validate -- -max_total_time=600` (from the repository root).
#![no_main]

use libfuzzer_sys::fuzz_target;
use stepwright::validate::{validate_state_str, validate_str, Options};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let opts = Options::default();
    let report = validate_str(text, &opts);
    // Rendering exercises the source positions (pointer -> line:col, snippets).
    let _ = report.render("fuzz.json", text);
    let _ = validate_state_str(text, &opts);
    let mut strict = Options::express();
    strict.allow_substitutions = false;
    let _ = validate_str(text, &strict);
    // Whatever parses must validate, render and re-validate from its own JSON.
    if let Ok(m) = stepwright::StateMachine::from_json(text) {
        let _ = stepwright::validate(&m, &opts);
        let again = m.to_json_pretty();
        let _ = validate_str(&again, &opts);
    }
});
