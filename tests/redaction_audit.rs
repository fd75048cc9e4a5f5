//! The redaction audit trail and policies: `slotel redact --report` and `--dry-run` on the
//! real binary (values never printed), and per-tenant / per-service policies through the
//! whole pipeline (tokens of two tenants, a service-selected policy, the default), checked
//! on the exported output and on `/metrics`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;
use slotel::attr::{AttrValue, kv};
use slotel::config::{AuthConfig, SystemLookup, TokenConfig};

/// Policies: `acme` hashes e-mails; `globex` allow-lists its support addresses (and, by
/// setting `allow`, drops the default's); `payments` (by service) masks cards.
const POLICIES: &str = r#"
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:4318
processors:
  redaction:
    hash:
      key: policy-test-key-0123456789
    allow:
      values: [status@example.org]
    policies:
      - name: acme
        match: {tenants: [acme]}
        detectors: {email: hash}
      - name: globex
        match: {tenants: [globex]}
        allow:
          values: [Support@Globex.example]
          patterns: ['noreply-[0-9]+@globex\.example']
      - name: payments
        match: {services: [payments]}
        detectors: {credit_card: mask}
      - name: ops
        match: {tenants: [ops]}
        detectors: {phone: drop}
"#;

const KIM: &str = "kim.minsu@example.com";
const CARD: &str = "4111 1111 1111 1111";

/// The same body for every case.
fn body() -> String {
    format!(
        r#"{{"user":{{"email":"{KIM}"}},"note":"write to support@globex.example or noreply-42@globex.example, status@example.org","card":"{CARD}"}}"#
    )
}

// -- the command line ------------------------------------------------------------------------

/// PII in the sample, none of which may ever be printed by --report or --dry-run.
const SAMPLE_PII: [&str; 8] = [
    KIM,
    "lee.jiwoo@example.co.kr",
    "010-9876-5432",
    "4111111111111111",
    "hunter2-super-secret",
    "abcdef0123456789abcdef",
    "900101-1234567",
    "203.0.113.195",
];

fn sample() -> String {
    [
        format!(r#"{{"user":{{"email":"{KIM}","phone":"010-9876-5432"}},"level":"info"}}"#),
        r#"{"headers":{"authorization":"Bearer abcdef0123456789abcdef"},"client":"203.0.113.195"}"#.to_string(),
        r#"{"items":[{"card":4111111111111111},{"card":"none"}],"password":"hunter2-super-secret"}"#.to_string(),
        r#"{"payload":"{\"contact\":{\"email\":\"lee.jiwoo@example.co.kr\"}}"}"#.to_string(),
        "resident 900101-1234567 called from 010-9876-5432".to_string(),
        r#"{"user":{"email":"kim.minsu@example.com"},"ok":true}"#.to_string(),
        "nothing to see here".to_string(),
    ]
    .join("\n")
        + "\n"
}

struct Run {
    stdout: String,
    stderr: String,
}

fn slotel_redact(dir: &Path, config: Option<&str>, args: &[&str], input: &str) -> Run {
    let file = dir.join("in.jsonl");
    std::fs::write(&file, input).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_slotel"));
    cmd.arg("redact");
    if let Some(cfg) = config {
        let path = dir.join("slotel.yaml");
        std::fs::write(&path, cfg).unwrap();
        cmd.arg("--config").arg(path);
    }
    let out = cmd.args(args).arg(&file).output().unwrap();
    let run = Run {
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    assert!(out.status.success(), "{args:?}: {}", run.stderr);
    run
}

fn assert_no_pii(run: &Run, pii: &[&str]) {
    for value in pii {
        assert!(
            !run.stdout.contains(value),
            "{value} on stdout:\n{}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(value),
            "{value} on stderr:\n{}",
            run.stderr
        );
    }
}

#[test]
fn report_counts_per_type_and_key_path_and_never_prints_values() {
    let dir = tempfile::tempdir().unwrap();
    let run = slotel_redact(dir.path(), None, &["--report=json"], &sample());
    assert_no_pii(&run, &SAMPLE_PII);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["policy"], "default");
    assert_eq!(v["lines"], 7);
    assert_eq!(v["changed"], 6);
    // type → path → count
    let mut got: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for t in v["types"].as_array().unwrap() {
        let paths = got
            .entry(t["type"].as_str().unwrap().to_string())
            .or_default();
        let mut sum = 0;
        for p in t["paths"].as_array().unwrap() {
            let n = p["count"].as_u64().unwrap();
            sum += n;
            paths.insert(p["path"].as_str().unwrap().to_string(), n);
        }
        assert_eq!(t["count"].as_u64().unwrap(), sum, "{t}");
        assert_eq!(t["action"], "replace");
    }
    let expect = |ty: &str, path: &str, n: u64| {
        assert_eq!(
            got.get(ty).and_then(|p| p.get(path)),
            Some(&n),
            "{ty} at {path}: {got:?}"
        );
    };
    expect("email", "user.email", 2);
    expect("email", "payload.contact.email", 1);
    expect("phone", "user.phone", 1);
    expect("phone", "$body", 1);
    expect("kr_rrn", "$body", 1);
    expect("secret", "headers.authorization", 1);
    expect("secret", "password", 1);
    expect("credit_card", "items[].card", 1);
    expect("ipv4", "client", 1);

    // The table form: the same rows, and the lines themselves are not written.
    let run = slotel_redact(dir.path(), None, &["--report"], &sample());
    assert_no_pii(&run, &SAMPLE_PII);
    assert!(
        run.stdout
            .starts_with("policy default: 7 lines, 6 changed\n"),
        "{}",
        run.stdout
    );
    let row = |ty: &str, n: u64| {
        run.stdout.lines().any(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.len() == 4 && cols[0] == ty && cols[2] == n.to_string() && cols[3] == "(all)"
        })
    };
    assert!(row("email", 3), "{}", run.stdout);
    assert!(row("phone", 2), "{}", run.stdout);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("2  user.email")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("nothing to see"), "{}", run.stdout);
}

