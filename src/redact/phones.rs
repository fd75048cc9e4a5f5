//! A phone number under a key that names a phone, in any country's national format:
//! `{"phone": "020 7946 0958"}`, `{"mobile": "06 12 34 56 78"}`. Out of context such a
//! number is only digits (no country code, no pattern of its own), so it is taken only
//! when the key says what it is and the whole value has a phone's shape.
//!
//! - The key names a phone when its last word (split at anything but ASCII letters and
//!   digits, and at a lower→upper case change) is one of [`PHONE_WORDS`], or is
//!   `number`, `no`, `num` or `nr` after one of them (`phoneNumber`, `mobile_no`):
//!   `microphone`, `iphone`, `headphones`, `phone_model`, `phone_count` and `phoneId`
//!   are not.
//! - The value has a phone's shape by the numbering plans (ITU-T E.164 and the national
//!   plans that write it): an optional `+` and country code, 7 to 15 digits in groups
//!   separated by one space, `-` or `.`, an optional trunk prefix in parentheses
//!   (`+44 (0)20 …`) or an area code in them (`(020) …`), ending with a digit; grouped
//!   or after a `+` (a plain run of digits may be an id: the plans' own readers in
//!   `numbers.rs` take those they know); not a date (`2026-12-07`), nor a Korean
//!   nationwide business number (`1588-1234`).

/// The last words of a key that name a phone (lowercase).
const PHONE_WORDS: [&[u8]; 14] = [
    b"phone",
    b"telephone",
    b"tel",
    b"telefon",
    b"telefono",
    b"telefone",
    b"mobile",
    b"cellphone",
    b"cell",
    b"fax",
    b"msisdn",
    b"landline",
    b"handphone",
    b"mobilephone",
];

/// The words after a phone word that keep naming its number.
const NUMBER_WORDS: [&[u8]; 4] = [b"number", b"no", b"num", b"nr"];

/// The words of `key` from its end (ASCII letters and digits; a lower→upper case change
/// starts a word).
fn words_from_end(key: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut end = key.len();
    std::iter::from_fn(move || {
        while end > 0 && !key[end - 1].is_ascii_alphanumeric() {
            end -= 1;
        }
        if end == 0 {
            return None;
        }
        let mut start = end;
        while start > 0 && key[start - 1].is_ascii_alphanumeric() {
            start -= 1;
            if key[start].is_ascii_uppercase() && start > 0 && key[start - 1].is_ascii_lowercase() {
                break;
            }
        }
        let w = &key[start..end];
        end = start;
        Some(w)
    })
}

fn is_one_of(w: &[u8], list: &[&[u8]]) -> bool {
    list.iter().any(|x| w.eq_ignore_ascii_case(x))
}

/// Whether `key` names a phone (module doc).
pub(crate) fn phone_key(key: &str) -> bool {
    let mut words = words_from_end(key.as_bytes());
    let Some(last) = words.next() else {
        return false;
    };
    if is_one_of(last, &PHONE_WORDS) {
        return true;
    }
    is_one_of(last, &NUMBER_WORDS) && words.next().is_some_and(|w| is_one_of(w, &PHONE_WORDS))
}

/// The longest value [`phone_shaped`] is asked about: 15 digits, a `+` and separators.
pub(crate) const MAX_PHONE_VALUE: usize = 32;

/// In text, the end of a phone number at `b[at..]` that is the whole value of a key that
/// names a phone (module doc): `phone: 0470 54 15 52` up to the line's end,
/// `mobile="0650 1514881"`, `tel='…'`, `"phoneNumber":"30 43 92 96"` (JSON inside text),
/// `"phone" => "…"`, `<tel>…</tel>`, logfmt's `phone=030-1234-5678`. `None` when the number
/// goes on past where the value ends, or no such key stands right before `at`.
///
/// The bytes that join a key to its value are looked at first, inlined where it is
/// asked (most numbers in text follow a word and a blank, and fail there), then the
/// value, the key itself last.
#[inline(always)]
pub(crate) fn keyed_in_text(b: &[u8], at: usize) -> Option<usize> {
    let opener = *b.get(at.checked_sub(1)?)?;
    if !matches!(opener, b'"' | b'\'' | b' ' | b'\t' | b'=' | b':' | b'>')
        || !super::context::may_key_before(b, at)
    {
        return None;
    }
    keyed_value(b, at, opener)
}

