//! OTLP export requests for tests: spans, log records or metrics wrapped in resources and
//! scopes, the shape nearly every test sends; the numbered server spans most span tests
//! send; metrics of given points; and, for the requests a test writes byte by byte
//! (malformed, or nested deeper than prost encodes), one protobuf field at a time.
//!
//! One file for both kinds of test: the integration tests reach it as `common::otlp`, the
//! crate's own unit tests as `crate::test_otlp` (src/lib.rs includes this file under
//! `#[cfg(test)]`). So it names nothing of slotel's: attributes come in built, with
//! `slotel::attr::kv` / `crate::attr::kv`.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, status};

/// A resource with `attributes` (present even when there are none).
pub fn resource(attributes: Vec<KeyValue>) -> Option<Resource> {
    Some(Resource {
        attributes,
        ..Default::default()
    })
}

/// `spans` in one scope of one resource with `attributes`.
pub fn resource_spans(attributes: Vec<KeyValue>, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: resource(attributes),
        scope_spans: vec![ScopeSpans {
            spans,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A trace export request of `spans` in one scope of one resource with `attributes`.
pub fn traces_request(attributes: Vec<KeyValue>, spans: Vec<Span>) -> ExportTraceServiceRequest {
    traces_of([(attributes, spans)])
}

/// A trace export request of one resource per `(attributes, spans)`, in order, each with
/// its spans in one scope.
pub fn traces_of(
    resources: impl IntoIterator<Item = (Vec<KeyValue>, Vec<Span>)>,
) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: resources
            .into_iter()
            .map(|(attributes, spans)| resource_spans(attributes, spans))
            .collect(),
    }
}

/// `records` in one scope of one resource with `attributes`.
pub fn resource_logs(attributes: Vec<KeyValue>, records: Vec<LogRecord>) -> ResourceLogs {
    ResourceLogs {
        resource: resource(attributes),
        scope_logs: vec![ScopeLogs {
            log_records: records,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A logs export request of `records` in one scope of one resource with `attributes`.
pub fn logs_request(
    attributes: Vec<KeyValue>,
    records: Vec<LogRecord>,
) -> ExportLogsServiceRequest {
    logs_of([(attributes, records)])
}

/// A logs export request of one resource per `(attributes, records)`, in order, each with
/// its records in one scope.
pub fn logs_of(
    resources: impl IntoIterator<Item = (Vec<KeyValue>, Vec<LogRecord>)>,
) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: resources
            .into_iter()
            .map(|(attributes, records)| resource_logs(attributes, records))
            .collect(),
    }
}

/// A metrics export request of `metrics` in one scope of one resource with `attributes`.
pub fn metrics_request(
    attributes: Vec<KeyValue>,
    metrics: Vec<Metric>,
) -> ExportMetricsServiceRequest {
    metrics_of([(attributes, metrics)])
}

/// A metrics export request of one resource per `(attributes, metrics)`, in order, each
/// with its metrics in one scope.
pub fn metrics_of(
    resources: impl IntoIterator<Item = (Vec<KeyValue>, Vec<Metric>)>,
) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: resources
            .into_iter()
            .map(|(attributes, metrics)| ResourceMetrics {
                resource: resource(attributes),
                scope_metrics: vec![ScopeMetrics {
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
}

/// The histogram `name` of `points`; `temporality` is an `AggregationTemporality` as sent.
pub fn histogram(name: &str, temporality: i32, points: Vec<HistogramDataPoint>) -> Metric {
    metric(
        name,
        Data::Histogram(Histogram {
            data_points: points,
            aggregation_temporality: temporality,
        }),
    )
}

/// The exponential histogram `name` of `points`, with `temporality`.
pub fn exponential_histogram(
    name: &str,
    temporality: i32,
    points: Vec<ExponentialHistogramDataPoint>,
) -> Metric {
    metric(
        name,
        Data::ExponentialHistogram(ExponentialHistogram {
            data_points: points,
            aggregation_temporality: temporality,
        }),
    )
}

/// An exponential histogram point over `[start, end]` (Unix nanoseconds) whose positive
/// buckets from index `offset` hold `counts`, its count their sum.
pub fn exponential_point(
    start: u64,
    end: u64,
    scale: i32,
    offset: i32,
    counts: Vec<u64>,
) -> ExponentialHistogramDataPoint {
    ExponentialHistogramDataPoint {
        start_time_unix_nano: start,
        time_unix_nano: end,
        count: counts.iter().sum(),
        scale,
        positive: Some(Buckets {
            offset,
            bucket_counts: counts,
        }),
        ..Default::default()
    }
}

/// The counter `name` (a monotonic sum) of `points`, with `temporality`.
pub fn counter(name: &str, temporality: i32, points: Vec<NumberDataPoint>) -> Metric {
    metric(
        name,
        Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality,
            is_monotonic: true,
        }),
    )
}

fn metric(name: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        data: Some(data),
        ..Default::default()
    }
}

/// `items` gathered by their resource attributes: one entry per distinct attribute list,
/// in the order each first appears, its items in their order (for [`traces_of`] and its
/// kin).
pub fn by_resource<T>(
    items: impl IntoIterator<Item = (Vec<KeyValue>, T)>,
) -> Vec<(Vec<KeyValue>, Vec<T>)> {
    let mut out: Vec<(Vec<KeyValue>, Vec<T>)> = Vec::new();
    for (attributes, item) in items {
        match out.iter_mut().find(|(a, _)| *a == attributes) {
            Some((_, list)) => list.push(item),
            None => out.push((attributes, vec![item])),
        }
    }
    out
}

/// Every span of `req`, in order, to change in place.
pub fn spans_mut(req: &mut ExportTraceServiceRequest) -> impl Iterator<Item = &mut Span> {
    req.resource_spans
        .iter_mut()
        .flat_map(|r| &mut r.scope_spans)
        .flat_map(|s| &mut s.spans)
}

/// The status of a failed span: `STATUS_CODE_ERROR`, no message.
pub fn error_status() -> Status {
    Status {
        code: status::StatusCode::Error as i32,
        message: String::new(),
    }
}

/// Field `number` on the protobuf wire: a length-delimited field holding `bytes`.
pub fn wire_field(number: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 12);
    prost::encoding::encode_varint(u64::from(number) << 3 | 2, &mut out);
    prost::encoding::encode_varint(bytes.len() as u64, &mut out);
    out.extend_from_slice(bytes);
    out
}

/// Server span number `n`: trace id `n` (16 bytes, big-endian) and span id `n` (8 bytes),
/// `name`, from `start` to `end` (Unix nanoseconds), with [`error_status`] when `error`
/// and no status otherwise; no attributes.
pub fn server_span(n: u64, name: impl Into<String>, start: u64, end: u64, error: bool) -> Span {
    Span {
        trace_id: u128::from(n).to_be_bytes().to_vec(),
        span_id: n.to_be_bytes().to_vec(),
        name: name.into(),
        kind: SpanKind::Server as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        status: error.then(error_status),
        ..Default::default()
    }
}
