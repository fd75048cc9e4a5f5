//! Realistic OTLP content, deterministic for a given seed and [`ContentOpts`].
//!
//! Public so that benchmarks and tests build exactly the payloads the load generator sends.
//! A simulated shop runs `services` services in `clusters` Kubernetes clusters; every request
//! holds one resource per (cluster, service) that has items in it.

use std::borrow::Cow;
use std::fmt::Write as _;

use fastrand::Rng;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::args::Signal;

/// What the simulated fleet looks like.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentOpts {
    /// Number of clusters (`k8s.cluster.name` = `cluster-0`, `cluster-1`, …).
    pub clusters: usize,
    /// Number of services per cluster.
    pub services: usize,
    /// Fraction of server spans answering 5xx with status ERROR (and of error-level logs).
    pub error_ratio: f64,
    /// Median server-span latency in milliseconds.
    pub latency_p50_ms: f64,
    /// Timestamps fall in the few seconds before this instant (Unix nanoseconds). The default
    /// is the wall clock when the options are built; fix it for byte-identical output.
    pub now_unix_nano: u64,
}

impl Default for ContentOpts {
    /// The `slotel loadgen` defaults, with `now_unix_nano` taken from the wall clock.
    fn default() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1_700_000_000_000_000_000, |d| {
                u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
            });
        Self {
            clusters: 3,
            services: 5,
            error_ratio: 0.01,
            latency_p50_ms: 40.0,
            now_unix_nano: now,
        }
    }
}

/// One generated export request of any signal.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Traces(ExportTraceServiceRequest),
    Metrics(ExportMetricsServiceRequest),
    Logs(ExportLogsServiceRequest),
}

impl Payload {
    /// Generates a request of `signal` holding exactly `items` items.
    pub fn generate(signal: Signal, rng: &mut Rng, items: usize, opts: &ContentOpts) -> Self {
        match signal {
            Signal::Traces => Payload::Traces(traces(rng, items, opts)),
            Signal::Metrics => Payload::Metrics(metrics(rng, items, opts)),
            Signal::Logs => Payload::Logs(logs(rng, items, opts)),
        }
    }

    /// Spans, data points or log records in the request.
    pub fn items(&self) -> usize {
        match self {
            Payload::Traces(r) => count_spans(r),
            Payload::Metrics(r) => count_data_points(r),
            Payload::Logs(r) => count_log_records(r),
        }
    }

    /// The protobuf encoding (gRPC message or OTLP/HTTP protobuf body).
    pub fn encode_protobuf(&self) -> Vec<u8> {
        use prost::Message as _;
        match self {
            Payload::Traces(r) => r.encode_to_vec(),
            Payload::Metrics(r) => r.encode_to_vec(),
            Payload::Logs(r) => r.encode_to_vec(),
        }
    }

    /// The OTLP/JSON encoding (hex ids, string int64s).
    pub fn encode_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        match self {
            Payload::Traces(r) => serde_json::to_vec(r),
            Payload::Metrics(r) => serde_json::to_vec(r),
            Payload::Logs(r) => serde_json::to_vec(r),
        }
    }
}

/// Spans in a trace request.
pub fn count_spans(req: &ExportTraceServiceRequest) -> usize {
    let scopes = req.resource_spans.iter().flat_map(|r| &r.scope_spans);
    scopes.map(|s| s.spans.len()).sum()
}

/// Data points (of every metric type) in a metrics request.
pub fn count_data_points(req: &ExportMetricsServiceRequest) -> usize {
    let metrics = req
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics);
    metrics
        .map(|m| match &m.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            Some(Data::Histogram(h)) => h.data_points.len(),
            Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
            Some(Data::Summary(s)) => s.data_points.len(),
            None => 0,
        })
        .sum()
}

/// Log records in a logs request.
pub fn count_log_records(req: &ExportLogsServiceRequest) -> usize {
    let scopes = req.resource_logs.iter().flat_map(|r| &r.scope_logs);
    scopes.map(|s| s.log_records.len()).sum()
}

