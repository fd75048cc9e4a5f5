//! Lifetime latency histograms in the exponential bucket layout of OTLP exponential
//! histograms and Prometheus native histograms, for `slotel_slo_latency_seconds`.
//!
//! Buckets are recorded at schema [`SCHEMA`] (2⁸ buckets per power of two, each 0.27%
//! wide) and merged down to the schema an exporter asks for: bucket `i` at schema `s`
//! covers `(2^((i-1)·2^-s), 2^(i·2^-s)]` seconds, and halving the resolution maps `i` to
//! `⌈i/2⌉`, so downscaling is exact. Counts are cumulative since start, so several replicas'
//! histograms add up. The counts live in one dense vector over the range of buckets seen:
//! a service's latencies span a few powers of two, a few hundred to a few thousand buckets.
//!
//! The sum of the latencies is kept in whole nanoseconds (a `u128`: exact, and the same
//! whatever order latencies, slots and groups are added in) and read in seconds; a sum
//! restored from a snapshot written before (seconds, a float) is kept beside it.

/// The schema latencies are recorded at; exporters may ask for any schema up to this.
pub const SCHEMA: i32 = 8;

/// Bucket indexes a restored histogram may use: 1 ns to past 1 h at [`SCHEMA`] is
/// about −7 700 to 3 000.
const INDEX_LIMIT: i32 = 10_000;

/// A latency in nanoseconds and its bucket at [`SCHEMA`] (`None`: a duration of zero),
/// found once per span for every SLO that records it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub nanos: u64,
    pub index: Option<i32>,
}

impl Bucket {
    pub fn of(nanos: u64) -> Self {
        Self {
            nanos,
            index: (nanos != 0).then(|| index_at_schema(nanos as f64 / 1e9)),
        }
    }
}

/// The upper bounds of the [`SCHEMA`] buckets of one power of two, as fractions of it:
/// `2^(j/256) / 2` for `j` in `0..256`, ascending in `[0.5, 1)`.
fn octave_bounds() -> &'static [f64; 256] {
    static BOUNDS: std::sync::OnceLock<[f64; 256]> = std::sync::OnceLock::new();
    BOUNDS.get_or_init(|| std::array::from_fn(|j| (j as f64 / 256.0).exp2() / 2.0))
}

/// Bits of the mantissa that pick a [`Below`] entry: 2^10 parts of a power of two, each
/// narrower than the narrowest bucket, so each holds at most one bucket bound.
const BELOW_BITS: u32 = 10;

/// The bucket bounds of a power of two ([`octave_bounds`]) by the top [`BELOW_BITS`] bits
/// of the mantissa of `frac` in `[0.5, 1)`: how many bounds lie below the part's start,
/// and the bound inside the part (above every `frac` when none), so that the number of
/// bounds below `frac` is `count[k] + (frac > bound[k])` — what a binary search over the
/// bounds finds, in one look-up.
pub(super) struct Below {
    count: [u16; 1 << BELOW_BITS],
    bound: [f64; 1 << BELOW_BITS],
}

pub(super) fn below_table() -> &'static Below {
    static BELOW: std::sync::OnceLock<Below> = std::sync::OnceLock::new();
    BELOW.get_or_init(|| {
        let bounds = octave_bounds();
        let mut table = Below {
            count: [0; 1 << BELOW_BITS],
            // Above every `frac` (< 1).
            bound: [1.0; 1 << BELOW_BITS],
        };
        for k in 0..1usize << BELOW_BITS {
            // The part's start, exactly: 0.5 + k / 2^(BELOW_BITS + 1).
            let start = 0.5 + k as f64 / f64::from(1u32 << (BELOW_BITS + 1));
            let end = 0.5 + (k + 1) as f64 / f64::from(1u32 << (BELOW_BITS + 1));
            let below = bounds.partition_point(|b| *b < start);
            table.count[k] = below as u16;
            // At most one bound in [start, end): the bounds are further apart than a part
            // is wide (checked by the tests).
            if let Some(b) = bounds.get(below).filter(|b| **b < end) {
                table.bound[k] = *b;
            }
        }
        table
    })
}

/// The bucket index of `seconds` (> 0, finite) at [`SCHEMA`] without a logarithm, as the
/// Prometheus client libraries find it: `seconds = frac · 2^exp` with `frac` in
/// `[0.5, 1)`, and the index is `(exp - 1) · 256` plus the number of bucket bounds of the
/// power of two below `frac` (found by [`Below`]).
#[inline]
pub fn index_at_schema(seconds: f64) -> i32 {
    index_at_schema_in(below_table(), seconds)
}

