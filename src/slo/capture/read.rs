//! Reading a capture back: its files in time order, each file's batches as span facts
//! ([`Reader`]'s iterator) or, in files of log facts ([`Reader::is_logs`]), as log facts
//! ([`Reader::next_logs`]).
//!
//! A file is read whole (its size is its bound) and its messages are checked before Arrow
//! decodes them: every length must lie within the file and every compressed buffer's
//! stated size within [`MAX_BUFFER`], so a damaged file cannot make the reader allocate
//! what the disk does not hold. Decoding stops at the first damaged message with a warning
//! that names the file, the batch and the byte offset; the batches before it count. A file
//! in progress ends in a partial message at most, which ends it the same way.
//!
//! A message holds the facts of several requests; each request (a run of rows with one
//! `received_unix_nano`) comes out as a batch of its own, as the live engine recorded it.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_ipc::reader::StreamReader;

use super::{EXTENSION, META_FUTURE, META_LATENESS, META_SIGNAL, RECEIVED, TENANT};
use crate::slo::facts::logs::LogFacts;
use crate::slo::facts::{FactsSchema, SpanFacts};

/// The largest decompressed buffer a capture message may state (1 GiB).
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

/// One batch of log facts read back.
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

/// One batch read back.
#[derive(Debug, Clone)]
pub struct CapturedBatch {
    pub facts: SpanFacts,
    /// The attribute columns the batch holds.
    pub columns: FactsSchema,
    /// When the live engine recorded it (Unix ns).
    pub received: u64,
    /// The engine's `allowed_lateness` and `max_future` when it was written (ns), if the
    /// file says.
    pub lateness: Option<u64>,
    pub future: Option<u64>,
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
    /// A decoded batch of several requests, and where its next request starts.
    held: Option<(RecordBatch, usize)>,
    /// A file of log facts.
    logs: bool,
}

/// The length of the prefix of `bytes` made of whole, sound messages, and what is wrong
/// right after it.
fn sound_prefix(bytes: &[u8]) -> (usize, Option<String>) {
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
                    let size = i64::from_le_bytes(size);
                    if size > MAX_BUFFER {
                        return damaged("a buffer states an impossible size");
                    }
                }
            }
        }
        pos = body_start + body_len;
        message += 1;
    }
}

