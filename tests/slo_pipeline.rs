//! SLOs through the real pipeline: spans sent over OTLP from three clusters show up in
//! `GET /api/v1/slos` with exact counts and percentiles within 0.1% of the exact values,
//! and as series on `/metrics`; state survives `kill -9` through snapshots; SIGHUP reloads
//! SLO files and keeps the old set when the new one is broken.

mod common;

use std::time::Duration;

use common::*;
use prost::Message;

const SLOS: &str = r#"
service: checkout
slos:
  - name: availability
    objective: 99.9
    window: 30d
    sli:
      spans:
        where: resource.attributes["service.name"] == "checkout" and kind == SPAN_KIND_SERVER
        bad: status.code == STATUS_CODE_ERROR or attributes["http.response.status_code"] >= 500
  - name: pay-latency
    objective: 99
    window: 28d
    sli:
      spans:
        where: attributes["http.route"] == "/api/pay" and kind == SPAN_KIND_SERVER
        latency_threshold: 300ms
    percentiles: [50, 90, 99, 99.9]
"#;

struct Sent {
    per_cluster: Vec<(String, u64, u64)>,
    pay_durations: Vec<u64>,
}

/// Sends 3 clusters × 2 routes of spans with explicit times; returns what was sent.
async fn send_traffic(grpc: std::net::SocketAddr, http: std::net::SocketAddr) -> Sent {
    let mut rng = fastrand::Rng::with_seed(17);
    let now = now_unix_nanos();
    let mut sent = Sent {
        per_cluster: Vec::new(),
        pay_durations: Vec::new(),
    };
    for (ci, cluster) in ["seoul-prod", "busan-prod", "tokyo-prod"]
        .into_iter()
        .enumerate()
    {
        let (mut total, mut good) = (0, 0);
        let mut spans = Vec::new();
        for i in 0..(1000 + ci * 500) {
            let route = if i % 2 == 0 { "/api/pay" } else { "/api/cart" };
            let z = (-2.0 * (1.0 - rng.f64()).ln()).sqrt()
                * (2.0 * std::f64::consts::PI * rng.f64()).cos();
            let duration = (60e6 * (0.7 * z).exp()) as u64 + 1_000;
            let status = if rng.f64() < 0.01 * (ci + 1) as f64 {
                503
            } else {
                200
            };
            total += 1;
            good += u64::from(status < 500);
            if route == "/api/pay" {
                sent.pay_durations.push(duration);
            }
            spans.push(TestSpan {
                cluster,
                service: "checkout",
                route,
                end_unix_nanos: now - rng.u64(0..60_000_000_000),
                duration_nanos: duration,
                status_code: status,
            });
        }
        for chunk in spans.chunks(300) {
            let body = spans_request(chunk).encode_to_vec();
            if ci == 1 {
                let r = http_send(
                    "POST",
                    &format!("http://{http}/v1/traces"),
                    &[("content-type", "application/x-protobuf")],
                    body,
                )
                .await;
                assert_eq!(r.status, 200);
            } else {
                assert_eq!(grpc_send(grpc, GRPC_TRACES, &[], &body, None).await.code, 0);
            }
        }
        sent.per_cluster.push((cluster.to_string(), total, good));
    }
    sent
}

