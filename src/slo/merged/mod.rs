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
//!
//! [`history`] answers the status page's charts over time the same way, from range
//! queries over the recordings of `slotel rules`.

pub mod history;

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
use crate::export::retry::Outcome;
use crate::rules::plan::promql_string;
use crate::unix_time::now_nanos;

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
    query_range: http::Uri,
    /// The client's per-request timeout, which range queries pass on to Prometheus.
    timeout: std::time::Duration,
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Why the status could not be read from Prometheus.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Client(#[from] crate::export::BuildError),
    #[error("status_source endpoint {endpoint:?}: {source}")]
    Endpoint {
        endpoint: String,
        source: http::uri::InvalidUri,
    },
    #[error("a query task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A query of one SLO failed.
    #[error("slo {service}/{name}: {source}")]
    Slo {
        service: String,
        name: String,
        source: Box<SourceError>,
    },
    /// No answer: the delivery classification's cause and detail.
    #[error("prometheus at {uri}: {}", unanswered(.outcome))]
    Unanswered { uri: String, outcome: Outcome },
    /// An answer that is not the result asked for.
    #[error("prometheus at {uri}: {source}")]
    Answer { uri: String, source: AnswerError },
    /// `slotel rules` writes no recordings for the SLO, so there is no history to read.
    #[error("`slotel rules` writes no recordings for this slo, so there is nothing to chart: {0}")]
    NotRecorded(String),
}

fn unanswered(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Retry { cause, detail, .. }
        | Outcome::Permanent { cause, detail }
        | Outcome::DataRefused { cause, detail } => {
            format!("{cause:?}: {detail}")
        }
        Outcome::Delivered => "no answer".to_string(),
    }
}

/// Why an answer of the query API is not the result asked for.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("HTTP {status} with an empty body, or one larger than {} MiB", MAX_ANSWER / (1024 * 1024))]
    Empty { status: http::StatusCode },
    /// Not JSON of the query API: the first bytes of the body.
    #[error("HTTP {status}, not a query API answer ({source}): {start}")]
    NotAnswer {
        status: http::StatusCode,
        source: serde_json::Error,
        start: String,
    },
    /// Prometheus's own error.
    #[error("HTTP {status}: {}: {}", .error_type.as_deref().unwrap_or("error"), .error.as_deref().unwrap_or("no reason given"))]
    Refused {
        status: http::StatusCode,
        error_type: Option<String>,
        error: Option<String>,
    },
    #[error("a successful answer without data")]
    NoData,
    #[error("expected {} {want}, got a {got}", if *.want == "vector" { "an instant" } else { "a range" })]
    WrongType { want: &'static str, got: String },
    #[error("a {want} of another shape: {source}")]
    Shape {
        want: &'static str,
        source: serde_json::Error,
    },
}

impl StatusSource {
    pub fn new(cfg: &StatusSourceConfig) -> Result<Self, SourceError> {
        let client = HttpClient::new(&cfg.client)?;
        let uri = |path: &str| {
            format!("{}{path}", cfg.client.endpoint.trim_end_matches('/'))
                .parse::<http::Uri>()
                .map_err(|source| SourceError::Endpoint {
                    endpoint: cfg.client.endpoint.clone(),
                    source,
                })
        };
        Ok(Self {
            client,
            query: uri("/api/v1/query")?,
            query_range: uri("/api/v1/query_range")?,
            timeout: cfg.client.timeout,
        })
    }

    /// Every entry of every SLO `engine` has loaded (or of one: `only` = (service,
    /// name)), from Prometheus.
    pub async fn status(
        &self,
        engine: &Engine,
        only: Option<(&str, &str)>,
    ) -> Result<Vec<GroupStatus>, SourceError> {
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

    async fn of_slo(&self, slo: &LoadedSlo, now: u64) -> Result<Vec<GroupStatus>, SourceError> {
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
            let (kind, result) = done?;
            let samples = result.map_err(|e| SourceError::Slo {
                service: spec.service.clone(),
                name: spec.name.clone(),
                source: Box::new(e),
            })?;
            vectors[kind].extend(samples);
        }
        let [counts, latency, slices] = vectors;
        Ok(entries(spec, &windows, now, &counts, &latency, &slices))
    }

