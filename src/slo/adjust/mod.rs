//! Budget adjustments: time ranges whose events do not count toward an SLO's budget
//! (planned maintenance, an incident already handled), one-off or recurring.
//!
//! Events that end inside an adjusted range are excluded entirely — from the windows, the
//! budgets and burn rates, the lifetime counters (`slotel_slo_events_total`) and so the
//! Prometheus recordings built on them — and counted in
//! `slotel_slo_adjusted_events_total` instead. An adjustment applies to every cluster, or
//! with `clusters` to those clusters' events only (the others, and so the rest of the
//! `all` roll-up, still count). While a range is active,
//! `slotel_slo_adjustment_active{slo, service, cluster}` is 1 for each cluster it applies
//! to (and for `all` when it applies to every cluster), and the generated burn-rate alerts
//! of those clusters are held back (`unless on (slo, service, cluster)` it).
//!
//! The engine applies adjustments when it records an event, by the event's own end time:
//! a range that is known when its events arrive removes exactly those events. Already
//! recorded events are not rewritten (their counter increments are exported already, and
//! windows keep slots wider than a range's edges): an adjustment created for a past range
//! applies to the events of it that still arrive (within `slo.allowed_lateness`).
//!
//! # Layout
//!
//! - `mod.rs`: [`Doc`] (an adjustment as written in an SLO file, the API and the state
//!   file), its validation into an [`Adjustment`], and the [`Registry`] the engine reads.
//! - `rrule.rs`: the iCalendar recurrence subset of recurring adjustments.
//! - `file.rs`: `adjustments:` in native SLO files.
//! - `store.rs`: adjustments made through the API, persisted in `slo.state_dir`, with
//!   their audit log.
//! - `api.rs`: `POST/GET/DELETE /api/v1/adjustments`.
//! - `series.rs`: `slotel_slo_adjustment_active` and `slotel_slo_adjusted_events_total`.
//!
//! # Invariants
//!
//! - Every adjustment is validated before it is used: a positive range of at most
//!   [`MAX_LENGTH`], a rule of the supported subset whose DTSTART is its first occurrence.
//! - Reading the ranges of an SLO over a span of time costs a few recurrence periods per
//!   adjustment of its service, whatever the rule's age.

pub mod api;
#[cfg(test)]
mod cluster_tests;
pub mod file;
#[cfg(test)]
mod metric_tests;
pub mod rrule;
#[cfg(test)]
mod rrule_tests;
pub mod series;
pub mod store;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// The longest adjusted range (one-off, or one occurrence of a recurring one).
pub const MAX_LENGTH: Duration = Duration::from_secs(31 * 86_400);
/// The longest `reason`, `author` and names, in bytes.
pub const MAX_TEXT: usize = 1_024;
/// The most SLOs one adjustment names.
pub const MAX_SLOS: usize = 64;
/// The most clusters one adjustment names.
pub const MAX_CLUSTERS: usize = 64;
/// How far ahead the API lists upcoming occurrences.
pub const UPCOMING: Duration = Duration::from_secs(7 * 86_400);

/// An adjustment as written: in an SLO file (`adjustments:`), a `POST` body and the state
/// file. One-off: `start` and `end`; recurring: `rrule`, `dtstart` and `duration` (and
/// `time_zone`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Doc {
    /// Set by slotel: `api-…` for the API's, `file-<hash of the file's path>-<line>` for an
    /// SLO file's.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default)]
    pub service: String,
    /// SLO names of the service; empty: every SLO of the service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slos: Vec<String>,
    /// Clusters whose events it excludes; empty: every cluster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<String>,
    /// Why (required).
    #[serde(default)]
    pub reason: String,
    /// Who (required through the API; an SLO file's author is its history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// When the API created it (RFC 3339), set by slotel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// One-off: RFC 3339 instants, `[start, end)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Recurring: an RFC 5545 rule of the supported subset (see [`rrule`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
    /// The first occurrence, a local date-time in `time_zone` (`2026-01-04T02:00:00`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtstart: Option<String>,
    /// IANA name; default `UTC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// How long each occurrence lasts (`2h`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

/// When an adjustment applies.
#[derive(Debug, Clone)]
enum Schedule {
    /// `[start, end)`, nanoseconds since the epoch.
    Once { start: u64, end: u64 },
    Recurring {
        recurrence: rrule::Recurrence,
        length: u64,
    },
}

/// A validated adjustment.
#[derive(Debug, Clone)]
pub struct Adjustment {
    pub doc: Doc,
    schedule: Schedule,
    /// `doc.clusters`, shared by the ranges read from it; empty: every cluster.
    clusters: Arc<[String]>,
}