#[test]
fn dry_run_marks_each_detection_keeps_json_valid_and_drops_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:4318\nprocessors:\n  redaction:\n    detectors: {phone: drop}\n";
    let input = sample();
    let run = slotel_redact(dir.path(), Some(cfg), &["--dry-run"], &input);
    assert_no_pii(&run, &SAMPLE_PII);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), input.lines().count());
    for (line_in, line_out) in input.lines().zip(&lines) {
        if line_in.starts_with('{') {
            let a: serde_json::Value = serde_json::from_str(line_in).unwrap();
            let b: serde_json::Value = serde_json::from_str(line_out)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {line_out}"));
            // Same members: a dry run removes nothing, `drop` included.
            let keys =
                |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(&a), keys(&b), "{line_out}");
        }
    }
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(
        first["user"]["email"], "[email:replace:***.m****@e******.***]",
        "{}",
        lines[0]
    );
    assert_eq!(first["user"]["phone"], "[phone:drop:***-9***-5***]");
    assert!(lines[1].contains("[secret:replace:"), "{}", lines[1]);
    assert!(
        lines[4].starts_with("resident [kr_rrn:replace:"),
        "{}",
        lines[4]
    );
    assert_eq!(lines[6], "nothing to see here");
    let nested: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
    let inner: serde_json::Value =
        serde_json::from_str(nested["payload"].as_str().unwrap()).unwrap();
    assert!(
        inner["contact"]["email"]
            .as_str()
            .unwrap()
            .starts_with("[email:replace:"),
        "{inner}"
    );
    // The summary on stderr counts what would be redacted.
    assert!(run.stderr.contains("7 lines, 6 changed"), "{}", run.stderr);
}

