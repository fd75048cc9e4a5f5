//! Oracle tests: budgets and burn rates against hand-computed values (including the SRE
//! Workbook figures), percentiles against exact sorted values, late and future data,
//! groups, and windows on a manual clock.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use super::*;
use crate::attr::kv;
use crate::slo::ottl::{Condition, ConditionTarget};
use crate::slo::spec::{Budgeting, SloWindow, SourceRef, SpanSli};
use crate::test_otlp::{by_resource, server_span, traces_of};

pub(super) const S: u64 = 1_000_000_000;
const T0: u64 = 1_800_000_000 * S;

/// (cluster, end time, duration, error)
pub(super) fn request(spans: &[(&str, u64, u64, bool)]) -> ExportTraceServiceRequest {
    traces_of(by_resource(spans.iter().enumerate().map(
        |(i, (cluster, end, dur, error))| {
            let span = server_span(i as u64 + 1, "GET /pay", end - dur, *end, *error);
            let attributes = vec![
                kv("service.name", "checkout"),
                kv("k8s.cluster.name", cluster),
            ];
            (attributes, span)
        },
    )))
}

pub(super) fn slo(
    name: &str,
    objective: f64,
    window_days: u64,
    threshold: Option<Duration>,
) -> Slo {
    Slo {
        service: "checkout".into(),
        name: name.into(),
        description: None,
        objective,
        window: SloWindow::Rolling(Duration::from_secs(window_days * 86_400)),
        budgeting: Budgeting::Occurrences,
        sli: Sli::Spans(SpanSli {
            filter: Condition::parse("kind == SPAN_KIND_SERVER", ConditionTarget::Span).unwrap(),
            bad: Some(
                Condition::parse("status.code == STATUS_CODE_ERROR", ConditionTarget::Span)
                    .unwrap(),
            ),
            latency_threshold: threshold,
            adjusted_counts: true,
        }),
        percentiles: vec![50.0, 90.0, 95.0, 99.0, 99.9],
        group_by: Vec::new(),
        max_groups: 1000,
        min_events: 0,
        runbook_url: None,
        alerting: Default::default(),
        source: SourceRef::default(),
    }
}

pub(super) fn engine(slos: Vec<Slo>, clock: Arc<ManualClock>) -> Arc<Engine> {
    Engine::new(EngineConfig::default(), clock, SloSet::of(slos))
}

pub(super) fn find<'a>(st: &'a [GroupStatus], name: &str, cluster: &str) -> &'a GroupStatus {
    st.iter()
        .find(|s| s.name == name && s.cluster == cluster)
        .unwrap_or_else(|| panic!("no status for {name}/{cluster}"))
}

#[test]
fn counts_ratios_budget_and_burn_rates_by_cluster_and_all() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("availability", 0.999, 30, None)], clock.clone());
    let mut spans = Vec::new();
    for i in 0..1000u64 {
        let cluster = if i < 600 { "seoul" } else { "busan" };
        spans.push((cluster, T0 - 30 * S, 10_000_000, i % 100 == 0));
    }
    e.record_spans(&request(&spans), None);
    let st = e.status();
    let all = find(&st, "availability", "all");
    assert_eq!((all.total, all.good), (1000, 990));
    assert_eq!(all.error_ratio, Some(0.01));
    // 1% errors against a 0.1% budget: burning at 10×, budget overspent 9 times over.
    let burn = all.burn_rate.get("5m").copied().flatten().unwrap();
    assert!((burn - 10.0).abs() < 1e-9, "{burn}");
    assert!((all.error_budget_remaining.unwrap() - -9.0).abs() < 1e-9);
    assert_eq!(all.window, "30d");
    assert_eq!(all.status.as_str(), "breaching");
    let seoul = find(&st, "availability", "seoul");
    assert_eq!((seoul.total, seoul.good), (600, 594));
    let busan = find(&st, "availability", "busan");
    assert_eq!((busan.total, busan.good), (400, 396));
    // The token-bound cluster wins over the resource attribute.
    e.record_spans(&request(&[("seoul", T0 - S, 1_000, false)]), Some("daegu"));
    assert_eq!(find(&e.status(), "availability", "daegu").total, 1);
}

