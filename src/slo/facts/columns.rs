//! The columns of one request's span facts while rows are appended ([`Columns`]), fed by
//! both readers (decoded requests, `build.rs`, and the protobuf wire, `wire/`) so that they
//! build the same batch, and the batch they end in.
//!
//! The batch is made without Arrow's validation where the columns are valid by
//! construction: the resource dictionaries (every row's key is its resource's index), the
//! string columns (`typed::Strings`); and with the Arrow schema its [`FactsSchema`] keeps
//! after its first batch ([`super::ArrowSchemas`]), so a request does not name its columns.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::builder::{FixedSizeBinaryBuilder, StringBuilder};
use arrow_array::{
    Array, ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{Field, Schema};

use super::build::KeyIndex;
use super::lean::{Program, SpanFields, rows_of};
use super::sampling::{Invalid, adjusted_count};
use super::typed::{Builders, Strings, dictionary};
use super::{FactsSchema, SpanFacts};
use crate::slo::ottl::{AttrRef, Use, Val, render};

/// `cluster` when neither the token nor the resource names one.
pub const UNKNOWN_CLUSTER: &str = "unknown";

/// `service` when the resource has no `service.name`.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// The columns of one request's span facts while they are appended: a resource at a time,
/// then its spans. Both readers feed it: decoded requests (`build.rs`) and the protobuf
/// wire (`wire/`), so that they build the same batch.
pub(super) struct Columns<'s> {
    schema: &'s FactsSchema,
    token_cluster: Option<&'s str>,
    /// The attributes' columns and keys (the schema's, made once; borrowed, so that the
    /// walk reads them without a test of whose they are).
    pub(super) plan: &'s Plan,
    item_builders: Vec<Builders>,
    resource_builders: Vec<Builders>,
    clusters: StringBuilder,
    services: StringBuilder,
    /// The current resource's dictionary key.
    resource: i32,
    /// The row each resource's spans start at (the rows of a resource are consecutive):
    /// each row's key, the `keys` of the dictionary columns, is made of them at the end.
    starts: Vec<usize>,
    /// The fixed numeric columns, each value written where the column's buffer will hold
    /// it (each `Vec` becomes its column's buffer as it is, at the end).
    ends: Vec<u64>,
    durations: Vec<u64>,
    kinds: Vec<i32>,
    statuses: Vec<i32>,
    names: Strings,
    /// Adjusted counts, kept only once a span's is not 1.
    adjusted: Option<Vec<f64>>,
    /// The [`super::TRACE_ID`] column, when the schema asks for it.
    trace_ids: Option<FixedSizeBinaryBuilder>,
    invalid: [u64; Invalid::ALL.len()],
    /// Lean facts (`lean.rs`): each span's comparisons in `bits` instead of the names,
    /// kinds, status codes and attribute columns.
    lean: bool,
    bits: Vec<u64>,
    /// The current resource's comparisons.
    resource_bits: u64,
    /// The bytes of the names so far (a name past 2 GiB of them reads as empty, as in the
    /// name column).
    name_bytes: usize,
}

/// What the columns of a schema are, whatever the request: the attributes of each level
/// with how they are read, their keys' indexes, and where `service.name` and the cluster
/// attribute are among the resource's values. Made once per schema and cluster attribute
/// ([`super::Plans`]), not per request.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(super) cluster_attribute: Box<str>,
    item_attrs: Vec<(AttrRef, Use)>,
    resource_attrs: Vec<(AttrRef, Use)>,
    /// The schema's item attribute keys, in the order of the values `add_span` takes.
    pub(super) item_index: KeyIndex,
    /// The schema's resource attribute keys, then `service.name` and the cluster attribute
    /// unless the schema already reads them: the order of the values `add_resource` takes.
    pub(super) resource_index: KeyIndex,
    service_slot: usize,
    cluster_slot: usize,
    /// The schema's lean comparisons over these keys, when it has some.
    lean: Option<Program>,
}

