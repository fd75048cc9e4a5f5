//! OpenSLO documents over log records (`signal: logs`): the example written both ways gives
//! the same SLOs, and every shape that cannot be a log SLI is refused at its place.

use crate::slo::spec::{AttrRef, LatencyUnit, Sli, parse_file};

fn errors(text: &str) -> String {
    let e = parse_file(text, "t.yaml").expect_err("refused");
    e.iter()
        .map(|e| format!("{}:{}: {}: {}", e.line, e.column, e.path, e.message))
        .collect::<Vec<_>>()
        .join("\n")
}

fn example(name: &str) -> Vec<crate::slo::spec::Slo> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/config/examples/logs");
    let text = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
    parse_file(&text, name).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

#[test]
fn the_openslo_example_is_the_native_example() {
    let native = example("nginx-ingress.yaml");
    let openslo = example("nginx-ingress.openslo.yaml");
    assert_eq!(native.len(), openslo.len());
    for (n, o) in native.iter().zip(&openslo) {
        assert_eq!((&n.service, &n.name), (&o.service, &o.name));
        assert_eq!(n.sli, o.sli, "{}", n.name);
        assert!((n.objective - o.objective).abs() < 1e-12, "{}", n.name);
        assert_eq!(n.window, o.window, "{}", n.name);
        assert_eq!(n.group_by, o.group_by, "{}", n.name);
        assert_eq!(n.percentiles, o.percentiles, "{}", n.name);
    }
    let Sli::Logs(latency) = &openslo[1].sli else {
        panic!("{:?}", openslo[1].sli)
    };
    let field = latency.latency.as_ref().unwrap();
    assert_eq!(field.field, AttrRef::Body(vec!["request_time".into()]));
    assert_eq!(field.unit, LatencyUnit::Seconds);
}

const HEAD: &str = "apiVersion: openslo/v1
kind: SLO
metadata:
  name: a
spec:
  service: edge
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99, op: lte, value: 0.3}]
  indicator:
    spec:
";

/// A `thresholdMetric` whose source spec is `spec` (indented under `spec:` at 12).
fn threshold(spec: &str) -> String {
    format!(
        "{HEAD}      thresholdMetric:\n        metricSource:\n          type: slotel\n          spec:\n{spec}"
    )
}

#[test]
fn a_good_ratio_over_logs_is_its_negation_with_the_total_latency() {
    let text = format!(
        "{HEAD}      ratioMetric:
        good:
          metricSource: {{type: slotel, spec: {{signal: logs, query: 'body[\"status\"] < 500'}}}}
        total:
          metricSource:
            type: slotel
            spec:
              signal: logs
              query: severity_number >= 9
              latency: {{field: 'attributes[\"duration_ms\"]', unit: ms}}
"
    );
    let slos = parse_file(&text, "t.yaml").unwrap();
    let Sli::Logs(l) = &slos[0].sli else {
        panic!("{:?}", slos[0].sli)
    };
    let bad = l.bad.as_ref().unwrap();
    assert_eq!(bad.text(), "not (body[\"status\"] < 500)");
    assert_eq!(l.filter.text(), "severity_number >= 9");
    let field = l.latency.as_ref().unwrap();
    assert_eq!(field.field, AttrRef::Item("duration_ms".into()));
    assert_eq!(field.unit, LatencyUnit::Millis);
    assert_eq!(l.latency_threshold, None);
    assert!(slos[0].sli.has_latencies());
}

#[test]
fn shapes_that_are_not_log_slis_are_refused_with_their_place() {
    // A threshold over logs without the field that holds the latency.
    let e = errors(&threshold(
        "            signal: logs\n            query: 'true'\n",
    ));
    assert!(
        e.contains("a thresholdMetric over logs needs `latency`"),
        "{e}"
    );
    // `latency` on a span source.
    let e = errors(&threshold(
        "            query: kind == SPAN_KIND_SERVER\n            latency: {field: 'body[\"t\"]', unit: s}\n",
    ));
    assert!(
        e.contains("17:22: spec.indicator.spec.thresholdMetric.metricSource.spec.latency")
            && e.contains("applies only with `signal: logs`"),
        "{e}"
    );
    // A signal slotel does not read, with a hint.
    let e = errors(&threshold(
        "            signal: log\n            query: 'true'\n",
    ));
    assert!(
        e.contains("16:21") && e.contains("unknown signal \"log\"") && e.contains("`logs`"),
        "{e}"
    );
    // `signal` beside `metric`.
    let e = errors(&threshold(
        "            signal: logs\n            metric: http.server.duration\n",
    ));
    assert!(e.contains("`signal` does not go with `metric`"), "{e}");
    // A span field in a log condition, at its column.
    let e = errors(&threshold(
        "            signal: logs\n            query: kind == SPAN_KIND_SERVER\n            latency: {field: 'body[\"t\"]', unit: s}\n",
    ));
    assert!(e.contains("17:20") && e.contains("span field"), "{e}");
    // A body field in a span condition.
    let e = errors(&threshold("            query: body[\"status\"] >= 500\n"));
    assert!(e.contains("unknown path `body`"), "{e}");
    // An unknown latency unit.
    let e = errors(&threshold(
        "            signal: logs\n            query: 'true'\n            latency: {field: 'body[\"t\"]', unit: sec}\n",
    ));
    assert!(e.contains("unknown latency unit \"sec\""), "{e}");
}

#[test]
fn mixed_signals_and_misplaced_latencies_are_refused() {
    let ratio = |bad: &str, total: &str| {
        format!(
            "{HEAD}      ratioMetric:\n        bad:\n          metricSource: {{type: slotel, spec: {bad}}}\n        total:\n          metricSource: {{type: slotel, spec: {total}}}\n"
        )
    };
    let e = errors(&ratio(
        "{query: 'status.code == STATUS_CODE_ERROR'}",
        "{signal: logs, query: 'true'}",
    ));
    assert!(
        e.contains("must read the same signal") && e.contains("log conditions"),
        "{e}"
    );
    let e = errors(&ratio(
        "{signal: logs, query: 'body[\"status\"] >= 500', latency: {field: 'body[\"t\"]', unit: s}}",
        "{signal: logs, query: 'true'}",
    ));
    assert!(e.contains("`latency` belongs to `total`"), "{e}");
    // Body fields group only log SLIs.
    let text = HEAD.replace(
        "  name: a\n",
        "  name: a\n  annotations:\n    slotel.dev/group-by: 'body[\"route\"]'\n",
    ) + "      thresholdMetric:\n        metricSource: {type: slotel, spec: {query: 'true'}}\n";
    let e = errors(&text);
    assert!(
        e.contains("6:26: metadata.annotations.slotel.dev/group-by")
            && e.contains("only log slis group by the body"),
        "{e}"
    );
}
