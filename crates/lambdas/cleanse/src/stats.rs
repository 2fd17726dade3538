//! Streaming statistics with bounded memory: moments, quantiles, heavy hitters, fingerprints.
//!
//! - [`Moments`]: count, min, max, mean (Neumaier-compensated sum), standard deviation (sums
//!   shifted by the first value; no division per value).
//! - [`QuantileSketch`]: exact while it has seen at most `exact_cap` values (it keeps them), then a
//!   log-linear histogram: 256 buckets per power of two, so every quantile it returns lies within
//!   **2⁻⁹ ≈ 0.2 % relative error** of a value at exactly that rank (the bucket holding the rank's
//!   value is at most 2⁻⁸ wide relative to its lower edge, and the midpoint is returned). Memory:
//!   2 KiB per power of two spanned by the data (a column spanning 1e-3..1e9 uses ~80 blocks,
//!   160 KiB), capped at 256 blocks per sign (values beyond the cap are counted in the nearest
//!   block, which only affects the extreme tails, and the sketch reports itself as clamped).
//! - [`HeavyHitters`]: Misra–Gries frequent items. Exact counts while the number of distinct values
//!   is at most its capacity; beyond, every count is underestimated by at most
//!   [`HeavyHitters::max_error`] (≤ n / (capacity + 1)), and any value more frequent than that is
//!   guaranteed to be present. Memory: capacity × (key bytes + ~40 bytes).
//! - [`FingerprintSet`]: exact-membership set of 128-bit XXH3 fingerprints for dedupe and
//!   uniqueness: 16 bytes per slot in 256 open-addressing shards kept between 3/8 and 3/4 full,
//!   i.e. **about 21–43 bytes per distinct row**; two different rows collide with probability 2⁻¹²⁸
//!   (for 10⁹ distinct rows, the chance of any collision is below 10⁻²⁰).
//!
//! ```
//! use cleanse::stats::{Moments, QuantileSketch};
//! let mut m = Moments::default();
//! let mut q = QuantileSketch::new(1000);
//! for x in [1.0, 2.0, 3.0, 4.0] {
//!     m.push(x);
//!     q.push(x);
//! }
//! assert_eq!(m.mean(), Some(2.5));
//! assert_eq!(q.quantile(0.5), Some(2.5)); // exact: linear interpolation between order statistics
//! ```

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// One step of Neumaier's compensated sum: `(total, comp)` after adding `x`. [`MeanSum`] and
/// [`Moments`] share it, so their means have the same bits.
#[inline]
fn neumaier(total: f64, comp: f64, x: f64) -> (f64, f64) {
    let t = total + x;
    let c = if total.abs() >= x.abs() {
        (total - t) + x
    } else {
        (x - t) + total
    };
    (t, comp + c)
}

/// The mean alone, exactly as [`Moments::mean`] computes it (the same Neumaier-compensated sum
/// in the same order, so the same bits) without the min/max/variance work: the statistics pass
/// of a mean imputation feeds every value through one of these, in input order, on one thread.
#[derive(Debug, Default, Clone, Copy)]
pub struct MeanSum {
    count: u64,
    total: f64,
    comp: f64,
}

impl MeanSum {
    /// Adds a value.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.count += 1;
        (self.total, self.comp) = neumaier(self.total, self.comp, x);
    }

    /// Adds values in order.
    pub fn extend(&mut self, xs: &[f64]) {
        let (mut total, mut comp) = (self.total, self.comp);
        for &x in xs {
            (total, comp) = neumaier(total, comp, x);
        }
        (self.total, self.comp) = (total, comp);
        self.count += xs.len() as u64;
    }

    /// The mean, if any value was seen.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| (self.total + self.comp) / self.count as f64)
    }
}

/// Count, min, max, mean and sample standard deviation of a stream of finite floats.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    /// Values seen.
    pub count: u64,
    /// Smallest value (meaningless when `count == 0`).
    pub min: f64,
    /// Largest value (meaningless when `count == 0`).
    pub max: f64,
    shift: f64,
    sum: f64,
    sum_sq: f64,
    // Neumaier-compensated plain sum, for an accurate mean
    total: f64,
    comp: f64,
}

