//! Replay of a trace-aware journey: the capture carries the trace ids, and the replayed
//! journey equals the live one and a hand count.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::tests::{MS, S, T0, api, args, live, replay, replayed, start, write_slos};
use crate::attr::kv;
use crate::test_otlp::{server_span, traces_request};

const SLOS: &str = r#"
service: shop
slos:
  - name: availability
    objective: 99
    window: 7d
    sli:
      spans:
        where: resource.attributes["service.name"] == "shop"
        bad: status.code == STATUS_CODE_ERROR
  - name: latency
    objective: 95
    window: 7d
    sli:
      spans:
        where: name == "POST /pay"
        latency_threshold: 300ms
  - name: checkout
    objective: 90
    window: 7d
    journey:
      mode: trace
      max_wait: 20s
      members: [{slo: availability}, {slo: latency}]
"#;

/// One span: (trace, name, end, duration in ms, error).
type Sp = (u128, &'static str, u64, u64, bool);

fn request(spans: &[Sp]) -> ExportTraceServiceRequest {
    let spans = spans
        .iter()
        .enumerate()
        .map(|(i, (trace, name, end, ms, error))| Span {
            trace_id: trace.to_be_bytes().to_vec(),
            ..server_span(i as u64 + 1, *name, end - ms * MS, *end, *error)
        })
        .collect();
    traces_request(
        vec![kv("service.name", "shop"), kv("k8s.cluster.name", "c1")],
        spans,
    )
}

#[test]
fn a_replayed_trace_journey_equals_the_live_one_and_the_hand_count() {
    let (dir, slos, engine, clock, capture) = start(SLOS);
    // 20 minutes; each minute 10 checkouts of a cart span and a payment span, the payment
    // of a checkout sent in the next minute's request (a trace spans two requests).
    let mut verdict: BTreeMap<u128, bool> = BTreeMap::new();
    let mut pending: Vec<Sp> = Vec::new();
    for minute in 0..20u64 {
        let now = T0 + minute * 60 * S;
        clock.set(now);
        let mut spans = std::mem::take(&mut pending);
        for i in 0..10u64 {
            let trace = u128::from(minute * 100 + i + 1);
            let cart_error = (i + minute) % 13 == 0;
            let pay_ms = 100 + (i * 53 + minute * 7) % 300;
            let pay_error = (i * 3 + minute) % 17 == 0;
            spans.push((trace, "POST /cart", now - 2 * S, 20, cart_error));
            // Sent 5 s later (still within max_wait of the cart span's arrival).
            pending.push((trace, "POST /pay", now - S, pay_ms, pay_error));
            verdict.insert(trace, cart_error || pay_ms > 300 || pay_error);
        }
        engine.record_spans_from(&request(&spans), None, Some("acme"), None);
        clock.set(now + 5 * S);
        engine.record_spans_from(
            &request(&std::mem::take(&mut pending)),
            None,
            Some("acme"),
            None,
        );
    }
    let end = T0 + 19 * 60 * S + 30 * S;
    clock.set(end);
    engine.close_traces();
    let live_api = api(&engine);
    capture.close();

    let total = verdict.len() as u64;
    let bad = verdict.values().filter(|b| **b).count() as u64;
    assert!(bad > 0 && bad < total);
    let journey = live_api["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "checkout" && s["cluster"] == "all")
        .unwrap();
    assert_eq!(journey["total"], total);
    assert_eq!(journey["good"], total - bad);

    let report = replay(&args(dir.path(), &slos, Some(end)));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(replayed(&report), live_api);
}

#[test]
fn a_capture_without_trace_ids_is_refused_for_a_trace_journey() {
    let dir = tempfile::tempdir().unwrap();
    // Captured with the member SLOs alone: no trace_id column.
    let members = SLOS.split("  - name: checkout").next().unwrap();
    let captured = write_slos(dir.path(), members);
    let (engine, _clock, capture) = live(dir.path(), &captured);
    engine.record_spans_from(
        &request(&[(1, "POST /pay", T0 - S, 10, false)]),
        None,
        None,
        None,
    );
    capture.close();
    let slos = write_slos(dir.path(), SLOS);
    let set = crate::slo::spec::load(std::slice::from_ref(&slos), false).unwrap();
    let Err(err) = super::replay_set(set, &args(dir.path(), &slos, None), |_, _| {}) else {
        panic!("a capture without trace ids replayed");
    };
    let err = err.to_string();
    assert!(err.contains("no trace_id column"), "{err}");
}
