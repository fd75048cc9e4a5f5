//! `slotel rules`: the generated rule files pass `promtool check rules`; the promtool unit
//! tests of `tests/rules/*.test.yaml` (alert timing after the SRE Workbook, no traffic,
//! clusters and replicas, `min_events`, overrides) pass on rules generated from
//! `tests/rules/slos/`; a real Prometheus loads the rules for the example SLOs, evaluates
//! them on scraped series and runs every query of the dashboard and of the Grafana alert
//! provisioning; `deploy/generated/` is what `slotel rules` writes for the examples.
//!
//! promtool and prometheus come from Debian's `prometheus` package (scripts/test.sh installs
//! it); without them these tests fail.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use common::prometheus::Prometheus;
use common::slotel;
use slotel::rules::{self, Format, Options};

/// The promtool suites in `tests/rules/`, each with its SLO file in `tests/rules/slos/`.
const SUITES: [&str; 9] = [
    "workbook",
    "fast_burn",
    "no_traffic",
    "aggregation",
    "calendar",
    "long_windows",
    "exhaustion",
    "journey",
    "adjustments",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn promtool(args: &[&str], dir: &Path) -> Output {
    Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `promtool` ({e}): install Debian's `prometheus` package \
                 (scripts/test.sh does)"
            )
        })
}

/// `slotel rules` into `out` (extra arguments first); panics unless it succeeds.
fn generate(args: &[&str], out: &Path) {
    let result = slotel()
        .arg("rules")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(result.status.success(), "{}", text(&result));
}

/// `promtool check rules` on the rule files in `dir`.
fn check_rules(dir: &Path, files: &[&str]) {
    let mut args = vec!["check", "rules"];
    args.extend(files);
    let out = promtool(&args, dir);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("SUCCESS").count(), files.len(), "{stdout}");
}

#[test]
fn rules_for_the_examples_pass_promtool_check() {
    let dir = tempfile::tempdir().unwrap();
    // The embedded default config loads the example SLOs.
    generate(&[], dir.path());
    check_rules(
        dir.path(),
        &[rules::RULES_FILE, rules::RECORDING_RULES_FILE],
    );
}

