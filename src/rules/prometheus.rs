//! The Prometheus rule file, loadable by Prometheus, Mimir's ruler and `promtool`: per SLO
//! one group with its recording rules and then its burn-rate alerts (or, for teams whose
//! alerts are Grafana-managed, the recordings alone), and for timeslice SLOs a second group
//! that judges one slice per evaluation.
//!
//! Every SLI recording is traffic-weighted over its own window and computed as the engine
//! computes the API's numbers (see `slo/engine/status.rs`), per SLO shape:
//!
//! - **Fixed windows** (5m … 3d): bad events over all events, `sum by` the SLO's labels of
//!   the counter rates over the window.
//! - **Long rolling windows** (7d, 28d, 30d …): the same, over the window (exact: a sum of
//!   recorded 5m rates would weigh the last 5 minutes' events less than older ones).
//! - **Calendar windows** (month, week, in a fixed-offset time zone): the sums over the
//!   period so far of the recorded 5m rates of bad and of all events
//!   (`slo:sli_bad_events:rate5m`, `slo:sli_events:rate5m`), one sample per evaluation of a
//!   few series. PromQL ranges are fixed, so each 5m rate is also recorded under
//!   `phase` = (period number mod 3) of its evaluation time, the period number being
//!   computed with `year()`, `month()` or `time()` shifted by the zone's offset; a 31-day
//!   (7-day) range holds at most the current period and the two before, so the series whose
//!   phase is the current period's holds exactly the current period's rates.
//! - **Time slices**: a group evaluated once per slice records whether the slice just ended
//!   was bad (good / total below the slice target; a slice without events is good, and
//!   slices before the SLO's first event do not exist); a window's error ratio is bad
//!   slices over the slices that start inside it (`sum_over_time` / `count_over_time`), a
//!   calendar period's those of the slices that start in it (phases as above).
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

/// The recorded 5m rates long windows are summed from.
const EVENTS_RATE: &str = "slo:sli_events:rate5m";
const BAD_RATE: &str = "slo:sli_bad_events:rate5m";
/// The per-slice judgement of timeslice SLOs (1 bad, 0 good).
const SLICE_BAD: &str = "slo:sli_timeslice:bad";
/// The range of the recorded rates.
const RATE_RANGE: u64 = 300;