/// The simulated shop: service names and the routes each serves ("METHOD /route").
#[rustfmt::skip]
const SERVICES: &[(&str, &[&str])] = &[
    ("checkout", &["POST /api/checkout", "POST /api/pay", "GET /api/orders/{id}"]),
    ("payment", &["POST /v1/payments", "GET /v1/payments/{id}", "POST /v1/refunds"]),
    ("cart", &["GET /api/cart", "POST /api/cart/items", "DELETE /api/cart/items/{id}"]),
    ("catalog", &["GET /api/products", "GET /api/products/{id}", "GET /api/search"]),
    ("shipping", &["POST /api/shipments", "GET /api/shipments/{id}", "GET /api/quote"]),
    ("frontend", &["GET /", "GET /product/{id}", "GET /cart"]),
    ("auth", &["POST /oauth/token", "GET /userinfo", "POST /login"]),
    ("inventory", &["GET /v1/stock/{id}", "POST /v1/reservations"]),
    ("recommendation", &["GET /api/recommendations"]),
    ("notification", &["POST /v1/emails", "POST /v1/sms"]),
];

const NAMESPACE: &str = "shop";
const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.26.0";
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)",
    "okhttp/4.12.0",
    "Go-http-client/1.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0",
    "python-requests/2.31.0",
];
const POD_SUFFIXES: &[&str] = &["x2k9p", "m4q7z", "b8n3t", "r5w2c", "h7j6d", "q9v1s"];

fn service_name(service: usize) -> Cow<'static, str> {
    let name = SERVICES[service % SERVICES.len()].0;
    match service / SERVICES.len() {
        0 => Cow::Borrowed(name),
        n => Cow::Owned(format!("{name}-{n}")),
    }
}

/// A random route of `service`: (method, route).
fn pick_route(rng: &mut Rng, service: usize) -> (&'static str, &'static str) {
    let routes = SERVICES[service % SERVICES.len()].1;
    routes[rng.usize(..routes.len())]
        .split_once(' ')
        .unwrap_or(("GET", "/"))
}

fn s(key: &str, value: impl Into<String>) -> KeyValue {
    let value = Some(AnyValue {
        value: Some(Value::StringValue(value.into())),
    });
    KeyValue {
        key: key.to_string(),
        value,
        ..Default::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    let value = Some(AnyValue {
        value: Some(Value::IntValue(value)),
    });
    KeyValue {
        key: key.to_string(),
        value,
        ..Default::default()
    }
}

fn resource(rng: &mut Rng, cluster: usize, service: usize) -> Resource {
    let name = service_name(service);
    let template = (cluster as u64 * 31 + service as u64 + 7).wrapping_mul(2_654_435_761);
    let pod = POD_SUFFIXES[rng.usize(..3) + (cluster + service) % 3];
    let version = format!("1.{}.{}", service % 7, (service * 3) % 10);
    Resource {
        attributes: vec![
            s("service.name", name.clone()),
            s("service.version", version),
            s("k8s.cluster.name", format!("cluster-{cluster}")),
            s("k8s.namespace.name", NAMESPACE),
            s(
                "k8s.pod.name",
                format!("{name}-{:09x}-{pod}", template & 0xf_ffff_ffff),
            ),
        ],
        ..Default::default()
    }
}

fn scope(name: &str) -> Option<InstrumentationScope> {
    let version = "0.48.0".to_string();
    Some(InstrumentationScope {
        name: name.to_string(),
        version,
        ..Default::default()
    })
}

/// Items dealt to (cluster, service) groups, one `R` per non-empty group, built by `build`
/// from the group's resource and items.
fn by_resource<T, R>(
    rng: &mut Rng,
    opts: &ContentOpts,
    groups: Vec<Vec<T>>,
    mut build: impl FnMut(Resource, Vec<T>) -> R,
) -> Vec<R> {
    let services = opts.services.max(1);
    let groups = groups
        .into_iter()
        .enumerate()
        .filter(|(_, items)| !items.is_empty());
    groups
        .map(|(g, items)| build(resource(rng, g / services, g % services), items))
        .collect()
}

/// A standard normal sample (Box–Muller).
fn normal(rng: &mut Rng) -> f64 {
    let u1 = 1.0 - rng.f64(); // (0, 1]
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * rng.f64()).cos()
}

/// Log-normal spread of the latency around the median (σ of the logarithm).
const LATENCY_SIGMA: f64 = 0.5;

/// A server latency in nanoseconds: log-normal around `p50_ms`, 2% drawn from a 3–20× tail.
pub fn latency_ns(rng: &mut Rng, p50_ms: f64) -> u64 {
    let mut ms = p50_ms * (LATENCY_SIGMA * normal(rng)).exp();
    if rng.f64() < 0.02 {
        ms *= 3.0 + 17.0 * rng.f64();
    }
    (ms * 1e6).max(50_000.0) as u64
}

