//! The facts the receiver's walk builds, against prost and against an oracle of their own.
//!
//! The wire walk and `build.rs` share the key index and the typed column builders, so
//! comparing the two (`receiver::spans_fuzz::compare`) cannot see a key both miss or a
//! value both put in the wrong column. Here every attribute column is also checked against
//! a plain reading of the decoded request: the first `KeyValue` with the key, its value in
//! the column of its type, null elsewhere. The schemas are those that exercise the index:
//! more keys than are compared one by one (hashed), keys of 63 bytes and more (one length
//! bit), keys sharing their length with other keys of the request, and attributes read in
//! only some of their types (columns made lazily, or never).

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

use super::check_spans_with_facts;
use crate::config::Limits;
use crate::receiver::spans_fuzz::{CLUSTER_ATTRIBUTE, compare, item_limits};
use crate::slo::facts::{FactsSchema, SpanFacts};
use crate::slo::ottl::{AttrRef, Use, Val, render};

/// Keys of the requests: read by some schema, or the same length as one that is, or long.
fn keys() -> Vec<String> {
    let mut keys: Vec<String> = [
        "http.response.status_code",
        // 25 bytes, as the key above.
        "http.response.status_codE",
        "user_agent.original",
        "http.route",
        // 10 bytes, as `http.route`.
        "url.scheme",
        "",
        "k",
        "ключ",
        "service.name",
        "k8s.cluster.name",
        // 12 bytes, as `service.name`.
        "k8s.pod.name",
    ]
    .map(String::from)
    .to_vec();
    keys.push("x".repeat(63));
    keys.push("x".repeat(64));
    keys.push(format!("{}y", "x".repeat(63)));
    keys.extend((0..16).map(|i| format!("attr.{i:02}")));
    keys
}

/// The schemas: `(attribute key, uses)` for span and resource attributes alike.
fn schemas() -> Vec<FactsSchema> {
    let keys = keys();
    let numeric = Use(Use::INT.0 | Use::FLOAT.0);
    let few: Vec<(&str, Use)> = vec![
        ("http.response.status_code", numeric),
        ("http.route", Use::STR),
        (&keys[11], Use::ANY),
        ("service.name", Use::STR),
        ("k8s.cluster.name", Use::TEXT),
        ("ключ", Use::BOOL),
    ];
    // More than are compared one by one: hashed.
    let many: Vec<(&str, Use)> = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 1)
        .map(|(i, k)| (k.as_str(), [Use::ANY, numeric, Use::TEXT][i % 3]))
        .collect();
    [few, many]
        .iter()
        .map(|attrs| {
            let mut schema = FactsSchema::default();
            for (k, uses) in attrs {
                schema.add(AttrRef::Item((*k).into()), *uses);
                schema.add(AttrRef::Resource((*k).into()), *uses);
            }
            schema
        })
        .collect()
}

fn value(rng: &mut fastrand::Rng) -> Option<AnyValue> {
    let value = match rng.u8(0..9) {
        0 => return None,
        1 => None,
        2 => Some(Value::StringValue(["", "GET", "é"][rng.usize(..3)].into())),
        3 => Some(Value::BoolValue(rng.bool())),
        4 => Some(Value::DoubleValue([0.5, -0.0, f64::NAN][rng.usize(..3)])),
        5 => Some(Value::BytesValue(vec![0xab])),
        6 => Some(Value::ArrayValue(ArrayValue {
            values: vec![AnyValue {
                value: Some(Value::IntValue(1)),
            }],
        })),
        _ => Some(Value::IntValue([200, 503, -7, i64::MIN][rng.usize(..4)])),
    };
    Some(AnyValue { value })
}

/// A few attributes, keys repeated now and then (the first one counts).
fn attributes(rng: &mut fastrand::Rng, keys: &[String]) -> Vec<KeyValue> {
    (0..rng.usize(0..9))
        .map(|_| KeyValue {
            key: keys[rng.usize(..keys.len())].clone(),
            value: value(rng),
            ..Default::default()
        })
        .collect()
}

