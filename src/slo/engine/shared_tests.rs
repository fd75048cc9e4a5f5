//! Recording from shared selections ([`super::shared`]) against recording span by span:
//! random requests and random sets of SLOs (some selecting the same rows, some not; rolling,
//! short and calendar windows; thresholds and `bad` verdicts; more clusters than groups
//! allowed) give the same windows, histograms, lifetime counters and drops; and two engines,
//! one recording through selections and one through the logged span-by-span path, report
//! the same status, percentiles and series.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::BooleanArray;

use super::calendar::Calendar;
use super::record::Latencies;
use super::shared::{Judge, Rows, Selection};
use super::state::{GroupKey, SloState};
use super::tests::{S, engine, request, slo};
use super::window::{WindowSpec, windows_for, windows_for_calendar};
use super::*;

/// The facts of a test request of `spans` (cluster, end, duration, error), no attributes.
fn facts_of(spans: &[(&str, u64, u64, bool)]) -> SpanFacts {
    SpanFacts::build(
        &request(spans),
        None,
        "k8s.cluster.name",
        &FactsSchema::default(),
    )
}
use crate::slo::facts::FactsSchema;
use crate::slo::ottl::{Condition, ConditionTarget};
use crate::slo::spec::{CalendarUnit, SpanSli};

const T0: u64 = 1_800_000_000 * S;
const CLUSTERS: [&str; 3] = ["seoul", "busan", "daegu"];

/// Spans of a request received at `now` (cluster, end, duration, error): mostly ended in
/// the last few seconds, some late (past the allowed 300 s, or past a whole finest ring),
/// some ahead (past the allowed 60 s or not), durations from zero to past the HDR range,
/// some on a bucket bound or threshold.
fn spans(rng: &mut fastrand::Rng, now: u64) -> Vec<(&'static str, u64, u64, bool)> {
    spans_n(rng, now, 300, 20)
}

/// [`spans`], fewer than `most` of them, three in `odds` late, ahead or older than a slot.
fn spans_n(
    rng: &mut fastrand::Rng,
    now: u64,
    most: usize,
    odds: u32,
) -> Vec<(&'static str, u64, u64, bool)> {
    (0..rng.usize(1..most))
        .map(|_| {
            let end = match rng.u32(..odds) {
                0 => now.saturating_sub(rng.u64(..400 * S)),
                1 => now + rng.u64(..90 * S),
                2 => now.saturating_sub(rng.u64(..40 * S)),
                _ => now.saturating_sub(rng.u64(..5 * S)),
            };
            let duration = match rng.u8(..20) {
                0 => 0,
                1 => rng.u64(..2 * 3_600 * S),
                // On a classic bucket's bound or a threshold: counted at or below it.
                2 => (LATENCY_LADDER[rng.usize(..LATENCY_LADDER.len())] * 1e9).round() as u64,
                3 => [50, 100, 250, 300][rng.usize(..4)] * 1_000_000,
                _ => rng.u64(1_000..2 * S),
            }
            .min(end);
            (CLUSTERS[rng.usize(..3)], end, duration, rng.u8(..10) == 0)
        })
        .collect()
}

fn mask(rng: &mut fastrand::Rng, n: usize, share: u8) -> BooleanArray {
    BooleanArray::from((0..n).map(|_| rng.u8(..100) < share).collect::<Vec<_>>())
}

/// [`mask`], sometimes a slice of a longer array (verdicts need not start at a byte).
fn verdicts(rng: &mut fastrand::Rng, n: usize, share: u8) -> BooleanArray {
    let skip = rng.usize(..3) * rng.usize(..70);
    mask(rng, n + skip, share).slice(skip, n)
}

/// One SLO of the state-level test: its state and how it judges a request's rows.
struct Case {
    span_by_span: SloState,
    selected: SloState,
    threshold: Option<u64>,
    /// Which mask it selects with: SLOs of one mask share a selection.
    mask: usize,
    dropped: (Dropped, Dropped),
}

fn case(windows: Vec<WindowSpec>, threshold: Option<u64>, mask: usize) -> Case {
    let mut bounds: Vec<u64> = LATENCY_LADDER
        .iter()
        .map(|s| (s * 1e9).round() as u64)
        .collect();
    bounds.extend(threshold);
    bounds.sort_unstable();
    bounds.dedup();
    let state = SloState::new(windows, 2, None, false, bounds);
    Case {
        span_by_span: state.clone(),
        selected: state,
        threshold,
        mask,
        dropped: Default::default(),
    }
}

