//! OpenSLO v1 `kind: SLO` documents whose indicator is inline and reads the `slotel` metric
//! source.
//!
//! `metricSource.spec` holds either `query`, a span condition, or `metric` (a metric name)
//! with an optional `query` over its data points' attributes, or `signal: logs` with
//! `query`, a log condition (and, for latencies, `latency: {field, unit}` as in the native
//! `sli.logs`). Mapping:
//!
//! - `ratioMetric` on spans or logs: `total.query` selects the spans (records); `bad.query`
//!   marks bad ones, or `good.query` good ones (bad = not good). On logs, `total` may name a
//!   `latency` field too (for percentiles). On metrics: good/bad/total monotonic sums.
//! - `thresholdMetric` with `objectives[0].op: lte` and `value`: on spans a latency
//!   threshold (`value` in seconds, or a duration such as `300ms`); on logs the same
//!   threshold over the `latency` field the source names; on a histogram metric, a
//!   threshold in the metric's unit.
//! - `timeWindow[0]`: rolling (`isRolling: true`, `duration: 28d`) or calendar (`1w` or
//!   `1M` with `calendar.timeZone`); `budgetingMethod: Occurrences` or `Timeslices` (with
//!   `timeSliceTarget` and `timeSliceWindow`); `objectives[0].target` (a ratio) or
//!   `targetPercent`.
//!
//! - `metadata.annotations` `slotel.dev/percentiles`, `slotel.dev/group-by`,
//!   `slotel.dev/max-groups` and `slotel.dev/min-events`: the native format's
//!   `percentiles`, `group_by`, `max_groups`, `min_events` and `adjusted_counts` (see
//!   `annotations.rs`).
//!
//! - A composite (objectives with `indicatorRef` and `compositeWeight`, no top-level
//!   indicator) is a journey over SLOs of the loaded set (see `composite.rs`).
//!
//! Documents of the other OpenSLO kinds (`Service`, `SLI`, …) are skipped; an SLO that
//! refers to them (`metricSourceRef`, a top-level `indicatorRef`) is refused.

mod annotations;
mod composite;

use crate::slo::ottl::{Condition, ConditionTarget};
use crate::slo::spec::values::{self, Source};
use crate::slo::spec::{
    Budgeting, CalendarUnit, LatencyField, LogSli, MetricSelector, MetricSli, Sli, Slo, SloWindow,
    SourceRef, SpanSli,
};
use crate::yaml::Node;
use crate::yaml::read::{Ctx, Fields, hint};

use super::Parsed;
use super::native::{DEFAULT_MAX_GROUPS, DEFAULT_PERCENTILES};

/// Kinds of OpenSLO documents that may share a file with SLOs; they are skipped.
const OTHER_KINDS: &[&str] = &[
    "Service",
    "SLI",
    "DataSource",
    "AlertPolicy",
    "AlertCondition",
    "AlertNotificationTarget",
];

/// The one metric source type slotel reads.
const SOURCE_TYPE: &str = "slotel";

