//! The typed columns of one attribute while rows are appended ([`Builders`]), for span
//! facts and log facts alike, and a string column appended without Arrow's builder
//! ([`Strings`]).
//!
//! A row's value is kept as its type (a byte, counted by type) and, when a numeric or
//! boolean column is asked for, its bits (a `u64`, 0 for other types). The `.int`,
//! `.float` and `.bool` columns are made from them at the end: a column no value of its
//! type came for is made null in one allocation; when every value that came is of one
//! numeric type, that column's values are the bits themselves (no copy); otherwise one
//! pass each. String values go straight into the `.str` (or, rendered, the `.other`)
//! column, created on the first one; its validity is made from the types at the end, so a
//! row costs no null bookkeeping.

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int32Array, Int64Array,
    StringArray, new_null_array,
};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::DataType;

use super::AttrColumns;
use super::kernels::{pack, pack_rows};
use crate::slo::ottl::{Use, Val, render};

/// A row's value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Tag {
    /// Absent (`nil`).
    None,
    Str,
    Int,
    Float,
    Bool,
    /// Bytes, arrays, maps: only their string form (`.other`).
    Other,
}

/// The number of [`Tag`]s.
const TAGS: usize = 6;

/// A `Utf8` column appended a value at a time: its offsets and bytes, made an array
/// without Arrow's validation at the end.
///
/// A value of 4 to 32 bytes is appended as two fixed-width pieces that overlap (inline),
/// without a call to `memcpy` ([`write`]). The bytes are written in place into room
/// reserved ahead (`data`'s capacity past its length, never zeroed: one check of the room
/// a value, not one a piece as `Vec::extend_from_slice` makes), and the length moved past
/// them.
///
/// Invariant (what [`StringArray::new_unchecked`] needs): `offsets` starts at 0 and never
/// decreases (each push adds the values' end after the value), its last entry is
/// `data.len()`, which stays within `i32`, and `data` is the concatenation of whole `&str`
/// values and ASCII digits, so it is UTF-8 and every offset falls on a character boundary.
#[derive(Debug)]
pub(super) struct Strings {
    offsets: Vec<i32>,
    /// The values' bytes; its room past them may hold bytes a copy of a short value wrote
    /// past its end.
    data: Vec<u8>,
    /// A rendered value's text, kept from one value to the next.
    rendered: String,
}

/// The room past its end a value's copy may write into ([`write`]: a value of 1 or 2
/// bytes is written as 3).
const SPILL: usize = 2;

/// The most room [`Strings::grow`] makes for values it foretells, as a multiple of the
/// bytes the values so far take.
const FORETOLD_AT_MOST: usize = 4;

