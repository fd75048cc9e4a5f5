//! Trace-aware journeys in the engine, continued: sampled traces' adjusted counts (with
//! the specification's thresholds), `adjusted_counts: false`, the write-ahead log of
//! weighted events, reloads, and budget adjustments of the journey.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use super::traces_tests::{MS, S, SLOS, T0, engine, entry, id, request, stats, traffic};
use super::*;
use crate::test_otlp::spans_mut;

/// `req` with span `i` (in order) given `tracestate` `states[i]`.
fn with_trace_states(
    mut req: ExportTraceServiceRequest,
    states: &[&str],
) -> ExportTraceServiceRequest {
    for (span, state) in spans_mut(&mut req).zip(states) {
        span.trace_state = (*state).to_string();
    }
    req
}

fn raw(e: &Engine, cluster: &str) -> (Option<u64>, Option<u64>) {
    let s = e
        .status()
        .into_iter()
        .find(|s| s.name == "checkout" && s.cluster == cluster && s.group.is_none())
        .unwrap();
    (s.raw_total, s.raw_good)
}

/// Four traces, the thresholds from the specification's examples: A (login and payment
/// `th:c`, 4) good; B the same, login failed; C login without a tracestate, good; D login
/// `th:8` (2), payment `th:c` (4) and 800 ms (bad); E payment alone, `th:fd70a4` (≈ 100).
fn sampled_traffic() -> ExportTraceServiceRequest {
    let t = T0 - 20 * S;
    let req = request(&[
        (id(0xA), "login", "seoul", true, t, t + 50 * MS, false),
        (
            id(0xA),
            "payment",
            "seoul",
            true,
            t + 60 * MS,
            t + 90 * MS,
            false,
        ),
        (id(0xB), "login", "seoul", true, t, t + 50 * MS, true),
        (
            id(0xB),
            "payment",
            "seoul",
            true,
            t + 60 * MS,
            t + 90 * MS,
            false,
        ),
        (id(0xC), "login", "seoul", true, t, t + 50 * MS, false),
        (id(0xD), "login", "seoul", true, t, t + 50 * MS, false),
        (
            id(0xD),
            "payment",
            "seoul",
            true,
            t + 60 * MS,
            t + 860 * MS,
            false,
        ),
        (id(0xE), "payment", "seoul", true, t, t + 90 * MS, false),
    ]);
    with_trace_states(
        req,
        &[
            "ot=th:c",
            "ot=th:c",
            "ot=th:c",
            "ot=th:c",
            "",
            "ot=th:8",
            "vendor=x,ot=th:c",
            "ot=th:fd70a4",
        ],
    )
}

#[test]
fn a_sampled_trace_counts_its_adjusted_count() {
    let (e, clock) = engine(100);
    e.record_spans(&sampled_traffic(), None);
    clock.advance(Duration::from_secs(10));
    e.close_traces();
    // A 4 good, B 4 bad, C 1 good, D 4 bad (its bad span's th:c), E 100.0000953… good:
    // whole events, the fraction carried.
    assert_eq!(entry(&e, "shop", "checkout", "all"), Some((113, 105)));
    assert_eq!(raw(&e, "all"), (Some(5), Some(3)));
    let all = e
        .status()
        .into_iter()
        .find(|s| s.name == "checkout" && s.cluster == "all")
        .unwrap();
    // The status page labels the raw count by this: traces, not spans.
    assert_eq!(all.raw_unit, Some(super::status::RawUnit::Traces));
    assert_eq!(serde_json::to_value(&all).unwrap()["raw_unit"], "traces");
    // The members count their spans' adjusted counts as before.
    assert_eq!(
        entry(&e, "login", "availability", "all"),
        Some((4 + 4 + 1 + 2, 4 + 1 + 2))
    );
}

#[test]
fn adjusted_counts_false_on_a_member_counts_its_spans_once_in_the_journey() {
    let off = SLOS.replacen(
        "    window: 30d\n    sli:",
        "    window: 30d\n    adjusted_counts: false\n    sli:",
        1,
    );
    assert!(off.contains("adjusted_counts"));
    let slos = crate::slo::spec::parse_file(&off.replace("MAX", "100"), "shop.yaml").unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let e = Engine::new(EngineConfig::default(), clock.clone(), SloSet::of(slos));
    e.record_spans(&sampled_traffic(), None);
    clock.advance(Duration::from_secs(10));
    e.close_traces();
    // login's spans count 1: A good min(1, 4) = 1, B bad (login) 1, C 1, D bad (payment,
    // th:c) 4, E (payment only) 100.
    assert_eq!(entry(&e, "shop", "checkout", "all"), Some((107, 102)));
    assert_eq!(entry(&e, "login", "availability", "all"), Some((4, 3)));
}

