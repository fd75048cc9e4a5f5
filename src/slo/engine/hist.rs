//! Sparse HDR latency histograms.
//!
//! Bucket geometry comes from the `hdrhistogram` crate: 3 significant digits over 1 µs to
//! 1 h, so a bucket's width is at most 1/1024 of its value. A slot keeps only the buckets
//! it has seen (a slot of ordinary traffic touches a few hundred to a few thousand of the
//! 24 000 buckets): a slot of few buckets in a hash map keyed by the bucket's lowest value,
//! a slot of more than [`DENSE_AT`] in dense pages of counts by bucket index
//! ([`index_of`], `dense.rs`), where recording is an addition; a sealed slot shrinks to a
//! sorted vector.
//!
//! Percentiles use nearest rank: the value at quantile q is the smallest recorded bucket
//! whose cumulative count reaches ⌈q·N⌉, reported as that bucket's highest equivalent value
//! (as `hdrhistogram::Histogram::value_at_quantile` does), so it never understates and
//! overstates by at most 0.1%.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, OnceLock};

use hdrhistogram::Histogram;

use super::dense::Dense;
use super::shared_hist::SharedHist;

/// Lowest trackable latency: 1 µs, in nanoseconds.
pub const LOWEST_NANOS: u64 = 1_000;
/// Highest trackable latency: 1 h, in nanoseconds; longer spans are clamped to it.
pub const HIGHEST_NANOS: u64 = 3_600_000_000_000;

fn geometry() -> Option<&'static Histogram<u8>> {
    static GEOMETRY: OnceLock<Option<Histogram<u8>>> = OnceLock::new();
    GEOMETRY
        .get_or_init(|| Histogram::new_with_bounds(LOWEST_NANOS, HIGHEST_NANOS, 3).ok())
        .as_ref()
}

/// The bucket key (lowest equivalent value) of a latency in nanoseconds.
pub fn bucket_of(nanos: u64) -> u64 {
    let v = nanos.clamp(LOWEST_NANOS, HIGHEST_NANOS);
    geometry().map_or(v, |g| g.lowest_equivalent(v))
}

/// Bucket indexes: 1 µs to 1 h at 3 significant digits (the last power of two whole).
pub const INDEXES: usize = 24_576;

/// The bucket of a latency in nanoseconds as a dense index below [`INDEXES`], ascending with
/// the bucket: the same bucket as [`bucket_of`] (`key_of_index(index_of(v)) ==
/// bucket_of(v)`), without the `hdrhistogram` call. A bucket's values share their top 11
/// bits: below 2^20 ns, buckets are 2^9 ns wide ([`LOWEST_NANOS`]'s magnitude) and the
/// index is the value's bits above the 9th; above, each power of two holds 1 024 buckets.
#[inline]
pub fn index_of(nanos: u64) -> u32 {
    let v = nanos.clamp(LOWEST_NANOS, HIGHEST_NANOS);
    let magnitude = 63 - v.leading_zeros();
    let shift = magnitude.saturating_sub(10).max(9);
    (((shift - 9) << 10) + (v >> shift) as u32).min(INDEXES as u32 - 1)
}

/// The bucket key ([`bucket_of`]) of an index of [`index_of`].
pub fn key_of_index(index: u32) -> u64 {
    let index = u64::from(index);
    if index < 2_048 {
        index << 9
    } else {
        let shift = (index >> 10) + 8;
        ((index & 1_023) + 1_024) << shift
    }
}

/// The value reported for a bucket: its highest equivalent value.
pub fn bucket_value(key: u64) -> u64 {
    geometry().map_or(key, |g| g.highest_equivalent(key))
}

/// A multiplicative hasher for bucket keys (the std SipHash is slow for this hot path and
/// keys are not attacker-chosen in a way that matters: they are bucket boundaries).
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ self.0)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
}

type KeyMap = HashMap<u64, u64, BuildHasherDefault<KeyHasher>>;

/// Distinct buckets past which an open slot counts in dense pages instead of a hash map.
pub const DENSE_AT: usize = 256;

/// The latency histogram of one slot.
#[derive(Debug, Clone, Default)]
pub enum SparseHist {
    #[default]
    Empty,
    /// The slot is still being written, with at most [`DENSE_AT`] distinct buckets.
    Open(KeyMap),
    /// The slot is still being written, with more.
    Dense(Box<Dense>),
    /// Sealed: (bucket code delta, count) pairs as LEB128 varints, sorted by bucket. A
    /// bucket takes about 2–4 bytes instead of 16. Shared by the slots that sealed one
    /// [`SharedHist`].
    Sealed(Arc<[u8]>),
    /// Still being written, held by the slots of several SLOs that recorded the same
    /// spans (see `shared_hist.rs`).
    Shared(Arc<SharedHist>),
}

