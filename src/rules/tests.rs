//! Unit tests of rule generation: factors and windows, number and duration text, YAML
//! quoting, stable output, overrides. promtool and a real Prometheus run in
//! `tests/rules.rs`.

use super::plan::{self, Plan, Severity};
use super::yaml::{self, Yaml};
use super::*;
use crate::slo::spec::parse_file;

fn generated(set: &[Slo], formats: &[Format]) -> Vec<Output> {
    generate(set, formats, &Options::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn slos(text: &str) -> Vec<Slo> {
    parse_file(text, "t.yaml").unwrap_or_else(|e| panic!("{e:?}"))
}

const TWO: &str = "service: shop
slos:
  - name: b
    objective: 99.9
    window: 28d
    sli: {spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}
  - name: a
    objective: 99.5
    window: {calendar: month}
    sli: {spans: {where: kind == SPAN_KIND_SERVER, latency_threshold: 300ms}}
    percentiles: [50, 99.9]
    alerting:
      name: ShopBurn
      labels: {team: shop}
      annotations: {summary: \"custom \\\"summary\\\"\"}
      page: {severity: critical}
      ticket: {disabled: true}
";

#[test]
fn factors_follow_budget_share_times_window_over_long_window() {
    let day = 86_400;
    let factors = |days: u64| -> Vec<f64> {
        [(0.02, 3600), (0.05, 6 * 3600), (0.1, day), (0.1, 3 * day)]
            .iter()
            .map(|(share, long)| plan::factor(*share, days * day, *long))
            .collect()
    };
    assert_eq!(factors(30), [14.4, 6.0, 3.0, 1.0]);
    assert_eq!(factors(28), [13.44, 5.6, 2.8, 0.933]);
    assert_eq!(factors(7), [3.36, 1.4, 0.7, 0.233]);
}

#[test]
fn windows_and_alert_pairs_per_slo() {
    let set = slos(TWO);
    let b = Plan::new(&set[0], 60).unwrap();
    assert_eq!(b.period_label(), "4w");
    assert_eq!(b.budget, "0.001");
    assert_eq!(
        b.windows
            .iter()
            .map(|w| plan::duration(*w))
            .collect::<Vec<_>>(),
        ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    );
    assert!(!b.window_is_fixed());
    assert_eq!(b.window_ratio_name(), "slo:sli_error:ratio_rate4w");
    assert_eq!(b.alerts.len(), 4);
    // A calendar month counts as 30 days for the factors; disabled tickets are left out.
    let a = Plan::new(&set[1], 60).unwrap();
    assert_eq!(a.period_label(), "month");
    assert_eq!(a.window_ratio_name(), "slo:sli_error:ratio_month");
    assert_eq!(a.budget, "0.005");
    let pairs: Vec<(Severity, f64)> = a.alerts.iter().map(|p| (p.severity, p.factor)).collect();
    assert_eq!(pairs, [(Severity::Page, 14.4), (Severity::Page, 6.0)]);
    assert_eq!(a.quantiles, ["0.5", "0.999"]);
    // A window of one day has no 3-day pair.
    let short = slos(&TWO.replace("window: 28d", "window: 1d"));
    let p = Plan::new(&short[0], 60).unwrap();
    assert_eq!(p.windows.len(), 7);
    assert!(p.window_is_fixed());
    assert!(p.alerts.iter().all(|a| a.long <= 86_400));
    assert_eq!(p.alerts.len(), 3);
}

#[test]
fn prometheus_durations_and_numbers() {
    for (secs, text) in [
        (300, "5m"),
        (3600, "1h"),
        (86_400, "1d"),
        (7 * 86_400, "1w"),
        (28 * 86_400, "4w"),
        (30 * 86_400, "30d"),
        (365 * 86_400, "1y"),
        (90_061, "1d1h1m1s"),
    ] {
        assert_eq!(plan::duration(secs), text);
    }
    assert_eq!(plan::number(1.0 - 0.999), "0.001");
    assert_eq!(plan::number(0.1 * 672.0 / 72.0), "0.933333333333");
    assert_eq!(plan::number(f64::NAN), "0");
    assert_eq!(plan::quantile(99.9), "0.999");
    assert_eq!(plan::promql_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
}

#[test]
fn yaml_scalars_are_plain_only_when_unambiguous() {
    for (s, plain) in [
        ("checkout", true),
        ("slo:sli_error:ratio_rate5m", true),
        ("https://x.example/a", true),
        ("5m", false),
        ("yes", false),
        ("on", false),
        ("Null", false),
        ("", false),
        ("a b", false),
        ("x:", false),
        ("#x", false),
    ] {
        assert_eq!(yaml::scalar(s) == s, plain, "{s:?}");
    }
    assert_eq!(yaml::quoted("a\"\\\n\u{7f}é"), "\"a\\\"\\\\\\n\\u007fé\"");
}

#[test]
fn yaml_layout() {
    let doc = Yaml::map([
        (
            "groups",
            Yaml::Seq(vec![Yaml::map([
                ("name", Yaml::str("g")),
                (
                    "rules",
                    Yaml::Seq(vec![Yaml::map([
                        ("expr", Yaml::Block("a\n  b".into())),
                        ("labels", Yaml::map(Vec::<(String, Yaml)>::new())),
                        ("params", Yaml::Seq(vec![Yaml::int(0)])),
                    ])]),
                ),
            ])]),
        ),
        ("empty", Yaml::Seq(Vec::new())),
        ("lead", Yaml::Block(" starts with a space".into())),
    ]);
    assert_eq!(
        yaml::to_string(&doc),
        "groups:
  - name: g
    rules:
      - expr: |-
          a
            b
        labels: {}
        params:
          - 0
empty: []
lead: \" starts with a space\"
"
    );
}

#[test]
fn output_does_not_depend_on_file_order() {
    let set = slos(TWO);
    let reversed: Vec<Slo> = set.iter().rev().cloned().collect();
    let one = generated(&set, &Format::ALL);
    let other = generated(&reversed, &Format::ALL);
    assert_eq!(one, other);
    let names: Vec<&str> = one.iter().map(|o| o.name).collect();
    assert_eq!(
        names,
        [
            RULES_FILE,
            RECORDING_RULES_FILE,
            DASHBOARD_FILE,
            GRAFANA_ALERTING_FILE
        ]
    );
    // Group `a` comes before `b`.
    let rules = &one[0].text;
    let (a, b) = (
        rules.find("name: slotel:shop:a\n").unwrap(),
        rules.find("name: slotel:shop:b\n").unwrap(),
    );
    assert!(a < b);
}

#[test]
fn recording_only_file_has_no_alerts() {
    let set = slos(TWO);
    let out = generated(&set, &[Format::PrometheusRecording, Format::Prometheus]);
    assert_eq!(out[0].name, RULES_FILE);
    assert!(out[0].text.contains("- alert: ShopBurn"));
    assert!(out[0].text.contains("- alert: SLOErrorBudgetBurn"));
    assert_eq!(out[1].name, RECORDING_RULES_FILE);
    assert!(!out[1].text.contains("alert:"));
    assert_eq!(
        out[0].text.matches("- record:").count(),
        out[1].text.matches("- record:").count()
    );
}

#[test]
fn overrides_reach_prometheus_and_grafana_alerts() {
    let set = slos(TWO);
    let options = Options {
        grafana: GrafanaTarget {
            datasource_uid: "my-mimir".into(),
            folder: "Team SLOs".into(),
        },
        ..Options::default()
    };
    let out = generate(&set, &Format::ALL, &options).unwrap();
    let rules = &out[0].text;
    // `a`: two pages named ShopBurn with severity critical and the team label; the
    // user's summary replaces the generated one.
    assert_eq!(rules.matches("- alert: ShopBurn").count(), 2);
    assert_eq!(rules.matches("severity: critical").count(), 2);
    assert_eq!(rules.matches("team: shop").count(), 2);
    assert_eq!(
        rules.matches("summary: \"custom \\\"summary\\\"\"").count(),
        2
    );
    // `b`: four default alerts.
    assert_eq!(rules.matches("- alert: SLOErrorBudgetBurn").count(), 4);
    let grafana = &out[3].text;
    assert_eq!(grafana.matches("datasourceUid: my-mimir").count(), 6);
    assert_eq!(grafana.matches("folder: \"Team SLOs\"").count(), 2);
    assert_eq!(grafana.matches("severity: critical").count(), 2);
    // Rule uids are unique and at most 40 characters.
    let uids: Vec<&str> = grafana
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- uid: "))
        .collect();
    assert_eq!(uids.len(), 6);
    assert!(uids.iter().all(|u| u.len() <= 40));
    let mut unique = uids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), uids.len());
}

#[test]
fn min_events_guards_the_denominator() {
    let set = slos(&TWO.replace(
        "    window: 28d\n",
        "    window: 28d\n    min_events: 100\n",
    ));
    let out = generated(&set, &[Format::Prometheus]);
    assert!(out[0].text.contains(">= 100 / 300)"), "{}", out[0].text);
    // The 28-day window sums recorded increments, which are event counts.
    assert!(
        out[0].text.contains("[27d23h59m59s999ms])) >= 100)"),
        "{}",
        out[0].text
    );
    assert!(
        !out[0].text.contains("[4w])"),
        "no range over raw counters of 28 days"
    );
    // The other SLO only drops windows without events.
    assert!(out[0].text.contains("[5m])) > 0)"));
}

#[test]
fn dashboard_is_valid_json_with_one_row_per_slo() {
    let set = slos(TWO);
    let out = generated(&set, &[Format::GrafanaDashboard]);
    let v: serde_json::Value = serde_json::from_str(&out[0].text).unwrap();
    assert_eq!(v["uid"], "slotel-slos");
    let rows: Vec<&str> = v["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "row" && p["collapsed"] == true)
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        rows,
        ["shop/a — 99.5% over month", "shop/b — 99.9% over 4w"]
    );
    let vars: Vec<&str> = v["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(vars, ["datasource", "service", "slo", "cluster"]);
    // Panel ids are unique.
    let mut ids = Vec::new();
    for p in v["panels"].as_array().unwrap() {
        ids.push(p["id"].as_u64().unwrap());
        for inner in p["panels"].as_array().unwrap_or(&Vec::new()) {
            ids.push(inner["id"].as_u64().unwrap());
        }
    }
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n);
}

#[test]
fn group_labels_are_kept_by_every_sum_and_alert() {
    let set = slos(&TWO.replace(
        "    window: 28d\n",
        "    window: 28d\n    group_by:\n      - attributes[\"http.route\"]\n      - resource.attributes[\"k8s.namespace.name\"]\n",
    ));
    let p = Plan::new(&set[0], 60).unwrap();
    assert_eq!(
        p.by(),
        "slo, service, cluster, http_route, k8s_namespace_name"
    );
    let rules = &generated(&set, &[Format::Prometheus])[0].text;
    let b = &rules[rules.find("name: slotel:shop:b\n").unwrap()..];
    assert!(!b.contains("sum by (slo, service, cluster)"), "{b}");
    assert!(b.contains("sum by (slo, service, cluster, http_route, k8s_namespace_name) (rate("));
    assert!(b.contains("and on (slo, service, cluster, http_route, k8s_namespace_name)"));
    assert_eq!(
        plan::group_label(&crate::slo::spec::AttrRef::Item("1st.key-x".into())),
        "key_1st_key_x"
    );
}

#[test]
fn calendar_and_timeslice_shapes() {
    let text = "service: pay
slos:
  - name: sliced
    objective: 99.5
    window: {calendar: month, time_zone: Asia/Seoul}
    budgeting_method: timeslices
    timeslice: {size: 1m, target: 95}
    sli: {spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}
  - name: hourly-slices
    objective: 99
    window: 7d
    budgeting_method: timeslices
    timeslice: {size: 1h, target: 90}
    sli: {spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}
";
    let set = slos(text);
    let rules = &generated(&set, &[Format::Prometheus])[0].text;
    // The engine judges the slices: the rules read its counts per window (the engine's
    // labels: `month`, `7d`), and Seoul is 9 hours ahead of UTC for the month's phases.
    assert!(!rules.contains(":slices"), "{rules}");
    assert!(
        rules.contains(
            "slotel_slo_timeslices{service=\"pay\", slo=\"sliced\", window=\"month\", outcome=\"bad\"}"
        ),
        "{rules}"
    );
    assert!(
        rules.contains(
            "slotel_slo_timeslices{service=\"pay\", slo=\"hourly-slices\", window=\"7d\"}"
        )
    );
    assert!(rules.contains("month(vector(time() + 32370))"), "{rules}");
    assert!(rules.contains("- record: slo:sli_error:ratio_month"));
    assert!(rules.contains(
        "sum_over_time(slo:sli_events:increase_step_phase{service=\"pay\", slo=\"sliced\", phase=\"2\"}[31d])"
    ));
    // Hour slices: no window of an hour or less, so no alert pair that needs one.
    let p = Plan::new(&set[0], 60).unwrap();
    assert_eq!(p.period_label(), "month");
    let hourly = Plan::new(&set[1], 60).unwrap();
    assert_eq!(
        hourly
            .windows
            .iter()
            .map(|w| plan::duration(*w))
            .collect::<Vec<_>>(),
        ["2h", "6h", "1d", "3d"]
    );
    let pairs: Vec<(u64, u64)> = hourly.alerts.iter().map(|a| (a.long, a.short)).collect();
    assert_eq!(pairs, [(86_400, 7_200), (3 * 86_400, 6 * 3_600)]);
}

#[test]
fn refusals_name_the_slo_and_its_place() {
    let text = "service: s
slos:
  - name: ny
    objective: 99
    window: {calendar: week, time_zone: America/New_York}
    sli: {spans: {where: kind == SPAN_KIND_SERVER, latency_threshold: 1s}}
";
    let set = slos(text);
    let err = generate(&set, &Format::ALL, &Options::default()).unwrap_err();
    let lines: Vec<String> = err.errors().iter().map(|e| e.to_string()).collect();
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with("t.yaml:3:11: slo `s/ny`: `slotel rules` cannot follow calendar periods in time zone \"America/New_York\""),
        "{lines:?}"
    );
    assert_eq!(plan::fixed_offset("Asia/Seoul"), Some(32_400));
    assert_eq!(plan::fixed_offset("UTC"), Some(0));
    assert_eq!(plan::fixed_offset("Etc/GMT+12"), Some(-43_200));
    assert_eq!(plan::fixed_offset("Europe/Berlin"), None);
}

#[test]
fn prometheus_operator_format_wraps_the_rule_file() {
    let set = slos(TWO);
    let mut options = Options::default();
    options.operator.namespace = "monitoring".into();
    options
        .operator
        .labels
        .insert("release".into(), "kube-prometheus-stack".into());
    let out = generate(
        &set,
        &[Format::PrometheusOperator, Format::Prometheus],
        &options,
    )
    .unwrap();
    assert_eq!(out[1].name, PROMETHEUS_RULE_FILE);
    let rule = &out[1].text;
    assert!(rule.contains(
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: slotel\n  namespace: monitoring\n  labels:\n"
    ), "{rule}");
    assert!(rule.contains("    release: kube-prometheus-stack\n"));
    // The spec is the rule file, indented.
    let spec = &rule[rule.find("spec:\n").unwrap() + 6..];
    let unindented: String = spec
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
        .collect();
    assert_eq!(format!("{HEADER}{unindented}"), out[0].text);
}

#[test]
fn exhaustion_alert_reaches_prometheus_and_grafana_with_its_overrides() {
    let set = slos(
        "service: shop
slos:
  - name: pay
    objective: 99.9
    window: {calendar: month, time_zone: Asia/Seoul}
    sli: {spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}
    alerting:
      labels: {team: shop}
      exhaustion: {within: 2d, for: 30m, name: PayBudgetGone, severity: page, labels: {pager: pay}}
  - name: quiet
    objective: 99
    window: 7d
    sli: {spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}
    alerting:
      disabled: true
      exhaustion: {within: 1d}
",
    );
    let out = generate(&set, &Format::ALL, &Options::default()).unwrap();
    let rules = &out[0].text;
    assert_eq!(rules.matches("- alert: PayBudgetGone").count(), 1);
    assert_eq!(rules.matches("SLOErrorBudgetExhaustion").count(), 0);
    // Two days in seconds; the 3d burn rate; the month's days in Seoul (UTC+9).
    assert!(rules.contains(") < 172800"), "{rules}");
    assert!(
        rules.contains("slo:sli_error:ratio_rate3d{service=\"shop\", slo=\"pay\"} / 0.001 > 0")
    );
    assert!(rules.contains("scalar(days_in_month(vector(time() + 32400)) * 86400)"));
    assert!(rules.contains("for: \"30m\""));
    assert!(rules.contains("pager: pay"));
    let grafana = &out[3].text;
    assert_eq!(
        grafana.matches("title: \"PayBudgetGone shop pay\"").count(),
        1
    );
    // Fires for any value, 0 (a spent budget) included.
    assert_eq!(grafana.matches("- -1\n").count(), 1, "{grafana}");
    assert!(grafana.contains("for: \"30m\""));
    assert!(grafana.contains("$values.A.Value | humanizeDuration"));
    // The recordings alone carry no alert.
    assert!(!out[1].text.contains("PayBudgetGone"));
}
