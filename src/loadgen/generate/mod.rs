//! Realistic OTLP content, deterministic for a given seed and [`ContentOpts`].
//!
//! Public so that benchmarks and tests build exactly the payloads the load generator sends.
//! A simulated shop runs `services` services in `clusters` Kubernetes clusters; every request
//! holds one resource per (cluster, service) that has items in it.
//!
//! Invariants: a request of `n` items holds exactly `n` items, and the same seed and options
//! give byte-identical output (every random draw comes from the caller's [`Rng`]).
//!
//! # Layout
//!
//! - `mod.rs` (here): [`ContentOpts`], [`Payload`], the item counts, and what every signal
//!   shares: the simulated fleet (services, routes, resources, scopes), attribute builders,
//!   ids, status codes and the latency distribution.
//! - `traces.rs`: server spans with client children ([`traces()`]).
//! - `metrics.rs`: duration histograms, request counters and gauges ([`metrics()`]).
//! - `logs.rs`: JSON log lines, some carrying PII ([`logs()`]).

mod logs;
mod metrics;
mod traces;

use std::borrow::Cow;

use fastrand::Rng;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::resource::v1::Resource;

pub use self::logs::logs;
pub use self::metrics::{DURATION_BOUNDS, metrics};
pub use self::traces::traces;
use crate::signal::Signal;

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
        let now = crate::unix_time::now_nanos();
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
