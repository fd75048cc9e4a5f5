//! Grouped SLOs: per-cluster roll-ups against the sum of their groups, their labels, their
//! time slices judged on the cluster's events together, exact classic latency buckets, the
//! statuses, and all of it across a snapshot.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;

use super::status::{Status as SloStatus, long_window};
use super::tests::{S, engine, find, slo};
use super::*;
use crate::attr::kv;
use crate::slo::spec::{AttrRef, Budgeting};
use crate::test_otlp::{server_span, traces_of};

const T0: u64 = 1_800_000_000 * S;

/// (cluster, route or "" for none, end, duration, error)
fn request(spans: &[(&str, &str, u64, u64, bool)]) -> ExportTraceServiceRequest {
    traces_of(
        spans
            .iter()
            .enumerate()
            .map(|(i, (cluster, route, end, dur, error))| {
                let span = Span {
                    attributes: if route.is_empty() {
                        Vec::new()
                    } else {
                        vec![kv("http.route", route)]
                    },
                    ..server_span(i as u64 + 1, "op", end - dur, *end, *error)
                };
                let attributes = vec![
                    kv("service.name", "checkout"),
                    kv("k8s.cluster.name", cluster),
                ];
                (attributes, vec![span])
            }),
    )
}

fn grouped(name: &str, threshold: Option<Duration>) -> crate::slo::spec::Slo {
    let mut s = slo(name, 0.99, 30, threshold);
    s.group_by = vec![AttrRef::Item("http.route".into())];
    s
}

fn labels(s: &GroupStatus) -> Vec<(String, String)> {
    s.labels.clone()
}

fn l(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn per_cluster_roll_ups_are_the_sum_of_their_groups_and_labelled_apart() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![grouped("availability", None)], clock);
    let t = T0 - 30 * S;
    let mut spans = Vec::new();
    for i in 0..10 {
        spans.push(("seoul", "/a", t, 10_000_000, i == 0));
    }
    for _ in 0..5 {
        spans.push(("seoul", "/b", t, 20_000_000, false));
    }
    for _ in 0..3 {
        spans.push(("seoul", "", t, 5_000_000, true));
    }
    for _ in 0..4 {
        spans.push(("busan", "/a", t, 1_000_000, false));
    }
    e.record_spans(&request(&spans), None);
    let st = e.status();
    let who: Vec<(String, Option<String>)> = st
        .iter()
        .map(|s| {
            let route = s.group.as_ref().and_then(|g| g.get("http.route").cloned());
            (s.cluster.clone(), route)
        })
        .collect();
    let want: Vec<(String, Option<String>)> = [
        ("all", None),
        ("busan", None),
        ("busan", Some("/a")),
        ("seoul", None),
        // Sorted by value, an absent one first.
        ("seoul", Some("__missing__")),
        ("seoul", Some("/a")),
        ("seoul", Some("/b")),
    ]
    .iter()
    .map(|(c, r)| (c.to_string(), r.map(str::to_string)))
    .collect();
    assert_eq!(who, want);
    // Labels: roll-ups without group labels, groups with them, every set different.
    let base = |c: &str| {
        l(&[
            ("slo", "availability"),
            ("service", "checkout"),
            ("cluster", c),
        ])
    };
    assert_eq!(labels(&st[0]), base("all"));
    assert_eq!(labels(&st[3]), base("seoul"));
    let mut g = base("seoul");
    g.push(("http_route".into(), "__missing__".into()));
    assert_eq!(labels(&st[4]), g);
    let distinct: BTreeSet<_> = st.iter().map(labels).collect();
    assert_eq!(distinct.len(), st.len());
    // The roll-up of seoul is its three groups together, `all` every group.
    let seoul = &st[3];
    assert_eq!((seoul.total, seoul.good), (18, 14));
    let groups = &st[4..7];
    assert_eq!(seoul.total, groups.iter().map(|s| s.total).sum::<u64>());
    assert_eq!(
        seoul.lifetime.good,
        groups.iter().map(|s| s.lifetime.good).sum::<u64>()
    );
    assert_eq!(seoul.native.count, 18);
    for (i, c) in seoul.classic.iter().enumerate() {
        assert_eq!(*c, groups.iter().map(|s| s.classic[i]).sum::<u64>(), "{i}");
    }
    assert_eq!((st[0].total, st[0].good), (22, 18));
    assert_eq!((st[1].total, st[1].good), (4, 4));
    // seoul spent 4/18 against a 1% budget: breaching; busan is fine.
    assert_eq!(seoul.status, SloStatus::Breaching);
    assert_eq!(st[1].status, SloStatus::Ok);
}

