//! The Map state: inline iterations (recorded in the execution's history) and Distributed Map
//! runs (child executions, with ItemReader, ItemBatcher, ResultWriter and tolerated failures).
//!
//! Iterations run one after the other in index order, so runs are deterministic; MaxConcurrency
//! is validated but does not change the result.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::error::{names, Failure, FailureKind};
use crate::exec::{Assigned, Cur, Exec, Frame, NumValue};
use crate::history::{Data, ErrorInfo, EventDetails};
use crate::items::{listing_items, parse_items, ReaderOptions};
use crate::jx;
use crate::program::{ItemsSpec, MapOp, ReaderSpec, SelectorSpec, WriterSpec};
use crate::vars::Vars;

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_integer(v: &Value) -> bool {
    v.as_i64().is_some() || v.as_u64().is_some()
}

/// An integer field (`MaxConcurrency`, `ToleratedFailureCount`, `MaxItems`, ...).
fn int_field(v: Option<NumValue>, field: &str) -> Result<Option<i64>, Failure> {
    Ok(match v {
        None => None,
        Some(NumValue::Literal(n)) => Some(n as i64),
        Some(NumValue::FromPath(v, src)) => {
            if !is_integer(&v) {
                return Err(Failure::runtime(format!(
                    "The {field}Path field refers to value \"{}\" which is not a valid integer: {src}",
                    plain(&v)
                )));
            }
            v.as_i64()
        }
        Some(NumValue::FromJsonata(v, src)) => {
            if !is_integer(&v) {
                return Err(Failure::query(
                    Some(field.into()),
                    format!(
                        "The JSONata expression '{src}' specified for the field '{field}' returned an unexpected result type. Expected 'integer', but was '{}' for value: {v}",
                        jx::type_name(&v)
                    ),
                ));
            }
            v.as_i64()
        }
    })
}

pub(crate) fn map_attempt(
    ex: &mut Exec<'_>,
    cur: &mut Cur<'_>,
    raw: &Data,
    m: &MapOp,
    frame: &mut Frame,
) -> Result<(Data, Assigned), Failure> {
    let node = cur.node;
    let eff = if node.jsonata {
        raw.clone()
    } else {
        ex.input_path(cur, &node.input_path, raw, frame)?
    };
    let mc = ex.num_value(&m.max_concurrency, &eff, cur, frame, "MaxConcurrency")?;
    if let Some(n) = int_field(mc, "MaxConcurrency")? {
        if n < 0 {
            return Err(Failure::runtime(format!(
                "MaxConcurrency must be a non-negative integer, found {n}"
            )));
        }
    }

    let items: Vec<Value> = match &m.reader {
        Some(reader) => read_items(ex, cur, reader, &eff, frame)?,
        None => items_of(ex, cur, m, raw, &eff, frame)?,
    };

    ex.emit(
        frame,
        EventDetails::MapStateStarted {
            length: if m.reader.is_some() { 0 } else { items.len() },
        },
        false,
    );

    let tol_count = int_field(
        ex.num_value(
            &m.tolerated_count,
            &eff,
            cur,
            frame,
            "ToleratedFailureCount",
        )?,
        "ToleratedFailureCount",
    )?;
    let tol_pct = match ex.num_value(
        &m.tolerated_percentage,
        &eff,
        cur,
        frame,
        "ToleratedFailurePercentage",
    )? {
        None => None,
        Some(NumValue::Literal(n)) => Some(n),
        Some(NumValue::FromPath(v, src)) => match v.as_f64() {
            Some(n) => Some(n),
            None => {
                return Err(Failure::runtime(format!(
                    "The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid float: {src}",
                    plain(&v)
                )))
            }
        },
        Some(NumValue::FromJsonata(v, src)) => match v.as_f64() {
            Some(n) => Some(n),
            None => {
                return Err(Failure::query(
                    Some("ToleratedFailurePercentage".into()),
                    format!(
                        "The JSONata expression '{src}' specified for the field 'ToleratedFailurePercentage' returned an unexpected result type. Expected 'number', but was '{}' for value: {v}",
                        jx::type_name(&v)
                    ),
                ))
            }
        },
    };
    if let Some(p) = tol_pct {
        if !(0.0..=100.0).contains(&p) {
            return Err(Failure::runtime(
                "ToleratedFailurePercentage must be between 0 and 100.",
            ));
        }
    }
    if let Some(c) = tol_count {
        if c < 0 {
            return Err(Failure::runtime(
                "ToleratedFailureCount must be a non-negative integer.",
            ));
        }
    }

    // Build each iteration's input: ItemSelector per item, then batches.
    let mut inputs: Vec<Data> = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let item = Arc::new(item);
        match &m.selector {
            None => inputs.push(item),
            Some(sel) => {
                cur.item = Some((i, item));
                let v = ex.eval_selector(
                    cur,
                    sel,
                    if node.jsonata { raw } else { &eff },
                    frame,
                    "ItemSelector",
                );
                cur.item = None;
                inputs.push(Arc::new(v?));
            }
        }
    }
    if let Some(b) = &m.batcher {
        inputs = batch(ex, cur, b, inputs, &eff, frame)?;
    }

    let keep_results = node.jsonata
        || !matches!(node.result_path, crate::program::ResultSpec::Discard)
        || node.assign.is_some()
        || node.result_selector.is_some()
        || m.writer.is_some();

    let result: Data = if m.distributed {
        distributed(
            ex,
            cur,
            m,
            inputs,
            (tol_count, tol_pct),
            frame,
            keep_results,
        )?
    } else {
        inline(ex, cur, m, inputs, frame, keep_results)?
    };
    ex.finish_result(cur, raw, result, frame)
}

