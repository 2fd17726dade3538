//! The scale-out modes on local files: `batch` cleanses and validates each object of a batch
//! (recording per-object data problems, failing on configuration problems), `merge` reads a
//! Distributed Map manifest and its result files and gives one verdict and one profile.
#![cfg(feature = "lambda")]

use std::path::{Path, PathBuf};

use lambda_kit::ObjectStore;
use serde_json::{json, Value};
use validate::scale::handle_event;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("validate-scale-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("bucket/raw")).unwrap();
    d
}

fn write(d: &Path, rel: &str, text: &str) -> String {
    let p = d.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

fn setup(d: &Path) -> (String, String) {
    let cfg = write(
        d,
        "config/cleanse.json",
        r#"{"rules": [{"rule": "trim"}, {"rule": "null_markers", "values": ["", "NA"]}, {"rule": "coerce", "columns": {"x": "float"}, "on_error": "null"}]}"#,
    );
    let suite = write(
        d,
        "config/suite.json",
        r#"{"expectations": [{"expect": "not_null", "column": "x"}, {"expect": "row_count", "min": 2}]}"#,
    );
    write(d, "bucket/raw/a.csv", "id,x\n1, 1.5\n2,2.5\n3,3\n");
    write(d, "bucket/raw/b.csv", "id,x\n4,NA\n5,7\n");
    write(d, "bucket/raw/c.csv", "id,x\n6,10\n7,20\n8,30\n9,40\n");
    write(d, "bucket/raw/empty.csv", "");
    (cfg, suite)
}

fn batch(d: &Path, cfg: &str, suite: &str, keys: &[&str]) -> Value {
    let items: Vec<Value> = keys.iter().map(|k| json!({"key": k, "size": 1})).collect();
    json!({"batch": {
        "items": items,
        "source": d.join("bucket").to_string_lossy(),
        "output": d.join("bucket/clean/run-1").to_string_lossy(),
        "cleanse_config_url": cfg, "suite_url": suite
    }})
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_then_merge() {
    let d = dir("ok");
    let (cfg, suite) = setup(&d);
    let store = ObjectStore::local();
    let b1 = handle_event(&store, batch(&d, &cfg, &suite, &["raw/a.csv", "raw/b.csv"]))
        .await
        .unwrap();
    let objs = b1["objects"].as_array().unwrap();
    assert_eq!(objs.len(), 2);
    assert_eq!(objs[0]["passed"], true);
    assert_eq!(objs[0]["rows_out"], 3);
    assert!(
        d.join("bucket/clean/run-1/raw/a.csv").exists(),
        "cleansed object written"
    );
    assert_eq!(objs[1]["passed"], false, "b.csv has a null x");
    assert_eq!(objs[1]["failed"][0]["expect"], "not_null");
    assert!(
        objs[1]["failed"][0].get("samples").is_none(),
        "summaries stay small"
    );
    assert_eq!(b1["profile"]["rows"], 5);
    assert_eq!(b1["profile"]["columns"]["x"]["count"], 4);

    let b2 = handle_event(
        &store,
        batch(&d, &cfg, &suite, &["raw/c.csv", "raw/empty.csv"]),
    )
    .await
    .unwrap();
    assert_eq!(b2["objects"][1]["error"], "Cleanse.InvalidInput", "{b2}");

    // what the Distributed Map's ResultWriter writes: a manifest and result files beside it
    let entry = |out: &Value| json!({"ExecutionArn": "arn:x", "Input": "{}", "Output": out.to_string(), "Status": "SUCCEEDED"});
    write(
        &d,
        "bucket/shards/run-1/m1/SUCCEEDED_0.json",
        &json!([entry(&b1), entry(&b2)]).to_string(),
    );
    let failed_input = json!({"Items": [{"key": "raw/d.csv"}], "BatchInput": {}}).to_string();
    write(&d, "bucket/shards/run-1/m1/FAILED_0.json", &json!([{"Error": "States.Timeout", "Cause": "", "Input": failed_input, "Status": "FAILED"}]).to_string());
    let manifest = write(&d, "bucket/shards/run-1/m1/manifest.json", &json!({
        "DestinationBucket": "bucket", "MapRunArn": "arn:m",
        "ResultFiles": {"SUCCEEDED": [{"Key": "shards/run-1/m1/SUCCEEDED_0.json", "Size": 1}],
                        "FAILED": [{"Key": "shards/run-1/m1/FAILED_0.json", "Size": 1}], "PENDING": []}
    }).to_string());
    let merged_path = d.join("bucket/profiles/merged.json");
    let v = handle_event(
        &store,
        json!({"merge": {"manifest": manifest, "profile_output": merged_path.to_string_lossy()}}),
    )
    .await
    .unwrap();
    assert_eq!(v["objects"], 5);
    assert_eq!(v["objects_invalid"], 2);
    assert_eq!(v["objects_failed"], 1);
    assert_eq!(v["passed"], false);
    assert_eq!(v["rows"], 9);
    let keys: Vec<&str> = v["invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["raw/b.csv", "raw/empty.csv", "raw/d.csv"]);
    assert_eq!(v["profile"]["columns"]["x"]["count"], 8);
    assert!(merged_path.exists());
    let lenient = handle_event(
        &store,
        json!({"merge": {"manifest": manifest, "max_invalid_percentage": 60}}),
    )
    .await
    .unwrap();
    assert_eq!(lenient["passed"], true);
    std::fs::remove_dir_all(&d).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn configuration_problems_fail_the_whole_batch() {
    let d = dir("bad");
    let (_, suite) = setup(&d);
    let bad_cfg = write(
        &d,
        "config/bad.json",
        r#"{"rules": [{"rule": "no_such_rule"}]}"#,
    );
    let store = ObjectStore::local();
    let e = handle_event(&store, batch(&d, &bad_cfg, &suite, &["raw/a.csv"]))
        .await
        .unwrap_err();
    assert_eq!(e.name(), "Cleanse.InvalidConfig");
    let e = handle_event(&store, json!({"batch": {"items": "nope"}}))
        .await
        .unwrap_err();
    assert_eq!(e.name(), "Validate.InvalidEvent");
    let e = handle_event(
        &store,
        json!({"merge": {"manifest": d.join("missing.json").to_string_lossy()}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.name(), "Validate.ObjectNotFound");
    let not_manifest = write(&d, "x.json", "{}");
    let e = handle_event(&store, json!({"merge": {"manifest": not_manifest}}))
        .await
        .unwrap_err();
    assert_eq!(e.name(), "Validate.InvalidInput");
    let e = handle_event(
        &store,
        json!({"merge": {"manifest": not_manifest, "max_invalid_percentage": 120}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.name(), "Validate.InvalidEvent");
    std::fs::remove_dir_all(&d).ok();
}
