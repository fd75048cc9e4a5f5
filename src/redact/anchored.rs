//! The anchored searches of the `url_secret`, `email` and `alnum` (IBAN, passport)
//! groups read by hand: the match each group's regex in `detect.rs` finds, without it.
//!
//! - `url_secret` (`?token=…`): a name from a fixed list, then `=`; no name holds `=`,
//!   so the name is everything up to the first `=`, and the value's run, last in the
//!   pattern, is taken whole.
//! - `email`: the local part's run (or its quoted string, which holds no `"`) must be
//!   followed by `@`; every domain label must be followed by `.`, which no label holds,
//!   so a label is a whole dot-separated segment (1 to 63 characters, a letter or digit
//!   at both ends). The labels' repetition is greedy:
//!   the match ends at the top-level domain after the most labels (two to 24 letters,
//!   then `\b`).
//! - `alnum`: the IBAN's repetitions each take one byte or a space and a byte, never a
//!   choice, so only their count is chosen (the most after which `\b` holds); a
//!   passport's two forms differ at their fifth byte. The two patterns differ at the
//!   second byte (a letter against a digit), so at most one matches at a place.
//!
//! `\b` looks outside `..hi`, as the regex's does.

use super::detect::{is_word, word_starts};
use super::starts::URL_SECRET_NAMES;

/// `[A-Za-z0-9._~%!$'()*+,:@/=-]`: the bytes of a `url_secret` value.
const URL_VALUE: [bool; 256] = super::byte_table(b"._~%!$'()*+,:@/=-", false);

/// The `url_secret` pattern:
/// `[?&;](?:access_token|…|X-Amz-Security-Token)=[A-Za-z0-9._~%!$'()*+,:@/=-]+`.
pub(crate) fn url_secret_match(b: &[u8], p: usize, hi: usize) -> Option<Option<usize>> {
    let s = b.get(p..hi)?;
    if !matches!(s.first(), Some(b'?' | b'&' | b';')) {
        return Some(None);
    }
    // The longest name has 20 bytes.
    let Some(eq) = s.iter().skip(1).take(21).position(|&c| c == b'=') else {
        return Some(None);
    };
    if !URL_SECRET_NAMES.contains(&&s[1..1 + eq]) {
        return Some(None);
    }
    let value = 2 + eq;
    let n = s[value..]
        .iter()
        .take_while(|&&c| URL_VALUE[usize::from(c)])
        .count();
    Some((n > 0).then_some(p + value + n))
}

/// The non-ASCII character starting at `b[i]` (a whole one before `hi`), and its length.
fn char_at(b: &[u8], i: usize, hi: usize) -> Option<(char, usize)> {
    let len = match b.get(i)? {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return None,
    };
    let c = std::str::from_utf8(b.get(i..(i + len).min(hi))?)
        .ok()?
        .chars()
        .next()?;
    Some((c, len))
}

/// Whether an e-mail address may hold `c`, a character past ASCII (RFC 6531: letters and
/// digits of any script): every one but Latin-1's controls, spaces and signs, general
/// punctuation, symbols and arrows (U+2000–2BFF), CJK punctuation (U+3000–303F), CJK
/// compatibility forms, full-width ASCII punctuation, specials (U+FFF0–FFFF) and emoji.
/// The `email` pattern's class `[^\x00-\xBF…]` lists the same: a few ranges where the
/// Unicode letter classes would make a regex of thousands.
pub(crate) fn intl(c: char) -> bool {
    !matches!(
        c,
        '\u{0}'..='\u{BF}'
            | '\u{D7}'
            | '\u{F7}'
            | '\u{2000}'..='\u{2BFF}'
            | '\u{3000}'..='\u{303F}'
            | '\u{FE30}'..='\u{FE4F}'
            | '\u{FF00}'..='\u{FF0F}'
            | '\u{FF1A}'..='\u{FF20}'
            | '\u{FF3B}'..='\u{FF40}'
            | '\u{FF5B}'..='\u{FF65}'
            | '\u{FFF0}'..='\u{FFFF}'
            | '\u{1F000}'..='\u{1FAFF}'
    )
}

/// The length of the ASCII letter or digit, or the [`intl`] character, at `b[i]`, else 0.
pub(crate) fn alnum_len(b: &[u8], i: usize, hi: usize) -> usize {
    match b.get(i) {
        Some(c) if i < hi && c.is_ascii() => usize::from(c.is_ascii_alphanumeric()),
        Some(_) if i < hi => char_at(b, i, hi)
            .filter(|(c, _)| intl(*c))
            .map_or(0, |(_, l)| l),
        _ => 0,
    }
}

