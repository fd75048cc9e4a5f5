//! Recording a request's spans of one group at once.
//!
//! The engine collects the spans of a request that one SLO counts, group by group in the
//! request's order, and records each group's spans here instead of one event at a time.
//! Consecutive spans in the same slot of the finest ring form a run, and a run costs one
//! slot lookup per window instead of one per span: its counts go into each window's slot
//! in one addition, its latencies into the finest ring's slot in one pass.
//!
//! The result is exactly that of recording each span in order with
//! [`GroupState::record_n`] (count 1): within a run the finest ring's slot is the same, so
//! the slot reuse, eviction and sealing that the first span of a run may cause happen once
//! and the other spans find the same state; a coarser window's slot is the same for the
//! whole run when the finest slot's time range lies inside it (checked per run and window;
//! otherwise that window counts the run span by span); counts are sums; histogram buckets
//! are counts per bucket; the lifetime native histogram still adds each latency in order
//! (its sum is a float). Timeslice SLOs and spans with adjusted counts take the one-by-one
//! path.

use super::hist::bucket_of;
use super::native::Bucket;
use super::state::{FINE_OPEN_SLOTS, GroupKey, GroupState, SloState};

/// A span's latency with its histogram buckets, found once per span for every SLO that
/// counts it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub nanos: u64,
    /// The HDR bucket key ([`bucket_of`]).
    pub hdr: u64,
    /// The lifetime native histogram's bucket.
    pub native: Bucket,
}

impl Latency {
    pub fn of(nanos: u64) -> Self {
        Self {
            nanos,
            hdr: bucket_of(nanos),
            native: Bucket::of(nanos),
        }
    }
}

/// One span to record, counting one event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpanEvent {
    /// End time, Unix nanoseconds.
    pub t: u64,
    pub good: bool,
    pub latency: Latency,
}

/// The latencies of a request's spans, each found when an SLO first counts its span.
#[derive(Debug, Default)]
pub struct Latencies(Vec<Option<Latency>>);

impl Latencies {
    /// For a request of `rows` spans.
    pub fn new(rows: usize) -> Self {
        Self(vec![None; rows])
    }

    /// Row `row`'s latency, `nanos` long.
    pub fn get(&mut self, row: usize, nanos: u64) -> Latency {
        match self.0.get_mut(row) {
            Some(Some(l)) => *l,
            Some(slot) => *slot.insert(Latency::of(nanos)),
            None => Latency::of(nanos),
        }
    }
}

impl GroupState {
    /// Records `spans` in order, each one event: the same as [`GroupState::record_n`] with
    /// a count of 1 for each (see the module docs).
    pub fn record_spans(&mut self, spans: &[SpanEvent], bounds: &[u64]) {
        if self.slices.is_some() || self.rings.is_empty() {
            for s in spans {
                self.record_n(s.t, s.good, Some(s.latency.nanos), bounds, 1);
            }
            return;
        }
        let mut rest = spans;
        while let Some(first) = rest.first() {
            let fine = &self.rings[0];
            let id = fine.slot_id(first.t);
            let (len, range) = match fine.slot_bounds(id) {
                Some((lo, hi)) => (
                    rest.iter()
                        .position(|s| s.t < lo || s.t >= hi)
                        .unwrap_or(rest.len()),
                    (lo, hi),
                ),
                None => (1, (first.t, first.t.saturating_add(1))),
            };
            let (run, tail) = rest.split_at(len);
            self.record_run(run, id, range, bounds);
            rest = tail;
        }
    }

    /// Spans whose end times all fall in slot `id` = `[range.0, range.1)` of the finest
    /// ring.
    fn record_run(&mut self, run: &[SpanEvent], id: u64, range: (u64, u64), bounds: &[u64]) {
        let Some(first) = run.first() else { return };
        if let Some(s) = &mut self.sampled {
            for span in run {
                s.add_raw(span.t, span.good);
            }
        }
        let Some((fine, coarse)) = self.rings.split_first_mut() else {
            return;
        };
        let in_fine = fine.holds(id);
        if in_fine && let Some((start, hist)) = fine.evict_older(id) {
            for ring in coarse.iter_mut() {
                ring.merge_latency(start, &hist);
            }
        }
        let (newest, _) = fine.newest();
        if id > newest {
            fine.seal_before(id.saturating_sub(FINE_OPEN_SLOTS));
        }
        let total = run.len() as u64;
        let good = run.iter().filter(|s| s.good).count() as u64;
        let good_signed = i64::try_from(good).unwrap_or(i64::MAX);
        for ring in &mut self.rings {
            if !ring.add_within(first.t, range, good_signed, total) {
                for s in run {
                    ring.add(s.t, i64::from(s.good), 1);
                }
            }
        }
        self.lifetime.good = self.lifetime.good.saturating_add(good);
        self.lifetime.total = self.lifetime.total.saturating_add(total);
        for s in run {
            self.native.record_at(s.latency.native, 1);
            self.classic.record(bounds, s.latency.nanos, 1);
        }
        if in_fine {
            self.rings[0].record_latencies(first.t, run.iter().map(|s| s.latency.hdr));
        } else {
            for s in run {
                for ring in self.rings.iter_mut().skip(1) {
                    ring.record_latency(s.t, s.latency.nanos, 1);
                }
            }
        }
    }
}

impl SloState {
    /// Records `spans` of group `key` in order, each one event: the same as
    /// [`SloState::record_weighted`] with a weight of 1 for each.
    pub fn record_spans(&mut self, key: &GroupKey, spans: &[SpanEvent]) {
        if spans.is_empty() {
            return;
        }
        if self.slice_cfg.is_some() {
            for s in spans {
                self.record_weighted(key, s.t, s.good, Some(s.latency.nanos), 1.0);
            }
            return;
        }
        let bounds = self.latency_bounds.clone();
        let group = match self.groups.get_mut(key) {
            Some(g) => g,
            None => self.group_mut_n(key, spans.len() as u64),
        };
        group.record_spans(spans, &bounds);
    }
}
