//! The `loki/<name>` exporter: OTLP logs → the Loki push API (`POST /loki/api/v1/push`,
//! protobuf, snappy block format), for Loki versions without (or instead of) the OTLP
//! endpoint.
//!
//! Mapping:
//! - **Stream labels** come from the configured resource attributes (a bounded list, at most
//!   15): the name with characters outside `[a-zA-Z0-9_]` turned into `_`, the value as
//!   text, escaped for the `{k="v"}` selector syntax. Resources without any of them get
//!   `service_name="unknown_service"` (Loki refuses a stream without labels). A value
//!   longer than `max_label_value_length` (2048 bytes by default, as Loki's limit) is cut
//!   and ends with a hash of the whole value, since Loki refuses the request otherwise.
//! - **One stream per distinct label set** in a request, entries sorted by timestamp inside
//!   it (Loki refuses out-of-order entries within a stream).
//! - **Line**: a string body as it is; any other body as JSON, map keys in their order
//!   (bytes as base64); no body is an empty line.
//! - **Structured metadata**: `trace_id` and `span_id` (lowercase hex, when set),
//!   `severity_text` (the record's, else derived from the severity number) and
//!   `severity_number`, then the record's attributes (names sanitized like labels), which
//!   is what Loki's own OTLP ingestion keeps too.
//! - **Timestamp**: the record's time, else its observed time, else now.
//!
//! Loki checks each entry against limits of its own and answers 400 for the whole push
//! when one breaks one, so each entry is kept within them here (see `export::limits`): a
//! line longer than `max_line_size` is truncated with a marker, the attributes past
//! `max_structured_metadata_entries_count` or `max_structured_metadata_size` are left out
//! of its structured metadata (in their order, the first that fit kept), and a record
//! older than `reject_old_samples_max_age` or further ahead than `creation_grace_period`
//! is dropped. Each is counted per record and reason.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prometheus_client::metrics::counter::Counter;
use prost::Message;

use super::client::HttpClient;
use super::delivery::Remote;
use super::error::{BuildError, EncodeError};
use super::limits::{self, Reason, Tally, truncate_line, value_text};
use super::proto::loki;
use super::queue::Record;
use super::remote_write::{cut_label_value, sanitize};
use super::retry::Outcome;
use crate::config::LokiConfig;
use crate::pipeline::{Batch, Payload};
use crate::signal::Signal;

/// The push path appended to an endpoint given without a path.
const PUSH_PATH: &str = "/loki/api/v1/push";

pub struct Loki {
    client: HttpClient,
    url: http::Uri,
    /// (resource attribute, label name) pairs, in configured order.
    labels: Arc<[(String, String)]>,
    /// Loki's per-entry limits, kept here.
    limits: EntryLimits,
    /// `slotel_exporter_label_values_cut_total` of this exporter, once it is counted.
    cut: Option<Counter>,
    /// `slotel_exporter_limited_records_total` of this exporter.
    limited: limits::Counters,
}

/// Loki's limits on one entry and its stream labels (each 0 or `None`: no limit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryLimits {
    /// Stream label values longer than this (bytes) are cut.
    pub max_value: usize,
    /// Lines longer than this (bytes) are truncated.
    pub max_line: usize,
    /// Structured metadata of an entry: at most this many bytes of names and values…
    pub max_meta_size: usize,
    /// … and this many pairs.
    pub max_meta_entries: usize,
    /// Entries older than now minus this (ns) are dropped.
    pub max_age_ns: Option<u64>,
    /// Entries later than now plus this (ns) are dropped.
    pub grace_ns: Option<u64>,
}

impl EntryLimits {
    /// Only stream label values cut; every other limit off.
    pub fn labels_only(max_value: usize) -> Self {
        Self {
            max_value,
            max_line: 0,
            max_meta_size: 0,
            max_meta_entries: 0,
            max_age_ns: None,
            grace_ns: None,
        }
    }

