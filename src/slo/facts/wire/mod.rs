//! An encoded `ExportTraceServiceRequest` → [`SpanFacts`], read on the protobuf wire
//! without decoding it: nothing of the request is copied or allocated but the columns.
//!
//! The same walk tells the receiver whether the request would decode ([`check_spans`]): it
//! refuses exactly what `prost` refuses and counts what the per-item rules look at, so a
//! request whose spans all pass can be forwarded as received and never decoded. With SLOs
//! loaded the receiver's walk builds the span facts too ([`check_spans_with_facts`]): one
//! walk of the request checks it and reads what the SLOs need ([`WalkedFacts`]).
//!
//! # Rules (those of the protobuf encoding, as prost applies them)
//!
//! - Field numbers and types are the OTLP protos' (`opentelemetry-proto`: trace, common and
//!   resource v1). A known field with another wire type, a key above 32 bits, field number 0,
//!   wire types 6 and 7, a varint longer than 10 bytes or above 64 bits, a length past the
//!   end, and a `string` that is not UTF-8 refuse the request.
//! - Unknown fields are skipped, groups included (their end tag must match); messages and
//!   groups nest at most 100 deep, prost's recursion limit, counted the same way.
//! - A singular scalar, string or bytes field seen twice: the last one wins. A singular
//!   message seen twice is merged (a resource's attributes are those of every copy, in
//!   order; a status's code is the last one seen). A `oneof` (an attribute's value) takes
//!   the last member seen; the same message member seen again is merged.
//! - An attribute is found as build.rs finds it: the first one with the key. Values that
//!   only OTLP's types render (bytes, arrays, maps, string-table indexes) are rare: their
//!   `KeyValue` alone is decoded with prost.
//!
//! # Layout
//!
//! - `mod.rs` (here): the API ([`SpanFacts::from_wire`], [`check_spans`],
//!   [`check_spans_with_facts`], [`check_spans_naming`], [`Spans`]) and the walk of
//!   resources, scopes and spans.
//! - `proto.rs`: the wire format as prost reads it, and the messages only checked
//!   (attributes and their values, scopes, events, links, entity references).
//! - `walk_tests.rs`: the attribute columns of the walk against prost and against a plain
//!   reading of the decoded request (keys of every length, hashed and compared).

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

pub(crate) mod proto;
#[cfg(test)]
mod walk_tests;

use proto::{
    ENTITY_REF, EVENT, Found, LEN, LINK, RECURSION_LIMIT, SCOPE, attribute, counted, fixed, key,
    len_delimited, message, scalar, skip, string, with_values,
};

use super::columns::{Columns, Plan, SpanRow};
use super::{FactsSchema, SpanFacts};
use crate::slo::ottl::Val;

/// Why the bytes are not an export request prost would decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode protobuf: {0}")]
pub struct Malformed(pub(crate) &'static str);

pub(crate) type Read<T> = Result<T, Malformed>;

/// The per-item limits of the receiver (`receiver.otlp.limits`) the walk checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemLimits {
    /// Most attributes of a resource, scope, span, event or link.
    pub max_attributes: usize,
    pub max_events: usize,
    pub max_links: usize,
}

/// What [`check_spans`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireSpans {
    pub spans: u64,
    pub resources: u64,
    /// Every resource, scope and span passes the receiver's per-item rules (ids and
    /// limits): the request is kept whole, as received.
    pub clean: bool,
    /// An attribute of a scope, span, event or link has a key that becomes the label the
    /// walk was asked about ([`check_spans_naming`]; never set otherwise).
    pub names_label: bool,
}

/// Where span facts come from: a decoded request, the bytes of one, or the bytes of one
/// with the facts the receiver read of them ([`WalkedFacts`]).
#[derive(Debug, Clone, Copy)]
pub enum Spans<'a> {
    Decoded(&'a ExportTraceServiceRequest),
    Encoded(&'a [u8]),
    Walked(&'a WalkedFacts, &'a [u8]),
}

impl<'a> From<&'a ExportTraceServiceRequest> for Spans<'a> {
    fn from(req: &'a ExportTraceServiceRequest) -> Self {
        Spans::Decoded(req)
    }
}

