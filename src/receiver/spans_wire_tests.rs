//! The wire reader against prost decoding and `build.rs`: requests of the OTLP protos'
//! shapes, encoded with prost and then given what the protobuf encoding allows a sender to
//! send (unknown fields of every wire type, groups, singular fields sent twice, messages
//! split in two, repeated fields interleaved), and random mutations of them. Every input
//! goes through [`super::spans_fuzz::compare`]: both refuse, or both accept with the same facts.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use prost::Message;
use prost::encoding::encode_varint;

use super::spans_fuzz::{compare, item_limits, schema};
use crate::config::Limits;
use crate::loadgen::{ContentOpts, generate};
use crate::test_otlp::wire_field as field;

fn agree(data: &[u8]) {
    for token in [None, Some("bound")] {
        if let Err(e) = compare(data, schema(), token, &Limits::default()) {
            panic!("{e}\ninput: {data:02x?}");
        }
    }
}

/// Fields no OTLP message has, one of each wire type (a group holding fields of its own).
fn unknown_fields(rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut out = Vec::new();
    let tag = rng.u32(17..200);
    match rng.u8(0..5) {
        0 => {
            encode_varint(u64::from(tag << 3), &mut out);
            encode_varint(rng.u64(..), &mut out);
        }
        1 => {
            encode_varint(u64::from(tag << 3 | 1), &mut out);
            out.extend_from_slice(&rng.u64(..).to_le_bytes());
        }
        2 => out = field(tag, "ü\u{0}x".as_bytes()),
        3 => {
            encode_varint(u64::from(tag << 3 | 5), &mut out);
            out.extend_from_slice(&rng.u32(..).to_le_bytes());
        }
        _ => {
            encode_varint(u64::from(tag << 3 | 3), &mut out);
            encode_varint(u64::from(7u32 << 3), &mut out);
            encode_varint(300, &mut out);
            out.extend_from_slice(&field(8, b"in a group"));
            encode_varint(u64::from(tag << 3 | 4), &mut out);
        }
    }
    out
}

/// `encoded` with what a sender may add: unknown fields, and a second copy of `extra`
/// (more fields of the same message, which decoding merges in: singular fields sent
/// twice, repeated ones continued).
fn noisy(
    rng: &mut fastrand::Rng,
    mut encoded: Vec<u8>,
    extra: impl FnOnce(&mut fastrand::Rng) -> Vec<u8>,
) -> Vec<u8> {
    if rng.u8(0..4) == 0 {
        encoded.extend(unknown_fields(rng));
    }
    if rng.u8(0..4) == 0 {
        let more = extra(rng);
        if rng.bool() {
            encoded.extend(more);
        } else {
            encoded.splice(0..0, more);
        }
    }
    encoded
}

fn text(rng: &mut fastrand::Rng) -> String {
    [
        "",
        "a",
        "b",
        "k",
        "ключ",
        "서울",
        "/api/pay",
        "never.set",
        "ot=th:8",
        "é\u{301}",
    ][rng.usize(..10)]
    .to_string()
}

fn any_value(rng: &mut fastrand::Rng, depth: u32) -> AnyValue {
    let value = match rng.u8(0..if depth > 2 { 8 } else { 10 }) {
        0 => None,
        1 => Some(Value::StringValue(text(rng))),
        2 => Some(Value::BoolValue(rng.bool())),
        3 => Some(Value::IntValue(rng.i64(..))),
        4 => Some(Value::DoubleValue(
            [0.5, -0.0, f64::NAN, f64::INFINITY, 1e300][rng.usize(..5)],
        )),
        5 => Some(Value::BytesValue(vec![0, 0xff, rng.u8(..)])),
        6 => Some(Value::StringValueStrindex(rng.i32(..))),
        7 => Some(Value::StringValue(String::new())),
        8 => Some(Value::ArrayValue(ArrayValue {
            values: (0..rng.usize(0..3))
                .map(|_| any_value(rng, depth + 1))
                .collect(),
        })),
        _ => Some(Value::KvlistValue(KeyValueList {
            values: (0..rng.usize(0..3))
                .map(|_| key_value(rng, depth + 1))
                .collect(),
        })),
    };
    AnyValue { value }
}

fn key_value(rng: &mut fastrand::Rng, depth: u32) -> KeyValue {
    KeyValue {
        key: text(rng),
        value: (rng.u8(0..6) != 0).then(|| any_value(rng, depth)),
        key_strindex: if rng.u8(0..8) == 0 { 3 } else { 0 },
    }
}

/// An attribute list as fields `tag`, each `KeyValue` possibly with a second value (the
/// values merge: the last member of the oneof wins).
fn attributes(rng: &mut fastrand::Rng, tag: u32, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..n {
        let kv = key_value(rng, 0).encode_to_vec();
        let kv = noisy(rng, kv, |rng| {
            KeyValue {
                value: Some(any_value(rng, 0)),
                ..Default::default()
            }
            .encode_to_vec()
        });
        out.extend(field(tag, &kv));
    }
    out
}

