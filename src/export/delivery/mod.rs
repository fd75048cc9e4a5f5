//! A remote exporter behind its own queue: the pipeline's dispatcher encodes each batch
//! for the backend and queues it (fast, never waits for the network); consumer tasks take
//! records off the queue and send them, retrying with backoff, so a dead backend stalls
//! only its own queue.
//!
//! Failures are logged at most once per call site and exporter per 10 s, with how many
//! were held back; what a backend answered is only ever summarised (see `failure.rs`).
//!
//! Shutdown is bounded by the deadline the app passes: a memory queue keeps delivering
//! until then, and what it still holds is counted
//! (`slotel_exporter_dropped_items_total{reason="shutdown"}`) and logged at ERROR with
//! the count; a disk queue stops at once and keeps its records for the next start.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::error::{BuildError, EncodeError};
use super::queue::{DiskOptions, Next, Queue, Record};
use super::retry::{Backoff, Outcome};
use crate::config::{Delivery, QueueStorage};
use crate::pipeline::{Batch, ExportError, Exporter};
use crate::shutdown::{self, Shutdown};
use crate::signal::Signal;
use crate::telemetry::log_limit::LogLimiter;
use crate::telemetry::{DroppedLabels, ExportRequestLabels, Metrics, QueueLabels, SalvageLabels};

/// What a remote exporter implements: turning batches into backend requests, and sending
/// one request.
#[async_trait]
pub trait Remote: Send + Sync + 'static {
    /// Whether the exporter takes this signal.
    fn accepts(&self, signal: Signal) -> bool;
    /// Encodes a batch into requests (runs on the dispatcher; keep it quick).
    fn encode(&self, batch: &Batch) -> Result<Vec<Record>, EncodeError>;
    /// Sends one request once.
    async fn send(&self, record: &Record) -> Outcome;
    /// At shutdown, delivers what the exporter holds outside its queue until `deadline`
    /// (runs beside the queue's own draining).
    async fn flush(&self, _deadline: Instant) {}
    /// Two requests that together hold what `record` holds, each about half, when the
    /// backend refused some of its data ([`Outcome::DataRefused`]): each is sent alone, so
    /// only the part holding the bad data is lost. `None` when the record cannot be split
    /// (one item, or an exporter that does not split).
    fn split(&self, _record: &Record) -> Option<[Record; 2]> {
        None
    }
}

/// How long consumers get to hand back their record once told to stop at the deadline.
const STOP_GRACE: Duration = Duration::from_millis(200);

type Tasks = Vec<JoinHandle<()>>;

pub struct QueuedExporter {
    id: String,
    remote: Arc<dyn Remote>,
    queue: Arc<Queue>,
    metrics: Arc<Metrics>,
    shared: Arc<Shared>,
    /// (consumers, background tasks: the committer and the gauges).
    tasks: std::sync::Mutex<(Tasks, Tasks)>,
    /// Tells the consumers and the background tasks to stop (see [`Shared::stop`]).
    stop: shutdown::Trigger,
}

struct Shared {
    /// Consumers stop at once when it fires: one in a send or a backoff hands its record
    /// back to the queue.
    stop: Shutdown,
    /// Records consumers hold (taken, not yet done or released), and their items.
    in_flight: AtomicU64,
    in_flight_items: AtomicU64,
    /// One limiter per exporter, shared by its consumers.
    log: LogLimiter,
}

fn now_ms() -> u64 {
    u64::try_from(jiff::Timestamp::now().as_millisecond()).unwrap_or(0)
}

