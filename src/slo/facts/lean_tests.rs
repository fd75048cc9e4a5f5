//! Lean facts (`lean.rs`) against the full facts of the same request: for random requests
//! and random conditions of the condition grammar, every condition's rows are the same
//! (and OTTL's, row by row), and so are the columns the engine reads besides.

use prost::Message as _;

use super::kernels_tests::{request, rows_of, uniform_request};
use super::wire::{ItemLimits, check_spans_with_facts};
use super::{FactsSchema, SpanFacts};
use crate::slo::ottl::{Condition, ConditionTarget};

const PATHS: [&str; 7] = [
    "name",
    "kind",
    "status.code",
    "duration",
    "attributes[\"a\"]",
    "resource.attributes[\"r\"]",
    "attributes[\"never.set\"]",
];

const OPS: [&str; 6] = ["==", "!=", "<", "<=", ">", ">="];

const LITERALS: [&str; 26] = [
    "\"\"",
    "\"a\"",
    "\"GET /\"",
    "\"b\"",
    "\"é\"",
    "0",
    "-1",
    "2",
    "99",
    "500",
    "2147483647",
    "2147483648",
    "-2147483649",
    "0.5",
    "-0.0",
    "499.5",
    "500.0",
    "true",
    "false",
    "0ms",
    "250ms",
    "1s",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_UNSPECIFIED",
    "STATUS_CODE_ERROR",
    "nil",
];

/// A random condition of at most `depth` levels of `and`, `or` and `not` over
/// comparisons of a path with a literal (now and then an `IsMatch`, which lean facts do not
/// hold, so the facts are full).
fn condition_text(rng: &mut fastrand::Rng, depth: u32) -> String {
    if depth == 0 || rng.u8(..3) == 0 {
        if rng.u8(..40) == 0 {
            return format!("IsMatch({}, \"a\")", PATHS[rng.usize(..PATHS.len())]);
        }
        return format!(
            "{} {} {}",
            PATHS[rng.usize(..PATHS.len())],
            OPS[rng.usize(..OPS.len())],
            LITERALS[rng.usize(..LITERALS.len())]
        );
    }
    match rng.u8(..3) {
        0 => format!("not ({})", condition_text(rng, depth - 1)),
        1 => format!(
            "({}) and ({})",
            condition_text(rng, depth - 1),
            condition_text(rng, depth - 1)
        ),
        _ => format!(
            "({}) or ({})",
            condition_text(rng, depth - 1),
            condition_text(rng, depth - 1)
        ),
    }
}

/// Conditions that parse (some random ones compare types the grammar refuses).
fn conditions(rng: &mut fastrand::Rng) -> Vec<Condition> {
    let mut out = Vec::new();
    let want = rng.usize(1..6);
    for _ in 0..want * 20 {
        if out.len() == want {
            break;
        }
        let depth = rng.u32(0..4);
        let text = condition_text(rng, depth);
        if let Ok(c) = Condition::parse(&text, ConditionTarget::Span) {
            out.push(c);
        }
    }
    out
}

const LIMITS: ItemLimits = ItemLimits {
    max_attributes: 128,
    max_events: 128,
    max_links: 128,
};

/// The facts of `body` as the receiver reads them (lean when the schema's plan allows)
/// and as read in full.
fn both(body: &[u8], schema: &FactsSchema) -> (SpanFacts, SpanFacts) {
    let (_, lean) = check_spans_with_facts(body, &LIMITS, None, "r", schema, None).unwrap();
    let full = SpanFacts::from_wire(body, None, "r", schema).unwrap();
    (lean, full)
}

#[test]
fn lean_facts_answer_every_condition_as_full_facts_and_ottl() {
    let mut rng = fastrand::Rng::with_seed(26);
    let (mut lean_rounds, mut full_rounds, mut compared) = (0, 0, 0);
    for round in 0..400 {
        let req = if round % 3 == 2 {
            uniform_request(&mut rng)
        } else {
            request(&mut rng)
        };
        let conditions = conditions(&mut rng);
        let schema = FactsSchema::lean_of(&conditions);
        let body = req.encode_to_vec();
        let (lean, full) = both(&body, &schema);
        assert!(!full.is_lean());
        assert_eq!(lean.is_lean(), schema.lean().is_some(), "round {round}");
        if lean.is_lean() {
            lean_rounds += 1;
        } else {
            full_rounds += 1;
        }
        // What the engine reads besides the conditions.
        assert_eq!(lean.len(), full.len());
        assert_eq!(lean.end_time_unix_nano(), full.end_time_unix_nano());
        assert_eq!(lean.duration_nanos(), full.duration_nanos());
        assert_eq!(lean.adjusted_counts(), full.adjusted_counts());
        for row in 0..full.len() {
            assert_eq!(lean.resource_of(row), full.resource_of(row));
            assert_eq!(lean.cluster(row), full.cluster(row));
            assert_eq!(lean.service(row), full.service(row));
            assert_eq!(lean.trace_id(row), full.trace_id(row));
        }
        let rows = rows_of(&req);
        for c in &conditions {
            let (l, f) = (c.eval_batch(&lean), c.eval_batch(&full));
            assert_eq!(l, f, "round {round}: {c:?}");
            for (i, (span, resource)) in rows.iter().enumerate() {
                assert_eq!(l.value(i), c.eval_span(span, *resource), "row {i}: {c:?}");
            }
            compared += 1;
        }
    }
    // Most rounds' conditions are lean; some are not (an `IsMatch`, `nil`, a duration
    // compared with an attribute).
    assert!(lean_rounds > 150, "{lean_rounds} lean, {full_rounds} full");
    assert!(full_rounds > 20, "{lean_rounds} lean, {full_rounds} full");
    assert!(compared > 600, "{compared}");
}

