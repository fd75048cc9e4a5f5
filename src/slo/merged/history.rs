//! The merged view's charts over time: with `slo.status_source`,
//! `GET /api/v1/slos/{service}/{name}/history` answers from Prometheus range queries
//! (`POST {endpoint}/api/v1/query_range`) over the recordings `slotel rules` writes for
//! the SLO ([`crate::rules::recorded`]), in the shape of the local history, so every
//! replica draws the same charts of all the traffic:
//!
//! - `error_budget_remaining`: `slo:period_error_budget_remaining:ratio`; `sli` follows
//!   from it (1 − (1 − budget left) × (1 − objective), the SLO window's SLI);
//! - `burn_rate` per window: the window's error-ratio recording
//!   (`slo:sli_error:ratio_rate5m` …, the SLO window's last) over 1 − objective;
//! - `latency` per percentile: `slo:latency_seconds:quantile_rate5m` by `quantile`.
//!
//! Per cluster (`all` and each cluster's roll-up: the series without group labels; at most
//! [`MAX_SERIES_PER_SLO`], `all` first, the others counted in `series_dropped`). Two
//! resolutions as locally: the last [`RECENT_POINTS`] steps of `slo.history_interval`,
//! and the SLO window at 1/30 of its length; the coarse points older than the oldest
//! recent one come first. One query per resolution, each of at most [`MAX_POINTS`]
//! evaluation times (the step is raised if need be), each answer at most
//! [`super::MAX_ANSWER`] and bounded by the status source's `timeout`, which Prometheus is
//! asked to keep too. Points before a cluster's first recorded value are left out, so a
//! chart starts where the recordings do (when the rules were loaded, or traffic began).
//! A failed query is an error with its reason (the API answers 502; the page shows it in
//! place of the charts).

use std::collections::BTreeMap;
use std::time::Duration;

use super::StatusSource;
use crate::rules::recorded::{self, Recorded};
use crate::slo::engine::slo_window_secs;
use crate::slo::engine::state::ALL;
use crate::slo::engine::status::{Ordered, percentile_key};
use crate::slo::history::{MAX_SERIES_PER_SLO, RECENT_POINTS, WINDOW_POINTS};
use crate::slo::spec::Slo;

/// The most evaluation times of one range query.
pub const MAX_POINTS: u64 = 300;
/// The label each part of the query is tagged with.
const COLUMN: &str = "slotel_column";
const BUDGET: &str = "budget";
const LATENCY: &str = "latency";
const BURN: &str = "burn:";

/// One series of a range query's matrix: its labels and (unix seconds, value) pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    pub labels: BTreeMap<String, String>,
    pub values: Vec<(f64, f64)>,
}

/// The matrix of a Prometheus range query answer.
pub fn parse_matrix(
    status: http::StatusCode,
    body: &[u8],
) -> Result<Vec<RangeSeries>, super::AnswerError> {
    #[derive(serde::Deserialize)]
    struct Element {
        metric: BTreeMap<String, String>,
        #[serde(default)]
        values: Vec<(f64, String)>,
    }
    let result: Vec<Element> = super::parse_answer(status, body, "matrix")?;
    Ok(result
        .into_iter()
        .map(|e| RangeSeries {
            labels: e.metric,
            values: e
                .values
                .into_iter()
                .map(|(t, v)| (t, super::parse_value(&v)))
                .collect(),
        })
        .collect())
}

/// The evaluation times of a range query: `points` times `step` seconds apart from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: u64,
    pub step: u64,
    pub points: u64,
}

impl Range {
    /// The times ending at `end` that cover `span` seconds every `step` seconds, the step
    /// raised so that there are at most [`MAX_POINTS`].
    pub fn ending(end: u64, span: u64, step: u64) -> Range {
        let step = step.max(1).max(span.div_ceil(MAX_POINTS - 1));
        let points = (span / step + 1).min(end / step + 1);
        Range {
            start: end - (points - 1) * step,
            step,
            points,
        }
    }

    pub fn end(&self) -> u64 {
        self.start + (self.points - 1) * self.step
    }

    /// The index of the evaluation time `t`, if it is one (to the millisecond, as the
    /// query API writes times).
    fn index(&self, t: f64) -> Option<usize> {
        let offset = t - self.start as f64;
        let k = (offset / self.step as f64).round();
        let exact = (offset - k * self.step as f64).abs() < 0.001;
        (exact && k >= 0.0 && k < self.points as f64).then_some(k as usize)
    }

    fn time(&self, i: usize) -> u64 {
        self.start + i as u64 * self.step
    }
}

/// A PromQL string literal.
fn string(s: &str) -> String {
    super::promql_string(s)
}

