//! What every output is built from: per SLO, its selector, budget, windows and the
//! multiwindow, multi-burn-rate alert pairs of the SRE Workbook with factors scaled to the
//! SLO's window.

use std::collections::BTreeMap;

use crate::slo::spec::{CalendarUnit, Sli, Slo, SloWindow};

/// The counter every SLI recording reads.
pub(crate) const EVENTS: &str = "slotel_slo_events_total";
/// The native histogram the latency recordings read.
pub(crate) const LATENCY: &str = "slotel_slo_latency_seconds";
/// The labels every recording keeps: per-replica labels added by remote write drop out.
pub(crate) const BY: &str = "slo, service, cluster";
/// Default alert name.
pub(crate) const DEFAULT_ALERT: &str = "SLOErrorBudgetBurn";

const MINUTE: u64 = 60;
const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

/// The SLI windows recorded for every SLO, besides the SLO window itself.
pub(crate) const WINDOWS: [u64; 7] = [
    5 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    6 * HOUR,
    DAY,
    3 * DAY,
];

/// Windows of the latency percentile recordings.
pub(crate) const LATENCY_WINDOWS: [u64; 2] = [5 * MINUTE, HOUR];

/// Page or ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Page,
    Ticket,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

/// One alert of the Workbook's table: fires when both windows burn faster than `factor`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AlertPair {
    pub(crate) severity: Severity,
    pub(crate) long: u64,
    pub(crate) short: u64,
    /// Share of the whole window's budget spent in `long` at exactly `factor`.
    pub(crate) budget_spent: f64,
    /// Burn-rate threshold: `budget_spent × window / long`, to three decimals.
    pub(crate) factor: f64,
}

/// The Workbook's pairs: (severity, long window, short window, share of the budget).
const PAIRS: [(Severity, u64, u64, f64); 4] = [
    (Severity::Page, HOUR, 5 * MINUTE, 0.02),
    (Severity::Page, 6 * HOUR, 30 * MINUTE, 0.05),
    (Severity::Ticket, DAY, 2 * HOUR, 0.10),
    (Severity::Ticket, 3 * DAY, 6 * HOUR, 0.10),
];

/// The burn-rate factor for a budget share spent within `long` of a `period` window.
pub(crate) fn factor(budget_spent: f64, period: u64, long: u64) -> f64 {
    let raw = budget_spent * period as f64 / long as f64;
    (raw * 1000.0).round() / 1000.0
}

/// Everything the generators need about one SLO.
#[derive(Debug, Clone)]
pub(crate) struct Plan<'a> {
    pub(crate) slo: &'a Slo,
    /// `service="…", slo="…"`: the matchers that select this SLO's series.
    pub(crate) matchers: String,
    /// 1 − objective, as written in expressions.
    pub(crate) budget: String,
    /// The window in seconds (calendar months count as 30 days, weeks as 7).
    pub(crate) period: u64,
    /// Every SLI window, ascending, the SLO window included once.
    pub(crate) windows: Vec<u64>,
    /// The alert pairs that apply (long window not beyond the SLO window), unless disabled.
    pub(crate) alerts: Vec<AlertPair>,
    /// Quantile label values of the latency recordings (span SLIs only).
    pub(crate) quantiles: Vec<String>,
}

