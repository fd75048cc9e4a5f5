//! `slo.max_groups_total`: the groups of every SLO together stay within one room.

use std::sync::Arc;

use super::tests::{S, find, request, slo};
use super::*;

const T0: u64 = 1_800_000_000 * S;

fn engine_with_room(slos: Vec<Slo>, total: usize) -> Arc<Engine> {
    let cfg = EngineConfig {
        max_groups_total: total,
        ..EngineConfig::default()
    };
    Engine::new(cfg, Arc::new(ManualClock::new(T0)), SloSet::of(slos))
}

/// Spans from `clusters` distinct clusters (each a group of every SLO).
fn spans_from(e: &Engine, clusters: usize) {
    let names: Vec<String> = (0..clusters).map(|i| format!("c{i}")).collect();
    let spans: Vec<_> = names
        .iter()
        .map(|c| (c.as_str(), T0 - S, 1_000, false))
        .collect();
    e.record_spans(&request(&spans), None);
}

/// Groups of every SLO but `all` and the overflow groups.
fn groups(st: &[GroupStatus]) -> usize {
    st.iter()
        .filter(|s| s.cluster != state::ALL && s.cluster != state::OVERFLOW)
        .count()
}

#[test]
fn slos_times_max_groups_cannot_exceed_the_total() {
    // 5 SLOs of `max_groups` 8 each could hold 40 groups; the room holds 12.
    let slos: Vec<Slo> = (0..5)
        .map(|i| {
            let mut s = slo(&format!("s{i}"), 0.999, 30, None);
            s.max_groups = 8;
            s
        })
        .collect();
    let e = engine_with_room(slos, 12);
    spans_from(&e, 30);
    let st = e.status();
    assert_eq!(groups(&st), 12);
    assert_eq!(e.group_room().used(), 12);
    // Every event still counts: in its group, or in its SLO's overflow group.
    for i in 0..5 {
        assert_eq!(find(&st, &format!("s{i}"), "all").total, 30);
    }
    // The first SLO made its 8 groups (its own bound), the second the 4 left; the
    // others all overflowed.
    assert_eq!(find(&st, "s0", state::OVERFLOW).total, 22);
    assert_eq!(find(&st, "s1", state::OVERFLOW).total, 26);
    assert_eq!(find(&st, "s4", state::OVERFLOW).total, 30);
    // Refused for the room, not for `max_groups` (s0's 22): s1's 26 (it has 4 of its 8),
    // then s2–s4's 30 each.
    assert_eq!(e.group_room().refused_events(), 26 + 3 * 30);

    // More traffic from new clusters makes no group; known groups keep counting.
    spans_from(&e, 60);
    let st = e.status();
    assert_eq!(groups(&st), 12);
    assert_eq!(find(&st, "s0", "c0").total, 2);
}

#[test]
fn a_removed_slo_gives_its_groups_back() {
    let slos = vec![slo("a", 0.999, 30, None), slo("b", 0.99, 30, None)];
    let e = engine_with_room(slos, 10);
    spans_from(&e, 8);
    assert_eq!(e.group_room().used(), 10);
    // `b` removed: its 2 groups' seats are free again, and `a` takes them.
    e.replace(SloSet::of(vec![slo("a", 0.999, 30, None)]));
    assert_eq!(e.group_room().used(), 8);
    spans_from(&e, 12);
    assert_eq!(e.group_room().used(), 10);
    let st = e.status();
    assert_eq!(groups(&st), 10);
    assert_eq!(find(&st, "a", state::OVERFLOW).total, 2);
}

#[test]
fn the_series_report_the_room() {
    let e = engine_with_room(vec![slo("a", 0.999, 30, None)], 3);
    spans_from(&e, 5);
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(crate::slo::series::SloSeries(e.clone())));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    for line in [
        "slotel_slo_groups 3",
        "slotel_slo_groups_limit 3",
        "slotel_slo_groups_refused_events_total 2",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}

#[test]
fn restored_groups_take_their_seats_even_past_a_smaller_room() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine_with_room(vec![slo("a", 0.999, 30, None)], 10);
    spans_from(&e, 6);
    snapshot::write(&e, dir.path()).unwrap();

    // The same room: the 6 groups are back and hold their seats.
    let e2 = engine_with_room(vec![slo("a", 0.999, 30, None)], 10);
    snapshot::restore(&e2, dir.path());
    assert_eq!(e2.group_room().used(), 6);
    assert_eq!(groups(&e2.status()), 6);

    // A room of 4 after the restart: the 6 stay and keep counting, no new one is made.
    let e3 = engine_with_room(vec![slo("a", 0.999, 30, None)], 4);
    snapshot::restore(&e3, dir.path());
    assert_eq!(e3.group_room().used(), 6);
    spans_from(&e3, 8);
    let st = e3.status();
    assert_eq!(groups(&st), 6);
    assert_eq!(find(&st, "a", "c0").total, 2);
    assert_eq!(find(&st, "a", state::OVERFLOW).total, 2);
}
