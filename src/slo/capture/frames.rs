//! A capture file's messages one at a time, each read whole and checked before Arrow
//! decodes it ([`Frames`]), and decoded into record batches ([`Batches`]): reading holds
//! one message of the file at a time (never the file), and never more than
//! [`MAX_MESSAGE`] of it.
//!
//! Every length a message states is checked against what is left of the file (as long as
//! it was when opened) and against [`MAX_MESSAGE`] before anything of that length is
//! allocated, and the sizes its compressed buffers state they decompress to (what Arrow
//! allocates before it decompresses) against [`MAX_MESSAGE`] together and, each, against
//! what zstd can regenerate from the buffer's bytes. The first message that fails ends
//! the stream there, and [`Frames::damage`] says where (message number and byte offset)
//! and why. A file its writer still appends to ends in a partial message at most, which
//! ends it the same way.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_buffer::Buffer;
use arrow_ipc::MessageHeader;
use arrow_ipc::reader::{RecordBatchDecoder, read_dictionary};
use arrow_schema::{ArrowError, Schema, SchemaRef};

/// The most bytes a capture message may hold, on disk (metadata and body) and in the
/// sizes its compressed buffers state they decompress to, all of them together (256 MiB).
///
/// The writer writes a message once fewer than 8,192 gathered rows take one more request,
/// or (metric requests) once 64 KiB of requests take one more. A request's facts are a
/// part of what the receiver charged it, within `max_request_memory` (128 MiB by
/// default), and a metric request waits for the writer within
/// `MAX_QUEUED_METRIC_BYTES` (64 MiB): a message states a few MiB as written by default
/// settings, and one holding the largest request a default receiver accepts stays
/// within this. A receiver with a larger `max_request_memory` may write larger messages:
/// its files state their bound ([`message_bound`]), which a reader then takes
/// ([`bound_for`]). A message that states more is damage.
pub const MAX_MESSAGE: u64 = 256 << 20;

/// The most bytes a capture message may hold whatever its file's schema states
/// ([`super::META_MAX_MESSAGE`]): 4 GiB.
pub const MOST_MESSAGE: u64 = 4 << 30;

/// The bound on a message that a writer states in its file's schema when its receiver
/// accepts requests of up to `max_request_memory` bytes: twice that (a message holds one
/// such request and the requests gathered before it, fewer than 8,192 rows), at least
/// [`MAX_MESSAGE`], at most [`MOST_MESSAGE`].
pub fn message_bound(max_request_memory: u64) -> u64 {
    max_request_memory
        .saturating_mul(2)
        .clamp(MAX_MESSAGE, MOST_MESSAGE)
}

/// The bound a reader applies to a file's messages: the larger of `default` and what the
/// file's schema states (`stated`, [`super::META_MAX_MESSAGE`]; a value that is not a
/// number counts as none), the latter at most [`MOST_MESSAGE`].
pub fn bound_for(stated: Option<&str>, default: u64) -> u64 {
    match stated.and_then(|s| s.parse::<u64>().ok()) {
        Some(stated) => stated.min(MOST_MESSAGE).max(default),
        None => default,
    }
}

/// The most a zstd-compressed buffer can decompress to per byte it holds: a zstd block
/// regenerates at most 128 KiB and takes at least 4 bytes (an RLE block: its 3-byte
/// header and the byte it repeats).
const ZSTD_MOST_PER_BYTE: u64 = 32 << 10;

/// The length prefix's escape: the metadata length follows.
const CONTINUATION: u32 = 0xFFFF_FFFF;

/// One message of a stream: its metadata (a `Message` flatbuffer, checked) and its body.
pub(super) struct Frame {
    pub(super) meta: Vec<u8>,
    pub(super) body: Buffer,
}

/// The messages of an Arrow IPC stream, checked one at a time (see the module's doc).
pub(super) struct Frames<R> {
    input: R,
    /// Bytes of the file not read yet, of its length when opened.
    left: u64,
    /// The byte offset of the next message, and its number (the schema is message 0).
    at: u64,
    message: usize,
    max_message: u64,
    /// No message follows (the end, the end-of-stream marker, or damage).
    ended: bool,
    damage: Option<String>,
    /// The most bytes allocated for one message.
    held: usize,
}

impl<R: Read> Frames<R> {
    /// The messages of `input`, whose length is `len` (reading stops there), each within
    /// `max_message` bytes ([`MAX_MESSAGE`] by default; see [`Frames::set_max_message`]).
    pub(super) fn within(input: R, len: u64, max_message: u64) -> Self {
        Self {
            input,
            left: len,
            at: 0,
            message: 0,
            max_message,
            ended: false,
            damage: None,
            held: 0,
        }
    }

