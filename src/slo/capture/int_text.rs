//! An attribute's `.other` column (a value that is not a string, rendered) without the
//! rows its `.int` column holds ([`INT_TEXT_OF`]): the facts render an integer value as its
//! decimal form there, so those rows say nothing the `.int` column does not. A capture
//! file writes them null (an HTTP status code sent as an integer then takes no `.other`
//! bytes, no dictionary and no keys; a file where only integers came writes the column as
//! `Null`), and the reader puts each such row's decimal form back.

use std::fmt::Write;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, StringArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{ArrowError, DataType, Field, FieldRef};

/// Field metadata of an `.other` column written without the rows of its attribute's
/// `.int` column, whose name it holds: where this column is null and that one is not, the
/// value is the integer's decimal form.
pub const INT_TEXT_OF: &str = "slotel.int_text_of";

/// The index of the `.int` column of the attribute whose `.other` column is `fields[i]`,
/// when both are plain columns (`Utf8`, `Int64`) of the same attribute.
pub(super) fn sibling(fields: &[FieldRef], i: usize) -> Option<usize> {
    let field = &fields[i];
    let base = field.name().strip_suffix(".other")?;
    if *field.data_type() != DataType::Utf8 {
        return None;
    }
    // The typed columns of an attribute are next to each other (`.str`, `.int`, …).
    fields.iter().position(|f| {
        *f.data_type() == DataType::Int64
            && f.name().strip_suffix(".int").is_some_and(|b| b == base)
    })
}

/// The `.other` column `other` without the rows `int` holds (those rows null).
pub(super) fn without_ints(other: &ArrayRef, int: &ArrayRef) -> ArrayRef {
    let Some(strings) = other.as_string_opt::<i32>() else {
        return other.clone();
    };
    let ints = match int.nulls() {
        None if int.is_empty() => return other.clone(),
        None => return Arc::new(StringArray::new_null(other.len())),
        Some(n) if n.null_count() == n.len() => return other.clone(),
        Some(n) => n.inner(),
    };
    let kept = match strings.nulls() {
        Some(n) => n.inner() & &!ints,
        None => !ints,
    };
    let (offsets, bytes, _) = strings.clone().into_parts();
    Arc::new(StringArray::new(
        offsets,
        bytes,
        Some(NullBuffer::new(kept)),
    ))
}

/// Whether `other`, without the rows `int` holds, has a value (counted on the validity
/// bits: no column is built).
pub(super) fn has_values_besides(other: &ArrayRef, int: &ArrayRef) -> bool {
    let others = other.len() - other.null_count();
    let ints = int.len() - int.null_count();
    match (others, ints, other.nulls(), int.nulls()) {
        (0, _, _, _) => false,
        (_, 0, _, _) => true,
        // Every row an integer.
        (_, _, _, None) => false,
        (_, _, None, Some(ints)) => ints.null_count() > 0,
        (_, _, Some(others), Some(ints)) => (others.inner() & &!ints.inner()).count_set_bits() > 0,
    }
}