fn items_of(
    ex: &mut Exec<'_>,
    cur: &Cur<'_>,
    m: &MapOp,
    raw: &Data,
    eff: &Data,
    frame: &Frame,
) -> Result<Vec<Value>, Failure> {
    match &m.items {
        ItemsSpec::Path(spec) => {
            let v = ex.input_path(cur, spec, eff, frame)?;
            match Arc::try_unwrap(v).unwrap_or_else(|a| (*a).clone()) {
                Value::Array(a) => Ok(a),
                other => {
                    let msg = format!("Map state input must be an array but was: {other}");
                    if cur.node.jsonata {
                        Err(Failure::query(None, msg))
                    } else {
                        Err(Failure::runtime(msg))
                    }
                }
            }
        }
        ItemsSpec::Jsonata(t) => {
            let v = ex.jsonata_value(cur, t, raw, frame, "Items")?;
            match v {
                Value::Array(a) => Ok(a),
                other => Err(match t.as_expr() {
                    Some(e) => jx::wrong_type(e, "Items", "array", &other),
                    None => Failure::query(
                        Some("Items".into()),
                        format!("The Items field must be an array but was: {other}"),
                    ),
                }),
            }
        }
    }
}

fn read_items(
    ex: &mut Exec<'_>,
    cur: &Cur<'_>,
    r: &ReaderSpec,
    eff: &Data,
    frame: &Frame,
) -> Result<Vec<Value>, Failure> {
    let fail = |msg: String| Failure::new(names::ITEM_READER_FAILED, msg);
    let store = ex.cfg.store.clone().ok_or_else(|| {
        fail(format!(
            "state '{}' reads items from {} but no object store is configured (Runner::object_store, or --objects DIR on the command line)",
            cur.node.name, r.resource
        ))
    })?;
    let request = match &r.request {
        Some(sel) => ex.eval_selector(cur, sel, eff, frame, "ItemReader/Parameters")?,
        None => Value::Object(Map::new()),
    };
    let bucket = request["Bucket"].as_str().unwrap_or_default().to_string();
    let resource = crate::tasks::strip_pattern(&r.resource);
    let mut items = if resource.ends_with(":s3:listObjectsV2") {
        let prefix = request["Prefix"].as_str().unwrap_or_default();
        let objs = store
            .list_objects(&bucket, prefix)
            .map_err(|e| fail(e.to_string()))?;
        listing_items(&objs)
    } else if resource.ends_with(":s3:getObject") {
        let key = request["Key"].as_str().unwrap_or_default();
        let bytes = store
            .get_object(&bucket, key)
            .map_err(|e| fail(e.to_string()))?;
        let opts = ReaderOptions {
            input_type: r.input_type.clone(),
            csv_header_location: r.csv_header_location.clone(),
            csv_headers: r.csv_headers.clone(),
            csv_delimiter: r.csv_delimiter.clone(),
        };
        parse_items(&bytes, &opts, store.as_ref())
            .map_err(|e| fail(format!("s3://{bucket}/{key}: {e}")))?
    } else {
        return Err(fail(format!(
            "unsupported ItemReader resource '{}' (s3:getObject or s3:listObjectsV2)",
            r.resource
        )));
    };
    if let Some(max) = int_field(
        ex.num_value(&r.max_items, eff, cur, frame, "MaxItems")?,
        "MaxItems",
    )? {
        if max > 0 {
            items.truncate(max as usize);
        }
    }
    Ok(items)
}

