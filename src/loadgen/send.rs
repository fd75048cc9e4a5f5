//! Sending: workers, the shared rate limiter, the gRPC and HTTP clients, how answers are
//! classified, and the request-latency histogram.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{BufMut as _, Bytes};
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderValue, Method, Uri};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::time::{Duration, Instant};
use tonic::codec::{Codec, CompressionEncoding, EncodeBuf, Encoder};
use tonic::metadata::MetadataMap;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use super::args::{Compression, Encoding, Protocol, Settings, Signal};
use super::{LatencySummary, LoadgenError, Pool, REFRESH_PERIOD, Recipe, Report, per_second};

/// How long one request may take before it counts as a transport failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest response body read from an OTLP/HTTP server.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Runs the workers until the duration or item budget is spent.
pub(crate) async fn send(
    settings: Settings,
    recipe: Recipe,
    pool: Arc<Pool>,
) -> Result<Report, LoadgenError> {
    let mut targets = Vec::with_capacity(settings.concurrency);
    if settings.protocol == Protocol::Grpc {
        for _ in 0..settings.concurrency {
            targets.push(Target::Grpc(Box::new(
                GrpcTarget::connect(&settings).await?,
            )));
        }
    } else {
        let http = HttpTarget::connect(&settings).await?;
        targets.resize_with(settings.concurrency, || {
            Target::Http(Box::new(http.clone()))
        });
    }
    let limiter = settings.rate.map(|rate| Arc::new(RateLimiter::new(rate)));
    let next_request = Arc::new(AtomicU64::new(0));
    let refresher = tokio::spawn(refresh(Arc::clone(&pool), recipe));
    let start = Instant::now();
    let deadline = settings.duration.map(|d| start + d);
    let workers: Vec<_> = targets
        .into_iter()
        .map(|target| {
            let job = Job {
                pool: Arc::clone(&pool),
                next_request: Arc::clone(&next_request),
                limiter: limiter.clone(),
                deadline,
            };
            tokio::spawn(worker(target, job))
        })
        .collect();
    let mut report = Report::new("send", &settings);
    let mut latency = LatencyHistogram::default();
    let mut failure = None;
    for handle in workers {
        match handle.await {
            Ok((part, part_latency)) => {
                report.merge(part);
                latency.merge(&part_latency);
            }
            Err(e) => failure = Some(LoadgenError::Task(e)),
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    refresher.abort();
    if let Some(e) = failure {
        return Err(e);
    }
    report.latency_ms = latency.summary();
    report.elapsed_seconds = elapsed;
    report.sent_items_per_second = per_second(report.sent_items, elapsed);
    report.acknowledged_items_per_second = per_second(report.acknowledged_items, elapsed);
    Ok(report)
}

/// Regenerates one pool entry at a time so that every entry is rebuilt once per
/// [`REFRESH_PERIOD`] with current timestamps.
async fn refresh(pool: Arc<Pool>, recipe: Recipe) {
    let step = (REFRESH_PERIOD / pool.len().max(1) as u32).max(Duration::from_millis(50));
    let mut ticker = tokio::time::interval_at(Instant::now() + step, step);
    let recipe = Arc::new(recipe);
    for round in 1u64.. {
        for slot in 0..pool.len() {
            ticker.tick().await;
            let (pool, recipe) = (Arc::clone(&pool), Arc::clone(&recipe));
            // A failure leaves the old entry in place; it is still a valid request.
            let _ = tokio::task::spawn_blocking(move || pool.refresh(&recipe, slot, round)).await;
        }
    }
}

/// What every worker shares.
struct Job {
    pool: Arc<Pool>,
    next_request: Arc<AtomicU64>,
    limiter: Option<Arc<RateLimiter>>,
    deadline: Option<Instant>,
}

/// Sends requests one after another; returns its counts and latencies.
async fn worker(mut target: Target, job: Job) -> (Report, LatencyHistogram) {
    let (mut report, mut latency) = (Report::default(), LatencyHistogram::default());
    let past = |at: Instant| job.deadline.is_some_and(|d| at >= d);
    while !past(Instant::now()) {
        let n = job.next_request.fetch_add(1, Ordering::Relaxed);
        let Some(request) = job.pool.request(n) else {
            break;
        };
        if let Some(limiter) = &job.limiter {
            let at = limiter.reserve(Instant::now(), request.items);
            if past(at) {
                break;
            }
            tokio::time::sleep_until(at).await;
        }
        let bytes = request.body.len() as u64;
        let began = Instant::now();
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, target.send(request.body))
            .await
            .unwrap_or_else(|_| Outcome::refused(Class::Transport, "transport", "timed out"));
        latency.record(began.elapsed());
        report.record(request.items, bytes, outcome);
    }
    (report, latency)
}

/// Paces requests so that items leave at `rate` per second across all workers: a token
/// bucket holding one request's worth, so a stall is not followed by a catch-up burst.
pub(crate) struct RateLimiter {
    seconds_per_item: f64,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub(crate) fn new(items_per_second: f64) -> Self {
        let seconds_per_item = 1.0 / items_per_second;
        Self {
            seconds_per_item,
            next: Mutex::new(None),
        }
    }

    /// Books `items` and returns when they may be sent (never before `now`).
    pub(crate) fn reserve(&self, now: Instant, items: u64) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let at = next.map_or(now, |n| n.max(now));
        *next = Some(at + Duration::from_secs_f64(self.seconds_per_item * items as f64));
        at
    }
}

