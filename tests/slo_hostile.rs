//! The metric SLI path under hostile data points: every point that breaks the OTLP ranges
//! (exponential scale, bucket indices, bounds, counts, times) finishes at once, is skipped
//! and counted by reason, and leaves the valid points of the same request counted (the real
//! binary too: it keeps answering `/healthz` after a scale-63 point); a point from the far
//! future does not freeze its series; readers wait for one chunk of a large request at most; and every input of the committed fuzz corpus (fuzz/corpus/metrics_sli)
//! finishes within a second, plus a proptest over random points.
//!
//! Each engine call runs on a helper thread watched with a timeout, so a test of an
//! endless loop fails instead of hanging.

mod common;

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use common::{counts, otlp};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, ExponentialHistogramDataPoint, HistogramDataPoint, Metric,
    NumberDataPoint, number_data_point,
};
use proptest::prelude::*;
use prost::Message;
use slotel::attr::kv;
use slotel::slo::engine::{Engine, EngineConfig, ManualClock};
use slotel::slo::metric_limits::InvalidPoint;
use slotel::slo::spec::{self, SloSet};

const S: u64 = 1_000_000_000;
/// The engines' clock (the fuzz target and its corpus use the same).
const NOW: u64 = 1_700_000_000 * S;
const DELTA: i32 = AggregationTemporality::Delta as i32;
const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;
/// The example SLOs' metric names (config/slos/cart-metrics.yaml).
const LATENCY: &str = "http.server.request.duration";
const REQUESTS: &str = "http.server.requests";

fn examples() -> SloSet {
    spec::load(&["embedded:examples".to_string()], false).expect("the example SLOs load")
}

fn engine() -> Arc<Engine> {
    Engine::new(
        EngineConfig::default(),
        Arc::new(ManualClock::new(NOW)),
        examples(),
    )
}

/// Runs `f` on a thread and waits at most `limit` for it (a loop that never ends fails
/// the test; its thread is left behind).
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    otlp::metrics_request(
        vec![kv("service.name", "cart"), kv("k8s.cluster.name", "seoul")],
        metrics,
    )
}

fn exp_metric(points: Vec<ExponentialHistogramDataPoint>) -> Metric {
    otlp::exponential_histogram(LATENCY, DELTA, points)
}

fn hist_metric(points: Vec<HistogramDataPoint>) -> Metric {
    otlp::histogram(LATENCY, DELTA, points)
}

/// A delta exponential point at `NOW` with positive buckets from `offset`.
fn exp_point(scale: i32, offset: i32, counts: Vec<u64>) -> ExponentialHistogramDataPoint {
    otlp::exponential_point(NOW - 10 * S, NOW, scale, offset, counts)
}

/// A delta histogram point at `NOW`.
fn hist_point(bounds: Vec<f64>, counts: Vec<u64>) -> HistogramDataPoint {
    HistogramDataPoint {
        start_time_unix_nano: NOW - 10 * S,
        time_unix_nano: NOW,
        count: counts.iter().sum(),
        explicit_bounds: bounds,
        bucket_counts: counts,
        ..Default::default()
    }
}

fn invalid(e: &Engine, reason: InvalidPoint) -> u64 {
    e.metric_stats().invalid_points.by_reason[reason.index()]
}

/// Records `req` in a fresh engine with the example SLOs, within 10 s.
fn record(req: ExportMetricsServiceRequest) -> Arc<Engine> {
    let e = engine();
    let e2 = e.clone();
    within(Duration::from_secs(10), "record_metrics", move || {
        e2.record_metrics(&req, None)
    });
    e
}

#[test]
fn an_exponential_point_at_scale_63_is_skipped_at_once() {
    // Scale 63 sent the bucket index search into an endless loop under the engine's lock.
    let e = record(request(vec![exp_metric(vec![exp_point(63, 0, vec![5])])]));
    assert_eq!(invalid(&e, InvalidPoint::Scale), 1);
    assert_eq!(counts(&e, "request-latency"), (0, 0));
}

