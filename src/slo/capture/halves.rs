//! `UInt64` columns without nulls (a span's `end_time_unix_nano` and `duration_nanos`, a
//! log record's `time_unix_nano`) as a struct of their two 32-bit halves, `high` and
//! `low`, in capture files ([`SPLIT_OF`]); a row's value is `high << 32 | low`.
//!
//! zstd compresses each buffer of a message on its own. An 8-byte time column gives it a
//! short match every row (the high bytes repeat, the low ones do not), which costs it
//! about six times the instructions of the two halves apart: the low halves, which vary
//! from row to row, are stored as they are, the high ones, which barely vary, in a few
//! bytes.
//!
//! The high halves are written as narrow as they allow: a duration's (0 for any duration
//! under 4.3 s) as a small integer, and a time's as its difference from the high half of
//! its request's receipt time ([`HIGH_FROM`]: a span ends seconds before it is received,
//! so the difference is 0 or −1 where the high half itself is a 4-byte number that
//! changes every 4.3 s). Their type is fixed by a file's first message ([`high_form`]); a
//! later message with a value outside it makes the writer start a new file. The first
//! layout of halves (`UInt32` high halves as they are) reads as before.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int8Type, Int16Type, Int32Type, UInt32Type, UInt64Type};
use arrow_array::{
    Array, ArrayRef, Int8Array, Int16Array, Int32Array, StructArray, UInt32Array, UInt64Array,
};
use arrow_schema::{ArrowError, DataType, Field, FieldRef};

/// Field metadata of a struct column of two halves, `high` and `low`, that stands for a
/// `UInt64` column (its `Display` type): each row's value is `high << 32 | low`.
pub const SPLIT_OF: &str = "slotel.split_of";

/// Field metadata of a split column whose `high` halves are differences from the high
/// halves of another `UInt64` column of the file, which it names (the receipt times).
pub const HIGH_FROM: &str = "slotel.high_from";

/// How a file writes a split column's high halves: their type, and whether as differences
/// from the receipt time's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct High {
    pub(super) ty: DataType,
    pub(super) from_received: bool,
}

/// The struct of the two halves, the high ones of type `high`.
fn split_type(high: &DataType) -> DataType {
    DataType::Struct(
        vec![
            Field::new("high", high.clone(), false),
            Field::new("low", DataType::UInt32, false),
        ]
        .into(),
    )
}

/// The struct field written for a `UInt64` field split in halves; `from` names the column
/// the high halves are differences from.
pub(super) fn split_field(field: &Field, high: &High, from: &str) -> Field {
    let mut metadata = field.metadata().clone();
    metadata.insert(SPLIT_OF.to_string(), field.data_type().to_string());
    if high.from_received {
        metadata.insert(HIGH_FROM.to_string(), from.to_string());
    }
    Field::new(field.name(), split_type(&high.ty), field.is_nullable()).with_metadata(metadata)
}

/// The values of a split column's parts, which must be `UInt64` without nulls.
fn values(part: &dyn Array) -> Result<&[u64], ArrowError> {
    part.as_primitive_opt::<UInt64Type>()
        .filter(|c| c.null_count() == 0)
        .map(|c| &c.values()[..])
        .ok_or_else(|| ArrowError::CastError("a split column of other than UInt64s".into()))
}

/// A row's high half as written: itself, or its difference from its receipt time's.
#[inline]
fn high_of(v: u64, received: u64, from_received: bool) -> i64 {
    let high = (v >> 32) as i64;
    match from_received {
        true => high - (received >> 32) as i64,
        false => high,
    }
}

/// How a file whose first message holds `parts` (each part's rows received at
/// `received[i]`) writes their high halves: whichever of the halves themselves and their
/// differences from the receipt time's fits the narrower integer type (`UInt32`, the
/// halves as they are, when neither fits an `Int32`).
pub(super) fn high_form(parts: &[&dyn Array], received: &[u64]) -> Result<High, ArrowError> {
    let mut ranges = [(i64::MAX, i64::MIN); 2];
    for (part, r) in parts.iter().zip(received) {
        for v in values(*part)? {
            for (from, range) in ranges.iter_mut().enumerate() {
                let h = high_of(*v, *r, from == 1);
                *range = (range.0.min(h), range.1.max(h));
            }
        }
    }
    let width = |ty: &Option<DataType>| match ty {
        Some(DataType::Int8) => 1,
        Some(DataType::Int16) => 2,
        _ => 4,
    };
    let [own, from] = ranges.map(|range| match range.0 <= range.1 {
        true => super::narrow::narrow_type(&DataType::Int64, range),
        false => Some(DataType::Int8),
    });
    let (ty, from_received) = match width(&from) < width(&own) {
        true => (from, true),
        false => (own, false),
    };
    Ok(High {
        ty: ty.unwrap_or(DataType::UInt32),
        from_received,
    })
}

