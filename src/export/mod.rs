//! Exporters: where batches leave slotel.
//!
//! # Layout
//!
//! - `mod.rs`: building exporters from config.
//! - `debug.rs`: logs a summary of each batch (like the collector's debug exporter).
//! - `file.rs`: OTLP JSON lines in a file (like the collector's file exporter).
//! - `nop.rs`: accepts and discards (benchmarks, tests).
//! - `delivery/`: [`QueuedExporter`]: a remote exporter behind its own queue, with
//!   consumers that retry.
//! - `queue/`: the bounded queue, in memory or on disk (redb), and its records.
//! - `error.rs`: [`BuildError`], [`EncodeError`] and [`TlsError`]: typed, so callers and
//!   tests match on what went wrong.
//! - `retry.rs`: the one retry classification and the backoff.
//! - `failure.rs`: a backend's refusal summarised (status, reason class, body length):
//!   error bodies echo the refused data, so they never reach slotel's logs.
//! - `client.rs`: the HTTP(S) client the remote exporters share.
//! - `proxy.rs`: `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`: forward proxying and `CONNECT`
//!   tunnels under that client.
//! - `remote_write/`: `prometheusremotewrite` (OTLP metrics → remote write 1.0).
//! - `otlp/`: `otlp` (gRPC) and `otlphttp`: OTLP traces, metrics and logs passed on.
//! - `loki/`: `loki` (OTLP logs → the Loki push API).
//! - `limits.rs`: the backends' per-record limits that `loki` and `prometheusremotewrite`
//!   keep (cut names and values, truncated lines, dropped records), their counters, and
//!   the attribute-value text both write.
//! - `proto.rs`: the remote write and Loki messages compiled from `proto/`.

pub(crate) mod client;
mod debug;
pub mod delivery;
mod error;
pub mod failure;
mod file;
pub mod limits;
pub mod loki;
mod nop;
pub mod otlp;
pub mod proto;
pub mod proxy;
pub mod queue;
pub mod remote_write;
pub mod retry;

use std::sync::Arc;

pub use debug::DebugExporter;
pub use delivery::{QueuedExporter, Remote};
pub use error::{BuildError, EncodeError, ExporterError, TlsError};
pub use file::FileExporter;
pub use nop::NopExporter;
pub use remote_write::RemoteWrite;

use crate::config::{ExporterConfig, ExporterKind, QueueStorage};
use crate::pipeline::Exporter;
use crate::telemetry::Metrics;

/// Builds the exporter an entry of `exporters` describes. Local exporters open nothing
/// yet (the file exporter opens its file on first use); remote ones open their queue and
/// start delivering.
pub fn build(
    cfg: &ExporterConfig,
    metrics: &Arc<Metrics>,
) -> Result<Arc<dyn Exporter>, ExporterError> {
    let named = |source: BuildError| ExporterError {
        id: cfg.id.clone(),
        source,
    };
    let local = |exporter: Arc<dyn Exporter>| exporter;
    let queued = |remote: Arc<dyn Remote>, delivery| {
        QueuedExporter::start(&cfg.id, remote, delivery, metrics.clone())
            .map(|q| q as Arc<dyn Exporter>)
            .map_err(named)
    };
    Ok(match &cfg.kind {
        ExporterKind::Debug { verbosity } => {
            local(Arc::new(DebugExporter::new(&cfg.id, *verbosity)))
        }
        ExporterKind::File { path } => local(Arc::new(FileExporter::new(&cfg.id, path.clone()))),
        ExporterKind::Nop => local(Arc::new(NopExporter::new(&cfg.id))),
        ExporterKind::RemoteWrite(rw, delivery) => {
            // The SLO series leave through their own lane: sharded by series, several
            // requests at once, the oldest snapshot dropped when the backend lags.
            let remote = Arc::new(
                RemoteWrite::new(rw)
                    .map_err(named)?
                    .counting(&cfg.id, metrics)
                    .with_slo_lane(&cfg.id, &delivery.retry, metrics.clone()),
            );
            // Received metrics: one request at a time, as Prometheus refuses a series'
            // samples out of order.
            let mut delivery = delivery.clone();
            delivery.queue.num_consumers = 1;
            queued(remote, &delivery)?
        }
        ExporterKind::OtlpGrpc(otlp, delivery) => {
            let on_disk = delivery.queue.storage == QueueStorage::Disk;
            let remote =
                otlp::OtlpGrpc::new(&cfg.id, otlp, on_disk, metrics.clone()).map_err(named)?;
            local(queued(Arc::new(remote), delivery)?)
        }
        ExporterKind::OtlpHttp(otlp, delivery) => {
            // A disk queue stores bodies compressed: less to write and fsync.
            let on_disk = delivery.queue.storage == QueueStorage::Disk;
            let remote =
                otlp::OtlpHttp::new(&cfg.id, otlp, on_disk, metrics.clone()).map_err(named)?;
            local(queued(Arc::new(remote), delivery)?)
        }
        ExporterKind::Loki(cfg_loki, delivery) => {
            let remote = loki::Loki::new(cfg_loki)
                .map_err(named)?
                .counting(&cfg.id, metrics);
            local(queued(Arc::new(remote), delivery)?)
        }
    })
}
