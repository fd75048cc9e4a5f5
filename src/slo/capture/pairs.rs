//! Two string columns whose values go together (a span's `http.route` and its
//! `http.request.method`: a route is mostly called with one method) as two Arrow
//! dictionaries with the same keys: each distinct pair of a row's two strings is one
//! value of each dictionary (the first string in the first, the second in the second; a
//! string of several pairs is a value of its dictionary more than once, which Arrow
//! allows), and a row's key numbers its pair. The two columns' keys are one buffer, which
//! the file writes once (`ipc.rs`): zstd compresses the method's keys no more, and the
//! file holds them no more. Each column keeps its own nulls: a null string is a pair's
//! part of its own, different from every string (its value in the dictionary is empty
//! and never read).
//!
//! A row's strings are looked up in each column's own table (`dictionary.rs`), and the
//! pair of their numbers in a small table of pairs (probing bounded the same way: a pair
//! not found within [`PROBES`] slots is added again). A reader reads the two columns as
//! any dictionary of strings: the file's layout says nothing of the pairing.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{ArrowDictionaryKeyType, Int8Type, Int16Type, Int32Type};
use arrow_array::{Array, ArrayRef, DictionaryArray, PrimitiveArray, StringArray};
use arrow_buffer::{ArrowNativeType, BooleanBuffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType};

use super::dictionary::{Values, key_of};

/// Slots looked at for a pair before it is added as a new value.
const PROBES: usize = 8;
/// The table's first size and largest size (slots, powers of two).
const FIRST_SLOTS: usize = 256;
const MOST_SLOTS: usize = 1 << 16;

/// A null string's number in its column's part of a pair.
const NULL: u32 = u32::MAX;

/// The distinct pairs so far (each a pair of numbers of its strings in their columns'
/// own tables, [`NULL`] for a null) and the table that finds them.
struct Pairs {
    columns: [Values; 2],
    pairs: Vec<[u32; 2]>,
    /// A pair's index + 1, 0 when empty.
    slots: Vec<u32>,
    /// The hash's bits that number a slot: its top `log2(slots)` (as `dictionary.rs`).
    shift: u32,
}

impl Pairs {
    fn new() -> Self {
        Pairs {
            columns: [Values::new(), Values::new()],
            pairs: Vec::new(),
            slots: vec![0; FIRST_SLOTS],
            shift: 64 - FIRST_SLOTS.trailing_zeros(),
        }
    }

    /// The slot a pair's probing starts at, in a table of `64 - shift` bits.
    #[inline(always)]
    fn start(pair: [u32; 2], shift: u32) -> usize {
        let x = u64::from(pair[0]) << 32 | u64::from(pair[1]);
        (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
    }

    /// The number of `s` in column `j`'s table, [`NULL`] for a null (inlined: called
    /// twice a row).
    #[inline(always)]
    fn number(&mut self, j: usize, s: Option<&[u8]>) -> u32 {
        match s {
            Some(s) => key_of(&mut self.columns[j], s) as u32,
            None => NULL,
        }
    }

    /// The key of `pair`, added when not found (inlined: called once a row).
    #[inline(always)]
    fn key(&mut self, pair: [u32; 2]) -> usize {
        let mask = self.slots.len() - 1;
        let start = Self::start(pair, self.shift);
        let mut empty = None;
        for probe in 0..PROBES {
            let at = (start + probe) & mask;
            let slot = self.slots[at];
            if slot == 0 {
                empty = Some(at);
                break;
            }
            let key = slot as usize - 1;
            if self.pairs[key] == pair {
                return key;
            }
        }
        self.add(pair, empty)
    }

    /// Adds `pair`, in table slot `empty` when there is one; its key.
    #[inline(never)]
    fn add(&mut self, pair: [u32; 2], empty: Option<usize>) -> usize {
        let key = self.pairs.len();
        self.pairs.push(pair);
        if let Some(at) = empty {
            self.slots[at] = key as u32 + 1;
            if self.pairs.len() * 2 > self.slots.len() && self.slots.len() < MOST_SLOTS {
                self.grow();
            }
        }
        key
    }

    /// Twice the slots, every pair placed again (a pair that finds no slot within
    /// [`PROBES`] is left out of the table: it stays a value, found no more).
    fn grow(&mut self) {
        self.slots = vec![0; self.slots.len() * 2];
        self.shift = 64 - self.slots.len().trailing_zeros();
        let mask = self.slots.len() - 1;
        for (i, pair) in self.pairs.iter().enumerate() {
            let start = Self::start(*pair, self.shift);
            if let Some(at) = (0..PROBES)
                .map(|p| (start + p) & mask)
                .find(|at| self.slots[*at] == 0)
            {
                self.slots[at] = i as u32 + 1;
            }
        }
    }

    /// Column `j`'s strings of the pairs, in the pairs' order (empty for a null); an
    /// error when a column's strings could not be held.
    fn strings(&self, j: usize) -> Result<StringArray, ArrowError> {
        let values = &self.columns[j];
        values.check()?;
        let mut bytes: Vec<u8> = Vec::new();
        let mut offsets: Vec<i32> = Vec::with_capacity(self.pairs.len() + 1);
        offsets.push(0);
        for pair in &self.pairs {
            if pair[j] != NULL {
                bytes.extend_from_slice(values.value(pair[j] as usize));
            }
            let end = i32::try_from(bytes.len())
                .map_err(|_| ArrowError::ComputeError("dictionary values too large".into()))?;
            offsets.push(end);
        }
        let offsets = OffsetBuffer::new(offsets.into());
        // SAFETY: the offsets start at 0 and grow (each value's end pushed after its
        // bytes), and the bytes are whole strings of string arrays, so valid UTF-8 at
        // every offset.
        Ok(unsafe { StringArray::new_unchecked(offsets, bytes.into(), None) })
    }
}

/// A row's string: `None` for a null row.
#[inline(always)]
fn string<'a>(bytes: &'a [u8], w: &[i32], valid: bool) -> Option<&'a [u8]> {
    valid.then(|| &bytes[w[0] as usize..w[1] as usize])
}

