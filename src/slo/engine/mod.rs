//! The SLO engine: classifies spans as good or bad events per SLO and group, keeps them in
//! rolling windows (and calendar periods) by event time, and answers error ratios, error
//! budgets, burn rates and latency percentiles — over events, or over time slices for
//! timeslice SLOs.
//!
//! # Layout
//!
//! - `mod.rs`: [`Engine`]: the loaded SLOs, recording and status.
//! - `state.rs`: per-SLO groups (cluster × `group_by` values, plus `all` and per-cluster
//!   roll-ups summed when read) and their windows.
//! - `window.rs`: time-slot rings, one per window, exact to 1/30 of the window.
//! - `calendar.rs`: calendar SLO windows (the current month or week in a time zone).
//! - `slices.rs`: timeslice budgeting (good slices / elapsed slices).
//! - `sampled.rs`: spans counted with their adjusted count (probability sampling), raw
//!   span counts.
//! - `record.rs`: a request's spans of one group recorded at once (runs per slot).
//! - `hist.rs`: sparse HDR latency histograms and nearest-rank percentiles.
//! - `native.rs`: lifetime latency histograms in exponential (native histogram) buckets.
//! - `logs.rs`: log SLIs from log records (access logs), recorded like spans.
//! - `metrics/`: metric SLIs from OTLP histograms and monotonic sums (delta, cumulative).
//! - `status.rs`: the computed view (budgets, burn rates) the API and `/metrics` show.
//! - `snapshot/`: state on disk across restarts.
//! - `wal/`: the write-ahead log of every request's deltas between snapshots.
//! - `traces.rs`: trace-aware journeys (`mode: trace`): member spans → open traces →
//!   the journey's events.
//! - `clock.rs`: wall-clock time, injectable for tests.
//!
//! # Invariants
//!
//! - A span counts at its end time. Spans ending more than `allowed_lateness` before now,
//!   or more than `max_future` after it, are dropped and counted per SLO, never silently.
//! - Memory per SLO is bounded: at most `max_groups` groups (then `__overflow__`), each a
//!   fixed number of slots whose histograms hold only the buckets they saw.
//! - Recording takes each SLO's lock once per chunk of a request (a few thousand spans or
//!   data points), never across an `.await`; readers wait for one chunk at most. Nothing
//!   under a lock loops on a number from the wire (see `metrics/` and
//!   [`crate::slo::metric_limits`]).

pub mod calendar;
pub mod clock;
pub mod hist;
pub mod logs;
#[cfg(test)]
mod logs_tests;
pub mod metrics;
pub mod native;
#[cfg(test)]
mod period_tests;
pub mod record;
#[cfg(test)]
mod rollup_tests;
pub mod sampled;
#[cfg(test)]
mod sampled_tests;
pub mod slices;
pub mod snapshot;
pub mod state;
pub mod status;
#[cfg(test)]
mod tests;
pub mod traces;
#[cfg(test)]
mod traces_sampled_tests;
#[cfg(test)]
mod traces_tests;
pub mod wal;
pub mod window;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

pub use clock::{Clock, ManualClock, SystemClock};
use state::{GroupKey, SloState};
pub use status::{GroupStatus, WindowStatus};

use crate::slo::facts::{FactsSchema, SpanFacts, Spans};
use crate::slo::spec::{Budgeting, Sli, Slo, SloSet, SloWindow};

/// Spans recorded per hold of an SLO's lock: readers (`/metrics`, the API, snapshots)
/// wait for one chunk at most.
const SPAN_CHUNK: usize = 4_096;

/// Lets readers through between a writer's chunks. std's `Mutex` is not fair: a writer
/// that lets go of a lock and takes it again at once wins over a waiting reader, which
/// would then wait for the whole request after all. Readers announce themselves; between
/// chunks, a writer holding no lock yields until they are through (a bounded number of
/// times, so a stream of readers cannot stall it).
#[derive(Debug, Default)]
struct Turnstile {
    waiting: AtomicUsize,
}

