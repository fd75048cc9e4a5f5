//! Range checks for OTLP metric data points, before any of their numbers drives a loop,
//! an allocation or an index.
//!
//! The rules are the OTLP specification's (metrics data model and `metrics.proto`):
//!
//! - every point: `time_unix_nano` is set, and `start_time_unix_nano`, when set, is not
//!   after it;
//! - histogram (explicit buckets): `bucket_counts` is empty (then so is
//!   `explicit_bounds`) or has one element more than `explicit_bounds`; the bounds are
//!   finite and strictly increasing; `count` equals the sum of `bucket_counts`;
//! - exponential histogram: `scale` in −10…20; `zero_threshold` finite and not negative;
//!   every bucket index (`offset` + position) of both ranges inside the indices that
//!   finite doubles reach at that scale; `count` equals `zero_count` plus the sum of every
//!   bucket count (without overflow).
//!
//! A point flagged "no recorded value" passes the count rules trivially when it carries
//! no buckets. Sums and gauges may hold NaN (OTLP allows it; Prometheus uses it as a
//! staleness marker), so their values are not checked here.
//!
//! The checks are pure and cost one pass over a point's buckets. The SLO engine runs them
//! on every point it reads (an invalid point is skipped and counted by reason); the
//! receiver can run them too, to refuse invalid points through partial success
//! ([`check_request`], [`retain_valid`]).

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint, SummaryDataPoint,
};

/// The lowest exponential histogram scale the specification allows.
pub const MIN_SCALE: i32 = -10;
/// The highest exponential histogram scale the specification allows.
pub const MAX_SCALE: i32 = 20;

/// Why a data point is invalid. A closed set: its [`InvalidPoint::as_str`] is a label
/// value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum InvalidPoint {
    #[error("data point has no time")]
    NoTime,
    #[error("data point starts after its time")]
    StartAfterTime,
    #[error("histogram bucket counts do not match its explicit bounds in number")]
    BucketsLength,
    #[error("histogram explicit bounds are not finite and strictly increasing")]
    Bounds,
    #[error("histogram count differs from the sum of its bucket counts")]
    Count,
    #[error("exponential histogram scale is outside -10..=20")]
    Scale,
    #[error("exponential histogram zero threshold is negative or not finite")]
    ZeroThreshold,
    #[error("exponential histogram bucket index is outside the range of finite values")]
    BucketIndex,
}

impl InvalidPoint {
    /// Every reason, in the order of [`InvalidPoint::index`].
    pub const ALL: [InvalidPoint; 8] = [
        InvalidPoint::NoTime,
        InvalidPoint::StartAfterTime,
        InvalidPoint::BucketsLength,
        InvalidPoint::Bounds,
        InvalidPoint::Count,
        InvalidPoint::Scale,
        InvalidPoint::ZeroThreshold,
        InvalidPoint::BucketIndex,
    ];

    /// The reason as a metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidPoint::NoTime => "no_time",
            InvalidPoint::StartAfterTime => "start_after_time",
            InvalidPoint::BucketsLength => "buckets_length",
            InvalidPoint::Bounds => "bounds",
            InvalidPoint::Count => "count",
            InvalidPoint::Scale => "scale",
            InvalidPoint::ZeroThreshold => "zero_threshold",
            InvalidPoint::BucketIndex => "bucket_index",
        }
    }

    /// The position of this reason in [`InvalidPoint::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

fn check_times(start: u64, time: u64) -> Result<(), InvalidPoint> {
    if time == 0 {
        return Err(InvalidPoint::NoTime);
    }
    if start > time {
        return Err(InvalidPoint::StartAfterTime);
    }
    Ok(())
}

/// Checks a sum's or a gauge's point (its times; its value may be anything).
pub fn check_number(p: &NumberDataPoint) -> Result<(), InvalidPoint> {
    check_times(p.start_time_unix_nano, p.time_unix_nano)
}

/// Checks a summary's point (its times).
pub fn check_summary(p: &SummaryDataPoint) -> Result<(), InvalidPoint> {
    check_times(p.start_time_unix_nano, p.time_unix_nano)
}

