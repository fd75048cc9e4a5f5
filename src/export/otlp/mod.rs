//! The OTLP exporters: `otlp/<name>` (gRPC) and `otlphttp/<name>` (HTTP, protobuf), for
//! traces (Tempo), logs (Loki 3's OTLP endpoint or any OTLP backend) and metrics
//! pass-through (Mimir's `/otlp/v1/metrics`).
//!
//! # Layout
//!
//! - `mod.rs`: what both share: a batch becomes one record holding the protobuf export
//!   request, routed by signal: the client's own bytes while nothing changed the batch
//!   (compressed as received when the compression matches), else the payload encoded
//!   with prost; partial-success responses are counted and logged.
//! - `grpc.rs`: [`OtlpGrpc`]: one unary call per record, framed by hand over the shared
//!   HTTP/2 client, so the queued body is sent as it is.
//! - `http.rs`: [`OtlpHttp`]: POST to `endpoint` + `/v1/<signal>` (or the per-signal URL).
//! - `tests.rs`: encoding, routes, URLs, compression, partial-success decoding, and the
//!   received bytes forwarded only while the batch is unchanged.
//!
//! # Invariants
//!
//! - One record per batch, carrying the batch's tenant, sent as the tenant header
//!   (`tenant_header`, default `X-Scope-OrgID`) of that request only.
//! - The low bits of `Record::route` are the signal ([`Route`]); [`COMPRESSED`] marks a body
//!   that was compressed when it was queued (a disk queue, or the client's own compressed
//!   bytes of an unchanged batch), so `send` does not compress it again and a restart reads
//!   back what was stored.
//! - Response status is classified by `retry.rs` only.

mod grpc;
mod http;

use std::sync::Arc;

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;

pub use grpc::OtlpGrpc;
pub use http::{OtlpHttp, compress, signal_url};

use super::error::EncodeError;
use super::failure::ReasonClass;
use super::queue::Record;
use super::retry::{Cause, Outcome};
use crate::pipeline::{Batch, Payload};
use crate::signal::Signal;
use crate::telemetry::log_limit::LogLimiter;
use crate::telemetry::{Metrics, QueueLabels};

/// The signal a record goes to, in the low bits of `Record::route`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Traces = 0,
    Metrics = 1,
    Logs = 2,
}

/// Set in `Record::route` when the body is already compressed with the exporter's
/// `compression`.
pub const COMPRESSED: u8 = 0x80;

impl Route {
    pub fn of(route: u8) -> Option<Route> {
        match route & !COMPRESSED {
            0 => Some(Route::Traces),
            1 => Some(Route::Metrics),
            2 => Some(Route::Logs),
            _ => None,
        }
    }

    /// The gRPC method of the signal's collector service.
    pub fn grpc_path(self) -> &'static str {
        match self {
            Route::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Route::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            Route::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        }
    }

    fn items(self) -> &'static str {
        match self {
            Route::Traces => "spans",
            Route::Metrics => "data points",
            Route::Logs => "log records",
        }
    }
}

fn now_ms() -> u64 {
    u64::try_from(jiff::Timestamp::now().as_millisecond()).unwrap_or(0)
}

/// The export request of a batch, as protobuf, in one record.
pub fn encode_batch(batch: &Batch) -> Record {
    let route = match batch.signal() {
        crate::signal::Signal::Traces => Route::Traces,
        crate::signal::Signal::Metrics => Route::Metrics,
        crate::signal::Signal::Logs => Route::Logs,
    };
    // Unchanged since it was received: forward the client's bytes (no encoding, no copy).
    let body = match batch.raw() {
        Some(raw) => raw.body.clone(),
        None => Bytes::from(match batch.payload() {
            Payload::Traces(req) => req.encode_to_vec(),
            Payload::Metrics(req) => req.encode_to_vec(),
            Payload::Logs(req) => req.encode_to_vec(),
        }),
    };
    Record {
        tenant: batch.ctx.tenant.as_deref().map(str::to_string),
        items: batch.items as u64,
        route: route as u8,
        queued_ms: now_ms(),
        body,
    }
}

