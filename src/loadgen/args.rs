//! Command-line arguments of `slotel loadgen` and their validation into [`Settings`].

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Uri};

use super::LoadgenError;
use super::generate::ContentOpts;
use crate::signal::{Compression, Protocol, Signal};

/// OTLP/HTTP body encoding.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

/// How the CLI prints the final [`super::Report`].
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
}

/// `slotel loadgen`: sends generated OTLP traffic and reports what the server acknowledged.
#[derive(clap::Args, Clone)]
pub struct LoadgenArgs {
    /// Signal to send.
    #[arg(long, value_enum, default_value_t = Signal::Traces)]
    pub signal: Signal,
    /// Transport.
    #[arg(long, value_enum, default_value_t = Protocol::Grpc)]
    pub protocol: Protocol,
    /// OTLP/HTTP body encoding (HTTP only).
    #[arg(long, value_enum, default_value_t = Encoding::Protobuf)]
    pub encoding: Encoding,
    /// Server address, `host:port` or `http://host:port` (default 127.0.0.1:4317 for gRPC,
    /// 127.0.0.1:4318 for HTTP). For HTTP a base path may follow.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Request compression.
    #[arg(long, value_enum, default_value_t = Compression::None)]
    pub compression: Compression,
    /// Spans, data points or log records per request.
    #[arg(long, default_value_t = 512)]
    pub items_per_request: usize,
    /// Requests in flight at once (one worker and one connection each).
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Items per second across all workers; 0 sends as fast as the server answers.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// How long to send (default 10s, or unlimited when only --items is given).
    #[arg(long)]
    pub duration: Option<humantime::Duration>,
    /// Stop after this many items (whichever of --items and --duration comes first).
    #[arg(long)]
    pub items: Option<u64>,
    /// Number of simulated clusters (`k8s.cluster.name` = cluster-0, cluster-1, …).
    #[arg(long, default_value_t = 3)]
    pub clusters: usize,
    /// Number of simulated services per cluster.
    #[arg(long, default_value_t = 5)]
    pub services: usize,
    /// Fraction of server spans that fail with a 5xx (and of error-level logs).
    #[arg(long, default_value_t = 0.01)]
    pub error_ratio: f64,
    /// Median server latency in milliseconds; the distribution is log-normal with a long tail.
    #[arg(long, default_value_t = 40.0)]
    pub latency_p50_ms: f64,
    /// Bearer token, sent as `authorization: Bearer <token>`.
    #[arg(long, env = "SLOTEL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Extra request header `key=value` (repeatable).
    #[arg(long = "header", value_name = "KEY=VALUE")]
    pub headers: Vec<String>,
    /// Seed of the content generator; the same seed and options give the same requests.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub report: ReportFormat,
    /// Send nothing: decode the same pre-generated requests in a loop on this thread for
    /// --duration and report items decoded per second (the server's decode-only baseline).
    #[arg(long)]
    pub decode_baseline: bool,
    /// Send nothing: listen on this address as a cheap OTLP/gRPC traces backend that counts
    /// spans without decoding them (GET /metrics reports the count), until stopped. For the
    /// exporter benchmark (benches/e2e.sh).
    #[arg(long, value_name = "HOST:PORT")]
    pub sink: Option<std::net::SocketAddr>,
}

// Hand-written so that the token and header values never reach a log line.
impl fmt::Debug for LoadgenArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self
            .headers
            .iter()
            .map(|h| h.split_once('=').map_or(h.as_str(), |(k, _)| k))
            .collect();
        f.debug_struct("LoadgenArgs")
            .field("signal", &self.signal)
            .field("protocol", &self.protocol)
            .field("encoding", &self.encoding)
            .field("endpoint", &self.endpoint)
            .field("compression", &self.compression)
            .field("items_per_request", &self.items_per_request)
            .field("concurrency", &self.concurrency)
            .field("rate", &self.rate)
            .field("duration", &self.duration)
            .field("items", &self.items)
            .field("clusters", &self.clusters)
            .field("services", &self.services)
            .field("error_ratio", &self.error_ratio)
            .field("latency_p50_ms", &self.latency_p50_ms)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("header_names", &header_names)
            .field("seed", &self.seed)
            .field("report", &self.report)
            .field("decode_baseline", &self.decode_baseline)
            .field("sink", &self.sink)
            .finish()
    }
}

