//! String columns as Arrow dictionaries for capture files: each distinct string of a
//! message once, a key per row. Strings are found through a small open-addressing table
//! hashed on a string's length and its first and last eight bytes, which is cheap for the
//! short, repeated strings of span names, routes and methods: each slot keeps the length
//! and words that cover a string of up to 32 bytes, so such a string is compared without
//! reading the values, and every row is looked up the same way (a row compared with the
//! one before first cost a branch that random traffic mispredicts, and the words' copy a
//! row). Probing is bounded: a
//! string not found within [`PROBES`] slots is added again (Arrow allows a dictionary to
//! hold a value twice), so strings made to collide cost a few comparisons each, never a
//! scan of the table.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{ArrowDictionaryKeyType, Int8Type, Int16Type, Int32Type};
use arrow_array::{Array, ArrayRef, DictionaryArray, PrimitiveArray, StringArray};
use arrow_buffer::{ArrowNativeType, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType};

/// Slots looked at for a string before it is added as a new value.
const PROBES: usize = 8;
/// The table's first size and largest size (slots, powers of two).
const FIRST_SLOTS: usize = 256;
const MOST_SLOTS: usize = 1 << 16;

/// The longest string its [`Words`] identify entirely.
const EXACT: usize = 32;

/// What identifies a string of up to [`EXACT`] bytes entirely, and most longer ones: its
/// length, its first and last eight bytes (a string of up to eight in `first` alone) and,
/// of one of 17 to 32 bytes, the eight after its first eight and the eight before its last
/// eight (`mid`), which with those cover it. Equal words of strings up to 32 bytes long are
/// equal strings: span names and routes are found without reading the values.
#[derive(Clone, Copy, Default)]
struct Words {
    len: usize,
    first: u64,
    last: u64,
    mid: [u64; 2],
}

impl Words {
    #[inline(always)]
    fn of(s: &[u8]) -> Self {
        let n = s.len();
        let (first, last, mid) = match n {
            0..=8 => (short_word(s), 0, [0; 2]),
            9..=16 => (word8(&s[..8]), word8(&s[n - 8..]), [0; 2]),
            17..=EXACT => (
                word8(&s[..8]),
                word8(&s[n - 8..]),
                [word8(&s[8..16]), word8(&s[n - 16..n - 8])],
            ),
            _ => (word8(&s[..8]), word8(&s[n - 8..]), [0; 2]),
        };
        Words {
            len: n,
            first,
            last,
            mid,
        }
    }

    /// Whether two strings' words are equal: every word compared, without a branch.
    #[inline(always)]
    fn same(&self, other: &Words) -> bool {
        ((self.len as u64 ^ other.len as u64)
            | (self.first ^ other.first)
            | (self.last ^ other.last)
            | (self.mid[0] ^ other.mid[0])
            | (self.mid[1] ^ other.mid[1]))
            == 0
    }

