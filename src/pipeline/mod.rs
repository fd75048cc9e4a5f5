//! Pipelines: the bounded queues between receivers and exporters.
//!
//! There is one pipeline per signal. A receiver takes a decode slot
//! ([`PipelineSender::reserve`], the only wait, bounded), decodes, and hands the request
//! ([`Batch`]) to [`PipelineSender::try_send_charged`]; that call never waits: when the queue
//! is full it fails at once and the receiver tells the client to retry later. A dispatcher task takes batches off the
//! queue, runs the processors in order, then hands the batch to every exporter of the
//! pipeline. Prost types flow through unchanged.
//!
//! # Invariants
//!
//! - The queue is bounded in encoded request bytes (plus a fixed overhead per request), so
//!   memory stays bounded whatever clients send. The byte permit travels with the batch and
//!   is released only once every exporter has finished with it.
//! - Memory stays flat under overload: a receiver takes one of a few [`Slot`]s
//!   ([`PipelineSender::reserve`]) *before* it decodes a request, and the slot travels with
//!   the batch until the dispatcher is done with it. So at most that many decoded requests
//!   exist at once, however many clients send; a few more (4 per slot) wait holding only
//!   their bodies (charged to the memory budget) and are told to retry when the wait runs
//!   out; beyond those, requests are told to retry at once. Without
//!   it, one worker thread polls every connection in turn and each decodes a request before
//!   the dispatcher runs again: the queue of decoded batches grows with the connections.
//! - A batch that was accepted is exported before shutdown completes: closing the pipeline
//!   stops new sends, and the dispatcher drains what is queued, then shuts the exporters down.
//!
//! # Layout
//!
//! - `mod.rs`: [`Batch`], [`Payload`], [`RequestContext`], the sender and the dispatcher.
//! - `stage.rs`: the [`Processor`] and [`Exporter`] traits stages implement.
//! - `budget.rs`: the process-wide memory budget a batch's [`budget::Charge`] is held
//!   against until the last stage is done with it.
//! - `otlp_json.rs`: OTLP/JSON encoding of the payload types.

pub mod budget;
pub mod otlp_json;
mod stage;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prometheus_client::metrics::counter::Counter;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc};
use tokio::task::JoinHandle;

pub use stage::{ExportError, Exporter, Processor};

use crate::signal::{Protocol, Signal};
use crate::slo::facts::wire::WalkedFacts;
use crate::telemetry::log_limit::LogLimiter;
use crate::telemetry::{ExporterLabels, Metrics, SignalLabels};

/// Bytes charged per request on top of its encoded size, so that a flood of tiny requests
/// is bounded too.
const PER_REQUEST_OVERHEAD: usize = 512;

/// Decoded requests that may exist at once per pipeline and per runtime worker thread
/// (see [`Slot`]): enough to keep every worker and the dispatcher busy.
const SLOTS_PER_WORKER: usize = 4;

/// The fewest decode slots a pipeline has, whatever the number of workers.
const MIN_SLOTS: usize = 8;

/// Receivers that may wait for a decode slot at once, per slot; more are told to retry
/// at once, so the bodies held by waiting requests stay bounded too.
const WAITERS_PER_SLOT: usize = 4;

/// The number of decode slots of a pipeline on a runtime with `workers` threads.
pub fn decode_slots(workers: usize) -> usize {
    workers.saturating_mul(SLOTS_PER_WORKER).max(MIN_SLOTS)
}

/// The right to hold one decoded request in a pipeline (see the module's invariants):
/// taken before decoding, released once the dispatcher is done with the batch.
#[must_use = "a slot is released when dropped"]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

/// Who sent a request: resolved by the receiver from the bearer token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The tenant bound to the token (`None` without auth).
    pub tenant: Option<Arc<str>>,
    /// The cluster bound to the token; overrides `k8s.cluster.name` of the data.
    pub cluster: Option<Arc<str>>,
    /// How the request arrived.
    pub protocol: Option<Protocol>,
    /// Who made the batch: a sender, or slotel's SLO engine.
    pub origin: Origin,
}

/// Who made a batch. The SLO engine's series enter the metrics pipeline like any metrics;
/// the SLO connector does not read them back, and remote write lets their own labels keep
/// their values where an external label has the same name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// Received from a sender.
    #[default]
    Received,
    /// The SLO engine's series.
    Slo,
}

