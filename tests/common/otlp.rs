//! OTLP export requests for tests: spans, log records or metrics wrapped in one resource
//! and one scope, the shape nearly every test sends.
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
use opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
use opentelemetry_proto::tonic::resource::v1::Resource;
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
    ExportTraceServiceRequest {
        resource_spans: vec![resource_spans(attributes, spans)],
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
    ExportLogsServiceRequest {
        resource_logs: vec![resource_logs(attributes, records)],
    }
}

/// A metrics export request of `metrics` in one scope of one resource with `attributes`.
pub fn metrics_request(
    attributes: Vec<KeyValue>,
    metrics: Vec<Metric>,
) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(attributes),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The status of a failed span: `STATUS_CODE_ERROR`, no message.
pub fn error_status() -> Status {
    Status {
        code: status::StatusCode::Error as i32,
        message: String::new(),
    }
}