    /// An instant query at `time` (seconds): its vector, or why not.
    async fn query(&self, promql: &str, time: f64) -> Result<Vec<Sample>, SourceError> {
        let form = [
            ("query", promql.to_string()),
            ("time", format!("{time:.3}")),
        ];
        let (status, body) = self.post(&self.query, &form).await?;
        parse_vector(status, &body).map_err(|source| SourceError::Answer {
            uri: self.query.to_string(),
            source,
        })
    }

    /// A range query from `start` to `end` (unix seconds) every `step` seconds: its
    /// matrix, or why not. Prometheus is asked to give up after the client's `timeout`.
    pub async fn query_range(
        &self,
        promql: &str,
        start: u64,
        end: u64,
        step: u64,
    ) -> Result<Vec<history::RangeSeries>, SourceError> {
        let form = [
            ("query", promql.to_string()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("step", step.max(1).to_string()),
            ("timeout", format!("{}ms", self.timeout.as_millis().max(1))),
        ];
        let (status, body) = self.post(&self.query_range, &form).await?;
        history::parse_matrix(status, &body).map_err(|source| SourceError::Answer {
            uri: self.query_range.to_string(),
            source,
        })
    }

    /// POSTs `form` to `uri`: the answer's status and body (at most [`MAX_ANSWER`]).
    async fn post(
        &self,
        uri: &http::Uri,
        form: &[(&str, String)],
    ) -> Result<(http::StatusCode, Bytes), SourceError> {
        let body: String = {
            let mut f = form_urlencoded::Serializer::new(String::new());
            for (k, v) in form {
                f.append_pair(k, v);
            }
            f.finish()
        };
        let content_type = (
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let resp = self
            .client
            .send_limited(
                http::Method::POST,
                uri,
                None,
                std::slice::from_ref(&content_type),
                Bytes::from(body),
                MAX_ANSWER,
            )
            .await
            .map_err(|outcome| SourceError::Unanswered {
                uri: uri.to_string(),
                outcome,
            })?;
        Ok((resp.status, resp.raw))
    }
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
pub fn parse_vector(status: http::StatusCode, body: &[u8]) -> Result<Vec<Sample>, AnswerError> {
    #[derive(serde::Deserialize)]
    struct Element {
        metric: BTreeMap<String, String>,
        value: (f64, String),
    }
    let result: Vec<Element> = parse_answer(status, body, "vector")?;
    Ok(result
        .into_iter()
        .map(|e| Sample {
            labels: e.metric,
            value: parse_value(&e.value.1),
        })
        .collect())
}

/// A sample value as the query API writes it (NaN and ±Inf as strings that parse).
pub(crate) fn parse_value(text: &str) -> f64 {
    text.parse().unwrap_or(f64::NAN)
}

/// The `result` of a query API answer of type `want` (`vector`, `matrix`), or the
/// answer's error, status or shape as a reason.
pub(crate) fn parse_answer<T: serde::de::DeserializeOwned>(
    status: http::StatusCode,
    body: &[u8],
    want: &'static str,
) -> Result<Vec<T>, AnswerError> {
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
        result: serde_json::Value,
    }
    if body.is_empty() {
        return Err(AnswerError::Empty { status });
    }
    let answer: Answer = match serde_json::from_slice(body) {
        Ok(a) => a,
        Err(source) => {
            let start = String::from_utf8_lossy(&body[..body.len().min(256)]).into_owned();
            return Err(AnswerError::NotAnswer {
                status,
                source,
                start,
            });
        }
    };
    if answer.status != "success" || !status.is_success() {
        return Err(AnswerError::Refused {
            status,
            error_type: answer.error_type,
            error: answer.error,
        });
    }
    let data = answer.data.ok_or(AnswerError::NoData)?;
    if data.result_type != want {
        return Err(AnswerError::WrongType {
            want,
            got: data.result_type,
        });
    }
    serde_json::from_value(data.result).map_err(|source| AnswerError::Shape { want, source })
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
        raw_unit: None,
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
mod tests;
