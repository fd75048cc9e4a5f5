//! The open traces of a trace-aware journey (`mode: trace`): member spans in, one journey
//! event per trace out, within fixed bounds.
//!
//! # Rules
//!
//! - A **member span** is a span one of the journey's member SLOs selects; it is bad when
//!   that SLO counts it bad (several members selecting one span: bad when any does). The
//!   engine decides this ([`crate::slo::engine`]); the table sees trace id, start, end,
//!   verdict and cluster.
//! - A trace is **open** from its first member span until no member span of it arrived
//!   for `max_wait` (arrival by the receiver's clock, not the spans' timestamps); it then
//!   **closes** into one event: bad when any member span was bad, at the latest member
//!   span end (event time), in the cluster of the member span that started first (the
//!   first to arrive among equal starts), with latency = latest end − earliest start.
//! - A member span of a trace closed less than `max_traces` closings ago is a **late
//!   span**: counted, and the closed verdict stands (it neither reopens the trace nor
//!   makes a second event). Older closings are forgotten, so a span of a trace forgotten
//!   that way opens a new trace.
//! - At most `max_traces` traces are open. A member span of a new trace when the table is
//!   full first **force-closes** the least recently seen open trace (its event is made with
//!   the spans it has; counted). Nothing is dropped silently and memory is bounded: per open
//!   trace a fixed record (plus its cluster's name) and, per remembered closing, 16 bytes
//!   of id in a set and a queue.
//! - [`TraceTable::close_all`] closes every open trace at once (shutdown).
//! - **Adjusted count** (probability sampling): each member span comes with its adjusted
//!   count ([`crate::slo::facts::sampling`]; 1 when it has none or its member SLO says
//!   `adjusted_counts: false`). A closed trace counts as many events as the smallest
//!   adjusted count among its bad member spans when it is bad, among all its member spans
//!   when it is good; spans counting 0 (legacy `p:63`) are left out of the smallest, and a
//!   trace whose spans all count 0 counts 0. See [`TraceEvent::weight`] for why.
//!
//! The table has no clock of its own: callers pass `now` (Unix nanoseconds); a `now`
//! earlier than a trace's last arrival (the clock stepped back) waits from the later one.

#[cfg(test)]
#[path = "trace_tests.rs"]
mod tests;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use crate::slo::spec::trace_mode::TraceMode;

/// One member span, as the engine classified it.
#[derive(Debug, Clone, Copy)]
pub struct MemberSpan<'a> {
    pub trace: u128,
    pub start: u64,
    pub end: u64,
    pub bad: bool,
    pub cluster: &'a str,
    /// The span's adjusted count (finite, ≥ 0).
    pub weight: f64,
}

/// One closed trace: a journey event.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEvent {
    pub cluster: String,
    /// The latest member span end.
    pub time: u64,
    pub good: bool,
    /// Latest member span end − earliest member span start.
    pub latency: u64,
    /// Member spans the trace had.
    pub spans: u64,
    /// How many traces this one stands for: the smallest adjusted count of its bad member
    /// spans when bad, of all its member spans when good (0 when those all count 0).
    ///
    /// Consistent probability sampling keeps a span when the trace's randomness `R`
    /// reaches the span's threshold, `R` being the same for every span of the trace; so
    /// the member span with the lowest threshold (the smallest adjusted count) is kept
    /// whenever any member span is, and a trace enters the table exactly when that span
    /// was kept: with probability 1 / (its adjusted count). Weighing each trace by it
    /// estimates the number of traces without bias (Horvitz-Thompson). Likewise a trace is
    /// seen bad exactly when its bad member span with the lowest threshold was kept, so
    /// weighing bad traces by the smallest adjusted count among their bad spans estimates
    /// the number of bad traces without bias. When every member span of a trace carries
    /// one threshold (parent-based sampling), both are that span's adjusted count.
    pub weight: f64,
}

/// What a table has done since it was made, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceCounts {
    /// Traces closed after `max_wait` without a member span.
    pub closed: u64,
    /// Traces closed early because the table was full.
    pub forced: u64,
    /// Traces closed by [`TraceTable::close_all`].
    pub flushed: u64,
    /// Member spans of traces already closed (not counted in any event).
    pub late_spans: u64,
}

#[derive(Debug)]
struct Open {
    last_seen: u64,
    start: u64,
    end: u64,
    bad: bool,
    spans: u64,
    cluster: Box<str>,
    /// The smallest positive adjusted count of all member spans and of the bad ones
    /// (infinite while there is none).
    least: f64,
    least_bad: f64,
}

