//! The SLO engine as a connector: its series enter the metrics pipeline as ordinary OTLP
//! metrics, so every metrics exporter carries them — here `otlphttp` (as to Mimir's OTLP
//! endpoint) and `file` — and the last export, at shutdown, counts every span that was
//! acknowledged.

mod common;

use std::io::Read as _;
use std::path::Path;

use common::backend::{Captured, recording_backend};
use common::*;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{Metric, metric, number_data_point};
use prost::Message;
use slotel::app;
use slotel::config::{SystemLookup, parse};

const SLO: &str = "service: checkout\nslos:\n  - name: availability\n    objective: 99\n    window: 7d\n    sli:\n      spans:\n        where: kind == SPAN_KIND_SERVER\n        bad: status.code == STATUS_CODE_ERROR\n";

/// Starts slotel with an `otlphttp` exporter to `backend` and a file exporter, both on the
/// metrics pipeline, and the SLO above.
async fn start(dir: &Path, backend: std::net::SocketAddr, export_interval: &str) -> app::Running {
    std::fs::write(dir.join("slo.yaml"), SLO).unwrap();
    let yaml = format!(
        "receivers:\n  otlp:\n    protocols:\n      http: {{endpoint: 127.0.0.1:0}}\n\
         exporters:\n  otlphttp/mimir: {{endpoint: \"http://{backend}\", compression: none}}\n  file/out: {{path: {out}}}\n\
         slo:\n  files: [{slos}]\n  export_interval: {export_interval}\n\
         service:\n  admin: {{endpoint: 127.0.0.1:0}}\n  telemetry: {{logs: {{level: warn}}}}\n",
        out = dir.join("out.jsonl").display(),
        slos = dir.join("slo.yaml").display(),
    );
    let cfg = parse(&yaml, "slo-series-test", &SystemLookup).expect("config");
    app::start_with(&cfg, Vec::new()).await.expect("start")
}

/// Sends `good` and `bad` server spans from cluster seoul over OTLP/HTTP.
async fn send(running: &app::Running, good: usize, bad: usize) {
    let now = now_unix_nanos();
    let spans: Vec<TestSpan> = (0..good + bad)
        .map(|i| TestSpan {
            cluster: "seoul",
            service: "checkout",
            route: "/pay",
            end_unix_nanos: now - 1_000_000 * i as u64,
            duration_nanos: 2_000_000,
            status_code: if i < bad { 500 } else { 200 },
        })
        .collect();
    let body = spans_request(&spans).encode_to_vec();
    let url = format!("http://{}/v1/traces", running.addresses.http.unwrap());
    let r = http_send(
        "POST",
        &url,
        &[("content-type", "application/x-protobuf")],
        body,
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
}

/// `slotel_slo_events_total{slo="availability",cluster="seoul",outcome}` in one OTLP
/// request: its latest point (a series new since the last export also has a zero point
/// before it).
fn events(req: &ExportMetricsServiceRequest, outcome: &str) -> Option<f64> {
    let metrics: Vec<&Metric> = req
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .filter(|m| m.name == "slotel_slo_events_total")
        .collect();
    let attr = |p: &opentelemetry_proto::tonic::metrics::v1::NumberDataPoint, k: &str| {
        p.attributes
            .iter()
            .find(|kv| kv.key == k)
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| match &v.value {
                Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => {
                    Some(s.clone())
                }
                _ => None,
            })
    };
    metrics
        .iter()
        .filter_map(|m| match &m.data {
            Some(metric::Data::Sum(sum)) => Some(sum),
            _ => None,
        })
        .flat_map(|sum| &sum.data_points)
        .filter(|p| {
            attr(p, "slo").as_deref() == Some("availability")
                && attr(p, "cluster").as_deref() == Some("seoul")
                && attr(p, "outcome").as_deref() == Some(outcome)
        })
        .max_by_key(|p| p.time_unix_nano)
        .and_then(|p| match p.value {
            Some(number_data_point::Value::AsDouble(v)) => Some(v),
            Some(number_data_point::Value::AsInt(v)) => Some(v as f64),
            None => None,
        })
}

