//! OTLP/gRPC: `TraceService`, `MetricsService` and `LogsService` `Export`.
//!
//! tonic answers the call (routing, status, response framing); the handler reads the body
//! itself (`take_message`): a unary call carries one message, which is taken out of the
//! body as read and handed to [`Receiver::export`], while tonic gets an empty message in
//! its place (it would copy the real one into its own buffer). Compressed messages (gzip,
//! zstd) are decompressed here in one call under the message-size limit, charged to the
//! memory budget, so a compression bomb stops at the limit, and kept as received for
//! forwarding. A body with more than one message is refused (a unary call carries
//! exactly one); one that is not a whole message goes to tonic, which refuses it as the
//! protocol says (its codec hands raw bytes over). Both protocols share
//! [`Receiver::export`].

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
    /// The message, when it was taken out of the body here: tonic was handed an empty one.
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
        match take_message(req, state.max_message_size, &state.receiver).await {
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

/// The message taken out of the body by [`take_message`], when it took one: the compressed
/// body as received (compressed requests), the message, and the charge of its decompressed
/// form.
type Taken = (Option<Wire>, Option<Bytes>, Option<Charge>);

/// Reads the body of a request that carries one whole gRPC message and takes the message
/// out of it, so that tonic (which would copy the message into its own buffer) is handed an
/// empty message in its place and only answers the call; the handler takes the message.
///
/// An uncompressed message is a slice of the body as read. A compressed one (`grpc-encoding`
/// gzip or zstd) is kept as received (so that an exporter compressing the same way
/// forwards it instead of compressing the decompressed request again) and decompressed
/// here, charging the memory budget as the output grows. A body with more than one message
/// is refused; one that is not a whole message, or in an encoding not read here, goes to
/// tonic as read: it answers as the protocol says.
async fn take_message(
    req: Request,
    max_message_size: usize,
    receiver: &Receiver,
) -> Result<(Request, Taken), (Status, RefuseReason)> {
    let compression = match req.headers().get("grpc-encoding").map(|v| v.as_bytes()) {
        None | Some(b"identity") => Compression::None,
        Some(b"gzip") => Compression::Gzip,
        Some(b"zstd") => Compression::Zstd,
        // tonic refuses the encoding from the headers.
        Some(_) => return Ok((req, (None, None, None))),
    };
    let (mut parts, body) = req.into_parts();
    // tonic refuses a message over the limit before reading it whole, so a larger body is
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
    let empty = || Bytes::from_static(&[0; FRAME_HEADER]);
    let message = match only_message(&bytes) {
        Some((false, message)) => {
            // Uncompressed (the message flag says so, whatever the header says).
            parts.headers.remove("grpc-encoding");
            let req = Request::from_parts(parts, axum::body::Body::from(empty()));
            return Ok((req, (None, Some(message), None)));
        }
        Some((true, message)) if compression != Compression::None => message,
        _ => {
            // A unary call carries exactly one message. A body with more after its first
            // (tonic would take the first and drop the rest, unread), or a compressed
            // message that is not the whole body (tonic would decompress it outside the
            // memory budget), is refused.
            let stated = bytes
                .get(1..FRAME_HEADER)
                .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize);
            let more = stated.is_some_and(|len| bytes.len() - FRAME_HEADER > len);
            if more || (bytes.first() == Some(&1) && compression != Compression::None) {
                let status = Status::invalid_argument(
                    "a unary export call carries exactly one message, and this body is not one",
                );
                return Err((status, RefuseReason::Invalid));
            }
            // Not one message, or compressed without an encoding: tonic answers as the
            // protocol says.
            return Ok((
                Request::from_parts(parts, axum::body::Body::from(bytes)),
                (None, None, None),
            ));
        }
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
    Ok((
        Request::from_parts(parts, axum::body::Body::from(empty())),
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

/// The message of a body holding exactly one gRPC message, and whether it is compressed
/// (its flag); `None` when the body is not one whole message.
fn only_message(body: &Bytes) -> Option<(bool, Bytes)> {
    let header = body.get(..FRAME_HEADER)?;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    let compressed = match header[0] {
        0 => false,
        1 => true,
        _ => return None,
    };
    (body.len() - FRAME_HEADER == len).then(|| (compressed, body.slice(FRAME_HEADER..)))
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
