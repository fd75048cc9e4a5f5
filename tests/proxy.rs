//! Exporters honour `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (and the lowercase names):
//! the real binary, started with those variables, exports through a small proxy written
//! here that counts what goes through it: `CONNECT` tunnels (gRPC) and forwarded
//! absolute-form requests (`otlphttp` to an `http://` backend).
//!
//! The backend's host names (`*.proxied.test`) resolve nowhere: only the proxy, which maps
//! them to the recording backend, can reach them, so a delivery proves the proxy was
//! used.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::backend::{recording_backend, wait_for};
use common::*;
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What went through the proxy: the request line's target, the `Proxy-Authorization`,
/// and for a tunnel the first byte the client sent through it.
#[derive(Debug, Clone, PartialEq)]
struct Passed {
    method: String,
    target: String,
    auth: Option<String>,
    first_byte: Option<u8>,
}

/// A proxy that maps every `*.test` host to `backend`; CONNECT and forwarding.
async fn counting_proxy(backend: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<Passed>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let store = seen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let _ = relay(client, backend, store).await;
            });
        }
    });
    (addr, seen)
}

async fn relay(
    mut client: TcpStream,
    backend: SocketAddr,
    store: Arc<Mutex<Vec<Passed>>>,
) -> std::io::Result<()> {
    // The request head, at most 16 KiB.
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > 16 * 1024 {
            return Ok(());
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).to_string();
    let rest = head[end..].to_vec();
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default().to_string(),
    );
    let auth = lines
        .clone()
        .find_map(|l| {
            l.strip_prefix("Proxy-Authorization: ")
                .or_else(|| l.strip_prefix("proxy-authorization: "))
        })
        .map(String::from);
    let host = if method == "CONNECT" {
        target.clone()
    } else {
        target
            .strip_prefix("http://")
            .and_then(|t| t.split('/').next())
            .unwrap_or_default()
            .to_string()
    };
    let reachable = host.split(':').next().is_some_and(|h| h.ends_with(".test"));
    let mut passed = Passed {
        method: method.clone(),
        target: target.clone(),
        auth,
        first_byte: None,
    };
    if !reachable {
        store.lock().unwrap().push(passed);
        client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            .await?;
        return Ok(());
    }
    let mut upstream = TcpStream::connect(backend).await?;
    if method == "CONNECT" {
        client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await?;
        let mut first = [0u8; 1];
        if rest.is_empty() {
            client.read_exact(&mut first).await?;
            upstream.write_all(&first).await?;
        } else {
            first[0] = rest[0];
        }
        passed.first_byte = Some(first[0]);
        store.lock().unwrap().push(passed);
    } else {
        store.lock().unwrap().push(passed);
        // Origin form for the backend; the proxy's own header stays here.
        let path = target.splitn(4, '/').nth(3).unwrap_or_default();
        let mut out = format!("{method} /{path} HTTP/1.1\r\n");
        for line in lines.filter(|l| !l.is_empty()) {
            if !line
                .to_ascii_lowercase()
                .starts_with("proxy-authorization:")
            {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
        out.push_str("\r\n");
        upstream.write_all(out.as_bytes()).await?;
    }
    upstream.write_all(&rest).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

fn trace_bytes() -> Vec<u8> {
    spans_request(&[TestSpan {
        cluster: "eu1",
        service: "checkout",
        route: "/cart",
        end_unix_nanos: now_unix_nanos(),
        duration_nanos: 1_000_000,
        status_code: 0,
    }])
    .encode_to_vec()
}

const SERVICE: &str = "  telemetry: {logs: {level: warn}}\n";

/// `otlp` (gRPC) and `otlphttp` exporters to `host`, on the backend's port.
fn exporters(grpc_host: &str, http_host: &str, port: u16) -> String {
    format!(
        "  otlp/grpc: {{endpoint: \"http://{grpc_host}:{port}\", compression: none}}\n\
         \x20 otlphttp/http: {{endpoint: \"http://{http_host}:{port}\", compression: none}}\n"
    )
}

/// An `otlphttp` exporter to an `https://` backend (which the plain backend cannot
/// answer: only the tunnel and its first bytes matter).
fn tls_exporter(host: &str, port: u16) -> String {
    format!(
        "  otlphttp/tls: {{endpoint: \"https://{host}:{port}\", compression: none, \
         retry_on_failure: {{initial_interval: 5s}}}}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exporter_goes_through_the_proxy_of_the_environment() {
    let (backend, seen) = recording_backend().await;
    let (proxy, passed) = counting_proxy(backend).await;
    let proxy_url = format!("http://user:pw@{proxy}");
    let slotel = spawn_binary_with_env(
        &(exporters("tempo.proxied.test", "loki.proxied.test", backend.port())
            + &tls_exporter("mimir.proxied.test", backend.port())),
        SERVICE,
        &[("HTTPS_PROXY", &proxy_url), ("HTTP_PROXY", &proxy_url)],
    )
    .await;
    let resp = grpc_send(slotel.grpc, GRPC_TRACES, &[], &trace_bytes(), None).await;
    assert_eq!(resp.code, 0, "{}", resp.message);
    let got = wait_for(&seen, 2).await;
    let mut paths: Vec<&str> = got.iter().map(|c| c.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, [GRPC_TRACES, "/v1/traces"]);

    let port = backend.port();
    let tls_target = format!("mimir.proxied.test:{port}");
    let mut tries = 0;
    while !passed
        .lock()
        .unwrap()
        .iter()
        .any(|p| p.target == tls_target)
        && tries < 100
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
        tries += 1;
    }
    let all = passed.lock().unwrap().clone();
    let (tls, mut passed): (Vec<Passed>, Vec<Passed>) =
        all.into_iter().partition(|p| p.target == tls_target);
    assert_eq!(tls.len(), 1, "{tls:?}");
    assert_eq!(tls[0].method, "CONNECT", "https:// goes through a tunnel");
    assert_eq!(
        tls[0].first_byte,
        Some(0x16),
        "TLS runs inside the tunnel: a ClientHello"
    );
    assert_eq!(tls[0].auth.as_deref(), Some("Basic dXNlcjpwdw=="));
    passed.sort_by(|a, b| a.method.cmp(&b.method));
    // base64("user:pw")
    let auth = Some("Basic dXNlcjpwdw==".to_string());
    assert_eq!(
        passed,
        [
            Passed {
                method: "CONNECT".into(),
                target: format!("tempo.proxied.test:{port}"),
                auth: auth.clone(),
                // The HTTP/2 preface, `PRI * HTTP/2.0`: plaintext gRPC in the tunnel.
                first_byte: Some(b'P'),
            },
            Passed {
                method: "POST".into(),
                target: format!("http://loki.proxied.test:{port}/v1/traces"),
                auth,
                first_byte: None,
            },
        ],
        "gRPC tunnels through HTTPS_PROXY, plain HTTP is forwarded to HTTP_PROXY"
    );
    for c in &got {
        assert!(
            c.headers.get("proxy-authorization").is_none(),
            "the proxy's credentials stay at the proxy"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lowercase_variables_and_no_proxy_bypass() {
    let (backend, seen) = recording_backend().await;
    let (proxy, passed) = counting_proxy(backend).await;
    let proxy_url = format!("http://{proxy}");
    // `bypassed.test` is listed in no_proxy: slotel connects to it itself, and the name
    // resolves nowhere, so nothing arrives from that exporter.
    let slotel = spawn_binary_with_env(
        &exporters("tempo.proxied.test", "bypassed.test", backend.port()),
        SERVICE,
        &[
            ("https_proxy", &proxy_url),
            ("http_proxy", &proxy_url),
            ("no_proxy", "example.com,bypassed.test"),
        ],
    )
    .await;
    let resp = grpc_send(slotel.grpc, GRPC_TRACES, &[], &trace_bytes(), None).await;
    assert_eq!(resp.code, 0, "{}", resp.message);
    let got = wait_for(&seen, 1).await;
    assert_eq!(got[0].path, GRPC_TRACES);
    // Give the bypassed exporter time to try (and fail to resolve) on its own.
    let url = format!("http://{}/metrics", slotel.admin);
    let mut tried = false;
    for _ in 0..100 {
        let metrics = http_send("GET", &url, &[], Vec::new()).await;
        let text = String::from_utf8_lossy(&metrics.body).to_string();
        tried = text.lines().any(|l| {
            l.starts_with("slotel_exporter_requests_total")
                && l.contains("otlphttp/http")
                && l.contains("retryable")
        });
        if tried {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        tried,
        "the bypassed exporter tried on its own (and could not resolve the name)"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let passed = passed.lock().unwrap().clone();
    assert_eq!(
        passed.len(),
        1,
        "only the gRPC exporter used the proxy: {passed:?}"
    );
    assert_eq!(passed[0].method, "CONNECT");
    // `wait_for` took the gRPC request; nothing came since.
    assert!(
        seen.lock().unwrap().is_empty(),
        "the bypassed exporter reached no backend"
    );
}
