//! ArcSight Common Event Format custom fields: the extension `cs1Label=adminPassword
//! cs1=…` names the value of `cs1` by the value of `cs1Label` (CEF's custom extension
//! keys: `csN`, `cnN`, `cfpN`, `c6aN`, `deviceCustomDateN`, `flexStringN`, `flexDateN`,
//! … each with its `…Label`). The label is the value's key, as if it were written
//! `adminPassword=…`, for the key rules (`keys::whole_value`) and the key hints
//! (`context.rs`).
//!
//! In the extension, a value runs to the next ` key=` (blanks are part of values; `\=`
//! is an escaped `=`), the end of the line or the end of the text. Every search here is
//! bounded by [`WINDOW`]; nothing allocates.

/// How far from a field its label (or from a label its field) is looked for, in bytes.
const WINDOW: usize = 2048;
/// The longest field name or label read, in bytes.
const MAX_NAME: usize = 64;
/// The suffix that makes a field's key its label's.
const LABEL: &[u8] = b"Label";

/// Whether `c` is a byte of an extension key (`[A-Za-z0-9_]`).
fn key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Whether an extension key `key=` starts at `b[at..]`.
fn key_at(b: &[u8], at: usize) -> bool {
    let n = b
        .get(at..)
        .unwrap_or_default()
        .iter()
        .take(MAX_NAME + 1)
        .take_while(|&&c| key_byte(c))
        .count();
    n > 0 && n <= MAX_NAME && b.get(at + n) == Some(&b'=')
}

/// The end of the extension value that starts at `s`, trailing blanks left out.
fn value_end(b: &[u8], s: usize) -> usize {
    let stop = b.len().min(s.saturating_add(WINDOW));
    let mut e = s;
    while e < stop {
        match b[e] {
            b'\n' | b'\r' => break,
            b' ' if key_at(b, e + 1) => break,
            b'\\' => e += 1,
            _ => {}
        }
        e += 1;
    }
    let mut e = e.min(stop);
    while e > s && b[e - 1] == b' ' {
        e -= 1;
    }
    e
}

/// The custom fields of the CEF specification that have a label, without their number:
/// the short keys, then the full names.
const FIELDS: [&[u8]; 12] = [
    b"cs",
    b"cn",
    b"cfp",
    b"c6a",
    b"flexString",
    b"flexNumber",
    b"flexDate",
    b"deviceCustomString",
    b"deviceCustomNumber",
    b"deviceCustomFloatingPoint",
    b"deviceCustomIPv6Address",
    b"deviceCustomDate",
];

/// Whether `f` names a custom field: one of [`FIELDS`] and its number (`cs3`,
/// `deviceCustomDate1`). Most keys fail at their first or last byte.
fn field_name(f: &[u8]) -> bool {
    let [head @ .., last] = f else {
        return false;
    };
    matches!(last, b'1'..=b'9') && matches!(f[0], b'c' | b'f' | b'd') && FIELDS.contains(&head)
}

/// Where `needle` (an extension key with its `=`) is written as a key in `b` within
/// [`WINDOW`] of `near`: after a blank or the header's last `|`.
fn find_key(b: &[u8], near: usize, needle: &[u8]) -> Option<usize> {
    let lo = near.saturating_sub(WINDOW);
    let hi = b.len().min(near.saturating_add(WINDOW));
    let hay = &b[lo..hi];
    memchr::memmem::find_iter(hay, needle)
        .map(|i| lo + i)
        .find(|&p| p > 0 && matches!(b[p - 1], b' ' | b'|'))
}

/// The label of the custom field whose key is `b[s..e]` (`cs3` in `cs3=…`): the
/// value of `cs3Label=` in the same text, trimmed.
pub(crate) fn label_of(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let field = b.get(s..e)?;
    if !field_name(field) {
        return None;
    }
    let mut needle = [0u8; MAX_NAME + LABEL.len() + 1];
    let n = field.len();
    needle[..n].copy_from_slice(field);
    needle[n..n + LABEL.len()].copy_from_slice(LABEL);
    needle[n + LABEL.len()] = b'=';
    let at = find_key(b, s, &needle[..n + LABEL.len() + 1])? + n + LABEL.len() + 1;
    let end = value_end(b, at);
    (at < end && end - at <= MAX_NAME).then_some((at, end))
}