#[test]
fn selections_recorded_per_slot_equal_spans_recorded_one_by_one() {
    for seed in 0..4 {
        // A request every 7 s of up to 300 spans.
        selections_equal_span_by_span(seed, 7, 300, 20, 80);
    }
}

#[test]
fn busy_slots_recorded_per_slot_equal_spans_recorded_one_by_one() {
    // Requests of up to 2 000 spans every second: slots of thousands of spans, whose
    // latency histograms count densely.
    for seed in 10..12 {
        selections_equal_span_by_span(seed, 1, 2_000, 2_000, 40);
    }
}

#[test]
fn selections_made_by_runs_equal_those_made_row_by_row() {
    let mut rng = fastrand::Rng::with_seed(21);
    let (mut fast, mut tried) = (0, 0);
    for i in 0..240 {
        let now = T0 + i * 3 * S;
        // Clusters in runs of resources; spans ended within half a second, a few seconds
        // or half a minute (across slot bounds); one request in four with a few late or
        // ahead.
        let spread = [S / 2, 5 * S, 30 * S][rng.usize(..3)];
        let strays = rng.u8(..4) == 0;
        let mut cluster = CLUSTERS[0];
        let spans: Vec<_> = (0..rng.usize(1..700))
            .map(|_| {
                if rng.u8(..8) == 0 {
                    cluster = CLUSTERS[rng.usize(..3)];
                }
                let end = match rng.u32(..100) {
                    0 if strays => now - 400 * S,
                    1 if strays => now + 90 * S,
                    _ => now.saturating_sub(rng.u64(..spread)),
                };
                let duration = if rng.u8(..10) == 0 {
                    0
                } else {
                    rng.u64(..2 * S)
                };
                (cluster, end, duration.min(end), false)
            })
            .collect();
        let facts = facts_of(&spans);
        let n = facts.len();
        let (from, to) = (rng.usize(..n), rng.usize(..=n));
        let masks = [
            BooleanArray::from(vec![true; n]),
            mask(&mut rng, n, 95),
            mask(&mut rng, n, 30),
            BooleanArray::from((0..n).map(|r| r >= from && r < to).collect::<Vec<_>>()),
            BooleanArray::from(vec![false; n]),
            verdicts(&mut rng, n, 90),
        ];
        for matched in &masks {
            for (width, chunk) in [(10 * S, 4_096), (10 * S, 64), (S, 4_096), (60 * S, 100)] {
                let times = |_| (now - 300 * S, now + 60 * S);
                let plain = format!(
                    "{:?}",
                    Selection::row_by_row(&facts, matched, width, chunk, times)
                );
                tried += 1;
                if let Some(one) = Selection::by_runs(&facts, matched, width, chunk, &times) {
                    fast += 1;
                    assert_eq!(format!("{one:?}"), plain, "request {i}");
                }
                let new = Selection::new(&facts, matched, width, chunk, times, true);
                assert_eq!(format!("{new:?}"), plain, "request {i}");
            }
        }
    }
    // Both ways are taken often.
    assert!(
        fast * 3 > tried && fast * 4 < tried * 3,
        "{fast} of {tried}"
    );
}

#[test]
fn selections_of_resources_in_runs_made_by_runs_equal_those_made_row_by_row() {
    // Many resources (a service each), consecutive ones often of the same cluster, of 0 to
    // 90 spans: groups that join resources of one cluster, runs across chunks of 64 and
    // 100 rows and across eights of rows.
    let mut rng = fastrand::Rng::with_seed(28);
    for i in 0..200 {
        let now = T0 + i * 3 * S;
        let mut cluster = CLUSTERS[0];
        let mut n = 0;
        let resources: Vec<_> = (0..rng.usize(1..20))
            .map(|r| {
                if rng.u8(..3) == 0 {
                    cluster = CLUSTERS[rng.usize(..3)];
                }
                let spans = (0..rng.usize(..90))
                    .map(|_| {
                        n += 1;
                        let end = now.saturating_sub(rng.u64(..5 * S));
                        let start = end - rng.u64(..2 * S);
                        crate::test_otlp::server_span(n, "GET /pay", start, end, false)
                    })
                    .collect();
                let attributes = vec![
                    crate::attr::kv("service.name", format!("svc-{r}")),
                    crate::attr::kv("k8s.cluster.name", cluster),
                ];
                (attributes, spans)
            })
            .collect();
        let facts = SpanFacts::build(
            &crate::test_otlp::traces_of(resources),
            None,
            "k8s.cluster.name",
            &FactsSchema::default(),
        );
        let n = facts.len();
        let matched = BooleanArray::from(vec![true; n]);
        for (width, chunk) in [(10 * S, 4_096), (10 * S, 64), (S, 100), (S, 1)] {
            let times = |_| (now - 300 * S, now + 60 * S);
            let plain = format!(
                "{:?}",
                Selection::row_by_row(&facts, &matched, width, chunk, times)
            );
            if let Some(one) = Selection::by_runs(&facts, &matched, width, chunk, &times) {
                assert_eq!(format!("{one:?}"), plain, "request {i}");
            }
        }
    }
}

