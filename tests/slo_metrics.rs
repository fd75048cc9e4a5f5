//! Metric SLIs through the real pipeline: OTLP metrics requests built by hand (delta
//! histograms with explicit buckets, cumulative counters with a baseline, a reset and a
//! restart) sent over gRPC and HTTP show up in `GET /api/v1/slos` with exact counts.

mod common;

use common::*;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, HistogramDataPoint, Metric, NumberDataPoint, metric::Data,
    number_data_point,
};
use prost::Message;
use slotel::attr::kv;

const SLOS: &str = r#"
service: cart
slos:
  - name: request-latency
    objective: 98.5
    window: 30d
    sli:
      metric:
        histogram: http.server.request.duration
        where: resource.attributes["service.name"] == "cart"
        threshold: 300ms
  - name: request-availability
    objective: 99
    window: 7d
    sli:
      metric:
        bad:
          name: http.server.requests
          where: >-
            resource.attributes["service.name"] == "cart"
            and attributes["http.response.status_code"] >= 500
        total:
          name: http.server.requests
          where: resource.attributes["service.name"] == "cart"
"#;

const BOUNDS: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];
/// Buckets at or below the largest bound ≤ 300ms (0.25): the first six.
const GOOD_BUCKETS: usize = 6;
const DELTA: i32 = AggregationTemporality::Delta as i32;
const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;

fn request(cluster: &str, service: &str, metric: Metric) -> ExportMetricsServiceRequest {
    otlp::metrics_request(
        vec![kv("service.name", service), kv("k8s.cluster.name", cluster)],
        vec![metric],
    )
}

/// A delta histogram with one point per route.
fn histogram(points: Vec<(String, Vec<u64>)>, time: u64) -> Metric {
    let points = points
        .into_iter()
        .map(|(route, counts)| HistogramDataPoint {
            attributes: vec![kv("http.route", route)],
            start_time_unix_nano: time - 10_000_000_000,
            time_unix_nano: time,
            count: counts.iter().sum(),
            sum: Some(1.0),
            bucket_counts: counts,
            explicit_bounds: BOUNDS.to_vec(),
            ..Default::default()
        })
        .collect();
    Metric {
        unit: "s".into(),
        ..otlp::histogram("http.server.request.duration", DELTA, points)
    }
}

/// A cumulative monotonic counter with one point per status code.
fn counter(start: u64, time: u64, by_status: &[(i64, i64)]) -> Metric {
    let points = by_status
        .iter()
        .map(|(status, value)| NumberDataPoint {
            attributes: vec![kv("http.response.status_code", *status)],
            start_time_unix_nano: start,
            time_unix_nano: time,
            value: Some(number_data_point::Value::AsInt(*value)),
            ..Default::default()
        })
        .collect();
    otlp::counter("http.server.requests", CUMULATIVE, points)
}

async fn send(s: &Server, http: bool, req: &ExportMetricsServiceRequest, headers: &[(&str, &str)]) {
    let body = req.encode_to_vec();
    if http {
        let mut h = vec![("content-type", "application/x-protobuf")];
        h.extend_from_slice(headers);
        let r = http_send("POST", &format!("http://{}/v1/metrics", s.http), &h, body).await;
        assert_eq!(r.status, 200);
    } else {
        let r = grpc_send(s.grpc, GRPC_METRICS, headers, &body, None).await;
        assert_eq!(r.code, 0, "{}", r.message);
    }
}

fn points(req: &ExportMetricsServiceRequest) -> u64 {
    req.resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match &m.data {
            Some(Data::Histogram(h)) => h.data_points.len() as u64,
            Some(Data::Sum(s)) => s.data_points.len() as u64,
            _ => 0,
        })
        .sum()
}

async fn start_with_slos(
    tweak: impl FnOnce(slotel::config::Config) -> slotel::config::Config,
) -> (Server, tempfile::TempDir) {
    start_with_slo_file("cart.yaml", SLOS, tweak).await
}

