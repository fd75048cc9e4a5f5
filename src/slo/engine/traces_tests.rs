//! Trace-aware journeys in the engine: traces crossing services and clusters against a
//! hand count, the trace id column, the full table, and the write-ahead log (sampled
//! traces, reloads and adjustments: `traces_sampled_tests.rs`).

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;

use super::*;
use crate::attr::kv;
use crate::test_otlp::{server_span, traces_of};

pub(super) const S: u64 = 1_000_000_000;
pub(super) const MS: u64 = 1_000_000;
pub(super) const T0: u64 = 1_800_000_000 * S;

pub(super) const SLOS: &str = r#"
service: login
slos:
  - name: availability
    objective: 99.9
    window: 30d
    sli:
      spans:
        where: resource.attributes["service.name"] == "login" and kind == SPAN_KIND_SERVER
        bad: status.code == STATUS_CODE_ERROR
---
service: payment
slos:
  - name: latency
    objective: 99
    window: 30d
    sli:
      spans:
        where: resource.attributes["service.name"] == "payment" and kind == SPAN_KIND_SERVER
        latency_threshold: 500ms
---
service: shop
slos:
  - name: checkout
    objective: 99
    window: 30d
    journey:
      mode: trace
      max_wait: 10s
      max_traces: MAX
      members:
        - slo: login/availability
        - slo: payment/latency
"#;

pub(super) fn engine(max_traces: usize) -> (Arc<Engine>, Arc<ManualClock>) {
    let text = SLOS.replace("MAX", &max_traces.to_string());
    let slos = crate::slo::spec::parse_file(&text, "shop.yaml").expect("valid slos");
    let clock = Arc::new(ManualClock::new(T0));
    let e = Engine::new(EngineConfig::default(), clock.clone(), SloSet::of(slos));
    (e, clock)
}

/// One span: (trace id bytes, service, cluster, server kind, start, end, error).
type Sent<'a> = (Vec<u8>, &'a str, &'a str, bool, u64, u64, bool);