/// [`encode_batch`], compressed at once when the queue stores compressed bodies. A batch
/// that arrived compressed the way this exporter compresses, and that nothing changed, is
/// queued as it arrived: compressing costs about as much CPU as decoding.
pub fn encode_record(
    batch: &Batch,
    compression: crate::signal::Compression,
    compress_on_queue: bool,
) -> Result<Record, EncodeError> {
    let mut record = encode_batch(batch);
    if let Some(wire) = batch.raw().and_then(|r| r.wire.as_ref())
        && wire.compression == compression
        && compression != crate::signal::Compression::None
    {
        record.body = wire.body.clone();
        record.route |= COMPRESSED;
    } else if compress_on_queue {
        record.body = Bytes::from(http::compress(compression, &record.body)?);
        record.route |= COMPRESSED;
    }
    Ok(record)
}

/// The route of a queued record and its body compressed with `compression` (on a blocking
/// thread: compression is CPU work) unless it was stored compressed; `wrap` turns the
/// compressed body into what is sent (the gRPC frame).
pub async fn prepare(
    record: &Record,
    compression: crate::signal::Compression,
    wrap: fn(bool, Bytes) -> Result<Bytes, EncodeError>,
) -> Result<(Route, Bytes), Outcome> {
    let Some(route) = Route::of(record.route) else {
        return Err(Outcome::Permanent {
            cause: Cause::Request,
            detail: format!("queued record has an unknown route {}", record.route),
        });
    };
    let compressed = compression != crate::signal::Compression::None;
    let body = record.body.clone();
    let body = if record.route & COMPRESSED != 0 || !compressed {
        wrap(compressed, body)
    } else {
        match tokio::task::spawn_blocking(move || {
            http::compress(compression, &body).and_then(|c| wrap(true, Bytes::from(c)))
        })
        .await
        {
            Ok(r) => r,
            Err(e) => {
                return Err(Outcome::retry(
                    Cause::Request,
                    format!("compression task failed: {e}"),
                ));
            }
        }
    };
    body.map(|b| (route, b)).map_err(|e| Outcome::Permanent {
        cause: Cause::Request,
        detail: e.to_string(),
    })
}

/// What a backend said it rejected inside an accepted request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Partial {
    pub rejected: i64,
    pub message: String,
}

/// Reads the partial success of an export response; `None` when the response says
/// nothing (the usual case) or is not a response of the signal's service.
pub fn partial_success(route: Route, body: &[u8]) -> Option<Partial> {
    if body.is_empty() {
        return None;
    }
    let (rejected, message) = match route {
        Route::Traces => {
            let p = ExportTraceServiceResponse::decode(body)
                .ok()?
                .partial_success?;
            (p.rejected_spans, p.error_message)
        }
        Route::Metrics => {
            let p = ExportMetricsServiceResponse::decode(body)
                .ok()?
                .partial_success?;
            (p.rejected_data_points, p.error_message)
        }
        Route::Logs => {
            let p = ExportLogsServiceResponse::decode(body)
                .ok()?
                .partial_success?;
            (p.rejected_log_records, p.error_message)
        }
    };
    (rejected != 0 || !message.is_empty()).then_some(Partial { rejected, message })
}

/// Counts partial successes on `slotel_exporter_partial_success_rejected_items` and logs
/// them at most once per [`DEFAULT_INTERVAL`](crate::telemetry::log_limit::DEFAULT_INTERVAL)
/// with how many were held back. The backend's message may quote the rejected data, so
/// only its reason class and length are logged.
pub struct PartialReport {
    id: String,
    metrics: Arc<Metrics>,
    log: LogLimiter,
}

impl PartialReport {
    pub fn new(id: &str, metrics: Arc<Metrics>) -> Self {
        Self {
            id: id.to_string(),
            metrics,
            log: LogLimiter::default(),
        }
    }

    pub fn report(&self, route: Route, partial: &Partial) {
        let rejected = u64::try_from(partial.rejected).unwrap_or(0);
        self.metrics
            .exporters
            .partial_rejected_items
            .get_or_create(&QueueLabels {
                exporter: self.id.clone(),
            })
            .inc_by(rejected);
        let Some(more) = self.log.check("partial_success") else {
            return;
        };
        let class = ReasonClass::from_message(partial.message.as_bytes())
            .unwrap_or(ReasonClass::Other)
            .as_str();
        tracing::warn!(
            exporter = %self.id,
            rejected,
            items = route.items(),
            reason = class,
            message_bytes = partial.message.len(),
            "backend accepted a request but rejected part of it{more}"
        );
    }
}

/// Whether an exporter of the OTLP family takes a signal: all three.
pub fn accepts(_signal: Signal) -> bool {
    true
}

#[cfg(test)]
mod tests;
