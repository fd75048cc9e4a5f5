//! SLOs: their definitions, conditions and the span facts they run on, the engine that
//! counts them, and everything that serves its numbers.
//!
//! SLO files (native or OpenSLO v1) load into a validated [`spec::SloSet`]; every condition
//! in them is compiled once ([`ottl::Condition`]). Each trace request then becomes one Arrow
//! batch of span facts ([`facts::SpanFacts`]) holding only the columns the loaded
//! conditions read, and the conditions run over it as Arrow kernels; metric points and log
//! records are judged as they come.
//!
//! # Layout
//!
//! - [`spec`]: SLO files → [`spec::SloSet`] (native and OpenSLO formats, every error at once
//!   with file:line:column; the example set of `config/slos/`).
//! - [`ottl`]: the OTTL-subset conditions: parser and row-by-row evaluator.
//! - [`facts`]: span facts as an Arrow `RecordBatch`, the schema of columns they need, and
//!   the Arrow evaluator of conditions over them; log facts, for the capture.
//! - [`engine`]: windows, HDR latency histograms, budgets and burn rates per SLO and group.
//! - [`connector`]: the engine as a pipeline stage: spans, metric points and log records in.
//! - [`capture`]: `slo.capture`: span and log facts on disk as Arrow IPC files, for
//!   `slotel replay`.
//! - [`lifecycle`]: the engine in a running slotel: load and restore, file watch and
//!   reload, snapshots, and its series put into the metrics pipeline; [`state_lock`]: one
//!   process per `slo.state_dir`.
//! - [`metric_limits`]: the range checks of OTLP metric data points (also for receivers).
//! - [`journey`]: journey SLOs' numbers, from their members' (defined in
//!   [`spec::journey`]).
//! - [`api`]: `GET /api/v1/slos` on the admin listener.
//! - [`adjust`]: budget adjustments (maintenance windows): in SLO files and through
//!   `/api/v1/adjustments`, applied by the engine and marked for the alerts.
//! - [`history`]: the bounded recent past of every SLO the status page charts, and
//!   `GET /api/v1/slos/{service}/{name}/history` and `…/definition` ([`definition`]).
//! - [`series`]: the SLO series on `/metrics`, and their labels for every path
//!   ([`series::series_labels`], [`series::group_label_names`], defined in `spec`).
//! - [`series_names`]: the SLO series' names, which the engine writes and the rules,
//!   dashboards and status source read.
//! - [`otlp_series`]: the same series as OTLP metrics, as they enter the metrics pipeline.
//! - [`merged`]: `slo.status_source`, the API's entries (and, in `merged/history.rs`, the
//!   status page's charts over time) read from the Prometheus every replica writes to.
//!
//! The inputs import one way, each only those listed before it: [`ottl`] (conditions and
//! the attribute paths they read, [`ottl::AttrRef`]) imports no other module here;
//! [`spec`] imports `ottl` (an SLO holds conditions) and reads `adjust`'s file format;
//! [`facts`] imports both (the Arrow evaluator of conditions lives with the batch it runs
//! on, and [`facts::FactsSchema::of`] makes the columns an SLO set reads); [`engine`]
//! imports them all. `layer_tests.rs` fails when a module imports one after it. Nothing here does I/O
//! except [`spec::load`] reading the SLO files and [`merged`] querying Prometheus.

pub mod adjust;
pub mod api;
pub mod capture;
pub mod connector;
pub mod definition;
pub mod engine;
pub mod facts;
pub mod history;
pub mod journey;
#[cfg(test)]
mod layer_tests;
pub mod lifecycle;
pub mod merged;
pub mod metric_limits;
pub mod otlp_series;
pub mod ottl;
pub mod series;
pub mod series_names;
pub mod spec;
pub mod state_lock;
