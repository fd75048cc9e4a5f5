//! Real clients: the Rust OpenTelemetry SDK with the `opentelemetry-otlp` exporters (gRPC
//! with gzip, HTTP/protobuf) sends traces, metrics and logs; what slotel counts on
//! `/metrics` and what its file exporter writes equal what was sent.

mod common;

use std::time::Duration;

use common::*;
use opentelemetry::KeyValue;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{Compression, Protocol, WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;

const SPANS: usize = 137;
const LOGS: usize = 41;
/// 3 counter series + 2 histogram series + 1 gauge series, exported once at shutdown.
const POINTS: usize = 6;

#[derive(Clone, Copy, Debug)]
enum Transport {
    GrpcGzip,
    HttpProtobuf,
}

fn resource(cluster: &str) -> Resource {
    Resource::builder()
        .with_service_name("checkout")
        .with_attribute(KeyValue::new("k8s.cluster.name", cluster.to_string()))
        .build()
}

/// Runs the SDK on a blocking thread (its processors block) and exports everything.
fn send_with_sdk(transport: Transport, grpc: String, http: String) {
    let cluster = "busan-prod";
    let span_exporter = match transport {
        Transport::GrpcGzip => opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(grpc.clone())
            .with_compression(Compression::Gzip)
            .build(),
        Transport::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{http}/v1/traces"))
            .build(),
    }
    .unwrap();
    let tracer_provider = SdkTracerProvider::builder()
        .with_batch_exporter(span_exporter)
        .with_resource(resource(cluster))
        .build();
    let tracer = tracer_provider.tracer("slotel-test");
    for i in 0..SPANS {
        let mut span = tracer.start(format!("GET /api/item/{}", i % 7));
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            200 + (i % 2) as i64 * 300,
        ));
        span.set_attribute(KeyValue::new("http.route", "/api/item/{id}"));
        span.end();
    }
    tracer_provider.force_flush().unwrap();
    tracer_provider.shutdown().unwrap();

    let metric_exporter = match transport {
        Transport::GrpcGzip => opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(grpc.clone())
            .with_compression(Compression::Gzip)
            .build(),
        Transport::HttpProtobuf => opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{http}/v1/metrics"))
            .build(),
    }
    .unwrap();
    let reader = PeriodicReader::builder(metric_exporter)
        .with_interval(Duration::from_secs(3600))
        .build();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(reader)
        .with_resource(resource(cluster))
        .build();
    let meter = meter_provider.meter("slotel-test");
    let counter = meter.u64_counter("requests").build();
    for route in ["/a", "/b", "/c"] {
        counter.add(3, &[KeyValue::new("http.route", route)]);
    }
    let hist = meter.f64_histogram("latency").with_unit("s").build();
    for (i, code) in [200i64, 500].into_iter().enumerate() {
        hist.record(0.01 * (i + 1) as f64, &[KeyValue::new("code", code)]);
    }
    let gauge = meter.i64_gauge("queue_depth").build();
    gauge.record(17, &[]);
    // Shutdown collects and exports exactly once.
    meter_provider.shutdown().unwrap();

    let log_exporter = match transport {
        Transport::GrpcGzip => opentelemetry_otlp::LogExporter::builder()
            .with_tonic()
            .with_endpoint(grpc)
            .with_compression(Compression::Gzip)
            .build(),
        Transport::HttpProtobuf => opentelemetry_otlp::LogExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{http}/v1/logs"))
            .build(),
    }
    .unwrap();
    let logger_provider = SdkLoggerProvider::builder()
        .with_batch_exporter(log_exporter)
        .with_resource(resource(cluster))
        .build();
    let logger = logger_provider.logger("slotel-test");
    for i in 0..LOGS {
        let mut rec = logger.create_log_record();
        rec.set_severity_number(Severity::Info);
        rec.set_body(AnyValue::from(format!(
            r#"{{"msg":"payment accepted","order":{i},"user":{{"email":"kim@example.com"}}}}"#
        )));
        rec.add_attribute("order.id", i as i64);
        logger.emit(rec);
    }
    logger_provider.force_flush().unwrap();
    logger_provider.shutdown().unwrap();
}

async fn sdk_round_trip(transport: Transport) {
    let s = start().await;
    let grpc = format!("http://{}", s.grpc);
    let http = format!("http://{}", s.http);
    tokio::task::spawn_blocking(move || send_with_sdk(transport, grpc, http))
        .await
        .unwrap();

    let protocol = match transport {
        Transport::GrpcGzip => "protocol=\"grpc\"",
        Transport::HttpProtobuf => "protocol=\"http\"",
    };
    assert_eq!(
        s.metric("slotel_receiver_accepted_spans_total", &[protocol]) as usize,
        SPANS
    );
    assert_eq!(
        s.metric("slotel_receiver_accepted_metric_points_total", &[protocol]) as usize,
        POINTS
    );
    assert_eq!(
        s.metric("slotel_receiver_accepted_log_records_total", &[protocol]) as usize,
        LOGS
    );
    assert_eq!(s.metric("slotel_receiver_refused_spans_total", &[]), 0.0);

    let out = s.out.clone().unwrap();
    s.running.shutdown().await.unwrap();
    let written = count_file(&out);
    assert_eq!(
        written,
        Counts {
            spans: SPANS,
            points: POINTS,
            logs: LOGS
        }
    );

    // Content survives the trip: names, attribute values, ids, bodies.
    let text = std::fs::read_to_string(&out).unwrap();
    let mut names = std::collections::BTreeSet::new();
    let mut errors = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for rs in v["resourceSpans"].as_array().into_iter().flatten() {
            for span in rs["scopeSpans"][0]["spans"]
                .as_array()
                .into_iter()
                .flatten()
            {
                names.insert(span["name"].as_str().unwrap().to_string());
                assert_eq!(span["traceId"].as_str().unwrap().len(), 32);
                assert_eq!(span["spanId"].as_str().unwrap().len(), 16);
                for a in span["attributes"].as_array().unwrap() {
                    if a["key"] == "http.response.status_code" && a["value"]["intValue"] == "500" {
                        errors += 1;
                    }
                }
            }
        }
        for rl in v["resourceLogs"].as_array().into_iter().flatten() {
            for rec in rl["scopeLogs"][0]["logRecords"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let body = rec["body"]["stringValue"].as_str().unwrap();
                let parsed: serde_json::Value = serde_json::from_str(body).unwrap();
                assert_eq!(parsed["msg"], "payment accepted");
            }
        }
    }
    assert_eq!(names.len(), 7);
    assert_eq!(errors, SPANS / 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_over_grpc_with_gzip() {
    sdk_round_trip(Transport::GrpcGzip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_over_http_protobuf() {
    sdk_round_trip(Transport::HttpProtobuf).await;
}
