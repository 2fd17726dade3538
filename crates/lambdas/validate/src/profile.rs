//! Per-column streaming profile: type inference, completeness, moments, quantiles, histogram,
//! distinct count, top values; and the population stability index against a baseline.

use std::collections::HashSet;

use cleanse::stats::{FxBuild, HeavyHitters, Moments, QuantileSketch};
use cleanse::types::{parse_bool, parse_float, parse_int, Timestamp, ValueType};
use serde_json::{json, Map, Value};

use crate::suite::ProfileConfig;

/// Non-null values a column's type is inferred from (when not declared).
pub const INFER_SAMPLE: u64 = 1000;
/// Values a numeric column's quantiles are exact for (then within 0.2 %, see `QuantileSketch`).
pub const QUANTILE_EXACT_CAP: usize = 4096;
/// Distinct values counted exactly (then HyperLogLog, ±1.6 %).
pub const DISTINCT_EXACT_CAP: usize = 65_536;
/// Distinct text values whose counts are tracked (Misra–Gries beyond).
pub const TOP_CAPACITY: usize = 1024;
/// Text kept for a column's min/max.
const MAX_TEXT: usize = 256;

/// HyperLogLog with 4,096 registers (standard error 1.04/√4096 ≈ 1.6 %), exact below a cap.
#[derive(Debug, Clone)]
pub struct Distinct {
    exact: Option<HashSet<u64, FxBuild>>,
    regs: Vec<u8>,
}

impl Default for Distinct {
    fn default() -> Self {
        Distinct {
            exact: Some(HashSet::default()),
            regs: Vec::new(),
        }
    }
}

impl Distinct {
    /// Adds a value.
    #[inline]
    pub fn push(&mut self, bytes: &[u8]) {
        let h = xxhash_rust::xxh3::xxh3_64(bytes);
        if let Some(set) = &mut self.exact {
            set.insert(h);
            if set.len() <= DISTINCT_EXACT_CAP {
                return;
            }
            self.regs = vec![0; 4096];
            let hashes: Vec<u64> = set.iter().copied().collect();
            self.exact = None;
            for h in hashes {
                self.reg(h);
            }
            return;
        }
        self.reg(h);
    }

    #[inline]
    fn reg(&mut self, h: u64) {
        let idx = (h >> 52) as usize;
        let rank = ((h << 12) | (1 << 11)).leading_zeros() as u8 + 1;
        if rank > self.regs[idx] {
            self.regs[idx] = rank;
        }
    }

    /// The estimate, and whether it is exact.
    pub fn estimate(&self) -> (u64, bool) {
        if let Some(set) = &self.exact {
            return (set.len() as u64, true);
        }
        let m = 4096.0f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self.regs.iter().map(|&r| 2f64.powi(-(r as i32))).sum();
        let mut e = alpha * m * m / sum;
        let zeros = self.regs.iter().filter(|&&r| r == 0).count();
        if e <= 2.5 * m && zeros > 0 {
            e = m * (m / zeros as f64).ln();
        }
        (e.round() as u64, false)
    }
}

/// Everything gathered about one column in one pass.
#[derive(Debug)]
pub struct ColumnStats {
    /// Column name.
    pub name: String,
    declared: Option<ValueType>,
    /// The decided type (declared, or inferred after [`INFER_SAMPLE`] values / at the end).
    pub ty: Option<ValueType>,
    sample_seen: u64,
    could: [bool; 4], // int, float, bool, timestamp
    /// Rows seen.
    pub rows: u64,
    /// Nulls.
    pub nulls: u64,
    /// Non-null values that are not of the decided type.
    pub invalid: u64,
    moments: Moments,
    sketch: QuantileSketch,
    ts_min: Option<Timestamp>,
    ts_max: Option<Timestamp>,
    text_min: Option<Vec<u8>>,
    text_max: Option<Vec<u8>>,
    top: Option<HeavyHitters>,
    distinct: Option<Distinct>,
    /// Current counts into the baseline's histogram edges (numeric drift).
    pub drift_edges: Option<Vec<f64>>,
    /// Counts per baseline bin.
    pub drift_counts: Vec<u64>,
    // values seen before the type was decided, for the invalid count
    pending: Vec<[bool; 4]>,
}

