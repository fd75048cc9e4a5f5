//! The capture's writer thread: appends each batch to the current file of its kind (span
//! facts or log facts), flushes at least once a second, rotates, and keeps the directory
//! within `retention` and `max_bytes`.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Int32Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_ipc::CompressionType;
use arrow_ipc::writer::{IpcWriteOptions, StreamWriter};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::{
    Counters, EXTENSION, EngineSettings, Item, META_FUTURE, META_LATENESS, META_SIGNAL, RECEIVED,
    TENANT,
};
use crate::config::CaptureConfig;
use crate::telemetry::log_limit::LogLimiter;

/// How often buffered facts are flushed to the file, and housekeeping runs.
const TICK: Duration = Duration::from_secs(1);

/// Requests' facts are gathered up to this many rows and written as one batch: one IPC
/// message (and one resent dictionary per dictionary column, one compressed frame per
/// buffer) per few thousand spans instead of per request.
const COALESCE_ROWS: usize = 8192;

/// zstd level of the capture files: 1 costs the receive path less CPU than the default 3
/// (the writer shares the CPUs with receiving) for files a little larger.
const ZSTD_LEVEL: i32 = 1;

/// Wall-clock time, Unix nanoseconds.
fn wall() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// A file's bytes counted as they are written.
struct Counting {
    file: File,
    bytes: u64,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// The file being written.
struct Current {
    path: PathBuf,
    writer: StreamWriter<BufWriter<Counting>>,
    /// The facts' schema this file takes; another starts a new file.
    input: SchemaRef,
    output: SchemaRef,
    started: u64,
    dirty: bool,
    /// Requests not written yet (all of the `input` schema), and their rows.
    pending: Vec<Item>,
    pending_rows: usize,
    /// A file of log facts.
    logs: bool,
}

impl Current {
    fn bytes(&mut self) -> u64 {
        let buffered = self.writer.get_mut().buffer().len() as u64;
        self.writer.get_mut().get_ref().bytes + buffered
    }
}

/// A finished file: its path, size and when it was last written (Unix ns).
struct Closed {
    path: PathBuf,
    bytes: u64,
    ended: u64,
}

pub(super) struct Writer {
    cfg: CaptureConfig,
    engine: EngineSettings,
    counters: Arc<Counters>,
    /// The file being written for span facts (0) and for log facts (1).
    current: [Option<Current>; 2],
    /// Oldest first.
    closed: VecDeque<Closed>,
    seq: u64,
    last_tick: u64,
    log: LogLimiter,
}

/// The capture files of `dir` (by name), oldest first, with their size and modification
/// time.
fn existing(dir: &std::path::Path) -> std::io::Result<VecDeque<Closed>> {
    let mut files: Vec<Closed> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some(EXTENSION) {
            continue;
        }
        let meta = entry.metadata()?;
        if !meta.is_file() {
            continue;
        }
        let ended = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        files.push(Closed {
            path,
            bytes: meta.len(),
            ended,
        });
    }
    files.sort_by_key(|f| time_order(&f.path));
    Ok(files.into())
}

/// Capture files in time order: by the name after the kind's prefix (`facts-`, `logs-`),
/// then by the whole name.
pub(super) fn time_order(path: &std::path::Path) -> (String, String) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let time = name
        .split_once('-')
        .map_or(name.as_str(), |(_, rest)| rest)
        .to_string();
    (time, name)
}

impl Writer {
    pub(super) fn open(
        cfg: CaptureConfig,
        engine: EngineSettings,
        counters: Arc<Counters>,
    ) -> std::io::Result<Self> {
        let closed = existing(&cfg.directory)?;
        let mut writer = Self {
            cfg,
            engine,
            counters,
            current: [None, None],
            closed,
            seq: 0,
            last_tick: wall(),
            log: LogLimiter::default(),
        };
        writer.housekeeping(wall());
        Ok(writer)
    }

