//! The SLO series on `/metrics`, computed from the engine at scrape time:
//!
//! | series | type | labels |
//! |---|---|---|
//! | `slotel_slo_events_total` | counter | `slo`, `service`, `cluster`, group labels, `outcome` = good\|bad |
//! | `slotel_slo_objective_ratio` | gauge | `slo`, `service` |
//! | `slotel_slo_error_budget_remaining_ratio` | gauge | `slo`, `service`, `cluster`, group labels |
//! | `slotel_slo_time_to_exhaustion_seconds` | gauge | `slo`, `service`, `cluster`, group labels |
//! | `slotel_slo_burn_rate` | gauge | `slo`, `service`, `cluster`, group labels, `window` |
//! | `slotel_slo_timeslices` | gauge | `slo`, `service`, `cluster`, group labels, `window`, `outcome` = good\|bad (timeslice SLOs) |
//! | `slotel_slo_latency_seconds` | histogram | `slo`, `service`, `cluster`, group labels (`le`) |
//! | `slotel_slo_latency_percentile_seconds` | gauge | `slo`, `service`, `cluster`, group labels, `window`, `percentile` |
//! | `slotel_slo_dropped_events_total` | counter | `slo`, `service`, `reason` = late\|future |
//! | `slotel_slo_adjustment_active` | gauge | `slo`, `service`, `cluster`: 1 while a budget adjustment of the cluster (`all`: of every cluster) is active |
//! | `slotel_slo_adjusted_events_total` | counter | `slo`, `service`: events a budget adjustment excluded |
//! | `slotel_slo_journey_traces_total` | counter | `slo`, `service`, `closed` = waited\|forced\|shutdown (trace-aware journeys) |
//! | `slotel_slo_journey_ignored_spans_total` | counter | `slo`, `service`, `reason` = trace_closed\|no_trace_id (trace-aware journeys) |
//! | `slotel_slo_journey_open_traces` | gauge | `slo`, `service` (trace-aware journeys) |
//! | `slotel_slo_log_latency_unreadable_total` | counter | `slo`, `service`, `reason` = missing\|dash\|invalid (log latency SLIs) |
//! | `slotel_slo_invalid_points_total` | counter | `reason` (see [`InvalidPoint::as_str`]); `/metrics` only |
//! | `slotel_slo_invalid_tracestates_total` | counter | `reason` (see [`Invalid::as_str`]); `/metrics` only |
//! | `slotel_slo_groups`, `slotel_slo_groups_limit` | gauge | none: groups of every SLO together, and `slo.max_groups_total`; `/metrics` only |
//! | `slotel_slo_groups_refused_events_total` | counter | none: events counted in `__overflow__` because `slo.max_groups_total` groups existed; `/metrics` only |
//!
//! Labels come from [`series_labels`] alone: `cluster="all"` and each cluster's roll-up
//! carry no group label, each group of a grouped SLO carries one label per `group_by`
//! attribute ([`group_label_names`]), so no two series share a name and label set.
//!
//! `slotel_slo_latency_seconds` (span SLIs, log SLIs with a latency field) has classic buckets at [`LATENCY_LADDER`] and
//! the SLO's latency threshold, exact (a latency equal to a bound counts under it), and, in
//! the protobuf exposition a scraper asks for, the native histogram too.
//!
//! Gauges without data (no traffic) are left out rather than written as NaN.
//!
//! `slotel_slo_events_total` and the latency histogram count each span with its adjusted
//! count (probability sampling, see `engine/sampled.rs`): the same events as the API's
//! `total` and `good`.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeMetric, MetricEncoder, NativeHistogram, NativeHistogramBuckets,
    NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

pub use super::engine::LATENCY_LADDER;
use super::engine::native::NativeHist;
use super::engine::{Engine, GroupStatus};
use super::facts::sampling::Invalid;
use super::metric_limits::InvalidPoint;
pub use super::spec::{Labels, group_label_names, series_labels};

use super::series_names as names;
pub use super::series_names::LATENCY;
/// The native histogram schema of the scrape (as remote write's default): buckets 1.09% wide.
pub const SCRAPE_SCHEMA: i32 = 6;

/// Exposes the engine's state as Prometheus series.
#[derive(Clone)]
pub struct SloSeries(pub Arc<Engine>);

impl std::fmt::Debug for SloSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SloSeries")
    }
}

fn family(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    rows: Vec<(Labels, f64)>,
) -> Result<(), std::fmt::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in rows {
        let fam = metric.encode_family(&labels)?;
        match kind {
            MetricType::Counter => ConstCounter::new(value as u64).encode(fam)?,
            _ => ConstGauge::new(value).encode(fam)?,
        }
    }
    Ok(())
}

