//! Validated configuration: the domain types the rest of slotel is built from.
//!
//! These are produced by the decoder in `decode.rs` from the YAML tree; nothing here does
//! I/O. Every field documents the YAML key it comes from and its default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Default upper bound for one OTLP request after decompression (16 MiB).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The whole, validated config.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where the config came from: a file path or `<embedded>`.
    pub source: String,
    /// `receivers.otlp`.
    pub receiver: OtlpReceiverConfig,
    /// `processors.redaction`; `None` when absent (nothing is redacted).
    pub redaction: Option<super::redaction::RedactionConfig>,
    /// `exporters`, in the order they appear in the file.
    pub exporters: Vec<ExporterConfig>,
    /// `slo`.
    pub slo: SloConfig,
    /// `service`.
    pub service: ServiceConfig,
}

/// `receivers.otlp`.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpReceiverConfig {
    /// `receivers.otlp.protocols.grpc`; `None` when the key is absent (protocol disabled).
    /// A present key with a null value (`grpc:`) enables it with defaults.
    pub grpc: Option<GrpcConfig>,
    /// `receivers.otlp.protocols.http`; as for `grpc`.
    pub http: Option<HttpConfig>,
    /// `receivers.otlp.auth`; `None` means no authentication.
    pub auth: Option<AuthConfig>,
    /// `receivers.otlp.limits`.
    pub limits: Limits,
    /// `receivers.otlp.retry_after` (duration, default `1s`): the delay suggested to clients
    /// (gRPC RetryInfo, HTTP `Retry-After`) when the pipeline's queue is full.
    pub retry_after: Duration,
}

/// `receivers.otlp.protocols.grpc`.
#[derive(Debug, Clone, PartialEq)]
pub struct GrpcConfig {
    /// `endpoint` (host:port, default `127.0.0.1:4317`). Port 0 picks a free port.
    pub endpoint: SocketAddr,
    /// `max_recv_msg_size` (byte size such as `16MiB`, default 16 MiB): the largest message
    /// after decompression.
    pub max_recv_msg_size: usize,
    /// `tls` (optional).
    pub tls: Option<TlsConfig>,
}

/// `receivers.otlp.protocols.http`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// `endpoint` (host:port, default `127.0.0.1:4318`).
    pub endpoint: SocketAddr,
    /// `max_request_body_size` (byte size, default 16 MiB): the largest body, both as
    /// received and after decompression.
    pub max_request_body_size: usize,
    /// `tls` (optional).
    pub tls: Option<TlsConfig>,
    /// `cors` (optional): browser origins allowed to send; `None` or no origins: off.
    pub cors: Option<super::cors::CorsConfig>,
}

/// `tls` block of a listener.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsConfig {
    /// `cert_file` (required): PEM certificate chain.
    pub cert_file: PathBuf,
    /// `key_file` (required): PEM private key.
    pub key_file: PathBuf,
    /// `client_ca_file` (optional): PEM CA bundle; when set, clients must present a
    /// certificate signed by it (mTLS).
    pub client_ca_file: Option<PathBuf>,
}

/// `receivers.otlp.auth`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthConfig {
    /// `tokens` (list, at least one entry).
    pub tokens: Vec<TokenConfig>,
}

/// One entry of `receivers.otlp.auth.tokens`.
#[derive(Clone, PartialEq)]
pub struct TokenConfig {
    /// `token` (required, non-empty; typically `${file:…}` or `${env:…}`).
    pub token: String,
    /// `tenant` (required, non-empty).
    pub tenant: String,
    /// `cluster` (optional): when set, overrides `k8s.cluster.name` of everything this
    /// token sends.
    pub cluster: Option<String>,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("token", &"<redacted>")
            .field("tenant", &self.tenant)
            .field("cluster", &self.cluster)
            .finish()
    }
}

