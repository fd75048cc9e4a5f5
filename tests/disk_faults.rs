//! Disk queue faults against the real binary: a second process on the same queue
//! directory, kill -9 under load, and readiness while a queue cannot write.
//!
//! The backend here is a plain HTTP server that takes OTLP/HTTP trace requests and counts
//! every span it receives by name, so lost and duplicated spans can be told apart.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use common::backend::serve;
use common::*;
use http_body_util::{BodyExt, Full};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use slotel::pipeline::{Batch, ExportError, Exporter};

type Seen = Arc<Mutex<HashMap<String, u32>>>;

/// A backend that counts spans by name; answers 503 while `down`.
async fn backend(down: Arc<AtomicBool>) -> (SocketAddr, Seen) {
    let seen: Seen = Arc::default();
    let store = seen.clone();
    let addr = serve(move |req: http::Request<hyper::body::Incoming>| {
        let (store, down) = (store.clone(), down.clone());
        async move {
            let body = req.into_body().collect().await.map(|c| c.to_bytes());
            let status = if down.load(Ordering::SeqCst) {
                503
            } else if let Ok(r) = ExportTraceServiceRequest::decode(body.unwrap_or_default()) {
                let mut seen = store.lock().unwrap();
                for rs in &r.resource_spans {
                    for ss in &rs.scope_spans {
                        for s in &ss.spans {
                            *seen.entry(s.name.clone()).or_default() += 1;
                        }
                    }
                }
                200
            } else {
                400
            };
            http::Response::builder()
                .status(status)
                .header("content-type", "application/x-protobuf")
                .body(Full::new(Bytes::new()))
                .unwrap()
        }
    })
    .await;
    (addr, seen)
}

/// A slotel process with a disk-queued `otlphttp` exporter to `backend`, its queue in
/// `queue_dir`.
struct Slotel {
    child: KillOnDrop,
    http: SocketAddr,
    admin: SocketAddr,
}

/// Starts slotel; `Err` with its exit status and stderr if it exits before it is ready.
/// Each start in `dir` has its own config and stderr files.
async fn spawn(dir: &Path, queue_dir: &Path, backend: SocketAddr) -> Result<Slotel, String> {
    static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTS.fetch_add(1, Ordering::Relaxed);
    let cfg = dir.join(format!("slotel-{n}.yaml"));
    let stderr = dir.join(format!("stderr-{n}.log"));
    let (child, ports) = run_on_free_ports(&cfg, Some(&stderr), &[], |p| {
        format!(
            "receivers:\n  otlp:\n    protocols:\n      grpc: {{endpoint: 127.0.0.1:{}}}\n      http: {{endpoint: 127.0.0.1:{}}}\n\
             exporters:\n  otlphttp/backend:\n    endpoint: \"http://{backend}\"\n    compression: none\n    retry_on_failure: {{initial_interval: 50ms, max_interval: 200ms}}\n    sending_queue: {{storage: disk, directory: \"{}\", fsync_interval: 50ms, cache_size: 1MiB}}\n\
             service:\n  admin: {{endpoint: 127.0.0.1:{}}}\n  telemetry: {{logs: {{level: warn}}}}\n",
            p.grpc,
            p.http,
            queue_dir.display(),
            p.admin
        )
    })
    .await?;
    Ok(Slotel {
        child,
        http: ports.addr(ports.http),
        admin: ports.addr(ports.admin),
    })
}

/// One request of `n` spans named `<prefix>-<j>`.
fn request(prefix: &str, n: usize) -> Vec<u8> {
    let now = now_unix_nanos();
    let spans = (0..n)
        .map(|j| Span {
            trace_id: vec![7; 16],
            span_id: (j as u64 + 1).to_be_bytes().to_vec(),
            name: format!("{prefix}-{j}"),
            start_time_unix_nano: now - 1_000_000,
            end_time_unix_nano: now,
            ..Default::default()
        })
        .collect();
    otlp::traces_request(vec![], spans).encode_to_vec()
}

async fn post(http: SocketAddr, body: Vec<u8>) -> Option<u16> {
    let url = format!("http://{http}/v1/traces");
    let headers = [("content-type", "application/x-protobuf")];
    match tokio::time::timeout(
        Duration::from_secs(5),
        http_try("POST", &url, &headers, body),
    )
    .await
    {
        Ok(Ok(r)) => Some(r.status),
        _ => None,
    }
}

