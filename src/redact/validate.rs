//! Validators: the checks a regex candidate must pass before it counts. They run only on
//! candidates, never on whole strings, and none of them allocates.
//!
//! Each takes the candidate's text and returns the span to redact (relative to the
//! candidate) or `None`; some narrow the span (the password of a URL, the value of
//! `token=…`) or shorten it (a card number followed by another group of digits).

use std::net::Ipv6Addr;

use crate::redact::PiiType;

use super::keys::is_builtin_sensitive;

/// Luhn checksum over ASCII digits (other bytes are skipped).
pub(crate) fn luhn(text: &[u8]) -> bool {
    let mut sum = 0u32;
    let mut n = 0usize;
    for &b in text.iter().rev().filter(|b| b.is_ascii_digit()) {
        let mut d = u32::from(b - b'0');
        if n % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        n += 1;
    }
    n > 0 && sum.is_multiple_of(10)
}

fn digits(text: &[u8]) -> usize {
    text.iter().filter(|b| b.is_ascii_digit()).count()
}

/// A payment card: 13–19 digits in one run or in groups split by one kind of separator
/// (4-4-4-4, 4-6-5, …), a known issuer prefix, Luhn. When the whole candidate fails,
/// shorter ones made of its leading groups are tried.
pub(crate) fn card(text: &[u8]) -> Option<usize> {
    let sep = text.iter().copied().find(|b| !b.is_ascii_digit());
    let Some(sep) = sep else {
        return card_ok(text).then_some(text.len());
    };
    if text.iter().any(|&b| !b.is_ascii_digit() && b != sep) {
        return None;
    }
    // The whole candidate first, then fewer and fewer of its leading groups.
    let mut end = text.len();
    loop {
        let part = &text[..end];
        if card_shape(part, sep) && card_ok(part) {
            return Some(end);
        }
        end = part.iter().rposition(|b| *b == sep)?;
    }
}

/// Groups of four (the last may be shorter), Amex/Diners 4-6-5 / 4-6-4, or a 19-digit
/// number as 6-13 (its six-digit IIN, then the rest).
fn card_shape(text: &[u8], sep: u8) -> bool {
    let mut lens = [0usize; 8];
    let mut n = 0;
    for group in text.split(|b| *b == sep) {
        match lens.get_mut(n) {
            Some(slot) => *slot = group.len(),
            None => return false,
        }
        n += 1;
    }
    match &lens[..n] {
        [4, 6, 5] | [4, 6, 4] | [6, 13] => true,
        [first @ .., last] => first.iter().all(|&l| l == 4) && (1..=4).contains(last),
        [] => false,
    }
}

fn card_ok(text: &[u8]) -> bool {
    let n = digits(text);
    if !(13..=19).contains(&n) {
        return false;
    }
    let mut d = text.iter().filter(|b| b.is_ascii_digit()).map(|b| b - b'0');
    let (a, b) = (d.next().unwrap_or(0), d.next().unwrap_or(0));
    let iin = match (a, b) {
        (4, _) => matches!(n, 13 | 16 | 19),
        (5, 1..=5) | (2, 2..=7) => n == 16,
        (3, 4 | 7) => n == 15,
        (3, 0 | 6 | 8) => (14..=16).contains(&n),
        // JCB, Discover, UnionPay, Maestro 6…; Maestro 50, 56–59 (5018, 5893).
        (3, 5) | (6, _) | (5, 0 | 6..=9) => (16..=19).contains(&n),
        _ => false,
    };
    iin && luhn(text)
}

/// A real calendar date.
pub(crate) fn real_date(year: u32, month: u32, day: u32) -> bool {
    day >= 1 && day <= days_in_month(year, month)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
}

/// A Korean resident (sex digit 1–4, 9, 0) or foreigner (5–8) registration number:
/// YYMMDD, then the sex digit, then six digits, with a real date. The old checksum is not
/// required (numbers issued since October 2020 do not satisfy it), except when the
/// number is written as one run of 13 digits, which is also what many ids and millisecond
/// timestamps look like: then it must pass the checksum or be a post-2020 number
/// (born 2020 or later).
pub(crate) fn rrn(text: &[u8]) -> Option<PiiType> {
    rrn_with(text, false)
}

/// A resident or foreigner number with context: a real date and sex digit, no checksum
/// asked of a 13-digit run.
pub(crate) fn rrn_date(text: &[u8]) -> Option<PiiType> {
    rrn_with(text, true)
}

