//! SLO totals survive `kill -9`: with `slo.state_dir`, the real binary takes spans over
//! OTLP/HTTP and gRPC from concurrent senders, is killed with SIGKILL at random moments
//! under load, and after each restart `/api/v1/slos` counts every acknowledged event —
//! per SLO and cluster, totals and good events — and of the events whose request was not
//! acknowledged (cut off by the kill, refused) at most those.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    GRPC_TRACES, KillOnDrop, TestSpan, grpc_try, http_try, now_unix_nanos, run_on_free_ports,
    spans_request,
};
use prost::Message;

struct Slotel {
    _child: KillOnDrop,
    grpc: SocketAddr,
    http: SocketAddr,
    admin: SocketAddr,
}

/// Starts slotel with the example SLOs and its state in `dir/state`.
async fn spawn(dir: &Path, snapshot_interval: &str) -> Slotel {
    try_spawn(dir, snapshot_interval)
        .await
        .unwrap_or_else(|e| panic!("slotel exited ({e})"))
}

/// [`spawn`], or its log if it exits before it is ready.
async fn try_spawn(dir: &Path, snapshot_interval: &str) -> Result<Slotel, String> {
    static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let cfg = dir.join(format!("slotel-{n}.yaml"));
    let stderr = dir.join(format!("stderr-{n}.log"));
    let state = dir.join("state");
    let (child, ports) = run_on_free_ports(&cfg, Some(&stderr), &[], |p| {
        format!(
            "receivers:\n  otlp:\n    protocols:\n      grpc: {{endpoint: 127.0.0.1:{}}}\n      http: {{endpoint: 127.0.0.1:{}}}\n\
             exporters:\n  nop:\n\
             slo:\n  files: [\"embedded:examples\"]\n  state_dir: \"{}\"\n  snapshot_interval: {snapshot_interval}\n  wal_max_bytes: 256KiB\n\
             service:\n  admin: {{endpoint: 127.0.0.1:{}}}\n  telemetry: {{logs: {{level: warn}}}}\n",
            p.grpc,
            p.http,
            state.display(),
            p.admin
        )
    })
    .await?;
    Ok(Slotel {
        _child: child,
        grpc: ports.addr(ports.grpc),
        http: ports.addr(ports.http),
        admin: ports.addr(ports.admin),
    })
}

/// Events by (SLO, cluster): (total, good).
type Tally = BTreeMap<(&'static str, &'static str), (u64, u64)>;

#[derive(Default)]
struct Books {
    acknowledged: Tally,
    /// Sent, but the answer was not a success (cut off by the kill, or refused).
    in_doubt: Tally,
    requests_acked: u64,
    requests_in_doubt: u64,
}

fn add(t: &mut Tally, other: &Tally) {
    for (k, (n, g)) in other {
        let e = t.entry(*k).or_default();
        e.0 += n;
        e.1 += g;
    }
}

fn sub(t: &mut Tally, other: &Tally) {
    for (k, (n, g)) in other {
        let e = t.entry(*k).or_default();
        e.0 -= n;
        e.1 -= g;
    }
}

/// A tiny deterministic generator (xorshift), seeded per run and printed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ROUTES: [&str; 3] = ["/api/pay", "/api/cart", "/api/pay"];
const CLUSTERS: [&str; 2] = ["seoul", "busan"];

