//! The remote exporters' settings: `prometheusremotewrite/<name>`, `otlp/<name>`,
//! `otlphttp/<name>` and `loki/<name>`, with the client, retry and queue blocks they share.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::MIB;
use super::redaction::{boolean, strings};
use crate::signal::Compression;
use crate::yaml::Node;
use crate::yaml::read::{Ctx, Fields};

/// How an exporter reaches its backend: the keys every remote exporter has.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// `endpoint` (required): a URL (`http://` or `https://`); for `otlp`, also `host:port`
    /// (TLS unless `tls.insecure: true`), stored here with its scheme.
    pub endpoint: String,
    /// `headers` (map, default empty): sent with every request.
    pub headers: BTreeMap<String, String>,
    /// `basic_auth: {username, password}` (optional).
    pub basic_auth: Option<(String, String)>,
    /// `bearer_token` (optional): sent as `Authorization: Bearer …`.
    pub bearer_token: Option<String>,
    /// `tls` (optional): how the backend's certificate is checked and the client's own.
    pub tls: ClientTls,
    /// `timeout` (duration, default `10s`): per request.
    pub timeout: Duration,
    /// `tenant` (optional): the `X-Scope-OrgID` sent when the data carries no tenant of its
    /// own (remote write always uses it: the SLO series belong to no sender).
    pub tenant: Option<String>,
    /// `tenant_header` (default `X-Scope-OrgID`): the header that carries the tenant.
    pub tenant_header: String,
}

impl ClientConfig {
    /// `endpoint` with every other key at its default.
    pub fn new(endpoint: &str) -> Self {
        Self {
            endpoint: endpoint.to_string(),
            headers: BTreeMap::new(),
            basic_auth: None,
            bearer_token: None,
            tls: ClientTls::default(),
            timeout: Duration::from_secs(10),
            tenant: None,
            tenant_header: "X-Scope-OrgID".to_string(),
        }
    }
}

impl RemoteWriteConfig {
    /// A `prometheusremotewrite` exporter to `endpoint` with every other key at its
    /// default.
    pub fn new(endpoint: &str) -> Self {
        Self {
            client: ClientConfig::new(endpoint),
            replica_label: "slotel_replica".to_string(),
            replica: None,
            external_labels: BTreeMap::new(),
            native_histogram_schema: 6,
            max_samples_per_request: 2000,
            send_slo_series: true,
            slo_series_shards: 8,
            slo_series_backlog: 100_000,
            max_label_value_length: DEFAULT_MAX_LABEL_VALUE_LENGTH,
            max_label_name_length: DEFAULT_MAX_LABEL_NAME_LENGTH,
            max_label_names_per_series: MIMIR_MAX_LABELS,
            max_sample_age: Some(Duration::from_secs(3600)),
        }
    }
}

impl LokiConfig {
    /// A `loki` exporter to `endpoint` (the push URL or a base URL) with every other key at
    /// its default.
    pub fn new(endpoint: &str) -> Self {
        Self {
            client: ClientConfig::new(endpoint),
            labels: [
                "service.name",
                "service.namespace",
                "k8s.cluster.name",
                "k8s.namespace.name",
            ]
            .map(String::from)
            .to_vec(),
            max_label_value_length: DEFAULT_MAX_LABEL_VALUE_LENGTH,
            max_line_size: LOKI_MAX_LINE_SIZE,
            max_structured_metadata_size: LOKI_MAX_STRUCTURED_METADATA_SIZE,
            max_structured_metadata_entries_count: LOKI_MAX_STRUCTURED_METADATA_ENTRIES,
            reject_old_samples_max_age: Some(Duration::from_secs(168 * 3600)),
            creation_grace_period: Some(Duration::from_secs(600)),
        }
    }
}

/// The longest label name Loki and Mimir accept by default (`max_label_name_length`).
pub const DEFAULT_MAX_LABEL_NAME_LENGTH: usize = 1024;

/// The most labels of a series Mimir accepts by default (`max_label_names_per_series`).
pub const MIMIR_MAX_LABELS: usize = 30;

/// Loki's default `max_line_size`, `256KB` as Loki reads it (decimal kilobytes).
pub const LOKI_MAX_LINE_SIZE: usize = 256_000;

