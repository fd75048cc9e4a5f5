//! The SLO series as OTLP metrics, the form the SLO engine hands to exporters (remote
//! write turns them into Prometheus samples and native histograms). Counters are
//! cumulative monotonic sums, `slotel_slo_latency_seconds` is a cumulative exponential
//! histogram, the rest are gauges. Names are already Prometheus names.
//!
//! [`SeriesSource`] also remembers what it wrote last time: a series that disappears (an
//! SLO removed by a reload, a group gone) is written once more with the OTLP "no recorded
//! value" flag, which remote write turns into a Prometheus stale marker.

use std::collections::BTreeSet;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, DataPointFlags, ExponentialHistogram, ExponentialHistogramDataPoint,
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    exponential_histogram_data_point, metric, number_data_point,
};

use super::engine::Engine;
use super::series::{Labels, families};

/// The latency histogram's name.
pub const LATENCY: &str = "slotel_slo_latency_seconds";

type SeriesKey = (String, Vec<(String, String)>);

/// Builds the SLO series for one exporter, remembering which series it wrote.
pub struct SeriesSource {
    engine: Arc<Engine>,
    schema: i32,
    start_nanos: u64,
    last: BTreeSet<SeriesKey>,
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
        ..Default::default()
    }
}

fn attributes(labels: &Labels) -> Vec<KeyValue> {
    labels.iter().map(|(k, v)| kv(k, v)).collect()
}

fn key(name: &str, labels: &Labels) -> SeriesKey {
    (
        name.to_string(),
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

impl SeriesSource {
    /// `schema`: the native histogram schema the exporter writes (at most
    /// [`super::engine::native::SCHEMA`]).
    pub fn new(engine: Arc<Engine>, schema: i32) -> Self {
        let start_nanos = engine.now_nanos();
        Self {
            engine,
            schema: schema.min(super::engine::native::SCHEMA),
            start_nanos,
            last: BTreeSet::new(),
        }
    }

    /// The series now, plus stale entries for series written last time and gone now.
    pub fn collect(&mut self) -> ExportMetricsServiceRequest {
        let now = self.engine.now_nanos();
        let status = self.engine.status();
        let mut metrics = Vec::new();
        let mut seen = BTreeSet::new();
        for f in families(&self.engine, &status) {
            if f.rows.is_empty() {
                continue;
            }
            let name = if f.counter {
                format!("{}_total", f.name)
            } else {
                f.name.to_string()
            };
            let points: Vec<NumberDataPoint> = f
                .rows
                .iter()
                .map(|(labels, v)| {
                    seen.insert(key(&name, labels));
                    NumberDataPoint {
                        attributes: attributes(labels),
                        start_time_unix_nano: if f.counter { self.start_nanos } else { 0 },
                        time_unix_nano: now,
                        value: Some(number_data_point::Value::AsDouble(*v)),
                        ..Default::default()
                    }
                })
                .collect();
            let data = if f.counter {
                metric::Data::Sum(Sum {
                    data_points: points,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: true,
                })
            } else {
                metric::Data::Gauge(Gauge {
                    data_points: points,
                })
            };
            metrics.push(Metric {
                name,
                description: f.help.to_string(),
                data: Some(data),
                ..Default::default()
            });
        }
        let mut histograms = Vec::new();
        for s in &status {
            if s.native.is_empty() {
                continue;
            }
            let labels: Labels = vec![
                ("slo", s.name.clone()),
                ("service", s.service.clone()),
                ("cluster", s.cluster.clone()),
            ];
            seen.insert(key(LATENCY, &labels));
            let buckets = s.native.buckets(self.schema);
            let offset = buckets.first().map_or(0, |b| b.0);
            let mut counts = Vec::new();
            for (i, c) in &buckets {
                let pos = (i - offset) as usize;
                counts.resize(pos, 0);
                counts.push(*c);
            }
            histograms.push(ExponentialHistogramDataPoint {
                attributes: attributes(&labels),
                start_time_unix_nano: self.start_nanos,
                time_unix_nano: now,
                count: s.native.count,
                sum: Some(s.native.sum),
                scale: self.schema,
                zero_count: s.native.zero,
                positive: Some(exponential_histogram_data_point::Buckets {
                    offset: offset - 1,
                    bucket_counts: counts,
                }),
                ..Default::default()
            });
        }
        if !histograms.is_empty() {
            metrics.push(Metric {
                name: LATENCY.to_string(),
                description: "SLO latencies since start".to_string(),
                unit: "s".to_string(),
                data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: histograms,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                })),
                ..Default::default()
            });
        }
        let gone: Vec<SeriesKey> = self.last.difference(&seen).cloned().collect();
        if !gone.is_empty() {
            let points = gone
                .iter()
                .map(|(name, labels)| {
                    let mut attrs: Vec<KeyValue> = labels.iter().map(|(k, v)| kv(k, v)).collect();
                    attrs.push(kv("__name__", name));
                    NumberDataPoint {
                        attributes: attrs,
                        time_unix_nano: now,
                        flags: DataPointFlags::NoRecordedValueMask as u32,
                        ..Default::default()
                    }
                })
                .collect();
            // One gauge carries every stale marker; `__name__` names each series.
            metrics.push(Metric {
                name: String::new(),
                data: Some(metric::Data::Gauge(Gauge {
                    data_points: points,
                })),
                ..Default::default()
            });
        }
        self.last = seen;
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "slotel".to_string(),
                        version: env!("CARGO_PKG_VERSION").to_string(),
                        ..Default::default()
                    }),
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }
}
