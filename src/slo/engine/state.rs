//! Per-SLO state: one [`GroupState`] per group (cluster plus `group_by` values), each a
//! set of window rings and lifetime counters. The across-clusters view (`cluster="all"`)
//! is the sum of the groups, computed when asked rather than recorded twice — except the
//! time slices of a timeslice SLO, which `all` judges on its own (see `slices.rs`).
//!
//! A group's parts are independent fields (rings, lifetime counters, optional slices), so
//! a new per-group aggregate is one more field, filled in `GroupState::record*` and
//! written by `snapshot.rs`.

use std::collections::HashMap;

use super::slices::{SliceCfg, SliceCounts, Slices};
use super::window::{Counts, Ring, WindowSpec};

/// The label value of the across-clusters group.
pub const ALL: &str = "all";
/// The group that takes events once an SLO has `max_groups` groups, and the events of
/// groups with a value longer than [`MAX_GROUP_VALUE_BYTES`].
pub const OVERFLOW: &str = "__overflow__";
/// The longest cluster or `group_by` value a group is made for, in bytes. Senders choose
/// these values, and every group keeps its key and repeats it in the labels of each of
/// its series (on `/metrics`, in remote write, in the status API), so `max_groups` alone
/// bounds neither memory nor those answers; a longer value counts in the overflow group.
pub const MAX_GROUP_VALUE_BYTES: usize = 256;

/// How many of the finest ring's newest slots stay open for late events.
pub(super) const FINE_OPEN_SLOTS: u64 = 6;

/// Lifetime latencies in classic histogram buckets: per bucket (not cumulative), the
/// latencies at or below its bound and above the previous one; the last bucket holds those
/// above every bound. Exact: a latency equal to a bound counts in that bound's bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classic {
    pub counts: Vec<u64>,
}

impl Classic {
    fn new(bounds: &[u64]) -> Self {
        Self {
            counts: if bounds.is_empty() {
                Vec::new()
            } else {
                vec![0; bounds.len() + 1]
            },
        }
    }

    pub(super) fn record(&mut self, bounds: &[u64], nanos: u64, n: u64) {
        if self.counts.is_empty() {
            return;
        }
        let i = bounds.partition_point(|b| *b < nanos);
        if let Some(c) = self.counts.get_mut(i) {
            *c = c.saturating_add(n);
        }
    }

    /// Records `latencies` (in any order), each once: the same as [`Classic::record`] for
    /// each. How many are at or below some bounds is known: `known_at[j]` of them are at
    /// or below bound `i` when `on_known[i]` is `Some(j)` (see [`KnownBounds`]), and
    /// `threshold.1` at or below `threshold.0`; the other bounds are counted.
    pub(super) fn record_known(
        &mut self,
        bounds: &[u64],
        latencies: &[u64],
        on_known: &KnownBounds,
        known_at: &[usize],
        threshold: Option<(u64, usize)>,
    ) {
        let mut below = 0;
        for (i, c) in self.counts.iter_mut().enumerate() {
            let upto = match bounds.get(i) {
                Some(b) => match on_known.of(i).and_then(|j| known_at.get(j)) {
                    Some(at) => *at,
                    None => match threshold {
                        Some((th, at)) if th == *b => at,
                        _ => latencies.iter().filter(|x| *x <= b).count(),
                    },
                },
                None => latencies.len(),
            };
            *c = c.saturating_add(upto.saturating_sub(below) as u64);
            below = below.max(upto);
        }
    }

    /// Adds another histogram over the same bounds.
    pub fn merge(&mut self, other: &Classic) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a = a.saturating_add(*b);
        }
    }
}

/// Which of an SLO's classic bounds are bounds of a fixed set known in advance (the
/// [`LATENCY_LADDER`](super::LATENCY_LADDER) of a selection's slots, whose counts at or
/// below each are found once for every SLO): for bound `i`, the index of the same bound
/// in the set, found once per SLO so that recording a slot looks nothing up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownBounds(Vec<Option<u8>>);

impl KnownBounds {
    /// Where each of `bounds` is in `known` (both ascending), if it is.
    pub fn new(bounds: &[u64], known: &[u64]) -> Self {
        Self(
            bounds
                .iter()
                .map(|b| {
                    known
                        .binary_search(b)
                        .ok()
                        .and_then(|j| u8::try_from(j).ok())
                })
                .collect(),
        )
    }

