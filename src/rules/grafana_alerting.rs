//! Grafana alerting provisioning (`apiVersion: 1`): the burn-rate alerts of
//! `prometheus.rs` (and the time-to-exhaustion alert of `exhaustion.rs`) as Grafana-managed
//! rules, for teams that route alerts in Grafana. Each
//! rule queries the same expression (which reads the recording rules, so those must be
//! loaded into the data source) and fires for every series it returns; no data is OK.

use super::dashboard;
use super::exhaustion;
use super::plan::{AlertPair, Plan, duration};
use super::prometheus::annotations;
use super::yaml::Yaml;

/// Where the rules go in Grafana.
#[derive(Debug, Clone)]
pub struct GrafanaTarget {
    /// The uid of the Prometheus (or Mimir) data source that holds slotel's series and the
    /// recording rules.
    pub datasource_uid: String,
    /// The folder (title) the rule groups are provisioned in.
    pub folder: String,
}

impl Default for GrafanaTarget {
    fn default() -> Self {
        GrafanaTarget {
            datasource_uid: "mimir".to_string(),
            folder: "SLOs".to_string(),
        }
    }
}

/// The provisioning file; `burn_panels[i]` is the dashboard panel of `plans[i]`'s burn rates.
pub(crate) fn provisioning(
    plans: &[Plan<'_>],
    burn_panels: &[u64],
    target: &GrafanaTarget,
) -> Yaml {
    let groups = plans
        .iter()
        .zip(burn_panels)
        .filter(|(p, _)| !p.alerts.is_empty() || exhaustion::enabled(p).is_some())
        .map(|(p, panel)| {
            let mut rules: Vec<Yaml> = p
                .alerts
                .iter()
                .map(|pair| rule(p, pair, *panel, target))
                .collect();
            rules.extend(exhaustion_rule(p, *panel, target));
            Yaml::map([
                ("orgId", Yaml::int(1)),
                (
                    "name",
                    Yaml::str(format!("slotel {} {}", p.slo.service, p.slo.name)),
                ),
                ("folder", Yaml::str(&target.folder)),
                ("interval", Yaml::str(duration(p.interval))),
                ("rules", Yaml::Seq(rules)),
            ])
        })
        .collect();
    Yaml::map([("apiVersion", Yaml::int(1)), ("groups", Yaml::Seq(groups))])
}

fn rule(p: &Plan<'_>, pair: &AlertPair, panel: u64, target: &GrafanaTarget) -> Yaml {
    let severity = p.severity(pair.severity);
    let long = duration(pair.long);
    let short = duration(pair.short);
    let title = format!(
        "{} {} {} {severity} {long} {short}",
        p.alert_name(),
        p.slo.service,
        p.slo.name
    );
    let labels = p.alert_labels(pair);
    let annotations = annotations(p, pair, "$values.A.Value");
    let uid = uid(p, &format!("{}\u{0}{}", pair.long, pair.short));
    let shape = Shape {
        uid,
        title,
        expr: p.alert_expr(pair),
        // The burn rate, present only while it crosses the factor: above 0.
        above: 0,
        hold: "0s".to_string(),
        labels,
        annotations,
        panel,
    };
    grafana_rule(shape, target)
}

/// The time-to-exhaustion alert (`alerting.exhaustion`), when the SLO has one.
fn exhaustion_rule(p: &Plan<'_>, panel: u64, target: &GrafanaTarget) -> Option<Yaml> {
    let alert = exhaustion::enabled(p)?;
    Some(grafana_rule(
        Shape {
            uid: uid(p, "exhaustion"),
            title: format!(
                "{} {} {}",
                exhaustion::name(alert),
                p.slo.service,
                p.slo.name
            ),
            expr: exhaustion::expr(p, alert),
            // The time to exhaustion in seconds, 0 once the budget is spent: present
            // means firing.
            above: -1,
            hold: duration(alert.hold.map_or(0, |d| d.as_secs())),
            labels: exhaustion::labels(p, alert),
            annotations: exhaustion::annotations(p, alert, "$values.A.Value"),
            panel,
        },
        target,
    ))
}

/// What differs between slotel's Grafana-managed rules.
struct Shape {
    uid: String,
    title: String,
    expr: String,
    /// The rule fires while the query's value is above this.
    above: i64,
    hold: String,
    labels: std::collections::BTreeMap<String, String>,
    annotations: std::collections::BTreeMap<String, String>,
    panel: u64,
}

fn grafana_rule(shape: Shape, target: &GrafanaTarget) -> Yaml {
    let query = Yaml::map([
        ("refId", Yaml::str("A")),
        (
            "relativeTimeRange",
            Yaml::map([("from", Yaml::int(600)), ("to", Yaml::int(0))]),
        ),
        ("datasourceUid", Yaml::str(&target.datasource_uid)),
        (
            "model",
            Yaml::map([
                ("refId", Yaml::str("A")),
                (
                    "datasource",
                    Yaml::map([
                        ("type", Yaml::str("prometheus")),
                        ("uid", Yaml::str(&target.datasource_uid)),
                    ]),
                ),
                ("expr", Yaml::Block(shape.expr)),
                ("instant", Yaml::Bool(true)),
                ("range", Yaml::Bool(false)),
                ("intervalMs", Yaml::int(60_000)),
                ("maxDataPoints", Yaml::int(43_200)),
            ]),
        ),
    ]);
    let condition = Yaml::map([
        ("refId", Yaml::str("B")),
        (
            "relativeTimeRange",
            Yaml::map([("from", Yaml::int(0)), ("to", Yaml::int(0))]),
        ),
        ("datasourceUid", Yaml::str("__expr__")),
        (
            "model",
            Yaml::map([
                ("refId", Yaml::str("B")),
                (
                    "datasource",
                    Yaml::map([
                        ("type", Yaml::str("__expr__")),
                        ("uid", Yaml::str("__expr__")),
                    ]),
                ),
                ("type", Yaml::str("threshold")),
                ("expression", Yaml::str("A")),
                (
                    "conditions",
                    Yaml::Seq(vec![Yaml::map([(
                        "evaluator",
                        Yaml::map([
                            ("type", Yaml::str("gt")),
                            ("params", Yaml::Seq(vec![Yaml::int(shape.above)])),
                        ]),
                    )])]),
                ),
            ]),
        ),
    ]);
    Yaml::map([
        ("uid", Yaml::str(shape.uid)),
        ("title", Yaml::str(shape.title)),
        ("condition", Yaml::str("B")),
        ("data", Yaml::Seq(vec![query, condition])),
        ("dashboardUid", Yaml::str(dashboard::UID)),
        ("panelId", Yaml::int(shape.panel as i64)),
        ("noDataState", Yaml::str("OK")),
        ("execErrState", Yaml::str("Error")),
        ("for", Yaml::str(shape.hold)),
        ("labels", Yaml::strings(&shape.labels)),
        ("annotations", Yaml::strings(&shape.annotations)),
        ("isPaused", Yaml::Bool(false)),
    ])
}

/// A stable rule uid (at most 40 characters, as Grafana requires): a hash of the SLO and
/// the alert (`long\0short` for a burn-rate pair), so regenerating never duplicates rules.
fn uid(p: &Plan<'_>, alert: &str) -> String {
    let key = format!("{}\u{0}{}\u{0}{alert}", p.slo.service, p.slo.name);
    format!("slotel-{:016x}", fnv1a(key.as_bytes()))
}

/// FNV-1a, 64 bits: fixed forever, unlike the standard library's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
