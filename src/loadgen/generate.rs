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

/// A service of the simulated shop and the routes it serves (method, route).
struct ServiceDef {
    name: &'static str,
    routes: &'static [(&'static str, &'static str)],
}

const SERVICES: &[ServiceDef] = &[
    ServiceDef { name: "checkout", routes: &[("POST", "/api/checkout"), ("POST", "/api/pay"), ("GET", "/api/orders/{id}")] },
    ServiceDef { name: "payment", routes: &[("POST", "/v1/payments"), ("GET", "/v1/payments/{id}"), ("POST", "/v1/refunds")] },
    ServiceDef { name: "cart", routes: &[("GET", "/api/cart"), ("POST", "/api/cart/items"), ("DELETE", "/api/cart/items/{id}")] },
    ServiceDef { name: "catalog", routes: &[("GET", "/api/products"), ("GET", "/api/products/{id}"), ("GET", "/api/search")] },
    ServiceDef { name: "shipping", routes: &[("POST", "/api/shipments"), ("GET", "/api/shipments/{id}"), ("GET", "/api/quote")] },
    ServiceDef { name: "frontend", routes: &[("GET", "/"), ("GET", "/product/{id}"), ("GET", "/cart")] },
    ServiceDef { name: "auth", routes: &[("POST", "/oauth/token"), ("GET", "/userinfo"), ("POST", "/login")] },
    ServiceDef { name: "inventory", routes: &[("GET", "/v1/stock/{id}"), ("POST", "/v1/reservations")] },
    ServiceDef { name: "recommendation", routes: &[("GET", "/api/recommendations")] },
    ServiceDef { name: "notification", routes: &[("POST", "/v1/emails"), ("POST", "/v1/sms")] },
];

const NAMESPACE: &str = "shop";
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)",
    "okhttp/4.12.0",
    "Go-http-client/1.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0",
    "python-requests/2.31.0",
];
const POD_SUFFIXES: &[&str] = &["x2k9p", "m4q7z", "b8n3t", "r5w2c", "h7j6d", "q9v1s"];

fn service_name(service: usize) -> Cow<'static, str> {
    let def = &SERVICES[service % SERVICES.len()];
    match service / SERVICES.len() {
        0 => Cow::Borrowed(def.name),
        n => Cow::Owned(format!("{}-{n}", def.name)),
    }
}

fn routes(service: usize) -> &'static [(&'static str, &'static str)] {
    SERVICES[service % SERVICES.len()].routes
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn text(value: impl Into<String>) -> Value {
    Value::StringValue(value.into())
}

fn resource(rng: &mut Rng, cluster: usize, service: usize) -> Resource {
    let name = service_name(service);
    let template = (cluster as u64 * 31 + service as u64 + 7).wrapping_mul(2_654_435_761) & 0xf_ffff_ffff;
    let pod = POD_SUFFIXES[rng.usize(..3) + (cluster + service) % 3];
    Resource {
        attributes: vec![
            kv("service.name", text(name.clone())),
            kv("service.version", text(format!("1.{}.{}", service % 7, (service * 3) % 10))),
            kv("k8s.cluster.name", text(format!("cluster-{cluster}"))),
            kv("k8s.namespace.name", text(NAMESPACE)),
            kv("k8s.pod.name", text(format!("{name}-{template:09x}-{pod}"))),
        ],
        ..Default::default()
    }
}

fn scope(name: &str) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: name.to_string(),
        version: "0.48.0".to_string(),
        ..Default::default()
    })
}

/// A standard normal sample (Box–Muller).
fn normal(rng: &mut Rng) -> f64 {
    let u1 = 1.0 - rng.f64(); // (0, 1]
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
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
    match rng.u32(..100) {
        0..=1 => 400,
        2..=3 => 404,
        4 => 401,
        5..=9 if method == "POST" => 201,
        5..=9 if method == "DELETE" => 204,
        _ => 200,
    }
}