#[test]
fn the_command_line_picks_a_tenants_or_services_policy() {
    let dir = tempfile::tempdir().unwrap();
    let line = body() + "\n";
    let run = slotel_redact(dir.path(), Some(POLICIES), &["--tenant", "acme"], &line);
    assert!(run.stderr.contains("policy acme"), "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert!(
        v["user"]["email"].as_str().unwrap().starts_with("email:"),
        "{v}"
    );
    let run = slotel_redact(
        dir.path(),
        Some(POLICIES),
        &["--tenant", "globex", "--report=json"],
        &line,
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["policy"], "globex");
    let email = v["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "email")
        .unwrap();
    // kim and status@ (the default's allow-list is replaced by globex's).
    assert_eq!(email["count"], 2, "{v}");
    let run = slotel_redact(
        dir.path(),
        Some(POLICIES),
        &["--service", "payments"],
        &line,
    );
    assert!(run.stdout.contains("**** **** **** 1111"), "{}", run.stdout);
}

// -- through the pipeline --------------------------------------------------------------------

/// A resource of `service` with one record: the PII body, a `case` attribute and a phone
/// number.
fn resource_logs(service: &str, case: &str) -> (Vec<KeyValue>, Vec<LogRecord>) {
    let record = LogRecord {
        time_unix_nano: 1_718_000_000_000_000_000,
        body: Some(body().into_any_value()),
        attributes: vec![kv("case", case), kv("contact", "010-2345-6789")],
        ..Default::default()
    };
    (vec![kv("service.name", service)], vec![record])
}

async fn send(s: &Server, token: &str, resources: Vec<(Vec<KeyValue>, Vec<LogRecord>)>) {
    let req = otlp::logs_of(resources);
    let auth = format!("Bearer {token}");
    let r = http_send(
        "POST",
        &format!("http://{}/v1/logs", s.http),
        &[
            ("content-type", "application/x-protobuf"),
            ("authorization", &auth),
        ],
        req.encode_to_vec(),
    )
    .await;
    assert_eq!(r.status, 200, "{token}");
}

/// Each exported record by its `case` attribute: (body, attributes).
fn exported(text: &str) -> BTreeMap<String, (String, Vec<serde_json::Value>)> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.contains("resourceLogs")) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for rl in v["resourceLogs"].as_array().unwrap() {
            for sl in rl["scopeLogs"].as_array().unwrap() {
                for rec in sl["logRecords"].as_array().unwrap() {
                    let attrs = rec["attributes"].as_array().unwrap().clone();
                    let case =
                        attrs.iter().find(|a| a["key"] == "case").unwrap()["value"]["stringValue"]
                            .as_str()
                            .unwrap()
                            .to_string();
                    let body = rec["body"]["stringValue"].as_str().unwrap().to_string();
                    out.insert(case, (body, attrs));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn policies_by_tenant_and_service_through_the_pipeline() {
    let redaction = slotel::config::parse(POLICIES, "policies.yaml", &SystemLookup)
        .unwrap()
        .redaction
        .unwrap();
    let s = start_cfg(
        |mut c| {
            c.redaction = Some(redaction);
            let token = |token: &str, tenant: &str| TokenConfig {
                token: token.into(),
                tenant: tenant.into(),
                cluster: None,
            };
            c.receiver.auth = Some(AuthConfig {
                tokens: vec![
                    token("token-acme", "acme"),
                    token("token-globex", "globex"),
                    token("token-initech", "initech"),
                    token("token-ops", "ops"),
                ],
            });
            c
        },
        Vec::new(),
    )
    .await;
    send(&s, "token-acme", vec![resource_logs("web", "acme")]).await;
    send(&s, "token-globex", vec![resource_logs("web", "globex")]).await;
    // One batch, two services: each resource gets its own policy.
    send(
        &s,
        "token-initech",
        vec![
            resource_logs("payments", "initech-payments"),
            resource_logs("web", "initech-web"),
        ],
    )
    .await;
    send(&s, "token-ops", vec![resource_logs("web", "ops")]).await;
    eventually("everything exported", || s.written().logs == 5).await;

    let m = |labels: &[&str]| s.metric("slotel_redactions_total", labels);
    let email = "type=\"email\"";
    // acme: three addresses hashed (status@ is on the inherited allow-list).
    assert_eq!(
        m(&[
            email,
            "tenant=\"acme\"",
            "policy=\"acme\"",
            "action=\"hash\""
        ]),
        3.0
    );
    assert_eq!(m(&["tenant=\"acme\"", "policy=\"default\""]), 0.0);
    // globex: its support addresses allowed; the default's allow-list replaced by its own.
    assert_eq!(m(&[email, "tenant=\"globex\"", "policy=\"globex\""]), 2.0);
    // initech: the payments resource by its service's policy, the web one by the default.
    assert_eq!(
        m(&[
            "type=\"credit_card\"",
            "tenant=\"initech\"",
            "policy=\"payments\"",
            "action=\"mask\""
        ]),
        1.0
    );
    assert_eq!(
        m(&[email, "tenant=\"initech\"", "policy=\"payments\""]),
        3.0
    );
    assert_eq!(
        m(&[
            "type=\"credit_card\"",
            "tenant=\"initech\"",
            "policy=\"default\"",
            "action=\"replace\""
        ]),
        1.0
    );
    assert_eq!(m(&[email, "tenant=\"initech\"", "policy=\"default\""]), 3.0);
    assert_eq!(
        m(&["type=\"phone\"", "tenant=\"ops\"", "action=\"drop\""]),
        1.0
    );
    // One `contact` attribute per record: initech sent two.
    for (tenant, n) in [
        ("acme", 1.0),
        ("globex", 1.0),
        ("initech", 2.0),
        ("ops", 1.0),
    ] {
        assert_eq!(
            m(&[
                "type=\"phone\"",
                &format!("tenant=\"{tenant}\""),
                "signal=\"logs\""
            ]),
            n,
            "{tenant}"
        );
    }

    let out_path = s.out.clone().unwrap();
    s.running.shutdown().await.unwrap();
    let text = std::fs::read_to_string(out_path).unwrap();
    for value in [KIM, CARD, "010-2345-6789"] {
        assert!(!text.contains(value), "{value} reached the exporter");
    }
    let records = exported(&text);
    assert_eq!(records.len(), 5, "{records:?}");
    let body =
        |case: &str| -> serde_json::Value { serde_json::from_str(&records[case].0).unwrap() };

    let acme = body("acme");
    let hashed = acme["user"]["email"].as_str().unwrap();
    assert!(
        hashed.starts_with("email:") && hashed.len() == "email:".len() + 16,
        "{acme}"
    );
    let note = acme["note"].as_str().unwrap();
    assert!(
        !note.contains("globex.example") && note.contains("status@example.org"),
        "{note}"
    );

    let globex = body("globex");
    assert_eq!(globex["user"]["email"], "[REDACTED:email]");
    assert_eq!(
        globex["note"],
        "write to support@globex.example or noreply-42@globex.example, [REDACTED:email]"
    );

    let pay = body("initech-payments");
    assert_eq!(pay["card"], "**** **** **** 1111");
    assert_eq!(pay["user"]["email"], "[REDACTED:email]");
    let web = body("initech-web");
    assert_eq!(web["card"], "[REDACTED:credit_card]");
    assert_eq!(
        web["note"],
        "write to [REDACTED:email] or [REDACTED:email], status@example.org"
    );
    // ops drops phone attributes.
    let ops = &records["ops"].1;
    assert!(ops.iter().all(|a| a["key"] != "contact"), "{ops:?}");
    assert!(records["acme"].1.iter().any(|a| a["key"] == "contact"));
}

/// Over the labelled corpus: a dry run shows no PII value the redaction itself removes,
/// finds exactly what it would redact (the same counts per type), and keeps every JSON
/// body valid JSON.
#[test]
fn dry_run_reveals_nothing_the_redaction_removes_on_the_corpus() {
    use slotel::config::{HashConfig, RedactionConfig};
    use slotel::redact::RedactAction;
    use slotel::redact::Redactor;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/redact/corpus.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let mut cfg = RedactionConfig {
        hash: Some(HashConfig {
            key: "dry-run-test-key-0123456789".into(),
            length: 16,
        }),
        ..RedactionConfig::default()
    };
    // Every action, drop included: a dry run marks what a drop would remove.
    for (i, d) in cfg.detectors.iter_mut().enumerate() {
        d.1 = Some(RedactAction::ALL[i % RedactAction::ALL.len()]);
    }
    let r = Redactor::new(&cfg).unwrap();
    let (mut plain, mut dry) = (r.session(), r.session().audited(true));
    let mut values = 0;
    for line in text.lines() {
        let rec: serde_json::Value = serde_json::from_str(line).unwrap();
        let body = rec["body"].as_str().unwrap();
        let redacted = plain.redact_str(body).unwrap_or_else(|| body.to_string());
        let marked = dry.redact_str(body).unwrap_or_else(|| body.to_string());
        for pii in rec["pii"].as_array().unwrap() {
            let value = pii[1].as_str().unwrap();
            values += 1;
            if !redacted.contains(value) {
                assert!(
                    !marked.contains(value),
                    "{value} shown by the dry run: {marked}"
                );
            }
        }
        if rec["kind"] == "json" {
            serde_json::from_str::<serde_json::Value>(&marked)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {marked}"));
        }
    }
    assert!(values > 1000, "{values}");
    let counts = |s: &slotel::redact::Session<'_>| {
        let mut v: Vec<(String, u64)> = s.counts().map(|(t, _, n)| (t.to_string(), n)).collect();
        v.sort();
        v
    };
    assert_eq!(counts(&plain), counts(&dry));
    let total: u64 = dry.report().iter().map(|t| t.count).sum();
    assert_eq!(total, dry.total());
}
