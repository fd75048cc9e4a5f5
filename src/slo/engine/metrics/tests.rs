//! Metric SLIs against hand-computed values: explicit and exponential buckets (with the
//! effective threshold), delta and cumulative sums, resets, restarts, stale points,
//! baselines, late and future points, carries between requests and the series cap.

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, ExponentialHistogramDataPoint, Gauge, HistogramDataPoint, Metric,
    NumberDataPoint, metric::Data, number_data_point,
};

use super::{EffectiveThreshold, MetricStats, explicit_good, exponential_good};
use crate::attr::kv;
use crate::slo::engine::{Dropped, Engine, EngineConfig, ManualClock};
use crate::slo::spec::{Slo, SloSet};
use crate::test_otlp::{counter, exponential_histogram, histogram, metrics_of};

const S: u64 = 1_000_000_000;
/// Engine start.
const T0: u64 = 1_800_000_000 * S;
const DELTA: i32 = AggregationTemporality::Delta as i32;
const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;

fn resource(cluster: &str, service: &str) -> Vec<KeyValue> {
    vec![kv("service.name", service), kv("k8s.cluster.name", cluster)]
}

const BOUNDS: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

fn hpoint(attrs: Vec<KeyValue>, start: u64, time: u64, counts: [u64; 9]) -> HistogramDataPoint {
    HistogramDataPoint {
        attributes: attrs,
        start_time_unix_nano: start,
        time_unix_nano: time,
        count: counts.iter().sum(),
        bucket_counts: counts.to_vec(),
        explicit_bounds: BOUNDS.to_vec(),
        ..Default::default()
    }
}

fn npoint(attrs: Vec<KeyValue>, start: u64, time: u64, value: i64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsInt(value)),
        ..Default::default()
    }
}

fn slos(yaml: &str) -> Vec<Slo> {
    crate::slo::spec::parse_file(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e:?}"))
}

const LATENCY: &str = r#"
service: cart
slos:
  - name: latency
    objective: 99
    window: 30d
    sli:
      metric:
        histogram: http.server.request.duration
        where: resource.attributes["service.name"] == "cart"
        threshold: 300ms
"#;

fn engine(yaml: &str) -> (Arc<Engine>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let e = Engine::new(
        EngineConfig::default(),
        clock.clone(),
        SloSet::of(slos(yaml)),
    );
    (e, clock)
}

/// (total, good) of `name` in `cluster` over the SLO window.
fn counts(e: &Engine, name: &str, cluster: &str) -> (u64, u64) {
    e.status()
        .iter()
        .find(|s| s.name == name && s.cluster == cluster)
        .map_or((0, 0), |s| (s.total, s.good))
}

fn error_ratio(e: &Engine, name: &str, cluster: &str) -> Option<f64> {
    e.status()
        .iter()
        .find(|s| s.name == name && s.cluster == cluster)
        .and_then(|s| s.error_ratio)
}

// -- buckets by hand ------------------------------------------------------------------------

#[test]
fn explicit_buckets_count_up_to_the_largest_bound_at_or_below_the_threshold() {
    let counts = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    // 0.3 falls inside (0.25, 0.5]: that bucket is bad; 1+2+3+4+5+6 are good.
    assert_eq!(explicit_good(&BOUNDS, &counts, 0.3), (21, Some(0.25)));
    // A threshold on a bound includes its bucket.
    assert_eq!(explicit_good(&BOUNDS, &counts, 0.25), (21, Some(0.25)));
    assert_eq!(explicit_good(&BOUNDS, &counts, 0.5), (28, Some(0.5)));
    // Below every bound: nothing is good and there is no effective threshold.
    assert_eq!(explicit_good(&BOUNDS, &counts, 0.001), (0, None));
    // Above every bound: all but the overflow bucket.
    assert_eq!(explicit_good(&BOUNDS, &counts, 10.0), (36, Some(1.0)));
}

fn exp_point(
    scale: i32,
    zero: u64,
    negative: &[u64],
    offset: i32,
    positive: &[u64],
) -> ExponentialHistogramDataPoint {
    ExponentialHistogramDataPoint {
        scale,
        zero_count: zero,
        count: zero + negative.iter().sum::<u64>() + positive.iter().sum::<u64>(),
        positive: Some(Buckets {
            offset,
            bucket_counts: positive.to_vec(),
        }),
        negative: Some(Buckets {
            offset: 0,
            bucket_counts: negative.to_vec(),
        }),
        ..Default::default()
    }
}