/// One request of `n` checkout server spans and what the example SLOs count of it:
/// `checkout/availability` every span (good unless 5xx), `checkout/pay-latency` the
/// spans on `/api/pay` (good up to 300 ms).
fn request(rng: &mut Rng, n: usize) -> (Vec<u8>, Tally) {
    let now = now_unix_nanos();
    let mut tally = Tally::new();
    let mut spans = Vec::new();
    for _ in 0..n {
        let cluster = CLUSTERS[rng.below(2) as usize];
        let route = ROUTES[rng.below(3) as usize];
        let status_code = if rng.below(10) == 0 { 503 } else { 200 };
        let duration_nanos = (1 + rng.below(600)) * 1_000_000;
        spans.push(TestSpan {
            cluster,
            service: "checkout",
            route,
            end_unix_nanos: now - 1_000_000_000,
            duration_nanos,
            status_code,
        });
        for c in [cluster, "all"] {
            let e = tally.entry(("availability", c)).or_default();
            e.0 += 1;
            e.1 += u64::from(status_code < 500);
            if route == "/api/pay" {
                let e = tally.entry(("pay-latency", c)).or_default();
                e.0 += 1;
                e.1 += u64::from(duration_nanos <= 300_000_000);
            }
        }
    }
    (spans_request(&spans).encode_to_vec(), tally)
}