/// [`keyed_in_text`] past its look at the joint: the value after `opener`, then the key.
fn keyed_value(b: &[u8], at: usize, opener: u8) -> Option<usize> {
    let (end, spaced) = value_end(b, at, opener)?;
    if end - at < 7 || !phone_shaped(&b[at..end]) {
        return None;
    }
    let (key, _) = super::context::key_before(b, at)?;
    if spaced {
        // A value with blanks that more text follows is one only in a URL's query or a
        // form body (`?msisdn=091 289 4327 HTTP/1.1`, decoded from `%20`): a blank
        // cannot be written there, so the value ends at the first one that is not
        // between its digits.
        let key_start = key.as_ptr() as usize - b.as_ptr() as usize;
        if !matches!(key_start.checked_sub(1).map(|i| b[i]), Some(b'?' | b'&')) {
            return None;
        }
    }
    phone_key(std::str::from_utf8(key).ok()?).then_some(end)
}

/// Where the value that starts at `b[at]` (after `opener`) ends, when what it holds can
/// be a phone number: digits, blanks, `-`, `.`, `+` and parentheses, then
///
/// - after a quote, the same quote (`"…"`, `'…'`);
/// - else the line's end, the text's end or a byte that ends a value in the forms that
///   write keys in text (`,` `;` `|` `&` `)` `]` `}` `<` a quote, a tab); a value of one
///   token (no blank inside) ends at a blank as well, as logfmt's do.
///
/// Blanks, dots and dashes before that end are not the value's (`phone: 0470 54 15 52.`).
///
/// With the end, whether it is a value with blanks that more text follows on its line:
/// a value only where the key says it cannot hold blanks ([`keyed_value`]). After an
/// escaped quote (`mobile=\"…\"`, text inside a JSON string) the value ends at the
/// escaped quote.
fn value_end(b: &[u8], at: usize, opener: u8) -> Option<(usize, bool)> {
    let limit = b.len().min(at + MAX_PHONE_VALUE + 1);
    let (mut i, mut open) = (at, false);
    while i < limit {
        match b[i] {
            b'0'..=b'9' | b' ' | b'-' | b'.' | b'+' => {}
            b'(' => open = true,
            b')' if open => {}
            _ => break,
        }
        i += 1;
    }
    if i - at > MAX_PHONE_VALUE {
        return None;
    }
    if matches!(opener, b'"' | b'\'') {
        let escaped = at >= 2 && b[at - 2] == b'\\';
        let closed = if escaped {
            b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&opener)
        } else {
            b.get(i) == Some(&opener)
        };
        return closed.then_some((i, false));
    }
    let mut end = i;
    while end > at && matches!(b[end - 1], b' ' | b'.' | b'-') {
        end -= 1;
    }
    match b.get(i) {
        None
        | Some(
            b'\n' | b'\r' | b'\t' | b',' | b';' | b'|' | b'&' | b')' | b']' | b'}' | b'<' | b'"'
            | b'\'',
        ) => Some((end, false)),
        // One token, then a blank and more text: `phone=030-1234-5678 user=…`.
        Some(_) if b[i - 1] == b' ' => Some((end, b[at..end].contains(&b' '))),
        Some(_) => None,
    }
}

/// Whether `v`, whole, has a phone number's shape (module doc).
pub(crate) fn phone_shaped(v: &[u8]) -> bool {
    !too_plain(v) && shaped(v)
}

/// Whether `v` has no phone's shape because of its digits alone, read eight bytes at a
/// time: most values asked about are ids and nanosecond times, digits only. Sixteen
/// digits in a row after an optional `+` are too many (more than 15), and a whole value
/// of digits without a `+` is not grouped. Never true where [`shaped`] is.
fn too_plain(v: &[u8]) -> bool {
    let body = v.strip_prefix(b"+").unwrap_or(v);
    let lead = &body[..body.len().min(16)];
    digits_only(lead) && (lead.len() == 16 || body.len() == v.len())
}