/// `receivers.otlp.limits`: what one request, one connection and the whole process may
/// take. Every default is sized for the shipped 1 GiB pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// `max_attributes_per_item` (default 4096): spans, span events, span links, data
    /// points, exemplars and log records with more attributes than this are refused
    /// (partial success); a request whose resource or scope carries more is refused whole
    /// (INVALID_ARGUMENT / 400).
    pub max_attributes_per_item: usize,
    /// `max_events_per_span` (default 1024) and `max_links_per_span` (default 1024): spans
    /// with more are refused (partial success).
    pub max_events_per_span: usize,
    pub max_links_per_span: usize,
    /// `max_items_per_request` (default 262144): a request with more spans, data points or
    /// log records is refused whole before decoding (RESOURCE_EXHAUSTED without RetryInfo /
    /// 413), as is one with more than `max_resources_per_request` (default 16384) resources.
    pub max_items_per_request: usize,
    pub max_resources_per_request: usize,
    /// `memory_budget` (byte size, default 192 MiB): one budget for the whole process. Every
    /// request is charged, before it is decoded, an upper bound of the memory its decoded
    /// form takes (read off the wire); the charge is held until every exporter has the
    /// batch. A request that does not fit now gets RESOURCE_EXHAUSTED with RetryInfo / 429
    /// with `Retry-After`; one that would need more than `max_request_memory` (default
    /// 128 MiB) is refused for good (413).
    pub memory_budget: usize,
    pub max_request_memory: usize,
    /// `max_connections` (default 4096) per listener.
    pub max_connections: usize,
    /// `max_connections_per_peer` (default 256): open connections per client IP address
    /// and listener; more are closed at once.
    pub max_connections_per_peer: usize,
    /// `body_timeout` (default 30s): a request body must arrive whole within this.
    pub body_timeout: Duration,
    /// `first_byte_timeout` (default 10s): a new connection that sends nothing (or does not
    /// finish its TLS handshake) within this is closed.
    pub first_byte_timeout: Duration,
    /// `idle_timeout` (default 120s, above the collector's 90s client idle timeout): a
    /// connection with no request in flight for this long is closed (HTTP/1.1 keep-alive,
    /// where it also bounds reading a request's headers, and HTTP/2, which is also pinged
    /// every 30s and closed when the ping goes unanswered for 20s).
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_attributes_per_item: 4096,
            max_events_per_span: 1024,
            max_links_per_span: 1024,
            max_items_per_request: 262_144,
            max_resources_per_request: 16_384,
            memory_budget: 192 << 20,
            max_request_memory: 128 << 20,
            max_connections: 4096,
            max_connections_per_peer: 256,
            body_timeout: Duration::from_secs(30),
            first_byte_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

/// One entry of `exporters`, keyed `type` or `type/name`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExporterConfig {
    /// The full key, e.g. `file/out` or `debug`.
    pub id: String,
    /// The type-specific settings.
    pub kind: ExporterKind,
}

/// The exporter types slotel knows.
#[derive(Debug, Clone, PartialEq)]
pub enum ExporterKind {
    /// `debug`: logs a summary of every batch.
    Debug {
        /// `verbosity`: `basic` (default) | `normal` | `detailed`.
        verbosity: Verbosity,
    },
    /// `file`: writes OTLP JSON lines, one export request per line.
    File {
        /// `path` (required).
        path: PathBuf,
    },
    /// `nop`: accepts and discards (for benchmarks and tests).
    Nop,
    /// `prometheusremotewrite`: the SLO series (and metric pass-through) by remote write.
    RemoteWrite(
        super::exporters::RemoteWriteConfig,
        super::exporters::Delivery,
    ),
    /// `otlp`: OTLP over gRPC.
    OtlpGrpc(
        super::exporters::OtlpExporterConfig,
        super::exporters::Delivery,
    ),
    /// `otlphttp`: OTLP over HTTP (protobuf).
    OtlpHttp(
        super::exporters::OtlpExporterConfig,
        super::exporters::Delivery,
    ),
    /// `loki`: the Loki push API (protobuf + snappy).
    Loki(super::exporters::LokiConfig, super::exporters::Delivery),
}

impl ExporterKind {
    /// The queue and retry settings of a queued exporter.
    pub fn delivery_mut(&mut self) -> Option<&mut super::exporters::Delivery> {
        match self {
            Self::RemoteWrite(_, d)
            | Self::OtlpGrpc(_, d)
            | Self::OtlpHttp(_, d)
            | Self::Loki(_, d) => Some(d),
            Self::Debug { .. } | Self::File { .. } | Self::Nop => None,
        }
    }
}

/// `exporters.debug.verbosity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Basic,
    Normal,
    Detailed,
}

