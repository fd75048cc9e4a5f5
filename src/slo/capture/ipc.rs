//! A capture file's Arrow IPC stream, its buffers compressed with the writer's own zstd
//! context: the standard format (buffer compression `ZSTD`, each buffer its uncompressed
//! length and a zstd frame, or `-1` and the bytes as they are), which Arrow's
//! `StreamReader` reads as it reads a `StreamWriter`'s.
//!
//! Arrow's writer compresses every buffer with zstd's parameters for the level, which can
//! only be set by level. The capture's buffers are mostly columns of one or two bytes a
//! row holding a few values in a mixed order (keys, `kind`, status codes, the high halves
//! of times): there zstd's fast strategy finds a short match at almost every row, each a
//! sequence to encode, and its matches of five bytes cost it more than they save over
//! longer ones. With a minimum match of seven bytes ([`MIN_MATCH`]) zstd spent 18% fewer
//! instructions on the buffers of a capture of `slotel loadgen` traffic for 2% more
//! bytes. A buffer that does not compress (the low halves of times: four random-looking
//! bytes a row) is written as it is, and the next [`RAW_MESSAGES`] messages write it so
//! without trying (zstd spent 16 instructions a row on each such buffer to find nothing).
//!
//! The messages are those of Arrow's `StreamEncoder` without compression (schema,
//! dictionaries as `StreamWriter` sends them, record batches); each one's buffers are then
//! compressed and its header rebuilt with their new offsets and lengths and the
//! compression named. The encoder hands a record batch's buffers over as the columns'
//! own (shared, not copied: [`Segments`]), so zstd reads each buffer where the message's
//! columns hold it; Arrow's `IpcDataGenerator::encode` copied them all into one body
//! first (about 35 bytes a span).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::writer::{
    DictionaryTracker, EncodedData, IpcDataGenerator, IpcWriteOptions, StreamEncoder, write_message,
};
use arrow_ipc::{
    BodyCompressionBuilder, BodyCompressionMethod, CompressionType, DictionaryBatchBuilder,
    FieldNode, MessageBuilder, MessageHeader, MetadataVersion, RecordBatchBuilder,
};
use arrow_schema::{ArrowError, Schema};
use flatbuffers::FlatBufferBuilder;

/// zstd's shortest match: seven bytes, the longest it takes (see the module's comment).
const MIN_MATCH: u32 = 7;

/// Messages that write a buffer that did not compress as it is, without trying, before
/// it is tried again.
const RAW_MESSAGES: u32 = 15;

/// A buffer is compressed when that saves at least 1/32 of its bytes.
const SAVES: usize = 32;

/// Buffers and message headers are padded to 8 bytes, what the format asks.
const ALIGNMENT: usize = 8;

/// The end of a stream: the continuation marker and a header of no bytes.
const END: [u8; 8] = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];

/// The first four bytes of a message.
const CONTINUATION: [u8; 4] = [0xff; 4];

/// An uncompressed stream as the encoder hands it over: byte strings one after the other,
/// a record batch's buffers each one of them (the column's own).
pub(super) struct Segments {
    segments: std::vec::IntoIter<Buffer>,
    /// The segment being read, from where it is read.
    current: Buffer,
}

impl Segments {
    pub(super) fn new(segments: Vec<Buffer>) -> Self {
        Segments {
            segments: segments.into_iter(),
            current: Buffer::from(Vec::<u8>::new()),
        }
    }

    /// Whether every byte has been read.
    fn is_empty(&mut self) -> bool {
        self.next_segment();
        self.current.is_empty()
    }

    /// Moves to the next segment with bytes, when the current one has none left.
    fn next_segment(&mut self) {
        while self.current.is_empty() {
            match self.segments.next() {
                Some(next) => self.current = next,
                None => return,
            }
        }
    }

    /// The next `n` bytes, copied (a message's prefix and header: a few hundred bytes).
    fn take(&mut self, n: usize) -> Result<Vec<u8>, ArrowError> {
        let mut bytes = Vec::with_capacity(n);
        for (_, part) in self.parts(n)?.parts {
            bytes.extend_from_slice(&part);
        }
        Ok(bytes)
    }

