//! What slotel says about a backend's refusal: the status, a reason class and the length
//! of what the backend said — never its text.
//!
//! Backends echo what they refuse: Prometheus and Mimir put the whole label set of the
//! offending series in their error bodies, Loki the stream selector and the line, an OTLP
//! backend whatever its validation found. Those are the sender's data (user ids, e-mail
//! addresses in attributes) and must not reach slotel's own logs, where redaction does not
//! reach. So a refusal is summarised here as a [`Refusal`]: the HTTP status or gRPC code, a
//! [`ReasonClass`] read from the status and well-known phrases of the backends' messages,
//! and the body's length. Only the summary leaves this module.

use std::fmt;

/// How much of a body is searched for a reason: backends state it before the series.
const SCANNED: usize = 4096;

/// Why a backend refused, as far as slotel can tell. A bounded label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonClass {
    /// A sample or entry older than the last one of its series or stream.
    OutOfOrder,
    /// A sample or entry older than the backend accepts.
    TooOld,
    /// A sample or entry too far in the future.
    TooNew,
    /// A second sample with the same timestamp and another value.
    DuplicateSample,
    /// Two labels with the same name in one series.
    DuplicateLabel,
    /// A label or metric name or value the backend does not take.
    InvalidLabels,
    /// A per-tenant limit other than the rate (series, labels per series).
    Limits,
    /// The ingestion rate limit, or HTTP 429 / gRPC `RESOURCE_EXHAUSTED`.
    RateLimited,
    /// Missing or refused credentials or tenant.
    Auth,
    /// The request is too large.
    TooLarge,
    /// The URL or method does not exist.
    NotFound,
    /// Any other refusal of the request as malformed.
    BadRequest,
    /// The backend or a proxy in front of it is unavailable.
    Unavailable,
    /// Any other server error.
    ServerError,
    Other,
}

impl ReasonClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonClass::OutOfOrder => "out_of_order",
            ReasonClass::TooOld => "too_old",
            ReasonClass::TooNew => "too_new",
            ReasonClass::DuplicateSample => "duplicate_sample",
            ReasonClass::DuplicateLabel => "duplicate_label",
            ReasonClass::InvalidLabels => "invalid_labels",
            ReasonClass::Limits => "limits",
            ReasonClass::RateLimited => "rate_limited",
            ReasonClass::Auth => "auth",
            ReasonClass::TooLarge => "too_large",
            ReasonClass::NotFound => "not_found",
            ReasonClass::BadRequest => "bad_request",
            ReasonClass::Unavailable => "unavailable",
            ReasonClass::ServerError => "server_error",
            ReasonClass::Other => "other",
        }
    }

    /// Whether the refusal is about some of the request's data — a series, sample or entry
    /// — rather than the request as a whole: a part of the request without that data is
    /// taken. (Per-tenant limits are left out: every part would meet them again.)
    pub fn names_data(self) -> bool {
        matches!(
            self,
            ReasonClass::OutOfOrder
                | ReasonClass::TooOld
                | ReasonClass::TooNew
                | ReasonClass::DuplicateSample
                | ReasonClass::DuplicateLabel
                | ReasonClass::InvalidLabels
        )
    }

    /// The class of a message from the phrases Prometheus, Mimir, Loki, Tempo and OTLP
    /// backends use (`None` when no phrase is known).
    pub fn from_message(message: &[u8]) -> Option<Self> {
        let head = &message[..message.len().min(SCANNED)];
        let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
        PHRASES
            .iter()
            .find(|(_, phrases)| phrases.iter().any(|p| lower.contains(p)))
            .map(|(class, _)| *class)
    }
}

/// Phrases per class, most specific first (a duplicate label before a duplicate sample,
/// out of order before too old).
const PHRASES: &[(ReasonClass, &[&str])] = &[
    (
        ReasonClass::DuplicateLabel,
        &["duplicate label", "duplicate-label", "duplicate_label"],
    ),
    (
        ReasonClass::OutOfOrder,
        &["out of order", "out-of-order", "out_of_order"],
    ),
    (
        ReasonClass::TooNew,
        &[
            "too far in the future",
            "too far in future",
            "too-far-in-future",
            "too_far_in_future",
        ],
    ),
    (
        ReasonClass::TooOld,
        &[
            "too old",
            "too-old",
            "too_old",
            "out of bounds",
            "out-of-bounds",
            "too far behind",
            "max_sample_age",
        ],
    ),
    (
        ReasonClass::DuplicateSample,
        &[
            "duplicate sample",
            "duplicate timestamp",
            "duplicate-timestamp",
            "duplicate-sample",
            "new value for",
        ],
    ),
    (
        ReasonClass::RateLimited,
        &[
            "rate limit",
            "rate-limit",
            "ratelimit",
            "ingestion rate",
            "ingestion burst",
            "too many requests",
        ],
    ),
    (
        ReasonClass::Limits,
        &[
            "series limit",
            "max-series",
            "max series",
            "per-user series",
            "per-metric series",
            "limit exceeded",
            "limits exceeded",
            "max-label-names",
            "too many labels",
            "stream limit",
        ],
    ),
    (
        ReasonClass::InvalidLabels,
        &[
            "invalid label",
            "label name",
            "label value",
            "label-name",
            "label-value",
            "invalid metric name",
            "missing metric name",
            "metric-name",
            "invalid stream",
        ],
    ),
    (
        ReasonClass::Auth,
        &[
            "unauthorized",
            "unauthenticated",
            "permission denied",
            "forbidden",
            "no org id",
            "invalid token",
        ],
    ),
    (
        ReasonClass::TooLarge,
        &[
            "too large",
            "too-large",
            "larger than",
            "message size",
            "exceeds the limit",
        ],
    ),
];

