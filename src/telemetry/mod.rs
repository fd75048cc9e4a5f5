//! slotel's own telemetry: the metrics it exposes on `/metrics` and its own logs.
//!
//! Every metric is named once, here, as `slotel_<thing>_<unit>_total` for counters. Label
//! values are closed enums (signal, protocol, reason), never raw error strings or user data.
//! Counters move once per request or batch, never once per item. The registry is owned by a
//! [`Metrics`] value that the app creates and injects, so tests can read it.
//!
//! Beside it: `process.rs` (the standard `process_*` series, read from `/proc` at scrape
//! time), `reload.rs` (whether the last config and SLO file reloads worked),
//! `log_limit.rs` (rate-limited log lines).

pub mod log_limit;
pub mod process;
pub mod reload;

use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::config::{LogFormat, LogsConfig};
use crate::signal::{Protocol, Signal};

/// Why items or requests were refused. A closed set: it is a label value.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum RefuseReason {
    /// Missing or unknown bearer token.
    Unauthenticated,
    /// The body could not be decoded.
    Invalid,
    /// An item broke a rule (bad ids, too many attributes): partial success.
    InvalidItem,
    /// The body was too large before or after decompression.
    TooLarge,
    /// Content type or encoding not supported.
    Unsupported,
    /// The pipeline queue was full: the client was told to retry.
    QueueFull,
    /// slotel is shutting down.
    ShuttingDown,
    /// The process-wide memory budget was in use: the client was told to retry.
    MemoryBudget,
    /// The body did not arrive within the body timeout.
    Timeout,
}

impl RefuseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RefuseReason::Unauthenticated => "unauthenticated",
            RefuseReason::Invalid => "invalid",
            RefuseReason::InvalidItem => "invalid_item",
            RefuseReason::TooLarge => "too_large",
            RefuseReason::Unsupported => "unsupported",
            RefuseReason::QueueFull => "queue_full",
            RefuseReason::ShuttingDown => "shutting_down",
            RefuseReason::MemoryBudget => "memory_budget",
            RefuseReason::Timeout => "timeout",
        }
    }
}

macro_rules! label_value {
    ($($t:ty),*) => {$(
        impl EncodeLabelValue for $t {
            fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
                std::fmt::Write::write_str(encoder, self.as_str())
            }
        }
    )*};
}
label_value!(Signal, Protocol, RefuseReason);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReceiverLabels {
    pub receiver: &'static str,
    pub protocol: Protocol,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusedLabels {
    pub receiver: &'static str,
    pub protocol: Protocol,
    pub reason: RefuseReason,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub protocol: Protocol,
    pub signal: Signal,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusedRequestLabels {
    pub receiver: &'static str,
    pub protocol: Protocol,
    pub signal: Signal,
    pub reason: RefuseReason,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SignalLabels {
    pub signal: Signal,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ExporterLabels {
    pub exporter: String,
    pub signal: Signal,
}

/// The per-exporter series of queued (remote) exporters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub exporter: String,
}

/// Why a queued exporter gave up on items: `permanent` (the backend refused them for
/// good), `retries_exhausted` (`max_elapsed_time` passed), `queue_full` (the hard limit,
/// twice `max_bytes`, was passed), `corrupt` (a disk record that does not decode),
/// `encode` (the batch could not be converted for this backend).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DroppedLabels {
    pub exporter: String,
    pub reason: &'static str,
}

/// `slotel_exporter_queue_salvage_records_total`: `outcome` = `salvaged` (copied out of a
/// damaged disk queue file) | `lost` (in the damaged file but unreadable).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SalvageLabels {
    pub exporter: String,
    pub outcome: &'static str,
}

/// `slotel_exporter_requests_total`: `outcome` = `success` | `retryable` | `permanent`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ExportRequestLabels {
    pub exporter: String,
    pub outcome: &'static str,
}

/// `slotel_exporter_limited_records_total`: `reason` one of
/// [`crate::export::limits::Reason`]'s.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitedLabels {
    pub exporter: String,
    pub reason: &'static str,
}