/// A part of lean facts answers as the same part of full facts.
#[test]
fn a_slice_of_lean_facts_answers_as_a_slice_of_full_facts() {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut sliced = 0;
    for _ in 0..100 {
        let req = request(&mut rng);
        let conditions = conditions(&mut rng);
        let schema = FactsSchema::lean_of(&conditions);
        let (lean, full) = both(&req.encode_to_vec(), &schema);
        if !lean.is_lean() || full.is_empty() {
            continue;
        }
        let offset = rng.usize(..full.len());
        let len = rng.usize(..=full.len() - offset);
        let (lean, full) = (lean.slice(offset, len), full.slice(offset, len));
        for c in &conditions {
            assert_eq!(c.eval_batch(&lean), c.eval_batch(&full), "{c:?}");
        }
        sliced += 1;
    }
    assert!(sliced > 30, "{sliced}");
}

/// The benchmark's five SLOs are lean; `group_by` or a capture's columns make the facts
/// full, and a plan of other comparisons makes a schema of its own.
#[test]
fn which_schemas_are_lean() {
    let five = crate::slo::spec::load(
        &[concat!(env!("CARGO_MANIFEST_DIR"), "/benches/slo/five/all.yaml").to_string()],
        false,
    )
    .unwrap();
    let schema = FactsSchema::of(&five);
    assert!(schema.lean().is_some());

    let mut grouped = five.clone();
    grouped.slos[0].group_by =
        vec![crate::slo::ottl::parse_attribute("attributes[\"a\"]").unwrap()];
    assert!(FactsSchema::of(&grouped).lean().is_none());

    let mut captured = schema.clone();
    let mut capture = FactsSchema::default();
    capture.add_any(crate::slo::ottl::AttrRef::Item("a".into()));
    captured.merge(&capture);
    assert!(captured.lean().is_none());

    // The same columns, other comparisons: not the same schema.
    let a = Condition::parse("attributes[\"a\"] == 1", ConditionTarget::Span).unwrap();
    let b = Condition::parse("attributes[\"a\"] == 2", ConditionTarget::Span).unwrap();
    assert_ne!(FactsSchema::lean_of(&[a]), FactsSchema::lean_of(&[b]));
}

/// The comparisons' columns hold bit `i` of span `s`'s word at row `s` of column `i`, for
/// any number of comparisons (0 to 64) and spans (0 to 300, whole words and eights of them
/// or not), the padding past the last row unset.
#[test]
fn the_comparisons_columns_hold_each_bit_of_each_span() {
    let mut rng = fastrand::Rng::with_seed(27);
    for round in 0..400 {
        let n = match round {
            0..64 => round,
            _ => rng.usize(..=super::lean::MOST),
        };
        let spans = match round % 4 {
            0 => rng.usize(..=300),
            1 => 64 * rng.usize(..=4),
            2 => 8 * rng.usize(..=40) + 7,
            _ => rng.usize(..10),
        };
        let words: Vec<u64> = (0..spans)
            .map(|_| match rng.u8(..4) {
                0 => 0,
                1 => u64::MAX,
                _ => rng.u64(..),
            })
            .collect();
        let columns = super::lean::columns_of(n, &words);
        assert_eq!(columns.len(), n);
        for (i, column) in columns.iter().enumerate() {
            assert_eq!(column.len(), spans);
            for (s, word) in words.iter().enumerate() {
                assert_eq!(
                    column.value(s),
                    (word >> i) & 1 == 1,
                    "n {n}, column {i}, span {s}"
                );
            }
            // Unset past the last row, as every other bitmap of the facts.
            let padded = column.inner().as_slice();
            for bit in spans..padded.len() * 8 {
                assert_eq!(
                    padded[bit / 8] >> (bit % 8) & 1,
                    0,
                    "n {n}, column {i}, bit {bit}"
                );
            }
        }
    }
}