/// The one query of every column: each recording of the SLO's roll-ups (no group label),
/// tagged with its column under `slotel_column`.
pub fn query(r: &Recorded) -> String {
    let mut matchers = r.matchers.clone();
    for l in &r.group_labels {
        matchers.push_str(&format!(", {l}=\"\""));
    }
    let tag = |name: &str, column: &str| {
        format!(
            "label_replace({name}{{{matchers}}}, \"{COLUMN}\", {}, \"\", \"\")",
            string(column)
        )
    };
    let mut parts = vec![tag(recorded::BUDGET_REMAINING, BUDGET)];
    parts.extend(
        r.ratios
            .iter()
            .map(|(label, name)| tag(name, &format!("{BURN}{label}"))),
    );
    if let Some(l) = &r.latency {
        parts.push(tag(&l.name, LATENCY));
    }
    parts.join(" or ")
}

/// Which column a series fills: the budget left, the burn rate of the `i`th window, the
/// latency of the `i`th percentile.
#[derive(Debug, Clone, Copy)]
enum Col {
    Budget,
    Burn(usize),
    Latency(usize),
}

/// One cluster's columns at the evaluation times of one range.
#[derive(Debug, Clone)]
struct Columns {
    budget: Vec<Option<f64>>,
    burn: Vec<Vec<Option<f64>>>,
    latency: Vec<Vec<Option<f64>>>,
}

impl Columns {
    fn new(r: &Recorded, points: usize) -> Self {
        let quantiles = r.latency.as_ref().map_or(0, |l| l.quantiles.len());
        Columns {
            budget: vec![None; points],
            burn: vec![vec![None; points]; r.ratios.len()],
            latency: vec![vec![None; points]; quantiles],
        }
    }

    fn get_mut(&mut self, col: Col) -> Option<&mut Vec<Option<f64>>> {
        match col {
            Col::Budget => Some(&mut self.budget),
            Col::Burn(i) => self.burn.get_mut(i),
            Col::Latency(i) => self.latency.get_mut(i),
        }
    }

    fn any_at(&self, i: usize) -> bool {
        self.budget[i].is_some()
            || self.burn.iter().any(|c| c[i].is_some())
            || self.latency.iter().any(|c| c[i].is_some())
    }
}

/// The columns per cluster of one range's matrix.
fn columns(r: &Recorded, range: Range, matrix: &[RangeSeries]) -> BTreeMap<String, Columns> {
    let mut out: BTreeMap<String, Columns> = BTreeMap::new();
    for s in matrix {
        let (Some(cluster), Some(column)) = (s.labels.get("cluster"), s.labels.get(COLUMN)) else {
            continue;
        };
        if r.group_labels
            .iter()
            .any(|l| s.labels.get(l).is_some_and(|v| !v.is_empty()))
        {
            continue;
        }
        let col = if column == BUDGET {
            Col::Budget
        } else if let Some(w) = column.strip_prefix(BURN) {
            match r.ratios.iter().position(|(label, _)| label == w) {
                Some(i) => Col::Burn(i),
                None => continue,
            }
        } else if column == LATENCY {
            let (Some(l), Some(q)) = (&r.latency, s.labels.get("quantile")) else {
                continue;
            };
            match l.quantiles.iter().position(|(name, _)| name == q) {
                Some(i) => Col::Latency(i),
                None => continue,
            }
        } else {
            continue;
        };
        let cols = out
            .entry(cluster.clone())
            .or_insert_with(|| Columns::new(r, range.points as usize));
        let Some(values) = cols.get_mut(col) else {
            continue;
        };
        let per = if matches!(col, Col::Burn(_)) {
            r.budget
        } else {
            1.0
        };
        for &(t, v) in &s.values {
            if let Some(i) = range.index(t)
                && v.is_finite()
            {
                values[i] = Some(v / per);
            }
        }
    }
    out
}

/// The body of the merged `…/history`: the local one's fields and `source`.
#[derive(Debug, serde::Serialize)]
pub struct View {
    pub source: &'static str,
    pub service: String,
    pub name: String,
    pub objective: f64,
    pub window: String,
    pub step_seconds: u64,
    pub window_step_seconds: u64,
    pub latency_window: Option<String>,
    pub alerts: Vec<crate::rules::BurnRateAlert>,
    /// Clusters left out (over [`MAX_SERIES_PER_SLO`]).
    pub series_dropped: u64,
    pub series: Vec<SeriesView>,
}

#[derive(Debug, serde::Serialize)]
pub struct SeriesView {
    pub cluster: String,
    pub t: Vec<u64>,
    pub sli: Vec<Option<f64>>,
    pub error_budget_remaining: Vec<Option<f64>>,
    pub burn_rate: Ordered<Vec<Option<f64>>>,
    pub latency: Ordered<Vec<Option<f64>>>,
}

