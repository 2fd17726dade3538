//! Every cleanse rule, the output formats, and the bad-input cases, through the public API.

use cleanse::{CleanseError, Config, Report};
use serde_json::{json, Value};

fn clean(cfg: Value, data: &str) -> Result<(String, Vec<Value>, Report), CleanseError> {
    let cfg = Config::from_value(&cfg).expect("valid config");
    let (mut out, mut rej) = (Vec::new(), Vec::new());
    let report = cleanse::run_passes(&cfg, || Ok(data.as_bytes()), &mut out, &mut rej)?;
    let rejects = String::from_utf8(rej)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("rejects are JSON lines"))
        .collect();
    Ok((String::from_utf8(out).unwrap(), rejects, report))
}

fn ok(cfg: Value, data: &str) -> (String, Vec<Value>, Report) {
    clean(cfg, data).unwrap_or_else(|e| panic!("{}: {e}", e.name()))
}

fn rule_counts(r: &Report, i: usize) -> (u64, u64) {
    (r.rules[i].changed, r.rules[i].dropped)
}

#[test]
fn no_rules_copies_the_csv() {
    let (out, rej, r) = ok(json!({}), "a,b\n1,\"x,y\"\n");
    assert_eq!(out, "a,b\n1,\"x,y\"\n");
    assert!(rej.is_empty());
    assert_eq!((r.rows_in, r.rows_out, r.passes), (1, 1, 1));
}

#[test]
fn trim_and_case() {
    let (out, _, r) = ok(
        json!({"rules": [{"rule": "trim"}, {"rule": "case", "columns": ["b"], "to": "upper"}]}),
        "a,b\n  x ,\u{a0}ab\u{a0}\ny,Straße\n",
    );
    assert_eq!(out, "a,b\nx,AB\ny,STRASSE\n");
    assert_eq!(rule_counts(&r, 0), (2, 0));
    assert_eq!(rule_counts(&r, 1), (2, 0));
}

#[test]
fn null_markers_default_and_case_insensitive() {
    let (out, _, r) = ok(
        json!({"rules": [{"rule": "null_markers", "values": ["na"], "case_insensitive": true}],
               "output": {"format": "jsonl"}}),
        "a,b\nNA,x\nnA,n/a\n",
    );
    assert_eq!(
        out,
        "{\"a\":null,\"b\":\"x\"}\n{\"a\":null,\"b\":\"n/a\"}\n"
    );
    assert_eq!(rule_counts(&r, 0), (2, 0));
    let (out, _, _) = ok(
        json!({"rules": [{"rule": "null_markers"}], "output": {"format": "jsonl"}}),
        "a\nN/A\nNULL\n\"\"\nok\n",
    );
    assert_eq!(
        out,
        "{\"a\":null}\n{\"a\":null}\n{\"a\":null}\n{\"a\":\"ok\"}\n"
    );
}

#[test]
fn required_drops_rows_with_reasons() {
    let (out, rej, r) = ok(
        json!({"rules": [{"rule": "null_markers"}, {"rule": "required", "columns": ["b"]}]}),
        "a,b\n1,\n2,x\n",
    );
    assert_eq!(out, "a,b\n2,x\n");
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0]["line"], 2);
    assert_eq!(rej[0]["reason"], "required");
    assert_eq!(rej[0]["rule"], "/rules/1");
    assert_eq!(rej[0]["detail"], "column `b` is null");
    assert_eq!(rej[0]["record"], "1,");
    assert_eq!(rule_counts(&r, 1), (0, 1));
}

