//! A capture file's columns: which of the facts' nullable columns a file writes in full,
//! and how a request's batch becomes a row group of the file.
//!
//! A nullable column (a span or log attribute's typed column, `trace_id`, and `tenant`) that
//! no request of the file has a value in is written as an Arrow `Null` column: no buffers at
//! all, where a typed column null in every row still takes its value and validity buffers
//! (zeros, but encoded and compressed for every message). Resource attributes' columns are
//! dictionaries keyed by the rows' resources and are always written in full. The field keeps its name and says the type
//! it stands for in its metadata ([`NULL_OF`]); [`restore`] turns it back into a typed
//! column of nulls, so that the rest of the reader sees the columns the live engine built.
//! `adjusted_count` is written once a request of the file has sampled spans (files without
//! it count every span 1). The writer starts a new file when a request has a value in a
//! column its file writes as `Null`, or sampled spans in a file without `adjusted_count`;
//! which columns held values is remembered, so this happens at most once per column.
//!
//! A string column whose values repeat (span names, routes, methods, status codes' string
//! form: what the file's first message shows, [`repeats`]) is written as an Arrow
//! dictionary: each message holds its distinct strings once and a key per row, so far
//! fewer bytes go through zstd. Its keys are as narrow as the first message allows with
//! room to grow ([`key_type`]); a message with more distinct strings than they number
//! makes the writer start a new file, laid out by that message. Its field says the plain
//! type it stands for ([`DICTIONARY_OF`]) and [`restore`] turns it back into that column.
//!
//! A `UInt64` column without nulls (`end_time_unix_nano`, `duration_nanos`, a log
//! record's time) is written as a struct of its `high` and `low` 32-bit halves
//! ([`SPLIT_OF`]), which [`restore`] joins again: zstd stores the varying low halves as
//! they are and the barely varying high ones in a few bytes, where the 8-byte column cost
//! it a short match per row (about six times the instructions).

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Float64Array, Int32Array, NullArray, RecordBatch,
    StringArray, UInt64Array, new_null_array,
};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Schema, SchemaRef};

pub use super::halves::SPLIT_OF;
use super::{Item, RECEIVED, TENANT};
use crate::slo::facts::ADJUSTED_COUNT;

/// Field metadata of a `Null` column: the Arrow type (its `Display` form) of the column it
/// stands for, null in every row of the file.
pub const NULL_OF: &str = "slotel.null_of";

/// Field metadata of a dictionary column that stands for a plain string column (its
/// `Display` type, `Utf8`).
pub const DICTIONARY_OF: &str = "slotel.dictionary_of";

/// The type of the capture's tenant column.
fn tenant_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// The facts' columns of a batch, without `adjusted_count` (which a file holds or not by
/// itself).
fn facts_fields(schema: &Schema) -> &[FieldRef] {
    let fields = &schema.fields()[..];
    match fields.last() {
        Some(f) if f.name() == ADJUSTED_COUNT => &fields[..fields.len() - 1],
        _ => fields,
    }
}

/// Whether a file may write the column as `Null` when no request filled it: a nullable
/// column, not a dictionary (resource columns: their keys are the rows' resources even
/// where the value is null, which a column of nulls would not say).
fn may_be_null(field: &Field) -> bool {
    field.is_nullable() && !matches!(field.data_type(), DataType::Dictionary(..))
}

/// Whether a column may hold a value: a row not null, or, of a dictionary (a resource
/// column), a row's key not null and a value not null (that the key of such a row picks a
/// null value is not looked at: the column is then written in full).
fn has_values(column: &ArrayRef) -> bool {
    match column.as_any_dictionary_opt() {
        Some(dict) => {
            let (keys, values) = (dict.keys(), dict.values());
            keys.null_count() < keys.len() && values.null_count() < values.len()
        }
        None => column.null_count() < column.len(),
    }
}

/// Whether a batch has the `adjusted_count` column.
pub(super) fn has_adjusted(schema: &Schema) -> bool {
    schema
        .fields()
        .last()
        .is_some_and(|f| f.name() == ADJUSTED_COUNT)
}

/// Whether requests of `a` and of `b` have the same facts' columns (and so may share a
/// file).
pub(super) fn same_facts(a: &Schema, b: &Schema) -> bool {
    facts_fields(a) == facts_fields(b)
}

/// Which nullable columns have held a value, over the writer's life: a new file writes
/// those in full from its start.
#[derive(Debug, Default)]
pub(super) struct Seen {
    columns: HashSet<String>,
    adjusted: bool,
}