#[test]
fn sre_workbook_figures() {
    // Objective 99%: budget 1%. 1000 events per hour for 30 days, all good except the last
    // hour, which burns at 14.4× (14.4% errors): that spends 2% of the 30-day budget.
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("availability", 0.99, 30, None)], clock.clone());
    let start = T0;
    for hour in 0..720u64 {
        let t = start + hour * 3_600 * S + 1_800 * S;
        clock.set(t);
        let bad = if hour == 719 { 144 } else { 0 };
        let spans: Vec<_> = (0..1000).map(|i| ("c1", t, 1_000_000, i < bad)).collect();
        e.record_spans(&request(&spans), None);
    }
    clock.set(start + 720 * 3_600 * S);
    let st = e.status();
    let all = find(&st, "availability", "all");
    let burn_1h = all.burn_rate.get("1h").copied().flatten().unwrap();
    assert!((burn_1h - 14.4).abs() < 1e-9, "1h burn {burn_1h}");
    let remaining = all.error_budget_remaining.unwrap();
    assert!((remaining - 0.98).abs() < 0.001, "remaining {remaining}");
    // The window is exact to 1/30: the 30d window holds 29 to 30 days of traffic.
    assert!((696_000..=720_000).contains(&all.total), "{}", all.total);

    // Burn rate 1 spends a 30-day budget in exactly 30 days; 1000 spends it in 43.2 minutes.
    let budget_minutes = |burn: f64| 30.0 * 24.0 * 60.0 / burn;
    assert_eq!(budget_minutes(1.0), 43_200.0);
    assert!((budget_minutes(1000.0) - 43.2).abs() < 1e-9);
    // Checked against the engine: 43 minutes of 100% errors at objective 99.9% leave about
    // nothing of the budget when traffic is uniform over 30 days.
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("availability", 0.999, 30, None)], clock.clone());
    for minute in 0..(30 * 24 * 60u64) {
        let t = T0 + minute * 60 * S + 30 * S;
        clock.set(t);
        let bad = minute >= 30 * 24 * 60 - 43;
        e.record_spans(&request(&[("c1", t, 1_000, bad)]), None);
    }
    let all = find(&e.status(), "availability", "all").clone();
    let burn_5m = all.burn_rate.get("5m").copied().flatten().unwrap();
    assert!((burn_5m - 1000.0).abs() < 1e-6, "{burn_5m}");
    let remaining = all.error_budget_remaining.unwrap();
    assert!(remaining.abs() < 0.05, "remaining {remaining}");
}

#[test]
fn latency_threshold_and_percentiles_are_exact_to_a_tenth_of_a_percent() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(
        vec![slo("latency", 0.99, 30, Some(Duration::from_millis(300)))],
        clock.clone(),
    );
    let mut rng = fastrand::Rng::with_seed(9);
    let mut durations: Vec<u64> = (0..20_000)
        .map(|_| {
            let z = (-2.0 * (1.0 - rng.f64()).ln()).sqrt()
                * (2.0 * std::f64::consts::PI * rng.f64()).cos();
            (0.08e9 * (0.9 * z).exp()) as u64 + 1_000
        })
        .collect();
    let spans: Vec<_> = durations
        .iter()
        .map(|d| ("c1", T0 - S, *d, false))
        .collect();
    e.record_spans(&request(&spans), None);
    let slow = durations.iter().filter(|d| **d > 300_000_000).count() as u64;
    let st = e.status();
    let all = find(&st, "latency", "all");
    assert_eq!(all.good, 20_000 - slow);
    durations.sort_unstable();
    for (key, p) in [
        ("p50", 0.5),
        ("p90", 0.9),
        ("p95", 0.95),
        ("p99", 0.99),
        ("p999", 0.999),
    ] {
        let rank = ((p * durations.len() as f64).ceil() as usize).max(1);
        let want = durations[rank - 1] as f64 / 1e9;
        let got = all.latency.get(key).copied().flatten().unwrap();
        let err = (got - want) / want;
        assert!((0.0..=0.001).contains(&err), "{key}: want {want} got {got}");
    }
}

