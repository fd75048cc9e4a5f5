//! Metric SLIs: OTLP histograms and monotonic sums become good and total counts per SLO and
//! group, recorded with [`SloState::record_counts`](super::state::SloState::record_counts).
//!
//! # What counts
//!
//! - **Threshold** (`histogram` + `threshold`). Explicit buckets: good = the counts of the
//!   buckets whose upper bound is at or below the largest bound ≤ threshold, the *effective
//!   threshold* ([`Engine::effective_threshold`]); a histogram without a bound at or below
//!   the threshold has no good events. Exponential buckets: good = the zero bucket, every
//!   negative bucket and the positive buckets whose upper bound base^(index+1) ≤ threshold,
//!   base = 2^(2^−scale); the effective threshold is the largest such bound. Total = the
//!   point's `count`.
//! - **Ratio** (`total` with `good` or `bad`). Monotonic sums (or a histogram's `count`):
//!   the increments of `total` are events, those of `good` good events, those of `bad` bad
//!   events (good = total − bad). A sum counts whole events: doubles are rounded.
//!   In the windows every increment counts at its own timestamp, whatever request brings
//!   it: `good` adds to the good count, `bad` subtracts from it (a signed decrement) and
//!   `total` adds to the total (and, for bad/total, to the good count). So a window is
//!   exact as soon as both sides arrived, in any order; until then its good count is
//!   clamped to `[0, total]`. The lifetime counters (`slotel_slo_events_total`) must not
//!   go down, so there good and bad increments are matched with the totals of the same
//!   group and timestamp in the same request, and the excess is carried to the group's
//!   next total increments (exact up to that lag).
//!
//! # Temporality
//!
//! Delta points are increments as they are. Cumulative points become increments against
//! the previous point of their series (metric name, data kind, scope, resource and point
//! attributes — and the threshold, for threshold SLIs):
//! - a different start time, or a lower value, is a restart: the new value is the
//!   increment;
//! - a point not newer than the previous one (same start) is stale and skipped;
//! - the first point of a series is a baseline (no increment) when the series started
//!   before slotel watched the metric (slotel's start; for an SLO added by a reload to a
//!   set that already read metrics, the first metrics request after the reload) or has no
//!   start time; otherwise it counts in full.
//!   The series (by metric name and threshold, not by this run's watch ids) and the
//!   carries are in the state snapshot ([`MetricSnapshot`]), written under the metric
//!   lock together with the windows, so after a restart the first point of a series is an
//!   increment against its last point before it. A snapshot from a build whose series
//!   hashes differ (a probe hash tells) restores no series: they start from baselines.
//!
//! At most [`MAX_SERIES`] series are remembered; beyond that the least recently seen tenth
//! is evicted and counted ([`MetricStats::evicted`]). Series first seen afterwards that
//! started no later than an evicted one start as baselines, so an evicted series that
//! comes back is never counted twice.
//!
//! # Hostile input
//!
//! Every point an SLO reads is checked against the specification's ranges first
//! ([`crate::slo::metric_limits`]: exponential scale −10…20, bucket indices, sorted finite
//! bounds, counts that add up, times); an invalid point is skipped and counted by reason
//! ([`MetricStats::invalid_points`]). Nothing then loops on a point's numbers: the work per
//! point is one pass over its buckets. A request is recorded in chunks of
//! [`CHUNK_WORK`], the metric lock let go between them, so `/metrics`, the API and
//! snapshots wait for one chunk at most however large the request.
//!
//! # Time and groups
//!
//! Event time is the point's `time_unix_nano`; late and future points are dropped and
//! counted in events in the SLO's [`Dropped`], as for spans (increments of `good` and `bad`
//! selectors are classifications of `total` events, not events, so they are not counted
//! there). Late and future points still advance their cumulative series, a future one
//! remembered at now + `max_future` at most (so a point from the far future cannot make
//! every present point of its series stale). Groups are as for spans: the token's cluster, else the resource attribute
//! `cluster_attribute`, else `unknown`; `group_by` reads point (`attributes[…]`) and
//! resource attributes.
//!
//! # Layout
//!
//! - `mod.rs` (here): the public types and [`Engine::record_metrics`].
//! - `plan.rs`: what the loaded SLOs read, by metric name.
//! - `points.rs`: data points and their buckets (good counts, effective thresholds).
//! - `pass.rs`: one request → counts per SLO, group and time (filters, temporality,
//!   late/future, carries).
//! - `series.rs`: the memory of cumulative series and per-SLO carries; series keys.
//! - `tests.rs`: hand-computed values.

mod cut;
mod pass;
mod plan;
mod points;
mod series;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;

pub use points::{explicit_good, exponential_good};

