//! The SLO engine as a pipeline stage: a connector in the collector's sense, spans and
//! metric data points in, SLO state out; its series go back into the metrics pipeline (see
//! [`super::lifecycle`]) and onto `/metrics`. It sits on the traces and metrics pipelines
//! next to the exporters, so the receivers' request path never waits for it.

use std::sync::Arc;

use async_trait::async_trait;

use super::engine::Engine;
use crate::pipeline::{Batch, ExportError, Exporter, Origin, Payload};
use crate::telemetry::Signal;

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
        matches!(signal, Signal::Traces | Signal::Metrics)
    }

    /// Not the engine's own series, on their way to the metrics exporters.
    fn accepts_origin(&self, origin: Origin) -> bool {
        origin == Origin::Received
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let cluster = batch.ctx.cluster.as_deref();
        let record = || match &batch.payload {
            Payload::Traces(req) => self.engine.record_spans(req, cluster),
            Payload::Metrics(req) => self.engine.record_metrics(req, cluster),
            Payload::Logs(_) => {}
        };
        // A large request is CPU work of many milliseconds: on a multi-threaded runtime the
        // worker hands its other tasks over first, so it does not hold them up.
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if batch.items > BLOCKING_ITEMS && multi_thread {
            tokio::task::block_in_place(record);
        } else {
            record();
        }
        Ok(())
    }
}
