//! The SLO engine as a pipeline stage: a connector in the collector's sense, spans, metric
//! data points and log records in, SLO state out; its series go back into the metrics pipeline (see
//! [`super::lifecycle`]) and onto `/metrics`. It sits on the traces, metrics and logs pipelines (after redaction)
//! next to the exporters, so the receivers' request path never waits for it; with the engine's write-ahead log
//! (`slo.state_dir`) the connector is durable, and a request is acknowledged only once
//! its SLO deltas are on disk (see [`crate::slo::engine::wal`]).

use std::sync::Arc;

use async_trait::async_trait;

use super::engine::Engine;
use crate::pipeline::{Batch, ExportError, Exporter, Origin, Payload};
use crate::signal::Signal;
use crate::slo::facts::Spans;

/// Requests with more items than this are recorded with the runtime told that the task
/// blocks.
const BLOCKING_ITEMS: usize = 4_096;

pub struct SloConnector {
    engine: Arc<Engine>,
}

impl SloConnector {
    pub fn new(engine: Arc<Engine>) -> Self {
        Self { engine }
    }
}

#[async_trait]
impl Exporter for SloConnector {
    fn id(&self) -> &str {
        "slo"
    }

    fn accepts(&self, signal: Signal) -> bool {
        matches!(signal, Signal::Traces | Signal::Metrics | Signal::Logs)
    }

    /// Not the engine's own series, on their way to the metrics exporters.
    fn accepts_origin(&self, origin: Origin) -> bool {
        origin == Origin::Received
    }

    fn is_durable(&self) -> bool {
        self.engine.wal().is_some()
    }

    /// A log that refuses deltas (see [`crate::slo::engine::wal::Wal::refusing`]) refuses
    /// requests before they are decoded, with retry-later.
    fn has_room(&self) -> bool {
        self.engine.wal().is_none_or(|w| w.refusing().is_none())
    }

    fn blocked(&self) -> Option<String> {
        self.engine
            .wal()
            .and_then(|w| w.refusing())
            .map(|r| r.to_string())
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let cluster = batch.ctx.cluster.as_deref();
        // The request's protobuf as received (what the capture cuts metric requests from),
        // while nothing has changed the payload since.
        let raw = batch.raw().map(|r| &r.body[..]);
        let tenant = batch.ctx.tenant.as_deref();
        if batch.signal() == Signal::Logs && !self.engine.has_log_slos() {
            // Nothing to record, and nothing to wait for in the write-ahead log.
            return Ok(());
        }
        // Spans the receiver did not decode: the facts it read in its walk, or (without
        // them) read on the wire here.
        let encoded = match batch.walked_facts() {
            Some((facts, body)) => Some(Spans::Walked(facts, body)),
            None => batch.undecoded().map(Spans::Encoded),
        }
        .filter(|_| batch.signal() == Signal::Traces);
        let record = || -> Result<(), ExportError> {
            let Some(wal) = self.engine.wal() else {
                if let Some(spans) = encoded {
                    self.engine.record_spans_from(spans, cluster, tenant, None);
                    return Ok(());
                }
                match batch.payload() {
                    Payload::Traces(req) => {
                        self.engine.record_spans_from(req, cluster, tenant, None)
                    }
                    Payload::Metrics(req) => self
                        .engine
                        .record_metrics_logged(req, raw, cluster, tenant, None),
                    Payload::Logs(req) => self.engine.record_logs_from(req, cluster, tenant, None),
                }
                return Ok(());
            };
            let mut unit = wal
                .begin()
                .map_err(|r| ExportError::Io(std::io::Error::other(r)))?;
            match (encoded, encoded.is_none().then(|| batch.payload())) {
                (Some(spans), _) => {
                    self.engine
                        .record_spans_from(spans, cluster, tenant, Some(&mut unit.enc))
                }
                (None, Some(Payload::Traces(req))) => {
                    self.engine
                        .record_spans_from(req, cluster, tenant, Some(&mut unit.enc))
                }
                (None, Some(Payload::Metrics(req))) => self.engine.record_metrics_logged(
                    req,
                    raw,
                    cluster,
                    tenant,
                    Some(&mut unit.enc),
                ),
                (None, Some(Payload::Logs(req))) => {
                    self.engine
                        .record_logs_from(req, cluster, tenant, Some(&mut unit.enc))
                }
                (None, None) => {}
            }
            // The batch's ack completes once this clone is dropped too: after the sync.
            let ack = batch.ack.clone();
            unit.commit(Some(Box::new(move |durable| {
                if !durable && let Some(a) = &ack {
                    a.fail();
                }
                drop(ack);
            })));
            Ok(())
        };
        // A large request is CPU work of many milliseconds: on a multi-threaded runtime the
        // worker hands its other tasks over first, so it does not hold them up.
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if batch.items > BLOCKING_ITEMS && multi_thread {
            tokio::task::block_in_place(record)
        } else {
            record()
        }
    }
}
