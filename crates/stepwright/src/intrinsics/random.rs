//! Reproducible randomness for `States.MathRandom` and `States.UUID`.

use std::cell::Cell;

/// A source of random numbers supplied by the caller, so that runs are reproducible.
///
/// It takes `&self` (use interior mutability) so that one source can be shared by every
/// evaluation of a run. The local runner implements it over its seeded generator.
pub trait RandomSource {
    /// The next 64 random bits.
    fn next_u64(&self) -> u64;
}

/// A small, fast, seeded generator (SplitMix64): the same seed gives the same sequence.
///
/// ```
/// use stepwright::intrinsics::{RandomSource, SeededRandom};
/// let a = SeededRandom::new(42);
/// let b = SeededRandom::new(42);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Debug, Clone)]
pub struct SeededRandom {
    state: Cell<u64>,
}

impl SeededRandom {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRandom {
            state: Cell::new(seed),
        }
    }
}

impl RandomSource for SeededRandom {
    fn next_u64(&self) -> u64 {
        let s = self.state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A uniform integer in `[0, bound)` (`bound > 0`), without modulo bias.
pub(crate) fn below(rng: &dyn RandomSource, bound: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX % bound) - 1;
    loop {
        let r = rng.next_u64();
        if r <= zone {
            return r % bound;
        }
    }
}

/// `java.util.Random`: what a seeded `States.MathRandom` computes on a JVM. Deterministic for a
/// given seed; that AWS uses exactly this generator is an assumption.
pub(crate) struct JavaRandom {
    state: i64,
}

impl JavaRandom {
    const MULT: i64 = 0x5_DEEC_E66D;
    const MASK: i64 = (1 << 48) - 1;

    pub(crate) fn new(seed: i64) -> Self {
        JavaRandom {
            state: (seed ^ Self::MULT) & Self::MASK,
        }
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.state = (self.state.wrapping_mul(Self::MULT).wrapping_add(0xB)) & Self::MASK;
        (self.state >> (48 - bits)) as i32
    }

    /// `nextInt()`.
    #[cfg(test)]
    fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    /// `nextInt(bound)`, `bound > 0`.
    pub(crate) fn next_int_below(&mut self, bound: i32) -> i32 {
        if bound & bound.wrapping_neg() == bound {
            return ((i64::from(bound) * i64::from(self.next(31))) >> 31) as i32;
        }
        loop {
            let bits = self.next(31);
            let val = bits % bound;
            if bits.wrapping_sub(val).wrapping_add(bound - 1) >= 0 {
                return val;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_random_matches_the_jvm() {
        // Well-known JVM values: new Random(0).nextInt() and new Random(42).nextInt().
        assert_eq!(JavaRandom::new(0).next_int(), -1155484576);
        assert_eq!(JavaRandom::new(42).next_int(), -1170105035);
        // new Random(42).nextInt(100), new Random(3).nextInt(999), new Random(-10).nextInt(9),
        // new Random(7).nextInt(64) (a power of two takes another branch), from a JDK.
        assert_eq!(JavaRandom::new(42).next_int_below(100), 30);
        assert_eq!(JavaRandom::new(3).next_int_below(999), 239);
        assert_eq!(JavaRandom::new(-10).next_int_below(9), 0);
        assert_eq!(JavaRandom::new(7).next_int_below(64), 46);
        let mut r = JavaRandom::new(42);
        for bound in [1, 2, 7, 64, 100, 1000, i32::MAX] {
            let v = r.next_int_below(bound);
            assert!((0..bound).contains(&v));
        }
    }

    #[test]
    fn below_stays_in_range_and_is_reproducible() {
        let a = SeededRandom::new(1);
        let b = SeededRandom::new(1);
        for _ in 0..1000 {
            let x = below(&a, 7);
            assert!(x < 7);
            assert_eq!(x, below(&b, 7));
        }
    }
}
