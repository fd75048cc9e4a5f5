//! What every output is built from: per SLO, its selector, label set, budget, windows (and
//! how each is computed: rolling, calendar period, time slices) and the multiwindow,
//! multi-burn-rate alert pairs of the SRE Workbook with factors scaled to the SLO's window.
//!
//! An SLO the rules cannot compute as the engine does is refused here, with its place in
//! its file, rather than given rules that disagree with the API.

use std::collections::BTreeMap;

use super::sloth::{self, LabelMode};
use crate::config::ConfigError;
use crate::slo::spec::{AttrRef, Budgeting, CalendarUnit, Sli, Slo, SloWindow};

/// The counter every SLI recording reads.
pub(crate) use crate::slo::series_names::EVENTS_TOTAL as EVENTS;
/// The native histogram the latency recordings read.
pub(crate) use crate::slo::series_names::LATENCY;
/// The labels of every SLO series besides its group labels; per-replica labels added by
/// remote write or scraping drop out of every `sum by`.
pub(crate) const BASE_LABELS: [&str; 3] = ["slo", "service", "cluster"];
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

/// Default evaluation interval of the rule groups, in seconds.
pub const DEFAULT_INTERVAL: u64 = MINUTE;

/// How the SLO window is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Period {
    /// The last `n` seconds.
    Rolling(u64),
    /// The current month or week so far, in a zone `offset` seconds east of UTC.
    Calendar { unit: CalendarUnit, offset: i64 },
}

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
    /// The label set of the SLO's series (`slo, service, cluster`, then one label per
    /// `group_by` attribute): every `sum by` and every alert's `and on` keeps exactly these.
    pub(crate) labels: Vec<String>,
    /// 1 − objective, as written in expressions.
    pub(crate) budget: String,
    /// How the SLO window is computed.
    pub(crate) window: Period,
    /// Timeslice SLOs: (slice length in seconds, slice target ratio).
    pub(crate) slices: Option<(u64, f64)>,
    /// The evaluation interval of the rule groups, in seconds: the step of the recorded
    /// counter increments long windows are summed from.
    pub(crate) interval: u64,
    /// The fixed SLI windows (burn-rate windows), ascending; the SLO window is not among
    /// them unless it is one of them (a rolling 1d or 3d). Timeslice SLOs leave out the
    /// windows no whole slice fits in (the engine reports none for them).
    pub(crate) windows: Vec<u64>,
    /// The alert pairs that apply (long window not beyond the SLO window), unless disabled.
    pub(crate) alerts: Vec<AlertPair>,
    /// Quantile label values of the latency recordings (span SLIs only).
    pub(crate) quantiles: Vec<String>,
    /// Whose label set the series carry; Sloth's reads the `cluster="all"` roll-up alone.
    pub(crate) labels_mode: LabelMode,
}