/// The families of queued exporters.
#[derive(Default)]
pub struct ExporterMetrics {
    pub sent_items: Family<QueueLabels, Counter>,
    pub dropped_items: Family<DroppedLabels, Counter>,
    pub requests: Family<ExportRequestLabels, Counter>,
    pub retries: Family<QueueLabels, Counter>,
    pub duplicates: Family<QueueLabels, Counter>,
    pub queue_items: Family<QueueLabels, Gauge>,
    pub queue_bytes: Family<QueueLabels, Gauge>,
    pub queue_capacity_bytes: Family<QueueLabels, Gauge>,
    pub queue_oldest_age_seconds: Family<QueueLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    /// Samples of SLO series in a remote-write exporter's SLO lane (waiting or being sent).
    pub slo_lane_samples: Family<QueueLabels, Gauge>,
    /// Items an OTLP backend accepted the request of but rejected (partial success).
    pub partial_rejected_items: Family<QueueLabels, Counter>,
    /// Records of damaged disk queue files, salvaged or lost.
    pub queue_salvage_records: Family<SalvageLabels, Counter>,
    /// Label values longer than the exporter's `max_label_value_length`, cut (loki,
    /// prometheusremotewrite).
    pub label_values_cut: Family<QueueLabels, Counter>,
    /// Records (log entries, series) an exporter changed or dropped to keep its
    /// backend's per-record limits, by reason (loki, prometheusremotewrite).
    pub limited_records: Family<LimitedLabels, Counter>,
}

impl ExporterMetrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "slotel_exporter_delivered_items",
            "Items (spans, data points, log records, samples) a queued exporter's backend accepted",
            self.sent_items.clone(),
        );
        registry.register(
            "slotel_exporter_dropped_items",
            "Items a queued exporter gave up on, by reason",
            self.dropped_items.clone(),
        );
        registry.register(
            "slotel_exporter_requests",
            "Requests to the backend, by outcome",
            self.requests.clone(),
        );
        registry.register(
            "slotel_exporter_retries",
            "Requests sent again after a retryable failure",
            self.retries.clone(),
        );
        registry.register("slotel_exporter_redelivered_items", "Items read back from a disk queue after a restart that may already have been delivered", self.duplicates.clone());
        registry.register(
            "slotel_exporter_queue_items",
            "Requests waiting in an exporter's queue (in flight included)",
            self.queue_items.clone(),
        );
        registry.register(
            "slotel_exporter_queue_size_bytes",
            "Bytes waiting in an exporter's queue",
            self.queue_bytes.clone(),
        );
        registry.register(
            "slotel_exporter_queue_capacity_bytes",
            "Bytes an exporter's queue holds before receivers answer retry-later",
            self.queue_capacity_bytes.clone(),
        );
        registry.register("slotel_exporter_queue_salvage_records", "Records of a damaged disk queue file: copied into a fresh file (salvaged) or unreadable (lost)", self.queue_salvage_records.clone());
        registry.register(
            "slotel_exporter_queue_oldest_age_seconds",
            "Age of the oldest request in an exporter's queue (0 when empty)",
            self.queue_oldest_age_seconds.clone(),
        );
        registry.register(
            "slotel_exporter_queue_slo_series_samples",
            "Samples of SLO series in a remote-write exporter's SLO lane, waiting or being sent",
            self.slo_lane_samples.clone(),
        );
        registry.register(
            "slotel_exporter_partial_success_rejected_items",
            "Items an OTLP backend rejected inside an accepted request (partial success)",
            self.partial_rejected_items.clone(),
        );
        registry.register(
            "slotel_exporter_label_values_cut",
            "Label values longer than the exporter's max_label_value_length, cut to it and ended with a hash of the whole value",
            self.label_values_cut.clone(),
        );
        registry.register(
            "slotel_exporter_limited_records",
            "Records (log entries, series) an exporter changed or dropped to keep its backend's per-record limits, by reason",
            self.limited_records.clone(),
        );
    }
}

