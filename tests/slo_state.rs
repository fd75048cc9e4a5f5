//! SLO state snapshots that parse but cannot be true: slot ids far ahead of now (which
//! used to freeze every window at zero for good), counts that do not add up, series and
//! snapshots from the future, oversized slots. Each is moved aside
//! (`slo-state.json.corrupt-<seconds>`), nothing of it is restored, and the engine counts
//! new events at once; a true snapshot, however old, still restores.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{counts, otlp};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, HistogramDataPoint, Metric, NumberDataPoint, number_data_point,
};
use serde_json::Value;
use slotel::attr::kv;
use slotel::slo::engine::snapshot::{self, Restored};
use slotel::slo::engine::{Engine, EngineConfig, ManualClock};
use slotel::slo::spec;

const S: u64 = 1_000_000_000;
const NOW: u64 = 1_700_000_000 * S;
const LATENCY: &str = "request-latency";
const FILE: &str = "slo-state.json";

fn engine(now: u64) -> (Arc<Engine>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(now));
    let set = spec::load(&["embedded:examples".to_string()], false).expect("example SLOs");
    (
        Engine::new(EngineConfig::default(), clock.clone(), set),
        clock,
    )
}

fn request(metric: Metric) -> ExportMetricsServiceRequest {
    otlp::metrics_request(
        vec![kv("service.name", "cart"), kv("k8s.cluster.name", "seoul")],
        vec![metric],
    )
}

/// Ten observations at `time` for cart's request-latency SLO (threshold 250ms): four
/// good.
fn latency(time: u64) -> ExportMetricsServiceRequest {
    request(otlp::histogram(
        "http.server.request.duration",
        AggregationTemporality::Delta as i32,
        vec![HistogramDataPoint {
            start_time_unix_nano: time - 10 * S,
            time_unix_nano: time,
            count: 10,
            explicit_bounds: vec![0.1, 0.25, 0.5],
            bucket_counts: vec![1, 3, 4, 2],
            ..Default::default()
        }],
    ))
}

/// A cumulative request counter (cart's request-availability SLO).
fn requests(start: u64, time: u64, value: i64) -> ExportMetricsServiceRequest {
    request(otlp::counter(
        "http.server.requests",
        AggregationTemporality::Cumulative as i32,
        vec![NumberDataPoint {
            start_time_unix_nano: start,
            time_unix_nano: time,
            value: Some(number_data_point::Value::AsInt(value)),
            ..Default::default()
        }],
    ))
}

/// A snapshot of an engine that saw latencies and a counter series, as JSON.
fn snapshot(dir: &Path) -> Value {
    let (e, _) = engine(NOW);
    e.record_metrics(&latency(NOW - 30 * S), None);
    e.record_metrics(&requests(NOW + S, NOW + 2 * S, 5), None);
    assert_eq!(counts(&e, LATENCY), (10, 4));
    snapshot::write(&e, dir).expect("write");
    serde_json::from_slice(&std::fs::read(dir.join(FILE)).expect("read")).expect("json")
}

fn put(dir: &Path, v: &Value) {
    std::fs::write(dir.join(FILE), serde_json::to_vec(v).expect("encode")).expect("write");
}

fn set_aside_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("slo-state.json.corrupt-"))
        .collect()
}

/// The SLO entry of `name` in a snapshot.
fn slo<'v>(v: &'v mut Value, name: &str) -> &'v mut Value {
    v["slos"]
        .as_array_mut()
        .expect("slos")
        .iter_mut()
        .find(|s| s["name"] == name)
        .expect("slo in snapshot")
}

/// Every slot record `[id, good, total, buckets]` of an SLO's groups.
fn slots<'v>(v: &'v mut Value, name: &str) -> Vec<&'v mut Value> {
    let mut out = Vec::new();
    for g in slo(v, name)["groups"].as_array_mut().expect("groups") {
        for ring in g["rings"].as_array_mut().expect("rings") {
            out.extend(ring.as_array_mut().expect("ring").iter_mut());
        }
    }
    out
}

