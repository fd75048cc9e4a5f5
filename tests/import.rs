//! `slotel import --from sloth`: Sloth specs (written from Sloth's documented formats, in
//! tests/fixtures/sloth/specs/) become slotel SLO files that slotel loads, and every SLO
//! that cannot be converted is named with its reason.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sloth/specs")
        .join(name)
}

fn import(args: &[&str]) -> Output {
    common::slotel()
        .arg("import")
        .args(args)
        .output()
        .expect("runs slotel")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slotel-import-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_service_spec_converts_its_events_slo_and_names_why_not_the_others() {
    let dir = tmp("service");
    let out_file = dir.join("orders.yaml");
    let out = import(&[
        "--from",
        "sloth",
        fixture("service.yaml").to_str().unwrap(),
        "--out",
        out_file.to_str().unwrap(),
        "--metric",
        "http_requests_total=http.server.requests",
        "--metric",
        "http_request_duration_seconds=http.server.request.duration",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // One line per SLO left out, with its reason.
    assert!(
        stderr.contains("not converted: orders/orders-raw: a raw SLI"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "not converted: orders/orders-mixed: its error query is PromQL over stored series"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("not converted: orders/orders-plugin: a plugin SLI"),
        "{stderr}"
    );
    assert!(stderr.contains("converted 2 of 5 SLOs"), "{stderr}");

    // What was written loads in slotel as a metric ratio SLI over the OTLP metric.
    let text = std::fs::read_to_string(&out_file).unwrap();
    let slos = slotel::slo::spec::parse_file(&text, "orders.yaml").expect("loads");
    assert_eq!(slos.len(), 2);
    // The latency SLI: a histogram threshold at the bucket bound the query subtracts.
    let latency = &slos[1];
    assert_eq!(latency.name, "orders-latency");
    let slotel::slo::spec::Sli::Metric(slotel::slo::spec::MetricSli::Threshold {
        metric,
        threshold,
    }) = &latency.sli
    else {
        panic!("a histogram threshold SLI: {:?}", latency.sli);
    };
    assert_eq!(metric.name, "http.server.request.duration");
    assert_eq!(*threshold, 0.25);
    assert!(metric.filter.is_some());
    let slo = &slos[0];
    assert_eq!(
        (slo.service.as_str(), slo.name.as_str()),
        ("orders", "orders-availability")
    );
    assert!((slo.objective - 0.995).abs() < 1e-12, "{}", slo.objective);
    assert_eq!(
        slo.description.as_deref(),
        Some("Order requests answered without a server error.")
    );
    let slotel::slo::spec::Sli::Metric(slotel::slo::spec::MetricSli::Ratio { good, bad, total }) =
        &slo.sli
    else {
        panic!("a metric ratio SLI: {:?}", slo.sli);
    };
    assert!(good.is_none());
    let bad = bad.as_ref().unwrap();
    assert_eq!(bad.name, "http.server.requests");
    assert_eq!(total.name, "http.server.requests");
    assert!(text.contains(
        r#"where: "resource.attributes[\"service.name\"] == \"orders\" and IsMatch(attributes[\"code\"], \"^(?:5..)$\")""#
    ), "{text}");
    assert!(
        text.contains(r#"where: "resource.attributes[\"service.name\"] == \"orders\"""#),
        "{text}"
    );
    // Sloth puts the spec's, the SLO's and the alerting labels on its alerts; the page and
    // ticket `severity` labels become slotel's severities.
    assert_eq!(slo.alerting.name.as_deref(), Some("OrdersHighErrorRate"));
    let labels: Vec<(&str, &str)> = slo
        .alerting
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("category", "availability"),
            ("owner", "team-orders"),
            ("tier", "1")
        ]
    );
    assert_eq!(slo.alerting.page.severity.as_deref(), Some("pageteam"));
    assert_eq!(slo.alerting.ticket.severity.as_deref(), Some("slack"));
    assert_eq!(
        slo.alerting
            .ticket
            .labels
            .get("slack_channel")
            .map(String::as_str),
        Some("#alerts-orders")
    );
    assert_eq!(
        slo.alerting.annotations.get("summary").map(String::as_str),
        Some("High error rate on orders")
    );
    // Sloth specs have no window: `--window` (30d, Sloth's default period).
    assert_eq!(
        slo.window,
        slotel::slo::spec::SloWindow::Rolling(std::time::Duration::from_secs(30 * 86_400))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_kubernetes_object_converts_and_grouped_queries_are_refused() {
    let out = import(&[
        "--from",
        "sloth",
        fixture("k8s.yaml").to_str().unwrap(),
        "--window",
        "28d",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("not converted: payments/refunds-by-region: its error query groups by Prometheus labels (region)"),
        "{stderr}"
    );
    // No --metric: the name loses `_total`, and a note says to check it.
    assert!(
        stderr.contains("`payments_charges_total` read as the OTLP metric `payments_charges`"),
        "{stderr}"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let slos = slotel::slo::spec::parse_file(&text, "stdout").expect("loads");
    assert_eq!(slos.len(), 1);
    let slo = &slos[0];
    assert_eq!(slo.name, "charges-availability");
    assert!((slo.objective - 0.999).abs() < 1e-12, "{}", slo.objective);
    assert_eq!(
        slo.window,
        slotel::slo::spec::SloWindow::Rolling(std::time::Duration::from_secs(28 * 86_400))
    );
    assert!(slo.alerting.ticket.disabled);
    assert!(!slo.alerting.page.disabled);
    assert_eq!(slo.alerting.page.severity.as_deref(), Some("critical"));
    assert!(
        text.contains(r#"where: "attributes[\"outcome\"] == \"failed\"""#),
        "{text}"
    );
}

#[test]
fn nothing_convertible_exits_non_zero_with_the_reason() {
    let out = import(&[
        "--from",
        "sloth",
        fixture("raw-only.yaml").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not converted: edge/edge-availability: a raw SLI"),
        "{stderr}"
    );
    assert!(stderr.contains("no SLO of"), "{stderr}");
}

#[test]
fn what_is_not_a_sloth_spec_is_refused_clearly() {
    let dir = tmp("bad");
    let cases = [
        ("native.yaml", "service: a\nslos: []\n", "not a Sloth spec"),
        (
            "broken.yaml",
            "version: \"prometheus/v1\"\nservice: [\n",
            "broken.yaml",
        ),
        ("empty.yaml", "", "no Sloth spec"),
    ];
    for (name, text, want) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let out = import(&["--from", "sloth", path.to_str().unwrap()]);
        assert!(!out.status.success(), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{name}: {stderr}");
    }
    let out = import(&[
        "--from",
        "sloth",
        fixture("k8s.yaml").to_str().unwrap(),
        "--metric",
        "nope",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected PROM=OTLP"));
    let _ = std::fs::remove_dir_all(&dir);
}
