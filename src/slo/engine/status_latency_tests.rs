//! The status's latencies (every window of every group, cluster roll-up and `all`) against
//! the plain merge: for each entry and window, the buckets of the slots the window reads
//! (its ring's slots in the window, and for a coarser window the finest ring's slots it
//! covers) of each group the entry stands for, added into a map, sorted and walked
//! (`hist::tests::plain_quantiles`). Random traffic over days, so that slots are open,
//! dense, shared by several SLOs, sealed and folded into every coarser ring, read at times
//! on and around the rings' slot boundaries.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::hist::tests::{plain_add, plain_quantiles};
use super::state::{GroupKey, GroupState, SloState};
use super::tests::{S, engine, slo};
use super::*;
use crate::attr::kv;
use crate::slo::spec::{AttrRef, CalendarUnit, SloWindow};
use crate::test_otlp::{server_span, traces_of};

const T0: u64 = 1_800_000_000 * S;
const CLUSTERS: [&str; 3] = ["seoul", "busan", "jeju"];
const ROUTES: [&str; 4] = ["", "/a", "/b", "/c"];

/// `spans` spans ending up to `spread` before `now` (some of them late or in the future),
/// of random clusters and routes, with latencies from microseconds to past an hour.
fn request(rng: &mut fastrand::Rng, now: u64, spans: usize) -> ExportTraceServiceRequest {
    let spread = match rng.u8(..4) {
        0 => 400 * S,
        _ => rng.u64(1..30 * S),
    };
    let centre = [2_000_000, 40_000_000, 900_000_000][rng.usize(..3)];
    traces_of((0..spans).map(|i| {
        let end = now.saturating_sub(rng.u64(..spread)) + rng.u64(..S);
        let duration = match rng.u8(..20) {
            0 => rng.u64(..5_000 * S),
            1 => rng.u64(..5_000),
            _ => centre / 2 + rng.u64(..centre),
        };
        let route = ROUTES[rng.usize(..ROUTES.len())];
        let span = Span {
            attributes: if route.is_empty() {
                Vec::new()
            } else {
                vec![kv("http.route", route)]
            },
            ..server_span(i as u64 + 1, "op", end.saturating_sub(duration), end, false)
        };
        let attributes = vec![
            kv("service.name", "checkout"),
            kv("k8s.cluster.name", CLUSTERS[rng.usize(..CLUSTERS.len())]),
        ];
        (attributes, vec![span])
    }))
}

/// What the plain merge gives for window `i` of `groups` together at `now`.
fn plain_window(groups: &[&GroupState], i: usize, now: u64, qs: &[f64]) -> Vec<Option<u64>> {
    let mut buckets = BTreeMap::new();
    for g in groups {
        for h in g.rings[i].window_hists(now) {
            plain_add(&mut buckets, h);
        }
        if i > 0 {
            for (start, h) in g.rings[0].slots_with_start() {
                if g.rings[i].covers_time(start, now) {
                    plain_add(&mut buckets, h);
                }
            }
        }
    }
    plain_quantiles(&buckets, qs)
}

/// The groups each entry of [`status::of_slo`] stands for, in its order: every group
/// (`all`), then by cluster its roll-up and (grouped) its groups.
fn views(state: &SloState, grouped: bool) -> Vec<Vec<&GroupState>> {
    let mut keys: Vec<&GroupKey> = state.groups.keys().collect();
    keys.sort();
    let mut out = vec![state.groups.values().collect::<Vec<_>>()];
    let mut last: Option<&str> = None;
    for key in keys {
        if grouped && last != Some(key.cluster.as_str()) {
            last = Some(&key.cluster);
            out.push(
                state
                    .groups
                    .iter()
                    .filter(|(k, _)| k.cluster == key.cluster)
                    .map(|(_, g)| g)
                    .collect(),
            );
        }
        out.push(vec![&state.groups[key]]);
    }
    out
}

/// What the test's reads went through, so that it cannot pass without reading them.
#[derive(Debug, Default)]
struct Seen {
    windows: usize,
    with_latencies: usize,
    /// Coarser windows whose own ring held latencies besides the finest ring's.
    coarse_and_fine: usize,
    /// Coarser windows reading other finest slots than the finest window.
    other_fine_slots: usize,
    dense: usize,
    sealed: usize,
    shared: usize,
}

