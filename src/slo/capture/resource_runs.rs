//! Columns keyed by the rows' resources (`cluster`, `service`, `resource.attributes[…]`:
//! dictionaries whose key is the row's resource) as Arrow run-end encoded columns in
//! capture files ([`RUNS_OF`] naming the dictionary type they stand for).
//!
//! A request's spans come resource by resource, so such a column holds a few runs of one
//! key each. As a dictionary a message wrote four bytes of key a row, which zstd then
//! compressed run by run; as runs it writes a run end and a value a run (the value taken
//! from the request's dictionary), and zstd has little left to do. The reader expands the
//! runs back into a dictionary of `Int32` keys, one value a run: the same strings in the
//! same rows (a value may then stand in the dictionary more than once, which Arrow
//! allows and no reader of facts looks at).
//!
//! A file writes a column as runs when its first message holds at most one run per
//! [`MIN_RUN`] rows ([`worth_it`]); later messages are written as runs whatever their
//! runs (a run a row costs a run end and a value a row, about what a dictionary of a
//! resource a row costs).

use std::str::FromStr;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, DictionaryArray, Int32Array, RunArray, new_empty_array};
use arrow_schema::{ArrowError, DataType, Field, FieldRef};
use arrow_select::take::{TakeOptions, take};

use super::runs::RUNS_OF;

/// Rows a run holds on average, at least, in a file's first message for the file to write
/// a resource column as runs. A run costs about what a resource's dictionary value and a
/// row's key did, so a run of two rows already saves; below that (resources of one span
/// each, or resources that come back in turn) the dictionary is kept.
pub(super) const MIN_RUN: usize = 2;

/// Whether `ty` is the type of a column keyed by the rows' resources.
pub(super) fn is_resource_type(ty: &DataType) -> bool {
    matches!(ty, DataType::Dictionary(k, _) if **k == DataType::Int32)
}

/// Whether the dictionary columns `parts` (one after the other) hold at most one run per
/// [`MIN_RUN`] rows.
pub(super) fn worth_it(parts: &[&dyn Array]) -> bool {
    let mut runs = 0;
    let mut rows = 0;
    for part in parts {
        let Some(dict) = part.as_dictionary_opt::<Int32Type>() else {
            return false;
        };
        rows += dict.len();
        for_each_run(dict.keys(), |_, _| runs += 1);
    }
    runs * MIN_RUN <= rows
}

/// The runs of equal keys of `keys` (a null key a run of nulls, whatever it holds), each
/// given to `run` as its end (exclusive) and its key.
#[inline]
fn for_each_run(keys: &Int32Array, mut run: impl FnMut(usize, Option<i32>)) {
    let values = keys.values();
    let Some((first, rest)) = values.split_first() else {
        return;
    };
    match keys.nulls().filter(|n| n.null_count() > 0) {
        None => {
            let mut last = *first;
            for (i, k) in rest.iter().enumerate() {
                if *k != last {
                    run(i + 1, Some(last));
                    last = *k;
                }
            }
            run(values.len(), Some(last));
        }
        Some(nulls) => {
            let key = |i: usize| nulls.is_valid(i).then(|| values[i]);
            let mut last = key(0);
            for i in 1..values.len() {
                let k = key(i);
                if k != last {
                    run(i, last);
                    last = k;
                }
            }
            run(values.len(), last);
        }
    }
}

/// The run-end encoded type written for a resource column of dictionary values `value`.
fn runs_type(value: &DataType) -> DataType {
    DataType::RunEndEncoded(
        Arc::new(Field::new("run_ends", DataType::Int32, false)),
        Arc::new(Field::new("values", value.clone(), true)),
    )
}

/// The field written for the resource column `field` (a dictionary), as runs.
pub(super) fn runs_field(field: &Field) -> Field {
    let value = match field.data_type() {
        DataType::Dictionary(_, value) => value.as_ref().clone(),
        other => other.clone(),
    };
    let mut metadata = field.metadata().clone();
    metadata.insert(RUNS_OF.to_string(), field.data_type().to_string());
    Field::new(field.name(), runs_type(&value), field.is_nullable()).with_metadata(metadata)
}