#[test]
fn coerce_types_drop_or_null() {
    let cfg = |on_error: &str| {
        json!({"rules": [{"rule": "coerce", "on_error": on_error, "columns": {
            "i": "int", "f": "float", "b": "bool", "t": "timestamp", "c": "category"}}],
            "output": {"format": "jsonl"}})
    };
    let data = "i,f,b,t,c\n+7,1.50,Yes,2024-01-02T03:04:05+01:00,x\n7.5,nan,maybe,2024-02-30,y\n";
    let (out, rej, r) = ok(cfg("drop"), data);
    assert_eq!(
        out,
        "{\"i\":7,\"f\":1.5,\"b\":true,\"t\":\"2024-01-02T02:04:05Z\",\"c\":\"x\"}\n"
    );
    assert_eq!(rej[0]["detail"], "column `i`: \"7.5\" is not a valid int");
    assert_eq!(rule_counts(&r, 0), (0, 1));
    let (out, _, r) = ok(cfg("null"), data);
    assert!(
        out.ends_with("{\"i\":null,\"f\":null,\"b\":null,\"t\":null,\"c\":\"y\"}\n"),
        "{out}"
    );
    assert_eq!(rule_counts(&r, 0), (4, 0));
    assert_eq!(r.columns[0].r#type, "int");
    assert_eq!(r.columns[3].r#type, "timestamp");
}

#[test]
fn float_text_is_kept_unless_a_rule_changes_the_value() {
    let (out, _, _) = ok(
        json!({"rules": [{"rule": "coerce", "columns": {"x": "float"}},
                         {"rule": "range", "columns": ["x"], "max": 10, "action": "clip"}]}),
        "x\n1.2500\n1e1\n12\n",
    );
    assert_eq!(out, "x\n1.2500\n1e1\n10.0\n");
}

#[test]
fn range_drop_clip_null_and_timestamps() {
    let base = |action: &str| {
        json!({"rules": [{"rule": "coerce", "columns": {"x": "int", "y": "float"}},
                         {"rule": "range", "columns": ["x", "y"], "min": 0, "max": 10.5, "action": action}]})
    };
    let data = "x,y\n-3,11\n5,5\n";
    assert_eq!(ok(base("clip"), data).0, "x,y\n0,10.5\n5,5\n");
    assert_eq!(ok(base("null"), data).0, "x,y\n,\n5,5\n");
    let (out, rej, r) = ok(base("drop"), data);
    assert_eq!(out, "x,y\n5,5\n");
    assert_eq!(rej[0]["detail"], "column `x`: -3 is out of range");
    assert_eq!(rule_counts(&r, 1), (0, 1));
    let (out, _, _) = ok(
        json!({"rules": [{"rule": "coerce", "columns": {"t": "timestamp"}},
                         {"rule": "range", "columns": ["t"], "min": "2024-01-01", "action": "clip"}]}),
        "t\n2023-05-01T10:00:00\n2024-06-01\n",
    );
    assert_eq!(out, "t\n2024-01-01T00:00:00\n2024-06-01T00:00:00\n");
}

#[test]
fn allowed_values_typed_and_case_insensitive() {
    let (out, rej, _) = ok(
        json!({"rules": [{"rule": "allowed", "columns": ["c"], "values": ["Red", "blue"], "case_insensitive": true}]}),
        "c\nRED\ngreen\nBlue\n",
    );
    assert_eq!(out, "c\nRED\nBlue\n");
    assert_eq!(
        rej[0]["detail"],
        "column `c`: \"green\" is not an allowed value"
    );
    let (out, _, _) = ok(
        json!({"rules": [{"rule": "coerce", "columns": {"n": "int"}},
                         {"rule": "allowed", "columns": ["n"], "values": [1, 2], "action": "null"}]}),
        "n\n01\n3\n",
    );
    assert_eq!(out, "n\n1\n\n");
}

#[test]
fn dedupe_all_columns_or_a_key_compares_values() {
    let (out, rej, r) = ok(
        json!({"rules": [{"rule": "coerce", "columns": {"x": "float"}}, {"rule": "dedupe"}]}),
        "k,x\na,1.50\na,1.5\nb,1.5\na,1.5\n",
    );
    assert_eq!(out, "k,x\na,1.50\nb,1.5\n");
    assert_eq!(rej.len(), 2);
    assert_eq!(rej[0]["reason"], "dedupe");
    assert_eq!(rule_counts(&r, 1), (0, 2));
    let (out, _, _) = ok(
        json!({"rules": [{"rule": "dedupe", "columns": ["k"]}]}),
        "k,x\na,1\na,2\n",
    );
    assert_eq!(out, "k,x\na,1\n");
}

#[test]
fn impute_constant_mean_median_mode() {
    let data = "g,x\na,1\n,\nb,2\nb,10\n,NA\n";
    let cfg = |strategy: Value| {
        let mut rule = json!({"rule": "impute", "columns": ["x"], "strategy": strategy});
        if rule["strategy"] == "constant" {
            rule["value"] = json!(-1);
        }
        json!({"rules": [{"rule": "null_markers"},
                         {"rule": "coerce", "columns": {"x": "float"}},
                         rule,
                         {"rule": "impute", "columns": ["g"], "strategy": "mode"}],
               "output": {"format": "jsonl"}})
    };
    let xs = |out: &str| -> Vec<Value> {
        out.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["x"].clone())
            .collect()
    };
    let (out, _, r) = ok(cfg(json!("mean")), data);
    assert_eq!(
        xs(&out),
        [
            json!(1.0),
            json!(13.0 / 3.0),
            json!(2.0),
            json!(10.0),
            json!(13.0 / 3.0)
        ]
    );
    assert!(
        out.lines().nth(1).unwrap().contains("\"g\":\"b\""),
        "mode of g is b: {out}"
    );
    assert_eq!(r.passes, 3);
    assert_eq!(r.imputed[0].value, json!(13.0 / 3.0));
    assert_eq!(r.imputed[1].value, json!("b"));
    assert_eq!(rule_counts(&r, 2), (2, 0));
    let (out, _, _) = ok(cfg(json!("median")), data);
    assert_eq!(xs(&out)[1], json!(2.0));
    let (out, _, r) = ok(cfg(json!("constant")), data);
    assert_eq!(xs(&out)[1], json!(-1.0));
    assert_eq!(r.passes, 2);
    // an int column's mean is rounded
    let (out, _, _) = ok(
        json!({"rules": [{"rule": "null_markers"}, {"rule": "coerce", "columns": {"n": "int"}},
                         {"rule": "impute", "columns": ["n"], "strategy": "mean"}]}),
        "n,m\n1,a\n2,b\n,c\n",
    );
    assert_eq!(out, "n,m\n1,a\n2,b\n2,c\n");
}

#[test]
fn statistics_only_count_rows_that_reach_the_impute_rule() {
    // the row with y null is dropped by `required` before `impute`: its x (100) is not in the mean
    let (out, _, _) = ok(
        json!({"rules": [{"rule": "null_markers"}, {"rule": "required", "columns": ["y"]},
                         {"rule": "coerce", "columns": {"x": "float"}},
                         {"rule": "impute", "columns": ["x"], "strategy": "mean"}]}),
        "x,y\n100,\n2,a\n4,b\n,c\n",
    );
    assert_eq!(out, "x,y\n2,a\n4,b\n3.0,c\n");
}

#[test]
fn select_rename_drop_and_encode() {
    let (out, _, r) = ok(
        json!({"rules": [
            {"rule": "rename", "columns": {"a": "alpha"}},
            {"rule": "encode", "columns": ["c"], "categories": ["x", "y"]},
            {"rule": "drop", "columns": ["b"]},
            {"rule": "select", "columns": ["c", "alpha"]}]}),
        "a,b,c\n1,2,y\n3,4,z\n",
    );
    assert_eq!(out, "c,alpha\n1,1\n,3\n");
    assert_eq!(
        r.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["c", "alpha"]
    );
}

#[test]
fn sagemaker_output_is_numeric_label_first_without_header() {
    let cfg = json!({"rules": [
            {"rule": "null_markers"},
            {"rule": "coerce", "columns": {"x": "float", "ok": "bool", "t": "timestamp", "y": "int"}}],
        "output": {"format": "sagemaker", "label": "y"}});
    let (out, _, _) = ok(
        cfg,
        "x,ok,t,y\n0.5,yes,1970-01-01T00:01:00Z,1\n,no,1970-01-01T00:00:00.5Z,0\n",
    );
    assert_eq!(out, "1,0.5,1,60\n0,,0,0.5\n");
    let e = clean(
        json!({"output": {"format": "sagemaker", "label": "y"}}),
        "x,y\n1,2\n",
    )
    .unwrap_err();
    assert_eq!(e.name(), "Cleanse.InvalidConfig");
    assert!(e.to_string().contains("numbers only"), "{e}");
}

#[test]
fn csv_output_delimiter_and_quoting() {
    let (out, _, _) = ok(
        json!({"output": {"delimiter": ";"}}),
        "a,b\n\"x;y\",\"q\"\"\"\n",
    );
    assert_eq!(out, "a;b\n\"x;y\";\"q\"\"\"\n");
}

#[test]
fn jsonl_in_and_out_keeps_types() {
    let (out, _, _) = ok(
        json!({"input": {"format": "jsonl"}, "output": {"format": "jsonl"},
               "rules": [{"rule": "trim"}]}),
        "{\"a\": \" x \", \"n\": 1.5e3, \"o\": {\"k\": [1]}, \"b\": false}\n{\"n\": null}\n",
    );
    assert_eq!(
        out,
        "{\"a\":\"x\",\"n\":1.5e3,\"o\":{\"k\": [1]},\"b\":false}\n{\"a\":null,\"n\":null,\"o\":null,\"b\":null}\n"
    );
}

#[test]
fn config_errors_against_the_header_name_the_pointer() {
    let cases = [
        (
            json!({"rules": [{"rule": "trim", "columns": ["nope"]}]}),
            "/rules/0/columns/0",
            "unknown column `nope`",
        ),
        (
            json!({"rules": [{"rule": "select", "columns": ["a"]}, {"rule": "trim", "columns": ["b"]}]}),
            "/rules/1/columns/0",
            "columns are: a",
        ),
        (
            json!({"rules": [{"rule": "range", "columns": ["a"], "min": 0}]}),
            "/rules/0/columns/0",
            "coerce it first",
        ),
        (
            json!({"rules": [{"rule": "coerce", "columns": {"a": "int"}}, {"rule": "trim", "columns": ["a"]}]}),
            "/rules/1/columns/0",
            "before the `coerce`",
        ),
        (
            json!({"rules": [{"rule": "impute", "columns": ["a"], "strategy": "median"}]}),
            "/rules/0/columns/0",
            "int or float",
        ),
        (
            json!({"rules": [{"rule": "coerce", "columns": {"a": "int"}}, {"rule": "impute", "columns": ["a"], "strategy": "constant", "value": "x"}]}),
            "/rules/1/value",
            "not a int",
        ),
        (
            json!({"rules": [{"rule": "rename", "columns": {"a": "b"}}]}),
            "/rules/0",
            "two columns are called `b`",
        ),
        (
            json!({"rules": [{"rule": "drop", "columns": ["a", "b"]}]}),
            "/rules/0",
            "every column",
        ),
        (
            json!({"output": {"label": "zz"}}),
            "/output/label",
            "not among the output columns",
        ),
        (
            json!({"rules": [{"rule": "coerce", "columns": {"a": "int"}}, {"rule": "range", "columns": ["a"], "min": 5, "max": 1}]}),
            "/rules/1",
            "greater than",
        ),
    ];
    for (cfg, ptr, msg) in cases {
        match clean(cfg.clone(), "a,b\n1,2\n") {
            Err(CleanseError::InvalidConfig(e)) => {
                assert_eq!(e.pointer, ptr, "{cfg}: {e}");
                assert!(e.message.contains(msg), "{cfg}: {e}");
            }
            other => panic!("{cfg}: {other:?}"),
        }
    }
}

#[test]
fn run_refuses_configs_that_need_statistics() {
    let cfg = Config::from_value(
        &json!({"rules": [{"rule": "coerce", "columns": {"a": "int"}},
        {"rule": "impute", "columns": ["a"], "strategy": "mean"}]}),
    )
    .unwrap();
    let e = cleanse::run(&cfg, &b"a\n1\n"[..], Vec::new(), Vec::new()).unwrap_err();
    assert_eq!(e.name(), "Cleanse.InvalidConfig");
}

// ---- the bad-input suite: a named error or a counted reject, never a panic ----

#[test]
fn empty_input_is_invalid_input() {
    let e = clean(json!({}), "").unwrap_err();
    assert_eq!(e.name(), "Cleanse.InvalidInput");
    assert!(e.to_string().contains("empty"), "{e}");
    let e = clean(json!({"input": {"format": "jsonl"}}), "\n\n").unwrap_err();
    assert_eq!(e.name(), "Cleanse.InvalidInput");
}

#[test]
fn header_only_is_no_rows_unless_allowed() {
    let e = clean(json!({}), "a,b\n").unwrap_err();
    assert_eq!(e.name(), "Cleanse.NoRows");
    let (out, _, r) = ok(json!({"min_rows_out": 0}), "a,b\n");
    assert_eq!((out.as_str(), r.rows_in), ("a,b\n", 0));
}

#[test]
fn malformed_rows_are_counted_and_rejected_with_line_numbers() {
    let mut data = b"a,b\n1,2\n1,2,3\n4\n".to_vec();
    data.extend_from_slice(b"\xc3\x28,5\n");
    data.extend_from_slice(format!("{},6\n", "x".repeat(1_000_000)).as_bytes());
    data.extend_from_slice(b"7,8\n");
    let cfg = Config::from_value(&json!({})).unwrap();
    let (mut out, mut rej) = (Vec::new(), Vec::new());
    let r = cleanse::run(&cfg, &data[..], &mut out, &mut rej).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "a,b\n1,2\n7,8\n");
    assert_eq!((r.rows_in, r.rows_out, r.rows_rejected), (6, 2, 4));
    assert_eq!(r.malformed["wrong_column_count"], 2);
    assert_eq!(r.malformed["invalid_utf8"], 1);
    assert_eq!(r.malformed["field_too_large"], 1);
    let rej: Vec<Value> = String::from_utf8(rej)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lines: Vec<u64> = rej.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 4, 5, 6]);
    assert_eq!(rej[0]["detail"], "3 fields, expected 2");
    assert_eq!(rej[1]["record"], "4");
    // the 1 MB field is cut in the rejects object
    assert!(rej[3]["record"].as_str().unwrap().len() < 5000);
}

