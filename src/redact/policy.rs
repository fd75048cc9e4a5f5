//! Redaction policies: the default one and those selected by the sender's tenant (from
//! its token) or by the `service.name` resource attribute, each a compiled [`Redactor`];
//! and allow-lists, the found values a policy never redacts.
//!
//! Selection is per batch when no policy matches on services, else per resource (a
//! batch can carry several services): each part is redacted by its policy's session and
//! counted under its policy and the batch's tenant, once per batch.

use std::collections::HashSet;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::resource::v1::Resource;
use regex_automata::meta;

use super::{RedactError, Redactor, Session};
use crate::config::{AllowList, RedactionConfig, policy_matches};
use crate::pipeline::{Batch, Payload};
use crate::signal::Signal;
use crate::telemetry::{Metrics, RedactionFallbackLabels, RedactionLabels};
use crate::user_regex::compile_regex;

/// The `policy` label of the default policy.
pub const DEFAULT_POLICY: &str = "default";

/// A compiled allow-list.
#[derive(Default)]
pub(crate) struct Allow {
    /// Lowercased (ASCII).
    values: HashSet<String>,
    patterns: Vec<meta::Regex>,
}

impl Allow {
    pub(crate) fn new(cfg: &AllowList) -> Result<Self, RedactError> {
        let patterns = cfg
            .patterns
            .iter()
            .map(|p| compile_regex(&crate::config::anchored(p)).map_err(RedactError::AllowPattern))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            values: cfg.values.iter().map(|v| v.to_ascii_lowercase()).collect(),
            patterns,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty() && self.patterns.is_empty()
    }

    /// True when a found value is allowed: equal to a listed value (ignoring ASCII case)
    /// or matched whole by a listed pattern.
    pub(crate) fn permits(&self, value: &str) -> bool {
        (!self.values.is_empty() && self.values.contains(&value.to_ascii_lowercase()))
            || self.patterns.iter().any(|re| re.is_match(value))
    }
}

struct Named {
    name: String,
    tenants: Vec<String>,
    services: Vec<String>,
    redactor: Redactor,
}

/// Every policy of a `processors.redaction`, compiled.
pub struct Policies {
    default: Arc<Redactor>,
    named: Vec<Named>,
    /// Whether some policy matches on `service.name` (selection is then per resource).
    by_service: bool,
}

impl Policies {
    pub fn new(cfg: &RedactionConfig) -> Result<Self, RedactError> {
        let mut named = Vec::with_capacity(cfg.policies.len());
        for p in &cfg.policies {
            named.push(Named {
                name: p.name.clone(),
                tenants: p.tenants.clone(),
                services: p.services.clone(),
                redactor: Redactor::new(&p.config)?,
            });
        }
        Ok(Self {
            default: Arc::new(Redactor::new(cfg)?),
            by_service: named.iter().any(|p| !p.services.is_empty()),
            named,
        })
    }

    /// The default policy alone.
    pub fn single(redactor: Arc<Redactor>) -> Self {
        Self {
            default: redactor,
            named: Vec::new(),
            by_service: false,
        }
    }

    /// The index of the policy for data of `tenant` and `service`: the first policy whose
    /// lists hold them (each list it gives), else the default (0).
    pub fn select(&self, tenant: Option<&str>, service: Option<&str>) -> usize {
        self.named
            .iter()
            .position(|p| policy_matches(&p.tenants, &p.services, tenant, service))
            .map_or(0, |i| i + 1)
    }

    /// The number of policies, the default included (indexes `0..len()`).
    pub fn len(&self) -> usize {
        1 + self.named.len()
    }

    /// Never: the default policy is always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The policy's name (`default` for 0).
    pub fn name(&self, index: usize) -> &str {
        match index {
            0 => DEFAULT_POLICY,
            i => self.named.get(i - 1).map_or(DEFAULT_POLICY, |p| &p.name),
        }
    }