impl SpanFacts {
    /// [`SpanFacts::build`] for either source; bytes that do not decode give no rows (the
    /// receiver only passes bytes on that [`check_spans`] read).
    pub fn of(
        spans: Spans<'_>,
        token_cluster: Option<&str>,
        cluster_attribute: &str,
        schema: &FactsSchema,
    ) -> SpanFacts {
        match spans {
            Spans::Decoded(req) => SpanFacts::build(req, token_cluster, cluster_attribute, schema),
            // Facts of another schema: the bytes are read again.
            Spans::Encoded(body) | Spans::Walked(_, body) => {
                SpanFacts::from_checked_wire(body, token_cluster, cluster_attribute, schema)
                    .unwrap_or_else(|_| {
                        let empty = ExportTraceServiceRequest::default();
                        SpanFacts::build(&empty, token_cluster, cluster_attribute, schema)
                    })
            }
        }
    }

    /// The facts [`SpanFacts::build`] makes of `body` decoded, read on the wire; an error
    /// exactly when prost cannot decode `body`.
    pub fn from_wire(
        body: &[u8],
        token_cluster: Option<&str>,
        cluster_attribute: &str,
        schema: &FactsSchema,
    ) -> Result<SpanFacts, Malformed> {
        let plan = Plan::of(schema, cluster_attribute);
        let mut columns = columns_for(body, schema, &plan, token_cluster, None, false);
        Walk::facts(None, &mut columns).request(body)?;
        Ok(columns.finish())
    }

    /// [`SpanFacts::from_wire`] for bytes known to decode (those [`check_spans`] accepted):
    /// the same facts, reading only what the columns take — attributes whose keys the
    /// schema does not read, scopes, events, links and strings no column holds are stepped
    /// over by their lengths, unchecked. On bytes that do not decode the result is an
    /// error or facts of no meaning, never a panic.
    pub fn from_checked_wire(
        body: &[u8],
        token_cluster: Option<&str>,
        cluster_attribute: &str,
        schema: &FactsSchema,
    ) -> Result<SpanFacts, Malformed> {
        let lean = may_be_lean(body);
        let plan = Plan::of(schema, cluster_attribute);
        let mut columns = columns_for(body, schema, &plan, token_cluster, None, lean);
        Walk::<true, true>::with(None, Some(&mut columns)).request(body)?;
        Ok(columns.finish())
    }
}

/// Reads an encoded export request as prost would decode it, checking every span against
/// `limits`; an error exactly when prost cannot decode it.
pub fn check_spans(body: &[u8], limits: &ItemLimits) -> Result<WireSpans, Malformed> {
    let mut walk = Walk::check(limits);
    walk.request(body)?;
    Ok(walk.found)
}

/// [`check_spans`] and [`SpanFacts::from_wire`] in one walk: the receiver's check of a
/// request, building the span facts of `schema` as it goes (the facts are those of the
/// request as received: the walk keeps every span, whatever the per-item rules say). An
/// error exactly when prost cannot decode `body`. `spans`, when the caller counted them
/// already, sizes the columns (they grow past it if it is short); otherwise a first look
/// at the request counts them.
pub fn check_spans_with_facts(
    body: &[u8],
    limits: &ItemLimits,
    token_cluster: Option<&str>,
    cluster_attribute: &str,
    schema: &FactsSchema,
    sizes: Option<(usize, usize)>,
) -> Result<(WireSpans, SpanFacts), Malformed> {
    let lean = may_be_lean(body);
    let plan = Plan::of(schema, cluster_attribute);
    let mut columns = columns_for(body, schema, &plan, token_cluster, sizes, lean);
    let mut walk = Walk::facts(Some(limits), &mut columns);
    walk.request(body)?;
    let found = walk.found;
    Ok((found, columns.finish()))
}

/// [`check_spans`], or with `facts` ([`SpanFacts`] of `(token_cluster, cluster_attribute,
/// schema, sizes)`) [`check_spans_with_facts`], that also tells whether an attribute below
/// the resources (of a scope, span, event or link) has a key that becomes the same
/// Prometheus label as `label` ([`WireSpans::names_label`]; [`crate::attr::same_label`]):
/// the receiver's walk of a request bound to a cluster, which only the resources may name.
pub fn check_spans_naming(
    body: &[u8],
    limits: &ItemLimits,
    label: &str,
    facts: Option<FactsOf<'_>>,
) -> Result<(WireSpans, Option<SpanFacts>), Malformed> {
    let Some((token_cluster, cluster_attribute, schema, sizes)) = facts else {
        let mut walk = Walk::<false, false, true>::with(Some(limits), None);
        walk.label = Some(label);
        walk.request(body)?;
        return Ok((walk.found, None));
    };
    let lean = may_be_lean(body);
    let plan = Plan::of(schema, cluster_attribute);
    let mut columns = columns_for(body, schema, &plan, token_cluster, sizes, lean);
    let mut walk = Walk::<true, false, true>::with(Some(limits), Some(&mut columns));
    walk.label = Some(label);
    walk.request(body)?;
    let found = walk.found;
    Ok((found, Some(columns.finish())))
}

