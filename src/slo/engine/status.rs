//! What the engine reports per SLO and group: counts, error ratio, error budget remaining
//! and burn rate per window, and latency percentiles.
//!
//! - error ratio = bad / total over a window;
//! - burn rate = error ratio / (1 − objective): 1 spends the budget exactly over the SLO
//!   window, 14.4 spends 2% of a 30-day budget in an hour;
//! - error budget remaining = 1 − (bad / total over the SLO window) / (1 − objective),
//!   weighted by traffic, negative once overspent.
//!
//! No traffic gives `None` (JSON `null`), never NaN or infinity; a window with fewer than
//! `min_events` events has no burn rate.
//!
//! Timeslice SLOs count slices instead of events in these formulas: error ratio = bad
//! slices / elapsed slices (`timeslices` and each window's `slices` show the counts);
//! `total` and `good` stay event counts. A calendar SLO window is the current period so
//! far; its detail shows the period's `start` and `end`.
//!
//! Entries: `cluster="all"` (every group together) first, then per cluster its roll-up
//! (every group of the cluster together; an SLO without `group_by` has one group per
//! cluster, which is its roll-up) followed by its groups. Roll-ups carry no `group`.
//!
//! `status` ([`Status`]): `no_data` without events in the SLO window; `breaching` once the
//! error budget is exhausted (remaining ≤ 0, which is the SLI at or below the objective);
//! `insufficient_data` while the SLO window has events but fewer than the SLO's
//! `min_events` (a few events say nothing of the budget: three requests, one failed);
//! `warning` while the long window ([`long_window`]) burns faster than 1×, which spends
//! the budget before the SLO window ends if it goes on; `ok` otherwise.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::LoadedSlo;
use super::hist::Merged;
use super::slices::SliceCounts;
use super::state::{ALL, GroupKey, GroupState, SloState};
use super::window::{Counts, WindowSpec};
use crate::slo::spec::{Budgeting, Labels, label_value, series_labels};

/// What an SLO or group's numbers say (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Warning,
    Breaching,
    NoData,
    InsufficientData,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Breaching => "breaching",
            Status::NoData => "no_data",
            Status::InsufficientData => "insufficient_data",
        }
    }

    /// From the SLO window's event count, the SLO's `min_events`, the error budget
    /// remaining and the long window's burn rate.
    pub fn of(
        total: u64,
        min_events: u64,
        budget_remaining: Option<f64>,
        long_burn_rate: Option<f64>,
    ) -> Self {
        match budget_remaining {
            _ if total == 0 => Status::NoData,
            None => Status::NoData,
            _ if total < min_events => Status::InsufficientData,
            Some(r) if r <= 0.0 => Status::Breaching,
            _ if long_burn_rate.is_some_and(|b| b > 1.0) => Status::Warning,
            _ => Status::Ok,
        }
    }
}

/// The long window of `status`: the longest window shorter than the SLO window (3d for
/// 7d, 28d, 30d and calendar SLOs), or the SLO window when none is shorter.
/// `windows` ascend with the SLO window last.
pub fn long_window(windows: &[WindowSpec]) -> Option<usize> {
    let slo = windows.last()?;
    let shorter = windows[..windows.len() - 1]
        .iter()
        .enumerate()
        .filter(|(_, w)| w.length_nanos < slo.length_nanos)
        .max_by_key(|(_, w)| w.length_nanos)
        .map(|(i, _)| i);
    Some(shorter.unwrap_or(windows.len() - 1))
}

/// Seconds until the error budget is spent at `burn_rate` (the long window's): a burn
/// rate of 1 spends the whole budget over the SLO window (`window_secs`), so what is left
/// lasts `remaining × window / burn rate`. 0 once the budget is spent; `None` without data
/// or while nothing burns (a burn rate of 0).
pub fn time_to_exhaustion(
    remaining: Option<f64>,
    burn_rate: Option<f64>,
    window_secs: f64,
) -> Option<f64> {
    match (remaining?, burn_rate) {
        (r, _) if r <= 0.0 => Some(0.0),
        (r, Some(b)) if b > 0.0 => finite(r * window_secs / b),
        _ => None,
    }
}

/// A list of (key, value) pairs serialized as a JSON object in this order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<V> Ordered<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// `p50`, `p90`, `p999` … for a percentile.
pub fn percentile_key(p: f64) -> String {
    format!("p{}", format!("{p}").replace('.', ""))
}

/// One window of one group.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WindowStatus {
    pub window: String,
    pub total: u64,
    pub good: u64,
    pub error_ratio: Option<f64>,
    pub burn_rate: Option<f64>,
    /// Seconds, by percentile key (`p50` …).
    pub latency: Ordered<Option<f64>>,
    /// Timeslice SLOs: elapsed and good slices in this window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slices: Option<SliceCounts>,
    /// A calendar SLO window: the current period, RFC 3339 in the SLO's time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// The percentiles of `latency`, in the same order (50.0, 99.9 …).
    #[serde(skip)]
    pub percentiles: Vec<f64>,
}

