//! The open-trace table: bounds, late spans, wait expiry, arrival order, adjusted counts.

use std::time::Duration;

use super::{MemberSpan, TraceCounts, TraceEvent, TraceTable};
use crate::slo::spec::trace_mode::TraceMode;

const SEC: u64 = 1_000_000_000;
/// The trace id of the W3C Trace Context examples (`traceparent` in its § 3.2).
const W3C: u128 = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;
/// A clock reading in 2026 (Unix nanoseconds).
const T0: u64 = 1_780_000_000 * SEC;

fn table(wait_secs: u64, max_traces: usize) -> TraceTable {
    TraceTable::new(&TraceMode {
        max_wait: Duration::from_secs(wait_secs),
        max_traces,
    })
}

fn span(trace: u128, start: u64, end: u64, bad: bool, cluster: &str) -> MemberSpan<'_> {
    MemberSpan {
        trace,
        start,
        end,
        bad,
        cluster,
        weight: 1.0,
    }
}

fn event(cluster: &str, time: u64, good: bool, latency: u64, spans: u64) -> TraceEvent {
    TraceEvent {
        cluster: cluster.into(),
        time,
        good,
        latency,
        spans,
        weight: 1.0,
    }
}

#[test]
fn a_trace_closes_max_wait_after_its_last_member_span_arrived() {
    let mut t = table(30, 10);
    let mut out = Vec::new();
    // login (seoul) 0–2 s, payment (busan) 1–5 s, arriving 10 s apart.
    t.add(
        span(W3C, T0, T0 + 2 * SEC, false, "seoul"),
        T0 + 3 * SEC,
        &mut out,
    );
    t.add(
        span(W3C, T0 + SEC, T0 + 5 * SEC, true, "busan"),
        T0 + 13 * SEC,
        &mut out,
    );
    // 29.999… s after the last arrival: still open.
    t.close_due(T0 + 43 * SEC - 1, &mut out);
    assert!(out.is_empty());
    assert_eq!(t.open_traces(), 1);
    // 30 s after the last arrival (not the first): closed, bad, at the latest end, in the
    // cluster of the span that started first, latency = 5 s.
    t.close_due(T0 + 43 * SEC, &mut out);
    assert_eq!(out, [event("seoul", T0 + 5 * SEC, false, 5 * SEC, 2)]);
    assert_eq!(t.open_traces(), 0);
    assert_eq!(
        t.counts(),
        TraceCounts {
            closed: 1,
            ..TraceCounts::default()
        }
    );
}

#[test]
fn a_trace_of_good_member_spans_is_good() {
    let mut t = table(5, 10);
    let mut out = Vec::new();
    for i in 0..4 {
        t.add(span(W3C, T0 + i, T0 + 100 + i, false, "c"), T0, &mut out);
    }
    t.close_due(T0 + 5 * SEC, &mut out);
    assert_eq!(out, [event("c", T0 + 103, true, 103, 4)]);
}

#[test]
fn arrival_order_does_not_change_the_event() {
    // Three member spans of one trace, one bad; every arrival order gives one event.
    let spans = [
        span(W3C, T0 + 2 * SEC, T0 + 3 * SEC, false, "b"),
        span(W3C, T0, T0 + 9 * SEC, false, "a"),
        span(W3C, T0 + SEC, T0 + 4 * SEC, true, "c"),
    ];
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in orders {
        let mut t = table(10, 10);
        let mut out = Vec::new();
        for (k, i) in order.iter().enumerate() {
            t.add(spans[*i], T0 + 20 * SEC + k as u64 * SEC, &mut out);
        }
        t.close_due(T0 + 40 * SEC, &mut out);
        assert_eq!(
            out,
            [event("a", T0 + 9 * SEC, false, 9 * SEC, 3)],
            "{order:?}"
        );
    }
}

#[test]
fn a_late_span_of_a_closed_trace_is_counted_and_changes_nothing() {
    let mut t = table(10, 10);
    let mut out = Vec::new();
    t.add(span(W3C, T0, T0 + SEC, false, "c"), T0, &mut out);
    t.close_due(T0 + 10 * SEC, &mut out);
    assert_eq!(out.len(), 1);
    // A bad span of the closed trace arrives: no second event, the good verdict stands.
    t.add(
        span(W3C, T0, T0 + 2 * SEC, true, "c"),
        T0 + 11 * SEC,
        &mut out,
    );
    t.close_due(T0 + 60 * SEC, &mut out);
    assert_eq!(out, [event("c", T0 + SEC, true, SEC, 1)]);
    assert_eq!(t.open_traces(), 0);
    assert_eq!(t.counts().late_spans, 1);
}

