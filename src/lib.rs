//! slotel: an OpenTelemetry SLO pipeline.
//!
//! OTel SDKs and collectors send OTLP (gRPC on 4317, HTTP on 4318) to slotel; it checks who
//! is sending (bearer token → tenant, cluster), queues the data in bounded per-signal
//! pipelines, redacts PII, feeds the SLO engine (a connector: spans, metric points and log
//! records in, SLO series back into the metrics pipeline) and hands everything to
//! exporters.
//!
//! # Layout
//!
//! Following the data, from the wire to the backends:
//!
//! - [`signal`]: the vocabulary every stage speaks: [`signal::Signal`],
//!   [`signal::Protocol`], [`signal::Compression`].
//! - [`listener`]: the accept loop every listener runs (TLS, connection limits, timeouts,
//!   graceful shutdown): the receivers' and the admin listener's.
//! - [`receiver`]: the OTLP/gRPC and OTLP/HTTP routes, decompression, limits, auth.
//! - [`pipeline`]: bounded per-signal queues between receivers and exporters; a batch's
//!   payload and its bytes as received.
//! - [`redact`]: PII redaction of logs and traces (detectors, JSON walker, actions,
//!   per-tenant and per-service policies, the audit trail).
//! - [`slo`]: SLO files and conditions, span facts in Arrow, the engine and its connector,
//!   their lifecycle, API and history, journeys, sampling-aware counts, budget
//!   adjustments, the capture for replay, the merged view.
//! - [`export`]: every exporter, their typed errors, and their memory and disk queues.
//! - [`admin`]: health, readiness, `/metrics` and the status page.
//!
//! Around them:
//!
//! - [`config`]: the YAML config, decoded with file:line:column errors into domain types.
//! - [`attr`]: `kv(key, value)`, an OTLP attribute in one call.
//! - [`yaml`]: YAML with locations: the tree, readers and located errors that the config
//!   and the SLO files are decoded with.
//! - [`regular_file`]: the one way a file is opened to be read: regular files only, never
//!   a blocking open, each read bounded.
//! - [`user_regex`]: the one policy (size limits) for regexes users write.
//! - [`unix_time`]: durations and the wall clock as `u64` nanoseconds, saturating.
//! - [`shutdown`]: the one shutdown signal long-running tasks are given.
//! - [`telemetry`]: slotel's own metrics and logs.
//! - [`app`]: wiring everything together, start and staged shutdown.
//! - [`cli`]: the command line.
//! - [`loadgen`]: the `slotel loadgen` OTLP load generator.
//! - [`replay`]: `slotel replay`: SLO files evaluated over a capture of span facts.
//! - [`suggest`]: `slotel suggest`: objectives and thresholds from a capture, with what each
//!   would have cost.
//! - [`import`]: `slotel import --from sloth`: Sloth SLO specs into SLO files.
//! - [`rules`]: `slotel rules`: Prometheus rules, a Grafana dashboard and Grafana alerts
//!   from SLO files.

pub mod admin;
pub mod app;
pub mod attr;
pub mod cli;
pub mod config;
pub mod export;
pub mod import;
pub mod listener;
pub mod loadgen;
pub mod pipeline;
pub mod receiver;
pub mod redact;
pub mod regular_file;
pub mod replay;
pub mod rules;
pub mod shutdown;
pub mod signal;
pub mod slo;
pub mod suggest;
pub mod telemetry;
pub mod unix_time;
pub mod user_regex;
pub mod yaml;

/// The fixture runner of the config's and the SLO files' tests.
#[cfg(test)]
mod fixture_tests;
/// The tests' OTLP request builders, shared with the integration tests.
#[cfg(test)]
#[path = "../tests/common/otlp.rs"]
mod test_otlp;
/// The tests' loopback server, shared with the integration tests.
#[cfg(test)]
#[path = "../tests/common/serve.rs"]
mod test_serve;