/// `spans` spans: server spans (about 8 HTTP attributes each), 30% of them followed by a
/// client child span; grouped by (cluster, service).
pub fn traces(rng: &mut Rng, spans: usize, opts: &ContentOpts) -> ExportTraceServiceRequest {
    let (clusters, services) = (opts.clusters.max(1), opts.services.max(1));
    let mut groups: Vec<Vec<Span>> = vec![Vec::new(); clusters * services];
    let mut made = 0;
    while made < spans {
        let group = rng.usize(..groups.len());
        let server = server_span(rng, group % services, opts);
        let child = (made + 1 < spans && rng.f64() < 0.3).then(|| client_span(rng, &server));
        groups[group].push(server);
        made += 1;
        if let Some(child) = child {
            groups[group].push(child);
            made += 1;
        }
    }
    let resource_spans = groups
        .into_iter()
        .enumerate()
        .filter(|(_, spans)| !spans.is_empty())
        .map(|(group, spans)| ResourceSpans {
            resource: Some(resource(rng, group / services, group % services)),
            scope_spans: vec![ScopeSpans {
                scope: scope("io.opentelemetry.http-server"),
                spans,
                ..Default::default()
            }],
            schema_url: "https://opentelemetry.io/schemas/1.26.0".to_string(),
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

fn server_span(rng: &mut Rng, service: usize, opts: &ContentOpts) -> Span {
    let routes = routes(service);
    let (method, route) = routes[rng.usize(..routes.len())];
    let status = status_code(rng, method, opts.error_ratio);
    let end = opts.now_unix_nano.saturating_sub(rng.u64(..5_000_000_000));
    let start = end.saturating_sub(latency_ns(rng, opts.latency_p50_ms));
    let remote_parent = rng.bool();
    let path = url_path(rng, route);
    let attributes = vec![
        kv("http.request.method", text(method)),
        kv("http.route", text(route)),
        kv("url.path", text(path)),
        kv("url.scheme", text("http")),
        kv("http.response.status_code", Value::IntValue(status)),
        kv("server.address", text(format!("{}.{NAMESPACE}", service_name(service)))),
        kv("user_agent.original", text(USER_AGENTS[rng.usize(..USER_AGENTS.len())])),
        kv("network.protocol.version", text(if rng.bool() { "1.1" } else { "2" })),
    ];
    Span {
        trace_id: trace_id(rng),
        span_id: span_id(rng),
        parent_span_id: if remote_parent { span_id(rng) } else { Vec::new() },
        flags: if remote_parent { 0x301 } else { 0x101 },
        name: format!("{method} {route}"),
        kind: SpanKind::Server as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes,
        status: Some(match status {
            500.. => Status { code: StatusCode::Error as i32, message: String::new() },
            _ => Status::default(),
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
            kv("db.system.name", text("postgresql")),
            kv("db.namespace", text(NAMESPACE)),
            kv("db.operation.name", text("SELECT")),
            kv("db.collection.name", text(table)),
            kv("server.address", text("postgres.shop")),
            kv("server.port", Value::IntValue(5432)),
        ];
        (format!("SELECT {NAMESPACE}.{table}"), attributes)
    } else {
        let target = &SERVICES[rng.usize(..SERVICES.len())];
        let (method, route) = target.routes[0];
        let path = url_path(rng, route);
        let attributes = vec![
            kv("http.request.method", text(method)),
            kv("url.full", text(format!("http://{}.{NAMESPACE}:8080{path}", target.name))),
            kv("server.address", text(format!("{}.{NAMESPACE}", target.name))),
            kv("server.port", Value::IntValue(8080)),
            kv("http.response.status_code", Value::IntValue(200)),
            kv("network.protocol.version", text("1.1")),
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

/// Metric kinds, in the order they appear in a resource's scope.
const METRIC_NAMES: &[(&str, &str)] = &[
    ("http.server.request.duration", "s"),
    ("http.server.requests", "{request}"),
    ("process.cpu.utilization", "1"),
    ("process.memory.usage", "By"),
];

/// `points` data points: half cumulative duration histograms, 30% monotonic request
/// counters, 20% gauges; grouped by (cluster, service).
pub fn metrics(rng: &mut Rng, points: usize, opts: &ContentOpts) -> ExportMetricsServiceRequest {
    let (clusters, services) = (opts.clusters.max(1), opts.services.max(1));
    // Per group, one slot per metric name, filled in first-use order.
    let mut groups: Vec<Vec<Option<Metric>>> = vec![vec![None; METRIC_NAMES.len()]; clusters * services];
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    for _ in 0..points {
        let group = rng.usize(..groups.len());
        let service = group % services;
        let start = opts.now_unix_nano.saturating_sub((3_600 + group as u64 * 60) * 1_000_000_000);
        let time = opts.now_unix_nano.saturating_sub(rng.u64(..10_000_000_000));
        let kind = match rng.u32(..10) {
            0..=4 => 0,
            5..=7 => 1,
            _ => 2 + rng.usize(..2),
        };
        let slot = &mut groups[group][kind];
        if slot.is_none() {
            order[group].push(kind);
        }
        let metric = slot.get_or_insert_with(|| new_metric(kind));
        match &mut metric.data {
            Some(Data::Histogram(h)) => h.data_points.push(histogram_point(rng, service, start, time, opts)),
            Some(Data::Sum(s)) => {
                let mut point = number_point(start, time, route_attributes(rng, service, opts));
                point.value = Some(number_data_point::Value::AsInt(rng.i64(1_000..5_000_000)));
                s.data_points.push(point);
            }
            Some(Data::Gauge(g)) if kind == 2 => {
                let mut point = number_point(0, time, vec![kv("cpu.mode", text("user"))]);
                point.value = Some(number_data_point::Value::AsDouble(rng.f64() * 0.8));
                g.data_points.push(point);
            }
            Some(Data::Gauge(g)) => {
                let mut point = number_point(0, time, Vec::new());
                point.value = Some(number_data_point::Value::AsInt(rng.i64(50_000_000..900_000_000)));
                g.data_points.push(point);
            }
            _ => {}
        }
    }
    let resource_metrics = groups
        .into_iter()
        .zip(order)
        .enumerate()
        .filter(|(_, (_, order))| !order.is_empty())
        .map(|(group, (mut slots, order))| ResourceMetrics {
            resource: Some(resource(rng, group / services, group % services)),
            scope_metrics: vec![ScopeMetrics {
                scope: scope("io.opentelemetry.runtime"),
                metrics: order.into_iter().filter_map(|k| slots[k].take()).collect(),
                ..Default::default()
            }],
            schema_url: "https://opentelemetry.io/schemas/1.26.0".to_string(),
        })
        .collect();
    ExportMetricsServiceRequest { resource_metrics }
}

fn new_metric(kind: usize) -> Metric {
    let cumulative = AggregationTemporality::Cumulative as i32;
    let (name, unit) = METRIC_NAMES[kind];
    let data = match kind {
        0 => Data::Histogram(Histogram { data_points: Vec::new(), aggregation_temporality: cumulative }),
        1 => Data::Sum(Sum { data_points: Vec::new(), aggregation_temporality: cumulative, is_monotonic: true }),
        _ => Data::Gauge(Gauge { data_points: Vec::new() }),
    };
    Metric {
        name: name.to_string(),
        unit: unit.to_string(),
        data: Some(data),
        ..Default::default()
    }
}

fn route_attributes(rng: &mut Rng, service: usize, opts: &ContentOpts) -> Vec<KeyValue> {
    let routes = routes(service);
    let (method, route) = routes[rng.usize(..routes.len())];
    vec![
        kv("http.request.method", text(method)),
        kv("http.route", text(route)),
        kv("http.response.status_code", Value::IntValue(status_code(rng, method, opts.error_ratio))),
        kv("url.scheme", text("http")),
    ]
}

fn number_point(start: u64, time: u64, attributes: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint { attributes, start_time_unix_nano: start, time_unix_nano: time, ..Default::default() }
}

/// A cumulative histogram whose buckets follow the log-normal latency distribution.
fn histogram_point(rng: &mut Rng, service: usize, start: u64, time: u64, opts: &ContentOpts) -> HistogramDataPoint {
    let attributes = route_attributes(rng, service, opts);
    let total = rng.u64(50..20_000) as f64;
    let median = opts.latency_p50_ms / 1000.0;
    let mut below = 0.0;
    let mut bucket_counts = Vec::with_capacity(DURATION_BOUNDS.len() + 1);
    for bound in DURATION_BOUNDS {
        let cdf = lognormal_cdf(*bound, median);
        bucket_counts.push((total * (cdf - below)).round() as u64);
        below = cdf;
    }
    bucket_counts.push((total * (1.0 - below)).round() as u64);
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
    let z = (x / median).ln() / LATENCY_SIGMA;
    0.5 * (1.0 + erf(z / std::f64::consts::SQRT_2))
}

/// Abramowitz–Stegun 7.1.26 (absolute error below 1.5e-7).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let y = 1.0 - poly * (-x * x).exp();
    if x < 0.0 { -y } else { y }
}

const FIRST_NAMES: &[&str] = &["kim", "lee", "park", "choi", "jung", "alex", "maria", "sam"];
const DOMAINS: &[&str] = &["example.com", "mail.example.org", "corp.example.net"];
const CARDS: &[&str] = &["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005"];

/// `records` log records with JSON string bodies (some carrying emails, phone numbers,
/// card numbers, resident registration numbers, IPs and tokens); 60% carry trace context.
pub fn logs(rng: &mut Rng, records: usize, opts: &ContentOpts) -> ExportLogsServiceRequest {
    let (clusters, services) = (opts.clusters.max(1), opts.services.max(1));
    let mut groups: Vec<Vec<LogRecord>> = vec![Vec::new(); clusters * services];
    for _ in 0..records {
        let group = rng.usize(..groups.len());
        let record = log_record(rng, group % services, opts);
        groups[group].push(record);
    }
    let resource_logs = groups
        .into_iter()
        .enumerate()
        .filter(|(_, records)| !records.is_empty())
        .map(|(group, log_records)| ResourceLogs {
            resource: Some(resource(rng, group / services, group % services)),
            scope_logs: vec![ScopeLogs {
                scope: scope("io.opentelemetry.logback-appender"),
                log_records,
                ..Default::default()
            }],
            schema_url: String::new(),
        })
        .collect();
    ExportLogsServiceRequest { resource_logs }
}

fn log_record(rng: &mut Rng, service: usize, opts: &ContentOpts) -> LogRecord {
    let roll = rng.f64();
    let (severity, level) = if roll < opts.error_ratio {
        (SeverityNumber::Error, "error")
    } else if roll < opts.error_ratio + 0.08 {
        (SeverityNumber::Warn, "warn")
    } else if roll < opts.error_ratio + 0.13 {
        (SeverityNumber::Debug, "debug")
    } else {
        (SeverityNumber::Info, "info")
    };
    let time = opts.now_unix_nano.saturating_sub(rng.u64(..5_000_000_000));
    let with_trace = rng.f64() < 0.6;
    let name = service_name(service);
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time + rng.u64(100_000..50_000_000),
        severity_number: severity as i32,
        severity_text: level.to_ascii_uppercase(),
        body: Some(AnyValue { value: Some(text(log_body(rng, level, opts))) }),
        attributes: vec![
            kv("log.iostream", text("stdout")),
            kv("logger.name", text(format!("com.example.shop.{name}"))),
            kv("thread.name", text(format!("http-nio-8080-exec-{}", rng.u32(1..=20)))),
        ],
        flags: u32::from(with_trace),
        trace_id: if with_trace { trace_id(rng) } else { Vec::new() },
        span_id: if with_trace { span_id(rng) } else { Vec::new() },
        ..Default::default()
    }
}

/// A JSON log line as a Java or Go service would print it (keys in writing order).
fn log_body(rng: &mut Rng, level: &str, opts: &ContentOpts) -> String {
    let first = FIRST_NAMES[rng.usize(..FIRST_NAMES.len())];
    let email = format!("{first}.{}@{}", rng.u32(1..999), DOMAINS[rng.usize(..DOMAINS.len())]);
    let phone = format!("010-{:04}-{:04}", rng.u32(..10_000), rng.u32(..10_000));
    let order = rng.u64(100_000_000..999_999_999);
    let latency = latency_ns(rng, opts.latency_p50_ms) / 1_000_000;
    let mut b = format!(r#"{{"level":"{level}","#);
    let choice = rng.u32(..3);
    // `write!` into a String cannot fail.
    let _ = match (level, choice) {
        ("error", 0) => write!(b, r#""msg":"payment declined","card":{{"number":"{}","holder":"{}"}},"reason":"insufficient_funds","order_id":{order}}}"#, CARDS[rng.usize(..CARDS.len())], first.to_ascii_uppercase()),
        ("error", 1) => write!(b, r#""msg":"upstream timeout","url":"https://svc:s3cr3t-{order}@billing.internal/api/charge","timeout_ms":3000}}"#),
        ("error", _) => write!(b, r#""msg":"identity verification failed","rrn":"{:02}{:02}{:02}-{}{:06}","phone":"+82 10-{:04}-{:04}"}}"#, rng.u32(60..99), rng.u32(1..13), rng.u32(1..29), rng.u32(1..5), rng.u32(..1_000_000), rng.u32(..10_000), rng.u32(..10_000)),
        ("warn", 0) => write!(b, r#""msg":"slow query","db":"postgresql","statement":"SELECT * FROM orders WHERE customer_email = $1","duration_ms":{}}}"#, latency * 10),
        ("warn", _) => write!(b, r#""msg":"retrying upstream call","upstream":"http://payment.shop:8080/v1/payments","attempt":{},"client_ip":"203.0.113.{}"}}"#, rng.u32(2..4), rng.u8(1..255)),
        ("debug", 0) => write!(b, r#""msg":"cache miss","key":"cart:{order}","ttl_s":300}}"#),
        ("debug", _) => write!(b, r#""msg":"auth header received","authorization":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ7b3JkZXJ9In0.{order}"}}"#),
        (_, 0) => write!(b, r#""msg":"payment accepted","user":{{"email":"{email}","phone":"{phone}"}},"order_id":{order},"amount":{},"currency":"KRW","latency_ms":{latency}}}"#, rng.u32(1..500) * 100),
        (_, 1) => write!(b, r#""msg":"user logged in","user_id":{},"email":"{email}","client_ip":"198.51.100.{}","method":"password"}}"#, rng.u32(1..1_000_000), rng.u8(1..255)),
        (_, _) => write!(b, r#""msg":"request completed","http":{{"method":"GET","route":"/api/cart","status":200}},"latency_ms":{latency}}}"#),
    };
    b
}
