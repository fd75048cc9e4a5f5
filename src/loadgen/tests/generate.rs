//! Content generation: determinism per seed, exact item counts, realistic shape and size,
//! and both encodings.

use std::collections::BTreeSet;

use fastrand::Rng;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message as _;

use crate::loadgen::generate::{latency_ns, logs, metrics, traces};
use crate::loadgen::{ContentOpts, Payload};
use crate::signal::Signal;

fn opts() -> ContentOpts {
    ContentOpts {
        now_unix_nano: 1_750_000_000_000_000_000,
        ..ContentOpts::default()
    }
}

const SIGNALS: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

fn attr<'a>(
    attributes: &'a [opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()
}

fn spans(req: &ExportTraceServiceRequest) -> impl Iterator<Item = &Span> {
    let scopes = req.resource_spans.iter().flat_map(|r| &r.scope_spans);
    scopes.flat_map(|s| &s.spans)
}

fn log_records(req: &ExportLogsServiceRequest) -> impl Iterator<Item = &LogRecord> {
    let scopes = req.resource_logs.iter().flat_map(|r| &r.scope_logs);
    scopes.flat_map(|s| &s.log_records)
}

#[test]
fn generation_is_deterministic_per_seed() {
    for signal in SIGNALS {
        let a = Payload::generate(signal, &mut Rng::with_seed(7), 300, &opts());
        let b = Payload::generate(signal, &mut Rng::with_seed(7), 300, &opts());
        let c = Payload::generate(signal, &mut Rng::with_seed(8), 300, &opts());
        assert!(a == b, "{signal:?}: same seed, different content");
        assert!(a != c, "{signal:?}: different seeds, same content");
        assert_eq!(a.encode_protobuf(), b.encode_protobuf());
    }
}

#[test]
fn counts_match_requested_items() {
    for signal in SIGNALS {
        for n in [1, 2, 3, 7, 100, 512, 1000] {
            let payload = Payload::generate(signal, &mut Rng::with_seed(n as u64), n, &opts());
            assert_eq!(payload.items(), n, "{signal:?} {n}");
        }
    }
}

#[test]
fn ids_have_valid_lengths() {
    let req = traces(&mut Rng::with_seed(1), 2000, &opts());
    let mut server_ids = BTreeSet::new();
    for span in spans(&req) {
        assert_eq!(span.trace_id.len(), 16);
        assert_eq!(span.span_id.len(), 8);
        assert!(span.parent_span_id.is_empty() || span.parent_span_id.len() == 8);
        assert!(span.trace_id.iter().any(|b| *b != 0) && span.span_id.iter().any(|b| *b != 0));
        assert!(span.start_time_unix_nano <= span.end_time_unix_nano);
        if span.kind == SpanKind::Server as i32 {
            assert!(server_ids.insert(span.span_id.clone()), "duplicate span id");
        }
    }
    let logs = logs(&mut Rng::with_seed(1), 500, &opts());
    let mut with_trace = 0;
    for record in log_records(&logs) {
        if !record.trace_id.is_empty() {
            with_trace += 1;
            assert_eq!((record.trace_id.len(), record.span_id.len()), (16, 8));
        }
    }
    assert!((200..400).contains(&with_trace), "{with_trace}");
}

#[test]
fn server_spans_have_about_eight_attributes_and_client_children() {
    let req = traces(&mut Rng::with_seed(3), 1000, &opts());
    let (mut servers, mut clients) = (0, 0);
    for span in spans(&req) {
        if span.kind == SpanKind::Server as i32 {
            servers += 1;
            assert_eq!(span.attributes.len(), 8);
            for key in [
                "http.request.method",
                "http.route",
                "url.path",
                "http.response.status_code",
                "server.address",
            ] {
                assert!(attr(&span.attributes, key).is_some(), "{key}");
            }
        } else {
            clients += 1;
            assert_eq!(span.kind, SpanKind::Client as i32);
            assert!(!span.parent_span_id.is_empty());
        }
    }
    assert!(clients > 100 && servers > 600, "{servers} {clients}");
}

#[test]
fn resources_are_grouped_by_cluster_and_service() {
    let req = traces(&mut Rng::with_seed(4), 2000, &opts());
    let mut seen = BTreeSet::new();
    for rs in &req.resource_spans {
        let attributes = &rs.resource.as_ref().unwrap().attributes;
        let keys: Vec<&str> = attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "service.name",
                "service.version",
                "k8s.cluster.name",
                "k8s.namespace.name",
                "k8s.pod.name"
            ]
        );
        let text = |k| match attr(attributes, k) {
            Some(Value::StringValue(s)) => s.clone(),
            other => panic!("{k}: {other:?}"),
        };
        assert!(
            seen.insert((text("k8s.cluster.name"), text("service.name"))),
            "group repeated"
        );
    }
    assert_eq!(seen.len(), 15);
    assert!(
        seen.iter()
            .all(|(c, _)| ["cluster-0", "cluster-1", "cluster-2"].contains(&c.as_str()))
    );
}

