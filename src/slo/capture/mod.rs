//! `slo.capture`: every received span's facts (and, while log SLOs are loaded, every log
//! record's; while metric SLOs are loaded, the data points of the metrics they read) on
//! disk as compressed Arrow IPC files, for `slotel replay` to evaluate any SLO over the real
//! traffic afterwards.
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
//! says `slotel.signal: logs`), `DIR/metrics-…` for metric requests (`slotel.signal:
//! metrics`, see below): each kind's names sort in time order, and the writer keeps one
//! file of each kind open. A new file starts every `rotate_every`, when the facts' columns
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
//! did (`slotel.allowed_lateness_nanos`, `slotel.max_future_nanos`), the bound on
//! groups it applied (`slotel.max_groups_total`) and the most bytes a message of the file
//! may hold by the receiver's request bound (`slotel.max_message_bytes`).
//!
//! # Metric requests
//!
//! A metric SLI's numbers depend on more than a point's own fields: a cumulative point
//! counts as its increment over the previous point of its series (identified by the
//! metric, the resource's and scope's attributes and the point's), a reset or restart by
//! the start time, the first point of a series as a baseline or in full by when slotel
//! started watching. So the capture keeps the points themselves, and the replay runs them
//! through the live engine's metric code ([`crate::slo::engine::Engine::record_metrics`]),
//! which derives the same per-point increments again. A file of metric requests holds
//! one row per request: `request` (Binary: the request as OTLP protobuf, cut down to the
//! metrics the loaded metric SLOs and `slo.capture.metrics` name, each with its resource
//! and scope whole) and `token_cluster` (the cluster bound to the sender's token, null
//! without), plus the receipt time and tenant as for facts. Its schema's metadata also
//! says when the engine started watching metrics ([`META_METRICS_STARTED`]) and whether
//! the file is the first of metric requests since then ([`META_FIRST_OF_RUN`]), which
//! decide what a replay takes as baselines. Requests wait for the writer within
//! [`MAX_QUEUED_METRIC_BYTES`]; more are dropped and counted.
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
//! - `frames.rs`: a file's messages one at a time, each checked before Arrow reads it.

mod dictionary;
#[cfg(test)]
mod forms_tests;
mod frames;
#[cfg(test)]
mod frames_tests;
mod halves;
mod int_text;
mod ipc;
mod layout;
#[cfg(test)]
mod layout_tests;
mod narrow;
mod queue;
mod read;
#[cfg(test)]
mod resource_layout_tests;
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

pub use read::{
    CaptureFile, CapturedBatch, CapturedLogs, CapturedMetrics, Reader, Recorded, list_files,
};

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
/// Schema metadata: `slo.max_groups_total` (absent when unbounded).
pub const META_MAX_GROUPS_TOTAL: &str = "slotel.max_groups_total";
/// Schema metadata: `logs` in files of log facts, `metrics` in files of metric requests.
pub const META_SIGNAL: &str = "slotel.signal";
/// Schema metadata of files of metric requests: when the live engine started watching
/// metrics (Unix ns): cumulative series that started before it began with a baseline.
pub const META_METRICS_STARTED: &str = "slotel.metrics_started_unix_nano";
/// Schema metadata of files of metric requests: `true` in the first file of metric
/// requests the capture wrote since [`META_METRICS_STARTED`] (every request the engine
/// recorded since is in it or the files after it).
pub const META_FIRST_OF_RUN: &str = "slotel.first_of_run";
/// Schema metadata: the most bytes a message of the file may hold, by the writer's
/// `receivers.otlp.limits.max_request_memory` (a reader takes the larger of this, up to
/// 4 GiB, and its own default of 256 MiB).
pub const META_MAX_MESSAGE: &str = "slotel.max_message_bytes";
/// The column of a file of metric requests holding each request (OTLP protobuf).
pub const METRIC_REQUEST: &str = "request";
/// The column of a file of metric requests holding the token's cluster.
pub const TOKEN_CLUSTER: &str = "token_cluster";
/// The most bytes of metric requests that may wait for the writer; more are dropped and
/// counted.
pub const MAX_QUEUED_METRIC_BYTES: u64 = 64 << 20;
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
    /// Metric requests written to capture files.
    pub metric_requests: AtomicU64,
    /// Metric requests dropped because the writer's queue was full.
    pub dropped_metric_requests: AtomicU64,
    /// Metric requests lost to a write error.
    pub failed_metric_requests: AtomicU64,
    /// Bytes of metric requests waiting for the writer.
    pub(crate) queued_metric_bytes: AtomicU64,
    /// Files removed for being older than `retention`.
    pub removed_retention: AtomicU64,
    /// Files removed to stay within `max_bytes`.
    pub removed_max_bytes: AtomicU64,
    /// Bytes of capture files on disk.
    pub bytes: AtomicU64,
    /// Files in the directory.
    pub files: AtomicU64,
}

impl Counters {
    /// The counters of written, dropped and failed rows of a kind of file.
    pub(crate) fn of(&self, kind: Kind) -> [&AtomicU64; 3] {
        match kind {
            Kind::Spans => [&self.spans, &self.dropped_spans, &self.failed_spans],
            Kind::Logs => [
                &self.log_records,
                &self.dropped_log_records,
                &self.failed_log_records,
            ],
            Kind::Metrics => [
                &self.metric_requests,
                &self.dropped_metric_requests,
                &self.failed_metric_requests,
            ],
        }
    }
}