fn rrn_with(text: &[u8], context: bool) -> Option<PiiType> {
    let mut d = [0u8; 13];
    let mut n = 0;
    for &b in text.iter().filter(|b| b.is_ascii_digit()) {
        *d.get_mut(n)? = b;
        n += 1;
    }
    if n != 13 {
        return None;
    }
    let sex = d[6] - b'0';
    let century = match sex {
        1 | 2 | 5 | 6 => 1900,
        3 | 4 | 7 | 8 => 2000,
        9 | 0 => 1800,
        _ => return None,
    };
    let year = century + num(&d[0..2]);
    let (month, day) = (num(&d[2..4]), num(&d[4..6]));
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let separated = text.len() > 13;
    // Without the checksum, a run of 13 digits passes as a post-2020 number only with a
    // birth year that has come (`5004033830905` is a barcode, not someone born in 2050).
    if !context && !separated && !rrn_checksum(&d) && (year < 2020 || year > this_year()) {
        return None;
    }
    Some(if (5..=8).contains(&sex) {
        PiiType::KrFrn
    } else {
        PiiType::KrRrn
    })
}

/// The current year (UTC).
fn this_year() -> u32 {
    let year = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year();
    u32::try_from(year).unwrap_or(0)
}

/// The check digit of a registration number issued before October 2020: weights
/// 2–9, 2–5 over the first twelve digits, then `(11 - sum % 11) % 10` for a resident
/// and `(13 - sum % 11) % 10` for a foreigner (sex digit 5–8).
fn rrn_checksum(d: &[u8; 13]) -> bool {
    const W: [u32; 12] = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
    let sum: u32 = d[..12]
        .iter()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let base = if matches!(d[6], b'5'..=b'8') { 13 } else { 11 };
    (base - sum % 11) % 10 == u32::from(d[12] - b'0')
}

/// Korean business registration number: `NNN-NN-NNNNN` with its checksum.
pub(crate) fn brn(text: &[u8]) -> bool {
    const W: [u32; 9] = [1, 3, 7, 1, 3, 7, 1, 3, 5];
    let mut d = [0u32; 10];
    let mut n = 0;
    for &b in text.iter().filter(|b| b.is_ascii_digit()) {
        match d.get_mut(n) {
            Some(slot) => *slot = u32::from(b - b'0'),
            None => return false,
        }
        n += 1;
    }
    if n != 10 {
        return false;
    }
    let mut sum: u32 = d[..9].iter().zip(W).map(|(x, w)| x * w).sum();
    sum += d[8] * 5 / 10;
    (10 - sum % 10) % 10 == d[9]
}

/// IBAN, ISO 13616: 15–34 characters, mod-97 == 1. Written in groups of four, shorter
/// candidates made of leading groups are tried too.
///
/// Written in small letters (as some forms and logs lower-case it), it must also name a
/// country of the IBAN registry and have that country's length: small letters are common
/// in hashes and ids, capitals and digits in that shape are not.
pub(crate) fn iban(text: &[u8]) -> Option<usize> {
    let lower = text.first().is_some_and(u8::is_ascii_lowercase);
    let country_len = if lower {
        let cc = [
            text.first()?.to_ascii_uppercase(),
            text.get(1)?.to_ascii_uppercase(),
        ];
        Some(IBAN_LENGTHS.iter().find(|(c, _)| *c == cc)?.1)
    } else {
        None
    };
    let mut end = text.len();
    loop {
        let part = &text[..end];
        let len = part.iter().filter(|b| **b != b' ').count();
        if (15..=34).contains(&len)
            && country_len.is_none_or(|n| usize::from(n) == len)
            && iban_mod97(part)
        {
            return Some(end);
        }
        end = part.iter().rposition(|b| *b == b' ')?;
    }
}

