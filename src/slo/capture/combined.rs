//! A file's narrow columns as one key a row ([`COMBINED`]): `kind`, `status_code`, an HTTP
//! status code's `.int` column, a method's dictionary keys. Each is one or two bytes a row
//! of a few values in a random order, on which zstd finds a short match at almost every
//! row; their values come in few combinations (a server span with status unset and code
//! 200 to a `GET`), so the file writes each row's combination's number instead, one byte
//! for them all, and a message's combinations once, as the values of that column's
//! dictionary (a struct of the members' values).
//!
//! A member keeps its place in the file's schema as an Arrow `Null` column (no buffers)
//! whose field names the combined column in its metadata ([`COMBINED_IN`]); the struct's
//! child of the same name is the member as the file would write it alone (a narrowed
//! integer column with its [`super::narrow::NARROWED_OF`], the strings of a dictionary
//! column). The reader takes each member's rows back from the struct by the keys
//! ([`expand`]) before it restores the columns as usual, and leaves the combined column
//! out: files written before read as they did.
//!
//! Which columns are combined is decided by a file's first message ([`choose`]): the
//! narrowed integer columns and the strings keyed by one byte, in the schema's order, each
//! as long as the first message's combinations stay at most [`MOST_FIRST`]; the keys then
//! have room for four times as many in later messages. A message with more makes the
//! writer start a new file, laid out by that message, as for the other narrow forms.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int8Type, Int16Type, UInt8Type};
use arrow_array::{Array, ArrayRef, DictionaryArray, StructArray, UInt8Array, UInt32Array};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Fields};

/// The combined column's name (not a facts column: the reader leaves it out).
pub const COMBINED: &str = "slotel.combined";

/// Field metadata of a member's `Null` column: the name of the column holding its values.
pub const COMBINED_IN: &str = "slotel.combined_in";

/// The most combinations a file's first message may show for its columns to be combined:
/// its keys (`UInt8`) then number four times as many.
const MOST_FIRST: usize = 63;

/// The most combinations a message may hold: what a `UInt8` key numbers.
const MOST: usize = 256;

/// The most strings a combined dictionary column shows in a file's first message.
const FEW_STRINGS: usize = 8;

/// Slots of a message's table of combinations: four per combination at most, so a probe
/// always ends at an empty slot within a few.
const SLOTS: usize = 1024;

/// An empty slot: no code has its top bit set ([`code_bits`] keeps it clear).
const EMPTY: u64 = u64::MAX;

/// How many bits of a row's code a member's column of type `ty` takes (its value's bits
/// and one for a null), `None` for a type that is not combined.
fn code_bits(ty: &DataType) -> Option<u32> {
    match ty {
        DataType::Int8 => Some(9),
        DataType::Int16 => Some(17),
        DataType::Dictionary(k, v) if **k == DataType::Int8 && **v == DataType::Utf8 => Some(9),
        _ => None,
    }
}

/// Whether a written column type may be a member (one of [`code_bits`]'s).
pub(super) fn combinable(ty: &DataType) -> bool {
    code_bits(ty).is_some()
}

/// Each row's code: the members' values (a dictionary's keys), each in its own bits with
/// one more set for a null row. The members' bits together are at most 63.
fn codes(members: &[&ArrayRef], rows: usize) -> Result<Vec<u64>, ArrowError> {
    let mut codes = vec![0u64; rows];
    let mut shift = 0u32;
    for member in members {
        if member.len() != rows {
            return Err(ArrowError::ComputeError(
                "a combined column of another length".into(),
            ));
        }
        let bits = code_bits(member.data_type())
            .filter(|b| shift + b <= 63)
            .ok_or_else(|| ArrowError::ComputeError("combined columns past 63 bits".into()))?;
        // Plain loops over the values: the compiler makes them vector code.
        match member.data_type() {
            DataType::Int8 => put(
                &mut codes,
                member.as_primitive::<Int8Type>().values(),
                shift,
            ),
            DataType::Int16 => {
                let values = member.as_primitive::<Int16Type>().values();
                for (c, v) in codes.iter_mut().zip(values.iter()) {
                    *c |= u64::from(*v as u16) << shift;
                }
            }
            _ => {
                let keys = member.as_dictionary::<Int8Type>().keys();
                put(&mut codes, keys.values(), shift);
            }
        }
        let nulls = match member.as_any_dictionary_opt() {
            Some(dict) => dict.keys().logical_nulls(),
            None => member.logical_nulls(),
        };
        if let Some(nulls) = nulls.filter(|n| n.null_count() > 0) {
            // A null row's flag, 64 rows at a time without a branch. (Its value bits are
            // whatever the column holds there, 0 as the facts and dictionaries write it:
            // other values would only make more combinations, each read back null.)
            let flag = shift + bits - 1;
            let chunks = nulls.inner().bit_chunks();
            let mut rows = codes.chunks_mut(64);
            for (valid, part) in chunks
                .iter()
                .chain([chunks.remainder_bits()])
                .zip(&mut rows)
            {
                let null = !valid;
                for (j, c) in part.iter_mut().enumerate() {
                    *c |= ((null >> j) & 1) << flag;
                }
            }
        }
        shift += bits;
    }
    Ok(codes)
}

