//! The rules and dashboards read the series the engine writes: every `slotel_slo_*` name
//! the generated files read is on the engine's `/metrics` (or is recorded by the rules
//! themselves), after example traffic through the example SLOs.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::*;
use crate::loadgen::{ContentOpts, generate as traffic};
use crate::slo::engine::{Engine, EngineConfig, ManualClock};
use crate::slo::series::SloSeries;
use crate::slo::series_names as names;

/// Every `slotel_slo_…` word of `text`.
fn slo_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("slotel_slo_") {
        let word: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + word.len()..];
        out.insert(word);
    }
    out
}

#[test]
fn rules_read_the_names_the_engine_writes() {
    let set = crate::slo::spec::load(&["embedded:examples".to_string()], false).unwrap();
    let outputs = generate(
        &set.slos,
        &[Format::Prometheus, Format::GrafanaDashboard],
        &Options::default(),
    )
    .unwrap();
    let generated: String = outputs.iter().map(|o| o.text.as_str()).collect();
    let read = slo_names(&generated);
    let recorded: BTreeSet<String> = generated
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("record: "))
        .map(|n| n.trim_matches(['"', '\'']).to_string())
        .collect();

    // Traffic through every example SLO, then far enough on that time slices have ended.
    // The generator stamps spans with the system's time.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let clock = Arc::new(ManualClock::new(now));
    let engine = Engine::new(EngineConfig::default(), clock.clone(), set.clone());
    let mut rng = fastrand::Rng::with_seed(7);
    for step in 0..3u64 {
        let req = traffic::traces(&mut rng, 2_000, &ContentOpts::default());
        engine.record_spans(&req, None);
        clock.set(now + (step + 1) * 120 * 1_000_000_000);
    }
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(SloSeries(engine)));
    let mut metrics = String::new();
    prometheus_client::encoding::text::encode(&mut metrics, &registry).unwrap();
    let written = slo_names(&metrics);

    for name in [names::EVENTS_TOTAL, names::LATENCY, names::TIMESLICES] {
        assert!(read.contains(name), "the rules no longer read {name}");
    }
    let missing: Vec<&String> = read
        .iter()
        .filter(|n| !written.contains(*n) && !recorded.contains(*n))
        .collect();
    assert!(
        missing.is_empty(),
        "read by the rules, written by no one: {missing:?}\nwritten: {written:?}"
    );
}
