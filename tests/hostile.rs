//! Attacks on the real binary, as a hostile sender or scanner would try them, over both
//! protocols. Each test asserts the status the attacker gets, that good clients are still
//! served, that `/healthz` keeps answering quickly from another address, and (where
//! memory is the target) the process's peak resident memory (VmHWM).

#[path = "hostile/admin_api.rs"]
mod admin_api;
#[path = "hostile/cardinality.rs"]
mod cardinality;
mod common;
#[path = "hostile/compression.rs"]
mod compression;
#[path = "hostile/framing.rs"]
mod framing;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::otlp::wire_field as field;
use common::{
    GRPC_METRICS, GRPC_TRACES, KillOnDrop, grpc_try, gzip_best, gzip_fast, http_try,
    now_unix_nanos, otlp, run_on_free_ports,
};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, Metric, metric,
};
use prost::Message;
use slotel::attr::kv;
use slotel::loadgen::{ContentOpts, generate};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

const TOKEN: &str = "tok-a";
const AUTH: (&str, &str) = ("authorization", "Bearer tok-a");
const PB: (&str, &str) = ("content-type", "application/x-protobuf");
/// The pod limit the shipped manifests give slotel.
const POD_LIMIT_KIB: u64 = 1024 * 1024;

struct Slotel {
    child: KillOnDrop,
    grpc: SocketAddr,
    http: SocketAddr,
    admin: SocketAddr,
    dir: tempfile::TempDir,
}

/// Spans the server has accepted so far, from its `/metrics`.
async fn accepted_spans(s: &Slotel) -> f64 {
    common::metric_sum(
        &common::scrape_metrics(s.admin).await,
        "slotel_receiver_accepted_spans_total",
        &[],
    )
}

/// Starts the binary with a token bound to cluster `a`, the example SLOs, a file exporter
/// and `limits` (a YAML flow map) under `receivers.otlp.limits`.
async fn spawn(limits: &str) -> Slotel {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("slotel.yaml");
    let out = dir.path().join("out.jsonl");
    let log = dir.path().join("start.log");
    start(dir, Some(&log), &cfg, |p| {
        format!(
            "receivers:\n  otlp:\n    protocols:\n      grpc: {{endpoint: 127.0.0.1:{}}}\n      http: {{endpoint: 127.0.0.1:{}}}\n\
             \x20   auth: {{tokens: [{{token: {TOKEN}, tenant: t, cluster: a}}]}}\n\
             \x20   limits: {limits}\n\
             exporters:\n  file/out: {{path: {}}}\n\
             slo: {{files: [embedded:examples]}}\n\
             service:\n  admin: {{endpoint: 127.0.0.1:{}}}\n  telemetry: {{logs: {{level: warn}}}}\n\
             \x20 pipelines:\n    traces: {{exporters: [file/out]}}\n    metrics: {{exporters: [file/out]}}\n    logs: {{exporters: [file/out]}}\n",
            p.grpc,
            p.http,
            out.display(),
            p.admin
        )
    })
    .await
}

/// Starts the binary with the config `config` writes for its ports (at `cfg`, in `dir`,
/// which the server keeps), its start-up log at `log`.
async fn start(
    dir: tempfile::TempDir,
    log: Option<&std::path::Path>,
    cfg: &std::path::Path,
    config: impl Fn(common::Ports) -> String,
) -> Slotel {
    let (child, ports) = run_on_free_ports(cfg, log, &[], config)
        .await
        .unwrap_or_else(|e| panic!("slotel did not start: {e}"));
    Slotel {
        child,
        grpc: ports.addr(ports.grpc),
        http: ports.addr(ports.http),
        admin: ports.addr(ports.admin),
        dir,
    }
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Peak resident memory of the process so far.
/// How many times each answer came back, over every attacker task.
async fn tally<T: Ord>(
    attackers: Vec<tokio::task::JoinHandle<Vec<T>>>,
) -> std::collections::BTreeMap<T, usize> {
    let mut seen = std::collections::BTreeMap::new();
    for a in attackers {
        for answer in a.await.unwrap() {
            *seen.entry(answer).or_insert(0) += 1;
        }
    }
    seen
}

fn vm_hwm_kib(s: &Slotel) -> u64 {
    status_kib(s.child.id(), "VmHWM:")
}

/// A TCP connection from a given loopback address (so per-peer limits see another peer).
async fn connect_from(src: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((src, 0)))?;
    socket.connect(to).await
}

