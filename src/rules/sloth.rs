//! `slotel rules --labels sloth`: the recordings and alerts under Sloth's label set, so
//! dashboards and queries written for Sloth's rules (Grafana 14348 "SLO / Detail", 14643
//! "High level Sloth SLOs") read slotel's SLOs unchanged.
//!
//! Sloth names every SLO series as slotel does (`slo:sli_error:ratio_rate5m`,
//! `slo:objective:ratio`, …) but tells SLOs apart by `sloth_id` (`<service>-<slo>`),
//! `sloth_service` and `sloth_slo`, the SLI windows by `sloth_window`, and has one series
//! per SLO: its dashboards divide `on(sloth_id)`, which more than one series per id would
//! break. So in this mode
//!
//! - every expression reads the `cluster="all"` roll-up alone (group labels absent): the SLO
//!   as a whole, one series per SLO and window, with the same values the API gives that
//!   roll-up;
//! - every recording carries `sloth_id`, `sloth_service`, `sloth_slo` besides slotel's own
//!   `slo`, `service` (and `cluster="all"`); the error ratios and the burn rates and budget
//!   derived from them `sloth_window`;
//! - `slo:time_period:days` and `sloth_slo_info` (with `sloth_objective`, `sloth_mode`,
//!   `sloth_spec`, `sloth_version`) are added, as Sloth records them;
//! - alerts carry the same ids and `sloth_severity` (`page` or `ticket`), which the
//!   dashboards' alert panels select.
//!
//! Per-cluster and per-group numbers stay on slotel's own series (`slotel_slo_*`) and on the
//! default label mode.

use super::plan::{Plan, Severity, number, period_secs};
use super::yaml::Yaml;

/// The label set of the generated series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LabelMode {
    /// slotel's: `slo`, `service`, `cluster` and the group labels, a series per cluster and
    /// group.
    #[default]
    Slotel,
    /// Sloth's: `sloth_id`, `sloth_service`, `sloth_slo`, `sloth_window`, one series per
    /// SLO (the `cluster="all"` roll-up), plus `slo:time_period:days` and `sloth_slo_info`.
    Sloth,
}

/// `sloth_mode` of `sloth_slo_info`: who generated the rules.
const MODE: &str = "slotel-rules";
/// `sloth_spec` of `sloth_slo_info`.
const SPEC: &str = "slotel/v1";

/// Sloth's SLO id: `<service>-<name>`.
pub(crate) fn id(p: &Plan<'_>) -> String {
    format!("{}-{}", p.slo.service, p.slo.name)
}

/// The matchers that restrict every expression to the roll-up: `cluster="all"` and every
/// group label absent.
pub(crate) fn roll_up_matchers(group_labels: &[String]) -> String {
    let mut out = String::from(", cluster=\"all\"");
    for label in group_labels {
        out.push_str(&format!(", {label}=\"\""));
    }
    out
}

/// `sloth_window` of a recording: the window of an error ratio, `5m` for the current burn
/// rate, the SLO window for the period burn rate and budget; none for the others.
fn window_label(p: &Plan<'_>, record: &str) -> Option<String> {
    if let Some(w) = record.strip_prefix("slo:sli_error:ratio_rate") {
        return Some(w.to_string());
    }
    match record {
        "slo:sli_error:ratio_month" => Some("month".to_string()),
        "slo:sli_error:ratio_week" => Some("week".to_string()),
        "slo:current_burn_rate:ratio" => Some("5m".to_string()),
        "slo:period_burn_rate:ratio" | "slo:period_error_budget_remaining:ratio" => {
            Some(p.period_label())
        }
        _ => None,
    }
}

/// The Sloth labels of recording `record` (none in slotel's mode).
pub(crate) fn record_labels(p: &Plan<'_>, record: &str) -> Vec<(&'static str, String)> {
    if p.labels_mode != LabelMode::Sloth {
        return Vec::new();
    }
    let mut out = vec![
        ("sloth_id", id(p)),
        ("sloth_service", p.slo.service.clone()),
        ("sloth_slo", p.slo.name.clone()),
    ];
    if let Some(w) = window_label(p, record) {
        out.push(("sloth_window", w));
    }
    out
}

/// The Sloth labels of an alert of `severity` (none in slotel's mode).
pub(crate) fn alert_labels(p: &Plan<'_>, severity: Severity) -> Vec<(&'static str, String)> {
    if p.labels_mode != LabelMode::Sloth {
        return Vec::new();
    }
    vec![
        ("sloth_id", id(p)),
        ("sloth_service", p.slo.service.clone()),
        ("sloth_slo", p.slo.name.clone()),
        ("sloth_severity", severity.as_str().to_string()),
    ]
}

/// The SLO window in days, as Sloth records it (`slo:time_period:days`): a calendar month
/// counts 30, a week 7, as the alert factors do.
fn period_days(p: &Plan<'_>) -> String {
    number(period_secs(&p.slo.window) as f64 / 86_400.0)
}

/// The recordings Sloth has and slotel's mode has not: `slo:time_period:days` and
/// `sloth_slo_info`. `record` builds a recording with the SLO's labels.
pub(crate) fn extra_recordings(
    p: &Plan<'_>,
    record: impl Fn(&str, String, Vec<(&str, String)>) -> Yaml,
) -> Vec<Yaml> {
    if p.labels_mode != LabelMode::Sloth {
        return Vec::new();
    }
    let info = vec![
        ("sloth_objective", p.objective_percent()),
        ("sloth_mode", MODE.to_string()),
        ("sloth_spec", SPEC.to_string()),
        ("sloth_version", env!("CARGO_PKG_VERSION").to_string()),
    ];
    vec![
        record(
            "slo:time_period:days",
            format!("vector({})", period_days(p)),
            Vec::new(),
        ),
        record("sloth_slo_info", "vector(1)".to_string(), info),
    ]
}
