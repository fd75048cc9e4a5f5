//! Shared test helpers: start slotel through the library API on port 0, read its file
//! exporter output, send raw HTTP and gRPC requests; [`otlp`] builds the requests.
#![allow(dead_code)]

pub mod backend;
pub mod otlp;
pub mod prometheus;
pub mod serve;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use slotel::app::{self, Running};
use slotel::config::*;
use slotel::pipeline::Exporter;

/// The `slotel` binary as a command, without the `SLOTEL_CONFIG` of the shell running the
/// tests.
pub fn slotel() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_slotel"));
    c.env_remove("SLOTEL_CONFIG");
    c
}

/// A loopback port free now (for a child process's config).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A config with both receivers and the admin listener on port 0 and a file exporter
/// writing to `out`.
pub fn config(out: Option<&Path>) -> Config {
    Config {
        source: "test".into(),
        receiver: OtlpReceiverConfig {
            grpc: Some(GrpcConfig {
                endpoint: any_port(),
                max_recv_msg_size: DEFAULT_MAX_MESSAGE_BYTES,
                tls: None,
            }),
            http: Some(HttpConfig {
                endpoint: any_port(),
                max_request_body_size: DEFAULT_MAX_MESSAGE_BYTES,
                tls: None,
                cors: None,
            }),
            auth: None,
            limits: Limits::default(),
            retry_after: Duration::from_secs(1),
        },
        redaction: None,
        exporters: out
            .map(|p| ExporterConfig {
                id: "file/out".into(),
                kind: ExporterKind::File {
                    path: p.to_path_buf(),
                },
            })
            .into_iter()
            .collect(),
        slo: SloConfig::default(),
        service: ServiceConfig {
            admin_endpoint: any_port(),
            admin_auth: None,
            logs: LogsConfig {
                level: "warn".into(),
                format: LogFormat::Text,
            },
            traces: PipelineConfig::default(),
            metrics: PipelineConfig::default(),
            logs_pipeline: PipelineConfig::default(),
            shutdown_timeout: Duration::from_secs(10),
            memory_limit: DEFAULT_MEMORY_LIMIT,
        },
    }
}

pub fn with_tokens(mut cfg: Config) -> Config {
    cfg.receiver.auth = Some(AuthConfig {
        tokens: vec![TokenConfig {
            token: "good-token".into(),
            tenant: "team-a".into(),
            cluster: Some("seoul-prod".into()),
        }],
    });
    cfg
}

pub struct Server {
    pub running: Running,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub admin: SocketAddr,
    pub out: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

/// Starts slotel with a file exporter in a fresh temp dir.
pub async fn start() -> Server {
    start_cfg(|c| c, Vec::new()).await
}

pub async fn start_cfg(
    tweak: impl FnOnce(Config) -> Config,
    extra: Vec<Arc<dyn Exporter>>,
) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let cfg = tweak(config(Some(&out)));
    let running = app::start_with(&cfg, extra).await.unwrap();
    let a = running.addresses;
    Server {
        grpc: a.grpc.unwrap(),
        http: a.http.unwrap(),
        admin: a.admin,
        out: Some(out),
        running,
        _dir: dir,
    }
}

/// [`start_cfg`] (no extra exporters) loading one SLO file, `name` holding `text`, from
/// the returned directory (rewrite the file there to reload it).
pub async fn start_with_slo_file(
    name: &str,
    text: &str,
    tweak: impl FnOnce(Config) -> Config,
) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    let glob = format!("{}/*.yaml", dir.path().display());
    let s = start_cfg(
        |mut c| {
            c.slo.files = vec![glob];
            tweak(c)
        },
        Vec::new(),
    )
    .await;
    (s, dir)
}

impl Server {
    pub fn metrics_text(&self) -> String {
        self.running.metrics().encode()
    }

    /// Sum of a metric over every label set whose labels contain all of `labels`.
    pub fn metric(&self, name: &str, labels: &[&str]) -> f64 {
        metric_sum(&self.metrics_text(), name, labels)
    }

    /// Counts (spans, data points, log records) in the file exporter's output.
    pub fn written(&self) -> Counts {
        match &self.out {
            Some(p) => count_file(p),
            None => Counts::default(),
        }
    }
}

