//! WAL records: the frame around a body, the body's encoding of SLO deltas, and a segment
//! reader that skips damage.
//!
//! # Frame
//!
//! `magic "SLW2" | lsn u64 | body length u32 | CRC-32 of the previous 16 bytes | body |
//! CRC-32 of the body`, little-endian. The LSN is the frame's position in the log (bytes
//! since the log began), so a frame read at the wrong place is recognised as damage.
//! The magic's last byte is the frame's version: `SLW2` frames know SLOs by their
//! structural fingerprint, `SLW1` frames (still read, no longer written) by the former
//! one (see `snapshot::legacy`).
//!
//! # Body
//!
//! A sequence of sections, each a tag byte then its fields (varints are LEB128; times are
//! zigzag deltas from the previous time of the section, starting at 0):
//!
//! - `1` spans of one SLO: SLO id (u64), late, future, the section's group keys (cluster,
//!   then the `group_by` values), then events `(key index << 1 | good, Δt, latency ns)` in
//!   the order they were recorded.
//! - `2` metric counts of one SLO: SLO id, late, future, keys, then records
//!   `(key index, Δt, good (zigzag), total, lifetime good, lifetime total)`, then carries
//!   `(key index, value)` (0: no carry).
//! - `3` cumulative metric series as they are after the request (name, threshold, base,
//!   start, time, count, good).
//! - `4` spans of one SLO counted with their adjusted counts (probability sampling): as
//!   `1`, with each event's whole count of events after its latency
//!   `(key index << 1 | good, Δt, latency ns, count)`.
//!
//! Decoding checks every count against the bytes left, so a body allocates at most a small
//! multiple of its own size.

use std::collections::HashMap;
use std::io::Read;

use prost::encoding::{decode_varint, encode_varint};

use crate::slo::engine::Dropped;
use crate::slo::engine::metrics::SeriesRecord;
use crate::slo::engine::state::GroupKey;
use crate::slo::engine::window::Counts;

/// The magic of the frames written.
pub const MAGIC: [u8; 4] = *b"SLW2";
/// Every magic starts so; its last byte is the frame's version.
const MAGIC_PREFIX: [u8; 3] = *b"SLW";
/// The frame versions read: `1` (SLO ids of the former fingerprint) and `2`.
pub const VERSIONS: [u8; 2] = [b'1', b'2'];
/// Magic, LSN, length, header CRC.
pub const HEADER: usize = 20;
/// Body CRC.
pub const TRAILER: usize = 4;
/// A frame announcing a longer body is damage.
pub const MAX_BODY: usize = 64 << 20;
/// A body is closed once its sections hold this many bytes (a request yields several).
const TARGET_BODY: usize = 1 << 20;

const TAG_SPANS: u8 = 1;
const TAG_METRICS: u8 = 2;
const TAG_SERIES: u8 = 3;
const TAG_WEIGHTED_SPANS: u8 = 4;

