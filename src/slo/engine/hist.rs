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

/// A merge of several slots' histograms, ready for percentile queries: counts by bucket
/// index ([`index_of`], ascending with the bucket), so a percentile is one walk over them
/// from the lowest index counted to the highest, without sorting buckets, and adding a
/// slot is an addition per bucket (a dense slot's: per page), not a hash-map update. The
/// same values as merging the (bucket key, count) pairs into a map and sorting them
/// (see the tests).
#[derive(Debug, Clone)]
pub struct Merged {
    /// Counts by bucket index, [`INDEXES`] of them once the first bucket comes (empty
    /// until then).
    counts: Vec<u64>,
    /// The lowest and highest index counted (`lo > hi`: none).
    lo: usize,
    hi: usize,
}

impl Default for Merged {
    fn default() -> Self {
        Self {
            counts: Vec::new(),
            lo: INDEXES,
            hi: 0,
        }
    }
}

/// The dense index ([`index_of`]) of a sealed bucket code ([`code_of`]) of a bucket key:
/// `index_of(key_of(code))`, from the code's shift and top bits without the key (the
/// tests check every bucket).
#[inline]
fn index_of_code(code: u64) -> usize {
    let shift = (code >> 11).saturating_sub(9) as usize;
    ((shift << 10) + (code & 0x7ff) as usize).min(HIGHEST_INDEX)
}

/// The index of [`HIGHEST_NANOS`], where [`index_of`] clamps.
const HIGHEST_INDEX: usize = 24_204;

impl Merged {
    /// The counts from index `lo` to `hi` (within [`INDEXES`]), allocated if need be, and
    /// the range widened to them.
    #[inline]
    fn counts_over(&mut self, lo: usize, hi: usize) -> &mut [u64] {
        if self.counts.is_empty() {
            self.counts = vec![0; INDEXES];
        }
        let hi = hi.min(INDEXES - 1);
        let lo = lo.min(hi);
        self.lo = self.lo.min(lo);
        self.hi = self.hi.max(hi);
        &mut self.counts[lo..=hi]
    }

    pub fn add(&mut self, h: &SparseHist) {
        match h {
            SparseHist::Empty => {}
            SparseHist::Open(map) => {
                for (k, c) in map {
                    let i = index_of(*k) as usize;
                    if let Some(n) = self.counts_over(i, i).first_mut() {
                        *n = n.saturating_add(*c);
                    }
                }
            }
            SparseHist::Dense(d) => {
                for (first, page) in d.pages() {
                    let into = self.counts_over(first, first + page.len() - 1);
                    for (n, c) in into.iter_mut().zip(page) {
                        *n = n.saturating_add(*c);
                    }
                }
            }
            SparseHist::Sealed(b) => {
                // Ascending: the first bucket is the lowest, the last the highest.
                let mut at = 0;
                let mut code = 0u64;
                let mut range: Option<(usize, usize)> = None;
                if self.counts.is_empty() {
                    self.counts = vec![0; INDEXES];
                }
                while let (Some(delta), Some(count)) =
                    (get_varint(b, &mut at), get_varint(b, &mut at))
                {
                    code = code.wrapping_add(delta);
                    let i = index_of_code(code);
                    if let Some(n) = self.counts.get_mut(i) {
                        *n = n.saturating_add(count);
                    }
                    range = Some(range.map_or((i, i), |(lo, _)| (lo, i)));
                }
                if let Some((lo, hi)) = range {
                    self.counts_over(lo, hi);
                }
            }
            SparseHist::Shared(s) => self.add(s.contents()),
        }
    }

    /// Adds another merge into this one.
    pub fn add_merged(&mut self, other: &Merged) {
        if other.lo > other.hi || other.counts.is_empty() {
            return;
        }
        let from = &other.counts[other.lo..=other.hi];
        let into = self.counts_over(other.lo, other.hi);
        for (n, c) in into.iter_mut().zip(from) {
            *n = n.saturating_add(*c);
        }
    }

