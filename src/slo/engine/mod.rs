//! The SLO engine: classifies spans as good or bad events per SLO and group, keeps them in
//! rolling windows (and calendar periods) by event time, and answers error ratios, error
//! budgets, burn rates and latency percentiles — over events, or over time slices for
//! timeslice SLOs.
//!
//! # The engine's methods
//!
//! [`Engine`] is declared here, with its life cycle and its status; each recording path
//! adds its methods in its own file:
//!
//! - here: [`Engine::new`], [`Engine::replace`] (a reload), [`Engine::slos`],
//!   [`Engine::adjustments`], [`Engine::now_nanos`], [`Engine::wal`], [`Engine::status`].
//! - `spans.rs`: [`Engine::record_spans`], [`Engine::record_spans_logged`],
//!   [`Engine::record_spans_from`], [`Engine::record_facts`] (replay),
//!   [`Engine::record_facts_received`] (replay, each row at its receipt time),
//!   [`Engine::facts_schema`], [`Engine::walk_schema`], [`Engine::attach_sink`],
//!   [`Engine::invalid_tracestates`].
//! - `traces.rs`: [`Engine::close_traces`], [`Engine::close_all_traces`] (and the
//!   recording of trace-aware journeys, called by `spans.rs`).
//! - `logs.rs`: [`Engine::has_log_slos`], [`Engine::record_logs`],
//!   [`Engine::record_logs_logged`], [`Engine::record_logs_from`],
//!   [`Engine::record_log_facts`].
//! - `metrics/`: [`Engine::record_metrics`], [`Engine::record_metrics_logged`],
//!   [`Engine::effective_threshold`], [`Engine::metric_stats`] (and the metric state that
//!   snapshots save and restore).
//! - `wal/`: replaying the write-ahead log into the engine at start-up.
//!
//! # Layout
//!
//! - `mod.rs`: [`Engine`], [`EngineConfig`]: the loaded SLOs, reloads and status.
//! - `loaded.rs`: [`LoadedSlo`]: one SLO's definition and state, what the state is sized
//!   by (classic latency buckets, window length).
//! - `turnstile.rs`: readers let through between a writer's chunks.
//! - `state.rs`: per-SLO groups (cluster × `group_by` values, plus `all` and per-cluster
//!   roll-ups summed when read) and their windows.
//! - `window.rs`: time-slot rings, one per window, exact to 1/30 of the window.
//! - `calendar.rs`: calendar SLO windows (the current month or week in a time zone).
//! - `slices.rs`: timeslice budgeting (good slices / elapsed slices).
//! - `sampled.rs`: spans counted with their adjusted count (probability sampling), raw
//!   span counts.
//! - `spans.rs`: span SLIs: a request's span facts recorded per SLO and group; several
//!   requests read back from a capture in one call, each row at its own receipt time
//!   (`received_tests.rs`).
//! - `shared.rs`: a request's spans grouped and bucketed once for every span SLO that
//!   selects the same rows, then added per SLO a finest slot at a time.
//! - `shared_hist.rs`: finest-slot latency histograms shared by the SLOs that recorded the
//!   same spans (one bucket insert per span, not one per SLO); `shared_native.rs`: the
//!   groups' lifetime native histograms likewise.
//! - `record.rs`: a request's spans of one group recorded at once (runs per slot).
//! - `hist.rs`: sparse HDR latency histograms and nearest-rank percentiles.
//! - `dense.rs`: a busy open finest slot's HDR buckets counted in pages instead of a map.
//! - `native.rs`: lifetime latency histograms in exponential (native histogram) buckets;
//!   `native_by_hdr.rs`: a latency's native bucket found from its HDR bucket.
//! - `logs.rs`: log SLIs from log records (access logs), recorded like spans;
//!   `log_rows.rs`: one chunk of their records, the bodies read into one reused buffer.
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
mod dense;
pub mod hist;
mod loaded;
mod log_rows;
pub mod logs;
#[cfg(test)]
mod logs_tests;
pub mod metrics;
pub mod native;
mod native_by_hdr;
#[cfg(test)]
mod period_tests;
#[cfg(test)]
mod received_tests;
pub mod record;
#[cfg(test)]
mod reload_tests;
#[cfg(test)]
mod rollup_tests;
pub mod room;
#[cfg(test)]
mod room_tests;
pub mod sampled;
#[cfg(test)]
mod sampled_tests;
pub mod shared;
mod shared_hist;
mod shared_native;
#[cfg(test)]
mod shared_tests;
pub mod slices;
pub mod snapshot;
mod spans;
pub mod state;
pub mod status;
#[cfg(test)]
mod status_latency_tests;
#[cfg(test)]
mod tests;
pub mod traces;
#[cfg(test)]
mod traces_sampled_tests;
#[cfg(test)]
mod traces_tests;
mod turnstile;
#[cfg(test)]
mod upgrade_tests;
pub mod wal;
pub mod window;

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

