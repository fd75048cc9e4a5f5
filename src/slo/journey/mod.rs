//! Journey SLOs in the engine: a (weighted) journey's numbers are computed from its
//! members' entries at read time, so it keeps no state of its own (nothing to snapshot,
//! log or restore) and agrees with its members by construction. A trace-aware journey
//! (`mode: trace`) is the other kind: its events are its traces, counted in its own state
//! like a span SLO's ([`trace`] holds its open traces); to this module, and to weighted
//! journeys that list it, it is an SLO like any other.
//!
//! For every window `w` and cluster `c` (`all`, and every cluster any member has seen):
//!
//! - journey total(w, c) = Σ weightᵢ × totalᵢ(w, c), journey good(w, c) = Σ weightᵢ ×
//!   goodᵢ(w, c), over the journey's leaves (its member SLOs, nested journeys multiplied
//!   out; see [`crate::slo::spec::journey`]) — a member with `group_by` contributes its
//!   cluster roll-up, a member without events in `c` contributes 0;
//! - the lifetime counters (`slotel_slo_events_total`) likewise;
//! - from these weighted counts, error ratio, burn rates (held back below `min_events`,
//!   compared with the weighted total), error budget remaining, time to exhaustion and
//!   status follow by the formulas of every SLO (`engine/status.rs`).
//!
//! Weights are whole numbers, so the weighted counts are whole and every path (the API,
//! `/metrics`, remote write) carries them exactly. A journey has no latency percentiles.
//!
//! The same computation serves the local engine and `slo.status_source`
//! ([`crate::slo::merged`]), over whichever member entries each reads.

#[cfg(test)]
mod tests;
pub mod trace;

use std::collections::BTreeSet;
use std::sync::Arc;

use super::engine::state::ALL;
use super::engine::status::{
    GroupStatus, Ordered, Status, WindowStatus, long_window, time_to_exhaustion,
};
use super::engine::window::{Counts, WindowSpec};
use super::spec::journey::Journey;
use super::spec::{Slo, series_labels};

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// `acc += weight × c`, saturating.
fn add(acc: &mut Counts, c: Counts, weight: u64) {
    acc.total = acc.total.saturating_add(c.total.saturating_mul(weight));
    acc.good = acc.good.saturating_add(c.good.saturating_mul(weight));
}

/// The entries of `journey` (its windows as the engine builds them for its spec) from
/// `entries`, which hold its leaves' entries (others are ignored): `all` first, then one
/// per cluster, sorted. Not a journey: none.
pub fn entries(
    journey: &Slo,
    windows: &[WindowSpec],
    entries: &[&GroupStatus],
    now: u64,
) -> Vec<GroupStatus> {
    let Some(j) = Journey::weighted(journey) else {
        return Vec::new();
    };
    // Per leaf, its roll-up entries (no group).
    let rollups: Vec<(u64, Vec<&GroupStatus>)> = j
        .leaves
        .iter()
        .map(|leaf| {
            let own = entries
                .iter()
                .filter(|e| e.group.is_none() && e.service == leaf.service && e.name == leaf.name)
                .copied()
                .collect();
            (leaf.weight, own)
        })
        .collect();
    let clusters: BTreeSet<&str> = rollups
        .iter()
        .flat_map(|(_, es)| es.iter().map(|e| e.cluster.as_str()))
        .filter(|c| *c != ALL)
        .collect();
    std::iter::once(ALL)
        .chain(clusters)
        .map(|cluster| {
            let members: Vec<(u64, &GroupStatus)> = rollups
                .iter()
                .flat_map(|(w, es)| es.iter().filter(|e| e.cluster == cluster).map(|e| (*w, *e)))
                .collect();
            entry(journey, windows, cluster, &members, now)
        })
        .collect()
}

/// The weighted counts of one window (by label) over `members`.
fn window_counts(members: &[(u64, &GroupStatus)], label: &str) -> Counts {
    let mut acc = Counts::default();
    for (weight, e) in members {
        let window = e.windows.iter().flatten().find(|w| w.window == label);
        if let Some(w) = window {
            let c = Counts {
                good: w.good.min(w.total),
                total: w.total,
            };
            add(&mut acc, c, *weight);
        }
    }
    acc
}

