//! The metric SLI path on arbitrary bytes: whatever decodes as an
//! `ExportMetricsServiceRequest` goes through the range checks and an engine with the
//! example SLOs (`embedded:examples`), twice (the second time as cumulative series seen
//! again, under a token's cluster), and the status is read. Never a panic; every input
//! finishes well within libFuzzer's `-timeout` (scripts/test.sh passes 5 s; the corpus
//! test in tests/slo_hostile.rs allows 1 s per seed).

#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;
use slotel::slo::engine::{Engine, EngineConfig, ManualClock};
use slotel::slo::metric_limits::check_request;
use slotel::slo::spec::{self, SloSet};

/// The engine's clock: the seeds' points are stamped around it.
const NOW: u64 = 1_700_000_000 * 1_000_000_000;

fn examples() -> &'static SloSet {
    static SET: OnceLock<SloSet> = OnceLock::new();
    SET.get_or_init(|| match spec::load(&["embedded:examples".to_string()], false) {
        Ok(set) => set,
        Err(e) => panic!("the example SLOs do not load: {e}"),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(req) = ExportMetricsServiceRequest::decode(data) else {
        return;
    };
    let _ = check_request(&req);
    let engine = Engine::new(
        EngineConfig::default(),
        Arc::new(ManualClock::new(NOW)),
        examples().clone(),
    );
    engine.record_metrics(&req, None);
    engine.record_metrics(&req, Some("bound"));
    for s in engine.status() {
        assert!(s.good <= s.total, "more good events than events");
    }
});
