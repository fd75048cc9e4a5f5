//! OTLP/JSON as the specifications write it, case by case, through the real HTTP endpoint.
//!
//! Sources: the OTLP specification, "JSON Protobuf Encoding" (OTLP/HTTP): the proto3 JSON
//! mapping, except that `traceId` and `spanId` are case-insensitive hex strings (not
//! base64), enum values are written as integers, keys are lowerCamelCase, and receivers
//! MUST ignore fields with unknown names; 64-bit integers are decimal strings, and numbers
//! or strings are accepted when decoding. protobuf.dev, "ProtoJSON Format": parsers accept
//! lowerCamelCase and the original field names; `null` is accepted for every field and is
//! its default (an empty list for a repeated field, unset for a oneof member); enums are
//! read by name or number; 32- and 64-bit integers as numbers or strings, exponent notation
//! accepted, empty strings invalid; doubles as numbers or strings, with "NaN", "Infinity"
//! and "-Infinity"; bytes as standard or URL-safe base64, padded or not. The conformance
//! suite recommends refusing a field given twice (also in two casings) and requires
//! refusing two members of one oneof, out-of-range numbers and values of the wrong type.
//!
//! Each accepted case is sent beside a twin written in the canonical form; both must reach
//! the exporter as the same data. Every case runs, and the failures are listed together.

mod common;

use common::*;

const TRACE: &str = "5b8efff798038103d269b633813fc60c";
const SPAN: &str = "eee19b7ec3c1b174";

/// What the receiver must do with a case.
enum Want {
    /// 200, and the data exported equals that of the body with this canonical fragment.
    Same(&'static str),
    /// 200 and the item exported; its value is not compared (the file exporter writes JSON,
    /// which has no NaN or Infinity number).
    Kept,
    /// 400 whose message contains each of these.
    Refused(&'static [&'static str]),
    /// 200 with a partial success rejecting this many items.
    Partial(u64),
}

/// Where a case's fragment goes.
#[derive(Clone, Copy)]
enum At {
    /// The value of a span attribute `a`.
    Attr,
    /// Fields of a span (after its ids and name).
    Span,
    /// Fields of a span, its ids included (a fragment with `traceId` and `spanId`).
    SpanIds,
    /// Fields of the trace resource (`{...}`).
    Resource,
    /// Fields of the trace scope.
    Scope,
    /// Fields of a log record.
    Log,
    /// The value of a metric point's attribute `a`.
    PointAttr,
    /// The whole trace request body.
    Body,
}

use At::*;
use Want::*;

