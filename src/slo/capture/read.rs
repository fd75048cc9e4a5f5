//! Reading a capture back: its files in time order, each file's batches as span facts
//! ([`Reader`]'s iterator) or, in files of log facts ([`Reader::is_logs`]), as log facts
//! ([`Reader::next_logs`]), or, in files of metric requests ([`Reader::is_metrics`]), as
//! the requests ([`Reader::next_metrics`]).
//!
//! A file is read message by message from the file (see `frames.rs`), up to the size it
//! had when opened (a file still growing ends there), and only a regular file (a FIFO or
//! device is an error, never waited on): reading holds one message at a time, never the
//! file. Each message is checked before Arrow decodes it: every length it states must lie
//! within the file and within `frames::MAX_MESSAGE` (256 MiB, or the larger bound the
//! file's schema states by its writer's `max_request_memory`, at most 4 GiB), and the
//! sizes its compressed buffers state they decompress to within that bound together (and each
//! within what zstd can regenerate from the buffer), so a damaged or crafted file cannot
//! make the reader allocate what the disk does not hold, nor more than the writer writes
//! in a message. Decoding stops at the first damaged message with a warning that names
//! the file, the batch, the message and its byte offset; the batches before it count. A
//! file in progress ends in a partial message at most, which ends it the same way.
//!
//! A message holds the facts of several requests, decoded and checked once. The reader's
//! items are the requests (a run of rows with one `received_unix_nano`), each a batch of
//! its own as the live engine recorded it; [`Reader::next_message`] hands out whole
//! messages instead, for a replay that records several requests at once.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Take};
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_buffer::ScalarBuffer;

use super::frames::{Batches, Frames, MAX_MESSAGE, bound_for};
use super::int_text::INT_TEXT_OF;
use super::{
    EXTENSION, Kind, META_FIRST_OF_RUN, META_FUTURE, META_LATENESS, META_MAX_GROUPS_TOTAL,
    META_MAX_MESSAGE, META_METRICS_STARTED, META_SIGNAL, METRIC_REQUEST, RECEIVED, TENANT,
    TOKEN_CLUSTER,
};
use crate::slo::facts::logs::LogFacts;
use crate::slo::facts::{FactsSchema, SpanFacts};

/// What the reader reads a file through: the file, up to its length when opened.
type FileBatches = Batches<BufReader<Take<File>>>;

/// The buffer between the file and the messages (a message's body of more is read
/// straight into the message).
const READ_BUFFER: usize = 64 << 10;

/// One file of a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureFile {
    pub path: PathBuf,
    pub bytes: u64,
}

/// The capture files of `dir` (`*.arrows`), in name order (which is time order).
pub fn list_files(dir: &Path) -> std::io::Result<Vec<CaptureFile>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some(EXTENSION) {
            continue;
        }
        // A file removed meanwhile (by the capture's retention) is not an error.
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if meta.is_file() {
            files.push(CaptureFile {
                path,
                bytes: meta.len(),
            });
        }
    }
    files.sort_by_key(|f| super::writer::time_order(&f.path));
    Ok(files)
}

/// The live engine's settings a capture file records for replay (its schema's metadata),
/// each `None` when the file does not say (files of older versions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// `allowed_lateness` (ns).
    pub lateness: Option<u64>,
    /// `max_future` (ns).
    pub future: Option<u64>,
    /// `slo.max_groups_total`.
    pub max_groups_total: Option<u64>,
}

/// One batch of log facts read back: one request's.
#[derive(Debug, Clone)]
pub struct CapturedLogs {
    pub facts: LogFacts,
    /// When the live engine recorded it (Unix ns).
    pub received: u64,
    /// The live engine's settings when it was written, as far as the file says.
    pub engine: Recorded,
}