/// A bucket key as a dense code: the key's shift (its bucket's unit magnitude) and its top
/// 11 bits. Neighbouring buckets get neighbouring codes, so sorted codes delta-encode to
/// one byte each.
fn code_of(key: u64) -> u64 {
    let magnitude = 63 - u64::from(key.max(1).leading_zeros());
    let shift = magnitude.saturating_sub(10).max(9);
    (shift << 11) | (key >> shift)
}

fn key_of(code: u64) -> u64 {
    (code & 0x7ff) << (code >> 11)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    while let Some(b) = bytes.get(*at) {
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
        if shift >= 64 {
            return None;
        }
    }
    None
}

/// Decodes a sealed histogram into (bucket key, count) pairs.
fn decode_sealed(bytes: &[u8]) -> impl Iterator<Item = (u64, u64)> + '_ {
    let mut at = 0;
    let mut code = 0u64;
    std::iter::from_fn(move || {
        let delta = get_varint(bytes, &mut at)?;
        let count = get_varint(bytes, &mut at)?;
        code += delta;
        Some((key_of(code), count))
    })
}

impl SparseHist {
    pub fn record(&mut self, nanos: u64, count: u64) {
        self.record_index(index_of(nanos), count);
    }

    /// Records `count` latencies in the bucket whose key is `key` ([`bucket_of`]).
    pub fn record_key(&mut self, key: u64, count: u64) {
        self.record_index(index_of(key), count);
    }

    /// Records `count` latencies in bucket `index` ([`index_of`]).
    #[inline]
    pub fn record_index(&mut self, index: u32, count: u64) {
        loop {
            match self {
                SparseHist::Dense(d) => return d.add(index, count),
                SparseHist::Open(map) if map.len() < DENSE_AT => {
                    let c = map.entry(key_of_index(index)).or_insert(0);
                    *c = c.saturating_add(count);
                    return;
                }
                _ => self.reopen(),
            }
        }
    }

    /// Records (bucket index, count) pairs ([`index_of`]): once dense, in one loop.
    pub fn record_indexes(&mut self, pairs: &[(u32, u64)]) {
        let mut rest = pairs;
        while let Some((&(index, count), tail)) = rest.split_first() {
            if let SparseHist::Dense(d) = self {
                return d.add_all(rest);
            }
            self.record_index(index, count);
            rest = tail;
        }
    }

    /// Records one latency in each bucket of `indexes` ([`index_of`]): once dense, in one
    /// loop.
    pub fn record_index_run(&mut self, indexes: &[u32]) {
        let mut rest = indexes;
        while let Some((&index, tail)) = rest.split_first() {
            if let SparseHist::Dense(d) = self {
                return d.add_ones(rest);
            }
            self.record_index(index, 1);
            rest = tail;
        }
    }

    /// Makes the histogram writable: an open map with room for one more bucket, or dense.
    #[cold]
    fn reopen(&mut self) {
        *self = match std::mem::take(self) {
            SparseHist::Empty => SparseHist::Open(KeyMap::default()),
            SparseHist::Sealed(b) => {
                let pairs: Vec<(u64, u64)> = decode_sealed(&b).collect();
                if pairs.len() < DENSE_AT {
                    SparseHist::Open(pairs.into_iter().collect())
                } else {
                    dense_of(pairs.into_iter())
                }
            }
            SparseHist::Open(map) => dense_of(map.into_iter()),
            SparseHist::Shared(s) => SharedHist::into_private(s),
            dense @ SparseHist::Dense(_) => dense,
        };
    }

    /// Shrinks an open histogram into its sealed form.
    pub fn seal(&mut self) {
        let sealed = match self {
            SparseHist::Shared(s) => Some(s.sealed(|h| h.encode().unwrap_or_else(|| Arc::new([])))),
            _ => self.encode(),
        };
        match sealed {
            Some(b) if b.is_empty() => *self = SparseHist::Empty,
            Some(b) => *self = SparseHist::Sealed(b),
            None if matches!(self, SparseHist::Open(_) | SparseHist::Dense(_)) => {
                *self = SparseHist::Empty;
            }
            None => {}
        }
    }

