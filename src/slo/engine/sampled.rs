//! Sampling-aware counting: a span kept by a probability sampler stands for its adjusted
//! count of spans (from its `tracestate`, see [`crate::slo::facts::sampling`]), and counts
//! that many events in the windows, the lifetime counters and the latency histograms of its
//! group.
//!
//! # Whole counts from adjusted counts
//!
//! Counters and HDR histograms hold whole counts, and adjusted counts need not be whole
//! (`th:aab` is 3.0007…). Each group keeps one carry per outcome ([`Carry`]): a span adds
//! its adjusted count to the carry of its outcome and counts the whole part. So a group's
//! good (bad) events are always the sum of its good (bad) spans' adjusted counts less a
//! fraction below one, and a span's latency goes into the histograms with the whole count
//! its span counted. A whole adjusted count (1, every power of two, legacy `p`) is counted
//! as it is: unsampled spans count exactly as before. The carries live in memory only: a
//! restart drops less than one event per group and outcome.
//!
//! # Raw counts
//!
//! Once a group sees a span whose adjusted count is not 1, it also keeps count-only rings
//! of its spans as received (raw counts), started from its counts so far (until then raw
//! and adjusted counts are the same). The API reports both (`raw_total`, `raw_good`);
//! `/metrics` and remote write carry the adjusted counts, the same as the API's `total` and
//! `good`. Raw rings are written to snapshots, and every logged span event counts once in
//! them on replay, so they survive restarts like the adjusted counts.

use super::state::{GroupState, SloState};
use super::window::{Counts, Ring, SlotRecord};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::slo::facts::sampling::{Carry, Invalid};

/// A group's raw span counts and carries.
#[derive(Debug, Clone)]
pub struct Sampled {
    /// One count-only ring per window, like the group's rings.
    pub raw: Vec<Ring>,
    /// The fractions carried to the next bad (0) and good (1) span.
    pub carry: [Carry; 2],
}

impl Sampled {
    /// Raw counts that start equal to the counts of `rings`.
    pub fn from_rings(rings: &[Ring]) -> Self {
        Self {
            raw: rings.iter().map(Ring::counts_only).collect(),
            carry: [Carry::default(); 2],
        }
    }

    /// Counts one span as received.
    pub fn add_raw(&mut self, t: u64, good: bool) {
        for ring in &mut self.raw {
            ring.add(t, i64::from(good), 1);
        }
    }

    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.raw.iter().map(Ring::heap_bytes).sum::<usize>()
    }

    /// The raw rings for a snapshot.
    pub fn export(&self) -> Vec<Vec<SlotRecord>> {
        self.raw.iter().map(Ring::export).collect()
    }
}

impl GroupState {
    /// Records one span of adjusted count `weight` as a whole number of events (see the
    /// module docs) and returns that number.
    pub fn record_weighted(
        &mut self,
        t: u64,
        good: bool,
        latency_nanos: Option<u64>,
        bounds: &[u64],
        weight: f64,
    ) -> u64 {
        if weight == 1.0 {
            self.record_n(t, good, latency_nanos, bounds, 1);
            return 1;
        }
        let rings = &self.rings;
        let sampled = self
            .sampled
            .get_or_insert_with(|| Box::new(Sampled::from_rings(rings)));
        let n = sampled.carry[usize::from(good)].take(weight);
        self.record_n(t, good, latency_nanos, bounds, n);
        n
    }

    /// Records a logged span event that counted `n` events: as [`Self::record_weighted`]
    /// did (raw counts start at the first span that did not count 1; a span that counted
    /// 1 leaves raw and adjusted counts equal either way).
    pub fn record_logged(&mut self, t: u64, good: bool, latency: u64, bounds: &[u64], n: u64) {
        if n != 1 && self.sampled.is_none() {
            self.sampled = Some(Box::new(Sampled::from_rings(&self.rings)));
        }
        self.record_n(t, good, Some(latency), bounds, n);
    }

    /// Raw span counts of window `i` at `now`: the adjusted counts while every span
    /// counted 1.
    pub fn raw_counts(&self, i: usize, now: u64) -> Counts {
        match &self.sampled {
            Some(s) => s.raw.get(i).map_or_else(Counts::default, |r| r.counts(now)),
            None => self.rings[i].counts(now),
        }
    }

    /// Restores raw rings written by [`Sampled::export`]; ignored unless they have the
    /// group's windows and only slots the group's rings have (a raw span always counts in
    /// its group's rings too).
    pub fn restore_raw(&mut self, rings: &[Vec<SlotRecord>]) {
        if rings.len() != self.rings.len() {
            return;
        }
        let consistent = self.rings.iter().zip(rings).all(|(ring, slots)| {
            slots.iter().all(|(id, good, total, buckets)| {
                buckets.is_empty()
                    && u64::try_from(*good).is_ok_and(|g| g <= *total)
                    && ring.slot_ids().any(|have| have == *id)
            })
        });
        if !consistent {
            return;
        }
        let mut sampled = Sampled::from_rings(&self.rings);
        for (raw, (ring, slots)) in sampled.raw.iter_mut().zip(self.rings.iter().zip(rings)) {
            *raw = ring.empty_like();
            raw.import(slots);
        }
        self.sampled = Some(Box::new(sampled));
    }
}

impl SloState {
    /// Raw span counts of window `i` of every group (of `cluster`) together.
    pub fn all_raw_counts(&self, cluster: Option<&str>, i: usize, now: u64) -> Counts {
        self.groups
            .iter()
            .filter(|(k, _)| cluster.is_none_or(|c| k.cluster == c))
            .fold(Counts::default(), |acc, (_, g)| {
                let c = g.raw_counts(i, now);
                Counts {
                    good: acc.good.saturating_add(c.good),
                    total: acc.total.saturating_add(c.total),
                }
            })
    }
}

/// Spans whose `tracestate` could not be read, by reason
/// ([`crate::slo::facts::sampling::Invalid::index`]), counted once per request.
#[derive(Debug, Default)]
pub struct InvalidTracestates([AtomicU64; Invalid::ALL.len()]);

impl InvalidTracestates {
    pub fn add(&self, counts: &[u64; Invalid::ALL.len()]) {
        for (c, n) in self.0.iter().zip(counts) {
            if *n > 0 {
                c.fetch_add(*n, Ordering::Relaxed);
            }
        }
    }

    pub fn get(&self) -> [u64; Invalid::ALL.len()] {
        std::array::from_fn(|i| self.0[i].load(Ordering::Relaxed))
    }
}