/// Resource columns (`parts`, dictionaries of `Int32` keys, one after the other, `rows` in
/// all) as one run-end encoded column: a run per run of equal keys within a part, its
/// value the part's dictionary value of that key (null for null keys).
pub(super) fn encode(parts: &[&dyn Array], rows: usize) -> Result<ArrayRef, ArrowError> {
    let too_many = || ArrowError::ComputeError("too many rows for run ends".into());
    i32::try_from(rows).map_err(|_| too_many())?;
    let mut ends: Vec<i32> = Vec::new();
    let mut values: Vec<ArrayRef> = Vec::with_capacity(parts.len());
    let mut base = 0usize;
    for part in parts {
        let dict = part.as_dictionary_opt::<Int32Type>().ok_or_else(|| {
            ArrowError::CastError("a resource column of other than Int32 dictionaries".into())
        })?;
        let mut keys: Vec<Option<i32>> = Vec::new();
        for_each_run(dict.keys(), |end, key| {
            ends.push((base + end) as i32);
            keys.push(key);
        });
        base += dict.len();
        let options = TakeOptions { check_bounds: true };
        values.push(take(
            dict.values().as_ref(),
            &Int32Array::from(keys),
            Some(options),
        )?);
    }
    if base != rows {
        return Err(ArrowError::ComputeError(format!(
            "resource columns of {base} rows where the message has {rows}"
        )));
    }
    let values: Vec<&dyn Array> = values.iter().map(|v| v.as_ref()).collect();
    let values = match values.as_slice() {
        [] => {
            return Err(ArrowError::ComputeError(
                "a message without requests".into(),
            ));
        }
        [one] => one.slice(0, one.len()),
        many => arrow_select::concat::concat(many)?,
    };
    Ok(Arc::new(RunArray::<Int32Type>::try_new(
        &Int32Array::from(ends),
        &values,
    )?))
}

/// The dictionary field and column a run-end encoded resource column (`field`, whose
/// [`RUNS_OF`] says `ty`) stands for: a key a row, the run's; an error when `ty` is not a
/// dictionary of `Int32` keys whose values are the runs' type, or the runs do not cover
/// the column's rows.
pub(super) fn expand(
    field: &Field,
    ty: &str,
    column: &ArrayRef,
) -> Result<(FieldRef, ArrayRef), ArrowError> {
    let wrong = || {
        ArrowError::SchemaError(format!(
            "column {:?}: {RUNS_OF} {ty:?} is not runs of a resource column's values",
            field.name()
        ))
    };
    let want = DataType::from_str(ty)
        .ok()
        .filter(is_resource_type)
        .ok_or_else(wrong)?;
    let DataType::Dictionary(_, value) = &want else {
        return Err(wrong());
    };
    let runs = column
        .as_run_opt::<Int32Type>()
        .filter(|r| r.values().data_type() == value.as_ref())
        .ok_or_else(wrong)?;
    let mut metadata = field.metadata().clone();
    metadata.remove(RUNS_OF);
    let plain = Arc::new(
        Field::new(field.name(), want.clone(), field.is_nullable()).with_metadata(metadata),
    );
    // A sliced run array: only the runs of its rows, the first and last cut to them.
    let (offset, len) = (runs.offset(), runs.len());
    if len == 0 {
        return Ok((plain, new_empty_array(&want)));
    }
    let (first, last) = (
        runs.get_start_physical_index(),
        runs.get_end_physical_index(),
    );
    if last >= runs.values().len() || first > last {
        return Err(wrong());
    }
    let mut keys: Vec<i32> = Vec::with_capacity(len);
    let mut at = offset;
    for (key, end) in runs.run_ends().values()[first..=last].iter().enumerate() {
        let end = usize::try_from(*end)
            .map_err(|_| wrong())?
            .min(offset + len);
        let key = i32::try_from(key).map_err(|_| wrong())?;
        keys.extend(std::iter::repeat_n(key, end.saturating_sub(at)));
        at = at.max(end);
    }
    if keys.len() != len {
        return Err(wrong());
    }
    let values = runs.values().slice(first, last + 1 - first);
    let dict = DictionaryArray::<Int32Type>::try_new(Int32Array::from(keys), values)?;
    Ok((plain, Arc::new(dict)))
}

#[cfg(test)]
mod tests {
    use arrow_array::{BooleanArray, StringArray};

    use super::*;

