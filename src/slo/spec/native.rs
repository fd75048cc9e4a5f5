//! The native SLO format: `service` and a list of `slos` (see `config/slos/README.md`).

use crate::slo::ottl::ConditionTarget;
use crate::slo::spec::values::{self, Source};
use crate::slo::spec::{
    AlertOverride, Alerting, Budgeting, MetricSelector, MetricSli, Sli, Slo, SloWindow, SourceRef,
    SpanSli,
};
use crate::yaml::read::{Ctx, Fields, hint};
use crate::yaml::{Node, Value};

use super::Parsed;

/// Percentiles reported when `percentiles` is not given.
pub const DEFAULT_PERCENTILES: [f64; 5] = [50.0, 90.0, 95.0, 99.0, 99.9];

/// `max_groups` when not given.
pub const DEFAULT_MAX_GROUPS: usize = 1000;

pub(super) fn decode(
    ctx: &mut Ctx<'_>,
    src: &Source<'_>,
    root: &Node,
    out: &mut Vec<Parsed>,
    adjustments: &mut Vec<crate::slo::adjust::Adjustment>,
) {
    let mut top = Fields::new(ctx, root, "");
    let service = top.required(ctx, "service", values::name);
    let items = top.required(ctx, "slos", |ctx, node, path| {
        let Value::Seq(items) = &node.value else {
            let msg = format!("expected a list, found {}", node.describe());
            ctx.error(node, path, msg);
            return None;
        };
        if items.is_empty() {
            ctx.error(node, path, "must list at least one slo");
        }
        Some(items)
    });
    let adjusted = top.get("adjustments");
    top.finish(ctx);
    let first = out.len();
    for (i, item) in items.into_iter().flatten().enumerate() {
        let path = format!("slos[{i}]");
        if let Some(parsed) = slo(ctx, src, item, &path, service.as_deref()) {
            out.push(parsed);
        }
    }
    if let (Some(node), Some(service)) = (adjusted, service) {
        let (journeys, names): (Vec<&Parsed>, Vec<&Parsed>) = out[first..]
            .iter()
            .partition(|p| matches!(&p.slo.sli, Sli::Journey(j) if j.trace.is_none()));
        let name = |p: &&Parsed| p.slo.name.clone();
        let names: Vec<String> = names.iter().map(name).collect();
        let journeys: Vec<String> = journeys.iter().map(name).collect();
        adjustments.extend(crate::slo::adjust::file::decode(
            ctx,
            node,
            "adjustments",
            &service,
            (&names, &journeys),
        ));
    }
}

fn slo(
    ctx: &mut Ctx<'_>,
    src: &Source<'_>,
    item: &Node,
    path: &str,
    service: Option<&str>,
) -> Option<Parsed> {
    let errors_before = ctx.errors.len();
    let mut f = Fields::new(ctx, item, path);
    let at = f.get("name").unwrap_or(item);
    let (line, column) = (at.line, at.column);
    let name = f.required(ctx, "name", values::name);
    let description = f.opt(ctx, "description", values::text);
    let objective = f.required(ctx, "objective", |c, n, p| values::percent(c, n, p, false));
    let window = f.required(ctx, "window", window);
    let budgeting = budgeting(ctx, &mut f);
    let journey_node = f.get("journey");
    let sli = match journey_node {
        Some(node) => {
            if f.get("sli").is_some() {
                let msg = "give either `sli` or `journey`, not both";
                ctx.error(node, &f.path("journey"), msg);
            }
            super::journey::check_native_fields(ctx, &mut f);
            f.opt(ctx, "journey", |c, n, p| {
                super::journey::native(c, n, p, service)
            })
            .map(Sli::Journey)
        }
        None => f.required(ctx, "sli", |c, n, p| sli(c, src, n, p)),
    };
    let mut sli = sli;
    let adjusted_counts = f.opt(ctx, "adjusted_counts", values::boolean);
    match (&mut sli, adjusted_counts) {
        (Some(Sli::Spans(s)), Some(adjusted)) => s.adjusted_counts = adjusted,
        (Some(_), Some(_)) => {
            if let Some(at) = f.get("adjusted_counts") {
                let msg = "`adjusted_counts` applies to span slis (a metric's points carry no \
                           sampling threshold; a journey's members count as their own slos do)";
                ctx.error(at, &f.path("adjusted_counts"), msg);
            }
        }
        _ => {}
    }
    let mut common = common(ctx, src, &mut f);
    let group_by_node = f.get("group_by");
    super::logs::check_group_by(
        ctx,
        group_by_node,
        &f.path("group_by"),
        sli.as_ref(),
        &common.group_by,
    );
    if journey_node.is_some() {
        common.percentiles.clear();
    }
    let alerting = f.opt(ctx, "alerting", alerting).unwrap_or_default();
    f.finish(ctx);
    if ctx.errors.len() > errors_before {
        return None;
    }
    Some(Parsed {
        slo: Slo {
            service: service?.to_string(),
            name: name?,
            description,
            objective: objective?,
            window: window?,
            budgeting: budgeting?,
            sli: sli?,
            percentiles: common.percentiles,
            group_by: common.group_by,
            max_groups: common.max_groups,
            min_events: common.min_events,
            runbook_url: common.runbook_url,
            alerting,
            source: SourceRef {
                file: ctx.file.to_string(),
                line,
                column,
            },
        },
        column,
    })
}