#[test]
fn sampled_trace_events_survive_a_crash_through_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (live, clock) = engine(100);
    let (wal, _) = wal::Wal::open(&live, dir.path(), 64 << 20, 0).unwrap();
    let mut unit = wal.begin().unwrap();
    live.record_spans_logged(&sampled_traffic(), None, Some(&mut unit.enc));
    unit.commit(None);
    clock.advance(Duration::from_secs(10));
    live.close_traces(); // logged
    wal.close();
    assert_eq!(entry(&live, "shop", "checkout", "all"), Some((113, 105)));

    let (after, _) = engine(100);
    let restored = snapshot::restore(&after, dir.path());
    let (w, replayed) =
        wal::Wal::open(&after, dir.path(), 64 << 20, restored.wal_position).unwrap();
    drop(w);
    assert!(replayed.applied > 0);
    assert_eq!(entry(&after, "shop", "checkout", "all"), Some((113, 105)));
    assert_eq!(raw(&after, "all"), (Some(5), Some(3)));
}

#[test]
fn a_reload_keeps_open_traces_unless_the_journey_changes() {
    let (e, clock) = engine(100);
    e.record_spans(&traffic(), None);
    assert_eq!(stats(&e).open, 4);
    // The same files again, and a member's condition changed: the journey is unchanged,
    // its open traces stay and close after their wait.
    let same = SLOS.replace("MAX", "100");
    e.replace(SloSet::of(
        crate::slo::spec::parse_file(&same, "shop.yaml").unwrap(),
    ));
    assert_eq!(stats(&e).open, 4);
    let member_changed = same.replace("latency_threshold: 500ms", "latency_threshold: 900ms");
    e.replace(SloSet::of(
        crate::slo::spec::parse_file(&member_changed, "shop.yaml").unwrap(),
    ));
    assert_eq!(stats(&e).open, 4);
    clock.advance(Duration::from_secs(10));
    e.close_traces();
    assert_eq!(entry(&e, "shop", "checkout", "all"), Some((4, 2)));

    // A changed journey (its wait) starts anew, as any SLO whose definition changes: its
    // counts and the traces open then are gone.
    e.record_spans(
        &request(&[(id(0x1F), "login", "seoul", true, T0, T0 + MS, false)]),
        None,
    );
    assert_eq!(stats(&e).open, 1);
    let journey_changed = member_changed.replace("max_wait: 10s", "max_wait: 20s");
    e.replace(SloSet::of(
        crate::slo::spec::parse_file(&journey_changed, "shop.yaml").unwrap(),
    ));
    assert_eq!(stats(&e).open, 0);
    assert_eq!(entry(&e, "shop", "checkout", "all"), Some((0, 0)));
}

#[test]
fn an_adjustment_of_the_journey_leaves_out_the_traces_it_covers() {
    // busan's traces (C bad, D good) end in the range; seoul's (A good, B bad) are not
    // adjusted. The member SLOs are not adjusted: they count every span.
    let shop = "adjustments:
  - reason: busan maintenance
    slos: [checkout]
    clusters: [busan]
    start: 2027-01-15T07:59:30Z
    end: 2027-01-15T07:59:50Z
";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.yaml");
    std::fs::write(&path, format!("{}{shop}", SLOS.replace("MAX", "100"))).unwrap();
    let set = crate::slo::spec::load(&[path.display().to_string()], false).unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let e = Engine::new(EngineConfig::default(), clock.clone(), set);
    e.record_spans(&traffic(), None);
    clock.advance(Duration::from_secs(10));
    e.close_traces();
    assert_eq!(entry(&e, "shop", "checkout", "all"), Some((2, 1)));
    assert_eq!(entry(&e, "shop", "checkout", "seoul"), Some((2, 1)));
    assert_eq!(entry(&e, "shop", "checkout", "busan"), None);
    assert_eq!(e.adjustments().adjusted("shop", "checkout"), 2);
    assert_eq!(entry(&e, "login", "availability", "all"), Some((4, 3)));
}