    pub fn new(cfg: &LokiConfig) -> Self {
        let ns = |d: Option<std::time::Duration>| d.map(crate::unix_time::nanos);
        Self {
            max_value: cfg.max_label_value_length,
            max_line: cfg.max_line_size,
            max_meta_size: cfg.max_structured_metadata_size,
            max_meta_entries: cfg.max_structured_metadata_entries_count,
            max_age_ns: ns(cfg.reject_old_samples_max_age),
            grace_ns: ns(cfg.creation_grace_period),
        }
    }
}

impl Loki {
    pub fn new(cfg: &LokiConfig) -> Result<Self, BuildError> {
        let url = push_url(&cfg.client.endpoint)?;
        let mut labels: Vec<(String, String)> = Vec::with_capacity(cfg.labels.len());
        for attr in &cfg.labels {
            let name = sanitize(attr, false);
            if !labels.iter().any(|(_, n)| *n == name) {
                labels.push((attr.clone(), name));
            }
        }
        Ok(Self {
            client: HttpClient::new(&cfg.client)?,
            url,
            labels: labels.into(),
            limits: EntryLimits::new(cfg),
            cut: None,
            limited: limits::Counters::default(),
        })
    }

    /// Counts the label values this exporter cuts and the records it changes or drops to
    /// keep Loki's limits in `metrics`, under the name `exporter`.
    pub fn counting(mut self, exporter: &str, metrics: &crate::telemetry::Metrics) -> Self {
        self.cut = Some(metrics.exporters.label_values_cut.get_or_create_owned(
            &crate::telemetry::QueueLabels {
                exporter: exporter.to_string(),
            },
        ));
        self.limited = limits::Counters::new(exporter, metrics);
        self
    }

    /// The push request of a logs export request (not yet compressed), how many label
    /// values it cut and the records it changed or dropped.
    pub fn push_request(
        &self,
        req: &ExportLogsServiceRequest,
        now_ns: u64,
    ) -> (loki::PushRequest, u64, Tally) {
        push_request(&self.labels, &self.limits, req, now_ns)
    }
}

/// The push URL: `endpoint` as it is, or with [`PUSH_PATH`] when it has no path.
pub fn push_url(endpoint: &str) -> Result<http::Uri, BuildError> {
    let uri: http::Uri = endpoint.parse().map_err(|source| BuildError::Endpoint {
        endpoint: endpoint.to_string(),
        source,
    })?;
    if matches!(uri.path(), "" | "/") && uri.query().is_none() {
        let url = format!("{}{PUSH_PATH}", endpoint.trim_end_matches('/'));
        return url.parse().map_err(|source| BuildError::Endpoint {
            endpoint: endpoint.to_string(),
            source,
        });
    }
    Ok(uri)
}

/// A label value (or any string) in the double quotes of a `{k="v"}` selector: `\`, `"`
/// and control characters escaped as Go's string literals have them.
pub fn escape_label_value(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// `{a="1", b="2"}` from name/value pairs sorted by name.
pub fn selector(labels: &[(String, String)]) -> String {
    let mut out = String::with_capacity(
        2 + labels
            .iter()
            .map(|(k, v)| k.len() + v.len() + 5)
            .sum::<usize>(),
    );
    out.push('{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push_str("=\"");
        escape_label_value(v, &mut out);
        out.push('"');
    }
    out.push('}');
    out
}

/// An AnyValue as JSON text: maps become objects (keys in their order), arrays arrays,
/// bytes base64 strings, non-finite doubles strings.
pub fn any_json(v: Option<&AnyValue>) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn json_str(s: &str, out: &mut String) {
    // serde_json's string escaping; a `&str` always serializes.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string()));
}

fn write_json(v: Option<&AnyValue>, out: &mut String) {
    match v.and_then(|v| v.value.as_ref()) {
        // An index into a profile's string table: there is no table here.
        None | Some(any_value::Value::StringValueStrindex(_)) => out.push_str("null"),
        Some(any_value::Value::StringValue(s)) => json_str(s, out),
        Some(any_value::Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(any_value::Value::IntValue(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(any_value::Value::DoubleValue(d)) => match serde_json::Number::from_f64(*d) {
            Some(n) => {
                let _ = write!(out, "{n}");
            }
            None => json_str(&d.to_string(), out),
        },
        Some(any_value::Value::BytesValue(b)) => {
            use base64::Engine as _;
            json_str(&base64::engine::general_purpose::STANDARD.encode(b), out);
        }
        Some(any_value::Value::ArrayValue(a)) => {
            out.push('[');
            for (i, x) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(Some(x), out);
            }
            out.push(']');
        }
        Some(any_value::Value::KvlistValue(kv)) => {
            out.push('{');
            for (i, kv) in kv.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(&kv.key, out);
                out.push(':');
                write_json(kv.value.as_ref(), out);
            }
            out.push('}');
        }
    }
}

/// The log line of a body: strings as they are, anything else as JSON.
pub fn line(body: Option<&AnyValue>) -> String {
    match body.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(_) => any_json(body),
    }
}

/// The severity name of an OTLP severity number (`TRACE` … `FATAL`), empty when unset.
pub fn severity_name(number: i32) -> &'static str {
    match number {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => "",
    }
}