/// One metric request read back.
#[derive(Debug, Clone)]
pub struct CapturedMetrics {
    /// The request, cut down to the metrics the capture kept.
    pub request: opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
    /// The cluster bound to the sender's token.
    pub token_cluster: Option<String>,
    /// When the live engine recorded it (Unix ns).
    pub received: u64,
    /// The live engine's settings when it was written, as far as the file says.
    pub engine: Recorded,
    /// When the live engine started watching metrics (Unix ns), if the file says.
    pub metrics_started: Option<u64>,
    /// Whether the file is the first of metric requests since then.
    pub first_of_run: bool,
}

/// One batch read back: one request's facts ([`Reader`]'s items), or a message's, which
/// holds several requests ([`Reader::next_message`]).
#[derive(Debug, Clone)]
pub struct CapturedBatch {
    pub facts: SpanFacts,
    /// The attribute columns the batch holds.
    pub columns: FactsSchema,
    /// When the live engine recorded it (Unix ns); the first request's, for a batch of
    /// several.
    pub received: u64,
    /// Each row's receipt time: a request is a run of rows with one time.
    pub rows_received: ScalarBuffer<u64>,
    /// The live engine's settings when it was written, as far as the file says.
    pub engine: Recorded,
}

impl CapturedBatch {
    /// The requests of the batch in order: (first row, rows, receipt time) of each run of
    /// rows with one receipt time.
    pub fn requests(&self) -> impl Iterator<Item = (usize, usize, u64)> + '_ {
        let times = &self.rows_received[..];
        let mut start = 0;
        std::iter::from_fn(move || {
            let first = *times.get(start)?;
            let len = times[start..].iter().take_while(|t| **t == first).count();
            let request = (start, len, first);
            start += len;
            Some(request)
        })
    }

    /// Rows `offset .. offset + len` as a batch of their own, without copying; panics when
    /// they lie outside the batch (as [`RecordBatch::slice`] does).
    pub fn slice(&self, offset: usize, len: usize) -> CapturedBatch {
        let rows_received = self.rows_received.slice(offset, len);
        CapturedBatch {
            facts: self.facts.slice(offset, len),
            columns: self.columns.clone(),
            received: rows_received.first().copied().unwrap_or(self.received),
            rows_received,
            engine: self.engine,
        }
    }
}

/// Reads one capture file. Batches come out until the end or the first damaged message;
/// [`Reader::warning`] then says where and why.
pub struct Reader {
    path: PathBuf,
    stream: Option<FileBatches>,
    index: usize,
    warning: Option<String>,
    engine: Recorded,
    /// A decoded message (several requests), and where its next request starts.
    held: Option<(CapturedBatch, usize)>,
    kind: Kind,
    /// Of a file of metric requests: [`CapturedMetrics::metrics_started`] and
    /// [`CapturedMetrics::first_of_run`].
    metrics_started: Option<u64>,
    first_of_run: bool,
    /// Columns decoded only to restore others, left out of the batches.
    drop: HashSet<String>,
    /// A decoded message of log facts or metric requests (several requests), and where
    /// its next request starts.
    held_rows: Option<(RecordBatch, usize)>,
}

/// Why a capture file cannot be read at all (each names the file).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Empty, or damaged from its first message on: what the check found.
    #[error("{}: {why}", path.display())]
    NoSoundPrefix { path: PathBuf, why: String },
    #[error("{}: not an Arrow IPC stream: {source}", path.display())]
    NotIpc {
        path: PathBuf,
        source: arrow_schema::ArrowError,
    },
}

/// Why a batch of a capture file is not a request's span or log facts (reading stops
/// there).
#[derive(Debug, thiserror::Error)]
enum BatchError {
    #[error("no {RECEIVED} column")]
    NoReceived,
    #[error("column {RECEIVED} is empty or has nulls")]
    ReceivedEmptyOrNulls,
    #[error("column {TENANT} is not a dictionary")]
    Tenant,
    #[error("metric request: {0}")]
    MetricRequest(String),
    #[error(transparent)]
    Facts(#[from] crate::slo::facts::FactsError),
}

impl Reader {
    /// Opens `path`; a file that cannot be read at all is an error (with the path).
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        Self::open_for(path, None)
    }