impl QueuedExporter {
    /// Opens the queue and starts the consumers (and, for disk queues, the committer).
    pub fn start(
        id: &str,
        remote: Arc<dyn Remote>,
        delivery: &Delivery,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<Self>, BuildError> {
        let q = &delivery.queue;
        let queue = match (q.storage, &q.directory) {
            (QueueStorage::Disk, Some(dir)) => {
                let opts = DiskOptions {
                    cache_size: q.cache_size,
                    ..DiskOptions::default()
                };
                Queue::disk(q.max_bytes, dir, id, opts)?
            }
            _ => Queue::memory(q.max_bytes),
        };
        let queue = Arc::new(queue);
        let (stop, stop_signal) = shutdown::channel();
        let shared = Arc::new(Shared {
            stop: stop_signal,
            in_flight: AtomicU64::new(0),
            in_flight_items: AtomicU64::new(0),
            log: LogLimiter::default(),
        });
        let labels = QueueLabels {
            exporter: id.to_string(),
        };
        metrics
            .exporters
            .queue_capacity_bytes
            .get_or_create(&labels)
            .set(q.max_bytes as i64);
        let exporter = Arc::new(Self {
            id: id.to_string(),
            remote,
            queue: queue.clone(),
            metrics: metrics.clone(),
            shared: shared.clone(),
            tasks: std::sync::Mutex::new((Vec::new(), Vec::new())),
            stop,
        });
        let (mut consumers, mut tasks) = (Vec::new(), Vec::new());
        for _ in 0..q.num_consumers.max(1) {
            let consumer = Consumer {
                id: id.to_string(),
                remote: exporter.remote.clone(),
                queue: queue.clone(),
                metrics: metrics.clone(),
                shared: shared.clone(),
                retry: delivery.retry.clone(),
            };
            consumers.push(tokio::spawn(consumer.run()));
        }
        if queue.is_durable() {
            let (queue, interval, shared) = (queue.clone(), q.fsync_interval, shared.clone());
            let id = id.to_string();
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(interval.max(Duration::from_millis(1)));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    // The queue logs when its disk fails and when it recovers; while it is
                    // down every tick fails, and is retried with backoff inside.
                    if let Err(e) = queue.commit().await {
                        tracing::debug!(exporter = %id, error = %e, "disk queue commit failed; the batches were refused");
                    }
                    if shared.stop.is_triggered() {
                        break;
                    }
                }
            }));
        }
        let gauges = (exporter.clone(), labels);
        tasks.push(tokio::spawn(async move {
            let (exporter, labels) = gauges;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            while !exporter.shared.stop.is_triggered() {
                tick.tick().await;
                exporter.update_gauges(&labels);
            }
        }));
        if let Ok(mut t) = exporter.tasks.lock() {
            *t = (consumers, tasks);
        }
        Ok(exporter)
    }

    fn update_gauges(&self, labels: &QueueLabels) {
        let (records, bytes, oldest) = self.queue.usage();
        let m = &self.metrics.exporters;
        let (salvaged, lost) = self.queue.take_salvage_counts();
        for (outcome, n) in [("salvaged", salvaged), ("lost", lost)] {
            if n > 0 {
                m.queue_salvage_records
                    .get_or_create(&SalvageLabels {
                        exporter: labels.exporter.clone(),
                        outcome,
                    })
                    .inc_by(n);
            }
        }
        m.queue_items.get_or_create(labels).set(records as i64);
        m.queue_bytes.get_or_create(labels).set(bytes as i64);
        let age = oldest.map_or(0.0, |t| now_ms().saturating_sub(t) as f64 / 1000.0);
        m.queue_oldest_age_seconds.get_or_create(labels).set(age);
    }

    fn dropped(&self, reason: &'static str, items: u64) {
        count_dropped(&self.metrics, &self.id, reason, items);
    }

    /// Queues records built outside a pipeline (the SLO series ticker).
    pub fn enqueue(&self, records: Vec<Record>) {
        for r in records {
            let items = r.items;
            if self.queue.push(r, None).is_err() {
                self.dropped("queue_full", items);
                if let Some(more) = self.shared.log.check("enqueue_full") {
                    tracing::warn!(exporter = %self.id, items, "exporter queue is full; series dropped{more}");
                }
            }
        }
    }

    pub fn remote(&self) -> &Arc<dyn Remote> {
        &self.remote
    }

    pub fn id_str(&self) -> &str {
        &self.id
    }
}

#[async_trait]
impl Exporter for QueuedExporter {
    fn id(&self) -> &str {
        &self.id
    }

    fn accepts(&self, signal: Signal) -> bool {
        self.remote.accepts(signal)
    }

    fn has_room(&self) -> bool {
        self.queue.has_room()
    }

    fn blocked(&self) -> Option<String> {
        self.queue
            .blocked()
            .map(|why| format!("exporter {}: {why}", self.id))
    }

    fn is_durable(&self) -> bool {
        self.queue.is_durable()
    }

    fn is_queued(&self) -> bool {
        true
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let records = match self.remote.encode(batch) {
            Ok(r) => r,
            Err(e) => {
                self.dropped("encode", batch.items as u64);
                return Err(ExportError::Encode(Box::new(e)));
            }
        };
        for r in records {
            let items = r.items;
            if self.queue.push(r, batch.ack.clone()).is_err() {
                self.dropped("queue_full", items);
                return Err(ExportError::QueueFull);
            }
        }
        Ok(())
    }