/// The rule file: per SLO its group (recordings first, then with `alerts` its burn-rate
/// alerts, which so read the recordings of the same evaluation), and for timeslice SLOs
/// the slices group before it.
pub(crate) fn rule_file(plans: &[Plan<'_>], alerts: bool) -> Yaml {
    let mut groups = Vec::new();
    for p in plans {
        if let Some((slice, _)) = p.slices {
            groups.push(Yaml::map([
                ("name", Yaml::str(format!("{}:slices", group_name(p)))),
                ("interval", Yaml::str(duration(slice))),
                ("rules", Yaml::Seq(slice_recordings(p, slice))),
            ]));
        }
        let mut rules = recordings(p);
        if alerts {
            rules.extend(p.alerts.iter().map(|pair| alert(p, pair)));
        }
        groups.push(Yaml::map([
            ("name", Yaml::str(group_name(p))),
            ("interval", Yaml::str(duration(p.interval))),
            ("rules", Yaml::Seq(rules)),
        ]));
    }
    Yaml::map([("groups", Yaml::Seq(groups))])
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
fn group_name(p: &Plan<'_>) -> String {
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

/// `f` over the range of the phase copy of `name` that belongs to the current period.
fn current_phase(p: &Plan<'_>, name: &str, f: &str) -> String {
    let Period::Calendar { unit, offset } = p.window else {
        return String::new();
    };
    let range = period_range(unit);
    let index = period_index(unit, offset, 0);
    let branches: Vec<String> = (0..3)
        .map(|r| {
            format!(
                "  {f}({name}_phase{}[{range}]) and on () ({index} % 3 == {r})",
                p.selector(&format!("phase=\"{r}\""))
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

/// The error ratio over fixed window `window`: bad over all events, or bad slices over the
/// slices that start in it. With `guarded`, no series below `min_events` events.
pub(crate) fn error_ratio_expr(p: &Plan<'_>, window: u64, guarded: bool) -> String {
    if let Some((slice, _)) = p.slices {
        let range = duration_less_1ms(window - slice);
        let sel = p.selector("");
        let ratio = format!(
            "sum_over_time({SLICE_BAD}{sel}[{range}])\n/\ncount_over_time({SLICE_BAD}{sel}[{range}])"
        );
        return min_events_guard(p, ratio, events_in(p, window), guarded);
    }
    let range = duration(window);
    let (bad, total) = bad_and_all(p, "rate", &range);
    format!("{bad}\n/\n({total} {})", guard(p, guarded, window))
}

/// `ratio` while `events` reach `min_events` (when guarded and set).
fn min_events_guard(p: &Plan<'_>, ratio: String, events: String, guarded: bool) -> String {
    if guarded && p.slo.min_events > 0 {
        format!(
            "(\n{ratio}\n)\nand on ({})\n({events} >= {})",
            p.by(),
            p.slo.min_events
        )
    } else {
        ratio
    }
}

/// The error ratio over the SLO window when it is not a fixed window: a long rolling window
/// or the calendar period so far, from the recorded 5m rates (or slice judgements).
fn window_ratio_expr(p: &Plan<'_>, guarded: bool) -> String {
    let per = p.interval;
    match (p.window, p.slices) {
        // Rolling windows stay exact: the counters' rates over the window (a series that
        // starts inside it is not extrapolated, so counts and ratios are the API's).
        (Period::Rolling(w), None) => error_ratio_expr(p, w, guarded),
        (Period::Rolling(w), Some((slice, _))) => {
            let range = duration_less_1ms(w - slice);
            let sel = p.selector("");
            let ratio = format!(
                "sum_over_time({SLICE_BAD}{sel}[{range}])\n/\ncount_over_time({SLICE_BAD}{sel}[{range}])"
            );
            min_events_guard(p, ratio, events_in(p, w), guarded)
        }
        (Period::Calendar { .. }, None) => format!(
            "{}\n/\n({} {})",
            current_phase(p, BAD_RATE, "sum_over_time"),
            current_phase(p, EVENTS_RATE, "sum_over_time"),
            guard(p, guarded, per)
        ),
        (Period::Calendar { .. }, Some(_)) => {
            let ratio = format!(
                "{}\n/\n{}",
                current_phase(p, SLICE_BAD, "sum_over_time"),
                current_phase(p, SLICE_BAD, "count_over_time")
            );
            let events = format!(
                "{} * {}",
                current_phase(p, EVENTS_RATE, "sum_over_time"),
                p.interval
            );
            min_events_guard(p, ratio, events, guarded)
        }
    }
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

/// The slices group: whether the slice that just ended was bad, and its phase copies.
fn slice_recordings(p: &Plan<'_>, slice: u64) -> Vec<Yaml> {
    let target = p.slices.map(|(_, t)| t).unwrap_or(1.0);
    let (bad, all) = bad_and_all(p, "increase", &duration(slice));
    let mut rules = vec![record(
        p,
        SLICE_BAD,
        format!(
            "(\n  {all}\n  -\n  {bad}\n)\n< bool {} * {all}",
            plan::number(target)
        ),
        Vec::new(),
    )];
    // A slice belongs to the period it starts in.
    rules.extend(phase_recordings(p, SLICE_BAD, slice));
    rules
}

fn recordings(p: &Plan<'_>) -> Vec<Yaml> {
    let sel = p.selector("");
    let mut rules: Vec<Yaml> = Vec::new();
    // Calendar windows sum recorded rates (timeslice SLOs only to hold burn rates back
    // below `min_events`).
    let calendar = matches!(p.window, Period::Calendar { .. });
    if calendar && (p.slices.is_none() || p.slo.min_events > 0) {
        let (bad, all) = bad_and_all(p, "rate", &duration(RATE_RANGE));
        rules.push(record(p, EVENTS_RATE, all, Vec::new()));
        rules.push(record(p, BAD_RATE, bad, Vec::new()));
        // A 5m rate belongs to the period of its middle: with evaluations 5m apart, exactly
        // the period its 5 minutes are in.
        rules.extend(phase_recordings(p, EVENTS_RATE, RATE_RANGE / 2));
        rules.extend(phase_recordings(p, BAD_RATE, RATE_RANGE / 2));
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