/// Generates the rules for suite `name` (with `extra` arguments) and runs `promtool test
/// rules` on it.
fn run_suite(name: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let slos = root().join(format!("tests/rules/slos/{name}.yaml"));
    let slos = slos.to_str().unwrap();
    let mut args = vec!["--slos", slos, "--format", "prometheus"];
    args.extend(extra);
    generate(&args, dir.path());
    check_rules(dir.path(), &[rules::RULES_FILE]);
    let suite = format!("{name}.test.yaml");
    let body = std::fs::read_to_string(root().join("tests/rules").join(&suite)).unwrap();
    assert!(
        body.matches("eval_time:").count() >= 3,
        "{suite} tests too little"
    );
    std::fs::write(dir.path().join(&suite), body).unwrap();
    let out = promtool(&["test", "rules", &suite], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SUCCESS"));
}

/// A journey's recordings weigh its members' series (a grouped member by its roll-ups),
/// per cluster, over fixed windows and the 30 days summed from recorded increments.
#[test]
fn promtool_journey_weighs_its_members() {
    run_suite("journey", &[]);
}

/// 1.5% errors page at t0 + 60m (predicted 57.6m), 0.2% errors open only the 3d/6h
/// ticket at t0 + 36h, 0.05% never alerts, a 28-day SLO pages at 13.44x.
#[test]
fn promtool_workbook_scenarios() {
    run_suite("workbook", &["--interval", "5m"]);
}

/// 100% errors page at the first evaluation after they start.
#[test]
fn promtool_full_outage_pages_within_two_minutes() {
    run_suite("fast_burn", &[]);
}

/// No traffic: no error ratio, burn rate or budget series (no NaN), no alert.
#[test]
fn promtool_no_traffic_no_series_no_alert() {
    run_suite("no_traffic", &[]);
}

/// Replicas add up, clusters do not; `min_events`; alert name, labels, severities.
#[test]
fn promtool_clusters_min_events_and_overrides() {
    run_suite("aggregation", &[]);
}

/// Calendar windows and timeslices give the engine's numbers: a month in a zone 12 hours
/// behind UTC starts from zero at its local start (December's errors, still inside the
/// 31-day range, do not count), a rolling 7 days summed from recorded increments counts
/// every event, and a timeslice SLO's windows are the engine's bad slices over its ended
/// slices, replicas added, with no series before a slice has ended.
#[test]
fn promtool_calendar_windows_and_timeslices_match_the_engine() {
    run_suite("calendar", &["--interval", "5m"]);
}

/// Long windows summed from recorded counter increments are the counters' exact totals
/// across a counter reset inside a step, a series silent beyond the lookback and series
/// that start late.
#[test]
fn promtool_long_windows_count_exactly_across_resets_and_silences() {
    run_suite("long_windows", &["--interval", "1m"]);
}

/// `alerting.exhaustion`: the alert fires at the first evaluation where the time to
/// exhaustion (budget left x SLO window / the 3d burn rate) falls below `within`, computed
/// by hand from the sent counts, and not before; a spent budget fires with 0.
#[test]
fn promtool_exhaustion_alert_fires_at_the_predicted_time() {
    run_suite("exhaustion", &["--interval", "5m"]);
}

/// A budget adjustment holds back the alerts of its SLO while
/// `slotel_slo_adjustment_active` is 1 (written by two replicas), and only of its SLO:
/// the same burn pages before it starts and once it ends. An adjustment of one cluster
/// holds back that cluster's alerts only.
#[test]
fn promtool_no_page_during_an_adjustment_pages_outside_it() {
    run_suite("adjustments", &[]);
}

/// SLOs whose windows the rules cannot compute as the engine does are refused, each at its
/// place in its file, and nothing is written.
#[test]
fn slos_the_rules_cannot_follow_are_refused_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.yaml");
    std::fs::write(
        &file,
        "service: shop\nslos:\n  - name: berlin\n    objective: 99\n    \
         window: {calendar: month, time_zone: Europe/Berlin}\n    \
         sli: {spans: {where: kind == SPAN_KIND_SERVER, latency_threshold: 1s}}\n  - name: fine\n    objective: 99\n    \
         window: {calendar: week, time_zone: Asia/Seoul}\n    \
         sli: {spans: {where: kind == SPAN_KIND_SERVER, latency_threshold: 1s}}\n  - name: paris\n    objective: 99\n    \
         window: {calendar: week, time_zone: Europe/Paris}\n    \
         sli: {spans: {where: kind == SPAN_KIND_SERVER, latency_threshold: 1s}}\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = slotel()
        .args(["rules", "--slos", file.to_str().unwrap(), "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    let f = file.display();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with(&format!(
            "{f}:3:11: slo `shop/berlin`: `slotel rules` cannot follow calendar periods in \
             time zone \"Europe/Berlin\": its UTC offset changes"
        )),
        "{err}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "{f}:11:11: slo `shop/paris`: `slotel rules` cannot follow calendar periods in \
             time zone \"Europe/Paris\""
        )),
        "{err}"
    );
    assert!(!out_dir.exists(), "nothing is written");
}

#[test]
fn every_suite_is_run() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(root().join("tests/rules"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".test.yaml").map(str::to_string)
        })
        .collect();
    let run: BTreeSet<String> = SUITES.iter().map(|s| s.to_string()).collect();
    assert_eq!(on_disk, run);
}

/// `deploy/generated/` is the output for the example SLOs, byte for byte.
#[test]
fn deploy_generated_is_up_to_date() {
    let set = slotel::slo::spec::load(&["embedded:examples".to_string()], false).unwrap();
    let outputs = rules::generate(&set.slos, &Format::ALL, &Options::default()).unwrap();
    let dir = root().join("deploy/generated");
    let regenerate = "regenerate with `cargo run -- rules --out deploy/generated`";
    let mut expected: BTreeSet<String> = BTreeSet::new();
    for output in &outputs {
        expected.insert(output.name.to_string());
        let on_disk = std::fs::read_to_string(dir.join(output.name))
            .unwrap_or_else(|e| panic!("deploy/generated/{}: {e}; {regenerate}", output.name));
        assert!(
            on_disk == output.text,
            "deploy/generated/{} is out of date; {regenerate}",
            output.name
        );
    }
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "README.md")
        .collect();
    assert_eq!(
        present, expected,
        "stale files in deploy/generated; {regenerate}"
    );
}

