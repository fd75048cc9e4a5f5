//! Recording spans: a request's span facts classified per span SLO and group, recorded
//! chunk by chunk into the SLOs' windows (and offered to the [`FactsSink`] of
//! `slo.capture`), then handed to the trace-aware journeys ([`super::traces`]). SLOs that
//! select the same rows share the grouping and bucketing of them ([`super::shared`]).

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use super::state::GroupKey;
use super::{Dropped, Engine, Loaded, record, shared, traces, wal};
use crate::slo::facts::{FactsSchema, SpanFacts, Spans};
use crate::slo::spec::Sli;

/// Spans recorded per hold of an SLO's lock: readers (`/metrics`, the API, snapshots)
/// wait for one chunk at most.
const SPAN_CHUNK: usize = 4_096;

/// When the spans of a batch of facts were received.
#[derive(Debug, Clone, Copy)]
enum Received<'a> {
    /// One request, at this time (Unix ns).
    At(u64),
    /// Several requests read back from a capture: each row's receipt time.
    Rows(&'a [u64]),
}

/// A receiver of every request's span facts besides the engine: the capture of
/// `slo.capture` ([`crate::slo::capture`]).
pub trait FactsSink: Send + Sync {
    /// The attribute columns the sink needs besides those the SLOs read.
    fn schema(&self) -> &FactsSchema;
    /// The facts of one request, recorded at `now_nanos`, sent by `tenant`. Called on the
    /// recording path: must not block.
    fn offer(&self, facts: &SpanFacts, now_nanos: u64, tenant: Option<&str>);
    /// The fields of log records the sink needs besides those the log SLOs read.
    fn log_fields(&self) -> &[crate::slo::ottl::AttrRef] {
        &[]
    }
    /// The log facts of one request ([`crate::slo::facts::logs`]), recorded at
    /// `now_nanos`, sent by `tenant`. Called on the recording path: must not block.
    fn offer_logs(
        &self,
        _facts: &arrow_array::RecordBatch,
        _now_nanos: u64,
        _tenant: Option<&str>,
    ) {
    }
    /// The metrics the sink takes besides those the metric SLOs read; `None`: the sink
    /// takes no metric requests.
    fn metric_names(&self) -> Option<&[String]> {
        None
    }
    /// One metric request (OTLP protobuf, cut down to the metrics the metric SLOs and
    /// [`FactsSink::metric_names`] name), recorded at `now_nanos`, sent with the token's
    /// `token_cluster` by `tenant`. Called on the recording path: must not block.
    fn offer_metrics(
        &self,
        _request: Vec<u8>,
        _token_cluster: Option<&str>,
        _now_nanos: u64,
        _tenant: Option<&str>,
    ) {
    }
}

impl Engine {
    /// Records the spans of one export request. `token_cluster` is the cluster bound to
    /// the sender's token, if any.
    pub fn record_spans(&self, req: &ExportTraceServiceRequest, token_cluster: Option<&str>) {
        self.record_spans_logged(req, token_cluster, None);
    }

    /// [`Engine::record_spans`], writing every change to `log` as it is made.
    pub fn record_spans_logged(
        &self,
        req: &ExportTraceServiceRequest,
        token_cluster: Option<&str>,
        log: Option<&mut wal::Encoder>,
    ) {
        self.record_spans_from(req, token_cluster, None, log);
    }

