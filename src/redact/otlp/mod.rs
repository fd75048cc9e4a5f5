//! Where redaction applies in OTLP data: log bodies and attributes; span names, attributes,
//! status messages, event and link attributes; metric data-point attributes (every point
//! kind) and their exemplars' filtered attributes; resource and scope attributes. Inside
//! map values (a map body, a map attribute) the keys are scanned too; `bytes` values
//! that are UTF-8 are redacted like strings and stay bytes. Ids,
//! timestamps, kinds and flags are never touched, nor metric names and values. Pseudonymised
//! resource attributes (Kubernetes identifiers) are replaced by their keyed hash. `summary`
//! adds its count to log records and spans only: on a data point it would split series.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Exemplar, metric};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::context::Key;
use super::json::{pair_name_key, pair_value_key};
use super::keys::KeyClass;
use super::{Session, Text, TypeId};
use crate::redact::PiiType;

/// The attribute added by `summary: true`: redactions in the record or span.
pub const SUMMARY_ATTRIBUTE: &str = "slotel.redaction.count";

/// Integers at least this large are scanned (card and resident numbers sent as ints).
const SCANNED_INT: i64 = 1_000_000_000_000;

/// Under a key that says what a number is (`phone`, `account_no`, `dob`), integers of
/// six digits or more are scanned.
const HINTED_INT: i64 = 100_000;

/// A key, for context (none for ignored and sensitive ones).
fn key_of(class: KeyClass, key: &str) -> Key<'_> {
    match class {
        KeyClass::Normal => Key(Some(key)),
        _ => Key::NONE,
    }
}