/// The pairs of the string columns `firsts` and `seconds` (the parts of each, one after
/// the other, `rows` in all; a part of one as long as the same part of the other) as two
/// dictionary columns with the same keys, of type `key` (`Int8`, `Int16` or `Int32`):
/// see the module's doc. `None` when the columns have more distinct pairs than `key` can
/// number.
pub(super) fn encode(
    firsts: &[&dyn Array],
    seconds: &[&dyn Array],
    rows: usize,
    key: &DataType,
) -> Result<Option<[ArrayRef; 2]>, ArrowError> {
    match key {
        DataType::Int8 => encode_as::<Int8Type>(firsts, seconds, rows, 1 << 7),
        DataType::Int16 => encode_as::<Int16Type>(firsts, seconds, rows, 1 << 15),
        DataType::Int32 => encode_as::<Int32Type>(firsts, seconds, rows, i32::MAX as usize),
        other => Err(ArrowError::CastError(format!(
            "dictionary keys of type {other}"
        ))),
    }
}

/// How many distinct pairs the string columns `firsts` and `seconds` hold (as
/// [`encode`] numbers them); `None` for columns of other than strings or of different
/// lengths.
pub(super) fn distinct(firsts: &[&dyn Array], seconds: &[&dyn Array]) -> Option<usize> {
    let rows = firsts.iter().map(|p| p.len()).sum();
    let [first, _] = encode(firsts, seconds, rows, &DataType::Int32).ok()??;
    Some(first.as_any_dictionary().values().len())
}

