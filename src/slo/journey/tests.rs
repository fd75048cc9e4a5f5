//! Oracle tests: a journey's numbers against a hand computation over the spans sent, on
//! the engine's status and on its series.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::attr::kv;
use crate::slo::engine::{Engine, EngineConfig, GroupStatus, ManualClock};
use crate::slo::spec::{SloSet, parse_file};
use crate::test_otlp::{server_span, traces_of};

const S: u64 = 1_000_000_000;
const T0: u64 = 1_800_000_000 * S;

/// Four services in one file: login, cart (grouped by route), payment, and the shop's
/// journeys.
const SLOS: &str = r#"
service: login
slos:
  - name: availability
    objective: 99.9
    window: 30d
    sli:
      spans:
        where: resource.attributes["service.name"] == "login"
        bad: status.code == STATUS_CODE_ERROR
---
service: cart
slos:
  - name: availability
    objective: 99
    window: 30d
    group_by:
      - attributes["http.route"]
    sli:
      spans:
        where: resource.attributes["service.name"] == "cart"
        bad: status.code == STATUS_CODE_ERROR
---
service: payment
slos:
  - name: availability
    objective: 99.95
    window: 30d
    sli:
      spans:
        where: resource.attributes["service.name"] == "payment"
        bad: status.code == STATUS_CODE_ERROR
---
service: shop
slos:
  - name: checkout
    objective: 99
    window: 30d
    journey:
      members:
        - slo: login/availability
        - slo: cart/availability
        - slo: payment/availability
          weight: 2
  - name: browse-and-checkout
    objective: 98
    window: 30d
    min_events: 1000
    journey:
      members:
        - slo: checkout
          weight: 3
        - slo: cart/availability
"#;

/// Spans of (service, cluster, route, bad), each once per `n`, ending 30 s before T0.
fn request(spans: &[(&str, &str, &str, bool, usize)]) -> ExportTraceServiceRequest {
    let mut id = 0u64;
    traces_of(spans.iter().map(|(service, cluster, route, bad, n)| {
        let spans = (0..*n)
            .map(|_| {
                id += 1;
                Span {
                    attributes: vec![kv("http.route", route)],
                    ..server_span(id, "op", T0 - 31 * S, T0 - 30 * S, *bad)
                }
            })
            .collect();
        let attributes = vec![kv("service.name", service), kv("k8s.cluster.name", cluster)];
        (attributes, spans)
    }))
}

fn find<'a>(st: &'a [GroupStatus], service: &str, name: &str, cluster: &str) -> &'a GroupStatus {
    st.iter()
        .find(|s| {
            s.service == service && s.name == name && s.cluster == cluster && s.group.is_none()
        })
        .unwrap_or_else(|| panic!("no entry {service}/{name} {cluster}"))
}

fn engine() -> Arc<Engine> {
    let slos = parse_file(SLOS, "journeys.yaml").unwrap_or_else(|e| panic!("{e:?}"));
    let clock = Arc::new(ManualClock::new(T0));
    let e = Engine::new(EngineConfig::default(), clock, SloSet::of(slos));
    e.record_spans(
        &request(&[
            ("login", "seoul", "/login", false, 98),
            ("login", "seoul", "/login", true, 2),
            ("login", "busan", "/login", false, 49),
            ("login", "busan", "/login", true, 1),
            ("cart", "seoul", "/cart", false, 36),
            ("cart", "seoul", "/cart", true, 4),
            ("cart", "seoul", "/cart/items", false, 40),
            ("payment", "seoul", "/pay", false, 38),
            ("payment", "seoul", "/pay", true, 2),
            ("payment", "daegu", "/pay", false, 10),
        ]),
        None,
    );
    e
}

