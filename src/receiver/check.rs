//! The rules every item is checked against after decoding, the OTLP request types' side of
//! [`OtlpRequest`], and the cluster binding.
//!
//! Items that break a rule are removed and counted (partial success); a resource or scope
//! that breaks one refuses the whole request. Metric data points are checked against the
//! OTLP metrics data model with the SLO engine's own checks (`slo::metric_limits`: times,
//! exponential histogram scale in −10…20 and bucket indexes, explicit bounds finite and
//! strictly increasing, one more count than bounds, counts that add up) before anything
//! reads their buckets, and held to a bucket count no sender needs to pass.

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogramDataPoint, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use std::sync::Arc;

use super::binding::{
    bind_resource, reserved_cluster, reserved_message, slo_series_message, slo_series_name, unbind,
    unbind_scope,
};
use super::otlp::{Checked, LimitError, OtlpRequest};
use crate::config::Limits;
use crate::pipeline::Payload;
use crate::signal::Signal;
use crate::slo::metric_limits::{
    InvalidPoint, check_exponential, check_histogram, check_number, check_summary,
};

/// Most buckets one side of an exponential histogram point, or one explicit histogram
/// point, may have. The SDKs' default is 160; Prometheus native histograms reach a few
/// hundred.
pub const MAX_BUCKETS: usize = 1 << 14;

fn valid_id(id: &[u8], len: usize) -> bool {
    id.len() == len && id.iter().any(|b| *b != 0)
}

/// A resource with more attributes than allowed refuses the request.
fn check_resource(resource: Option<&Resource>, max: usize) -> Result<(), LimitError> {
    if let Some(r) = resource
        && r.attributes.len() > max
    {
        return Err(LimitError::ResourceAttributes {
            count: r.attributes.len(),
            max,
        });
    }
    Ok(())
}

fn check_scope(scope: Option<&InstrumentationScope>, max: usize) -> Result<(), LimitError> {
    match scope {
        Some(s) if s.attributes.len() > max => Err(LimitError::ScopeAttributes {
            count: s.attributes.len(),
            max,
        }),
        _ => Ok(()),
    }
}

impl OtlpRequest for ExportTraceServiceRequest {
    type Response = ExportTraceServiceResponse;
    const SIGNAL: Signal = Signal::Traces;

    fn decode_json(body: &[u8]) -> Result<Self, super::json::JsonError> {
        super::json::decode::<super::json_traces::TracesRequest>(body).map(Self::from)
    }

    fn check(&mut self, limits: &Limits) -> Result<Checked, LimitError> {
        let max = limits.max_attributes_per_item;
        let mut c = Checked::default();
        for rs in &mut self.resource_spans {
            check_resource(rs.resource.as_ref(), max)?;
            for ss in &mut rs.scope_spans {
                check_scope(ss.scope.as_ref(), max)?;
                ss.spans.retain(|span| {
                    let why: Option<Box<dyn FnOnce() -> String>> = if !valid_id(&span.trace_id, 16)
                    {
                        Some(Box::new(|| {
                            format!(
                                "span has an invalid trace id ({} bytes, want 16 not all zero)",
                                span.trace_id.len()
                            )
                        }))
                    } else if !valid_id(&span.span_id, 8) {
                        Some(Box::new(|| {
                            format!(
                                "span in trace {} has an invalid span id ({} bytes, want 8 not all zero)",
                                const_hex::encode(&span.trace_id),
                                span.span_id.len()
                            )
                        }))
                    } else if !span.parent_span_id.is_empty() && span.parent_span_id.len() != 8 {
                        Some(Box::new(|| {
                            format!(
                                "span {} has an invalid parent span id ({} bytes)",
                                const_hex::encode(&span.span_id),
                                span.parent_span_id.len()
                            )
                        }))
                    } else if span.attributes.len() > max {
                        Some(Box::new(|| {
                            format!(
                                "span {} has {} attributes, more than the limit of {max}",
                                const_hex::encode(&span.span_id),
                                span.attributes.len()
                            )
                        }))
                    } else if span.events.len() > limits.max_events_per_span {
                        Some(Box::new(|| {
                            format!(
                                "span {} has {} events, more than the limit of {}",
                                const_hex::encode(&span.span_id),
                                span.events.len(),
                                limits.max_events_per_span
                            )
                        }))
                    } else if span.links.len() > limits.max_links_per_span {
                        Some(Box::new(|| {
                            format!(
                                "span {} has {} links, more than the limit of {}",
                                const_hex::encode(&span.span_id),
                                span.links.len(),
                                limits.max_links_per_span
                            )
                        }))
                    } else if span.events.iter().any(|e| e.attributes.len() > max)
                        || span.links.iter().any(|l| l.attributes.len() > max)
                    {
                        Some(Box::new(|| {
                            format!(
                                "span {} has an event or link with more than {max} attributes",
                                const_hex::encode(&span.span_id)
                            )
                        }))
                    } else {
                        None
                    };
                    c.keep(why)
                });
            }
        }
        Ok(c)
    }