/// What [`check_spans_naming`] builds span facts of: the token's cluster, the cluster
/// attribute, the schema and the counted spans and resources, as [`check_spans_with_facts`]
/// takes them.
pub type FactsOf<'a> = (
    Option<&'a str>,
    &'a str,
    &'a FactsSchema,
    Option<(usize, usize)>,
);

/// Span facts the receiver read in its own walk of a request
/// ([`check_spans_with_facts`]), with the schema they were read for: the SLO engine takes
/// them instead of reading the bytes again while its schema is still that one.
#[derive(Debug)]
pub struct WalkedFacts {
    pub facts: SpanFacts,
    pub schema: std::sync::Arc<FactsSchema>,
}

/// The columns a walk of `body` fills for `schema` and its `plan`, sized from `sizes`
/// (spans and resources, when the caller counted them) or else from a first look at the
/// request.
fn columns_for<'s>(
    body: &[u8],
    schema: &'s FactsSchema,
    plan: &'s Plan,
    token_cluster: Option<&'s str>,
    sizes: Option<(usize, usize)>,
    lean: bool,
) -> Columns<'s> {
    let (spans, resources) = match sizes {
        Some((spans, resources)) => (spans.min(1 << 20), resources.clamp(1, 1 << 16)),
        None => rough_counts(body),
    };
    Columns::new(schema, plan, token_cluster, spans, resources, lean)
}

/// Whether the facts of `body` may be lean (`lean.rs`), when their schema has lean
/// comparisons: a body shorter than 2 GiB, whose strings the columns would hold whole.
fn may_be_lean(body: &[u8]) -> bool {
    body.len() <= i32::MAX as usize
}

/// Spans and resources, for the columns' capacity: the first levels read without checks.
fn rough_counts(body: &[u8]) -> (usize, usize) {
    fn each(mut buf: &[u8], want: u32, mut f: impl FnMut(&[u8])) {
        while let Ok((tag, wt)) = key(&mut buf) {
            let value = if wt == LEN {
                len_delimited(&mut buf, wt)
            } else {
                skip(&mut buf, wt, tag, RECURSION_LIMIT).map(|_| &[][..])
            };
            match value {
                Ok(v) if tag == want && wt == LEN => f(v),
                Ok(_) => {}
                Err(_) => return,
            }
        }
    }
    let (mut spans, mut resources) = (0usize, 0usize);
    each(body, 1, |rs| {
        resources += 1;
        each(rs, 2, |ss| each(ss, 2, |_| spans += 1));
    });
    (spans.min(1 << 20), resources.min(1 << 16))
}

/// The request's walk: checks, and (`FACTS`, with columns) facts. The check alone
/// ([`Walk::check`]) and the walk that builds facts ([`Walk::facts`]) are compiled apart:
/// the check carries none of the facts' code and the facts' walk none of its tests of
/// whether there are columns. With `SKIM` the bytes are known to decode: only what the
/// columns take is read (see [`SpanFacts::from_checked_wire`]); it is compiled apart too,
/// so that the receiver's walks test it nowhere. With `NAMING` the walk looks for the label
/// of [`check_spans_naming`] below the resources; the other walks carry none of that code.
struct Walk<'c, 's, const FACTS: bool, const SKIM: bool = false, const NAMING: bool = false> {
    limits: Option<&'c ItemLimits>,
    columns: Option<&'c mut Columns<'s>>,
    found: WireSpans,
    /// The label asked about ([`check_spans_naming`]).
    label: Option<&'c str>,
}

impl<'c> Walk<'c, 'c, false> {
    /// The check alone.
    fn check(limits: &'c ItemLimits) -> Self {
        Walk::with(Some(limits), None)
    }
}

impl<'c, 's> Walk<'c, 's, true> {
    /// The walk that builds facts into `columns` (and checks against `limits`, if given).
    fn facts(limits: Option<&'c ItemLimits>, columns: &'c mut Columns<'s>) -> Self {
        Walk::with(limits, Some(columns))
    }
}

