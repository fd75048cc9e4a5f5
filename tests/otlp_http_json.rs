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
