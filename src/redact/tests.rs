use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, KeyValueList, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::{Span, Status};

use super::*;
use crate::attr::{AttrValue, kv};
use crate::config::{self, SystemLookup};
use crate::test_otlp;

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
fn configured_key_rules_apply_to_column_and_element_names() {
    let r = redactor(concat!(
        "    keys:\n",
        "      sensitive: ['(?i)^nick']\n",
        "      ignore: [contact_email, passwd]\n",
    ));
    // RFC 4180 rows: an ignored column is kept whole (the e-mail in it, the password
    // under a built-in sensitive name), a configured sensitive one is redacted.
    let csv = "id,nickname,contact_email,passwd,email\r\n\
               1,sunny,kim@example.com,Tiger1998.,lee@example.org\r\n";
    let out = run(&r, csv);
    assert!(
        !out.contains("sunny") && !out.contains("lee@example.org"),
        "{out}"
    );
    assert!(out.contains(",kim@example.com,Tiger1998.,"), "{out}");
    // The same names as an SQL column list and as XML elements.
    let sql = "INSERT INTO users (id, nickname, passwd) VALUES (1, 'sunny', 'Tiger1998.')";
    let out = run(&r, sql);
    assert!(
        !out.contains("'sunny'") && out.contains("'Tiger1998.'"),
        "{out}"
    );
    let xml = "<user><nickname>sunny</nickname><passwd>Tiger1998.</passwd></user>";
    let out = run(&r, xml);
    assert!(
        !out.contains(">sunny<") && out.contains(">Tiger1998.<"),
        "{out}"
    );
    // With the default rules the password goes and the nickname stays.
    let out = run(&default(), csv);
    assert!(
        out.contains("sunny") && !out.contains("Tiger1998."),
        "{out}"
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
        // Found by the fuzzer: a password value with an escape before it and a
        // multi-byte character inside it.
        "s%3alogin failed password=hu\u{0}Jnter2\u{FFFD} from 10.0.0.1",
    ] {
        let _ = r.session().redact_str(s);
    }
    // Lone surrogate with something to redact: still valid JSON out.
    let out = run(&r, r#"["\ud800 kim@example.com"]"#);
    assert!(out.contains("[REDACTED:email]"), "{out}");
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
    let resource = vec![
        kv("service.name", "checkout"),
        kv("k8s.pod.name", "checkout-7d9f8b6c5-x2kqz"),
        kv("k8s.cluster.name", "seoul-prod"),
        kv("owner", "kim@example.com"),
    ];
    let mut logs = test_otlp::logs_request(
        resource.clone(),
        vec![LogRecord {
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
    );
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

    let mut traces = test_otlp::traces_request(
        resource,
        vec![Span {
            name: "GET /users/kim@example.com/orders".to_string(),
            attributes: vec![kv("http.request.header.authorization", "Bearer abc.def")],
            status: Some(Status {
                message: "no route to 10.1.2.3".to_string(),
                ..Default::default()
            }),
            span_id: vec![2; 8],
            ..Default::default()
        }],
    );
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

    let logs = |body: &str| {
        test_otlp::logs_request(
            vec![],
            vec![LogRecord {
                body: Some(body.into_any_value()),
                ..Default::default()
            }],
        )
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
        let mut batch = Batch::new(RequestContext::default(), Payload::Logs(req), 1, raw.len())
            .with_raw(Some(crate::pipeline::Raw::plain(raw.clone())));
        processor.process(&mut batch);
        assert_eq!(batch.raw().is_none(), changed, "{body}");
        if !changed {
            assert_eq!(batch.raw().map(|r| r.body.clone()), Some(raw));
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
    let mut logs = test_otlp::logs_request(
        vec![],
        vec![LogRecord {
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
    );
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

/// `(input, expected output)` under the default config.
fn table(cases: &[(&str, &str)]) {
    let r = default();
    let mut failures = Vec::new();
    for (input, want) in cases {
        let got = run(&r, input);
        if got != *want {
            failures.push(format!("{input:?}\n   want {want:?}\n    got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Inputs that must come out unchanged under the default config.
fn kept(inputs: &[&str]) {
    let cases: Vec<(&str, &str)> = inputs.iter().map(|s| (*s, *s)).collect();
    table(&cases);
}

#[test]
fn korean_and_us_numbers() {
    table(&[
        // Every +82 / 0082 spelling of a mobile number; 050x safe numbers.
        ("tel +82 10 1234 5678", "tel [REDACTED:phone]"),
        ("tel +82.10.1234.5678", "tel [REDACTED:phone]"),
        ("tel +82 (0)10-1234-5678", "tel [REDACTED:phone]"),
        ("tel (+82) 10-1234-5678", "tel [REDACTED:phone]"),
        ("tel 0082-10-1234-5678", "tel [REDACTED:phone]"),
        ("tel +82-010-1234-5678", "tel [REDACTED:phone]"),
        (
            "안심번호 0505-123-4567 배정",
            "안심번호 [REDACTED:phone] 배정",
        ),
        (
            "안심번호 0504-1234-5678로 연결",
            "안심번호 [REDACTED:phone]로 연결",
        ),
        ("010-1234-5678로 연락", "[REDACTED:phone]로 연락"),
        // US numbers in their common spellings; plain ten digits after a phone word.
        ("call (415) 555-0134 now", "call [REDACTED:us_phone] now"),
        ("call 415.555.0134", "call [REDACTED:us_phone]"),
        ("call 1-415-555-0134", "call [REDACTED:us_phone]"),
        (
            "us office +1 415 555 0134",
            "us office [REDACTED:phone_intl]",
        ),
        ("phone: 4155550134", "phone: [REDACTED:us_phone]"),
        (
            r#"{"phone":"4155550134"}"#,
            r#"{"phone":"[REDACTED:us_phone]"}"#,
        ),
        (
            r#"{"mobile":4155550134}"#,
            r#"{"mobile":"[REDACTED:us_phone]"}"#,
        ),
        // Registration numbers written plain, with context.
        ("SSN 123456789 on file", "SSN [REDACTED:us_ssn] on file"),
        ("사업자번호: 2208162517", "사업자번호: [REDACTED:kr_brn]"),
        (
            r#"{"biz_no":"2208162517"}"#,
            r#"{"biz_no":"[REDACTED:kr_brn]"}"#,
        ),
        (
            "외국인등록번호 9001015234561",
            "외국인등록번호 [REDACTED:kr_frn]",
        ),
        // Driver licences.
        (
            "면허 11-22-123456-78 확인",
            "면허 [REDACTED:kr_driver_license] 확인",
        ),
        (
            "license no 112212345678",
            "license no [REDACTED:kr_driver_license]",
        ),
        (
            r#"{"driver_license":"112212345678"}"#,
            r#"{"driver_license":"[REDACTED:kr_driver_license]"}"#,
        ),
        // Bank accounts need an account key, `계좌` or a bank's name.
        (
            "입금 계좌 110-123-456789 신한",
            "입금 계좌 [REDACTED:kr_bank_account] 신한",
        ),
        (
            "카카오뱅크 3333-12-1234567",
            "카카오뱅크 [REDACTED:kr_bank_account]",
        ),
        (
            "농협 123456-12-123456으로",
            "농협 [REDACTED:kr_bank_account]으로",
        ),
        (
            r#"{"bank_account":"1002-123-456789"}"#,
            r#"{"bank_account":"[REDACTED:kr_bank_account]"}"#,
        ),
        (
            r#"{"refund":{"계좌번호":"110123456789"}}"#,
            r#"{"refund":{"계좌번호":"[REDACTED:kr_bank_account]"}}"#,
        ),
        (
            r#"{"acct_no":110123456789}"#,
            r#"{"acct_no":"[REDACTED:kr_bank_account]"}"#,
        ),
    ]);
    kept(&[
        "고객센터 1588-1234 (평일 9시)",
        "문의 1577-1000, 1600-1234, 1644-0000, 1899-0000",
        "order 4155550134 shipped",
        "ref 110-123-456789",
        "took 123456789 ns",
        r#"{"order_id":"110123456789","amount":4155550134}"#,
    ]);
}

#[test]
fn dates_of_birth_only_in_context() {
    table(&[
        (
            r#"{"dob":"1990-03-05"}"#,
            r#"{"dob":"[REDACTED:date_of_birth]"}"#,
        ),
        (
            r#"{"birth_date":"03/05/1990"}"#,
            r#"{"birth_date":"[REDACTED:date_of_birth]"}"#,
        ),
        (
            r#"{"user":{"birthday":"1990.03.05"}}"#,
            r#"{"user":{"birthday":"[REDACTED:date_of_birth]"}}"#,
        ),
        (
            r#"{"생년월일":"1990년 3월 5일"}"#,
            r#"{"생년월일":"[REDACTED:date_of_birth]"}"#,
        ),
        (
            r#"{"dateOfBirth":19900305}"#,
            r#"{"dateOfBirth":"[REDACTED:date_of_birth]"}"#,
        ),
        (
            "signup dob=1990-03-05 ok",
            "signup dob=[REDACTED:date_of_birth] ok",
        ),
        (
            "생년월일은 1990년 3월 5일입니다",
            "생년월일은 [REDACTED:date_of_birth]입니다",
        ),
        (
            "born 25.12.1985 in Seoul",
            "born [REDACTED:date_of_birth] in Seoul",
        ),
    ]);
    kept(&[
        r#"{"created_at":"2024-06-12","event":"1990-03-05 migration","at":"2024년 3월 5일"}"#,
        "2024-06-12T10:20:30.123Z job ran on 03/05/2024",
        "배송일 2024년 3월 5일",
    ]);
}

#[test]
fn spaced_and_parenthesised_spellings() {
    table(&[
        // A resident number with a spaced dash: no context needed, as with `-`.
        ("ref 900101 - 1234567 ok", "ref [REDACTED:kr_rrn] ok"),
        ("rrn=041231 - 3234567", "rrn=[REDACTED:kr_rrn]"),
        // A business number in its three groups spaced, with context.
        (
            "사업자등록번호: 220 81 62517 확인",
            "사업자등록번호: [REDACTED:kr_brn] 확인",
        ),
        (
            r#"{"biz_reg_no":"220 81 62517"}"#,
            r#"{"biz_reg_no":"[REDACTED:kr_brn]"}"#,
        ),
        // An area code closed without opening; a mobile prefix in parentheses.
        ("fax 02)2345-6789 ok", "fax [REDACTED:phone] ok"),
        ("call 031)234-5678", "call [REDACTED:phone]"),
        ("mobile (010) 2345-6789", "mobile [REDACTED:phone]"),
        ("hp (011)234-5678", "hp [REDACTED:phone]"),
        // `M/D/YY` under a birth-date key or after a marking word.
        (
            r#"{"birth_date":"5/19/71"}"#,
            r#"{"birth_date":"[REDACTED:date_of_birth]"}"#,
        ),
        ("dob: 8/5/42 ok", "dob: [REDACTED:date_of_birth] ok"),
        // A 19-digit card as IIN and the rest; Maestro 5893.
        ("card 358900 0000000000017", "card [REDACTED:credit_card]"),
        ("card 5893000000000017", "card [REDACTED:credit_card]"),
    ]);
    kept(&[
        "shipped 5/19/71 units",
        "total 220 81 62517 won",
        "ref 900101 - 123456",
        "see note 02)",
        "v2 (010) build",
        "order 5893000000000018",
    ]);
}

#[test]
fn emails_quoted_and_in_any_script() {
    table(&[
        (
            r#"from "john doe"@example.com ok"#,
            "from [REDACTED:email] ok",
        ),
        (
            r#"{"reply_to":"\"jane roe\"@example.org"}"#,
            r#"{"reply_to":"[REDACTED:email]"}"#,
        ),
        // RFC 6531: the whole local part goes, not only its ASCII tail.
        ("to josé.garcía@example.com", "to [REDACTED:email]"),
        ("to müller@bücher.example.", "to [REDACTED:email]."),
        ("to 用户@例子.广告", "to [REDACTED:email]"),
        ("to испытание@пример.рф!", "to [REDACTED:email]!"),
    ]);
    kept(&[r#"{"name":"a@b"}"#, "said \"hi\" @ noon", "“quoted”@ home"]);
}

#[test]
fn hard_negatives_under_their_keys() {
    kept(&[
        r#"{"app_version":"6.11.4.50","build":"10.0.19045.3803"}"#,
        "app version 6.11.4.50 started",
        r#"{"ua":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"}"#,
        "agent Mozilla/5.0 (Linux; Android 10; K) Chrome/120.0.6099.109 Mobile OPR/106.0.0.0",
        r#"{"tracking":"UA-12345678-1","ga4":"G-ABC123DEF4","gtm":"GTM-5XK2P9Q"}"#,
        r#"{"sku":"8801234567893","barcode":"036000291452","ean":"4006381333931"}"#,
    ]);
    // The same dotted quad elsewhere is an address.
    table(&[(
        r#"{"client":"6.11.4.50"}"#,
        r#"{"client":"[REDACTED:ipv4]"}"#,
    )]);
}

#[test]
fn secrets_keys_and_webhooks() {
    let slack = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
    let discord = "https://discord.com/api/webhooks/123456789012345678/abcDEF-ghi_JKL";
    table(&[
        (
            &format!("posting to {slack} failed"),
            "posting to [REDACTED:webhook_url] failed",
        ),
        (
            &format!(r#"{{"url":"{discord}"}}"#),
            r#"{"url":"[REDACTED:webhook_url]"}"#,
        ),
        (
            "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc ok",
            "stripe [REDACTED:api_key] ok",
        ),
        ("rk_live_51H8xYzAbCdEfGhIjKlMnOpQr", "[REDACTED:api_key]"),
        ("pk_live_TYooMQauvdEDq54NiTphI7jx", "[REDACTED:api_key]"),
        (
            "sg 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 end",
            "sg [REDACTED:api_key] end",
        ),
        (
            "twilio SK0123456789abcdef0123456789abcdef",
            "twilio [REDACTED:api_key]",
        ),
        (
            // Twilio Account SID: `AC` and 32 lowercase hex digits.
            "account AC0123456789abcdef0123456789abcdef ok",
            "account [REDACTED:api_key] ok",
        ),
        ("ACCOUNTS ACME ACdeadbeef", "ACCOUNTS ACME ACdeadbeef"),
        (
            "openai sk-proj-AbC123dEf456GhI789jKl012MnO345pQr",
            "openai [REDACTED:api_key]",
        ),
        (
            "npm npm_abcdefghijklmnopqrstuvwxyz0123456789 x",
            "npm [REDACTED:api_key] x",
        ),
        (
            "pypi-AgEIcHlwaS5vcmcCJGE0ZjA1ZDk5LTQ2YjMtNDgzZC04N2I2LWI4YjI3ZmFkMzUyMQ",
            "[REDACTED:api_key]",
        ),
        (
            "gitlab glpat-xxxxxxxxxxxxxxxxxxxx done",
            "gitlab [REDACTED:api_key] done",
        ),
        // DigitalOcean: personal access, OAuth and OAuth refresh tokens, `do[por]_v1_`
        // and 64 lowercase hex digits.
        (
            &format!("token dop_v1_{} ok", "0123456789abcdef".repeat(4)),
            "token [REDACTED:api_key] ok",
        ),
        (
            &format!("oauth=doo_v1_{}&x=1", "fedcba9876543210".repeat(4)),
            "oauth=[REDACTED:api_key]&x=1",
        ),
        (
            &format!(r#"{{"refresh":"dor_v1_{}"}}"#, "a1b2c3d4e5f60718".repeat(4)),
            r#"{"refresh":"[REDACTED:api_key]"}"#,
        ),
        // Random tokens under a credential key or after a credential word.
        (
            r#"{"key":"9f86d081884c7d659a2feaa0c55ad015"}"#,
            r#"{"key":"[REDACTED:api_key]"}"#,
        ),
        (
            "key=Zx81hQw2Lm0PqRt5Vb7Nc3Kd&x=1",
            "key=[REDACTED:api_key]&x=1",
        ),
        (
            "x-api-key: 9f86d081884c7d659a2feaa0c55ad015",
            "x-api-key: [REDACTED:secret]",
        ),
    ]);
    kept(&[
        r#"{"key":"enter","cache_key":"user:42"}"#,
        "press key=enter to go on",
        "sk-hynix-memory-controller-a ready",
    ]);
}

#[test]
fn passwords_under_every_spelling() {
    table(&[
        (r#"{"pass":"hunter2"}"#, r#"{"pass":"[REDACTED:secret]"}"#),
        (
            r#"{"user_pw":"hunter2"}"#,
            r#"{"user_pw":"[REDACTED:secret]"}"#,
        ),
        (
            r#"{"loginPw":"hunter2"}"#,
            r#"{"loginPw":"[REDACTED:secret]"}"#,
        ),
        (
            r#"{"비밀번호":"hunter2"}"#,
            r#"{"비밀번호":"[REDACTED:secret]"}"#,
        ),
        (
            "login pw=hunter2 user=kim",
            "login pw=[REDACTED:secret] user=kim",
        ),
        ("pass: hunter2", "pass: [REDACTED:secret]"),
        ("비밀번호: hunter2 입력", "비밀번호: [REDACTED:secret] 입력"),
        (
            "GET /login?user=kim&pw=hunter2&x=1",
            "GET /login?user=kim&pw=[REDACTED:secret]&x=1",
        ),
        (
            r#"{"msg":"{\"passwd\":\"hunter2\"}"}"#,
            r#"{"msg":"{\"passwd\":\"[REDACTED:secret]\"}"}"#,
        ),
    ]);
    kept(&[r#"{"bypass":true,"compass":"north"}"#, "bypass: on"]);
}

#[test]
fn private_keys_of_every_kind() {
    let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
    for kind in ["RSA ", "EC ", "OPENSSH ", "", "ENCRYPTED ", "DSA "] {
        let pem = format!(
            "-----BEGIN {kind}PRIVATE KEY-----\n{body}\n{body}\n-----END {kind}PRIVATE KEY-----"
        );
        // As text, inside a JSON string (escaped newlines), and cut off by a logger.
        let out = run(&default(), &format!("key {pem} done"));
        assert_eq!(out, "key [REDACTED:private_key] done", "{kind}");
        let json = serde_json::json!({ "key_material": pem }).to_string();
        assert_eq!(
            run(&default(), &json),
            r#"{"key_material":"[REDACTED:private_key]"}"#
        );
        let cut = &pem[..pem.len() / 2];
        assert!(!run(&default(), cut).contains(body), "{kind} cut");
    }
    let legacy = format!(
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,2B1E2C3D4E5F60718293A4B5C6D7E8F9\n\n{body}\n-----END RSA PRIVATE KEY-----"
    );
    assert_eq!(run(&default(), &legacy), "[REDACTED:private_key]");
    let pgp = format!(
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n{body}\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----"
    );
    assert_eq!(run(&default(), &pgp), "[REDACTED:private_key]");
}

#[test]
fn percent_encoded_values() {
    table(&[
        (
            "GET /signup?email=kim%40example.com&ok=1",
            "GET /signup?email=%5BREDACTED%3Aemail%5D&ok=1",
        ),
        (
            "form phone=%2B82-10-1234-5678&x=1",
            "form phone=%5BREDACTED%3Aphone%5D&x=1",
        ),
        (
            "q=%EA%B3%84%EC%A2%8C%20110-123-456789",
            "q=%EA%B3%84%EC%A2%8C%20[REDACTED:kr_bank_account]",
        ),
        // Plain matches next to escapes are replaced as usual.
        ("a=kim@example.com&b=%20x", "a=[REDACTED:email]&b=%20x"),
        // A form body writes a space as `+`; the replacement stays form-encoded.
        (
            "user=kim&card=4111+1111+1111+1111&submit=1",
            "user=kim&card=%5BREDACTED%3Acredit_card%5D&submit=1",
        ),
        (
            "user=kim&tel=010+1234+5678&submit=1",
            "user=kim&tel=%5BREDACTED%3Aphone%5D&submit=1",
        ),
    ]);
    // Session cookies named by PHP and Java servlet containers in a query string.
    table(&[(
        "GET /cart?page=2&PHPSESSID=q8Xk2LmN0pRt5Vb7Nc3Kd9Wz&lang=ko",
        "GET /cart?page=2&PHPSESSID=[REDACTED:url_secret]&lang=ko",
    )]);
    kept(&[
        "/path%20with%20spaces?x=1",
        "100% done",
        "%d items",
        "q=c+++is+fun&n=1+2+3",
    ]);
}

#[test]
fn otlp_map_keys_give_context() {
    let mut logs = test_otlp::logs_request(
        vec![],
        vec![LogRecord {
            body: Some(AnyValue {
                value: Some(any_value::Value::KvlistValue(KeyValueList {
                    values: vec![
                        kv("dob", "1990-03-05"),
                        kv("app.version", "6.11.4.50"),
                        kv("event_date", "1990-03-05"),
                    ],
                })),
            }),
            attributes: vec![kv("user.bank_account", "110-123-456789")],
            ..Default::default()
        }],
    );
    default().session().logs(&mut logs);
    let rec = &logs.resource_logs[0].scope_logs[0].log_records[0];
    let Some(any_value::Value::KvlistValue(map)) = rec.body.as_ref().unwrap().value.as_ref() else {
        panic!("map kind changed")
    };
    assert_eq!(str_of(&map.values[0].value), "[REDACTED:date_of_birth]");
    assert_eq!(str_of(&map.values[1].value), "6.11.4.50");
    assert_eq!(str_of(&map.values[2].value), "1990-03-05");
    assert_eq!(
        str_of(&rec.attributes[0].value),
        "[REDACTED:kr_bank_account]"
    );
}

/// Passwords in text after a word that names one and only a space (or a Korean particle,
/// or `is`/`was`): the next word is a password when it reads like one — a digit and a
/// letter, or a symbol with letters or digits, or four digits or more (a PIN) — and a
/// plain word (`reset`, `policy`), a path (`pwd /srv/app`) or Korean text is not.
#[test]
fn passwords_after_a_marking_word_and_a_space() {
    table(&[
        (
            "sync failed for passwd Xk9#mTq2 retrying",
            "sync failed for passwd [REDACTED:secret] retrying",
        ),
        (
            "password Winter2019! expired",
            "password [REDACTED:secret] expired",
        ),
        ("password is Tr0ub4dor&3", "password is [REDACTED:secret]"),
        ("Password was q7_Lm2pZ.", "Password was [REDACTED:secret]"),
        ("new pwd q7_Lm2pZ ok", "new pwd [REDACTED:secret] ok"),
        ("pw 482913 sent", "pw [REDACTED:secret] sent"),
        (
            "PASSWORD  c%-$r^Xq_U entered",
            "PASSWORD  [REDACTED:secret] entered",
        ),
        (
            "비밀번호 aB3$kL9x 입력 오류",
            "비밀번호 [REDACTED:secret] 입력 오류",
        ),
        (
            "비밀번호는 p@ss1234 입니다",
            "비밀번호는 [REDACTED:secret] 입니다",
        ),
        (
            "패스워드를 Qw3rty!!로 변경",
            "패스워드를 [REDACTED:secret]로 변경",
        ),
        ("비번 zx81QW 확인", "비번 [REDACTED:secret] 확인"),
        ("암호 Kx7-pl2w 설정", "암호 [REDACTED:secret] 설정"),
        (
            r#"{"msg":"ValueError: passwd Mango77$ was rejected"}"#,
            r#"{"msg":"ValueError: passwd [REDACTED:secret] was rejected"}"#,
        ),
        (
            r#"{"msg":"login failed: password \"Kiwi#42x\" rejected"}"#,
            r#"{"msg":"login failed: password \"[REDACTED:secret]\" rejected"}"#,
        ),
        (
            r#"{"stack":"Error: 비밀번호 h_N4bQ2w 인증 실패\n\tat x.y(z.java:1)"}"#,
            r#"{"stack":"Error: 비밀번호 [REDACTED:secret] 인증 실패\n\tat x.y(z.java:1)"}"#,
        ),
    ]);
    kept(&[
        "password reset link sent",
        "password policy updated",
        "password changed successfully.",
        "passwd updated for user kim",
        "password expires in 90 days",
        "pwd /home/app/releases/current",
        "pwd ~/work",
        "Password Manager opened",
        "pass 3 arguments to the pass 2fa4u check",
        "bypass 4fa88b9x",
        "비밀번호 변경 완료",
        "password 재설정 메일 발송",
        "password ********",
        "password 12 characters minimum",
        // A second pass changes nothing.
        "sync failed for passwd [REDACTED:secret] retrying",
        "API 키 [REDACTED:api_key] 인증 요청됨",
    ]);
}

/// Random tokens after a word that names a credential and only a space: `api key`,
/// `apikey`, `token`, `secret`, `secret access key`, `시크릿 키`, `API 키`, `인증 토큰`. The
/// value must look random (32+ hex digits, or 20+ letters and digits with both); a
/// 40-character base64 value after `secret` or `aws` is an AWS secret access key.
/// `key` alone (`cache key …`) and a token with no such word before it stay.
#[test]
fn credentials_after_a_marking_word_and_a_space() {
    let aws = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let hex40 = "3f786850e387550fdab836ed7e6dc881de23001b";
    table(&[
        (
            &format!("notify aws secret {aws} queued"),
            "notify aws secret [REDACTED:api_key] queued",
        ),
        (
            &format!("secret access key {aws}"),
            "secret access key [REDACTED:api_key]",
        ),
        (
            &format!("결제 실패 - 시크릿 키 {aws} 재시도"),
            "결제 실패 - 시크릿 키 [REDACTED:api_key] 재시도",
        ),
        (
            &format!("API 키 {hex40} 인증 요청됨"),
            "API 키 [REDACTED:api_key] 인증 요청됨",
        ),
        (
            &format!("notify apikey {hex40} queued"),
            "notify apikey [REDACTED:api_key] queued",
        ),
        (
            "api key Zx81hQw2Lm0PqRt5Vb7Nc3Kd rotated",
            "api key [REDACTED:api_key] rotated",
        ),
        (
            "인증 토큰: Zx81hQw2Lm0PqRt5Vb7Nc3Kd-_aQ 확인",
            "인증 토큰: [REDACTED:api_key] 확인",
        ),
        (
            "token Zx81hQw2Lm0PqRt5Vb7Nc3Kd expired",
            "token [REDACTED:api_key] expired",
        ),
        (
            "토큰은 Zx81hQw2Lm0PqRt5Vb7Nc3Kd 입니다",
            "토큰은 [REDACTED:api_key] 입니다",
        ),
    ]);
    kept(&[
        "token expired for user kim",
        "secret rotation scheduled",
        "api key rotated by admin",
        "API 키 발급 완료",
        &format!("cache key {hex40}"),
        &format!("commit {hex40} deployed"),
        "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
        "secret santa 2024 event",
    ]);
}

/// Korean landlines written as plain digits (area code 02 or 031–064 and a 7- or 8-digit
/// subscriber number) under a phone key or after a phone word; not without context, not
/// with a code outside the plan.
#[test]
fn korean_landlines_written_plain() {
    table(&[
        (r#"{"tel":"0223456789"}"#, r#"{"tel":"[REDACTED:phone]"}"#),
        (r#"{"fax":"022345678"}"#, r#"{"fax":"[REDACTED:phone]"}"#),
        (
            r#"{"X-User-Phone":"0319876543"}"#,
            r#"{"X-User-Phone":"[REDACTED:phone]"}"#,
        ),
        (
            r#"{"연락처":"06432345678"}"#,
            r#"{"연락처":"[REDACTED:phone]"}"#,
        ),
        ("fax 0229876543 ok", "fax [REDACTED:phone] ok"),
        (
            "대표 전화 0422345678로 문의",
            "대표 전화 [REDACTED:phone]로 문의",
        ),
        (
            "user=kim&tel=0552345678&submit=1",
            "user=kim&tel=[REDACTED:phone]&submit=1",
        ),
    ]);
    kept(&[
        r#"{"order_id":"0223456789"}"#,
        "batch 0319876543 done",
        r#"{"tel":"0591234567"}"#,
        r#"{"tel":"0301234567"}"#,
        r#"{"phone":"02123456"}"#,
    ]);
}

/// Plain SSNs (SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000)
/// after a Korean or English word for one; a tax id key gives a business number its
/// context; an account key wins over the epoch look of a 13-digit number.
#[test]
fn registration_numbers_in_more_words() {
    table(&[
        (
            "회원 정보: 사회보장번호 078051120을 확인",
            "회원 정보: 사회보장번호 [REDACTED:us_ssn]을 확인",
        ),
        (
            "social security no. 219099999 on file",
            "social security no. [REDACTED:us_ssn] on file",
        ),
        (
            r#"{"tax_id":2208162517}"#,
            r#"{"tax_id":"[REDACTED:kr_brn]"}"#,
        ),
        (
            r#"{"계좌번호":"1701234567890"}"#,
            r#"{"계좌번호":"[REDACTED:kr_bank_account]"}"#,
        ),
        (
            "user=kim&birthdate=1990.+3.+5.&submit=1",
            "user=kim&birthdate=%5BREDACTED%3Adate_of_birth%5D&submit=1",
        ),
    ]);
    kept(&[
        "사회보장번호 000123456 오류",
        "사회보장번호 666123456 오류",
        "사회보장번호 912345678 오류",
        "사회보장번호 123001234 오류",
        "사회보장번호 123450000 오류",
        r#"{"tax_id":2208162518}"#,
        "account created 1718236800123",
    ]);
}

/// Percent-decoded text detected only around what decoding changed finds what detecting
/// it whole finds: on URLs, query strings and form bodies (RFC 3986 §2.1, the
/// `application/x-www-form-urlencoded` serializer of the WHATWG URL standard) holding
/// PII in their encoded forms, inside access-log lines (Apache's Common and Combined Log
/// Formats) near and far from other PII, and on every body of both corpora.
#[test]
fn decoded_parts_find_what_the_whole_decoded_text_finds() {
    let r = default();
    // Values as a form serializer writes them: `@` → `%40`, `+` → `%2B`, a space → `+`,
    // UTF-8 bytes as `%XX`.
    let values = [
        "email=kim.minsu%40example.co.kr",
        "tel=%2B82-10-1234-5678",
        "tel=010+1234+5678",
        "card=4111+1111+1111+1111",
        "card=4111%201111%201111%201111",
        "q=%EA%B3%84%EC%A2%8C+110-123-456789",
        "memo=%EC%83%9D%EB%85%84%EC%9B%94%EC%9D%BC+1990.+3.+5.",
        "ssn=123-45-6789",
        "note=password%3A+Sunny2025%23",
        "redirect=https%3A%2F%2Fhooks.slack.com%2Fservices%2FT0000%2FB0000%2FXXXXXXXXXXXXXXXXXXXXXXXX",
        "ip=192.168.0.%31",
        "name=%ED%99%8D%EA%B8%B8%EB%8F%99",
        "ua=curl%2F8.5.0",
        "v=6.11.4.50",
    ];
    let mut inputs = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let other = values[(i + 5) % values.len()];
        inputs.push(v.to_string());
        inputs.push(format!("{v}&{other}"));
        // Common Log Format, then Combined with a user agent and a referrer.
        inputs.push(format!(
            "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif?{v} HTTP/1.0\" 200 2326"
        ));
        inputs.push(format!(
            "10.0.0.7 - - [05/Dec/2026:07:00:00 +0000] \"POST /signup HTTP/1.1\" 302 0 \"https://example.com/?{other}\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36\" body={v}"
        ));
        // PII as written far before and right after the encoded part.
        inputs.push(format!(
            "user kim@example.com phone 010-9876-5432 {} sent {v} then call 010-2222-3333",
            "word ".repeat(i * 10)
        ));
        // Marking words before the encoded value, within and past the look back.
        inputs.push(format!("생년월일 {v}"));
        inputs.push(format!("account {} {v}", "x".repeat(i * 6)));
    }
    for file in [
        "/testdata/redact/corpus.jsonl",
        "/testdata/redact/eval/corpus.jsonl",
        "/testdata/redact/third/corpus.jsonl",
        "/testdata/redact/cases.jsonl",
    ] {
        let path = format!("{}{file}", env!("CARGO_MANIFEST_DIR"));
        for line in std::fs::read_to_string(path).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            for k in ["body", "doc", "in"] {
                if let Some(s) = v[k].as_str() {
                    inputs.push(s.to_string());
                }
            }
        }
    }
    let (mut decoded_hits, mut markup_hits) = (0, 0);
    for input in &inputs {
        let mut parts = r.session();
        let mut whole = r.session();
        whole.whole_decoded = true;
        let got = parts.redact_str(input);
        assert_eq!(got, whole.redact_str(input), "{input}");
        if percent::decode(input).is_some() && got.as_deref().is_some_and(|g| g.contains("%5B")) {
            decoded_hits += 1;
        }
        // Text with markup decoded (HTML references, full-width forms) and redacted.
        if percent::decode(input).is_none()
            && percent::decode_markup(input, false).is_some()
            && got.is_some()
        {
            markup_hits += 1;
        }
    }
    assert!(inputs.len() > 4_000, "{}", inputs.len());
    assert!(decoded_hits >= 40, "{decoded_hits}");
    assert!(markup_hits >= 20, "{markup_hits}");
}

#[test]
fn shapes_of_the_third_held_out_set() {
    let r = default();
    let cases = [
        // Lower-case IBANs, compact or grouped; a lower-case hex id of the same shape
        // is no registered country's IBAN.
        (
            "payout to de89 3704 0044 0532 0130 00 ok",
            "payout to [REDACTED:iban] ok",
        ),
        ("iban=gb82west12345698765432", "iban=[REDACTED:iban]"),
        (
            "commit de12345678901234567890aabbccddeeff0011 ok",
            "commit de12345678901234567890aabbccddeeff0011 ok",
        ),
        // Dates of birth with the month's name, with context only.
        (
            "dob: March 5, 1990; shipped March 5, 2024",
            "dob: [REDACTED:date_of_birth]; shipped March 5, 2024",
        ),
        (
            "born 5 Sept 1990 in Busan",
            "born [REDACTED:date_of_birth] in Busan",
        ),
        ("released 5 May 2024", "released 5 May 2024"),
        // HTML character references and full-width forms.
        ("<td>kim&#64;example.com</td>", "<td>[REDACTED:email]</td>"),
        (
            "연락처 ０１０－１２３４－５６７８로",
            "연락처 [REDACTED:phone]로",
        ),
        // A value in a wrapper (Rust `Debug`), or wrapped onto the next line.
        (
            r#"Account { id: 7, password: Some("hunter2x9") }"#,
            r#"Account { id: 7, password: Some("[REDACTED:secret]") }"#,
        ),
        (
            "AWS_SECRET=\n    Sunny2025!",
            "AWS_SECRET=\n    [REDACTED:secret]",
        ),
        (
            "secret access key\n    wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY)",
            "secret access key\n    [REDACTED:api_key])",
        ),
        // `*sessid` and `*.sid` keys in text.
        (
            "phpsessid = \"h05vsogl1b9gdoiblniu2iv7gr\"",
            "phpsessid = \"[REDACTED:secret]\"",
        ),
        // A value written into HTML ends at the tag.
        (
            "<p>password is 6a0Ou^EG.Z6N</p><span>sha256:8df9373</span>",
            "<p>password is [REDACTED:secret]</p><span>sha256:8df9373</span>",
        ),
        // A `~` that does not start a path starts a password.
        ("pwd ~294@tauBF0@1z", "pwd [REDACTED:secret]"),
        // A bank's check digit as a last group of one; `dl_number` is a licence key.
        (
            "입금 계좌 9002-1234-5678-9",
            "입금 계좌 [REDACTED:kr_bank_account]",
        ),
        (
            "dl_number=151970421252",
            "dl_number=[REDACTED:kr_driver_license]",
        ),
        // Earlier misses: a plain SSN before another number, a 40-character key with one
        // digit after `API 키`.
        (
            "SSN 123456789 and employee 4521",
            "SSN [REDACTED:us_ssn] and employee 4521",
        ),
        (
            "API 키 BzQFP3YEdIdYITblYIDBlkPfBdjAAriyyBdOCCvx 입니다",
            "API 키 [REDACTED:api_key] 입니다",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(run(&r, input), want, "{input}");
    }
}