#[test]
fn exponential_buckets_count_zero_negative_and_positive_up_to_the_threshold() {
    // Scale 0, base 2. Positive buckets from index −3: (1/8, 1/4] 1, (1/4, 1/2] 2,
    // (1/2, 1] 3, (1, 2] 4, (2, 4] 5; zero bucket 7; negative 1 + 1.
    let p = exp_point(0, 7, &[1, 1], -3, &[1, 2, 3, 4, 5]);
    // 1.5: largest bound ≤ 1.5 is 2^0 = 1; good = 7 + 2 + (1 + 2 + 3).
    assert_eq!(exponential_good(&p, 1.5), (15, Some(1.0)));
    // On a bound: 2 includes (1, 2].
    assert_eq!(exponential_good(&p, 2.0), (19, Some(2.0)));
    assert_eq!(exponential_good(&p, 0.25), (10, Some(0.25)));
    // Below every positive bucket: zero and negative only.
    assert_eq!(exponential_good(&p, 0.1), (9, Some(0.0625)));
    assert_eq!(exponential_good(&p, 100.0), (24, Some(64.0)));

    // Scale 1, base √2, from index −2: (2^−1, 2^−½] 1, (2^−½, 1] 2, (1, 2^½] 4, (2^½, 2] 8.
    let p = exp_point(1, 0, &[], -2, &[1, 2, 4, 8]);
    // 1.5: largest bound 2^½ ≈ 1.414; the first three buckets.
    let (good, eff) = exponential_good(&p, 1.5);
    assert_eq!(good, 7);
    assert!((eff.unwrap() - 2f64.sqrt()).abs() < 1e-15, "{eff:?}");
    assert_eq!(exponential_good(&p, 1.0), (3, Some(1.0)));

    // Scale −1, base 4, from index 0: (1, 4] 1, (4, 16] 2, (16, 64] 3.
    let p = exp_point(-1, 0, &[], 0, &[1, 2, 3]);
    assert_eq!(exponential_good(&p, 20.0), (3, Some(16.0)));
    assert_eq!(exponential_good(&p, 64.0), (6, Some(64.0)));

    // Scale 3: a bound that is a whole power of two is exact (2^(8/8) = 2).
    let p = exp_point(3, 0, &[], 0, &[1; 16]);
    assert_eq!(exponential_good(&p, 2.0), (8, Some(2.0)));
    // Index 8 holds (2, 2^(9/8)] ≈ (2, 2.181]: 2.1 stays at 2.
    assert_eq!(exponential_good(&p, 2.1), (8, Some(2.0)));
}

// -- histograms through the engine ----------------------------------------------------------

#[test]
fn delta_histograms_by_cluster_with_the_effective_threshold() {
    let (e, _clock) = engine(LATENCY);
    assert_eq!(
        e.effective_threshold("cart", "latency"),
        Some(EffectiveThreshold {
            configured: 0.3,
            latest: None,
            lowest: None,
            highest: None
        })
    );
    let t = T0 - 10 * S;
    e.record_metrics(
        &metrics_of(vec![
            (
                resource("seoul", "cart"),
                vec![histogram(
                    "http.server.request.duration",
                    DELTA,
                    vec![
                        hpoint(
                            vec![kv("http.route", "/a")],
                            t - 10 * S,
                            t,
                            [1, 2, 3, 4, 5, 6, 7, 8, 9],
                        ),
                        hpoint(
                            vec![kv("http.route", "/b")],
                            t - 10 * S,
                            t,
                            [0, 0, 0, 0, 0, 10, 10, 0, 0],
                        ),
                    ],
                )],
            ),
            (
                resource("busan", "cart"),
                vec![histogram(
                    "http.server.request.duration",
                    DELTA,
                    vec![hpoint(vec![], t - 10 * S, t, [5, 0, 0, 0, 0, 0, 0, 0, 5])],
                )],
            ),
            // Filtered out by `where`.
            (
                resource("seoul", "checkout"),
                vec![histogram(
                    "http.server.request.duration",
                    DELTA,
                    vec![hpoint(vec![], t - 10 * S, t, [100; 9])],
                )],
            ),
        ]),
        None,
    );
    // seoul: 45 + 20 events, 21 + 10 good; busan: 10 events, 5 good.
    assert_eq!(counts(&e, "latency", "seoul"), (65, 31));
    assert_eq!(counts(&e, "latency", "busan"), (10, 5));
    assert_eq!(counts(&e, "latency", "all"), (75, 36));
    assert_eq!(counts(&e, "latency", "unknown"), (0, 0));
    assert_eq!(
        e.effective_threshold("cart", "latency"),
        Some(EffectiveThreshold {
            configured: 0.3,
            latest: Some(0.25),
            lowest: Some(0.25),
            highest: Some(0.25)
        })
    );
    // Delta points keep no series.
    assert_eq!(e.metric_stats().series, 0);
}

