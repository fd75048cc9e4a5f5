//! `slotel replay`: SLO files evaluated over a capture (`slo.capture`) with the live
//! engine's own code.
//!
//! The captured span facts, log facts and metric requests go through a fresh [`Engine`] in
//! the order they were received (the three kinds' files merged by receipt time), each
//! request at its receipt time, so every span, log record and data point is classified,
//! windowed and (when late or in the future) dropped as it was live; cumulative metric
//! points become increments against their series' previous points as they did live (the
//! engine told when the live one started watching metrics, see
//! [`crate::slo::capture`]). Span files are read a whole message at a time and
//! consecutive requests recorded in one call, split where a log or metric request or a
//! timeline sample comes between them. Between requests the clock steps through the timeline
//! (every `--step`), where each SLO and group's numbers are sampled and the generated
//! burn-rate alerts (the pairs `slotel rules` writes) are judged; at the end time the
//! status is what `GET /api/v1/slos` would have answered.
//!
//! # Layout
//!
//! - `mod.rs`: the arguments and the replay itself ([`replay_set`] → [`Report`]).
//! - `feed.rs`: the capture fed to the engine in receipt order, and the timeline's samples.
//! - `render.rs`: the report as JSON, a text table or a self-contained HTML page.
//! - `tests.rs`, `trace_tests.rs`, `log_tests.rs`, `metric_tests.rs`: replays against the
//!   live engine.

mod feed;
#[cfg(test)]
mod log_tests;
#[cfg(test)]
mod metric_tests;
mod render;
pub(crate) use render::printable;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod trace_tests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::rules::plan::{AlertPair, Plan};
use crate::slo::capture::{CapturedBatch, Reader, list_files};
use crate::slo::engine::status::Ordered;
use crate::slo::engine::window::FIXED_WINDOWS;
use crate::slo::engine::{Engine, GroupStatus, ManualClock};
use crate::slo::facts::FactsSchema;
use crate::slo::spec::{Sli, SloSet};
use feed::{Feed, MAX_SEGMENT_SPREAD, Segment, Sides, Stream, is_log_file, is_metric_file, limit};

/// `slotel replay` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ReplayArgs {
    /// SLO files (globs or directories, as in `slo.files`); repeat for more.
    #[arg(long, required = true)]
    pub slos: Vec<String>,
    /// The capture directory (`slo.capture.directory`).
    #[arg(long)]
    pub capture: PathBuf,
    /// Replay facts received from this time on (RFC 3339, or Unix seconds); default: the
    /// capture's first.
    #[arg(long, value_parser = parse_time)]
    pub from: Option<u64>,
    /// Replay facts received up to this time, and report the status at it (RFC 3339, or
    /// Unix seconds); default: the capture's last receipt.
    #[arg(long, value_parser = parse_time)]
    pub to: Option<u64>,
    /// The timeline's step, which is also how often alerts are judged.
    #[arg(long, default_value = "1m", value_parser = parse_step)]
    pub step: Duration,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `--format`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
    /// One self-contained page: burn-down, burn-rate and latency charts, no network.
    Html,
}

/// The most timeline samples a replay takes per SLO entry; a longer period needs a larger
/// `--step`.
pub const MAX_SAMPLES: u64 = 100_000;

