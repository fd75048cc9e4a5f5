//! Traces: HTTP server spans, some with a database or downstream HTTP client child.

use fastrand::Rng;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::{
    ContentOpts, NAMESPACE, SCHEMA_URL, SERVICES, by_resource, int, latency_ns, pick_route, s,
    scope, service_name, span_id, status_code, trace_id,
};

/// `spans` spans: server spans (8 HTTP attributes each), 30% of them followed by a client
/// child span; grouped by (cluster, service).
pub fn traces(rng: &mut Rng, spans: usize, opts: &ContentOpts) -> ExportTraceServiceRequest {
    let services = opts.services.max(1);
    let mut groups: Vec<Vec<Span>> = vec![Vec::new(); opts.clusters.max(1) * services];
    let mut made = 0;
    while made < spans {
        let group = rng.usize(..groups.len());
        let server = server_span(rng, group % services, opts);
        let child = (made + 1 < spans && rng.f64() < 0.3).then(|| client_span(rng, &server));
        made += 1 + usize::from(child.is_some());
        groups[group].push(server);
        groups[group].extend(child);
    }
    let resource_spans = by_resource(rng, opts, groups, |resource, spans| ResourceSpans {
        resource: Some(resource),
        scope_spans: vec![ScopeSpans {
            scope: scope("io.opentelemetry.http-server"),
            spans,
            ..Default::default()
        }],
        schema_url: SCHEMA_URL.to_string(),
    });
    ExportTraceServiceRequest { resource_spans }
}

fn server_span(rng: &mut Rng, service: usize, opts: &ContentOpts) -> Span {
    let (method, route) = pick_route(rng, service);
    let status = status_code(rng, method, opts.error_ratio);
    let end = opts.now_unix_nano.saturating_sub(rng.u64(..5_000_000_000));
    let start = end.saturating_sub(latency_ns(rng, opts.latency_p50_ms));
    let remote_parent = rng.bool();
    let attributes = vec![
        s("http.request.method", method),
        s("http.route", route),
        s("url.path", url_path(rng, route)),
        s("url.scheme", "http"),
        int("http.response.status_code", status),
        s(
            "server.address",
            format!("{}.{NAMESPACE}", service_name(service)),
        ),
        s(
            "user_agent.original",
            USER_AGENTS[rng.usize(..USER_AGENTS.len())],
        ),
        s(
            "network.protocol.version",
            if rng.bool() { "1.1" } else { "2" },
        ),
    ];
    let error = Status {
        code: StatusCode::Error as i32,
        message: String::new(),
    };
    Span {
        trace_id: trace_id(rng),
        span_id: span_id(rng),
        parent_span_id: if remote_parent {
            span_id(rng)
        } else {
            Vec::new()
        },
        flags: if remote_parent { 0x301 } else { 0x101 },
        name: format!("{method} {route}"),
        kind: SpanKind::Server as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes,
        status: Some(if status >= 500 {
            error
        } else {
            Status::default()
        }),
        ..Default::default()
    }
}

/// A database or downstream HTTP call made while serving `parent`.
fn client_span(rng: &mut Rng, parent: &Span) -> Span {
    let outer = parent.end_time_unix_nano - parent.start_time_unix_nano;
    let start = parent.start_time_unix_nano + outer / 10;
    let end = start + outer / 10 * rng.u64(2..=7);
    let (name, attributes) = if rng.bool() {
        let table = ["orders", "payments", "carts", "products", "users"][rng.usize(..5)];
        let attributes = vec![
            s("db.system.name", "postgresql"),
            s("db.namespace", NAMESPACE),
            s("db.operation.name", "SELECT"),
            s("db.collection.name", table),
            s("server.address", "postgres.shop"),
            int("server.port", 5432),
        ];
        (format!("SELECT {NAMESPACE}.{table}"), attributes)
    } else {
        let target = rng.usize(..SERVICES.len());
        let (method, route) = pick_route(rng, target);
        let host = format!("{}.{NAMESPACE}", service_name(target));
        let attributes = vec![
            s("http.request.method", method),
            s(
                "url.full",
                format!("http://{host}:8080{}", url_path(rng, route)),
            ),
            s("server.address", host),
            int("server.port", 8080),
            int("http.response.status_code", 200),
            s("network.protocol.version", "1.1"),
        ];
        (method.to_string(), attributes)
    };
    Span {
        trace_id: parent.trace_id.clone(),
        span_id: span_id(rng),
        parent_span_id: parent.span_id.clone(),
        flags: 0x101,
        name,
        kind: SpanKind::Client as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes,
        status: Some(Status::default()),
        ..Default::default()
    }
}

/// `user_agent.original` values of server spans.
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)",
    "okhttp/4.12.0",
    "Go-http-client/1.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0",
    "python-requests/2.31.0",
];

/// `route` with `{id}` replaced by a number, as a concrete request path.
fn url_path(rng: &mut Rng, route: &str) -> String {
    match route.strip_suffix("{id}") {
        Some(prefix) => format!("{prefix}{}", rng.u32(10_000..99_999_999)),
        None => route.to_string(),
    }
}
