//! The SLO series of a grouped SLO as scrapers see them, on a real slotel: every series
//! on `/metrics` has its own name and label set, groups carry their `group_by` values as
//! labels, each cluster's roll-up (no group label) is the sum of its groups, the API says
//! the same numbers, the latency histogram's threshold bucket counts the good events,
//! `promtool check metrics` finds nothing to say, a real Prometheus scraping `/metrics`
//! reads the histogram (`histogram_quantile` within a bucket of the API's percentile, and
//! the native histogram through protobuf), and the API filters by service, SLO, cluster,
//! status and group.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};

use common::*;
use prost::Message;

const SLOS: &str = r#"
service: checkout
slos:
  - name: availability
    objective: 99
    window: 30d
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER
        bad: attributes["http.response.status_code"] >= 500
    group_by:
      - attributes["http.route"]
  - name: latency
    objective: 90
    window: 30d
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER
        latency_threshold: 250ms
    percentiles: [50, 90, 99]
    group_by:
      - attributes["http.route"]
"#;

const CLUSTERS: [&str; 2] = ["seoul", "busan"];
const ROUTES: [&str; 3] = ["/api/pay", "/api/cart", "/api/search"];

/// (cluster, route) → (total, good availability, durations)
type Sent = BTreeMap<(String, String), (u64, u64, Vec<u64>)>;

async fn send(s: &Server) -> Sent {
    let mut rng = fastrand::Rng::with_seed(7);
    let now = now_unix_nanos();
    let mut sent = Sent::new();
    let mut spans = Vec::new();
    for (ci, cluster) in CLUSTERS.iter().enumerate() {
        for (ri, route) in ROUTES.iter().enumerate() {
            let n = 200 + 150 * ri + 100 * ci;
            for _ in 0..n {
                let duration = (80e6 * (0.8 * (rng.f64() * 4.0 - 2.0)).exp()) as u64 + 1_000;
                let status = if rng.f64() < 0.02 * (ri + 1) as f64 {
                    503
                } else {
                    200
                };
                let e = sent
                    .entry((cluster.to_string(), route.to_string()))
                    .or_default();
                e.0 += 1;
                e.1 += u64::from(status < 500);
                e.2.push(duration);
                spans.push(TestSpan {
                    cluster,
                    service: "checkout",
                    route,
                    end_unix_nanos: now - rng.u64(0..30_000_000_000),
                    duration_nanos: duration,
                    status_code: status,
                });
            }
        }
    }
    for chunk in spans.chunks(400) {
        let body = spans_request(chunk).encode_to_vec();
        assert_eq!(
            grpc_send(s.grpc, GRPC_TRACES, &[], &body, None).await.code,
            0
        );
    }
    let total = spans.len() as f64;
    eventually("all spans recorded", || {
        s.metric("slotel_exporter_sent_items_total", &["exporter=\"slo\""]) == total
    })
    .await;
    sent
}

/// One sample line: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the samples of a text exposition (label values without escapes, as here).
fn samples(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let mut map = BTreeMap::new();
        let mut rest = labels;
        while let Some((k, tail)) = rest.split_once("=\"") {
            let (v, tail) = tail.split_once('"').unwrap();
            map.insert(k.trim_start_matches(',').to_string(), v.to_string());
            rest = tail;
        }
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap(),
        };
        out.push((name.to_string(), map, value));
    }
    out
}

fn get(samples: &[Sample], name: &str, labels: &[(&str, &str)], absent: &[&str]) -> Vec<f64> {
    samples
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(v))
                && absent.iter().all(|k| !l.contains_key(*k))
        })
        .map(|s| s.2)
        .collect()
}

async fn scrape(s: &Server, accept: &str) -> HttpResp {
    let r = http_send(
        "GET",
        &format!("http://{}/metrics", s.admin),
        &[("accept", accept)],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 200);
    r
}

