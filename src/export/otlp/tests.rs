use std::io::Read as _;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsPartialSuccess;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest,
};
use opentelemetry_proto::tonic::trace::v1::Span;

use super::http::compress;
use super::*;
use crate::config::{ClientConfig, OtlpExporterConfig};
use crate::export::delivery::Remote;
use crate::export::retry::Outcome;
use crate::pipeline::RequestContext;
use crate::signal::Compression;

fn client(endpoint: &str) -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_secs(2),
        ..ClientConfig::new(endpoint)
    }
}

fn otlp_config(endpoint: &str, compression: Compression) -> OtlpExporterConfig {
    OtlpExporterConfig {
        client: client(endpoint),
        compression,
        traces_endpoint: None,
        metrics_endpoint: None,
        logs_endpoint: None,
    }
}

fn traces(n: usize) -> ExportTraceServiceRequest {
    let spans = (0..n)
        .map(|i| Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            name: format!("span {i}"),
            start_time_unix_nano: 1_000,
            end_time_unix_nano: 2_000,
            ..Default::default()
        })
        .collect();
    crate::test_otlp::traces_request(vec![], spans)
}

fn batch(req: ExportTraceServiceRequest, tenant: Option<&str>) -> Batch {
    let items = req
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    let ctx = RequestContext {
        tenant: tenant.map(Arc::from),
        ..Default::default()
    };
    Batch::new(ctx, Payload::Traces(req), items, 0)
}

#[test]
fn signal_urls_append_the_signal_path_once() {
    let url = |e: &str, r| {
        signal_url(e, None, r)
            .map(|u| u.to_string())
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        url("http://tempo:4318", Route::Traces).as_deref(),
        Ok("http://tempo:4318/v1/traces")
    );
    assert_eq!(
        url("http://tempo:4318/", Route::Logs).as_deref(),
        Ok("http://tempo:4318/v1/logs")
    );
    assert_eq!(
        url("https://mimir.example/otlp", Route::Metrics).as_deref(),
        Ok("https://mimir.example/otlp/v1/metrics")
    );
    assert_eq!(
        url("https://mimir.example/otlp//", Route::Metrics).as_deref(),
        Ok("https://mimir.example/otlp/v1/metrics")
    );
    // A per-signal endpoint is used exactly as written.
    let own = signal_url(
        "http://x:4318",
        Some("http://loki:3100/otlp/v1/logs"),
        Route::Logs,
    );
    assert_eq!(
        own.map(|u| u.to_string())
            .map_err(|e| e.to_string())
            .as_deref(),
        Ok("http://loki:3100/otlp/v1/logs")
    );
}

#[test]
fn a_batch_becomes_one_record_with_its_tenant_and_route() {
    let req = traces(3);
    let rec = encode_batch(&batch(req.clone(), Some("team-a")));
    assert_eq!(rec.tenant.as_deref(), Some("team-a"));
    assert_eq!(rec.items, 3);
    assert_eq!(Route::of(rec.route), Some(Route::Traces));
    assert_eq!(
        ExportTraceServiceRequest::decode(rec.body.as_ref()).ok(),
        Some(req)
    );
    assert_eq!(encode_batch(&batch(traces(1), None)).tenant, None);
}

#[test]
fn routes_ignore_the_compressed_flag_and_refuse_unknown_values() {
    assert_eq!(Route::of(2 | COMPRESSED), Some(Route::Logs));
    assert_eq!(Route::of(1), Some(Route::Metrics));
    assert_eq!(Route::of(3), None);
    assert_eq!(Route::of(0x7f), None);
}

#[test]
fn partial_success_is_read_from_export_responses() {
    let body = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 7,
            error_message: "too old".to_string(),
        }),
    }
    .encode_to_vec();
    assert_eq!(
        partial_success(Route::Traces, &body),
        Some(Partial {
            rejected: 7,
            message: "too old".to_string()
        })
    );
    let logs = ExportLogsServiceResponse {
        partial_success: Some(ExportLogsPartialSuccess {
            rejected_log_records: 2,
            error_message: String::new(),
        }),
    }
    .encode_to_vec();
    assert_eq!(
        partial_success(Route::Logs, &logs).map(|p| p.rejected),
        Some(2)
    );
    // Full success, an empty body, or something that is not a response: nothing to count.
    let ok = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess::default()),
    }
    .encode_to_vec();
    assert_eq!(partial_success(Route::Traces, &ok), None);
    assert_eq!(partial_success(Route::Traces, b""), None);
    assert_eq!(
        partial_success(Route::Traces, b"{\"partialSuccess\": {}}\xff\xff"),
        None
    );
}

