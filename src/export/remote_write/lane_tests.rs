//! The SLO series' lane: sharding keeps each series in one shard and in order, every
//! point is sent once when the backend keeps up, several shards send at once, and a slow
//! backend makes the lane drop the oldest snapshots with the counter rising and the backlog
//! bounded.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, metric, number_data_point,
};

use super::*;
use crate::attr::kv;
use crate::telemetry::{DroppedLabels, Metrics, QueueLabels};
use tokio::time::Instant;

fn cfg(max_samples: usize) -> RemoteWriteConfig {
    RemoteWriteConfig {
        replica: Some("r1".into()),
        max_samples_per_request: max_samples,
        ..RemoteWriteConfig::new("http://127.0.0.1:9/api/v1/write")
    }
}

/// One gauge with `groups` points at `t_ms`, point `g` of value `base + g`.
fn snapshot(groups: usize, t_ms: u64, base: f64) -> ExportMetricsServiceRequest {
    let points = (0..groups)
        .map(|g| NumberDataPoint {
            attributes: vec![kv("slo", "avail"), kv("tenant", format!("t{g}"))],
            time_unix_nano: t_ms * 1_000_000,
            value: Some(number_data_point::Value::AsDouble(base + g as f64)),
            ..Default::default()
        })
        .collect();
    crate::test_otlp::metrics_request(
        vec![],
        vec![Metric {
            name: "slotel_slo_error_budget_remaining_ratio".into(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: points,
            })),
            ..Default::default()
        }],
    )
}

fn decode(record: &Record) -> Vec<prom::TimeSeries> {
    let raw = snap::raw::Decoder::new()
        .decompress_vec(&record.body)
        .expect("snappy");
    prom::WriteRequest::decode(raw.as_slice())
        .expect("protobuf")
        .timeseries
}

fn tenant(s: &prom::TimeSeries) -> String {
    s.labels
        .iter()
        .find(|l| l.name == "tenant")
        .map(|l| l.value.clone())
        .expect("tenant label")
}

fn now_ms() -> u64 {
    jiff::Timestamp::now().as_millisecond() as u64
}

#[test]
fn shards_hold_every_series_once_and_always_the_same_series() {
    let rw = RemoteWrite::new(&cfg(100)).unwrap();
    let t = now_ms() - 10_000;
    let first = rw.encode_slo_shards(&snapshot(1000, t, 0.0), 8).unwrap();
    let second = rw
        .encode_slo_shards(&snapshot(1000, t + 1000, 0.5), 8)
        .unwrap();
    assert_eq!((first.len(), second.len()), (8, 8));
    let place = |shards: &[Vec<Record>]| {
        let mut at: HashMap<String, usize> = HashMap::new();
        for (i, records) in shards.iter().enumerate() {
            for r in records {
                let series = decode(r);
                assert!(series.len() <= 100, "a request holds at most 100 samples");
                assert_eq!(r.items, series.len() as u64);
                for s in &series {
                    assert!(at.insert(tenant(s), i).is_none(), "a series twice");
                }
            }
        }
        at
    };
    let (a, b) = (place(&first), place(&second));
    assert_eq!(a.len(), 1000);
    assert_eq!(a, b, "a series moved shard between snapshots");
    // The hash spreads the series: no shard is empty, none holds most of them.
    let mut per: BTreeMap<usize, usize> = BTreeMap::new();
    for i in a.values() {
        *per.entry(*i).or_default() += 1;
    }
    assert_eq!(per.len(), 8);
    assert!(per.values().all(|n| (60..=200).contains(n)), "{per:?}");
}

/// What the fake backend saw: per series, the timestamps in the order they arrived.
#[derive(Default)]
struct Seen {
    per_series: Mutex<HashMap<String, Vec<i64>>>,
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

struct Fake {
    seen: Arc<Seen>,
    delay: Duration,
    /// Answer "retry" to the first this many requests.
    fail_first: AtomicUsize,
}

#[async_trait]
impl Send1 for Fake {
    async fn send(&self, record: &Record) -> Outcome {
        let now = self.seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.seen.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.seen.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Outcome::retry(crate::export::retry::Cause::Connection, "test");
        }
        self.seen.requests.fetch_add(1, Ordering::SeqCst);
        let mut per = self.seen.per_series.lock().unwrap();
        for s in decode(record) {
            per.entry(tenant(&s))
                .or_default()
                .push(s.samples[0].timestamp);
        }
        Outcome::Delivered
    }
}

fn lane(backend: Arc<dyn Send1>, shards: usize, backlog: u64, metrics: &Arc<Metrics>) -> Lane {
    let retry = crate::config::RetryConfig {
        initial_interval: Duration::from_millis(5),
        max_interval: Duration::from_millis(20),
        ..crate::config::RetryConfig::default()
    };
    Lane::new(
        "prometheusremotewrite/test",
        LaneConfig {
            shards,
            backlog,
            retry,
        },
        backend,
        metrics.clone(),
    )
}

