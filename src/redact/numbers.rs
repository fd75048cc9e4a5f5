//! Numbers whose shape alone does not say what they are, read by hand at the candidate
//! starts of the scan's numeric spans: US phone numbers (NANP), Korean driver licence
//! numbers, and, with context only (`context.rs`), dates of birth, Korean bank
//! accounts, plain (undashed) SSNs, business and resident numbers, and plain 10-digit
//! US numbers.
//!
//! Each reader takes the bytes from a candidate start and returns where the value ends
//! and its type, or nothing. The candidate must stand alone: no word byte right before
//! or after it, and not glued by `-` or `.` to more letters or digits (a UUID group, a
//! version, `UA-12345678-1`).

use crate::redact::PiiType;

use super::context::{self, Hint, Key};
use super::validate;

/// The most digit groups read.
const MAX_GROUPS: usize = 5;

/// Runs of digits from a start: each (start, length), and the separator before each
/// run after the first (`-`, `.`, `/`, ` `, or `.` for `. `).
#[derive(Default)]
struct Runs {
    at: [(usize, usize); MAX_GROUPS],
    sep: [u8; MAX_GROUPS],
    n: usize,
    /// Just past the last digit.
    end: usize,
}

impl Runs {
    fn lens(&self) -> impl Iterator<Item = usize> + '_ {
        self.at[..self.n].iter().map(|r| r.1)
    }

    fn digits(&self) -> usize {
        self.lens().sum()
    }

    fn shape(&self, want: &[usize]) -> bool {
        self.n == want.len() && self.lens().zip(want).all(|(l, w)| l == *w)
    }

    /// Every separator is `c` (true for a single run).
    fn seps(&self, c: u8) -> bool {
        self.sep[1..self.n].iter().all(|&s| s == c)
    }

    fn text<'b>(&self, b: &'b [u8], i: usize) -> &'b [u8] {
        let (s, l) = self.at[i];
        &b[s..s + l]
    }
}

fn digit(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_digit)
}

fn word(b: &[u8], i: usize) -> bool {
    b.get(i)
        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// The runs of digits starting at `p` (a digit), at most [`MAX_GROUPS`], each after
/// one separator.
fn runs(b: &[u8], p: usize) -> Runs {
    let mut r = Runs::default();
    let mut i = p;
    loop {
        let s = i;
        while digit(b, i) {
            i += 1;
        }
        r.at[r.n] = (s, i - s);
        r.n += 1;
        r.end = i;
        if r.n == MAX_GROUPS {
            break;
        }
        let (sep, skip) = match b.get(i) {
            Some(b'.') if b.get(i + 1) == Some(&b' ') => (b'.', 2),
            Some(&c @ (b'-' | b'.' | b'/' | b' ')) => (c, 1),
            _ => break,
        };
        if !digit(b, i + skip) {
            break;
        }
        r.sep[r.n] = sep;
        i += skip;
    }
    r
}

/// Nothing glued to `start..end`: no word byte around it, and no `-`/`.` joining it to
/// more letters or digits.
fn alone(b: &[u8], start: usize, end: usize) -> bool {
    let glued = (start > 0 && word(b, start - 1)) || word(b, end);
    !glued && validate::standalone(b, start, end)
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0, |a, c| a * 10 + u32::from(c - b'0'))
}

/// A NANP number: area code and exchange `[2-9]XX`, neither `N11`, no area code `N9X`.
fn nanp(area: &[u8], exchange: &[u8]) -> bool {
    let ok = |g: &[u8]| g.len() == 3 && g[0] >= b'2' && !(g[1] == b'1' && g[2] == b'1');
    ok(area) && ok(exchange) && area[1] != b'9'
}

/// A real calendar date with a birth year (1900–2030).
fn date(y: u32, m: u32, d: u32) -> bool {
    (1900..=2030).contains(&y) && validate::real_date(y, m, d)
}