#[test]
fn selections_of_spans_ending_at_the_last_nanosecond_are_made_alike() {
    // End times at the top of the range (the last slot's end saturates), accepted
    // whatever their time: the same selection as row by row (which makes it then).
    let mut rng = fastrand::Rng::with_seed(23);
    for i in 0..200 {
        let spans: Vec<_> = (0..rng.usize(1..200))
            .map(|_| {
                let end = u64::MAX - rng.u64(..3 * S) * u64::from(rng.u8(..3) > 0);
                (CLUSTERS[rng.usize(..3)], end, rng.u64(..2 * S), false)
            })
            .collect();
        let facts = facts_of(&spans);
        let n = facts.len();
        for matched in [BooleanArray::from(vec![true; n]), mask(&mut rng, n, 60)] {
            for width in [S, 10 * S, u64::MAX / 3] {
                let times = |_| (0, u64::MAX);
                let plain = format!(
                    "{:?}",
                    Selection::row_by_row(&facts, &matched, width, 4_096, times)
                );
                if let Some(one) = Selection::by_runs(&facts, &matched, width, 4_096, &times) {
                    assert_eq!(format!("{one:?}"), plain, "request {i}");
                }
                let new = Selection::new(&facts, &matched, width, 4_096, times, true);
                assert_eq!(format!("{new:?}"), plain, "request {i}");
            }
        }
    }
}

/// `requests` requests of fewer than `most` spans ([`spans_n`] with `odds`), one every
/// `step` seconds, recorded through selections and span by span by random SLOs.
fn selections_equal_span_by_span(seed: u64, step: u64, most: usize, odds: u32, requests: u64) {
    let month = || windows_for_calendar(Calendar::new(CalendarUnit::Month, "Asia/Kathmandu"));
    {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut cases = [
            case(windows_for(30 * 86_400), None, 0),
            case(windows_for(7 * 86_400), Some(300_000_000), 0),
            case(windows_for(100), Some(100_000_000), 0),
            case(month(), Some(250_000_000), 1),
            case(windows_for(86_400), None, 1),
            case(windows_for(28 * 86_400), None, 2),
        ];
        let (mut by_slot, mut groups) = (0, 0);
        for i in 0..requests {
            let now = T0 + i * step * S;
            let facts = facts_of(&spans_n(&mut rng, now, most, odds));
            let n = facts.len();
            // Every span; most spans; a few.
            let masks = [
                BooleanArray::from(vec![true; n]),
                mask(&mut rng, n, 80),
                mask(&mut rng, n, 10),
            ];
            let times = |_| (now - 300 * S, now + 60 * S);
            let (end, duration) = (facts.end_time_unix_nano(), facts.duration_nanos());
            let mut latencies = Latencies::new(n);
            let mut selections: Vec<Selection> = Vec::new();
            for c in &mut cases {
                let bad = verdicts(&mut rng, n, 15);
                let matched = &masks[c.mask];
                let good = |row: usize| {
                    !bad.value(row) && c.threshold.is_none_or(|th| duration[row] <= th)
                };
                let judge = Judge::new(Some(&bad), c.threshold, duration);
                // Span by span.
                for row in 0..n {
                    if !matched.value(row) {
                        continue;
                    }
                    let (oldest, newest) = times(row);
                    if end[row] < oldest {
                        c.dropped.0.late += 1;
                    } else if end[row] > newest {
                        c.dropped.0.future += 1;
                    } else {
                        let key = GroupKey {
                            cluster: facts.cluster(row).to_string(),
                            extra: Vec::new(),
                        };
                        let t = end[row];
                        c.span_by_span.record_weighted(
                            &key,
                            t,
                            good(row),
                            Some(duration[row]),
                            1.0,
                        );
                    }
                }
                // From the selection.
                let width = c.selected.selection_width().unwrap();
                let at = match selections.iter().position(|s| s.is_of(matched, width)) {
                    Some(at) => at,
                    None => {
                        let s = Selection::new(&facts, matched, width, 64, times, true);
                        selections.push(s);
                        selections.len() - 1
                    }
                };
                let selection = &selections[at];
                c.dropped.1.late += selection.dropped.late;
                c.dropped.1.future += selection.dropped.future;
                for g in &selection.groups {
                    let key = GroupKey {
                        cluster: facts.cluster(g.row).to_string(),
                        extra: Vec::new(),
                    };
                    let rows = Rows { end, duration };
                    groups += 1;
                    if c.selected
                        .record_selected(&key, g, &judge, rows, &mut latencies)
                    {
                        by_slot += 1;
                    }
                }
            }
            assert!(selections.len() <= 3);
        }
        assert!(by_slot * 2 > groups, "{by_slot} of {groups} groups by slot");
        let (mut dense, mut shared) = (0, 0);
        assert!(by_slot < groups, "the span-by-span fallback is exercised");
        for c in &cases {
            let (one, other) = (&c.span_by_span, &c.selected);
            assert_eq!(c.dropped.0, c.dropped.1);
            // (Strays are too few in busy requests for every SLO to drop some.)
            assert!(odds > 20 || (c.dropped.0.late > 0 && c.dropped.0.future > 0));
            assert_eq!(one.overflowed, other.overflowed);
            assert!(one.overflowed > 0);
            let mut keys: Vec<_> = one.groups.keys().cloned().collect();
            keys.sort();
            let mut other_keys: Vec<_> = other.groups.keys().cloned().collect();
            other_keys.sort();
            assert_eq!(keys, other_keys);
            for key in &keys {
                let (a, b) = (&one.groups[key], &other.groups[key]);
                assert_eq!(a.contents(), b.contents(), "{key:?}");
                dense += b.rings[0].dense_slots();
                shared += b.rings[0].shared_slots();
            }
            for now in [T0 + 300 * S, T0 + 560 * S, T0 + 3_600 * S] {
                for i in 0..one.windows.len() {
                    assert_eq!(one.all_counts(None, i, now), other.all_counts(None, i, now));
                    let qs = [0.5, 0.9, 0.99, 1.0];
                    assert_eq!(
                        one.all_latency(None, i, now).quantiles(&qs),
                        other.all_latency(None, i, now).quantiles(&qs)
                    );
                }
            }
            // The sums too: whole nanoseconds, in whatever order the groups come.
            assert_eq!(one.all_native(None), other.all_native(None));
            assert_eq!(one.all_classic(None), other.all_classic(None));
        }
        // Busy requests fill slots past the hash map's size.
        assert!(most < 1_000 || dense > 0, "{dense} dense slots");
        // SLOs of one selection hold their finest slots' histograms together.
        assert!(shared > 0, "no shared slot");
    }
}

