//! Log facts: the fields of each log record that log SLOs read, as one Arrow batch per
//! export request, which the capture (`slo.capture`) writes and `slotel replay` reads back.
//!
//! Log SLIs evaluate their conditions record by record (see `slo::engine::logs`); these
//! batches exist for the capture alone, so a replay can classify every record exactly as
//! the live engine did without the records themselves.
//!
//! | column | Arrow type | from |
//! |---|---|---|
//! | `time_unix_nano` | UInt64 | the record's event time: `time_unix_nano`, else `observed_time_unix_nano` |
//! | `cluster` | Utf8 | the token's cluster, else the resource attribute named by `cluster_attribute`, else `unknown` |
//! | `severity_number` | Int32 | the record |
//! | `severity_text` | Utf8 | the record |
//! | `attributes["k"].str` … | see below | one group per field |
//!
//! A field is an attribute, a resource attribute or a body field (`body["status"].str` …)
//! that a log SLI reads or `slo.capture.columns` names. Each gets the five typed columns of
//! span facts (`.str`, `.int`, `.float`, `.bool`, `.other`: the string form of every
//! non-string value), all of them: a log condition compares a string holding a number as
//! that number, so any type may matter to a future condition. A body field reads as the
//! SLOs read it ([`crate::slo::ottl::read_into`]: a map body walked, a JSON string body
//! parsed).
//!
//! Read back ([`LogFacts::from_batch`]), a value comes from the first typed column that
//! holds it; `.other` alone (an array, a map, bytes) is that string form, which is all a
//! condition can use of such a value (`IsMatch`, `nil` checks, `group_by`).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, UInt64Type};
use arrow_array::{Array, ArrayRef, Int32Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::AttrColumns;
use super::read::{FactsError, attr_column};
use super::typed::Builders;
use crate::slo::ottl::{AttrRef, BodyPaths, BodyValue, BodyView, LogFieldRef, Use};

/// The event-time column.
pub const LOG_TIME: &str = "time_unix_nano";

/// The fixed columns, in order.
const FIXED: [(&str, DataType); 4] = [
    (LOG_TIME, DataType::UInt64),
    ("cluster", DataType::Utf8),
    ("severity_number", DataType::Int32),
    ("severity_text", DataType::Utf8),
];

/// Builds the log facts of one request, record by record.
pub struct LogFactsBuilder {
    fields: Vec<AttrRef>,
    /// Each field bound to the request's body paths.
    bound: Vec<LogFieldRef>,
    time: Vec<u64>,
    cluster: StringBuilder,
    severity_number: Vec<i32>,
    severity_text: StringBuilder,
    builders: Vec<Builders>,
}

impl LogFactsBuilder {
    /// Columns for `fields` (each once, in order), with room for `capacity` records; the
    /// records' body fields will be read at `paths`, which hold every body field of
    /// `fields` (one they lack reads `nil`).
    pub fn new(
        fields: impl IntoIterator<Item = AttrRef>,
        capacity: usize,
        paths: &BodyPaths,
    ) -> Self {
        let fields: Vec<AttrRef> = fields
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let bound = fields.iter().map(|f| LogFieldRef::bind(f, paths)).collect();
        let builders = fields
            .iter()
            .map(|_| Builders::new(Use::ANY, capacity))
            .collect();
        Self {
            fields,
            bound,
            time: Vec::with_capacity(capacity),
            cluster: StringBuilder::with_capacity(capacity, capacity * 8),
            severity_number: Vec::with_capacity(capacity),
            severity_text: StringBuilder::with_capacity(capacity, capacity * 4),
            builders,
        }
    }

    /// The fields it captures.
    pub fn fields(&self) -> &[AttrRef] {
        &self.fields
    }

    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Appends one record; `body` holds its body fields at the paths the builder was made
    /// with.
    pub fn push(
        &mut self,
        (time, cluster): (u64, &str),
        record: &LogRecord,
        resource: Option<&Resource>,
        body: BodyView<'_>,
    ) {
        self.time.push(time);
        self.cluster.append_value(cluster);
        self.severity_number.push(record.severity_number);
        self.severity_text.append_value(&record.severity_text);
        for (field, builder) in self.bound.iter().zip(&mut self.builders) {
            builder.append(field.get(record, resource, body));
        }
    }

    /// The batch; the builder is empty again, for the next request.
    pub fn finish(&mut self) -> RecordBatch {
        let mut fields: Vec<Field> = FIXED
            .iter()
            .map(|(name, t)| Field::new(*name, t.clone(), false))
            .collect();
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(UInt64Array::from(std::mem::take(&mut self.time))),
            Arc::new(self.cluster.finish()),
            Arc::new(Int32Array::from(std::mem::take(&mut self.severity_number))),
            Arc::new(self.severity_text.finish()),
        ];
        for (attr, builder) in self.fields.iter().zip(&mut self.builders) {
            let fresh = Builders::new(Use::ANY, 0);
            let built = std::mem::replace(builder, fresh).finish(None);
            let typed = [
                ("str", built.str),
                ("int", built.int),
                ("float", built.float),
                ("bool", built.bool),
                ("other", built.other),
            ];
            for (suffix, column) in typed {
                if let Some(column) = column {
                    fields.push(Field::new(
                        format!("{attr}.{suffix}"),
                        column.data_type().clone(),
                        true,
                    ));
                    columns.push(column);
                }
            }
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .expect("log facts columns match their schema")
    }
}

/// One request's log facts read back (a capture).
#[derive(Debug, Clone)]
pub struct LogFacts {
    batch: RecordBatch,
    fields: BTreeMap<AttrRef, AttrColumns>,
}

impl LogFacts {
    /// The facts of a batch with the columns [`LogFactsBuilder`] makes (other columns are
    /// ignored), or what is wrong with it.
    pub fn from_batch(batch: RecordBatch) -> Result<LogFacts, FactsError> {
        let schema = batch.schema();
        for (i, (name, ty)) in FIXED.iter().enumerate() {
            let Some(field) = schema.fields().get(i) else {
                return Err(FactsError::Missing { index: i, name });
            };
            if field.name() != name || field.data_type() != ty {
                return Err(FactsError::Fixed {
                    index: i,
                    found: field.name().clone(),
                    ty: field.data_type().clone(),
                    expected: name,
                });
            }
            if batch.column(i).null_count() > 0 {
                return Err(FactsError::Nulls(name));
            }
        }
        let mut fields: BTreeMap<AttrRef, AttrColumns> = BTreeMap::new();
        for (i, field) in schema.fields().iter().enumerate().skip(FIXED.len()) {
            let Some((attr, uses)) = attr_column(field.name()) else {
                continue;
            };
            let (expected, slot): (DataType, fn(&mut AttrColumns) -> &mut Option<ArrayRef>) =
                match uses {
                    u if u == Use::STR => (DataType::Utf8, |c| &mut c.str),
                    u if u == Use::INT => (DataType::Int64, |c| &mut c.int),
                    u if u == Use::FLOAT => (DataType::Float64, |c| &mut c.float),
                    u if u == Use::BOOL => (DataType::Boolean, |c| &mut c.bool),
                    _ => (DataType::Utf8, |c| &mut c.other),
                };
            if *field.data_type() != expected {
                return Err(FactsError::Attribute {
                    column: field.name().clone(),
                    ty: field.data_type().clone(),
                    expected,
                });
            }
            *slot(fields.entry(attr).or_default()) = Some(batch.column(i).clone());
        }
        Ok(LogFacts { batch, fields })
    }

    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The fields it holds, in order.
    pub fn fields(&self) -> impl Iterator<Item = &AttrRef> {
        self.fields.keys()
    }

    /// Each record's event time.
    pub fn time(&self) -> &[u64] {
        self.batch.column(0).as_primitive::<UInt64Type>().values()
    }

    pub fn cluster(&self, row: usize) -> &str {
        self.batch.column(1).as_string::<i32>().value(row)
    }

    pub fn severity_number(&self, row: usize) -> i32 {
        self.batch.column(2).as_primitive::<Int32Type>().value(row)
    }

    pub fn severity_text(&self, row: usize) -> &str {
        self.batch.column(3).as_string::<i32>().value(row)
    }

    /// The columns of `field`, when the facts hold it.
    pub fn columns(&self, field: &AttrRef) -> Option<FieldColumns<'_>> {
        self.fields.get(field).map(FieldColumns)
    }
}

/// The typed columns of one field of [`LogFacts`].
#[derive(Debug, Clone, Copy)]
pub struct FieldColumns<'a>(&'a AttrColumns);

impl<'a> FieldColumns<'a> {
    /// The field's value in `row` as the live engine read it.
    pub fn value(&self, row: usize) -> BodyValue<'a> {
        let c = self.0;
        fn valid(a: &Option<ArrayRef>, row: usize) -> Option<&ArrayRef> {
            a.as_ref().filter(|a| a.is_valid(row))
        }
        if let Some(a) = valid(&c.str, row) {
            return BodyValue::Str(Cow::Borrowed(a.as_string::<i32>().value(row)));
        }
        if let Some(a) = valid(&c.int, row) {
            return BodyValue::Int(a.as_primitive::<Int64Type>().value(row));
        }
        if let Some(a) = valid(&c.float, row) {
            return BodyValue::Float(a.as_primitive::<Float64Type>().value(row));
        }
        if let Some(a) = valid(&c.bool, row) {
            return BodyValue::Bool(a.as_boolean().value(row));
        }
        if let Some(a) = valid(&c.other, row) {
            return BodyValue::Rendered(a.as_string::<i32>().value(row).to_string());
        }
        BodyValue::Nil
    }
}
