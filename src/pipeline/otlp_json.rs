//! OTLP/JSON encoding shared by every stage that writes JSON (HTTP responses, the file
//! exporter). The generated serde support writes absent message fields as `null` and the
//! partial-success counts (int64) as numbers; the OTLP/JSON mapping, like the collector,
//! leaves absent fields out and writes 64-bit integers as decimal strings.

use serde::Serialize;
use serde_json::Value;

/// int64 fields the generated serde support writes as JSON numbers.
const INT64_AS_NUMBER: [&str; 3] = ["rejectedSpans", "rejectedDataPoints", "rejectedLogRecords"];

/// Encodes an OTLP message as OTLP/JSON.
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut value = serde_json::to_value(msg)?;
    normalize(&mut value);
    serde_json::to_vec(&value)
}

fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            for (key, v) in map.iter_mut() {
                if let Value::Number(n) = v
                    && INT64_AS_NUMBER.contains(&key.as_str())
                {
                    *v = Value::String(n.to_string());
                } else {
                    normalize(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
    };
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    use super::*;

    #[test]
    fn absent_fields_are_left_out_and_the_rest_round_trips() {
        let resp = encode(&ExportTraceServiceResponse::default()).unwrap();
        assert_eq!(resp, b"{}");
        let partial = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 3,
                error_message: "bad ids".into(),
            }),
        };
        assert_eq!(
            String::from_utf8(encode(&partial).unwrap()).unwrap(),
            r#"{"partialSuccess":{"errorMessage":"bad ids","rejectedSpans":"3"}}"#
        );
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        name: "GET /".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let json = encode(&req).unwrap();
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(!text.contains("null"), "{text}");
        assert!(
            text.contains("\"traceId\":\"01010101010101010101010101010101\""),
            "{text}"
        );
        let back: ExportTraceServiceRequest = serde_json::from_slice(&json).unwrap();
        assert_eq!(back, req);
    }
}