#[test]
fn late_and_future_spans_are_counted_and_dropped() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("availability", 0.999, 30, None)], clock);
    e.record_spans(
        &request(&[
            ("c1", T0 - 10 * S, 1_000, false),
            ("c1", T0 - 301 * S, 1_000, false),
            ("c1", T0 - 3_600 * S, 1_000, false),
            ("c1", T0 + 61 * S, 1_000, false),
            ("c1", T0 + 30 * S, 1_000, false),
        ]),
        None,
    );
    assert_eq!(find(&e.status(), "availability", "all").total, 2);
    let d = e.slos()[0].dropped();
    assert_eq!(d, Dropped { late: 2, future: 1 });
}

#[test]
fn no_traffic_is_null_not_nan() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("availability", 0.999, 28, None)], clock);
    let st = e.status();
    let all = find(&st, "availability", "all");
    assert_eq!(all.status.as_str(), "no_data");
    assert_eq!(all.window, "28d");
    assert_eq!(all.error_ratio, None);
    assert_eq!(all.error_budget_remaining, None);
    assert!(all.burn_rate.0.iter().all(|(_, v)| v.is_none()));
    let json = serde_json::to_string(&st).unwrap();
    assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
    assert!(json.contains(r#""error_ratio":null"#));
}

#[test]
fn windows_forget_on_a_moving_clock_and_min_events_suppresses_burn() {
    let clock = Arc::new(ManualClock::new(T0));
    let mut s = slo("availability", 0.999, 30, None);
    s.min_events = 5;
    let e = engine(vec![s], clock.clone());
    e.record_spans(&request(&[("c1", T0 - S, 1_000, true)]), None);
    let st = e.status();
    let all = find(&st, "availability", "all");
    assert_eq!(
        all.burn_rate.get("5m").copied().flatten(),
        None,
        "1 event < min_events"
    );
    clock.advance(Duration::from_secs(301));
    let st = e.status();
    let w5m = st[0]
        .windows
        .as_ref()
        .unwrap()
        .iter()
        .find(|w| w.window == "5m")
        .unwrap()
        .clone();
    assert_eq!(w5m.total, 0);
    let w30m = st[0]
        .windows
        .as_ref()
        .unwrap()
        .iter()
        .find(|w| w.window == "30m")
        .unwrap()
        .clone();
    assert_eq!(w30m.total, 1);
}

#[test]
fn groups_are_capped_with_an_overflow_group() {
    let clock = Arc::new(ManualClock::new(T0));
    let mut s = slo("availability", 0.999, 30, None);
    s.max_groups = 3;
    let e = engine(vec![s], clock);
    let clusters: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
    let spans: Vec<_> = clusters
        .iter()
        .map(|c| (c.as_str(), T0 - S, 1_000, false))
        .collect();
    e.record_spans(&request(&spans), None);
    let st = e.status();
    assert_eq!(st.len(), 1 + 3 + 1, "all + 3 groups + overflow");
    assert_eq!(find(&st, "availability", state::OVERFLOW).total, 7);
    assert_eq!(find(&st, "availability", "all").total, 10);
}

#[test]
fn reload_keeps_state_of_unchanged_slos() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(
        vec![slo("a", 0.999, 30, None), slo("b", 0.99, 30, None)],
        clock,
    );
    e.record_spans(&request(&[("c1", T0 - S, 1_000, false)]), None);
    e.replace(SloSet::of(vec![
        slo("a", 0.999, 30, None),
        slo("b", 0.95, 30, None),
    ]));
    let st = e.status();
    assert_eq!(find(&st, "a", "all").total, 1, "unchanged: state kept");
    assert_eq!(
        find(&st, "b", "all").total,
        0,
        "changed objective: fresh state"
    );
}