fn nanos(t: Timestamp) -> u64 {
    u64::try_from(t.as_nanosecond()).unwrap_or(0)
}

fn timestamp(n: u64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(n)).unwrap_or(Timestamp::MAX)
}

/// Why an adjustment document was refused; each names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdjustError {
    #[error("{0} is required and must not be empty")]
    Required(&'static str),
    #[error("{0} is longer than {MAX_TEXT} bytes")]
    TooLong(&'static str),
    #[error("{0} must not hold control characters")]
    Control(&'static str),
    #[error("slos lists more than {MAX_SLOS} slos")]
    TooManySlos,
    #[error("clusters lists more than {MAX_CLUSTERS} clusters")]
    TooManyClusters,
    #[error(
        "clusters: {0:?} is the roll-up of every cluster, not a cluster; leave clusters out \
         to adjust every cluster"
    )]
    RollUp(String),
    #[error(
        "give either start and end (one-off) or rrule, dtstart and duration (recurring), not \
         both"
    )]
    BothSchedules,
    #[error("give start and end (one-off) or rrule, dtstart and duration (recurring)")]
    NoSchedule,
    #[error("time_zone goes with a recurring adjustment (rrule); start and end are instants")]
    OneOffTimeZone,
    #[error("a one-off adjustment needs both start and end")]
    OneOffIncomplete,
    #[error("{field}: {text:?} is not an RFC 3339 instant like 2026-12-10T22:00:00Z")]
    Instant { field: &'static str, text: String },
    #[error("end must be after start")]
    EndBeforeStart,
    #[error("a recurring adjustment needs rrule, dtstart and duration")]
    RecurringIncomplete,
    #[error("rrule: {0}")]
    Rule(rrule::RuleError),
    #[error(
        "time_zone: unknown time zone {0:?}, expected an IANA name such as `UTC` or \
         `Europe/Paris`"
    )]
    TimeZone(String),
    #[error("dtstart: give a local date-time (no `Z`) with time_zone")]
    UtcDtstart,
    #[error("dtstart: {0:?} is not a local date-time like 2026-01-04T02:00:00")]
    Dtstart(String),
    #[error("duration: {0}")]
    Duration(crate::slo::ottl::DurationError),
    #[error("an adjusted range is at most 31 days long")]
    RangeTooLong,
    #[error("an adjusted range is at least 1s long")]
    RangeTooShort,
    /// DTSTART is not an occurrence, or a COUNT is not reached.
    #[error(transparent)]
    Recurrence(rrule::RuleError),
}

/// An RFC 3339 instant (`2026-12-10T22:00:00Z`, or with an offset).
fn instant(field: &'static str, s: &str) -> Result<Timestamp, AdjustError> {
    s.trim()
        .parse::<Timestamp>()
        .map_err(|_| AdjustError::Instant {
            field,
            text: s.to_string(),
        })
}

fn text(field: &'static str, s: &str, required: bool) -> Result<(), AdjustError> {
    if required && s.trim().is_empty() {
        return Err(AdjustError::Required(field));
    }
    if s.len() > MAX_TEXT {
        return Err(AdjustError::TooLong(field));
    }
    if s.chars().any(char::is_control) {
        return Err(AdjustError::Control(field));
    }
    Ok(())
}

/// The RFC 3339 form of an instant in nanoseconds.
pub fn rfc3339(n: u64) -> String {
    timestamp(n).to_string()
}

