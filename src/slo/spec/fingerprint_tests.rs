//! Fingerprints follow what a definition means: the same however its file is written,
//! different for every change of meaning, and equal exactly when `same_definition` holds.

use super::*;

/// The SLOs of one native file.
fn load(text: &str) -> Vec<Slo> {
    parse_file(text, "shop.yaml").unwrap_or_else(|e| {
        let errors: Vec<String> = e.iter().map(ToString::to_string).collect();
        panic!("{}\n{text}", errors.join("\n"))
    })
}

/// The SLO `pay` of a native file.
fn pay(text: &str) -> Slo {
    load(text)
        .into_iter()
        .find(|s| s.name == "pay")
        .unwrap_or_else(|| panic!("no slo `pay` in\n{text}"))
}

const BASE: &str = r#"
service: shop
slos:
  - name: pay
    objective: 99.5
    window: 30d
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER and IsMatch(attributes["http.route"], "^/api/")
        bad: status.code == STATUS_CODE_ERROR
        latency_threshold: 300ms
    group_by: ['attributes["http.route"]', 'resource.attributes["k8s.namespace.name"]']
    percentiles: [50, 99]
"#;

/// `BASE` with `from` replaced by `to` (which must occur).
fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from}");
    BASE.replacen(from, to, 1)
}

#[test]
fn the_same_definition_written_differently_has_the_same_fingerprint() {
    let base = pay(BASE);
    let rewritten = [
        // Flow style, another key order, quoted scalars, comments, the SLO further down.
        r#"# Shop SLOs.
slos:
  - name: checkout
    objective: 99
    window: 7d
    sli: {spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}

  - {window: "30d", objective: 99.50, name: "pay", adjusted_counts: true,   # the payment API
     percentiles: [50.0, 99.0],
     group_by: ["attributes[\"http.route\"]", "resource.attributes[\"k8s.namespace.name\"]"],
     sli: {spans: {latency_threshold: 300ms, bad: "status.code == STATUS_CODE_ERROR",
       where: 'kind == SPAN_KIND_SERVER and IsMatch(attributes["http.route"], "^/api/")'}}}
service: shop
"#
        .to_string(),
        // A folded block scalar that folds to the same condition text; defaults spelled out.
        edit(
            "        where: kind == SPAN_KIND_SERVER and IsMatch(attributes[\"http.route\"], \"^/api/\")\n",
            "        where: >-\n          kind == SPAN_KIND_SERVER and\n          IsMatch(attributes[\"http.route\"], \"^/api/\")\n",
        ),
        // Settings that are not part of the definition.
        edit(
            "    percentiles: [50, 99]\n",
            "    percentiles: [50, 99]\n    description: Payments.\n    runbook_url: https://runbooks.example.com/pay\n    min_events: 100\n    max_groups: 20\n    alerting:\n      name: PayBurn\n      ticket: {disabled: true}\n",
        ),
    ];
    for text in &rewritten {
        let slo = pay(text);
        assert!(slo.same_definition(&base), "{text}");
        assert_eq!(slo.fingerprint(), base.fingerprint(), "{text}");
    }
}

#[test]
fn every_change_of_meaning_changes_the_fingerprint() {
    let changes = [
        BASE.replacen("service: shop", "service: store", 1),
        edit("objective: 99.5", "objective: 99.9"),
        edit("window: 30d", "window: 28d"),
        edit("window: 30d", "window: {calendar: month, time_zone: UTC}"),
        edit("window: 30d", "window: {calendar: week, time_zone: UTC}"),
        edit(
            "window: 30d",
            "window: {calendar: month, time_zone: Asia/Seoul}",
        ),
        edit(
            "window: 30d",
            "window: 30d\n    budgeting_method: timeslices\n    timeslice: {size: 1m, target: 95}",
        ),
        edit(
            "window: 30d",
            "window: 30d\n    budgeting_method: timeslices\n    timeslice: {size: 5m, target: 95}",
        ),
        edit(
            "window: 30d",
            "window: 30d\n    budgeting_method: timeslices\n    timeslice: {size: 1m, target: 90}",
        ),
        edit("\"^/api/\"", "\"^/api/v2/\""),
        edit(
            "kind == SPAN_KIND_SERVER and",
            "kind == SPAN_KIND_CLIENT and",
        ),
        edit(
            "        bad: status.code == STATUS_CODE_ERROR\n",
            "        bad: status.code != STATUS_CODE_OK\n",
        ),
        edit("        bad: status.code == STATUS_CODE_ERROR\n", ""),
        edit("latency_threshold: 300ms", "latency_threshold: 250ms"),
        edit("        latency_threshold: 300ms\n", ""),
        edit(
            "    percentiles: [50, 99]",
            "    percentiles: [50, 99]\n    adjusted_counts: false",
        ),
        edit(
            "    group_by: ['attributes[\"http.route\"]', 'resource.attributes[\"k8s.namespace.name\"]']\n",
            "",
        ),
        edit(
            "group_by: ['attributes[\"http.route\"]', 'resource.attributes[\"k8s.namespace.name\"]']",
            "group_by: ['resource.attributes[\"k8s.namespace.name\"]', 'attributes[\"http.route\"]']",
        ),
        edit(
            "group_by: ['attributes[\"http.route\"]', 'resource.attributes[\"k8s.namespace.name\"]']",
            "group_by: ['attributes[\"http.route\"]', 'attributes[\"k8s.namespace.name\"]']",
        ),
        edit("percentiles: [50, 99]", "percentiles: [50, 99.9]"),
        edit("percentiles: [50, 99]", "percentiles: [50]"),
    ];
    let base = pay(BASE);
    let slos: Vec<Slo> = changes
        .iter()
        .map(|t| load(t).into_iter().next().unwrap_or_else(|| panic!("{t}")))
        .collect();
    // Every one differs from the base and from each other.
    let mut all = vec![base];
    all.extend(slos);
    for (i, a) in all.iter().enumerate() {
        for (j, b) in all.iter().enumerate().skip(i + 1) {
            assert_ne!(a.fingerprint(), b.fingerprint(), "change {i} vs {j}");
            assert!(!a.same_definition(b), "change {i} vs {j}");
        }
    }
}

