//! In-process OTLP stub servers: OTLP/HTTP over HTTP/1.1 and OTLP/gRPC over h2c. They
//! decode every trace request, count its spans and bearer-authorized requests, and answer
//! with one rejected span as partial success (or a fixed HTTP status).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;

use crate::loadgen::LoadgenArgs;
use crate::loadgen::generate::count_spans;
use crate::loadgen::pool::decompress;
use crate::signal::{Compression, Protocol};

/// What a stub server saw.
#[derive(Default)]
pub(super) struct Seen {
    pub(super) items: AtomicU64,
    pub(super) authorized: AtomicU64,
}

/// Starts an OTLP stub: gRPC (h2c) or HTTP/1.1; answers `status` (HTTP) and reports one
/// rejected item per request as partial success.
pub(super) async fn stub(grpc: bool, status: u16) -> (SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let shared = Arc::clone(&seen);
    let addr = crate::test_serve::serve(move |req: http::Request<hyper::body::Incoming>| {
        let seen = Arc::clone(&shared);
        async move { answer(req, &seen, grpc, status).await }
    })
    .await;
    (addr, seen)
}

type StubBody = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;

async fn answer(
    req: http::Request<hyper::body::Incoming>,
    seen: &Seen,
    grpc: bool,
    status: u16,
) -> http::Response<StubBody> {
    let (parts, body) = req.into_parts();
    if parts
        .headers
        .get("authorization")
        .is_some_and(|v| v == "Bearer t0k")
    {
        seen.authorized.fetch_add(1, Ordering::Relaxed);
    }
    let body = body.collect().await.unwrap().to_bytes();
    let encoding = if grpc {
        parts.headers.get("grpc-encoding")
    } else {
        parts.headers.get("content-encoding")
    };
    let compression = match encoding.map(|v| v.to_str().unwrap()) {
        Some("gzip") => Compression::Gzip,
        Some("zstd") => Compression::Zstd,
        _ => Compression::None,
    };
    let message = if grpc { &body[5..] } else { &body[..] };
    let raw = decompress(message, compression).unwrap();
    let json = parts
        .headers
        .get("content-type")
        .is_some_and(|v| v == "application/json");
    let request: ExportTraceServiceRequest = if json {
        serde_json::from_slice(&raw).unwrap()
    } else {
        ExportTraceServiceRequest::decode(&raw[..]).unwrap()
    };
    seen.items
        .fetch_add(count_spans(&request) as u64, Ordering::Relaxed);
    let response = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 1,
            error_message: "one bad span".into(),
        }),
    }
    .encode_to_vec();
    if grpc {
        let mut frame = vec![0u8];
        frame.extend_from_slice(&(response.len() as u32).to_be_bytes());
        frame.extend_from_slice(&response);
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
        let body = Full::new(Bytes::from(frame))
            .with_trailers(async move { Some(Ok(trailers)) })
            .boxed();
        return http::Response::builder()
            .header("content-type", "application/grpc")
            .body(body)
            .unwrap();
    }
    let body = if status == 200 {
        Bytes::from(response)
    } else {
        Bytes::from_static(b"busy")
    };
    http::Response::builder()
        .status(status)
        .header("content-type", "application/x-protobuf")
        .body(Full::new(body).boxed())
        .unwrap()
}

pub(super) fn stub_args(addr: SocketAddr, protocol: Protocol) -> LoadgenArgs {
    LoadgenArgs {
        protocol,
        endpoint: Some(addr.to_string()),
        items: Some(5_000),
        items_per_request: 500,
        concurrency: 3,
        token: Some("t0k".into()),
        ..LoadgenArgs::default()
    }
}