/// Loki's default `max_structured_metadata_size` (`64KB`): names and values of one entry.
pub const LOKI_MAX_STRUCTURED_METADATA_SIZE: usize = 64_000;

/// Loki's default `max_structured_metadata_entries_count`.
pub const LOKI_MAX_STRUCTURED_METADATA_ENTRIES: usize = 128;

/// The shortest `max_line_size` other than 0: room for the truncation marker and text.
pub const MIN_LINE_SIZE: usize = 256;

/// The longest label value Loki and Mimir accept by default (`max_label_value_length`).
pub const DEFAULT_MAX_LABEL_VALUE_LENGTH: usize = 2048;

/// The shortest `max_label_value_length` other than 0: room for a prefix and the hash.
pub const MIN_LABEL_VALUE_LENGTH: usize = 64;

impl std::fmt::Display for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.endpoint)
    }
}

/// `tls` of a remote exporter.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClientTls {
    /// `ca_file` (optional): PEM CA bundle to trust instead of the built-in web roots.
    pub ca_file: Option<PathBuf>,
    /// `cert_file` and `key_file` (optional, together): the client certificate (mTLS).
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// `insecure_skip_verify` (default false): accept any server certificate.
    pub insecure_skip_verify: bool,
    /// `insecure` (default false), the collector's key: for an `otlp` endpoint written
    /// `host:port`, `true` means plaintext gRPC and `false` TLS. A URL's scheme decides
    /// for itself (`http://` plaintext, `https://` TLS), whatever this says.
    pub insecure: bool,
}

/// `retry_on_failure`.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// `enabled` (default true).
    pub enabled: bool,
    /// `initial_interval` (default `1s`): the first backoff.
    pub initial_interval: Duration,
    /// `max_interval` (default `30s`): the longest backoff.
    pub max_interval: Duration,
    /// `max_elapsed_time` (default `0`, meaning forever): how long one item is retried before
    /// it is dropped as failed. With disk queues, forever is the point.
    pub max_elapsed_time: Duration,
    /// `max_server_error_retries` (default 5): how often an HTTP 500 is retried (Prometheus
    /// answers 500 for some permanent errors).
    pub max_server_error_retries: u32,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
            max_elapsed_time: Duration::ZERO,
            max_server_error_retries: 5,
        }
    }
}

/// `sending_queue.storage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueStorage {
    Memory,
    Disk,
}

/// `sending_queue`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    /// `storage`: `memory` (default) | `disk`.
    pub storage: QueueStorage,
    /// `directory` (required with `disk`): where the queue's file lives; one file per
    /// exporter, named after it.
    pub directory: Option<PathBuf>,
    /// `max_bytes` (byte size): when the queue holds this much, receivers answer "retry
    /// later". Default: for a memory queue, an equal share of what `service.memory_limit`
    /// leaves the queues (at most 256 MiB, see [`size_queues`]); for a disk queue 256 MiB.
    pub max_bytes: usize,
    /// Whether `max_bytes` was given (otherwise [`size_queues`] sizes a memory queue).
    pub max_bytes_set: bool,
    /// `fsync_interval` (duration, default `100ms`, disk only): appends are made durable in
    /// batches this often; receivers acknowledge only after that.
    pub fsync_interval: Duration,
    /// `num_consumers` (default 8; the collector uses 10): requests in flight to the backend
    /// at once.
    pub num_consumers: usize,
    /// `cache_size` (byte size, default 4 MiB, disk only): memory the disk queue's storage
    /// engine caches pages in, per queue.
    pub cache_size: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            storage: QueueStorage::Memory,
            directory: None,
            max_bytes: DEFAULT_QUEUE_MAX_BYTES,
            max_bytes_set: false,
            fsync_interval: Duration::from_millis(100),
            num_consumers: 8,
            cache_size: 4 * MIB,
        }
    }
}

/// The largest default `sending_queue.max_bytes`.
pub const DEFAULT_QUEUE_MAX_BYTES: usize = 256 * MIB;
/// The smallest `sending_queue.max_bytes` a memory queue is given by default.
/// The shortest `fsync_interval` and retry backoff: each paces a loop (a sync, a request).
const MIN_PACE: Duration = Duration::from_millis(1);

const MIN_DEFAULT_QUEUE_BYTES: usize = 4 * MIB;