#[test]
fn encoded_span_size_is_realistic() {
    let req = traces(&mut Rng::with_seed(5), 512, &opts());
    let per_span = req.encoded_len() / 512;
    assert!((250..=500).contains(&per_span), "{per_span} bytes per span");
}

#[test]
fn error_ratio_holds_over_100k_spans() {
    let mut rng = Rng::with_seed(6);
    let (mut servers, mut errors) = (0u64, 0u64);
    for _ in 0..100 {
        let req = traces(&mut rng, 1000, &opts());
        for span in spans(&req) {
            if span.kind != SpanKind::Server as i32 {
                continue;
            }
            servers += 1;
            let Some(Value::IntValue(code)) = attr(&span.attributes, "http.response.status_code")
            else {
                panic!()
            };
            let error = span.status.as_ref().unwrap().code == StatusCode::Error as i32;
            assert_eq!(error, *code >= 500, "status ERROR exactly for 5xx");
            errors += u64::from(error);
        }
    }
    let ratio = errors as f64 / servers as f64;
    assert!(
        (ratio - 0.01).abs() < 0.0015,
        "error ratio {ratio} over {servers} server spans"
    );
}

#[test]
fn latency_median_is_near_p50_with_a_tail() {
    let mut rng = Rng::with_seed(9);
    let mut samples: Vec<u64> = (0..20_000).map(|_| latency_ns(&mut rng, 40.0)).collect();
    samples.sort_unstable();
    let (p50, p99) = (samples[10_000] as f64 / 1e6, samples[19_800] as f64 / 1e6);
    assert!((36.0..44.0).contains(&p50), "p50 {p50} ms");
    assert!(p99 > 3.0 * 40.0, "p99 {p99} ms");
}

#[test]
fn log_bodies_parse_as_json_and_carry_pii() {
    let req = logs(&mut Rng::with_seed(10), 2000, &opts());
    let mut emails = 0;
    for record in log_records(&req) {
        let Some(Value::StringValue(body)) = record.body.as_ref().and_then(|b| b.value.as_ref())
        else {
            panic!()
        };
        let json: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(
            json["level"].as_str().unwrap().to_ascii_uppercase(),
            record.severity_text
        );
        assert!(json["msg"].is_string());
        emails += usize::from(body.contains("@example"));
    }
    assert!(emails > 100, "{emails}");
}

#[test]
fn metrics_are_consistent_cumulative_histograms_sums_and_gauges() {
    let req = metrics(&mut Rng::with_seed(11), 1000, &opts());
    let mut kinds = BTreeSet::new();
    for metric in req
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
    {
        match metric.data.as_ref().unwrap() {
            Data::Histogram(h) => {
                assert_eq!(metric.name, "http.server.request.duration");
                for p in &h.data_points {
                    assert_eq!(p.bucket_counts.len(), p.explicit_bounds.len() + 1);
                    assert_eq!(p.bucket_counts.iter().sum::<u64>(), p.count);
                    assert!(p.start_time_unix_nano < p.time_unix_nano);
                }
                kinds.insert("histogram");
            }
            Data::Sum(s) => {
                assert!(s.is_monotonic);
                kinds.insert("sum");
            }
            Data::Gauge(_) => _ = kinds.insert("gauge"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(kinds.len(), 3);
}

#[test]
fn json_encoding_round_trips() {
    for signal in SIGNALS {
        let payload = Payload::generate(signal, &mut Rng::with_seed(12), 50, &opts());
        let json = payload.encode_json().unwrap();
        let back = match signal {
            Signal::Traces => Payload::Traces(serde_json::from_slice(&json).unwrap()),
            Signal::Metrics => Payload::Metrics(serde_json::from_slice(&json).unwrap()),
            Signal::Logs => Payload::Logs(serde_json::from_slice(&json).unwrap()),
        };
        assert_eq!(back.items(), 50);
        // serde_json parses floats to within one ulp (no `float_roundtrip`), so metric
        // values may differ in the last bit; everything else must survive exactly.
        if signal != Signal::Metrics {
            assert!(back == payload, "{signal:?} changed in a json round trip");
        }
    }
}