impl Plan {
    fn new(schema: &FactsSchema, cluster_attribute: &str) -> Self {
        let (mut item_attrs, mut resource_attrs) = (Vec::new(), Vec::new());
        for (attr, uses) in schema.entries() {
            match attr {
                AttrRef::Item(_) => item_attrs.push((attr.clone(), uses)),
                AttrRef::Resource(_) => resource_attrs.push((attr.clone(), uses)),
                // Log records only: a span has no body.
                AttrRef::Body(_) => {}
            }
        }
        fn key(a: &AttrRef) -> &str {
            match a {
                AttrRef::Item(k) | AttrRef::Resource(k) => k.as_str(),
                // Body paths were left out above.
                AttrRef::Body(_) => "",
            }
        }
        let item_index = KeyIndex::new(item_attrs.iter().map(|(a, _)| key(a)).collect());
        let mut resource_keys: Vec<&str> = resource_attrs.iter().map(|(a, _)| key(a)).collect();
        let mut slot_of = |k| match resource_keys.iter().position(|have| *have == k) {
            Some(i) => i,
            None => {
                resource_keys.push(k);
                resource_keys.len() - 1
            }
        };
        let (service_slot, cluster_slot) = (slot_of("service.name"), slot_of(cluster_attribute));
        let resource_index = KeyIndex::new(resource_keys);
        let lean = schema.lean().and_then(|plan| {
            let items: Vec<&AttrRef> = item_attrs.iter().map(|(a, _)| a).collect();
            let resources: Vec<&AttrRef> = resource_attrs.iter().map(|(a, _)| a).collect();
            Program::new(plan, &items, &resources)
        });
        Plan {
            cluster_attribute: cluster_attribute.into(),
            item_attrs,
            resource_attrs,
            item_index,
            resource_index,
            service_slot,
            cluster_slot,
            lean,
        }
    }

    /// The plan of `schema` with `cluster_attribute`: the one it keeps, made by its first
    /// request; one of its own for another cluster attribute (the receiver has one).
    pub(super) fn of<'s>(schema: &'s FactsSchema, cluster_attribute: &str) -> Cow<'s, Plan> {
        let kept = schema
            .plans
            .cell()
            .get_or_init(|| Plan::new(schema, cluster_attribute));
        if *kept.cluster_attribute == *cluster_attribute {
            Cow::Borrowed(kept)
        } else {
            Cow::Owned(Plan::new(schema, cluster_attribute))
        }
    }
}

/// The fixed fields of one span.
pub(super) struct SpanRow<'a> {
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) kind: i32,
    pub(super) status: i32,
    pub(super) name: &'a str,
    pub(super) trace_state: &'a str,
    /// The span's trace id as sent.
    pub(super) trace_id: &'a [u8],
}

impl<'s> Columns<'s> {
    /// Empty columns of `schema`'s `plan` ([`Plan::of`]) with room for `spans` rows of
    /// `resources` resources; lean (`lean.rs`) when `lean` and the schema has lean
    /// comparisons.
    pub(super) fn new(
        schema: &'s FactsSchema,
        plan: &'s Plan,
        token_cluster: Option<&'s str>,
        spans: usize,
        resources: usize,
        lean: bool,
    ) -> Self {
        let lean = lean && plan.lean.is_some();
        let (item_builders, resource_builders) = if lean {
            (Vec::new(), Vec::new())
        } else {
            (
                plan.item_attrs
                    .iter()
                    .map(|(_, uses)| Builders::new(*uses, spans))
                    .collect(),
                plan.resource_attrs
                    .iter()
                    .map(|(_, uses)| Builders::new(*uses, resources))
                    .collect(),
            )
        };
        let full = if lean { 0 } else { spans };
        Columns {
            schema,
            token_cluster,
            plan,
            item_builders,
            resource_builders,
            clusters: StringBuilder::with_capacity(resources, resources * 16),
            services: StringBuilder::with_capacity(resources, resources * 16),
            resource: -1,
            starts: Vec::with_capacity(resources),
            ends: Vec::with_capacity(spans),
            durations: Vec::with_capacity(spans),
            kinds: Vec::with_capacity(full),
            statuses: Vec::with_capacity(full),
            // Span names are often longer than 16 bytes (`GET /api/…/{id}`): room made
            // once, not grown (a copy) midway.
            names: Strings::with_capacity(full, full * 32),
            adjusted: None,
            trace_ids: schema
                .trace_ids()
                .then(|| FixedSizeBinaryBuilder::with_capacity(spans, 16)),
            invalid: [0; Invalid::ALL.len()],
            lean,
            bits: Vec::with_capacity(if lean { spans } else { 0 }),
            resource_bits: 0,
            name_bytes: 0,
        }
    }