/// The countries of the IBAN registry (ISO 13616, SWIFT's list) and their IBAN lengths.
const IBAN_LENGTHS: &[([u8; 2], u8)] = &[
    (*b"AD", 24),
    (*b"AE", 23),
    (*b"AL", 28),
    (*b"AT", 20),
    (*b"AZ", 28),
    (*b"BA", 20),
    (*b"BE", 16),
    (*b"BG", 22),
    (*b"BH", 22),
    (*b"BI", 27),
    (*b"BR", 29),
    (*b"BY", 28),
    (*b"CH", 21),
    (*b"CR", 22),
    (*b"CY", 28),
    (*b"CZ", 24),
    (*b"DE", 22),
    (*b"DJ", 27),
    (*b"DK", 18),
    (*b"DO", 28),
    (*b"EE", 20),
    (*b"EG", 29),
    (*b"ES", 24),
    (*b"FI", 18),
    (*b"FK", 18),
    (*b"FO", 18),
    (*b"FR", 27),
    (*b"GB", 22),
    (*b"GE", 22),
    (*b"GI", 23),
    (*b"GL", 18),
    (*b"GR", 27),
    (*b"GT", 28),
    (*b"HR", 21),
    (*b"HU", 28),
    (*b"IE", 22),
    (*b"IL", 23),
    (*b"IQ", 23),
    (*b"IS", 26),
    (*b"IT", 27),
    (*b"JO", 30),
    (*b"KW", 30),
    (*b"KZ", 20),
    (*b"LB", 28),
    (*b"LC", 32),
    (*b"LI", 21),
    (*b"LT", 20),
    (*b"LU", 20),
    (*b"LV", 21),
    (*b"LY", 25),
    (*b"MC", 27),
    (*b"MD", 24),
    (*b"ME", 22),
    (*b"MK", 19),
    (*b"MN", 20),
    (*b"MR", 27),
    (*b"MT", 31),
    (*b"MU", 30),
    (*b"NI", 28),
    (*b"NL", 18),
    (*b"NO", 15),
    (*b"OM", 23),
    (*b"PK", 24),
    (*b"PL", 28),
    (*b"PS", 29),
    (*b"PT", 25),
    (*b"QA", 29),
    (*b"RO", 24),
    (*b"RS", 22),
    (*b"RU", 33),
    (*b"SA", 24),
    (*b"SC", 31),
    (*b"SD", 18),
    (*b"SE", 24),
    (*b"SI", 19),
    (*b"SK", 24),
    (*b"SM", 27),
    (*b"SO", 23),
    (*b"ST", 25),
    (*b"SV", 28),
    (*b"TL", 23),
    (*b"TN", 24),
    (*b"TR", 26),
    (*b"UA", 29),
    (*b"VA", 22),
    (*b"VG", 24),
    (*b"XK", 20),
    (*b"YE", 30),
];

fn iban_mod97(text: &[u8]) -> bool {
    let chars = || text.iter().copied().filter(|b| *b != b' ');
    let mut rem = 0u32;
    for b in chars().skip(4).chain(chars().take(4)) {
        rem = match b {
            b'0'..=b'9' => (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(b - b'A' + 10)) % 97,
            b'a'..=b'z' => (rem * 100 + u32::from(b - b'a' + 10)) % 97,
            _ => return false,
        };
    }
    rem == 1
}

