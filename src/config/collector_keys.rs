//! The table of OpenTelemetry Collector keys and what slotel does with each (see
//! `collector.rs`). Paths use normalised ids (`exporters.otlp`, not `exporters.otlp/a`);
//! a segment may be `*` (any), `a|b` (either) or `!a|b` (neither). The first rule that
//! matches wins. The README's collector table lists the same keys. The rules that read
//! values are in `collector_values.rs`.

use super::collector_values::*;
use crate::yaml::Node;

/// One row of the table.
pub(super) struct Rule {
    pub path: &'static str,
    pub action: Action,
}

pub(super) enum Action {
    /// Kept as written: slotel reads it with the collector's meaning.
    Same(&'static str),
    /// No effect in slotel: removed, with a warning.
    Ignore(&'static str),
    /// slotel differs on purpose: removed, with an error.
    Refuse(&'static str),
    /// Read together with another key: removed, noted without a warning.
    Gone(&'static str),
    /// Decided from the value and its siblings (entries of the same mapping).
    Custom(fn(&Node, &[(Node, Node)], &str) -> Verdict),
}

/// What a rule decided for one key.
pub(super) enum Verdict {
    /// Left to the decoder, nothing to explain (e.g. a typo of a slotel key).
    Pass,
    Keep(String),
    /// Rename the key and/or replace the value; kept.
    Replace {
        key: Option<&'static str>,
        value: Option<Node>,
        note: String,
    },
    /// Removed with a warning.
    Drop(String),
    /// Removed, no warning: its meaning is slotel's default.
    Gone(String),
    /// Removed with an error.
    Refuse(String),
}

use Action::*;

const fn rule(path: &'static str, action: Action) -> Rule {
    Rule { path, action }
}

pub(super) static RULES: &[Rule] = &[
    // --- top level and service ---
    rule(
        "extensions",
        Ignore(
            "slotel has no extensions: health is served at service.admin.endpoint \
             (`/healthz`, `/readyz`), self-metrics at `/metrics`, and the disk queue is \
             `sending_queue.storage: disk`",
        ),
    ),
    rule(
        "connectors",
        Refuse(
            "slotel has no connectors: SLIs and error budgets come from the SLO engine \
             (`slo.files`); compute other derived signals in a collector",
        ),
    ),
    rule(
        "service.extensions",
        Ignore("slotel has no extensions (see `extensions`)"),
    ),
    rule("service.telemetry.logs.encoding", Custom(log_encoding)),
    rule(
        "service.telemetry.logs.development|disable_caller|disable_stacktrace|sampling|output_paths|error_output_paths|initial_fields|processors",
        Ignore(
            "slotel writes its logs to stderr, unsampled; only `level` and `encoding` (slotel's `format`) apply",
        ),
    ),
    rule(
        "service.telemetry.metrics",
        Ignore(
            "slotel serves its own metrics in Prometheus format at \
             service.admin.endpoint `/metrics`",
        ),
    ),
    rule(
        "service.telemetry.traces|resource",
        Ignore("slotel does not trace itself; its logs and `/metrics` are its telemetry"),
    ),
    rule("service.pipelines.*.receivers", Custom(pipeline_receivers)),
    rule(
        "service.pipelines.*.processors",
        Custom(pipeline_processors),
    ),
    rule(
        "service.pipelines.traces/*|metrics/*|logs/*",
        Refuse(
            "slotel has one pipeline per signal: merge this one into `traces`, `metrics` \
             or `logs`",
        ),
    ),
    rule(
        "service.pipelines.profiles|profiles/*",
        Refuse("slotel has no profiles pipeline"),
    ),
    // --- receivers ---
    rule("receivers.!otlp", Custom(receiver_type)),
    rule(
        "receivers.otlp.protocols.grpc.max_recv_msg_size_mib",
        Custom(max_recv_msg_size_mib),
    ),
    rule("receivers.otlp.protocols.grpc.transport", Custom(transport)),
    rule(
        "receivers.otlp.protocols.grpc.keepalive",
        Ignore(
            "slotel pings idle HTTP/2 connections every 30s and closes connections idle \
             longer than `receivers.otlp.limits.idle_timeout`",
        ),
    ),
    rule(
        "receivers.otlp.protocols.grpc.max_concurrent_streams",
        Ignore(
            "slotel allows 256 concurrent streams per connection and bounds connections with `limits.max_connections`",
        ),
    ),
    rule(
        "receivers.otlp.protocols.grpc|http.read_buffer_size|write_buffer_size",
        Ignore("slotel sizes its socket buffers itself"),
    ),
    rule(
        "receivers.otlp.protocols.grpc|http.include_metadata",
        Gone(
            "slotel always keeps the tenant of a request (from `receivers.otlp.auth`) \
             with its data; other request metadata is not carried",
        ),
    ),
    rule(
        "receivers.otlp.protocols.grpc|http.auth",
        Refuse(
            "authenticator extensions are not available: set bearer tokens per tenant in \
             `receivers.otlp.auth.tokens`",
        ),
    ),
    rule(
        "receivers.otlp.protocols.grpc|http.middlewares",
        Refuse("slotel has no middleware extensions"),
    ),
    rule(
        "receivers.otlp.protocols.http.cors",
        Same(
            "as in the collector: `allowed_origins` (`*` wildcards), `allowed_headers` \
             beyond the safelisted ones, `max_age`; preflights are answered before \
             authentication",
        ),
    ),
    rule(
        "receivers.otlp.protocols.http.traces_url_path|metrics_url_path|logs_url_path",
        Custom(url_path),
    ),
    rule(
        "receivers.otlp.protocols.http.read_timeout|read_header_timeout|write_timeout|idle_timeout|keep_alives_enabled",
        Ignore(
            "slotel's HTTP timeouts are `receivers.otlp.limits.first_byte_timeout`, \
             `body_timeout` and `idle_timeout`",
        ),
    ),
    rule(
        "receivers.otlp.protocols.http.response_headers|compression_algorithms|request_params",
        Ignore(
            "slotel answers with fixed headers and accepts gzip, zstd and uncompressed \
             bodies",
        ),
    ),
    rule(
        "receivers.otlp.protocols.grpc|http.tls.ca_file",
        Ignore(
            "a listener checks client certificates against `client_ca_file` (in the \
             collector too); `ca_file` has no use there",
        ),
    ),
    rule(
        "receivers.otlp.protocols.grpc|http.tls.cert_pem|key_pem|ca_pem|client_ca_pem|tpm",
        Refuse(
            "inline PEM and TPM keys are not supported: write them to files (`cert_file`, `key_file`, `client_ca_file`)",
        ),
    ),
    rule(
        "receivers.otlp.protocols.grpc|http.tls.min_version|max_version|cipher_suites|curve_preferences|reload_interval|client_ca_file_reload|include_system_ca_certs_pool",
        Ignore(
            "slotel's listeners speak TLS 1.2 and 1.3 with rustls's safe defaults and read certificates at start",
        ),
    ),
    // --- processors ---
    rule(
        "processors.batch",
        Ignore(
            "slotel batches per request: there is no batch processor; remove it (each \
             exporter sends what one request carried, queued in `sending_queue`)",
        ),
    ),
    rule(
        "processors.memory_limiter",
        Ignore(
            "slotel bounds its memory itself: `receivers.otlp.limits.memory_budget` \
             (answers \"retry later\" past it) and each pipeline's `queue_max_bytes`; remove it",
        ),
    ),
    rule("processors.!redaction", Custom(processor_type)),
    // --- exporters ---
    rule("exporters.*", Custom(exporter_type)),
    rule(
        "exporters.otlp.tls.insecure",
        Same(
            "as in the collector: with a `host:port` endpoint, `true` sends plaintext \
             gRPC and `false` (the default) TLS; an `http://` or `https://` endpoint says \
             so itself",
        ),
    ),
    rule(
        "exporters.otlphttp|prometheusremotewrite|loki.tls.insecure",
        Same("the endpoint's scheme decides: `http://` is plaintext, `https://` TLS"),
    ),
    rule(
        "exporters.*.tls.insecure_skip_verify",
        Same("accepts any server certificate (still TLS)"),
    ),
    rule(
        "exporters.*.tls.ca_pem|cert_pem|key_pem|tpm",
        Refuse(
            "inline PEM and TPM keys are not supported: write them to files (`ca_file`, `cert_file`, `key_file`)",
        ),
    ),
    rule(
        "exporters.*.tls.server_name_override",
        Refuse("not supported: the endpoint's host name is the name checked"),
    ),
    rule(
        "exporters.*.tls.min_version|max_version|cipher_suites|curve_preferences|reload_interval|include_system_ca_certs_pool",
        Ignore(
            "slotel speaks TLS 1.2 and 1.3 with rustls's safe defaults, and trusts the \
             web PKI roots unless `ca_file` is set",
        ),
    ),
    rule(
        "exporters.*.auth",
        Refuse(
            "authenticator extensions are not available: use `basic_auth`, \
             `bearer_token` or `headers`",
        ),
    ),
    rule(
        "exporters.otlp.keepalive|balancer_name|authority|wait_for_ready|read_buffer_size|write_buffer_size",
        Ignore(
            "slotel keeps one HTTP/2 connection pool per exporter and queues and retries \
             on its own",
        ),
    ),
    rule(
        "exporters.*.user_agent",
        Ignore("slotel sends `User-Agent: slotel/<version>`"),
    ),
    rule(
        "exporters.*.compression_params",
        Ignore("slotel compresses at gzip's fastest level (zstd level 1)"),
    ),
    rule(
        "exporters.*.proxy_url",
        Refuse(
            "set the proxy with the `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` \
             environment variables, which every exporter honours",
        ),
    ),
    rule(
        "exporters.*.max_idle_conns|max_idle_conns_per_host|max_conns_per_host|idle_conn_timeout|disable_keep_alives|http2_read_idle_timeout|http2_ping_timeout|force_attempt_http2|read_buffer_size|write_buffer_size|cookies|middlewares",
        Ignore(
            "slotel keeps idle connections 60s and speaks HTTP/1.1 or HTTP/2 as the server offers",
        ),
    ),
    rule("exporters.otlphttp.encoding", Custom(encoding)),
    rule(
        "exporters.otlphttp.profiles_endpoint",
        Ignore("slotel has no profiles pipeline"),
    ),
    rule("exporters.*.sending_queue.enabled", Custom(queue_enabled)),
    rule("exporters.*.sending_queue.queue_size", Custom(queue_size)),
    rule(
        "exporters.*.sending_queue.sizer",
        Gone("read with `queue_size`"),
    ),
    rule("exporters.*.sending_queue.storage", Custom(queue_storage)),
    rule(
        "exporters.*.sending_queue.blocking|block_on_overflow",
        Ignore(
            "a full slotel queue answers \"retry later\" to the senders (gRPC \
             RESOURCE_EXHAUSTED, HTTP 429) instead of blocking them",
        ),
    ),
    rule(
        "exporters.*.sending_queue.wait_for_result|batch",
        Ignore(
            "slotel acknowledges once queued (disk: once durable) and sends each request as it came",
        ),
    ),
    rule(
        "exporters.*.retry_on_failure.multiplier|randomization_factor",
        Ignore("slotel doubles the backoff up to `max_interval`, with jitter"),
    ),
    rule(
        "exporters.prometheusremotewrite.remote_write_queue",
        Ignore(
            "slotel's remote write uses the shared `sending_queue` (`max_bytes`, \
             `num_consumers`)",
        ),
    ),
    rule(
        "exporters.prometheusremotewrite.http",
        Refuse(
            "write the client keys (`endpoint`, `headers`, `tls`, `timeout`) at the \
             exporter's top level",
        ),
    ),
    rule(
        "exporters.prometheusremotewrite.wal",
        Ignore("durability comes from `sending_queue: {storage: disk, directory: …}`"),
    ),
    rule(
        "exporters.prometheusremotewrite.namespace|resource_to_telemetry_conversion|translation_strategy|add_metric_suffixes",
        Refuse(
            "slotel names series as the collector's defaults do (no prefix, `_total` on \
             monotonic sums, `job`/`instance` from the resource) and has no other naming \
             option",
        ),
    ),
    rule(
        "exporters.prometheusremotewrite.target_info|export_created_metric|send_metadata|disable_scope_info|protobuf_message|max_batch_request_parallelism",
        Ignore("slotel sends remote write 1.0 samples and native histograms only"),
    ),
    rule(
        "exporters.prometheusremotewrite.max_batch_size_bytes",
        Ignore("slotel bounds requests by `max_samples_per_request` (default 2000)"),
    ),
    rule(
        "exporters.debug.sampling_initial|sampling_thereafter|use_internal_logger",
        Ignore("slotel's debug exporter logs every batch"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's collector section names every key the table handles.
    #[test]
    fn the_readme_lists_every_key_of_the_table() {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("## Coming from the OpenTelemetry Collector")
            .expect("the section");
        let section = &readme[start..];
        let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
        let mut missing = Vec::new();
        for rule in RULES {
            let leaf = rule.path.rsplit('.').next().unwrap_or_default();
            for key in leaf.split('|') {
                if key.contains(['*', '!', '/']) || key.is_empty() {
                    continue;
                }
                if !section.contains(&format!("`{key}")) && !section.contains(&format!(".{key}`")) {
                    missing.push(format!("{key} ({})", rule.path));
                }
            }
        }
        assert!(missing.is_empty(), "not in the README: {missing:?}");
    }
}