/// The metrics requests the backend received, decoded.
fn metric_requests(seen: &[Captured]) -> Vec<ExportMetricsServiceRequest> {
    seen.iter()
        .filter(|c| c.path == "/v1/metrics")
        .map(|c| {
            let body = match c.headers.get("content-encoding").map(|v| v.as_bytes()) {
                Some(b"gzip") => {
                    let mut out = Vec::new();
                    flate2::read::MultiGzDecoder::new(&c.body[..])
                        .read_to_end(&mut out)
                        .unwrap();
                    out
                }
                _ => c.body.to_vec(),
            };
            ExportMetricsServiceRequest::decode(&body[..]).expect("OTLP metrics request")
        })
        .collect()
}

/// The metrics requests the file exporter wrote (OTLP/JSON lines), as JSON.
fn file_metric_requests(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("resourceMetrics").is_some())
        .collect()
}

/// The same counter in a file exporter line.
fn file_events(v: &serde_json::Value, outcome: &str) -> Option<f64> {
    let has = |p: &serde_json::Value, k: &str, want: &str| {
        p["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["key"] == k && a["value"]["stringValue"] == want)
    };
    v["resourceMetrics"]
        .as_array()?
        .iter()
        .flat_map(|r| r["scopeMetrics"].as_array().into_iter().flatten())
        .flat_map(|s| s["metrics"].as_array().into_iter().flatten())
        .filter(|m| m["name"] == "slotel_slo_events_total")
        .flat_map(|m| m["sum"]["dataPoints"].as_array().into_iter().flatten())
        .filter(|p| {
            has(p, "slo", "availability")
                && has(p, "cluster", "seoul")
                && has(p, "outcome", outcome)
        })
        .max_by_key(|p| {
            p["timeUnixNano"]
                .as_str()
                .and_then(|t| t.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .and_then(|p| p["asDouble"].as_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_export_at_shutdown_counts_every_acknowledged_span() {
    let dir = tempfile::tempdir().unwrap();
    let (backend, seen) = recording_backend().await;
    // No periodic export after the first (at start, before any span): what the
    // exporters hold at the end was written at shutdown.
    let running = start(dir.path(), backend, "1h").await;
    send(&running, 40, 7).await;
    send(&running, 10, 3).await;
    // Shut down at once: the spans were acknowledged when queued, and may not be counted
    // yet; the last export waits for them.
    // The engine reads spans; its own series are not read back as metric points.
    let recorded_points = metric_sum(
        &running.metrics().encode(),
        "slotel_exporter_sent_items_total",
        &["exporter=\"slo\"", "signal=\"metrics\""],
    );
    running.shutdown().await.expect("shutdown");
    assert_eq!(recorded_points, 0.0);

    let requests = metric_requests(&seen.lock().unwrap());
    let last = requests
        .iter()
        .rev()
        .find(|r| events(r, "good").is_some())
        .expect("the SLO series reached the otlphttp exporter");
    assert_eq!(events(last, "good"), Some(50.0));
    assert_eq!(events(last, "bad"), Some(10.0));

    let lines = file_metric_requests(&dir.path().join("out.jsonl"));
    let last = lines
        .iter()
        .rev()
        .find(|v| file_events(v, "good").is_some())
        .expect("the SLO series reached the file exporter");
    assert_eq!(file_events(last, "good"), Some(50.0));
    assert_eq!(file_events(last, "bad"), Some(10.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slo_series_are_exported_every_interval() {
    let dir = tempfile::tempdir().unwrap();
    let (backend, seen) = recording_backend().await;
    let running = start(dir.path(), backend, "200ms").await;
    send(&running, 20, 5).await;
    eventually(
        "the counts reach the otlphttp exporter while running",
        || {
            metric_requests(&seen.lock().unwrap())
                .iter()
                .any(|r| events(r, "good") == Some(20.0) && events(r, "bad") == Some(5.0))
        },
    )
    .await;
    running.shutdown().await.expect("shutdown");
}