#[test]
fn out_of_range_points_are_skipped_and_counted_by_reason_and_valid_ones_still_count() {
    // One valid point (scale 0: 2 observations in (1/8, 1/4], good at 250ms; 3 in (1/4, 1/2])
    // next to each invalid one.
    let valid = || exp_point(0, -3, vec![2, 3]);
    let mut zero_nan = exp_point(0, 0, vec![1]);
    zero_nan.zero_threshold = f64::NAN;
    let mut count_off = exp_point(0, 0, vec![1, 2]);
    count_off.count = 2;
    let mut overflow = exp_point(0, 0, vec![]);
    overflow.positive = Some(Buckets {
        offset: 0,
        bucket_counts: vec![u64::MAX, 2],
    });
    overflow.count = 1;
    let mut no_time = exp_point(0, 0, vec![1]);
    no_time.time_unix_nano = 0;
    no_time.start_time_unix_nano = 0;
    let mut backwards = exp_point(0, 0, vec![1]);
    backwards.start_time_unix_nano = NOW + S;
    let exp_cases: Vec<(ExponentialHistogramDataPoint, InvalidPoint)> = vec![
        (exp_point(63, 0, vec![5]), InvalidPoint::Scale),
        (exp_point(-11, 0, vec![5]), InvalidPoint::Scale),
        (exp_point(21, 0, vec![5]), InvalidPoint::Scale),
        (exp_point(i32::MIN, 0, vec![5]), InvalidPoint::Scale),
        (exp_point(i32::MAX, 0, vec![5]), InvalidPoint::Scale),
        (exp_point(20, i32::MAX, vec![5]), InvalidPoint::BucketIndex),
        (exp_point(0, i32::MIN, vec![5]), InvalidPoint::BucketIndex),
        (exp_point(0, 1_000_000, vec![5]), InvalidPoint::BucketIndex),
        (zero_nan, InvalidPoint::ZeroThreshold),
        (count_off, InvalidPoint::Count),
        (overflow, InvalidPoint::Count),
        (no_time, InvalidPoint::NoTime),
        (backwards, InvalidPoint::StartAfterTime),
    ];
    for (point, reason) in exp_cases {
        let what = format!("{point:?}");
        let e = record(request(vec![exp_metric(vec![valid(), point, valid()])]));
        assert_eq!(invalid(&e, reason), 1, "{what}");
        assert_eq!(e.metric_stats().invalid_points.total(), 1, "{what}");
        assert_eq!(counts(&e, "request-latency"), (10, 4), "{what}");
    }
    let valid = || hist_point(vec![0.1, 0.25, 0.5], vec![1, 2, 3, 4]);
    let mut count_off = hist_point(vec![0.1], vec![1, 2]);
    count_off.count = 7;
    let hist_cases: Vec<(HistogramDataPoint, InvalidPoint)> = vec![
        (
            hist_point(vec![0.5, 0.1], vec![1, 1, 1]),
            InvalidPoint::Bounds,
        ),
        (
            hist_point(vec![0.1, 0.1], vec![1, 1, 1]),
            InvalidPoint::Bounds,
        ),
        (
            hist_point(vec![f64::NAN, 0.1], vec![1, 1, 1]),
            InvalidPoint::Bounds,
        ),
        (
            hist_point(vec![0.1, f64::INFINITY], vec![1, 1, 1]),
            InvalidPoint::Bounds,
        ),
        (
            hist_point(vec![f64::NEG_INFINITY], vec![1, 1]),
            InvalidPoint::Bounds,
        ),
        (
            hist_point(vec![0.1], vec![1, 1, 1]),
            InvalidPoint::BucketsLength,
        ),
        (
            hist_point(vec![0.1, 0.2], vec![]),
            InvalidPoint::BucketsLength,
        ),
        (count_off, InvalidPoint::Count),
    ];
    for (point, reason) in hist_cases {
        let what = format!("{point:?}");
        let e = record(request(vec![hist_metric(vec![valid(), point, valid()])]));
        assert_eq!(invalid(&e, reason), 1, "{what}");
        assert_eq!(e.metric_stats().invalid_points.total(), 1, "{what}");
        assert_eq!(counts(&e, "request-latency"), (20, 6), "{what}");
    }
}