/// `slo`.
#[derive(Debug, Clone, PartialEq)]
pub struct SloConfig {
    /// `files` (list of globs, default empty): where SLO files live; `embedded:examples`
    /// names the example SLOs compiled into the binary.
    pub files: Vec<String>,
    /// `allow_empty` (default `false`): whether an entry of `files` may match no SLO file
    /// (a typo in a glob otherwise fails `check`, `rules` and `run`).
    pub allow_empty: bool,
    /// `cluster_attribute` (default `k8s.cluster.name`): the resource attribute that names
    /// the sending cluster.
    pub cluster_attribute: String,
    /// `allowed_lateness` (duration, default `5m`): spans ending longer ago than this are
    /// counted as late and dropped.
    pub allowed_lateness: Duration,
    /// `max_future` (duration, default `1m`): spans ending further in the future than this
    /// (clock skew) are counted and dropped.
    pub max_future: Duration,
    /// `state_dir` (path, default none): where SLO state is snapshotted so windows survive
    /// restarts; without it, state lives in memory only.
    pub state_dir: Option<PathBuf>,
    /// `snapshot_interval` (duration, default `1m`): how often state is written to
    /// `state_dir` (and once more on shutdown).
    pub snapshot_interval: Duration,
    /// `export_interval` (duration, default `15s`, at least 100ms): how often the SLO series
    /// enter the metrics pipeline (and once more on shutdown).
    pub export_interval: Duration,
    /// `wal_max_bytes` (byte size, default `64MiB`): with `state_dir`, the SLO write-ahead
    /// log (every acknowledged request's SLO counts, made durable before the answer) is
    /// covered by a snapshot written early once it holds this many bytes; twice this many
    /// not yet covered and requests are refused with retry-later until a snapshot succeeds.
    pub wal_max_bytes: u64,
    /// `history_interval` (duration, default `5m`, at least 1s): the resolution of the
    /// recent history the status page charts (the last 288 steps: a day at 5m), besides the
    /// SLO window at 1/30 of its length.
    pub history_interval: Duration,
    /// `rules_sync` (optional): a Prometheus-compatible ruler (Mimir's) that slotel keeps
    /// loaded with the rules `slotel rules` generates for the SLOs it runs.
    pub rules_sync: Option<RulesSyncConfig>,
    /// `max_groups_total` (default: a quarter of `service.memory_limit` at
    /// [`GROUP_MEMORY`] a group, 1,024 for 1 GiB): groups (a cluster with its `group_by`
    /// values) across every SLO together. Each SLO's `max_groups` bounds its own; past
    /// this total, events whose group is new count in their SLO's `__overflow__` group,
    /// and `slotel_slo_groups_refused_events_total` counts them.
    pub max_groups_total: usize,
    /// `capture` (default none: off): span facts written to disk for `slotel replay`.
    pub capture: Option<CaptureConfig>,
    /// `status_source` (optional): `{prometheus: {endpoint, …}}`, the Prometheus or Mimir
    /// every replica writes to; the status API and page answer from it instead of this
    /// replica's engine.
    pub status_source: Option<StatusSourceConfig>,
}

/// `slo.status_source.prometheus`: Prometheus's query API (`POST {endpoint}/api/v1/query`;
/// Mimir's endpoint ends in `/prometheus`), reached as the remote exporters reach their
/// backends (`endpoint`, `headers`, `basic_auth`, `bearer_token`, `tls`, `timeout`,
/// `tenant`, `tenant_header`).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusSourceConfig {
    pub client: super::ClientConfig,
}

/// `slo.rules_sync`: the ruler API (`POST {endpoint}/prometheus/config/v1/rules/{namespace}`
/// of one rule group, `DELETE …/{namespace}/{group}`), reached as the remote exporters
/// reach their backends (`endpoint`, `headers`, `basic_auth`, `bearer_token`, `tls`,
/// `timeout`, `tenant`, `tenant_header`).
#[derive(Debug, Clone, PartialEq)]
pub struct RulesSyncConfig {
    /// The ruler's base URL (e.g. `http://mimir:8080`) and how to reach it.
    pub client: super::ClientConfig,
    /// `namespace` (default `slotel`): the ruler namespace slotel's groups live in; slotel
    /// deletes the groups of SLOs it no longer runs from it.
    pub namespace: String,
}

/// `slo.capture`: every received span's facts as compressed Arrow IPC files, for
/// `slotel replay` (see [`crate::slo::capture`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureConfig {
    /// `directory` (required): where the capture files go (created if missing).
    pub directory: PathBuf,
    /// `rotate_every` (duration, default `10m`): a new file after this long.
    pub rotate_every: Duration,
    /// `max_bytes` (byte size, default `1GiB`): the capture's disk bound; the oldest files
    /// are removed first.
    pub max_bytes: u64,
    /// `retention` (duration, default `7d`): files older than this are removed.
    pub retention: Duration,
    /// `columns` (list of `attributes["k"]` / `resource.attributes["k"]`): attribute
    /// columns captured besides the default ones and those the loaded SLOs read.
    pub columns: Vec<crate::slo::spec::AttrRef>,
    /// `metrics` (list of metric names): metrics whose data points are captured besides
    /// those the loaded metric SLOs read.
    pub metrics: Vec<String>,
}