/// One family of SLO series: its name (without `_total` for counters), help, type and
/// rows. Shared by `/metrics` and the OTLP form remote write sends.
pub struct SeriesFamily {
    pub name: &'static str,
    pub help: &'static str,
    pub counter: bool,
    pub rows: Vec<(Labels, f64)>,
}

fn with(labels: &Labels, extra: &[(&str, String)]) -> Labels {
    let mut l = labels.clone();
    l.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    l
}

/// Every SLO series family of the engine now but the latency histogram (families without
/// rows included).
pub fn families(engine: &Engine, status: &[GroupStatus]) -> Vec<SeriesFamily> {
    let mut events = Vec::new();
    let mut objective = Vec::new();
    let mut budget = Vec::new();
    let mut exhaustion = Vec::new();
    let mut burn = Vec::new();
    let mut slices = Vec::new();
    let mut latency = Vec::new();
    for s in status {
        if s.cluster == super::engine::state::ALL && s.group.is_none() {
            let l = vec![
                ("slo".to_string(), s.name.clone()),
                ("service".to_string(), s.service.clone()),
            ];
            objective.push((l, s.objective));
        }
        for (outcome, v) in [("good", s.lifetime.good), ("bad", s.lifetime.bad())] {
            events.push((with(&s.labels, &[("outcome", outcome.into())]), v as f64));
        }
        if let Some(b) = s.error_budget_remaining {
            budget.push((s.labels.clone(), b));
        }
        if let Some(t) = s.time_to_exhaustion_seconds {
            exhaustion.push((s.labels.clone(), t));
        }
        for w in s.windows.iter().flatten() {
            if let Some(r) = w.burn_rate {
                burn.push((with(&s.labels, &[("window", w.window.clone())]), r));
            }
            if let Some(c) = w.slices {
                for (outcome, v) in [("good", c.good), ("bad", c.bad())] {
                    let l = with(
                        &s.labels,
                        &[("window", w.window.clone()), ("outcome", outcome.into())],
                    );
                    slices.push((l, v as f64));
                }
            }
            for ((_, v), pct) in w.latency.0.iter().zip(&w.percentiles) {
                let Some(v) = v else { continue };
                let l = with(
                    &s.labels,
                    &[
                        ("window", w.window.clone()),
                        ("percentile", format!("{pct}")),
                    ],
                );
                latency.push((l, *v));
            }
        }
    }
    let dropped: Vec<(Labels, f64)> = engine
        .slos()
        .iter()
        .flat_map(|slo| {
            let d = slo.dropped();
            [("late", d.late), ("future", d.future)].map(|(reason, v)| {
                (
                    vec![
                        ("slo".to_string(), slo.spec.name.clone()),
                        ("service".to_string(), slo.spec.service.clone()),
                        ("reason".to_string(), reason.to_string()),
                    ],
                    v as f64,
                )
            })
        })
        .collect();
    let family = |name, help, counter, rows| SeriesFamily {
        name,
        help,
        counter,
        rows,
    };
    let mut out = vec![
        family(
            names::EVENTS,
            "SLO events by outcome since start",
            true,
            events,
        ),
        family(
            names::OBJECTIVE,
            "SLO objective as a ratio",
            false,
            objective,
        ),
        family(
            names::BUDGET_REMAINING,
            "Error budget remaining over the SLO window (1 = untouched, below 0 = overspent)",
            false,
            budget,
        ),
        family(
            names::TIME_TO_EXHAUSTION,
            "Seconds until the error budget is spent at the long window's burn rate (0: spent)",
            false,
            exhaustion,
        ),
        family(
            names::BURN_RATE,
            "Error budget burn rate per window",
            false,
            burn,
        ),
        family(
            names::TIMESLICES,
            "Time slices of a timeslice SLO that have ended in each window, by judgement",
            false,
            slices,
        ),
        family(
            names::LATENCY_PERCENTILE,
            "Latency percentiles per window (nearest rank on HDR histograms)",
            false,
            latency,
        ),
        family(
            names::DROPPED_EVENTS,
            "Events not counted because they ended too long ago or in the future",
            true,
            dropped,
        ),
    ];
    out.extend(super::adjust::series::families(engine, status));
    out.extend(super::engine::traces::families(engine));
    out.extend(super::engine::logs::series_families(engine));
    out
}

/// One group's lifetime latencies: classic buckets and the native histogram.
pub struct LatencyHistogram<'a> {
    /// (upper bound in seconds, count in this bucket), `+Inf` last.
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum: f64,
    pub native: &'a NativeHist,
    pub schema: i32,
}

impl<'a> LatencyHistogram<'a> {
    /// The histogram of a status entry, `None` without latencies.
    pub fn of(s: &'a GroupStatus, schema: i32) -> Option<Self> {
        if s.latency_bounds.is_empty() || s.native.is_empty() {
            return None;
        }
        let bounds = s
            .latency_bounds
            .iter()
            .map(|b| *b as f64 / 1e9)
            .chain([f64::INFINITY]);
        let buckets: Vec<(f64, u64)> = bounds.zip(s.classic.iter().copied()).collect();
        Some(Self {
            count: buckets.iter().fold(0u64, |a, b| a.saturating_add(b.1)),
            buckets,
            sum: s.native.sum(),
            native: &s.native,
            schema,
        })
    }
}

