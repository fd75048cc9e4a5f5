//! The shared mirrors against the OTLP/JSON and ProtoJSON forms whose values the HTTP
//! table (`tests/otlp_json_spec.rs`) cannot see through the file exporter: non-finite
//! doubles, exact bytes, and the field path an error names.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;

use crate::receiver::otlp::OtlpRequest;

fn attribute(value: &str) -> Result<Option<Value>, String> {
    let body = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"name":"s","attributes":[{{"key":"a","value":{value}}}]}}]}}]}}]}}"#
    );
    let req = ExportTraceServiceRequest::decode_json(body.as_bytes()).map_err(|e| e.to_string())?;
    let span = &req.resource_spans[0].scope_spans[0].spans[0];
    Ok(span.attributes[0]
        .value
        .as_ref()
        .and_then(|v| v.value.clone()))
}

#[test]
fn doubles_in_strings_including_the_special_values() {
    for (input, want) in [
        (r#""1.5""#, 1.5),
        (r#""-2.5e3""#, -2500.0),
        (r#""Infinity""#, f64::INFINITY),
        (r#""-Infinity""#, f64::NEG_INFINITY),
        ("1e2", 100.0),
    ] {
        let got = attribute(&format!(r#"{{"doubleValue":{input}}}"#));
        assert!(
            matches!(got, Ok(Some(Value::DoubleValue(v))) if v.to_bits() == want.to_bits()),
            "{input}: {got:?}"
        );
    }
    let nan = attribute(r#"{"doubleValue":"NaN"}"#);
    assert!(
        matches!(nan, Ok(Some(Value::DoubleValue(v))) if v.is_nan()),
        "{nan:?}"
    );
}

#[test]
fn bytes_in_every_base64_alphabet_and_padding() {
    // RFC 4648 test vector "foobar" and the bytes 0xfb 0xff, where the alphabets differ.
    for (input, want) in [
        ("Zm9vYmFy", &b"foobar"[..]),
        ("Zm9vYg==", b"foob"),
        ("Zm9vYg", b"foob"),
        ("+/8=", &[0xfb, 0xff]),
        ("-_8", &[0xfb, 0xff]),
        ("", b""),
    ] {
        let got = attribute(&format!(r#"{{"bytesValue":"{input}"}}"#));
        assert_eq!(got, Ok(Some(Value::BytesValue(want.to_vec()))), "{input}");
    }
    for bad in ["Zm9vY", "+_8=", "Zm9v YmFy", "Zm=9"] {
        let err = attribute(&format!(r#"{{"bytesValue":"{bad}"}}"#)).unwrap_err();
        assert!(err.contains("bytesValue"), "{bad}: {err}");
    }
}

#[test]
fn an_error_names_the_path_of_its_field() {
    let err = attribute(r#"{"arrayValue":{"values":[{"intValue":"1"},{"doubleValue":"x"}]}}"#)
        .unwrap_err();
    assert!(
        err.starts_with(
            "cannot decode json: at resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.arrayValue.values[1].doubleValue: "
        ),
        "{err}"
    );
    let body = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{},{"body":{"kvlistValue":{"values":[{"key":"k","value":{"intValue":"1.5"}}]}}}]}]}]}"#;
    let err = ExportLogsServiceRequest::decode_json(body)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("logRecords[1].body.kvlistValue.values[0].value.intValue"),
        "{err}"
    );
}

#[test]
fn a_null_oneof_member_is_unset_and_two_members_are_refused() {
    assert_eq!(
        attribute(r#"{"boolValue":null,"stringValue":"x","intValue":null}"#),
        Ok(Some(Value::StringValue("x".into())))
    );
    assert_eq!(attribute(r#"{"doubleValue":null}"#), Ok(None));
    let err = attribute(r#"{"boolValue":true,"doubleValue":"1"}"#).unwrap_err();
    assert!(err.contains("both boolValue and doubleValue"), "{err}");
}

#[test]
fn generated_requests_read_as_the_crate_writes_them() {
    // Every AnyValue kind the load generator makes, written by opentelemetry-proto's serde.
    let mut rng = fastrand::Rng::with_seed(27);
    let opts = crate::loadgen::generate::ContentOpts::default();
    let traces = crate::loadgen::generate::traces(&mut rng, 128, &opts);
    let json = crate::pipeline::otlp_json::encode(&traces).unwrap();
    assert_eq!(
        ExportTraceServiceRequest::decode_json(&json).unwrap(),
        traces
    );
    let logs = crate::loadgen::generate::logs(&mut rng, 128, &opts);
    let json = crate::pipeline::otlp_json::encode(&logs).unwrap();
    assert_eq!(ExportLogsServiceRequest::decode_json(&json).unwrap(), logs);
}