    /// The next `n` bytes as the segments (or their parts) that hold them.
    fn parts(&mut self, n: usize) -> Result<Body, ArrowError> {
        let mut parts = Vec::new();
        let mut at = 0;
        while at < n {
            self.next_segment();
            if self.current.is_empty() {
                return Err(ipc_error("a message past the end of its stream"));
            }
            let len = self.current.len().min(n - at);
            parts.push((at, self.current.slice_with_length(0, len)));
            self.current = self.current.slice(len);
            at += len;
        }
        Ok(Body { parts, len: n })
    }
}

/// A message's body: its parts with their offsets in it.
pub(super) struct Body {
    parts: Vec<(usize, Buffer)>,
    len: usize,
}

impl Body {
    /// Bytes `offset .. offset + length` of the body: in place when one part holds them
    /// (a record batch's buffers), else copied; `None` past its end.
    fn get(&self, offset: usize, length: usize) -> Option<Cow<'_, [u8]>> {
        let end = offset.checked_add(length)?;
        if end > self.len {
            return None;
        }
        if length == 0 {
            return Some(Cow::Borrowed(&[]));
        }
        // The last part that starts at or before `offset`.
        let first = self.parts.partition_point(|(start, _)| *start <= offset) - 1;
        let (start, part) = &self.parts[first];
        if end <= start + part.len() {
            return Some(Cow::Borrowed(&part.as_slice()[offset - start..end - start]));
        }
        let mut bytes = Vec::with_capacity(length);
        for (start, part) in &self.parts[first..] {
            let from = offset.max(*start) - start;
            let to = end.min(start + part.len()).saturating_sub(*start);
            if from >= to {
                break;
            }
            bytes.extend_from_slice(&part.as_slice()[from..to]);
        }
        Some(Cow::Owned(bytes))
    }
}

fn ipc_error(e: impl std::fmt::Display) -> ArrowError {
    ArrowError::IpcError(e.to_string())
}

/// An Arrow IPC stream with zstd-compressed buffers.
pub(super) struct Stream<W: Write> {
    out: W,
    encoder: StreamEncoder,
    options: IpcWriteOptions,
    zstd: zstd::bulk::Compressor<'static>,
    /// A buffer compressed, before it is known to be worth it.
    scratch: Vec<u8>,
    /// Per buffer (its message's dictionary id, or `None` for record batches, and its
    /// place in the message): messages left that write it without trying zstd.
    raw: HashMap<(Option<i64>, usize), u32>,
    finished: bool,
}

impl<W: Write> Stream<W> {
    /// Starts the stream with `schema` (written at once) and zstd at `level`.
    pub(super) fn try_new(mut out: W, schema: &Schema, level: i32) -> Result<Self, ArrowError> {
        let options = IpcWriteOptions::try_new(ALIGNMENT, false, MetadataVersion::V5)?;
        let mut zstd = zstd::bulk::Compressor::new(level).map_err(ipc_error)?;
        zstd.set_parameter(zstd::zstd_safe::CParameter::MinMatch(MIN_MATCH))
            .map_err(ipc_error)?;
        // The schema as the encoder writes it before its first batch (which then leaves
        // it out, [`Stream::write_messages`]): the same bytes, from a fresh tracker.
        let encoded = IpcDataGenerator::default().schema_to_bytes_with_dictionary_tracker(
            schema,
            &mut DictionaryTracker::new(false),
            &options,
        );
        write_message(&mut out, encoded, &options)?;
        let encoder = StreamEncoder::try_new_with_options(schema, options.clone())?;
        Ok(Stream {
            out,
            encoder,
            options,
            zstd,
            scratch: Vec::new(),
            raw: HashMap::new(),
            finished: false,
        })
    }

    /// Writes `batch`, after the dictionaries it sends (all of them the first time, then
    /// those that changed, as Arrow's `StreamWriter` does).
    pub(super) fn write(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        if self.finished {
            return Err(ipc_error("a batch after the end of the stream"));
        }
        let segments = self.encoder.encode(batch)?;
        self.write_messages(Segments::new(segments))
    }

