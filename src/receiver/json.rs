//! Lenient OTLP/JSON reading.
//!
//! The OTLP/JSON mapping uses lowerCamelCase keys, hex trace and span ids, enums as
//! integers and 64-bit integers as strings. Like the collector, slotel also reads
//! snake_case keys, enum names (`SPAN_KIND_SERVER`) and 64-bit integers given as numbers.
//! The body is parsed into a `serde_json::Value` (whose parser bounds nesting depth), the
//! keys and enum names are normalised in place, and the result is deserialized with the
//! opentelemetry-proto serde support.

use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use serde_json::{Map, Value};

/// Decodes an OTLP/JSON body into `T`.
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let mut value: Value =
        serde_json::from_slice(body).map_err(|e| format!("cannot decode json: {e}"))?;
    if !value.is_object() {
        return Err("cannot decode json: the body must be a JSON object".to_string());
    }
    normalize(&mut value)?;
    serde_json::from_value(value).map_err(|e| format!("cannot decode json: {e}"))
}

/// `snake_case` → `lowerCamelCase`; keys already in camel case are unchanged.
fn camel(key: &str) -> Option<String> {
    if !key.contains('_') {
        return None;
    }
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for ch in key.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    Some(out)
}

fn enum_value(key: &str, name: &str) -> Option<i32> {
    match key {
        "kind" => SpanKind::from_str_name(name).map(|v| v as i32),
        "code" => StatusCode::from_str_name(name).map(|v| v as i32),
        "severityNumber" => SeverityNumber::from_str_name(name).map(|v| v as i32),
        "aggregationTemporality" => AggregationTemporality::from_str_name(name).map(|v| v as i32),
        _ => None,
    }
}

fn normalize(value: &mut Value) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            let entries = std::mem::take(map);
            let mut out = Map::with_capacity(entries.len());
            for (key, mut v) in entries {
                let key = camel(&key).unwrap_or(key);
                if let Value::String(s) = &v {
                    if let Some(n) = enum_value(&key, s) {
                        v = Value::from(n);
                    } else if matches!(
                        key.as_str(),
                        "kind" | "severityNumber" | "aggregationTemporality"
                    ) {
                        return Err(format!("cannot decode json: unknown {key} {s:?}"));
                    }
                }
                normalize(&mut v)?;
                out.insert(key, v);
            }
            *map = out;
        }
        Value::Array(items) => {
            for v in items {
                normalize(v)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

    use super::*;

    #[test]
    fn reads_the_canonical_mapping() {
        let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
          "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
          "name":"GET /pay","kind":2,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000",
          "attributes":[{"key":"http.response.status_code","value":{"intValue":"500"}}],"status":{"code":2}}]}]}]}"#;
        let req: ExportTraceServiceRequest = decode(body).unwrap();
        let span = &req.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.trace_id.len(), 16);
        assert_eq!(span.span_id.len(), 8);
        assert_eq!(span.kind, 2);
        assert_eq!(span.end_time_unix_nano, 1544712661000000000);
        assert_eq!(span.status.as_ref().unwrap().code, 2);
    }

    #[test]
    fn reads_snake_case_enum_names_and_numbers() {
        let body = br#"{"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"5b8efff798038103d269b633813fc60c",
          "span_id":"eee19b7ec3c1b174","name":"x","kind":"SPAN_KIND_SERVER","start_time_unix_nano":1544712660000000000,
          "end_time_unix_nano":1544712661000000000,"status":{"code":"STATUS_CODE_ERROR"},
          "attributes":[{"key":"n","value":{"int_value":7}}]}]}]}]}"#;
        let req: ExportTraceServiceRequest = decode(body).unwrap();
        let span = &req.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.kind, SpanKind::Server as i32);
        assert_eq!(span.status.as_ref().unwrap().code, StatusCode::Error as i32);
        assert_eq!(span.start_time_unix_nano, 1544712660000000000);
        assert_eq!(span.attributes.len(), 1);
    }

    #[test]
    fn reads_log_severity_names() {
        let body = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"SEVERITY_NUMBER_WARN",
          "body":{"stringValue":"{\"a\":1}"}}]}]}]}"#;
        let req: ExportLogsServiceRequest = decode(body).unwrap();
        assert_eq!(
            req.resource_logs[0].scope_logs[0].log_records[0].severity_number,
            SeverityNumber::Warn as i32
        );
    }

    #[test]
    fn refuses_bad_input_with_a_message() {
        for body in [
            &b"{"[..],
            b"[]",
            b"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"zz\"}]}]}]}",
            b"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":\"SPAN_KIND_NOPE\"}]}]}]}",
            b"{\"resourceSpans\":\"\xff\xfe\"}",
        ] {
            let err = decode::<ExportTraceServiceRequest>(body).unwrap_err();
            assert!(err.starts_with("cannot decode json"), "{err}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let mut body = String::from(r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":"#);
        for _ in 0..10_000 {
            body.push_str(r#"{"arrayValue":{"values":["#);
        }
        let err = decode::<ExportLogsServiceRequest>(body.as_bytes()).unwrap_err();
        assert!(err.contains("recursion limit"), "{err}");
    }
}
