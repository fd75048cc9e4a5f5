//! The OTLP clients, one per worker (gRPC over a tonic channel, or for compressed requests
//! over a plain HTTP/2 connection that sends the pool's compressed messages as they are;
//! HTTP over a pooled hyper client), and how their answers are classified the way an OTLP
//! exporter would:
//! acknowledged (with `partial_success` rejections), refused with retry, refused
//! permanently, or failed in transport.

use bytes::{BufMut as _, Bytes};
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderValue, Method, Uri};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::time::Duration;
use tonic::codec::{Codec, EncodeBuf, Encoder};
use tonic::metadata::MetadataMap;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use super::LoadgenError;
use super::args::{Encoding, Settings};
use crate::signal::{Compression, Protocol, Signal};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest response body read from an OTLP/HTTP server.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

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

    /// No answer: connect failure, reset, timeout.
    pub(crate) fn transport(message: impl Into<String>) -> Self {
        Outcome::refused(Class::Transport, "transport", message)
    }
}

/// One worker's connection.
pub(super) enum Target {
    Grpc(Box<GrpcTarget>),
    /// gRPC with messages compressed in the pool (tonic would compress each one again).
    Framed(Box<FramedGrpcTarget>),
    Http(Box<HttpTarget>),
}

impl Target {
    /// One target per worker: a connection each for gRPC, clones of one pooled client for
    /// HTTP.
    pub(super) async fn connect(settings: &Settings) -> Result<Vec<Target>, LoadgenError> {
        let mut targets = Vec::with_capacity(settings.concurrency);
        if settings.protocol == Protocol::Grpc && settings.compression != Compression::None {
            for _ in 0..settings.concurrency {
                let target = FramedGrpcTarget::connect(settings).await?;
                targets.push(Target::Framed(Box::new(target)));
            }
        } else if settings.protocol == Protocol::Grpc {
            for _ in 0..settings.concurrency {
                targets.push(Target::Grpc(Box::new(GrpcTarget::connect(settings).await?)));
            }
        } else {
            let http = HttpTarget::connect(settings).await?;
            targets.resize_with(settings.concurrency, || {
                Target::Http(Box::new(http.clone()))
            });
        }
        Ok(targets)
    }

