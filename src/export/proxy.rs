//! Outbound HTTP proxies from the environment, as the collector (Go's `net/http` and
//! grpc-go) honours them: `HTTPS_PROXY` for `https://` backends, `HTTP_PROXY` for
//! `http://` ones, `NO_PROXY` for the hosts that go direct (each also lowercase; the
//! uppercase one wins; empty counts as unset).
//!
//! - `https://` backends, and every gRPC backend (HTTP/2), go through an HTTP `CONNECT`
//!   tunnel; TLS runs inside it, end to end with the backend.
//! - Plain `http://` backends (HTTP/1.1) get the request itself, in absolute form, as a
//!   forward proxy expects.
//!
//! gRPC picks the proxy as grpc-go does: `HTTPS_PROXY` whatever the endpoint's scheme.
//! `localhost` and loopback addresses always go direct, as in Go.
//! Credentials in the proxy URL (`http://user:pass@proxy:3128`) are sent as
//! `Proxy-Authorization: Basic …`. Only `http://` proxies are supported.
//!
//! Matching (`NO_PROXY` entries: host names that also cover their subdomains, IP
//! addresses, CIDR ranges, `*`) is hyper-util's [`Matcher`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The proxy variables, read once when an exporter is built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    /// `HTTP_PROXY` / `http_proxy`.
    pub http: Option<String>,
    /// `HTTPS_PROXY` / `https_proxy`.
    pub https: Option<String>,
    /// `NO_PROXY` / `no_proxy`.
    pub no: Option<String>,
}

impl ProxyEnv {
    /// From the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From `var` (a name → its value); the uppercase name wins over the lowercase one.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: [&str; 2]| {
            names
                .into_iter()
                .filter_map(&var)
                .find(|value| !value.trim().is_empty())
        };
        Self {
            http: first(["HTTP_PROXY", "http_proxy"]),
            https: first(["HTTPS_PROXY", "https_proxy"]),
            no: first(["NO_PROXY", "no_proxy"]),
        }
    }

    /// True when no proxy is set: every request goes direct.
    pub fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    /// A proxy URL that is not `http://host:port` (checked when the exporter is built).
    pub fn unsupported(&self) -> Option<String> {
        [&self.http, &self.https]
            .into_iter()
            .flatten()
            .find(|url| {
                let url = url.trim();
                let parsed = if url.contains("://") {
                    url.parse::<Uri>().ok()
                } else {
                    format!("http://{url}").parse::<Uri>().ok()
                };
                !parsed.is_some_and(|u| u.scheme_str() == Some("http") && u.host().is_some())
            })
            .cloned()
    }

    fn matcher(&self) -> Matcher {
        let value = |v: &Option<String>| v.clone().unwrap_or_default();
        Matcher::builder()
            .http(value(&self.http))
            .https(value(&self.https))
            .no(value(&self.no))
            .build()
    }
}

/// The proxy a request to `dst` goes through, if any.
#[derive(Clone)]
pub(super) struct Proxies {
    matcher: Option<Arc<Matcher>>,
    /// gRPC: always a tunnel, chosen by `HTTPS_PROXY`.
    http2_only: bool,
}

impl Proxies {
    pub(super) fn new(env: &ProxyEnv, http2_only: bool) -> Self {
        Self {
            matcher: (!env.is_empty()).then(|| Arc::new(env.matcher())),
            http2_only,
        }
    }

    fn intercept(&self, dst: &Uri) -> Option<Intercept> {
        let matcher = self.matcher.as_ref()?;
        if is_loopback(dst) {
            return None;
        }
        if self.http2_only && dst.scheme_str() == Some("http") {
            // grpc-go asks for the proxy of an `https://` URL whatever the scheme.
            let mut parts = dst.clone().into_parts();
            parts.scheme = Some(http::uri::Scheme::HTTPS);
            let as_https = Uri::from_parts(parts).ok()?;
            return matcher.intercept(&as_https);
        }
        matcher.intercept(dst)
    }

    /// The `Proxy-Authorization` a request to `dst` carries itself: only a forwarded
    /// (not tunnelled) one.
    pub(super) fn forward_auth(&self, dst: &Uri) -> Option<http::HeaderValue> {
        if self.tunnels(dst) {
            return None;
        }
        self.intercept(dst)?.basic_auth().cloned()
    }

    fn tunnels(&self, dst: &Uri) -> bool {
        self.http2_only || dst.scheme_str() != Some("http")
    }
}