/// The view of one SLO from the matrices of its two ranges (`coarse`: the SLO window's,
/// `recent`: the last steps').
pub fn view(
    slo: &Slo,
    r: &Recorded,
    (coarse, coarse_matrix): (Range, &[RangeSeries]),
    (recent, recent_matrix): (Range, &[RangeSeries]),
) -> View {
    let old = columns(r, coarse, coarse_matrix);
    let new = columns(r, recent, recent_matrix);
    let mut clusters: Vec<&String> = old.keys().chain(new.keys()).collect();
    clusters.sort_by(|a, b| (a.as_str() != ALL, a).cmp(&(b.as_str() != ALL, b)));
    clusters.dedup();
    let dropped = clusters.len().saturating_sub(MAX_SERIES_PER_SLO) as u64;
    clusters.truncate(MAX_SERIES_PER_SLO);
    let budget = r.budget;
    let series = clusters
        .into_iter()
        .map(|cluster| {
            // (time, range's columns, index), coarse points before the recent range first.
            let mut points: Vec<(u64, &Columns, usize)> = Vec::new();
            if let Some(c) = old.get(cluster) {
                points.extend(
                    (0..coarse.points as usize)
                        .filter(|&i| coarse.time(i) < recent.start)
                        .map(|i| (coarse.time(i), c, i)),
                );
            }
            if let Some(c) = new.get(cluster) {
                points.extend((0..recent.points as usize).map(|i| (recent.time(i), c, i)));
            }
            let first = points
                .iter()
                .position(|(_, c, i)| c.any_at(*i))
                .unwrap_or(points.len());
            let points = &points[first..];
            let budget_left: Vec<Option<f64>> =
                points.iter().map(|(_, c, i)| c.budget[*i]).collect();
            SeriesView {
                cluster: cluster.clone(),
                t: points.iter().map(|(t, ..)| *t).collect(),
                sli: budget_left
                    .iter()
                    .map(|b| b.map(|b| 1.0 - (1.0 - b) * budget))
                    .collect(),
                error_budget_remaining: budget_left,
                burn_rate: Ordered(
                    r.ratios
                        .iter()
                        .enumerate()
                        .map(|(k, (label, _))| {
                            (
                                label.clone(),
                                points.iter().map(|(_, c, i)| c.burn[k][*i]).collect(),
                            )
                        })
                        .collect(),
                ),
                latency: Ordered(
                    r.latency
                        .iter()
                        .flat_map(|l| l.quantiles.iter().enumerate())
                        .map(|(k, (_, p))| {
                            (
                                percentile_key(*p),
                                points.iter().map(|(_, c, i)| c.latency[k][*i]).collect(),
                            )
                        })
                        .collect(),
                ),
            }
        })
        .collect();
    View {
        source: "prometheus",
        service: slo.service.clone(),
        name: slo.name.clone(),
        objective: slo.objective,
        window: super::windows_of(slo)
            .last()
            .map(|w| w.label.clone())
            .unwrap_or_default(),
        step_seconds: recent.step,
        window_step_seconds: coarse.step,
        latency_window: r.latency.as_ref().map(|l| l.window.clone()),
        alerts: crate::rules::burn_rate_alerts(slo),
        series_dropped: dropped,
        series,
    }
}

/// The two ranges ending at `now` (unix seconds): the SLO window at 1/30 of its length,
/// and the last [`RECENT_POINTS`] steps of `step`.
pub fn ranges(slo: &Slo, step: Duration, now: u64) -> (Range, Range) {
    let coarse = (slo_window_secs(slo) / (WINDOW_POINTS as u64 - 1)).max(1);
    let step = step.as_secs().max(1);
    (
        Range::ending(now, coarse * (WINDOW_POINTS as u64 - 1), coarse),
        Range::ending(now, step * (RECENT_POINTS as u64 - 1), step),
    )
}

/// The merged history of `slo` now, with recent points `step` apart.
pub async fn history(
    source: &StatusSource,
    slo: &Slo,
    step: Duration,
) -> Result<View, super::SourceError> {
    let r = recorded::of(slo).map_err(|e| super::SourceError::NotRecorded(e.message))?;
    let now = super::now_nanos() / 1_000_000_000;
    let (coarse, recent) = ranges(slo, step, now);
    let q = query(&r);
    let (old, new) = tokio::join!(
        source.query_range(&q, coarse.start, coarse.end(), coarse.step),
        source.query_range(&q, recent.start, recent.end(), recent.step),
    );
    let (old, new) = (old?, new?);
    Ok(view(slo, &r, (coarse, &old), (recent, &new)))
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