/// The SLI of a timeslice SLO over its SLO window.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TimesliceStatus {
    /// Slice length: `1m`, `30s` …
    pub slice: String,
    /// A slice is good when at least this ratio of its events is good.
    pub target: f64,
    /// Complete slices in the SLO window since the group first saw an event.
    pub elapsed: u64,
    /// Of those, slices that were good (including those without events).
    pub good: u64,
    /// good / elapsed; `null` before the first complete slice.
    pub sli: Option<f64>,
}

/// One SLO × group: the shape of an entry of `GET /api/v1/slos`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupStatus {
    pub name: String,
    pub service: String,
    pub cluster: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<Ordered<String>>,
    pub objective: f64,
    pub window: String,
    pub status: Status,
    /// Events over the SLO window: for span SLIs each span counts with its adjusted count
    /// (`adjusted_counts`, see `sampled.rs`), so this estimates the spans sent before any
    /// probability sampling.
    pub total: u64,
    pub good: u64,
    /// Span SLIs: the spans slotel received over the SLO window, each counted once (equal
    /// to `total` and `good` without sampling); trace-aware journeys: the traces closed,
    /// each once. Absent for metric SLIs, weighted journeys and in the merged view of
    /// `slo.status_source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_total: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_good: Option<u64>,
    /// What `raw_total` and `raw_good` count: `spans` (span SLIs) or `traces` (trace-aware
    /// journeys); absent with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_unit: Option<RawUnit>,
    pub error_ratio: Option<f64>,
    pub error_budget_remaining: Option<f64>,
    /// Seconds until the error budget is spent if the long window's burn rate goes on
    /// ([`time_to_exhaustion`]); 0 once it is spent; `null` while nothing burns.
    pub time_to_exhaustion_seconds: Option<f64>,
    pub burn_rate: Ordered<Option<f64>>,
    /// Over the SLO window, seconds.
    pub latency: Ordered<Option<f64>>,
    /// Timeslice SLOs: the slices of the SLO window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeslices: Option<TimesliceStatus>,
    /// Histogram-threshold SLIs: the bucket bound good events are really measured against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_threshold: Option<super::metrics::EffectiveThreshold>,
    /// Every window in detail (`GET /api/v1/slos/{service}/{name}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<Vec<WindowStatus>>,
    /// Lifetime counters, for `slotel_slo_events_total`.
    #[serde(skip)]
    pub lifetime: Counts,
    /// Lifetime latencies, for `slotel_slo_latency_seconds` (empty without latencies).
    #[serde(skip)]
    pub native: super::native::NativeHist,
    /// The same latencies in classic buckets (per bucket; one more than `latency_bounds`).
    #[serde(skip)]
    pub classic: Vec<u64>,
    /// The classic buckets' upper bounds, nanoseconds.
    #[serde(skip)]
    pub latency_bounds: Arc<[u64]>,
    /// The series labels of this entry ([`crate::slo::spec::series_labels`]).
    #[serde(skip)]
    pub labels: Labels,
}

/// What an entry's raw counts count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RawUnit {
    /// Span SLIs: the spans received, each once.
    Spans,
    /// Trace-aware journeys: the traces closed, each once.
    Traces,
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// One group, or several together: every group (`None`), or every group of a cluster.
#[derive(Clone, Copy)]
enum View<'a> {
    One(&'a GroupState),
    Sum(&'a SloState, Option<&'a str>),
}

impl View<'_> {
    fn counts(&self, i: usize, now: u64) -> Counts {
        match self {
            View::One(g) => g.rings[i].counts(now),
            View::Sum(s, c) => s.all_counts(*c, i, now),
        }
    }

    fn native(&self) -> super::native::NativeHist {
        match self {
            View::One(g) => g.native.get().into_owned(),
            View::Sum(s, c) => s.all_native(*c),
        }
    }

    fn classic(&self) -> Vec<u64> {
        match self {
            View::One(g) => g.classic.counts.clone(),
            View::Sum(s, c) => s.all_classic(*c).counts,
        }
    }

    fn slices(&self, i: usize, now: u64) -> Option<SliceCounts> {
        match self {
            View::One(g) => g.slice_counts(i, now),
            View::Sum(s, c) => s.all_slice_counts(*c, i, now),
        }
    }

    fn raw_counts(&self, i: usize, now: u64) -> Counts {
        match self {
            View::One(g) => g.raw_counts(i, now),
            View::Sum(s, c) => s.all_raw_counts(*c, i, now),
        }
    }

    fn lifetime(&self) -> Counts {
        match self {
            View::One(g) => g.lifetime,
            View::Sum(s, c) => s.all_lifetime(*c),
        }
    }
}