/// Appends the frame of `body` at log position `lsn` to `out`.
pub fn frame(lsn: u64, body: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&lsn.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    let hcrc = crc32fast::hash(&out[start..start + 16]);
    out.extend_from_slice(&hcrc.to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
}

/// Bytes of the frame of a body of `len` bytes.
pub fn framed_len(len: usize) -> usize {
    HEADER + len + TRAILER
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_str(s: &str, out: &mut Vec<u8>) {
    encode_varint(s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

/// The section being written.
#[derive(Default)]
struct Open {
    tag: u8,
    slo: u64,
    dropped: Dropped,
    keys: Vec<u8>,
    key_ids: HashMap<GroupKey, u32>,
    last_key: Option<(GroupKey, u32)>,
    items: Vec<u8>,
    n_items: u64,
    carries: Vec<u8>,
    n_carries: u64,
    prev_t: u64,
}

impl Open {
    fn new(tag: u8, slo: u64) -> Self {
        Self {
            tag,
            slo,
            ..Self::default()
        }
    }

    fn key(&mut self, key: &GroupKey) -> u32 {
        if let Some((k, i)) = &self.last_key
            && k == key
        {
            return *i;
        }
        let next = self.key_ids.len() as u32;
        let id = *self.key_ids.entry(key.clone()).or_insert_with(|| {
            put_str(&key.cluster, &mut self.keys);
            encode_varint(key.extra.len() as u64, &mut self.keys);
            for e in &key.extra {
                put_str(e, &mut self.keys);
            }
            next
        });
        self.last_key = Some((key.clone(), id));
        id
    }

    fn delta_t(&mut self, t: u64) -> u64 {
        let d = zigzag(t.wrapping_sub(self.prev_t) as i64);
        self.prev_t = t;
        d
    }

    fn len(&self) -> usize {
        self.keys.len() + self.items.len() + self.carries.len()
    }

    fn is_empty(&self) -> bool {
        self.n_items == 0 && self.n_carries == 0 && self.dropped == Dropped::default()
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.push(self.tag);
        out.extend_from_slice(&self.slo.to_le_bytes());
        encode_varint(self.dropped.late, out);
        encode_varint(self.dropped.future, out);
        encode_varint(self.key_ids.len() as u64, out);
        out.extend_from_slice(&self.keys);
        encode_varint(self.n_items, out);
        out.extend_from_slice(&self.items);
        if self.tag == TAG_METRICS {
            encode_varint(self.n_carries, out);
            out.extend_from_slice(&self.carries);
        }
    }
}

/// Builds the bodies of one request's deltas, in the order the engine applies them.
#[derive(Default)]
pub struct Encoder {
    bodies: Vec<Vec<u8>>,
    body: Vec<u8>,
    section: Option<Open>,
}

impl Encoder {
    /// Starts the spans of SLO `slo`.
    pub fn begin_spans(&mut self, slo: u64) {
        self.close_section();
        self.section = Some(Open::new(TAG_SPANS, slo));
    }

    /// Starts the spans of SLO `slo` counted with their adjusted counts ([`Encoder::span_n`]).
    pub fn begin_weighted_spans(&mut self, slo: u64) {
        self.close_section();
        self.section = Some(Open::new(TAG_WEIGHTED_SPANS, slo));
    }

    /// [`Encoder::begin_weighted_spans`] when `weighted`, else [`Encoder::begin_spans`].
    pub fn begin_spans_of(&mut self, slo: u64, weighted: bool) {
        if weighted {
            self.begin_weighted_spans(slo);
        } else {
            self.begin_spans(slo);
        }
    }

    /// Starts the metric counts of SLO `slo`.
    pub fn begin_metrics(&mut self, slo: u64) {
        self.close_section();
        self.section = Some(Open::new(TAG_METRICS, slo));
    }

    /// One span event of the open spans section.
    pub fn span(&mut self, key: &GroupKey, t: u64, good: bool, latency: u64) {
        self.span_n(key, t, good, latency, 1);
    }

    /// One span event that counted `n` events (`n` is written in a weighted section
    /// only; a plain spans section counts each event once).
    pub fn span_n(&mut self, key: &GroupKey, t: u64, good: bool, latency: u64, n: u64) {
        let Some(s) = self.section.as_mut() else {
            return;
        };
        let k = s.key(key);
        let d = s.delta_t(t);
        encode_varint((u64::from(k) << 1) | u64::from(good), &mut s.items);
        encode_varint(d, &mut s.items);
        encode_varint(latency, &mut s.items);
        if s.tag == TAG_WEIGHTED_SPANS {
            encode_varint(n, &mut s.items);
        }
        s.n_items += 1;
        self.maybe_split();
    }

    /// One count record of the open metrics section.
    pub fn counts(&mut self, key: &GroupKey, t: u64, good: i64, total: u64, lifetime: Counts) {
        let Some(s) = self.section.as_mut() else {
            return;
        };
        let k = s.key(key);
        let d = s.delta_t(t);
        encode_varint(u64::from(k), &mut s.items);
        encode_varint(d, &mut s.items);
        encode_varint(zigzag(good), &mut s.items);
        encode_varint(total, &mut s.items);
        encode_varint(lifetime.good, &mut s.items);
        encode_varint(lifetime.total, &mut s.items);
        s.n_items += 1;
        self.maybe_split();
    }

    /// A group's carry after the request (0: none) in the open metrics section.
    pub fn carry(&mut self, key: &GroupKey, value: u64) {
        let Some(s) = self.section.as_mut() else {
            return;
        };
        let k = s.key(key);
        encode_varint(u64::from(k), &mut s.carries);
        encode_varint(value, &mut s.carries);
        s.n_carries += 1;
        self.maybe_split();
    }

    /// Events the open section's SLO dropped.
    pub fn dropped(&mut self, d: Dropped) {
        if let Some(s) = self.section.as_mut() {
            s.dropped.late = s.dropped.late.saturating_add(d.late);
            s.dropped.future = s.dropped.future.saturating_add(d.future);
        }
    }

    /// Cumulative series as they are after the request.
    pub fn series(&mut self, series: &[SeriesRecord]) {
        self.close_section();
        let mut chunk_start = 0;
        while chunk_start < series.len() {
            let mut out = Vec::new();
            let mut n = 0u64;
            for r in &series[chunk_start..] {
                put_str(&r.name, &mut out);
                match r.threshold {
                    Some(t) => {
                        out.push(1);
                        out.extend_from_slice(&t.to_le_bytes());
                    }
                    None => out.push(0),
                }
                out.extend_from_slice(&r.base.to_le_bytes());
                for v in [r.start, r.time, r.count, r.good] {
                    encode_varint(v, &mut out);
                }
                n += 1;
                if out.len() >= TARGET_BODY {
                    break;
                }
            }
            chunk_start += n as usize;
            self.body.push(TAG_SERIES);
            encode_varint(n, &mut self.body);
            self.body.extend_from_slice(&out);
            self.close_body();
        }
    }

    /// A section past the target size is closed, and its SLO continues in the next body.
    fn maybe_split(&mut self) {
        let Some(s) = &self.section else { return };
        if self.body.len() + s.len() < TARGET_BODY {
            return;
        }
        let (tag, slo) = (s.tag, s.slo);
        self.close_section();
        self.close_body();
        self.section = Some(Open::new(tag, slo));
    }

    fn close_section(&mut self) {
        if let Some(s) = self.section.take()
            && !s.is_empty()
        {
            s.write(&mut self.body);
        }
    }

    fn close_body(&mut self) {
        if !self.body.is_empty() {
            self.bodies.push(std::mem::take(&mut self.body));
        }
    }

    /// The finished bodies (none when nothing was recorded).
    pub fn finish(mut self) -> Vec<Vec<u8>> {
        self.close_section();
        self.close_body();
        self.bodies
    }
}

/// Why a body does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("wal record body does not decode: {0}")]
pub struct BadBody(pub &'static str);

/// Reads a body's fields.
pub struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn u8(&mut self) -> Result<u8, BadBody> {
        let (&b, rest) = self.buf.split_first().ok_or(BadBody("truncated"))?;
        self.buf = rest;
        Ok(b)
    }

    fn u64le(&mut self) -> Result<u64, BadBody> {
        let (head, rest) = self
            .buf
            .split_first_chunk::<8>()
            .ok_or(BadBody("truncated"))?;
        self.buf = rest;
        Ok(u64::from_le_bytes(*head))
    }

    fn varint(&mut self) -> Result<u64, BadBody> {
        decode_varint(&mut self.buf).map_err(|_| BadBody("bad varint"))
    }

    /// A count of items of at least `min_bytes` each: never more than the bytes left allow.
    fn count(&mut self, min_bytes: usize) -> Result<usize, BadBody> {
        let n = self.varint()?;
        if n > (self.buf.len() / min_bytes.max(1)) as u64 {
            return Err(BadBody("count beyond the body"));
        }
        Ok(n as usize)
    }

    fn str(&mut self) -> Result<String, BadBody> {
        let n = self.varint()?;
        if n > self.buf.len() as u64 {
            return Err(BadBody("string beyond the body"));
        }
        let (s, rest) = self.buf.split_at(n as usize);
        self.buf = rest;
        String::from_utf8(s.to_vec()).map_err(|_| BadBody("string not utf-8"))
    }

    /// The next section.
    pub fn section(&mut self) -> Result<Section<'a>, BadBody> {
        let tag = self.u8()?;
        match tag {
            TAG_SPANS | TAG_METRICS | TAG_WEIGHTED_SPANS => {
                let slo = self.u64le()?;
                let dropped = Dropped {
                    late: self.varint()?,
                    future: self.varint()?,
                };
                let n_keys = self.count(2)?;
                let mut keys = Vec::with_capacity(n_keys);
                for _ in 0..n_keys {
                    let cluster = self.str()?;
                    let n = self.count(1)?;
                    let mut extra = Vec::with_capacity(n);
                    for _ in 0..n {
                        extra.push(self.str()?);
                    }
                    keys.push(GroupKey { cluster, extra });
                }
                let fields = match tag {
                    TAG_SPANS => 3,
                    TAG_WEIGHTED_SPANS => 4,
                    _ => 6,
                };
                let (items, n_items) = self.skip_items(fields, tag != TAG_METRICS, n_keys)?;
                let (carries, n_carries) = if tag == TAG_METRICS {
                    self.skip_items(2, false, n_keys)?
                } else {
                    (&[][..], 0)
                };
                let s = SloSection {
                    slo,
                    dropped,
                    keys,
                    items,
                    n_items,
                    carries,
                    n_carries,
                    weighted: tag == TAG_WEIGHTED_SPANS,
                };
                Ok(if tag == TAG_METRICS {
                    Section::Metrics(s)
                } else {
                    Section::Spans(s)
                })
            }
            TAG_SERIES => {
                let n = self.count(13)?;
                let mut out = Vec::with_capacity(n);
                for _ in 0..n {
                    let name = self.str()?;
                    let threshold = match self.u8()? {
                        0 => None,
                        1 => Some(self.u64le()?),
                        _ => return Err(BadBody("bad threshold flag")),
                    };
                    let base = self.u64le()?;
                    out.push(SeriesRecord {
                        name,
                        threshold,
                        base,
                        start: self.varint()?,
                        time: self.varint()?,
                        count: self.varint()?,
                        good: self.varint()?,
                    });
                }
                Ok(Section::Series(out))
            }
            _ => Err(BadBody("unknown section")),
        }
    }

    /// Checks `n` items of `fields` varints each (the first of each tagged with a key
    /// index below `n_keys`) and returns their bytes and count.
    /// Items of spans sections tag their key index with the good bit (`shifted`).
    fn skip_items(
        &mut self,
        fields: usize,
        shifted: bool,
        n_keys: usize,
    ) -> Result<(&'a [u8], usize), BadBody> {
        let n = self.count(fields)?;
        let all = self.buf;
        for _ in 0..n {
            let first = self.varint()?;
            let key = if shifted { first >> 1 } else { first };
            if key >= n_keys as u64 {
                return Err(BadBody("key index out of range"));
            }
            for _ in 1..fields {
                self.varint()?;
            }
        }
        let used = all.len() - self.buf.len();
        Ok((&all[..used], n))
    }
}

/// A decoded section.
pub enum Section<'a> {
    Spans(SloSection<'a>),
    Metrics(SloSection<'a>),
    Series(Vec<SeriesRecord>),
}

/// The head of an SLO's section and its items, still encoded (checked when decoded).
pub struct SloSection<'a> {
    pub slo: u64,
    pub dropped: Dropped,
    pub keys: Vec<GroupKey>,
    items: &'a [u8],
    n_items: usize,
    carries: &'a [u8],
    n_carries: usize,
    /// Spans whose events carry their count (tag 4).
    weighted: bool,
}

/// One span event: group key index, end time, good, latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanEvent {
    pub key: usize,
    pub t: u64,
    pub good: bool,
    pub latency: u64,
    /// Events the span counted (1 outside weighted sections).
    pub n: u64,
}

/// One metric count record (see `GroupState::record_counts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountEvent {
    pub key: usize,
    pub t: u64,
    pub good: i64,
    pub total: u64,
    pub lifetime: Counts,
}

impl<'a> SloSection<'a> {
    /// The span events, in recording order.
    pub fn spans(&self) -> impl Iterator<Item = SpanEvent> + 'a {
        let mut c = Cursor::new(self.items);
        let mut prev = 0u64;
        let weighted = self.weighted;
        (0..self.n_items).map_while(move |_| {
            let first = c.varint().ok()?;
            let d = unzigzag(c.varint().ok()?);
            let latency = c.varint().ok()?;
            let n = if weighted { c.varint().ok()? } else { 1 };
            prev = prev.wrapping_add(d as u64);
            Some(SpanEvent {
                key: (first >> 1) as usize,
                t: prev,
                good: first & 1 == 1,
                latency,
                n,
            })
        })
    }

    /// The metric count records, in recording order.
    pub fn counts(&self) -> impl Iterator<Item = CountEvent> + 'a {
        let mut c = Cursor::new(self.items);
        let mut prev = 0u64;
        (0..self.n_items).map_while(move |_| {
            let key = c.varint().ok()? as usize;
            let d = unzigzag(c.varint().ok()?);
            prev = prev.wrapping_add(d as u64);
            Some(CountEvent {
                key,
                t: prev,
                good: unzigzag(c.varint().ok()?),
                total: c.varint().ok()?,
                lifetime: Counts {
                    good: c.varint().ok()?,
                    total: c.varint().ok()?,
                },
            })
        })
    }

    /// The carries after the request: (key index, value; 0 for none).
    pub fn carries(&self) -> impl Iterator<Item = (usize, u64)> + 'a {
        let mut c = Cursor::new(self.carries);
        (0..self.n_carries).map_while(move |_| Some((c.varint().ok()? as usize, c.varint().ok()?)))
    }
}