/// `UInt64` columns without nulls (`parts`, one after the other, `rows` in all; the rows
/// of `parts[i]` received at `received[i]`) as one struct of their high halves, written as
/// `high` says, and low halves; `None` when a high half does not fit `high`.
pub(super) fn split(
    parts: &[&dyn Array],
    received: &[u64],
    rows: usize,
    high: &High,
) -> Result<Option<ArrayRef>, ArrowError> {
    let mut low: Vec<u32> = Vec::with_capacity(rows);
    for part in parts {
        low.extend(values(*part)?.iter().map(|v| *v as u32));
    }
    /// The high halves as `T` (of `T::MIN ..= T::MAX` as `lo ..= hi`, made by `cast`),
    /// `None` when one does not fit. Each part's halves are bounded first and then cast,
    /// both plain loops the compiler makes vector code.
    fn highs<T>(
        parts: &[&dyn Array],
        received: &[u64],
        rows: usize,
        from_received: bool,
        (lo, hi): (i64, i64),
        cast: impl Fn(i64) -> T,
    ) -> Result<Option<Vec<T>>, ArrowError> {
        let mut out: Vec<T> = Vec::with_capacity(rows);
        for (part, r) in parts.iter().zip(received) {
            let values = values(*part)?;
            let base = match from_received {
                true => (r >> 32) as i64,
                false => 0,
            };
            let (mut min, mut max) = (u64::MAX, 0u64);
            for v in values {
                min = min.min(v >> 32);
                max = max.max(v >> 32);
            }
            if !values.is_empty() && (min as i64 - base < lo || max as i64 - base > hi) {
                return Ok(None);
            }
            out.extend(values.iter().map(|v| cast((v >> 32) as i64 - base)));
        }
        Ok(Some(out))
    }
    let f = high.from_received;
    let high_column: ArrayRef = match &high.ty {
        DataType::Int8 => {
            let range = (i8::MIN.into(), i8::MAX.into());
            match highs(parts, received, rows, f, range, |h| h as i8)? {
                Some(h) => Arc::new(Int8Array::from(h)),
                None => return Ok(None),
            }
        }
        DataType::Int16 => {
            let range = (i16::MIN.into(), i16::MAX.into());
            match highs(parts, received, rows, f, range, |h| h as i16)? {
                Some(h) => Arc::new(Int16Array::from(h)),
                None => return Ok(None),
            }
        }
        DataType::Int32 => {
            let range = (i32::MIN.into(), i32::MAX.into());
            match highs(parts, received, rows, f, range, |h| h as i32)? {
                Some(h) => Arc::new(Int32Array::from(h)),
                None => return Ok(None),
            }
        }
        _ if f => {
            return Err(ArrowError::CastError(
                "high halves from the receipt time as UInt32".into(),
            ));
        }
        _ => {
            let mut h: Vec<u32> = Vec::with_capacity(rows);
            for part in parts {
                h.extend(values(*part)?.iter().map(|v| (v >> 32) as u32));
            }
            Arc::new(UInt32Array::from(h))
        }
    };
    let DataType::Struct(fields) = split_type(&high.ty) else {
        unreachable!("a struct type")
    };
    Ok(Some(Arc::new(StructArray::try_new(
        fields,
        vec![high_column, Arc::new(UInt32Array::from(low))],
        None,
    )?)))
}

