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
//! are counts per bucket; the lifetime native histogram's sum is whole nanoseconds.
//! Timeslice SLOs and spans with adjusted counts take the one-by-one
//! path.
//!
//! A request's spans end within a few seconds of each other, so a group's spans usually
//! fall in two or three slots of the finest ring, in no order: runs in request order would
//! be a span or two long. When a group's spans fall in at most [`MAX_SLOTS`] slots that the
//! finest ring holds both before and after them, each slot's spans are recorded as one run
//! (native histogram first, in request order). That is exact too: the finest ring keeps
//! every one of those slots throughout, each in its own place (they are fewer than a ring
//! apart), so whichever comes first, the same slots are evicted, hold the same counts and
//! latencies, and the coarser rings (wider slots, as many) get the same counts; only which
//! histograms are sealed (compacted) at the end may differ, not what they hold.

use super::hist::index_of;
use super::native::Bucket;
use super::state::{FINE_OPEN_SLOTS, GroupKey, GroupState, SloState};

/// A span's latency with its histogram buckets, found once per span for every SLO that
/// counts it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub nanos: u64,
    /// The HDR bucket's index ([`index_of`]).
    pub hdr: u32,
    /// The lifetime native histogram's bucket.
    pub native: Bucket,
}

impl Latency {
    pub fn of(nanos: u64) -> Self {
        Self {
            nanos,
            hdr: index_of(nanos),
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

/// The latencies of a request's spans, each found when an SLO first counts its span (the
/// table is made then too: recording from a selection needs none).
#[derive(Debug, Default)]
pub struct Latencies {
    rows: usize,
    found: Vec<Option<Latency>>,
}

impl Latencies {
    /// For a request of `rows` spans.
    pub fn new(rows: usize) -> Self {
        Self {
            rows,
            found: Vec::new(),
        }
    }

    /// Row `row`'s latency, `nanos` long.
    pub fn get(&mut self, row: usize, nanos: u64) -> Latency {
        if self.found.is_empty() {
            self.found = vec![None; self.rows];
        }
        match self.found.get_mut(row) {
            Some(Some(l)) => *l,
            Some(slot) => *slot.insert(Latency::of(nanos)),
            None => Latency::of(nanos),
        }
    }
}

/// Most slots of the finest ring whose spans are recorded one slot at a time.
pub const MAX_SLOTS: usize = 4;

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
        if spans.len() > 1 && self.record_by_slot(spans, bounds) {
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
            self.record_run(run, id, range, bounds, true);
            rest = tail;
        }
    }

    /// Records `spans` one finest slot at a time when they fall in at most [`MAX_SLOTS`]
    /// slots that the finest ring holds before and after them (see the module docs);
    /// false, having recorded nothing, otherwise.
    fn record_by_slot(&mut self, spans: &[SpanEvent], bounds: &[u64]) -> bool {
        let Some(fine) = self.rings.first() else {
            return false;
        };
        let mut slots = [0u64; MAX_SLOTS];
        let mut found = 0;
        let mut ids = Vec::with_capacity(spans.len());
        for s in spans {
            let id = fine.slot_id(s.t);
            if !slots[..found].contains(&id) {
                if found == MAX_SLOTS {
                    return false;
                }
                slots[found] = id;
                found += 1;
            }
            ids.push(id);
        }
        let slots = &slots[..found];
        let (Some(&lo), Some(&hi)) = (slots.iter().min(), slots.iter().max()) else {
            return false;
        };
        let (newest, _) = fine.newest();
        // Every slot held before (`newest`) and after (`hi`): fewer than a ring apart.
        if lo + super::window::RING as u64 <= hi.max(newest) {
            return false;
        }
        let Some(ranges) = slots
            .iter()
            .map(|id| fine.slot_bounds(*id))
            .collect::<Option<Vec<_>>>()
        else {
            return false;
        };
        for s in spans {
            self.native.record_at(s.latency.native, 1);
        }
        let mut run = Vec::with_capacity(spans.len());
        for (id, range) in slots.iter().zip(ranges) {
            run.clear();
            run.extend(
                spans
                    .iter()
                    .zip(&ids)
                    .filter(|(_, i)| *i == id)
                    .map(|(s, _)| *s),
            );
            self.record_run(&run, *id, range, bounds, false);
        }
        true
    }

    /// Spans whose end times all fall in slot `id` = `[range.0, range.1)` of the finest
    /// ring; their latencies go into the native histogram too when `native`.
    fn record_run(
        &mut self,
        run: &[SpanEvent],
        id: u64,
        range: (u64, u64),
        bounds: &[u64],
        native: bool,
    ) {
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
            if native {
                self.native.record_at(s.latency.native, 1);
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::engine::calendar::Calendar;
    use crate::slo::engine::window::{WindowSpec, windows_for, windows_for_calendar};
    use crate::slo::spec::CalendarUnit;

    const S: u64 = 1_000_000_000;
    const T0: u64 = 1_800_000_000 * S;

    fn state(windows: Vec<WindowSpec>) -> SloState {
        SloState::new(windows, 2, None, false, vec![100_000_000, 300_000_000])
    }

    /// Requests of random spans: mostly in the last few seconds, some late (up to the
    /// allowed lateness and past a whole finest ring), some ahead, some in a second
    /// cluster, and — past `max_groups` — a third cluster that overflows.
    fn requests(rng: &mut fastrand::Rng) -> Vec<Vec<(GroupKey, SpanEvent)>> {
        let clusters = ["a", "b", "c"];
        (0..60u64)
            .map(|i| {
                let now = T0 + i * 7 * S;
                (0..rng.usize(1..200))
                    .map(|_| {
                        let t = match rng.u8(..10) {
                            0 => now.saturating_sub(rng.u64(..400 * S)),
                            1 => now + rng.u64(..60 * S),
                            _ => now.saturating_sub(rng.u64(..5 * S)),
                        };
                        let key = GroupKey {
                            cluster: clusters[rng.usize(..if i < 30 { 2 } else { 3 })].into(),
                            extra: Vec::new(),
                        };
                        let nanos = match rng.u8(..20) {
                            0 => 0,
                            1 => rng.u64(..2 * 3_600 * S),
                            _ => rng.u64(1_000..2 * S),
                        };
                        let event = SpanEvent {
                            t,
                            good: rng.u8(..10) > 0,
                            latency: Latency::of(nanos),
                        };
                        (key, event)
                    })
                    .collect()
            })
            .collect()
    }

    fn batched_equals_one_by_one(windows: Vec<WindowSpec>, seed: u64) {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut one = state(windows.clone());
        let mut batched = state(windows);
        for request in requests(&mut rng) {
            for (key, s) in &request {
                one.record_weighted(key, s.t, s.good, Some(s.latency.nanos), 1.0);
            }
            // As the engine does: consecutive spans of one group together.
            let mut start = 0;
            while start < request.len() {
                let key = &request[start].0;
                let len = request[start..]
                    .iter()
                    .position(|(k, _)| k != key)
                    .unwrap_or(request.len() - start);
                let spans: Vec<SpanEvent> = request[start..start + len]
                    .iter()
                    .map(|(_, s)| *s)
                    .collect();
                batched.record_spans(key, &spans);
                start += len;
            }
        }
        assert_eq!(one.overflowed, batched.overflowed);
        assert!(one.overflowed > 0);
        let mut keys: Vec<_> = one.groups.keys().cloned().collect();
        keys.sort();
        let mut other: Vec<_> = batched.groups.keys().cloned().collect();
        other.sort();
        assert_eq!(keys, other);
        for key in &keys {
            assert_eq!(
                one.groups[key].contents(),
                batched.groups[key].contents(),
                "{key:?}"
            );
        }
        // And what queries read from it: every window at a few times.
        for now in [T0, T0 + 200 * S, T0 + 420 * S, T0 + 3_600 * S] {
            for i in 0..one.windows.len() {
                assert_eq!(
                    one.all_counts(None, i, now),
                    batched.all_counts(None, i, now)
                );
                assert_eq!(
                    one.all_latency(None, i, now)
                        .quantiles(&[0.5, 0.9, 0.99, 1.0]),
                    batched
                        .all_latency(None, i, now)
                        .quantiles(&[0.5, 0.9, 0.99, 1.0])
                );
            }
        }
    }

    #[test]
    fn recording_a_run_at_once_equals_recording_its_spans_one_by_one() {
        for seed in 0..3 {
            batched_equals_one_by_one(windows_for(30 * 86_400), seed);
        }
    }

    #[test]
    fn spans_of_a_few_slots_in_no_order_are_recorded_by_slot_and_exact() {
        let windows = windows_for(30 * 86_400);
        let bounds = [100_000_000, 300_000_000];
        let mut rng = fastrand::Rng::with_seed(11);
        let mut one = GroupState::new(&windows, None, &bounds);
        let mut by_slot = GroupState::new(&windows, None, &bounds);
        let mut used = 0;
        for i in 0..200u64 {
            let now = T0 + i * 3 * S;
            // Spans of the last 25 s (up to four 10 s slots), shuffled; sometimes a late
            // one from minutes ago (then the slots are too many or not all held).
            let spans: Vec<SpanEvent> = (0..rng.usize(2..60))
                .map(|_| SpanEvent {
                    t: if rng.u8(..200) == 0 {
                        now.saturating_sub(rng.u64(..400 * S))
                    } else {
                        now.saturating_sub(rng.u64(..25 * S))
                    },
                    good: rng.u8(..10) > 0,
                    latency: Latency::of(rng.u64(1_000..2 * S)),
                })
                .collect();
            for s in &spans {
                one.record_n(s.t, s.good, Some(s.latency.nanos), &bounds, 1);
            }
            if by_slot.record_by_slot(&spans, &bounds) {
                used += 1;
            } else {
                by_slot.record_spans(&spans, &bounds);
            }
            assert_eq!(one.contents(), by_slot.contents(), "request {i}");
        }
        assert!(used > 100, "recorded by slot {used} times");
    }

    #[test]
    fn windows_whose_slots_do_not_line_up_with_the_finest_are_exact_too() {
        // A 100 s SLO window has slots of 3.33 s, which cut the finest ring's 10 s slots;
        // a calendar month's slots are local days (looked up, not divided).
        for seed in 0..2 {
            batched_equals_one_by_one(windows_for(100), seed);
            batched_equals_one_by_one(
                windows_for_calendar(Calendar::new(CalendarUnit::Month, "Asia/Kathmandu")),
                seed,
            );
        }
    }
}