#[test]
fn a_journey_weighs_its_members_events_per_cluster_and_all() {
    let st = engine().status();
    // By hand, checkout = login + cart + 2 × payment:
    //   seoul: total 100 + 80 + 2×40 = 260, good 98 + 76 + 2×38 = 250
    //   busan: total 50 (login only), good 49
    //   daegu: total 2×10 = 20 (payment only), good 20
    //   all:   total 330, good 319
    let checkout = |c| find(&st, "shop", "checkout", c);
    let counts = |g: &GroupStatus| (g.total, g.good);
    assert_eq!(counts(checkout("all")), (330, 319));
    assert_eq!(counts(checkout("seoul")), (260, 250));
    assert_eq!(counts(checkout("busan")), (50, 49));
    assert_eq!(counts(checkout("daegu")), (20, 20));
    let clusters: Vec<&str> = st
        .iter()
        .filter(|s| s.name == "checkout")
        .map(|s| s.cluster.as_str())
        .collect();
    assert_eq!(clusters, ["all", "busan", "daegu", "seoul"]);
    // error ratio 11/330; the journey's own objective (99%) sets the budget.
    let all = checkout("all");
    let ratio = 11.0 / 330.0;
    assert!((all.error_ratio.unwrap() - ratio).abs() < 1e-12);
    let burn = all.burn_rate.get("5m").copied().flatten().unwrap();
    assert!((burn - ratio / 0.01).abs() < 1e-9, "{burn}");
    let remaining = all.error_budget_remaining.unwrap();
    assert!((remaining - (1.0 - ratio / 0.01)).abs() < 1e-9);
    assert_eq!(all.status.as_str(), "breaching");
    assert_eq!(all.time_to_exhaustion_seconds, Some(0.0));
    assert_eq!(all.window, "30d");
    // Lifetime counters for `slotel_slo_events_total` are weighted alike.
    assert_eq!((all.lifetime.total, all.lifetime.good), (330, 319));
    // Every window holds the same events here.
    for w in all.windows.iter().flatten() {
        assert_eq!((w.total, w.good), (330, 319), "{}", w.window);
    }
    assert!(all.latency.0.is_empty());
}

#[test]
fn nested_journeys_multiply_out_and_min_events_holds_burn_rates_back() {
    let st = engine().status();
    // browse-and-checkout = 3 × checkout + cart:
    //   all: total 3×330 + 80 = 1070, good 3×319 + 76 = 1033
    //   seoul: 3×260 + 80 = 860 total (below min_events 1000: no burn rate)
    let b = find(&st, "shop", "browse-and-checkout", "all");
    assert_eq!((b.total, b.good), (1070, 1033));
    assert!(b.burn_rate.get("1h").copied().flatten().is_some());
    let seoul = find(&st, "shop", "browse-and-checkout", "seoul");
    assert_eq!((seoul.total, seoul.good), (860, 3 * 250 + 76));
    assert!(seoul.burn_rate.0.iter().all(|(_, v)| v.is_none()));
    assert_eq!(seoul.status.as_str(), "insufficient_data");
}

#[test]
fn journey_series_carry_the_weighted_counts() {
    let e = engine();
    let st = e.status();
    let families = crate::slo::series::families(&e, &st);
    let events = families
        .iter()
        .find(|f| f.name == "slotel_slo_events")
        .unwrap();
    let value = |cluster: &str, outcome: &str| {
        events
            .rows
            .iter()
            .find(|(l, _)| {
                let has = |k: &str, v: &str| l.iter().any(|(a, b)| a == k && b == v);
                has("slo", "checkout")
                    && has("service", "shop")
                    && has("cluster", cluster)
                    && has("outcome", outcome)
            })
            .map(|(_, v)| *v)
    };
    assert_eq!(value("all", "good"), Some(319.0));
    assert_eq!(value("all", "bad"), Some(11.0));
    assert_eq!(value("seoul", "bad"), Some(10.0));
    let budget = families
        .iter()
        .find(|f| f.name == "slotel_slo_error_budget_remaining_ratio")
        .unwrap();
    assert!(
        budget
            .rows
            .iter()
            .any(|(l, _)| l.iter().any(|(_, v)| v == "checkout"))
    );
}