/// US SSN `AAA-GG-SSSS`: area not 000, 666 or 9xx; group not 00; serial not 0000.
pub(crate) fn ssn(text: &[u8]) -> bool {
    if text.len() != 11 {
        return false;
    }
    let (area, group, serial) = (num(&text[0..3]), num(&text[4..6]), num(&text[7..11]));
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

/// A GTIN (EAN-8, UPC-A, EAN-13, GTIN-14): 8, 12, 13 or 14 digits whose last is the
/// check digit (weights 3 and 1 alternating from the right, mod 10).
pub(crate) fn gtin(text: &[u8]) -> bool {
    if !matches!(text.len(), 8 | 12 | 13 | 14) || !text.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (body, check) = text.split_at(text.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, c)| u32::from(c - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10 == u32::from(check[0] - b'0')
}

/// IPv4: four octets up to 255 without leading zeros, and not part of a longer dotted
/// number (`1.2.3.4.5`, a version string), nor a product's version token
/// (`Chrome/120.0.0.0` in a user agent), nor a version after a word that marks one
/// (`version 6.11.4.50`, `build 10.0.19045.3803`).
pub(crate) fn ipv4(hay: &[u8], start: usize, end: usize) -> bool {
    let text = &hay[start..end];
    let octets_ok = text
        .split(|b| *b == b'.')
        .all(|o| !o.is_empty() && o.len() <= 3 && (o.len() == 1 || o[0] != b'0') && num(o) <= 255);
    let dotted_before = start >= 2 && hay[start - 1] == b'.' && hay[start - 2].is_ascii_digit();
    let dotted_after =
        hay.get(end) == Some(&b'.') && hay.get(end + 1).is_some_and(u8::is_ascii_digit);
    // `Product/1.2.3.4`: a `/` right after a letter or digit (a URL's `//` is not),
    // unless the address is a segment of a URL path (`/hosts/10.1.2.3/status`): the
    // word before the `/` follows a `/` too, or a `/`, `?` or `#` follows the address.
    let product =
        start >= 2 && hay[start - 1] == b'/' && hay[start - 2].is_ascii_alphanumeric() && {
            let word = hay[..start - 1]
                .iter()
                .rposition(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')));
            let path_before = word.is_some_and(|w| hay[w] == b'/');
            let path_after = matches!(hay.get(end), Some(b'/' | b'?' | b'#'));
            !path_before && !path_after
        };
    octets_ok
        && !dotted_before
        && !dotted_after
        && !product
        && !super::context::hint_has(hay, start, super::context::VERSION)
}

/// IPv6: parses, and has at least three groups written (so `a::b` in a path is not one).
pub(crate) fn ipv6(text: &str) -> bool {
    let groups = text.split(':').filter(|g| !g.is_empty()).count();
    groups >= 3 && text.parse::<Ipv6Addr>().is_ok()
}

/// False when `start..end` is glued by a dash or dot to more letters or digits on either
/// side: one group of a UUID (`6ddf-1588-9080`), a version, a Kubernetes name.
pub(crate) fn standalone(hay: &[u8], start: usize, end: usize) -> bool {
    let glue = |b: u8| b == b'-' || b == b'.';
    let before = start >= 2 && glue(hay[start - 1]) && hay[start - 2].is_ascii_alphanumeric();
    let after = hay.get(end).is_some_and(|b| glue(*b))
        && hay.get(end + 1).is_some_and(u8::is_ascii_alphanumeric);
    !before && !after
}

/// E.164 written with `+`: 8–15 digits, not glued to a word before it.
pub(crate) fn phone_intl(hay: &[u8], start: usize, end: usize) -> Option<usize> {
    if start > 0 && hay[start - 1].is_ascii_alphanumeric() {
        return None;
    }
    let text = &hay[start..end];
    let end = text.iter().rposition(u8::is_ascii_digit)? + 1;
    (8..=15).contains(&digits(&text[..end])).then_some(end)
}

/// `Bearer <token>` / `Basic <base64 user:pass>`: the span of the credential. A bearer
/// token needs 16 characters, or 8 with a digit; a basic one must decode to `user:pass`.
pub(crate) fn auth_header(text: &[u8]) -> Option<(usize, usize)> {
    let space = text.iter().position(|b| *b == b' ')?;
    let scheme = &text[..space];
    let start = space + text[space..].iter().position(|b| *b != b' ')?;
    let token = &text[start..];
    let ok = if scheme.eq_ignore_ascii_case(b"basic") {
        base64_has_colon(token)
    } else {
        token.len() >= 16 || (token.len() >= 8 && token.iter().any(u8::is_ascii_digit))
    };
    ok.then_some((start, text.len()))
}

fn base64_has_colon(token: &[u8]) -> bool {
    let mut acc = 0u32;
    let mut bits = 0;
    for &b in token {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return false,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if (acc >> bits) & 0xff == u32::from(b':') {
                return true;
            }
        }
    }
    false
}

/// `scheme://user:pass@`: the span of `pass`.
pub(crate) fn url_password(text: &[u8]) -> Option<(usize, usize)> {
    let authority = text.windows(3).position(|w| w == b"://")? + 3;
    let colon = authority + text[authority..].iter().position(|b| *b == b':')?;
    let at = text.len().checked_sub(1)?;
    (at > colon + 1).then_some((colon + 1, at))
}

/// `?token=…`: the span of the value.
pub(crate) fn url_secret(text: &[u8]) -> Option<(usize, usize)> {
    let eq = text.iter().position(|b| *b == b'=')? + 1;
    (eq < text.len()).then_some((eq, text.len()))
}

/// A vendor-prefixed key: OpenAI-style `sk-…` keys are random, so the part after the
/// prefix must hold two digits and two capitals (not `sk-hynix-memory-controller-a`).
pub(crate) fn api_key(text: &[u8]) -> bool {
    if !text.starts_with(b"sk-") {
        return true;
    }
    if legacy_openai_key(text) {
        return true;
    }
    let digits = text.iter().filter(|c| c.is_ascii_digit()).count();
    let upper = text.iter().filter(|c| c.is_ascii_uppercase()).count();
    digits >= 2 && upper >= 2
}

/// A legacy OpenAI secret key: `sk-`, 20 base62 characters, `T3BlbkFJ` (`OpenAI` in
/// base64), 20 base62 characters. The marker says what it is, whatever the random parts
/// hold (a 40-character base62 body has fewer than two digits about once in 130).
fn legacy_openai_key(text: &[u8]) -> bool {
    text.len() == 51
        && &text[23..31] == b"T3BlbkFJ"
        && text[3..].iter().all(u8::is_ascii_alphanumeric)
}

/// `password=…`, `"api_key": "…"`, `Authorization: Bearer …` in text: the span of the
/// value, and whether the key is a sensitive name by the same rule as JSON keys (else
/// it marks a credential: `key=`, `auth:`, and the caller asks for a random token).
pub(crate) fn key_value(text: &[u8]) -> Option<(usize, usize, bool)> {
    let key_end = text
        .iter()
        .position(|b| matches!(b, b'"' | b'\'' | b' ' | b'\t' | b':' | b'='))?;
    let key = &text[..key_end];
    let sensitive = is_builtin_sensitive(key);
    if !sensitive
        && std::str::from_utf8(key).map_or(true, |k| {
            super::context::Key(Some(k)).hint() & super::context::CREDENTIAL == 0
        })
    {
        return None;
    }
    let mut sep = key_end
        + text[key_end..]
            .iter()
            .position(|b| matches!(b, b':' | b'='))?;
    // Ruby's, Perl's and PHP's `=>`.
    if text[sep] == b'=' && text.get(sep + 1) == Some(&b'>') {
        sep += 1;
    }
    let mut start = sep
        + 1
        + text[sep + 1..]
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\''))?;
    // Python's bytes (`b'…'`): the value is inside the quotes.
    if text[start] == b'b'
        && !matches!(text[start - 1], b'"' | b'\'')
        && let Some(&q) = text.get(start + 1).filter(|q| matches!(q, b'"' | b'\''))
        && text.len() > start + 3
        && text.ends_with(&[q])
    {
        start += 2;
    }
    // A quoted value in a wrapper (`Some("…")`): the value is inside the quotes.
    if text[start].is_ascii_uppercase() && !matches!(text[start - 1], b'"' | b'\'') {
        let letters = text[start..]
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        let open = start + letters;
        if text.get(open) == Some(&b'(')
            && text
                .get(open + 1)
                .is_some_and(|q| matches!(q, b'"' | b'\'') && text.ends_with(&[*q]))
            && text.len() > open + 3
        {
            start = open + 2;
        }
    }
    // A quoted value (`password='ab&c d'`): without its closing quote.
    let quote = text[start - 1];
    let end = if matches!(quote, b'"' | b'\'') && text.len() > start && text.ends_with(&[quote]) {
        text.len() - 1
    } else {
        text.len()
    };
    (start < end).then_some((start, end, sensitive))
}

