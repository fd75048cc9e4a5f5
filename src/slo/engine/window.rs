//! Rolling windows built from time slots.
//!
//! Each window (5m, 30m, 1h, 2h, 6h, 1d, 3d and the SLO window) has its own ring of
//! `SLOTS + 1` slots, each `length / SLOTS` wide, keyed by event time. A window read at
//! time `now` sums the current slot and the `SLOTS - 1` before it, so it covers between
//! `SLOTS - 1` and `SLOTS` slot widths: exact to 1/30 of its length. A slot is reused once
//! time has moved a whole ring past it; an event older than its ring is not counted in that
//! window (the engine bounds lateness well inside the shortest ring).
//!
//! A calendar SLO window (see `calendar.rs`) is a ring of local days instead: read at
//! `now`, it sums the days of the current month or week up to now.
//!
//! Slots hold signed good counts: a metric SLI's `bad` increments are good-count
//! decrements that may arrive before their totals (see `metrics/`); a window's good
//! count is clamped to `[0, total]`. Slots also count the bad time slices of timeslice
//! SLOs (see `slices.rs`).

use std::cell::Cell;
use std::sync::Arc;

use super::calendar::{Calendar, Day};
use super::hist::{Merged, SparseHist};
use crate::slo::spec::window_label;

/// Slots per window: each window is exact to 1/SLOTS of its length.
pub const SLOTS: u64 = 30;
/// Slots in a ring: a window's and one more for the slot being reused.
pub const RING: usize = SLOTS as usize + 1;

/// The fixed windows every SLO reports, as (label, length in seconds).
pub const FIXED_WINDOWS: [(&str, u64); 7] = [
    ("5m", 300),
    ("30m", 1_800),
    ("1h", 3_600),
    ("2h", 7_200),
    ("6h", 21_600),
    ("1d", 86_400),
    ("3d", 259_200),
];

/// A window's label and geometry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSpec {
    pub label: String,
    /// The longest the window gets (a calendar window: its longest period).
    pub length_nanos: u64,
    /// Slot width (a calendar window: a nominal day; its real slots are local days).
    pub slot_nanos: u64,
    /// Set for a calendar SLO window.
    pub calendar: Option<Arc<Calendar>>,
}

impl WindowSpec {
    pub fn new(label: impl Into<String>, length_secs: u64) -> Self {
        let length_nanos = length_secs.max(SLOTS) * 1_000_000_000;
        Self {
            label: label.into(),
            length_nanos,
            slot_nanos: length_nanos / SLOTS,
            calendar: None,
        }
    }

    /// The window of the current calendar period.
    pub fn calendar(calendar: Calendar) -> Self {
        Self {
            label: calendar.label().to_string(),
            length_nanos: calendar.longest_secs() * 1_000_000_000,
            slot_nanos: 86_400 * 1_000_000_000,
            calendar: Some(Arc::new(calendar)),
        }
    }
}

/// The windows of an SLO whose own window is `slo_window_secs` long: the fixed ones, then
/// the SLO window unless it is one of them.
pub fn windows_for(slo_window_secs: u64) -> Vec<WindowSpec> {
    let mut out: Vec<WindowSpec> = FIXED_WINDOWS
        .iter()
        .map(|(label, secs)| WindowSpec::new(*label, *secs))
        .collect();
    if !FIXED_WINDOWS.iter().any(|(_, s)| *s == slo_window_secs) {
        out.push(WindowSpec::new(
            window_label(slo_window_secs),
            slo_window_secs,
        ));
    }
    out
}

/// The windows of an SLO with a calendar window: the fixed ones, then the period.
pub fn windows_for_calendar(calendar: Calendar) -> Vec<WindowSpec> {
    let mut out: Vec<WindowSpec> = FIXED_WINDOWS
        .iter()
        .map(|(label, secs)| WindowSpec::new(*label, *secs))
        .collect();
    out.push(WindowSpec::calendar(calendar));
    out
}

/// Slots of a ring as bits: bit `p` for the slot in place `p`.
fn places(slots: impl Iterator<Item = bool>) -> u64 {
    slots
        .enumerate()
        .fold(0, |acc, (p, set)| acc | (u64::from(set) << p))
}

const _: () = assert!(RING <= 64, "a ring's places fit in a u64");

/// A slot as written to snapshots: (slot id, good, total, histogram buckets).
pub type SlotRecord = (u64, i64, u64, Vec<(u64, u64)>);

