//! Log SLIs: log records (access logs) recorded as SLO events, like spans.
//!
//! Each record of a logs export request is read once, whichever SLOs read it: its event
//! time (`time_unix_nano`, else `observed_time_unix_nano`), its cluster (the token's, else
//! the cluster resource attribute, else `unknown`) and the body fields that the loaded log
//! SLIs name ([`crate::slo::ottl::read_into`]: a map body walked, a JSON string body parsed
//! once), a chunk of records at a time (`log_rows.rs`: strings borrowed from the records
//! where they can be, the fields in one buffer reused from chunk to chunk).
//! Then every log SLO classifies the records: `where` selects, `bad` and the latency
//! threshold judge, `group_by` (attributes and body fields) groups, in the same windows,
//! with the same lateness rules and budget adjustments as spans. Its conditions and fields
//! are bound to the request's body paths first (`Plan`): each body path they read is
//! found among them once a request, and a record's value is then read at its slot.
//!
//! A latency SLI (`latency: {field, unit}`) counts only records whose latency field holds a
//! non-negative number (strings holding one included): a record without one is neither good
//! nor bad, it is counted as unreadable by reason ([`Unreadable`]: missing, nginx's `-`,
//! anything else) — never guessed.
//!
//! With `slo.capture`, every record's log facts (the fields the log SLIs read, see
//! [`crate::slo::facts::logs`]) go to the capture too, and a replay records them back
//! through the same path ([`Engine::record_log_facts`]).
//!
//! Write-ahead log: events with a latency are logged as spans (one each), events without
//! as counts, so a restart replays exactly what was recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::log_rows::{Chunk, Row, RowBody};
use super::record::{Latency, SpanEvent};
use super::state::GroupKey;
use super::window::Counts;
use super::{Dropped, Engine, Loaded, LoadedSlo, wal};
use crate::slo::facts::UNKNOWN_CLUSTER;
use crate::slo::facts::logs::{LogFacts, LogFactsBuilder};
use crate::slo::ottl::{
    AttrRef, BodyFields, BodyPaths, BodyValue, LogCondition, LogFieldRef, Unreadable, render_any,
};
use crate::slo::spec::{LogSli, Sli};

/// Records read (bodies parsed) per chunk: bounds the memory of one chunk's body fields,
/// and each SLO's lock is held for one chunk at most.
pub(super) const LOG_CHUNK: usize = 2_048;

/// Latency fields a log SLO could not read, by reason ([`Unreadable::index`]).
#[derive(Debug, Default)]
pub struct UnreadableCounts([AtomicU64; Unreadable::ALL.len()]);

impl UnreadableCounts {
    fn add(&self, counts: &[u64; Unreadable::ALL.len()]) {
        for (a, n) in self.0.iter().zip(counts) {
            if *n > 0 {
                a.fetch_add(*n, Ordering::Relaxed);
            }
        }
    }

    /// The counts, by [`Unreadable::index`].
    pub fn get(&self) -> [u64; Unreadable::ALL.len()] {
        std::array::from_fn(|i| self.0[i].load(Ordering::Relaxed))
    }
}

/// The body paths every log SLI of `slos` reads (conditions, latency field, `group_by`),
/// and those of `more` (the capture's fields).
fn body_paths(slos: &[(&Arc<LoadedSlo>, &LogSli)], more: &[AttrRef]) -> BodyPaths {
    let mut attrs: Vec<AttrRef> = more.to_vec();
    for (slo, sli) in slos {
        attrs.extend(sli.filter.attributes());
        if let Some(bad) = &sli.bad {
            attrs.extend(bad.attributes());
        }
        if let Some(l) = &sli.latency {
            attrs.push(l.field.clone());
        }
        attrs.extend(slo.spec.group_by.iter().cloned());
    }
    BodyPaths::of(&attrs)
}

/// One log SLO as a request's records are recorded for it: its conditions and fields with
/// their body paths resolved to their slots of the request's [`BodyPaths`] once, so no
/// record looks a path up.
struct Plan<'s> {
    slo: &'s Arc<LoadedSlo>,
    sli: &'s LogSli,
    filter: LogCondition,
    bad: Option<LogCondition>,
    /// The latency field and the nanoseconds of its unit.
    latency: Option<(LogFieldRef, f64)>,
    group_by: Vec<LogFieldRef>,
}