    /// Adds another merge into this one.
    pub fn merge(&mut self, other: Merged) {
        if self.lo > self.hi || self.counts.is_empty() {
            *self = other;
            return;
        }
        self.add_merged(&other);
    }

    /// The counts from the lowest index counted to the highest, with the first's index.
    fn counted(&self) -> (usize, &[u64]) {
        if self.lo > self.hi || self.counts.is_empty() {
            return (0, &[]);
        }
        (self.lo, &self.counts[self.lo..=self.hi])
    }

    /// Values in nanoseconds at each quantile in `qs` (each in [0, 1]), by nearest rank;
    /// `None` when nothing was recorded.
    pub fn quantiles(&self, qs: &[f64]) -> Vec<Option<u64>> {
        let (first, counts) = self.counted();
        let total = counts.iter().fold(0u64, |a, c| a.saturating_add(*c));
        if total == 0 {
            return vec![None; qs.len()];
        }
        // ⌈q·N⌉, forgiving the float error of q = 99.9 / 100 and the like.
        let ranks: Vec<u64> = qs
            .iter()
            .map(|q| {
                let x = q.clamp(0.0, 1.0) * total as f64;
                ((x - x * 1e-12).ceil() as u64).max(1)
            })
            .collect();
        // One walk for every quantile, in the order of their ranks.
        let mut order: Vec<usize> = (0..qs.len()).collect();
        order.sort_by_key(|&j| ranks[j]);
        let mut out = vec![None; qs.len()];
        let value = |i: usize| bucket_value(key_of_index((first + i) as u32));
        let mut next = order.iter().peekable();
        let mut seen = 0u64;
        let mut last = None;
        for (i, c) in counts.iter().enumerate() {
            if *c == 0 {
                continue;
            }
            last = Some(i);
            seen = c.saturating_add(seen);
            while let Some(&&j) = next.peek() {
                if seen < ranks[j] {
                    break;
                }
                out[j] = Some(value(i));
                next.next();
            }
            if next.peek().is_none() {
                return out;
            }
        }
        // (Not reached: the counts add up to every rank.)
        for &j in next {
            out[j] = last.map(value);
        }
        out
    }

    /// Whether nothing was added (or only empty histograms).
    pub fn is_empty(&self) -> bool {
        self.counted().1.is_empty()
    }

    pub fn total(&self) -> u64 {
        self.counted()
            .1
            .iter()
            .fold(0u64, |a, c| a.saturating_add(*c))
    }
}

#[cfg(test)]
pub(super) mod tests {
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

    /// Quantiles as the plain merge answers them: (bucket key, count) pairs added into a
    /// map, sorted, and walked once per quantile.
    pub(crate) fn plain_quantiles(
        buckets: &std::collections::BTreeMap<u64, u64>,
        qs: &[f64],
    ) -> Vec<Option<u64>> {
        let total = buckets.values().fold(0u64, |a, c| a.saturating_add(*c));
        qs.iter()
            .map(|q| {
                if total == 0 {
                    return None;
                }
                let x = q.clamp(0.0, 1.0) * total as f64;
                let rank = ((x - x * 1e-12).ceil() as u64).max(1);
                let mut seen = 0u64;
                for (k, c) in buckets {
                    seen = c.saturating_add(seen);
                    if seen >= rank {
                        return Some(bucket_value(*k));
                    }
                }
                buckets.keys().last().map(|k| bucket_value(*k))
            })
            .collect()
    }

    /// Adds `h`'s buckets into `into` as the plain merge does.
    pub(crate) fn plain_add(into: &mut std::collections::BTreeMap<u64, u64>, h: &SparseHist) {
        for (k, c) in h.buckets() {
            let n = into.entry(k).or_insert(0);
            *n = n.saturating_add(c);
        }
    }