    /// The index in the known set of bound `i`, if it is one of them.
    #[inline]
    fn of(&self, i: usize) -> Option<usize> {
        self.0.get(i).copied().flatten().map(usize::from)
    }
}

/// A group: the cluster, then the `group_by` values in order (empty string when absent).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    pub cluster: String,
    pub extra: Vec<String>,
}

impl GroupKey {
    pub fn all() -> Self {
        Self {
            cluster: ALL.to_string(),
            extra: Vec::new(),
        }
    }

    pub fn overflow(extra_len: usize) -> Self {
        Self {
            cluster: OVERFLOW.to_string(),
            extra: vec![OVERFLOW.to_string(); extra_len],
        }
    }

    /// Whether every value is at most [`MAX_GROUP_VALUE_BYTES`] long, so a group may be
    /// made for this key.
    pub fn fits(&self) -> bool {
        self.cluster.len() <= MAX_GROUP_VALUE_BYTES
            && self.extra.iter().all(|v| v.len() <= MAX_GROUP_VALUE_BYTES)
    }
}

/// Windows and lifetime counters of one group.
#[derive(Debug, Clone)]
pub struct GroupState {
    pub rings: Vec<Ring>,
    /// Events since start (or since restored), for the `slotel_slo_events_total` counters.
    pub lifetime: Counts,
    /// Latencies since start, for the `slotel_slo_latency_seconds` native histogram
    /// (partly shared with other SLOs' groups, see `shared_native.rs`).
    pub native: super::shared_native::Lifetime,
    /// The same latencies in the SLO's classic buckets (see [`SloState::latency_bounds`]).
    pub classic: Classic,
    /// Open time slices (timeslice SLOs only).
    pub slices: Option<Slices>,
    /// Raw span counts and carries, once a span with an adjusted count other than 1 came
    /// (see `sampled.rs`).
    pub sampled: Option<Box<super::sampled::Sampled>>,
}

