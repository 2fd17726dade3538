//! Parse → model → JSON round-trips (as JSON values) every definition AWS accepted (the
//! localstack corpus) and every valid asl-validator fixture.

use serde_json::Value;
use stepwright::StateMachine;
use testkit::{conformance_dir, json_eq, json_files, read_json, Tally};

fn roundtrip(def: &Value) -> Result<(), String> {
    let m = StateMachine::from_value(def).map_err(|e| e.to_string())?;
    let back = m.to_value();
    if json_eq(&back, def) {
        // And once more through text: the pretty form parses to the same model.
        let again = StateMachine::from_json(&m.to_json_pretty()).map_err(|e| e.to_string())?;
        if again != m {
            return Err("pretty JSON did not parse back to the same model".into());
        }
        Ok(())
    } else {
        Err(format!("round trip differs:\n  in:  {def}\n  out: {back}"))
    }
}

#[test]
fn localstack_definitions_round_trip() {
    let dir = conformance_dir().join("localstack");
    let mut tally = Tally::new();
    for path in json_files(&dir) {
        if path.file_name().is_some_and(|n| n == "index.json") {
            continue;
        }
        let case = read_json(&path);
        let area = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let Some(def) = case.get("definition") else {
            continue; // test_state cases hold a single state, not a machine
        };
        match roundtrip(def) {
            Ok(()) => tally.record(&area, true),
            Err(e) => tally.fail(&area, format!("{}: {e}", path.display())),
        }
    }
    tally.report("localstack definitions: parse -> model -> JSON");
    for f in tally.failures().iter().take(20) {
        eprintln!("{f}");
    }
    let (p, t) = tally.totals();
    assert_eq!(p, t, "{} definitions did not round-trip", t - p);
    assert!(
        t >= 733,
        "expected the 733 localstack machine definitions, found {t}"
    );
}

#[test]
fn valid_asl_validator_fixtures_round_trip() {
    let dir = conformance_dir().join("asl-validator").join("definitions");
    let mut tally = Tally::new();
    for path in json_files(&dir) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("valid-") {
            continue;
        }
        let def = read_json(&path);
        match roundtrip(&def) {
            Ok(()) => tally.record("valid fixtures", true),
            Err(e) => tally.fail("valid fixtures", format!("{name}: {e}")),
        }
    }
    tally.report("asl-validator valid fixtures: parse -> model -> JSON");
    for f in tally.failures() {
        eprintln!("{f}");
    }
    let (p, t) = tally.totals();
    assert_eq!(p, t);
    assert!(t > 30);
}