/// Yields a writer gives readers between two chunks at most, and for how long.
const MAX_YIELDS: usize = 2_000;
const MAX_PAUSE: Duration = Duration::from_millis(5);

impl Turnstile {
    /// Runs a reader, announced.
    fn read<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Announced<'a>(&'a AtomicUsize);
        impl Drop for Announced<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _announced = Announced(&self.waiting);
        f()
    }

    /// Called by a writer holding no lock, between chunks: waits for announced readers,
    /// [`MAX_YIELDS`] yields or [`MAX_PAUSE`] at most.
    fn let_readers_through(&self) {
        if self.waiting.load(Ordering::SeqCst) == 0 {
            return;
        }
        let until = tokio::time::Instant::now() + MAX_PAUSE;
        for _ in 0..MAX_YIELDS {
            std::thread::yield_now();
            if self.waiting.load(Ordering::SeqCst) == 0 || tokio::time::Instant::now() >= until {
                return;
            }
        }
    }
}

/// Engine settings (from the `slo` config section).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Resource attribute naming the cluster when the token does not.
    pub cluster_attribute: String,
    /// How late (before now) a span may end and still count.
    pub allowed_lateness: Duration,
    /// How far in the future a span may end and still count (clock skew).
    pub max_future: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            cluster_attribute: "k8s.cluster.name".into(),
            allowed_lateness: Duration::from_secs(300),
            max_future: Duration::from_secs(60),
        }
    }
}

/// One loaded SLO and its state. The state is shared with the SLO as loaded again by a
/// reload that keeps its definition ([`LoadedSlo::reloaded`]).
pub struct LoadedSlo {
    pub spec: Slo,
    state: Arc<Mutex<SloState>>,
    /// Events dropped for arriving too late / too far in the future.
    dropped: Arc<Mutex<Dropped>>,
    /// The SLO's id in the write-ahead log: a hash of its service, name and definition.
    wal_id: u64,
    /// A trace-aware journey's open traces.
    traces: Option<Arc<traces::Traces>>,
    /// Log SLIs: records whose latency field could not be read.
    log_unreadable: Arc<logs::UnreadableCounts>,
}

/// Events an SLO dropped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dropped {
    pub late: u64,
    pub future: u64,
}

impl LoadedSlo {
    fn new(spec: Slo, cfg: &EngineConfig) -> Self {
        let windows = match &spec.window {
            SloWindow::Rolling(d) => window::windows_for(d.as_secs()),
            SloWindow::Calendar { unit, time_zone } => {
                window::windows_for_calendar(calendar::Calendar::new(*unit, time_zone))
            }
        };
        let slices = match &spec.budgeting {
            Budgeting::Occurrences => None,
            Budgeting::Timeslices {
                slice,
                slice_target,
            } => Some(slices::SliceCfg {
                slice_nanos: (slice.as_nanos() as u64).max(1),
                target: *slice_target,
                settle_nanos: (cfg.allowed_lateness + cfg.max_future).as_nanos() as u64,
            }),
        };
        let state = SloState::new(
            windows,
            spec.max_groups,
            slices,
            !spec.group_by.is_empty(),
            latency_bounds(&spec),
        );
        let wal_id = wal::stable_hash(&format!(
            "{}\0{}\0{}",
            spec.service,
            spec.name,
            snapshot::spec_fingerprint(&spec)
        ));
        let traces = match &spec.sli {
            Sli::Journey(j) => j.trace.as_ref().map(|m| Arc::new(traces::Traces::new(m))),
            _ => None,
        };
        Self {
            wal_id,
            traces,
            spec,
            state: Arc::new(Mutex::new(state)),
            dropped: Arc::new(Mutex::new(Dropped::default())),
            log_unreadable: Default::default(),
        }
    }