impl GroupState {
    pub fn new(windows: &[WindowSpec], slices: Option<SliceCfg>, bounds: &[u64]) -> Self {
        Self {
            classic: Classic::new(bounds),
            slices: slices.map(Slices::new),
            rings: windows
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    if i == 0 {
                        Ring::new_open(w)
                    } else {
                        Ring::new(w)
                    }
                })
                .collect(),
            lifetime: Counts::default(),
            native: super::shared_native::Lifetime::default(),
            sampled: None,
        }
    }

    /// Records one event at `t`.
    ///
    /// Counts go into every window. A latency goes into the finest ring only, as long as
    /// that ring still holds its slot (it spans a little more than the allowed lateness);
    /// a slot of the finest ring is folded into the coarser rings in one merge when its
    /// place is reused, and queries of coarser windows add the finest ring's slots (see
    /// [`GroupState::latency`]). A latency too old for the finest ring goes into every
    /// ring that holds it.
    pub fn record(&mut self, t: u64, good: bool, latency_nanos: Option<u64>, bounds: &[u64]) {
        self.record_n(t, good, latency_nanos, bounds, 1);
    }

    /// Records `n` events at `t`, all good or all bad, with the same latency: one span of
    /// adjusted count `n` (see `sampled.rs`). With raw counts kept, the span counts once
    /// there.
    pub fn record_n(
        &mut self,
        t: u64,
        good: bool,
        latency_nanos: Option<u64>,
        bounds: &[u64],
        n: u64,
    ) {
        if let Some(s) = &mut self.sampled {
            s.add_raw(t, good);
        }
        let Some((fine, coarse)) = self.rings.split_first_mut() else {
            return;
        };
        let id = fine.slot_id(t);
        let in_fine = fine.holds(id);
        if in_fine && let Some((start, hist)) = fine.evict_older(id) {
            for ring in coarse.iter_mut() {
                ring.merge_latency(start, &hist);
            }
        }
        let (newest, _) = fine.newest();
        if id > newest {
            // Slots more than a minute old rarely see late events: keep them compact.
            fine.seal_before(id.saturating_sub(FINE_OPEN_SLOTS));
        }
        let g = if good { n } else { 0 };
        let g_signed = i64::try_from(g).unwrap_or(i64::MAX);
        for ring in &mut self.rings {
            ring.add(t, g_signed, n);
        }
        self.lifetime.good = self.lifetime.good.saturating_add(g);
        self.lifetime.total = self.lifetime.total.saturating_add(n);
        if let Some(s) = &mut self.slices {
            s.add(t, g_signed, n, &mut self.rings);
        }
        let Some(l) = latency_nanos.filter(|_| n > 0) else {
            return;
        };
        self.native.record(l, n);
        self.classic.record(bounds, l, n);
        if in_fine {
            self.rings[0].record_latency(t, l, n);
        } else {
            for ring in self.rings.iter_mut().skip(1) {
                ring.record_latency(t, l, n);
            }
        }
    }

    /// Counts `total` events at `t` and `good` good ones (negative: bad events whose
    /// totals may come later) in the windows, and `lifetime` in the lifetime counters,
    /// without latencies (metric SLIs: histogram buckets and counter increments). Events
    /// older than a window's ring are not counted in that window.
    pub fn record_counts(&mut self, t: u64, good: i64, total: u64, lifetime: Counts) {
        for ring in &mut self.rings {
            ring.add(t, good, total);
        }
        // Saturating: metric counts come from the wire.
        let lifetime_good = self
            .lifetime
            .good
            .saturating_add(lifetime.good.min(lifetime.total));
        self.lifetime.total = self.lifetime.total.saturating_add(lifetime.total);
        self.lifetime.good = lifetime_good.min(self.lifetime.total);
        if let Some(s) = &mut self.slices {
            s.add(t, good, total, &mut self.rings);
        }
    }

    /// Elapsed and good slices of window `i` at `now` (timeslice SLOs).
    pub fn slice_counts(&self, i: usize, now: u64) -> Option<SliceCounts> {
        Some(self.slices.as_ref()?.counts(&self.rings, i, now))
    }

    /// The latency histogram of window `i` at `now`: ring `i`, plus (for the coarser rings)
    /// the finest ring's slots inside the window, which are folded into them only later.
    /// The plain merge, the reference [`GroupState::window_latencies`] is tested against.
    #[cfg(test)]
    pub fn latency(&self, i: usize, now: u64) -> super::hist::Merged {
        let mut m = self.rings[i].latency(now);
        if i > 0
            && let Some(fine) = self.rings.first()
        {
            for (start, h) in fine.slots_with_start() {
                if self.rings[i].covers_time(start, now) {
                    m.add(h);
                }
            }
        }
        m
    }

    /// The latency histogram of every window at `now`, each handed to `each` with the
    /// window's index: the same as [`GroupState::latency`] of each, with the finest ring's
    /// slots merged once for every window that reads the same ones (the coarser windows
    /// mostly read them all), not once per window.
    pub fn window_latencies(&self, now: u64, mut each: impl FnMut(usize, &super::hist::Merged)) {
        let Some(fine) = self.rings.first() else {
            return;
        };
        // The finest ring's slots a window reads, and their merge.
        let mut fine_merges: Vec<(u64, super::hist::Merged)> = Vec::new();
        for (i, ring) in self.rings.iter().enumerate() {
            let places = if i == 0 {
                fine.window_places(now)
            } else {
                ring.covered_places(fine, now)
            };
            let j = match fine_merges.iter().position(|(p, _)| *p == places) {
                Some(j) => j,
                None => {
                    fine_merges.push((places, fine.latency_of_places(places)));
                    fine_merges.len() - 1
                }
            };
            let fine_part = &fine_merges[j].1;
            if i == 0 {
                each(i, fine_part);
                continue;
            }
            let mut m = ring.latency(now);
            if m.is_empty() {
                each(i, fine_part);
            } else {
                m.add_merged(fine_part);
                each(i, &m);
            }
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.rings.iter().map(Ring::heap_bytes).sum::<usize>()
            + self.native.heap_bytes()
            + self.classic.counts.capacity() * 8
            + self.rings.capacity() * std::mem::size_of::<Ring>()
            + self.slices.as_ref().map_or(0, |s| s.open.len() * 48)
            + self.sampled.as_ref().map_or(0, |s| s.heap_bytes())
    }
}

/// The time slices of `all`: judged on every group's events together, with count-only
/// rings of their own.
#[derive(Debug, Clone)]
pub struct AllSlices {
    pub slices: Slices,
    pub rings: Vec<Ring>,
}

