//! The adjustments' series, on `/metrics` and in what remote write sends, for every loaded
//! SLO:
//!
//! - `slotel_slo_adjustment_active{slo, service}`: 1 while a budget adjustment of the SLO
//!   is active, else 0 (the generated alerts are held back while it is 1);
//! - `slotel_slo_adjusted_events_total{slo, service}`: events an adjustment excluded from
//!   the budget since start.

use crate::slo::engine::Engine;
use crate::slo::series::SeriesFamily;
use crate::slo::spec::Labels;

use crate::slo::series_names as names;

pub fn families(engine: &Engine) -> Vec<SeriesFamily> {
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
        let on = registry.active(service, name, now);
        active.push((labels.clone(), if on { 1.0 } else { 0.0 }));
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