#[test]
fn partial_successes_are_counted_per_exporter() {
    let metrics = crate::telemetry::Metrics::new();
    let report = PartialReport::new("otlp/x", metrics.clone());
    for _ in 0..3 {
        report.report(
            Route::Traces,
            &Partial {
                rejected: 5,
                message: "m".to_string(),
            },
        );
    }
    let labels = QueueLabels {
        exporter: "otlp/x".to_string(),
    };
    assert_eq!(
        metrics
            .exporters
            .partial_rejected_items
            .get_or_create(&labels)
            .get(),
        15
    );
}

#[test]
fn gzip_and_zstd_bodies_decompress_to_the_request() {
    let body = traces(50).encode_to_vec();
    let gz = compress(Compression::Gzip, &body).unwrap_or_default();
    let mut back = Vec::new();
    let _ = flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back);
    assert_eq!(back, body);
    assert!(gz.len() < body.len());
    let zs = compress(Compression::Zstd, &body).unwrap_or_default();
    assert_eq!(
        zstd::bulk::decompress(&zs, body.len()).ok(),
        Some(body.clone())
    );
    assert_eq!(compress(Compression::None, &body).ok(), Some(body));
}

#[tokio::test]
async fn otlphttp_compresses_when_queueing_to_disk_only() {
    let cfg = otlp_config("http://127.0.0.1:9", Compression::Gzip);
    let m = crate::telemetry::Metrics::new();
    let on_disk = OtlpHttp::new("otlphttp/x", &cfg, true, m.clone()).expect("exporter");
    let in_memory = OtlpHttp::new("otlphttp/x", &cfg, false, m).expect("exporter");
    let b = batch(traces(20), None);
    let plain = in_memory.encode(&b).unwrap_or_default();
    let packed = on_disk.encode(&b).unwrap_or_default();
    assert_eq!(plain.len(), 1);
    assert_eq!(packed.len(), 1);
    assert_eq!(plain[0].route, Route::Traces as u8);
    assert_eq!(packed[0].route, Route::Traces as u8 | COMPRESSED);
    assert_eq!(&packed[0].body[..2], &[0x1f, 0x8b], "a gzip member");
}

