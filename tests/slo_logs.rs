//! Log SLIs through the real pipeline: each example of `config/examples/logs/` (NGINX
//! Ingress JSON, Envoy `json_format`, an application's JSON lines) loads as written, its
//! sample log file is sent over OTLP/HTTP as log records (string bodies or, as a collector's
//! json_parser makes them, map bodies), and `GET /api/v1/slos` answers what the example's
//! hand-computed `.expected.json` says: counts, groups, unreadable latencies, percentiles
//! (nearest rank, within the HDR histograms' 0.1%). The NGINX example's OpenSLO version
//! answers the same.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValueList};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;
use slotel::attr::{AttrValue, kv};

/// How a sample line becomes a log record.
#[derive(Clone, Copy)]
enum Body {
    /// The line as a string body (a filelog receiver without a parser).
    Line,
    /// The parsed line as a map body (a filelog receiver's json_parser into the body).
    Map,
    /// The line as a string body, with the severity of its `level`.
    LineWithLevel,
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/logs")
}

/// A JSON value as an OTLP value, as the collector's json_parser converts it.
fn any(v: &serde_json::Value) -> AnyValue {
    let value = match v {
        serde_json::Value::Null => None,
        serde_json::Value::Bool(b) => Some(Value::BoolValue(*b)),
        serde_json::Value::Number(n) => Some(match n.as_i64() {
            Some(i) => Value::IntValue(i),
            None => Value::DoubleValue(n.as_f64().unwrap()),
        }),
        serde_json::Value::String(s) => Some(Value::StringValue(s.clone())),
        serde_json::Value::Array(items) => Some(Value::ArrayValue(ArrayValue {
            values: items.iter().map(any).collect(),
        })),
        serde_json::Value::Object(map) => Some(Value::KvlistValue(KeyValueList {
            values: map.iter().map(|(k, v)| kv(k, any(v))).collect(),
        })),
    };
    AnyValue { value }
}

/// The OpenTelemetry severity number of a level name.
fn severity(level: &str) -> i32 {
    match level {
        "debug" => 5,
        "info" => 9,
        "warn" => 13,
        "error" => 17,
        other => panic!("level {other}"),
    }
}

fn request(lines: &str, service: &str, cluster: &str, body: Body) -> ExportLogsServiceRequest {
    let now = now_unix_nanos();
    let records = lines
        .lines()
        .map(|line| {
            let mut record = LogRecord {
                // No event time: the record counts at its observed time.
                observed_time_unix_nano: now,
                ..Default::default()
            };
            match body {
                Body::Line => record.body = Some(line.into_any_value()),
                Body::Map => {
                    let parsed: serde_json::Value = serde_json::from_str(line).unwrap();
                    record.body = Some(any(&parsed));
                }
                Body::LineWithLevel => {
                    let parsed: serde_json::Value = serde_json::from_str(line).unwrap();
                    let level = parsed["level"].as_str().unwrap();
                    record.severity_number = severity(level);
                    record.severity_text = level.to_uppercase();
                    record.body = Some(line.into_any_value());
                }
            }
            record
        })
        .collect();
    otlp::logs_request(
        vec![kv("service.name", service), kv("k8s.cluster.name", cluster)],
        records,
    )
}

/// Every field of `want` (but `latency`, within 0.1%) equals the entry's.
fn check(entry: &serde_json::Value, want: &serde_json::Value, what: &str) {
    for (key, value) in want.as_object().unwrap() {
        if key == "latency" {
            for (p, v) in value.as_object().unwrap() {
                let got = entry["latency"][p].as_f64().unwrap_or(f64::NAN);
                let v = v.as_f64().unwrap();
                assert!(
                    (got - v).abs() <= v * 0.001,
                    "{what}: latency {p} = {got}, expected {v} (nearest rank)"
                );
            }
        } else {
            assert_eq!(&entry[key], value, "{what}: {key} in {entry}");
        }
    }
}

async fn run_example(name: &str, service: &str, body: Body) {
    run_example_file(name, &format!("{name}.yaml"), service, body).await;
}

/// [`run_example`] with the SLOs of `slo_file` (another way of writing `name`'s).
async fn run_example_file(name: &str, slo_file: &str, service: &str, body: Body) {
    let dir = examples();
    let file = dir.join(slo_file).display().to_string();
    let server = start_cfg(
        move |mut c| {
            c.slo.files = vec![file];
            c
        },
        Vec::new(),
    )
    .await;
    let lines = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap();
    let req = request(&lines, service, "example", body);
    let r = http_send(
        "POST",
        &format!("http://{}/v1/logs", server.http),
        &[("content-type", "application/x-protobuf")],
        req.encode_to_vec(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("{name}.expected.json"))).unwrap(),
    )
    .unwrap();
    let wanted = expected["slos"].as_array().unwrap();
    let first = &wanted[0];
    let mut answer = serde_json::Value::Null;
    for _ in 0..100 {
        answer = slos(server.admin).await;
        let ready = answer["slos"].as_array().unwrap().iter().any(|e| {
            e["name"] == first["name"] && e["cluster"] == "all" && e["total"] == first["total"]
        });
        if ready {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for want in wanted {
        let entry = answer["slos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| {
                e["name"] == want["name"]
                    && e["cluster"] == want["cluster"]
                    && want.get("group").is_none_or(|g| e["group"] == *g)
                    && (want.get("group").is_some() || e.get("group").is_none())
            })
            .unwrap_or_else(|| panic!("{name}: no entry like {want} in {answer}"));
        check(entry, want, name);
    }
}

#[tokio::test]
async fn nginx_ingress_json_access_log() {
    run_example("nginx-ingress", "ingress-nginx", Body::Line).await;
}

/// The same SLOs written as OpenSLO documents (`signal: logs`) give the same answer.
#[tokio::test]
async fn nginx_ingress_json_access_log_with_openslo_slos() {
    run_example_file(
        "nginx-ingress",
        "nginx-ingress.openslo.yaml",
        "ingress-nginx",
        Body::Line,
    )
    .await;
}

#[tokio::test]
async fn envoy_json_format_access_log_as_map_bodies() {
    run_example("envoy", "edge-gateway", Body::Map).await;
}

#[tokio::test]
async fn application_json_log_with_severity() {
    run_example("app", "orders", Body::LineWithLevel).await;
}

/// `slotel check` names a log SLI field that a redaction rule would take away before the
/// SLO engine sees it, and says nothing of the fields redaction keeps.
#[test]
fn check_reports_log_sli_fields_that_redaction_removes() {
    let dir = tempfile::tempdir().unwrap();
    let slos = dir.path().join("gateway.yaml");
    std::fs::write(
        &slos,
        r#"
service: gateway
slos:
  - name: availability
    objective: 99
    window: 30d
    sli:
      logs:
        where: body["status"] != nil and attributes["x-internal-route"] != "/health"
        bad: body["status"] >= 500
        latency:
          field: body["upstream"]["token"]
          unit: ms
        latency_threshold: 100ms
"#,
    )
    .unwrap();
    let config = dir.path().join("slotel.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:4318
processors:
  redaction:
    keys:
      sensitive: ['(?i)^x-internal-']
slo:
  files: [{}]
"#,
            slos.display()
        ),
    )
    .unwrap();
    let out = slotel()
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(r#"slo gateway/availability reads `attributes["x-internal-route"]`, which redaction policy "default" rewrites"#),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            r#"reads `body["upstream"]["token"]`, which redaction policy "default" rewrites"#
        ),
        "`token` is a sensitive key by default: {stderr}"
    );
    assert!(!stderr.contains(r#"`body["status"]`"#), "{stderr}");
}
