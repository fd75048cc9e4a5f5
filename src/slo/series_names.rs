//! The names of the SLO series, defined once: the engine writes them (`/metrics`, OTLP,
//! remote write, see [`super::series`]) and the rule generator, the dashboards and the
//! status source read them back (`crate::rules`, [`super::merged`]).
//!
//! A counter is named here without `_total`, as its family is registered; the exposition
//! and the OTLP path add the suffix, and readers use the `…_TOTAL` names.

/// Counter: SLO events by `outcome` (good, bad).
pub const EVENTS: &str = "slotel_slo_events";
/// [`EVENTS`] as scraped and queried.
pub const EVENTS_TOTAL: &str = "slotel_slo_events_total";
/// Gauge: the objective as a ratio.
pub const OBJECTIVE: &str = "slotel_slo_objective_ratio";
/// Gauge: error budget remaining over the SLO window.
pub const BUDGET_REMAINING: &str = "slotel_slo_error_budget_remaining_ratio";
/// Gauge: seconds until the budget is spent at the long window's burn rate.
pub const TIME_TO_EXHAUSTION: &str = "slotel_slo_time_to_exhaustion_seconds";
/// Gauge: burn rate per `window`.
pub const BURN_RATE: &str = "slotel_slo_burn_rate";
/// Gauge: ended time slices of a timeslice SLO per `window` and `outcome`.
pub const TIMESLICES: &str = "slotel_slo_timeslices";
/// Histogram: span latencies (classic buckets and native).
pub const LATENCY: &str = "slotel_slo_latency_seconds";
/// Gauge: latency percentiles per `window`.
pub const LATENCY_PERCENTILE: &str = "slotel_slo_latency_percentile_seconds";
/// Counter: events ended too long ago or in the future.
pub const DROPPED_EVENTS: &str = "slotel_slo_dropped_events";
/// Gauge: 1 while a budget adjustment of the SLO is active.
pub const ADJUSTMENT_ACTIVE: &str = "slotel_slo_adjustment_active";
/// Counter: events a budget adjustment excluded.
pub const ADJUSTED_EVENTS: &str = "slotel_slo_adjusted_events";
/// Counter, `/metrics` only: skipped metric data points by `reason`.
pub const INVALID_POINTS: &str = "slotel_slo_invalid_points";
/// Counter, `/metrics` only: spans whose `tracestate` could not be read, by `reason`.
pub const INVALID_TRACESTATES: &str = "slotel_slo_invalid_tracestates";
/// Groups across every SLO now (`/metrics` only; gauge).
pub const GROUPS: &str = "slotel_slo_groups";
/// `slo.max_groups_total` (`/metrics` only; gauge).
pub const GROUPS_LIMIT: &str = "slotel_slo_groups_limit";
/// Events counted in an `__overflow__` group because `slo.max_groups_total` groups
/// existed (`/metrics` only; counter, `_total` added).
pub const GROUPS_REFUSED_EVENTS: &str = "slotel_slo_groups_refused_events";
/// Counter, `/metrics` only: traces a trace-aware journey closed, by `reason`.
pub const JOURNEY_TRACES: &str = "slotel_slo_journey_traces";
/// Counter, `/metrics` only: member spans a trace-aware journey left out, by `reason`.
pub const JOURNEY_IGNORED_SPANS: &str = "slotel_slo_journey_ignored_spans";
/// Gauge, `/metrics` only: traces a trace-aware journey holds open.
pub const JOURNEY_OPEN_TRACES: &str = "slotel_slo_journey_open_traces";
/// Counter, `/metrics` only: log records whose latency field a latency SLI could not read,
/// by `reason`.
pub const LOG_LATENCY_UNREADABLE: &str = "slotel_slo_log_latency_unreadable";
/// The generated rules' recording of each SLO's objective and labels (not written by the
/// engine).
pub const INFO: &str = "slotel_slo_info";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_read_with_their_total_suffix() {
        assert_eq!(EVENTS_TOTAL, format!("{EVENTS}_total"));
    }
}
