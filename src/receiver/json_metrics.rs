//! OTLP/JSON metrics, read field by field.
//!
//! opentelemetry-proto reads a metric's data (`gauge`, `sum`, `histogram`, …) and a
//! point's value (`asDouble`, `asInt`) through serde's `flatten`, which turns any error
//! inside them into an absent value: a histogram with `"explicitBounds": ["1.5"]` arrived
//! as a metric without data, and its points were gone without a word. These mirrors read
//! the same fields without `flatten`, every number as the proto3 JSON mapping says
//! ([`super::json_numbers`]), and convert into the protobuf types element by element
//! (each mirror has its protobuf type's layout, so the vectors are reused). Resources,
//! scopes and attributes are read by the mirrors every signal shares
//! ([`super::json_common`]).

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric::Data,
    number_data_point, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde::Deserialize;

use super::json_common::{ResourceDe, ScopeDe, key_values, nullable, vec};
use super::json_numbers as num;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct MetricsRequest {
    #[serde(deserialize_with = "nullable")]
    resource_metrics: Vec<ResourceMetricsDe>,
}

impl From<MetricsRequest> for ExportMetricsServiceRequest {
    fn from(r: MetricsRequest) -> Self {
        Self {
            resource_metrics: vec(r.resource_metrics),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ResourceMetricsDe {
    resource: Option<ResourceDe>,
    #[serde(deserialize_with = "nullable")]
    scope_metrics: Vec<ScopeMetricsDe>,
    #[serde(deserialize_with = "nullable")]
    schema_url: String,
}

impl From<ResourceMetricsDe> for ResourceMetrics {
    fn from(r: ResourceMetricsDe) -> Self {
        Self {
            resource: r.resource.map(Resource::from),
            scope_metrics: vec(r.scope_metrics),
            schema_url: r.schema_url,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ScopeMetricsDe {
    scope: Option<ScopeDe>,
    #[serde(deserialize_with = "nullable")]
    metrics: Vec<MetricDe>,
    #[serde(deserialize_with = "nullable")]
    schema_url: String,
}

impl From<ScopeMetricsDe> for ScopeMetrics {
    fn from(s: ScopeMetricsDe) -> Self {
        Self {
            scope: s.scope.map(Into::into),
            metrics: vec(s.metrics),
            schema_url: s.schema_url,
        }
    }
}

/// A metric, read through [`MetricFields`] so that only one data field is set.
#[derive(Deserialize)]
#[serde(try_from = "MetricFields")]
struct MetricDe(Metric);

impl From<MetricDe> for Metric {
    fn from(m: MetricDe) -> Self {
        m.0
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct MetricFields {
    #[serde(deserialize_with = "nullable")]
    name: String,
    #[serde(deserialize_with = "nullable")]
    description: String,
    #[serde(deserialize_with = "nullable")]
    unit: String,
    #[serde(deserialize_with = "key_values")]
    metadata: Vec<KeyValue>,
    gauge: Option<GaugeDe>,
    sum: Option<SumDe>,
    histogram: Option<HistogramDe>,
    exponential_histogram: Option<ExponentialHistogramDe>,
    summary: Option<SummaryDe>,
}

impl TryFrom<MetricFields> for MetricDe {
    type Error = &'static str;
    fn try_from(m: MetricFields) -> Result<Self, Self::Error> {
        let data = [
            m.gauge.map(|g| {
                Data::Gauge(Gauge {
                    data_points: vec(g.data_points),
                })
            }),
            m.sum.map(|s| {
                Data::Sum(Sum {
                    data_points: vec(s.data_points),
                    aggregation_temporality: s.aggregation_temporality,
                    is_monotonic: s.is_monotonic,
                })
            }),
            m.histogram.map(|h| {
                Data::Histogram(Histogram {
                    data_points: vec(h.data_points),
                    aggregation_temporality: h.aggregation_temporality,
                })
            }),
            m.exponential_histogram.map(|h| {
                Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: vec(h.data_points),
                    aggregation_temporality: h.aggregation_temporality,
                })
            }),
            m.summary.map(|s| {
                Data::Summary(Summary {
                    data_points: vec(s.data_points),
                })
            }),
        ];
        let mut set = data.into_iter().flatten();
        let data = set.next();
        if set.next().is_some() {
            return Err(
                "a metric has more than one of gauge, sum, histogram, exponentialHistogram and summary",
            );
        }
        Ok(MetricDe(Metric {
            name: m.name,
            description: m.description,
            unit: m.unit,
            metadata: m.metadata,
            data,
        }))
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct GaugeDe {
    #[serde(deserialize_with = "nullable")]
    data_points: Vec<NumberPointDe>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SumDe {
    #[serde(deserialize_with = "nullable")]
    data_points: Vec<NumberPointDe>,
    #[serde(deserialize_with = "num::int")]
    aggregation_temporality: i32,
    #[serde(deserialize_with = "nullable")]
    is_monotonic: bool,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct HistogramDe {
    #[serde(deserialize_with = "nullable")]
    data_points: Vec<HistogramPointDe>,
    #[serde(deserialize_with = "num::int")]
    aggregation_temporality: i32,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ExponentialHistogramDe {
    #[serde(deserialize_with = "nullable")]
    data_points: Vec<ExponentialPointDe>,
    #[serde(deserialize_with = "num::int")]
    aggregation_temporality: i32,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SummaryDe {
    #[serde(deserialize_with = "nullable")]
    data_points: Vec<SummaryPointDe>,
}

/// A number point, read through [`NumberPointFields`] so that at most one value is set.
#[derive(Deserialize)]
#[serde(try_from = "NumberPointFields")]
struct NumberPointDe(NumberDataPoint);

impl From<NumberPointDe> for NumberDataPoint {
    fn from(p: NumberPointDe) -> Self {
        p.0
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct NumberPointFields {
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    #[serde(deserialize_with = "num::int")]
    start_time_unix_nano: u64,
    #[serde(deserialize_with = "num::int")]
    time_unix_nano: u64,
    #[serde(deserialize_with = "num::opt_double")]
    as_double: Option<f64>,
    #[serde(deserialize_with = "num::int_opt")]
    as_int: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    exemplars: Vec<ExemplarDe>,
    #[serde(deserialize_with = "num::int")]
    flags: u32,
}

const TWO_VALUES: &str = "a point has both asDouble and asInt";

impl TryFrom<NumberPointFields> for NumberPointDe {
    type Error = &'static str;
    fn try_from(p: NumberPointFields) -> Result<Self, Self::Error> {
        use number_data_point::Value;
        let value = match (p.as_double, p.as_int) {
            (Some(_), Some(_)) => return Err(TWO_VALUES),
            (Some(d), None) => Some(Value::AsDouble(d)),
            (None, Some(i)) => Some(Value::AsInt(i)),
            (None, None) => None,
        };
        Ok(NumberPointDe(NumberDataPoint {
            attributes: p.attributes,
            start_time_unix_nano: p.start_time_unix_nano,
            time_unix_nano: p.time_unix_nano,
            exemplars: vec(p.exemplars),
            flags: p.flags,
            value,
        }))
    }
}

#[derive(Deserialize)]
#[serde(try_from = "ExemplarFields")]
struct ExemplarDe(Exemplar);

impl From<ExemplarDe> for Exemplar {
    fn from(e: ExemplarDe) -> Self {
        e.0
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ExemplarFields {
    #[serde(deserialize_with = "key_values")]
    filtered_attributes: Vec<KeyValue>,
    #[serde(deserialize_with = "num::int")]
    time_unix_nano: u64,
    #[serde(deserialize_with = "num::hex_id")]
    span_id: Vec<u8>,
    #[serde(deserialize_with = "num::hex_id")]
    trace_id: Vec<u8>,
    #[serde(deserialize_with = "num::opt_double")]
    as_double: Option<f64>,
    #[serde(deserialize_with = "num::int_opt")]
    as_int: Option<i64>,
}

impl TryFrom<ExemplarFields> for ExemplarDe {
    type Error = &'static str;
    fn try_from(e: ExemplarFields) -> Result<Self, Self::Error> {
        use exemplar::Value;
        let value = match (e.as_double, e.as_int) {
            (Some(_), Some(_)) => return Err(TWO_VALUES),
            (Some(d), None) => Some(Value::AsDouble(d)),
            (None, Some(i)) => Some(Value::AsInt(i)),
            (None, None) => None,
        };
        Ok(ExemplarDe(Exemplar {
            filtered_attributes: e.filtered_attributes,
            time_unix_nano: e.time_unix_nano,
            span_id: e.span_id,
            trace_id: e.trace_id,
            value,
        }))
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct HistogramPointDe {
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    #[serde(deserialize_with = "num::int")]
    start_time_unix_nano: u64,
    #[serde(deserialize_with = "num::int")]
    time_unix_nano: u64,
    #[serde(deserialize_with = "num::int")]
    count: u64,
    #[serde(deserialize_with = "num::opt_double")]
    sum: Option<f64>,
    #[serde(deserialize_with = "num::u64_array")]
    bucket_counts: Vec<u64>,
    #[serde(deserialize_with = "num::double_array")]
    explicit_bounds: Vec<f64>,
    #[serde(deserialize_with = "nullable")]
    exemplars: Vec<ExemplarDe>,
    #[serde(deserialize_with = "num::int")]
    flags: u32,
    #[serde(deserialize_with = "num::opt_double")]
    min: Option<f64>,
    #[serde(deserialize_with = "num::opt_double")]
    max: Option<f64>,
}

impl From<HistogramPointDe> for HistogramDataPoint {
    fn from(p: HistogramPointDe) -> Self {
        Self {
            attributes: p.attributes,
            start_time_unix_nano: p.start_time_unix_nano,
            time_unix_nano: p.time_unix_nano,
            count: p.count,
            sum: p.sum,
            bucket_counts: p.bucket_counts,
            explicit_bounds: p.explicit_bounds,
            exemplars: vec(p.exemplars),
            flags: p.flags,
            min: p.min,
            max: p.max,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ExponentialPointDe {
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    #[serde(deserialize_with = "num::int")]
    start_time_unix_nano: u64,
    #[serde(deserialize_with = "num::int")]
    time_unix_nano: u64,
    #[serde(deserialize_with = "num::int")]
    count: u64,
    #[serde(deserialize_with = "num::opt_double")]
    sum: Option<f64>,
    #[serde(deserialize_with = "num::int")]
    scale: i32,
    #[serde(deserialize_with = "num::int")]
    zero_count: u64,
    positive: Option<BucketsDe>,
    negative: Option<BucketsDe>,
    #[serde(deserialize_with = "num::int")]
    flags: u32,
    #[serde(deserialize_with = "nullable")]
    exemplars: Vec<ExemplarDe>,
    #[serde(deserialize_with = "num::opt_double")]
    min: Option<f64>,
    #[serde(deserialize_with = "num::opt_double")]
    max: Option<f64>,
    #[serde(deserialize_with = "num::double")]
    zero_threshold: f64,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct BucketsDe {
    #[serde(deserialize_with = "num::int")]
    offset: i32,
    #[serde(deserialize_with = "num::u64_array")]
    bucket_counts: Vec<u64>,
}

impl From<BucketsDe> for Buckets {
    fn from(b: BucketsDe) -> Self {
        Self {
            offset: b.offset,
            bucket_counts: b.bucket_counts,
        }
    }
}

impl From<ExponentialPointDe> for ExponentialHistogramDataPoint {
    fn from(p: ExponentialPointDe) -> Self {
        Self {
            attributes: p.attributes,
            start_time_unix_nano: p.start_time_unix_nano,
            time_unix_nano: p.time_unix_nano,
            count: p.count,
            sum: p.sum,
            scale: p.scale,
            zero_count: p.zero_count,
            positive: p.positive.map(Buckets::from),
            negative: p.negative.map(Buckets::from),
            flags: p.flags,
            exemplars: vec(p.exemplars),
            min: p.min,
            max: p.max,
            zero_threshold: p.zero_threshold,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SummaryPointDe {
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    #[serde(deserialize_with = "num::int")]
    start_time_unix_nano: u64,
    #[serde(deserialize_with = "num::int")]
    time_unix_nano: u64,
    #[serde(deserialize_with = "num::int")]
    count: u64,
    #[serde(deserialize_with = "num::double")]
    sum: f64,
    #[serde(deserialize_with = "nullable")]
    quantile_values: Vec<QuantileDe>,
    #[serde(deserialize_with = "num::int")]
    flags: u32,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct QuantileDe {
    #[serde(deserialize_with = "num::double")]
    quantile: f64,
    #[serde(deserialize_with = "num::double")]
    value: f64,
}

impl From<QuantileDe> for ValueAtQuantile {
    fn from(q: QuantileDe) -> Self {
        Self {
            quantile: q.quantile,
            value: q.value,
        }
    }
}

impl From<SummaryPointDe> for SummaryDataPoint {
    fn from(p: SummaryPointDe) -> Self {
        Self {
            attributes: p.attributes,
            start_time_unix_nano: p.start_time_unix_nano,
            time_unix_nano: p.time_unix_nano,
            count: p.count,
            sum: p.sum,
            quantile_values: vec(p.quantile_values),
            flags: p.flags,
        }
    }
}

#[cfg(test)]
#[path = "json_metrics_tests.rs"]
mod tests;