    pub fn redactor(&self, index: usize) -> &Redactor {
        match index {
            0 => &self.default,
            i => self
                .named
                .get(i - 1)
                .map_or(&*self.default, |p| &p.redactor),
        }
    }

    /// Redacts a batch in place and counts it; returns the number of redactions. A batch
    /// with any redaction loses its bytes as received.
    pub(crate) fn process(&self, metrics: &Metrics, batch: &mut Batch) -> u64 {
        batch.edit_payload(|ctx, payload| self.redact(metrics, ctx.tenant.as_deref(), payload))
    }

    fn redact(&self, metrics: &Metrics, tenant: Option<&str>, payload: &mut Payload) -> u64 {
        let signal = payload.signal();
        let mut sessions: Vec<Option<Session<'_>>> = (0..=self.named.len()).map(|_| None).collect();
        if !self.by_service {
            let s = session(&mut sessions, self, self.select(tenant, None));
            match payload {
                Payload::Logs(req) => s.logs(req),
                Payload::Traces(req) => s.traces(req),
                Payload::Metrics(req) => s.metrics(req),
            }
        } else {
            // One resource at a time, moved into a request of its own and back.
            match payload {
                Payload::Logs(req) => {
                    for rl in &mut req.resource_logs {
                        let i = self.select(tenant, service_name(rl.resource.as_ref()));
                        let mut one = ExportLogsServiceRequest {
                            resource_logs: vec![std::mem::take(rl)],
                        };
                        session(&mut sessions, self, i).logs(&mut one);
                        if let Some(back) = one.resource_logs.pop() {
                            *rl = back;
                        }
                    }
                }
                Payload::Traces(req) => {
                    for rs in &mut req.resource_spans {
                        let i = self.select(tenant, service_name(rs.resource.as_ref()));
                        let mut one = ExportTraceServiceRequest {
                            resource_spans: vec![std::mem::take(rs)],
                        };
                        session(&mut sessions, self, i).traces(&mut one);
                        if let Some(back) = one.resource_spans.pop() {
                            *rs = back;
                        }
                    }
                }
                Payload::Metrics(req) => {
                    for rm in &mut req.resource_metrics {
                        let i = self.select(tenant, service_name(rm.resource.as_ref()));
                        let mut one = ExportMetricsServiceRequest {
                            resource_metrics: vec![std::mem::take(rm)],
                        };
                        session(&mut sessions, self, i).metrics(&mut one);
                        if let Some(back) = one.resource_metrics.pop() {
                            *rm = back;
                        }
                    }
                }
            }
        }
        let mut total = 0;
        for (i, s) in sessions.iter().enumerate() {
            if let Some(s) = s {
                total += s.total();
                record(metrics, s, signal, tenant.unwrap_or(""), self.name(i));
            }
        }
        total
    }
}

/// The session of policy `i`, started on first use.
fn session<'a, 'r>(
    sessions: &'a mut [Option<Session<'r>>],
    policies: &'r Policies,
    i: usize,
) -> &'a mut Session<'r> {
    sessions[i].get_or_insert_with(|| policies.redactor(i).session())
}

/// The `service.name` of a resource, when it is a string.
fn service_name(resource: Option<&Resource>) -> Option<&str> {
    resource?
        .attributes
        .iter()
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
}

/// Adds a session's counts to the metrics (once per batch, never per item).
fn record(metrics: &Metrics, session: &Session<'_>, signal: Signal, tenant: &str, policy: &str) {
    for (ty, action, n) in session.counts() {
        let labels = RedactionLabels {
            r#type: ty.to_string(),
            action: action.as_str(),
            signal,
            tenant: tenant.to_string(),
            policy: policy.to_string(),
        };
        metrics.redactions.get_or_create(&labels).inc_by(n);
    }
    for (reason, n) in session.fallbacks() {
        let labels = RedactionFallbackLabels {
            reason: reason.as_str(),
            signal,
        };
        metrics.redaction_fallbacks.get_or_create(&labels).inc_by(n);
    }
}
