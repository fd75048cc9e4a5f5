//! The room for groups across every SLO (`slo.max_groups_total`).
//!
//! Each SLO's `max_groups` bounds its own groups, but senders choose clusters and
//! `group_by` values, so N grouped SLOs could hold N × `max_groups` groups of up to
//! 256 KiB each. Every SLO state of one engine takes a seat here for each group it makes
//! (never for its `__overflow__` group) and gives its seats back when it is dropped (an
//! SLO removed or changed by a reload), so the groups of all SLOs together stay within
//! the room. A group refused a seat counts its events in its SLO's overflow group, as a
//! group past `max_groups` does, and here in `refused_events`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Seats for groups, shared by the SLO states of one engine.
#[derive(Debug)]
pub struct GroupRoom {
    max: usize,
    used: AtomicUsize,
    refused_events: AtomicU64,
}

impl GroupRoom {
    /// A room of `max` groups.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            used: AtomicUsize::new(0),
            refused_events: AtomicU64::new(0),
        }
    }

    /// Takes a seat if one is free.
    pub(super) fn take(&self) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok()
    }

    /// Takes a seat, free or not (a group restored from a snapshot).
    pub(super) fn force_take(&self) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_add(1))
            });
    }

    /// Whether a seat is free now.
    pub(super) fn has_room(&self) -> bool {
        self.used.load(Ordering::Acquire) < self.max
    }

    /// Gives `n` seats back.
    pub(super) fn give_back(&self, n: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(n))
            });
    }

    /// Counts `n` events that were refused a group.
    pub(super) fn refuse(&self, n: u64) {
        self.refused_events.fetch_add(n, Ordering::Relaxed);
    }

    /// Groups seated now, across every SLO.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// The room's size.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Events counted in an overflow group because the room was full.
    pub fn refused_events(&self) -> u64 {
        self.refused_events.load(Ordering::Relaxed)
    }
}

impl Default for GroupRoom {
    /// A room without bound (replays and tests).
    fn default() -> Self {
        Self::new(usize::MAX)
    }
}