/// The end of a PEM block the `private_key` pattern matched: all of it with its `END`
/// line. Cut off before it (a logger's limit), it ends where its body stops looking like
/// one, so what a log goes on with after the cut stays. Line by line (real breaks or
/// `\n` escapes): header lines (`Proc-Type: …`, `DEK-Info: …`) before the body are taken
/// whole; in the body each blank-separated token is base64 (`=` only at its end), and a
/// token or line follows only a full line (60 characters or more; a block flattened onto
/// one line has its lines between blanks). A token that starts with 16 or more base64
/// characters and goes on with others ends the block after them (`…Nxv,Y,서울`).
pub(crate) fn pem_end(text: &[u8]) -> usize {
    let header = header_end(text);
    if header < text.len() && text.ends_with(b"-----") {
        return text.len();
    }
    let b64 = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=');
    let mut end = header;
    let mut i = header;
    let (mut body, mut full) = (false, true);
    while i < text.len() {
        let from = i;
        while i < text.len()
            && !matches!(text[i], b'\n' | b'\r')
            && !(text[i] == b'\\' && matches!(text.get(i + 1), Some(b'n' | b'r')))
        {
            i += 1;
        }
        let line = &text[from..i];
        let header_line = !body
            && blank_tokens(line)
                .next()
                .is_some_and(|(t, e)| line[t..e].ends_with(b":"));
        for (t, e) in blank_tokens(line) {
            let token = &line[t..e];
            if header_line {
                end = from + e;
                continue;
            }
            body = true;
            let run = token.iter().take_while(|c| b64(c)).count();
            let padded = token[..run].iter().rposition(|&c| c != b'=');
            let run = match padded {
                // `=` inside a run (`md5=b70c…`): the run ends before it.
                Some(last) if token[..=last].contains(&b'=') => {
                    token.iter().position(|&c| c == b'=').unwrap_or(run)
                }
                _ => run,
            };
            if !full {
                return end;
            }
            if run < token.len() {
                if run >= 16 {
                    end = from + t + run;
                }
                return end;
            }
            end = from + e;
            full = token.len() >= 60;
        }
        // Past the line break.
        i += match text.get(i) {
            Some(b'\\') => 2,
            Some(_) => 1,
            None => 0,
        };
    }
    end
}