/// Where a date of birth starting at `p` ends: `YYYY-MM-DD` (or `/`, `.`, `. `),
/// `MM/DD/YYYY` or `DD.MM.YYYY` (either order), `YYYYMMDD`, `YYMMDD`, `YYYY년 M월 D일`.
fn dob(b: &[u8], p: usize, r: &Runs) -> Option<usize> {
    // `YYYY년`: one to four digits and `년` right after them (the first run at `p`).
    let year = r.at[0].1;
    if year <= 4
        && b[p + year..].starts_with("년".as_bytes())
        && let Some(end) = korean_date(b, p)
    {
        return Some(end);
    }
    let g = |i: usize| num(r.text(b, i));
    let mut lens = [0usize; MAX_GROUPS];
    for (slot, l) in lens.iter_mut().zip(r.lens()) {
        *slot = l;
    }
    let uniform = r.n > 1 && (r.seps(b'-') || r.seps(b'.') || r.seps(b'/'));
    let ok = match lens[..r.n] {
        [4, 1..=2, 1..=2] if uniform => date(g(0), g(1), g(2)),
        [1..=2, 1..=2, 4] if uniform => date(g(2), g(0), g(1)) || date(g(2), g(1), g(0)),
        // US `M/D/YY`: month first, a two-digit year of either century.
        [1..=2, 1..=2, 2] if r.seps(b'/') => {
            date(1900 + g(2), g(0), g(1)) || date(2000 + g(2), g(0), g(1))
        }
        [8] => {
            let d = r.text(b, 0);
            date(num(&d[..4]), num(&d[4..6]), num(&d[6..]))
        }
        [6] => {
            let d = r.text(b, 0);
            let (yy, m, dd) = (num(&d[..2]), num(&d[2..4]), num(&d[4..]));
            date(1900 + yy, m, dd) || date(2000 + yy, m, dd)
        }
        _ => false,
    };
    if !ok {
        return None;
    }
    // `YYYY. MM. DD.` ends with its dot; an ISO date may go on with its time.
    let mut end = r.end;
    if r.seps(b'.') && b.get(end) == Some(&b'.') && !digit(b, end + 1) {
        end += 1;
    }
    Some(end)
}

/// The month an English month name or its abbreviation stands for (`March`, `Mar`,
/// `Mar.`, `Sept`), any case.
fn month(w: &[u8]) -> Option<u32> {
    const NAMES: [&[u8]; 12] = [
        b"january",
        b"february",
        b"march",
        b"april",
        b"may",
        b"june",
        b"july",
        b"august",
        b"september",
        b"october",
        b"november",
        b"december",
    ];
    let w = w.strip_suffix(b".").unwrap_or(w);
    let m = NAMES.iter().position(|n| {
        (w.len() == 3 || w.len() == n.len() || (w.len() == 4 && n.starts_with(b"sept")))
            && n.get(..w.len()).is_some_and(|p| p.eq_ignore_ascii_case(w))
    })?;
    u32::try_from(m + 1).ok()
}

/// The letters (and a `.`) that end right before `end`.
fn letters_before(b: &[u8], end: usize) -> usize {
    b[..end]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_alphabetic() || **c == b'.')
        .count()
}

/// The digits that end right before `end`.
fn digits_before(b: &[u8], end: usize) -> usize {
    b[..end]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count()
}

/// A real date written with the month's English name that ends with the four-digit
/// year at `p`: `March 5, 1990`, `Mar. 5, 1990`, `5 March 1990`, `5 Mar 1990`. Where it
/// starts.
fn month_name_date(b: &[u8], p: usize) -> Option<usize> {
    let year = b.get(p..p + 4)?;
    if !year.iter().all(u8::is_ascii_digit) || digit(b, p + 4) || p < 4 || b[p - 1] != b' ' {
        return None;
    }
    let y = num(year);
    let comma = b[p - 2] == b',';
    let i = if comma { p - 2 } else { p - 1 };
    let dd = digits_before(b, i);
    let (start, m, d) = if (1..=2).contains(&dd) {
        // `Month D, YYYY`
        let j = i - dd;
        if j < 4 || b[j - 1] != b' ' {
            return None;
        }
        let s = j - 1 - letters_before(b, j - 1);
        (s, month(&b[s..j - 1])?, num(&b[j..i]))
    } else if !comma {
        // `D Month YYYY`
        let j = i - letters_before(b, i);
        let m = month(&b[j..i])?;
        if j < 2 || b[j - 1] != b' ' {
            return None;
        }
        let dd = digits_before(b, j - 1);
        if !(1..=2).contains(&dd) {
            return None;
        }
        let s = j - 1 - dd;
        (s, m, num(&b[s..j - 1]))
    } else {
        return None;
    };
    (date(y, m, d) && !(start > 0 && word(b, start - 1))).then_some(start)
}