/// Decodes a whole body, checking every section; `Err` and nothing used when any part is
/// bad.
pub fn decode(body: &[u8]) -> Result<Vec<Section<'_>>, BadBody> {
    let mut c = Cursor::new(body);
    let mut out = Vec::new();
    while !c.is_empty() {
        out.push(c.section()?);
    }
    Ok(out)
}

/// What reading a segment came across besides good frames.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Frames with a bad header or body (a region of damaged bytes counts once).
    pub damaged: u64,
    /// An incomplete frame at the end (a write cut short).
    pub torn: u64,
    /// Bytes skipped as damage or torn.
    pub skipped_bytes: u64,
}

/// Reads the frames of one segment file in order, in bounded memory: a read buffer of a
/// little more than the largest frame at most.
pub struct SegmentReader<R> {
    src: R,
    /// LSN of the segment's first byte.
    start: u64,
    buf: Vec<u8>,
    /// Cursor in `buf`; `buf[0]` is at file offset `off`.
    pos: usize,
    off: u64,
    eof: bool,
    in_damage: bool,
    pub stats: ReadStats,
}

const READ_CHUNK: usize = 256 * 1024;

impl<R: Read> SegmentReader<R> {
    pub fn new(src: R, start: u64) -> Self {
        Self {
            src,
            start,
            buf: Vec::new(),
            pos: 0,
            off: 0,
            eof: false,
            in_damage: false,
            stats: ReadStats::default(),
        }
    }

