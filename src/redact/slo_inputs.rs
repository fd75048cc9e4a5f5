//! Log SLI inputs that redaction would take away: reported by `slotel check`.
//!
//! Redaction runs before the SLO engine, so a log SLI that reads a field a policy removes
//! (`drop`) or rewrites (a sensitive key's value replaced, masked or hashed) silently loses
//! its input: its records stop matching, or count as unreadable. Each field a log SLI
//! reads (`where`, `bad`, the latency field, `group_by`) is put in a probe record, with a
//! value no detector matches (`200`), as an attribute, a resource attribute, or a field of
//! a JSON string body and of a map body; every policy redacts the probe with its real
//! rules, and what no longer reads the same is reported. Rules that depend on the value
//! (detectors) cannot be judged without the data and are not reported.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, KeyValueList};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::Policies;
use crate::attr::{AttrValue, kv};
use crate::slo::ottl::{BodyFields, BodyPaths, BodyValue};
use crate::slo::spec::{AttrRef, Sli, SloSet};

/// The probe value: a string that no built-in detector matches.
const PROBE: &str = "200";

/// A log SLI field a redaction policy takes away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostInput {
    pub service: String,
    pub slo: String,
    /// The field as the SLO file writes it (`body["token"]`).
    pub field: String,
    /// The policy's name (`default` for the top-level rules).
    pub policy: String,
    /// `removes` or `rewrites`.
    pub how: &'static str,
}

impl std::fmt::Display for LostInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "slo {}/{} reads `{}`, which redaction policy {:?} {}: the slo would lose its input",
            self.service, self.slo, self.field, self.policy, self.how
        )
    }
}

/// Every field of every log SLI of `set` that a policy of `policies` removes or rewrites.
pub fn lost_log_inputs(policies: &Policies, set: &SloSet) -> Vec<LostInput> {
    let mut out = Vec::new();
    for slo in &set.slos {
        let Sli::Logs(sli) = &slo.sli else {
            continue;
        };
        let mut fields: Vec<AttrRef> = sli.filter.attributes().into_iter().collect();
        if let Some(bad) = &sli.bad {
            fields.extend(bad.attributes());
        }
        fields.extend(sli.latency.iter().map(|l| l.field.clone()));
        fields.extend(slo.group_by.iter().cloned());
        fields.sort();
        fields.dedup();
        for field in &fields {
            for policy in 0..policies.len() {
                if let Some(how) = probe(policies, policy, field) {
                    out.push(LostInput {
                        service: slo.service.clone(),
                        slo: slo.name.clone(),
                        field: field.to_string(),
                        policy: policies.name(policy).to_string(),
                        how,
                    });
                }
            }
        }
    }
    out
}

fn request(resource: Vec<KeyValue>, record: LogRecord) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![record],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// How policy `policy` treats `field`, `None` when it keeps it as it is.
fn probe(policies: &Policies, policy: usize, field: &AttrRef) -> Option<&'static str> {
    let redact = |mut req: ExportLogsServiceRequest| {
        policies.redactor(policy).session().logs(&mut req);
        req
    };
    let compare = |after: Option<&AnyValue>| match after.and_then(|v| v.value.as_ref()) {
        None => Some("removes"),
        Some(Value::StringValue(s)) if s == PROBE => None,
        Some(_) => Some("rewrites"),
    };
    match field {
        AttrRef::Item(key) => {
            let record = LogRecord {
                attributes: vec![kv(key, PROBE)],
                ..Default::default()
            };
            let req = redact(request(Vec::new(), record));
            let record = &req.resource_logs[0].scope_logs[0].log_records[0];
            compare(attribute(&record.attributes, key))
        }
        AttrRef::Resource(key) => {
            let req = redact(request(vec![kv(key, PROBE)], LogRecord::default()));
            let attrs = req.resource_logs[0]
                .resource
                .as_ref()
                .map_or(&[][..], |r| &r.attributes[..]);
            compare(attribute(attrs, key))
        }
        // The whole body: nothing to probe by key.
        AttrRef::Body(keys) if keys.is_empty() => None,
        AttrRef::Body(keys) => {
            let mut json = serde_json::Value::String(PROBE.to_string());
            let mut map = PROBE.into_any_value();
            for key in keys.iter().rev() {
                json = serde_json::Value::Object([(key.clone(), json)].into_iter().collect());
                map = Value::KvlistValue(KeyValueList {
                    values: vec![kv(key, map)],
                })
                .into_any_value();
            }
            let mut paths = BodyPaths::default();
            paths.add(keys);
            [json.to_string().into_any_value(), map]
                .into_iter()
                .find_map(|body| {
                    let record = LogRecord {
                        body: Some(body),
                        ..Default::default()
                    };
                    let req = redact(request(Vec::new(), record));
                    let record = &req.resource_logs[0].scope_logs[0].log_records[0];
                    let fields = BodyFields::read(record.body.as_ref(), &paths);
                    match fields.value(0) {
                        BodyValue::Str(s) if s == PROBE => None,
                        BodyValue::Nil => Some("removes"),
                        _ => Some("rewrites"),
                    }
                })
        }
    }
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}
