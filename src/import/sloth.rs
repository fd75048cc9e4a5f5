//! Sloth's two formats read into one shape, and each SLO converted.
//!
//! - `version: prometheus/v1`: `service`, `labels`, `slos[]` with `name`, `description`,
//!   `objective`, `labels`, `sli.{events.{error_query,total_query} | raw.error_ratio_query |
//!   plugin}`, `alerting.{name, labels, annotations, page_alert, ticket_alert}`.
//! - `apiVersion: sloth.slok.dev/v1`, `kind: PrometheusServiceLevel`: the same under `spec`,
//!   in camelCase (`errorQuery`, `errorRatioQuery`, `pageAlert`, `ticketAlert`).

use std::collections::BTreeMap;

use super::promql::{self, Selector};
use super::{ImportError, Report};
use crate::yaml::{ConfigError, Node, Value, parse};

/// Label names `slotel rules` sets on alerts itself, refused in `alerting.labels`.
const RESERVED: [&str; 7] = [
    "severity",
    "slo",
    "service",
    "cluster",
    "long_window",
    "short_window",
    "alertname",
];

/// Key names of one format.
struct Keys {
    error_query: &'static str,
    total_query: &'static str,
    page: &'static str,
    ticket: &'static str,
}

const PROMETHEUS_V1: Keys = Keys {
    error_query: "error_query",
    total_query: "total_query",
    page: "page_alert",
    ticket: "ticket_alert",
};

const KUBERNETES: Keys = Keys {
    error_query: "errorQuery",
    total_query: "totalQuery",
    page: "pageAlert",
    ticket: "ticketAlert",
};

fn get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| matches!(&k.value, Value::Scalar { text, .. } if text == key))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn text(node: Option<&Node>) -> Option<&str> {
    match node.map(|n| &n.value) {
        Some(Value::Scalar { text, .. }) => Some(text),
        _ => None,
    }
}

/// A mapping of strings (labels, annotations); non-string entries are skipped.
fn strings(node: Option<&Node>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Node {
        value: Value::Map(entries),
        ..
    }) = node
    {
        for (k, v) in entries {
            if let (Some(k), Some(v)) = (text(Some(k)), text(Some(v))) {
                out.insert(k.to_string(), v.to_string());
            }
        }
    }
    out
}

/// The YAML documents of `text`, split at `---` lines, padded so that line numbers are the
/// file's.
fn documents(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let marker = line
            .strip_prefix("---")
            .is_some_and(|rest| rest.chars().next().is_none_or(char::is_whitespace));
        if marker && n > 0 {
            out.push(std::mem::replace(&mut current, "\n".repeat(n)));
        }
        current.push_str(line);
    }
    out.push(current);
    out
}

/// A YAML double-quoted scalar (JSON strings are valid ones).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

