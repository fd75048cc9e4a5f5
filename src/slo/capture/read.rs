//! Reading a capture back: its files in time order, each file's batches as span facts
//! ([`Reader`]'s iterator) or, in files of log facts ([`Reader::is_logs`]), as log facts
//! ([`Reader::next_logs`]), or, in files of metric requests ([`Reader::is_metrics`]), as
//! the requests ([`Reader::next_metrics`]).
//!
//! A file is read whole, up to the size it had when opened (its size is its bound: a file
//! still growing ends there), and only a regular file (a FIFO or device is an error, never
//! waited on), and its messages are checked before Arrow
//! decodes them: every length must lie within the file and the stated sizes of a message's
//! compressed buffers, together, within [`MAX_BUFFER`], so a damaged or crafted file cannot
//! make the reader allocate what the disk does not hold (a few kilobytes of zstd state a
//! gigabyte of zeros; a message has a buffer or three per column). Decoding stops at the first damaged message with a warning
//! that names the file, the batch and the byte offset; the batches before it count. A file
//! in progress ends in a partial message at most, which ends it the same way.
//!
//! A message holds the facts of several requests, decoded and checked once. The reader's
//! items are the requests (a run of rows with one `received_unix_nano`), each a batch of
//! its own as the live engine recorded it; [`Reader::next_message`] hands out whole
//! messages instead, for a replay that records several requests at once.

use std::collections::HashSet;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_buffer::ScalarBuffer;
use arrow_ipc::reader::StreamReader;

use super::int_text::INT_TEXT_OF;
use super::{
    EXTENSION, Kind, META_FIRST_OF_RUN, META_FUTURE, META_LATENESS, META_METRICS_STARTED,
    META_SIGNAL, METRIC_REQUEST, RECEIVED, TENANT, TOKEN_CLUSTER,
};
use crate::slo::facts::logs::LogFacts;
use crate::slo::facts::{FactsSchema, SpanFacts};

/// The most a capture message may state its compressed buffers decompress to, all of them
/// together (1 GiB): the writer's messages of a few thousand rows state far less.
pub const MAX_BUFFER: i64 = 1 << 30;
/// The largest capture file read (16 GiB): larger is not a file slotel wrote.
pub const MAX_FILE: u64 = 16 << 30;

const CONTINUATION: u32 = 0xFFFF_FFFF;

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

/// One batch of log facts read back: one request's.
#[derive(Debug, Clone)]
pub struct CapturedLogs {
    pub facts: LogFacts,
    /// When the live engine recorded it (Unix ns).
    pub received: u64,
    /// The engine's `allowed_lateness` and `max_future` when it was written (ns), if the
    /// file says.
    pub lateness: Option<u64>,
    pub future: Option<u64>,
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
    /// The engine's `allowed_lateness` and `max_future` when it was written (ns), if the
    /// file says.
    pub lateness: Option<u64>,
    pub future: Option<u64>,
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
    /// The engine's `allowed_lateness` and `max_future` when it was written (ns), if the
    /// file says.
    pub lateness: Option<u64>,
    pub future: Option<u64>,
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
            lateness: self.lateness,
            future: self.future,
        }
    }
}