/// The optional native fields beyond objective, window and SLI.
pub(super) struct Common {
    pub(super) percentiles: Vec<f64>,
    pub(super) group_by: Vec<crate::slo::spec::AttrRef>,
    pub(super) max_groups: usize,
    pub(super) min_events: u64,
    pub(super) runbook_url: Option<String>,
}

/// `percentiles`, `group_by`, `max_groups`, `min_events`, `runbook_url`.
pub(super) fn common(ctx: &mut Ctx<'_>, src: &Source<'_>, f: &mut Fields<'_>) -> Common {
    let percentiles = values::list(ctx, f, "percentiles", |ctx, node, path| {
        let p = values::number(ctx, node, path)?;
        if p > 0.0 && p < 100.0 {
            Some(p)
        } else {
            let msg = format!("a percentile must be in (0, 100), found {p}");
            ctx.error(node, path, msg);
            None
        }
    });
    if let (Some(list), Some(node)) = (&percentiles, f.get("percentiles"))
        && let Some(p) = list
            .iter()
            .enumerate()
            .find(|(i, p)| list[..*i].contains(p))
    {
        let msg = format!("percentile {} is listed twice", p.1);
        ctx.error(node, &f.path("percentiles"), msg);
    }
    let group_by = values::list(ctx, f, "group_by", |ctx, node, path| {
        values::attribute(ctx, src, node, path)
    })
    .unwrap_or_default();
    if let Some(node) = f.get("group_by")
        && let Some(attr) = group_by
            .iter()
            .enumerate()
            .find(|(i, a)| group_by[..*i].contains(a))
    {
        let msg = format!("`{}` is listed twice", attr.1);
        ctx.error(node, &f.path("group_by"), msg);
    } else if let Some(node) = f.get("group_by")
        && let Value::Seq(items) = &node.value
        && items.len() == group_by.len()
    {
        // Every entry parsed: each error at its entry.
        for (i, item) in items.iter().enumerate() {
            if let Some(msg) = super::group_label_error(&group_by, i) {
                ctx.error(item, &format!("{}[{i}]", f.path("group_by")), msg);
            }
        }
    }
    let max_groups = f.opt(ctx, "max_groups", |c, n, p| {
        values::whole(c, n, p, 1, values::MAX_GROUPS_LIMIT as u64)
    });
    let min_events = f.opt(ctx, "min_events", |c, n, p| {
        values::whole(c, n, p, 0, u64::MAX)
    });
    // An annotation of every alert, expanded by the ruler as a template.
    let runbook_url = f.opt(ctx, "runbook_url", |c, n, p| {
        let url = values::non_empty(c, n, p)?;
        match super::template::template_error(&url) {
            Some(msg) => {
                c.error(n, p, msg);
                None
            }
            None => Some(url),
        }
    });
    Common {
        percentiles: percentiles.unwrap_or_else(|| DEFAULT_PERCENTILES.to_vec()),
        group_by,
        max_groups: max_groups.map_or(DEFAULT_MAX_GROUPS, |n| n as usize),
        min_events: min_events.unwrap_or(0),
        runbook_url,
    }
}

