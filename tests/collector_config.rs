//! OpenTelemetry Collector configs, as platform teams write them, given to `slotel check`:
//! every key is either read (perhaps translated), ignored with a warning that says what
//! slotel does instead, or refused with the reason; none gets a bare "unknown key".
//! And the collector's TLS default for `otlp` endpoints written `host:port`, seen on the
//! wire.
//!
//! Fixtures in `tests/fixtures/collector/`: a file with `# expect: L:C: path: message`
//! lines must fail with exactly those errors; one without must pass.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use prost::Message;
use slotel::config::{SystemLookup, parse};
use tokio::io::AsyncReadExt;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/collector");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 3, "{paths:?}");
    paths
}

fn check(path: &Path, explain: bool) -> (Option<i32>, String, String) {
    let mut c = common::slotel();
    c.arg("check").arg("--config").arg(path);
    if explain {
        c.arg("--explain");
    }
    let out = c.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The generic messages of the decoder for a key or id it does not know.
fn is_generic(line: &str) -> bool {
    [
        ": unknown key ",
        ": unknown receiver type ",
        ": unknown processor type ",
        ": unknown exporter type ",
        ": unknown pipeline ",
    ]
    .iter()
    .any(|m| line.contains(m))
}

#[test]
fn every_collector_key_is_read_or_gets_its_reason() {
    for path in fixtures() {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let expected: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .collect();
        let (code, stdout, stderr) = check(&path, false);
        let prefix = format!("{}:", path.display());
        let generic: Vec<&str> = stderr.lines().filter(|l| is_generic(l)).collect();
        assert!(
            generic.is_empty(),
            "{name}: generic errors:\n{}",
            generic.join("\n")
        );
        let errors: Vec<String> = stderr
            .lines()
            .filter(|l| !l.contains(": warning: "))
            .map(|l| l.replacen(&prefix, "", 1))
            .collect();
        assert_eq!(errors, expected, "{name}");
        if expected.is_empty() {
            assert_eq!(code, Some(0), "{name}: {stderr}");
            assert!(stdout.contains(": ok ("), "{name}: {stdout}");
        } else {
            assert_eq!(code, Some(1), "{name}");
        }
        // Each warning names its place and says what slotel does instead.
        let warnings: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains(": warning: "))
            .collect();
        assert!(!warnings.is_empty(), "{name}");
        for w in warnings {
            assert!(w.starts_with(&prefix), "{w}");
        }
    }
}

#[test]
fn explain_lists_each_collector_key_and_what_slotel_does() {
    let gateway =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/collector/gateway.yaml");
    let (code, stdout, _) = check(&gateway, true);
    assert_eq!(code, Some(0));
    let find = |path: &str| {
        stdout
            .lines()
            .find(|l| l.contains(&format!(": {path}: ")))
            .unwrap_or_else(|| panic!("no line for {path} in:\n{stdout}"))
            .to_string()
    };
    assert!(
        find("receivers.otlp.protocols.grpc.max_recv_msg_size_mib")
            .ends_with("translated: slotel's `max_recv_msg_size: 32MiB`")
    );
    assert!(
        find("service.telemetry.logs.encoding").ends_with("translated: slotel's `format: json`")
    );
    assert!(find("exporters.otlp/tempo.tls.insecure").contains("translated: as in the collector"));
    assert!(
        find("processors.batch").contains(
            "ignored: slotel batches per request: there is no batch processor; remove it"
        )
    );
    assert!(find("processors.memory_limiter").contains("memory_budget"));
    assert!(find("extensions").contains("ignored: slotel has no extensions"));
    assert!(find("service.pipelines.traces.receivers").contains("translated:"));
    assert!(find("service.pipelines.traces.processors").contains("memory_limiter, batch left out"));
    assert!(find("exporters.otlp/tempo.sending_queue.queue_size").contains("max_bytes"));
    // The gateway's file positions: `extensions` is on line 3.
    assert!(
        find("extensions").contains("gateway.yaml:3:1: "),
        "{stdout}"
    );
}