/// Sends until `stop`, half the senders over HTTP, half over gRPC.
async fn sender(p: (SocketAddr, SocketAddr), grpc: bool, seed: u64, books: Arc<Mutex<Books>>) {
    let mut rng = Rng(seed | 1);
    loop {
        let n = 1 + rng.below(40) as usize;
        let (body, tally) = request(&mut rng, n);
        // In doubt from the moment it is sent (the sender may be stopped mid-request).
        {
            let mut b = books.lock().unwrap();
            add(&mut b.in_doubt, &tally);
            b.requests_in_doubt += 1;
        }
        let ok = if grpc {
            match grpc_try(p.0, GRPC_TRACES, &[], &body, None).await {
                Ok(r) => r.code == 0,
                Err(_) => false,
            }
        } else {
            let url = format!("http://{}/v1/traces", p.1);
            match http_try(
                "POST",
                &url,
                &[("content-type", "application/x-protobuf")],
                body,
            )
            .await
            {
                Ok(r) => r.status == 200,
                Err(_) => false,
            }
        };
        let mut b = books.lock().unwrap();
        if ok {
            sub(&mut b.in_doubt, &tally);
            b.requests_in_doubt -= 1;
            add(&mut b.acknowledged, &tally);
            b.requests_acked += 1;
        } else {
            drop(b);
            // The process is gone (or refusing): do not spin.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// (total, good) of `checkout/<name>` for `cluster`: its roll-up entry (the one without
/// `group`), which sums the cluster's `group_by` groups.
fn shown(v: &serde_json::Value, name: &str, cluster: &str) -> (u64, u64) {
    let rollups: Vec<_> = v["slos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["service"] == "checkout" && e["name"] == name && e["cluster"] == cluster)
        .filter(|e| e.get("group").is_none_or(|g| g.is_null()))
        .collect();
    assert!(rollups.len() <= 1, "one roll-up per cluster: {rollups:?}");
    rollups.first().map_or((0, 0), |e| {
        (
            e["total"].as_u64().unwrap_or(0),
            e["good"].as_u64().unwrap_or(0),
        )
    })
}

/// Every acknowledged event is counted; beyond them, at most the events in doubt.
fn check(v: &serde_json::Value, acked: &Tally, doubt: &Tally, when: &str) -> u64 {
    let mut extra = 0;
    for ((name, cluster), (n, g)) in acked {
        let (total, good) = shown(v, name, cluster);
        let (dn, dg) = doubt.get(&(*name, *cluster)).copied().unwrap_or_default();
        assert!(
            total >= *n && total <= n + dn,
            "{when}: {name}/{cluster}: {total} events counted, {n} acknowledged, {dn} in doubt"
        );
        assert!(
            good >= *g && good <= g + dg,
            "{when}: {name}/{cluster}: {good} good counted, {g} acknowledged, {dg} in doubt"
        );
        extra += total - n;
    }
    extra
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slo_totals_after_kill_9_under_load_equal_what_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let seed = now_unix_nanos();
    eprintln!("seed {seed}");
    let mut rng = Rng(seed | 1);
    let mut acked = Tally::new();
    let mut doubt = Tally::new();
    let (mut requests_acked, mut requests_doubt) = (0, 0);
    // Snapshots every second (and whenever 256 KiB of log has piled up), so kills land
    // before, during and after snapshots.
    for round in 0..4 {
        let p = spawn(dir.path(), "1s").await;
        let before = common::slos(p.admin).await;
        let extra = check(&before, &acked, &doubt, &format!("restart {round}"));
        eprintln!("restart {round}: {extra} events beyond the acknowledged ones counted");
        let books = Arc::new(Mutex::new(Books::default()));
        let senders: Vec<_> = (0..8u64)
            .map(|i| {
                tokio::spawn(sender(
                    (p.grpc, p.http),
                    i % 2 == 1,
                    rng.next() ^ i,
                    books.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(400 + rng.below(1_600))).await;
        drop(p); // SIGKILL, senders still sending
        tokio::time::sleep(Duration::from_millis(50)).await;
        for s in senders {
            s.abort();
            let _ = s.await;
        }
        let b = books.lock().unwrap();
        assert!(
            b.requests_acked > 0,
            "round {round}: nothing was acknowledged"
        );
        add(&mut acked, &b.acknowledged);
        add(&mut doubt, &b.in_doubt);
        requests_acked += b.requests_acked;
        requests_doubt += b.requests_in_doubt;
    }
    let p = spawn(dir.path(), "1s").await;
    let after = common::slos(p.admin).await;
    check(&after, &acked, &doubt, "last restart");
    let (n, _) = acked[&("availability", "all")];
    let (d, _) = doubt
        .get(&("availability", "all"))
        .copied()
        .unwrap_or_default();
    let counted = shown(&after, "availability", "all").0;
    eprintln!(
        "4 kills, checkout/availability, all clusters: {requests_acked} requests ({n} events) \
         acknowledged, all counted; {requests_doubt} requests ({d} events) in doubt, {} of \
         them counted",
        counted - n
    );
}

/// Posts one request of `n` spans over HTTP; its tally if it was acknowledged.
async fn post_acked(http: SocketAddr, rng: &mut Rng, n: usize) -> Option<Tally> {
    let (body, tally) = request(rng, n);
    let url = format!("http://{http}/v1/traces");
    let r = http_try(
        "POST",
        &url,
        &[("content-type", "application/x-protobuf")],
        body,
    )
    .await;
    r.ok().filter(|r| r.status == 200).map(|_| tally)
}

/// A second slotel started on the `state_dir` of a running one (snapshots every second)
/// used to replay the first one's log, write its own frames at the same positions and,
/// with its first snapshot, delete the segment the first one was writing: events the
/// first one acknowledged afterwards were gone at its next start (400 of 710 with the
/// release binary). The second one is refused at start, naming the directory, and every
/// event the first acknowledged is counted after it is killed and started again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_on_the_same_state_dir_is_refused_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5eed_2026_1207);
    let mut acked = Tally::new();
    let first = spawn(dir.path(), "30s").await;
    for _ in 0..5 {
        add(
            &mut acked,
            &post_acked(first.http, &mut rng, 20)
                .await
                .expect("acknowledged"),
        );
    }
    let second = try_spawn(dir.path(), "1s").await;
    for _ in 0..5 {
        add(
            &mut acked,
            &post_acked(first.http, &mut rng, 20)
                .await
                .expect("acknowledged"),
        );
    }
    drop(first); // SIGKILL: its last events are in its log only
    // Time for a second process's snapshots to cover (and delete) what the first logged.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let second = second.map(drop);
    let again = spawn(dir.path(), "30s").await;
    let after = common::slos(again.admin).await;
    check(&after, &acked, &Tally::new(), "after the second process");
    let log = second.expect_err("a second slotel on one state_dir must not start");
    assert!(
        log.contains("locked by another process")
            && log.contains(&dir.path().join("state").display().to_string()),
        "the error names the lock and the directory: {log}"
    );
}