/// A decoded OTLP export request.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    Traces(ExportTraceServiceRequest),
    Metrics(ExportMetricsServiceRequest),
    Logs(ExportLogsServiceRequest),
}

impl Payload {
    pub fn signal(&self) -> Signal {
        match self {
            Payload::Traces(_) => Signal::Traces,
            Payload::Metrics(_) => Signal::Metrics,
            Payload::Logs(_) => Signal::Logs,
        }
    }
}

/// Completes when every durable exporter holds its copy of a batch: the receiver waits
/// for it before acknowledging when a pipeline has a disk queue. Clones share one outcome;
/// it is sent when the last clone is dropped: success unless some holder called
/// [`Ack::fail`].
#[derive(Clone, Debug)]
pub struct Ack(Arc<AckInner>);

#[derive(Debug)]
struct AckInner {
    tx: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<bool>>>,
    failed: AtomicBool,
}

impl Ack {
    /// A new ack and the receiver that learns its outcome (`true` = durable).
    pub fn new() -> (Self, tokio::sync::oneshot::Receiver<bool>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let inner = AckInner {
            tx: std::sync::Mutex::new(Some(tx)),
            failed: AtomicBool::new(false),
        };
        (Self(Arc::new(inner)), rx)
    }

    /// Marks the batch as not stored: the receiver answers retry-later.
    pub fn fail(&self) {
        self.0.failed.store(true, Ordering::Release);
    }
}

impl Drop for AckInner {
    fn drop(&mut self) {
        let tx = match self.tx.get_mut() {
            Ok(tx) => tx.take(),
            Err(e) => e.into_inner().take(),
        };
        if let Some(tx) = tx {
            let _ = tx.send(!self.failed.load(Ordering::Acquire));
        }
    }
}

/// One request's worth of data moving through a pipeline.
///
/// The payload is private: it changes only through [`Batch::edit_payload`] or
/// [`Batch::payload_mut`], which drop the bytes as received with any change, so a changed
/// (redacted) batch can never be forwarded as it arrived. A batch the receiver did not
/// decode ([`Batch::encoded`]) is decoded only when a stage reads its payload: OTLP
/// exporters forward the bytes and the SLO connector reads them on the wire
/// ([`Batch::undecoded`]).
#[derive(Debug)]
pub struct Batch {
    pub ctx: RequestContext,
    signal: Signal,
    /// The decoded request; for a batch made by [`Batch::encoded`], decoded from the bytes
    /// as received the first time a stage asks for it.
    payload: OnceLock<Payload>,
    /// Spans, data points or log records in `payload`.
    pub items: usize,
    /// Encoded size of the request as received (after decompression).
    pub bytes: usize,
    /// Set when the receiver waits for durable exporters before acknowledging.
    pub ack: Option<Ack>,
    /// The request's bytes as received, while nothing has changed the payload: OTLP
    /// exporters forward them instead of encoding (and compressing) again.
    raw: Option<Raw>,
    /// The span facts the receiver read in its walk of `raw` (see
    /// [`Batch::walked_facts`]).
    walked: Option<Box<WalkedFacts>>,
}

impl Batch {
    /// A batch of `items` items, `bytes` long encoded, made by slotel or decoded without
    /// keeping the bytes as received.
    pub fn new(ctx: RequestContext, payload: Payload, items: usize, bytes: usize) -> Self {
        Self {
            ctx,
            signal: payload.signal(),
            payload: OnceLock::from(payload),
            items,
            bytes,
            ack: None,
            raw: None,
            walked: None,
        }
    }

    /// The same batch, remembering the bytes `payload` was decoded from: exporters may
    /// forward them while nothing changes the payload.
    pub fn with_raw(mut self, raw: Option<Raw>) -> Self {
        self.raw = raw;
        self
    }

    /// The same batch, with an acknowledgement the receiver waits for.
    pub fn with_ack(mut self, ack: Option<Ack>) -> Self {
        self.ack = ack;
        self
    }

    /// A batch of `items` items of `signal` as received, not decoded: the receiver read it
    /// on the wire and found that prost decodes it and that nothing in it needs changing.
    pub fn encoded(ctx: RequestContext, signal: Signal, raw: Raw, items: usize) -> Self {
        Self {
            ctx,
            signal,
            payload: OnceLock::new(),
            items,
            bytes: raw.body.len(),
            ack: None,
            raw: Some(raw),
            walked: None,
        }
    }