#[derive(Debug, Clone, Default)]
struct Slot {
    /// Slot number + 1 (0: never used).
    id: u64,
    /// Signed: metric `bad` increments are decrements (see the module doc).
    good: i64,
    total: u64,
    /// Bad time slices starting in this slot (timeslice SLOs).
    bad_slices: u32,
    hist: SparseHist,
}

/// How a ring maps event time to slots.
#[derive(Debug, Clone)]
enum Geometry {
    /// Fixed-width slots: id = t / width + 1.
    Fixed(u64),
    /// Local days of a calendar, with the day looked up last.
    Calendar(Box<(Arc<Calendar>, Cell<Day>)>),
}

/// One window's ring of slots.
#[derive(Debug, Clone)]
pub struct Ring {
    geometry: Geometry,
    newest: u64,
    /// Whether a slot's histogram is sealed (compacted) once a newer slot starts. The
    /// finest ring keeps its slots open: late events still land in them, and they are
    /// folded into the coarser rings (and emptied) only when their place is reused.
    seal: bool,
    slots: Vec<Slot>,
    /// The slot [`Ring::add_within`] found last in a fixed ring, and its range `[start,
    /// end)`: the next request's spans most often fall in it again, found without a
    /// division (empty until then).
    last: (u64, u64, u64),
}

/// Totals of one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub good: u64,
    pub total: u64,
}

impl Counts {
    pub fn bad(&self) -> u64 {
        self.total.saturating_sub(self.good)
    }

    /// Counts from a signed good sum, clamped to `[0, total]`.
    pub fn clamped(good: i64, total: u64) -> Self {
        Self {
            good: u64::try_from(good.max(0)).unwrap_or(0).min(total),
            total,
        }
    }
}

impl Ring {
    pub fn new(spec: &WindowSpec) -> Self {
        let geometry = match &spec.calendar {
            Some(c) => Geometry::Calendar(Box::new((c.clone(), Cell::new(Day::default())))),
            None => Geometry::Fixed(spec.slot_nanos.max(1)),
        };
        Self {
            geometry,
            newest: 0,
            seal: true,
            slots: vec![Slot::default(); RING],
            last: (0, 0, 0),
        }
    }

    /// A ring whose slots stay open (the finest ring of a group).
    pub fn new_open(spec: &WindowSpec) -> Self {
        Self {
            seal: false,
            ..Self::new(spec)
        }
    }

    /// The slot for an event at `t`, or `None` when `t` is older than the ring.
    fn slot_mut(&mut self, t: u64) -> Option<&mut Slot> {
        let id = self.slot_id(t);
        self.slot_mut_id(id)
    }

    /// The slot `id`, or `None` when it is older than the ring.
    fn slot_mut_id(&mut self, id: u64) -> Option<&mut Slot> {
        if id > self.newest {
            if self.newest > 0 && self.seal {
                let prev = (self.newest % RING as u64) as usize;
                self.slots[prev].hist.seal();
            }
            self.newest = id;
        }
        if id + (RING as u64) <= self.newest {
            return None;
        }
        let slot = &mut self.slots[(id % RING as u64) as usize];
        if slot.id != id {
            *slot = Slot {
                id,
                ..Slot::default()
            };
        }
        Some(slot)
    }

    /// Counts `total` events at `t` and `good` good ones (negative: a decrement).
    pub fn add(&mut self, t: u64, good: i64, total: u64) -> bool {
        match self.slot_mut(t) {
            Some(slot) => {
                slot.good = slot.good.saturating_add(good);
                slot.total = slot.total.saturating_add(total);
                true
            }
            None => false,
        }
    }

    /// The time range `[start, end)` of slot `id`, when the ring knows it without a
    /// calendar lookup (a fixed-width slot, or the calendar day looked up last).
    pub fn slot_bounds(&self, id: u64) -> Option<(u64, u64)> {
        match &self.geometry {
            Geometry::Fixed(width) => {
                let start = id.checked_sub(1)?.checked_mul(*width)?;
                Some((start, start.checked_add(*width)?))
            }
            Geometry::Calendar(c) => {
                let day = c.1.get();
                (day.id == id && day.id > 0).then_some((day.start, day.end))
            }
        }
    }