impl Reader {
    /// Opens `path`; a file that cannot be read at all is an error (with the path).
    pub fn open(path: &Path) -> Result<Self, String> {
        let located = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let len = std::fs::metadata(path).map_err(|e| located(&e))?.len();
        if len > MAX_FILE {
            return Err(located(&format!(
                "{len} bytes: too large for a capture file"
            )));
        }
        let mut bytes = std::fs::read(path).map_err(|e| located(&e))?;
        let (sound, damage) = sound_prefix(&bytes);
        bytes.truncate(sound);
        if bytes.is_empty() {
            return Err(located(&damage.unwrap_or_else(|| "empty".to_string())));
        }
        let stream =
            match std::panic::catch_unwind(|| StreamReader::try_new(Cursor::new(bytes), None)) {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return Err(located(&format!("not an Arrow IPC stream: {e}"))),
                Err(_) => return Err(located(&"not an Arrow IPC stream")),
            };
        let meta = stream.schema().metadata().clone();
        let number = |key: &str| meta.get(key).and_then(|v| v.parse::<u64>().ok());
        let logs = meta.get(META_SIGNAL).is_some_and(|s| s == "logs");
        Ok(Self {
            logs,
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
    /// iterator, which yields span facts, yields nothing then).
    pub fn is_logs(&self) -> bool {
        self.logs
    }

    /// The next request's log facts, of a file of log facts ([`Reader::is_logs`]).
    pub fn next_logs(&mut self) -> Option<CapturedLogs> {
        if !self.logs {
            return None;
        }
        let batch = self.next_request()?;
        let received = match received_at(&batch) {
            Ok(at) => at,
            Err(e) => return self.stop(e),
        };
        match LogFacts::from_batch(batch) {
            Ok(facts) => {
                self.index += 1;
                Some(CapturedLogs {
                    facts,
                    received,
                    lateness: self.lateness,
                    future: self.future,
                })
            }
            Err(e) => self.stop(e),
        }
    }

    /// Why the file ended before its end, with the file and batch, once reading stopped.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    fn stop<T>(&mut self, why: String) -> Option<T> {
        self.stream = None;
        self.warning = Some(format!(
            "{}: batch {}: {why}; the rest of the file is skipped",
            self.path.display(),
            self.index
        ));
        None
    }

    fn convert(batch: RecordBatch) -> Result<(SpanFacts, FactsSchema, u64), String> {
        let at = received_at(&batch)?;
        let (facts, columns) = SpanFacts::from_batch(batch)?;
        Ok((facts, columns, at))
    }
}

/// The receipt time of a request's batch, its tenant column checked.
fn received_at(batch: &RecordBatch) -> Result<u64, String> {
    let received = batch
        .column_by_name(RECEIVED)
        .and_then(|c| c.as_primitive_opt::<UInt64Type>())
        .ok_or_else(|| format!("no {RECEIVED} column"))?;
    if received.is_empty() || received.null_count() > 0 {
        return Err(format!("column {RECEIVED} is empty or has nulls"));
    }
    if let Some(tenant) = batch.column_by_name(TENANT)
        && tenant.as_dictionary_opt::<Int32Type>().is_none()
    {
        return Err(format!("column {TENANT} is not a dictionary"));
    }
    Ok(received.value(0))
}

/// The rows from `start` received at the same time as row `start`.
fn request_at(batch: &RecordBatch, start: usize) -> Result<usize, String> {
    let received = batch
        .column_by_name(RECEIVED)
        .and_then(|c| c.as_primitive_opt::<UInt64Type>())
        .ok_or_else(|| format!("no {RECEIVED} column"))?;
    if received.null_count() > 0 {
        return Err(format!("column {RECEIVED} has nulls"));
    }
    let values = received.values();
    let Some(first) = values.get(start) else {
        return Err(format!("column {RECEIVED} is empty"));
    };
    Ok(values[start..].iter().take_while(|v| *v == first).count())
}

impl Reader {
    /// The next request's rows, whatever the file holds.
    fn next_request(&mut self) -> Option<RecordBatch> {
        if self.held.is_none() {
            let stream = self.stream.as_mut()?;
            let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stream.next()));
            let batch = match next {
                Ok(Some(Ok(batch))) => batch,
                Ok(Some(Err(e))) => return self.stop(e.to_string()),
                Err(_) => return self.stop("undecodable".to_string()),
                Ok(None) => {
                    if let Some(damage) = self.damage.take() {
                        return self.stop(damage);
                    }
                    self.stream = None;
                    return None;
                }
            };
            self.held = Some((batch, 0));
        }
        // One message holds the facts of several requests (the writer gathers them): each
        // request, a run of rows with one receipt time, is a batch of its own.
        let (held, start) = self.held.take()?;
        let batch = match request_at(&held, start) {
            Ok(len) if start + len < held.num_rows() => {
                let part = held.slice(start, len);
                self.held = Some((held, start + len));
                part
            }
            Ok(len) if start == 0 => {
                debug_assert_eq!(len, held.num_rows());
                held
            }
            Ok(len) => held.slice(start, len),
            Err(e) => return self.stop(e),
        };
        Some(batch)
    }
}

impl Iterator for Reader {
    type Item = CapturedBatch;

    fn next(&mut self) -> Option<CapturedBatch> {
        if self.logs {
            return None;
        }
        let batch = self.next_request()?;
        match Self::convert(batch) {
            Ok((facts, columns, received)) => {
                self.index += 1;
                Some(CapturedBatch {
                    facts,
                    columns,
                    received,
                    lateness: self.lateness,
                    future: self.future,
                })
            }
            Err(e) => self.stop(e),
        }
    }
}
