//! One retry classification for every exporter, and the backoff between attempts.
//!
//! Retryable: gRPC `UNAVAILABLE`, `DEADLINE_EXCEEDED`, `ABORTED`, `OUT_OF_RANGE`,
//! `DATA_LOSS`, `CANCELLED`, and `RESOURCE_EXHAUSTED` when the server sent RetryInfo
//! (without it the server is saying "too big", which a retry does not fix); HTTP 429, 502,
//! 503, 504, and 500 a bounded number of times (Prometheus answers 500 for some permanent
//! errors); connection errors and timeouts. Everything else is permanent. Each outcome
//! carries its [`Cause`].

use std::time::Duration;

use http::{HeaderMap, StatusCode};

use super::failure::Refusal;

/// Why an attempt failed, as classified: a closed set, so a caller matches on it instead
/// of on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// HTTP 429, 502, 503 or 504.
    HttpRetryable,
    /// HTTP 500: retried a bounded number of times.
    Http500,
    /// Any other HTTP 4xx.
    Http4xx,
    /// Any other HTTP 5xx (or an unexpected status).
    Http5xx,
    /// A retryable gRPC status.
    GrpcRetryable,
    /// Any other gRPC status.
    GrpcPermanent,
    /// The connection failed.
    Connection,
    /// No response within the timeout.
    Timeout,
    /// The answer broke the protocol (gRPC over HTTP without a status).
    Protocol,
    /// The request could not be made (bad record, compression failure).
    Request,
}

/// What became of one attempt to deliver a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Delivered,
    /// Try again, after at least `after` when the server said so.
    Retry {
        after: Option<Duration>,
        cause: Cause,
        /// An HTTP 500: retried at most `max_server_error_retries` times.
        server_error: bool,
        detail: String,
    },
    /// The backend will never take this request.
    Permanent {
        cause: Cause,
        detail: String,
    },
    /// The backend refused the request for some of its data: a series, sample or entry out
    /// of order, too old or too new, a duplicate, invalid labels. Prometheus then stores
    /// nothing of the request, Mimir the rest; either takes a part without the bad data,
    /// so an exporter that can split its requests sends the parts apart.
    DataRefused {
        cause: Cause,
        detail: String,
    },
}

impl Outcome {
    pub fn retry(cause: Cause, detail: impl Into<String>) -> Self {
        Outcome::Retry {
            after: None,
            cause,
            server_error: false,
            detail: detail.into(),
        }
    }
}

/// The most a server-suggested delay is honoured for; longer ones are cut to this.
pub const MAX_SERVER_DELAY: Duration = Duration::from_secs(300);

/// Classifies an HTTP response. `body` is what was read of the response body: only its
/// summary ([`Refusal`]: status, reason class, length) goes into the outcome, since
/// backends echo the refused data in it.
pub fn classify_http(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Outcome {
    if status.is_success() {
        return Outcome::Delivered;
    }
    let refusal = Refusal::http(status.as_u16(), body);
    let detail = refusal.to_string();
    if refusal.class.names_data() && matches!(status.as_u16(), 400 | 422 | 500) {
        // Prometheus answers 500 for some of these (a duplicate label, a sample too old):
        // retrying the same request would only repeat it.
        let cause = if status.as_u16() == 500 {
            Cause::Http500
        } else {
            Cause::Http4xx
        };
        return Outcome::DataRefused { cause, detail };
    }
    let after = headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, jiff::Timestamp::now()));
    match status.as_u16() {
        429 | 502 | 503 | 504 => Outcome::Retry {
            after,
            cause: Cause::HttpRetryable,
            server_error: false,
            detail,
        },
        500 => Outcome::Retry {
            after,
            cause: Cause::Http500,
            server_error: true,
            detail,
        },
        _ => Outcome::Permanent {
            cause: if status.is_client_error() {
                Cause::Http4xx
            } else {
                Cause::Http5xx
            },
            detail,
        },
    }
}

/// Classifies a gRPC status (`Code::Ok` is delivered). The status message is summarised
/// like an HTTP body.
pub fn classify_grpc(status: &tonic::Status) -> Outcome {
    use tonic::Code;
    let detail = Refusal::grpc(status.code(), status.message()).to_string();
    let after = retry_info(status);
    match status.code() {
        Code::Ok => Outcome::Delivered,
        Code::Unavailable
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::DataLoss
        | Code::Cancelled => Outcome::Retry {
            after,
            cause: Cause::GrpcRetryable,
            server_error: false,
            detail,
        },
        Code::ResourceExhausted if after.is_some() => Outcome::Retry {
            after,
            cause: Cause::GrpcRetryable,
            server_error: false,
            detail,
        },
        _ => Outcome::Permanent {
            cause: Cause::GrpcPermanent,
            detail,
        },
    }
}

/// The delay of a `google.rpc.RetryInfo` in the status details, if any.
fn retry_info(status: &tonic::Status) -> Option<Duration> {
    use tonic_types::StatusExt;
    let info = status.get_details_retry_info()?;
    info.retry_delay.map(|d| d.min(MAX_SERVER_DELAY))
}

/// A `Retry-After` value: delay seconds or an HTTP date, relative to `now`.
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(MAX_SERVER_DELAY));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let d = at.duration_since(now);
    let d = Duration::try_from(d).unwrap_or(Duration::ZERO);
    Some(d.min(MAX_SERVER_DELAY))
}