/// A command-line value that `replay` and `suggest` refuse.
#[derive(Debug, thiserror::Error)]
pub enum ArgError {
    #[error(transparent)]
    Duration(#[from] humantime::DurationError),
    #[error("the step must be at least 1s")]
    StepTooShort,
    #[error("{0}: not a time after 1970 and before 2540")]
    TimeOutOfRange(String),
    #[error("{text}: expected RFC 3339 or Unix seconds: {source}")]
    Time { text: String, source: jiff::Error },
    #[error("{0}: before 1970")]
    BeforeEpoch(String),
    #[error("{0}: the window must be whole days, 1d to 366d")]
    Window(String),
}

/// `--step`: a duration of at least a second.
pub fn parse_step(s: &str) -> Result<Duration, ArgError> {
    let d = humantime::parse_duration(s)?;
    if d < Duration::from_secs(1) {
        return Err(ArgError::StepTooShort);
    }
    Ok(d)
}

/// RFC 3339 (`2026-12-04T10:00:00Z`) or Unix seconds (`1796383200`, `1796383200.5`) →
/// Unix nanoseconds.
pub fn parse_time(s: &str) -> Result<u64, ArgError> {
    if let Ok(secs) = s.parse::<f64>() {
        if !(0.0..=1.8e10).contains(&secs) {
            return Err(ArgError::TimeOutOfRange(s.to_string()));
        }
        return Ok((secs * 1e9).round() as u64);
    }
    let t: jiff::Timestamp = s.parse().map_err(|source| ArgError::Time {
        text: s.to_string(),
        source,
    })?;
    let nanos = t.as_nanosecond();
    if nanos < 0 {
        return Err(ArgError::BeforeEpoch(s.to_string()));
    }
    // The same range as Unix seconds: a time past 2540 was called "before 1970".
    match u64::try_from(nanos) {
        Ok(n) if n <= LATEST_NANOS => Ok(n),
        _ => Err(ArgError::TimeOutOfRange(s.to_string())),
    }
}

/// The latest time `--from` and `--to` take (1.8·10^10 s, in 2540).
const LATEST_NANOS: u64 = 18_000_000_000 * 1_000_000_000;

/// Unix nanoseconds as RFC 3339 (UTC).
pub fn rfc3339(nanos: u64) -> String {
    jiff::Timestamp::from_nanosecond(nanos as i128)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| nanos.to_string())
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0}")]
    Slos(crate::config::ConfigErrors),
    #[error("{path}: {source}")]
    Capture {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The capture lacks a column the SLOs read as span facts.
    #[error(
        "{}: the capture has no column {attr} as the SLOs read it; add it to \
         slo.capture.columns (captures only hold the columns they were told to)",
        path.display()
    )]
    NoColumn {
        path: PathBuf,
        attr: crate::slo::ottl::AttrRef,
    },
    /// The capture lacks a column a log SLO reads.
    #[error(
        "{}: the capture has no column {attr}, which a log SLO reads; add it to \
         slo.capture.columns (a capture holds the fields the log SLOs loaded at the \
         time read, and those columns)",
        path.display()
    )]
    NoLogColumn {
        path: PathBuf,
        attr: crate::slo::ottl::AttrRef,
    },
    /// Trace-aware journeys are loaded and the capture has no trace ids.
    #[error(
        "{}: the capture has no trace_id column, which trace-aware journeys \
         (`mode: trace`) read; a capture holds it when taken while such a journey \
         was loaded",
        path.display()
    )]
    NoTraceIds { path: PathBuf },
    /// `slotel suggest --route` on a capture without `http.route`.
    #[error("{}: the capture has no http.route column", path.display())]
    NoRouteColumn { path: PathBuf },
    /// [`Options::prepare`] refused a batch of the file.
    #[error("{}: {source}", path.display())]
    Prepare {
        path: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{0}")]
    Range(String),
}

/// The most warnings [`nothing_read`] repeats.
const WARNINGS_IN_ERROR: usize = 5;

/// The error of a capture that gave nothing to read, with what was skipped and why (a
/// damaged or unreadable file: the file, the batch and the byte where reading stopped), so
/// the damage is not hidden behind "nothing in the capture".
pub(crate) fn nothing_read(message: String, warnings: &[String]) -> ReplayError {
    if warnings.is_empty() {
        return ReplayError::Range(message);
    }
    let mut out = message;
    out.push_str("; skipped:");
    for w in warnings.iter().take(WARNINGS_IN_ERROR) {
        out.push_str("\n  ");
        out.push_str(w);
    }
    if warnings.len() > WARNINGS_IN_ERROR {
        out.push_str(&format!(
            "\n  and {} more",
            warnings.len() - WARNINGS_IN_ERROR
        ));
    }
    ReplayError::Range(out)
}

/// One SLO entry (SLO × cluster × group) as the API names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct EntryKey {
    pub service: String,
    pub name: String,
    pub cluster: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<BTreeMap<String, String>>,
}

impl EntryKey {
    fn of(s: &GroupStatus) -> Self {
        Self {
            service: s.service.clone(),
            name: s.name.clone(),
            cluster: s.cluster.clone(),
            group: s
                .group
                .as_ref()
                .map(|g| g.0.iter().cloned().collect::<BTreeMap<_, _>>()),
        }
    }
}

