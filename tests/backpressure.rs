//! A blocked exporter fills the queue: clients get UNAVAILABLE with RetryInfo (gRPC) or
//! 503 with Retry-After (HTTP), readiness goes false, and once the exporter unblocks,
//! everything that was acknowledged arrives.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use common::*;
use prost::Message;
use slotel::loadgen::{ContentOpts, generate};
use slotel::pipeline::{Batch, ExportError, Exporter};
use tokio::sync::Semaphore;

/// Waits for a gate permit before taking each batch, and counts what it took.
struct Blocked {
    gate: Arc<Semaphore>,
    spans: AtomicUsize,
}

#[async_trait]
impl Exporter for Blocked {
    fn id(&self) -> &str {
        "blocked"
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        self.gate
            .acquire()
            .await
            .map_err(|_| ExportError::Shutdown)?
            .forget();
        self.spans.fetch_add(batch.items, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn full_queue_answers_retry_later_and_loses_nothing() {
    let gate = Arc::new(Semaphore::new(0));
    let blocked = Arc::new(Blocked {
        gate: gate.clone(),
        spans: AtomicUsize::new(0),
    });
    let s = start_cfg(
        |mut c| {
            c.exporters.clear();
            c.service.traces.queue_max_bytes = 512 * 1024;
            c.receiver.retry_after = std::time::Duration::from_secs(2);
            c
        },
        vec![blocked.clone() as Arc<dyn Exporter>],
    )
    .await;

    let mut rng = fastrand::Rng::with_seed(9);
    let body = generate::traces(&mut rng, 100, &ContentOpts::default()).encode_to_vec();
    let (mut acked, mut grpc_unavailable, mut http_503) = (0usize, 0, 0);
    for i in 0..60 {
        if i % 2 == 0 {
            let g = grpc_send(s.grpc, GRPC_TRACES, &[], &body, None).await;
            match g.code {
                0 => acked += 100,
                14 => {
                    grpc_unavailable += 1;
                    let details = g.details.expect("UNAVAILABLE carries status details");
                    let status = tonic_types::Status::decode(&base64_decode(&details)[..]).unwrap();
                    let retry = status
                        .details
                        .iter()
                        .find(|d| d.type_url.ends_with("google.rpc.RetryInfo"))
                        .expect("RetryInfo detail");
                    let info = tonic_types::pb::RetryInfo::decode(&retry.value[..]).unwrap();
                    assert_eq!(info.retry_delay.unwrap().seconds, 2);
                }
                other => panic!("unexpected grpc status {other}: {}", g.message),
            }
        } else {
            let r = http_send(
                "POST",
                &format!("http://{}/v1/traces", s.http),
                &[("content-type", "application/x-protobuf")],
                body.clone(),
            )
            .await;
            match r.status {
                200 => acked += 100,
                503 => {
                    http_503 += 1;
                    assert_eq!(r.headers["retry-after"], "2");
                }
                other => panic!("unexpected http status {other}"),
            }
        }
    }
    assert!(acked > 0, "some requests fit the queue");
    assert!(
        grpc_unavailable > 0 && http_503 > 0,
        "{grpc_unavailable} {http_503}"
    );
    assert_eq!(
        s.metric(
            "slotel_receiver_refused_spans_total",
            &["reason=\"queue_full\""]
        ) as usize,
        (grpc_unavailable + http_503) * 100
    );
    // Queue over 90% full: not ready.
    let ready = http_send(
        "GET",
        &format!("http://{}/readyz", s.admin),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(ready.status, 503);

    gate.add_permits(10_000);
    eventually("every acknowledged span is exported", || {
        blocked.spans.load(Ordering::SeqCst) == acked
    })
    .await;
    // Ready again once nothing was turned away for a few seconds.
    let mut ready = 0;
    for _ in 0..200 {
        ready = http_send(
            "GET",
            &format!("http://{}/readyz", s.admin),
            &[],
            Vec::new(),
        )
        .await
        .status;
        if ready == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(ready, 200);
    // And the clients' retries now succeed.
    let g = grpc_send(s.grpc, GRPC_TRACES, &[], &body, None).await;
    assert_eq!(g.code, 0);
    s.running.shutdown().await.unwrap();
    assert_eq!(blocked.spans.load(Ordering::SeqCst), acked + 100);
}

/// gRPC binary metadata is base64 without padding.
fn base64_decode(v: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for &c in v.iter().filter(|c| **c != b'=') {
        let Some(x) = ALPHABET.iter().position(|a| *a == c) else {
            continue;
        };
        buf = (buf << 6) | x as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}