#[tokio::test]
async fn a_closed_port_is_retried_not_dropped() {
    // Bind and drop a listener: nothing listens on the port afterwards.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    let endpoint = format!("http://127.0.0.1:{port}");
    let m = crate::telemetry::Metrics::new();
    let rec = encode_batch(&batch(traces(1), Some("t")));
    let grpc = OtlpGrpc::new(
        "otlp/x",
        &otlp_config(&endpoint, Compression::Gzip),
        false,
        m.clone(),
    )
    .expect("exporter");
    assert!(
        matches!(grpc.send(&rec).await, Outcome::Retry { .. }),
        "gRPC"
    );
    let http = OtlpHttp::new(
        "otlphttp/x",
        &otlp_config(&endpoint, Compression::Gzip),
        false,
        m,
    )
    .expect("exporter");
    assert!(
        matches!(http.send(&rec).await, Outcome::Retry { .. }),
        "HTTP"
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_permanent_failure() {
    let m = crate::telemetry::Metrics::new();
    let grpc = OtlpGrpc::new(
        "otlp/x",
        &otlp_config("http://127.0.0.1:9", Compression::None),
        false,
        m,
    )
    .expect("exporter");
    let mut rec = encode_batch(&batch(traces(1), None));
    rec.route = 9;
    assert!(matches!(grpc.send(&rec).await, Outcome::Permanent { .. }));
}

#[test]
fn unchanged_batches_forward_the_received_bytes() {
    let req = ExportTraceServiceRequest::default();
    let received = Bytes::from_static(b"\x0a\x00as received");
    let mut b = batch(req, None).with_raw(Some(crate::pipeline::Raw::plain(received.clone())));
    assert_eq!(encode_batch(&b).body, received);
    b.payload_mut();
    assert_eq!(
        encode_batch(&b).body,
        Bytes::new(),
        "an empty request encodes to nothing"
    );
}

#[test]
fn compressed_requests_are_queued_as_received_when_the_compression_matches() {
    let req = traces(3);
    let body = Bytes::from(req.encode_to_vec());
    let gzipped = Bytes::from(compress(Compression::Gzip, &body).expect("gzip"));
    let mut b = batch(req, None).with_raw(Some(crate::pipeline::Raw {
        body: body.clone(),
        wire: Some(crate::pipeline::Wire {
            compression: Compression::Gzip,
            body: gzipped.clone(),
        }),
    }));
    // Same algorithm: the client's bytes, marked as compressed, whether or not the queue
    // compresses.
    for on_queue in [false, true] {
        let rec = encode_record(&b, Compression::Gzip, on_queue).expect("record");
        assert_eq!(rec.body, gzipped);
        assert_eq!(Route::of(rec.route), Some(Route::Traces));
        assert_ne!(rec.route & COMPRESSED, 0);
    }
    // Another algorithm or none: the decompressed bytes, compressed by the exporter.
    let rec = encode_record(&b, Compression::None, false).expect("record");
    assert_eq!((rec.body, rec.route & COMPRESSED), (body.clone(), 0));
    let rec = encode_record(&b, Compression::Zstd, false).expect("record");
    assert_eq!((rec.body, rec.route & COMPRESSED), (body.clone(), 0));
    let rec = encode_record(&b, Compression::Zstd, true).expect("record");
    assert_ne!(rec.route & COMPRESSED, 0);
    assert_eq!(
        zstd::decode_all(&rec.body[..]).expect("zstd"),
        body.to_vec()
    );
    // A changed batch is encoded again.
    b.payload_mut();
    let rec = encode_record(&b, Compression::Gzip, false).expect("record");
    assert_eq!((rec.body, rec.route & COMPRESSED), (body, 0));
}

/// Redaction changes a batch through the only door to its payload, which drops the bytes
/// as received: whatever the exporter's compression, what it sends is the redacted
/// payload, never the client's original (plain or compressed).
#[test]
fn a_redacted_batch_is_never_forwarded_as_received() {
    use opentelemetry_proto::tonic::logs::v1::LogRecord;

    use crate::attr::AttrValue;

    use crate::config::RedactionConfig;
    use crate::pipeline::{Processor, Raw, Wire};
    use crate::redact::{RedactionProcessor, Redactor};

    let email = "kim.minsu@example.co.kr";
    let req = crate::test_otlp::logs_request(
        vec![],
        vec![LogRecord {
            body: Some(format!("mail {email}").into_any_value()),
            ..Default::default()
        }],
    );
    let body = Bytes::from(req.encode_to_vec());
    let gzipped = Bytes::from(compress(Compression::Gzip, &body).expect("gzip"));
    let received = Raw {
        body: body.clone(),
        wire: Some(Wire {
            compression: Compression::Gzip,
            body: gzipped.clone(),
        }),
    };
    let mut b = Batch::new(RequestContext::default(), Payload::Logs(req), 1, body.len())
        .with_raw(Some(received));
    let redactor = Redactor::new(&RedactionConfig::default()).expect("redactor");
    RedactionProcessor::new(Arc::new(redactor), crate::telemetry::Metrics::new()).process(&mut b);

    assert!(
        b.raw().is_none(),
        "the received bytes outlived the redaction"
    );
    let Payload::Logs(redacted) = b.payload() else {
        panic!("the payload changed signal");
    };
    let expected = Bytes::from(redacted.encode_to_vec());
    assert!(!expected.windows(email.len()).any(|w| w == email.as_bytes()));
    assert_eq!(encode_batch(&b).body, expected);
    for (compression, on_queue) in [
        (Compression::Gzip, false),
        (Compression::Gzip, true),
        (Compression::Zstd, true),
        (Compression::None, false),
    ] {
        let rec = encode_record(&b, compression, on_queue).expect("record");
        assert_ne!(rec.body, gzipped, "{compression:?}");
        assert_ne!(rec.body, body, "{compression:?}");
        let sent = match (rec.route & COMPRESSED != 0, compression) {
            (false, _) => rec.body.to_vec(),
            (true, Compression::Zstd) => zstd::decode_all(&rec.body[..]).expect("zstd"),
            (true, _) => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&rec.body[..])
                    .read_to_end(&mut out)
                    .expect("gzip");
                out
            }
        };
        assert_eq!(
            sent,
            expected.to_vec(),
            "{compression:?} on_queue={on_queue}"
        );
    }
}