/// The `email` pattern: a local part, `@`, a label `(?:\.` label `)*\.`, a top-level
/// domain. With `U` an [`intl`] character: the local part is a dot-atom
/// `[A-Za-z0-9._%+\-U]+` (RFC 6531 lets it be in any script) or quoted (RFC 5322: `"john
/// doe"`, 1 to 64 characters, no `"`, `\` or line break inside; its quotes may be escaped
/// by up to three `\`, as in JSON held in JSON). A label is `[A-Za-z0-9U]` or that,
/// `[A-Za-z0-9U-]{0,61}` and `[A-Za-z0-9U]` (1 to 63 characters); the top-level domain
/// `[A-Za-z]{2,24}\b`, or 2 to 24 `U` (`.рф`, `.한국`).
pub(crate) fn email_match(b: &[u8], p: usize, hi: usize) -> Option<Option<usize>> {
    let s = b.get(..hi)?;
    let backslashes = |i: usize| {
        s[i.min(s.len())..]
            .iter()
            .take(4)
            .take_while(|&&c| c == b'\\')
            .count()
    };
    let mut i = p;
    let quote = backslashes(i);
    if quote <= 3 && s.get(i + quote) == Some(&b'"') {
        // `\\{0,3}"[^"\\\r\n]{1,64}\\{0,3}"`
        i += quote + 1;
        let mut chars = 0;
        while let Some(&c) = s.get(i) {
            if matches!(c, b'"' | b'\\' | b'\r' | b'\n') {
                break;
            }
            i += if c.is_ascii() {
                1
            } else {
                char_at(s, i, hi).map_or(1, |(_, l)| l)
            };
            chars += 1;
        }
        let close = backslashes(i);
        if !(1..=64).contains(&chars) || close > 3 || s.get(i + close) != Some(&b'"') {
            return Some(None);
        }
        i += close + 1;
    } else if quote > 0 {
        return Some(None);
    } else {
        while let Some(&c) = s.get(i) {
            let n = if matches!(c, b'.' | b'_' | b'%' | b'+' | b'-') {
                1
            } else {
                alnum_len(s, i, hi)
            };
            if n == 0 {
                break;
            }
            i += n;
        }
        if i == p {
            return Some(None);
        }
    }
    if s.get(i) != Some(&b'@') {
        return Some(None);
    }
    let mut label = i + 1;
    let mut end = None;
    loop {
        // The label's characters, taken whole: letters, digits, `-`.
        let (mut j, mut chars, mut last_alnum) = (label, 0, false);
        let first_alnum = alnum_len(s, label, hi) > 0;
        while let Some(&c) = s.get(j) {
            let n = if c == b'-' { 1 } else { alnum_len(s, j, hi) };
            if n == 0 {
                break;
            }
            last_alnum = c != b'-';
            j += n;
            chars += 1;
        }
        let valid = (1..=63).contains(&chars) && first_alnum && last_alnum;
        let dot = j;
        if !valid || s.get(dot) != Some(&b'.') {
            break;
        }
        // The top-level domain after this label's dot: its ASCII letters taken whole,
        // or up to 24 non-ASCII letters.
        let tld = s[dot + 1..]
            .iter()
            .take(25)
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        let after = dot + 1 + tld;
        if (2..=24).contains(&tld) && !b.get(after).is_some_and(|&c| is_word(c)) {
            end = Some(after);
        } else if tld == 0 {
            let (mut k, mut letters) = (dot + 1, 0);
            while letters < 24
                && let Some((c, l)) = char_at(s, k, hi)
                && intl(c)
            {
                k += l;
                letters += 1;
            }
            if letters >= 2 {
                end = Some(k);
            }
        }
        label = dot + 1;
    }
    Some(end)
}