#[test]
fn the_invalid_points_counter_is_on_metrics() {
    let e = record(request(vec![exp_metric(vec![
        exp_point(63, 0, vec![5]),
        exp_point(-11, 0, vec![5]),
    ])]));
    let metrics = slotel::telemetry::Metrics::with_collectors(vec![Box::new(
        slotel::slo::series::SloSeries(e),
    )]);
    let text = metrics.encode();
    assert!(
        text.contains("slotel_slo_invalid_points_total{reason=\"scale\"} 2"),
        "{text}"
    );
    assert!(text.contains("slotel_slo_invalid_points_total{reason=\"bounds\"} 0"));
}

fn counter(start: u64, time: u64, value: i64) -> NumberDataPoint {
    NumberDataPoint {
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsInt(value)),
        ..Default::default()
    }
}

fn counter_metric(points: Vec<NumberDataPoint>) -> Metric {
    otlp::counter(REQUESTS, CUMULATIVE, points)
}

#[test]
fn a_cumulative_point_from_the_far_future_does_not_freeze_its_series() {
    let clock = Arc::new(ManualClock::new(NOW));
    let e = Engine::new(EngineConfig::default(), clock.clone(), examples());
    let start = NOW - 60 * S;
    let send = |time: u64, value: i64| {
        e.record_metrics(
            &request(vec![counter_metric(vec![counter(start, time, value)])]),
            None,
        )
    };
    // The series' first point: a baseline (it started before slotel, which started at NOW).
    send(NOW - 20 * S, 100);
    // A point a year ahead: its increment is dropped as future.
    send(NOW + 365 * 86_400 * S, 1_000_000);
    let dropped = |e: &Engine| {
        e.slos()
            .iter()
            .find(|s| s.spec.name == "request-availability")
            .map(|s| s.dropped().future)
    };
    assert_eq!(dropped(&e), Some(999_900));
    // Once max_future (1m) has passed, present points count again: the first against the
    // far-future value (lower, so as a reset), the next as an increment.
    clock.set(NOW + 120 * S);
    send(NOW + 100 * S, 150);
    send(NOW + 110 * S, 170);
    assert_eq!(counts(&e, "request-availability"), (170, 170));
}

/// A request of `points` delta histogram points at `NOW`, each its own series (a route).
fn large_request(points: usize) -> ExportMetricsServiceRequest {
    let bounds = vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];
    let data_points = (0..points)
        .map(|i| {
            let mut p = hist_point(bounds.clone(), vec![1, 1, 1, 1, 1, 1, 1, 1, 1]);
            p.attributes = vec![kv("http.route", format!("/r/{i}"))];
            p
        })
        .collect();
    request(vec![hist_metric(data_points)])
}

