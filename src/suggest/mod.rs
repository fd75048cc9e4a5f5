//! `slotel suggest`: objectives and latency thresholds a service met over a capture
//! (`slo.capture`), each with what it would have cost.
//!
//! Every alternative is an SLO run through [`crate::replay`], so the counts, the budget and
//! the alerts are the live engine's and the generated rules' own:
//!
//! 1. the capture is read once to find the services with server spans (`--service` and
//!    `--route` narrow it);
//! 2. a replay of one latency SLO per service gives the observed percentiles over the
//!    period (the engine's HDR histograms: nearest rank, at most 0.1% above the true
//!    value);
//! 3. a replay of the candidates gives each one's events, bad events, budget spent at the
//!    end time and the burn-rate alerts (pages, tickets) the generated rules would have
//!    fired: availability at 99, 99.5, 99.9, 99.95 and 99.99%; latency at 90, 95, 99,
//!    99.5 and 99.9% against each threshold the observed percentiles round up to.
//!
//! The SLIs: server spans (`kind == SPAN_KIND_SERVER`) of the service (and route);
//! availability counts a span bad when its status is `STATUS_CODE_ERROR` or its
//! `http.response.status_code` is 500 or more; latency counts it bad when it took longer
//! than the threshold. The capture's `service` column stands for `service.name` (spans
//! without one are `unknown_service`).
//!
//! # Layout
//!
//! - `mod.rs`: the arguments and [`suggest`] → [`Suggestions`].
//! - `candidates.rs`: the SLOs the passes replay, thresholds, the service column.
//! - `render.rs`: JSON and text.

mod candidates;
mod render;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;

use crate::replay::{Options, ReplayArgs, ReplayError, parse_time, replay_with};
use crate::slo::capture::{Reader, list_files};
use crate::slo::engine::state::ALL;
use crate::slo::engine::status::percentile_key;
use crate::slo::spec::{AttrRef, SloSet};

pub use candidates::nice_ceil;

/// Availability objectives tried, percent.
pub const AVAILABILITY: [f64; 5] = [99.0, 99.5, 99.9, 99.95, 99.99];
/// Latency objectives tried, percent; each one's observed percentile gives a threshold.
pub const LATENCY: [f64; 5] = [90.0, 95.0, 99.0, 99.5, 99.9];
/// Percentiles reported, besides those of [`LATENCY`].
const REPORTED: [f64; 1] = [50.0];
/// The most services one run suggests for.
pub const MAX_SERVICES: usize = 200;

/// `slotel suggest` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct SuggestArgs {
    /// The capture directory (`slo.capture.directory`).
    #[arg(long)]
    pub capture: PathBuf,
    /// Only this service (`service.name`); default: every service with server spans.
    #[arg(long)]
    pub service: Option<String>,
    /// Only server spans of this `http.route`.
    #[arg(long)]
    pub route: Option<String>,
    /// Facts received from this time on (RFC 3339, or Unix seconds).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<u64>,
    /// Facts received up to this time (RFC 3339, or Unix seconds).
    #[arg(long, value_parser = parse_time)]
    pub to: Option<u64>,
    /// The candidates' SLO window (whole days, 1d to 366d): the budget is spent over it
    /// and the alerts' burn-rate factors are scaled to it, as `slotel rules` does.
    #[arg(long, default_value = "28d", value_parser = parse_window)]
    pub window: Duration,
    /// How often alerts are judged.
    #[arg(long, default_value = "1m", value_parser = crate::replay::parse_step)]
    pub step: Duration,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `--format`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

fn parse_window(s: &str) -> Result<Duration, crate::replay::ArgError> {
    let d = humantime::parse_duration(s)?;
    let days = d.as_secs() / 86_400;
    if !d.as_secs().is_multiple_of(86_400) || d.subsec_nanos() != 0 || !(1..=366).contains(&days) {
        return Err(crate::replay::ArgError::Window(s.to_string()));
    }
    Ok(d)
}

/// What one objective (and threshold) would have cost.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cost {
    /// Percent.
    pub objective: f64,
    /// Latency candidates: the threshold (`900ms`) and in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_seconds: Option<f64>,
    /// Events in the SLO window at the end time, and the bad among them.
    pub events: u64,
    pub bad: u64,
    /// Share of the error budget spent at the end time (1 = all of it; more is overspent).
    pub budget_spent: Option<f64>,
    /// The objective was met: good events ≥ objective × events.
    pub met: bool,
    /// Alerts the generated rules would have fired (counted per cluster).
    pub pages: u64,
    pub tickets: u64,
    /// Latency: this threshold is the objective's own percentile, rounded up.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suggested: bool,
}

