//! Data points, whatever their kind, and what their buckets say at a threshold.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    ExponentialHistogramDataPoint, NumberDataPoint, number_data_point,
};

use crate::slo::metric_limits::{MAX_SCALE, MIN_SCALE};

/// The buckets of a data point.
#[derive(Clone, Copy)]
pub(super) enum Buckets<'p> {
    /// A sum, or a histogram with only count and sum.
    None,
    Explicit {
        bounds: &'p [f64],
        counts: &'p [u64],
    },
    Exponential(&'p ExponentialHistogramDataPoint),
}

impl Buckets<'_> {
    /// Good observations at `threshold` and the effective threshold; `None` when the
    /// point cannot say.
    pub(super) fn good(&self, threshold: f64) -> Option<(u64, Option<f64>)> {
        match *self {
            Buckets::None => None,
            Buckets::Explicit { bounds, counts } => {
                (counts.len() == bounds.len() + 1).then(|| explicit_good(bounds, counts, threshold))
            }
            Buckets::Exponential(p) => Some(exponential_good(p, threshold)),
        }
    }
}

/// Explicit buckets (`counts[i]` holds `(bounds[i−1], bounds[i]]`, the last one the rest):
/// the counts of the buckets whose upper bound is ≤ `threshold`, and the largest such
/// bound.
pub fn explicit_good(bounds: &[f64], counts: &[u64], threshold: f64) -> (u64, Option<f64>) {
    let mut good = 0u64;
    let mut effective: Option<f64> = None;
    for (bound, count) in bounds.iter().zip(counts) {
        if *bound <= threshold {
            good = good.saturating_add(*count);
            effective = Some(effective.map_or(*bound, |e| e.max(*bound)));
        }
    }
    (good, effective)
}

/// The upper bound of positive bucket `index - 1` of an exponential histogram at `scale`:
/// base^index = 2^(index · 2^−scale), exact for whole powers of two.
pub(super) fn exponential_bound(scale: i32, index: i64) -> f64 {
    (index as f64 * (-f64::from(scale)).exp2()).exp2()
}

/// The largest `k` with base^k ≤ `threshold` (`threshold` > 0 and finite, `scale` within
/// [`MIN_SCALE`]`..=`[`MAX_SCALE`]), in closed form.
///
/// At scale ≤ 0 a bound is 2^(k·2^−scale), a whole power of two, so `k` is the threshold's
/// binary exponent divided (rounding down) by 2^−scale, exactly. At scale > 0 it is
/// ⌊log₂(threshold)·2^scale⌋, which rounding can move by one near a bucket bound; at most
/// two correction steps each way make it agree with [`exponential_bound`] (for normal
/// doubles; among subnormal thresholds, where neighbouring bounds round to the same double,
/// it may stop short of the last equal one).
pub(super) fn exponential_index(scale: i32, threshold: f64) -> i64 {
    let scale = scale.clamp(MIN_SCALE, MAX_SCALE);
    if scale <= 0 {
        return binary_exponent(threshold).div_euclid(1i64 << -scale);
    }
    let mut k = (threshold.log2() * f64::from(scale).exp2()).floor() as i64;
    for _ in 0..2 {
        if exponential_bound(scale, k) > threshold {
            k -= 1;
        }
    }
    for _ in 0..2 {
        if exponential_bound(scale, k + 1) <= threshold {
            k += 1;
        }
    }
    k
}

/// ⌊log₂ x⌋ for a finite `x` > 0, subnormals included, from the bits.
fn binary_exponent(x: f64) -> i64 {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    if biased == 0 {
        // Subnormal: mantissa · 2^−1074, the mantissa's highest bit gives the exponent.
        let mantissa = bits & ((1u64 << 52) - 1);
        63 - i64::from(mantissa.leading_zeros()) - 1074
    } else {
        biased - 1023
    }
}

/// Exponential buckets: the zero bucket, every negative bucket and the positive buckets
/// whose upper bound base^(index+1) ≤ `threshold`; and the effective threshold, the
/// largest bucket bound ≤ `threshold` (`None` when `threshold` ≤ 0). A point whose scale
/// is outside the specification's range (see [`crate::slo::metric_limits`]) has no
/// positive bucket below any threshold: the engine skips such points before this.
pub fn exponential_good(p: &ExponentialHistogramDataPoint, threshold: f64) -> (u64, Option<f64>) {
    let sum = |counts: &[u64]| counts.iter().fold(0u64, |a, c| a.saturating_add(*c));
    let negative = p.negative.as_ref().map_or(0, |b| sum(&b.bucket_counts));
    let mut good = p.zero_count.saturating_add(negative);
    if !(threshold > 0.0 && threshold.is_finite() && (MIN_SCALE..=MAX_SCALE).contains(&p.scale)) {
        return (good, None);
    }
    let k = exponential_index(p.scale, threshold);
    if let Some(b) = &p.positive {
        for (i, count) in b.bucket_counts.iter().enumerate() {
            // Bucket `index` holds (base^index, base^(index+1)]: good when index + 1 ≤ k.
            if i64::from(b.offset) + (i as i64) < k {
                good = good.saturating_add(*count);
            } else {
                break;
            }
        }
    }
    (good, Some(exponential_bound(p.scale, k)))
}

/// One data point, whatever its kind.
#[derive(Clone, Copy)]
pub(super) struct Point<'p> {
    pub(super) attributes: &'p [KeyValue],
    pub(super) start: u64,
    pub(super) time: u64,
    pub(super) cumulative: bool,
    /// A sum's value, a histogram's count.
    pub(super) count: u64,
    pub(super) buckets: Buckets<'p>,
}

/// A monotonic sum's value in whole events.
pub(super) fn sum_value(p: &NumberDataPoint) -> Option<u64> {
    match p.value? {
        number_data_point::Value::AsInt(i) => Some(i.max(0) as u64),
        number_data_point::Value::AsDouble(d) => d.is_finite().then(|| d.max(0.0).round() as u64),
    }
}
