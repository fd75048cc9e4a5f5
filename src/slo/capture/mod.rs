//! `slo.capture`: every received span's facts (and, while log SLOs are loaded, every log
//! record's) on disk as compressed Arrow IPC files, for `slotel replay` to evaluate any SLO
//! over the real traffic afterwards.
//!
//! The engine builds one Arrow batch of span facts per trace request anyway
//! ([`crate::slo::facts`]); with a capture its schema also holds the capture's columns, and
//! the engine hands each batch ([`FactsSink::offer`]) to a bounded queue, which wakes the
//! writer thread once a message's rows have come (or at its next tick). The writer
//! gathers the batches of several requests (up to 8,192 rows, or what came within 2 s)
//! into one and appends it to the current file: the Arrow IPC stream format,
//! zstd-compressed buffers, flushed once a second, so a file in progress is readable and a
//! span's facts are on disk within 3 s of its receipt. A full queue drops the batch and
//! counts it: recording never waits for the disk.
//!
//! # Files
//!
//! `DIR/facts-<first receipt, Unix ns, 20 digits>-<sequence, 6 digits>.arrows` for span
//! facts, `DIR/logs-…` for log facts ([`crate::slo::facts::logs`]; their schema's metadata
//! says `slotel.signal: logs`): each kind's names sort in time order, and the writer keeps
//! one file of each kind open. A new file starts every `rotate_every`, when the facts' columns
//! change (an SLO reload) and past a slice of `max_bytes`. Files older than `retention`
//! and, past `max_bytes` in all, the oldest files are removed (counted by reason).
//!
//! # Columns
//!
//! The span facts' (or log facts') columns ([`crate::slo::facts`]) and two more: `received_unix_nano`
//! (UInt64: the engine's clock when it recorded the request, which decides late and future
//! drops) and `tenant` (dictionary, null without auth). Each column is written as cheaply
//! for zstd as its values allow, in a form its field's metadata names and the reader
//! undoes (see `layout.rs`): a nullable column without a value in the whole file as an
//! Arrow `Null` column, a string column whose values repeat as a dictionary with narrow
//! keys, a `UInt64` column without nulls (times, durations) as its two `UInt32` halves,
//! integers (`kind`, `status_code`, an attribute's `.int`) in the narrowest integer type
//! that holds them, an attribute's `.other` column without the rows of its `.int` column
//! (their decimal forms), and the receipt times as runs, one per request. The schema's
//! metadata holds the engine settings a replay needs to decide drops as the live engine
//! did (`slotel.allowed_lateness_nanos`, `slotel.max_future_nanos`).
//!
//! # Layout
//!
//! - `mod.rs`: [`Capture`] (the sink the engine offers batches to), its counters and series.
//! - `queue.rs`: the hand-over of requests' facts to the writer, woken once per message,
//!   and of written ones back to the receiving threads, which drop them.
//! - `writer.rs`: the writer thread: files, rotation, retention and the disk bound.
//! - `ipc.rs`: a file's Arrow IPC stream, its buffers compressed with the writer's own zstd
//!   context where the message's columns hold them.
//! - `layout.rs`: a file's columns (how each is written), and requests' batches as one
//!   message of the file.
//! - `dictionary.rs`: string columns as dictionaries.
//! - `halves.rs`: `UInt64` times as their two 32-bit halves.
//! - `narrow.rs`: integers in the narrowest type that holds them.
//! - `int_text.rs`: `.other` columns without their integers' decimal forms.
//! - `runs.rs`: receipt times as runs.
//! - `restore.rs`: a message read back in the facts' own columns.
//! - `read.rs`: reading a capture back, damaged files skipped with their location.

mod dictionary;
#[cfg(test)]
mod forms_tests;
mod halves;
mod int_text;
mod ipc;
mod layout;
#[cfg(test)]
mod layout_tests;
mod narrow;
mod queue;
mod read;
mod restore;
mod runs;
#[cfg(test)]
mod tests;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_array::RecordBatch;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