    /// Stops taking data, then delivers what is queued until `deadline`. A disk queue
    /// keeps what was not delivered; what a memory queue could not deliver is counted as
    /// dropped (`reason="shutdown"`) and logged at ERROR with the count.
    async fn shutdown(&self, deadline: Instant) -> Result<(), ExportError> {
        let remote = self.remote.clone();
        let flush = tokio::spawn(async move { remote.flush(deadline).await });
        self.queue.close();
        let durable = self.queue.is_durable();
        if durable {
            // The data is safe on disk: stop retrying at once.
            self.stop();
        }
        let (consumers, others) = self
            .tasks
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        let mut consumers = consumers;
        let drained = tokio::time::timeout_at(deadline, join(&mut consumers)).await;
        if drained.is_err() {
            // Consumers hand their record back to the queue once told to stop.
            self.stop();
            if tokio::time::timeout(STOP_GRACE, join(&mut consumers))
                .await
                .is_err()
            {
                for c in &consumers {
                    c.abort();
                }
            }
        }
        self.stop();
        for t in others {
            t.abort();
        }
        if let Err(e) = self.queue.commit().await {
            tracing::error!(exporter = %self.id, error = %e, "final disk queue commit failed");
        }
        if !durable {
            self.drop_undelivered().await;
        }
        let _ = flush.await;
        for (what, n) in self.shared.log.take_pending() {
            tracing::warn!(exporter = %self.id, kind = what, "{n} more failures since the last report");
        }
        Ok(())
    }
}

/// Awaits every handle, removing the finished ones (so a timeout leaves the rest).
async fn join(handles: &mut Vec<JoinHandle<()>>) {
    while let Some(h) = handles.last_mut() {
        let _ = h.await;
        handles.pop();
    }
}

impl QueuedExporter {
    fn stop(&self) {
        self.stop.trigger();
    }

    /// Empties a closed memory queue at the end of shutdown, counting and logging what it
    /// held (and what stopped consumers still held) as dropped.
    async fn drop_undelivered(&self) {
        let mut records = self.shared.in_flight.swap(0, Ordering::AcqRel);
        let mut items = self.shared.in_flight_items.swap(0, Ordering::AcqRel);
        while let Some(next) = self.queue.pop().await {
            if let Next::Record(taken) = next {
                records += 1;
                items += taken.record.items;
                self.queue.done(&taken);
            }
        }
        if items == 0 && records == 0 {
            return;
        }
        self.dropped("shutdown", items);
        tracing::error!(
            exporter = %self.id,
            items,
            requests = records,
            "shutdown deadline reached with undelivered data in a memory queue; {items} items dropped"
        );
    }
}

/// Counts items an exporter gave up on.
fn count_dropped(metrics: &Metrics, exporter: &str, reason: &'static str, items: u64) {
    metrics
        .exporters
        .dropped_items
        .get_or_create(&DroppedLabels {
            exporter: exporter.to_string(),
            reason,
        })
        .inc_by(items);
}

struct Consumer {
    id: String,
    remote: Arc<dyn Remote>,
    queue: Arc<Queue>,
    metrics: Arc<Metrics>,
    shared: Arc<Shared>,
    retry: crate::config::RetryConfig,
}

enum Delivered {
    Yes,
    GaveUp(&'static str),
    Stopped,
    /// The backend refused some of the record's data; these parts hold all of it.
    Split([Record; 2]),
}

/// What became of a record taken off the queue, its parts included.
#[derive(Default)]
struct Outcomes {
    sent: u64,
    dropped: Vec<(&'static str, u64)>,
    stopped: bool,
}

impl Consumer {
    async fn run(self) {
        loop {
            let next = tokio::select! {
                n = self.queue.pop() => n,
                _ = self.shared.stop.stopped() => None,
            };
            let taken = match next {
                None => break,
                Some(Next::Corrupt) => {
                    self.count_dropped("corrupt", 1);
                    continue;
                }
                Some(Next::Record(t)) => t,
            };
            let items = taken.record.items;
            self.shared.in_flight.fetch_add(1, Ordering::AcqRel);
            self.shared
                .in_flight_items
                .fetch_add(items, Ordering::AcqRel);
            let outcomes = self.deliver_parts(&taken.record).await;
            self.shared.in_flight.fetch_sub(1, Ordering::AcqRel);
            self.shared
                .in_flight_items
                .fetch_sub(items, Ordering::AcqRel);
            if outcomes.stopped {
                // Parts already delivered are sent again with the rest at the next start
                // (or by another consumer): a backend takes the same sample twice.
                self.queue.release(taken);
                break;
            }
            let m = &self.metrics.exporters;
            let labels = QueueLabels {
                exporter: self.id.clone(),
            };
            m.sent_items.get_or_create(&labels).inc_by(outcomes.sent);
            if taken.restored {
                m.duplicates.get_or_create(&labels).inc_by(outcomes.sent);
            }
            for (reason, n) in outcomes.dropped {
                self.count_dropped(reason, n);
            }
            self.queue.done(&taken);
            if self.shared.stop.is_triggered() {
                break;
            }
        }
    }