    /// LSN just past what was read so far.
    pub fn position(&self) -> u64 {
        self.start + self.off + self.pos as u64
    }

    /// Makes `need` bytes available at the cursor, unless the file ends first.
    fn fill(&mut self, need: usize) -> std::io::Result<bool> {
        if self.buf.len() - self.pos >= need {
            return Ok(true);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.off += self.pos as u64;
            self.pos = 0;
        }
        while self.buf.len() < need && !self.eof {
            let want = (need - self.buf.len()).max(READ_CHUNK);
            let old = self.buf.len();
            self.buf.resize(old + want, 0);
            let n = loop {
                match self.src.read(&mut self.buf[old..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.buf.truncate(old);
                        return Err(e);
                    }
                }
            };
            self.buf.truncate(old + n);
            if n == 0 {
                self.eof = true;
            }
        }
        Ok(self.buf.len() >= need)
    }

    fn skip(&mut self, n: usize) {
        self.pos += n;
        self.stats.skipped_bytes += n as u64;
    }

    /// Damage at the cursor: counted once per damaged region, then the next magic is
    /// searched from the following byte.
    fn damage(&mut self) -> std::io::Result<()> {
        if !self.in_damage {
            self.stats.damaged += 1;
            self.in_damage = true;
        }
        self.skip(1);
        loop {
            let hay = &self.buf[self.pos..];
            if let Some(i) = hay
                .windows(MAGIC.len())
                .position(|w| w[..3] == MAGIC_PREFIX && VERSIONS.contains(&w[3]))
            {
                self.skip(i);
                return Ok(());
            }
            // Keep a possible start of the magic, skip the rest.
            let keep = hay.len().min(MAGIC.len() - 1);
            self.skip(hay.len() - keep);
            if self.eof {
                return Ok(());
            }
            self.fill(keep + READ_CHUNK)?;
        }
    }

