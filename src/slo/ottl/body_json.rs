//! A JSON string body's fields read in one pass, keeping only the values at the body paths
//! the log SLIs name.
//!
//! The body is scanned once by a reader that accepts exactly what serde_json accepts when it
//! parses the whole body into a `serde_json::Value` (the same syntax checks: whitespace,
//! literals, number syntax and range, string escapes and surrogate pairs, control
//! characters, trailing characters, and the same recursion limit of 127 nested arrays and
//! objects), but builds nothing off the paths: keys are compared where they lie in the
//! text (after their lengths) and every other value is stepped over; a string's end is
//! found sixteen bytes at a time (the redaction walker's string mask), and a value borrows
//! the body unless it has escapes. What is rare is handed to serde_json itself
//! on its own slice of the text: a number that is not a small non-negative integer (its
//! exact value; one with an exponent or over 300 digits also for its range, anywhere in
//! the body), a string or key with escapes, an array or object at a path (its compact JSON
//! text). The answer is the one the whole-document parse gives (`log_tests.rs` compares
//! the two, on written and on random bodies): a body that is not a JSON object has no
//! fields; a key given twice keeps its last value; a number is an `Int` when it fits an
//! i64, else a `Float`; an array or object at a path is its compact JSON text.

use std::borrow::Cow;

use super::BodyValue;
use super::path_tree::{PathTree, fill, length_bit};
use crate::redact::{STRING_MASK_BLOCK, string_mask};

/// Reads `text`, which must hold a JSON object, into `values` (one per slot of `tree`,
/// all `Nil` on entry); `false` when it is not a JSON object (then `values` are all `Nil`).
pub(super) fn read<'a>(text: &'a str, tree: &PathTree, values: &mut [BodyValue<'a>]) -> bool {
    if !braced(text.as_bytes()) {
        return false;
    }
    let mut scan = Scan {
        text,
        bytes: text.as_bytes(),
        at: 0,
        depth: RECURSION_LIMIT,
    };
    scan.whitespace();
    let object = scan.object(tree, values).is_ok() && scan.end();
    if !object {
        tree.clear(values);
    }
    object
}

/// Whether `bytes` begin with `{` and end with `}`, whitespace aside: what a JSON object
/// does, so most other text is ruled out without being scanned.
#[inline]
fn braced(bytes: &[u8]) -> bool {
    let ws = |b: &&u8| matches!(b, b' ' | b'\n' | b'\t' | b'\r');
    let first = bytes.iter().find(|b| !ws(b));
    let last = bytes.iter().rfind(|b| !ws(b));
    first == Some(&b'{') && last == Some(&b'}')
}

/// serde_json's recursion limit: its depth budget, taken by each array and object entered;
/// the one that brings it to zero is refused.
const RECURSION_LIMIT: u32 = 128;

/// Integers of at most this many digits fit an i64.
const SMALL_INT_DIGITS: usize = 18;

/// An integer part longer than this may be out of f64's range (its value is checked).
const SAFE_INT_DIGITS: usize = 300;

/// The text is not JSON that serde_json accepts.
#[derive(Debug)]
struct Bad;

type Scanned<T> = Result<T, Bad>;

/// A string's contents: `text[start..end]`, holding escapes or not.
#[derive(Clone, Copy)]
struct Str {
    start: usize,
    end: usize,
    escaped: bool,
}

/// The scanner: a position in `text` and the depth budget left.
struct Scan<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: u32,
}