/// The most consumers (requests in flight) of one exporter's queue.
pub const MAX_CONSUMERS: usize = 1_000;

/// What the receivers' budget and the exporters' queues may hold together, out of
/// `service.memory_limit`: three quarters. The last quarter is for the SLO engine, the
/// runtime, the allocator's slack and a queue's last push past its bound.
pub fn queue_share(memory_limit: usize) -> usize {
    memory_limit / 4 * 3
}

/// The memory a queue holds at most: a memory queue its `max_bytes` (records are kept as
/// encoded for the backend), a disk queue its storage engine's cache.
fn queue_memory(q: &QueueConfig) -> usize {
    match q.storage {
        QueueStorage::Memory => q.max_bytes,
        QueueStorage::Disk => q.cache_size,
    }
}

fn mib(bytes: usize) -> String {
    format!("{} MiB", bytes.div_ceil(MIB))
}

/// Sizes the memory queues without a `max_bytes` from what [`queue_share`] of
/// `memory_limit` leaves after `memory_budget` and the queues with one (equal shares, at
/// most [`DEFAULT_QUEUE_MAX_BYTES`]), and checks that the queues and the budget fit in it.
/// `queues` are the exporters' ids and queue settings.
pub fn size_queues<'a>(
    queues: impl IntoIterator<Item = (&'a str, &'a mut QueueConfig)>,
    memory_budget: usize,
    memory_limit: usize,
) -> Result<(), String> {
    let mut queues: Vec<(&str, &mut QueueConfig)> = queues.into_iter().collect();
    let share = queue_share(memory_limit);
    let unsized_count = queues
        .iter()
        .filter(|(_, q)| q.storage == QueueStorage::Memory && !q.max_bytes_set)
        .count();
    let fixed: usize = queues
        .iter()
        .filter(|(_, q)| q.storage == QueueStorage::Disk || q.max_bytes_set)
        .map(|(_, q)| queue_memory(q))
        .fold(memory_budget, usize::saturating_add);
    if let Some(each) = share.saturating_sub(fixed).checked_div(unsized_count) {
        let each = each.clamp(MIN_DEFAULT_QUEUE_BYTES, DEFAULT_QUEUE_MAX_BYTES);
        for (_, q) in &mut queues {
            if q.storage == QueueStorage::Memory && !q.max_bytes_set {
                q.max_bytes = each;
            }
        }
    }
    let total = queues
        .iter()
        .map(|(_, q)| queue_memory(q))
        .fold(memory_budget, usize::saturating_add);
    if total <= share {
        return Ok(());
    }
    let list: Vec<String> = queues
        .iter()
        .map(|(id, q)| {
            let what = match q.storage {
                QueueStorage::Memory => "",
                QueueStorage::Disk => " cache",
            };
            format!("{id}{what} {}", mib(queue_memory(q)))
        })
        .collect();
    Err(format!(
        "the exporter queues ({}) and `receivers.otlp.limits.memory_budget` ({}) need {}, \
         more than the {} (three quarters) of `service.memory_limit` ({}) they may take; \
         lower `sending_queue.max_bytes`, use `storage: disk`, or raise \
         `service.memory_limit` to the container's memory limit",
        list.join(", "),
        mib(memory_budget),
        mib(total),
        mib(share),
        mib(memory_limit),
    ))
}