#[test]
fn the_binary_writes_what_the_library_generates() {
    let dir = tempfile::tempdir().unwrap();
    generate(
        &[
            "--slos",
            root().join("config/slos/*.yaml").to_str().unwrap(),
            "--format",
            "grafana-dashboard,grafana-alerting",
        ],
        dir.path(),
    );
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [rules::GRAFANA_ALERTING_FILE, rules::DASHBOARD_FILE]);
    for name in names {
        let written = std::fs::read_to_string(dir.path().join(&name)).unwrap();
        let committed =
            std::fs::read_to_string(root().join("deploy/generated").join(&name)).unwrap();
        assert!(written == committed, "{name} differs from deploy/generated");
    }
}

#[test]
fn invalid_slo_files_are_reported_with_their_place_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "service: shop\nslos:\n  - name: checkout\n    objective: 99.9\n    window: 30d\n    \
         sli: {spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}\n    \
         alerting:\n      labels: {severity: high, \"team-a\": x}\n      pag: {}\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = slotel()
        .args(["rules", "--slos", bad.to_str().unwrap(), "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    let file = bad.display().to_string();
    for want in [
        format!(
            "{file}:8:16: slos[0].alerting.labels.severity: `severity` is set by \
             `page.severity` and `ticket.severity`"
        ),
        format!("{file}:8:32: slos[0].alerting.labels.team-a: invalid label name"),
        format!("{file}:9:7: slos[0].alerting.pag: unknown key \"pag\", did you mean `page`?"),
    ] {
        assert!(err.contains(&want), "missing {want:?} in:\n{err}");
    }
    assert!(
        !out_dir.exists(),
        "nothing is written when an SLO file is invalid"
    );
}

#[test]
fn intervals_the_rules_cannot_record_at_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (interval, ok) in [
        ("0s", false),
        ("1500ms", false),
        ("1s", true),
        ("5m", true),
        ("5m 1s", false),
        ("1h", false),
        ("300000000000y", false),
    ] {
        let out_dir = dir.path().join(interval.replace(' ', "_"));
        // The embedded default config loads the example SLOs.
        let out = slotel()
            .args(["rules", "--interval", interval, "--out"])
            .arg(&out_dir)
            .output()
            .unwrap();
        if ok {
            assert_eq!(out.status.code(), Some(0), "{interval}: {}", text(&out));
            check_rules(&out_dir, &["prometheus-rules.yaml"]);
        } else {
            assert_eq!(out.status.code(), Some(1), "{interval}: {}", text(&out));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("must be whole seconds from 1s to 5m"),
                "{interval}: {err}"
            );
            assert!(!out_dir.exists(), "{interval}: nothing is written");
        }
    }
}