impl Strings {
    pub(super) fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Strings {
            offsets,
            data: Vec::with_capacity(bytes),
            rendered: String::new(),
        }
    }

    /// Rows so far.
    pub(super) fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Appends `s` as the next row. A value that would take the column's bytes past what
    /// `i32` offsets address (2 GiB) is not appended and the row is empty: `false`.
    #[inline]
    pub(super) fn push(&mut self, s: &str) -> bool {
        self.push_bytes(s.as_bytes())
    }

    /// [`Strings::push`] of the bytes of a `&str`, or of ASCII (the type's invariant).
    #[inline(always)]
    fn push_bytes(&mut self, bytes: &[u8]) -> bool {
        let end = self.data.len() + bytes.len();
        let Ok(offset) = i32::try_from(end) else {
            self.pad(self.len() + 1);
            return false;
        };
        if end + SPILL > self.data.capacity() {
            self.grow(end + SPILL);
        }
        write(self.data.spare_capacity_mut(), bytes);
        // SAFETY: `write` initialised the first `bytes.len()` bytes of the room past the
        // values (there is room for them and `SPILL` more: checked above), so `data` is
        // initialised up to `end`; they are `bytes`, a `&str`'s or ASCII (the invariant).
        unsafe { self.data.set_len(end) };
        self.offsets.push(offset);
        true
    }

    /// Room for bytes up to `need`: at least half as much again as there was, and as much
    /// as the rows so far foretell for the rows the column was made for (a column whose
    /// values are longer than its first guess grows once, not once per doubling), but never
    /// more than [`FORETOLD_AT_MOST`] times what the values take: one long first value
    /// foretells nothing of the rows after it (they come from the network).
    #[cold]
    #[inline(never)]
    fn grow(&mut self, need: usize) {
        let rows = self.len() + 1;
        let planned = self.offsets.capacity().saturating_sub(1).max(rows);
        let foretold = (need / rows)
            .saturating_mul(planned + planned / 8)
            .min(need.saturating_mul(FORETOLD_AT_MOST));
        let room = need
            .max(foretold)
            .max(self.data.capacity().saturating_mul(3) / 2)
            .max(64);
        self.data.reserve_exact(room - self.data.len());
    }

    /// Appends `value` in its string form ([`render`]) as the next row; as
    /// [`Strings::push`] when it would pass 2 GiB.
    fn push_rendered(&mut self, value: Val<'_>) -> bool {
        let mut text = std::mem::take(&mut self.rendered);
        text.clear();
        render(value, &mut text);
        let pushed = self.push(&text);
        self.rendered = text;
        pushed
    }

    /// Appends `i` in decimal ([`int_text`]) as the next row.
    #[inline(always)]
    fn push_int(&mut self, i: i64) -> bool {
        // `int_text` is inlined: its three-digit case (HTTP status codes) is written in
        // place, without the digit loop.
        self.push_bytes(int_text(i, &mut [0; 20]))
    }

    /// Appends empty rows up to `rows` rows (rows whose value is null or elsewhere): a gap
    /// of one or two rows (a span or two without the attribute, the common case) inline,
    /// a longer one by [`Strings::pad_many`].
    #[inline(always)]
    fn pad(&mut self, rows: usize) {
        let len = self.len();
        if rows > len {
            let end = self.offsets.last().copied().unwrap_or(0);
            match rows - len {
                1 => self.offsets.push(end),
                2 => self.offsets.extend_from_slice(&[end, end]),
                _ => self.pad_many(rows, end),
            }
        }
    }

    /// [`Strings::pad`] of a gap of more than two rows.
    #[cold]
    #[inline(never)]
    fn pad_many(&mut self, rows: usize, end: i32) {
        self.offsets.resize(rows + 1, end);
    }

    /// The column of `rows` rows (padded with empty rows), with `nulls`.
    pub(super) fn finish(mut self, rows: usize, nulls: Option<NullBuffer>) -> StringArray {
        self.pad(rows);
        self.offsets.truncate(rows + 1);
        let offsets = ScalarBuffer::from(self.offsets);
        // SAFETY: the type's invariant: offsets start at 0, never decrease and end within
        // `data`; `data` is whole `&str` values and ASCII digits (UTF-8, offsets on
        // character boundaries). `nulls`, when given, has `rows` bits (the callers pack one
        // bit a row).
        unsafe {
            StringArray::new_unchecked(
                OffsetBuffer::new_unchecked(offsets),
                Buffer::from_vec(self.data),
                nulls,
            )
        }
    }
}

/// Writes `src` at the start of `room` (which has room for `src` and [`SPILL`] bytes
/// more): every byte of `room[..src.len()]` is written (what [`Strings::push_bytes`]'s
/// length relies on). A value of 4 to 32 bytes goes as its first and its last `N` bytes
/// (`N ≤ len ≤ 2N`, so the two cover it): the first piece, then the last one ending at the
/// value's end (fixed-width moves, inline); one of 1 to 3 bytes as its first, middle and
/// last byte (`GET`, status codes' text; a shorter one's third byte falls past its end,
/// in the room); others whole.
#[inline(always)]
fn write(room: &mut [MaybeUninit<u8>], src: &[u8]) {
    #[inline(always)]
    fn ends<const N: usize>(room: &mut [MaybeUninit<u8>], src: &[u8]) {
        if let (Some(first), Some(last)) = (src.first_chunk::<N>(), src.last_chunk::<N>())
            && let Some(to) = room.get_mut(..src.len())
            && let Some(head) = to.first_chunk_mut::<N>()
        {
            *head = first.map(MaybeUninit::new);
            if let Some(tail) = to.last_chunk_mut::<N>() {
                *tail = last.map(MaybeUninit::new);
            }
        }
    }
    let n = src.len();
    match n {
        0 => {}
        1..4 => {
            if let Some(to) = room.first_chunk_mut::<3>() {
                *to = [src[0], src[n / 2], src[n - 1]].map(MaybeUninit::new);
            }
        }
        4..8 => ends::<4>(room, src),
        8..=16 => ends::<8>(room, src),
        17..=32 => ends::<16>(room, src),
        _ => {
            if let Some(to) = room.get_mut(..n) {
                for (to, byte) in to.iter_mut().zip(src) {
                    to.write(*byte);
                }
            }
        }
    }
}

/// The typed builders of one attribute.
pub(super) struct Builders {
    uses: Use,
    /// Rows appended so far.
    rows: usize,
    capacity: usize,
    /// Each row's type.
    tags: Vec<Tag>,
    /// The rows of each type, by `Tag as usize`.
    counts: [usize; TAGS],
    /// Each row's int, float bits or bool (0 for other types), alongside `tags`, from the
    /// first row of one of those types on (`bits_kept`): the rows before it push nothing
    /// (an attribute whose values are all strings keeps none), and are 0.
    bits: Vec<u64>,
    /// Whether `bits` are kept (the schema asks for `.int`, `.float` or `.bool`).
    scalars: bool,
    /// Whether a value of one of those types came: every row pushes its bits since.
    bits_kept: bool,
    /// Whether the schema asks for `.other` ([`Use::OTHER`] or
    /// [`Use::OTHER_BESIDE_INTS`]), and whether ints are rendered into it (`OTHER`).
    other_wanted: bool,
    other_ints: bool,
    str: Option<Strings>,
    other: Option<Strings>,
}

