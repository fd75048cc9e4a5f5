//! A capture file's columns: how each of the facts' columns is written in a file, and how
//! the batches of several requests become one message of the file.
//!
//! A nullable column (a span or log attribute's typed column, `trace_id`, and `tenant`) that
//! no request of the file has a value in is written as an Arrow `Null` column: no buffers at
//! all, where a typed column null in every row still takes its value and validity buffers
//! (zeros, but encoded and compressed for every message). Resource attributes' columns are
//! dictionaries keyed by the rows' resources and are always written in full. The field
//! keeps its name and says the type it stands for in its metadata ([`NULL_OF`]); the reader
//! (`restore.rs`) turns it back into a typed column of nulls, so that the rest of the
//! reader sees the columns the live engine built. `adjusted_count` is written once a
//! request of the file has sampled spans (files without it count every span 1). The writer
//! starts a new file when a request has a value in a column its file writes as `Null`, or
//! sampled spans in a file without `adjusted_count`; which columns held values is
//! remembered, so this happens at most once per column.
//!
//! The other columns are written as cheaply for zstd as their values allow, each in a form
//! its field's metadata names and the reader undoes:
//!
//! - a string column whose values repeat (span names, routes, methods: what the file's
//!   first message shows, [`repeats`]) as an Arrow dictionary with keys as narrow as the
//!   first message allows with room to grow ([`key_type`], [`DICTIONARY_OF`],
//!   `dictionary.rs`);
//! - a `UInt64` column without nulls (`end_time_unix_nano`, `duration_nanos`, a log
//!   record's time) as its two 32-bit halves, the high ones as narrow as they allow, a
//!   time's as its difference from its receipt time's (`halves.rs`);
//! - an integer column (`kind`, `status_code`, an attribute's `.int`) in the narrowest
//!   integer type the first message's values fit (`narrow.rs`);
//! - an attribute's `.other` column without the rows its `.int` column holds, which are
//!   those integers' decimal forms (`int_text.rs`);
//! - `received_unix_nano`, one value per request, as runs (`runs.rs`).
//!
//! A message whose values do not fit the file's dictionary keys or narrowed integers makes
//! the writer start a new file, laid out by that message ([`Layout::message`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Float64Array, Int32Array, NullArray, RecordBatch, StringArray,
};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Schema, SchemaRef};

use super::int_text::INT_TEXT_OF;
use super::narrow::concat_nulls;
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

/// Whether column `i` of `batch` holds a value a file has to write: for an `.other`
/// column whose attribute has an `.int` column (`int`), one besides the integers'.
fn has_values_to_write(batch: &RecordBatch, i: usize, int: Option<usize>) -> bool {
    match int {
        Some(int) => super::int_text::has_values_besides(batch.column(i), batch.column(int)),
        None => has_values(batch.column(i)),
    }
}

/// Column `i` of `batch` as a file writes it: an `.other` column (whose attribute's `.int`
/// column is `int`) without the integers' rows.
fn written_column(batch: &RecordBatch, i: usize, int: Option<usize>) -> ArrayRef {
    match int {
        Some(int) => super::int_text::without_ints(batch.column(i), batch.column(int)),
        None => batch.column(i).clone(),
    }
}