fn batch(
    ex: &mut Exec<'_>,
    cur: &Cur<'_>,
    b: &crate::program::BatcherSpec,
    inputs: Vec<Data>,
    eff: &Data,
    frame: &Frame,
) -> Result<Vec<Data>, Failure> {
    let max_items = int_field(
        ex.num_value(&b.max_items, eff, cur, frame, "MaxItemsPerBatch")?,
        "MaxItemsPerBatch",
    )?
    .filter(|n| *n > 0)
    .map(|n| n as usize);
    let max_bytes = int_field(
        ex.num_value(&b.max_bytes, eff, cur, frame, "MaxInputBytesPerBatch")?,
        "MaxInputBytesPerBatch",
    )?
    .filter(|n| *n > 0)
    .map(|n| n as usize)
    .unwrap_or(256 * 1024);
    let batch_input = match &b.batch_input {
        Some(SelectorSpec::Path(t)) => Some(ex.eval_template(cur, t, eff, frame)?),
        Some(sel @ SelectorSpec::Jsonata(_)) => {
            Some(ex.eval_selector(cur, sel, eff, frame, "ItemBatcher/BatchInput")?)
        }
        None => None,
    };
    let mut out = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut bytes = 0usize;
    for item in inputs {
        let item = Arc::try_unwrap(item).unwrap_or_else(|a| (*a).clone());
        let size = item.to_string().len() + 1;
        let full_items = max_items.is_some_and(|m| current.len() >= m);
        if !current.is_empty() && (full_items || bytes + size > max_bytes) {
            out.push(make_batch(std::mem::take(&mut current), &batch_input));
            bytes = 0;
        }
        bytes += size;
        current.push(item);
    }
    if !current.is_empty() {
        out.push(make_batch(current, &batch_input));
    }
    Ok(out)
}

fn make_batch(items: Vec<Value>, batch_input: &Option<Value>) -> Data {
    let mut m = Map::new();
    if let Some(b) = batch_input {
        m.insert("BatchInput".into(), b.clone());
    }
    m.insert("Items".into(), Value::Array(items));
    Arc::new(Value::Object(m))
}

fn inline(
    ex: &mut Exec<'_>,
    cur: &Cur<'_>,
    m: &MapOp,
    inputs: Vec<Data>,
    frame: &mut Frame,
    keep: bool,
) -> Result<Data, Failure> {
    let name = cur.node.name.clone();
    let mut results = Vec::with_capacity(if keep { inputs.len() } else { 0 });
    let mut done_id: Option<u64> = None;
    for (index, input) in inputs.into_iter().enumerate() {
        ex.emit(
            frame,
            EventDetails::MapIterationStarted {
                name: name.clone(),
                index,
            },
            false,
        );
        let mut it = Frame {
            prev: frame.prev,
            vars: frame.vars.clone(),
            record: frame.record,
        };
        match ex.run_graph(&m.processor, input, &mut it) {
            Ok(out) => {
                let id = ex.emit_after(
                    frame,
                    it.prev,
                    EventDetails::MapIterationSucceeded {
                        name: name.clone(),
                        index,
                    },
                );
                done_id = Some(id);
                frame.prev = it.prev;
                if keep {
                    results.push(Arc::try_unwrap(out).unwrap_or_else(|a| (*a).clone()));
                }
            }
            Err(f) => {
                if f.kind == FailureKind::Halt {
                    return Err(f);
                }
                ex.emit_after(
                    frame,
                    it.prev,
                    EventDetails::MapIterationFailed {
                        name: name.clone(),
                        index,
                    },
                );
                frame.prev = it.prev;
                return Err(f.with_located());
            }
        }
    }
    let last = done_id.unwrap_or(frame.prev);
    ex.emit_after(frame, last, EventDetails::MapStateSucceeded);
    frame.prev = last;
    Ok(Arc::new(Value::Array(results)))
}