/// [`index_at_schema`] of `nanos` nanoseconds (> 0) with the table looked up once by the
/// caller (a run of latencies): the same index as `index_at_schema(nanos as f64 / 1e9)`.
#[inline]
pub(super) fn index_of_nanos_in(table: &Below, nanos: u64) -> i32 {
    // (Below 2^63 the signed conversion, one instruction, gives the same value.)
    let seconds = match i64::try_from(nanos) {
        Ok(n) => n as f64,
        Err(_) => nanos as f64,
    } / 1e9;
    index_at_schema_in(table, seconds)
}

/// [`index_at_schema`] with the table given.
#[inline]
fn index_at_schema_in(table: &Below, seconds: f64) -> i32 {
    let bits = seconds.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 || biased == 0x7ff {
        // Subnormal, infinite or not a number: not a latency in seconds of whole
        // nanoseconds; the general formula decides.
        return bucket_index(seconds, SCHEMA);
    }
    // The same mantissa with the exponent of [0.5, 1).
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1_022 << 52));
    let exp = biased - 1_022;
    if frac < 0.0 {
        // Negative: no bound is below it.
        return (exp - 1) * 256;
    }
    let k = ((bits >> (52 - BELOW_BITS)) & ((1 << BELOW_BITS) - 1)) as usize;
    let below = i32::from(table.count[k]) + i32::from(frac > table.bound[k]);
    (exp - 1) * 256 + below
}

/// Cumulative latency histogram of one group.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NativeHist {
    /// Index of `counts[0]` at [`SCHEMA`].
    offset: i32,
    counts: Vec<u64>,
    /// Durations of zero.
    pub zero: u64,
    pub count: u64,
    /// The sum restored from a snapshot written before `nanos` (seconds).
    #[serde(rename = "sum", default)]
    restored: f64,
    /// The sum of the latencies recorded since, nanoseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    nanos: u128,
}

fn is_zero(n: &u128) -> bool {
    *n == 0
}

/// The bucket index of `seconds` (> 0) at `schema`.
pub fn bucket_index(seconds: f64, schema: i32) -> i32 {
    let scaled = seconds.log2() * f64::from(schema).exp2();
    let idx = scaled.ceil();
    // Values at a power of the base land exactly on an upper bound.
    idx.clamp(f64::from(i32::MIN / 2), f64::from(i32::MAX / 2)) as i32
}

/// Maps an index at schema `from` to the coarser schema `to` (`to <= from`).
pub fn downscale_index(i: i32, from: i32, to: i32) -> i32 {
    let shift = (from - to).clamp(0, 31);
    // ⌈i / 2^shift⌉ for negative and positive i.
    -((-i) >> shift)
}

impl NativeHist {
    pub fn record(&mut self, nanos: u64, n: u64) {
        self.record_at(Bucket::of(nanos), n);
    }

    /// Records `n` latencies whose bucket was found before ([`Bucket::of`]).
    pub fn record_at(&mut self, bucket: Bucket, n: u64) {
        // Saturating: a span sampled at 2^-56 counts 2^56 events.
        self.count = self.count.saturating_add(n);
        self.add_nanos(u128::from(bucket.nanos) * u128::from(n));
        let Some(idx) = bucket.index else {
            self.zero = self.zero.saturating_add(n);
            return;
        };
        if self.counts.is_empty() {
            self.offset = idx;
            self.counts.push(n);
            return;
        }
        if idx < self.offset {
            let grow = (self.offset - idx) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = idx;
        }
        let pos = (idx - self.offset) as usize;
        if pos >= self.counts.len() {
            self.counts.resize(pos + 1, 0);
        }
        self.counts[pos] = self.counts[pos].saturating_add(n);
    }

    /// Records latencies by bucket, one each: `indexes` (in any order, all within
    /// `lo..=hi`) and `zero` durations of zero. The same as [`NativeHist::record_at`] for
    /// each latency except for the sum, which [`NativeHist::add_nanos`] adds.
    pub fn record_indexes(&mut self, indexes: &[i32], (lo, hi): (i32, i32), zero: u64) {
        let n = (indexes.len() as u64).saturating_add(zero);
        self.count = self.count.saturating_add(n);
        self.zero = self.zero.saturating_add(zero);
        if indexes.is_empty() || lo > hi {
            return;
        }
        if self.counts.is_empty() {
            self.offset = lo;
        } else if lo < self.offset {
            let grow = (self.offset - lo) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = lo;
        }
        let end = (hi - self.offset) as usize + 1;
        if end > self.counts.len() {
            self.counts.resize(end, 0);
        }
        let offset = self.offset;
        // (A slice of its own: the counts' pointer and length stay in registers.)
        let counts = self.counts.as_mut_slice();
        for idx in indexes {
            if let Some(slot) = counts.get_mut(idx.wrapping_sub(offset) as usize) {
                *slot = slot.saturating_add(1);
            }
        }
    }