impl Adjustment {
    /// Validates `doc`: every rule of the module doc, errors naming the field.
    pub fn new(doc: Doc) -> Result<Self, AdjustError> {
        text("service", &doc.service, true)?;
        text("reason", &doc.reason, true)?;
        if let Some(a) = &doc.author {
            text("author", a, true)?;
        }
        if doc.slos.len() > MAX_SLOS {
            return Err(AdjustError::TooManySlos);
        }
        for s in &doc.slos {
            text("slos", s, true)?;
        }
        if doc.clusters.len() > MAX_CLUSTERS {
            return Err(AdjustError::TooManyClusters);
        }
        for c in &doc.clusters {
            text("clusters", c, true)?;
            if c == crate::slo::engine::state::ALL {
                return Err(AdjustError::RollUp(c.clone()));
            }
        }
        let once = doc.start.is_some() || doc.end.is_some();
        let recurring = doc.rrule.is_some() || doc.dtstart.is_some() || doc.duration.is_some();
        let schedule = match (once, recurring) {
            (true, true) => {
                return Err(AdjustError::BothSchedules);
            }
            (false, false) => {
                return Err(AdjustError::NoSchedule);
            }
            (true, false) => {
                if doc.time_zone.is_some() {
                    return Err(AdjustError::OneOffTimeZone);
                }
                let (Some(start), Some(end)) = (&doc.start, &doc.end) else {
                    return Err(AdjustError::OneOffIncomplete);
                };
                let (start, end) = (instant("start", start)?, instant("end", end)?);
                if end <= start {
                    return Err(AdjustError::EndBeforeStart);
                }
                let (start, end) = (nanos(start), nanos(end));
                check_length(end - start)?;
                Schedule::Once { start, end }
            }
            (false, true) => {
                let (Some(rule), Some(dtstart), Some(duration)) =
                    (&doc.rrule, &doc.dtstart, &doc.duration)
                else {
                    return Err(AdjustError::RecurringIncomplete);
                };
                let rule = rrule::parse(rule).map_err(AdjustError::Rule)?;
                let tz = match &doc.time_zone {
                    None => TimeZone::UTC,
                    Some(name) => {
                        TimeZone::get(name).map_err(|_| AdjustError::TimeZone(name.clone()))?
                    }
                };
                let dt = dtstart.trim();
                let dt = match dt.strip_suffix('Z') {
                    Some(local) if doc.time_zone.is_none() => local,
                    Some(_) => {
                        return Err(AdjustError::UtcDtstart);
                    }
                    None => dt,
                };
                let dt: DateTime = dt
                    .parse()
                    .map_err(|_| AdjustError::Dtstart(dtstart.clone()))?;
                let length =
                    crate::slo::ottl::parse_duration(duration).map_err(AdjustError::Duration)?;
                let length = crate::unix_time::nanos(length);
                check_length(length)?;
                let recurrence =
                    rrule::Recurrence::new(rule, dt, tz).map_err(AdjustError::Recurrence)?;
                Schedule::Recurring { recurrence, length }
            }
        };
        let clusters = Arc::from(doc.clusters.clone());
        Ok(Self {
            doc,
            schedule,
            clusters,
        })
    }

    /// Whether it applies to SLO `name` of `service`.
    pub fn applies_to(&self, service: &str, name: &str) -> bool {
        self.doc.service == service
            && (self.doc.slos.is_empty() || self.doc.slos.iter().any(|s| s == name))
    }

    /// Whether it applies to the events of `cluster` (`all`: only when it applies to every
    /// cluster).
    pub fn applies_in(&self, cluster: &str) -> bool {
        self.clusters.is_empty() || self.clusters.iter().any(|c| c == cluster)
    }

    /// Appends the ranges that overlap `[from, to)`, at most `limit`.
    pub fn ranges(&self, from: u64, to: u64, limit: usize, out: &mut Vec<(u64, u64)>) {
        match &self.schedule {
            Schedule::Once { start, end } => {
                if *start < to && *end > from {
                    out.push((*start, *end));
                }
            }
            Schedule::Recurring { recurrence, length } => {
                let starts = recurrence.starts_between(
                    timestamp(from.saturating_sub(*length)),
                    timestamp(to),
                    limit,
                );
                for s in starts {
                    let s = nanos(s);
                    let e = s.saturating_add(*length);
                    if e > from {
                        out.push((s, e));
                    }
                }
            }
        }
    }

    /// The range active at `now`, or else the next one within [`UPCOMING`].
    pub fn current_or_next(&self, now: u64) -> Option<(u64, u64)> {
        let mut out = Vec::new();
        let to = now.saturating_add(crate::unix_time::nanos(UPCOMING));
        self.ranges(now, to, 2, &mut out);
        out.into_iter().find(|(_, e)| *e > now)
    }

    /// Whether it can still apply at or after `now`.
    pub fn ended_before(&self, now: u64) -> bool {
        match &self.schedule {
            Schedule::Once { end, .. } => *end <= now,
            Schedule::Recurring { .. } => {
                let mut out = Vec::new();
                self.ranges(now, u64::MAX, 1, &mut out);
                out.is_empty()
            }
        }
    }
}

fn check_length(nanos: u64) -> Result<(), AdjustError> {
    if nanos > crate::unix_time::nanos(MAX_LENGTH) {
        return Err(AdjustError::RangeTooLong);
    }
    if nanos < 1_000_000_000 {
        return Err(AdjustError::RangeTooShort);
    }
    Ok(())
}

