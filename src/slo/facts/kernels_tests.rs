//! The one-loop comparisons (`kernels.rs`) against the general Arrow kernels and against
//! OTTL's row-by-row comparison, on random requests: every path a literal can meet, every
//! operator, literals at the edges of each type (ints beyond `i32`, `-0.0`, infinities,
//! the empty string), attribute values of every type (and none), resource attributes as
//! dictionaries, and schemas that build only some of an attribute's typed columns.

use arrow_array::Array as _;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::eval::compare_general;
use super::kernels::path_vs_literal;
use super::{FactsSchema, SpanFacts};
use crate::slo::ottl::ast::{CmpOp, Lit, Operand, Path, Val, compare};
use crate::slo::ottl::{AttrRef, Use};

const OPS: [CmpOp; 6] = [
    CmpOp::Eq,
    CmpOp::Ne,
    CmpOp::Lt,
    CmpOp::Le,
    CmpOp::Gt,
    CmpOp::Ge,
];

fn value(rng: &mut fastrand::Rng) -> Option<Value> {
    Some(match rng.u8(0..9) {
        0 => return None,
        1 => Value::StringValue(["", "a", "b", "GET /", "é"][rng.usize(..5)].into()),
        2 => Value::IntValue(
            [0, -1, 2, 200, 500, 503, i64::from(i32::MAX) + 1, i64::MIN][rng.usize(..8)],
        ),
        3 => Value::DoubleValue(
            [0.5, -0.0, 0.0, 500.0, f64::NAN, f64::INFINITY, -1e300][rng.usize(..7)],
        ),
        4 => Value::BoolValue(rng.bool()),
        5 => Value::BytesValue(vec![1, 2]),
        // The most common case: a status code.
        _ => Value::IntValue([200, 404, 500, 503][rng.usize(..4)]),
    })
}

fn attributes(rng: &mut fastrand::Rng, key: &str) -> Vec<KeyValue> {
    (0..rng.usize(0..3))
        .map(|_| KeyValue {
            key: [key, "other"][rng.usize(..2)].into(),
            value: value(rng).map(|v| AnyValue { value: Some(v) }),
            ..Default::default()
        })
        .collect()
}