/// Window `i` of a group (or groups together), whose latencies at the SLO's percentiles
/// are `values` (nanoseconds).
fn window_status(
    slo: &LoadedSlo,
    spec: &WindowSpec,
    g: View<'_>,
    i: usize,
    now: u64,
    values: &[Option<u64>],
) -> WindowStatus {
    let counts = g.counts(i, now);
    let slices = g.slices(i, now);
    let error_ratio = match slices {
        Some(s) => ratio(s.bad(), s.elapsed),
        None => ratio(counts.bad(), counts.total),
    };
    let budget = slo.spec.budget();
    let burn_rate = error_ratio
        .filter(|_| counts.total >= slo.spec.min_events.max(1))
        .and_then(|e| finite(e / budget));
    let period = spec.calendar.as_ref().map(|c| {
        let p = c.period(now);
        (c.rfc3339(p.start), c.rfc3339(p.end))
    });
    let (start, end) = period.unzip();
    let latency = Ordered(
        slo.spec
            .percentiles
            .iter()
            .zip(values.iter().chain(std::iter::repeat(&None)))
            .map(|(p, v)| (percentile_key(*p), v.map(|n| n as f64 / 1e9)))
            .collect(),
    );
    WindowStatus {
        window: spec.label.clone(),
        total: counts.total,
        good: counts.good,
        error_ratio,
        burn_rate,
        latency,
        slices,
        start,
        end,
        percentiles: slo.spec.percentiles.clone(),
    }
}

/// The latencies of one group (or groups together) at the SLO's percentiles, by window
/// (nanoseconds).
type Latencies = Vec<Vec<Option<u64>>>;

fn group_status(
    slo: &LoadedSlo,
    state: &SloState,
    cluster: &str,
    values: Option<&[String]>,
    (g, latencies): (View<'_>, &[Vec<Option<u64>>]),
    now: u64,
) -> GroupStatus {
    let group = values.map(|values| {
        Ordered(
            slo.spec
                .group_by
                .iter()
                .zip(values)
                .map(|(a, v)| (a.key().to_string(), label_value(v).to_string()))
                .collect(),
        )
    });
    let windows: Vec<WindowStatus> = state
        .windows
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let values = latencies.get(i).map_or(&[][..], |v| &v[..]);
            window_status(slo, spec, g, i, now, values)
        })
        .collect();
    // The SLO window is the last one (see `window::windows_for`).
    let slo_window = windows.last().cloned();
    let (total, good, error_ratio, latency, label) = match &slo_window {
        Some(w) => (
            w.total,
            w.good,
            w.error_ratio,
            w.latency.clone(),
            w.window.clone(),
        ),
        None => (0, 0, None, Ordered::default(), String::new()),
    };
    let raw = match (&slo.spec.sli, state.windows.len().checked_sub(1)) {
        (crate::slo::spec::Sli::Spans(_), Some(i)) => Some((g.raw_counts(i, now), RawUnit::Spans)),
        (crate::slo::spec::Sli::Journey(j), Some(i)) if j.trace.is_some() => {
            Some((g.raw_counts(i, now), RawUnit::Traces))
        }
        _ => None,
    };
    let error_budget_remaining = error_ratio.and_then(|e| finite(1.0 - e / slo.spec.budget()));
    let long_burn_rate = long_window(&state.windows)
        .and_then(|i| windows.get(i))
        .and_then(|w| w.burn_rate);
    let slo_window_secs = state.windows.last().map_or(0.0, |spec| {
        let nanos = match &spec.calendar {
            Some(c) => {
                let p = c.period(now);
                p.end.saturating_sub(p.start)
            }
            None => spec.length_nanos,
        };
        nanos as f64 / 1e9
    });
    let time_to_exhaustion_seconds =
        time_to_exhaustion(error_budget_remaining, long_burn_rate, slo_window_secs);
    let timeslices = match (
        &slo.spec.budgeting,
        slo_window.as_ref().and_then(|w| w.slices),
    ) {
        (
            Budgeting::Timeslices {
                slice,
                slice_target,
            },
            counts,
        ) => {
            let counts = counts.unwrap_or_default();
            Some(TimesliceStatus {
                slice: humantime_short(*slice),
                target: *slice_target,
                elapsed: counts.elapsed,
                good: counts.good,
                sli: ratio(counts.good, counts.elapsed),
            })
        }
        (Budgeting::Occurrences, _) => None,
    };
    GroupStatus {
        name: slo.spec.name.clone(),
        service: slo.spec.service.clone(),
        cluster: cluster.to_string(),
        group,
        objective: slo.spec.objective,
        window: label,
        status: Status::of(
            total,
            slo.spec.min_events,
            error_budget_remaining,
            long_burn_rate,
        ),
        total,
        good,
        raw_total: raw.map(|(c, _)| c.total),
        raw_good: raw.map(|(c, _)| c.good),
        raw_unit: raw.map(|(_, unit)| unit),
        error_ratio,
        error_budget_remaining,
        time_to_exhaustion_seconds,
        burn_rate: Ordered(
            windows
                .iter()
                .map(|w| (w.window.clone(), w.burn_rate))
                .collect(),
        ),
        latency,
        timeslices,
        effective_threshold: None,
        windows: Some(windows),
        lifetime: g.lifetime(),
        native: g.native(),
        classic: g.classic(),
        latency_bounds: state.latency_bounds.clone(),
        labels: series_labels(&slo.spec, cluster, values),
    }
}

