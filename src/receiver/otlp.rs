//! What the three OTLP export requests have in common: decoding (protobuf and the lenient
//! OTLP/JSON reading), per-item validation with partial success, the cluster override (and
//! the clusters reserved for other tokens), and the response.

use std::sync::Arc;

use super::json;
use crate::config::Limits;
use crate::pipeline::Payload;
use crate::signal::Signal;

/// Wire format of a request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Protobuf,
    Json,
}

/// Result of validating a request's items.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Items kept.
    pub kept: usize,
    /// Items removed because they broke a rule.
    pub rejected: usize,
    /// The first rule broken, for the partial-success message.
    pub first_error: Option<String>,
}

impl Checked {
    /// Counts one item as kept (`why` is `None`) or rejected; returns whether to keep it.
    /// `why` is formatted only for the first rejection of a request.
    pub(super) fn keep(&mut self, why: Option<impl FnOnce() -> String>) -> bool {
        match why {
            Some(why) => {
                self.reject(1, why);
                false
            }
            None => {
                self.kept += 1;
                true
            }
        }
    }

    /// Counts `n` items counted as kept as rejected after all.
    pub(super) fn refuse_kept(&mut self, n: usize, why: impl FnOnce() -> String) {
        if n > 0 {
            self.kept = self.kept.saturating_sub(n);
            self.reject(n, why);
        }
    }

    pub(super) fn reject(&mut self, n: usize, why: impl FnOnce() -> String) {
        self.rejected += n;
        if self.first_error.is_none() {
            self.first_error = Some(why());
        }
    }

    /// The partial-success message: empty when nothing was refused.
    pub fn message(&self) -> String {
        match &self.first_error {
            Some(e) if self.rejected > 0 => {
                format!("{} item(s) rejected; first: {e}", self.rejected)
            }
            _ => String::new(),
        }
    }
}

/// An OTLP export request type.
pub trait OtlpRequest:
    prost::Message + Default + serde::de::DeserializeOwned + Send + Sized + 'static
{
    type Response: prost::Message + serde::Serialize + Default + Send + 'static;
    const SIGNAL: Signal;

    /// Removes items that break a rule, counting kept and rejected items; an error when a
    /// resource or scope breaks one (the whole request is refused).
    fn check(&mut self, limits: &Limits) -> Result<Checked, LimitError>;
    /// Makes `cluster` the one value of `attr` in the whole request: every copy of `attr`
    /// at any level (resource, scope, item, event, link, exemplar) is removed, and every
    /// resource (created where missing) gets it once.
    fn bind_cluster(&mut self, attr: &str, cluster: &str);
    /// Removes every resource whose `attr` names one of `reserved` (clusters bound to
    /// tokens other than the sender's), counting its items as rejected in `c`.
    fn refuse_clusters(&mut self, attr: &str, reserved: &[Arc<str>], c: &mut Checked);
    fn response(rejected: usize, message: String) -> Self::Response;
    fn into_payload(self) -> Payload;
    /// Decodes an OTLP/JSON body.
    fn decode_json(body: &[u8]) -> Result<Self, json::JsonError> {
        json::decode(body)
    }
}

/// Why a request body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cannot decode protobuf: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error(transparent)]
    Json(#[from] json::JsonError),
}

/// A resource or scope over a limit: the whole request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("resource has {count} attributes, more than the limit of {max}")]
    ResourceAttributes { count: usize, max: usize },
    #[error("instrumentation scope has {count} attributes, more than the limit of {max}")]
    ScopeAttributes { count: usize, max: usize },
}

/// Decodes a request body.
pub fn decode<R: OtlpRequest>(body: &[u8], format: Format) -> Result<R, DecodeError> {
    Ok(match format {
        Format::Protobuf => R::decode(body)?,
        Format::Json => R::decode_json(body)?,
    })
}
