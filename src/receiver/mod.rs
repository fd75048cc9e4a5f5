//! The OTLP receiver: gRPC (4317) and HTTP (4318) front ends over one request path.
//!
//! Both protocols end in [`Receiver::export`]. Before a body is read, a front end asks
//! [`Receiver::authenticate`] about the `authorization` header, so strangers cost a header
//! parse. Then the body is read (within the body timeout) and decompressed (within the size
//! limit), and [`Receiver::export`] reads it on the wire first: items, resources and an upper
//! bound of its decoded size. Over the per-request limits it is refused for good; when the
//! process-wide memory budget cannot take it now, the client is told to retry. Only then is
//! it decoded (off the async workers when large), checked item by item (partial success),
//! bound to the token's cluster and queued without waiting, holding its budget charge until
//! every exporter is done. Errors map to OTLP status codes in `error.rs` only.
//!
//! Spans over protobuf that no processor changes are not decoded: the wire walk of
//! [`crate::slo::facts::wire::check_spans`] refuses exactly what prost refuses and applies
//! the per-item rules, and a request that passes whole is queued as received
//! ([`Batch::encoded`]). Exporters forward its bytes; with span SLOs loaded the same walk
//! builds the span facts they read ([`check_spans_with_facts`]), which the SLO connector
//! records (or, without them, reads on the wire itself); the facts' memory is charged to
//! the budget with the request's. A request the walk refuses or finds a rule broken in is decoded, so
//! the client gets prost's error or the partial success as before. A token bound to a
//! cluster changes only the resources: they are rewritten on the wire (`bind_wire.rs`) and
//! the rest forwarded as received, unless an attribute below them names the cluster
//! attribute's label (then the request is decoded and bound). A token bound to no cluster
//! has its request decoded only when a resource names a cluster reserved for another.
//!
//! # Layout
//!
//! - `mod.rs`: [`Receiver`], the shared request path and its accounting.
//! - `auth.rs`: bearer tokens → (tenant, cluster), compared in constant time.
//! - `otlp.rs`: decoding and what the three request types have in common.
//! - `check.rs`: the per-item rules (ids, attribute, event and link counts, the metric data
//!   model) and the cluster binding.
//! - `binding.rs`: what names the cluster attribute's label, the clusters reserved for the
//!   tokens bound to them, and the SLO series names only slotel writes.
//! - `bind_wire.rs`: the cluster binding of trace requests on the wire, and the reserved
//!   clusters looked up in their resources; `bind_wire_tests.rs` holds them to the decoding
//!   path.
//! - `json.rs`: the lenient OTLP/JSON reader; `json_traces.rs`, `json_logs.rs` and
//!   `json_metrics.rs` read each signal without serde's `flatten` (which hid errors), with
//!   the resource, scope, `KeyValue` and `AnyValue` of `json_common.rs`; `json_numbers.rs`
//!   reads numbers as the proto3 JSON mapping says.
//! - `grpc.rs`: the gRPC routes; the handler takes the one message out of the body as read
//!   (decompressing it when compressed), tonic answers the call.
//! - `http.rs`: the OTLP/HTTP routes, content types, bounded decompression.
//! - `cors.rs`: CORS for the OTLP/HTTP routes; preflights answered before authentication.
//! - `body.rs`: reading a body under its timeout and the memory budget; `decompress`.
//! - `inflate.rs`: one-shot gzip (libdeflate) and zstd into a buffer sized from the size
//!   the body states, capped at the limit and charged before it is reserved.
//! - `wire.rs`: a request's items and decoded-size bound, read on the wire.
//! - `spans_tests.rs`: which trace requests are queued undecoded, and the fallbacks.
//! - `binding_tests.rs`: the cluster binding, reserved clusters and SLO series names through
//!   the request path.
//! - `spans_fuzz.rs`, `spans_wire_tests.rs`: the span facts fuzz target's body (the wire
//!   reading against prost), and the differential tests that run it.
//! - `error.rs`: [`ReceiveError`] and its gRPC/HTTP mapping.
//! - `fuzz.rs`: the receive fuzz target's body, shared with its stable test.