#[test]
fn an_slo_without_group_by_has_one_entry_per_cluster() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("plain", 0.99, 30, None)], clock);
    let t = T0 - 30 * S;
    e.record_spans(
        &request(&[
            ("seoul", "/a", t, 1, false),
            ("seoul", "/b", t, 1, false),
            ("busan", "/a", t, 1, false),
        ]),
        None,
    );
    let st = e.status();
    let clusters: Vec<&str> = st.iter().map(|s| s.cluster.as_str()).collect();
    assert_eq!(clusters, ["all", "busan", "seoul"]);
    assert!(st.iter().all(|s| s.group.is_none() && s.labels.len() == 3));
}

#[test]
fn a_cluster_roll_up_judges_time_slices_on_all_its_groups() {
    let clock = Arc::new(ManualClock::new(T0));
    let mut spec = grouped("slices", None);
    spec.budgeting = Budgeting::Timeslices {
        slice: Duration::from_secs(60),
        slice_target: 0.9,
    };
    let e = engine(vec![spec], clock.clone());
    // One slice: /a is 1 good of 2 (a bad slice on its own), /b 18 good of 18; together
    // 19 of 20 reach the 90% target.
    let t = T0 - 30 * S;
    let mut spans = vec![("seoul", "/a", t, 1, false), ("seoul", "/a", t, 1, true)];
    spans.extend(std::iter::repeat_n(("seoul", "/b", t, 1, false), 18));
    e.record_spans(&request(&spans), None);
    clock.advance(Duration::from_secs(15 * 60));
    let st = e.status();
    let slices = |cluster: &str, route: Option<&str>| {
        let s = st
            .iter()
            .find(|s| {
                s.cluster == cluster
                    && s.group
                        .as_ref()
                        .and_then(|g| g.get("http.route"))
                        .map(String::as_str)
                        == route
            })
            .unwrap();
        s.timeslices.clone().unwrap()
    };
    let a = slices("seoul", Some("/a"));
    let roll = slices("seoul", None);
    assert!(a.elapsed > 0 && a.good + 1 == a.elapsed, "{a:?}");
    assert!(roll.elapsed > 0 && roll.good == roll.elapsed, "{roll:?}");
    assert_eq!(slices("all", None).good, slices("all", None).elapsed);

    // The roll-up's slices survive a snapshot.
    let dir = tempfile::tempdir().unwrap();
    snapshot::write(&e, dir.path()).unwrap();
    let mut spec = grouped("slices", None);
    spec.budgeting = Budgeting::Timeslices {
        slice: Duration::from_secs(60),
        slice_target: 0.9,
    };
    let e2 = engine(vec![spec], clock.clone());
    assert_eq!(snapshot::restore(&e2, dir.path()).slos, 1);
    assert_eq!(e2.status(), e.status());
}

