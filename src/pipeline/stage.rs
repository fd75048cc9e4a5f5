//! The interfaces pipeline stages implement.

use async_trait::async_trait;

use super::Batch;
use crate::signal::Signal;

/// A synchronous transformation of a batch (redaction, enrichment). Runs on the
/// dispatcher task, off the receivers' request path.
pub trait Processor: Send + Sync {
    fn name(&self) -> &str;
    fn process(&self, batch: &mut Batch);
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot encode batch: {0}")]
    Encode(Box<dyn std::error::Error + Send + Sync>),
    #[error("cannot encode batch: exporter queue is full")]
    QueueFull,
    #[error("exporter is shut down")]
    Shutdown,
}

/// A destination for batches. One exporter may serve several pipelines (signals) at once,
/// so implementations are shared (`Arc`) and take `&self`.
#[async_trait]
pub trait Exporter: Send + Sync {
    /// The configured id, e.g. `file/out`.
    fn id(&self) -> &str;
    /// Whether this exporter takes the given signal.
    fn accepts(&self, _signal: Signal) -> bool {
        true
    }
    /// Whether this exporter takes batches made by `origin` (the SLO connector does not
    /// read the SLO engine's own series back).
    fn accepts_origin(&self, _origin: super::Origin) -> bool {
        true
    }
    /// Whether the exporter can take more now. A queued exporter whose queue is full says
    /// no, and the pipeline then refuses new data with retry-later (backpressure).
    fn has_room(&self) -> bool {
        true
    }
    /// Why the exporter cannot take data now though it is not full (a disk queue whose
    /// disk fails), for readiness. `None` when it can.
    fn blocked(&self) -> Option<String> {
        None
    }
    /// Whether the exporter stores batches durably; the receiver then acknowledges only
    /// once the batch's [`super::Ack`] completes.
    fn is_durable(&self) -> bool {
        false
    }
    /// Whether the exporter delivers later from its own queue and counts deliveries
    /// itself (the pipeline then counts only failures to queue).
    fn is_queued(&self) -> bool {
        false
    }
    /// Delivers one batch. Returning an error counts the batch's items as failed.
    async fn export(&self, batch: &super::Batch) -> Result<(), ExportError>;
    /// Flushes and releases resources; called once after every pipeline has drained.
    /// Returns by `deadline`: what cannot be flushed by then is given up (and counted).
    async fn shutdown(&self, _deadline: tokio::time::Instant) -> Result<(), ExportError> {
        Ok(())
    }
}
