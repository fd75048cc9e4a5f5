//! Feeding a capture to the replay's engine: span messages in segments of requests, log
//! and metric requests between them by receipt time, the timeline's samples where due.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{MAX_SAMPLES, Pair, ReplayArgs, ReplayError, Run, rfc3339};
use crate::slo::capture::{
    CaptureFile, CapturedBatch, CapturedLogs, CapturedMetrics, Reader, Recorded,
};
use crate::slo::engine::{Engine, EngineConfig, ManualClock};
use crate::slo::spec::SloSet;

/// The widest spread of receipt times recorded in one engine call (ns).
pub(super) const MAX_SEGMENT_SPREAD: u64 = 60_000_000_000;

/// Consecutive requests of a message not recorded yet: rows `offset .. offset + len`.
#[derive(Default)]
pub(super) struct Segment {
    offset: usize,
    len: usize,
    pub(super) first_received: Option<u64>,
    last_received: u64,
}

impl Segment {
    pub(super) fn add(&mut self, offset: usize, len: usize, received: u64) {
        if self.first_received.is_none() {
            self.offset = offset;
            self.first_received = Some(received);
        }
        debug_assert_eq!(self.offset + self.len, offset);
        self.len += len;
        self.last_received = received;
    }

    /// Records the segment's rows, each at its receipt time, and starts a new segment.
    pub(super) fn flush(&mut self, run: Option<&mut Run>, message: &CapturedBatch) {
        let segment = std::mem::take(self);
        let (Some(run), Some(_)) = (run, segment.first_received) else {
            return;
        };
        run.clock.set(segment.last_received);
        let received = &message.rows_received[segment.offset..segment.offset + segment.len];
        if segment.offset == 0 && segment.len == message.facts.len() {
            run.engine.record_facts_received(&message.facts, received);
        } else {
            let facts = message.facts.slice(segment.offset, segment.len);
            run.engine.record_facts_received(&facts, received);
        }
    }
}

/// Whether a capture file holds log facts, by its name (`logs-…`).
pub(super) fn is_log_file(file: &CaptureFile) -> bool {
    named(file, "logs-")
}

/// Whether a capture file holds metric requests, by its name (`metrics-…`).
pub(super) fn is_metric_file(file: &CaptureFile) -> bool {
    named(file, "metrics-")
}

fn named(file: &CaptureFile, prefix: &str) -> bool {
    file.path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
}

/// Refuses a replay from `from` to `to` of more than [`MAX_SAMPLES`] steps.
pub(super) fn limit(args: &ReplayArgs, step: u64, from: u64, to: u64) -> Result<(), ReplayError> {
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
}

/// What a replay has fed the engine so far, and the engine once the first batch in range
/// starts it.
pub(super) struct Feed<'a> {
    pub(super) args: &'a ReplayArgs,
    pub(super) step: u64,
    pub(super) timeline: bool,
    pub(super) run: Option<Run>,
    /// The SLOs and their alerts until the run starts.
    pub(super) set: Option<SloSet>,
    pub(super) pairs: BTreeMap<(String, String), Vec<Pair>>,
    pub(super) grouped: BTreeMap<(String, String), bool>,
    pub(super) first: Option<u64>,
    pub(super) last: Option<u64>,
    pub(super) next_sample: Option<u64>,
    pub(super) batches: u64,
    pub(super) spans: u64,
    pub(super) log_records: u64,
    pub(super) metric_requests: u64,
    /// Whether the engine was told when the live one started watching metrics.
    pub(super) metrics_started: bool,
    /// The metric names the captured metric requests held.
    pub(super) metric_names: std::collections::BTreeSet<String>,
}

