//! The HTTP(S) client of the remote exporters: hyper with rustls (ring), the web PKI roots
//! or a configured CA bundle, optional client certificate, timeouts, the headers every
//! request carries (configured headers, basic or bearer auth, the tenant), and the
//! `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` proxies (`proxy.rs`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_rustls::rustls;

use crate::config::ClientConfig;

use super::error::{BuildError, TlsError};
use super::retry::{Cause, Outcome};

use super::proxy::{Proxies, ProxyConnector, ProxyEnv};

type Connector = hyper_rustls::HttpsConnector<ProxyConnector>;

/// A configured client for one backend.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<Connector, Full<Bytes>>,
    proxies: Proxies,
    headers: HeaderMap,
    tenant_header: HeaderName,
    default_tenant: Option<HeaderValue>,
    timeout: Duration,
}

/// A response: status, headers and the start of the body. The body is the backend's
/// and may echo the data it refused: it is summarised ([`super::failure::Refusal`]),
/// never logged.
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as received (at most 64 KiB), for the classification of an error and
    /// for responses that carry a message (OTLP partial success).
    pub raw: Bytes,
    /// The trailers, if the response had any (gRPC status).
    pub trailers: Option<HeaderMap>,
}

impl HttpClient {
    /// A client through the proxies of the process environment ([`ProxyEnv::from_env`]).
    pub fn new(cfg: &ClientConfig) -> Result<Self, BuildError> {
        Self::build(cfg, false, &ProxyEnv::from_env())
    }

    /// A client that speaks HTTP/2 only (prior knowledge on `http://`), as gRPC needs.
    pub fn new_http2(cfg: &ClientConfig) -> Result<Self, BuildError> {
        Self::build(cfg, true, &ProxyEnv::from_env())
    }

