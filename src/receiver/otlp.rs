//! What the three OTLP export requests have in common: decoding (protobuf and the lenient
//! OTLP/JSON reading), per-item validation with partial success, the cluster override, and
//! the response.

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::json;
use crate::config::Limits;
use crate::pipeline::Payload;
use crate::telemetry::Signal;

/// Wire format of a request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Protobuf,
    Json,
}

/// Result of validating a request's items.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Items kept.
    pub kept: usize,
    /// Items removed because they broke a rule.
    pub rejected: usize,
    /// The first rule broken, for the partial-success message.
    pub first_error: Option<String>,
}

impl Checked {
    /// Counts one item as kept (`why` is `None`) or rejected; returns whether to keep it.
    fn keep(&mut self, why: Option<String>) -> bool {
        match why {
            Some(why) => {
                self.reject(1, || why);
                false
            }
            None => {
                self.kept += 1;
                true
            }
        }
    }

    fn reject(&mut self, n: usize, why: impl FnOnce() -> String) {
        self.rejected += n;
        if self.first_error.is_none() {
            self.first_error = Some(why());
        }
    }

    /// The partial-success message: empty when nothing was refused.
    pub fn message(&self) -> String {
        match &self.first_error {
            Some(e) if self.rejected > 0 => {
                format!("{} item(s) rejected; first: {e}", self.rejected)
            }
            _ => String::new(),
        }
    }
}

/// An OTLP export request type.
pub trait OtlpRequest:
    prost::Message + Default + serde::de::DeserializeOwned + Send + Sized + 'static
{
    type Response: prost::Message + serde::Serialize + Default + Send + 'static;
    const SIGNAL: Signal;

    /// Removes items that break a rule, counting kept and rejected items.
    fn check(&mut self, limits: &Limits) -> Checked;
    /// Mutable access to every resource, for the cluster override.
    fn resources_mut(&mut self) -> Vec<&mut Resource>;
    fn response(rejected: usize, message: String) -> Self::Response;
    fn into_payload(self) -> Payload;
}

/// Decodes a request body.
pub fn decode<R: OtlpRequest>(body: &[u8], format: Format) -> Result<R, String> {
    match format {
        Format::Protobuf => R::decode(body).map_err(|e| format!("cannot decode protobuf: {e}")),
        Format::Json => json::decode(body),
    }
}

/// Sets `attr` to `cluster` on every resource (the token-bound cluster wins over what the
/// sender claims).
pub fn override_cluster<R: OtlpRequest>(req: &mut R, attr: &str, cluster: &str) {
    for resource in req.resources_mut() {
        let value = Some(AnyValue {
            value: Some(any_value::Value::StringValue(cluster.to_string())),
        });
        match resource.attributes.iter_mut().find(|kv| kv.key == attr) {
            Some(kv) => kv.value = value,
            None => resource.attributes.push(KeyValue {
                key: attr.to_string(),
                value,
                ..Default::default()
            }),
        }
    }
}

fn valid_id(id: &[u8], len: usize) -> bool {
    id.len() == len && id.iter().any(|b| *b != 0)
}