    /// The slot of an event at `t` and its range ([`Ring::slot_id`], [`Ring::slot_bounds`]):
    /// in a fixed ring, the slot found last when `t` is in its range (`t / width + 1` is
    /// then that slot's id), else found and kept.
    fn slot_of(&mut self, t: u64) -> (u64, Option<(u64, u64)>) {
        let (id, lo, hi) = self.last;
        if lo <= t && t < hi {
            return (id, Some((lo, hi)));
        }
        let id = self.slot_id(t);
        let bounds = self.slot_bounds(id);
        if let (Geometry::Fixed(_), Some((lo, hi))) = (&self.geometry, bounds) {
            self.last = (id, lo, hi);
        }
        (id, bounds)
    }

    /// Counts `total` events and `good` good ones at once, all at times inside
    /// `[start, end)` (one slot of a finer ring, holding `t`): the same as counting them
    /// one by one. Returns `false` when the range does not fall in one slot of this ring,
    /// and then counts nothing.
    pub fn add_within(&mut self, t: u64, (start, end): (u64, u64), good: i64, total: u64) -> bool {
        let (id, bounds) = self.slot_of(t);
        match bounds {
            Some((lo, hi)) if lo <= start && end <= hi => {
                if let Some(slot) = self.slot_mut_id(id) {
                    slot.good = slot.good.saturating_add(good);
                    slot.total = slot.total.saturating_add(total);
                }
                true
            }
            _ => false,
        }
    }

    /// Records latencies at `t` (one slot's worth) by their bucket indexes
    /// ([`super::hist::index_of`]): the same as [`Ring::record_latency`] for each, in order.
    pub fn record_latencies(&mut self, t: u64, indexes: impl Iterator<Item = u32>) {
        let (newest, seal) = (self.newest, self.seal);
        if let Some(slot) = self.slot_mut(t) {
            for index in indexes {
                slot.hist.record_index(index, 1);
            }
            if seal && slot.id < newest {
                slot.hist.seal();
            }
        }
    }

    /// Records latencies at `t` (one slot's worth) as (bucket index, count) pairs
    /// ([`super::hist::index_of`]): the same as [`Ring::record_latency`] for each latency, in
    /// any order.
    pub fn record_buckets(&mut self, t: u64, buckets: &[(u32, u64)]) {
        let (newest, seal) = (self.newest, self.seal);
        if let Some(slot) = self.slot_mut(t) {
            slot.hist.record_indexes(buckets);
            if seal && slot.id < newest {
                slot.hist.seal();
            }
        }
    }

    /// Records a selection slot's latencies at `t` by their bucket indexes, sharing the
    /// histogram with the other SLOs' slots that held the same one (see
    /// `shared_hist.rs`): the same as [`Ring::record_latencies`].
    pub fn record_run(
        &mut self,
        t: u64,
        run: &super::shared_hist::Run,
        memo: &super::shared_hist::Memo,
    ) {
        let (newest, seal) = (self.newest, self.seal);
        if let Some(slot) = self.slot_mut(t) {
            slot.hist.record_run(run, memo);
            if seal && slot.id < newest {
                slot.hist.seal();
            }
        }
    }

    /// Counts a bad time slice starting at `t`.
    pub fn add_bad_slice(&mut self, t: u64) {
        if let Some(slot) = self.slot_mut(t) {
            slot.bad_slices = slot.bad_slices.saturating_add(1);
        }
    }

    /// Records `count` latencies of `nanos` at `t`.
    pub fn record_latency(&mut self, t: u64, nanos: u64, count: u64) {
        let (newest, seal) = (self.newest, self.seal);
        if let Some(slot) = self.slot_mut(t) {
            slot.hist.record(nanos, count);
            if seal && slot.id < newest {
                slot.hist.seal();
            }
        }
    }

    /// Adds a whole histogram at `t` (folding a finer ring's slot into this one).
    pub fn merge_latency(&mut self, t: u64, hist: &SparseHist) {
        let (newest, seal) = (self.newest.max(self.slot_id(t)), self.seal);
        if let Some(slot) = self.slot_mut(t) {
            hist.add_into(&mut slot.hist);
            // Only the newest slot stays open; an older one (a fold across a slot
            // boundary) is compacted again at once.
            if seal && slot.id < newest {
                slot.hist.seal();
            }
        }
    }

    /// The id of the newest slot (0 when empty) and its start time.
    pub fn newest(&self) -> (u64, u64) {
        (self.newest, self.slot_start(self.newest))
    }

    /// The slot id an event at `t` falls in.
    pub fn slot_id(&self, t: u64) -> u64 {
        match &self.geometry {
            Geometry::Fixed(width) => t / width + 1,
            Geometry::Calendar(c) => {
                let (calendar, last) = &**c;
                let day = last.get();
                if day.id > 0 && (day.start..day.end).contains(&t) {
                    return day.id;
                }
                let day = calendar.day(t);
                last.set(day);
                day.id
            }
        }
    }

