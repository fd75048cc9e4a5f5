//! OTLP/HTTP with JSON bodies: the canonical mapping and the lenient reading (snake_case
//! keys, enum names, int64 as numbers), gzip and zstd, responses in JSON.

mod common;

use std::io::Write;

use common::*;

const CANONICAL: &str = r#"{"resourceSpans":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"checkout"}},
  {"key":"k8s.cluster.name","value":{"stringValue":"seoul-prod"}}]},
  "scopeSpans":[{"scope":{"name":"t"},"spans":[
   {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"POST /api/pay","kind":2,
    "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000",
    "attributes":[{"key":"http.response.status_code","value":{"intValue":"502"}}],"status":{"code":2}},
   {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","name":"GET /","kind":2,
    "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000010000000"}]}]}]}"#;

const LENIENT: &str = r#"{"resource_spans":[{"scope_spans":[{"spans":[
   {"trace_id":"5b8efff798038103d269b633813fc60d","span_id":"eee19b7ec3c1b176","name":"x","kind":"SPAN_KIND_CLIENT",
    "start_time_unix_nano":1700000000000000000,"end_time_unix_nano":1700000000100000000,
    "status":{"code":"STATUS_CODE_OK"},"attributes":[{"key":"n","value":{"int_value":7}}]}]}]}]}"#;

const BAD_ID: &str = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
   {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"ok"},
   {"traceId":"","spanId":"eee19b7ec3c1b174","name":"no trace id"}]}]}]}"#;

#[tokio::test]
async fn json_bodies_canonical_lenient_and_compressed() {
    let s = start().await;
    let url = format!("http://{}/v1/traces", s.http);
    let json = ("content-type", "application/json");

    let r = http_send("POST", &url, &[json], CANONICAL).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(&r.body[..], b"{}");

    let r = http_send("POST", &url, &[json], LENIENT).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(CANONICAL.as_bytes()).unwrap();
    let r = http_send(
        "POST",
        &url,
        &[json, ("content-encoding", "gzip")],
        gz.finish().unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
    let z = zstd::encode_all(CANONICAL.as_bytes(), 3).unwrap();
    let r = http_send("POST", &url, &[json, ("content-encoding", "zstd")], z).await;
    assert_eq!(r.status, 200);

    let r = http_send("POST", &url, &[json], BAD_ID).await;
    assert_eq!(r.status, 200);
    let resp: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(resp["partialSuccess"]["rejectedSpans"], "1", "{resp}");
    assert!(
        resp["partialSuccess"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("trace id")
    );

    // Logs and metrics over JSON as well.
    let logs = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"SEVERITY_NUMBER_INFO",
       "body":{"stringValue":"{\"user\":\"kim@example.com\"}"}},{"severity_number":9}]}]}]}"#;
    let r = http_send("POST", &format!("http://{}/v1/logs", s.http), &[json], logs).await;
    assert_eq!(r.status, 200);
    let metrics = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"requests","sum":{
       "aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE","isMonotonic":true,
       "dataPoints":[{"asInt":"5","timeUnixNano":"1700000000000000000"},{"asInt":7,"timeUnixNano":1700000000000000000}]}}]}]}]}"#;
    let r = http_send(
        "POST",
        &format!("http://{}/v1/metrics", s.http),
        &[json],
        metrics,
    )
    .await;
    assert_eq!(r.status, 200);

    let out = s.out.clone().unwrap();
    assert_eq!(s.metric("slotel_receiver_accepted_spans_total", &[]), 8.0);
    s.running.shutdown().await.unwrap();
    assert_eq!(
        count_file(&out),
        Counts {
            spans: 8,
            points: 2,
            logs: 2
        }
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains(r#""kind":3"#),
        "enum name read as SPAN_KIND_CLIENT"
    );
    assert!(text.contains(r#""intValue":"502""#));
    assert!(!text.contains("null"));
}

/// One histogram point in OTLP/JSON with every number written as `bounds`, `count`… say.
fn histogram_json(name: &str, bounds: &str, counts: &str, count: &str, sum: &str) -> String {
    format!(
        r#"{{"resourceMetrics":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"pay"}}}}]}},
        "scopeMetrics":[{{"metrics":[{{"name":"{name}","unit":"s","histogram":{{"aggregationTemporality":2,
        "dataPoints":[{{"timeUnixNano":"1700000000000000000","count":{count},"sum":{sum},
        "bucketCounts":[{counts}],"explicitBounds":[{bounds}]}}]}}}}]}}]}}]}}"#
    )
}