impl AllSlices {
    pub fn new(cfg: SliceCfg, windows: &[WindowSpec]) -> Self {
        Self {
            slices: Slices::new(cfg),
            rings: windows.iter().map(Ring::new).collect(),
        }
    }
}

/// Every group of one SLO.
#[derive(Debug)]
pub struct SloState {
    pub windows: Vec<WindowSpec>,
    pub groups: HashMap<GroupKey, GroupState>,
    pub max_groups: usize,
    /// Events that went to the overflow group because of `max_groups`.
    pub overflowed: u64,
    /// Time slices (timeslice SLOs): each group's settings, and `all`'s slices.
    pub slice_cfg: Option<SliceCfg>,
    pub all_slices: Option<AllSlices>,
    /// Grouped timeslice SLOs: each cluster's slices, judged on the events of all its
    /// groups together (the per-cluster roll-up). At most one per group.
    pub cluster_slices: Option<HashMap<String, AllSlices>>,
    /// Upper bounds of the classic latency buckets, nanoseconds, ascending (empty for SLIs
    /// without latencies).
    pub latency_bounds: std::sync::Arc<[u64]>,
    /// Which of `latency_bounds` are bounds of the latency ladder (see [`KnownBounds`]).
    pub(super) ladder_bounds: KnownBounds,
    /// The room every SLO's groups share (`slo.max_groups_total`), and the seats this
    /// state took in it (given back on drop).
    room: std::sync::Arc<super::room::GroupRoom>,
    seats: usize,
}

impl Clone for SloState {
    /// A copy that holds no seats: the room is charged once, by the original.
    fn clone(&self) -> Self {
        Self {
            windows: self.windows.clone(),
            groups: self.groups.clone(),
            max_groups: self.max_groups,
            overflowed: self.overflowed,
            slice_cfg: self.slice_cfg,
            all_slices: self.all_slices.clone(),
            cluster_slices: self.cluster_slices.clone(),
            latency_bounds: self.latency_bounds.clone(),
            ladder_bounds: self.ladder_bounds.clone(),
            room: self.room.clone(),
            seats: 0,
        }
    }
}

impl Drop for SloState {
    fn drop(&mut self) {
        self.room.give_back(self.seats);
    }
}

impl SloState {
    /// `grouped`: the SLO has `group_by` attributes (so a cluster holds several groups);
    /// `latency_bounds`: see [`SloState::latency_bounds`].
    pub fn new(
        windows: Vec<WindowSpec>,
        max_groups: usize,
        slices: Option<SliceCfg>,
        grouped: bool,
        latency_bounds: Vec<u64>,
    ) -> Self {
        let all_slices = slices.map(|cfg| AllSlices::new(cfg, &windows));
        Self {
            windows,
            groups: HashMap::new(),
            max_groups: max_groups.max(1),
            overflowed: 0,
            slice_cfg: slices,
            all_slices,
            cluster_slices: (grouped && slices.is_some()).then(HashMap::new),
            ladder_bounds: KnownBounds::new(&latency_bounds, super::shared::ladder()),
            latency_bounds: latency_bounds.into(),
            room: std::sync::Arc::default(),
            seats: 0,
        }
    }

    /// This state with its groups seated in `room` (shared by every SLO of an engine)
    /// rather than in a room of its own without bound.
    pub fn in_room(mut self, room: std::sync::Arc<super::room::GroupRoom>) -> Self {
        self.room.give_back(self.seats);
        self.seats = 0;
        self.room = room;
        self
    }

    /// Puts back a group a snapshot held. It takes its seat in the room even when the room
    /// is full (a smaller `max_groups_total` than before the restart): the groups that were
    /// counted stay, and new ones wait until the room has seats again.
    pub(super) fn restore_group(&mut self, key: GroupKey, group: GroupState) {
        let overflow = key.cluster == OVERFLOW;
        if self.groups.insert(key, group).is_none() && !overflow {
            self.room.force_take();
            self.seats += 1;
        }
    }

    /// Whether a group may be made for `key`, which has none: the SLO has room
    /// (`max_groups`), the key's values fit, and the room of every SLO has a seat
    /// (taken when `take`).
    fn may_make(&mut self, key: &GroupKey, events: u64, take: bool) -> bool {
        if self.groups.len() >= self.max_groups || !key.fits() {
            return false;
        }
        let seated = if take {
            self.room.take()
        } else {
            self.room.has_room()
        };
        if !seated {
            if take {
                self.room.refuse(events);
            }
            return false;
        }
        if take {
            self.seats += 1;
        }
        true
    }

