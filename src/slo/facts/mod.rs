//! Span facts: the few fields of each span that SLOs read, as one Arrow [`RecordBatch`] per
//! export request.
//!
//! Conditions then run as Arrow compute kernels over whole columns
//! ([`Condition::eval_batch`](crate::slo::ottl::Condition::eval_batch)) instead of walking
//! every span's attribute list once per SLO.
//!
//! # Layout
//!
//! - `mod.rs` (here): [`FactsSchema`] (which attribute columns to build) and [`SpanFacts`]
//!   (the batch and its accessors).
//! - `build.rs`: `ExportTraceServiceRequest` → [`SpanFacts`], and the schema keys' index.
//! - `columns.rs`: the columns while rows are appended (both readers feed them), and the
//!   batch they end in.
//! - `typed.rs`: the typed columns of one attribute while rows are appended, and string
//!   columns appended without Arrow's builder (made valid by construction, not checked).
//! - `wire/`: an encoded request → [`SpanFacts`] on the protobuf wire, without decoding
//!   it, and the receiver's check that it decodes ([`wire::check_spans`]).
//! - `eval.rs`: the Arrow evaluator, [`Condition::eval_batch`](crate::slo::ottl::Condition::eval_batch).
//! - `kernels.rs`: a column compared with a literal in one loop (the evaluator's common
//!   case).
//! - `lean.rs`: lean facts, the conditions' comparisons with literals answered as each span
//!   is read, in place of the columns they read (when nothing else reads those).
//! - `read.rs`: [`SpanFacts`] from a batch read back (a capture).
//! - `logs.rs`: log facts, the fields log SLIs read of each log record, for the capture.
//! - `sampling.rs`: a span's adjusted count from its `tracestate` (probability sampling).
//! - `tests.rs`: the columns, and the Arrow evaluator against the row-by-row one.
//! - `kernels_tests.rs`: the one-loop comparisons against the general kernels and OTTL.
//! - `lean_tests.rs`: lean facts against full facts and OTTL, on random conditions.
//!
//! Facts import `ottl` (conditions, [`AttrRef`], [`Use`]) and `spec` (the schema of an SLO
//! set, [`FactsSchema::of`]).
//!
//! # Columns
//!
//! | column | Arrow type | from |
//! |---|---|---|
//! | `end_time_unix_nano` | UInt64 | the span |
//! | `duration_nanos` | UInt64 | end − start, 0 when end < start |
//! | `cluster` | Dictionary(Int32, Utf8) | the token's cluster, else the resource attribute named by `cluster_attribute`, else `unknown` |
//! | `service` | Dictionary(Int32, Utf8) | resource `service.name`, else `unknown_service` |
//! | `name` | Utf8 | the span |
//! | `kind` | Int32 | the span |
//! | `status_code` | Int32 | the span's status, 0 (unset) when absent |
//! | `attributes["k"].str` … | see below | one group per attribute in the schema |
//!
//! After the attribute columns, [`TRACE_ID`] (`trace_id`, FixedSizeBinary(16), nullable)
//! holds each span's trace id, only when the schema asks for it
//! ([`FactsSchema::trace_ids`]: a trace-aware journey is loaded). It is the span's 16
//! `trace_id` bytes as sent (big-endian, as in the W3C `traceparent`), null when the span's
//! `trace_id` is not 16 bytes long or is all zeros (both invalid in OTLP): such spans
//! belong to no trace. [`SpanFacts::trace_id`] reads it as a `u128`.
//!
//! Then `adjusted_count` (Float64) holds each span's adjusted count
//! from its `tracestate` ([`sampling`]), only when a span of the request has one other than
//! 1 (a capture file has it in every batch once it holds a sampled span).
//!
//! An attribute's value can be of any OTLP type, so each attribute gets up to five nullable
//! columns, only those its readers need ([`Use`](crate::slo::ottl::Use)): `.str` (Utf8,
//! string values), `.int` (Int64), `.float` (Float64), `.bool` (Boolean) and `.other`
//! (Utf8: the string form of every non-string value, for `IsMatch`, `nil` checks and
//! `group_by`; a capture-only attribute's `.other` leaves ints' rows null, since their text
//! is their `.int` value's). A value of another type leaves the column null, which is how OTTL's "values
//! of different types are not equal" falls out of plain kernels. Resource-level columns
//! (`cluster`, `service`, `resource.attributes[…]`) are dictionaries keyed by the row's
//! resource, so each resource's value is stored once.
//!
//! Lean facts (`lean.rs`) have only the first four columns (then the trace ids and adjusted
//! counts, as above): the rows of each comparison their schema's conditions make are held
//! instead of `name`, `kind`, `status_code` and the attribute columns.
//!
//! # Invariants
//!
//! - Row `i` is the `i`-th span of the request in order (resource, scope, span).
//! - Every column has one entry per row; the batch only holds the schema's attributes.