    fn bind_cluster(&mut self, attr: &str, cluster: &str) {
        for rs in &mut self.resource_spans {
            bind_resource(&mut rs.resource, attr, cluster);
            for ss in &mut rs.scope_spans {
                unbind_scope(ss.scope.as_mut(), attr);
                for span in &mut ss.spans {
                    unbind(&mut span.attributes, attr);
                    for e in &mut span.events {
                        unbind(&mut e.attributes, attr);
                    }
                    for l in &mut span.links {
                        unbind(&mut l.attributes, attr);
                    }
                }
            }
        }
    }

    fn refuse_clusters(&mut self, attr: &str, reserved: &[Arc<str>], c: &mut Checked) {
        refuse_reserved(
            &mut self.resource_spans,
            |rs| rs.resource.as_ref(),
            |rs| rs.scope_spans.iter().map(|s| s.spans.len()).sum(),
            (attr, reserved, c),
        );
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

    fn decode_json(body: &[u8]) -> Result<Self, super::json::JsonError> {
        super::json::decode::<super::json_logs::LogsRequest>(body).map(Self::from)
    }

    fn check(&mut self, limits: &Limits) -> Result<Checked, LimitError> {
        let max = limits.max_attributes_per_item;
        let mut c = Checked::default();
        for rl in &mut self.resource_logs {
            check_resource(rl.resource.as_ref(), max)?;
            for sl in &mut rl.scope_logs {
                check_scope(sl.scope.as_ref(), max)?;
                sl.log_records.retain(|rec| {
                    let why: Option<Box<dyn FnOnce() -> String>> = if !rec.trace_id.is_empty()
                        && rec.trace_id.len() != 16
                    {
                        Some(Box::new(|| {
                            format!(
                                "log record has an invalid trace id ({} bytes, want 16 or none)",
                                rec.trace_id.len()
                            )
                        }))
                    } else if !rec.span_id.is_empty() && rec.span_id.len() != 8 {
                        Some(Box::new(|| {
                            format!(
                                "log record has an invalid span id ({} bytes, want 8 or none)",
                                rec.span_id.len()
                            )
                        }))
                    } else if rec.attributes.len() > max {
                        Some(Box::new(|| {
                            format!(
                                "log record has {} attributes, more than the limit of {max}",
                                rec.attributes.len()
                            )
                        }))
                    } else {
                        None
                    };
                    c.keep(why)
                });
            }
        }
        Ok(c)
    }

    fn bind_cluster(&mut self, attr: &str, cluster: &str) {
        for rl in &mut self.resource_logs {
            bind_resource(&mut rl.resource, attr, cluster);
            for sl in &mut rl.scope_logs {
                unbind_scope(sl.scope.as_mut(), attr);
                for rec in &mut sl.log_records {
                    unbind(&mut rec.attributes, attr);
                }
            }
        }
    }

    fn refuse_clusters(&mut self, attr: &str, reserved: &[Arc<str>], c: &mut Checked) {
        refuse_reserved(
            &mut self.resource_logs,
            |rl| rl.resource.as_ref(),
            |rl| rl.scope_logs.iter().map(|s| s.log_records.len()).sum(),
            (attr, reserved, c),
        );
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

fn exemplars_ok(exemplars: &[Exemplar], max: usize) -> bool {
    exemplars.iter().all(|e| e.filtered_attributes.len() <= max)
}

/// Why a point breaks the data model (the SLO engine's checks, `slo::metric_limits`), or
/// has more buckets or quantiles than any sender needs.
fn point_error(
    checked: Result<(), InvalidPoint>,
    buckets: usize,
    quantiles_ok: bool,
) -> Option<String> {
    if let Err(e) = checked {
        return Some(e.to_string());
    }
    if buckets > MAX_BUCKETS {
        return Some(format!(
            "data point has {buckets} buckets, more than {MAX_BUCKETS}"
        ));
    }
    (!quantiles_ok).then(|| "summary quantiles must be within 0..=1".to_string())
}

fn exp_buckets(p: &ExponentialHistogramDataPoint) -> usize {
    let side = |b: &Option<Buckets>| b.as_ref().map_or(0, |b| b.bucket_counts.len());
    side(&p.positive).max(side(&p.negative))
}

fn quantiles_ok(p: &SummaryDataPoint) -> bool {
    p.quantile_values
        .iter()
        .all(|q| (0.0..=1.0).contains(&q.quantile))
}

/// Keeps the points of one metric that pass, counting both.
fn retain_points<P>(
    c: &mut Checked,
    points: &mut Vec<P>,
    name: &str,
    why: impl Fn(&P) -> Option<String>,
) {
    points.retain(|p| {
        let problem = why(p);
        c.keep(problem.map(|e| move || format!("metric {name:?}: {e}")))
    });
}

impl OtlpRequest for ExportMetricsServiceRequest {
    type Response = ExportMetricsServiceResponse;
    const SIGNAL: Signal = Signal::Metrics;

    fn decode_json(body: &[u8]) -> Result<Self, super::json::JsonError> {
        super::json::decode::<super::json_metrics::MetricsRequest>(body).map(Self::from)
    }

    fn check(&mut self, limits: &Limits) -> Result<Checked, LimitError> {
        let max = limits.max_attributes_per_item;
        let too_many = |attrs: &[KeyValue], exemplars: &[Exemplar]| {
            (attrs.len() > max || !exemplars_ok(exemplars, max))
                .then(|| format!("data point has an attribute set larger than {max}"))
        };
        let mut c = Checked::default();
        for rm in &mut self.resource_metrics {
            check_resource(rm.resource.as_ref(), max)?;
            for sm in &mut rm.scope_metrics {
                check_scope(sm.scope.as_ref(), max)?;
                sm.metrics.retain_mut(|m| {
                    if m.name.is_empty() {
                        let points = metric_points(m.data.as_ref());
                        c.reject(points, || "metric without a name".to_string());
                        return false;
                    }
                    if slo_series_name(&m.name) {
                        let points = metric_points(m.data.as_ref());
                        c.reject(points, || slo_series_message(&m.name));
                        return false;
                    }
                    let name = m.name.as_str();
                    match m.data.as_mut() {
                        None => {}
                        Some(Data::Gauge(g)) => {
                            retain_points(&mut c, &mut g.data_points, name, |p| {
                                too_many(&p.attributes, &p.exemplars)
                                    .or_else(|| point_error(check_number(p), 0, true))
                            })
                        }
                        Some(Data::Sum(s)) => {
                            retain_points(&mut c, &mut s.data_points, name, |p| {
                                too_many(&p.attributes, &p.exemplars)
                                    .or_else(|| point_error(check_number(p), 0, true))
                            })
                        }
                        Some(Data::Histogram(h)) => {
                            retain_points(&mut c, &mut h.data_points, name, |p| {
                                too_many(&p.attributes, &p.exemplars).or_else(|| {
                                    point_error(check_histogram(p), p.bucket_counts.len(), true)
                                })
                            })
                        }
                        Some(Data::ExponentialHistogram(h)) => {
                            retain_points(&mut c, &mut h.data_points, name, |p| {
                                too_many(&p.attributes, &p.exemplars).or_else(|| {
                                    point_error(check_exponential(p), exp_buckets(p), true)
                                })
                            })
                        }
                        Some(Data::Summary(s)) => {
                            retain_points(&mut c, &mut s.data_points, name, |p| {
                                too_many(&p.attributes, &[]).or_else(|| {
                                    point_error(
                                        check_summary(p),
                                        p.quantile_values.len(),
                                        quantiles_ok(p),
                                    )
                                })
                            })
                        }
                    }
                    true
                });
            }
        }
        Ok(c)
    }

    fn bind_cluster(&mut self, attr: &str, cluster: &str) {
        for rm in &mut self.resource_metrics {
            bind_resource(&mut rm.resource, attr, cluster);
            for sm in &mut rm.scope_metrics {
                unbind_scope(sm.scope.as_mut(), attr);
                for m in &mut sm.metrics {
                    let points = |attrs: &mut Vec<KeyValue>, ex: &mut Vec<Exemplar>| {
                        unbind(attrs, attr);
                        for e in ex {
                            unbind(&mut e.filtered_attributes, attr);
                        }
                    };
                    match m.data.as_mut() {
                        None => {}
                        Some(Data::Gauge(g)) => g
                            .data_points
                            .iter_mut()
                            .for_each(|p| points(&mut p.attributes, &mut p.exemplars)),
                        Some(Data::Sum(s)) => s
                            .data_points
                            .iter_mut()
                            .for_each(|p| points(&mut p.attributes, &mut p.exemplars)),
                        Some(Data::Histogram(h)) => h
                            .data_points
                            .iter_mut()
                            .for_each(|p| points(&mut p.attributes, &mut p.exemplars)),
                        Some(Data::ExponentialHistogram(h)) => h
                            .data_points
                            .iter_mut()
                            .for_each(|p| points(&mut p.attributes, &mut p.exemplars)),
                        Some(Data::Summary(s)) => s
                            .data_points
                            .iter_mut()
                            .for_each(|p| unbind(&mut p.attributes, attr)),
                    }
                }
            }
        }
    }

    fn refuse_clusters(&mut self, attr: &str, reserved: &[Arc<str>], c: &mut Checked) {
        refuse_reserved(
            &mut self.resource_metrics,
            |rm| rm.resource.as_ref(),
            |rm| {
                rm.scope_metrics
                    .iter()
                    .flat_map(|s| &s.metrics)
                    .map(|m| metric_points(m.data.as_ref()))
                    .sum()
            },
            (attr, reserved, c),
        );
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

/// Data points in one metric.
pub(crate) fn metric_points(data: Option<&Data>) -> usize {
    match data {
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
        None => 0,
    }
}

/// Removes each resource entry of `list` whose resource names a reserved cluster under
/// `attr`, its `items` counted as refused with the reason.
fn refuse_reserved<T>(
    list: &mut Vec<T>,
    resource: impl Fn(&T) -> Option<&Resource>,
    items: impl Fn(&T) -> usize,
    (attr, reserved, c): (&str, &[Arc<str>], &mut Checked),
) {
    list.retain(|entry| {
        let Some(cluster) = reserved_cluster(resource(entry), attr, reserved) else {
            return true;
        };
        c.refuse_kept(items(entry), || reserved_message(cluster));
        false
    });
}
