//! Validated SLO definitions: what the engine and rule generation are built from.
//!
//! Produced by the SLO file loader (native format and OpenSLO v1) from YAML; nothing here
//! does I/O.

use std::time::Duration;

pub use crate::slo::ottl::AttrRef;
use crate::slo::ottl::Condition;

/// Every SLO loaded from the configured files, validated as a whole: `(service, name)`
/// pairs are unique.
#[derive(Debug, Clone, Default)]
pub struct SloSet {
    pub slos: Vec<Slo>,
    /// `adjustments:` of the native files (see [`crate::slo::adjust`]).
    pub adjustments: Vec<crate::slo::adjust::Adjustment>,
}

impl SloSet {
    /// A set of `slos` without adjustments.
    pub fn of(slos: Vec<Slo>) -> Self {
        Self {
            slos,
            adjustments: Vec::new(),
        }
    }

    /// The fields (attributes, resource attributes, body fields) every log SLI of the set
    /// reads: its conditions, its latency field and its `group_by`.
    pub fn log_fields(&self) -> std::collections::BTreeSet<crate::slo::ottl::AttrRef> {
        let mut fields = std::collections::BTreeSet::new();
        for slo in &self.slos {
            if let Sli::Logs(sli) = &slo.sli {
                fields.extend(sli.fields(&slo.group_by));
            }
        }
        fields
    }
}

/// One SLO.
#[derive(Debug, Clone)]
pub struct Slo {
    /// `service` of the file (native) or `spec.service` (OpenSLO).
    pub service: String,
    /// `slos[].name` (native) or `metadata.name` (OpenSLO); unique within a service.
    pub name: String,
    pub description: Option<String>,
    /// Target ratio of good events in (0, 1): the file's `objective: 99.9` becomes 0.999.
    pub objective: f64,
    pub window: SloWindow,
    pub budgeting: Budgeting,
    pub sli: Sli,
    /// Percentiles to report, each in (0, 100); default `[50, 90, 95, 99, 99.9]`.
    pub percentiles: Vec<f64>,
    /// Extra grouping attributes beyond the cluster (`group_by`), default none.
    pub group_by: Vec<AttrRef>,
    /// Cap on groups per SLO (`max_groups`, default 1000); overflow goes to `__overflow__`.
    pub max_groups: usize,
    /// Windows with fewer events than this report no burn rate (`min_events`, default 0).
    pub min_events: u64,
    /// `runbook_url`, for alerts.
    pub runbook_url: Option<String>,
    /// `alerting`: overrides for the alerts `slotel rules` generates (native format only).
    pub alerting: Alerting,
    /// Where the SLO was defined, for messages.
    pub source: SourceRef,
}

impl Slo {
    /// The error budget as a ratio: 1 − objective.
    pub fn budget(&self) -> f64 {
        1.0 - self.objective
    }

    /// Whether `other` defines the same SLO, field by field, so that a reload keeps its
    /// state: service, name, objective, window, budgeting, SLI, `group_by` and
    /// percentiles. Conditions are equal when their text is ([`Condition`]'s rule);
    /// floats compare as numbers (`==`): the loader admits only finite ones, so `99` and
    /// `99.0` are the same objective and no NaN makes a definition differ from itself.
    /// Description, runbook, `min_events`, `max_groups`, alerting and the place in the file
    /// are not part of it.
    pub fn same_definition(&self, other: &Slo) -> bool {
        self.service == other.service
            && self.name == other.name
            && self.objective == other.objective
            && self.window == other.window
            && self.budgeting == other.budgeting
            && self.group_by == other.group_by
            && self.percentiles == other.percentiles
            && self.sli == other.sli
    }
}

/// Overrides for the burn-rate alerts that `slotel rules` generates for one SLO
/// (`alerting:` in the native format). Maps are sorted so generated files are stable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alerting {
    /// `name`: the alert name, `SLOErrorBudgetBurn` when not given.
    pub name: Option<String>,
    /// `labels`: extra labels on every alert of the SLO.
    pub labels: std::collections::BTreeMap<String, String>,
    /// `annotations`: extra (or replaced) annotations on every alert of the SLO.
    pub annotations: std::collections::BTreeMap<String, String>,
    /// `page`: the fast-burn alerts.
    pub page: AlertOverride,
    /// `ticket`: the slow-burn alerts.
    pub ticket: AlertOverride,
    /// `exhaustion`: the optional alert on the time to exhaustion.
    pub exhaustion: Option<super::ExhaustionAlert>,
    /// `disabled: true`: no alerts for this SLO (the recording rules stay).
    pub disabled: bool,
}

/// Overrides for one severity of alert (`alerting.page`, `alerting.ticket`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertOverride {
    /// `severity`: the `severity` label, `page` or `ticket` when not given.
    pub severity: Option<String>,
    /// `labels`: extra labels, over those of `alerting.labels`.
    pub labels: std::collections::BTreeMap<String, String>,
    /// `annotations`: extra annotations, over those of `alerting.annotations`.
    pub annotations: std::collections::BTreeMap<String, String>,
    /// `disabled: true`: no alerts of this severity.
    pub disabled: bool,
}

/// File, line and column of a definition (its name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceRef {
    pub file: String,
    pub line: usize,
    /// 1-based column of the SLO's name.
    pub column: usize,
}