impl ColumnStats {
    /// A new column; `declared` fixes the type.
    pub fn new(name: &str, declared: Option<ValueType>) -> Self {
        ColumnStats {
            name: name.to_string(),
            declared,
            ty: declared,
            sample_seen: 0,
            could: [true; 4],
            rows: 0,
            nulls: 0,
            invalid: 0,
            moments: Moments::default(),
            sketch: QuantileSketch::new(QUANTILE_EXACT_CAP),
            ts_min: None,
            ts_max: None,
            text_min: None,
            text_max: None,
            top: Some(HeavyHitters::new(TOP_CAPACITY, MAX_TEXT)),
            distinct: Some(Distinct::default()),
            drift_edges: None,
            drift_counts: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Counts a null.
    #[inline]
    pub fn push_null(&mut self) {
        self.rows += 1;
        self.nulls += 1;
    }

    /// Adds a non-null value; returns its float value when the column is numeric and it parses.
    #[inline]
    pub fn push(&mut self, v: &[u8]) -> Option<f64> {
        self.rows += 1;
        match self.ty {
            Some(ValueType::Int) => {
                // an integer's value as `parse_float` gives it (the nearest f64 to the same
                // number), without parsing twice; a zero is parsed again for its sign ("-0")
                let x = match parse_int(v) {
                    Some(i) if i != 0 => i as f64,
                    Some(_) => parse_float(v)?,
                    None => match parse_float(v) {
                        Some(f) if f.fract() == 0.0 => f,
                        _ => {
                            self.invalid += 1;
                            return None;
                        }
                    },
                };
                self.number(x);
                Some(x)
            }
            Some(ValueType::Float) => match parse_float(v) {
                Some(x) => {
                    self.number(x);
                    Some(x)
                }
                None => {
                    self.invalid += 1;
                    None
                }
            },
            Some(ValueType::Bool) => {
                if parse_bool(v).is_none() {
                    self.invalid += 1;
                } else {
                    self.text(v);
                }
                None
            }
            Some(ValueType::Timestamp) => {
                match Timestamp::parse(v) {
                    Some(t) => self.timestamp(t),
                    None => self.invalid += 1,
                }
                None
            }
            Some(_) => {
                self.text(v);
                None
            }
            None => self.infer(v),
        }
    }

    #[inline]
    fn number(&mut self, x: f64) {
        self.moments.push(x);
        self.sketch.push(x);
        if let Some(edges) = &self.drift_edges {
            let bin = edges[1..edges.len() - 1].partition_point(|&e| e <= x);
            self.drift_counts[bin] += 1;
        }
    }

    fn timestamp(&mut self, t: Timestamp) {
        if self.ts_min.is_none_or(|m| t < m) {
            self.ts_min = Some(t);
        }
        if self.ts_max.is_none_or(|m| t > m) {
            self.ts_max = Some(t);
        }
    }

    #[inline]
    fn text(&mut self, v: &[u8]) {
        let cut = &v[..v.len().min(MAX_TEXT)];
        if self.text_min.as_deref().is_none_or(|m| cut < m) {
            self.text_min = Some(cut.to_vec());
        }
        if self.text_max.as_deref().is_none_or(|m| cut > m) {
            self.text_max = Some(cut.to_vec());
        }
        if let Some(t) = &mut self.top {
            t.push(v);
        }
        if let Some(d) = &mut self.distinct {
            d.push(v);
        }
    }

    /// Still inferring: try every type, keep text statistics, decide after the sample.
    fn infer(&mut self, v: &[u8]) -> Option<f64> {
        let f = parse_float(v);
        let flags = [
            parse_int(v).is_some(),
            f.is_some(),
            parse_bool(v).is_some() && f.is_none(),
            Timestamp::parse(v).is_some(),
        ];
        for (c, ok) in self.could.iter_mut().zip(flags) {
            *c &= ok;
        }
        self.pending.push(flags);
        if let Some(x) = f {
            self.moments.push(x);
            self.sketch.push(x);
        }
        if let Some(t) = Timestamp::parse(v) {
            self.timestamp(t);
        }
        self.text(v);
        self.sample_seen += 1;
        if self.sample_seen >= INFER_SAMPLE {
            self.decide();
        }
        f
    }

    /// Fixes the inferred type (after the sample or at the end of the data).
    pub fn decide(&mut self) {
        if self.ty.is_some() {
            return;
        }
        let [int, float, boolean, ts] = self.could;
        let (ty, idx) = if int {
            (ValueType::Int, 0)
        } else if float {
            (ValueType::Float, 1)
        } else if boolean {
            (ValueType::Bool, 2)
        } else if ts {
            (ValueType::Timestamp, 3)
        } else {
            (ValueType::String, usize::MAX)
        };
        self.ty = Some(ty);
        if idx != usize::MAX {
            self.invalid += self.pending.iter().filter(|f| !f[idx]).count() as u64;
        }
        self.pending = Vec::new();
        if matches!(ty, ValueType::Int | ValueType::Float | ValueType::Timestamp) {
            self.top = None;
            self.distinct = None;
            self.text_min = None;
            self.text_max = None;
        }
        if ty != ValueType::Timestamp {
            self.ts_min = None;
            self.ts_max = None;
        }
        if !matches!(ty, ValueType::Int | ValueType::Float) {
            self.moments = Moments::default();
            self.sketch = QuantileSketch::new(0);
        }
    }

    /// Whether the column is numeric (after [`Self::decide`]).
    pub fn is_numeric(&self) -> bool {
        matches!(self.ty, Some(ValueType::Int | ValueType::Float))
    }

    /// Null fraction.
    pub fn null_fraction(&self) -> f64 {
        if self.rows == 0 {
            0.0
        } else {
            self.nulls as f64 / self.rows as f64
        }
    }

    /// Mean (numeric).
    pub fn mean(&self) -> Option<f64> {
        self.moments.mean()
    }

    /// Standard deviation (numeric).
    pub fn std(&self) -> Option<f64> {
        self.moments.std()
    }

    /// Minimum (numeric).
    pub fn min(&self) -> Option<f64> {
        (self.moments.count > 0).then_some(self.moments.min)
    }

    /// Maximum (numeric).
    pub fn max(&self) -> Option<f64> {
        (self.moments.count > 0).then_some(self.moments.max)
    }

    /// A quantile (numeric).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.sketch.quantile(q)
    }

    /// Distinct values (text columns), and whether exact.
    pub fn distinct(&self) -> Option<(u64, bool)> {
        self.distinct.as_ref().map(|d| d.estimate())
    }

    /// The share of the column's non-null values per value of `cats` and the rest, from the
    /// top-values counts (categorical drift).
    pub fn category_shares(&self, cats: &[String]) -> Option<Vec<f64>> {
        let top = self.top.as_ref()?;
        let n = top.total().max(1) as f64;
        let mut shares: Vec<f64> = cats
            .iter()
            .map(|c| top.get(c.as_bytes()) as f64 / n)
            .collect();
        let rest = 1.0 - shares.iter().sum::<f64>();
        shares.push(rest.max(0.0));
        Some(shares)
    }

    /// The column's profile as JSON.
    pub fn to_json(&self, cfg: &ProfileConfig) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), json!(self.ty.map_or("string", |t| t.name())));
        m.insert("declared".into(), json!(self.declared.is_some()));
        m.insert("count".into(), json!(self.rows - self.nulls));
        m.insert("nulls".into(), json!(self.nulls));
        m.insert("null_fraction".into(), json!(self.null_fraction()));
        m.insert("invalid".into(), json!(self.invalid));
        if self.is_numeric() {
            m.insert("min".into(), json!(self.min()));
            m.insert("max".into(), json!(self.max()));
            m.insert("mean".into(), json!(self.mean()));
            m.insert("std".into(), json!(self.std()));
            let qs = self.sketch.quantiles(&cfg.quantiles);
            let mut qm = Map::new();
            for (q, v) in cfg.quantiles.iter().zip(qs) {
                qm.insert(q.to_string(), json!(v));
            }
            m.insert("quantiles".into(), Value::Object(qm));
            m.insert("quantiles_exact".into(), json!(self.sketch.is_exact()));
            if self.sketch.count() > 0 {
                let qs: Vec<f64> = (0..=cfg.bins).map(|i| i as f64 / cfg.bins as f64).collect();
                let mut edges: Vec<f64> =
                    self.sketch.quantiles(&qs).into_iter().flatten().collect();
                edges.dedup();
                if edges.len() < 2 {
                    edges = vec![edges[0], edges[0]];
                }
                let n = edges.len();
                let mut counts = Vec::with_capacity(n - 1);
                let mut prev = 0u64;
                for (i, e) in edges[1..].iter().enumerate() {
                    let below = if i + 2 == n {
                        self.sketch.count()
                    } else {
                        self.sketch.count_below(*e)
                    };
                    counts.push(below.saturating_sub(prev));
                    prev = below.max(prev);
                }
                m.insert(
                    "histogram".into(),
                    json!({"edges": edges, "counts": counts}),
                );
            }
        }
        if self.ty == Some(ValueType::Timestamp) {
            m.insert("min".into(), json!(self.ts_min.map(|t| t.to_string())));
            m.insert("max".into(), json!(self.ts_max.map(|t| t.to_string())));
        }
        if let (Some(a), Some(b)) = (&self.text_min, &self.text_max) {
            m.insert("min".into(), json!(String::from_utf8_lossy(a)));
            m.insert("max".into(), json!(String::from_utf8_lossy(b)));
        }
        if let Some((d, exact)) = self.distinct() {
            m.insert("distinct".into(), json!(d));
            m.insert("distinct_exact".into(), json!(exact));
        }
        if let Some(top) = &self.top {
            let list: Vec<Value> = top
                .top(cfg.top_k)
                .into_iter()
                .map(|(k, c)| json!({"value": String::from_utf8_lossy(k), "count": c}))
                .collect();
            m.insert("top".into(), Value::Array(list));
            m.insert("top_exact".into(), json!(top.is_exact()));
        }
        Value::Object(m)
    }
}

