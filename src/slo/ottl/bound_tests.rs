//! Bound log conditions and fields against the reference: random conditions over random
//! records (JSON, map, text and other bodies; captured rows) give what
//! [`Condition::eval_log`], [`log_latency`] and [`log_field`] give, with the body paths in
//! any order and with paths missing.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, KeyValueList};
use opentelemetry_proto::tonic::logs::v1::LogRecord;

use super::ast::render;
use super::*;
use crate::attr::{AttrValue, kv};
use crate::test_otlp::resource;

/// The paths the random conditions read.
const PATHS: [&str; 10] = [
    "severity_number",
    "severity_text",
    r#"attributes["k"]"#,
    r#"resource.attributes["r"]"#,
    "body",
    r#"body["status"]"#,
    r#"body["a"]["b"]"#,
    r#"body["a"]"#,
    r#"body["msg"]"#,
    r#"body["lat"]"#,
];

const LITERALS: [&str; 14] = [
    "nil",
    "500",
    "-1",
    "0.5",
    "503.0",
    r#""503""#,
    r#""0.5""#,
    r#""abc""#,
    r#""-""#,
    r#""""#,
    "true",
    "false",
    "SEVERITY_NUMBER_ERROR",
    "1e3",
];

const OPS: [&str; 6] = ["==", "!=", "<", "<=", ">", ">="];

fn atom(rng: &mut fastrand::Rng) -> String {
    let path = PATHS[rng.usize(..PATHS.len())];
    let op = OPS[rng.usize(..OPS.len())];
    match rng.u8(0..8) {
        0 => format!("{path} {op} {}", PATHS[rng.usize(..PATHS.len())]),
        1 => format!(
            r#"IsMatch({path}, "{}")"#,
            ["5", "^a", "b\"", "x|E"][rng.usize(..4)]
        ),
        _ => format!("{path} {op} {}", LITERALS[rng.usize(..LITERALS.len())]),
    }
}

fn condition(rng: &mut fastrand::Rng, depth: u32) -> String {
    match rng.u8(0..if depth > 2 { 1 } else { 5 }) {
        0 => atom(rng),
        1 => format!("not ({})", condition(rng, depth + 1)),
        2 => format!(
            "{} or {}",
            condition(rng, depth + 1),
            condition(rng, depth + 1)
        ),
        _ => format!(
            "({}) and ({})",
            condition(rng, depth + 1),
            condition(rng, depth + 1)
        ),
    }
}

/// A value of every kind conditions tell apart, as JSON text.
fn json_value(rng: &mut fastrand::Rng) -> String {
    [
        "503",
        "200",
        "-7",
        "0.25",
        "1e2",
        r#""503""#,
        r#""0.5""#,
        r#""-""#,
        r#""abc""#,
        r#""""#,
        "true",
        "false",
        "null",
        r#"{"b":"x"}"#,
        r#"{"b":502}"#,
        "[1,2]",
        r#""esc\"aped""#,
    ][rng.usize(..17)]
    .to_string()
}

fn any_value(rng: &mut fastrand::Rng) -> Option<AnyValue> {
    Some(match rng.u8(0..9) {
        0 => return None,
        1 => "502".into_any_value(),
        2 => "abc".into_any_value(),
        3 => 7_i64.into_any_value(),
        4 => 0.5_f64.into_any_value(),
        5 => true.into_any_value(),
        6 => "-".into_any_value(),
        7 => Value::KvlistValue(KeyValueList {
            values: vec![kv("b", "x")],
        })
        .into_any_value(),
        _ => 503_i64.into_any_value(),
    })
}

fn body(rng: &mut fastrand::Rng) -> Option<AnyValue> {
    const KEYS: [&str; 5] = ["status", "a", "msg", "lat", "other"];
    let members = |rng: &mut fastrand::Rng| -> Vec<(&'static str, usize)> {
        (0..rng.usize(0..6))
            .map(|i| (KEYS[rng.usize(..KEYS.len())], i))
            .collect()
    };
    match rng.u8(0..6) {
        0 => None,
        1 => Some("not json: status=503".into_any_value()),
        2 => Some(12_i64.into_any_value()),
        3 => {
            let values = members(rng)
                .into_iter()
                .map(|(k, _)| KeyValue {
                    key: k.to_string(),
                    value: any_value(rng),
                    ..Default::default()
                })
                .collect();
            Some(Value::KvlistValue(KeyValueList { values }).into_any_value())
        }
        _ => {
            let text: Vec<String> = members(rng)
                .into_iter()
                .map(|(k, _)| format!("\"{k}\":{}", json_value(rng)))
                .collect();
            let mut text = format!("{{{}}}", text.join(","));
            if rng.u8(0..10) == 0 {
                text.pop();
            }
            Some(text.into_any_value())
        }
    }
}