/// Native histogram buckets as Prometheus spans (offset, length) and count deltas.
pub fn spans_and_deltas(buckets: &[(i32, u64)]) -> (Vec<(i32, u32)>, Vec<i64>) {
    let mut spans: Vec<(i32, u32)> = Vec::new();
    let mut deltas = Vec::new();
    let mut prev_index: Option<i32> = None;
    let mut prev_count = 0i64;
    for (i, c) in buckets {
        let c = i64::try_from(*c).unwrap_or(i64::MAX);
        match (prev_index, spans.last_mut()) {
            (Some(p), Some(span)) if *i == p + 1 => span.1 += 1,
            (Some(p), _) => spans.push((i - p - 1, 1)),
            (None, _) => spans.push((*i, 1)),
        }
        deltas.push(c.saturating_sub(prev_count));
        prev_count = c;
        prev_index = Some(*i);
    }
    (spans, deltas)
}

impl EncodeMetric for LatencyHistogram<'_> {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let (spans, deltas) = spans_and_deltas(&self.native.buckets(self.schema));
        encoder.encode_histogram_with_native::<NoLabelSet>(
            self.sum,
            self.count,
            &self.buckets,
            None,
            NativeHistogram {
                schema: self.schema,
                zero_threshold: 0.0,
                zero_count: self.native.zero,
                negative: NativeHistogramBuckets {
                    spans: &[],
                    deltas: &[],
                },
                positive: NativeHistogramBuckets {
                    spans: &spans,
                    deltas: &deltas,
                },
                created: None,
            },
        )
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

impl Collector for SloSeries {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let status = self.0.status();
        for f in families(&self.0, &status) {
            let kind = if f.counter {
                MetricType::Counter
            } else {
                MetricType::Gauge
            };
            family(&mut encoder, f.name, f.help, kind, f.rows)?;
        }
        let histograms: Vec<_> = status
            .iter()
            .filter_map(|s| Some((&s.labels, LatencyHistogram::of(s, SCRAPE_SCHEMA)?)))
            .collect();
        if !histograms.is_empty() {
            let mut metric = encoder.encode_descriptor(
                LATENCY,
                "SLO latencies since start (span SLIs)",
                None,
                MetricType::Histogram,
            )?;
            for (labels, h) in histograms {
                h.encode(metric.encode_family(labels)?)?;
            }
        }
        // The engine's own counter, on `/metrics` only (not an SLO series).
        let invalid = self.0.metric_stats().invalid_points;
        let rows = InvalidPoint::ALL
            .iter()
            .map(|r| {
                let labels: Labels = vec![("reason".to_string(), r.as_str().to_string())];
                (labels, invalid.by_reason[r.index()] as f64)
            })
            .collect();
        family(
            &mut encoder,
            names::INVALID_POINTS,
            "Metric data points an SLO reads that were skipped for breaking the OTLP ranges",
            MetricType::Counter,
            rows,
        )?;
        let room = self.0.group_room();
        let gauges = [
            (
                names::GROUPS,
                "Groups (a cluster and its group_by values) of every SLO together",
                room.used(),
            ),
            (
                names::GROUPS_LIMIT,
                "The most groups every SLO together may have (slo.max_groups_total)",
                room.max(),
            ),
        ];
        for (name, help, value) in gauges {
            let metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX)).encode(metric)?;
        }
        let metric = encoder.encode_descriptor(
            names::GROUPS_REFUSED_EVENTS,
            "Events counted in their SLO's __overflow__ group because slo.max_groups_total groups existed",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(room.refused_events()).encode(metric)?;
        let invalid = self.0.invalid_tracestates();
        let rows = Invalid::ALL
            .iter()
            .map(|r| {
                let labels: Labels = vec![("reason".to_string(), r.as_str().to_string())];
                (labels, invalid[r.index()] as f64)
            })
            .collect();
        family(
            &mut encoder,
            names::INVALID_TRACESTATES,
            "Spans whose tracestate sampling threshold could not be read (each counted once)",
            MetricType::Counter,
            rows,
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spans_and_deltas_of_sparse_buckets() {
        let (spans, deltas) = super::spans_and_deltas(&[(-3, 2), (-2, 5), (1, 1), (2, 1), (7, 4)]);
        assert_eq!(spans, [(-3, 2), (2, 2), (4, 1)]);
        assert_eq!(deltas, [2, 3, -4, 0, 3]);
        assert_eq!(super::spans_and_deltas(&[]), (vec![], vec![]));
    }
}
