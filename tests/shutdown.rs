//! Shutdown under load: the real binary gets SIGTERM while clients keep sending over gRPC
//! and HTTP; it exits 0 within the deadline, and every span it acknowledged is in the file
//! exporter's output.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;

use common::*;
use prost::Message;
use slotel::loadgen::{ContentOpts, generate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_exits_zero_and_loses_nothing() {
    let mut p = spawn_binary(
        "  file/out: {path: {dir}/out.jsonl}",
        "  shutdown_timeout: 10s\n  telemetry: {logs: {level: warn}}",
    )
    .await;
    let out = p.dir.path().join("out.jsonl");
    let (grpc, http) = (p.grpc.port(), p.http.port());

    let mut rng = fastrand::Rng::with_seed(21);
    let body = Arc::new(generate::traces(&mut rng, 64, &ContentOpts::default()).encode_to_vec());
    let acked = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for i in 0..6 {
        let (body, acked, stop) = (body.clone(), acked.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let ok = if i % 2 == 0 {
                    let addr = format!("127.0.0.1:{grpc}").parse().unwrap();
                    tokio::time::timeout(Duration::from_secs(5), try_grpc(addr, &body))
                        .await
                        .ok()
                        .flatten()
                        == Some(0)
                } else {
                    tokio::time::timeout(
                        Duration::from_secs(5),
                        try_post(&format!("http://127.0.0.1:{http}/v1/traces"), &body),
                    )
                    .await
                    .ok()
                    .flatten()
                        == Some(200)
                };
                if ok {
                    acked.fetch_add(64, Ordering::SeqCst);
                } else {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = acked.load(Ordering::SeqCst);
    assert!(before > 0, "load is flowing");
    p.sigterm();
    let started = Instant::now();
    let exit = loop {
        if let Some(code) = p.child.try_wait().unwrap() {
            break code;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "slotel did not exit within the deadline"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.unwrap();
    }
    assert_eq!(exit.code(), Some(0), "exit status {exit:?}");
    let written = count_file(&out);
    assert_eq!(
        written.spans,
        acked.load(Ordering::SeqCst),
        "acknowledged == written"
    );
}

async fn try_post(url: &str, body: &[u8]) -> Option<u16> {
    let pb = ("content-type", "application/x-protobuf");
    http_try("POST", url, &[pb], body.to_vec())
        .await
        .ok()
        .map(|r| r.status)
}

async fn try_grpc(addr: std::net::SocketAddr, body: &[u8]) -> Option<i32> {
    grpc_try(addr, GRPC_TRACES, &[], body, None)
        .await
        .ok()
        .map(|r| r.code)
}