impl<'a> Scan<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    #[inline(always)]
    fn whitespace(&mut self) {
        // Every whitespace byte is at most a space: one test for the common case.
        if self.peek().is_some_and(|b| b > b' ') {
            return;
        }
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Only whitespace is left.
    fn end(&mut self) -> bool {
        self.whitespace();
        self.at == self.bytes.len()
    }

    #[inline]
    fn eat(&mut self, byte: u8) -> Scanned<()> {
        if self.peek() != Some(byte) {
            return Err(Bad);
        }
        self.at += 1;
        Ok(())
    }

    /// Enters an array or object.
    #[inline]
    fn enter(&mut self) -> Scanned<()> {
        self.depth -= 1;
        if self.depth == 0 {
            return Err(Bad);
        }
        Ok(())
    }

    #[inline]
    fn leave(&mut self) {
        self.depth += 1;
    }

    /// Opens an array or object (the scanner on its first byte); true when it is empty,
    /// `close` already read.
    #[inline]
    fn open(&mut self, close: u8) -> Scanned<bool> {
        self.at += 1;
        self.enter()?;
        self.whitespace();
        if self.peek() == Some(close) {
            self.at += 1;
            self.leave();
            return Ok(true);
        }
        Ok(false)
    }

    /// After an element or member: a `,` and the whitespace after it (false), or `close`
    /// (true, the array or object left).
    #[inline]
    fn next_or_close(&mut self, close: u8) -> Scanned<bool> {
        self.whitespace();
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                self.whitespace();
                Ok(false)
            }
            Some(c) if c == close => {
                self.at += 1;
                self.leave();
                Ok(true)
            }
            _ => Err(Bad),
        }
    }

    /// An object at `tree` (the scanner on its `{`): members on a path are read, the
    /// others stepped over.
    fn object(&mut self, tree: &PathTree, values: &mut [BodyValue<'a>]) -> Scanned<()> {
        if self.open(b'}')? {
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(Bad);
            }
            let key = self.string()?;
            let child = self.child(tree, key)?;
            self.whitespace();
            self.eat(b':')?;
            self.whitespace();
            match child {
                Some(child) => {
                    // A key given twice: its last value counts, as in a parsed object. The
                    // values where paths end here are written by `node` whatever the value;
                    // those of deeper paths only when the value holds them.
                    if !child.children.is_empty() {
                        child.clear(values);
                    }
                    self.node(child, values)?;
                }
                // Most values are strings, then numbers: stepped over here, without
                // `skip`'s call and dispatch.
                None => match self.peek() {
                    Some(b'"') => {
                        self.string()?;
                    }
                    Some(b'-' | b'0'..=b'9') => {
                        self.number()?;
                    }
                    _ => self.skip()?,
                },
            }
            if self.next_or_close(b'}')? {
                return Ok(());
            }
        }
    }

    /// The child of `tree` a key names, if any.
    #[inline]
    fn child<'t>(&self, tree: &'t PathTree, key: Str) -> Scanned<Option<&'t PathTree>> {
        if tree.children.is_empty() {
            return Ok(None);
        }
        let found = |k: &str| tree.children.iter().find(|(c, _)| c == k).map(|(_, c)| c);
        if !key.escaped {
            if tree.lengths & length_bit(key.end - key.start) == 0 {
                return Ok(None);
            }
            return Ok(found(&self.text[key.start..key.end]));
        }
        Ok(found(&self.unescape(key)?))
    }

    /// A value on a path: kept where a path ends, walked where paths go on.
    fn node(&mut self, tree: &PathTree, values: &mut [BodyValue<'a>]) -> Scanned<()> {
        if tree.ends.is_empty() {
            return match self.peek() {
                Some(b'{') => self.object(tree, values),
                _ => self.skip(),
            };
        }
        let start = self.at;
        let value = match self.peek() {
            Some(b'"') => {
                let s = self.string()?;
                if s.escaped {
                    BodyValue::Str(Cow::Owned(self.unescape(s)?))
                } else {
                    BodyValue::Str(Cow::Borrowed(&self.text[s.start..s.end]))
                }
            }
            Some(b'-' | b'0'..=b'9') => match self.number()? {
                true => BodyValue::Int(small_int(&self.bytes[start..self.at])),
                false => BodyValue::of_json(&parse(&self.text[start..self.at])?),
            },
            Some(b'{' | b'[') => {
                // An array or object kept whole: its extent here, its value from serde_json.
                self.skip()?;
                fill(tree, values, &parse(&self.text[start..self.at])?);
                return Ok(());
            }
            _ => {
                self.skip()?;
                match self.bytes[start] {
                    b't' => BodyValue::Bool(true),
                    b'f' => BodyValue::Bool(false),
                    _ => BodyValue::Nil,
                }
            }
        };
        for &slot in &tree.ends {
            values[slot] = value.clone();
        }
        Ok(())
    }

    /// Steps over one value, checking it.
    fn skip(&mut self) -> Scanned<()> {
        match self.peek().ok_or(Bad)? {
            b'"' => self.string().map(drop),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'[' => {
                if self.open(b']')? {
                    return Ok(());
                }
                loop {
                    self.skip()?;
                    if self.next_or_close(b']')? {
                        return Ok(());
                    }
                }
            }
            b'{' => {
                if self.open(b'}')? {
                    return Ok(());
                }
                loop {
                    if self.peek() != Some(b'"') {
                        return Err(Bad);
                    }
                    self.string()?;
                    self.whitespace();
                    self.eat(b':')?;
                    self.whitespace();
                    if self.peek() == Some(b'"') {
                        self.string()?;
                    } else {
                        self.skip()?;
                    }
                    if self.next_or_close(b'}')? {
                        return Ok(());
                    }
                }
            }
            _ => Err(Bad),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Scanned<()> {
        if !self.bytes[self.at..].starts_with(word) {
            return Err(Bad);
        }
        self.at += word.len();
        Ok(())
    }

    /// A number, checked as serde_json parses it; `true` when it is a non-negative integer
    /// of at most [`SMALL_INT_DIGITS`] digits (it fits an i64).
    fn number(&mut self) -> Scanned<bool> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let int_start = self.at;
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(Bad),
        }
        let int_digits = self.at - int_start;
        let mut exponent = false;
        let mut plain = true;
        if self.peek() == Some(b'.') {
            self.at += 1;
            plain = false;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            plain = false;
            exponent = true;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.some_digits()?;
        }
        // Out of f64's range is an error of the whole parse: only an exponent or a long
        // integer part can get there, and those are checked by serde_json itself.
        if exponent || int_digits > SAFE_INT_DIGITS {
            parse(&self.text[start..self.at])?;
        }
        Ok(plain && !negative && int_digits <= SMALL_INT_DIGITS)
    }

    #[inline]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Scanned<()> {
        let start = self.at;
        self.digits();
        if self.at == start {
            return Err(Bad);
        }
        Ok(())
    }

    /// A string (the scanner on its opening quote), checked: escapes, surrogate pairs, no
    /// control characters.
    #[inline(always)]
    fn string(&mut self) -> Scanned<Str> {
        self.at += 1;
        let start = self.at;
        self.at = special(self.bytes, self.at);
        if self.peek() == Some(b'"') {
            let end = self.at;
            self.at += 1;
            return Ok(Str {
                start,
                end,
                escaped: false,
            });
        }
        self.string_rest(start)
    }

    /// The rest of a string from `start`, the scanner on a backslash or a byte that ends
    /// it: escapes are rare, kept out of the inlined common case.
    #[cold]
    #[inline(never)]
    fn string_rest(&mut self, start: usize) -> Scanned<Str> {
        let mut escaped = false;
        loop {
            match self.peek().ok_or(Bad)? {
                b'"' => {
                    let end = self.at;
                    self.at += 1;
                    return Ok(Str {
                        start,
                        end,
                        escaped,
                    });
                }
                b'\\' => {
                    self.at += 1;
                    escaped = true;
                    self.escape()?;
                    self.at = special(self.bytes, self.at);
                }
                // A control character.
                _ => return Err(Bad),
            }
        }
    }

    /// An escape, after its backslash.
    fn escape(&mut self) -> Scanned<()> {
        let byte = self.peek().ok_or(Bad)?;
        self.at += 1;
        match byte {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(()),
            b'u' => {
                let unit = self.hex4()?;
                match unit {
                    // A trailing surrogate first.
                    0xDC00..=0xDFFF => Err(Bad),
                    // A leading surrogate: a trailing one must follow.
                    0xD800..=0xDBFF => {
                        self.eat(b'\\')?;
                        self.eat(b'u')?;
                        match self.hex4()? {
                            0xDC00..=0xDFFF => Ok(()),
                            _ => Err(Bad),
                        }
                    }
                    _ => Ok(()),
                }
            }
            _ => Err(Bad),
        }
    }

    fn hex4(&mut self) -> Scanned<u16> {
        let digits = self.bytes.get(self.at..self.at + 4).ok_or(Bad)?;
        let mut unit = 0u16;
        for &d in digits {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(Bad),
            };
            unit = unit << 4 | u16::from(v);
        }
        self.at += 4;
        Ok(unit)
    }

    /// A string with escapes, unescaped by serde_json (its quotes are around it).
    fn unescape(&self, s: Str) -> Scanned<String> {
        serde_json::from_str(&self.text[s.start - 1..s.end + 1]).map_err(|_| Bad)
    }
}