/// The status a backend answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Http(u16),
    Grpc(tonic::Code),
}

/// A backend's refusal, summarised: what slotel logs and keeps instead of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: Status,
    pub class: ReasonClass,
    /// Length of the body (HTTP) or message (gRPC) the backend sent, in bytes.
    pub body_len: usize,
}

impl Refusal {
    /// Summarises an HTTP answer; `body` is what was read of it.
    pub fn http(status: u16, body: &[u8]) -> Self {
        let class = match status {
            401 | 403 => ReasonClass::Auth,
            _ => ReasonClass::from_message(body).unwrap_or(match status {
                404 | 405 => ReasonClass::NotFound,
                413 => ReasonClass::TooLarge,
                429 => ReasonClass::RateLimited,
                502..=504 => ReasonClass::Unavailable,
                400..=499 => ReasonClass::BadRequest,
                500..=599 => ReasonClass::ServerError,
                _ => ReasonClass::Other,
            }),
        };
        Self {
            status: Status::Http(status),
            class,
            body_len: body.len(),
        }
    }

    /// Summarises a gRPC status; its message is searched like a body.
    pub fn grpc(code: tonic::Code, message: &str) -> Self {
        use tonic::Code;
        let class = match code {
            Code::Unauthenticated | Code::PermissionDenied => ReasonClass::Auth,
            _ => ReasonClass::from_message(message.as_bytes()).unwrap_or(match code {
                Code::ResourceExhausted => ReasonClass::RateLimited,
                Code::Unavailable | Code::DeadlineExceeded => ReasonClass::Unavailable,
                Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
                    ReasonClass::BadRequest
                }
                Code::Unimplemented | Code::NotFound => ReasonClass::NotFound,
                Code::Internal | Code::Unknown | Code::DataLoss => ReasonClass::ServerError,
                _ => ReasonClass::Other,
            }),
        };
        Self {
            status: Status::Grpc(code),
            class,
            body_len: message.len(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Status::Http(s) => write!(
                f,
                "HTTP {s} ({}; body of {} bytes not logged)",
                self.class.as_str(),
                self.body_len
            ),
            Status::Grpc(c) => write!(
                f,
                "gRPC {c:?} ({}; message of {} bytes not logged)",
                self.class.as_str(),
                self.body_len
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_from_what_backends_say() {
        let cases: &[(u16, &str, ReasonClass)] = &[
            (
                400,
                "out of order sample for series {__name__=\"x\", user=\"a@b.example\"}",
                ReasonClass::OutOfOrder,
            ),
            (
                400,
                "the sample has been rejected because its timestamp is too old (err-mimir-sample-timestamp-too-old)",
                ReasonClass::TooOld,
            ),
            (400, "out of bounds", ReasonClass::TooOld),
            (
                400,
                "received a sample whose timestamp is too far in the future (err-mimir-too-far-in-future)",
                ReasonClass::TooNew,
            ),
            (
                400,
                "duplicate sample for timestamp; overlapping",
                ReasonClass::DuplicateSample,
            ),
            (
                500,
                "label set contains duplicate label names (err-mimir-duplicate-label-names)",
                ReasonClass::DuplicateLabel,
            ),
            (
                429,
                "the request has been rejected because the tenant exceeded its ingestion rate limit",
                ReasonClass::RateLimited,
            ),
            (429, "", ReasonClass::RateLimited),
            (
                400,
                "per-user series limit of 150000 exceeded",
                ReasonClass::Limits,
            ),
            (
                400,
                "received a series with an invalid label: 'a b'",
                ReasonClass::InvalidLabels,
            ),
            (401, "no org id; user a@b.example", ReasonClass::Auth),
            (403, "duplicate label names", ReasonClass::Auth),
            (400, "no org id", ReasonClass::Auth),
            (413, "", ReasonClass::TooLarge),
            (404, "404 page not found", ReasonClass::NotFound),
            (400, "something else", ReasonClass::BadRequest),
            (503, "", ReasonClass::Unavailable),
            (500, "boom", ReasonClass::ServerError),
            (302, "", ReasonClass::Other),
            (
                400,
                "entry for stream '{app=\"x\"}' has timestamp too old",
                ReasonClass::TooOld,
            ),
            (400, "entry out of order", ReasonClass::OutOfOrder),
        ];
        for (status, body, want) in cases {
            let r = Refusal::http(*status, body.as_bytes());
            assert_eq!(r.class, *want, "{status} {body}");
            assert_eq!(r.body_len, body.len());
        }
    }

    #[test]
    fn the_summary_never_holds_the_body() {
        let body =
            "out of order sample for series {__name__=\"logins\", email=\"kim@example.com\"}";
        let r = Refusal::http(400, body.as_bytes());
        let text = r.to_string();
        assert_eq!(
            text,
            format!(
                "HTTP 400 (out_of_order; body of {} bytes not logged)",
                body.len()
            )
        );
        let g = Refusal::grpc(tonic::Code::InvalidArgument, body);
        assert_eq!(g.class, ReasonClass::OutOfOrder);
        assert!(!g.to_string().contains("kim@"), "{g}");
        assert_eq!(
            Refusal::grpc(tonic::Code::ResourceExhausted, "").class,
            ReasonClass::RateLimited
        );
        assert_eq!(
            Refusal::grpc(tonic::Code::Unauthenticated, "label name").class,
            ReasonClass::Auth
        );
    }

    #[test]
    fn only_the_head_of_a_long_body_is_searched() {
        let mut body = vec![b'x'; SCANNED];
        body.extend_from_slice(b"out of order");
        assert_eq!(ReasonClass::from_message(&body), None);
        assert_eq!(Refusal::http(400, &body).class, ReasonClass::BadRequest);
    }
}
