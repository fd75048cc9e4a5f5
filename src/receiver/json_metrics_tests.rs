//! The proto3 JSON mapping's number forms (protobuf.dev, "ProtoJSON format": a `double` is
//! a number, "NaN", "Infinity", "-Infinity" or a number in a string; an integer is a number
//! or a decimal string, exponent notation accepted) in every numeric field of a metric.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{exemplar, number_data_point};

use crate::receiver::otlp::OtlpRequest;

fn metrics(metric: &str) -> Result<ExportMetricsServiceRequest, String> {
    let body = format!(r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{metric}]}}]}}]}}"#);
    ExportMetricsServiceRequest::decode_json(body.as_bytes()).map_err(|e| e.to_string())
}

fn data(metric: &str) -> Result<Data, String> {
    let req = metrics(metric)?;
    Ok(req.resource_metrics[0].scope_metrics[0].metrics[0]
        .data
        .clone()
        .expect("a metric with data"))
}

/// `double` inputs and the value the mapping gives (`None`: refused).
const DOUBLES: &[(&str, Option<f64>)] = &[
    ("1.5", Some(1.5)),
    ("-2", Some(-2.0)),
    ("1E-2", Some(0.01)),
    ("0", Some(0.0)),
    (r#""1.5""#, Some(1.5)),
    (r#""-0.25""#, Some(-0.25)),
    (r#""1e3""#, Some(1000.0)),
    (r#""NaN""#, Some(f64::NAN)),
    (r#""Infinity""#, Some(f64::INFINITY)),
    (r#""-Infinity""#, Some(f64::NEG_INFINITY)),
    (r#""abc""#, None),
    (r#""nan""#, None),
    (r#""inf""#, None),
    (r#""+1""#, None),
    (r#""""#, None),
    (r#"" 1""#, None),
    (r#""0x10""#, None),
    (r#""1e400""#, None),
    ("true", None),
    ("{}", None),
];

/// Integer inputs for a `fixed64` and the value the mapping gives (`None`: refused).
const FIXED64: &[(&str, Option<u64>)] = &[
    ("5", Some(5)),
    (r#""5""#, Some(5)),
    (r#""18446744073709551615""#, Some(u64::MAX)),
    ("1e2", Some(100)),
    (r#""1e2""#, Some(100)),
    (r#""1.0""#, Some(1)),
    (r#""1.5""#, None),
    ("1.5", None),
    (r#""18446744073709551616""#, None),
    ("-1", None),
    (r#""-1""#, None),
    (r#""abc""#, None),
    (r#""""#, None),
    ("true", None),
];

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn explicit_bounds_read_every_double_form() {
    for &(input, want) in DOUBLES {
        let got = data(&format!(
            r#"{{"name":"h","histogram":{{"dataPoints":[{{"bucketCounts":["1","2"],"explicitBounds":[{input}]}}]}}}}"#
        ));
        match (got, want) {
            (Ok(Data::Histogram(h)), Some(want)) => {
                let bounds = &h.data_points[0].explicit_bounds;
                assert!(
                    bounds.len() == 1 && same(bounds[0], want),
                    "{input}: {bounds:?}"
                );
            }
            (Err(e), None) => assert!(e.starts_with("cannot decode json"), "{input}: {e}"),
            (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn every_double_field_reads_the_same_forms() {
    for &(input, want) in DOUBLES {
        let fields = [
            format!(r#"{{"name":"g","gauge":{{"dataPoints":[{{"asDouble":{input}}}]}}}}"#),
            format!(
                r#"{{"name":"h","histogram":{{"dataPoints":[{{"sum":{input},"min":{input},"max":{input}}}]}}}}"#
            ),
            format!(
                r#"{{"name":"e","exponentialHistogram":{{"dataPoints":[{{"sum":{input},"zeroThreshold":{input}}}]}}}}"#
            ),
            format!(
                r#"{{"name":"s","summary":{{"dataPoints":[{{"sum":{input},"quantileValues":[{{"quantile":{input},"value":{input}}}]}}]}}}}"#
            ),
            format!(
                r#"{{"name":"x","gauge":{{"dataPoints":[{{"asInt":"1","exemplars":[{{"asDouble":{input}}}]}}]}}}}"#
            ),
        ];
        for metric in fields {
            let got = data(&metric);
            let Some(want) = want else {
                let err = got.expect_err(&metric);
                assert!(err.starts_with("cannot decode json"), "{metric}: {err}");
                continue;
            };
            let values: Vec<f64> = match got.unwrap_or_else(|e| panic!("{metric}: {e}")) {
                Data::Gauge(g) => {
                    let p = &g.data_points[0];
                    match (&p.value, p.exemplars.first()) {
                        (_, Some(e)) => match e.value {
                            Some(exemplar::Value::AsDouble(v)) => vec![v],
                            ref other => panic!("{metric}: {other:?}"),
                        },
                        (Some(number_data_point::Value::AsDouble(v)), None) => vec![*v],
                        other => panic!("{metric}: {other:?}"),
                    }
                }
                Data::Histogram(h) => {
                    let p = &h.data_points[0];
                    vec![p.sum.unwrap(), p.min.unwrap(), p.max.unwrap()]
                }
                Data::ExponentialHistogram(h) => {
                    let p = &h.data_points[0];
                    vec![p.sum.unwrap(), p.zero_threshold]
                }
                Data::Summary(s) => {
                    let p = &s.data_points[0];
                    vec![
                        p.sum,
                        p.quantile_values[0].quantile,
                        p.quantile_values[0].value,
                    ]
                }
                other => panic!("{metric}: {other:?}"),
            };
            assert!(
                values.iter().all(|&v| same(v, want)),
                "{metric}: {values:?}"
            );
        }
    }
}

#[test]
fn every_integer_field_reads_the_same_forms() {
    for &(input, want) in FIXED64 {
        let fields = [
            format!(
                r#"{{"name":"h","histogram":{{"dataPoints":[{{"timeUnixNano":{input},"startTimeUnixNano":{input},"count":{input},"bucketCounts":[{input}]}}]}}}}"#
            ),
            format!(
                r#"{{"name":"e","exponentialHistogram":{{"dataPoints":[{{"timeUnixNano":{input},"count":{input},"zeroCount":{input},"positive":{{"bucketCounts":[{input}]}},"negative":{{"bucketCounts":[{input}]}}}}]}}}}"#
            ),
            format!(
                r#"{{"name":"s","summary":{{"dataPoints":[{{"timeUnixNano":{input},"count":{input}}}]}}}}"#
            ),
            format!(
                r#"{{"name":"g","gauge":{{"dataPoints":[{{"timeUnixNano":{input},"asDouble":1,"exemplars":[{{"timeUnixNano":{input},"asDouble":1}}]}}]}}}}"#
            ),
        ];
        for metric in fields {
            let got = data(&metric);
            let Some(want) = want else {
                let err = got.expect_err(&metric);
                assert!(err.starts_with("cannot decode json"), "{metric}: {err}");
                continue;
            };
            let values: Vec<u64> = match got.unwrap_or_else(|e| panic!("{metric}: {e}")) {
                Data::Histogram(h) => {
                    let p = &h.data_points[0];
                    vec![
                        p.time_unix_nano,
                        p.start_time_unix_nano,
                        p.count,
                        p.bucket_counts[0],
                    ]
                }
                Data::ExponentialHistogram(h) => {
                    let p = &h.data_points[0];
                    vec![
                        p.time_unix_nano,
                        p.count,
                        p.zero_count,
                        p.positive.as_ref().unwrap().bucket_counts[0],
                        p.negative.as_ref().unwrap().bucket_counts[0],
                    ]
                }
                Data::Summary(s) => vec![s.data_points[0].time_unix_nano, s.data_points[0].count],
                Data::Gauge(g) => {
                    let p = &g.data_points[0];
                    vec![p.time_unix_nano, p.exemplars[0].time_unix_nano]
                }
                other => panic!("{metric}: {other:?}"),
            };
            assert!(values.iter().all(|&v| v == want), "{metric}: {values:?}");
        }
    }
}

/// An integer's text and what `asInt` (int64), `scale`/`offset` (sint32) and `flags`
/// (uint32) read from it (`None`: refused).
type IntRow = (&'static str, Option<i64>, Option<i32>, Option<u32>);

#[test]
fn signed_and_small_integers_are_range_checked() {
    // (input, asInt (int64), scale and offset (sint32), flags (uint32))
    let table: &[IntRow] = &[
        ("3", Some(3), Some(3), Some(3)),
        (r#""-3""#, Some(-3), Some(-3), None),
        (r#""-9223372036854775808""#, Some(i64::MIN), None, None),
        ("4294967295", Some(4294967295), None, Some(u32::MAX)),
        (r#""2.5""#, None, None, None),
    ];
    for &(input, as_int, small, flags) in table {
        let got = data(&format!(
            r#"{{"name":"g","gauge":{{"dataPoints":[{{"asInt":{input}}}]}}}}"#
        ));
        match (got, as_int) {
            (Ok(Data::Gauge(g)), Some(want)) => assert_eq!(
                g.data_points[0].value,
                Some(number_data_point::Value::AsInt(want)),
                "{input}"
            ),
            (Err(_), None) => {}
            (got, want) => panic!("asInt {input}: got {got:?}, want {want:?}"),
        }
        let got = data(&format!(
            r#"{{"name":"e","exponentialHistogram":{{"dataPoints":[{{"scale":{input},"positive":{{"offset":{input}}}}}]}}}}"#
        ));
        match (got, small) {
            (Ok(Data::ExponentialHistogram(h)), Some(want)) => {
                let p = &h.data_points[0];
                assert_eq!((p.scale, p.positive.as_ref().unwrap().offset), (want, want));
            }
            (Err(_), None) => {}
            (got, want) => panic!("scale {input}: got {got:?}, want {want:?}"),
        }
        let got = data(&format!(
            r#"{{"name":"g","gauge":{{"dataPoints":[{{"flags":{input}}}]}}}}"#
        ));
        match (got, flags) {
            (Ok(Data::Gauge(g)), Some(want)) => assert_eq!(g.data_points[0].flags, want),
            (Err(_), None) => {}
            (got, want) => panic!("flags {input}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn null_is_the_default_and_one_of_is_one() {
    let Data::Histogram(h) = data(
        r#"{"name":"h","histogram":{"dataPoints":[{"count":null,"sum":null,"bucketCounts":null,"explicitBounds":null}]}}"#,
    )
    .unwrap() else {
        panic!()
    };
    let p = &h.data_points[0];
    assert_eq!(
        (
            p.count,
            p.sum,
            p.bucket_counts.len(),
            p.explicit_bounds.len()
        ),
        (0, None, 0, 0)
    );
    for two in [
        r#"{"name":"g","gauge":{"dataPoints":[]},"sum":{"dataPoints":[]}}"#,
        r#"{"name":"g","gauge":{"dataPoints":[{"asInt":"1","asDouble":1.5}]}}"#,
        r#"{"name":"h","histogram":{"dataPoints":[{"explicitBounds":[1,null]}]}}"#,
    ] {
        let err = metrics(two).unwrap_err();
        assert!(err.starts_with("cannot decode json"), "{two}: {err}");
    }
}

#[test]
fn the_mapping_round_trips_generated_requests() {
    use crate::pipeline::otlp_json::encode;
    let mut rng = fastrand::Rng::with_seed(26);
    let opts = crate::loadgen::generate::ContentOpts::default();
    let req = crate::loadgen::generate::metrics(&mut rng, 64, &opts);
    let json = encode(&req).unwrap();
    assert_eq!(
        ExportMetricsServiceRequest::decode_json(&json).unwrap(),
        req
    );
}

#[test]
fn an_attribute_double_is_read_or_refused_never_dropped() {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    // (input, the value the mapping gives)
    for (input, want) in [
        ("1.5", Some(1.5)),
        (r#""1.5""#, Some(1.5)),
        (r#""NaN""#, Some(f64::NAN)),
        (r#""x""#, None),
    ] {
        let metric = format!(
            r#"{{"name":"g","gauge":{{"dataPoints":[{{"asInt":"1","attributes":[{{"key":"a","value":{{"doubleValue":{input}}}}}]}}]}}}}"#
        );
        match data(&metric) {
            Ok(Data::Gauge(g)) => {
                let value = g.data_points[0].attributes[0]
                    .value
                    .as_ref()
                    .and_then(|v| v.value.clone());
                match (value, want) {
                    (Some(Value::DoubleValue(v)), Some(want)) => {
                        assert!(same(v, want), "{input}: {v}")
                    }
                    (got, _) => panic!("{input}: read as {got:?}"),
                }
            }
            Ok(other) => panic!("{other:?}"),
            Err(e) => assert!(e.starts_with("cannot decode json"), "{input}: {e}"),
        }
    }
}
