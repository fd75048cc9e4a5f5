//! Trace-aware journeys (`mode: trace`) in the engine: member spans go to the journey's
//! table of open traces ([`crate::slo::journey::trace`]), closed traces come out as the
//! journey's events and are recorded in its own state like a span SLO's — same windows,
//! budgets, burn rates, series, status and rules.
//!
//! - Each request's spans are classified by every member SLO (its `where`, `bad` and
//!   latency threshold, as that SLO counts them: the span path's verdicts, conditions are
//!   not evaluated a second time); a span any member selects is a member
//!   span, bad when any member that selects it counts it bad. Member spans ending more
//!   than `allowed_lateness` before now, or `max_future` after it, are dropped as the
//!   journey's late / future events (`slotel_slo_dropped_events_total`); spans without a
//!   valid trace id are counted and left out.
//! - Each member span brings its adjusted count (probability sampling: the facts'
//!   `adjusted_count` column), or 1 when no member selecting it counts adjusted counts
//!   (`adjusted_counts: false`); a closed trace counts the adjusted count the table gives
//!   it ([`crate::slo::journey::trace::TraceEvent::weight`]) as whole events, like a
//!   sampled span, and the API's raw counts are the traces, each once.
//! - Traces close when a request is recorded and every second ([`Engine::close_traces`],
//!   from the runtime), so a trace closes between `max_wait` and `max_wait` + 1 s after its
//!   last member span arrived; at shutdown every open trace closes
//!   ([`Engine::close_all_traces`]) before the last snapshot.
//! - A closed trace whose event time a budget adjustment of the journey covers (in its
//!   cluster) is left out and counted as adjusted, as a span SLO's spans are.
//! - Closed traces' events go into the write-ahead log as the journey's span events, so
//!   they survive a crash and restart like any SLO's events. Open traces are in memory
//!   only: a crash (not a shutdown) loses the traces open then — at most those whose last
//!   member span arrived within `max_wait` — and a restart starts with an empty table.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::state::GroupKey;
use super::{Dropped, Engine, Loaded, LoadedSlo, wal};
use crate::slo::facts::SpanFacts;
use crate::slo::journey::trace::{MemberSpan, TraceCounts, TraceEvent, TraceTable};
use crate::slo::series::{Labels, SeriesFamily};
use crate::slo::series_names;
use crate::slo::spec::Sli;
use crate::slo::spec::trace_mode::TraceMode;

/// A trace-aware journey's open traces and counters.
#[derive(Debug)]
pub struct Traces {
    table: Mutex<TraceTable>,
    /// Member spans without a valid trace id (left out).
    without_id: AtomicU64,
}

/// A trace-aware journey's counters, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceStats {
    pub open: usize,
    pub counts: TraceCounts,
    pub without_id: u64,
}

impl Traces {
    pub(super) fn new(mode: &TraceMode) -> Self {
        Traces {
            table: Mutex::new(TraceTable::new(mode)),
            without_id: AtomicU64::new(0),
        }
    }

    fn table(&self) -> MutexGuard<'_, TraceTable> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stats(&self) -> TraceStats {
        let t = self.table();
        TraceStats {
            open: t.open_traces(),
            counts: t.counts(),
            without_id: self.without_id.load(Ordering::Relaxed),
        }
    }
}

/// A span SLO's verdict on each row of a request, as the span path computed it: selected
/// by its `where`, and bad by its `bad` condition. Handed to the trace-aware journeys so
/// that their member SLOs' conditions are evaluated once per request.
#[derive(Debug, Clone)]
pub(super) struct Verdict {
    pub selected: arrow_array::BooleanArray,
    pub bad: Option<arrow_array::BooleanArray>,
}

/// A member SLO's verdict on each row with its latency threshold.
struct Member {
    verdict: Verdict,
    threshold: Option<u64>,
    /// The member counts adjusted counts (`adjusted_counts`, default true).
    adjusted: bool,
}