    fn resource_field(value: DataType) -> Field {
        Field::new(
            "cluster",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(value)),
            false,
        )
    }

    /// A request's resource column: `keys` into `values`.
    fn request(keys: Vec<Option<i32>>, values: Vec<Option<&str>>) -> ArrayRef {
        Arc::new(
            DictionaryArray::<Int32Type>::try_new(
                Int32Array::from(keys),
                Arc::new(StringArray::from(values)),
            )
            .unwrap(),
        )
    }

    /// Each row's value, as the dictionary says.
    fn strings(column: &ArrayRef) -> Vec<Option<String>> {
        let dict = column.as_dictionary::<Int32Type>();
        let values = dict.values().as_string::<i32>();
        (0..dict.len())
            .map(|i| {
                dict.keys()
                    .is_valid(i)
                    .then(|| dict.keys().value(i) as usize)
                    .filter(|k| values.is_valid(*k))
                    .map(|k| values.value(k).to_string())
            })
            .collect()
    }

    #[test]
    fn requests_resource_columns_read_back_as_the_same_values_in_every_row() {
        let field = runs_field(&resource_field(DataType::Utf8));
        assert_eq!(
            field.metadata().get(RUNS_OF).map(String::as_str),
            Some("Dictionary(Int32, Utf8)")
        );
        // Two requests: resources of three, one (a null value) and two rows; then a null
        // key, two rows of the first resource again, and one row.
        let a = request(
            vec![Some(0), Some(0), Some(0), Some(1), Some(2), Some(2)],
            vec![Some("eu-1"), None, Some("us-2")],
        );
        let b = request(
            vec![None, Some(1), Some(1), Some(0)],
            vec![Some("eu-1"), Some("ap-3")],
        );
        let parts: Vec<&dyn Array> = vec![a.as_ref(), b.as_ref()];
        assert!(!worth_it(&parts), "6 runs in 10 rows");
        assert!(worth_it(&parts[..1]), "3 runs in 6 rows");
        let runs = encode(&parts, 10).unwrap();
        let run = runs.as_run::<Int32Type>();
        assert_eq!(run.run_ends().values(), &[3, 4, 6, 7, 9, 10]);
        assert_eq!(run.values().len(), 6);
        let (f, expanded) = expand(&field, "Dictionary(Int32, Utf8)", &runs).unwrap();
        assert_eq!(
            f.data_type(),
            &resource_field(DataType::Utf8).data_type().clone()
        );
        assert!(f.metadata().get(RUNS_OF).is_none());
        let mut want = strings(&a);
        want.extend(strings(&b));
        assert_eq!(strings(&expanded), want);
        assert_eq!(
            want,
            [
                Some("eu-1"),
                Some("eu-1"),
                Some("eu-1"),
                None,
                Some("us-2"),
                Some("us-2"),
                None,
                Some("ap-3"),
                Some("ap-3"),
                Some("eu-1"),
            ]
            .map(|s| s.map(String::from))
        );
        // A slice cuts the runs at both ends.
        let (_, part) = expand(&field, "Dictionary(Int32, Utf8)", &runs.slice(2, 6)).unwrap();
        assert_eq!(strings(&part), want[2..8]);
        let (_, none) = expand(&field, "Dictionary(Int32, Utf8)", &runs.slice(4, 0)).unwrap();
        assert_eq!(none.len(), 0);
    }

    #[test]
    fn a_column_of_long_runs_is_worth_it_and_one_of_short_runs_is_not() {
        let long = request(
            [0; 8].into_iter().chain([1; 8]).map(Some).collect(),
            vec![Some("checkout"), Some("cart")],
        );
        assert!(worth_it(&[long.as_ref()]));
        let short = request(
            (0..16).map(|i| Some(i % 2)).collect(),
            vec![Some("checkout"), Some("cart")],
        );
        assert!(!worth_it(&[short.as_ref()]));
        // Every value of a short-run column still reads back.
        let field = runs_field(&resource_field(DataType::Utf8));
        let runs = encode(&[short.as_ref()], 16).unwrap();
        let (_, back) = expand(&field, "Dictionary(Int32, Utf8)", &runs).unwrap();
        assert_eq!(strings(&back), strings(&short));
    }

    #[test]
    fn typed_resource_columns_keep_their_value_type() {
        let keys = Int32Array::from(vec![0, 0, 1, 1, 1]);
        let values: ArrayRef = Arc::new(BooleanArray::from(vec![Some(true), None]));
        let column: ArrayRef =
            Arc::new(DictionaryArray::<Int32Type>::try_new(keys, values).unwrap());
        let field = runs_field(&resource_field(DataType::Boolean));
        let runs = encode(&[column.as_ref()], 5).unwrap();
        let (f, back) = expand(&field, "Dictionary(Int32, Boolean)", &runs).unwrap();
        assert_eq!(f.data_type(), column.data_type());
        let dict = back.as_dictionary::<Int32Type>();
        let typed = dict.downcast_dict::<BooleanArray>().unwrap();
        let read: Vec<Option<bool>> = typed.into_iter().collect();
        assert_eq!(read, [Some(true), Some(true), None, None, None]);
    }

    #[test]
    fn runs_that_are_not_what_the_field_says_are_an_error_naming_the_column() {
        let field = runs_field(&resource_field(DataType::Utf8));
        let column = request(vec![Some(0), Some(0)], vec![Some("eu-1")]);
        let runs = encode(&[column.as_ref()], 2).unwrap();
        for ty in [
            "Dictionary(Int32, Boolean)",
            "Dictionary(Int8, Utf8)",
            "Utf8",
            "?",
        ] {
            let err = expand(&field, ty, &runs).unwrap_err();
            assert!(err.to_string().contains("cluster"), "{ty}: {err}");
        }
        // Not runs at all.
        assert!(expand(&field, "Dictionary(Int32, Utf8)", &column).is_err());
        // Rows the message does not have, or a column of other than dictionaries.
        assert!(encode(&[column.as_ref()], 3).is_err());
        let strings: ArrayRef = Arc::new(StringArray::from(vec!["eu-1"]));
        assert!(encode(&[strings.as_ref()], 1).is_err());
    }
}
