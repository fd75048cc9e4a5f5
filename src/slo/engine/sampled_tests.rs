//! Sampling-aware counting against hand-computed values: spans with `tracestate`
//! thresholds count their adjusted counts in the API's counts, the lifetime counters of
//! `/metrics` and the latency histograms; raw counts stay the spans received; whole and
//! fractional adjusted counts; `adjusted_counts: false`; unreadable `tracestate`s; and the
//! replay of captured span facts.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use super::tests::{S, engine, find, request, slo};
use super::*;
use crate::slo::facts::sampling::Invalid;
use crate::test_otlp::spans_mut;

const T0: u64 = 1_800_000_000 * S;

/// Spans of `request`, each with the `tracestate` given beside it.
fn sampled(spans: &[(u64, bool, &str)]) -> ExportTraceServiceRequest {
    let plain: Vec<_> = spans
        .iter()
        .map(|(dur, error, _)| ("c1", T0 - S, *dur, *error))
        .collect();
    let mut req = request(&plain);
    for (span, (_, _, ts)) in spans_mut(&mut req).zip(spans) {
        span.trace_state = ts.to_string();
    }
    req
}

fn without_adjusted_counts(mut s: Slo) -> Slo {
    if let Sli::Spans(sli) = &mut s.sli {
        sli.adjusted_counts = false;
    }
    s.name = format!("{}-raw", s.name);
    s
}

fn lifetime_events(e: &Engine, name: &str) -> (f64, f64) {
    let status = e.status();
    let families = crate::slo::series::families(e, &status);
    let events = families
        .iter()
        .find(|f| f.name == "slotel_slo_events")
        .unwrap();
    let value = |outcome: &str| {
        events
            .rows
            .iter()
            .find(|(l, _)| {
                l.contains(&("slo".into(), name.into()))
                    && l.contains(&("cluster".into(), "all".into()))
                    && l.contains(&("outcome".into(), outcome.into()))
            })
            .map(|(_, v)| *v)
            .unwrap()
    };
    (value("good"), value("bad"))
}

#[test]
fn spans_count_their_adjusted_counts_and_raw_counts_stay_the_spans_received() {
    let clock = Arc::new(ManualClock::new(T0));
    let latency = slo("latency", 0.99, 30, Some(Duration::from_millis(300)));
    let e = engine(
        vec![latency.clone(), without_adjusted_counts(latency)],
        clock,
    );
    // 100 spans kept at 1 in 4 (th:c): 50 fast, 50 slow; 100 unsampled spans at 200 ms.
    let mut spans = Vec::new();
    for i in 0..100 {
        let dur = if i % 2 == 0 { 100_000_000 } else { 500_000_000 };
        spans.push((dur, false, "ot=th:c"));
    }
    for _ in 0..100 {
        spans.push((200_000_000, false, ""));
    }
    e.record_spans(&sampled(&spans), None);
    let st = e.status();
    let all = find(&st, "latency", "all");
    // 50 × 4 fast + 100 unsampled good; 50 × 4 slow bad.
    assert_eq!((all.total, all.good), (500, 300));
    assert_eq!((all.raw_total, all.raw_good), (Some(200), Some(150)));
    assert_eq!(serde_json::to_value(all).unwrap()["raw_unit"], "spans");
    assert_eq!(all.error_ratio, Some(0.4));
    // Percentiles over 200 × 100 ms, 100 × 200 ms, 200 × 500 ms: the 40th is 100 ms (rank
    // 200), where the raw spans' would be 200 ms (rank 80).
    assert_eq!(all.native.count, 500);
    // The series of `/metrics` and remote write count what the API counts.
    assert_eq!(lifetime_events(&e, "latency"), (300.0, 200.0));
    assert_eq!(all.classic.iter().sum::<u64>(), 500);
    let seoul = find(&st, "latency", "c1");
    assert_eq!((seoul.total, seoul.raw_total), (500, Some(200)));

    let raw = find(&st, "latency-raw", "all");
    assert_eq!((raw.total, raw.good), (200, 150));
    assert_eq!((raw.raw_total, raw.raw_good), (Some(200), Some(150)));
    assert_eq!(lifetime_events(&e, "latency-raw"), (150.0, 50.0));
}