    /// [`Reader::open`], decoding only the attribute columns `needed` reads (with
    /// `Some`): the others are skipped undecompressed, and the batches' `columns` hold
    /// only those read. A file of log facts is decoded whole.
    pub fn open_for(path: &Path, needed: Option<&FactsSchema>) -> Result<Self, OpenError> {
        Self::open_within(path, needed, MAX_MESSAGE)
    }

    /// [`Reader::open_for`] bounding a message by `default` unless the file's schema
    /// states a larger bound ([`META_MAX_MESSAGE`], at most 4 GiB).
    pub(super) fn open_within(
        path: &Path,
        needed: Option<&FactsSchema>,
        default: u64,
    ) -> Result<Self, OpenError> {
        let io = |source| OpenError::Io {
            path: path.to_path_buf(),
            source,
        };
        // A regular file only (a FIFO would block, a device never end), read up to the
        // size it had when opened: a file its writer still appends to (or that grows
        // for ever) ends there, in a partial message at most.
        let file = crate::regular_file::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let input = BufReader::with_capacity(READ_BUFFER, std::io::Read::take(file, len));
        let mut frames = Frames::within(input, len, default);
        let Some(first) = frames.next_frame() else {
            return Err(OpenError::NoSoundPrefix {
                path: path.to_path_buf(),
                why: match frames.damage() {
                    Some(why) => why.to_string(),
                    None if len == 0 => "empty".to_string(),
                    None => "no message before the end of the stream".to_string(),
                },
            });
        };
        let schema = super::frames::schema_of(&first).map_err(|source| OpenError::NotIpc {
            path: path.to_path_buf(),
            source,
        })?;
        let kind = Kind::of_signal(schema.metadata().get(META_SIGNAL).map(String::as_str));
        let stated = schema.metadata().get(META_MAX_MESSAGE).map(String::as_str);
        frames.set_max_message(bound_for(stated, default));
        // The columns to decode: those `needed` reads, found in the stream's schema.
        let mut drop = HashSet::new();
        let projection = match needed {
            None => None,
            Some(needed) => {
                let all = schema.fields().len();
                let mut projection: Vec<usize> = (0..all)
                    .filter(|i| needed.needs_column(schema.field(*i).name()))
                    .collect();
                // An `.other` column written without its attribute's integers needs them
                // to be read back: decoded too, and left out once it is.
                for i in projection.clone() {
                    let int = schema.field(i).metadata().get(INT_TEXT_OF);
                    if let Some(at) = int.and_then(|name| schema.index_of(name).ok())
                        && !projection.contains(&at)
                    {
                        projection.push(at);
                        drop.insert(schema.field(at).name().clone());
                    }
                }
                projection.sort_unstable();
                (kind == Kind::Spans && projection.len() < all).then_some(projection)
            }
        };
        let meta = schema.metadata().clone();
        let number = |key: &str| meta.get(key).and_then(|v| v.parse::<u64>().ok());
        Ok(Self {
            kind,
            metrics_started: number(META_METRICS_STARTED),
            first_of_run: meta.get(META_FIRST_OF_RUN).is_some_and(|v| v == "true"),
            drop,
            held_rows: None,
            path: path.to_path_buf(),
            engine: Recorded {
                lateness: number(META_LATENESS),
                future: number(META_FUTURE),
                max_groups_total: number(META_MAX_GROUPS_TOTAL),
            },
            stream: Some(Batches::new(frames, schema, projection)),
            index: 0,
            warning: None,
            held: None,
        })
    }

    /// Whether the file holds log facts (read them with [`Reader::next_logs`]; the
    /// iterator and [`Reader::next_message`], which yield span facts, yield nothing then).
    pub fn is_logs(&self) -> bool {
        self.kind == Kind::Logs
    }