mod auth;
mod bind_wire;
#[cfg(test)]
mod bind_wire_tests;
mod binding;
#[cfg(test)]
mod binding_tests;
mod body;
pub(crate) mod check;
mod cors;
mod error;
pub mod fuzz;
pub mod grpc;
pub mod http;
pub(crate) mod inflate;
mod json;
mod json_common;
mod json_logs;
mod json_metrics;
mod json_numbers;
mod json_traces;
pub mod otlp;
pub mod spans_fuzz;
#[cfg(test)]
mod spans_tests;
#[cfg(test)]
mod spans_wire_tests;
pub mod wire;

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use auth::{Auth, Identity};
pub use error::ReceiveError;
use otlp::{Format, OtlpRequest};

use crate::config::{Limits, OtlpReceiverConfig};
use crate::pipeline::budget::{BudgetError, Charge, MemoryBudget};
use crate::pipeline::{Batch, PipelineSender, Raw, RequestContext, SendError, Wire};
use crate::signal::{Protocol, Signal};
use crate::slo::engine::Engine;
use crate::slo::facts::wire::{
    ItemLimits, WalkedFacts, WireSpans, check_spans, check_spans_naming, check_spans_with_facts,
};
use crate::telemetry::{
    Metrics, ReceiverLabels, RefuseReason, RefusedLabels, RefusedRequestLabels, RequestLabels,
};

const RECEIVER: &str = "otlp";

/// Requests larger than this are decoded on the blocking pool.
const OFF_RUNTIME_BYTES: usize = 256 * 1024;

/// The longest a request waits for a decode slot. Slots free up within milliseconds while
/// the pipeline moves; a longer wait means it cannot keep up, and the client is better
/// told to retry than held.
const MAX_SLOT_WAIT: Duration = Duration::from_millis(500);

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
    budget: MemoryBudget,
    retry_after: Duration,
    cluster_attribute: String,
    /// The clusters tokens are bound to: a sender whose token is bound to none cannot
    /// name them.
    reserved: Arc<[Arc<str>]>,
    /// The same clusters, looked up in the resources read on the wire.
    reserved_set: HashSet<Arc<str>>,
    pipelines: Pipelines,
    metrics: Arc<Metrics>,
    /// The SLO engine whose span facts the walk of a request queued as received builds
    /// ([`Receiver::read_span_facts_for`]).
    facts_for: OnceLock<Arc<Engine>>,
}

impl Receiver {
    pub fn new(
        cfg: &OtlpReceiverConfig,
        cluster_attribute: &str,
        pipelines: Pipelines,
        budget: MemoryBudget,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        let auth = cfg.auth.as_ref().map(Auth::new);
        let reserved = auth.as_ref().map(Auth::bound_clusters).unwrap_or_default();
        Arc::new(Self {
            auth,
            reserved_set: reserved.iter().cloned().collect(),
            reserved: reserved.into(),
            limits: cfg.limits.clone(),
            budget,
            retry_after: cfg.retry_after,
            cluster_attribute: cluster_attribute.to_string(),
            pipelines,
            metrics,
            facts_for: OnceLock::new(),
        })
    }

    /// Builds the span facts `engine` records in the walk that checks a trace request
    /// queued as received ([`check_spans_with_facts`]), so the request is walked once, not
    /// once here and once more by the SLO connector. Once only: a second engine is
    /// ignored.
    pub fn read_span_facts_for(&self, engine: Arc<Engine>) {
        let _ = self.facts_for.set(engine);
    }

    /// Checks the `authorization` header value of a request, before its body is read:
    /// `Ok(None)` when no authentication is configured.
    pub fn authenticate(
        &self,
        authorization: Option<&[u8]>,
    ) -> Result<Option<Identity>, ReceiveError> {
        match &self.auth {
            Some(auth) => auth
                .authenticate(authorization)
                .cloned()
                .map(Some)
                .ok_or(ReceiveError::Unauthenticated),
            None => Ok(None),
        }
    }

    /// The limits requests are held to (timeouts for the front ends).
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The process-wide memory budget request bodies are charged to as they are read.
    pub fn budget(&self) -> &MemoryBudget {
        &self.budget
    }

