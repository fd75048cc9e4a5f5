//! Sending: workers, the shared rate limiter, the gRPC and HTTP clients, and how answers are
//! classified and tallied.

use std::collections::BTreeMap;
use std::marker::PhantomData;
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
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
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
    match settings.protocol {
        Protocol::Grpc => {
            for _ in 0..settings.concurrency {
                targets.push(Target::Grpc(GrpcTarget::connect(&settings).await?));
            }
        }
        Protocol::Http => {
            let http = HttpTarget::connect(&settings).await?;
            targets.extend((0..settings.concurrency).map(|_| Target::Http(Box::new(http.clone()))));
        }
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
    let mut tally = Tally::default();
    let mut failure = None;
    for handle in workers {
        match handle.await {
            Ok(t) => tally.merge(t),
            Err(e) => failure = Some(LoadgenError::Task(e)),
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    refresher.abort();
    if let Some(e) = failure {
        return Err(e);
    }
    let mut report = Report::new("send", &settings);
    report.requests = tally.requests;
    report.sent_items = tally.sent_items;
    report.sent_bytes = tally.sent_bytes;
    report.acknowledged_items = tally.acknowledged_items;
    report.rejected_items = tally.rejected_items;
    report.latency_ms = tally.latency.summary();
    report.refused = tally.refused;
    report.errors = tally.errors;
    report.last_error = tally.last_error;
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
            // Failures leave the old entry in place; it is still a valid request.
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

async fn worker(mut target: Target, job: Job) -> Tally {
    let mut tally = Tally::default();
    loop {
        if job.deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let Some(request) = job
            .pool
            .request(job.next_request.fetch_add(1, Ordering::Relaxed))
        else {
            break;
        };
        if let Some(limiter) = &job.limiter {
            let at = limiter.reserve(Instant::now(), request.items);
            if job.deadline.is_some_and(|d| at >= d) {
                break;
            }
            tokio::time::sleep_until(at).await;
        }
        let bytes = request.body.len() as u64;
        let began = Instant::now();
        let outcome = match tokio::time::timeout(REQUEST_TIMEOUT, target.send(request.body)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Transport("request timed out".to_string()),
        };
        tally.record(request.items, bytes, began.elapsed(), outcome);
    }
    tally
}

/// Paces requests so that items leave at `rate` per second across all workers: a token
/// bucket holding one request's worth, so a stall is not followed by a catch-up burst.
pub(crate) struct RateLimiter {
    seconds_per_item: f64,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub(crate) fn new(items_per_second: f64) -> Self {
        Self {
            seconds_per_item: 1.0 / items_per_second,
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

/// How the server answered one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// OK / 2xx; `rejected` from `partial_success`, `None` when the answer was unreadable.
    Acknowledged {
        rejected: Option<u64>,
    },
    Retryable {
        answer: String,
        message: String,
    },
    Permanent {
        answer: String,
        message: String,
    },
    Transport(String),
}

/// Per-worker counters, merged at the end.
#[derive(Default)]
pub(crate) struct Tally {
    pub requests: u64,
    pub sent_items: u64,
    pub sent_bytes: u64,
    pub acknowledged_items: u64,
    pub rejected_items: u64,
    pub refused: super::Refused,
    pub errors: BTreeMap<String, u64>,
    pub last_error: Option<String>,
    pub latency: LatencyHistogram,
}

impl Tally {
    pub(crate) fn record(&mut self, items: u64, bytes: u64, latency: Duration, outcome: Outcome) {
        self.requests += 1;
        self.sent_items += items;
        self.sent_bytes += bytes;
        self.latency.record(latency);
        let r = &mut self.refused;
        let (answer, message) = match outcome {
            Outcome::Acknowledged { rejected } => {
                let rejected = rejected.unwrap_or_else(|| {
                    *self
                        .errors
                        .entry("unreadable ok answer".to_string())
                        .or_default() += 1;
                    0
                });
                let rejected = rejected.min(items);
                self.rejected_items += rejected;
                self.acknowledged_items += items - rejected;
                return;
            }
            Outcome::Retryable { answer, message } => {
                (r.retryable_items, r.retryable_requests) =
                    (r.retryable_items + items, r.retryable_requests + 1);
                (answer, message)
            }
            Outcome::Permanent { answer, message } => {
                (r.permanent_items, r.permanent_requests) =
                    (r.permanent_items + items, r.permanent_requests + 1);
                (answer, message)
            }
            Outcome::Transport(message) => {
                (r.transport_items, r.transport_requests) =
                    (r.transport_items + items, r.transport_requests + 1);
                ("transport".to_string(), message)
            }
        };
        *self.errors.entry(answer.clone()).or_default() += 1;
        self.last_error = Some(format!("{answer}: {message}"));
    }

    pub(crate) fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        self.sent_items += other.sent_items;
        self.sent_bytes += other.sent_bytes;
        self.acknowledged_items += other.acknowledged_items;
        self.rejected_items += other.rejected_items;
        let (r, o) = (&mut self.refused, &other.refused);
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
        self.latency.merge(&other.latency);
    }
}

/// Log-linear histogram of microseconds: exact below 8 µs, then 8 sub-buckets per power of two.
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
        let exp = 63 - us.leading_zeros() as usize; // >= 3
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
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let (low, high) = (Self::lower_bound(index), Self::lower_bound(index + 1));
                let middle = if index < 8 {
                    low as f64
                } else {
                    (low + high) as f64 / 2.0
                };
                return middle.min(self.max_us as f64);
            }
        }
        self.max_us as f64
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
    Grpc(GrpcTarget),
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

/// `partial_success.rejected_*` of an export response.
trait Rejected {
    fn rejected(&self) -> u64;
}

impl Rejected for ExportTraceServiceResponse {
    fn rejected(&self) -> u64 {
        self.partial_success
            .as_ref()
            .map_or(0, |p| p.rejected_spans.max(0) as u64)
    }
}

impl Rejected for ExportMetricsServiceResponse {
    fn rejected(&self) -> u64 {
        self.partial_success
            .as_ref()
            .map_or(0, |p| p.rejected_data_points.max(0) as u64)
    }
}

impl Rejected for ExportLogsServiceResponse {
    fn rejected(&self) -> u64 {
        self.partial_success
            .as_ref()
            .map_or(0, |p| p.rejected_log_records.max(0) as u64)
    }
}

/// Sends pre-encoded protobuf bytes as the request message; decodes the response with prost.
/// The wire format is what the generated clients send, without re-encoding every request.
struct RawCodec<R>(PhantomData<R>);

impl<R: prost::Message + Default + Send + 'static> Codec for RawCodec<R> {
    type Encode = Bytes;
    type Decode = R;
    type Encoder = RawEncoder;
    type Decoder = tonic_prost::ProstDecoder<R>;

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
    signal: Signal,
    metadata: MetadataMap,
}

impl GrpcTarget {
    async fn connect(s: &Settings) -> Result<Self, LoadgenError> {
        let connect_error = |source: tonic::transport::Error| LoadgenError::Connect {
            endpoint: s.uri.to_string(),
            source: Box::new(source),
        };
        let channel = Endpoint::from(s.uri.clone())
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .connect()
            .await
            .map_err(connect_error)?;
        let mut client = tonic::client::Grpc::new(channel);
        match s.compression {
            Compression::None => {}
            Compression::Gzip => client = client.send_compressed(CompressionEncoding::Gzip),
            Compression::Zstd => client = client.send_compressed(CompressionEncoding::Zstd),
        }
        Ok(Self {
            client,
            signal: s.signal,
            metadata: MetadataMap::from_headers(s.headers.clone()),
        })
    }

    async fn send(&mut self, body: Bytes) -> Outcome {
        if let Err(e) = self.client.ready().await {
            return Outcome::Transport(error_chain(&e));
        }
        let mut request = tonic::Request::new(body);
        *request.metadata_mut() = self.metadata.clone();
        let result = match self.signal {
            Signal::Traces => {
                self.call::<ExportTraceServiceResponse>(
                    request,
                    "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                )
                .await
            }
            Signal::Metrics => {
                self.call::<ExportMetricsServiceResponse>(
                    request,
                    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
                )
                .await
            }
            Signal::Logs => {
                self.call::<ExportLogsServiceResponse>(
                    request,
                    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
                )
                .await
            }
        };
        match result {
            Ok(rejected) => Outcome::Acknowledged {
                rejected: Some(rejected),
            },
            Err(status) => classify_status(&status),
        }
    }

    async fn call<R>(
        &mut self,
        request: tonic::Request<Bytes>,
        path: &'static str,
    ) -> Result<u64, Status>
    where
        R: prost::Message + Default + Rejected + Send + Sync + 'static,
    {
        let codec = RawCodec::<R>(PhantomData);
        let response = self
            .client
            .unary(request, PathAndQuery::from_static(path), codec)
            .await?;
        Ok(response.into_inner().rejected())
    }
}

/// Sorts a gRPC error into the OTLP exporter's classes.
pub(crate) fn classify_status(status: &Status) -> Outcome {
    let message = status.message().to_string();
    // Statuses tonic makes up for connection failures carry the transport error as source.
    if std::error::Error::source(status).is_some() {
        return Outcome::Transport(error_chain(status));
    }
    let answer = format!("grpc {}", code_name(status.code()));
    let retryable = match status.code() {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => true,
        Code::ResourceExhausted => tonic_types::StatusExt::get_details_retry_info(status).is_some(),
        _ => false,
    };
    if retryable {
        Outcome::Retryable { answer, message }
    } else {
        Outcome::Permanent { answer, message }
    }
}

fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// An error and its sources, joined with ": ".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
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
    signal: Signal,
}

impl HttpTarget {
    /// Builds the shared client after checking that the server accepts connections.
    async fn connect(s: &Settings) -> Result<Self, LoadgenError> {
        let authority = s
            .uri
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        let connect_error =
            |source: Box<dyn std::error::Error + Send + Sync>| LoadgenError::Connect {
                endpoint: s.uri.to_string(),
                source,
            };
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(&authority))
            .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(connect_error(Box::new(e))),
            Err(_) => return Err(connect_error("connection timed out".into())),
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
        match s.compression {
            Compression::None => {}
            Compression::Gzip => {
                _ = headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"))
            }
            Compression::Zstd => {
                _ = headers.insert(CONTENT_ENCODING, HeaderValue::from_static("zstd"))
            }
        }
        Ok(Self {
            client,
            uri: s.uri.clone(),
            headers,
            signal: s.signal,
        })
    }

    async fn send(&self, body: Bytes) -> Outcome {
        let mut request = http::Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        let response = match self.client.request(request).await {
            Ok(response) => response,
            Err(e) => return Outcome::Transport(error_chain(&e)),
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
            Err(e) => return Outcome::Transport(format!("reading the response: {e}")),
        };
        if status.is_success() {
            return Outcome::Acknowledged {
                rejected: rejected_in_body(self.signal, json, &body),
            };
        }
        let answer = format!("http {}", status.as_u16());
        let message = String::from_utf8_lossy(&body[..body.len().min(200)])
            .trim()
            .to_string();
        match status.as_u16() {
            429 | 502 | 503 | 504 => Outcome::Retryable { answer, message },
            _ => Outcome::Permanent { answer, message },
        }
    }
}

/// `partial_success` rejections in an OTLP/HTTP answer; an empty body rejects nothing.
pub(crate) fn rejected_in_body(signal: Signal, json: bool, body: &[u8]) -> Option<u64> {
    fn read<R: prost::Message + Default + serde::de::DeserializeOwned + Rejected>(
        json: bool,
        body: &[u8],
    ) -> Option<u64> {
        let response: R = if json {
            serde_json::from_slice(body).ok()?
        } else {
            R::decode(body).ok()?
        };
        Some(response.rejected())
    }
    if body.is_empty() {
        return Some(0);
    }
    match signal {
        Signal::Traces => read::<ExportTraceServiceResponse>(json, body),
        Signal::Metrics => read::<ExportMetricsServiceResponse>(json, body),
        Signal::Logs => read::<ExportLogsServiceResponse>(json, body),
    }
}