#[test]
fn classic_buckets_are_exact_at_the_threshold_and_survive_a_snapshot() {
    let clock = Arc::new(ManualClock::new(T0));
    let th = Duration::from_millis(300);
    let e = engine(vec![grouped("latency", Some(th))], clock.clone());
    let t = T0 - 30 * S;
    e.record_spans(
        &request(&[
            ("seoul", "/a", t, 300_000_000, false),
            ("seoul", "/a", t, 300_000_001, false),
            ("seoul", "/a", t, 299_999_999, false),
            ("seoul", "/a", t, 0, false),
            ("seoul", "/a", t, 120 * S, false),
        ]),
        None,
    );
    let st = e.status();
    let all = &st[0];
    let bounds = &all.latency_bounds;
    assert_eq!(bounds.len(), LATENCY_LADDER.len() + 1);
    let at = bounds.iter().position(|b| *b == 300_000_000).unwrap();
    // Up to and including 0.3 s: 0, 299.999999 ms and 300 ms.
    assert_eq!(all.classic[..=at].iter().sum::<u64>(), 3);
    assert_eq!(all.classic[at + 1], 1, "300.000001 ms goes above 0.3 s");
    assert_eq!(
        *all.classic.last().unwrap(),
        1,
        "120 s is above every bound"
    );
    assert_eq!(all.classic.iter().sum::<u64>(), all.native.count);
    // Good events are those at or below the threshold: the bucket says the same.
    assert_eq!(all.good, 3);

    let dir = tempfile::tempdir().unwrap();
    snapshot::write(&e, dir.path()).unwrap();
    let e2 = engine(vec![grouped("latency", Some(th))], clock);
    assert_eq!(snapshot::restore(&e2, dir.path()).slos, 1);
    assert_eq!(e2.status(), st);
}

#[test]
fn statuses() {
    use SloStatus::*;
    // (events, min_events, budget remaining, long-window burn rate) → status
    for (total, min, remaining, burn, want) in [
        (0, 0, None, None, NoData),
        (0, 0, Some(1.0), Some(0.0), NoData),
        (10, 0, None, None, NoData),
        (10, 0, Some(1.0), None, Ok),
        (10, 0, Some(0.5), Some(0.99), Ok),
        (10, 0, Some(0.5), Some(1.0), Ok),
        (10, 0, Some(0.5), Some(1.01), Warning),
        (10, 0, Some(0.0), Some(0.5), Breaching),
        (10, 0, Some(-0.54), Some(3.0), Breaching),
        (10, 0, Some(-0.54), None, Breaching),
        // Three events, one bad, against min_events 100: too few to say anything.
        (3, 100, Some(-332.0), None, InsufficientData),
        (0, 100, None, None, NoData),
        (100, 100, Some(-0.5), Some(2.0), Breaching),
    ] {
        assert_eq!(
            SloStatus::of(total, min, remaining, burn),
            want,
            "{total} {min} {remaining:?} {burn:?}"
        );
    }
    let json: Vec<String> = [Ok, Warning, Breaching, NoData, InsufficientData]
        .iter()
        .map(|s| serde_json::to_string(s).unwrap())
        .collect();
    assert_eq!(
        json,
        [
            "\"ok\"",
            "\"warning\"",
            "\"breaching\"",
            "\"no_data\"",
            "\"insufficient_data\""
        ]
    );
}

#[test]
fn the_long_window_is_the_longest_below_the_slo_window() {
    let label = |days: u64| {
        let w = window::windows_for(days * 86_400);
        w[long_window(&w).unwrap()].label.clone()
    };
    assert_eq!(label(30), "3d");
    assert_eq!(label(28), "3d");
    assert_eq!(label(7), "3d");
    assert_eq!(label(2), "1d");
}

#[test]
fn an_slo_burning_its_long_window_too_fast_warns() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("warn", 0.99, 30, None)], clock.clone());
    // 2 days ago 1000 good events, now 2 bad of 100: within the 3d window 2 of 1100 are
    // bad, a burn rate of 0.18: ok.
    let old = T0 - 2 * 86_400 * S;
    let mut spans: Vec<(&str, &str, u64, u64, bool)> =
        std::iter::repeat_n(("seoul", "", old, 1, false), 1000).collect();
    let now = T0 - 30 * S;
    spans.extend((0..100).map(|i| ("seoul", "", now, 1, i < 2)));
    // Events older than the allowed lateness are dropped: record old ones at their time.
    clock.set(old + S);
    e.record_spans(&request(&spans[..1000]), None);
    clock.set(T0);
    e.record_spans(&request(&spans[1000..]), None);
    assert_eq!(find_all(&e).status, SloStatus::Ok);
    // The good events 5 days ago, outside the 3d window: they keep the 30d budget, while
    // the 3d window burns at 2×.
    let e = engine(vec![slo("warn", 0.99, 30, None)], clock.clone());
    let older = T0 - 5 * 86_400 * S;
    clock.set(older + S);
    let good: Vec<_> = std::iter::repeat_n(("seoul", "", older, 1, false), 1000).collect();
    e.record_spans(&request(&good), None);
    clock.set(T0);
    e.record_spans(&request(&spans[1000..]), None);
    let all = find_all(&e);
    assert!(all.error_budget_remaining.unwrap() > 0.0);
    assert!(all.burn_rate.get("3d").copied().flatten().unwrap() > 1.0);
    assert_eq!(all.status, SloStatus::Warning);
}