impl Moments {
    /// Adds a value.
    #[inline]
    pub fn push(&mut self, x: f64) {
        if self.count == 0 {
            self.shift = x;
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.count += 1;
        let d = x - self.shift;
        self.sum += d;
        self.sum_sq += d * d;
        (self.total, self.comp) = neumaier(self.total, self.comp, x);
    }

    /// The mean, if any value was seen.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| (self.total + self.comp) / self.count as f64)
    }

    /// The sample standard deviation (n − 1 denominator, as pandas/polars), if two or more values.
    pub fn std(&self) -> Option<f64> {
        if self.count < 2 {
            return None;
        }
        let n = self.count as f64;
        let var = (self.sum_sq - self.sum * self.sum / n) / (n - 1.0);
        Some(var.max(0.0).sqrt())
    }

    /// Merges another stream's moments into this one.
    pub fn merge(&mut self, o: &Moments) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *o;
            return;
        }
        // re-base the other's sums on our shift: d' = d + (o.shift - shift)
        let delta = o.shift - self.shift;
        let n = o.count as f64;
        self.sum_sq += o.sum_sq + 2.0 * delta * o.sum + n * delta * delta;
        self.sum += o.sum + n * delta;
        self.count += o.count;
        self.total += o.total;
        self.comp += o.comp;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }
}

const PREC: u32 = 8;
const BLOCK: usize = 1 << PREC;
const MAX_BLOCKS: usize = 256;

/// Quantiles of a stream of finite floats: exact up to `exact_cap` values, then within 2⁻⁹
/// relative error (see the module docs).
#[derive(Debug, Clone)]
pub struct QuantileSketch {
    exact: Vec<f64>,
    exact_cap: usize,
    sketching: bool,
    // index: sign (0 = positive, 1 = negative) * 2048 + biased exponent
    blocks: Vec<Option<Box<[u64; BLOCK]>>>,
    allocated: [usize; 2],
    zeros: u64,
    count: u64,
    min: f64,
    max: f64,
    clamped: bool,
}

impl QuantileSketch {
    /// A sketch that keeps up to `exact_cap` values exactly.
    pub fn new(exact_cap: usize) -> Self {
        QuantileSketch {
            exact: Vec::new(),
            exact_cap,
            sketching: false,
            blocks: Vec::new(),
            allocated: [0, 0],
            zeros: 0,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            clamped: false,
        }
    }

    /// Values seen.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether quantiles are exact (at most `exact_cap` values seen).
    pub fn is_exact(&self) -> bool {
        !self.sketching
    }

    /// Whether some extreme values had to be counted in a neighbouring block (memory cap hit).
    pub fn is_clamped(&self) -> bool {
        self.clamped
    }