fn pair(name: &str, value: String) -> loki::LabelPair {
    loki::LabelPair {
        name: name.to_string(),
        value,
    }
}

/// The entry of a record within `limits`, or `None` when Loki would refuse its time;
/// what it changes or drops is added to `tally`.
fn entry(
    rec: &LogRecord,
    now_ns: u64,
    limits: &EntryLimits,
    tally: &mut Tally,
) -> Option<loki::Entry> {
    let ns = [rec.time_unix_nano, rec.observed_time_unix_nano]
        .into_iter()
        .find(|t| *t != 0)
        .unwrap_or(now_ns);
    if limits
        .max_age_ns
        .is_some_and(|age| ns < now_ns.saturating_sub(age))
    {
        tally.add(Reason::TooOld);
        return None;
    }
    if limits
        .grace_ns
        .is_some_and(|grace| ns > now_ns.saturating_add(grace))
    {
        tally.add(Reason::TooNew);
        return None;
    }
    let mut meta = Vec::with_capacity(4 + rec.attributes.len());
    if !rec.trace_id.is_empty() && rec.trace_id.iter().any(|b| *b != 0) {
        meta.push(pair("trace_id", const_hex::encode(&rec.trace_id)));
    }
    if !rec.span_id.is_empty() && rec.span_id.iter().any(|b| *b != 0) {
        meta.push(pair("span_id", const_hex::encode(&rec.span_id)));
    }
    let severity = if rec.severity_text.is_empty() {
        severity_name(rec.severity_number)
    } else {
        rec.severity_text.as_str()
    };
    if !severity.is_empty() {
        meta.push(pair("severity_text", severity.to_string()));
    }
    if rec.severity_number != 0 {
        meta.push(pair("severity_number", rec.severity_number.to_string()));
    }
    let fixed = meta.len();
    let unlimited = |max: usize| if max == 0 { usize::MAX } else { max };
    let (max_entries, max_size) = (
        unlimited(limits.max_meta_entries),
        unlimited(limits.max_meta_size),
    );
    let mut size: usize = meta.iter().map(|p| p.name.len() + p.value.len()).sum();
    let mut dropped = false;
    for KeyValue { key, value, .. } in &rec.attributes {
        let name = sanitize(key, false);
        if meta[..fixed].iter().any(|p| p.name == name) {
            continue;
        }
        let value = value_text(value.as_ref());
        let more = name.len() + value.len();
        // In their order, each attribute that still fits; a large one does not keep the
        // small ones after it out.
        if meta.len() >= max_entries || size.saturating_add(more) > max_size {
            dropped = true;
            continue;
        }
        size += more;
        meta.push(loki::LabelPair { name, value });
    }
    if dropped {
        tally.add(Reason::MetadataDropped);
    }
    let mut line = line(rec.body.as_ref());
    if truncate_line(&mut line, limits.max_line) {
        tally.add(Reason::LineTruncated);
    }
    Some(loki::Entry {
        timestamp: Some(loki::Timestamp {
            seconds: i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX),
            nanos: i32::try_from(ns % 1_000_000_000).unwrap_or(0),
        }),
        line,
        structured_metadata: meta,
    })
}