/// Checks a histogram point with explicit buckets.
pub fn check_histogram(p: &HistogramDataPoint) -> Result<(), InvalidPoint> {
    check_times(p.start_time_unix_nano, p.time_unix_nano)?;
    if p.bucket_counts.is_empty() {
        return if p.explicit_bounds.is_empty() {
            Ok(())
        } else {
            Err(InvalidPoint::BucketsLength)
        };
    }
    if p.bucket_counts.len() != p.explicit_bounds.len() + 1 {
        return Err(InvalidPoint::BucketsLength);
    }
    if !p.explicit_bounds.iter().all(|b| b.is_finite())
        || !p.explicit_bounds.windows(2).all(|w| w[0] < w[1])
    {
        return Err(InvalidPoint::Bounds);
    }
    match checked_sum(0, &p.bucket_counts) {
        Some(sum) if sum == p.count => Ok(()),
        _ => Err(InvalidPoint::Count),
    }
}

/// The lowest and highest bucket index an exponential histogram at `scale` (in range)
/// can use for finite non-zero doubles: bucket `i` holds (base^i, base^(i+1)] with
/// base^i = 2^(i·2^−scale), and finite doubles lie in [2^−1074, 2^1024). One index of
/// margin on each side.
pub fn index_range(scale: i32) -> (i64, i64) {
    let scale = scale.clamp(MIN_SCALE, MAX_SCALE);
    if scale >= 0 {
        (-(1075i64 << scale) - 1, (1024i64 << scale) - 1)
    } else {
        let shift = -scale;
        // floor(−1075 / 2^shift) − 1 and ceil(1024 / 2^shift) − 1.
        ((-1075i64 >> shift) - 1, ((1024i64 - 1) >> shift))
    }
}

/// Checks an exponential histogram point.
pub fn check_exponential(p: &ExponentialHistogramDataPoint) -> Result<(), InvalidPoint> {
    check_times(p.start_time_unix_nano, p.time_unix_nano)?;
    if !(MIN_SCALE..=MAX_SCALE).contains(&p.scale) {
        return Err(InvalidPoint::Scale);
    }
    if !(p.zero_threshold.is_finite() && p.zero_threshold >= 0.0) {
        return Err(InvalidPoint::ZeroThreshold);
    }
    let (lowest, highest) = index_range(p.scale);
    let mut total = Some(p.zero_count);
    for b in [&p.positive, &p.negative].into_iter().flatten() {
        check_range(b, lowest, highest)?;
        total = total.and_then(|t| checked_sum(t, &b.bucket_counts));
    }
    if total == Some(p.count) {
        Ok(())
    } else {
        Err(InvalidPoint::Count)
    }
}

fn check_range(b: &Buckets, lowest: i64, highest: i64) -> Result<(), InvalidPoint> {
    if b.bucket_counts.is_empty() {
        return Ok(());
    }
    let first = i64::from(b.offset);
    // The length of a decoded vector fits an i64.
    let last = first.saturating_add(b.bucket_counts.len() as i64 - 1);
    if first < lowest || last > highest {
        return Err(InvalidPoint::BucketIndex);
    }
    Ok(())
}

fn checked_sum(start: u64, counts: &[u64]) -> Option<u64> {
    counts.iter().try_fold(start, |acc, c| acc.checked_add(*c))
}

/// The invalid points of a request, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InvalidPoints {
    /// Indexed by [`InvalidPoint::index`].
    pub by_reason: [u64; InvalidPoint::ALL.len()],
    /// The first invalid point's reason (for an error message).
    pub first: Option<InvalidPoint>,
}

impl InvalidPoints {
    /// Invalid points in all.
    pub fn total(&self) -> u64 {
        self.by_reason.iter().sum()
    }

    /// Counts one invalid point.
    pub fn add(&mut self, reason: InvalidPoint) {
        self.by_reason[reason.index()] += 1;
        self.first.get_or_insert(reason);
    }

    /// Adds another tally to this one.
    pub fn merge(&mut self, other: &InvalidPoints) {
        for (a, b) in self.by_reason.iter_mut().zip(other.by_reason) {
            *a += b;
        }
        if self.first.is_none() {
            self.first = other.first;
        }
    }
}

/// Counts the invalid points among `points`.
fn tally<T>(points: &[T], check: fn(&T) -> Result<(), InvalidPoint>, out: &mut InvalidPoints) {
    for p in points {
        if let Err(reason) = check(p) {
            out.add(reason);
        }
    }
}

