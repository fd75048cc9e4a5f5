//! Replay of metric SLIs against the live engine: the captured metric requests, merged with
//! span requests by receipt time, give the live API's answer; an edited threshold or
//! objective gives the hand-computed counts; `--from` takes running series as baselines;
//! a damaged file of metric requests is skipped with a located warning.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, HistogramDataPoint, NumberDataPoint, number_data_point,
};

use super::tests::{S, T0, args, replay, replayed, slos_in, start, stop_at};
use crate::attr::kv;
use crate::slo::capture::Reader;
use crate::test_otlp::{counter, exponential_histogram, exponential_point, histogram, metrics_of};

const DELTA: i32 = AggregationTemporality::Delta as i32;
const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;
const BOUNDS: [f64; 5] = [0.05, 0.1, 0.25, 0.5, 1.0];

const SLOS: &str = r#"
service: cart
slos:
  - name: latency
    objective: 99
    window: 7d
    group_by:
      - attributes["http.route"]
    sli:
      metric:
        histogram: http.server.request.duration
        threshold: 300ms
    min_events: 1
  - name: availability
    objective: 99.5
    window: 7d
    sli:
      metric:
        bad:
          name: http.server.requests
          where: attributes["http.response.status_code"] >= 500
        total: http.server.requests
    min_events: 1
  - name: rpc
    objective: 95
    window: 7d
    sli:
      metric: {histogram: rpc.duration, threshold: 1.5}
    min_events: 1
  - name: spans
    objective: 99
    window: 7d
    sli:
      spans:
        where: resource.attributes["service.name"] == "cart"
        bad: status.code == STATUS_CODE_ERROR
    min_events: 1
"#;

fn resource(cluster: &str) -> Vec<KeyValue> {
    vec![kv("service.name", "cart"), kv("k8s.cluster.name", cluster)]
}

fn hpoint(route: &str, start: u64, time: u64, counts: [u64; 6]) -> HistogramDataPoint {
    HistogramDataPoint {
        attributes: vec![kv("http.route", route)],
        start_time_unix_nano: start,
        time_unix_nano: time,
        count: counts.iter().sum(),
        bucket_counts: counts.to_vec(),
        explicit_bounds: BOUNDS.to_vec(),
        ..Default::default()
    }
}

fn npoint(status: i64, start: u64, time: u64, value: i64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: vec![kv("http.response.status_code", status)],
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsInt(value)),
        ..Default::default()
    }
}

/// Minute `m`'s request: cumulative histograms of two routes (`/pay` running since before
/// slotel, a baseline; `/cart` started after it, counted in full; `/pay` reset at minute
/// 6 and restarted at minute 12), cumulative counters (reset at minute 9), a delta
/// exponential histogram, and a metric no SLO reads (not captured).
fn minute(m: u64, cluster: &str) -> ExportMetricsServiceRequest {
    let t = T0 + m * 60 * S;
    let before = T0 - 3600 * S;
    let (pay_start, pay_base) = match m {
        0..6 => (before, 10 * m),
        6..12 => (before, 2 * (m - 6)),
        _ => (T0 + 700 * S, m - 12),
    };
    // At slotel's start: its first point (minute 0) counts in full.
    let cart_start = T0;
    let (ok, failed) = match m {
        0..9 => (1000 + 97 * m as i64, 10 + 3 * m as i64),
        _ => (40 * (m as i64 - 8), (m as i64 - 8) % 3),
    };
    metrics_of(vec![(
        resource(cluster),
        vec![
            histogram(
                "http.server.request.duration",
                CUMULATIVE,
                vec![
                    hpoint(
                        "/pay",
                        pay_start,
                        t,
                        [pay_base + 5, pay_base, pay_base / 2, 3 * pay_base, m, 1],
                    ),
                    hpoint("/cart", cart_start, t, [m, 2 * m, m + 1, m / 4, 0, m / 3]),
                ],
            ),
            counter(
                "http.server.requests",
                CUMULATIVE,
                vec![npoint(200, before, t, ok), npoint(503, before, t, failed)],
            ),
            exponential_histogram(
                "rpc.duration",
                DELTA,
                vec![exponential_point(
                    t - 60 * S,
                    t,
                    1,
                    -2,
                    vec![m, 1, 2, m % 5, 3],
                )],
            ),
            counter(
                "process.unrelated",
                CUMULATIVE,
                vec![npoint(200, before, t, 5 * m as i64)],
            ),
        ],
    )])
}

