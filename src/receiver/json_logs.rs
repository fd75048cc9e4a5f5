//! OTLP/JSON logs, read field by field.
//!
//! Log records are read without serde's `flatten`, every number and id as the OTLP/JSON
//! mapping says ([`super::json_numbers`]), the body and attributes through the shared
//! mirrors of [`super::json_common`]; an error anywhere is the request's error.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde::Deserialize;

use super::json_common::{ResourceDe, ScopeDe, key_values, nullable, opt_any_value, vec};
use super::json_numbers as num;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LogsRequest {
    #[serde(deserialize_with = "nullable")]
    resource_logs: Vec<ResourceLogsDe>,
}

impl From<LogsRequest> for ExportLogsServiceRequest {
    fn from(r: LogsRequest) -> Self {
        Self {
            resource_logs: vec(r.resource_logs),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ResourceLogsDe {
    resource: Option<ResourceDe>,
    #[serde(deserialize_with = "nullable")]
    scope_logs: Vec<ScopeLogsDe>,
    #[serde(deserialize_with = "nullable")]
    schema_url: String,
}

impl From<ResourceLogsDe> for ResourceLogs {
    fn from(r: ResourceLogsDe) -> Self {
        Self {
            resource: r.resource.map(Resource::from),
            scope_logs: vec(r.scope_logs),
            schema_url: r.schema_url,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ScopeLogsDe {
    scope: Option<ScopeDe>,
    #[serde(deserialize_with = "nullable")]
    log_records: Vec<LogRecordDe>,
    #[serde(deserialize_with = "nullable")]
    schema_url: String,
}

impl From<ScopeLogsDe> for ScopeLogs {
    fn from(s: ScopeLogsDe) -> Self {
        Self {
            scope: s.scope.map(Into::into),
            log_records: vec(s.log_records),
            schema_url: s.schema_url,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct LogRecordDe {
    #[serde(deserialize_with = "num::int")]
    time_unix_nano: u64,
    #[serde(deserialize_with = "num::int")]
    observed_time_unix_nano: u64,
    #[serde(deserialize_with = "num::int")]
    severity_number: i32,
    #[serde(deserialize_with = "nullable")]
    severity_text: String,
    #[serde(deserialize_with = "opt_any_value")]
    body: Option<AnyValue>,
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    #[serde(deserialize_with = "num::int")]
    dropped_attributes_count: u32,
    #[serde(deserialize_with = "num::int")]
    flags: u32,
    #[serde(deserialize_with = "num::hex_id")]
    trace_id: Vec<u8>,
    #[serde(deserialize_with = "num::hex_id")]
    span_id: Vec<u8>,
    #[serde(deserialize_with = "nullable")]
    event_name: String,
}

impl From<LogRecordDe> for LogRecord {
    fn from(l: LogRecordDe) -> Self {
        Self {
            time_unix_nano: l.time_unix_nano,
            observed_time_unix_nano: l.observed_time_unix_nano,
            severity_number: l.severity_number,
            severity_text: l.severity_text,
            body: l.body,
            attributes: l.attributes,
            dropped_attributes_count: l.dropped_attributes_count,
            flags: l.flags,
            trace_id: l.trace_id,
            span_id: l.span_id,
            event_name: l.event_name,
        }
    }
}
