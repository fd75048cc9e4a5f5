//! The OTLP receiver: gRPC (4317) and HTTP (4318) front ends over one request path.
//!
//! Both protocols end in [`Receiver::export`], which authenticates the request, decodes
//! it, drops invalid items (partial success), applies the token-bound cluster and queues
//! the batch without waiting. Errors map to OTLP status codes in `error.rs` only.
//!
//! # Layout
//!
//! - `mod.rs`: [`Receiver`], the shared request path and its accounting.
//! - `auth.rs`: bearer tokens → (tenant, cluster).
//! - `otlp.rs`: decoding, per-item validation and responses, generic over the signal.
//! - `json.rs`: the lenient OTLP/JSON reader.
//! - `grpc.rs`: the gRPC routes, with a codec that hands over the raw request bytes.
//! - `http.rs`: the OTLP/HTTP routes, content types, bounded decompression.
//! - `wire.rs`: counting a request's items on the wire (cheap refusals).
//! - `server.rs`: the accept loop shared by every listener (TLS, connection limit,
//!   graceful shutdown).
//! - `error.rs`: [`ReceiveError`] and its gRPC/HTTP mapping.

mod auth;
mod error;
pub mod grpc;
pub mod http;
mod json;
pub mod otlp;
pub mod server;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

pub use auth::{Auth, Identity};
pub use error::ReceiveError;
use otlp::{Format, OtlpRequest};

use crate::config::{Limits, OtlpReceiverConfig};
use crate::pipeline::{Batch, PipelineSender, Raw, RequestContext, SendError, Wire};
use crate::telemetry::{
    Metrics, Protocol, ReceiverLabels, RefuseReason, RefusedLabels, RefusedRequestLabels,
    RequestLabels, Signal,
};

const RECEIVER: &str = "otlp";

/// How long a request waits for a durable queue to store its batch before the client is
/// told to retry.
const DURABLE_WAIT: Duration = Duration::from_secs(30);

/// An accepted request: the response to send, once `durable` (when present) says the
/// batch is stored on disk.
pub struct Accepted<T> {
    pub response: T,
    pub durable: Option<tokio::sync::oneshot::Receiver<bool>>,
    retry_after: Duration,
}

impl<T> Accepted<T> {
    /// The response, after the batch is durable; retry-later when storing failed or took
    /// too long (the client sends again; duplicates are possible, losses are not).
    pub async fn wait(self) -> Result<T, ReceiveError> {
        let Some(rx) = self.durable else {
            return Ok(self.response);
        };
        match tokio::time::timeout(DURABLE_WAIT, rx).await {
            Ok(Ok(true)) => Ok(self.response),
            _ => Err(ReceiveError::QueueFull {
                retry_after: self.retry_after,
            }),
        }
    }
}

/// The pipelines a receiver feeds, one per signal.
#[derive(Clone)]
pub struct Pipelines {
    pub traces: PipelineSender,
    pub metrics: PipelineSender,
    pub logs: PipelineSender,
}

impl Pipelines {
    fn get(&self, signal: Signal) -> &PipelineSender {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
        }
    }
}

/// The request path shared by the gRPC and HTTP front ends.
pub struct Receiver {
    auth: Option<Auth>,
    limits: Limits,
    retry_after: Duration,
    cluster_attribute: String,
    pipelines: Pipelines,
    metrics: Arc<Metrics>,
}

impl Receiver {
    pub fn new(
        cfg: &OtlpReceiverConfig,
        cluster_attribute: &str,
        pipelines: Pipelines,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        Arc::new(Self {
            auth: cfg.auth.as_ref().map(Auth::new),
            limits: cfg.limits.clone(),
            retry_after: cfg.retry_after,
            cluster_attribute: cluster_attribute.to_string(),
            pipelines,
            metrics,
        })
    }

    /// Handles one export request: `authorization` is the raw header value, `body` the
    /// decompressed request body and `wire` the body as it arrived when it was compressed
    /// (kept so that exporters compressing the same way can forward it).
    pub fn export<R: OtlpRequest>(
        &self,
        protocol: Protocol,
        authorization: Option<&[u8]>,
        body: &bytes::Bytes,
        wire: Option<Wire>,
        format: Format,
    ) -> Result<Accepted<R::Response>, ReceiveError> {
        let started = tokio::time::Instant::now();
        let labels = RequestLabels {
            protocol,
            signal: R::SIGNAL,
        };
        self.metrics.requests.get_or_create(&labels).inc();
        let result = self.export_inner::<R>(protocol, authorization, body, wire, format);
        if let Err(e) = &result {
            self.refused_request(protocol, R::SIGNAL, e.reason());
        }
        self.metrics
            .request_duration
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
        result
    }

