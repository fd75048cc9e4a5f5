//! slotel: an OpenTelemetry SLO pipeline.
//!
//! OTel SDKs and collectors send OTLP (gRPC on 4317, HTTP on 4318) to slotel; it checks who
//! is sending (bearer token → tenant, cluster), queues the data in bounded per-signal
//! pipelines, redacts PII, feeds the SLO engine (a connector: spans and metric points in,
//! SLO series back into the metrics pipeline) and hands everything to exporters.
//!
//! # Layout
//!
//! - [`config`]: the YAML config, decoded with file:line:column errors into domain types.
//! - [`receiver`]: OTLP/gRPC and OTLP/HTTP servers, decompression, limits, auth, TLS.
//! - [`pipeline`]: bounded per-signal queues between receivers and exporters.
//! - [`redact`]: PII redaction of logs and traces (detectors, JSON walker, actions,
//!   per-tenant and per-service policies, the audit trail).
//! - [`slo`]: SLO files and conditions, span facts in Arrow, the engine and its connector.
//! - [`export`]: every exporter, and their memory and disk queues.
//! - [`admin`]: health, readiness, `/metrics` and the status page.
//! - [`telemetry`]: slotel's own metrics and logs.
//! - [`app`]: wiring everything together, start and staged shutdown.
//! - [`loadgen`]: the `slotel loadgen` OTLP load generator.
//! - [`rules`]: `slotel rules`: Prometheus rules, a Grafana dashboard and Grafana alerts from SLO files.

pub mod admin;
pub mod app;
pub mod cli;
pub mod config;
pub mod export;
pub mod listener;
pub mod loadgen;
pub mod pipeline;
pub mod receiver;
pub mod redact;
pub mod rules;
pub mod shutdown;
pub mod signal;
pub mod slo;
pub mod telemetry;
pub mod user_regex;
pub mod yaml;