/// What the translated gateway config means: the values slotel will run with.
#[test]
fn the_gateway_config_means_what_the_collector_would_do() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/collector/gateway.yaml"),
    )
    .unwrap();
    let cfg = parse(&text, "gateway.yaml", &SystemLookup).expect("valid");
    let grpc = cfg.receiver.grpc.as_ref().unwrap();
    assert_eq!(grpc.max_recv_msg_size, 32 * 1024 * 1024);
    assert_eq!(
        cfg.receiver.http.as_ref().unwrap().max_request_body_size,
        33_554_432
    );
    assert_eq!(cfg.service.logs.format, slotel::config::LogFormat::Json);
    let endpoint = |id: &str| {
        let e = cfg.exporters.iter().find(|e| e.id == id).unwrap();
        match &e.kind {
            slotel::config::ExporterKind::OtlpGrpc(c, d) => (c.client.endpoint.clone(), d.clone()),
            slotel::config::ExporterKind::OtlpHttp(c, d) => (c.client.endpoint.clone(), d.clone()),
            slotel::config::ExporterKind::RemoteWrite(c, d) => {
                (c.client.endpoint.clone(), d.clone())
            }
            other => panic!("{other:?}"),
        }
    };
    let (tempo, delivery) = endpoint("otlp/tempo");
    assert_eq!(
        tempo, "http://tempo-distributor.tempo.svc.cluster.local:4317",
        "tls.insecure: plaintext"
    );
    assert_eq!(delivery.queue.num_consumers, 10);
    assert_eq!(delivery.retry.max_elapsed_time, Duration::from_secs(300));
    assert_eq!(
        endpoint("prometheusremotewrite/mimir").0,
        "https://mimir.example.com/api/v1/push"
    );
    // `processors: [memory_limiter, batch]` runs nothing here, as in the collector.
    assert_eq!(cfg.service.traces.processors, Some(Vec::new()));
    assert_eq!(
        cfg.service.logs_pipeline.exporters,
        Some(vec!["otlphttp/loki".to_string(), "debug".to_string()])
    );

    let agent = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/collector/agent.yaml"),
    )
    .unwrap();
    let cfg = parse(&agent, "agent.yaml", &SystemLookup).expect("valid");
    let slotel::config::ExporterKind::OtlpGrpc(otlp, delivery) = &cfg.exporters[0].kind else {
        panic!("{:?}", cfg.exporters[0]);
    };
    assert_eq!(
        otlp.client.endpoint, "https://otel-gateway.observability.svc:4317",
        "TLS by default"
    );
    assert_eq!(delivery.queue.max_bytes, 67_108_864, "sizer: bytes");
    assert_eq!(
        cfg.service.logs.format,
        slotel::config::LogFormat::Text,
        "console"
    );
    assert_eq!(cfg.service.logs.level, "debug");
}

/// Starts slotel with one `otlp` exporter to a raw TCP listener and returns the first
/// bytes the exporter writes there.
async fn first_bytes(exporter: impl Fn(std::net::SocketAddr) -> String) -> Vec<u8> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let yaml = format!(
        "receivers:\n  otlp:\n    protocols:\n      grpc: {{endpoint: 127.0.0.1:0}}\n\
         exporters:\n  otlp/x: {}\n\
         service:\n  admin: {{endpoint: 127.0.0.1:0}}\n  telemetry: {{logs: {{level: error}}}}\n  shutdown_timeout: 1s\n",
        exporter(addr)
    );
    let cfg = parse(&yaml, "tls-default", &SystemLookup).expect("config");
    let running = slotel::app::start_with(&cfg, Vec::new())
        .await
        .expect("start");
    let grpc = running.addresses.grpc.unwrap();
    let request = spans_request(&[TestSpan {
        cluster: "eu1",
        service: "checkout",
        route: "/",
        end_unix_nanos: now_unix_nanos(),
        duration_nanos: 1,
        status_code: 0,
    }]);
    let resp = grpc_send(grpc, GRPC_TRACES, &[], &request.encode_to_vec(), None).await;
    assert_eq!(resp.code, 0);
    let (mut conn, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("the exporter connects")
        .unwrap();
    let mut buf = vec![0u8; 16];
    tokio::time::timeout(Duration::from_secs(10), conn.read_exact(&mut buf))
        .await
        .expect("the exporter writes")
        .unwrap();
    drop(conn);
    let _ = running.shutdown().await;
    buf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_otlp_host_port_endpoint_is_tls_unless_insecure() {
    // A TLS record of type handshake (22), version 3.x: the ClientHello.
    let tls = first_bytes(|a| format!("{{endpoint: \"{a}\"}}")).await;
    assert_eq!(&tls[..2], &[0x16, 0x03], "{tls:?}");
    // The collector's `tls.insecure: true`: plaintext HTTP/2, starting with its preface.
    let plain = first_bytes(|a| format!("{{endpoint: \"{a}\", tls: {{insecure: true}}}}")).await;
    assert_eq!(&plain[..], b"PRI * HTTP/2.0\r\n");
    // A scheme decides by itself: `http://` is plaintext even without `insecure`.
    let http = first_bytes(|a| format!("{{endpoint: \"http://{a}\"}}")).await;
    assert_eq!(&http[..], b"PRI * HTTP/2.0\r\n");
    // ... and `https://` is TLS even with it.
    let https =
        first_bytes(|a| format!("{{endpoint: \"https://{a}\", tls: {{insecure: true}}}}")).await;
    assert_eq!(&https[..2], &[0x16, 0x03]);
}
