//! The recordings of a journey SLO, built from its members' series with their weights, so
//! that Prometheus computes the journey's ratio as the engine does (`slo/journey`):
//!
//! - a fixed window `w` (5m … 3d): `Σ weightᵢ × rate(bad eventsᵢ[w])` over `Σ weightᵢ ×
//!   rate(all eventsᵢ[w])`, summed by `cluster`, over the members' counters
//!   (`slotel_slo_events_total`);
//! - the SLO window when it is long (7d, 28d, 30d …) or a calendar period: the same sums
//!   over the members' recorded counter increments (`slo:sli_events:increase_step`, and
//!   their calendar phase copies), which the members' own rule groups record.
//!
//! Each member is a leaf SLO of the journey (nested journeys multiplied out) and counts with
//! its per-cluster roll-up: a member with `group_by` is read where its group labels are
//! empty. A member without events in a cluster adds nothing there, as in the engine (the
//! members' terms are joined with `or`, which keeps every member's series since their
//! `service` and `slo` labels differ). The recordings carry the journey's `service` and
//! `slo` as static labels, so its alerts, budget and burn-rate recordings are those of any
//! SLO.

use super::plan::{EVENTS, Period, Plan, duration, duration_less_1ms, promql_string};
use super::prometheus::{STEP, period_index, period_range};
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

/// The error ratio over the SLO window when it is long or a calendar period, from the
/// members' recorded increments.
pub(crate) fn window_ratio_expr(p: &Plan<'_>, j: &Journey, guarded: bool) -> String {
    let sum = |extra: &'static str| match p.window {
        Period::Rolling(w) => {
            let range = duration_less_1ms(w);
            weighted(j, |leaf| {
                format!("sum_over_time({STEP}{}[{range}])", selector(leaf, extra))
            })
        }
        Period::Calendar { unit, offset } => {
            let range = period_range(unit);
            let index = period_index(unit, offset, 0);
            weighted(j, |leaf| {
                let phases: Vec<String> = (0..3)
                    .map(|r| {
                        let mut m = format!("phase=\"{r}\"");
                        if !extra.is_empty() {
                            m = format!("{extra}, {m}");
                        }
                        format!(
                            "(sum_over_time({STEP}_phase{}[{range}]) and on () ({index} % 3 == {r}))",
                            selector(leaf, &m)
                        )
                    })
                    .collect();
                format!("({})", phases.join(" or "))
            })
        }
    };
    let guard = if guarded && p.slo.min_events > 0 {
        format!(">= {}", p.slo.min_events)
    } else {
        "> 0".to_string()
    };
    ratio(sum("outcome=\"bad\""), sum(""), guard)
}

/// Whether `p` is a journey whose SLO window the rules sum from its members' increments:
/// every member then records them (their window is the journey's).
pub(crate) fn of<'a>(p: &Plan<'a>) -> Option<&'a Journey> {
    Journey::of(p.slo)
}