pub fn metric_sum(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.starts_with(name) && matches!(l.as_bytes().get(name.len()), Some(b'{') | Some(b' '))
        })
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub spans: usize,
    pub points: usize,
    pub logs: usize,
}

pub fn count_file(path: &Path) -> Counts {
    let mut c = Counts::default();
    let Ok(text) = std::fs::read_to_string(path) else {
        return c;
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("file exporter line is JSON");
        for rs in v["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                c.spans += ss["spans"].as_array().map_or(0, |a| a.len());
            }
        }
        for rm in v["resourceMetrics"].as_array().into_iter().flatten() {
            for sm in rm["scopeMetrics"].as_array().into_iter().flatten() {
                for m in sm["metrics"].as_array().into_iter().flatten() {
                    for kind in [
                        "gauge",
                        "sum",
                        "histogram",
                        "exponentialHistogram",
                        "summary",
                    ] {
                        c.points += m[kind]["dataPoints"].as_array().map_or(0, |a| a.len());
                    }
                }
            }
        }
        for rl in v["resourceLogs"].as_array().into_iter().flatten() {
            for sl in rl["scopeLogs"].as_array().into_iter().flatten() {
                c.logs += sl["logRecords"].as_array().map_or(0, |a| a.len());
            }
        }
    }
    c
}

/// `data` gzipped at the fastest level, as slotel's exporters compress.
pub fn gzip_fast(data: &[u8]) -> Vec<u8> {
    gzip(data, flate2::Compression::fast())
}

/// `data` gzipped at the best level: slotel compresses at the fastest, so the two never
/// match by chance (the header's XFL byte alone differs).
pub fn gzip_best(data: &[u8]) -> Vec<u8> {
    gzip(data, flate2::Compression::best())
}

fn gzip(data: &[u8], level: flate2::Compression) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), level);
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Waits until `f` holds, polling; panics with `what` after 10 s.
pub async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

pub struct HttpResp {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// Sends one HTTP/1.1 request with the given headers and body; panics if it cannot.
pub async fn http_send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> HttpResp {
    http_try(method, url, headers, body)
        .await
        .expect("http request")
}

/// The `/metrics` text of the server whose admin listener is at `admin`.
pub async fn scrape_metrics(admin: std::net::SocketAddr) -> String {
    let r = http_send("GET", &format!("http://{admin}/metrics"), &[], Vec::new()).await;
    String::from_utf8_lossy(&r.body).into_owned()
}

/// Sends one HTTP/1.1 request; connection errors are `Err`.
pub async fn http_try(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Result<HttpResp, String> {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut req = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Full::new(body.into()))
        .map_err(|e| e.to_string())?;
    let resp = client.request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(HttpResp {
        status,
        headers,
        body,
    })
}

pub struct GrpcResp {
    pub code: i32,
    pub message: String,
    pub details: Option<Vec<u8>>,
    pub body: Bytes,
}

/// Sends raw bytes as one gRPC message (optionally already compressed with `encoding`);
/// panics if it cannot.
pub async fn grpc_send(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    message: &[u8],
    encoding: Option<&str>,
) -> GrpcResp {
    grpc_try(addr, path, headers, message, encoding)
        .await
        .expect("grpc request")
}

/// Sends raw bytes as one gRPC message; connection errors are `Err`.
pub async fn grpc_try(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    message: &[u8],
    encoding: Option<&str>,
) -> Result<GrpcResp, String> {
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let mut framed = Vec::with_capacity(message.len() + 5);
    framed.push(u8::from(encoding.is_some()));
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(message);
    let mut req = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(enc) = encoding {
        req = req.header("grpc-encoding", enc);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Full::new(Bytes::from(framed)))
        .map_err(|e| e.to_string())?;
    let resp = client.request(req).await.map_err(|e| e.to_string())?;
    let head = resp.headers().clone();
    let collected = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let body = collected.to_bytes();
    let get = |k: &str| {
        trailers
            .get(k)
            .or_else(|| head.get(k))
            .map(|v| v.as_bytes().to_vec())
    };
    let code = get("grpc-status")
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1);
    let message = get("grpc-message")
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default();
    let details = get("grpc-status-details-bin");
    let body = if body.len() >= 5 {
        body.slice(5..)
    } else {
        body
    };
    Ok(GrpcResp {
        code,
        message,
        details,
        body,
    })
}