fn trace_id(rng: &mut Rng) -> Vec<u8> {
    rng.u128(1..).to_be_bytes().to_vec()
}

fn span_id(rng: &mut Rng) -> Vec<u8> {
    rng.u64(1..).to_be_bytes().to_vec()
}

/// `route` with `{id}` replaced by a number, as a concrete request path.
fn url_path(rng: &mut Rng, route: &str) -> String {
    match route.strip_suffix("{id}") {
        Some(prefix) => format!("{prefix}{}", rng.u32(10_000..99_999_999)),
        None => route.to_string(),
    }
}

fn status_code(rng: &mut Rng, method: &str, error_ratio: f64) -> i64 {
    if rng.f64() < error_ratio {
        return [500, 502, 503, 504][rng.usize(..4)];
    }
    match (rng.u32(..100), method) {
        (0..=1, _) => 400,
        (2..=3, _) => 404,
        (4, _) => 401,
        (5..=9, "POST") => 201,
        (5..=9, "DELETE") => 204,
        _ => 200,
    }
}

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

/// Explicit bounds of `http.server.request.duration`, in seconds (semconv advice).
pub const DURATION_BOUNDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The metrics of every service: (name, unit).
const METRIC_NAMES: &[(&str, &str)] = &[
    ("http.server.request.duration", "s"),
    ("http.server.requests", "{request}"),
    ("process.cpu.utilization", "1"),
    ("process.memory.usage", "By"),
];

/// `points` data points: half of them cumulative duration histograms, 30% monotonic request
/// counters, 20% gauges; grouped by (cluster, service).
pub fn metrics(rng: &mut Rng, points: usize, opts: &ContentOpts) -> ExportMetricsServiceRequest {
    use number_data_point::Value::{AsDouble, AsInt};
    let services = opts.services.max(1);
    let mut groups: Vec<Vec<Metric>> = vec![Vec::new(); opts.clusters.max(1) * services];
    for _ in 0..points {
        let group = rng.usize(..groups.len());
        let service = group % services;
        let start = opts
            .now_unix_nano
            .saturating_sub((3_600 + group as u64 * 60) * 1_000_000_000);
        let time = opts.now_unix_nano.saturating_sub(rng.u64(..10_000_000_000));
        let kind = match rng.u32(..10) {
            0..=4 => 0,
            5..=7 => 1,
            _ => 2 + rng.usize(..2),
        };
        let metrics = &mut groups[group];
        let index = match metrics.iter().position(|m| m.name == METRIC_NAMES[kind].0) {
            Some(index) => index,
            None => {
                metrics.push(new_metric(kind));
                metrics.len() - 1
            }
        };
        let point = |attributes, value| NumberDataPoint {
            attributes,
            start_time_unix_nano: if kind == 1 { start } else { 0 },
            time_unix_nano: time,
            value: Some(value),
            ..Default::default()
        };
        match (&mut metrics[index].data, kind) {
            (Some(Data::Histogram(h)), _) => {
                h.data_points
                    .push(histogram_point(rng, service, start, time, opts));
            }
            (Some(Data::Sum(sum)), _) => {
                let attributes = route_attributes(rng, service, opts);
                sum.data_points
                    .push(point(attributes, AsInt(rng.i64(1_000..5_000_000))));
            }
            (Some(Data::Gauge(g)), 2) => {
                let value = AsDouble(rng.f64() * 0.8);
                g.data_points
                    .push(point(vec![s("cpu.mode", "user")], value));
            }
            (Some(Data::Gauge(g)), _) => {
                let value = AsInt(rng.i64(50_000_000..900_000_000));
                g.data_points.push(point(Vec::new(), value));
            }
            _ => {}
        }
    }
    let resource_metrics = by_resource(rng, opts, groups, |resource, metrics| ResourceMetrics {
        resource: Some(resource),
        scope_metrics: vec![ScopeMetrics {
            scope: scope("io.opentelemetry.runtime"),
            metrics,
            ..Default::default()
        }],
        schema_url: SCHEMA_URL.to_string(),
    });
    ExportMetricsServiceRequest { resource_metrics }
}

fn new_metric(kind: usize) -> Metric {
    let cumulative = AggregationTemporality::Cumulative as i32;
    let (name, unit) = METRIC_NAMES[kind];
    let data = match kind {
        0 => Data::Histogram(Histogram {
            data_points: vec![],
            aggregation_temporality: cumulative,
        }),
        1 => Data::Sum(Sum {
            data_points: vec![],
            aggregation_temporality: cumulative,
            is_monotonic: true,
        }),
        _ => Data::Gauge(Gauge {
            data_points: vec![],
        }),
    };
    let (name, unit) = (name.to_string(), unit.to_string());
    Metric {
        name,
        unit,
        data: Some(data),
        ..Default::default()
    }
}

