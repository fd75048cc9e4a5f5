//! Exporters against hostile or failing backends, with the real binary:
//!
//! - a backend's error body (which echoes the refused labels) never reaches slotel's own
//!   log: the log says the status and a reason class, for every remote exporter;
//! - repeated refusals are logged once per interval, not once per request;
//! - slow backends drain in parallel within `service.shutdown_timeout`, and a stalled
//!   upload does not take their share of it;
//! - a backend that never answers costs the shutdown budget, not more, and what its
//!   memory queue drops is logged at ERROR with the count.
//!
//! Plus, in process: the redaction processor on the metrics pipeline.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::backend::serve;
use common::*;
use http_body_util::{BodyExt, Full};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, Gauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, metric, number_data_point,
};
use prost::Message;
use slotel::attr::{AttrValue, kv};
use tokio::time::Instant;

const EMAIL: &str = "kim.minsu@example.com";

/// What Prometheus and Mimir answer: the reason, then the whole label set.
const BODY: &str = "out of order sample for series {__name__=\"logins_total\", \
                    user_email=\"kim.minsu@example.com\", region=\"kr\"}";

/// How the test backend answers every request.
#[derive(Clone, Copy)]
enum Answer {
    /// HTTP `status` with [`BODY`]; gRPC calls get `INVALID_ARGUMENT` with [`BODY`] as the
    /// message.
    Refuse(u16),
    /// Success, after a delay.
    SlowOk(Duration),
    /// Never (the connection stays open).
    Never,
}

/// A backend on port 0; counts requests received and answered.
struct Backend {
    addr: SocketAddr,
    received: Arc<AtomicUsize>,
    answered: Arc<AtomicUsize>,
}

async fn backend(answer: Answer) -> Backend {
    let received = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let (rx, ax) = (received.clone(), answered.clone());
    let addr = serve(move |req: http::Request<hyper::body::Incoming>| {
        let (rx, ax) = (rx.clone(), ax.clone());
        async move {
            let grpc = req.uri().path().contains("Service/Export");
            let _ = req.into_body().collect().await;
            rx.fetch_add(1, Ordering::SeqCst);
            let resp = http::Response::builder();
            let resp = match answer {
                Answer::Never => std::future::pending().await,
                Answer::SlowOk(d) => {
                    tokio::time::sleep(d).await;
                    if grpc {
                        resp.header("content-type", "application/grpc")
                            .header("grpc-status", "0")
                    } else {
                        resp.status(200)
                    }
                    .body(Full::new(Bytes::new()))
                }
                Answer::Refuse(_) if grpc => resp
                    .header("content-type", "application/grpc")
                    .header("grpc-status", "3")
                    .header("grpc-message", BODY)
                    .body(Full::new(Bytes::new())),
                Answer::Refuse(status) => resp
                    .status(status)
                    .header("content-type", "text/plain")
                    .body(Full::new(Bytes::from_static(BODY.as_bytes()))),
            };
            ax.fetch_add(1, Ordering::SeqCst);
            resp.unwrap()
        }
    })
    .await;
    Backend {
        addr,
        received,
        answered,
    }
}

fn resource() -> Vec<KeyValue> {
    vec![kv("service.name", "login"), kv("owner", EMAIL)]
}

/// A cumulative counter whose data point carries an e-mail address, at `now`.
fn metrics_request(now_ns: u64) -> ExportMetricsServiceRequest {
    otlp::metrics_request(
        resource(),
        vec![otlp::counter(
            "logins",
            AggregationTemporality::Cumulative as i32,
            vec![NumberDataPoint {
                attributes: vec![kv("user.email", EMAIL)],
                time_unix_nano: now_ns,
                value: Some(number_data_point::Value::AsInt(3)),
                ..Default::default()
            }],
        )],
    )
}

fn logs_request() -> ExportLogsServiceRequest {
    otlp::logs_request(
        resource(),
        vec![LogRecord {
            time_unix_nano: now_unix_nanos(),
            body: Some(format!("login by {EMAIL}").into_any_value()),
            attributes: vec![kv("user.email", EMAIL)],
            ..Default::default()
        }],
    )
}

