//! The `debug` exporter: one log line per batch with its counts (`basic`), plus the
//! resources' service names (`normal`), plus item names (`detailed`). It never logs
//! attribute values or bodies: those may hold PII.

use async_trait::async_trait;

use crate::config::Verbosity;
use crate::pipeline::{Batch, ExportError, Exporter, Payload};

pub struct DebugExporter {
    id: String,
    verbosity: Verbosity,
}

impl DebugExporter {
    pub fn new(id: &str, verbosity: Verbosity) -> Self {
        Self {
            id: id.to_string(),
            verbosity,
        }
    }
}

fn service_names(batch: &Batch) -> Vec<String> {
    let resources: Vec<_> = match batch.payload() {
        Payload::Traces(r) => r
            .resource_spans
            .iter()
            .map(|x| x.resource.as_ref())
            .collect(),
        Payload::Metrics(r) => r
            .resource_metrics
            .iter()
            .map(|x| x.resource.as_ref())
            .collect(),
        Payload::Logs(r) => r
            .resource_logs
            .iter()
            .map(|x| x.resource.as_ref())
            .collect(),
    };
    resources
        .into_iter()
        .flatten()
        .flat_map(|r| r.attributes.iter())
        .filter(|kv| kv.key == "service.name")
        .filter_map(
            |kv| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => {
                    Some(s.clone())
                }
                _ => None,
            },
        )
        .collect()
}

fn item_names(batch: &Batch) -> Vec<String> {
    match batch.payload() {
        Payload::Traces(r) => r
            .resource_spans
            .iter()
            .flat_map(|x| &x.scope_spans)
            .flat_map(|s| &s.spans)
            .map(|s| s.name.clone())
            .collect(),
        Payload::Metrics(r) => r
            .resource_metrics
            .iter()
            .flat_map(|x| &x.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(|m| m.name.clone())
            .collect(),
        Payload::Logs(_) => Vec::new(),
    }
}

#[async_trait]
impl Exporter for DebugExporter {
    fn id(&self) -> &str {
        &self.id
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let signal = batch.signal();
        let tenant = batch.ctx.tenant.as_deref().unwrap_or("");
        match self.verbosity {
            Verbosity::Basic => {
                tracing::info!(exporter = %self.id, signal = signal.as_str(), items = batch.items, tenant, "batch")
            }
            Verbosity::Normal => {
                let services = service_names(batch).join(",");
                tracing::info!(exporter = %self.id, signal = signal.as_str(), items = batch.items, tenant, services, "batch")
            }
            Verbosity::Detailed => {
                let services = service_names(batch).join(",");
                let names = item_names(batch).join(",");
                tracing::info!(exporter = %self.id, signal = signal.as_str(), items = batch.items, tenant, services, names, "batch")
            }
        }
        Ok(())
    }
}
