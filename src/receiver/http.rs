//! OTLP/HTTP: `POST /v1/traces`, `/v1/metrics`, `/v1/logs`.
//!
//! Bodies are `application/x-protobuf` or `application/json`, optionally `gzip` or `zstd`
//! encoded. The body is read up to the size limit (413 past it, checked against
//! `Content-Length` first), then decompressed in one call that stops at the same limit,
//! charged to the memory budget as it grows, so a compression bomb never inflates in memory. The response uses the
//! request's content type. CORS, when configured, is the `cors` module's middleware.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::routing::post;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use super::body::{Guard, GuardedBody, decompress};
use super::cors::{self, Cors};
use super::otlp::{Format, OtlpRequest};
use super::{ReceiveError, Receiver};
use crate::config::CorsConfig;
use crate::pipeline::{Wire, otlp_json};
use crate::signal::Compression;
use crate::signal::Protocol;

#[derive(Clone)]
struct HttpState {
    receiver: Arc<Receiver>,
    max_body: usize,
}

fn content_format(headers: &HeaderMap) -> Result<Format, ReceiveError> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = raw.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/x-protobuf")
        || mime.eq_ignore_ascii_case("application/protobuf")
    {
        Ok(Format::Protobuf)
    } else if mime.eq_ignore_ascii_case("application/json") {
        Ok(Format::Json)
    } else {
        Err(ReceiveError::UnsupportedMediaType(format!(
            "unsupported content type {raw:?}: use application/x-protobuf or application/json"
        )))
    }
}

/// The body's one encoding. Several `Content-Encoding` headers stack encodings as a list
/// in one header does (RFC 9110), which is refused alike; so is a value that is not text.
fn content_encoding(headers: &HeaderMap) -> Result<Compression, ReceiveError> {
    let mut values = headers.get_all(header::CONTENT_ENCODING).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        if headers.contains_key(header::CONTENT_ENCODING) {
            return Err(ReceiveError::UnsupportedMediaType(
                "several content encodings (Content-Encoding headers): use one of gzip, zstd \
                 or none"
                    .to_string(),
            ));
        }
        return Ok(Compression::None);
    };
    let raw = String::from_utf8_lossy(value.as_bytes());
    let raw = raw.trim();
    match raw.to_ascii_lowercase().as_str() {
        "" | "identity" | "none" => Ok(Compression::None),
        "gzip" | "x-gzip" => Ok(Compression::Gzip),
        "zstd" => Ok(Compression::Zstd),
        _ => Err(ReceiveError::UnsupportedMediaType(format!(
            "unsupported content encoding {raw:?}: use gzip, zstd or none"
        ))),
    }
}

fn too_large(limit: usize) -> ReceiveError {
    ReceiveError::TooLarge(format!(
        "request body is larger than the limit of {limit} bytes"
    ))
}

async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    receiver: &Receiver,
) -> Result<(bytes::Bytes, Arc<Guard>), ReceiveError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let timeout = receiver.limits().body_timeout;
    let (body, guard) = GuardedBody::new(body, timeout, receiver.budget().clone());
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok((collected.to_bytes(), guard)),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large(limit)),
        Err(e) => Err(guard
            .error(timeout, receiver.retry_after())
            .unwrap_or_else(|| {
                ReceiveError::InvalidArgument(format!("cannot read request body: {e}"))
            })),
    }
}

/// Bodies larger than this are decompressed on the blocking pool.
const OFF_RUNTIME_BYTES: usize = 64 * 1024;