/// Five SLOs selecting the same spans in different windows with different verdicts, one
/// selecting fewer, one selecting none: the span SLOs of `benches/slo/five`, on spans the
/// test builds.
fn five() -> Vec<Slo> {
    let with = |name: &str, days, threshold: Option<u64>, filter: &str, bad: Option<&str>| {
        let mut s = slo(name, 0.99, days, threshold.map(Duration::from_millis));
        s.sli = Sli::Spans(SpanSli {
            filter: Condition::parse(filter, ConditionTarget::Span).unwrap(),
            bad: bad.map(|b| Condition::parse(b, ConditionTarget::Span).unwrap()),
            latency_threshold: threshold.map(Duration::from_millis),
            adjusted_counts: true,
        });
        s
    };
    let errors = Some("status.code == STATUS_CODE_ERROR");
    vec![
        with(
            "availability",
            30,
            None,
            "kind != SPAN_KIND_UNSPECIFIED",
            errors,
        ),
        with(
            "latency",
            28,
            Some(300),
            "kind != SPAN_KIND_UNSPECIFIED",
            None,
        ),
        with("fast", 7, Some(100), "name != \"\"", None),
        with("errors", 30, None, "duration >= 0ms", errors),
        with("slow-errors", 1, Some(50), "duration >= 20ms", errors),
        with("none", 1, None, "name == \"other\"", errors),
    ]
}

