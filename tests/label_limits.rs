//! One over-long label value must not cost a forwarded request, with the real binary.
//!
//! Loki and Mimir refuse a push with HTTP 400 when a label value is longer than their
//! `max_label_value_length` (2048 bytes by default), a label name longer than
//! `max_label_name_length` (1024) or a series with more labels than
//! `max_label_names_per_series` (Loki 15, Mimir 30). They store the valid streams or series
//! of the request and name the invalid ones in the 400; a sender retrying the 400 would
//! only repeat it. The fake backend here does the same, so a request with one 4 KiB
//! `service.name` among ordinary resources is only wholly delivered when slotel cuts the
//! value to the limit.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::backend::serve;
use common::*;
use http_body_util::{BodyExt, Full};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, NumberDataPoint, number_data_point,
};
use prost::Message;
use slotel::attr::{AttrValue, kv};
use slotel::export::proto::{loki, prometheus as prom};

const MAX_VALUE: usize = 2048;
const MAX_NAME: usize = 1024;
const LOKI_MAX_LABELS: usize = 15;
const MIMIR_MAX_LABELS: usize = 30;

/// What the backend stored: per accepted stream or series, its label pairs.
type Stored = Arc<Mutex<Vec<Vec<(String, String)>>>>;

/// The pairs of a Loki stream selector `{a="1", b="2"}` (values here hold no `"` or `\`).
fn selector_pairs(sel: &str) -> Vec<(String, String)> {
    let inner = sel.trim_start_matches('{').trim_end_matches('}');
    inner
        .split("\", ")
        .filter_map(|p| {
            let (k, v) = p.split_once("=\"")?;
            Some((k.to_string(), v.trim_end_matches('"').to_string()))
        })
        .collect()
}

fn valid(labels: &[(String, String)], max_labels: usize) -> bool {
    labels.len() <= max_labels
        && labels
            .iter()
            .all(|(k, v)| k.len() <= MAX_NAME && v.len() <= MAX_VALUE)
}

/// A Loki push API and a Mimir remote-write endpoint with their default label limits.
async fn limited_backend() -> (SocketAddr, Stored, Stored) {
    let (streams, series): (Stored, Stored) = Default::default();
    let (st, se) = (streams.clone(), series.clone());
    let addr = serve(move |req: http::Request<hyper::body::Incoming>| {
        let (st, se) = (st.clone(), se.clone());
        async move {
            let loki_push = req.uri().path().starts_with("/loki/");
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
            let mut refused = 0;
            if loki_push {
                let push = loki::PushRequest::decode(raw.as_slice()).unwrap();
                for s in push.streams {
                    let pairs = selector_pairs(&s.labels);
                    if valid(&pairs, LOKI_MAX_LABELS) {
                        st.lock()
                            .unwrap()
                            .extend(s.entries.iter().map(|_| pairs.clone()));
                    } else {
                        refused += 1;
                    }
                }
            } else {
                let write = prom::WriteRequest::decode(raw.as_slice()).unwrap();
                for s in write.timeseries {
                    let pairs: Vec<(String, String)> =
                        s.labels.into_iter().map(|l| (l.name, l.value)).collect();
                    if valid(&pairs, MIMIR_MAX_LABELS) {
                        se.lock().unwrap().push(pairs);
                    } else {
                        refused += 1;
                    }
                }
            }
            let status = if refused > 0 { 400 } else { 204 };
            http::Response::builder()
                .status(status)
                .body(Full::new(Bytes::from(format!("{refused} refused"))))
                .unwrap()
        }
    })
    .await;
    (addr, streams, series)
}

fn value_of<'a>(labels: &'a [(String, String)], name: &str) -> Option<&'a str> {
    labels
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Three resources, the second with a 4 KiB `service.name`, send logs and a counter:
/// every log record and every series reaches the backend, none is refused, and slotel
/// counts the cut values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4_kib_service_name_does_not_cost_the_other_senders_records() {
    let (a, streams, series) = limited_backend().await;
    let p = spawn_binary(
        &format!(
            "  prometheusremotewrite/mimir:\n    endpoint: http://{a}/api/v1/push\n    send_slo_series: false\n\
             \x20 loki/logs:\n    endpoint: http://{a}\n"
        ),
        "",
    )
    .await;
    let long = "x".repeat(4096);
    let names = ["checkout", long.as_str(), "cart"];
    let now = now_unix_nanos() - 1_000_000_000;
    let logs = otlp::logs_of(names.iter().map(|n| {
        (
            vec![kv("service.name", n)],
            vec![LogRecord {
                time_unix_nano: now,
                body: Some("ok".into_any_value()),
                ..Default::default()
            }],
        )
    }));
    let metrics = otlp::metrics_of(names.iter().map(|n| {
        (
            vec![kv("service.name", n)],
            vec![otlp::counter(
                "orders",
                AggregationTemporality::Cumulative as i32,
                vec![NumberDataPoint {
                    attributes: vec![kv("path", "/buy")],
                    time_unix_nano: now,
                    value: Some(number_data_point::Value::AsInt(1)),
                    ..Default::default()
                }],
            )],
        )
    }));
    let pb = ("content-type", "application/x-protobuf");
    for (path, body) in [
        ("/v1/logs", logs.encode_to_vec()),
        ("/v1/metrics", metrics.encode_to_vec()),
    ] {
        let r = http_send("POST", &format!("http://{}{path}", p.http), &[pb], body).await;
        assert_eq!(r.status, 200);
    }
    let outcome = |text: &str, exporter: &str| {
        ["success", "permanent"].map(|o| {
            metric_sum(
                text,
                "slotel_exporter_requests_total",
                &[
                    &format!("exporter=\"{exporter}\""),
                    &format!("outcome=\"{o}\""),
                ],
            )
        })
    };
    let mut text = String::new();
    for _ in 0..100 {
        text = scrape_metrics(p.admin).await;
        if ["loki/logs", "prometheusremotewrite/mimir"]
            .iter()
            .all(|e| outcome(&text, e).iter().sum::<f64>() >= 1.0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for e in ["loki/logs", "prometheusremotewrite/mimir"] {
        assert_eq!(outcome(&text, e), [1.0, 0.0], "{e}:\n{text}");
        let cut = metric_sum(
            &text,
            "slotel_exporter_label_values_cut_total",
            &[&format!("exporter=\"{e}\"")],
        );
        assert!(cut >= 1.0, "{e}: {cut} cut");
    }
    for (what, stored, label) in [
        ("streams", &streams, "service_name"),
        ("series", &series, "job"),
    ] {
        let stored = stored.lock().unwrap();
        assert_eq!(stored.len(), 3, "{what}: {stored:?}");
        let mut got: Vec<&str> = stored.iter().filter_map(|l| value_of(l, label)).collect();
        got.sort();
        assert_eq!(&got[..2], ["cart", "checkout"], "{what}");
        let cut = got[2];
        assert!(cut.len() <= MAX_VALUE && cut.starts_with("xxxx"), "{what}");
        assert!(
            cut.rsplit_once('~').is_some_and(|(_, h)| h.len() == 16),
            "{what}: {cut}"
        );
    }
}