/// `GET /healthz` over a new connection from 127.0.0.3: the time to a 200.
async fn healthz(admin: SocketAddr) -> Duration {
    let start = Instant::now();
    let attempt = async {
        let mut s = connect_from([127, 0, 0, 3], admin).await.ok()?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).await.ok()?;
        buf[..n].starts_with(b"HTTP/1.1 200").then_some(())
    };
    match tokio::time::timeout(Duration::from_secs(10), attempt).await {
        Ok(Some(())) => start.elapsed(),
        _ => Duration::from_secs(3600),
    }
}

/// Probes `/healthz` every 50 ms until `stop`, as a kubelet would: from a thread and
/// runtime of its own, so the test's own load generation does not delay the probe.
fn probe(admin: SocketAddr, stop: Arc<AtomicBool>) -> Probes {
    Probes(std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                seen.push(healthz(admin).await);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            seen
        })
    }))
}

struct Probes(std::thread::JoinHandle<Vec<Duration>>);

impl Probes {
    async fn done(self) -> Vec<Duration> {
        tokio::task::spawn_blocking(move || self.0.join().unwrap())
            .await
            .unwrap()
    }
}

/// Asserts the probes answered quickly: 95% within `p95`, and no stall that would fail a pod.
/// The kubelet restarts a container (or takes it out of service) after `failureThreshold`
/// (default 3) probes in a row past `timeoutSeconds` (default 1 s); probes here follow one
/// another 50 ms apart, so a stall of 3 s is what three failed probes in a row need. A
/// wedged process misses all of it; one scheduling hiccup of a shared two-core machine
/// (a probe or two past 1 s, out of hundreds) misses none.
fn assert_probes(what: &str, mut seen: Vec<Duration>, p95: Duration) {
    assert!(!seen.is_empty(), "{what}: no probe ran");
    seen.sort();
    let worst = *seen.last().unwrap();
    let p50 = seen[seen.len() / 2];
    let at95 = seen[(seen.len() * 95).div_ceil(100) - 1];
    let past_timeout = seen.iter().filter(|d| **d > Duration::from_secs(1)).count();
    println!(
        "{what}: /healthz over {} probes: p50 {p50:?}, p95 {at95:?}, max {worst:?}, \
         {past_timeout} past 1 s",
        seen.len()
    );
    assert!(at95 <= p95, "{what}: /healthz p95 {at95:?} (limit {p95:?})");
    assert!(
        worst < Duration::from_secs(3),
        "{what}: a /healthz probe took {worst:?}: three kubelet probes in a row would fail"
    );
    assert!(
        past_timeout * 100 <= seen.len(),
        "{what}: {past_timeout} of {} probes past the kubelet's 1 s timeout",
        seen.len()
    );
}

/// `slotel loadgen` (a real OTLP/gRPC client, one connection per request in flight)
/// against `s` for `secs` seconds with `conc` requests in flight: its JSON report.
async fn loadgen(s: &Slotel, conc: usize, secs: u64) -> serde_json::Value {
    let grpc = s.grpc;
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_slotel"))
            .args([
                "loadgen",
                "--token",
                TOKEN,
                "--report",
                "json",
                "--items-per-request",
                "512",
            ])
            .args([
                "--endpoint",
                &grpc.to_string(),
                "--concurrency",
                &conc.to_string(),
            ])
            .args(["--duration", &format!("{secs}s")])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "loadgen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A fleet of 256 clients sending as fast as they are answered, far past what the server
/// decodes: each holds at most a few decoded requests per pipeline, the rest wait with
/// their bodies or are told to retry, so the peak memory barely moves from that of 8
/// clients; the probes keep answering and no request is refused for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_clients_is_told_to_retry_and_memory_stays_flat() {
    let s = spawn("{}").await;
    let few = loadgen(&s, 8, 3).await;
    let hwm_few = vm_hwm_kib(&s);
    let stop = Arc::new(AtomicBool::new(false));
    let probes = probe(s.admin, stop.clone());
    let many = loadgen(&s, 256, 6).await;
    stop.store(true, Ordering::SeqCst);
    let hwm_many = vm_hwm_kib(&s);
    println!(
        "8 clients: {} spans acknowledged, peak {hwm_few} KiB; 256 clients: {} acknowledged, {} requests told to retry, peak {hwm_many} KiB",
        few["acknowledged_items"],
        many["acknowledged_items"],
        many["refused"]["retryable_requests"]
    );
    assert!(few["acknowledged_items"].as_u64().unwrap() > 0);
    assert!(many["acknowledged_items"].as_u64().unwrap() > 0, "{many}");
    assert!(
        many["refused"]["retryable_requests"].as_u64().unwrap() > 0,
        "past capacity, clients are told to retry: {many}"
    );
    assert_eq!(many["refused"]["permanent_requests"], 0, "{many}");
    assert_eq!(many["refused"]["transport_requests"], 0, "{many}");
    assert!(
        hwm_many <= hwm_few + 64 * 1024,
        "peak memory with 256 clients {hwm_many} KiB, with 8 {hwm_few} KiB"
    );
    assert_probes(
        "256 clients",
        probes.done().await,
        Duration::from_millis(250),
    );
}