    /// A client through the proxies of `proxy` instead of the environment's.
    pub fn build(
        cfg: &ClientConfig,
        http2_only: bool,
        proxy: &ProxyEnv,
    ) -> Result<Self, BuildError> {
        if let Some(url) = proxy.unsupported() {
            return Err(BuildError::Proxy(url));
        }
        let tls = tls_config(cfg)?;
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(cfg.timeout));
        let proxies = Proxies::new(proxy, http2_only);
        let http = ProxyConnector {
            tcp,
            proxies: proxies.clone(),
        };
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        let connector = if http2_only {
            builder.enable_http2().wrap_connector(http)
        } else {
            builder.enable_http1().enable_http2().wrap_connector(http)
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .http2_only(http2_only)
            .build(connector);
        let mut headers = HeaderMap::new();
        for (k, v) in &cfg.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| BuildError::HeaderName(k.clone()))?;
            let value = HeaderValue::from_str(v).map_err(|_| BuildError::HeaderValue(k.clone()))?;
            headers.insert(name, value);
        }
        let auth = match (&cfg.basic_auth, &cfg.bearer_token) {
            (Some((user, pass)), _) => {
                use base64::Engine as _;
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
                Some(format!("Basic {token}"))
            }
            (None, Some(token)) => Some(format!("Bearer {token}")),
            (None, None) => None,
        };
        if let Some(auth) = auth {
            let mut value = HeaderValue::from_str(&auth).map_err(|_| BuildError::Credentials)?;
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
        let tenant_header = HeaderName::from_bytes(cfg.tenant_header.as_bytes())
            .map_err(|_| BuildError::TenantHeader(cfg.tenant_header.clone()))?;
        let default_tenant = match &cfg.tenant {
            Some(t) => Some(HeaderValue::from_str(t).map_err(|_| BuildError::Tenant(t.clone()))?),
            None => None,
        };
        Ok(Self {
            client,
            proxies,
            headers,
            tenant_header,
            default_tenant,
            timeout: cfg.timeout,
        })
    }

    /// POSTs `body` to `url`. `tenant` (the data's own) overrides the configured tenant.
    /// Transport errors and timeouts come back as retryable outcomes.
    pub async fn post(
        &self,
        url: &http::Uri,
        tenant: Option<&str>,
        extra: &[(HeaderName, HeaderValue)],
        body: Bytes,
    ) -> Result<Response, Outcome> {
        self.send(http::Method::POST, url, tenant, extra, body)
            .await
    }

    /// Sends a `method` request with `body` to `url`, as [`HttpClient::post`] does.
    pub async fn send(
        &self,
        method: http::Method,
        url: &http::Uri,
        tenant: Option<&str>,
        extra: &[(HeaderName, HeaderValue)],
        body: Bytes,
    ) -> Result<Response, Outcome> {
        self.send_limited(method, url, tenant, extra, body, 64 * 1024)
            .await
    }

    /// As [`HttpClient::send`], reading at most `limit` bytes of the answer's body (a
    /// larger body is read as empty).
    pub async fn send_limited(
        &self,
        method: http::Method,
        url: &http::Uri,
        tenant: Option<&str>,
        extra: &[(HeaderName, HeaderValue)],
        body: Bytes,
        limit: usize,
    ) -> Result<Response, Outcome> {
        let mut req = Request::builder().method(method).uri(url.clone());
        if let Some(h) = req.headers_mut() {
            h.extend(self.headers.clone());
            for (k, v) in extra {
                h.insert(k.clone(), v.clone());
            }
            let tenant = tenant
                .and_then(|t| HeaderValue::from_str(t).ok())
                .or_else(|| self.default_tenant.clone());
            if let Some(t) = tenant {
                h.insert(self.tenant_header.clone(), t);
            }
            if let Some(auth) = self.proxies.forward_auth(url) {
                h.insert(http::header::PROXY_AUTHORIZATION, auth);
            }
        }
        let req = req.body(Full::new(body)).map_err(|e| Outcome::Permanent {
            cause: Cause::Request,
            detail: e.to_string(),
        })?;
        let send = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| Outcome::retry(Cause::Connection, connection_error(&e)))?;
            let (parts, body) = resp.into_parts();
            // Only the start of the body matters (error class, partial success).
            let (bytes, trailers) = match Limited::new(body, limit).collect().await {
                Ok(c) => {
                    let trailers = c.trailers().cloned();
                    (c.to_bytes(), trailers)
                }
                Err(_) => (Bytes::new(), None),
            };
            Ok(Response {
                status: parts.status,
                headers: parts.headers,
                raw: bytes,
                trailers,
            })
        };
        match tokio::time::timeout(self.timeout, send).await {
            Ok(r) => r,
            Err(_) => Err(Outcome::retry(
                Cause::Timeout,
                format!("no response within {:?}", self.timeout),
            )),
        }
    }
}

impl HttpClient {
    /// POSTs a queued protobuf request (Content-Type `application/x-protobuf`, slotel's
    /// User-Agent, plus `extra` such as Content-Encoding) with the record's tenant, and
    /// classifies the answer.
    pub async fn send_protobuf(
        &self,
        url: &http::Uri,
        record: &super::queue::Record,
        extra: &[(HeaderName, HeaderValue)],
    ) -> Outcome {
        let mut headers = vec![
            (
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-protobuf"),
            ),
            (
                http::header::USER_AGENT,
                HeaderValue::from_static(concat!("slotel/", env!("CARGO_PKG_VERSION"))),
            ),
        ];
        headers.extend(extra.iter().cloned());
        match self
            .post(url, record.tenant.as_deref(), &headers, record.body.clone())
            .await
        {
            Ok(resp) => super::retry::classify_http(resp.status, &resp.headers, &resp.raw),
            Err(outcome) => outcome,
        }
    }
}