    /// Whether spans' attribute values are read (the schema has item attributes).
    pub(super) fn reads_item_attributes(&self) -> bool {
        !self.plan.item_attrs.is_empty()
    }

    /// Starts the next resource; `values` holds the value of each key of
    /// `resource_index`, in order.
    pub(super) fn add_resource(&mut self, values: &[Val<'_>]) {
        self.resource = self.resource.saturating_add(1);
        self.starts.push(self.ends.len());
        let at = |slot: usize| values.get(slot).copied().unwrap_or(Val::Nil);
        // Every resource column gets a row (nil past `values`): the dictionary keys rely
        // on it.
        for (i, builder) in self.resource_builders.iter_mut().enumerate() {
            builder.append(at(i));
        }
        if self.lean
            && let Some(program) = &self.plan.lean
        {
            self.resource_bits = program.resource_bits(at);
        }
        match at(self.plan.service_slot) {
            Val::Str(s) if !s.is_empty() => self.services.append_value(s),
            _ => self.services.append_value(UNKNOWN_SERVICE),
        }
        match (self.token_cluster, at(self.plan.cluster_slot)) {
            (Some(cluster), _) => self.clusters.append_value(cluster),
            (None, Val::Nil) | (None, Val::Str("")) => self.clusters.append_value(UNKNOWN_CLUSTER),
            (None, value) => {
                render(value, &mut self.clusters);
                self.clusters.append_value("");
            }
        }
    }

    /// Appends a span of the current resource; `values` holds the value of each key of
    /// `item_index`, in order (ignored when the schema reads no item attribute).
    #[inline(always)]
    pub(super) fn add_span(&mut self, span: &SpanRow<'_>, values: &[Val<'_>]) {
        self.add_span_of(span, values, |v| *v);
    }

    /// [`Columns::add_span`] with each key's value as `value` makes it of the reader's
    /// own slot (the wire walk's found values, without a copy into a list of values).
    #[inline(always)]
    pub(super) fn add_span_of<'v, T>(
        &mut self,
        span: &SpanRow<'_>,
        values: &'v [T],
        value: impl Fn(&'v T) -> Val<'v>,
    ) {
        if self.resource < 0 {
            // A span before any resource (neither reader makes one): it gets a resource
            // without attributes, so that every key indexes the resource columns.
            self.add_resource(&[]);
        }
        let duration = span.end.saturating_sub(span.start);
        self.ends.push(span.end);
        self.durations.push(duration);
        if self.lean {
            self.add_lean(span, duration, values, value);
            return;
        }
        self.kinds.push(span.kind);
        self.statuses.push(span.status);
        // Past 2 GiB of names in one request the name reads as empty.
        self.names.push(span.name);
        // One test a span while no span of the request was sampled.
        if !span.trace_state.is_empty() || self.adjusted.is_some() {
            self.add_adjusted(span.trace_state);
        }
        for (builder, v) in self.item_builders.iter_mut().zip(values) {
            builder.append(value(v));
        }
        self.add_trace_id(span.trace_id);
    }