/// The `alnum` group, IBAN then passport:
/// `\b(?:[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}|[a-z]{2}[0-9]{2}(?:[ ]?[a-z0-9]){11,30})\b` and
/// `\b[MSRODG](?:[0-9]{8}|[0-9]{3}[A-Z][0-9]{4})\b`: `Some(Some((pattern, end)))`.
pub(crate) fn alnum_match(b: &[u8], p: usize, hi: usize) -> Option<Option<(usize, usize)>> {
    let s = b.get(..hi)?;
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let ends_word = |i: usize| !b.get(i).is_some_and(|&c| is_word(c));
    if !word_starts(b, p) {
        return Some(None);
    }
    let first = at(p);
    // One case throughout: capitals, or small letters.
    let lower = first.is_ascii_lowercase();
    let letter = |c: u8| {
        if lower {
            c.is_ascii_lowercase()
        } else {
            c.is_ascii_uppercase()
        }
    };
    let upnum = |c: u8| letter(c) || c.is_ascii_digit();
    if letter(first)
        && letter(at(p + 1))
        && at(p + 2).is_ascii_digit()
        && at(p + 3).is_ascii_digit()
    {
        let (mut pos, mut reps, mut end) = (p + 4, 0, None);
        loop {
            if reps >= 11 && ends_word(pos) {
                end = Some(pos);
            }
            if reps == 30 {
                break;
            }
            pos = if upnum(at(pos)) {
                pos + 1
            } else if at(pos) == b' ' && upnum(at(pos + 1)) {
                pos + 2
            } else {
                break;
            };
            reps += 1;
        }
        return Some(end.map(|e| (0, e)));
    }
    if !matches!(first, b'M' | b'S' | b'R' | b'O' | b'D' | b'G') {
        return Some(None);
    }
    let digits = |from: usize, n: usize| (from..from + n).all(|i| at(i).is_ascii_digit());
    // `[0-9]{8}` or `[0-9]{3}[A-Z][0-9]{4}`: nine bytes either way.
    let passport = digits(p + 1, 3)
        && (at(p + 4).is_ascii_digit() || at(p + 4).is_ascii_uppercase())
        && digits(p + 5, 4);
    let end = p + 9;
    Some((passport && ends_word(end)).then_some((1, end)))
}

#[cfg(test)]
mod tests {
    use super::super::detect::BUILTIN;
    use super::*;
    use crate::redact::PiiType;
    use regex_automata::meta;

    fn regex(types: &[PiiType]) -> meta::Regex {
        let patterns: Vec<String> = types
            .iter()
            .map(|t| {
                BUILTIN
                    .iter()
                    .find(|(u, _)| u == t)
                    .map(|(_, p)| p.replace(r"\b", r"(?-u:\b)"))
                    .unwrap_or_default()
            })
            .collect();
        meta::Regex::new_many(&patterns).unwrap()
    }

    type Multi = fn(&[u8], usize, usize) -> Option<Option<(usize, usize)>>;

    /// Compares a hand reading with its regex at every place of `s`, for two bounds.
    fn compare(re: &meta::Regex, hand: Multi, s: &str, counts: &mut (usize, usize)) {
        crate::redact::compare_with_regex(re, hand, s, 3, counts);
    }