#[test]
fn snapshots_restore_state_and_survive_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(
        vec![
            slo("a", 0.999, 30, Some(Duration::from_millis(50))),
            slo("b", 0.99, 30, None),
        ],
        clock.clone(),
    );
    let spans: Vec<_> = (0..500u64)
        .map(|i| {
            (
                if i % 2 == 0 { "seoul" } else { "busan" },
                T0 - (i % 250) * S,
                1_000_000 + i * 200_000,
                i % 50 == 0,
            )
        })
        .collect();
    e.record_spans(&request(&spans), None);
    snapshot::write(&e, dir.path()).unwrap();
    let before = e.status();

    // A restart: same definitions for `a`, a changed one for `b`.
    let e2 = engine(
        vec![
            slo("a", 0.999, 30, Some(Duration::from_millis(50))),
            slo("b", 0.95, 30, None),
        ],
        clock.clone(),
    );
    let restored = snapshot::restore(&e2, dir.path());
    assert_eq!(
        restored,
        snapshot::Restored {
            slos: 1,
            skipped: 1,
            series: 0,
            wal_position: 0,
        }
    );
    let after = e2.status();
    for cluster in ["all", "seoul", "busan"] {
        assert_eq!(
            find(&after, "a", cluster),
            find(&before, "a", cluster),
            "{cluster}"
        );
    }
    assert_eq!(find(&after, "b", "all").total, 0);

    // Corrupt snapshot: set aside, start empty, never panic.
    std::fs::write(
        dir.path().join("slo-state.json"),
        b"{\"version\": 1, \"slos\": [tru",
    )
    .unwrap();
    let e3 = engine(vec![slo("a", 0.999, 30, None)], clock.clone());
    assert_eq!(
        snapshot::restore(&e3, dir.path()),
        snapshot::Restored::default()
    );
    assert!(!dir.path().join("slo-state.json").exists());
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("slo-state.json.corrupt-")
        });
    assert!(aside, "corrupt snapshot kept aside for inspection");
    // Another version is not read either.
    std::fs::write(
        dir.path().join("slo-state.json"),
        br#"{"version": 99, "written_unix_nanos": 0, "slos": []}"#,
    )
    .unwrap();
    assert_eq!(
        snapshot::restore(&e3, dir.path()),
        snapshot::Restored::default()
    );
    assert_eq!(find(&e3.status(), "a", "all").total, 0);
}

#[test]
fn latency_folding_into_coarse_windows_loses_and_duplicates_nothing() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("latency", 0.99, 30, None)], clock.clone());
    let mut rng = fastrand::Rng::with_seed(5);
    let mut all = Vec::new();
    // 50 minutes of traffic, one request every 3 s, with some spans 2 minutes late.
    for step in 0..1000u64 {
        let now = T0 + step * 3 * S;
        clock.set(now);
        let mut spans = Vec::new();
        for _ in 0..4 {
            let late = rng.f64() < 0.1;
            let end = if late { now - 120 * S } else { now };
            let d = rng.u64(1_000_000..900_000_000);
            all.push(d);
            spans.push(("c1", end, d, false));
        }
        e.record_spans(&request(&spans), None);
    }
    all.sort_unstable();
    let st = e.status();
    let windows = st[0].windows.as_ref().unwrap();
    let w1h = windows.iter().find(|w| w.window == "1h").unwrap();
    assert_eq!(w1h.total, all.len() as u64);
    for (key, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
        let rank = ((q * all.len() as f64 - 1e-9).ceil() as usize).max(1);
        let want = all[rank - 1] as f64 / 1e9;
        let got = w1h.latency.get(key).copied().flatten().unwrap();
        assert!(
            ((got - want) / want).abs() <= 0.001,
            "{key}: {want} vs {got}"
        );
    }
    // Every coarse window saw the same events.
    for w in windows
        .iter()
        .filter(|w| w.window != "5m" && w.window != "30m")
    {
        assert_eq!(w.total, all.len() as u64, "{}", w.window);
        assert_eq!(w.latency, w1h.latency, "{}", w.window);
    }
}

