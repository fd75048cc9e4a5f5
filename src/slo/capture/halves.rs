//! `UInt64` columns without nulls (a span's `end_time_unix_nano` and `duration_nanos`, a
//! log record's `time_unix_nano`) as a struct of their two `UInt32` halves, `high` and
//! `low`, in capture files ([`SPLIT_OF`]); a row's value is `high << 32 | low`.
//!
//! zstd compresses each buffer of a message on its own. An 8-byte time column gives it a
//! short match every row (the high bytes repeat, the low ones do not), which costs it
//! about six times the instructions of the two halves apart: the low halves, which vary
//! from row to row, are stored as they are, the high ones, which barely vary, in a few
//! bytes. The files are as large either way.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, StructArray, UInt32Array, UInt64Array};
use arrow_schema::{ArrowError, DataType, Field, FieldRef};

/// Field metadata of a struct column of two `UInt32` halves, `high` and `low`, that stands
/// for a `UInt64` column (its `Display` type): each row's value is `high << 32 | low`.
pub const SPLIT_OF: &str = "slotel.split_of";

/// The struct of the two halves.
fn split_type() -> DataType {
    DataType::Struct(
        vec![
            Field::new("high", DataType::UInt32, false),
            Field::new("low", DataType::UInt32, false),
        ]
        .into(),
    )
}

/// The struct field written for a `UInt64` field split in halves.
pub(super) fn split_field(field: &Field) -> Field {
    let mut metadata = field.metadata().clone();
    metadata.insert(SPLIT_OF.to_string(), field.data_type().to_string());
    Field::new(field.name(), split_type(), field.is_nullable()).with_metadata(metadata)
}

/// `UInt64` columns without nulls (`parts`, one after the other, `rows` in all) as one
/// struct of their high and low halves.
pub(super) fn split(parts: &[&dyn Array], rows: usize) -> Result<ArrayRef, ArrowError> {
    let mut high: Vec<u32> = Vec::with_capacity(rows);
    let mut low: Vec<u32> = Vec::with_capacity(rows);
    for part in parts {
        let values = part
            .as_primitive_opt::<UInt64Type>()
            .filter(|c| c.null_count() == 0)
            .ok_or_else(|| ArrowError::CastError("a split column of other than UInt64s".into()))?;
        high.extend(values.values().iter().map(|v| (v >> 32) as u32));
        low.extend(values.values().iter().map(|v| *v as u32));
    }
    let DataType::Struct(fields) = split_type() else {
        unreachable!("a struct type")
    };
    Ok(Arc::new(StructArray::try_new(
        fields,
        vec![
            Arc::new(UInt32Array::from(high)),
            Arc::new(UInt32Array::from(low)),
        ],
        None,
    )?))
}

/// The `UInt64` field and column a split one (`field`, whose [`SPLIT_OF`] says `ty`) stands
/// for; an error when `ty` is not `UInt64` or the column is not two `UInt32` halves
/// without nulls.
pub(super) fn join(
    field: &Field,
    ty: &str,
    column: &ArrayRef,
) -> Result<(FieldRef, ArrayRef), ArrowError> {
    let wrong = || {
        ArrowError::SchemaError(format!(
            "column {:?}: {SPLIT_OF} {ty:?} is not two UInt32 halves without nulls of a UInt64",
            field.name()
        ))
    };
    let parts = column.as_struct_opt().ok_or_else(wrong)?;
    let half = |name: &str| {
        parts
            .column_by_name(name)
            .and_then(|c| c.as_primitive_opt::<UInt32Type>())
            .filter(|c| c.null_count() == 0)
    };
    let (Some(high), Some(low)) = (half("high"), half("low")) else {
        return Err(wrong());
    };
    if ty != "UInt64" || parts.null_count() > 0 {
        return Err(wrong());
    }
    let joined: Vec<u64> = high
        .values()
        .iter()
        .zip(low.values())
        .map(|(h, l)| (u64::from(*h) << 32) | u64::from(*l))
        .collect();
    let mut metadata = field.metadata().clone();
    metadata.remove(SPLIT_OF);
    let plain = Field::new(field.name(), DataType::UInt64, field.is_nullable());
    Ok((
        Arc::new(plain.with_metadata(metadata)),
        Arc::new(UInt64Array::from(joined)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_across_the_32_bit_boundary_join_back_exactly() {
        let values = [0, 1, u32::MAX as u64, 1 << 32, 4_500_000_000, u64::MAX];
        let column: ArrayRef = Arc::new(UInt64Array::from(values.to_vec()));
        let field = split_field(&Field::new("duration_nanos", DataType::UInt64, false));
        let halves = split(&[column.as_ref()], values.len()).unwrap();
        let (plain, joined) = join(&field, "UInt64", &halves).unwrap();
        assert_eq!(plain.data_type(), &DataType::UInt64);
        assert!(plain.metadata().get(SPLIT_OF).is_none());
        assert_eq!(joined.as_primitive::<UInt64Type>().values(), &values);
    }

    #[test]
    fn halves_that_are_not_two_uint32_columns_are_an_error() {
        let field = split_field(&Field::new("t", DataType::UInt64, false));
        let halves = split(&[&UInt64Array::from(vec![7u64])], 1).unwrap();
        assert!(join(&field, "Int64", &halves).is_err());
        let one = StructArray::try_new(
            vec![Field::new("high", DataType::UInt32, false)].into(),
            vec![Arc::new(UInt32Array::from(vec![1u32]))],
            None,
        )
        .unwrap();
        let err = join(&field, "UInt64", &(Arc::new(one) as ArrayRef)).unwrap_err();
        assert!(err.to_string().contains("\"t\""), "{err}");
        let not_struct: ArrayRef = Arc::new(UInt64Array::from(vec![1u64]));
        assert!(join(&field, "UInt64", &not_struct).is_err());
    }
}