/// `prometheusremotewrite/<name>`.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteWriteConfig {
    pub client: ClientConfig,
    /// `replica_label` (default `slotel_replica`) and `replica` (default: the host name):
    /// a label added to every series so replicas never write the same series.
    pub replica_label: String,
    pub replica: Option<String>,
    /// `external_labels` (map, default empty): added to every series.
    pub external_labels: BTreeMap<String, String>,
    /// `native_histogram_schema` (−4 to 8, default 6: buckets 1.09% wide, so a quantile is
    /// within about 1% of the exact value).
    pub native_histogram_schema: i32,
    /// `max_samples_per_request` (default 2000).
    pub max_samples_per_request: usize,
    /// `send_slo_series` (default true): write the SLO engine's series, which reach every
    /// exporter of the metrics pipeline every `slo.export_interval`; false skips them here.
    pub send_slo_series: bool,
    /// `slo_series_shards` (1 to 64, default 8): the SLO series are split by series into this
    /// many shards, each sending its requests in order, the shards at once.
    pub slo_series_shards: usize,
    /// `slo_series_backlog` (samples, default 100000): SLO series waiting to be sent; past
    /// it the oldest waiting snapshot is dropped (`reason="superseded"`).
    pub slo_series_backlog: u64,
    /// `max_label_value_length` (bytes, default 2048; 0: no limit): a longer label value of
    /// a received series is cut at a character boundary and ends with `~` and 16 hex digits
    /// of its SHA-256, so the backend does not refuse the request. The SLO series' labels
    /// are never cut.
    pub max_label_value_length: usize,
    /// `max_label_name_length` (bytes, default 1024, Mimir's; 0: no limit): a longer label
    /// name from a received data point's attribute is cut and ends with `_` and 16 hex
    /// digits of its SHA-256.
    pub max_label_name_length: usize,
    /// `max_label_names_per_series` (default 30, Mimir's; 0: no limit): a received series
    /// with more labels (its name, slotel's labels and the attributes together) is dropped
    /// and counted (`reason="too_many_labels"`), since Mimir refuses it.
    pub max_label_names_per_series: usize,
    /// `max_sample_age` (duration, default `1h`; `0`: no limit): a received sample older
    /// than this is dropped and counted (`reason="too_old"`), since Prometheus's TSDB and
    /// Mimir's ingesters refuse a sample more than an hour behind their newest one (without
    /// an out-of-order window).
    pub max_sample_age: Option<Duration>,
}

/// `otlp/<name>` (gRPC) and `otlphttp/<name>`: traces, metrics and logs, each request with
/// the tenant of the data it carries (else `tenant`) in `tenant_header`. `otlp` takes
/// `host:port` or a URL; `https://` uses `tls` (ALPN h2), `http://` is plaintext HTTP/2,
/// and `host:port` is TLS unless `tls.insecure: true` (as in the collector); the decoded
/// `client.endpoint` always carries the scheme.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpExporterConfig {
    pub client: ClientConfig,
    /// `compression`: `gzip` (default, fastest level) | `zstd` (level 1) | `none`.
    pub compression: Compression,
    /// `traces_endpoint`, `metrics_endpoint`, `logs_endpoint` (otlphttp, optional): full
    /// URLs; default `endpoint` + `/v1/traces` and so on.
    pub traces_endpoint: Option<String>,
    pub metrics_endpoint: Option<String>,
    pub logs_endpoint: Option<String>,
}

/// `loki/<name>`: logs only, to the push API (protobuf + snappy). `endpoint` is the push
/// URL; one given without a path gets `/loki/api/v1/push`.
#[derive(Debug, Clone, PartialEq)]
pub struct LokiConfig {
    pub client: ClientConfig,
    /// `labels` (list of resource attribute names, default `service.name`,
    /// `service.namespace`, `k8s.cluster.name`, `k8s.namespace.name`; at most 15): stream
    /// labels, with dots and other characters Loki refuses turned into `_`.
    pub labels: Vec<String>,
    /// `max_label_value_length` (bytes, default 2048; 0: no limit): a longer stream label
    /// value is cut at a character boundary and ends with `~` and 16 hex digits of its
    /// SHA-256, so Loki does not refuse the request.
    pub max_label_value_length: usize,
    /// `max_line_size` (byte size, default `256KB`: 256,000 bytes, as Loki reads it; 0: no
    /// limit; else at least 256): a longer line is truncated and ends with
    /// `…[truncated N bytes]`.
    pub max_line_size: usize,
    /// `max_structured_metadata_size` (byte size, default `64KB`; 0: no limit)
    /// and `max_structured_metadata_entries_count` (default 128; 0: no limit): the
    /// attributes of a record that do not fit, in their order, are left out of its
    /// structured metadata.
    pub max_structured_metadata_size: usize,
    pub max_structured_metadata_entries_count: usize,
    /// `reject_old_samples_max_age` (duration, default `168h`, Loki's; `0`: no limit) and
    /// `creation_grace_period` (default `10m`; `0`: no limit): a record older, or further
    /// in the future, is dropped and counted, since Loki refuses it.
    pub reject_old_samples_max_age: Option<Duration>,
    pub creation_grace_period: Option<Duration>,
}