mod build;
mod columns;
mod eval;
mod kernels;
#[cfg(test)]
mod kernels_tests;
mod lean;
#[cfg(test)]
mod lean_tests;
pub mod logs;
mod read;
pub mod sampling;
#[cfg(test)]
mod tests;
mod typed;
pub mod wire;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_buffer::ScalarBuffer;
use arrow_schema::SchemaRef;

use crate::slo::ottl::{AttrRef, Condition, Use};
use crate::slo::spec::journey::Journey;
use crate::slo::spec::{Sli, SloSet};

pub use columns::{UNKNOWN_CLUSTER, UNKNOWN_SERVICE};
pub use read::FactsError;
pub use wire::Spans;

/// Which attribute columns span facts carry: the union of what the loaded span conditions
/// and `group_by` lists read, with how they read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactsSchema {
    attributes: BTreeMap<AttrRef, Use>,
    /// Whether the facts carry the [`TRACE_ID`] column.
    trace_ids: bool,
    /// The Arrow schemas of the batches built for it, made once and shared by its copies.
    arrow: ArrowSchemas,
    /// Its columns' plan, made once and shared by its copies.
    plans: Plans,
    /// The comparisons the SLO set's span conditions make, when the facts read on the wire
    /// may hold them in place of the columns they read (`lean.rs`); `None` once anything
    /// else is added.
    lean: Option<Arc<lean::LeanPlan>>,
}

/// The [`columns::Plan`] of a [`FactsSchema`]'s columns (which attributes, their keys'
/// indexes): made by its first request and shared by every copy of the [`FactsSchema`],
/// so that a request does not make it again. A change to the [`FactsSchema`] starts a new
/// one; like [`ArrowSchemas`], a function of the schema that takes no part in comparisons.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plans(Arc<OnceLock<columns::Plan>>);

impl Plans {
    pub(crate) fn cell(&self) -> &OnceLock<columns::Plan> {
        &self.0
    }
}

impl PartialEq for Plans {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Plans {}

/// The Arrow schema of the span facts of one [`FactsSchema`], without and with the
/// `adjusted_count` column: made by the first batch built (`columns.rs`) and shared by every
/// copy of the [`FactsSchema`] (the receiver takes a copy per request), so a request does
/// not name its columns again. A change to the [`FactsSchema`] starts a new one. It is a
/// function of the attributes, so it takes no part in comparisons.
#[derive(Debug, Clone, Default)]
pub(crate) struct ArrowSchemas(Arc<[OnceLock<SchemaRef>; 4]>);

impl ArrowSchemas {
    /// The cell of the schema with (`true`) or without the `adjusted_count` column, of
    /// full or lean facts.
    pub(crate) fn cell(&self, adjusted: bool, lean: bool) -> &OnceLock<SchemaRef> {
        &self.0[usize::from(adjusted) + 2 * usize::from(lean)]
    }
}

impl PartialEq for ArrowSchemas {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ArrowSchemas {}

impl FactsSchema {
    /// The schema for every span SLI of `set`: the attributes their conditions and
    /// `group_by` lists read, and trace ids when a journey is trace-aware (metric and log
    /// SLIs read no span facts).
    pub fn of(set: &SloSet) -> Self {
        let mut schema = Self::default();
        for slo in &set.slos {
            if Journey::of(slo).is_some_and(|j| j.trace.is_some()) {
                schema.add_trace_ids();
            }
            let Sli::Spans(sli) = &slo.sli else {
                continue;
            };
            schema.add_condition(&sli.filter);
            if let Some(bad) = &sli.bad {
                schema.add_condition(bad);
            }
            for attr in &slo.group_by {
                schema.add_group_by(attr);
            }
        }
        schema.lean = lean::LeanPlan::of(set).map(Arc::new);
        schema
    }

