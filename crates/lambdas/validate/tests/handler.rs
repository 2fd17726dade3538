//! The validate Lambda handler end to end against a moto S3 server started by the test harness.
#![cfg(feature = "lambda")]

use lambda_kit::testing::MotoServer;
use lambda_kit::{ObjectStore, ObjectUrl};
use serde_json::{json, Value};
use validate::handler::handle;

fn url(s: &str) -> ObjectUrl {
    ObjectUrl::parse(s).unwrap()
}

fn data(shift: f64) -> String {
    let mut s = String::from("id,x\n");
    for i in 0..2000 {
        s.push_str(&format!("{i},{}\n", (i % 100) as f64 + shift));
    }
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn validates_writes_the_profile_and_detects_drift_with_it() {
    let moto = MotoServer::start().expect("moto server (scripts/setup.sh installs it into .venv)");
    moto.create_bucket("val").await;
    let store: ObjectStore = moto.object_store().await;
    store
        .put(&url("s3://val/day1.csv"), data(0.0))
        .await
        .unwrap();
    store
        .put(&url("s3://val/day2.csv"), data(40.0))
        .await
        .unwrap();
    store
        .put(&url("s3://val/suite.json"), r#"{"expectations": [{"expect": "unique", "columns": ["id"]}, {"expect": "row_count", "min": 1000}]}"#)
        .await
        .unwrap();
    let r = handle(&store, json!({"input": "s3://val/day1.csv", "suite_url": "s3://val/suite.json", "profile_output": "s3://val/profiles/day1.json"}))
        .await
        .unwrap();
    assert!(r.outcome.passed);
    assert_eq!(
        r.profile_output.as_deref(),
        Some("s3://val/profiles/day1.json")
    );
    let profile: Value = serde_json::from_slice(
        &store
            .get(&url("s3://val/profiles/day1.json"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(profile["rows"], 2000);
    // day 2 against day 1's profile: x has moved
    let suite = json!({"on_failure": "fail", "expectations": [{"expect": "drift", "columns": ["x"], "max_psi": 0.2}]});
    let e = handle(&store, json!({"input": "s3://val/day2.csv", "suite": suite, "baseline_url": "s3://val/profiles/day1.json"}))
        .await
        .unwrap_err();
    assert_eq!(e.name(), "Validate.Failed", "{e}");
    assert!(e.message().contains("drift"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_events_and_objects_are_named() {
    let moto = MotoServer::start().expect("moto server");
    moto.create_bucket("bad").await;
    let store = moto.object_store().await;
    store.put(&url("s3://bad/empty.csv"), "").await.unwrap();
    store.put(&url("s3://bad/ok.csv"), "a\n1\n").await.unwrap();
    let cases = [
        (
            json!({"input": "s3://bad/missing.csv", "suite": {}}),
            "Validate.ObjectNotFound",
        ),
        (
            json!({"input": "s3://bad/empty.csv", "suite": {}}),
            "Validate.InvalidInput",
        ),
        (
            json!({"input": "s3://bad/ok.csv", "suite": {"expectations": [{"expect": "nope"}]}}),
            "Validate.InvalidConfig",
        ),
        (
            json!({"input": "s3://bad/ok.csv", "suite": {"on_failure": "fail", "expectations": [{"expect": "columns", "columns": ["b"]}]}}),
            "Validate.SchemaMismatch",
        ),
        (json!({"input": "s3://bad/ok.csv"}), "Validate.InvalidEvent"),
        (
            json!({"input": "s3://bad/ok.csv", "suite": {}, "bogus": 1}),
            "Validate.InvalidEvent",
        ),
        (json!([1, 2]), "Validate.InvalidEvent"),
    ];
    for (ev, name) in cases {
        let e = handle(&store, ev.clone()).await.unwrap_err();
        assert_eq!(e.name(), name, "{ev}: {e}");
    }
}