#[test]
fn a_record_over_the_record_limit_is_rejected_without_being_held() {
    let cfg =
        json!({"input": {"max_record_bytes": 65536, "max_field_bytes": 65536}, "min_rows_out": 0});
    let data = format!("a\n\"{}\"\nok\n", "y\n".repeat(200_000));
    let (out, rej, r) = ok(cfg, &data);
    assert_eq!(out, "a\nok\n");
    assert_eq!(r.malformed["record_too_large"], 1);
    assert_eq!(rej[0]["line"], 2);
}

#[test]
fn ragged_rows_pad_truncate_is_counted() {
    let (out, _, r) = ok(
        json!({"input": {"ragged": "pad_truncate"}}),
        "a,b\n1,2,3\n4\n",
    );
    assert_eq!(out, "a,b\n1,2\n4,\n");
    assert_eq!(
        (r.ragged_truncated, r.ragged_padded, r.rows_rejected),
        (1, 1, 0)
    );
}

#[test]
fn every_row_rejected_is_no_rows_with_the_report() {
    match clean(
        json!({"rules": [{"rule": "coerce", "columns": {"a": "int"}}]}),
        "a\nx\ny\n",
    ) {
        Err(CleanseError::NoRows(r)) => assert_eq!((r.rows_in, r.rows_rejected), (2, 2)),
        other => panic!("{other:?}"),
    }
}