fn find_all(e: &Engine) -> GroupStatus {
    e.status().into_iter().find(|s| s.cluster == "all").unwrap()
}

#[test]
fn otlp_series_carry_group_labels_and_never_repeat_a_series() {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(
        vec![grouped("latency", Some(Duration::from_millis(300)))],
        clock.clone(),
    );
    let t = T0 - 30 * S;
    e.record_spans(
        &request(&[
            ("seoul", "/a", t, 1_000_000, false),
            ("seoul", "/b", t, 1_000_000, false),
            ("busan", "", t, 1_000_000, false),
        ]),
        None,
    );
    clock.advance(Duration::from_secs(1));
    let mut source = crate::slo::otlp_series::SeriesSource::new(e.clone(), 6, false);
    let req = source.collect();
    let mut seen = BTreeSet::new();
    let mut routes = BTreeSet::new();
    for m in &req.resource_metrics[0].scope_metrics[0].metrics {
        let points: Vec<(&[KeyValue], u64)> = match m.data.as_ref().unwrap() {
            Data::Sum(s) => s
                .data_points
                .iter()
                .map(|p| (&p.attributes[..], p.time_unix_nano))
                .collect(),
            Data::Gauge(g) => g
                .data_points
                .iter()
                .map(|p| (&p.attributes[..], p.time_unix_nano))
                .collect(),
            Data::ExponentialHistogram(h) => h
                .data_points
                .iter()
                .map(|p| (&p.attributes[..], p.time_unix_nano))
                .collect(),
            other => panic!("unexpected {other:?}"),
        };
        for (attrs, time) in points {
            let mut labels: Vec<(String, String)> = attrs
                .iter()
                .map(|kv| {
                    let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                        Some(any_value::Value::StringValue(s)) => s.clone(),
                        other => panic!("{other:?}"),
                    };
                    (kv.key.clone(), v)
                })
                .collect();
            assert!(!labels.iter().any(|(k, _)| k.contains('.')), "{labels:?}");
            if let Some((_, r)) = labels.iter().find(|(k, _)| k == "http_route") {
                routes.insert(r.clone());
            }
            labels.sort();
            assert!(
                seen.insert((m.name.clone(), labels.clone(), time)),
                "{} {labels:?} twice",
                m.name
            );
        }
    }
    let want: BTreeSet<String> = ["/a", "/b", "__missing__"].map(String::from).into();
    assert_eq!(routes, want);
    assert!(
        seen.iter()
            .any(|(n, l, _)| n == "slotel_slo_latency_seconds"
                && l.iter().any(|(k, v)| k == "http_route" && v == "/a"))
    );
}

#[test]
fn a_reload_that_changes_only_min_events_applies_it_and_keeps_the_counts() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(vec![slo("availability", 0.999, 30, None)], clock);
    let t = T0 - S;
    e.record_spans(
        &request(&[
            ("seoul", "", t, 1_000_000, true),
            ("seoul", "", t, 1_000_000, false),
            ("seoul", "", t, 1_000_000, false),
        ]),
        None,
    );
    assert_eq!(
        find(&e.status(), "availability", "all").status,
        SloStatus::Breaching
    );
    let mut guarded = slo("availability", 0.999, 30, None);
    guarded.min_events = 100;
    e.replace(SloSet::of(vec![guarded]));
    let after = find(&e.status(), "availability", "all").clone();
    assert_eq!((after.total, after.good), (3, 2));
    assert_eq!(after.status, SloStatus::InsufficientData);
}