impl<'s> Plan<'s> {
    fn of(slos: &[(&'s Arc<LoadedSlo>, &'s LogSli)], paths: &BodyPaths) -> Vec<Plan<'s>> {
        slos.iter()
            .map(|&(slo, sli)| Plan {
                slo,
                sli,
                filter: sli.filter.bind_log(paths),
                bad: sli.bad.as_ref().map(|b| b.bind_log(paths)),
                latency: sli
                    .latency
                    .as_ref()
                    .map(|l| (LogFieldRef::bind(&l.field, paths), l.unit.nanos())),
                group_by: slo
                    .spec
                    .group_by
                    .iter()
                    .map(|a| LogFieldRef::bind(a, paths))
                    .collect(),
            })
            .collect()
    }
}

/// The cluster of a resource's records: the token's, else the cluster attribute, else
/// `unknown`.
fn cluster_of(token: Option<&str>, resource: Option<&Resource>, attribute: &str) -> String {
    if let Some(c) = token {
        return c.to_string();
    }
    let attrs: &[KeyValue] = resource.map_or(&[], |r| &r.attributes);
    let value = attrs
        .iter()
        .find(|kv| kv.key == attribute)
        .and_then(|kv| kv.value.as_ref());
    match render_any(value) {
        Some(s) if !s.is_empty() => s,
        _ => UNKNOWN_CLUSTER.to_string(),
    }
}

impl Engine {
    /// Whether a log SLO is loaded (the logs pipeline has something to record).
    pub fn has_log_slos(&self) -> bool {
        self.loaded()
            .slos
            .iter()
            .any(|s| matches!(s.spec.sli, Sli::Logs(_)))
    }

    /// Records the log records of one export request for every loaded log SLO.
    /// `token_cluster` is the cluster bound to the sender's token, if any.
    pub fn record_logs(&self, req: &ExportLogsServiceRequest, token_cluster: Option<&str>) {
        self.record_logs_from(req, token_cluster, None, None);
    }

    /// [`Engine::record_logs`], writing every change to `log` as it is made.
    pub fn record_logs_logged(
        &self,
        req: &ExportLogsServiceRequest,
        token_cluster: Option<&str>,
        log: Option<&mut wal::Encoder>,
    ) {
        self.record_logs_from(req, token_cluster, None, log);
    }

    /// [`Engine::record_logs_logged`] for a request of `tenant`: with a [`FactsSink`]
    /// attached (`slo.capture`), the records' log facts go to it too.
    ///
    /// [`FactsSink`]: super::FactsSink
    pub fn record_logs_from(
        &self,
        req: &ExportLogsServiceRequest,
        token_cluster: Option<&str>,
        tenant: Option<&str>,
        log: Option<&mut wal::Encoder>,
    ) {
        let loaded = self.loaded();
        let slos = log_slos(&loaded);
        if slos.is_empty() {
            return;
        }
        let records = req
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum();
        let sink = self.sink.get();
        let captured: Option<Vec<AttrRef>> = sink.map(|sink| {
            let mut fields: Vec<AttrRef> = sink.log_fields().to_vec();
            for (slo, sli) in &slos {
                fields.extend(sli.fields(&slo.spec.group_by));
            }
            fields
        });
        let paths = body_paths(&slos, captured.as_deref().unwrap_or_default());
        let mut capture = captured.map(|fields| LogFactsBuilder::new(fields, records, &paths));
        let clusters: Vec<String> = req
            .resource_logs
            .iter()
            .map(|r| {
                cluster_of(
                    token_cluster,
                    r.resource.as_ref(),
                    &self.cfg.cluster_attribute,
                )
            })
            .collect();
        let plans = Plan::of(&slos, &paths);
        let paths = &paths;
        let rows = req.resource_logs.iter().zip(&clusters).flat_map(|(r, c)| {
            r.scope_logs
                .iter()
                .flat_map(|s| &s.log_records)
                .map(move |record| Row {
                    record,
                    resource: r.resource.as_ref(),
                    cluster: c.as_str(),
                    time: if record.time_unix_nano != 0 {
                        record.time_unix_nano
                    } else {
                        record.observed_time_unix_nano
                    },
                    body: RowBody::Live(record.body.as_ref(), 0),
                })
        });
        let now = self.record_rows(&plans, paths, (rows, records), log, capture.as_mut());
        if let (Some(sink), Some(mut capture)) = (sink, capture)
            && !capture.is_empty()
        {
            sink.offer_logs(&capture.finish(), now, tenant);
        }
    }