impl<'a> Plan<'a> {
    pub(crate) fn new(slo: &'a Slo) -> Plan<'a> {
        let period = period_secs(&slo.window);
        let mut windows: Vec<u64> = WINDOWS.to_vec();
        if !windows.contains(&period) {
            windows.push(period);
        }
        windows.sort_unstable();
        let alerts = PAIRS
            .iter()
            .filter(|(_, long, _, _)| *long <= period)
            .filter(|(severity, ..)| !disabled(slo, *severity))
            .map(|&(severity, long, short, budget_spent)| AlertPair {
                severity,
                long,
                short,
                budget_spent,
                factor: factor(budget_spent, period, long),
            })
            .collect();
        let quantiles = match slo.sli {
            Sli::Spans(_) => slo.percentiles.iter().map(|p| quantile(*p)).collect(),
            Sli::Metric(_) => Vec::new(),
        };
        Plan {
            slo,
            matchers: format!(
                "service={}, slo={}",
                promql_string(&slo.service),
                promql_string(&slo.name)
            ),
            budget: number(1.0 - slo.objective),
            period,
            windows,
            alerts,
            quantiles,
        }
    }

    /// `{service="…", slo="…"}` plus `extra` matchers.
    pub(crate) fn selector(&self, extra: &str) -> String {
        if extra.is_empty() {
            format!("{{{}}}", self.matchers)
        } else {
            format!("{{{}, {extra}}}", self.matchers)
        }
    }

    /// The alert name.
    pub(crate) fn alert_name(&self) -> &str {
        self.slo.alerting.name.as_deref().unwrap_or(DEFAULT_ALERT)
    }

    /// The `severity` label of a pair.
    pub(crate) fn severity(&self, severity: Severity) -> &str {
        let o = match severity {
            Severity::Page => &self.slo.alerting.page,
            Severity::Ticket => &self.slo.alerting.ticket,
        };
        o.severity.as_deref().unwrap_or(severity.as_str())
    }

    /// Static labels of an alert, sorted: the SLO's `alerting.labels` and those of the
    /// severity, then `service` and `slo` (as its expression yields them; they keep the
    /// rules of different SLOs apart), `severity` and the windows.
    pub(crate) fn alert_labels(&self, pair: &AlertPair) -> BTreeMap<String, String> {
        let over = match pair.severity {
            Severity::Page => &self.slo.alerting.page,
            Severity::Ticket => &self.slo.alerting.ticket,
        };
        let mut labels = self.slo.alerting.labels.clone();
        labels.extend(over.labels.clone());
        labels.insert("service".into(), self.slo.service.clone());
        labels.insert("slo".into(), self.slo.name.clone());
        labels.insert("severity".into(), self.severity(pair.severity).to_string());
        labels.insert("long_window".into(), duration(pair.long));
        labels.insert("short_window".into(), duration(pair.short));
        labels
    }

    /// The user's annotations of an alert (SLO-wide, then the severity's), which replace
    /// generated ones of the same name.
    pub(crate) fn user_annotations(&self, severity: Severity) -> BTreeMap<String, String> {
        let over = match severity {
            Severity::Page => &self.slo.alerting.page,
            Severity::Ticket => &self.slo.alerting.ticket,
        };
        let mut annotations = self.slo.alerting.annotations.clone();
        annotations.extend(over.annotations.clone());
        annotations
    }

    /// The objective as a percentage for messages: `99.9`.
    pub(crate) fn objective_percent(&self) -> String {
        number(self.slo.objective * 100.0)
    }

    /// The budget as a percentage for messages: `0.1`.
    pub(crate) fn budget_percent(&self) -> String {
        number((1.0 - self.slo.objective) * 100.0)
    }

    /// The SLO window as a duration label: `30d`, `4w`.
    pub(crate) fn period_label(&self) -> String {
        duration(self.period)
    }

    /// The PromQL alert expression of a pair: the long window's burn rate, present while
    /// both windows burn faster than the factor.
    pub(crate) fn alert_expr(&self, pair: &AlertPair) -> String {
        let factor = number(pair.factor);
        let sel = self.selector("");
        format!(
            "(slo:sli_error:ratio_rate{long}{sel} / {budget} > {factor})\n\
             and on (slo, service, cluster)\n\
             (slo:sli_error:ratio_rate{short}{sel} / {budget} > {factor})",
            long = duration(pair.long),
            short = duration(pair.short),
            budget = self.budget,
        )
    }
}

fn disabled(slo: &Slo, severity: Severity) -> bool {
    slo.alerting.disabled
        || match severity {
            Severity::Page => slo.alerting.page.disabled,
            Severity::Ticket => slo.alerting.ticket.disabled,
        }
}

/// The SLO window in seconds; rules cannot follow calendar periods, so a calendar month
/// counts as 30 days and a week as 7 (the alert factors of the Workbook assume 30 days).
pub(crate) fn period_secs(window: &SloWindow) -> u64 {
    match window {
        SloWindow::Rolling(d) => d.as_secs().max(1),
        SloWindow::Calendar { unit, .. } => match unit {
            CalendarUnit::Week => 7 * DAY,
            CalendarUnit::Month => 30 * DAY,
        },
    }
}

/// A duration in Prometheus' notation: `5m`, `1h`, `30d`; weeks and years only when they
/// divide it exactly (`4w` for 28 days, `30d` rather than `4w2d`).
pub(crate) fn duration(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_string();
    }
    let mut rest = secs;
    let mut out = String::new();
    for (unit, size, exact) in [
        ("y", 365 * DAY, true),
        ("w", 7 * DAY, true),
        ("d", DAY, false),
        ("h", HOUR, false),
        ("m", MINUTE, false),
        ("s", 1, false),
    ] {
        if exact && !rest.is_multiple_of(size) {
            continue;
        }
        let n = rest / size;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            rest -= n * size;
        }
    }
    out
}

/// A number for expressions and labels, rounded to 12 significant digits so that
/// `1 − 0.999` reads `0.001`.
pub(crate) fn number(x: f64) -> String {
    if !x.is_finite() {
        return "0".to_string();
    }
    let rounded: f64 = format!("{x:.11e}").parse().unwrap_or(x);
    let text = format!("{rounded}");
    if text == "-0" { "0".to_string() } else { text }
}

/// A percentile as a quantile: 99.9 → `0.999`.
pub(crate) fn quantile(percentile: f64) -> String {
    number(percentile / 100.0)
}

/// A PromQL double-quoted string.
pub(crate) fn promql_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