/// A string column created on its first value, with the rows before it empty (null).
#[inline]
fn strings(slot: &mut Option<Strings>, rows: usize, capacity: usize) -> &mut Strings {
    let s = slot.get_or_insert_with(|| Strings::with_capacity(capacity, capacity * 8));
    s.pad(rows);
    s
}

impl Builders {
    pub(super) fn new(uses: Use, capacity: usize) -> Self {
        let scalars = uses.has(Use::INT) || uses.has(Use::FLOAT) || uses.has(Use::BOOL);
        let other_ints = uses.has(Use::OTHER);
        Builders {
            uses,
            other_wanted: other_ints || uses.has(Use::OTHER_BESIDE_INTS),
            other_ints,
            rows: 0,
            capacity,
            tags: Vec::with_capacity(capacity),
            counts: [0; TAGS],
            // Made on the first value with bits (`keep_bits`).
            bits: Vec::new(),
            scalars,
            bits_kept: false,
            str: None,
            other: None,
        }
    }

    /// The first value with bits: the rows before it are 0, and every row pushes its bits
    /// from now on.
    #[cold]
    #[inline(never)]
    fn keep_bits(&mut self, rows: usize) {
        self.bits.reserve(self.capacity.max(rows + 1));
        self.bits.resize(rows, 0);
        self.bits_kept = true;
    }

    #[inline(always)]
    pub(super) fn append(&mut self, value: Val<'_>) {
        let rows = self.rows;
        self.rows += 1;
        let (mut tag, bits) = match value {
            Val::Nil => (Tag::None, 0),
            Val::Str(_) => (Tag::Str, 0),
            Val::Int(i) => (Tag::Int, i as u64),
            Val::Float(f) => (Tag::Float, f.to_bits()),
            Val::Bool(b) => (Tag::Bool, u64::from(b)),
            _ => (Tag::Other, 0),
        };
        match value {
            Val::Nil => {}
            Val::Str(s) => {
                if self.uses.has(Use::STR) && !strings(&mut self.str, rows, self.capacity).push(s) {
                    // Past 2 GiB of values: read as absent.
                    tag = Tag::None;
                }
            }
            // An int's text only when `.other` holds ints' rows (a capture's alone does not:
            // nothing is rendered for a column that leaves them out).
            Val::Int(i) => {
                // The common case (status codes), without `fmt`'s machinery.
                if self.other_ints && !strings(&mut self.other, rows, self.capacity).push_int(i) {
                    tag = Tag::None;
                }
            }
            value => {
                if self.other_wanted
                    && !strings(&mut self.other, rows, self.capacity).push_rendered(value)
                {
                    tag = Tag::None;
                }
            }
        }
        if self.bits_kept {
            self.bits.push(if tag == Tag::None { 0 } else { bits });
        } else if self.scalars && matches!(tag, Tag::Int | Tag::Float | Tag::Bool) {
            self.keep_bits(rows);
            self.bits.push(bits);
        }
        self.tags.push(tag);
        self.counts[tag as usize] += 1;
    }

