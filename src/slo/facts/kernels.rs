//! Comparisons of a column with a literal as one loop over the column's values, for the
//! evaluator (`eval.rs`): `kind != SPAN_KIND_UNSPECIFIED`, `duration > 300ms`,
//! `attributes["http.response.status_code"] >= 500`, `name == "GET /"`.
//!
//! The general path (`arrow_ord::cmp` kernels over `Datum`s, with the literal as a one-row
//! array, a numeric cast where the types differ, then the nulls cleared) costs a few
//! allocations and dynamic dispatches per comparison, and about ten instructions a row.
//! Here each typed column is compared with the literal in a loop the compiler sees whole
//! (the operator chosen outside it, 64 rows to a word), a column null in every row is
//! skipped, and a resource-level (dictionary) column is compared once per resource, then
//! spread to its rows. The results are exactly those of the general path, which keeps every
//! other case (two paths, `nil`, types no literal of the kind can meet) and is the reference
//! the tests compare these loops with.

use std::cmp::Ordering;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, UInt64Type};
use arrow_array::{Array, ArrayRef, BooleanArray};
use arrow_buffer::{BooleanBuffer, Buffer};

use super::SpanFacts;
use crate::slo::ottl::ast::{CmpOp, Lit, Path};

/// `path op lit` on every row, without nulls; `None` for a path and literal these loops do
/// not take (or columns not of the types the facts build), left to the general kernels.
pub(super) fn path_vs_literal(
    facts: &SpanFacts,
    path: &Path,
    op: CmpOp,
    lit: &Lit,
) -> Option<BooleanArray> {
    // Every part is compared as `==` for `!=`, and the answer negated at the end: a null
    // (no value of a type) is then `!=` every literal, as in the general path.
    let test = if op == CmpOp::Ne { CmpOp::Eq } else { op };
    let rows = match (path, lit) {
        (Path::Kind, Lit::Int(v)) => int32_rows(facts.kind_column(), test, *v)?,
        (Path::StatusCode, Lit::Int(v)) => int32_rows(facts.status_column(), test, *v)?,
        (Path::Duration, Lit::Duration(d)) => {
            let column = facts.duration_column().as_primitive_opt::<UInt64Type>()?;
            valid_only(by_op(column.values(), test, |v| v.cmp(d)), column)
        }
        (Path::Name, Lit::Str(s)) => string_rows(facts.name_column(), test, s.as_bytes())?,
        (Path::Attr(attr), _) => {
            let columns = facts.attr_columns(attr)?;
            // The value equals (or orders against) the literal in one of the columns of a
            // type that can meet it.
            let parts: [(&Option<ArrayRef>, Typed); 2] = match lit {
                Lit::Int(v) => [
                    (&columns.int, Typed::Int(*v)),
                    (&columns.float, Typed::Float(*v as f64)),
                ],
                Lit::Float(f) => [
                    (&columns.int, Typed::IntAsFloat(*f)),
                    (&columns.float, Typed::Float(*f)),
                ],
                Lit::Str(s) => [
                    (&columns.str, Typed::Str(s.as_bytes())),
                    (&None, Typed::Int(0)),
                ],
                Lit::Bool(b) => [(&columns.bool, Typed::Bool(*b)), (&None, Typed::Int(0))],
                Lit::Nil | Lit::Duration(_) => return None,
            };
            let mut acc: Option<BooleanBuffer> = None;
            for (column, typed) in parts {
                let Some(column) = column else { continue };
                let part = typed_rows(column, test, typed)?;
                acc = Some(match acc {
                    None => part,
                    Some(acc) => &acc | &part,
                });
            }
            acc.unwrap_or_else(|| BooleanBuffer::new_unset(facts.len()))
        }
        _ => return None,
    };
    let rows = if op == CmpOp::Ne { !&rows } else { rows };
    Some(BooleanArray::new(rows, None))
}