fn encode_response<M: Message + serde::Serialize>(msg: &M, format: Format) -> http::Response<Body> {
    let (content_type, bytes) = match format {
        Format::Protobuf => ("application/x-protobuf", msg.encode_to_vec()),
        // Serializing generated types to a Vec cannot fail.
        Format::Json => (
            "application/json",
            otlp_json::encode(msg).unwrap_or_default(),
        ),
    };
    let mut resp = http::Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

async fn export<R: OtlpRequest>(
    State(state): State<HttpState>,
    req: Request,
) -> http::Response<Body> {
    let (parts, body) = req.into_parts();
    let receiver = &state.receiver;
    let refuse = |e: ReceiveError, format: Option<Format>| {
        receiver.refused_request(Protocol::Http, R::SIGNAL, e.reason());
        e.to_http(format)
    };
    let format = match content_format(&parts.headers) {
        Ok(f) => f,
        Err(e) => return refuse(e, None),
    };
    let encoding = match content_encoding(&parts.headers) {
        Ok(enc) => enc,
        Err(e) => return refuse(e, Some(format)),
    };
    // Strangers are refused from the headers: no body is read for them.
    let identity = match receiver.authenticate(
        parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes()),
    ) {
        Ok(id) => id,
        Err(e) => return refuse(e, Some(format)),
    };
    if let Err(e) = receiver.refuse_early(R::SIGNAL) {
        return refuse(e, Some(format));
    }
    let (raw, _guard) = match read_body(body, &parts.headers, state.max_body, receiver).await {
        Ok(b) => b,
        Err(e) => return refuse(e, Some(format)),
    };
    let (body, _decompressed) = if encoding == Compression::None {
        (raw.clone(), None)
    } else {
        let (raw, max, budget, retry) = (
            raw.clone(),
            state.max_body,
            receiver.budget().clone(),
            receiver.retry_after(),
        );
        let large = raw.len() > OFF_RUNTIME_BYTES;
        let work = move || decompress(&raw, encoding, max, &budget, retry);
        let result = if large {
            tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
                Err(ReceiveError::InvalidArgument(format!(
                    "cannot decompress request body: {e}"
                )))
            })
        } else {
            work()
        };
        match result {
            Ok((out, charge)) => (bytes::Bytes::from(out), Some(charge)),
            Err(e) => return refuse(e, Some(format)),
        }
    };
    let wire = (encoding != Compression::None).then_some(Wire {
        compression: encoding,
        body: raw,
    });
    let accepted = receiver
        .export::<R>(Protocol::Http, identity, body, wire, format)
        .await;
    let result = match accepted {
        Ok(a) => a.wait().await,
        Err(e) => Err(e),
    };
    match result {
        Ok(resp) => encode_response(&resp, format),
        Err(e) => e.to_http(Some(format)),
    }
}

/// The OTLP/HTTP routes. Other methods on these paths get 405 with an `Allow` header,
/// except CORS preflights when `cors` allows origins (answered before authentication).
pub fn router(receiver: Arc<Receiver>, max_body: usize, cors: Option<&CorsConfig>) -> Router {
    let router = Router::new()
        .route("/v1/traces", post(export::<ExportTraceServiceRequest>))
        .route("/v1/metrics", post(export::<ExportMetricsServiceRequest>))
        .route("/v1/logs", post(export::<ExportLogsServiceRequest>))
        .with_state(HttpState { receiver, max_body });
    match Cors::new(cors) {
        Some(cors) => router.layer(axum::middleware::from_fn_with_state(cors, cors::handle)),
        None => router,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert_eq!(content_format(&h).unwrap(), Format::Json);
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(matches!(
            content_format(&h),
            Err(ReceiveError::UnsupportedMediaType(_))
        ));
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        assert!(content_encoding(&h).is_err());
    }

    /// One encoding, named once: a second `Content-Encoding` header, a list, or a value
    /// that is not text is refused, never read as the first encoding or as none.
    #[test]
    fn stacked_or_unreadable_encodings_are_refused() {
        let refused = |values: &[&[u8]]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append(
                    header::CONTENT_ENCODING,
                    HeaderValue::from_bytes(v).unwrap(),
                );
            }
            match content_encoding(&h) {
                Err(ReceiveError::UnsupportedMediaType(msg)) => msg,
                other => panic!("{values:?}: {other:?}"),
            }
        };
        assert!(refused(&[b"gzip", b"gzip"]).contains("several content encodings"));
        assert!(refused(&[b"identity", b"gzip"]).contains("several content encodings"));
        assert!(refused(&[b"gzip, gzip"]).contains("\"gzip, gzip\""));
        assert!(refused(&[b"gzip\xff"]).contains("unsupported content encoding"));
        let mut h = HeaderMap::new();
        assert_eq!(content_encoding(&h).unwrap(), Compression::None);
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(" GZIP "));
        assert_eq!(content_encoding(&h).unwrap(), Compression::Gzip);
    }
}