    /// The same batch, with the span facts the receiver read in its walk of the bytes as
    /// received. Their memory is part of the charge the batch is queued with (the
    /// receiver adds it to the request's).
    pub fn with_walked_facts(mut self, facts: Option<Box<WalkedFacts>>) -> Self {
        self.walked = facts;
        self
    }

    /// The span facts the receiver read of the bytes as received, with the bytes, while
    /// the batch is [`Batch::undecoded`] (nothing has decoded, let alone changed, it).
    pub fn walked_facts(&self) -> Option<(&WalkedFacts, &[u8])> {
        Some((self.walked.as_deref()?, self.undecoded()?))
    }

    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// The decoded request (decoded now if the batch was made from its bytes).
    pub fn payload(&self) -> &Payload {
        self.payload
            .get_or_init(|| decode(self.signal, self.raw.as_ref()))
    }

    /// The bytes as received while the payload has not been decoded: read them rather
    /// than decoding.
    pub fn undecoded(&self) -> Option<&[u8]> {
        match self.payload.get() {
            None => self.raw.as_ref().map(|r| &r.body[..]),
            Some(_) => None,
        }
    }

    pub fn into_payload(self) -> Payload {
        self.payload();
        let signal = self.signal;
        self.payload
            .into_inner()
            .unwrap_or_else(|| decode(signal, None))
    }

    /// The bytes as received, while the payload is unchanged.
    pub fn raw(&self) -> Option<&Raw> {
        self.raw.as_ref()
    }

    /// The payload, to change: the bytes as received are dropped now.
    pub fn payload_mut(&mut self) -> &mut Payload {
        self.payload();
        self.raw = None;
        if self.payload.get().is_none() {
            let _ = self.payload.set(decode(self.signal, None));
        }
        self.payload
            .get_mut()
            .expect("the payload was decoded just above")
    }

    /// Runs `edit` on the payload (with the batch's context); `edit` returns how many
    /// changes it made. Any change drops the bytes as received; none keeps them.
    pub fn edit_payload(&mut self, edit: impl FnOnce(&RequestContext, &mut Payload) -> u64) -> u64 {
        self.payload();
        let ctx = &self.ctx;
        let Some(payload) = self.payload.get_mut() else {
            return 0;
        };
        let changes = edit(ctx, payload);
        if changes > 0 {
            self.raw = None;
        }
        changes
    }
}

/// Decodes the bytes of a batch made by [`Batch::encoded`]. The receiver read them with
/// the same rules as prost first, so they decode; if they did not, the batch would hold an
/// empty request.
fn decode(signal: Signal, raw: Option<&Raw>) -> Payload {
    use prost::Message;
    let body = raw.map_or(&[][..], |r| &r.body[..]);
    match signal {
        Signal::Traces => {
            Payload::Traces(ExportTraceServiceRequest::decode(body).unwrap_or_default())
        }
        Signal::Metrics => {
            Payload::Metrics(ExportMetricsServiceRequest::decode(body).unwrap_or_default())
        }
        Signal::Logs => Payload::Logs(ExportLogsServiceRequest::decode(body).unwrap_or_default()),
    }
}

/// A request as it was received: its protobuf bytes and, when the client compressed it,
/// the compressed bytes too.
#[derive(Debug, Clone, PartialEq)]
pub struct Raw {
    /// The protobuf export request (decompressed).
    pub body: bytes::Bytes,
    /// The body as it came over the wire, when it was compressed: one gzip or zstd stream
    /// of `body`, which an exporter compressing with the same algorithm sends as it is.
    pub wire: Option<Wire>,
}

/// A compressed request body as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Wire {
    pub compression: crate::signal::Compression,
    pub body: bytes::Bytes,
}

impl Raw {
    /// Bytes received uncompressed.
    pub fn plain(body: bytes::Bytes) -> Self {
        Self { body, wire: None }
    }
}

/// Why a batch could not be queued.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    #[error("pipeline queue is full")]
    Full,
    #[error("pipeline is shutting down")]
    Closed,
}