/// Why a request was refused, in the OTLP exporter's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Worth retrying later (UNAVAILABLE, 503, 429, …).
    Retryable,
    /// Never worth retrying (INVALID_ARGUMENT, 400, 401, …).
    Permanent,
    /// No answer: connect failure, reset, timeout.
    Transport,
}

/// How the server answered one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// OK / 2xx; `rejected` from `partial_success`, `None` when the answer was unreadable.
    Acknowledged { rejected: Option<u64> },
    /// `answer` names the status (`grpc UNAVAILABLE`, `http 503`, `transport`).
    Refused {
        class: Class,
        answer: String,
        message: String,
    },
}

impl Outcome {
    pub(crate) fn refused(
        class: Class,
        answer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Outcome::Refused {
            class,
            answer: answer.into(),
            message: message.into(),
        }
    }
}

impl Report {
    /// Counts one request of `items` items and `bytes` body bytes.
    pub(crate) fn record(&mut self, items: u64, bytes: u64, outcome: Outcome) {
        self.requests += 1;
        self.sent_items += items;
        self.sent_bytes += bytes;
        match outcome {
            Outcome::Acknowledged { rejected } => {
                if rejected.is_none() {
                    *self
                        .errors
                        .entry("unreadable ok answer".to_string())
                        .or_default() += 1;
                }
                let rejected = rejected.unwrap_or(0).min(items);
                self.rejected_items += rejected;
                self.acknowledged_items += items - rejected;
            }
            Outcome::Refused {
                class,
                answer,
                message,
            } => {
                let r = &mut self.refused;
                let (i, n) = match class {
                    Class::Retryable => (&mut r.retryable_items, &mut r.retryable_requests),
                    Class::Permanent => (&mut r.permanent_items, &mut r.permanent_requests),
                    Class::Transport => (&mut r.transport_items, &mut r.transport_requests),
                };
                (*i, *n) = (*i + items, *n + 1);
                self.last_error = Some(format!("{answer}: {message}"));
                *self.errors.entry(answer).or_default() += 1;
            }
        }
    }

    /// Adds the counts of another worker.
    fn merge(&mut self, other: Report) {
        self.requests += other.requests;
        self.sent_items += other.sent_items;
        self.sent_bytes += other.sent_bytes;
        self.acknowledged_items += other.acknowledged_items;
        self.rejected_items += other.rejected_items;
        let (r, o) = (&mut self.refused, other.refused);
        r.retryable_items += o.retryable_items;
        r.retryable_requests += o.retryable_requests;
        r.permanent_items += o.permanent_items;
        r.permanent_requests += o.permanent_requests;
        r.transport_items += o.transport_items;
        r.transport_requests += o.transport_requests;
        for (answer, n) in other.errors {
            *self.errors.entry(answer).or_default() += n;
        }
        self.last_error = other.last_error.or(self.last_error.take());
    }
}

/// Log-linear histogram of microseconds: exact below 8 µs, then 8 sub-buckets per power of
/// two (at most 6% from the true value).
pub(crate) struct LatencyHistogram {
    counts: Vec<u64>,
    total: u64,
    max_us: u64,
}

