//! A request's string column numbered as its values are appended: each distinct value gets
//! a number (a byte) the first time the request brings it, and each row the number of its
//! value ([`Numbered`]). A capture file writes such columns as dictionaries; with the
//! numbers, its writer looks up only a request's few distinct values (the rows of their
//! first occurrences) instead of hashing every row (`slo::capture::dictionary`).
//!
//! A value is looked up in a small open table of the numbers so far, by the value's
//! [`Words`]: its length and the words that cover it (up to 32 bytes, which tell strings
//! apart without reading their bytes; a longer value's bytes are compared with its first
//! occurrence's). The work is bounded: past [`MOST`] distinct values, or a value not found
//! within [`PROBES`] slots of a full stretch of the table, the column is not numbered
//! (the writer reads its rows as before).

use std::sync::Arc;

/// The row key of a row without a value (a null row of an attribute's `.str` column).
pub const PAD: u8 = u8::MAX;

/// The most distinct values a request's column numbers (numbers `0..MOST`, below [`PAD`]).
pub const MOST: usize = 254;

/// The table's slots (a power of two, four times [`MOST`] and more: it never fills past a
/// quarter, so that the values of a request are found within a few probes).
const SLOTS: usize = 1024;
const SLOT_BITS: u32 = SLOTS.trailing_zeros();

/// Slots looked at for a value before the column gives up its numbering.
const PROBES: usize = 32;

/// The longest string its [`Words`] identify entirely.
pub(crate) const EXACT: usize = 32;

/// A request's string column, numbered: each row's number and where each number's value
/// first comes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Numbered {
    /// Each row's number: its value's, the values numbered in the order they first come;
    /// [`PAD`] in a row without a value (null).
    pub keys: Vec<u8>,
    /// The row each number's value first comes in (increasing).
    pub firsts: Vec<u32>,
}

/// The numbered string columns of one request's facts, by column index, shared with its
/// copies (a capture keeps them beside the batch).
#[derive(Debug, Clone, Default)]
pub struct Numberings(Vec<(usize, Arc<Numbered>)>);

impl Numberings {
    pub(super) fn add(&mut self, column: usize, numbered: Numbered) {
        self.0.push((column, Arc::new(numbered)));
    }

    /// The numbers of column `column`, when it was numbered.
    pub fn get(&self, column: usize) -> Option<&Numbered> {
        self.0
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, n)| n.as_ref())
    }
}

/// What identifies a string of up to [`EXACT`] bytes entirely, and most longer ones: its
/// length, its first and last eight bytes (a string of up to eight in `first` alone) and,
/// of one of 17 to 32 bytes, the eight after its first eight and the eight before its last
/// eight (`mid`), which with those cover it. Equal words of strings up to 32 bytes long are
/// equal strings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Words {
    pub(crate) len: usize,
    pub(crate) first: u64,
    pub(crate) last: u64,
    pub(crate) mid: [u64; 2],
}