const CASES: &[(&str, At, &str, Want)] = &[
    // AnyValue: every member, its number forms, null members, unknown members.
    (
        "string",
        Attr,
        r#"{"stringValue":"a"}"#,
        Same(r#"{"stringValue":"a"}"#),
    ),
    (
        "bool",
        Attr,
        r#"{"boolValue":true}"#,
        Same(r#"{"boolValue":true}"#),
    ),
    (
        "int64 string",
        Attr,
        r#"{"intValue":"42"}"#,
        Same(r#"{"intValue":"42"}"#),
    ),
    (
        "int64 number",
        Attr,
        r#"{"intValue":42}"#,
        Same(r#"{"intValue":"42"}"#),
    ),
    (
        "int64 min",
        Attr,
        r#"{"intValue":"-9223372036854775808"}"#,
        Same(r#"{"intValue":"-9223372036854775808"}"#),
    ),
    (
        "int64 exponent string",
        Attr,
        r#"{"intValue":"1e3"}"#,
        Same(r#"{"intValue":"1000"}"#),
    ),
    (
        "int64 exponent number",
        Attr,
        r#"{"intValue":1e3}"#,
        Same(r#"{"intValue":"1000"}"#),
    ),
    (
        "int64 out of range",
        Attr,
        r#"{"intValue":"9223372036854775808"}"#,
        Refused(&["intValue", "out of range"]),
    ),
    (
        "int64 fraction",
        Attr,
        r#"{"intValue":1.5}"#,
        Refused(&["intValue"]),
    ),
    (
        "int64 not a number",
        Attr,
        r#"{"intValue":"abc"}"#,
        Refused(&["intValue"]),
    ),
    (
        "int64 empty string",
        Attr,
        r#"{"intValue":""}"#,
        Refused(&["intValue"]),
    ),
    (
        "int64 bool",
        Attr,
        r#"{"intValue":true}"#,
        Refused(&["intValue"]),
    ),
    (
        "double number",
        Attr,
        r#"{"doubleValue":1.5}"#,
        Same(r#"{"doubleValue":1.5}"#),
    ),
    (
        "double string",
        Attr,
        r#"{"doubleValue":"1.5"}"#,
        Same(r#"{"doubleValue":1.5}"#),
    ),
    (
        "double exponent string",
        Attr,
        r#"{"doubleValue":"-2.5e3"}"#,
        Same(r#"{"doubleValue":-2500}"#),
    ),
    (
        "double integer",
        Attr,
        r#"{"doubleValue":3}"#,
        Same(r#"{"doubleValue":3.0}"#),
    ),
    ("double NaN", Attr, r#"{"doubleValue":"NaN"}"#, Kept),
    (
        "double Infinity",
        Attr,
        r#"{"doubleValue":"Infinity"}"#,
        Kept,
    ),
    (
        "double -Infinity",
        Attr,
        r#"{"doubleValue":"-Infinity"}"#,
        Kept,
    ),
    (
        "double lowercase nan",
        Attr,
        r#"{"doubleValue":"nan"}"#,
        Refused(&["doubleValue"]),
    ),
    (
        "double empty string",
        Attr,
        r#"{"doubleValue":""}"#,
        Refused(&["doubleValue"]),
    ),
    (
        "double bool",
        Attr,
        r#"{"doubleValue":true}"#,
        Refused(&["doubleValue"]),
    ),
    (
        "double too large",
        Attr,
        r#"{"doubleValue":"1e999"}"#,
        Refused(&["doubleValue"]),
    ),
    (
        "bytes padded",
        Attr,
        r#"{"bytesValue":"aGVsbG8="}"#,
        Same(r#"{"bytesValue":"aGVsbG8="}"#),
    ),
    (
        "bytes unpadded",
        Attr,
        r#"{"bytesValue":"aGVsbG8"}"#,
        Same(r#"{"bytesValue":"aGVsbG8="}"#),
    ),
    (
        "bytes url-safe",
        Attr,
        r#"{"bytesValue":"-_8"}"#,
        Same(r#"{"bytesValue":"+/8="}"#),
    ),
    (
        "bytes url-safe padded",
        Attr,
        r#"{"bytesValue":"-_8="}"#,
        Same(r#"{"bytesValue":"+/8="}"#),
    ),
    (
        "bytes not base64",
        Attr,
        r#"{"bytesValue":"!!"}"#,
        Refused(&["bytesValue"]),
    ),
    (
        "array",
        Attr,
        r#"{"arrayValue":{"values":[{"intValue":"1"},{"stringValue":"x"}]}}"#,
        Same(r#"{"arrayValue":{"values":[{"intValue":"1"},{"stringValue":"x"}]}}"#),
    ),
    (
        "array of string doubles",
        Attr,
        r#"{"arrayValue":{"values":[{"doubleValue":"0.5"},{"doubleValue":"2"}]}}"#,
        Same(r#"{"arrayValue":{"values":[{"doubleValue":0.5},{"doubleValue":2.0}]}}"#),
    ),
    (
        "array values null",
        Attr,
        r#"{"arrayValue":{"values":null}}"#,
        Same(r#"{"arrayValue":{}}"#),
    ),
    (
        "array null element",
        Attr,
        r#"{"arrayValue":{"values":[null]}}"#,
        Refused(&["arrayValue"]),
    ),
    (
        "array bad element",
        Attr,
        r#"{"arrayValue":{"values":[{"intValue":"1"},{"doubleValue":"x"}]}}"#,
        Refused(&["arrayValue", "doubleValue"]),
    ),
    (
        "kvlist",
        Attr,
        r#"{"kvlistValue":{"values":[{"key":"a","value":{"boolValue":false}}]}}"#,
        Same(r#"{"kvlistValue":{"values":[{"key":"a","value":{"boolValue":false}}]}}"#),
    ),
    (
        "kvlist string double",
        Attr,
        r#"{"kvlistValue":{"values":[{"key":"a","value":{"doubleValue":"Infinity"}},{"key":"b","value":{"doubleValue":"7"}}]}}"#,
        Kept,
    ),
    (
        "kvlist bad value",
        Attr,
        r#"{"kvlistValue":{"values":[{"key":"a","value":{"intValue":"x"}}]}}"#,
        Refused(&["kvlistValue", "intValue"]),
    ),
    ("empty value", Attr, "{}", Same("{}")),
    (
        "oneof null first",
        Attr,
        r#"{"stringValue":null,"intValue":"5"}"#,
        Same(r#"{"intValue":"5"}"#),
    ),
    (
        "oneof null second",
        Attr,
        r#"{"intValue":"5","stringValue":null}"#,
        Same(r#"{"intValue":"5"}"#),
    ),
    (
        "oneof two members",
        Attr,
        r#"{"stringValue":"a","intValue":"5"}"#,
        Refused(&["stringValue", "intValue"]),
    ),
    (
        "oneof member twice",
        Attr,
        r#"{"stringValue":"a","stringValue":"b"}"#,
        Refused(&["stringValue"]),
    ),
    (
        "unknown member",
        Attr,
        r#"{"stringValue":"a","futureValue":{"x":[1]}}"#,
        Same(r#"{"stringValue":"a"}"#),
    ),
    (
        "original field name",
        Attr,
        r#"{"string_value":"a"}"#,
        Same(r#"{"stringValue":"a"}"#),
    ),
    ("value not an object", Attr, r#""a""#, Refused(&["value"])),
    // Span fields.
    (
        "fixed64 number",
        Span,
        r#""startTimeUnixNano":1700000000000000000"#,
        Same(r#""startTimeUnixNano":"1700000000000000000""#),
    ),
    (
        "fixed64 exponent",
        Span,
        r#""startTimeUnixNano":"1.7e18""#,
        Same(r#""startTimeUnixNano":"1700000000000000000""#),
    ),
    (
        "fixed64 max",
        Span,
        r#""endTimeUnixNano":"18446744073709551615""#,
        Same(r#""endTimeUnixNano":"18446744073709551615""#),
    ),
    (
        "fixed64 negative",
        Span,
        r#""startTimeUnixNano":"-1""#,
        Refused(&["startTimeUnixNano"]),
    ),
    (
        "fixed64 too large",
        Span,
        r#""startTimeUnixNano":"18446744073709551616""#,
        Refused(&["startTimeUnixNano", "out of range"]),
    ),
    (
        "fixed64 empty string",
        Span,
        r#""startTimeUnixNano":"""#,
        Refused(&["startTimeUnixNano"]),
    ),
    (
        "fixed64 null",
        Span,
        r#""startTimeUnixNano":null"#,
        Same(""),
    ),
    (
        "original field names",
        Span,
        r#""end_time_unix_nano":"5","dropped_attributes_count":2"#,
        Same(r#""endTimeUnixNano":"5","droppedAttributesCount":2"#),
    ),
    ("enum number", Span, r#""kind":3"#, Same(r#""kind":3"#)),
    (
        "enum name",
        Span,
        r#""kind":"SPAN_KIND_CLIENT""#,
        Same(r#""kind":3"#),
    ),
    (
        "enum unknown name",
        Span,
        r#""kind":"SPAN_KIND_NOPE""#,
        Refused(&["kind"]),
    ),
    (
        "uint32 string",
        Span,
        r#""droppedAttributesCount":"4""#,
        Same(r#""droppedAttributesCount":4"#),
    ),
    (
        "uint32 negative",
        Span,
        r#""droppedAttributesCount":-1"#,
        Refused(&["droppedAttributesCount"]),
    ),
    (
        "uint32 too large",
        Span,
        r#""droppedAttributesCount":4294967296"#,
        Refused(&["droppedAttributesCount", "out of range"]),
    ),
    (
        "fixed32 string",
        Span,
        r#""flags":"257""#,
        Same(r#""flags":257"#),
    ),
    ("string null", Span, r#""traceState":null"#, Same("")),
    (
        "repeated null",
        Span,
        r#""attributes":null,"events":null,"links":null"#,
        Same(""),
    ),
    ("message null", Span, r#""status":null"#, Same("")),
    (
        "attribute value null",
        Span,
        r#""attributes":[{"key":"k","value":null}]"#,
        Same(r#""attributes":[{"key":"k"}]"#),
    ),
    (
        "status enum name",
        Span,
        r#""status":{"code":"STATUS_CODE_ERROR","message":"x"}"#,
        Same(r#""status":{"code":2,"message":"x"}"#),
    ),
    (
        "hex id uppercase",
        Span,
        r#""parentSpanId":"EEE19B7EC3C1B173""#,
        Same(r#""parentSpanId":"eee19b7ec3c1b173""#),
    ),
    (
        "hex id odd length",
        Span,
        r#""parentSpanId":"eee19b7ec3c1b17""#,
        Refused(&["parentSpanId"]),
    ),
    (
        "id in base64",
        Span,
        r#""parentSpanId":"7uGbfsPBsXM=""#,
        Refused(&["parentSpanId"]),
    ),
    (
        "event with string double",
        Span,
        r#""events":[{"timeUnixNano":"5","name":"e","attributes":[{"key":"d","value":{"doubleValue":"2.5"}}]}]"#,
        Same(
            r#""events":[{"timeUnixNano":"5","name":"e","attributes":[{"key":"d","value":{"doubleValue":2.5}}]}]"#,
        ),
    ),
    (
        "event bad attribute",
        Span,
        r#""events":[{"name":"e","attributes":[{"key":"d","value":{"doubleValue":"x"}}]}]"#,
        Refused(&["events", "doubleValue"]),
    ),
    (
        "link with unpadded bytes",
        Span,
        r#""links":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b175","flags":"1","attributes":[{"key":"b","value":{"bytesValue":"AQI"}}]}]"#,
        Same(
            r#""links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","flags":1,"attributes":[{"key":"b","value":{"bytesValue":"AQI="}}]}]"#,
        ),
    ),
    (
        "link bad id",
        Span,
        r#""links":[{"traceId":"xyz","spanId":"eee19b7ec3c1b175"}]"#,
        Refused(&["links", "traceId"]),
    ),
    (
        "unknown span field",
        Span,
        r#""futureField":{"a":[1,"b",null]}"#,
        Same(""),
    ),
    (
        "field twice",
        Span,
        r#""kind":2,"kind":3"#,
        Refused(&["kind"]),
    ),
    (
        "field twice in two casings",
        Span,
        r#""startTimeUnixNano":"1","start_time_unix_nano":"1""#,
        Refused(&["startTimeUnixNano"]),
    ),
    (
        "bad attribute names its field",
        Span,
        r#""attributes":[{"key":"ok","value":{"intValue":"1"}},{"key":"d","value":{"doubleValue":"abc"}}]"#,
        Refused(&["attributes[1]", "doubleValue", "abc"]),
    ),
    (
        "bool as string",
        Span,
        r#""attributes":[{"key":"b","value":{"boolValue":"true"}}]"#,
        Refused(&["boolValue"]),
    ),
    // Ids: a wrong length is the span's fault (partial success), not the request's.
    (
        "trace id 15 bytes",
        SpanIds,
        r#""traceId":"5b8efff798038103d269b633813fc6","spanId":"eee19b7ec3c1b174""#,
        Partial(1),
    ),
    (
        "trace id empty",
        SpanIds,
        r#""traceId":"","spanId":"eee19b7ec3c1b174""#,
        Partial(1),
    ),
    (
        "trace id not hex",
        SpanIds,
        r#""traceId":"zz8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174""#,
        Refused(&["traceId"]),
    ),
    // Resource and scope.
    (
        "resource values",
        Resource,
        r#""attributes":[{"key":"r","value":{"doubleValue":"0.5"}}],"droppedAttributesCount":"2""#,
        Same(
            r#""attributes":[{"key":"r","value":{"doubleValue":0.5}}],"droppedAttributesCount":2"#,
        ),
    ),
    (
        "resource bad value",
        Resource,
        r#""attributes":[{"key":"r","value":{"intValue":"0.5"}}]"#,
        Refused(&["resource", "intValue"]),
    ),
    (
        "scope nulls",
        Scope,
        r#""name":"s","version":null,"attributes":null"#,
        Same(r#""name":"s""#),
    ),
    (
        "scope string int",
        Scope,
        r#""name":"s","attributes":[{"key":"n","value":{"intValue":"7"}}],"droppedAttributesCount":"1""#,
        Same(
            r#""name":"s","attributes":[{"key":"n","value":{"intValue":"7"}}],"droppedAttributesCount":1"#,
        ),
    ),
    // Logs.
    (
        "log body string double",
        Log,
        r#""body":{"doubleValue":"1.5"}"#,
        Same(r#""body":{"doubleValue":1.5}"#),
    ),
    (
        "log body kvlist",
        Log,
        r#""body":{"kvlistValue":{"values":[{"key":"user","value":{"stringValue":"x"}}]}}"#,
        Same(r#""body":{"kvlistValue":{"values":[{"key":"user","value":{"stringValue":"x"}}]}}"#),
    ),
    ("log body null", Log, r#""body":null"#, Same("")),
    (
        "log severity name",
        Log,
        r#""severityNumber":"SEVERITY_NUMBER_WARN","severityText":"WARN""#,
        Same(r#""severityNumber":13,"severityText":"WARN""#),
    ),
    (
        "log times as numbers",
        Log,
        r#""timeUnixNano":1700000000000000000,"observedTimeUnixNano":"1e18""#,
        Same(
            r#""timeUnixNano":"1700000000000000000","observedTimeUnixNano":"1000000000000000000""#,
        ),
    ),
    (
        "log ids uppercase",
        Log,
        r#""traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174""#,
        Same(r#""traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174""#),
    ),
    (
        "log body bad int",
        Log,
        r#""body":{"intValue":"x"}"#,
        Refused(&["body", "intValue"]),
    ),
    (
        "log flags negative",
        Log,
        r#""flags":-1"#,
        Refused(&["flags"]),
    ),
    // Metrics: attributes through the same reader.
    (
        "point attribute string double",
        PointAttr,
        r#"{"doubleValue":"1.5"}"#,
        Same(r#"{"doubleValue":1.5}"#),
    ),
    (
        "point attribute bad bytes",
        PointAttr,
        r#"{"bytesValue":"@"}"#,
        Refused(&["bytesValue"]),
    ),
    // Whole bodies.
    (
        "top-level null list",
        Body,
        r#"{"resourceSpans":null}"#,
        Same(""),
    ),
    (
        "top-level unknown field",
        Body,
        r#"{"resourceSpans":[],"futureSignal":[{"x":1}]}"#,
        Same(""),
    ),
    (
        "top-level field twice",
        Body,
        r#"{"resourceSpans":[],"resourceSpans":[]}"#,
        Refused(&["resourceSpans"]),
    ),
    ("not an object", Body, "[]", Refused(&["object"])),
];

/// The request body for a fragment at `at`, its item tagged `tag` (a span or metric
/// name, a log record's event name).
fn body(at: At, tag: &str, fragment: &str) -> (&'static str, String) {
    let span = |fields: &str| {
        format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"{TRACE}","spanId":"{SPAN}","name":"{tag}"{fields}}}]}}]}}]}}"#
        )
    };
    let sep = |f: &str| {
        if f.is_empty() {
            String::new()
        } else {
            format!(",{f}")
        }
    };
    match at {
        Attr => (
            "traces",
            span(&format!(
                r#","attributes":[{{"key":"a","value":{fragment}}}]"#
            )),
        ),
        Span => ("traces", span(&sep(fragment))),
        SpanIds => (
            "traces",
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"name":"{tag}",{fragment}}}]}}]}}]}}"#
            ),
        ),
        Resource => (
            "traces",
            format!(
                r#"{{"resourceSpans":[{{"resource":{{{fragment}}},"scopeSpans":[{{"spans":[{{"traceId":"{TRACE}","spanId":"{SPAN}","name":"{tag}"}}]}}]}}]}}"#
            ),
        ),
        Scope => (
            "traces",
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"scope":{{{fragment}}},"spans":[{{"traceId":"{TRACE}","spanId":"{SPAN}","name":"{tag}"}}]}}]}}]}}"#
            ),
        ),
        Log => (
            "logs",
            format!(
                r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"eventName":"{tag}"{}}}]}}]}}]}}"#,
                sep(fragment)
            ),
        ),
        PointAttr => (
            "metrics",
            format!(
                r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{{"name":"{tag}","gauge":{{"dataPoints":[{{"asInt":"1","timeUnixNano":"1700000000000000000","attributes":[{{"key":"a","value":{fragment}}}]}}]}}}}]}}]}}]}}"#
            ),
        ),
        Body => ("traces", fragment.to_string()),
    }
}

