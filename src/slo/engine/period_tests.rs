//! Calendar SLO windows and timeslice budgeting against hand-computed values, on a manual
//! clock: period boundaries in a time zone, slices judged per group and for `all`, and
//! both through snapshots.

use std::sync::Arc;
use std::time::Duration;

use super::tests::{S, engine, find, request, slo};
use super::*;
use crate::slo::spec::{Budgeting, CalendarUnit};

fn at(s: &str) -> u64 {
    let ts: jiff::Timestamp = s.parse().unwrap();
    ts.as_nanosecond() as u64
}

fn window<'a>(g: &'a GroupStatus, label: &str) -> &'a WindowStatus {
    g.windows
        .as_ref()
        .and_then(|w| w.iter().find(|w| w.window == label))
        .unwrap_or_else(|| panic!("no window {label}"))
}

fn monthly(zone: &str) -> Slo {
    let mut s = slo("availability", 0.99, 30, None);
    s.window = SloWindow::Calendar {
        unit: CalendarUnit::Month,
        time_zone: zone.into(),
    };
    s
}

#[test]
fn a_calendar_month_starts_again_at_local_midnight_of_the_first() {
    // 23:50 on October 31st in Seoul.
    let now = at("2026-10-31T14:50:00Z");
    let clock = Arc::new(ManualClock::new(now));
    let e = engine(vec![monthly("Asia/Seoul")], clock.clone());
    let spans: Vec<_> = (0..100)
        .map(|i| ("seoul", now - 60 * S, 1_000_000, i < 10))
        .collect();
    e.record_spans(&request(&spans), None);
    let st = e.status();
    let all = find(&st, "availability", "all");
    assert_eq!(all.window, "month");
    assert_eq!((all.total, all.good), (100, 90));
    // 10% errors on a 1% budget.
    assert!((all.error_budget_remaining.unwrap() - -9.0).abs() < 1e-9);
    let month = window(all, "month");
    assert_eq!(month.start.as_deref(), Some("2026-10-01T00:00:00+09:00"));
    assert_eq!(month.end.as_deref(), Some("2026-11-01T00:00:00+09:00"));
    assert!((all.burn_rate.get("month").copied().flatten().unwrap() - 10.0).abs() < 1e-9);

    // 00:02 on November 1st: a new period. A late span of October still counts in the
    // rolling windows, not in November.
    let now = at("2026-10-31T15:02:00Z");
    clock.set(now);
    let mut spans: Vec<_> = (0..50)
        .map(|_| ("seoul", now - 60 * S, 1_000_000, false))
        .collect();
    spans.push(("seoul", at("2026-10-31T14:59:00Z"), 1_000_000, true));
    e.record_spans(&request(&spans), None);
    let st = e.status();
    let all = find(&st, "availability", "all");
    assert_eq!((all.total, all.good), (50, 50));
    assert_eq!(all.error_budget_remaining, Some(1.0));
    let month = window(all, "month");
    assert_eq!(month.start.as_deref(), Some("2026-11-01T00:00:00+09:00"));
    assert_eq!(month.end.as_deref(), Some("2026-12-01T00:00:00+09:00"));
    assert_eq!(window(all, "1h").total, 151);
    let json = serde_json::to_string(&st).unwrap();
    assert!(
        json.contains(r#""start":"2026-11-01T00:00:00+09:00""#),
        "{json}"
    );
}

#[test]
fn a_calendar_window_sums_the_days_of_the_period_so_far() {
    let clock = Arc::new(ManualClock::new(at("2026-11-01T00:00:00Z")));
    let mut s = monthly("UTC");
    s.name = "monthly".into();
    let mut w = monthly("Europe/Berlin");
    w.name = "weekly".into();
    w.window = SloWindow::Calendar {
        unit: CalendarUnit::Week,
        time_zone: "Europe/Berlin".into(),
    };
    let e = engine(vec![s, w], clock.clone());
    // One span every hour from November 1st to November 20th 12:00 UTC, one in ten bad
    // in the last three days.
    let mut want = (0u64, 0u64);
    let mut week = (0u64, 0u64);
    // Monday November 16th, 00:00 in Berlin.
    let week_start = at("2026-11-15T23:00:00Z");
    for h in 0..(19 * 24 + 12) {
        let t = at("2026-11-01T00:30:00Z") + h * 3_600 * S;
        clock.set(t);
        let bad = h >= 17 * 24 && h % 10 == 0;
        e.record_spans(&request(&[("c1", t, 1_000, bad)]), None);
        want.0 += 1;
        want.1 += u64::from(!bad);
        if t >= week_start {
            week.0 += 1;
            week.1 += u64::from(!bad);
        }
    }
    let st = e.status();
    let m = find(&st, "monthly", "all");
    assert_eq!((m.total, m.good), want);
    let wk = find(&st, "weekly", "all");
    assert_eq!(wk.window, "week");
    assert_eq!((wk.total, wk.good), week);
    assert_eq!(
        window(wk, "week").start.as_deref(),
        Some("2026-11-16T00:00:00+01:00")
    );
    // The short windows stay rolling: 3d holds 72 hours (exact to 1/30).
    let d3 = window(m, "3d").total;
    assert!((70..=72).contains(&d3), "{d3}");
    assert!(window(m, "3d").start.is_none());
}

fn timeslices(objective: f64) -> Slo {
    let mut s = slo("availability", objective, 30, None);
    s.budgeting = Budgeting::Timeslices {
        slice: Duration::from_secs(60),
        slice_target: 0.95,
    };
    s
}

/// Minutes 0..9 of traffic from T0: cluster `a` 10 spans a minute, `b` 30; in minute 3
/// `a` has 4 bad spans (a bad slice for `a` and for `all`: 36/40), in minute 6 one
/// (bad for `a`, good for `all`: 39/40); minute 9 has no events.
fn slice_traffic(e: &Engine, clock: &ManualClock, t0: u64) {
    for minute in 0..9u64 {
        let t = t0 + minute * 60 * S + 30 * S;
        clock.set(t);
        let bad_a = match minute {
            3 => 4,
            6 => 1,
            _ => 0,
        };
        let mut spans: Vec<_> = (0..10).map(|i| ("a", t, 1_000, i < bad_a)).collect();
        spans.extend((0..30).map(|_| ("b", t, 1_000, false)));
        e.record_spans(&request(&spans), None);
    }
}

#[test]
fn timeslices_judge_each_slice_per_group_and_for_all() {
    let t0 = 1_800_000_000 * S;
    let clock = Arc::new(ManualClock::new(t0));
    let e = engine(vec![timeslices(0.9)], clock.clone());
    slice_traffic(&e, &clock, t0);
    clock.set(t0 + 600 * S + S);
    let st = e.status();
    let slices = |cluster: &str| {
        let t = find(&st, "availability", cluster)
            .timeslices
            .clone()
            .unwrap();
        (t.elapsed, t.good)
    };
    assert_eq!(slices("a"), (10, 8));
    assert_eq!(slices("b"), (10, 10));
    assert_eq!(slices("all"), (10, 9));
    let all = find(&st, "availability", "all");
    assert_eq!(all.timeslices.as_ref().unwrap().slice, "1m");
    assert_eq!(all.timeslices.as_ref().unwrap().sli, Some(0.9));
    // Events stay events; the budget is over slices: 1 bad of 10 on a 10% budget.
    assert_eq!((all.total, all.good), (360, 355));
    assert!((all.error_ratio.unwrap() - 0.1).abs() < 1e-12);
    assert!(all.error_budget_remaining.unwrap().abs() < 1e-9);
    let a = find(&st, "availability", "a");
    assert!((a.error_budget_remaining.unwrap() - -1.0).abs() < 1e-9);
    assert!((a.burn_rate.get("30d").copied().flatten().unwrap() - 2.0).abs() < 1e-9);
    // The 5m window (exact to 1/30) holds the complete slices of minutes 6 to 9.
    assert_eq!(
        window(a, "5m").slices.map(|s| (s.elapsed, s.good)),
        Some((4, 3))
    );

    // Twenty minutes later one more span settles the slices into the windows.
    let later = t0 + 1_800 * S + 10 * S;
    clock.set(later);
    e.record_spans(&request(&[("a", later, 1_000, false)]), None);
    clock.set(t0 + 1_860 * S);
    let st = e.status();
    let t = find(&st, "availability", "a").timeslices.clone().unwrap();
    assert_eq!((t.elapsed, t.good), (31, 29));
    let t = find(&st, "availability", "all").timeslices.clone().unwrap();
    assert_eq!((t.elapsed, t.good), (31, 30));
    let w = window(find(&st, "availability", "a"), "5m").slices.unwrap();
    assert_eq!((w.elapsed, w.good), (4, 4));
}

#[test]
fn timeslices_and_calendar_windows_survive_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = 1_800_000_000 * S;
    let clock = Arc::new(ManualClock::new(t0));
    let mut cal = monthly("Asia/Seoul");
    cal.name = "monthly".into();
    cal.budgeting = Budgeting::Timeslices {
        slice: Duration::from_secs(60),
        slice_target: 0.95,
    };
    let e = engine(vec![timeslices(0.9), cal.clone()], clock.clone());
    slice_traffic(&e, &clock, t0);
    // Settle some slices, keep others open.
    let later = t0 + 900 * S;
    clock.set(later);
    e.record_spans(&request(&[("a", later, 1_000, false)]), None);
    snapshot::write(&e, dir.path()).unwrap();
    let before = e.status();

    let e2 = engine(vec![timeslices(0.9), cal], clock.clone());
    let restored = snapshot::restore(&e2, dir.path());
    assert_eq!((restored.slos, restored.skipped), (2, 0));
    let after = e2.status();
    for name in ["availability", "monthly"] {
        for cluster in ["all", "a", "b"] {
            let (b, a) = (find(&before, name, cluster), find(&after, name, cluster));
            assert_eq!(a.timeslices, b.timeslices, "{name}/{cluster}");
            assert_eq!(a.windows, b.windows, "{name}/{cluster}");
        }
    }
    assert_eq!(
        find(&after, "availability", "a")
            .timeslices
            .as_ref()
            .map(|t| (t.elapsed, t.good)),
        Some((15, 13))
    );
    // A version 2 snapshot set calendar SLOs aside (their windows were rolling then).
    let path = dir.path().join("slo-state.json");
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let e3 = engine(vec![timeslices(0.9), monthly("Asia/Seoul")], clock);
    snapshot::as_former_version(&mut file, 2, &e3);
    std::fs::write(&path, file.to_string()).unwrap();
    let restored = snapshot::restore(&e3, dir.path());
    assert_eq!((restored.slos, restored.skipped), (1, 1));
}

