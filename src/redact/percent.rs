//! Percent-encoded text (RFC 3986 §2.1): URLs, query strings and form bodies carry PII
//! as `kim%40example.com` or `%2B82-10-1234-5678`. Such text is detected decoded too,
//! and a match is mapped back to the escapes it came from. In a form body or query
//! string (`application/x-www-form-urlencoded`) a space is written `+`
//! (`card=4111+1111+1111+1111`): there a `+` between two letters or digits decodes
//! to a space. A form value never holds a blank and always follows its `name=`, so
//! only a `+` with a `=` before it in the same run of non-blank bytes is one: the `+`
//! of a version in a user agent (`curl/8.5.0+build.7`) on a line that has a `key=value`
//! elsewhere stays a `+`.
//!
//! Markup is decoded the same way ([`decode_markup`]): HTML character references
//! (`kim&#64;example.com`, `&#x40;`, `&amp;`) and full-width forms (`０１０－１２３４`,
//! U+FF01–U+FF5E, as Korean and Japanese input methods type them) are detected as the
//! ASCII they stand for, and a match is replaced in place.

/// Text with its escapes decoded, and where each decoded byte came from.
pub(crate) struct Decoded {
    pub text: String,
    /// `from[i]`: the offset in the original of the byte (or escape) that decoded byte
    /// `i` came from; one more entry, the original's length.
    from: Vec<usize>,
    /// The decoded bytes that differ from the original (an escape's byte, a form
    /// space), ascending.
    changed: Vec<usize>,
    /// Percent-decoded (a replacement goes back percent-encoded), not markup.
    pub percent: bool,
}

impl Decoded {
    /// The original span of the decoded span `start..end`.
    pub(crate) fn original(&self, start: usize, end: usize) -> (usize, usize) {
        let at = |i: usize| self.from.get(i).copied().unwrap_or(0);
        (at(start), at(end))
    }

    /// The parts of the decoded text worth detecting again: around every changed byte,
    /// at least `margin` bytes either side, widened to a blank of the original (a
    /// space, tab or line break that was written as one, not decoded from `%20` or
    /// `+`) or the end. Ascending, disjoint, on character boundaries.
    ///
    /// Outside them the decoded text is the original, so a match there is found in
    /// the original already; a match that holds a changed byte lies inside one unless
    /// it runs past `margin` bytes and a blank (only a private key block can), and the
    /// context a match is judged by (the words before it, at most 48 bytes, and the
    /// token around it) is inside the same part. The original's tokens are never cut.
    pub(crate) fn windows(&self, margin: usize) -> Vec<(usize, usize)> {
        let t = self.text.as_bytes();
        let blank = |j: usize| {
            t.get(j).is_some_and(u8::is_ascii_whitespace) && self.changed.binary_search(&j).is_err()
        };
        let mut out: Vec<(usize, usize)> = Vec::new();
        for &c in &self.changed {
            // The end of the last part: a blank or the end of the text.
            let floor = out.last().map_or(0, |w| w.1);
            if !out.is_empty() && c < floor {
                continue;
            }
            let mut lo = c.saturating_sub(margin).max(floor);
            while lo > floor && !blank(lo - 1) {
                lo -= 1;
            }
            let mut hi = c.saturating_add(1 + margin).min(t.len());
            while hi < t.len() && !blank(hi) {
                hi += 1;
            }
            match out.last_mut() {
                Some(last) if lo <= last.1 => last.1 = hi,
                _ => out.push((lo, hi)),
            }
        }
        out
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Whether a `=` comes before byte `i` in its run of non-blank bytes, asked at places
/// that never go back: each byte is read once, so a string full of `+` costs one pass.
struct Fields<'a> {
    b: &'a [u8],
    /// Bytes before this are read.
    read: usize,
    /// A `=` was read since the last blank.
    eq: bool,
}

impl<'a> Fields<'a> {
    fn new(b: &'a [u8]) -> Self {
        Fields {
            b,
            read: 0,
            eq: false,
        }
    }

