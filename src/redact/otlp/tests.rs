//! Redaction of OTLP metrics: every point kind, exemplars, resource and scope.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use crate::attr::kv;
use crate::config::RedactionConfig;
use crate::pipeline::{Batch, Payload, Processor, Raw, RequestContext};
use crate::redact::{RedactionProcessor, Redactor};
use crate::telemetry::Metrics;

const EMAIL: &str = "lee.jiwoo@example.org";

fn exemplar() -> Vec<Exemplar> {
    vec![Exemplar {
        filtered_attributes: vec![kv("user", EMAIL)],
        ..Default::default()
    }]
}

fn number(attrs: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        exemplars: exemplar(),
        value: Some(number_data_point::Value::AsDouble(1.5)),
        ..Default::default()
    }
}

/// One metric of every kind, each point with `user` = the address and an exemplar with it.
fn request() -> ExportMetricsServiceRequest {
    let attrs = || vec![kv("user", EMAIL), kv("route", "/login")];
    let metric = |name: &str, data| Metric {
        name: name.into(),
        data: Some(data),
        metadata: vec![kv("contact", EMAIL)],
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "auth"), kv("owner", EMAIL)],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "auth".into(),
                    attributes: vec![kv("team", EMAIL)],
                    ..Default::default()
                }),
                metrics: vec![
                    metric(
                        "g",
                        metric::Data::Gauge(Gauge {
                            data_points: vec![number(attrs())],
                        }),
                    ),
                    metric(
                        "s",
                        metric::Data::Sum(Sum {
                            data_points: vec![number(attrs())],
                            ..Default::default()
                        }),
                    ),
                    metric(
                        "h",
                        metric::Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                attributes: attrs(),
                                exemplars: exemplar(),
                                count: 2,
                                ..Default::default()
                            }],
                            ..Default::default()
                        }),
                    ),
                    metric(
                        "e",
                        metric::Data::ExponentialHistogram(ExponentialHistogram {
                            data_points: vec![ExponentialHistogramDataPoint {
                                attributes: attrs(),
                                exemplars: exemplar(),
                                count: 3,
                                ..Default::default()
                            }],
                            ..Default::default()
                        }),
                    ),
                    metric(
                        "q",
                        metric::Data::Summary(Summary {
                            data_points: vec![SummaryDataPoint {
                                attributes: attrs(),
                                count: 4,
                                ..Default::default()
                            }],
                        }),
                    ),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[test]
fn every_attribute_of_every_point_kind_is_redacted() {
    let r = Redactor::new(&RedactionConfig {
        summary: true,
        ..RedactionConfig::default()
    })
    .unwrap();
    let mut req = request();
    let mut session = r.session();
    session.metrics(&mut req);
    // Resource, scope, 5 metadata, 5 points, 4 exemplars.
    assert_eq!(session.total(), 16);
    let text = format!("{req:?}");
    assert!(!text.contains(EMAIL), "{text}");
    assert_eq!(text.matches("[REDACTED:email]").count(), 16);
    // Names, values and other attributes are unchanged; no summary attribute on points
    // (it would split series).
    let mut want = request();
    let redacted = |kvs: &mut Vec<KeyValue>| {
        for kv in kvs.iter_mut() {
            if let Some(AnyValue {
                value: Some(any_value::Value::StringValue(s)),
            }) = &mut kv.value
                && s == EMAIL
            {
                *s = "[REDACTED:email]".into();
            }
        }
    };
    let rm = &mut want.resource_metrics[0];
    redacted(&mut rm.resource.as_mut().unwrap().attributes);
    let sm = &mut rm.scope_metrics[0];
    redacted(&mut sm.scope.as_mut().unwrap().attributes);
    for m in &mut sm.metrics {
        redacted(&mut m.metadata);
        match m.data.as_mut().unwrap() {
            metric::Data::Gauge(g) => g.data_points.iter_mut().for_each(|p| {
                redacted(&mut p.attributes);
                redacted(&mut p.exemplars[0].filtered_attributes);
            }),
            metric::Data::Sum(g) => g.data_points.iter_mut().for_each(|p| {
                redacted(&mut p.attributes);
                redacted(&mut p.exemplars[0].filtered_attributes);
            }),
            metric::Data::Histogram(g) => g.data_points.iter_mut().for_each(|p| {
                redacted(&mut p.attributes);
                redacted(&mut p.exemplars[0].filtered_attributes);
            }),
            metric::Data::ExponentialHistogram(g) => g.data_points.iter_mut().for_each(|p| {
                redacted(&mut p.attributes);
                redacted(&mut p.exemplars[0].filtered_attributes);
            }),
            metric::Data::Summary(g) => g
                .data_points
                .iter_mut()
                .for_each(|p| redacted(&mut p.attributes)),
        }
    }
    assert_eq!(req, want);
}

/// The processor redacts metrics batches and drops their received bytes when it changed
/// something, and only then; counts carry the metrics signal.
#[test]
fn the_processor_redacts_metrics_and_clears_the_raw_bytes() {
    let metrics = Metrics::new();
    let processor = RedactionProcessor::new(
        std::sync::Arc::new(Redactor::new(&RedactionConfig::default()).unwrap()),
        metrics.clone(),
    );
    let clean = {
        let mut r = request();
        r.resource_metrics[0].resource = None;
        r.resource_metrics[0].scope_metrics[0].scope = None;
        r.resource_metrics[0].scope_metrics[0].metrics.truncate(1);
        let m = &mut r.resource_metrics[0].scope_metrics[0].metrics[0];
        m.metadata.clear();
        if let Some(metric::Data::Gauge(g)) = &mut m.data {
            g.data_points[0].attributes = vec![kv("route", "/login")];
            g.data_points[0].exemplars.clear();
        }
        r
    };
    for (req, changed) in [(clean, false), (request(), true)] {
        let raw = bytes::Bytes::from(req.encode_to_vec());
        let mut batch = Batch::new(
            RequestContext::default(),
            Payload::Metrics(req.clone()),
            5,
            raw.len(),
        )
        .with_raw(Some(Raw::plain(raw.clone())));
        processor.process(&mut batch);
        assert_eq!(batch.raw().is_none(), changed);
        assert_eq!(*batch.payload() != Payload::Metrics(req), changed);
    }
    assert!(
        metrics.encode().contains(
            "slotel_redactions_total{type=\"email\",action=\"replace\",signal=\"metrics\",tenant=\"\",policy=\"default\"} 16"
        ),
        "{}",
        metrics.encode()
    );
}