impl Default for LoadgenArgs {
    /// The same values as the command line's defaults.
    fn default() -> Self {
        Self {
            signal: Signal::Traces,
            protocol: Protocol::Grpc,
            encoding: Encoding::Protobuf,
            endpoint: None,
            compression: Compression::None,
            items_per_request: 512,
            concurrency: 4,
            rate: 0.0,
            duration: None,
            items: None,
            clusters: 3,
            services: 5,
            error_ratio: 0.01,
            latency_p50_ms: 40.0,
            token: None,
            headers: Vec::new(),
            seed: 1,
            report: ReportFormat::Text,
            decode_baseline: false,
            sink: None,
        }
    }
}

/// Validated arguments: everything `run` needs, with defaults resolved.
#[derive(Clone)]
pub(crate) struct Settings {
    pub signal: Signal,
    pub protocol: Protocol,
    pub encoding: Encoding,
    pub compression: Compression,
    /// gRPC: `http://host:port`; HTTP: the full `http://host:port/base/v1/<signal>` URI.
    pub uri: Uri,
    /// Authorization and `--header` headers (no content headers).
    pub headers: HeaderMap,
    pub items_per_request: usize,
    pub concurrency: usize,
    /// Items per second; `None` for unlimited.
    pub rate: Option<f64>,
    pub duration: Option<Duration>,
    pub items: Option<u64>,
    pub content: ContentOpts,
    pub seed: u64,
    pub decode_baseline: bool,
}

/// The most items one request may carry: ten times what a 16 MiB request of the receiver
/// holds; past it the generator only spends memory (10^12 aborted after 4.5 GiB).
pub(crate) const MAX_ITEMS_PER_REQUEST: usize = 1_000_000;

/// The most concurrent requests (each a connection or stream and its buffers).
pub(crate) const MAX_CONCURRENCY: usize = 10_000;

/// The most clusters, and services per cluster, of the simulated fleet (every pair is a
/// resource the generator keeps).
pub(crate) const MAX_FLEET: usize = 1_000;

/// The lowest `--rate` other than 0: one item every 1,000 s (below it the pause between
/// requests overflows a `Duration`).
pub(crate) const MIN_RATE: f64 = 0.001;

/// A bad argument; the message names the flag.
fn invalid(message: impl Into<String>) -> LoadgenError {
    LoadgenError::InvalidArgument(message.into())
}