fn record(rng: &mut fastrand::Rng) -> LogRecord {
    let attributes = match any_value(rng) {
        Some(value) => vec![KeyValue {
            key: "k".into(),
            value: Some(value),
            ..Default::default()
        }],
        None => Vec::new(),
    };
    LogRecord {
        severity_number: rng.i32(0..25),
        severity_text: ["ERROR", "INFO", "", "503"][rng.usize(..4)].into(),
        attributes,
        body: body(rng),
        ..Default::default()
    }
}

/// Random conditions on random records, bound to body paths that hold theirs among others
/// (and to paths that lack them), evaluate as the reference does, live and captured.
#[test]
fn bound_conditions_and_fields_equal_the_reference() {
    let mut rng = fastrand::Rng::with_seed(23);
    let mut conditions = Vec::new();
    while conditions.len() < 300 {
        let text = condition(&mut rng, 0);
        if let Ok(c) = Condition::parse(&text, ConditionTarget::Log) {
            conditions.push(c);
        }
    }
    let fields: Vec<AttrRef> = PATHS[2..]
        .iter()
        .map(|p| parse_attribute(p).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect();
    let mut all = fields.clone();
    for c in &conditions {
        all.extend(c.attributes());
    }
    // Paths besides those read, so that slots are not in reading order.
    all.push(AttrRef::Body(vec!["0".into()]));
    all.push(AttrRef::Body(vec!["status".into(), "z".into()]));
    let resource = resource(vec![kv("r", "503")]);
    let (mut held, mut total) = (0, 0);
    for paths in [BodyPaths::of(&all), BodyPaths::default()] {
        let bound: Vec<LogCondition> = conditions.iter().map(|c| c.bind_log(&paths)).collect();
        let bound_fields: Vec<LogFieldRef> = fields
            .iter()
            .map(|f| LogFieldRef::bind(f, &paths))
            .collect();
        for _ in 0..300 {
            let record = record(&mut rng);
            let fields_read = BodyFields::read(record.body.as_ref(), &paths);
            // The same record read back from a capture: its values and attributes.
            let captured = BodyFields::captured(
                (0..paths.len())
                    .map(|i| fields_read.value(i).clone())
                    .collect(),
                fields
                    .iter()
                    .filter(|f| !matches!(f, AttrRef::Body(_)))
                    .map(|f| {
                        let v =
                            log_field(f, &record, resource.as_ref(), &paths, fields_read.view());
                        let v = match v {
                            ast::Val::Nil => BodyValue::Nil,
                            ast::Val::Int(i) => BodyValue::Int(i),
                            ast::Val::Str(s) => BodyValue::Str(s.to_string().into()),
                            other => {
                                let mut text = String::new();
                                render(other, &mut text);
                                BodyValue::Rendered(text)
                            }
                        };
                        (f.clone(), v)
                    })
                    .collect(),
            );
            let bare = LogRecord {
                severity_number: record.severity_number,
                severity_text: record.severity_text.clone(),
                ..Default::default()
            };
            for (rec, res, view) in [
                (&record, resource.as_ref(), fields_read.view()),
                (&bare, None, captured.view()),
            ] {
                for (c, b) in conditions.iter().zip(&bound) {
                    let want = c.eval_log(rec, res, &paths, view);
                    assert_eq!(b.eval(rec, res, view), want, "{}: {rec:?}", c.text());
                    held += usize::from(want);
                    total += 1;
                }
                for (f, b) in fields.iter().zip(&bound_fields) {
                    for per_unit in [1.0, 1e6] {
                        let want = log_latency(f, per_unit, rec, res, &paths, view);
                        assert_eq!(b.latency(per_unit, rec, res, view), want, "{f}");
                    }
                    let mut want = String::new();
                    render(log_field(f, rec, res, &paths, view), &mut want);
                    assert_eq!(b.string(rec, res, view), want, "{f}");
                }
            }
        }
    }
    // Both outcomes, often.
    assert!(
        held > total / 10 && held < total * 9 / 10,
        "{held} of {total}"
    );
}
