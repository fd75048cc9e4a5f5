//! `slotel replay`: SLO files evaluated over a capture (`slo.capture`) with the live
//! engine's own code.
//!
//! The captured span facts and log facts go through a fresh [`Engine`] batch by batch, in
//! the order they were received (the two kinds' files merged by receipt time), its clock
//! set to each batch's receipt time, so every span and log record is classified, windowed
//! and (when late or in the future) dropped as it was live. Between batches the clock steps through the
//! timeline (every `--step`), where each SLO and group's numbers are sampled and the
//! generated burn-rate alerts (the pairs `slotel rules` writes) are judged; at the end
//! time the status is what `GET /api/v1/slos` would have answered.
//!
//! # Layout
//!
//! - `mod.rs`: the arguments and the replay itself ([`replay`] → [`Report`]).
//! - `render.rs`: the report as JSON, a text table or a self-contained HTML page.
//! - `tests.rs`, `trace_tests.rs`, `log_tests.rs`: replays against the live engine.

#[cfg(test)]
mod log_tests;
mod render;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod trace_tests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::rules::plan::{AlertPair, Plan};
use crate::slo::capture::{CaptureFile, CapturedBatch, CapturedLogs, Reader, list_files};
use crate::slo::engine::status::Ordered;
use crate::slo::engine::window::FIXED_WINDOWS;
use crate::slo::engine::{Engine, EngineConfig, GroupStatus, ManualClock};
use crate::slo::spec::{Sli, SloSet};

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

/// `--step`: a duration of at least a second.
pub fn parse_step(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if d < Duration::from_secs(1) {
        return Err("the step must be at least 1s".into());
    }
    Ok(d)
}

/// RFC 3339 (`2026-12-04T10:00:00Z`) or Unix seconds (`1796383200`, `1796383200.5`) →
/// Unix nanoseconds.
pub fn parse_time(s: &str) -> Result<u64, String> {
    if let Ok(secs) = s.parse::<f64>() {
        if !(0.0..=1.8e10).contains(&secs) {
            return Err(format!("{s}: not a time after 1970 and before 2540"));
        }
        return Ok((secs * 1e9).round() as u64);
    }
    let t: jiff::Timestamp = s
        .parse()
        .map_err(|e| format!("{s}: expected RFC 3339 or Unix seconds: {e}"))?;
    u64::try_from(t.as_nanosecond()).map_err(|_| format!("{s}: before 1970"))
}

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
    #[error("{0}")]
    Columns(String),
    #[error("{0}")]
    Range(String),
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
    /// Damaged or unreadable capture files, each with where and why.
    pub warnings: Vec<String>,
    /// Per SLO and group at the end time: the entries of `GET /api/v1/slos`.
    pub slos: Vec<GroupStatus>,
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
    /// Applied to every batch read before the engine sees it (e.g. to derive columns).
    pub prepare: Option<&'a dyn Fn(CapturedBatch) -> Result<CapturedBatch, String>>,
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
    let needed = set.facts_schema();
    let log_fields = set.log_fields();
    let step = u64::try_from(args.step.as_nanos())
        .unwrap_or(u64::MAX)
        .max(1);
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
    let metric_slos: Vec<String> = set
        .slos
        .iter()
        .filter(|s| matches!(s.sli, Sli::Metric(_)))
        .map(|s| format!("{}/{}", s.service, s.name))
        .collect();

    let files = list_files(&args.capture).map_err(|source| ReplayError::Capture {
        path: args.capture.clone(),
        source,
    })?;
    let mut warnings = Vec::new();
    if !metric_slos.is_empty() {
        warnings.push(format!(
            "metric SLIs are not captured, so these SLOs have no data: {}",
            metric_slos.join(", ")
        ));
    }
    let mut run: Option<Run> = None;
    let mut set = Some(set);
    let (mut batches, mut spans, mut log_records) = (0u64, 0u64, 0u64);
    let mut first: Option<u64> = None;
    let mut last: Option<u64> = None;
    let mut next_sample: Option<u64> = None;
    let limit = |from: u64, to: u64| -> Result<(), ReplayError> {
        if to.saturating_sub(from) / step > MAX_SAMPLES {
            return Err(ReplayError::Range(format!(
                "{} steps of {} from {} to {}: more than {MAX_SAMPLES}; use a larger --step",
                to.saturating_sub(from) / step,
                humantime::format_duration(args.step),
                rfc3339(from),
                rfc3339(to)
            )));
        }
        Ok(())
    };
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if to < from {
            return Err(ReplayError::Range("--to is before --from".into()));
        }
        limit(from, to)?;
    }
    let mut streams = [
        Stream::new(files.iter().filter(|f| !is_log_file(f)).collect()),
        Stream::new(files.iter().filter(|f| is_log_file(f)).collect()),
    ];
    let mut opened = 0usize;
    loop {
        for stream in &mut streams {
            stream.fill(&mut warnings, &mut |n| {
                opened += n;
                progress(opened.min(files.len()), files.len())
            });
        }
        // The earlier of the two kinds' next batches (spans first on a tie).
        let pick = match (streams[0].received(), streams[1].received()) {
            (None, None) => break,
            (Some(_), None) => 0,
            (None, Some(_)) => 1,
            (Some(a), Some(b)) => usize::from(b < a),
        };
        let Some((next, path)) = streams[pick].take() else {
            break;
        };
        let received = next.received();
        if args.from.is_some_and(|f| received < f) || args.to.is_some_and(|t| received > t) {
            continue;
        }
        let next = match next {
            Next::Spans(batch) => {
                let batch = match options.prepare {
                    Some(prepare) => prepare(*batch)
                        .map_err(|e| ReplayError::Columns(format!("{}: {e}", path.display())))?,
                    None => *batch,
                };
                if let Err(attr) = batch.columns.covers(&needed) {
                    return Err(ReplayError::Columns(format!(
                        "{}: the capture has no column {attr} as the SLOs read it; add it to \
                         slo.capture.columns (captures only hold the columns they were told to)",
                        path.display()
                    )));
                }
                if needed.trace_ids() && !batch.columns.trace_ids() {
                    return Err(ReplayError::Columns(format!(
                        "{}: the capture has no trace_id column, which trace-aware journeys \
                         (`mode: trace`) read; a capture holds it when taken while such a \
                         journey was loaded",
                        path.display()
                    )));
                }
                Next::Spans(Box::new(batch))
            }
            Next::Logs(batch) => {
                if let Some(field) = log_fields.iter().find(|f| batch.facts.columns(f).is_none()) {
                    return Err(ReplayError::Columns(format!(
                        "{}: the capture has no column {field}, which a log SLO reads; add it \
                         to slo.capture.columns (a capture holds the fields the log SLOs \
                         loaded at the time read, and those columns)",
                        path.display()
                    )));
                }
                Next::Logs(batch)
            }
        };
        let (lateness, future) = next.settings();
        let run = match &mut run {
            Some(r) => r,
            None => {
                let clock = Arc::new(ManualClock::new(received));
                let defaults = EngineConfig::default();
                let cfg = EngineConfig {
                    allowed_lateness: lateness
                        .map_or(defaults.allowed_lateness, Duration::from_nanos),
                    max_future: future.map_or(defaults.max_future, Duration::from_nanos),
                    ..defaults
                };
                let engine = Engine::new(cfg, clock.clone(), set.take().unwrap_or_default());
                run.insert(Run {
                    engine,
                    clock,
                    pairs: std::mem::take(&mut pairs),
                    grouped: std::mem::take(&mut grouped),
                    timelines: BTreeMap::new(),
                    firing: BTreeMap::new(),
                    alerts: Vec::new(),
                    samples: 0,
                    keep_timeline: options.timeline,
                })
            }
        };
        let start = *first.get_or_insert(args.from.unwrap_or(received));
        let next_at = next_sample.get_or_insert(start.div_ceil(step) * step);
        if args.to.is_none() {
            limit(start, received)?;
        }
        // A sample at a batch's receipt time sees the batch, as the live API would.
        while *next_at < received {
            run.sample(*next_at);
            *next_at += step;
        }
        run.clock.set(received);
        match &next {
            Next::Spans(batch) => {
                run.engine.record_facts(&batch.facts);
                spans += batch.facts.len() as u64;
            }
            Next::Logs(batch) => {
                run.engine.record_log_facts(&batch.facts);
                log_records += batch.facts.len() as u64;
            }
        }
        batches += 1;
        last = Some(last.map_or(received, |l: u64| l.max(received)));
    }
    progress(files.len(), files.len());
    let Some(mut run) = run else {
        return Err(ReplayError::Range(format!(
            "{}: no span or log facts{} in the capture",
            args.capture.display(),
            match (args.from, args.to) {
                (None, None) => String::new(),
                _ => " in the time range".to_string(),
            }
        )));
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
        warnings,
        slos,
        timeline,
        alerts,
        alert_summary,
        unreadable_latency,
    })
}

