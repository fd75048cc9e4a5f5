//! The YAML tree → validated [`Config`], collecting every error instead of stopping.
//!
//! A field that fails to decode takes its default so decoding can go on; the caller only
//! uses the result when no error was pushed. Every string scalar value is interpolated
//! (`${env:…}`, `${file:…}`) before it is parsed; keys never are.

use std::collections::HashMap;
use std::time::Duration;

use super::types::*;
use crate::yaml::ConfigError;
use crate::yaml::Lookup;
use crate::yaml::Node;
use crate::yaml::read::{Ctx, Fields, hint, local, unknown};

/// Decodes `root`; `errors` holds what the YAML stage already found.
pub(crate) fn decode(
    root: &Node,
    source: &str,
    lookup: &dyn Lookup,
    errors: Vec<ConfigError>,
) -> Result<Config, Vec<ConfigError>> {
    let mut ctx = Ctx::new(source, lookup, errors);
    let mut top = Fields::new(&mut ctx, root, "");
    let receiver = receivers(&mut ctx, &mut top);
    let redaction = processors(&mut ctx, &mut top);
    let (mut exporters, ids) = exporters(&mut ctx, &mut top);
    let (mut slo, max_groups_total) = slo(&mut ctx, &mut top);
    let processor_ids: Vec<String> = redaction.iter().map(|_| "redaction".to_string()).collect();
    let service = service(&mut ctx, &mut top, &ids, &processor_ids);
    slo.max_groups_total =
        max_groups_total.unwrap_or_else(|| default_max_groups_total(service.memory_limit));
    if let Err(msg) = super::exporters::size_queues(
        exporters.iter_mut().filter_map(|e| {
            let id = e.id.as_str();
            e.kind.delivery_mut().map(|d| (id, &mut d.queue))
        }),
        receiver.limits.memory_budget,
        service.memory_limit,
    ) {
        let at = top.get("service").unwrap_or(root);
        ctx.error(at, "service.memory_limit", msg);
    }
    top.finish(&mut ctx);
    if !ctx.errors.is_empty() {
        return Err(ctx.errors);
    }
    Ok(Config {
        source: source.to_string(),
        receiver,
        redaction,
        exporters,
        slo,
        service,
    })
}

fn receivers(ctx: &mut Ctx<'_>, top: &mut Fields<'_>) -> OtlpReceiverConfig {
    let mut receivers = top.child(ctx, "receivers");
    let mut otlp = receivers.child(ctx, "otlp");
    let receivers_valid = receivers.valid;
    receivers.finish_as(ctx, "receiver type");
    let mut protocols = otlp.child(ctx, "protocols");
    let grpc = protocols.section(ctx, "grpc").map(|mut f| {
        let config = GrpcConfig {
            endpoint: f.opt(ctx, "endpoint", Ctx::addr).unwrap_or(local(4317)),
            max_recv_msg_size: f
                .opt(ctx, "max_recv_msg_size", Ctx::byte_size)
                .unwrap_or(DEFAULT_MAX_MESSAGE_BYTES),
            tls: f.section(ctx, "tls").map(|f| tls(ctx, f)),
        };
        f.finish(ctx);
        config
    });
    let http = protocols.section(ctx, "http").map(|mut f| {
        let config = HttpConfig {
            endpoint: f.opt(ctx, "endpoint", Ctx::addr).unwrap_or(local(4318)),
            max_request_body_size: f
                .opt(ctx, "max_request_body_size", Ctx::byte_size)
                .unwrap_or(DEFAULT_MAX_MESSAGE_BYTES),
            tls: f.section(ctx, "tls").map(|f| tls(ctx, f)),
            cors: f.section(ctx, "cors").map(|f| super::cors::decode(ctx, f)),
        };
        f.finish(ctx);
        config
    });
    if grpc.is_none() && http.is_none() && protocols.valid && otlp.valid && receivers_valid {
        let msg = "no protocol enabled, configure `grpc`, `http` or both";
        ctx.error(protocols.node, &protocols.path, msg);
    }
    protocols.finish(ctx);
    let auth = otlp.section(ctx, "auth").map(|f| auth(ctx, f));
    let mut limits = otlp.child(ctx, "limits");
    let defaults = Limits::default();
    let limits_config = Limits {
        max_attributes_per_item: limits
            .opt(ctx, "max_attributes_per_item", Ctx::count)
            .unwrap_or(defaults.max_attributes_per_item),
        max_events_per_span: limits
            .opt(ctx, "max_events_per_span", Ctx::count)
            .unwrap_or(defaults.max_events_per_span),
        max_links_per_span: limits
            .opt(ctx, "max_links_per_span", Ctx::count)
            .unwrap_or(defaults.max_links_per_span),
        max_items_per_request: limits
            .opt(ctx, "max_items_per_request", Ctx::count)
            .unwrap_or(defaults.max_items_per_request),
        max_resources_per_request: limits
            .opt(ctx, "max_resources_per_request", Ctx::count)
            .unwrap_or(defaults.max_resources_per_request),
        memory_budget: limits
            .opt(ctx, "memory_budget", Ctx::byte_size)
            .unwrap_or(defaults.memory_budget),
        max_request_memory: limits
            .opt(ctx, "max_request_memory", Ctx::byte_size)
            .unwrap_or(defaults.max_request_memory),
        max_connections: limits
            .opt(ctx, "max_connections", |c, n, p| {
                c.count_up_to(n, p, MAX_CONNECTIONS)
            })
            .unwrap_or(defaults.max_connections),
        max_connections_per_peer: limits
            .opt(ctx, "max_connections_per_peer", |c, n, p| {
                c.count_up_to(n, p, MAX_CONNECTIONS)
            })
            .unwrap_or(defaults.max_connections_per_peer),
        body_timeout: limits
            .opt(ctx, "body_timeout", Ctx::duration)
            .unwrap_or(defaults.body_timeout),
        first_byte_timeout: limits
            .opt(ctx, "first_byte_timeout", Ctx::duration)
            .unwrap_or(defaults.first_byte_timeout),
        idle_timeout: limits
            .opt(ctx, "idle_timeout", Ctx::duration)
            .unwrap_or(defaults.idle_timeout),
    };
    limits.finish(ctx);
    let retry_after = otlp.opt(ctx, "retry_after", Ctx::duration);
    otlp.finish(ctx);
    OtlpReceiverConfig {
        grpc,
        http,
        auth,
        limits: limits_config,
        retry_after: retry_after.unwrap_or(Duration::from_secs(1)),
    }
}