/// Restores the damaged snapshot `v` into a fresh engine at `NOW`; asserts it was set
/// aside, nothing restored, and new events count.
fn assert_set_aside(v: &Value, what: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    put(dir.path(), v);
    let (e, _) = engine(NOW);
    let restored = snapshot::restore(&e, dir.path());
    assert_eq!(restored, Restored::default(), "{what}: nothing restored");
    assert_eq!(set_aside_files(dir.path()).len(), 1, "{what}: set aside");
    assert!(!dir.path().join(FILE).exists(), "{what}: moved, not copied");
    assert_eq!(counts(&e, LATENCY), (0, 0), "{what}: starts empty");
    e.record_metrics(&latency(NOW - 5 * S), None);
    assert_eq!(counts(&e, LATENCY), (10, 4), "{what}: new events count");
}

#[test]
fn absurd_slot_ids_are_set_aside_instead_of_freezing_the_windows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut v = snapshot(dir.path());
    for slot in slots(&mut v, LATENCY) {
        slot[0] = Value::from(u64::MAX / 2);
    }
    assert_set_aside(&v, "slot ids far ahead");
    // Just beyond now plus max_future, in the finest window (10 s slots): still refused.
    let mut v = snapshot(dir.path());
    let ahead = (NOW + 120 * S) / (10 * S) + 1;
    let first = slots(&mut v, LATENCY).into_iter().next().expect("a slot");
    first[0] = Value::from(ahead);
    assert_set_aside(&v, "a slot two minutes ahead");
}

#[test]
fn inconsistent_counts_are_set_aside() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut v = snapshot(dir.path());
    for slot in slots(&mut v, LATENCY) {
        slot[1] = Value::from(11);
    }
    assert_set_aside(&v, "slot good above total");

    let mut v = snapshot(dir.path());
    let g = &mut slo(&mut v, LATENCY)["groups"][0];
    g["good"] = Value::from(11);
    assert_set_aside(&v, "lifetime good above total");

    let mut v = snapshot(dir.path());
    let g = &mut slo(&mut v, LATENCY)["groups"][0];
    g["total"] = Value::from(3);
    g["good"] = Value::from(3);
    assert_set_aside(&v, "windows above the lifetime total");

    let mut v = snapshot(dir.path());
    let mut all = slots(&mut v, LATENCY);
    all[0][2] = Value::from(u64::MAX);
    all[1][2] = Value::from(u64::MAX);
    assert_set_aside(&v, "window totals that overflow");
}

#[test]
fn series_and_snapshots_from_the_future_are_set_aside() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut v = snapshot(dir.path());
    let series = v["metrics"]["series"].as_array_mut().expect("series");
    assert!(!series.is_empty(), "the counter series is in the snapshot");
    series[0]["time"] = Value::from(NOW + 365 * 86_400 * S);
    assert_set_aside(&v, "a series a year ahead");

    let mut v = snapshot(dir.path());
    v["written_unix_nanos"] = Value::from(u64::MAX);
    assert_set_aside(&v, "written in the future");
}

#[test]
fn oversized_slots_are_set_aside() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut v = snapshot(dir.path());
    let buckets: Vec<Value> = (0..40_000u64)
        .map(|k| Value::from(vec![1_000 + k, 1]))
        .collect();
    slots(&mut v, LATENCY)[0][3] = Value::from(buckets);
    assert_set_aside(&v, "a slot with 40000 latency buckets");
}

#[test]
fn a_true_snapshot_restores_even_when_old() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = snapshot(dir.path());
    put(dir.path(), &v);
    let (e, _) = engine(NOW + 10 * S);
    let restored = snapshot::restore(&e, dir.path());
    assert!(restored.slos > 0, "{restored:?}");
    assert_eq!(restored.series, 1);
    assert!(set_aside_files(dir.path()).is_empty());
    assert_eq!(counts(&e, LATENCY), (10, 4));
    // Ten days later every slot is older than its ring (the 30d window keeps them).
    let (e, clock) = engine(NOW + 10 * 86_400 * S);
    let restored = snapshot::restore(&e, dir.path());
    assert!(restored.slos > 0, "{restored:?}");
    assert!(set_aside_files(dir.path()).is_empty());
    assert_eq!(counts(&e, LATENCY), (10, 4));
    clock.set(NOW + 10 * 86_400 * S + 60 * S);
    e.record_metrics(&latency(NOW + 10 * 86_400 * S + 30 * S), None);
    assert_eq!(counts(&e, LATENCY), (20, 8));
}