/// The exported resource-level objects (`resourceSpans` …) of every line written.
fn exported(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .flat_map(|v| {
            ["resourceSpans", "resourceLogs", "resourceMetrics"]
                .into_iter()
                .filter_map(|k| v[k].as_array().cloned())
                .flatten()
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The exported resource-level object holding the item tagged `tag`, with the tag blanked.
fn find(all: &[serde_json::Value], tag: &str) -> Option<String> {
    let quoted = format!("\"{tag}\"");
    all.iter()
        .map(|v| v.to_string())
        .find(|s| s.contains(&quoted))
        .map(|s| s.replace(&quoted, "\"\""))
}

#[tokio::test]
async fn otlp_json_as_the_specifications_write_it() {
    let s = start().await;
    let json = ("content-type", "application/json");
    let mut failures = Vec::new();
    // Cases whose exported data is compared once the exporter has flushed.
    let mut compare = Vec::new();
    let mut kept = Vec::new();
    for (i, (name, at, fragment, want)) in CASES.iter().enumerate() {
        let tag = format!("case{i}");
        let (signal, text) = body(*at, &tag, fragment);
        let url = format!("http://{}/v1/{signal}", s.http);
        let r = http_send("POST", &url, &[json], text.clone()).await;
        let answer = String::from_utf8_lossy(&r.body).into_owned();
        match want {
            Same(canonical) => {
                if r.status != 200 || answer != "{}" {
                    failures.push(format!("{name}: want 200 {{}}, got {} {answer}", r.status));
                    continue;
                }
                if matches!(at, Body) {
                    continue;
                }
                let twin = format!("twin{i}");
                let (_, twin_text) = body(*at, &twin, canonical);
                let r = http_send("POST", &url, &[json], twin_text).await;
                assert_eq!(r.status, 200, "{name}: the canonical twin is refused");
                compare.push((*name, tag, twin));
            }
            Kept => {
                if r.status != 200 || answer != "{}" {
                    failures.push(format!("{name}: want 200 {{}}, got {} {answer}", r.status));
                } else {
                    kept.push((*name, tag));
                }
            }
            Refused(parts) => {
                let missing: Vec<_> = parts.iter().filter(|p| !answer.contains(**p)).collect();
                if r.status != 400 || !missing.is_empty() {
                    failures.push(format!(
                        "{name}: want 400 naming {parts:?}, got {} {answer}",
                        r.status
                    ));
                }
            }
            Partial(n) => {
                let resp: serde_json::Value =
                    serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null);
                let got = &resp["partialSuccess"]["rejectedSpans"];
                if r.status != 200 || *got != serde_json::json!(n.to_string()) {
                    failures.push(format!(
                        "{name}: want 200 rejecting {n}, got {} {answer}",
                        r.status
                    ));
                }
            }
        }
    }
    let out = s.out.clone().unwrap();
    s.running.shutdown().await.unwrap();
    let all = exported(&std::fs::read_to_string(&out).unwrap_or_default());
    for (name, tag, twin) in compare {
        let got = find(&all, &tag);
        let want = find(&all, &twin);
        if got.is_none() || got != want {
            failures.push(format!(
                "{name}: exported {}\n    the canonical form {}",
                got.unwrap_or_else(|| "nothing".into()),
                want.unwrap_or_else(|| "nothing".into())
            ));
        }
    }
    for (name, tag) in kept {
        if find(&all, &tag).is_none() {
            failures.push(format!("{name}: accepted but not exported"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