fn write_slos(dir: &std::path::Path, text: &str) {
    std::fs::write(dir.join("checkout.yaml"), text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_from_three_clusters_give_exact_slos() {
    let (s, _slo_dir) = start_with_slo_file("checkout.yaml", SLOS, |c| c).await;
    let sent = send_traffic(s.grpc, s.http).await;
    let total: u64 = sent.per_cluster.iter().map(|c| c.1).sum();
    eventually("all spans recorded", || {
        s.metric("slotel_exporter_sent_items_total", &["exporter=\"slo\""]) as u64 == total
    })
    .await;

    let v = slos(s.admin).await;
    let all = slo_entry(&v, "availability", "all");
    let good: u64 = sent.per_cluster.iter().map(|c| c.2).sum();
    assert_eq!(all["total"], total);
    assert_eq!(all["good"], good);
    assert_eq!(all["window"], "30d");
    assert_eq!(all["objective"], 0.999);
    let ratio = (total - good) as f64 / total as f64;
    assert!((all["error_ratio"].as_f64().unwrap() - ratio).abs() < 1e-12);
    assert!((all["error_budget_remaining"].as_f64().unwrap() - (1.0 - ratio / 0.001)).abs() < 1e-9);
    assert!((all["burn_rate"]["1h"].as_f64().unwrap() - ratio / 0.001).abs() < 1e-9);
    for (cluster, total, good) in &sent.per_cluster {
        let e = slo_entry(&v, "availability", cluster);
        assert_eq!(e["total"], *total, "{cluster}");
        assert_eq!(e["good"], *good, "{cluster}");
    }

    let mut pay = sent.pay_durations.clone();
    pay.sort_unstable();
    let lat = slo_entry(&v, "pay-latency", "all");
    assert_eq!(lat["total"], pay.len());
    assert_eq!(
        lat["good"],
        pay.iter().filter(|d| **d <= 300_000_000).count()
    );
    assert_eq!(lat["window"], "28d");
    for (key, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)] {
        let rank = ((q * pay.len() as f64 - 1e-9).ceil() as usize).max(1);
        let want = pay[rank - 1] as f64 / 1e9;
        let got = lat["latency"][key].as_f64().unwrap();
        assert!(
            ((got - want) / want).abs() <= 0.001,
            "{key}: want {want} got {got}"
        );
    }

    // One SLO in detail, with every window.
    let r = http_send(
        "GET",
        &format!("http://{}/api/v1/slos/checkout/pay-latency", s.admin),
        &[],
        Vec::new(),
    )
    .await;
    let detail: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let windows = detail["slos"][0]["windows"].as_array().unwrap();
    let labels: Vec<_> = windows
        .iter()
        .map(|w| w["window"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "28d"]);
    let r = http_send(
        "GET",
        &format!("http://{}/api/v1/slos/checkout/nope", s.admin),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 404);

    // The same numbers as Prometheus series.
    let text = s.metrics_text();
    let m = |labels: &[&str]| metric_sum(&text, "slotel_slo_events_total", labels);
    assert_eq!(
        m(&[
            "slo=\"availability\"",
            "cluster=\"all\"",
            "outcome=\"good\""
        ]) as u64,
        good
    );
    assert_eq!(
        m(&["slo=\"availability\"", "cluster=\"all\"", "outcome=\"bad\""]) as u64,
        total - good
    );
    assert_eq!(
        m(&["slo=\"availability\"", "cluster=\"seoul-prod\""]) as u64,
        sent.per_cluster[0].1
    );
    assert!(
        text.contains(
            "slotel_slo_objective_ratio{slo=\"availability\",service=\"checkout\"} 0.999"
        )
    );
    assert!(text.contains("slotel_slo_burn_rate{slo=\"availability\",service=\"checkout\",cluster=\"all\",window=\"5m\"}"));
    assert!(text.contains("slotel_slo_latency_percentile_seconds{slo=\"pay-latency\",service=\"checkout\",cluster=\"all\",window=\"28d\",percentile=\"99.9\"}"));
    assert!(!text.contains("NaN"));
    s.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_kill_9_and_sighup_reloads_safely() {
    let slo_dir = tempfile::tempdir().unwrap();
    write_slos(slo_dir.path(), SLOS);
    let state = tempfile::tempdir().unwrap();
    let service = format!(
        "  telemetry: {{logs: {{level: warn}}}}\nslo:\n  files: [\"{}/*.yaml\"]\n  state_dir: {}\n  snapshot_interval: 1s",
        slo_dir.path().display(),
        state.path().display()
    );
    let mut p = spawn_binary("  nop:", &service).await;
    let sent = send_traffic(p.grpc, p.http).await;
    let total: u64 = sent.per_cluster.iter().map(|c| c.1).sum();
    let mut recorded = false;
    for _ in 0..100 {
        if slo_entry(&slos(p.admin).await, "availability", "all")["total"] == total {
            recorded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recorded);
    // Let a snapshot happen, then kill without any chance to clean up.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    p.child.kill().unwrap();
    p.child.wait().unwrap();

    // Restart on the same state dir (new ports).
    let mut p = spawn_binary("  nop:", &service).await;
    let v = slos(p.admin).await;
    assert_eq!(
        slo_entry(&v, "availability", "all")["total"],
        total,
        "restored after kill -9"
    );
    for (cluster, t, g) in &sent.per_cluster {
        let e = slo_entry(&v, "availability", cluster);
        assert_eq!(
            (e["total"].as_u64(), e["good"].as_u64()),
            (Some(*t), Some(*g))
        );
    }

    // A broken SLO file on SIGHUP: errors logged, the old set stays.
    write_slos(
        slo_dir.path(),
        "service: checkout\nslos:\n  - name: x\n    objective: 150\n",
    );
    let hup = |pid: u32| {
        std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
    };
    assert!(hup(p.child.id()).success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let v = slos(p.admin).await;
    assert_eq!(v["slos"].as_array().unwrap().len(), 8, "old set kept");
    assert_eq!(slo_entry(&v, "availability", "all")["total"], total);

    // A valid change: the unchanged SLO keeps its state, the new one starts empty.
    let changed = SLOS.replace("name: pay-latency", "name: pay-latency-v2");
    write_slos(slo_dir.path(), &changed);
    assert!(hup(p.child.id()).success());
    let mut reloaded = false;
    for _ in 0..50 {
        let v = slos(p.admin).await;
        if v["slos"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "pay-latency-v2")
        {
            assert_eq!(slo_entry(&v, "availability", "all")["total"], total);
            assert_eq!(slo_entry(&v, "pay-latency-v2", "all")["total"], 0);
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reloaded);
    p.sigterm();
    assert!(p.child.wait().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_slo_files_are_reloaded_without_a_signal() {
    let (s, slo_dir) = start_with_slo_file("checkout.yaml", SLOS, |c| c).await;
    assert_eq!(slos(s.admin).await["slos"].as_array().unwrap().len(), 2);
    // A broken edit is ignored…
    write_slos(slo_dir.path(), "service: checkout\nslos: [{name: x}]\n");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(slos(s.admin).await["slos"].as_array().unwrap().len(), 2);
    // …and a valid one is picked up within the watch interval.
    write_slos(
        slo_dir.path(),
        &SLOS.replace("name: pay-latency", "name: pay-latency-v2"),
    );
    let mut seen = false;
    for _ in 0..80 {
        let v = slos(s.admin).await;
        if v["slos"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "pay-latency-v2")
        {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the changed file was reloaded");
    s.running.shutdown().await.unwrap();
}
