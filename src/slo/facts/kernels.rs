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
//! spread to its rows. A comparison whose answer the column type's range gives
//! (`duration >= 0ms`, an int literal past `i32` against `kind`, `name >= ""`) takes no
//! pass at all, and answers alike on every row are kept as one [`Rows::Every`], which
//! `and`, `or` and `not` (`eval.rs`) combine without a pass. The results are exactly those
//! of the general path, which keeps every other case (two paths, `nil`, types no literal of
//! the kind can meet) and is the reference
//! the tests compare these loops with.

use std::cmp::Ordering;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, UInt64Type};
use arrow_array::{Array, ArrayRef};
use arrow_buffer::{BooleanBuffer, Buffer};

use super::SpanFacts;
use crate::slo::ottl::ast::{CmpOp, Lit, Path};

/// `path op lit` on every row; `None` for a path and literal these loops do not take (or
/// columns not of the types the facts build), left to the general kernels.
pub(super) fn path_vs_literal(
    facts: &SpanFacts,
    path: &Path,
    op: CmpOp,
    lit: &Lit,
) -> Option<Rows> {
    // Every part is compared as `==` for `!=`, and the answer negated at the end: a null
    // (no value of a type) is then `!=` every literal, as in the general path.
    let test = if op == CmpOp::Ne { CmpOp::Eq } else { op };
    let rows = match (path, lit) {
        (Path::Kind, Lit::Int(v)) => int32_rows(facts.kind_column()?, test, *v)?,
        (Path::StatusCode, Lit::Int(v)) => int32_rows(facts.status_column()?, test, *v)?,
        (Path::Duration, Lit::Duration(d)) => {
            let column = facts.duration_column().as_primitive_opt::<UInt64Type>()?;
            // Every duration lies in `0..=u64::MAX`: `>= 0ms` holds on every row.
            match decided(test, d.cmp(&0), d.cmp(&u64::MAX)) {
                Some(answer) => valid_rows(answer, column),
                None => Rows::of(valid_only(
                    by_op(column.values(), test, |v| v.cmp(d)),
                    column,
                )),
            }
        }
        (Path::Name, Lit::Str(s)) => string_rows(facts.name_column()?, test, s.as_bytes())?,
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
            let mut acc = Rows::Every(false);
            for (column, typed) in parts {
                let Some(column) = column else { continue };
                acc = acc.or(typed_rows(column, test, typed)?);
            }
            acc
        }
        _ => return None,
    };
    Some(if op == CmpOp::Ne { rows.not() } else { rows })
}

/// The rows a comparison or a condition holds on: the same answer on every row (known
/// without a pass over the rows, or found in one look at the words of a bitmap), or one
/// bit a row. `Every` lets `and`, `or` and `not` answer without a pass, and the engine's
/// selections compare as equal bitmaps whichever way they were found.
#[derive(Debug, Clone)]
pub(super) enum Rows {
    Every(bool),
    /// Neither all set nor all unset (as [`Rows::of`] makes them; other bitmaps only cost
    /// a pass where `Every` would not).
    Bits(BooleanBuffer),
}

impl Rows {
    /// `bits`, as [`Rows::Every`] when its bits are all set or all unset (no bits: unset).
    pub(super) fn of(bits: BooleanBuffer) -> Rows {
        let chunks = bits.bit_chunks();
        let (mut any, mut all) = (0u64, u64::MAX);
        for word in chunks.iter() {
            any |= word;
            all &= word;
        }
        let tail = chunks.remainder_len();
        if tail > 0 {
            let word = chunks.remainder_bits();
            any |= word;
            all &= word | (u64::MAX << tail);
        }
        if any == 0 {
            Rows::Every(false)
        } else if all == u64::MAX {
            Rows::Every(true)
        } else {
            Rows::Bits(bits)
        }
    }

    pub(super) fn not(self) -> Rows {
        match self {
            Rows::Every(b) => Rows::Every(!b),
            Rows::Bits(bits) => Rows::Bits(!&bits),
        }
    }

    pub(super) fn and(self, other: Rows) -> Rows {
        match (self, other) {
            (Rows::Every(true), rows) | (rows, Rows::Every(true)) => rows,
            (Rows::Every(false), _) | (_, Rows::Every(false)) => Rows::Every(false),
            (Rows::Bits(a), Rows::Bits(b)) => Rows::of(&a & &b),
        }
    }

    pub(super) fn or(self, other: Rows) -> Rows {
        match (self, other) {
            (Rows::Every(false), rows) | (rows, Rows::Every(false)) => rows,
            (Rows::Every(true), _) | (_, Rows::Every(true)) => Rows::Every(true),
            (Rows::Bits(a), Rows::Bits(b)) => Rows::of(&a | &b),
        }
    }

    /// One bit for each of the `n` rows (the words of `Every` made whole, as `Vec`s:
    /// Arrow's `new_set` sets them bit range by bit range).
    pub(super) fn into_bits(self, n: usize) -> BooleanBuffer {
        let every = |word: u64| {
            let mut words = vec![word; n.div_ceil(64)];
            if let Some(last) = words.last_mut()
                && !n.is_multiple_of(64)
            {
                *last &= (1u64 << (n % 64)) - 1;
            }
            BooleanBuffer::new(Buffer::from_vec(words), 0, n)
        };
        match self {
            Rows::Every(true) => every(u64::MAX),
            Rows::Every(false) => every(0),
            Rows::Bits(bits) => bits,
        }
    }
}

