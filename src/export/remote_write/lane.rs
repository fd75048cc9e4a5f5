//! The SLO series' own lane to the backend, beside the exporter's queue.
//!
//! Each `slo.export_interval` the SLO engine hands over a snapshot of every SLO series; a
//! large deployment (thousands of groups) makes that hundreds of thousands of samples a
//! second. Sent one request at a time through the exporter's queue they fell minutes
//! behind, and every snapshot waiting in the queue was worth less than the next one. So,
//! as Prometheus's own remote write does:
//!
//! - the series of a snapshot are split by a hash of their labels into `slo_series_shards`
//!   shards, each cut into requests of at most `max_samples_per_request` samples;
//! - one task per shard sends its requests in order (so a series' samples reach the backend
//!   in order: Prometheus refuses the whole request holding one sample out of order), and
//!   the shards send concurrently: at most `slo_series_shards` requests in flight;
//! - retryable failures are retried with the exporter's `retry_on_failure` backoff, as
//!   queued requests are; a refused request is dropped (`reason="permanent"`);
//! - the requests waiting hold at most `slo_series_backlog` samples: past that, the oldest
//!   waiting snapshot is dropped whole (never the newest), counted in
//!   `slotel_exporter_dropped_items_total{reason="superseded"}` and logged at WARN. Its
//!   series are all in the newer snapshot, so what Prometheus loses is a point of the past,
//!   never a count (the counters are cumulative). Memory stays bounded, and so does how
//!   far Prometheus lags: about a backlog's worth of sending.
//! - stale markers are the exception: a series that ended is in no newer snapshot, so a
//!   marker dropped with its snapshot would leave the series "present" in Prometheus for
//!   its lookback (5 minutes). The requests holding only stale markers are kept, in their
//!   place, when their snapshot is superseded; they are dropped (oldest first, counted
//!   like the rest) only when they alone hold more than the backlog;
//! - `slotel_exporter_queue_slo_series_samples{exporter}` is the samples waiting or being
//!   sent.
//!
//! At shutdown the lane delivers what it holds until the deadline; what is left is counted
//! (`reason="shutdown"`) and logged at ERROR. The lane keeps nothing on disk: the engine's
//! state is what is durable, and the first snapshot after a restart carries it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::super::queue::Record;
use super::super::retry::{Backoff, Outcome};
use crate::config::RetryConfig;
use crate::shutdown::{self, Shutdown};
use crate::telemetry::log_limit::LogLimiter;
use crate::telemetry::{DroppedLabels, ExportRequestLabels, Metrics, QueueLabels};

/// Sends one request once (the exporter's HTTP client; a fake one in tests).
#[async_trait]
pub trait Send1: Send + Sync + 'static {
    async fn send(&self, record: &Record) -> Outcome;
}

/// How a lane sends and how much it keeps.
#[derive(Clone, Debug)]
pub struct LaneConfig {
    /// Shards, each with one request in flight at a time.
    pub shards: usize,
    /// Samples the waiting requests may hold before the oldest snapshot is dropped.
    pub backlog: u64,
    pub retry: RetryConfig,
}

/// One request of one snapshot.
struct Chunk {
    snapshot: u64,
    record: Record,
    /// The request holds stale markers only: superseding its snapshot keeps it.
    stale: bool,
}

#[derive(Default)]
struct State {
    /// Per shard, the requests waiting, oldest snapshot first.
    shards: Vec<VecDeque<Chunk>>,
    /// Samples in `shards`.
    queued: u64,
    /// Samples in `shards` in requests of stale markers.
    queued_stale: u64,
    /// Samples being sent.
    in_flight: u64,
    /// The number of the next snapshot.
    next: u64,
    /// No more snapshots: the workers end once their shard is empty.
    closed: bool,
}

struct Inner {
    cfg: LaneConfig,
    backend: Arc<dyn Send1>,
    state: Mutex<State>,
    /// One per shard: a request was added (or the lane closed).
    wake: Vec<Notify>,
    /// The lane became empty.
    idle: Notify,
    stop: Shutdown,
    exporter: String,
    metrics: Arc<Metrics>,
    log: LogLimiter,
}