/// Checks every point of a metric's data.
pub fn check_data(data: &Data, out: &mut InvalidPoints) {
    match data {
        Data::Gauge(g) => tally(&g.data_points, check_number, out),
        Data::Sum(s) => tally(&s.data_points, check_number, out),
        Data::Histogram(h) => tally(&h.data_points, check_histogram, out),
        Data::ExponentialHistogram(h) => tally(&h.data_points, check_exponential, out),
        Data::Summary(s) => tally(&s.data_points, check_summary, out),
    }
}

/// Checks every point of a request (one pass, no allocation).
pub fn check_request(req: &ExportMetricsServiceRequest) -> InvalidPoints {
    let mut out = InvalidPoints::default();
    for rm in &req.resource_metrics {
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                if let Some(data) = &m.data {
                    check_data(data, &mut out);
                }
            }
        }
    }
    out
}

fn keep<T>(
    points: &mut Vec<T>,
    check: fn(&T) -> Result<(), InvalidPoint>,
    out: &mut InvalidPoints,
) {
    points.retain(|p| match check(p) {
        Ok(()) => true,
        Err(reason) => {
            out.add(reason);
            false
        }
    });
}

/// Removes every invalid point from a request (metrics left without points stay, empty)
/// and says what was removed: for partial success (`rejected_data_points` is
/// [`InvalidPoints::total`]).
pub fn retain_valid(req: &mut ExportMetricsServiceRequest) -> InvalidPoints {
    let mut out = InvalidPoints::default();
    for rm in &mut req.resource_metrics {
        for sm in &mut rm.scope_metrics {
            for m in &mut sm.metrics {
                match &mut m.data {
                    Some(Data::Gauge(g)) => keep(&mut g.data_points, check_number, &mut out),
                    Some(Data::Sum(s)) => keep(&mut s.data_points, check_number, &mut out),
                    Some(Data::Histogram(h)) => keep(&mut h.data_points, check_histogram, &mut out),
                    Some(Data::ExponentialHistogram(h)) => {
                        keep(&mut h.data_points, check_exponential, &mut out)
                    }
                    Some(Data::Summary(s)) => keep(&mut s.data_points, check_summary, &mut out),
                    None => {}
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;

    fn exp(scale: i32, offset: i32, counts: Vec<u64>) -> ExponentialHistogramDataPoint {
        ExponentialHistogramDataPoint {
            time_unix_nano: 10,
            scale,
            count: counts.iter().fold(0, |a: u64, c| a.wrapping_add(*c)),
            positive: Some(Buckets {
                offset,
                bucket_counts: counts,
            }),
            ..Default::default()
        }
    }

    fn hist(bounds: Vec<f64>, counts: Vec<u64>) -> HistogramDataPoint {
        HistogramDataPoint {
            time_unix_nano: 10,
            count: counts.iter().fold(0, |a: u64, c| a.wrapping_add(*c)),
            explicit_bounds: bounds,
            bucket_counts: counts,
            ..Default::default()
        }
    }

    #[test]
    fn scales_outside_the_specification_are_invalid() {
        for scale in [MIN_SCALE, -1, 0, 3, MAX_SCALE] {
            assert_eq!(
                check_exponential(&exp(scale, -1, vec![1, 2])),
                Ok(()),
                "{scale}"
            );
        }
        for scale in [MIN_SCALE - 1, MAX_SCALE + 1, 63, i32::MIN, i32::MAX] {
            assert_eq!(
                check_exponential(&exp(scale, 0, vec![1])),
                Err(InvalidPoint::Scale),
                "{scale}"
            );
        }
    }

    #[test]
    fn bucket_indices_stay_among_finite_values() {
        // Scale 0: bucket 1023 holds (2^1023, 2^1024]; 1024 would start past f64::MAX.
        assert_eq!(check_exponential(&exp(0, 1023, vec![1])), Ok(()));
        assert_eq!(
            check_exponential(&exp(0, 1023, vec![1, 1])),
            Err(InvalidPoint::BucketIndex)
        );
        assert_eq!(check_exponential(&exp(0, -1075, vec![1])), Ok(()));
        assert_eq!(
            check_exponential(&exp(0, -1077, vec![1])),
            Err(InvalidPoint::BucketIndex)
        );
        assert_eq!(check_exponential(&exp(20, (1 << 30) - 1, vec![1])), Ok(()));
        assert_eq!(
            check_exponential(&exp(20, i32::MAX, vec![1])),
            Err(InvalidPoint::BucketIndex)
        );
        assert_eq!(
            check_exponential(&exp(-10, i32::MIN, vec![1])),
            Err(InvalidPoint::BucketIndex)
        );
        // Scale −10: base 2^1024, so only buckets −2, −1 and 0 hold finite values.
        assert_eq!(index_range(-10), (-3, 0));
        assert_eq!(check_exponential(&exp(-10, -2, vec![1, 1, 1])), Ok(()));
        assert_eq!(index_range(0), (-1076, 1023));
    }

    #[test]
    fn counts_must_add_up_without_overflow() {
        let mut p = exp(0, 0, vec![1, 2]);
        p.zero_count = 1;
        assert_eq!(check_exponential(&p), Err(InvalidPoint::Count));
        p.count = 4;
        assert_eq!(check_exponential(&p), Ok(()));
        let mut p = exp(0, 0, vec![u64::MAX, 2]);
        p.count = 1;
        assert_eq!(check_exponential(&p), Err(InvalidPoint::Count));
        let mut h = hist(vec![1.0], vec![u64::MAX, 1]);
        h.count = 0;
        assert_eq!(check_histogram(&h), Err(InvalidPoint::Count));
    }

    #[test]
    fn explicit_bounds_are_finite_and_strictly_increasing() {
        assert_eq!(
            check_histogram(&hist(vec![0.1, 0.5], vec![1, 2, 3])),
            Ok(())
        );
        assert_eq!(check_histogram(&hist(vec![], vec![])), Ok(()));
        for bounds in [
            vec![0.5, 0.1],
            vec![0.1, 0.1],
            vec![f64::NAN, 1.0],
            vec![0.1, f64::INFINITY],
            vec![f64::NEG_INFINITY, 0.1],
        ] {
            assert_eq!(
                check_histogram(&hist(bounds.clone(), vec![1, 1, 1])),
                Err(InvalidPoint::Bounds),
                "{bounds:?}"
            );
        }
        assert_eq!(
            check_histogram(&hist(vec![0.1], vec![1, 1, 1])),
            Err(InvalidPoint::BucketsLength)
        );
        assert_eq!(
            check_histogram(&hist(vec![0.1], vec![])),
            Err(InvalidPoint::BucketsLength)
        );
    }

    #[test]
    fn times_and_zero_threshold() {
        let mut p = exp(0, 0, vec![1]);
        p.start_time_unix_nano = 11;
        assert_eq!(check_exponential(&p), Err(InvalidPoint::StartAfterTime));
        p.start_time_unix_nano = 0;
        p.time_unix_nano = 0;
        assert_eq!(check_exponential(&p), Err(InvalidPoint::NoTime));
        p.time_unix_nano = 10;
        for z in [f64::NAN, -1.0, f64::INFINITY] {
            p.zero_threshold = z;
            assert_eq!(check_exponential(&p), Err(InvalidPoint::ZeroThreshold));
        }
    }

    #[test]
    fn retain_valid_removes_only_invalid_points() {
        use opentelemetry_proto::tonic::metrics::v1::{
            ExponentialHistogram, Metric, ResourceMetrics, ScopeMetrics,
        };
        let mut req = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "m".into(),
                        data: Some(Data::ExponentialHistogram(ExponentialHistogram {
                            data_points: vec![exp(0, 0, vec![1]), exp(63, 0, vec![1])],
                            aggregation_temporality: 1,
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let found = check_request(&req);
        assert_eq!(found.total(), 1);
        assert_eq!(found.first, Some(InvalidPoint::Scale));
        assert_eq!(retain_valid(&mut req), found);
        assert_eq!(check_request(&req).total(), 0);
        let Some(Data::ExponentialHistogram(h)) =
            &req.resource_metrics[0].scope_metrics[0].metrics[0].data
        else {
            unreachable!()
        };
        assert_eq!(h.data_points.len(), 1);
    }
}