    fn count_dropped(&self, reason: &'static str, items: u64) {
        count_dropped(&self.metrics, &self.id, reason, items);
    }

    fn count_request(&self, outcome: &'static str) {
        self.metrics
            .exporters
            .requests
            .get_or_create(&ExportRequestLabels {
                exporter: self.id.clone(),
                outcome,
            })
            .inc();
    }

    /// Logs a failure at most once per call site (`key`) per interval, with how many
    /// were held back. `detail` is a summary, never a backend's body.
    fn log_failure(&self, key: &'static str, what: &str, detail: &str) {
        if let Some(more) = self.shared.log.check(key) {
            tracing::warn!(exporter = %self.id, detail, "{what}{more}");
        }
    }

    /// Sends once, unless told to stop first (the record is then handed back).
    async fn send_once(&self, record: &Record) -> Option<Outcome> {
        if self.shared.stop.is_triggered() {
            return None;
        }
        tokio::select! {
            outcome = self.remote.send(record) => Some(outcome),
            _ = self.shared.stop.stopped() => None,
        }
    }

    /// Delivers a record, and when the backend refuses some of its data, its parts one by
    /// one (halves, then their halves: a record of n series with one bad series costs
    /// about 2·log2(n) more requests, and at most 2n).
    async fn deliver_parts(&self, record: &Record) -> Outcomes {
        let mut out = Outcomes::default();
        let mut parts = vec![record.clone()];
        while let Some(part) = parts.pop() {
            match self.deliver(&part).await {
                Delivered::Yes => out.sent += part.items,
                Delivered::GaveUp(reason) => out.dropped.push((reason, part.items)),
                Delivered::Stopped => {
                    out.stopped = true;
                    break;
                }
                Delivered::Split([first, second]) => {
                    parts.push(second);
                    parts.push(first);
                }
            }
        }
        out
    }

    async fn deliver(&self, record: &Record) -> Delivered {
        let started = Instant::now();
        let mut backoff = Backoff::new(self.retry.initial_interval, self.retry.max_interval);
        let mut server_errors = 0u32;
        loop {
            let Some(outcome) = self.send_once(record).await else {
                return Delivered::Stopped;
            };
            match outcome {
                Outcome::Delivered => {
                    self.count_request("success");
                    return Delivered::Yes;
                }
                Outcome::Permanent { cause: _, detail } => {
                    self.count_request("permanent");
                    self.log_failure(
                        "permanent",
                        "backend refused a request for good; dropped",
                        &detail,
                    );
                    return Delivered::GaveUp("permanent");
                }
                Outcome::DataRefused { cause: _, detail } => {
                    self.count_request("permanent");
                    if let Some(parts) = self.remote.split(record) {
                        self.log_failure(
                            "split",
                            "backend refused some of a request's data; sending its halves apart",
                            &detail,
                        );
                        return Delivered::Split(parts);
                    }
                    self.log_failure(
                        "permanent",
                        "backend refused a request for good; dropped",
                        &detail,
                    );
                    return Delivered::GaveUp("permanent");
                }
                Outcome::Retry {
                    after,
                    server_error,
                    detail,
                    ..
                } => {
                    self.count_request("retryable");
                    if server_error {
                        server_errors += 1;
                    }
                    if !self.retry.enabled
                        || (server_error && server_errors > self.retry.max_server_error_retries)
                    {
                        self.log_failure(
                            "not_retried",
                            "request failed and is not retried; dropped",
                            &detail,
                        );
                        return Delivered::GaveUp(if server_error {
                            "permanent"
                        } else {
                            "retries_exhausted"
                        });
                    }
                    let elapsed = started.elapsed();
                    if !self.retry.max_elapsed_time.is_zero()
                        && elapsed >= self.retry.max_elapsed_time
                    {
                        self.log_failure(
                            "elapsed",
                            "request still failing after max_elapsed_time; dropped",
                            &detail,
                        );
                        return Delivered::GaveUp("retries_exhausted");
                    }
                    self.log_failure("retrying", "request failed; retrying", &detail);
                    let delay = backoff.next(after);
                    if self.shared.stop.is_triggered() {
                        return Delivered::Stopped;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = self.shared.stop.stopped() => return Delivered::Stopped,
                    }
                    self.metrics
                        .exporters
                        .retries
                        .get_or_create(&QueueLabels {
                            exporter: self.id.clone(),
                        })
                        .inc();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
