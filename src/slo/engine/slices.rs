//! Timeslice budgeting (OpenSLO `Timeslices`): time is cut into fixed slices (e.g. 1m);
//! a slice is good when its good ratio is at least the slice target, and the SLI over a
//! window is good slices / elapsed slices.
//!
//! - A slice with no events is good (as in OpenSLO and Nobl9: no traffic spends no
//!   budget). Slices before the group first saw an event are not elapsed: a new SLO does
//!   not start with a month of free good slices.
//! - Only complete slices count (end ≤ now); the slice in progress waits.
//! - A slice is *open* while late events can still reach it: until the newest event time
//!   is `settle` (allowed lateness + max future) past its end. Open slices keep their
//!   counts here; a settled slice that was bad is counted once into every window ring
//!   (at its start time) and forgotten, so memory does not grow with the window.
//! - Queries add the complete open slices, so a bad slice shows at once.
//!
//! The `cluster="all"` view has its own slices (a slice is judged on the events of every
//! group together, not by adding the groups' bad slices), see `SloState`.

use std::collections::BTreeMap;

use super::window::{Counts, Ring};

/// The most open slices a group keeps; past it the oldest settle early.
const MAX_OPEN: usize = 4_096;

/// A timeslice SLO's slices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SliceCfg {
    pub slice_nanos: u64,
    /// A slice is good when good / total ≥ this.
    pub target: f64,
    /// How far past a slice's end events may still arrive.
    pub settle_nanos: u64,
}

impl SliceCfg {
    /// Whether a slice with these counts is bad.
    pub fn is_bad(&self, good: i64, total: u64) -> bool {
        let c = Counts::clamped(good, total);
        c.total > 0 && (c.good as f64) < self.target * c.total as f64
    }
}

/// Elapsed and good slices of one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SliceCounts {
    pub elapsed: u64,
    pub good: u64,
}

impl SliceCounts {
    pub fn bad(&self) -> u64 {
        self.elapsed - self.good
    }
}

/// The open slices of one group (or of `all`).
#[derive(Debug, Clone, PartialEq)]
pub struct Slices {
    pub cfg: SliceCfg,
    /// By slice index (start / slice): signed good sum, total.
    pub open: BTreeMap<u64, (i64, u64)>,
    /// Index of the first slice this group saw an event in.
    pub since: Option<u64>,
    /// Slices below this index are settled: their late events no longer change them.
    pub settled: u64,
    /// The newest event time seen.
    pub newest: u64,
}

impl Slices {
    pub fn new(cfg: SliceCfg) -> Self {
        Self {
            cfg: SliceCfg {
                slice_nanos: cfg.slice_nanos.max(1),
                ..cfg
            },
            open: BTreeMap::new(),
            since: None,
            settled: 0,
            newest: 0,
        }
    }

    /// Adds events at `t`, then settles what can no longer change into `rings`.
    pub fn add(&mut self, t: u64, good: i64, total: u64, rings: &mut [Ring]) {
        let idx = t / self.cfg.slice_nanos;
        if idx >= self.settled {
            let s = self.open.entry(idx).or_insert((0, 0));
            s.0 = s.0.saturating_add(good);
            s.1 = s.1.saturating_add(total);
            if total > 0 {
                self.since = Some(self.since.map_or(idx, |s| s.min(idx)));
            }
        }
        self.newest = self.newest.max(t);
        let horizon = self.newest.saturating_sub(self.cfg.settle_nanos) / self.cfg.slice_nanos;
        // Slices ending at or before `newest - settle` are settled.
        self.settle_before(horizon, rings);
        while self.open.len() > MAX_OPEN {
            let Some((&first, _)) = self.open.first_key_value() else {
                break;
            };
            self.settle_before(first + 1, rings);
        }
    }

    /// Settles every open slice with index below `idx`.
    fn settle_before(&mut self, idx: u64, rings: &mut [Ring]) {
        if idx <= self.settled {
            return;
        }
        let keep = self.open.split_off(&idx);
        for (i, (good, total)) in std::mem::replace(&mut self.open, keep) {
            if self.cfg.is_bad(good, total) {
                for ring in rings.iter_mut() {
                    ring.add_bad_slice(i * self.cfg.slice_nanos);
                }
            }
        }
        self.settled = idx;
    }

