//! A latency's native histogram bucket found from its HDR bucket, without floating point.
//!
//! A span's latency is put in two bucket layouts: the HDR buckets of the finest slots
//! ([`super::hist::index_of`], found first, an integer computation) and the lifetime
//! native histogram's exponential buckets ([`super::native`], by the latency in seconds, a
//! conversion, a division and a table). Above about 190 µs an HDR bucket (2^-10 of its
//! power of two, or 512 ns) is narrower than a native bucket (0.27% wide), so at most one
//! native bucket bound falls inside it: the native bucket of a latency in HDR bucket `i`
//! is the native bucket of the bucket's lowest latency, plus one at or past the bound's
//! first nanosecond. [`ByHdr`] holds that pair for every HDR bucket, found once from the
//! native computation itself (it is monotone in the latency), so the look-up gives
//! exactly its answer; buckets holding several bounds, or values the HDR layout clamps,
//! are marked and computed as before.

use std::sync::OnceLock;

use super::hist::{HIGHEST_NANOS, INDEXES, LOWEST_NANOS, index_of, key_of_index};
use super::native::{Below, below_table, index_of_nanos_in};

/// Bits of an entry holding the native bucket (biased by [`BIAS`]); the bits above hold
/// the first nanosecond of the next native bucket.
const BASE_BITS: u32 = 20;
const BIAS: i32 = 1 << (BASE_BITS - 1);
/// An entry of an HDR bucket whose native buckets are computed one by one.
const COMPUTE: u64 = 0;

/// The native bucket of each HDR bucket's lowest latency and where the next one starts.
pub(super) struct ByHdr {
    entries: Box<[u64]>,
}

/// The table, made on first use (the engine makes it when it starts).
pub(super) fn by_hdr() -> &'static ByHdr {
    static TABLE: OnceLock<ByHdr> = OnceLock::new();
    TABLE.get_or_init(|| ByHdr::new(below_table()))
}

impl ByHdr {
    fn new(below: &Below) -> Self {
        let native = |n: u64| index_of_nanos_in(below, n);
        let entries = (0..INDEXES as u32)
            .map(|i| {
                let lo = key_of_index(i);
                let hi = key_of_index(i + 1).saturating_sub(1);
                // Only buckets every latency of which `index_of` puts there (no clamping).
                if i + 1 >= INDEXES as u32
                    || lo < LOWEST_NANOS
                    || hi > HIGHEST_NANOS
                    || index_of(lo) != i
                    || index_of(hi) != i
                {
                    return COMPUTE;
                }
                let (first, last) = (native(lo), native(hi));
                let next = match last - first {
                    0 => HIGHEST_NANOS + 1,
                    // The first nanosecond of the higher bucket (`native` is monotone).
                    1 => {
                        let (mut below_it, mut at) = (lo, hi);
                        while at - below_it > 1 {
                            let mid = below_it + (at - below_it) / 2;
                            if native(mid) == last {
                                at = mid;
                            } else {
                                below_it = mid;
                            }
                        }
                        at
                    }
                    _ => return COMPUTE,
                };
                let base = u64::try_from(first + BIAS).unwrap_or(0);
                if base == 0 || base >= 1 << BASE_BITS || next >= 1 << (64 - BASE_BITS) {
                    return COMPUTE;
                }
                (next << BASE_BITS) | base
            })
            .collect();
        ByHdr { entries }
    }

    /// The native bucket ([`index_of_nanos_in`]) of `nanos` (> 0), whose HDR bucket is
    /// `hdr` ([`index_of`]).
    #[inline]
    pub(super) fn index(&self, below: &Below, hdr: u32, nanos: u64) -> i32 {
        match self.entries.get(hdr as usize) {
            Some(&e) if e != COMPUTE => {
                let base = (e & ((1 << BASE_BITS) - 1)) as i32 - BIAS;
                base + i32::from(nanos >= e >> BASE_BITS)
            }
            _ => index_of_nanos_in(below, nanos),
        }
    }

    /// HDR buckets answered by the table (for the tests).
    #[cfg(test)]
    fn looked_up(&self) -> usize {
        self.entries.iter().filter(|e| **e != COMPUTE).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(table: &ByHdr, below: &Below, n: u64) {
        assert_eq!(
            table.index(below, index_of(n), n),
            index_of_nanos_in(below, n),
            "{n} ns"
        );
    }

    #[test]
    fn native_buckets_by_hdr_bucket_are_those_of_the_seconds() {
        let below = below_table();
        let table = by_hdr();
        // Most HDR buckets above the narrow ones are looked up.
        assert!(table.looked_up() > 20_000, "{}", table.looked_up());
        // Every HDR bucket's first and last nanoseconds and their neighbours.
        for i in 0..INDEXES as u32 {
            let lo = key_of_index(i);
            for n in [lo.saturating_sub(1), lo, lo + 1] {
                check(table, below, n.max(1));
            }
        }
        // Every native bucket bound's neighbourhood, from 1 µs to past an hour (the
        // bound's nanosecond by the formula, then the nanoseconds around it).
        for i in -5_200..3_200 {
            let seconds = (f64::from(i) / 256.0).exp2();
            let at = (seconds * 1e9).round() as u64;
            for n in at.saturating_sub(3)..at + 3 {
                check(table, below, n.max(1));
            }
        }
        // Every nanosecond to 3 ms, and random ones of every size.
        for n in 1..3_000_000 {
            check(table, below, n);
        }
        let mut rng = fastrand::Rng::with_seed(28);
        for _ in 0..1_000_000 {
            check(table, below, (rng.u64(1..) >> rng.u32(0..64)).max(1));
        }
        for n in [HIGHEST_NANOS, HIGHEST_NANOS + 1, u64::MAX / 2, u64::MAX] {
            check(table, below, n);
        }
    }
}