    /// Adds `nanos` nanoseconds of latencies to the sum.
    pub fn add_nanos(&mut self, nanos: u128) {
        self.nanos = self.nanos.saturating_add(nanos);
    }

    /// The sum of the latencies, seconds.
    pub fn sum(&self) -> f64 {
        self.restored + self.nanos as f64 / 1e9
    }

    pub fn merge(&mut self, other: &NativeHist) {
        self.count = self.count.saturating_add(other.count);
        self.restored += other.restored;
        self.nanos = self.nanos.saturating_add(other.nanos);
        self.zero = self.zero.saturating_add(other.zero);
        if other.counts.is_empty() {
            return;
        }
        if self.counts.is_empty() {
            self.offset = other.offset;
            self.counts = other.counts.clone();
            return;
        }
        let lo = self.offset.min(other.offset);
        let hi =
            (self.offset + self.counts.len() as i32).max(other.offset + other.counts.len() as i32);
        let mut merged = vec![0u64; (hi - lo) as usize];
        for (src, off) in [(&self.counts, self.offset), (&other.counts, other.offset)] {
            for (i, c) in src.iter().enumerate() {
                let m = &mut merged[(off - lo) as usize + i];
                *m = m.saturating_add(*c);
            }
        }
        self.offset = lo;
        self.counts = merged;
    }

