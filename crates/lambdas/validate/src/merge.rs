//! Merging profiles: the profiles of the parts of a data set (objects under a prefix, batches of
//! a Distributed Map) combined into one profile of the whole, with the same shape as
//! [`crate::run`]'s `profile`, so it can serve as a drift baseline too.
//!
//! What is exact and what is not:
//!
//! - `rows`, `count`, `nulls`, `null_fraction`, `invalid`, `min`, `max`, `mean` are exact; `std`
//!   is exact (pooled sample variance) up to floating point.
//! - Quantiles and histograms cannot be merged exactly from summaries. The merged distribution is
//!   the mixture of the parts' histograms, each bin spread uniformly between its edges (each part's
//!   histogram has equal-mass bins from its own quantiles); quantiles are read from that mixture's
//!   CDF, and the histogram is rebuilt with equal-mass bins from them. A merged numeric column says
//!   `"quantiles_exact": false`, `"quantiles_method": "histogram mixture"`: the error of a quantile
//!   is at most the width of the parts' bins around it.
//! - `top` values: counts are summed per value; a value outside a part's top list is missing from
//!   that part's count, so `top_exact` is true only when every part's list was exact.
//! - `distinct`: the largest part's count (a lower bound), `distinct_exact: false` when there are
//!   several parts.
//!
//! ```
//! use serde_json::json;
//! let a = validate::run(&validate::Suite::from_json(r#"{"expectations": []}"#).unwrap(),
//!     "x,c\n1,a\n2,b\n3,a\n".as_bytes()).unwrap().profile;
//! let b = validate::run(&validate::Suite::from_json(r#"{"expectations": []}"#).unwrap(),
//!     "x,c\n10,a\n,c\n".as_bytes()).unwrap().profile;
//! let m = validate::merge::merge_profiles(&[a, b]);
//! assert_eq!(m["rows"], 5);
//! assert_eq!(m["columns"]["x"]["count"], 4);
//! assert_eq!(m["columns"]["x"]["nulls"], 1);
//! assert_eq!(m["columns"]["x"]["max"], 10.0);
//! assert_eq!(m["columns"]["x"]["mean"], 4.0);
//! assert_eq!(m["columns"]["c"]["top"][0], json!({"value": "a", "count": 3}));
//! ```

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

fn num(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64)
}