fn request(rng: &mut fastrand::Rng, keys: &[String]) -> ExportTraceServiceRequest {
    let resource_spans = (0..rng.usize(0..4))
        .map(|_| ResourceSpans {
            resource: rng.bool().then(|| Resource {
                attributes: attributes(rng, keys),
                ..Default::default()
            }),
            scope_spans: (0..rng.usize(0..3))
                .map(|_| ScopeSpans {
                    spans: (0..rng.usize(0..12))
                        .map(|_| Span {
                            trace_id: vec![1; 16],
                            span_id: vec![2; 8],
                            name: "GET /".into(),
                            attributes: attributes(rng, keys),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

/// A column's value at `row` as text (`None` for null), through the dictionary of a
/// resource-level column.
fn cell(column: &ArrayRef, row: usize) -> Option<String> {
    if let Some(dict) = column.as_dictionary_opt::<Int32Type>() {
        let keys = dict.keys();
        return keys
            .is_valid(row)
            .then(|| cell(dict.values(), keys.value(row) as usize))
            .flatten();
    }
    if column.is_null(row) {
        return None;
    }
    Some(if let Some(c) = column.as_string_opt::<i32>() {
        c.value(row).to_string()
    } else if let Some(c) = column.as_primitive_opt::<Int64Type>() {
        c.value(row).to_string()
    } else if let Some(c) = column.as_primitive_opt::<Float64Type>() {
        format!("{:x}", c.value(row).to_bits())
    } else if let Some(c) = column.as_boolean_opt() {
        c.value(row).to_string()
    } else {
        panic!("unexpected column type {}", column.data_type())
    })
}

/// What each typed column of an attribute holds for a value, read on its own: `.str`,
/// `.int`, `.float`, `.bool`, `.other`.
fn expected(value: Val<'_>, uses: Use) -> [Option<String>; 5] {
    let want = |u: Use, v: Option<String>| v.filter(|_| uses.has(u));
    let other = match value {
        Val::Nil | Val::Str(_) => None,
        v => {
            let mut text = String::new();
            render(v, &mut text);
            Some(text)
        }
    };
    [
        want(
            Use::STR,
            matches!(value, Val::Str(_)).then(|| render_str(value)),
        ),
        want(
            Use::INT,
            matches!(value, Val::Int(_)).then(|| render_str(value)),
        ),
        want(
            Use::FLOAT,
            match value {
                Val::Float(f) => Some(format!("{:x}", f.to_bits())),
                _ => None,
            },
        ),
        want(
            Use::BOOL,
            matches!(value, Val::Bool(_)).then(|| render_str(value)),
        ),
        want(Use::OTHER, other),
    ]
}

fn render_str(value: Val<'_>) -> String {
    let mut text = String::new();
    render(value, &mut text);
    text
}

/// Every attribute column of `facts` against the first `KeyValue` of its key in `req`.
fn columns_hold_the_first_values(
    req: &ExportTraceServiceRequest,
    facts: &SpanFacts,
    schema: &FactsSchema,
) {
    let rows: Vec<(&Span, Option<&Resource>)> = req
        .resource_spans
        .iter()
        .flat_map(|r| {
            r.scope_spans
                .iter()
                .flat_map(|s| &s.spans)
                .map(|s| (s, r.resource.as_ref()))
        })
        .collect();
    assert_eq!(facts.len(), rows.len());
    for (attr, uses) in schema.entries() {
        let columns = facts
            .attr_columns(attr)
            .expect("every schema attribute has columns");
        let typed = [
            &columns.str,
            &columns.int,
            &columns.float,
            &columns.bool,
            &columns.other,
        ];
        for (row, (span, resource)) in rows.iter().enumerate() {
            let list = match attr {
                AttrRef::Item(_) => &span.attributes[..],
                _ => resource.map_or(&[][..], |r| &r.attributes[..]),
            };
            let key = match attr {
                AttrRef::Item(k) | AttrRef::Resource(k) => k,
                AttrRef::Body(_) => unreachable!("span schemas have no body paths"),
            };
            let value = list
                .iter()
                .find(|kv| kv.key == *key)
                .map_or(Val::Nil, |kv| Val::of(kv.value.as_ref()));
            let want = expected(value, uses);
            for (column, want) in typed.iter().zip(want) {
                let got = column.as_ref().and_then(|c| cell(c, row));
                assert_eq!(got, want, "{attr} row {row}: {value:?} ({uses:?})");
            }
        }
    }
}

/// Requests whose keys share lengths with the schemas' keys, or are long, or repeat: the
/// walk's facts are prost's, and both hold each key's first value in the column of its
/// type.
#[test]
fn attribute_columns_hold_each_keys_first_value() {
    let keys = keys();
    let mut rng = fastrand::Rng::with_seed(2026);
    let limits = Limits::default();
    let mut values = 0;
    for schema in schemas() {
        for _ in 0..300 {
            let req = request(&mut rng, &keys);
            let body = req.encode_to_vec();
            let token = rng.bool().then_some("bound");
            if let Err(e) = compare(&body, &schema, token, &limits) {
                panic!("{e}");
            }
            let (_, walked) = check_spans_with_facts(
                &body,
                &item_limits(&limits),
                token,
                CLUSTER_ATTRIBUTE,
                &schema,
                None,
            )
            .expect("an encoded request decodes");
            columns_hold_the_first_values(&req, &walked, &schema);
            let built = SpanFacts::build(&req, token, CLUSTER_ATTRIBUTE, &schema);
            columns_hold_the_first_values(&req, &built, &schema);
            values += walked.batch.num_columns();
        }
    }
    assert!(values > 1_000);
}

/// The varints read in place (one and two bytes) against the plain reading of every
/// length: the same value, the same rest, the same error, for every one- and two-byte
/// start followed by nothing, by a byte that ends a varint and by one that continues it.
#[test]
fn varints_read_in_place_as_the_plain_reading_reads_them() {
    use super::proto::{varint, varint_long};
    let read = |f: fn(&mut &[u8]) -> super::Read<u64>, bytes: &[u8]| {
        let mut buf = bytes;
        f(&mut buf).map(|v| (v, buf.len()))
    };
    let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
    for first in 0..=255u8 {
        inputs.push(vec![first]);
        for second in 0..=255u8 {
            for tail in [&[][..], &[0x01], &[0x80], &[0x80, 0x01]] {
                let mut bytes = vec![first, second];
                bytes.extend_from_slice(tail);
                inputs.push(bytes);
            }
        }
    }
    // Every length up to 11 bytes, and the tenth byte's limit.
    for len in 1..=11 {
        let mut bytes = vec![0xff; len - 1];
        bytes.extend([0x01, 0x7f]);
        inputs.push(bytes);
    }
    inputs.push([[0xff; 9].as_slice(), &[0x02]].concat());
    for bytes in &inputs {
        assert_eq!(
            read(varint, bytes),
            read(varint_long, bytes),
            "{bytes:02x?}"
        );
        let mut buf = &bytes[..];
        let prost = prost::encoding::decode_varint(&mut buf).map(|v| (v, buf.len()));
        assert_eq!(read(varint, bytes).ok(), prost.ok(), "{bytes:02x?}");
    }
}

/// Strings told ASCII in place, and the rest validated: exactly what `std::str::from_utf8`
/// accepts, at every length and with each kind of byte that is not ASCII at every place.
#[test]
fn strings_are_utf8_exactly_as_from_utf8_tells() {
    use super::proto::utf8;
    let odd: [&[u8]; 9] = [
        &[0x80],
        &[0xff],
        &[0xc3],
        &[0xc3, 0xa9],
        &[0xc0, 0x80],
        &[0xed, 0xa0, 0x80],
        &[0xe2, 0x82, 0xac],
        &[0xf0, 0x9f, 0x98, 0x80],
        &[0xf4, 0x90, 0x80, 0x80],
    ];
    for len in 0..80 {
        let ascii: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        assert_eq!(
            utf8(&ascii).ok(),
            std::str::from_utf8(&ascii).ok(),
            "{ascii:02x?}"
        );
        for at in 0..=len {
            for bytes in odd {
                let mut s = ascii.clone();
                s.splice(at..at, bytes.iter().copied());
                assert_eq!(utf8(&s).ok(), std::str::from_utf8(&s).ok(), "{s:02x?}");
            }
        }
    }
}

/// Bytes that are not UTF-8 in each string field of a request, one field at a time: the
/// check, the check with facts and the facts' readers refuse the request exactly when
/// prost does (`compare`), and prost refuses each of them; UTF-8 that is not ASCII in the
/// same places is accepted, with the same facts.
#[test]
fn every_string_field_refuses_what_is_not_utf8() {
    use opentelemetry_proto::tonic::common::v1::{EntityRef, InstrumentationScope, KeyValueList};
    use opentelemetry_proto::tonic::trace::v1::{Status, span};
    // Each string field holds a marker of its own: "#nn" and a length of its own.
    let mut n = 0;
    let mut mark = || {
        n += 1;
        format!("#{n:02}{}", "s".repeat(n * 7 % 61))
    };
    let kv = |key: String, value: String| KeyValue {
        key,
        value: Some(AnyValue {
            value: Some(Value::StringValue(value)),
        }),
        key_strindex: 0,
    };
    let nested = |key: String, inner: KeyValue, item: String| KeyValue {
        key,
        value: Some(AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![
                    inner,
                    KeyValue {
                        key: "array".into(),
                        value: Some(AnyValue {
                            value: Some(Value::ArrayValue(ArrayValue {
                                values: vec![AnyValue {
                                    value: Some(Value::StringValue(item)),
                                }],
                            })),
                        }),
                        key_strindex: 0,
                    },
                ],
            })),
        }),
        key_strindex: 0,
    };
    let span = Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        trace_state: mark(),
        name: mark(),
        kind: 2,
        attributes: vec![
            kv(mark(), mark()),
            kv("http.response.status_code".into(), mark()),
            nested(mark(), kv(mark(), mark()), mark()),
        ],
        events: vec![span::Event {
            name: mark(),
            attributes: vec![kv(mark(), mark())],
            ..Default::default()
        }],
        links: vec![span::Link {
            trace_id: vec![3; 16],
            span_id: vec![4; 8],
            trace_state: mark(),
            attributes: vec![kv(mark(), mark())],
            ..Default::default()
        }],
        status: Some(Status {
            message: mark(),
            code: 2,
        }),
        ..Default::default()
    };
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name".into(), mark()), kv(mark(), mark())],
                entity_refs: vec![EntityRef {
                    schema_url: mark(),
                    r#type: mark(),
                    id_keys: vec![mark()],
                    description_keys: vec![mark()],
                }],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: mark(),
                    version: mark(),
                    attributes: vec![kv(mark(), mark())],
                    dropped_attributes_count: 0,
                }),
                spans: vec![span],
                schema_url: mark(),
            }],
            schema_url: mark(),
        }],
    };
    let body = req.encode_to_vec();
    let marks = n;
    let agree = |data: &[u8]| {
        if let Err(e) = compare(
            data,
            crate::receiver::spans_fuzz::schema(),
            None,
            &Limits::default(),
        ) {
            panic!("{e}\ninput: {data:02x?}");
        }
    };
    agree(&body);
    let not_utf8: [&[u8]; 5] = [
        &[0x80],
        &[0xff],
        &[0xc3, 0x28],
        &[0xc0, 0x80],
        &[0xed, 0xa0, 0x80],
    ];
    for i in 1..=marks {
        let marker = format!("#{i:02}");
        let at = body
            .windows(3)
            .position(|w| w == marker.as_bytes())
            .unwrap_or_else(|| panic!("{marker} is in the request"));
        let len = 3 + i * 7 % 61;
        // Bytes replaced in place, the field's length kept: at its start, its middle and its
        // end.
        for place in [at, at + len / 2, at + len - 1] {
            for bytes in not_utf8 {
                let place = place.min(at + len - bytes.len());
                let mut data = body.clone();
                data[place..place + bytes.len()].copy_from_slice(bytes);
                assert!(
                    ExportTraceServiceRequest::decode(&data[..]).is_err(),
                    "{marker}: {data:02x?}"
                );
                agree(&data);
            }
            if len >= 2 {
                let place = place.min(at + len - 2);
                let mut data = body.clone();
                data[place..place + 2].copy_from_slice("é".as_bytes());
                assert!(ExportTraceServiceRequest::decode(&data[..]).is_ok());
                agree(&data);
            }
        }
    }
}