impl<'c, 's, const FACTS: bool, const SKIM: bool, const NAMING: bool>
    Walk<'c, 's, FACTS, SKIM, NAMING>
{
    fn with(limits: Option<&'c ItemLimits>, columns: Option<&'c mut Columns<'s>>) -> Self {
        Walk {
            limits,
            columns,
            found: WireSpans {
                clean: true,
                ..WireSpans::default()
            },
            label: None,
        }
    }

    /// The label looked for, in a `NAMING` walk only.
    #[inline(always)]
    fn naming(&self) -> Option<&'c str> {
        if NAMING { self.label } else { None }
    }

    fn request(&mut self, mut buf: &[u8]) -> Read<()> {
        let ctx = RECURSION_LIMIT;
        let mut scope_spans = Vec::new();
        let mut resource_slots: Vec<Option<Found<'_>>> = Vec::new();
        let mut item_slots: Vec<Option<Found<'_>>> = Vec::new();
        // The values handed to the columns, kept for the whole request: one buffer for
        // resources and one for spans, so that neither changes length between calls.
        let mut values: Vec<Val<'_>> = Vec::new();
        let mut resource_values: Vec<Val<'_>> = Vec::new();
        if FACTS && let Some(c) = &self.columns {
            resource_slots.resize(c.plan.resource_index.len(), None);
            item_slots.resize(c.plan.item_index.len(), None);
        }
        while !buf.is_empty() {
            let (tag, wt) = key(&mut buf)?;
            if tag != 1 {
                skip(&mut buf, wt, tag, ctx)?;
                continue;
            }
            let (mut rs, c) = message(&mut buf, wt, ctx)?;
            self.found.resources += 1;
            // The resource first (it may come after its spans), then the spans.
            scope_spans.clear();
            resource_slots.fill(None);
            let mut attributes = 0;
            while !rs.is_empty() {
                let (tag, wt) = key(&mut rs)?;
                match tag {
                    1 => {
                        let (m, c) = message(&mut rs, wt, c)?;
                        attributes += self.resource(m, c, &mut resource_slots)?;
                    }
                    2 => scope_spans.push(message(&mut rs, wt, c)?),
                    3 if SKIM => {
                        len_delimited(&mut rs, wt)?;
                    }
                    3 => {
                        string(&mut rs, wt)?;
                    }
                    _ => skip(&mut rs, wt, tag, c)?,
                }
            }
            if self.limits.is_some_and(|l| attributes > l.max_attributes) {
                self.found.clean = false;
            }
            if FACTS && let Some(columns) = self.columns.as_deref_mut() {
                with_values(&resource_slots, &mut resource_values, |v| {
                    columns.add_resource(v)
                });
            }
            for (m, c) in scope_spans.iter().copied() {
                self.scope_spans(m, c, &mut item_slots, &mut values)?;
            }
        }
        Ok(())
    }

    /// A `Resource` (one copy of it): its attributes, counted and looked up.
    fn resource<'a>(
        &self,
        mut buf: &'a [u8],
        ctx: u32,
        slots: &mut [Option<Found<'a>>],
    ) -> Read<usize> {
        let index = if FACTS {
            self.columns.as_deref().map(|c| &c.plan.resource_index)
        } else {
            None
        };
        let mut n = 0;
        while !buf.is_empty() {
            let (tag, wt) = key(&mut buf)?;
            match tag {
                1 => {
                    attribute::<FACTS, SKIM>(&mut buf, wt, ctx, index, slots, None)?;
                    n += 1;
                }
                2 => {
                    scalar(&mut buf, wt)?;
                }
                3 => {
                    let (m, c) = message(&mut buf, wt, ctx)?;
                    if !SKIM {
                        counted(m, c, ENTITY_REF, None, &mut WireSpans::default())?;
                    }
                }
                _ => skip(&mut buf, wt, tag, ctx)?,
            }
        }
        Ok(n)
    }

    fn scope_spans<'a>(
        &mut self,
        mut buf: &'a [u8],
        ctx: u32,
        slots: &mut [Option<Found<'a>>],
        values: &mut Vec<Val<'a>>,
    ) -> Read<()> {
        let mut scope_attributes = 0;
        while !buf.is_empty() {
            let (tag, wt) = key(&mut buf)?;
            match tag {
                1 => {
                    let (m, c) = message(&mut buf, wt, ctx)?;
                    if !SKIM {
                        scope_attributes += counted(m, c, SCOPE, self.naming(), &mut self.found)?;
                    }
                }
                2 => {
                    let (m, c) = message(&mut buf, wt, ctx)?;
                    self.span(m, c, slots, values)?;
                }
                3 if SKIM => {
                    len_delimited(&mut buf, wt)?;
                }
                3 => {
                    string(&mut buf, wt)?;
                }
                _ => skip(&mut buf, wt, tag, ctx)?,
            }
        }
        if self
            .limits
            .is_some_and(|l| scope_attributes > l.max_attributes)
        {
            self.found.clean = false;
        }
        Ok(())
    }

    fn span<'a>(
        &mut self,
        mut buf: &'a [u8],
        ctx: u32,
        slots: &mut [Option<Found<'a>>],
        values: &mut Vec<Val<'a>>,
    ) -> Read<()> {
        let (mut trace_id, mut span_id, mut parent): (&[u8], &[u8], &[u8]) = (&[], &[], &[]);
        let mut row = SpanRow {
            start: 0,
            end: 0,
            kind: 0,
            status: 0,
            name: "",
            trace_state: "",
            trace_id: &[],
        };
        let (mut attributes, mut events, mut links, mut nested) = (0, 0, 0, 0);
        let index = if FACTS {
            slots.fill(None);
            self.columns
                .as_deref()
                .filter(|c| c.reads_item_attributes())
                .map(|c| &c.plan.item_index)
        } else {
            None
        };
        while !buf.is_empty() {
            let (tag, wt) = key(&mut buf)?;
            match tag {
                1 => trace_id = len_delimited(&mut buf, wt)?,
                2 => span_id = len_delimited(&mut buf, wt)?,
                3 => row.trace_state = string(&mut buf, wt)?,
                4 => parent = len_delimited(&mut buf, wt)?,
                5 => row.name = string(&mut buf, wt)?,
                6 => row.kind = scalar(&mut buf, wt)? as i32,
                7 => row.start = u64::from_le_bytes(fixed(&mut buf, wt)?),
                8 => row.end = u64::from_le_bytes(fixed(&mut buf, wt)?),
                9 => {
                    let label = self.naming();
                    if attribute::<FACTS, SKIM>(&mut buf, wt, ctx, index, slots, label)? {
                        self.found.names_label = true;
                    }
                    attributes += 1;
                }
                10 | 12 | 14 => {
                    scalar(&mut buf, wt)?;
                }
                11 | 13 if SKIM => {
                    message(&mut buf, wt, ctx)?;
                }
                11 | 13 => {
                    let (m, c) = message(&mut buf, wt, ctx)?;
                    let fields = if tag == 11 {
                        events += 1;
                        EVENT
                    } else {
                        links += 1;
                        LINK
                    };
                    let n = counted(m, c, fields, self.naming(), &mut self.found)?;
                    nested = nested.max(n);
                }
                15 => {
                    let (mut m, c) = message(&mut buf, wt, ctx)?;
                    while !m.is_empty() {
                        let (tag, wt) = key(&mut m)?;
                        match tag {
                            2 if SKIM => {
                                len_delimited(&mut m, wt)?;
                            }
                            2 => {
                                string(&mut m, wt)?;
                            }
                            3 => row.status = scalar(&mut m, wt)? as i32,
                            _ => skip(&mut m, wt, tag, c)?,
                        }
                    }
                }
                16 => {
                    fixed::<4>(&mut buf, wt)?;
                }
                _ => skip(&mut buf, wt, tag, ctx)?,
            }
        }
        self.found.spans += 1;
        if let Some(l) = self.limits {
            let id = |id: &[u8], len| id.len() == len && id.iter().any(|b| *b != 0);
            let kept = id(trace_id, 16)
                && id(span_id, 8)
                && (parent.is_empty() || parent.len() == 8)
                && attributes <= l.max_attributes
                && events <= l.max_events
                && links <= l.max_links
                && nested <= l.max_attributes;
            self.found.clean &= kept;
        }
        if FACTS && let Some(columns) = self.columns.as_deref_mut() {
            row.trace_id = trace_id;
            // Values only prost's types render are rare: only then are the values made a
            // list of their own (decoded); otherwise the columns take them from the slots.
            // (Found from the slots, a test a key, not flagged at every attribute.)
            if slots.iter().any(|s| matches!(s, Some(Found::Decode(_)))) {
                with_values(slots, values, |v| columns.add_span(&row, v));
            } else {
                columns.add_span_of(&row, slots, Found::simple);
            }
        }
        Ok(())
    }
}