/// One sample of the timeline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Point {
    pub time: String,
    /// Events in the SLO window.
    pub total: u64,
    pub good: u64,
    pub error_ratio: Option<f64>,
    pub error_budget_remaining: Option<f64>,
    pub burn_rate: Ordered<Option<f64>>,
    /// Percentiles over the SLO window, seconds (span SLIs with `percentiles`).
    pub latency: Ordered<Option<f64>>,
}

/// An entry's timeline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Timeline {
    #[serde(flatten)]
    pub entry: EntryKey,
    pub points: Vec<Point>,
}

/// An alert the generated rules would have fired.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alert {
    #[serde(flatten)]
    pub entry: EntryKey,
    pub severity: &'static str,
    /// The windows and the burn-rate factor of the pair.
    pub long_window: String,
    pub short_window: String,
    pub factor: f64,
    pub start: String,
    /// `None`: still firing at the end time.
    pub end: Option<String>,
    #[serde(skip)]
    pub start_nanos: u64,
}

/// Alerts of one SLO, per severity, and per week of the replayed period.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertSummary {
    pub service: String,
    pub name: String,
    pub pages: u64,
    pub tickets: u64,
    pub pages_per_week: f64,
    pub tickets_per_week: f64,
    /// Why `slotel rules` writes no alerts for this SLO, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_rules: Option<String>,
}

/// What a replay found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub step: String,
    pub files: usize,
    pub batches: u64,
    /// Span facts fed to the engine.
    pub spans: u64,
    /// Log records' facts fed to the engine.
    pub log_records: u64,
    /// Metric requests fed to the engine.
    pub metric_requests: u64,
    /// Damaged or unreadable capture files, each with where and why.
    pub warnings: Vec<String>,
    /// Per SLO and group at the end time: the entries of `GET /api/v1/slos` (budget
    /// adjustments and unreadable latencies included).
    pub slos: Vec<crate::slo::api::Entry<GroupStatus>>,
    pub timeline: Vec<Timeline>,
    pub alerts: Vec<Alert>,
    pub alert_summary: Vec<AlertSummary>,
    /// Log latency SLIs: records not counted because their latency field could not be
    /// read, by reason (what the API shows as `unreadable_latency` on the `all` entry).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable_latency: Vec<UnreadableLatency>,
}

/// The unreadable latencies of one log latency SLI.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnreadableLatency {
    pub service: String,
    pub name: String,
    /// By reason: `missing`, `dash`, `invalid`.
    pub counts: BTreeMap<&'static str, u64>,
}

/// An alert pair of one SLO, with the labels of its two windows.
struct Pair {
    pair: AlertPair,
    long: String,
    short: String,
}

fn window_label(secs: u64) -> String {
    FIXED_WINDOWS
        .iter()
        .find(|(_, s)| *s == secs)
        .map_or_else(|| format!("{secs}s"), |(l, _)| l.to_string())
}

/// The state of a replay between batches.
struct Run {
    engine: Arc<Engine>,
    clock: Arc<ManualClock>,
    pairs: BTreeMap<(String, String), Vec<Pair>>,
    /// SLOs with `group_by`: their alerts are per group, the others' per cluster.
    grouped: BTreeMap<(String, String), bool>,
    timelines: BTreeMap<EntryKey, Vec<Point>>,
    /// Open alerts: (entry, pair index) → start.
    firing: BTreeMap<(EntryKey, usize), u64>,
    alerts: Vec<Alert>,
    samples: u64,
    /// Whether to keep the timeline (`slotel suggest` only needs the alerts).
    keep_timeline: bool,
}