/// The most stream labels Loki accepts by default.
pub const LOKI_MAX_LABELS: usize = 15;

/// The queue and retry blocks every remote exporter has.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Delivery {
    pub queue: QueueConfig,
    pub retry: RetryConfig,
}

pub(super) fn client(ctx: &mut Ctx<'_>, f: &mut Fields<'_>, kind: &str) -> ClientConfig {
    let mut bare = false;
    let mut endpoint = f
        .required(ctx, "endpoint", |ctx, node, path| {
            let (url, no_scheme) = endpoint_parts(ctx, node, path, kind)?;
            bare = no_scheme;
            Some(url)
        })
        .unwrap_or_default();
    let headers = f.opt(ctx, "headers", string_map).unwrap_or_default();
    let basic_auth = f.section(ctx, "basic_auth").and_then(|mut b| {
        let user = b.required(ctx, "username", Ctx::non_empty);
        let pass = b.required(ctx, "password", Ctx::string);
        b.finish(ctx);
        Some((user?, pass?))
    });
    let bearer_token = f.opt(ctx, "bearer_token", Ctx::non_empty);
    if basic_auth.is_some() && bearer_token.is_some() {
        let path = f.path("bearer_token");
        ctx.error(
            f.node,
            &path,
            "set either `basic_auth` or `bearer_token`, not both",
        );
    }
    let tls = f
        .section(ctx, "tls")
        .map(|mut t| {
            let tls = ClientTls {
                ca_file: t.opt(ctx, "ca_file", Ctx::path_buf),
                cert_file: t.opt(ctx, "cert_file", Ctx::path_buf),
                key_file: t.opt(ctx, "key_file", Ctx::path_buf),
                insecure_skip_verify: t.opt(ctx, "insecure_skip_verify", boolean).unwrap_or(false),
                insecure: t.opt(ctx, "insecure", boolean).unwrap_or(false),
            };
            if tls.cert_file.is_some() != tls.key_file.is_some() {
                let path = t.path.clone();
                ctx.error(t.node, &path, "`cert_file` and `key_file` go together");
            }
            t.finish(ctx);
            tls
        })
        .unwrap_or_default();
    // `otlp` with `host:port`: TLS unless `tls.insecure: true`, as in the collector. A
    // scheme written out decides by itself (`https://` is TLS even with `insecure`).
    if kind == "otlp"
        && bare
        && tls.insecure
        && let Some(rest) = endpoint.strip_prefix("https://")
    {
        endpoint = format!("http://{rest}");
    }
    let d = ClientConfig::new(&endpoint);
    ClientConfig {
        headers,
        basic_auth,
        bearer_token,
        tls,
        timeout: f.opt(ctx, "timeout", Ctx::duration).unwrap_or(d.timeout),
        tenant: f.opt(ctx, "tenant", Ctx::non_empty),
        tenant_header: f
            .opt(ctx, "tenant_header", Ctx::non_empty)
            .unwrap_or(d.tenant_header),
        endpoint,
    }
}

fn endpoint(ctx: &mut Ctx<'_>, node: &Node, path: &str, kind: &str) -> Option<String> {
    endpoint_parts(ctx, node, path, kind).map(|(url, _)| url)
}

/// A URL, or for `otlp` also `host:port`, returned as `https://host:port`: TLS by default,
/// as in the collector ([`client`] turns it into `http://` with `tls.insecure: true`).
/// The flag is true when the (interpolated) value had no scheme.
fn endpoint_parts(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    kind: &str,
) -> Option<(String, bool)> {
    let grpc = kind == "otlp";
    ctx.parsed(node, path, |s| {
        let s = s.trim();
        let bare = !s.contains("://");
        let with_scheme = if grpc && bare {
            format!("https://{s}")
        } else {
            s.to_string()
        };
        match with_scheme.parse::<http::Uri>() {
            Ok(uri)
                if matches!(uri.scheme_str(), Some("http" | "https"))
                    && uri.host().is_some_and(|h| !h.is_empty()) =>
            {
                Ok((with_scheme, bare))
            }
            Ok(_) | Err(_) => Err(format!(
                "invalid endpoint {s:?}, expected a URL such as http://host:port/path{}",
                if grpc { " or host:port" } else { "" }
            )),
        }
    })
}

