//! The optional time-to-exhaustion alert (`alerting.exhaustion` in the SLO file): fires
//! while the error budget left would be spent in less than `within` at the current burn
//! rate, and once it is spent.
//!
//! It reads the same quantities as the engine's `time_to_exhaustion_seconds` (see
//! `slo/engine/status.rs`): the budget left over the SLO window
//! (`slo:period_error_budget_remaining:ratio`) times the SLO window's length (a calendar
//! period: the current one's), over the long window's burn rate (the longest burn-rate
//! window shorter than the SLO window: 3d for 30 days). The alert's value is that time in
//! seconds (0 once the budget is spent). A window without burn (a burn rate of 0) or
//! without enough events (`min_events`) has no burn-rate series, so no alert, as the API
//! then has no time to exhaustion.

use std::collections::BTreeMap;

use super::plan::{self, Period, Plan, duration};
use super::prometheus::ratio_name;
use super::yaml::Yaml;
use crate::slo::spec::{
    CalendarUnit, DEFAULT_EXHAUSTION_ALERT, DEFAULT_EXHAUSTION_SEVERITY, ExhaustionAlert,
};

/// The long window the time to exhaustion is computed at, seconds: the longest burn-rate
/// window shorter than the SLO window, else the SLO window.
pub(crate) fn long_window(p: &Plan<'_>) -> u64 {
    let period = plan::period_secs(&p.slo.window);
    p.windows
        .iter()
        .copied()
        .filter(|w| *w < period)
        .max()
        .unwrap_or(period)
}

/// The SLO window's length in seconds as a PromQL scalar expression (a calendar month:
/// the current month's days in the SLO's zone).
fn window_seconds(p: &Plan<'_>) -> String {
    match p.window {
        Period::Rolling(w) => w.to_string(),
        Period::Calendar {
            unit: CalendarUnit::Week,
            ..
        } => (7 * 86_400).to_string(),
        Period::Calendar {
            unit: CalendarUnit::Month,
            offset,
        } => {
            let t = match offset {
                0 => "vector(time())".to_string(),
                k if k > 0 => format!("vector(time() + {k})"),
                k => format!("vector(time() - {})", -k),
            };
            format!("scalar(days_in_month({t}) * 86400)")
        }
    }
}

/// The name of the long window's error-ratio recording: a fixed window's, or the SLO
/// window's when no fixed window is shorter.
fn long_ratio_name(p: &Plan<'_>, long: u64) -> String {
    if p.windows.contains(&long) {
        ratio_name(long)
    } else {
        p.window_ratio_name()
    }
}

/// The SLO's exhaustion alert, unless it has none or its alerts are disabled.
pub(crate) fn enabled<'a>(p: &Plan<'a>) -> Option<&'a ExhaustionAlert> {
    let alerting = &p.slo.alerting;
    alerting.exhaustion.as_ref().filter(|_| !alerting.disabled)
}

/// The alert name.
pub(crate) fn name(alert: &ExhaustionAlert) -> &str {
    alert.name.as_deref().unwrap_or(DEFAULT_EXHAUSTION_ALERT)
}

/// The alert expression: the time to exhaustion in seconds, present while it is below
/// `within` (0 once the budget is spent) and no budget adjustment of the SLO is active in
/// the alert's cluster, as for the burn-rate alerts.
pub(crate) fn expr(p: &Plan<'_>, alert: &ExhaustionAlert) -> String {
    let sel = p.selector("");
    let long = long_window(p);
    format!(
        "(\n  \
           clamp_min(slo:period_error_budget_remaining:ratio{sel} <= 0, 0)\n  \
           or\n  \
           (\n    \
             slo:period_error_budget_remaining:ratio{sel} * {window}\n    \
             / on ({by})\n    \
             ({ratio}{sel} / {budget} > 0)\n  \
           ) < {within}\n\
         )\n\
         unless on (slo, service, cluster)\n\
         ({active}{sel} == 1)",
        window = window_seconds(p),
        by = p.by(),
        ratio = long_ratio_name(p, long),
        budget = p.budget,
        within = alert.within.as_secs(),
        active = crate::slo::series_names::ADJUSTMENT_ACTIVE,
    )
}

/// The alerting rule, or `None` when the SLO has no exhaustion alert (or its alerts are
/// disabled).
pub(crate) fn rule(p: &Plan<'_>) -> Option<Yaml> {
    let alerting = &p.slo.alerting;
    let alert = alerting
        .exhaustion
        .as_ref()
        .filter(|_| !alerting.disabled)?;
    let mut fields = vec![
        ("alert", Yaml::str(name(alert))),
        ("expr", Yaml::Block(expr(p, alert))),
    ];
    if let Some(hold) = alert.hold.filter(|d| d.as_secs() > 0) {
        fields.push(("for", Yaml::str(duration(hold.as_secs()))));
    }
    let labels = labels(p, alert);
    let annotations = annotations(p, alert, "$value");
    fields.push(("labels", Yaml::strings(&labels)));
    fields.push(("annotations", Yaml::strings(&annotations)));
    Some(Yaml::map(fields))
}

/// `alerting.labels`, then the alert's own, then `service`, `slo`, `severity` and
/// `long_window` (the burn rate's window).
pub(crate) fn labels(p: &Plan<'_>, alert: &ExhaustionAlert) -> BTreeMap<String, String> {
    let mut labels = p.slo.alerting.labels.clone();
    labels.extend(alert.labels.clone());
    labels.insert("service".into(), p.slo.service.clone());
    labels.insert("slo".into(), p.slo.name.clone());
    labels.insert(
        "severity".into(),
        alert
            .severity
            .clone()
            .unwrap_or_else(|| DEFAULT_EXHAUSTION_SEVERITY.to_string()),
    );
    labels.insert("long_window".into(), duration(long_window(p)));
    labels
}

/// Summary, description and runbook, then `alerting.annotations` and the alert's own.
/// `value` is the template expression of the alert's value (the time to exhaustion).
pub(crate) fn annotations(
    p: &Plan<'_>,
    alert: &ExhaustionAlert,
    value: &str,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert(
        "summary".to_string(),
        format!(
            "{{{{ $labels.service }}}}/{{{{ $labels.slo }}}} spends its error budget within \
             {{{{ {value} | humanizeDuration }}}} at the current burn rate, in cluster \
             {{{{ $labels.cluster }}}}"
        ),
    );
    out.insert(
        "description".to_string(),
        format!(
            "At the burn rate of the last {long}, the error budget left of {service}/{slo} \
             (objective {objective}% over {period}) is spent in less than {within}.",
            long = duration(long_window(p)),
            service = p.slo.service,
            slo = p.slo.name,
            objective = p.objective_percent(),
            period = p.period_label(),
            within = duration(alert.within.as_secs()),
        ),
    );
    if let Some(url) = &p.slo.runbook_url {
        out.insert("runbook_url".to_string(), url.clone());
    }
    out.extend(p.slo.alerting.annotations.clone());
    out.extend(alert.annotations.clone());
    out
}