use super::state::GroupKey;
use super::{Dropped, Engine};
use crate::slo::metric_limits::InvalidPoints;
use crate::slo::spec::{MetricSli, Sli};
use pass::{Cursor, Pass, SloOut};
use plan::Plan;
use series::Inner;
pub use series::SeriesRecord;

/// Cumulative series remembered at most (across all metrics SLOs read).
pub const MAX_SERIES: usize = 100_000;

/// Work (points, plus one per 16 buckets) done per hold of the metric lock; a larger
/// request is recorded in chunks, as if it had been several requests.
pub const CHUNK_WORK: usize = 2_048;

/// The metric path's memory as written to snapshots: cumulative series (so the first
/// point after a restart is an increment against the last one before it, not a new
/// baseline) and the lifetime carries of ratio SLIs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricSnapshot {
    /// [`series::hash_probe`] of the build that wrote it.
    pub probe: u64,
    pub series: Vec<SeriesRecord>,
    pub carries: Vec<CarryRecord>,
}

/// A carried good or bad count of a ratio SLI's group (see [`pass`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CarryRecord {
    pub service: String,
    pub name: String,
    pub cluster: String,
    pub extra: Vec<String>,
    pub value: u64,
}

/// The effective threshold of a histogram SLI: the largest bucket bound at or below the
/// configured threshold, which is what good events are really measured against.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EffectiveThreshold {
    /// The SLO's `threshold`, in the metric's unit.
    pub configured: f64,
    /// From the most recent data point; `None` when it had no bound at or below the
    /// threshold (all of its observations are bad).
    pub latest: Option<f64>,
    /// The lowest and highest seen since slotel started; they differ when series have
    /// different bucket layouts (or exponential scales).
    pub lowest: Option<f64>,
    pub highest: Option<f64>,
}

impl EffectiveThreshold {
    fn new(configured: f64) -> Self {
        Self {
            configured,
            latest: None,
            lowest: None,
            highest: None,
        }
    }

    fn observe(&mut self, effective: Option<f64>) {
        self.latest = effective;
        if let Some(e) = effective {
            self.lowest = Some(self.lowest.map_or(e, |l| l.min(e)));
            self.highest = Some(self.highest.map_or(e, |h| h.max(e)));
        }
    }
}

/// Counters of the metric path, for `/metrics` and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricStats {
    /// Cumulative series remembered now.
    pub series: usize,
    /// Series forgotten because of [`MAX_SERIES`].
    pub evicted: u64,
    /// Cumulative points not newer than their series' previous point.
    pub stale_points: u64,
    /// Points an SLO names but cannot use: gauges, summaries, non-monotonic sums,
    /// unspecified temporality, no recorded value, a threshold on a sum or on a histogram
    /// without (valid) buckets.
    pub skipped_points: u64,
    /// Points an SLO reads that break the specification's ranges, by reason (see
    /// [`crate::slo::metric_limits`]): skipped.
    pub invalid_points: InvalidPoints,
}

/// The metric path's memory: cumulative series and per-SLO carries. One per [`Engine`].
pub struct MetricState {
    inner: Mutex<Inner>,
}