fn distributed(
    ex: &mut Exec<'_>,
    cur: &Cur<'_>,
    m: &MapOp,
    inputs: Vec<Data>,
    (tol_count, tol_pct): (Option<i64>, Option<f64>),
    frame: &mut Frame,
    keep: bool,
) -> Result<Data, Failure> {
    let run_id = ex.rng.uuid_v4();
    let label = m.label.clone().unwrap_or_else(|| cur.node.name.to_string());
    let map_run_arn: Arc<str> = format!(
        "arn:aws:states:{}:{}:mapRun:{}/{}:{}",
        ex.cfg.options.region,
        ex.cfg.options.account_id,
        ex.cfg.options.state_machine_name,
        label,
        run_id
    )
    .into();
    ex.emit(
        frame,
        EventDetails::MapRunStarted {
            map_run_arn: map_run_arn.clone(),
        },
        false,
    );
    let total = inputs.len();
    let mut succeeded: Vec<(usize, Data, Data)> = Vec::new();
    let mut failed: Vec<(usize, Data, Failure)> = Vec::new();
    for (index, input) in inputs.into_iter().enumerate() {
        let mut child = Frame {
            prev: 0,
            vars: Vars::empty(),
            record: false,
        };
        match ex.run_graph(&m.processor, input.clone(), &mut child) {
            Ok(out) => succeeded.push((index, input, out)),
            Err(f) if f.kind == FailureKind::Halt => return Err(f),
            Err(f) => failed.push((index, input, f)),
        }
    }
    let allowed_by_count = tol_count.map(|c| failed.len() as i64 <= c);
    let allowed_by_pct =
        tol_pct.map(|p| total == 0 || (failed.len() as f64) * 100.0 / (total as f64) <= p);
    let tolerated =
        failed.is_empty() || allowed_by_count == Some(true) || allowed_by_pct == Some(true);
    if !tolerated {
        let f = if tol_count.is_none() && tol_pct.is_none() {
            failed.swap_remove(0).2
        } else {
            Failure::new(
                names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                format!(
                    "The specified tolerated failure threshold was exceeded: {} of {total} items failed.",
                    failed.len()
                ),
            )
        };
        ex.emit(
            frame,
            EventDetails::MapRunFailed(ErrorInfo {
                error: f.error.clone(),
                cause: f.cause.clone(),
            }),
            false,
        );
        return Err(f);
    }
    let run_done = ex.emit(frame, EventDetails::MapRunSucceeded, false);
    let result = if let Some(w) = &m.writer {
        write_results(
            ex,
            cur,
            w,
            &map_run_arn,
            &run_id,
            &succeeded,
            &failed,
            frame,
        )?
    } else if keep {
        let mut out: Vec<(usize, Value)> = succeeded
            .into_iter()
            .map(|(i, _, o)| (i, Arc::try_unwrap(o).unwrap_or_else(|a| (*a).clone())))
            .collect();
        out.extend(failed.iter().map(|(i, _, f)| (*i, f.error_output())));
        out.sort_by_key(|(i, _)| *i);
        Value::Array(out.into_iter().map(|(_, v)| v).collect())
    } else {
        Value::Array(Vec::new())
    };
    ex.emit_after(frame, run_done, EventDetails::MapStateSucceeded);
    Ok(Arc::new(result))
}

