//! The cluster binding on the wire against the decoding path (decode, check, bind, encode):
//! requests of the OTLP trace, resource and common protos' shapes, encoded by prost (the
//! bytes must then be the same as the decoding path's) and then sent as the encoding allows
//! (resources in several copies or after their spans, unknown fields at every level read,
//! a key sent twice: the decoded messages must then be the same); and the reserved
//! clusters looked up in the resources against the decoding path's refusal.

use std::collections::HashSet;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use prost::Message;
use prost::encoding::encode_varint;

use super::bind_wire::names_reserved;
use super::fuzz::{ATTR, CLUSTER, bound_on_wire, decoded_and_bound};
use super::spans_fuzz::item_limits;
use super::{Format, decode_checked};
use crate::attr::kv;
use crate::config::Limits;
use crate::slo::facts::wire::check_spans_naming;
use crate::test_otlp::wire_field as field;

/// Keys a backend reads as the cluster attribute's label, and keys it does not.
const LABEL_KEYS: [&str; 5] = [
    "k8s.cluster.name",
    "k8s_cluster_name",
    "k8s-cluster-name",
    "k8s/cluster/name",
    "k8s cluster name",
];
const OTHER_KEYS: [&str; 7] = [
    "K8s.Cluster.Name",
    "k8s.cluster.name ",
    "k8s.cluster",
    "service.name",
    "k",
    "",
    "ключ",
];

fn value(rng: &mut fastrand::Rng) -> Option<AnyValue> {
    let value = match rng.u8(0..8) {
        0 => return None,
        1 => None,
        2 => Some(Value::IntValue(rng.i64(..))),
        3 => Some(Value::ArrayValue(ArrayValue {
            values: vec![AnyValue {
                value: Some(Value::StringValue("a".into())),
            }],
        })),
        4 => Some(Value::StringValue(String::new())),
        // A big value: 64 KiB, whose length takes a three-byte varint.
        5 => Some(Value::StringValue("v".repeat(64 << 10))),
        _ => Some(Value::StringValue(
            ["a", "b", "seoul", "bound", "서울"][rng.usize(..5)].into(),
        )),
    };
    Some(AnyValue { value })
}

fn attribute(rng: &mut fastrand::Rng, label: bool) -> KeyValue {
    let key = if label {
        LABEL_KEYS[rng.usize(..LABEL_KEYS.len())]
    } else {
        OTHER_KEYS[rng.usize(..OTHER_KEYS.len())]
    };
    KeyValue {
        key: key.into(),
        value: value(rng),
        ..Default::default()
    }
}

/// Resource attributes: none, one or several naming the label, among others.
fn resource_attributes(rng: &mut fastrand::Rng) -> Vec<KeyValue> {
    (0..rng.usize(0..6))
        .map(|_| {
            let label = rng.u8(0..3) == 0;
            attribute(rng, label)
        })
        .collect()
}

fn resource(rng: &mut fastrand::Rng) -> Option<Resource> {
    match rng.u8(0..6) {
        0 => None,
        1 => Some(Resource::default()),
        _ => Some(Resource {
            attributes: resource_attributes(rng),
            dropped_attributes_count: rng.u32(..3),
            entity_refs: (0..rng.usize(0..2))
                .map(|_| EntityRef {
                    r#type: "k8s.pod".into(),
                    id_keys: vec!["k8s.pod.uid".into()],
                    ..Default::default()
                })
                .collect(),
        }),
    }
}

