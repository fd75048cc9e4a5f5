//! Exporters: where batches leave slotel.
//!
//! # Layout
//!
//! - `mod.rs`: building exporters from config.
//! - `debug.rs`: logs a summary of each batch (like the collector's debug exporter).
//! - `file.rs`: OTLP JSON lines in a file (like the collector's file exporter).
//! - `nop.rs`: accepts and discards (benchmarks, tests).

mod debug;
mod file;
mod nop;

use std::sync::Arc;

pub use debug::DebugExporter;
pub use file::FileExporter;
pub use nop::NopExporter;

use crate::config::{ExporterConfig, ExporterKind};
use crate::pipeline::Exporter;

/// Builds the exporter an entry of `exporters` describes. Nothing is opened yet: the
/// file exporter opens its file on first use.
pub fn build(cfg: &ExporterConfig) -> Arc<dyn Exporter> {
    match &cfg.kind {
        ExporterKind::Debug { verbosity } => Arc::new(DebugExporter::new(&cfg.id, *verbosity)),
        ExporterKind::File { path } => Arc::new(FileExporter::new(&cfg.id, path.clone())),
        ExporterKind::Nop => Arc::new(NopExporter::new(&cfg.id)),
    }
}