impl Seen {
    /// Records the columns `item` has values in; whether one of them had none before (a
    /// file whose columns are already written may then lack it).
    pub(super) fn note(&mut self, item: &Item) -> bool {
        let batch = &item.batch;
        let schema = batch.schema();
        let mut new = false;
        for (field, column) in facts_fields(&schema).iter().zip(batch.columns()) {
            if may_be_null(field) && has_values(column) && !self.columns.contains(field.name()) {
                self.columns.insert(field.name().clone());
                new = true;
            }
        }
        if item.tenant.is_some() && !self.columns.contains(TENANT) {
            self.columns.insert(TENANT.to_string());
            new = true;
        }
        if has_adjusted(&schema) && !self.adjusted {
            self.adjusted = true;
            new = true;
        }
        new
    }
}

/// The columns of one file.
pub(super) struct Layout {
    /// The facts' columns as requests bring them (without `adjusted_count`): the names
    /// for errors.
    input: Vec<FieldRef>,
    /// Per facts column: written in full (else as `Null`).
    full: Vec<bool>,
    /// Per facts column: the key type of a string column written as a dictionary.
    dictionary: Vec<Option<DataType>>,
    /// Per facts column: a `UInt64` column without nulls (times, durations) written as its
    /// two 32-bit halves ([`SPLIT_OF`]): the low halves vary from row to row and zstd
    /// stores them as they are, the high ones barely vary; one 8-byte column gives zstd a
    /// short match every row, which costs it several times more.
    split: Vec<bool>,
    /// The columns of [`Layout::rows`]' batches: those of the file, the strings it
    /// writes as dictionaries still plain.
    gathered: SchemaRef,
    adjusted: bool,
    tenant: bool,
    pub(super) output: SchemaRef,
}

impl Layout {
    /// The layout of a new file for requests of `schema`, writing in full the columns
    /// `seen` has seen values in, and as dictionaries the string columns whose values
    /// repeat in `first` (the requests of the file's first message); `metadata` is the
    /// file schema's.
    pub(super) fn new(
        schema: &Schema,
        seen: &Seen,
        metadata: HashMap<String, String>,
        first: &[Item],
    ) -> Self {
        let input: Vec<FieldRef> = facts_fields(schema).to_vec();
        let full: Vec<bool> = input
            .iter()
            .map(|f| !may_be_null(f) || seen.columns.contains(f.name()))
            .collect();
        let dictionary: Vec<Option<DataType>> = input
            .iter()
            .zip(&full)
            .enumerate()
            .map(
                |(i, (f, full))| match *full && *f.data_type() == DataType::Utf8 {
                    true => repeats(first, i, f.name()).map(key_type),
                    false => None,
                },
            )
            .collect();
        let split: Vec<bool> = input
            .iter()
            .map(|f| *f.data_type() == DataType::UInt64 && !f.is_nullable())
            .collect();
        let tenant = seen.columns.contains(TENANT);
        let field = |f: &FieldRef, full: bool| -> FieldRef {
            match full {
                true => f.clone(),
                false => Arc::new(null_field(f.name(), f.data_type())),
            }
        };
        let mut fields: Vec<FieldRef> =
            input.iter().zip(&full).map(|(f, k)| field(f, *k)).collect();
        let mut written = fields.clone();
        for (field, key) in written.iter_mut().zip(&dictionary) {
            if let Some(key) = key {
                *field = Arc::new(dictionary_field(field, key));
            }
        }
        for (field, _) in written.iter_mut().zip(&split).filter(|(_, s)| **s) {
            *field = Arc::new(super::halves::split_field(field));
        }
        if seen.adjusted {
            fields.push(Arc::new(Field::new(
                ADJUSTED_COUNT,
                DataType::Float64,
                false,
            )));
        }
        fields.push(Arc::new(Field::new(RECEIVED, DataType::UInt64, false)));
        let tenant_field = Arc::new(Field::new(TENANT, tenant_type(), true));
        fields.push(field(&tenant_field, tenant));
        written.extend(fields[input.len()..].iter().cloned());
        Layout {
            input,
            full,
            dictionary,
            split,
            adjusted: seen.adjusted,
            tenant,
            gathered: Arc::new(Schema::new(fields)),
            output: Arc::new(Schema::new_with_metadata(written, metadata)),
        }
    }