/// The SLO series' lane of one remote-write exporter.
pub struct Lane {
    inner: Arc<Inner>,
    trigger: shutdown::Trigger,
    started: OnceLock<()>,
    stopped: AtomicBool,
}

impl Lane {
    pub fn new(
        exporter: &str,
        cfg: LaneConfig,
        backend: Arc<dyn Send1>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let shards = cfg.shards.clamp(1, MAX_SHARDS);
        let cfg = LaneConfig { shards, ..cfg };
        let (trigger, stop) = shutdown::channel();
        let state = State {
            shards: (0..shards).map(|_| VecDeque::new()).collect(),
            ..State::default()
        };
        let lane = Self {
            inner: Arc::new(Inner {
                cfg,
                backend,
                state: Mutex::new(state),
                wake: (0..shards).map(|_| Notify::new()).collect(),
                idle: Notify::new(),
                stop,
                exporter: exporter.to_string(),
                metrics,
                log: LogLimiter::default(),
            }),
            trigger,
            started: OnceLock::new(),
            stopped: AtomicBool::new(false),
        };
        lane.inner.gauge(&lane.inner.lock());
        lane
    }

    pub fn shards(&self) -> usize {
        self.inner.cfg.shards
    }

    /// Samples waiting (not yet being sent).
    pub fn queued(&self) -> u64 {
        self.inner.lock().queued
    }

    /// Adds a snapshot: `shards[i]` are shard `i`'s requests. Drops the oldest waiting
    /// snapshots while the waiting requests hold more than the backlog. Starts the workers
    /// on first use (it must run inside the runtime).
    pub fn push(&self, shards: Vec<Vec<Record>>) {
        self.push_snapshot(shards, Vec::new());
    }

    /// [`Lane::push`] with, per shard, requests holding stale markers only (`stale[i]`,
    /// sent before shard `i`'s other requests): they outlive their snapshot when it is
    /// superseded.
    pub fn push_snapshot(&self, shards: Vec<Vec<Record>>, stale: Vec<Vec<Record>>) {
        self.started.get_or_init(|| {
            for shard in 0..self.inner.cfg.shards {
                tokio::spawn(self.inner.clone().work(shard));
            }
        });
        let superseded = {
            let mut st = self.inner.lock();
            if st.closed {
                drop(st);
                let items = shards.iter().chain(&stale).flatten().map(|r| r.items).sum();
                self.inner.dropped("shutdown", items);
                return;
            }
            let snapshot = st.next;
            st.next += 1;
            let n = self.inner.cfg.shards;
            let marked = stale.into_iter().take(n).map(|r| (r, true));
            let plain = shards.into_iter().take(n).map(|r| (r, false));
            for (i, (records, is_stale)) in marked.enumerate().chain(plain.enumerate()) {
                for record in records {
                    st.queued += record.items;
                    if is_stale {
                        st.queued_stale += record.items;
                    }
                    st.shards[i].push_back(Chunk {
                        snapshot,
                        record,
                        stale: is_stale,
                    });
                }
            }
            let superseded = st.trim(self.inner.cfg.backlog, snapshot);
            self.inner.gauge(&st);
            (superseded, st.queued)
        };
        let (superseded, waiting) = superseded;
        for w in &self.inner.wake {
            w.notify_one();
        }
        if superseded.items > 0 {
            self.inner.dropped("superseded", superseded.items);
            if let Some(more) = self.inner.log.check("superseded") {
                tracing::warn!(
                    exporter = %self.inner.exporter,
                    snapshots = superseded.snapshots,
                    samples = superseded.items,
                    waiting,
                    backlog = self.inner.cfg.backlog,
                    "the backend is not keeping up with the SLO series: older snapshots dropped, newer ones sent{more}"
                );
            }
        }
    }