    /// [`Engine::record_spans_logged`] for a request of `tenant`, decoded or as received
    /// ([`Spans`]): the facts also go to the attached [`FactsSink`] (`slo.capture`), with
    /// the time they were recorded at.
    pub fn record_spans_from<'a>(
        &self,
        req: impl Into<Spans<'a>>,
        token_cluster: Option<&str>,
        tenant: Option<&str>,
        log: Option<&mut wal::Encoder>,
    ) {
        let loaded = self.loaded();
        let sink = self.sink.get();
        let span_slos = loaded
            .slos
            .iter()
            .any(|s| matches!(s.spec.sli, Sli::Spans(_)));
        if !span_slos && sink.is_none() {
            return;
        }
        let built;
        let facts = match req.into() {
            // Read by the receiver in its own walk, for the schema loaded now.
            Spans::Walked(walked, _)
                if Arc::ptr_eq(&walked.schema, &loaded.schema)
                    || *walked.schema == *loaded.schema =>
            {
                &walked.facts
            }
            spans => {
                built = SpanFacts::of(
                    spans,
                    token_cluster,
                    &self.cfg.cluster_attribute,
                    &loaded.schema,
                );
                &built
            }
        };
        if facts.is_empty() {
            return;
        }
        let now = self.clock.now_nanos();
        if let Some(sink) = sink {
            sink.offer(facts, now, tenant);
        }
        self.tracestates.add(facts.invalid_tracestates());
        self.record_facts_at(&loaded, facts, Received::At(now), log);
    }

    /// The schema of the span facts the receiver builds in its walk of a request it
    /// queues as received ([`crate::slo::facts::wire::check_spans_with_facts`]), and the
    /// cluster attribute; `None` when no span is recorded (no span SLO, no capture). Facts
    /// built for a schema that a reload has changed since are read again from the bytes.
    pub fn walk_schema(&self) -> Option<(Arc<FactsSchema>, &str)> {
        let loaded = self.loaded();
        let span_slos = loaded
            .slos
            .iter()
            .any(|s| matches!(s.spec.sli, Sli::Spans(_)));
        (span_slos || self.sink.get().is_some())
            .then(|| (loaded.schema.clone(), self.cfg.cluster_attribute.as_str()))
    }

    /// Records span facts read back from a capture (`slotel replay`), at the clock's time:
    /// the same classification, windows and drops as live recording.
    pub fn record_facts(&self, facts: &SpanFacts) {
        let now = self.clock.now_nanos();
        self.record_facts_at(&self.loaded(), facts, Received::At(now), None);
    }

    /// Records the span facts of several requests read back from a capture at once, row
    /// `i` as received at `received[i]` (Unix ns): each span is classified, windowed and
    /// (when late or in the future for its own receipt time) dropped as when its request
    /// was recorded alone, in order. Trace-aware journeys see the whole batch at its last
    /// receipt time, so `slotel replay` gives them one request at a time.
    ///
    /// `received` must hold one time per row; otherwise nothing is recorded.
    pub fn record_facts_received(&self, facts: &SpanFacts, received: &[u64]) {
        if received.len() != facts.len() {
            return;
        }
        self.record_facts_at(&self.loaded(), facts, Received::Rows(received), None);
    }

    /// The attribute columns the loaded SLOs read (and the sink's, when one is attached).
    pub fn facts_schema(&self) -> FactsSchema {
        FactsSchema::clone(&self.loaded().schema)
    }

    /// Sends every request's span facts to `sink` too; its columns join the facts' schema.
    /// Once only: a second sink is refused.
    pub fn attach_sink(&self, sink: Arc<dyn FactsSink>) -> Result<(), Arc<dyn FactsSink>> {
        self.sink.set(sink)?;
        let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        let mut schema = FactsSchema::clone(&loaded.schema);
        if let Some(sink) = self.sink.get() {
            schema.merge(sink.schema());
        }
        *loaded = Arc::new(Loaded {
            slos: loaded.slos.clone(),
            schema: Arc::new(schema),
        });
        Ok(())
    }

    fn record_facts_at(
        &self,
        loaded: &Loaded,
        facts: &SpanFacts,
        received: Received<'_>,
        mut log: Option<&mut wal::Encoder>,
    ) {
        // The accepted event times of the whole batch (those of each row below).
        let (now, (oldest, newest)) = match received {
            Received::At(now) => (now, self.event_times(now)),
            Received::Rows(rows) => {
                let first = rows.iter().copied().min().unwrap_or(0);
                let last = rows.iter().copied().max().unwrap_or(0);
                (last, (self.event_times(first).0, self.event_times(last).1))
            }
        };
        let end = facts.end_time_unix_nano();
        let duration = facts.duration_nanos();
        // Spans of the current group not yet recorded (spans counting 1): recorded together
        // when the group changes, before the lock is let go, and at the end.
        let mut pending: Vec<record::SpanEvent> = Vec::new();
        let mut latencies = record::Latencies::new(facts.len());
        // Each span SLO's verdicts, for the trace-aware journeys.
        let mut verdicts: Vec<Option<traces::Verdict>> = vec![None; loaded.slos.len()];
        // The selections of the SLOs recorded so far, for those that select the same rows.
        let mut selections: Vec<shared::Selection> = Vec::new();
        for (slo, verdict) in loaded.slos.iter().zip(&mut verdicts) {
            let Sli::Spans(sli) = &slo.spec.sli else {
                continue;
            };
            let traces::Verdict {
                selected: matched,
                bad,
            } = verdict.insert(traces::Verdict {
                selected: sli.filter.eval_batch(facts),
                bad: sli.bad.as_ref().map(|c| c.eval_batch(facts)),
            });
            let threshold = sli.latency_threshold.map(crate::unix_time::nanos);
            let weights = facts.adjusted_counts().filter(|_| sli.adjusted_counts);
            let mut dropped = Dropped::default();
            let adjusted_ranges = self.adjustments.ranges(
                &slo.spec.service,
                &slo.spec.name,
                oldest,
                newest.saturating_add(1),
            );
            let mut adjusted = 0u64;
            // Without a log, adjusted counts, exclusions or `group_by`, the spans are
            // recorded from the selection shared with the SLOs that select the same rows.
            let width = (log.is_none()
                && weights.is_none()
                && adjusted_ranges.is_empty()
                && slo.spec.group_by.is_empty())
            .then(|| slo.state().selection_width())
            .flatten();
            if let Some(width) = width {
                let i = match selections.iter().position(|s| s.is_of(matched, width)) {
                    Some(i) => i,
                    None => {
                        selections.push(shared::Selection::new(
                            facts,
                            matched,
                            width,
                            SPAN_CHUNK,
                            |row| match received {
                                Received::At(_) => (oldest, newest),
                                Received::Rows(rows) => self.event_times(rows[row]),
                            },
                            matches!(received, Received::At(_)),
                        ));
                        selections.len() - 1
                    }
                };
                let selection = &selections[i];
                let judge = shared::Judge::new(bad.as_ref(), threshold, duration);
                let rows = shared::Rows { end, duration };
                let mut state = slo.state();
                let mut key = GroupKey {
                    cluster: String::new(),
                    extra: Vec::new(),
                };
                let mut chunk = 0;
                for g in &selection.groups {
                    if g.chunk != chunk {
                        chunk = g.chunk;
                        drop(state);
                        self.turnstile.let_readers_through();
                        state = slo.state();
                    }
                    let cluster = facts.cluster(g.row);
                    if key.cluster != cluster {
                        // (In the key's own buffer: no allocation per group and SLO.)
                        key.cluster.clear();
                        key.cluster.push_str(cluster);
                    }
                    state.record_selected(&key, g, &judge, rows, &mut latencies);
                }
                drop(state);
                slo.add_dropped(selection.dropped);
                continue;
            }
            if let Some(log) = log.as_deref_mut() {
                log.begin_spans_of(slo.wal_id, weights.is_some());
            }
            let mut state = slo.state();
            let mut key = GroupKey {
                cluster: String::new(),
                extra: Vec::new(),
            };
            // The resource whose cluster `key` holds: rows of one resource share it.
            let mut key_resource = None;
            for row in 0..facts.len() {
                if row > 0 && row % SPAN_CHUNK == 0 {
                    state.record_spans(&key, &pending);
                    pending.clear();
                    drop(state);
                    self.turnstile.let_readers_through();
                    state = slo.state();
                }
                if !matched.value(row) {
                    continue;
                }
                let t = end[row];
                let (oldest, newest) = match received {
                    Received::At(_) => (oldest, newest),
                    Received::Rows(rows) => self.event_times(rows[row]),
                };
                if !dropped.admits(t, oldest, newest) {
                    continue;
                }
                if !adjusted_ranges.is_empty() && adjusted_ranges.covers(facts.cluster(row), t) {
                    adjusted += 1;
                    continue;
                }
                let is_bad = bad.as_ref().is_some_and(|b| b.value(row));
                let good = !is_bad && threshold.is_none_or(|th| duration[row] <= th);
                let resource = facts.resource_of(row);
                if key_resource != Some(resource) {
                    key_resource = Some(resource);
                    let cluster = facts.cluster(row);
                    if key.cluster != cluster {
                        state.record_spans(&key, &pending);
                        pending.clear();
                        key.cluster = cluster.to_string();
                    }
                }
                if !slo.spec.group_by.is_empty() {
                    // Compared in place; a new key is built only when the group changes.
                    let same = key.extra.len() == slo.spec.group_by.len()
                        && slo.spec.group_by.iter().zip(&key.extra).all(|(a, v)| {
                            facts.attr_str(a, row).as_deref().unwrap_or_default() == v
                        });
                    if !same {
                        state.record_spans(&key, &pending);
                        pending.clear();
                        key.extra = slo
                            .spec
                            .group_by
                            .iter()
                            .map(|a| facts.attr_string(a, row).unwrap_or_default())
                            .collect();
                    }
                }
                let n = match weights {
                    None => {
                        pending.push(record::SpanEvent {
                            t,
                            good,
                            latency: latencies.get(row, duration[row]),
                        });
                        1
                    }
                    Some(w) => {
                        state.record_spans(&key, &pending);
                        pending.clear();
                        state.record_weighted(&key, t, good, Some(duration[row]), w[row])
                    }
                };
                if let Some(log) = log.as_deref_mut() {
                    log.span_n(&key, t, good, duration[row], n);
                }
            }
            state.record_spans(&key, &pending);
            pending.clear();
            drop(state);
            if let Some(log) = log.as_deref_mut() {
                log.dropped(dropped);
            }
            slo.add_dropped(dropped);
            self.adjustments
                .add_adjusted(&slo.spec.service, &slo.spec.name, adjusted);
        }
        self.record_traces(loaded, facts, &verdicts, now, log);
    }

    /// Spans whose `tracestate` could not be read (and so counted 1), by
    /// [`crate::slo::facts::sampling::Invalid::index`].
    pub fn invalid_tracestates(&self) -> [u64; crate::slo::facts::sampling::Invalid::ALL.len()] {
        self.tracestates.get()
    }
}