#[test]
fn a_long_pause_does_not_lose_the_last_slot_before_it() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("latency", 0.99, 30, None)], clock.clone());
    e.record_spans(&request(&[("c1", T0, 7_000_000, false)]), None);
    // 31 fine slots later (the finished slot's place in the finest ring is reused).
    let later = T0 + 310 * S;
    clock.set(later);
    e.record_spans(&request(&[("c1", later, 9_000_000, false)]), None);
    let st = e.status();
    let w1h = st[0]
        .windows
        .as_ref()
        .unwrap()
        .iter()
        .find(|w| w.window == "1h")
        .unwrap()
        .clone();
    assert_eq!(w1h.total, 2);
    let p50 = w1h.latency.get("p50").copied().flatten().unwrap();
    assert!((p50 - 0.007).abs() < 0.00001, "{p50}");
}

#[test]
fn otlp_series_carry_native_histograms_and_mark_vanished_series_stale() {
    use crate::slo::otlp_series::{LATENCY, SeriesSource};
    use opentelemetry_proto::tonic::metrics::v1::{DataPointFlags, metric};

    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(
        vec![
            slo("availability", 0.999, 30, None),
            slo("latency", 0.99, 30, Some(Duration::from_millis(300))),
        ],
        clock.clone(),
    );
    let mut spans = Vec::new();
    for i in 0..200u64 {
        let cluster = if i % 2 == 0 { "seoul" } else { "busan" };
        spans.push((cluster, T0 - 10 * S, (i + 1) * 1_000_000, i % 50 == 0));
    }
    e.record_spans(&request(&spans), None);
    let mut source = SeriesSource::new(e.clone(), 6, false);
    let first = source.collect();
    let metrics = &first.resource_metrics[0].scope_metrics[0].metrics;
    let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
    assert!(names.contains(&"slotel_slo_events_total"), "{names:?}");
    let hist = metrics
        .iter()
        .find(|m| m.name == LATENCY)
        .expect("latency histogram");
    let Some(metric::Data::ExponentialHistogram(h)) = &hist.data else {
        panic!("not an exponential histogram");
    };
    // Both SLOs record latencies: 2 SLOs × (seoul, busan, all).
    assert_eq!(h.data_points.len(), 6);
    for p in &h.data_points {
        let buckets = p
            .positive
            .as_ref()
            .map_or(0, |b| b.bucket_counts.iter().sum::<u64>());
        assert_eq!(buckets + p.zero_count, p.count);
        assert_eq!(p.scale, 6);
    }
    let all = h
        .data_points
        .iter()
        .find(|p| {
            p.attributes.contains(&kv("cluster", "all"))
                && p.attributes.contains(&kv("slo", "latency"))
        })
        .expect("all");
    assert_eq!(all.count, 200);
    let want_sum: f64 = (1..=200u64).map(|i| i as f64 / 1000.0).sum();
    assert!((all.sum.unwrap_or(0.0) - want_sum).abs() < 1e-9);
    // Nothing stale yet.
    assert!(metrics.iter().all(|m| !m.name.is_empty()));

    // The latency SLO is removed: its series are written once more as stale.
    e.replace(SloSet::of(vec![slo("availability", 0.999, 30, None)]));
    let second = source.collect();
    let metrics = &second.resource_metrics[0].scope_metrics[0].metrics;
    // Each stale marker is a point of its series' own metric, flagged "no recorded value".
    let stale = DataPointFlags::NoRecordedValueMask as u32;
    let stale_hist: Vec<_> = metrics
        .iter()
        .filter(|m| m.name == LATENCY)
        .flat_map(|m| match &m.data {
            Some(metric::Data::ExponentialHistogram(h)) => h.data_points.clone(),
            _ => Vec::new(),
        })
        .filter(|p| p.flags == stale)
        .collect();
    assert_eq!(stale_hist.len(), 3, "latency × (seoul, busan, all)");
    for p in &stale_hist {
        assert_eq!(p.flags, stale);
        assert!(
            p.attributes.contains(&kv("slo", "latency")),
            "{:?}",
            p.attributes
        );
    }
    let stale_events: Vec<_> = metrics
        .iter()
        .filter(|m| m.name == "slotel_slo_events_total")
        .flat_map(|m| match &m.data {
            Some(metric::Data::Sum(s)) => s.data_points.clone(),
            _ => Vec::new(),
        })
        .filter(|p| p.flags == stale)
        .collect();
    assert!(!stale_events.is_empty());
    assert!(
        stale_events
            .iter()
            .all(|p| p.attributes.contains(&kv("slo", "latency")))
    );
    assert!(metrics.iter().all(|m| !m.name.is_empty()));
    // Written once: the next collection has no stale markers.
    let third = source.collect();
    let flagged = third.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .flat_map(|m| match &m.data {
            Some(metric::Data::Sum(s)) => s.data_points.iter().map(|p| p.flags).collect(),
            Some(metric::Data::Gauge(g)) => g.data_points.iter().map(|p| p.flags).collect(),
            Some(metric::Data::ExponentialHistogram(h)) => {
                h.data_points.iter().map(|p| p.flags).collect()
            }
            _ => Vec::new(),
        })
        .filter(|f| *f == stale)
        .count();
    assert_eq!(flagged, 0);
}