    /// Stops taking snapshots and delivers what the lane holds until `deadline`; what is
    /// left then is counted as dropped (`reason="shutdown"`) and logged at ERROR.
    pub async fn flush(&self, deadline: Instant) {
        if self.stopped.swap(true, Ordering::AcqRel) {
            return;
        }
        {
            let mut st = self.inner.lock();
            st.closed = true;
        }
        for w in &self.inner.wake {
            w.notify_one();
        }
        let empty = async {
            loop {
                let idle = self.inner.idle.notified();
                {
                    let st = self.inner.lock();
                    if st.queued == 0 && st.in_flight == 0 {
                        return;
                    }
                }
                idle.await;
            }
        };
        let drained = tokio::time::timeout_at(deadline, empty).await.is_ok();
        self.trigger.trigger();
        if drained {
            return;
        }
        // Workers hand back what they were sending once told to stop.
        let left = {
            let mut st = self.inner.lock();
            let left = st.queued + st.in_flight;
            st.shards.iter_mut().for_each(VecDeque::clear);
            st.queued = 0;
            st.queued_stale = 0;
            st.in_flight = 0;
            self.inner.gauge(&st);
            left
        };
        if left > 0 {
            self.inner.dropped("shutdown", left);
            tracing::error!(
                exporter = %self.inner.exporter,
                items = left,
                "shutdown deadline reached with SLO series not yet delivered; {left} samples dropped"
            );
        }
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        self.trigger.trigger();
    }
}

/// The most shards a lane runs (and requests it has in flight).
pub const MAX_SHARDS: usize = 64;

struct Superseded {
    snapshots: u64,
    items: u64,
}

impl State {
    /// Drops the oldest waiting snapshot while the waiting requests hold more than
    /// `backlog` samples, never `newest`, keeping its requests of stale markers; then the
    /// oldest requests of stale markers while they alone hold more than `backlog`.
    fn trim(&mut self, backlog: u64, newest: u64) -> Superseded {
        let mut out = Superseded {
            snapshots: 0,
            items: 0,
        };
        while self.queued > backlog {
            // The oldest snapshot with samples that are not stale markers.
            let Some(oldest) = self
                .shards
                .iter()
                .flat_map(|s| s.iter().find(|c| !c.stale).map(|c| c.snapshot))
                .min()
                .filter(|&oldest| oldest < newest)
            else {
                break;
            };
            for shard in &mut self.shards {
                shard.retain(|c| {
                    let drop = c.snapshot == oldest && !c.stale;
                    if drop {
                        self.queued -= c.record.items;
                        out.items += c.record.items;
                    }
                    !drop
                });
            }
            out.snapshots += 1;
        }
        while self.queued_stale > backlog {
            let Some((shard, _)) = self
                .shards
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.iter().position(|c| c.stale).map(|at| (i, s[at].snapshot)))
                .min_by_key(|&(_, snapshot)| snapshot)
            else {
                break;
            };
            let at = self.shards[shard].iter().position(|c| c.stale);
            if let Some(c) = at.and_then(|at| self.shards[shard].remove(at)) {
                self.queued -= c.record.items;
                self.queued_stale -= c.record.items;
                out.items += c.record.items;
            }
        }
        out
    }
}