fn id(rng: &mut fastrand::Rng, len: usize) -> Vec<u8> {
    match rng.u8(0..10) {
        0 => Vec::new(),
        1 => vec![0; len],
        2 => vec![1; len + 1],
        _ => (0..len).map(|_| rng.u8(..)).collect(),
    }
}

fn span(rng: &mut fastrand::Rng) -> Vec<u8> {
    let start = rng.u64(..1 << 62);
    let s = Span {
        trace_id: id(rng, 16),
        span_id: id(rng, 8),
        parent_span_id: id(rng, 8),
        trace_state: ["", "ot=th:c", "ot=p:3", "ot=th:xyz", "a=b,ot=th:8"][rng.usize(..5)].into(),
        name: text(rng),
        kind: rng.i32(-1..7),
        start_time_unix_nano: start,
        end_time_unix_nano: start.wrapping_add(rng.u64(..1 << 40)).wrapping_sub(1 << 20),
        flags: rng.u32(..),
        dropped_attributes_count: rng.u32(..3),
        events: (0..rng.usize(0..3))
            .map(|_| span::Event {
                time_unix_nano: rng.u64(..),
                name: text(rng),
                attributes: (0..rng.usize(0..3)).map(|_| key_value(rng, 0)).collect(),
                dropped_attributes_count: 1,
            })
            .collect(),
        links: (0..rng.usize(0..3))
            .map(|_| span::Link {
                trace_id: id(rng, 16),
                span_id: id(rng, 8),
                trace_state: text(rng),
                attributes: (0..rng.usize(0..3)).map(|_| key_value(rng, 0)).collect(),
                dropped_attributes_count: 2,
                flags: 1,
            })
            .collect(),
        status: (rng.u8(0..3) != 0).then(|| Status {
            message: text(rng),
            code: rng.i32(0..4),
        }),
        ..Default::default()
    };
    let mut encoded = s.encode_to_vec();
    let n = rng.usize(0..6);
    encoded.extend(attributes(rng, 9, n));
    noisy(rng, encoded, |rng| {
        // Singular fields again (the last wins), a status merged into the first.
        Span {
            name: text(rng),
            kind: rng.i32(0..6),
            end_time_unix_nano: rng.u64(..),
            trace_state: "ot=th:8".into(),
            span_id: id(rng, 8),
            status: rng.bool().then(|| Status {
                message: String::new(),
                code: rng.i32(0..3),
            }),
            ..Default::default()
        }
        .encode_to_vec()
    })
}

fn scope_spans(rng: &mut fastrand::Rng) -> Vec<u8> {
    let head = ScopeSpans {
        scope: (rng.u8(0..3) != 0).then(|| InstrumentationScope {
            name: text(rng),
            version: "1.0".into(),
            attributes: (0..rng.usize(0..3)).map(|_| key_value(rng, 0)).collect(),
            dropped_attributes_count: 0,
        }),
        schema_url: text(rng),
        ..Default::default()
    };
    let mut out = noisy(rng, head.encode_to_vec(), |rng| {
        field(1, &field(3, &key_value(rng, 0).encode_to_vec()))
    });
    for _ in 0..rng.usize(0..5) {
        out.extend(field(2, &span(rng)));
    }
    out
}

fn resource_spans(rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut resource = Resource {
        entity_refs: (0..rng.usize(0..2))
            .map(|_| EntityRef {
                schema_url: String::new(),
                r#type: "service".into(),
                id_keys: vec!["service.name".into()],
                description_keys: vec![text(rng)],
            })
            .collect(),
        dropped_attributes_count: rng.u32(..2),
        ..Default::default()
    }
    .encode_to_vec();
    let n = rng.usize(0..5);
    resource.extend(attributes(rng, 1, n));
    let mut out = Vec::new();
    let mut scopes: Vec<Vec<u8>> = (0..rng.usize(0..4))
        .map(|_| field(2, &scope_spans(rng)))
        .collect();
    // The resource anywhere among its scopes, possibly in two copies (merged).
    if rng.u8(0..4) != 0 {
        let at = rng.usize(..=scopes.len());
        scopes.insert(at, field(1, &resource));
    }
    if rng.u8(0..4) == 0 {
        let more = field(1, &attributes(rng, 1, 2));
        scopes.push(more);
    }
    for s in scopes {
        out.extend(s);
    }
    noisy(rng, out, |rng| field(3, text(rng).as_bytes()))
}

fn request(rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.usize(0..5) {
        out.extend(field(1, &resource_spans(rng)));
    }
    noisy(rng, out, |_| Vec::new())
}

#[test]
fn generated_requests_read_as_prost_decodes_them() {
    let mut rng = fastrand::Rng::with_seed(20);
    let mut decoded = 0;
    for _ in 0..1_500 {
        let body = request(&mut rng);
        agree(&body);
        decoded += usize::from(ExportTraceServiceRequest::decode(&body[..]).is_ok());
    }
    // The generator sends what decodes: every shape above is valid protobuf.
    assert_eq!(decoded, 1_500);
}