    /// Counts a request refused before it reached [`Receiver::export`] (size limits,
    /// content types).
    pub fn refused_request(&self, protocol: Protocol, signal: Signal, reason: RefuseReason) {
        self.metrics
            .refused_requests
            .get_or_create(&RefusedRequestLabels {
                receiver: RECEIVER,
                protocol,
                signal,
                reason,
            })
            .inc();
    }

    fn count_refused(&self, protocol: Protocol, signal: Signal, reason: RefuseReason, n: usize) {
        if n > 0 {
            self.metrics
                .items(signal)
                .refused
                .get_or_create(&RefusedLabels {
                    receiver: RECEIVER,
                    protocol,
                    reason,
                })
                .inc_by(n as u64);
        }
    }

    fn send_error(&self, e: SendError) -> ReceiveError {
        match e {
            SendError::Full => ReceiveError::QueueFull {
                retry_after: self.retry_after,
            },
            SendError::Closed => ReceiveError::ShuttingDown {
                retry_after: self.retry_after,
            },
        }
    }

    fn export_inner<R: OtlpRequest>(
        &self,
        protocol: Protocol,
        authorization: Option<&[u8]>,
        body: &bytes::Bytes,
        wire: Option<Wire>,
        format: Format,
    ) -> Result<Accepted<R::Response>, ReceiveError> {
        let identity = match &self.auth {
            Some(auth) => Some(
                auth.authenticate(authorization)
                    .ok_or(ReceiveError::Unauthenticated)?,
            ),
            None => None,
        };
        // Under backpressure, refuse before the work of decoding (protobuf items are
        // counted on the wire for the refused-items counters).
        if format == Format::Protobuf
            && let Err(e) = self.pipelines.get(R::SIGNAL).has_room(body.len())
        {
            let err = self.send_error(e);
            let items = wire::count_items(R::SIGNAL, body).unwrap_or(0);
            self.count_refused(protocol, R::SIGNAL, err.reason(), items as usize);
            return Err(err);
        }
        let mut req: R = otlp::decode(body, format).map_err(ReceiveError::InvalidArgument)?;
        let checked = req.check(&self.limits);
        self.count_refused(
            protocol,
            R::SIGNAL,
            RefuseReason::InvalidItem,
            checked.rejected,
        );
        // The bytes can be forwarded as they are while the decoded request is what the
        // client sent: protobuf, no item dropped, no cluster rewritten.
        let mut unchanged = format == Format::Protobuf && checked.rejected == 0;
        let ctx = match identity {
            Some(id) => {
                if let Some(cluster) = &id.cluster {
                    otlp::override_cluster(&mut req, &self.cluster_attribute, cluster);
                    unchanged = false;
                }
                RequestContext {
                    tenant: Some(id.tenant.clone()),
                    cluster: id.cluster.clone(),
                    protocol: Some(protocol),
                }
            }
            None => RequestContext {
                protocol: Some(protocol),
                ..RequestContext::default()
            },
        };
        let mut durable = None;
        if checked.kept > 0 {
            let pipeline = self.pipelines.get(R::SIGNAL);
            let ack = pipeline.needs_ack().then(|| {
                let (ack, rx) = crate::pipeline::Ack::new();
                durable = Some(rx);
                ack
            });
            let batch = Batch {
                ctx,
                payload: req.into_payload(),
                items: checked.kept,
                bytes: body.len(),
                ack,
                raw: unchanged.then(|| Raw {
                    body: body.clone(),
                    wire,
                }),
            };
            if let Err(e) = pipeline.try_send(batch) {
                let err = self.send_error(e);
                self.count_refused(protocol, R::SIGNAL, err.reason(), checked.kept);
                return Err(err);
            }
            self.metrics
                .items(R::SIGNAL)
                .accepted
                .get_or_create(&ReceiverLabels {
                    receiver: RECEIVER,
                    protocol,
                })
                .inc_by(checked.kept as u64);
        }
        Ok(Accepted {
            response: R::response(checked.rejected, checked.message()),
            durable,
            retry_after: self.retry_after,
        })
    }
}