/// The tokens of `line` between spaces and tabs: (start, end).
fn blank_tokens(line: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let blank = |c: u8| matches!(c, b' ' | b'\t');
    let mut j = 0;
    std::iter::from_fn(move || {
        while j < line.len() && blank(line[j]) {
            j += 1;
        }
        let t = j;
        while j < line.len() && !blank(line[j]) {
            j += 1;
        }
        (j > t).then_some((t, j))
    })
}

/// Just past the `-----BEGIN …-----` line a PEM match starts with.
fn header_end(text: &[u8]) -> usize {
    text.get(5..)
        .and_then(|rest| rest.windows(5).position(|w| w == b"-----"))
        .map_or(text.len(), |p| p + 10)
}

/// Whether the key of `kv` (`key: value` text, as [`key_value`] reads it) is a `Cookie`
/// header's (`Cookie`, `http.request.header.cookie`; not `Set-Cookie`, which sets one
/// cookie and goes on with its attributes).
pub(crate) fn cookie_header(kv: &[u8]) -> bool {
    let key_end = kv
        .iter()
        .position(|b| matches!(b, b'"' | b'\'' | b' ' | b'\t' | b':' | b'='))
        .unwrap_or(kv.len());
    let key = &kv[..key_end];
    let tail = key.len().saturating_sub(6);
    key[tail..].eq_ignore_ascii_case(b"cookie")
        && !key.get(..3).is_some_and(|k| k.eq_ignore_ascii_case(b"set"))
}

/// A cookie value's byte (RFC 6265 `cookie-octet`): printable ASCII but the space,
/// `"`, `,`, `;` and `\`.
/// Whether an HTML tag starts at `b[i]` (`<` and a letter or `/`): text written into
/// HTML (`<p>password is …</p>`) ends a value there.
pub(crate) fn tag_at(b: &[u8], i: usize) -> bool {
    b.get(i) == Some(&b'<')
        && b.get(i + 1)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'/')
}