impl Run {
    fn sample(&mut self, at: u64) {
        self.clock.set(at);
        // Trace-aware journeys close their traces on the replay's clock, as live.
        self.engine.close_traces();
        self.samples += 1;
        for s in self.engine.status() {
            let key = EntryKey::of(&s);
            if self.keep_timeline {
                self.timelines.entry(key.clone()).or_default().push(Point {
                    time: rfc3339(at),
                    total: s.total,
                    good: s.good,
                    error_ratio: s.error_ratio,
                    error_budget_remaining: s.error_budget_remaining,
                    burn_rate: s.burn_rate.clone(),
                    latency: s.latency.clone(),
                });
            }
            let slo = (s.service.clone(), s.name.clone());
            let alerting = s.cluster != crate::slo::engine::state::ALL
                && (s.group.is_some() || !self.grouped.get(&slo).copied().unwrap_or(false));
            if !alerting {
                continue;
            }
            let Some(pairs) = self.pairs.get(&slo) else {
                continue;
            };
            for (i, p) in pairs.iter().enumerate() {
                let burn = |w: &str| s.burn_rate.get(w).copied().flatten();
                let fires = burn(&p.long).is_some_and(|b| b > p.pair.factor)
                    && burn(&p.short).is_some_and(|b| b > p.pair.factor);
                let id = (key.clone(), i);
                match (fires, self.firing.get(&id).copied()) {
                    (true, None) => {
                        self.firing.insert(id, at);
                    }
                    (false, Some(start)) => {
                        self.firing.remove(&id);
                        self.alerts.push(alert(&key, p, start, Some(at)));
                    }
                    _ => {}
                }
            }
        }
    }
}

fn alert(key: &EntryKey, p: &Pair, start: u64, end: Option<u64>) -> Alert {
    Alert {
        entry: key.clone(),
        severity: p.pair.severity.as_str(),
        long_window: p.long.clone(),
        short_window: p.short.clone(),
        factor: p.pair.factor,
        start: rfc3339(start),
        end: end.map(rfc3339),
        start_nanos: start,
    }
}

/// How a replay runs, besides its arguments.
pub struct Options<'a> {
    /// Keep the timeline (else [`Report::timeline`] is empty).
    pub timeline: bool,
    /// Applied to every batch read (a message of several requests) before the engine sees
    /// it (e.g. to derive columns).
    #[allow(clippy::type_complexity)]
    pub prepare: Option<
        &'a dyn Fn(
            CapturedBatch,
        ) -> Result<CapturedBatch, Box<dyn std::error::Error + Send + Sync>>,
    >,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self {
            timeline: true,
            prepare: None,
        }
    }
}

/// Replays `set` over the capture in `args.capture`; `progress` hears of each file read
/// (index, count).
pub fn replay_set(
    set: SloSet,
    args: &ReplayArgs,
    progress: impl FnMut(usize, usize),
) -> Result<Report, ReplayError> {
    replay_with(set, args, &Options::default(), progress)
}