pub(super) fn convert(
    source: &str,
    file: &str,
    window: &str,
    metrics: &[(String, String)],
) -> Result<Report, ImportError> {
    let mut report = Report::default();
    let mut services: Vec<(String, Vec<String>)> = Vec::new();
    let mut seen_documents = 0;
    for document in documents(source) {
        let mut errors: Vec<ConfigError> = Vec::new();
        let Some(root) = parse(&document, file, &mut errors) else {
            let why = errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            return Err(ImportError::Invalid(why));
        };
        if root.value == Value::Null {
            continue;
        }
        seen_documents += 1;
        let at = format!("{file}:{}", root.line);
        let (spec, keys) = match (text(get(&root, "version")), text(get(&root, "kind"))) {
            (Some("prometheus/v1"), _) => (&root, &PROMETHEUS_V1),
            (_, Some("PrometheusServiceLevel")) => match get(&root, "spec") {
                Some(spec) => (spec, &KUBERNETES),
                None => return Err(ImportError::Invalid(format!("{at}: no `spec`"))),
            },
            (version, kind) => {
                return Err(ImportError::Invalid(format!(
                    "{at}: not a Sloth spec (`version: prometheus/v1`, or `kind: \
                     PrometheusServiceLevel` of sloth.slok.dev/v1); found version {:?}, kind {:?}",
                    version.unwrap_or(""),
                    kind.unwrap_or("")
                )));
            }
        };
        let Some(service) = text(get(spec, "service")) else {
            return Err(ImportError::Invalid(format!("{at}: no `service`")));
        };
        let spec_labels = strings(get(spec, "labels"));
        if get(spec, "slo_plugins")
            .or(get(spec, "sloPlugins"))
            .is_some()
        {
            report.notes.push(format!(
                "{service}: Sloth SLO plugins are not carried over (slotel generates its own rules)"
            ));
        }
        let slos = match get(spec, "slos").map(|n| &n.value) {
            Some(Value::Seq(items)) => items.as_slice(),
            _ => &[],
        };
        let mut blocks = Vec::new();
        for slo in slos {
            let name = text(get(slo, "name")).unwrap_or("");
            let id = format!("{service}/{name}");
            match slo_block(slo, keys, &spec_labels, window, metrics) {
                Ok((block, notes)) => {
                    // slotel's own loader has the last word.
                    let doc = format!("service: {}\nslos:\n{block}", q(service));
                    match crate::slo::spec::parse_file(&doc, &id) {
                        Ok(_) => {
                            report.converted.push(id.clone());
                            report
                                .notes
                                .extend(notes.into_iter().map(|n| format!("{id}: {n}")));
                            blocks.push(block);
                        }
                        Err(errors) => {
                            let why: Vec<String> = errors.into_iter().map(|e| e.message).collect();
                            report.refused.push(format!("{id}: {}", why.join("; ")));
                        }
                    }
                }
                Err(why) => report.refused.push(format!("{id}: {why}")),
            }
        }
        if !blocks.is_empty() {
            services.push((service.to_string(), blocks));
        }
    }
    if seen_documents == 0 {
        return Err(ImportError::Invalid(format!(
            "{file}: no Sloth spec in the file"
        )));
    }
    let mut out = String::from(
        "# Converted by `slotel import --from sloth` from Sloth SLO specs: check the metric\n\
         # names and conditions against what your services send (see the notes it printed).\n",
    );
    for (n, (service, blocks)) in services.iter().enumerate() {
        if n > 0 {
            out.push_str("---\n");
        }
        out.push_str(&format!("service: {}\nslos:\n", q(service)));
        for b in blocks {
            out.push_str(b);
        }
    }
    if !report.converted.is_empty() {
        report.text = out;
    }
    Ok(report)
}

/// Why one Sloth SLO is not converted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum Refusal {
    #[error("no `{0}`")]
    Missing(&'static str),
    #[error("no numeric `objective`")]
    NoObjective,
    #[error(
        "objective {0}: slotel takes objectives in (0, 100); 100% leaves no \
         error budget to burn"
    )]
    Objective(f64),
    #[error("events SLI without its {0}")]
    NoQuery(&'static str),
    #[error(
        "a raw SLI (an error ratio PromQL computes from stored series) has no events for \
         slotel to count: define the SLI on the spans or metrics the service sends"
    )]
    Raw,
    #[error(
        "a plugin SLI: its queries are made by a Sloth plugin slotel does not run; define \
         the SLI on the spans or metrics the service sends"
    )]
    Plugin,
    #[error("an SLI with neither `events`, `raw` nor `plugin`")]
    NoSli,
    #[error(
        "its {what} is PromQL over stored series that slotel cannot turn into events \
         ({why}); only `sum(rate(metric{{…}}[{{{{.window}}}}]))` converts, into a metric SLI \
         over the OTLP metric"
    )]
    NotEvents {
        what: &'static str,
        why: promql::QueryError,
    },
    #[error(
        "its {what} groups by Prometheus labels ({}): slotel groups by OTLP attribute \
         names, which label names do not give back; convert it without the grouping and \
         add `group_by` by hand",
        labels.join(", ")
    )]
    Grouped {
        what: &'static str,
        labels: Vec<String>,
    },
    #[error(
        "its {what} reads `{metric}`, a histogram's buckets or sum: only counters (and a \
         histogram's `_count`) convert"
    )]
    BucketsOrSum { what: &'static str, metric: String },
}