    /// The schema of `conditions`, with their comparisons as its lean plan when they all
    /// are of the kinds lean facts hold (as [`FactsSchema::of`] makes it for an SLO set).
    #[cfg(test)]
    pub(crate) fn lean_of(conditions: &[Condition]) -> Self {
        let mut schema = Self::default();
        conditions.iter().for_each(|c| schema.add_condition(c));
        schema.lean = lean::LeanPlan::of_conditions(conditions).map(Arc::new);
        schema
    }

    /// The comparisons lean facts hold for this schema, if they may be lean.
    pub(crate) fn lean(&self) -> Option<&lean::LeanPlan> {
        self.lean.as_deref()
    }

    /// Adds the attributes `condition` reads.
    pub fn add_condition(&mut self, condition: &Condition) {
        for (attr, uses) in condition.attribute_uses() {
            self.add(attr, uses);
        }
    }

    /// Adds every attribute of `other`, with how `other` reads it.
    pub fn merge(&mut self, other: &FactsSchema) {
        for (attr, uses) in other.entries() {
            self.add(attr.clone(), uses);
        }
        self.trace_ids |= other.trace_ids;
        self.arrow = ArrowSchemas::default();
        self.plans = Plans::default();
        // Another reader of the columns (a capture): the facts are full.
        self.lean = None;
    }

    /// Whether the facts carry the [`TRACE_ID`] column (a trace-aware journey reads it).
    pub fn trace_ids(&self) -> bool {
        self.trace_ids
    }

    /// Asks for the [`TRACE_ID`] column.
    pub fn add_trace_ids(&mut self) {
        self.trace_ids = true;
        self.arrow = ArrowSchemas::default();
    }

    /// Adds an attribute read in every way a condition can read it (a captured column that
    /// any future condition may compare, match or group by): every typed column, its
    /// `.other` column without the rows of ints (a capture writes those rows null and its
    /// reader renders them from `.int` again), unless a condition reads `.other` as well.
    pub fn add_any(&mut self, attr: AttrRef) {
        self.add(attr, Use::CAPTURED);
    }

    /// Whether every column `needed` reads is in this schema.
    pub fn covers(&self, needed: &FactsSchema) -> Result<(), AttrRef> {
        for (attr, uses) in needed.entries() {
            if !self.attributes.get(attr).is_some_and(|have| have.has(uses)) {
                return Err(attr.clone());
            }
        }
        Ok(())
    }

    /// Adds an attribute read as a string ([`SpanFacts::attr_string`]).
    pub fn add_group_by(&mut self, attr: &AttrRef) {
        self.add(attr.clone(), Use::TEXT);
    }

    fn add(&mut self, attr: AttrRef, uses: Use) {
        self.arrow = ArrowSchemas::default();
        self.plans = Plans::default();
        self.lean = None;
        let entry = self.attributes.entry(attr).or_default();
        *entry = entry.union(uses);
    }

    /// The attributes, in order.
    pub fn attributes(&self) -> impl Iterator<Item = &AttrRef> {
        self.attributes.keys()
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = (&AttrRef, Use)> {
        self.attributes.iter().map(|(a, u)| (a, *u))
    }
}

/// The typed columns of one attribute; `None` where the schema did not ask for that type.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttrColumns {
    pub(crate) str: Option<ArrayRef>,
    pub(crate) int: Option<ArrayRef>,
    pub(crate) float: Option<ArrayRef>,
    pub(crate) bool: Option<ArrayRef>,
    pub(crate) other: Option<ArrayRef>,
}

/// One request's spans as an Arrow batch; see the module docs for the columns.
#[derive(Debug, Clone)]
pub struct SpanFacts {
    pub batch: RecordBatch,
    attrs: BTreeMap<AttrRef, AttrColumns>,
    /// The dictionary keys of resource-level columns: the row's resource.
    resource_of_row: ScalarBuffer<i32>,
    clusters: StringArray,
    services: StringArray,
    /// The [`TRACE_ID`] column's index, when the batch has it.
    trace_id: Option<usize>,
    /// Each row's adjusted count, when some row's is not 1 (the `adjusted_count` column).
    adjusted: Option<ScalarBuffer<f64>>,
    /// Spans whose `tracestate` could not be read, by [`sampling::Invalid::index`].
    invalid_tracestates: [u64; sampling::Invalid::ALL.len()],
    /// Comparisons already evaluated on these rows, for the conditions that share them.
    compared: eval::Compared,
    /// Lean facts (`lean.rs`): the batch holds no `name`, `kind`, `status_code` or
    /// attribute column, and `compared` holds every comparison of the schema's
    /// [`lean::LeanPlan`].
    lean: bool,
}

/// The name of the optional trace-id column (see the module docs).
pub const TRACE_ID: &str = "trace_id";

/// The name of the optional adjusted-count column.
pub const ADJUSTED_COUNT: &str = "adjusted_count";

/// Column positions of the fixed columns.
const END: usize = 0;
const DURATION: usize = 1;
const NAME: usize = 4;
const KIND: usize = 5;
const STATUS: usize = 6;

impl SpanFacts {
    /// One row per span of `req`; see the module docs for the columns. `token_cluster` is
    /// the cluster bound to the sender's token, `cluster_attribute` the resource attribute
    /// that names the cluster otherwise.
    pub fn build(
        req: &opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest,
        token_cluster: Option<&str>,
        cluster_attribute: &str,
        schema: &FactsSchema,
    ) -> SpanFacts {
        build::build(req, token_cluster, cluster_attribute, schema)
    }

    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn end_time_unix_nano(&self) -> &[u64] {
        self.batch.column(END).as_primitive::<UInt64Type>().values()
    }

