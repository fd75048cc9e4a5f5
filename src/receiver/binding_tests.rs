//! Cluster binding and reserved names through the receiver's request path: what a sender
//! writes about clusters and SLO series that are not its own.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

use super::*;
use crate::attr::kv;
use crate::config::{AuthConfig, TokenConfig};
use crate::pipeline::{Batch, ExportError, Exporter, Payload, Pipeline};
use crate::telemetry::Metrics;

const CK: &str = "k8s.cluster.name";

/// What the exporter saw: (queued undecoded, payload).
struct Capture(Mutex<Vec<(bool, Payload)>>);

#[async_trait]
impl Exporter for Capture {
    fn id(&self) -> &str {
        "capture"
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let undecoded = batch.undecoded().is_some();
        self.0
            .lock()
            .unwrap()
            .push((undecoded, batch.payload().clone()));
        Ok(())
    }
}

/// Sends `req` as protobuf with `token` (`tok-a`: bound to `seoul-prod`; `tok-u`: bound to
/// none) and returns the response and what the exporter saw.
async fn send<R: OtlpRequest>(token: &str, req: &R) -> (R::Response, Vec<(bool, Payload)>) {
    let metrics = Metrics::new();
    let limits: crate::config::Limits = Default::default();
    let budget = MemoryBudget::new(limits.memory_budget);
    let capture = Arc::new(Capture(Mutex::default()));
    let pipelines: Vec<Pipeline> = Signal::ALL
        .iter()
        .map(|s| {
            Pipeline::start(
                *s,
                1 << 26,
                4,
                Vec::new(),
                vec![capture.clone() as Arc<dyn Exporter>],
                metrics.clone(),
            )
        })
        .collect();
    let token_config = |token: &str, cluster: Option<&str>| TokenConfig {
        token: token.into(),
        tenant: token.into(),
        cluster: cluster.map(Into::into),
    };
    let cfg = OtlpReceiverConfig {
        grpc: None,
        http: None,
        auth: Some(AuthConfig {
            tokens: vec![
                token_config("tok-a", Some("seoul-prod")),
                token_config("tok-u", None),
            ],
        }),
        limits,
        retry_after: Duration::from_secs(1),
    };
    let receiver = Receiver::new(
        &cfg,
        CK,
        Pipelines {
            traces: pipelines[0].sender(),
            metrics: pipelines[1].sender(),
            logs: pipelines[2].sender(),
        },
        budget,
        metrics,
    );
    let header = format!("Bearer {token}");
    let identity = receiver.authenticate(Some(header.as_bytes())).unwrap();
    let answer = receiver
        .export::<R>(
            Protocol::Http,
            identity,
            bytes::Bytes::from(req.encode_to_vec()),
            None,
            Format::Protobuf,
        )
        .await
        .unwrap()
        .response;
    for p in pipelines {
        p.close().await;
    }
    let seen = std::mem::take(&mut *capture.0.lock().unwrap());
    (answer, seen)
}

/// Every spelling of the cluster label naming `cluster`.
fn cluster_attrs(cluster: &str) -> Vec<KeyValue> {
    [
        CK,
        "k8s_cluster_name",
        "k8s-cluster-name",
        "k8s/cluster/name",
        "K8s.Cluster.Name",
    ]
    .iter()
    .map(|k| kv(k, cluster))
    .collect()
}

fn resource(service: &str, cluster: &str) -> Option<Resource> {
    let mut attributes = vec![kv("service.name", service)];
    attributes.extend(cluster_attrs(cluster));
    Some(Resource {
        attributes,
        ..Default::default()
    })
}

fn scope(cluster: &str) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        attributes: cluster_attrs(cluster),
        ..Default::default()
    })
}

fn traces(clusters: &[&str]) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: clusters
            .iter()
            .map(|c| ResourceSpans {
                resource: resource("checkout", c),
                scope_spans: vec![ScopeSpans {
                    scope: scope(c),
                    spans: (1..=2u8)
                        .map(|i| Span {
                            trace_id: vec![i; 16],
                            span_id: vec![i; 8],
                            name: "GET /".into(),
                            start_time_unix_nano: 1,
                            end_time_unix_nano: 2,
                            attributes: cluster_attrs(c),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
}

fn gauge(name: &str, attributes: Vec<KeyValue>) -> Metric {
    Metric {
        name: name.into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                attributes,
                time_unix_nano: 1,
                value: Some(number_data_point::Value::AsDouble(1.0)),
                ..Default::default()
            }],
        })),
        ..Default::default()
    }
}