#[test]
fn a_journey_without_traffic_has_no_data() {
    let slos = parse_file(SLOS, "journeys.yaml").unwrap();
    let e = Engine::new(
        EngineConfig::default(),
        Arc::new(ManualClock::new(T0)),
        SloSet::of(slos),
    );
    let st = e.status();
    let all = find(&st, "shop", "checkout", "all");
    assert_eq!((all.total, all.status.as_str()), (0, "no_data"));
    assert_eq!(all.error_ratio, None);
}

/// The same journey as an OpenSLO composite: members by `indicatorRef` (a bare name is
/// of the composite's service), weights from `compositeWeight` (default 1), the target
/// of its objectives.
const OPENSLO: &str = r#"
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout
  annotations:
    slotel.dev/min-events: "10"
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 30d
      isRolling: true
  objectives:
    - displayName: sign in
      indicatorRef: login/availability
      target: 0.99
    - indicatorRef: cart/availability
      targetPercent: 99
      compositeWeight: 1
    - indicatorRef: payment/availability
      target: 0.99
      compositeWeight: 2
"#;

#[test]
fn an_openslo_composite_reads_as_the_native_journey() {
    let members = SLOS.split("---\nservice: shop").next().unwrap();
    let text = format!("{members}---\n{OPENSLO}");
    let slos = parse_file(&text, "composite.yaml").unwrap_or_else(|e| panic!("{e:?}"));
    let composite = slos.iter().find(|s| s.name == "checkout").unwrap();
    let native = parse_file(SLOS, "journeys.yaml").unwrap();
    let native = native.iter().find(|s| s.name == "checkout").unwrap();
    assert_eq!(composite.sli, native.sli);
    assert_eq!(
        (composite.objective, &composite.window),
        (0.99, &native.window)
    );
    assert_eq!(composite.min_events, 10);
    let crate::slo::spec::Sli::Journey(j) = &composite.sli else {
        panic!("not a journey");
    };
    let leaves: Vec<(&str, u64, Vec<String>)> = j
        .leaves
        .iter()
        .map(|l| (l.service.as_str(), l.weight, l.group_labels.clone()))
        .collect();
    assert_eq!(
        leaves,
        [
            ("cart", 1, vec!["http_route".to_string()]),
            ("login", 1, vec![]),
            ("payment", 2, vec![])
        ]
    );
}

#[test]
fn definitions_of_journeys_load_back() {
    let slos = parse_file(SLOS, "journeys.yaml").unwrap();
    let members = SLOS.split("---\nservice: shop").next().unwrap();
    let shop: Vec<_> = slos.iter().filter(|s| s.service == "shop").collect();
    let mut text = format!("{members}---\nservice: shop\nslos:\n");
    for slo in &shop {
        let yaml = crate::slo::definition::Definition::of(slo).yaml;
        text.push_str(yaml.split_once("slos:\n").unwrap().1);
    }
    let back = parse_file(&text, "back.yaml").unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    for slo in shop {
        let b = back.iter().find(|s| s.name == slo.name).unwrap();
        assert_eq!(
            (&b.sli, b.objective, b.min_events),
            (&slo.sli, slo.objective, slo.min_events)
        );
    }
}

#[test]
fn a_reload_that_changes_a_nested_journey_reweighs_the_outer_one() {
    let e = engine();
    let before = find(&e.status(), "shop", "browse-and-checkout", "all").total;
    assert_eq!(before, 1070);
    // checkout's payment weight 2 → 1: browse-and-checkout = 3 × (100+50 + 80 + 50) + 80.
    let text = SLOS.replace("          weight: 2\n", "          weight: 1\n");
    let slos = parse_file(&text, "journeys.yaml").unwrap();
    e.replace(SloSet::of(slos));
    let st = e.status();
    assert_eq!(find(&st, "shop", "checkout", "all").total, 280);
    assert_eq!(
        find(&st, "shop", "browse-and-checkout", "all").total,
        3 * 280 + 80
    );
    // The members kept their state across the reload.
    assert_eq!(find(&st, "login", "availability", "all").total, 150);
}