/// `slotel_redactions_total`: `type` is a built-in PII type, a custom detector's name
/// from the config, or `k8s`; `tenant` a configured token's; `policy` a configured
/// policy's name (all bounded by the config); never a value.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RedactionLabels {
    pub r#type: String,
    pub action: &'static str,
    pub signal: Signal,
    /// The sender's tenant (from its token; empty without auth): bounded by the tokens.
    pub tenant: String,
    /// The policy that applied: `default` or a configured policy's name.
    pub policy: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RedactionFallbackLabels {
    pub reason: &'static str,
    pub signal: Signal,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: &'static str,
    /// The git commit slotel was built from (`unknown` outside a git checkout).
    pub revision: &'static str,
    /// The compiler's version, as `rustc --version` prints it.
    pub rustc: &'static str,
}

/// Accepted and refused counters of one signal.
#[derive(Clone, Default)]
pub struct ItemCounters {
    pub accepted: Family<ReceiverLabels, Counter>,
    pub refused: Family<RefusedLabels, Counter>,
}

/// All of slotel's own metrics, and the registry they are exposed from.
pub struct Metrics {
    registry: Registry,
    pub spans: ItemCounters,
    pub metric_points: ItemCounters,
    pub log_records: ItemCounters,
    pub requests: Family<RequestLabels, Counter>,
    pub refused_requests: Family<RefusedRequestLabels, Counter>,
    pub request_duration: Family<RequestLabels, Histogram>,
    pub queue_size: Family<SignalLabels, Gauge>,
    pub queue_capacity: Family<SignalLabels, Gauge>,
    pub exporter_sent: Family<ExporterLabels, Counter>,
    pub exporter_failed: Family<ExporterLabels, Counter>,
    pub redactions: Family<RedactionLabels, Counter>,
    pub redaction_fallbacks: Family<RedactionFallbackLabels, Counter>,
    pub exporters: ExporterMetrics,
    /// Whether the last reloads of the config and the SLO files worked.
    pub reload: reload::ReloadStatus,
}

/// A family of metrics made with `Default`, registered under `name`.
fn registered<M>(registry: &mut Registry, name: &str, help: &str) -> M
where
    M: Default + Clone + prometheus_client::registry::Metric,
{
    let metric = M::default();
    registry.register(name, help, metric.clone());
    metric
}