    pub fn duration_nanos(&self) -> &[u64] {
        self.batch
            .column(DURATION)
            .as_primitive::<UInt64Type>()
            .values()
    }

    /// The row's resource (its index among the request's resources): rows of one
    /// resource share the cluster, the service and the resource attributes.
    pub fn resource_of(&self, row: usize) -> usize {
        self.resource_of_row[row] as usize
    }

    /// The end of the run of rows from `row` that share its resource, at most `limit`
    /// (and at most the number of rows): the first row past `row` of another resource.
    /// Eight rows are compared at a time, without a branch among them.
    pub fn resource_run_end(&self, row: usize, limit: usize) -> usize {
        let keys = &self.resource_of_row[..limit.min(self.resource_of_row.len())];
        let Some(&resource) = keys.get(row) else {
            return row.max(keys.len());
        };
        let mut at = row + 1;
        for eight in keys[row + 1..].chunks_exact(8) {
            if !eight.iter().fold(true, |all, k| all & (*k == resource)) {
                break;
            }
            at += 8;
        }
        at + keys[at..]
            .iter()
            .position(|k| *k != resource)
            .unwrap_or(keys.len() - at)
    }

    pub fn cluster(&self, row: usize) -> &str {
        self.clusters.value(self.resource_of_row[row] as usize)
    }

    pub fn service(&self, row: usize) -> &str {
        self.services.value(self.resource_of_row[row] as usize)
    }

    /// The value of an attribute rendered as a string (for `group_by` keys), `None` when
    /// absent or not in the schema. Strings are as sent; other types in OTTL's string form
    /// (`200`, `1.5`, `true`, hex bytes, JSON arrays and maps).
    pub fn attr_string(&self, attr: &AttrRef, row: usize) -> Option<String> {
        self.attr_str(attr, row).map(Cow::into_owned)
    }

    /// [`SpanFacts::attr_string`], borrowed from the column when the value is held as a
    /// string (no allocation).
    pub fn attr_str(&self, attr: &AttrRef, row: usize) -> Option<Cow<'_, str>> {
        let columns = self.attrs.get(attr)?;
        [&columns.str, &columns.other]
            .into_iter()
            .flatten()
            .find_map(|column| string_at(column, row).map(Cow::Borrowed))
            .or_else(|| {
                // A schema without `.other` (the attribute was only compared): print the
                // typed columns it has.
                let int = columns.int.as_ref().and_then(|c| {
                    let c = c.as_primitive_opt::<arrow_array::types::Int64Type>()?;
                    c.is_valid(row).then(|| c.value(row).to_string())
                });
                int.or_else(|| {
                    columns.float.as_ref().and_then(|c| {
                        let c = c.as_primitive_opt::<arrow_array::types::Float64Type>()?;
                        c.is_valid(row).then(|| c.value(row).to_string())
                    })
                })
                .or_else(|| {
                    columns.bool.as_ref().and_then(|c| {
                        let c = c.as_boolean_opt()?;
                        c.is_valid(row).then(|| c.value(row).to_string())
                    })
                })
                .map(Cow::Owned)
            })
    }