pub(super) fn request(spans: &[Sent<'_>]) -> ExportTraceServiceRequest {
    traces_of(spans.iter().enumerate().map(
        |(i, (trace, service, cluster, server, start, end, error))| {
            let kind = if *server {
                SpanKind::Server
            } else {
                SpanKind::Client
            };
            let span = Span {
                trace_id: trace.clone(),
                kind: kind as i32,
                ..server_span(i as u64 + 1, "op", *start, *end, *error)
            };
            let attributes = vec![
                kv("service.name", *service),
                kv("k8s.cluster.name", *cluster),
            ];
            (attributes, vec![span])
        },
    ))
}

pub(super) fn id(n: u128) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

pub(super) fn entry(e: &Engine, service: &str, name: &str, cluster: &str) -> Option<(u64, u64)> {
    e.status()
        .into_iter()
        .find(|s| {
            s.service == service && s.name == name && s.cluster == cluster && s.group.is_none()
        })
        .map(|s| (s.total, s.good))
}

pub(super) fn stats(e: &Engine) -> traces::TraceStats {
    e.slos()
        .iter()
        .find_map(|s| s.trace_stats())
        .expect("a trace journey")
}

/// Six traces; by hand: A good (seoul), B bad by login's error (seoul: login started
/// first), C bad by payment's 800 ms (busan), D good (the client span's error is no
/// member's), E no member span, F's member span has an all-zero (invalid) trace id.
pub(super) fn traffic() -> ExportTraceServiceRequest {
    let t = T0 - 20 * S;
    request(&[
        (id(0xA), "login", "seoul", true, t, t + 50 * MS, false),
        (
            id(0xA),
            "payment",
            "seoul",
            true,
            t + 60 * MS,
            t + 160 * MS,
            false,
        ),
        (
            id(0xB),
            "payment",
            "busan",
            true,
            t + 70 * MS,
            t + 170 * MS,
            false,
        ),
        (id(0xB), "login", "seoul", true, t, t + 50 * MS, true),
        (id(0xC), "login", "busan", true, t, t + 50 * MS, false),
        (
            id(0xC),
            "payment",
            "busan",
            true,
            t + 60 * MS,
            t + 860 * MS,
            false,
        ),
        (id(0xD), "login", "busan", true, t, t + 50 * MS, false),
        (
            id(0xD),
            "login",
            "busan",
            false,
            t + 10 * MS,
            t + 20 * MS,
            true,
        ),
        (id(0xE), "cart", "seoul", true, t, t + 50 * MS, true),
        (vec![0; 16], "payment", "seoul", true, t, t + 10 * MS, false),
    ])
}

#[test]
fn one_event_per_trace_bad_when_any_member_span_is_bad() {
    let (e, clock) = engine(100);
    assert!(e.facts_schema().trace_ids());
    e.record_spans(&traffic(), None);
    // Every trace is still open: no journey event yet; the members count their spans.
    assert_eq!(entry(&e, "shop", "checkout", "all"), Some((0, 0)));
    assert_eq!(entry(&e, "login", "availability", "all"), Some((4, 3)));
    assert_eq!(entry(&e, "payment", "latency", "all"), Some((4, 3)));
    assert_eq!(stats(&e).open, 4);
    assert_eq!(stats(&e).without_id, 1);

    clock.advance(Duration::from_secs(9));
    e.close_traces();
    assert_eq!(stats(&e).open, 4, "9 s < max_wait");
    clock.advance(Duration::from_secs(1));
    e.close_traces();
    assert_eq!(entry(&e, "shop", "checkout", "all"), Some((4, 2)));
    assert_eq!(entry(&e, "shop", "checkout", "seoul"), Some((2, 1)));
    assert_eq!(entry(&e, "shop", "checkout", "busan"), Some((2, 1)));
    let s = stats(&e);
    assert_eq!((s.open, s.counts.closed, s.counts.forced), (0, 4, 0));

    // The budget and burn rate follow from 2 bad of 4 at 99 %.
    let all = e
        .status()
        .into_iter()
        .find(|s| s.name == "checkout" && s.cluster == "all")
        .unwrap();
    assert_eq!(all.error_ratio, Some(0.5));
    assert!((all.error_budget_remaining.unwrap() - (1.0 - 0.5 / 0.01)).abs() < 1e-9);

    // A bad member span of closed trace A changes nothing and is counted.
    let t = T0 - 5 * S;
    e.record_spans(
        &request(&[(id(0xA), "login", "seoul", true, t, t + MS, true)]),
        None,
    );
    clock.advance(Duration::from_secs(60));
    e.close_traces();
    assert_eq!(entry(&e, "shop", "checkout", "all"), Some((4, 2)));
    assert_eq!(stats(&e).counts.late_spans, 1);
}

#[test]
fn a_full_table_closes_the_least_recent_trace_at_once() {
    let (e, clock) = engine(2);
    let t = T0 - S;
    for n in 1..=3u128 {
        let bad = n == 1;
        e.record_spans(
            &request(&[(id(n), "login", "seoul", true, t, t + MS, bad)]),
            None,
        );
        clock.advance(Duration::from_millis(1));
    }
    // Trace 1 (bad) was forced out by trace 3: recorded without waiting.
    assert_eq!(entry(&e, "shop", "checkout", "all"), Some((1, 0)));
    let s = stats(&e);
    assert_eq!((s.open, s.counts.forced), (2, 1));
    e.close_all_traces();
    assert_eq!(entry(&e, "shop", "checkout", "all"), Some((3, 2)));
    assert_eq!(stats(&e).counts.flushed, 2);
}

#[test]
fn member_spans_outside_the_lateness_bounds_are_dropped_as_the_journeys() {
    let (e, clock) = engine(100);
    let late = T0 - 301 * S;
    let future = T0 + 61 * S;
    e.record_spans(
        &request(&[
            (id(1), "login", "seoul", true, late - MS, late, false),
            (id(2), "login", "seoul", true, future - MS, future, false),
        ]),
        None,
    );
    clock.advance(Duration::from_secs(10));
    e.close_traces();
    assert_eq!(entry(&e, "shop", "checkout", "all"), Some((0, 0)));
    let journey = e
        .slos()
        .into_iter()
        .find(|s| s.spec.name == "checkout")
        .unwrap();
    assert_eq!(journey.dropped(), Dropped { late: 1, future: 1 });
}

#[test]
fn without_a_trace_journey_the_facts_carry_no_trace_ids() {
    let text = SLOS.split("---").take(2).collect::<Vec<_>>().join("---");
    let slos = crate::slo::spec::parse_file(&text, "shop.yaml").unwrap();
    let e = Engine::new(
        EngineConfig::default(),
        Arc::new(ManualClock::new(T0)),
        SloSet::of(slos),
    );
    let schema = e.facts_schema();
    assert!(!schema.trace_ids());
    let facts = SpanFacts::build(&traffic(), None, "k8s.cluster.name", &schema);
    assert!(!facts.has_trace_ids());
    assert_eq!(
        facts
            .batch
            .schema()
            .index_of(crate::slo::facts::TRACE_ID)
            .ok(),
        None
    );
}

#[test]
fn the_trace_id_column_holds_valid_ids_and_nulls_otherwise() {
    let (e, _) = engine(100);
    let t = T0;
    // The W3C Trace Context example id; a 15-byte id; an all-zero id; no id.
    let w3c = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736u128;
    let req = request(&[
        (id(w3c), "login", "seoul", true, t, t, false),
        (vec![7; 15], "login", "seoul", true, t, t, false),
        (vec![0; 16], "login", "seoul", true, t, t, false),
        (Vec::new(), "login", "seoul", true, t, t, false),
    ]);
    let facts = SpanFacts::build(&req, None, "k8s.cluster.name", &e.facts_schema());
    let ids: Vec<Option<u128>> = (0..4).map(|r| facts.trace_id(r)).collect();
    assert_eq!(ids, [Some(w3c), None, None, None]);
    // Read back from its batch (a capture file), the column is found by name.
    let (back, schema) = SpanFacts::from_batch(facts.batch.clone()).unwrap();
    assert!(schema.trace_ids());
    assert_eq!(back.trace_id(0), Some(w3c));
    assert_eq!(back.trace_id(2), None);
}

#[test]
fn closed_traces_survive_a_crash_through_the_log_and_open_ones_are_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (live, clock) = engine(100);
    let (wal, _) = wal::Wal::open(&live, dir.path(), 64 << 20, 0).unwrap();
    let mut unit = wal.begin().unwrap();
    live.record_spans_logged(&traffic(), None, Some(&mut unit.enc));
    unit.commit(None);
    clock.advance(Duration::from_secs(10));
    live.close_traces(); // logged
    // One more trace, open at the crash.
    let t = T0 - S;
    let mut unit = wal.begin().unwrap();
    live.record_spans_logged(
        &request(&[(id(0xF), "login", "seoul", true, t, t + MS, true)]),
        None,
        Some(&mut unit.enc),
    );
    unit.commit(None);
    wal.close();
    assert_eq!(entry(&live, "shop", "checkout", "all"), Some((4, 2)));

    let (after, _) = engine(100);
    let restored = snapshot::restore(&after, dir.path());
    let (w, replayed) =
        wal::Wal::open(&after, dir.path(), 64 << 20, restored.wal_position).unwrap();
    drop(w);
    assert!(replayed.applied > 0);
    assert_eq!(entry(&after, "shop", "checkout", "all"), Some((4, 2)));
    assert_eq!(entry(&after, "shop", "checkout", "seoul"), Some((2, 1)));
    assert_eq!(entry(&after, "login", "availability", "all"), Some((5, 3)));
    assert_eq!(stats(&after).open, 0, "the open trace is lost");
}