/// Population stability index of `actual` against `expected` shares (each summing to ~1);
/// shares are floored at 1e-4 so empty bins do not make it infinite.
pub fn psi(expected: &[f64], actual: &[f64]) -> f64 {
    expected
        .iter()
        .zip(actual)
        .map(|(&e, &a)| {
            let (e, a) = (e.max(1e-4), a.max(1e-4));
            (a - e) * (a / e).ln()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_types_from_the_sample() {
        let cases: [(&[&str], &str); 5] = [
            (&["1", "-2", "30"], "int"),
            (&["1", "2.5", "1e3"], "float"),
            (&["true", "no", "Y"], "bool"),
            (&["2024-01-01", "2024-01-02T10:00:00Z"], "timestamp"),
            (&["1", "x"], "string"),
        ];
        for (vals, ty) in cases {
            let mut c = ColumnStats::new("c", None);
            for v in vals {
                c.push(v.as_bytes());
            }
            c.decide();
            assert_eq!(c.ty.unwrap().name(), ty, "{vals:?}");
            assert_eq!(c.invalid, 0);
        }
    }

    #[test]
    fn values_after_the_sample_that_do_not_fit_are_invalid() {
        let mut c = ColumnStats::new("c", None);
        for i in 0..INFER_SAMPLE {
            c.push(i.to_string().as_bytes());
        }
        assert_eq!(c.ty, Some(ValueType::Int));
        c.push(b"oops");
        c.push_null();
        let j = c.to_json(&ProfileConfig::default());
        assert_eq!(j["invalid"], 1);
        assert_eq!(j["nulls"], 1);
        assert_eq!(j["max"], 999.0);
        assert_eq!(j["quantiles"]["0.5"], 499.5);
        let h = &j["histogram"];
        assert_eq!(
            h["counts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_u64().unwrap())
                .sum::<u64>(),
            1000
        );
    }

    #[test]
    fn an_int_column_takes_the_values_parse_float_gives() {
        // ints parsed once: the same f64 as parse_float, "-0" with its sign, integral floats
        // accepted and fractional ones invalid, 2^53 + 1 rounded as the decimal parser rounds it
        let vals = [
            "-0",
            "0",
            "+7",
            "-12",
            "9007199254740993",
            "12.0",
            "1.5",
            "x",
        ];
        let mut c = ColumnStats::new("c", Some(ValueType::Int));
        let got: Vec<Option<u64>> = vals
            .iter()
            .map(|v| c.push(v.as_bytes()).map(f64::to_bits))
            .collect();
        let want: Vec<Option<u64>> = vals
            .iter()
            .map(|v| match *v {
                "1.5" | "x" => None,
                v => parse_float(v.as_bytes()).map(f64::to_bits),
            })
            .collect();
        assert_eq!(got, want);
        assert_eq!(got[0], Some((-0.0f64).to_bits()));
        assert_eq!(c.invalid, 2);
        let j = c.to_json(&ProfileConfig::default());
        assert_eq!(j["min"], -12.0);
        assert_eq!(j["max"], 9007199254740992.0);
    }

    #[test]
    fn text_profile_has_top_values_and_distinct() {
        let mut c = ColumnStats::new("c", Some(ValueType::String));
        for v in ["b", "a", "b", "c", "b"] {
            c.push(v.as_bytes());
        }
        let j = c.to_json(&ProfileConfig {
            top_k: 2,
            ..ProfileConfig::default()
        });
        assert_eq!(
            j["top"],
            json!([{"value": "b", "count": 3}, {"value": "a", "count": 1}])
        );
        assert_eq!(
            (j["distinct"].clone(), j["min"].clone(), j["max"].clone()),
            (json!(3), json!("a"), json!("c"))
        );
    }

    #[test]
    fn hyperloglog_is_within_a_few_percent() {
        let mut d = Distinct::default();
        for i in 0..300_000u32 {
            d.push(&i.to_le_bytes());
            d.push(&i.to_le_bytes());
        }
        let (n, exact) = d.estimate();
        assert!(!exact);
        assert!((n as f64 - 300_000.0).abs() / 300_000.0 < 0.05, "{n}");
    }

    #[test]
    fn psi_is_zero_for_equal_and_grows_with_shift() {
        let e = [0.25, 0.25, 0.25, 0.25];
        assert!(psi(&e, &e).abs() < 1e-12);
        let small = psi(&e, &[0.3, 0.25, 0.25, 0.2]);
        let large = psi(&e, &[0.7, 0.1, 0.1, 0.1]);
        assert!(small > 0.0 && small < 0.1 && large > 0.5, "{small} {large}");
        assert!(psi(&e, &[1.0, 0.0, 0.0, 0.0]).is_finite());
    }
}