/// Per facts column of `fields`: the `.int` column of the attribute of an `.other` column.
fn int_siblings(fields: &[FieldRef]) -> Vec<Option<usize>> {
    (0..fields.len())
        .map(|i| super::int_text::sibling(fields, i))
        .collect()
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
        let fields = facts_fields(&schema);
        let mut new = false;
        for (i, field) in fields.iter().enumerate() {
            if !may_be_null(field) || self.columns.contains(field.name()) {
                continue;
            }
            let int = super::int_text::sibling(fields, i);
            if has_values_to_write(batch, i, int) {
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

/// How a file writes one of the facts' columns.
#[derive(Debug, Clone, PartialEq)]
enum Form {
    /// As `Null`: no request of the file has a value in it.
    Null,
    /// As the engine built it.
    Plain,
    /// Strings as a dictionary with keys of this type.
    Dictionary(DataType),
    /// A `UInt64` column as its two 32-bit halves, the high ones written so.
    Split(super::halves::High),
    /// Integers in this narrower type.
    Narrow(DataType),
}

/// The columns of one file.
pub(super) struct Layout {
    /// The facts' columns as requests bring them (without `adjusted_count`): the names
    /// for errors.
    input: Vec<FieldRef>,
    /// Per facts column: how it is written.
    forms: Vec<Form>,
    /// Per facts column: of an `.other` column, its attribute's `.int` column, whose rows
    /// it is written without.
    ints: Vec<Option<usize>>,
    adjusted: bool,
    tenant: bool,
    pub(super) output: SchemaRef,
}

impl Layout {
    /// The layout of a new file for requests of `schema`, writing in full the columns
    /// `seen` has seen values in, as dictionaries the string columns whose values repeat
    /// in `first` (the requests of the file's first message) and integers as narrow as
    /// `first`'s values allow; `metadata` is the file schema's.
    pub(super) fn new(
        schema: &Schema,
        seen: &Seen,
        metadata: HashMap<String, String>,
        first: &[Item],
    ) -> Self {
        let input: Vec<FieldRef> = facts_fields(schema).to_vec();
        let ints = int_siblings(&input);
        let forms: Vec<Form> = input
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if may_be_null(f) && !seen.columns.contains(f.name()) {
                    return Form::Null;
                }
                let parts: Vec<ArrayRef> = first
                    .iter()
                    .filter(|item| same_facts(&item.batch.schema(), schema))
                    .map(|item| written_column(&item.batch, i, ints[i]))
                    .collect();
                let parts: Vec<&dyn Array> = parts.iter().map(|p| p.as_ref()).collect();
                let received: Vec<u64> = first.iter().map(|item| item.received).collect();
                match f.data_type() {
                    DataType::Utf8 => repeats(&parts)
                        .map_or(Form::Plain, |distinct| Form::Dictionary(key_type(distinct))),
                    DataType::UInt64 if !f.is_nullable() => {
                        super::halves::high_form(&parts, &received).map_or(Form::Plain, Form::Split)
                    }
                    ty if super::narrow::narrowable(ty) => super::narrow::range(&parts)
                        .and_then(|range| super::narrow::narrow_type(ty, range))
                        .map_or(Form::Plain, Form::Narrow),
                    _ => Form::Plain,
                }
            })
            .collect();
        let tenant = seen.columns.contains(TENANT);
        let mut written: Vec<FieldRef> = Vec::with_capacity(input.len() + 3);
        for ((f, form), int) in input.iter().zip(&forms).zip(&ints) {
            let mut field = match form {
                Form::Null => null_field(f.name(), f.data_type()),
                Form::Plain => (**f).clone(),
                Form::Dictionary(key) => dictionary_field(f, key),
                Form::Split(high) => super::halves::split_field(f, high, RECEIVED),
                Form::Narrow(to) => super::narrow::narrowed_field(f, to),
            };
            if let Some(int) = int {
                let mut metadata = field.metadata().clone();
                metadata.insert(INT_TEXT_OF.to_string(), input[*int].name().clone());
                field = field.with_metadata(metadata);
            }
            written.push(Arc::new(field));
        }
        if seen.adjusted {
            written.push(Arc::new(Field::new(
                ADJUSTED_COUNT,
                DataType::Float64,
                false,
            )));
        }
        let received = Field::new(RECEIVED, DataType::UInt64, false);
        written.push(Arc::new(super::runs::runs_field(&received)));
        written.push(Arc::new(match tenant {
            true => Field::new(TENANT, tenant_type(), true),
            false => null_field(TENANT, &tenant_type()),
        }));
        Layout {
            input,
            forms,
            ints,
            adjusted: seen.adjusted,
            tenant,
            output: Arc::new(Schema::new_with_metadata(written, metadata)),
        }
    }

    /// The facts of several requests (in order; each of the file's columns) as one batch
    /// of the file: one message. A dictionary column keeps every request's dictionary
    /// whole, one after the other, its keys moved past those before: columns keyed by the
    /// row's resource (`cluster`, `service`, `resource.attributes[…]`) still share their
    /// keys. `None` when a string column the file writes as a dictionary has more distinct
    /// values here than its key type can number, or an integer column (or a time's high
    /// halves) a value its narrowed type cannot hold (the writer then starts a new file, laid out by these requests).
    /// An error when a request has a value in a column the file writes as `Null` (the
    /// writer starts a new file before that).
    pub(super) fn message(&self, items: &[Item]) -> Result<Option<RecordBatch>, ArrowError> {
        let rows: usize = items.iter().map(|item| item.batch.num_rows()).sum();
        let received: Vec<u64> = items.iter().map(|item| item.received).collect();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.output.fields().len());
        for (i, form) in self.forms.iter().enumerate() {
            let int = self.ints[i];
            if *form == Form::Null {
                if items
                    .iter()
                    .any(|item| has_values_to_write(&item.batch, i, int))
                {
                    return Err(ArrowError::InvalidArgumentError(format!(
                        "column {:?} has values in a file that writes it as Null",
                        self.input[i].name()
                    )));
                }
                columns.push(Arc::new(NullArray::new(rows)));
                continue;
            }
            let owned: Vec<ArrayRef> = items
                .iter()
                .map(|item| written_column(&item.batch, i, int))
                .collect();
            let parts: Vec<&dyn Array> = owned.iter().map(|p| p.as_ref()).collect();
            let column = match form {
                Form::Dictionary(key) => super::dictionary::encode(&parts, rows, key)?,
                Form::Narrow(to) => super::narrow::narrow(&parts, rows, to)?,
                Form::Split(high) => super::halves::split(&parts, &received, rows, high)?,
                Form::Plain | Form::Null => Some(concat(&parts, rows)?),
            };
            let Some(column) = column else {
                return Ok(None);
            };
            columns.push(column);
        }
        if items.iter().any(|item| {
            item.tenant.is_some() && !self.tenant
                || has_adjusted(&item.batch.schema()) && !self.adjusted
        }) {
            return Err(ArrowError::InvalidArgumentError(
                "a tenant or adjusted counts in a file without the column".to_string(),
            ));
        }
        if self.adjusted {
            let owned: Vec<ArrayRef> = items
                .iter()
                .map(|item| match has_adjusted(&item.batch.schema()) {
                    true => item.batch.column(self.input.len()).clone(),
                    false => Arc::new(Float64Array::from_value(1.0, item.batch.num_rows())),
                })
                .collect();
            let parts: Vec<&dyn Array> = owned.iter().map(|p| p.as_ref()).collect();
            columns.push(concat(&parts, rows)?);
        }
        columns.push(super::runs::encode(
            items
                .iter()
                .map(|item| (item.batch.num_rows(), item.received)),
        )?);
        columns.push(match self.tenant {
            false => Arc::new(NullArray::new(rows)),
            true => tenants(items, rows)?,
        });
        RecordBatch::try_new(self.output.clone(), columns).map(Some)
    }
}

