//! `ExportTraceServiceRequest` → [`SpanFacts`]: one pass over the spans, appending to
//! pre-sized builders; attribute values are found with one scan of each span's attribute
//! list.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Float64Array, Int32Array, RecordBatch, StringArray,
    UInt64Array,
};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{DataType, Field, Schema};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};

use super::sampling::{Invalid, adjusted_count};
use super::{AttrColumns, FactsSchema, SpanFacts};
use crate::slo::ottl::{AttrRef, Use, Val, render};

/// `cluster` when neither the token nor the resource names one.
pub const UNKNOWN_CLUSTER: &str = "unknown";

/// `service` when the resource has no `service.name`.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// The typed builders of one attribute.
struct Builders {
    str: Option<StringBuilder>,
    int: Option<Int64Builder>,
    float: Option<Float64Builder>,
    bool: Option<BooleanBuilder>,
    other: Option<StringBuilder>,
}

impl Builders {
    fn new(uses: Use, capacity: usize) -> Self {
        let strings = || StringBuilder::with_capacity(capacity, capacity * 8);
        Builders {
            str: uses.has(Use::STR).then(strings),
            int: uses
                .has(Use::INT)
                .then(|| Int64Builder::with_capacity(capacity)),
            float: uses
                .has(Use::FLOAT)
                .then(|| Float64Builder::with_capacity(capacity)),
            bool: uses
                .has(Use::BOOL)
                .then(|| BooleanBuilder::with_capacity(capacity)),
            other: uses.has(Use::OTHER).then(strings),
        }
    }

    fn append(&mut self, value: Val<'_>) {
        if let Some(b) = &mut self.str {
            match value {
                Val::Str(s) => b.append_value(s),
                _ => b.append_null(),
            }
        }
        if let Some(b) = &mut self.int {
            match value {
                Val::Int(i) => b.append_value(i),
                _ => b.append_null(),
            }
        }
        if let Some(b) = &mut self.float {
            match value {
                Val::Float(f) => b.append_value(f),
                _ => b.append_null(),
            }
        }
        if let Some(b) = &mut self.bool {
            match value {
                Val::Bool(v) => b.append_value(v),
                _ => b.append_null(),
            }
        }
        if let Some(b) = &mut self.other {
            match value {
                Val::Nil | Val::Str(_) => b.append_null(),
                value => {
                    render(value, b);
                    b.append_value("");
                }
            }
        }
    }

    /// The columns; with `keys`, each becomes a dictionary over the built values.
    fn finish(mut self, keys: Option<&Int32Array>) -> AttrColumns {
        let wrap = |values: ArrayRef| -> ArrayRef {
            match keys {
                Some(keys) => Arc::new(DictionaryArray::<Int32Type>::new(keys.clone(), values)),
                None => values,
            }
        };
        AttrColumns {
            str: self.str.as_mut().map(|b| wrap(Arc::new(b.finish()))),
            int: self.int.as_mut().map(|b| wrap(Arc::new(b.finish()))),
            float: self.float.as_mut().map(|b| wrap(Arc::new(b.finish()))),
            bool: self.bool.as_mut().map(|b| wrap(Arc::new(b.finish()))),
            other: self.other.as_mut().map(|b| wrap(Arc::new(b.finish()))),
        }
    }
}