#[test]
fn a_series_first_written_now_starts_with_a_zero_point_when_it_was_zero() {
    use crate::slo::otlp_series::{LATENCY, SeriesSource};
    use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};

    // (time, value) of every point of `name` for cluster seoul.
    fn points(
        req: &opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
        name: &str,
    ) -> Vec<(u64, f64)> {
        let seoul = kv("cluster", "seoul");
        req.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .filter(|m| m.name == name)
            .flat_map(|m| match &m.data {
                Some(metric::Data::Sum(s)) => s
                    .data_points
                    .iter()
                    .filter(|p| p.attributes.contains(&seoul))
                    .filter(|p| p.attributes.contains(&kv("outcome", "good")))
                    .map(|p| match p.value {
                        Some(number_data_point::Value::AsDouble(v)) => (p.time_unix_nano, v),
                        _ => (p.time_unix_nano, f64::NAN),
                    })
                    .collect::<Vec<_>>(),
                Some(metric::Data::ExponentialHistogram(h)) => h
                    .data_points
                    .iter()
                    .filter(|p| p.attributes.contains(&seoul))
                    .map(|p| (p.time_unix_nano, p.count as f64))
                    .collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("availability", 0.999, 30, None)], clock.clone());
    let mut fresh = SeriesSource::new(e.clone(), 6, true);
    let mut restored = SeriesSource::new(e.clone(), 6, false);
    assert!(points(&fresh.collect(), "slotel_slo_events_total").is_empty());
    let t1 = T0 + 15 * S;
    clock.set(t1);
    e.record_spans(&request(&[("seoul", t1 - S, 1_000_000, false); 3]), None);
    clock.set(t1 + S);
    // Born since the last collection: zero then, its count now.
    assert_eq!(
        points(&fresh.collect(), "slotel_slo_events_total"),
        vec![(T0, 0.0), (t1 + S, 3.0)]
    );
    assert_eq!(
        points(&fresh.collect(), LATENCY),
        vec![(t1 + S, 3.0)],
        "written before: no zero again"
    );
    // Restored state: what the first collection finds was not zero at any known time.
    assert_eq!(
        points(&restored.collect(), "slotel_slo_events_total"),
        vec![(t1 + S, 3.0)]
    );
    let mut fresh_at_start = SeriesSource::new(e.clone(), 6, true);
    clock.set(t1 + 2 * S);
    assert_eq!(
        points(&fresh_at_start.collect(), LATENCY),
        vec![(t1 + S, 0.0), (t1 + 2 * S, 3.0)],
        "an engine that started empty had every series at zero at its start"
    );
}

