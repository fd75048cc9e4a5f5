//! Log conditions: the paths they read, body fields of JSON and map bodies, numbers written
//! as strings, latency fields.

use opentelemetry_proto::tonic::common::v1::KeyValueList;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::LogRecord;

use super::AttrRef;
use super::*;
use crate::attr::{AttrValue, kv};
use crate::test_otlp::resource;

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
    let resource = resource(vec![kv("service.name", "ingress-nginx")]);
    c.eval_log(record, resource.as_ref(), &paths, body.view())
}

fn with_body(body: impl AttrValue) -> LogRecord {
    LogRecord {
        body: Some(body.into_any_value()),
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
    let nginx = with_body(
        r#"{"status": 503, "request_time": 0.002, "upstream_response_time": "-", "upstream_status": "503", "upstream": {"addr": "10.0.0.7:8080", "response_time": "0.150"}}"#,
    );
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
    let envoy = with_body(Value::KvlistValue(KeyValueList {
        values: vec![
            kv("response_code", 504_i64),
            kv("response_flags", "UT"),
            kv("duration", 15000_i64),
            kv(
                "upstream",
                Value::KvlistValue(KeyValueList {
                    values: vec![kv("cluster", "checkout")],
                }),
            ),
        ],
    }));
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
        let record = with_body(text);
        assert!(holds(r#"body["status"] == nil"#, &record), "{text}");
        assert!(!holds(r#"body["status"] >= 500"#, &record), "{text}");
    }
    let big = format!(
        r#"{{"status": 503, "pad": "{}"}}"#,
        "x".repeat(MAX_JSON_BODY)
    );
    let record = with_body(&big);
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
            kv("http.response.status_code", "502"),
            kv("http.route", "/api/pay"),
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
    let record = with_body(
        r#"{"a": "0.123", "b": 0.5, "c": 12, "d": "-", "e": "0.150, 0.129", "f": -1, "g": "1e400", "h": null, "i": {"x": 1}, "j": "", "k": "0.001 : 0.002"}"#,
    );
    let mut paths = BodyPaths::default();
    for k in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "z"] {
        paths.add_attr(&field(k));
    }
    let body = BodyFields::read(record.body.as_ref(), &paths);
    let read = |k: &str, per_unit: f64| {
        log_latency(&field(k), per_unit, &record, None, &paths, body.view())
    };
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
        agrees_with_whole_parse(body, &paths);
    }
}

/// `body` read in one pass gives, at every path of `paths`, what parsing it whole and
/// walking the document gives, and the same kind (JSON or text); whether it parsed.
pub(super) fn agrees_with_whole_parse(body: &str, paths: &BodyPaths) -> bool {
    let record_body = body.into_any_value();
    let got = BodyFields::read(Some(&record_body), paths);
    let parsed = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .filter(serde_json::Value::is_object);
    for (i, keys) in paths.iter().enumerate() {
        let want = if keys.is_empty() {
            BodyValue::Str(body.into())
        } else {
            parsed
                .as_ref()
                .and_then(|j| super::body::json_path(j, keys))
                .map_or(BodyValue::Nil, BodyValue::of_json)
        };
        // Bit for bit: NaN never occurs, -0.0 must stay -0.0.
        let same = match (got.value(i), &want) {
            (BodyValue::Float(a), BodyValue::Float(b)) => a.to_bits() == b.to_bits(),
            (a, b) => a == b,
        };
        assert!(same, "{body:?}: {keys:?}: {:?} != {want:?}", got.value(i));
    }
    let kind = if parsed.is_some() {
        BodyKind::Json
    } else {
        BodyKind::Text
    };
    assert_eq!(got.kind, kind, "{body:?}");
    parsed.is_some()
}

/// Keys the random bodies use; the paths read some of them. The two long ones are told
/// apart by their bytes, not their lengths (both over 63 bytes).
const KEYS: [&str; 11] = [
    "status",
    "a",
    "b",
    "dup",
    "x",
    "esc\"aped",
    "ключ",
    "",
    "msg",
    LONG_KEY,
    "a key of sixty-four bytes or more, that no path names: 0123456789",
];

/// A key longer than 63 bytes that a path names.
const LONG_KEY: &str = "a key of sixty-four bytes or more, read by a path: 0123456789abcdef";

/// A JSON string literal for `text`, escaped in one of the ways JSON allows.
fn json_string(rng: &mut fastrand::Rng, text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match (c, rng.u8(0..6)) {
            ('"', _) => out.push_str("\\\""),
            ('\\', _) => out.push_str("\\\\"),
            ('\n', 0) => out.push_str("\\n"),
            ('\t', 0) => out.push_str("\\t"),
            (c, _) if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            (c, 0) if c.is_ascii() => out.push_str(&format!("\\u{:04x}", c as u32)),
            (c, 1) if !c.is_ascii() => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04X}"));
                }
            }
            (c, _) => out.push(c),
        }
    }
    out.push('"');
    out
}

