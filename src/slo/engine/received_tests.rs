//! Recording several requests at once, each row at its own receipt time
//! ([`Engine::record_facts_received`], what `slotel replay` does), against recording each
//! request alone at its receipt time (what the live path did).

use std::sync::Arc;
use std::time::Duration;

use super::tests::{S, engine, request, slo};
use super::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

const T0: u64 = 1_800_000_000 * S;

/// A request: its receipt time and its spans (cluster, end time, duration, error).
type Request = (u64, Vec<(&'static str, u64, u64, bool)>);

/// Requests received 7 s apart, each of random spans around its receipt time: mostly just
/// ended, some late for their own request (ended more than 300 s before it) though not for
/// a later one, some ahead of their request by more than 60 s though not of a later one;
/// in three clusters, some slow, some errors.
fn requests(seed: u64) -> Vec<Request> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let clusters = ["seoul", "busan", "daegu"];
    (0..40u64)
        .map(|k| {
            let received = T0 + k * 7 * S;
            let spans = (0..rng.usize(1..120))
                .map(|_| {
                    let end = match rng.u8(..10) {
                        0 => received - 300 * S - rng.u64(1..40 * S),
                        1 => received + 60 * S + rng.u64(1..40 * S),
                        _ => received - rng.u64(..20 * S),
                    };
                    let duration = rng.u64(1_000..600_000_000);
                    (clusters[rng.usize(..3)], end, duration, rng.u8(..8) == 0)
                })
                .collect();
            (received, spans)
        })
        .collect()
}

fn slos() -> Vec<Slo> {
    vec![
        slo("availability", 0.999, 30, None),
        slo("latency", 0.99, 7, Some(Duration::from_millis(300))),
    ]
}

/// Recorded one request at a time, the clock at each one's receipt.
fn one_by_one(requests: &[Request]) -> (Arc<Engine>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(slos(), clock.clone());
    for (received, spans) in requests {
        clock.set(*received);
        e.record_spans(&request(spans), None);
    }
    (e, clock)
}

/// All the requests as one batch of facts (rows in request order) and each row's receipt
/// time.
fn together(e: &Engine, requests: &[Request]) -> (SpanFacts, Vec<u64>) {
    let mut all = ExportTraceServiceRequest::default();
    let mut received = Vec::new();
    for (at, spans) in requests {
        all.resource_spans.extend(request(spans).resource_spans);
        received.extend(std::iter::repeat_n(*at, spans.len()));
    }
    let facts = SpanFacts::build(&all, None, "k8s.cluster.name", &e.facts_schema());
    assert_eq!(facts.len(), received.len());
    (facts, received)
}

/// The status as JSON, every float to 12 significant digits: `cluster="all"` sums its
/// groups' latency sums in the order of a hash map, which two engines need not share;
/// counts stay exact.
fn rounded(status: &[GroupStatus]) -> serde_json::Value {
    fn round(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Number(n) if n.is_f64() => {
                let f = n.as_f64().unwrap_or_default();
                Value::String(format!("{f:.11e}"))
            }
            Value::Array(a) => Value::Array(a.into_iter().map(round).collect()),
            Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, round(v))).collect()),
            other => other,
        }
    }
    round(serde_json::to_value(status).unwrap())
}

/// Both engines' status (now and an hour later, when the short windows have moved on)
/// and drops are the same.
fn assert_same(one: (&Engine, &ManualClock), other: (&Engine, &ManualClock), at: u64) {
    let dropped = |e: &Engine| e.slos().iter().map(|s| s.dropped()).collect::<Vec<_>>();
    assert_eq!(dropped(one.0), dropped(other.0));
    assert!(dropped(one.0).iter().all(|d| d.late > 0 && d.future > 0));
    for now in [at, at + 3_600 * S] {
        one.1.set(now);
        other.1.set(now);
        let status = one.0.status();
        assert!(status.iter().any(|s| s.total > 0 && s.good < s.total));
        assert_eq!(rounded(&status), rounded(&other.0.status()));
    }
}

#[test]
fn requests_recorded_at_once_equal_requests_recorded_one_by_one() {
    for seed in 0..3 {
        let requests = requests(seed);
        let last = requests.last().unwrap().0;
        let (live, live_clock) = one_by_one(&requests);
        let clock = Arc::new(ManualClock::new(T0));
        let at_once = engine(slos(), clock.clone());
        let (facts, received) = together(&at_once, &requests);
        at_once.record_facts_received(&facts, &received);
        assert_same((&live, &live_clock), (&at_once, &clock), last);
    }
}

#[test]
fn parts_of_a_batch_recorded_in_turn_equal_requests_recorded_one_by_one() {
    // Parts cut anywhere, also inside a request: each row keeps its receipt time.
    let requests = requests(7);
    let last = requests.last().unwrap().0;
    let (live, live_clock) = one_by_one(&requests);
    let clock = Arc::new(ManualClock::new(T0));
    let parts = engine(slos(), clock.clone());
    let (facts, received) = together(&parts, &requests);
    let n = facts.len();
    let cuts = [0, 1, n / 3, n / 3 + 17, n / 2, n - 1, n];
    for w in cuts.windows(2) {
        let (offset, len) = (w[0], w[1] - w[0]);
        let part = facts.slice(offset, len);
        assert_eq!(part.len(), len);
        assert_eq!(part.cluster(0), facts.cluster(offset));
        parts.record_facts_received(&part, &received[offset..offset + len]);
    }
    assert_same((&live, &live_clock), (&parts, &clock), last);
}

#[test]
fn receipt_times_that_do_not_match_the_rows_record_nothing() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(slos(), clock);
    let (facts, _) = together(&e, &requests(1));
    e.record_facts_received(&facts, &[T0]);
    assert!(e.status().iter().all(|s| s.total == 0));
}