    pub(super) fn run(mut self, rx: Receiver<Item>) {
        loop {
            match rx.recv_timeout(TICK) {
                Ok(item) => self.write(item),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let now = wall();
            if now.saturating_sub(self.last_tick) >= TICK.as_nanos() as u64 {
                self.last_tick = now;
                self.flush();
                self.housekeeping(now);
            }
        }
        self.close_all(wall());
        // The last requests written on closing count toward the disk bound too.
        self.enforce_bytes();
        self.publish();
    }

    fn close_all(&mut self, now: u64) {
        self.close_current(0, now);
        self.close_current(1, now);
    }

    fn write(&mut self, mut item: Item) {
        // Every captured batch of span facts has the adjusted-count column, so that
        // requests with and without sampled spans share one file.
        if !item.logs {
            item.batch = crate::slo::facts::with_adjusted_counts(item.batch);
        }
        let k = usize::from(item.logs);
        let now = wall();
        let rows = item.batch.num_rows() as u64;
        let slice = (self.cfg.max_bytes / 8).max(1);
        let rotate = match &mut self.current[k] {
            None => true,
            Some(c) => {
                (!Arc::ptr_eq(&c.input, &item.batch.schema()) && *c.input != *item.batch.schema())
                    || now.saturating_sub(c.started) >= self.cfg.rotate_every.as_nanos() as u64
                    || c.bytes() >= slice
            }
        };
        if rotate {
            self.close_current(k, now);
            if let Err(e) = self.open_file(&item.batch.schema(), now, item.logs) {
                self.failed(rows, item.logs, &e.to_string());
                return;
            }
        }
        let Some(current) = &mut self.current[k] else {
            return;
        };
        current.pending_rows += item.batch.num_rows();
        current.pending.push(item);
        if current.pending_rows >= COALESCE_ROWS {
            self.write_pending(k, now);
        }
        self.enforce_bytes();
        self.publish();
    }

    /// Writes the pending requests of the current file of kind `k` as one batch.
    fn write_pending(&mut self, k: usize, now: u64) {
        let Some(current) = &mut self.current[k] else {
            return;
        };
        let logs = current.logs;
        if current.pending.is_empty() {
            return;
        }
        let items = std::mem::take(&mut current.pending);
        let rows = std::mem::take(&mut current.pending_rows) as u64;
        let result = items
            .iter()
            .map(|item| with_extra(item, &current.output))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|batches| concat(&current.output, &batches))
            .and_then(|batch| current.writer.write(&batch));
        match result {
            Ok(()) => {
                current.dirty = true;
                let written = match logs {
                    true => &self.counters.log_records,
                    false => &self.counters.spans,
                };
                written.fetch_add(rows, Ordering::Relaxed);
            }
            Err(e) => {
                // The file may end in a partial message now: start a new one.
                self.failed(rows, logs, &e.to_string());
                self.close_current(k, now);
            }
        }
    }

    fn failed(&mut self, rows: u64, logs: bool, error: &str) {
        let failed = match logs {
            true => &self.counters.failed_log_records,
            false => &self.counters.failed_spans,
        };
        failed.fetch_add(rows, Ordering::Relaxed);
        if let Some(more) = self.log.check("slo_capture_write") {
            tracing::warn!(error, logs, dir = %self.cfg.directory.display(), "slo capture: facts not written{more}");
        }
    }

    fn open_file(&mut self, input: &SchemaRef, now: u64, logs: bool) -> std::io::Result<()> {
        self.seq += 1;
        let prefix = if logs { "logs" } else { "facts" };
        let path = self.cfg.directory.join(format!(
            "{prefix}-{now:020}-{:06}.{EXTENSION}",
            self.seq % 1_000_000
        ));
        let mut fields: Vec<Arc<Field>> = input.fields().iter().cloned().collect();
        fields.push(Arc::new(Field::new(RECEIVED, DataType::UInt64, false)));
        fields.push(Arc::new(Field::new(
            TENANT,
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            true,
        )));
        let mut metadata = HashMap::from([
            (
                META_LATENESS.to_string(),
                self.engine.allowed_lateness.as_nanos().to_string(),
            ),
            (
                META_FUTURE.to_string(),
                self.engine.max_future.as_nanos().to_string(),
            ),
        ]);
        if logs {
            metadata.insert(META_SIGNAL.to_string(), "logs".to_string());
        }
        let output = Arc::new(Schema::new_with_metadata(fields, metadata));
        let file = File::create(&path)?;
        let options = IpcWriteOptions::default()
            .try_with_compression(Some(CompressionType::ZSTD))
            .and_then(|o| o.try_with_compression_level(Some(ZSTD_LEVEL)))
            .map_err(std::io::Error::other)?;
        let writer = StreamWriter::try_new_with_options(
            BufWriter::with_capacity(256 * 1024, Counting { file, bytes: 0 }),
            &output,
            options,
        )
        .map_err(std::io::Error::other)?;
        self.current[usize::from(logs)] = Some(Current {
            path,
            writer,
            input: input.clone(),
            output,
            started: now,
            dirty: true,
            pending: Vec::new(),
            pending_rows: 0,
            logs,
        });
        Ok(())
    }

    fn flush(&mut self) {
        for k in 0..2 {
            self.write_pending(k, wall());
            let Some(current) = &mut self.current[k] else {
                continue;
            };
            if !current.dirty {
                continue;
            }
            current.dirty = false;
            if let Err(e) = current.writer.flush() {
                let (e, logs) = (e.to_string(), current.logs);
                self.failed(0, logs, &e);
                self.close_current(k, wall());
            }
        }
    }

    fn close_current(&mut self, k: usize, now: u64) {
        self.write_pending(k, now);
        let Some(mut current) = self.current[k].take() else {
            return;
        };
        if let Err(e) = current.writer.finish() {
            self.failed(0, current.logs, &e.to_string());
        }
        let bytes = current.bytes();
        self.closed.push_back(Closed {
            path: current.path,
            bytes,
            ended: now,
        });
    }

