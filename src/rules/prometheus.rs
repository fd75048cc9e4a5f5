//! The Prometheus rule file, loadable by Prometheus, Mimir's ruler and `promtool`: per SLO
//! one group with its recording rules and then its burn-rate alerts (or, for teams whose
//! alerts are Grafana-managed, the recordings alone).
//!
//! Every SLI recording is traffic-weighted over its own window and computed as the engine
//! computes the API's numbers (see `slo/engine/status.rs`), per SLO shape:
//!
//! - **Fixed windows** (5m … 3d): bad events over all events, `sum by` the SLO's labels of
//!   the counter rates over the window.
//! - **Long windows** (7d, 28d, 30d …, calendar month and week): sums of recorded counter
//!   increments, one per evaluation, that tile time without gap or overlap. Each evaluation
//!   records, per counter series (replica, instance …), the counter's value
//!   (`slo:sli_events_total:last`) and the increment since the value the previous
//!   evaluation recorded (`slo:sli_events:increase_step`, summed by the SLO's labels and
//!   `outcome`): no extrapolation, so a window's sum is the counters' exact difference.
//!   A drop below the previous value is a reset (the increment is the new value plus what
//!   came before the reset inside the step); a series silent for a while (a scrape target
//!   down, remote write held back, Prometheus restarted) resumes from the value recorded
//!   before its silence, up to [`BRIDGE`]; a series without a recorded value (new, or
//!   silent longer) counts from its lowest value in the last [`BRIDGE`] (slotel writes a
//!   new series' zero point, so a new series counts whole). A window reads one sample per
//!   evaluation of two series, instead of every raw sample of every counter series.
//!   Calendar periods keep a copy of each increment under `phase` = (period number
//!   mod 3) of its step's middle, the period number computed with `year()`, `month()` or
//!   `time()` shifted by the zone's offset; a 31-day (7-day) range holds at most the
//!   current period and the two before, so the current period's phase holds exactly its
//!   increments.
//! - **Time slices**: slices are judged by the engine on the events' own times, which the
//!   counters (written at export time) cannot show; slotel writes the ended slices of every
//!   window by judgement (`slotel_slo_timeslices{window, outcome}`) and a window's error
//!   ratio is bad slices over ended slices (replicas add up).
//!
//! No recording yields NaN: a window without events (or with fewer than `min_events`, for
//! the burn rates) has no series. Clusters are never summed together: slotel writes the
//! `cluster="all"` roll-up itself.

use std::collections::BTreeMap;

use super::plan::{
    self, AlertPair, EVENTS, LATENCY, LATENCY_WINDOWS, Period, Plan, duration, duration_less_1ms,
};
use super::yaml::Yaml;
use crate::slo::spec::CalendarUnit;

/// The counter increments long windows are summed from, one per evaluation (`outcome`
/// kept).
const STEP: &str = "slo:sli_events:increase_step";
/// The counter's value per series at the last evaluation.
pub(crate) const LAST: &str = "slo:sli_events_total:last";
/// The engine's ended slices per window, by judgement.
use crate::slo::series_names::{self as names, TIMESLICES as SLICES};
/// How far back an evaluation looks for a counter's last recorded value (a silence of the
/// counter, or of the rules, up to this long loses nothing).
pub(crate) const BRIDGE: u64 = 3_600;