impl Engine {
    /// Feeds the member spans of `facts` to every trace-aware journey and records the
    /// traces that closed. `verdicts[i]` is the verdict of `loaded.slos[i]` on `facts`
    /// (span SLOs), as the span path computed it.
    pub(super) fn record_traces(
        &self,
        loaded: &Loaded,
        facts: &SpanFacts,
        verdicts: &[Option<Verdict>],
        now: u64,
        mut log: Option<&mut wal::Encoder>,
    ) {
        let (oldest, newest) = self.event_times(now);
        let end = facts.end_time_unix_nano();
        let duration = facts.duration_nanos();
        for slo in &loaded.slos {
            let (Some(traces), Sli::Journey(journey)) = (&slo.traces, &slo.spec.sli) else {
                continue;
            };
            let members: Vec<Member> = journey
                .leaves
                .iter()
                .filter_map(|leaf| {
                    let i = loaded
                        .slos
                        .iter()
                        .position(|s| s.spec.service == leaf.service && s.spec.name == leaf.name)?;
                    let Sli::Spans(sli) = &loaded.slos[i].spec.sli else {
                        return None;
                    };
                    Some(Member {
                        verdict: verdicts.get(i)?.clone()?,
                        threshold: sli.latency_threshold.map(super::nanos),
                        adjusted: sli.adjusted_counts,
                    })
                })
                .collect();
            let mut dropped = Dropped::default();
            let mut without_id = 0u64;
            let mut events = Vec::new();
            let mut table = traces.table();
            table.close_due(now, &mut events);
            let weights = facts.adjusted_counts();
            for row in 0..facts.len() {
                let mut member = false;
                let mut bad = false;
                let mut adjusted = false;
                for m in &members {
                    if m.verdict.selected.value(row) {
                        member = true;
                        adjusted |= m.adjusted;
                        bad |= m.verdict.bad.as_ref().is_some_and(|b| b.value(row))
                            || m.threshold.is_some_and(|th| duration[row] > th);
                    }
                }
                if !member {
                    continue;
                }
                let t = end[row];
                if !dropped.admits(t, oldest, newest) {
                    continue;
                }
                let Some(trace) = facts.trace_id(row) else {
                    without_id += 1;
                    continue;
                };
                let span = MemberSpan {
                    trace,
                    start: t.saturating_sub(duration[row]),
                    end: t,
                    bad,
                    cluster: facts.cluster(row),
                    weight: weights.filter(|_| adjusted).map_or(1.0, |w| w[row]),
                };
                table.add(span, now, &mut events);
            }
            drop(table);
            if without_id > 0 {
                traces.without_id.fetch_add(without_id, Ordering::Relaxed);
            }
            self.leave_out_adjusted(slo, &mut events);
            record_events(slo, &events, dropped, log.as_deref_mut());
        }
    }

    /// Closes the traces of every trace-aware journey whose wait is over and records their
    /// events (logged, with a write-ahead log; a log refusing deltas leaves them open until
    /// it takes them again).
    pub fn close_traces(&self) {
        self.close_traces_with(false);
    }

    /// Closes every open trace of every trace-aware journey and records the events
    /// (shutdown: before the last snapshot).
    pub fn close_all_traces(&self) {
        self.close_traces_with(true);
    }

    fn close_traces_with(&self, all: bool) {
        let loaded = self.loaded();
        if !loaded.slos.iter().any(|s| s.traces.is_some()) {
            return;
        }
        let close = |log: Option<&mut wal::Encoder>| {
            let now = self.clock.now_nanos();
            let mut log = log;
            for slo in &loaded.slos {
                let Some(traces) = &slo.traces else { continue };
                let mut events = Vec::new();
                let mut table = traces.table();
                if all {
                    table.close_all(&mut events);
                } else {
                    table.close_due(now, &mut events);
                }
                drop(table);
                self.leave_out_adjusted(slo, &mut events);
                record_events(slo, &events, Dropped::default(), log.as_deref_mut());
            }
        };
        match self.wal() {
            None => close(None),
            Some(w) => match w.begin() {
                Ok(mut unit) => {
                    close(Some(&mut unit.enc));
                    unit.commit(None);
                }
                // At shutdown the events still go into the state (the last snapshot holds
                // them); otherwise they wait for the log.
                Err(_) if all => close(None),
                Err(_) => {}
            },
        }
    }
}