pub(super) fn decode(ctx: &mut Ctx<'_>, src: &Source<'_>, root: &Node, out: &mut Vec<Parsed>) {
    let errors_before = ctx.errors.len();
    let mut top = Fields::new(ctx, root, "");
    top.required(ctx, "apiVersion", |ctx, node, path| {
        values::parsed(ctx, node, path, |s| match s {
            "openslo/v1" => Ok(()),
            _ => Err(format!(
                "unsupported apiVersion {s:?}, expected `openslo/v1`"
            )),
        })
    });
    let mut kinds = vec!["SLO"];
    kinds.extend(OTHER_KINDS);
    let kind = top.required(ctx, "kind", |ctx, node, path| {
        values::parsed(ctx, node, path, |s| match kinds.contains(&s) {
            true => Ok(s.to_string()),
            false => Err(format!("unknown kind {s:?}{}", hint(s, &kinds))),
        })
    });
    // Another OpenSLO kind is skipped; an unknown one is reported once, not its fields.
    if kind.as_deref() != Some("SLO") && top.get("kind").is_some() {
        return;
    }
    let mut metadata = top.child(ctx, "metadata");
    let at = metadata.get("name").unwrap_or(metadata.node);
    let (line, column) = (at.line, at.column);
    let name = metadata.required(ctx, "name", values::name);
    for key in ["displayName", "namespace", "labels"] {
        metadata.get(key);
    }
    let extras = metadata
        .opt(ctx, "annotations", |c, n, p| {
            Some(annotations::read(c, src, n, p))
        })
        .unwrap_or_default();
    metadata.finish(ctx);
    let spec = top.section(ctx, "spec");
    if spec.is_none() && top.valid {
        ctx.error(root, "", "missing required field `spec`");
    }
    top.finish(ctx);
    let Some(mut spec) = spec else {
        return;
    };
    let description = spec.opt(ctx, "description", values::text);
    let service = spec.required(ctx, "service", values::name);
    let window = spec.required(ctx, "timeWindow", time_window);
    let methods = ["Occurrences", "Timeslices", "RatioTimeslices"];
    let timeslices = spec.required(ctx, "budgetingMethod", |ctx, node, path| {
        values::parsed(ctx, node, path, |s| match s {
            "Occurrences" => Ok(false),
            "Timeslices" => Ok(true),
            "RatioTimeslices" => Err("`RatioTimeslices` is not supported, use `Occurrences` \
                                      or `Timeslices`"
                .to_string()),
            _ => Err(format!(
                "invalid budgetingMethod {s:?}{}",
                hint(s, &methods)
            )),
        })
    });
    let composite = spec.get("indicator").is_none()
        && spec.get("indicatorRef").is_none()
        && spec.get("objectives").is_some_and(composite::is_composite);
    if composite {
        let journey = spec.required(ctx, "objectives", |c, n, p| {
            composite::read(c, n, p, service.as_deref(), timeslices.unwrap_or(false))
        });
        spec.get("alertPolicies");
        spec.finish(ctx);
        if !extras.group_by.is_empty() || extras.percentiles.is_some() {
            let msg = "`slotel.dev/group-by` and `slotel.dev/percentiles` do not apply to a \
                       composite (it is counted per cluster, from its members' events)";
            ctx.error(root, "metadata.annotations", msg);
        }
        if ctx.errors.len() == errors_before
            && let (Some((target, journey)), Some(service), Some(name), Some(window)) =
                (journey, service, name, window)
        {
            let head = Slo {
                service,
                name,
                description,
                objective: target,
                window,
                budgeting: Budgeting::Occurrences,
                sli: Sli::Journey(journey),
                percentiles: Vec::new(),
                group_by: Vec::new(),
                max_groups: DEFAULT_MAX_GROUPS,
                min_events: extras.min_events.unwrap_or(0),
                runbook_url: None,
                alerting: Default::default(),
                source: SourceRef {
                    file: ctx.file.to_string(),
                    line,
                    column,
                },
            };
            out.push(Parsed { slo: head, column });
        }
        return;
    }
    if let Some(node) = spec.get("indicatorRef") {
        let msg = "`indicatorRef` names the members of a composite (in `objectives`): define \
                   this slo's indicator inline under `indicator`";
        ctx.error(node, &spec.path("indicatorRef"), msg);
    }
    let indicator = spec.section(ctx, "indicator");
    if indicator.is_none() && spec.get("indicatorRef").is_none() && spec.valid {
        ctx.error(spec.node, &spec.path, "missing required field `indicator`");
    }
    let objectives = spec.required(ctx, "objectives", |ctx, node, path| {
        let items = ctx.seq(node, path)?;
        match items {
            [one] => Some(Fields::new(ctx, one, &format!("{path}[0]"))),
            [] => {
                ctx.error(node, path, "must list one objective");
                None
            }
            [_, second, ..] => {
                let msg = "only one objective per slo is supported";
                ctx.error(second, &format!("{path}[1]"), msg);
                None
            }
        }
    });
    spec.get("alertPolicies");
    spec.finish(ctx);

    let objective = objectives.map(|o| objective(ctx, o, timeslices.unwrap_or(false)));
    let sli = indicator.and_then(|i| {
        let threshold = objective.as_ref().and_then(|o| o.threshold);
        indicator_sli(ctx, src, i, threshold)
    });
    if ctx.errors.len() > errors_before {
        return;
    }
    let (Some(objective), Some(service), Some(name)) = (objective, service, name) else {
        return;
    };
    let (Some(target), Some(window), Some(mut sli)) = (objective.target, window, sli) else {
        return;
    };
    if let (Sli::Spans(s), Some(adjusted)) = (&mut sli, extras.adjusted_counts) {
        s.adjusted_counts = adjusted;
    }
    super::logs::check_group_by(
        ctx,
        extras.group_by_node.as_ref(),
        "metadata.annotations.slotel.dev/group-by",
        Some(&sli),
        &extras.group_by,
    );
    if ctx.errors.len() > errors_before {
        return;
    }
    out.push(Parsed {
        slo: Slo {
            service,
            name,
            description,
            objective: target,
            window,
            budgeting: objective.budgeting,
            sli,
            percentiles: extras
                .percentiles
                .unwrap_or_else(|| DEFAULT_PERCENTILES.to_vec()),
            group_by: extras.group_by,
            max_groups: extras.max_groups.unwrap_or(DEFAULT_MAX_GROUPS),
            min_events: extras.min_events.unwrap_or(0),
            runbook_url: None,
            alerting: Default::default(),
            source: SourceRef {
                file: ctx.file.to_string(),
                line,
                column,
            },
        },
        column,
    });
}