/// The proto3 JSON mapping (protobuf.dev, "ProtoJSON format") lets a `double` be a string
/// ("1.5", "NaN", "Infinity", "-Infinity") and a 64-bit integer a number or a decimal
/// string. A histogram written with strings reaches the exporter with the values the same
/// histogram sent as protobuf has; a bound that is no number is a 400 naming the field;
/// a non-finite bound refuses the point alone (partial success). Before, a string in
/// `explicitBounds` dropped the metric's data without a word (200, nothing counted).
#[tokio::test]
async fn histogram_numbers_as_strings_are_read_as_protobuf_reads_them() {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::metrics::v1::{
        Histogram, HistogramDataPoint, Metric, ResourceMetrics, ScopeMetrics, metric,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use prost::Message;

    let s = start().await;
    let url = format!("http://{}/v1/metrics", s.http);
    let json = ("content-type", "application/json");

    // Spec forms: a string double, an exponent, a decimal string count.
    let strings = histogram_json(
        "strings",
        r#""0.25","1e0","2.5""#,
        r#""1","2","3","4""#,
        r#""10""#,
        r#""12.5""#,
    );
    let r = http_send("POST", &url, &[json], strings).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(&r.body[..], b"{}", "no partial success");

    let proto = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("pay".into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "strings".into(),
                    unit: "s".into(),
                    data: Some(metric::Data::Histogram(Histogram {
                        aggregation_temporality: 2,
                        data_points: vec![HistogramDataPoint {
                            time_unix_nano: 1_700_000_000_000_000_000,
                            count: 10,
                            sum: Some(12.5),
                            bucket_counts: vec![1, 2, 3, 4],
                            explicit_bounds: vec![0.25, 1.0, 2.5],
                            ..Default::default()
                        }],
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let r = http_send(
        "POST",
        &url,
        &[("content-type", "application/x-protobuf")],
        proto.encode_to_vec(),
    )
    .await;
    assert_eq!(r.status, 200);

    // Not a number: a clear 400, nothing kept.
    let bad = histogram_json("bad", r#""1.5","abc""#, "1,2,3", "6", "1");
    let r = http_send("POST", &url, &[json], bad).await;
    assert_eq!(r.status, 400);
    let msg = String::from_utf8_lossy(&r.body).into_owned();
    assert!(msg.contains("abc") && msg.contains("double"), "{msg}");

    // A non-finite bound, as the mapping writes it: the point is refused alone.
    let inf = histogram_json("infinite", r#""1","Infinity""#, "1,2,3", "6", "1");
    let r = http_send("POST", &url, &[json], inf).await;
    assert_eq!(r.status, 200);
    let resp: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(resp["partialSuccess"]["rejectedDataPoints"], "1", "{resp}");

    let out = s.out.clone().unwrap();
    s.running.shutdown().await.unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let metrics: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|v| v["resourceMetrics"].as_array().cloned())
        .flatten()
        .collect();
    assert_eq!(
        metrics.len(),
        2,
        "the JSON and the protobuf request: {text}"
    );
    assert_eq!(
        metrics[0], metrics[1],
        "JSON and protobuf give the same point"
    );
    let point = &metrics[0]["scopeMetrics"][0]["metrics"][0]["histogram"]["dataPoints"][0];
    assert_eq!(point["explicitBounds"], serde_json::json!([0.25, 1.0, 2.5]));
    assert_eq!(point["count"], "10");
}