    /// Where and why the stream ended before the file did, once it has.
    pub(super) fn damage(&self) -> Option<&str> {
        self.damage.as_deref()
    }

    /// Bounds the messages after those read so far by `max_message` (the file's schema,
    /// read first, may state a larger bound than the reader's default).
    pub(super) fn set_max_message(&mut self, max_message: u64) {
        self.max_message = max_message;
    }

    /// The most bytes reading allocated for one message so far.
    #[cfg(test)]
    pub(super) fn held(&self) -> usize {
        self.held
    }

    /// The byte offset where the next message starts (the first not handed out yet).
    #[cfg(test)]
    pub(super) fn offset(&self) -> u64 {
        self.at
    }

    /// The next message, checked; `None` at the end of the stream or at damage (then
    /// [`Frames::damage`] says where and why).
    pub(super) fn next_frame(&mut self) -> Option<Frame> {
        if self.ended {
            return None;
        }
        match self.read_frame() {
            Ok(Some(frame)) => Some(frame),
            Ok(None) => {
                self.ended = true;
                None
            }
            Err(why) => {
                self.ended = true;
                self.damage = Some(format!(
                    "message {} at byte {}: {why}",
                    self.message, self.at
                ));
                None
            }
        }
    }

    /// `n` bytes of the file (`n` within what is left of it).
    fn take(&mut self, n: u64) -> Result<Vec<u8>, String> {
        let len = usize::try_from(n).map_err(|_| "too large".to_string())?;
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(len)
            .map_err(|e| format!("cannot hold it: {e}"))?;
        (&mut self.input)
            .take(n)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read the file: {e}"))?;
        if bytes.len() != len {
            return Err("truncated (the file shrank)".to_string());
        }
        self.left -= n;
        Ok(bytes)
    }

    /// A little-endian `u32` of the file.
    fn word(&mut self) -> Result<u32, String> {
        if self.left < 4 {
            return Err("truncated".to_string());
        }
        let mut word = [0u8; 4];
        self.input
            .read_exact(&mut word)
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => "truncated (the file shrank)".to_string(),
                _ => format!("cannot read the file: {e}"),
            })?;
        self.left -= 4;
        Ok(u32::from_le_bytes(word))
    }

    /// The next message, read and checked: `Ok(None)` at the end of the stream, `Err`
    /// with what is wrong at damage.
    fn read_frame(&mut self) -> Result<Option<Frame>, String> {
        if self.left == 0 {
            return Ok(None);
        }
        let mut prefix = 4;
        let mut meta_len = self.word()?;
        if meta_len == CONTINUATION {
            prefix = 8;
            meta_len = self.word()?;
        }
        let meta_len = meta_len as i32;
        if meta_len == 0 {
            // The end-of-stream marker.
            return Ok(None);
        }
        let Ok(meta_len) = u64::try_from(meta_len) else {
            return Err("negative metadata length".into());
        };
        if meta_len > self.max_message {
            return Err(format!(
                "its metadata states {meta_len} bytes, more than a capture message holds ({})",
                self.max_message
            ));
        }
        if meta_len > self.left {
            return Err("truncated metadata".into());
        }
        let meta = self.take(meta_len)?;
        self.held = self.held.max(meta.capacity());
        let body_len = {
            let msg = arrow_ipc::root_as_message(&meta).map_err(|_| "unreadable metadata")?;
            u64::try_from(msg.bodyLength()).map_err(|_| "negative body length")?
        };
        if body_len > self.max_message - meta_len {
            return Err(format!(
                "it states {} bytes, more than a capture message holds ({})",
                meta_len.saturating_add(body_len),
                self.max_message
            ));
        }
        if body_len > self.left {
            return Err("truncated body".into());
        }
        let body = self.take(body_len)?;
        self.held = self.held.max(meta.capacity() + body.capacity());
        check_buffers(&meta, &body, self.max_message)?;
        self.at += prefix + meta_len + body_len;
        self.message += 1;
        Ok(Some(Frame {
            meta,
            body: Buffer::from_vec(body),
        }))
    }
}