impl CaptureConfig {
    pub const DEFAULT_ROTATE_EVERY: Duration = Duration::from_secs(600);
    pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;
    pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 86_400);
}

impl Default for SloConfig {
    fn default() -> Self {
        Self {
            files: Vec::new(),
            allow_empty: false,
            cluster_attribute: "k8s.cluster.name".to_string(),
            allowed_lateness: Duration::from_secs(300),
            max_future: Duration::from_secs(60),
            state_dir: None,
            snapshot_interval: Duration::from_secs(60),
            export_interval: Duration::from_secs(15),
            wal_max_bytes: 64 * 1024 * 1024,
            history_interval: Duration::from_secs(300),
            max_groups_total: default_max_groups_total(DEFAULT_MEMORY_LIMIT),
            rules_sync: None,
            capture: None,
            status_source: None,
        }
    }
}

/// `service`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    /// `service.admin.endpoint` (default `127.0.0.1:8888`).
    pub admin_endpoint: SocketAddr,
    /// `service.admin.auth` (optional): a bearer token the SLO API asks for.
    pub admin_auth: Option<AdminAuth>,
    /// `service.telemetry.logs`.
    pub logs: LogsConfig,
    /// `service.pipelines.traces`.
    pub traces: PipelineConfig,
    /// `service.pipelines.metrics`.
    pub metrics: PipelineConfig,
    /// `service.pipelines.logs`.
    pub logs_pipeline: PipelineConfig,
    /// `service.shutdown_timeout` (duration, default `20s`): how long draining may take.
    pub shutdown_timeout: Duration,
    /// `service.memory_limit` (byte size, default 1 GiB, the shipped pod's limit): the
    /// memory slotel may use. `receivers.otlp.limits.memory_budget` and the exporters'
    /// queues must fit in three quarters of it (checked at load); memory queues without a
    /// `max_bytes` share what is left.
    pub memory_limit: usize,
}

/// The default `service.memory_limit`: the shipped manifests' container limit.
pub const DEFAULT_MEMORY_LIMIT: usize = 1024 * 1024 * 1024;

/// The memory one SLO group takes with every window full: 204.5 KiB measured
/// (BENCHMARKS.md, memory per SLO × group), rounded up to its 256 KiB target.
pub const GROUP_MEMORY: usize = 256 * 1024;

/// `slo.max_groups_total` when not set: the quarter of `memory_limit` the queues and the
/// receivers' budget leave (see `exporters::queue_share`) in groups of [`GROUP_MEMORY`].
pub fn default_max_groups_total(memory_limit: usize) -> usize {
    (memory_limit / 4 / GROUP_MEMORY).max(1)
}

/// `service.admin.auth`: the SLO status API (`/api/v1/…`, which the status page reads)
/// answers only requests with `Authorization: Bearer <token>`. Probes stay open;
/// `/metrics` too unless `metrics` is set.
#[derive(Clone, PartialEq)]
pub struct AdminAuth {
    /// `token` (required, at least 16 characters; typically `${env:…}` or `${file:…}`).
    pub token: String,
    /// `metrics` (default false): `/metrics` asks for the token as well (a Prometheus
    /// scrape config's `authorization: {credentials: …}`).
    pub metrics: bool,
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAuth")
            .field("token", &"<redacted>")
            .field("metrics", &self.metrics)
            .finish()
    }
}

/// The shortest `service.admin.auth.token`.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 16;

/// `service.telemetry.logs`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogsConfig {
    /// `level` (default `info`): an `EnvFilter` directive such as `info` or `slotel=debug`.
    pub level: String,
    /// `format`: `text` (default) | `json`.
    pub format: LogFormat,
}

/// `service.telemetry.logs.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// `service.pipelines.<signal>`.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    /// `exporters` (list of exporter ids): `None` when absent, meaning every configured
    /// exporter. Each id must name an entry of `exporters`.
    pub exporters: Option<Vec<String>>,
    /// `processors` (list of processor ids; today only `redaction`, which must be
    /// configured under `processors`): `None` when absent, meaning the default: the
    /// traces and logs pipelines run `redaction` when it is configured, the metrics
    /// pipeline runs none. `[redaction]` on the metrics pipeline redacts resource, scope
    /// and data-point attributes (exemplars too); `[]` turns redaction off for a signal.
    pub processors: Option<Vec<String>>,
    /// `queue_max_bytes` (byte size, default 64 MiB): how many encoded request bytes may
    /// wait in this signal's queue before receivers answer "retry later".
    pub queue_max_bytes: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            exporters: None,
            processors: None,
            queue_max_bytes: 64 * 1024 * 1024,
        }
    }
}