impl Words {
    #[inline(always)]
    pub(crate) fn of(s: &[u8]) -> Self {
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
    pub(crate) fn same(&self, other: &Words) -> bool {
        ((self.len as u64 ^ other.len as u64)
            | (self.first ^ other.first)
            | (self.last ^ other.last)
            | (self.mid[0] ^ other.mid[0])
            | (self.mid[1] ^ other.mid[1]))
            == 0
    }

    /// A hash of every word (strings of 17 to 32 bytes that differ only in their middle,
    /// routes of one length and prefix, hash apart).
    #[inline(always)]
    fn hash_all(&self) -> u64 {
        (self.first
            ^ self.last.rotate_left(29)
            ^ self.mid[0].rotate_left(13)
            ^ self.mid[1].rotate_left(43)
            ^ self.len as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    #[inline(always)]
    pub(crate) fn hash(&self) -> u64 {
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

/// Numbers a column's values as they are appended ([`Numberer::number`]); owned by the
/// column, which hands it its values and their rows.
#[derive(Debug)]
pub(super) struct Numberer {
    numbered: Numbered,
    /// Each number's value's words.
    words: Vec<Words>,
    /// Number + 1 of the values placed in each slot, 0 when empty.
    slots: Box<[u8; SLOTS]>,
}

impl Numberer {
    /// A numberer for a column of about `rows` rows.
    pub(super) fn new(rows: usize) -> Self {
        Numberer {
            numbered: Numbered {
                keys: Vec::with_capacity(rows),
                firsts: Vec::with_capacity(16),
            },
            words: Vec::with_capacity(16),
            slots: Box::new([0; SLOTS]),
        }
    }

    /// Rows without a value up to `rows` rows.
    #[inline]
    pub(super) fn pad(&mut self, rows: usize) {
        if rows > self.numbered.keys.len() {
            self.numbered.keys.resize(rows, PAD);
        }
    }

    /// Numbers `s`, the value of the next row; `value(row)` is the value of an earlier row
    /// (compared only for values longer than [`EXACT`] bytes). `false` when the column can
    /// no longer be numbered (more than [`MOST`] distinct values, or a full stretch of the
    /// table): the numbers so far are then of no use.
    #[inline(always)]
    pub(super) fn number<'v>(&mut self, s: &[u8], value: impl Fn(usize) -> &'v [u8]) -> bool {
        let words = Words::of(s);
        let same = |w: &Words, key: u8, firsts: &[u32]| {
            w.same(&words)
                && (words.len <= EXACT
                    || firsts
                        .get(usize::from(key))
                        .is_some_and(|row| value(*row as usize) == s))
        };
        // Not compared with the row before first: in traffic whose operations come
        // mixed that is a comparison more for most rows, and a branch mispredicted.
        match self.find(&words, same) {
            Some(key) => {
                self.numbered.keys.push(key);
                true
            }
            None => false,
        }
    }

    /// The number of the value whose words are `words` (`same` tells whether a number's
    /// value is it), a new one when it is not found; `None` past the bounds (inlined:
    /// called once a row, and a call costs about as much as the first probe).
    #[inline(always)]
    fn find(&mut self, words: &Words, same: impl Fn(&Words, u8, &[u32]) -> bool) -> Option<u8> {
        // The product's top bits: its best mixed.
        let start = (words.hash_all() >> (64 - SLOT_BITS)) as usize;
        for probe in 0..PROBES {
            let at = (start + probe) & (SLOTS - 1);
            match self.slots[at] {
                0 => return self.add(at, words),
                slot => {
                    let key = slot - 1;
                    if same(&self.words[usize::from(key)], key, &self.numbered.firsts) {
                        return Some(key);
                    }
                }
            }
        }
        None
    }

    /// A new number for the value of the next row, whose words are `words`, placed in
    /// slot `at`; `None` past [`MOST`] values or rows past `u32`.
    #[cold]
    #[inline(never)]
    fn add(&mut self, at: usize, words: &Words) -> Option<u8> {
        let key = self.numbered.firsts.len();
        let row = u32::try_from(self.numbered.keys.len()).ok()?;
        if key >= MOST {
            return None;
        }
        self.numbered.firsts.push(row);
        self.words.push(*words);
        // `key < MOST < 255`: `key + 1` is a byte.
        self.slots[at] = key as u8 + 1;
        Some(key as u8)
    }

    /// The numbers of a column of `rows` rows (the rows past those numbered without a
    /// value); `None` when more rows were numbered.
    pub(super) fn finish(mut self, rows: usize) -> Option<Numbered> {
        self.pad(rows);
        (self.numbered.keys.len() == rows).then_some(self.numbered)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Numbers `rows` (`None`: a row without a value) the plain way: a map from each value
    /// to the order it first came in.
    fn plain(rows: &[Option<&[u8]>]) -> Option<Numbered> {
        let mut seen: HashMap<&[u8], u8> = HashMap::new();
        let mut numbered = Numbered::default();
        for (row, value) in rows.iter().enumerate() {
            let key = match value {
                None => PAD,
                Some(v) => match seen.get(v) {
                    Some(k) => *k,
                    None => {
                        if seen.len() == MOST {
                            return None;
                        }
                        let k = seen.len() as u8;
                        seen.insert(v, k);
                        numbered.firsts.push(row as u32);
                        k
                    }
                },
            };
            numbered.keys.push(key);
        }
        Some(numbered)
    }

    /// Numbers `rows` with a [`Numberer`], the column's values kept beside it.
    fn walked(rows: &[Option<&[u8]>]) -> Option<Numbered> {
        let mut n = Numberer::new(rows.len());
        let mut values: Vec<&[u8]> = Vec::new();
        for (row, value) in rows.iter().enumerate() {
            match value {
                None => {
                    values.push(b"");
                    n.pad(row + 1);
                }
                Some(v) => {
                    values.push(v);
                    let earlier = &values;
                    if !n.number(v, |r| earlier[r]) {
                        return None;
                    }
                }
            }
        }
        n.finish(rows.len())
    }

    fn check(rows: &[Option<&[u8]>]) {
        assert_eq!(walked(rows), plain(rows), "{rows:?}");
    }

    #[test]
    fn no_rows_and_rows_without_values() {
        check(&[]);
        check(&[None]);
        check(&[None, None, None]);
        assert_eq!(Numberer::new(0).finish(3).unwrap().keys, [PAD; 3]);
    }

    #[test]
    fn empty_strings_are_a_value_apart_from_rows_without_one() {
        check(&[Some(b""), None, Some(b""), Some(b"a"), None, Some(b"")]);
        check(&[None, Some(b""), Some(b"\0"), Some(b"\0\0"), Some(b"")]);
    }

    #[test]
    fn values_that_differ_only_in_their_last_byte_stay_apart() {
        for n in 1..=80usize {
            let base: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            let mut other = base.clone();
            other[n - 1] ^= 1;
            let mut first = base.clone();
            first[0] ^= 1;
            let mut middle = base.clone();
            middle[n / 2] ^= 2;
            let rows: Vec<Option<&[u8]>> = [&base, &other, &base, &first, &middle, &other, &base]
                .iter()
                .map(|v| Some(v.as_slice()))
                .collect();
            check(&rows);
            let numbered = walked(&rows).unwrap();
            let distinct = [&base, &other, &first, &middle]
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len();
            assert_eq!(numbered.firsts.len(), distinct, "{n} bytes");
        }
    }

    #[test]
    fn long_values_differing_in_any_middle_byte_stay_apart() {
        for n in 17..=48usize {
            let base: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            let variants: Vec<Vec<u8>> = (8..n - 8)
                .map(|at| {
                    let mut v = base.clone();
                    v[at] = b'#';
                    v
                })
                .collect();
            let mut rows: Vec<Option<&[u8]>> = vec![Some(&base)];
            for v in &variants {
                rows.push(Some(v));
                rows.push(Some(&base));
                rows.push(Some(v));
            }
            // Up to `EXACT` bytes the middle words are hashed; longer values that differ
            // only there share a hash, and past `PROBES` of them the column is not numbered.
            match (walked(&rows), n <= EXACT || variants.len() < PROBES) {
                (got, true) => assert_eq!(got, plain(&rows), "{n} bytes"),
                (got, false) => assert!(got.is_none() || got == plain(&rows), "{n} bytes"),
            }
        }
    }

    #[test]
    fn more_distinct_values_than_numbered_give_up() {
        let values: Vec<String> = (0..MOST + 1).map(|i| format!("/route/{i}")).collect();
        let rows: Vec<Option<&[u8]>> = values.iter().map(|v| Some(v.as_bytes())).collect();
        check(&rows[..MOST]);
        assert!(walked(&rows[..MOST]).is_some());
        assert_eq!(walked(&rows), None);
        // Repeated, the first `MOST` still number.
        let again: Vec<Option<&[u8]>> = rows[..MOST].iter().chain(&rows[..MOST]).copied().collect();
        check(&again);
    }

    #[test]
    fn values_made_to_collide_are_bounded_and_exact() {
        // The same length and first and last eight bytes: one hash for all of them, longer
        // than `EXACT` (their bytes compared).
        let values: Vec<String> = (0..40)
            .map(|i| format!("aaaaaaaa{i:030}zzzzzzzz"))
            .collect();
        let rows: Vec<Option<&[u8]>> = values
            .iter()
            .cycle()
            .take(120)
            .map(|v| Some(v.as_bytes()))
            .collect();
        // Past `PROBES` slots of one stretch the column gives up; up to it, exact.
        assert_eq!(walked(&rows), None);
        check(&rows[..PROBES]);
        let few: Vec<Option<&[u8]>> = rows[..PROBES].iter().cycle().take(64).copied().collect();
        check(&few);
    }

    #[test]
    fn random_rows_against_the_plain_numbering() {
        let mut seed = 11u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let pool: Vec<Vec<u8>> = (0..300)
            .map(|i| {
                (0..i % 45)
                    .map(|j| b'a' + ((i * 7 + j * 3) % 26) as u8)
                    .collect()
            })
            .collect();
        for case in 0..200 {
            let rows_n = next() % 600;
            let distinct = 1 + next() % [4, 30, 200, 300][case % 4];
            let rows: Vec<Option<&[u8]>> = (0..rows_n)
                .map(|_| match next() % 8 {
                    0 => None,
                    _ => Some(pool[next() % distinct].as_slice()),
                })
                .collect();
            check(&rows);
        }
    }

    /// A string's words at every length, against its bytes folded one at a time.
    #[test]
    fn a_strings_words_are_its_bytes_at_every_length() {
        let folded = |s: &[u8]| {
            s.iter()
                .enumerate()
                .fold(0u64, |w, (i, byte)| w | u64::from(*byte) << (8 * i))
        };
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
}