/// The smallest positive of `a` and `b` (`b` ≤ 0 leaves `a`).
fn least(a: f64, b: f64) -> f64 {
    if b > 0.0 { a.min(b) } else { a }
}

/// The open traces of one journey, and the ids of those recently closed.
#[derive(Debug)]
pub struct TraceTable {
    max_wait: u64,
    max_traces: usize,
    open: HashMap<u128, Open>,
    /// Open traces by last arrival: the next to close (or be forced out) first.
    by_last: BTreeSet<(u64, u128)>,
    /// Ids of the last `max_traces` closed traces, and the order they closed in.
    closed: HashSet<u128>,
    closed_order: VecDeque<u128>,
    counts: TraceCounts,
}

impl TraceTable {
    pub fn new(mode: &TraceMode) -> Self {
        TraceTable {
            max_wait: crate::unix_time::nanos(mode.max_wait),
            max_traces: mode.max_traces.max(1),
            open: HashMap::new(),
            by_last: BTreeSet::new(),
            closed: HashSet::new(),
            closed_order: VecDeque::new(),
            counts: TraceCounts::default(),
        }
    }

    /// Adds a member span arrived at `now`; an event it forces out goes to `out`.
    pub fn add(&mut self, span: MemberSpan<'_>, now: u64, out: &mut Vec<TraceEvent>) {
        if self.closed.contains(&span.trace) {
            self.counts.late_spans += 1;
            return;
        }
        let start = span.start.min(span.end);
        if let Some(t) = self.open.get_mut(&span.trace) {
            let seen = t.last_seen.max(now);
            if seen != t.last_seen {
                self.by_last.remove(&(t.last_seen, span.trace));
                self.by_last.insert((seen, span.trace));
                t.last_seen = seen;
            }
            if start < t.start {
                t.start = start;
                if *t.cluster != *span.cluster {
                    t.cluster = span.cluster.into();
                }
            }
            t.end = t.end.max(span.end);
            t.bad |= span.bad;
            t.spans += 1;
            t.least = least(t.least, span.weight);
            if span.bad {
                t.least_bad = least(t.least_bad, span.weight);
            }
            return;
        }
        while self.open.len() >= self.max_traces
            && let Some(&(last, oldest)) = self.by_last.first()
        {
            if let Some(e) = self.close(last, oldest) {
                self.counts.forced += 1;
                out.push(e);
            }
        }
        self.open.insert(
            span.trace,
            Open {
                last_seen: now,
                start,
                end: span.end,
                bad: span.bad,
                spans: 1,
                cluster: span.cluster.into(),
                least: least(f64::INFINITY, span.weight),
                least_bad: if span.bad {
                    least(f64::INFINITY, span.weight)
                } else {
                    f64::INFINITY
                },
            },
        );
        self.by_last.insert((now, span.trace));
    }

    /// Closes every trace whose last member span arrived `max_wait` or longer before `now`.
    pub fn close_due(&mut self, now: u64, out: &mut Vec<TraceEvent>) {
        while let Some(&(last, id)) = self.by_last.first() {
            if now.saturating_sub(last) < self.max_wait {
                break;
            }
            if let Some(e) = self.close(last, id) {
                self.counts.closed += 1;
                out.push(e);
            }
        }
    }

    /// Closes every open trace (shutdown), least recently seen first.
    pub fn close_all(&mut self, out: &mut Vec<TraceEvent>) {
        while let Some(&(last, id)) = self.by_last.first() {
            if let Some(e) = self.close(last, id) {
                self.counts.flushed += 1;
                out.push(e);
            }
        }
    }

    /// Open traces now.
    pub fn open_traces(&self) -> usize {
        self.open.len()
    }

    pub fn counts(&self) -> TraceCounts {
        self.counts
    }

    /// Removes trace `id` (last seen at `last`) and remembers it as closed; its event.
    fn close(&mut self, last: u64, id: u128) -> Option<TraceEvent> {
        self.by_last.remove(&(last, id));
        let t = self.open.remove(&id)?;
        if self.closed_order.len() >= self.max_traces
            && let Some(old) = self.closed_order.pop_front()
        {
            self.closed.remove(&old);
        }
        if self.closed.insert(id) {
            self.closed_order.push_back(id);
        }
        let weight = if t.bad { t.least_bad } else { t.least };
        Some(TraceEvent {
            cluster: t.cluster.into(),
            time: t.end,
            good: !t.bad,
            latency: t.end.saturating_sub(t.start),
            spans: t.spans,
            weight: if weight.is_finite() { weight } else { 0.0 },
        })
    }
}