/// What `value op lit` is for every value of a column whose values all lie in `lo..=hi`,
/// when that does not depend on the value; `lo` and `hi` are given by where the literal
/// lies against them (`lit.cmp(lo)`, `lit.cmp(hi)`; `Less` for a column with no top).
pub(super) fn decided(op: CmpOp, lit_vs_lo: Ordering, lit_vs_hi: Ordering) -> Option<bool> {
    use Ordering::{Equal, Greater, Less};
    match op {
        CmpOp::Eq | CmpOp::Ne => {
            let eq = match (lit_vs_lo, lit_vs_hi) {
                (Less, _) | (_, Greater) => Some(false),
                (Equal, Equal) => Some(true),
                _ => None,
            };
            eq.map(|eq| eq == (op == CmpOp::Eq))
        }
        // value < lit
        CmpOp::Lt => match (lit_vs_lo, lit_vs_hi) {
            (_, Greater) => Some(true),
            (Less | Equal, _) => Some(false),
            _ => None,
        },
        // value <= lit
        CmpOp::Le => match (lit_vs_lo, lit_vs_hi) {
            (_, Greater | Equal) => Some(true),
            (Less, _) => Some(false),
            _ => None,
        },
        // value > lit
        CmpOp::Gt => match (lit_vs_lo, lit_vs_hi) {
            (Less, _) => Some(true),
            (_, Greater | Equal) => Some(false),
            _ => None,
        },
        // value >= lit
        CmpOp::Ge => match (lit_vs_lo, lit_vs_hi) {
            (Less | Equal, _) => Some(true),
            (_, Greater) => Some(false),
            _ => None,
        },
    }
}