#[test]
fn cumulative_histograms_baseline_increments_resets_and_restarts() {
    let (e, clock) = engine(LATENCY);
    let res = || resource("seoul", "cart");
    let send = |start: u64, time: u64, c: [u64; 9]| {
        e.record_metrics(
            &metrics_of(vec![(
                res(),
                vec![histogram(
                    "http.server.request.duration",
                    CUMULATIVE,
                    vec![hpoint(vec![], start, time, c)],
                )],
            )]),
            None,
        );
    };
    let started = T0 - 3600 * S; // before slotel: the first point is a baseline
    clock.set(T0 + 10 * S);
    send(started, T0 + 10 * S, [10, 0, 0, 0, 0, 10, 10, 0, 0]);
    assert_eq!(counts(&e, "latency", "seoul"), (0, 0));
    clock.set(T0 + 20 * S);
    // +5 good (bucket 0), +3 good (bucket 5), +2 bad (bucket 6).
    send(started, T0 + 20 * S, [15, 0, 0, 0, 0, 13, 12, 0, 0]);
    assert_eq!(counts(&e, "latency", "seoul"), (10, 8));
    // The same point again, and an older one: stale, nothing counted.
    send(started, T0 + 20 * S, [15, 0, 0, 0, 0, 13, 12, 0, 0]);
    send(started, T0 + 15 * S, [12, 0, 0, 0, 0, 11, 11, 0, 0]);
    assert_eq!(counts(&e, "latency", "seoul"), (10, 8));
    assert_eq!(e.metric_stats().stale_points, 2);
    // A lower count with the same start: a reset; the new values are the increment.
    clock.set(T0 + 30 * S);
    send(started, T0 + 30 * S, [1, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(counts(&e, "latency", "seoul"), (12, 9));
    // A new start time: a restart, counted in full even though the count is higher.
    clock.set(T0 + 40 * S);
    let restarted = T0 + 35 * S;
    send(restarted, T0 + 40 * S, [20, 0, 0, 0, 0, 0, 10, 0, 0]);
    assert_eq!(counts(&e, "latency", "seoul"), (42, 29));
    clock.set(T0 + 50 * S);
    send(restarted, T0 + 50 * S, [21, 0, 0, 0, 0, 0, 10, 0, 1]);
    assert_eq!(counts(&e, "latency", "seoul"), (44, 30));
    // A point of the run before the restart arriving late: stale.
    send(started, T0 + 45 * S, [2, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(counts(&e, "latency", "seoul"), (44, 30));
    assert_eq!(e.metric_stats().series, 1);
}

#[test]
fn a_series_that_started_after_slotel_counts_its_first_point_in_full() {
    let (e, clock) = engine(LATENCY);
    clock.set(T0 + 60 * S);
    let point = |start| {
        metrics_of(vec![(
            resource("seoul", "cart"),
            vec![histogram(
                "http.server.request.duration",
                CUMULATIVE,
                vec![hpoint(
                    vec![],
                    start,
                    T0 + 60 * S,
                    [1, 1, 1, 1, 1, 1, 1, 1, 1],
                )],
            )],
        )])
    };
    e.record_metrics(&point(T0 + 5 * S), None);
    assert_eq!(counts(&e, "latency", "seoul"), (9, 6));
    // No start time: a baseline (nothing is known about what came before).
    let (e, clock) = engine(LATENCY);
    clock.set(T0 + 60 * S);
    e.record_metrics(&point(0), None);
    assert_eq!(counts(&e, "latency", "seoul"), (0, 0));
}

#[test]
fn exponential_histograms_delta_and_cumulative() {
    let yaml = r#"
service: cart
slos:
  - name: latency
    objective: 99
    window: 30d
    sli:
      metric: {histogram: rpc.duration, threshold: 1.5}
"#;
    let (e, clock) = engine(yaml);
    let metric = |temporality, start, time, p: ExponentialHistogramDataPoint| {
        let point = ExponentialHistogramDataPoint {
            start_time_unix_nano: start,
            time_unix_nano: time,
            ..p
        };
        exponential_histogram("rpc.duration", temporality, vec![point])
    };
    let t = T0 - S;
    // Delta: 15 of 24 good (see the hand computation above).
    let p = exp_point(0, 7, &[1, 1], -3, &[1, 2, 3, 4, 5]);
    e.record_metrics(
        &metrics_of(vec![(
            resource("seoul", "cart"),
            vec![metric(DELTA, t - S, t, p)],
        )]),
        None,
    );
    assert_eq!(counts(&e, "latency", "seoul"), (24, 15));
    assert_eq!(
        e.effective_threshold("cart", "latency").unwrap().latest,
        Some(1.0)
    );
    // Cumulative, started after slotel: first point in full, then the difference.
    clock.set(T0 + 10 * S);
    let p = exp_point(0, 1, &[], -1, &[1, 1, 1]); // 1 + (1/2, 1] 1 good, 2 bad
    e.record_metrics(
        &metrics_of(vec![(
            resource("busan", "cart"),
            vec![metric(CUMULATIVE, T0 + S, T0 + 10 * S, p)],
        )]),
        None,
    );
    assert_eq!(counts(&e, "latency", "busan"), (4, 2));
    // +1 zero and +2 in (1/2, 1]: 3 good; +4 in (2, 4]: bad.
    let p = exp_point(0, 2, &[], -1, &[3, 1, 5]);
    e.record_metrics(
        &metrics_of(vec![(
            resource("busan", "cart"),
            vec![metric(CUMULATIVE, T0 + S, T0 + 20 * S, p)],
        )]),
        None,
    );
    assert_eq!(counts(&e, "latency", "busan"), (11, 5));
}

// -- sums -----------------------------------------------------------------------------------

const AVAILABILITY_BAD: &str = r#"
service: cart
slos:
  - name: availability
    objective: 99
    window: 7d
    sli:
      metric:
        bad:
          name: http.server.requests
          where: attributes["http.response.status_code"] >= 500
        total: http.server.requests
"#;

fn requests(status: i64) -> Vec<KeyValue> {
    vec![kv("http.response.status_code", status)]
}

#[test]
fn delta_counters_bad_over_total() {
    let (e, _clock) = engine(AVAILABILITY_BAD);
    let t = T0 - 5 * S;
    e.record_metrics(
        &metrics_of(vec![(
            resource("seoul", "cart"),
            vec![counter(
                "http.server.requests",
                DELTA,
                vec![
                    npoint(requests(200), t - S, t, 990),
                    npoint(requests(503), t - S, t, 7),
                    npoint(requests(500), t - S, t, 3),
                ],
            )],
        )]),
        None,
    );
    assert_eq!(counts(&e, "availability", "seoul"), (1000, 990));
    assert_eq!(error_ratio(&e, "availability", "seoul"), Some(0.01));
}

#[test]
fn cumulative_counters_with_reset_and_restart() {
    let (e, clock) = engine(AVAILABILITY_BAD);
    let send = |start: u64, time: u64, ok: i64, failed: i64| {
        clock.set(time);
        e.record_metrics(
            &metrics_of(vec![(
                resource("seoul", "cart"),
                vec![counter(
                    "http.server.requests",
                    CUMULATIVE,
                    vec![
                        npoint(requests(200), start, time, ok),
                        npoint(requests(500), start, time, failed),
                    ],
                )],
            )]),
            None,
        );
    };
    let before = T0 - 600 * S;
    send(before, T0 + 10 * S, 1000, 10); // baseline
    assert_eq!(counts(&e, "availability", "seoul"), (0, 0));
    send(before, T0 + 20 * S, 1090, 20); // +90 ok, +10 failed
    assert_eq!(counts(&e, "availability", "seoul"), (100, 90));
    // The process restarted without a new start time: lower values are the increment.
    send(before, T0 + 30 * S, 40, 0);
    assert_eq!(counts(&e, "availability", "seoul"), (140, 130));
    send(before, T0 + 40 * S, 45, 5);
    assert_eq!(counts(&e, "availability", "seoul"), (150, 135));
    // A restart with a new start time.
    let start = T0 + 45 * S;
    send(start, T0 + 50 * S, 50, 50);
    assert_eq!(counts(&e, "availability", "seoul"), (250, 185));
    assert_eq!(error_ratio(&e, "availability", "seoul"), Some(65.0 / 250.0));
    assert_eq!(e.metric_stats().series, 2);
}

#[test]
fn doubles_round_and_non_monotonic_sums_gauges_are_skipped() {
    let yaml = r#"
service: cart
slos:
  - name: availability
    objective: 99
    window: 7d
    sli:
      metric: {good: ok.count, total: all.count}
"#;
    let (e, _clock) = engine(yaml);
    let t = T0 - S;
    let double = |name: &str, v: f64| {
        let point = NumberDataPoint {
            time_unix_nano: t,
            value: Some(number_data_point::Value::AsDouble(v)),
            ..Default::default()
        };
        counter(name, DELTA, vec![point])
    };
    let mut updown = counter("all.count", DELTA, vec![npoint(vec![], 0, t, 1000)]);
    if let Some(Data::Sum(s)) = &mut updown.data {
        s.is_monotonic = false;
    }
    let gauge = Metric {
        name: "all.count".into(),
        data: Some(Data::Gauge(Gauge {
            data_points: vec![npoint(vec![], 0, t, 1000)],
        })),
        ..Default::default()
    };
    e.record_metrics(
        &metrics_of(vec![(
            resource("seoul", "cart"),
            vec![
                double("all.count", 10.4),
                double("ok.count", 8.6),
                updown,
                gauge,
            ],
        )]),
        None,
    );
    assert_eq!(counts(&e, "availability", "seoul"), (10, 9));
    assert_eq!(e.metric_stats().skipped_points, 2);
}

/// (total, good) of the lifetime counters (`slotel_slo_events_total`).
fn lifetime(e: &Engine, name: &str, cluster: &str) -> (u64, u64) {
    e.status()
        .iter()
        .find(|s| s.name == name && s.cluster == cluster)
        .map_or((0, 0), |s| (s.lifetime.total, s.lifetime.good))
}

#[test]
fn good_and_bad_from_other_requests_count_at_their_own_time() {
    // `bad` and `total` are different metrics that arrive in different requests.
    let yaml = r#"
service: cart
slos:
  - name: errors
    objective: 99
    window: 7d
    sli:
      metric: {bad: errors, total: requests}
  - name: successes
    objective: 99
    window: 7d
    sli:
      metric: {good: successes, total: requests}
"#;
    let (e, _clock) = engine(yaml);
    let send = |name: &str, time: u64, v: i64| {
        e.record_metrics(
            &metrics_of(vec![(
                resource("seoul", "cart"),
                vec![counter(
                    name,
                    DELTA,
                    vec![npoint(vec![], time - S, time, v)],
                )],
            )]),
            None,
        );
    };
    let t = T0 - 100 * S;
    // Good and bad before their totals: the windows hold them, nothing shows yet.
    send("errors", t, 4);
    send("successes", t, 96);
    assert_eq!(counts(&e, "errors", "seoul"), (0, 0));
    assert_eq!(counts(&e, "successes", "seoul"), (0, 0));
    send("requests", t, 100);
    assert_eq!(counts(&e, "errors", "seoul"), (100, 96));
    assert_eq!(counts(&e, "successes", "seoul"), (100, 96));
    // Totals first: good shows when it comes, at the totals' time (no lag).
    send("requests", t + 10 * S, 50);
    assert_eq!(counts(&e, "errors", "seoul"), (150, 146));
    assert_eq!(counts(&e, "successes", "seoul"), (150, 96));
    send("errors", t + 10 * S, 1);
    send("successes", t + 10 * S, 49);
    assert_eq!(counts(&e, "errors", "seoul"), (150, 145));
    assert_eq!(counts(&e, "successes", "seoul"), (150, 145));
    // Every window is exact, the 5m window included: nothing was moved to a later slot.
    let st = e.status();
    let w5m = st
        .iter()
        .find(|s| s.name == "successes" && s.cluster == "seoul")
        .and_then(|s| s.windows.as_ref())
        .and_then(|w| w.iter().find(|w| w.window == "5m"))
        .map(|w| (w.total, w.good));
    assert_eq!(w5m, Some((150, 145)));
    // The lifetime counters stay monotonic: good waits for totals to take it.
    assert_eq!(lifetime(&e, "successes", "seoul"), (150, 96));
    assert_eq!(lifetime(&e, "errors", "seoul"), (150, 146));
    send("requests", t + 20 * S, 100);
    assert_eq!(lifetime(&e, "successes", "seoul"), (250, 145));
    assert_eq!(lifetime(&e, "errors", "seoul"), (250, 245));
    assert_eq!(counts(&e, "successes", "seoul"), (250, 145));
}

#[test]
fn cumulative_good_and_total_in_separate_requests_with_resets_and_restarts() {
    let yaml = r#"
service: cart
slos:
  - name: successes
    objective: 99
    window: 7d
    sli:
      metric: {good: ok.count, total: all.count}
"#;
    let (e, clock) = engine(yaml);
    let send = |name: &str, start: u64, time: u64, v: i64| {
        clock.set(time + S);
        e.record_metrics(
            &metrics_of(vec![(
                resource("seoul", "cart"),
                vec![counter(
                    name,
                    CUMULATIVE,
                    vec![npoint(vec![], start, time, v)],
                )],
            )]),
            None,
        );
    };
    let before = T0 - 600 * S;
    // Baselines (the series started before slotel).
    send("all.count", before, T0 + 10 * S, 1_000);
    send("ok.count", before, T0 + 10 * S, 990);
    // Good arrives first, then total.
    send("ok.count", before, T0 + 20 * S, 1_080);
    assert_eq!(counts(&e, "successes", "seoul"), (0, 0));
    send("all.count", before, T0 + 20 * S, 1_100);
    assert_eq!(counts(&e, "successes", "seoul"), (100, 90));
    // The total's process reset without a new start time; good's did not yet report.
    send("all.count", before, T0 + 30 * S, 20);
    assert_eq!(counts(&e, "successes", "seoul"), (120, 90));
    send("ok.count", before, T0 + 30 * S, 1_095);
    assert_eq!(counts(&e, "successes", "seoul"), (120, 105));
    // A restart with a new start time on both series, in the other order.
    let start = T0 + 35 * S;
    send("ok.count", start, T0 + 40 * S, 8);
    send("all.count", start, T0 + 40 * S, 10);
    assert_eq!(counts(&e, "successes", "seoul"), (130, 113));
    // A stale good point (not newer than the last one) is skipped.
    send("ok.count", start, T0 + 40 * S, 8);
    assert_eq!(counts(&e, "successes", "seoul"), (130, 113));
    assert_eq!(e.metric_stats().stale_points, 1);
    assert_eq!(lifetime(&e, "successes", "seoul").0, 130);
}

// -- time, groups, memory -------------------------------------------------------------------

#[test]
fn late_and_future_points_are_dropped_and_counted_but_advance_their_series() {
    let (e, clock) = engine(AVAILABILITY_BAD);
    let send = |time: u64, ok: i64, failed: i64| {
        e.record_metrics(
            &metrics_of(vec![(
                resource("seoul", "cart"),
                vec![counter(
                    "http.server.requests",
                    CUMULATIVE,
                    vec![
                        npoint(requests(200), T0 + S, time, ok),
                        npoint(requests(500), T0 + S, time, failed),
                    ],
                )],
            )]),
            None,
        );
    };
    clock.set(T0 + 3600 * S);
    // Ten minutes late (allowed: 5): its 11 events are dropped, and the series moves on.
    send(T0 + 3000 * S, 10, 1);
    // Two minutes ahead (allowed: 1).
    send(T0 + 3720 * S, 20, 2);
    let d = e.slos()[0].dropped();
    assert_eq!(
        d,
        Dropped {
            late: 11,
            future: 11
        }
    );
    // An on-time point counts only its own increment.
    clock.set(T0 + 3730 * S);
    send(T0 + 3725 * S, 25, 2);
    assert_eq!(counts(&e, "availability", "seoul"), (5, 5));
}

#[test]
fn token_cluster_unknown_cluster_and_group_by() {
    let yaml = r#"
service: cart
slos:
  - name: latency
    objective: 99
    window: 30d
    group_by:
      - attributes["http.route"]
      - resource.attributes["k8s.namespace.name"]
    sli:
      metric: {histogram: d, threshold: 0.1}
"#;
    let (e, _clock) = engine(yaml);
    let t = T0 - S;
    let m = || {
        histogram(
            "d",
            DELTA,
            vec![
                hpoint(
                    vec![kv("http.route", "/a")],
                    0,
                    t,
                    [1, 0, 0, 0, 1, 0, 0, 0, 0],
                ),
                hpoint(
                    vec![kv("http.route", "/b")],
                    0,
                    t,
                    [0, 0, 0, 0, 0, 1, 0, 0, 0],
                ),
            ],
        )
    };
    let mut ns = resource("seoul", "cart");
    ns.push(kv("k8s.namespace.name", "shop"));
    e.record_metrics(&metrics_of(vec![(ns.clone(), vec![m()])]), Some("daegu"));
    e.record_metrics(
        &metrics_of(vec![(vec![kv("service.name", "cart")], vec![m()])]),
        None,
    );
    let st = e.status();
    let group = |cluster: &str, route: &str| {
        st.iter()
            .find(|s| {
                s.cluster == cluster
                    && s.group
                        .as_ref()
                        .and_then(|g| g.get("http.route"))
                        .map(String::as_str)
                        == Some(route)
            })
            .map(|s| {
                (
                    s.total,
                    s.good,
                    s.group.as_ref().unwrap().get("k8s.namespace.name").cloned(),
                )
            })
    };
    assert_eq!(group("daegu", "/a"), Some((2, 2, Some("shop".into()))));
    assert_eq!(group("daegu", "/b"), Some((1, 0, Some("shop".into()))));
    assert_eq!(
        group("unknown", "/a"),
        Some((2, 2, Some("__missing__".into())))
    );
    assert_eq!(counts(&e, "latency", "all"), (6, 4));
}

#[test]
fn series_are_capped_and_an_evicted_series_comes_back_as_a_baseline() {
    let (e, clock) = engine(AVAILABILITY_BAD);
    e.metric_state().set_max_series(10);
    let send_from = |start: u64, time: u64, series: std::ops::Range<i64>, value: i64| {
        clock.set(time);
        let points = series
            .map(|i| {
                npoint(
                    vec![kv("http.response.status_code", 200_i64), kv("shard", i)],
                    start,
                    time,
                    value,
                )
            })
            .collect();
        e.record_metrics(
            &metrics_of(vec![(
                resource("seoul", "cart"),
                vec![counter("http.server.requests", CUMULATIVE, points)],
            )]),
            None,
        );
    };
    let send = |time, series, value| send_from(T0 + S, time, series, value);
    // Ten series, each counted in full (they started after slotel).
    send(T0 + 10 * S, 0..10, 5);
    assert_eq!(counts(&e, "availability", "seoul"), (50, 50));
    // Series 1..10 again, then a new series 10 (started later, so counted in full):
    // series 0, the least recently seen, is evicted.
    send(T0 + 20 * S, 1..10, 6);
    send_from(T0 + 25 * S, T0 + 30 * S, 10..11, 5);
    assert_eq!(counts(&e, "availability", "seoul"), (64, 64));
    assert_eq!(
        e.metric_stats(),
        MetricStats {
            series: 10,
            evicted: 1,
            stale_points: 0,
            skipped_points: 0,
            invalid_points: Default::default(),
        }
    );
    // Series 0 comes back: it started before the eviction, so it is a baseline now, and
    // its next point counts from there.
    send(T0 + 40 * S, 0..1, 7);
    assert_eq!(counts(&e, "availability", "seoul"), (64, 64));
    send(T0 + 50 * S, 0..1, 9);
    assert_eq!(counts(&e, "availability", "seoul"), (66, 66));
}

#[test]
fn a_reload_watches_new_thresholds_from_then_and_keeps_the_others() {
    let (e, clock) = engine(LATENCY);
    let send = |time: u64, c: [u64; 9]| {
        clock.set(time);
        e.record_metrics(
            &metrics_of(vec![(
                resource("seoul", "cart"),
                vec![histogram(
                    "http.server.request.duration",
                    CUMULATIVE,
                    vec![hpoint(vec![], T0 + S, time, c)],
                )],
            )]),
            None,
        );
    };
    send(T0 + 10 * S, [1, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(counts(&e, "latency", "seoul"), (2, 1));
    // A second SLO on the same histogram with another threshold: its series started
    // before it was loaded, so it begins with a baseline; the first SLO goes on.
    let mut set = slos(LATENCY);
    set.extend(slos(
        &LATENCY
            .replace("name: latency", "name: strict")
            .replace("300ms", "10ms"),
    ));
    e.replace(SloSet::of(set));
    send(T0 + 20 * S, [2, 1, 0, 0, 0, 0, 2, 0, 0]);
    assert_eq!(counts(&e, "latency", "seoul"), (5, 3));
    assert_eq!(counts(&e, "strict", "seoul"), (0, 0));
    send(T0 + 30 * S, [3, 1, 0, 0, 0, 0, 2, 0, 1]);
    assert_eq!(counts(&e, "latency", "seoul"), (7, 4));
    assert_eq!(counts(&e, "strict", "seoul"), (2, 1));
    assert_eq!(
        e.effective_threshold("cart", "strict").unwrap().latest,
        Some(0.01)
    );
}

// -- snapshots ------------------------------------------------------------------------------

#[test]
fn cumulative_series_survive_a_restart_through_the_snapshot() {
    use crate::slo::engine::snapshot;
    let dir = tempfile::tempdir().unwrap();
    let send = |e: &Engine, clock: &ManualClock, time: u64, ok: i64, failed: i64| {
        clock.set(time + S);
        e.record_metrics(
            &metrics_of(vec![(
                resource("seoul", "cart"),
                vec![counter(
                    "http.server.requests",
                    CUMULATIVE,
                    vec![
                        npoint(requests(200), T0 - 600 * S, time, ok),
                        npoint(requests(500), T0 - 600 * S, time, failed),
                    ],
                )],
            )]),
            None,
        );
    };
    let (e, clock) = engine(AVAILABILITY_BAD);
    send(&e, &clock, T0 + 10 * S, 1_000, 10); // baseline
    send(&e, &clock, T0 + 20 * S, 1_090, 20);
    assert_eq!(counts(&e, "availability", "seoul"), (100, 90));
    snapshot::write(&e, dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join("slo-state.json")).unwrap();

    // slotel restarts two minutes later: the series started before this run, so without
    // their last points the next points would only be baselines.
    let restart = |json: &str| {
        std::fs::write(dir.path().join("slo-state.json"), json).unwrap();
        let clock = Arc::new(ManualClock::new(T0 + 140 * S));
        let e = Engine::new(
            EngineConfig::default(),
            clock.clone(),
            SloSet::of(slos(AVAILABILITY_BAD)),
        );
        let restored = snapshot::restore(&e, dir.path());
        (e, clock, restored)
    };
    let (e2, clock2, restored) = restart(&text);
    assert_eq!((restored.slos, restored.series), (1, 2));
    assert_eq!(counts(&e2, "availability", "seoul"), (100, 90));
    send(&e2, &clock2, T0 + 150 * S, 1_190, 25);
    assert_eq!(counts(&e2, "availability", "seoul"), (205, 190));

    // A snapshot from a build that keyed series differently: series start from baselines.
    let mut file: serde_json::Value = serde_json::from_str(&text).unwrap();
    file["metrics"]["probe"] = serde_json::json!(12345);
    let (e3, clock3, restored) = restart(&file.to_string());
    assert_eq!((restored.slos, restored.series), (1, 0));
    send(&e3, &clock3, T0 + 150 * S, 1_190, 25);
    assert_eq!(counts(&e3, "availability", "seoul"), (100, 90));

    // A version 2 snapshot (no metric memory) still loads its windows.
    let mut file: serde_json::Value = serde_json::from_str(&text).unwrap();
    snapshot::as_former_version(&mut file, 2, &e);
    if let Some(o) = file.as_object_mut() {
        o.remove("metrics");
    }
    let (e4, _clock4, restored) = restart(&file.to_string());
    assert_eq!(
        (restored.slos, restored.skipped, restored.series),
        (1, 0, 0)
    );
    assert_eq!(counts(&e4, "availability", "seoul"), (100, 90));
}

// -- the exponential bucket index in closed form ---------------------------------------------

#[test]
fn the_exponential_index_is_the_largest_bound_at_or_below_the_threshold() {
    use super::points::{exponential_bound, exponential_index};
    let mut rng = fastrand::Rng::with_seed(7);
    for scale in crate::slo::metric_limits::MIN_SCALE..=crate::slo::metric_limits::MAX_SCALE {
        let mut thresholds: Vec<f64> = (0..2_000)
            .map(|_| (rng.f64() * 120.0 - 60.0).exp2())
            .collect();
        // Bucket bounds themselves, and the extremes of the normal doubles (among the
        // subnormals neighbouring bounds round to the same double).
        thresholds.extend((-40..40).map(|k| exponential_bound(scale, k)));
        thresholds.extend([f64::MIN_POSITIVE, f64::MAX, 1.0, 2.0, 0.25]);
        for t in thresholds {
            if !(t > 0.0 && t.is_finite()) {
                continue;
            }
            let k = exponential_index(scale, t);
            let (low, high) = (exponential_bound(scale, k), exponential_bound(scale, k + 1));
            assert!(low <= t, "scale {scale}, t {t:e}: base^{k} = {low:e} > t");
            assert!(
                high > t,
                "scale {scale}, t {t:e}: base^{} = {high:e} ≤ t",
                k + 1
            );
        }
    }
}
