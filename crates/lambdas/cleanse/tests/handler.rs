//! The cleanse Lambda handler end to end: against a moto S3 server started by the test harness,
//! and on local files; the bad-input suite checks that every failure is named and publishes
//! nothing.
#![cfg(feature = "lambda")]

use cleanse::handler::handle;
use lambda_kit::testing::MotoServer;
use lambda_kit::{ObjectStore, ObjectUrl};
use serde_json::{json, Value};

const CONFIG: &str = r#"{"rules": [
    {"rule": "trim"}, {"rule": "null_markers"}, {"rule": "required", "columns": ["label"]},
    {"rule": "coerce", "columns": {"x": "float", "label": "int"}},
    {"rule": "impute", "columns": ["x"], "strategy": "mean"}]}"#;

async fn moto(bucket: &str) -> (MotoServer, ObjectStore) {
    let moto = MotoServer::start().expect("moto server (scripts/setup.sh installs it into .venv)");
    moto.create_bucket(bucket).await;
    let store = moto.object_store().await;
    (moto, store)
}

fn url(s: &str) -> ObjectUrl {
    ObjectUrl::parse(s).unwrap()
}

async fn text(store: &ObjectStore, u: &str) -> String {
    String::from_utf8(store.get(&url(u)).await.expect(u).to_vec()).unwrap()
}

async fn absent(store: &ObjectStore, u: &str) -> bool {
    store.head(&url(u)).await.is_err()
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanses_an_s3_object_with_a_config_object() {
    let (_moto, store) = moto("data").await;
    store
        .put(
            &url("s3://data/raw/in.csv"),
            "x,label\n 1 ,1\nNA,0\n3,\n5,1\n,1,extra\n",
        )
        .await
        .unwrap();
    store
        .put(&url("s3://data/config/cleanse.json"), CONFIG)
        .await
        .unwrap();
    let ev = json!({"input": {"bucket": "data", "key": "raw/in.csv"}, "output": "s3://data/clean/out.csv",
                    "config_url": "s3://data/config/cleanse.json"});
    let res = handle(&store, ev).await.unwrap();
    assert_eq!(
        text(&store, "s3://data/clean/out.csv").await,
        "x,label\n1,1\n3.0,0\n5,1\n"
    );
    let rejects = text(&store, "s3://data/clean/out.csv.rejects.jsonl").await;
    assert_eq!(rejects.lines().count(), 2, "{rejects}");
    let r = serde_json::to_value(&res).unwrap();
    assert_eq!(
        (
            r["rows_in"].clone(),
            r["rows_out"].clone(),
            r["passes"].clone()
        ),
        // (mean imputation in one pass: the object is read once)
        (json!(5), json!(3), json!(1))
    );
    assert_eq!(r["output"], "s3://data/clean/out.csv");
    assert_eq!(r["malformed"]["wrong_column_count"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_inputs_are_named_and_publish_nothing() {
    let (_moto, store) = moto("bad").await;
    let cfg: Value = serde_json::from_str(CONFIG).unwrap();
    store.put(&url("s3://bad/empty.csv"), "").await.unwrap();
    store
        .put(&url("s3://bad/header.csv"), "x,label\n")
        .await
        .unwrap();
    store
        .put(&url("s3://bad/ok.csv"), "x,label\n1,1\n")
        .await
        .unwrap();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"input": "s3://bad/missing.csv", "output": "s3://bad/out.csv", "config": cfg}),
            "Cleanse.ObjectNotFound",
        ),
        (
            json!({"input": "s3://bad/empty.csv", "output": "s3://bad/out.csv", "config": cfg}),
            "Cleanse.InvalidInput",
        ),
        (
            json!({"input": "s3://bad/header.csv", "output": "s3://bad/out.csv", "config": cfg}),
            "Cleanse.NoRows",
        ),
        (
            json!({"input": "s3://bad/ok.csv", "output": "s3://bad/out.csv", "config": {"rules": [{"rule": "scrub"}]}}),
            "Cleanse.InvalidConfig",
        ),
        (
            json!({"input": "s3://bad/ok.csv", "output": "s3://bad/out.csv", "config": {"rules": [{"rule": "trim", "columns": ["nope"]}]}}),
            "Cleanse.InvalidConfig",
        ),
        (
            json!({"input": "s3://bad/ok.csv", "output": "s3://bad/out.csv", "config_url": "s3://bad/nope.json"}),
            "Cleanse.ObjectNotFound",
        ),
        (
            json!({"input": "s3://bad/ok.csv", "output": "s3://bad/out.csv"}),
            "Cleanse.InvalidEvent",
        ),
        (
            json!({"input": "s3://bad/ok.csv", "config": cfg}),
            "Cleanse.InvalidEvent",
        ),
        (json!({"Records": [{"s3": {}}]}), "Cleanse.InvalidEvent"),
        (json!("s3://bad/ok.csv"), "Cleanse.InvalidEvent"),
    ];
    for (ev, name) in cases {
        let e = handle(&store, ev.clone()).await.unwrap_err();
        assert_eq!(e.name(), name, "{ev}: {e}");
        assert!(
            absent(&store, "s3://bad/out.csv").await,
            "{ev}: output published"
        );
        assert!(
            absent(&store, "s3://bad/out.csv.rejects.jsonl").await,
            "{ev}: rejects published"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_rows_are_counted_rejects_on_local_files() {
    let dir = std::env::temp_dir().join(format!("cleanse-handler-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut data = b"x,label\n1,1\n1,2,3\n".to_vec();
    data.extend_from_slice(b"\xff,1\n");
    data.extend_from_slice(format!("{},1\n", "9".repeat(1_000_000)).as_bytes());
    std::fs::write(dir.join("in.csv"), &data).unwrap();
    let store = ObjectStore::local();
    let ev = json!({"input": dir.join("in.csv").to_str().unwrap(), "output": dir.join("out.csv").to_str().unwrap(),
                    "rejects": dir.join("rej.jsonl").to_str().unwrap(), "config": {}});
    let res = handle(&store, ev).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("out.csv")).unwrap(),
        "x,label\n1,1\n"
    );
    let rej = std::fs::read_to_string(dir.join("rej.jsonl")).unwrap();
    let reasons: Vec<String> = rej
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["reason"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        reasons,
        ["wrong_column_count", "invalid_utf8", "field_too_large"]
    );
    assert_eq!(res.report.rows_rejected, 3);
    std::fs::remove_dir_all(&dir).unwrap();
}