fn traces_request(spans: usize) -> ExportTraceServiceRequest {
    let now = now_unix_nanos();
    otlp::traces_request(
        resource(),
        (0..spans)
            .map(|i| otlp::server_span(i as u64 + 1, "GET /", now - 1_000_000, now, false))
            .collect(),
    )
}

async fn post(http: SocketAddr, path: &str, body: Vec<u8>) -> u16 {
    let pb = ("content-type", "application/x-protobuf");
    http_send("POST", &format!("http://{http}{path}"), &[pb], body)
        .await
        .status
}

async fn admin_metrics(admin: SocketAddr) -> String {
    let r = http_send("GET", &format!("http://{admin}/metrics"), &[], Vec::new()).await;
    String::from_utf8_lossy(&r.body).into_owned()
}

/// Waits (up to 20 s) until `f` holds on the admin `/metrics` text.
async fn until_metrics(admin: SocketAddr, what: &str, f: impl Fn(&str) -> bool) {
    for _ in 0..200 {
        if f(&admin_metrics(admin).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "timed out waiting for {what}:\n{}",
        admin_metrics(admin).await
    );
}

const EXPORTERS: [&str; 4] = [
    "prometheusremotewrite/mimir",
    "otlphttp/tempo",
    "otlp/grpc",
    "loki/logs",
];

/// A backend answers 400 with a body that names the e-mail address of a metric
/// attribute: every remote exporter's refusal is logged with the status and the reason
/// class, and the address is nowhere in slotel's log. Twenty refusals per exporter give
/// one log line per exporter and call site, not twenty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_error_bodies_are_summarised_never_logged() {
    let b = backend(Answer::Refuse(400)).await;
    let a = b.addr;
    let mut p = spawn_binary_logged(
        &format!(
            "  prometheusremotewrite/mimir:\n    endpoint: http://{a}/api/v1/push\n    send_slo_series: false\n\
             \x20 otlphttp/tempo:\n    endpoint: http://{a}\n\
             \x20 otlp/grpc:\n    endpoint: http://{a}\n\
             \x20 loki/logs:\n    endpoint: http://{a}\n"
        ),
        "  shutdown_timeout: 5s\n  telemetry: {logs: {level: info}}",
    )
    .await;
    let base = now_unix_nanos() - 60_000_000_000;
    for i in 0..20u64 {
        // A new timestamp each time, so remote write sends every one.
        let m = metrics_request(base + i * 1_000_000_000).encode_to_vec();
        assert_eq!(post(p.http, "/v1/metrics", m).await, 200);
        assert_eq!(
            post(p.http, "/v1/logs", logs_request().encode_to_vec()).await,
            200
        );
    }
    until_metrics(p.admin, "20 refusals per exporter", |text| {
        EXPORTERS.iter().all(|e| {
            metric_sum(
                text,
                "slotel_exporter_requests_total",
                &[&format!("exporter=\"{e}\""), "outcome=\"permanent\""],
            ) >= 20.0
        })
    })
    .await;
    p.sigterm();
    let exit = p.wait_exit(Duration::from_secs(15)).await;
    assert!(exit.is_some(), "slotel did not exit");
    let log = p.log();
    assert!(b.received.load(Ordering::SeqCst) >= 80);
    assert!(
        !log.contains(EMAIL),
        "the address reached slotel's log:\n{log}"
    );
    assert!(!log.contains("kim.minsu"), "{log}");
    assert!(
        !log.contains("logins_total"),
        "labels reached the log:\n{log}"
    );
    let refused: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("backend refused a request for good"))
        .collect();
    for e in EXPORTERS {
        let lines: Vec<&&str> = refused.iter().filter(|l| l.contains(e)).collect();
        // One line, and at most one more if the refusals spanned the 10 s interval.
        assert!(
            (1..=2).contains(&lines.len()),
            "{e}: {} lines for 20 refusals:\n{log}",
            lines.len()
        );
        let want = if e == "otlp/grpc" {
            "gRPC InvalidArgument (out_of_order"
        } else {
            "HTTP 400 (out_of_order"
        };
        assert!(lines[0].contains(want), "{e}: {}", lines[0]);
        assert!(
            lines[0].contains(&format!("{} bytes", BODY.len())),
            "{}",
            lines[0]
        );
        // What was held back is reported at shutdown.
        assert!(
            log.lines()
                .any(|l| l.contains(e) && l.contains("more failures since the last report")),
            "{e}: no count of held-back lines:\n{log}"
        );
    }
}

