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
use super::kernels::{Rows, path_vs_literal};
use super::{FactsSchema, SpanFacts};
use crate::slo::ottl::ast::{CmpOp, Lit, Operand, Path, Val, compare};
use crate::slo::ottl::{AttrRef, Condition, ConditionTarget, Use};

const OPS: [CmpOp; 6] = [
    CmpOp::Eq,
    CmpOp::Ne,
    CmpOp::Lt,
    CmpOp::Le,
    CmpOp::Gt,
    CmpOp::Ge,
];

pub(super) fn value(rng: &mut fastrand::Rng) -> Option<Value> {
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

pub(super) fn attributes(rng: &mut fastrand::Rng, key: &str) -> Vec<KeyValue> {
    (0..rng.usize(0..3))
        .map(|_| KeyValue {
            key: [key, "other"][rng.usize(..2)].into(),
            value: value(rng).map(|v| AnyValue { value: Some(v) }),
            ..Default::default()
        })
        .collect()
}

/// A resource's spans, in one scope.
pub(super) fn resource_spans(attributes: Vec<KeyValue>, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: Some(Resource {
            attributes,
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            spans,
            ..Default::default()
        }],
        ..Default::default()
    }
}

pub(super) fn request(rng: &mut fastrand::Rng) -> ExportTraceServiceRequest {
    let resource_spans = (0..rng.usize(1..4))
        .map(|_| {
            let resource_attrs = attributes(rng, "r");
            let spans = (0..rng.usize(0..90))
                .map(|_| {
                    let start = rng.u64(..1_000_000_000);
                    Span {
                        name: ["", "GET /", "POST /pay", "a"][rng.usize(..4)].into(),
                        kind: rng.i32(-1..10),
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
                .collect();
            resource_spans(resource_attrs, spans)
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

/// A request whose every span has the same name, kind, status, duration and attribute
/// value (or none), under resources with the same attribute value (or none): each column
/// holds one value (its least and greatest alike), or none, or no rows at all.
pub(super) fn uniform_request(rng: &mut fastrand::Rng) -> ExportTraceServiceRequest {
    let name = ["", "a", "GET /"][rng.usize(..3)];
    let kind = [0, 2, i32::MIN, i32::MAX][rng.usize(..4)];
    let status = rng.bool().then(|| Status {
        code: [0, 2, 99][rng.usize(..3)],
        message: String::new(),
    });
    let duration = [0, 1, u64::MAX][rng.usize(..3)];
    let kv = |key: &str, value: Option<Value>| KeyValue {
        key: key.into(),
        value: value.map(|v| AnyValue { value: Some(v) }),
        ..Default::default()
    };
    let extremes = [
        Value::IntValue(i64::MIN),
        Value::IntValue(i64::MAX),
        Value::BoolValue(false),
        Value::BoolValue(true),
        Value::StringValue(String::new()),
    ];
    let a = match rng.u8(..3) {
        0 => None,
        1 => Some(extremes[rng.usize(..extremes.len())].clone()),
        _ => value(rng),
    };
    let r = value(rng);
    let resource_spans = (0..rng.usize(1..3))
        .map(|_| {
            let spans = (0..[0, 1, 64, 65, 130][rng.usize(..5)])
                .map(|_| {
                    let start = rng.u64(..1_000_000_000);
                    Span {
                        name: name.into(),
                        kind,
                        start_time_unix_nano: start,
                        end_time_unix_nano: start.saturating_add(duration),
                        status: status.clone(),
                        attributes: a.iter().map(|v| kv("a", Some(v.clone()))).collect(),
                        ..Default::default()
                    }
                })
                .collect();
            resource_spans(r.iter().map(|v| kv("r", Some(v.clone()))).collect(), spans)
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

/// Span conditions parsed, and the facts schema that reads what they read.
fn parsed(texts: &[&str]) -> (Vec<Condition>, FactsSchema) {
    let conditions: Vec<Condition> = texts
        .iter()
        .map(|t| Condition::parse(t, ConditionTarget::Span).unwrap())
        .collect();
    let mut schema = FactsSchema::default();
    conditions.iter().for_each(|c| schema.add_condition(c));
    (conditions, schema)
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
            i64::from(i32::MAX),
            i64::from(i32::MIN),
            i64::MIN,
            i64::MAX,
            99,
        ]
        .map(Lit::Int),
    );
    lits.extend([0.0, -0.0, 0.5, 499.5, 500.0, f64::INFINITY, f64::NAN].map(Lit::Float));
    lits.extend(["", "a", "GET /", "b", "é"].map(|s| Lit::Str(s.into())));
    lits.extend([0, 1, 250_000_000, u64::MAX - 1, u64::MAX].map(Lit::Duration));
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

/// Every path, operator and literal: the loop's answer (or the answer known without one)
/// is the general kernels' answer, and (with every typed column built) OTTL's row by row;
/// on random requests and on requests whose columns each hold one value, none, or no rows.
#[test]
fn one_loop_comparisons_answer_as_the_general_kernels_and_ottl() {
    let mut rng = fastrand::Rng::with_seed(20);
    let mut taken = 0;
    let mut every = 0;
    for round in 0..48 {
        let req = if round < 24 {
            request(&mut rng)
        } else {
            uniform_request(&mut rng)
        };
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
        let rows = rows_of(&req);
        for path in paths() {
            for lit in literals() {
                for op in OPS {
                    let general = compare_general(&facts, &path, op, &Operand::Lit(lit.clone()));
                    let Some(fast) = path_vs_literal(&facts, &path, op, &lit) else {
                        continue;
                    };
                    taken += 1;
                    let what = format!("{path:?} {op:?} {lit:?} ({uses:?}, {} rows)", rows.len());
                    match &fast {
                        Rows::Every(_) => every += 1,
                        // Bits are never all set or all unset.
                        Rows::Bits(bits) => {
                            let set = bits.count_set_bits();
                            assert!(set > 0 && set < bits.len(), "{what}");
                        }
                    }
                    let fast = fast.into_bits(facts.len());
                    assert_eq!(fast.len(), rows.len(), "{what}");
                    assert_eq!(&fast, general.values(), "{what}");
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
    assert!(taken > 48 * 6 * 30, "{taken}");
    assert!(every > taken / 10, "{every} of {taken}");
}

/// The rows of a request in the facts' order, with their resources.
pub(super) fn rows_of(req: &ExportTraceServiceRequest) -> Vec<(&Span, Option<&Resource>)> {
    req.resource_spans
        .iter()
        .flat_map(|r| {
            r.scope_spans[0]
                .spans
                .iter()
                .map(|s| (s, r.resource.as_ref()))
        })
        .collect()
}

/// Comparisons whose answer the type's range (or a column of one value) gives are answered
/// without a pass, on any request: every row, or every row with a value of the type.
#[test]
fn comparisons_the_range_decides_take_no_pass() {
    let mut rng = fastrand::Rng::with_seed(5);
    let a = Path::Attr(AttrRef::Item("a".into()));
    for round in 0..40 {
        // Without the `.float` column, which an int literal also meets.
        let mut schema = FactsSchema::default();
        schema.add(
            AttrRef::Item("a".into()),
            Use(Use::STR.0 | Use::INT.0 | Use::BOOL.0),
        );
        let req = if round % 2 == 0 {
            request(&mut rng)
        } else {
            uniform_request(&mut rng)
        };
        let facts = SpanFacts::build(&req, None, "c", &schema);
        let every = |path: &Path, op, lit: Lit, answer: bool| {
            let rows = path_vs_literal(&facts, path, op, &lit);
            assert!(
                matches!(rows, Some(Rows::Every(b)) if b == answer),
                "{path:?} {op:?} {lit:?}: {rows:?}"
            );
        };
        every(&Path::Duration, CmpOp::Ge, Lit::Duration(0), true);
        every(&Path::Duration, CmpOp::Lt, Lit::Duration(0), false);
        every(&Path::Duration, CmpOp::Le, Lit::Duration(u64::MAX), true);
        every(&Path::Duration, CmpOp::Gt, Lit::Duration(u64::MAX), false);
        every(
            &Path::Kind,
            CmpOp::Ne,
            Lit::Int(i64::from(i32::MAX) + 1),
            true,
        );
        every(&Path::Kind, CmpOp::Ge, Lit::Int(i64::from(i32::MIN)), true);
        every(
            &Path::StatusCode,
            CmpOp::Gt,
            Lit::Int(i64::from(i32::MAX)),
            false,
        );
        every(&Path::StatusCode, CmpOp::Lt, Lit::Int(i64::MIN), false);
        every(&Path::Name, CmpOp::Ge, Lit::Str(String::new()), true);
        every(&Path::Name, CmpOp::Lt, Lit::Str(String::new()), false);
        // An attribute: the rows with a value of the type, without comparing them.
        for (lit, op) in [
            (Lit::Int(i64::MIN), CmpOp::Ge),
            (Lit::Int(i64::MAX), CmpOp::Le),
            (Lit::Bool(false), CmpOp::Ge),
            (Lit::Str(String::new()), CmpOp::Ge),
        ] {
            let rows = path_vs_literal(&facts, &a, op, &lit).unwrap();
            let columns = facts.attr_columns(&AttrRef::Item("a".into())).unwrap();
            let column = match lit {
                Lit::Int(_) => &columns.int,
                Lit::Bool(_) => &columns.bool,
                _ => &columns.str,
            };
            let valid = column.as_ref().unwrap().logical_nulls();
            let expected = valid.map_or_else(
                || arrow_buffer::BooleanBuffer::new_set(facts.len()),
                |n| n.inner().clone(),
            );
            assert_eq!(rows.into_bits(facts.len()), expected, "{lit:?}");
        }
    }
    // A column of one value: `==` it holds on every row, `!=` on none.
    let mut schema = FactsSchema::default();
    schema.add(AttrRef::Item("a".into()), Use::ANY);
    let span = |name: &str| Span {
        name: name.into(),
        ..Default::default()
    };
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span(""), span("")],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let facts = SpanFacts::build(&req, None, "c", &schema);
    let empty = Lit::Str(String::new());
    let rows = path_vs_literal(&facts, &Path::Name, CmpOp::Eq, &empty);
    assert!(matches!(rows, Some(Rows::Every(true))), "{rows:?}");
    let rows = path_vs_literal(&facts, &Path::Name, CmpOp::Le, &empty);
    assert!(matches!(rows, Some(Rows::Every(true))), "{rows:?}");
}

/// `and`, `or` and `not` of rows (bitmaps, or the same answer on every row) are those of
/// the bits, and a bitmap whose bits are all alike becomes one answer; bitmaps at an offset
/// (sliced facts) and of every length around the words'.
#[test]
fn rows_combine_as_their_bits() {
    use arrow_buffer::BooleanBuffer;
    let mut rng = fastrand::Rng::with_seed(11);
    for n in (0..140).chain([511, 512, 513]) {
        for _ in 0..6 {
            let mut random = || {
                let density = [0, 1, 50, 99, 100][rng.usize(..5)];
                let offset = rng.usize(..9);
                let bits = BooleanBuffer::collect_bool(offset + n, |_| rng.u8(..100) < density);
                bits.slice(offset, n)
            };
            let (a, b) = (random(), random());
            let (ra, rb) = (Rows::of(a.clone()), Rows::of(b.clone()));
            for rows in [&ra, &rb] {
                if let Rows::Bits(bits) = rows {
                    let set = bits.count_set_bits();
                    assert!(set > 0 && set < n, "{n}");
                }
            }
            let all = |bits: &BooleanBuffer| bits.count_set_bits() == n;
            assert_eq!(matches!(ra, Rows::Every(true)), n > 0 && all(&a), "{n}");
            assert_eq!(ra.clone().into_bits(n), a, "{n}");
            assert_eq!(ra.clone().not().into_bits(n), !&a, "{n}");
            assert_eq!(ra.clone().and(rb.clone()).into_bits(n), &a & &b, "{n}");
            assert_eq!(ra.clone().or(rb.clone()).into_bits(n), &a | &b, "{n}");
        }
    }
}

/// Conditions of every shape over requests whose columns hold one value (so comparisons
/// answer alike on every row and `and`, `or`, `not` take their shortcuts) and random ones:
/// the Arrow evaluator answers as OTTL row by row.
#[test]
fn conditions_with_uniform_sides_answer_as_ottl() {
    let texts = [
        r#"resource.attributes["r"] != "" and kind != SPAN_KIND_UNSPECIFIED"#,
        r#"status.code == STATUS_CODE_ERROR or attributes["a"] >= 500"#,
        "duration >= 0ms and status.code != 99",
        "duration >= 0ms or status.code != 99",
        "not (duration >= 0ms) or name != \"\"",
        "not (duration < 0ms) and name == \"\"",
        r#"name >= "" and (kind == SPAN_KIND_SERVER or attributes["a"] == true)"#,
        r#"attributes["a"] >= -9223372036854775808 or attributes["a"] == nil"#,
        r#"not (attributes["a"] <= 9223372036854775807) and kind > 2147483647"#,
        r#"resource.attributes["r"] >= "" or status.code < -2147483648"#,
        r#"attributes["a"] >= false and not (name < "")"#,
        r#"(kind != 0 and status.code != 99) or (duration > 1ms and name != "a")"#,
    ];
    let (conditions, schema) = parsed(&texts);
    let mut rng = fastrand::Rng::with_seed(13);
    for round in 0..80 {
        let req = if round % 4 == 0 {
            request(&mut rng)
        } else {
            uniform_request(&mut rng)
        };
        let facts = SpanFacts::build(&req, None, "c", &schema);
        let rows = rows_of(&req);
        for condition in &conditions {
            let batch = condition.eval_batch(&facts);
            assert_eq!(batch.len(), rows.len());
            assert_eq!(batch.null_count(), 0);
            for (i, (span, resource)) in rows.iter().enumerate() {
                let expected = condition.eval_span(span, *resource);
                assert_eq!(batch.value(i), expected, "row {i}: {}", condition.text());
            }
        }
    }
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
    let (conditions, schema) = parsed(&texts);
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