fn check(e: &Engine, now: u64, seen: &mut Seen) {
    for slo in e.slos() {
        let state = slo.state();
        let qs: Vec<f64> = slo.spec.percentiles.iter().map(|p| p / 100.0).collect();
        let entries = status::of_slo(&slo, &state, now);
        let views = views(&state, !slo.spec.group_by.is_empty());
        assert_eq!(entries.len(), views.len(), "{}", slo.spec.name);
        for (entry, groups) in entries.iter().zip(&views) {
            let windows = entry.windows.as_ref().expect("windows in detail");
            assert_eq!(windows.len(), state.windows.len());
            for (i, w) in windows.iter().enumerate() {
                let want: Vec<Option<f64>> = plain_window(groups, i, now, &qs)
                    .into_iter()
                    .map(|v| v.map(|n| n as f64 / 1e9))
                    .collect();
                let got: Vec<Option<f64>> = w.latency.0.iter().map(|(_, v)| *v).collect();
                assert_eq!(
                    got, want,
                    "{} {} {:?} window {}",
                    slo.spec.name, entry.cluster, entry.group, w.window
                );
                seen.windows += 1;
                seen.with_latencies += usize::from(want.iter().any(Option::is_some));
                for g in groups.iter().filter(|_| i > 0) {
                    seen.coarse_and_fine += usize::from(
                        !g.rings[i].latency(now).is_empty()
                            && g.rings[i].covered_places(&g.rings[0], now) != 0,
                    );
                    seen.other_fine_slots += usize::from(
                        g.rings[i].covered_places(&g.rings[0], now)
                            != g.rings[0].window_places(now),
                    );
                }
            }
            assert_eq!(
                entry.latency,
                windows
                    .last()
                    .map(|w| w.latency.clone())
                    .unwrap_or_default()
            );
        }
        for g in state.groups.values() {
            for ring in &g.rings {
                let (d, s, sh) = ring.hist_kinds();
                seen.dense += d;
                seen.sealed += s;
                seen.shared += sh;
            }
        }
    }
}

#[test]
fn status_latencies_are_those_of_the_plain_merge_of_each_window() {
    let clock = Arc::new(ManualClock::new(T0));
    let mut grouped = slo("grouped", 0.99, 30, Some(Duration::from_millis(300)));
    grouped.group_by = vec![AttrRef::Item("http.route".into())];
    grouped.percentiles = vec![0.0, 50.0, 99.9, 90.0, 100.0];
    let mut monthly = slo("monthly", 0.99, 30, None);
    monthly.window = SloWindow::Calendar {
        unit: CalendarUnit::Month,
        time_zone: "Asia/Seoul".into(),
    };
    // Two SLOs selecting the same spans share their finest slots' histograms.
    let slos = vec![
        slo("a", 0.999, 30, None),
        slo("b", 0.99, 7, Some(Duration::from_millis(100))),
        grouped,
        monthly,
    ];
    let e = engine(slos, clock.clone());
    let mut rng = fastrand::Rng::with_seed(17);
    let mut now = T0;
    let mut seen = Seen::default();
    for step in 0..120 {
        now += match rng.u8(..10) {
            0 => rng.u64(3_600 * S..30 * 3_600 * S),
            1..=3 => rng.u64(60 * S..1_800 * S),
            _ => rng.u64(S..15 * S),
        };
        clock.set(now);
        let spans = if rng.u8(..4) == 0 { 1_500 } else { 150 };
        e.record_spans(&request(&mut rng, now, spans), None);
        if step % 15 != 14 {
            continue;
        }
        // Now, and on or around a slot boundary of two rings.
        let mut times = vec![now];
        for _ in 0..2 {
            let width = [10, 60, 120, 240, 720, 2_880, 8_640, 86_400][rng.usize(..8)] * S;
            let b = (now / width) * width;
            times.extend([b, b - 1, b + width - 1]);
        }
        for t in times {
            clock.set(t);
            check(&e, t, &mut seen);
        }
        clock.set(now);
    }
    // Every kind of slot, coarser windows with slots of their own and the finest
    // ring's, and coarser windows that read other finest slots than the finest window.
    assert!(seen.windows > 10_000, "{seen:?}");
    assert!(seen.with_latencies > seen.windows / 2, "{seen:?}");
    assert!(seen.coarse_and_fine > 1_000, "{seen:?}");
    assert!(seen.other_fine_slots > 100, "{seen:?}");
    assert!(
        seen.dense > 0 && seen.sealed > 1_000 && seen.shared > 0,
        "{seen:?}"
    );
}