    /// The rows of several requests ([`Layout::rows`], in order) as one batch of the
    /// file: one message. A dictionary column keeps every request's dictionary whole, one
    /// after the other, its keys moved past those before: columns keyed by the row's
    /// resource (`cluster`, `service`, `resource.attributes[…]`) still share their keys.
    /// `None` when a string column the file writes as a dictionary has more distinct
    /// values here than its key type can number (the writer then starts a new file, laid
    /// out by these requests).
    pub(super) fn message(
        &self,
        batches: &[RecordBatch],
    ) -> Result<Option<RecordBatch>, ArrowError> {
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let fields = self.gathered.fields();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(fields.len());
        for (i, field) in fields.iter().enumerate() {
            let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(i).as_ref()).collect();
            let key = self.dictionary.get(i).and_then(Option::as_ref);
            let column: ArrayRef = match field.data_type() {
                _ if key.is_some() => {
                    match super::dictionary::encode(&parts, rows, key.unwrap_or(&DataType::Int32))?
                    {
                        Some(column) => column,
                        None => return Ok(None),
                    }
                }
                _ if batches.len() == 1 => batches[0].column(i).clone(),
                DataType::Null => Arc::new(NullArray::new(rows)),
                DataType::Dictionary(k, _) if **k == DataType::Int32 => {
                    concat_dictionaries(&parts, rows)?
                }
                _ => arrow_select::concat::concat(&parts)?,
            };
            let column = match self.split.get(i).copied().unwrap_or(false) {
                true => super::halves::split(&column)?,
                false => column,
            };
            columns.push(column);
        }
        RecordBatch::try_new(self.output.clone(), columns).map(Some)
    }

    /// The item's rows in the file's columns; an error when the item has a value in a
    /// column the file writes as `Null` (the writer starts a new file before that).
    pub(super) fn rows(&self, item: &Item) -> Result<RecordBatch, ArrowError> {
        let batch = &item.batch;
        let n = batch.num_rows();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.output.fields().len());
        for (i, full) in self.full.iter().enumerate() {
            let column = batch.column(i);
            columns.push(match full {
                true => column.clone(),
                false if !has_values(column) => Arc::new(NullArray::new(n)),
                false => {
                    return Err(ArrowError::InvalidArgumentError(format!(
                        "column {:?} has values in a file that writes it as Null",
                        self.input[i].name()
                    )));
                }
            });
        }
        if item.tenant.is_some() && !self.tenant || has_adjusted(&batch.schema()) && !self.adjusted
        {
            return Err(ArrowError::InvalidArgumentError(
                "a tenant or adjusted counts in a file without the column".to_string(),
            ));
        }
        if self.adjusted {
            columns.push(match has_adjusted(&batch.schema()) {
                true => batch.column(self.input.len()).clone(),
                false => Arc::new(Float64Array::from_value(1.0, n)),
            });
        }
        columns.push(Arc::new(UInt64Array::from_value(item.received, n)));
        columns.push(match (&item.tenant, self.tenant) {
            (_, false) => Arc::new(NullArray::new(n)),
            (Some(t), true) => Arc::new(DictionaryArray::<Int32Type>::try_new(
                Int32Array::from_value(0, n),
                Arc::new(StringArray::from(vec![t.as_ref()])),
            )?),
            (None, true) => Arc::new(DictionaryArray::<Int32Type>::try_new(
                Int32Array::new_null(n),
                Arc::new(StringArray::from(Vec::<&str>::new())),
            )?),
        });
        RecordBatch::try_new(self.gathered.clone(), columns)
    }
}

/// The smallest dictionary key type for a column that showed `distinct` values in a file's
/// first message, with room for four times as many in later messages (past that, a new
/// file: [`Layout::message`]). Narrow keys are fewer bytes for zstd: `Int8` keys cost it
/// about a third of `Int32` ones.
fn key_type(distinct: usize) -> DataType {
    match distinct {
        0..=31 => DataType::Int8,
        32..=8191 => DataType::Int16,
        _ => DataType::Int32,
    }
}

/// How many distinct strings column `i` (`name`) holds in `items`, when they repeat: at
/// most half as many distinct values as rows (a column of ids is left plain: a dictionary
/// of it would only add the keys).
fn repeats(items: &[Item], i: usize, name: &str) -> Option<usize> {
    let mut rows = 0;
    let mut distinct: HashSet<&str> = HashSet::new();
    for item in items {
        let column = item.batch.column(i).as_string_opt::<i32>()?;
        if item.batch.schema().field(i).name() != name {
            return None;
        }
        rows += column.len() - column.null_count();
        distinct.extend(column.iter().flatten());
    }
    (distinct.len() * 2 <= rows).then_some(distinct.len())
}

/// The dictionary field, with `key` keys, written for a plain string field.
fn dictionary_field(field: &Field, key: &DataType) -> Field {
    let mut metadata = field.metadata().clone();
    metadata.insert(DICTIONARY_OF.to_string(), field.data_type().to_string());
    let ty = DataType::Dictionary(Box::new(key.clone()), Box::new(DataType::Utf8));
    Field::new(field.name(), ty, field.is_nullable()).with_metadata(metadata)
}

/// The `Null` field standing for a column of type `ty` null in every row.
fn null_field(name: &str, ty: &DataType) -> Field {
    Field::new(name, DataType::Null, true)
        .with_metadata(HashMap::from([(NULL_OF.to_string(), ty.to_string())]))
}

