//! The SLOs `slotel suggest` replays, the thresholds it tries, and the service column its
//! filters read.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema};

use crate::replay::ReplayError;
use crate::slo::capture::CapturedBatch;
use crate::slo::facts::SpanFacts;
use crate::slo::ottl::{Condition, ConditionTarget};
use crate::slo::spec::{AttrRef, Sli, Slo};

/// OTLP's `SPAN_KIND_SERVER`.
pub(super) const SPAN_KIND_SERVER: i32 = 2;

/// The column the candidates' filters read the service from.
const SERVICE_COLUMN: &str = "resource.attributes[\"service.name\"].str";

/// Availability and latency SLOs of the right window, to be given a service.
pub(super) struct Template {
    availability: Slo,
    latency: Slo,
    route: Option<String>,
}

/// A string as an OTTL literal.
fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `99.5` → `availability-99.5`.
pub(super) fn availability_name(objective: f64) -> String {
    format!("availability-{objective}")
}

/// (`99`, 900 ms) → `latency-99-900ms`.
pub(super) fn latency_name(objective: f64, threshold: u64) -> String {
    format!("latency-{objective}-{}", format_nanos(threshold))
}

const OBSERVED: &str = "observed-latency";

impl Template {
    pub(super) fn new(window: Duration, route: Option<&str>) -> Result<Self, ReplayError> {
        let days = window.as_secs() / 86_400;
        let text = format!(
            "service: suggest\n\
             slos:\n\
             \x20 - name: availability\n\
             \x20   objective: 99\n\
             \x20   window: {days}d\n\
             \x20   sli:\n\
             \x20     spans:\n\
             \x20       where: kind == SPAN_KIND_SERVER\n\
             \x20       bad: status.code == STATUS_CODE_ERROR or attributes[\"http.response.status_code\"] >= 500\n\
             \x20 - name: latency\n\
             \x20   objective: 99\n\
             \x20   window: {days}d\n\
             \x20   sli:\n\
             \x20     spans:\n\
             \x20       where: kind == SPAN_KIND_SERVER\n\
             \x20       latency_threshold: 1s\n"
        );
        let wrong = |e: String| ReplayError::Range(format!("window {days}d: {e}"));
        let mut slos = crate::slo::spec::parse_file(&text, "slotel suggest").map_err(|errors| {
            wrong(
                errors
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let latency = slos.pop();
        let availability = slos.pop();
        let (Some(availability), Some(latency)) = (availability, latency) else {
            return Err(wrong("no template".into()));
        };
        Ok(Self {
            availability,
            latency,
            route: route.map(str::to_string),
        })
    }

    fn of(
        &self,
        base: &Slo,
        service: &str,
        name: String,
        objective: f64,
    ) -> Result<Slo, ReplayError> {
        let mut text = format!(
            "resource.attributes[\"service.name\"] == {} and kind == SPAN_KIND_SERVER",
            literal(service)
        );
        if let Some(route) = &self.route {
            text.push_str(&format!(
                " and attributes[\"http.route\"] == {}",
                literal(route)
            ));
        }
        let filter = Condition::parse(&text, ConditionTarget::Span)
            .map_err(|e| ReplayError::Range(format!("service {service:?}: {e}")))?;
        let mut slo = base.clone();
        slo.service = service.to_string();
        slo.name = name;
        slo.objective = objective / 100.0;
        slo.percentiles = Vec::new();
        if let Sli::Spans(sli) = &mut slo.sli {
            sli.filter = filter;
        }
        Ok(slo)
    }

    /// The latency SLO whose percentiles are the observed ones.
    pub(super) fn observed(&self, service: &str, percentiles: &[f64]) -> Result<Slo, ReplayError> {
        let mut slo = self.of(&self.latency, service, OBSERVED.to_string(), 99.0)?;
        slo.percentiles = percentiles.to_vec();
        Ok(slo)
    }

    pub(super) fn availability(&self, service: &str, objective: f64) -> Result<Slo, ReplayError> {
        self.of(
            &self.availability,
            service,
            availability_name(objective),
            objective,
        )
    }

    pub(super) fn latency(
        &self,
        service: &str,
        objective: f64,
        threshold: u64,
    ) -> Result<Slo, ReplayError> {
        let mut slo = self.of(
            &self.latency,
            service,
            latency_name(objective, threshold),
            objective,
        )?;
        if let Sli::Spans(sli) = &mut slo.sli {
            sli.latency_threshold = Some(Duration::from_nanos(threshold));
        }
        Ok(slo)
    }
}

/// The smallest round threshold at or above `nanos`: 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8 or 9
/// times a power of ten nanoseconds (812 ms → 900 ms, 1.23 s → 1.5 s).
pub fn nice_ceil(nanos: u64) -> u64 {
    const STEPS: [u64; 11] = [10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90];
    let mut decade: u64 = 1;
    loop {
        for s in STEPS {
            let v = s.saturating_mul(decade) / 10;
            if v >= nanos && v > 0 {
                return v;
            }
        }
        if decade > u64::MAX / 100 {
            return nanos;
        }
        decade *= 10;
    }
}

/// Nanoseconds as a duration literal: `900ms`, `1.5s`, `2s`, `250us`, `1234ns`.
pub(super) fn format_nanos(n: u64) -> String {
    if n >= 1_000_000_000 && n.is_multiple_of(1_000_000) {
        let s = format!("{:.3}", n as f64 / 1e9);
        return format!("{}s", s.trim_end_matches('0').trim_end_matches('.'));
    }
    for (unit, per) in [("ms", 1_000_000u64), ("us", 1_000)] {
        if n >= per && n.is_multiple_of(per) {
            return format!("{}{unit}", n / per);
        }
    }
    format!("{n}ns")
}

/// Why a batch could not get its `service.name` column.
#[derive(Debug, thiserror::Error)]
pub(super) enum ServiceColumnError {
    #[error(transparent)]
    Condition(#[from] crate::slo::ottl::ConditionError),
    #[error("no service column")]
    NoService,
    #[error(transparent)]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error(transparent)]
    Facts(#[from] crate::slo::facts::FactsError),
}

/// The batch with a `resource.attributes["service.name"].str` column made from its
/// `service` column, unless it holds one already.
pub(super) fn with_service_column(
    batch: CapturedBatch,
) -> Result<CapturedBatch, ServiceColumnError> {
    let attr = AttrRef::Resource("service.name".to_string());
    let mut needed = crate::slo::facts::FactsSchema::default();
    let cond = Condition::parse(
        "resource.attributes[\"service.name\"] == \"\"",
        ConditionTarget::Span,
    )?;
    needed.add_condition(&cond);
    if batch.columns.covers(&needed).is_ok() {
        return Ok(batch);
    }
    let facts = &batch.facts.batch;
    let service = facts
        .column_by_name("service")
        .ok_or(ServiceColumnError::NoService)?
        .clone();
    let mut fields: Vec<Arc<Field>> = facts.schema().fields().iter().cloned().collect();
    fields.push(Arc::new(Field::new(
        SERVICE_COLUMN,
        service.data_type().clone(),
        true,
    )));
    let mut columns = facts.columns().to_vec();
    columns.push(service);
    let schema = Schema::new_with_metadata(fields, facts.schema().metadata().clone());
    let rebuilt = RecordBatch::try_new(Arc::new(schema), columns)?;
    let (facts, columns) = SpanFacts::from_batch(rebuilt)?;
    debug_assert!(columns.attributes().any(|a| *a == attr));
    Ok(CapturedBatch {
        facts,
        columns,
        ..batch
    })
}