    /// A random histogram: empty, a few buckets in a map, many in dense pages, sealed, or
    /// shared; latencies clustered or over the whole range, counts small or near the
    /// largest.
    fn random_hist(rng: &mut fastrand::Rng) -> SparseHist {
        let mut h = SparseHist::default();
        let buckets = match rng.u8(..4) {
            0 => 0,
            1 => rng.usize(1..20),
            2 => rng.usize(100..400),
            _ => rng.usize(400..3_000),
        };
        let centre = rng.u64(LOWEST_NANOS..HIGHEST_NANOS / 4);
        let huge = rng.u8(..8) == 0;
        for _ in 0..buckets {
            let v = match rng.u8(..6) {
                0 => rng.u64(..2 * HIGHEST_NANOS),
                1 => rng.u64(..LOWEST_NANOS * 2),
                _ => centre / 2 + rng.u64(..centre.max(1)),
            };
            let c = if huge {
                u64::MAX / rng.u64(1..6)
            } else {
                rng.u64(1..5)
            };
            h.record(v, c);
        }
        match rng.u8(..4) {
            0 => h.seal(),
            1 => {
                // Runs added to two slots: one histogram they share.
                let memo = super::super::shared_hist::Memo::default();
                let (mut a, mut b) = (SparseHist::Empty, SparseHist::Empty);
                for _ in 0..rng.usize(1..4) {
                    let run: super::super::shared_hist::Run = (0..rng.usize(1..2_000))
                        .map(|_| index_of(centre / 2 + rng.u64(..centre.max(1))))
                        .collect();
                    a.record_run(&run, &memo);
                    b.record_run(&run, &memo);
                }
                h = a;
            }
            _ => {}
        }
        h
    }

    #[test]
    fn merged_quantiles_are_those_of_the_plain_merge() {
        let mut rng = fastrand::Rng::with_seed(21);
        let mut kinds = [0usize; 5];
        for case in 0..400 {
            let hists: Vec<SparseHist> = (0..rng.usize(0..8))
                .map(|_| random_hist(&mut rng))
                .collect();
            for h in &hists {
                kinds[match h {
                    SparseHist::Empty => 0,
                    SparseHist::Open(_) => 1,
                    SparseHist::Dense(_) => 2,
                    SparseHist::Sealed(_) => 3,
                    SparseHist::Shared(_) => 4,
                }] += 1;
            }
            let mut plain = std::collections::BTreeMap::new();
            for h in &hists {
                plain_add(&mut plain, h);
            }
            // Added one by one, or as merges of merges.
            let mut one = Merged::default();
            for h in &hists {
                one.add(h);
            }
            let mut parts = Merged::default();
            for pair in hists.chunks(2) {
                let mut m = Merged::default();
                for h in pair {
                    m.add(h);
                }
                if rng.bool() {
                    parts.add_merged(&m);
                } else {
                    parts.merge(m);
                }
            }
            let mut qs: Vec<f64> = vec![0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0];
            qs.extend((0..5).map(|_| rng.f64()));
            rng.shuffle(&mut qs);
            let want = plain_quantiles(&plain, &qs);
            assert_eq!(one.quantiles(&qs), want, "case {case}");
            assert_eq!(parts.quantiles(&qs), want, "case {case}");
            let total = plain.values().fold(0u64, |a, c| a.saturating_add(*c));
            assert_eq!(one.total(), total, "case {case}");
            assert_eq!(parts.total(), total, "case {case}");
            assert_eq!(
                one.is_empty(),
                total == 0 && plain.is_empty(),
                "case {case}"
            );
        }
        // Sealed codes to indexes: every bucket.
        assert_eq!(index_of(HIGHEST_NANOS) as usize, HIGHEST_INDEX);
        for i in 1..INDEXES as u32 {
            let key = key_of_index(i);
            assert_eq!(index_of_code(code_of(key)), index_of(key) as usize, "{i}");
        }
        // Every kind of histogram came up, many times.
        assert!(kinds.iter().all(|k| *k > 100), "{kinds:?}");
    }

    #[test]
    fn empty_has_no_percentiles() {
        assert_eq!(Merged::default().quantiles(&[0.5]), vec![None]);
    }
}