fn string_map(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for (k, v) in ctx.entries(node, path) {
        let Some(key) = ctx.key(k, path) else {
            continue;
        };
        if let Some(value) = ctx.string(v, &format!("{path}.{key}")) {
            map.insert(key, value);
        }
    }
    Some(map)
}

pub(super) fn delivery(ctx: &mut Ctx<'_>, f: &mut Fields<'_>) -> Delivery {
    let d = QueueConfig::default();
    let queue = f
        .section(ctx, "sending_queue")
        .map(|mut q| {
            let choices = [
                ("memory", QueueStorage::Memory),
                ("disk", QueueStorage::Disk),
            ];
            let storage = q
                .opt(ctx, "storage", |ctx, node, path| {
                    ctx.choice(node, path, &choices)
                })
                .unwrap_or(d.storage);
            let directory = q.opt(ctx, "directory", Ctx::path_buf);
            if storage == QueueStorage::Disk && directory.is_none() && q.valid {
                let path = q.path.clone();
                ctx.error(q.node, &path, "`storage: disk` needs a `directory`");
            }
            let max_bytes = q.opt(ctx, "max_bytes", Ctx::byte_size);
            let cfg = QueueConfig {
                storage,
                directory,
                max_bytes: max_bytes.unwrap_or(d.max_bytes),
                max_bytes_set: max_bytes.is_some(),
                fsync_interval: q
                    .opt(ctx, "fsync_interval", |ctx, node, path| {
                        ctx.duration_at_least(node, path, MIN_PACE)
                    })
                    .unwrap_or(d.fsync_interval),
                // Each consumer is a task: 10^8 aborted on allocation at start.
                num_consumers: q
                    .opt(ctx, "num_consumers", |c, n, p| {
                        c.count_up_to(n, p, MAX_CONSUMERS)
                    })
                    .unwrap_or(d.num_consumers),
                cache_size: q
                    .opt(ctx, "cache_size", Ctx::byte_size)
                    .unwrap_or(d.cache_size),
            };
            q.finish(ctx);
            cfg
        })
        .unwrap_or(d);
    let r = RetryConfig::default();
    let retry = f
        .section(ctx, "retry_on_failure")
        .map(|mut q| {
            let cfg = RetryConfig {
                enabled: q.opt(ctx, "enabled", boolean).unwrap_or(r.enabled),
                initial_interval: q
                    .opt(ctx, "initial_interval", |ctx, node, path| {
                        ctx.duration_at_least(node, path, MIN_PACE)
                    })
                    .unwrap_or(r.initial_interval),
                max_interval: q
                    .opt(ctx, "max_interval", |ctx, node, path| {
                        ctx.duration_at_least(node, path, MIN_PACE)
                    })
                    .unwrap_or(r.max_interval),
                max_elapsed_time: q
                    .opt(ctx, "max_elapsed_time", Ctx::duration)
                    .unwrap_or(r.max_elapsed_time),
                max_server_error_retries: q
                    .opt(ctx, "max_server_error_retries", |ctx, node, path| {
                        ctx.parsed(node, path, |s| {
                            s.trim()
                                .parse::<u32>()
                                .map_err(|_| format!("invalid number {s:?}"))
                        })
                    })
                    .unwrap_or(r.max_server_error_retries),
            };
            q.finish(ctx);
            cfg
        })
        .unwrap_or(r);
    Delivery { queue, retry }
}