/// Exponential backoff with jitter: the n-th delay is `initial · 2ⁿ` capped at `max`,
/// then spread uniformly over ±50% so that many senders do not retry in step. A delay the
/// server asked for is a floor.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial: initial.max(Duration::from_millis(1)),
            max: max.max(initial),
            attempt: 0,
        }
    }

    pub fn next(&mut self, server: Option<Duration>) -> Duration {
        let base = self
            .initial
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let jittered = base.mul_f64(0.5 + fastrand::f64());
        match server {
            Some(s) => s.max(jittered.min(self.max)),
            None => jittered.min(self.max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_classes() {
        let h = HeaderMap::new();
        for code in [429, 502, 503, 504] {
            let s = StatusCode::from_u16(code).unwrap();
            assert!(
                matches!(
                    classify_http(s, &h, b""),
                    Outcome::Retry {
                        server_error: false,
                        ..
                    }
                ),
                "{code}"
            );
        }
        let s500 = classify_http(StatusCode::INTERNAL_SERVER_ERROR, &h, b"");
        assert!(matches!(
            s500,
            Outcome::Retry {
                server_error: true,
                ..
            }
        ));
        for code in [400, 401, 403, 404, 409, 413, 501] {
            let s = StatusCode::from_u16(code).unwrap();
            assert!(
                matches!(classify_http(s, &h, b""), Outcome::Permanent { .. }),
                "{code}"
            );
        }
        assert_eq!(
            classify_http(StatusCode::NO_CONTENT, &h, b""),
            Outcome::Delivered
        );
    }

    /// Refusals that name some of the request's data (the phrases of Prometheus, Mimir and
    /// Loki) are told apart from refusals of the whole request, also in Prometheus's 500s.
    #[test]
    fn refusals_of_some_data_are_told_apart() {
        let h = HeaderMap::new();
        let data = [
            (400, "out of order sample"),
            (400, "err: out of bounds"),
            (400, "duplicate sample for timestamp"),
            (400, "received a series with duplicate label name"),
            (400, "entry too far behind"),
            (500, "label set contains duplicate label names"),
            (500, "too old sample"),
        ];
        for (code, body) in data {
            let s = StatusCode::from_u16(code).unwrap();
            assert!(
                matches!(
                    classify_http(s, &h, body.as_bytes()),
                    Outcome::DataRefused { .. }
                ),
                "{code} {body}"
            );
        }
        let whole = [
            (400, "no org id"),
            (401, "out of order sample"),
            (413, "request too large"),
            (400, "per-user series limit of 150000 exceeded"),
        ];
        for (code, body) in whole {
            let s = StatusCode::from_u16(code).unwrap();
            assert!(
                matches!(
                    classify_http(s, &h, body.as_bytes()),
                    Outcome::Permanent { .. }
                ),
                "{code} {body}"
            );
        }
        assert!(matches!(
            classify_http(StatusCode::TOO_MANY_REQUESTS, &h, b"out of order sample"),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            classify_http(StatusCode::INTERNAL_SERVER_ERROR, &h, b"storage failure"),
            Outcome::Retry {
                server_error: true,
                ..
            }
        ));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now: jiff::Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("99999", now), Some(MAX_SERVER_DELAY));
        assert_eq!(parse_retry_after("soon", now), None);
        let mut h = HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, "12".parse().unwrap());
        match classify_http(StatusCode::SERVICE_UNAVAILABLE, &h, b"") {
            Outcome::Retry { after, .. } => assert_eq!(after, Some(Duration::from_secs(12))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn grpc_classes() {
        use tonic::Code;
        for code in [
            Code::Unavailable,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::OutOfRange,
            Code::DataLoss,
            Code::Cancelled,
        ] {
            let o = classify_grpc(&tonic::Status::new(code, "x"));
            assert!(matches!(o, Outcome::Retry { .. }), "{code:?}");
        }
        for code in [
            Code::InvalidArgument,
            Code::Unauthenticated,
            Code::PermissionDenied,
            Code::ResourceExhausted,
            Code::Unimplemented,
            Code::Internal,
        ] {
            let o = classify_grpc(&tonic::Status::new(code, "x"));
            assert!(matches!(o, Outcome::Permanent { .. }), "{code:?}");
        }
        use tonic_types::{ErrorDetails, StatusExt};
        let with_info = tonic::Status::with_error_details(
            Code::ResourceExhausted,
            "slow down",
            ErrorDetails::with_retry_info(Some(Duration::from_secs(3))),
        );
        assert_eq!(
            classify_grpc(&with_info),
            Outcome::Retry {
                after: Some(Duration::from_secs(3)),
                cause: Cause::GrpcRetryable,
                server_error: false,
                detail: "gRPC ResourceExhausted (rate_limited; message of 9 bytes not logged)"
                    .to_string(),
            }
        );
    }

    #[test]
    fn backoff_grows_caps_and_honours_the_server() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let delays: Vec<Duration> = (0..10).map(|_| b.next(None)).collect();
        assert!(delays[0] >= Duration::from_millis(50) && delays[0] <= Duration::from_millis(150));
        assert!(
            delays[3] >= Duration::from_millis(400) && delays[3] <= Duration::from_millis(1200)
        );
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(2)));
        assert!(delays[9] >= Duration::from_secs(1));
        assert_eq!(b.next(Some(Duration::from_secs(9))), Duration::from_secs(9));
    }
}