/// Random traces (members and not, errors, slow payments, several clusters) spread over
/// many requests: the journey's events per cluster are those counted by hand from what
/// was sent — the member verdicts the span path hands over are the members' own.
#[test]
fn random_traces_give_the_journey_events_counted_by_hand() {
    use std::collections::BTreeMap;
    let (e, clock) = engine(10_000);
    let mut rng = fastrand::Rng::with_seed(7);
    let services = ["login", "payment", "cart"];
    let clusters = ["seoul", "busan", "jeju"];
    // Per trace: (earliest member start, its cluster, any member bad).
    let mut by_hand: BTreeMap<u128, (u64, &str, bool)> = BTreeMap::new();
    let mut next_start = T0 - 200 * S;
    let mut spans: Vec<(u128, Sent<'static>)> = Vec::new();
    for trace in 1..=400u128 {
        for _ in 0..rng.usize(1..5) {
            let service = services[rng.usize(..services.len())];
            let cluster = clusters[rng.usize(..clusters.len())];
            let server = rng.bool();
            let error = rng.u8(..5) == 0;
            // Distinct starts, so "the member span that started first" is one span.
            next_start += rng.u64(1..1_000) * MS / 100;
            let start = next_start;
            let end = start + rng.u64(..1_000) * MS;
            spans.push((
                trace,
                (id(trace), service, cluster, server, start, end, error),
            ));
            let member = server && (service == "login" || service == "payment");
            if !member {
                continue;
            }
            let bad = if service == "login" {
                error
            } else {
                end - start > 500 * MS
            };
            let entry = by_hand.entry(trace).or_insert((start, cluster, false));
            if start < entry.0 {
                (entry.0, entry.1) = (start, cluster);
            }
            entry.2 |= bad;
        }
    }
    rng.shuffle(&mut spans);
    for chunk in spans.chunks(37) {
        let sent: Vec<Sent<'_>> = chunk.iter().map(|(_, s)| s.clone()).collect();
        e.record_spans(&request(&sent), None);
        clock.advance(Duration::from_millis(10));
    }
    clock.advance(Duration::from_secs(10));
    e.close_traces();
    let mut expected: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (_, cluster, bad) in by_hand.values() {
        for c in [*cluster, "all"] {
            let (total, good) = expected.entry(c).or_default();
            *total += 1;
            *good += u64::from(!bad);
        }
    }
    assert!(expected["all"].0 > 200 && expected["all"].1 < expected["all"].0);
    for (cluster, counts) in &expected {
        assert_eq!(
            entry(&e, "shop", "checkout", cluster),
            Some(*counts),
            "{cluster}"
        );
    }
    let s = stats(&e);
    assert_eq!(s.counts.closed, by_hand.len() as u64);
    assert_eq!(s.counts.late_spans, 0);
}