fn tls(ctx: &mut Ctx<'_>, mut f: Fields<'_>) -> TlsConfig {
    let config = TlsConfig {
        cert_file: f
            .required(ctx, "cert_file", Ctx::path_buf)
            .unwrap_or_default(),
        key_file: f
            .required(ctx, "key_file", Ctx::path_buf)
            .unwrap_or_default(),
        client_ca_file: f.opt(ctx, "client_ca_file", Ctx::path_buf),
    };
    f.finish(ctx);
    config
}

fn auth(ctx: &mut Ctx<'_>, mut f: Fields<'_>) -> AuthConfig {
    let path = f.path.clone();
    let items = f.required(ctx, "tokens", |ctx, node, path| {
        let items = ctx.seq(node, path)?;
        if items.is_empty() {
            ctx.error(node, path, "must list at least one token");
        }
        Some(items)
    });
    f.finish(ctx);
    let mut tokens = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, item) in items.unwrap_or_default().iter().enumerate() {
        let path = format!("{path}.tokens[{i}]");
        let mut f = Fields::new(ctx, item, &path);
        let token_node = f.get("token").unwrap_or(item);
        let token = f.required(ctx, "token", Ctx::non_empty).unwrap_or_default();
        let tenant = f
            .required(ctx, "tenant", Ctx::non_empty)
            .unwrap_or_default();
        let cluster = f.opt(ctx, "cluster", Ctx::non_empty);
        f.finish(ctx);
        if !token.is_empty() {
            if let Some(first) = seen.get(&token) {
                // Never print the token itself.
                let msg = format!("duplicate token, the same as `tokens[{first}]`");
                ctx.error(token_node, &format!("{path}.token"), msg);
            } else {
                seen.insert(token.clone(), i);
            }
        }
        tokens.push(TokenConfig {
            token,
            tenant,
            cluster,
        });
    }
    AuthConfig { tokens }
}

fn processors(
    ctx: &mut Ctx<'_>,
    top: &mut Fields<'_>,
) -> Option<super::redaction::RedactionConfig> {
    let mut processors = top.child(ctx, "processors");
    let redaction = processors
        .section(ctx, "redaction")
        .map(|f| super::redaction::decode(ctx, f));
    processors.finish_as(ctx, "processor type");
    redaction
}