/// Sends 20 minutes of metric requests (two clusters, one bound to a token) and spans,
/// with a late request the engine drops; returns the live API's answer at the end.
fn traffic(started: &super::tests::Started) -> serde_json::Value {
    let (_, _, engine, clock, capture) = started;
    for m in 0..20u64 {
        let t = T0 + m * 60 * S;
        clock.set(t + S);
        engine.record_metrics_logged(&minute(m, "c1"), None, None, Some("acme"), None);
        clock.set(t + 2 * S);
        engine.record_metrics_logged(
            &minute(m, "spoofed"),
            None,
            Some("bound"),
            Some("acme"),
            None,
        );
        clock.set(t + 3 * S);
        let spans = (0..5)
            .map(|i| crate::test_otlp::server_span(i + 1, "GET /", t - S, t, (i + m) % 7 == 0))
            .collect();
        engine.record_spans(
            &crate::test_otlp::traces_request(resource("c1"), spans),
            None,
        );
    }
    // A point older than the allowed lateness: dropped and counted, as live.
    clock.set(T0 + 20 * 60 * S);
    engine.record_metrics(&minute(1, "late"), None);
    stop_at(engine, clock, capture, T0 + 21 * 60 * S)
}

#[test]
fn a_replay_of_metric_slos_answers_what_the_live_api_did() {
    let started = start(SLOS);
    let live = traffic(&started);
    let (dir, slos, engine, ..) = &started;
    // The live numbers are not empty: every SLO has events.
    for entry in live["slos"].as_array().unwrap() {
        assert!(entry["total"].as_u64().unwrap() > 0, "{entry}");
    }
    let report = replay(&args(dir.path(), slos, Some(T0 + 21 * 60 * S)));
    assert_eq!(replayed(&report), live);
    assert_eq!(report.metric_requests, 41);
    assert_eq!(report.spans, 100);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // Without the capture's start time the first points of `/cart` (started after slotel)
    // would be baselines: the replay matched because it took the live engine's.
    assert_eq!(engine.metrics_started(), T0);
}

#[test]
fn the_capture_holds_only_the_metrics_slos_read_with_the_token_cluster_and_start() {
    let started = start(SLOS);
    traffic(&started);
    let dir = started.0.path().join("capture");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("metrics-")
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 1, "{files:?}");
    let mut reader = Reader::open(&files[0]).unwrap();
    assert!(reader.is_metrics() && !reader.is_logs());
    let mut requests = Vec::new();
    while let Some(r) = reader.next_metrics() {
        requests.push(r);
    }
    assert_eq!(reader.warning(), None);
    assert_eq!(requests.len(), 41);
    for (i, r) in requests.iter().enumerate() {
        assert_eq!(r.metrics_started, Some(T0));
        assert!(r.first_of_run);
        let names: Vec<&str> = r.request.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "http.server.request.duration",
                "http.server.requests",
                "rpc.duration"
            ]
        );
        let (cluster, token) = match i {
            40 => ("late", None),
            i if i % 2 == 0 => ("c1", None),
            _ => ("spoofed", Some("bound")),
        };
        assert_eq!(r.token_cluster.as_deref(), token);
        // The rest of the request as it was sent.
        let minute = match i {
            40 => 1,
            i => i as u64 / 2,
        };
        let mut sent = self::minute(minute, cluster);
        sent.resource_metrics[0].scope_metrics[0].metrics.pop();
        assert_eq!(r.request, sent);
    }
    // Received in order, each at the engine's clock when it was recorded.
    let times: Vec<u64> = requests.iter().map(|r| r.received).collect();
    assert_eq!(times[0], T0 + S);
    assert_eq!(times[1], T0 + 2 * S);
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn an_edited_metric_slo_gives_the_hand_computed_counts() {
    let started = start(SLOS);
    traffic(&started);
    let (dir, ..) = &started;
    // The latency threshold moved to 100 ms (buckets up to 0.1 are good), the availability
    // objective to 99.9, over cluster `c1` only.
    let edited = slos_in(
        dir.path(),
        "edited",
        r#"
service: cart
slos:
  - name: latency
    objective: 99
    window: 7d
    sli:
      metric:
        histogram: http.server.request.duration
        where: resource.attributes["k8s.cluster.name"] == "c1"
        threshold: 100ms
    min_events: 1
  - name: availability
    objective: 99.9
    window: 7d
    sli:
      metric:
        bad:
          name: http.server.requests
          where: attributes["http.response.status_code"] >= 500 and resource.attributes["k8s.cluster.name"] == "c1"
        total:
          name: http.server.requests
          where: resource.attributes["k8s.cluster.name"] == "c1"
    min_events: 1
"#,
    );
    let report = replay(&args(dir.path(), &edited, Some(T0 + 21 * 60 * S)));
    // By hand from `minute`, cluster c1, minutes 0..20: each series' (count, good) and
    // its increments as the temporality rules make them.
    let series = |m: u64| -> [(u64, u64); 2] {
        let pay_base = match m {
            0..6 => 10 * m,
            6..12 => 2 * (m - 6),
            _ => m - 12,
        };
        let pay = [pay_base + 5, pay_base, pay_base / 2, 3 * pay_base, m, 1];
        let cart = [m, 2 * m, m + 1, m / 4, 0, m / 3];
        // Good: the buckets up to the 0.1 bound.
        [pay, cart].map(|b| (b.iter().sum(), b[0] + b[1]))
    };
    let (mut total, mut good) = (0u64, 0u64);
    for m in 0..20u64 {
        let now = series(m);
        let before = m.checked_sub(1).map(series);
        for (i, (count, g)) in now.into_iter().enumerate() {
            // `/pay` (0) started before slotel: a baseline at minute 0; restarted with a new
            // start at minute 12: in full. `/cart` (1) started after slotel: its first
            // point in full. A lower count (the reset of `/pay` at minute 6): in full.
            let (events, good_inc) = match (i, m, before) {
                (0, 0, _) => (0, 0),
                (0, 12, _) | (1, 0, _) => (count, g),
                (_, _, Some(b)) if count < b[i].0 => (count, g),
                (_, _, Some(b)) => (count - b[i].0, g.saturating_sub(b[i].1)),
                _ => unreachable!(),
            };
            total += events;
            good += good_inc;
        }
    }
    let latency = report
        .slos
        .iter()
        .find(|e| e.name == "latency" && e.cluster == "c1")
        .unwrap();
    assert_eq!((latency.total, latency.good), (total, good));
    // Counters: a baseline at minute 0, a reset at minute 9 (the new values in full).
    let counts = |m: u64| -> (u64, u64) {
        match m {
            0..9 => (1000 + 97 * m, 10 + 3 * m),
            _ => (40 * (m - 8), (m - 8) % 3),
        }
    };
    let (mut events, mut bad) = (0u64, 0u64);
    for m in 1..20u64 {
        let (ok, failed) = counts(m);
        let (ok0, failed0) = counts(m - 1);
        let inc = |now: u64, before: u64| if now >= before { now - before } else { now };
        events += inc(ok, ok0) + inc(failed, failed0);
        bad += inc(failed, failed0);
    }
    let availability = report
        .slos
        .iter()
        .find(|e| e.name == "availability" && e.cluster == "c1")
        .unwrap();
    assert_eq!(
        (availability.total, availability.good),
        (events, events - bad)
    );
    assert!((availability.objective - 0.999).abs() < 1e-12);
}

