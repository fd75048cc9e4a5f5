//! Feeding a capture to the replay's engine: span messages in segments of requests, log
//! requests between them by receipt time, the timeline's samples where due.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{MAX_SAMPLES, Pair, ReplayArgs, ReplayError, Run, rfc3339};
use crate::slo::capture::{CaptureFile, CapturedBatch, CapturedLogs, Reader};
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
    file.path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("logs-"))
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
}

impl Feed<'_> {
    pub(super) fn in_range(&self, received: u64) -> bool {
        !(self.args.from.is_some_and(|f| received < f)
            || self.args.to.is_some_and(|t| received > t))
    }

    /// Starts the run at the first batch in range (the engine set as the file says the
    /// live one was), and checks the period; whether timeline samples are due before
    /// `received`.
    pub(super) fn start(
        &mut self,
        received: u64,
        lateness: Option<u64>,
        future: Option<u64>,
    ) -> Result<bool, ReplayError> {
        if self.run.is_none() {
            let clock = Arc::new(ManualClock::new(received));
            let defaults = EngineConfig::default();
            let cfg = EngineConfig {
                allowed_lateness: lateness.map_or(defaults.allowed_lateness, Duration::from_nanos),
                max_future: future.map_or(defaults.max_future, Duration::from_nanos),
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
        if !self.in_range(received) {
            return Ok(());
        }
        self.start(received, batch.lateness, batch.future)?;
        self.sample_before(received);
        if let Some(run) = &self.run {
            run.clock.set(received);
            run.engine.record_log_facts(&batch.facts);
        }
        self.log_records += batch.facts.len() as u64;
        self.batches += 1;
        self.seen(received);
        Ok(())
    }
}

/// The log facts' files, read in order one request ahead.
pub(super) struct LogStream<'f> {
    files: std::collections::VecDeque<&'f CaptureFile>,
    reader: Option<(Reader, &'f CaptureFile)>,
    peeked: Option<(CapturedLogs, &'f Path)>,
    /// Files opened so far.
    pub(super) opened: usize,
}

impl<'f> LogStream<'f> {
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
                if let Some(next) = reader.next_logs() {
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
        self.peeked.as_ref().map(|(b, _)| b.received)
    }

    pub(super) fn take(&mut self) -> Option<(CapturedLogs, &'f Path)> {
        self.peeked.take()
    }
}