const OTHER_SLIS: &str = r#"
service: shop
slos:
  - name: latency
    objective: 99
    window: 30d
    sli:
      metric:
        histogram: http.server.request.duration
        where: resource.attributes["service.name"] == "shop"
        threshold: 0.25
  - name: errors
    objective: 99
    window: 30d
    sli:
      metric:
        bad: {name: http.server.requests, where: 'attributes["http.response.status_code"] >= 500'}
        total: {name: http.server.requests}
  - name: access
    objective: 99
    window: 30d
    sli:
      logs:
        where: body["msg"] == "request completed"
        bad: body["status"] >= 500
        latency:
          field: body["latency_ms"]
          unit: ms
        latency_threshold: 100ms
  - name: checkout
    objective: 99
    window: 30d
    journey:
      members:
        - slo: errors
        - slo: access
          weight: 2
  - name: pay
    objective: 99
    window: 30d
    sli:
      spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}
  - name: traced
    objective: 99
    window: 30d
    journey:
      mode: trace
      max_wait: 30s
      members:
        - slo: pay
"#;

#[test]
fn metric_log_and_journey_slis_change_with_every_field() {
    let base = load(OTHER_SLIS);
    let edits = [
        ("threshold: 0.25", "threshold: 0.3"),
        (
            "histogram: http.server.request.duration",
            "histogram: http.client.request.duration",
        ),
        (
            "        where: resource.attributes[\"service.name\"] == \"shop\"\n        threshold",
            "        threshold",
        ),
        (
            "bad: {name: http.server.requests, where: 'attributes[\"http.response.status_code\"] >= 500'}",
            "good: {name: http.server.requests, where: 'attributes[\"http.response.status_code\"] < 500'}",
        ),
        (
            "total: {name: http.server.requests}",
            "total: {name: http.server.requests, where: 'attributes[\"k\"] == \"v\"'}",
        ),
        ("unit: ms", "unit: us"),
        ("field: body[\"latency_ms\"]", "field: body[\"took\"]"),
        ("body[\"status\"] >= 500", "body[\"status\"] >= 400"),
        ("weight: 2", "weight: 3"),
        ("mode: trace\n      max_wait: 30s", "mode: weighted"),
        ("max_wait: 30s", "max_wait: 10s"),
        (
            "        - slo: errors\n        - slo: access\n          weight: 2\n",
            "        - slo: access\n          weight: 2\n        - slo: errors\n",
        ),
    ];
    for (from, to) in edits {
        assert!(OTHER_SLIS.contains(from), "{from}");
        let changed = load(&OTHER_SLIS.replacen(from, to, 1));
        let differing: Vec<&str> = base
            .iter()
            .zip(&changed)
            .filter(|(a, b)| a.fingerprint() != b.fingerprint())
            .map(|(a, _)| a.name.as_str())
            .collect();
        // A member's change changes the journeys around it too (their leaves).
        assert!(!differing.is_empty(), "{from} → {to}");
        for (a, b) in base.iter().zip(&changed) {
            assert_eq!(
                a.fingerprint() == b.fingerprint(),
                a.same_definition(b),
                "{}: {from} → {to}",
                a.name
            );
        }
    }
}

#[test]
fn a_journey_keeps_its_fingerprint_when_its_members_move_in_the_file() {
    let base = load(OTHER_SLIS);
    let moved = OTHER_SLIS.replacen("slos:\n", "slos:\n  # Shop SLOs, by signal.\n\n", 1);
    let moved = load(&moved);
    let journey = |set: &[Slo]| {
        set.iter()
            .find(|s| s.name == "checkout")
            .expect("journey")
            .clone()
    };
    assert_ne!(
        journey(&base).source.line,
        journey(&moved).source.line,
        "the journey moved"
    );
    for (a, b) in base.iter().zip(&moved) {
        assert_eq!(a.fingerprint(), b.fingerprint(), "{}", a.name);
    }
}

/// The fingerprint is a function of the definition alone: the same bytes on every build,
/// Rust version and machine. A change of the encoding changes this value, and must come
/// with a new snapshot format version (`slo::engine::snapshot::VERSION`).
#[test]
fn the_encoding_is_pinned() {
    assert_eq!(
        pay(BASE).fingerprint().hex(),
        "331d8b81d8863c72d5ba7cba4f1ecc06e6fe320c2387df491c014a495643cf72"
    );
}