/// `batch` with its `Null` columns that stand for typed ones ([`NULL_OF`]) made typed
/// columns of nulls again, its dictionaries of strings ([`DICTIONARY_OF`]) plain strings
/// and its split times ([`SPLIT_OF`]) `UInt64` columns; a batch without any is returned
/// as it is. A type that does not parse, or columns that are not what their metadata
/// says, are an error.
pub fn restore(batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    fn stands_for(f: &Field) -> Option<&String> {
        match f.data_type() {
            DataType::Null => f.metadata().get(NULL_OF),
            DataType::Dictionary(..) => f.metadata().get(DICTIONARY_OF),
            DataType::Struct(..) => f.metadata().get(SPLIT_OF),
            _ => None,
        }
    }
    if !schema.fields().iter().any(|f| stands_for(f).is_some()) {
        return Ok(batch);
    }
    let n = batch.num_rows();
    let mut fields: Vec<FieldRef> = Vec::with_capacity(schema.fields().len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        match stands_for(field) {
            None => {
                fields.push(field.clone());
                columns.push(column.clone());
            }
            Some(ty) if matches!(field.data_type(), DataType::Struct(..)) => {
                let (field, column) = super::halves::join(field, ty, column)?;
                fields.push(field);
                columns.push(column);
            }
            Some(ty) if matches!(field.data_type(), DataType::Dictionary(..)) => {
                // Only strings are written as dictionaries (keys of any integer type).
                let dict = column
                    .as_any_dictionary_opt()
                    .filter(|d| ty == "Utf8" && *d.values().data_type() == DataType::Utf8)
                    .ok_or_else(|| {
                        ArrowError::SchemaError(format!(
                            "column {:?}: {DICTIONARY_OF} {ty:?} is not a dictionary of strings",
                            field.name()
                        ))
                    })?;
                let mut metadata = field.metadata().clone();
                metadata.remove(DICTIONARY_OF);
                let plain = Field::new(field.name(), DataType::Utf8, field.is_nullable());
                fields.push(Arc::new(plain.with_metadata(metadata)));
                columns.push(arrow_select::take::take(dict.values(), dict.keys(), None)?);
            }
            Some(ty) => {
                let ty = DataType::from_str(ty)
                    .ok()
                    .filter(writable)
                    .ok_or_else(|| {
                        ArrowError::SchemaError(format!(
                            "column {:?}: {NULL_OF} {ty:?} is not a type of capture columns",
                            field.name()
                        ))
                    })?;
                fields.push(Arc::new(Field::new(field.name(), ty.clone(), true)));
                columns.push(new_null_array(&ty, n));
            }
        }
    }
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    RecordBatch::try_new(Arc::new(schema), columns)
}

/// Whether a `Null` column may stand for a column of type `ty`: the types of the facts'
/// nullable columns (a file states the type, so it is bounded here: a column of nulls
/// allocates by its type).
fn writable(ty: &DataType) -> bool {
    let plain = |t: &DataType| {
        matches!(
            t,
            DataType::Utf8
                | DataType::Int64
                | DataType::Float64
                | DataType::Boolean
                | DataType::Int32
                | DataType::UInt64
                | DataType::FixedSizeBinary(16)
        )
    };
    match ty {
        DataType::Dictionary(k, v) => **k == DataType::Int32 && plain(v),
        t => plain(t),
    }
}

/// Dictionaries one after the other, keys moved past the values before.
fn concat_dictionaries(parts: &[&dyn Array], rows: usize) -> Result<ArrayRef, ArrowError> {
    let mut keys: Vec<i32> = Vec::with_capacity(rows);
    let mut values: Vec<&dyn Array> = Vec::with_capacity(parts.len());
    let mut offset: i32 = 0;
    let mut nulls = false;
    for part in parts {
        let dict = part.as_dictionary::<Int32Type>();
        nulls |= dict.keys().null_count() > 0;
        // A null slot's key is not read: moving it too cannot matter.
        keys.extend(dict.keys().values().iter().map(|k| k.wrapping_add(offset)));
        values.push(dict.values().as_ref());
        offset = i32::try_from(dict.values().len())
            .ok()
            .and_then(|n| offset.checked_add(n))
            .ok_or_else(|| ArrowError::ComputeError("dictionary too large".to_string()))?;
    }
    let validity = nulls.then(|| {
        let mut valid = BooleanBufferBuilder::new(rows);
        for part in parts {
            let dict = part.as_dictionary::<Int32Type>();
            match dict.keys().nulls() {
                Some(n) => valid.append_buffer(n.inner()),
                None => valid.append_n(dict.len(), true),
            }
        }
        NullBuffer::new(valid.finish())
    });
    let values = arrow_select::concat::concat(&values)?;
    Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(
        Int32Array::new(keys.into(), validity),
        values,
    )?))
}