impl LoadgenArgs {
    /// Checks the arguments and resolves defaults.
    pub(crate) fn validate(&self) -> Result<Settings, LoadgenError> {
        if !(1..=MAX_ITEMS_PER_REQUEST).contains(&self.items_per_request) {
            return Err(invalid(format!(
                "--items-per-request must be between 1 and {MAX_ITEMS_PER_REQUEST}"
            )));
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(invalid(format!(
                "--concurrency must be between 1 and {MAX_CONCURRENCY}"
            )));
        }
        if !self.rate.is_finite() || self.rate < 0.0 || (self.rate > 0.0 && self.rate < MIN_RATE) {
            return Err(invalid(format!(
                "--rate must be 0 (no limit) or a number of items a second of at least {MIN_RATE}"
            )));
        }
        if self.items == Some(0) {
            return Err(invalid("--items must be at least 1"));
        }
        if !(1..=MAX_FLEET).contains(&self.clusters) || !(1..=MAX_FLEET).contains(&self.services) {
            return Err(invalid(format!(
                "--clusters and --services must be between 1 and {MAX_FLEET}"
            )));
        }
        if !(0.0..=1.0).contains(&self.error_ratio) {
            return Err(invalid("--error-ratio must be between 0 and 1"));
        }
        if !self.latency_p50_ms.is_finite() || self.latency_p50_ms <= 0.0 {
            return Err(invalid("--latency-p50-ms must be a positive number"));
        }
        if self.protocol == Protocol::Grpc && self.encoding == Encoding::Json {
            return Err(invalid("--encoding json needs --protocol http"));
        }
        let duration = match (self.duration, self.items) {
            (Some(d), _) => Some(Duration::from(d)),
            (None, Some(_)) => None,
            (None, None) => Some(Duration::from_secs(10)),
        };
        if duration == Some(Duration::ZERO) {
            return Err(invalid("--duration must be longer than zero"));
        }
        if duration.is_some_and(|d| d > crate::yaml::read::MAX_DURATION) {
            return Err(invalid("--duration must be at most 100y"));
        }
        Ok(Settings {
            signal: self.signal,
            protocol: self.protocol,
            encoding: self.encoding,
            compression: self.compression,
            uri: endpoint_uri(self.endpoint.as_deref(), self.protocol, self.signal)?,
            headers: self.request_headers()?,
            items_per_request: self.items_per_request,
            concurrency: self.concurrency,
            rate: (self.rate > 0.0).then_some(self.rate),
            duration,
            items: self.items,
            content: ContentOpts {
                clusters: self.clusters,
                services: self.services,
                error_ratio: self.error_ratio,
                latency_p50_ms: self.latency_p50_ms,
                ..ContentOpts::default()
            },
            seed: self.seed,
            decode_baseline: self.decode_baseline,
        })
    }

    fn request_headers(&self) -> Result<HeaderMap, LoadgenError> {
        let mut headers = HeaderMap::new();
        if let Some(token) = &self.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| invalid("--token holds characters not allowed in a header"))?;
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
        for raw in &self.headers {
            let (name, value) = raw
                .split_once('=')
                .ok_or_else(|| invalid(format!("--header {raw:?} is not key=value")))?;
            let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                invalid(format!("--header name {name:?} is not a valid header name"))
            })?;
            let value = HeaderValue::from_str(value.trim()).map_err(|_| {
                invalid(format!(
                    "--header {name} has a value not allowed in a header"
                ))
            })?;
            headers.append(name, value);
        }
        Ok(headers)
    }
}

/// Turns `--endpoint` into the URI requests go to.
pub(crate) fn endpoint_uri(
    endpoint: Option<&str>,
    protocol: Protocol,
    signal: Signal,
) -> Result<Uri, LoadgenError> {
    let default_port = match protocol {
        Protocol::Grpc => 4317,
        Protocol::Http => 4318,
    };
    let raw = endpoint.map(str::trim).unwrap_or(match protocol {
        Protocol::Grpc => "127.0.0.1:4317",
        Protocol::Http => "127.0.0.1:4318",
    });
    let bad = |reason: &str| invalid(format!("--endpoint {raw:?}: {reason}"));
    if raw.starts_with("https://") {
        return Err(bad(
            "tls is not supported by loadgen; use http:// or host:port",
        ));
    }
    let rest = raw.strip_prefix("http://").unwrap_or(raw);
    if rest.contains("://") {
        return Err(bad("only http:// endpoints are supported"));
    }
    let uri: Uri = format!("http://{rest}")
        .parse()
        .map_err(|_| bad("expected host:port or http://host:port"))?;
    let authority = uri.authority().ok_or_else(|| bad("missing host"))?;
    if authority.host().is_empty() {
        return Err(bad("missing host"));
    }
    let port = authority.port_u16().unwrap_or(default_port);
    let host = authority.host();
    let base = uri.path().trim_end_matches('/');
    if uri.query().is_some() {
        return Err(bad("a query string is not allowed"));
    }
    let full = match protocol {
        Protocol::Grpc if !base.is_empty() => return Err(bad("a gRPC endpoint has no path")),
        Protocol::Grpc => format!("http://{host}:{port}"),
        Protocol::Http => format!("http://{host}:{port}{base}/v1/{}", signal.as_str()),
    };
    full.parse()
        .map_err(|_| bad("expected host:port or http://host:port"))
}
