//! `slotel loadgen --sink`: a cheap OTLP/gRPC traces backend for the end-to-end benchmark
//! of the exporters. It counts the spans of each request by walking the protobuf wire
//! format (no decoding into messages, no allocation per span), answers OK, and serves the
//! count on `GET /metrics` as `slotel_receiver_accepted_spans_total`, so the benchmark
//! reads it as it reads a slotel. Costing a fraction of a real receiver, it leaves the CPU
//! to the server under test. Any other POST (a remote write, a Loki push) is answered
//! `204 No Content` and not counted, so the sink can stand in for every backend at once.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// Span counts of compressed messages already seen, keyed by their bytes. Exporters that
/// forward what the load generator's clients compressed send the same few dozen messages
/// again and again; a lookup (hash and compare) costs a fraction of decompressing, which
/// leaves more of the CPU the sink shares with the load generator. The count is exact: a
/// hit needs the same bytes.
#[derive(Default)]
struct Seen {
    spans: AtomicU64,
    compressed: Mutex<HashMap<Bytes, u64>>,
}

/// Entries kept in [`Seen::compressed`]; it starts over when full.
const SEEN_MESSAGES: usize = 1024;

/// Serves until the process is stopped.
pub async fn run(listen: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let seen = Arc::new(Seen::default());
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let seen = seen.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| handle(req, seen.clone()));
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

type Body = BoxBody<Bytes, Infallible>;

async fn handle(req: Request<Incoming>, seen: Arc<Seen>) -> Result<Response<Body>, Infallible> {
    if req.uri().path() == "/metrics" {
        let text = format!(
            "slotel_receiver_accepted_spans_total {}\n",
            seen.spans.load(Ordering::Relaxed)
        );
        return Ok(Response::new(Full::new(Bytes::from(text)).boxed()));
    }
    let grpc = req
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    if !grpc {
        let _ = req.into_body().collect().await;
        let mut resp = Response::new(Full::new(Bytes::new()).boxed());
        *resp.status_mut() = http::StatusCode::NO_CONTENT;
        return Ok(resp);
    }
    let gzip = req
        .headers()
        .get("grpc-encoding")
        .is_some_and(|v| v.as_bytes() == b"gzip");
    let body = req.into_body().collect().await.map(|c| c.to_bytes());
    let status = match body.ok().and_then(|b| count_frames(&b, gzip, &seen)) {
        Some(n) => {
            seen.spans.fetch_add(n, Ordering::Relaxed);
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
fn count_frames(body: &Bytes, gzip: bool, seen: &Seen) -> Option<u64> {
    let mut n = 0;
    let mut at = 0;
    while at < body.len() {
        let head = body.get(at..at + 5)?;
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let end = (at + 5).checked_add(len)?;
        let msg = body.get(at + 5..end)?;
        n += if head[0] == 1 && gzip {
            count_compressed(body.slice(at + 5..end), seen)?
        } else {
            count_spans(msg)?
        };
        at = end;
    }
    Some(n)
}

fn count_compressed(msg: Bytes, seen: &Seen) -> Option<u64> {
    let cache = |f: &mut dyn FnMut(&mut HashMap<Bytes, u64>)| {
        if let Ok(mut map) = seen.compressed.lock() {
            f(&mut map);
        }
    };
    let mut hit = None;
    cache(&mut |map| hit = map.get(&msg).copied());
    if hit.is_some() {
        return hit;
    }
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&msg[..])
        .read_to_end(&mut plain)
        .ok()?;
    let n = count_spans(&plain)?;
    cache(&mut |map| {
        if map.len() >= SEEN_MESSAGES {
            map.clear();
        }
        map.insert(msg.clone(), n);
    });
    Some(n)
}

/// Spans of an `ExportTraceServiceRequest`.
fn count_spans(req: &[u8]) -> Option<u64> {
    crate::receiver::wire::count_items(crate::signal::Signal::Traces, req)
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
        let two = Bytes::from(frame.iter().chain(&frame).copied().collect::<Vec<u8>>());
        let seen = Seen::default();
        assert_eq!(count_frames(&two, false, &seen), Some(600));
        assert_eq!(
            count_frames(&two.slice(..two.len() - 1), false, &seen),
            None
        );
        assert_eq!(count_spans(&[0x0a, 0xff]), None);
    }

    #[test]
    fn compressed_messages_are_counted_once_decompressed_then_remembered() {
        use std::io::Write as _;
        let mut rng = fastrand::Rng::with_seed(4);
        let mut frames = Vec::new();
        for n in [200, 7] {
            let bytes = generate::traces(&mut rng, n, &ContentOpts::default()).encode_to_vec();
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(&bytes).unwrap();
            let gz = enc.finish().unwrap();
            frames.push(1u8);
            frames.extend((gz.len() as u32).to_be_bytes());
            frames.extend(&gz);
        }
        let body = Bytes::from(frames);
        let seen = Seen::default();
        assert_eq!(count_frames(&body, true, &seen), Some(207));
        assert_eq!(seen.compressed.lock().unwrap().len(), 2);
        // Again: the same answer from the remembered counts.
        assert_eq!(count_frames(&body, true, &seen), Some(207));
        // A corrupt message is malformed, not a hit.
        let mut bad = body.to_vec();
        let last = bad.len() - 9;
        bad[last] ^= 0xff;
        assert_eq!(count_frames(&Bytes::from(bad), true, &seen), None);
    }
}
