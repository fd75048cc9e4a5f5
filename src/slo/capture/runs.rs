//! `received_unix_nano` as an Arrow run-end encoded column in capture files ([`RUNS_OF`]):
//! every row of a request has its request's receipt time, so a message of a few thousand
//! rows holds one run per request (a run end and a time each) instead of 8 bytes a row.
//! The reader expands it back into a `UInt64` column.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, Int32Array, RunArray, UInt64Array};
use arrow_schema::{ArrowError, DataType, Field, FieldRef};

/// Field metadata of a run-end encoded column that stands for a plain column (its
/// `Display` type: `UInt64`).
pub const RUNS_OF: &str = "slotel.runs_of";

/// The run-end encoded type of the receipt times.
fn runs_type() -> DataType {
    DataType::RunEndEncoded(
        Arc::new(Field::new("run_ends", DataType::Int32, false)),
        Arc::new(Field::new("values", DataType::UInt64, true)),
    )
}

/// The field written for the `UInt64` field `field`, as runs.
pub(super) fn runs_field(field: &Field) -> Field {
    let mut metadata = field.metadata().clone();
    metadata.insert(RUNS_OF.to_string(), field.data_type().to_string());
    Field::new(field.name(), runs_type(), field.is_nullable()).with_metadata(metadata)
}

/// Runs of `(rows, value)` as one run-end encoded column (runs of no rows are left out).
pub(super) fn encode(runs: impl Iterator<Item = (usize, u64)>) -> Result<ArrayRef, ArrowError> {
    let mut ends: Vec<i32> = Vec::new();
    let mut values: Vec<u64> = Vec::new();
    let mut end: i32 = 0;
    for (rows, value) in runs.filter(|(rows, _)| *rows > 0) {
        end = i32::try_from(rows)
            .ok()
            .and_then(|r| end.checked_add(r))
            .ok_or_else(|| ArrowError::ComputeError("too many rows for run ends".into()))?;
        match values.last() {
            Some(v) if *v == value => *ends.last_mut().unwrap_or(&mut 0) = end,
            _ => {
                ends.push(end);
                values.push(value);
            }
        }
    }
    Ok(Arc::new(RunArray::<Int32Type>::try_new(
        &Int32Array::from(ends),
        &UInt64Array::from(values),
    )?))
}

/// The `UInt64` field and column a run-end encoded one (`field`, whose [`RUNS_OF`] says
/// `ty`) stands for; an error when `ty` is not `UInt64`, or the column is not runs of
/// `UInt64` values without nulls.
pub(super) fn expand(
    field: &Field,
    ty: &str,
    column: &ArrayRef,
) -> Result<(FieldRef, ArrayRef), ArrowError> {
    let wrong = || {
        ArrowError::SchemaError(format!(
            "column {:?}: {RUNS_OF} {ty:?} is not runs of UInt64 values without nulls",
            field.name()
        ))
    };
    let runs = column
        .as_run_opt::<Int32Type>()
        .filter(|_| ty == "UInt64")
        .ok_or_else(wrong)?;
    let values = runs
        .values()
        .as_primitive_opt::<UInt64Type>()
        .filter(|v| v.null_count() == 0)
        .ok_or_else(wrong)?;
    // A sliced run array: only the runs of its rows, the first and last cut to them.
    let (offset, len) = (runs.offset(), runs.len());
    if len == 0 || values.is_empty() {
        return match len {
            0 => Ok((
                Arc::new(Field::new(
                    field.name(),
                    DataType::UInt64,
                    field.is_nullable(),
                )),
                Arc::new(UInt64Array::from(Vec::<u64>::new())),
            )),
            _ => Err(wrong()),
        };
    }
    let ends = runs.run_ends().values();
    let (first, last) = (
        runs.get_start_physical_index(),
        runs.get_end_physical_index(),
    );
    let mut expanded: Vec<u64> = Vec::with_capacity(len);
    let mut at = offset;
    let runs = ends.iter().zip(values.values()).take(last + 1).skip(first);
    for (end, value) in runs {
        let end = usize::try_from(*end)
            .map_err(|_| wrong())?
            .min(offset + len);
        let value = *value;
        expanded.extend(std::iter::repeat_n(value, end.saturating_sub(at)));
        at = at.max(end);
    }
    if expanded.len() != len {
        return Err(wrong());
    }
    let mut metadata = field.metadata().clone();
    metadata.remove(RUNS_OF);
    let plain = Field::new(field.name(), DataType::UInt64, field.is_nullable());
    Ok((
        Arc::new(plain.with_metadata(metadata)),
        Arc::new(UInt64Array::from(expanded)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(column: &ArrayRef) -> Vec<u64> {
        column.as_primitive::<UInt64Type>().values().to_vec()
    }

    #[test]
    fn requests_receipt_times_expand_to_a_time_per_row() {
        let field = runs_field(&Field::new("received_unix_nano", DataType::UInt64, false));
        // Three requests; the second and third received at the same time form one run.
        let runs = encode([(2, 10), (0, 99), (3, 20), (1, 20)].into_iter()).unwrap();
        let run = runs.as_run::<Int32Type>();
        assert_eq!(run.run_ends().values(), &[2, 6]);
        assert_eq!(runs.len(), 6);
        let (f, expanded) = expand(&field, "UInt64", &runs).unwrap();
        assert_eq!(f.data_type(), &DataType::UInt64);
        assert!(f.metadata().get(RUNS_OF).is_none());
        assert_eq!(plain(&expanded), [10, 10, 20, 20, 20, 20]);
        // A slice cuts the runs at both ends.
        let (_, part) = expand(&field, "UInt64", &runs.slice(1, 3)).unwrap();
        assert_eq!(plain(&part), [10, 20, 20]);
    }

    #[test]
    fn runs_of_other_than_uint64_are_an_error_naming_the_column() {
        let field = runs_field(&Field::new("received_unix_nano", DataType::UInt64, false));
        let runs = encode([(2, 10)].into_iter()).unwrap();
        let err = expand(&field, "Int64", &runs).unwrap_err();
        assert!(err.to_string().contains("received_unix_nano"), "{err}");
        let plain: ArrayRef = Arc::new(UInt64Array::from(vec![1u64]));
        assert!(expand(&field, "UInt64", &plain).is_err());
        let ints: ArrayRef = Arc::new(
            RunArray::<Int32Type>::try_new(
                &Int32Array::from(vec![1]),
                &arrow_array::Int64Array::from(vec![1i64]),
            )
            .unwrap(),
        );
        assert!(expand(&field, "UInt64", &ints).is_err());
    }
}
