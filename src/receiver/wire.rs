//! Reading an encoded OTLP request on the protobuf wire, before it is decoded: how many
//! items it holds and an upper bound on the memory its decoding takes.
//!
//! Nothing is built and nothing is allocated: the walk follows the message layout of the
//! OTLP protos (field numbers from opentelemetry-proto), skips strings by their length and
//! counts every message that decoding would allocate room for. A request of 16 MiB of empty
//! spans decodes into gigabytes; the walk sees it for a few milliseconds of CPU, so the
//! receiver refuses it (or waits for budget) before any of that memory exists.
//!
//! The bound follows how prost decodes: a string or bytes field allocates its length; a
//! repeated field is a `Vec` that grows by doubling from a capacity of four, so it holds at
//! most twice its length, and while one grows its old buffer is held too; a singular
//! message lives inline in its parent. Unknown fields are skipped by prost and
//! cost nothing. `tests/decode_cost.rs` checks the bound against the allocator for
//! adversarial and realistic requests.

use std::mem::size_of;

use opentelemetry_proto::tonic::common::v1::{AnyValue, EntityRef, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, SummaryDataPoint, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};

use crate::signal::Signal;

/// The deepest message nesting read, as prost's own recursion limit.
const MAX_DEPTH: u32 = 100;

/// What the walk found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireCost {
    /// Spans, data points or log records.
    pub items: u64,
    /// Resource entries (`resource_spans`, `resource_metrics`, `resource_logs`).
    pub resources: u64,
    /// Upper bound, in bytes, of what decoding allocates (the body itself not included).
    pub decoded_bytes: u64,
    /// The largest single `Vec`, whose old buffer is held while it grows.
    largest_vec: u64,
}

/// Why a body is not a well-formed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("truncated or malformed protobuf")]
    Malformed,
    #[error("protobuf messages nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// How a field decodes.