/// The same `answer` on every row where `array` is not null (a null compares with nothing).
fn valid_rows(answer: bool, array: &dyn Array) -> Rows {
    match array.nulls() {
        Some(nulls) if answer && nulls.null_count() > 0 => Rows::of(nulls.inner().clone()),
        _ => Rows::Every(answer),
    }
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
fn typed_rows(column: &ArrayRef, op: CmpOp, lit: Typed<'_>) -> Option<Rows> {
    if let Some(dict) = column.as_dictionary_opt::<Int32Type>() {
        // Once per distinct value, then each row takes its resource's answer.
        let values = typed_rows(dict.values(), op, lit)?;
        let keys = dict.keys();
        return Some(match values {
            // Every value answers alike, so does every row with a value (a dictionary's
            // valid keys are indexes of its values).
            Rows::Every(answer) => valid_rows(answer, keys),
            Rows::Bits(values) => Rows::of(valid_only(
                pack(keys.values(), |k| {
                    let k = *k as usize;
                    k < values.len() && values.value(k)
                }),
                keys,
            )),
        });
    }
    if column.null_count() == column.len() {
        // No value of this type in any row (a typed column most requests leave empty).
        return Some(Rows::Every(false));
    }
    let rows = match lit {
        Typed::Int(v) => {
            let values = column.as_primitive_opt::<Int64Type>()?.values();
            if let Some(answer) = decided(op, v.cmp(&i64::MIN), v.cmp(&i64::MAX)) {
                return Some(valid_rows(answer, column));
            }
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
            if let Some(answer) = decided(op, b.cmp(&false), b.cmp(&true)) {
                return Some(valid_rows(answer, column));
            }
            rows_by_op(values.len(), op, |i| values.value(i).cmp(&b))
        }
    };
    Some(Rows::of(valid_only(rows, column.as_ref())))
}

/// An `Int32` column (`kind`, `status.code`) against an int literal: compared as ints (a
/// literal outside `i32` compares with every value as the wider int it is, so answers
/// alike on every row, as a literal at the edge of `i32` does for some operators).
fn int32_rows(column: &ArrayRef, op: CmpOp, v: i64) -> Option<Rows> {
    let column = column.as_primitive_opt::<Int32Type>()?;
    let (lo, hi) = (i64::from(i32::MIN), i64::from(i32::MAX));
    if let Some(answer) = decided(op, v.cmp(&lo), v.cmp(&hi)) {
        return Some(valid_rows(answer, column));
    }
    let values = column.values();
    let rows = match i32::try_from(v) {
        Ok(v) => by_op(values, op, |x| x.cmp(&v)),
        Err(_) => by_op(values, op, |x| i64::from(*x).cmp(&v)),
    };
    Some(Rows::of(valid_only(rows, column)))
}

/// A `Utf8` column against a string literal, bytewise. Equality takes the lengths from the
/// offsets in one loop, then compares the bytes of the values of the literal's length
/// only (none for `""`). No string is below `""`, and a column of empty strings only (no
/// value bytes) has one value.
fn string_rows(column: &ArrayRef, op: CmpOp, lit: &[u8]) -> Option<Rows> {
    let column = column.as_string_opt::<i32>()?;
    let empty: &[u8] = b"";
    let top = if column.value_data().is_empty() {
        lit.cmp(empty)
    } else {
        Ordering::Less
    };
    if let Some(answer) = decided(op, lit.cmp(empty), top) {
        return Some(valid_rows(answer, column));
    }
    let offsets = column.value_offsets();
    let data = column.value_data();
    let value = |i: usize| {
        let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
        data.get(start..end).unwrap_or_default()
    };
    let n = column.len();
    let rows = match op {
        CmpOp::Eq => {
            let Ok(len) = i32::try_from(lit.len()) else {
                // Longer than any value of the column can be.
                return Some(Rows::Every(false));
            };
            let (starts, ends) = (&offsets[..n], &offsets[1..=n]);
            let sized = pack_pairs(starts, ends, |start, end| end.wrapping_sub(*start) == len);
            if lit.is_empty() {
                sized
            } else {
                keep(sized, |i| value(i) == lit)
            }
        }
        op => rows_by_op(n, op, |i| value(i).cmp(lit)),
    };
    Some(Rows::of(valid_only(rows, column)))
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
/// answer is first a byte (a loop of 64 over an array the compiler sees whole: no bounds
/// checks, vectorised; the last, shorter chunk apart), then eight bytes at a time become
/// eight bits ([`bits_of`]).
#[inline]
pub(super) fn pack<T>(values: &[T], test: impl Fn(&T) -> bool) -> BooleanBuffer {
    let mut words: Vec<u64> = Vec::with_capacity(values.len().div_ceil(64));
    let chunks = values.chunks_exact(64);
    let tail = chunks.remainder();
    for chunk in chunks {
        let mut bytes = [0u8; 64];
        if let Ok(chunk) = <&[T; 64]>::try_from(chunk) {
            for (byte, v) in bytes.iter_mut().zip(chunk) {
                *byte = u8::from(test(v));
            }
        }
        words.push(bits_of(&bytes, 64));
    }
    if !tail.is_empty() {
        let mut bytes = [0u8; 64];
        for (byte, v) in bytes.iter_mut().zip(tail) {
            *byte = u8::from(test(v));
        }
        words.push(bits_of(&bytes, tail.len()));
    }
    BooleanBuffer::new(Buffer::from_vec(words), 0, values.len())
}

/// [`pack`] of `test(i)` for the rows `0..n`.
#[inline]
pub(super) fn pack_rows(n: usize, test: impl Fn(usize) -> bool) -> BooleanBuffer {
    let mut words: Vec<u64> = Vec::with_capacity(n.div_ceil(64));
    let whole = n - n % 64;
    for base in (0..whole).step_by(64) {
        let mut bytes = [0u8; 64];
        for (bit, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from(test(base + bit));
        }
        words.push(bits_of(&bytes, 64));
    }
    if whole < n {
        let mut bytes = [0u8; 64];
        for (bit, byte) in bytes[..n - whole].iter_mut().enumerate() {
            *byte = u8::from(test(whole + bit));
        }
        words.push(bits_of(&bytes, n - whole));
    }
    BooleanBuffer::new(Buffer::from_vec(words), 0, n)
}

/// [`pack`] of `test(a[i], b[i])` over two slices of one length (the shorter's).
#[inline]
fn pack_pairs<T>(a: &[T], b: &[T], test: impl Fn(&T, &T) -> bool) -> BooleanBuffer {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut words: Vec<u64> = Vec::with_capacity(n.div_ceil(64));
    let (chunks_a, chunks_b) = (a.chunks_exact(64), b.chunks_exact(64));
    let (tail_a, tail_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (a, b) in chunks_a.zip(chunks_b) {
        let mut bytes = [0u8; 64];
        if let (Ok(a), Ok(b)) = (<&[T; 64]>::try_from(a), <&[T; 64]>::try_from(b)) {
            for ((byte, a), b) in bytes.iter_mut().zip(a).zip(b) {
                *byte = u8::from(test(a, b));
            }
        }
        words.push(bits_of(&bytes, 64));
    }
    if !tail_a.is_empty() {
        let mut bytes = [0u8; 64];
        for ((byte, a), b) in bytes.iter_mut().zip(tail_a).zip(tail_b) {
            *byte = u8::from(test(a, b));
        }
        words.push(bits_of(&bytes, tail_a.len()));
    }
    BooleanBuffer::new(Buffer::from_vec(words), 0, n)
}

/// The rows of `rows` for which `test` also holds, testing only those (set bits).
fn keep(rows: BooleanBuffer, test: impl Fn(usize) -> bool) -> BooleanBuffer {
    let n = rows.len();
    let chunks = rows.bit_chunks();
    let words = chunks
        .iter_padded()
        .enumerate()
        .map(|(w, mut word)| {
            let mut kept = 0u64;
            while word != 0 {
                let bit = word.trailing_zeros();
                word &= word - 1;
                if test(w * 64 + bit as usize) {
                    kept |= 1 << bit;
                }
            }
            kept
        })
        .collect::<Vec<u64>>();
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
