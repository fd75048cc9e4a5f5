//! The body of the span facts fuzz target (`fuzz/fuzz_targets/span_facts.rs`), shared
//! with the stable tests that run it over generated and mutated requests
//! (`spans_wire_tests.rs`).
//!
//! Any bytes, read on the wire ([`SpanFacts::from_wire`], [`check_spans`], and both in
//! one walk, [`check_spans_with_facts`]) and decoded with prost then built
//! ([`SpanFacts::build`], the receiver's per-item check), must give the same answer: both
//! refuse, or both accept with the same columns, the same adjusted counts and invalid
//! `tracestate` counts, the same span and resource counts, and the same verdict on the
//! per-item rules. The reader of bytes known to decode
//! ([`SpanFacts::from_checked_wire`]) gives the same columns wherever prost decodes, and
//! runs on every input without panicking.

use std::sync::OnceLock;

use arrow_array::RecordBatch;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use super::otlp::OtlpRequest;
use crate::config::Limits;
use crate::slo::facts::wire::{ItemLimits, check_spans, check_spans_with_facts};
use crate::slo::facts::{FactsSchema, SpanFacts};
use crate::slo::ottl::AttrRef;

/// The cluster attribute the comparisons use.
pub const CLUSTER_ATTRIBUTE: &str = "k8s.cluster.name";

/// A schema reading every column of the attributes the test requests use (and of some
/// they never set), item and resource.
pub fn schema() -> &'static FactsSchema {
    static SCHEMA: OnceLock<FactsSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut schema = FactsSchema::default();
        for key in [
            "http.route",
            "http.response.status_code",
            "a",
            "b",
            "k",
            "",
            "ключ",
            "never.set",
        ] {
            schema.add_any(AttrRef::Item(key.into()));
        }
        for key in ["service.name", "k8s.cluster.name", "r", "ключ"] {
            schema.add_any(AttrRef::Resource(key.into()));
        }
        schema
    })
}

/// The receiver's limits as the wire walk takes them.
pub fn item_limits(limits: &Limits) -> ItemLimits {
    ItemLimits {
        max_attributes: limits.max_attributes_per_item,
        max_events: limits.max_events_per_span,
        max_links: limits.max_links_per_span,
    }
}

/// The fuzz target's check: panics when the wire reading and prost disagree on `data`.
pub fn span_facts_one(data: &[u8]) {
    let token = data.first().is_some_and(|b| b & 1 == 1).then_some("bound");
    if let Err(e) = compare(data, schema(), token, &Limits::default()) {
        panic!("{e}");
    }
}

/// Compares the wire reading of `data` with prost's decoding; the difference, if any.
pub fn compare(
    data: &[u8],
    schema: &FactsSchema,
    token_cluster: Option<&str>,
    limits: &Limits,
) -> Result<(), String> {
    let decoded = ExportTraceServiceRequest::decode(data);
    let wire = SpanFacts::from_wire(data, token_cluster, CLUSTER_ATTRIBUTE, schema);
    let checked = check_spans(data, &item_limits(limits));
    // The receiver's one walk that checks and reads facts: the same verdict and counts as
    // the check alone, the same facts as prost's decoding.
    let walked = check_spans_with_facts(
        data,
        &item_limits(limits),
        token_cluster,
        CLUSTER_ATTRIBUTE,
        schema,
        // Sized by a first look at the request, or (odd bytes) by a given count.
        data.first()
            .filter(|b| *b & 2 == 2)
            .map(|b| (usize::from(*b >> 4), usize::from(*b & 1))),
    );
    match (&checked, &walked) {
        (Ok(found), Ok((walked, _))) if found == walked => {}
        (Err(a), Err(b)) if a == b => {}
        _ => {
            return Err(format!(
                "the check and the check with facts disagree: {:?} {:?}",
                checked,
                walked.as_ref().map(|(found, _)| found)
            ));
        }
    }
    // The reader for bytes known to decode: read on every input (it must not panic on
    // any), compared where prost decodes.
    let skimmed = SpanFacts::from_checked_wire(data, token_cluster, CLUSTER_ATTRIBUTE, schema);
    let req = match (decoded, wire, checked) {
        (Err(_), Err(_), Err(_)) => return Ok(()),
        (Ok(req), Ok(facts), Ok(found)) => {
            let built = SpanFacts::build(&req, token_cluster, CLUSTER_ATTRIBUTE, schema);
            same_facts(&facts, &built)?;
            let skimmed =
                skimmed.map_err(|e| format!("the checked-bytes reader refuses them: {e}"))?;
            same_facts(&skimmed, &built).map_err(|e| format!("checked-bytes reader: {e}"))?;
            if let Ok((_, walked)) = &walked {
                same_facts(walked, &built).map_err(|e| format!("check with facts: {e}"))?;
            }
            let spans: usize = req
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len())
                .sum();
            if found.spans != spans as u64 || found.resources != req.resource_spans.len() as u64 {
                return Err(format!(
                    "wire counts {} spans in {} resources, prost {spans} in {}",
                    found.spans,
                    found.resources,
                    req.resource_spans.len()
                ));
            }
            let mut req = req;
            let clean = req.check(limits).is_ok_and(|c| c.rejected == 0);
            if found.clean != clean {
                return Err(format!(
                    "wire says clean={}, the per-item check {clean}",
                    found.clean
                ));
            }
            return Ok(());
        }
        (decoded, wire, checked) => (decoded, wire.map(|_| ()), checked),
    };
    Err(format!(
        "prost and the wire disagree: decode {:?}, facts {:?}, check {:?}",
        req.0.map(|_| ()),
        req.1,
        req.2.map(|_| ())
    ))
}

fn same_facts(wire: &SpanFacts, built: &SpanFacts) -> Result<(), String> {
    // Bit for bit (NaN attribute values included): the batches' IPC encodings.
    if ipc(&wire.batch) != ipc(&built.batch) {
        return Err(format!(
            "columns differ:\nwire  {:?}\nprost {:?}",
            wire.batch, built.batch
        ));
    }
    if wire.invalid_tracestates() != built.invalid_tracestates() {
        return Err(format!(
            "invalid tracestates differ: {:?} {:?}",
            wire.invalid_tracestates(),
            built.invalid_tracestates()
        ));
    }
    Ok(())
}

fn ipc(batch: &RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    let written = arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema())
        .and_then(|mut w| w.write(batch).and_then(|_| w.finish()));
    match written {
        Ok(()) => out,
        Err(e) => format!("{e}").into_bytes(),
    }
}