/// Whether `t` is inside one of `ranges`.
pub fn covers(ranges: &[(u64, u64)], t: u64) -> bool {
    ranges.iter().any(|(s, e)| t >= *s && t < *e)
}

/// The adjusted ranges of one SLO over a span of time, each with the clusters it applies
/// to (empty: every cluster).
#[derive(Debug, Clone, Default)]
pub struct Ranges(Vec<(u64, u64, Arc<[String]>)>);

impl Ranges {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether an event of `cluster` at `t` is in a range that applies to its cluster.
    pub fn covers(&self, cluster: &str, t: u64) -> bool {
        self.0.iter().any(|(s, e, clusters)| {
            t >= *s && t < *e && (clusters.is_empty() || clusters.iter().any(|c| c == cluster))
        })
    }

    /// The ranges, `[start, end)`, whatever their clusters.
    pub fn times(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.0.iter().map(|(s, e, _)| (*s, *e))
    }
}

/// The adjustments of the SLO files and of the API, by service, as the engine reads them;
/// and the events each SLO had excluded.
#[derive(Debug, Default)]
pub struct Registry {
    file: Mutex<Vec<Arc<Adjustment>>>,
    api: Mutex<Vec<Arc<Adjustment>>>,
    by_service: RwLock<Arc<HashMap<String, Vec<Arc<Adjustment>>>>>,
    adjusted: Mutex<HashMap<(String, String), u64>>,
}

/// Ranges read per adjustment and request at most.
const RANGES_PER_READ: usize = 64;

impl Registry {
    fn rebuild(&self) {
        let mut map: HashMap<String, Vec<Arc<Adjustment>>> = HashMap::new();
        let file = self.file.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let api = self.api.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for a in file.into_iter().chain(api) {
            map.entry(a.doc.service.clone()).or_default().push(a);
        }
        *self.by_service.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(map);
    }

    /// Replaces the SLO files' adjustments (on load and reload).
    pub fn set_file(&self, adjustments: Vec<Adjustment>) {
        *self.file.lock().unwrap_or_else(|p| p.into_inner()) =
            adjustments.into_iter().map(Arc::new).collect();
        self.rebuild();
    }

    /// Replaces the API's adjustments.
    pub fn set_api(&self, adjustments: Vec<Arc<Adjustment>>) {
        *self.api.lock().unwrap_or_else(|p| p.into_inner()) = adjustments;
        self.rebuild();
    }

    /// Every adjustment: the files' first, then the API's.
    pub fn all(&self) -> Vec<Arc<Adjustment>> {
        let mut out = self.file.lock().unwrap_or_else(|p| p.into_inner()).clone();
        out.extend(
            self.api
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .cloned(),
        );
        out
    }

    /// The adjustments of SLO `name` of `service`.
    pub fn of(&self, service: &str, name: &str) -> Vec<Arc<Adjustment>> {
        let map = self
            .by_service
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        map.get(service)
            .map(|v| {
                v.iter()
                    .filter(|a| a.applies_to(service, name))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The adjusted ranges of SLO `name` of `service` that overlap `[from, to)`.
    pub fn ranges(&self, service: &str, name: &str, from: u64, to: u64) -> Ranges {
        let map = self
            .by_service
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut out = Vec::new();
        let mut times = Vec::new();
        if let Some(list) = map.get(service) {
            for a in list.iter().filter(|a| a.applies_to(service, name)) {
                times.clear();
                a.ranges(from, to, RANGES_PER_READ, &mut times);
                out.extend(times.iter().map(|&(s, e)| (s, e, a.clusters.clone())));
            }
        }
        Ranges(out)
    }

    /// Whether an adjustment of SLO `name` of `service` is active at `now`, in any cluster.
    pub fn active(&self, service: &str, name: &str, now: u64) -> bool {
        !self
            .ranges(service, name, now, now.saturating_add(1))
            .is_empty()
    }

    /// Counts `n` events of an SLO excluded by an adjustment.
    pub fn add_adjusted(&self, service: &str, name: &str, n: u64) {
        if n == 0 {
            return;
        }
        let mut m = self.adjusted.lock().unwrap_or_else(|p| p.into_inner());
        let c = m
            .entry((service.to_string(), name.to_string()))
            .or_insert(0);
        *c = c.saturating_add(n);
    }

    /// Events of SLO `name` of `service` excluded since start.
    pub fn adjusted(&self, service: &str, name: &str) -> u64 {
        let m = self.adjusted.lock().unwrap_or_else(|p| p.into_inner());
        m.get(&(service.to_string(), name.to_string()))
            .copied()
            .unwrap_or(0)
    }
}
