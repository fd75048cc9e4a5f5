//! Sixteen bytes at a time: where the next byte is that the scan pass (`scan.rs`) or
//! the JSON string scanner (`json.rs`) must look at.
//!
//! Each test classifies a 16-byte block into a bit mask (bit `j` for byte `j`), so a
//! caller skips a block with nothing in it in one step and walks the bits of the others
//! without a branch per byte. On x86_64 the masks come from SSE2, which every x86_64
//! CPU has; elsewhere from the same tests written byte by byte. A unit test checks that
//! both give the same masks.

/// Bytes per block.
pub(crate) const BLOCK: usize = 16;

/// The masks of one block for the scan pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ScanMask {
    /// `@ : < = - _` and a line feed: looked at wherever they are.
    pub always: u32,
    /// A digit, a capital, one of `e g x b v`, or two small letters and two digits (a
    /// lower-case IBAN; near the block's end, where the next bytes are not seen, any
    /// small letter): looked at only where a word starts (a digit after a word byte
    /// starts no numeric match, and a run of digits is looked at from its first one).
    pub starter: u32,
    /// `[0-9A-Za-z_]`, what an ASCII `\b` calls a word byte.
    pub word: u32,
    /// Bits 0–15: `%` or `+` (where the percent decoder starts); bits 16–31: `&` or
    /// `0xEF` (where the markup decoder starts: a character reference, a full-width form).
    pub escape: u32,
}

/// Bits of [`ScanMask::escape`]: a `%` or `+` in the block.
pub(crate) const PERCENT_BYTES: u32 = 0xffff;
/// Bits of [`ScanMask::escape`]: a `&` or `0xEF` in the block.
pub(crate) const MARKUP_BYTES: u32 = 0xffff_0000;

impl ScanMask {
    /// The bytes to look at, given whether the byte before the block is a word byte.
    pub(crate) fn wanted(self, word_before: bool) -> u32 {
        let word_prev = (self.word << 1) | u32::from(word_before);
        self.always | (self.starter & !word_prev & 0xffff)
    }
}

/// Bit `j` set when bytes `j`, `j + 1` are small letters and `j + 2`, `j + 3` digits (a
/// lower-case IBAN's start), given the masks of small letters and digits; the bytes past
/// the block count as both, so the test stays a superset at its end.
fn lower_iban(lower: u32, digit: u32) -> u32 {
    lower & ((lower >> 1) | 0x8000) & ((digit >> 2) | 0xc000) & ((digit >> 3) | 0xe000)
}

/// The scan masks of `block`.
#[inline(always)]
pub(crate) fn scan_mask(block: &[u8; BLOCK]) -> ScanMask {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::scan_mask(block)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scalar_scan_mask(block)
    }
}

/// Bit `j` set when `block[j]` ends or interrupts a JSON string's plain run: `"`, `\`
/// or a control character (below 0x20).
pub(crate) fn string_mask(block: &[u8; BLOCK]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::string_mask(block)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scalar_string_mask(block)
    }
}

/// Bit `j` set when `block[j]` is a space or a tab (the marked-value pass, `marked.rs`).
pub(crate) fn blank_mask(block: &[u8; BLOCK]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::blank_mask(block)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scalar_blank_mask(block)
    }
}