/// The label and the value's span of the custom field whose label's value starts at
/// `at` (just past `cs3Label=`).
pub(crate) fn labelled_at(hay: &str, at: usize) -> Option<(&str, usize, usize)> {
    let b = hay.as_bytes();
    let key_end = at.checked_sub(LABEL.len() + 1)?;
    if b.get(key_end..at)? != b"Label=" {
        return None;
    }
    let n = b[..key_end]
        .iter()
        .rev()
        .take(MAX_NAME + 1)
        .take_while(|&&c| key_byte(c))
        .count();
    let field = &b[key_end - n..key_end];
    if !field_name(field) {
        return None;
    }
    let label_end = value_end(b, at);
    if label_end == at || label_end - at > MAX_NAME {
        return None;
    }
    let mut needle = [0u8; MAX_NAME + 1];
    needle[..n].copy_from_slice(field);
    needle[n] = b'=';
    let vs = find_key(b, at, &needle[..=n])? + n + 1;
    let ve = value_end(b, vs);
    // Both at character bounds (a value cut by the window may not be).
    hay.get(vs..ve)?;
    Some((hay.get(at..label_end)?, vs, ve))
}

/// Whether the `=` at `b[eq]` ends a label key (`…Label=`): the scan records
/// `eq + 1` for [`labelled_at`].
pub(crate) fn label_start(b: &[u8], eq: usize) -> Option<usize> {
    // The last byte first: most `=` fail there, without a slice comparison.
    (eq > LABEL.len() + 1 && b[eq - 1] == b'l' && b.get(eq - LABEL.len()..eq)? == LABEL)
        .then_some(eq + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labelled(s: &str) -> Vec<(String, String)> {
        let b = s.as_bytes();
        memchr::memchr_iter(b'=', b)
            .filter_map(|eq| label_start(b, eq))
            .filter_map(|at| labelled_at(s, at))
            .map(|(k, vs, ve)| (k.to_string(), s[vs..ve].to_string()))
            .collect()
    }

    #[test]
    fn custom_fields_are_keyed_by_their_labels() {
        // The CEF specification's custom-field pairs; values hold blanks and `\=`; the
        // label may follow its field.
        let s = "CEF:0|Vendor|Product|1.0|100|Login|5|src=10.0.0.1 cs1Label=Admin \
                 Password cs1=a b\\=c cn2=42 cn2Label=retries \
                 deviceCustomDate1Label=dob deviceCustomDate1=1984-03-05";
        assert_eq!(
            labelled(s),
            vec![
                ("Admin Password".to_string(), "a b\\=c".to_string()),
                ("retries".to_string(), "42".to_string()),
                ("dob".to_string(), "1984-03-05".to_string()),
            ]
        );
        // The field's key gives its label, for the key hints.
        let b = s.as_bytes();
        let at = s.find(" cn2=").unwrap() + 1;
        assert_eq!(
            label_of(b, at, at + 3).map(|(x, y)| &s[x..y]),
            Some("retries")
        );
        let at = s.find(" cs1=").unwrap() + 1;
        assert_eq!(
            label_of(b, at, at + 3).map(|(x, y)| &s[x..y]),
            Some("Admin Password")
        );
    }

    #[test]
    fn no_label_no_key() {
        // A field without a label, a key that is no custom field, a label inside a word.
        let s = "CEF:0|V|P|1|1|n|1|cs1=x suser=kim xcs2Label=pw cs2=y";
        let b = s.as_bytes();
        let at = s.find("cs1=").unwrap();
        assert_eq!(label_of(b, at, at + 3), None);
        let at = s.find("suser=").unwrap();
        assert_eq!(label_of(b, at, at + 5), None);
        assert!(labelled(s).is_empty());
        assert!(labelled("note: userLabel= x").is_empty());
        // Only the specification's custom fields have labels.
        let s = "app1Label=password app1=hunter2 sha256=abc";
        assert!(labelled(s).is_empty());
        let at = s.find("app1=").unwrap();
        assert_eq!(label_of(s.as_bytes(), at, at + 4), None);
    }
}