/// A span that passes the per-item rules; `label` puts a key of the label on its
/// attributes, an event's or a link's.
fn span(rng: &mut fastrand::Rng, n: u8, label: bool) -> Span {
    let attrs = |rng: &mut fastrand::Rng| -> Vec<KeyValue> {
        (0..rng.usize(0..3))
            .map(|_| attribute(rng, false))
            .collect()
    };
    let mut s = Span {
        trace_id: vec![n.max(1); 16],
        span_id: vec![n.max(1); 8],
        name: "GET /".into(),
        kind: 2,
        start_time_unix_nano: 1_000,
        end_time_unix_nano: 2_000,
        attributes: attrs(rng),
        events: (0..rng.usize(0..2))
            .map(|_| span::Event {
                name: "e".into(),
                attributes: attrs(rng),
                ..Default::default()
            })
            .collect(),
        links: (0..rng.usize(0..2))
            .map(|_| span::Link {
                trace_id: vec![3; 16],
                span_id: vec![4; 8],
                attributes: attrs(rng),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    if label {
        let kv = attribute(rng, true);
        match rng.u8(0..3) {
            0 => s.attributes.push(kv),
            1 => s.events.push(span::Event {
                attributes: vec![kv],
                ..Default::default()
            }),
            _ => s.links.push(span::Link {
                trace_id: vec![3; 16],
                span_id: vec![4; 8],
                attributes: vec![kv],
                ..Default::default()
            }),
        }
    }
    s
}

/// A request; with `label`, one key of the label below the resources (a scope's, a
/// span's, an event's or a link's).
fn request(rng: &mut fastrand::Rng, label: bool) -> ExportTraceServiceRequest {
    let mut req = ExportTraceServiceRequest {
        resource_spans: (0..rng.usize(1..4))
            .map(|_| ResourceSpans {
                resource: resource(rng),
                scope_spans: (0..rng.usize(0..3))
                    .map(|_| ScopeSpans {
                        scope: rng.bool().then(|| InstrumentationScope {
                            name: "lib".into(),
                            attributes: vec![attribute(rng, false)],
                            ..Default::default()
                        }),
                        spans: (0..rng.usize(0..4))
                            .map(|i| span(rng, i as u8, false))
                            .collect(),
                        schema_url: "s".into(),
                    })
                    .collect(),
                schema_url: if rng.bool() {
                    "https://x/1".into()
                } else {
                    String::new()
                },
            })
            .collect(),
    };
    if label {
        let rs = rng.usize(..req.resource_spans.len());
        let kv = attribute(rng, true);
        let scope_spans = &mut req.resource_spans[rs].scope_spans;
        if rng.bool() {
            scope_spans.push(ScopeSpans {
                scope: Some(InstrumentationScope {
                    attributes: vec![kv],
                    ..Default::default()
                }),
                ..Default::default()
            });
        } else {
            scope_spans.push(ScopeSpans {
                spans: vec![span(rng, 9, true)],
                ..Default::default()
            });
        }
    }
    req
}

#[test]
fn bound_on_the_wire_is_the_decoding_path_byte_for_byte() {
    let mut rng = fastrand::Rng::with_seed(32);
    let mut rewritten = 0;
    for _ in 0..400 {
        let req = request(&mut rng, false);
        let body = req.encode_to_vec();
        let want = decoded_and_bound(&body).expect("the decoding path takes the request");
        let got = bound_on_wire(&body).expect("bound on the wire");
        assert_eq!(got, want.encode_to_vec(), "{req:?}");
        assert_eq!(ExportTraceServiceRequest::decode(&got[..]).unwrap(), want);
        rewritten += 1;
    }
    assert_eq!(rewritten, 400);
}

#[test]
fn a_label_below_the_resources_takes_the_decoding_path() {
    let mut rng = fastrand::Rng::with_seed(33);
    let limits = Limits::default();
    for _ in 0..200 {
        let body = request(&mut rng, true).encode_to_vec();
        assert!(decoded_and_bound(&body).is_some());
        assert_eq!(bound_on_wire(&body), None);
        let rewritten = super::bind_wire::bind_spans(
            &body,
            ATTR,
            &super::bind_wire::bound_attribute(ATTR, CLUSTER),
            limits.max_attributes_per_item,
        )
        .unwrap();
        let (found, _) = check_spans_naming(&rewritten, &item_limits(&limits), ATTR, None).unwrap();
        assert!(found.clean && found.names_label);
    }
}

/// Fields of numbers no OTLP message here has, one of each wire type (a group too).
fn unknown(rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut out = Vec::new();
    let tag = u64::from(rng.u32(20..3000));
    match rng.u8(0..5) {
        0 => {
            encode_varint(tag << 3, &mut out);
            encode_varint(rng.u64(..), &mut out);
        }
        1 => {
            encode_varint(tag << 3 | 1, &mut out);
            out.extend_from_slice(&rng.u64(..).to_le_bytes());
        }
        2 => {
            encode_varint(tag << 3 | 5, &mut out);
            out.extend_from_slice(&rng.u32(..).to_le_bytes());
        }
        3 => out = field(tag as u32, b"\x0a\x01a"),
        _ => {
            encode_varint(tag << 3 | 3, &mut out);
            out.extend(field(1, b"k8s.cluster.name"));
            encode_varint(tag << 3 | 4, &mut out);
        }
    }
    out
}

/// `kv` encoded as a sender may: with unknown fields, or its key sent twice (the last
/// one is the key).
fn noisy_attribute(rng: &mut fastrand::Rng, kv: &KeyValue) -> Vec<u8> {
    let mut out = kv.encode_to_vec();
    match rng.u8(0..4) {
        0 => out.extend(unknown(rng)),
        1 => {
            let first = if rng.bool() { "k8s_cluster_name" } else { "x" };
            let mut key = field(1, first.as_bytes());
            key.extend(out);
            out = key;
        }
        _ => {}
    }
    out
}

/// A `ResourceSpans` encoded as a sender may: its resource split in copies (merged by
/// decoding), placed before, between or after the scope spans, with unknown fields.
fn noisy_entry(rng: &mut fastrand::Rng, rs: &ResourceSpans) -> Vec<u8> {
    let mut fields: Vec<Vec<u8>> = rs
        .scope_spans
        .iter()
        .map(|ss| field(2, &ss.encode_to_vec()))
        .collect();
    if !rs.schema_url.is_empty() {
        fields.push(field(3, rs.schema_url.as_bytes()));
    }
    if let Some(r) = &rs.resource {
        let copies = rng.usize(1..4);
        let mut parts: Vec<Vec<u8>> = vec![Vec::new(); copies];
        for kv in &r.attributes {
            parts[rng.usize(..copies)].extend(field(1, &noisy_attribute(rng, kv)));
        }
        let rest = Resource {
            dropped_attributes_count: r.dropped_attributes_count,
            entity_refs: r.entity_refs.clone(),
            ..Default::default()
        };
        parts[rng.usize(..copies)].extend(rest.encode_to_vec());
        if rng.bool() {
            parts[rng.usize(..copies)].extend(unknown(rng));
        }
        // Copies in order among the other fields: decoding merges them in order.
        let mut at = 0;
        for part in parts {
            at = rng.usize(at..=fields.len());
            fields.insert(at, field(1, &part));
            at += 1;
        }
    }
    if rng.bool() {
        let at = rng.usize(..=fields.len());
        fields.insert(at, unknown(rng));
    }
    fields.concat()
}

#[test]
fn bound_on_the_wire_decodes_as_the_decoding_path_however_it_was_sent() {
    let mut rng = fastrand::Rng::with_seed(34);
    for _ in 0..400 {
        let req = request(&mut rng, false);
        let mut body = Vec::new();
        for rs in &req.resource_spans {
            if rng.u8(0..4) == 0 {
                body.extend(unknown(&mut rng));
            }
            body.extend(field(1, &noisy_entry(&mut rng, rs)));
        }
        let want = decoded_and_bound(&body).expect("the decoding path takes the request");
        let got = bound_on_wire(&body).expect("bound on the wire");
        assert_eq!(
            ExportTraceServiceRequest::decode(&got[..]).unwrap(),
            want,
            "input: {body:02x?}"
        );
    }
}

#[test]
fn what_prost_refuses_is_not_bound_on_the_wire() {
    let good = kv("service.name", "checkout").encode_to_vec();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // The cluster attribute (removed by the binding) with a value that is not UTF-8.
        ("value not UTF-8", {
            let mut kv = field(1, ATTR.as_bytes());
            kv.extend(field(2, &field(1, b"\xff\xfe")));
            kv
        }),
        // Its key sent twice, the first not UTF-8.
        ("first key not UTF-8", {
            let mut kv = field(1, b"\xff");
            kv.extend(field(1, ATTR.as_bytes()));
            kv
        }),
        // Its value truncated.
        ("value truncated", {
            let mut kv = field(1, ATTR.as_bytes());
            kv.extend([0x12, 0x05, 0x0a]);
            kv
        }),
    ];
    for (what, bad) in cases {
        let mut resource = field(1, &good);
        resource.extend(field(1, &bad));
        let body = field(1, &field(1, &resource));
        assert!(decoded_and_bound(&body).is_none(), "{what}");
        assert_eq!(bound_on_wire(&body), None, "{what}");
    }
    // The cluster attribute nested as deep as prost allows at that place, then one deeper.
    let nested = |depth: usize| {
        let mut value = field(1, b"x");
        for _ in 0..depth {
            value = field(5, &field(1, &value));
        }
        let mut kv = field(1, ATTR.as_bytes());
        kv.extend(field(2, &value));
        field(1, &field(1, &field(1, &kv)))
    };
    let deepest = (0..60)
        .rev()
        .find(|d| decoded_and_bound(&nested(*d)).is_some())
        .expect("some depth decodes");
    assert!(bound_on_wire(&nested(deepest)).is_some());
    assert!(decoded_and_bound(&nested(deepest + 1)).is_none());
    assert_eq!(bound_on_wire(&nested(deepest + 1)), None);
    // A resource over the attribute limit is refused whole by the decoding path, even when
    // the binding would leave fewer.
    let limits = Limits::default();
    let attrs: Vec<KeyValue> = (0..=limits.max_attributes_per_item)
        .map(|i| kv(if i < 2 { ATTR } else { "k" }, "x"))
        .collect();
    let body = ExportTraceServiceRequest {
        resource_spans: vec![crate::test_otlp::resource_spans(
            attrs,
            vec![span(&mut fastrand::Rng::with_seed(1), 1, false)],
        )],
    }
    .encode_to_vec();
    assert!(decoded_and_bound(&body).is_none());
    assert_eq!(bound_on_wire(&body), None);
}

fn reserved() -> HashSet<Arc<str>> {
    ["a", "seoul"].into_iter().map(Arc::from).collect()
}

/// Whether the decoding path refuses a resource of `body` for naming a reserved cluster.
fn decoding_refuses(body: &[u8]) -> bool {
    let reserved: Vec<Arc<str>> = reserved().into_iter().collect();
    let (_, checked) = decode_checked::<ExportTraceServiceRequest>(
        body,
        Format::Protobuf,
        &Limits::default(),
        None,
        (ATTR, &reserved),
    )
    .expect("decodes");
    checked.rejected > 0
}

#[test]
fn reserved_clusters_are_looked_up_in_the_resources_only() {
    let mut rng = fastrand::Rng::with_seed(35);
    let (mut named, mut not) = (0, 0);
    for _ in 0..600 {
        let label = rng.bool();
        let req = request(&mut rng, label);
        let body = req.encode_to_vec();
        if names_reserved(&body, ATTR, &reserved()) {
            named += 1;
        } else {
            // Read on the wire: the decoding path would have refused nothing.
            assert!(!decoding_refuses(&body), "{req:?}");
            not += 1;
        }
        // A resource the decoding path refuses is always found.
        if decoding_refuses(&body) {
            assert!(names_reserved(&body, ATTR, &reserved()));
        }
    }
    assert!(named > 50 && not > 50, "{named} named, {not} not");
    let one = |attrs: Vec<KeyValue>| {
        ExportTraceServiceRequest {
            resource_spans: vec![crate::test_otlp::resource_spans(attrs, vec![])],
        }
        .encode_to_vec()
    };
    let names = |body: &[u8]| names_reserved(body, ATTR, &reserved());
    assert!(names(&one(vec![kv(ATTR, "a")])));
    assert!(names(&one(vec![kv("k8s_cluster_name", "seoul")])));
    // The reserved name elsewhere in the request, under other keys or as other types.
    let mut elsewhere = ExportTraceServiceRequest {
        resource_spans: vec![crate::test_otlp::resource_spans(
            vec![
                kv("service.name", "a"),
                kv(ATTR, "b"),
                kv("K8s.Cluster.Name", "a"),
            ],
            vec![Span {
                name: "a".into(),
                attributes: vec![kv(ATTR, "a")],
                ..span(&mut rng, 1, false)
            }],
        )],
    };
    assert!(!names(&elsewhere.encode_to_vec()));
    elsewhere.resource_spans[0]
        .resource
        .as_mut()
        .unwrap()
        .attributes
        .push(kv(ATTR, 7_i64));
    assert!(!names(&elsewhere.encode_to_vec()));
    assert!(!names(&[]));
    assert!(!names_reserved(
        &one(vec![kv(ATTR, "a")]),
        ATTR,
        &HashSet::new()
    ));
    // Resources that do not frame as prost reads them take the decoding path.
    assert!(names(&[0x0a, 0x05, 0x0a]));
}