/// The slotel YAML of one Sloth SLO (an item of `slos:`) and the notes on it, or why it
/// cannot be converted.
fn slo_block(
    slo: &Node,
    keys: &Keys,
    spec_labels: &BTreeMap<String, String>,
    window: &str,
    metrics: &[(String, String)],
) -> Result<(String, Vec<String>), Refusal> {
    let mut notes = Vec::new();
    let name = text(get(slo, "name")).ok_or(Refusal::Missing("name"))?;
    let objective: f64 = text(get(slo, "objective"))
        .and_then(|t| t.parse().ok())
        .ok_or(Refusal::NoObjective)?;
    if !(objective > 0.0 && objective < 100.0) {
        return Err(Refusal::Objective(objective));
    }
    let sli = get(slo, "sli").ok_or(Refusal::Missing("sli"))?;
    let sli_yaml = if let Some(events) = get(sli, "events") {
        let error = text(get(events, keys.error_query)).ok_or(Refusal::NoQuery("error query"))?;
        let all = text(get(events, keys.total_query)).ok_or(Refusal::NoQuery("total query"))?;
        if let Some((count, bound)) = promql::latency(error, all) {
            let (name, condition) = otlp_metric(count, "total query", metrics, &mut notes)?;
            let mut sli = format!("      metric:\n        histogram: {}\n", q(&name));
            if let Some(c) = condition {
                sli.push_str(&format!("        where: {}\n", q(&c)));
            }
            sli.push_str(&format!("        threshold: {bound}\n"));
            sli
        } else {
            let bad = events_selector(error, "error query", metrics, &mut notes)?;
            let total = events_selector(all, "total query", metrics, &mut notes)?;
            let mut sli = String::from("      metric:\n");
            for (key, (metric, condition)) in [("bad", bad), ("total", total)] {
                sli.push_str(&format!("        {key}:\n          name: {}\n", q(&metric)));
                if let Some(c) = condition {
                    sli.push_str(&format!("          where: {}\n", q(&c)));
                }
            }
            sli
        }
    } else if get(sli, "raw").is_some() {
        return Err(Refusal::Raw);
    } else if get(sli, "plugin").is_some() {
        return Err(Refusal::Plugin);
    } else {
        return Err(Refusal::NoSli);
    };
    let mut out = format!("  - name: {}\n", q(name));
    if let Some(d) = text(get(slo, "description")) {
        out.push_str(&format!("    description: {}\n", q(d)));
    }
    out.push_str(&format!(
        "    objective: {objective}\n    window: {}\n",
        q(window)
    ));
    out.push_str("    sli:\n");
    out.push_str(&sli_yaml);
    out.push_str(&alerting(slo, keys, spec_labels, &mut notes));
    let mut seen = std::collections::HashSet::new();
    notes.retain(|n| seen.insert(n.clone()));
    Ok((out, notes))
}

/// One events query as (OTLP metric name, condition).
fn events_selector(
    query: &str,
    what: &'static str,
    metrics: &[(String, String)],
    notes: &mut Vec<String>,
) -> Result<(String, Option<String>), Refusal> {
    let selector =
        promql::selector(query.trim()).map_err(|why| Refusal::NotEvents { what, why })?;
    otlp_metric(selector, what, metrics, notes)
}