/// A batch read back: span facts or log facts.
enum Next {
    Spans(Box<CapturedBatch>),
    Logs(CapturedLogs),
}

impl Next {
    fn received(&self) -> u64 {
        match self {
            Next::Spans(b) => b.received,
            Next::Logs(b) => b.received,
        }
    }

    /// The engine's `allowed_lateness` and `max_future` the file recorded.
    fn settings(&self) -> (Option<u64>, Option<u64>) {
        match self {
            Next::Spans(b) => (b.lateness, b.future),
            Next::Logs(b) => (b.lateness, b.future),
        }
    }
}

/// Whether a capture file holds log facts, by its name (`logs-…`).
fn is_log_file(file: &CaptureFile) -> bool {
    file.path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("logs-"))
}

/// The batches of one kind's files, in order, one read ahead.
struct Stream<'f> {
    files: std::collections::VecDeque<&'f CaptureFile>,
    reader: Option<(Reader, &'f CaptureFile)>,
    peeked: Option<(Next, &'f std::path::Path)>,
}

impl<'f> Stream<'f> {
    fn new(files: Vec<&'f CaptureFile>) -> Self {
        Self {
            files: files.into(),
            reader: None,
            peeked: None,
        }
    }

    /// Reads ahead one batch, opening the next files as needed; `opened` hears of each
    /// file opened.
    fn fill(&mut self, warnings: &mut Vec<String>, opened: &mut impl FnMut(usize)) {
        while self.peeked.is_none() {
            if let Some((reader, file)) = &mut self.reader {
                let next = match reader.is_logs() {
                    true => reader.next_logs().map(Next::Logs),
                    false => reader.next().map(|b| Next::Spans(Box::new(b))),
                };
                if let Some(next) = next {
                    self.peeked = Some((next, file.path.as_path()));
                    return;
                }
                if let Some(w) = reader.warning() {
                    warnings.push(w.to_string());
                }
                self.reader = None;
            }
            let Some(file) = self.files.pop_front() else {
                return;
            };
            opened(1);
            match Reader::open(&file.path) {
                Ok(r) => self.reader = Some((r, file)),
                Err(e) => warnings.push(format!("{e}; the file is skipped")),
            }
        }
    }

    fn received(&self) -> Option<u64> {
        self.peeked.as_ref().map(|(n, _)| n.received())
    }

    fn take(&mut self) -> Option<(Next, &'f std::path::Path)> {
        self.peeked.take()
    }
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