    /// Random strings glued from `pieces`, each compared at every place, then every
    /// line (and body) of the test corpora.
    fn check(types: &[PiiType], hand: Multi, pieces: &[&str], seed: u64) -> (usize, usize) {
        let re = regex(types);
        let mut next = crate::redact::xorshift(seed);
        let mut counts = (0, 0);
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..1 + next() % 12 {
                s.push_str(pieces[next() as usize % pieces.len()]);
            }
            compare(&re, hand, &s, &mut counts);
        }
        let random = counts;
        for text in crate::redact::corpus_texts() {
            compare(&re, hand, &text, &mut counts);
        }
        random
    }

    fn single(
        hand: fn(&[u8], usize, usize) -> Option<Option<usize>>,
    ) -> impl Fn(&[u8], usize, usize) -> Option<Option<(usize, usize)>> {
        move |b, p, hi| hand(b, p, hi).map(|m| m.map(|e| (0, e)))
    }

    #[test]
    fn url_secret_by_hand_is_the_regex() {
        let names = URL_SECRET_NAMES
            .iter()
            .map(|n| std::str::from_utf8(n).unwrap());
        // Names as they come in a query (`?name=`, `&name=`), and alone.
        let params: Vec<String> = names
            .clone()
            .flat_map(|n| [format!("?{n}="), format!("&{n}="), format!(";{n}=")])
            .collect();
        let mut pieces: Vec<&str> = names.chain(params.iter().map(String::as_str)).collect();
        pieces.extend([
            "?",
            "&",
            ";",
            "=",
            "==",
            "abc",
            "A1",
            "%2F",
            ".",
            "_",
            "~",
            "!",
            "$",
            "'",
            "(",
            ")",
            "*",
            "+",
            ",",
            ":",
            "@",
            "/",
            "-",
            " ",
            "#",
            "\"",
            "가",
            "Token",
            "tokens",
            "session_",
            "X-Amz-",
            "X-Goog-",
            "signature",
        ]);
        fn hand(b: &[u8], p: usize, hi: usize) -> Option<Option<(usize, usize)>> {
            single(url_secret_match)(b, p, hi)
        }
        let (decided, matched) = check(&[PiiType::UrlSecret], hand, &pieces, 0x0123_4567_89ab);
        assert!(decided > 200_000 && matched > 5_000, "{decided} {matched}");
    }

    #[test]
    fn email_by_hand_is_the_regex() {
        let long = "a".repeat(62);
        let longer = "b".repeat(64);
        let pieces = [
            "a",
            "Z",
            "0",
            "9",
            ".",
            "_",
            "%",
            "+",
            "-",
            "@",
            "@",
            "@",
            "com",
            "co",
            "kr",
            "c",
            "x1",
            "example",
            "EXAMPLE",
            "io",
            "-x",
            "x-",
            ".-",
            "..",
            " ",
            ",",
            "가",
            "_d",
            "abcdefghijklmnopqrstuvwxyz",
            &long,
            &longer,
            "ab.cd",
            "mail.example.org",
            "user.name",
            "\"",
            "\\",
            "\r\n",
            "é",
            "ü",
            "δοκιμή",
            "рф",
            "한국",
            "例子",
            "“",
            "²",
            "\u{301}",
        ];
        fn hand(b: &[u8], p: usize, hi: usize) -> Option<Option<(usize, usize)>> {
            single(email_match)(b, p, hi)
        }
        let (decided, matched) = check(&[PiiType::Email], hand, &pieces, 0x0e3a_11c0_ffee);
        assert!(decided > 300_000 && matched > 10_000, "{decided} {matched}");
    }

    #[test]
    fn email_local_parts_quoted_and_in_any_script() {
        let end = |s: &str| {
            email_match(s.as_bytes(), 0, s.len()).and_then(|m| m.map(|e| s[..e].to_string()))
        };
        // RFC 5322 quoted strings, their quotes maybe escaped (JSON in JSON).
        for v in [
            r#""john doe"@example.com"#,
            r#""a@b"@example.org"#,
            r#"\"jane roe\"@mail.example.net"#,
            r#"\\\"jane roe\\\"@mail.example.net"#,
        ] {
            assert_eq!(end(&format!("{v}, ok")).as_deref(), Some(v), "{v}");
        }
        // RFC 6531: local parts, labels and top-level domains in any script.
        for v in [
            "josé.garcía@example.com",
            "müller@bücher.example",
            "用户@例子.广告",
            "испытание@пример.рф",
            "홍길동@예시.한국",
        ] {
            assert_eq!(end(&format!("{v} ok")).as_deref(), Some(v), "{v}");
        }
        // No closing quote, a line break or a `"` inside, an empty quoted string,
        // four escapes, a symbol that is no letter.
        for v in [
            r#""john doe@example.com"#,
            "\"john\r\ndoe\"@example.com",
            r#""""@example.com"#,
            r#"\\\\"x"@example.com"#,
            "“@example.com",
        ] {
            assert_eq!(end(v), None, "{v:?}");
        }
    }

    #[test]
    fn alnum_by_hand_is_the_regex() {
        let pieces = [
            "DE",
            "GB",
            "KR",
            "M",
            "S",
            "R",
            "O",
            "D",
            "X",
            "89",
            "1",
            "12",
            "123",
            "1234",
            "12345678",
            "A",
            "Z",
            " ",
            "  ",
            "_",
            "a",
            "-",
            ".",
            "가",
            "3704 0044 0532 0130 00",
            "370400440532013000",
            "ABCD",
            "M123A4567",
            "M12345678",
            "0000 0000 0000",
            "DE89 3704 0044 0532 0130 0012 3456 7890 1234",
        ];
        let (decided, matched) = check(
            &[PiiType::Iban, PiiType::KrPassport],
            alnum_match,
            &pieces,
            0x1ba4_9a55_9047,
        );
        assert!(decided > 300_000 && matched > 5_000, "{decided} {matched}");
    }
}