    /// Rotates a file past its age, removes files past `retention`, and keeps `max_bytes`.
    fn housekeeping(&mut self, now: u64) {
        for k in 0..2 {
            if let Some(c) = &self.current[k]
                && now.saturating_sub(c.started) >= self.cfg.rotate_every.as_nanos() as u64
            {
                self.close_current(k, now);
            }
        }
        let retention = self.cfg.retention.as_nanos() as u64;
        while let Some(oldest) = self.closed.front() {
            if now.saturating_sub(oldest.ended) < retention {
                break;
            }
            if let Some(f) = self.closed.pop_front() {
                self.remove(f, "retention");
            }
        }
        self.enforce_bytes();
        self.publish();
    }

    /// The bytes of the files being written.
    fn current_bytes(&mut self) -> u64 {
        self.current.iter_mut().flatten().map(Current::bytes).sum()
    }

    /// Removes the oldest finished files while all of them hold more than `max_bytes`
    /// (the current files are closed first when they alone are past the bound).
    fn enforce_bytes(&mut self) {
        loop {
            let closed: u64 = self.closed.iter().map(|c| c.bytes).sum();
            let current = self.current_bytes();
            if closed + current <= self.cfg.max_bytes {
                return;
            }
            if self.closed.is_empty() {
                if self.current.iter().all(Option::is_none) {
                    return;
                }
                self.close_all(wall());
                continue;
            }
            if let Some(f) = self.closed.pop_front() {
                self.remove(f, "max_bytes");
            }
        }
    }

    fn remove(&mut self, file: Closed, reason: &'static str) {
        match std::fs::remove_file(&file.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                if let Some(more) = self.log.check("slo_capture_remove") {
                    tracing::warn!(error = %e, file = %file.path.display(), "slo capture: cannot remove a file{more}");
                }
                return;
            }
        }
        let counter = match reason {
            "retention" => &self.counters.removed_retention,
            _ => &self.counters.removed_max_bytes,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn publish(&mut self) {
        let closed: u64 = self.closed.iter().map(|c| c.bytes).sum();
        let current = self.current_bytes();
        let files = self.closed.len() + self.current.iter().flatten().count();
        self.counters
            .bytes
            .store(closed + current, Ordering::Relaxed);
        self.counters.files.store(files as u64, Ordering::Relaxed);
    }
}

/// The batch with the capture's two columns added.
fn with_extra(item: &Item, output: &SchemaRef) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = item.batch.num_rows();
    let mut columns: Vec<ArrayRef> = item.batch.columns().to_vec();
    columns.push(Arc::new(UInt64Array::from_value(item.received, n)));
    let (keys, values) = match &item.tenant {
        Some(t) => (
            Int32Array::from_value(0, n),
            StringArray::from(vec![t.as_ref()]),
        ),
        None => (
            Int32Array::new_null(n),
            StringArray::from(Vec::<&str>::new()),
        ),
    };
    columns.push(Arc::new(DictionaryArray::<Int32Type>::try_new(
        keys,
        Arc::new(values),
    )?));
    RecordBatch::try_new(output.clone(), columns)
}

/// One batch of `batches` (all of `schema`), rows in order. A dictionary column keeps
/// every batch's dictionary whole, one after the other, its keys moved past those before:
/// columns keyed by the row's resource (`cluster`, `service`, `resource.attributes[…]`)
/// still share their keys.
fn concat(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<RecordBatch, ArrowError> {
    if let [one] = batches {
        return Ok(one.clone());
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (i, field) in schema.fields().iter().enumerate() {
        let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(i).as_ref()).collect();
        let column: ArrayRef = match field.data_type() {
            DataType::Dictionary(k, _) if **k == DataType::Int32 => {
                let mut keys: Vec<Option<i32>> = Vec::with_capacity(batches.len() * 512);
                let mut values: Vec<&dyn Array> = Vec::with_capacity(parts.len());
                let mut offset: i32 = 0;
                for part in &parts {
                    let dict = part.as_dictionary::<Int32Type>();
                    keys.extend(dict.keys().iter().map(|k| k.map(|k| k + offset)));
                    values.push(dict.values().as_ref());
                    offset = i32::try_from(dict.values().len())
                        .ok()
                        .and_then(|n| offset.checked_add(n))
                        .ok_or_else(|| {
                            ArrowError::ComputeError("dictionary too large".to_string())
                        })?;
                }
                let values = arrow_select::concat::concat(&values)?;
                Arc::new(DictionaryArray::<Int32Type>::try_new(
                    Int32Array::from(keys),
                    values,
                )?)
            }
            _ => arrow_select::concat::concat(&parts)?,
        };
        columns.push(column);
    }
    RecordBatch::try_new(schema.clone(), columns)
}