fn entry_ns(e: &loki::Entry) -> (i64, i32) {
    e.timestamp
        .as_ref()
        .map_or((0, 0), |t| (t.seconds, t.nanos))
}

/// Groups the records of a request into streams by label set; entries sorted by time in
/// each stream, streams in the order their first record came. Label values longer than
/// `limits.max_value` bytes (0: no limit) are cut (see [`cut_label_value`]); the second
/// result counts them, once per resource. Each entry is kept within `limits` (see
/// `entry`); the third result counts the records changed or dropped.
pub fn push_request(
    labels: &[(String, String)],
    limits: &EntryLimits,
    req: &ExportLogsServiceRequest,
    now_ns: u64,
) -> (loki::PushRequest, u64, Tally) {
    let max_value = limits.max_value;
    let mut tally = Tally::default();
    let mut cut = 0u64;
    let mut streams: Vec<loki::Stream> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for rl in &req.resource_logs {
        let attrs = rl.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        let mut set: Vec<(String, String)> = labels
            .iter()
            .filter_map(|(attr, name)| {
                let kv = attrs.iter().find(|kv| kv.key == *attr)?;
                let mut v = value_text(kv.value.as_ref());
                cut += u64::from(cut_label_value(&mut v, max_value));
                (!v.is_empty()).then(|| (name.clone(), v))
            })
            .collect();
        if set.is_empty() {
            set.push(("service_name".to_string(), "unknown_service".to_string()));
        }
        set.sort();
        let key = selector(&set);
        let records = rl.scope_logs.iter().flat_map(|sl| sl.log_records.iter());
        let n = rl
            .scope_logs
            .iter()
            .map(|sl| sl.log_records.len())
            .sum::<usize>();
        if n == 0 {
            continue;
        }
        let i = *index.entry(key).or_insert_with_key(|key| {
            streams.push(loki::Stream {
                labels: key.clone(),
                entries: Vec::new(),
                hash: 0,
            });
            streams.len() - 1
        });
        let stream = &mut streams[i];
        stream.entries.reserve(n);
        stream
            .entries
            .extend(records.filter_map(|r| entry(r, now_ns, limits, &mut tally)));
    }
    // A stream whose every record was dropped is not sent.
    streams.retain(|s| !s.entries.is_empty());
    for s in &mut streams {
        s.entries.sort_by_key(entry_ns);
    }
    (loki::PushRequest { streams }, cut, tally)
}

#[async_trait]
impl Remote for Loki {
    fn accepts(&self, signal: Signal) -> bool {
        signal == Signal::Logs
    }

    fn encode(&self, batch: &Batch) -> Result<Vec<Record>, EncodeError> {
        let Payload::Logs(req) = batch.payload() else {
            return Ok(Vec::new());
        };
        let now = jiff::Timestamp::now();
        let now_ns = u64::try_from(now.as_nanosecond()).unwrap_or(0);
        let (push, cut, tally) = self.push_request(req, now_ns);
        if cut > 0
            && let Some(counter) = &self.cut
        {
            counter.inc_by(cut);
        }
        self.limited.record(&tally);
        if push.streams.is_empty() {
            return Ok(Vec::new());
        }
        let body = snap::raw::Encoder::new().compress_vec(&push.encode_to_vec())?;
        Ok(vec![Record {
            tenant: batch.ctx.tenant.as_deref().map(str::to_string),
            // The records dropped here are not in the request.
            items: (batch.items as u64)
                .saturating_sub(tally.get(Reason::TooOld) + tally.get(Reason::TooNew)),
            route: 0,
            queued_ms: u64::try_from(now.as_millisecond()).unwrap_or(0),
            body: Bytes::from(body),
        }])
    }

    async fn send(&self, record: &Record) -> Outcome {
        self.client.send_protobuf(&self.url, record, &[]).await
    }
}

#[cfg(test)]
mod tests;