fn hex(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

impl OtlpRequest for ExportTraceServiceRequest {
    type Response = ExportTraceServiceResponse;
    const SIGNAL: Signal = Signal::Traces;

    fn check(&mut self, limits: &Limits) -> Checked {
        let mut c = Checked::default();
        for rs in &mut self.resource_spans {
            for ss in &mut rs.scope_spans {
                ss.spans.retain(|span| {
                    let why = if !valid_id(&span.trace_id, 16) {
                        Some(format!(
                            "span has an invalid trace id ({} bytes, want 16 not all zero)",
                            span.trace_id.len()
                        ))
                    } else if !valid_id(&span.span_id, 8) {
                        Some(format!(
                            "span in trace {} has an invalid span id ({} bytes, want 8 not all zero)",
                            hex(&span.trace_id),
                            span.span_id.len()
                        ))
                    } else if !span.parent_span_id.is_empty() && span.parent_span_id.len() != 8 {
                        Some(format!(
                            "span {} has an invalid parent span id ({} bytes)",
                            hex(&span.span_id),
                            span.parent_span_id.len()
                        ))
                    } else if span.attributes.len() > limits.max_attributes_per_item {
                        Some(format!(
                            "span {} has {} attributes, more than the limit of {}",
                            hex(&span.span_id),
                            span.attributes.len(),
                            limits.max_attributes_per_item
                        ))
                    } else {
                        None
                    };
                    c.keep(why)
                });
            }
        }
        c
    }

    fn resources_mut(&mut self) -> Vec<&mut Resource> {
        self.resource_spans
            .iter_mut()
            .filter_map(|r| r.resource.as_mut())
            .collect()
    }

    fn response(rejected: usize, message: String) -> Self::Response {
        ExportTraceServiceResponse {
            partial_success: (rejected > 0 || !message.is_empty()).then_some(
                ExportTracePartialSuccess {
                    rejected_spans: rejected as i64,
                    error_message: message,
                },
            ),
        }
    }

    fn into_payload(self) -> Payload {
        Payload::Traces(self)
    }
}

impl OtlpRequest for ExportLogsServiceRequest {
    type Response = ExportLogsServiceResponse;
    const SIGNAL: Signal = Signal::Logs;

    fn check(&mut self, limits: &Limits) -> Checked {
        let mut c = Checked::default();
        for rl in &mut self.resource_logs {
            for sl in &mut rl.scope_logs {
                sl.log_records.retain(|rec| {
                    let why = if !rec.trace_id.is_empty() && rec.trace_id.len() != 16 {
                        Some(format!(
                            "log record has an invalid trace id ({} bytes, want 16 or none)",
                            rec.trace_id.len()
                        ))
                    } else if !rec.span_id.is_empty() && rec.span_id.len() != 8 {
                        Some(format!(
                            "log record has an invalid span id ({} bytes, want 8 or none)",
                            rec.span_id.len()
                        ))
                    } else if rec.attributes.len() > limits.max_attributes_per_item {
                        Some(format!(
                            "log record has {} attributes, more than the limit of {}",
                            rec.attributes.len(),
                            limits.max_attributes_per_item
                        ))
                    } else {
                        None
                    };
                    c.keep(why)
                });
            }
        }
        c
    }

    fn resources_mut(&mut self) -> Vec<&mut Resource> {
        self.resource_logs
            .iter_mut()
            .filter_map(|r| r.resource.as_mut())
            .collect()
    }

    fn response(rejected: usize, message: String) -> Self::Response {
        ExportLogsServiceResponse {
            partial_success: (rejected > 0 || !message.is_empty()).then_some(
                ExportLogsPartialSuccess {
                    rejected_log_records: rejected as i64,
                    error_message: message,
                },
            ),
        }
    }

    fn into_payload(self) -> Payload {
        Payload::Logs(self)
    }
}

/// Number of data points in a metric, and the attribute counts of each.
fn point_attribute_counts(data: &Data) -> Vec<usize> {
    match data {
        Data::Gauge(g) => g.data_points.iter().map(|p| p.attributes.len()).collect(),
        Data::Sum(s) => s.data_points.iter().map(|p| p.attributes.len()).collect(),
        Data::Histogram(h) => h.data_points.iter().map(|p| p.attributes.len()).collect(),
        Data::ExponentialHistogram(h) => h.data_points.iter().map(|p| p.attributes.len()).collect(),
        Data::Summary(s) => s.data_points.iter().map(|p| p.attributes.len()).collect(),
    }
}

/// Data points in one metric.
pub fn metric_points(data: Option<&Data>) -> usize {
    match data {
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
        None => 0,
    }
}

fn retain_points(data: &mut Data, max_attrs: usize) {
    match data {
        Data::Gauge(g) => g.data_points.retain(|p| p.attributes.len() <= max_attrs),
        Data::Sum(s) => s.data_points.retain(|p| p.attributes.len() <= max_attrs),
        Data::Histogram(h) => h.data_points.retain(|p| p.attributes.len() <= max_attrs),
        Data::ExponentialHistogram(h) => h.data_points.retain(|p| p.attributes.len() <= max_attrs),
        Data::Summary(s) => s.data_points.retain(|p| p.attributes.len() <= max_attrs),
    }
}

impl OtlpRequest for ExportMetricsServiceRequest {
    type Response = ExportMetricsServiceResponse;
    const SIGNAL: Signal = Signal::Metrics;

    fn check(&mut self, limits: &Limits) -> Checked {
        let max = limits.max_attributes_per_item;
        let mut c = Checked::default();
        for rm in &mut self.resource_metrics {
            for sm in &mut rm.scope_metrics {
                sm.metrics.retain_mut(|m| {
                    let points = metric_points(m.data.as_ref());
                    if m.name.is_empty() {
                        c.reject(points, || "metric without a name".to_string());
                        return false;
                    }
                    let Some(data) = m.data.as_mut() else {
                        return true;
                    };
                    let too_many = point_attribute_counts(data)
                        .into_iter()
                        .filter(|n| *n > max)
                        .count();
                    if too_many > 0 {
                        let name = &m.name;
                        c.reject(too_many, || {
                            format!("data point of metric {name:?} has more than {max} attributes")
                        });
                        retain_points(data, max);
                    }
                    c.kept += points - too_many;
                    true
                });
            }
        }
        c
    }

    fn resources_mut(&mut self) -> Vec<&mut Resource> {
        self.resource_metrics
            .iter_mut()
            .filter_map(|r| r.resource.as_mut())
            .collect()
    }

    fn response(rejected: usize, message: String) -> Self::Response {
        ExportMetricsServiceResponse {
            partial_success: (rejected > 0 || !message.is_empty()).then_some(
                ExportMetricsPartialSuccess {
                    rejected_data_points: rejected as i64,
                    error_message: message,
                },
            ),
        }
    }

    fn into_payload(self) -> Payload {
        Payload::Metrics(self)
    }
}