fn connection_error(e: &hyper_util::client::legacy::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// The rustls client config of `tls`: roots, client certificate, verification.
pub fn tls_config(cfg: &ClientConfig) -> Result<rustls::ClientConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Protocol)?;
    let builder = if cfg.tls.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
    } else {
        let mut roots = rustls::RootCertStore::empty();
        match &cfg.tls.ca_file {
            Some(path) => {
                let pem =
                    crate::listener::read_pem(path).map_err(|e| read_error("ca_file", path, e))?;
                for cert in CertificateDer::pem_slice_iter(&pem) {
                    let cert = cert.map_err(|e| bad_certificate(path, e))?;
                    roots.add(cert).map_err(|e| bad_certificate(path, e))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        builder.with_root_certificates(roots)
    };
    let config = match (&cfg.tls.cert_file, &cfg.tls.key_file) {
        (Some(cert), Some(key)) => {
            let chain =
                crate::listener::read_chain(cert).map_err(|e| read_error("cert_file", cert, e))?;
            let key = crate::listener::read_key(key).map_err(|e| read_error("key_file", key, e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(TlsError::ClientCertificate)?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(config)
}

fn read_error(what: &'static str, path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::Read {
        what,
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn bad_certificate(path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::Certificate {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// `insecure_skip_verify`: accepts any server certificate (signatures are still checked so
/// the handshake is well-formed).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use hyper::body::Incoming;

    use super::*;

    /// A server that answers 204 and keeps the headers of every request.
    async fn server() -> (String, Arc<Mutex<Vec<HeaderMap>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let keep = seen.clone();
        let addr = crate::test_serve::serve(move |req: Request<Incoming>| {
            keep.lock().unwrap().push(req.headers().clone());
            async {
                let mut resp = http::Response::new(Full::new(Bytes::new()));
                *resp.status_mut() = StatusCode::NO_CONTENT;
                resp
            }
        })
        .await;
        (format!("http://{addr}/api/v1/push"), seen)
    }

    fn config(endpoint: &str) -> ClientConfig {
        ClientConfig {
            headers: [("X-Extra".to_string(), "yes".to_string())].into(),
            basic_auth: Some(("slotel".into(), "s3cret".into())),
            tenant: Some("slo".into()),
            ..ClientConfig::new(endpoint)
        }
    }

    #[tokio::test]
    async fn requests_carry_headers_credentials_and_the_tenant() {
        let (url, seen) = server().await;
        let uri: http::Uri = url.parse().unwrap();
        let client = HttpClient::new(&config(&url)).unwrap();
        let ok = client.post(&uri, None, &[], Bytes::from_static(b"x")).await;
        assert_eq!(ok.ok().map(|r| r.status), Some(StatusCode::NO_CONTENT));
        let own = client.post(&uri, Some("team-a"), &[], Bytes::new()).await;
        assert!(own.is_ok());
        let bearer = HttpClient::new(&ClientConfig {
            basic_auth: None,
            bearer_token: Some("t0ken".into()),
            tenant: None,
            ..config(&url)
        })
        .unwrap();
        assert!(bearer.post(&uri, None, &[], Bytes::new()).await.is_ok());

        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        // base64("slotel:s3cret")
        assert_eq!(seen[0]["authorization"], "Basic c2xvdGVsOnMzY3JldA==");
        assert_eq!(seen[0]["x-extra"], "yes");
        assert_eq!(seen[0]["x-scope-orgid"], "slo", "the configured tenant");
        assert_eq!(
            seen[1]["x-scope-orgid"], "team-a",
            "the data's own tenant wins"
        );
        assert_eq!(seen[2]["authorization"], "Bearer t0ken");
        assert!(seen[2].get("x-scope-orgid").is_none());
    }

    #[tokio::test]
    async fn a_missing_ca_file_is_a_clear_error() {
        let mut cfg = config("https://127.0.0.1:9/");
        cfg.tls.ca_file = Some("/nonexistent/ca.pem".into());
        let err = HttpClient::new(&cfg).err().expect("an error");
        assert!(
            matches!(
                &err,
                BuildError::Tls(TlsError::Read {
                    what: "ca_file",
                    ..
                })
            ),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("cannot read ca_file /nonexistent/ca.pem"),
            "{err}"
        );
    }
}