    /// The columns; with `keys`, each becomes a dictionary over the built values (`keys`
    /// must be valid indexes of these rows: see [`dictionary`]).
    pub(super) fn finish(self, keys: Option<&Int32Array>) -> AttrColumns {
        let wrap = |values: ArrayRef| -> ArrayRef {
            match keys {
                Some(keys) => dictionary(keys, values),
                None => values,
            }
        };
        let Builders {
            uses,
            other_wanted,
            other_ints,
            rows,
            tags,
            counts,
            mut bits,
            scalars,
            str,
            other,
            ..
        } = self;
        let count = |tag: Tag| counts[tag as usize];
        if scalars && count(Tag::Int) + count(Tag::Float) + count(Tag::Bool) > 0 {
            // Kept from the first value with bits on: already `rows` long (a value whose
            // `.other` text did not fit counts as none but may have started them).
            bits.resize(rows, 0);
        }
        // The rows holding a value of type `tag`: `None` when there is none (the column is
        // all null), no null buffer when every row does.
        let valid = |tag: Tag| -> Option<Option<NullBuffer>> {
            match count(tag) {
                0 => None,
                n if n == rows => Some(None),
                _ => Some(Some(NullBuffer::new(pack(&tags, |t| *t == tag)))),
            }
        };
        // A string column the schema asks for: its values, valid in the `n` rows `nulls`
        // packs (when not every row), or nulls when no value came.
        let string_column =
            |wanted: bool, column: Option<Strings>, n: usize, nulls: &dyn Fn() -> NullBuffer| {
                wanted.then(|| match column {
                    Some(column) => {
                        let nulls = (n < rows).then(nulls);
                        Arc::new(column.finish(rows, nulls)) as ArrayRef
                    }
                    None => null_column(&DataType::Utf8, rows),
                })
            };
        let str = string_column(uses.has(Use::STR), str, count(Tag::Str), &|| {
            NullBuffer::new(pack(&tags, |t| *t == Tag::Str))
        });
        // The rows `.other` holds: every value not a string, or, without ints' rows, every
        // value neither a string nor an int.
        let others = match other_ints {
            true => rows - count(Tag::None) - count(Tag::Str),
            false => rows - count(Tag::None) - count(Tag::Str) - count(Tag::Int),
        };
        let other = string_column(other_wanted, other, others, &|| {
            NullBuffer::new(match other_ints {
                true => pack(&tags, |t| !matches!(t, Tag::None | Tag::Str)),
                false => pack(&tags, |t| !matches!(t, Tag::None | Tag::Str | Tag::Int)),
            })
        });
        // The bits hold 0 in every row not of their one numeric type: they are that
        // column's values as they are.
        let scalars_of =
            |tag: Tag| count(Tag::Int) + count(Tag::Float) + count(Tag::Bool) == count(tag);
        let mut bits = Some(bits);
        let int = uses.has(Use::INT).then(|| match valid(Tag::Int) {
            None => null_column(&DataType::Int64, rows),
            Some(nulls) => {
                let values: ScalarBuffer<i64> = match bits.take_if(|_| scalars_of(Tag::Int)) {
                    Some(bits) => ScalarBuffer::new(Buffer::from_vec(bits), 0, rows),
                    None => tags
                        .iter()
                        .zip(bits.iter().flatten())
                        .map(|(t, b)| if *t == Tag::Int { *b as i64 } else { 0 })
                        .collect(),
                };
                Arc::new(Int64Array::new(values, nulls)) as ArrayRef
            }
        });
        let float = uses.has(Use::FLOAT).then(|| match valid(Tag::Float) {
            None => null_column(&DataType::Float64, rows),
            Some(nulls) => {
                let values: ScalarBuffer<f64> = match bits.take_if(|_| scalars_of(Tag::Float)) {
                    Some(bits) => ScalarBuffer::new(Buffer::from_vec(bits), 0, rows),
                    None => tags
                        .iter()
                        .zip(bits.iter().flatten())
                        .map(|(t, b)| {
                            if *t == Tag::Float {
                                f64::from_bits(*b)
                            } else {
                                0.0
                            }
                        })
                        .collect(),
                };
                Arc::new(Float64Array::new(values, nulls)) as ArrayRef
            }
        });
        let bool = uses.has(Use::BOOL).then(|| match valid(Tag::Bool) {
            None => null_column(&DataType::Boolean, rows),
            Some(nulls) => {
                let bits = bits.as_deref().unwrap_or_default();
                let values = pack_rows(rows, |i| tags[i] == Tag::Bool && bits[i] != 0);
                Arc::new(BooleanArray::new(values, nulls)) as ArrayRef
            }
        });
        AttrColumns {
            str: str.map(wrap),
            int: int.map(wrap),
            float: float.map(wrap),
            bool: bool.map(wrap),
            other: other.map(wrap),
        }
    }
}

/// Rows up to which a thread keeps its last all-null column of each type ([`null_column`]).
const SHARED_NULL_ROWS: usize = 8192;

thread_local! {
    /// The last all-null `Utf8`, `Int64`, `Float64` and `Boolean` columns made on this
    /// thread.
    static NULL_COLUMNS: RefCell<[Option<ArrayRef>; 4]> = const { RefCell::new([None, None, None, None]) };
}

/// A column of `rows` nulls: of the types a typed column has, and up to
/// [`SHARED_NULL_ROWS`] rows, the one made last on this thread when it has as many rows
/// (requests of one client mostly do), shared; so a request's typed columns that no value
/// came for cost no allocation and no zeroing. A shared column is as large as an owned one
/// (the memory budget counts it the same).
fn null_column(data_type: &DataType, rows: usize) -> ArrayRef {
    let at = match data_type {
        DataType::Utf8 => 0,
        DataType::Int64 => 1,
        DataType::Float64 => 2,
        DataType::Boolean => 3,
        _ => return new_null_array(data_type, rows),
    };
    if rows > SHARED_NULL_ROWS {
        return new_null_array(data_type, rows);
    }
    NULL_COLUMNS.with_borrow_mut(|kept| match &kept[at] {
        Some(column) if column.len() == rows => column.clone(),
        _ => {
            let column = new_null_array(data_type, rows);
            kept[at] = Some(column.clone());
            column
        }
    })
}