    /// Whether a histogram read from a snapshot is consistent: indexes in range and
    /// bucket counts adding up to the count.
    pub fn is_valid(&self) -> bool {
        let end = i64::from(self.offset) + self.counts.len() as i64;
        let total = self
            .counts
            .iter()
            .try_fold(self.zero, |acc, c| acc.checked_add(*c));
        self.offset >= -INDEX_LIMIT
            && end <= i64::from(INDEX_LIMIT)
            && total == Some(self.count)
            && self.restored.is_finite()
            && self.restored >= 0.0
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Buckets the dense counts cover (what copying them costs).
    pub fn width(&self) -> usize {
        self.counts.len()
    }

    /// The non-empty buckets at `schema` (≤ [`SCHEMA`]) as (index, count), ascending.
    pub fn buckets(&self, schema: i32) -> Vec<(i32, u64)> {
        let schema = schema.min(SCHEMA);
        let mut out: Vec<(i32, u64)> = Vec::new();
        for (i, c) in self.counts.iter().enumerate() {
            if *c == 0 {
                continue;
            }
            let idx = downscale_index(self.offset + i as i32, SCHEMA, schema);
            match out.last_mut() {
                Some((last, n)) if *last == idx => *n = n.saturating_add(*c),
                _ => out.push((idx, *c)),
            }
        }
        out
    }

    pub fn heap_bytes(&self) -> usize {
        self.counts.capacity() * std::mem::size_of::<u64>()
    }

    /// Per-bucket counts over classic bounds (nanoseconds, ascending; one more count for
    /// above them all), approximated from the exponential buckets: a bucket counts under
    /// the first bound at or above its upper bound, so a latency within 0.27% below a bound
    /// may count above it. For state restored without exact classic counts.
    pub fn classic(&self, bounds: &[u64]) -> Vec<u64> {
        let mut out = vec![0u64; bounds.len() + 1];
        if let Some(first) = out.first_mut() {
            *first = self.zero;
        }
        for (i, c) in self.counts.iter().enumerate() {
            let upper = upper_bound(self.offset + i as i32, SCHEMA) * 1e9;
            let at = bounds.partition_point(|b| (*b as f64) < upper * (1.0 - 1e-12));
            out[at] = out[at].saturating_add(*c);
        }
        out
    }
}

/// The upper bound in seconds of bucket `i` at `schema`.
pub fn upper_bound(i: i32, schema: i32) -> f64 {
    (f64::from(i) * f64::from(-schema).exp2()).exp2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_bound_values_and_downscale_exactly() {
        for schema in [-4, 0, 3, 6, 8] {
            for v in [0.0007, 0.001, 0.0123, 0.3, 1.0, 2.0, 7.5, 3600.0] {
                let i = bucket_index(v, schema);
                let upper = upper_bound(i, schema);
                let lower = upper_bound(i - 1, schema);
                assert!(
                    v <= upper * (1.0 + 1e-12) && v > lower * (1.0 - 1e-12),
                    "{v} s={schema} i={i}"
                );
            }
        }
        for i in -3000..3000 {
            let v = upper_bound(i, 8) * 0.9999;
            for to in [-4, 0, 5, 6, 7, 8] {
                assert_eq!(
                    downscale_index(bucket_index(v, 8), 8, to),
                    bucket_index(v, to),
                    "i={i} to={to}"
                );
            }
        }
    }

    #[test]
    fn indexes_without_a_logarithm_bound_their_values() {
        // Every whole nanosecond up to 10 ms at a few points a decade, then random ones up
        // to past an hour, and each bucket's bounds and their neighbours in nanoseconds.
        let mut rng = fastrand::Rng::with_seed(2);
        let mut values: Vec<u64> = (1..20_000).collect();
        values.extend((0..300_000).map(|_| rng.u64(1..8_000_000_000_000)));
        for i in -7_700..3_100 {
            let n = (upper_bound(i, SCHEMA) * 1e9).round() as u64;
            values.extend([n.saturating_sub(1), n, n + 1]);
        }
        let mut differ = 0;
        for n in values.into_iter().filter(|n| *n > 0) {
            let v = n as f64 / 1e9;
            let i = index_at_schema(v);
            let (upper, lower) = (upper_bound(i, SCHEMA), upper_bound(i - 1, SCHEMA));
            assert!(
                v <= upper * (1.0 + 1e-12) && v > lower * (1.0 - 1e-12),
                "{n} ns: i={i}"
            );
            // The logarithm agrees but within rounding of a bound.
            let by_log = bucket_index(v, SCHEMA);
            if by_log != i {
                differ += 1;
                assert_eq!((by_log - i).abs(), 1, "{n} ns");
                assert!((v / upper - 1.0).abs() < 1e-12 || (v / lower - 1.0).abs() < 1e-12);
            }
        }
        assert!(differ < 100, "{differ}");
        assert_eq!(index_at_schema(1.0), 0);
        assert_eq!(index_at_schema(2.0), 256);
        assert_eq!(index_at_schema(0.5), -256);
    }

    /// [`index_at_schema`] as a binary search over the bounds finds it.
    fn index_by_search(seconds: f64) -> i32 {
        let bits = seconds.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        if biased == 0 || biased == 0x7ff {
            return bucket_index(seconds, SCHEMA);
        }
        let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1_022 << 52));
        let below = octave_bounds().partition_point(|b| *b < frac) as i32;
        (biased - 1_023) * 256 + below
    }

    #[test]
    fn nanoseconds_index_as_their_seconds_do() {
        // The signed conversion below 2^63 and the unsigned one above it: the index of
        // `nanos as f64 / 1e9` for every kind of value.
        let table = below_table();
        let mut values: Vec<u64> = (1..200_000).collect();
        for m in 0..64 {
            let p = 1u64 << m;
            values.extend([p.saturating_sub(1).max(1), p, p.saturating_add(1)]);
        }
        values.extend([i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX - 1, u64::MAX]);
        let mut rng = fastrand::Rng::with_seed(34);
        values.extend(
            (0..500_000)
                .map(|_| rng.u64(1..) >> rng.u32(0..64))
                .filter(|n| *n > 0),
        );
        for n in values {
            assert_eq!(
                index_of_nanos_in(table, n),
                index_at_schema(n as f64 / 1e9),
                "{n} ns"
            );
        }
    }

    #[test]
    fn the_look_up_finds_what_a_binary_search_over_the_bounds_finds() {
        let bounds = octave_bounds();
        // Each part of the table holds at most one bound.
        let part = 1.0 / f64::from(1u32 << (BELOW_BITS + 1));
        assert!(bounds.windows(2).all(|w| w[1] - w[0] > part));
        // Every bound, its neighbouring floats and those of every part's start and end, at
        // a few exponents; every whole nanosecond up to 3 ms; random nanoseconds and
        // random floats.
        let mut fracs: Vec<f64> = Vec::new();
        let next = |f: f64, by: i64| f64::from_bits((f.to_bits() as i64 + by) as u64);
        for b in bounds {
            fracs.extend((-3..=3).map(|d| next(*b, d)));
        }
        for k in 0..=1u32 << BELOW_BITS {
            let start = 0.5 + f64::from(k) * part;
            fracs.extend((-3..=3).map(|d| next(start, d)));
        }
        let mut checked = 0;
        for f in fracs.into_iter().filter(|f| (0.5..1.0).contains(f)) {
            for exp in [-30, -10, -1, 0, 1, 12, 40] {
                let v = f * f64::from(exp).exp2();
                assert_eq!(index_at_schema(v), index_by_search(v), "{v:e}");
                checked += 1;
            }
        }
        assert!(checked > 20_000);
        for n in 1..3_000_000u64 {
            let v = n as f64 / 1e9;
            assert_eq!(index_at_schema(v), index_by_search(v), "{n} ns");
        }
        let mut rng = fastrand::Rng::with_seed(21);
        for _ in 0..1_000_000 {
            let top = u64::MAX >> rng.u32(0..40);
            let n = rng.u64(1..top);
            let v = n as f64 / 1e9;
            assert_eq!(index_at_schema(v), index_by_search(v), "{n} ns");
            let f = f64::from_bits(rng.u64(1..0x7ff0_0000_0000_0000));
            assert_eq!(index_at_schema(f), index_by_search(f), "{f:e}");
            assert_eq!(index_at_schema(-f), index_by_search(-f), "{:e}", -f);
        }
        // Subnormal and not finite: the general formula, as before.
        for v in [f64::MIN_POSITIVE / 4.0, f64::INFINITY, f64::NAN] {
            assert_eq!(index_at_schema(v), index_by_search(v));
        }
    }

    #[test]
    fn restored_histograms_are_checked() {
        let mut h = NativeHist::default();
        h.record(5_000_000, 3);
        h.record(0, 1);
        assert!(h.is_valid());
        let json = serde_json::to_string(&h).unwrap();
        let back: NativeHist = serde_json::from_str(&json).unwrap();
        assert_eq!(back, h);
        for bad in [
            NativeHist {
                count: 5,
                ..h.clone()
            },
            NativeHist {
                offset: i32::MAX - 1,
                ..h.clone()
            },
            NativeHist {
                offset: i32::MIN,
                ..h.clone()
            },
            NativeHist {
                restored: f64::NAN,
                ..h.clone()
            },
            NativeHist {
                counts: vec![u64::MAX, 2],
                count: 1,
                ..h.clone()
            },
        ] {
            assert!(!bad.is_valid(), "{bad:?}");
        }
    }

    #[test]
    fn sums_are_whole_nanoseconds_in_any_order_and_older_float_sums_are_kept() {
        // Latencies whose float sum in seconds depends on the order they are added in.
        let mut rng = fastrand::Rng::with_seed(4);
        let lat: Vec<u64> = (0..10_000).map(|_| rng.u64(1..3_000_000_000)).collect();
        let (mut fwd, mut back) = (NativeHist::default(), NativeHist::default());
        for n in &lat {
            fwd.record(*n, 1);
        }
        for n in lat.iter().rev() {
            back.record(*n, 1);
        }
        assert_eq!(fwd, back);
        let want: u128 = lat.iter().map(|n| u128::from(*n)).sum();
        assert_eq!(fwd.nanos, want);
        assert_eq!(fwd.sum(), want as f64 / 1e9);
        // A snapshot's histogram of before: its sum in seconds is kept and added to.
        let json = r#"{"offset":0,"counts":[2],"zero":0,"count":2,"sum":1.25}"#;
        let mut old: NativeHist = serde_json::from_str(json).unwrap();
        assert!(old.is_valid());
        assert_eq!(old.sum(), 1.25);
        old.record(500_000_000, 1);
        assert_eq!(old.sum(), 1.75);
        let again: NativeHist =
            serde_json::from_str(&serde_json::to_string(&old).unwrap()).unwrap();
        assert_eq!(again, old);
    }

    #[test]
    fn records_merges_and_buckets() {
        let mut a = NativeHist::default();
        a.record(5_000_000, 3);
        a.record(0, 1);
        a.record(200_000_000, 2);
        let mut b = NativeHist::default();
        b.record(1_000, 1);
        b.record(5_000_000, 1);
        a.merge(&b);
        assert_eq!(a.count, 8);
        assert_eq!(a.zero, 1);
        // Exact: 15 ms + 400 ms + 1 µs + 5 ms.
        assert_eq!(a.nanos, 420_001_000);
        assert_eq!(a.sum(), 0.420_001);
        let buckets = a.buckets(6);
        assert_eq!(buckets.iter().map(|b| b.1).sum::<u64>(), 7);
        assert_eq!(buckets[0], (bucket_index(0.000001, 6), 1));
        assert_eq!(buckets[1], (bucket_index(0.005, 6), 4));
        assert_eq!(buckets[2], (bucket_index(0.2, 6), 2));
        assert!(buckets.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