impl<'a> Plan<'a> {
    /// The plan of `slo` with rule groups evaluated every `interval` seconds, or why the
    /// rules cannot compute it as the engine does (at the SLO's place in its file).
    pub(crate) fn new(slo: &'a Slo, interval: u64) -> Result<Plan<'a>, ConfigError> {
        Plan::with_labels(slo, interval, LabelMode::Slotel)
    }

    /// [`Plan::new`] with the series under `labels_mode`'s label set.
    pub(crate) fn with_labels(
        slo: &'a Slo,
        interval: u64,
        labels_mode: LabelMode,
    ) -> Result<Plan<'a>, ConfigError> {
        let refuse = |message: String| ConfigError {
            file: slo.source.file.clone(),
            path: String::new(),
            line: slo.source.line,
            column: slo.source.column,
            message: format!("slo `{}/{}`: {message}", slo.service, slo.name),
        };
        if let Sli::Journey(j) = &slo.sli
            && j.leaves.is_empty()
        {
            return Err(refuse(
                "the journey's member slos are not resolved".to_string(),
            ));
        }
        let period = period_secs(&slo.window);
        let window = match &slo.window {
            SloWindow::Rolling(_) => Period::Rolling(period),
            SloWindow::Calendar { unit, time_zone } => Period::Calendar {
                unit: *unit,
                offset: fixed_offset(time_zone).ok_or_else(|| {
                    refuse(format!(
                        "`slotel rules` cannot follow calendar periods in time zone \
                         {time_zone:?}: its UTC offset changes (daylight saving time), and \
                         PromQL knows UTC only, so the rules would start the {} an hour off \
                         for part of the year; use a zone with a fixed offset (UTC, \
                         Asia/Seoul, Etc/GMT-1) or a rolling window",
                        match unit {
                            CalendarUnit::Month => "month",
                            CalendarUnit::Week => "week",
                        }
                    ))
                })?,
            },
        };
        // Slices are judged by the engine (by event time, which the counters cannot show):
        // the rules read its judgements, so every slice length it accepts is followed.
        let slices = match &slo.budgeting {
            Budgeting::Occurrences => None,
            Budgeting::Timeslices {
                slice,
                slice_target,
            } => Some((slice.as_secs_f64().ceil() as u64, *slice_target)),
        };
        let interval = interval.max(1);
        let mut windows: Vec<u64> = WINDOWS.to_vec();
        if let Some((slice, _)) = slices {
            windows.retain(|w| *w > slice);
        }
        let alerts = PAIRS
            .iter()
            .filter(|(_, long, _, _)| *long <= period)
            .filter(|(_, long, short, _)| windows.contains(long) && windows.contains(short))
            .filter(|(severity, ..)| !disabled(slo, *severity))
            .map(|&(severity, long, short, budget_spent)| AlertPair {
                severity,
                long,
                short,
                budget_spent,
                factor: factor(budget_spent, period, long),
            })
            .collect();
        let quantiles = if slo.sli.has_latencies() {
            slo.percentiles.iter().map(|p| quantile(*p)).collect()
        } else {
            Vec::new()
        };
        let group_labels: Vec<String> = slo.group_by.iter().map(group_label).collect();
        let mut matchers = format!(
            "service={}, slo={}",
            promql_string(&slo.service),
            promql_string(&slo.name)
        );
        if labels_mode == LabelMode::Sloth {
            matchers.push_str(&sloth::roll_up_matchers(&group_labels));
        }
        let mut labels: Vec<String> = BASE_LABELS.iter().map(|l| l.to_string()).collect();
        labels.extend(group_labels);
        Ok(Plan {
            slo,
            matchers,
            labels,
            budget: number(1.0 - slo.objective),
            window,
            slices,
            interval,
            windows,
            alerts,
            quantiles,
            labels_mode,
        })
    }

    /// The label set of the SLO's series, for `sum by (…)` and `on (…)`.
    pub(crate) fn by(&self) -> String {
        self.labels.join(", ")
    }

    /// Whether the SLO window is one of the fixed windows (a rolling 1d or 3d).
    pub(crate) fn window_is_fixed(&self) -> bool {
        matches!(self.window, Period::Rolling(w) if WINDOWS.contains(&w))
    }

    /// The `window` label the engine gives the SLO window on its series (`30d`, `28d`,
    /// `month`, `week`).
    pub(crate) fn engine_window_label(&self) -> String {
        match self.window {
            Period::Rolling(w) => engine_label(w),
            Period::Calendar {
                unit: CalendarUnit::Month,
                ..
            } => "month".to_string(),
            Period::Calendar {
                unit: CalendarUnit::Week,
                ..
            } => "week".to_string(),
        }
    }

