//! OTLP/gRPC: `TraceService`, `MetricsService` and `LogsService` `Export`.
//!
//! tonic handles framing and the message-size limit. Compressed messages (gzip, zstd) are
//! decompressed here in one call under the same limit, charged to the memory budget (see
//! `keep_compressed`), so a compression bomb stops at the limit. The codec here does not
//! decode: it hands the raw message bytes to the handler, which keeps
//! the request bytes reachable for a faster, non-allocating decoder on the hot path later
//! and lets both protocols share [`Receiver::export`].

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{Request, State};
use axum::routing::post;
use bytes::{Buf, Bytes};
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tonic::codec::{
    Codec, CompressionEncoding, DecodeBuf, Decoder, EnabledCompressionEncodings, EncodeBuf, Encoder,
};
use tonic::server::{Grpc, UnaryService};
use tonic::{Status, body::Body as GrpcBody};

use super::body::{GuardedBody, decompress};
use super::otlp::{Format, OtlpRequest};
use super::{Identity, ReceiveError, Receiver};
use crate::pipeline::Wire;
use crate::pipeline::budget::Charge;
use crate::signal::Compression;
use crate::signal::Protocol;
use crate::telemetry::RefuseReason;

pub const TRACES_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
pub const METRICS_PATH: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
pub const LOGS_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// Encodes prost responses; decodes requests to their raw bytes.
struct RawCodec<Resp>(PhantomData<Resp>);

impl<Resp> Default for RawCodec<Resp> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

struct ProstEncoder<Resp>(PhantomData<Resp>);

impl<Resp: prost::Message> Encoder for ProstEncoder<Resp> {
    type Item = Resp;
    type Error = Status;

    fn encode(&mut self, item: Resp, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("cannot encode response: {e}")))
    }
}

struct BytesDecoder;

impl Decoder for BytesDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

impl<Resp: prost::Message + Send + 'static> Codec for RawCodec<Resp> {
    type Encode = Resp;
    type Decode = Bytes;
    type Encoder = ProstEncoder<Resp>;
    type Decoder = BytesDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        BytesDecoder
    }
}

/// The unary `Export` call of one signal.
struct ExportCall<R> {
    receiver: Arc<Receiver>,
    /// Who sent it, known from the headers before the body was read.
    identity: Option<Identity>,
    /// Set once the request reached [`Receiver::export`], which does its own accounting.
    reached: Arc<AtomicBool>,
    /// The compressed message as received, handed on with the request.
    wire: Option<Wire>,
    /// The message, when it was decompressed here: tonic was handed an empty one.
    message: Option<Bytes>,
    _req: PhantomData<fn() -> R>,
}

impl<R: OtlpRequest> UnaryService<Bytes> for ExportCall<R> {
    type Response = R::Response;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<tonic::Response<R::Response>, Status>> + Send>,
    >;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        self.reached.store(true, Ordering::Relaxed);
        let body = self.message.take().unwrap_or_else(|| request.into_inner());
        let receiver = self.receiver.clone();
        let identity = self.identity.take();
        let wire = self.wire.take();
        Box::pin(async move {
            let accepted = receiver
                .export::<R>(Protocol::Grpc, identity, body, wire, Format::Protobuf)
                .await;
            match accepted {
                Ok(a) => a
                    .wait()
                    .await
                    .map(tonic::Response::new)
                    .map_err(|e| e.to_status()),
                Err(e) => Err(e.to_status()),
            }
        })
    }
}

#[derive(Clone)]
struct GrpcState {
    receiver: Arc<Receiver>,
    max_message_size: usize,
}

async fn export<R: OtlpRequest>(
    State(state): State<GrpcState>,
    req: Request,
) -> http::Response<GrpcBody> {
    // Strangers are refused from the headers: no body is read for them.
    let identity = match state.receiver.authenticate(
        req.headers()
            .get(http::header::AUTHORIZATION)
            .map(|v| v.as_bytes()),
    ) {
        Ok(id) => id,
        Err(e) => {
            state
                .receiver
                .refused_request(Protocol::Grpc, R::SIGNAL, e.reason());
            return e.to_status().into_http();
        }
    };
    // Under overload, refused from the headers too: the body is never read.
    if let Err(e) = state.receiver.refuse_early(R::SIGNAL) {
        state
            .receiver
            .refused_request(Protocol::Grpc, R::SIGNAL, e.reason());
        return e.to_status().into_http();
    }
    let mut accept = EnabledCompressionEncodings::default();
    accept.enable(CompressionEncoding::Gzip);
    accept.enable(CompressionEncoding::Zstd);
    let mut grpc = Grpc::new(RawCodec::<R::Response>::default())
        .apply_compression_config(accept, EnabledCompressionEncodings::default())
        .apply_max_message_size_config(Some(state.max_message_size), None);
    let body_timeout = state.receiver.limits().body_timeout;
    let retry_after = state.receiver.retry_after();
    let (req, guard) = {
        let (parts, body) = req.into_parts();
        let (body, guard) = GuardedBody::new(body, body_timeout, state.receiver.budget().clone());
        (
            Request::from_parts(parts, axum::body::Body::new(body)),
            guard,
        )
    };
    let (req, (wire, message, _decompressed)) =
        match keep_compressed(req, state.max_message_size, &state.receiver).await {
            Ok(r) => r,
            Err((status, reason)) => {
                let (status, reason) = match guard.error(body_timeout, retry_after) {
                    Some(e) => (e.to_status(), e.reason()),
                    None => (status, reason),
                };
                state
                    .receiver
                    .refused_request(Protocol::Grpc, R::SIGNAL, reason);
                return status.into_http();
            }
        };
    let reached = Arc::new(AtomicBool::new(false));
    let call = ExportCall::<R> {
        receiver: state.receiver.clone(),
        identity,
        reached: reached.clone(),
        wire,
        message,
        _req: PhantomData,
    };
    let mut resp = grpc.unary(call, req).await;
    if reached.load(Ordering::Relaxed) {
        return resp;
    }
    if let Some(e) = guard.error(body_timeout, retry_after) {
        state
            .receiver
            .refused_request(Protocol::Grpc, R::SIGNAL, e.reason());
        return e.to_status().into_http();
    }
    // tonic refused the request before the handler saw it: framing, decompression or size.
    let status = resp.headers().get("grpc-status").map(|v| v.as_bytes());
    let reason = match status {
        // tonic refuses a message over the size limit with OUT_OF_RANGE, which OTLP clients
        // treat as retryable: they would resend it forever. Oversize is permanent.
        Some(b"11") => {
            resp.headers_mut()
                .insert("grpc-status", http::HeaderValue::from_static("8"));
            RefuseReason::TooLarge
        }
        Some(b"8") => RefuseReason::TooLarge,
        Some(b"12") => RefuseReason::Unsupported,
        _ => RefuseReason::Invalid,
    };
    state
        .receiver
        .refused_request(Protocol::Grpc, R::SIGNAL, reason);
    resp
}

