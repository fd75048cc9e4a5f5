//! `slo.status_source`: the status API (and so the status page) answered from the
//! Prometheus or Mimir every replica writes to, instead of this replica's engine, so that
//! with several replicas the numbers are those of all the traffic whichever pod answers.
//!
//! For every SLO this replica has loaded, per window of the engine (the fixed windows,
//! then the SLO window; a calendar SLO window is the current period so far), by the SLO's
//! labels (`slo`, `service`, `cluster`, group labels) and `outcome`:
//!
//! - events: the sum over the window of `slo:sli_events:increase_step`, the per-evaluation
//!   counter increments that `slotel rules` records for SLOs with a long window (7d and
//!   longer, calendar periods), summed over every replica's `slotel_slo_events_total`
//!   series: exact counts. An SLO whose window is a fixed one (1d, 3d) has no such
//!   recording; its counts are `increase(slotel_slo_events_total[w])`, rounded, which
//!   Prometheus extrapolates.
//! - timeslice SLOs: the ended slices per window, `slotel_slo_timeslices` summed over the
//!   replicas (as the rules read them).
//! - latency percentiles: `histogram_quantile` over the increase of the native histogram
//!   `slotel_slo_latency_seconds` summed over the replicas (within the schema's bucket
//!   width of the exact percentile).
//!
//! Error ratio, burn rates, error budget remaining, time to exhaustion and status then
//! follow from these counts by the engine's formulas (see [`super::engine::status`]), so
//! entries have the engine's shape. Entries are `cluster="all"` (which slotel writes
//! itself) first, then per cluster its roll-up and its groups; a series without the
//! SLO's group labels is a roll-up.
//!
//! Queries are instant queries (`POST {endpoint}/api/v1/query`: for Mimir the endpoint
//! ends in `/prometheus`), one per window of each SLO for the counts and one for the
//! latencies (and one for the slices). An answer larger than [`MAX_ANSWER`], an error
//! status or a body that is not Prometheus's JSON is an error with its reason (the API
//! answers 502).

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderValue;

use super::engine::calendar::Calendar;
use super::engine::slices::SliceCounts;
use super::engine::status::{
    GroupStatus, Ordered, Status, TimesliceStatus, WindowStatus, long_window, percentile_key,
    time_to_exhaustion,
};
use super::engine::window::{WindowSpec, windows_for, windows_for_calendar};
use super::engine::{Engine, LoadedSlo};
use super::spec::{Budgeting, Slo, SloWindow, group_label_names, series_labels};
use crate::config::StatusSourceConfig;
use crate::export::client::HttpClient;

/// The recorded counter increments (see `src/rules/prometheus.rs`).
const STEP: &str = "slo:sli_events:increase_step";
use super::series_names::{EVENTS_TOTAL as EVENTS, LATENCY, TIMESLICES as SLICES};
/// The label the queries put each window's (and percentile's) result under.
const WINDOW_LABEL: &str = "slotel_window";
const PERCENTILE_LABEL: &str = "slotel_percentile";
/// The rolling windows `slotel rules` computes from counter rates instead of recorded
/// increments (when one of them is the SLO window, there are no increments).
const FIXED_SLO_WINDOWS: [u64; 7] = [300, 1800, 3600, 7200, 21_600, 86_400, 259_200];
/// The most of one answer read (one window of one SLO: about 250 bytes per series, so
/// some 30 000 series); a larger answer is an error.
pub const MAX_ANSWER: usize = 8 * 1024 * 1024;