pub use read::{CaptureFile, CapturedBatch, CapturedLogs, Reader, list_files};

use crate::config::CaptureConfig;
use crate::slo::engine::FactsSink;
use crate::slo::facts::{FactsSchema, SpanFacts};
use crate::slo::spec::AttrRef;

/// Attribute columns every capture holds, besides those of `columns` and the SLOs.
pub const DEFAULT_COLUMNS: [&str; 3] = [
    "http.route",
    "http.request.method",
    "http.response.status_code",
];

/// Batches that may wait for the writer; more are dropped and counted.
const QUEUE_BATCHES: usize = 1024;

/// The receipt-time column the capture adds.
pub const RECEIVED: &str = "received_unix_nano";
/// The tenant column the capture adds.
pub const TENANT: &str = "tenant";
/// Schema metadata: the engine's `allowed_lateness` in nanoseconds.
pub const META_LATENESS: &str = "slotel.allowed_lateness_nanos";
/// Schema metadata: the engine's `max_future` in nanoseconds.
pub const META_FUTURE: &str = "slotel.max_future_nanos";
/// Schema metadata: `logs` in files of log facts.
pub const META_SIGNAL: &str = "slotel.signal";
/// File name extension of capture files.
pub const EXTENSION: &str = "arrows";

/// What the capture has done, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Spans written to capture files.
    pub spans: AtomicU64,
    /// Spans dropped because the writer's queue was full.
    pub dropped_spans: AtomicU64,
    /// Spans lost to a write error.
    pub failed_spans: AtomicU64,
    /// Log records' facts written to capture files.
    pub log_records: AtomicU64,
    /// Log records' facts dropped because the writer's queue was full.
    pub dropped_log_records: AtomicU64,
    /// Log records' facts lost to a write error.
    pub failed_log_records: AtomicU64,
    /// Files removed for being older than `retention`.
    pub removed_retention: AtomicU64,
    /// Files removed to stay within `max_bytes`.
    pub removed_max_bytes: AtomicU64,
    /// Bytes of capture files on disk.
    pub bytes: AtomicU64,
    /// Files in the directory.
    pub files: AtomicU64,
}

/// One request's facts on their way to the writer.
pub(crate) struct Item {
    pub(crate) batch: RecordBatch,
    /// Log facts, not span facts.
    pub(crate) logs: bool,
    pub(crate) received: u64,
    pub(crate) tenant: Option<Arc<str>>,
}

/// The capture: the engine's [`FactsSink`] and its writer thread.
pub struct Capture {
    schema: FactsSchema,
    /// `columns`: fields of log records captured besides those the log SLOs read.
    log_fields: Vec<AttrRef>,
    queue: Arc<queue::Queue>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    counters: Arc<Counters>,
    directory: PathBuf,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("directory", &self.directory)
            .finish()
    }
}

/// The engine settings a capture records for replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineSettings {
    pub allowed_lateness: Duration,
    pub max_future: Duration,
}

impl Capture {
    /// Creates the directory and starts the writer thread.
    pub fn start(cfg: &CaptureConfig, engine: EngineSettings) -> std::io::Result<Arc<Self>> {
        std::fs::create_dir_all(&cfg.directory)?;
        let mut schema = FactsSchema::default();
        for key in DEFAULT_COLUMNS {
            schema.add_any(AttrRef::Item(key.to_string()));
        }
        for attr in &cfg.columns {
            schema.add_any(attr.clone());
        }
        let counters = Arc::new(Counters::default());
        let queue = Arc::new(queue::Queue::new(QUEUE_BATCHES));
        let writer = writer::Writer::open(cfg.clone(), engine, counters.clone())?;
        let handle = {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name("slo-capture".into())
                .spawn(move || writer.run(&queue))?
        };
        Ok(Arc::new(Self {
            schema,
            log_fields: cfg.columns.clone(),
            queue,
            writer: Mutex::new(Some(handle)),
            counters,
            directory: cfg.directory.clone(),
        }))
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// Stops taking batches, writes what is queued and closes the current file. Blocks
    /// until the writer is done: call off the async runtime's workers.
    pub fn close(&self) {
        self.queue.close();
        let handle = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle
            && h.join().is_err()
        {
            tracing::error!("the slo capture writer panicked");
        }
    }
}

impl FactsSink for Capture {
    fn schema(&self) -> &FactsSchema {
        &self.schema
    }

