//! The accept loop every slotel listener runs (the OTLP receivers and the admin
//! listener): optional TLS (rustls, ALPN h2 and
//! http/1.1, optional client CA for mTLS), HTTP/1.1 and HTTP/2 on the same port (gRPC
//! needs HTTP/2), and what keeps strangers cheap:
//!
//! - a bound on open connections per listener and per client IP address (past either, a
//!   new connection is closed at once);
//! - a first-byte timeout: a connection that sends nothing, or does not finish its TLS
//!   handshake, is closed;
//! - an idle timeout: a connection with no request in flight for that long is closed
//!   gracefully (HTTP/2 GOAWAY); HTTP/2 peers are also pinged and dropped when they stop
//!   answering;
//! - graceful shutdown: stop accepting, let in-flight requests finish within the drain
//!   budget, then close whatever still lingers.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulConnection;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::shutdown::Shutdown;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use crate::config::{Limits, TlsConfig};

/// Why a listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read {what} {path}: {message}")]
    TlsFile {
        what: &'static str,
        path: String,
        message: String,
    },
    #[error("invalid tls settings: {0}")]
    Tls(String),
}

/// The most a PEM file (a certificate chain, a CA bundle, a key) may hold: 16 MiB, some
/// 10,000 certificates (a system's whole CA bundle is about 200 KiB).
pub const MAX_PEM_BYTES: u64 = 16 << 20;

/// The PEM text of `path`: a regular file of at most [`MAX_PEM_BYTES`] (a FIFO or device
/// such as `/dev/zero` is refused, never waited on or read for ever).
pub fn read_pem(path: &Path) -> std::io::Result<Vec<u8>> {
    crate::regular_file::read(path, MAX_PEM_BYTES)
}

/// The certificates of the PEM file `path` (a chain), in order ([`read_pem`]'s bounds).
pub fn read_chain(path: &Path) -> std::io::Result<Vec<CertificateDer<'static>>> {
    CertificateDer::pem_slice_iter(&read_pem(path)?)
        .map(|c| c.map(CertificateDer::into_owned))
        .collect::<Result<_, _>>()
        .map_err(std::io::Error::other)
}

/// The private key of the PEM file `path` ([`read_pem`]'s bounds).
pub fn read_key(path: &Path) -> std::io::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(&read_pem(path)?).map_err(std::io::Error::other)
}

/// Builds a rustls acceptor from PEM files.
pub fn tls_acceptor(cfg: &TlsConfig) -> Result<TlsAcceptor, ServerError> {
    let file_err =
        |what: &'static str, path: &Path, e: &dyn std::fmt::Display| ServerError::TlsFile {
            what,
            path: path.display().to_string(),
            message: e.to_string(),
        };
    let certs =
        read_chain(&cfg.cert_file).map_err(|e| file_err("certificate", &cfg.cert_file, &e))?;
    if certs.is_empty() {
        return Err(file_err(
            "certificate",
            &cfg.cert_file,
            &"no certificate found",
        ));
    }
    let key = read_key(&cfg.key_file).map_err(|e| file_err("private key", &cfg.key_file, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    let builder = match &cfg.client_ca_file {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            let pem = read_pem(ca).map_err(|e| file_err("client ca", ca, &e))?;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| file_err("client ca", ca, &e))?;
                roots.add(cert).map_err(|e| file_err("client ca", ca, &e))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| ServerError::Tls(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// What a listener allows its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnLimits {
    pub max_connections: usize,
    pub max_per_peer: usize,
    pub first_byte_timeout: Duration,
    pub idle_timeout: Duration,
}

impl ConnLimits {
    /// The OTLP listeners' limits from `receivers.otlp.limits`.
    pub fn receiver(limits: &Limits) -> Self {
        Self {
            max_connections: limits.max_connections,
            max_per_peer: limits.max_connections_per_peer,
            first_byte_timeout: limits.first_byte_timeout,
            idle_timeout: limits.idle_timeout,
        }
    }

    /// The admin listener's: probes and scrapes open short connections, so a few per peer
    /// and short timeouts leave room for the kubelet whatever else connects.
    pub fn admin() -> Self {
        Self {
            max_connections: 512,
            max_per_peer: 32,
            first_byte_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
        }
    }
}

/// Open connections per client address.
#[derive(Default)]
struct Peers(Mutex<HashMap<IpAddr, usize>>);

/// One open connection of a peer; counted down on drop.
struct PeerSlot {
    peers: Arc<Peers>,
    ip: IpAddr,
}

impl Peers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        match self.0.lock() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        }
    }

    fn enter(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        let mut map = self.lock();
        let n = map.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(PeerSlot {
            peers: self.clone(),
            ip,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut map = self.peers.lock();
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Requests in flight on a connection and when the last one ended.
struct Activity {
    start: Instant,
    in_flight: AtomicUsize,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
        })
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// How long the connection has been idle, `None` while a request is in flight.
    fn idle_for(&self) -> Option<Duration> {
        (self.in_flight.load(Ordering::Acquire) == 0).then(|| {
            Duration::from_millis(
                self.now_ms()
                    .saturating_sub(self.last_ms.load(Ordering::Acquire)),
            )
        })
    }
}

/// Marks a request in flight until dropped.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.last_ms.store(self.0.now_ms(), Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The router, counting the requests in flight on one connection.
#[derive(Clone)]
struct Tracked {
    router: Router,
    activity: Arc<Activity>,
}

impl<B> tower::Service<http::Request<B>> for Tracked
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        self.activity.in_flight.fetch_add(1, Ordering::AcqRel);
        let guard = InFlight(self.activity.clone());
        let fut = tower::ServiceExt::oneshot(self.router.clone(), req.map(axum::body::Body::new));
        Box::pin(async move {
            let resp = fut.await;
            drop(guard);
            resp
        })
    }
}

