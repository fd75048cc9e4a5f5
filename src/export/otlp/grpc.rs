//! `otlp/<name>`: OTLP over gRPC, as unary calls framed here over the HTTP/2 client.
//!
//! The queued body is already the protobuf export request (often the client's own bytes),
//! so a call is one gRPC frame: the compressed flag, the length and the body, compressed
//! with gzip's fastest level (or zstd level 1) on a blocking thread, as `otlphttp` does.
//! tonic's client would compress at gzip level 6 on the async workers, which halved the
//! delivered rate (BENCHMARKS.md). The status comes from the `grpc-status` trailer (or
//! header, for trailers-only answers) and goes through [`classify_grpc`], which honours
//! RetryInfo in `grpc-status-details-bin`. TLS, mTLS and `insecure_skip_verify` come from
//! the shared client config.

use std::io::Read;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderName, HeaderValue, StatusCode};

use super::{PartialReport, Route, encode_record, partial_success, prepare};
use crate::config::OtlpExporterConfig;
use crate::export::client::HttpClient;
use crate::export::delivery::Remote;
use crate::export::error::{BuildError, EncodeError};
use crate::export::queue::Record;
use crate::export::retry::{Cause, Outcome, classify_grpc, classify_http};
use crate::pipeline::Batch;
use crate::signal::Compression;
use crate::signal::Signal;
use crate::telemetry::Metrics;

pub struct OtlpGrpc {
    client: HttpClient,
    /// Per route (traces, metrics, logs): the method's URL.
    urls: [http::Uri; 3],
    compression: Compression,
    compress_on_queue: bool,
    partial: PartialReport,
}

impl OtlpGrpc {
    /// Builds the exporter; connections open on first use (and again as needed).
    pub fn new(
        id: &str,
        cfg: &OtlpExporterConfig,
        compress_on_queue: bool,
        metrics: Arc<Metrics>,
    ) -> Result<Self, BuildError> {
        let base = cfg.client.endpoint.trim_end_matches('/');
        let url = |route: Route| -> Result<http::Uri, BuildError> {
            format!("{base}{}", route.grpc_path())
                .parse()
                .map_err(|source| BuildError::Endpoint {
                    endpoint: base.to_string(),
                    source,
                })
        };
        Ok(Self {
            client: HttpClient::new_http2(&cfg.client)?,
            urls: [url(Route::Traces)?, url(Route::Metrics)?, url(Route::Logs)?],
            compression: cfg.compression,
            compress_on_queue: compress_on_queue && cfg.compression != Compression::None,
            partial: PartialReport::new(id, metrics),
        })
    }

    fn encoding(&self) -> Option<&'static str> {
        match self.compression {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
        }
    }
}

/// One gRPC message frame: compressed flag, big-endian length, message.
fn frame(compressed: bool, message: &[u8]) -> Result<Bytes, EncodeError> {
    let len = u32::try_from(message.len()).map_err(|_| EncodeError::TooLarge)?;
    let mut out = BytesMut::with_capacity(5 + message.len());
    out.put_u8(u8::from(compressed));
    out.put_u32(len);
    out.put_slice(message);
    Ok(out.freeze())
}

/// The message of a unary response body (decompressed), if there is one.
fn response_message(body: &[u8], encoding: Option<&[u8]>) -> Option<Vec<u8>> {
    let (head, rest) = body.split_at_checked(5)?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    let msg = rest.get(..len)?;
    if head[0] == 0 {
        return Some(msg.to_vec());
    }
    let mut out = Vec::new();
    match encoding? {
        b"gzip" => flate2::read::GzDecoder::new(msg)
            .read_to_end(&mut out)
            .ok()?,
        b"zstd" => zstd::stream::read::Decoder::new(msg)
            .ok()?
            .read_to_end(&mut out)
            .ok()?,
        _ => return None,
    };
    Some(out)
}

#[async_trait]
impl Remote for OtlpGrpc {
    fn accepts(&self, signal: Signal) -> bool {
        super::accepts(signal)
    }

    fn encode(&self, batch: &Batch) -> Result<Vec<Record>, EncodeError> {
        Ok(vec![encode_record(
            batch,
            self.compression,
            self.compress_on_queue,
        )?])
    }

    async fn send(&self, record: &Record) -> Outcome {
        let (route, body) = match prepare(record, self.compression, |c, b| frame(c, &b)).await {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        let mut headers: Vec<(HeaderName, HeaderValue)> = vec![
            (
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/grpc"),
            ),
            (http::header::TE, HeaderValue::from_static("trailers")),
            (
                HeaderName::from_static("grpc-accept-encoding"),
                HeaderValue::from_static("gzip,zstd"),
            ),
            (
                http::header::USER_AGENT,
                HeaderValue::from_static(concat!("slotel/", env!("CARGO_PKG_VERSION"))),
            ),
        ];
        if let Some(enc) = self.encoding() {
            headers.push((
                HeaderName::from_static("grpc-encoding"),
                HeaderValue::from_static(enc),
            ));
        }
        let url = &self.urls[route as usize];
        let resp = match self
            .client
            .post(url, record.tenant.as_deref(), &headers, body)
            .await
        {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        if resp.status != StatusCode::OK {
            // Not a gRPC answer (a proxy, a load balancer): judge it as HTTP.
            let outcome = classify_http(resp.status, &resp.headers, &resp.raw);
            return match outcome {
                Outcome::Delivered => {
                    Outcome::retry(Cause::Protocol, "HTTP 2xx without a gRPC status")
                }
                other => other,
            };
        }
        // Trailers-only answers carry the status in the headers.
        let mut meta = resp.headers.clone();
        if let Some(t) = &resp.trailers {
            meta.extend(t.clone());
        }
        let Some(status) = tonic::Status::from_header_map(&meta) else {
            return Outcome::retry(Cause::Protocol, "gRPC answer without grpc-status");
        };
        if status.code() != tonic::Code::Ok {
            return classify_grpc(&status);
        }
        let encoding = resp.headers.get("grpc-encoding").map(HeaderValue::as_bytes);
        if let Some(msg) = response_message(&resp.raw, encoding)
            && let Some(p) = partial_success(route, &msg)
        {
            self.partial.report(route, &p);
        }
        Outcome::Delivered
    }
}

#[cfg(test)]
mod frame_tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let f = frame(false, b"hello").unwrap();
        assert_eq!(&f[..], b"\x00\x00\x00\x00\x05hello");
        assert_eq!(response_message(&f, None), Some(b"hello".to_vec()));
        let gz = super::super::http::compress(Compression::Gzip, b"hello").unwrap();
        let f = frame(true, &gz).unwrap();
        assert_eq!(response_message(&f, Some(b"gzip")), Some(b"hello".to_vec()));
        assert_eq!(response_message(&f, None), None);
        assert_eq!(response_message(&f[..4], None), None);
        assert_eq!(response_message(b"\x00\x00\x00\x00\x09short", None), None);
    }
}
