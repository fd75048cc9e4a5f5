//! The recordings `slotel rules` writes for one SLO, named for those who read them back
//! (the merged view's charts over time, [`crate::slo::merged`]): the same names, windows
//! and quantile labels the rule file has, from the same [`Plan`].

use super::plan::{self, Plan};
use super::prometheus::{latency_name, ratio_name};
use crate::slo::spec::Slo;

/// The budget-left recording (the API's `error_budget_remaining` over the SLO window).
pub const BUDGET_REMAINING: &str = "slo:period_error_budget_remaining:ratio";

/// The recordings of one SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// `service="…", slo="…"`: the matchers of the SLO's recordings.
    pub matchers: String,
    /// The group label names (a roll-up's recordings have none of them).
    pub group_labels: Vec<String>,
    /// 1 − objective: burn rate = error ratio / budget.
    pub budget: f64,
    /// Per window, in the engine's order (the fixed windows, then the SLO window): the
    /// engine's window label and the error-ratio recording (which, like the engine's burn
    /// rate, has no series below `min_events`).
    pub ratios: Vec<(String, String)>,
    /// The latency percentiles: the window's engine label, the recording, and per
    /// percentile its `quantile` label value.
    pub latency: Option<Latency>,
}

/// The latency recordings of the shortest latency window.
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    pub window: String,
    pub name: String,
    /// (`quantile` label value, percentile).
    pub quantiles: Vec<(String, f64)>,
}

/// The recordings of `slo`, or why `slotel rules` writes none for it (at the SLO's place
/// in its file).
pub fn of(slo: &Slo) -> Result<Recorded, crate::config::ConfigError> {
    let p = Plan::new(slo, plan::DEFAULT_INTERVAL)?;
    let mut ratios: Vec<(String, String)> = p
        .windows
        .iter()
        .map(|&w| (plan::engine_label(w), ratio_name(w)))
        .collect();
    if !p.window_is_fixed() {
        ratios.push((p.engine_window_label(), p.window_ratio_name()));
    }
    let window = plan::LATENCY_WINDOWS[0];
    let latency = (!p.quantiles.is_empty()).then(|| Latency {
        window: plan::engine_label(window),
        name: latency_name(window),
        quantiles: p
            .quantiles
            .iter()
            .cloned()
            .zip(slo.percentiles.iter().copied())
            .collect(),
    });
    Ok(Recorded {
        matchers: p.matchers.clone(),
        group_labels: p.labels[plan::BASE_LABELS.len()..].to_vec(),
        budget: 1.0 - slo.objective,
        ratios,
        latency,
    })
}

#[cfg(test)]
mod tests {
    use crate::slo::spec::parse_file;

    #[test]
    fn names_are_those_of_the_rule_file() {
        let slo = parse_file(
            "service: shop\nslos:\n  - name: pay\n    objective: 99.5\n    window: 28d\n    \
             sli: {spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}\n    \
             group_by: ['attributes[\"http.route\"]']\n    percentiles: [50, 99.9]\n",
            "t.yaml",
        )
        .unwrap()
        .remove(0);
        let r = super::of(&slo).unwrap();
        let rules = super::super::generate(
            std::slice::from_ref(&slo),
            &[super::super::Format::Prometheus],
            &super::super::Options::default(),
        )
        .unwrap()
        .remove(0)
        .text;
        assert_eq!(r.matchers, "service=\"shop\", slo=\"pay\"");
        assert_eq!(r.group_labels, ["http_route"]);
        let labels: Vec<&str> = r.ratios.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "28d"]);
        // 28 days is written 4w in PromQL; the engine calls the window 28d.
        assert_eq!(r.ratios[7].1, "slo:sli_error:ratio_rate4w");
        for (_, name) in &r.ratios {
            assert!(rules.contains(&format!("record: {name}\n")), "{name}");
        }
        assert!(rules.contains(&format!("record: {}\n", super::BUDGET_REMAINING)));
        let l = r.latency.unwrap();
        assert_eq!(l.window, "5m");
        assert!(
            rules.contains(&format!("record: {}\n", l.name)),
            "{}",
            l.name
        );
        assert_eq!(
            l.quantiles,
            [("0.5".to_string(), 50.0), ("0.999".to_string(), 99.9)]
        );
        for (q, _) in &l.quantiles {
            assert!(rules.contains(&format!("quantile: \"{q}\"")), "{q}");
        }
        assert!((r.budget - 0.005).abs() < 1e-12);
    }
}