    /// This SLO as `spec` loads it again, `spec` having the same definition
    /// ([`same_definition`]): the same state, counters and open traces, and the new
    /// settings that do not touch the state (`min_events`, `alerting`, `runbook_url`,
    /// `description`; `max_groups` applies from the next restart).
    fn reloaded(&self, spec: Slo) -> Self {
        Self {
            spec,
            state: self.state.clone(),
            dropped: self.dropped.clone(),
            wal_id: self.wal_id,
            traces: self.traces.clone(),
            log_unreadable: self.log_unreadable.clone(),
        }
    }

    fn state(&self) -> MutexGuard<'_, SloState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn dropped(&self) -> Dropped {
        *self.dropped.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add_dropped(&self, dropped: Dropped) {
        if dropped != Dropped::default() {
            let mut d = self.dropped.lock().unwrap_or_else(|p| p.into_inner());
            d.late = d.late.saturating_add(dropped.late);
            d.future = d.future.saturating_add(dropped.future);
        }
    }

    /// A trace-aware journey's open traces and counters.
    pub fn trace_stats(&self) -> Option<traces::TraceStats> {
        self.traces.as_ref().map(|t| t.stats())
    }

    /// Log SLIs: records whose latency field could not be read, by
    /// [`crate::slo::ottl::Unreadable::index`].
    pub fn log_unreadable(&self) -> [u64; crate::slo::ottl::Unreadable::ALL.len()] {
        self.log_unreadable.get()
    }

    /// Memory held by this SLO's state, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.state().heap_bytes()
    }
}