/// A block holding `b[i]` and where it starts: `b[i..i + 16]`; near the end, the last
/// 16 bytes of `b` (starting before `i`, so callers drop the bits before `i`); in a
/// string shorter than a block, `b` zero-padded (a zero byte is neither wanted by the
/// scan nor plain in a string).
#[inline(always)]
pub(crate) fn block_from(b: &[u8], i: usize) -> (usize, [u8; BLOCK]) {
    let mut block = [0u8; BLOCK];
    if let Some(full) = b.get(i..i + BLOCK) {
        block.copy_from_slice(full);
        return (i, block);
    }
    match b.len().checked_sub(BLOCK) {
        Some(last) => {
            block.copy_from_slice(&b[last..]);
            (last.min(i), block)
        }
        None => {
            block[..b.len()].copy_from_slice(b);
            (0, block)
        }
    }
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn scalar_scan_mask(block: &[u8; BLOCK]) -> ScanMask {
    let mut m = ScanMask {
        always: 0,
        starter: 0,
        word: 0,
        escape: 0,
    };
    let (mut lower, mut digit) = (0, 0);
    for (j, &c) in block.iter().enumerate() {
        lower |= u32::from(c.is_ascii_lowercase()) << j;
        digit |= u32::from(c.is_ascii_digit()) << j;
        let bit = 1u32 << j;
        if matches!(c, b'%' | b'+') {
            m.escape |= bit;
        }
        if matches!(c, b'&' | 0xef) {
            m.escape |= bit << 16;
        }
        if matches!(c, b'@' | b':' | b'<' | b'=' | b'-' | b'_' | b'\n') {
            m.always |= bit;
        }
        if c.is_ascii_alphanumeric()
            && (!c.is_ascii_lowercase() || matches!(c, b'e' | b'g' | b'x' | b'b' | b'v'))
        {
            m.starter |= bit;
        }
        if is_word(c) {
            m.word |= bit;
        }
    }
    m.starter |= lower_iban(lower, digit);
    m
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn scalar_string_mask(block: &[u8; BLOCK]) -> u32 {
    block
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, b'"' | b'\\') || **c < 0x20)
        .fold(0, |m, (j, _)| m | 1 << j)
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn scalar_blank_mask(block: &[u8; BLOCK]) -> u32 {
    block
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, b' ' | b'\t'))
        .fold(0, |m, (j, _)| m | 1 << j)
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8,
    };

    use super::{BLOCK, ScanMask, lower_iban};

    // SAFETY (every `unsafe` block below): SSE2 is part of the x86_64 baseline, so the
    // intrinsics are available on every CPU this code can run on (`target_arch =
    // "x86_64"` is the only cfg that compiles this module). They only compute on
    // registers, except `_mm_loadu_si128`, which reads exactly 16 bytes through a
    // pointer to a `[u8; 16]` (in bounds, and unaligned loads are allowed).

    fn load(block: &[u8; BLOCK]) -> __m128i {
        // SAFETY: see above; `block` is 16 readable bytes.
        unsafe { _mm_loadu_si128(block.as_ptr().cast()) }
    }

    fn splat(c: u8) -> __m128i {
        // SAFETY: see above.
        unsafe { _mm_set1_epi8(c as i8) }
    }

    fn eq(v: __m128i, c: u8) -> __m128i {
        // SAFETY: see above.
        unsafe { _mm_cmpeq_epi8(v, splat(c)) }
    }

    fn or(a: __m128i, b: __m128i) -> __m128i {
        // SAFETY: see above.
        unsafe { _mm_or_si128(a, b) }
    }

    fn bits(v: __m128i) -> u32 {
        // SAFETY: see above. The mask has 16 bits, so the cast keeps them all.
        unsafe { _mm_movemask_epi8(v) as u32 }
    }

    /// Bytes in `lo..lo + n` (`n` ≤ 128): shifted so the range starts at -128, then
    /// one signed compare.
    fn in_range(v: __m128i, lo: u8, n: u8) -> __m128i {
        // SAFETY: see above.
        unsafe {
            let shifted = _mm_add_epi8(v, splat(0x80u8.wrapping_sub(lo)));
            _mm_cmplt_epi8(shifted, splat(0x80u8.wrapping_add(n)))
        }
    }

    #[inline(always)]
    pub(super) fn scan_mask(block: &[u8; BLOCK]) -> ScanMask {
        let v = load(block);
        let digit = in_range(v, b'0', 10);
        let upper = in_range(v, b'A', 26);
        let lower = in_range(v, b'a', 26);
        let punct = or(
            or(eq(v, b'@'), eq(v, b':')),
            // `<` and `=` (0x3C, 0x3D) in one compare.
            or(
                or(in_range(v, b'<', 2), eq(v, b'-')),
                or(eq(v, b'_'), eq(v, b'\n')),
            ),
        );
        let lit = or(
            or(eq(v, b'e'), eq(v, b'g')),
            or(or(eq(v, b'x'), eq(v, b'b')), eq(v, b'v')),
        );
        let percent = or(eq(v, b'%'), eq(v, b'+'));
        let markup = or(eq(v, b'&'), eq(v, 0xef));
        ScanMask {
            always: bits(punct),
            starter: bits(or(or(upper, lit), digit)) | lower_iban(bits(lower), bits(digit)),
            word: bits(or(or(digit, upper), or(lower, eq(v, b'_')))),
            escape: bits(percent) | bits(markup) << 16,
        }
    }

    pub(super) fn blank_mask(block: &[u8; BLOCK]) -> u32 {
        let v = load(block);
        bits(or(eq(v, b' '), eq(v, b'\t')))
    }

    pub(super) fn string_mask(block: &[u8; BLOCK]) -> u32 {
        let v = load(block);
        let special = or(eq(v, b'"'), eq(v, b'\\'));
        bits(or(special, in_range(v, 0, 0x20)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_and_scalar_masks_agree() {
        // Every byte value at every position, next to a few neighbours.
        for c in 0..=255u8 {
            for j in 0..BLOCK {
                for fill in [b'a', b' ', b'0', b'_', b'"', 0x80] {
                    let mut block = [fill; BLOCK];
                    block[j] = c;
                    assert_eq!(scan_mask(&block), scalar_scan_mask(&block), "{c} at {j}");
                    assert_eq!(
                        string_mask(&block),
                        scalar_string_mask(&block),
                        "{c} at {j}"
                    );
                    assert_eq!(blank_mask(&block), scalar_blank_mask(&block), "{c} at {j}");
                }
            }
        }
    }

    #[test]
    fn wanted_needs_a_word_start_for_starters() {
        let m = scan_mask(b"ab eg Xy 12:x@-=");
        // `a` (no starter), `b` after a word byte, `e` at a word start, `g` after `e`,
        // `X` at a word start, `1` but not `2`, `:`, `x` after `:`, `@`, `-`, `=`.
        let want: u32 = [3, 6, 9, 11, 12, 13, 14, 15]
            .iter()
            .fold(0, |m, j| m | 1 << j);
        assert_eq!(m.wanted(false), want);
        // Digits only at a word start: `b`, `_`, `4`, `6` after `+`, `7` after `.`.
        assert_eq!(
            scan_mask(b"a1 b2_3 4d5+6.78").wanted(false),
            0b0101_0001_0010_1000
        );
        assert_eq!(scan_mask(b"bbbbbbbbbbbbbbbb").wanted(true), 0);
        assert_eq!(scan_mask(b"bbbbbbbbbbbbbbbb").wanted(false), 1);
    }

    /// The rule the masks stand for, read on the string: a lower-case IBAN starts at `i`
    /// when `b[i..i + 4]` is two small letters and two digits.
    fn lower_iban_at(b: &[u8], i: usize) -> bool {
        b.get(i..i + 4).is_some_and(|w| {
            w[0].is_ascii_lowercase()
                && w[1].is_ascii_lowercase()
                && w[2].is_ascii_digit()
                && w[3].is_ascii_digit()
        })
    }

    #[test]
    fn block_masks_are_the_rules_read_on_the_string() {
        // Random strings of small letters, digits, capitals, the decoders' bytes and
        // others, every length around a block's, at every block the scan can read: the
        // lower-case IBAN starts (small letters other than `e g x b v`) are those of the
        // rule (in the last three bytes, whose next bytes the block does not hold, a
        // superset of them), and the escape bits are exactly the `% +` and `& 0xEF`
        // bytes.
        let bytes = b"ab12cd9%+&\xefZ _-.";
        let mut next = crate::redact::xorshift(0x2545_f491_4f6c_dd1d);
        let (mut exact, mut found) = (0, 0);
        for _ in 0..5_000 {
            let len = (next() % 48) as usize;
            let b: Vec<u8> = (0..len)
                .map(|_| bytes[next() as usize % bytes.len()])
                .collect();
            for from in 0..len {
                let (base, block) = block_from(&b, from);
                let m = scan_mask(&block);
                assert_eq!(m, scalar_scan_mask(&block), "{b:?} at {base}");
                for j in 0..BLOCK.min(len) {
                    let i = base + j;
                    let c = b[i];
                    let rule = lower_iban_at(&b, i);
                    let bit = m.starter >> j & 1 == 1;
                    if c.is_ascii_lowercase() && !matches!(c, b'e' | b'g' | b'x' | b'b' | b'v') {
                        if j >= BLOCK - 3 {
                            assert!(bit || !rule, "{b:?} at {i}");
                        } else {
                            assert_eq!(bit, rule, "{b:?} at {i}");
                            exact += 1;
                            found += usize::from(rule);
                        }
                    }
                    assert_eq!(m.escape >> j & 1 == 1, matches!(c, b'%' | b'+'));
                    assert_eq!(m.escape >> (16 + j) & 1 == 1, matches!(c, b'&' | 0xef));
                }
            }
        }
        assert!(exact > 50_000 && found > 100, "{exact} {found}");
    }
}
