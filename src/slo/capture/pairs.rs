//! Two string columns whose values go together (a span's `http.route` and its
//! `http.request.method`: a route is mostly called with one method) as two Arrow
//! dictionaries with the same keys: each distinct pair of a row's two strings is one
//! value of each dictionary (the first string in the first, the second in the second; a
//! string of several pairs is a value of its dictionary more than once, which Arrow
//! allows), and a row's key numbers its pair. A row is looked up once for both columns,
//! where two dictionaries of their own looked it up twice, and the two columns' keys are
//! one buffer, which the file writes once (`ipc.rs`). Each column keeps its own nulls: a
//! null string is a pair's part of its own, different from every string (its value in the
//! dictionary is empty and never read).
//!
//! A reader reads the two columns as any dictionary of strings: the file's layout says
//! nothing of the pairing. The table is that of `dictionary.rs`, keyed on both strings'
//! words, probing bounded the same way.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{ArrowDictionaryKeyType, Int8Type, Int16Type, Int32Type};
use arrow_array::{Array, ArrayRef, DictionaryArray, PrimitiveArray, StringArray};
use arrow_buffer::{ArrowNativeType, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType};

use super::dictionary::{EXACT, Words};

/// Slots looked at for a pair before it is added as a new value.
const PROBES: usize = 8;
/// The table's first size and largest size (slots, powers of two).
const FIRST_SLOTS: usize = 256;
const MOST_SLOTS: usize = 1 << 16;

/// One column's values: strings one after the other.
struct Strings {
    bytes: Vec<u8>,
    offsets: Vec<i32>,
}

impl Strings {
    fn new() -> Self {
        Strings {
            bytes: Vec::with_capacity(512),
            offsets: vec![0],
        }
    }

