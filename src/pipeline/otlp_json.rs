//! OTLP/JSON encoding shared by every stage that writes JSON (HTTP responses, the file
//! exporter). The generated serde support writes absent message fields as `null`; the
//! OTLP/JSON mapping, like the collector, leaves them out.

use serde::Serialize;
use serde_json::Value;

/// Encodes an OTLP message as OTLP/JSON without `null` fields.
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut value = serde_json::to_value(msg)?;
    prune_nulls(&mut value);
    serde_json::to_vec(&value)
}

fn prune_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(prune_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    };
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    use super::*;

    #[test]
    fn absent_fields_are_left_out_and_the_rest_round_trips() {
        let resp = encode(&ExportTraceServiceResponse::default()).unwrap();
        assert_eq!(resp, b"{}");
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
