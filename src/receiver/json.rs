//! Lenient OTLP/JSON reading.
//!
//! The OTLP/JSON mapping uses lowerCamelCase keys, hex trace and span ids, enums as
//! integers and 64-bit integers as strings. Like the collector, slotel also reads
//! snake_case keys, enum names (`SPAN_KIND_SERVER`) and 64-bit integers given as numbers.
//!
//! One pass over the bytes finds the keys to camel-case and the enum names to number (every
//! object key in OTLP/JSON is a field name: attributes are `{"key", "value"}` pairs); only
//! when there is one is a rewritten copy made. The text is then deserialized straight into
//! the request's mirror types (`json_traces.rs`, `json_logs.rs`, `json_metrics.rs`, with the
//! shapes they share in `json_common.rs`) — no JSON tree in between, so
//! decoding costs about what the decoded request holds (the receiver's decode bound,
//! [`super::wire::json_cost`], is checked against it by `tests/decode_cost.rs`). Nesting is
//! limited to serde_json's 128 levels in both passes.

use std::borrow::Cow;

use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;

/// serde_json's own nesting limit, which the rewriting pass keeps too.
const MAX_DEPTH: usize = 128;

/// Why an OTLP/JSON body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("cannot decode json: the body must be a JSON object")]
    NotObject,
    /// An enum field (`kind`, `severityNumber`…) with a name the specification does not have.
    #[error("cannot decode json: unknown {field} {name:?}")]
    UnknownEnum { field: &'static str, name: String },
    #[error("cannot decode json: recursion limit exceeded")]
    TooDeep,
    #[error("cannot decode json: EOF while parsing a string")]
    UnterminatedString,
    /// A value that is not what its field holds, with the path of the field.
    #[error("cannot decode json: at {path}: {source}")]
    Field {
        path: String,
        source: serde_json::Error,
    },
    #[error("cannot decode json: {0}")]
    Invalid(#[from] serde_json::Error),
}

/// The longest field path an error reports (a path of deep nesting is cut).
const MAX_PATH: usize = 512;

/// Decodes an OTLP/JSON body into `T`.
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, JsonError> {
    let text = normalize(body)?;
    if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(JsonError::NotObject);
    }
    match serde_json::from_slice(&text) {
        Ok(v) => Ok(v),
        // Only an error is decoded a second time, tracking the path to the failing field:
        // the path costs an allocation per key, too much for every request.
        Err(e) if e.is_data() => Err(field_error::<T>(&text).unwrap_or(JsonError::Invalid(e))),
        Err(e) => Err(JsonError::Invalid(e)),
    }
}

/// The error of decoding `text` again, with the path of the field it is in.
fn field_error<T: serde::de::DeserializeOwned>(text: &[u8]) -> Option<JsonError> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let err = serde_path_to_error::deserialize::<_, T>(&mut de).err()?;
    let mut path = err.path().to_string();
    if path.len() > MAX_PATH {
        let mut cut = MAX_PATH;
        while !path.is_char_boundary(cut) {
            cut -= 1;
        }
        path.truncate(cut);
        path.push('…');
    }
    Some(JsonError::Field {
        path,
        source: err.into_inner(),
    })
}