impl MetricState {
    /// `started`: when slotel started (Unix nanoseconds); cumulative series that started
    /// before it begin with a baseline.
    pub fn new(started: u64) -> Self {
        Self {
            inner: Mutex::new(Inner::new(started, MAX_SERIES)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replay of the write-ahead log: cumulative series as they were after a request.
    pub(super) fn replay_series(&self, series: Vec<SeriesRecord>) {
        self.lock().import_series(series);
    }

    /// Replay of the write-ahead log: an SLO's carries after a request (0: none).
    pub(super) fn replay_carries(
        &self,
        slo: &Arc<super::LoadedSlo>,
        slos: &[Arc<super::LoadedSlo>],
        carries: Vec<(GroupKey, u64)>,
    ) {
        let mut inner = self.lock();
        inner.sync_slos(slos);
        let Some(side) = inner.slos.get_mut(&(Arc::as_ptr(slo) as usize)) else {
            return;
        };
        for (key, value) in carries {
            if value == 0 {
                side.carry.remove(&key);
            } else if side.carry.len() < slo.spec.max_groups.max(1) || side.carry.contains_key(&key)
            {
                side.carry.insert(key, value);
            }
        }
    }

    #[cfg(test)]
    pub(super) fn set_max_series(&self, n: usize) {
        self.lock().max_series = n.max(1);
    }
}

impl Engine {
    /// Records the data points of one metrics export request for every loaded metric SLO.
    /// `token_cluster` is the cluster bound to the sender's token, if any.
    pub fn record_metrics(&self, req: &ExportMetricsServiceRequest, token_cluster: Option<&str>) {
        self.record_metrics_logged(req, None, token_cluster, None, None);
    }

    /// [`Engine::record_metrics`] for a request of `tenant`, writing every change to `log`
    /// as it is made: the count records, drops and carries of each SLO, and the cumulative
    /// series the request advanced, as they are after it. The metrics the SLOs read also
    /// go to the attached [`FactsSink`](super::FactsSink) (`slo.capture`), with the time
    /// they were recorded at: cut from `raw` (the request's protobuf as received, when
    /// nothing changed it since) or else encoded from `req`.
    pub fn record_metrics_logged(
        &self,
        req: &ExportMetricsServiceRequest,
        raw: Option<&[u8]>,
        token_cluster: Option<&str>,
        tenant: Option<&str>,
        mut log: Option<&mut crate::slo::engine::wal::Encoder>,
    ) {
        let loaded = self.loaded();
        let now = self.clock.now_nanos();
        let metric_slos = loaded
            .slos
            .iter()
            .any(|s| matches!(s.spec.sli, Sli::Metric(_)));
        let mut plan = Plan::new(&loaded.slos);
        if let Some(sink) = self.sink.get()
            && let Some(extra) = sink.metric_names()
            && (metric_slos || !extra.is_empty())
        {
            let kept = |name: &[u8]| {
                std::str::from_utf8(name).is_ok_and(|n| plan.names.contains_key(n))
                    || extra.iter().any(|e| e.as_bytes() == name)
            };
            let cut = match raw {
                Some(raw) => cut::cut_wire(raw, kept),
                None => cut::cut_decoded(req, kept),
            };
            if let Some(bytes) = cut {
                sink.offer_metrics(bytes, token_cluster, now, tenant);
            }
        }
        if !metric_slos {
            return;
        }
        let (oldest, newest) = self.event_times(now);
        // Budget adjustments over the times the request may count at.
        let adjusted: Vec<crate::slo::adjust::Ranges> = loaded
            .slos
            .iter()
            .map(|s| {
                self.adjustments.ranges(
                    &s.spec.service,
                    &s.spec.name,
                    oldest,
                    newest.saturating_add(1),
                )
            })
            .collect();
        let mut at = Cursor::default();
        loop {
            // The metric lock is held until a chunk's counts are in the SLOs' states, so a
            // snapshot (which takes it first) never sees series advanced past the windows;
            // it is let go between chunks, so readers wait for one chunk at most.
            let mut inner = self.metrics.lock();
            inner.touched = log.is_some().then(Vec::new);
            let (records, done) = {
                inner.sync(&mut plan, now);
                let sides = inner.sync_slos(&loaded.slos);
                let mut pass = Pass {
                    inner: &mut inner,
                    slos: &loaded.slos,
                    sides,
                    oldest,
                    newest,
                    out: (0..loaded.slos.len()).map(|_| SloOut::default()).collect(),
                    plan: &plan,
                    work: 0,
                    budget: CHUNK_WORK,
                    adjusted: adjusted.iter().map(|r| (r.clone(), 0)).collect(),
                };
                let done = pass.request(req, token_cluster, &self.cfg.cluster_attribute, &mut at);
                for (slo, (_, n)) in loaded.slos.iter().zip(&pass.adjusted) {
                    self.adjustments
                        .add_adjusted(&slo.spec.service, &slo.spec.name, *n);
                }
                (pass.finish(), done)
            };
            for (slo, (records, dropped)) in loaded.slos.iter().zip(records) {
                let log = log
                    .as_deref_mut()
                    .filter(|_| !records.is_empty() || dropped != Dropped::default());
                if let Some(log) = log {
                    log.begin_metrics(slo.wal_id);
                    let mut state = slo.state();
                    for r in &records {
                        state.record_counts(&r.key, r.t, r.good, r.total, r.lifetime);
                        log.counts(&r.key, r.t, r.good, r.total, r.lifetime);
                    }
                    drop(state);
                    log.dropped(dropped);
                    if matches!(slo.spec.sli, Sli::Metric(MetricSli::Ratio { .. }))
                        && let Some(side) = inner.slos.get(&(Arc::as_ptr(slo) as usize))
                    {
                        for r in &records {
                            log.carry(&r.key, side.carry.get(&r.key).copied().unwrap_or(0));
                        }
                    }
                } else if !records.is_empty() {
                    let mut state = slo.state();
                    for r in &records {
                        state.record_counts(&r.key, r.t, r.good, r.total, r.lifetime);
                    }
                }
                slo.add_dropped(dropped);
            }
            if let Some(log) = log.as_deref_mut()
                && let Some(touched) = inner.touched.take()
            {
                log.series(&inner.export_touched(touched));
            }
            drop(inner);
            if done {
                break;
            }
            self.turnstile.let_readers_through();
        }
    }

    /// The effective threshold of a histogram SLI (`None` for other SLIs and unknown
    /// SLOs; its fields are `None` until a data point arrived).
    pub fn effective_threshold(&self, service: &str, name: &str) -> Option<EffectiveThreshold> {
        self.turnstile
            .read(|| self.effective_threshold_now(service, name))
    }

    fn effective_threshold_now(&self, service: &str, name: &str) -> Option<EffectiveThreshold> {
        let loaded = self.loaded();
        let slo = loaded
            .slos
            .iter()
            .find(|s| s.spec.service == service && s.spec.name == name)?;
        let threshold = match &slo.spec.sli {
            Sli::Metric(MetricSli::Threshold { threshold, .. }) => *threshold,
            _ => return None,
        };
        let inner = self.metrics.lock();
        Some(
            inner
                .slos
                .get(&(Arc::as_ptr(slo) as usize))
                .and_then(|s| s.effective)
                .unwrap_or_else(|| EffectiveThreshold::new(threshold)),
        )
    }

    /// Counters of the metric path.
    pub fn metric_stats(&self) -> MetricStats {
        self.turnstile.read(|| {
            let inner = self.metrics.lock();
            MetricStats {
                series: inner.series.len(),
                ..inner.stats
            }
        })
    }

    /// Runs `export` (writing the SLOs' states) while the metric path is locked, and
    /// returns it with the metric path's memory, so both are of the same moment.
    pub(super) fn with_metric_snapshot<T>(
        &self,
        export: impl FnOnce() -> T,
    ) -> (MetricSnapshot, T) {
        self.turnstile
            .read(|| self.with_metric_snapshot_now(export))
    }

    fn with_metric_snapshot_now<T>(&self, export: impl FnOnce() -> T) -> (MetricSnapshot, T) {
        let inner = self.metrics.lock();
        let loaded = self.loaded();
        let mut carries = Vec::new();
        for slo in &loaded.slos {
            let Some(side) = inner.slos.get(&(Arc::as_ptr(slo) as usize)) else {
                continue;
            };
            let mut keyed: Vec<_> = side.carry.iter().collect();
            keyed.sort();
            for (key, value) in keyed {
                carries.push(CarryRecord {
                    service: slo.spec.service.clone(),
                    name: slo.spec.name.clone(),
                    cluster: key.cluster.clone(),
                    extra: key.extra.clone(),
                    value: *value,
                });
            }
        }
        let snapshot = MetricSnapshot {
            probe: series::hash_probe(),
            series: inner.export_series(),
            carries,
        };
        let out = export();
        drop(inner);
        (snapshot, out)
    }

    /// Restores the metric path's memory from a snapshot: the series (unless the
    /// snapshot's build hashed series differently) and the carries of `restored` SLOs.
    /// Returns the number of series restored.
    pub(super) fn restore_metrics(
        &self,
        snapshot: MetricSnapshot,
        restored: &[Arc<super::LoadedSlo>],
    ) -> usize {
        let mut inner = self.metrics.lock();
        let series = if snapshot.probe == series::hash_probe() {
            inner.import_series(snapshot.series)
        } else {
            tracing::warn!(
                "slo state snapshot was written by a build that keys metric series \
                 differently; cumulative metric series start again from a baseline"
            );
            0
        };
        inner.sync_slos(&self.loaded().slos);
        for c in snapshot.carries {
            let Some(slo) = restored
                .iter()
                .find(|s| s.spec.service == c.service && s.spec.name == c.name)
            else {
                continue;
            };
            if let Some(side) = inner.slos.get_mut(&(Arc::as_ptr(slo) as usize))
                && side.carry.len() < slo.spec.max_groups.max(1)
            {
                let key = GroupKey {
                    cluster: c.cluster,
                    extra: c.extra,
                };
                side.carry.insert(key, c.value);
            }
        }
        series
    }

    /// Sets when the engine started watching metrics (Unix ns), before any metrics were
    /// recorded: a replay sets the live engine's (cumulative series that started before
    /// it begin with a baseline). Later, it changes nothing; whether it took.
    pub fn start_metrics_at(&self, started: u64) -> bool {
        let mut inner = self.metrics.lock();
        if inner.synced {
            return false;
        }
        inner.started = started;
        true
    }

    /// When the engine started watching metrics (Unix ns).
    pub fn metrics_started(&self) -> u64 {
        self.metrics.lock().started
    }

    #[cfg(test)]
    pub(super) fn metric_state(&self) -> &MetricState {
        &self.metrics
    }
}
