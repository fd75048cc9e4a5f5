//! One loaded SLO ([`LoadedSlo`]): its definition and its state (groups and windows, the
//! events it dropped, a trace-aware journey's open traces, a log SLI's unreadable
//! latencies), and what the state is sized by: the classic latency buckets
//! ([`latency_bounds`]) and the window's length ([`slo_window_secs`]).

use std::sync::{Arc, Mutex, MutexGuard};

use super::state::SloState;
use super::{EngineConfig, calendar, logs, slices, traces, window};
use crate::slo::spec::{Budgeting, Sli, Slo, SloWindow};

/// One loaded SLO and its state. The state is shared with the SLO as loaded again by a
/// reload that keeps its definition ([`LoadedSlo::reloaded`]).
pub struct LoadedSlo {
    pub spec: Slo,
    pub(super) state: Arc<Mutex<SloState>>,
    /// Events dropped for arriving too late / too far in the future.
    pub(super) dropped: Arc<Mutex<Dropped>>,
    /// The SLO's id in the write-ahead log: its fingerprint's first 8 bytes
    /// ([`Slo::fingerprint`]).
    pub(super) wal_id: u64,
    /// A trace-aware journey's open traces.
    pub(super) traces: Option<Arc<traces::Traces>>,
    /// Log SLIs: records whose latency field could not be read.
    pub(super) log_unreadable: Arc<logs::UnreadableCounts>,
}

/// Events an SLO dropped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dropped {
    pub late: u64,
    pub future: u64,
}

impl Dropped {
    /// Whether an event at `t` falls in `oldest..=newest`; one outside is counted here
    /// as late or as future.
    #[inline]
    pub(super) fn admits(&mut self, t: u64, oldest: u64, newest: u64) -> bool {
        if t < oldest {
            self.late += 1;
            false
        } else if t > newest {
            self.future += 1;
            false
        } else {
            true
        }
    }
}

impl LoadedSlo {
    pub(super) fn new(spec: Slo, cfg: &EngineConfig, room: &Arc<super::room::GroupRoom>) -> Self {
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
                slice_nanos: super::nanos(*slice).max(1),
                target: *slice_target,
                settle_nanos: super::nanos(cfg.allowed_lateness.saturating_add(cfg.max_future)),
            }),
        };
        let state = SloState::new(
            windows,
            spec.max_groups,
            slices,
            !spec.group_by.is_empty(),
            latency_bounds(&spec),
        )
        .in_room(room.clone());
        let wal_id = spec.fingerprint().id();
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
    /// ([`Slo::same_definition`]): the same state, counters and open traces, and the new
    /// settings that do not touch the state (`min_events`, `alerting`, `runbook_url`,
    /// `description`; `max_groups` applies from the next restart).
    pub(super) fn reloaded(&self, spec: Slo) -> Self {
        Self {
            spec,
            state: self.state.clone(),
            dropped: self.dropped.clone(),
            wal_id: self.wal_id,
            traces: self.traces.clone(),
            log_unreadable: self.log_unreadable.clone(),
        }
    }

    pub(super) fn state(&self) -> MutexGuard<'_, SloState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn dropped(&self) -> Dropped {
        *self.dropped.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn add_dropped(&self, dropped: Dropped) {
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
        out.push(super::nanos(th));
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