/// Waits up to 60 s for the backend to see every span of `wanted`; how many it has not.
async fn missing_after_wait(seen: &Seen, wanted: &[String]) -> usize {
    let mut missing = wanted.len();
    for _ in 0..600 {
        missing = {
            let seen = seen.lock().unwrap();
            wanted.iter().filter(|n| !seen.contains_key(*n)).count()
        };
        if missing == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    missing
}

fn damaged_files(queue_dir: &Path) -> Vec<String> {
    std::fs::read_dir(queue_dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains("damaged") || n.contains("corrupt"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_on_the_same_queue_directory_is_refused_and_sets_nothing_aside() {
    let dir = tempfile::tempdir().unwrap();
    let queue_dir = dir.path().join("queue");
    let (addr, seen) = backend(Arc::default()).await;
    let first = spawn(dir.path(), &queue_dir, addr)
        .await
        .expect("first starts");
    assert_eq!(post(first.http, request("a", 5)).await, Some(200));

    let second = spawn(dir.path(), &queue_dir, addr).await;
    let stderr = match second {
        Err(stderr) => stderr,
        Ok(_) => panic!("a second slotel on the same queue directory must not start"),
    };
    assert!(
        stderr.contains("locked by another process") && stderr.contains("otlphttp_backend.redb"),
        "the error names the lock and the file: {stderr}"
    );
    assert!(damaged_files(&queue_dir).is_empty(), "nothing set aside");
    // The first one still works.
    let ready = format!("http://{}/readyz", first.admin);
    assert_eq!(
        http_try("GET", &ready, &[], Vec::new())
            .await
            .unwrap()
            .status,
        200
    );
    assert_eq!(post(first.http, request("b", 5)).await, Some(200));
    for _ in 0..100 {
        if seen.lock().unwrap().len() >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen.lock().unwrap().len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_no_acknowledged_span_and_bounds_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let queue_dir = dir.path().join("queue");
    let down = Arc::new(AtomicBool::new(true));
    let (addr, seen) = backend(down.clone()).await;
    let first = spawn(dir.path(), &queue_dir, addr).await.expect("starts");

    // Senders: each request is acknowledged (200) only once it is on disk.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for w in 0..4 {
        let (acked, stop, http) = (acked.clone(), stop.clone(), first.http);
        senders.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let prefix = format!("w{w}r{i}");
                if post(http, request(&prefix, 10)).await == Some(200) {
                    acked.lock().unwrap().push(prefix);
                }
                i += 1;
            }
        }));
    }
    // A backlog builds while the backend is down; then it drains under load.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut first = first;
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for s in senders {
        let _ = s.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "load was sent: {}", acked.len());

    let second = spawn(dir.path(), &queue_dir, addr)
        .await
        .expect("restarts on the same queue");
    let wanted: Vec<String> = acked
        .iter()
        .flat_map(|p| (0..10).map(move |j| format!("{p}-{j}")))
        .collect();
    let missing = missing_after_wait(&seen, &wanted).await;
    assert_eq!(missing, 0, "acknowledged spans lost after kill -9");
    let duplicates: u32 = seen.lock().unwrap().values().map(|c| c - 1).sum();
    let text = common::scrape_metrics(second.admin).await;
    let redelivered = metric_sum(&text, "slotel_exporter_redelivered_items_total", &[]);
    assert!(
        f64::from(duplicates) <= redelivered,
        "every duplicate is counted: {duplicates} seen, {redelivered} counted"
    );
    assert!(
        (duplicates as usize) < wanted.len() / 2,
        "duplicates bounded: {duplicates} of {}",
        wanted.len()
    );
    assert!(damaged_files(&queue_dir).is_empty());
    eprintln!(
        "kill -9: {} spans acknowledged, 0 lost, {duplicates} delivered twice",
        wanted.len()
    );
}

/// Senders posting 10-span requests to whatever instance `target` names, recording the
/// prefixes acknowledged (200: on disk). Stop with `stop`.
fn senders(
    target: Arc<Mutex<SocketAddr>>,
    acked: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    round: usize,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..4)
        .map(|w| {
            let (target, acked, stop) = (target.clone(), acked.clone(), stop.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let prefix = format!("k{round}w{w}r{i}");
                    let http = *target.lock().unwrap();
                    if post(http, request(&prefix, 10)).await == Some(200) {
                        acked.lock().unwrap().push(prefix);
                    }
                    i += 1;
                }
            })
        })
        .collect()
}

/// kill -9 at random points (seeded) of eight runs, with the backend going down and up
/// at random too: every span any run acknowledged reaches the backend after the last
/// restart, and duplicates stay bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_points_of_many_runs_loses_no_acknowledged_span() {
    let dir = tempfile::tempdir().unwrap();
    let queue_dir = dir.path().join("queue");
    let down = Arc::new(AtomicBool::new(false));
    let (addr, seen) = backend(down.clone()).await;
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut rng = fastrand::Rng::with_seed(912);
    let mut kill_points = Vec::new();
    for round in 0..8 {
        let run = spawn(dir.path(), &queue_dir, addr)
            .await
            .unwrap_or_else(|e| panic!("run {round} restarts on the same queue: {e}"));
        let target = Arc::new(Mutex::new(run.http));
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = senders(target, acked.clone(), stop.clone(), round);
        let until_kill = Duration::from_millis(rng.u64(100..1500));
        kill_points.push(until_kill.as_millis());
        let flap = tokio::spawn({
            let down = down.clone();
            let mut rng = fastrand::Rng::with_seed(round as u64);
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(rng.u64(50..400))).await;
                    down.store(rng.bool(), Ordering::SeqCst);
                }
            }
        });
        tokio::time::sleep(until_kill).await;
        let mut run = run;
        run.child.kill().unwrap(); // SIGKILL
        run.child.wait().unwrap();
        flap.abort();
        stop.store(true, Ordering::SeqCst);
        for t in tasks {
            let _ = t.await;
        }
    }
    down.store(false, Ordering::SeqCst);
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 40, "load was sent: {}", acked.len());
    let last = spawn(dir.path(), &queue_dir, addr)
        .await
        .expect("restarts after eight kills");
    let wanted: Vec<String> = acked
        .iter()
        .flat_map(|p| (0..10).map(move |j| format!("{p}-{j}")))
        .collect();
    let missing = missing_after_wait(&seen, &wanted).await;
    assert_eq!(
        missing, 0,
        "acknowledged spans lost after kill -9 at {kill_points:?} ms"
    );
    let duplicates: u32 = seen.lock().unwrap().values().map(|c| c - 1).sum();
    assert!(
        (duplicates as usize) < wanted.len() / 2,
        "duplicates bounded: {duplicates} of {}",
        wanted.len()
    );
    assert!(damaged_files(&queue_dir).is_empty());
    drop(last);
    eprintln!(
        "kill -9 at {kill_points:?} ms: {} spans acknowledged, 0 lost, {duplicates} delivered twice",
        wanted.len()
    );
}