    /// The sealed encoding of an open histogram (`None`: not open, or empty).
    fn encode(&self) -> Option<Arc<[u8]>> {
        let mut v: Vec<(u64, u64)> = match self {
            SparseHist::Open(map) => map.iter().map(|(k, c)| (code_of(*k), *c)).collect(),
            SparseHist::Dense(d) => d
                .pairs()
                .map(|(i, c)| (code_of(key_of_index(i)), c))
                .collect(),
            SparseHist::Empty | SparseHist::Sealed(_) | SparseHist::Shared(_) => return None,
        };
        if v.is_empty() {
            return None;
        }
        // (Dense pairs come ascending: the sort is one pass over them.)
        v.sort_unstable_by_key(|(k, _)| *k);
        let mut out = Vec::with_capacity(v.len() * 3);
        let mut prev = 0;
        for (code, count) in v {
            put_varint(&mut out, code - prev);
            put_varint(&mut out, count);
            prev = code;
        }
        Some(out.into())
    }

    /// Buckets an open histogram holds room for, which copying it costs: its distinct
    /// buckets in a map, its pages' buckets once dense (0 for the others). Found without
    /// reading the counts.
    pub fn open_size(&self) -> usize {
        match self {
            SparseHist::Open(map) => map.len(),
            SparseHist::Dense(d) => d.room(),
            _ => 0,
        }
    }

    /// (bucket key, count) pairs, in no particular order.
    fn pairs(&self) -> Box<dyn Iterator<Item = (u64, u64)> + '_> {
        match self {
            SparseHist::Empty => Box::new(std::iter::empty()),
            SparseHist::Open(map) => Box::new(map.iter().map(|(k, c)| (*k, *c))),
            SparseHist::Dense(d) => Box::new(d.pairs().map(|(i, c)| (key_of_index(i), c))),
            SparseHist::Sealed(b) => Box::new(decode_sealed(b)),
            SparseHist::Shared(s) => s.contents().pairs(),
        }
    }

    /// Adds every bucket into `into`.
    pub fn add_to(&self, into: &mut KeyMap) {
        for (k, c) in self.pairs() {
            let n = into.entry(k).or_insert(0);
            *n = n.saturating_add(c);
        }
    }

    /// Adds every bucket of `self` into `into` (keys are bucket keys already).
    pub fn add_into(&self, into: &mut SparseHist) {
        for (k, c) in self.pairs() {
            into.record_key(k, c);
        }
    }

    /// (bucket key, count) pairs, each bucket once, in no particular order.
    pub fn buckets(&self) -> Vec<(u64, u64)> {
        self.pairs().collect()
    }

    /// Bytes held on the heap (for the memory benchmark).
    pub fn heap_bytes(&self) -> usize {
        match self {
            SparseHist::Empty => 0,
            SparseHist::Open(map) => map.capacity() * (16 + 1),
            SparseHist::Dense(d) => std::mem::size_of::<Dense>() + d.heap_bytes(),
            // Shared memory counts in equal parts for its holders.
            SparseHist::Sealed(b) => b.len() / Arc::strong_count(b),
            SparseHist::Shared(s) => s.heap_bytes() / Arc::strong_count(s),
        }
    }
}

/// A dense histogram of (bucket key, count) pairs.
fn dense_of(pairs: impl Iterator<Item = (u64, u64)>) -> SparseHist {
    let mut d = Dense::default();
    for (k, c) in pairs {
        d.add(index_of(k), c);
    }
    SparseHist::Dense(Box::new(d))
}

/// A merge of several slots' histograms, ready for percentile queries.
#[derive(Default)]
pub struct Merged {
    map: KeyMap,
}

impl Merged {
    pub fn add(&mut self, h: &SparseHist) {
        h.add_to(&mut self.map);
    }

    /// Adds another merge into this one.
    pub fn merge(&mut self, other: Merged) {
        if self.map.is_empty() {
            self.map = other.map;
            return;
        }
        for (k, c) in other.map {
            let n = self.map.entry(k).or_insert(0);
            *n = n.saturating_add(c);
        }
    }

    /// Values in nanoseconds at each quantile in `qs` (each in [0, 1]), by nearest rank;
    /// `None` when nothing was recorded.
    pub fn quantiles(&self, qs: &[f64]) -> Vec<Option<u64>> {
        let mut buckets: Vec<(u64, u64)> = self.map.iter().map(|(k, c)| (*k, *c)).collect();
        buckets.sort_unstable_by_key(|(k, _)| *k);
        let total = buckets.iter().fold(0u64, |a, (_, c)| a.saturating_add(*c));
        qs.iter()
            .map(|q| {
                if total == 0 {
                    return None;
                }
                // ⌈q·N⌉, forgiving the float error of q = 99.9 / 100 and the like.
                let x = q.clamp(0.0, 1.0) * total as f64;
                let rank = ((x - x * 1e-12).ceil() as u64).max(1);
                let mut seen = 0;
                for (k, c) in &buckets {
                    seen = c.saturating_add(seen);
                    if seen >= rank {
                        return Some(bucket_value(*k));
                    }
                }
                buckets.last().map(|(k, _)| bucket_value(*k))
            })
            .collect()
    }