    /// Whether the file holds metric requests (read them with [`Reader::next_metrics`]).
    pub fn is_metrics(&self) -> bool {
        self.kind == Kind::Metrics
    }

    /// The next metric request, of a file of metric requests ([`Reader::is_metrics`]).
    pub fn next_metrics(&mut self) -> Option<CapturedMetrics> {
        if self.kind != Kind::Metrics {
            return None;
        }
        let (message, start) = match self.held_rows.take() {
            Some(held) => held,
            None => (self.read()?, 0),
        };
        match self.metric_request(&message, start) {
            Ok(request) => {
                if start + 1 < message.num_rows() {
                    self.held_rows = Some((message, start + 1));
                }
                self.index += 1;
                Some(request)
            }
            Err(e) => {
                self.stop(e);
                None
            }
        }
    }

    /// The metric request in row `row` of `message`.
    fn metric_request(
        &self,
        message: &RecordBatch,
        row: usize,
    ) -> Result<CapturedMetrics, BatchError> {
        use prost::Message;
        let received = message
            .column_by_name(RECEIVED)
            .and_then(|c| c.as_primitive_opt::<UInt64Type>())
            .ok_or(BatchError::NoReceived)?;
        if row >= received.len() || received.is_null(row) {
            return Err(BatchError::ReceivedEmptyOrNulls);
        }
        let bytes = message
            .column_by_name(METRIC_REQUEST)
            .and_then(|c| c.as_binary_opt::<i32>())
            .filter(|c| !c.is_null(row))
            .ok_or(BatchError::MetricRequest("no request column".to_string()))?;
        let request = Message::decode(bytes.value(row))
            .map_err(|e| BatchError::MetricRequest(e.to_string()))?;
        // Restored as the writer was given it: a plain string column.
        let token_cluster = match message.column_by_name(TOKEN_CLUSTER) {
            None => None,
            Some(c) => {
                let c = c.as_string_opt::<i32>().ok_or(BatchError::MetricRequest(
                    "the token_cluster column is not a string column".to_string(),
                ))?;
                (!c.is_null(row)).then(|| c.value(row).to_string())
            }
        };
        Ok(CapturedMetrics {
            request,
            token_cluster,
            received: received.value(row),
            engine: self.engine,
            metrics_started: self.metrics_started,
            first_of_run: self.first_of_run,
        })
    }

    /// The next request's log facts, of a file of log facts ([`Reader::is_logs`]).
    pub fn next_logs(&mut self) -> Option<CapturedLogs> {
        if self.kind != Kind::Logs {
            return None;
        }
        let (message, start) = match self.held_rows.take() {
            Some(held) => held,
            None => (self.read()?, 0),
        };
        match self.log_request(message, start) {
            Ok(logs) => {
                self.index += 1;
                Some(logs)
            }
            Err(e) => {
                self.stop(e);
                None
            }
        }
    }

    /// The request of log facts at row `start` of `message`; holds the rest of the message.
    fn log_request(
        &mut self,
        message: RecordBatch,
        start: usize,
    ) -> Result<CapturedLogs, BatchError> {
        let received = message
            .column_by_name(RECEIVED)
            .and_then(|c| c.as_primitive_opt::<UInt64Type>())
            .ok_or(BatchError::NoReceived)?;
        if received.null_count() > 0 {
            return Err(BatchError::ReceivedEmptyOrNulls);
        }
        let times = received.values();
        let Some(&first) = times.get(start) else {
            return Err(BatchError::ReceivedEmptyOrNulls);
        };
        if let Some(tenant) = message.column_by_name(TENANT)
            && tenant.as_dictionary_opt::<Int32Type>().is_none()
        {
            return Err(BatchError::Tenant);
        }
        let len = times[start..].iter().take_while(|t| **t == first).count();
        let batch = match (start, start + len < message.num_rows()) {
            (0, false) => message,
            (_, true) => {
                let part = message.slice(start, len);
                self.held_rows = Some((message, start + len));
                part
            }
            (_, false) => message.slice(start, len),
        };
        let facts = LogFacts::from_batch(batch)?;
        Ok(CapturedLogs {
            facts,
            received: first,
            engine: self.engine,
        })
    }