fn route_attributes(rng: &mut Rng, service: usize, opts: &ContentOpts) -> Vec<KeyValue> {
    let (method, route) = pick_route(rng, service);
    vec![
        s("http.request.method", method),
        s("http.route", route),
        int(
            "http.response.status_code",
            status_code(rng, method, opts.error_ratio),
        ),
        s("url.scheme", "http"),
    ]
}

/// A cumulative histogram whose buckets follow the log-normal latency distribution.
fn histogram_point(
    rng: &mut Rng,
    service: usize,
    start: u64,
    time: u64,
    opts: &ContentOpts,
) -> HistogramDataPoint {
    let attributes = route_attributes(rng, service, opts);
    let total = rng.u64(50..20_000) as f64;
    let median = opts.latency_p50_ms / 1000.0;
    let mut below = 0.0;
    let mut bucket_counts = Vec::with_capacity(DURATION_BOUNDS.len() + 1);
    for bound in DURATION_BOUNDS.iter().chain([&f64::INFINITY]) {
        let cdf = lognormal_cdf(*bound, median);
        bucket_counts.push((total * (cdf - below)).round() as u64);
        below = cdf;
    }
    let count = bucket_counts.iter().sum::<u64>();
    let mean = median * (LATENCY_SIGMA * LATENCY_SIGMA / 2.0).exp();
    HistogramDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: time,
        count,
        sum: Some(count as f64 * mean * (0.9 + 0.2 * rng.f64())),
        bucket_counts,
        explicit_bounds: DURATION_BOUNDS.to_vec(),
        ..Default::default()
    }
}

fn lognormal_cdf(x: f64, median: f64) -> f64 {
    if x.is_infinite() {
        return 1.0;
    }
    let z = (x / median).ln() / LATENCY_SIGMA;
    0.5 * (1.0 + erf(z / std::f64::consts::SQRT_2))
}

/// Abramowitz–Stegun 7.1.26 (absolute error below 1.5e-7).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = [
        1.061_405_429,
        -1.453_152_027,
        1.421_413_741,
        -0.284_496_736,
        0.254_829_592,
    ]
    .iter()
    .fold(0.0, |acc, c| (acc + c) * t);
    let y = 1.0 - poly * (-x * x).exp();
    if x < 0.0 { -y } else { y }
}

/// `records` log records with JSON string bodies (some carrying emails, phone numbers,
/// card numbers, resident registration numbers, IPs and tokens); 60% carry trace context.
pub fn logs(rng: &mut Rng, records: usize, opts: &ContentOpts) -> ExportLogsServiceRequest {
    let services = opts.services.max(1);
    let mut groups: Vec<Vec<LogRecord>> = vec![Vec::new(); opts.clusters.max(1) * services];
    for _ in 0..records {
        let group = rng.usize(..groups.len());
        let record = log_record(rng, group % services, opts);
        groups[group].push(record);
    }
    let resource_logs = by_resource(rng, opts, groups, |resource, log_records| ResourceLogs {
        resource: Some(resource),
        scope_logs: vec![ScopeLogs {
            scope: scope("io.opentelemetry.logback-appender"),
            log_records,
            ..Default::default()
        }],
        schema_url: SCHEMA_URL.to_string(),
    });
    ExportLogsServiceRequest { resource_logs }
}

fn log_record(rng: &mut Rng, service: usize, opts: &ContentOpts) -> LogRecord {
    let roll = rng.f64() - opts.error_ratio;
    let (severity, level) = match roll {
        ..0.0 => (SeverityNumber::Error, "error"),
        ..0.08 => (SeverityNumber::Warn, "warn"),
        ..0.13 => (SeverityNumber::Debug, "debug"),
        _ => (SeverityNumber::Info, "info"),
    };
    let time = opts.now_unix_nano.saturating_sub(rng.u64(..5_000_000_000));
    let with_trace = rng.f64() < 0.6;
    let templates = LOG_TEMPLATES.iter().filter(|(l, _)| *l == level);
    let template = templates
        .clone()
        .nth(rng.usize(..templates.count().max(1)))
        .map_or("", |t| t.1);
    let body = format!(r#"{{"level":"{level}",{}}}"#, fill(rng, template, opts));
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time + rng.u64(100_000..50_000_000),
        severity_number: severity as i32,
        severity_text: level.to_ascii_uppercase(),
        body: Some(AnyValue {
            value: Some(Value::StringValue(body)),
        }),
        attributes: vec![
            s("log.iostream", "stdout"),
            s(
                "logger.name",
                format!("com.example.shop.{}", service_name(service)),
            ),
            s(
                "thread.name",
                format!("http-nio-8080-exec-{}", rng.u32(1..=20)),
            ),
        ],
        flags: u32::from(with_trace),
        trace_id: if with_trace {
            trace_id(rng)
        } else {
            Vec::new()
        },
        span_id: if with_trace { span_id(rng) } else { Vec::new() },
        ..Default::default()
    }
}