/// Columns one after the other (a dictionary's keys moved past the values before).
fn concat(parts: &[&dyn Array], rows: usize) -> Result<ArrayRef, ArrowError> {
    match parts {
        [one] => Ok(one.slice(0, one.len())),
        _ => match parts.first().map(|p| p.data_type()) {
            Some(DataType::Dictionary(k, _)) if **k == DataType::Int32 => {
                concat_dictionaries(parts, rows)
            }
            _ => arrow_select::concat::concat(parts),
        },
    }
}

/// The tenant of each request's rows, as a dictionary of the tenants (null without one).
fn tenants(items: &[Item], rows: usize) -> Result<ArrayRef, ArrowError> {
    let mut names: Vec<&str> = Vec::new();
    let mut keys: Vec<Option<i32>> = Vec::with_capacity(rows);
    for item in items {
        let key = item
            .tenant
            .as_ref()
            .map(|t| match names.iter().position(|n| *n == t.as_ref()) {
                Some(k) => k,
                None => {
                    names.push(t);
                    names.len() - 1
                }
            });
        let key = key
            .map(|k| i32::try_from(k).map_err(|_| ArrowError::ComputeError("tenants".into())))
            .transpose()?;
        keys.extend(std::iter::repeat_n(key, item.batch.num_rows()));
    }
    Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(
        Int32Array::from(keys),
        Arc::new(StringArray::from(names)),
    )?))
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

/// How many distinct strings the string columns `parts` hold, when they repeat: at most
/// half as many distinct values as rows with a value (a column of ids is left plain: a
/// dictionary of it would only add the keys).
fn repeats(parts: &[&dyn Array]) -> Option<usize> {
    let (distinct, rows) = super::dictionary::distinct(parts)?;
    (distinct * 2 <= rows).then_some(distinct)
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

/// Dictionaries one after the other, keys moved past the values before.
fn concat_dictionaries(parts: &[&dyn Array], rows: usize) -> Result<ArrayRef, ArrowError> {
    let mut keys: Vec<i32> = Vec::with_capacity(rows);
    let mut values: Vec<&dyn Array> = Vec::with_capacity(parts.len());
    let mut offset: i32 = 0;
    for part in parts {
        let dict = part.as_dictionary::<Int32Type>();
        // A null slot's key is not read: moving it too cannot matter.
        keys.extend(dict.keys().values().iter().map(|k| k.wrapping_add(offset)));
        values.push(dict.values().as_ref());
        offset = i32::try_from(dict.values().len())
            .ok()
            .and_then(|n| offset.checked_add(n))
            .ok_or_else(|| ArrowError::ComputeError("dictionary too large".to_string()))?;
    }
    let key_parts: Vec<&dyn Array> = parts
        .iter()
        .map(|p| p.as_dictionary::<Int32Type>().keys() as &dyn Array)
        .collect();
    let validity = concat_nulls(&key_parts, rows);
    let values = arrow_select::concat::concat(&values)?;
    let keys = Int32Array::new(keys.into(), validity);
    // SAFETY: each part is a dictionary whose keys in rows not null are below its values'
    // number; moved past the values of the parts before (an offset that fits `i32`, checked
    // above), they are below the number of the values concatenated: `try_new` would
    // accept them (it does not read the keys of null rows).
    Ok(Arc::new(unsafe {
        DictionaryArray::<Int32Type>::new_unchecked(keys, values)
    }))
}