    /// Elapsed and good slices in window `ring` (index `i` of `rings`) read at `now`.
    pub fn counts(&self, rings: &[Ring], i: usize, now: u64) -> SliceCounts {
        let (Some(ring), Some(since)) = (rings.get(i), self.since) else {
            return SliceCounts::default();
        };
        let s = self.cfg.slice_nanos;
        let from = ring.window_start(now).max(since * s).div_ceil(s);
        let to = now / s;
        let elapsed = to.saturating_sub(from);
        // A window shorter than a slice (5m of 1h slices) may hold no complete slice: its
        // first one then starts after the last that ended, and is no range to read.
        let open_bad = if from < to {
            self.open
                .range(from..to)
                .filter(|(_, (g, t))| self.cfg.is_bad(*g, *t))
                .count() as u64
        } else {
            0
        };
        let bad = (ring.bad_slices(now) + open_bad).min(elapsed);
        SliceCounts {
            elapsed,
            good: elapsed - bad,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::engine::window::WindowSpec;

    const S: u64 = 1_000_000_000;
    const T0: u64 = 1_800_000_000 * S;

    fn cfg() -> SliceCfg {
        SliceCfg {
            slice_nanos: 60 * S,
            target: 0.95,
            settle_nanos: 360 * S,
        }
    }

    #[test]
    fn slices_are_judged_on_their_ratio_and_settled_into_the_rings() {
        let mut rings = vec![Ring::new(&WindowSpec::new("1h", 3_600))];
        let mut s = Slices::new(cfg());
        // Minute 0: 96 of 100 good (good); minute 1: 90 of 100 (bad); minute 3: 1 of 2.
        s.add(T0 + 10 * S, 96, 100, &mut rings);
        s.add(T0 + 70 * S, 90, 100, &mut rings);
        s.add(T0 + 190 * S, 1, 2, &mut rings);
        // At minute 5: slices 0..5 elapsed (minute 2 and 4 had no events: good).
        let now = T0 + 300 * S;
        assert_eq!(
            s.counts(&rings, 0, now),
            SliceCounts {
                elapsed: 5,
                good: 3
            }
        );
        assert_eq!(rings[0].bad_slices(now), 0, "not settled yet");
        // An event 20 minutes later settles them all into the ring.
        s.add(T0 + 1_200 * S, 1, 1, &mut rings);
        assert_eq!(rings[0].bad_slices(now + 900 * S), 2);
        assert!(s.open.len() <= 7, "{:?}", s.open.keys());
        assert_eq!(
            s.counts(&rings, 0, T0 + 1_260 * S),
            SliceCounts {
                elapsed: 21,
                good: 19
            }
        );
        // A late event for a settled slice changes nothing.
        s.add(T0 + 75 * S, 0, 1_000, &mut rings);
        assert_eq!(s.counts(&rings, 0, T0 + 1_260 * S).good, 19);
    }

    /// Slices longer than a window (1h slices, the 5m burn-rate window) used to read the
    /// open slices over a range whose start lay after its end, which panics.
    #[test]
    fn a_window_shorter_than_a_slice_holds_no_complete_slice() {
        let hour = SliceCfg {
            slice_nanos: 3_600 * S,
            ..cfg()
        };
        let mut rings = vec![
            Ring::new(&WindowSpec::new("5m", 300)),
            Ring::new(&WindowSpec::new("1d", 86_400)),
        ];
        let mut s = Slices::new(hour);
        // A bad hour, then reads 10 to 50 minutes into the next one.
        s.add(T0 + 10 * S, 1, 10, &mut rings);
        for minute in [10, 30, 50] {
            let now = T0 + 3_600 * S + minute * 60 * S;
            assert_eq!(s.counts(&rings, 0, now), SliceCounts::default(), "{minute}");
            assert_eq!(
                s.counts(&rings, 1, now),
                SliceCounts {
                    elapsed: 1,
                    good: 0
                },
                "{minute}"
            );
        }
    }

    #[test]
    fn a_signed_good_count_is_clamped_per_slice() {
        let c = cfg();
        assert!(!c.is_bad(0, 0), "no events: good");
        assert!(c.is_bad(-5, 10));
        assert!(!c.is_bad(20, 10), "good ahead of total: all good");
        assert!(c.is_bad(94, 99));
        assert!(!c.is_bad(95, 100));
    }
}