/// Finds a key's position among the schema's attribute keys.
enum KeyIndex<'a> {
    Few(Vec<&'a str>),
    Many(HashMap<&'a str, usize>),
}

impl<'a> KeyIndex<'a> {
    fn new(keys: Vec<&'a str>) -> Self {
        if keys.len() <= 12 {
            KeyIndex::Few(keys)
        } else {
            KeyIndex::Many(keys.into_iter().enumerate().map(|(i, k)| (k, i)).collect())
        }
    }

    fn find(&self, key: &str) -> Option<usize> {
        match self {
            KeyIndex::Few(keys) => keys.iter().position(|k| *k == key),
            KeyIndex::Many(map) => map.get(key).copied(),
        }
    }

    /// The value of each key in `attributes` (the first one when a key repeats).
    fn lookup<'v>(&self, attributes: &'v [KeyValue], slots: &mut [Option<&'v AnyValue>]) {
        slots.fill(None);
        for kv in attributes {
            if let Some(i) = self.find(&kv.key)
                && slots[i].is_none()
            {
                slots[i] = Some(kv.value.as_ref().unwrap_or(&EMPTY));
            }
        }
    }
}

/// A key with no value: `nil`.
static EMPTY: AnyValue = AnyValue { value: None };

pub(super) fn build(
    req: &ExportTraceServiceRequest,
    token_cluster: Option<&str>,
    cluster_attribute: &str,
    schema: &FactsSchema,
) -> SpanFacts {
    let spans = req
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    let resources = req.resource_spans.len();
    let (mut item_attrs, mut resource_attrs) = (Vec::new(), Vec::new());
    for (attr, uses) in schema.entries() {
        match attr {
            AttrRef::Item(key) => item_attrs.push((attr, key.as_str(), uses)),
            AttrRef::Resource(key) => resource_attrs.push((attr, key.as_str(), uses)),
            // Log records only: a span has no body.
            AttrRef::Body(_) => {}
        }
    }
    let item_index = KeyIndex::new(item_attrs.iter().map(|(_, k, _)| *k).collect());
    // The schema's resource attributes, then `service.name` and the cluster attribute unless
    // the schema already reads them.
    let mut resource_keys: Vec<&str> = resource_attrs.iter().map(|(_, k, _)| *k).collect();
    let mut slot_of = |key| match resource_keys.iter().position(|k| *k == key) {
        Some(i) => i,
        None => {
            resource_keys.push(key);
            resource_keys.len() - 1
        }
    };
    let (service_slot, cluster_slot) = (slot_of("service.name"), slot_of(cluster_attribute));
    let mut resource_slots = vec![None; resource_keys.len()];
    let resource_index = KeyIndex::new(resource_keys);
    let mut item_builders: Vec<Builders> = item_attrs
        .iter()
        .map(|(_, _, uses)| Builders::new(*uses, spans))
        .collect();
    let mut resource_builders: Vec<Builders> = resource_attrs
        .iter()
        .map(|(_, _, uses)| Builders::new(*uses, resources))
        .collect();

    let mut clusters = StringBuilder::with_capacity(resources, resources * 16);
    let mut services = StringBuilder::with_capacity(resources, resources * 16);
    let mut keys = Vec::with_capacity(spans);
    let mut end = Vec::with_capacity(spans);
    let mut duration = Vec::with_capacity(spans);
    let mut kind = Vec::with_capacity(spans);
    let mut status = Vec::with_capacity(spans);
    let mut names = StringBuilder::with_capacity(spans, spans * 16);
    let mut item_slots = vec![None; item_attrs.len()];
    // Adjusted counts, kept only once a span's is not 1.
    let mut adjusted: Option<Vec<f64>> = None;
    let mut invalid = [0u64; Invalid::ALL.len()];

    for (r, resource_spans) in req.resource_spans.iter().enumerate() {
        let attributes = resource_spans
            .resource
            .as_ref()
            .map_or(&[][..], |r| &r.attributes[..]);
        resource_index.lookup(attributes, &mut resource_slots);
        for (builder, value) in resource_builders.iter_mut().zip(&resource_slots) {
            builder.append(Val::of(*value));
        }
        match Val::of(resource_slots[service_slot]) {
            Val::Str(s) if !s.is_empty() => services.append_value(s),
            _ => services.append_value(UNKNOWN_SERVICE),
        }
        match (token_cluster, Val::of(resource_slots[cluster_slot])) {
            (Some(cluster), _) => clusters.append_value(cluster),
            (None, Val::Nil) | (None, Val::Str("")) => clusters.append_value(UNKNOWN_CLUSTER),
            (None, value) => {
                render(value, &mut clusters);
                clusters.append_value("");
            }
        }
        let key = i32::try_from(r).unwrap_or(i32::MAX);
        for span in resource_spans.scope_spans.iter().flat_map(|s| &s.spans) {
            keys.push(key);
            end.push(span.end_time_unix_nano);
            duration.push(
                span.end_time_unix_nano
                    .saturating_sub(span.start_time_unix_nano),
            );
            kind.push(span.kind);
            status.push(span.status.as_ref().map_or(0, |s| s.code));
            names.append_value(&span.name);
            let w = if span.trace_state.is_empty() {
                1.0
            } else {
                adjusted_count(&span.trace_state).unwrap_or_else(|reason| {
                    invalid[reason.index()] += 1;
                    1.0
                })
            };
            if w != 1.0 && adjusted.is_none() {
                // The rows before this one all counted 1.
                let mut column = Vec::with_capacity(spans);
                column.resize(end.len() - 1, 1.0);
                adjusted = Some(column);
            }
            if let Some(column) = &mut adjusted {
                column.push(w);
            }
            if !item_builders.is_empty() {
                item_index.lookup(&span.attributes, &mut item_slots);
                for (builder, value) in item_builders.iter_mut().zip(&item_slots) {
                    builder.append(Val::of(*value));
                }
            }
        }
    }

    let keys = Int32Array::from(keys);
    let resource_of_row: ScalarBuffer<i32> = keys.values().clone();
    let clusters = clusters.finish();
    let services = services.finish();
    let dict = |values: &StringArray| -> ArrayRef {
        Arc::new(DictionaryArray::<Int32Type>::new(
            keys.clone(),
            Arc::new(values.clone()),
        ))
    };
    let dict_type = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let mut fields = vec![
        Field::new("end_time_unix_nano", DataType::UInt64, false),
        Field::new("duration_nanos", DataType::UInt64, false),
        Field::new("cluster", dict_type.clone(), false),
        Field::new("service", dict_type, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("kind", DataType::Int32, false),
        Field::new("status_code", DataType::Int32, false),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from(end)),
        Arc::new(UInt64Array::from(duration)),
        dict(&clusters),
        dict(&services),
        Arc::new(names.finish()),
        Arc::new(Int32Array::from(kind)),
        Arc::new(Int32Array::from(status)),
    ];
    let mut attrs = BTreeMap::new();
    let item = item_attrs
        .iter()
        .zip(item_builders)
        .map(|((a, ..), b)| (a, b.finish(None)));
    let resource = resource_attrs
        .iter()
        .zip(resource_builders)
        .map(|((a, ..), b)| (a, b.finish(Some(&keys))));
    for (attr, built) in item.chain(resource) {
        let base = match attr {
            AttrRef::Item(k) => format!("attributes[{k:?}]"),
            AttrRef::Resource(k) => format!("resource.attributes[{k:?}]"),
            AttrRef::Body(_) => attr.to_string(),
        };
        let typed = [
            ("str", &built.str),
            ("int", &built.int),
            ("float", &built.float),
            ("bool", &built.bool),
            ("other", &built.other),
        ];
        for (suffix, column) in typed {
            if let Some(column) = column {
                let name = format!("{base}.{suffix}");
                fields.push(Field::new(name, column.data_type().clone(), true));
                columns.push(column.clone());
            }
        }
        attrs.insert((*attr).clone(), built);
    }
    // Last, so that a batch without it gets it in the same place
    // (see [`super::with_adjusted_counts`]).
    let adjusted = adjusted.map(ScalarBuffer::from);
    if let Some(a) = &adjusted {
        fields.push(Field::new(super::ADJUSTED_COUNT, DataType::Float64, false));
        columns.push(Arc::new(Float64Array::new(a.clone(), None)));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .expect("span facts columns match their schema");
    SpanFacts {
        batch,
        attrs,
        resource_of_row,
        clusters,
        services,
        adjusted,
        invalid_tracestates: invalid,
    }
}