impl Engine {
    /// Removes from `events` the traces whose event time (and cluster) a budget adjustment
    /// of journey `slo` covers, counting them as its adjusted events.
    fn leave_out_adjusted(&self, slo: &LoadedSlo, events: &mut Vec<TraceEvent>) {
        let (Some(from), Some(to)) = (
            events.iter().map(|e| e.time).min(),
            events.iter().map(|e| e.time).max(),
        ) else {
            return;
        };
        let (service, name) = (&slo.spec.service, &slo.spec.name);
        let ranges = self
            .adjustments
            .ranges(service, name, from, to.saturating_add(1));
        if ranges.is_empty() {
            return;
        }
        let before = events.len();
        events.retain(|e| !ranges.covers(&e.cluster, e.time));
        self.adjustments
            .add_adjusted(service, name, (before - events.len()) as u64);
    }
}

/// Records closed traces' `events` (and member spans `dropped`) in journey `slo`'s state,
/// and in `log`.
fn record_events(
    slo: &LoadedSlo,
    events: &[TraceEvent],
    dropped: Dropped,
    mut log: Option<&mut wal::Encoder>,
) {
    if events.is_empty() && dropped == Dropped::default() {
        return;
    }
    if let Some(log) = log.as_deref_mut() {
        log.begin_spans_of(slo.wal_id, events.iter().any(|e| e.weight != 1.0));
    }
    let mut state = slo.state();
    let mut key = GroupKey {
        cluster: String::new(),
        extra: Vec::new(),
    };
    for e in events {
        if key.cluster != e.cluster {
            key.cluster.clone_from(&e.cluster);
        }
        let n = state.record_weighted(&key, e.time, e.good, Some(e.latency), e.weight);
        if let Some(log) = log.as_deref_mut() {
            log.span_n(&key, e.time, e.good, e.latency, n);
        }
    }
    drop(state);
    if let Some(log) = log {
        log.dropped(dropped);
    }
    slo.add_dropped(dropped);
}

/// The trace-aware journeys' own series.
pub fn families(engine: &Engine) -> Vec<SeriesFamily> {
    let mut traces = Vec::new();
    let mut spans = Vec::new();
    let mut open = Vec::new();
    for slo in engine.slos() {
        let Some(t) = &slo.traces else { continue };
        let s = t.stats();
        let labels: Labels = vec![
            ("slo".to_string(), slo.spec.name.clone()),
            ("service".to_string(), slo.spec.service.clone()),
        ];
        let with = |k: &str, v: &str| {
            let mut l = labels.clone();
            l.push((k.to_string(), v.to_string()));
            l
        };
        for (outcome, n) in [
            ("waited", s.counts.closed),
            ("forced", s.counts.forced),
            ("shutdown", s.counts.flushed),
        ] {
            traces.push((with("closed", outcome), n as f64));
        }
        for (reason, n) in [
            ("trace_closed", s.counts.late_spans),
            ("no_trace_id", s.without_id),
        ] {
            spans.push((with("reason", reason), n as f64));
        }
        open.push((labels, s.open as f64));
    }
    vec![
        SeriesFamily {
            name: series_names::JOURNEY_TRACES,
            help: "Traces a trace-aware journey closed, by why: waited (max_wait without a \
                   member span), forced (the table was full), shutdown",
            counter: true,
            rows: traces,
        },
        SeriesFamily {
            name: series_names::JOURNEY_IGNORED_SPANS,
            help: "Member spans a trace-aware journey left out, by reason: trace_closed \
                   (arrived after their trace closed), no_trace_id",
            counter: true,
            rows: spans,
        },
        SeriesFamily {
            name: series_names::JOURNEY_OPEN_TRACES,
            help: "Traces a trace-aware journey holds open now",
            counter: false,
            rows: open,
        },
    ]
}
