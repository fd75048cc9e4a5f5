//! The anchored search of the `secret` pattern (`password=…`, `Cookie: session=…`,
//! `비밀번호: …`) read by hand, the same match the regex in `detect.rs` finds.
//!
//! The pattern is `KEYWORD [A-Za-z0-9_-]* ["']? [ \t]* [:=] [ \t]* (b?"[^"\r\n]+" |
//! b?'[^'\r\n]+' | [A-Z][A-Za-z]{1,15} \( QUOTED | ["']? ((bearer|basic|token) [ ]+)? VALUE+)`
//! (`QUOTED` one of the first two without its `b`; an optional `\r?\n[ \t]+` before the value: the
//! value wrapped onto the next, indented line), the keywords ASCII
//! case-insensitive, `VALUE` any character but Unicode white space and `"'&,;}<>\`: a
//! quoted value runs to its closing quote (`password='ab&c d'`), another one to the first
//! byte a value does not hold. Every keyword is made of the bytes
//! of the run after it, and nothing that may follow the run (a quote, a blank, `:`, `=`)
//! is one of them: so the run is taken whole, whichever keyword starts it, and a shorter
//! run cannot match. Each later piece is one byte class that the piece after it does not
//! start with, so it too is taken whole. The one choice left is the optional
//! `bearer `/`basic `/`token ` part: taken when a value follows its spaces, else the value
//! starts at the word itself (leftmost-first tries the part first).

use super::starts::KOREAN_PASSWORD;