/// What a capture file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Span facts: a row per span.
    Spans,
    /// Log facts: a row per log record.
    Logs,
    /// Metric requests: a row per request.
    Metrics,
}

impl Kind {
    pub(crate) const ALL: [Kind; 3] = [Kind::Spans, Kind::Logs, Kind::Metrics];

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The file names' prefix.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Kind::Spans => "facts",
            Kind::Logs => "logs",
            Kind::Metrics => "metrics",
        }
    }

    /// [`META_SIGNAL`]'s value (none in files of span facts).
    pub(crate) fn signal(self) -> Option<&'static str> {
        match self {
            Kind::Spans => None,
            Kind::Logs => Some("logs"),
            Kind::Metrics => Some("metrics"),
        }
    }

    /// The kind a file's [`META_SIGNAL`] names.
    pub(crate) fn of_signal(signal: Option<&str>) -> Kind {
        match signal {
            Some("logs") => Kind::Logs,
            Some("metrics") => Kind::Metrics,
            _ => Kind::Spans,
        }
    }
}

/// One request's facts on their way to the writer.
pub(crate) struct Item {
    pub(crate) batch: RecordBatch,
    pub(crate) kind: Kind,
    pub(crate) received: u64,
    pub(crate) tenant: Option<Arc<str>>,
    /// Bytes charged to [`Counters::queued_metric_bytes`] (metric requests).
    pub(crate) charged: u64,
}

/// The capture: the engine's [`FactsSink`] and its writer thread.
pub struct Capture {
    schema: FactsSchema,
    /// `columns`: fields of log records captured besides those the log SLOs read.
    log_fields: Vec<AttrRef>,
    /// `metrics`: metrics captured besides those the metric SLOs read.
    metric_names: Vec<String>,
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
    /// `slo.max_groups_total` (`usize::MAX`: unbounded).
    pub max_groups_total: usize,
    /// When the engine started watching metrics (Unix ns; [`META_METRICS_STARTED`]).
    pub metrics_started: u64,
    /// `receivers.otlp.limits.max_request_memory`: what bounds a message of a file
    /// ([`META_MAX_MESSAGE`]).
    pub max_request_memory: u64,
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
            metric_names: cfg.metrics.clone(),
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
        self.send(facts.batch.clone(), Kind::Spans, now_nanos, tenant, 0);
    }

    fn log_fields(&self) -> &[AttrRef] {
        &self.log_fields
    }

    fn offer_logs(&self, facts: &RecordBatch, now_nanos: u64, tenant: Option<&str>) {
        self.send(facts.clone(), Kind::Logs, now_nanos, tenant, 0);
    }

    fn metric_names(&self) -> Option<&[String]> {
        Some(&self.metric_names)
    }

    fn offer_metrics(
        &self,
        request: Vec<u8>,
        token_cluster: Option<&str>,
        now_nanos: u64,
        tenant: Option<&str>,
    ) {
        let charged = request.len() as u64;
        let queued = &self.counters.queued_metric_bytes;
        if queued.fetch_add(charged, Ordering::Relaxed) + charged > MAX_QUEUED_METRIC_BYTES {
            queued.fetch_sub(charged, Ordering::Relaxed);
            self.counters
                .dropped_metric_requests
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        match metric_batch(request, token_cluster) {
            Ok(batch) => self.send(batch, Kind::Metrics, now_nanos, tenant, charged),
            Err(_) => {
                queued.fetch_sub(charged, Ordering::Relaxed);
                self.counters
                    .failed_metric_requests
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// One metric request as a row of a file of metric requests (its bytes the column's, not
/// copied).
fn metric_batch(
    request: Vec<u8>,
    token_cluster: Option<&str>,
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let offsets = arrow_buffer::OffsetBuffer::from_lengths([request.len()]);
    let values = arrow_buffer::Buffer::from_vec(request);
    let request = arrow_array::BinaryArray::try_new(offsets, values, None)?;
    let columns: [(&str, arrow_array::ArrayRef, bool); 2] = [
        (METRIC_REQUEST, Arc::new(request), false),
        (
            TOKEN_CLUSTER,
            Arc::new(arrow_array::StringArray::from(vec![token_cluster])),
            true,
        ),
    ];
    RecordBatch::try_from_iter_with_nullable(columns)
}

impl Capture {
    /// Queues a batch for the writer; a full queue drops it and counts its rows.
    fn send(
        &self,
        batch: RecordBatch,
        kind: Kind,
        received: u64,
        tenant: Option<&str>,
        charged: u64,
    ) {
        let rows = batch.num_rows() as u64;
        let item = Item {
            batch,
            kind,
            received,
            tenant: tenant.map(Arc::from),
            charged,
        };
        if let Err(refused) = self.queue.push(item) {
            if refused == queue::Refused::Full {
                let [_, dropped, _] = self.counters.of(kind);
                dropped.fetch_add(rows, Ordering::Relaxed);
            }
            self.counters
                .queued_metric_bytes
                .fetch_sub(charged, Ordering::Relaxed);
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
        let counters: [Family; 10] = [
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
                "slotel_slo_capture_metric_requests",
                "Metric requests (the metrics SLOs read) written to slo.capture files",
                vec![("", load(&c.metric_requests))],
            ),
            (
                "slotel_slo_capture_dropped_metric_requests",
                "Metric requests not captured because the capture writer's queue was full",
                vec![("", load(&c.dropped_metric_requests))],
            ),
            (
                "slotel_slo_capture_failed_metric_requests",
                "Metric requests not captured because writing them failed",
                vec![("", load(&c.failed_metric_requests))],
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