/// Each exporter has four requests to deliver, one at a time, to a backend that takes
/// 2.5 s per request: 10 s each, more than half of the 14 s budget (one exporter after the
/// other cannot make it), but within it when both drain at once. Everything is
/// delivered and slotel exits 0 within the budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_backends_drain_in_parallel_within_the_budget() {
    let b1 = backend(Answer::SlowOk(Duration::from_millis(2500))).await;
    let b2 = backend(Answer::SlowOk(Duration::from_millis(2500))).await;
    let queue = "    sending_queue: {num_consumers: 1}\n";
    let mut p = spawn_binary_logged(
        &format!(
            "  otlphttp/one:\n    endpoint: http://{}\n{queue}\
             \x20 otlp/two:\n    endpoint: http://{}\n{queue}",
            b1.addr, b2.addr
        ),
        "  shutdown_timeout: 14s\n  telemetry: {logs: {level: info}}",
    )
    .await;
    for _ in 0..4 {
        assert_eq!(
            post(p.http, "/v1/traces", traces_request(5).encode_to_vec()).await,
            200
        );
    }
    // Both exporters have taken their first request.
    for _ in 0..100 {
        if b1.received.load(Ordering::SeqCst) > 0 && b2.received.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = Instant::now();
    p.sigterm();
    let exit = p.wait_exit(Duration::from_secs(30)).await;
    let took = started.elapsed();
    let log = p.log();
    let exit = exit.unwrap_or_else(|| panic!("slotel did not exit:\n{log}"));
    assert_eq!(exit.code(), Some(0), "{log}");
    assert!(took < Duration::from_secs(14), "took {took:?}:\n{log}");
    assert_eq!(
        (
            b1.answered.load(Ordering::SeqCst),
            b2.answered.load(Ordering::SeqCst)
        ),
        (4, 4),
        "every request delivered:\n{log}"
    );
    assert!(!log.contains("dropped"), "{log}");
}

/// A client that never finishes its upload keeps a receiver busy through shutdown: the
/// receivers get half of the budget, then the pipelines and exporters drain anyway and
/// slotel exits 0 within `shutdown_timeout`, with what it acknowledged delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upload_does_not_take_the_exporters_budget() {
    use tokio::io::AsyncWriteExt;
    let b = backend(Answer::SlowOk(Duration::from_millis(1500))).await;
    let mut p = spawn_binary_logged(
        &format!("  otlphttp/slow:\n    endpoint: http://{}\n", b.addr),
        "  shutdown_timeout: 4s\n  telemetry: {logs: {level: info}}",
    )
    .await;
    assert_eq!(
        post(p.http, "/v1/traces", traces_request(3).encode_to_vec()).await,
        200
    );
    let mut stalled = tokio::net::TcpStream::connect(p.http).await.unwrap();
    stalled
        .write_all(
            b"POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\n\
              content-length: 1000000\r\n\r\n\x0a\x00",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    p.sigterm();
    let exit = p.wait_exit(Duration::from_secs(20)).await;
    let took = started.elapsed();
    let log = p.log();
    let exit = exit.unwrap_or_else(|| panic!("slotel did not exit:\n{log}"));
    assert_eq!(exit.code(), Some(0), "{log}");
    assert!(took < Duration::from_secs(5), "took {took:?}:\n{log}");
    assert_eq!(b.answered.load(Ordering::SeqCst), 1, "{log}");
    drop(stalled);
}