    pub(super) async fn send(&mut self, body: Bytes) -> Outcome {
        match self {
            Target::Grpc(t) => t.send(body).await,
            Target::Framed(t) => t.send(body).await,
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

pub(super) struct GrpcTarget {
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
        // Uncompressed only: compressed messages go through `FramedGrpcTarget`.
        let client = tonic::client::Grpc::new(channel);
        let path = PathAndQuery::from_static(grpc_path(s.signal));
        let metadata = MetadataMap::from_headers(s.headers.clone());
        Ok(Self {
            client,
            path,
            metadata,
        })
    }

    async fn send(&mut self, body: Bytes) -> Outcome {
        if let Err(e) = self.client.ready().await {
            return Outcome::transport(error_chain(&e));
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

/// A gRPC client for messages compressed ahead: one HTTP/2 connection of its own, each
/// request one message flagged compressed with `grpc-encoding` set. The answer is read the
/// way tonic reads it (status from the trailers, or the headers of a trailers-only answer).
pub(super) struct FramedGrpcTarget {
    client: Client<HttpConnector, Full<Bytes>>,
    uri: Uri,
    headers: HeaderMap,
}

impl FramedGrpcTarget {
    async fn connect(s: &Settings) -> Result<Self, LoadgenError> {
        check_reachable(s).await?;
        // A client per worker: its pool holds this worker's one connection.
        let client = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build(connector());
        let path = grpc_path(s.signal);
        let mut parts = s.uri.clone().into_parts();
        parts.path_and_query = Some(PathAndQuery::from_static(path));
        let uri = Uri::from_parts(parts).map_err(|e| connect_error(s, e.into()))?;
        let mut headers = s.headers.clone();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(http::header::TE, HeaderValue::from_static("trailers"));
        let encoding = match s.compression {
            Compression::Zstd => "zstd",
            _ => "gzip",
        };
        headers.insert("grpc-encoding", HeaderValue::from_static(encoding));
        Ok(Self {
            client,
            uri,
            headers,
        })
    }

    async fn send(&self, message: Bytes) -> Outcome {
        let mut frame = bytes::BytesMut::with_capacity(message.len() + 5);
        frame.put_u8(1);
        frame.put_u32(u32::try_from(message.len()).unwrap_or(u32::MAX));
        frame.put_slice(&message);
        let mut request = http::Request::new(Full::new(frame.freeze()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        let response = match self.client.request(request).await {
            Ok(response) => response,
            Err(e) => return Outcome::transport(error_chain(&e)),
        };
        let status = response.status();
        let mut meta = response.headers().clone();
        let collected = match Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
        {
            Ok(collected) => collected,
            Err(e) => return Outcome::transport(format!("reading the answer: {e}")),
        };
        if !status.is_success() {
            return http_refusal(status, "");
        }
        if let Some(trailers) = collected.trailers() {
            meta.extend(trailers.clone());
        }
        let compressed = meta.get("grpc-encoding").and_then(|v| match v.as_bytes() {
            b"gzip" => Some(Compression::Gzip),
            b"zstd" => Some(Compression::Zstd),
            _ => None,
        });
        let body = collected.to_bytes();
        match Status::from_header_map(&meta) {
            None => Outcome::transport("gRPC answer without grpc-status"),
            Some(status) if status.code() != Code::Ok => classify_status(&status),
            Some(_) => Outcome::Acknowledged {
                rejected: answer_message(&body, compressed)
                    .and_then(|m| rejected_in_body(false, &m)),
            },
        }
    }
}

/// The message of a one-message gRPC answer body (empty when there is none).
fn answer_message(body: &[u8], encoding: Option<Compression>) -> Option<Vec<u8>> {
    if body.is_empty() {
        return Some(Vec::new());
    }
    let header = body.get(..5)?;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    let message = body.get(5..5 + len)?;
    match (header[0], encoding) {
        (0, _) => Some(message.to_vec()),
        (1, Some(c)) => super::pool::decompress(message, c).ok(),
        _ => None,
    }
}

fn grpc_path(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    }
}

/// A TCP connector with Nagle off and the connect timeout.
fn connector() -> HttpConnector {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
    connector
}

/// An HTTP error status in the OTLP exporter's classes.
fn http_refusal(status: http::StatusCode, message: &str) -> Outcome {
    let class = match status.as_u16() {
        429 | 502 | 503 | 504 => Class::Retryable,
        _ => Class::Permanent,
    };
    Outcome::refused(class, format!("http {}", status.as_u16()), message)
}

/// Fails early, with the endpoint in the error, when nothing accepts connections there.
async fn check_reachable(s: &Settings) -> Result<(), LoadgenError> {
    let authority = s.uri.authority().map_or("", |a| a.as_str());
    let connect = tokio::net::TcpStream::connect(authority);
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(connect_error(s, e.into())),
        Err(_) => Err(connect_error(s, "connection timed out".into())),
    }
}

/// Sorts a gRPC error into the OTLP exporter's classes.
pub(crate) fn classify_status(status: &Status) -> Outcome {
    // Statuses tonic makes up for connection failures carry the transport error as source.
    if std::error::Error::source(status).is_some() {
        return Outcome::transport(error_chain(status));
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
pub(super) struct HttpTarget {
    client: Client<HttpConnector, Full<Bytes>>,
    uri: Uri,
    headers: HeaderMap,
}

impl HttpTarget {
    /// Builds the shared client after checking that the server accepts connections.
    async fn connect(s: &Settings) -> Result<Self, LoadgenError> {
        check_reachable(s).await?;
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(s.concurrency)
            .build(connector());
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
            Err(e) => return Outcome::transport(error_chain(&e)),
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
                return Outcome::transport(message);
            }
        };
        if status.is_success() {
            return Outcome::Acknowledged {
                rejected: rejected_in_body(json, &body),
            };
        }
        let message = String::from_utf8_lossy(&body[..body.len().min(200)]);
        http_refusal(status, message.trim())
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
