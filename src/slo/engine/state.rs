//! Per-SLO state: one [`GroupState`] per group (cluster plus `group_by` values) and one
//! for everything (`cluster="all"`), each a set of window rings and lifetime counters.

use std::collections::HashMap;

use super::window::{Counts, Ring, WindowSpec};

/// The label value of the across-clusters group.
pub const ALL: &str = "all";
/// The group that takes events once an SLO has `max_groups` groups.
pub const OVERFLOW: &str = "__overflow__";

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
}

/// Windows and lifetime counters of one group.
#[derive(Debug, Clone)]
pub struct GroupState {
    pub rings: Vec<Ring>,
    /// Events since start (or since restored), for the `slotel_slo_events_total` counters.
    pub lifetime: Counts,
}

impl GroupState {
    pub fn new(windows: &[WindowSpec]) -> Self {
        Self {
            rings: windows.iter().map(Ring::new).collect(),
            lifetime: Counts::default(),
        }
    }

    /// Records one event at `t`.
    pub fn record(&mut self, t: u64, good: bool, latency_nanos: Option<u64>) {
        let g = u64::from(good);
        for ring in &mut self.rings {
            if ring.add(t, g, 1)
                && let Some(l) = latency_nanos
            {
                ring.record_latency(t, l, 1);
            }
        }
        self.lifetime.good += g;
        self.lifetime.total += 1;
    }

    pub fn heap_bytes(&self) -> usize {
        self.rings.iter().map(Ring::heap_bytes).sum::<usize>()
            + self.rings.capacity() * std::mem::size_of::<Ring>()
    }
}

/// Every group of one SLO.
#[derive(Debug, Clone)]
pub struct SloState {
    pub windows: Vec<WindowSpec>,
    pub groups: HashMap<GroupKey, GroupState>,
    pub all: GroupState,
    pub max_groups: usize,
    /// Events that went to the overflow group because of `max_groups`.
    pub overflowed: u64,
}

impl SloState {
    pub fn new(windows: Vec<WindowSpec>, max_groups: usize) -> Self {
        Self {
            all: GroupState::new(&windows),
            windows,
            groups: HashMap::new(),
            max_groups: max_groups.max(1),
            overflowed: 0,
        }
    }

    /// Records an event in its group and in `all`.
    pub fn record(&mut self, key: &GroupKey, t: u64, good: bool, latency_nanos: Option<u64>) {
        self.all.record(t, good, latency_nanos);
        if let Some(g) = self.groups.get_mut(key) {
            g.record(t, good, latency_nanos);
            return;
        }
        let key = if self.groups.len() >= self.max_groups {
            self.overflowed += 1;
            GroupKey::overflow(key.extra.len())
        } else {
            key.clone()
        };
        let windows = &self.windows;
        self.groups
            .entry(key)
            .or_insert_with(|| GroupState::new(windows))
            .record(t, good, latency_nanos);
    }

    pub fn heap_bytes(&self) -> usize {
        self.all.heap_bytes()
            + self
                .groups
                .iter()
                .map(|(k, g)| {
                    g.heap_bytes() + k.cluster.capacity() + std::mem::size_of::<GroupKey>()
                })
                .sum::<usize>()
    }
}
