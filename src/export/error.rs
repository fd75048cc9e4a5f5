//! The exporters' errors: building one from its settings ([`BuildError`], named by its id in
//! [`ExporterError`]) and encoding a batch into backend requests ([`EncodeError`]).

use std::path::PathBuf;

use super::queue::OpenError;

/// An exporter that could not be built, by its id (`otlp/tempo`).
#[derive(Debug, thiserror::Error)]
#[error("exporter {id}: {source}")]
pub struct ExporterError {
    pub id: String,
    pub source: BuildError,
}

/// Why an exporter could not be built from its settings.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid header name {0:?}")]
    HeaderName(String),
    #[error("invalid value of header {0:?}")]
    HeaderValue(String),
    #[error("invalid characters in the credentials")]
    Credentials,
    #[error("invalid tenant_header {0:?}")]
    TenantHeader(String),
    #[error("invalid tenant {0:?}")]
    Tenant(String),
    /// A proxy variable that is not an `http://` URL (the value is not printed: it may
    /// hold credentials).
    #[error("unsupported proxy in HTTPS_PROXY or HTTP_PROXY: only http://host:port proxies are")]
    Proxy(String),
    /// An endpoint that is not a URL.
    #[error("invalid endpoint {endpoint:?}: {source}")]
    Endpoint {
        endpoint: String,
        source: http::uri::InvalidUri,
    },
    /// A per-signal URL that is not a URL.
    #[error("invalid URL {url:?}: {source}")]
    Url {
        url: String,
        source: http::uri::InvalidUri,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Queue(#[from] OpenError),
}

/// Why the TLS settings of a client could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{0}")]
    Protocol(tokio_rustls::rustls::Error),
    /// `what` is the setting: `ca_file`, `cert_file` or `key_file`.
    #[error("cannot read {what} {}: {reason}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("bad certificate in {}: {reason}", path.display())]
    Certificate { path: PathBuf, reason: String },
    #[error("client certificate: {0}")]
    ClientCertificate(tokio_rustls::rustls::Error),
}

/// Why a batch could not be encoded into backend requests.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("gzip: {0}")]
    Gzip(std::io::Error),
    #[error("zstd: {0}")]
    Zstd(std::io::Error),
    #[error("snappy: {0}")]
    Snappy(#[from] snap::Error),
    #[error("message over 4 GiB")]
    TooLarge,
}