pub use clock::{Clock, ManualClock, SystemClock};
pub use loaded::{Dropped, LATENCY_LADDER, LoadedSlo, latency_bounds, slo_window_secs};
pub use spans::FactsSink;
pub use status::{GroupStatus, WindowStatus};
use turnstile::Turnstile;

use crate::slo::facts::FactsSchema;
use crate::slo::spec::{Sli, Slo, SloSet};
// Read by the tests' `use super::*`.
#[cfg(test)]
use crate::slo::{facts::SpanFacts, spec::SloWindow};

/// Engine settings (from the `slo` config section).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Resource attribute naming the cluster when the token does not.
    pub cluster_attribute: String,
    /// How late (before now) a span may end and still count.
    pub allowed_lateness: Duration,
    /// How far in the future a span may end and still count (clock skew).
    pub max_future: Duration,
    /// Groups across every SLO together (`slo.max_groups_total`).
    pub max_groups_total: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            cluster_attribute: "k8s.cluster.name".into(),
            allowed_lateness: Duration::from_secs(300),
            max_future: Duration::from_secs(60),
            max_groups_total: usize::MAX,
        }
    }
}

struct Loaded {
    slos: Vec<Arc<LoadedSlo>>,
    /// Shared with the receiver's walks: a request's facts carry the schema they were read
    /// for, and the same `Arc` tells they are still this one without comparing maps.
    schema: Arc<FactsSchema>,
}

/// The SLO engine.
pub struct Engine {
    cfg: EngineConfig,
    /// The room every SLO's groups share (`cfg.max_groups_total`).
    groups: Arc<room::GroupRoom>,
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

impl Engine {
    pub fn new(cfg: EngineConfig, clock: Arc<dyn Clock>, set: SloSet) -> Arc<Self> {
        let engine = Arc::new(Self {
            groups: Arc::new(room::GroupRoom::new(cfg.max_groups_total)),
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
                schema: Arc::default(),
            })),
        });
        // (The bucket tables, made now rather than by the first request.)
        native_by_hdr::by_hdr();
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
        let mut schema = FactsSchema::of(&set);
        if let Some(sink) = self.sink.get() {
            schema.merge(sink.schema());
        }
        let slos = set
            .slos
            .into_iter()
            .map(|spec| {
                let kept = old.slos.iter().find(|o| o.spec.same_definition(&spec));
                Arc::new(match kept {
                    Some(o) => o.reloaded(spec),
                    None => LoadedSlo::new(spec, &self.cfg, &self.groups),
                })
            })
            .collect();
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Loaded {
            slos,
            schema: Arc::new(schema),
        });
    }

    /// The room the groups of every SLO share: its size, the groups in it, the events
    /// refused a group.
    pub fn group_room(&self) -> &room::GroupRoom {
        &self.groups
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

    /// The event times accepted at `now`: `[now − allowed_lateness, now + max_future]`;
    /// earlier events count as late, later ones as future.
    pub(super) fn event_times(&self, now: u64) -> (u64, u64) {
        (
            now.saturating_sub(nanos(self.cfg.allowed_lateness)),
            now.saturating_add(nanos(self.cfg.max_future)),
        )
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

pub(super) use crate::unix_time::nanos;