    fn eq_before(&mut self, i: usize) -> bool {
        for &c in self.b.get(self.read..i).unwrap_or_default() {
            if c.is_ascii_whitespace() {
                self.eq = false;
            } else if c == b'=' {
                self.eq = true;
            }
        }
        self.read = self.read.max(i);
        self.eq
    }
}

/// Whether the `+` at `i` is a form-encoded space: `s` has a `name=value` pair, the `+`
/// is in one (a `=` before it, no blank in between) and sits between two ASCII letters
/// or digits (`4111+1111`, `010+1234`) or after a digit and a dot (`1990.+3.+5.`), or
/// before an escape (`%2B82+%280%2910-…`: `+82 (0)10-…`), not before a country code
/// (`+82`) or in `C++`. `fields`: asked at ascending `i` only.
fn form_space(b: &[u8], i: usize, form: bool, fields: &mut Fields<'_>) -> bool {
    // After a digit's dot too: a dotted date with spaces (`1990.+3.+5.`).
    let dot = i >= 2 && b[i - 1] == b'.' && b[i - 2].is_ascii_digit();
    form && b[i] == b'+'
        && i > 0
        && (b[i - 1].is_ascii_alphanumeric() || dot)
        && (b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) || escape_at(b, i + 1))
        && fields.eq_before(i)
}

/// Whether a valid escape (`%` and two hex digits) starts at `i`.
fn escape_at(b: &[u8], i: usize) -> bool {
    b.get(i) == Some(&b'%')
        && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
        && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
}

/// Strings at most this long are searched for `%` and `+` eight bytes at a time in
/// a register; longer ones by `memchr`, whose setup costs more than a short string.
const SHORT: usize = 64;

/// The first `%` or `+` in `b`. Most strings are short JSON values, asked once each:
/// they are read eight bytes at a time as a `u64`, each byte compared with both at
/// once (a byte equal to `c` is a zero byte of `word ^ c…c`, and the lowest zero byte
/// is found exactly by the borrow of subtracting `0x01…01`).
fn first_escape_byte(b: &[u8]) -> Option<usize> {
    if b.len() > SHORT {
        return memchr::memchr2(b'%', b'+', b);
    }
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let w = u64::from_le_bytes(w);
        let m = zero(w ^ (ONES * u64::from(b'%'))) | zero(w ^ (ONES * u64::from(b'+')));
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(|&c| c == b'%' || c == b'+')
        .map(|p| i + p)
}

/// `s` decoded, when it holds an escape (`%` and two hex digits) or, in a form body or
/// query string (a `name=value` pair), a `+` written for a space. Every escape is decoded when
/// the result is UTF-8; else only those of ASCII bytes. `None` when there is nothing to
/// decode.
pub(crate) fn decode(s: &str) -> Option<Decoded> {
    let b = s.as_bytes();
    // Only a `%` starts an escape and only a `+` is a space: most strings have neither,
    // and only those bytes need a look.
    let first = first_escape_byte(b)?;
    let form = memchr::memchr(b'+', &b[first..]).is_some() && memchr::memchr(b'=', b).is_some();
    let escape = |i: usize| -> Option<u8> {
        if b.get(i) != Some(&b'%') {
            return None;
        }
        Some(hex(*b.get(i + 1)?)? << 4 | hex(*b.get(i + 2)?)?)
    };
    let mut fields = Fields::new(b);
    if !memchr::memchr2_iter(b'%', b'+', &b[first..])
        .map(|i| first + i)
        .any(|i| escape(i).is_some() || form_space(b, i, form, &mut fields))
    {
        return None;
    }
    for ascii_only in [false, true] {
        let mut fields = Fields::new(b);
        let mut bytes = Vec::with_capacity(b.len());
        let mut from = Vec::with_capacity(b.len() + 1);
        let mut changed = Vec::new();
        // Bytes other than `%` and `+` are copied as they are, a run at a time.
        let mut i = 0;
        for p in memchr::memchr2_iter(b'%', b'+', b) {
            if p < i {
                continue;
            }
            bytes.extend_from_slice(&b[i..p]);
            from.extend(i..p);
            from.push(p);
            // Digits grouped with an encoded wide blank (`4111%C2%A01111`): a space.
            if let Some(len) = wide_escape(b, p) {
                changed.push(bytes.len());
                bytes.push(b' ');
                i = p + len;
                continue;
            }
            match escape(p) {
                Some(v) if !ascii_only || v < 0x80 => {
                    changed.push(bytes.len());
                    bytes.push(v);
                    i = p + 3;
                }
                _ if form_space(b, p, form, &mut fields) => {
                    changed.push(bytes.len());
                    bytes.push(b' ');
                    i = p + 1;
                }
                _ => {
                    bytes.push(b[p]);
                    i = p + 1;
                }
            }
        }
        bytes.extend_from_slice(&b[i..]);
        from.extend(i..=b.len());
        if let Ok(text) = String::from_utf8(bytes) {
            return Some(Decoded {
                text,
                from,
                changed,
                percent: true,
            });
        }
    }
    None
}