fn whitespace(rng: &mut fastrand::Rng) -> &'static str {
    [" ", "", "", "\n", "\t ", "\r\n"][rng.usize(..6)]
}

/// Random JSON text: scalars of every kind serde_json treats apart (numbers at the edges
/// of i64, u64 and f64, escapes, surrogate pairs), arrays and objects with duplicate keys.
fn random_json(rng: &mut fastrand::Rng, depth: u32) -> String {
    const NUMBERS: [&str; 22] = [
        "0",
        "-0",
        "7",
        "250",
        "123456789012345678",
        "1234567890123456789",
        "-9223372036854775808",
        "-9223372036854775809",
        "9223372036854775807",
        "18446744073709551615",
        "18446744073709551616",
        "1.5",
        "-2.5e3",
        "1e400",
        "1E-400",
        "0.1e+2",
        "1e308",
        "1.7976931348623157e308",
        "1.8e308",
        "-0.0",
        "0.000000000000000000000000000001",
        "12.50",
    ];
    const TEXTS: [&str; 9] = [
        "",
        "ok",
        "서울 🚀",
        "a\"b",
        "back\\slash",
        "-",
        "0.120",
        "tab\tnew\nline",
        "payment accepted for order 123456789 after 3 attempts",
    ];
    let ws = whitespace(rng);
    match rng.u8(0..if depth > 3 { 5 } else { 8 }) {
        0 => NUMBERS[rng.usize(..NUMBERS.len())].to_string(),
        1 => match rng.u8(0..3) {
            0 => "9".repeat(rng.usize(295..310)),
            1 => format!("1{}", "0".repeat(rng.usize(298..302))),
            _ => format!("-{}.5", "7".repeat(rng.usize(299..302))),
        },
        2 => {
            let text = TEXTS[rng.usize(..TEXTS.len())];
            json_string(rng, text)
        }
        3 => ["true", "false", "null"][rng.usize(..3)].to_string(),
        4 => format!("{ws}{}", rng.i64(..)),
        5 => {
            let items: Vec<String> = (0..rng.usize(0..4))
                .map(|_| random_json(rng, depth + 1))
                .collect();
            format!("[{ws}{}{ws}]", items.join(&format!(",{ws}")))
        }
        _ => random_object(rng, depth + 1),
    }
}

fn random_object(rng: &mut fastrand::Rng, depth: u32) -> String {
    let ws = whitespace(rng);
    let members: Vec<String> = (0..rng.usize(0..6))
        .map(|_| {
            let key = KEYS[rng.usize(..KEYS.len())];
            let key = json_string(rng, key);
            format!("{key}{ws}:{ws}{}", random_json(rng, depth))
        })
        .collect();
    format!("{{{ws}{}{ws}}}", members.join(&format!("{ws},")))
}