/// A slice length as written in SLO files: `1m`, `30s`, `1h`, `1500ms`.
fn humantime_short(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1_000) {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

/// The latencies of every group of `state` at the SLO's percentiles (`qs`, quantiles),
/// by window: each group's (in `keys`' order), every cluster's roll-up for a grouped SLO,
/// and all groups together. Each group's windows are merged once (the finest ring's slots
/// once for the windows that read the same ones), and the roll-ups and `all` add those
/// merges: the same values as merging each window of each view apart.
fn latencies_of(
    state: &SloState,
    keys: &[&GroupKey],
    grouped: bool,
    qs: &[f64],
    now: u64,
) -> (Vec<Latencies>, Vec<Latencies>, Latencies) {
    let windows = state.windows.len();
    let fresh = || -> Vec<Merged> { (0..windows).map(|_| Merged::default()).collect() };
    let quantiles =
        |merges: &[Merged]| -> Latencies { merges.iter().map(|m| m.quantiles(qs)).collect() };
    let mut all = fresh();
    let mut cluster = fresh();
    let mut per_group = Vec::with_capacity(keys.len());
    let mut per_cluster = Vec::new();
    for (n, key) in keys.iter().enumerate() {
        let mut own = vec![vec![None; qs.len()]; windows];
        if let Some(g) = state.groups.get(*key) {
            g.window_latencies(now, |i, m| {
                if let Some(v) = own.get_mut(i) {
                    *v = m.quantiles(qs);
                }
                if let Some(a) = all.get_mut(i) {
                    a.add_merged(m);
                }
                if grouped && let Some(c) = cluster.get_mut(i) {
                    c.add_merged(m);
                }
            });
        }
        per_group.push(own);
        // A cluster's groups are together in `keys`: its roll-up ends with its last.
        if grouped
            && keys
                .get(n + 1)
                .is_none_or(|next| next.cluster != key.cluster)
        {
            per_cluster.push(quantiles(&cluster));
            cluster = fresh();
        }
    }
    (per_group, per_cluster, quantiles(&all))
}

/// Every group of one SLO: `all` first, then per cluster (sorted) its roll-up and, for a
/// grouped SLO, its groups sorted by their values.
pub fn of_slo(slo: &LoadedSlo, state: &SloState, now: u64) -> Vec<GroupStatus> {
    let mut keys: Vec<_> = state.groups.keys().collect();
    keys.sort();
    let grouped = !slo.spec.group_by.is_empty();
    let qs: Vec<f64> = slo.spec.percentiles.iter().map(|p| p / 100.0).collect();
    let (per_group, per_cluster, all) = latencies_of(state, &keys, grouped, &qs, now);
    let mut out = vec![group_status(
        slo,
        state,
        ALL,
        None,
        (View::Sum(state, None), &all),
        now,
    )];
    let mut last_cluster: Option<&str> = None;
    let mut roll_ups = per_cluster.iter();
    for (key, latencies) in keys.into_iter().zip(&per_group) {
        let Some(g) = state.groups.get(key) else {
            continue;
        };
        if !grouped {
            out.push(group_status(
                slo,
                state,
                &key.cluster,
                None,
                (View::One(g), latencies),
                now,
            ));
            continue;
        }
        if last_cluster != Some(key.cluster.as_str()) {
            last_cluster = Some(&key.cluster);
            out.push(group_status(
                slo,
                state,
                &key.cluster,
                None,
                (
                    View::Sum(state, Some(&key.cluster)),
                    roll_ups.next().map_or(&[][..], |l| &l[..]),
                ),
                now,
            ));
        }
        out.push(group_status(
            slo,
            state,
            &key.cluster,
            Some(&key.extra),
            (View::One(g), latencies),
            now,
        ));
    }
    out
}
