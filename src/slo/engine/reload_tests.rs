//! Reloading SLO files: an SLO whose definition did not change keeps its state, one whose
//! definition changed (the objective alone is enough) starts afresh.

use std::path::Path;
use std::sync::Arc;

use super::tests::{S, find, request};
use super::*;

const T0: u64 = 1_800_000_000 * S;

/// Two SLOs of one service in one native file; `objective` is the second one's.
fn file(objective: &str) -> String {
    format!(
        "service: checkout
slos:
  - name: availability
    objective: 99.9
    window: 30d
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER
        bad: status.code == STATUS_CODE_ERROR
  - name: latency
    objective: {objective}
    window: 30d
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER
        latency_threshold: 300ms
"
    )
}

fn load(path: &Path, text: &str) -> SloSet {
    std::fs::write(path, text).unwrap();
    crate::slo::spec::load(&[path.display().to_string()], false).expect("valid slo file")
}

fn totals(e: &Engine) -> (u64, u64) {
    let st = e.status();
    (
        find(&st, "availability", "all").total,
        find(&st, "latency", "all").total,
    )
}

#[test]
fn reloading_an_unchanged_file_keeps_state_and_a_changed_objective_resets_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkout.yaml");
    let clock = Arc::new(ManualClock::new(T0));
    let e = Engine::new(EngineConfig::default(), clock, load(&path, &file("99")));
    e.record_spans(
        &request(&[("c1", T0 - S, 1_000, false), ("c1", T0 - S, 1_000, true)]),
        None,
    );
    assert_eq!(totals(&e), (2, 2));

    // The same text, loaded again (a new parse: new compiled conditions, new places).
    e.replace(load(&path, &file("99")));
    assert_eq!(
        totals(&e),
        (2, 2),
        "unchanged file: both SLOs keep their state"
    );

    // The same numbers written differently are the same definition.
    e.replace(load(&path, &file("99.0")));
    assert_eq!(totals(&e), (2, 2), "`99.0` is `99`: state kept");

    // Only the second SLO's objective changes: its windows start afresh, the other's stay.
    e.replace(load(&path, &file("99.5")));
    assert_eq!(
        totals(&e),
        (2, 0),
        "changed objective: fresh state for that SLO only"
    );
    let st = e.status();
    assert_eq!(find(&st, "latency", "all").objective, 0.995);
}
