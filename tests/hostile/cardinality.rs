//! Group cardinality chosen by the sender: `group_by` values and clusters are whatever a
//! client puts in its attributes. A group is made only for values of at most 256 bytes
//! (longer ones count in `__overflow__`), so `max_groups` bounds the engine's memory and
//! the size of every answer that lists the groups; and those answers are built off the
//! admin runtime's one thread, so a large `/metrics` or `/api/v1/slos` never delays the
//! probes.

use super::*;
use common::otlp::{server_span, traces_request};

const LONGEST: usize = 256;

/// A checkout server span (the example `availability` SLO groups by `http.route`).
fn checkout_span(n: u64, route: String, now: u64) -> opentelemetry_proto::tonic::trace::v1::Span {
    let mut s = server_span(n, "GET", now - 1_000_000, now, false);
    s.attributes = vec![kv("http.route", route)];
    s
}

async fn send_spans(s: &Slotel, routes: Vec<String>) {
    let now = now_unix_nanos();
    let spans = routes
        .into_iter()
        .enumerate()
        .map(|(i, r)| checkout_span(i as u64 + 1, r, now))
        .collect();
    let body = traces_request(vec![kv("service.name", "checkout")], spans).encode_to_vec();
    let r = http_try(
        "POST",
        &format!("http://{}/v1/traces", s.http),
        &[PB, AUTH],
        body,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// The groups of checkout `availability` in cluster `a`: (route, total).
async fn routes(s: &Slotel) -> Vec<(String, u64)> {
    let v = common::slos(s.admin).await;
    v["slos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["service"] == "checkout" && e["name"] == "availability")
        .filter_map(|e| {
            let route = e["group"].get("http.route")?.as_str()?.to_string();
            Some((route, e["total"].as_u64().unwrap()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_values_past_the_limit_count_in_the_overflow_group() {
    let s = spawn("{}").await;
    // Ten routes a byte past the limit (each of them 64 KiB would hold 50 groups x 64 KiB
    // for good, and repeat them in every series), and ten that fit, the longest exactly.
    let mut sent: Vec<String> = (0..10)
        .map(|i| format!("/long/{i}/{}", "x".repeat(LONGEST)))
        .map(|r| r[..LONGEST + 1].to_string())
        .collect();
    sent.extend((0..9).map(|i| format!("/short/{i}")));
    let exact = format!("/exact/{}", "y".repeat(LONGEST - "/exact/".len()));
    sent.push(exact.clone());
    send_spans(&s, sent).await;
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = routes(&s).await;
        if seen.iter().map(|(_, n)| n).sum::<u64>() == 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen.iter().map(|(_, n)| n).sum::<u64>(),
        20,
        "every span counts: {seen:?}"
    );
    let longest = seen.iter().map(|(r, _)| r.len()).max().unwrap();
    assert_eq!(longest, LONGEST, "no group past {LONGEST} bytes: {seen:?}");
    assert!(seen.contains(&(exact, 1)));
    assert!(seen.contains(&("/short/3".to_string(), 1)));
    assert!(
        seen.contains(&("__overflow__".to_string(), 10)),
        "the long routes count in the overflow group: {seen:?}"
    );
    let metrics = common::scrape_metrics(s.admin).await;
    assert!(!metrics.contains("/long/"), "no series for a long route");
    assert!(metrics.contains("/short/3"));
}

/// Starts the binary as [`spawn`] does, with one more SLO: checkout server spans grouped by
/// `http.route`, up to `max_groups`, and `slo.max_groups_total` of `total`.
async fn spawn_grouped(max_groups: usize, total: usize) -> Slotel {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("slotel.yaml");
    let slos = dir.path().join("routes.yaml");
    std::fs::write(
        &slos,
        format!(
            "service: routes\nslos:\n  - name: availability\n    objective: 99\n    window: 30d\n\
             \x20   sli:\n      spans:\n        where: kind == SPAN_KIND_SERVER\n\
             \x20       latency_threshold: 300ms\n\
             \x20   group_by: ['attributes[\"http.route\"]']\n    max_groups: {max_groups}\n"
        ),
    )
    .unwrap();
    start(dir, None, &cfg, |p| {
        format!(
            "receivers:\n  otlp:\n    protocols:\n      grpc: {{endpoint: 127.0.0.1:{}}}\n      http: {{endpoint: 127.0.0.1:{}}}\n\
             \x20   auth: {{tokens: [{{token: {TOKEN}, tenant: t, cluster: a}}]}}\n\
             exporters:\n  nop:\n\
             slo: {{files: [embedded:examples, {}], max_groups_total: {total}}}\n\
             service:\n  admin: {{endpoint: 127.0.0.1:{}}}\n  telemetry: {{logs: {{level: warn}}}}\n\
             \x20 pipelines:\n    traces: {{exporters: [nop]}}\n",
            p.grpc,
            p.http,
            slos.display(),
            p.admin
        )
    })
    .await
}

/// Thousands of groups make `/metrics` tens of megabytes; writing it took the admin
/// runtime's one thread for seconds, and every probe waited behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_do_not_wait_for_a_large_exposition() {
    let groups = 4000;
    let s = spawn_grouped(groups, 2 * groups).await;
    for chunk in (0..groups).collect::<Vec<_>>().chunks(1000) {
        let routes = chunk
            .iter()
            .map(|i| format!("/api/v1/orders/{i:06}/items/{{item}}/{}", "z".repeat(150)))
            .collect();
        send_spans(&s, routes).await;
    }
    let last = format!("/api/v1/orders/{:06}/", groups - 1);
    let mut recorded = false;
    for _ in 0..600 {
        if common::scrape_metrics(s.admin).await.contains(&last) {
            recorded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(recorded, "every group is recorded");
    let stop = Arc::new(AtomicBool::new(false));
    let probes = probe(s.admin, stop.clone());
    let start = Instant::now();
    let mut bytes = 0;
    for _ in 0..3 {
        bytes += common::scrape_metrics(s.admin).await.len();
        bytes += common::slos(s.admin).await.to_string().len();
    }
    let took = start.elapsed();
    stop.store(true, Ordering::SeqCst);
    println!("3 × (/metrics + /api/v1/slos): {bytes} bytes in {took:?}");
    assert!(bytes > 60 << 20, "the exposition is large: {bytes} bytes");
    assert_probes(
        "large /metrics",
        probes.done().await,
        Duration::from_millis(250),
    );
}

/// The value of the unlabelled series `name` in `metrics`.
fn sample(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

/// Every SLO groups by a value the sender chooses: each SLO's `max_groups` (here 1,000, and
/// the example SLOs' default 1,000) alone would let them hold thousands of groups
/// together; `slo.max_groups_total` bounds them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_groups_of_every_slo_together_stay_within_max_groups_total() {
    let s = spawn_grouped(1000, 60).await;
    let routes: Vec<String> = (0..400).map(|i| format!("/total/{i:04}")).collect();
    send_spans(&s, routes).await;
    // The SLO connector records after the request is answered: wait until the routes
    // SLO has counted all 400 events (its roll-up over every cluster, overflow included).
    let mut counted = 0;
    for _ in 0..200 {
        let v = common::slos(s.admin).await;
        counted = v["slos"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["service"] == "routes" && e["name"] == "availability")
            .filter(|e| e["cluster"] == "all" && e["group"].is_null())
            .map(|e| e["total"].as_u64().unwrap_or(0))
            .sum::<u64>();
        if counted == 400 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(counted, 400, "the routes SLO's events");
    let metrics = common::scrape_metrics(s.admin).await;
    assert_eq!(sample(&metrics, "slotel_slo_groups"), 60.0);
    assert_eq!(sample(&metrics, "slotel_slo_groups_limit"), 60.0);
    let refused = sample(&metrics, "slotel_slo_groups_refused_events_total");
    // The routes SLO's events beyond the seats left to it (the example checkout SLO
    // stops at its own `max_groups` of 50 first, which is not a refusal of the room).
    assert!(refused >= 400.0 - 60.0, "{refused} refused");
    // The groups on `/metrics`: (slo, service, route) of the events series.
    let mut groups = std::collections::BTreeSet::new();
    for l in metrics
        .lines()
        .filter(|l| l.starts_with("slotel_slo_events_total{"))
    {
        let label = |k: &str| {
            l.split(&format!("{k}=\"")[..])
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map(str::to_string)
        };
        if let Some(route) = label("http_route").filter(|r| r.starts_with("/total/")) {
            groups.insert((label("slo"), label("service"), route));
        }
    }
    assert!(
        !groups.is_empty() && groups.len() <= 60,
        "{} groups",
        groups.len()
    );
    // Every event counted still: in `all` of the routes SLO.
    let v = common::slos(s.admin).await;
    let all = v["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["service"] == "routes" && e["cluster"] == "all")
        .unwrap();
    assert_eq!(all["total"], 400);
}