    fn offer(&self, facts: &SpanFacts, now_nanos: u64, tenant: Option<&str>) {
        self.send(facts.batch.clone(), false, now_nanos, tenant);
    }

    fn log_fields(&self) -> &[AttrRef] {
        &self.log_fields
    }

    fn offer_logs(&self, facts: &RecordBatch, now_nanos: u64, tenant: Option<&str>) {
        self.send(facts.clone(), true, now_nanos, tenant);
    }
}

impl Capture {
    /// Queues a batch for the writer; a full queue drops it and counts its rows.
    fn send(&self, batch: RecordBatch, logs: bool, received: u64, tenant: Option<&str>) {
        let rows = batch.num_rows() as u64;
        let item = Item {
            batch,
            logs,
            received,
            tenant: tenant.map(Arc::from),
        };
        if self.queue.push(item) == Err(queue::Refused::Full) {
            let dropped = match logs {
                true => &self.counters.dropped_log_records,
                false => &self.counters.dropped_spans,
            };
            dropped.fetch_add(rows, Ordering::Relaxed);
        }
    }
}

/// The capture's series on `/metrics`.
#[derive(Debug, Clone)]
pub struct CaptureSeries(pub Arc<Capture>);

impl Collector for CaptureSeries {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let c = &self.0.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        // (name, help, rows of (reason label or none, value))
        type Family<'a> = (&'a str, &'a str, Vec<(&'a str, u64)>);
        let counters: [Family; 7] = [
            (
                "slotel_slo_capture_spans",
                "Span facts written to slo.capture files",
                vec![("", load(&c.spans))],
            ),
            (
                "slotel_slo_capture_dropped_spans",
                "Span facts not captured because the capture writer's queue was full",
                vec![("", load(&c.dropped_spans))],
            ),
            (
                "slotel_slo_capture_failed_spans",
                "Span facts not captured because writing them failed",
                vec![("", load(&c.failed_spans))],
            ),
            (
                "slotel_slo_capture_log_records",
                "Log records' facts written to slo.capture files",
                vec![("", load(&c.log_records))],
            ),
            (
                "slotel_slo_capture_dropped_log_records",
                "Log records' facts not captured because the capture writer's queue was full",
                vec![("", load(&c.dropped_log_records))],
            ),
            (
                "slotel_slo_capture_failed_log_records",
                "Log records' facts not captured because writing them failed",
                vec![("", load(&c.failed_log_records))],
            ),
            (
                "slotel_slo_capture_files_removed",
                "Capture files removed, by reason (retention, max_bytes)",
                vec![
                    ("retention", load(&c.removed_retention)),
                    ("max_bytes", load(&c.removed_max_bytes)),
                ],
            ),
        ];
        for (name, help, rows) in counters {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            match rows.as_slice() {
                [("", value)] => ConstCounter::new(*value).encode(metric)?,
                rows => {
                    for (reason, value) in rows {
                        let labels = vec![("reason".to_string(), reason.to_string())];
                        ConstCounter::new(*value).encode(metric.encode_family(&labels)?)?;
                    }
                }
            }
        }
        for (name, help, value) in [
            (
                "slotel_slo_capture_bytes",
                "Bytes of slo.capture files on disk",
                load(&c.bytes),
            ),
            (
                "slotel_slo_capture_files",
                "slo.capture files on disk",
                load(&c.files),
            ),
        ] {
            let metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            ConstGauge::new(value as i64).encode(metric)?;
        }
        Ok(())
    }
}