/// [`phone_shaped`], byte by byte.
fn shaped(v: &[u8]) -> bool {
    let body = match v {
        [b'+', first, ..] if first.is_ascii_digit() && *first != b'0' => &v[1..],
        [b'+', ..] => return false,
        _ => v,
    };
    let (mut digits, mut parens) = (0, 0);
    // What the byte before was: a digit, a separator, an opening or a closing
    // parenthesis (`(` at the start too, for `(020) …`).
    #[derive(PartialEq)]
    enum Last {
        Start,
        Digit,
        Sep,
        Open,
        Close,
    }
    let mut last = Last::Start;
    for &c in body {
        last = match c {
            b'0'..=b'9' => {
                digits += 1;
                Last::Digit
            }
            b' ' | b'-' | b'.' if matches!(last, Last::Digit | Last::Close) => Last::Sep,
            b'(' if parens == 0 && matches!(last, Last::Start | Last::Sep) => {
                parens += 1;
                Last::Open
            }
            b')' if parens == 1 && last == Last::Digit => {
                parens += 1;
                Last::Close
            }
            // `(0)20`: the trunk prefix glued to the area code.
            _ => return false,
        };
        if digits > 15 {
            return false;
        }
    }
    // A plain run of digits may be an id: it is left to the plans' own readers (NANP,
    // Korean numbers), which know their digits.
    let grouped = body.len() > digits || v.first() == Some(&b'+');
    // Korea's nationwide numbers (`1588-1234`, `1599-5833`: eight digits from `1`, no
    // trunk prefix) are a business's, not a person's.
    let representative = digits == 8 && v.first() == Some(&b'1');
    last == Last::Digit
        && parens != 1
        && digits >= 7
        && grouped
        && !representative
        && !date_shaped(v)
}

/// Whether `b` (at most 16 bytes) is all ASCII digits: for eight bytes or more two
/// (possibly overlapping) words, each byte's high nibble 3 and its low nibble below 10
/// (adding 6 carries a nibble of 10 or more into the high one).
fn digits_only(b: &[u8]) -> bool {
    const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    const THREE: u64 = 0x3030_3030_3030_3030;
    const SIX: u64 = 0x0606_0606_0606_0606;
    let word_digits = |w: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let x = u64::from_le_bytes(a);
        x & HIGH == THREE && x.wrapping_add(SIX) & HIGH == THREE
    };
    match b.len() {
        8..=16 => word_digits(&b[..8]) && word_digits(&b[b.len() - 8..]),
        _ => b.iter().all(u8::is_ascii_digit),
    }
}

