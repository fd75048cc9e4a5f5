//! A capture message back in the facts' own columns: each column written otherwise than
//! the engine built it (see `layout.rs`) says in its field's metadata what it stands for,
//! and [`restore`] makes it that column again, so that the rest of the reader sees the
//! columns the live engine built. Files of every earlier layout read the same way: each
//! layout only added ways of writing a column.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{Array, ArrayRef, RecordBatch, new_null_array};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Schema};

use super::halves::{HIGH_FROM, SPLIT_OF};
use super::int_text::INT_TEXT_OF;
use super::layout::{DICTIONARY_OF, NULL_OF};
use super::narrow::NARROWED_OF;
use super::runs::RUNS_OF;

/// The metadata key saying what a field of this type stands for, if it may say.
fn key_of(f: &Field) -> Option<&'static str> {
    match f.data_type() {
        DataType::Null => Some(NULL_OF),
        DataType::Dictionary(..) => Some(DICTIONARY_OF),
        DataType::Struct(..) => Some(SPLIT_OF),
        DataType::Int8 | DataType::Int16 | DataType::Int32 => Some(NARROWED_OF),
        DataType::RunEndEncoded(..) => Some(RUNS_OF),
        _ => None,
    }
}

/// What `f` stands for, by its metadata.
fn stands_for(f: &Field) -> Option<&String> {
    key_of(f).and_then(|key| f.metadata().get(key))
}

/// `f`'s metadata without `key`.
fn without(f: &Field, key: &str) -> std::collections::HashMap<String, String> {
    let mut metadata = f.metadata().clone();
    metadata.remove(key);
    metadata
}

/// `batch` with each column back in the form the facts hold it: `Null` columns that stand
/// for typed ones ([`NULL_OF`]) typed columns of nulls, dictionaries of strings
/// ([`DICTIONARY_OF`]) plain strings, split times ([`SPLIT_OF`], their high halves perhaps
/// differences from the receipt time's, [`HIGH_FROM`]) and run-end encoded receipt times
/// ([`RUNS_OF`]) `UInt64` columns, narrowed integers ([`NARROWED_OF`]) of their own type,
/// and `.other` columns without integers ([`INT_TEXT_OF`]) with the integers' decimal
/// forms back; a batch without any is returned as it is. A type that does not parse, or
/// columns that are not what their metadata says, are an error. The columns named in
/// `drop` are left out at the end (those read only to restore another).
pub fn restore(batch: RecordBatch, drop: &HashSet<String>) -> Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    let int_text = |f: &FieldRef| f.metadata().contains_key(INT_TEXT_OF);
    if !schema
        .fields()
        .iter()
        .any(|f| stands_for(f).is_some() || int_text(f) || drop.contains(f.name()))
    {
        return Ok(batch);
    }
    let n = batch.num_rows();
    let mut fields: Vec<FieldRef> = Vec::with_capacity(schema.fields().len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    // Split times whose high halves are differences from another column's: joined once
    // that column is restored.
    let mut later: Vec<usize> = Vec::new();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let Some(ty) = stands_for(field) else {
            fields.push(field.clone());
            columns.push(column.clone());
            continue;
        };
        let (field, column) = match field.data_type() {
            DataType::Struct(..) if field.metadata().contains_key(HIGH_FROM) => {
                later.push(fields.len());
                (field.clone(), column.clone())
            }
            DataType::Struct(..) => super::halves::join(field, ty, column, None)?,
            DataType::RunEndEncoded(..) => super::runs::expand(field, ty, column)?,
            DataType::Int8 | DataType::Int16 | DataType::Int32 => {
                super::narrow::widen(field, ty, column)?
            }
            DataType::Dictionary(..) => {
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
                let plain = Field::new(field.name(), DataType::Utf8, field.is_nullable());
                (
                    Arc::new(plain.with_metadata(without(field, DICTIONARY_OF))),
                    arrow_select::take::take(dict.values(), dict.keys(), None)?,
                )
            }
            _ => {
                let ty = DataType::from_str(ty)
                    .ok()
                    .filter(writable)
                    .ok_or_else(|| {
                        ArrowError::SchemaError(format!(
                            "column {:?}: {NULL_OF} {ty:?} is not a type of capture columns",
                            field.name()
                        ))
                    })?;
                let typed = Field::new(field.name(), ty.clone(), true);
                (
                    Arc::new(typed.with_metadata(without(field, NULL_OF))),
                    new_null_array(&ty, n),
                )
            }
        };
        fields.push(field);
        columns.push(column);
    }
    for i in later {
        let field = fields[i].clone();
        let from = field.metadata().get(HIGH_FROM).cloned().unwrap_or_default();
        let base = fields
            .iter()
            .position(|f| *f.name() == from)
            .and_then(|at| columns[at].as_primitive_opt::<UInt64Type>())
            .filter(|c| c.null_count() == 0)
            .map(|c| c.values().clone())
            .ok_or_else(|| {
                ArrowError::SchemaError(format!(
                    "column {:?}: {HIGH_FROM} {from:?} is not a UInt64 column of the file",
                    field.name()
                ))
            })?;
        let ty = stands_for(&field).cloned().unwrap_or_default();
        let (field, column) = super::halves::join(&field, &ty, &columns[i], Some(&base))?;
        fields[i] = field;
        columns[i] = column;
    }
    super::int_text::restore(&mut fields, &mut columns)?;
    if !drop.is_empty() {
        let kept: Vec<bool> = fields.iter().map(|f| !drop.contains(f.name())).collect();
        let mut keep = kept.iter();
        fields.retain(|_| *keep.next().unwrap_or(&true));
        let mut keep = kept.iter();
        columns.retain(|_| *keep.next().unwrap_or(&true));
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
