//! The SLO series on `/metrics`, computed from the engine at scrape time:
//!
//! | series | type | labels |
//! |---|---|---|
//! | `slotel_slo_events_total` | counter | `slo`, `service`, `cluster`, `outcome` = good\|bad |
//! | `slotel_slo_objective_ratio` | gauge | `slo`, `service` |
//! | `slotel_slo_error_budget_remaining_ratio` | gauge | `slo`, `service`, `cluster` |
//! | `slotel_slo_burn_rate` | gauge | `slo`, `service`, `cluster`, `window` |
//! | `slotel_slo_latency_quantile_seconds` | gauge | `slo`, `service`, `cluster`, `window`, `quantile` |
//! | `slotel_slo_dropped_events_total` | counter | `slo`, `service`, `reason` = late\|future |
//! | `slotel_slo_invalid_points_total` | counter | `reason` (see [`InvalidPoint::as_str`]); `/metrics` only |
//!
//! Gauges without data (no traffic) are left out rather than written as NaN.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use super::engine::Engine;
use super::metric_limits::InvalidPoint;

pub type Labels = Vec<(&'static str, String)>;

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

/// A percentile as a quantile label, by moving the decimal point in its text so that
/// 99.9 becomes `0.999`, not `0.9990000000000001`.
pub fn quantile_label(p: f64) -> String {
    if p >= 100.0 {
        return "1".to_string();
    }
    let text = format!("{p}");
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let digits = format!("{int:0>2}{frac}");
    let digits = digits.trim_end_matches('0');
    if digits.is_empty() {
        "0".to_string()
    } else {
        format!("0.{digits}")
    }
}

/// One family of SLO series: its name (without `_total` for counters), help, type and
/// rows. Shared by `/metrics` and the OTLP form remote write sends.
pub struct SeriesFamily {
    pub name: &'static str,
    pub help: &'static str,
    pub counter: bool,
    pub rows: Vec<(Labels, f64)>,
}

/// Every SLO series family of the engine now (families without rows included).
pub fn families(engine: &Engine, status: &[super::engine::GroupStatus]) -> Vec<SeriesFamily> {
    let base = |s: &super::engine::GroupStatus| -> Labels {
        vec![("slo", s.name.clone()), ("service", s.service.clone())]
    };
    let with_cluster = |s: &super::engine::GroupStatus| -> Labels {
        let mut l = base(s);
        l.push(("cluster", s.cluster.clone()));
        l
    };
    let mut events = Vec::new();
    let mut objective = Vec::new();
    let mut budget = Vec::new();
    let mut burn = Vec::new();
    let mut latency = Vec::new();
    for s in status {
        if s.cluster == super::engine::state::ALL {
            objective.push((base(s), s.objective));
        }
        for (outcome, v) in [("good", s.lifetime.good), ("bad", s.lifetime.bad())] {
            let mut l = with_cluster(s);
            l.push(("outcome", outcome.to_string()));
            events.push((l, v as f64));
        }
        if let Some(b) = s.error_budget_remaining {
            budget.push((with_cluster(s), b));
        }
        for w in s.windows.iter().flatten() {
            if let Some(r) = w.burn_rate {
                let mut l = with_cluster(s);
                l.push(("window", w.window.clone()));
                burn.push((l, r));
            }
            for ((_, v), pct) in w.latency.0.iter().zip(&w.percentiles) {
                let Some(v) = v else { continue };
                let mut l = with_cluster(s);
                l.push(("window", w.window.clone()));
                l.push(("quantile", quantile_label(*pct)));
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
                        ("slo", slo.spec.name.clone()),
                        ("service", slo.spec.service.clone()),
                        ("reason", reason.to_string()),
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
    vec![
        family(
            "slotel_slo_events",
            "SLO events by outcome since start",
            true,
            events,
        ),
        family(
            "slotel_slo_objective_ratio",
            "SLO objective as a ratio",
            false,
            objective,
        ),
        family(
            "slotel_slo_error_budget_remaining_ratio",
            "Error budget remaining over the SLO window (1 = untouched, below 0 = overspent)",
            false,
            budget,
        ),
        family(
            "slotel_slo_burn_rate",
            "Error budget burn rate per window",
            false,
            burn,
        ),
        family(
            "slotel_slo_latency_quantile_seconds",
            "Latency percentiles per window (nearest rank on HDR histograms)",
            false,
            latency,
        ),
        family(
            "slotel_slo_dropped_events",
            "Events not counted because they ended too long ago or in the future",
            true,
            dropped,
        ),
    ]
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
        // The engine's own counter, on `/metrics` only (not an SLO series).
        let invalid = self.0.metric_stats().invalid_points;
        let rows = InvalidPoint::ALL
            .iter()
            .map(|r| {
                let labels: Labels = vec![("reason", r.as_str().to_string())];
                (labels, invalid.by_reason[r.index()] as f64)
            })
            .collect();
        family(
            &mut encoder,
            "slotel_slo_invalid_points",
            "Metric data points an SLO reads that were skipped for breaking the OTLP ranges",
            MetricType::Counter,
            rows,
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quantile_labels() {
        for (p, want) in [
            (50.0, "0.5"),
            (99.9, "0.999"),
            (5.0, "0.05"),
            (99.99, "0.9999"),
            (90.0, "0.9"),
            (100.0, "1"),
            (0.0, "0"),
        ] {
            assert_eq!(super::quantile_label(p), want);
        }
    }
}
