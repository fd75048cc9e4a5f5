//! Metrics: cumulative `http.server.request.duration` histograms, monotonic request counters
//! and process gauges.

use fastrand::Rng;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum,
};

use super::{
    ContentOpts, LATENCY_SIGMA, SCHEMA_URL, by_resource, int, pick_route, s, scope, status_code,
};

/// Explicit bounds of `http.server.request.duration`, in seconds (semconv advice).
pub const DURATION_BOUNDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The metrics of every service: (name, unit).
const METRIC_NAMES: &[(&str, &str)] = &[
    ("http.server.request.duration", "s"),
    ("http.server.requests", "{request}"),
    ("process.cpu.utilization", "1"),
    ("process.memory.usage", "By"),
];

/// `points` data points: half of them cumulative duration histograms, 30% monotonic request
/// counters, 20% gauges; grouped by (cluster, service).
pub fn metrics(rng: &mut Rng, points: usize, opts: &ContentOpts) -> ExportMetricsServiceRequest {
    use number_data_point::Value::{AsDouble, AsInt};
    let services = opts.services.max(1);
    let mut groups: Vec<Vec<Metric>> = vec![Vec::new(); opts.clusters.max(1) * services];
    for _ in 0..points {
        let group = rng.usize(..groups.len());
        let service = group % services;
        let start = opts
            .now_unix_nano
            .saturating_sub((3_600 + group as u64 * 60) * 1_000_000_000);
        let time = opts.now_unix_nano.saturating_sub(rng.u64(..10_000_000_000));
        let kind = match rng.u32(..10) {
            0..=4 => 0,
            5..=7 => 1,
            _ => 2 + rng.usize(..2),
        };
        let metrics = &mut groups[group];
        let index = match metrics.iter().position(|m| m.name == METRIC_NAMES[kind].0) {
            Some(index) => index,
            None => {
                metrics.push(new_metric(kind));
                metrics.len() - 1
            }
        };
        let point = |attributes, value| NumberDataPoint {
            attributes,
            start_time_unix_nano: if kind == 1 { start } else { 0 },
            time_unix_nano: time,
            value: Some(value),
            ..Default::default()
        };
        match (&mut metrics[index].data, kind) {
            (Some(Data::Histogram(h)), _) => {
                h.data_points
                    .push(histogram_point(rng, service, start, time, opts));
            }
            (Some(Data::Sum(sum)), _) => {
                let attributes = route_attributes(rng, service, opts);
                sum.data_points
                    .push(point(attributes, AsInt(rng.i64(1_000..5_000_000))));
            }
            (Some(Data::Gauge(g)), 2) => {
                let value = AsDouble(rng.f64() * 0.8);
                g.data_points
                    .push(point(vec![s("cpu.mode", "user")], value));
            }
            (Some(Data::Gauge(g)), _) => {
                let value = AsInt(rng.i64(50_000_000..900_000_000));
                g.data_points.push(point(Vec::new(), value));
            }
            _ => {}
        }
    }
    let resource_metrics = by_resource(rng, opts, groups, |resource, metrics| ResourceMetrics {
        resource: Some(resource),
        scope_metrics: vec![ScopeMetrics {
            scope: scope("io.opentelemetry.runtime"),
            metrics,
            ..Default::default()
        }],
        schema_url: SCHEMA_URL.to_string(),
    });
    ExportMetricsServiceRequest { resource_metrics }
}

fn new_metric(kind: usize) -> Metric {
    let cumulative = AggregationTemporality::Cumulative as i32;
    let (name, unit) = METRIC_NAMES[kind];
    let data = match kind {
        0 => Data::Histogram(Histogram {
            data_points: vec![],
            aggregation_temporality: cumulative,
        }),
        1 => Data::Sum(Sum {
            data_points: vec![],
            aggregation_temporality: cumulative,
            is_monotonic: true,
        }),
        _ => Data::Gauge(Gauge {
            data_points: vec![],
        }),
    };
    let (name, unit) = (name.to_string(), unit.to_string());
    Metric {
        name,
        unit,
        data: Some(data),
        ..Default::default()
    }
}

fn route_attributes(rng: &mut Rng, service: usize, opts: &ContentOpts) -> Vec<KeyValue> {
    let (method, route) = pick_route(rng, service);
    vec![
        s("http.request.method", method),
        s("http.route", route),
        int(
            "http.response.status_code",
            status_code(rng, method, opts.error_ratio),
        ),
        s("url.scheme", "http"),
    ]
}

/// A cumulative histogram whose buckets follow the log-normal latency distribution.
fn histogram_point(
    rng: &mut Rng,
    service: usize,
    start: u64,
    time: u64,
    opts: &ContentOpts,
) -> HistogramDataPoint {
    let attributes = route_attributes(rng, service, opts);
    let total = rng.u64(50..20_000) as f64;
    let median = opts.latency_p50_ms / 1000.0;
    let mut below = 0.0;
    let mut bucket_counts = Vec::with_capacity(DURATION_BOUNDS.len() + 1);
    for bound in DURATION_BOUNDS.iter().chain([&f64::INFINITY]) {
        let cdf = lognormal_cdf(*bound, median);
        bucket_counts.push((total * (cdf - below)).round() as u64);
        below = cdf;
    }
    let count = bucket_counts.iter().sum::<u64>();
    let mean = median * (LATENCY_SIGMA * LATENCY_SIGMA / 2.0).exp();
    HistogramDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: time,
        count,
        sum: Some(count as f64 * mean * (0.9 + 0.2 * rng.f64())),
        bucket_counts,
        explicit_bounds: DURATION_BOUNDS.to_vec(),
        ..Default::default()
    }
}

fn lognormal_cdf(x: f64, median: f64) -> f64 {
    if x.is_infinite() {
        return 1.0;
    }
    let z = (x / median).ln() / LATENCY_SIGMA;
    0.5 * (1.0 + erf(z / std::f64::consts::SQRT_2))
}

/// Abramowitz–Stegun 7.1.26 (absolute error below 1.5e-7).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = [
        1.061_405_429,
        -1.453_152_027,
        1.421_413_741,
        -0.284_496_736,
        0.254_829_592,
    ]
    .iter()
    .fold(0.0, |acc, c| (acc + c) * t);
    let y = 1.0 - poly * (-x * x).exp();
    if x < 0.0 { -y } else { y }
}