/// `timeWindow`: a list of exactly one window.
fn time_window(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<SloWindow> {
    let items = ctx.seq(node, path)?;
    let item = match items {
        [one] => one,
        [] => {
            ctx.error(node, path, "must list one time window");
            return None;
        }
        [_, second, ..] => {
            let msg = "only one time window per slo is supported";
            ctx.error(second, &format!("{path}[1]"), msg);
            return None;
        }
    };
    let mut f = Fields::new(ctx, item, &format!("{path}[0]"));
    let duration_node = f.get("duration");
    let duration = f.required(ctx, "duration", values::non_empty);
    let rolling = f.opt(ctx, "isRolling", values::boolean).unwrap_or(false);
    let calendar = f.section(ctx, "calendar");
    f.finish(ctx);
    let (duration, duration_node) = (duration?, duration_node?);
    let duration_path = format!("{path}[0].duration");
    if rolling {
        if let Some(calendar) = calendar {
            let msg = "`calendar` applies only when `isRolling` is false";
            ctx.error(calendar.node, &calendar.path, msg);
        }
        if duration.ends_with(['M', 'Q', 'Y']) {
            let msg = format!(
                "rolling window {duration:?} must be written in days or weeks, e.g. `28d` or `4w`"
            );
            ctx.error(duration_node, &duration_path, msg);
            return None;
        }
        return values::rolling(ctx, duration_node, &duration_path);
    }
    let unit = match duration.as_str() {
        "1M" => CalendarUnit::Month,
        "1w" => CalendarUnit::Week,
        _ => {
            let msg = format!(
                "calendar window {duration:?} is not supported, expected `1M` (a month) or \
                 `1w` (a week), or set `isRolling: true`"
            );
            ctx.error(duration_node, &duration_path, msg);
            return None;
        }
    };
    let time_zone = calendar.and_then(|mut c| {
        c.get("startTime");
        let zone = c.opt(ctx, "timeZone", values::time_zone);
        c.finish(ctx);
        zone
    });
    Some(SloWindow::Calendar {
        unit,
        time_zone: time_zone.unwrap_or_else(|| "UTC".to_string()),
    })
}

struct Objective {
    target: Option<f64>,
    budgeting: Budgeting,
    /// `value` with `op: lte`, for `thresholdMetric`.
    threshold: Option<f64>,
}

fn objective(ctx: &mut Ctx<'_>, mut f: Fields<'_>, timeslices: bool) -> Objective {
    for key in ["displayName", "indicator", "compositeWeight"] {
        f.get(key);
    }
    let target = f.opt(ctx, "target", |c, n, p| values::ratio(c, n, p, false));
    let percent = f.opt(ctx, "targetPercent", |c, n, p| {
        values::percent(c, n, p, false)
    });
    let (has_target, has_percent) = (f.get("target").is_some(), f.get("targetPercent").is_some());
    if has_target && has_percent {
        let node = f.get("targetPercent").unwrap_or(f.node);
        let msg = "give `target` (a ratio) or `targetPercent`, not both";
        ctx.error(node, &f.path("targetPercent"), msg);
    } else if !has_target && !has_percent && f.valid {
        let msg = "missing `target` (a ratio such as 0.999) or `targetPercent` (such as 99.9)";
        ctx.error(f.node, &f.path, msg);
    }
    let op = f.opt(ctx, "op", |ctx, node, path| {
        values::parsed(ctx, node, path, |s| match s {
            "lte" => Ok(()),
            _ => Err(format!(
                "unsupported op {s:?}: only `lte` is supported (good = value ≤ `value`)"
            )),
        })
    });
    let value = f.opt(ctx, "value", values::threshold);
    let threshold = op.and(value);
    let slice_target = f.opt(ctx, "timeSliceTarget", |c, n, p| {
        values::ratio(c, n, p, true)
    });
    let slice = f.opt(ctx, "timeSliceWindow", values::slice);
    let budgeting = if timeslices {
        for (key, missing) in [
            ("timeSliceTarget", slice_target.is_none()),
            ("timeSliceWindow", slice.is_none()),
        ] {
            if missing && f.get(key).is_none() && f.valid {
                let msg = format!("missing required field `{key}` (budgetingMethod is Timeslices)");
                ctx.error(f.node, &f.path, msg);
            }
        }
        match (slice, slice_target) {
            (Some(slice), Some(slice_target)) => Budgeting::Timeslices {
                slice,
                slice_target,
            },
            _ => Budgeting::Occurrences,
        }
    } else {
        for key in ["timeSliceTarget", "timeSliceWindow"] {
            if let Some(node) = f.get(key) {
                let msg = format!("`{key}` applies only with `budgetingMethod: Timeslices`");
                ctx.error(node, &f.path(key), msg);
            }
        }
        Budgeting::Occurrences
    };
    f.finish(ctx);
    Objective {
        target: target.or(percent),
        budgeting,
        threshold,
    }
}

/// What one `metricSource` reads.
#[derive(Clone)]
enum Query {
    Spans(Condition, Node),
    Metric(MetricSelector, Node),
    /// `signal: logs`: the condition and the `latency` field, if named.
    Logs(Condition, Option<LatencyField>, Node),
}

fn indicator_sli(
    ctx: &mut Ctx<'_>,
    src: &Source<'_>,
    mut f: Fields<'_>,
    threshold: Option<f64>,
) -> Option<Sli> {
    f.get("metadata");
    let spec = f.section(ctx, "spec");
    if spec.is_none() && f.valid {
        ctx.error(f.node, &f.path, "missing required field `spec`");
    }
    f.finish(ctx);
    let mut spec = spec?;
    let ratio = spec.section(ctx, "ratioMetric");
    let threshold_metric = spec.section(ctx, "thresholdMetric");
    let (node, path, valid) = (spec.node, spec.path.clone(), spec.valid);
    spec.finish(ctx);
    match (ratio, threshold_metric) {
        (Some(ratio), None) => ratio_sli(ctx, src, ratio),
        (None, Some(mut t)) => {
            let query = t.required(ctx, "metricSource", |c, n, p| metric_source(c, src, n, p));
            let (t_node, t_path) = (t.node, t.path.clone());
            t.finish(ctx);
            let Some(value) = threshold else {
                let msg = "a thresholdMetric needs `op: lte` and `value` in `objectives[0]`";
                ctx.error(t_node, &t_path, msg);
                return None;
            };
            match query? {
                Query::Spans(filter, _) => Some(Sli::Spans(SpanSli {
                    filter,
                    bad: None,
                    latency_threshold: Some(std::time::Duration::from_secs_f64(value)),
                    adjusted_counts: true,
                })),
                Query::Metric(metric, _) => Some(Sli::Metric(MetricSli::Threshold {
                    metric,
                    threshold: value,
                })),
                Query::Logs(_, None, node) => {
                    let msg = "a thresholdMetric over logs needs `latency` in its source's \
                               `spec`: `field` (where each record's latency is) and `unit`";
                    ctx.error(&node, &t_path, msg);
                    None
                }
                Query::Logs(filter, Some(latency), _) => Some(Sli::Logs(LogSli {
                    filter,
                    bad: None,
                    latency: Some(latency),
                    latency_threshold: Some(std::time::Duration::from_secs_f64(value)),
                })),
            }
        }
        (Some(_), Some(t)) => {
            let msg = "give either `ratioMetric` or `thresholdMetric`, not both";
            ctx.error(t.node, &t.path, msg);
            None
        }
        (None, None) => {
            if valid {
                ctx.error(node, &path, "missing `ratioMetric` or `thresholdMetric`");
            }
            None
        }
    }
}

fn ratio_sli(ctx: &mut Ctx<'_>, src: &Source<'_>, mut f: Fields<'_>) -> Option<Sli> {
    f.opt(ctx, "counter", values::boolean);
    for key in ["raw", "rawType"] {
        if let Some(node) = f.get(key) {
            let msg = format!("`{key}` is not supported: give `good` or `bad`, and `total`");
            ctx.error(node, &f.path(key), msg);
        }
    }
    let mut read = |f: &mut Fields<'_>, key: &'static str| {
        f.opt(ctx, key, |ctx, node, path| {
            let mut holder = Fields::new(ctx, node, path);
            let query = holder.required(ctx, "metricSource", |c, n, p| metric_source(c, src, n, p));
            holder.finish(ctx);
            query
        })
    };
    let good = read(&mut f, "good");
    let bad = read(&mut f, "bad");
    let total = read(&mut f, "total");
    let (has_good, has_bad) = (f.get("good").is_some(), f.get("bad").is_some());
    if f.get("total").is_none() && f.valid {
        ctx.error(f.node, &f.path, "missing required field `total`");
    }
    if has_good == has_bad && f.valid {
        let msg = "give exactly one of `good` and `bad` (with `total`)";
        ctx.error(f.node, &f.path, msg);
    }
    let path = f.path.clone();
    f.finish(ctx);
    match (good.or(bad.clone()), total?) {
        (Some(Query::Spans(part, _)), Query::Spans(filter, _)) => {
            let bad = if has_good { part.negate() } else { part };
            Some(Sli::Spans(SpanSli {
                filter,
                bad: Some(bad),
                latency_threshold: None,
                adjusted_counts: true,
            }))
        }
        (Some(Query::Metric(part, _)), Query::Metric(total, _)) => {
            let (good, bad) = if has_good {
                (Some(part), None)
            } else {
                (None, Some(part))
            };
            Some(Sli::Metric(MetricSli::Ratio { good, bad, total }))
        }
        (Some(Query::Logs(part, latency, node)), Query::Logs(filter, total_latency, _)) => {
            if latency.is_some() {
                let msg = "`latency` belongs to `total` (the records counted), not to `good` \
                           or `bad`";
                ctx.error(&node, &path, msg);
                return None;
            }
            let bad = if has_good { part.negate() } else { part };
            Some(Sli::Logs(LogSli {
                filter,
                bad: Some(bad),
                latency: total_latency,
                latency_threshold: None,
            }))
        }
        (Some(Query::Spans(_, node) | Query::Metric(_, node) | Query::Logs(_, _, node)), _) => {
            let msg = "`total` and `good`/`bad` must read the same signal: all span conditions \
                       (`query`), all log conditions (`signal: logs`) or all metrics (`metric`)";
            ctx.error(&node, &path, msg);
            None
        }
        (None, _) => None,
    }
}

/// `metricSource: {type: slotel, spec: {query: …}}`, `spec: {metric: …, query: …}` or
/// `spec: {signal: logs, query: …, latency: {field: …, unit: …}}`.
fn metric_source(ctx: &mut Ctx<'_>, src: &Source<'_>, node: &Node, path: &str) -> Option<Query> {
    let mut f = Fields::new(ctx, node, path);
    if let Some(at) = f.get("metricSourceRef") {
        let msg = "`metricSourceRef` is not supported: use `type: slotel` and an inline `spec`";
        ctx.error(at, &f.path("metricSourceRef"), msg);
    }
    f.required(ctx, "type", |ctx, node, path| {
        values::parsed(ctx, node, path, |s| {
            match s.eq_ignore_ascii_case(SOURCE_TYPE) {
                true => Ok(()),
                false => Err(format!(
                    "unsupported metric source type {s:?}, expected `{SOURCE_TYPE}`"
                )),
            }
        })
    });
    let spec = f.section(ctx, "spec");
    if spec.is_none() && f.valid {
        ctx.error(f.node, &f.path, "missing required field `spec`");
    }
    f.finish(ctx);
    let mut spec = spec?;
    let at = spec.node.clone();
    let signals = ["spans", "logs"];
    let signal_node = spec.get("signal");
    let logs = spec
        .opt(ctx, "signal", |ctx, node, path| {
            values::parsed(ctx, node, path, |s| match s {
                "spans" => Ok(false),
                "logs" => Ok(true),
                _ => Err(format!(
                    "unknown signal {s:?}{}: `spans` (the default) or `logs`; a metric is \
                     named by `metric`",
                    hint(s, &signals)
                )),
            })
        })
        .unwrap_or(false);
    let metric_node = spec.get("metric");
    let metric = spec.opt(ctx, "metric", values::non_empty);
    let has_metric = metric_node.is_some();
    if let (Some(node), true) = (signal_node, has_metric) {
        let msg = "`signal` does not go with `metric`: a metric source reads that metric's \
                   data points";
        ctx.error(node, &spec.path("signal"), msg);
    }
    let latency_node = spec.get("latency");
    let latency = spec
        .section(ctx, "latency")
        .and_then(|l| super::logs::latency_field(ctx, src, l));
    if let (Some(node), false) = (latency_node, logs) {
        let msg = "`latency` (a field of each record) applies only with `signal: logs`";
        ctx.error(node, &spec.path("latency"), msg);
    }
    let target = match (has_metric, logs) {
        (true, _) => ConditionTarget::Metric,
        (false, true) => ConditionTarget::Log,
        (false, false) => ConditionTarget::Span,
    };
    let read_query = |c: &mut Ctx<'_>, n: &Node, p: &str| values::condition(c, src, n, p, target);
    let query = match has_metric {
        true => spec.opt(ctx, "query", read_query),
        false => spec.required(ctx, "query", read_query),
    };
    spec.finish(ctx);
    if has_metric {
        let selector = MetricSelector {
            name: metric?,
            filter: query,
        };
        Some(Query::Metric(selector, at))
    } else if logs {
        Some(Query::Logs(query?, latency, at))
    } else {
        Some(Query::Spans(query?, at))
    }
}
