//! Log conditions: the paths they read, body fields of JSON and map bodies, numbers written
//! as strings, latency fields.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, KeyValueList};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::AttrRef;
use super::*;
use crate::attr::kv;

fn s(text: &str) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(text.to_string())),
    }
}

fn map(entries: Vec<KeyValue>) -> AnyValue {
    AnyValue {
        value: Some(Value::KvlistValue(KeyValueList { values: entries })),
    }
}

fn int(i: i64) -> AnyValue {
    AnyValue {
        value: Some(Value::IntValue(i)),
    }
}

fn log(cond: &str) -> Condition {
    Condition::parse(cond, ConditionTarget::Log).unwrap_or_else(|e| panic!("{cond}: {e}"))
}

/// Evaluates `cond` on a record with `body`, reading the body once for that condition.
fn holds(cond: &str, record: &LogRecord) -> bool {
    let c = log(cond);
    let mut paths = BodyPaths::default();
    for attr in c.attributes() {
        paths.add_attr(&attr);
    }
    let body = BodyFields::read(record.body.as_ref(), &paths);
    let resource = Resource {
        attributes: vec![kv("service.name", s("ingress-nginx"))],
        ..Default::default()
    };
    c.eval_log(record, Some(&resource), &paths, &body)
}

fn with_body(body: AnyValue) -> LogRecord {
    LogRecord {
        body: Some(body),
        ..Default::default()
    }
}

