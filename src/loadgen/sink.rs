//! `slotel loadgen --sink`: a cheap OTLP/gRPC traces backend for the end-to-end benchmark
//! of the exporters. It counts the spans of each request by walking the protobuf wire
//! format (no decoding into messages, no allocation per span), answers OK, and serves the
//! count on `GET /metrics` as `slotel_receiver_accepted_spans_total`, so the benchmark
//! reads it as it reads a slotel. Costing a fraction of a real receiver, it leaves the CPU
//! to the server under test.

use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// Serves until the process is stopped.
pub async fn run(listen: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let spans = Arc::new(AtomicU64::new(0));
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let spans = spans.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| handle(req, spans.clone()));
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

type Body = BoxBody<Bytes, Infallible>;

async fn handle(
    req: Request<Incoming>,
    spans: Arc<AtomicU64>,
) -> Result<Response<Body>, Infallible> {
    if req.uri().path() == "/metrics" {
        let text = format!(
            "slotel_receiver_accepted_spans_total {}\n",
            spans.load(Ordering::Relaxed)
        );
        return Ok(Response::new(Full::new(Bytes::from(text)).boxed()));
    }
    let gzip = req
        .headers()
        .get("grpc-encoding")
        .is_some_and(|v| v.as_bytes() == b"gzip");
    let body = req.into_body().collect().await.map(|c| c.to_bytes());
    let status = match body.ok().and_then(|b| count_frames(&b, gzip)) {
        Some(n) => {
            spans.fetch_add(n, Ordering::Relaxed);
            "0"
        }
        None => "3",
    };
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static(status));
    // One empty response message (an ExportTraceServiceResponse with no partial success).
    let body = Full::new(Bytes::from_static(&[0, 0, 0, 0, 0]))
        .with_trailers(async move { Some(Ok(trailers)) })
        .boxed();
    let mut resp = Response::new(body);
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/grpc"));
    Ok(resp)
}

/// Spans in the gRPC frames of a request body; `None` when it is malformed.
fn count_frames(mut body: &[u8], gzip: bool) -> Option<u64> {
    let mut n = 0;
    while !body.is_empty() {
        let (head, rest) = body.split_at_checked(5)?;
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let (msg, rest) = rest.split_at_checked(len)?;
        n += if head[0] == 1 && gzip {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(msg)
                .read_to_end(&mut plain)
                .ok()?;
            count_spans(&plain)?
        } else {
            count_spans(msg)?
        };
        body = rest;
    }
    Some(n)
}

/// Spans of an `ExportTraceServiceRequest`.
fn count_spans(req: &[u8]) -> Option<u64> {
    crate::receiver::wire::count_items(crate::telemetry::Signal::Traces, req)
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::loadgen::{ContentOpts, generate};

    #[test]
    fn counts_spans_without_decoding() {
        let mut rng = fastrand::Rng::with_seed(3);
        let req = generate::traces(&mut rng, 300, &ContentOpts::default());
        let bytes = req.encode_to_vec();
        assert_eq!(count_spans(&bytes), Some(300));
        let mut frame = vec![0u8];
        frame.extend((bytes.len() as u32).to_be_bytes());
        frame.extend(&bytes);
        let two: Vec<u8> = frame.iter().chain(&frame).copied().collect();
        assert_eq!(count_frames(&two, false), Some(600));
        assert_eq!(count_frames(&two[..two.len() - 1], false), None);
        assert_eq!(count_spans(&[0x0a, 0xff]), None);
    }
}
