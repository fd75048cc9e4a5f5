//! The Prometheus rule file, loadable by Prometheus, Mimir's ruler and `promtool`: per SLO
//! one group with its recording rules and then its burn-rate alerts (or, for teams whose
//! alerts are Grafana-managed, the recordings alone).
//!
//! Every SLI recording is traffic-weighted over its own window — bad events over all
//! events, `sum by (slo, service, cluster)` of the counter rates, never an average of
//! shorter ratios — and has no series at all while the window saw no event (or fewer than
//! `min_events`), so nothing downstream ever sees NaN. Clusters are never summed together:
//! slotel writes the `cluster="all"` roll-up itself.

use std::collections::BTreeMap;

use super::plan::{self, AlertPair, BY, EVENTS, LATENCY, LATENCY_WINDOWS, Plan, duration};
use super::yaml::Yaml;

/// The rule file: one group per SLO, its recordings first, then (with `alerts`) its
/// burn-rate alerts, which so read the recordings of the same evaluation.
pub(crate) fn rule_file(plans: &[Plan<'_>], alerts: bool) -> Yaml {
    let groups = plans
        .iter()
        .map(|p| {
            let mut rules = recordings(p);
            if alerts {
                rules.extend(p.alerts.iter().map(|pair| alert(p, pair)));
            }
            Yaml::map([
                ("name", Yaml::str(group_name(p))),
                ("rules", Yaml::Seq(rules)),
            ])
        })
        .collect();
    Yaml::map([("groups", Yaml::Seq(groups))])
}

/// `slotel:<service>:<slo>`: names are letters, digits, `-`, `_`, `.`, so `:` keeps
/// every pair apart, and the name is safe in the ruler API's URLs.
fn group_name(p: &Plan<'_>) -> String {
    format!("slotel:{}:{}", p.slo.service, p.slo.name)
}

/// The name of the error-ratio recording over `window` seconds.
pub(crate) fn ratio_name(window: u64) -> String {
    format!("slo:sli_error:ratio_rate{}", duration(window))
}

/// Bad over all events in `window`; no series without traffic (or below `min_events`).
pub(crate) fn error_ratio_expr(p: &Plan<'_>, window: u64) -> String {
    let range = duration(window);
    let all = p.selector("");
    let bad = p.selector("outcome=\"bad\"");
    let total = format!("sum by ({BY}) (rate({EVENTS}{all}[{range}]))");
    let guard = if p.slo.min_events > 0 {
        format!(">= {} / {window}", p.slo.min_events)
    } else {
        "> 0".to_string()
    };
    format!(
        "(\n  sum by ({BY}) (rate({EVENTS}{bad}[{range}]))\n  or\n  0 * {total}\n)\n/\n({total} {guard})"
    )
}

/// A recording rule. Every rule carries the SLO's `service` and `slo` as static labels
/// (the values its expression yields anyway), so rules of different SLOs are told apart
/// by `promtool check rules` and by anyone reading a rule file.
fn record(p: &Plan<'_>, name: &str, expr: String, extra: Vec<(&str, String)>) -> Yaml {
    let mut labels = vec![
        ("service", Yaml::str(&p.slo.service)),
        ("slo", Yaml::str(&p.slo.name)),
    ];
    labels.extend(extra.into_iter().map(|(k, v)| (k, Yaml::Str(v))));
    Yaml::map([
        ("record", Yaml::str(name)),
        ("expr", Yaml::Block(expr)),
        ("labels", Yaml::map(labels)),
    ])
}

fn recordings(p: &Plan<'_>) -> Vec<Yaml> {
    let mut rules: Vec<Yaml> = p
        .windows
        .iter()
        .map(|&w| record(p, &ratio_name(w), error_ratio_expr(p, w), Vec::new()))
        .collect();
    let sel = p.selector("");
    let objective = plan::number(p.slo.objective);
    rules.push(record(
        p,
        "slo:objective:ratio",
        format!("vector({objective})"),
        Vec::new(),
    ));
    rules.push(record(
        p,
        "slo:error_budget:ratio",
        format!("vector({})", p.budget),
        Vec::new(),
    ));
    rules.push(record(
        p,
        "slo:current_burn_rate:ratio",
        format!("{}{sel} / {}", ratio_name(plan::WINDOWS[0]), p.budget),
        Vec::new(),
    ));
    rules.push(record(
        p,
        "slo:period_burn_rate:ratio",
        format!("{}{sel} / {}", ratio_name(p.period), p.budget),
        Vec::new(),
    ));
    rules.push(record(
        p,
        "slo:period_error_budget_remaining:ratio",
        format!("1 - slo:period_burn_rate:ratio{sel}"),
        Vec::new(),
    ));
    let info = vec![
        ("objective", p.objective_percent()),
        ("window", p.period_label()),
    ];
    rules.push(record(p, "slotel_slo_info", "vector(1)".to_string(), info));
    for &w in &LATENCY_WINDOWS {
        for q in &p.quantiles {
            rules.push(record(
                p,
                &latency_name(w),
                latency_expr(p, q, w),
                vec![("quantile", q.clone())],
            ));
        }
    }
    rules
}

/// The name of the latency percentile recording over `window` seconds.
pub(crate) fn latency_name(window: u64) -> String {
    format!("slo:latency_seconds:quantile_rate{}", duration(window))
}

/// A percentile of the native histogram; `>= 0` drops the NaN of a window without events.
fn latency_expr(p: &Plan<'_>, quantile: &str, window: u64) -> String {
    format!(
        "histogram_quantile({quantile}, sum by ({BY}) (rate({LATENCY}{}[{}]))) >= 0",
        p.selector(""),
        duration(window)
    )
}

fn alert(p: &Plan<'_>, pair: &AlertPair) -> Yaml {
    let labels = p.alert_labels(pair);
    let annotations = annotations(p, pair, "$value");
    Yaml::map([
        ("alert", Yaml::str(p.alert_name())),
        ("expr", Yaml::Block(p.alert_expr(pair))),
        ("labels", Yaml::strings(&labels)),
        ("annotations", Yaml::strings(&annotations)),
    ])
}

/// Summary, description and runbook of an alert, then the user's annotations over them.
/// `value` is the template expression of the alert's value (the long window's burn rate).
pub(crate) fn annotations(p: &Plan<'_>, pair: &AlertPair, value: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert(
        "summary".to_string(),
        format!(
            "{{{{ $labels.service }}}}/{{{{ $labels.slo }}}} burns its error budget \
             {{{{ printf \"%.1f\" {value} }}}}x as fast as it may, in cluster {{{{ $labels.cluster }}}}"
        ),
    );
    out.insert(
        "description".to_string(),
        format!(
            "The error ratio of {service}/{slo} over the last {long} and {short} is above \
             {factor} times its error budget ({budget}% of events: objective {objective}% over \
             {period}). At that pace {spent}% of the {period} budget is spent in {long}.",
            service = p.slo.service,
            slo = p.slo.name,
            long = duration(pair.long),
            short = duration(pair.short),
            factor = plan::number(pair.factor),
            budget = p.budget_percent(),
            objective = p.objective_percent(),
            period = p.period_label(),
            spent = plan::number(pair.budget_spent * 100.0),
        ),
    );
    if let Some(url) = &p.slo.runbook_url {
        out.insert("runbook_url".to_string(), url.clone());
    }
    out.extend(p.user_annotations(pair.severity));
    out
}