/// The SLO window.
#[derive(Debug, Clone, PartialEq)]
pub enum SloWindow {
    /// A rolling window of at least one day (`window: 30d`, `28d`, `4w`).
    Rolling(Duration),
    /// A calendar period in a time zone (`window: {calendar: month, time_zone: Asia/Seoul}`).
    Calendar {
        unit: CalendarUnit,
        time_zone: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarUnit {
    Week,
    Month,
}

/// How the budget is counted.
#[derive(Debug, Clone, PartialEq)]
pub enum Budgeting {
    /// Good events over total events (the default).
    Occurrences,
    /// Good time slices over all slices: a slice is good when its good ratio is at least
    /// `slice_target` (OpenSLO `Timeslices`).
    Timeslices { slice: Duration, slice_target: f64 },
}

/// The service-level indicator.
#[derive(Debug, Clone, PartialEq)]
pub enum Sli {
    Spans(SpanSli),
    Metric(MetricSli),
    /// An SLI computed from log records (access logs): see [`LogSli`].
    Logs(LogSli),
    /// A journey: the weighted events of other SLOs (`journey:`, OpenSLO composites).
    Journey(super::journey::Journey),
}

/// An SLI computed from spans.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanSli {
    /// `where`: which spans count at all.
    pub filter: Condition,
    /// `bad`: which of those are bad events (availability).
    pub bad: Option<Condition>,
    /// `latency_threshold`: good = duration ≤ threshold (and not bad, when both are given).
    pub latency_threshold: Option<Duration>,
    /// `adjusted_counts` (default true): each span counts with its adjusted count from its
    /// `tracestate` (probability sampling); false counts every span once.
    pub adjusted_counts: bool,
}

impl Sli {
    /// The latency threshold of a span or log SLI: good = latency ≤ threshold.
    pub fn latency_threshold(&self) -> Option<Duration> {
        match self {
            Sli::Spans(s) => s.latency_threshold,
            Sli::Logs(l) => l.latency_threshold,
            Sli::Metric(_) | Sli::Journey(_) => None,
        }
    }

    /// Whether the SLI's events carry latencies (percentiles, latency histograms): spans,
    /// and log records when the SLI names a latency field.
    pub fn has_latencies(&self) -> bool {
        match self {
            Sli::Spans(_) => true,
            Sli::Logs(l) => l.latency.is_some(),
            Sli::Metric(_) | Sli::Journey(_) => false,
        }
    }
}

/// An SLI computed from log records: one event per record that `where` matches, bad when
/// `bad` holds or its latency (read from `latency.field`) is above `latency_threshold`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSli {
    /// `where`: which records count at all.
    pub filter: Condition,
    /// `bad`: which of those are bad events.
    pub bad: Option<Condition>,
    /// `latency`: where each record's latency is and in which unit. A record whose field
    /// is missing or not a number is not counted (neither good nor bad) and is counted as
    /// unreadable instead.
    pub latency: Option<LatencyField>,
    /// `latency_threshold`: good = latency ≤ threshold (and not bad).
    pub latency_threshold: Option<Duration>,
}

impl LogSli {
    /// The fields it reads: its conditions', its latency field and those of `group_by`.
    pub fn fields(&self, group_by: &[crate::slo::ottl::AttrRef]) -> Vec<crate::slo::ottl::AttrRef> {
        let mut fields: Vec<_> = self.filter.attributes().into_iter().collect();
        if let Some(bad) = &self.bad {
            fields.extend(bad.attributes());
        }
        fields.extend(self.latency.iter().map(|l| l.field.clone()));
        fields.extend(group_by.iter().cloned());
        fields
    }
}

/// `latency:` with `field: body["request_time"]` and `unit: s`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyField {
    pub field: AttrRef,
    pub unit: LatencyUnit,
}

/// The unit a latency field is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatencyUnit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

impl LatencyUnit {
    /// The names accepted in SLO files.
    pub const NAMES: [&'static str; 4] = ["s", "ms", "us", "ns"];

    pub fn parse(text: &str) -> Option<LatencyUnit> {
        Some(match text {
            "s" => LatencyUnit::Seconds,
            "ms" => LatencyUnit::Millis,
            "us" => LatencyUnit::Micros,
            "ns" => LatencyUnit::Nanos,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            LatencyUnit::Seconds => "s",
            LatencyUnit::Millis => "ms",
            LatencyUnit::Micros => "us",
            LatencyUnit::Nanos => "ns",
        }
    }

    /// Nanoseconds per unit.
    pub fn nanos(self) -> f64 {
        match self {
            LatencyUnit::Seconds => 1e9,
            LatencyUnit::Millis => 1e6,
            LatencyUnit::Micros => 1e3,
            LatencyUnit::Nanos => 1.0,
        }
    }
}

/// An SLI computed from OTLP metrics.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricSli {
    /// A histogram (explicit or exponential buckets): good = observations at or below the
    /// largest bucket bound ≤ `threshold` (in the metric's unit, usually seconds).
    Threshold {
        metric: MetricSelector,
        threshold: f64,
    },
    /// Monotonic sums: good/total or bad/total (exactly one of `good`, `bad`).
    Ratio {
        good: Option<MetricSelector>,
        bad: Option<MetricSelector>,
        total: MetricSelector,
    },
}

impl MetricSli {
    /// The names of the metrics it reads.
    pub fn metric_names(&self) -> Vec<String> {
        match self {
            MetricSli::Threshold { metric, .. } => vec![metric.name.clone()],
            MetricSli::Ratio { good, bad, total } => std::iter::once(total)
                .chain(good)
                .chain(bad)
                .map(|m| m.name.clone())
                .collect(),
        }
    }
}

/// A metric by name, optionally filtered on its data point and resource attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSelector {
    pub name: String,
    pub filter: Option<Condition>,
}