    /// Refuses a request of an authenticated sender from its headers when its pipeline is
    /// saturated (see [`crate::pipeline::PipelineSender::saturated`]): under overload the
    /// body is never read. The caller counts the refused request.
    pub fn refuse_early(&self, signal: Signal) -> Result<(), ReceiveError> {
        let pipeline = self.pipelines.get(signal);
        if !pipeline.saturated() {
            return Ok(());
        }
        Err(self.send_error(if pipeline.is_closed() {
            SendError::Closed
        } else {
            SendError::Full
        }))
    }

    /// The delay suggested to clients told to retry.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// Handles one export request of an authenticated sender: `body` is the decompressed
    /// request body and `wire` the body as it arrived when it was compressed (kept so that
    /// exporters compressing the same way can forward it).
    pub async fn export<R: OtlpRequest>(
        self: &Arc<Self>,
        protocol: Protocol,
        identity: Option<Identity>,
        body: bytes::Bytes,
        wire: Option<Wire>,
        format: Format,
    ) -> Result<Accepted<R::Response>, ReceiveError> {
        let started = tokio::time::Instant::now();
        let labels = RequestLabels {
            protocol,
            signal: R::SIGNAL,
        };
        self.metrics.requests.get_or_create(&labels).inc();
        let result = self
            .export_inner::<R>(protocol, identity, body, wire, format)
            .await;
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

    /// Reads the request on the wire and takes its charge from the memory budget; the
    /// charge, and what it weighs (items and resources counted on the wire: protobuf).
    fn admit<R: OtlpRequest>(
        &self,
        protocol: Protocol,
        body: &[u8],
        format: Format,
    ) -> Result<(Charge, Weight), ReceiveError> {
        let weight = weigh::<R>(body, format, &self.limits)?;
        let Weight { items, decoded, .. } = weight;
        // The body is held while the request is in flight, and with the batch when it is
        // forwarded as received.
        let wanted =
            usize::try_from(decoded.saturating_add(body.len() as u64)).unwrap_or(usize::MAX);
        let limit = self.budget.capacity();
        if wanted > limit {
            return Err(ReceiveError::TooLarge(format!(
                "decoding this request would take about {wanted} bytes, more than the memory budget of {limit}"
            )));
        }
        let charge = self.budget.try_charge(wanted).map_err(|e| {
            let err = self.budget_error(e);
            self.count_refused(
                protocol,
                R::SIGNAL,
                err.reason(),
                items.unwrap_or(0) as usize,
            );
            err
        })?;
        Ok((charge, weight))
    }

    /// The charge for the span facts read in the walk of a trace request queued as
    /// received: they go with its batch until the last stage is done with it, next to the
    /// request's own charge (taken before they were built, from the request's size; the
    /// facts' columns are only known once built). A request whose facts do not fit now is
    /// refused with retry-later, as one whose body does not.
    fn charge_facts(
        &self,
        protocol: Protocol,
        facts: &WalkedFacts,
        spans: usize,
    ) -> Result<Charge, ReceiveError> {
        self.budget.try_charge(facts_bytes(facts)).map_err(|e| {
            let err = self.budget_error(e);
            self.count_refused(protocol, Signal::Traces, err.reason(), spans);
            err
        })
    }

    fn budget_error(&self, e: BudgetError) -> ReceiveError {
        match e {
            BudgetError::Busy { .. } => ReceiveError::Overloaded {
                message: format!("memory budget in use: {e}"),
                retry_after: self.retry_after,
            },
            BudgetError::TooLarge { .. } => ReceiveError::TooLarge(e.to_string()),
        }
    }

    async fn export_inner<R: OtlpRequest>(
        self: &Arc<Self>,
        protocol: Protocol,
        identity: Option<Identity>,
        body: bytes::Bytes,
        wire: Option<Wire>,
        format: Format,
    ) -> Result<Accepted<R::Response>, ReceiveError> {
        // Under backpressure, refuse before the work of decoding (protobuf items are
        // counted on the wire for the refused-items counters).
        let refuse = |e: SendError| {
            let err = self.send_error(e);
            let items = match format {
                Format::Protobuf => wire::count_items(R::SIGNAL, &body).unwrap_or(0),
                Format::Json => 0,
            };
            self.count_refused(protocol, R::SIGNAL, err.reason(), items as usize);
            err
        };
        let pipeline = self.pipelines.get(R::SIGNAL);
        if format == Format::Protobuf
            && let Err(e) = pipeline.has_room(body.len())
        {
            return Err(refuse(e));
        }
        // A decode slot before decoding: however many clients send at once, only a few
        // decoded requests exist (see `pipeline`'s invariants); the rest wait here with
        // their bodies, at most `MAX_SLOT_WAIT` (or `retry_after` if shorter), then are
        // told to retry.
        let slot = pipeline
            .reserve(self.retry_after.min(MAX_SLOT_WAIT))
            .await
            .map_err(refuse)?;
        let cluster = identity.as_ref().and_then(|id| id.cluster.clone());
        // A token bound to no cluster cannot name the clusters other tokens are bound to.
        let unbound = identity.as_ref().is_some_and(|id| id.cluster.is_none());
        // Spans that no processor changes are read on the wire: queued as received when
        // no resource names a reserved cluster, or with only their resources rewritten
        // when the token binds a cluster. Decoded later only if some stage asks for the
        // payload.
        let on_the_wire =
            R::SIGNAL == Signal::Traces && format == Format::Protobuf && !pipeline.has_processors();
        let work = {
            let this = self.clone();
            let body = body.clone();
            move || {
                let (charge, weight) = this.admit::<R>(protocol, &body, format)?;
                let walked = match cluster.as_deref() {
                    _ if !on_the_wire => None,
                    Some(cluster) => this.bind_spans(&body, &weight, cluster),
                    None if unbound
                        && bind_wire::names_reserved(
                            &body,
                            &this.cluster_attribute,
                            &this.reserved_set,
                        ) =>
                    {
                        None
                    }
                    None => this
                        .walk_spans(&body, &weight, None)
                        .map(|(found, facts)| (found, facts, None)),
                };
                if let Some((found, facts, bound)) = walked {
                    let spans = usize::try_from(found.spans).unwrap_or(usize::MAX);
                    let mut charge = charge;
                    if let Some(facts) = &facts {
                        charge.merge(this.charge_facts(protocol, facts, spans)?);
                    }
                    return Ok::<_, ReceiveError>((charge, Received::Encoded(spans, facts, bound)));
                }
                // Anything else (and what the walk refuses or finds a rule broken in) is
                // decoded: prost's error, or the partial success, is what the client gets.
                let reserved = if unbound { &this.reserved[..] } else { &[] };
                let (req, checked) =
                    this.decode_and_check::<R>(&body, format, cluster.as_deref(), reserved)?;
                Ok((charge, Received::Decoded(req, checked)))
            }
        };
        let (charge, received) = if body.len() > OFF_RUNTIME_BYTES {
            // Large requests are read and decoded on the blocking pool: the runtime's
            // workers stay free for probes, small requests and timers.
            tokio::task::spawn_blocking(work).await.map_err(|e| {
                ReceiveError::InvalidArgument(format!("cannot decode request: {e}"))
            })??
        } else {
            work()?
        };
        let (req, checked, walked, bound) = match received {
            Received::Decoded(req, checked) => (Some(req), checked, None, None),
            Received::Encoded(spans, walked, bound) => (
                None,
                otlp::Checked {
                    kept: spans,
                    ..otlp::Checked::default()
                },
                walked,
                bound,
            ),
        };
        self.count_refused(
            protocol,
            R::SIGNAL,
            RefuseReason::InvalidItem,
            checked.rejected,
        );
        // The bytes can be forwarded as they are while the decoded request is what the
        // client sent: protobuf, no item dropped, no cluster rewritten.
        let unchanged = format == Format::Protobuf
            && checked.rejected == 0
            && identity.as_ref().is_none_or(|id| id.cluster.is_none());
        let ctx = match identity {
            Some(id) => RequestContext {
                tenant: Some(id.tenant.clone()),
                cluster: id.cluster.clone(),
                protocol: Some(protocol),
                ..RequestContext::default()
            },
            None => RequestContext {
                protocol: Some(protocol),
                ..RequestContext::default()
            },
        };
        let mut durable = None;
        if checked.kept > 0 {
            let ack = pipeline.needs_ack().then(|| {
                let (ack, rx) = crate::pipeline::Ack::new();
                durable = Some(rx);
                ack
            });
            // Spans bound on the wire are forwarded as rewritten (the client's compressed
            // bytes no longer match them).
            let raw = match bound {
                Some(bound) => Raw {
                    body: bound,
                    wire: None,
                },
                None => Raw {
                    body: body.clone(),
                    wire,
                },
            };
            let batch = match req {
                Some(req) => Batch::new(ctx, req.into_payload(), checked.kept, body.len())
                    .with_raw(unchanged.then_some(raw)),
                None => Batch::encoded(ctx, R::SIGNAL, raw, checked.kept).with_walked_facts(walked),
            }
            .with_ack(ack);
            if let Err(e) = pipeline.try_send_charged(batch, Some(charge), Some(slot)) {
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

    /// The wire walk of a trace request to queue as received: what it found and (with an
    /// engine recording spans) the span facts; `None` when the request must be decoded
    /// (prost refuses it, or a span breaks a per-item rule). With `bound`, the cluster the
    /// token binds (`body` is then bound on the wire already, [`Receiver::bind_spans`]):
    /// the facts are the bound cluster's, and an attribute below the resources named as
    /// the cluster attribute's label is decoded too.
    fn walk_spans(
        &self,
        body: &[u8],
        weight: &Weight,
        bound: Option<&str>,
    ) -> Option<(WireSpans, Option<Box<WalkedFacts>>)> {
        let limits = self.item_limits();
        let reading = self.facts_for.get().and_then(|e| e.walk_schema());
        // The spans and resources the request's sizing counted size the columns.
        let counted = |n: Option<u64>| n.and_then(|n| usize::try_from(n).ok());
        let sizes = counted(weight.items).zip(counted(weight.resources));
        let (found, facts) = match (reading, bound) {
            (None, None) => (check_spans(body, &limits).ok()?, None),
            (Some((schema, cluster_attribute)), None) => {
                let (found, facts) =
                    check_spans_with_facts(body, &limits, None, cluster_attribute, &schema, sizes)
                        .ok()?;
                (found, Some(Box::new(WalkedFacts { facts, schema })))
            }
            (reading, Some(cluster)) => {
                let facts = reading
                    .as_ref()
                    .map(|(schema, attr)| (Some(cluster), *attr, &**schema, sizes));
                let (found, facts) =
                    check_spans_naming(body, &limits, &self.cluster_attribute, facts).ok()?;
                if found.names_label {
                    return None;
                }
                let facts = facts
                    .zip(reading)
                    .map(|(facts, (schema, _))| Box::new(WalkedFacts { facts, schema }));
                (found, facts)
            }
        };
        found.clean.then_some((found, facts))
    }

    /// A trace request of a token bound to `cluster`, bound on the wire
    /// ([`bind_wire::bind_spans`]) and walked ([`Receiver::walk_spans`]): the bytes to
    /// forward, with what the walk found; `None` when it must be decoded and bound there.
    fn bind_spans(
        &self,
        body: &[u8],
        weight: &Weight,
        cluster: &str,
    ) -> Option<(WireSpans, Option<Box<WalkedFacts>>, Option<bytes::Bytes>)> {
        let attr = self.cluster_attribute.as_str();
        let bound = bind_wire::bound_attribute(attr, cluster);
        let max = self.limits.max_attributes_per_item;
        let rewritten = bind_wire::bind_spans(body, attr, &bound, max)?;
        let (found, facts) = self.walk_spans(&rewritten, weight, Some(cluster))?;
        Some((found, facts, Some(rewritten.into())))
    }

    /// The per-item limits as the wire walk takes them.
    fn item_limits(&self) -> ItemLimits {
        ItemLimits {
            max_attributes: self.limits.max_attributes_per_item,
            max_events: self.limits.max_events_per_span,
            max_links: self.limits.max_links_per_span,
        }
    }

    /// Decodes, checks every item and binds the token's cluster (or refuses the resources
    /// naming a `reserved` one).
    fn decode_and_check<R: OtlpRequest>(
        &self,
        body: &[u8],
        format: Format,
        cluster: Option<&str>,
        reserved: &[Arc<str>],
    ) -> Result<(R, otlp::Checked), ReceiveError> {
        decode_checked(
            body,
            format,
            &self.limits,
            cluster.map(|c| (self.cluster_attribute.as_str(), c)),
            (self.cluster_attribute.as_str(), reserved),
        )
    }
}

/// The memory span facts hold: their columns' buffers (a buffer two columns share, such
/// as the resource keys of the dictionary columns, counted for each), the rows of the
/// comparisons lean facts hold, and the struct.
pub fn facts_bytes(facts: &WalkedFacts) -> usize {
    facts.facts.held_bytes() + std::mem::size_of::<WalkedFacts>()
}

/// A request after the receiver read it: decoded and checked, or (spans that nothing
/// changes but the cluster binding) only read on the wire, with its span count.
enum Received<R> {
    Decoded(R, otlp::Checked),
    /// The span count, the span facts read in the same walk, and the bytes bound on the
    /// wire (when the token binds a cluster).
    Encoded(usize, Option<Box<WalkedFacts>>, Option<bytes::Bytes>),
}

/// What a request will cost, read before it is decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weight {
    /// Items counted on the wire (protobuf only).
    pub items: Option<u64>,
    /// Resources counted on the wire (protobuf only).
    pub resources: Option<u64>,
    /// Upper bound of the memory its decoding takes.
    pub decoded: u64,
}

/// Reads a request body on the wire and holds it to the per-request limits (items,
/// resources, decoded size): refused for good past any of them.
pub fn weigh<R: OtlpRequest>(
    body: &[u8],
    format: Format,
    limits: &Limits,
) -> Result<Weight, ReceiveError> {
    let weight = match format {
        Format::Protobuf => {
            let cost = wire::cost(R::SIGNAL, body).map_err(|e| {
                ReceiveError::InvalidArgument(format!("cannot decode protobuf: {e}"))
            })?;
            if cost.resources > limits.max_resources_per_request as u64 {
                return Err(ReceiveError::TooLarge(format!(
                    "request has {} resources, more than the limit of {}",
                    cost.resources, limits.max_resources_per_request
                )));
            }
            if cost.items > limits.max_items_per_request as u64 {
                return Err(ReceiveError::TooLarge(format!(
                    "request has {} items, more than the limit of {}",
                    cost.items, limits.max_items_per_request
                )));
            }
            Weight {
                items: Some(cost.items),
                resources: Some(cost.resources),
                decoded: cost.decoded_bytes,
            }
        }
        Format::Json => Weight {
            items: None,
            resources: None,
            decoded: wire::json_cost(body),
        },
    };
    let wanted = weight.decoded.saturating_add(body.len() as u64);
    if wanted > limits.max_request_memory as u64 {
        return Err(ReceiveError::TooLarge(format!(
            "decoding this request would take about {wanted} bytes, more than the limit of {}",
            limits.max_request_memory
        )));
    }
    Ok(weight)
}

/// Decodes a request, checks every item (partial success), refuses the resources that name
/// one of the `(attribute, reserved clusters)` and, given `(attribute, cluster)`, binds the
/// cluster.
pub fn decode_checked<R: OtlpRequest>(
    body: &[u8],
    format: Format,
    limits: &Limits,
    cluster: Option<(&str, &str)>,
    (attr, reserved): (&str, &[Arc<str>]),
) -> Result<(R, otlp::Checked), ReceiveError> {
    let mut req: R = otlp::decode(body, format)?;
    let mut checked = req.check(limits)?;
    if !reserved.is_empty() {
        req.refuse_clusters(attr, reserved, &mut checked);
    }
    if let Some((attr, cluster)) = cluster {
        req.bind_cluster(attr, cluster);
    }
    Ok((req, checked))
}