/// A selector's OTLP metric name and condition, or why it does not convert.
fn otlp_metric(
    selector: Selector,
    what: &'static str,
    metrics: &[(String, String)],
    notes: &mut Vec<String>,
) -> Result<(String, Option<String>), Refusal> {
    let Selector {
        metric,
        matchers,
        grouping,
    } = selector;
    if !grouping.is_empty() {
        return Err(Refusal::Grouped {
            what,
            labels: grouping,
        });
    }
    if metric.ends_with("_bucket") || metric.ends_with("_sum") {
        return Err(Refusal::BucketsOrSum { what, metric });
    }
    let base = metric
        .strip_suffix("_total")
        .or_else(|| metric.strip_suffix("_count"))
        .unwrap_or(&metric)
        .to_string();
    let otlp = match metrics.iter().find(|(p, _)| *p == metric || *p == base) {
        Some((_, o)) => o.clone(),
        None => {
            notes.push(format!(
                "`{metric}` read as the OTLP metric `{base}`; if your services send it under \
                 another name (OpenTelemetry names have dots and no unit suffix: \
                 `http.server.request.duration`), give --metric {metric}=<name>"
            ));
            base
        }
    };
    for m in &matchers {
        if !matches!(m.label.as_str(), "job" | "instance") {
            notes.push(format!(
                "label `{}` read as the point attribute `{}` (a dotted OpenTelemetry name \
                 such as `http.response.status_code` shows in Prometheus with underscores; \
                 numbers compare as numbers in slotel, not as strings)",
                m.label, m.label
            ));
        }
    }
    Ok((otlp, promql::condition(&matchers)))
}

/// The `alerting:` block: name, annotations, labels (the spec's, the SLO's and the
/// alerting's, as Sloth puts them all on its alerts), and page/ticket overrides.
fn alerting(
    slo: &Node,
    keys: &Keys,
    spec_labels: &BTreeMap<String, String>,
    notes: &mut Vec<String>,
) -> String {
    let a = get(slo, "alerting");
    let mut labels = spec_labels.clone();
    labels.extend(strings(get(slo, "labels")));
    labels.extend(strings(a.and_then(|a| get(a, "labels"))));
    let mut dropped = Vec::new();
    labels.retain(|k, _| {
        let keep = !RESERVED.contains(&k.as_str()) && !k.starts_with("__");
        if !keep {
            dropped.push(k.clone());
        }
        keep
    });
    if !dropped.is_empty() {
        notes.push(format!(
            "labels {} left out: `slotel rules` sets them on every alert itself",
            dropped.join(", ")
        ));
    }
    let mut out = String::from("    alerting:\n");
    if let Some(n) = a.and_then(|a| text(get(a, "name"))) {
        out.push_str(&format!("      name: {}\n", q(n)));
    }
    push_map(&mut out, "      ", "labels", &labels);
    push_map(
        &mut out,
        "      ",
        "annotations",
        &strings(a.and_then(|a| get(a, "annotations"))),
    );
    for (sloth_key, key) in [(keys.page, "page"), (keys.ticket, "ticket")] {
        let Some(o) = a.and_then(|a| get(a, sloth_key)) else {
            continue;
        };
        let mut labels = strings(get(o, "labels"));
        let severity = labels.remove("severity");
        labels.retain(|k, _| !RESERVED.contains(&k.as_str()) && !k.starts_with("__"));
        let disabled = text(get(o, "disable")) == Some("true");
        out.push_str(&format!("      {key}:\n"));
        if let Some(s) = severity {
            out.push_str(&format!("        severity: {}\n", q(&s)));
        }
        push_map(&mut out, "        ", "labels", &labels);
        push_map(
            &mut out,
            "        ",
            "annotations",
            &strings(get(o, "annotations")),
        );
        out.push_str(&format!("        disabled: {disabled}\n"));
    }
    out
}

fn push_map(out: &mut String, indent: &str, key: &str, map: &BTreeMap<String, String>) {
    if map.is_empty() {
        return;
    }
    out.push_str(&format!("{indent}{key}:\n"));
    for (k, v) in map {
        out.push_str(&format!("{indent}  {}: {}\n", q(k), q(v)));
    }
}