pub(super) fn remote_write(ctx: &mut Ctx<'_>, f: &mut Fields<'_>) -> RemoteWriteConfig {
    let client = client(ctx, f, "prometheusremotewrite");
    let schema = f.opt(ctx, "native_histogram_schema", |ctx, node, path| {
        ctx.parsed(node, path, |s| match s.trim().parse::<i32>() {
            Ok(n) if (-4..=8).contains(&n) => Ok(n),
            _ => Err(format!(
                "invalid schema {s:?}, expected a whole number from -4 to 8"
            )),
        })
    });
    let d = RemoteWriteConfig::new(&client.endpoint);
    f.opt(ctx, "flush_interval", |ctx, node, path| {
        ctx.error(
            node,
            path,
            "moved: the SLO series enter the metrics pipeline, and every metrics exporter \
             carries them; set how often with `slo.export_interval` (default 15s)",
        );
        None::<()>
    });
    let send_slo_series = f
        .opt(ctx, "send_slo_series", boolean)
        .unwrap_or(d.send_slo_series);
    let max_labels =
        limit(ctx, f, "max_label_names_per_series", 1).unwrap_or(d.max_label_names_per_series);
    // The SLO series are never changed on the way: their labels (slotel's own, up to
    // `MAX_GROUP_BY` group labels, the external labels) must fit the backend's limit.
    let room = max_labels
        .checked_sub(crate::slo::spec::SLO_SERIES_OWN_LABELS + crate::slo::spec::MAX_GROUP_BY);
    let external_labels = f
        .opt(ctx, "external_labels", |ctx, node, path| {
            let map = string_map(ctx, node, path)?;
            match room {
                _ if !send_slo_series || max_labels == 0 => {}
                Some(room) if map.len() <= room => {}
                _ => ctx.error(
                    node,
                    path,
                    format!(
                        "{} external labels: an SLO series has up to {} labels of its own and \
                         {} group labels, so at most {} fit in max_label_names_per_series ({})",
                        map.len(),
                        crate::slo::spec::SLO_SERIES_OWN_LABELS,
                        crate::slo::spec::MAX_GROUP_BY,
                        room.unwrap_or(0),
                        max_labels
                    ),
                ),
            }
            Some(map)
        })
        .unwrap_or_default();
    RemoteWriteConfig {
        client,
        replica_label: f
            .opt(ctx, "replica_label", Ctx::non_empty)
            .unwrap_or(d.replica_label),
        replica: f.opt(ctx, "replica", Ctx::non_empty),
        external_labels,
        native_histogram_schema: schema.unwrap_or(d.native_histogram_schema),
        max_samples_per_request: f
            .opt(ctx, "max_samples_per_request", Ctx::count)
            .unwrap_or(d.max_samples_per_request),
        send_slo_series,
        slo_series_shards: f
            .opt(ctx, "slo_series_shards", |ctx, node, path| {
                ctx.parsed(node, path, |s| match s.trim().parse::<usize>() {
                    Ok(n) if (1..=crate::export::remote_write::MAX_SHARDS).contains(&n) => Ok(n),
                    _ => Err(format!(
                        "invalid shard count {s:?}, expected a whole number from 1 to {}",
                        crate::export::remote_write::MAX_SHARDS
                    )),
                })
            })
            .unwrap_or(d.slo_series_shards),
        slo_series_backlog: f
            .opt(ctx, "slo_series_backlog", Ctx::count)
            .map_or(d.slo_series_backlog, |n| n as u64),
        max_label_value_length: max_label_value_length(ctx, f),
        max_label_name_length: limit(ctx, f, "max_label_name_length", MIN_LABEL_VALUE_LENGTH)
            .unwrap_or(d.max_label_name_length),
        max_label_names_per_series: max_labels,
        max_sample_age: age(ctx, f, "max_sample_age").unwrap_or(d.max_sample_age),
    }
}

/// A limit: 0 (no limit) or a whole number from `min`.
fn limit(ctx: &mut Ctx<'_>, f: &mut Fields<'_>, key: &'static str, min: usize) -> Option<usize> {
    f.opt(ctx, key, |ctx, node, path| {
        ctx.parsed(node, path, |s| match s.trim().parse::<usize>() {
            Ok(n) if n == 0 || n >= min => Ok(n),
            _ => Err(format!(
                "invalid limit {s:?}, expected 0 (no limit) or a whole number from {min}"
            )),
        })
    })
}

/// A size limit: 0 (no limit) or a byte size from `min` (`256KB`, as Loki writes it, is
/// 256,000 bytes; `256KiB` 262,144).
fn byte_limit(
    ctx: &mut Ctx<'_>,
    f: &mut Fields<'_>,
    key: &'static str,
    min: usize,
) -> Option<usize> {
    f.opt(ctx, key, |ctx, node, path| {
        ctx.parsed(node, path, |s| {
            if s.trim() == "0" {
                return Ok(0);
            }
            match crate::yaml::read::parse_byte_size(s) {
                Ok(n) if n >= min => Ok(n),
                _ => Err(format!(
                    "invalid limit {s:?}, expected 0 (no limit) or a byte size (256KB) from {min} bytes"
                )),
            }
        })
    })
}