    /// The start time of slot `id`.
    fn slot_start(&self, id: u64) -> u64 {
        match &self.geometry {
            Geometry::Fixed(width) => id.saturating_sub(1).saturating_mul(*width),
            Geometry::Calendar(c) => c.0.day_start(id),
        }
    }

    /// The ids of the oldest and newest slots of the window read at `now`.
    fn window_ids(&self, now: u64) -> (u64, u64) {
        match &self.geometry {
            Geometry::Fixed(_) => {
                let current = self.slot_id(now);
                (current.saturating_sub(SLOTS - 1), current)
            }
            Geometry::Calendar(c) => (c.0.period(now).first_day, self.slot_id(now)),
        }
    }

    /// When the window read at `now` starts: the start of its oldest slot (a calendar
    /// window: the start of the current period).
    pub fn window_start(&self, now: u64) -> u64 {
        match &self.geometry {
            Geometry::Fixed(_) => self.slot_start(self.window_ids(now).0),
            Geometry::Calendar(c) => c.0.period(now).start,
        }
    }

    /// The calendar period read at `now`, for a calendar window: `[start, end)`.
    pub fn period(&self, now: u64) -> Option<(u64, u64)> {
        match &self.geometry {
            Geometry::Fixed(_) => None,
            Geometry::Calendar(c) => {
                let p = c.0.period(now);
                Some((p.start, p.end))
            }
        }
    }

    /// Seals the histograms of slots older than `id` (a late event reopens one).
    pub fn seal_before(&mut self, id: u64) {
        for slot in &mut self.slots {
            if slot.id > 0 && slot.id < id {
                slot.hist.seal();
            }
        }
    }

    /// Whether the ring can hold slot `id` (it is not older than the ring).
    pub fn holds(&self, id: u64) -> bool {
        id + (RING as u64) > self.newest
    }

    /// When slot `id`'s place holds an older slot, empties that slot's histogram and
    /// returns it with the older slot's start time (so it can be folded elsewhere).
    pub fn evict_older(&mut self, id: u64) -> Option<(u64, SparseHist)> {
        let slot = &mut self.slots[(id % RING as u64) as usize];
        if slot.id == 0 || slot.id >= id || matches!(slot.hist, SparseHist::Empty) {
            return None;
        }
        let old = slot.id;
        let hist = std::mem::take(&mut slot.hist);
        Some((self.slot_start(old), hist))
    }

    /// Every slot with its start time (for adding a finer ring's open slots to a query).
    #[cfg(test)]
    pub fn slots_with_start(&self) -> impl Iterator<Item = (u64, &SparseHist)> {
        self.slots
            .iter()
            .filter(|s| s.id > 0)
            .map(|s| (self.slot_start(s.id), &s.hist))
    }

    /// The places of the slots [`Ring::latency`] reads at `now`: bit `p` for the slot in
    /// place `p` of the ring.
    pub fn window_places(&self, now: u64) -> u64 {
        let (oldest, current) = self.window_ids(now);
        places(
            self.slots
                .iter()
                .map(|s| s.id >= oldest && s.id <= current && s.id > 0),
        )
    }

    /// The places of the slots of `finer` (a finer ring) whose start this ring's window
    /// at `now` covers ([`Ring::covers_time`]): bit `p` for the slot in place `p`.
    pub fn covered_places(&self, finer: &Ring, now: u64) -> u64 {
        places(
            finer
                .slots
                .iter()
                .map(|s| s.id > 0 && self.covers_time(finer.slot_start(s.id), now)),
        )
    }

    /// The latency histogram of the slots at `places` (see [`Ring::window_places`]).
    pub fn latency_of_places(&self, places: u64) -> Merged {
        let mut m = Merged::default();
        for (p, s) in self.slots.iter().enumerate() {
            if places >> p & 1 == 1 {
                m.add(&s.hist);
            }
        }
        m
    }

    /// Whether an event at `t` is inside the window ending at `now`.
    pub fn covers_time(&self, t: u64, now: u64) -> bool {
        let id = self.slot_id(t);
        let (oldest, current) = self.window_ids(now);
        id >= oldest && id <= current
    }

    fn in_window(&self, now: u64) -> impl Iterator<Item = &Slot> {
        let (oldest, current) = self.window_ids(now);
        self.slots
            .iter()
            .filter(move |s| s.id >= oldest && s.id <= current && s.id > 0)
    }