/// The value of at most [`SMALL_INT_DIGITS`] ASCII digits (what [`Scan::number`] calls a
/// small integer), which an i64 holds.
#[inline]
fn small_int(digits: &[u8]) -> i64 {
    digits
        .iter()
        .fold(0, |n, d| n * 10 + i64::from(d.wrapping_sub(b'0')))
}

/// A value serde_json parses from `text` alone.
fn parse(text: &str) -> Scanned<serde_json::Value> {
    serde_json::from_str(text).map_err(|_| Bad)
}

/// The position of the first quote, backslash or control character of `bytes` from `at`
/// (the end when none): sixteen bytes at a time (the redaction walker's string mask, SSE2
/// on x86_64), the last few in the block that ends the text.
#[inline]
fn special(bytes: &[u8], mut at: usize) -> usize {
    const BLOCK: usize = STRING_MASK_BLOCK;
    while let Some(block) = bytes.get(at..at + BLOCK) {
        let block: &[u8; BLOCK] = block.try_into().unwrap_or(&[0; BLOCK]);
        let mask = string_mask(block);
        if mask != 0 {
            return at + mask.trailing_zeros() as usize;
        }
        at += BLOCK;
    }
    // Fewer than sixteen bytes left: the last sixteen of the text, those before `at`
    // dropped from the mask.
    match bytes.len().checked_sub(BLOCK) {
        Some(base) => {
            let block: &[u8; BLOCK] = bytes[base..].try_into().unwrap_or(&[0; BLOCK]);
            let mask = string_mask(block) >> (at - base);
            if mask != 0 {
                at + mask.trailing_zeros() as usize
            } else {
                bytes.len()
            }
        }
        None => {
            while let Some(&b) = bytes.get(at) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    return at;
                }
                at += 1;
            }
            at
        }
    }
}