/// The slices of every window go out as `slotel_slo_timeslices{window, outcome}`, the
/// series the generated rules divide: the API's counts, per group and window.
#[test]
fn slice_counts_are_series_per_window() {
    let t0 = 1_800_000_000 * S;
    let clock = Arc::new(ManualClock::new(t0));
    let e = engine(vec![timeslices(0.9)], clock.clone());
    slice_traffic(&e, &clock, t0);
    clock.set(t0 + 600 * S + S);
    let st = e.status();
    let families = crate::slo::series::families(&e, &st);
    let rows = &families
        .iter()
        .find(|f| f.name == "slotel_slo_timeslices")
        .expect("a timeslices family")
        .rows;
    let value = |cluster: &str, window: &str, outcome: &str| {
        let found: Vec<f64> = rows
            .iter()
            .filter(|(l, _)| {
                let get = |k: &str| l.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
                get("cluster") == Some(cluster)
                    && get("window") == Some(window)
                    && get("outcome") == Some(outcome)
            })
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(found.len(), 1, "{cluster} {window} {outcome}: {rows:?}");
        found[0]
    };
    for (cluster, window, good, bad) in [
        ("a", "30d", 8.0, 2.0),
        ("a", "5m", 3.0, 1.0),
        ("b", "30d", 10.0, 0.0),
        ("all", "30d", 9.0, 1.0),
    ] {
        assert_eq!(value(cluster, window, "good"), good, "{cluster} {window}");
        assert_eq!(value(cluster, window, "bad"), bad, "{cluster} {window}");
        let w = window_of(find(&st, "availability", cluster), window);
        assert_eq!((w.good as f64, w.bad() as f64), (good, bad));
    }
}

fn window_of(g: &GroupStatus, label: &str) -> slices::SliceCounts {
    window(g, label).slices.unwrap()
}