#[test]
fn readers_wait_for_one_chunk_of_a_large_request_at_most() {
    let e = engine();
    let req = Arc::new(large_request(100_000));
    // How long one large request takes alone, and a status read alone.
    let t = tokio::time::Instant::now();
    e.record_metrics(&req, None);
    let request_time = t.elapsed();
    let t = tokio::time::Instant::now();
    let _ = e.status();
    let read_alone = t.elapsed();
    // A writer records the request again and again; a reader reads status meanwhile.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (e, req, stop) = (e.clone(), req.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                e.record_metrics(&req, None);
                n += 1;
            }
            n
        })
    };
    let mut waits = Vec::new();
    let until = tokio::time::Instant::now() + (request_time * 4).max(Duration::from_secs(2));
    while tokio::time::Instant::now() < until {
        let t = tokio::time::Instant::now();
        let _ = e.status();
        waits.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(2));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let writes = writer.join().expect("writer");
    waits.sort();
    let max = *waits.last().unwrap();
    let p50 = waits[waits.len() / 2];
    let p99 = waits[waits.len() * 99 / 100];
    println!(
        "request of 100000 points: {request_time:?}; status alone: {read_alone:?}; \
         status during {writes} writes: {} reads, p50 {p50:?}, p99 {p99:?}, max {max:?}",
        waits.len()
    );
    assert!(writes >= 1, "the writer ran");
    // Holding the lock for the whole request, a reader waited up to `request_time`; in
    // chunks, one chunk (about 2% of this request) plus the read itself.
    assert!(
        p99 < read_alone * 4 + request_time / 5,
        "p99 {p99:?} with a request taking {request_time:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_keeps_answering_after_a_scale_63_point() {
    let mut p = common::spawn_binary(
        "  nop:",
        "  telemetry: {logs: {level: error}}\nslo:\n  files: [\"embedded:examples\"]",
    )
    .await;
    let now = common::now_unix_nanos();
    let at_now = |mut point: ExponentialHistogramDataPoint| {
        point.start_time_unix_nano = now - 10 * S;
        point.time_unix_nano = now;
        point
    };
    let hostile = request(vec![exp_metric(vec![at_now(exp_point(63, 0, vec![5]))])]);
    let url = format!("http://{}/v1/metrics", p.http);
    let proto = [("content-type", "application/x-protobuf")];
    let r = common::http_send("POST", &url, &proto, hostile.encode_to_vec()).await;
    assert_eq!(r.status, 200);
    // The receiver refuses the point itself (partial success) before the engine sees it.
    let resp =
        opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse::decode(
            &r.body[..],
        )
        .unwrap();
    assert_eq!(
        resp.partial_success.map(|p| p.rejected_data_points),
        Some(1)
    );
    // A valid point after it is counted: the engine is not stuck.
    let valid = request(vec![exp_metric(vec![at_now(exp_point(0, -3, vec![2, 3]))])]);
    let r = common::http_send("POST", &url, &proto, valid.encode_to_vec()).await;
    assert_eq!(r.status, 200);
    let metrics = format!("http://{}/metrics", p.admin);
    let healthz = format!("http://{}/healthz", p.admin);
    let mut seen = false;
    for _ in 0..100 {
        let h = tokio::time::timeout(
            Duration::from_secs(1),
            common::http_try("GET", &healthz, &[], Vec::new()),
        )
        .await;
        assert!(
            matches!(h, Ok(Ok(ref r)) if r.status == 200),
            "/healthz answers within 1 s"
        );
        let m = common::http_send("GET", &metrics, &[], Vec::new()).await;
        let text = String::from_utf8_lossy(&m.body).into_owned();
        let entry = common::slos(p.admin).await;
        let latency = common::slo_entry(&entry, "request-latency", "all");
        if text.contains("slotel_receiver_refused_metric_points_total") && latency["total"] == 5 {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = p.child.kill();
    let _ = p.child.wait();
    assert!(seen, "the refused point counted, the valid one recorded");
}

// -- the fuzz corpus, as plain tests --------------------------------------------------------

/// What the fuzz target does with one input (fuzz/fuzz_targets/metrics_sli.rs).
fn fuzz_body(data: &[u8]) {
    let Ok(req) = ExportMetricsServiceRequest::decode(data) else {
        return;
    };
    let e = engine();
    let _ = slotel::slo::metric_limits::check_request(&req);
    e.record_metrics(&req, None);
    e.record_metrics(&req, Some("bound"));
    for s in e.status() {
        assert!(s.good <= s.total, "more good events than events");
    }
}

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/metrics_sli");

#[test]
fn every_committed_fuzz_input_finishes_within_a_second() {
    let mut files: Vec<_> = std::fs::read_dir(CORPUS)
        .expect("fuzz/corpus/metrics_sli")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the corpus has its seeds: {files:?}");
    for path in files {
        let data = std::fs::read(&path).expect("read");
        let name = path.display().to_string();
        // Generous for a debug build on a loaded machine; an endless loop never finishes.
        within(
            Duration::from_secs(1).max(Duration::from_millis(data.len() as u64)),
            &name,
            move || fuzz_body(&data),
        );
    }
}

/// Writes the seed corpus (run with `--ignored` after changing a seed).
#[test]
#[ignore]
fn write_seed_corpus() {
    let mut seeds: Vec<(&str, ExportMetricsServiceRequest)> = Vec::new();
    for (name, scale) in [
        ("exp-scale-63", 63),
        ("exp-scale-minus-11", -11),
        ("exp-scale-21", 21),
        ("exp-scale-i32-min", i32::MIN),
        ("exp-scale-i32-max", i32::MAX),
        ("exp-scale-20-valid", 20),
        ("exp-scale-minus-10-valid", -10),
    ] {
        seeds.push((
            name,
            request(vec![exp_metric(vec![exp_point(scale, 0, vec![3, 4])])]),
        ));
    }
    seeds.push((
        "exp-offset-i32-max",
        request(vec![exp_metric(vec![exp_point(20, i32::MAX, vec![1, 2])])]),
    ));
    seeds.push((
        "exp-offset-i32-min",
        request(vec![exp_metric(vec![exp_point(0, i32::MIN, vec![1, 2])])]),
    ));
    let mut negative = exp_point(3, -40, vec![1; 64]);
    negative.negative = Some(Buckets {
        offset: i32::MIN,
        bucket_counts: vec![u64::MAX, 1],
    });
    seeds.push((
        "exp-negative-overflow",
        request(vec![exp_metric(vec![negative])]),
    ));
    for (name, bounds) in [
        ("hist-nan-bound", vec![f64::NAN, 0.25]),
        ("hist-inf-bound", vec![0.1, f64::INFINITY]),
        ("hist-neg-inf-bound", vec![f64::NEG_INFINITY, 0.1]),
        ("hist-unsorted-bounds", vec![0.5, 0.25]),
        ("hist-valid", vec![0.1, 0.25]),
    ] {
        seeds.push((
            name,
            request(vec![hist_metric(vec![hist_point(bounds, vec![1, 2, 3])])]),
        ));
    }
    seeds.push((
        "counter-future-then-now",
        request(vec![counter_metric(vec![
            counter(NOW - 60 * S, NOW + 365 * 86_400 * S, 1_000),
            counter(NOW - 60 * S, NOW, 10),
            counter(u64::MAX, 1, i64::MAX),
        ])]),
    ));
    std::fs::create_dir_all(CORPUS).expect("mkdir");
    for (name, req) in seeds {
        std::fs::write(format!("{CORPUS}/seed-{name}"), req.encode_to_vec()).expect("write");
    }
}

// -- random points ---------------------------------------------------------------------------

fn any_exp_point() -> impl Strategy<Value = ExponentialHistogramDataPoint> {
    (
        prop_oneof![-12i32..=22, any::<i32>()],
        prop_oneof![-2_000i32..2_000, any::<i32>()],
        proptest::collection::vec(prop_oneof![0u64..10, any::<u64>()], 0..40),
        any::<u64>(),
        prop_oneof![Just(NOW), NOW - 400 * S..NOW + 120 * S, any::<u64>()],
        prop_oneof![Just(0.0), any::<f64>()],
    )
        .prop_map(|(scale, offset, counts, zero, time, zero_threshold)| {
            let total = counts.iter().try_fold(0u64, |a, c| a.checked_add(*c));
            ExponentialHistogramDataPoint {
                start_time_unix_nano: time.saturating_sub(10 * S),
                time_unix_nano: time,
                scale,
                zero_count: zero % 7,
                // Mostly consistent counts, so the point gets past validation.
                count: total.map_or(zero, |t| t.saturating_add(zero % 7)),
                positive: Some(Buckets {
                    offset,
                    bucket_counts: counts,
                }),
                zero_threshold,
                ..Default::default()
            }
        })
}

fn any_hist_point() -> impl Strategy<Value = HistogramDataPoint> {
    (
        proptest::collection::vec(prop_oneof![0.0f64..2.0, any::<f64>()], 0..20),
        any::<bool>(),
        prop_oneof![Just(NOW), any::<u64>()],
    )
        .prop_map(|(mut bounds, sorted, time)| {
            if sorted {
                bounds.sort_by(f64::total_cmp);
                bounds.dedup();
            }
            let counts = vec![1u64; bounds.len() + 1];
            HistogramDataPoint {
                start_time_unix_nano: time.saturating_sub(S),
                time_unix_nano: time,
                count: counts.len() as u64,
                explicit_bounds: bounds,
                bucket_counts: counts,
                ..Default::default()
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_points_finish_and_never_count_more_good_than_total(
        exp in proptest::collection::vec(any_exp_point(), 0..6),
        hist in proptest::collection::vec(any_hist_point(), 0..6),
    ) {
        let req = request(vec![exp_metric(exp), hist_metric(hist)]);
        let bytes = req.encode_to_vec();
        let e = engine();
        let e2 = e.clone();
        within(Duration::from_secs(5), "random points", move || {
            fuzz_body(&bytes);
            e2.record_metrics(&req, None);
        });
        let (total, good) = counts(&e, "request-latency");
        prop_assert!(good <= total);
    }
}