/// `30d`, or `{calendar: month, time_zone: Asia/Seoul}`.
fn window(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<SloWindow> {
    if !matches!(node.value, Value::Map(_)) {
        return values::rolling(ctx, node, path);
    }
    let mut f = Fields::new(ctx, node, path);
    let unit = f.required(ctx, "calendar", values::calendar_unit);
    let time_zone = f.opt(ctx, "time_zone", values::time_zone);
    f.finish(ctx);
    Some(SloWindow::Calendar {
        unit: unit?,
        time_zone: time_zone.unwrap_or_else(|| "UTC".to_string()),
    })
}

/// `budgeting_method` (`occurrences`, the default, or `timeslices`) and `timeslice`.
fn budgeting(ctx: &mut Ctx<'_>, f: &mut Fields<'_>) -> Option<Budgeting> {
    let methods = ["occurrences", "timeslices"];
    let timeslices = f.opt(ctx, "budgeting_method", |ctx, node, path| {
        values::parsed(ctx, node, path, |s| match s {
            "occurrences" => Ok(false),
            "timeslices" => Ok(true),
            _ => Err(format!(
                "invalid budgeting method {s:?}{}",
                hint(s, &methods)
            )),
        })
    });
    let method_node = f.get("budgeting_method");
    let slice = f.section(ctx, "timeslice");
    match (timeslices, slice) {
        (Some(true), Some(mut slice)) => {
            let size = slice.required(ctx, "size", values::slice);
            let target = slice.required(ctx, "target", |c, n, p| values::percent(c, n, p, true));
            slice.finish(ctx);
            Some(Budgeting::Timeslices {
                slice: size?,
                slice_target: target?,
            })
        }
        (Some(true), None) => {
            let msg = "`budgeting_method: timeslices` needs `timeslice: {size: 1m, target: 95}`";
            let node = method_node.unwrap_or(f.node);
            ctx.error(node, &f.path("budgeting_method"), msg);
            None
        }
        (_, Some(slice)) => {
            let msg = "`timeslice` applies only with `budgeting_method: timeslices`";
            ctx.error(slice.node, &slice.path, msg);
            None
        }
        (_, None) => Some(Budgeting::Occurrences),
    }
}

/// `spans: {…}` or `metric: {…}`.
fn sli(ctx: &mut Ctx<'_>, src: &Source<'_>, node: &Node, path: &str) -> Option<Sli> {
    let mut f = Fields::new(ctx, node, path);
    let spans = f.section(ctx, "spans");
    let metric = f.section(ctx, "metric");
    let logs = f.section(ctx, "logs");
    let valid = f.valid;
    f.finish(ctx);
    match (spans, metric, logs) {
        (Some(spans), None, None) => span_sli(ctx, src, spans).map(Sli::Spans),
        (None, Some(metric), None) => metric_sli(ctx, src, metric).map(Sli::Metric),
        (None, None, Some(logs)) => super::logs::log_sli(ctx, src, logs).map(Sli::Logs),
        (None, None, None) => {
            if valid {
                ctx.error(node, path, "missing `spans`, `metric` or `logs`");
            }
            None
        }
        (_, metric, logs) => {
            let second = logs.or(metric);
            if let Some(second) = second {
                let msg = "give one of `spans`, `metric` and `logs`, not several";
                ctx.error(second.node, &second.path, msg);
            }
            None
        }
    }
}

fn span_sli(ctx: &mut Ctx<'_>, src: &Source<'_>, mut f: Fields<'_>) -> Option<SpanSli> {
    let span = ConditionTarget::Span;
    let filter = f.required(ctx, "where", |c, n, p| {
        values::condition(c, src, n, p, span)
    });
    let has_bad = f.get("bad").is_some();
    let bad = f.opt(ctx, "bad", |c, n, p| values::condition(c, src, n, p, span));
    let has_latency = f.get("latency_threshold").is_some();
    let latency_threshold = f.opt(ctx, "latency_threshold", values::duration);
    if !has_bad && !has_latency && f.valid {
        let msg = "give `bad`, `latency_threshold` or both (without them every span is good)";
        ctx.error(f.node, &f.path, msg);
    }
    f.finish(ctx);
    Some(SpanSli {
        filter: filter?,
        bad,
        latency_threshold,
        adjusted_counts: true,
    })
}

fn metric_sli(ctx: &mut Ctx<'_>, src: &Source<'_>, mut f: Fields<'_>) -> Option<MetricSli> {
    let metric = ConditionTarget::Metric;
    let histogram = f.opt(ctx, "histogram", values::non_empty);
    let has_histogram = f.get("histogram").is_some();
    let filter = f.opt(ctx, "where", |c, n, p| {
        values::condition(c, src, n, p, metric)
    });
    let threshold = f.opt(ctx, "threshold", values::threshold);
    let good = f.opt(ctx, "good", |c, n, p| selector(c, src, n, p));
    let bad = f.opt(ctx, "bad", |c, n, p| selector(c, src, n, p));
    let total = f.opt(ctx, "total", |c, n, p| selector(c, src, n, p));
    let present = |f: &mut Fields<'_>, key| f.get(key).is_some();
    let (has_good, has_bad, has_total) = (
        present(&mut f, "good"),
        present(&mut f, "bad"),
        present(&mut f, "total"),
    );
    let has_where = present(&mut f, "where");
    let has_threshold = present(&mut f, "threshold");
    let valid = f.valid;
    let (node, path) = (f.node, f.path.clone());
    let misplaced = |ctx: &mut Ctx<'_>, f: &mut Fields<'_>, key: &'static str, msg: &str| {
        if let Some(at) = f.get(key) {
            ctx.error(at, &f.path(key), msg);
        }
    };
    if has_histogram {
        for key in ["good", "bad", "total"] {
            let msg = format!("`{key}` belongs to a ratio sli, it does not go with `histogram`");
            misplaced(ctx, &mut f, key, &msg);
        }
        if !has_threshold {
            ctx.error(node, &path, "missing required field `threshold`");
        }
        f.finish(ctx);
        return Some(MetricSli::Threshold {
            metric: MetricSelector {
                name: histogram?,
                filter,
            },
            threshold: threshold?,
        });
    }
    if has_good || has_bad || has_total {
        let msg = "`threshold` goes with `histogram`";
        misplaced(ctx, &mut f, "threshold", msg);
        let msg =
            "`where` goes with `histogram`; filter a ratio sli under `good`, `bad` and `total`";
        misplaced(ctx, &mut f, "where", msg);
        if !has_total {
            ctx.error(node, &path, "missing required field `total`");
        }
        if has_good == has_bad {
            let msg = "give exactly one of `good` and `bad` (with `total`)";
            ctx.error(node, &path, msg);
        }
        f.finish(ctx);
        return Some(MetricSli::Ratio {
            good,
            bad,
            total: total?,
        });
    }
    if valid {
        let msg = "expected `histogram` with `threshold`, or `total` with `good` or `bad`";
        ctx.error(node, &path, msg);
    }
    let _ = (has_where, threshold, filter);
    f.finish(ctx);
    None
}