fn duration_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Self::with_collectors(Vec::new())
    }

    /// Like [`Metrics::new`], plus collectors whose series are computed at scrape time
    /// (the SLO series).
    pub fn with_collectors(
        collectors: Vec<Box<dyn prometheus_client::collector::Collector>>,
    ) -> Arc<Self> {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(process::ProcessCollector));
        for c in collectors {
            registry.register_collector(c);
        }
        let spans = ItemCounters::default();
        let metric_points = ItemCounters::default();
        let log_records = ItemCounters::default();
        for (item, counters) in [
            ("spans", &spans),
            ("metric_points", &metric_points),
            ("log_records", &log_records),
        ] {
            registry.register(
                format!("slotel_receiver_accepted_{item}"),
                format!("OTLP {} accepted into the pipeline", item.replace('_', " ")),
                counters.accepted.clone(),
            );
            registry.register(
                format!("slotel_receiver_refused_{item}"),
                format!("OTLP {} refused, by reason", item.replace('_', " ")),
                counters.refused.clone(),
            );
        }
        let requests: Family<RequestLabels, Counter> = registered(
            &mut registry,
            "slotel_receiver_requests",
            "OTLP export requests received",
        );
        let refused_requests: Family<RefusedRequestLabels, Counter> = registered(
            &mut registry,
            "slotel_receiver_refused_requests",
            "OTLP export requests refused, by reason",
        );
        let request_duration = Family::<RequestLabels, Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        registry.register(
            "slotel_receiver_request_duration_seconds",
            "Time to handle one OTLP export request",
            request_duration.clone(),
        );
        let queue_size: Family<SignalLabels, Gauge> = registered(
            &mut registry,
            "slotel_queue_size_bytes",
            "Encoded request bytes waiting in a pipeline queue",
        );
        let queue_capacity: Family<SignalLabels, Gauge> = registered(
            &mut registry,
            "slotel_queue_capacity_bytes",
            "Capacity of a pipeline queue in encoded request bytes",
        );
        let exporter_sent: Family<ExporterLabels, Counter> = registered(
            &mut registry,
            "slotel_exporter_sent_items",
            "Items (spans, data points, log records) an exporter delivered",
        );
        let exporter_failed: Family<ExporterLabels, Counter> = registered(
            &mut registry,
            "slotel_exporter_send_failed_items",
            "Items an exporter failed to deliver",
        );
        let redactions: Family<RedactionLabels, Counter> = registered(
            &mut registry,
            "slotel_redactions",
            "Values redacted, by PII type, action, signal, tenant and policy",
        );
        let redaction_fallbacks: Family<RedactionFallbackLabels, Counter> = registered(
            &mut registry,
            "slotel_redaction_fallbacks",
            "JSON values scanned as text because they passed a depth or size limit",
        );
        let exporters = ExporterMetrics::default();
        exporters.register(&mut registry);
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                revision: env!("SLOTEL_REVISION"),
                rustc: env!("SLOTEL_RUSTC_VERSION"),
            })
            .set(1);
        registry.register("slotel_build_info", "slotel build information", build);
        let reload = reload::ReloadStatus::default();
        reload.register(&mut registry);
        Arc::new(Self {
            registry,
            spans,
            metric_points,
            log_records,
            requests,
            refused_requests,
            request_duration,
            queue_size,
            queue_capacity,
            exporter_sent,
            exporter_failed,
            redactions,
            redaction_fallbacks,
            exporters,
            reload,
        })
    }

    /// The accepted/refused counters of a signal.
    pub fn items(&self, signal: Signal) -> &ItemCounters {
        match signal {
            Signal::Traces => &self.spans,
            Signal::Metrics => &self.metric_points,
            Signal::Logs => &self.log_records,
        }
    }

    /// Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// The Prometheus text format (0.0.4) of every metric: the OpenMetrics text with the
    /// counters' `HELP` and `TYPE` named as their samples (`…_total`) and no `# EOF`.
    /// slotel has no info, unit or `_created` series, the rest of the two formats agree.
    pub fn encode_prometheus_text(&self) -> String {
        let om = self.encode();
        let counters: std::collections::HashSet<&str> = om
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.strip_suffix(" counter"))
            .collect();
        let mut out = String::with_capacity(om.len() + counters.len() * 16);
        for line in om.lines() {
            if line == "# EOF" || line.starts_with("# UNIT ") {
                continue;
            }
            let meta = ["# HELP ", "# TYPE "]
                .iter()
                .find_map(|p| line.strip_prefix(p).map(|rest| (*p, rest)));
            match meta {
                Some((prefix, rest)) => {
                    let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                    out.push_str(prefix);
                    out.push_str(name);
                    if counters.contains(name) {
                        out.push_str("_total");
                    }
                    out.push(' ');
                    out.push_str(tail);
                }
                None => out.push_str(line),
            }
            out.push('\n');
        }
        out
    }

    /// The Prometheus protobuf exposition of every metric: length-delimited
    /// `io.prometheus.client.MetricFamily` messages, histograms with their native buckets.
    pub fn encode_protobuf(
        &self,
    ) -> Result<Vec<u8>, prometheus_client::encoding::prometheus_protobuf::EncodeError> {
        prometheus_client::encoding::prometheus_protobuf::encode_to_vec(&self.registry)
    }
}

/// Why slotel's own logs could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogInitError {
    /// The level directive does not parse (config validation already checked it).
    #[error("invalid log level: {0}")]
    Level(#[from] tracing_subscriber::filter::ParseError),
    /// A global subscriber is installed already.
    #[error("cannot install the log subscriber: {0}")]
    Install(Box<dyn std::error::Error + Send + Sync>),
}

/// Installs the global tracing subscriber for slotel's own logs.
pub fn init_logs(cfg: &LogsConfig) -> Result<(), LogInitError> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&cfg.level)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let result = match cfg.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    result.map_err(LogInitError::Install)
}