fn cookie_octet(c: u8) -> bool {
    matches!(c, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

/// The end of a `Cookie` header's pairs: from `end` (the end of its first value) over
/// each `; name=value` after it.
pub(crate) fn cookie_pairs_end(b: &[u8], mut end: usize) -> usize {
    loop {
        let mut i = end;
        if b.get(i) != Some(&b';') {
            return end;
        }
        i += 1;
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        let name = i;
        while b
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'$'))
        {
            i += 1;
        }
        if i == name || b.get(i) != Some(&b'=') {
            return end;
        }
        i += 1;
        let value = i;
        while b.get(i).copied().is_some_and(cookie_octet) && !tag_at(b, i) {
            i += 1;
        }
        if i == value {
            return end;
        }
        end = i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_ends() {
        let line = "MIIEowIBAAKCAQEAx7Zr9kq1PaZ3Qm8vXy2Lk4Rt6Yb1Nc0Wd5Es7Fg9Hj2Kl3Zx8Cv";
        assert!(line.len() >= 60);
        let whole =
            format!("-----BEGIN RSA PRIVATE KEY-----\n{line}\nAb3=\n-----END RSA PRIVATE KEY-----");
        assert_eq!(pem_end(whole.as_bytes()), whole.len());
        // Cut off, and the line goes on: the block ends with its body (a token after a
        // full line may be the next line of a block flattened onto one line).
        for (cut, rest) in [
            (
                format!("-----BEGIN PRIVATE KEY-----\n{line}\n{line} total"),
                " 69,983.78.",
            ),
            (
                format!("-----BEGIN PRIVATE KEY-----\n{line}\n{line} tid"),
                " 9077317864389634",
            ),
            (
                format!("-----BEGIN PRIVATE KEY-----\\n{line}\\nAb3"),
                " ts: 5",
            ),
            (
                format!("-----BEGIN PRIVATE KEY----- {line} {line} Ab3"),
                " 1 2",
            ),
            ("-----BEGIN EC PRIVATE KEY-----".to_string(), ", cut 12"),
            (
                format!("-----BEGIN PRIVATE KEY-----\n{line}\nAb3dEf9hIjKlMnOpQr"),
                ",Y,서울",
            ),
        ] {
            let text = format!("{cut}{rest}");
            assert_eq!(pem_end(text.as_bytes()), cut.len(), "{text}");
        }
        // The next line of a log after the cut, and a key=value glued by `=`.
        let http = format!(
            "-----BEGIN RSA PRIVATE KEY-----\n{line}\n{line}\r\nCookie: sid=abc; connect.sid=x"
        );
        assert_eq!(
            pem_end(http.as_bytes()),
            http.find("\r\nCookie").unwrap_or(0)
        );
        let md5 = format!("-----BEGIN PRIVATE KEY-----\n{line} md5=b70c87057f957e48af8");
        assert_eq!(pem_end(md5.as_bytes()), md5.find(" md5").unwrap_or(0));
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\nMIIEowIBAAKCAQEAx7Zr9kq1";
        assert_eq!(pem_end(legacy.as_bytes()), legacy.len());
    }

    #[test]
    fn cookie_headers() {
        assert!(cookie_header(b"Cookie: a=b"));
        assert!(cookie_header(b"http.request.header.cookie=a"));
        assert!(!cookie_header(b"Set-Cookie: sid=x"));
        assert!(!cookie_header(b"cookies_enabled=true"));
        let s = b"Cookie: lang=ko; sid=X3gH7tx; _ga=GA1.2.3 next";
        let first = s.iter().position(|&c| c == b';').unwrap_or(0);
        assert_eq!(cookie_pairs_end(s, first), s.len() - 5);
        // No pair after the `;`: the first value ends it.
        assert_eq!(cookie_pairs_end(b"a=b; HttpOnly", 3), 3);
        assert_eq!(cookie_pairs_end(b"a=b;", 3), 3);
        assert_eq!(cookie_pairs_end(b"a=b; =c", 3), 3);
    }

    #[test]
    fn luhn_and_cards() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert_eq!(card(b"4111111111111111"), Some(16));
        assert_eq!(card(b"4111 1111 1111 1111"), Some(19));
        assert_eq!(card(b"4111-1111-1111-1111"), Some(19));
        assert_eq!(card(b"3782 822463 10005"), Some(17));
        // Mixed separators, a trailing group, a bad issuer, a Luhn failure.
        assert_eq!(card(b"4111 1111-1111 1111"), None);
        assert_eq!(card(b"4111 1111 1111 1111 2024"), Some(19));
        assert_eq!(card(b"1718236800000"), None);
        assert_eq!(card(b"4111111111111112"), None);
        // 19 digits as the six-digit IIN and the rest (ISO/IEC 7812), spaced or dashed.
        assert_eq!(card(b"358900 0000000000017"), Some(20));
        assert_eq!(card(b"622126-0000000000001"), Some(20));
        assert_eq!(card(b"358900 0000000000018"), None);
        assert_eq!(card(b"358900 000000000001"), None);
        // Maestro 50 and 56–59: 16 to 19 digits.
        assert_eq!(card(b"5893000000000017"), Some(16));
        assert_eq!(card(b"5018 0000 0000 0017"), Some(19));
        assert_eq!(card(b"5893000000003"), None);
        assert_eq!(card(b"5893000000000018"), None);
    }

    #[test]
    fn resident_numbers() {
        assert_eq!(rrn(b"900101-1234567"), Some(PiiType::KrRrn));
        assert_eq!(rrn(b"041231-3234567"), Some(PiiType::KrRrn));
        assert_eq!(rrn(b"900101-5234567"), Some(PiiType::KrFrn));
        assert_eq!(rrn(b"000229-3234567"), Some(PiiType::KrRrn)); // 2000 is a leap year
        assert_eq!(rrn(b"010229-3234567"), None);
        assert_eq!(rrn(b"901301-1234567"), None);
        assert_eq!(rrn(b"900132-1234567"), None);
        // One run of 13 digits: checksum or born since 2020.
        assert_eq!(rrn(b"2103154123456"), Some(PiiType::KrRrn));
        assert_eq!(rrn(b"1710151234567"), None);
        // ... but not one born in the future (an EAN-13 barcode; its checksum fails).
        assert_eq!(rrn(b"5004033830905"), None);
        assert_eq!(rrn(b"8001011234560"), Some(PiiType::KrRrn)); // checksum holds
        // A foreigner's check digit is `(13 - sum % 11) % 10`.
        assert_eq!(rrn(b"9001015123452"), Some(PiiType::KrFrn));
        assert_eq!(rrn(b"9001015123450"), None);
    }

    #[test]
    fn gtins() {
        // EAN-13, UPC-A, EAN-8 examples with their published check digits.
        assert!(gtin(b"4006381333931"));
        assert!(gtin(b"036000291452"));
        assert!(gtin(b"96385074"));
        assert!(!gtin(b"4006381333932"));
        assert!(!gtin(b"40063813339"));
    }

    #[test]
    fn business_numbers_ibans_ssns() {
        assert!(brn(b"220-81-62517"));
        assert!(!brn(b"220-81-62518"));
        assert_eq!(iban(b"DE89370400440532013000"), Some(22));
        assert_eq!(iban(b"GB82 WEST 1234 5698 7654 32"), Some(27));
        assert_eq!(iban(b"GB82 WEST 1234 5698 7654 32 OK"), Some(27));
        assert_eq!(iban(b"DE89370400440532013001"), None);
        assert!(ssn(b"123-45-6789"));
        assert!(!ssn(b"000-45-6789") || !ssn(b"666-45-6789") || !ssn(b"123-00-6789"));
        assert!(!ssn(b"912-45-6789"));
    }

    #[test]
    fn ips() {
        let ok = |s: &str| ipv4(s.as_bytes(), 0, s.len());
        assert!(ok("192.168.0.1"));
        assert!(!ok("256.1.1.1"));
        assert!(!ok("01.2.3.4"));
        assert!(!ipv4(b"1.2.3.4.5", 0, 7));
        let ua = b"Mozilla/5.0 Chrome/120.0.0.0 Safari/537.36";
        assert!(!ipv4(ua, 19, 28));
        assert!(ipv4(b"http://10.0.0.1/x", 7, 15));
        assert!(!ipv4(b"version 6.11.4.50", 8, 17));
        assert!(ipv4(b"from 6.11.4.50", 5, 14));
        // An address as a URL path segment is one; a product token is not.
        assert!(ipv4(b"GET /hosts/10.1.2.3/status", 11, 19));
        assert!(ipv4(b"GET /api/hosts/10.1.2.3", 15, 23));
        assert!(ipv4(b"hosts/10.1.2.3?x=1", 6, 14));
        assert!(!ipv4(b"Mozilla/5.0 Chrome/120.0.0.0 Safari", 19, 28));
        assert!(ipv6("2001:db8::8a2e:370:7334"));
        let uuid = b"b3b57508-6ddf-1591-9080-476918c66912";
        assert!(!standalone(uuid, 14, 23));
        assert!(standalone(b"call 1588-1234.", 5, 14));
        assert!(!ipv6("abc::def"));
        assert!(!ipv6("10:20:30"));
    }

    #[test]
    fn credentials() {
        assert_eq!(auth_header(b"Bearer abcdefghijklmnop12"), Some((7, 25)));
        assert_eq!(auth_header(b"Bearer authentication"), None);
        assert_eq!(auth_header(b"Basic dXNlcjpwYXNz"), Some((6, 18)));
        assert_eq!(auth_header(b"Basic authentication"), None);
        assert_eq!(url_password(b"postgres://app:hunter2@"), Some((15, 22)));
        assert_eq!(url_secret(b"?token=abc"), Some((7, 10)));
        assert_eq!(key_value(b"password=hunter2"), Some((9, 16, true)));
        assert_eq!(key_value(b"\"api_key\": \"k-123\""), None);
        assert_eq!(key_value(b"api_key\": \"k-123"), Some((11, 16, true)));
        assert_eq!(key_value(b"max_tokens: 4096"), None);
        assert_eq!(key_value(b"key=abc"), Some((4, 7, false)));
        assert_eq!(key_value(b"monkey=abc"), None);
        assert!(api_key(b"sk-proj-Ab3dEf6hIj9kLmN0pQrStUvWx"));
        assert!(!api_key(b"sk-hynix-memory-controller-a"));
    }

    #[test]
    fn legacy_openai_keys_by_their_marker() {
        // `sk-`, 20 base62, `T3BlbkFJ`, 20 base62: a body with one digit (or none) is
        // still the vendor's key; without the marker, or one character short, the
        // two-digit rule applies.
        assert!(api_key(
            b"sk-abcdEfghijKlmnopQrsTT3BlbkFJuvwxYzabcdEfghijKlmn"
        ));
        assert!(api_key(
            b"sk-abcdEfghijKlmnopQrstT3BlbkFJuvwxYzabcdEfghijklmn"
        ));
        assert!(!api_key(
            b"sk-abcdEfghijKlmnopQrstX3BlbkFJuvwxYzabcdEfghijklmn"
        ));
        assert!(!api_key(
            b"sk-abcdEfghijKlmnopQrsT3BlbkFJuvwxYzabcdEfghijklmn"
        ));
        assert!(!api_key(
            b"sk-abcdEfghijKlmnopQrst-T3BlbkFJuvwxYzabcdEfghijklm"
        ));
    }
}