fn request(rng: &mut fastrand::Rng) -> ExportTraceServiceRequest {
    let resource_spans = (0..rng.usize(1..4))
        .map(|_| ResourceSpans {
            resource: Some(Resource {
                attributes: attributes(rng, "r"),
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: (0..rng.usize(0..90))
                    .map(|_| {
                        let start = rng.u64(..1_000_000_000);
                        Span {
                            name: ["", "GET /", "POST /pay", "a"][rng.usize(..4)].into(),
                            kind: rng.i32(-1..6),
                            start_time_unix_nano: start,
                            end_time_unix_nano: start + rng.u64(..600_000_000),
                            status: rng.bool().then(|| Status {
                                code: rng.i32(0..3),
                                message: String::new(),
                            }),
                            attributes: attributes(rng, "a"),
                            ..Default::default()
                        }
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

fn literals() -> Vec<Lit> {
    let mut lits = vec![Lit::Nil, Lit::Bool(false), Lit::Bool(true)];
    lits.extend(
        [
            0,
            -1,
            1,
            2,
            500,
            i64::from(i32::MAX) + 1,
            i64::from(i32::MIN) - 1,
            i64::MIN,
        ]
        .map(Lit::Int),
    );
    lits.extend([0.0, -0.0, 0.5, 499.5, 500.0, f64::INFINITY, f64::NAN].map(Lit::Float));
    lits.extend(["", "a", "GET /", "b", "é"].map(|s| Lit::Str(s.into())));
    lits.extend([0, 1, 250_000_000, u64::MAX].map(Lit::Duration));
    lits
}

fn paths() -> Vec<Path> {
    vec![
        Path::Name,
        Path::Kind,
        Path::StatusCode,
        Path::Duration,
        Path::Attr(AttrRef::Item("a".into())),
        Path::Attr(AttrRef::Resource("r".into())),
        Path::Attr(AttrRef::Item("never.set".into())),
    ]
}

/// A row's value of `path`, as OTTL's row-by-row evaluator reads it.
fn row_value<'a>(span: &'a Span, resource: Option<&'a Resource>, path: &Path) -> Val<'a> {
    let first = |attributes: &'a [KeyValue], key: &str| {
        attributes
            .iter()
            .find(|kv| kv.key == key)
            .map_or(Val::Nil, |kv| Val::of(kv.value.as_ref()))
    };
    match path {
        Path::Name => Val::Str(&span.name),
        Path::Kind => Val::Int(span.kind.into()),
        Path::StatusCode => Val::Int(span.status.as_ref().map_or(0, |s| s.code).into()),
        Path::Duration => Val::Duration(
            span.end_time_unix_nano
                .saturating_sub(span.start_time_unix_nano),
        ),
        Path::Attr(AttrRef::Item(k)) => first(&span.attributes, k),
        Path::Attr(AttrRef::Resource(k)) => first(resource.map_or(&[], |r| &r.attributes), k),
        _ => Val::Nil,
    }
}

/// Every path, operator and literal: the loop's answer is the general kernels' answer,
/// and (with every typed column built) OTTL's row by row.
#[test]
fn one_loop_comparisons_answer_as_the_general_kernels_and_ottl() {
    let mut rng = fastrand::Rng::with_seed(20);
    let mut taken = 0;
    for round in 0..24 {
        let req = request(&mut rng);
        // Every typed column, or only some (as a schema of numeric comparisons builds).
        let uses = match round % 3 {
            0 => Use::ANY,
            1 => Use(Use::INT.0 | Use::FLOAT.0),
            _ => Use::STR,
        };
        let mut schema = FactsSchema::default();
        schema.add(AttrRef::Item("a".into()), uses);
        schema.add(AttrRef::Resource("r".into()), uses);
        let facts = SpanFacts::build(&req, None, "k8s.cluster.name", &schema);
        let rows: Vec<(&Span, Option<&Resource>)> = req
            .resource_spans
            .iter()
            .flat_map(|r| {
                r.scope_spans[0]
                    .spans
                    .iter()
                    .map(|s| (s, r.resource.as_ref()))
            })
            .collect();
        for path in paths() {
            for lit in literals() {
                for op in OPS {
                    let general = compare_general(&facts, &path, op, &Operand::Lit(lit.clone()));
                    let Some(fast) = path_vs_literal(&facts, &path, op, &lit) else {
                        continue;
                    };
                    taken += 1;
                    let what = format!("{path:?} {op:?} {lit:?} ({uses:?})");
                    assert_eq!(fast.null_count(), 0, "{what}");
                    assert_eq!(fast.len(), rows.len(), "{what}");
                    assert_eq!(fast.values(), general.values(), "{what}");
                    if uses == Use::ANY {
                        for (i, (span, resource)) in rows.iter().enumerate() {
                            let row = compare(row_value(span, *resource, &path), op, lit.val());
                            assert_eq!(fast.value(i), row, "row {i}: {what}");
                        }
                    }
                }
            }
        }
    }
    // Most pairs take the loop (the rest: nil, durations of attributes, mismatched types).
    assert!(taken > 24 * 6 * 30, "{taken}");
}

/// The loop is taken for the common conditions: a fixed column or an attribute against a
/// literal of its type.
#[test]
fn common_comparisons_take_the_loop() {
    let mut schema = FactsSchema::default();
    schema.add(AttrRef::Item("a".into()), Use::ANY);
    let facts = SpanFacts::build(
        &request(&mut fastrand::Rng::with_seed(1)),
        None,
        "c",
        &schema,
    );
    let a = Path::Attr(AttrRef::Item("a".into()));
    for (path, lit) in [
        (Path::Kind, Lit::Int(0)),
        (Path::StatusCode, Lit::Int(2)),
        (Path::Duration, Lit::Duration(0)),
        (Path::Name, Lit::Str(String::new())),
        (a.clone(), Lit::Int(500)),
        (a.clone(), Lit::Float(0.5)),
        (a.clone(), Lit::Str("GET /".into())),
        (a, Lit::Bool(true)),
    ] {
        assert!(
            path_vs_literal(&facts, &path, CmpOp::Ge, &lit).is_some(),
            "{path:?} {lit:?}"
        );
    }
}

/// Conditions evaluated one after another on the same facts (sharing comparisons, which
/// are then evaluated once) answer as each alone on a fresh copy; `0.0` and `-0.0`, equal
/// as floats, are different literals to the kernels and are not shared.
#[test]
fn shared_comparisons_answer_as_each_alone() {
    use crate::slo::ottl::{Condition, ConditionTarget};
    let texts = [
        r#"attributes["a"] == 0.0"#,
        r#"attributes["a"] == -0.0"#,
        r#"attributes["a"] == 0.0 or kind != SPAN_KIND_UNSPECIFIED"#,
        "kind != SPAN_KIND_UNSPECIFIED",
        r#"not (attributes["a"] >= 500) and kind != SPAN_KIND_UNSPECIFIED"#,
        r#"attributes["a"] >= 500"#,
        "status.code == STATUS_CODE_ERROR",
        r#"status.code == STATUS_CODE_ERROR or attributes["a"] >= 500"#,
        r#"resource.attributes["r"] != "" and name != """#,
        r#"resource.attributes["r"] != """#,
        r#"attributes["a"] == nil"#,
    ];
    let conditions: Vec<Condition> = texts
        .iter()
        .map(|t| Condition::parse(t, ConditionTarget::Span).unwrap())
        .collect();
    let mut schema = FactsSchema::default();
    conditions.iter().for_each(|c| schema.add_condition(c));
    let mut rng = fastrand::Rng::with_seed(7);
    let mut zeros_differ = false;
    for _ in 0..40 {
        let facts = SpanFacts::build(&request(&mut rng), None, "c", &schema);
        let shared: Vec<_> = conditions.iter().map(|c| c.eval_batch(&facts)).collect();
        for (c, shared) in conditions.iter().zip(&shared) {
            let alone = c.eval_batch(&facts.clone());
            assert_eq!(shared, &alone, "{}", c.text());
        }
        zeros_differ |= shared[0] != shared[1];
    }
    assert!(zeros_differ, "the requests hold -0.0 and 0.0 values");
}

/// Packed bits are those Arrow's own collection makes, for every length around the words'.
#[test]
fn packed_bits_are_arrows() {
    use super::kernels::{pack, pack_rows};
    use arrow_buffer::BooleanBuffer;
    let mut rng = fastrand::Rng::with_seed(3);
    for n in (0..200).chain([511, 512, 513]) {
        let values: Vec<u8> = (0..n).map(|_| rng.u8(..)).collect();
        let test = |v: &u8| v.is_multiple_of(3);
        let arrow = BooleanBuffer::collect_bool(n, |i| test(&values[i]));
        assert_eq!(pack(&values, test), arrow, "{n}");
        assert_eq!(pack_rows(n, |i| test(&values[i])), arrow, "{n}");
    }
}