/// An age limit: `0` (no limit) or a duration (`1h`, `168h`).
fn age(ctx: &mut Ctx<'_>, f: &mut Fields<'_>, key: &'static str) -> Option<Option<Duration>> {
    f.opt(ctx, key, |ctx, node, path| {
        ctx.parsed(node, path, |s| match s.trim() {
            "0" => Ok(None),
            s => match humantime::parse_duration(s) {
                Ok(d) if d.is_zero() => Ok(None),
                Ok(d) => Ok(Some(d)),
                Err(e) => Err(format!(
                    "invalid duration {s:?} ({e}), expected 0 (no limit) or a duration such as 1h"
                )),
            },
        })
    })
}

pub(super) fn otlp(ctx: &mut Ctx<'_>, f: &mut Fields<'_>, kind: &str) -> OtlpExporterConfig {
    let client = client(ctx, f, kind);
    let choices = [
        ("gzip", Compression::Gzip),
        ("zstd", Compression::Zstd),
        ("none", Compression::None),
    ];
    let compression = f
        .opt(ctx, "compression", |ctx, node, path| {
            ctx.choice(node, path, &choices)
        })
        .unwrap_or(Compression::Gzip);
    let (mut traces, mut metrics, mut logs) = (None, None, None);
    if kind == "otlphttp" {
        traces = f.opt(ctx, "traces_endpoint", |c, n, p| endpoint(c, n, p, kind));
        metrics = f.opt(ctx, "metrics_endpoint", |c, n, p| endpoint(c, n, p, kind));
        logs = f.opt(ctx, "logs_endpoint", |c, n, p| endpoint(c, n, p, kind));
    }
    OtlpExporterConfig {
        client,
        compression,
        traces_endpoint: traces,
        metrics_endpoint: metrics,
        logs_endpoint: logs,
    }
}

/// `max_label_value_length`: 0 (no limit) or at least [`MIN_LABEL_VALUE_LENGTH`] bytes.
fn max_label_value_length(ctx: &mut Ctx<'_>, f: &mut Fields<'_>) -> usize {
    f.opt(ctx, "max_label_value_length", |ctx, node, path| {
        ctx.parsed(node, path, |s| match s.trim().parse::<usize>() {
            Ok(n) if n == 0 || n >= MIN_LABEL_VALUE_LENGTH => Ok(n),
            _ => Err(format!(
                "invalid length {s:?}, expected 0 (no limit) or a whole number of bytes \
                 from {MIN_LABEL_VALUE_LENGTH}"
            )),
        })
    })
    .unwrap_or(DEFAULT_MAX_LABEL_VALUE_LENGTH)
}

pub(super) fn loki(ctx: &mut Ctx<'_>, f: &mut Fields<'_>) -> LokiConfig {
    let client = client(ctx, f, "loki");
    let labels = f.opt(ctx, "labels", |ctx, node, path| {
        let labels = strings(ctx, node, path)?;
        if labels.len() > LOKI_MAX_LABELS {
            ctx.error(
                node,
                path,
                format!(
                    "at most {LOKI_MAX_LABELS} stream labels, found {}",
                    labels.len()
                ),
            );
        }
        Some(labels)
    });
    let d = LokiConfig::new(&client.endpoint);
    LokiConfig {
        client,
        labels: labels.unwrap_or(d.labels),
        max_label_value_length: max_label_value_length(ctx, f),
        max_line_size: byte_limit(ctx, f, "max_line_size", MIN_LINE_SIZE)
            .unwrap_or(d.max_line_size),
        max_structured_metadata_size: byte_limit(ctx, f, "max_structured_metadata_size", 1)
            .unwrap_or(d.max_structured_metadata_size),
        max_structured_metadata_entries_count: limit(
            ctx,
            f,
            "max_structured_metadata_entries_count",
            1,
        )
        .unwrap_or(d.max_structured_metadata_entries_count),
        reject_old_samples_max_age: age(ctx, f, "reject_old_samples_max_age")
            .unwrap_or(d.reject_old_samples_max_age),
        creation_grace_period: age(ctx, f, "creation_grace_period")
            .unwrap_or(d.creation_grace_period),
    }
}