#[test]
fn weighted_latencies_move_the_percentiles() {
    let clock = Arc::new(ManualClock::new(T0));
    let mut s = slo("latency", 0.99, 30, Some(Duration::from_millis(300)));
    s.percentiles = vec![40.0];
    let e = engine(vec![s.clone(), without_adjusted_counts(s)], clock);
    let mut spans = Vec::new();
    for i in 0..100 {
        let dur = if i % 2 == 0 { 100_000_000 } else { 500_000_000 };
        spans.push((dur, false, "ot=th:c"));
    }
    for _ in 0..100 {
        spans.push((200_000_000, false, ""));
    }
    e.record_spans(&sampled(&spans), None);
    let st = e.status();
    let p40 = |name| {
        find(&st, name, "all")
            .latency
            .get("p40")
            .copied()
            .flatten()
            .unwrap()
    };
    assert!((p40("latency") - 0.1).abs() < 0.001, "{}", p40("latency"));
    assert!(
        (p40("latency-raw") - 0.2).abs() < 0.001,
        "{}",
        p40("latency-raw")
    );
}

#[test]
fn fractional_adjusted_counts_add_up_to_whole_events_without_bias() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("availability", 0.999, 30, None)], clock);
    // th:e66 keeps 1 in 9.990243902439024 (the specification's 1-in-10 at precision 3).
    let w: f64 = 9.990243902439024;
    let mut spans = vec![(1_000_000, false, "ot=th:e66"); 1000];
    spans.extend(vec![(1_000_000, true, "ot=th:e66"); 300]);
    // Requests of 13 spans: the carries hold across requests.
    for chunk in spans.chunks(13) {
        e.record_spans(&sampled(chunk), None);
    }
    let all = find(&e.status(), "availability", "all").clone();
    let (good, bad) = ((1000.0 * w).floor() as u64, (300.0 * w).floor() as u64);
    assert_eq!((all.good, all.total - all.good), (good, bad));
    assert_eq!((all.raw_good, all.raw_total), (Some(1000), Some(1300)));
}

#[test]
fn legacy_and_unreadable_tracestates() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("availability", 0.999, 30, None)], clock);
    let spans = [
        (1_000, false, "ot=p:3;r:10"),               // 8
        (1_000, false, "ot=p:63"),                   // 0: stands for no span
        (1_000, true, "ot=th:zz"),                   // 1, threshold
        (1_000, false, "ot=th:c;rv:01"),             // 1, randomness
        (1_000, false, "ot=th:8;rv:00000000000000"), // 1, inconsistent
        (1_000, false, "ot=th:8,ot=th:8"),           // 1, syntax
        (1_000, false, "rojo=00f067aa0ba902b7"),     // 1: no `ot`
    ];
    e.record_spans(&sampled(&spans), None);
    let all = find(&e.status(), "availability", "all").clone();
    assert_eq!((all.total, all.good), (8 + 5, 8 + 4));
    assert_eq!((all.raw_total, all.raw_good), (Some(7), Some(6)));
    let invalid = e.invalid_tracestates();
    for (reason, n) in [
        (Invalid::Syntax, 1),
        (Invalid::Threshold, 1),
        (Invalid::Randomness, 1),
        (Invalid::Legacy, 0),
        (Invalid::Inconsistent, 1),
    ] {
        assert_eq!(invalid[reason.index()], n, "{}", reason.as_str());
    }
}

#[test]
fn replayed_span_facts_count_as_live_ones() {
    let clock = Arc::new(ManualClock::new(T0));
    let slos = vec![slo("latency", 0.99, 30, Some(Duration::from_millis(300)))];
    let live = engine(slos.clone(), clock.clone());
    let replayed = engine(slos, clock);
    let spans: Vec<_> = (0..200u64)
        .map(|i| {
            let ts = ["ot=th:c", "ot=th:aab", "", "ot=th:fd70a4"][(i % 4) as usize];
            (i * 3_000_000, i % 7 == 0, ts)
        })
        .collect();
    let req = sampled(&spans);
    live.record_spans(&req, None);
    let facts = SpanFacts::build(&req, None, "k8s.cluster.name", &live.facts_schema());
    assert!(facts.adjusted_counts().is_some());
    let (back, _) = SpanFacts::from_batch(facts.batch.clone()).unwrap();
    assert_eq!(back.adjusted_counts(), facts.adjusted_counts());
    replayed.record_facts(&back);
    assert_eq!(replayed.status(), live.status());
    // Facts without sampled spans carry no adjusted counts.
    let plain = SpanFacts::build(
        &request(&[("c1", T0 - S, 1, false)]),
        None,
        "k8s.cluster.name",
        &live.facts_schema(),
    );
    assert!(plain.adjusted_counts().is_none());
    assert_eq!(plain.batch.num_columns(), 7);
}
