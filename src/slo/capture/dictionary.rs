//! String columns as Arrow dictionaries for capture files: each distinct string of a
//! message once, a key per row. Strings are found through a small open-addressing table
//! hashed on a string's length and its first and last eight bytes, which is cheap for the
//! short, repeated strings of span names, routes and methods. Probing is bounded: a
//! string not found within [`PROBES`] slots is added again (Arrow allows a dictionary to
//! hold a value twice), so strings made to collide cost a few comparisons each, never a
//! scan of the table.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, DictionaryArray, Int32Array, StringArray};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer, OffsetBuffer};
use arrow_schema::ArrowError;

/// Slots looked at for a string before it is added as a new value.
const PROBES: usize = 8;
/// The table's first size and largest size (slots, powers of two).
const FIRST_SLOTS: usize = 256;
const MOST_SLOTS: usize = 1 << 16;

/// The distinct strings so far and the table that finds them.
struct Values {
    bytes: Vec<u8>,
    offsets: Vec<i32>,
    /// Per slot: a value's index + 1, or 0 when empty.
    slots: Vec<u32>,
}

#[inline]
fn hash(s: &[u8]) -> u64 {
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let n = s.len();
    let (first, last) = match n {
        0..=8 => (word(s), 0),
        _ => (word(&s[..8]), word(&s[n - 8..])),
    };
    (first ^ last.rotate_left(29) ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl Values {
    fn new() -> Self {
        Values {
            bytes: Vec::with_capacity(1024),
            offsets: vec![0],
            slots: vec![0; FIRST_SLOTS],
        }
    }

    fn value(&self, i: usize) -> &[u8] {
        &self.bytes[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The key of `s`, added when not found.
    #[inline]
    fn key(&mut self, s: &[u8]) -> Result<i32, ArrowError> {
        let mask = self.slots.len() - 1;
        let start = (hash(s) >> 40) as usize;
        let mut empty = None;
        for probe in 0..PROBES {
            let at = (start + probe) & mask;
            match self.slots[at] {
                0 => {
                    empty = Some(at);
                    break;
                }
                k if self.value(k as usize - 1) == s => return Ok(k as i32 - 1),
                _ => {}
            }
        }
        let key = self.len();
        let end = i32::try_from(self.bytes.len() + s.len())
            .map_err(|_| ArrowError::ComputeError("dictionary values too large".into()))?;
        self.bytes.extend_from_slice(s);
        self.offsets.push(end);
        if let Some(at) = empty {
            self.slots[at] = key as u32 + 1;
            if self.len() * 2 > self.slots.len() && self.slots.len() < MOST_SLOTS {
                self.grow();
            }
        }
        i32::try_from(key).map_err(|_| ArrowError::ComputeError("too many values".into()))
    }

    /// Twice the slots, every value placed again (a value that finds no slot within
    /// [`PROBES`] is left out of the table: it stays a value, found no more).
    fn grow(&mut self) {
        self.slots = vec![0; self.slots.len() * 2];
        let mask = self.slots.len() - 1;
        for i in 0..self.len() {
            let start = (hash(self.value(i)) >> 40) as usize;
            if let Some(at) = (0..PROBES)
                .map(|p| (start + p) & mask)
                .find(|at| self.slots[*at] == 0)
            {
                self.slots[at] = i as u32 + 1;
            }
        }
    }
}

/// String columns (`parts`, one after the other, `rows` in all) as one dictionary column
/// with `Int32` keys; a null row is a null key.
pub(super) fn encode(parts: &[&dyn Array], rows: usize) -> Result<ArrayRef, ArrowError> {
    let mut values = Values::new();
    let mut keys: Vec<i32> = Vec::with_capacity(rows);
    let mut nulls = false;
    for part in parts {
        let strings = part
            .as_string_opt::<i32>()
            .ok_or_else(|| ArrowError::CastError("a dictionary column of non-strings".into()))?;
        nulls |= strings.null_count() > 0;
        let (offsets, bytes) = (strings.value_offsets(), strings.values());
        for w in offsets.windows(2) {
            // A null row's slice is empty or holds bytes no reader looks at.
            keys.push(values.key(&bytes[w[0] as usize..w[1] as usize])?);
        }
    }
    let validity = nulls.then(|| {
        let mut valid = BooleanBufferBuilder::new(rows);
        for part in parts {
            match part.nulls() {
                Some(n) => valid.append_buffer(n.inner()),
                None => valid.append_n(part.len(), true),
            }
        }
        NullBuffer::new(valid.finish())
    });
    let Values { bytes, offsets, .. } = values;
    let offsets = OffsetBuffer::new(offsets.into());
    let strings = StringArray::try_new(offsets, bytes.into(), None)?;
    Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(
        Int32Array::new(keys.into(), validity),
        Arc::new(strings),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(column: &ArrayRef) -> Vec<Option<String>> {
        let dict = column.as_dictionary::<Int32Type>();
        let values = dict.values().as_string::<i32>();
        dict.keys()
            .iter()
            .map(|k| k.map(|k| values.value(k as usize).to_string()))
            .collect()
    }

    #[test]
    fn rows_read_back_as_given_each_distinct_string_once() {
        let a = StringArray::from(vec![Some("GET /cart"), None, Some("GET /"), Some("")]);
        let b = StringArray::from(vec![Some("GET /"), Some("GET /cart"), Some("")]);
        let column = encode(&[&a, &b], 7).unwrap();
        assert_eq!(
            decoded(&column),
            [
                Some("GET /cart"),
                None,
                Some("GET /"),
                Some(""),
                Some("GET /"),
                Some("GET /cart"),
                Some(""),
            ]
            .map(|s| s.map(String::from))
        );
        // The null row's key is not a value: three distinct strings.
        assert_eq!(column.as_dictionary::<Int32Type>().values().len(), 3);
    }

    #[test]
    fn strings_made_to_collide_stay_exact_and_the_work_bounded() {
        // Same length, same first and last eight bytes: one hash for all of them.
        let many: Vec<String> = (0..20_000)
            .map(|i| format!("aaaaaaaa{:08}zzzzzzzz", i % 5_000))
            .collect();
        let column = encode(&[&StringArray::from(many.clone())], many.len()).unwrap();
        let want: Vec<Option<String>> = many.into_iter().map(Some).collect();
        assert_eq!(decoded(&column), want);
        // Past the probed slots values repeat; never more than one per row.
        assert!(column.as_dictionary::<Int32Type>().values().len() <= 20_000);
    }

    #[test]
    fn many_distinct_strings_grow_the_table() {
        let many: Vec<String> = (0..50_000).map(|i| format!("/users/{i}")).collect();
        let column = encode(&[&StringArray::from(many.clone())], many.len()).unwrap();
        let want: Vec<Option<String>> = many.into_iter().map(Some).collect();
        assert_eq!(decoded(&column), want);
    }
}