const EXPORTER_TYPES: &[&str] = &[
    "debug",
    "file",
    "nop",
    "prometheusremotewrite",
    "otlp",
    "otlphttp",
    "loki",
];

/// The exporters, and every id written under `exporters` (valid or not) so that pipelines
/// naming a broken exporter do not get a second error.
fn exporters(ctx: &mut Ctx<'_>, top: &mut Fields<'_>) -> (Vec<ExporterConfig>, Vec<String>) {
    let (mut exporters, mut ids) = (Vec::new(), Vec::new());
    let Some(node) = top.get("exporters") else {
        return (exporters, ids);
    };
    for (key, value) in ctx.entries(node, "exporters") {
        let Some(id) = ctx.key(key, "exporters") else {
            continue;
        };
        let path = format!("exporters.{id}");
        ids.push(id.clone());
        let kind = match id.split_once('/') {
            Some((_, "")) => {
                let msg = "invalid exporter id, the name after `/` must not be empty";
                ctx.error(key, &path, msg);
                continue;
            }
            Some((kind, _)) => kind,
            None => id.as_str(),
        };
        if !EXPORTER_TYPES.contains(&kind) {
            ctx.error(key, &path, unknown("exporter type", kind, EXPORTER_TYPES));
            continue;
        }
        let mut f = Fields::new(ctx, value, &path).at(key);
        let kind = match kind {
            "debug" => {
                let choices = [
                    ("basic", Verbosity::Basic),
                    ("normal", Verbosity::Normal),
                    ("detailed", Verbosity::Detailed),
                ];
                let verbosity = f.opt(ctx, "verbosity", |ctx, node, path| {
                    ctx.choice(node, path, &choices)
                });
                ExporterKind::Debug {
                    verbosity: verbosity.unwrap_or(Verbosity::Basic),
                }
            }
            "file" => ExporterKind::File {
                path: f.required(ctx, "path", Ctx::path_buf).unwrap_or_default(),
            },
            "prometheusremotewrite" => {
                let cfg = super::exporters::remote_write(ctx, &mut f);
                ExporterKind::RemoteWrite(cfg, super::exporters::delivery(ctx, &mut f))
            }
            "otlp" => {
                let cfg = super::exporters::otlp(ctx, &mut f, kind);
                ExporterKind::OtlpGrpc(cfg, super::exporters::delivery(ctx, &mut f))
            }
            "otlphttp" => {
                let cfg = super::exporters::otlp(ctx, &mut f, kind);
                ExporterKind::OtlpHttp(cfg, super::exporters::delivery(ctx, &mut f))
            }
            "loki" => {
                let cfg = super::exporters::loki(ctx, &mut f);
                ExporterKind::Loki(cfg, super::exporters::delivery(ctx, &mut f))
            }
            _ => ExporterKind::Nop,
        };
        f.finish(ctx);
        exporters.push(ExporterConfig { id, kind });
    }
    (exporters, ids)
}

/// The most connections a listener admits (its permits: 2^64 − 1 panicked the listener
/// task, which holds at most 2^61).
const MAX_CONNECTIONS: usize = 1_000_000;

/// The shortest period of what writes the SLO state or a file anew on a timer
/// (`slo.snapshot_interval`, `capture.rotate_every`).
const MIN_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);
/// The shortest period of what reads the whole SLO state on a timer
/// (`slo.export_interval`, `history_interval`).
const MIN_READ_PERIOD: std::time::Duration = std::time::Duration::from_millis(100);