fn valid_traces() -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(1);
    generate::traces(&mut rng, 50, &ContentOpts::default()).encode_to_vec()
}

async fn good_http(s: &Slotel) -> u16 {
    match http_try(
        "POST",
        &format!("http://{}/v1/traces", s.http),
        &[PB, AUTH],
        valid_traces(),
    )
    .await
    {
        Ok(r) => r.status,
        Err(_) => 0,
    }
}

async fn good_grpc(s: &Slotel) -> i32 {
    match grpc_try(s.grpc, GRPC_TRACES, &[AUTH], &valid_traces(), None).await {
        Ok(r) => r.code,
        Err(_) => -1,
    }
}

/// A traces request of `bytes` on the wire made of empty spans (two bytes each).
fn empty_spans(bytes: usize) -> Vec<u8> {
    field(1, &field(2, &[0x12, 0x00].repeat(bytes / 2)))
}

fn cart_metrics(
    points: Vec<ExponentialHistogramDataPoint>,
    explicit: Vec<HistogramDataPoint>,
) -> Vec<u8> {
    otlp::metrics_request(
        vec![kv("service.name", "cart")],
        vec![
            Metric {
                unit: "s".into(),
                ..otlp::exponential_histogram("http.server.request.duration", 1, points)
            },
            Metric {
                unit: "s".into(),
                ..otlp::histogram("http.server.request.duration", 1, explicit)
            },
        ],
    )
    .encode_to_vec()
}

fn exp_point(scale: i32, offset: i32, counts: Vec<u64>) -> ExponentialHistogramDataPoint {
    let now = now_unix_nanos();
    otlp::exponential_point(now - 10_000_000_000, now, scale, offset, counts)
}