/// Checks a message's compressed buffers: each within the body, each stating no more
/// than zstd can regenerate from its bytes, all stating at most `max_message` together.
fn check_buffers(meta: &[u8], body: &[u8], max_message: u64) -> Result<(), String> {
    let Ok(msg) = arrow_ipc::root_as_message(meta) else {
        return Err("unreadable metadata".into());
    };
    let batch = msg
        .header_as_record_batch()
        .or_else(|| msg.header_as_dictionary_batch().and_then(|d| d.data()));
    let Some(batch) = batch.filter(|b| b.compression().is_some()) else {
        return Ok(());
    };
    let mut stated = 0u64;
    for b in batch.buffers().into_iter().flatten() {
        let (Ok(offset), Ok(len)) = (usize::try_from(b.offset()), usize::try_from(b.length()))
        else {
            return Err("negative buffer position".into());
        };
        let Some(buffer) = body.get(offset..offset.saturating_add(len)) else {
            return Err("a buffer lies outside the body".into());
        };
        let Some((size, data)) = buffer.split_first_chunk::<8>() else {
            continue;
        };
        // -1: stored uncompressed, its length is its size.
        let Ok(size) = u64::try_from(i64::from_le_bytes(*size)) else {
            continue;
        };
        if size > (data.len() as u64).saturating_mul(ZSTD_MOST_PER_BYTE) {
            return Err(format!(
                "a buffer of {} bytes states {size} bytes decompressed, more than zstd can hold in it",
                data.len()
            ));
        }
        stated = stated.saturating_add(size);
        if stated > max_message {
            return Err(format!(
                "its buffers state an impossible size: more than a capture message holds ({max_message})"
            ));
        }
    }
    Ok(())
}

/// The record batches of a stream of [`Frames`]: each message decoded as it is read, the
/// dictionaries kept between them, only the projection's columns decoded.
pub(super) struct Batches<R> {
    frames: Frames<R>,
    /// The stream's schema (all of its columns).
    schema: SchemaRef,
    projection: Option<Vec<usize>>,
    dictionaries: HashMap<i64, ArrayRef>,
}

/// The schema a stream's first message states.
pub(super) fn schema_of(frame: &Frame) -> Result<Schema, ArrowError> {
    let msg = arrow_ipc::root_as_message(&frame.meta)
        .map_err(|e| ArrowError::IpcError(format!("unreadable metadata: {e}")))?;
    let schema = msg.header_as_schema().ok_or_else(|| {
        ArrowError::IpcError(format!(
            "the first message is a {:?}, not a schema",
            msg.header_type()
        ))
    })?;
    // Arrow's conversion panics on some malformed schemas: an error here.
    std::panic::catch_unwind(|| arrow_ipc::convert::fb_to_schema(schema))
        .map_err(|_| ArrowError::IpcError("undecodable schema".to_string()))
}

impl<R: Read> Batches<R> {
    /// The batches of `frames`, after its schema message, of `projection`'s columns (all
    /// of them with `None`).
    pub(super) fn new(frames: Frames<R>, schema: Schema, projection: Option<Vec<usize>>) -> Self {
        Self {
            frames,
            schema: Arc::new(schema),
            projection,
            dictionaries: HashMap::new(),
        }
    }

    /// Where and why the stream ended before the file did, once it has.
    pub(super) fn damage(&self) -> Option<&str> {
        self.frames.damage()
    }

    /// The next record batch; `None` at the end of the stream or at damage (then
    /// [`Batches::damage`] says where and why).
    pub(super) fn next_batch(&mut self) -> Option<Result<RecordBatch, ArrowError>> {
        loop {
            let frame = self.frames.next_frame()?;
            match self.decode(&frame) {
                Ok(Some(batch)) => return Some(Ok(batch)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// A record batch message decoded, or a dictionary message taken in (`None`).
    fn decode(&mut self, frame: &Frame) -> Result<Option<RecordBatch>, ArrowError> {
        let msg = arrow_ipc::root_as_message(&frame.meta)
            .map_err(|e| ArrowError::IpcError(format!("unreadable metadata: {e}")))?;
        let version = msg.version();
        match msg.header_type() {
            MessageHeader::RecordBatch => {
                let batch = msg.header_as_record_batch().ok_or_else(|| {
                    ArrowError::IpcError("unreadable record batch header".to_string())
                })?;
                RecordBatchDecoder::try_new(
                    &frame.body,
                    batch,
                    self.schema.clone(),
                    &self.dictionaries,
                    &version,
                )?
                .with_projection(self.projection.as_deref())
                .with_require_alignment(false)
                .read_record_batch()
                .map(Some)
            }
            MessageHeader::DictionaryBatch => {
                let dictionary = msg.header_as_dictionary_batch().ok_or_else(|| {
                    ArrowError::IpcError("unreadable dictionary batch header".to_string())
                })?;
                read_dictionary(
                    &frame.body,
                    dictionary,
                    &self.schema,
                    &mut self.dictionaries,
                    &version,
                )?;
                Ok(None)
            }
            other => Err(ArrowError::IpcError(format!(
                "a {other:?} message in the stream"
            ))),
        }
    }
}
