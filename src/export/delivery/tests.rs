use std::sync::atomic::AtomicUsize;

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;

use super::*;
use crate::config::{QueueConfig, RetryConfig};
use crate::pipeline::{Payload, RequestContext};

/// A backend that answers from a script, then `last` forever.
struct Scripted {
    script: std::sync::Mutex<Vec<Outcome>>,
    last: Outcome,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(mut script: Vec<Outcome>, last: Outcome) -> Arc<Self> {
        script.reverse();
        Arc::new(Self {
            script: std::sync::Mutex::new(script),
            last,
            calls: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl Remote for Scripted {
    fn accepts(&self, _: Signal) -> bool {
        true
    }

    fn encode(&self, batch: &Batch) -> Result<Vec<Record>, String> {
        Ok(vec![Record {
            tenant: None,
            items: batch.items as u64,
            route: 0,
            queued_ms: 0,
            body: Bytes::from_static(b"x"),
        }])
    }

    async fn send(&self, _: &Record) -> Outcome {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let next = self.script.lock().unwrap().pop();
        next.unwrap_or_else(|| self.last.clone())
    }
}

fn batch(items: usize) -> Batch {
    Batch {
        ctx: RequestContext::default(),
        payload: Payload::Logs(ExportLogsServiceRequest::default()),
        items,
        bytes: 10,
        ack: None,
        raw: None,
    }
}

fn delivery(retry: RetryConfig) -> Delivery {
    Delivery {
        queue: QueueConfig {
            num_consumers: 1,
            ..QueueConfig::default()
        },
        retry,
    }
}

fn start(remote: Arc<Scripted>, d: &Delivery, metrics: &Arc<Metrics>) -> Arc<QueuedExporter> {
    QueuedExporter::start("test/x", remote, d, metrics.clone()).expect("exporter starts")
}

fn retry() -> RetryConfig {
    RetryConfig {
        initial_interval: Duration::from_secs(1),
        max_interval: Duration::from_secs(30),
        ..RetryConfig::default()
    }
}

fn counter(m: &Metrics, reason: &'static str) -> u64 {
    m.exporters
        .dropped_items
        .get_or_create(&DroppedLabels {
            exporter: "test/x".to_string(),
            reason,
        })
        .get()
}

fn delivered(m: &Metrics) -> u64 {
    m.exporters
        .sent_items
        .get_or_create(&QueueLabels {
            exporter: "test/x".to_string(),
        })
        .get()
}

async fn wait_until(mut f: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("condition not reached");
}

fn unavailable(after: Option<Duration>) -> Outcome {
    Outcome::Retry {
        after,
        reason: "http_retryable",
        server_error: false,
        detail: "503".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_then_delivered() {
    let remote = Scripted::new(
        vec![unavailable(Some(Duration::from_secs(20)))],
        Outcome::Delivered,
    );
    let metrics = Metrics::new();
    let e = start(remote.clone(), &delivery(retry()), &metrics);
    let t0 = Instant::now();
    e.export(&batch(5)).await.unwrap();
    wait_until(|| delivered(&metrics) == 5).await;
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_secs(20), "waited {waited:?}");
    assert!(waited < Duration::from_secs(22), "waited {waited:?}");
    assert_eq!(remote.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_never_retried() {
    let remote = Scripted::new(
        Vec::new(),
        Outcome::Permanent {
            reason: "http_4xx",
            detail: "400".into(),
        },
    );
    let metrics = Metrics::new();
    let e = start(remote.clone(), &delivery(retry()), &metrics);
    e.export(&batch(3)).await.unwrap();
    wait_until(|| counter(&metrics, "permanent") == 3).await;
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(remote.calls.load(Ordering::SeqCst), 1);
    assert_eq!(delivered(&metrics), 0);
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    let remote = Scripted::new(
        Vec::new(),
        Outcome::Retry {
            after: None,
            reason: "http_500",
            server_error: true,
            detail: "500".into(),
        },
    );
    let metrics = Metrics::new();
    let cfg = RetryConfig {
        max_server_error_retries: 3,
        ..retry()
    };
    let e = start(remote.clone(), &delivery(cfg), &metrics);
    e.export(&batch(2)).await.unwrap();
    wait_until(|| counter(&metrics, "permanent") == 2).await;
    assert_eq!(
        remote.calls.load(Ordering::SeqCst),
        4,
        "the first try and 3 retries"
    );
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_exponentially_up_to_the_cap() {
    let remote = Scripted::new(Vec::new(), unavailable(None));
    let metrics = Metrics::new();
    let e = start(remote.clone(), &delivery(retry()), &metrics);
    e.export(&batch(1)).await.unwrap();
    // Delays 1, 2, 4, 8, 16, 30, 30 … s (±50%): about 7 attempts in the first minute, and
    // about 2 per minute once capped.
    tokio::time::sleep(Duration::from_secs(60)).await;
    let first_minute = remote.calls.load(Ordering::SeqCst);
    assert!(
        (5..=10).contains(&first_minute),
        "{first_minute} calls in the first minute"
    );
    tokio::time::sleep(Duration::from_secs(600)).await;
    let later = remote.calls.load(Ordering::SeqCst) - first_minute;
    assert!(
        (14..=40).contains(&later),
        "{later} calls in 10 capped minutes"
    );
    assert_eq!(delivered(&metrics), 0);
}

#[tokio::test(start_paused = true)]
async fn max_elapsed_time_gives_up() {
    let remote = Scripted::new(Vec::new(), unavailable(None));
    let metrics = Metrics::new();
    let cfg = RetryConfig {
        max_elapsed_time: Duration::from_secs(30),
        ..retry()
    };
    let e = start(remote.clone(), &delivery(cfg), &metrics);
    e.export(&batch(4)).await.unwrap();
    wait_until(|| counter(&metrics, "retries_exhausted") == 4).await;
}

#[tokio::test(start_paused = true)]
async fn a_dead_backend_fills_its_queue_and_then_refuses() {
    let remote = Scripted::new(Vec::new(), unavailable(None));
    let metrics = Metrics::new();
    let mut d = delivery(retry());
    d.queue.max_bytes = Record {
        tenant: None,
        items: 1,
        route: 0,
        queued_ms: 0,
        body: Bytes::from_static(b"x"),
    }
    .size()
        * 4;
    let e = start(remote, &d, &metrics);
    let mut accepted = 0;
    while e.has_room() {
        e.export(&batch(1)).await.unwrap();
        accepted += 1;
        assert!(accepted < 100);
    }
    // One is in flight (taken by the consumer), the queue holds the rest.
    assert!((4..=5).contains(&accepted), "{accepted}");
    assert_eq!(
        counter(&metrics, "queue_full"),
        0,
        "nothing dropped: the pipeline refuses instead"
    );
}
