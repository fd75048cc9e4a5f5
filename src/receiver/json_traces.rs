//! OTLP/JSON traces, read field by field.
//!
//! Spans, events, links and statuses are read without serde's `flatten`, every number and
//! id as the OTLP/JSON mapping says ([`super::json_numbers`]), and every attribute through
//! the shared mirrors of [`super::json_common`]; an error anywhere is the request's error.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use serde::Deserialize;

use super::json_common::{ResourceDe, ScopeDe, key_values, nullable, vec};
use super::json_numbers as num;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct TracesRequest {
    #[serde(deserialize_with = "nullable")]
    resource_spans: Vec<ResourceSpansDe>,
}

impl From<TracesRequest> for ExportTraceServiceRequest {
    fn from(r: TracesRequest) -> Self {
        Self {
            resource_spans: vec(r.resource_spans),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ResourceSpansDe {
    resource: Option<ResourceDe>,
    #[serde(deserialize_with = "nullable")]
    scope_spans: Vec<ScopeSpansDe>,
    #[serde(deserialize_with = "nullable")]
    schema_url: String,
}

impl From<ResourceSpansDe> for ResourceSpans {
    fn from(r: ResourceSpansDe) -> Self {
        Self {
            resource: r.resource.map(Resource::from),
            scope_spans: vec(r.scope_spans),
            schema_url: r.schema_url,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ScopeSpansDe {
    scope: Option<ScopeDe>,
    #[serde(deserialize_with = "nullable")]
    spans: Vec<SpanDe>,
    #[serde(deserialize_with = "nullable")]
    schema_url: String,
}

impl From<ScopeSpansDe> for ScopeSpans {
    fn from(s: ScopeSpansDe) -> Self {
        Self {
            scope: s.scope.map(Into::into),
            spans: vec(s.spans),
            schema_url: s.schema_url,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SpanDe {
    #[serde(deserialize_with = "num::hex_id")]
    trace_id: Vec<u8>,
    #[serde(deserialize_with = "num::hex_id")]
    span_id: Vec<u8>,
    #[serde(deserialize_with = "nullable")]
    trace_state: String,
    #[serde(deserialize_with = "num::hex_id")]
    parent_span_id: Vec<u8>,
    #[serde(deserialize_with = "num::int")]
    flags: u32,
    #[serde(deserialize_with = "nullable")]
    name: String,
    #[serde(deserialize_with = "num::int")]
    kind: i32,
    #[serde(deserialize_with = "num::int")]
    start_time_unix_nano: u64,
    #[serde(deserialize_with = "num::int")]
    end_time_unix_nano: u64,
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    #[serde(deserialize_with = "num::int")]
    dropped_attributes_count: u32,
    #[serde(deserialize_with = "nullable")]
    events: Vec<EventDe>,
    #[serde(deserialize_with = "num::int")]
    dropped_events_count: u32,
    #[serde(deserialize_with = "nullable")]
    links: Vec<LinkDe>,
    #[serde(deserialize_with = "num::int")]
    dropped_links_count: u32,
    status: Option<StatusDe>,
}

impl From<SpanDe> for Span {
    fn from(s: SpanDe) -> Self {
        Self {
            trace_id: s.trace_id,
            span_id: s.span_id,
            trace_state: s.trace_state,
            parent_span_id: s.parent_span_id,
            flags: s.flags,
            name: s.name,
            kind: s.kind,
            start_time_unix_nano: s.start_time_unix_nano,
            end_time_unix_nano: s.end_time_unix_nano,
            attributes: s.attributes,
            dropped_attributes_count: s.dropped_attributes_count,
            events: vec(s.events),
            dropped_events_count: s.dropped_events_count,
            links: vec(s.links),
            dropped_links_count: s.dropped_links_count,
            status: s.status.map(Status::from),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct EventDe {
    #[serde(deserialize_with = "num::int")]
    time_unix_nano: u64,
    #[serde(deserialize_with = "nullable")]
    name: String,
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    #[serde(deserialize_with = "num::int")]
    dropped_attributes_count: u32,
}

impl From<EventDe> for span::Event {
    fn from(e: EventDe) -> Self {
        Self {
            time_unix_nano: e.time_unix_nano,
            name: e.name,
            attributes: e.attributes,
            dropped_attributes_count: e.dropped_attributes_count,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct LinkDe {
    #[serde(deserialize_with = "num::hex_id")]
    trace_id: Vec<u8>,
    #[serde(deserialize_with = "num::hex_id")]
    span_id: Vec<u8>,
    #[serde(deserialize_with = "nullable")]
    trace_state: String,
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    #[serde(deserialize_with = "num::int")]
    dropped_attributes_count: u32,
    #[serde(deserialize_with = "num::int")]
    flags: u32,
}

impl From<LinkDe> for span::Link {
    fn from(l: LinkDe) -> Self {
        Self {
            trace_id: l.trace_id,
            span_id: l.span_id,
            trace_state: l.trace_state,
            attributes: l.attributes,
            dropped_attributes_count: l.dropped_attributes_count,
            flags: l.flags,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct StatusDe {
    #[serde(deserialize_with = "nullable")]
    message: String,
    #[serde(deserialize_with = "num::int")]
    code: i32,
}

impl From<StatusDe> for Status {
    fn from(s: StatusDe) -> Self {
        Self {
            message: s.message,
            code: s.code,
        }
    }
}