#[derive(Clone, Copy)]
enum Kind {
    /// A nested message.
    Msg(&'static Schema),
    /// `string` or `bytes`: allocates its length.
    Bytes,
    /// A repeated scalar: `elem` bytes in memory per element; on the wire an element takes
    /// at least `min_wire` bytes (packed), or comes as its own field (unpacked).
    Scalars { elem: u64, min_wire: u64 },
}

#[derive(Clone, Copy)]
struct Field {
    num: u64,
    kind: Kind,
    repeated: bool,
}

/// The layout of one message type.
struct Schema {
    /// Size of the decoded Rust type.
    size: u64,
    /// Counted as an item (span, data point, log record).
    item: bool,
    /// Counted as a resource entry.
    resource: bool,
    fields: &'static [Field],
    /// Field number → position in `fields` plus one (0: not listed).
    slots: [u8; SLOTS],
}

/// Field numbers below this are looked up in a table (every OTLP field is).
const SLOTS: usize = 17;

const fn slots(fields: &[Field]) -> [u8; SLOTS] {
    let mut table = [0u8; SLOTS];
    let mut i = 0;
    while i < fields.len() {
        let num = fields[i].num as usize;
        if num < SLOTS {
            table[num] = (i + 1) as u8;
        }
        i += 1;
    }
    table
}

const fn msg(num: u64, schema: &'static Schema) -> Field {
    Field {
        num,
        kind: Kind::Msg(schema),
        repeated: false,
    }
}

const fn msgs(num: u64, schema: &'static Schema) -> Field {
    Field {
        num,
        kind: Kind::Msg(schema),
        repeated: true,
    }
}

const fn bytes(num: u64) -> Field {
    Field {
        num,
        kind: Kind::Bytes,
        repeated: false,
    }
}

const fn strings(num: u64) -> Field {
    Field {
        num,
        kind: Kind::Bytes,
        repeated: true,
    }
}

const fn scalars(num: u64, elem: u64, min_wire: u64) -> Field {
    Field {
        num,
        kind: Kind::Scalars { elem, min_wire },
        repeated: true,
    }
}

const fn schema(size: usize, fields: &'static [Field]) -> Schema {
    Schema {
        size: size as u64,
        item: false,
        resource: false,
        fields,
        slots: slots(fields),
    }
}

const fn item(size: usize, fields: &'static [Field]) -> Schema {
    Schema {
        size: size as u64,
        item: true,
        resource: false,
        fields,
        slots: slots(fields),
    }
}

const fn resource(size: usize, fields: &'static [Field]) -> Schema {
    Schema {
        size: size as u64,
        item: false,
        resource: true,
        fields,
        slots: slots(fields),
    }
}

// common.v1. AnyValue lives inline in KeyValue and in the oneof of its parent; ArrayValue
// and KeyValueList are a Vec each, inline in AnyValue.
static ANY_VALUE: Schema = schema(
    size_of::<AnyValue>(),
    &[
        bytes(1),
        msg(5, &ARRAY_VALUE),
        msg(6, &KEY_VALUE_LIST),
        bytes(7),
    ],
);
static ARRAY_VALUE: Schema = schema(0, &[msgs(1, &ANY_VALUE)]);
static KEY_VALUE_LIST: Schema = schema(0, &[msgs(1, &KEY_VALUE)]);
static KEY_VALUE: Schema = schema(size_of::<KeyValue>(), &[bytes(1), msg(2, &ANY_VALUE)]);
static SCOPE: Schema = schema(0, &[bytes(1), bytes(2), msgs(3, &KEY_VALUE)]);
static ENTITY_REF: Schema = schema(
    size_of::<EntityRef>(),
    &[bytes(1), bytes(2), strings(3), strings(4)],
);
static RESOURCE: Schema = schema(0, &[msgs(1, &KEY_VALUE), msgs(3, &ENTITY_REF)]);

// trace.v1
static TRACES: Schema = schema(0, &[msgs(1, &RESOURCE_SPANS)]);
static RESOURCE_SPANS: Schema = resource(
    size_of::<ResourceSpans>(),
    &[msg(1, &RESOURCE), msgs(2, &SCOPE_SPANS), bytes(3)],
);
static SCOPE_SPANS: Schema = schema(
    size_of::<ScopeSpans>(),
    &[msg(1, &SCOPE), msgs(2, &SPAN), bytes(3)],
);
static SPAN: Schema = item(
    size_of::<Span>(),
    &[
        bytes(1),
        bytes(2),
        bytes(3),
        bytes(4),
        bytes(5),
        msgs(9, &KEY_VALUE),
        msgs(11, &EVENT),
        msgs(13, &LINK),
        msg(15, &STATUS),
    ],
);
static EVENT: Schema = schema(size_of::<span::Event>(), &[bytes(2), msgs(3, &KEY_VALUE)]);
static LINK: Schema = schema(
    size_of::<span::Link>(),
    &[bytes(1), bytes(2), bytes(3), msgs(4, &KEY_VALUE)],
);
static STATUS: Schema = schema(0, &[bytes(2)]);

// logs.v1
static LOGS: Schema = schema(0, &[msgs(1, &RESOURCE_LOGS)]);
static RESOURCE_LOGS: Schema = resource(
    size_of::<ResourceLogs>(),
    &[msg(1, &RESOURCE), msgs(2, &SCOPE_LOGS), bytes(3)],
);
static SCOPE_LOGS: Schema = schema(
    size_of::<ScopeLogs>(),
    &[msg(1, &SCOPE), msgs(2, &LOG_RECORD), bytes(3)],
);
static LOG_RECORD: Schema = item(
    size_of::<LogRecord>(),
    &[
        bytes(3),
        msg(5, &ANY_VALUE),
        msgs(6, &KEY_VALUE),
        bytes(9),
        bytes(10),
        bytes(12),
    ],
);

// metrics.v1. The data of a metric is a oneof inline in Metric.
static METRICS: Schema = schema(0, &[msgs(1, &RESOURCE_METRICS)]);
static RESOURCE_METRICS: Schema = resource(
    size_of::<ResourceMetrics>(),
    &[msg(1, &RESOURCE), msgs(2, &SCOPE_METRICS), bytes(3)],
);
static SCOPE_METRICS: Schema = schema(
    size_of::<ScopeMetrics>(),
    &[msg(1, &SCOPE), msgs(2, &METRIC), bytes(3)],
);
static METRIC: Schema = schema(
    size_of::<Metric>(),
    &[
        bytes(1),
        bytes(2),
        bytes(3),
        msg(5, &NUMBER_POINTS),
        msg(7, &NUMBER_POINTS),
        msg(9, &HISTOGRAM_POINTS),
        msg(10, &EXP_HISTOGRAM_POINTS),
        msg(11, &SUMMARY_POINTS),
        msgs(12, &KEY_VALUE),
    ],
);
static NUMBER_POINTS: Schema = schema(0, &[msgs(1, &NUMBER_POINT)]);
static HISTOGRAM_POINTS: Schema = schema(0, &[msgs(1, &HISTOGRAM_POINT)]);
static EXP_HISTOGRAM_POINTS: Schema = schema(0, &[msgs(1, &EXP_HISTOGRAM_POINT)]);
static SUMMARY_POINTS: Schema = schema(0, &[msgs(1, &SUMMARY_POINT)]);
static NUMBER_POINT: Schema = item(
    size_of::<NumberDataPoint>(),
    &[msgs(7, &KEY_VALUE), msgs(5, &EXEMPLAR)],
);
static HISTOGRAM_POINT: Schema = item(
    size_of::<HistogramDataPoint>(),
    &[
        msgs(9, &KEY_VALUE),
        scalars(6, 8, 8),
        scalars(7, 8, 8),
        msgs(8, &EXEMPLAR),
    ],
);
static EXP_HISTOGRAM_POINT: Schema = item(
    size_of::<ExponentialHistogramDataPoint>(),
    &[
        msgs(1, &KEY_VALUE),
        msg(8, &BUCKETS),
        msg(9, &BUCKETS),
        msgs(11, &EXEMPLAR),
    ],
);
static BUCKETS: Schema = schema(0, &[scalars(2, 8, 1)]);
static SUMMARY_POINT: Schema = item(
    size_of::<SummaryDataPoint>(),
    &[msgs(7, &KEY_VALUE), msgs(6, &QUANTILE)],
);
static QUANTILE: Schema = schema(size_of::<ValueAtQuantile>(), &[]);
static EXEMPLAR: Schema = schema(
    size_of::<Exemplar>(),
    &[msgs(7, &KEY_VALUE), bytes(4), bytes(5)],
);

#[inline]
fn varint(buf: &mut &[u8]) -> Result<u64, WireError> {
    if let Some((&b, rest)) = buf.split_first()
        && b < 0x80
    {
        *buf = rest;
        return Ok(u64::from(b));
    }
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (b, rest) = buf.split_first().ok_or(WireError::Malformed)?;
        *buf = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(WireError::Malformed)
}

/// Skips a (deprecated, proto2) group up to its end tag: prost skips unknown groups too.
fn skip_group(buf: &mut &[u8], num: u64, depth: u32) -> Result<(), WireError> {
    if depth > MAX_DEPTH {
        return Err(WireError::TooDeep);
    }
    loop {
        let key = varint(buf)?;
        match key & 7 {
            0 => {
                varint(buf)?;
            }
            1 => *buf = buf.get(8..).ok_or(WireError::Malformed)?,
            5 => *buf = buf.get(4..).ok_or(WireError::Malformed)?,
            2 => {
                let len = usize::try_from(varint(buf)?).map_err(|_| WireError::Malformed)?;
                *buf = buf.get(len..).ok_or(WireError::Malformed)?;
            }
            3 => skip_group(buf, key >> 3, depth + 1)?,
            4 if key >> 3 == num => return Ok(()),
            _ => return Err(WireError::Malformed),
        }
    }
}

/// Room for a `Vec` of `n` elements of `elem` bytes once grown: at most twice its length,
/// from a first capacity of four.
fn vec_bytes(n: u64, elem: u64) -> u64 {
    if n == 0 {
        0
    } else {
        n.saturating_mul(2).saturating_add(4).saturating_mul(elem)
    }
}

/// The most fields a schema lists (counts are kept on the stack).
const MAX_FIELDS: usize = 12;

/// What a one-field AnyValue holding a string, bytes or a scalar allocates; `None` for
/// any other shape (arrays, maps, several fields), which takes the general way.
#[inline]
fn simple_any_value(v: &[u8]) -> Option<u64> {
    let (&tag, mut rest) = match v.split_first() {
        None => return Some(0),
        Some(x) => x,
    };
    let bytes = match tag {
        0x0a | 0x3a => {
            let len = usize::try_from(varint(&mut rest).ok()?).ok()?;
            rest = rest.get(len..)?;
            len as u64
        }
        0x10 | 0x18 | 0x40 => {
            varint(&mut rest).ok()?;
            0
        }
        0x21 => {
            rest = rest.get(8..)?;
            0
        }
        _ => return None,
    };
    rest.is_empty().then_some(bytes)
}

/// A KeyValue in its common shape (a key, then a simple value) without the schema
/// machinery; any other shape is walked the general way.
#[inline]
fn key_value(msg: &[u8], depth: u32, acc: &mut WireCost) -> Result<(), WireError> {
    let mut m = msg;
    let mut bytes = 0u64;
    while let Some((&tag, rest)) = m.split_first() {
        if tag != 0x0a && tag != 0x12 {
            return walk(msg, &KEY_VALUE, depth, acc);
        }
        m = rest;
        let len = usize::try_from(varint(&mut m)?).map_err(|_| WireError::Malformed)?;
        let (value, rest) = m.split_at_checked(len).ok_or(WireError::Malformed)?;
        m = rest;
        if tag == 0x0a {
            bytes += len as u64;
        } else {
            match simple_any_value(value) {
                Some(n) => bytes += n,
                None => return walk(msg, &KEY_VALUE, depth, acc),
            }
        }
    }
    acc.decoded_bytes = acc.decoded_bytes.saturating_add(bytes);
    Ok(())
}

fn walk(mut msg: &[u8], schema: &Schema, depth: u32, acc: &mut WireCost) -> Result<(), WireError> {
    if depth > MAX_DEPTH {
        return Err(WireError::TooDeep);
    }
    // Elements seen per repeated field, in the order of `schema.fields`.
    let mut counts = [0u64; MAX_FIELDS];
    let mut touched = false;
    while !msg.is_empty() {
        let key = varint(&mut msg)?;
        let num = key >> 3;
        let slot = match schema.slots.get(num as usize) {
            Some(&i) if i > 0 => {
                let i = usize::from(i - 1);
                Some((i, &schema.fields[i]))
            }
            _ => None,
        };
        match key & 7 {
            0 => {
                varint(&mut msg)?;
                if let Some((i, f)) = slot
                    && f.repeated
                {
                    counts[i] += 1;
                    touched = true;
                }
            }
            1 | 5 => {
                let width = if key & 7 == 1 { 8 } else { 4 };
                msg = msg.get(width..).ok_or(WireError::Malformed)?;
                if let Some((i, f)) = slot
                    && f.repeated
                {
                    counts[i] += 1;
                    touched = true;
                }
            }
            2 => {
                let len = usize::try_from(varint(&mut msg)?).map_err(|_| WireError::Malformed)?;
                let (value, rest) = msg.split_at_checked(len).ok_or(WireError::Malformed)?;
                msg = rest;
                let Some((i, f)) = slot else { continue };
                match f.kind {
                    Kind::Msg(child) => {
                        if f.repeated {
                            counts[i] += 1;
                            touched = true;
                        }
                        if child.item {
                            acc.items += 1;
                        }
                        if child.resource {
                            acc.resources += 1;
                        }
                        if std::ptr::eq(child, &KEY_VALUE) {
                            key_value(value, depth + 1, acc)?;
                        } else {
                            walk(value, child, depth + 1, acc)?;
                        }
                    }
                    Kind::Bytes => {
                        if f.repeated {
                            counts[i] += 1;
                            touched = true;
                        }
                        acc.decoded_bytes = acc.decoded_bytes.saturating_add(len as u64);
                    }
                    Kind::Scalars { min_wire, .. } => {
                        counts[i] += len as u64 / min_wire;
                        touched = true;
                    }
                }
            }
            3 => skip_group(&mut msg, num, depth + 1)?,
            _ => return Err(WireError::Malformed),
        }
    }
    if touched {
        for (f, n) in schema.fields.iter().zip(counts) {
            if n == 0 {
                continue;
            }
            let elem = match f.kind {
                Kind::Msg(child) => child.size,
                Kind::Bytes => size_of::<Vec<u8>>() as u64,
                Kind::Scalars { elem, .. } => elem,
            };
            acc.decoded_bytes = acc.decoded_bytes.saturating_add(vec_bytes(n, elem));
            acc.largest_vec = acc.largest_vec.max(n.saturating_mul(elem));
        }
    }
    Ok(())
}

/// Items, resources and the decoding bound of an encoded export request of `signal`.
pub fn cost(signal: Signal, request: &[u8]) -> Result<WireCost, WireError> {
    let schema = match signal {
        Signal::Traces => &TRACES,
        Signal::Metrics => &METRICS,
        Signal::Logs => &LOGS,
    };
    let mut acc = WireCost::default();
    walk(request, schema, 0, &mut acc)?;
    // Vecs grow one at a time: while the largest one moves to a buffer twice its size,
    // its old buffer is held too.
    acc.decoded_bytes = acc.decoded_bytes.saturating_add(acc.largest_vec);
    Ok(acc)
}

/// What decoding OTLP/JSON allocates besides the elements of known arrays: per object
/// that is not one (an inline message such as a resource, or an ignored field's value),
/// per array element (a number or string in `bucketCounts`, `explicitBounds`, …, with the
/// `Vec`'s doubling), and per byte of text (a rewritten copy for snake_case keys, and
/// strings decoded). Measured against the allocator in `tests/decode_cost.rs`, with room.
const JSON_PER_OBJECT: u64 = 128;
const JSON_PER_VALUE: u64 = 64;
const JSON_PER_BYTE: u64 = 2;
/// What reading one attribute value takes besides its element (measured).
const JSON_ANY_VALUE: u64 = 256;
/// Containers deeper than this are refused by the decoder before it allocates for them.
const JSON_MAX_DEPTH: usize = 128;

/// What one object in the array under `key` decodes into: the element type's size,
/// twice (a `Vec` holds up to twice its length while it grows), plus the per-object
/// allowance. Keys are compared without `_` and case, so snake_case names match too.
fn json_element_cost(key: &[u8]) -> u64 {
    let size = |n: usize| 2 * n as u64 + JSON_PER_OBJECT;
    let normalized: Vec<u8> = key
        .iter()
        .filter(|b| **b != b'_')
        .map(u8::to_ascii_lowercase)
        .collect();
    match &normalized[..] {
        b"resourcespans" => size(size_of::<ResourceSpans>()),
        b"scopespans" => size(size_of::<ScopeSpans>()),
        b"spans" => size(size_of::<Span>()),
        b"events" => size(size_of::<span::Event>()),
        b"links" => size(size_of::<span::Link>()),
        // opentelemetry-proto reads an `AnyValue` through serde's buffered content first.
        b"attributes" | b"values" => {
            size(size_of::<KeyValue>().max(size_of::<AnyValue>())) + JSON_ANY_VALUE
        }
        b"entityrefs" => size(size_of::<EntityRef>()),
        b"resourcelogs" => size(size_of::<ResourceLogs>()),
        b"scopelogs" => size(size_of::<ScopeLogs>()),
        b"logrecords" => size(size_of::<LogRecord>()),
        b"resourcemetrics" => size(size_of::<ResourceMetrics>()),
        b"scopemetrics" => size(size_of::<ScopeMetrics>()),
        b"metrics" => size(size_of::<Metric>()),
        b"datapoints" => size(
            size_of::<NumberDataPoint>()
                .max(size_of::<HistogramDataPoint>())
                .max(size_of::<ExponentialHistogramDataPoint>())
                .max(size_of::<SummaryDataPoint>()),
        ),
        b"exemplars" => size(size_of::<Exemplar>()),
        b"quantilevalues" => size(size_of::<ValueAtQuantile>()),
        // Any other array's objects: the largest element type.
        _ => size(size_of::<Span>().max(size_of::<LogRecord>())),
    }
}

/// Upper bound of what decoding an OTLP/JSON body allocates, from one pass over its
/// bytes: each object costs what the array it is an element of holds (by the key of that
/// array), or the per-object allowance; each other array element the per-value one; and
/// every byte of text a little.
pub fn json_cost(body: &[u8]) -> u64 {
    // Per open container: `Some(cost of an object element)` for an array, `None` for an
    // object.
    let mut stack: Vec<Option<u64>> = Vec::new();
    let mut expect_key = false;
    let mut key: &[u8] = &[];
    let mut cost = (body.len() as u64).saturating_mul(JSON_PER_BYTE);
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'"' => {
                let mut j = i + 1;
                while j < body.len() && body[j] != b'"' {
                    j += if body[j] == b'\\' { 2 } else { 1 };
                }
                if expect_key {
                    key = &body[i + 1..j.min(body.len())];
                    expect_key = false;
                }
                i = j + 1;
                continue;
            }
            b'{' => {
                cost = cost.saturating_add(match stack.last() {
                    Some(Some(element)) => *element,
                    _ => JSON_PER_OBJECT,
                });
                if stack.len() < JSON_MAX_DEPTH {
                    stack.push(None);
                }
                expect_key = true;
            }
            b'[' => {
                if stack.len() < JSON_MAX_DEPTH {
                    stack.push(Some(json_element_cost(key)));
                }
                cost = cost.saturating_add(JSON_PER_VALUE);
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                expect_key = stack.last() == Some(&None);
                if matches!(stack.last(), Some(Some(_))) {
                    cost = cost.saturating_add(JSON_PER_VALUE);
                }
            }
            _ => {}
        }
        i += 1;
    }
    cost
}

