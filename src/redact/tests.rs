use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, KeyValueList, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::*;
use crate::config::{self, SystemLookup};

/// A redactor from a `processors.redaction` YAML block (indented under `redaction:`).
fn redactor(block: &str) -> Redactor {
    let text = format!(
        "receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nprocessors:\n  redaction:\n{block}"
    );
    let cfg = config::parse(&text, "t.yaml", &SystemLookup).unwrap_or_else(|e| panic!("{e}"));
    Redactor::new(&cfg.redaction.unwrap()).unwrap()
}

fn default() -> Redactor {
    Redactor::new(&RedactionConfig::default()).unwrap()
}

fn run(r: &Redactor, s: &str) -> String {
    r.session().redact_str(s).unwrap_or_else(|| s.to_string())
}

#[test]
fn table_cases() {
    let r = default();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/redact/cases.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for (line, case) in text.lines().enumerate() {
        let case: serde_json::Value = serde_json::from_str(case).unwrap();
        let Some(input) = case["in"].as_str() else {
            continue;
        };
        n += 1;
        let want = case["out"].as_str().unwrap_or(input);
        let mut session = r.session();
        let got = session.redact_str(input);
        if got.as_deref().unwrap_or(input) != want {
            failures.push(format!(
                "line {}: {input:?}\n   want {want:?}\n    got {got:?}",
                line + 1
            ));
        }
        if case["out"].is_null() && got.is_some() {
            failures.push(format!(
                "line {}: expected no change (no allocation)",
                line + 1
            ));
        }
    }
    assert!(n >= 50, "only {n} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn actions() {
    let r = redactor(
        "    hash: {key: 0123456789abcdef0123, length: 12}\n    detectors: {email: hash, phone: mask, ipv4: drop, kr_rrn: off}\n",
    );
    let out = run(
        &r,
        r#"{"a":"kim@example.com","b":"010-1234-5678","ip":"10.0.0.1","c":"900101-1234567","d":1}"#,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let email = v["a"].as_str().unwrap();
    assert!(
        email.starts_with("email:") && email.len() == 6 + 12,
        "{email}"
    );
    assert_eq!(
        run(&r, r#"{"x":"KIM@example.com"}"#),
        format!(r#"{{"x":"{email}"}}"#)
    );
    assert_eq!(v["b"], "***-****-5678");
    assert!(v.get("ip").is_none(), "dropped: {out}");
    assert_eq!(v["c"], "900101-1234567");
    assert_eq!(v["d"], 1);
    // In free text a drop removes the match only.
    assert_eq!(run(&r, "from 10.0.0.1 ok"), "from  ok");
}

#[test]
fn drops_keep_valid_json() {
    let r = redactor("    action: drop\n");
    for (input, want) in [
        (r#"{"a":"kim@example.com"}"#, "{}"),
        (r#"{"a":"kim@example.com","b":1}"#, r#"{"b":1}"#),
        (r#"{"b":1,"a":"kim@example.com"}"#, r#"{"b":1}"#),
        (
            r#"{"b":1, "a":"kim@example.com", "c":2}"#,
            r#"{"b":1, "c":2}"#,
        ),
        (
            r#"{"a":"x@example.com", "b":"y@example.com", "c":3}"#,
            r#"{"c":3}"#,
        ),
        (r#"["x@example.com", 1, "y@example.com"]"#, "[1]"),
        (
            r#"{"l":[{"password":"p"},{"k":"v"}]}"#,
            r#"{"l":[{},{"k":"v"}]}"#,
        ),
    ] {
        let got = run(&r, input);
        assert_eq!(got, want, "{input}");
        serde_json::from_str::<serde_json::Value>(&got).unwrap();
    }
}

#[test]
fn json_survives_byte_for_byte_outside_redactions() {
    let r = default();
    let input = "{\n  \"z\": 1e3,\n  \"a\": [ 10.50 , -0, 12345678901234567890 ],\n  \"u\": \"caf\\u00e9\",\n  \"e\": \"kim@example.com\"\n}";
    let want = input.replace("kim@example.com", "[REDACTED:email]");
    assert_eq!(run(&r, input), want);
    // Clean bodies come back as they are: no change, no allocation.
    assert_eq!(r.session().redact_str(r#"{"a": "clean", "n": 1.0}"#), None);
}

#[test]
fn nested_json_is_bounded() {
    let inner = r#"{"e":"kim@example.com"}"#;
    let once = serde_json::to_string(inner).unwrap();
    let twice = serde_json::to_string(&format!(r#"{{"m":{once}}}"#)).unwrap();
    let body = format!(r#"{{"m":{twice}}}"#);
    let out = run(&default(), &body);
    assert!(!out.contains("kim@example.com"), "{out}");
    assert!(out.contains("[REDACTED:email]"), "{out}");
    // With no nesting walked the string is still scanned as text: fail closed.
    let r = redactor("    json: {max_nested: 0}\n");
    let out = run(&r, &body);
    assert!(!out.contains("kim@example.com"), "{out}");
}

#[test]
fn too_deep_falls_back_to_text_and_is_counted() {
    let r = redactor("    json: {max_depth: 4}\n");
    let body = format!(
        "{}\"password\": \"hunter2\", \"e\": \"kim@example.com\"{}",
        "{\"a\":".repeat(5) + "{",
        "}".repeat(6)
    );
    let mut s = r.session();
    let out = s.redact_str(&body).unwrap();
    assert!(
        !out.contains("hunter2") && !out.contains("kim@example.com"),
        "{out}"
    );
    assert_eq!(
        s.fallbacks().collect::<Vec<_>>(),
        vec![(Fallback::TooDeep, 1)]
    );
}

#[test]
fn custom_detectors_and_key_rules() {
    let r = redactor(concat!(
        "    custom:\n",
        "      - {name: employee_id, regex: 'EMP-[0-9]{6}'}\n",
        "      - {name: member_card, regex: '\\b[0-9]{16}\\b', validator: luhn, action: mask}\n",
        "    keys:\n",
        "      sensitive: ['(?i)^x-internal']\n",
        "      ignore: [request_path]\n",
        "    mask: {keep: 2}\n",
    ));
    assert_eq!(run(&r, "by EMP-123456"), "by [REDACTED:employee_id]");
    assert_eq!(run(&r, "m 1234567812345670"), "m **************70");
    assert_eq!(
        run(
            &r,
            r#"{"X-Internal-Id":"abc","request_path":"/u/kim@example.com"}"#
        ),
        r#"{"X-Internal-Id":"[REDACTED:secret]","request_path":"/u/kim@example.com"}"#
    );
}

#[test]
fn detectors_can_be_turned_off() {
    let r = redactor("    detectors: {email: off, secret: off}\n");
    assert_eq!(
        run(&r, r#"{"password":"p","e":"kim@example.com"}"#),
        r#"{"password":"p","e":"kim@example.com"}"#
    );
    assert_eq!(run(&r, "call 010-1234-5678"), "call [REDACTED:phone]");
}

#[test]
fn never_panics_on_odd_input() {
    let r = default();
    for s in [
        "",
        "{",
        "[",
        "{\"a\"",
        "{\"a\":}",
        "\"",
        "\\",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\ud800\"}",
        "[1,]",
        "{} {}",
        "[\"\u{0}\"]",
        "01",
        "-",
        "1e",
        "\u{FEFF}{}",
        "🦀@🦀.com",
        "+82",
        "AKIA",
        "-----BEGIN PRIVATE KEY-----",
    ] {
        let _ = r.session().redact_str(s);
    }
    // Lone surrogate with something to redact: still valid JSON out.
    let out = run(&r, r#"["\ud800 kim@example.com"]"#);
    assert!(out.contains("[REDACTED:email]"), "{out}");
}

fn string(s: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(s.to_string())),
    })
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.to_string(),
        value: string(v),
        ..Default::default()
    }
}

fn str_of(v: &Option<AnyValue>) -> &str {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s,
        _ => "",
    }
}

#[test]
fn logs_and_traces_in_place() {
    let r =
        redactor("    summary: true\n    hash: {key: 0123456789abcdef0123}\n    pseudonymize:\n");
    let resource = Some(Resource {
        attributes: vec![
            kv("service.name", "checkout"),
            kv("k8s.pod.name", "checkout-7d9f8b6c5-x2kqz"),
            kv("k8s.cluster.name", "seoul-prod"),
            kv("owner", "kim@example.com"),
        ],
        ..Default::default()
    });
    let mut logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource.clone(),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    body: Some(AnyValue {
                        value: Some(any_value::Value::KvlistValue(KeyValueList {
                            values: vec![kv("user", "kim@example.com"), kv("token", "t0k3n")],
                        })),
                    }),
                    attributes: vec![
                        kv("trace_id", "kim@example.com"),
                        kv("phone", "010-1234-5678"),
                    ],
                    trace_id: vec![1; 16],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let mut s = r.session();
    s.logs(&mut logs);
    let rl = &logs.resource_logs[0];
    let res = &rl.resource.as_ref().unwrap().attributes;
    assert_eq!(str_of(&res[0].value), "checkout");
    assert!(str_of(&res[1].value).starts_with("k8s:"), "{:?}", res[1]);
    assert_eq!(str_of(&res[2].value), "seoul-prod");
    assert_eq!(str_of(&res[3].value), "[REDACTED:email]");
    let rec = &rl.scope_logs[0].log_records[0];
    assert_eq!(rec.trace_id, vec![1; 16]);
    let Some(any_value::Value::KvlistValue(body)) = rec.body.as_ref().unwrap().value.as_ref()
    else {
        panic!("body kind changed")
    };
    assert_eq!(str_of(&body.values[0].value), "[REDACTED:email]");
    assert_eq!(str_of(&body.values[1].value), "[REDACTED:secret]");
    assert_eq!(str_of(&rec.attributes[0].value), "kim@example.com");
    assert_eq!(str_of(&rec.attributes[1].value), "[REDACTED:phone]");
    let summary = rec.attributes.last().unwrap();
    assert_eq!(summary.key, otlp::SUMMARY_ATTRIBUTE);
    let mut counts: Vec<(String, RedactAction, u64)> =
        s.counts().map(|(t, a, n)| (t.to_string(), a, n)).collect();
    counts.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        counts,
        vec![
            ("email".to_string(), RedactAction::Replace, 2),
            ("k8s".to_string(), RedactAction::Hash, 1),
            ("phone".to_string(), RedactAction::Replace, 1),
            ("secret".to_string(), RedactAction::Replace, 1),
        ]
    );

    let mut traces = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource,
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    name: "GET /users/kim@example.com/orders".to_string(),
                    attributes: vec![kv("http.request.header.authorization", "Bearer abc.def")],
                    status: Some(Status {
                        message: "no route to 10.1.2.3".to_string(),
                        ..Default::default()
                    }),
                    span_id: vec![2; 8],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    r.session().traces(&mut traces);
    let span = &traces.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(span.name, "GET /users/[REDACTED:email]/orders");
    assert_eq!(str_of(&span.attributes[0].value), "[REDACTED:secret]");
    assert_eq!(
        span.status.as_ref().unwrap().message,
        "no route to [REDACTED:ipv4]"
    );
    assert_eq!(span.span_id, vec![2; 8]);
}

/// The pipeline stage forgets the received bytes of a batch it changed, so OTLP exporters
/// never forward the unredacted original; a batch it left alone keeps them.
#[test]
fn the_processor_drops_the_received_bytes_only_when_it_redacted() {
    use prost::Message;

    use crate::pipeline::{Batch, Payload, Processor, RequestContext};

    let logs = |body: &str| ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(body.into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let processor = RedactionProcessor::new(
        std::sync::Arc::new(default()),
        crate::telemetry::Metrics::new(),
    );
    for (body, changed) in [
        ("order 42 shipped in 3 days", false),
        ("mail kim.minsu@example.co.kr about it", true),
    ] {
        let req = logs(body);
        let raw = bytes::Bytes::from(req.encode_to_vec());
        let mut batch = Batch {
            ctx: RequestContext::default(),
            payload: Payload::Logs(req),
            items: 1,
            bytes: raw.len(),
            ack: None,
            raw: Some(crate::pipeline::Raw::plain(raw.clone())),
        };
        processor.process(&mut batch);
        assert_eq!(batch.raw.is_none(), changed, "{body}");
        if !changed {
            assert_eq!(batch.raw.map(|r| r.body), Some(raw));
        }
    }
}

#[test]
fn json_keys_are_scanned() {
    let r = default();
    for (input, want) in [
        (
            r#"{"kim@example.com":{"visits":3},"010-1234-5678":1,"plain":"x"}"#,
            r#"{"[REDACTED:email]":{"visits":3},"[REDACTED:phone]":1,"plain":"x"}"#,
        ),
        // Escaped keys are decoded first, and written back escaped.
        (r#"{"kim\u0040example.com":1}"#, r#"{"[REDACTED:email]":1}"#),
        // Keys inside a sensitive member are scanned too; inside an ignored one, never.
        (
            r#"{"password":{"kim@example.com":"x"}}"#,
            r#"{"password":{"[REDACTED:email]":"[REDACTED:secret]"}}"#,
        ),
        (
            r#"{"trace_id":{"kim@example.com":"x"}}"#,
            r#"{"trace_id":{"kim@example.com":"x"}}"#,
        ),
        // Nested JSON in a string value: its keys as well.
        (
            r#"{"m":"{\"lee@example.com\":2}"}"#,
            r#"{"m":"{\"[REDACTED:email]\":2}"}"#,
        ),
    ] {
        assert_eq!(run(&r, input), want, "{input}");
    }
    // Long lowercase keys are scanned too (a GitHub token can be all lowercase).
    let token = format!("github_pat_{}", "a".repeat(22));
    assert_eq!(
        run(&r, &format!(r#"{{"{token}":1}}"#)),
        r#"{"[REDACTED:github_token]":1}"#
    );
    let mut s = r.session();
    s.redact_str(r#"{"kim@example.com":"lee@example.com"}"#);
    assert_eq!(s.total(), 2);
    // `drop` on a key removes the member, whatever its value.
    let r = redactor("    detectors: {email: drop}\n");
    assert_eq!(
        run(&r, r#"{"a":1,"kim@example.com":{"x":[1,2]},"b":2}"#),
        r#"{"a":1,"b":2}"#
    );
}

#[test]
fn bytes_values_and_map_keys() {
    let bytes = |b: &[u8]| {
        Some(AnyValue {
            value: Some(any_value::Value::BytesValue(b.to_vec())),
        })
    };
    let bytes_of = |v: &Option<AnyValue>| match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::BytesValue(b)) => b.clone(),
        other => panic!("not bytes: {other:?}"),
    };
    let attr = |k: &str, value| KeyValue {
        key: k.to_string(),
        value,
        ..Default::default()
    };
    let not_utf8 = [0xff, 0xfe, b'k', b'@', b'e', b'.', b'c', b'o', b'm'];
    let mut logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    body: bytes(b"mail kim@example.com"),
                    attributes: vec![
                        attr("raw", bytes(&not_utf8)),
                        attr("doc", bytes(br#"{"e":"lee@example.com","n":1}"#)),
                        attr(
                            "by_user",
                            Some(AnyValue {
                                value: Some(any_value::Value::KvlistValue(KeyValueList {
                                    values: vec![kv("kim@example.com", "3"), kv("plain", "4")],
                                })),
                            }),
                        ),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    default().session().logs(&mut logs);
    let rec = &logs.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(bytes_of(&rec.body), b"mail [REDACTED:email]");
    assert_eq!(bytes_of(&rec.attributes[0].value), not_utf8);
    assert_eq!(
        bytes_of(&rec.attributes[1].value),
        br#"{"e":"[REDACTED:email]","n":1}"#
    );
    let Some(any_value::Value::KvlistValue(map)) =
        rec.attributes[2].value.as_ref().unwrap().value.as_ref()
    else {
        panic!("map kind changed")
    };
    assert_eq!(map.values[0].key, "[REDACTED:email]");
    assert_eq!(str_of(&map.values[0].value), "3");
    assert_eq!(map.values[1].key, "plain");
}