    /// Writes the messages of an uncompressed stream's `segments` compressed, but for the
    /// schema (written by [`Stream::try_new`]).
    fn write_messages(&mut self, mut segments: Segments) -> Result<(), ArrowError> {
        while !segments.is_empty() {
            let prefix = segments.take(8)?;
            let (marker, length) = prefix.split_at(4);
            if marker != CONTINUATION {
                return Err(ipc_error("a message without its continuation marker"));
            }
            let length = i32::from_le_bytes([length[0], length[1], length[2], length[3]]);
            let length =
                usize::try_from(length).map_err(|_| ipc_error("a message of a negative length"))?;
            let header = segments.take(length)?;
            let message = arrow_ipc::root_as_message(&header).map_err(ipc_error)?;
            let body = usize::try_from(message.bodyLength())
                .map_err(|_| ipc_error("a message body of a negative length"))?;
            let body = segments.parts(body)?;
            if message.header_type() == MessageHeader::Schema {
                continue;
            }
            let message = self.compressed(message, &body)?;
            write_message(&mut self.out, message, &self.options)?;
        }
        Ok(())
    }
    /// Ends the stream and flushes it.
    pub(super) fn finish(&mut self) -> Result<(), ArrowError> {
        if self.finished {
            return Err(ipc_error("the stream has ended already"));
        }
        self.out.write_all(&END)?;
        self.out.flush()?;
        self.finished = true;
        Ok(())
    }

    pub(super) fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    pub(super) fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// A message of uncompressed buffers (a record batch or a dictionary batch, its body
    /// `body`) with its buffers compressed.
    fn compressed(
        &mut self,
        message: arrow_ipc::Message<'_>,
        body: &Body,
    ) -> Result<EncodedData, ArrowError> {
        let (batch, dictionary) = match message.header_type() {
            MessageHeader::RecordBatch => (message.header_as_record_batch(), None),
            MessageHeader::DictionaryBatch => {
                let d = message
                    .header_as_dictionary_batch()
                    .ok_or_else(|| ipc_error("a dictionary message without its batch"))?;
                (d.data(), Some((d.id(), d.isDelta())))
            }
            other => return Err(ipc_error(format!("a {other:?} message among batches"))),
        };
        let batch = batch.ok_or_else(|| ipc_error("a message without its record batch"))?;
        let mut out: Vec<u8> = Vec::with_capacity(body.len / 2);
        let mut buffers: Vec<arrow_ipc::Buffer> = Vec::new();
        for (i, buffer) in batch.buffers().iter().flatten().enumerate() {
            let bytes = usize::try_from(buffer.offset())
                .ok()
                .zip(usize::try_from(buffer.length()).ok())
                .and_then(|(o, n)| body.get(o, n))
                .ok_or_else(|| ipc_error("a buffer outside its message's body"))?;
            let start = out.len();
            if !bytes.is_empty() {
                self.compress(dictionary.map(|(id, _)| id), i, &bytes, &mut out)?;
            }
            buffers.push(arrow_ipc::Buffer::new(
                start as i64,
                (out.len() - start) as i64,
            ));
            out.resize(out.len().next_multiple_of(ALIGNMENT), 0);
        }
        let body = out;
        let nodes: Vec<FieldNode> = batch.nodes().iter().flatten().copied().collect();
        let variadic: Option<Vec<i64>> = batch.variadicBufferCounts().map(|v| v.iter().collect());
        let mut fbb = FlatBufferBuilder::new();
        let nodes = fbb.create_vector(&nodes);
        let buffers = fbb.create_vector(&buffers);
        let variadic = variadic.map(|v| fbb.create_vector(&v));
        let compression = {
            let mut c = BodyCompressionBuilder::new(&mut fbb);
            c.add_method(BodyCompressionMethod::BUFFER);
            c.add_codec(CompressionType::ZSTD);
            c.finish()
        };
        let record_batch = {
            let mut b = RecordBatchBuilder::new(&mut fbb);
            b.add_length(batch.length());
            b.add_nodes(nodes);
            b.add_buffers(buffers);
            b.add_compression(compression);
            if let Some(v) = variadic {
                b.add_variadicBufferCounts(v);
            }
            b.finish()
        };
        let (header_type, header) = match dictionary {
            None => (MessageHeader::RecordBatch, record_batch.as_union_value()),
            Some((id, delta)) => {
                let mut d = DictionaryBatchBuilder::new(&mut fbb);
                d.add_id(id);
                d.add_data(record_batch);
                d.add_isDelta(delta);
                (MessageHeader::DictionaryBatch, d.finish().as_union_value())
            }
        };
        let root = {
            let mut m = MessageBuilder::new(&mut fbb);
            m.add_version(message.version());
            m.add_header_type(header_type);
            m.add_bodyLength(body.len() as i64);
            m.add_header(header);
            m.finish()
        };
        fbb.finish(root, None);
        Ok(EncodedData {
            ipc_message: fbb.finished_data().to_vec(),
            arrow_data: body,
        })
    }