    /// The rest of [`Columns::add_span_of`] for lean facts: the span's comparisons
    /// instead of its name, kind, status and attributes.
    #[inline(always)]
    fn add_lean<'v, T>(
        &mut self,
        span: &SpanRow<'_>,
        duration: u64,
        values: &'v [T],
        value: impl Fn(&'v T) -> Val<'v>,
    ) {
        // As the name column holds it: a name that would take its bytes past 2 GiB is
        // empty (and takes none).
        let end = self.name_bytes.saturating_add(span.name.len());
        let name = if end <= i32::MAX as usize {
            self.name_bytes = end;
            span.name.as_bytes()
        } else {
            b""
        };
        let fields = SpanFields {
            name,
            kind: span.kind,
            status: span.status,
            duration,
        };
        let at = |slot: usize| values.get(slot).map_or(Val::Nil, &value);
        if let Some(program) = &self.plan.lean {
            let bits = program.span_bits(&fields, self.resource_bits, at);
            self.bits.push(bits);
        }
        if !span.trace_state.is_empty() || self.adjusted.is_some() {
            self.add_adjusted(span.trace_state);
        }
        self.add_trace_id(span.trace_id);
    }

    #[inline(always)]
    fn add_trace_id(&mut self, id: &[u8]) {
        if let Some(b) = &mut self.trace_ids {
            // Null where the id is not 16 bytes or is all zeros.
            if id.len() == 16 && id.iter().any(|b| *b != 0) {
                // Length checked: appending cannot fail.
                let _ = b.append_value(id);
            } else {
                b.append_null();
            }
        }
    }

    /// The adjusted count of the span just appended, of its `tracestate`; the column is
    /// made on the first count other than 1 (the rows before it counted 1).
    #[inline(never)]
    fn add_adjusted(&mut self, trace_state: &str) {
        let w = if trace_state.is_empty() {
            1.0
        } else {
            adjusted_count(trace_state).unwrap_or_else(|reason| {
                self.invalid[reason.index()] += 1;
                1.0
            })
        };
        if w != 1.0 && self.adjusted.is_none() {
            let mut column = Vec::with_capacity(self.ends.capacity());
            column.resize(self.ends.len() - 1, 1.0);
            self.adjusted = Some(column);
        }
        if let Some(column) = &mut self.adjusted {
            column.push(w);
        }
    }

    pub(super) fn finish(self) -> SpanFacts {
        finish(self)
    }
}

fn finish(c: Columns<'_>) -> SpanFacts {
    let Columns {
        plan,
        item_builders,
        resource_builders,
        mut clusters,
        mut services,
        starts,
        ends,
        durations,
        kinds,
        statuses,
        names: names_column,
        adjusted,
        trace_ids,
        invalid,
        schema,
        lean,
        bits,
        ..
    } = c;
    let rows = ends.len();
    let keys = Int32Array::from(resource_keys(&starts, rows));
    let resource_of_row: ScalarBuffer<i32> = keys.values().clone();
    let clusters = clusters.finish();
    let services = services.finish();
    // Every key indexes the resources (`add_span`), as `dictionary` needs.
    let dict = |values: &StringArray| dictionary(&keys, Arc::new(values.clone()));
    // Each column's name, as `field` names it: made only when the schema's Arrow schema is.
    let mut names: Vec<Name<'_>> = ["end_time_unix_nano", "duration_nanos", "cluster", "service"]
        .map(Name::Fixed)
        .to_vec();
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from(ends)),
        Arc::new(UInt64Array::from(durations)),
        dict(&clusters),
        dict(&services),
    ];
    if !lean {
        names.extend(["name", "kind", "status_code"].map(Name::Fixed));
        columns.extend([
            Arc::new(names_column.finish(rows, None)) as ArrayRef,
            Arc::new(Int32Array::from(kinds)),
            Arc::new(Int32Array::from(statuses)),
        ]);
    }
    let mut attrs = BTreeMap::new();
    let item = plan
        .item_attrs
        .iter()
        .zip(item_builders)
        .map(|((a, _), b)| (a, b.finish(None)));
    let resource = plan
        .resource_attrs
        .iter()
        .zip(resource_builders)
        .map(|((a, _), b)| (a, b.finish(Some(&keys))));
    for (attr, built) in item.chain(resource) {
        let typed = [
            ("str", &built.str),
            ("int", &built.int),
            ("float", &built.float),
            ("bool", &built.bool),
            ("other", &built.other),
        ];
        for (suffix, column) in typed {
            if let Some(column) = column {
                names.push(Name::Attr(attr, suffix));
                columns.push(column.clone());
            }
        }
        attrs.insert((*attr).clone(), built);
    }
    let trace_id = trace_ids.map(|mut b| {
        names.push(Name::Fixed(super::TRACE_ID));
        columns.push(Arc::new(b.finish()));
        columns.len() - 1
    });
    // Last: a capture file adds it to the batches without it in the same place.
    let adjusted = adjusted.map(ScalarBuffer::from);
    if let Some(a) = &adjusted {
        names.push(Name::Fixed(super::ADJUSTED_COUNT));
        columns.push(Arc::new(Float64Array::new(a.clone(), None)));
    }
    // The schema's Arrow schema, made by its first batch; one made for these columns when
    // it does not fit them (it always should).
    let made = schema
        .arrow
        .cell(adjusted.is_some(), lean)
        .get_or_init(|| Arc::new(Schema::new(fields_of(&names, &columns))));
    // What `RecordBatch::try_new` checks, checked once here: a field for each column, of
    // its type, nullable where the column has nulls, and every column `rows` long.
    let fits = made.fields().len() == columns.len()
        && made.fields().iter().zip(&columns).all(|(field, column)| {
            column.len() == rows
                && (field.is_nullable() || column.null_count() == 0)
                && field.data_type() == column.data_type()
        });
    let batch = if fits {
        // SAFETY: the schema fits the columns as `RecordBatch::try_new` requires (above).
        unsafe { RecordBatch::new_unchecked(made.clone(), columns, rows) }
    } else {
        let fields = Arc::new(Schema::new(fields_of(&names, &columns)));
        RecordBatch::try_new(fields, columns).expect("span facts columns match their schema")
    };
    let facts = SpanFacts {
        batch,
        attrs,
        resource_of_row,
        clusters,
        services,
        trace_id,
        adjusted,
        invalid_tracestates: invalid,
        compared: Default::default(),
        lean,
    };
    if lean && let Some(plan) = schema.lean() {
        facts.compared.hold(plan.compared(), rows_of(plan, &bits));
    }
    facts
}