/// `[A-Za-z0-9_-]`: the bytes of a keyword and of the run after it.
fn is_key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Whether ASCII byte `c` may be in a value: not `\s` and not one of `"'&,;}<>\`.
const VALUE_ASCII: [bool; 128] = {
    let mut t = [false; 128];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        // `\s` in ASCII: `\t` through `\r`, and the space.
        let space = matches!(b, b'\t'..=b'\r' | b' ');
        t[c] = !space
            && !matches!(
                b,
                b'"' | b'\'' | b'&' | b',' | b';' | b'}' | b'<' | b'>' | b'\\'
            );
        c += 1;
    }
    t
};

/// The length of the UTF-8 character starting with byte `lead` (0x80 or more), and
/// whether it is Unicode white space (`\s`: U+0085, U+00A0, U+1680, U+2000–U+200A,
/// U+2028, U+2029, U+202F, U+205F, U+3000), read from `c` (its bytes).
fn wide_char(c: &[u8]) -> Option<(usize, bool)> {
    let (&lead, rest) = c.split_first()?;
    let len = match lead {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let space = matches!(
        (lead, rest.first().copied(), rest.get(1).copied()),
        (0xc2, Some(0x85 | 0xa0), _)
            | (0xe1, Some(0x9a), Some(0x80))
            | (0xe2, Some(0x80), Some(0x80..=0x8a | 0xa8 | 0xa9 | 0xaf))
            | (0xe2, Some(0x81), Some(0x9f))
            | (0xe3, Some(0x80), Some(0x80))
    );
    Some((len, space))
}

/// The length of the run of value characters at `b[pos..hi]`; `None` when a character
/// is cut by `hi` or not UTF-8 (then the regex decides).
fn value_run(b: &[u8], pos: usize, hi: usize) -> Option<usize> {
    let s = b.get(pos..hi)?;
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c < 0x80 {
            if !VALUE_ASCII[usize::from(c)] {
                break;
            }
            i += 1;
            continue;
        }
        let (len, space) = wide_char(s.get(i..)?)?;
        if space {
            break;
        }
        if i + len > s.len() {
            return None;
        }
        i += len;
    }
    Some(i)
}

/// Whether `w` starts with `lit`, ASCII case-insensitively.
fn starts_ci(w: &[u8], lit: &[u8]) -> bool {
    w.get(..lit.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(lit))
}

/// `lit`, then an optional `_` or `-`, then one of `ends` (ASCII case-insensitively).
fn joined(w: &[u8], lit: &[u8], ends: &[&[u8]]) -> bool {
    if !starts_ci(w, lit) {
        return false;
    }
    let rest = &w[lit.len()..];
    let rest = match rest.first() {
        Some(b'_' | b'-') => &rest[1..],
        _ => rest,
    };
    ends.iter().any(|e| starts_ci(rest, e))
}

/// Whether one of the pattern's ASCII keywords starts `w` (case-insensitively). Each is
/// cut to its shortest form, as the run after it takes any of the bytes that follow:
/// `pass` for `password`, `passwd`, `passphrase`, `passcode`, `pw` for `pwd`, `auth`
/// for `authorization`, `credential` for `credentials`, `sess` for `session_id` and
/// `sessid`, …
fn ascii_keyword(w: &[u8]) -> bool {
    let Some(&first) = w.first() else {
        return false;
    };
    match first.to_ascii_lowercase() {
        b'p' => {
            starts_ci(w, b"pass")
                || starts_ci(w, b"pw")
                || joined(w, b"private", &[b"key"])
                || starts_ci(w, b"pin")
        }
        b's' => {
            starts_ci(w, b"secret")
                || starts_ci(w, b"sess")
                || starts_ci(w, b"sid")
                || starts_ci(w, b"signature")
                || starts_ci(w, b"ssn")
        }
        b't' => starts_ci(w, b"token"),
        b'a' => {
            joined(w, b"api", &[b"key"]) || joined(w, b"access", &[b"key"]) || starts_ci(w, b"auth")
        }
        b'k' => starts_ci(w, b"key"),
        b'c' => {
            starts_ci(w, b"credential")
                || starts_ci(w, b"cookie")
                || joined(w, b"card", &[b"num", b"no"])
                || starts_ci(w, b"cvv")
                || starts_ci(w, b"cvc")
        }
        _ => false,
    }
}

/// The anchored search of the `secret` pattern at `p`, its match ending at or before
/// `hi`: `Some(Some(end))` a match, `Some(None)` none, `None` ask the regex.
pub(crate) fn secret_match(b: &[u8], p: usize, hi: usize) -> Option<Option<usize>> {
    let w = b.get(p..hi)?;
    // Just past the keyword and its run.
    let mut q = if ascii_keyword(w) {
        p + w.iter().take_while(|&&c| is_key_byte(c)).count()
    } else if let Some(k) = KOREAN_PASSWORD.iter().find(|k| w.starts_with(k.as_bytes())) {
        p + k.len()
    } else {
        return Some(None);
    };
    let at = |i: usize| if i < hi { b.get(i).copied() } else { None };
    // A quote or a closing bracket after the key: `"password":`, PHP's `[password] =>`.
    if matches!(at(q), Some(b'"' | b'\'' | b']')) {
        q += 1;
    }
    while matches!(at(q), Some(b' ' | b'\t')) {
        q += 1;
    }
    match at(q) {
        Some(b':') => q += 1,
        // `=`, or Ruby's, Perl's and PHP's `=>`.
        Some(b'=') => q += if at(q + 1) == Some(b'>') { 2 } else { 1 },
        _ => return Some(None),
    }
    while matches!(at(q), Some(b' ' | b'\t')) {
        q += 1;
    }
    // A value wrapped onto the next line, indented: `\r?\n[ \t]+`.
    let nl = match (at(q), at(q + 1)) {
        (Some(b'\n'), _) => 1,
        (Some(b'\r'), Some(b'\n')) => 2,
        _ => 0,
    };
    if nl > 0 && matches!(at(q + nl), Some(b' ' | b'\t')) {
        q += nl;
        while matches!(at(q), Some(b' ' | b'\t')) {
            q += 1;
        }
    }
    // A quoted value: up to its closing quote, one byte or more, on one line (tried
    // first, as the regex's alternation does); Python's bytes have a `b` before it.
    let bytes = usize::from(at(q) == Some(b'b') && matches!(at(q + 1), Some(b'"' | b'\'')));
    if let Some(quote) = at(q + bytes).filter(|c| matches!(c, b'"' | b'\''))
        && let Some(close) = b
            .get(q + bytes + 1..hi)?
            .iter()
            .position(|&c| c == quote || c == b'\r' || c == b'\n')
        && close > 0
        && b[q + bytes + 1 + close] == quote
    {
        return Some(Some(q + bytes + close + 2));
    }
    // A quoted value in a wrapper: `Some("…")`, `Secret('…')`.
    if at(q).is_some_and(|c| c.is_ascii_uppercase()) {
        let letters = b
            .get(q + 1..hi)?
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        let open = q + 1 + letters;
        if (1..=15).contains(&letters)
            && at(open) == Some(b'(')
            && let Some(quote) = at(open + 1).filter(|c| matches!(c, b'"' | b'\''))
            && let Some(close) = b
                .get(open + 2..hi)?
                .iter()
                .position(|&c| c == quote || c == b'\r' || c == b'\n')
            && close > 0
            && b[open + 2 + close] == quote
        {
            return Some(Some(open + close + 3));
        }
    }
    if matches!(at(q), Some(b'"' | b'\'')) {
        q += 1;
    }
    // `bearer `, `basic `, `token ` and a value after the spaces.
    let rest = b.get(q..hi)?;
    let word = [&b"bearer"[..], b"basic", b"token"]
        .into_iter()
        .find(|k| starts_ci(rest, k) && rest.get(k.len()) == Some(&b' '));
    if let Some(k) = word {
        let s = q + k.len() + rest[k.len()..].iter().take_while(|&&c| c == b' ').count();
        let n = value_run(b, s, hi)?;
        if n > 0 {
            return Some(Some(s + n));
        }
    }
    let n = value_run(b, q, hi)?;
    Some((n > 0).then_some(q + n))
}

#[cfg(test)]
mod tests {
    use super::super::detect::BUILTIN;
    use super::*;
    use crate::redact::PiiType;
    use regex_automata::meta;

    fn secret_regex() -> meta::Regex {
        let pattern = BUILTIN
            .iter()
            .find(|(t, _)| *t == PiiType::Secret)
            .map(|(_, p)| p.replace(r"\b", r"(?-u:\b)"))
            .unwrap_or_default();
        meta::Regex::new(&pattern).unwrap()
    }

    /// Compares the hand reading with the regex at every place of `s`, for two bounds.
    fn compare(re: &meta::Regex, s: &str, decided: &mut usize, matched: &mut usize) {
        let hand = |b: &[u8], p, hi| secret_match(b, p, hi).map(|m| m.map(|end| (0, end)));
        let mut counts = (0, 0);
        crate::redact::compare_with_regex(re, hand, s, 4, &mut counts);
        *decided += counts.0;
        *matched += counts.1;
    }

    #[test]
    fn white_space_is_unicode_white_space() {
        for c in (0x80..=0x10ffff).filter_map(char::from_u32) {
            let mut buf = [0; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            assert_eq!(
                wide_char(bytes),
                Some((bytes.len(), c.is_whitespace())),
                "{c:?}"
            );
        }
        for c in 0..0x80u8 {
            let excluded = char::from(c).is_whitespace() || br#""'&,;}<>\"#.contains(&c);
            assert_eq!(VALUE_ASCII[usize::from(c)], !excluded, "{c:#x}");
        }
    }

    #[test]
    fn python_bytes_are_quoted_values() {
        // `repr()` of a dict prints `bytes` as `b'…'` (or `b"…"` when the bytes hold a
        // `'`): the value is what the quotes hold, spaces and all.
        for (s, value) in [
            ("{'password': b'correct horse'}", "correct horse"),
            ("{'api_key': b\"it's-a-key\"}", "it's-a-key"),
            ("{'passphrase': b'aaa-bbb-ccc', 'n': 1}", "aaa-bbb-ccc"),
        ] {
            let b = s.as_bytes();
            let p = 2;
            let end = secret_match(b, p, b.len()).flatten().unwrap();
            let (vs, ve, sensitive) = crate::redact::validate::key_value(&b[p..end]).unwrap();
            assert!(sensitive, "{s}");
            assert_eq!(&s[p + vs..p + ve], value, "{s}");
        }
        // A value that starts with `b` is not bytes without its quote.
        let s = "password: bogus1";
        let end = secret_match(s.as_bytes(), 0, s.len()).flatten().unwrap();
        assert_eq!(&s[..end], s);
    }

    #[test]
    fn secret_by_hand_is_the_regex() {
        let re = secret_regex();
        // Keywords (and near misses), what joins a key to its value, and value pieces;
        // strings mostly cycle through the three.
        let keys: &[&str] = &[
            "password",
            "PassWord",
            "pass",
            "passwd",
            "pw",
            "PWD",
            "pin",
            "Pinx",
            "private",
            "private_key",
            "Private-Key",
            "privatekey",
            "private__key",
            "secret",
            "SECRET",
            "session",
            "session_id",
            "signature",
            "Signatures",
            "sign",
            "ssn",
            "token",
            "Token",
            "api",
            "api_key",
            "API-KEY",
            "apikey",
            "api__key",
            "access",
            "access_key",
            "AccessKey",
            "auth",
            "Authorization",
            "key",
            "KEY",
            "credential",
            "credentials",
            "cookie",
            "Cookie",
            "card",
            "card_number",
            "cardno",
            "card-num",
            "card_n",
            "cvv",
            "CVC",
            "cv",
            "비밀번호",
            "패스워드",
            "비번",
            "암호",
            "비밀",
            "암",
            "user_",
            "x-",
            "my",
        ];
        let glue: &[&str] = &[
            ":", "=", ": ", " = ", "\t:\t", " :", "\"", "'", "\":\"", "='", "\"=\"", ":'", " ",
            "  ", "\t", "::", "==", "-", "_x", "1", " => ", "=>", "] => ", "]=", "=>>", ">",
        ];
        let values: &[&str] = &[
            "bearer", "Bearer", "BASIC", "basic", "token", "tok", "bearer ", "Basic  ", "token ",
            "Token\t", "x", "a1", "_", "-", "abc123", "&", ",", ";", "}", "<", ">", "\\", "\n",
            "\r", "\u{0b}", "\u{0c}", "\u{a0}", "\u{85}", "\u{3000}", "\u{2009}", "\u{2028}",
            "\u{202f}", "\u{205f}", "\u{1680}", "가", "é", "€", "😀", "/", ".", "%2F", "@", "+",
            "?", "#", "{", "]", "(", " ", "\"", "'", "b", "b'x'", "b\"",
        ];
        let lists = [keys, glue, values];
        let mut next = crate::redact::xorshift(0x5ec2_e7b1_d0a7_f00d);
        let (mut decided, mut matched) = (0, 0);
        for _ in 0..20_000 {
            let mut s = String::new();
            let mut list = next() as usize;
            for _ in 0..1 + next() % 9 {
                // Mostly the next list in the cycle, sometimes any.
                list = if next().is_multiple_of(4) {
                    next() as usize
                } else {
                    list + 1
                };
                let pieces = lists[list % 3];
                s.push_str(pieces[next() as usize % pieces.len()]);
            }
            compare(&re, &s, &mut decided, &mut matched);
        }
        assert!(decided > 200_000 && matched > 10_000, "{decided} {matched}");
        // The test corpora's lines and the documents they hold, at every place.
        for text in crate::redact::corpus_texts() {
            compare(&re, &text, &mut decided, &mut matched);
        }
    }
}