/// Random bodies, and the same bodies with characters deleted, inserted, duplicated or cut
/// off (control characters, lone surrogate escapes and broken numbers among them), read in
/// one pass, agree with the whole-document parse; arrays and objects nested around the
/// recursion limit too.
#[test]
fn random_and_mutated_json_bodies_equal_the_whole_document_parse() {
    let keys = |p: &[&str]| p.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    let mut paths = BodyPaths::default();
    for p in [
        &["status"][..],
        &["a", "b"],
        &["a"],
        &["dup"],
        &["dup", "x"],
        &["esc\"aped"],
        &["ключ"],
        &[""],
        &["msg"],
        &["b", "a", "status"],
        &[LONG_KEY],
    ] {
        paths.add(&keys(p));
    }
    const INSERTS: [&str; 16] = [
        "{", "}", "[", "]", "\"", ",", ":", "\\", "\\u", "\\ud800", "\\udc00", "e", "-", ".",
        "\u{1}", "\u{7f}",
    ];
    let mut rng = fastrand::Rng::with_seed(21);
    let (mut json, mut text) = (0, 0);
    for round in 0..6_000 {
        let mut body = random_object(&mut rng, 0);
        if round % 2 == 1 {
            for _ in 0..rng.usize(1..4) {
                let chars: Vec<(usize, char)> = body.char_indices().collect();
                if chars.is_empty() {
                    break;
                }
                let (at, c) = chars[rng.usize(..chars.len())];
                match rng.u8(0..4) {
                    0 => drop(body.remove(at)),
                    1 => body.insert_str(at, INSERTS[rng.usize(..INSERTS.len())]),
                    2 => {
                        let end = chars
                            .iter()
                            .map(|(i, _)| *i)
                            .find(|i| *i > at + rng.usize(1..12))
                            .unwrap_or(body.len());
                        let copy = body[at..end].to_string();
                        body.insert_str(at, &copy);
                    }
                    _ => body.truncate(at + c.len_utf8() * usize::from(rng.bool())),
                }
            }
        }
        if agrees_with_whole_parse(&body, &paths) {
            json += 1;
        } else {
            text += 1;
        }
    }
    assert!(json > 2_500 && text > 1_000, "{json} parsed, {text} not");
    for depth in 120..135 {
        for inner in ["1", "{}", "[]", "{\"x\":[1]}"] {
            let arrays = format!(
                "{{\"a\":{}{inner}{}}}",
                "[".repeat(depth),
                "]".repeat(depth)
            );
            let objects = format!(
                "{{\"a\":{}{inner}{}}}",
                "{\"b\":".repeat(depth),
                "}".repeat(depth)
            );
            agrees_with_whole_parse(&arrays, &paths);
            agrees_with_whole_parse(&objects, &paths);
        }
    }
}

/// Strings are scanned sixteen bytes at a time, the last ones in the block that ends the
/// body: a closing quote, an escape or a raw control character at every place of a block,
/// in bodies of every length around a block, reads as the whole-document parse reads it.
#[test]
fn strings_read_the_same_wherever_they_end_in_a_block() {
    let mut paths = BodyPaths::default();
    for p in [&["msg"][..], &["k"]] {
        paths.add(&p.iter().map(|k| k.to_string()).collect::<Vec<_>>());
    }
    let mut parsed = 0;
    for len in 0..40 {
        let plain = "p".repeat(len);
        for at in 0..=len {
            for inner in [
                "", "\\\"", "\\u00e9", "\u{1}", "\u{1f}", " ", "\u{7f}", "é", "\\x",
            ] {
                let text = format!("{}{inner}{}", &plain[..at], &plain[at..]);
                for body in [
                    format!(r#"{{"msg":"{text}"}}"#),
                    format!(r#"{{"k":1,"msg":"{text}","x":"{text}"}}"#),
                    format!(r#"{{"{text}":"{text}","k":"{text}"}}  "#),
                    format!(r#"{{"msg":"{text}"#),
                ] {
                    parsed += usize::from(agrees_with_whole_parse(&body, &paths));
                }
            }
        }
    }
    assert!(parsed > 5_000, "{parsed}");
}