#[test]
fn log_paths_parse_for_logs_only() {
    for ok in [
        r#"body["status"] >= 500"#,
        r#"body["upstream"]["response_time"] > 0.5"#,
        r#"log.body["status"] == 200"#,
        "severity_number >= SEVERITY_NUMBER_ERROR",
        r#"severity_text == "ERROR""#,
        r#"IsMatch(body, "timeout")"#,
        r#"attributes["http.route"] == "/" and resource.attributes["k"] != nil"#,
    ] {
        log(ok);
    }
    let span = Condition::parse(r#"body["status"] >= 500"#, ConditionTarget::Span).unwrap_err();
    assert!(span.message.contains("unknown path `body`"), "{span}");
    let metric = Condition::parse("severity_number > 1", ConditionTarget::Metric).unwrap_err();
    assert!(metric.message.contains("unknown path"), "{metric}");
    let e = Condition::parse("duration > 300ms", ConditionTarget::Log).unwrap_err();
    assert!(e.message.contains("span field"), "{e}");
    let e =
        Condition::parse("severity_number == SPAN_KIND_SERVER", ConditionTarget::Log).unwrap_err();
    assert!(e.message.contains("SEVERITY_NUMBER_ERROR"), "{e}");
    let e = Condition::parse("kind == SEVERITY_NUMBER_ERROR", ConditionTarget::Span).unwrap_err();
    assert!(e.message.contains("SPAN_KIND_SERVER"), "{e}");
    let e = Condition::parse(r#"severity_text == 3"#, ConditionTarget::Log).unwrap_err();
    assert!(e.message.contains("string"), "{e}");
    let e = Condition::parse(r#"body[3] == 1"#, ConditionTarget::Log).unwrap_err();
    assert!(e.message.contains("body key as a string"), "{e}");
    let deep = format!("body{} == 1", r#"["k"]"#.repeat(17));
    let e = Condition::parse(&deep, ConditionTarget::Log).unwrap_err();
    assert!(e.message.contains("at most 16 keys"), "{e}");
}

#[test]
fn severity_numbers_follow_the_log_data_model() {
    // TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24.
    for (name, n) in [
        ("SEVERITY_NUMBER_UNSPECIFIED", 0),
        ("SEVERITY_NUMBER_TRACE", 1),
        ("SEVERITY_NUMBER_DEBUG", 5),
        ("SEVERITY_NUMBER_INFO", 9),
        ("SEVERITY_NUMBER_WARN2", 14),
        ("SEVERITY_NUMBER_ERROR", 17),
        ("SEVERITY_NUMBER_FATAL4", 24),
    ] {
        let record = LogRecord {
            severity_number: n,
            ..Default::default()
        };
        assert!(
            holds(&format!("severity_number == {name}"), &record),
            "{name}"
        );
        assert!(
            !holds(&format!("severity_number != {name}"), &record),
            "{name}"
        );
    }
    assert!(
        Condition::parse(
            "severity_number == SEVERITY_NUMBER_ERROR5",
            ConditionTarget::Log
        )
        .is_err()
    );
}

#[test]
fn json_string_bodies_have_fields_and_numbers_in_strings_compare_as_numbers() {
    let nginx = with_body(s(
        r#"{"status": 503, "request_time": 0.002, "upstream_response_time": "-", "upstream_status": "503", "upstream": {"addr": "10.0.0.7:8080", "response_time": "0.150"}}"#,
    ));
    assert!(holds(r#"body["status"] >= 500"#, &nginx));
    assert!(holds(r#"body["status"] == 503.0"#, &nginx));
    assert!(
        holds(r#"body["upstream_status"] >= 500"#, &nginx),
        "\"503\" is a number"
    );
    assert!(
        holds(r#"body["upstream_status"] == "503""#, &nginx),
        "and still a string"
    );
    assert!(
        !holds(r#"body["upstream_response_time"] > 0"#, &nginx),
        "`-` is no number"
    );
    assert!(!holds(r#"body["upstream_response_time"] <= 0"#, &nginx));
    assert!(holds(r#"body["upstream_response_time"] == "-""#, &nginx));
    assert!(holds(r#"body["upstream"]["response_time"] > 0.1"#, &nginx));
    assert!(holds(
        r#"body["upstream"]["addr"] == "10.0.0.7:8080""#,
        &nginx
    ));
    assert!(holds(r#"body["missing"] == nil"#, &nginx));
    assert!(holds(r#"body["status"]["deeper"] == nil"#, &nginx));
    assert!(
        holds(r#"IsMatch(body["upstream"], "10.0.0.7:8080")"#, &nginx),
        "objects as JSON"
    );
    assert!(
        holds(r#"IsMatch(body, "upstream_status")"#, &nginx),
        "the whole body"
    );
}

#[test]
fn map_bodies_are_walked_as_they_are() {
    let envoy = with_body(map(vec![
        kv("response_code", int(504)),
        kv("response_flags", s("UT")),
        kv("duration", int(15000)),
        kv("upstream", map(vec![kv("cluster", s("checkout"))])),
    ]));
    assert!(holds(r#"body["response_code"] >= 500"#, &envoy));
    assert!(holds(r#"body["response_flags"] == "UT""#, &envoy));
    assert!(holds(
        r#"body["upstream"]["cluster"] == "checkout""#,
        &envoy
    ));
    assert!(holds(r#"body["upstream_service_time"] == nil"#, &envoy));
    assert!(holds(r#"IsMatch(body["upstream"], "checkout")"#, &envoy));
}

#[test]
fn a_body_that_is_not_a_json_object_has_no_fields() {
    for text in [
        r#"127.0.0.1 - - [05/Dec/2026:04:10:00 +0000] "GET / HTTP/1.1" 503 12"#,
        r#"{"status": 503"#,
        r#"[{"status": 503}]"#,
        "",
    ] {
        let record = with_body(s(text));
        assert!(holds(r#"body["status"] == nil"#, &record), "{text}");
        assert!(!holds(r#"body["status"] >= 500"#, &record), "{text}");
    }
    let big = format!(
        r#"{{"status": 503, "pad": "{}"}}"#,
        "x".repeat(MAX_JSON_BODY)
    );
    let record = with_body(s(&big));
    assert!(
        holds(r#"body["status"] == nil"#, &record),
        "too large to parse"
    );
    let mut paths = BodyPaths::default();
    paths.add(&["status".to_string()]);
    assert_eq!(
        BodyFields::read(record.body.as_ref(), &paths).kind,
        BodyKind::Text
    );
    assert!(holds(r#"body["status"] == nil"#, &LogRecord::default()));
}

#[test]
fn attributes_holding_numbers_compare_as_numbers_in_log_conditions() {
    let record = LogRecord {
        attributes: vec![
            kv("http.response.status_code", s("502")),
            kv("http.route", s("/api/pay")),
        ],
        severity_text: "ERROR".into(),
        ..Default::default()
    };
    assert!(holds(
        r#"attributes["http.response.status_code"] >= 500"#,
        &record
    ));
    assert!(holds(r#"attributes["http.route"] != 5"#, &record));
    assert!(!holds(r#"attributes["http.route"] > 5"#, &record));
    assert!(holds(r#"severity_text == "ERROR""#, &record));
    assert!(holds(
        r#"resource.attributes["service.name"] == "ingress-nginx""#,
        &record
    ));
}

#[test]
fn latency_fields_are_read_never_guessed() {
    let field = |k: &str| AttrRef::Body(vec![k.to_string()]);
    let record = with_body(s(
        r#"{"a": "0.123", "b": 0.5, "c": 12, "d": "-", "e": "0.150, 0.129", "f": -1, "g": "1e400", "h": null, "i": {"x": 1}, "j": "", "k": "0.001 : 0.002"}"#,
    ));
    let mut paths = BodyPaths::default();
    for k in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "z"] {
        paths.add_attr(&field(k));
    }
    let body = BodyFields::read(record.body.as_ref(), &paths);
    let read =
        |k: &str, per_unit: f64| log_latency(&field(k), per_unit, &record, None, &paths, &body);
    assert_eq!(read("a", 1e9), Ok(123_000_000));
    assert_eq!(read("b", 1e9), Ok(500_000_000));
    assert_eq!(read("c", 1e6), Ok(12_000_000), "ms");
    assert_eq!(read("c", 1e3), Ok(12_000), "us");
    assert_eq!(read("c", 1.0), Ok(12), "ns");
    assert_eq!(read("d", 1e9), Err(Unreadable::Dash));
    assert_eq!(read("j", 1e9), Err(Unreadable::Dash));
    assert_eq!(
        read("e", 1e9),
        Err(Unreadable::Invalid),
        "several upstreams"
    );
    assert_eq!(
        read("k", 1e9),
        Err(Unreadable::Invalid),
        "an internal redirect"
    );
    assert_eq!(read("f", 1e9), Err(Unreadable::Invalid), "negative");
    assert_eq!(read("g", 1e9), Err(Unreadable::Invalid), "not finite");
    assert_eq!(read("h", 1e9), Err(Unreadable::Missing), "null");
    assert_eq!(read("i", 1e9), Err(Unreadable::Invalid), "an object");
    assert_eq!(read("z", 1e9), Err(Unreadable::Missing));
}

#[test]
fn numbers_in_strings() {
    use super::ast::Val;
    let n = |t: &str| match super::body::parse_number(t) {
        Some(Val::Int(i)) => Some(i as f64),
        Some(Val::Float(f)) => Some(f),
        _ => None,
    };
    assert_eq!(n("200"), Some(200.0));
    assert_eq!(n(" 0.123 "), Some(0.123));
    assert_eq!(n("-4"), Some(-4.0));
    assert_eq!(n("1e3"), Some(1000.0));
    for not in [
        "-", "", "abc", "NaN", "inf", "1_000", "0x10", "0.1, 0.2", "+5", "--1",
    ] {
        assert_eq!(n(not), None, "{not:?}");
    }
}

/// The one-pass JSON reader gives what parsing the whole body and walking it gives: the
/// same values (numbers, strings, arrays and objects as JSON text), the last of a key given
/// twice, nothing for what is not a JSON object, bad syntax anywhere or nesting past the
/// parser's limit.
#[test]
fn one_pass_json_fields_equal_the_whole_document_parse() {
    let keys = |p: &[&str]| p.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    let mut paths = BodyPaths::default();
    for p in [
        &["status"][..],
        &["upstream", "response_time"],
        &["upstream"],
        &["a", "b", "c"],
        &["list"],
        &["big"],
        &["esc\"aped"],
        &["dup"],
        &["dup", "x"],
        &[],
    ] {
        paths.add(&keys(p));
    }
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
    let bodies = [
        r#"{"status":503,"upstream":{"response_time":"0.120","addr":"10.0.0.1:80"}}"#,
        r#"{"status":"200","upstream":{"response_time":0.5},"upstream":{"x":1}}"#,
        r#"{"a":{"b":{"c":[1,{"z":2}]}},"list":[1,"two",null,3.5,{"k":true}]}"#,
        r#"{"big":18446744073709551615,"status":-9223372036854775808,"list":1e400}"#,
        r#"{"esc\"aped":"yes","esc\u0022aped2":1,"\u0073tatus":7}"#,
        r#"{"dup":{"x":1},"dup":"flat"}"#,
        r#"{"dup":"flat","dup":{"x":2}}"#,
        r#"{"status":1.0,"upstream":null,"a":{"b":null}}"#,
        r#"{"status":200} trailing"#,
        r#"{"status":200,}"#,
        r#"[{"status":200}]"#,
        r#""{\"status\":200}""#,
        r#"{"status":200,"nested":{"deep":[[[[{}]]]]}}"#,
        "{}",
        "",
        deep.as_str(),
    ];
    for body in bodies {
        let record_body = AnyValue {
            value: Some(Value::StringValue(body.to_string())),
        };
        let got = BodyFields::read(Some(&record_body), &paths);
        let parsed = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .filter(serde_json::Value::is_object);
        for (i, keys) in paths.iter().enumerate() {
            let want = if keys.is_empty() {
                BodyValue::Str(body.to_string())
            } else {
                parsed
                    .as_ref()
                    .and_then(|j| super::body::json_path(j, keys))
                    .map_or(BodyValue::Nil, BodyValue::of_json)
            };
            assert_eq!(got.value(i), &want, "{body}: {keys:?}");
        }
        let kind = if parsed.is_some() {
            BodyKind::Json
        } else {
            BodyKind::Text
        };
        assert_eq!(got.kind, kind, "{body}");
    }
}