/// Serves `slotel_slo_events_total` for every example SLO in two clusters and `all`,
/// growing with time: `seoul-prod` with 0.1% bad events, `busan-prod` with 50%; and the
/// ended slices of timeslice SLOs per window (`slotel_slo_timeslices`, one a minute):
/// every slice of `seoul-prod` good, of `busan-prod` bad, of `all` half bad.
fn fake_slotel(slos: &[(String, String)]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let slos = slos.to_vec();
    let start = SystemTime::now();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let t = start.elapsed().unwrap_or_default().as_secs_f64() + 1.0;
            let mut body = String::from("# TYPE slotel_slo_events_total counter\n");
            for (service, slo) in &slos {
                for (cluster, good, bad) in [
                    ("seoul-prod", 999.0 * t, t),
                    ("busan-prod", 500.0 * t, 500.0 * t),
                    ("all", 1499.0 * t, 501.0 * t),
                ] {
                    for (outcome, v) in [("good", good), ("bad", bad)] {
                        body.push_str(&format!(
                            "slotel_slo_events_total{{slo=\"{slo}\",service=\"{service}\",\
                             cluster=\"{cluster}\",outcome=\"{outcome}\"}} {v}\n"
                        ));
                    }
                }
            }
            body.push_str("# TYPE slotel_slo_timeslices gauge\n");
            let n = (t / 60.0).floor() + 1.0;
            for (service, slo) in &slos {
                for window in [
                    "5m", "30m", "1h", "2h", "6h", "1d", "3d", "7d", "28d", "30d", "month", "week",
                ] {
                    for (cluster, good, bad) in [
                        ("seoul-prod", n, 0.0),
                        ("busan-prod", 0.0, n),
                        ("all", n, n),
                    ] {
                        for (outcome, v) in [("good", good), ("bad", bad)] {
                            body.push_str(&format!(
                                "slotel_slo_timeslices{{slo=\"{slo}\",service=\"{service}\",\
                                 cluster=\"{cluster}\",window=\"{window}\",outcome=\"{outcome}\"}} {v}\n"
                            ));
                        }
                    }
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// The PromQL of `expr: |-` blocks in a generated YAML file.
fn yaml_exprs(text: &str) -> Vec<String> {
    let mut exprs = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.trim_end().ends_with("expr: |-") {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let mut expr = Vec::new();
        while let Some(next) = lines.peek() {
            if next.len() - next.trim_start().len() <= indent {
                break;
            }
            expr.push(next.trim());
            lines.next();
        }
        exprs.push(expr.join("\n"));
    }
    exprs
}

/// Every `expr` of the dashboard, and the series selectors of its variables.
fn dashboard_exprs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr", serde_json::Value::String(e)) => out.push(e.clone()),
                    ("definition", serde_json::Value::String(d)) => {
                        let inner = d
                            .strip_prefix("label_values(")
                            .and_then(|s| s.strip_suffix(')'))
                            .and_then(|s| s.rsplit_once(','))
                            .map(|(selector, _)| selector.to_string());
                        out.push(inner.unwrap_or_else(|| panic!("unexpected variable {d}")));
                    }
                    _ => dashboard_exprs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| dashboard_exprs(v, out)),
        _ => {}
    }
}

fn with_variables(expr: &str) -> String {
    expr.replace("$service", ".+")
        .replace("$slo", ".+")
        .replace("$cluster", "all")
}