/// A backend that accepts connections and never answers: slotel still exits within
/// `shutdown_timeout`, and logs at ERROR how many items its memory queue dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_never_answers_costs_the_budget_and_the_drop_is_logged() {
    let b = backend(Answer::Never).await;
    let mut p = spawn_binary_logged(
        &format!(
            "  otlphttp/stuck:\n    endpoint: http://{}\n    timeout: 60s\n    sending_queue: {{num_consumers: 2}}\n",
            b.addr
        ),
        "  shutdown_timeout: 3s\n  telemetry: {logs: {level: info}}",
    )
    .await;
    for _ in 0..4 {
        assert_eq!(
            post(p.http, "/v1/traces", traces_request(5).encode_to_vec()).await,
            200
        );
    }
    for _ in 0..100 {
        if b.received.load(Ordering::SeqCst) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = Instant::now();
    p.sigterm();
    let exit = p.wait_exit(Duration::from_secs(20)).await;
    let took = started.elapsed();
    let log = p.log();
    assert!(exit.is_some(), "slotel did not exit:\n{log}");
    assert!(
        took < Duration::from_secs(4),
        "took {took:?}, budget 3s:\n{log}"
    );
    let line = log
        .lines()
        .find(|l| l.contains("ERROR") && l.contains("otlphttp/stuck"))
        .unwrap_or_else(|| panic!("no ERROR line for the drop:\n{log}"));
    assert!(line.contains("20 items dropped"), "{line}");
}

/// With `processors: [redaction]` on the metrics pipeline, an e-mail address in a
/// data-point attribute, an exemplar's attributes, the resource and the scope reaches the
/// backend (the file exporter) redacted; names and values are unchanged.
#[tokio::test]
async fn the_metrics_pipeline_redacts_attributes() {
    use slotel::config::RedactionConfig;
    let s = start_cfg(
        |mut c| {
            c.redaction = Some(RedactionConfig::default());
            c.service.metrics.processors = Some(vec!["redaction".into()]);
            c
        },
        Vec::new(),
    )
    .await;
    let now = now_unix_nanos();
    let mut req = metrics_request(now);
    let sm = &mut req.resource_metrics[0].scope_metrics[0];
    sm.scope = Some(
        opentelemetry_proto::tonic::common::v1::InstrumentationScope {
            name: "auth".into(),
            attributes: vec![kv("maintainer", EMAIL)],
            ..Default::default()
        },
    );
    sm.metrics.push(Metric {
        name: "login.duration".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                attributes: vec![kv("user", EMAIL)],
                time_unix_nano: now,
                count: 1,
                bucket_counts: vec![1, 0],
                explicit_bounds: vec![0.5],
                exemplars: vec![Exemplar {
                    filtered_attributes: vec![kv("user.email", EMAIL)],
                    time_unix_nano: now,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Default::default()
    });
    sm.metrics.push(Metric {
        name: "sessions".into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                attributes: vec![kv("contact", format!("mail {EMAIL} now"))],
                time_unix_nano: now,
                value: Some(number_data_point::Value::AsDouble(2.0)),
                ..Default::default()
            }],
        })),
        ..Default::default()
    });
    assert_eq!(post(s.http, "/v1/metrics", req.encode_to_vec()).await, 200);
    eventually("three data points written", || s.written().points == 3).await;
    let out = std::fs::read_to_string(s.out.as_ref().unwrap()).unwrap();
    assert!(!out.contains(EMAIL), "{out}");
    assert_eq!(out.matches("[REDACTED:email]").count(), 6, "{out}");
    for kept in [
        "logins",
        "login.duration",
        "sessions",
        "mail [REDACTED:email] now",
    ] {
        assert!(out.contains(kept), "{kept} in {out}");
    }
    assert!(
        s.metric(
            "slotel_redactions_total",
            &["signal=\"metrics\"", "type=\"email\""]
        ) >= 6.0
    );
    s.running.shutdown().await.unwrap();
}

/// Without `processors` on the metrics pipeline, metrics pass unchanged (the default), and
/// `processors: []` turns redaction off for traces.
#[tokio::test]
async fn metrics_are_not_redacted_by_default() {
    use slotel::config::RedactionConfig;
    let s = start_cfg(
        |mut c| {
            c.redaction = Some(RedactionConfig::default());
            c.service.traces.processors = Some(Vec::new());
            c
        },
        Vec::new(),
    )
    .await;
    let req = metrics_request(now_unix_nanos());
    assert_eq!(post(s.http, "/v1/metrics", req.encode_to_vec()).await, 200);
    let mut spans = traces_request(1);
    spans.resource_spans[0].scope_spans[0].spans[0]
        .attributes
        .push(kv("user.email", EMAIL));
    assert_eq!(post(s.http, "/v1/traces", spans.encode_to_vec()).await, 200);
    assert_eq!(
        post(s.http, "/v1/logs", logs_request().encode_to_vec()).await,
        200
    );
    eventually("all written", || {
        let w = s.written();
        w.points == 1 && w.spans == 1 && w.logs == 1
    })
    .await;
    let out = std::fs::read_to_string(s.out.as_ref().unwrap()).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    let has = |signal: &str| {
        lines
            .iter()
            .find(|l| l.contains(signal))
            .is_some_and(|l| l.contains(EMAIL))
    };
    assert!(has("resourceMetrics"), "{out}");
    assert!(has("resourceSpans"), "{out}");
    assert!(!has("resourceLogs"), "logs are still redacted: {out}");
    s.running.shutdown().await.unwrap();
}