impl Session<'_> {
    /// Redacts an export logs request in place.
    pub fn logs(&mut self, req: &mut ExportLogsServiceRequest) {
        for rl in &mut req.resource_logs {
            if let Some(res) = &mut rl.resource {
                self.resource(res);
            }
            for sl in &mut rl.scope_logs {
                if let Some(scope) = &mut sl.scope {
                    self.attributes(&mut scope.attributes);
                }
                for rec in &mut sl.log_records {
                    let before = self.total;
                    if let Some(body) = &mut rec.body
                        && self.any_value(body, KeyClass::Normal, Key::NONE, false) == Keep::Drop
                    {
                        rec.body = None;
                    }
                    self.attributes(&mut rec.attributes);
                    self.summary(before, &mut rec.attributes);
                }
            }
        }
    }

    /// Redacts an export trace request in place.
    pub fn traces(&mut self, req: &mut ExportTraceServiceRequest) {
        let span_names = self.redactor.span_names;
        for rs in &mut req.resource_spans {
            if let Some(res) = &mut rs.resource {
                self.resource(res);
            }
            for ss in &mut rs.scope_spans {
                if let Some(scope) = &mut ss.scope {
                    self.attributes(&mut scope.attributes);
                }
                for span in &mut ss.spans {
                    let before = self.total;
                    if span_names {
                        self.free_text(&mut span.name);
                    }
                    self.attributes(&mut span.attributes);
                    for event in &mut span.events {
                        self.attributes(&mut event.attributes);
                    }
                    for link in &mut span.links {
                        self.attributes(&mut link.attributes);
                    }
                    if let Some(status) = &mut span.status {
                        self.free_text(&mut status.message);
                    }
                    self.summary(before, &mut span.attributes);
                }
            }
        }
    }

    /// Redacts an export metrics request in place: resource, scope and data-point
    /// attributes, and the filtered attributes of exemplars.
    pub fn metrics(&mut self, req: &mut ExportMetricsServiceRequest) {
        for rm in &mut req.resource_metrics {
            if let Some(res) = &mut rm.resource {
                self.resource(res);
            }
            for sm in &mut rm.scope_metrics {
                if let Some(scope) = &mut sm.scope {
                    self.attributes(&mut scope.attributes);
                }
                for m in &mut sm.metrics {
                    self.attributes(&mut m.metadata);
                    let Some(data) = &mut m.data else {
                        continue;
                    };
                    match data {
                        metric::Data::Gauge(g) => {
                            for p in &mut g.data_points {
                                self.attributes(&mut p.attributes);
                                self.exemplars(&mut p.exemplars);
                            }
                        }
                        metric::Data::Sum(sum) => {
                            for p in &mut sum.data_points {
                                self.attributes(&mut p.attributes);
                                self.exemplars(&mut p.exemplars);
                            }
                        }
                        metric::Data::Histogram(h) => {
                            for p in &mut h.data_points {
                                self.attributes(&mut p.attributes);
                                self.exemplars(&mut p.exemplars);
                            }
                        }
                        metric::Data::ExponentialHistogram(h) => {
                            for p in &mut h.data_points {
                                self.attributes(&mut p.attributes);
                                self.exemplars(&mut p.exemplars);
                            }
                        }
                        metric::Data::Summary(s) => {
                            for p in &mut s.data_points {
                                self.attributes(&mut p.attributes);
                            }
                        }
                    }
                }
            }
        }
    }

    fn exemplars(&mut self, exemplars: &mut [Exemplar]) {
        for e in exemplars {
            self.attributes(&mut e.filtered_attributes);
        }
    }

    fn summary(&mut self, before: u64, attributes: &mut Vec<KeyValue>) {
        if self.redactor.summary && self.total > before {
            attributes.push(KeyValue {
                key: SUMMARY_ATTRIBUTE.to_string(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::IntValue(
                        i64::try_from(self.total - before).unwrap_or(i64::MAX),
                    )),
                }),
                ..Default::default()
            });
        }
    }

    fn resource(&mut self, res: &mut Resource) {
        if !self.redactor.pseudonymize.is_empty() {
            let k8s = self.redactor.k8s;
            for kv in &mut res.attributes {
                if !self.redactor.pseudonymize.contains(&kv.key) {
                    continue;
                }
                if let Some(AnyValue {
                    value: Some(any_value::Value::StringValue(s)),
                }) = &mut kv.value
                    && let Text::Changed(new) = self.whole(k8s, s)
                {
                    *s = new;
                }
            }
        }
        self.attributes(&mut res.attributes);
    }

    /// A span name or status message: a drop removes the match only.
    fn free_text(&mut self, s: &mut String) {
        if let Text::Changed(new) = self.text(s, false, Key::NONE) {
            *s = new;
        }
    }

    fn attributes(&mut self, attributes: &mut Vec<KeyValue>) {
        attributes.retain_mut(|kv| {
            let class = if self.redactor.pseudonymize.contains(&kv.key) {
                KeyClass::Ignored
            } else {
                self.key_seen(&kv.key).class
            };
            let hint = key_of(class, &kv.key);
            match &mut kv.value {
                Some(v) => self.any_value(v, class, hint, true) == Keep::Keep,
                None => true,
            }
        });
    }

    /// Redacts one value under a key of class `class` and hint `hint`; `in_field` is
    /// false only for a log body.
    fn any_value(
        &mut self,
        v: &mut AnyValue,
        class: KeyClass,
        hint: Key<'_>,
        in_field: bool,
    ) -> Keep {
        use any_value::Value;
        let secret = TypeId::builtin(PiiType::Secret);
        let Some(value) = &mut v.value else {
            return Keep::Keep;
        };
        let text = match (class, &mut *value) {
            (KeyClass::Ignored, _) => return Keep::Keep,
            (KeyClass::Sensitive, Value::StringValue(s)) => self.whole(secret, s),
            (KeyClass::Sensitive, Value::IntValue(i)) => self.whole(secret, &i.to_string()),
            (KeyClass::Sensitive, Value::DoubleValue(d)) => self.whole(secret, &d.to_string()),
            (KeyClass::Sensitive, Value::BytesValue(_)) => self.whole(secret, ""),
            (KeyClass::Normal, Value::StringValue(s)) => self.string(s, in_field, 0, 0, hint),
            (KeyClass::Normal, Value::IntValue(i))
                if i.unsigned_abs() >= SCANNED_INT as u64
                    || (i.unsigned_abs() >= HINTED_INT as u64 && hint.hint() != 0) =>
            {
                self.text(&i.to_string(), true, hint)
            }
            (KeyClass::Normal, Value::BytesValue(bytes)) => {
                // Bytes that are UTF-8 are redacted like a string (JSON-aware) and stay
                // bytes; other bytes are left as they are.
                let Ok(s) = std::str::from_utf8(bytes) else {
                    return Keep::Keep;
                };
                return match self.string(s, in_field, 0, 0, hint) {
                    Text::Clean => Keep::Keep,
                    Text::Changed(s) => {
                        *bytes = s.into_bytes();
                        Keep::Keep
                    }
                    Text::Drop if in_field => Keep::Drop,
                    Text::Drop => {
                        bytes.clear();
                        Keep::Keep
                    }
                };
            }
            (_, Value::KvlistValue(list)) => {
                // The string under a `name` or `key` entry of this map, which names the
                // value under its `value` entry (a Kubernetes `env` entry, an AWS tag, a
                // header `{name, value}`), as in a JSON object.
                let mut pair_name: Option<String> = None;
                list.values.retain_mut(|kv| {
                    let mut child = match class {
                        KeyClass::Normal => self.key_seen(&kv.key).class,
                        other => other,
                    };
                    let named = if child == KeyClass::Normal && pair_value_key(&kv.key) {
                        pair_name.take()
                    } else {
                        if pair_name_key(&kv.key)
                            && let Some(AnyValue {
                                value: Some(Value::StringValue(n)),
                            }) = &kv.value
                        {
                            pair_name = Some(n.clone());
                        }
                        None
                    };
                    // A map key can be PII itself, as in a JSON body.
                    if child != KeyClass::Ignored && !self.redactor.plain_key(&kv.key) {
                        match self.text(&kv.key, true, Key::NONE) {
                            Text::Clean => {}
                            Text::Drop => return false,
                            Text::Changed(new) => kv.key = new,
                        }
                    }
                    let child_hint = match &named {
                        Some(n) => {
                            child = self.key_seen(n).class;
                            key_of(child, n)
                        }
                        None => key_of(child, &kv.key),
                    };
                    match &mut kv.value {
                        Some(v) => self.any_value(v, child, child_hint, true) == Keep::Keep,
                        None => true,
                    }
                });
                return Keep::Keep;
            }
            (_, Value::ArrayValue(array)) => {
                array
                    .values
                    .retain_mut(|v| self.any_value(v, class, hint, true) == Keep::Keep);
                return Keep::Keep;
            }
            _ => return Keep::Keep,
        };
        match text {
            Text::Clean => Keep::Keep,
            Text::Changed(s) => {
                *value = Value::StringValue(s);
                Keep::Keep
            }
            Text::Drop if in_field => Keep::Drop,
            // A body cannot be dropped by a match inside it (text drops remove the match).
            Text::Drop => {
                *value = Value::StringValue(String::new());
                Keep::Keep
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keep {
    Keep,
    Drop,
}

#[cfg(test)]
mod tests;
