use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::sync::Semaphore;

use super::*;

/// Counts items; waits for a gate permit per batch when gated.
struct Gated {
    gate: Option<Arc<Semaphore>>,
    items: AtomicUsize,
    batches: AtomicUsize,
}

impl Gated {
    fn new(gate: Option<Arc<Semaphore>>) -> Arc<Self> {
        Arc::new(Self {
            gate,
            items: AtomicUsize::new(0),
            batches: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl Exporter for Gated {
    fn id(&self) -> &str {
        "gated"
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        if let Some(gate) = &self.gate {
            gate.acquire()
                .await
                .map_err(|_| ExportError::Shutdown)?
                .forget();
        }
        self.items.fetch_add(batch.items, Ordering::SeqCst);
        self.batches.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn batch(items: usize, bytes: usize) -> Batch {
    Batch::new(
        RequestContext::default(),
        Payload::Traces(ExportTraceServiceRequest::default()),
        items,
        bytes,
    )
}

#[tokio::test]
async fn full_queue_refuses_without_waiting_and_drains_on_close() {
    let gate = Arc::new(Semaphore::new(0));
    let exporter = Gated::new(Some(gate.clone()));
    let metrics = Metrics::new();
    let p = Pipeline::start(
        Signal::Traces,
        10_000,
        crate::pipeline::decode_slots(1),
        Vec::new(),
        vec![exporter.clone() as Arc<dyn Exporter>],
        metrics.clone(),
    );
    let tx = p.sender();
    let mut accepted = 0;
    let mut refused = 0;
    for _ in 0..20 {
        match tx.try_send(batch(10, 1_000)) {
            Ok(()) => accepted += 1,
            Err(SendError::Full) => refused += 1,
            Err(SendError::Closed) => panic!("closed"),
        }
    }
    // 1000 bytes + 512 overhead per batch into 10 000 bytes: 6 fit.
    assert_eq!(accepted, 6);
    assert_eq!(refused, 14);
    assert!(tx.fill_ratio() > 0.9);
    assert!(
        metrics
            .encode()
            .contains("slotel_queue_size_bytes{signal=\"traces\"} 9072")
    );

    // Unblock the exporter: everything accepted arrives, the queue empties.
    gate.add_permits(1_000);
    drop(tx);
    p.close().await;
    assert_eq!(exporter.items.load(Ordering::SeqCst), 60);
    assert_eq!(exporter.batches.load(Ordering::SeqCst), 6);
    assert!(
        metrics
            .encode()
            .contains("slotel_exporter_sent_items_total{exporter=\"gated\",signal=\"traces\"} 60")
    );
}

#[tokio::test]
async fn closed_pipeline_refuses_new_batches() {
    let exporter = Gated::new(None);
    let p = Pipeline::start(
        Signal::Logs,
        1 << 20,
        crate::pipeline::decode_slots(1),
        Vec::new(),
        vec![exporter.clone() as Arc<dyn Exporter>],
        Metrics::new(),
    );
    let tx = p.sender();
    tx.try_send(batch(3, 100)).unwrap();
    p.close().await;
    assert_eq!(tx.try_send(batch(1, 1)), Err(SendError::Closed));
    assert_eq!(exporter.items.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_oversize_batch_still_fits_an_empty_queue() {
    let exporter = Gated::new(None);
    let p = Pipeline::start(
        Signal::Metrics,
        4_096,
        crate::pipeline::decode_slots(1),
        Vec::new(),
        vec![exporter.clone() as Arc<dyn Exporter>],
        Metrics::new(),
    );
    p.sender().try_send(batch(1, 1 << 20)).unwrap();
    p.close().await;
    assert_eq!(exporter.items.load(Ordering::SeqCst), 1);
}

/// Refuses every batch.
struct Failing;

#[async_trait]
impl Exporter for Failing {
    fn id(&self) -> &str {
        "failing"
    }

    async fn export(&self, _: &Batch) -> Result<(), ExportError> {
        Err(ExportError::Encode("no".into()))
    }
}

/// An exporter that fails every batch is logged once per interval with the count held
/// back, not once per batch; every failure is still counted.
#[tokio::test(start_paused = true)]
async fn export_failures_are_logged_once_per_interval() {
    use crate::telemetry::log_limit::capture::Captured;
    let (log, _guard) = Captured::start();
    let metrics = Metrics::new();
    let p = Pipeline::start(
        Signal::Logs,
        1 << 20,
        crate::pipeline::decode_slots(1),
        Vec::new(),
        vec![Arc::new(Failing) as Arc<dyn Exporter>],
        metrics.clone(),
    );
    let tx = p.sender();
    for _ in 0..50 {
        tx.try_send(batch(1, 10)).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(11)).await;
    tx.try_send(batch(1, 10)).unwrap();
    p.close().await;
    let text = log.text();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("export failed"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[1].contains("(49 more since last report)"),
        "{}",
        lines[1]
    );
    assert!(
        metrics.encode().contains(
            "slotel_exporter_send_failed_items_total{exporter=\"failing\",signal=\"logs\"} 51"
        ),
        "{}",
        metrics.encode()
    );
}

#[tokio::test(start_paused = true)]
async fn decode_slots_bound_the_batches_in_flight_and_waits_are_bounded() {
    let gate = Arc::new(Semaphore::new(0));
    let exporter = Gated::new(Some(gate.clone()));
    let slots = 3;
    let p = Pipeline::start(
        Signal::Traces,
        1 << 20,
        slots,
        Vec::new(),
        vec![exporter.clone() as Arc<dyn Exporter>],
        Metrics::new(),
    );
    let tx = p.sender();
    let wait = Duration::from_secs(1);
    // Each slot travels with its batch: three batches held by a stuck exporter take all.
    for _ in 0..slots {
        let slot = tx.reserve(wait).await.expect("a free slot");
        tx.try_send_charged(batch(1, 100), None, Some(slot))
            .expect("room in the queue");
    }
    // The fourth waits the whole wait, then is told to retry.
    let started = tokio::time::Instant::now();
    assert!(matches!(tx.reserve(wait).await, Err(SendError::Full)));
    assert_eq!(started.elapsed(), wait);
    // A waiting reserve gets the slot the dispatcher gives back.
    let waiting = {
        let tx = tx.clone();
        tokio::spawn(async move { tx.reserve(Duration::from_secs(30)).await })
    };
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    gate.add_permits(1);
    let slot = waiting.await.unwrap().expect("the slot given back");
    drop(slot);
    // Closing tells waiting receivers at once, while batches are still being exported.
    let waiter = {
        let tx = tx.clone();
        tokio::spawn(async move { tx.reserve(Duration::from_secs(30)).await })
    };
    let held = tx.reserve(Duration::ZERO).await;
    tokio::task::yield_now().await;
    drop(tx);
    let closing = tokio::spawn(p.close());
    let refused = waiter.await.unwrap();
    assert!(
        matches!(refused, Err(SendError::Closed)),
        "{:?}",
        refused.err()
    );
    drop(held);
    gate.add_permits(1_000);
    closing.await.unwrap();
    assert_eq!(exporter.batches.load(Ordering::SeqCst), slots);
}

#[tokio::test(start_paused = true)]
async fn beyond_four_waiters_per_slot_requests_are_refused_at_once() {
    let p = Pipeline::start(
        Signal::Traces,
        1 << 20,
        2,
        Vec::new(),
        vec![Gated::new(None) as Arc<dyn Exporter>],
        Metrics::new(),
    );
    let tx = p.sender();
    let held = [
        tx.reserve(Duration::ZERO).await.unwrap(),
        tx.reserve(Duration::ZERO).await.unwrap(),
    ];
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let tx = tx.clone();
            tokio::spawn(async move { tx.reserve(Duration::from_secs(10)).await.is_ok() })
        })
        .collect();
    tokio::task::yield_now().await;
    let started = tokio::time::Instant::now();
    assert!(matches!(
        tx.reserve(Duration::from_secs(10)).await,
        Err(SendError::Full)
    ));
    assert_eq!(started.elapsed(), Duration::ZERO, "refused without waiting");
    // The slots given back go to the waiters, in order; the rest time out.
    drop(held);
    let mut got = 0;
    for w in waiters {
        got += usize::from(w.await.unwrap());
    }
    assert_eq!(
        got, 8,
        "every waiter gets a slot once the holders release theirs"
    );
    drop(tx);
    p.close().await;
}