#[allow(clippy::too_many_arguments)]
fn write_results(
    ex: &mut Exec<'_>,
    cur: &Cur<'_>,
    w: &WriterSpec,
    map_run_arn: &str,
    run_id: &str,
    succeeded: &[(usize, Data, Data)],
    failed: &[(usize, Data, Failure)],
    frame: &Frame,
) -> Result<Value, Failure> {
    let fail = |msg: String| Failure::new(names::RESULT_WRITER_FAILED, msg);
    let store = ex.cfg.store.clone().ok_or_else(|| {
        fail(format!(
            "state '{}' writes results but no object store is configured (Runner::object_store, or --objects DIR)",
            cur.node.name
        ))
    })?;
    let empty = Arc::new(Value::Object(Map::new()));
    let request = match &w.request {
        Some(sel) => ex.eval_selector(cur, sel, &empty, frame, "ResultWriter/Parameters")?,
        None => Value::Object(Map::new()),
    };
    let bucket = request["Bucket"].as_str().unwrap_or_default().to_string();
    let prefix = request["Prefix"]
        .as_str()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();
    let base = if prefix.is_empty() {
        run_id.to_string()
    } else {
        format!("{prefix}/{run_id}")
    };
    let now = ex.clock.now().to_iso_millis();
    let exec_arn = |i: usize| format!("{map_run_arn}:{i}");
    let transformation = w.transformation.as_deref().unwrap_or("NONE");
    let entry_ok = |i: usize, input: &Value, output: &Value| -> Value {
        match transformation {
            "COMPACT" | "FLATTEN" => output.clone(),
            _ => json!({
                "ExecutionArn": exec_arn(i), "Input": input.to_string(), "InputDetails": {"Included": true},
                "Name": format!("{i}"), "Output": output.to_string(), "OutputDetails": {"Included": true},
                "RedriveCount": 0, "RedriveStatus": "NOT_REDRIVABLE", "StartDate": now,
                "StateMachineArn": ex.info.state_machine_arn, "Status": "SUCCEEDED", "StopDate": now
            }),
        }
    };
    let mut ok: Vec<Value> = Vec::new();
    for (i, input, out) in succeeded {
        let e = entry_ok(*i, input, out);
        match (transformation, e) {
            ("FLATTEN", Value::Array(a)) => ok.extend(a),
            (_, e) => ok.push(e),
        }
    }
    let bad: Vec<Value> = failed
        .iter()
        .map(|(i, input, f)| match transformation {
            "COMPACT" | "FLATTEN" => f.error_output(),
            _ => json!({
                "Cause": f.cause.clone().unwrap_or_default(), "Error": f.error.clone().unwrap_or_default(),
                "ExecutionArn": exec_arn(*i), "Input": input.to_string(), "InputDetails": {"Included": true},
                "Name": format!("{i}"), "RedriveCount": 0, "RedriveStatus": "REDRIVABLE", "StartDate": now,
                "StateMachineArn": ex.info.state_machine_arn, "Status": "FAILED", "StopDate": now
            }),
        })
        .collect();
    let jsonl = w.output_type.as_deref() == Some("JSONL");
    let render = |items: &[Value]| -> Vec<u8> {
        if jsonl {
            let mut s = String::new();
            for v in items {
                s.push_str(&v.to_string());
                s.push('\n');
            }
            s.into_bytes()
        } else {
            Value::Array(items.to_vec()).to_string().into_bytes()
        }
    };
    let ext = if jsonl { "jsonl" } else { "json" };
    let mut files = Map::new();
    for (status, items) in [
        ("SUCCEEDED", &ok),
        ("FAILED", &bad),
        ("PENDING", &Vec::new()),
    ] {
        let mut list = Vec::new();
        if !items.is_empty() {
            let key = format!("{base}/{status}_0.{ext}");
            let body = render(items);
            store
                .put_object(&bucket, &key, &body)
                .map_err(|e| fail(e.to_string()))?;
            list.push(json!({"Key": key, "Size": body.len()}));
        }
        files.insert(status.into(), Value::Array(list));
    }
    let manifest_key = format!("{base}/manifest.json");
    let manifest =
        json!({"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files});
    store
        .put_object(&bucket, &manifest_key, manifest.to_string().as_bytes())
        .map_err(|e| fail(e.to_string()))?;
    Ok(json!({
        "MapRunArn": map_run_arn,
        "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}
    }))
}

impl Failure {
    /// Marks the failure as already carrying its state prefix (an iteration's failure keeps
    /// the inner state's text when it ends the Map).
    fn with_located(mut self) -> Failure {
        self.located = true;
        self.reported = true;
        self
    }
}