    /// The name of the SLO window's error-ratio recording.
    pub(crate) fn window_ratio_name(&self) -> String {
        match self.window {
            Period::Rolling(w) => format!("slo:sli_error:ratio_rate{}", duration(w)),
            Period::Calendar {
                unit: CalendarUnit::Month,
                ..
            } => "slo:sli_error:ratio_month".to_string(),
            Period::Calendar {
                unit: CalendarUnit::Week,
                ..
            } => "slo:sli_error:ratio_week".to_string(),
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
        for (k, v) in sloth::alert_labels(self, pair.severity) {
            labels.insert(k.to_string(), v);
        }
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

    /// The SLO window for labels and messages: `30d`, `4w`, `month`, `week`.
    pub(crate) fn period_label(&self) -> String {
        match self.window {
            Period::Rolling(w) => duration(w),
            Period::Calendar {
                unit: CalendarUnit::Month,
                ..
            } => "month".to_string(),
            Period::Calendar {
                unit: CalendarUnit::Week,
                ..
            } => "week".to_string(),
        }
    }

    /// The PromQL alert expression of a pair: the long window's burn rate, present while
    /// both windows burn faster than the factor and no budget adjustment of the SLO is
    /// active in the alert's cluster (`slotel_slo_adjustment_active{cluster}`, which slotel
    /// writes for every SLO and cluster).
    pub(crate) fn alert_expr(&self, pair: &AlertPair) -> String {
        let factor = number(pair.factor);
        let sel = self.selector("");
        let ratio = |w: u64| format!("slo:sli_error:ratio_rate{}", duration(w));
        format!(
            "({long}{sel} / {budget} > {factor})\n\
             and on ({by})\n\
             ({short}{sel} / {budget} > {factor})\n\
             unless on (slo, service, cluster)\n\
             ({active}{sel} == 1)",
            long = ratio(pair.long),
            short = ratio(pair.short),
            budget = self.budget,
            by = self.by(),
            active = crate::slo::series_names::ADJUSTMENT_ACTIVE,
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

/// The SLO window in seconds, the base of the alert factors: a calendar month counts as 30
/// days and a week as 7 (the Workbook's factors assume 30 days).
pub(crate) fn period_secs(window: &SloWindow) -> u64 {
    match window {
        SloWindow::Rolling(d) => d.as_secs().max(1),
        SloWindow::Calendar { unit, .. } => match unit {
            CalendarUnit::Week => 7 * DAY,
            CalendarUnit::Month => 30 * DAY,
        },
    }
}

/// The UTC offset of `zone` in seconds when it never changes (in the years the rules are
/// used: 2020 to 2040, checked daily), else `None`. Unknown zones (which the SLO loader
/// refuses) have none.
pub(crate) fn fixed_offset(zone: &str) -> Option<i64> {
    let tz = jiff::tz::TimeZone::get(zone).ok()?;
    let start = jiff::Timestamp::from_second(1_577_836_800).ok()?; // 2020-01-01
    let first = tz.to_offset(start).seconds();
    let days = 20 * 366;
    (1..=days)
        .map(|d| start.checked_add(jiff::SignedDuration::from_hours(24 * d)))
        .all(|t| t.is_ok_and(|t| tz.to_offset(t).seconds() == first))
        .then_some(i64::from(first))
}

/// The label an attribute of `group_by` becomes on the SLO series, as the OpenTelemetry to
/// Prometheus translation names attributes: every character but ASCII letters, digits and
/// `_` becomes `_` (`http.route` → `http_route`), and a leading digit gets `key_`.
pub(crate) fn group_label(attr: &AttrRef) -> String {
    let key = attr.key();
    let mut out: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "key_");
    }
    out
}

/// The `window` label the engine gives a window of `secs` seconds (`5m` … `3d` for the
/// fixed windows, `28d` rather than `4w` for an SLO window).
pub(crate) fn engine_label(secs: u64) -> String {
    use crate::slo::engine::window::FIXED_WINDOWS;
    use crate::slo::spec::window_label;
    FIXED_WINDOWS
        .iter()
        .find(|(_, s)| *s == secs)
        .map_or_else(|| window_label(secs), |(label, _)| label.to_string())
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

/// A duration of `secs` seconds less one millisecond: a range that holds `secs / step`
/// samples `step` apart whether the range's start is inclusive (Prometheus 2) or not (3).
pub(crate) fn duration_less_1ms(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let rest = secs - 1;
    if rest > 0 {
        // Days and smaller only: weeks and years would need the whole value.
        let mut r = rest;
        for (unit, size) in [("d", DAY), ("h", HOUR), ("m", MINUTE), ("s", 1)] {
            let n = r / size;
            if n > 0 {
                out.push_str(&format!("{n}{unit}"));
                r -= n * size;
            }
        }
    }
    out.push_str("999ms");
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