fn entry(
    slo: &Slo,
    windows: &[WindowSpec],
    cluster: &str,
    members: &[(u64, &GroupStatus)],
    now: u64,
) -> GroupStatus {
    let budget = slo.budget();
    let ws: Vec<WindowStatus> = windows
        .iter()
        .map(|spec| {
            let counts = window_counts(members, &spec.label);
            let error_ratio = ratio(counts.bad(), counts.total);
            let burn_rate = error_ratio
                .filter(|_| counts.total >= slo.min_events.max(1))
                .and_then(|e| finite(e / budget));
            let period = spec.calendar.as_ref().map(|c| {
                let p = c.period(now);
                (c.rfc3339(p.start), c.rfc3339(p.end))
            });
            let (start, end) = period.unzip();
            WindowStatus {
                window: spec.label.clone(),
                total: counts.total,
                good: counts.good,
                error_ratio,
                burn_rate,
                latency: Ordered::default(),
                slices: None,
                start,
                end,
                percentiles: Vec::new(),
            }
        })
        .collect();
    let last = ws.last();
    let (total, good, error_ratio, label) = last.map_or((0, 0, None, String::new()), |w| {
        (w.total, w.good, w.error_ratio, w.window.clone())
    });
    let remaining = error_ratio.and_then(|e| finite(1.0 - e / budget));
    let long_burn_rate = long_window(windows)
        .and_then(|i| ws.get(i))
        .and_then(|w| w.burn_rate);
    let window_secs = windows.last().map_or(0.0, |spec| {
        let nanos = match &spec.calendar {
            Some(c) => {
                let p = c.period(now);
                p.end.saturating_sub(p.start)
            }
            None => spec.length_nanos,
        };
        nanos as f64 / 1e9
    });
    let mut lifetime = Counts::default();
    for (weight, e) in members {
        add(&mut lifetime, e.lifetime, *weight);
    }
    GroupStatus {
        name: slo.name.clone(),
        service: slo.service.clone(),
        cluster: cluster.to_string(),
        group: None,
        objective: slo.objective,
        window: label,
        status: Status::of(total, slo.min_events, remaining, long_burn_rate),
        total,
        good,
        // A journey adds its members' (adjusted) events; raw counts are the members'.
        raw_total: None,
        raw_good: None,
        raw_unit: None,
        error_ratio,
        error_budget_remaining: remaining,
        time_to_exhaustion_seconds: time_to_exhaustion(remaining, long_burn_rate, window_secs),
        burn_rate: Ordered(ws.iter().map(|w| (w.window.clone(), w.burn_rate)).collect()),
        latency: Ordered::default(),
        timeslices: None,
        effective_threshold: None,
        windows: Some(ws),
        lifetime,
        native: Default::default(),
        classic: Vec::new(),
        latency_bounds: Arc::from(Vec::new()),
        labels: series_labels(slo, cluster, None),
    }
}

/// Replaces the (empty) entries of every journey in `per_slo` (one list per SLO of
/// `slos`, in the same order, with `windows` the engine's windows of each) with the
/// journey's computed entries.
pub fn fill(slos: &[&Slo], windows: &[&[WindowSpec]], per_slo: &mut [Vec<GroupStatus>], now: u64) {
    let computed: Vec<(usize, Vec<GroupStatus>)> = (0..slos.len())
        .filter_map(|i| {
            let leaves = &Journey::weighted(slos[i])?.leaves;
            let members: Vec<&GroupStatus> = slos
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    leaves
                        .iter()
                        .any(|l| l.service == s.service && l.name == s.name)
                })
                .flat_map(|(k, _)| per_slo[k].iter())
                .collect();
            Some((i, entries(slos[i], windows[i], &members, now)))
        })
        .collect();
    for (i, e) in computed {
        per_slo[i] = e;
    }
}