struct FailingReader {
    data: Vec<u8>,
    pos: usize,
}

impl std::io::Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.data.len() {
            return Err(std::io::Error::other("connection reset"));
        }
        let n = buf.len().min(self.data.len() - self.pos).min(4096);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

struct FailingWriter(usize);

impl std::io::Write for FailingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0 < buf.len() {
            return Err(std::io::Error::other("disk full"));
        }
        self.0 -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn read_and_write_failures_mid_stream_are_io_errors() {
    let mut data = b"a,b\n".to_vec();
    for i in 0..200_000 {
        data.extend_from_slice(format!("{i},x\n").as_bytes());
    }
    let cfg = Config::from_value(&json!({})).unwrap();
    let e = cleanse::run(
        &cfg,
        FailingReader {
            data: data.clone(),
            pos: 0,
        },
        Vec::new(),
        Vec::new(),
    )
    .unwrap_err();
    assert_eq!(e.name(), "Cleanse.IOError");
    assert!(e.to_string().contains("connection reset"), "{e}");
    let e = cleanse::run(&cfg, &data[..], FailingWriter(100_000), Vec::new()).unwrap_err();
    assert_eq!(e.name(), "Cleanse.IOError");
    assert!(e.to_string().contains("disk full"), "{e}");
}

#[test]
fn statistics_see_values_changed_by_earlier_rules_and_not_later_ones() {
    // `case` on g does not affect x's statistics (skipped in the statistics pass); `null_markers`
    // and the `range` drop before `impute` do; the `range` clip after it does not
    let (out, _, r) = ok(
        json!({"rules": [
            {"rule": "case", "columns": ["g"], "to": "upper"},
            {"rule": "null_markers", "values": ["-"]},
            {"rule": "coerce", "columns": {"x": "float"}},
            {"rule": "range", "columns": ["x"], "max": 100},
            {"rule": "impute", "columns": ["x"], "strategy": "mean"},
            {"rule": "range", "columns": ["x"], "max": 3, "action": "clip"}]}),
        "g,x\na,2\nb,-\nc,1000\nd,6\n",
    );
    assert_eq!(out, "g,x\nA,2\nB,3.0\nD,3.0\n");
    assert_eq!(r.imputed[0].value, json!(4.0));
    // counts come from the writing pass only (c is uppercased, then dropped by the range rule)
    assert_eq!(rule_counts(&r, 0), (4, 0));
}
