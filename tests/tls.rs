//! TLS on the receivers: a client that trusts the CA gets through over HTTP/1.1 and over
//! HTTP/2 (gRPC); with a client CA configured (mTLS), a client without a certificate is
//! refused at the handshake and one with a certificate signed by that CA gets through.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use slotel::config::TlsConfig;
use slotel::loadgen::{ContentOpts, generate};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, pki_types};

struct Pki {
    ca_pem: String,
    server: (String, String),
    client: (String, String),
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf = |names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Pki {
        ca_pem: ca.pem(),
        server: leaf(vec!["localhost".into()]),
        client: leaf(vec!["collector.seoul-prod".into()]),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn client_config(pki: &Pki, with_cert: bool, alpn: &[u8]) -> Arc<rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(pki_types::CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut cfg = if with_cert {
        let cert = pki_types::CertificateDer::from_pem_slice(pki.client.0.as_bytes()).unwrap();
        let key = pki_types::PrivateKeyDer::from_pem_slice(pki.client.1.as_bytes()).unwrap();
        builder.with_client_auth_cert(vec![cert], key).unwrap()
    } else {
        builder.with_no_client_auth()
    };
    cfg.alpn_protocols = vec![alpn.to_vec()];
    Arc::new(cfg)
}

/// One request over TLS; `Err` when the handshake or the request fails.
async fn send(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    h2: bool,
    req: http::Request<Full<Bytes>>,
) -> Result<(u16, http::HeaderMap), String> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let name = pki_types::ServerName::try_from("localhost").unwrap();
    let stream = TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let io = TokioIo::new(stream);
    let resp = if h2 {
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        sender.send_request(req).await.map_err(|e| e.to_string())?
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        sender.send_request(req).await.map_err(|e| e.to_string())?
    };
    let status = resp.status().as_u16();
    let collected = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok((status, collected.trailers().cloned().unwrap_or_default()))
}

fn http_request(addr: SocketAddr, body: &[u8]) -> http::Request<Full<Bytes>> {
    http::Request::post(format!("https://localhost:{}/v1/traces", addr.port()))
        .header("host", "localhost")
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap()
}

fn grpc_request(addr: SocketAddr, body: &[u8]) -> http::Request<Full<Bytes>> {
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
    framed.extend_from_slice(body);
    http::Request::post(format!("https://localhost:{}{GRPC_TRACES}", addr.port()))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(Bytes::from(framed)))
        .unwrap()
}

/// A trace export over HTTPS (HTTP/1.1), as a client with or without a certificate.
async fn post_http(
    addr: SocketAddr,
    pki: &Pki,
    with_cert: bool,
    body: &[u8],
) -> Result<(u16, http::HeaderMap), String> {
    let tls = client_config(pki, with_cert, b"http/1.1");
    send(addr, tls, false, http_request(addr, body)).await
}

/// A trace export over gRPC (h2 over TLS), as a client with or without a certificate.
async fn post_grpc(
    addr: SocketAddr,
    pki: &Pki,
    with_cert: bool,
    body: &[u8],
) -> Result<(u16, http::HeaderMap), String> {
    let tls = client_config(pki, with_cert, b"h2");
    send(addr, tls, true, grpc_request(addr, body)).await
}

/// slotel with `tls` on both receivers.
async fn start_tls(tls: &TlsConfig) -> Server {
    start_cfg(
        |mut c| {
            c.receiver.grpc.as_mut().unwrap().tls = Some(tls.clone());
            c.receiver.http.as_mut().unwrap().tls = Some(tls.clone());
            c
        },
        Vec::new(),
    )
    .await
}

#[tokio::test]
async fn tls_and_mtls_on_both_listeners() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let cert_file = write(dir.path(), "server.crt", &pki.server.0);
    let key_file = write(dir.path(), "server.key", &pki.server.1);
    let ca_file = write(dir.path(), "ca.crt", &pki.ca_pem);
    let mut rng = fastrand::Rng::with_seed(4);
    let body = generate::traces(&mut rng, 10, &ContentOpts::default()).encode_to_vec();

    // Server TLS only.
    let tls = TlsConfig {
        cert_file: cert_file.clone(),
        key_file: key_file.clone(),
        client_ca_file: None,
    };
    let s = start_tls(&tls).await;
    let (status, _) = post_http(s.http, &pki, false, &body).await.unwrap();
    assert_eq!(status, 200);
    let (status, trailers) = post_grpc(s.grpc, &pki, false, &body).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(trailers["grpc-status"], "0");
    // Plain text to a TLS port is not served.
    let url = format!("http://{}/v1/traces", s.http);
    let plain = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        http_try("POST", &url, &[], body.clone()),
    )
    .await;
    assert!(!matches!(plain, Ok(Ok(_))), "plain text got an answer");
    assert_eq!(s.metric("slotel_receiver_accepted_spans_total", &[]), 20.0);
    s.running.shutdown().await.unwrap();

    // mTLS.
    let mtls = TlsConfig {
        client_ca_file: Some(ca_file),
        ..tls
    };
    let s = start_tls(&mtls).await;
    let refused = post_http(s.http, &pki, false, &body).await;
    assert!(
        refused.is_err(),
        "a client without a certificate is refused"
    );
    let refused = post_grpc(s.grpc, &pki, false, &body).await;
    assert!(refused.is_err());
    let (status, _) = post_http(s.http, &pki, true, &body).await.unwrap();
    assert_eq!(status, 200);
    let (_, trailers) = post_grpc(s.grpc, &pki, true, &body).await.unwrap();
    assert_eq!(trailers["grpc-status"], "0");
    assert_eq!(s.metric("slotel_receiver_accepted_spans_total", &[]), 20.0);
    s.running.shutdown().await.unwrap();
}

/// A client that starts a TLS handshake and never finishes it, or that connects and sends
/// nothing, is closed after the first-byte timeout; a good client is served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_tls_handshakes_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let tls = TlsConfig {
        cert_file: write(dir.path(), "server.crt", &pki.server.0),
        key_file: write(dir.path(), "server.key", &pki.server.1),
        client_ca_file: None,
    };
    let s = start_cfg(
        |mut c| {
            c.receiver.http.as_mut().unwrap().tls = Some(tls.clone());
            c.receiver.limits.first_byte_timeout = std::time::Duration::from_secs(1);
            c
        },
        Vec::new(),
    )
    .await;
    // The first bytes of a ClientHello record header, then nothing.
    let mut stalled = Vec::new();
    for _ in 0..20 {
        let mut c = tokio::net::TcpStream::connect(s.http).await.unwrap();
        c.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
        stalled.push(c);
    }
    let mut silent = tokio::net::TcpStream::connect(s.http).await.unwrap();
    let mut rng = fastrand::Rng::with_seed(6);
    let body = generate::traces(&mut rng, 5, &ContentOpts::default()).encode_to_vec();
    let (status, _) = post_http(s.http, &pki, false, &body).await.unwrap();
    assert_eq!(status, 200);
    let started = tokio::time::Instant::now();
    for c in stalled.iter_mut().chain(std::iter::once(&mut silent)) {
        let mut buf = [0u8; 64];
        let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            loop {
                match c.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "a stalled handshake is still open");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    s.running.shutdown().await.unwrap();
}
