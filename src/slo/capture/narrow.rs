//! Integer columns in the narrowest integer type their values fit, in capture files
//! ([`NARROWED_OF`]): a span's `kind` and `status_code` (`Int32`) and an attribute's `.int`
//! column (`Int64`) hold small numbers (0 to 5, 0 to 2, HTTP status codes), and zstd
//! spends its instructions per byte of a buffer: a status code as `Int16` costs it about
//! half of the same column as `Int64`, `kind` as `Int8` about half of it as `Int32`.
//!
//! A file's type for such a column is the narrowest of `Int8`, `Int16` and `Int32` that
//! holds every value of the file's first message (null rows included: the facts hold 0
//! there); a later message with a value outside it makes the writer start a new file, laid
//! out by that message. The reader widens the column back to the type it stands for.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{ArrowPrimitiveType, Int8Type, Int16Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, PrimitiveArray};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, FieldRef};

/// Field metadata of an integer column written narrower than the column it stands for
/// (its `Display` type: `Int32` or `Int64`).
pub const NARROWED_OF: &str = "slotel.narrowed_of";

/// Whether a facts column of type `ty` may be written narrower: plain `Int32` and `Int64`
/// columns (not dictionaries: a resource attribute's values are few already).
pub(super) fn narrowable(ty: &DataType) -> bool {
    matches!(ty, DataType::Int32 | DataType::Int64)
}

/// The smallest and largest value of integer columns (`Int32` or `Int64`), null rows
/// included; `None` for no rows or another type.
pub(super) fn range(parts: &[&dyn Array]) -> Option<(i64, i64)> {
    // Plain loops over copied values: the compiler makes them vector code.
    fn bounds<T: Copy + Into<i64>>(values: &[T]) -> Option<(i64, i64)> {
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for v in values {
            let v: i64 = (*v).into();
            lo = lo.min(v);
            hi = hi.max(v);
        }
        (!values.is_empty()).then_some((lo, hi))
    }
    let mut range: Option<(i64, i64)> = None;
    for part in parts {
        let bounds = match part.data_type() {
            DataType::Int32 => bounds(part.as_primitive::<Int32Type>().values()),
            DataType::Int64 => bounds(part.as_primitive::<Int64Type>().values()),
            _ => return None,
        };
        if let Some((lo, hi)) = bounds {
            range = Some(match range {
                None => (lo, hi),
                Some((a, b)) => (a.min(lo), b.max(hi)),
            });
        }
    }
    range
}

/// The narrowest type of `Int8`, `Int16` and `Int32` that holds `lo ..= hi`, when it is
/// narrower than `ty` (the column's own type).
pub(super) fn narrow_type(ty: &DataType, (lo, hi): (i64, i64)) -> Option<DataType> {
    let fits = |min: i64, max: i64| lo >= min && hi <= max;
    let narrow = if fits(i8::MIN.into(), i8::MAX.into()) {
        DataType::Int8
    } else if fits(i16::MIN.into(), i16::MAX.into()) {
        DataType::Int16
    } else if fits(i32::MIN.into(), i32::MAX.into()) {
        DataType::Int32
    } else {
        return None;
    };
    (narrow != *ty).then_some(narrow)
}

/// The field written for `field` narrowed to `to`.
pub(super) fn narrowed_field(field: &Field, to: &DataType) -> Field {
    let mut metadata = field.metadata().clone();
    metadata.insert(NARROWED_OF.to_string(), field.data_type().to_string());
    Field::new(field.name(), to.clone(), field.is_nullable()).with_metadata(metadata)
}