    /// Adds a finite value.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.count += 1;
        if x < self.min {
            self.min = x;
        }
        if x > self.max {
            self.max = x;
        }
        if !self.sketching {
            self.exact.push(x);
            if self.exact.len() > self.exact_cap {
                self.sketching = true;
                self.blocks = vec![None; 4096];
                let vals = std::mem::take(&mut self.exact);
                for v in vals {
                    self.bucket(v);
                }
            }
            return;
        }
        self.bucket(x);
    }

    #[inline]
    fn bucket(&mut self, x: f64) {
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as usize;
        let m = ((bits >> (52 - PREC)) & (BLOCK as u64 - 1)) as usize;
        // (the usual case first: the value's block exists, one load and one increment; blocks
        // of exponent 0 are never made, zeros and subnormals are counted apart below)
        if let Some(Some(block)) = self.blocks.get_mut((bits >> 52) as usize) {
            block[m] += 1;
            return;
        }
        if exp == 0 {
            // zero and subnormals
            self.zeros += 1;
            return;
        }
        let sign = (bits >> 63) as usize;
        let mut b = sign * 2048 + exp;
        if self.blocks[b].is_none() {
            if self.allocated[sign] >= MAX_BLOCKS {
                self.clamped = true;
                b = self.nearest_block(sign, exp);
            } else {
                self.allocated[sign] += 1;
                self.blocks[b] = Some(Box::new([0; BLOCK]));
            }
        }
        if let Some(block) = self.blocks[b].as_mut() {
            block[m] += 1;
        }
    }

    fn nearest_block(&self, sign: usize, exp: usize) -> usize {
        let base = sign * 2048;
        (0..2048usize)
            .filter(|&e| self.blocks[base + e].is_some())
            .min_by_key(|&e| e.abs_diff(exp))
            .map_or(base + exp, |e| base + e)
    }

    /// The `q`-quantile (0 ≤ q ≤ 1), linear interpolation between order statistics when exact.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.quantiles(&[q]).pop().flatten()
    }

    /// Several quantiles at once (each 0 ≤ q ≤ 1; out-of-range values are clamped).
    pub fn quantiles(&self, qs: &[f64]) -> Vec<Option<f64>> {
        if self.count == 0 {
            return vec![None; qs.len()];
        }
        if !self.sketching {
            let mut v = self.exact.clone();
            v.sort_unstable_by(f64::total_cmp);
            return qs
                .iter()
                .map(|&q| {
                    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
                    let lo = pos.floor() as usize;
                    let hi = pos.ceil() as usize;
                    let f = pos - lo as f64;
                    Some(v[lo] + (v[hi] - v[lo]) * f)
                })
                .collect();
        }
        let buckets = self.ordered_buckets();
        qs.iter()
            .map(|&q| {
                let rank = (q.clamp(0.0, 1.0) * (self.count - 1) as f64).round() as u64;
                let mut seen = 0u64;
                for &(lo, hi, n) in &buckets {
                    seen += n;
                    if seen > rank {
                        let mid = if lo == 0.0 && hi == 0.0 {
                            0.0
                        } else {
                            (lo + hi) / 2.0
                        };
                        return Some(mid.clamp(self.min, self.max));
                    }
                }
                Some(self.max)
            })
            .collect()
    }

    /// All non-empty buckets in increasing value order as `(low, high, count)`.
    fn ordered_buckets(&self) -> Vec<(f64, f64, u64)> {
        let mut out = Vec::new();
        let edge = |sign: u64, exp: u64, m: u64| -> f64 {
            f64::from_bits((sign << 63) | (exp << 52) | (m << (52 - PREC)))
        };
        for exp in (1..2048u64).rev() {
            if let Some(block) = &self.blocks[2048 + exp as usize] {
                for m in (0..BLOCK as u64).rev() {
                    let n = block[m as usize];
                    if n > 0 {
                        let a = edge(1, exp, m);
                        let b = if m + 1 == BLOCK as u64 {
                            edge(1, exp + 1, 0)
                        } else {
                            edge(1, exp, m + 1)
                        };
                        out.push((b, a, n));
                    }
                }
            }
        }
        if self.zeros > 0 {
            out.push((0.0, 0.0, self.zeros));
        }
        for exp in 1..2048u64 {
            if let Some(block) = &self.blocks[exp as usize] {
                for m in 0..BLOCK as u64 {
                    let n = block[m as usize];
                    if n > 0 {
                        let a = edge(0, exp, m);
                        let b = if m + 1 == BLOCK as u64 {
                            edge(0, exp + 1, 0)
                        } else {
                            edge(0, exp, m + 1)
                        };
                        out.push((a, b, n));
                    }
                }
            }
        }
        out
    }

    /// How many values are `< x` (approximate once sketching: bucket granularity).
    pub fn count_below(&self, x: f64) -> u64 {
        if !self.sketching {
            return self.exact.iter().filter(|&&v| v < x).count() as u64;
        }
        let mut n = 0;
        for (lo, hi, c) in self.ordered_buckets() {
            let mid = if lo == 0.0 && hi == 0.0 {
                0.0
            } else {
                (lo + hi) / 2.0
            };
            if mid < x {
                n += c;
            }
        }
        n
    }
}