struct Queued {
    batch: Batch,
    _permit: OwnedSemaphorePermit,
    /// The decode slot the receiver took, if it took one.
    _slot: Option<Slot>,
    /// The batch's share of the process-wide memory budget, returned with the permit.
    _charge: Option<budget::Charge>,
}

/// Makes the last batch of a pipeline once everything queued before it was exported (the
/// SLO engine's final series, written after the spans and points that led to them).
pub type LastBatch = Box<dyn FnOnce() -> Option<Batch> + Send>;

struct Shared {
    signal: Signal,
    capacity: usize,
    bytes: Arc<Semaphore>,
    /// Decode slots ([`Slot`]).
    slots: Arc<Semaphore>,
    /// Receivers waiting for a slot now, and how many may.
    waiting: AtomicUsize,
    max_waiting: usize,
    /// When a request was last turned away for want of a slot (ms since `epoch`, 0: never).
    last_turned_away_ms: AtomicU64,
    epoch: tokio::time::Instant,
    closed: AtomicBool,
    close_notify: Notify,
    /// Set by [`Pipeline::close_with`]; taken once the queue is drained.
    last: std::sync::Mutex<Option<LastBatch>>,
    metrics: Arc<Metrics>,
    exporters: Vec<Arc<dyn Exporter>>,
    durable: bool,
    /// Some processor runs on every batch (and reads or changes its payload).
    processors: bool,
}

impl Shared {
    fn turned_away(&self) {
        let now = self.epoch.elapsed().as_millis() as u64;
        self.last_turned_away_ms
            .store(now.max(1), Ordering::Relaxed);
    }

    fn update_gauge(&self) {
        let used = self.capacity.saturating_sub(self.bytes.available_permits());
        self.metrics
            .queue_size
            .get_or_create(&SignalLabels {
                signal: self.signal,
            })
            .set(used as i64);
    }
}

/// The sending side of a pipeline; cheap to clone.
#[derive(Clone)]
pub struct PipelineSender {
    tx: mpsc::UnboundedSender<Queued>,
    shared: Arc<Shared>,
}

impl PipelineSender {
    /// Queues a batch without waiting.
    pub fn try_send(&self, batch: Batch) -> Result<(), SendError> {
        self.try_send_charged(batch, None, None)
    }