    pub fn total(&self) -> u64 {
        self.map.values().fold(0u64, |a, c| a.saturating_add(*c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(sorted: &[u64], q: f64) -> u64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1]
    }

    fn check(samples: &mut [u64]) {
        let mut h = SparseHist::default();
        for s in samples.iter() {
            h.record(*s, 1);
        }
        h.seal();
        let mut m = Merged::default();
        m.add(&h);
        samples.sort_unstable();
        let qs = [0.5, 0.9, 0.95, 0.99, 0.999];
        for (q, got) in qs.iter().zip(m.quantiles(&qs)) {
            let want = exact(samples, *q).clamp(LOWEST_NANOS, HIGHEST_NANOS);
            let got = got.unwrap();
            let err = (got as f64 - want as f64) / want as f64;
            assert!(
                (0.0..=0.001).contains(&err),
                "q={q} want {want} got {got} err {err}"
            );
        }
    }

    #[test]
    fn percentiles_match_exact_values_within_a_tenth_of_a_percent() {
        let mut rng = fastrand::Rng::with_seed(7);
        // Lognormal around 40 ms.
        let mut lognormal: Vec<u64> = (0..50_000)
            .map(|_| {
                let z = (-2.0 * (1.0 - rng.f64()).ln()).sqrt()
                    * (2.0 * std::f64::consts::PI * rng.f64()).cos();
                (40e6 * (0.6 * z).exp()) as u64
            })
            .collect();
        check(&mut lognormal);
        // Bimodal: cache hits at ~2 ms, misses at ~300 ms.
        let mut bimodal: Vec<u64> = (0..50_000)
            .map(|_| {
                if rng.f64() < 0.8 {
                    2_000_000 + rng.u64(0..500_000)
                } else {
                    300_000_000 + rng.u64(0..100_000_000)
                }
            })
            .collect();
        check(&mut bimodal);
        // Heavy tail: Pareto with alpha 1.2 from 1 ms.
        let mut pareto: Vec<u64> = (0..50_000)
            .map(|_| (1e6 / (1.0 - rng.f64()).powf(1.0 / 1.2)).min(3.0e12) as u64)
            .collect();
        check(&mut pareto);
    }

    #[test]
    fn merging_equals_recording_together() {
        let mut rng = fastrand::Rng::with_seed(3);
        let (mut a, mut b, mut both) = (
            SparseHist::default(),
            SparseHist::default(),
            SparseHist::default(),
        );
        for i in 0..10_000 {
            let v = rng.u64(1_000..10_000_000_000);
            if i % 3 == 0 { &mut a } else { &mut b }.record(v, 1);
            both.record(v, 1);
        }
        a.seal();
        let mut m1 = Merged::default();
        m1.add(&a);
        m1.add(&b);
        let mut m2 = Merged::default();
        m2.add(&both);
        let qs = [0.0, 0.25, 0.5, 0.75, 0.99, 1.0];
        assert_eq!(m1.quantiles(&qs), m2.quantiles(&qs));
        assert_eq!(m1.total(), 10_000);
    }

    #[test]
    fn codes_are_dense_and_invertible() {
        let mut rng = fastrand::Rng::with_seed(1);
        let mut last = 0;
        for v in (LOWEST_NANOS..LOWEST_NANOS + 5_000)
            .chain((0..100_000).map(|_| rng.u64(LOWEST_NANOS..HIGHEST_NANOS)))
        {
            let key = bucket_of(v);
            assert_eq!(key_of(code_of(key)), key, "v={v}");
            last = last.max(code_of(key));
        }
        assert!(last < 1 << 17);
        // Sealing and reopening keeps every bucket.
        let mut h = SparseHist::default();
        for v in [1_000, 1_001, 5_000_000, 5_000_100, 3_000_000_000_000] {
            h.record(v, 3);
        }
        let before: std::collections::BTreeMap<_, _> = h.buckets().into_iter().collect();
        h.seal();
        assert!(matches!(h, SparseHist::Sealed(_)));
        let after: std::collections::BTreeMap<_, _> = h.buckets().into_iter().collect();
        assert_eq!(before, after);
        h.record(5_000_000, 1);
        assert_eq!(h.buckets().iter().map(|(_, c)| c).sum::<u64>(), 16);
    }

    #[test]
    fn empty_has_no_percentiles() {
        assert_eq!(Merged::default().quantiles(&[0.5]), vec![None]);
    }
}