/// [`replay_set`] with [`Options`].
pub fn replay_with(
    set: SloSet,
    args: &ReplayArgs,
    options: &Options<'_>,
    mut progress: impl FnMut(usize, usize),
) -> Result<Report, ReplayError> {
    let needed = FactsSchema::of(&set);
    let log_fields = set.log_fields();
    let step = crate::unix_time::nanos(args.step).max(1);
    let mut pairs = BTreeMap::new();
    let mut grouped = BTreeMap::new();
    let mut no_rules = BTreeMap::new();
    for slo in &set.slos {
        let id = (slo.service.clone(), slo.name.clone());
        grouped.insert(id.clone(), !slo.group_by.is_empty());
        match Plan::new(slo, args.step.as_secs().max(1)) {
            Ok(plan) => {
                let list: Vec<Pair> = plan
                    .alerts
                    .iter()
                    .map(|a| Pair {
                        pair: a.clone(),
                        long: window_label(a.long),
                        short: window_label(a.short),
                    })
                    .collect();
                pairs.insert(id, list);
            }
            Err(e) => {
                no_rules.insert(id, e.message);
            }
        }
    }
    let metric_slos: Vec<(String, Vec<String>)> = set
        .slos
        .iter()
        .filter_map(|s| match &s.sli {
            Sli::Metric(m) => Some((format!("{}/{}", s.service, s.name), m.metric_names())),
            _ => None,
        })
        .collect();

    let files = list_files(&args.capture).map_err(|source| ReplayError::Capture {
        path: args.capture.clone(),
        source,
    })?;
    let mut warnings = Vec::new();
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if to < from {
            return Err(ReplayError::Range("--to is before --from".into()));
        }
        limit(args, step, from, to)?;
    }
    let mut sides = Sides {
        logs: Stream::new(files.iter().filter(|f| is_log_file(f)).collect()),
        metrics: Stream::new(files.iter().filter(|f| is_metric_file(f)).collect()),
    };
    let mut feed = Feed {
        args,
        step,
        timeline: options.timeline,
        run: None,
        set: Some(set),
        pairs,
        grouped,
        first: None,
        last: None,
        next_sample: None,
        batches: 0,
        spans: 0,
        log_records: 0,
        metric_requests: 0,
        metrics_started: false,
        metric_names: Default::default(),
    };
    let span_files = files
        .iter()
        .filter(|f| !is_log_file(f) && !is_metric_file(f));
    for (i, file) in span_files.enumerate() {
        progress((i + sides.opened()).min(files.len()), files.len());
        let reader = match Reader::open_for(&file.path, Some(&needed)) {
            Ok(r) => r,
            Err(e) => {
                warnings.push(format!("{e}; the file is skipped"));
                continue;
            }
        };
        let mut reader = reader;
        while let Some(message) = reader.next_message() {
            if !message.requests().any(|(_, _, r)| feed.in_range(r)) {
                continue;
            }
            let message = match options.prepare {
                Some(prepare) => prepare(message).map_err(|source| ReplayError::Prepare {
                    path: file.path.clone(),
                    source,
                })?,
                None => message,
            };
            if let Err(attr) = message.columns.covers(&needed) {
                return Err(ReplayError::NoColumn {
                    path: file.path.clone(),
                    attr,
                });
            }
            if needed.trace_ids() && !message.columns.trace_ids() {
                return Err(ReplayError::NoTraceIds {
                    path: file.path.clone(),
                });
            }
            // The message's requests in order, each as live: the log batches received
            // before it and the timeline's samples due before it, then its spans at its
            // receipt time. Consecutive requests with neither between them are recorded in
            // one call (each row at its own receipt time), which changes nothing but the
            // cost.
            let mut segment = Segment::default();
            for (offset, len, received) in message.requests() {
                // Log and metric requests first when received earlier (spans first on a
                // tie).
                while let Some(side) = sides.next_before(Some(received), &mut warnings) {
                    segment.flush(feed.run.as_mut(), &message);
                    feed.record_side(side, &log_fields)?;
                }
                if !feed.in_range(received) {
                    segment.flush(feed.run.as_mut(), &message);
                    continue;
                }
                // A sample at a request's receipt time sees the request, as the live API
                // would.
                if feed.start(received, message.engine)? {
                    segment.flush(feed.run.as_mut(), &message);
                    feed.sample_before(received);
                }
                // Trace-aware journeys close traces at each request's receipt time: one
                // request a call for them. Otherwise a call's receipt times stay within
                // MAX_SEGMENT_SPREAD (a recurring adjustment's ranges are read once a call).
                if needed.trace_ids()
                    || segment
                        .first_received
                        .is_some_and(|f| received.abs_diff(f) > MAX_SEGMENT_SPREAD)
                {
                    segment.flush(feed.run.as_mut(), &message);
                }
                segment.add(offset, len, received);
                feed.batches += 1;
                feed.spans += len as u64;
                feed.seen(received);
            }
            segment.flush(feed.run.as_mut(), &message);
        }
        if let Some(w) = reader.warning() {
            warnings.push(w.to_string());
        }
    }
    // The log and metric requests received after the last span.
    while let Some(side) = sides.next_before(None, &mut warnings) {
        feed.record_side(side, &log_fields)?;
    }
    let Feed {
        run,
        first,
        last,
        mut next_sample,
        batches,
        spans,
        log_records,
        metric_requests,
        metric_names,
        ..
    } = feed;
    for (slo, names) in &metric_slos {
        let missing: Vec<&str> = names
            .iter()
            .filter(|n| !metric_names.contains(*n))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            warnings.push(format!(
                "{slo}: the capture holds no data points of {}, so the SLO has no data \
                 from it (a capture holds the metrics the metric SLOs loaded at the time \
                 read, and those of slo.capture.metrics)",
                missing.join(", ")
            ));
        }
    }
    progress(files.len(), files.len());
    let Some(mut run) = run else {
        return Err(nothing_read(
            format!(
                "{}: no span or log facts or metric requests{} in the capture",
                args.capture.display(),
                match (args.from, args.to) {
                    (None, None) => String::new(),
                    _ => " in the time range".to_string(),
                }
            ),
            &warnings,
        ));
    };
    let from = first.unwrap_or(0);
    let to = args.to.or(last).unwrap_or(from);
    if let Some(next) = &mut next_sample {
        while *next <= to {
            run.sample(*next);
            *next += step;
        }
    }
    run.clock.set(to);
    run.engine.close_traces();
    let mut slos = run.engine.status();
    for s in &mut slos {
        s.windows = None;
    }
    let slos = crate::slo::api::entries(slos, &run.engine);
    let mut alerts = std::mem::take(&mut run.alerts);
    for ((key, i), start) in std::mem::take(&mut run.firing) {
        if let Some(p) = run
            .pairs
            .get(&(key.service.clone(), key.name.clone()))
            .and_then(|ps| ps.get(i))
        {
            alerts.push(alert(&key, p, start, None));
        }
    }
    alerts.sort_by(|a, b| {
        (a.start_nanos, &a.entry, a.severity).cmp(&(b.start_nanos, &b.entry, b.severity))
    });
    let weeks = (to.saturating_sub(from) as f64 / (7.0 * 86_400e9)).max(f64::MIN_POSITIVE);
    let alert_summary = run
        .engine
        .slos()
        .iter()
        .map(|slo| {
            let count = |sev: &str| {
                alerts
                    .iter()
                    .filter(|a| {
                        a.entry.service == slo.spec.service
                            && a.entry.name == slo.spec.name
                            && a.severity == sev
                    })
                    .count() as u64
            };
            let (pages, tickets) = (count("page"), count("ticket"));
            let per_week = |n: u64| if to > from { n as f64 / weeks } else { 0.0 };
            AlertSummary {
                service: slo.spec.service.clone(),
                name: slo.spec.name.clone(),
                pages,
                tickets,
                pages_per_week: per_week(pages),
                tickets_per_week: per_week(tickets),
                no_rules: no_rules
                    .get(&(slo.spec.service.clone(), slo.spec.name.clone()))
                    .cloned(),
            }
        })
        .collect();
    let unreadable_latency = run
        .engine
        .slos()
        .iter()
        .filter(|slo| {
            matches!(
                &slo.spec.sli,
                Sli::Logs(crate::slo::spec::LogSli {
                    latency: Some(_),
                    ..
                })
            )
        })
        .map(|slo| {
            let counts = slo.log_unreadable();
            UnreadableLatency {
                service: slo.spec.service.clone(),
                name: slo.spec.name.clone(),
                counts: crate::slo::ottl::Unreadable::ALL
                    .iter()
                    .map(|w| (w.name(), counts[w.index()]))
                    .collect(),
            }
        })
        .collect();
    let timeline = std::mem::take(&mut run.timelines)
        .into_iter()
        .map(|(entry, points)| Timeline { entry, points })
        .collect();
    Ok(Report {
        from: rfc3339(from),
        to: rfc3339(to),
        step: humantime::format_duration(args.step).to_string(),
        files: files.len(),
        batches,
        spans,
        log_records,
        metric_requests,
        warnings,
        slos,
        timeline,
        alerts,
        alert_summary,
        unreadable_latency,
    })
}

/// `slotel replay`: loads the SLO files, replays, and writes the report; the warnings go
/// to stderr too.
pub fn run(args: &ReplayArgs) -> Result<(), ReplayError> {
    let set = crate::slo::spec::load(&args.slos, false).map_err(ReplayError::Slos)?;
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    let report = replay_set(set, args, |i, n| {
        if tty && args.format != Format::Json {
            eprint!("\rreading capture files: {}", render::bar(i, n));
            if i == n {
                eprintln!();
            }
        }
    })?;
    for w in &report.warnings {
        eprintln!("slotel replay: warning: {w}");
    }
    let text = match args.format {
        Format::Json => render::json(&report),
        Format::Text => render::text(&report),
        Format::Html => render::html(&report),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text).map_err(|source| ReplayError::Capture {
            path: path.clone(),
            source,
        }),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}