    #[inline]
    fn hash(&self) -> u64 {
        (self.first ^ self.last.rotate_left(29) ^ self.len as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

/// Eight bytes as a little-endian word.
#[inline(always)]
fn word8(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// Up to eight bytes as a little-endian word, the missing high bytes zero (byte `i` at
/// bits `8 i`), read in at most two loads: two overlapping four-byte words from 4 bytes
/// on, the first, middle and last byte below (overlapping bytes are the same byte in the
/// same place, so or-ing them is exact).
#[inline(always)]
fn short_word(s: &[u8]) -> u64 {
    let n = s.len();
    match n {
        8 => word8(s),
        4..=7 => {
            let word4 = |b: &[u8]| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            word4(&s[..4]) | word4(&s[n - 4..]) << (8 * (n - 4))
        }
        1..=3 => {
            u64::from(s[0])
                | u64::from(s[n / 2]) << (8 * (n / 2))
                | u64::from(s[n - 1]) << (8 * (n - 1))
        }
        _ => 0,
    }
}

/// A table slot: a value's index + 1 (0 when empty) and its words.
#[derive(Clone, Copy, Default)]
struct Slot {
    key: u32,
    words: Words,
}

/// The distinct strings so far and the table that finds them.
struct Values {
    bytes: Vec<u8>,
    offsets: Vec<i32>,
    slots: Vec<Slot>,
    /// Whether a value was not added because the values' bytes would pass what `i32`
    /// offsets address (its key is then wrong: the column is an error).
    overflow: bool,
    /// The hash's bits that number a slot: its top ones (`64 - log2(slots)`), which
    /// depend on every bit of a string's words (a product's low bits depend only on the
    /// factors' bits below them: strings of up to eight bytes that differ in their last
    /// one shared their first slot when the table took bits 40 and up).
    shift: u32,
}

impl Values {
    fn new() -> Self {
        Values {
            bytes: Vec::with_capacity(1024),
            offsets: vec![0],
            slots: vec![Slot::default(); FIRST_SLOTS],
            overflow: false,
            shift: 64 - FIRST_SLOTS.trailing_zeros(),
        }
    }

    fn value(&self, i: usize) -> &[u8] {
        &self.bytes[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether value `key` is `s`, whose words are `words`, when the value's words are
    /// `words` too (equal words of a string up to [`EXACT`] bytes long are equal strings).
    #[inline]
    fn is(&self, key: usize, words: &Words, s: &[u8]) -> bool {
        words.len <= EXACT || self.value(key) == s
    }

    /// The key of `s`, added when not found (inlined: called once a row, a call costs
    /// about as much as the probe). Values past 2 GiB are not added: `overflow`.
    #[inline(always)]
    fn key(&mut self, s: &[u8], words: &Words) -> usize {
        let mask = self.slots.len() - 1;
        let start = (words.hash() >> self.shift) as usize;
        let mut empty = None;
        for probe in 0..PROBES {
            let at = (start + probe) & mask;
            let slot = &self.slots[at];
            if slot.key == 0 {
                empty = Some(at);
                break;
            }
            let key = slot.key as usize - 1;
            if slot.words.same(words) && self.is(key, words, s) {
                return key;
            }
        }
        self.add(s, words, empty)
    }

    /// Adds `s` as a new value, in table slot `empty` when there is one; its key.
    #[inline(never)]
    fn add(&mut self, s: &[u8], words: &Words, empty: Option<usize>) -> usize {
        let key = self.len();
        let Ok(end) = i32::try_from(self.bytes.len() + s.len()) else {
            self.overflow = true;
            return 0;
        };
        self.bytes.extend_from_slice(s);
        self.offsets.push(end);
        if let Some(at) = empty {
            self.slots[at] = Slot {
                key: key as u32 + 1,
                words: *words,
            };
            if self.len() * 2 > self.slots.len() && self.slots.len() < MOST_SLOTS {
                self.grow();
            }
        }
        key
    }

    /// An error when a value could not be added.
    fn check(&self) -> Result<(), ArrowError> {
        match self.overflow {
            false => Ok(()),
            true => Err(ArrowError::ComputeError(
                "dictionary values too large".into(),
            )),
        }
    }

    /// Twice the slots, every value placed again (a value that finds no slot within
    /// [`PROBES`] is left out of the table: it stays a value, found no more).
    fn grow(&mut self) {
        self.slots = vec![Slot::default(); self.slots.len() * 2];
        self.shift = 64 - self.slots.len().trailing_zeros();
        let mask = self.slots.len() - 1;
        for i in 0..self.len() {
            let words = Words::of(self.value(i));
            let start = (words.hash() >> self.shift) as usize;
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
}

/// How many distinct strings the string columns `parts` hold (a string made to collide
/// with others past [`PROBES`] may count more than once), and how many rows hold one;
/// `None` for columns of other than strings.
pub(super) fn distinct(parts: &[&dyn Array]) -> Option<(usize, usize)> {
    let mut values = Values::new();
    let mut rows = 0;
    let mut last: Option<Words> = None;
    let same_as_last = |last: &Option<Words>, words: &Words| last.is_some_and(|l| l.same(words));
    for part in parts {
        let strings = part.as_string_opt::<i32>()?;
        let valid = strings.nulls().filter(|n| n.null_count() > 0);
        rows += strings.len() - strings.null_count();
        for (row, s) in strings.value_offsets().windows(2).enumerate() {
            if valid.is_some_and(|n| n.is_null(row)) {
                continue;
            }
            let s = &strings.values()[s[0] as usize..s[1] as usize];
            let words = Words::of(s);
            // Equal words of strings up to `EXACT` bytes are equal strings: not looked up
            // again.
            if same_as_last(&last, &words) && words.len <= EXACT {
                continue;
            }
            last = Some(words);
            values.key(s, &words);
        }
    }
    values.check().ok()?;
    Some((values.len(), rows))
}

/// The key of `s`, looked up (inlined: called once a row).
#[inline(always)]
fn key_of(values: &mut Values, s: &[u8]) -> usize {
    let words = Words::of(s);
    values.key(s, &words)
}

/// String columns (`parts`, one after the other, `rows` in all) as one dictionary column
/// with `key` keys (`Int8`, `Int16` or `Int32`); a null row is a null key. `None` when
/// the strings have more distinct values than `key` can number.
pub(super) fn encode(
    parts: &[&dyn Array],
    rows: usize,
    key: &DataType,
) -> Result<Option<ArrayRef>, ArrowError> {
    match key {
        DataType::Int8 => encode_as::<Int8Type>(parts, rows, 1 << 7),
        DataType::Int16 => encode_as::<Int16Type>(parts, rows, 1 << 15),
        DataType::Int32 => encode_as::<Int32Type>(parts, rows, i32::MAX as usize),
        other => Err(ArrowError::CastError(format!(
            "dictionary keys of type {other}"
        ))),
    }
}

/// [`encode`] with keys of type `K`, which number `most` values. Each key is written in
/// `K` as it is found (wrapping past `most`, when the column is then not returned).
fn encode_as<K: ArrowDictionaryKeyType>(
    parts: &[&dyn Array],
    rows: usize,
    most: usize,
) -> Result<Option<ArrayRef>, ArrowError> {
    let mut values = Values::new();
    let mut keys: Vec<K::Native> = Vec::with_capacity(rows);
    for part in parts {
        let strings = part
            .as_string_opt::<i32>()
            .ok_or_else(|| ArrowError::CastError("a dictionary column of non-strings".into()))?;
        let valid = strings
            .nulls()
            .filter(|n| n.null_count() > 0)
            .map(|n| n.inner());
        // The buffers as slices once, not per row.
        let (offsets, bytes): (&[i32], &[u8]) = (strings.value_offsets(), strings.values());
        let value = |w: &[i32]| &bytes[w[0] as usize..w[1] as usize];
        match valid {
            None => keys.extend(
                offsets
                    .windows(2)
                    .map(|w| K::Native::usize_as(key_of(&mut values, value(w)))),
            ),
            Some(valid) => {
                for (w, is_valid) in offsets.windows(2).zip(valid.iter()) {
                    // A null row's key is not read (its slice may hold a string: an
                    // `.other` column's integers, left out).
                    let k = match is_valid {
                        true => key_of(&mut values, value(w)),
                        false => 0,
                    };
                    keys.push(K::Native::usize_as(k));
                }
            }
        }
    }
    values.check()?;
    if values.len() > most {
        return Ok(None);
    }
    let validity = super::narrow::concat_nulls(parts, rows);
    let Values { bytes, offsets, .. } = values;
    let offsets = OffsetBuffer::new(offsets.into());
    // SAFETY: the offsets start at 0 and grow (each value's end pushed after its bytes),
    // and the bytes are whole strings of string arrays, so valid UTF-8 at every offset.
    let strings: ArrayRef =
        Arc::new(unsafe { StringArray::new_unchecked(offsets, bytes.into(), None) });
    let keys = PrimitiveArray::<K>::new(ScalarBuffer::from(keys), validity);
    // SAFETY: every key is below the number of values (a value's index, which `most`
    // bounds so that `K` holds it), or 0 in a null row: `try_new` would accept them.
    Ok(Some(Arc::new(unsafe {
        DictionaryArray::<K>::new_unchecked(keys, strings)
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(column: &ArrayRef) -> Vec<Option<String>> {
        let dict = column.as_any_dictionary();
        let plain = arrow_select::take::take(dict.values(), dict.keys(), None).unwrap();
        plain
            .as_string::<i32>()
            .iter()
            .map(|s| s.map(String::from))
            .collect()
    }

    fn encode(parts: &[&dyn Array], rows: usize) -> Result<ArrayRef, ArrowError> {
        Ok(super::encode(parts, rows, &DataType::Int32)?.unwrap())
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
        assert_eq!(column.as_any_dictionary().values().len(), 3);
    }

    #[test]
    fn keys_take_the_type_asked_for_and_none_when_the_values_do_not_fit_it() {
        let rows: Vec<String> = (0..600).map(|i| format!("/r{}", i % 200)).collect();
        let column = StringArray::from(rows.clone());
        let want: Vec<Option<String>> = rows.into_iter().map(Some).collect();
        for key in [DataType::Int16, DataType::Int32] {
            let encoded = super::encode(&[&column], 600, &key).unwrap().unwrap();
            let dict = encoded.as_any_dictionary();
            assert_eq!(dict.keys().data_type(), &key);
            assert_eq!(dict.values().len(), 200);
            assert_eq!(decoded(&encoded), want);
        }
        // 200 distinct values: more than `Int8` keys number.
        assert!(
            super::encode(&[&column], 600, &DataType::Int8)
                .unwrap()
                .is_none()
        );
        let few = StringArray::from(vec![Some("GET"), None, Some("GET"), Some("POST")]);
        let encoded = super::encode(&[&few], 4, &DataType::Int8).unwrap().unwrap();
        assert_eq!(
            encoded.as_any_dictionary().keys().data_type(),
            &DataType::Int8
        );
        assert_eq!(
            decoded(&encoded),
            [Some("GET"), None, Some("GET"), Some("POST")].map(|s| s.map(String::from))
        );
    }

    #[test]
    fn strings_that_share_their_first_and_last_eight_bytes_stay_apart() {
        // Longer than 16 bytes: equal words, different middles, rows one after the other.
        let rows = [
            "GET /api/v1/orders/{id}/items/list",
            "GET /api/v2/orders/{id}/items/list",
            "GET /api/v1/orders/{id}/items/list",
            "GET /api/v2/orders/{id}/items/list",
            "GET /api/v1/carts/{id}/items/list",
        ];
        let column = encode(&[&StringArray::from(rows.to_vec())], rows.len()).unwrap();
        let want: Vec<Option<String>> = rows.iter().map(|s| Some(s.to_string())).collect();
        assert_eq!(decoded(&column), want);
        assert_eq!(column.as_any_dictionary().values().len(), 3);
    }

    #[test]
    fn long_strings_differing_in_any_one_middle_byte_stay_apart() {
        // From 17 to 40 bytes (up to 32 told apart by their words alone, beyond by the
        // values' bytes), each middle byte changed in turn, every variant after its base
        // and after each other: keys against the plain comparison.
        for n in 17..=40usize {
            let base: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            let mut rows = vec![base.clone()];
            for at in 8..n - 8 {
                let mut v = base.clone().into_bytes();
                v[at] = b'#';
                rows.push(String::from_utf8(v).unwrap());
                rows.push(base.clone());
            }
            let column = encode(&[&StringArray::from(rows.clone())], rows.len()).unwrap();
            let want: Vec<Option<String>> = rows.into_iter().map(Some).collect();
            assert_eq!(decoded(&column), want, "{n} bytes");
            assert_eq!(column.as_any_dictionary().values().len(), n - 16 + 1);
        }
    }

    #[test]
    fn distinct_strings_are_counted_once_and_null_rows_not_at_all() {
        let a = StringArray::from(vec![Some("GET"), None, Some("GET"), Some("POST")]);
        let b = StringArray::from(vec![Some("PUT"), Some("GET"), None]);
        assert_eq!(distinct(&[&a, &b]), Some((3, 5)));
        let ints = arrow_array::Int64Array::from(vec![1]);
        assert_eq!(distinct(&[&ints]), None);
    }

    #[test]
    fn the_strings_of_null_rows_are_not_values() {
        // An `.other` column without its integers' rows: their strings are still in the
        // buffers, behind null rows.
        let all = StringArray::from(vec!["200", "404.5", "200", "true"]);
        let (offsets, bytes, _) = all.into_parts();
        let valid = arrow_buffer::NullBuffer::from(vec![false, true, false, true]);
        let masked = StringArray::new(offsets, bytes, Some(valid));
        let column = encode(&[&masked], 4).unwrap();
        assert_eq!(
            decoded(&column),
            [None, Some("404.5"), None, Some("true")].map(|s| s.map(String::from))
        );
        assert_eq!(column.as_any_dictionary().values().len(), 2);
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
        assert!(column.as_any_dictionary().values().len() <= 20_000);
    }

    /// The words of a string as bytes folded one at a time: what [`Words::of`] reads in
    /// whole words.
    fn folded(s: &[u8]) -> u64 {
        s.iter()
            .enumerate()
            .fold(0, |w, (i, byte)| w | u64::from(*byte) << (8 * i))
    }

    #[test]
    fn a_strings_words_are_its_bytes_at_every_length() {
        let bytes: Vec<u8> = (0..64u32).map(|i| (i * 37 + 11) as u8 | 0x80).collect();
        for n in 0..=40 {
            for start in 0..8 {
                let s = &bytes[start..start + n];
                let words = Words::of(s);
                assert_eq!(words.len, n);
                let (first, last, mid) = match n {
                    0..=8 => (folded(s), 0, [0; 2]),
                    9..=16 | 33.. => (folded(&s[..8]), folded(&s[n - 8..]), [0; 2]),
                    _ => (
                        folded(&s[..8]),
                        folded(&s[n - 8..]),
                        [folded(&s[8..16]), folded(&s[n - 16..n - 8])],
                    ),
                };
                let got = (words.first, words.last, words.mid);
                assert_eq!(got, (first, last, mid), "{n} bytes");
            }
        }
    }

    #[test]
    fn keys_and_values_are_those_of_arrows_dictionary_builder() {
        // Strings of every length up to 40 bytes, repeated, with nulls, in three parts:
        // the keys number the values in the order they first come, as Arrow's builder does.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        let pool: Vec<String> = (0..90)
            .map(|i| {
                let n = i % 41;
                (0..n)
                    .map(|j| char::from(b'a' + ((i * 7 + j * 3) % 26) as u8))
                    .collect()
            })
            .collect();
        let parts: Vec<StringArray> = [700, 1, 300]
            .iter()
            .map(|rows| {
                (0..*rows)
                    .map(|_| match next() % 10 {
                        0 => None,
                        r => Some(pool[(next() as usize + r as usize) % pool.len()].clone()),
                    })
                    .collect()
            })
            .collect();
        let refs: Vec<&dyn Array> = parts.iter().map(|p| p as &dyn Array).collect();
        let rows = 1001;
        let mut builder = arrow_array::builder::StringDictionaryBuilder::<Int16Type>::new();
        for part in &parts {
            for s in part.iter() {
                builder.append_option(s);
            }
        }
        let want = builder.finish();
        let got = super::encode(&refs, rows, &DataType::Int16)
            .unwrap()
            .unwrap();
        let got = got.as_dictionary::<Int16Type>();
        assert_eq!(got.values().as_ref(), want.values().as_ref());
        assert_eq!(got.keys().nulls(), want.keys().nulls());
        for row in 0..rows {
            if got.keys().is_valid(row) {
                assert_eq!(got.keys().value(row), want.keys().value(row), "row {row}");
            }
        }
    }

    #[test]
    fn short_strings_differing_in_their_last_byte_are_each_found_again() {
        // Eight bytes each, differing in the eighth only: their words differ in the top
        // byte, which the table's slot number must depend on (they all probed from one
        // slot, and the ninth was never found, so added again at each of its rows).
        let rows: Vec<String> = (0..400).map(|i| format!("/items/{}", i % 20)).collect();
        let column = StringArray::from(rows.clone());
        assert_eq!(distinct(&[&column]), Some((20, 400)));
        let encoded = encode(&[&column], 400).unwrap();
        assert_eq!(encoded.as_any_dictionary().values().len(), 20);
        let want: Vec<Option<String>> = rows.into_iter().map(Some).collect();
        assert_eq!(decoded(&encoded), want);
    }

    #[test]
    fn many_distinct_strings_grow_the_table() {
        let many: Vec<String> = (0..50_000).map(|i| format!("/users/{i}")).collect();
        let column = encode(&[&StringArray::from(many.clone())], many.len()).unwrap();
        let want: Vec<Option<String>> = many.into_iter().map(Some).collect();
        assert_eq!(decoded(&column), want);
    }
}