fn int(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

/// Merges profiles (each `{"rows", "columns": {name: column profile}}`) into one. Columns are
/// taken in the order of their first appearance; a column missing from a part counts as absent
/// there (its rows are not nulls of the column).
pub fn merge_profiles(parts: &[Value]) -> Value {
    let rows: u64 = parts.iter().map(|p| int(p, "rows")).sum();
    let mut names: Vec<String> = Vec::new();
    for p in parts {
        if let Some(cols) = p.get("columns").and_then(Value::as_object) {
            for k in cols.keys() {
                if !names.contains(k) {
                    names.push(k.clone());
                }
            }
        }
    }
    let mut columns = Map::new();
    for name in &names {
        let cols: Vec<&Value> = parts
            .iter()
            .filter_map(|p| p.get("columns").and_then(|c| c.get(name)))
            .collect();
        columns.insert(name.clone(), merge_column(&cols));
    }
    json!({"rows": rows, "parts": parts.len(), "columns": columns})
}

fn merged_type(cols: &[&Value]) -> String {
    let types: Vec<&str> = cols
        .iter()
        .filter(|c| int(c, "count") > 0)
        .filter_map(|c| c.get("type").and_then(Value::as_str))
        .collect();
    match types.first() {
        None => cols
            .first()
            .and_then(|c| c.get("type").and_then(Value::as_str))
            .unwrap_or("string")
            .to_string(),
        Some(first) if types.iter().all(|t| t == first) => first.to_string(),
        Some(_) if types.iter().all(|t| *t == "int" || *t == "float") => "float".into(),
        Some(_) => "string".into(),
    }
}

fn merge_column(cols: &[&Value]) -> Value {
    let ty = merged_type(cols);
    let count: u64 = cols.iter().map(|c| int(c, "count")).sum();
    let nulls: u64 = cols.iter().map(|c| int(c, "nulls")).sum();
    let invalid: u64 = cols.iter().map(|c| int(c, "invalid")).sum();
    let mut m = Map::new();
    m.insert("type".into(), json!(ty));
    m.insert(
        "declared".into(),
        json!(cols
            .iter()
            .all(|c| c.get("declared") == Some(&Value::Bool(true)))),
    );
    m.insert("count".into(), json!(count));
    m.insert("nulls".into(), json!(nulls));
    let total = count + nulls;
    m.insert(
        "null_fraction".into(),
        json!(if total == 0 {
            0.0
        } else {
            nulls as f64 / total as f64
        }),
    );
    m.insert("invalid".into(), json!(invalid));
    let numeric: Vec<&Value> = cols
        .iter()
        .copied()
        .filter(|c| {
            matches!(c.get("type").and_then(Value::as_str), Some("int" | "float"))
                && int(c, "count") > 0
        })
        .collect();
    if ty == "int" || ty == "float" {
        merge_numeric(&numeric, &mut m);
    } else if ty == "timestamp" {
        merge_text_bounds(cols, &mut m);
    } else {
        merge_text_bounds(cols, &mut m);
        merge_categorical(cols, &mut m);
    }
    Value::Object(m)
}

fn merge_text_bounds(cols: &[&Value], m: &mut Map<String, Value>) {
    let lo = cols
        .iter()
        .filter_map(|c| c.get("min").and_then(Value::as_str))
        .min();
    let hi = cols
        .iter()
        .filter_map(|c| c.get("max").and_then(Value::as_str))
        .max();
    if let (Some(lo), Some(hi)) = (lo, hi) {
        m.insert("min".into(), json!(lo));
        m.insert("max".into(), json!(hi));
    }
}

fn merge_categorical(cols: &[&Value], m: &mut Map<String, Value>) {
    let with_values: Vec<&&Value> = cols.iter().filter(|c| int(c, "count") > 0).collect();
    if let Some(d) = with_values
        .iter()
        .filter_map(|c| c.get("distinct").and_then(Value::as_u64))
        .max()
    {
        m.insert("distinct".into(), json!(d));
        m.insert(
            "distinct_exact".into(),
            json!(
                with_values.len() <= 1
                    && with_values
                        .iter()
                        .all(|c| c.get("distinct_exact") == Some(&Value::Bool(true)))
            ),
        );
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut k = 0;
    let mut exact = true;
    let mut any = false;
    for c in cols {
        if let Some(top) = c.get("top").and_then(Value::as_array) {
            any = true;
            k = k.max(top.len());
            exact &= c.get("top_exact") == Some(&Value::Bool(true));
            for t in top {
                if let Some(v) = t.get("value").and_then(Value::as_str) {
                    *counts.entry(v.to_string()).or_default() += int(t, "count");
                }
            }
        }
    }
    if any {
        let mut list: Vec<(String, u64)> = counts.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        exact &= list.len() <= k;
        list.truncate(k);
        m.insert(
            "top".into(),
            Value::Array(
                list.into_iter()
                    .map(|(value, count)| json!({"value": value, "count": count}))
                    .collect(),
            ),
        );
        m.insert("top_exact".into(), json!(exact));
    }
}

/// One part's histogram: bins `(lo, hi, count)`.
fn bins(c: &Value) -> Vec<(f64, f64, f64)> {
    let h = c.get("histogram");
    let edges: Vec<f64> = h
        .and_then(|h| h.get("edges"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    let counts: Vec<f64> = h
        .and_then(|h| h.get("counts"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    if edges.len() >= 2 && counts.len() == edges.len() - 1 {
        edges
            .windows(2)
            .zip(counts)
            .map(|(w, n)| (w[0], w[1], n))
            .collect()
    } else if let (Some(lo), Some(hi)) = (num(c, "min"), num(c, "max")) {
        // no histogram: spread the values uniformly over the range
        vec![(lo, hi, int(c, "count") as f64)]
    } else {
        Vec::new()
    }
}

/// The mixture's count of values `<= x`.
fn cdf(all: &[(f64, f64, f64)], x: f64) -> f64 {
    all.iter()
        .map(|&(lo, hi, n)| {
            if x >= hi {
                n
            } else if x < lo {
                0.0
            } else if hi > lo {
                n * (x - lo) / (hi - lo)
            } else {
                n
            }
        })
        .sum()
}

/// The smallest `x` in `[lo, hi]` whose mixture count reaches `target`.
fn invert(all: &[(f64, f64, f64)], target: f64, lo: f64, hi: f64) -> f64 {
    if cdf(all, lo) >= target {
        return lo;
    }
    let (mut a, mut b) = (lo, hi);
    for _ in 0..100 {
        let mid = a + (b - a) / 2.0;
        if mid <= a || mid >= b {
            break;
        }
        if cdf(all, mid) >= target {
            b = mid;
        } else {
            a = mid;
        }
    }
    b
}

fn merge_numeric(cols: &[&Value], m: &mut Map<String, Value>) {
    let n: f64 = cols.iter().map(|c| int(c, "count") as f64).sum();
    if n == 0.0 {
        return;
    }
    let lo = cols
        .iter()
        .filter_map(|c| num(c, "min"))
        .fold(f64::INFINITY, f64::min);
    let hi = cols
        .iter()
        .filter_map(|c| num(c, "max"))
        .fold(f64::NEG_INFINITY, f64::max);
    let mean = cols
        .iter()
        .map(|c| int(c, "count") as f64 * num(c, "mean").unwrap_or(0.0))
        .sum::<f64>()
        / n;
    // pooled sample variance: Σ (n_i − 1) s_i² + n_i (m_i − m)², over n − 1
    let ss: f64 = cols
        .iter()
        .map(|c| {
            let ni = int(c, "count") as f64;
            let si = num(c, "std").unwrap_or(0.0);
            let mi = num(c, "mean").unwrap_or(0.0);
            (ni - 1.0).max(0.0) * si * si + ni * (mi - mean) * (mi - mean)
        })
        .sum();
    m.insert("min".into(), json!(lo));
    m.insert("max".into(), json!(hi));
    m.insert("mean".into(), json!(mean));
    m.insert(
        "std".into(),
        if n >= 2.0 {
            json!((ss / (n - 1.0)).max(0.0).sqrt())
        } else {
            Value::Null
        },
    );
    if cols.len() == 1 {
        for k in ["quantiles", "quantiles_exact", "histogram"] {
            if let Some(v) = cols[0].get(k) {
                m.insert(k.into(), v.clone());
            }
        }
        return;
    }
    let all: Vec<(f64, f64, f64)> = cols.iter().flat_map(|c| bins(c)).collect();
    let total: f64 = all.iter().map(|b| b.2).sum();
    if total <= 0.0 || !lo.is_finite() || !hi.is_finite() {
        return;
    }
    let probs: Vec<String> = cols
        .iter()
        .find_map(|c| c.get("quantiles").and_then(Value::as_object))
        .map(|q| q.keys().cloned().collect())
        .unwrap_or_default();
    let mut qm = Map::new();
    for p in &probs {
        if let Ok(q) = p.parse::<f64>() {
            qm.insert(p.clone(), json!(invert(&all, q * total, lo, hi)));
        }
    }
    m.insert("quantiles".into(), Value::Object(qm));
    m.insert("quantiles_exact".into(), json!(false));
    m.insert("quantiles_method".into(), json!("histogram mixture"));
    let nbins = cols
        .iter()
        .filter_map(|c| {
            c.get("histogram")
                .and_then(|h| h.get("counts"))
                .and_then(Value::as_array)
                .map(Vec::len)
        })
        .max()
        .unwrap_or(10)
        .max(1);
    let mut edges: Vec<f64> = (0..=nbins)
        .map(|i| {
            if i == 0 {
                lo
            } else if i == nbins {
                hi
            } else {
                invert(&all, total * i as f64 / nbins as f64, lo, hi)
            }
        })
        .collect();
    edges.dedup();
    if edges.len() < 2 {
        edges = vec![lo, hi];
    }
    // integer counts that add up to the merged count: cumulative rounding
    let mut counts = Vec::with_capacity(edges.len() - 1);
    let mut prev = 0u64;
    for (i, e) in edges[1..].iter().enumerate() {
        let below = if i + 2 == edges.len() {
            n as u64
        } else {
            (cdf(&all, *e) / total * n).round() as u64
        };
        counts.push(below.saturating_sub(prev));
        prev = below.max(prev);
    }
    m.insert(
        "histogram".into(),
        json!({"edges": edges, "counts": counts}),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(csv: &str) -> Value {
        let suite = crate::Suite::from_json(r#"{"expectations": []}"#).unwrap();
        crate::run(&suite, csv.as_bytes()).unwrap().profile
    }

    fn data(range: std::ops::Range<i64>) -> String {
        let mut s = String::from("x\n");
        for i in range {
            s.push_str(&format!("{i}\n"));
        }
        s
    }

    #[test]
    fn moments_are_exact() {
        let whole = profile(&data(0..1000));
        let merged = merge_profiles(&[profile(&data(0..300)), profile(&data(300..1000))]);
        let (w, m) = (&whole["columns"]["x"], &merged["columns"]["x"]);
        for k in ["count", "min", "max"] {
            assert_eq!(w[k], m[k], "{k}");
        }
        for k in ["mean", "std"] {
            let (a, b) = (w[k].as_f64().unwrap(), m[k].as_f64().unwrap());
            assert!((a - b).abs() < 1e-9 * a.abs().max(1.0), "{k}: {a} vs {b}");
        }
        assert_eq!(merged["rows"], 1000);
        assert_eq!(merged["parts"], 2);
    }

    #[test]
    fn quantiles_come_from_the_mixture_within_a_bin() {
        let whole = profile(&data(0..10_000));
        let parts: Vec<Value> = (0..4)
            .map(|i| profile(&data(i * 2500..(i + 1) * 2500)))
            .collect();
        let merged = merge_profiles(&parts);
        let m = &merged["columns"]["x"];
        assert_eq!(m["quantiles_exact"], false);
        for q in ["0.05", "0.25", "0.5", "0.75", "0.95"] {
            let a = whole["columns"]["x"]["quantiles"][q].as_f64().unwrap();
            let b = m["quantiles"][q].as_f64().unwrap();
            // a part's bin is 250 values wide
            assert!((a - b).abs() <= 250.0, "q{q}: {a} vs {b}");
        }
        let counts: u64 = m["histogram"]["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .sum();
        assert_eq!(counts, 10_000);
        let edges = m["histogram"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 11);
        assert!(edges.windows(2).all(|w| w[0].as_f64() < w[1].as_f64()));
    }

    #[test]
    fn categories_nulls_and_mixed_types() {
        let a = profile("c,y\na,1\nb,2\na,\n");
        let b = profile("c,y\na,x\n,y\n");
        let m = merge_profiles(&[a, b]);
        let c = &m["columns"]["c"];
        assert_eq!(c["count"], 4);
        assert_eq!(c["nulls"], 1);
        assert_eq!(c["null_fraction"], 0.2);
        assert_eq!(c["top"][0], json!({"value": "a", "count": 3}));
        assert_eq!(c["min"], "a");
        assert_eq!(c["max"], "b");
        assert_eq!(
            m["columns"]["y"]["type"], "string",
            "int and string merge as string"
        );
    }

    #[test]
    fn a_column_missing_from_a_part_and_empty_input() {
        let m = merge_profiles(&[profile("a\n1\n"), profile("b\nx\n")]);
        assert_eq!(m["columns"]["a"]["count"], 1);
        assert_eq!(m["columns"]["b"]["count"], 1);
        assert_eq!(merge_profiles(&[])["rows"], 0);
        // garbage in: no panic
        let m = merge_profiles(&[
            json!(null),
            json!({"columns": {"z": {"type": "float", "count": 2, "histogram": {"edges": [1], "counts": []}}}}),
        ]);
        assert_eq!(m["columns"]["z"]["count"], 2);
    }
}