const LATENCY_BUCKETS: usize = 8 + 61 * 8;

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            counts: vec![0; LATENCY_BUCKETS],
            total: 0,
            max_us: 0,
        }
    }
}

impl LatencyHistogram {
    fn index(us: u64) -> usize {
        if us < 8 {
            return us as usize;
        }
        let exp = 63 - us.leading_zeros() as usize; // at least 3
        let sub = ((us >> (exp - 3)) & 7) as usize;
        (8 + (exp - 3) * 8 + sub).min(LATENCY_BUCKETS - 1)
    }

    fn lower_bound(index: usize) -> u128 {
        if index < 8 {
            return index as u128;
        }
        let (exp, sub) = ((index - 8) / 8 + 3, (index - 8) % 8);
        (8 + sub as u128) << (exp - 3)
    }

    pub(crate) fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.counts[Self::index(us)] += 1;
        self.total += 1;
        self.max_us = self.max_us.max(us);
    }

    fn merge(&mut self, other: &LatencyHistogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max_us = self.max_us.max(other.max_us);
    }

    /// The value at quantile `q` in microseconds (middle of its bucket, at most the maximum).
    pub(crate) fn quantile_us(&self, q: f64) -> f64 {
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total.max(1));
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let (low, high) = (Self::lower_bound(index), Self::lower_bound(index + 1));
                let middle = if index < 8 { low } else { (low + high) / 2 };
                return (middle as f64).min(self.max_us as f64);
            }
        }
        0.0
    }

    fn summary(&self) -> LatencySummary {
        let ms = |us: f64| (us / 10.0).round() / 100.0;
        LatencySummary {
            p50: ms(self.quantile_us(0.5)),
            p90: ms(self.quantile_us(0.9)),
            p99: ms(self.quantile_us(0.99)),
            max: ms(self.max_us as f64),
        }
    }
}

/// One worker's connection.
enum Target {
    Grpc(Box<GrpcTarget>),
    Http(Box<HttpTarget>),
}

impl Target {
    async fn send(&mut self, body: Bytes) -> Outcome {
        match self {
            Target::Grpc(t) => t.send(body).await,
            Target::Http(t) => t.send(body).await,
        }
    }
}

/// The shape shared by `Export{Trace,Metrics,Logs}ServiceResponse`: field 1 is
/// `partial_success`, whose field 1 is `rejected_spans`, `…_data_points` or `…_log_records`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ExportResponse {
    #[prost(message, optional, tag = "1")]
    pub partial_success: Option<PartialSuccess>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PartialSuccess {
    #[prost(int64, tag = "1")]
    pub rejected: i64,
    #[prost(string, tag = "2")]
    pub error_message: String,
}

impl ExportResponse {
    fn rejected(&self) -> u64 {
        self.partial_success
            .as_ref()
            .map_or(0, |p| p.rejected.max(0) as u64)
    }
}

/// Sends pre-encoded protobuf bytes as the request message, so no request is re-encoded;
/// on the wire this is exactly what the generated clients send.
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = ExportResponse;
    type Encoder = RawEncoder;
    type Decoder = tonic_prost::ProstDecoder<ExportResponse>;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::default()
    }
}

struct RawEncoder;

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

struct GrpcTarget {
    client: tonic::client::Grpc<Channel>,
    path: PathAndQuery,
    metadata: MetadataMap,
}

impl GrpcTarget {
    /// Opens one HTTP/2 connection.
    async fn connect(s: &Settings) -> Result<Self, LoadgenError> {
        let channel = Endpoint::from(s.uri.clone())
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .connect()
            .await
            .map_err(|e| connect_error(s, e.into()))?;
        let mut client = tonic::client::Grpc::new(channel);
        match s.compression {
            Compression::None => {}
            Compression::Gzip => client = client.send_compressed(CompressionEncoding::Gzip),
            Compression::Zstd => client = client.send_compressed(CompressionEncoding::Zstd),
        }
        let path = PathAndQuery::from_static(match s.signal {
            Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        });
        let metadata = MetadataMap::from_headers(s.headers.clone());
        Ok(Self {
            client,
            path,
            metadata,
        })
    }