/// A literal as the type of the column it is compared with.
#[derive(Clone, Copy)]
enum Typed<'a> {
    /// An `Int64` column against an int.
    Int(i64),
    /// An `Int64` column against a float: the ints as floats (OTTL compares an int with a
    /// float as two floats).
    IntAsFloat(f64),
    /// A `Float64` column against a float (an int literal as a float).
    Float(f64),
    Str(&'a [u8]),
    Bool(bool),
}

/// The rows of a typed attribute column (or a dictionary of one: a resource attribute)
/// whose value is not null and compares with `lit` as `op` says; `None` when the column is
/// not of the type `lit` expects.
fn typed_rows(column: &ArrayRef, op: CmpOp, lit: Typed<'_>) -> Option<BooleanBuffer> {
    if let Some(dict) = column.as_dictionary_opt::<Int32Type>() {
        // Once per distinct value, then each row takes its resource's answer.
        let values = typed_rows(dict.values(), op, lit)?;
        let keys = dict.keys();
        let n = keys.len();
        let set = values.count_set_bits();
        let rows = if set == 0 {
            // No resource's value answers (often: one resource a request).
            BooleanBuffer::new_unset(n)
        } else if set == values.len()
            && keys
                .values()
                .iter()
                .all(|k| usize::try_from(*k).is_ok_and(|k| k < values.len()))
        {
            // Every resource's value answers, and every key names one.
            BooleanBuffer::new_set(n)
        } else {
            pack(keys.values(), |k| {
                let k = *k as usize;
                k < values.len() && values.value(k)
            })
        };
        return Some(valid_only(rows, keys));
    }
    if column.null_count() == column.len() {
        // No value of this type in any row (a typed column most requests leave empty).
        return Some(BooleanBuffer::new_unset(column.len()));
    }
    let rows = match lit {
        Typed::Int(v) => {
            let values = column.as_primitive_opt::<Int64Type>()?.values();
            by_op(values, op, |x| x.cmp(&v))
        }
        Typed::IntAsFloat(f) => {
            let values = column.as_primitive_opt::<Int64Type>()?.values();
            by_op(values, op, |x| (*x as f64).total_cmp(&f))
        }
        Typed::Float(f) => {
            let values = column.as_primitive_opt::<Float64Type>()?.values();
            by_op(values, op, |x| x.total_cmp(&f))
        }
        Typed::Str(s) => return string_rows(column, op, s),
        Typed::Bool(b) => {
            let values = column.as_boolean_opt()?.values();
            rows_by_op(values.len(), op, |i| values.value(i).cmp(&b))
        }
    };
    Some(valid_only(rows, column.as_ref()))
}

/// An `Int32` column (`kind`, `status.code`) against an int literal: compared as ints (a
/// literal outside `i32` compares with every value as the wider int it is).
fn int32_rows(column: &ArrayRef, op: CmpOp, v: i64) -> Option<BooleanBuffer> {
    let column = column.as_primitive_opt::<Int32Type>()?;
    let values = column.values();
    let rows = match i32::try_from(v) {
        Ok(v) => by_op(values, op, |x| x.cmp(&v)),
        Err(_) => by_op(values, op, |x| i64::from(*x).cmp(&v)),
    };
    Some(valid_only(rows, column))
}

/// A `Utf8` column against a string literal, bytewise (equality by length first).
fn string_rows(column: &ArrayRef, op: CmpOp, lit: &[u8]) -> Option<BooleanBuffer> {
    let column = column.as_string_opt::<i32>()?;
    let offsets = column.value_offsets();
    let data = column.value_data();
    let value = |i: usize| {
        let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
        data.get(start..end).unwrap_or_default()
    };
    let n = column.len();
    let rows = match op {
        CmpOp::Eq => pack_rows(n, |i| {
            let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
            end.wrapping_sub(start) == lit.len() && value(i) == lit
        }),
        op => rows_by_op(n, op, |i| value(i).cmp(lit)),
    };
    Some(valid_only(rows, column))
}