/// [`encode`] with keys of type `K`, which number `most` values. Each key is written in
/// `K` as it is found (wrapping past `most`, when the columns are then not returned).
fn encode_as<K: ArrowDictionaryKeyType>(
    firsts: &[&dyn Array],
    seconds: &[&dyn Array],
    rows: usize,
    most: usize,
) -> Result<Option<[ArrayRef; 2]>, ArrowError> {
    if firsts.len() != seconds.len() {
        return Err(ArrowError::InvalidArgumentError(
            "paired columns of different parts".into(),
        ));
    }
    let mut pairs = Pairs::new();
    let mut keys: Vec<K::Native> = Vec::with_capacity(rows);
    for (a, b) in firsts.iter().zip(seconds) {
        let not_strings = || ArrowError::CastError("a dictionary column of non-strings".into());
        let a = a.as_string_opt::<i32>().ok_or_else(not_strings)?;
        let b = b.as_string_opt::<i32>().ok_or_else(not_strings)?;
        if a.len() != b.len() {
            return Err(ArrowError::InvalidArgumentError(
                "paired columns of different lengths".into(),
            ));
        }
        let nulls = |s: &StringArray| s.nulls().filter(|n| n.null_count() > 0).cloned();
        let (a_valid, b_valid) = (nulls(a), nulls(b));
        // The buffers as slices once, not per row.
        let (a_offsets, a_bytes) = (a.value_offsets(), a.values().as_slice());
        let (b_offsets, b_bytes) = (b.value_offsets(), b.values().as_slice());
        let rows = a_offsets.windows(2).zip(b_offsets.windows(2));
        if a_valid.is_none() && b_valid.is_none() {
            keys.extend(rows.map(|(wa, wb)| {
                let x = pairs.number(0, string(a_bytes, wa, true));
                let y = pairs.number(1, string(b_bytes, wb, true));
                K::Native::usize_as(pairs.key([x, y]))
            }));
            continue;
        }
        // Each column's validity a bit a row (all set without nulls), read together.
        let bits = |v: Option<NullBuffer>| match v {
            Some(n) => n.into_inner(),
            None => BooleanBuffer::new_set(a.len()),
        };
        let (a_bits, b_bits) = (bits(a_valid), bits(b_valid));
        keys.extend(
            rows.zip(a_bits.iter().zip(b_bits.iter()))
                .map(|((wa, wb), (va, vb))| {
                    let x = pairs.number(0, string(a_bytes, wa, va));
                    let y = pairs.number(1, string(b_bytes, wb, vb));
                    K::Native::usize_as(pairs.key([x, y]))
                }),
        );
    }
    if pairs.pairs.len() > most {
        pairs.columns.iter().try_for_each(Values::check)?;
        return Ok(None);
    }
    let (first, second) = (pairs.strings(0)?, pairs.strings(1)?);
    let validity = [
        super::narrow::concat_nulls(firsts, rows),
        super::narrow::concat_nulls(seconds, rows),
    ];
    let keys = ScalarBuffer::<K::Native>::from(keys);
    let [first_valid, second_valid] = validity;
    let column = |values: StringArray, valid| -> ArrayRef {
        let keys = PrimitiveArray::<K>::new(keys.clone(), valid);
        // SAFETY: every key is below the number of pairs (a pair's index, which `most`
        // bounds so that `K` holds it), and each column has a value per pair: `try_new`
        // would accept them.
        Arc::new(unsafe { DictionaryArray::<K>::new_unchecked(keys, Arc::new(values)) })
    };
    Ok(Some([
        column(first, first_valid),
        column(second, second_valid),
    ]))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn decoded(column: &ArrayRef) -> Vec<Option<String>> {
        let dict = column.as_any_dictionary();
        let plain = arrow_select::take::take(dict.values(), dict.keys(), None).unwrap();
        let plain = arrow_select::nullif::nullif(
            &plain,
            &arrow_array::BooleanArray::from(
                (0..column.len())
                    .map(|row| column.is_null(row))
                    .collect::<Vec<bool>>(),
            ),
        )
        .unwrap();
        plain
            .as_string::<i32>()
            .iter()
            .map(|s| s.map(String::from))
            .collect()
    }

    fn strings(column: &dyn Array) -> Vec<Option<String>> {
        column
            .as_string::<i32>()
            .iter()
            .map(|s| s.map(String::from))
            .collect()
    }

    /// Random parts of routes and methods (some long, some empty, some null, a route
    /// mostly with one method) for a seed.
    fn random_parts(seed: u64) -> (Vec<StringArray>, Vec<StringArray>) {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let long = "/api/a/very/long/route/that/passes/thirty-two/bytes";
        let (mut routes, mut methods) = (Vec::new(), Vec::new());
        for _ in 0..1 + next(4) {
            let rows = next(700) as usize;
            let mut r = Vec::with_capacity(rows);
            let mut m = Vec::with_capacity(rows);
            for _ in 0..rows {
                let i = next(40);
                r.push(match i {
                    0 => None,
                    1 => Some(String::new()),
                    2..=5 => Some(format!("{long}/{}", i % 3)),
                    _ => Some(format!("/items/{}", i % 13)),
                });
                let method = ["GET", "POST", "DELETE", "", "OPTIONS-AND-MORE-THAN-EIGHT"];
                m.push(match next(20) {
                    0 => None,
                    1 => Some(method[next(5) as usize].to_string()),
                    _ => Some(method[(i % 3) as usize].to_string()),
                });
            }
            routes.push(StringArray::from(r));
            methods.push(StringArray::from(m));
        }
        (routes, methods)
    }

    #[test]
    fn pairs_read_back_as_each_columns_own_dictionary_does_with_one_keys_buffer() {
        for seed in 0..60 {
            let (routes, methods) = random_parts(seed);
            let a: Vec<&dyn Array> = routes.iter().map(|p| p as &dyn Array).collect();
            let b: Vec<&dyn Array> = methods.iter().map(|p| p as &dyn Array).collect();
            let rows: usize = routes.iter().map(|p| p.len()).sum();
            let pairs: HashSet<(Option<String>, Option<String>)> = routes
                .iter()
                .zip(&methods)
                .flat_map(|(r, m)| strings(r).into_iter().zip(strings(m)))
                .collect();
            assert_eq!(distinct(&a, &b), Some(pairs.len()), "seed {seed}");
            for key in [DataType::Int16, DataType::Int32] {
                let [x, y] = encode(&a, &b, rows, &key).unwrap().unwrap();
                // The layout before: each column its own dictionary.
                let own_x = super::super::dictionary::encode(&a, rows, &key)
                    .unwrap()
                    .unwrap();
                let own_y = super::super::dictionary::encode(&b, rows, &key)
                    .unwrap()
                    .unwrap();
                assert_eq!(decoded(&x), decoded(&own_x), "seed {seed}");
                assert_eq!(decoded(&y), decoded(&own_y), "seed {seed}");
                let want: Vec<Option<String>> = routes.iter().flat_map(|p| strings(p)).collect();
                assert_eq!(decoded(&x), want, "seed {seed}");
                assert_eq!(x.nulls(), own_x.nulls(), "seed {seed}");
                assert_eq!(y.nulls(), own_y.nulls(), "seed {seed}");
                let (kx, ky) = (x.as_any_dictionary().keys(), y.as_any_dictionary().keys());
                assert_eq!(kx.data_type(), &key);
                assert_eq!(
                    kx.to_data().buffers()[0].as_ptr(),
                    ky.to_data().buffers()[0].as_ptr(),
                    "one keys buffer"
                );
                assert_eq!(x.as_any_dictionary().values().len(), pairs.len());
            }
        }
    }

    #[test]
    fn more_pairs_than_the_keys_number_are_none_and_columns_must_match() {
        let routes = StringArray::from_iter_values((0..300).map(|i| format!("/r{}", i % 100)));
        let methods = StringArray::from_iter_values((0..300).map(|i| ["GET", "PUT"][i % 2]));
        // `i % 100` decides `i % 2`: each route with one method, 100 pairs; with
        // `i % 3`, 300.
        assert_eq!(distinct(&[&routes], &[&methods]), Some(100));
        let methods3 =
            StringArray::from_iter_values((0..300).map(|i| ["GET", "PUT", "POST"][i % 3]));
        assert_eq!(distinct(&[&routes], &[&methods3]), Some(300));
        assert!(
            encode(&[&routes], &[&methods3], 300, &DataType::Int8)
                .unwrap()
                .is_none()
        );
        assert!(
            encode(&[&routes], &[&methods3], 300, &DataType::Int16)
                .unwrap()
                .is_some()
        );
        let short = StringArray::from(vec!["GET"]);
        assert!(encode(&[&routes], &[&short], 300, &DataType::Int16).is_err());
        assert!(encode(&[&routes], &[], 300, &DataType::Int16).is_err());
        let ints = arrow_array::Int32Array::from(vec![1; 300]);
        assert!(encode(&[&routes], &[&ints], 300, &DataType::Int16).is_err());
        assert!(encode(&[&routes], &[&methods], 300, &DataType::Utf8).is_err());
    }

    #[test]
    fn long_strings_differing_in_the_middle_and_nulls_stay_apart() {
        let a = "x".repeat(40);
        let mut b = a.clone().into_bytes();
        b[20] = b'y';
        let b = String::from_utf8(b).unwrap();
        let routes = StringArray::from(vec![
            Some(a.as_str()),
            Some(b.as_str()),
            Some(""),
            None,
            Some(a.as_str()),
        ]);
        let methods =
            StringArray::from(vec![Some("GET"), Some("GET"), None, Some(""), Some("GET")]);
        let [x, y] = encode(&[&routes], &[&methods], 5, &DataType::Int8)
            .unwrap()
            .unwrap();
        assert_eq!(decoded(&x), strings(&routes));
        assert_eq!(decoded(&y), strings(&methods));
        // (a, GET), (b, GET), ("", null), (null, ""): four pairs, the fifth row the first's.
        assert_eq!(x.as_any_dictionary().values().len(), 4);
    }

    #[test]
    fn many_pairs_grow_the_table_and_are_found_again() {
        let n = 20_000;
        let routes = StringArray::from_iter_values((0..2 * n).map(|i| format!("/r{}", i % n)));
        let methods =
            StringArray::from_iter_values((0..2 * n).map(|i| format!("M{}", (i % n) % 7)));
        let [x, y] = encode(&[&routes], &[&methods], 2 * n, &DataType::Int32)
            .unwrap()
            .unwrap();
        assert_eq!(decoded(&x), strings(&routes));
        assert_eq!(decoded(&y), strings(&methods));
        // n pairs (the method follows the route), each found again in the second n rows
        // past the first table's size, but for the few bounded probing left out of it.
        let values = x.as_any_dictionary().values().len();
        assert!((n..n + n / 100).contains(&values), "{values}");
    }
}