/// An exporter whose disk cannot be written.
struct Blocked;

#[async_trait]
impl Exporter for Blocked {
    fn id(&self) -> &str {
        "test/blocked"
    }
    fn has_room(&self) -> bool {
        false
    }
    fn blocked(&self) -> Option<String> {
        Some("disk queue i/o error: No space left on device".to_string())
    }
    async fn export(&self, _batch: &Batch) -> Result<(), ExportError> {
        Ok(())
    }
}

#[tokio::test]
async fn readyz_is_503_with_the_reason_while_a_disk_queue_cannot_write() {
    let server = start_cfg(|c| c, vec![Arc::new(Blocked)]).await;
    let r = http_try(
        "GET",
        &format!("http://{}/readyz", server.admin),
        &[],
        Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 503);
    let body = String::from_utf8_lossy(&r.body);
    assert!(body.contains("No space left on device"), "{body}");
    // Receivers answer retry-later meanwhile.
    let status = post(server.http, request("x", 1)).await;
    assert!(matches!(status, Some(429 | 503)), "{status:?}");
}

/// Unmounts the tmpfs under a queue directory when the test ends.
struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// A real filesystem that fills up: the queue lives on a 6 MiB tmpfs (the tests run as
/// root, as CI does). Receivers answer retry-later and `/readyz` says why while the disk is
/// full; once space is freed the queue takes requests again by itself, with no restart, and
/// every acknowledged span reaches the backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_with_retry_and_recovers_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let queue_dir = dir.path().join("queue");
    std::fs::create_dir_all(&queue_dir).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=6m", "tmpfs"])
        .arg(&queue_dir)
        .status()
        .unwrap();
    assert!(
        mounted.success(),
        "mount a tmpfs for the queue (needs root)"
    );
    let _unmount = Mounted(queue_dir.clone());
    // Room that is given back later.
    let filler = queue_dir.join("filler");
    std::fs::write(&filler, vec![1u8; 2 << 20]).unwrap();

    let down = Arc::new(AtomicBool::new(true));
    let (addr, seen) = backend(down.clone()).await;
    let p = spawn(dir.path(), &queue_dir, addr).await.expect("starts");

    // Acknowledged requests pile up in the queue until the disk is full.
    let mut acked = Vec::new();
    let mut refused = None;
    for i in 0..2000 {
        let prefix = format!("r{i}");
        match post(p.http, request(&prefix, 300)).await {
            Some(200) => acked.push(prefix),
            Some(status) => {
                refused = Some(status);
                break;
            }
            None => {}
        }
    }
    let refused = refused.expect("the disk filled up");
    assert!([429, 503].contains(&refused), "retry-later, got {refused}");
    assert!(acked.len() > 5, "{} requests acknowledged", acked.len());
    let ready = format!("http://{}/readyz", p.admin);
    let r = http_send("GET", &ready, &[], Vec::new()).await;
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));

    // Space comes back: the queue takes requests again, still in the same process.
    std::fs::remove_file(&filler).unwrap();
    let mut recovered = false;
    for i in 0..300 {
        let prefix = format!("after{i}");
        if post(p.http, request(&prefix, 10)).await == Some(200) {
            acked.push(prefix);
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the queue did not recover after space was freed");
    assert!(p.child.id() > 0);

    // The backend comes back: everything acknowledged is delivered.
    down.store(false, Ordering::SeqCst);
    let wanted: Vec<String> = acked
        .iter()
        .flat_map(|prefix| {
            let n = if prefix.starts_with("after") { 10 } else { 300 };
            (0..n).map(move |j| format!("{prefix}-{j}"))
        })
        .collect();
    let missing = missing_after_wait(&seen, &wanted).await;
    assert_eq!(missing, 0, "acknowledged spans lost across a full disk");
    let r = http_send("GET", &ready, &[], Vec::new()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    eprintln!(
        "full disk: {} requests acknowledged before and after, first refusal {refused}",
        acked.len()
    );
}