/// The Prometheus the status comes from.
#[derive(Clone)]
pub struct StatusSource {
    client: HttpClient,
    query: http::Uri,
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl StatusSource {
    pub fn new(cfg: &StatusSourceConfig) -> Result<Self, String> {
        let client = HttpClient::new(&cfg.client).map_err(|e| e.to_string())?;
        let url = format!("{}/api/v1/query", cfg.client.endpoint.trim_end_matches('/'));
        let query = url
            .parse::<http::Uri>()
            .map_err(|e| format!("status_source endpoint {:?}: {e}", cfg.client.endpoint))?;
        Ok(Self { client, query })
    }

    /// Every entry of every SLO `engine` has loaded (or of one: `only` = (service,
    /// name)), from Prometheus.
    pub async fn status(
        &self,
        engine: &Engine,
        only: Option<(&str, &str)>,
    ) -> Result<Vec<GroupStatus>, String> {
        let now = now_nanos();
        let mut out = Vec::new();
        for slo in engine.slos() {
            if only
                .is_some_and(|(service, name)| slo.spec.service != service || slo.spec.name != name)
            {
                continue;
            }
            out.extend(self.of_slo(&slo, now).await?);
        }
        Ok(out)
    }

    async fn of_slo(&self, slo: &LoadedSlo, now: u64) -> Result<Vec<GroupStatus>, String> {
        let spec = &slo.spec;
        let windows = windows_of(spec);
        let time = now as f64 / 1e9;
        // (0 counts, 1 latency, 2 slices; query), run together.
        let mut queries = Vec::new();
        for w in &windows {
            let one = std::slice::from_ref(w);
            queries.push((0, counts_query(spec, one, now)));
            if let Some(q) = latency_query(spec, one, now) {
                queries.push((1, q));
            }
        }
        if let Budgeting::Timeslices { .. } = spec.budgeting {
            queries.push((2, slices_query(spec)));
        }
        let mut set = tokio::task::JoinSet::new();
        for (kind, q) in queries {
            let source = self.clone();
            set.spawn(async move { (kind, source.query(&q, time).await) });
        }
        let mut vectors: [Vec<Sample>; 3] = Default::default();
        while let Some(done) = set.join_next().await {
            let (kind, result) = done.map_err(|e| format!("a query task failed: {e}"))?;
            let samples = result.map_err(|e| format!("slo {}/{}: {e}", spec.service, spec.name))?;
            vectors[kind].extend(samples);
        }
        let [counts, latency, slices] = vectors;
        Ok(entries(spec, &windows, now, &counts, &latency, &slices))
    }

    /// An instant query at `time` (seconds): its vector, or why not.
    async fn query(&self, promql: &str, time: f64) -> Result<Vec<Sample>, String> {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("query", promql)
            .append_pair("time", &format!("{time:.3}"))
            .finish();
        let form = (
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let resp = self
            .client
            .send_limited(
                http::Method::POST,
                &self.query,
                None,
                std::slice::from_ref(&form),
                Bytes::from(body),
                MAX_ANSWER,
            )
            .await
            .map_err(|o| {
                let why = match o {
                    crate::export::retry::Outcome::Retry { cause, detail, .. }
                    | crate::export::retry::Outcome::Permanent { cause, detail } => {
                        format!("{cause:?}: {detail}")
                    }
                    crate::export::retry::Outcome::Delivered => "no answer".to_string(),
                };
                format!("prometheus at {}: {why}", self.query)
            })?;
        parse_vector(resp.status, &resp.raw)
            .map_err(|e| format!("prometheus at {}: {e}", self.query))
    }
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The engine's windows of `slo` (as `Engine` builds them).
pub fn windows_of(slo: &Slo) -> Vec<WindowSpec> {
    match &slo.window {
        SloWindow::Rolling(d) => windows_for(d.as_secs()),
        SloWindow::Calendar { unit, time_zone } => {
            windows_for_calendar(Calendar::new(*unit, time_zone))
        }
    }
}

/// Seconds a window reaches back from `now`: its length, or for a calendar period the
/// time since the period started (at least 1).
fn range_secs(w: &WindowSpec, now: u64) -> u64 {
    match &w.calendar {
        Some(c) => now
            .saturating_sub(c.period(now).start)
            .div_ceil(1_000_000_000),
        None => w.length_nanos / 1_000_000_000,
    }
    .max(1)
}

/// Whether `slotel rules` records the counter increments for `slo` (its SLO window is
/// not one of the fixed ones).
fn has_steps(slo: &Slo) -> bool {
    match &slo.window {
        SloWindow::Rolling(d) => !FIXED_SLO_WINDOWS.contains(&d.as_secs()),
        SloWindow::Calendar { .. } => true,
    }
}

/// A PromQL string literal.
fn promql_string(s: &str) -> String {
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

fn selector(slo: &Slo) -> String {
    format!(
        "{{service={}, slo={}}}",
        promql_string(&slo.service),
        promql_string(&slo.name)
    )
}

/// `slo, service, cluster` and the group labels.
fn by(slo: &Slo) -> String {
    let mut labels = vec!["slo".to_string(), "service".into(), "cluster".into()];
    labels.extend(group_label_names(slo));
    labels.join(", ")
}

fn tag(expr: String, label: &str, value: &str) -> String {
    format!(
        "label_replace({expr}, \"{label}\", {}, \"\", \"\")",
        promql_string(value)
    )
}

/// Events by outcome per window, each window's under `slotel_window`.
pub fn counts_query(slo: &Slo, windows: &[WindowSpec], now: u64) -> String {
    let sel = selector(slo);
    let by = by(slo);
    let steps = has_steps(slo);
    windows
        .iter()
        .map(|w| {
            let r = range_secs(w, now);
            let inner = if steps {
                format!("sum_over_time({STEP}{sel}[{r}s])")
            } else {
                format!("increase({EVENTS}{sel}[{r}s])")
            };
            tag(
                format!("sum by ({by}, outcome) ({inner})"),
                WINDOW_LABEL,
                &w.label,
            )
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Latency percentiles per window, under `slotel_window` and `slotel_percentile`; `None`
/// without percentiles.
pub fn latency_query(slo: &Slo, windows: &[WindowSpec], now: u64) -> Option<String> {
    if slo.percentiles.is_empty() {
        return None;
    }
    let sel = selector(slo);
    let by = by(slo);
    let mut parts = Vec::new();
    for w in windows {
        let r = range_secs(w, now);
        for p in &slo.percentiles {
            let q = format!(
                "histogram_quantile({}, sum by ({by}) (increase({LATENCY}{sel}[{r}s])))",
                p / 100.0
            );
            parts.push(tag(
                tag(q, WINDOW_LABEL, &w.label),
                PERCENTILE_LABEL,
                &percentile_key(*p),
            ));
        }
    }
    Some(parts.join(" or "))
}

/// Ended slices per window and outcome (timeslice SLOs).
pub fn slices_query(slo: &Slo) -> String {
    format!(
        "sum by ({}, window, outcome) ({SLICES}{})",
        by(slo),
        selector(slo)
    )
}

/// The vector of a Prometheus query API answer.
pub fn parse_vector(status: http::StatusCode, body: &[u8]) -> Result<Vec<Sample>, String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        status: String,
        #[serde(default)]
        error: Option<String>,
        #[serde(rename = "errorType", default)]
        error_type: Option<String>,
        #[serde(default)]
        data: Option<Data>,
    }
    #[derive(serde::Deserialize)]
    struct Data {
        #[serde(rename = "resultType")]
        result_type: String,
        result: Vec<Element>,
    }
    #[derive(serde::Deserialize)]
    struct Element {
        metric: BTreeMap<String, String>,
        value: (f64, String),
    }
    if body.is_empty() {
        return Err(format!(
            "HTTP {status} with an empty body, or one larger than {} MiB",
            MAX_ANSWER / (1024 * 1024)
        ));
    }
    let answer: Answer = match serde_json::from_slice(body) {
        Ok(a) => a,
        Err(e) => {
            let start = String::from_utf8_lossy(&body[..body.len().min(256)]).into_owned();
            return Err(format!(
                "HTTP {status}, not a query API answer ({e}): {start}"
            ));
        }
    };
    if answer.status != "success" || !status.is_success() {
        return Err(format!(
            "HTTP {status}: {}: {}",
            answer.error_type.as_deref().unwrap_or("error"),
            answer.error.as_deref().unwrap_or("no reason given")
        ));
    }
    let data = answer
        .data
        .ok_or_else(|| "a successful answer without data".to_string())?;
    if data.result_type != "vector" {
        return Err(format!(
            "expected an instant vector, got a {}",
            data.result_type
        ));
    }
    Ok(data
        .result
        .into_iter()
        .map(|e| Sample {
            labels: e.metric,
            // Prometheus writes NaN and ±Inf as strings that parse.
            value: e.value.1.parse().unwrap_or(f64::NAN),
        })
        .collect())
}

/// Which entry a series belongs to: its cluster and, for a group, its group values.
type Key = (String, Option<Vec<String>>);

fn key_of(slo: &Slo, labels: &BTreeMap<String, String>) -> Option<Key> {
    let cluster = labels.get("cluster")?.clone();
    let names = group_label_names(slo);
    let values: Vec<String> = names
        .iter()
        .map(|n| labels.get(n).cloned().unwrap_or_default())
        .collect();
    let group = (!names.is_empty() && values.iter().any(|v| !v.is_empty())).then_some(values);
    Some((cluster, group))
}

fn count(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.round() as u64
    } else {
        0
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// The entries of one SLO from the three queries' vectors: `all` first, then per cluster
/// its roll-up and its groups sorted by their values.
pub fn entries(
    slo: &Slo,
    windows: &[WindowSpec],
    now: u64,
    counts: &[Sample],
    latency: &[Sample],
    slices: &[Sample],
) -> Vec<GroupStatus> {
    // (key, window) → (good, bad).
    let mut events: BTreeMap<(Key, String), (f64, f64)> = BTreeMap::new();
    let mut keys: Vec<Key> = vec![(super::engine::state::ALL.to_string(), None)];
    for s in counts {
        let (Some(key), Some(w), Some(outcome)) = (
            key_of(slo, &s.labels),
            s.labels.get(WINDOW_LABEL),
            s.labels.get("outcome"),
        ) else {
            continue;
        };
        let e = events.entry((key.clone(), w.clone())).or_default();
        match outcome.as_str() {
            "good" => e.0 += s.value,
            "bad" => e.1 += s.value,
            _ => continue,
        }
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let mut lat: BTreeMap<(Key, String, String), f64> = BTreeMap::new();
    for s in latency {
        let (Some(key), Some(w), Some(p)) = (
            key_of(slo, &s.labels),
            s.labels.get(WINDOW_LABEL),
            s.labels.get(PERCENTILE_LABEL),
        ) else {
            continue;
        };
        lat.insert((key, w.clone(), p.clone()), s.value);
    }
    let mut sl: BTreeMap<(Key, String), (f64, f64)> = BTreeMap::new();
    for s in slices {
        let (Some(key), Some(w), Some(outcome)) = (
            key_of(slo, &s.labels),
            s.labels.get("window"),
            s.labels.get("outcome"),
        ) else {
            continue;
        };
        let e = sl.entry((key, w.clone())).or_default();
        match outcome.as_str() {
            "good" => e.0 += s.value,
            "bad" => e.1 += s.value,
            _ => {}
        }
    }
    let all = keys.remove(0);
    keys.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    std::iter::once(all)
        .chain(keys)
        .map(|key| {
            let ws: Vec<WindowStatus> = windows
                .iter()
                .map(|w| {
                    let k = (key.clone(), w.label.clone());
                    let (good, bad) = events.get(&k).copied().unwrap_or_default();
                    let (good, bad) = (count(good), count(bad));
                    let slices = match slo.budgeting {
                        Budgeting::Timeslices { .. } => sl.get(&k).map(|(g, b)| SliceCounts {
                            elapsed: count(*g) + count(*b),
                            good: count(*g),
                        }),
                        Budgeting::Occurrences => None,
                    };
                    let latency = slo
                        .percentiles
                        .iter()
                        .map(|p| {
                            let pk = percentile_key(*p);
                            let v = lat
                                .get(&(key.clone(), w.label.clone(), pk.clone()))
                                .copied()
                                .and_then(finite);
                            (pk, v)
                        })
                        .collect();
                    window_status(slo, w, now, good, bad, slices, Ordered(latency))
                })
                .collect();
            group_status(slo, windows, now, &key, ws)
        })
        .collect()
}

fn window_status(
    slo: &Slo,
    spec: &WindowSpec,
    now: u64,
    good: u64,
    bad: u64,
    slices: Option<SliceCounts>,
    latency: Ordered<Option<f64>>,
) -> WindowStatus {
    let total = good + bad;
    let error_ratio = match slices {
        Some(s) => ratio(s.bad(), s.elapsed),
        None => ratio(bad, total),
    };
    let burn_rate = error_ratio
        .filter(|_| total >= slo.min_events.max(1))
        .and_then(|e| finite(e / slo.budget()));
    let (start, end) = spec
        .calendar
        .as_ref()
        .map(|c| {
            let p = c.period(now);
            (c.rfc3339(p.start), c.rfc3339(p.end))
        })
        .unzip();
    WindowStatus {
        window: spec.label.clone(),
        total,
        good,
        error_ratio,
        burn_rate,
        latency,
        slices,
        start,
        end,
        percentiles: slo.percentiles.clone(),
    }
}

fn group_status(
    slo: &Slo,
    specs: &[WindowSpec],
    now: u64,
    key: &Key,
    windows: Vec<WindowStatus>,
) -> GroupStatus {
    let (cluster, values) = key;
    let group = values.as_ref().map(|values| {
        Ordered(
            slo.group_by
                .iter()
                .zip(values)
                .map(|(a, v)| (a.key().to_string(), v.clone()))
                .collect(),
        )
    });
    let last = windows.last();
    let total = last.map_or(0, |w| w.total);
    let good = last.map_or(0, |w| w.good);
    let error_ratio = last.and_then(|w| w.error_ratio);
    let error_budget_remaining = error_ratio.and_then(|e| finite(1.0 - e / slo.budget()));
    let long_burn_rate = long_window(specs)
        .and_then(|i| windows.get(i))
        .and_then(|w| w.burn_rate);
    let slo_window_secs = specs.last().map_or(0.0, |spec| {
        let nanos = match &spec.calendar {
            Some(c) => {
                let p = c.period(now);
                p.end.saturating_sub(p.start)
            }
            None => spec.length_nanos,
        };
        nanos as f64 / 1e9
    });
    let timeslices = match &slo.budgeting {
        Budgeting::Timeslices {
            slice,
            slice_target,
        } => {
            let counts = last.and_then(|w| w.slices).unwrap_or_default();
            Some(TimesliceStatus {
                slice: slice_label(*slice),
                target: *slice_target,
                elapsed: counts.elapsed,
                good: counts.good,
                sli: ratio(counts.good, counts.elapsed),
            })
        }
        Budgeting::Occurrences => None,
    };
    GroupStatus {
        name: slo.name.clone(),
        service: slo.service.clone(),
        cluster: cluster.clone(),
        group,
        objective: slo.objective,
        window: last.map(|w| w.window.clone()).unwrap_or_default(),
        status: Status::of(
            total,
            slo.min_events,
            error_budget_remaining,
            long_burn_rate,
        ),
        total,
        good,
        raw_total: None,
        raw_good: None,
        error_ratio,
        error_budget_remaining,
        time_to_exhaustion_seconds: time_to_exhaustion(
            error_budget_remaining,
            long_burn_rate,
            slo_window_secs,
        ),
        burn_rate: Ordered(
            windows
                .iter()
                .map(|w| (w.window.clone(), w.burn_rate))
                .collect(),
        ),
        latency: last.map(|w| w.latency.clone()).unwrap_or_default(),
        timeslices,
        effective_threshold: None,
        labels: series_labels(slo, cluster, values.as_deref()),
        windows: Some(windows),
        lifetime: Default::default(),
        native: Default::default(),
        classic: Vec::new(),
        latency_bounds: Arc::from(Vec::new()),
    }
}

/// A slice length as SLO files write it: `1m`, `30s`, `1h`, `1500ms`.
fn slice_label(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1_000) {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::spec::parse_file;

    const NOW: u64 = 1_780_000_000_000_000_000;

    fn slo(extra: &str) -> Slo {
        let text = format!(
            "service: shop\nslos:\n  - name: pay\n    objective: 99\n    window: 30d\n    \
             sli: {{spans: {{where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}}}\n    \
             percentiles: [50, 99]\n{extra}"
        );
        parse_file(&text, "t.yaml").unwrap().remove(0)
    }

    fn sample(labels: &[(&str, &str)], value: f64) -> Sample {
        Sample {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        }
    }

    /// `(good, bad)` of `window` for an entry at `cluster` (and group `route`).
    fn counts(
        window: &str,
        cluster: &str,
        route: Option<&str>,
        good: f64,
        bad: f64,
    ) -> Vec<Sample> {
        let mut out = Vec::new();
        for (outcome, v) in [("good", good), ("bad", bad)] {
            let mut l = vec![
                ("slo", "pay"),
                ("service", "shop"),
                ("cluster", cluster),
                ("outcome", outcome),
                (WINDOW_LABEL, window),
            ];
            if let Some(r) = route {
                l.push(("http_route", r));
            }
            out.push(sample(&l, v));
        }
        out
    }

    #[test]
    fn queries_read_the_recorded_increments_by_the_slos_labels() {
        let s = slo("    group_by: ['attributes[\"http.route\"]']\n");
        let windows = windows_of(&s);
        let q = counts_query(&s, &windows, NOW);
        assert!(
            q.starts_with(
                "label_replace(sum by (slo, service, cluster, http_route, outcome) \
             (sum_over_time(slo:sli_events:increase_step{service=\"shop\", slo=\"pay\"}[300s])), \
             \"slotel_window\", \"5m\", \"\", \"\") or "
            ),
            "{q}"
        );
        assert!(
            q.contains("[2592000s])), \"slotel_window\", \"30d\""),
            "{q}"
        );
        assert_eq!(q.matches(" or ").count(), windows.len() - 1);
        let l = latency_query(&s, &windows, NOW).unwrap();
        assert!(
            l.contains(
                "histogram_quantile(0.99, sum by (slo, service, cluster, http_route) \
             (increase(slotel_slo_latency_seconds{service=\"shop\", slo=\"pay\"}[3600s])))"
            ),
            "{l}"
        );
        assert!(l.contains("\"slotel_percentile\", \"p99\""), "{l}");
        // A fixed SLO window has no recorded increments: counter increases.
        let d = parse_file(
            "service: shop\nslos:\n  - name: d\n    objective: 99\n    window: 1d\n    \
             sli: {spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}\n",
            "t.yaml",
        )
        .unwrap()
        .remove(0);
        let q = counts_query(&d, &windows_of(&d), NOW);
        assert!(q.contains("increase(slotel_slo_events_total{"), "{q}");
        assert!(!q.contains("increase_step"), "{q}");
    }

    #[test]
    fn vectors_become_entries_with_the_engines_formulas_and_order() {
        let s = slo("    group_by: ['attributes[\"http.route\"]']\n    min_events: 10\n");
        let windows = windows_of(&s);
        let labels: Vec<&str> = windows.iter().map(|w| w.label.as_str()).collect();
        assert_eq!(labels, ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]);
        let mut v = Vec::new();
        // Group entries first in the vector, in no order: the mapping sorts them.
        v.extend(counts("30d", "seoul", Some("/b"), 500.0, 6.0));
        v.extend(counts("30d", "seoul", Some("/a"), 1000.0, 0.0));
        v.extend(counts("30d", "seoul", None, 1500.0, 5.0));
        v.extend(counts("30d", "all", None, 1994.0, 6.0));
        v.extend(counts("3d", "all", None, 990.0, 10.0));
        // Below min_events: no burn rate.
        v.extend(counts("5m", "all", None, 8.0, 1.0));
        v.extend(counts("30d", "berlin", None, 494.0, 1.0));
        // Fewer than min_events in the SLO window.
        v.extend(counts("30d", "busan", None, 4.0, 1.0));
        let lat = vec![
            sample(
                &[
                    ("slo", "pay"),
                    ("service", "shop"),
                    ("cluster", "all"),
                    (WINDOW_LABEL, "30d"),
                    (PERCENTILE_LABEL, "p99"),
                ],
                0.25,
            ),
            sample(
                &[
                    ("slo", "pay"),
                    ("service", "shop"),
                    ("cluster", "all"),
                    (WINDOW_LABEL, "30d"),
                    (PERCENTILE_LABEL, "p50"),
                ],
                f64::NAN,
            ),
        ];
        let e = entries(&s, &windows, NOW, &v, &lat, &[]);
        let order: Vec<(&str, Option<String>)> = e
            .iter()
            .map(|g| {
                (
                    g.cluster.as_str(),
                    g.group
                        .as_ref()
                        .map(|o| o.get("http.route").unwrap().clone()),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("all", None),
                ("berlin", None),
                ("busan", None),
                ("seoul", None),
                ("seoul", Some("/a".into())),
                ("seoul", Some("/b".into())),
            ]
        );
        let all = &e[0];
        assert_eq!((all.total, all.good), (2000, 1994));
        assert_eq!(all.error_ratio, Some(0.003));
        let budget_left = 1.0 - 0.003 / 0.01;
        assert!((all.error_budget_remaining.unwrap() - budget_left).abs() < 1e-12);
        // The long window (3d) burns at 0.01 / 0.01 = 1: not faster than 1×, so ok.
        assert!((all.burn_rate.get("3d").unwrap().unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(all.burn_rate.get("5m"), Some(&None));
        assert_eq!(all.status, Status::Ok);
        let tte = all.time_to_exhaustion_seconds.unwrap();
        assert!((tte - budget_left * 30.0 * 86_400.0).abs() < 1e-6, "{tte}");
        assert_eq!(all.latency.get("p99"), Some(&Some(0.25)));
        assert_eq!(all.latency.get("p50"), Some(&None));
        assert_eq!(all.windows.as_ref().unwrap().len(), 8);
        assert_eq!(all.windows.as_ref().unwrap()[0].total, 9);
        // No window without data has a ratio.
        assert_eq!(all.windows.as_ref().unwrap()[1].error_ratio, None);
        assert_eq!(e[2].status, Status::InsufficientData);
        assert_eq!(e[2].error_ratio, Some(0.2));
        let b = &e[5];
        assert_eq!((b.total, b.good), (506, 500));
        assert_eq!(
            b.labels,
            [
                ("slo".to_string(), "pay".to_string()),
                ("service".into(), "shop".into()),
                ("cluster".into(), "seoul".into()),
                ("http_route".into(), "/b".into()),
            ]
        );
        // 1 − (6/506)/0.01 < 0: spent.
        assert_eq!(b.status, Status::Breaching);
        assert_eq!(b.time_to_exhaustion_seconds, Some(0.0));
        // Nothing but `all`: one entry without data.
        let empty = entries(&s, &windows, NOW, &[], &[], &[]);
        assert_eq!(empty.len(), 1);
        assert_eq!((empty[0].total, empty[0].status), (0, Status::NoData));
        assert_eq!(empty[0].error_budget_remaining, None);
    }

    #[test]
    fn prometheus_errors_are_reasons() {
        let ok = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"cluster":"all"},"value":[1.5,"42"]}]}}"#;
        let v = parse_vector(http::StatusCode::OK, ok).unwrap();
        assert_eq!(v, [sample(&[("cluster", "all")], 42.0)]);
        let bad = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#;
        let e = parse_vector(http::StatusCode::BAD_REQUEST, bad).unwrap_err();
        assert!(
            e.contains("400") && e.contains("bad_data") && e.contains("parse error"),
            "{e}"
        );
        let e =
            parse_vector(http::StatusCode::BAD_GATEWAY, b"<html>upstream down</html>").unwrap_err();
        assert!(e.contains("502") && e.contains("upstream down"), "{e}");
        let e = parse_vector(http::StatusCode::OK, b"").unwrap_err();
        assert!(e.contains("8 MiB"), "{e}");
        let m = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(
            parse_vector(http::StatusCode::OK, m)
                .unwrap_err()
                .contains("matrix")
        );
    }
}