    /// A new group of this SLO.
    pub fn new_group(&self) -> GroupState {
        GroupState::new(&self.windows, self.slice_cfg, &self.latency_bounds)
    }

    /// The cluster an event of `key` is counted in: its own, or the overflow group's.
    fn effective_cluster<'k>(&mut self, key: &'k GroupKey) -> &'k str {
        if self.groups.contains_key(key) || self.may_make(key, 0, false) {
            &key.cluster
        } else {
            OVERFLOW
        }
    }

    /// Counts in the slices of `all` and of the event's cluster.
    fn add_slices(&mut self, key: &GroupKey, t: u64, good: i64, total: u64) {
        if let Some(a) = &mut self.all_slices {
            a.slices.add(t, good, total, &mut a.rings);
        }
        let Some(cfg) = self.slice_cfg else { return };
        if self.cluster_slices.is_none() {
            return;
        }
        let cluster = self.effective_cluster(key).to_string();
        let windows = &self.windows;
        if let Some(map) = &mut self.cluster_slices {
            let a = map
                .entry(cluster)
                .or_insert_with(|| AllSlices::new(cfg, windows));
            a.slices.add(t, good, total, &mut a.rings);
        }
    }

    /// Records an event in its group.
    pub fn record(&mut self, key: &GroupKey, t: u64, good: bool, latency_nanos: Option<u64>) {
        self.record_weighted(key, t, good, latency_nanos, 1.0);
    }

    /// Records one span of adjusted count `weight` in its group, as a whole number of
    /// events (see `sampled.rs`), and returns that number.
    pub fn record_weighted(
        &mut self,
        key: &GroupKey,
        t: u64,
        good: bool,
        latency_nanos: Option<u64>,
        weight: f64,
    ) -> u64 {
        let bounds = self.latency_bounds.clone();
        // The common case without cloning the key.
        let n = if let Some(g) = self.groups.get_mut(key) {
            g.record_weighted(t, good, latency_nanos, &bounds, weight)
        } else {
            self.group_mut(key)
                .record_weighted(t, good, latency_nanos, &bounds, weight)
        };
        self.add_counted_slices(key, t, good, n);
        n
    }

    /// Records a logged span event that counted `n` events (see `wal/`), as
    /// [`SloState::record_weighted`] recorded it.
    pub fn record_logged(&mut self, key: &GroupKey, t: u64, good: bool, latency: u64, n: u64) {
        let bounds = self.latency_bounds.clone();
        if let Some(g) = self.groups.get_mut(key) {
            g.record_logged(t, good, latency, &bounds, n);
        } else {
            self.group_mut(key)
                .record_logged(t, good, latency, &bounds, n);
        }
        self.add_counted_slices(key, t, good, n);
    }

    fn add_counted_slices(&mut self, key: &GroupKey, t: u64, good: bool, n: u64) {
        let g = if good { n } else { 0 };
        self.add_slices(key, t, i64::try_from(g).unwrap_or(i64::MAX), n);
    }

    /// Counts events without latencies in a group (see [`GroupState::record_counts`]).
    pub fn record_counts(
        &mut self,
        key: &GroupKey,
        t: u64,
        good: i64,
        total: u64,
        lifetime: Counts,
    ) {
        // The group first: whether it was made decides the cluster the slices count in.
        self.group_mut(key).record_counts(t, good, total, lifetime);
        self.add_slices(key, t, good, total);
    }

    /// Elapsed and good slices of window `i` of every group together, or of every group of
    /// `cluster` (a grouped SLO's per-cluster roll-up).
    pub fn all_slice_counts(
        &self,
        cluster: Option<&str>,
        i: usize,
        now: u64,
    ) -> Option<SliceCounts> {
        let a = match cluster {
            None => self.all_slices.as_ref()?,
            Some(c) => self.cluster_slices.as_ref()?.get(c)?,
        };
        Some(a.slices.counts(&a.rings, i, now))
    }

    /// The group for `key`, created if there is room, else the overflow group.
    fn group_mut(&mut self, key: &GroupKey) -> &mut GroupState {
        self.group_mut_n(key, 1)
    }

    /// [`SloState::group_mut`] for `events` events (counted as overflowed when they go to
    /// the overflow group: past `max_groups`, or for a value too long to make a group of).
    pub(super) fn group_mut_n(&mut self, key: &GroupKey, events: u64) -> &mut GroupState {
        if !self.groups.contains_key(key) && !self.may_make(key, events, true) {
            self.overflowed = self.overflowed.saturating_add(events);
            let (windows, slices, bounds) = (&self.windows, self.slice_cfg, &self.latency_bounds);
            return self
                .groups
                .entry(GroupKey::overflow(key.extra.len()))
                .or_insert_with(|| GroupState::new(windows, slices, bounds));
        }
        let (windows, slices, bounds) = (&self.windows, self.slice_cfg, &self.latency_bounds);
        self.groups
            .entry(key.clone())
            .or_insert_with(|| GroupState::new(windows, slices, bounds))
    }

    /// Every group, or every group of `cluster`.
    fn groups_of<'a>(
        &'a self,
        cluster: Option<&'a str>,
    ) -> impl Iterator<Item = &'a GroupState> + 'a {
        self.groups
            .iter()
            .filter(move |(k, _)| cluster.is_none_or(|c| k.cluster == c))
            .map(|(_, g)| g)
    }

    /// Window `i` of every group (of `cluster`) together: counts.
    pub fn all_counts(&self, cluster: Option<&str>, i: usize, now: u64) -> Counts {
        self.groups_of(cluster).fold(Counts::default(), |acc, g| {
            let c = g.rings[i].counts(now);
            Counts {
                good: acc.good.saturating_add(c.good),
                total: acc.total.saturating_add(c.total),
            }
        })
    }

    /// Window `i` of every group (of `cluster`) together: latency (the plain merge, the
    /// reference the status's roll-ups are tested against).
    #[cfg(test)]
    pub fn all_latency(&self, cluster: Option<&str>, i: usize, now: u64) -> super::hist::Merged {
        let mut m = super::hist::Merged::default();
        for g in self.groups_of(cluster) {
            m.merge(g.latency(i, now));
        }
        m
    }

    /// Lifetime latencies of every group (of `cluster`) together.
    pub fn all_native(&self, cluster: Option<&str>) -> super::native::NativeHist {
        let mut h = super::native::NativeHist::default();
        for g in self.groups_of(cluster) {
            h.merge(&g.native.get());
        }
        h
    }

    /// Lifetime classic latency buckets of every group (of `cluster`) together.
    pub fn all_classic(&self, cluster: Option<&str>) -> Classic {
        let mut h = Classic::new(&self.latency_bounds);
        for g in self.groups_of(cluster) {
            h.merge(&g.classic);
        }
        h
    }

    /// Lifetime counters of every group (of `cluster`) together.
    pub fn all_lifetime(&self, cluster: Option<&str>) -> Counts {
        self.groups_of(cluster)
            .fold(Counts::default(), |acc, g| Counts {
                good: acc.good.saturating_add(g.lifetime.good),
                total: acc.total.saturating_add(g.lifetime.total),
            })
    }

    pub fn heap_bytes(&self) -> usize {
        self.groups
            .iter()
            .map(|(k, g)| g.heap_bytes() + k.cluster.capacity() + std::mem::size_of::<GroupKey>())
            .sum::<usize>()
            + self
                .all_slices
                .iter()
                .chain(self.cluster_slices.iter().flat_map(|m| m.values()))
                .map(|a| {
                    a.rings.iter().map(Ring::heap_bytes).sum::<usize>() + a.slices.open.len() * 48
                })
                .sum::<usize>()
    }
}

#[cfg(test)]
impl GroupState {
    /// Everything the group holds that a query can read, buckets sorted: two groups
    /// with equal contents answer every query alike.
    pub(crate) fn contents(&self) -> String {
        let rings: Vec<_> = self
            .rings
            .iter()
            .map(|r| {
                let mut slots = r.export();
                slots.sort();
                for s in &mut slots {
                    s.3.sort();
                }
                slots
            })
            .collect();
        format!(
            "{rings:?} {:?} {:?} {:?} {:?}",
            self.lifetime,
            self.native.get(),
            self.classic,
            self.sampled.as_ref().map(|s| s.export())
        )
    }
}