#[test]
fn engines_recording_from_selections_equal_the_span_by_span_path() {
    let clock = Arc::new(ManualClock::new(T0));
    let selected = engine(five(), clock.clone());
    let logged = engine(five(), clock.clone());
    let mut rng = fastrand::Rng::with_seed(5);
    for i in 0..60u64 {
        let now = T0 + i * 7 * S;
        clock.set(now);
        let req = request(&spans(&mut rng, now));
        selected.record_spans(&req, None);
        // With a log every span is recorded (and logged) on its own.
        let mut log = wal::Encoder::default();
        logged.record_spans_logged(&req, None, Some(&mut log));
    }
    let dropped = |e: &Engine| e.slos().iter().map(|s| s.dropped()).collect::<Vec<_>>();
    assert_eq!(dropped(&selected), dropped(&logged));
    let mut shared = 0;
    for (a, b) in selected.slos().iter().zip(logged.slos()) {
        let (a, b) = (a.state(), b.state());
        let mut keys: Vec<_> = a.groups.keys().cloned().collect();
        keys.sort();
        assert_eq!(keys.len(), b.groups.len());
        for key in &keys {
            assert_eq!(a.groups[key].contents(), b.groups[key].contents());
            shared += a.groups[key].rings[0].shared_slots();
            assert_eq!(b.groups[key].rings[0].shared_slots(), 0);
        }
    }
    assert!(shared > 0, "no shared slot");
    for now in [T0 + 420 * S, T0 + 3_600 * S, T0 + 2 * 86_400 * S] {
        clock.set(now);
        let status = selected.status();
        assert!(status.iter().any(|s| s.total > 0 && s.good < s.total));
        let other = logged.status();
        // Exactly: latency sums are whole nanoseconds, the same in any order.
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            serde_json::to_value(&other).unwrap()
        );
        // Every series family's rows, values exactly.
        let series = |e: &Engine, st: &[GroupStatus]| {
            let mut rows: Vec<String> = crate::slo::series::families(e, st)
                .iter()
                .flat_map(|f| {
                    f.rows
                        .iter()
                        .map(move |(l, v)| format!("{} {l:?} {v:?}", f.name))
                })
                .collect();
            rows.sort();
            rows
        };
        let rows = series(&selected, &status);
        assert!(rows.len() > 50, "{} series", rows.len());
        assert_eq!(rows, series(&logged, &other));
    }
}

/// Classic buckets recorded from a slot's known counts (those at or below each ladder
/// bound and the threshold, found once per SLO which bounds they are) equal the buckets
/// of each latency recorded on its own: bounds of the ladder with a threshold on it, off
/// it or none, bounds partly or not at all of the ladder, latencies on and around every
/// bound.
#[test]
fn classic_buckets_from_known_counts_equal_those_of_each_latency() {
    use super::shared::ladder;
    use super::state::{Classic, KnownBounds};
    let ladder = ladder();
    let mut rng = fastrand::Rng::with_seed(31);
    for case in 0..2_000 {
        let threshold = match case % 4 {
            0 => None,
            1 => Some(ladder[rng.usize(..ladder.len())]),
            _ => Some(rng.u64(1..80 * S)),
        };
        let mut bounds: Vec<u64> = match case % 5 {
            // Some of the ladder's bounds, and others.
            3 => {
                let mut some: Vec<u64> = ladder.iter().copied().filter(|_| rng.bool()).collect();
                let others = rng.usize(..4);
                some.extend((0..others).map(|_| rng.u64(1..80 * S)));
                some
            }
            // None of them.
            4 => (0..rng.usize(..6)).map(|_| rng.u64(1..80 * S)).collect(),
            _ => ladder.to_vec(),
        };
        bounds.extend(threshold);
        bounds.sort_unstable();
        bounds.dedup();
        let every: Vec<u64> = bounds.iter().chain(ladder).copied().collect();
        let latencies: Vec<u64> = (0..rng.usize(..300))
            .map(|_| {
                let near = rng.choice(&every).copied().unwrap_or(1);
                match rng.u8(..3) {
                    0 => near.saturating_add_signed(rng.i64(-2..=2)),
                    1 => rng.u64(..100 * S),
                    _ => rng.u64(..2 * S),
                }
            })
            .collect();
        let at_or_below = |b: u64| latencies.iter().filter(|l| **l <= b).count();
        let ladder_at: Vec<usize> = ladder.iter().map(|b| at_or_below(*b)).collect();
        let mut each = Classic {
            counts: vec![0; bounds.len() + 1],
        };
        for l in &latencies {
            each.record(&bounds, *l, 1);
        }
        let mut known = Classic {
            counts: vec![0; bounds.len() + 1],
        };
        // Twice: the counts add up.
        for _ in 0..2 {
            known.record_known(
                &bounds,
                &latencies,
                &KnownBounds::new(&bounds, ladder),
                &ladder_at,
                threshold.map(|th| (th, at_or_below(th))),
            );
        }
        each.counts.iter_mut().for_each(|c| *c *= 2);
        assert_eq!(known, each, "case {case}: bounds {bounds:?}");
    }
}
