//! Unit tests per rule: each asserts the code and the pointer.

use super::*;

fn diags(text: &str) -> Vec<(Code, String)> {
    validate_str(text, &Options::default())
        .diagnostics()
        .into_iter()
        .map(|d| (d.code, d.pointer.clone()))
        .collect()
}

#[test]
fn a_minimal_machine_is_valid() {
    assert!(diags(r#"{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}"#).is_empty());
}