enum Sent {
    Yes,
    GaveUp(&'static str),
    Stopped,
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the lane's gauge: samples waiting or being sent.
    fn gauge(&self, st: &State) {
        self.metrics
            .exporters
            .slo_lane_samples
            .get_or_create(&QueueLabels {
                exporter: self.exporter.clone(),
            })
            .set(i64::try_from(st.queued + st.in_flight).unwrap_or(i64::MAX));
    }

    fn dropped(&self, reason: &'static str, items: u64) {
        self.metrics
            .exporters
            .dropped_items
            .get_or_create(&DroppedLabels {
                exporter: self.exporter.clone(),
                reason,
            })
            .inc_by(items);
    }

    fn request(&self, outcome: &'static str) {
        self.metrics
            .exporters
            .requests
            .get_or_create(&ExportRequestLabels {
                exporter: self.exporter.clone(),
                outcome,
            })
            .inc();
    }

    /// Sends shard `shard`'s requests, one at a time, in order.
    async fn work(self: Arc<Self>, shard: usize) {
        loop {
            let wake = self.wake[shard].notified();
            let next = {
                let mut st = self.lock();
                match st.shards[shard].pop_front() {
                    Some(c) => {
                        st.queued -= c.record.items;
                        if c.stale {
                            st.queued_stale -= c.record.items;
                        }
                        st.in_flight += c.record.items;
                        Some(c)
                    }
                    None if st.closed => return,
                    None => None,
                }
            };
            let Some(chunk) = next else {
                tokio::select! {
                    _ = wake => {}
                    _ = self.stop.stopped() => return,
                }
                continue;
            };
            let items = chunk.record.items;
            let sent = self.deliver(&chunk.record).await;
            match sent {
                Sent::Yes => {
                    self.metrics
                        .exporters
                        .sent_items
                        .get_or_create(&QueueLabels {
                            exporter: self.exporter.clone(),
                        })
                        .inc_by(items);
                }
                Sent::GaveUp(reason) => self.dropped(reason, items),
                // `flush` counts what was left.
                Sent::Stopped => return,
            }
            let empty = {
                let mut st = self.lock();
                st.in_flight = st.in_flight.saturating_sub(items);
                self.gauge(&st);
                st.queued == 0 && st.in_flight == 0
            };
            if empty {
                self.idle.notify_waiters();
            }
        }
    }

    fn log_failure(&self, key: &'static str, what: &str, detail: &str) {
        if let Some(more) = self.log.check(key) {
            tracing::warn!(exporter = %self.exporter, detail, "{what}{more}");
        }
    }

    /// Sends one request, retrying as the exporter's queue does.
    async fn deliver(&self, record: &Record) -> Sent {
        let retry = &self.cfg.retry;
        let started = Instant::now();
        let mut backoff = Backoff::new(retry.initial_interval, retry.max_interval);
        let mut server_errors = 0u32;
        loop {
            let outcome = tokio::select! {
                o = self.backend.send(record) => o,
                _ = self.stop.stopped() => return Sent::Stopped,
            };
            match outcome {
                Outcome::Delivered => {
                    self.request("success");
                    return Sent::Yes;
                }
                Outcome::Permanent { detail, .. } | Outcome::DataRefused { detail, .. } => {
                    self.request("permanent");
                    self.log_failure(
                        "permanent",
                        "backend refused a request of SLO series for good; dropped",
                        &detail,
                    );
                    return Sent::GaveUp("permanent");
                }
                Outcome::Retry {
                    after,
                    server_error,
                    detail,
                    ..
                } => {
                    self.request("retryable");
                    server_errors += u32::from(server_error);
                    if !retry.enabled
                        || (server_error && server_errors > retry.max_server_error_retries)
                    {
                        self.log_failure(
                            "not_retried",
                            "request of SLO series failed and is not retried; dropped",
                            &detail,
                        );
                        return Sent::GaveUp(if server_error {
                            "permanent"
                        } else {
                            "retries_exhausted"
                        });
                    }
                    if !retry.max_elapsed_time.is_zero()
                        && started.elapsed() >= retry.max_elapsed_time
                    {
                        self.log_failure(
                            "elapsed",
                            "request of SLO series still failing after max_elapsed_time; dropped",
                            &detail,
                        );
                        return Sent::GaveUp("retries_exhausted");
                    }
                    self.log_failure(
                        "retrying",
                        "request of SLO series failed; retrying",
                        &detail,
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(backoff.next(after)) => {}
                        _ = self.stop.stopped() => return Sent::Stopped,
                    }
                    self.metrics
                        .exporters
                        .retries
                        .get_or_create(&QueueLabels {
                            exporter: self.exporter.clone(),
                        })
                        .inc();
                }
            }
        }
    }
}
