//! The open-trace table: bounds, late spans, wait expiry, arrival order.

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
    }
}

fn event(cluster: &str, time: u64, good: bool, latency: u64, spans: u64) -> TraceEvent {
    TraceEvent {
        cluster: cluster.into(),
        time,
        good,
        latency,
        spans,
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