/// Integer columns (`parts`, one after the other, `rows` in all) as one column of type
/// `to`; `None` when a value does not fit it.
///
/// One pass: each value is cast (wrapping) as it is written, and whether every value fit
/// is read afterwards from the bits of their magnitudes or-ed together ([`magnitude`]),
/// without a comparison a row.
pub(super) fn narrow(
    parts: &[&dyn Array],
    rows: usize,
    to: &DataType,
) -> Result<Option<ArrayRef>, ArrowError> {
    if parts
        .iter()
        .any(|p| !matches!(p.data_type(), DataType::Int32 | DataType::Int64))
    {
        return Err(ArrowError::CastError(
            "a narrowed column of other than Int32 or Int64".into(),
        ));
    }
    let nulls = concat_nulls(parts, rows);
    /// The column of type `T` (of `bits` bits), `None` when a value does not fit it.
    fn build<T: ArrowPrimitiveType>(
        parts: &[&dyn Array],
        rows: usize,
        nulls: Option<NullBuffer>,
        bits: u32,
        cast: impl Fn(i64) -> T::Native,
    ) -> Option<ArrayRef> {
        let mut values: Vec<T::Native> = Vec::with_capacity(rows);
        let mut wide = 0u64;
        for part in parts {
            let mut put = |v: i64| {
                wide |= magnitude(v);
                cast(v)
            };
            match part.data_type() {
                DataType::Int32 => values.extend(
                    part.as_primitive::<Int32Type>()
                        .values()
                        .iter()
                        .map(|v| put(i64::from(*v))),
                ),
                _ => values.extend(
                    part.as_primitive::<Int64Type>()
                        .values()
                        .iter()
                        .map(|v| put(*v)),
                ),
            }
        }
        // A value fits `bits` signed bits when its magnitude fits `bits - 1`.
        (wide >> (bits - 1) == 0)
            .then(|| Arc::new(PrimitiveArray::<T>::new(ScalarBuffer::from(values), nulls)) as _)
    }
    // The casts wrap a value that does not fit, and then the column is not returned.
    Ok(match to {
        DataType::Int8 => build::<Int8Type>(parts, rows, nulls, 8, |v| v as i8),
        DataType::Int16 => build::<Int16Type>(parts, rows, nulls, 16, |v| v as i16),
        DataType::Int32 => build::<Int32Type>(parts, rows, nulls, 32, |v| v as i32),
        other => {
            return Err(ArrowError::CastError(format!(
                "integers narrowed to {other}"
            )));
        }
    })
}

/// The bits of `v`'s magnitude: `v` for a value of 0 or more, `-v - 1` for a negative one
/// (its bits inverted). `v` fits `b` signed bits exactly when this is below `2^(b - 1)`.
#[inline(always)]
fn magnitude(v: i64) -> u64 {
    (v ^ (v >> 63)) as u64
}

/// The null buffers of `parts` one after the other (`None` when no row is null).
pub(super) fn concat_nulls(parts: &[&dyn Array], rows: usize) -> Option<NullBuffer> {
    if parts.iter().all(|p| p.null_count() == 0) {
        return None;
    }
    let mut valid = BooleanBufferBuilder::new(rows);
    for part in parts {
        match part.nulls() {
            Some(n) => valid.append_buffer(n.inner()),
            None => valid.append_n(part.len(), true),
        }
    }
    Some(NullBuffer::new(valid.finish()))
}

/// The field and column a narrowed one (`field`, whose [`NARROWED_OF`] says `ty`) stands
/// for; an error when `ty` is not `Int32` or `Int64`, or the column is not a narrower
/// integer column.
pub(super) fn widen(
    field: &Field,
    ty: &str,
    column: &ArrayRef,
) -> Result<(FieldRef, ArrayRef), ArrowError> {
    let wrong = || {
        ArrowError::SchemaError(format!(
            "column {:?}: {NARROWED_OF} {ty:?} is not a wider integer type than {}",
            field.name(),
            column.data_type()
        ))
    };
    let widened: ArrayRef = match (ty, column.data_type()) {
        ("Int32", DataType::Int8) => widened::<Int8Type, Int32Type>(column),
        ("Int32", DataType::Int16) => widened::<Int16Type, Int32Type>(column),
        ("Int64", DataType::Int8) => widened::<Int8Type, Int64Type>(column),
        ("Int64", DataType::Int16) => widened::<Int16Type, Int64Type>(column),
        ("Int64", DataType::Int32) => widened::<Int32Type, Int64Type>(column),
        _ => return Err(wrong()),
    };
    let mut metadata = field.metadata().clone();
    metadata.remove(NARROWED_OF);
    let plain = Field::new(
        field.name(),
        widened.data_type().clone(),
        field.is_nullable(),
    )
    .with_metadata(metadata);
    Ok((Arc::new(plain), widened))
}

