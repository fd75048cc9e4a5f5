//! The adjustments' series, on `/metrics` and in what remote write sends, for every loaded
//! SLO:
//!
//! - `slotel_slo_adjustment_active{slo, service, cluster}`: 1 while a budget adjustment of
//!   the SLO that applies to the cluster is active, else 0 (the generated alerts of that
//!   cluster are held back while it is 1). One series for `all` (1 only for adjustments of
//!   every cluster: a cluster's adjustment leaves the rest of the roll-up counting), one
//!   per cluster of the SLO's entries on this replica, and one per cluster an adjustment
//!   names;
//! - `slotel_slo_adjusted_events_total{slo, service}`: events an adjustment excluded from
//!   the budget since start.

use std::collections::BTreeSet;

use crate::slo::engine::state::ALL;
use crate::slo::engine::{Engine, GroupStatus};
use crate::slo::series::SeriesFamily;
use crate::slo::spec::Labels;

use crate::slo::series_names as names;

/// The families of every loaded SLO; `status` (the engine's entries now) gives the clusters.
pub fn families(engine: &Engine, status: &[GroupStatus]) -> Vec<SeriesFamily> {
    let now = engine.now_nanos();
    let registry = engine.adjustments();
    let mut active = Vec::new();
    let mut adjusted = Vec::new();
    for slo in engine.slos() {
        let (service, name) = (&slo.spec.service, &slo.spec.name);
        let labels: Labels = vec![
            ("slo".to_string(), name.clone()),
            ("service".to_string(), service.clone()),
        ];
        let adjustments = registry.of(service, name);
        // The adjustments active now.
        let on: Vec<_> = adjustments
            .iter()
            .filter(|a| {
                let mut out = Vec::new();
                a.ranges(now, now.saturating_add(1), 1, &mut out);
                !out.is_empty()
            })
            .collect();
        let mut clusters: BTreeSet<&str> = status
            .iter()
            .filter(|s| s.group.is_none() && &s.service == service && &s.name == name)
            .map(|s| s.cluster.as_str())
            .collect();
        clusters.extend(
            adjustments
                .iter()
                .flat_map(|a| a.doc.clusters.iter().map(String::as_str)),
        );
        clusters.remove(ALL);
        for cluster in std::iter::once(ALL).chain(clusters) {
            let value = if on.iter().any(|a| a.applies_in(cluster)) {
                1.0
            } else {
                0.0
            };
            let mut l = labels.clone();
            l.push(("cluster".to_string(), cluster.to_string()));
            active.push((l, value));
        }
        adjusted.push((labels, registry.adjusted(service, name) as f64));
    }
    vec![
        SeriesFamily {
            name: names::ADJUSTMENT_ACTIVE,
            help: "1 while a budget adjustment (maintenance) of the SLO is active, else 0",
            counter: false,
            rows: active,
        },
        SeriesFamily {
            name: names::ADJUSTED_EVENTS,
            help: "Events a budget adjustment excluded from the SLO's budget",
            counter: true,
            rows: adjusted,
        },
    ]
}