/// The `UInt64` field and column a split one (`field`, whose [`SPLIT_OF`] says `ty`) stands
/// for, its high halves differences from those of `from` when the field says
/// [`HIGH_FROM`]; an error when `ty` is not `UInt64`, the column is not two halves without
/// nulls, or a high half is not one.
pub(super) fn join(
    field: &Field,
    ty: &str,
    column: &ArrayRef,
    from: Option<&[u64]>,
) -> Result<(FieldRef, ArrayRef), ArrowError> {
    let wrong = || {
        ArrowError::SchemaError(format!(
            "column {:?}: {SPLIT_OF} {ty:?} is not two halves without nulls of a UInt64",
            field.name()
        ))
    };
    let parts = column.as_struct_opt().ok_or_else(wrong)?;
    let half = |name: &str| {
        parts
            .column_by_name(name)
            .filter(|c| c.null_count() == 0)
            .cloned()
    };
    let (Some(high), Some(low)) = (half("high"), half("low")) else {
        return Err(wrong());
    };
    let low = low.as_primitive_opt::<UInt32Type>().ok_or_else(wrong)?;
    if ty != "UInt64" || parts.null_count() > 0 {
        return Err(wrong());
    }
    let from = match (field.metadata().get(HIGH_FROM), from) {
        (None, _) => None,
        (Some(_), Some(from)) if from.len() == low.len() => Some(from),
        (Some(_), _) => return Err(wrong()),
    };
    // Each row's high half: as written, plus the receipt time's; a half out of range is
    // no time slotel wrote.
    let joined: Option<Vec<u64>> = {
        let join_rows = |high: &mut dyn Iterator<Item = i64>| -> Option<Vec<u64>> {
            high.zip(low.values())
                .enumerate()
                .map(|(row, (h, l))| {
                    let h = match from {
                        Some(from) => h.checked_add((from[row] >> 32) as i64)?,
                        None => h,
                    };
                    let h = u32::try_from(h).ok()?;
                    Some((u64::from(h) << 32) | u64::from(*l))
                })
                .collect()
        };
        match high.data_type() {
            DataType::UInt32 if from.is_none() => join_rows(
                &mut high
                    .as_primitive::<UInt32Type>()
                    .values()
                    .iter()
                    .map(|h| i64::from(*h)),
            ),
            DataType::Int8 => join_rows(
                &mut high
                    .as_primitive::<Int8Type>()
                    .values()
                    .iter()
                    .map(|h| i64::from(*h)),
            ),
            DataType::Int16 => join_rows(
                &mut high
                    .as_primitive::<Int16Type>()
                    .values()
                    .iter()
                    .map(|h| i64::from(*h)),
            ),
            DataType::Int32 => join_rows(
                &mut high
                    .as_primitive::<Int32Type>()
                    .values()
                    .iter()
                    .map(|h| i64::from(*h)),
            ),
            _ => None,
        }
    };
    let joined = joined.ok_or_else(wrong)?;
    let mut metadata = field.metadata().clone();
    metadata.remove(SPLIT_OF);
    metadata.remove(HIGH_FROM);
    let plain = Field::new(field.name(), DataType::UInt64, field.is_nullable());
    Ok((
        Arc::new(plain.with_metadata(metadata)),
        Arc::new(UInt64Array::from(joined)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;
    /// Receipt times around 2027 and 2057 (Unix ns).
    const RECEIVED: [u64; 2] = [1_800_000_000 * S, 2_750_000_000 * S];

    fn round_trip(parts: &[Vec<u64>], received: &[u64], want: &High) {
        let arrays: Vec<UInt64Array> = parts.iter().map(|p| UInt64Array::from(p.clone())).collect();
        let parts: Vec<&dyn Array> = arrays.iter().map(|a| a as &dyn Array).collect();
        let rows: usize = arrays.iter().map(Array::len).sum();
        let high = high_form(&parts, received).unwrap();
        assert_eq!(&high, want);
        let field = split_field(&Field::new("t", DataType::UInt64, false), &high, "r");
        let halves = split(&parts, received, rows, &high).unwrap().unwrap();
        let per_row: Vec<u64> = arrays
            .iter()
            .zip(received)
            .flat_map(|(a, r)| std::iter::repeat_n(*r, a.len()))
            .collect();
        let (plain, joined) = join(&field, "UInt64", &halves, Some(&per_row)).unwrap();
        assert_eq!(plain.data_type(), &DataType::UInt64);
        assert!(plain.metadata().is_empty());
        let want_values: Vec<u64> = arrays.iter().flat_map(|a| a.values().to_vec()).collect();
        assert_eq!(
            joined.as_primitive::<UInt64Type>().values(),
            &want_values[..]
        );
    }

    #[test]
    fn times_are_written_against_their_receipt_and_durations_as_they_are() {
        // End times up to 30 s before their request's receipt: one byte a high half.
        let ends = |r: u64| vec![r, r - 4 * S, r - 30 * S, r - 1];
        round_trip(
            &[ends(RECEIVED[0]), ends(RECEIVED[1])],
            &RECEIVED,
            &High {
                ty: DataType::Int8,
                from_received: true,
            },
        );
        // Durations: 0 to 10 s, whatever the receipt time.
        round_trip(
            &[vec![0, 1, 4_500_000_000], vec![10 * S]],
            &RECEIVED,
            &High {
                ty: DataType::Int8,
                from_received: false,
            },
        );
        // A day late: two bytes.
        round_trip(
            &[vec![RECEIVED[0] - 86_400 * S, RECEIVED[0]]],
            &RECEIVED[..1],
            &High {
                ty: DataType::Int16,
                from_received: true,
            },
        );
        // The whole range of times, near the receipt and not: the high halves as they are.
        round_trip(
            &[vec![0, u64::MAX, RECEIVED[0]]],
            &RECEIVED[..1],
            &High {
                ty: DataType::UInt32,
                from_received: false,
            },
        );
    }

    #[test]
    fn a_high_half_outside_the_files_type_is_none() {
        let r = RECEIVED[0];
        let high = High {
            ty: DataType::Int8,
            from_received: true,
        };
        let late = UInt64Array::from(vec![r - 3_600 * S]);
        assert!(split(&[&late], &[r], 1, &high).unwrap().is_none());
    }

    #[test]
    fn halves_of_the_first_layout_join_back_exactly() {
        let values = [0, 1, u32::MAX as u64, 1 << 32, 4_500_000_000, u64::MAX];
        let column = UInt64Array::from(values.to_vec());
        let high = High {
            ty: DataType::UInt32,
            from_received: false,
        };
        let field = split_field(
            &Field::new("duration_nanos", DataType::UInt64, false),
            &high,
            "r",
        );
        let halves = split(&[&column], &[0], values.len(), &high)
            .unwrap()
            .unwrap();
        let (plain, joined) = join(&field, "UInt64", &halves, None).unwrap();
        assert_eq!(plain.data_type(), &DataType::UInt64);
        assert!(plain.metadata().get(SPLIT_OF).is_none());
        assert_eq!(joined.as_primitive::<UInt64Type>().values(), &values);
    }

    #[test]
    fn halves_that_are_not_two_halves_of_a_time_are_an_error() {
        let high = High {
            ty: DataType::UInt32,
            from_received: false,
        };
        let field = split_field(&Field::new("t", DataType::UInt64, false), &high, "r");
        let halves = split(&[&UInt64Array::from(vec![7u64])], &[0], 1, &high)
            .unwrap()
            .unwrap();
        assert!(join(&field, "Int64", &halves, None).is_err());
        let one = StructArray::try_new(
            vec![Field::new("high", DataType::UInt32, false)].into(),
            vec![Arc::new(UInt32Array::from(vec![1u32]))],
            None,
        )
        .unwrap();
        let err = join(&field, "UInt64", &(Arc::new(one) as ArrayRef), None).unwrap_err();
        assert!(err.to_string().contains("\"t\""), "{err}");
        let not_struct: ArrayRef = Arc::new(UInt64Array::from(vec![1u64]));
        assert!(join(&field, "UInt64", &not_struct, None).is_err());
        // A negative high half, or one past 32 bits once the receipt's is added.
        let relative = High {
            ty: DataType::Int8,
            from_received: true,
        };
        let field = split_field(&Field::new("t", DataType::UInt64, false), &relative, "r");
        let negative = StructArray::try_new(
            vec![
                Field::new("high", DataType::Int8, false),
                Field::new("low", DataType::UInt32, false),
            ]
            .into(),
            vec![
                Arc::new(Int8Array::from(vec![-1i8])),
                Arc::new(UInt32Array::from(vec![0u32])),
            ],
            None,
        )
        .unwrap();
        let negative: ArrayRef = Arc::new(negative);
        assert!(join(&field, "UInt64", &negative, Some(&[0])).is_err());
        assert!(join(&field, "UInt64", &negative, Some(&[1 << 32])).is_ok());
        // Differences without the column they are from.
        assert!(join(&field, "UInt64", &negative, None).is_err());
    }
}
