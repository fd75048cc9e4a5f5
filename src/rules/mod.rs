//! `slotel rules`: Prometheus recording and alerting rules, a Grafana dashboard and Grafana
//! alerting provisioning, generated from the same SLO files the pipeline loads.
//!
//! slotel classifies every event as good or bad at ingest and writes
//! `slotel_slo_events_total{slo, service, cluster, outcome}`, so one rule shape serves
//! every SLO: error ratios per window are `sum(rate(bad[w])) / sum(rate(all[w]))` by
//! `slo, service, cluster` (traffic-weighted; per-replica labels drop out), and the alerts
//! are the SRE Workbook's multiwindow, multi-burn-rate pairs with factors scaled to the
//! SLO's window (`budget share × window / long window`: 14.4, 6, 3, 1 for 30 days; 13.44,
//! 5.6, 2.8, 0.933 for 28). Names follow Sloth's (`slo:sli_error:ratio_rate5m`, …).
//! Long windows sum exact counter increments recorded once per evaluation; timeslice SLOs
//! divide the slice counts slotel writes (`slotel_slo_timeslices`), since slices are judged
//! on the events' own times, which the counters cannot show.
//!
//! # Layout
//!
//! - `plan.rs`: per SLO, the selector, budget, windows and alert pairs every output uses.
//! - `prometheus.rs`: the rule file (recordings and alerts, or recordings alone).
//! - `exhaustion.rs`: the optional time-to-exhaustion alert (`alerting.exhaustion`).
//! - `journey.rs`: a journey's SLI recordings, from its members' series and weights.
//! - `dashboard.rs`: the Grafana dashboard JSON, a row per SLO.
//! - `generic.rs`: the variable-driven dashboard, one for every SLO.
//! - `grafana_alerting.rs`: the Grafana alerting provisioning file.
//! - `sloth.rs`: `--labels sloth`, the series under Sloth's label set for Sloth's
//!   dashboards.
//! - `yaml.rs`: the YAML writer for those fixed shapes.
//! - `cli.rs`: the command's arguments and file output.
//! - `sync.rs`: `slo.rules_sync`, keeping a ruler loaded with the rules of the SLOs slotel
//!   runs.
//! - `tests.rs`: unit tests; `tests/rules.rs` runs promtool and a real Prometheus.
//!
//! # Invariants
//!
//! - Output depends only on the SLO definitions and options: SLOs are sorted by service
//!   and name, maps by key, and nothing records paths or times, so regenerating is a no-op.
//! - No expression sums across clusters (slotel writes `cluster="all"` itself), and no
//!   recording yields NaN: a window without events (or with fewer than `min_events`) has no
//!   series.

pub mod cli;
mod dashboard;
mod exhaustion;
mod generic;
mod grafana_alerting;
mod journey;
pub(crate) mod plan;
mod prometheus;
#[cfg(test)]
mod series_tests;
pub mod sloth;
pub mod sync;
#[cfg(test)]
mod tests;
mod yaml;

pub use grafana_alerting::GrafanaTarget;
pub use plan::DEFAULT_INTERVAL;
pub use sloth::LabelMode;

use std::collections::BTreeMap;

use crate::config::ConfigErrors;
use crate::slo::spec::Slo;

/// The files `slotel rules` writes: the Prometheus rule file (recordings and alerts), the
/// recordings alone (for Grafana-managed alerts: load one of the two, never both), the
/// dashboard and the Grafana alerting provisioning.
pub const RULES_FILE: &str = "prometheus-rules.yaml";
pub const RECORDING_RULES_FILE: &str = "prometheus-recording-rules.yaml";
pub const DASHBOARD_FILE: &str = "grafana-dashboard.json";
pub const GRAFANA_ALERTING_FILE: &str = "grafana-alerting.yaml";
pub const PROMETHEUS_RULE_FILE: &str = "prometheus-rule.yaml";

/// How the rules are generated besides the SLOs and formats.
#[derive(Debug, Clone)]
pub struct Options {
    /// Evaluation interval of the rule groups (Prometheus and Grafana), in seconds.
    /// Timeslice SLOs add a group evaluated once per slice.
    pub interval: u64,
    /// Where the Grafana-managed alerts go.
    pub grafana: GrafanaTarget,
    /// `metadata` of the `PrometheusRule`.
    pub operator: OperatorTarget,
    /// Which dashboard `grafana-dashboard.json` holds.
    pub dashboard: DashboardKind,
    /// Whose label set the series carry (slotel's, or Sloth's for Sloth's dashboards).
    pub labels: LabelMode,
}

/// The Grafana dashboard `slotel rules` writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DashboardKind {
    /// A row per SLO with its own alert thresholds: regenerate it when SLOs change.
    #[default]
    PerSlo,
    /// One dashboard for every SLO, selected by variables; the same whatever the SLOs, so
    /// it never needs regenerating.
    Generic,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            interval: DEFAULT_INTERVAL,
            grafana: GrafanaTarget::default(),
            operator: OperatorTarget::default(),
            dashboard: DashboardKind::default(),
            labels: LabelMode::default(),
        }
    }
}

/// `metadata` of the `PrometheusRule` (`--format prometheus-operator`).
#[derive(Debug, Clone)]
pub struct OperatorTarget {
    pub name: String,
    /// Empty: none (kustomize or `kubectl -n` sets it).
    pub namespace: String,
    /// Extra labels, e.g. the `release` a kube-prometheus-stack's `ruleSelector` wants.
    pub labels: BTreeMap<String, String>,
}