/// The length of a percent-encoded no-break (`%C2%A0`), narrow no-break (`%E2%80%AF`)
/// or thin space (`%E2%80%89`) at `b[p..]` between two digits, the way a card or an
/// account number is grouped.
fn wide_escape(b: &[u8], p: usize) -> Option<usize> {
    let byte = |k: usize| -> Option<u8> {
        if b.get(k) != Some(&b'%') {
            return None;
        }
        Some(hex(*b.get(k + 1)?)? << 4 | hex(*b.get(k + 2)?)?)
    };
    if p == 0 || !b[p - 1].is_ascii_digit() {
        return None;
    }
    let len = match (byte(p)?, byte(p + 3)?) {
        (0xc2, 0xa0) => 6,
        (0xe2, 0x80) if matches!(byte(p + 6), Some(0xaf | 0x89)) => 9,
        _ => return None,
    };
    b.get(p + len)
        .is_some_and(u8::is_ascii_digit)
        .then_some(len)
}

/// `s` decoded by [`decode`] (when `percent`: it holds a `%` or a `+`), else by
/// [`decode_markup`] (when `markup`: it holds a `&` or a `0xEF` byte, or `wide`: digits
/// grouped with a wide blank). Kept out of line: the text path calls it only for
/// strings with one of those bytes.
#[inline(never)]
pub(crate) fn decode_either(s: &str, percent: bool, markup: bool, wide: bool) -> Option<Decoded> {
    let decoded = if percent { decode(s) } else { None };
    match decoded {
        None if markup || wide => decode_markup(s, wide),
        other => other,
    }
}

/// Named HTML character references that can stand for part of a value, and what they
/// stand for.
const NAMED: [(&[u8], &str); 16] = [
    (b"amp", "&"),
    (b"lt", "<"),
    (b"gt", ">"),
    (b"quot", "\""),
    (b"apos", "'"),
    (b"commat", "@"),
    (b"period", "."),
    (b"sol", "/"),
    (b"colon", ":"),
    (b"num", "#"),
    (b"plus", "+"),
    (b"equals", "="),
    (b"lpar", "("),
    (b"rpar", ")"),
    (b"hyphen", "-"),
    (b"nbsp", " "),
];