#[test]
fn load_generator_requests_agree() {
    let mut rng = fastrand::Rng::with_seed(7);
    let opts = ContentOpts {
        now_unix_nano: 1_700_000_000_000_000_000,
        ..ContentOpts::default()
    };
    for n in [0, 1, 37, 512] {
        let body = generate::traces(&mut rng, n, &opts).encode_to_vec();
        agree(&body);
    }
}

#[test]
fn the_same_verdict_under_small_limits() {
    let limits = Limits {
        max_attributes_per_item: 2,
        max_events_per_span: 1,
        max_links_per_span: 1,
        ..Limits::default()
    };
    let mut rng = fastrand::Rng::with_seed(3);
    let (mut clean, mut dirty) = (0, 0);
    for _ in 0..800 {
        let body = request(&mut rng);
        compare(&body, schema(), None, &limits).unwrap();
        let found = crate::slo::facts::wire::check_spans(&body, &item_limits(&limits)).unwrap();
        if found.clean {
            clean += 1;
        } else {
            dirty += 1;
        }
    }
    assert!(clean > 50 && dirty > 50, "{clean} clean, {dirty} not");
}

/// Flips, inserts, deletes, duplicates and truncates bytes of generated requests: the
/// stable stand-in for the fuzz target.
#[test]
fn mutated_requests_agree() {
    let mut rng = fastrand::Rng::with_seed(99);
    let mut refused = 0;
    for _ in 0..4_000 {
        let mut body = request(&mut rng);
        for _ in 0..rng.usize(1..4) {
            if body.is_empty() {
                body.push(rng.u8(..));
                continue;
            }
            let at = rng.usize(..body.len());
            match rng.u8(0..6) {
                0 => body[at] ^= 1 << rng.u8(0..8),
                1 => body[at] = rng.u8(..),
                2 => body.insert(at, rng.u8(..)),
                3 => drop(body.remove(at)),
                4 => body.truncate(at),
                _ => {
                    let end = (at + rng.usize(1..16)).min(body.len());
                    let copy = body[at..end].to_vec();
                    body.splice(at..at, copy);
                }
            }
        }
        refused += usize::from(ExportTraceServiceRequest::decode(&body[..]).is_err());
        agree(&body);
    }
    // Both sides of the decision are exercised.
    assert!(refused > 500 && refused < 3_800, "{refused} refused");
}

#[test]
fn what_prost_refuses_is_refused() {
    let string_field = |bytes: &[u8]| field(1, &field(2, &field(2, &field(5, bytes))));
    let cases: Vec<Vec<u8>> = vec![
        // A span name that is not UTF-8.
        string_field(&[0xc3, 0x28]),
        // A surrogate half encoded in UTF-8.
        string_field(&[0xed, 0xa0, 0x80]),
        // Field number 0.
        vec![0x02, 0x00],
        // Wire type 6 and 7.
        vec![0x0e],
        vec![0x0f],
        // A known field (resource_spans) as a varint.
        vec![0x08, 0x01],
        // An end group with no start, and a group ended by another field's end.
        vec![0x0c],
        vec![0x1b, 0x24],
        // An 11-byte varint, and a 10-byte one above 64 bits.
        vec![
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ],
        vec![
            0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
        ],
        // A key above 32 bits.
        vec![0x80, 0x80, 0x80, 0x80, 0x10, 0x00],
        // A length past the end.
        vec![0x0a, 0x05, 0x00],
    ];
    for body in cases {
        assert!(
            ExportTraceServiceRequest::decode(&body[..]).is_err(),
            "{body:02x?}"
        );
        agree(&body);
    }
    // The largest valid varint, a 64-bit one ending in 0x01, is accepted.
    let ok = vec![
        0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ];
    assert!(ExportTraceServiceRequest::decode(&ok[..]).is_ok());
    agree(&ok);
}

#[test]
fn nesting_is_limited_as_prost_limits_it() {
    // An attribute whose value is arrays in arrays, `depth` deep, in a span: prost refuses
    // from some depth on; the wire reading must switch at the same one.
    let mut switched = None;
    for depth in 80..100 {
        let mut v = AnyValue {
            value: Some(Value::IntValue(1)),
        };
        for _ in 0..depth {
            v = AnyValue {
                value: Some(Value::ArrayValue(ArrayValue { values: vec![v] })),
            };
        }
        let kv = KeyValue {
            key: "k".into(),
            value: Some(v),
            ..Default::default()
        };
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        attributes: vec![kv],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let body = req.encode_to_vec();
        agree(&body);
        if switched.is_none() && ExportTraceServiceRequest::decode(&body[..]).is_err() {
            switched = Some(depth);
        }
    }
    assert!(switched.is_some(), "prost never refused");
}

/// The fuzz target's committed seeds (`fuzz/corpus/span_facts`) agree too: a crash input
/// committed there is replayed here.
#[test]
fn the_fuzz_corpus_agrees() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/span_facts");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let body = std::fs::read(entry.unwrap().path()).unwrap();
        super::spans_fuzz::span_facts_one(&body);
        n += 1;
    }
    assert!(n >= 4, "{n} seeds");
}
