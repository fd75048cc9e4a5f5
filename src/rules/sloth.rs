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

/// `expr` kept to its `cluster="all"` series in Sloth's mode: for expressions that read
/// other series than the SLO's own (a journey's, from its members), which the roll-up
/// matchers do not reach.
pub(crate) fn roll_up_only(p: &Plan<'_>, expr: String) -> String {
    if p.labels_mode != LabelMode::Sloth {
        return expr;
    }
    format!(
        "(\n{expr}\n)\nand on (cluster)\nlabel_replace(vector(1), \"cluster\", \"all\", \"\", \"\")"
    )
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

#[cfg(test)]
mod tests {
    use super::super::{Format, Options, generate};
    use super::LabelMode;
    use crate::slo::spec::parse_file;

    const GROUPED: &str = "service: shop
slos:
  - name: checkout
    objective: 99.9
    window: 28d
    group_by:
      - attributes[\"http.route\"]
    sli: {spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}
";

    fn rules(labels: LabelMode) -> String {
        let set = parse_file(GROUPED, "t.yaml").unwrap();
        let options = Options {
            labels,
            ..Options::default()
        };
        let out = generate(&set, &[Format::Prometheus], &options).unwrap();
        out[0].text.clone()
    }

    /// The text of the rule recording `name` (up to the next rule).
    fn rule<'a>(text: &'a str, name: &str) -> &'a str {
        let start = text
            .find(&format!("- record: {name}\n"))
            .unwrap_or_else(|| panic!("no {name}"));
        let rest = &text[start + 2..];
        &rest[..rest.find("\n      - ").map_or(rest.len(), |i| i + 1)]
    }

    #[test]
    fn sloth_labels_on_one_roll_up_series_per_slo() {
        let text = rules(LabelMode::Sloth);
        // Every expression reads the roll-up alone: all clusters, no group.
        let ratio = rule(&text, "slo:sli_error:ratio_rate5m");
        assert!(
            ratio.contains(r#"{service="shop", slo="checkout", cluster="all", http_route=""}"#),
            "{ratio}"
        );
        for (name, window) in [
            ("slo:sli_error:ratio_rate5m", Some("5m")),
            ("slo:sli_error:ratio_rate3d", Some("3d")),
            ("slo:sli_error:ratio_rate4w", Some("4w")),
            ("slo:current_burn_rate:ratio", Some("5m")),
            ("slo:period_burn_rate:ratio", Some("4w")),
            ("slo:period_error_budget_remaining:ratio", Some("4w")),
            ("slo:objective:ratio", None),
            ("slo:error_budget:ratio", None),
            ("slo:time_period:days", None),
            ("sloth_slo_info", None),
        ] {
            let r = rule(&text, name);
            assert!(r.contains("sloth_id: shop-checkout\n"), "{r}");
            assert!(r.contains("sloth_service: shop\n"), "{r}");
            assert!(r.contains("sloth_slo: checkout\n"), "{r}");
            match window {
                Some(w) => assert!(r.contains(&format!("sloth_window: \"{w}\"")), "{r}"),
                None => assert!(!r.contains("sloth_window"), "{r}"),
            }
        }
        assert!(rule(&text, "slo:time_period:days").contains("vector(28)"));
        let info = rule(&text, "sloth_slo_info");
        assert!(info.contains("sloth_objective: \"99.9\""), "{info}");
        assert!(info.contains("sloth_mode: slotel-rules"), "{info}");
        // Alerts carry the ids and Sloth's severity.
        let page = &text[text.find("severity: page").unwrap() - 400..];
        assert!(page.contains("sloth_severity: page"), "{page}");
        assert!(text.contains("sloth_severity: ticket"));
    }

    #[test]
    fn a_journey_keeps_its_roll_up_alone() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules/slos/journey.yaml"),
        )
        .unwrap();
        let set = crate::slo::spec::parse_file(&text, "journey.yaml").unwrap();
        let options = Options {
            labels: LabelMode::Sloth,
            ..Options::default()
        };
        let out = generate(&set, &[Format::Prometheus], &options).unwrap();
        let text = &out[0].text;
        // The journey reads its members' series, summed by cluster: only `cluster="all"`
        // stays, one series per sloth_id.
        let start = text.find("sloth_id: shop-checkout").unwrap();
        let group = &text[text[..start].rfind("- name: ").unwrap()..];
        let ratio = rule(group, "slo:sli_error:ratio_rate5m");
        assert!(
            ratio.contains(r#"and on (cluster)"#) && ratio.contains(r#""cluster", "all""#),
            "{ratio}"
        );
    }

    #[test]
    fn slotel_labels_are_unchanged() {
        let text = rules(LabelMode::Slotel);
        assert!(!text.contains("sloth_"), "{text}");
        assert!(!text.contains("slo:time_period:days"));
        assert!(!text.contains("cluster=\"all\""));
    }
}