    fn value(&self, i: usize) -> &[u8] {
        &self.bytes[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Appends `s`; false when the values' bytes would pass what `i32` offsets address.
    fn push(&mut self, s: &[u8]) -> bool {
        let Ok(end) = i32::try_from(self.bytes.len() + s.len()) else {
            return false;
        };
        self.bytes.extend_from_slice(s);
        self.offsets.push(end);
        true
    }

    fn into_array(self) -> StringArray {
        let offsets = OffsetBuffer::new(self.offsets.into());
        // SAFETY: the offsets start at 0 and grow (each value's end pushed after its
        // bytes), and the bytes are whole strings of string arrays, so valid UTF-8 at
        // every offset.
        unsafe { StringArray::new_unchecked(offsets, self.bytes.into(), None) }
    }
}

/// A table slot: a pair's index + 1 (0 when empty) and its strings' words.
#[derive(Clone, Copy, Default)]
struct Slot {
    key: u32,
    words: [Words; 2],
}

/// The distinct pairs so far and the table that finds them.
struct Pairs {
    strings: [Strings; 2],
    slots: Vec<Slot>,
    /// Per pair: which of its strings stand for a null.
    nulls: Vec<[bool; 2]>,
    /// Whether a pair was not added because a column's values would pass what `i32`
    /// offsets address (its key is then wrong: the columns are an error).
    overflow: bool,
}

impl Pairs {
    fn new() -> Self {
        Pairs {
            strings: [Strings::new(), Strings::new()],
            slots: vec![Slot::default(); FIRST_SLOTS],
            nulls: Vec::new(),
            overflow: false,
        }
    }

    fn len(&self) -> usize {
        self.strings[0].offsets.len() - 1
    }

    /// Whether pair `key`, whose words are `words`, is `s`: equal words of strings up to
    /// [`EXACT`] bytes long (or of nulls) are equal strings, longer ones are compared.
    #[inline]
    fn is(&self, key: usize, words: &[Words; 2], s: [&[u8]; 2]) -> bool {
        // A null's length (`usize::MAX`) wraps to 0: one comparison for both cases.
        let exact = |w: &Words| w.len.wrapping_add(1) <= EXACT + 1;
        (exact(&words[0]) || self.strings[0].value(key) == s[0])
            && (exact(&words[1]) || self.strings[1].value(key) == s[1])
    }

    /// The key of the pair `s` (a null as [`Words::NULL`] and no bytes), added when not
    /// found (inlined: called once a row).
    #[inline(always)]
    fn key(&mut self, s: [&[u8]; 2], words: [Words; 2]) -> usize {
        let mask = self.slots.len() - 1;
        let start = (words[0].hash_with(&words[1]) >> 40) as usize;
        let mut empty = None;
        for probe in 0..PROBES {
            let at = (start + probe) & mask;
            let slot = &self.slots[at];
            if slot.key == 0 {
                empty = Some(at);
                break;
            }
            let key = slot.key as usize - 1;
            // Both strings' words compared without a branch between them.
            if slot.words[0].same(&words[0]) & slot.words[1].same(&words[1])
                && self.is(key, &words, s)
            {
                return key;
            }
        }
        self.add(s, words, empty)
    }

    /// Adds the pair `s` as a new value, in table slot `empty` when there is one; its key.
    #[inline(never)]
    fn add(&mut self, s: [&[u8]; 2], words: [Words; 2], empty: Option<usize>) -> usize {
        let key = self.len();
        let fits = |st: &Strings, s: &[u8]| i32::try_from(st.bytes.len() + s.len()).is_ok();
        if !(fits(&self.strings[0], s[0]) && fits(&self.strings[1], s[1])) {
            self.overflow = true;
            return 0;
        }
        let pushed = self.strings[0].push(s[0]) & self.strings[1].push(s[1]);
        debug_assert!(pushed);
        self.nulls.push(words.map(|w| w.len == Words::NULL.len));
        if let Some(at) = empty {
            self.slots[at] = Slot {
                key: key as u32 + 1,
                words,
            };
            if self.len() * 2 > self.slots.len() && self.slots.len() < MOST_SLOTS {
                self.grow();
            }
        }
        key
    }

    /// Twice the slots, every pair placed again (a pair that finds no slot within
    /// [`PROBES`] is left out of the table: it stays a value, found no more).
    fn grow(&mut self) {
        self.slots = vec![Slot::default(); self.slots.len() * 2];
        let mask = self.slots.len() - 1;
        for i in 0..self.len() {
            let words = self.words_of(i);
            let start = (words[0].hash_with(&words[1]) >> 40) as usize;
            if let Some(at) = (0..PROBES)
                .map(|p| (start + p) & mask)
                .find(|at| self.slots[*at].key == 0)
            {
                self.slots[at] = Slot {
                    key: i as u32 + 1,
                    words,
                };
            }
        }
    }

    /// The words of pair `i` as it was added: its strings' words, a null's for a part
    /// that stood for one.
    fn words_of(&self, i: usize) -> [Words; 2] {
        [0, 1].map(|j| match self.nulls[i][j] {
            true => Words::NULL,
            false => Words::of(self.strings[j].value(i)),
        })
    }

    /// An error when a pair could not be added.
    fn check(&self) -> Result<(), ArrowError> {
        match self.overflow {
            false => Ok(()),
            true => Err(ArrowError::ComputeError(
                "dictionary values too large".into(),
            )),
        }
    }
}

/// A row's string and words: a null's words and no bytes for a null row.
#[inline(always)]
fn part<'a>(bytes: &'a [u8], w: &[i32], valid: bool) -> (&'a [u8], Words) {
    match valid {
        true => {
            let s = &bytes[w[0] as usize..w[1] as usize];
            (s, Words::of(s))
        }
        false => (&[], Words::NULL),
    }
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
                let (sa, ta) = part(a_bytes, wa, true);
                let (sb, tb) = part(b_bytes, wb, true);
                K::Native::usize_as(pairs.key([sa, sb], [ta, tb]))
            }));
            continue;
        }
        // Each column's validity a bit a row (all set without nulls), read together.
        let bits = |v: Option<arrow_buffer::NullBuffer>| match v {
            Some(n) => n.into_inner(),
            None => arrow_buffer::BooleanBuffer::new_set(a.len()),
        };
        let (a_bits, b_bits) = (bits(a_valid), bits(b_valid));
        keys.extend(
            rows.zip(a_bits.iter().zip(b_bits.iter()))
                .map(|((wa, wb), (va, vb))| {
                    let (sa, ta) = part(a_bytes, wa, va);
                    let (sb, tb) = part(b_bytes, wb, vb);
                    K::Native::usize_as(pairs.key([sa, sb], [ta, tb]))
                }),
        );
    }
    pairs.check()?;
    if pairs.len() > most {
        return Ok(None);
    }
    let validity = [
        super::narrow::concat_nulls(firsts, rows),
        super::narrow::concat_nulls(seconds, rows),
    ];
    let Pairs { strings, .. } = pairs;
    let keys = ScalarBuffer::<K::Native>::from(keys);
    let [first, second] = strings;
    let [first_valid, second_valid] = validity;
    let column = |values: StringArray, valid| -> ArrayRef {
        let keys = PrimitiveArray::<K>::new(keys.clone(), valid);
        // SAFETY: every key is below the number of pairs (a pair's index, which `most`
        // bounds so that `K` holds it), and each column has a value per pair: `try_new`
        // would accept them.
        Arc::new(unsafe { DictionaryArray::<K>::new_unchecked(keys, Arc::new(values)) })
    };
    Ok(Some([
        column(first.into_array(), first_valid),
        column(second.into_array(), second_valid),
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