#[test]
fn a_real_prometheus_loads_the_rules_and_runs_every_dashboard_and_alert_query() {
    let set = slotel::slo::spec::load(&["embedded:examples".to_string()], false).unwrap();
    let ids: Vec<(String, String)> = set
        .slos
        .iter()
        .map(|s| (s.service.clone(), s.name.clone()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    // Rule groups at the test Prometheus' 1s.
    let options = Options {
        interval: 1,
        ..Options::default()
    };
    let outputs = rules::generate(&set.slos, &Format::ALL, &options).unwrap();
    for o in &outputs {
        std::fs::write(dir.path().join(o.name), &o.text).unwrap();
    }
    let exporter = fake_slotel(&ids);
    let prom = Prometheus::builder()
        .rule_file(dir.path().join(rules::RULES_FILE))
        .scrape(format!("127.0.0.1:{exporter}"))
        .start();

    // Recordings for every SLO and cluster: the scrape's `instance` and `job` labels drop out.
    // Up to 60 s.
    for attempt in 0.. {
        let n = prom.vector("slo:sli_error:ratio_rate5m").len();
        if n == ids.len() * 3 {
            break;
        }
        assert!(attempt < 240, "{n} 5m ratios; log:\n{}", prom.log_text());
        std::thread::sleep(Duration::from_millis(500));
    }
    // Busan: half the events bad; for timeslice SLOs every slice bad (50% < their target).
    let sliced: BTreeSet<(String, String)> = set
        .slos
        .iter()
        .filter(|s| matches!(s.budgeting, slotel::slo::spec::Budgeting::Timeslices { .. }))
        .map(|s| (s.service.clone(), s.name.clone()))
        .collect();
    assert!(!sliced.is_empty());
    let busan = prom.vector("slo:sli_error:ratio_rate5m{cluster=\"busan-prod\"}");
    for s in &busan {
        let v: f64 = s["value"][1].as_str().unwrap().parse().unwrap();
        let m = &s["metric"];
        let id = (
            m["service"].as_str().unwrap().to_string(),
            m["slo"].as_str().unwrap().to_string(),
        );
        let want = if sliced.contains(&id) { 1.0 } else { 0.5 };
        assert!((v - want).abs() < 1e-9, "{s}");
    }

    // The dashboard's queries (variables at service = slo = any, cluster = all).
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(rules::DASHBOARD_FILE)).unwrap(),
    )
    .unwrap();
    let mut exprs = Vec::new();
    dashboard_exprs(&dashboard, &mut exprs);
    assert!(exprs.len() > 50, "{} dashboard queries", exprs.len());
    let mut empty = Vec::new();
    for expr in &exprs {
        let q = with_variables(expr);
        let data = prom
            .try_query(&q)
            .unwrap_or_else(|e| panic!("dashboard query {q:?} fails: {e}"));
        let has_data = data["result"].as_array().is_some_and(|r| !r.is_empty());
        // Only the latency percentiles lack data: this test scrapes no native histogram.
        if !has_data && !q.contains("latency_seconds") {
            empty.push(q);
        }
    }
    assert!(
        empty.is_empty(),
        "dashboard queries without data: {empty:#?}"
    );
    // The overview table has one row per SLO in every column.
    let overview: Vec<&serde_json::Value> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "table")
        .flat_map(|p| p["targets"].as_array().unwrap())
        .collect();
    assert_eq!(overview.len(), 7);
    for target in overview {
        let q = with_variables(target["expr"].as_str().unwrap());
        assert_eq!(prom.vector(&q).len(), ids.len(), "{q}");
    }

    // The generic dashboard: its queries run on the same recordings and find every SLO.
    let generic = rules::generate(
        &set.slos,
        &[Format::GrafanaDashboard],
        &Options {
            dashboard: rules::DashboardKind::Generic,
            ..Options::default()
        },
    )
    .unwrap();
    let generic: serde_json::Value = serde_json::from_str(&generic[0].text).unwrap();
    let mut exprs = Vec::new();
    dashboard_exprs(&generic, &mut exprs);
    assert!(
        exprs.len() > 15,
        "{} generic dashboard queries",
        exprs.len()
    );
    for expr in &exprs {
        let q = with_variables(expr);
        let data = prom
            .try_query(&q)
            .unwrap_or_else(|e| panic!("generic dashboard query {q:?} fails: {e}"));
        let found = data["result"].as_array().map_or(0, Vec::len);
        // This test's exporter writes events only: no latencies, no time to exhaustion.
        if !q.contains("latency_seconds") && !q.contains("time_to_exhaustion") {
            assert!(found > 0, "generic dashboard query without data: {q}");
        }
    }
    // The Grafana alert queries: each finds the burning cluster.
    let provisioning =
        std::fs::read_to_string(dir.path().join(rules::GRAFANA_ALERTING_FILE)).unwrap();
    let alert_exprs = yaml_exprs(&provisioning);
    // The same expressions as the Prometheus alerts, which follow the recordings of each
    // group in the rule file.
    let rule_file = std::fs::read_to_string(dir.path().join(rules::RULES_FILE)).unwrap();
    let prometheus_alerts: Vec<String> = yaml_exprs(&rule_file)
        .into_iter()
        .filter(|e| {
            e.starts_with("(slo:sli_error:") && e.contains("\nand on (slo, service, cluster")
        })
        .collect();
    assert_eq!(
        alert_exprs, prometheus_alerts,
        "grafana and prometheus alerts differ"
    );
    assert!(
        alert_exprs.len() >= 4 * ids.len() - 4,
        "{}",
        alert_exprs.len()
    );
    for expr in &alert_exprs {
        let result = prom
            .try_query(expr)
            .unwrap_or_else(|e| panic!("alert query {expr:?} fails: {e}"));
        let clusters: BTreeSet<&str> = result["result"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["metric"]["cluster"].as_str())
            .collect();
        assert!(clusters.contains("busan-prod"), "{expr}: {result}");
        assert!(!clusters.contains("seoul-prod"), "{expr}: {result}");
    }

    // Prometheus evaluates every rule without error and fires the burn-rate alerts.
    for attempt in 0.. {
        let data = prom.rules();
        let all: Vec<&serde_json::Value> = data["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap())
            .collect();
        assert!(all.len() > 100, "{} rules loaded", all.len());
        let bad: Vec<_> = all.iter().filter(|r| r["health"] == "err").collect();
        assert!(bad.is_empty(), "rules with errors: {bad:#?}");
        if all.iter().all(|r| r["health"] == "ok") {
            break;
        }
        assert!(attempt < 180, "rules not all evaluated after 90s");
        std::thread::sleep(Duration::from_millis(500));
    }
    let firing = prom.vector(
        "ALERTS{alertname=\"SLOErrorBudgetBurn\", alertstate=\"firing\", severity=\"page\"}",
    );
    let firing: BTreeSet<(String, String)> = firing
        .iter()
        .map(|a| {
            let m = &a["metric"];
            (
                m["service"].as_str().unwrap_or("").to_string(),
                m["cluster"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for (service, _) in &ids {
        assert!(
            firing.contains(&(service.clone(), "busan-prod".to_string())),
            "{firing:?}"
        );
        assert!(
            !firing.contains(&(service.clone(), "seoul-prod".to_string())),
            "{firing:?}"
        );
    }
}

/// An SLO file whose author wrote quotes, backslashes, newlines, `#`, `</script>` and
/// templates into every free-text field (description, runbook, alert labels and
/// annotations): the rules still pass promtool, whose ruler expands labels and
/// annotations as templates; a template the ruler would refuse (which would take every
/// alert of the file with it) is refused when the SLO file loads, with its place.
#[test]
fn free_text_of_slo_files_cannot_break_the_rule_file() {
    let dir = tempfile::tempdir().unwrap();
    let slos = |runbook: &str, note: &str| {
        format!(
            "service: shop\nslos:\n  - name: avail\n    description: \"d \\\"q\\\" \\\\ {{{{ $labels.x }}}} </script>\\n# not a comment\"\n\
             \x20   objective: 99.9\n    window: 30d\n    runbook_url: {runbook}\n\
             \x20   sli:\n      spans:\n        where: kind == SPAN_KIND_SERVER and attributes[\"x\"] == \"a\\\"b\\\\c{{{{ $value }}}}\"\n\
             \x20       bad: status.code == STATUS_CODE_ERROR\n\
             \x20   group_by: ['attributes[\"http.route\"]']\n\
             \x20   alerting:\n      page:\n        labels: {{team: \"a\\\"b{{{{ $labels.slo }}}}\\nc #x\"}}\n\
             \x20       annotations: {{note: {note}}}\n"
        )
    };
    let good = dir.path().join("good.yaml");
    std::fs::write(
        &good,
        slos(
            "'https://runbooks.example/{{ .Labels.slo }}?q=\"x\"&a=1#top'",
            "\"{{ $value | humanizePercentage }} \\\\ \\\"\\n\\t\"",
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    generate(&["--slos", good.to_str().unwrap()], &out);
    check_rules(&out, &[rules::RULES_FILE, rules::RECORDING_RULES_FILE]);

    for (runbook, note, place, why) in [
        (
            "'https://runbooks.example/{{ .Labels.slo }}#{{'",
            "ok",
            "bad.yaml:7:18: slos[0].runbook_url",
            "never closed",
        ),
        (
            "https://runbooks.example/",
            "'{{ unclosed }}'",
            "bad.yaml:16:29: slos[0].alerting.page.annotations.note",
            "`unclosed`",
        ),
    ] {
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, slos(runbook, note)).unwrap();
        let result = slotel()
            .args(["rules", "--slos", bad.to_str().unwrap(), "--out"])
            .arg(dir.path().join("bad"))
            .output()
            .unwrap();
        let all = text(&result);
        assert!(!result.status.success(), "{all}");
        assert!(all.contains(place) && all.contains(why), "{all}");
    }
}