/// A cumulative counter `split_probe` with one point per `k` value, all at `t_ns`.
fn probes(keys: &[String], t_ns: u64, value: i64) -> Vec<u8> {
    otlp::metrics_request(
        vec![kv("service.name", "probe")],
        vec![otlp::counter(
            "split_probe",
            AggregationTemporality::Cumulative as i32,
            keys.iter()
                .map(|k| NumberDataPoint {
                    attributes: vec![kv("k", k.as_str())],
                    start_time_unix_nano: t_ns - 1_000_000_000,
                    time_unix_nano: t_ns,
                    value: Some(number_data_point::Value::AsInt(value)),
                    ..Default::default()
                })
                .collect(),
        )],
    )
    .encode_to_vec()
}

/// Prometheus refuses a whole remote-write request for one sample older than its series'
/// newest (HTTP 400, out of order) and stores none of its other series. Two replicas
/// write the same series (as after a restart, or two slotel without a replica label):
/// the second's request holds one such sample and twenty new series. The twenty reach a
/// real Prometheus; only the one sample is lost, and it is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refused_series_costs_only_itself_in_a_real_prometheus() {
    let prom = tokio::task::spawn_blocking(|| common::prometheus::Prometheus::start(&[]))
        .await
        .unwrap();
    let url = prom.remote_write_url();
    let exporters =
        format!("  prometheusremotewrite/prom:\n    endpoint: {url}\n    send_slo_series: false\n");
    let first = spawn_binary(&exporters, "").await;
    let second = spawn_binary(&exporters, "").await;
    let now = now_unix_nanos();
    let x = vec!["x".to_string()];
    assert_eq!(
        post(
            first.http,
            "/v1/metrics",
            probes(&x, now - 10_000_000_000, 5)
        )
        .await,
        200
    );
    let prom = Arc::new(prom);
    let p = prom.clone();
    let stored = move |q: &'static str| {
        let p = p.clone();
        async move {
            tokio::task::spawn_blocking(move || p.vector(q))
                .await
                .unwrap()
        }
    };
    for _ in 0..200 {
        if !stored("split_probe_total{k=\"x\"}").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stored("split_probe_total{k=\"x\"}").await.len(), 1);
    // `x` 30 s before what Prometheus holds for it, and twenty new series.
    let mut keys = x.clone();
    keys.extend((0..20).map(|i| format!("y{i}")));
    assert_eq!(
        post(
            second.http,
            "/v1/metrics",
            probes(&keys, now - 40_000_000_000, 2)
        )
        .await,
        200
    );
    let exporter = "exporter=\"prometheusremotewrite/prom\"";
    until_metrics(
        second.admin,
        "the request's 21 samples delivered or dropped",
        |t| {
            metric_sum(t, "slotel_exporter_delivered_items_total", &[exporter])
                + metric_sum(t, "slotel_exporter_dropped_items_total", &[exporter])
                >= 21.0
        },
    )
    .await;
    let text = admin_metrics(second.admin).await;
    assert_eq!(
        metric_sum(&text, "slotel_exporter_delivered_items_total", &[exporter]),
        20.0,
        "{text}"
    );
    assert_eq!(
        metric_sum(
            &text,
            "slotel_exporter_dropped_items_total",
            &[exporter, "reason=\"permanent\""]
        ),
        1.0
    );
    let ys = stored("split_probe_total{k=~\"y.*\"}").await;
    assert_eq!(ys.len(), 20, "{ys:?}");
    // `x` keeps what the first replica wrote.
    let xs = stored("split_probe_total{k=\"x\"}").await;
    assert_eq!(xs[0]["value"][1], "5", "{xs:?}");
}