    /// Waits up to `wait` for a decode slot: to be taken before decoding a request whose
    /// batch is then queued with [`PipelineSender::try_send_charged`]. `Full` when the wait
    /// runs out (the client is told to retry), `Closed` when the pipeline is closing.
    pub async fn reserve(&self, wait: std::time::Duration) -> Result<Slot, SendError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(SendError::Closed);
        }
        if let Ok(p) = self.shared.slots.clone().try_acquire_owned() {
            return Ok(Slot { _permit: p });
        }
        let shared = &self.shared;
        if shared.waiting.fetch_add(1, Ordering::AcqRel) >= shared.max_waiting {
            shared.waiting.fetch_sub(1, Ordering::AcqRel);
            shared.turned_away();
            return Err(SendError::Full);
        }
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let _waiting = Waiting(&shared.waiting);
        match tokio::time::timeout(wait, shared.slots.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(Slot { _permit: p }),
            Ok(Err(_)) => Err(SendError::Closed),
            Err(_) => {
                shared.turned_away();
                Err(SendError::Full)
            }
        }
    }

    /// Whether a request would be refused by [`PipelineSender::reserve`] at once: no slot
    /// free and as many receivers waiting as may. Asked before a body is read, so that
    /// under overload a refusal costs no body.
    pub fn saturated(&self) -> bool {
        let shared = &self.shared;
        if shared.closed.load(Ordering::Acquire) {
            return true;
        }
        let full = shared.slots.available_permits() == 0
            && shared.waiting.load(Ordering::Acquire) >= shared.max_waiting;
        if full {
            shared.turned_away();
        }
        full
    }

    /// Whether a request was turned away for want of a decode slot within the last
    /// `window` (readiness follows it: the pipeline cannot take more now).
    pub fn turned_away_within(&self, window: std::time::Duration) -> bool {
        let last = self.shared.last_turned_away_ms.load(Ordering::Relaxed);
        last != 0
            && (self.shared.epoch.elapsed().as_millis() as u64).saturating_sub(last)
                < window.as_millis() as u64
    }

    /// Queues a batch without waiting, holding `charge` and `slot` until every stage is
    /// done with it.
    pub fn try_send_charged(
        &self,
        batch: Batch,
        charge: Option<budget::Charge>,
        slot: Option<Slot>,
    ) -> Result<(), SendError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(SendError::Closed);
        }
        if !self.shared.exporters.iter().all(|e| e.has_room()) {
            return Err(SendError::Full);
        }
        let cost = batch
            .bytes
            .saturating_add(PER_REQUEST_OVERHEAD)
            .min(self.shared.capacity);
        let permits = u32::try_from(cost).unwrap_or(u32::MAX);
        let permit = match self.shared.bytes.clone().try_acquire_many_owned(permits) {
            Ok(p) => p,
            Err(TryAcquireError::NoPermits) => return Err(SendError::Full),
            Err(TryAcquireError::Closed) => return Err(SendError::Closed),
        };
        self.tx
            .send(Queued {
                batch,
                _permit: permit,
                _slot: slot,
                _charge: charge,
            })
            .map_err(|_| SendError::Closed)?;
        self.shared.update_gauge();
        Ok(())
    }

    /// Whether a request of `bytes` would be queued now. Checked before decoding, so that
    /// refusing under backpressure costs next to nothing; [`PipelineSender::try_send`]
    /// checks again.
    pub fn has_room(&self, bytes: usize) -> Result<(), SendError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(SendError::Closed);
        }
        let cost = bytes
            .saturating_add(PER_REQUEST_OVERHEAD)
            .min(self.shared.capacity);
        if self.shared.bytes.available_permits() < cost
            || !self.shared.exporters.iter().all(|e| e.has_room())
        {
            return Err(SendError::Full);
        }
        Ok(())
    }

    /// Whether the pipeline is closing.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Fraction of the queue in use, 0.0 to 1.0.
    pub fn fill_ratio(&self) -> f64 {
        let used = self
            .shared
            .capacity
            .saturating_sub(self.shared.bytes.available_permits());
        used as f64 / self.shared.capacity.max(1) as f64
    }

    pub fn signal(&self) -> Signal {
        self.shared.signal
    }

    /// Why some exporter of the pipeline refuses data though it is not full (see
    /// [`Exporter::blocked`]).
    pub fn blocked(&self) -> Option<String> {
        self.shared.exporters.iter().find_map(|e| e.blocked())
    }

    /// Whether processors run on the pipeline's batches: they read (and may change) the
    /// decoded payload, so the receiver decodes at once rather than handing over bytes.
    pub fn has_processors(&self) -> bool {
        self.shared.processors
    }

    /// Whether batches must carry an [`Ack`]: some exporter of the pipeline is durable,
    /// and the receiver acknowledges only once the batch is stored.
    pub fn needs_ack(&self) -> bool {
        self.shared.durable
    }
}

/// A running pipeline: the sender to hand to receivers and the dispatcher task.
pub struct Pipeline {
    sender: PipelineSender,
    dispatcher: JoinHandle<()>,
}