impl Feed<'_> {
    pub(super) fn in_range(&self, received: u64) -> bool {
        !(self.args.from.is_some_and(|f| received < f)
            || self.args.to.is_some_and(|t| received > t))
    }

    /// Starts the run at the first batch in range (the engine set as the file says the
    /// live one was), and checks the period; whether timeline samples are due before
    /// `received`.
    pub(super) fn start(&mut self, received: u64, recorded: Recorded) -> Result<bool, ReplayError> {
        if self.run.is_none() {
            let clock = Arc::new(ManualClock::new(received));
            let defaults = EngineConfig::default();
            let cfg = EngineConfig {
                allowed_lateness: recorded
                    .lateness
                    .map_or(defaults.allowed_lateness, Duration::from_nanos),
                max_future: recorded
                    .future
                    .map_or(defaults.max_future, Duration::from_nanos),
                max_groups_total: recorded
                    .max_groups_total
                    .map_or(defaults.max_groups_total, |n| {
                        usize::try_from(n).unwrap_or(usize::MAX)
                    }),
                ..defaults
            };
            let engine = Engine::new(cfg, clock.clone(), self.set.take().unwrap_or_default());
            self.run = Some(Run {
                engine,
                clock,
                pairs: std::mem::take(&mut self.pairs),
                grouped: std::mem::take(&mut self.grouped),
                timelines: BTreeMap::new(),
                firing: BTreeMap::new(),
                alerts: Vec::new(),
                samples: 0,
                keep_timeline: self.timeline,
            });
        }
        let start = *self.first.get_or_insert(self.args.from.unwrap_or(received));
        let next = *self
            .next_sample
            .get_or_insert(start.div_ceil(self.step) * self.step);
        if self.args.to.is_none() {
            limit(self.args, self.step, start, received)?;
        }
        Ok(next < received)
    }

    /// Takes the timeline's samples due before `received`.
    pub(super) fn sample_before(&mut self, received: u64) {
        let (Some(run), Some(next)) = (self.run.as_mut(), self.next_sample.as_mut()) else {
            return;
        };
        while *next < received {
            run.sample(*next);
            *next += self.step;
        }
    }

    /// Whether a log or metric request received at `received` is replayed (within the
    /// range); if so, the run is started and the timeline's samples due before it taken.
    fn due(&mut self, received: u64, recorded: Recorded) -> Result<bool, ReplayError> {
        if !self.in_range(received) {
            return Ok(false);
        }
        self.start(received, recorded)?;
        self.sample_before(received);
        Ok(true)
    }

    /// Notes a batch recorded at `received`.
    pub(super) fn seen(&mut self, received: u64) {
        self.last = Some(self.last.map_or(received, |l| l.max(received)));
    }

    /// Records one request's log facts at its receipt time, after the timeline's samples
    /// due before it; outside the range, nothing.
    pub(super) fn record_logs(
        &mut self,
        batch: CapturedLogs,
        path: &Path,
        log_fields: &std::collections::BTreeSet<crate::slo::ottl::AttrRef>,
    ) -> Result<(), ReplayError> {
        if let Some(field) = log_fields.iter().find(|f| batch.facts.columns(f).is_none()) {
            return Err(ReplayError::NoLogColumn {
                path: path.to_path_buf(),
                attr: field.clone(),
            });
        }
        let received = batch.received;
        if !self.due(received, batch.engine)? {
            return Ok(());
        }
        if let Some(run) = &self.run {
            run.clock.set(received);
            run.engine.record_log_facts(&batch.facts);
        }
        self.log_records += batch.facts.len() as u64;
        self.batches += 1;
        self.seen(received);
        Ok(())
    }

    /// Records one metric request at its receipt time, after the timeline's samples due
    /// before it; outside the range, nothing. Before the first, the engine learns when the
    /// live one started watching metrics (cumulative series that started before are
    /// baselines): the file's time when it is the first of metric requests since, else
    /// (the files before it removed) the request's receipt; never before `--from`, whose
    /// earlier points the replay does not read.
    pub(super) fn record_metrics(&mut self, batch: CapturedMetrics) -> Result<(), ReplayError> {
        let received = batch.received;
        if !self.due(received, batch.engine)? {
            return Ok(());
        }
        if let Some(run) = &self.run {
            if !self.metrics_started {
                let started = match (batch.first_of_run, batch.metrics_started) {
                    (true, Some(started)) => started,
                    _ => received,
                };
                run.engine
                    .start_metrics_at(started.max(self.args.from.unwrap_or(0)));
                self.metrics_started = true;
            }
            run.clock.set(received);
            run.engine
                .record_metrics(&batch.request, batch.token_cluster.as_deref());
        }
        for rm in &batch.request.resource_metrics {
            for sm in &rm.scope_metrics {
                for m in &sm.metrics {
                    if !self.metric_names.contains(&m.name) {
                        self.metric_names.insert(m.name.clone());
                    }
                }
            }
        }
        self.metric_requests += 1;
        self.batches += 1;
        self.seen(received);
        Ok(())
    }

    /// Records a log or metric request.
    pub(super) fn record_side(
        &mut self,
        side: Side<'_>,
        log_fields: &std::collections::BTreeSet<crate::slo::ottl::AttrRef>,
    ) -> Result<(), ReplayError> {
        match side {
            Side::Logs(batch, path) => self.record_logs(batch, path, log_fields),
            Side::Metrics(batch) => self.record_metrics(batch),
        }
    }
}