/// A dictionary of `values` by resource `keys`, without validating the keys again.
///
/// `keys` must be non-null indexes below `values.len()`. The facts' resource keys are:
/// each row's key is the index of the resource its span was added under, and each
/// resource adds one value to every resource-level column (`Columns::add_span` adds a
/// resource first when none was); debug builds (the tests) check every key.
pub(super) fn dictionary(keys: &Int32Array, values: ArrayRef) -> ArrayRef {
    debug_assert!(
        keys.null_count() == 0
            && keys
                .values()
                .iter()
                .all(|k| usize::try_from(*k).is_ok_and(|k| k < values.len())),
        "dictionary keys out of range"
    );
    // SAFETY: the keys are valid indexes of `values` (above).
    Arc::new(unsafe { DictionaryArray::<Int32Type>::new_unchecked(keys.clone(), values) })
}

/// `i` in decimal, as `{i}` prints it (ASCII), written at the end of `buf`.
#[inline]
fn int_text(i: i64, buf: &mut [u8; 20]) -> &[u8] {
    if (100..1000).contains(&i) {
        // Three digits (HTTP status codes), without the loop.
        let n = i as u32;
        buf[17..].copy_from_slice(&[
            b'0' + (n / 100) as u8,
            b'0' + (n / 10 % 10) as u8,
            b'0' + (n % 10) as u8,
        ]);
        return &buf[17..];
    }
    let mut n = i.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

#[cfg(test)]
mod tests {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};

    use super::*;

    /// The column made without validation passes Arrow's full validation, whatever the
    /// values (empty, multi-byte, rows left empty between values).
    #[test]
    fn strings_make_a_valid_column() {
        let mut s = Strings::with_capacity(2, 1);
        let values = ["", "ключ", "GET /api/users/{id}", "", "\u{1f600}x"];
        for (i, v) in values.iter().enumerate() {
            s.pad(2 * i);
            assert!(s.push(v));
        }
        let rows = 2 * values.len() + 3;
        let nulls = NullBuffer::new(pack_rows(rows, |i| i % 2 == 0 && i < 2 * values.len()));
        let array = s.finish(rows, Some(nulls));
        array
            .to_data()
            .validate_full()
            .expect("a valid Utf8 column");
        for (i, v) in values.iter().enumerate() {
            assert_eq!(array.value(2 * i), *v);
            assert!(array.is_null(2 * i + 1));
        }
        assert_eq!(array.len(), rows);
    }

    /// Values of every length from 0 to 70 bytes (each width the copy takes, and past
    /// them), ASCII and multi-byte, with rendered values and integers between them and
    /// the column's room outgrown many times, read back as pushed.
    #[test]
    fn strings_read_back_as_pushed() {
        let mut expected: Vec<String> = Vec::new();
        let mut s = Strings::with_capacity(1, 3);
        for len in 0..=70usize {
            let ascii: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let wide: String = "ж".repeat(len / 2);
            for v in [ascii, wide] {
                assert!(s.push(&v));
                expected.push(v);
            }
            assert!(s.push_int(len as i64 * 37 - 400));
            expected.push((len as i64 * 37 - 400).to_string());
            let float = Val::Float(len as f64 / 4.0);
            assert!(s.push_rendered(float));
            let mut text = String::new();
            render(float, &mut text);
            expected.push(text);
        }
        assert_reads_back(s, &expected, expected.len());
    }

    /// Values of 0 to 3 bytes (written as three, past their end) and longer ones, from
    /// every room there is to begin with, with empty rows between them: each reads back
    /// as pushed, and the bytes written past a value's end are not in the column.
    #[test]
    fn short_values_read_back_whatever_the_room() {
        let values = ["", "a", "ab", "GET", "ж", "abcd", "ключ", "x", ""];
        for room in 0..12 {
            let mut s = Strings::with_capacity(0, room);
            let mut expected: Vec<&str> = Vec::new();
            for (i, v) in values.iter().cycle().take(40).enumerate() {
                if i % 7 == 3 {
                    s.pad(s.len() + 1);
                    expected.push("");
                }
                assert!(s.push(v));
                expected.push(v);
            }
            let total: usize = expected.iter().map(|v| v.len()).sum();
            let rows = expected.len();
            let array = s.finish(rows, None);
            assert_eq!(array.value_data().len(), total, "room {room}");
            let got: Vec<&str> = array.iter().map(Option::unwrap_or_default).collect();
            assert_eq!(got, expected, "room {room}");
            array
                .to_data()
                .validate_full()
                .expect("a valid Utf8 column");
        }
    }

    /// `s` finished as `rows` rows without nulls is a valid column of `expected`.
    fn assert_reads_back(s: Strings, expected: &[impl AsRef<str>], rows: usize) {
        let array = s.finish(rows, None);
        array
            .to_data()
            .validate_full()
            .expect("a valid Utf8 column");
        let got: Vec<&str> = array.iter().map(Option::unwrap_or_default).collect();
        let expected: Vec<&str> = expected.iter().map(AsRef::as_ref).collect();
        assert_eq!(got, expected);
    }

    /// An all-null column shared by requests of one size is the column made for it.
    #[test]
    fn shared_null_columns_are_null_columns() {
        for rows in [512, 7, 512, 0, SHARED_NULL_ROWS, SHARED_NULL_ROWS + 1, 3] {
            for ty in [
                DataType::Utf8,
                DataType::Int64,
                DataType::Float64,
                DataType::Boolean,
                DataType::UInt8,
            ] {
                let column = null_column(&ty, rows);
                column.to_data().validate_full().expect("a valid column");
                assert_eq!(column.to_data(), new_null_array(&ty, rows).to_data());
                assert_eq!(
                    column.get_array_memory_size(),
                    new_null_array(&ty, rows).get_array_memory_size()
                );
            }
        }
    }

    /// A typed builder's columns, of every type and as dictionaries of resource keys, pass
    /// Arrow's full validation (they are built without it).
    #[test]
    fn typed_columns_are_valid_arrow() {
        let rows = [
            Val::Str("a"),
            Val::Int(7),
            Val::Nil,
            Val::Float(1.5),
            Val::Bool(true),
            Val::Str(""),
        ];
        for only in [None, Some(1usize), Some(3), Some(0)] {
            let picked: Vec<Val<'_>> = match only {
                None => rows.to_vec(),
                Some(i) => vec![rows[i], Val::Nil, rows[i]],
            };
            let n = picked.len() as i32;
            let keys = Int32Array::from((0..n).rev().collect::<Vec<i32>>());
            for keys in [None, Some(&keys)] {
                let built = built_of(&picked).finish(keys);
                for column in [built.str, built.int, built.float, built.bool, built.other]
                    .into_iter()
                    .flatten()
                {
                    column.to_data().validate_full().expect("a valid column");
                    assert_eq!(column.len(), picked.len());
                }
            }
        }
    }

    /// A long first value does not make room for as many more as the column has rows: the
    /// room stays within a few times the bytes pushed (one span's long name in a request of
    /// many spans would otherwise ask for gigabytes).
    #[test]
    fn one_long_value_does_not_foretell_the_rest() {
        let mut s = Strings::with_capacity(100_000, 16);
        let long = "n".repeat(10_000);
        assert!(s.push(&long));
        assert!(
            s.data.capacity() <= (long.len() + SPILL) * FORETOLD_AT_MOST + 64,
            "room {} for {} bytes",
            s.data.capacity(),
            long.len()
        );
        let mut expected = vec![long.clone()];
        for i in 0..1000 {
            let v = format!("v{i}");
            assert!(s.push(&v));
            expected.push(v);
        }
        let total: usize = expected.iter().map(String::len).sum();
        assert!(s.data.capacity() <= (total + SPILL) * FORETOLD_AT_MOST + 64);
        assert_reads_back(s, &expected, 1001);
    }

    /// A column whose values are longer than its first guess grows to what its rows
    /// foretell, not to twice the room each time: at the end it holds little more room
    /// than its values take, and reads back as pushed.
    #[test]
    fn a_column_grows_to_what_its_rows_foretell() {
        for (rows, len) in [(1000usize, 20usize), (512, 9), (64, 33), (3, 100)] {
            let value: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let mut s = Strings::with_capacity(rows, rows * 8);
            let mut expected = Vec::new();
            for i in 0..rows {
                let v = &value[..len - i % 3];
                assert!(s.push(v));
                expected.push(v.to_string());
            }
            let total: usize = expected.iter().map(String::len).sum();
            assert!(s.data.capacity() >= total + SPILL);
            assert!(
                s.data.capacity() <= total + total / 2 + 64,
                "{rows} rows of {len} bytes: room {} for {total}",
                s.data.capacity()
            );
            assert_reads_back(s, &expected, rows);
        }
    }

    /// Rows left empty between values, none to many, read empty, and the values after
    /// them as pushed.
    #[test]
    fn gaps_of_every_size_read_empty() {
        let mut s = Strings::with_capacity(1, 1);
        let mut expected: Vec<&str> = Vec::new();
        for gap in 0..=9 {
            s.pad(expected.len() + gap);
            expected.extend(std::iter::repeat_n("", gap));
            assert!(s.push("v"));
            expected.push("v");
        }
        let rows = expected.len() + 6;
        expected.extend([""; 6]);
        assert_reads_back(s, &expected, rows);
    }

    /// Integers of every width are appended as `{i}` prints them (the three-digit ones
    /// written in place, the others by `int_text`), between strings of 1 to 3 bytes.
    #[test]
    fn ints_and_short_strings_read_back_as_pushed() {
        let mut s = Strings::with_capacity(0, 0);
        let mut expected = Vec::new();
        let ints = (-1100..=1100).chain([9_999, 10_000, i64::MAX, i64::MIN]);
        for (n, i) in ints.enumerate() {
            assert!(s.push_int(i));
            expected.push(i.to_string());
            let short = ["a", "ab", "GET", "é", "€", "aé"][n % 6];
            assert!(s.push(short));
            expected.push(short.to_string());
        }
        assert_reads_back(s, &expected, expected.len());
    }

    /// Numeric and boolean values kept only from the first one on (rows of other types
    /// before and after them push nothing): each typed column is what a plain reading of
    /// the rows gives, wherever the numbers fall (first row, last row, none, every row).
    #[test]
    fn typed_columns_are_the_rows_read_plainly() {
        let pool = [
            Val::Str("a"),
            Val::Nil,
            Val::Int(-7),
            Val::Float(2.5),
            Val::Bool(true),
            Val::Bool(false),
            Val::Str(""),
            Val::Int(404),
            Val::Rendered("[1,2]"),
        ];
        let mut sequences: Vec<Vec<Val<'_>>> = vec![
            vec![Val::Str("x"); 5],
            vec![Val::Int(200); 4],
            vec![Val::Int(200), Val::Float(1.5), Val::Int(503)],
            vec![Val::Int(1), Val::Str("x"), Val::Nil],
            vec![Val::Nil, Val::Str("x"), Val::Float(-0.0)],
            vec![Val::Str("x"), Val::Bool(true), Val::Str("y"), Val::Nil],
            vec![],
        ];
        // Pseudo-random mixes of the pool, of several lengths.
        let mut seed = 7u32;
        for len in [1usize, 2, 9, 33, 200] {
            sequences.push(
                (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        pool[(seed >> 16) as usize % pool.len()]
                    })
                    .collect(),
            );
        }
        let numeric = Use(Use::INT.0 | Use::FLOAT.0);
        for rows in &sequences {
            // A capture's columns (`.other` without the ints' rows), alone and with a
            // condition that reads `.other` as well.
            let captured_read = Use::CAPTURED.union(Use::TEXT);
            for uses in [
                Use::ANY,
                numeric,
                Use::BOOL,
                Use::INT,
                Use::TEXT,
                Use::CAPTURED,
                captured_read,
            ] {
                let mut b = Builders::new(uses, 2);
                rows.iter().for_each(|v| b.append(*v));
                let c = b.finish(None);
                let at = |column: &Option<ArrayRef>, i: usize| -> Option<String> {
                    let column = column.as_ref()?;
                    if column.is_null(i) {
                        return Some("null".into());
                    }
                    Some(match column.data_type() {
                        DataType::Int64 => column.as_primitive::<Int64Type>().value(i).to_string(),
                        DataType::Float64 => {
                            let f = column.as_primitive::<Float64Type>().value(i);
                            format!("{:x}", f.to_bits())
                        }
                        DataType::Boolean => column.as_boolean().value(i).to_string(),
                        _ => column.as_string::<i32>().value(i).to_string(),
                    })
                };
                for (i, v) in rows.iter().enumerate() {
                    let plain = |wanted: Use, value: Option<String>| {
                        uses.has(wanted)
                            .then(|| value.unwrap_or_else(|| "null".into()))
                    };
                    let mut text = String::new();
                    render(*v, &mut text);
                    let rendered = Some(text);
                    // An int's text is in `.other` when a condition reads `.other`.
                    let int_text = uses.has(Use::OTHER).then(|| n_text(v)).flatten();
                    let (str, int, float, bool, other) = match v {
                        Val::Str(s) => (Some(s.to_string()), None, None, None, None),
                        Val::Int(n) => (None, Some(n.to_string()), None, None, int_text),
                        Val::Float(f) => {
                            let bits = Some(format!("{:x}", f.to_bits()));
                            (None, None, bits, None, rendered)
                        }
                        Val::Bool(b) => (None, None, None, Some(b.to_string()), rendered),
                        Val::Rendered(_) => (None, None, None, None, rendered),
                        _ => (None, None, None, None, None),
                    };
                    let expected = [
                        plain(Use::STR, str),
                        plain(Use::INT, int),
                        plain(Use::FLOAT, float),
                        plain(Use::BOOL, bool),
                        (uses.has(Use::OTHER) || uses.has(Use::OTHER_BESIDE_INTS))
                            .then(|| other.unwrap_or_else(|| "null".into())),
                    ];
                    let got = [
                        at(&c.str, i),
                        at(&c.int, i),
                        at(&c.float, i),
                        at(&c.bool, i),
                        at(&c.other, i),
                    ];
                    assert_eq!(got, expected, "{rows:?} {uses:?} row {i}");
                }
                for column in [c.str, c.int, c.float, c.bool, c.other]
                    .into_iter()
                    .flatten()
                {
                    column.to_data().validate_full().expect("a valid column");
                    assert_eq!(column.len(), rows.len());
                }
            }
        }
    }

    /// An int's string form as OTTL renders it.
    fn n_text(v: &Val<'_>) -> Option<String> {
        let mut text = String::new();
        render(*v, &mut text);
        matches!(v, Val::Int(_)).then_some(text)
    }

    fn built_of(values: &[Val<'_>]) -> Builders {
        let mut b = Builders::new(Use::ANY, 0);
        values.iter().for_each(|v| b.append(*v));
        b
    }

    #[test]
    fn ints_print_as_display_prints_them() {
        for i in [
            0,
            7,
            -7,
            99,
            100,
            200,
            503,
            999,
            1000,
            -100,
            -40_000,
            1 << 53,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(super::int_text(i, &mut [0; 20]), i.to_string().as_bytes());
        }
    }

    /// Each typed column holds the rows of its type and is null elsewhere; a column no
    /// value of its type came for is null throughout.
    #[test]
    fn each_value_lands_in_the_column_of_its_type() {
        let rows = [
            Val::Int(503),
            Val::Nil,
            Val::Float(-0.0),
            Val::Str("GET"),
            Val::Bool(true),
            Val::Float(f64::NAN),
            Val::Bool(false),
            Val::Int(-1),
        ];
        let mut b = Builders::new(Use::ANY, 2);
        rows.iter().for_each(|v| b.append(*v));
        let c = b.finish(None);
        let ints = c.int.as_ref().unwrap().as_primitive::<Int64Type>();
        let floats = c.float.as_ref().unwrap().as_primitive::<Float64Type>();
        let bools = c.bool.as_ref().unwrap().as_boolean();
        let strs = c.str.as_ref().unwrap().as_string::<i32>();
        let others = c.other.as_ref().unwrap().as_string::<i32>();
        let int_at = |i| ints.is_valid(i).then(|| ints.value(i));
        let float_at = |i| floats.is_valid(i).then(|| floats.value(i).to_bits());
        let bool_at = |i| bools.is_valid(i).then(|| bools.value(i));
        let str_at = |i| strs.is_valid(i).then(|| strs.value(i));
        let other_at = |i| others.is_valid(i).then(|| others.value(i));
        let got: Vec<_> = (0..rows.len())
            .map(|i| (int_at(i), float_at(i), bool_at(i), str_at(i), other_at(i)))
            .collect();
        let nan = f64::NAN.to_bits();
        assert_eq!(
            got,
            [
                (Some(503), None, None, None, Some("503")),
                (None, None, None, None, None),
                (None, Some((-0.0f64).to_bits()), None, None, Some("-0")),
                (None, None, None, Some("GET"), None),
                (None, None, Some(true), None, Some("true")),
                (None, Some(nan), None, None, Some("NaN")),
                (None, None, Some(false), None, Some("false")),
                (Some(-1), None, None, None, Some("-1")),
            ]
        );

        // Only ints, asked as a number: no float ever came.
        let mut b = Builders::new(Use(Use::INT.0 | Use::FLOAT.0), 4);
        [Val::Int(1), Val::Str("x"), Val::Int(2)]
            .iter()
            .for_each(|v| b.append(*v));
        let c = b.finish(None);
        assert!(c.str.is_none() && c.bool.is_none() && c.other.is_none());
        let ints = c.int.as_ref().unwrap().as_primitive::<Int64Type>();
        assert_eq!(ints.null_count(), 1);
        assert_eq!((ints.value(0), ints.value(2)), (1, 2));
        assert_eq!(c.float.as_ref().unwrap().null_count(), 3);
        // Only floats (and a string, a nil): the float column holds them, the int column
        // none.
        let mut b = Builders::new(Use(Use::INT.0 | Use::FLOAT.0), 4);
        [Val::Float(-0.0), Val::Str("x"), Val::Nil, Val::Float(2.5)]
            .iter()
            .for_each(|v| b.append(*v));
        let c = b.finish(None);
        let floats = c.float.as_ref().unwrap().as_primitive::<Float64Type>();
        let got: Vec<Option<u64>> = (0..4)
            .map(|i| floats.is_valid(i).then(|| floats.value(i).to_bits()))
            .collect();
        assert_eq!(
            got,
            [
                Some((-0.0f64).to_bits()),
                None,
                None,
                Some(2.5f64.to_bits())
            ]
        );
        assert_eq!(c.int.as_ref().unwrap().null_count(), 4);
        // Every row an int: no null buffer at all.
        let mut b = Builders::new(Use::INT, 1);
        [Val::Int(1), Val::Int(2)].iter().for_each(|v| b.append(*v));
        let c = b.finish(None);
        assert!(c.int.as_ref().unwrap().nulls().is_none());
    }
}