impl Pipeline {
    /// Starts the dispatcher of one signal's pipeline.
    pub fn start(
        signal: Signal,
        capacity_bytes: usize,
        slots: usize,
        processors: Vec<Arc<dyn Processor>>,
        exporters: Vec<Arc<dyn Exporter>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        // Semaphore permits are u32 per acquire but the total may be larger.
        let capacity = capacity_bytes.clamp(PER_REQUEST_OVERHEAD, Semaphore::MAX_PERMITS);
        let shared = Arc::new(Shared {
            signal,
            capacity,
            bytes: Arc::new(Semaphore::new(capacity)),
            slots: Arc::new(Semaphore::new(slots.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting: slots.max(1).saturating_mul(WAITERS_PER_SLOT),
            last_turned_away_ms: AtomicU64::new(0),
            epoch: tokio::time::Instant::now(),
            closed: AtomicBool::new(false),
            close_notify: Notify::new(),
            last: std::sync::Mutex::new(None),
            metrics: metrics.clone(),
            durable: exporters.iter().any(|e| e.is_durable()),
            processors: !processors.is_empty(),
            exporters: exporters.clone(),
        });
        metrics
            .queue_capacity
            .get_or_create(&SignalLabels { signal })
            .set(capacity as i64);
        shared.update_gauge();
        let (tx, rx) = mpsc::unbounded_channel();
        let dispatcher = tokio::spawn(dispatch(rx, shared.clone(), processors, exporters));
        Self {
            sender: PipelineSender { tx, shared },
            dispatcher,
        }
    }

    pub fn sender(&self) -> PipelineSender {
        self.sender.clone()
    }

    /// Stops accepting new batches and exports everything queued. Returns once the
    /// dispatcher has finished; exporters are shut down by the caller, once, after every
    /// pipeline that shares them is closed.
    pub async fn close(self) {
        self.close_with(None).await
    }

    /// Like [`Pipeline::close`], and once everything queued is exported, `last` makes one
    /// more batch that goes through the processors and exporters too.
    pub async fn close_with(self, last: Option<LastBatch>) {
        let Pipeline { sender, dispatcher } = self;
        let shared = sender.shared.clone();
        drop(sender);
        if let Ok(mut slot) = shared.last.lock() {
            *slot = last;
        }
        shared.closed.store(true, Ordering::Release);
        // Receivers waiting for a slot are told the pipeline is closing.
        shared.slots.close();
        shared.close_notify.notify_one();
        if let Err(e) = dispatcher.await {
            tracing::error!(signal = shared.signal.as_str(), error = %e, "pipeline dispatcher failed");
        }
    }
}

async fn dispatch(
    mut rx: mpsc::UnboundedReceiver<Queued>,
    shared: Arc<Shared>,
    processors: Vec<Arc<dyn Processor>>,
    exporters: Vec<Arc<dyn Exporter>>,
) {
    let exporters: Vec<Dispatched> = exporters
        .into_iter()
        .map(|exporter| Dispatched {
            exporter,
            log: LogLimiter::default(),
            sent: OnceLock::new(),
        })
        .collect();
    loop {
        let queued = if shared.closed.load(Ordering::Acquire) {
            // Closing: take what is left without waiting for new sends.
            rx.close();
            match rx.recv().await {
                Some(q) => q,
                None => break,
            }
        } else {
            tokio::select! {
                q = rx.recv() => match q { Some(q) => q, None => break },
                _ = shared.close_notify.notified() => continue,
            }
        };
        let Queued {
            mut batch,
            _permit,
            _slot,
            _charge,
        } = queued;
        run_stages(&shared, &processors, &exporters, &mut batch).await;
        drop(batch);
        drop(_charge);
        drop(_slot);
        drop(_permit);
        shared.update_gauge();
    }
    let last = shared.last.lock().ok().and_then(|mut l| l.take());
    if let Some(mut batch) = last.and_then(|make| make()) {
        run_stages(&shared, &processors, &exporters, &mut batch).await;
    }
}

/// An exporter as the dispatcher holds it.
struct Dispatched {
    exporter: Arc<dyn Exporter>,
    /// Failures are logged once per interval, with the count held back.
    log: LogLimiter,
    /// The sent counter, found in its family at the first batch sent (not before: an
    /// exporter that never sent has no series), then counted without a look-up.
    sent: OnceLock<Counter>,
}

/// Runs one batch through the processors, then every exporter in order.
async fn run_stages(
    shared: &Shared,
    processors: &[Arc<dyn Processor>],
    exporters: &[Dispatched],
    batch: &mut Batch,
) {
    let signal = shared.signal;
    for p in processors {
        p.process(batch);
    }
    for Dispatched {
        exporter: e,
        log,
        sent,
    } in exporters
    {
        if !e.accepts_origin(batch.ctx.origin) {
            continue;
        }
        let labels = || ExporterLabels {
            exporter: e.id().to_string(),
            signal,
        };
        match e.export(batch).await {
            Ok(()) if e.is_queued() => {}
            Ok(()) => {
                sent.get_or_init(|| {
                    shared
                        .metrics
                        .exporter_sent
                        .get_or_create(&labels())
                        .clone()
                })
                .inc_by(batch.items as u64);
            }
            Err(err) => {
                if e.is_durable()
                    && let Some(ack) = &batch.ack
                {
                    ack.fail();
                }
                shared
                    .metrics
                    .exporter_failed
                    .get_or_create(&labels())
                    .inc_by(batch.items as u64);
                if let Some(more) = log.check("export_failed") {
                    tracing::warn!(exporter = e.id(), signal = signal.as_str(), items = batch.items, error = %err, "export failed{more}");
                }
            }
        }
    }
}