impl Default for OperatorTarget {
    fn default() -> Self {
        OperatorTarget {
            name: "slotel".to_string(),
            namespace: String::new(),
            labels: BTreeMap::new(),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Format {
    /// `prometheus-rules.yaml`: recording rules and burn-rate alerts, for Prometheus or
    /// Mimir's ruler (data-source-managed alerts).
    Prometheus,
    /// `prometheus-recording-rules.yaml`: the recording rules alone, for teams whose alerts
    /// are Grafana-managed (`grafana-alerting`).
    PrometheusRecording,
    /// `grafana-dashboard.json`.
    GrafanaDashboard,
    /// `grafana-alerting.yaml`: Grafana alerting provisioning.
    GrafanaAlerting,
    /// `prometheus-rule.yaml`: the rule file as a prometheus-operator `PrometheusRule`
    /// (`monitoring.coreos.com/v1`), for `kubectl apply` or a kustomization. Not in the
    /// default set.
    PrometheusOperator,
}

impl Format {
    /// What `slotel rules` writes unless `--format` says otherwise.
    pub const ALL: [Format; 4] = [
        Format::Prometheus,
        Format::PrometheusRecording,
        Format::GrafanaDashboard,
        Format::GrafanaAlerting,
    ];
}

/// One generated file: its name (inside the output directory) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub name: &'static str,
    pub text: String,
}

/// One burn-rate alert of an SLO, as the generated rules define it: it fires while both
/// windows burn faster than `factor` (the status page draws these thresholds).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BurnRateAlert {
    /// The `severity` label (`page`, `ticket`, or the SLO's override).
    pub severity: String,
    pub long_window: String,
    pub short_window: String,
    pub factor: f64,
}

/// The burn-rate alerts `slotel rules` generates for `slo` (none when its alerts are
/// disabled or the rules cannot compute it).
pub fn burn_rate_alerts(slo: &Slo) -> Vec<BurnRateAlert> {
    let Ok(plan) = plan::Plan::new(slo, DEFAULT_INTERVAL) else {
        return Vec::new();
    };
    plan.alerts
        .iter()
        .map(|a| BurnRateAlert {
            severity: plan.severity(a.severity).to_string(),
            long_window: plan::duration(a.long),
            short_window: plan::duration(a.short),
            factor: a.factor,
        })
        .collect()
}

const HEADER: &str =
    "# Generated by `slotel rules` from SLO files: edit the SLO files and regenerate.\n";

/// The Prometheus rule groups of `slos` (recordings and alerts), one per SLO, each as the
/// YAML of one group (what a ruler API takes), with its name; or why some SLO has none.
pub fn rule_groups(slos: &[Slo], options: &Options) -> Result<Vec<(String, String)>, ConfigErrors> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for slo in slos {
        match plan::Plan::new(slo, options.interval) {
            Ok(p) => out.push((
                prometheus::group_name(&p),
                yaml::to_string(&prometheus::group(&p, true)),
            )),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    out.sort();
    Ok(out)
}

/// Generates `formats` for `slos`, in a stable order; or, when the rules cannot compute
/// some SLO as the engine does, why (one error per such SLO, at its place in its file).
pub fn generate(
    slos: &[Slo],
    formats: &[Format],
    options: &Options,
) -> Result<Vec<Output>, ConfigErrors> {
    let mut sorted: Vec<&Slo> = slos.iter().collect();
    sorted.sort_by(|a, b| (&a.service, &a.name).cmp(&(&b.service, &b.name)));
    let mut plans = Vec::new();
    let mut refused = Vec::new();
    for slo in sorted {
        match plan::Plan::with_labels(slo, options.interval, options.labels) {
            Ok(p) => plans.push(p),
            Err(e) => refused.push(e),
        }
    }
    if !refused.is_empty() {
        refused.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        return Err(ConfigErrors(refused));
    }
    let grafana = &options.grafana;
    let mut formats = formats.to_vec();
    formats.sort();
    formats.dedup();
    let (dashboard, burn_panels) = match options.dashboard {
        DashboardKind::PerSlo => dashboard::build(&plans),
        DashboardKind::Generic => (generic::build(), vec![generic::BURN_PANEL; plans.len()]),
    };
    let yaml = |doc: yaml::Yaml| format!("{HEADER}{}", yaml::to_string(&doc));
    let mut out = Vec::new();
    for format in formats {
        match format {
            Format::Prometheus => out.push(Output {
                name: RULES_FILE,
                text: yaml(prometheus::rule_file(&plans, true)),
            }),
            Format::PrometheusRecording => out.push(Output {
                name: RECORDING_RULES_FILE,
                text: yaml(prometheus::rule_file(&plans, false)),
            }),
            Format::GrafanaDashboard => {
                let value = dashboard::sorted(dashboard.clone());
                let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
                text.push('\n');
                out.push(Output {
                    name: DASHBOARD_FILE,
                    text,
                });
            }
            Format::GrafanaAlerting => out.push(Output {
                name: GRAFANA_ALERTING_FILE,
                text: yaml(grafana_alerting::provisioning(
                    &plans,
                    &burn_panels,
                    grafana,
                )),
            }),
            Format::PrometheusOperator => out.push(Output {
                name: PROMETHEUS_RULE_FILE,
                text: yaml(prometheus::prometheus_rule(&plans, &options.operator)),
            }),
        }
    }
    Ok(out)
}