/// Availability over the period and its candidates.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Availability {
    pub events: u64,
    pub bad: u64,
    /// Good events over events.
    pub ratio: Option<f64>,
    pub objectives: Vec<Cost>,
}

/// Observed latency and the latency candidates.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Latency {
    /// Percentiles over the period, seconds (`p99`: 0.812).
    pub percentiles: BTreeMap<String, f64>,
    pub candidates: Vec<Cost>,
}

/// The suggestions for one service (and route).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ServiceSuggestions {
    pub service: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Server spans in the period, as read (before the engine's late and future drops).
    pub spans: u64,
    pub availability: Availability,
    pub latency: Latency,
}

/// What `slotel suggest` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Suggestions {
    pub from: String,
    pub to: String,
    /// The candidates' SLO window, and whether it covers the whole period (else the
    /// budget spent is that of the last window).
    pub window: String,
    pub window_covers_period: bool,
    pub step: String,
    pub warnings: Vec<String>,
    pub services: Vec<ServiceSuggestions>,
}

/// Server spans per service (matching `route`) in the period: the first pass.
fn services(
    args: &SuggestArgs,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, u64>, ReplayError> {
    let files = list_files(&args.capture).map_err(|source| ReplayError::Capture {
        path: args.capture.clone(),
        source,
    })?;
    let route = AttrRef::Item("http.route".to_string());
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for file in &files {
        let mut reader = match Reader::open(&file.path) {
            Ok(r) => r,
            Err(e) => {
                warnings.push(format!("{e}; the file is skipped"));
                continue;
            }
        };
        for batch in reader.by_ref() {
            if args.from.is_some_and(|f| batch.received < f)
                || args.to.is_some_and(|t| batch.received > t)
            {
                continue;
            }
            let facts = &batch.facts;
            if args.route.is_some() && !batch.columns.attributes().any(|a| *a == route) {
                return Err(ReplayError::NoRouteColumn {
                    path: file.path.clone(),
                });
            }
            let Some(kinds) = facts
                .batch
                .column_by_name("kind")
                .and_then(|c| c.as_primitive_opt::<Int32Type>())
            else {
                continue;
            };
            for (row, kind) in kinds.values().iter().enumerate() {
                if *kind != candidates::SPAN_KIND_SERVER {
                    continue;
                }
                if let Some(want) = &args.route
                    && facts.attr_string(&route, row).as_deref() != Some(want.as_str())
                {
                    continue;
                }
                let service = facts.service(row);
                if args.service.as_deref().is_some_and(|s| s != service) {
                    continue;
                }
                if let Some(n) = counts.get_mut(service) {
                    *n += 1;
                } else if counts.len() < MAX_SERVICES {
                    counts.insert(service.to_string(), 1);
                }
            }
        }
        if let Some(w) = reader.warning() {
            warnings.push(w.to_string());
        }
    }
    Ok(counts)
}

fn replay_args(args: &SuggestArgs) -> ReplayArgs {
    ReplayArgs {
        slos: Vec::new(),
        capture: args.capture.clone(),
        from: args.from,
        to: args.to,
        step: args.step,
        format: crate::replay::Format::Json,
        out: None,
    }
}

/// Runs the three passes (see the module docs).
pub fn suggest(args: &SuggestArgs) -> Result<Suggestions, ReplayError> {
    let mut warnings = Vec::new();
    let counts = services(args, &mut warnings)?;
    if counts.is_empty() {
        return Err(crate::replay::nothing_read(
            format!(
                "{}: no server spans{}{}{} in the capture",
                args.capture.display(),
                args.service
                    .as_ref()
                    .map_or(String::new(), |s| format!(" of service {s:?}")),
                args.route
                    .as_ref()
                    .map_or(String::new(), |r| format!(" on route {r:?}")),
                if args.from.is_some() || args.to.is_some() {
                    " in the time range"
                } else {
                    ""
                }
            ),
            &warnings,
        ));
    }
    let template = candidates::Template::new(args.window, args.route.as_deref())?;
    let prepare = |batch| {
        candidates::with_service_column(batch)
            .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
    };
    let options = Options {
        timeline: false,
        prepare: Some(&prepare),
    };
    let rargs = replay_args(args);

    // Pass 2: the observed percentiles.
    let mut percentiles: Vec<f64> = REPORTED.to_vec();
    percentiles.extend(LATENCY);
    let mut set = SloSet::default();
    for service in counts.keys() {
        set.slos.push(template.observed(service, &percentiles)?);
    }
    let observed = replay_with(set, &rargs, &options, |_, _| {})?;
    let mut observed_at: BTreeMap<&str, BTreeMap<String, f64>> = BTreeMap::new();
    for s in &observed.slos {
        if s.cluster != ALL || s.group.is_some() {
            continue;
        }
        let values = s
            .latency
            .0
            .iter()
            .filter_map(|(k, v)| v.map(|v| (k.clone(), v)))
            .collect();
        observed_at.insert(
            counts.get_key_value(&s.service).map_or("", |(k, _)| k),
            values,
        );
    }

    // Pass 3: the candidates.
    let mut set = SloSet::default();
    let mut thresholds: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for service in counts.keys() {
        for objective in AVAILABILITY {
            set.slos.push(template.availability(service, objective)?);
        }
        let mut list: Vec<u64> = LATENCY
            .iter()
            .filter_map(|o| {
                let secs = observed_at
                    .get(service.as_str())?
                    .get(&percentile_key(*o))?;
                Some(nice_ceil((secs * 1e9).round() as u64))
            })
            .collect();
        list.sort_unstable();
        list.dedup();
        for t in &list {
            for objective in LATENCY {
                set.slos.push(template.latency(service, objective, *t)?);
            }
        }
        thresholds.insert(service, list);
    }
    let report = replay_with(set, &rargs, &options, |_, _| {})?;
    warnings.extend(observed.warnings);

    let cost = |service: &str, name: &str, objective: f64| -> Cost {
        let status = report.slos.iter().find(|s| {
            s.service == service && s.name == name && s.cluster == ALL && s.group.is_none()
        });
        let alerts = |severity: &str| {
            report
                .alerts
                .iter()
                .filter(|a| {
                    a.entry.service == service && a.entry.name == name && a.severity == severity
                })
                .count() as u64
        };
        let (events, good) = status.map_or((0, 0), |s| (s.total, s.good));
        Cost {
            objective,
            threshold: None,
            threshold_seconds: None,
            events,
            bad: events - good.min(events),
            budget_spent: status
                .and_then(|s| s.error_budget_remaining)
                .map(|r| 1.0 - r),
            met: events > 0 && good as f64 >= objective / 100.0 * events as f64 * (1.0 - 1e-12),
            pages: alerts("page"),
            tickets: alerts("ticket"),
            suggested: false,
        }
    };

    let mut services = Vec::new();
    for (service, spans) in &counts {
        let objectives: Vec<Cost> = AVAILABILITY
            .iter()
            .map(|o| cost(service, &candidates::availability_name(*o), *o))
            .collect();
        let (events, bad) = objectives.first().map_or((0, 0), |c| (c.events, c.bad));
        let observed = observed_at
            .get(service.as_str())
            .cloned()
            .unwrap_or_default();
        let mut latency = Vec::new();
        for t in thresholds.get(service.as_str()).map_or(&[][..], |v| v) {
            for o in LATENCY {
                let mut c = cost(service, &candidates::latency_name(o, *t), o);
                c.threshold = Some(candidates::format_nanos(*t));
                c.threshold_seconds = Some(*t as f64 / 1e9);
                c.suggested = observed
                    .get(&percentile_key(o))
                    .is_some_and(|secs| nice_ceil((secs * 1e9).round() as u64) == *t);
                latency.push(c);
            }
        }
        services.push(ServiceSuggestions {
            service: service.clone(),
            route: args.route.clone(),
            spans: *spans,
            availability: Availability {
                events,
                bad,
                ratio: (events > 0).then(|| (events - bad) as f64 / events as f64),
                objectives,
            },
            latency: Latency {
                percentiles: observed,
                candidates: latency,
            },
        });
    }
    let (from, to) = (
        crate::replay::parse_time(&report.from).unwrap_or(0),
        crate::replay::parse_time(&report.to).unwrap_or(0),
    );
    Ok(Suggestions {
        window_covers_period: to.saturating_sub(from) as u128 <= args.window.as_nanos(),
        from: report.from,
        to: report.to,
        window: format!("{}d", args.window.as_secs() / 86_400),
        step: report.step,
        warnings,
        services,
    })
}

/// `slotel suggest`: suggests and prints; the warnings go to stderr too.
pub fn run(args: &SuggestArgs) -> Result<(), ReplayError> {
    let found = suggest(args)?;
    for w in &found.warnings {
        eprintln!("slotel suggest: warning: {w}");
    }
    let text = match args.format {
        Format::Json => render::json(&found),
        Format::Text => render::text(&found),
    };
    // A closed pipe (`| head`) is not an error.
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
    Ok(())
}
