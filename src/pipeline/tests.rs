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
