//! The accept loop every slotel listener runs: optional TLS (rustls, ALPN h2 and
//! http/1.1, optional client CA for mTLS), HTTP/1.1 and HTTP/2 on the same port (gRPC
//! needs HTTP/2), a bound on open connections, and graceful shutdown: stop accepting,
//! let in-flight requests finish, then close.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use crate::config::TlsConfig;

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

/// Builds a rustls acceptor from PEM files.
pub fn tls_acceptor(cfg: &TlsConfig) -> Result<TlsAcceptor, ServerError> {
    let file_err =
        |what: &'static str, path: &Path, e: &dyn std::fmt::Display| ServerError::TlsFile {
            what,
            path: path.display().to_string(),
            message: e.to_string(),
        };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cfg.cert_file)
        .map_err(|e| file_err("certificate", &cfg.cert_file, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err("certificate", &cfg.cert_file, &e))?;
    if certs.is_empty() {
        return Err(file_err(
            "certificate",
            &cfg.cert_file,
            &"no certificate found",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&cfg.key_file)
        .map_err(|e| file_err("private key", &cfg.key_file, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    let builder = match &cfg.client_ca_file {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in
                CertificateDer::pem_file_iter(ca).map_err(|e| file_err("client ca", ca, &e))?
            {
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

    /// Serves `router` until `shutdown` turns true, then waits up to `drain` for open
    /// connections to finish their requests.
    pub async fn serve(
        self,
        router: Router,
        max_connections: usize,
        mut shutdown: watch::Receiver<bool>,
        drain: Duration,
    ) {
        let mut builder = Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30));
        builder
            .http2()
            .timer(TokioTimer::new())
            .initial_stream_window_size(4 << 20)
            .initial_connection_window_size(8 << 20)
            .max_frame_size(1 << 20)
            .max_concurrent_streams(256)
            .keep_alive_interval(Duration::from_secs(60));
        let builder = Arc::new(builder);
        let graceful = GracefulShutdown::new();
        let slots = Arc::new(Semaphore::new(max_connections.max(1)));
        let name = self.name;
        loop {
            let accepted = tokio::select! {
                a = self.listener.accept() => a,
                _ = shutdown.wait_for(|stop| *stop) => break,
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
                tracing::warn!(
                    listener = name,
                    "connection limit reached, closing new connection"
                );
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(router.clone());
            let builder = builder.clone();
            let watcher = graceful.watcher();
            let tls = self.tls.clone();
            tokio::spawn(async move {
                let _slot = slot;
                let result = match tls {
                    Some(acceptor) => match acceptor.accept(stream).await {
                        Ok(tls_stream) => {
                            let conn = builder
                                .serve_connection_with_upgrades(TokioIo::new(tls_stream), service)
                                .into_owned();
                            watcher.watch(conn).await
                        }
                        Err(e) => {
                            tracing::debug!(listener = name, %peer, error = %e, "tls handshake failed");
                            return;
                        }
                    },
                    None => {
                        let conn = builder
                            .serve_connection_with_upgrades(TokioIo::new(stream), service)
                            .into_owned();
                        watcher.watch(conn).await
                    }
                };
                if let Err(e) = result {
                    tracing::debug!(listener = name, %peer, error = %e, "connection ended with an error");
                }
            });
        }
        drop(self.listener);
        if tokio::time::timeout(drain, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                listener = name,
                "connections still open after the drain deadline"
            );
        }
    }
}
