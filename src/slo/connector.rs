//! The SLO engine as a pipeline stage: a connector in the collector's sense, spans and
//! metric data points in, SLO state (and, through `/metrics` and exporters, series) out. It
//! sits on the traces and metrics pipelines next to the exporters, so the receivers'
//! request path never waits for it.

use std::sync::Arc;

use async_trait::async_trait;

use super::engine::Engine;
use crate::pipeline::{Batch, ExportError, Exporter, Payload};
use crate::telemetry::Signal;

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

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let cluster = batch.ctx.cluster.as_deref();
        match &batch.payload {
            Payload::Traces(req) => self.engine.record_spans(req, cluster),
            Payload::Metrics(req) => self.engine.record_metrics(req, cluster),
            Payload::Logs(_) => {}
        }
        Ok(())
    }
}
