//! Forwarding compressed requests: a request that arrived compressed with the algorithm an
//! OTLP exporter uses, and that nothing changed on the way, leaves as the very bytes the
//! client sent (no second compression); anything else is compressed by the exporter.
//!
//! The backend here is a plain HTTP/1.1 + HTTP/2 server that records every request's
//! path, headers and body and answers as an OTLP backend would.

mod common;

use std::io::Read as _;
use std::net::SocketAddr;

use bytes::Bytes;
use common::backend::{Captured, recording_backend, wait_for};
use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use slotel::app;
use slotel::attr::kv;
use slotel::config::{SystemLookup, parse};

/// Starts slotel with an `otlp` and an `otlphttp` exporter (both gzip, the default) to
/// `backend`, and optionally the redaction processor.
async fn start(backend: SocketAddr, redaction: bool) -> (app::Running, SocketAddr, SocketAddr) {
    let processors = if redaction {
        "processors:\n  redaction: {}\n"
    } else {
        ""
    };
    let yaml = format!(
        "receivers:\n  otlp:\n    protocols:\n      grpc: {{endpoint: 127.0.0.1:0}}\n      http: {{endpoint: 127.0.0.1:0}}\n\
         {processors}\
         exporters:\n  otlp/tempo: {{endpoint: \"http://{backend}\"}}\n  otlphttp/other: {{endpoint: \"http://{backend}\"}}\n\
         service:\n  admin: {{endpoint: 127.0.0.1:0}}\n  telemetry: {{logs: {{level: warn}}}}\n"
    );
    let cfg = parse(&yaml, "forwarding-test", &SystemLookup).expect("config");
    let running = app::start_with(&cfg, Vec::new()).await.expect("start");
    let a = running.addresses;
    (running, a.grpc.unwrap(), a.http.unwrap())
}

fn request(email: &str) -> ExportTraceServiceRequest {
    let now = now_unix_nanos();
    let mut req = spans_request(&[TestSpan {
        cluster: "seoul",
        service: "checkout",
        route: "/cart",
        end_unix_nanos: now,
        duration_nanos: 5_000_000,
        status_code: 0,
    }]);
    let span = &mut req.resource_spans[0].scope_spans[0].spans[0];
    span.attributes.push(kv("user.contact", email));
    req
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The message of a one-message gRPC body, with its compressed flag.
fn grpc_message(body: &Bytes) -> (bool, Bytes) {
    assert!(body.len() >= 5, "gRPC body too short: {body:?}");
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    assert_eq!(body.len(), 5 + len, "one gRPC message");
    (body[0] == 1, body.slice(5..))
}

/// The gzip body of a forwarded request: the gRPC message (flagged compressed) or the
/// OTLP/HTTP body, each with its encoding header.
fn gzip_body(c: &Captured) -> Bytes {
    if c.path.contains("Service/Export") {
        assert_eq!(c.headers.get("grpc-encoding").unwrap(), "gzip");
        let (compressed, msg) = grpc_message(&c.body);
        assert!(compressed, "the gRPC message is flagged compressed");
        msg
    } else {
        assert_eq!(c.path, "/v1/traces");
        assert_eq!(c.headers.get("content-encoding").unwrap(), "gzip");
        c.body.clone()
    }
}

/// Checks what the backend got for one client request: one gRPC and one HTTP request whose
/// gzip bodies decompress to `plain`; `same` says whether both must be `sent` byte for byte.
fn check(got: &[Captured], plain: &[u8], sent: &[u8], same: bool) {
    assert_eq!(got.len(), 2, "one request per exporter: {got:?}");
    for c in got {
        let body = gzip_body(c);
        assert_eq!(
            gunzip(&body),
            plain,
            "{} decompresses to the request",
            c.path
        );
        assert_eq!(
            &body[..] == sent,
            same,
            "{} forwarded as sent: {same}",
            c.path
        );
    }
}

#[tokio::test]
async fn gzip_requests_are_forwarded_as_the_client_compressed_them() {
    let (addr, seen) = recording_backend().await;
    let (running, grpc, http) = start(addr, false).await;
    let plain = request("nobody").encode_to_vec();
    let gz = gzip_best(&plain);

    // gRPC, gzip: the client's compressed message goes out to both exporters.
    let r = grpc_send(grpc, GRPC_TRACES, &[], &gz, Some("gzip")).await;
    assert_eq!(r.code, 0, "{}", r.message);
    check(&wait_for(&seen, 2).await, &plain, &gz, true);

    // OTLP/HTTP, gzip: the same.
    let r = http_send(
        "POST",
        &format!("http://{http}/v1/traces"),
        &[
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "gzip"),
        ],
        gz.clone(),
    )
    .await;
    assert_eq!(r.status, 200);
    check(&wait_for(&seen, 2).await, &plain, &gz, true);

    // Uncompressed and zstd requests are compressed by the exporters with gzip.
    let r = grpc_send(grpc, GRPC_TRACES, &[], &plain, None).await;
    assert_eq!(r.code, 0, "{}", r.message);
    check(&wait_for(&seen, 2).await, &plain, &gz, false);
    let zs = zstd::encode_all(&plain[..], 3).unwrap();
    let r = grpc_send(grpc, GRPC_TRACES, &[], &zs, Some("zstd")).await;
    assert_eq!(r.code, 0, "{}", r.message);
    check(&wait_for(&seen, 2).await, &plain, &gz, false);

    let text = common::scrape_metrics(running.addresses.admin).await;
    running.shutdown().await.unwrap();
    for exporter in ["otlp/tempo", "otlphttp/other"] {
        let label = format!("exporter=\"{exporter}\"");
        assert_eq!(
            metric_sum(&text, "slotel_exporter_delivered_items_total", &[&label]),
            4.0,
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_redacted_request_is_compressed_again_not_forwarded() {
    let (addr, seen) = recording_backend().await;
    let (running, grpc, _http) = start(addr, true).await;
    let plain = request("kim.minsu@example.co.kr").encode_to_vec();
    let gz = gzip_best(&plain);
    let r = grpc_send(grpc, GRPC_TRACES, &[], &gz, Some("gzip")).await;
    assert_eq!(r.code, 0, "{}", r.message);
    let got = wait_for(&seen, 2).await;
    running.shutdown().await.unwrap();
    assert_eq!(got.len(), 2);
    for c in &got {
        let body = gzip_body(c);
        assert_ne!(
            &body[..],
            &gz[..],
            "{}: the client's bytes held PII",
            c.path
        );
        let req = ExportTraceServiceRequest::decode(&gunzip(&body)[..]).unwrap();
        let text = format!("{req:?}");
        assert!(!text.contains("kim.minsu@example.co.kr"), "{text}");
        assert!(text.contains("[REDACTED:email]"), "{text}");
    }
}