/// A date of birth written with the month's name (`March 5, 1990`, `5 Mar 1990`) that
/// ends with the year at `p`, with its context: the key, or a marking word before it.
/// Its start and end.
pub(crate) fn month_name_dob(b: &[u8], p: usize, key: Key<'_>) -> Option<(usize, usize)> {
    let start = month_name_date(b, p)?;
    let end = p + 4;
    if word(b, end) {
        return None;
    }
    let hint = match key.hint() {
        h if h & context::DOB != 0 => h,
        h => h | context::text_hint(b, start),
    };
    (hint & context::DOB != 0).then_some((start, end))
}

/// `YYYY년 M월 D일`, spaces optional.
fn korean_date(b: &[u8], p: usize) -> Option<usize> {
    let mut i = p;
    let mut field = |unit: &str, max: usize| -> Option<u32> {
        while b.get(i) == Some(&b' ') && i > p {
            i += 1;
        }
        let s = i;
        while digit(b, i) && i - s < max {
            i += 1;
        }
        if i == s || !b[i..].starts_with(unit.as_bytes()) {
            return None;
        }
        let v = num(&b[s..i]);
        i += unit.len();
        Some(v)
    };
    let y = field("년", 4)?;
    let m = field("월", 2)?;
    let d = field("일", 2)?;
    date(y, m, d).then_some(i)
}

/// A Korean landline written as plain digits: an area code (`02`; `031`–`033`,
/// `041`–`044`, `051`–`055`, `061`–`064`) and a subscriber number of seven or eight
/// digits (its exchange does not start with `0` or `1`).
fn kr_landline(d: &[u8]) -> bool {
    let area = match d {
        [b'0', b'2', ..] => 2,
        [b'0', b'3', b'1'..=b'3', ..]
        | [b'0', b'4', b'1'..=b'4', ..]
        | [b'0', b'5', b'1'..=b'5', ..]
        | [b'0', b'6', b'1'..=b'4', ..] => 3,
        _ => return false,
    };
    let sub = &d[area..];
    matches!(sub.len(), 7 | 8) && sub[0] >= b'2'
}

/// A Korean driver licence number `RR-YY-NNNNNN-CC`: region code 11–28 first.
fn licence_region(d: &[u8]) -> bool {
    (11..=28).contains(&num(&d[..2]))
}

/// What starts at `p` (a digit or `(`), given the key's hint; `text_hint` is worked out
/// only when a shape needs context, the key before `p` in the text read once.
pub(crate) fn at(b: &[u8], p: usize, key: Key<'_>) -> Option<(usize, PiiType)> {
    if b.get(p) == Some(&b'(') {
        return paren_phone(b, p);
    }
    if !digit(b, p) || (p > 0 && word(b, p - 1)) {
        return None;
    }
    // Glued by `-` or `.` to letters or digits before it: a UUID group, a version.
    if p >= 2 && matches!(b[p - 1], b'-' | b'.') && b[p - 2].is_ascii_alphanumeric() {
        return None;
    }
    let r = runs(b, p);
    let found = no_context(b, &r).or_else(|| {
        let mut full = None;
        // The key's hint, the key before `p` in the text and the hints the window's
        // bytes may start a word with (`context::window_words`), each worked out once.
        let (mut key_hint, mut text_key, mut near) = (None, None, None);
        // Whether the hint has a bit of `mask`; the look-back is skipped when no word
        // with such a hint starts near enough.
        let mut has = |mask: Hint| {
            let h = match full {
                Some(h) => h,
                None => {
                    let kh = *key_hint.get_or_insert_with(|| key.hint());
                    let tk = *text_key.get_or_insert_with(|| context::text_key(b, p));
                    if kh & mask == 0
                        && *near.get_or_insert_with(|| {
                            context::window_words(b, p) | tk.map_or(0, |(h, _)| h)
                        }) & mask
                            == 0
                    {
                        return false;
                    }
                    *full.insert(kh | context::text_hint_given(b, p, tk))
                }
            };
            h & mask != 0
        };
        with_context(b, p, &r, key, &mut has)
    })?;
    let (end, ty) = found;
    // An ISO date of birth may go on with its time.
    let tail_ok = ty == PiiType::DateOfBirth && b.get(end) == Some(&b'T') && digit(b, end + 1);
    (tail_ok || alone(b, p, end)).then_some(found)
}