#[test]
fn a_full_table_force_closes_the_least_recently_seen_trace() {
    let mut t = table(60, 3);
    let mut out = Vec::new();
    for id in 1..=3u128 {
        t.add(
            span(id, T0, T0 + SEC, id == 2, "c"),
            T0 + id as u64,
            &mut out,
        );
    }
    // Trace 1 is seen again: trace 2 is now the least recent.
    t.add(span(1, T0, T0 + 2 * SEC, false, "c"), T0 + 10, &mut out);
    assert!(out.is_empty());
    t.add(span(4, T0, T0 + SEC, false, "c"), T0 + 11, &mut out);
    assert_eq!(out, [event("c", T0 + SEC, false, SEC, 1)], "trace 2, bad");
    assert_eq!(t.open_traces(), 3);
    assert_eq!(t.counts().forced, 1);
    // Many more traces: never more than 3 open, one forced out per new trace.
    for id in 5..1_005u128 {
        t.add(span(id, T0, T0 + SEC, false, "c"), T0 + 100, &mut out);
        assert!(t.open_traces() <= 3);
    }
    assert_eq!(t.counts().forced, 1_001);
    assert_eq!(out.len(), 1_001);
    // A span of a trace forced out long ago (beyond the 3 remembered closings) opens a new
    // trace; one forced out recently is late.
    t.add(span(1_003, T0, T0 + SEC, false, "c"), T0 + 101, &mut out);
    assert_eq!(t.counts().late_spans, 0, "1003 is still open");
    t.add(span(1_001, T0, T0 + SEC, false, "c"), T0 + 101, &mut out);
    assert_eq!(t.counts().late_spans, 1, "1001 closed among the last 3");
    t.add(span(2, T0, T0 + SEC, false, "c"), T0 + 102, &mut out);
    assert_eq!(t.counts().late_spans, 1, "2 is forgotten: a new trace");
    assert_eq!(t.open_traces(), 3);
}

#[test]
fn remembered_closings_are_bounded_by_max_traces() {
    let mut t = table(1, 2);
    let mut out = Vec::new();
    for id in 0..10_000u128 {
        let now = T0 + id as u64 * SEC;
        t.close_due(now, &mut out);
        t.add(span(id, T0, T0 + 1, false, "c"), now, &mut out);
    }
    assert_eq!(out.len(), 9_999);
    assert!(t.closed.len() <= 2 && t.closed_order.len() <= 2);
    assert!(t.open.len() <= 2 && t.by_last.len() == t.open.len());
}

#[test]
fn close_all_closes_every_open_trace() {
    let mut t = table(600, 10);
    let mut out = Vec::new();
    t.add(span(1, T0, T0 + SEC, false, "a"), T0, &mut out);
    t.add(span(2, T0, T0 + 2 * SEC, true, "b"), T0 + 1, &mut out);
    t.close_all(&mut out);
    assert_eq!(
        out,
        [
            event("a", T0 + SEC, true, SEC, 1),
            event("b", T0 + 2 * SEC, false, 2 * SEC, 1)
        ]
    );
    assert_eq!(t.counts().flushed, 2);
    assert_eq!(t.open_traces(), 0);
}

#[test]
fn a_clock_stepping_back_waits_from_the_later_arrival() {
    let mut t = table(10, 10);
    let mut out = Vec::new();
    t.add(
        span(W3C, T0, T0 + SEC, false, "c"),
        T0 + 100 * SEC,
        &mut out,
    );
    // The clock steps back 50 s; the second span's arrival does not move the wait earlier.
    t.add(span(W3C, T0, T0 + SEC, false, "c"), T0 + 50 * SEC, &mut out);
    t.close_due(T0 + 109 * SEC, &mut out);
    assert!(out.is_empty());
    t.close_due(T0 + 110 * SEC, &mut out);
    assert_eq!(out.len(), 1);
}

#[test]
fn a_span_ending_before_it_starts_has_no_negative_latency() {
    let mut t = table(1, 10);
    let mut out = Vec::new();
    t.add(span(W3C, T0 + 5 * SEC, T0, false, "c"), T0, &mut out);
    t.close_all(&mut out);
    assert_eq!(out, [event("c", T0, true, 0, 1)]);
}

/// The adjusted count of a span whose `tracestate` is `ot=th:<th>`, as slotel reads it.
fn adjusted(th: &str) -> f64 {
    crate::slo::facts::sampling::adjusted_count(&format!("ot=th:{th}")).expect("a valid th")
}

/// The 56-bit rejection threshold of `th` (the specification's `th` encoding: hex digits,
/// trailing zeros dropped).
fn threshold(th: &str) -> u64 {
    u64::from_str_radix(&format!("{th:0<14}"), 16).expect("hex")
}

/// The closed event of one trace whose member spans are `(adjusted count, bad)`.
fn close_one(spans: &[(f64, bool)]) -> TraceEvent {
    let mut t = table(10, 10);
    let mut out = Vec::new();
    for (i, (w, bad)) in spans.iter().enumerate() {
        let mut s = span(W3C, T0 + i as u64, T0 + SEC, *bad, "c");
        s.weight = *w;
        t.add(s, T0, &mut out);
    }
    t.close_all(&mut out);
    assert_eq!(out.len(), 1);
    out.remove(0)
}