    /// Why the file ended before its end, with the file and batch, once reading stopped.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    fn stop(&mut self, why: impl std::fmt::Display) {
        self.stream = None;
        self.warning = Some(format!(
            "{}: batch {}: {why}; the rest of the file is skipped",
            self.path.display(),
            self.index
        ));
    }

    fn convert(&self, batch: RecordBatch) -> Result<CapturedBatch, BatchError> {
        let received = batch
            .column_by_name(RECEIVED)
            .and_then(|c| c.as_primitive_opt::<UInt64Type>())
            .ok_or(BatchError::NoReceived)?;
        if received.is_empty() || received.null_count() > 0 {
            return Err(BatchError::ReceivedEmptyOrNulls);
        }
        let rows_received = received.values().clone();
        if let Some(tenant) = batch.column_by_name(TENANT)
            && tenant.as_dictionary_opt::<Int32Type>().is_none()
        {
            return Err(BatchError::Tenant);
        }
        let (facts, columns) = SpanFacts::from_batch(batch)?;
        Ok(CapturedBatch {
            facts,
            columns,
            received: rows_received[0],
            rows_received,
            engine: self.engine,
        })
    }

    /// The next message of the file, decoded, or what is left of it after the requests
    /// [`Iterator::next`] took: the facts of one or more requests (the writer gathers
    /// them), rows in the order they were recorded.
    pub fn next_message(&mut self) -> Option<CapturedBatch> {
        if self.kind != Kind::Spans {
            return None;
        }
        let (message, start) = match self.held.take() {
            Some(held) => held,
            None => (self.decode()?, 0),
        };
        let message = match start {
            0 => message,
            _ => message.slice(start, message.facts.len() - start),
        };
        self.index += message.requests().count();
        Some(message)
    }

    /// The next message of span facts, decoded and checked; `None` at the end or at
    /// damage (then [`Reader::warning`] says where).
    fn decode(&mut self) -> Option<CapturedBatch> {
        let batch = self.read()?;
        match self.convert(batch) {
            Ok(message) => Some(message),
            Err(e) => {
                self.stop(e);
                None
            }
        }
    }

    /// The next message, decoded; `None` at the end or at damage (then
    /// [`Reader::warning`] says where).
    fn read(&mut self) -> Option<RecordBatch> {
        let stream = self.stream.as_mut()?;
        let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stream.next_batch()));
        let batch = match next {
            Ok(Some(Ok(batch))) => match super::restore::restore(batch, &self.drop) {
                Ok(batch) => batch,
                Err(e) => {
                    self.stop(e);
                    return None;
                }
            },
            Ok(Some(Err(e))) => {
                self.stop(e);
                return None;
            }
            Err(_) => {
                self.stop("undecodable");
                return None;
            }
            Ok(None) => {
                match stream.damage() {
                    Some(damage) => {
                        let damage = damage.to_string();
                        self.stop(damage);
                    }
                    None => self.stream = None,
                }
                return None;
            }
        };
        Some(batch)
    }
}

impl Iterator for Reader {
    type Item = CapturedBatch;

    /// The next request: a run of rows with one receipt time, as the live engine recorded
    /// it.
    fn next(&mut self) -> Option<CapturedBatch> {
        if self.kind != Kind::Spans {
            return None;
        }
        let (message, start) = match self.held.take() {
            Some(held) => held,
            None => (self.decode()?, 0),
        };
        let times = &message.rows_received[start..];
        let len = times.iter().take_while(|t| **t == times[0]).count();
        self.index += 1;
        if start == 0 && len == message.facts.len() {
            return Some(message);
        }
        let part = message.slice(start, len);
        if start + len < message.facts.len() {
            self.held = Some((message, start + len));
        }
        Some(part)
    }
}