/// Shapes that are what they are without context.
fn no_context(b: &[u8], r: &Runs) -> Option<(usize, PiiType)> {
    let t = |i| r.text(b, i);
    // 415-555-0134, 415.555.0134
    if r.shape(&[3, 3, 4]) && (r.seps(b'-') || r.seps(b'.')) && nanp(t(0), t(1)) {
        return Some((r.end, PiiType::UsPhone));
    }
    // 1-415-555-0134, 1.415.555.0134, 1 415 555 0134
    if r.shape(&[1, 3, 3, 4])
        && t(0) == b"1"
        && (r.seps(b'-') || r.seps(b'.') || r.seps(b' '))
        && nanp(t(1), t(2))
    {
        return Some((r.end, PiiType::UsPhone));
    }
    // 11-22-123456-78
    if r.shape(&[2, 2, 6, 2]) && r.seps(b'-') && licence_region(t(0)) {
        return Some((r.end, PiiType::KrDriverLicense));
    }
    None
}

/// Shapes that need context, in order: dates of birth, licences, resident numbers,
/// SSNs, business numbers, phones, bank accounts.
fn with_context(
    b: &[u8],
    p: usize,
    r: &Runs,
    key: Key<'_>,
    has: &mut impl FnMut(Hint) -> bool,
) -> Option<(usize, PiiType)> {
    let t = |i| r.text(b, i);
    let digits = r.digits();
    let plain = r.n == 1;
    let dashed_or_spaced = r.seps(b'-') || r.seps(b' ');
    // Dates need their context: an event time is a date too.
    if (r.n == 3 || digits == 6 || digits == 8 || b[r.end..].starts_with("년".as_bytes()))
        && let Some(end) = dob(b, p, r)
        && has(context::DOB)
    {
        return Some((end, PiiType::DateOfBirth));
    }
    if !(9..=14).contains(&digits) || !dashed_or_spaced {
        return None;
    }
    if ((plain && digits == 12) || (r.shape(&[2, 2, 6, 2]) && r.seps(b' ')))
        && licence_region(t(0))
        && has(context::LICENSE)
    {
        return Some((r.end, PiiType::KrDriverLicense));
    }
    if r.shape(&[2, 6, 2]) && r.seps(b'-') && has(context::LICENSE | context::REGION) {
        return Some((r.end, PiiType::KrDriverLicense));
    }
    if (plain && digits == 13) || r.shape(&[6, 7]) {
        let text = &b[p..r.end];
        if let Some(ty) = validate::rrn_date(text)
            && has(context::RESIDENT)
        {
            return Some((r.end, ty));
        }
    }
    if (plain && digits == 9) || (r.shape(&[3, 2, 4]) && r.seps(b' ')) {
        let mut dashed = *b"000-00-0000";
        let slots = [0, 1, 2, 4, 5, 7, 8, 9, 10];
        let ds = b[p..r.end].iter().filter(|c| c.is_ascii_digit());
        for (slot, &d) in slots.into_iter().zip(ds) {
            dashed[slot] = d;
        }
        if validate::ssn(&dashed) && has(context::SSN) {
            return Some((r.end, PiiType::UsSsn));
        }
    }
    // `2208162517`, or in its three groups spaced (`220 81 62517`; dashed, the pattern).
    if ((plain && digits == 10) || (r.shape(&[3, 2, 5]) && r.seps(b' ')))
        && validate::brn(&b[p..r.end])
        && has(context::BRN)
    {
        return Some((r.end, PiiType::KrBrn));
    }
    if plain && kr_landline(t(0)) && has(context::PHONE) {
        return Some((r.end, PiiType::Phone));
    }
    let us = (plain && digits == 10 && nanp(&t(0)[..3], &t(0)[3..6]))
        || (plain && digits == 11 && t(0)[0] == b'1' && nanp(&t(0)[1..4], &t(0)[4..7]))
        || (r.shape(&[3, 3, 4]) && r.seps(b' ') && nanp(t(0), t(1)));
    if us && has(context::PHONE) {
        return Some((r.end, PiiType::UsPhone));
    }
    // Bank accounts: 10–14 digits in up to four groups of two or more, one separator;
    // the last of three or four may be a single check digit (`9002-1234-5678-9`).
    let groups_ok = r.n <= 4
        && r.lens()
            .enumerate()
            .all(|(i, l)| l >= 2 || (l == 1 && i + 1 == r.n && r.n >= 3));
    // An epoch near an account word in text (`account created 1718236800`) is a time;
    // under an account key it is the account.
    let epoch = plain
        && matches!(digits, 10 | 13)
        && matches!(&t(0)[..2], b"16" | b"17")
        && key.hint() & context::ACCOUNT == 0;
    if (10..=14).contains(&digits) && groups_ok && !epoch && has(context::ACCOUNT) {
        return Some((r.end, PiiType::KrBankAccount));
    }
    None
}