/// `localhost` and loopback addresses never go through a proxy (as in Go, so in the
/// collector).
fn is_loopback(dst: &Uri) -> bool {
    let host = dst.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The TCP connector under the TLS one: straight to the backend, to the proxy (forward),
/// or through a `CONNECT` tunnel.
#[derive(Clone)]
pub(super) struct ProxyConnector {
    pub(super) tcp: HttpConnector,
    pub(super) proxies: Proxies,
}

impl tower::Service<Uri> for ProxyConnector {
    type Response = ProxyStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ProxyStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let mut tcp = self.tcp.clone();
        let intercept = self.proxies.intercept(&dst);
        let tunnel = self.proxies.tunnels(&dst);
        Box::pin(async move {
            let Some(proxy) = intercept else {
                let io = tcp.call(dst).await?;
                return Ok(ProxyStream { io, forward: false });
            };
            if proxy.uri().scheme_str() != Some("http") {
                return Err(format!(
                    "proxy {} is not supported, only http:// proxies are",
                    proxy.uri()
                )
                .into());
            }
            if tunnel {
                let mut connect = Tunnel::new(proxy.uri().clone(), tcp);
                if let Some(auth) = proxy.basic_auth() {
                    connect = connect.with_auth(auth.clone());
                }
                let io = connect
                    .call(dst)
                    .await
                    .map_err(|e| format!("proxy {}: CONNECT failed: {e}", proxy.uri()))?;
                Ok(ProxyStream { io, forward: false })
            } else {
                let io = tcp.call(proxy.uri().clone()).await?;
                Ok(ProxyStream { io, forward: true })
            }
        })
    }
}

/// A TCP connection; `forward` tells hyper to send requests in absolute form (to a
/// forward proxy).
pub(super) struct ProxyStream {
    io: TokioIo<TcpStream>,
    forward: bool,
}

impl Connection for ProxyStream {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forward)
    }
}

impl Read for ProxyStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for ProxyStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> ProxyEnv {
        ProxyEnv::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    fn via(p: &Proxies, dst: &str) -> Option<String> {
        p.intercept(&dst.parse().unwrap())
            .map(|i| i.uri().authority().unwrap().to_string())
    }

    #[test]
    fn uppercase_wins_and_empty_counts_as_unset() {
        let e = env(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:1"),
            ("HTTP_PROXY", " "),
            ("http_proxy", "http://lower:2"),
            ("no_proxy", "internal"),
        ]);
        assert_eq!(e.https.as_deref(), Some("http://upper:1"));
        assert_eq!(e.http.as_deref(), Some("http://lower:2"));
        assert_eq!(e.no.as_deref(), Some("internal"));
        assert!(env(&[("NO_PROXY", "x")]).is_empty());
    }

    #[test]
    fn each_scheme_has_its_proxy_and_grpc_takes_the_https_one() {
        let e = env(&[
            ("HTTPS_PROXY", "http://tls-proxy:3128"),
            ("HTTP_PROXY", "plain-proxy:3128"),
        ]);
        let http = Proxies::new(&e, false);
        assert_eq!(
            via(&http, "https://mimir.example.com/api/v1/push").as_deref(),
            Some("tls-proxy:3128")
        );
        assert_eq!(
            via(&http, "http://mimir.example.com/api/v1/push").as_deref(),
            Some("plain-proxy:3128")
        );
        let grpc = Proxies::new(&e, true);
        assert_eq!(
            via(&grpc, "http://tempo:4317").as_deref(),
            Some("tls-proxy:3128")
        );
        assert_eq!(
            via(&grpc, "https://tempo:4317").as_deref(),
            Some("tls-proxy:3128")
        );
    }

    #[test]
    fn no_proxy_and_loopback_go_direct() {
        let e = env(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            (
                "NO_PROXY",
                "example.com, .svc.cluster.local,10.0.0.0/8, 192.168.1.7",
            ),
        ]);
        let p = Proxies::new(&e, false);
        for direct in [
            "https://example.com/",
            "https://mimir.example.com/",
            "https://tempo.tempo.svc.cluster.local:4317/",
            "https://10.20.30.40/",
            "https://192.168.1.7:8443/",
            "https://localhost:4317/",
            "https://127.0.0.1:4317/",
            "https://[::1]:4317/",
        ] {
            assert_eq!(via(&p, direct), None, "{direct}");
        }
        for proxied in [
            "https://notexample.com/",
            "https://192.168.1.8/",
            "https://11.0.0.1/",
        ] {
            assert!(via(&p, proxied).is_some(), "{proxied}");
        }
    }

    #[test]
    fn credentials_go_in_proxy_authorization_only_when_forwarding() {
        let e = env(&[
            ("HTTP_PROXY", "http://user:pw@proxy:3128"),
            ("HTTPS_PROXY", "http://user:pw@proxy:3128"),
        ]);
        let p = Proxies::new(&e, false);
        // base64("user:pw")
        let forwarded = p.forward_auth(&"http://mimir/api/v1/push".parse().unwrap());
        assert_eq!(forwarded.unwrap(), "Basic dXNlcjpwdw==");
        // A tunnel carries them in its CONNECT, never in the request to the backend.
        assert!(
            p.forward_auth(&"https://mimir/api/v1/push".parse().unwrap())
                .is_none()
        );
        assert!(
            Proxies::new(&e, true)
                .forward_auth(&"http://tempo:4317/".parse().unwrap())
                .is_none()
        );
    }

    #[test]
    fn only_http_proxies_are_supported() {
        assert_eq!(env(&[("HTTPS_PROXY", "http://p:1")]).unsupported(), None);
        assert_eq!(env(&[("HTTPS_PROXY", "p:3128")]).unsupported(), None);
        for bad in ["socks5://p:1080", "https://p:443", "http://"] {
            assert_eq!(
                env(&[("HTTP_PROXY", bad)]).unsupported().as_deref(),
                Some(bad)
            );
        }
    }
}