/// `column` (of `F`'s type) in the wider type `T`: Arrow's `unary` keeps the validity and
/// maps each value.
fn widened<F, T>(column: &ArrayRef) -> ArrayRef
where
    F: ArrowPrimitiveType,
    T: ArrowPrimitiveType,
    T::Native: From<F::Native>,
{
    Arc::new(column.as_primitive::<F>().unary::<_, T>(T::Native::from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int32Array, Int64Array};

    fn ints64(column: &ArrayRef) -> Vec<Option<i64>> {
        column.as_primitive::<Int64Type>().iter().collect()
    }

    #[test]
    fn each_range_takes_the_narrowest_type_that_holds_it() {
        for (range, want) in [
            ((0, 5), Some(DataType::Int8)),
            ((-128, 127), Some(DataType::Int8)),
            ((100, 599), Some(DataType::Int16)),
            ((-129, 0), Some(DataType::Int16)),
            ((0, 32_768), Some(DataType::Int32)),
            ((i64::from(i32::MIN), 0), Some(DataType::Int32)),
            ((0, 1 << 31), None),
        ] {
            assert_eq!(narrow_type(&DataType::Int64, range), want, "{range:?}");
        }
        // Never the column's own type.
        assert_eq!(narrow_type(&DataType::Int32, (0, 1 << 20)), None);
        assert_eq!(narrow_type(&DataType::Int32, (0, 2)), Some(DataType::Int8));
    }

    #[test]
    fn status_codes_narrowed_and_widened_again_keep_values_and_nulls() {
        let a = Int64Array::from(vec![Some(200), None, Some(503)]);
        let b = Int64Array::from(vec![Some(-1), Some(32_767)]);
        let parts: [&dyn Array; 2] = [&a, &b];
        assert_eq!(range(&parts), Some((-1, 32_767)));
        let to = narrow_type(&DataType::Int64, range(&parts).unwrap()).unwrap();
        assert_eq!(to, DataType::Int16);
        let narrowed = narrow(&parts, 5, &to).unwrap().unwrap();
        assert_eq!(narrowed.data_type(), &DataType::Int16);
        let field = narrowed_field(&Field::new("c.int", DataType::Int64, true), &to);
        let (plain, wide) = widen(&field, "Int64", &narrowed).unwrap();
        assert_eq!(plain.data_type(), &DataType::Int64);
        assert!(plain.metadata().get(NARROWED_OF).is_none());
        assert_eq!(
            ints64(&wide),
            [Some(200), None, Some(503), Some(-1), Some(32_767)]
        );
    }

    #[test]
    fn a_value_outside_the_type_is_none_not_a_wrapped_value() {
        let a = Int32Array::from(vec![1, 2, 300]);
        assert!(narrow(&[&a], 3, &DataType::Int8).unwrap().is_none());
        let kinds = narrow(&[&a], 3, &DataType::Int16).unwrap().unwrap();
        let field = narrowed_field(
            &Field::new("kind", DataType::Int32, false),
            &DataType::Int16,
        );
        let (_, wide) = widen(&field, "Int32", &kinds).unwrap();
        assert_eq!(wide.as_primitive::<Int32Type>().values(), &[1, 2, 300]);
    }

    /// The one-pass check against the plain one: values at and around every type's
    /// bounds, in `Int32` and `Int64` columns, narrowed to each type.
    #[test]
    fn a_column_is_narrowed_exactly_when_its_range_fits() {
        let edges: Vec<i64> = [
            i8::MIN.into(),
            i8::MAX.into(),
            i16::MIN.into(),
            i16::MAX.into(),
        ]
        .into_iter()
        .chain([
            i64::from(i32::MIN),
            i64::from(i32::MAX),
            0,
            -1,
            i64::MIN,
            i64::MAX,
        ])
        .flat_map(|e: i64| [e.saturating_sub(1), e, e.saturating_add(1)])
        .collect();
        for &v in &edges {
            for to in [DataType::Int8, DataType::Int16, DataType::Int32] {
                let bits = match to {
                    DataType::Int8 => 8,
                    DataType::Int16 => 16,
                    _ => 32,
                };
                let (min, max) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
                let fits = (min..=max).contains(&v);
                let wide = Int64Array::from(vec![0, v, 5]);
                let mut columns: Vec<ArrayRef> = vec![Arc::new(wide)];
                if let Ok(v32) = i32::try_from(v) {
                    columns.push(Arc::new(Int32Array::from(vec![Some(v32), None])));
                }
                for column in &columns {
                    let parts: [&dyn Array; 2] = [column.as_ref(), column.as_ref()];
                    let rows = 2 * column.len();
                    let got = narrow(&parts, rows, &to).unwrap();
                    assert_eq!(got.is_some(), fits, "{v} as {to}");
                    let plain = range(&parts).and_then(|r| narrow_type(&DataType::Int64, r));
                    if let Some(got) = got {
                        assert_eq!(got.data_type(), &to);
                        let back = arrow_cast_free_widen(&got);
                        let want: Vec<Option<i64>> = parts
                            .iter()
                            .flat_map(|p| match p.data_type() {
                                DataType::Int32 => p
                                    .as_primitive::<Int32Type>()
                                    .iter()
                                    .map(|v| v.map(i64::from))
                                    .collect::<Vec<_>>(),
                                _ => p.as_primitive::<Int64Type>().iter().collect(),
                            })
                            .collect();
                        assert_eq!(back, want, "{v} as {to}");
                        // The plain range names this type or a narrower one.
                        assert!(plain.is_some_and(|p| width(&p) <= bits), "{v} as {to}");
                    }
                }
            }
        }
        let floats = arrow_array::Float64Array::from(vec![1.0]);
        assert!(narrow(&[&floats], 1, &DataType::Int8).is_err());
        let none = Int64Array::from(Vec::<i64>::new());
        let empty = narrow(&[&none], 0, &DataType::Int8).unwrap().unwrap();
        assert_eq!((empty.len(), empty.data_type()), (0, &DataType::Int8));
    }

    fn width(ty: &DataType) -> u32 {
        match ty {
            DataType::Int8 => 8,
            DataType::Int16 => 16,
            _ => 32,
        }
    }

    /// A narrowed column's values (nulls kept) as `i64`.
    fn arrow_cast_free_widen(column: &ArrayRef) -> Vec<Option<i64>> {
        match column.data_type() {
            DataType::Int8 => column
                .as_primitive::<Int8Type>()
                .iter()
                .map(|v| v.map(i64::from))
                .collect(),
            DataType::Int16 => column
                .as_primitive::<Int16Type>()
                .iter()
                .map(|v| v.map(i64::from))
                .collect(),
            _ => column
                .as_primitive::<Int32Type>()
                .iter()
                .map(|v| v.map(i64::from))
                .collect(),
        }
    }

    #[test]
    fn a_narrowed_column_that_is_not_narrower_is_an_error() {
        let field = Field::new("kind", DataType::Int8, false);
        let column: ArrayRef = Arc::new(Int64Array::from(vec![1i64]));
        let err = widen(&field, "Int32", &column).unwrap_err();
        assert!(err.to_string().contains("\"kind\""), "{err}");
        let small: ArrayRef = Arc::new(arrow_array::Int8Array::from(vec![1i8]));
        assert!(widen(&field, "Utf8", &small).is_err());
        assert!(widen(&field, "Int8", &small).is_err());
    }
}
