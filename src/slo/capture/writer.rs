//! The capture's writer thread: appends each batch to the current file of its kind (span
//! facts, log facts or metric requests), flushes at least once a second, rotates, and keeps the directory
//! within `retention` and `max_bytes`.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use arrow_schema::SchemaRef;

use super::ipc::Stream;
use super::layout::{Layout, Seen, same_facts};
use super::queue::Queue;
use super::{
    Counters, EXTENSION, EngineSettings, Item, Kind, META_FIRST_OF_RUN, META_FUTURE, META_LATENESS,
    META_MAX_GROUPS_TOTAL, META_MAX_MESSAGE, META_METRICS_STARTED, META_SIGNAL,
};
use crate::config::CaptureConfig;
use crate::telemetry::log_limit::LogLimiter;
use crate::unix_time::{nanos, now_nanos as wall};

/// How often buffered facts are flushed to the file, and housekeeping runs.
const TICK: Duration = Duration::from_secs(1);

/// Requests' facts are gathered up to this many rows and written as one batch: one IPC
/// message (and one resent dictionary per dictionary column, one compressed frame per
/// buffer) per few thousand spans instead of per request.
pub(super) const COALESCE_ROWS: usize = 8192;

/// How long requests' facts may wait for more before they are written (and flushed) when
/// fewer than [`COALESCE_ROWS`] come: with the one-second tick, a span's facts are on disk
/// within 3 s of its receipt, in messages as large as the traffic allows.
const PENDING_WAIT: Duration = Duration::from_secs(2);

/// Metric requests are written once this many bytes of them wait (a row is a whole
/// request), however few rows: a request of the usual size is a message of its own, its
/// bytes compressed where they lie instead of copied into a larger message first.
pub(super) const PENDING_METRIC_BYTES: u64 = 64 << 10;

/// zstd level of the capture files: a fast negative level, since the writer shares the
/// CPUs with receiving. On the capture's narrow columns (a million spans of `slotel
/// loadgen` re-encoded at each level) −5 costs zstd 17% fewer instructions than −1 for 10%
/// more bytes (12.6 a span, what level −1 wrote before the columns were narrowed), level 1
/// 30% more than −1 for 9% fewer bytes; past −5 each step saves less. zstd's minimum match
/// is set apart from the level (`ipc.rs`).
const ZSTD_LEVEL: i32 = -5;

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

/// Where a file's bytes go: the file until its first message (whose columns decide the
/// file's schema), then the Arrow IPC writer.
enum Sink {
    Waiting(BufWriter<Counting>),
    Writing(Box<Stream<BufWriter<Counting>>>),
    /// Only while switching.
    Gone,
}

/// The file being written.
struct Current {
    path: PathBuf,
    sink: Sink,
    /// The columns of the requests this file takes (of the first one; others start a new
    /// file).
    input: SchemaRef,
    /// How the file writes them, once its first message is written.
    layout: Option<Layout>,
    started: u64,
    dirty: bool,
    /// Requests not written yet (all of the file's columns), their rows, and when the
    /// first of them came (Unix ns).
    pending: Vec<Item>,
    pending_rows: usize,
    pending_since: u64,
    /// Bytes of the metric requests pending.
    pending_bytes: u64,
    kind: Kind,
}

impl Current {
    fn bytes(&mut self) -> u64 {
        let out = match &mut self.sink {
            Sink::Waiting(w) => w,
            Sink::Writing(w) => w.get_mut(),
            Sink::Gone => return 0,
        };
        out.get_ref().bytes + out.buffer().len() as u64
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
    /// The file being written, per [`Kind`].
    current: [Option<Current>; 3],
    /// The nullable columns that held values, per [`Kind`].
    seen: [Seen; 3],
    /// Files of metric requests opened so far.
    metric_files: u64,
    /// Oldest first.
    closed: VecDeque<Closed>,
    seq: u64,
    last_tick: u64,
    log: LogLimiter,
    /// Requests written since the last round, for the receiving threads to drop (they
    /// allocated them: `queue.rs`).
    spent: Vec<Item>,
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
            .map_or(0, nanos);
        files.push(Closed {
            path,
            bytes: meta.len(),
            ended,
        });
    }
    files.sort_by_key(|f| time_order(&f.path));
    Ok(files.into())
}