/// The fixed ladder of classic latency buckets on `/metrics`, seconds (every SLO's latency
/// threshold is added to it).
pub const LATENCY_LADDER: [f64; 15] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The classic latency bucket bounds of an SLO in nanoseconds, ascending: the ladder and
/// the latency threshold of a span SLI; none for SLIs without latencies (metric SLIs).
pub fn latency_bounds(slo: &Slo) -> Vec<u64> {
    if !slo.sli.has_latencies() {
        return Vec::new();
    }
    let mut out: Vec<u64> = LATENCY_LADDER
        .iter()
        .map(|s| (s * 1e9).round() as u64)
        .collect();
    if let Some(th) = slo.sli.latency_threshold() {
        out.push(u64::try_from(th.as_nanos()).unwrap_or(u64::MAX));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The SLO window length in seconds (calendar windows: their longest period; the
/// engine's calendar window covers the current period only).
pub fn slo_window_secs(slo: &Slo) -> u64 {
    match &slo.window {
        SloWindow::Rolling(d) => d.as_secs(),
        SloWindow::Calendar { unit, .. } => match unit {
            crate::slo::spec::CalendarUnit::Week => 7 * 86_400,
            crate::slo::spec::CalendarUnit::Month => 31 * 86_400,
        },
    }
}

struct Loaded {
    slos: Vec<Arc<LoadedSlo>>,
    schema: FactsSchema,
}

/// The SLO engine.
pub struct Engine {
    cfg: EngineConfig,
    clock: Arc<dyn Clock>,
    loaded: RwLock<Arc<Loaded>>,
    /// Cumulative metric series and carries of the metric SLIs.
    metrics: metrics::MetricState,
    turnstile: Turnstile,
    /// The write-ahead log, with `slo.state_dir`.
    wal: OnceLock<Arc<wal::Wal>>,
    /// Where span facts go besides the engine (`slo.capture`).
    sink: OnceLock<Arc<dyn FactsSink>>,
    /// Spans whose `tracestate` could not be read, by reason.
    tracestates: sampled::InvalidTracestates,
    /// Budget adjustments: the SLO files' and the API's.
    adjustments: Arc<crate::slo::adjust::Registry>,
}

/// A receiver of every request's span facts besides the engine: the capture of
/// `slo.capture` ([`crate::slo::capture`]).
pub trait FactsSink: Send + Sync {
    /// The attribute columns the sink needs besides those the SLOs read.
    fn schema(&self) -> &FactsSchema;
    /// The facts of one request, recorded at `now_nanos`, sent by `tenant`. Called on the
    /// recording path: must not block.
    fn offer(&self, facts: &SpanFacts, now_nanos: u64, tenant: Option<&str>);
    /// The fields of log records the sink needs besides those the log SLOs read.
    fn log_fields(&self) -> &[crate::slo::ottl::AttrRef] {
        &[]
    }
    /// The log facts of one request ([`crate::slo::facts::logs`]), recorded at
    /// `now_nanos`, sent by `tenant`. Called on the recording path: must not block.
    fn offer_logs(
        &self,
        _facts: &arrow_array::RecordBatch,
        _now_nanos: u64,
        _tenant: Option<&str>,
    ) {
    }
}

impl Engine {
    pub fn new(cfg: EngineConfig, clock: Arc<dyn Clock>, set: SloSet) -> Arc<Self> {
        let engine = Arc::new(Self {
            cfg,
            metrics: metrics::MetricState::new(clock.now_nanos()),
            turnstile: Turnstile::default(),
            wal: OnceLock::new(),
            sink: OnceLock::new(),
            tracestates: Default::default(),
            adjustments: Arc::default(),
            clock,
            loaded: RwLock::new(Arc::new(Loaded {
                slos: Vec::new(),
                schema: SloSet::default().facts_schema(),
            })),
        });
        engine.replace(set);
        engine
    }

    fn loaded(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Swaps in a new SLO set. SLOs whose definition is unchanged keep their state.
    pub fn replace(&self, mut set: SloSet) {
        self.adjustments
            .set_file(std::mem::take(&mut set.adjustments));
        let old = self.loaded();
        let mut schema = set.facts_schema();
        if let Some(sink) = self.sink.get() {
            schema.merge(sink.schema());
        }
        let slos = set
            .slos
            .into_iter()
            .map(|spec| {
                let kept = old.slos.iter().find(|o| same_definition(&o.spec, &spec));
                Arc::new(match kept {
                    Some(o) => o.reloaded(spec),
                    None => LoadedSlo::new(spec, &self.cfg),
                })
            })
            .collect();
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Loaded { slos, schema });
    }

    /// The budget adjustments the engine applies.
    pub fn adjustments(&self) -> &Arc<crate::slo::adjust::Registry> {
        &self.adjustments
    }

    /// The loaded SLOs.
    pub fn slos(&self) -> Vec<Arc<LoadedSlo>> {
        self.loaded().slos.clone()
    }

    pub fn now_nanos(&self) -> u64 {
        self.clock.now_nanos()
    }

    /// The write-ahead log, once [`wal::Wal::open`] attached it.
    pub fn wal(&self) -> Option<&Arc<wal::Wal>> {
        self.wal.get()
    }

    fn attach_wal(&self, w: Arc<wal::Wal>) {
        let _ = self.wal.set(w);
    }

    /// Records the spans of one export request. `token_cluster` is the cluster bound to
    /// the sender's token, if any.
    pub fn record_spans(&self, req: &ExportTraceServiceRequest, token_cluster: Option<&str>) {
        self.record_spans_logged(req, token_cluster, None);
    }

    /// [`Engine::record_spans`], writing every change to `log` as it is made.
    pub fn record_spans_logged(
        &self,
        req: &ExportTraceServiceRequest,
        token_cluster: Option<&str>,
        log: Option<&mut wal::Encoder>,
    ) {
        self.record_spans_from(req, token_cluster, None, log);
    }

    /// [`Engine::record_spans_logged`] for a request of `tenant`, decoded or as received
    /// ([`Spans`]): the facts also go to the attached [`FactsSink`] (`slo.capture`), with
    /// the time they were recorded at.
    pub fn record_spans_from<'a>(
        &self,
        req: impl Into<Spans<'a>>,
        token_cluster: Option<&str>,
        tenant: Option<&str>,
        log: Option<&mut wal::Encoder>,
    ) {
        let loaded = self.loaded();
        let sink = self.sink.get();
        let span_slos = loaded
            .slos
            .iter()
            .any(|s| matches!(s.spec.sli, Sli::Spans(_)));
        if !span_slos && sink.is_none() {
            return;
        }
        let facts = SpanFacts::of(
            req.into(),
            token_cluster,
            &self.cfg.cluster_attribute,
            &loaded.schema,
        );
        if facts.is_empty() {
            return;
        }
        let now = self.clock.now_nanos();
        if let Some(sink) = sink {
            sink.offer(&facts, now, tenant);
        }
        self.tracestates.add(facts.invalid_tracestates());
        self.record_facts_at(&loaded, &facts, now, log);
    }

    /// Records span facts read back from a capture (`slotel replay`), at the clock's time:
    /// the same classification, windows and drops as live recording.
    pub fn record_facts(&self, facts: &SpanFacts) {
        let now = self.clock.now_nanos();
        self.record_facts_at(&self.loaded(), facts, now, None);
    }

    /// The attribute columns the loaded SLOs read (and the sink's, when one is attached).
    pub fn facts_schema(&self) -> FactsSchema {
        self.loaded().schema.clone()
    }

    /// Sends every request's span facts to `sink` too; its columns join the facts' schema.
    /// Once only: a second sink is refused.
    pub fn attach_sink(&self, sink: Arc<dyn FactsSink>) -> Result<(), Arc<dyn FactsSink>> {
        self.sink.set(sink)?;
        let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        let mut schema = loaded.schema.clone();
        if let Some(sink) = self.sink.get() {
            schema.merge(sink.schema());
        }
        *loaded = Arc::new(Loaded {
            slos: loaded.slos.clone(),
            schema,
        });
        Ok(())
    }

    /// The event times accepted at `now`: `[now − allowed_lateness, now + max_future]`;
    /// earlier events count as late, later ones as future.
    pub(super) fn event_times(&self, now: u64) -> (u64, u64) {
        (
            now.saturating_sub(self.cfg.allowed_lateness.as_nanos() as u64),
            now.saturating_add(self.cfg.max_future.as_nanos() as u64),
        )
    }

    fn record_facts_at(
        &self,
        loaded: &Loaded,
        facts: &SpanFacts,
        now: u64,
        mut log: Option<&mut wal::Encoder>,
    ) {
        let (oldest, newest) = self.event_times(now);
        let end = facts.end_time_unix_nano();
        let duration = facts.duration_nanos();
        // Spans of the current group not yet recorded (spans counting 1): recorded together
        // when the group changes, before the lock is let go, and at the end.
        let mut pending: Vec<record::SpanEvent> = Vec::new();
        let mut latencies = record::Latencies::new(facts.len());
        for slo in &loaded.slos {
            let Sli::Spans(sli) = &slo.spec.sli else {
                continue;
            };
            let matched = sli.filter.eval_batch(facts);
            let bad = sli.bad.as_ref().map(|c| c.eval_batch(facts));
            let threshold = sli.latency_threshold.map(|d| d.as_nanos() as u64);
            let weights = facts.adjusted_counts().filter(|_| sli.adjusted_counts);
            let mut dropped = Dropped::default();
            let adjusted_ranges = self.adjustments.ranges(
                &slo.spec.service,
                &slo.spec.name,
                oldest,
                newest.saturating_add(1),
            );
            let mut adjusted = 0u64;
            if let Some(log) = log.as_deref_mut() {
                if weights.is_some() {
                    log.begin_weighted_spans(slo.wal_id);
                } else {
                    log.begin_spans(slo.wal_id);
                }
            }
            let mut state = slo.state();
            let mut key = GroupKey {
                cluster: String::new(),
                extra: Vec::new(),
            };
            for row in 0..facts.len() {
                if row > 0 && row % SPAN_CHUNK == 0 {
                    state.record_spans(&key, &pending);
                    pending.clear();
                    drop(state);
                    self.turnstile.let_readers_through();
                    state = slo.state();
                }
                if !matched.value(row) {
                    continue;
                }
                let t = end[row];
                if t < oldest {
                    dropped.late += 1;
                    continue;
                }
                if t > newest {
                    dropped.future += 1;
                    continue;
                }
                if !adjusted_ranges.is_empty() && adjusted_ranges.covers(facts.cluster(row), t) {
                    adjusted += 1;
                    continue;
                }
                let is_bad = bad.as_ref().is_some_and(|b| b.value(row));
                let good = !is_bad && threshold.is_none_or(|th| duration[row] <= th);
                let cluster = facts.cluster(row);
                if key.cluster != cluster {
                    state.record_spans(&key, &pending);
                    pending.clear();
                    key.cluster = cluster.to_string();
                }
                if !slo.spec.group_by.is_empty() {
                    let extra: Vec<String> = slo
                        .spec
                        .group_by
                        .iter()
                        .map(|a| facts.attr_string(a, row).unwrap_or_default())
                        .collect();
                    if extra != key.extra {
                        state.record_spans(&key, &pending);
                        pending.clear();
                        key.extra = extra;
                    }
                }
                let n = match weights {
                    None => {
                        pending.push(record::SpanEvent {
                            t,
                            good,
                            latency: latencies.get(row, duration[row]),
                        });
                        1
                    }
                    Some(w) => {
                        state.record_spans(&key, &pending);
                        pending.clear();
                        state.record_weighted(&key, t, good, Some(duration[row]), w[row])
                    }
                };
                if let Some(log) = log.as_deref_mut() {
                    log.span_n(&key, t, good, duration[row], n);
                }
            }
            state.record_spans(&key, &pending);
            pending.clear();
            drop(state);
            if let Some(log) = log.as_deref_mut() {
                log.dropped(dropped);
            }
            slo.add_dropped(dropped);
            self.adjustments
                .add_adjusted(&slo.spec.service, &slo.spec.name, adjusted);
        }
        self.record_traces(loaded, facts, now, log);
    }

    /// Spans whose `tracestate` could not be read (and so counted 1), by
    /// [`crate::slo::facts::sampling::Invalid::index`].
    pub fn invalid_tracestates(&self) -> [u64; crate::slo::facts::sampling::Invalid::ALL.len()] {
        self.tracestates.get()
    }

    /// The status of every SLO and group at the current time.
    pub fn status(&self) -> Vec<GroupStatus> {
        self.turnstile.read(|| self.status_now())
    }

    fn status_now(&self) -> Vec<GroupStatus> {
        let now = self.clock.now_nanos();
        let loaded = self.loaded();
        let mut per_slo: Vec<Vec<GroupStatus>> = Vec::with_capacity(loaded.slos.len());
        let mut windows = Vec::with_capacity(loaded.slos.len());
        for slo in &loaded.slos {
            let state = slo.state();
            per_slo.push(match &slo.spec.sli {
                Sli::Journey(j) if j.trace.is_none() => Vec::new(),
                _ => status::of_slo(slo, &state, now),
            });
            windows.push(state.windows.clone());
        }
        let specs: Vec<&Slo> = loaded.slos.iter().map(|s| &s.spec).collect();
        let window_refs: Vec<&[window::WindowSpec]> = windows.iter().map(|w| &w[..]).collect();
        crate::slo::journey::fill(&specs, &window_refs, &mut per_slo, now);
        let mut out: Vec<GroupStatus> = per_slo.into_iter().flatten().collect();
        for s in out.iter_mut().filter(|s| s.cluster == state::ALL) {
            s.effective_threshold = self.effective_threshold(&s.service, &s.name);
        }
        out
    }
}

/// Whether two specs define the same SLO, so that a reload keeps its state.
fn same_definition(a: &Slo, b: &Slo) -> bool {
    a.service == b.service
        && a.name == b.name
        && a.objective == b.objective
        && a.window == b.window
        && a.budgeting == b.budgeting
        && a.group_by == b.group_by
        && a.percentiles == b.percentiles
        && a.sli == b.sli
}