/// The HTML character reference at `b[0..]` (which starts with `&`): what it stands for
/// and its length. Numeric ones (`&#64;`, `&#x40;`) with at most seven digits, their
/// `;` required, naming a character other than NUL; named ones from [`NAMED`].
fn char_ref(b: &[u8]) -> Option<(char, usize)> {
    let rest = b.get(1..)?;
    if rest.first() == Some(&b'#') {
        let (hexa, from) = match rest.get(1) {
            Some(b'x' | b'X') => (true, 2),
            _ => (false, 1),
        };
        let n = rest[from..]
            .iter()
            .take(8)
            .take_while(|c| {
                if hexa {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
            .count();
        if n == 0 || n > 7 || rest.get(from + n) != Some(&b';') {
            return None;
        }
        let digits = std::str::from_utf8(&rest[from..from + n]).ok()?;
        let v = u32::from_str_radix(digits, if hexa { 16 } else { 10 }).ok()?;
        let c = char::from_u32(v).filter(|&c| c != '\0')?;
        return Some((c, 1 + from + n + 1));
    }
    // Every name is small letters, at most six: read the run of them and its `;` once,
    // then look the run up (a `&` in a query string, `&b=2`, fails at its `=`).
    let n = rest
        .iter()
        .take(NAME_MAX + 1)
        .take_while(|c| c.is_ascii_lowercase())
        .count();
    if n == 0 || rest.get(n) != Some(&b';') {
        return None;
    }
    NAMED
        .iter()
        .find(|(name, _)| *name == &rest[..n])
        .map(|(_, v)| (v.chars().next().unwrap_or(' '), 1 + n + 1))
}

/// The longest name in [`NAMED`].
const NAME_MAX: usize = 6;

/// The full-width form at `b[0..]` (U+FF01–U+FF5E, three bytes from `0xEF`): the ASCII
/// character it is the wide twin of.
fn full_width(b: &[u8]) -> Option<u8> {
    match *b.get(..3)? {
        [0xef, 0xbc, c @ 0x81..=0xbf] => Some(c - 0x81 + 0x21),
        [0xef, 0xbd, c @ 0x80..=0x9e] => Some(c - 0x80 + 0x60),
        _ => None,
    }
}

/// `s` with its HTML character references and full-width forms decoded, when it holds
/// any; `None` otherwise. With `wide`, a no-break, narrow no-break or thin space or a
/// zero-width format character between two digits (`4111\u{a0}1111`, how some locales
/// group a number; `4111\u{200b}1111`) is read as a space.
pub(crate) fn decode_markup(s: &str, wide: bool) -> Option<Decoded> {
    let b = s.as_bytes();
    let mut bytes: Vec<u8> = Vec::new();
    let mut from = Vec::new();
    let mut changed = Vec::new();
    let mut i = 0;
    // The next byte that may start something to decode, from `at`.
    let next = |at: usize| -> Option<usize> {
        let rest = b.get(at..)?;
        let found = if wide {
            rest.iter()
                .position(|&c| matches!(c, b'&' | 0xef | 0xc2 | 0xe2))
        } else {
            memchr::memchr2(b'&', 0xef, rest)
        };
        found.map(|q| at + q)
    };
    let mut at = 0;
    while let Some(p) = next(at) {
        at = p + 1;
        if p < i {
            continue;
        }
        let (ch, len) = match b[p] {
            b'&' => match char_ref(&b[p..]) {
                Some(r) => r,
                None => continue,
            },
            _ => match full_width(&b[p..]) {
                Some(c) => (char::from(c), 3),
                None if wide && p > 0 && b[p - 1].is_ascii_digit() => {
                    match super::scan::wide_blank_len(b, p) {
                        Some(len) => (' ', len),
                        None => continue,
                    }
                }
                None => continue,
            },
        };
        if bytes.capacity() == 0 {
            bytes.reserve(b.len());
            from.reserve(b.len() + 1);
        }
        bytes.extend_from_slice(&b[i..p]);
        from.extend(i..p);
        let mut buf = [0u8; 4];
        for &c in ch.encode_utf8(&mut buf).as_bytes() {
            changed.push(bytes.len());
            bytes.push(c);
            from.push(p);
        }
        i = p + len;
    }
    if changed.is_empty() {
        return None;
    }
    bytes.extend_from_slice(&b[i..]);
    from.extend(i..=b.len());
    // Whole characters replaced by whole characters: still UTF-8.
    let text = String::from_utf8(bytes).ok()?;
    Some(Decoded {
        text,
        from,
        changed,
        percent: false,
    })
}

/// Appends `s` percent-encoded: everything but unreserved bytes (`A-Za-z0-9-._~`).
pub(crate) fn encode(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(c));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 0xf)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_maps_back() {
        let d = decode("to=kim%40example.com&x=1").unwrap();
        assert_eq!(d.text, "to=kim@example.com&x=1");
        // `kim@example.com` in the decoded text is `kim%40example.com` in the original.
        assert_eq!(d.original(3, 18), (3, 20));
        let k = decode("q=%EA%B3%84%EC%A2%8C").unwrap();
        assert_eq!(k.text, "q=계좌");
        // Not UTF-8 once decoded: only ASCII escapes are.
        let bad = decode("a=%FF%2B1").unwrap();
        assert_eq!(bad.text, "a=%FF+1");
        assert!(decode("100% sure").is_none());
        assert!(decode("plain").is_none());
    }

    #[test]
    fn decodes_plus_as_space_in_form_bodies() {
        // application/x-www-form-urlencoded: a space is written `+`.
        let d = decode("card=4111+1111+1111+1111&ok=1").unwrap();
        assert_eq!(d.text, "card=4111 1111 1111 1111&ok=1");
        assert_eq!(d.original(5, 24), (5, 24));
        let mixed = decode("to=kim%40example.com&tel=010+1234+5678").unwrap();
        assert_eq!(mixed.text, "to=kim@example.com&tel=010 1234 5678");
        // Before an escape too: a form encoder writes `+82 (0)10-…` so.
        let paren = decode("hp=%2B82+%280%2910-3904-0545&lang=ko").unwrap();
        assert_eq!(paren.text, "hp=+82 (0)10-3904-0545&lang=ko");
        // A country code's `+`, `C++` and text without a `name=value` pair stay.
        assert!(decode("tel=+82-10-1234-5678").is_none());
        assert!(decode("lang=C++").is_none());
        assert!(decode("4111+1111").is_none());
        // A `+` outside every `name=value` pair: a version's build part in a user agent.
        assert!(decode(r#""GET /?a=1 HTTP/1.1" "curl/8.5.0+build.7""#).is_none());
        let field = decode("ua=curl/8.5.0+build.7 q=kim+lee").unwrap();
        assert_eq!(field.text, "ua=curl/8.5.0 build.7 q=kim lee");
    }

    /// `decode`'s result worked out a byte at a time: (text, `from`).
    fn decode_bytewise(s: &str) -> Option<(String, Vec<usize>)> {
        let b = s.as_bytes();
        let form = b.contains(&b'+') && b.contains(&b'=');
        // A form space: a `+` between letters or digits (or after a digit's dot), with
        // a `=` before it and no blank in between.
        let space = |i: usize| {
            let dot = i >= 2 && b[i - 1] == b'.' && b[i - 2].is_ascii_digit();
            let field = b[..i]
                .iter()
                .rev()
                .take_while(|c| !c.is_ascii_whitespace())
                .any(|&c| c == b'=');
            let escape_after = b.get(i + 1) == Some(&b'%')
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 3).is_some_and(u8::is_ascii_hexdigit);
            form && b[i] == b'+'
                && i > 0
                && (b[i - 1].is_ascii_alphanumeric() || dot)
                && (b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) || escape_after)
                && field
        };
        let escape = |i: usize| -> Option<u8> {
            if b.get(i) != Some(&b'%') {
                return None;
            }
            Some(hex(*b.get(i + 1)?)? << 4 | hex(*b.get(i + 2)?)?)
        };
        if !(0..b.len()).any(|i| escape(i).is_some() || space(i)) {
            return None;
        }
        for ascii_only in [false, true] {
            let (mut bytes, mut from) = (Vec::new(), Vec::new());
            let mut i = 0;
            while i < b.len() {
                from.push(i);
                match escape(i) {
                    Some(v) if !ascii_only || v < 0x80 => {
                        bytes.push(v);
                        i += 3;
                        continue;
                    }
                    _ if space(i) => bytes.push(b' '),
                    _ => bytes.push(b[i]),
                }
                i += 1;
            }
            from.push(b.len());
            if let Ok(text) = String::from_utf8(bytes) {
                return Some((text, from));
            }
        }
        None
    }

    #[test]
    fn decodes_as_a_byte_at_a_time_would() {
        let pieces = [
            "%",
            "%4",
            "%40",
            "%2B",
            "%ED%95%9C",
            "%FF",
            "%e",
            "+",
            "++",
            "=",
            "a",
            "1",
            ".",
            "한",
            " ",
            "&",
            "%%",
            "kim",
            "010",
            "curl/8.5",
            "x=",
            "\t",
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut decoded = 0;
        for _ in 0..50_000 {
            let mut s = String::new();
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            for k in 0..(x >> 60) {
                s.push_str(pieces[(x >> (k * 4 % 56)) as usize % pieces.len()]);
            }
            let got = decode(&s).map(|d| (d.text, d.from));
            assert_eq!(got, decode_bytewise(&s), "{s:?}");
            decoded += usize::from(got.is_some());
        }
        assert!(decoded > 5_000, "{decoded}");
    }

    #[test]
    fn windows_hold_every_changed_byte_and_whole_tokens() {
        let line = "10.1.2.3 - - [05/Dec/2026:07:00:00 +0000] \"GET /signup?email=kim%40example.com&ok=1 HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36\"";
        let d = decode(line).unwrap();
        let w = d.windows(16);
        assert_eq!(w.len(), 1);
        let (lo, hi) = w[0];
        // The request line's tokens, whole, and nothing of the user agent's end.
        assert!(d.text[lo..hi].contains("/signup?email=kim@example.com&ok=1"));
        assert!(lo == 0 || d.text.as_bytes()[lo - 1] == b' ');
        assert!(hi < d.text.len() && d.text.as_bytes()[hi] == b' ');
        assert!(!d.text[lo..hi].contains("Safari"));
        // A decoded space does not end a part: the form value is one token.
        let f = decode("a=1&card=4111+1111+1111+1111&b=2").unwrap();
        assert_eq!(f.windows(0), [(0, f.text.len())]);
        // Far apart: two parts.
        let far = format!("x=%41 {} y=%42", "word ".repeat(40));
        let d = decode(&far).unwrap();
        let w = d.windows(16);
        assert_eq!(w.len(), 2);
        assert_eq!(&d.text[w[0].0..w[0].1], "x=A word word word word");
        assert!(d.text[w[1].0..w[1].1].ends_with("word  y=B"));
        // Every changed byte is inside a part, at every margin, on random inputs.
        let pieces = [
            "%40",
            "+",
            "=",
            " ",
            "a",
            "1",
            "%20",
            "한",
            "\n",
            "%ED%95%9C",
            "xyz",
        ];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..(x % 40) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push_str(pieces[(x % pieces.len() as u64) as usize]);
            }
            let Some(d) = decode(&s) else { continue };
            for margin in [0, 3, 128] {
                let w = d.windows(margin);
                for &c in &d.changed {
                    assert!(w.iter().any(|&(lo, hi)| lo <= c && c < hi), "{s:?}");
                }
                for pair in w.windows(2) {
                    assert!(pair[0].1 < pair[1].0, "{s:?}");
                }
                for &(lo, hi) in &w {
                    assert!(d.text.is_char_boundary(lo) && d.text.is_char_boundary(hi));
                }
            }
        }
    }

    #[test]
    fn the_first_escape_byte_is_memchrs() {
        let bytes = [
            b'%', b'+', b'a', b'0', b' ', 0x00, 0x01, 0x24, 0x2a, 0x2c, 0x80, 0xa5, 0xab, 0xff,
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (x >> 57) as usize;
            let mut y = x;
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    y = y.rotate_left(7) ^ 0x5851_f42d_4c95_7f2d;
                    // Mostly plain bytes, so `%` and `+` land anywhere, also nowhere.
                    if y.is_multiple_of(9) {
                        bytes[(y >> 8) as usize % 2]
                    } else {
                        bytes[2 + (y >> 8) as usize % (bytes.len() - 2)]
                    }
                })
                .collect();
            assert_eq!(
                first_escape_byte(&b),
                memchr::memchr2(b'%', b'+', &b),
                "{b:?}"
            );
        }
    }

    #[test]
    fn decodes_character_references_and_full_width_forms() {
        let d = decode_markup(
            "<a href=\"mailto:kim&#64;example.com\">kim&#x40;ex&period;com</a>",
            false,
        )
        .unwrap();
        assert_eq!(d.text, "<a href=\"mailto:kim@example.com\">kim@ex.com</a>");
        // `kim@example.com` is `kim&#64;example.com` in the original.
        assert_eq!(d.original(17, 32), (17, 36));
        assert!(!d.percent);
        let w = decode_markup("연락처 ０１０－１２３４－５６７８로", false).unwrap();
        assert_eq!(w.text, "연락처 010-1234-5678로");
        let at = w.text.find("010").unwrap();
        let (a, e) = w.original(at, at + 13);
        assert_eq!(
            &"연락처 ０１０－１２３４－５６７８로"[a..e],
            "０１０－１２３４－５６７８"
        );
        assert_eq!(
            decode_markup("a &amp; b &#x1F600; &#0; &#12345678; &bogus; &amp", false)
                .unwrap()
                .text,
            "a & b \u{1F600} &#0; &#12345678; &bogus; &amp"
        );
        // Only what is a reference or a full-width form; nothing else is decoded.
        assert_eq!(
            decode_markup("a=1&b=2 &#; &#x; 한국 （）", false)
                .unwrap()
                .text,
            "a=1&b=2 &#; &#x; 한국 ()"
        );
        assert!(decode_markup("a=1&b=2 & c", false).is_none());
        assert!(decode_markup("\u{FEFF}BOM \u{FFE0}", false).is_none());
    }

    /// The named look-up as first written: each name tried as a prefix of the rest.
    fn named_by_prefix(b: &[u8]) -> Option<(char, usize)> {
        let rest = b.get(1..)?;
        NAMED.iter().find_map(|(name, v)| {
            (rest.starts_with(name) && rest.get(name.len()) == Some(&b';'))
                .then(|| (v.chars().next().unwrap_or(' '), 1 + name.len() + 1))
        })
    }

    #[test]
    fn named_references_are_those_of_the_prefix_look_up() {
        assert!(NAMED.iter().all(|(name, _)| {
            name.len() <= NAME_MAX && name.iter().all(u8::is_ascii_lowercase)
        }));
        // Names, their cuts and extensions, `;`, `=`, `#` and other bytes after a `&`.
        let pieces: [&[u8]; 14] = [
            b"amp", b"lt", b"commat", b"equals", b"nbsp", b"hyphen", b"a", b"s", b"x", b";", b"=",
            b"#", b"1", b"&",
        ];
        let mut next = crate::redact::xorshift(0x5851_f42d_4c95_7f2d);
        let mut found = 0;
        for _ in 0..50_000 {
            let mut b = b"&".to_vec();
            for _ in 0..(next() % 5) {
                b.extend_from_slice(pieces[next() as usize % pieces.len()]);
            }
            if b.get(1) == Some(&b'#') {
                continue;
            }
            let want = named_by_prefix(&b);
            assert_eq!(char_ref(&b), want, "{b:?}");
            found += usize::from(want.is_some());
        }
        assert!(found > 500, "{found}");
    }

    #[test]
    fn encodes_what_is_not_unreserved() {
        let mut out = String::new();
        encode("[REDACTED:email]", &mut out);
        assert_eq!(out, "%5BREDACTED%3Aemail%5D");
    }

    #[test]
    fn zero_width_format_characters_between_digits_read_as_spaces() {
        // Unicode format characters (general category Cf) that render as nothing:
        // U+200B, U+200C, U+200D, U+2060, U+FEFF. Between two digits each reads as
        // the space a reader sees; elsewhere nothing changes.
        for zw in ["\u{200b}", "\u{200c}", "\u{200d}", "\u{2060}", "\u{feff}"] {
            let s = format!("pan 5555{zw}5555{zw}5555{zw}4444 end");
            let d = decode_markup(&s, true).unwrap();
            assert_eq!(d.text, "pan 5555 5555 5555 4444 end");
            let (a, e) = d.original(4, 23);
            assert_eq!(&s[a..e], &s[4..s.len() - 4]);
            // Not read without `wide`, nor next to a letter.
            assert!(decode_markup(&s, false).is_none());
            assert!(decode_markup(&format!("a{zw}b 1{zw}x"), true).is_none());
        }
    }
}