/// The `.other` columns of `fields` that say [`INT_TEXT_OF`] with the rows of their
/// `.int` column filled in again (in `columns`), the metadata removed. A named column that
/// is missing or not `Int64`, or an `.other` column that is not `Utf8`, is an error.
pub(super) fn restore(fields: &mut [FieldRef], columns: &mut [ArrayRef]) -> Result<(), ArrowError> {
    for i in 0..fields.len() {
        let field = fields[i].clone();
        let Some(int_name) = field.metadata().get(INT_TEXT_OF) else {
            continue;
        };
        let wrong = |why: &str| {
            ArrowError::SchemaError(format!(
                "column {:?}: {INT_TEXT_OF} {int_name:?} {why}",
                field.name()
            ))
        };
        let int = fields
            .iter()
            .position(|f| f.name() == int_name)
            .ok_or_else(|| wrong("is not a column of the file"))?;
        let ints = columns[int]
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| wrong("is not an Int64 column"))?;
        let others = columns[i]
            .as_string_opt::<i32>()
            .ok_or_else(|| wrong("names the ints of a column that is not Utf8"))?;
        let mut filled = StringBuilder::with_capacity(others.len(), others.value_data().len());
        for row in 0..others.len() {
            if others.is_valid(row) {
                filled.append_value(others.value(row));
            } else if ints.is_valid(row) {
                write!(filled, "{}", ints.value(row))
                    .map_err(|e| ArrowError::ComputeError(e.to_string()))?;
                filled.append_value("");
            } else {
                filled.append_null();
            }
        }
        columns[i] = Arc::new(filled.finish());
        let mut metadata = field.metadata().clone();
        metadata.remove(INT_TEXT_OF);
        fields[i] = Arc::new(
            Field::new(field.name(), DataType::Utf8, field.is_nullable()).with_metadata(metadata),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Int64Array;

    #[test]
    fn rows_of_the_int_column_are_left_out_and_read_back_as_their_decimal_form() {
        // Status codes as sent: 200 (int), 404.5 (double), absent, -7 (int), true (bool).
        let other: ArrayRef = Arc::new(StringArray::from(vec![
            Some("200"),
            Some("404.5"),
            None,
            Some("-7"),
            Some("true"),
        ]));
        let int: ArrayRef = Arc::new(Int64Array::from(vec![
            Some(200),
            None,
            None,
            Some(-7),
            None,
        ]));
        let kept = without_ints(&other, &int);
        let kept_values: Vec<Option<&str>> = kept.as_string::<i32>().iter().collect();
        assert_eq!(kept_values, [None, Some("404.5"), None, None, Some("true")]);
        assert!(has_values_besides(&other, &int));

        let mut fields: Vec<FieldRef> = vec![
            Arc::new(Field::new("a.int", DataType::Int64, true)),
            Arc::new(Field::new("a.other", DataType::Utf8, true).with_metadata(
                std::collections::HashMap::from([(INT_TEXT_OF.to_string(), "a.int".to_string())]),
            )),
        ];
        let mut columns = vec![int, kept];
        restore(&mut fields, &mut columns).unwrap();
        assert!(fields[1].metadata().is_empty());
        let back: Vec<Option<&str>> = columns[1].as_string::<i32>().iter().collect();
        assert_eq!(
            back,
            [Some("200"), Some("404.5"), None, Some("-7"), Some("true")]
        );
    }

    #[test]
    fn only_ints_leave_nothing_to_write() {
        let other: ArrayRef = Arc::new(StringArray::from(vec![Some("200"), None, Some("503")]));
        let int: ArrayRef = Arc::new(Int64Array::from(vec![Some(200), None, Some(503)]));
        assert!(!has_values_besides(&other, &int));
        let all: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
        assert_eq!(without_ints(&other, &all).null_count(), 3);
    }

    #[test]
    fn the_sibling_is_the_same_attributes_int_column() {
        let fields: Vec<FieldRef> = vec![
            Arc::new(Field::new(r#"attributes["a"].int"#, DataType::Int64, true)),
            Arc::new(Field::new(r#"attributes["b"].int"#, DataType::Int64, true)),
            Arc::new(Field::new(r#"attributes["b"].other"#, DataType::Utf8, true)),
            Arc::new(Field::new(r#"attributes["c"].other"#, DataType::Utf8, true)),
        ];
        assert_eq!(sibling(&fields, 2), Some(1));
        assert_eq!(sibling(&fields, 3), None);
        assert_eq!(sibling(&fields, 0), None);
    }

    #[test]
    fn a_missing_int_column_is_an_error_naming_the_column() {
        let mut fields: Vec<FieldRef> = vec![Arc::new(
            Field::new("a.other", DataType::Utf8, true).with_metadata(
                std::collections::HashMap::from([(INT_TEXT_OF.to_string(), "a.int".to_string())]),
            ),
        )];
        let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec![Some("x")]))];
        let err = restore(&mut fields, &mut columns).unwrap_err();
        assert!(err.to_string().contains("a.other"), "{err}");
    }
}