/// Spans, data points or log records in an encoded export request of `signal`; `None`
/// when the bytes are not a well-formed request.
pub fn count_items(signal: Signal, request: &[u8]) -> Option<u64> {
    cost(signal, request).ok().map(|c| c.items)
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::loadgen::{ContentOpts, generate};

    #[test]
    fn every_schema_keeps_its_counts_on_the_stack() {
        let all: [&Schema; 33] = [
            &ANY_VALUE,
            &ARRAY_VALUE,
            &KEY_VALUE_LIST,
            &KEY_VALUE,
            &SCOPE,
            &ENTITY_REF,
            &RESOURCE,
            &TRACES,
            &RESOURCE_SPANS,
            &SCOPE_SPANS,
            &SPAN,
            &EVENT,
            &LINK,
            &STATUS,
            &LOGS,
            &RESOURCE_LOGS,
            &SCOPE_LOGS,
            &LOG_RECORD,
            &METRICS,
            &RESOURCE_METRICS,
            &SCOPE_METRICS,
            &METRIC,
            &NUMBER_POINTS,
            &HISTOGRAM_POINTS,
            &EXP_HISTOGRAM_POINTS,
            &SUMMARY_POINTS,
            &NUMBER_POINT,
            &HISTOGRAM_POINT,
            &EXP_HISTOGRAM_POINT,
            &BUCKETS,
            &SUMMARY_POINT,
            &QUANTILE,
            &EXEMPLAR,
        ];
        for s in all {
            assert!(s.fields.len() <= MAX_FIELDS);
        }
    }

    #[test]
    fn counts_match_the_decoded_requests() {
        let mut rng = fastrand::Rng::with_seed(9);
        let opts = ContentOpts::default();
        let traces = generate::traces(&mut rng, 300, &opts).encode_to_vec();
        assert_eq!(count_items(Signal::Traces, &traces), Some(300));
        let logs = generate::logs(&mut rng, 120, &opts).encode_to_vec();
        assert_eq!(count_items(Signal::Logs, &logs), Some(120));
        let metrics = generate::metrics(&mut rng, 77, &opts);
        let want = crate::receiver::otlp::OtlpRequest::check(
            &mut metrics.clone(),
            &crate::config::Limits::default(),
        )
        .unwrap()
        .kept as u64;
        assert_eq!(
            count_items(Signal::Metrics, &metrics.encode_to_vec()),
            Some(want)
        );
        assert_eq!(count_items(Signal::Traces, &[0x0a, 0xff]), None);
        assert_eq!(
            count_items(Signal::Traces, &traces[..traces.len() - 3]),
            None
        );
        assert_eq!(count_items(Signal::Traces, &[]), Some(0));
    }

    #[test]
    fn empty_spans_cost_far_more_than_their_bytes() {
        // One resource, one scope, n empty spans: two bytes each on the wire.
        let n = 10_000usize;
        let mut scope = Vec::new();
        for _ in 0..n {
            scope.extend_from_slice(&[0x12, 0x00]);
        }
        let mut rs = vec![0x12];
        prost::encoding::encode_varint(scope.len() as u64, &mut rs);
        rs.extend_from_slice(&scope);
        let mut req = vec![0x0a];
        prost::encoding::encode_varint(rs.len() as u64, &mut req);
        req.extend_from_slice(&rs);
        let c = cost(Signal::Traces, &req).unwrap();
        assert_eq!(c.items, n as u64);
        assert_eq!(c.resources, 1);
        assert!(c.decoded_bytes >= (n * size_of::<Span>()) as u64);
        let decoded = ExportTraceServiceRequest::decode(&req[..]).unwrap();
        assert_eq!(decoded.resource_spans[0].scope_spans[0].spans.len(), n);
    }

    #[test]
    fn nesting_past_the_limit_is_refused() {
        // AnyValue{array_value: ArrayValue{values: [AnyValue{…}]}} nested 200 times.
        let mut v: Vec<u8> = Vec::new();
        for _ in 0..200 {
            let mut array = vec![0x0a];
            prost::encoding::encode_varint(v.len() as u64, &mut array);
            array.extend_from_slice(&v);
            let mut any = vec![0x2a];
            prost::encoding::encode_varint(array.len() as u64, &mut any);
            any.extend_from_slice(&array);
            v = any;
        }
        // As a log body: logs → resource_logs → scope_logs → log_records → body.
        let wrap = |tag: u8, inner: &[u8]| {
            let mut out = vec![tag];
            prost::encoding::encode_varint(inner.len() as u64, &mut out);
            out.extend_from_slice(inner);
            out
        };
        let req = wrap(0x0a, &wrap(0x12, &wrap(0x12, &wrap(0x2a, &v))));
        assert_eq!(cost(Signal::Logs, &req), Err(WireError::TooDeep));
    }

    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
}