/// `slo`, and its `max_groups_total` when set (the default depends on
/// `service.memory_limit`).
fn slo(ctx: &mut Ctx<'_>, top: &mut Fields<'_>) -> (SloConfig, Option<usize>) {
    let mut f = top.child(ctx, "slo");
    let defaults = SloConfig::default();
    let config = SloConfig {
        files: f
            .opt(ctx, "files", |ctx, node, path| {
                let items = ctx.seq(node, path)?;
                let strings = items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| ctx.non_empty(item, &format!("{path}[{i}]")));
                Some(strings.collect())
            })
            .unwrap_or(defaults.files),
        allow_empty: f
            .opt(ctx, "allow_empty", super::redaction::boolean)
            .unwrap_or(defaults.allow_empty),
        cluster_attribute: f
            .opt(ctx, "cluster_attribute", Ctx::non_empty)
            .unwrap_or(defaults.cluster_attribute),
        allowed_lateness: f
            .opt(ctx, "allowed_lateness", Ctx::duration)
            .unwrap_or(defaults.allowed_lateness),
        max_future: f
            .opt(ctx, "max_future", Ctx::duration)
            .unwrap_or(defaults.max_future),
        state_dir: f.opt(ctx, "state_dir", Ctx::path_buf),
        snapshot_interval: f
            // Each snapshot rewrites the whole state: `1ns` wrote them back to back.
            .opt(ctx, "snapshot_interval", |ctx, node, path| {
                ctx.duration_at_least(node, path, MIN_PERIOD)
            })
            .unwrap_or(defaults.snapshot_interval),
        export_interval: f
            .opt(ctx, "export_interval", |ctx, node, path| {
                ctx.duration_at_least(node, path, MIN_READ_PERIOD)
            })
            .unwrap_or(defaults.export_interval),
        wal_max_bytes: f
            .opt(ctx, "wal_max_bytes", Ctx::byte_size)
            .map_or(defaults.wal_max_bytes, |b| b as u64),
        history_interval: f
            .opt(ctx, "history_interval", |ctx, node, path| {
                ctx.duration_at_least(node, path, MIN_READ_PERIOD)
            })
            .unwrap_or(defaults.history_interval),
        // Sized from `service.memory_limit` in `decode` when not set.
        max_groups_total: 0,
        rules_sync: f.section(ctx, "rules_sync").map(|mut r| {
            let client = super::exporters::client(ctx, &mut r, "rules_sync");
            let namespace = r
                .opt(ctx, "namespace", Ctx::non_empty)
                .unwrap_or_else(|| "slotel".to_string());
            r.finish(ctx);
            RulesSyncConfig { client, namespace }
        }),
        capture: f.section(ctx, "capture").and_then(|f| capture(ctx, f)),
        status_source: f.section(ctx, "status_source").and_then(|mut s| {
            let prometheus = s.required(ctx, "prometheus", |ctx, node, path| {
                let mut p = Fields::new(ctx, node, path);
                let client = super::exporters::client(ctx, &mut p, "status_source.prometheus");
                p.finish(ctx);
                Some(StatusSourceConfig { client })
            });
            s.finish(ctx);
            prometheus
        }),
    };
    let max_groups_total = f.opt(ctx, "max_groups_total", Ctx::count);
    f.finish(ctx);
    (config, max_groups_total)
}

fn capture(ctx: &mut Ctx<'_>, mut f: Fields<'_>) -> Option<CaptureConfig> {
    let directory = f.required(ctx, "directory", Ctx::path_buf);
    let rotate_every = f
        .opt(ctx, "rotate_every", |ctx, node, path| {
            ctx.duration_at_least(node, path, MIN_PERIOD)
        })
        .unwrap_or(CaptureConfig::DEFAULT_ROTATE_EVERY);
    let max_bytes = f
        .opt(ctx, "max_bytes", Ctx::byte_size)
        .map_or(CaptureConfig::DEFAULT_MAX_BYTES, |b| b as u64);
    let retention = f
        .opt(ctx, "retention", Ctx::duration)
        .unwrap_or(CaptureConfig::DEFAULT_RETENTION);
    let columns = f
        .opt(ctx, "columns", |ctx, node, path| {
            let items = ctx.seq(node, path)?;
            let columns = items.iter().enumerate().filter_map(|(i, item)| {
                let path = format!("{path}[{i}]");
                let text = ctx.non_empty(item, &path)?;
                match crate::slo::ottl::parse_attribute(&text) {
                    Ok(attr) => Some(attr),
                    Err(e) => {
                        let msg = format!(
                            "{e}: expected attributes[\"key\"] or resource.attributes[\"key\"]"
                        );
                        ctx.error(item, &path, msg);
                        None
                    }
                }
            });
            Some(columns.collect())
        })
        .unwrap_or_default();
    let metrics = f
        .opt(ctx, "metrics", |ctx, node, path| {
            let items = ctx.seq(node, path)?;
            let names = items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| ctx.non_empty(item, &format!("{path}[{i}]")));
            Some(names.collect())
        })
        .unwrap_or_default();
    f.finish(ctx);
    Some(CaptureConfig {
        directory: directory?,
        rotate_every,
        max_bytes,
        retention,
        columns,
        metrics,
    })
}