    /// Records log facts read back from a capture (`slotel replay`), at the clock's time:
    /// the same classification, windows, drops and unreadable latencies as live recording.
    /// The facts must hold every field the loaded log SLOs read
    /// ([`SloSet::log_fields`](crate::slo::spec::SloSet::log_fields)); one they lack reads
    /// `nil`.
    pub fn record_log_facts(&self, facts: &LogFacts) {
        let loaded = self.loaded();
        let slos = log_slos(&loaded);
        if slos.is_empty() || facts.is_empty() {
            return;
        }
        let paths = body_paths(&slos, &[]);
        let body_columns: Vec<_> = paths
            .iter()
            .map(|keys| facts.columns(&AttrRef::Body(keys.to_vec())))
            .collect();
        let attributes: Vec<_> = facts
            .fields()
            .filter(|f| !matches!(f, AttrRef::Body(_)))
            .filter_map(|f| Some((f, facts.columns(f)?)))
            .collect();
        let records: Vec<LogRecord> = (0..facts.len())
            .map(|row| LogRecord {
                severity_number: facts.severity_number(row),
                severity_text: facts.severity_text(row).to_string(),
                ..Default::default()
            })
            .collect();
        let times = facts.time();
        let rows = records.iter().enumerate().map(|(row, record)| {
            let values = body_columns
                .iter()
                .map(|c| c.map_or(BodyValue::Nil, |c| c.value(row)))
                .collect();
            let attributes = attributes
                .iter()
                .map(|(f, c)| ((*f).clone(), c.value(row)))
                .collect();
            Row {
                record,
                resource: None,
                cluster: facts.cluster(row),
                time: times[row],
                body: RowBody::Captured(BodyFields::captured(values, attributes)),
            }
        });
        self.record_rows(
            &Plan::of(&slos, &paths),
            &paths,
            (rows, facts.len()),
            None,
            None,
        );
    }