async fn wait_points(s: &Server, sent: u64) {
    eventually("all data points recorded", || {
        s.metric(
            "slotel_exporter_sent_items_total",
            &["exporter=\"slo\"", "signal=\"metrics\""],
        ) as u64
            == sent
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn histograms_and_counters_give_exact_slos() {
    // Series that started before slotel begin with a baseline.
    let before_start = now_unix_nanos() - 3_600_000_000_000;
    let (s, _dir) = start_with_slos(|c| c).await;
    let mut rng = fastrand::Rng::with_seed(29);
    let mut sent = 0;

    // Delta histograms: seoul-prod over gRPC, busan-prod over HTTP; checkout's are
    // filtered out by `where`.
    let mut want: Vec<(&str, u64, u64)> = Vec::new();
    for (cluster, http) in [("seoul-prod", false), ("busan-prod", true)] {
        let (mut total, mut good) = (0, 0);
        for _ in 0..4 {
            let routes: Vec<(String, Vec<u64>)> = ["/cart", "/cart/items", "/cart/checkout"]
                .iter()
                .map(|r| (r.to_string(), (0..9).map(|_| rng.u64(0..50)).collect()))
                .collect();
            for (_, counts) in &routes {
                total += counts.iter().sum::<u64>();
                good += counts[..GOOD_BUCKETS].iter().sum::<u64>();
            }
            let req = request(cluster, "cart", histogram(routes, now_unix_nanos()));
            sent += points(&req);
            send(&s, http, &req, &[]).await;
        }
        want.push((cluster, total, good));
    }
    let other = request(
        "seoul-prod",
        "checkout",
        histogram(vec![("/pay".into(), vec![1000; 9])], now_unix_nanos()),
    );
    sent += points(&other);
    send(&s, false, &other, &[]).await;

    // Cumulative counters from tokyo-prod: (200, 503) values at successive exports.
    let restart = now_unix_nanos();
    let exports: [(u64, [(i64, i64); 2]); 5] = [
        (before_start, [(200, 5000), (503, 40)]), // baseline
        (before_start, [(200, 5900), (503, 50)]), // +900, +10
        (before_start, [(200, 100), (503, 2)]),   // reset, same start: +100, +2
        (restart, [(200, 300), (503, 8)]),        // restart, new start: +300, +8
        (restart, [(200, 400), (503, 8)]),        // +100, +0
    ];
    for (i, (start, values)) in exports.iter().enumerate() {
        let req = request(
            "tokyo-prod",
            "cart",
            counter(*start, now_unix_nanos(), values),
        );
        sent += points(&req);
        send(&s, i % 2 == 1, &req, &[]).await;
    }
    let (tokyo_total, tokyo_bad) = (900 + 10 + 100 + 2 + 300 + 8 + 100, 10 + 2 + 8);

    wait_points(&s, sent).await;
    let v = slos(s.admin).await;
    for (cluster, total, good) in &want {
        let e = slo_entry(&v, "request-latency", cluster);
        assert_eq!(e["total"], *total, "{cluster}");
        assert_eq!(e["good"], *good, "{cluster}");
        // Every event is in the 3d window too, which burns over 1× exactly when the
        // budget is spent.
        let spent = e["error_budget_remaining"].as_f64().unwrap() <= 0.0;
        assert_eq!(
            e["status"],
            if spent { "breaching" } else { "ok" },
            "{cluster}"
        );
    }
    let all = slo_entry(&v, "request-latency", "all");
    // The API reports the bucket bound good events are really measured against: the
    // largest bound at or below the 300 ms threshold.
    let effective = BOUNDS
        .iter()
        .copied()
        .filter(|b| *b <= 0.3)
        .fold(f64::MIN, f64::max);
    assert_eq!(all["effective_threshold"]["configured"], 0.3);
    assert_eq!(all["effective_threshold"]["latest"], effective);
    let (total, good): (u64, u64) = want.iter().fold((0, 0), |a, w| (a.0 + w.1, a.1 + w.2));
    assert_eq!(
        (all["total"].as_u64(), all["good"].as_u64()),
        (Some(total), Some(good))
    );
    let ratio = (total - good) as f64 / total as f64;
    assert!((all["error_ratio"].as_f64().unwrap() - ratio).abs() < 1e-12);
    assert!((all["error_budget_remaining"].as_f64().unwrap() - (1.0 - ratio / 0.015)).abs() < 1e-9);
    // Metric SLIs have no latencies.
    assert!(all["latency"]["p99"].is_null(), "{all}");

    let tokyo = slo_entry(&v, "request-availability", "tokyo-prod");
    assert_eq!(tokyo["total"], tokyo_total);
    assert_eq!(tokyo["good"], tokyo_total - tokyo_bad);
    let ratio = tokyo_bad as f64 / tokyo_total as f64;
    assert!((tokyo["error_ratio"].as_f64().unwrap() - ratio).abs() < 1e-12);
    assert!((tokyo["burn_rate"]["5m"].as_f64().unwrap() - ratio / 0.01).abs() < 1e-9);
    assert_eq!(
        slo_entry(&v, "request-availability", "all")["total"],
        tokyo_total
    );
    // Only tokyo sent counters.
    assert!(
        v["slos"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["name"] != "request-availability"
                || ["all", "tokyo-prod"].contains(&e["cluster"].as_str().unwrap())),
        "{v}"
    );

    // The same numbers as series.
    let text = s.metrics_text();
    let m = |labels: &[&str]| metric_sum(&text, "slotel_slo_events_total", labels);
    assert_eq!(
        m(&[
            "slo=\"request-availability\"",
            "cluster=\"all\"",
            "outcome=\"bad\""
        ]) as u64,
        tokyo_bad
    );
    assert_eq!(
        m(&[
            "slo=\"request-latency\"",
            "cluster=\"all\"",
            "outcome=\"good\""
        ]) as u64,
        good
    );
    s.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_cluster_wins_over_the_resource() {
    let (s, _dir) = start_with_slos(with_tokens).await;
    let auth = [("authorization", "Bearer good-token")];
    let req = request(
        "busan-prod",
        "cart",
        histogram(
            vec![("/cart".into(), vec![1, 2, 3, 4, 5, 6, 7, 8, 9])],
            now_unix_nanos(),
        ),
    );
    send(&s, false, &req, &auth).await;
    send(&s, true, &req, &auth).await;
    wait_points(&s, 2).await;
    let v = slos(s.admin).await;
    let seoul = slo_entry(&v, "request-latency", "seoul-prod");
    assert_eq!(
        (seoul["total"].as_u64(), seoul["good"].as_u64()),
        (Some(90), Some(42))
    );
    assert!(
        v["slos"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["cluster"] != "busan-prod"),
        "{v}"
    );
    s.running.shutdown().await.unwrap();
}