    /// Appends buffer `i` of a message (of dictionary `dictionary`, or a record batch) to
    /// `body`: its length and a zstd frame, or `-1` and its bytes when zstd does not save
    /// [`SAVES`]'s share or did not lately.
    fn compress(
        &mut self,
        dictionary: Option<i64>,
        i: usize,
        bytes: &[u8],
        body: &mut Vec<u8>,
    ) -> Result<(), ArrowError> {
        let key = (dictionary, i);
        if let Some(left) = self.raw.get_mut(&key)
            && *left > 0
        {
            *left -= 1;
            body.extend_from_slice(&(-1i64).to_le_bytes());
            body.extend_from_slice(bytes);
            return Ok(());
        }
        self.scratch.clear();
        self.scratch
            .reserve(zstd::zstd_safe::compress_bound(bytes.len()));
        self.zstd
            .compress_to_buffer(bytes, &mut self.scratch)
            .map_err(ipc_error)?;
        if self.scratch.len() + 8 + bytes.len() / SAVES <= bytes.len() {
            self.raw.remove(&key);
            body.extend_from_slice(&(bytes.len() as i64).to_le_bytes());
            body.extend_from_slice(&self.scratch);
        } else {
            self.raw.insert(key, RAW_MESSAGES);
            body.extend_from_slice(&(-1i64).to_le_bytes());
            body.extend_from_slice(bytes);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::types::{Int8Type, Int16Type, Int32Type};
    use arrow_array::{
        Array, ArrayRef, BooleanArray, DictionaryArray, FixedSizeBinaryArray, Float64Array,
        Int8Array, Int16Array, Int32Array, Int64Array, NullArray, RunArray, StringArray,
        StructArray, UInt32Array, UInt64Array,
    };
    use arrow_ipc::reader::StreamReader;
    use arrow_ipc::writer::StreamWriter;
    use arrow_schema::{DataType, Field};

    use super::*;

    /// A few thousand rows of the capture's kinds of columns: narrow keys and integers of
    /// few values, random 32-bit words, strings with nulls, `Null`, a struct of halves and
    /// receipt times as runs; `seed` changes the values (and so the dictionaries).
    fn batch(rows: usize, seed: u64) -> RecordBatch {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let random: Vec<u64> = (0..rows).map(|_| next()).collect();
        let names: Vec<String> = (0..=seed % 5)
            .map(|i| format!("GET /api/{i}/{seed}"))
            .collect();
        let name = DictionaryArray::<Int8Type>::new(
            Int8Array::from_iter_values(random.iter().map(|r| (r % names.len() as u64) as i8)),
            Arc::new(StringArray::from(names.clone())),
        );
        let service = DictionaryArray::<Int32Type>::new(
            Int32Array::from_iter_values((0..rows).map(|r| (r / 512) as i32 % 2)),
            Arc::new(StringArray::from(vec!["cart", "checkout"])),
        );
        let status = Int16Array::from_iter(
            random
                .iter()
                .map(|r| (r % 7 != 0).then_some([200, 404, 500][(r >> 8) as usize % 3])),
        );
        let low = UInt32Array::from_iter_values(random.iter().map(|r| (r >> 32) as u32));
        let high = Int8Array::from_iter_values(random.iter().map(|r| (r >> 20) as i8 % 2));
        let halves = StructArray::from(vec![
            (
                Arc::new(Field::new("high", DataType::Int8, false)),
                Arc::new(high) as ArrayRef,
            ),
            (
                Arc::new(Field::new("low", DataType::UInt32, false)),
                Arc::new(low) as ArrayRef,
            ),
        ]);
        let route = StringArray::from_iter(
            random
                .iter()
                .map(|r| (r % 5 != 0).then(|| format!("/r/{}", r % 9))),
        );
        let runs = rows.div_ceil(512);
        let run_ends = Int32Array::from_iter_values((1..=runs).map(|i| {
            if i == runs {
                rows as i32
            } else {
                (i * 512) as i32
            }
        }));
        let received = RunArray::<Int32Type>::try_new(
            &run_ends,
            &UInt64Array::from_iter_values((0..runs as u64).map(|i| 1_700_000_000_000 + i)),
        )
        .unwrap();
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("name", Arc::new(name)),
            ("service", Arc::new(service)),
            ("status", Arc::new(status)),
            ("end", Arc::new(halves)),
            ("route", Arc::new(route)),
            ("adjusted", Arc::new(Float64Array::from(vec![1.0; rows]))),
            ("tenant", Arc::new(NullArray::new(rows))),
            ("received", Arc::new(received)),
        ];
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, c)| {
                Field::new(
                    *n,
                    c.data_type().clone(),
                    c.null_count() > 0 || *n == "tenant",
                )
            })
            .collect();
        let schema = Schema::new_with_metadata(
            fields,
            HashMap::from([("slotel.signal".to_string(), "spans".to_string())]),
        );
        RecordBatch::try_new(
            Arc::new(schema),
            columns.into_iter().map(|(_, c)| c).collect(),
        )
        .unwrap()
    }

    fn read(bytes: &[u8]) -> (Arc<Schema>, Vec<RecordBatch>) {
        let reader = StreamReader::try_new(bytes, None).unwrap();
        let schema = reader.schema();
        (schema, reader.map(|b| b.unwrap()).collect())
    }

    #[test]
    fn the_stream_reads_back_as_arrows_own_compressed_stream_does() {
        // The same batches (dictionaries changing between them, one without rows, more
        // than `RAW_MESSAGES` so that a raw buffer is tried again) through Arrow's
        // `StreamWriter` with zstd and through `Stream`.
        let batches: Vec<RecordBatch> = (0..20u64)
            .map(|i| batch(if i == 3 { 0 } else { 4096 + i as usize * 37 }, i % 4))
            .collect();
        let schema = batches[0].schema();
        let options = IpcWriteOptions::default()
            .try_with_compression(Some(CompressionType::ZSTD))
            .unwrap();
        let mut arrow = StreamWriter::try_new_with_options(Vec::new(), &schema, options).unwrap();
        let mut ours = Stream::try_new(Vec::new(), &schema, -5).unwrap();
        for b in &batches {
            arrow.write(b).unwrap();
            ours.write(b).unwrap();
        }
        arrow.finish().unwrap();
        ours.finish().unwrap();
        let (arrow_schema, arrow_batches) = read(arrow.get_ref());
        let (our_schema, our_batches) = read(ours.get_mut());
        assert_eq!(our_schema, arrow_schema);
        assert_eq!(our_schema.metadata()["slotel.signal"], "spans");
        assert_eq!(our_batches.len(), batches.len());
        assert_eq!(our_batches, arrow_batches);
        // And both are the batches written (their columns: the schema read back numbers
        // the dictionaries).
        for (ours, written) in our_batches.iter().zip(&batches) {
            assert_eq!(ours.columns(), written.columns());
        }
        assert!(ours.write(&batches[0]).is_err());
        assert!(ours.finish().is_err());
    }

    #[test]
    fn buffers_that_do_not_compress_are_written_as_they_are_and_skipped_for_a_while() {
        let b = batch(8192, 1);
        let mut ours = Stream::try_new(Vec::new(), &b.schema(), -5).unwrap();
        ours.write(&b).unwrap();
        // The low halves (field `end`'s second child): random words, not compressed.
        let low = 4 * b.num_rows();
        let at = ours
            .raw
            .iter()
            .filter(|((dictionary, _), left)| dictionary.is_none() && **left == RAW_MESSAGES)
            .count();
        assert!(at >= 1, "the random column is written raw");
        let before = ours.get_mut().len();
        ours.write(&b).unwrap();
        let after = ours.get_mut().len();
        // The second message is no larger than the first: the raw buffers again raw,
        // the rest compressed as before (the dictionaries are not sent again).
        assert!(after - before < before, "{before} then {}", after - before);
        assert!(after - before >= low, "the random words are all there");
        // The record batch's raw buffers were not tried again (dictionaries are not sent
        // twice).
        assert!(
            ours.raw
                .iter()
                .all(|((dictionary, _), left)| dictionary.is_some() || *left < RAW_MESSAGES),
            "{:?}",
            ours.raw
        );
        ours.finish().unwrap();
        let (_, batches) = read(ours.get_mut());
        assert_eq!(batches.len(), 2);
        for read in &batches {
            assert_eq!(read.columns(), b.columns());
        }
    }

    /// A batch of every column type a capture file writes (the facts' own types, the
    /// forms of `layout.rs`), with nulls where the type may hold them; `seed` changes the
    /// values and the dictionaries.
    fn every_type(rows: usize, seed: u64) -> RecordBatch {
        let r = |i: usize| (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed;
        let words: Vec<String> = (0..4).map(|i| format!("v{i}-{seed}")).collect();
        let dict16 = DictionaryArray::<Int16Type>::new(
            Int16Array::from_iter((0..rows).map(|i| (i % 9 != 0).then_some((r(i) % 4) as i16))),
            Arc::new(StringArray::from(words.clone())),
        );
        let dict32 = DictionaryArray::<Int32Type>::new(
            Int32Array::from_iter_values((0..rows).map(|i| (i / 300 % 2) as i32)),
            Arc::new(StringArray::from(vec![Some("a"), None])),
        );
        let trace = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
            (0..rows).map(|i| (i % 5 != 0).then(|| r(i).to_le_bytes().repeat(2))),
            16,
        )
        .unwrap();
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "bool",
                Arc::new(BooleanArray::from_iter(
                    (0..rows).map(|i| (i % 7 != 0).then_some(r(i) % 3 == 0)),
                )),
            ),
            (
                "i64",
                Arc::new(Int64Array::from_iter(
                    (0..rows).map(|i| (i % 4 != 0).then_some(r(i) as i64)),
                )),
            ),
            (
                "i32",
                Arc::new(Int32Array::from_iter_values(
                    (0..rows).map(|i| (r(i) % 3) as i32),
                )),
            ),
            (
                "u64",
                Arc::new(UInt64Array::from_iter_values((0..rows).map(r))),
            ),
            (
                "f64",
                Arc::new(Float64Array::from_iter(
                    (0..rows).map(|i| (i % 6 != 0).then_some(i as f64 / 8.0)),
                )),
            ),
            (
                "utf8",
                Arc::new(StringArray::from_iter(
                    (0..rows).map(|i| (i % 3 != 0).then(|| words[r(i) as usize % 4].clone())),
                )),
            ),
            ("dict16", Arc::new(dict16)),
            ("dict32", Arc::new(dict32)),
            ("trace", Arc::new(trace)),
            ("null", Arc::new(NullArray::new(rows))),
        ];
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
            .collect();
        let schema = Schema::new(fields);
        RecordBatch::try_new(
            Arc::new(schema),
            columns.into_iter().map(|(_, c)| c).collect(),
        )
        .unwrap()
    }

    #[test]
    fn every_column_type_reads_back_as_written() {
        for batches in [
            (0..4u64)
                .map(|i| batch(3000 + i as usize, i % 2))
                .collect::<Vec<_>>(),
            (0..4u64)
                .map(|i| every_type(5000 - i as usize * 999, i % 3))
                .collect(),
        ] {
            let mut ours = Stream::try_new(Vec::new(), &batches[0].schema(), -5).unwrap();
            for b in &batches {
                ours.write(b).unwrap();
            }
            ours.finish().unwrap();
            let (schema, read) = read(ours.get_mut());
            assert_eq!(schema.fields(), batches[0].schema().fields());
            assert_eq!(read.len(), batches.len());
            for (read, written) in read.iter().zip(&batches) {
                assert_eq!(read.columns(), written.columns());
            }
        }
    }

    /// The stream bytes `Stream` writes for `batches` when each message comes to it as
    /// Arrow's `IpcDataGenerator::encode` makes it (the whole body copied into one
    /// buffer), its stream cut into pieces of at most `cut` bytes (`None`: not cut).
    fn through_generator(batches: &[RecordBatch], cut: Option<usize>) -> Vec<u8> {
        let mut ours = Stream::try_new(Vec::new(), &batches[0].schema(), -5).unwrap();
        let generator = IpcDataGenerator::default();
        let mut tracker = DictionaryTracker::new(false);
        let options = ours.options.clone();
        let mut plain = Vec::new();
        let schema = generator.schema_to_bytes_with_dictionary_tracker(
            &batches[0].schema(),
            &mut tracker,
            &options,
        );
        write_message(&mut plain, schema, &options).unwrap();
        let mut context = arrow_ipc::writer::IpcWriteContext::default();
        for b in batches {
            let (dictionaries, message) = generator
                .encode(b, &mut tracker, &options, &mut context)
                .unwrap();
            for d in dictionaries {
                write_message(&mut plain, d, &options).unwrap();
            }
            write_message(&mut plain, message, &options).unwrap();
            let segments: Vec<Buffer> = match cut {
                None => vec![Buffer::from(std::mem::take(&mut plain))],
                Some(n) => std::mem::take(&mut plain)
                    .chunks(n)
                    .map(Buffer::from)
                    .collect(),
            };
            ours.write_messages(Segments::new(segments)).unwrap();
        }
        ours.finish().unwrap();
        std::mem::take(ours.get_mut())
    }

    #[test]
    fn the_columns_own_buffers_give_the_bytes_of_a_copied_body() {
        // The same batches through the encoder (each buffer the column's own) and as
        // Arrow's generator copies them into one body, whole and cut into pieces that
        // split prefixes, headers and buffers: byte for byte the same stream.
        for batches in [
            (0..20u64)
                .map(|i| batch(if i == 3 { 0 } else { 4096 + i as usize * 37 }, i % 4))
                .collect::<Vec<_>>(),
            (0..5u64)
                .map(|i| every_type(2000 + i as usize, i % 3))
                .collect(),
        ] {
            let mut ours = Stream::try_new(Vec::new(), &batches[0].schema(), -5).unwrap();
            for b in &batches {
                ours.write(b).unwrap();
            }
            ours.finish().unwrap();
            let ours = std::mem::take(ours.get_mut());
            assert_eq!(ours, through_generator(&batches, None));
            for cut in [1, 7, 64, 1000] {
                assert_eq!(ours, through_generator(&batches, Some(cut)), "cut {cut}");
            }
        }
    }

    #[test]
    fn a_stream_cut_short_is_an_error_not_a_panic() {
        let b = batch(1000, 1);
        let mut ours = Stream::try_new(Vec::new(), &b.schema(), -5).unwrap();
        let mut plain = Vec::new();
        let options = ours.options.clone();
        let generator = IpcDataGenerator::default();
        let mut tracker = DictionaryTracker::new(false);
        let mut context = arrow_ipc::writer::IpcWriteContext::default();
        generator.schema_to_bytes_with_dictionary_tracker(&b.schema(), &mut tracker, &options);
        let (_, message) = generator
            .encode(&b, &mut tracker, &options, &mut context)
            .unwrap();
        write_message(&mut plain, message, &options).unwrap();
        for keep in [3, 8, 20, plain.len() - 1] {
            let segments = vec![Buffer::from(&plain[..keep])];
            assert!(
                ours.write_messages(Segments::new(segments)).is_err(),
                "{keep}"
            );
        }
        let mut bad = plain.clone();
        bad[0] = 0;
        assert!(
            ours.write_messages(Segments::new(vec![Buffer::from(bad)]))
                .is_err()
        );
    }
}