/// JSON log lines as Java or Go services print them, after `{"level":"…",`: (level,
/// template); `$name` placeholders are filled by [`fill`].
#[rustfmt::skip]
const LOG_TEMPLATES: &[(&str, &str)] = &[
    ("info", r#""msg":"payment accepted","user":{"email":"$email","phone":"$phone"},"order_id":$order,"amount":$amount,"currency":"KRW","latency_ms":$latency"#),
    ("info", r#""msg":"user logged in","user_id":$user_id,"email":"$email","client_ip":"198.51.100.$octet","method":"password""#),
    ("info", r#""msg":"request completed","http":{"method":"GET","route":"/api/cart","status":200},"latency_ms":$latency"#),
    ("warn", r#""msg":"slow query","db":"postgresql","statement":"SELECT * FROM orders WHERE customer_email = $1","duration_ms":$latency"#),
    ("warn", r#""msg":"retrying upstream call","upstream":"http://payment.shop:8080/v1/payments","attempt":2,"client_ip":"203.0.113.$octet""#),
    ("debug", r#""msg":"cache miss","key":"cart:$user_id","ttl_s":300"#),
    ("debug", r#""msg":"auth header received","authorization":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.$order""#),
    ("error", r#""msg":"payment declined","card":{"number":"$card","holder":"$holder"},"reason":"insufficient_funds","order_id":$order"#),
    ("error", r#""msg":"upstream timeout","url":"https://svc:s3cr3t-$order@billing.internal/api/charge","timeout_ms":3000"#),
    ("error", r#""msg":"identity verification failed","rrn":"$rrn","phone":"+82 10-$d4-$d4""#),
];

const FIRST_NAMES: &[&str] = &["kim", "lee", "park", "choi", "jung", "alex", "maria", "sam"];
const DOMAINS: &[&str] = &["example.com", "mail.example.org", "corp.example.net"];
const CARDS: &[&str] = &[
    "4111 1111 1111 1111",
    "5555-5555-5555-4444",
    "378282246310005",
];

/// `template` with each `$name` replaced by a fresh random value; unknown names stay as is.
fn fill(rng: &mut Rng, template: &str, opts: &ContentOpts) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let end = tail
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(tail.len());
        let first = FIRST_NAMES[rng.usize(..FIRST_NAMES.len())];
        // Writing to a String cannot fail.
        let _ = match &tail[..end] {
            "email" => write!(
                out,
                "{first}.{}@{}",
                rng.u32(1..999),
                DOMAINS[rng.usize(..3)]
            ),
            "holder" => write!(
                out,
                "{} {}",
                first.to_ascii_uppercase(),
                ["KIM", "LEE"][rng.usize(..2)]
            ),
            "phone" => write!(out, "010-{:04}-{:04}", rng.u32(..10_000), rng.u32(..10_000)),
            "d4" => write!(out, "{:04}", rng.u32(..10_000)),
            "card" => write!(out, "{}", CARDS[rng.usize(..CARDS.len())]),
            "rrn" => write!(
                out,
                "{:02}{:02}{:02}-{}{:06}",
                rng.u32(60..99),
                rng.u32(1..13),
                rng.u32(1..29),
                rng.u32(1..5),
                rng.u32(..1_000_000)
            ),
            "order" => write!(out, "{}", rng.u64(100_000_000..999_999_999)),
            "amount" => write!(out, "{}", rng.u32(1..500) * 100),
            "latency" => write!(out, "{}", latency_ns(rng, opts.latency_p50_ms) / 1_000_000),
            "user_id" => write!(out, "{}", rng.u32(1..1_000_000)),
            "octet" => write!(out, "{}", rng.u8(1..255)),
            other => write!(out, "${other}"),
        };
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}