/// The metadata of a file's schema: the engine settings a replay needs and the bound on
/// its messages; for metric requests, when the engine started watching metrics and whether this is the first file of
/// them since (`first`).
fn metadata(engine: &EngineSettings, kind: Kind, first: bool) -> HashMap<String, String> {
    let mut metadata = HashMap::from([
        (
            META_LATENESS.to_string(),
            engine.allowed_lateness.as_nanos().to_string(),
        ),
        (
            META_FUTURE.to_string(),
            engine.max_future.as_nanos().to_string(),
        ),
        (
            META_MAX_MESSAGE.to_string(),
            super::frames::message_bound(engine.max_request_memory).to_string(),
        ),
    ]);
    if engine.max_groups_total != usize::MAX {
        metadata.insert(
            META_MAX_GROUPS_TOTAL.to_string(),
            engine.max_groups_total.to_string(),
        );
    }
    if let Some(signal) = kind.signal() {
        metadata.insert(META_SIGNAL.to_string(), signal.to_string());
    }
    if kind == Kind::Metrics {
        metadata.insert(
            META_METRICS_STARTED.to_string(),
            engine.metrics_started.to_string(),
        );
        metadata.insert(META_FIRST_OF_RUN.to_string(), first.to_string());
    }
    metadata
}

/// Capture files in time order: by the name after the kind's prefix (`facts-`, `logs-`,
/// `metrics-`), then by the whole name.
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
            current: [None, None, None],
            seen: Default::default(),
            metric_files: 0,
            closed,
            seq: 0,
            last_tick: wall(),
            log: LogLimiter::default(),
            spent: Vec::new(),
        };
        writer.housekeeping(wall());
        Ok(writer)
    }

    pub(super) fn run(mut self, queue: &Queue) {
        let mut items: Vec<Item> = Vec::new();
        loop {
            // Until the next tick, unless a message's rows come first (never longer than a
            // tick: the wall clock may have been set back).
            let wait = (self.last_tick + nanos(TICK)).saturating_sub(wall());
            let wait = Duration::from_nanos(wait).min(TICK);
            let open = queue.take(&mut items, wait, &mut self.spent);
            // Those the receiving threads did not take (or, closing, will not).
            self.spent.clear();
            for item in items.drain(..) {
                self.write(item);
            }
            let now = wall();
            if now.saturating_sub(self.last_tick) >= nanos(TICK) {
                self.last_tick = now;
                self.flush(now);
                self.housekeeping(now);
            }
            if !open {
                break;
            }
        }
        self.close_all(wall());
        // The last requests written on closing count toward the disk bound too.
        self.enforce_bytes();
        self.publish();
    }

    fn close_all(&mut self, now: u64) {
        for kind in Kind::ALL {
            self.close_current(kind.index(), now);
        }
    }

    fn write(&mut self, item: Item) {
        let k = item.kind.index();
        self.counters
            .queued_metric_bytes
            .fetch_sub(item.charged, Ordering::Relaxed);
        let now = wall();
        let rows = item.batch.num_rows() as u64;
        let slice = (self.cfg.max_bytes / 8).max(1);
        let schema = item.batch.schema();
        let new_column = self.seen[k].note(&item);
        let rotate = match &mut self.current[k] {
            None => true,
            Some(c) => {
                !same_facts(&c.input, &schema)
                    // A value in a column the file writes as `Null`: a new file.
                    || new_column && c.layout.is_some()
                    || now.saturating_sub(c.started) >= nanos(self.cfg.rotate_every)
                    || c.bytes() >= slice
            }
        };
        if rotate {
            self.close_current(k, now);
            if let Err(e) = self.open_file(schema, now, item.kind) {
                self.failed(rows, item.kind, &e.to_string());
                return;
            }
        }
        let Some(current) = &mut self.current[k] else {
            return;
        };
        if current.pending.is_empty() {
            current.pending_since = now;
        }
        current.pending_rows += item.batch.num_rows();
        current.pending_bytes += item.charged;
        current.pending.push(item);
        if current.pending_rows >= COALESCE_ROWS || current.pending_bytes >= PENDING_METRIC_BYTES {
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
        let kind = current.kind;
        if current.pending.is_empty() {
            return;
        }
        let items = std::mem::take(&mut current.pending);
        let rows = std::mem::take(&mut current.pending_rows) as u64;
        current.pending_bytes = 0;
        // Whether the layout is made for these requests (not an earlier message's).
        let fresh = current.layout.is_none();
        if fresh {
            // The first message: the file's columns are those the requests so far filled.
            if kind == Kind::Metrics {
                self.metric_files += 1;
            }
            let metadata = metadata(&self.engine, kind, self.metric_files == 1);
            let Some(current) = &mut self.current[k] else {
                return;
            };
            let layout = Layout::new(&current.input, &self.seen[k], metadata, &items);
            let sink = std::mem::replace(&mut current.sink, Sink::Gone);
            let Sink::Waiting(out) = sink else {
                return;
            };
            match Stream::try_new(out, &layout.output, ZSTD_LEVEL) {
                Ok(w) => current.sink = Sink::Writing(Box::new(w)),
                Err(e) => {
                    self.failed(rows, kind, &e.to_string());
                    self.close_current(k, now);
                    return;
                }
            }
            current.layout = Some(layout);
        }
        let Some(current) = &mut self.current[k] else {
            return;
        };
        let (Some(layout), Sink::Writing(writer)) = (&current.layout, &mut current.sink) else {
            return;
        };
        let message = layout.message(&items);
        let result = match message {
            Ok(Some(batch)) => {
                let written = writer.write(&batch);
                // The message's columns share the requests' buffers: dropped first, so
                // that the receiving threads free them.
                drop(batch);
                self.spent.extend(items);
                written
            }
            Ok(None) if !fresh => {
                // More distinct strings than the file's dictionary keys number, or an
                // integer wider than its narrowed column: a new file, laid out by these
                // requests.
                let input = current.input.clone();
                self.close_current(k, now);
                if let Err(e) = self.open_file(input, now, kind) {
                    self.failed(rows, kind, &e.to_string());
                    return;
                }
                if let Some(current) = &mut self.current[k] {
                    current.pending = items;
                    current.pending_rows = rows as usize;
                }
                self.write_pending(k, now);
                return;
            }
            Ok(None) => Err(arrow_schema::ArrowError::ComputeError(
                "more distinct strings than dictionary keys, or integers wider than their column"
                    .to_string(),
            )),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                current.dirty = true;
                let [written, _, _] = self.counters.of(kind);
                written.fetch_add(rows, Ordering::Relaxed);
            }
            Err(e) => {
                // The file may end in a partial message now: start a new one.
                self.failed(rows, kind, &e.to_string());
                self.close_current(k, now);
            }
        }
    }

    fn failed(&mut self, rows: u64, kind: Kind, error: &str) {
        let [_, _, failed] = self.counters.of(kind);
        failed.fetch_add(rows, Ordering::Relaxed);
        if let Some(more) = self.log.check("slo_capture_write") {
            let kind = kind.prefix();
            tracing::warn!(error, kind, dir = %self.cfg.directory.display(), "slo capture: facts not written{more}");
        }
    }

    /// Starts a file for requests of `input`; its schema is written with its first
    /// message.
    fn open_file(&mut self, input: SchemaRef, now: u64, kind: Kind) -> std::io::Result<()> {
        self.seq += 1;
        let prefix = kind.prefix();
        let path = self.cfg.directory.join(format!(
            "{prefix}-{now:020}-{:06}.{EXTENSION}",
            self.seq % 1_000_000
        ));
        let file = File::create(&path)?;
        self.current[kind.index()] = Some(Current {
            path,
            sink: Sink::Waiting(BufWriter::with_capacity(
                256 * 1024,
                Counting { file, bytes: 0 },
            )),
            input,
            layout: None,
            started: now,
            dirty: true,
            pending: Vec::new(),
            pending_rows: 0,
            pending_since: now,
            pending_bytes: 0,
            kind,
        });
        Ok(())
    }

    /// Writes what has waited [`PENDING_WAIT`] and flushes the files.
    fn flush(&mut self, now: u64) {
        for k in 0..self.current.len() {
            if let Some(c) = &self.current[k]
                && now.saturating_sub(c.pending_since) >= nanos(PENDING_WAIT)
            {
                self.write_pending(k, now);
            }
            let Some(current) = &mut self.current[k] else {
                continue;
            };
            if !current.dirty {
                continue;
            }
            current.dirty = false;
            let flushed = match &mut current.sink {
                Sink::Writing(w) => w.flush().map_err(|e| e.to_string()),
                _ => Ok(()),
            };
            if let Err(e) = flushed {
                let kind = current.kind;
                self.failed(0, kind, &e);
                self.close_current(k, wall());
            }
        }
    }

    fn close_current(&mut self, k: usize, now: u64) {
        self.write_pending(k, now);
        let Some(mut current) = self.current[k].take() else {
            return;
        };
        let Sink::Writing(writer) = &mut current.sink else {
            // Nothing was written to it: no file.
            self.remove_empty(&current.path);
            return;
        };
        if let Err(e) = writer.finish() {
            self.failed(0, current.kind, &e.to_string());
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
        for k in 0..self.current.len() {
            if let Some(c) = &self.current[k]
                && now.saturating_sub(c.started) >= nanos(self.cfg.rotate_every)
            {
                self.close_current(k, now);
            }
        }
        let retention = nanos(self.cfg.retention);
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

    /// Removes a file nothing was written to (not counted: it held no facts).
    fn remove_empty(&mut self, path: &std::path::Path) {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                if let Some(more) = self.log.check("slo_capture_remove") {
                    tracing::warn!(error = %e, file = %path.display(), "slo capture: cannot remove an empty file{more}");
                }
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