    async fn send(&mut self, body: Bytes) -> Outcome {
        if let Err(e) = self.client.ready().await {
            return Outcome::refused(Class::Transport, "transport", error_chain(&e));
        }
        let mut request = tonic::Request::new(body);
        *request.metadata_mut() = self.metadata.clone();
        match self
            .client
            .unary(request, self.path.clone(), RawCodec)
            .await
        {
            Ok(response) => Outcome::Acknowledged {
                rejected: Some(response.get_ref().rejected()),
            },
            Err(status) => classify_status(&status),
        }
    }
}

/// Sorts a gRPC error into the OTLP exporter's classes.
pub(crate) fn classify_status(status: &Status) -> Outcome {
    // Statuses tonic makes up for connection failures carry the transport error as source.
    if std::error::Error::source(status).is_some() {
        return Outcome::refused(Class::Transport, "transport", error_chain(status));
    }
    let class = match status.code() {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => Class::Retryable,
        Code::ResourceExhausted
            if tonic_types::StatusExt::get_details_retry_info(status).is_some() =>
        {
            Class::Retryable
        }
        _ => Class::Permanent,
    };
    // `ResourceExhausted` → `RESOURCE_EXHAUSTED`, as the gRPC spec spells codes.
    let mut name = String::new();
    for (i, c) in format!("{:?}", status.code()).chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    Outcome::refused(class, format!("grpc {name}"), status.message())
}

fn connect_error(s: &Settings, source: Box<dyn std::error::Error + Send + Sync>) -> LoadgenError {
    LoadgenError::Connect {
        endpoint: s.uri.to_string(),
        source,
    }
}

/// An error and its sources, joined with ": ".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = e.source();
    }
    text
}

#[derive(Clone)]
struct HttpTarget {
    client: Client<HttpConnector, Full<Bytes>>,
    uri: Uri,
    headers: HeaderMap,
}

impl HttpTarget {
    /// Builds the shared client after checking that the server accepts connections.
    async fn connect(s: &Settings) -> Result<Self, LoadgenError> {
        let authority = s.uri.authority().map_or("", |a| a.as_str());
        let connect = tokio::net::TcpStream::connect(authority);
        match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(connect_error(s, e.into())),
            Err(_) => return Err(connect_error(s, "connection timed out".into())),
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(s.concurrency)
            .build(connector);
        let mut headers = s.headers.clone();
        let content_type = match s.encoding {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        };
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        let content_encoding = match s.compression {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
        };
        if let Some(encoding) = content_encoding {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        Ok(Self {
            client,
            uri: s.uri.clone(),
            headers,
        })
    }

    async fn send(&self, body: Bytes) -> Outcome {
        let mut request = http::Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        let response = match self.client.request(request).await {
            Ok(response) => response,
            Err(e) => return Outcome::refused(Class::Transport, "transport", error_chain(&e)),
        };
        let status = response.status();
        let json = response
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        let body = match Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(e) => {
                let message = format!("reading the answer: {e}");
                return Outcome::refused(Class::Transport, "transport", message);
            }
        };
        if status.is_success() {
            return Outcome::Acknowledged {
                rejected: rejected_in_body(json, &body),
            };
        }
        let message = String::from_utf8_lossy(&body[..body.len().min(200)]);
        let class = match status.as_u16() {
            429 | 502 | 503 | 504 => Class::Retryable,
            _ => Class::Permanent,
        };
        Outcome::refused(class, format!("http {}", status.as_u16()), message.trim())
    }
}

/// `partial_success` rejections in an OTLP/HTTP answer of any signal; an empty body rejects
/// nothing; `None` when the body cannot be read.
pub(crate) fn rejected_in_body(json: bool, body: &[u8]) -> Option<u64> {
    use prost::Message as _;
    if body.is_empty() {
        return Some(0);
    }
    if !json {
        return ExportResponse::decode(body).ok().map(|r| r.rejected());
    }
    let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    let Some(partial) = answer.get("partialSuccess") else {
        return answer.is_object().then_some(0);
    };
    let keys = ["rejectedSpans", "rejectedDataPoints", "rejectedLogRecords"];
    let Some(value) = keys.iter().find_map(|k| partial.get(k)) else {
        return Some(0);
    };
    // int64 may be a JSON number or, per the protobuf JSON mapping, a string.
    let rejected = value.as_i64().or_else(|| value.as_str()?.parse().ok())?;
    Some(rejected.max(0) as u64)
}