    /// The signed good sum and the total of the window ending at `now`, unclamped (to
    /// add groups together before clamping).
    pub fn raw_counts(&self, now: u64) -> (i64, u64) {
        self.in_window(now).fold((0i64, 0u64), |(g, t), s| {
            (g.saturating_add(s.good), t.saturating_add(s.total))
        })
    }

    /// Good and total events in the window ending at `now`.
    pub fn counts(&self, now: u64) -> Counts {
        let (good, total) = self.raw_counts(now);
        Counts::clamped(good, total)
    }

    /// Bad time slices starting in the window ending at `now`.
    pub fn bad_slices(&self, now: u64) -> u64 {
        self.in_window(now).map(|s| u64::from(s.bad_slices)).sum()
    }

    /// The window's latency histogram.
    pub fn latency(&self, now: u64) -> Merged {
        let mut m = Merged::default();
        for s in self.in_window(now) {
            m.add(&s.hist);
        }
        m
    }

    /// Bytes held on the heap by this ring.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self
                .slots
                .iter()
                .map(|s| s.hist.heap_bytes())
                .sum::<usize>()
    }

    /// A copy of this ring's counts without its latencies (raw span counts start from it,
    /// see `sampled.rs`).
    pub fn counts_only(&self) -> Ring {
        Ring {
            geometry: self.geometry.clone(),
            newest: self.newest,
            seal: self.seal,
            slots: self
                .slots
                .iter()
                .map(|s| Slot {
                    id: s.id,
                    good: s.good,
                    total: s.total,
                    bad_slices: 0,
                    hist: SparseHist::default(),
                })
                .collect(),
            last: self.last,
        }
    }

    /// An empty ring of the same geometry.
    pub fn empty_like(&self) -> Ring {
        Ring {
            geometry: self.geometry.clone(),
            newest: 0,
            seal: self.seal,
            slots: vec![Slot::default(); RING],
            last: self.last,
        }
    }

    /// The ids of the slots in use.
    pub fn slot_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots.iter().map(|s| s.id).filter(|id| *id > 0)
    }

    /// Slots with bad time slices as (slot id, bad slices), for snapshots.
    pub fn export_slices(&self) -> Vec<(u64, u32)> {
        self.slots
            .iter()
            .filter(|s| s.id > 0 && s.bad_slices > 0)
            .map(|s| (s.id, s.bad_slices))
            .collect()
    }

    /// Restores what [`Ring::export_slices`] wrote (after [`Ring::import`]).
    pub fn import_slices(&mut self, slices: &[(u64, u32)]) {
        for (id, bad) in slices {
            let idx = (id % RING as u64) as usize;
            let slot = &mut self.slots[idx];
            if *id == 0 || slot.id > *id {
                continue;
            }
            if slot.id < *id {
                *slot = Slot {
                    id: *id,
                    ..Slot::default()
                };
            }
            slot.bad_slices = *bad;
            self.newest = self.newest.max(*id);
        }
    }

    /// Sealed slots as (slot id, good, total, buckets), for snapshots.
    pub fn export(&self) -> Vec<SlotRecord> {
        self.slots
            .iter()
            .filter(|s| s.id > 0)
            .map(|s| (s.id, s.good, s.total, s.hist.buckets()))
            .collect()
    }

    /// Restores slots written by [`Ring::export`].
    pub fn import(&mut self, slots: &[SlotRecord]) {
        for (id, good, total, buckets) in slots {
            if *id == 0 {
                continue;
            }
            let idx = (id % RING as u64) as usize;
            if self.slots[idx].id > *id {
                continue;
            }
            let mut hist = SparseHist::default();
            for (k, c) in buckets {
                hist.record(*k, *c);
            }
            hist.seal();
            self.slots[idx] = Slot {
                id: *id,
                good: *good,
                total: *total,
                bad_slices: 0,
                hist,
            };
            self.newest = self.newest.max(*id);
        }
    }
}