fn dropped(metrics: &Metrics, reason: &'static str) -> u64 {
    metrics
        .exporters
        .dropped_items
        .get_or_create(&DroppedLabels {
            exporter: "prometheusremotewrite/test".into(),
            reason,
        })
        .get()
}

fn sent(metrics: &Metrics) -> u64 {
    metrics
        .exporters
        .sent_items
        .get_or_create(&QueueLabels {
            exporter: "prometheusremotewrite/test".into(),
        })
        .get()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backend_that_keeps_up_gets_every_point_once_in_order_from_several_shards() {
    let rw = RemoteWrite::new(&cfg(50)).unwrap();
    let seen = Arc::new(Seen::default());
    let fake = Arc::new(Fake {
        seen: seen.clone(),
        delay: Duration::from_millis(2),
        fail_first: AtomicUsize::new(5),
    });
    let metrics = Metrics::new();
    let lane = lane(fake, 4, 1_000_000, &metrics);
    let t0 = now_ms() - 60_000;
    for k in 0..20u64 {
        lane.push(
            rw.encode_slo_shards(&snapshot(400, t0 + k * 1000, k as f64), lane.shards())
                .unwrap(),
        );
    }
    lane.flush(Instant::now() + Duration::from_secs(30)).await;
    let per = seen.per_series.lock().unwrap();
    assert_eq!(per.len(), 400);
    let expected: Vec<i64> = (0..20).map(|k| (t0 + k * 1000) as i64).collect();
    for (series, ts) in per.iter() {
        assert_eq!(ts, &expected, "{series}: every snapshot once, in order");
    }
    assert_eq!(sent(&metrics), 400 * 20);
    assert_eq!(dropped(&metrics, "superseded"), 0);
    let most = seen.max_in_flight.load(Ordering::SeqCst);
    assert!(
        (2..=4).contains(&most),
        "requests in flight at once: {most}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_backend_makes_the_lane_drop_the_oldest_snapshots_within_its_backlog() {
    let rw = RemoteWrite::new(&cfg(100)).unwrap();
    let seen = Arc::new(Seen::default());
    let fake = Arc::new(Fake {
        seen: seen.clone(),
        delay: Duration::from_millis(20),
        fail_first: AtomicUsize::new(0),
    });
    let metrics = Metrics::new();
    // 2000 samples a snapshot, 2 shards of 10 requests each: 200 ms to send one
    // snapshot, and one comes every 10 ms. The backlog holds 3000 samples.
    let lane = lane(fake, 2, 3000, &metrics);
    let t0 = now_ms() - 60_000;
    let mut most_queued = 0;
    let snapshots = 60u64;
    for k in 0..snapshots {
        lane.push(
            rw.encode_slo_shards(&snapshot(2000, t0 + k * 1000, k as f64), lane.shards())
                .unwrap(),
        );
        most_queued = most_queued.max(lane.queued());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Never more than the backlog (a snapshot is smaller than it).
    assert!(most_queued <= 3000, "queued {most_queued}");
    lane.flush(Instant::now() + Duration::from_secs(30)).await;
    let superseded = dropped(&metrics, "superseded");
    assert!(
        superseded > 0,
        "the slow backend made the lane drop nothing"
    );
    // What was neither sent nor dropped as superseded: nothing.
    assert_eq!(sent(&metrics) + superseded, 2000 * snapshots);
    let per = seen.per_series.lock().unwrap();
    let last = (t0 + (snapshots - 1) * 1000) as i64;
    assert_eq!(per.len(), 2000);
    for (series, ts) in per.iter() {
        assert!(
            ts.windows(2).all(|w| w[0] < w[1]),
            "{series}: out of order {ts:?}"
        );
        assert_eq!(
            ts.last(),
            Some(&last),
            "{series}: the newest snapshot is sent"
        );
    }
}

#[tokio::test]
async fn a_stalled_backend_costs_the_flush_its_deadline_and_the_rest_is_counted() {
    let rw = RemoteWrite::new(&cfg(100)).unwrap();
    let seen = Arc::new(Seen::default());
    let fake = Arc::new(Fake {
        seen,
        delay: Duration::from_secs(3600),
        fail_first: AtomicUsize::new(0),
    });
    let metrics = Metrics::new();
    let lane = lane(fake, 2, 1_000_000, &metrics);
    lane.push(
        rw.encode_slo_shards(&snapshot(500, now_ms() - 5000, 1.0), lane.shards())
            .unwrap(),
    );
    let started = Instant::now();
    lane.flush(Instant::now() + Duration::from_millis(300))
        .await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "flush took {took:?}");
    assert_eq!(dropped(&metrics, "shutdown"), 500);
    assert_eq!(sent(&metrics), 0);
    // After the flush, a snapshot is refused and counted, never queued.
    lane.push(
        rw.encode_slo_shards(&snapshot(10, now_ms() - 1000, 2.0), lane.shards())
            .unwrap(),
    );
    assert_eq!(lane.queued(), 0);
    assert_eq!(dropped(&metrics, "shutdown"), 510);
}

/// A backend that holds every request until opened, then records each series' values.
#[derive(Default)]
struct Gate {
    open: tokio::sync::Notify,
    opened: std::sync::atomic::AtomicBool,
    waiting: AtomicUsize,
    values: Mutex<HashMap<String, Vec<u64>>>,
}

#[async_trait]
impl Send1 for Gate {
    async fn send(&self, record: &Record) -> Outcome {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        while !self.opened.load(Ordering::SeqCst) {
            let wait = self.open.notified();
            if self.opened.load(Ordering::SeqCst) {
                break;
            }
            wait.await;
        }
        let mut values = self.values.lock().unwrap();
        for s in decode(record) {
            values
                .entry(tenant(&s))
                .or_default()
                .push(s.samples[0].value.to_bits());
        }
        Outcome::Delivered
    }
}

/// Points `live` of the gauge at `t_ms`, and points `ended` flagged "no recorded value"
/// (the series ended: remote write sends a stale marker).
fn snapshot_with_ended(
    live: std::ops::Range<usize>,
    ended: std::ops::Range<usize>,
    t_ms: u64,
) -> ExportMetricsServiceRequest {
    let point = |g: usize, flags: u32| NumberDataPoint {
        attributes: vec![kv("slo", "avail"), kv("tenant", format!("t{g}"))],
        time_unix_nano: t_ms * 1_000_000,
        value: Some(number_data_point::Value::AsDouble(0.5)),
        flags,
        ..Default::default()
    };
    let no_value =
        opentelemetry_proto::tonic::metrics::v1::DataPointFlags::NoRecordedValueMask as u32;
    let points = live
        .map(|g| point(g, 0))
        .chain(ended.map(|g| point(g, no_value)))
        .collect();
    crate::test_otlp::metrics_request(
        vec![],
        vec![Metric {
            name: "slotel_slo_error_budget_remaining_ratio".into(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: points,
            })),
            ..Default::default()
        }],
    )
}