/// The rule file: per SLO its group (recordings first, then with `alerts` its burn-rate
/// alerts, which so read the recordings of the same evaluation).
pub(crate) fn rule_file(plans: &[Plan<'_>], alerts: bool) -> Yaml {
    let groups = plans.iter().map(|p| group(p, alerts)).collect();
    Yaml::map([("groups", Yaml::Seq(groups))])
}

/// The rule group of one SLO, with or without its alerts.
pub(crate) fn group(p: &Plan<'_>, alerts: bool) -> Yaml {
    let mut rules = recordings(p);
    if alerts {
        rules.extend(p.alerts.iter().map(|pair| alert(p, pair)));
        rules.extend(super::exhaustion::rule(p));
    }
    Yaml::map([
        ("name", Yaml::str(group_name(p))),
        ("interval", Yaml::str(duration(p.interval))),
        ("rules", Yaml::Seq(rules)),
    ])
}

/// The rule file as a prometheus-operator `PrometheusRule`: its groups are the `spec`.
pub(crate) fn prometheus_rule(plans: &[Plan<'_>], target: &super::OperatorTarget) -> Yaml {
    let mut labels: Vec<(String, Yaml)> = vec![
        ("app.kubernetes.io/name".to_string(), Yaml::str("slotel")),
        ("app.kubernetes.io/part-of".to_string(), Yaml::str("slotel")),
    ];
    for (k, v) in &target.labels {
        labels.retain(|(key, _)| key != k);
        labels.push((k.clone(), Yaml::str(v)));
    }
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    let mut metadata = vec![("name".to_string(), Yaml::str(&target.name))];
    if !target.namespace.is_empty() {
        metadata.push(("namespace".to_string(), Yaml::str(&target.namespace)));
    }
    metadata.push(("labels".to_string(), Yaml::Map(labels)));
    Yaml::map([
        ("apiVersion", Yaml::str("monitoring.coreos.com/v1")),
        ("kind", Yaml::str("PrometheusRule")),
        ("metadata", Yaml::Map(metadata)),
        ("spec", rule_file(plans, true)),
    ])
}

/// `slotel:<service>:<slo>`: names are letters, digits, `-`, `_`, `.`, so `:` keeps
/// every pair apart, and the name is safe in the ruler API's URLs.
pub(crate) fn group_name(p: &Plan<'_>) -> String {
    format!("slotel:{}:{}", p.slo.service, p.slo.name)
}

/// The name of the error-ratio recording over `window` seconds.
pub(crate) fn ratio_name(window: u64) -> String {
    format!("slo:sli_error:ratio_rate{}", duration(window))
}

/// `sum by (<the SLO's labels>) (<expr>)`.
fn sum_by(p: &Plan<'_>, expr: &str) -> String {
    format!("sum by ({}) ({expr})", p.by())
}

/// `f(counter)` summed by the SLO's labels, bad events (none: 0 while there are events) and
/// all events: `(bad, all)`.
fn bad_and_all(p: &Plan<'_>, f: &str, range: &str) -> (String, String) {
    let all = sum_by(p, &format!("{f}({EVENTS}{}[{range}])", p.selector("")));
    let bad = sum_by(
        p,
        &format!("{f}({EVENTS}{}[{range}])", p.selector("outcome=\"bad\"")),
    );
    (format!("(\n  {bad}\n  or\n  0 * {all}\n)"), all)
}

/// The guard that keeps a denominator of summed rates only with enough events: `> 0`, or
/// with `min_events` at least that many (`per` converts the sum into events).
fn guard(p: &Plan<'_>, guarded: bool, per: u64) -> String {
    if guarded && p.slo.min_events > 0 {
        format!(">= {} / {per}", p.slo.min_events)
    } else {
        "> 0".to_string()
    }
}

/// The period number of the time `shift` seconds before an evaluation, in the calendar's
/// zone: months (year × 12 + month) or ISO weeks (Monday 00:00 starts one) since 1970.
fn period_index(unit: CalendarUnit, offset: i64, shift: u64) -> String {
    let k = offset - shift as i64;
    let t = match k {
        0 => "vector(time())".to_string(),
        k if k > 0 => format!("vector(time() + {k})"),
        k => format!("vector(time() - {})", -k),
    };
    match unit {
        CalendarUnit::Month => format!("(year({t}) * 12 + month({t}))"),
        // 1970-01-01 was a Thursday: weeks start 3 days (259200 s) before multiples of 7 days.
        CalendarUnit::Week => format!("floor(({t} + 259200) / 604800)"),
    }
}

/// The range that holds the current calendar period and at most the two before it.
fn period_range(unit: CalendarUnit) -> &'static str {
    match unit {
        CalendarUnit::Month => "31d",
        CalendarUnit::Week => "7d",
    }
}

/// `f` over the range of the phase copy of `name` (matching `extra` too) that belongs to
/// the current period, summed by the SLO's labels.
fn current_phase(p: &Plan<'_>, name: &str, extra: &str, f: &str) -> String {
    let Period::Calendar { unit, offset } = p.window else {
        return String::new();
    };
    let range = period_range(unit);
    let index = period_index(unit, offset, 0);
    let branches: Vec<String> = (0..3)
        .map(|r| {
            let mut matchers = format!("phase=\"{r}\"");
            if !extra.is_empty() {
                matchers = format!("{extra}, {matchers}");
            }
            format!(
                "  {f}({name}_phase{}[{range}]) and on () ({index} % 3 == {r})",
                p.selector(&matchers)
            )
        })
        .collect();
    sum_by(p, &format!("\n{}\n", branches.join("\n  or\n")))
}

/// The three phase recordings of `name`: each copies it while (period number of the
/// evaluation time less `shift`) mod 3 is its phase.
fn phase_recordings(p: &Plan<'_>, name: &str, shift: u64) -> Vec<Yaml> {
    let Period::Calendar { unit, offset } = p.window else {
        return Vec::new();
    };
    let index = period_index(unit, offset, shift);
    (0..3)
        .map(|r| {
            record(
                p,
                &format!("{name}_phase"),
                format!("{name}{} and on () ({index} % 3 == {r})", p.selector("")),
                vec![("phase", r.to_string())],
            )
        })
        .collect()
}

/// Events in `window` seconds (a fixed window) by the SLO's labels.
fn events_in(p: &Plan<'_>, window: u64) -> String {
    sum_by(
        p,
        &format!("increase({EVENTS}{}[{}])", p.selector(""), duration(window)),
    )
}

/// Whether the SLO window is summed from recorded increments: a long rolling or calendar
/// window (of a timeslice SLO to hold its burn rate back without events).
fn needs_steps(p: &Plan<'_>) -> bool {
    !p.window_is_fixed()
}

/// The recorded increments of one evaluation, then the counters' values they start from
/// next time (and, for calendar periods, the increments' phase copies). Per counter series
/// `c`, with `a` its value at the previous evaluation (looked up to [`BRIDGE`] back):
///
/// - `c - a` when `c >= a`;
/// - a reset (`c < a`): `c` plus what the series gained before the reset inside the step
///   (its highest value in the step above `a`);
/// - no `a` (a new series, or one silent longer than [`BRIDGE`]): `c` less its lowest value
///   in the last [`BRIDGE`].
fn step_recordings(p: &Plan<'_>) -> Vec<Yaml> {
    let counter = format!("{EVENTS}{}", p.selector(""));
    let last = format!(
        "last_over_time({LAST}{}[{}])",
        p.selector(""),
        duration(BRIDGE)
    );
    let step = duration(p.interval);
    let bridge = duration(BRIDGE);
    let increments = format!(
        "  (({counter} - {last}) >= 0)\n  or\n  \
         ({counter} + clamp_min(max_over_time({counter}[{step}]) - {last}, 0))\n  or\n  \
         ({counter} - min_over_time({counter}[{bridge}]))\n"
    );
    let (step_expr, last_expr) = match super::journey::of(p) {
        Some(j) => super::journey::step_exprs(p, j),
        None => (
            format!("sum by ({}, outcome) (\n{increments})", p.by()),
            counter,
        ),
    };
    let mut rules = vec![
        record(p, STEP, step_expr, Vec::new()),
        record(p, LAST, last_expr, Vec::new()),
    ];
    // A step belongs to the period of its middle: exactly the period it lies in when it
    // does not straddle the period's start.
    rules.extend(phase_recordings(p, STEP, p.interval / 2));
    rules
}

/// `(bad, all)` events in the SLO window (a long or calendar window) from the recorded
/// increments: bad is 0 while there are events but none bad.
fn window_events(p: &Plan<'_>) -> (String, String) {
    let (bad, all) = match p.window {
        Period::Rolling(w) => {
            let range = duration_less_1ms(w);
            let sum = |extra: &str| {
                sum_by(
                    p,
                    &format!("sum_over_time({STEP}{}[{range}])", p.selector(extra)),
                )
            };
            (sum("outcome=\"bad\""), sum(""))
        }
        Period::Calendar { .. } => (
            current_phase(p, STEP, "outcome=\"bad\"", "sum_over_time"),
            current_phase(p, STEP, "", "sum_over_time"),
        ),
    };
    (format!("(\n  {bad}\n  or\n  0 * {all}\n)"), all)
}

/// The error ratio over fixed window `window`: bad over all events, or the engine's bad
/// slices over its ended slices. With `guarded`, no series below `min_events` events.
pub(crate) fn error_ratio_expr(p: &Plan<'_>, window: u64, guarded: bool) -> String {
    if let Some(j) = super::journey::of(p) {
        let expr = super::journey::error_ratio_expr(p, j, window, guarded);
        return super::sloth::roll_up_only(p, expr);
    }
    if p.slices.is_some() {
        let ratio = slice_ratio(p, &plan::engine_label(window));
        return min_events_guard(p, ratio, events_in(p, window), guarded);
    }
    let range = duration(window);
    let (bad, total) = bad_and_all(p, "rate", &range);
    format!("{bad}\n/\n({total} {})", guard(p, guarded, window))
}

/// Bad slices over ended slices of the engine's window `label` (no series before a slice
/// has ended).
fn slice_ratio(p: &Plan<'_>, label: &str) -> String {
    let window = format!("window={}", plan::promql_string(label));
    let bad = sum_by(
        p,
        &format!(
            "{SLICES}{}",
            p.selector(&format!("{window}, outcome=\"bad\""))
        ),
    );
    let all = sum_by(p, &format!("{SLICES}{}", p.selector(&window)));
    format!("{bad}\n/\n({all} > 0)")
}

/// A timeslice SLO's `ratio`, with `guarded` only while `events` reach `min_events` (at
/// least one: the engine gives no burn rate to a window without events, even when slices
/// without events have ended in it).
fn min_events_guard(p: &Plan<'_>, ratio: String, events: String, guarded: bool) -> String {
    if guarded {
        let min = match p.slo.min_events {
            0 => "> 0".to_string(),
            n => format!(">= {n}"),
        };
        format!("(\n{ratio}\n)\nand on ({})\n({events} {min})", p.by())
    } else {
        ratio
    }
}

/// The error ratio over the SLO window when it is not a fixed window: a long rolling window
/// or the calendar period so far, from the recorded increments (or the engine's slices).
fn window_ratio_expr(p: &Plan<'_>, guarded: bool) -> String {
    if p.slices.is_some() {
        let ratio = slice_ratio(p, &p.engine_window_label());
        let (_, all) = window_events(p);
        return min_events_guard(p, ratio, all, guarded);
    }
    let (bad, all) = window_events(p);
    let min = if guarded && p.slo.min_events > 0 {
        format!(">= {}", p.slo.min_events)
    } else {
        "> 0".to_string()
    };
    format!("{bad}\n/\n({all} {min})")
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
    labels.extend(
        super::sloth::record_labels(p, name)
            .into_iter()
            .map(|(k, v)| (k, Yaml::Str(v))),
    );

    Yaml::map([
        ("record", Yaml::str(name)),
        ("expr", Yaml::Block(expr)),
        ("labels", Yaml::map(labels)),
    ])
}

fn recordings(p: &Plan<'_>) -> Vec<Yaml> {
    let sel = p.selector("");
    let mut rules: Vec<Yaml> = Vec::new();
    if needs_steps(p) {
        rules.extend(step_recordings(p));
    }
    rules.extend(
        p.windows
            .iter()
            .map(|&w| record(p, &ratio_name(w), error_ratio_expr(p, w, true), Vec::new())),
    );
    if !p.window_is_fixed() {
        rules.push(record(
            p,
            &p.window_ratio_name(),
            window_ratio_expr(p, true),
            Vec::new(),
        ));
    }
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
    if p.windows.contains(&plan::WINDOWS[0]) {
        rules.push(record(
            p,
            "slo:current_burn_rate:ratio",
            format!("{}{sel} / {}", ratio_name(plan::WINDOWS[0]), p.budget),
            Vec::new(),
        ));
    }
    rules.push(record(
        p,
        "slo:period_burn_rate:ratio",
        format!("{}{sel} / {}", p.window_ratio_name(), p.budget),
        Vec::new(),
    ));
    // The budget left is the API's: over the SLO window's error ratio, which `min_events`
    // does not hold back (it holds back burn rates only).
    let remaining = match p.window {
        _ if p.slo.min_events == 0 => format!("1 - slo:period_burn_rate:ratio{sel}"),
        Period::Rolling(w) if p.window_is_fixed() => {
            format!("1 - (\n{}\n) / {}", error_ratio_expr(p, w, false), p.budget)
        }
        _ => format!("1 - (\n{}\n) / {}", window_ratio_expr(p, false), p.budget),
    };
    rules.push(record(
        p,
        "slo:period_error_budget_remaining:ratio",
        remaining,
        Vec::new(),
    ));
    let info = vec![
        ("objective", p.objective_percent()),
        ("window", p.period_label()),
    ];
    rules.push(record(p, names::INFO, "vector(1)".to_string(), info));
    rules.extend(super::sloth::extra_recordings(p, |name, expr, extra| {
        record(p, name, expr, extra)
    }));
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
        "histogram_quantile({quantile}, sum by ({}) (rate({LATENCY}{}[{}]))) >= 0",
        p.by(),
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