fn metrics(cluster: &str, names: &[&str]) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("cart", cluster),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(cluster),
                metrics: names
                    .iter()
                    .map(|n| gauge(n, cluster_attrs(cluster)))
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn logs(clusters: &[&str]) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: clusters
            .iter()
            .map(|c| ResourceLogs {
                resource: resource("orders", c),
                scope_logs: vec![ScopeLogs {
                    scope: scope(c),
                    log_records: vec![LogRecord {
                        time_unix_nano: 1,
                        attributes: cluster_attrs(c),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
}

/// The (key, value) of every attribute list of a payload that a backend reads as the
/// cluster label.
fn cluster_labels(payload: &Payload) -> Vec<(String, String)> {
    let text = |kv: &KeyValue| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        other => format!("{other:?}"),
    };
    let mut lists: Vec<&[KeyValue]> = Vec::new();
    match payload {
        Payload::Traces(t) => {
            for rs in &t.resource_spans {
                lists.extend(rs.resource.iter().map(|r| &r.attributes[..]));
                for ss in &rs.scope_spans {
                    lists.extend(ss.scope.iter().map(|s| &s.attributes[..]));
                    lists.extend(ss.spans.iter().map(|s| &s.attributes[..]));
                }
            }
        }
        Payload::Logs(l) => {
            for rl in &l.resource_logs {
                lists.extend(rl.resource.iter().map(|r| &r.attributes[..]));
                for sl in &rl.scope_logs {
                    lists.extend(sl.scope.iter().map(|s| &s.attributes[..]));
                    lists.extend(sl.log_records.iter().map(|r| &r.attributes[..]));
                }
            }
        }
        Payload::Metrics(m) => {
            for rm in &m.resource_metrics {
                lists.extend(rm.resource.iter().map(|r| &r.attributes[..]));
                for sm in &rm.scope_metrics {
                    lists.extend(sm.scope.iter().map(|s| &s.attributes[..]));
                    for m in &sm.metrics {
                        if let Some(metric::Data::Gauge(g)) = &m.data {
                            lists.extend(g.data_points.iter().map(|p| &p.attributes[..]));
                        }
                    }
                }
            }
        }
    }
    lists
        .into_iter()
        .flatten()
        .filter(|kv| {
            kv.key.replace(|c: char| !c.is_ascii_alphanumeric(), "_") == "k8s_cluster_name"
        })
        .map(|kv| (kv.key.clone(), text(kv)))
        .collect()
}

#[tokio::test]
async fn a_bound_token_writes_its_cluster_under_every_spelling_of_the_label() {
    let want = vec![(CK.to_string(), "seoul-prod".to_string())];
    let (answer, seen) = send("tok-a", &traces(&["b"])).await;
    assert_eq!(answer.partial_success, None);
    assert_eq!(cluster_labels(&seen[0].1), want);
    let (_, seen) = send("tok-a", &logs(&["b"])).await;
    assert_eq!(cluster_labels(&seen[0].1), want);
    let (_, seen) = send("tok-a", &metrics("b", &["http.requests"])).await;
    assert_eq!(cluster_labels(&seen[0].1), want);
    // A case variant is another label, and stays.
    let (_, seen) = send("tok-a", &traces(&["b"])).await;
    let Payload::Traces(t) = &seen[0].1 else {
        panic!("traces expected")
    };
    let span = &t.resource_spans[0].scope_spans[0].spans[0];
    assert!(
        span.attributes
            .iter()
            .any(|kv| kv.key == "K8s.Cluster.Name")
    );
}

#[tokio::test]
async fn metrics_named_as_slo_series_are_refused_from_any_sender() {
    let names = [
        "slotel_slo_events_total",
        "slotel.slo.burn_rate",
        "http.requests",
        "Slotel..SLO..x",
    ];
    for token in ["tok-a", "tok-u"] {
        let (answer, seen) = send(token, &metrics("x", &names)).await;
        let partial = answer.partial_success.expect("partial success");
        assert_eq!(partial.rejected_data_points, 3, "{token}");
        assert!(
            partial.error_message.contains("slotel_slo_events_total")
                && partial.error_message.contains("only slotel writes"),
            "{}",
            partial.error_message
        );
        let Payload::Metrics(m) = &seen[0].1 else {
            panic!("metrics expected")
        };
        let kept: Vec<_> = m.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(kept, ["http.requests"]);
    }
}

#[tokio::test]
async fn an_unbound_token_cannot_name_a_cluster_bound_to_another() {
    // Traces with no processor would be queued undecoded: the reserved name sends them
    // through the decoding path.
    let (answer, seen) = send("tok-u", &traces(&["seoul-prod", "busan", "seoul-prod"])).await;
    let partial = answer.partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 4);
    assert!(
        partial
            .error_message
            .contains("cluster \"seoul-prod\", which is bound to another token"),
        "{}",
        partial.error_message
    );
    assert_eq!(seen.len(), 1);
    let Payload::Traces(t) = &seen[0].1 else {
        panic!("traces expected")
    };
    assert_eq!(t.resource_spans.len(), 1);
    assert!(cluster_labels(&seen[0].1).iter().all(|(_, v)| v == "busan"));
    let (answer, seen) = send("tok-u", &logs(&["seoul-prod"])).await;
    assert_eq!(answer.partial_success.unwrap().rejected_log_records, 1);
    assert!(seen.is_empty(), "nothing left to queue");
    let (answer, _) = send("tok-u", &metrics("seoul-prod", &["a", "b"])).await;
    assert_eq!(answer.partial_success.unwrap().rejected_data_points, 2);
    // The bound token itself, and clusters no token is bound to, pass.
    let (answer, _) = send("tok-a", &logs(&["seoul-prod"])).await;
    assert_eq!(answer.partial_success, None);
    let (answer, seen) = send("tok-u", &traces(&["busan"])).await;
    assert_eq!(answer.partial_success, None);
    assert!(seen[0].0, "still queued as received");
}

#[tokio::test]
async fn a_reserved_cluster_named_outside_the_cluster_attribute_is_read_on_the_wire() {
    // `seoul-prod` as a span name, a service name, a scope attribute and under a case
    // variant of the key: no resource names it as the cluster, nothing to decode.
    let mut req = traces(&["busan"]);
    let rs = &mut req.resource_spans[0];
    let attrs = &mut rs.resource.as_mut().unwrap().attributes;
    attrs.push(kv("service.namespace", "seoul-prod"));
    attrs.push(kv("K8s.Cluster.Name", "seoul-prod"));
    rs.scope_spans[0].spans[0].name = "seoul-prod".into();
    rs.scope_spans[0].spans[1]
        .attributes
        .push(kv(CK, "seoul-prod"));
    let (answer, seen) = send("tok-u", &req).await;
    assert_eq!(answer.partial_success, None);
    assert!(seen[0].0, "queued as received");
    assert_eq!(seen[0].1, Payload::Traces(req));
}