/// The decompressed message, when [`keep_compressed`] decompressed one.
type Decompressed = (Option<Wire>, Option<Bytes>, Option<Charge>);

/// For a compressed request (`grpc-encoding` gzip or zstd), reads the body, keeps the
/// compressed message (so that an exporter compressing the same way forwards it instead of
/// compressing the decompressed request again) and decompresses it here, charging the
/// memory budget as the output grows. tonic is then handed an empty uncompressed message
/// in its place (it would copy the real one into its own buffer) and still answers the
/// call; the handler takes the decompressed message. Uncompressed requests pass through
/// untouched.
async fn keep_compressed(
    req: Request,
    max_message_size: usize,
    receiver: &Receiver,
) -> Result<(Request, Decompressed), (Status, RefuseReason)> {
    let compression = match req.headers().get("grpc-encoding").map(|v| v.as_bytes()) {
        Some(b"gzip") => Compression::Gzip,
        Some(b"zstd") => Compression::Zstd,
        _ => return Ok((req, (None, None, None))),
    };
    let (mut parts, body) = req.into_parts();
    // tonic refuses a message over the limit before decompressing it, so a larger body is
    // refused here the same way.
    let limit = max_message_size.saturating_add(FRAME_HEADER);
    let bytes = match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            let status = Status::resource_exhausted(format!(
                "request message is larger than the limit of {max_message_size} bytes"
            ));
            return Err((status, RefuseReason::TooLarge));
        }
        Err(e) => {
            let status = Status::cancelled(format!("cannot read request: {e}"));
            return Err((status, RefuseReason::Invalid));
        }
    };
    let Some(message) = compressed_message(&bytes) else {
        if bytes.first() == Some(&1) {
            // A compressed message that is not the whole body (a unary call carries exactly
            // one): tonic would decompress it outside the memory budget.
            let status = Status::invalid_argument(
                "a unary export call carries exactly one message, and this body is not one",
            );
            return Err((status, RefuseReason::Invalid));
        }
        // Uncompressed despite the header (the message flag says so), or not a frame at
        // all: tonic answers as the protocol says.
        return Ok((
            Request::from_parts(parts, axum::body::Body::from(bytes)),
            (None, None, None),
        ));
    };
    let (budget, retry) = (receiver.budget().clone(), receiver.retry_after());
    let work = {
        let message = message.clone();
        move || decompress(&message, compression, max_message_size, &budget, retry)
    };
    let result = if message.len() > OFF_RUNTIME_BYTES {
        tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
            Err(ReceiveError::InvalidArgument(format!(
                "cannot decompress request: {e}"
            )))
        })
    } else {
        work()
    };
    let (decompressed, charge) = match result {
        Ok(r) => r,
        Err(e) => return Err((e.to_status(), e.reason())),
    };
    parts.headers.remove("grpc-encoding");
    let empty = Bytes::from_static(&[0; FRAME_HEADER]);
    Ok((
        Request::from_parts(parts, axum::body::Body::from(empty)),
        (
            Some(Wire {
                compression,
                body: message,
            }),
            Some(Bytes::from(decompressed)),
            Some(charge),
        ),
    ))
}

/// Compressed messages larger than this are decompressed on the blocking pool.
const OFF_RUNTIME_BYTES: usize = 64 * 1024;

/// Length of the gRPC message prefix: a compressed flag and a big-endian length.
const FRAME_HEADER: usize = 5;

/// The message of a body holding exactly one compressed gRPC message.
fn compressed_message(body: &Bytes) -> Option<Bytes> {
    let header = body.get(..FRAME_HEADER)?;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    (header[0] == 1 && body.len() - FRAME_HEADER == len).then(|| body.slice(FRAME_HEADER..))
}

async fn unimplemented(req: Request) -> http::Response<GrpcBody> {
    Status::unimplemented(format!("unknown method {}", req.uri().path())).into_http()
}

/// The gRPC routes.
pub fn router(receiver: Arc<Receiver>, max_message_size: usize) -> Router {
    Router::new()
        .route(TRACES_PATH, post(export::<ExportTraceServiceRequest>))
        .route(METRICS_PATH, post(export::<ExportMetricsServiceRequest>))
        .route(LOGS_PATH, post(export::<ExportLogsServiceRequest>))
        .fallback(unimplemented)
        .with_state(GrpcState {
            receiver,
            max_message_size,
        })
}