/// Serves one connection until it ends, closing it gracefully when it has been idle for
/// `idle` or when `shutdown` is triggered.
async fn drive<C>(conn: C, activity: Arc<Activity>, idle: Duration, mut shutdown: Shutdown)
where
    C: GracefulConnection,
    C::Error: std::fmt::Display,
{
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        let wait = activity.idle_for().map_or(idle, |d| idle.saturating_sub(d));
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = tokio::time::sleep(wait.max(Duration::from_millis(10))), if !closing => {
                if activity.idle_for().is_some_and(|d| d >= idle) {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
            _ = shutdown.wait(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Whether the peer sends a first byte in time (a closed or silent connection does not).
async fn first_byte(stream: &TcpStream, timeout: Duration) -> bool {
    let mut b = [0u8; 1];
    matches!(
        tokio::time::timeout(timeout, stream.peek(&mut b)).await,
        Ok(Ok(n)) if n > 0
    )
}

/// A bound listener, ready to serve.
pub struct Listener {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    name: &'static str,
}

impl Listener {
    pub async fn bind(
        name: &'static str,
        addr: SocketAddr,
        tls: Option<&TlsConfig>,
    ) -> Result<Self, ServerError> {
        let tls = tls.map(tls_acceptor).transpose()?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        Ok(Self {
            listener,
            tls,
            name,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves on a thread of its own with its own runtime, so that neither busy runtime
    /// workers nor connections to other listeners can keep it from answering (the admin
    /// listener: probes). The handle ends when serving does.
    pub fn serve_on_own_thread(
        self,
        router: Router,
        limits: ConnLimits,
        shutdown: Shutdown,
        drain: Duration,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let std_listener = self.listener.into_std()?;
        let (tls, name) = (self.tls, self.name);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name(format!("slotel-{name}"))
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(std_listener) {
                        Ok(listener) => {
                            Listener {
                                listener,
                                tls,
                                name,
                            }
                            .serve(router, limits, shutdown, drain)
                            .await
                        }
                        Err(e) => tracing::error!(listener = name, error = %e, "cannot serve"),
                    }
                });
                let _ = done_tx.send(());
            })?;
        Ok(tokio::spawn(async move {
            let _ = done_rx.await;
        }))
    }

    /// Serves `router` until `shutdown` is triggered, then waits up to `drain` for open
    /// connections to finish their requests and closes those still open.
    pub async fn serve(
        self,
        router: Router,
        limits: ConnLimits,
        mut shutdown: Shutdown,
        drain: Duration,
    ) {
        let mut builder = Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            // Runs from the end of one request to the end of the next one's headers: the
            // idle timeout of a keep-alive connection.
            .header_read_timeout(limits.idle_timeout.max(Duration::from_secs(1)));
        builder
            .http2()
            .timer(TokioTimer::new())
            .initial_stream_window_size(4 << 20)
            .initial_connection_window_size(8 << 20)
            .max_frame_size(1 << 20)
            .max_concurrent_streams(256)
            .keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(20));
        let builder = Arc::new(builder);
        let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
        let peers = Arc::new(Peers::default());
        let name = self.name;
        let mut tasks = JoinSet::new();
        let mut refused: u64 = 0;
        loop {
            let accepted = tokio::select! {
                a = self.listener.accept() => a,
                _ = shutdown.wait() => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(listener = name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                refused += 1;
                if refused.is_power_of_two() {
                    tracing::warn!(
                        listener = name,
                        refused,
                        "connection limit reached, closing new connections"
                    );
                }
                continue;
            };
            let Some(peer_slot) = peers.enter(peer.ip(), limits.max_per_peer) else {
                refused += 1;
                if refused.is_power_of_two() {
                    tracing::warn!(
                        listener = name,
                        refused,
                        "per-peer connection limit reached, closing new connections"
                    );
                }
                continue;
            };
            let _ = stream.set_nodelay(true);
            let activity = Activity::new();
            let service = TowerToHyperService::new(Tracked {
                router: router.clone(),
                activity: activity.clone(),
            });
            let builder = builder.clone();
            let tls = self.tls.clone();
            let stop = shutdown.clone();
            tasks.spawn(async move {
                let _slots = (slot, peer_slot);
                if !first_byte(&stream, limits.first_byte_timeout).await {
                    return;
                }
                match tls {
                    Some(acceptor) => {
                        let tls_stream = match tokio::time::timeout(
                            limits.first_byte_timeout,
                            acceptor.accept(stream),
                        )
                        .await
                        {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(listener = name, %peer, error = %e, "tls handshake failed");
                                return;
                            }
                            Err(_) => return,
                        };
                        let conn = builder
                            .serve_connection_with_upgrades(TokioIo::new(tls_stream), service)
                            .into_owned();
                        drive(conn, activity, limits.idle_timeout, stop).await
                    }
                    None => {
                        let conn = builder
                            .serve_connection_with_upgrades(TokioIo::new(stream), service)
                            .into_owned();
                        drive(conn, activity, limits.idle_timeout, stop).await
                    }
                }
            });
        }
        drop(self.listener);
        let drained =
            tokio::time::timeout(drain, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(
                listener = name,
                open = tasks.len(),
                "connections still open after the drain deadline: closing them"
            );
            tasks.shutdown().await;
        }
    }
}
