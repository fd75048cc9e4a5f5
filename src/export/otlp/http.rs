//! `otlphttp/<name>`: OTLP over HTTP, protobuf bodies.
//!
//! Each signal is POSTed to its own URL: the per-signal endpoint when set, else
//! `endpoint` + `/v1/traces` (`/v1/metrics`, `/v1/logs`), as the collector's otlphttp
//! exporter does (so `endpoint: http://mimir/otlp` sends metrics to Mimir's
//! `/otlp/v1/metrics`). Bodies are compressed at gzip's fastest level or zstd's level 1:
//! the wire, not storage, is what they save.
//!
//! With a memory queue the body is compressed in `send` (off the pipeline's dispatcher);
//! with a disk queue it is compressed when queued, so the queue stores (and fsyncs) the
//! smaller body, and the record is flagged [`COMPRESSED`].

use std::sync::Arc;

use async_trait::async_trait;
use http::{HeaderName, HeaderValue};

use super::{PartialReport, Route, encode_record, partial_success, prepare};
use crate::config::OtlpExporterConfig;
use crate::export::client::HttpClient;
use crate::export::delivery::Remote;
use crate::export::error::{BuildError, EncodeError};
use crate::export::queue::Record;
use crate::export::retry::{Outcome, classify_http};
use crate::pipeline::Batch;
use crate::signal::Compression;
use crate::signal::Signal;
use crate::telemetry::Metrics;

pub struct OtlpHttp {
    client: HttpClient,
    /// Traces, metrics, logs.
    urls: [http::Uri; 3],
    compression: Compression,
    /// Compress when queueing (disk queue) rather than when sending.
    compress_on_queue: bool,
    partial: PartialReport,
}

/// The URL a signal is sent to: `specific` when set, else `endpoint` + `/v1/<signal>`
/// (one slash between them whatever `endpoint` ends with).
pub fn signal_url(
    endpoint: &str,
    specific: Option<&str>,
    route: Route,
) -> Result<http::Uri, BuildError> {
    let url = match specific {
        Some(s) => s.to_string(),
        None => {
            let suffix = match route {
                Route::Traces => "v1/traces",
                Route::Metrics => "v1/metrics",
                Route::Logs => "v1/logs",
            };
            format!("{}/{suffix}", endpoint.trim_end_matches('/'))
        }
    };
    match url.parse::<http::Uri>() {
        Ok(uri) => Ok(uri),
        Err(source) => Err(BuildError::Url { url, source }),
    }
}

/// Compresses a body with the exporter's compression (`None`: as is).
pub fn compress(compression: Compression, body: &[u8]) -> Result<Vec<u8>, EncodeError> {
    compression.compress(body).map_err(|e| match compression {
        Compression::Zstd => EncodeError::Zstd(e),
        Compression::Gzip | Compression::None => EncodeError::Gzip(e),
    })
}

impl OtlpHttp {
    pub fn new(
        id: &str,
        cfg: &OtlpExporterConfig,
        compress_on_queue: bool,
        metrics: Arc<Metrics>,
    ) -> Result<Self, BuildError> {
        let endpoint = &cfg.client.endpoint;
        let urls = [
            signal_url(endpoint, cfg.traces_endpoint.as_deref(), Route::Traces)?,
            signal_url(endpoint, cfg.metrics_endpoint.as_deref(), Route::Metrics)?,
            signal_url(endpoint, cfg.logs_endpoint.as_deref(), Route::Logs)?,
        ];
        Ok(Self {
            client: HttpClient::new(&cfg.client)?,
            urls,
            compression: cfg.compression,
            compress_on_queue: compress_on_queue && cfg.compression != Compression::None,
            partial: PartialReport::new(id, metrics),
        })
    }

    fn content_encoding(&self) -> Option<HeaderValue> {
        match self.compression {
            Compression::None => None,
            Compression::Gzip => Some(HeaderValue::from_static("gzip")),
            Compression::Zstd => Some(HeaderValue::from_static("zstd")),
        }
    }
}

#[async_trait]
impl Remote for OtlpHttp {
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
        let (route, body) = match prepare(record, self.compression, |_, b| Ok(b)).await {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        let mut headers: Vec<(HeaderName, HeaderValue)> = vec![
            (
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-protobuf"),
            ),
            (
                http::header::USER_AGENT,
                HeaderValue::from_static(concat!("slotel/", env!("CARGO_PKG_VERSION"))),
            ),
        ];
        if let Some(enc) = self.content_encoding() {
            headers.push((http::header::CONTENT_ENCODING, enc));
        }
        let url = &self.urls[route as usize];
        match self
            .client
            .post(url, record.tenant.as_deref(), &headers, body)
            .await
        {
            Ok(resp) => {
                let outcome = classify_http(resp.status, &resp.headers, &resp.raw);
                if outcome == Outcome::Delivered
                    && let Some(p) = partial_success(route, &resp.raw)
                {
                    self.partial.report(route, &p);
                }
                outcome
            }
            Err(outcome) => outcome,
        }
    }
}