fn lane_samples(metrics: &Metrics) -> i64 {
    metrics
        .exporters
        .slo_lane_samples
        .get_or_create(&QueueLabels {
            exporter: "prometheusremotewrite/test".into(),
        })
        .get()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_markers_outlive_a_superseded_snapshot() {
    let rw = RemoteWrite::new(&cfg(100)).unwrap();
    let gate = Arc::new(Gate::default());
    let metrics = Metrics::new();
    let lane = lane(gate.clone(), 1, 300, &metrics);
    let t0 = now_ms() - 60_000;
    let push = |req: &ExportMetricsServiceRequest| {
        let (samples, stale) = rw.encode_slo_snapshot(req, lane.shards()).unwrap();
        lane.push_snapshot(samples, stale);
    };
    // 200 series; the lane's one worker takes the first request and waits at the gate.
    push(&snapshot_with_ended(0..200, 0..0, t0));
    eventually(|| gate.waiting.load(Ordering::SeqCst) == 1).await;
    // Series t150…t199 end: the next snapshot carries their stale markers. Two more
    // snapshots of the 150 live series then supersede it (backlog: 300 samples).
    push(&snapshot_with_ended(0..150, 150..200, t0 + 1000));
    push(&snapshot_with_ended(0..150, 0..0, t0 + 2000));
    push(&snapshot_with_ended(0..150, 0..0, t0 + 3000));
    assert!(
        dropped(&metrics, "superseded") > 0,
        "nothing was superseded"
    );
    // The gauge: what waits plus the request at the gate.
    assert_eq!(lane_samples(&metrics), lane.queued() as i64 + 100);
    gate.opened.store(true, Ordering::SeqCst);
    gate.open.notify_waiters();
    lane.flush(Instant::now() + Duration::from_secs(30)).await;
    let values = gate.values.lock().unwrap();
    for g in 150..200 {
        let seen = &values[&format!("t{g}")];
        assert_eq!(
            seen.last(),
            Some(&STALE_NAN),
            "t{g}: the series ended without a stale marker: {seen:?}"
        );
    }
    // Every sample was sent or counted as superseded; the gauge is back to zero.
    assert_eq!(
        sent(&metrics) + dropped(&metrics, "superseded"),
        200 + 200 + 150 + 150
    );
    assert_eq!(lane_samples(&metrics), 0);
}

async fn eventually(mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached in 5 s");
}