#[test]
fn time_to_exhaustion_at_the_long_window_burn_rate() {
    // Objective 99% over 30 days: one hour of traffic with 0.5% errors has spent half the
    // budget and burns at 0.5× over 3d, so the half left lasts 0.5 × 30 d / 0.5 = 30 days.
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("availability", 0.99, 30, None)], clock.clone());
    let spans: Vec<_> = (0..1000)
        .map(|i| ("c1", T0 - 30 * S, 1_000_000, i < 5))
        .collect();
    e.record_spans(&request(&spans), None);
    let all = find(&e.status(), "availability", "all").clone();
    assert!((all.error_budget_remaining.unwrap() - 0.5).abs() < 1e-9);
    let tte = all.time_to_exhaustion_seconds.unwrap();
    assert!((tte - 30.0 * 86_400.0).abs() < 1e-3, "{tte}");
    // Nothing burns: no exhaustion in sight.
    let e = engine(vec![slo("availability", 0.99, 30, None)], clock.clone());
    e.record_spans(&request(&[("c1", T0 - S, 1_000, false)]), None);
    let all = find(&e.status(), "availability", "all").clone();
    assert_eq!(all.time_to_exhaustion_seconds, None);
    // Overspent: already gone.
    e.record_spans(&request(&[("c1", T0 - S, 1_000, true)]), None);
    let all = find(&e.status(), "availability", "all").clone();
    assert_eq!(all.time_to_exhaustion_seconds, Some(0.0));
    // No traffic: nothing to say.
    let e = engine(vec![slo("availability", 0.99, 30, None)], clock);
    let all = find(&e.status(), "availability", "all").clone();
    assert_eq!(all.time_to_exhaustion_seconds, None);
}

/// Spans recorded from the lean facts the receiver's walk reads give the status the same
/// requests give decoded (full facts): the benchmark's five SLOs, on requests of every
/// kind, status and `http.response.status_code` (of several types, or none).
#[test]
fn lean_walked_facts_record_as_decoded_requests() {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
    use prost::Message as _;

    use crate::slo::facts::Spans;
    use crate::slo::facts::wire::{ItemLimits, WalkedFacts, check_spans_with_facts};

    let set = crate::slo::spec::load(
        &[concat!(env!("CARGO_MANIFEST_DIR"), "/benches/slo/five/all.yaml").to_string()],
        false,
    )
    .unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let walked = Engine::new(EngineConfig::default(), clock.clone(), set.clone());
    let decoded = Engine::new(EngineConfig::default(), clock.clone(), set);
    let limits = ItemLimits {
        max_attributes: 128,
        max_events: 128,
        max_links: 128,
    };
    let mut rng = fastrand::Rng::with_seed(26);
    let mut lean = 0;
    for i in 0..60u64 {
        let now = T0 + i * 7 * S;
        clock.set(now);
        let spans: Vec<(&str, u64, u64, bool)> = (0..rng.usize(1..300))
            .map(|_| {
                let cluster = ["a", "b", ""][rng.usize(..3)];
                let end = now - rng.u64(..20 * S);
                (cluster, end, rng.u64(..end.min(2 * S)), rng.u8(..10) == 0)
            })
            .collect();
        let mut req = request(&spans);
        for span in req
            .resource_spans
            .iter_mut()
            .flat_map(|r| &mut r.scope_spans)
            .flat_map(|s| &mut s.spans)
        {
            span.kind = rng.i32(0..6);
            if rng.bool() {
                span.name.clear();
            }
            let value = match rng.u8(..5) {
                0 => continue,
                1 => Value::StringValue("500".into()),
                2 => Value::DoubleValue([499.5, 500.0, 503.0][rng.usize(..3)]),
                _ => Value::IntValue([200, 404, 500, 503][rng.usize(..4)]),
            };
            span.attributes.push(KeyValue {
                key: "http.response.status_code".into(),
                value: Some(AnyValue { value: Some(value) }),
                ..Default::default()
            });
        }
        let body = req.encode_to_vec();
        let (schema, cluster_attribute) = walked.walk_schema().unwrap();
        let (_, facts) =
            check_spans_with_facts(&body, &limits, None, cluster_attribute, &schema, None).unwrap();
        lean += usize::from(facts.is_lean());
        let facts = WalkedFacts { facts, schema };
        walked.record_spans_from(Spans::Walked(&facts, &body), None, None, None);
        decoded.record_spans_from(&req, None, None, None);
        // (As text: a figure of no events is NaN in both.)
        assert_eq!(
            format!("{:?}", walked.status()),
            format!("{:?}", decoded.status()),
            "request {i}"
        );
    }
    assert_eq!(lean, 60);
}