/// Each row's resource (its dictionary key), from the row each resource starts at: `rows`
/// rows, the resources' rows consecutive and in order.
fn resource_keys(starts: &[usize], rows: usize) -> Vec<i32> {
    let mut keys = Vec::with_capacity(rows);
    for (resource, start) in starts.iter().enumerate() {
        let end = starts.get(resource + 1).copied().unwrap_or(rows);
        debug_assert!(*start == keys.len() && end >= *start && end <= rows);
        keys.resize(end, i32::try_from(resource).unwrap_or(i32::MAX));
    }
    keys
}

/// A column's name: fixed, or an attribute's typed column (`attributes["k"].int`).
#[derive(Clone, Copy)]
enum Name<'a> {
    Fixed(&'static str),
    Attr(&'a AttrRef, &'static str),
}

/// The fields of `columns` named by `names`: the fixed columns not nullable, attribute
/// columns and the trace id nullable.
fn fields_of(names: &[Name<'_>], columns: &[ArrayRef]) -> Vec<Field> {
    names
        .iter()
        .zip(columns)
        .map(|(name, column)| {
            let data_type = column.data_type().clone();
            match name {
                Name::Fixed(n) => Field::new(*n, data_type, *n == super::TRACE_ID),
                Name::Attr(attr, suffix) => {
                    let base = match attr {
                        AttrRef::Item(k) => format!("attributes[{k:?}]"),
                        AttrRef::Resource(k) => format!("resource.attributes[{k:?}]"),
                        AttrRef::Body(_) => attr.to_string(),
                    };
                    Field::new(format!("{base}.{suffix}"), data_type, true)
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::resource_keys;

    /// Each row's key is the resource its rows follow, resources without spans included.
    #[test]
    fn resource_keys_follow_the_starts() {
        assert_eq!(resource_keys(&[0, 0, 2, 2], 5), [1, 1, 3, 3, 3]);
        assert_eq!(resource_keys(&[0], 3), [0, 0, 0]);
        assert_eq!(resource_keys(&[0, 3], 3), [0, 0, 0]);
        assert!(resource_keys(&[], 0).is_empty());
    }
}