/// `snake_case` → `lowerCamelCase`; `None` when the key has no `_`.
fn camel(key: &[u8]) -> Option<Vec<u8>> {
    if !key.contains(&b'_') {
        return None;
    }
    let mut out = Vec::with_capacity(key.len());
    let mut upper = false;
    for &ch in key {
        if ch == b'_' {
            upper = true;
        } else if upper {
            out.push(ch.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    Some(out)
}

/// The fields whose values may be enum names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EnumField {
    Kind,
    Code,
    Severity,
    Temporality,
}

impl EnumField {
    fn of(key: &[u8]) -> Option<Self> {
        match key {
            b"kind" => Some(Self::Kind),
            b"code" => Some(Self::Code),
            b"severityNumber" => Some(Self::Severity),
            b"aggregationTemporality" => Some(Self::Temporality),
            _ => None,
        }
    }

    fn value(self, name: &str) -> Option<i32> {
        match self {
            Self::Kind => SpanKind::from_str_name(name).map(|v| v as i32),
            Self::Code => StatusCode::from_str_name(name).map(|v| v as i32),
            Self::Severity => SeverityNumber::from_str_name(name).map(|v| v as i32),
            Self::Temporality => AggregationTemporality::from_str_name(name).map(|v| v as i32),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Kind => "kind",
            Self::Code => "code",
            Self::Severity => "severityNumber",
            Self::Temporality => "aggregationTemporality",
        }
    }
}

/// The body with snake_case keys camel-cased and enum names replaced by their numbers;
/// borrowed when nothing needs either.
fn normalize(body: &[u8]) -> Result<Cow<'_, [u8]>, JsonError> {
    let mut out: Option<Vec<u8>> = None;
    // Bytes of `body` before this index are in `out` (once it exists).
    let mut copied = 0;
    // Per open container: true for an object.
    let mut stack: Vec<bool> = Vec::new();
    let mut expect_key = false;
    let mut field: Option<EnumField> = None;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'"' => {
                let end = string_end(body, i)?;
                let content = &body[i + 1..end];
                let replacement = if expect_key {
                    expect_key = false;
                    let camel = camel(content);
                    field = EnumField::of(camel.as_deref().unwrap_or(content));
                    camel.map(|c| {
                        let mut quoted = Vec::with_capacity(c.len() + 2);
                        quoted.push(b'"');
                        quoted.extend_from_slice(&c);
                        quoted.push(b'"');
                        quoted
                    })
                } else {
                    let f = field.take();
                    match f {
                        Some(f) => {
                            let name = std::str::from_utf8(content).unwrap_or("");
                            match f.value(name) {
                                Some(n) => Some(n.to_string().into_bytes()),
                                None if f != EnumField::Code => {
                                    return Err(JsonError::UnknownEnum {
                                        field: f.name(),
                                        name: name.to_string(),
                                    });
                                }
                                None => None,
                            }
                        }
                        None => None,
                    }
                };
                if let Some(r) = replacement {
                    let o = out.get_or_insert_with(|| Vec::with_capacity(body.len()));
                    o.extend_from_slice(&body[copied..i]);
                    o.extend_from_slice(&r);
                    copied = end + 1;
                }
                i = end + 1;
                continue;
            }
            b'{' | b'[' => {
                if stack.len() >= MAX_DEPTH {
                    return Err(JsonError::TooDeep);
                }
                stack.push(body[i] == b'{');
                expect_key = body[i] == b'{';
                field = None;
            }
            b'}' | b']' => {
                stack.pop();
                field = None;
            }
            b',' => {
                expect_key = stack.last() == Some(&true);
                field = None;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(match out {
        Some(mut o) => {
            o.extend_from_slice(&body[copied..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(body),
    })
}

/// The index of the quote that closes the string opened at `start`.
fn string_end(body: &[u8], start: usize) -> Result<usize, JsonError> {
    let mut j = start + 1;
    while j < body.len() {
        match body[j] {
            b'\\' => j += 2,
            b'"' => return Ok(j),
            _ => j += 1,
        }
    }
    Err(JsonError::UnterminatedString)
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
            assert!(err.to_string().starts_with("cannot decode json"), "{err}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let mut body = String::from(r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":"#);
        for _ in 0..10_000 {
            body.push_str(r#"{"arrayValue":{"values":["#);
        }
        let err = decode::<ExportLogsServiceRequest>(body.as_bytes()).unwrap_err();
        assert!(matches!(err, JsonError::TooDeep), "{err}");
        assert!(err.to_string().contains("recursion limit"), "{err}");
    }

    #[test]
    fn only_field_names_and_enum_fields_change() {
        // An attribute named `kind` whose value is an enum name, a string holding quotes,
        // braces and a snake_case word, and a snake_case key after a nested object.
        let body = br#"{"resource_spans":[{"resource":{"attributes":[{"key":"kind","value":{"stringValue":"SPAN_KIND_SERVER"}},
          {"key":"note","value":{"stringValue":"say \"x\", {\"snake_case\": [1]} done"}}]},
          "scope_spans":[{"spans":[{"name":"a_b","kind":"SPAN_KIND_CLIENT","trace_id":"5b8efff798038103d269b633813fc60c",
          "span_id":"eee19b7ec3c1b174"}]}]}]}"#;
        let req: ExportTraceServiceRequest = decode(body).unwrap();
        let rs = &req.resource_spans[0];
        let attrs = &rs.resource.as_ref().unwrap().attributes;
        let text = |i: usize| match &attrs[i].value.as_ref().unwrap().value {
            Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => {
                s.clone()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(attrs[0].key, "kind");
        assert_eq!(text(0), "SPAN_KIND_SERVER");
        assert_eq!(text(1), r#"say "x", {"snake_case": [1]} done"#);
        let span = &rs.scope_spans[0].spans[0];
        assert_eq!(span.name, "a_b");
        assert_eq!(span.kind, SpanKind::Client as i32);
    }

    #[test]
    fn the_canonical_mapping_is_read_without_a_copy() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x","kind":2}]}]}]}"#;
        assert!(matches!(normalize(body).unwrap(), Cow::Borrowed(_)));
        let snake = br#"{"resource_spans":[]}"#;
        assert_eq!(&*normalize(snake).unwrap(), br#"{"resourceSpans":[]}"#);
    }

    #[test]
    fn generated_requests_survive_every_spelling() {
        use crate::pipeline::otlp_json::encode;
        let mut rng = fastrand::Rng::with_seed(12);
        let opts = crate::loadgen::generate::ContentOpts::default();
        let req = crate::loadgen::generate::traces(&mut rng, 64, &opts);
        let json = String::from_utf8(encode(&req).unwrap()).unwrap();
        assert_eq!(
            decode::<ExportTraceServiceRequest>(json.as_bytes()).unwrap(),
            req
        );
        // The same with snake_case field names and enum names.
        let mut snake = json.clone();
        for (camel, snake_name) in [
            ("resourceSpans", "resource_spans"),
            ("scopeSpans", "scope_spans"),
            ("traceId", "trace_id"),
            ("spanId", "span_id"),
            ("startTimeUnixNano", "start_time_unix_nano"),
            ("endTimeUnixNano", "end_time_unix_nano"),
            ("stringValue", "string_value"),
        ] {
            snake = snake.replace(&format!("\"{camel}\""), &format!("\"{snake_name}\""));
        }
        snake = snake.replace("\"kind\":2", "\"kind\":\"SPAN_KIND_SERVER\"");
        assert_ne!(snake, json);
        assert_eq!(
            decode::<ExportTraceServiceRequest>(snake.as_bytes()).unwrap(),
            req
        );
    }
}