/// A log or metric request read back.
pub(super) enum Side<'f> {
    Logs(CapturedLogs, &'f Path),
    Metrics(CapturedMetrics),
}

/// What a [`Stream`] reads: log facts or metric requests.
pub(super) trait Captured: Sized {
    fn next(reader: &mut Reader) -> Option<Self>;
    fn received(&self) -> u64;
}

impl Captured for CapturedLogs {
    fn next(reader: &mut Reader) -> Option<Self> {
        reader.next_logs()
    }
    fn received(&self) -> u64 {
        self.received
    }
}

impl Captured for CapturedMetrics {
    fn next(reader: &mut Reader) -> Option<Self> {
        reader.next_metrics()
    }
    fn received(&self) -> u64 {
        self.received
    }
}

/// The log and metric requests of a capture, in receipt order.
pub(super) struct Sides<'f> {
    pub(super) logs: Stream<'f, CapturedLogs>,
    pub(super) metrics: Stream<'f, CapturedMetrics>,
}

impl<'f> Sides<'f> {
    /// The next request received before `before` (any, with `None`): logs first on a tie.
    pub(super) fn next_before(
        &mut self,
        before: Option<u64>,
        warnings: &mut Vec<String>,
    ) -> Option<Side<'f>> {
        let logs = self.logs.received(warnings);
        let metrics = self.metrics.received(warnings);
        let (first, is_logs) = match (logs, metrics) {
            (Some(l), Some(m)) => (l.min(m), l <= m),
            (Some(l), None) => (l, true),
            (None, Some(m)) => (m, false),
            (None, None) => return None,
        };
        if before.is_some_and(|b| first >= b) {
            return None;
        }
        if is_logs {
            self.logs.take().map(|(b, path)| Side::Logs(b, path))
        } else {
            self.metrics.take().map(|(b, _)| Side::Metrics(b))
        }
    }

    /// Files opened so far.
    pub(super) fn opened(&self) -> usize {
        self.logs.opened + self.metrics.opened
    }
}

/// Files of one kind (log facts or metric requests), read in order one request ahead.
pub(super) struct Stream<'f, T> {
    files: std::collections::VecDeque<&'f CaptureFile>,
    reader: Option<(Reader, &'f CaptureFile)>,
    peeked: Option<(T, &'f Path)>,
    /// Files opened so far.
    pub(super) opened: usize,
}

impl<'f, T: Captured> Stream<'f, T> {
    pub(super) fn new(files: Vec<&'f CaptureFile>) -> Self {
        Self {
            files: files.into(),
            reader: None,
            peeked: None,
            opened: 0,
        }
    }

    /// The receipt time of the next request, read ahead (opening the next files as
    /// needed); `None` after the last.
    pub(super) fn received(&mut self, warnings: &mut Vec<String>) -> Option<u64> {
        while self.peeked.is_none() {
            if let Some((reader, file)) = &mut self.reader {
                if let Some(next) = T::next(reader) {
                    self.peeked = Some((next, file.path.as_path()));
                    break;
                }
                if let Some(w) = reader.warning() {
                    warnings.push(w.to_string());
                }
                self.reader = None;
            }
            let file = self.files.pop_front()?;
            self.opened += 1;
            match Reader::open(&file.path) {
                Ok(r) => self.reader = Some((r, file)),
                Err(e) => warnings.push(format!("{e}; the file is skipped")),
            }
        }
        self.peeked.as_ref().map(|(b, _)| b.received())
    }

    pub(super) fn take(&mut self) -> Option<(T, &'f Path)> {
        self.peeked.take()
    }
}
