use std::sync::atomic::AtomicUsize;

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;

use super::*;
use crate::config::{QueueConfig, RetryConfig};
use crate::export::retry::Cause;
use crate::pipeline::{Payload, RequestContext};
use crate::telemetry::log_limit::capture::Captured;

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

    fn encode(&self, batch: &Batch) -> Result<Vec<Record>, crate::export::EncodeError> {
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
    Batch::new(
        RequestContext::default(),
        Payload::Logs(ExportLogsServiceRequest::default()),
        items,
        10,
    )
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
        cause: Cause::HttpRetryable,
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
            cause: Cause::Http4xx,
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
            cause: Cause::Http500,
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

/// Every consumer of an exporter shares one limiter: forty refusals on four consumers
/// give one line, and the next line after the interval says how many were held back.
#[tokio::test(start_paused = true)]
async fn refusals_are_logged_once_per_interval_with_a_count() {
    let (log, _guard) = Captured::start();
    let remote = Scripted::new(
        Vec::new(),
        Outcome::Permanent {
            cause: Cause::Http4xx,
            detail: "HTTP 400 (bad_request; body of 10 bytes not logged)".into(),
        },
    );
    let metrics = Metrics::new();
    let mut d = delivery(retry());
    d.queue.num_consumers = 4;
    let e = start(remote, &d, &metrics);
    for _ in 0..40 {
        e.export(&batch(1)).await.unwrap();
    }
    wait_until(|| counter(&metrics, "permanent") == 40).await;
    let lines = |text: &str| {
        text.lines()
            .filter(|l| l.contains("backend refused a request for good"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(lines(&log.text()).len(), 1, "{}", log.text());
    tokio::time::sleep(Duration::from_secs(10)).await;
    e.export(&batch(1)).await.unwrap();
    wait_until(|| counter(&metrics, "permanent") == 41).await;
    let all = lines(&log.text());
    assert_eq!(all.len(), 2, "{}", log.text());
    assert!(all[1].contains("(39 more since last report)"), "{}", all[1]);
}

/// A backend that takes requests and never answers.
struct Stuck;

#[async_trait]
impl Remote for Stuck {
    fn accepts(&self, _: Signal) -> bool {
        true
    }

    fn encode(&self, batch: &Batch) -> Result<Vec<Record>, crate::export::EncodeError> {
        Scripted::new(Vec::new(), Outcome::Delivered).encode(batch)
    }

    async fn send(&self, _: &Record) -> Outcome {
        std::future::pending().await
    }
}

/// At the deadline a memory queue gives up: shutdown returns by then, and every item it
/// held (queued or in a consumer's hands) is counted as dropped and logged at ERROR.
#[tokio::test(start_paused = true)]
async fn a_memory_queue_that_cannot_drain_counts_and_logs_its_drops() {
    let (log, _guard) = Captured::start();
    let metrics = Metrics::new();
    let mut d = delivery(retry());
    d.queue.num_consumers = 2;
    let e = QueuedExporter::start("test/x", Arc::new(Stuck), &d, metrics.clone())
        .expect("exporter starts");
    for _ in 0..5 {
        e.export(&batch(3)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    let t0 = Instant::now();
    e.shutdown(t0 + Duration::from_secs(5)).await.unwrap();
    let took = t0.elapsed();
    assert!(took >= Duration::from_secs(5), "{took:?}");
    assert!(took <= Duration::from_secs(5) + STOP_GRACE, "{took:?}");
    assert_eq!(counter(&metrics, "shutdown"), 15);
    let text = log.text();
    let line = text
        .lines()
        .find(|l| l.contains("ERROR"))
        .unwrap_or_else(|| panic!("no ERROR line: {text}"));
    assert!(line.contains("15 items dropped"), "{line}");
    assert!(line.contains("requests=5"), "{line}");
}

/// A disk queue keeps what it holds: nothing is counted as dropped at shutdown.
#[tokio::test]
async fn a_disk_queue_stops_at_once_and_drops_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = Metrics::new();
    let mut d = delivery(retry());
    d.queue.storage = QueueStorage::Disk;
    d.queue.directory = Some(dir.path().to_path_buf());
    d.queue.fsync_interval = Duration::from_millis(5);
    let e = QueuedExporter::start("test/x", Arc::new(Stuck), &d, metrics.clone())
        .expect("exporter starts");
    for _ in 0..3 {
        e.export(&batch(2)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    e.shutdown(t0 + Duration::from_secs(30)).await.unwrap();
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert_eq!(counter(&metrics, "shutdown"), 0);
}

/// A backend like Prometheus's remote-write receiver: a request holding a bad item (a
/// byte 0) is refused whole for its data, any other is stored. Its records are one byte an
/// item, split in halves.
#[derive(Default)]
struct RefusesBadItems {
    stored: std::sync::Mutex<Vec<u8>>,
    calls: AtomicUsize,
}

#[async_trait]
impl Remote for RefusesBadItems {
    fn accepts(&self, _: Signal) -> bool {
        true
    }

    fn encode(&self, batch: &Batch) -> Result<Vec<Record>, crate::export::EncodeError> {
        // Items 1..=n, with every seventh one bad.
        let body: Vec<u8> = (1..=batch.items)
            .map(|i| if i % 7 == 0 { 0 } else { i as u8 })
            .collect();
        Ok(vec![Record {
            tenant: None,
            items: body.len() as u64,
            route: 0,
            queued_ms: 0,
            body: Bytes::from(body),
        }])
    }

    async fn send(&self, record: &Record) -> Outcome {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if record.body.contains(&0) {
            return Outcome::DataRefused {
                cause: Cause::Http4xx,
                detail: "HTTP 400 (out_of_order; body of 80 bytes not logged)".into(),
            };
        }
        self.stored.lock().unwrap().extend_from_slice(&record.body);
        Outcome::Delivered
    }

    fn split(&self, record: &Record) -> Option<[Record; 2]> {
        (record.body.len() >= 2).then(|| {
            let half = record.body.len() / 2;
            let part = |body: Bytes| Record {
                items: body.len() as u64,
                body,
                ..record.clone()
            };
            [
                part(record.body.slice(..half)),
                part(record.body.slice(half..)),
            ]
        })
    }
}

/// One bad series costs only itself: the refused request is sent again in halves until
/// the bad items are alone, the rest is delivered in order and counted as sent, the bad
/// items as dropped, with far fewer requests than one per item.
#[tokio::test(start_paused = true)]
async fn data_refused_for_some_items_costs_only_those_items() {
    let remote = Arc::new(RefusesBadItems::default());
    let metrics = Metrics::new();
    let e = QueuedExporter::start(
        "test/x",
        remote.clone(),
        &delivery(retry()),
        metrics.clone(),
    )
    .expect("exporter starts");
    e.export(&batch(100)).await.unwrap();
    wait_until(|| delivered(&metrics) + counter(&metrics, "permanent") == 100).await;
    let good: Vec<u8> = (1..=100u8).filter(|i| i % 7 != 0).collect();
    assert_eq!(*remote.stored.lock().unwrap(), good);
    assert_eq!(delivered(&metrics), 86);
    assert_eq!(counter(&metrics, "permanent"), 14);
    let calls = remote.calls.load(Ordering::SeqCst);
    assert!(calls < 2 * 100, "{calls} requests");
}

/// An exporter that cannot split its requests drops the whole request, as before.
#[tokio::test(start_paused = true)]
async fn data_refused_by_an_exporter_that_cannot_split_drops_the_request() {
    let remote = Scripted::new(
        Vec::new(),
        Outcome::DataRefused {
            cause: Cause::Http4xx,
            detail: "400".into(),
        },
    );
    let metrics = Metrics::new();
    let e = start(remote.clone(), &delivery(retry()), &metrics);
    e.export(&batch(4)).await.unwrap();
    wait_until(|| counter(&metrics, "permanent") == 4).await;
    assert_eq!(remote.calls.load(Ordering::SeqCst), 1);
    assert_eq!(delivered(&metrics), 0);
}