fn explicit_point(bounds: Vec<f64>, counts: Vec<u64>, count: u64) -> HistogramDataPoint {
    let now = now_unix_nanos();
    HistogramDataPoint {
        start_time_unix_nano: now - 10_000_000_000,
        time_unix_nano: now,
        count,
        explicit_bounds: bounds,
        bucket_counts: counts,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crafted_metric_points_are_refused_and_nothing_wedges() {
    let s = spawn("{}").await;
    // One valid point of each kind, and points outside the data model: scale past 20 (63
    // sent the old bucket search into an endless loop under the engine's lock), below −10,
    // bucket indexes past i32, bounds out of order or not finite, counts that do not add up.
    let bad_exp = vec![
        exp_point(63, 0, vec![1, 2, 3]),
        exp_point(21, 0, vec![1]),
        exp_point(-11, 0, vec![1]),
        exp_point(i32::MIN, 0, vec![1]),
        exp_point(3, i32::MAX - 1, vec![1, 1, 1]),
    ];
    let bad_explicit = vec![
        explicit_point(vec![0.5, 0.1], vec![1, 1, 1], 3),
        explicit_point(vec![0.1, f64::NAN], vec![1, 1, 1], 3),
        explicit_point(vec![0.1, 0.5], vec![1, 1], 2),
        explicit_point(vec![0.1, 0.5], vec![5, 5, 5], 3),
    ];
    let rejected = bad_exp.len() + bad_explicit.len();
    let mut exp = bad_exp;
    exp.push(exp_point(3, -20, vec![4, 5, 6]));
    let mut explicit = bad_explicit;
    explicit.push(explicit_point(vec![0.1, 0.25, 0.5], vec![3, 2, 1, 0], 6));
    let body = cart_metrics(exp, explicit);

    let r = http_try(
        "POST",
        &format!("http://{}/v1/metrics", s.http),
        &[PB, AUTH],
        body.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    let resp = ExportMetricsServiceResponse::decode(&r.body[..]).unwrap();
    let partial = resp.partial_success.expect("partial success");
    assert_eq!(partial.rejected_data_points, rejected as i64, "{partial:?}");

    let g = tokio::time::timeout(
        Duration::from_secs(10),
        grpc_try(s.grpc, GRPC_METRICS, &[AUTH], &body, None),
    )
    .await
    .expect("grpc answers")
    .unwrap();
    assert_eq!(g.code, 0, "{}", g.message);
    let resp = ExportMetricsServiceResponse::decode(&g.body[..]).unwrap();
    assert_eq!(
        resp.partial_success.unwrap().rejected_data_points,
        rejected as i64
    );

    // Readers that take the engine's lock still answer, and so does everything else.
    for path in ["/metrics", "/api/v1/slos"] {
        let r = tokio::time::timeout(
            Duration::from_secs(5),
            http_try("GET", &format!("http://{}{path}", s.admin), &[], Vec::new()),
        )
        .await
        .unwrap_or_else(|_| panic!("{path} did not answer"))
        .unwrap();
        assert_eq!(r.status, 200, "{path}");
    }
    assert!(
        healthz(s.admin).await < Duration::from_secs(1),
        "a probe past the kubelet timeout"
    );
    assert_eq!(good_http(&s).await, 200);
    assert_eq!(good_grpc(&s).await, 0);
    let zipped = gzip_fast(&valid_traces());
    let g = grpc_try(s.grpc, GRPC_TRACES, &[AUTH], &zipped, Some("gzip"))
        .await
        .unwrap();
    assert_eq!(g.code, 0, "{}", g.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_would_decode_into_gigabytes_are_refused_before_decoding() {
    let s = spawn("{}").await;
    // Just under 16 MiB of empty spans: eight million spans, gigabytes once decoded; within
    // the body limit, so it is read whole and refused on what the wire says.
    let body = empty_spans((16 << 20) - 64);
    let r = http_try(
        "POST",
        &format!("http://{}/v1/traces", s.http),
        &[PB, AUTH],
        body.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 413, "{:?}", String::from_utf8_lossy(&r.body));
    let g = grpc_try(s.grpc, GRPC_TRACES, &[AUTH], &body, None)
        .await
        .unwrap();
    assert_eq!(g.code, 8, "RESOURCE_EXHAUSTED: {}", g.message);
    assert!(g.details.is_none(), "permanent: no RetryInfo");
    // A compressed message followed by more bytes: a unary call carries one message, and
    // the extra must not let the decompression escape the budget.
    let zipped = gzip_fast(&empty_spans(1 << 20));
    let mut framed = vec![1u8];
    framed.extend_from_slice(&(zipped.len() as u32).to_be_bytes());
    framed.extend_from_slice(&zipped);
    framed.extend_from_slice(&[1, 0, 0, 0, 0]);
    let status = h2_gzip_raw(s.grpc, GRPC_TRACES, framed).await;
    assert_eq!(status.as_deref(), Some("3"), "INVALID_ARGUMENT");
    let hwm = vm_hwm_kib(&s);
    println!(
        "peak RSS after two 16 MiB requests of empty spans: {} MiB",
        hwm / 1024
    );
    assert!(hwm < 256 * 1024, "peak RSS {hwm} KiB");
    assert_eq!(good_http(&s).await, 200);
    assert_eq!(good_grpc(&s).await, 0);
}

/// A request built to take the most memory per byte that the per-request limits let
/// through: spans of empty attributes (two bytes on the wire, a KeyValue once decoded).
fn attribute_heavy() -> Vec<u8> {
    let attrs = field(9, &[]).repeat(4000);
    let mut s = vec![0x0a, 16];
    s.extend_from_slice(&[1; 16]);
    s.extend_from_slice(&[0x12, 8]);
    s.extend_from_slice(&[2; 8]);
    s.extend_from_slice(&attrs);
    field(1, &field(2, &field(2, &s).repeat(150)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_adversarial_requests_stay_under_the_pod_limit() {
    let s = Arc::new(spawn("{}").await);
    let baseline = status_kib(s.child.id(), "VmRSS:");
    // Just under the 16 MiB body limit, so that each is read whole and judged on its
    // content rather than refused by its length.
    let heavy = Bytes::from(attribute_heavy());
    let empty = Bytes::from(empty_spans((16 << 20) - 64));
    let bomb = Bytes::from(gzip_fast(&empty_spans((16 << 20) - 64)));
    let json = Bytes::from(
        format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
            vec!["{}"; (16 << 20) / 3 - 64].join(",")
        )
        .into_bytes(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let probes = probe(s.admin, stop.clone());
    let mut attackers = Vec::new();
    for i in 0..8 {
        let (s, stop) = (s.clone(), stop.clone());
        let (heavy, empty, bomb, json) = (heavy.clone(), empty.clone(), bomb.clone(), json.clone());
        attackers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let url = format!("http://{}/v1/traces", s.http);
                let status = match i % 4 {
                    0 => grpc_try(s.grpc, GRPC_TRACES, &[AUTH], &heavy, None)
                        .await
                        .map_or(-1, |r| r.code),
                    1 => http_try("POST", &url, &[PB, AUTH], heavy.clone())
                        .await
                        .map_or(-1, |r| r.status as i32),
                    2 if statuses.len() % 2 == 0 => http_try(
                        "POST",
                        &url,
                        &[PB, AUTH, ("content-encoding", "gzip")],
                        bomb.clone(),
                    )
                    .await
                    .map_or(-1, |r| r.status as i32),
                    2 => grpc_try(s.grpc, GRPC_TRACES, &[AUTH], &bomb, Some("gzip"))
                        .await
                        .map_or(-1, |r| r.code),
                    _ => {
                        if statuses.len() % 2 == 0 {
                            http_try(
                                "POST",
                                &url,
                                &[("content-type", "application/json"), AUTH],
                                json.clone(),
                            )
                            .await
                            .map_or(-1, |r| r.status as i32)
                        } else {
                            grpc_try(s.grpc, GRPC_TRACES, &[AUTH], &empty, None)
                                .await
                                .map_or(-1, |r| r.code)
                        }
                    }
                };
                statuses.push(status);
            }
            statuses
        }));
    }
    let mut good = Vec::new();
    let until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < until {
        good.push(good_http(&s).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let seen = tally(attackers).await;
    let hwm = vm_hwm_kib(&s);
    println!(
        "attack statuses {seen:?}; baseline RSS {} MiB, peak {} MiB; good client {good:?}",
        baseline / 1024,
        hwm / 1024
    );
    // Accepted, refused for good (413 / RESOURCE_EXHAUSTED without retry) or told to
    // retry (429, or RESOURCE_EXHAUSTED with RetryInfo; 503 or UNAVAILABLE when every
    // decode slot stays busy). An HTTP/1.1 upload answered before
    // it was sent whole has its connection closed, which the client may see as an error
    // (-1) instead of the answer; the process itself keeps serving (probes, good client).
    for st in seen.keys() {
        assert!(
            [-1, 0, 8, 14, 200, 413, 429, 503].contains(st),
            "unexpected answer {st} in {seen:?}"
        );
    }
    let answered: usize = seen.iter().filter(|(k, _)| **k >= 0).map(|(_, n)| n).sum();
    assert!(
        seen.get(&-1).copied().unwrap_or(0) * 10 <= answered,
        "too many uploads without an answer: {seen:?}"
    );
    assert!(hwm < POD_LIMIT_KIB, "peak RSS {hwm} KiB over the pod limit");
    assert!(good.contains(&200), "good client never served: {good:?}");
    assert!(
        good.iter().all(|st| [200, 429, 503].contains(st)),
        "good client got {good:?}"
    );
    assert_probes(
        "adversarial load",
        probes.done().await,
        Duration::from_millis(100),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_refused_before_their_body_is_read() {
    let s = spawn("{}").await;
    // HTTP: the headers promise 16 MB that never come.
    let mut c = TcpStream::connect(s.http).await.unwrap();
    c.write_all(
        b"POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: 16000000\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(2), c.read(&mut buf))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 401"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    // A wrong token, too.
    let mut c = TcpStream::connect(s.http).await.unwrap();
    c.write_all(
        b"POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\nauthorization: Bearer tok-b\r\ncontent-length: 16000000\r\n\r\n",
    )
    .await
    .unwrap();
    let n = tokio::time::timeout(Duration::from_secs(2), c.read(&mut buf))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 401"));

    // gRPC: a stream whose message never ends.
    let (status, _) = tokio::time::timeout(
        Duration::from_secs(2),
        h2_trickle(s.grpc, GRPC_TRACES, None, 1 << 20, Duration::from_secs(60)),
    )
    .await
    .expect("answered without waiting for the body");
    assert_eq!(status.as_deref(), Some("16"), "UNAUTHENTICATED");
}

/// Sends one gRPC request on a new HTTP/2 connection whose body is `first` bytes of a
/// message framed as 16 MB and then nothing for `stall`; returns the grpc-status (from the
/// headers or trailers) and the HTTP status.
async fn h2_trickle(
    addr: SocketAddr,
    path: &str,
    auth: Option<&str>,
    first: usize,
    stall: Duration,
) -> (Option<String>, u16) {
    let (mut send, _conn) = h2_connect(addr).await;
    h2_request(&mut send, path, auth, first, stall).await
}

async fn h2_connect(
    addr: SocketAddr,
) -> (
    hyper::client::conn::http2::SendRequest<Trickle>,
    tokio::task::JoinHandle<()>,
) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    let task = tokio::spawn(async move {
        let _ = conn.await;
    });
    (send, task)
}

async fn h2_request(
    send: &mut hyper::client::conn::http2::SendRequest<Trickle>,
    path: &str,
    auth: Option<&str>,
    first: usize,
    stall: Duration,
) -> (Option<String>, u16) {
    let mut data = vec![0u8];
    data.extend_from_slice(&16_000_000u32.to_be_bytes());
    data.extend(std::iter::repeat_n(0x0a, first));
    let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
    h2_call(send, path, &headers, data, stall).await
}

/// One gRPC call on `send`: `body` (framing included) sent as it is, then nothing until
/// `stall` passes; returns the grpc-status (from the headers or the trailers) and the HTTP
/// status.
async fn h2_call(
    send: &mut hyper::client::conn::http2::SendRequest<Trickle>,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    stall: Duration,
) -> (Option<String>, u16) {
    let mut req = http::Request::builder()
        .method("POST")
        .uri(format!("http://x{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = Trickle {
        first: Some(Bytes::from(body)),
        stall: Box::pin(tokio::time::sleep(stall)),
    };
    let resp = match send.send_request(req.body(body).unwrap()).await {
        Ok(r) => r,
        Err(_) => return (None, 0),
    };
    let status = resp.status().as_u16();
    if let Some(g) = resp.headers().get("grpc-status") {
        return (Some(g.to_str().unwrap().to_string()), status);
    }
    use http_body_util::BodyExt;
    let trailers = resp
        .into_body()
        .collect()
        .await
        .ok()
        .and_then(|c| c.trailers().cloned());
    (
        trailers.and_then(|t| {
            t.get("grpc-status")
                .map(|v| v.to_str().unwrap().to_string())
        }),
        status,
    )
}

/// Sends `body` as it is (framing included) as one gRPC call with `grpc-encoding: gzip`;
/// returns the grpc-status.
async fn h2_gzip_raw(addr: SocketAddr, path: &str, body: Vec<u8>) -> Option<String> {
    let (mut send, _conn) = h2_connect(addr).await;
    let headers = [("grpc-encoding", "gzip"), ("authorization", "Bearer tok-a")];
    h2_call(&mut send, path, &headers, body, Duration::ZERO)
        .await
        .0
}

/// A body that sends one chunk, then nothing until `stall` passes.
struct Trickle {
    first: Option<Bytes>,
    stall: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl http_body::Body for Trickle {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        use std::future::Future;
        if let Some(b) = self.first.take() {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(b))));
        }
        match self.stall.as_mut().poll(cx) {
            std::task::Poll::Ready(()) => std::task::Poll::Ready(None),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_uploads_time_out_and_hold_little_memory() {
    let s = Arc::new(spawn("{body_timeout: 2s}").await);
    let stop = Arc::new(AtomicBool::new(false));
    let probes = probe(s.admin, stop.clone());
    // 100 HTTP/1.1 uploads that send 1 MiB of a promised 16 MB and stall.
    let mut uploads = Vec::new();
    for _ in 0..100 {
        let addr = s.http;
        uploads.push(tokio::spawn(async move {
            let mut c = TcpStream::connect(addr).await.ok()?;
            c.write_all(
                b"POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\nauthorization: Bearer tok-a\r\ncontent-length: 16000000\r\n\r\n",
            )
            .await
            .ok()?;
            c.write_all(&vec![0x0a; 1 << 20]).await.ok()?;
            let mut buf = [0u8; 64];
            let n = tokio::time::timeout(Duration::from_secs(15), c.read(&mut buf))
                .await
                .ok()?
                .ok()?;
            Some(String::from_utf8_lossy(&buf[..n]).to_string())
        }));
    }
    // One HTTP/2 connection with 40 streams, each 4 MiB into a 16 MB message, then stalled.
    let (send, _conn) = h2_connect(s.grpc).await;
    let mut streams = Vec::new();
    for _ in 0..40 {
        let mut send = send.clone();
        streams.push(tokio::spawn(async move {
            tokio::time::timeout(
                Duration::from_secs(15),
                h2_request(
                    &mut send,
                    GRPC_TRACES,
                    Some("Bearer tok-a"),
                    4 << 20,
                    Duration::from_secs(60),
                ),
            )
            .await
            .ok()
        }));
    }
    let mut answers = std::collections::BTreeMap::new();
    for u in uploads {
        let head = u.await.unwrap().unwrap_or_default();
        let status = head.get(9..12).unwrap_or("none").to_string();
        *answers.entry(status).or_insert(0) += 1;
    }
    let mut grpc_answers = std::collections::BTreeMap::new();
    for st in streams {
        let code = st.await.unwrap().map(|(g, _)| g.unwrap_or_default());
        *grpc_answers.entry(code).or_insert(0) += 1;
    }
    stop.store(true, Ordering::SeqCst);
    let hwm = vm_hwm_kib(&s);
    println!(
        "stalled HTTP/1.1 uploads: {answers:?}; HTTP/2 streams: {grpc_answers:?}; peak RSS {} MiB",
        hwm / 1024
    );
    // Every upload is answered: timed out (408) or, once the budget is in use, told to
    // retry (429); gRPC: DEADLINE_EXCEEDED (4) or RESOURCE_EXHAUSTED with retry (8).
    for k in answers.keys() {
        assert!(["408", "429"].contains(&k.as_str()), "{answers:?}");
    }
    for k in grpc_answers.keys() {
        assert!(
            matches!(k.as_deref(), Some("4") | Some("8")),
            "{grpc_answers:?}"
        );
    }
    assert!(hwm < 768 * 1024, "peak RSS {hwm} KiB");
    assert_probes(
        "stalled uploads",
        probes.done().await,
        Duration::from_millis(100),
    );
    assert_eq!(good_http(&s).await, 200);
    assert_eq!(good_grpc(&s).await, 0);
}

/// Whether the server closed `c` within `within` (a read returns end of stream or an error).
async fn closed_within(c: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(within, c.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_silent_connections_cannot_lock_anyone_out() {
    let s = spawn("{first_byte_timeout: 1s, idle_timeout: 2s, max_connections_per_peer: 64}").await;
    // 100 sockets from one address that never send a byte: past the per-peer cap they are
    // closed at once, the rest after the first-byte timeout.
    let mut silent = Vec::new();
    for _ in 0..100 {
        silent.push(TcpStream::connect(s.http).await.unwrap());
    }
    // 64 more on the admin port (its own per-peer cap is 32).
    let mut admin_silent = Vec::new();
    for _ in 0..64 {
        admin_silent.push(TcpStream::connect(s.admin).await.unwrap());
    }
    // Others are still served meanwhile, over both listeners and the admin port.
    let from_other = async {
        let mut c = connect_from([127, 0, 0, 2], s.http).await.unwrap();
        let body = valid_traces();
        let head = format!(
            "POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\nauthorization: Bearer tok-a\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        c.write_all(head.as_bytes()).await.unwrap();
        c.write_all(&body).await.unwrap();
        let mut buf = [0u8; 32];
        let n = c.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).to_string()
    };
    let answer = tokio::time::timeout(Duration::from_secs(5), from_other)
        .await
        .expect("another peer is served");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        healthz(s.admin).await < Duration::from_secs(1),
        "a probe past the kubelet timeout"
    );

    let mut at_once = 0;
    for c in &mut silent {
        if closed_within(c, Duration::from_millis(20)).await {
            at_once += 1;
        }
    }
    assert!(
        at_once >= 36,
        "only {at_once} of the 36 past the per-peer cap were closed at once"
    );
    for (i, c) in silent.iter_mut().chain(admin_silent.iter_mut()).enumerate() {
        assert!(
            closed_within(c, Duration::from_secs(5)).await,
            "silent connection {i} still open after the first-byte timeout"
        );
    }

    // A keep-alive HTTP/1.1 connection that goes quiet after one request is closed after
    // the idle timeout.
    let mut c = TcpStream::connect(s.http).await.unwrap();
    let body = valid_traces();
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\nauthorization: Bearer tok-a\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes()).await.unwrap();
    c.write_all(&body).await.unwrap();
    let started = Instant::now();
    assert!(
        closed_within(&mut c, Duration::from_secs(6)).await,
        "idle keep-alive connection stays open"
    );
    assert!(started.elapsed() >= Duration::from_millis(1500));

    // An HTTP/2 connection idle after one call is closed too.
    let (mut send, conn) = h2_connect(s.grpc).await;
    let (status, _) = h2_request(
        &mut send,
        GRPC_TRACES,
        Some("Bearer tok-b"),
        0,
        Duration::ZERO,
    )
    .await;
    assert_eq!(status.as_deref(), Some("16"));
    tokio::time::timeout(Duration::from_secs(6), conn)
        .await
        .expect("idle HTTP/2 connection closed")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_cluster_wins_at_every_level() {
    let s = spawn("{}").await;
    let mut rng = fastrand::Rng::with_seed(4);
    let mut req: ExportTraceServiceRequest = generate::traces(&mut rng, 4, &ContentOpts::default());
    let mut bare = req.resource_spans[0].clone();
    bare.resource = None;
    let rs = &mut req.resource_spans[0];
    let resource = rs.resource.get_or_insert_with(Default::default);
    resource.attributes.retain(|a| a.key != "k8s.cluster.name");
    resource.attributes.push(kv("k8s.cluster.name", "b"));
    resource.attributes.push(kv("k8s.cluster.name", "c"));
    let ss = &mut rs.scope_spans[0];
    ss.scope
        .get_or_insert_with(Default::default)
        .attributes
        .push(kv("k8s.cluster.name", "b"));
    for span in &mut ss.spans {
        span.attributes.push(kv("k8s.cluster.name", "b"));
        for e in &mut span.events {
            e.attributes.push(kv("k8s.cluster.name", "b"));
        }
    }
    req.resource_spans.push(bare);
    let r = http_try(
        "POST",
        &format!("http://{}/v1/traces", s.http),
        &[PB, AUTH],
        req.encode_to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    // The same over gRPC, with metrics whose data points claim cluster b.
    let mut metrics = generate::metrics(&mut rng, 10, &ContentOpts::default());
    for rm in &mut metrics.resource_metrics {
        for sm in &mut rm.scope_metrics {
            for m in &mut sm.metrics {
                if let Some(metric::Data::Sum(sum)) = &mut m.data {
                    for p in &mut sum.data_points {
                        p.attributes.push(kv("k8s.cluster.name", "b"));
                    }
                }
            }
        }
    }
    let g = grpc_try(
        s.grpc,
        GRPC_METRICS,
        &[AUTH],
        &metrics.encode_to_vec(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(g.code, 0, "{}", g.message);

    // Every resource written carries cluster a exactly once; nothing else names a cluster.
    let out = s.dir.path().join("out.jsonl");
    // slotel's own SLO series (scope `slotel`) carry the cluster as a label, not as a
    // resource attribute; they are written too, so wait for the two requests sent here.
    let own = |rs: &serde_json::Value| {
        rs["scopeMetrics"]
            .as_array()
            .is_some_and(|s| s.iter().all(|sm| sm["scope"]["name"] == "slotel"))
    };
    let requests = |text: &str| -> Vec<serde_json::Value> {
        // Whole lines only: the exporter may be writing the last one.
        let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        complete
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| {
                v.get("resourceSpans").is_some()
                    || v["resourceMetrics"]
                        .as_array()
                        .is_some_and(|r| !r.iter().all(own))
            })
            .collect()
    };
    let mut sent = Vec::new();
    for _ in 0..100 {
        sent = requests(&std::fs::read_to_string(&out).unwrap_or_default());
        if sent.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut resources = 0;
    for v in &sent {
        let all = v
            .get("resourceSpans")
            .or_else(|| v.get("resourceMetrics"))
            .and_then(|r| r.as_array())
            .expect("a traces or metrics request");
        for rs in all {
            if own(rs) {
                continue;
            }
            resources += 1;
            let attrs = rs["resource"]["attributes"].as_array().expect("a resource");
            let clusters: Vec<&serde_json::Value> = attrs
                .iter()
                .filter(|a| a["key"] == "k8s.cluster.name")
                .map(|a| &a["value"]["stringValue"])
                .collect();
            assert_eq!(clusters, vec!["a"], "{rs}");
            let mut rest = rs.clone();
            rest.as_object_mut().unwrap().remove("resource");
            assert!(
                !rest.to_string().contains("k8s.cluster.name"),
                "a cluster attribute below the resource: {rest}"
            );
        }
    }
    assert!(resources >= 3, "{sent:?}");
}

/// A few long span names at the start of a request of many spans: the names' column makes
/// room for what the request holds, not for every span as long as the first ones (which
/// would ask for hundreds of gigabytes and end the process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_first_values_do_not_size_the_columns_of_every_span() {
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    let s = spawn("{}").await;
    let long = "n".repeat(1024 * 1024);
    let now = now_unix_nanos();
    let span = |name: &str| Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        name: name.to_string(),
        kind: 2,
        start_time_unix_nano: now - 1_000_000,
        end_time_unix_nano: now,
        ..Default::default()
    };
    let mut spans: Vec<Span> = (0..6).map(|_| span(&long)).collect();
    spans.extend((0..80_000).map(|_| span("")));
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "checkout")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let body = request.encode_to_vec();
    assert!(body.len() < 15 * 1024 * 1024, "{} bytes", body.len());
    let r = grpc_try(s.grpc, GRPC_TRACES, &[AUTH], &body, None)
        .await
        .expect("an answer");
    assert_eq!(r.code, 0, "{}", r.message);
    assert_eq!(good_grpc(&s).await, 0, "the server still serves");
    let hwm = vm_hwm_kib(&s);
    assert!(hwm < 512 * 1024, "peak RSS {hwm} KiB");
    // Room asked for but never touched is not resident: the address space shows it.
    let peak = status_kib(s.child.id(), "VmPeak:");
    assert!(peak < 16 * 1024 * 1024, "peak address space {peak} KiB");
}
