//! The typed columns of one attribute while rows are appended ([`Builders`]), for span
//! facts and log facts alike.
//!
//! A row's value is kept as its type (a byte) and, when a numeric or boolean column is
//! asked for, its bits (a `u64`): two pushes a row. The `.int`, `.float` and `.bool`
//! columns are made from them at the end, each in one pass; a column no value of its type
//! came for is made null in one allocation. String values go straight into the `.str` (or,
//! rendered, the `.other`) builder, created on the first one, with the rows before it null.

use std::sync::Arc;

use arrow_array::builder::{ArrayBuilder, StringBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int32Array, Int64Array, new_null_array,
};
use arrow_buffer::{NullBuffer, ScalarBuffer};
use arrow_schema::DataType;

use super::AttrColumns;
use super::kernels::{pack, pack_rows};
use crate::slo::ottl::{Use, Val, render};

/// A row's value type, as far as the typed columns tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Tag {
    /// Absent, or a string (strings are in the `.str` builder).
    None,
    Int,
    Float,
    Bool,
}

/// The typed builders of one attribute.
pub(super) struct Builders {
    uses: Use,
    /// Rows appended so far.
    rows: usize,
    capacity: usize,
    /// Each row's type, when a numeric or boolean column is asked for.
    tags: Vec<Tag>,
    /// Each row's int, float bits or bool (0 for other types), alongside `tags`.
    bits: Vec<u64>,
    /// Whether `tags` and `bits` are kept (the schema asks for `.int`, `.float` or `.bool`).
    scalars: bool,
    str: Option<StringBuilder>,
    other: Option<StringBuilder>,
}

/// A string builder created on its first value, with the rows before it null.
fn strings(slot: &mut Option<StringBuilder>, rows: usize, capacity: usize) -> &mut StringBuilder {
    let b = slot.get_or_insert_with(|| StringBuilder::with_capacity(capacity, capacity * 8));
    let missing = rows - b.len();
    if missing > 0 {
        b.append_nulls(missing);
    }
    b
}

impl Builders {
    pub(super) fn new(uses: Use, capacity: usize) -> Self {
        let scalars = uses.has(Use::INT) || uses.has(Use::FLOAT) || uses.has(Use::BOOL);
        let kept = if scalars { capacity } else { 0 };
        Builders {
            uses,
            rows: 0,
            capacity,
            tags: Vec::with_capacity(kept),
            bits: Vec::with_capacity(kept),
            scalars,
            str: None,
            other: None,
        }
    }

    #[inline]
    pub(super) fn append(&mut self, value: Val<'_>) {
        let rows = self.rows;
        self.rows += 1;
        if self.scalars {
            let (tag, bits) = match value {
                Val::Int(i) => (Tag::Int, i as u64),
                Val::Float(f) => (Tag::Float, f.to_bits()),
                Val::Bool(b) => (Tag::Bool, u64::from(b)),
                _ => (Tag::None, 0),
            };
            self.tags.push(tag);
            self.bits.push(bits);
        }
        match value {
            Val::Nil => {}
            Val::Str(s) => {
                if self.uses.has(Use::STR) {
                    strings(&mut self.str, rows, self.capacity).append_value(s);
                }
            }
            value => {
                if self.uses.has(Use::OTHER) {
                    let b = strings(&mut self.other, rows, self.capacity);
                    match value {
                        // The common case (status codes), without `fmt`'s machinery.
                        Val::Int(i) => b.append_value(int_text(i, &mut [0; 20])),
                        value => {
                            render(value, b);
                            b.append_value("");
                        }
                    }
                }
            }
        }
    }

    /// The columns; with `keys`, each becomes a dictionary over the built values.
    pub(super) fn finish(self, keys: Option<&Int32Array>) -> AttrColumns {
        let wrap = |values: ArrayRef| -> ArrayRef {
            match keys {
                Some(keys) => Arc::new(DictionaryArray::<Int32Type>::new(keys.clone(), values)),
                None => values,
            }
        };
        let Builders {
            uses,
            rows,
            tags,
            bits,
            str,
            other,
            ..
        } = self;
        // A string column the schema asks for: its builder's values, or nulls when no
        // value came.
        let string_column = |wanted: bool, builder: Option<StringBuilder>| {
            wanted.then(|| match builder {
                Some(mut b) => {
                    let missing = rows - b.len();
                    if missing > 0 {
                        b.append_nulls(missing);
                    }
                    Arc::new(b.finish()) as ArrayRef
                }
                None => new_null_array(&DataType::Utf8, rows),
            })
        };
        // The rows holding a value of type `tag`: `None` when there is none (the column is
        // all null), no null buffer when every row does.
        let valid = |tag: Tag| -> Option<Option<NullBuffer>> {
            let n = tags.iter().filter(|t| **t == tag).count();
            match n {
                0 => None,
                n if n == rows => Some(None),
                _ => Some(Some(NullBuffer::new(pack(&tags, |t| *t == tag)))),
            }
        };
        let int = uses.has(Use::INT).then(|| match valid(Tag::Int) {
            None => new_null_array(&DataType::Int64, rows),
            Some(nulls) => {
                let values: Vec<i64> = tags
                    .iter()
                    .zip(&bits)
                    .map(|(t, b)| if *t == Tag::Int { *b as i64 } else { 0 })
                    .collect();
                Arc::new(Int64Array::new(ScalarBuffer::from(values), nulls)) as ArrayRef
            }
        });
        let float = uses.has(Use::FLOAT).then(|| match valid(Tag::Float) {
            None => new_null_array(&DataType::Float64, rows),
            Some(nulls) => {
                let values: ScalarBuffer<f64> = tags
                    .iter()
                    .zip(&bits)
                    .map(|(t, b)| {
                        if *t == Tag::Float {
                            f64::from_bits(*b)
                        } else {
                            0.0
                        }
                    })
                    .collect();
                Arc::new(Float64Array::new(values, nulls)) as ArrayRef
            }
        });
        let bool = uses.has(Use::BOOL).then(|| match valid(Tag::Bool) {
            None => new_null_array(&DataType::Boolean, rows),
            Some(nulls) => {
                let values = pack_rows(rows, |i| tags[i] == Tag::Bool && bits[i] != 0);
                Arc::new(BooleanArray::new(values, nulls)) as ArrayRef
            }
        });
        AttrColumns {
            str: string_column(uses.has(Use::STR), str).map(wrap),
            int: int.map(wrap),
            float: float.map(wrap),
            bool: bool.map(wrap),
            other: string_column(uses.has(Use::OTHER), other).map(wrap),
        }
    }
}

/// `i` in decimal, as `{i}` prints it, written at the end of `buf`.
fn int_text(i: i64, buf: &mut [u8; 20]) -> &str {
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
    std::str::from_utf8(&buf[at..]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};

    use super::*;

    #[test]
    fn ints_print_as_display_prints_them() {
        for i in [0, 7, -7, 200, 503, -40_000, 1 << 53, i64::MAX, i64::MIN] {
            assert_eq!(super::int_text(i, &mut [0; 20]), i.to_string());
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
        // Every row an int: no null buffer at all.
        let mut b = Builders::new(Use::INT, 1);
        [Val::Int(1), Val::Int(2)].iter().for_each(|v| b.append(*v));
        let c = b.finish(None);
        assert!(c.int.as_ref().unwrap().nulls().is_none());
    }
}