/// `YYYY-MM-DD`, `DD.MM.YYYY`, `MM/DD/YYYY` and the like: eight digits as 4-2-2 or
/// 2-2-4 with one separator twice.
fn date_shaped(v: &[u8]) -> bool {
    let sep = |i: usize| v.get(i).filter(|c| matches!(c, b'-' | b'.' | b'/'));
    v.len() == 10
        && ((sep(4).is_some() && sep(4) == sep(7)) || (sep(2).is_some() && sep(2) == sep(5)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RedactionConfig;
    use crate::redact::Redactor;

    #[test]
    fn national_numbers_under_phone_keys_are_redacted() {
        let r = Redactor::new(&RedactionConfig::default()).unwrap();
        let run = |s: &str| r.session().redact_str(s).unwrap_or_else(|| s.to_string());
        for (key, v) in [
            ("phone", "020 7946 0958"),
            ("phoneNumber", "01 23 45 67 89"),
            ("mobile", "0412 345 678"),
            ("tel", "030 12345678"),
            ("telefon", "(030) 1234-5678"),
            ("fax", "+44 (0)20 7946 0958"),
        ] {
            let out = run(&format!(r#"{{"{key}":"{v}","n":1}}"#));
            assert_eq!(out, format!(r#"{{"{key}":"[REDACTED:phone_intl]","n":1}}"#));
            // A CSV column of that name, with and without a line of prose before the
            // header; another column of the same national value stays (an international
            // one is found anywhere).
            for intro in ["", "import rejected 1 row:\n"] {
                let csv = format!("{intro}id,{key},note\n7,{v},{v}");
                let other = if v.starts_with('+') {
                    "[REDACTED:phone_intl]"
                } else {
                    v
                };
                let want = format!("{intro}id,{key},note\n7,[REDACTED:phone_intl],{other}");
                assert_eq!(run(&csv), want);
            }
        }
        // The same values under keys that name no phone, and other values under phone
        // keys, stay.
        for s in [
            r#"{"microphone":"020 7946 0958"}"#,
            r#"{"iphone":"01 23 45 67 89"}"#,
            r#"{"headphones":"0412 345 678"}"#,
            r#"{"phoneModel":"030 12345678"}"#,
            r#"{"phone_model":"SM-G991B","phone_count":3}"#,
            r#"{"phone":"SM-G991B"}"#,
            r#"{"phone":"n/a","mobile":"12345"}"#,
            r#"{"support_phone":"1588-1234"}"#,
        ] {
            assert_eq!(run(s), s);
        }
    }

    #[test]
    fn national_numbers_that_are_a_phone_keys_whole_value_in_text_are_redacted() {
        let r = Redactor::new(&RedactionConfig::default()).unwrap();
        let run = |s: &str| r.session().redact_str(s).unwrap_or_else(|| s.to_string());
        const R: &str = "[REDACTED:phone_intl]";
        // National spellings from the numbering plans: UK (Ofcom drama numbers), France
        // (pairs after the trunk 0), Germany (Berlin 030), Belgium (mobiles 04xx),
        // Switzerland (mobiles 07x), Austria (mobiles 06xx), Denmark (eight digits, no
        // trunk prefix), in the forms text writes a key's value in.
        for (text, want) in [
            // `key: value` to the line's or the text's end (headers, YAML, messages).
            (
                "C: phone: 07700 900123\nC: .",
                format!("C: phone: {R}\nC: ."),
            ),
            (
                "rejected mobile_no: 0470 12 34 56",
                format!("rejected mobile_no: {R}"),
            ),
            (
                "desc = bad input, phone: 079 123 45 67.",
                format!("desc = bad input, phone: {R}."),
            ),
            // Up to a delimiter: a map or an MDC printed in brackets, a list.
            (
                "[user=7, mobile: 0650 1234567]",
                format!("[user=7, mobile: {R}]"),
            ),
            ("{tel=01 23 45 67 89, id=3}", format!("{{tel={R}, id=3}}")),
            // Quoted whole values: logfmt, env lists, shell.
            (
                r#"level=WARN msg="rejected" telefon="030 12345678" id=4"#,
                format!(r#"level=WARN msg="rejected" telefon="{R}" id=4"#),
            ),
            (
                "env PHONE='020 7946 0958' ./run",
                format!("env PHONE='{R}' ./run"),
            ),
            // One token ends at a blank as logfmt's values do.
            (
                "phone=030-1234-5678 user=bob",
                format!("phone={R} user=bob"),
            ),
            // A JSON member inside text (bulk bodies), a hash rocket, an element.
            (
                "{\"index\":{}}\n{\"id\":\"a\",\"phoneNumber\":\"20 12 34 56\"}\n",
                format!("{{\"index\":{{}}}}\n{{\"id\":\"a\",\"phoneNumber\":\"{R}\"}}\n"),
            ),
            (
                r#"{"profile"=>{"cellPhone"=>"06 12 34 56 78"}}"#,
                format!(r#"{{"profile"=>{{"cellPhone"=>"{R}"}}}}"#),
            ),
            ("<tel>(030) 1234-5678</tel>", format!("<tel>{R}</tel>")),
            // A URL's query or a form body cannot hold a blank: one there was decoded
            // (`%20`, `+`), so the value runs to the blank after its digits.
            (
                "GET /a?id=7&msisdn=091%20289%204327 HTTP/1.1",
                "GET /a?id=7&msisdn=%5BREDACTED%3Aphone_intl%5D HTTP/1.1".to_string(),
            ),
            (
                "POST /f body: to=x&tel=030+1234+5678 sent",
                "POST /f body: to=x&tel=%5BREDACTED%3Aphone_intl%5D sent".to_string(),
            ),
            // Inside a string that holds JSON-escaped quotes (Redis MONITOR, a message
            // logged twice).
            (
                r#""PUBLISH" "audit" "mobile_no=\"5091 9092\"""#,
                format!(r#""PUBLISH" "audit" "mobile_no=\"{R}\"""#),
            ),
        ] {
            assert_eq!(run(text), want, "{text}");
        }
        // Not a phone key's whole value, or not a phone: kept.
        for text in [
            "microphone: 020 7946 0958",
            "phone_count: 20 12 34 56",
            r#"headphones="0470 12 34 56""#,
            "phone: 2026-12-07",
            "phone: 12 34",
            r#"mobile="1588-1234""#,
            "tel: 20 12 34 56 ms later",
            r#"phone="20 12 34 56 ext""#,
            // Blanks in a value that more text follows, outside a query: not the value.
            "phone=20 12 34 56 ms later",
            "x phone=20 12 34 56 and more",
            // An escaped opening quote closes only escaped.
            r#"mobile=\"20 12 34 56" ok"#,
            "phone: 20 12 34 56x",
        ] {
            assert_eq!(run(text), text);
        }
    }

    /// [`keyed_in_text`] as it read before the joint was looked at first: the value,
    /// then the key.
    fn keyed_in_text_value_first(b: &[u8], at: usize) -> Option<usize> {
        let opener = *b.get(at.checked_sub(1)?)?;
        if !matches!(opener, b'"' | b'\'' | b' ' | b'\t' | b'=' | b':' | b'>') {
            return None;
        }
        keyed_value(b, at, opener)
    }

    /// Every place of `b`: the same end as the value-first reading, and a key found only
    /// where the joint test lets one be. Counts (places, numbers found, places ruled out).
    fn compare_keyed(b: &[u8], counts: &mut (usize, usize, usize)) {
        use crate::redact::context::{key_before, may_key_before};
        for at in 0..=b.len() {
            let got = keyed_in_text(b, at);
            assert_eq!(
                got,
                keyed_in_text_value_first(b, at),
                "{:?} at {at}",
                String::from_utf8_lossy(b)
            );
            let may = may_key_before(b, at);
            assert!(
                may || key_before(b, at).is_none(),
                "{:?} at {at}",
                String::from_utf8_lossy(b)
            );
            counts.0 += 1;
            counts.1 += usize::from(got.is_some());
            counts.2 += usize::from(!may);
        }
    }

    #[test]
    fn the_joint_read_first_finds_what_the_value_first_reading_found() {
        const KEYS: [&str; 16] = [
            "phone",
            "mobile_no",
            "telNr",
            "Fax",
            "cellPhone",
            "user_id",
            "took",
            "time",
            "cs1Label=phone cs1",
            "<tel>",
            "<soap:Mobile>",
            "'msisdn', ",
            "[\"phone\", ",
            "전화",
            "headphones",
            "\"phoneNumber\"",
        ];
        const JOINTS: [&str; 16] = [
            "=", ": ", ":", " => ", "=>", ", ", "\"", "'", " ", "\t", "b'", ">", ",", "  ",
            ":   \"", " =  '",
        ];
        const VALUES: [&str; 16] = [
            "030",
            "1234",
            "12 34 56",
            "+49",
            "(0)",
            "-",
            ".",
            "\n",
            "0470 54 15 52",
            "020 7946 0958",
            "1700000000123456789",
            "07700 900123",
            " ",
            "x",
            "\"",
            "2026-12-07",
        ];
        let mut next = crate::redact::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut counts = (0, 0, 0);
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..1 + next() % 4 {
                for list in [&KEYS, &JOINTS, &VALUES, &VALUES] {
                    s.push_str(list[(next() % 16) as usize]);
                }
                if next().is_multiple_of(3) {
                    s.push_str(JOINTS[(next() % 16) as usize]);
                }
            }
            compare_keyed(s.as_bytes(), &mut counts);
        }
        assert!(counts.1 > 400 && counts.2 > 500_000, "{counts:?}");
        let mut corpus = (0, 0, 0);
        for text in crate::redact::corpus_texts() {
            compare_keyed(text.as_bytes(), &mut corpus);
        }
        assert!(corpus.1 > 0 && corpus.2 > corpus.0 / 2, "{corpus:?}");
    }

    #[test]
    fn keys_that_name_a_phone() {
        for k in [
            "phone",
            "Phone",
            "phoneNumber",
            "phone_number",
            "mobile",
            "mobileNo",
            "user.phone",
            "contact_phone",
            "home_tel",
            "Telefon",
            "telefono",
            "fax",
            "msisdn",
            "cellPhone",
            "work-phone-nr",
        ] {
            assert!(phone_key(k), "{k}");
        }
        for k in [
            "microphone",
            "iphone",
            "headphones",
            "phoneModel",
            "phone_model",
            "phone_count",
            "phoneId",
            "phone_verified",
            "hotel",
            "telemetry",
            "mobile_os",
            "number",
            "",
            "_",
        ] {
            assert!(!phone_key(k), "{k}");
        }
    }

    #[test]
    fn national_and_international_numbers_have_a_phone_shape() {
        // The numbering plans' examples: UK (Ofcom drama numbers, 020 and 07700 900),
        // France (pairs after the trunk 0), Germany (Berlin 030), Japan (Tokyo 03),
        // Australia (02, mobiles 04), India (mobiles), Brazil (São Paulo 11, nine-digit
        // mobiles), NANP, and E.164 with its country codes.
        for v in [
            "020 7946 0958",
            "07700 900123",
            "+44 20 7946 0958",
            "+44 (0)20 7946 0958",
            "01 23 45 67 89",
            "06.12.34.56.78",
            "030 12345678",
            "(030) 1234-5678",
            "+49 30 12345678",
            "03-1234-5678",
            "+81 3-1234-5678",
            "(02) 9876 5432",
            "0412 345 678",
            "+91 98765 43210",
            "(11) 91234-5678",
            "+55 11 91234-5678",
            "(415) 555-0134",
            "415.555.0134",
            "+14155550134",
        ] {
            assert!(phone_shaped(v.as_bytes()), "{v}");
        }
        for v in [
            "SM-G991B",
            "3",
            "9876543",
            "0591234567",
            "1588-1234",
            "1599 5833",
            "12345",
            "+0 20 7946 0958",
            "1234567890123456",
            "+1 415 555 0134 1234 5",
            "020  7946 0958",
            "020 7946 0958 ",
            "020--7946",
            "(020 7946 0958",
            "020) 7946 0958",
            "((020)) 7946 0958",
            "020 7946 0958 ext 12",
            "2026-12-07",
            "v1.2.3",
            "",
            "+",
        ] {
            assert!(!phone_shaped(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn plain_digit_values_are_ruled_out_as_the_byte_loop_rules_them_out() {
        // Digit runs of every length around 8 and 16 (the word reads), with and without
        // `+`, separators, parentheses and other bytes in any place: the quick test never
        // rules out a value of phone shape, and rules out most plain ones.
        let pieces: &[&[u8]] = &[
            b"0",
            b"1",
            b"7",
            b"9",
            b"12",
            b"345",
            b"6789",
            b"01234567",
            b"1733480000000000000",
            b"+",
            b"+4",
            b"(",
            b")",
            b" ",
            b"-",
            b".",
            b"/",
            b":",
            b"a",
            b"T",
            b"\xff",
        ];
        let mut next = crate::redact::xorshift(0x9e37_79b9_7f4a_7c15);
        let (mut ruled_out, mut phones) = (0, 0);
        for _ in 0..100_000 {
            let mut v = Vec::new();
            for _ in 0..(next() % 8) {
                // Digits most of the time, as the values asked about are.
                let i = next() as usize % pieces.len();
                let i = if next().is_multiple_of(3) { i } else { i % 8 };
                v.extend_from_slice(pieces[i]);
            }
            let quick = too_plain(&v);
            assert!(!(quick && shaped(&v)), "{v:?}");
            assert_eq!(phone_shaped(&v), shaped(&v), "{v:?}");
            ruled_out += usize::from(quick);
            phones += usize::from(shaped(&v));
        }
        assert!(ruled_out > 10_000 && phones > 1_000, "{ruled_out} {phones}");
        // Every length from 0 to 20 of digits alone, after a `+`, and with one other
        // byte in each place.
        for n in 0..=20 {
            let digits: Vec<u8> = (0..n).map(|i| b"4155550134"[i % 10]).collect();
            for other in [b'+', b' ', b'-', b'a', b':', b'0' - 1, b'9' + 1] {
                for at in 0..=n {
                    let mut v = digits.clone();
                    v.insert(at, other);
                    assert_eq!(phone_shaped(&v), shaped(&v), "{v:?}");
                }
            }
            assert!(too_plain(&digits), "{digits:?}");
            let plus = [b"+".as_slice(), &digits].concat();
            assert_eq!(too_plain(&plus), n >= 16, "{plus:?}");
        }
    }
}