    /// Whether the batch has the [`TRACE_ID`] column.
    pub fn has_trace_ids(&self) -> bool {
        self.trace_id.is_some()
    }

    /// The trace id of `row` as a big-endian `u128`; `None` without the [`TRACE_ID`]
    /// column or when the span's is invalid (null in the column).
    pub fn trace_id(&self, row: usize) -> Option<u128> {
        let column = self
            .batch
            .column(self.trace_id?)
            .as_fixed_size_binary_opt()?;
        if column.is_null(row) {
            return None;
        }
        let bytes: [u8; 16] = column.value(row).try_into().ok()?;
        Some(u128::from_be_bytes(bytes))
    }

    /// Each row's adjusted count ([`sampling`]), `None` when every row's is 1.
    pub fn adjusted_counts(&self) -> Option<&[f64]> {
        self.adjusted.as_deref()
    }

    /// Spans of the request whose `tracestate` could not be read (they count 1), by
    /// reason ([`sampling::Invalid::index`]).
    pub fn invalid_tracestates(&self) -> &[u64; sampling::Invalid::ALL.len()] {
        &self.invalid_tracestates
    }

    /// `None` in lean facts.
    pub(crate) fn name_column(&self) -> Option<&ArrayRef> {
        (!self.lean).then(|| self.batch.column(NAME))
    }

    /// `None` in lean facts.
    pub(crate) fn kind_column(&self) -> Option<&ArrayRef> {
        (!self.lean).then(|| self.batch.column(KIND))
    }

    /// `None` in lean facts.
    pub(crate) fn status_column(&self) -> Option<&ArrayRef> {
        (!self.lean).then(|| self.batch.column(STATUS))
    }

    pub(crate) fn duration_column(&self) -> &ArrayRef {
        self.batch.column(DURATION)
    }

    pub(crate) fn attr_columns(&self, attr: &AttrRef) -> Option<&AttrColumns> {
        self.attrs.get(attr)
    }

    /// Rows `offset .. offset + len` as facts of their own, without copying (the columns
    /// share their buffers). A part whose adjusted counts are all 1 has none, as if it had
    /// been built alone. Panics when the rows lie outside the batch, as
    /// [`RecordBatch::slice`] does.
    pub fn slice(&self, offset: usize, len: usize) -> SpanFacts {
        let part = |c: &Option<ArrayRef>| c.as_ref().map(|c| c.slice(offset, len));
        SpanFacts {
            batch: self.batch.slice(offset, len),
            attrs: self
                .attrs
                .iter()
                .map(|(a, c)| {
                    let columns = AttrColumns {
                        str: part(&c.str),
                        int: part(&c.int),
                        float: part(&c.float),
                        bool: part(&c.bool),
                        other: part(&c.other),
                    };
                    (a.clone(), columns)
                })
                .collect(),
            resource_of_row: self.resource_of_row.slice(offset, len),
            clusters: self.clusters.clone(),
            services: self.services.clone(),
            trace_id: self.trace_id,
            adjusted: self
                .adjusted
                .as_ref()
                .map(|w| w.slice(offset, len))
                .filter(|w| w.iter().any(|w| *w != 1.0)),
            invalid_tracestates: Default::default(),
            compared: self.compared.slice(offset, len, self.lean),
            lean: self.lean,
        }
    }

    /// The memory the facts hold: their columns' buffers (a buffer two columns share
    /// counted for each) and the comparisons' rows that lean facts hold.
    pub fn held_bytes(&self) -> usize {
        self.batch.get_array_memory_size() + self.compared.held_bytes()
    }

    /// Whether the facts are lean (`lean.rs`).
    pub fn is_lean(&self) -> bool {
        self.lean
    }
}

/// A string column's value at `row` (through the dictionary for resource columns).
fn string_at(column: &ArrayRef, row: usize) -> Option<&str> {
    if let Some(dict) = column.as_dictionary_opt::<arrow_array::types::Int32Type>() {
        let key = dict.keys();
        if key.is_null(row) {
            return None;
        }
        let values = dict.values().as_string_opt::<i32>()?;
        let index = key.value(row) as usize;
        return values.is_valid(index).then(|| values.value(index));
    }
    let strings = column.as_string_opt::<i32>()?;
    strings.is_valid(row).then(|| strings.value(row))
}