    /// Records `rows` (`count` of them) for every log SLO of `plans` (bound to `paths`), in
    /// chunks; each row also goes to `capture`. Returns the time they were recorded at.
    fn record_rows<'a>(
        &self,
        plans: &[Plan<'_>],
        paths: &BodyPaths,
        (mut rows, count): (impl Iterator<Item = Row<'a>>, usize),
        mut log: Option<&mut wal::Encoder>,
        mut capture: Option<&mut LogFactsBuilder>,
    ) -> u64 {
        let now = self.clock.now_nanos();
        let (oldest, newest) = self.event_times(now);
        let adjusted_ranges: Vec<crate::slo::adjust::Ranges> = plans
            .iter()
            .map(|Plan { slo: s, .. }| {
                self.adjustments.ranges(
                    &s.spec.service,
                    &s.spec.name,
                    oldest,
                    newest.saturating_add(1),
                )
            })
            .collect();
        let mut totals = vec![(Dropped::default(), 0u64, [0u64; 3]); plans.len()];
        let first = count.min(LOG_CHUNK);
        let mut chunk = Chunk {
            rows: Vec::with_capacity(first),
            values: Vec::with_capacity(first * paths.len()),
            width: paths.len(),
        };
        while chunk.fill(&mut rows, paths) {
            if let Some(capture) = capture.as_deref_mut() {
                for (row, body) in chunk.iter() {
                    let at = (row.time, row.cluster);
                    capture.push(at, row.record, row.resource, body);
                }
            }
            for (i, plan) in plans.iter().enumerate() {
                let (dropped, adjusted, unreadable) = &mut totals[i];
                let window = (oldest, newest, &adjusted_ranges[i]);
                record_chunk(
                    plan,
                    &chunk,
                    window,
                    (dropped, adjusted, unreadable),
                    log.as_deref_mut(),
                );
            }
            self.turnstile.let_readers_through();
        }
        for (Plan { slo, .. }, (dropped, adjusted, unreadable)) in plans.iter().zip(&totals) {
            slo.add_dropped(*dropped);
            slo.log_unreadable.add(unreadable);
            self.adjustments
                .add_adjusted(&slo.spec.service, &slo.spec.name, *adjusted);
        }
        now
    }
}

/// The loaded log SLOs, with their SLIs.
fn log_slos(loaded: &Loaded) -> Vec<(&Arc<LoadedSlo>, &LogSli)> {
    loaded
        .slos
        .iter()
        .filter_map(|s| match &s.spec.sli {
            Sli::Logs(l) => Some((s, l)),
            _ => None,
        })
        .collect()
}

/// Records one chunk of rows for one log SLO.
fn record_chunk(
    plan: &Plan<'_>,
    rows: &Chunk<'_>,
    (oldest, newest, adjusted_ranges): (u64, u64, &crate::slo::adjust::Ranges),
    (dropped, adjusted, unreadable): (&mut Dropped, &mut u64, &mut [u64; 3]),
    mut log: Option<&mut wal::Encoder>,
) {
    let (slo, sli) = (plan.slo, plan.sli);
    let threshold = sli.latency_threshold.map(crate::unix_time::nanos);
    let mut chunk_dropped = Dropped::default();
    if let Some(log) = log.as_deref_mut() {
        if plan.latency.is_some() {
            log.begin_spans(slo.wal_id);
        } else {
            log.begin_metrics(slo.wal_id);
        }
    }
    let mut key = GroupKey {
        cluster: String::new(),
        extra: Vec::new(),
    };
    // Events with a latency, of `key`, not recorded yet: each run of rows of one group is
    // recorded at once (`record.rs`), exactly as one event at a time.
    let mut run: Vec<SpanEvent> = Vec::new();
    // The row cluster `key.cluster` was last set from or found equal to.
    let mut key_cluster: &str = "";
    let mut state = slo.state();
    for (row, body) in rows.iter() {
        let (record, resource) = (row.record, row.resource);
        if !plan.filter.eval(record, resource, body) {
            continue;
        }
        let t = row.time;
        if !chunk_dropped.admits(t, oldest, newest) {
            continue;
        }
        if !adjusted_ranges.is_empty() && adjusted_ranges.covers(row.cluster, t) {
            *adjusted += 1;
            continue;
        }
        let latency = match &plan.latency {
            None => None,
            Some((field, per_unit)) => match field.latency(*per_unit, record, resource, body) {
                Ok(l) => Some(l),
                Err(why) => {
                    unreadable[why.index()] += 1;
                    continue;
                }
            },
        };
        let is_bad = plan
            .bad
            .as_ref()
            .is_some_and(|b| b.eval(record, resource, body));
        let good = !is_bad && threshold.is_none_or(|th| latency.is_some_and(|l| l <= th));
        let extra: Option<Vec<String>> = (!plan.group_by.is_empty()).then(|| {
            plan.group_by
                .iter()
                .map(|a| a.string(record, resource, body))
                .collect()
        });
        // Rows of one resource share its cluster string: the same one, not compared.
        let same_cluster = std::ptr::eq(key_cluster, row.cluster) || key.cluster == row.cluster;
        if !same_cluster || extra.as_ref().is_some_and(|e| *e != key.extra) {
            if !run.is_empty() {
                state.record_spans(&key, &run);
                run.clear();
            }
            if !same_cluster {
                key.cluster = row.cluster.to_string();
            }
            if let Some(extra) = extra {
                key.extra = extra;
            }
        }
        key_cluster = row.cluster;
        match latency {
            Some(l) => {
                run.push(SpanEvent {
                    t,
                    good,
                    latency: Latency::of(l),
                });
                if let Some(log) = log.as_deref_mut() {
                    log.span(&key, t, good, l);
                }
            }
            None => {
                let counts = Counts {
                    good: u64::from(good),
                    total: 1,
                };
                let g = i64::from(good);
                state.record_counts(&key, t, g, 1, counts);
                if let Some(log) = log.as_deref_mut() {
                    log.counts(&key, t, g, 1, counts);
                }
            }
        }
    }
    if !run.is_empty() {
        state.record_spans(&key, &run);
    }
    drop(state);
    if let Some(log) = log {
        log.dropped(chunk_dropped);
    }
    dropped.late += chunk_dropped.late;
    dropped.future += chunk_dropped.future;
}

/// `slotel_slo_log_latency_unreadable_total{slo, service, reason}`: records of each log
/// latency SLI whose latency field could not be read (not counted as events).
pub fn series_families(engine: &Engine) -> Vec<crate::slo::series::SeriesFamily> {
    let mut rows = Vec::new();
    for slo in engine.slos() {
        let Sli::Logs(LogSli {
            latency: Some(_), ..
        }) = &slo.spec.sli
        else {
            continue;
        };
        let counts = slo.log_unreadable();
        for why in Unreadable::ALL {
            rows.push((
                vec![
                    ("slo".to_string(), slo.spec.name.clone()),
                    ("service".to_string(), slo.spec.service.clone()),
                    ("reason".to_string(), why.name().to_string()),
                ],
                counts[why.index()] as f64,
            ));
        }
    }
    if rows.is_empty() {
        return Vec::new();
    }
    vec![crate::slo::series::SeriesFamily {
        name: crate::slo::series_names::LOG_LATENCY_UNREADABLE,
        help: "Log records a latency SLI did not count because their latency field was \
               missing, `-` or not a number",
        counter: true,
        rows,
    }]
}