#[test]
fn a_replay_from_a_later_time_takes_running_series_as_baselines() {
    let started = start(SLOS);
    traffic(&started);
    let (dir, slos, ..) = &started;
    let mut a = args(dir.path(), slos, Some(T0 + 21 * 60 * S));
    // From minute 14 (received at T0 + 14m + 1s): every counter series started before.
    a.from = Some(T0 + 14 * 60 * S);
    let report = replay(&a);
    let availability = report
        .slos
        .iter()
        .find(|e| e.name == "availability" && e.cluster == "c1")
        .unwrap();
    // Minute 14 is the baseline; 15..19 are increments: 40 a minute ok, failed (m-8)%3.
    let failed = |m: u64| (m - 8) % 3;
    let (mut events, mut bad) = (0u64, 0u64);
    for m in 15..20u64 {
        let f = if failed(m) >= failed(m - 1) {
            failed(m) - failed(m - 1)
        } else {
            failed(m)
        };
        events += 40 + f;
        bad += f;
    }
    assert_eq!(
        (availability.total, availability.good),
        (events, events - bad)
    );
}

#[test]
fn a_damaged_file_of_metric_requests_is_skipped_from_where_it_is_damaged() {
    let started = start(SLOS);
    traffic(&started);
    let (dir, slos, ..) = &started;
    let capture = dir.path().join("capture");
    let file = std::fs::read_dir(&capture)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("metrics-")
        })
        .unwrap();
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let report = replay(&args(dir.path(), slos, Some(T0 + 21 * 60 * S)));
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        report.warnings.iter().any(|w| w.contains(&name)),
        "{:?}",
        report.warnings
    );
    // The spans are all there; the metric requests before the damage were read.
    assert_eq!(report.spans, 100);
    assert!(report.metric_requests < 41);
}

#[test]
fn a_metric_slo_without_captured_points_is_named_in_a_warning() {
    let started = start(SLOS);
    traffic(&started);
    let (dir, ..) = &started;
    let other = slos_in(
        dir.path(),
        "other",
        r#"
service: cart
slos:
  - name: queue
    objective: 99
    window: 7d
    sli:
      metric: {histogram: queue.wait, threshold: 1}
"#,
    );
    let report = replay(&args(dir.path(), &other, Some(T0 + 21 * 60 * S)));
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("cart/queue") && w.contains("queue.wait")),
        "{:?}",
        report.warnings
    );
}