/// `op` on the ordering of each value against the literal; the operator is chosen once,
/// outside the loop.
#[inline]
fn by_op<T>(values: &[T], op: CmpOp, ordering: impl Fn(&T) -> Ordering) -> BooleanBuffer {
    match op {
        CmpOp::Eq => pack(values, |v| ordering(v).is_eq()),
        CmpOp::Ne => pack(values, |v| ordering(v).is_ne()),
        CmpOp::Lt => pack(values, |v| ordering(v).is_lt()),
        CmpOp::Le => pack(values, |v| ordering(v).is_le()),
        CmpOp::Gt => pack(values, |v| ordering(v).is_gt()),
        CmpOp::Ge => pack(values, |v| ordering(v).is_ge()),
    }
}

/// [`by_op`] over rows `0..n` read by index (bits, strings).
#[inline]
fn rows_by_op(n: usize, op: CmpOp, ordering: impl Fn(usize) -> Ordering) -> BooleanBuffer {
    match op {
        CmpOp::Eq => pack_rows(n, |i| ordering(i).is_eq()),
        CmpOp::Ne => pack_rows(n, |i| ordering(i).is_ne()),
        CmpOp::Lt => pack_rows(n, |i| ordering(i).is_lt()),
        CmpOp::Le => pack_rows(n, |i| ordering(i).is_le()),
        CmpOp::Gt => pack_rows(n, |i| ordering(i).is_gt()),
        CmpOp::Ge => pack_rows(n, |i| ordering(i).is_ge()),
    }
}

/// One bit a value, `test` of value `i` in bit `i`: 64 values to a word. Each value's
/// answer is first a byte (a loop over a slice the compiler sees whole: no bounds checks,
/// vectorised), then eight bytes at a time become eight bits ([`bits_of`]).
#[inline]
pub(super) fn pack<T>(values: &[T], test: impl Fn(&T) -> bool) -> BooleanBuffer {
    let mut words: Vec<u64> = Vec::with_capacity(values.len().div_ceil(64));
    let mut bytes = [0u8; 64];
    for chunk in values.chunks(64) {
        for (byte, v) in bytes.iter_mut().zip(chunk) {
            *byte = u8::from(test(v));
        }
        words.push(bits_of(&bytes, chunk.len()));
    }
    BooleanBuffer::new(Buffer::from_vec(words), 0, values.len())
}

/// [`pack`] of `test(i)` for the rows `0..n`.
#[inline]
pub(super) fn pack_rows(n: usize, test: impl Fn(usize) -> bool) -> BooleanBuffer {
    let mut words: Vec<u64> = Vec::with_capacity(n.div_ceil(64));
    let mut bytes = [0u8; 64];
    for base in (0..n).step_by(64) {
        let len = (n - base).min(64);
        for (bit, byte) in bytes[..len].iter_mut().enumerate() {
            *byte = u8::from(test(base + bit));
        }
        words.push(bits_of(&bytes, len));
    }
    BooleanBuffer::new(Buffer::from_vec(words), 0, n)
}

/// The first `len` of 64 bytes, each 0 or 1, as the bits of a word (byte `i` in bit `i`;
/// the bits past `len` are 0). Eight bytes read as a little-endian word hold their values
/// in bits 0, 8, …, 56; multiplied by `MAGIC` (bits 7, 14, …, 56) byte `j` lands in bit
/// `56 + j` and every other product in a bit of its own below 56 or past 63, so no carry
/// reaches bits 56–63: shifted down they are the eight bits.
#[inline]
fn bits_of(bytes: &[u8; 64], len: usize) -> u64 {
    const MAGIC: u64 = 0x0102_0408_1020_4080;
    let mut word = 0u64;
    for (i, eight) in bytes.chunks_exact(8).enumerate() {
        let eight = u64::from_le_bytes(eight.try_into().unwrap_or_default());
        word |= (eight.wrapping_mul(MAGIC) >> 56) << (8 * i);
    }
    if len < 64 {
        word & ((1u64 << len) - 1)
    } else {
        word
    }
}

/// `rows` where `array` is not null (a null compares with nothing).
fn valid_only(rows: BooleanBuffer, array: &dyn Array) -> BooleanBuffer {
    match array.nulls() {
        Some(nulls) if nulls.null_count() > 0 => &rows & nulls.inner(),
        _ => rows,
    }
}