#[cfg(test)]
impl Ring {
    /// Slots whose histograms count densely (see `dense.rs`).
    pub fn dense_slots(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s.hist, SparseHist::Dense(_)))
            .count()
    }

    /// The histograms of the slots [`Ring::latency`] reads at `now`.
    #[cfg(test)]
    pub fn window_hists(&self, now: u64) -> impl Iterator<Item = &SparseHist> {
        self.in_window(now).map(|s| &s.hist)
    }

    /// Slots whose histograms are dense, sealed and shared.
    #[cfg(test)]
    pub fn hist_kinds(&self) -> (usize, usize, usize) {
        let count = |f: fn(&SparseHist) -> bool| self.slots.iter().filter(|s| f(&s.hist)).count();
        (
            count(|h| matches!(h, SparseHist::Dense(_))),
            count(|h| matches!(h, SparseHist::Sealed(_))),
            count(|h| matches!(h, SparseHist::Shared(_))),
        )
    }

    /// Slots whose histograms are shared with other SLOs' (see `shared_hist.rs`).
    pub fn shared_slots(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s.hist, SparseHist::Shared(_)))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn the_slot_found_last_is_the_slot_a_division_finds() {
        let mut rng = fastrand::Rng::with_seed(3);
        for secs in [1, 300, 86_400, 30 * 86_400] {
            let mut r = Ring::new(&WindowSpec::new("w", secs));
            let width = match r.geometry {
                Geometry::Fixed(w) => w,
                Geometry::Calendar(_) => unreachable!(),
            };
            let mut t = rng.u64(..u64::MAX / 2);
            for i in 0..20_000 {
                // Mostly near the time before (the same slot or a neighbour), now and
                // then anywhere, at a slot's bounds, or near the end of time.
                t = match rng.u8(..20) {
                    0 => rng.u64(..),
                    1 => (t / width) * width,
                    2 => (t / width + 1).saturating_mul(width).saturating_sub(1),
                    3 => u64::MAX - rng.u64(..3 * width),
                    _ => t
                        .saturating_add(rng.u64(..width / 3 + 1))
                        .saturating_sub(width / 6),
                };
                let (id, bounds) = r.slot_of(t);
                assert_eq!(id, r.slot_id(t), "{secs} s, {i}: {t}");
                assert_eq!(bounds, r.slot_bounds(id), "{secs} s, {i}: {t}");
            }
        }
    }

    #[test]
    fn a_window_holds_events_for_its_length_then_forgets_them() {
        let spec = WindowSpec::new("5m", 300);
        assert_eq!(spec.slot_nanos, 10 * S);
        let mut r = Ring::new(&spec);
        let t0 = 1_700_000_000 * S;
        r.add(t0, 9, 10);
        assert_eq!(r.counts(t0), Counts { good: 9, total: 10 });
        // Still in the window 4m50s later (within 29 slots).
        assert_eq!(r.counts(t0 + 290 * S).total, 10);
        // Gone once 30 slots have passed.
        assert_eq!(r.counts(t0 + 300 * S + 10 * S).total, 0);
    }

    #[test]
    fn window_is_exact_to_one_thirtieth() {
        let spec = WindowSpec::new("1h", 3_600);
        let mut r = Ring::new(&spec);
        let start = 1_700_000_000 * S;
        // One event per second for two hours.
        for i in 0..7_200 {
            r.add(start + i * S, 1, 1);
        }
        let now = start + 7_199 * S;
        let total = r.counts(now).total as f64;
        assert!((3_480.0..=3_600.0).contains(&total), "{total}");
    }

    #[test]
    fn events_older_than_the_ring_are_not_counted() {
        let spec = WindowSpec::new("5m", 300);
        let mut r = Ring::new(&spec);
        let t = 1_700_000_000 * S;
        assert!(r.add(t, 1, 1));
        assert!(!r.add(t - 400 * S, 1, 1));
        assert!(r.add(t - 200 * S, 1, 1));
        assert_eq!(r.counts(t).total, 2);
    }

    #[test]
    fn export_import_round_trip() {
        let spec = WindowSpec::new("30m", 1_800);
        let mut r = Ring::new(&spec);
        let t = 1_700_000_000 * S;
        for i in 0..100 {
            r.add(t + i * 7 * S, 1, 2);
            r.record_latency(t + i * 7 * S, 5_000_000 + i * 10_000, 1);
        }
        let mut back = Ring::new(&spec);
        back.import(&r.export());
        let now = t + 700 * S;
        assert_eq!(back.counts(now), r.counts(now));
        assert_eq!(
            back.latency(now).quantiles(&[0.5, 0.99]),
            r.latency(now).quantiles(&[0.5, 0.99])
        );
    }

    #[test]
    fn labels() {
        assert_eq!(window_label(30 * 86_400), "30d");
        assert_eq!(windows_for(28 * 86_400).last().unwrap().label, "28d");
        assert_eq!(windows_for(86_400).len(), 7);
    }
}