/// Reads one capture file. Batches come out until the end or the first damaged message;
/// [`Reader::warning`] then says where and why.
pub struct Reader {
    path: PathBuf,
    stream: Option<StreamReader<Cursor<Vec<u8>>>>,
    /// Where the checked prefix ends, and why there (`None`: the whole file is sound).
    damage: Option<String>,
    index: usize,
    warning: Option<String>,
    lateness: Option<u64>,
    future: Option<u64>,
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

/// The length of the prefix of `bytes` made of whole, sound messages, and what is wrong
/// right after it.
fn sound_prefix(bytes: &[u8]) -> (usize, Option<String>) {
    sound_prefix_within(bytes, MAX_BUFFER)
}

/// [`sound_prefix`] with `max_message` for [`MAX_BUFFER`].
fn sound_prefix_within(bytes: &[u8], max_message: i64) -> (usize, Option<String>) {
    let mut pos = 0usize;
    let mut message = 0usize;
    let word = |at: usize| -> Option<u32> {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    loop {
        if pos == bytes.len() {
            return (pos, None);
        }
        let damaged = |what: &str| {
            (
                pos,
                Some(format!("message {message} at byte {pos}: {what}")),
            )
        };
        let Some(first) = word(pos) else {
            return damaged("truncated");
        };
        let (meta_len, header) = if first == CONTINUATION {
            match word(pos + 4) {
                Some(len) => (len as i32, 8),
                None => return damaged("truncated"),
            }
        } else {
            (first as i32, 4)
        };
        if meta_len == 0 {
            // End of stream.
            return (pos + header, None);
        }
        let Ok(meta_len) = usize::try_from(meta_len) else {
            return damaged("negative metadata length");
        };
        let meta_start = pos + header;
        let Some(meta) = bytes.get(meta_start..meta_start.saturating_add(meta_len)) else {
            return damaged("truncated metadata");
        };
        let Ok(msg) = arrow_ipc::root_as_message(meta) else {
            return damaged("unreadable metadata");
        };
        let Ok(body_len) = usize::try_from(msg.bodyLength()) else {
            return damaged("negative body length");
        };
        let body_start = meta_start + meta_len;
        let Some(body) = bytes.get(body_start..body_start.saturating_add(body_len)) else {
            return damaged("truncated body");
        };
        let batch = msg
            .header_as_record_batch()
            .or_else(|| msg.header_as_dictionary_batch().and_then(|d| d.data()));
        if let Some(batch) = batch
            && batch.compression().is_some()
        {
            let mut stated = 0i64;
            for b in batch.buffers().into_iter().flatten() {
                let (Ok(offset), Ok(len)) =
                    (usize::try_from(b.offset()), usize::try_from(b.length()))
                else {
                    return damaged("negative buffer position");
                };
                if offset.saturating_add(len) > body.len() {
                    return damaged("a buffer lies outside the body");
                }
                if len >= 8 {
                    let mut size = [0u8; 8];
                    size.copy_from_slice(&body[offset..offset + 8]);
                    // -1: stored uncompressed, its length is its size.
                    stated = stated.saturating_add(i64::from_le_bytes(size).max(0));
                    if stated > max_message {
                        return damaged("its buffers state an impossible size");
                    }
                }
            }
        }
        pos = body_start + body_len;
        message += 1;
    }
}

/// Why a capture file cannot be read at all (each names the file).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {len} bytes: too large for a capture file", path.display())]
    TooLarge { path: PathBuf, len: u64 },
    /// Empty, or damaged from its first message on: what the check found.
    #[error("{}: {why}", path.display())]
    NoSoundPrefix { path: PathBuf, why: String },
    #[error("{}: not an Arrow IPC stream: {source}", path.display())]
    NotIpc {
        path: PathBuf,
        source: arrow_schema::ArrowError,
    },
    /// The Arrow reader gave up on the stream's schema altogether.
    #[error("{}: not an Arrow IPC stream", path.display())]
    Undecodable { path: PathBuf },
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
        let io = |source| OpenError::Io {
            path: path.to_path_buf(),
            source,
        };
        // A regular file only (a FIFO would block, a device never end), read up to the
        // size it had when opened: a file its writer still appends to (or that grows
        // for ever) ends there, in a partial message at most.
        let file = crate::regular_file::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len > MAX_FILE {
            return Err(OpenError::TooLarge {
                path: path.to_path_buf(),
                len,
            });
        }
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(len as usize)
            .map_err(|e| io(std::io::Error::other(e)))?;
        std::io::Read::read_to_end(&mut std::io::Read::take(file, len), &mut bytes).map_err(io)?;
        let (sound, damage) = sound_prefix(&bytes);
        bytes.truncate(sound);
        if bytes.is_empty() {
            return Err(OpenError::NoSoundPrefix {
                path: path.to_path_buf(),
                why: damage.unwrap_or_else(|| "empty".to_string()),
            });
        }
        let unreadable = |e: Option<arrow_schema::ArrowError>| match e {
            Some(source) => OpenError::NotIpc {
                path: path.to_path_buf(),
                source,
            },
            None => OpenError::Undecodable {
                path: path.to_path_buf(),
            },
        };
        // The columns to decode: those `needed` reads, found in the stream's schema.
        let mut drop = HashSet::new();
        let projection = match needed {
            None => None,
            Some(needed) => {
                let schema = std::panic::catch_unwind(|| {
                    StreamReader::try_new(Cursor::new(&bytes[..]), None).map(|s| s.schema())
                })
                .map_err(|_| unreadable(None))?
                .map_err(|e| unreadable(Some(e)))?;
                let all = schema.fields().len();
                let kind = Kind::of_signal(schema.metadata().get(META_SIGNAL).map(String::as_str));
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
        let stream =
            std::panic::catch_unwind(|| StreamReader::try_new(Cursor::new(bytes), projection))
                .map_err(|_| unreadable(None))?
                .map_err(|e| unreadable(Some(e)))?;
        let meta = stream.schema().metadata().clone();
        let number = |key: &str| meta.get(key).and_then(|v| v.parse::<u64>().ok());
        let kind = Kind::of_signal(meta.get(META_SIGNAL).map(String::as_str));
        Ok(Self {
            kind,
            metrics_started: number(META_METRICS_STARTED),
            first_of_run: meta.get(META_FIRST_OF_RUN).is_some_and(|v| v == "true"),
            drop,
            held_rows: None,
            path: path.to_path_buf(),
            lateness: number(META_LATENESS),
            future: number(META_FUTURE),
            stream: Some(stream),
            damage,
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
            lateness: self.lateness,
            future: self.future,
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
            lateness: self.lateness,
            future: self.future,
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
            lateness: self.lateness,
            future: self.future,
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
        let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stream.next()));
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
                if let Some(damage) = self.damage.take() {
                    self.stop(damage);
                }
                self.stream = None;
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{BinaryArray, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};

    use super::sound_prefix_within;

    /// One zstd message of `columns` binary columns, each one value of `bytes` zeros:
    /// a few hundred bytes on disk that state `columns × bytes` decompressed.
    fn zeros(columns: usize, bytes: usize) -> Vec<u8> {
        let fields: Vec<Field> = (0..columns)
            .map(|i| Field::new(format!("c{i}"), DataType::Binary, false))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let value = vec![0u8; bytes];
        let arrays = (0..columns)
            .map(|_| Arc::new(BinaryArray::from(vec![&value[..]])) as arrow_array::ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
        let options = arrow_ipc::writer::IpcWriteOptions::default()
            .try_with_compression(Some(arrow_ipc::CompressionType::ZSTD))
            .unwrap();
        let mut out = Vec::new();
        let mut w =
            arrow_ipc::writer::StreamWriter::try_new_with_options(&mut out, &schema, options)
                .unwrap();
        w.write(&batch).unwrap();
        w.finish().unwrap();
        drop(w);
        out
    }

    #[test]
    fn a_message_may_not_state_more_than_the_limit_over_all_its_buffers() {
        let mib = 1 << 20;
        let bytes = zeros(8, mib);
        assert!(bytes.len() < mib / 8, "{} bytes", bytes.len());
        // Each buffer states 1 MiB, within a 2 MiB limit; the message states 8 MiB.
        let (sound, damage) = sound_prefix_within(&bytes, 2 * mib as i64);
        let damage = damage.expect("refused");
        assert!(
            damage.contains("message 1") && damage.contains("state an impossible size"),
            "{damage}"
        );
        // The schema (message 0) is sound.
        assert!(sound > 0 && sound < bytes.len());
        // Within the limit: the whole stream.
        assert_eq!(
            sound_prefix_within(&bytes, 9 * mib as i64),
            (bytes.len(), None)
        );
    }
}