    /// The next good frame: its LSN, version (`1` or `2`) and body. `None` at the end of
    /// the segment.
    pub fn next_frame(&mut self) -> std::io::Result<Option<(u64, u8, &[u8])>> {
        loop {
            if !self.fill(HEADER)? {
                let left = self.buf.len() - self.pos;
                if left > 0 {
                    if !self.in_damage {
                        self.stats.torn += 1;
                    }
                    self.skip(left);
                }
                return Ok(None);
            }
            let h = &self.buf[self.pos..self.pos + HEADER];
            let lsn = u64::from_le_bytes(h[4..12].try_into().unwrap_or_default());
            let len = u32::from_le_bytes(h[12..16].try_into().unwrap_or_default()) as usize;
            let hcrc = u32::from_le_bytes(h[16..20].try_into().unwrap_or_default());
            let version = h[3].wrapping_sub(b'0');
            let header_ok = h[..3] == MAGIC_PREFIX
                && VERSIONS.contains(&h[3])
                && crc32fast::hash(&h[..16]) == hcrc
                && lsn == self.position()
                && len <= MAX_BODY;
            if !header_ok {
                self.damage()?;
                continue;
            }
            let total = framed_len(len);
            if !self.fill(total)? {
                self.stats.torn += 1;
                let left = self.buf.len() - self.pos;
                self.skip(left);
                return Ok(None);
            }
            let body_at = self.pos + HEADER;
            let body = &self.buf[body_at..body_at + len];
            let crc = u32::from_le_bytes(
                self.buf[body_at + len..body_at + len + TRAILER]
                    .try_into()
                    .unwrap_or_default(),
            );
            if crc32fast::hash(body) != crc {
                // The header is sound, so the frame's length is: skip just this frame.
                self.stats.damaged += 1;
                self.skip(total);
                continue;
            }
            self.in_damage = false;
            self.pos += total;
            let start = self.pos - total + HEADER;
            return Ok(Some((lsn, version, &self.buf[start..start + len])));
        }
    }
}