/// `values` (bytes) or-ed into `codes` at `shift`.
fn put(codes: &mut [u64], values: &[i8], shift: u32) {
    for (c, v) in codes.iter_mut().zip(values) {
        *c |= u64::from(*v as u8) << shift;
    }
}

/// A message's combinations: each code's key, and the first row showing it.
struct Table {
    slots: Vec<u64>,
    keys: Vec<u8>,
    first_rows: Vec<u32>,
}

impl Table {
    fn new() -> Self {
        Table {
            slots: vec![EMPTY; SLOTS],
            keys: vec![0; SLOTS],
            first_rows: Vec::new(),
        }
    }

    /// The key of `code` (seen first at `row`), `None` past [`MOST`] combinations.
    #[inline(always)]
    fn key(&mut self, code: u64, row: usize) -> Option<u8> {
        // The top bits of a multiplicative hash depend on every bit of the code.
        let mut slot = (code.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize;
        loop {
            let held = self.slots[slot];
            if held == code {
                return Some(self.keys[slot]);
            }
            if held == EMPTY {
                // At most `MOST` of `SLOTS` slots are taken: an empty one is always found.
                if self.first_rows.len() >= MOST {
                    return None;
                }
                let key = self.first_rows.len() as u8;
                self.slots[slot] = code;
                self.keys[slot] = key;
                self.first_rows.push(u32::try_from(row).ok()?);
                return Some(key);
            }
            slot = (slot + 1) & (SLOTS - 1);
        }
    }
}

/// How many combinations `members` (each of `rows` rows) show, `None` past [`MOST`].
fn count(members: &[&ArrayRef], rows: usize) -> Result<Option<usize>, ArrowError> {
    let mut table = Table::new();
    for (row, code) in codes(members, rows)?.into_iter().enumerate() {
        if table.key(code, row).is_none() {
            return Ok(None);
        }
    }
    Ok(Some(table.first_rows.len()))
}

/// Which of `candidates` (written columns of a file's first message, `rows` rows each:
/// their positions and columns) a file combines: in order, each whose combinations with
/// those taken stay within [`MOST_FIRST`] and whose bits fit; none unless two or more.
pub(super) fn choose(
    candidates: &[(usize, ArrayRef)],
    rows: usize,
) -> Result<Vec<usize>, ArrowError> {
    let candidates: Vec<&(usize, ArrayRef)> =
        candidates.iter().filter(|(_, c)| few_strings(c)).collect();
    // Most often all of them together fit: one count.
    let all: Vec<&ArrayRef> = candidates.iter().map(|(_, c)| c).collect();
    let bits: u32 = all.iter().filter_map(|c| code_bits(c.data_type())).sum();
    if all.len() >= 2 && bits <= 63 && count(&all, rows)?.is_some_and(|n| n <= MOST_FIRST) {
        return Ok(candidates.iter().map(|(i, _)| *i).collect());
    }
    let mut taken: Vec<&(usize, ArrayRef)> = Vec::new();
    let mut bits = 0u32;
    for candidate in candidates {
        let Some(b) = code_bits(candidate.1.data_type()) else {
            continue;
        };
        if bits + b > 63 {
            continue;
        }
        let mut members: Vec<&ArrayRef> = taken.iter().map(|(_, c)| c).collect();
        members.push(&candidate.1);
        if count(&members, rows)?.is_some_and(|n| n <= MOST_FIRST) {
            taken.push(candidate);
            bits += b;
        }
    }
    Ok(match taken.len() {
        0 | 1 => Vec::new(),
        _ => taken.iter().map(|(i, _)| *i).collect(),
    })
}

/// Whether a candidate is not a string column of many values: a dictionary of at most
/// [`FEW_STRINGS`] strings (methods, not names or routes, which would multiply the
/// combinations), or integers.
fn few_strings(column: &ArrayRef) -> bool {
    column
        .as_any_dictionary_opt()
        .is_none_or(|d| d.values().len() <= FEW_STRINGS)
}

/// The combined column's type for members written as `fields` (each the field the file
/// would write the member as alone).
pub(super) fn combined_type(fields: &[FieldRef]) -> DataType {
    DataType::Dictionary(
        Box::new(DataType::UInt8),
        Box::new(DataType::Struct(Fields::from(
            fields.iter().map(|f| child_field(f)).collect::<Vec<_>>(),
        ))),
    )
}

/// The struct's child standing for a member written as `field`: a dictionary of strings
/// as its strings (the plain column it stands for).
fn child_field(field: &Field) -> FieldRef {
    match field.data_type() {
        DataType::Dictionary(_, v) => {
            let mut metadata = field.metadata().clone();
            metadata.remove(super::layout::DICTIONARY_OF);
            Arc::new(
                Field::new(field.name(), (**v).clone(), field.is_nullable())
                    .with_metadata(metadata),
            )
        }
        _ => Arc::new(field.clone()),
    }
}

/// The `Null` field a member's place holds.
pub(super) fn member_field(name: &str) -> Field {
    Field::new(name, DataType::Null, true).with_metadata(std::collections::HashMap::from([(
        COMBINED_IN.to_string(),
        COMBINED.to_string(),
    )]))
}

/// The members' columns (as written alone, `rows` rows each, in `ty`'s children's order)
/// as the combined column of type `ty`; `None` past [`MOST`] combinations.
pub(super) fn combine(
    members: &[&ArrayRef],
    rows: usize,
    ty: &DataType,
) -> Result<Option<ArrayRef>, ArrowError> {
    let DataType::Dictionary(_, values) = ty else {
        return Err(ArrowError::ComputeError(
            "a combined column of another type".into(),
        ));
    };
    let DataType::Struct(fields) = values.as_ref() else {
        return Err(ArrowError::ComputeError(
            "a combined column of another type".into(),
        ));
    };
    let mut table = Table::new();
    let mut keys: Vec<u8> = Vec::with_capacity(rows);
    for (row, code) in codes(members, rows)?.into_iter().enumerate() {
        match table.key(code, row) {
            Some(k) => keys.push(k),
            None => return Ok(None),
        }
    }
    let first = UInt32Array::from(std::mem::take(&mut table.first_rows));
    let children = members
        .iter()
        .map(|member| match member.as_any_dictionary_opt() {
            Some(dict) => {
                let keys = arrow_select::take::take(dict.keys(), &first, None)?;
                arrow_select::take::take(dict.values(), &keys, None)
            }
            None => arrow_select::take::take(member, &first, None),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let values = StructArray::try_new(fields.clone(), children, None)?;
    Ok(Some(Arc::new(DictionaryArray::<UInt8Type>::try_new(
        UInt8Array::from(keys),
        Arc::new(values),
    )?)))
}

/// A member's field and column (`field` a `Null` field naming [`COMBINED`] in its
/// [`COMBINED_IN`]) back from the combined column `combined`: its struct child of the same
/// name, taken by the keys. An error when the column is not such a dictionary or has no
/// such child.
pub(super) fn expand(
    field: &Field,
    combined: Option<&ArrayRef>,
) -> Result<(FieldRef, ArrayRef), ArrowError> {
    let wrong = |why: &str| {
        ArrowError::SchemaError(format!(
            "column {:?}: {COMBINED_IN} {COMBINED:?}: {why}",
            field.name()
        ))
    };
    let combined = combined.ok_or_else(|| wrong("the file has no such column"))?;
    let dict = combined
        .as_dictionary_opt::<UInt8Type>()
        .ok_or_else(|| wrong("not a dictionary with UInt8 keys"))?;
    let values = dict
        .values()
        .as_struct_opt()
        .ok_or_else(|| wrong("not a dictionary of structs"))?;
    let DataType::Struct(fields) = values.data_type() else {
        return Err(wrong("not a dictionary of structs"));
    };
    let (at, child_field) = fields
        .find(field.name())
        .ok_or_else(|| wrong("no such member"))?;
    let checked = arrow_select::take::TakeOptions { check_bounds: true };
    let column = arrow_select::take::take(values.column(at), dict.keys(), Some(checked))?;
    Ok((child_field.clone(), column))
}