/// `http.server.requests` or `{name: http.server.requests, where: …}`.
pub(super) fn selector(
    ctx: &mut Ctx<'_>,
    src: &Source<'_>,
    node: &Node,
    path: &str,
) -> Option<MetricSelector> {
    if !matches!(node.value, Value::Map(_)) {
        let name = values::non_empty(ctx, node, path)?;
        return Some(MetricSelector { name, filter: None });
    }
    let mut f = Fields::new(ctx, node, path);
    let name = f.required(ctx, "name", values::non_empty);
    let filter = f.opt(ctx, "where", |c, n, p| {
        values::condition(c, src, n, p, ConditionTarget::Metric)
    });
    f.finish(ctx);
    Some(MetricSelector {
        name: name?,
        filter,
    })
}

/// Labels that `slotel rules` sets itself on every alert.
const RESERVED_LABELS: [&str; 7] = [
    "alertname",
    "slo",
    "service",
    "cluster",
    "long_window",
    "short_window",
    "severity",
];

/// `alerting: {name, labels, annotations, page, ticket, exhaustion, disabled}`.
fn alerting(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<Alerting> {
    let mut f = Fields::new(ctx, node, path);
    let name = f.opt(ctx, "name", alert_name);
    let labels = f.opt(ctx, "labels", |c, n, p| string_map(c, n, p, true));
    let annotations = f.opt(ctx, "annotations", |c, n, p| string_map(c, n, p, false));
    let page = f.opt(ctx, "page", alert_override);
    let ticket = f.opt(ctx, "ticket", alert_override);
    let exhaustion = f.opt(ctx, "exhaustion", super::exhaustion::decode);
    let disabled = f.opt(ctx, "disabled", values::boolean);
    f.finish(ctx);
    Some(Alerting {
        name,
        labels: labels.unwrap_or_default(),
        annotations: annotations.unwrap_or_default(),
        page: page.unwrap_or_default(),
        ticket: ticket.unwrap_or_default(),
        exhaustion,
        disabled: disabled.unwrap_or(false),
    })
}

/// An alert name: a Prometheus label name.
pub(super) fn alert_name(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<String> {
    values::parsed(ctx, node, path, |s| {
        if is_label_name(s) {
            Ok(s.to_string())
        } else {
            Err(format!(
                "invalid alert name {s:?}: use letters, digits and `_`, not starting with a digit"
            ))
        }
    })
}

/// `page:` or `ticket:`: `{severity, labels, annotations, disabled}`.
fn alert_override(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<AlertOverride> {
    let mut f = Fields::new(ctx, node, path);
    let severity = f.opt(ctx, "severity", values::non_empty);
    let labels = f.opt(ctx, "labels", |c, n, p| string_map(c, n, p, true));
    let annotations = f.opt(ctx, "annotations", |c, n, p| string_map(c, n, p, false));
    let disabled = f.opt(ctx, "disabled", values::boolean);
    f.finish(ctx);
    Some(AlertOverride {
        severity,
        labels: labels.unwrap_or_default(),
        annotations: annotations.unwrap_or_default(),
        disabled: disabled.unwrap_or(false),
    })
}

/// A Prometheus label (or annotation) name: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_label_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A mapping of label (or annotation) names to string values.
pub(super) fn string_map(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    labels: bool,
) -> Option<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    let what = if labels { "label" } else { "annotation" };
    for (key, value) in ctx.entries(node, path) {
        let Some(name) = ctx.key(key, path) else {
            continue;
        };
        let at = format!("{path}.{name}");
        if !is_label_name(&name) || name.starts_with("__") {
            let msg = format!(
                "invalid {what} name {name:?}: use letters, digits and `_`, not starting with a \
                 digit or `__`"
            );
            ctx.error(key, &at, msg);
            continue;
        }
        if labels && RESERVED_LABELS.contains(&name.as_str()) {
            let msg = if name == "severity" {
                "`severity` is set by `page.severity` and `ticket.severity`".to_string()
            } else {
                format!("label `{name}` is set by slotel")
            };
            ctx.error(key, &at, msg);
            continue;
        }
        if !matches!(value.value, Value::Scalar { .. }) {
            let msg = format!("expected a string, found {}", value.describe());
            ctx.error(value, &at, msg);
            continue;
        }
        if let Some(text) = values::text(ctx, value, &at) {
            // The ruler expands alert labels and annotations as templates.
            if let Some(msg) = super::template::template_error(&text) {
                ctx.error(value, &at, msg);
                continue;
            }
            out.insert(name, text);
        }
    }
    Some(out)
}
