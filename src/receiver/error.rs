//! Receiver errors and the one place they map to OTLP status codes.
//!
//! - Bad input is permanent: gRPC INVALID_ARGUMENT, HTTP 400.
//! - Too large is permanent: gRPC RESOURCE_EXHAUSTED *without* RetryInfo, HTTP 413.
//! - A full queue is retryable: gRPC UNAVAILABLE *with* RetryInfo, HTTP 503 with
//!   `Retry-After`. Never a bare RESOURCE_EXHAUSTED, on which collector clients drop data.
//! - A memory budget in use is retryable: gRPC RESOURCE_EXHAUSTED *with* RetryInfo, HTTP 429
//!   with `Retry-After`, as the OTLP specification has it for throttling.
//! - A body that does not arrive within the body timeout: gRPC DEADLINE_EXCEEDED, HTTP 408.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use prost::Message;
use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

use super::otlp::Format;
use crate::telemetry::RefuseReason;

/// Why a request was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReceiveError {
    #[error("missing or invalid bearer token")]
    Unauthenticated,
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("pipeline queue is full, retry after {}s", retry_after.as_secs().max(1))]
    QueueFull { retry_after: Duration },
    #[error("slotel is shutting down, retry another replica")]
    ShuttingDown { retry_after: Duration },
    #[error("{message}, retry after {}s", retry_after.as_secs().max(1))]
    Overloaded {
        message: String,
        retry_after: Duration,
    },
    #[error("request body did not arrive within {0:?}")]
    Timeout(Duration),
}

/// A body that does not decode is bad input; its message is the answer's.
impl From<super::otlp::DecodeError> for ReceiveError {
    fn from(e: super::otlp::DecodeError) -> Self {
        ReceiveError::InvalidArgument(e.to_string())
    }
}

/// A resource or scope over a limit is bad input; its message is the answer's.
impl From<super::otlp::LimitError> for ReceiveError {
    fn from(e: super::otlp::LimitError) -> Self {
        ReceiveError::InvalidArgument(e.to_string())
    }
}

impl ReceiveError {
    pub fn reason(&self) -> RefuseReason {
        match self {
            ReceiveError::Unauthenticated => RefuseReason::Unauthenticated,
            ReceiveError::InvalidArgument(_) => RefuseReason::Invalid,
            ReceiveError::TooLarge(_) => RefuseReason::TooLarge,
            ReceiveError::UnsupportedMediaType(_) => RefuseReason::Unsupported,
            ReceiveError::QueueFull { .. } => RefuseReason::QueueFull,
            ReceiveError::ShuttingDown { .. } => RefuseReason::ShuttingDown,
            ReceiveError::Overloaded { .. } => RefuseReason::MemoryBudget,
            ReceiveError::Timeout(_) => RefuseReason::Timeout,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            ReceiveError::QueueFull { retry_after }
            | ReceiveError::ShuttingDown { retry_after }
            | ReceiveError::Overloaded { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    fn grpc_code(&self) -> Code {
        match self {
            ReceiveError::Unauthenticated => Code::Unauthenticated,
            ReceiveError::InvalidArgument(_) => Code::InvalidArgument,
            ReceiveError::TooLarge(_) => Code::ResourceExhausted,
            ReceiveError::UnsupportedMediaType(_) => Code::InvalidArgument,
            ReceiveError::QueueFull { .. } | ReceiveError::ShuttingDown { .. } => Code::Unavailable,
            ReceiveError::Overloaded { .. } => Code::ResourceExhausted,
            ReceiveError::Timeout(_) => Code::DeadlineExceeded,
        }
    }

    /// The gRPC status for this error.
    pub fn to_status(&self) -> tonic::Status {
        match self.retry_after() {
            Some(delay) => tonic::Status::with_error_details(
                self.grpc_code(),
                self.to_string(),
                ErrorDetails::with_retry_info(Some(delay)),
            ),
            None => tonic::Status::new(self.grpc_code(), self.to_string()),
        }
    }

    fn http_status(&self) -> StatusCode {
        match self {
            ReceiveError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ReceiveError::InvalidArgument(_) => StatusCode::BAD_REQUEST,
            ReceiveError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ReceiveError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ReceiveError::QueueFull { .. } | ReceiveError::ShuttingDown { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ReceiveError::Overloaded { .. } => StatusCode::TOO_MANY_REQUESTS,
            ReceiveError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
        }
    }

    /// The OTLP/HTTP response: a `google.rpc.Status` body in the request's format (plain
    /// text when the format itself was not understood).
    pub fn to_http(&self, format: Option<Format>) -> http::Response<axum::body::Body> {
        let message = self.to_string();
        let code = self.grpc_code() as i32;
        let (content_type, body) = match format {
            Some(Format::Protobuf) => (
                "application/x-protobuf",
                Bytes::from(
                    tonic_types::Status {
                        code,
                        message,
                        details: Vec::new(),
                    }
                    .encode_to_vec(),
                ),
            ),
            Some(Format::Json) => (
                "application/json",
                Bytes::from(serde_json::json!({"code": code, "message": message}).to_string()),
            ),
            None => ("text/plain; charset=utf-8", Bytes::from(message)),
        };
        let mut resp = http::Response::new(axum::body::Body::from(body));
        *resp.status_mut() = self.http_status();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Some(delay) = self.retry_after() {
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(delay.as_secs().max(1)),
            );
        }
        if matches!(self, ReceiveError::Unauthenticated) {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}
