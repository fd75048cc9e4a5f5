//! The recordings of a journey SLO, built from its members' series with their weights, so
//! that Prometheus computes the journey's ratio as the engine does (`slo/journey`):
//!
//! - a fixed window `w` (5m … 3d): `Σ weightᵢ × rate(bad eventsᵢ[w])` over `Σ weightᵢ ×
//!   rate(all eventsᵢ[w])`, summed by `cluster`, over the members' counters
//!   (`slotel_slo_events_total`);
//! - the SLO window when it is long (7d, 28d, 30d …) or a calendar period: the journey
//!   records its own exact counter increments (`slo:sli_events:increase_step`, weighted,
//!   by `cluster` and `outcome`) from the members' counters in its own rule group, and the
//!   window sums them as for any SLO (calendar phase copies included). Reading the
//!   members' recorded increments instead would depend on whether the members' groups ran
//!   before the journey's at each evaluation.
//!
//! Each member is a leaf SLO of the journey (nested journeys multiplied out) and counts with
//! its per-cluster roll-up: a member with `group_by` is read where its group labels are
//! empty. A member without events in a cluster adds nothing there, as in the engine (the
//! members' terms are joined with `or`, which keeps every member's series since their
//! `service` and `slo` labels differ). The recordings carry the journey's `service` and
//! `slo` as static labels, so its alerts, budget and burn-rate recordings are those of any
//! SLO.

use super::plan::{EVENTS, Plan, duration, promql_string};
use super::prometheus::{BRIDGE, LAST};
use crate::slo::spec::journey::{Journey, Leaf};

/// `{service="…", slo="…", <group labels>="", extra}`: a leaf's roll-up series.
fn selector(leaf: &Leaf, extra: &str) -> String {
    let mut m = format!(
        "service={}, slo={}",
        promql_string(&leaf.service),
        promql_string(&leaf.name)
    );
    for label in &leaf.group_labels {
        m.push_str(&format!(", {label}=\"\""));
    }
    if !extra.is_empty() {
        m.push_str(", ");
        m.push_str(extra);
    }
    format!("{{{m}}}")
}

/// `sum by (cluster) (w₁ × term(leaf₁) or w₂ × term(leaf₂) …)`.
fn weighted(j: &Journey, term: impl Fn(&Leaf) -> String) -> String {
    let terms: Vec<String> = j
        .leaves
        .iter()
        .map(|leaf| format!("  ({} * {})", leaf.weight, term(leaf)))
        .collect();
    format!("sum by (cluster) (\n{}\n)", terms.join("\n  or\n"))
}

/// `(bad or 0 * all) / (all <guard>)`.
fn ratio(bad: String, all: String, guard: String) -> String {
    format!("(\n  {bad}\n  or\n  0 * {all}\n)\n/\n({all} {guard})")
}

/// The error ratio over fixed window `window` (with `guarded`, none below `min_events`
/// weighted events).
pub(crate) fn error_ratio_expr(p: &Plan<'_>, j: &Journey, window: u64, guarded: bool) -> String {
    let range = duration(window);
    let rate = |extra: &'static str| {
        weighted(j, |leaf| {
            format!("rate({EVENTS}{}[{range}])", selector(leaf, extra))
        })
    };
    let guard = if guarded && p.slo.min_events > 0 {
        format!(">= {} / {window}", p.slo.min_events)
    } else {
        "> 0".to_string()
    };
    ratio(rate("outcome=\"bad\""), rate(""), guard)
}

/// The relabelling that makes a member's series the journey's: `service` and `slo` become
/// the journey's, the member's go to `member_service` and `member_slo` (which keep the
/// members' series apart).
fn relabel(p: &Plan<'_>, expr: String) -> String {
    let moved = format!(
        "label_replace(label_replace({expr}, \"member_service\", \"$1\", \"service\", \"(.*)\"), \
         \"member_slo\", \"$1\", \"slo\", \"(.*)\")"
    );
    let set = |e: String, label: &str, value: &str| {
        // An empty source label matches the empty regex: the value is set unconditionally.
        format!(
            "label_replace({e}, \"{label}\", {}, \"\", \"\")",
            promql_string(value)
        )
    };
    set(set(moved, "service", &p.slo.service), "slo", &p.slo.name)
}

/// The journey's own counter increments of one evaluation (`STEP`, by cluster and
/// outcome, weighted) and the members' counter values they start from next time
/// (`LAST`, one series per member series, relabelled): the members' counters read in the
/// journey's own rule group, so the journey does not depend on when the members' groups
/// run. Per member series the increment is the one every SLO records (see
/// `prometheus.rs`), then multiplied by the member's weight.
pub(crate) fn step_exprs(p: &Plan<'_>, j: &Journey) -> (String, String) {
    let step = duration(p.interval);
    let bridge = duration(BRIDGE);
    let last = format!("last_over_time({LAST}{}[{bridge}])", p.selector(""));
    let counter = |leaf: &Leaf| relabel(p, format!("{EVENTS}{}", selector(leaf, "")));
    let increments: Vec<String> = j
        .leaves
        .iter()
        .map(|leaf| {
            let c = counter(leaf);
            let max = relabel(
                p,
                format!("max_over_time({EVENTS}{}[{step}])", selector(leaf, "")),
            );
            let min = relabel(
                p,
                format!("min_over_time({EVENTS}{}[{bridge}])", selector(leaf, "")),
            );
            format!(
                "  ({w} * (\n    (({c} - {last}) >= 0)\n    or\n    \
                 ({c} + clamp_min({max} - {last}, 0))\n    or\n    \
                 ({c} - {min})\n  ))",
                w = leaf.weight
            )
        })
        .collect();
    let step_expr = format!(
        "sum by (cluster, outcome) (\n{}\n)",
        increments.join("\n  or\n")
    );
    let counters: Vec<String> = j.leaves.iter().map(counter).collect();
    (step_expr, counters.join("\nor\n"))
}

/// The weighted journey `p` is, if it is one. A trace-aware journey (`mode: trace`) has
/// its own counters and gets the recordings of any SLO.
pub(crate) fn of<'a>(p: &Plan<'a>) -> Option<&'a Journey> {
    Journey::weighted(p.slo)
}