async fn api(s: &Server, query: &str) -> (u16, serde_json::Value) {
    let r = http_send(
        "GET",
        &format!("http://{}/api/v1/slos{query}", s.admin),
        &[],
        Vec::new(),
    )
    .await;
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

async fn start_grouped() -> (Server, tempfile::TempDir) {
    start_with_slo_file("checkout.yaml", SLOS, |c| c).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_series_are_distinct_and_roll_up_exactly() {
    let (s, _dir) = start_grouped().await;
    let sent = send(&s).await;
    let r = scrape(&s, "text/plain;version=0.0.4").await;
    let text = String::from_utf8(r.body.to_vec()).unwrap();
    let all = samples(&text);

    // No two samples share a name and label set.
    let mut seen = BTreeSet::new();
    for (n, l, _) in &all {
        assert!(seen.insert((n.clone(), l.clone())), "duplicate {n} {l:?}");
    }

    let events = |cluster: &str, route: Option<&str>, outcome: &str| -> f64 {
        let mut labels = vec![
            ("slo", "availability"),
            ("cluster", cluster),
            ("outcome", outcome),
        ];
        let absent: &[&str] = match route {
            Some(r) => {
                labels.push(("http_route", r));
                &[]
            }
            None => &["http_route"],
        };
        let v = get(&all, "slotel_slo_events_total", &labels, absent);
        assert_eq!(v.len(), 1, "{cluster} {route:?} {outcome}: {v:?}");
        v[0]
    };
    let (api_status, v) = api(&s, "").await;
    assert_eq!(api_status, 200);
    let entries = v["slos"].as_array().unwrap();
    for cluster in CLUSTERS {
        let (mut total, mut good) = (0.0, 0.0);
        for route in ROUTES {
            let (t, g, _) = &sent[&(cluster.to_string(), route.to_string())];
            assert_eq!(events(cluster, Some(route), "good"), *g as f64);
            assert_eq!(events(cluster, Some(route), "bad"), (t - g) as f64);
            total += *t as f64;
            good += *g as f64;
            // The API's group entry, with a readable key, says the same.
            let e = entries
                .iter()
                .find(|e| {
                    e["name"] == "availability"
                        && e["cluster"] == cluster
                        && e["group"]["http.route"] == route
                })
                .unwrap();
            assert_eq!(e["total"], *t);
            assert_eq!(e["good"], *g);
        }
        // The roll-up: no group label, the sum of the groups.
        assert_eq!(events(cluster, None, "good"), good);
        assert_eq!(
            events(cluster, None, "good") + events(cluster, None, "bad"),
            total
        );
        let roll = entries
            .iter()
            .find(|e| {
                e["name"] == "availability" && e["cluster"] == cluster && e["group"].is_null()
            })
            .unwrap();
        assert_eq!(roll["total"].as_f64().unwrap(), total);
        assert_eq!(roll["good"].as_f64().unwrap(), good);
    }
    let total: u64 = sent.values().map(|v| v.0).sum();
    assert_eq!(
        events("all", None, "good") + events("all", None, "bad"),
        total as f64
    );

    // The latency histogram: the threshold bucket counts exactly the good events.
    for cluster in CLUSTERS {
        for route in ROUTES {
            let (_, _, durations) = &sent[&(cluster.to_string(), route.to_string())];
            let labels = [
                ("slo", "latency"),
                ("cluster", cluster),
                ("http_route", route),
            ];
            let at = |le: &str| {
                let mut l = labels.to_vec();
                l.push(("le", le));
                get(&all, "slotel_slo_latency_seconds_bucket", &l, &[])
            };
            let good = durations.iter().filter(|d| **d <= 250_000_000).count() as f64;
            assert_eq!(at("0.25"), [good], "{cluster} {route}");
            assert_eq!(at("+Inf"), [durations.len() as f64]);
            let count = get(&all, "slotel_slo_latency_seconds_count", &labels, &[]);
            assert_eq!(count, [durations.len() as f64]);
        }
    }
    let les: BTreeSet<String> = all
        .iter()
        .filter(|(n, l, _)| {
            n == "slotel_slo_latency_seconds_bucket"
                && l.get("cluster").map(String::as_str) == Some("all")
        })
        .map(|(_, l, _)| l["le"].clone())
        .collect();
    for le in ["0.001", "0.1", "0.25", "1.0", "60.0", "+Inf"] {
        assert!(les.contains(le), "le={le} in {les:?}");
    }

    // promtool's lint has nothing to say about the exposition.
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's `prometheus` package)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool: {said}"
    );

    s.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_filters_by_service_slo_cluster_status_and_group() {
    let (s, _dir) = start_grouped().await;
    send(&s).await;
    let names = |v: &serde_json::Value| -> Vec<(String, String, String)> {
        v["slos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap().to_string(),
                    e["cluster"].as_str().unwrap().to_string(),
                    e["group"]["http.route"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let t = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    let (_, v) = api(&s, "?slo=availability&cluster=seoul&http.route=/api/pay").await;
    assert_eq!(names(&v), [t("availability", "seoul", "/api/pay")]);
    let (_, v) = api(&s, "?cluster=busan&http_route=%2Fapi%2Fcart").await;
    assert_eq!(
        names(&v),
        [
            t("availability", "busan", "/api/cart"),
            t("latency", "busan", "/api/cart")
        ]
    );
    let (_, v) = api(&s, "?service=checkout&slo=latency&cluster=all").await;
    assert_eq!(names(&v), [t("latency", "all", "")]);
    let (_, v) = api(&s, "?service=nope").await;
    assert_eq!(names(&v), []);
    // Every entry has one of the five statuses, and filtering by it keeps exactly those.
    let (_, v) = api(&s, "").await;
    for e in v["slos"].as_array().unwrap() {
        let st = e["status"].as_str().unwrap();
        assert!(
            ["ok", "warning", "breaching", "no_data", "insufficient_data"].contains(&st),
            "{st}"
        );
        let (_, f) = api(&s, &format!("?status={st}")).await;
        assert!(
            f["slos"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["status"] == st)
        );
    }
    let (status, v) = api(&s, "?http.rout=/api/pay").await;
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("http.rout"), "{v}");
    // The detail route filters too.
    let r = http_send(
        "GET",
        &format!(
            "http://{}/api/v1/slos/checkout/latency?cluster=seoul&http.route=/api/search",
            s.admin
        ),
        &[],
        Vec::new(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(names(&v), [t("latency", "seoul", "/api/search")]);
    assert!(v["slos"][0]["windows"].is_array());
    s.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scraping_metrics_reads_the_latency_histogram() {
    let (s, _dir) = start_grouped().await;
    send(&s).await;

    // The protobuf exposition, as Prometheus asks for it with native histograms on.
    let r = scrape(
        &s,
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3",
    )
    .await;
    let ct = r.headers["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/vnd.google.protobuf"), "{ct}");
    assert!(!r.body.is_empty());

    // Two Prometheus servers, one reading the text (classic buckets), one asking for
    // protobuf (native histograms); each answers histogram_quantile within a bucket of the
    // API's percentile.
    let target = s.admin.to_string();
    let classic = common::prometheus::Prometheus::builder()
        .scrape(target.clone())
        .without_native_histograms()
        .start();
    let (_, v) = api(&s, "?slo=latency&cluster=all").await;
    let entry = &v["slos"][0];
    let total = entry["total"].as_f64().unwrap();
    let q = |prom: &common::prometheus::Prometheus, expr: &str| -> Option<f64> {
        let data = prom.query(expr);
        let r = data["result"].as_array()?.first()?.clone();
        r["value"][1].as_str()?.parse().ok()
    };
    let wait = |prom: &common::prometheus::Prometheus, expr: &str| -> f64 {
        for _ in 0..120 {
            if let Some(v) = q(prom, expr) {
                return v;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        panic!("no answer to {expr}");
    };
    let sel = r#"{slo="latency",cluster="all"}"#;
    let count = tokio::task::block_in_place(|| {
        wait(&classic, &format!("slotel_slo_latency_seconds_count{sel}"))
    });
    assert_eq!(count, total);
    let bounds = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    ];
    for (key, quantile) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
        let want = entry["latency"][key].as_f64().unwrap();
        let got = tokio::task::block_in_place(|| {
            wait(
                &classic,
                &format!(
                    "histogram_quantile({quantile}, sum by (le) (slotel_slo_latency_seconds_bucket{sel}))"
                ),
            )
        });
        // The bucket holding the API's value: histogram_quantile lies inside it.
        let upper = bounds.iter().copied().find(|b| *b >= want).unwrap();
        let lower = bounds
            .iter()
            .copied()
            .rev()
            .find(|b| *b < want)
            .unwrap_or(0.0);
        assert!(
            got >= lower - 1e-9 && got <= upper + 1e-9,
            "{key}: API {want}, classic histogram_quantile {got}, bucket ({lower}, {upper}]"
        );
    }
    drop(classic);

    let native = common::prometheus::Prometheus::builder()
        .scrape(target)
        .start();
    for (key, quantile) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
        let want = entry["latency"][key].as_f64().unwrap();
        let got = tokio::task::block_in_place(|| {
            wait(
                &native,
                &format!("histogram_quantile({quantile}, slotel_slo_latency_seconds{sel})"),
            )
        });
        // Native buckets at schema 6 are 1.09% wide; HDR percentiles within 0.1%.
        assert!(
            ((got - want) / want).abs() < 0.012,
            "{key}: API {want}, native histogram_quantile {got}"
        );
    }
    // The protobuf exposition names the counters as the text does.
    let events = tokio::task::block_in_place(|| {
        wait(&native, &format!("sum(slotel_slo_events_total{sel})"))
    });
    assert_eq!(events, total);
    s.running.shutdown().await.unwrap();
}