/// A fast non-cryptographic hasher for short byte keys (FxHash's mixing, 8 bytes at a time).
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const FX_K: u64 = 0x517c_c1b7_2722_0a95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(FX_K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `BuildHasher` for [`FxHasher`].
pub type FxBuild = BuildHasherDefault<FxHasher>;

/// Frequent values of a stream with bounded memory (Misra–Gries).
#[derive(Debug, Clone)]
pub struct HeavyHitters {
    counts: HashMap<Box<[u8]>, u64, FxBuild>,
    capacity: usize,
    decrements: u64,
    total: u64,
    max_key: usize,
}

impl HeavyHitters {
    /// Tracks up to `capacity` distinct values; keys are cut to `max_key_bytes`.
    pub fn new(capacity: usize, max_key_bytes: usize) -> Self {
        HeavyHitters {
            counts: HashMap::default(),
            capacity: capacity.max(1),
            decrements: 0,
            total: 0,
            max_key: max_key_bytes,
        }
    }

    /// Counts one occurrence of `key`.
    #[inline]
    pub fn push(&mut self, key: &[u8]) {
        self.total += 1;
        let key = &key[..key.len().min(self.max_key)];
        if let Some(c) = self.counts.get_mut(key) {
            *c += 1;
            return;
        }
        if self.counts.len() < self.capacity {
            self.counts.insert(key.into(), 1);
            return;
        }
        // full: the new value and one occurrence of every tracked value cancel out
        self.decrements += 1;
        self.counts.retain(|_, c| {
            *c -= 1;
            *c > 0
        });
    }

    /// Values counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Whether every count is exact (the number of distinct values never exceeded the capacity).
    pub fn is_exact(&self) -> bool {
        self.decrements == 0
    }

    /// The most any reported count can be below the true count.
    pub fn max_error(&self) -> u64 {
        self.decrements
    }

    /// The `k` most frequent values, most frequent first (ties: smaller value first).
    pub fn top(&self, k: usize) -> Vec<(&[u8], u64)> {
        let mut v: Vec<(&[u8], u64)> = self.counts.iter().map(|(k, c)| (&k[..], *c)).collect();
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v.truncate(k);
        v
    }

    /// The count of `key` (0 when not tracked).
    pub fn get(&self, key: &[u8]) -> u64 {
        self.counts.get(key).copied().unwrap_or(0)
    }

    /// Tracked distinct values.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// A hint to load `slot`'s cache line: the instruction does not wait for the line (a plain load
/// would hold up every later instruction's retirement until it arrives) and never faults.
#[inline(always)]
fn prefetch(slot: &u128) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: the intrinsic needs SSE, which every x86-64 target has; PREFETCHT0 only
        // hints the memory system and never faults.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((slot as *const u128).cast::<i8>()) };
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: PRFM only hints the memory system: it reads no register but the address, writes
    // nothing, never faults (the address is a live reference anyway) and leaves the flags alone.
    unsafe {
        std::arch::asm!(
            "prfm pldl1keep, [{0}]",
            in(reg) slot as *const u128,
            options(nostack, readonly, preserves_flags)
        );
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    std::hint::black_box(*slot);
}

/// One shard of a [`FingerprintSet`]: open addressing with linear probing over 16-byte slots
/// (0 marks an empty slot; the fingerprint 0 is kept aside), kept between 3/8 and 3/4 full.
#[derive(Debug, Clone, Default)]
struct Shard {
    slots: Vec<u128>,
    len: usize,
}

impl Shard {
    const MIN: usize = 64;

    #[inline]
    fn insert(&mut self, fp: u128) -> bool {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = (fp as usize) & mask;
        loop {
            let s = self.slots[i];
            if s == fp {
                return false;
            }
            if s == 0 {
                self.slots[i] = fp;
                self.len += 1;
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    fn contains(&self, fp: u128) -> bool {
        if self.slots.is_empty() {
            return false;
        }
        let mask = self.slots.len() - 1;
        let mut i = (fp as usize) & mask;
        loop {
            let s = self.slots[i];
            if s == fp {
                return true;
            }
            if s == 0 {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(Self::MIN);
        // Zeroed by writing, not by `vec![0; n]`: that takes fresh pages from the kernel, which
        // maps each to the shared zero page at its first read (a probe here) and copies it at
        // the first write, flushing the other cores' TLBs (an interrupt to each core running
        // this process's threads). Written up front, every page takes one fault and no flush.
        #[allow(clippy::slow_vector_initialization)] // (the point: see above)
        let table = {
            let mut t = Vec::with_capacity(n);
            t.resize(n, 0);
            t
        };
        let old = std::mem::replace(&mut self.slots, table);
        let mask = n - 1;
        for fp in old.into_iter().filter(|&f| f != 0) {
            let mut i = (fp as usize) & mask;
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = fp;
        }
    }
}

/// An exact-membership set of 128-bit fingerprints, sharded (by the top 8 bits) so that growth
/// never doubles the whole table at once (see the module docs for its memory per element).
#[derive(Debug, Clone)]
pub struct FingerprintSet {
    shards: Vec<Shard>,
    has_zero: bool,
    len: u64,
}

impl Default for FingerprintSet {
    fn default() -> Self {
        FingerprintSet {
            shards: vec![Shard::default(); 256],
            has_zero: false,
            len: 0,
        }
    }
}

impl FingerprintSet {
    /// A set that holds nothing and takes no memory until its first insert.
    pub fn empty() -> Self {
        FingerprintSet {
            shards: Vec::new(),
            has_zero: false,
            len: 0,
        }
    }

    /// Inserts the fingerprint of `bytes`; returns false when it was already present.
    #[inline]
    pub fn insert_bytes(&mut self, bytes: &[u8]) -> bool {
        self.insert(xxhash_rust::xxh3::xxh3_128(bytes))
    }

    /// Inserts a fingerprint; returns false when it was already present.
    #[inline]
    pub fn insert(&mut self, fp: u128) -> bool {
        let new = if fp == 0 {
            !std::mem::replace(&mut self.has_zero, true)
        } else {
            if self.shards.is_empty() {
                self.shards = vec![Shard::default(); 256];
            }
            self.shards[(fp >> 120) as usize].insert(fp)
        };
        self.len += new as u64;
        new
    }

    /// Whether the fingerprint is present.
    #[inline]
    pub fn contains(&self, fp: u128) -> bool {
        if fp == 0 {
            return self.has_zero;
        }
        self.shards
            .get((fp >> 120) as usize)
            .is_some_and(|s| s.contains(fp))
    }

    /// Asks the CPU to bring the slots where `fps` would be inserted into cache, without waiting
    /// for them: a large set is far bigger than the caches, so almost every insert misses, and
    /// these misses then overlap with the work between now and the inserts instead of each
    /// stalling its insert in turn. Two cache lines each: the first slot's and the next one (a
    /// probe often runs past the end of the first line). Changes nothing.
    #[inline]
    pub fn warm(&self, fps: impl Iterator<Item = u128>) {
        if self.shards.is_empty() {
            return;
        }
        for fp in fps {
            let shard = &self.shards[(fp >> 120) as usize];
            let mask = shard.slots.len().wrapping_sub(1);
            let i = (fp as usize) & mask;
            if let (Some(a), Some(b)) = (shard.slots.get(i), shard.slots.get((i + 4) & mask)) {
                prefetch(a);
                prefetch(b);
            }
        }
    }

    /// Distinct fingerprints held.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.shards.iter().map(|s| s.slots.len() * 16).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_match_two_pass_formulas() {
        let xs = [1e9, 3.5, -2.0, 7.25, 1e-3, -1e9, 42.0];
        let mut m = Moments::default();
        xs.iter().for_each(|&x| m.push(x));
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        assert!((m.mean().unwrap() - mean).abs() < 1e-6);
        assert!((m.std().unwrap() - var.sqrt()).abs() / var.sqrt() < 1e-12);
        assert_eq!((m.min, m.max), (-1e9, 1e9));
        let mut a = Moments::default();
        let mut b = Moments::default();
        xs[..3].iter().for_each(|&x| a.push(x));
        xs[3..].iter().for_each(|&x| b.push(x));
        a.merge(&b);
        assert!((a.std().unwrap() - m.std().unwrap()).abs() / m.std().unwrap() < 1e-9);
        assert_eq!(Moments::default().mean(), None);
    }

    #[test]
    fn mean_sum_gives_the_bits_of_moments_mean() {
        // values whose plain sum loses bits (so the compensation matters), in several orders
        let mut xs: Vec<f64> = Vec::new();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..5000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let f = (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            xs.push(match i % 4 {
                0 => f * 1e12,
                1 => f * 1e-6,
                2 => f,
                _ => -xs.last().copied().unwrap_or(1.0) + f,
            });
        }
        let mut m = Moments::default();
        let mut pushed = MeanSum::default();
        let mut extended = MeanSum::default();
        xs.iter().for_each(|&x| {
            m.push(x);
            pushed.push(x);
        });
        for part in xs.chunks(37) {
            extended.extend(part);
        }
        let want = m.mean().unwrap().to_bits();
        assert_eq!(pushed.mean().unwrap().to_bits(), want);
        assert_eq!(extended.mean().unwrap().to_bits(), want);
        assert_eq!(MeanSum::default().mean(), None);
        // a plain sum would differ here: the test really exercises the compensation
        let naive = xs.iter().sum::<f64>() / xs.len() as f64;
        assert_ne!(naive.to_bits(), want);
    }

    #[test]
    fn sketch_exact_then_within_error_bound() {
        let mut s = QuantileSketch::new(10);
        for x in [5.0, 1.0, 3.0] {
            s.push(x);
        }
        assert_eq!(
            s.quantiles(&[0.0, 0.5, 1.0]),
            vec![Some(1.0), Some(3.0), Some(5.0)]
        );
        // 200k values spanning signs and magnitudes: compare with exact order statistics
        let mut s = QuantileSketch::new(1000);
        let mut xs: Vec<f64> = (0..200_000)
            .map(|i| {
                let u = ((i as u64).wrapping_mul(2_654_435_761) % 1_000_003) as f64 / 1_000_003.0;
                (u - 0.3) * 1e4 * (1.0 + (i % 7) as f64)
            })
            .collect();
        xs.iter().for_each(|&x| s.push(x));
        assert!(!s.is_exact());
        xs.sort_by(f64::total_cmp);
        for q in [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99] {
            let exact = xs[(q * (xs.len() - 1) as f64).round() as usize];
            let got = s.quantile(q).unwrap();
            assert!(
                (got - exact).abs() <= exact.abs() / 512.0 + 1e-12,
                "q={q}: {got} vs {exact}"
            );
        }
        assert_eq!(s.quantile(0.0), Some(xs[0].max(s.quantile(0.0).unwrap())));
    }

    #[test]
    fn sketch_handles_zeros_and_tiny_values() {
        let mut s = QuantileSketch::new(0);
        for x in [0.0, -0.0, 0.0, 5e-324, 1.0] {
            s.push(x);
        }
        assert_eq!(s.quantile(0.5), Some(0.0));
        assert!(s.quantile(1.0).unwrap() <= 1.0);
    }

    #[test]
    fn heavy_hitters_exact_then_bounded() {
        let mut h = HeavyHitters::new(3, 8);
        for k in ["a", "b", "a", "c", "a", "b"] {
            h.push(k.as_bytes());
        }
        assert!(h.is_exact());
        assert_eq!(h.top(2), vec![(&b"a"[..], 3), (&b"b"[..], 2)]);
        // a stream with one dominant value among many distinct ones
        let mut h = HeavyHitters::new(10, 32);
        let mut n = 0u64;
        for i in 0..10_000u64 {
            n += 1;
            if i % 3 == 0 {
                h.push(b"hot");
            } else {
                h.push(i.to_string().as_bytes());
            }
        }
        assert!(!h.is_exact());
        let true_hot = 3334;
        let got = h.get(b"hot");
        assert!(got <= true_hot && true_hot - got <= h.max_error(), "{got}");
        assert!(h.max_error() <= n / 11);
        assert_eq!(h.top(1)[0].0, b"hot");
        // long keys are cut
        h.push(&[b'x'; 100]);
    }

    #[test]
    fn fingerprint_set_detects_duplicates() {
        let mut s = FingerprintSet::default();
        assert!(s.insert_bytes(b"row1"));
        assert!(s.insert_bytes(b"row2"));
        assert!(!s.insert_bytes(b"row1"));
        assert_eq!(s.len(), 2);
        for i in 0..10_000u32 {
            s.insert_bytes(&i.to_le_bytes());
        }
        assert_eq!(s.len(), 10_002);
        assert!(s.heap_bytes() >= 10_002 * 17);
    }

    #[test]
    fn fingerprint_set_contains_what_was_inserted_only() {
        let mut s = FingerprintSet::empty();
        // warming (a hint: it changes nothing) an empty set, and below a full one
        s.warm([5u128, 0].into_iter());
        assert!(!s.contains(5) && !s.contains(0));
        // (an odd multiplier is a bijection: 5000 distinct non-zero fingerprints)
        let fps: Vec<u128> = (1..=5000u128)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835))
            .collect();
        for (n, &fp) in fps.iter().enumerate() {
            // (every slot of a shard's table is warmed at some point, the last ones too: the
            // second cache line warmed then wraps to the table's start)
            s.warm(fps[n..].iter().take(16).copied());
            assert!(!s.contains(fp), "{n} before its insert");
            s.insert(fp);
            assert!(s.contains(fp), "{n} after its insert");
        }
        assert!(fps.iter().all(|&fp| s.contains(fp)));
        assert!(!s.contains(0));
        s.insert(0);
        assert!(s.contains(0));
        assert!(!s.contains(2) && !s.contains(u128::MAX - 1));
    }
}