fn service(
    ctx: &mut Ctx<'_>,
    top: &mut Fields<'_>,
    ids: &[String],
    processor_ids: &[String],
) -> ServiceConfig {
    let mut service = top.child(ctx, "service");
    let mut admin = service.child(ctx, "admin");
    let admin_endpoint = admin.opt(ctx, "endpoint", Ctx::addr).unwrap_or(local(8888));
    let admin_auth = admin.section(ctx, "auth").map(|mut f| {
        let node = f.get("token");
        let token = f.required(ctx, "token", Ctx::non_empty).unwrap_or_default();
        let metrics = f
            .opt(ctx, "metrics", super::redaction::boolean)
            .unwrap_or(false);
        let path = format!("{}.token", f.path);
        f.finish(ctx);
        if !token.is_empty()
            && token.chars().count() < super::types::MIN_ADMIN_TOKEN_CHARS
            && let Some(node) = node
        {
            // Never print the token itself.
            ctx.error(
                node,
                &path,
                format!(
                    "must be at least {} characters",
                    super::types::MIN_ADMIN_TOKEN_CHARS
                ),
            );
        }
        AdminAuth { token, metrics }
    });
    admin.finish(ctx);
    let mut telemetry = service.child(ctx, "telemetry");
    let mut logs = telemetry.child(ctx, "logs");
    let formats = [("text", LogFormat::Text), ("json", LogFormat::Json)];
    let logs_config = LogsConfig {
        level: logs
            .opt(ctx, "level", Ctx::log_level)
            .unwrap_or_else(|| "info".to_string()),
        format: logs
            .opt(ctx, "format", |ctx, node, path| {
                ctx.choice(node, path, &formats)
            })
            .unwrap_or(LogFormat::Text),
    };
    logs.finish(ctx);
    telemetry.finish(ctx);
    let mut pipelines = service.child(ctx, "pipelines");
    let known = Known {
        exporters: ids,
        processors: processor_ids,
    };
    let traces = pipeline(ctx, &mut pipelines, "traces", &known);
    let metrics = pipeline(ctx, &mut pipelines, "metrics", &known);
    let logs_pipeline = pipeline(ctx, &mut pipelines, "logs", &known);
    pipelines.finish_as(ctx, "pipeline");
    let shutdown_timeout = service.opt(ctx, "shutdown_timeout", Ctx::duration);
    let memory_limit = service.opt(ctx, "memory_limit", Ctx::byte_size);
    service.finish(ctx);
    ServiceConfig {
        admin_endpoint,
        admin_auth,
        logs: logs_config,
        traces,
        metrics,
        logs_pipeline,
        shutdown_timeout: shutdown_timeout.unwrap_or(Duration::from_secs(20)),
        memory_limit: memory_limit.unwrap_or(DEFAULT_MEMORY_LIMIT),
    }
}

/// The ids a pipeline may list: configured exporters and processors.
struct Known<'a> {
    exporters: &'a [String],
    processors: &'a [String],
}

fn pipeline(
    ctx: &mut Ctx<'_>,
    pipelines: &mut Fields<'_>,
    key: &'static str,
    known: &Known<'_>,
) -> PipelineConfig {
    let mut f = pipelines.child(ctx, key);
    let exporters = f.opt(ctx, "exporters", |ctx, node, path| {
        id_list(ctx, node, path, known.exporters, "exporter", "exporters")
    });
    let processors = f.opt(ctx, "processors", |ctx, node, path| {
        id_list(ctx, node, path, known.processors, "processor", "processors")
    });
    let queue_max_bytes = f.opt(ctx, "queue_max_bytes", Ctx::byte_size);
    f.finish(ctx);
    PipelineConfig {
        exporters,
        processors,
        queue_max_bytes: queue_max_bytes.unwrap_or(PipelineConfig::default().queue_max_bytes),
    }
}

/// A list of ids, each configured under `section` and listed once.
fn id_list(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    ids: &[String],
    what: &str,
    section: &str,
) -> Option<Vec<String>> {
    let mut listed: Vec<String> = Vec::new();
    for (i, item) in ctx.seq(node, path)?.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let Some(id) = ctx.non_empty(item, &path) else {
            continue;
        };
        if !ids.contains(&id) {
            let candidates: Vec<&str> = ids.iter().map(String::as_str).collect();
            let msg = format!(
                "{what} {id:?} is not configured under `{section}`{}",
                hint(&id, &candidates)
            );
            ctx.error(item, &path, msg);
        } else if listed.contains(&id) {
            ctx.error(item, &path, format!("{what} {id:?} is listed twice"));
        } else {
            listed.push(id);
        }
    }
    Some(listed)
}