#[test]
fn a_trace_whose_member_spans_share_a_threshold_counts_their_adjusted_count() {
    // Parent-based sampling: every span of the trace carries the root's threshold. The
    // specification's table: th:8 → 2, th:c → 4, th:fd70a4 → 100.0000953…
    for (th, want) in [
        ("0", 1.0),
        ("8", 2.0),
        ("c", 4.0),
        ("fd70a4", 100.000_095_367_522_59),
    ] {
        let w = adjusted(th);
        assert!((w - want).abs() < 1e-9, "{th}: {w}");
        let good = close_one(&[(w, false), (w, false), (w, false)]);
        assert!(good.good);
        assert_eq!(good.weight, w);
        let bad = close_one(&[(w, false), (w, true)]);
        assert!(!bad.good);
        assert_eq!(bad.weight, w);
    }
}

#[test]
fn unequal_thresholds_count_the_most_likely_kept_span_of_the_verdict() {
    let (two, four, hundred) = (adjusted("8"), adjusted("c"), adjusted("fd70a4"));
    // Good: the smallest adjusted count of all member spans.
    assert_eq!(close_one(&[(four, false), (two, false)]).weight, 2.0);
    assert_eq!(close_one(&[(hundred, false), (1.0, false)]).weight, 1.0);
    // Bad: the smallest adjusted count of the bad member spans, whatever the good ones'.
    let e = close_one(&[(two, false), (four, true), (hundred, true)]);
    assert_eq!((e.good, e.weight), (false, 4.0));
    let e = close_one(&[(four, false), (two, true)]);
    assert_eq!((e.good, e.weight), (false, 2.0));
    // Spans that count 0 (legacy `p:63`) are left out; a trace of only those counts 0.
    assert_eq!(close_one(&[(0.0, false), (four, false)]).weight, 4.0);
    assert_eq!(close_one(&[(four, false), (0.0, true)]).weight, 0.0);
    assert_eq!(close_one(&[(0.0, false), (0.0, false)]).weight, 0.0);
}

/// The expected (total, bad) events slotel counts for one trace of member spans
/// `(th, bad)` under consistent probability sampling: the trace's randomness R is uniform
/// over 56 bits, and a member span is kept when R ≥ its threshold. Exact: R's range is cut
/// at the thresholds, and every R within one piece keeps the same spans.
fn expected(trace: &[(&str, bool)]) -> (f64, f64) {
    let max = (1u64 << 56) as f64;
    let mut cuts: Vec<u64> = trace.iter().map(|(th, _)| threshold(th)).collect();
    cuts.push(0);
    cuts.sort_unstable();
    cuts.dedup();
    let (mut total, mut bad) = (0.0, 0.0);
    for (i, &r) in cuts.iter().enumerate() {
        let next = cuts.get(i + 1).copied().unwrap_or(1 << 56);
        let p = (next - r) as f64 / max;
        let kept: Vec<(f64, bool)> = trace
            .iter()
            .filter(|(th, _)| threshold(th) <= r)
            .map(|(th, b)| (adjusted(th), *b))
            .collect();
        if kept.is_empty() {
            continue;
        }
        let e = close_one(&kept);
        total += p * e.weight;
        if !e.good {
            bad += p * e.weight;
        }
    }
    (total, bad)
}

#[test]
fn weighted_traces_estimate_bad_traces_without_bias_and_total_within_the_bad_ones() {
    // Each trace once: bad when any member span is. Thresholds from the specification's
    // examples; several per trace, as independent child samplers or a downstream sampler
    // that raised one span's threshold leave them.
    let traces: [&[(&str, bool)]; 7] = [
        &[("c", false), ("c", true)],
        &[("fd70a4", false), ("fd70a4", false)],
        &[("0", false), ("8", true)],
        &[("8", true), ("fd70a4", false)],
        &[("8", false), ("c", false), ("fd70a4", false)],
        &[("c", true), ("fd70a4", true)],
        &[("0", false), ("8", false), ("c", true)],
    ];
    let (mut total, mut bad) = (0.0, 0.0);
    for trace in traces {
        let truly_bad = trace.iter().any(|(_, b)| *b);
        let (t, b) = expected(trace);
        // Bad traces: exactly one bad trace expected per bad trace, none per good one.
        let want_bad = if truly_bad { 1.0 } else { 0.0 };
        assert!((b - want_bad).abs() < 1e-12, "{trace:?}: {b}");
        // Total: one trace, plus at most the chance that a bad trace is seen without its
        // bad span (counted good then).
        assert!(
            t > 1.0 - 1e-12 && t <= 1.0 + want_bad + 1e-12,
            "{trace:?}: {t}"
        );
        let one_threshold = trace.iter().all(|(th, _)| *th == trace[0].0);
        if one_threshold || !truly_bad {
            assert!((t - 1.0).abs() < 1e-12, "{trace:?}: {t}");
        }
        total += t;
        bad += b;
    }
    assert!((bad - 5.0).abs() < 1e-12);
    // [0, 8 bad]: seen good half the time (weight 1) → 1.5; [0, 8, c bad]: 0.5 + 0.25 +
    // 0.25 × 4 → 1.75; the others 1 each.
    assert!((total - (5.0 + 1.5 + 1.75)).abs() < 1e-12, "{total}");
}