/// `(415) 555-0134`, `(415)555-0134`, `(415) 555 0134`.
fn paren_phone(b: &[u8], p: usize) -> Option<(usize, PiiType)> {
    if p > 0 && word(b, p - 1) {
        return None;
    }
    let area = b.get(p + 1..p + 4)?;
    if !area.iter().all(u8::is_ascii_digit) || b.get(p + 4) != Some(&b')') {
        return None;
    }
    let mut i = p + 5;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    let ex = b.get(i..i + 3)?;
    let line = b.get(i + 4..i + 8)?;
    let ok = ex.iter().all(u8::is_ascii_digit)
        && matches!(b.get(i + 3), Some(b'-' | b' ' | b'.'))
        && line.iter().all(u8::is_ascii_digit)
        && nanp(area, ex)
        && !word(b, i + 8);
    ok.then_some((i + 8, PiiType::UsPhone))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `at` finds at the first digit or `(` of `s` after `lead`.
    /// `key`: the key the text sits under ("": none).
    fn find(lead: &str, value: &str, key: &str) -> Option<(String, PiiType)> {
        let s = format!("{lead}{value} ok");
        let b = s.as_bytes();
        let key = Key(Some(key).filter(|k| !k.is_empty()));
        let (end, ty) = at(b, lead.len(), key)?;
        Some((s[lead.len()..end].to_string(), ty))
    }

    fn is(lead: &str, value: &str, key: &str, ty: PiiType) {
        assert_eq!(
            find(lead, value, key),
            Some((value.to_string(), ty)),
            "{lead}{value}"
        );
    }

    fn not(lead: &str, value: &str, key: &str) {
        assert_eq!(find(lead, value, key), None, "{lead}{value}");
    }

    #[test]
    fn us_phones_by_the_numbering_plan() {
        for v in [
            "(415) 555-0134",
            "(415)555-0134",
            "415-555-0134",
            "415.555.0134",
            "1-415-555-0134",
            "1 415 555 0134",
        ] {
            is("call ", v, "", PiiType::UsPhone);
        }
        is("x ", "(212) 555 0199", "", PiiType::UsPhone);
        // Plain or spaced ten digits: with context only.
        is("phone: ", "4155550134", "", PiiType::UsPhone);
        is("", "4155550134", "phone", PiiType::UsPhone);
        is("tel ", "415 555 0134", "", PiiType::UsPhone);
        not("order ", "4155550134", "");
        not("x ", "415 555 0134", "");
        // Area codes and exchanges start 2–9, are not N11; no area code N9X.
        not("call ", "115-555-0134", "");
        not("call ", "411-555-0134", "");
        not("call ", "415-155-0134", "");
        not("call ", "491-555-0134", "");
        // Glued to a version or a word.
        not("v", "415-555-0134", "");
        not("1.2.", "415.555.0134", "");
    }

    #[test]
    fn korean_licences() {
        is("", "11-22-123456-78", "", PiiType::KrDriverLicense);
        is("면허 ", "28-09-654321-01", "", PiiType::KrDriverLicense);
        not("", "31-22-123456-78", "");
        not("", "10-22-123456-78", "");
        is(
            "운전면허번호: ",
            "112212345678",
            "",
            PiiType::KrDriverLicense,
        );
        is(
            "",
            "112212345678",
            "driver_license",
            PiiType::KrDriverLicense,
        );
        not("ref ", "112212345678", "");
        is("서울 ", "22-123456-78", "", PiiType::KrDriverLicense);
        not("code ", "22-123456-78", "");
    }

    #[test]
    fn dates_of_birth_need_context() {
        for v in [
            "1990-03-05",
            "1990/03/05",
            "1990.03.05",
            "1990. 3. 5.",
            "03/05/1990",
            "25.12.1985",
            "19900305",
        ] {
            is("dob ", v, "", PiiType::DateOfBirth);
            not("at ", v, "");
        }
        is("생년월일: ", "1990년 3월 5일", "", PiiType::DateOfBirth);
        is("생일은 ", "1990년03월05일", "", PiiType::DateOfBirth);
        is("", "900305", "dob", PiiType::DateOfBirth);
        // US `M/D/YY`, month first, either century; only with context.
        for v in ["5/19/71", "8/5/42", "12/31/99", "2/29/04", "1/7/15"] {
            is("DOB: ", v, "", PiiType::DateOfBirth);
            is("", v, "birth_date", PiiType::DateOfBirth);
            not("shipped ", v, "");
        }
        // Day first, no 13th month, no Feb 29 in a common year, no `-` or `.`.
        for v in ["19/5/71", "13/1/71", "2/29/03", "5-19-71", "5.19.71"] {
            not("DOB: ", v, "");
        }
        is("born on ", "1985-12-25", "", PiiType::DateOfBirth);
        not("created ", "1990년 3월 5일", "");
        // Not a date: month 13, Feb 30, a year outside a lifetime.
        not("dob ", "1990-13-05", "");
        not("dob ", "1990-02-30", "");
        not("dob ", "1790-02-03", "");
        // An ISO date of birth with its time: the date goes.
        let s = "birth 1990-03-05T00:00:00Z";
        assert_eq!(
            at(s.as_bytes(), 6, Key::NONE),
            Some((16, PiiType::DateOfBirth))
        );
    }

    #[test]
    fn bank_accounts_need_context() {
        for v in [
            "123456-12-123456",
            "110-123-456789",
            "1002-123-456789",
            "123-456789-12345",
            "123-456789-12-123",
            "123-1234-1234-12",
            "1234-12-1234567",
            "1234-1234-1234",
            "110123456789",
        ] {
            is("계좌번호: ", v, "", PiiType::KrBankAccount);
            is("신한은행 ", v, "", PiiType::KrBankAccount);
            is("", v, "bank_account", PiiType::KrBankAccount);
            not("ref ", v, "");
        }
        // An epoch near the word is not an account.
        not("account created ", "1718236800", "");
    }

    #[test]
    fn korean_landlines_written_plain_need_context() {
        for v in [
            "0223456789",
            "022345678",
            "0319876543",
            "06432345678",
            "0552345678",
        ] {
            is("", v, "tel", PiiType::Phone);
            is("fax ", v, "", PiiType::Phone);
            not("batch ", v, "");
        }
        // Not an area code (030, 059, 065), or a subscriber number too short, too long
        // or starting with 0 or 1.
        for v in [
            "0301234567",
            "0591234567",
            "0651234567",
            "02123456",
            "022345678990",
            "0201234567",
        ] {
            not("tel ", v, "");
        }
    }

    #[test]
    fn registration_numbers_with_context() {
        is("SSN ", "123456789", "", PiiType::UsSsn);
        is("social security number ", "123 45 6789", "", PiiType::UsSsn);
        not("SSN ", "000456789", "");
        not("SSN ", "666456789", "");
        not("order ", "123456789", "");
        is("사업자등록번호 ", "2208162517", "", PiiType::KrBrn);
        not("사업자등록번호 ", "2208162518", "");
        not("id ", "2208162517", "");
        // Spaced in its groups (NTS numbering: 3-2-5), with the checksum and context.
        is("사업자등록번호: ", "220 81 62517", "", PiiType::KrBrn);
        is("", "220 81 62517", "business_no", PiiType::KrBrn);
        not("사업자등록번호: ", "220 81 62518", "");
        not("total ", "220 81 62517", "");
        not("사업자등록번호: ", "2208 1 62517", "");
        // No checksum needed with context; a real date and sex digit are.
        is("외국인등록번호 ", "9001015234561", "", PiiType::KrFrn);
        is("", "900101 5234561", "alien_no", PiiType::KrFrn);
        not("외국인등록번호 ", "9013015234561", "");
    }
}