pub const GRPC_TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
pub const GRPC_METRICS: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
pub const GRPC_LOGS: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// A child process killed (and reaped) when dropped, so a failing test leaves none
/// running.
pub struct KillOnDrop(pub std::process::Child);

impl std::ops::Deref for KillOnDrop {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `slotel run --config cfg` (stdout discarded, stderr into `log` or inherited, `env`
/// added, the proxy variables removed), once the admin listener at `admin` answers
/// `/readyz` with 200. `Err` with the log's text when the process exits first; panics when
/// it is not ready after 300 tries.
pub async fn run_config(
    cfg: &Path,
    admin: SocketAddr,
    log: Option<&Path>,
    env: &[(&str, &str)],
) -> Result<KillOnDrop, String> {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_slotel"));
    command
        .args(["run", "--config"])
        .arg(cfg)
        .stdout(std::process::Stdio::null());
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    if let Some(log) = log {
        command.stderr(std::fs::File::create(log).unwrap());
    }
    let mut child = KillOnDrop(command.spawn().unwrap());
    let ready = format!("http://{admin}/readyz");
    for _ in 0..300 {
        if let Ok(Some(status)) = child.try_wait() {
            let said = log.map(|l| std::fs::read_to_string(l).unwrap_or_default());
            return Err(format!("{status}: {}", said.unwrap_or_default()));
        }
        if let Ok(Ok(r)) = tokio::time::timeout(
            Duration::from_millis(500),
            http_try("GET", &ready, &[], Vec::new()),
        )
        .await
            && r.status == 200
        {
            return Ok(child);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("slotel did not become ready");
}

/// The real `slotel` binary, started on free ports with a config file.
pub struct Process {
    pub child: KillOnDrop,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub admin: SocketAddr,
    pub dir: tempfile::TempDir,
}

/// Starts `slotel run` with both receivers and the admin listener on free ports, the
/// given `exporters:` block and extra `service:` lines, and waits until it is ready.
/// `{dir}` in `exporters` is replaced by the process's temp dir.
pub async fn spawn_binary(exporters: &str, service: &str) -> Process {
    spawn(exporters, service, false, &[]).await
}

/// [`spawn_binary_logged`] with extra environment variables for the process.
pub async fn spawn_binary_with_env(
    exporters: &str,
    service: &str,
    env: &[(&str, &str)],
) -> Process {
    spawn(exporters, service, true, env).await
}

/// [`spawn_binary`], with slotel's own log (stderr) written to `slotel.log` in the
/// process's temp dir; read it with [`Process::log`].
pub async fn spawn_binary_logged(exporters: &str, service: &str) -> Process {
    spawn(exporters, service, true, &[]).await
}

async fn spawn(exporters: &str, service: &str, logged: bool, env: &[(&str, &str)]) -> Process {
    let dir = tempfile::tempdir().unwrap();
    let exporters = exporters.replace("{dir}", &dir.path().display().to_string());
    let cfg = dir.path().join("slotel.yaml");
    let log = logged.then(|| dir.path().join("slotel.log"));
    let (child, ports) = run_on_free_ports(&cfg, log.as_deref(), env, |p| {
        format!(
            "receivers:\n  otlp:\n    protocols:\n      grpc: {{endpoint: 127.0.0.1:{}}}\n      http: {{endpoint: 127.0.0.1:{}}}\n\
             exporters:\n{exporters}\n\
             service:\n  admin: {{endpoint: 127.0.0.1:{}}}\n{service}\n",
            p.grpc, p.http, p.admin
        )
    })
    .await
    .unwrap_or_else(|e| panic!("slotel exited before it was ready: {e}"));
    Process {
        child,
        grpc: ports.addr(ports.grpc),
        http: ports.addr(ports.http),
        admin: ports.addr(ports.admin),
        dir,
    }
}

/// Loopback ports for a child process's three listeners, each free when picked.
#[derive(Clone, Copy, Debug)]
pub struct Ports {
    pub grpc: u16,
    pub http: u16,
    pub admin: u16,
}

impl Ports {
    pub fn free() -> Ports {
        Ports {
            grpc: free_port(),
            http: free_port(),
            admin: free_port(),
        }
    }

    pub fn addr(&self, port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }
}

/// How many times [`run_on_free_ports`] starts a server whose port was taken.
const PORT_ATTEMPTS: usize = 5;

/// Writes `config(ports)` to `cfg` and starts `slotel run` on it ([`run_config`]) with the
/// admin listener on `ports.admin`, on fresh ports each try.
///
/// A port free when picked can be taken (by another test's connection) before the server
/// binds it; the server then exits at once. It is started again on other ports when its log
/// says "Address already in use" (or, without a log, on any exit before it is ready), at
/// most [`PORT_ATTEMPTS`] times. Any other exit is `Err` with the exit status and the log.
pub async fn run_on_free_ports(
    cfg: &Path,
    log: Option<&Path>,
    env: &[(&str, &str)],
    config: impl Fn(Ports) -> String,
) -> Result<(KillOnDrop, Ports), String> {
    let mut attempt = 1;
    loop {
        let ports = Ports::free();
        std::fs::write(cfg, config(ports)).unwrap();
        match run_config(cfg, ports.addr(ports.admin), log, env).await {
            Ok(child) => return Ok((child, ports)),
            Err(e) if attempt < PORT_ATTEMPTS && (log.is_none() || port_taken(&e)) => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Whether a server's log says one of its ports was taken.
pub fn port_taken(log: &str) -> bool {
    log.contains("Address already in use") || log.contains("address already in use")
}

impl Process {
    /// slotel's own log so far (empty unless started with [`spawn_binary_logged`]).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("slotel.log")).unwrap_or_default()
    }

    /// Waits for the process to exit, at most `limit`; `None` if it is still running
    /// (then it is killed).
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let started = tokio::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn sigterm(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// One span for [`spans_request`].
pub struct TestSpan<'a> {
    pub cluster: &'a str,
    pub service: &'a str,
    pub route: &'a str,
    pub end_unix_nanos: u64,
    pub duration_nanos: u64,
    pub status_code: i64,
}

/// A trace export request with one resource per (cluster, service) and server spans.
pub fn spans_request(
    spans: &[TestSpan<'_>],
) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
    use opentelemetry_proto::tonic::trace::v1::Span;
    use slotel::attr::kv;
    let spans = spans.iter().enumerate().map(|(i, s)| {
        let span = Span {
            trace_id: (i as u128 + 1).to_be_bytes().to_vec(),
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            name: format!("POST {}", s.route),
            kind: 2,
            start_time_unix_nano: s.end_unix_nanos - s.duration_nanos,
            end_time_unix_nano: s.end_unix_nanos,
            attributes: vec![
                kv("http.route", s.route),
                kv("http.response.status_code", s.status_code),
            ],
            status: (s.status_code >= 500).then(otlp::error_status),
            ..Default::default()
        };
        let attrs = vec![
            kv("service.name", s.service),
            kv("k8s.cluster.name", s.cluster),
        ];
        (attrs, span)
    });
    otlp::traces_of(otlp::by_resource(spans))
}

/// (total, good) of an SLO's `all` group.
pub fn counts(e: &slotel::slo::engine::Engine, name: &str) -> (u64, u64) {
    e.status()
        .iter()
        .find(|s| s.name == name && s.cluster == "all")
        .map_or((0, 0), |s| (s.total, s.good))
}

pub fn now_unix_nanos() -> u64 {
    #[allow(clippy::disallowed_types)]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// `GET /api/v1/slos` on an admin listener.
pub async fn slos(admin: SocketAddr) -> serde_json::Value {
    let r = http_send(
        "GET",
        &format!("http://{admin}/api/v1/slos"),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 200);
    serde_json::from_slice(&r.body).unwrap()
}

/// The entry of SLO `name` for `cluster` in a `/api/v1/slos` answer.
pub fn slo_entry<'a>(v: &'a serde_json::Value, name: &str, cluster: &str) -> &'a serde_json::Value {
    v["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name && e["cluster"] == cluster)
        .unwrap_or_else(|| panic!("no {name}/{cluster} in {v}"))
}
