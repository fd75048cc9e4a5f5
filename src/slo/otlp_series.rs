//! The SLO series as OTLP metrics, the form in which the SLO engine puts them into the
//! metrics pipeline, so every metrics exporter carries them (remote write turns them into
//! Prometheus samples and native histograms; `otlp`/`otlphttp` send them as they are).
//! Counters are cumulative monotonic sums, `slotel_slo_latency_seconds` is a cumulative
//! exponential histogram at the engine's schema (exporters merge it down to theirs), the
//! rest are gauges. Names are already Prometheus names, and so are attribute keys: the
//! labels of [`crate::slo::series::series_labels`], group labels included (`http_route`,
//! not `http.route`), so a receiver's translation leaves them as they are and every path
//! names a series alike.
//!
//! [`SeriesSource`] also remembers what it wrote last time: a series that disappears (an
//! SLO removed by a reload, a group gone) is written once more, in its own metric, as a
//! point with the OTLP "no recorded value" flag, which remote write turns into a
//! Prometheus stale marker.

use std::collections::BTreeMap;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, DataPointFlags, ExponentialHistogram, ExponentialHistogramDataPoint,
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    exponential_histogram_data_point, metric, number_data_point,
};

use super::engine::Engine;
pub use super::series::LATENCY;
use super::series::{Labels, families};
use crate::attr::kv;

type LabelPairs = Vec<(String, String)>;
type SeriesKey = (String, LabelPairs);

/// The OTLP type of a series, which its stale marker keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Builds the SLO series, remembering which series it wrote.
pub struct SeriesSource {
    engine: Arc<Engine>,
    schema: i32,
    start_nanos: u64,
    last: BTreeMap<SeriesKey, Kind>,
    /// When the series were last collected; before the first collection, when every
    /// counter was zero (the engine's start), or `None` after restored state.
    zero_at: Option<u64>,
}

fn attributes(labels: &Labels) -> Vec<KeyValue> {
    labels.iter().map(|(k, v)| kv(k, v)).collect()
}

fn key(name: &str, labels: &Labels) -> SeriesKey {
    (name.to_string(), labels.clone())
}

impl SeriesSource {
    /// `schema`: the schema of the latency histogram's buckets (at most
    /// [`super::engine::native::SCHEMA`], the engine's).
    ///
    /// `fresh`: the engine started empty (no restored state), so every counter was zero at
    /// its start.
    pub fn new(engine: Arc<Engine>, schema: i32, fresh: bool) -> Self {
        let start_nanos = engine.now_nanos();
        Self {
            engine,
            schema: schema.min(super::engine::native::SCHEMA),
            start_nanos,
            last: BTreeMap::new(),
            zero_at: fresh.then_some(start_nanos),
        }
    }

    /// The engine holds events from before its start (replayed state): no series was
    /// zero at the start.
    pub fn not_fresh(&mut self) {
        if self.last.is_empty() {
            self.zero_at = None;
        }
    }

    /// When a counter or histogram series first written now was known to be zero: the
    /// previous collection (it did not exist then), or for the first collection the
    /// engine's start when it started empty. Rate-based rules see a series' first
    /// increase only from a sample before it, so such a series is written with a zero
    /// point at that time first (as Prometheus's created-timestamp zero does).
    fn zero_before(&self, key: &SeriesKey, now: u64) -> Option<u64> {
        self.zero_at
            .filter(|t| *t < now && !self.last.contains_key(key))
    }

    /// The series now, plus stale entries for series written last time and gone now.
    pub fn collect(&mut self) -> ExportMetricsServiceRequest {
        let now = self.engine.now_nanos();
        let status = self.engine.status();
        let mut metrics = Vec::new();
        let mut seen = BTreeMap::new();
        for f in families(&self.engine, &status) {
            if f.rows.is_empty() {
                continue;
            }
            let name = if f.counter {
                format!("{}_total", f.name)
            } else {
                f.name.to_string()
            };
            let mut points: Vec<NumberDataPoint> = Vec::with_capacity(f.rows.len());
            for (labels, v) in &f.rows {
                let kind = if f.counter {
                    Kind::Counter
                } else {
                    Kind::Gauge
                };
                let k = key(&name, labels);
                let zero = if f.counter {
                    self.zero_before(&k, now)
                } else {
                    None
                };
                seen.insert(k, kind);
                let start = zero.unwrap_or(if f.counter { self.start_nanos } else { 0 });
                let point = |time, value| NumberDataPoint {
                    attributes: attributes(labels),
                    start_time_unix_nano: start,
                    time_unix_nano: time,
                    value: Some(number_data_point::Value::AsDouble(value)),
                    ..Default::default()
                };
                if let Some(t) = zero {
                    points.push(point(t, 0.0));
                }
                points.push(point(now, *v));
            }
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
            let labels = &s.labels;
            let k = key(LATENCY, labels);
            let zero = self.zero_before(&k, now);
            seen.insert(k, Kind::Histogram);
            let start = zero.unwrap_or(self.start_nanos);
            if let Some(t) = zero {
                histograms.push(ExponentialHistogramDataPoint {
                    attributes: attributes(labels),
                    start_time_unix_nano: start,
                    time_unix_nano: t,
                    scale: self.schema,
                    sum: Some(0.0),
                    ..Default::default()
                });
            }
            let buckets = s.native.buckets(self.schema);
            let offset = buckets.first().map_or(0, |b| b.0);
            let mut counts = Vec::new();
            for (i, c) in &buckets {
                let pos = (i - offset) as usize;
                counts.resize(pos, 0);
                counts.push(*c);
            }
            histograms.push(ExponentialHistogramDataPoint {
                attributes: attributes(labels),
                start_time_unix_nano: start,
                time_unix_nano: now,
                count: s.native.count,
                sum: Some(s.native.sum()),
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
        // Every series written last time and absent now, once, as a stale point of its own
        // type (a valid metric for any exporter).
        let mut gone: BTreeMap<(String, Kind), Vec<&LabelPairs>> = BTreeMap::new();
        for ((name, labels), kind) in &self.last {
            if !seen.contains_key(&(name.clone(), labels.clone())) {
                gone.entry((name.clone(), *kind)).or_default().push(labels);
            }
        }
        for ((name, kind), series) in gone {
            let attrs = |labels: &LabelPairs| -> Vec<KeyValue> {
                labels.iter().map(|(k, v)| kv(k, v)).collect()
            };
            let stale = DataPointFlags::NoRecordedValueMask as u32;
            let number = |labels| NumberDataPoint {
                attributes: attrs(labels),
                time_unix_nano: now,
                flags: stale,
                ..Default::default()
            };
            let data = match kind {
                Kind::Counter => metric::Data::Sum(Sum {
                    data_points: series.into_iter().map(number).collect(),
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: true,
                }),
                Kind::Gauge => metric::Data::Gauge(Gauge {
                    data_points: series.into_iter().map(number).collect(),
                }),
                Kind::Histogram => metric::Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: series
                        .into_iter()
                        .map(|labels| ExponentialHistogramDataPoint {
                            attributes: attrs(labels),
                            time_unix_nano: now,
                            scale: self.schema,
                            flags: stale,
                            ..Default::default()
                        })
                        .collect(),
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                }),
            };
            metrics.push(Metric {
                name,
                data: Some(data),
                ..Default::default()
            });
        }
        self.last = seen;
        self.zero_at = Some(now);
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
