//! HTML form controls: `<input type="hidden" name="dob" value="…">`. A control's
//! `name` attribute is the key its `value` attribute is submitted under (HTML Living
//! Standard, "Constructing the entry list"), so the value means what the same key means
//! in `key=value`.
//!
//! Attributes are read as the standard's tokenizer reads a start tag: names up to
//! whitespace, `/`, `>` or `=`; `=` with optional whitespace around it; a value quoted
//! with `"` or `'`, or unquoted up to whitespace or `>`; in any order. A tag is read at
//! most [`MAX_TAG`] bytes, and only to its `>`.

/// The longest start tag read, in bytes.
const MAX_TAG: usize = 512;

/// Bounds in the text: start, end.
type Span = (usize, usize);

/// The spans in `b` of the `name` attribute's value and of the `value` attribute (its
/// name's start, its value's bounds) of the start tag at `b[lt]` (a `<`), when it has
/// both and the name is not empty.
fn name_and_value(b: &[u8], lt: usize) -> Option<(Span, usize, Span)> {
    let end = (lt + MAX_TAG).min(b.len());
    if !b.get(lt + 1)?.is_ascii_alphabetic() {
        return None;
    }
    let space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0c);
    let mut i = lt + 1;
    while i < end && !space(b[i]) && b[i] != b'>' && b[i] != b'/' {
        i += 1;
    }
    let (mut name, mut value) = (None, None);
    loop {
        while i < end && (space(b[i]) || b[i] == b'/') {
            i += 1;
        }
        if i >= end || b[i] == b'>' {
            break;
        }
        let attr_start = i;
        i += 1;
        while i < end && !space(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
            i += 1;
        }
        let attr = &b[attr_start..i];
        while i < end && space(b[i]) {
            i += 1;
        }
        let mut span = (i, i);
        if i < end && b[i] == b'=' {
            i += 1;
            while i < end && space(b[i]) {
                i += 1;
            }
            let q = *b.get(i)?;
            if q == b'"' || q == b'\'' {
                let len = b[i + 1..end].iter().position(|&c| c == q)?;
                span = (i + 1, i + 1 + len);
                i += len + 2;
            } else {
                let s = i;
                while i < end && !space(b[i]) && b[i] != b'>' {
                    i += 1;
                }
                span = (s, i);
            }
        }
        if attr.eq_ignore_ascii_case(b"name") {
            name = name.or(Some(span));
        } else if attr.eq_ignore_ascii_case(b"value") {
            value = value.or(Some((attr_start, span)));
        }
    }
    if i >= end {
        return None;
    }
    let (name, (attr, value)) = (name?, value?);
    (name.0 < name.1).then_some((name, attr, value))
}

/// Where the `value` attribute of a start tag at `b[lt]` (a `<`) that also has a
/// `name` starts: a value keyed apart from its name.
pub(crate) fn value_start(b: &[u8], lt: usize) -> Option<usize> {
    let (_, _, (s, e)) = name_and_value(b, lt)?;
    (s < e).then_some(s)
}

/// The start tag's `<` before `at`, at most [`MAX_TAG`] bytes back, with no `>` between.
fn tag_before(b: &[u8], at: usize) -> Option<usize> {
    let from = at.saturating_sub(MAX_TAG);
    let lt = from + memchr::memrchr(b'<', &b[from..at])?;
    memchr::memchr(b'>', &b[lt..at]).is_none().then_some(lt)
}

/// The name and the bounds of a `value` attribute starting at `at` ([`value_start`]).
pub(crate) fn value_at(hay: &str, at: usize) -> Option<(&str, usize, usize)> {
    let b = hay.as_bytes();
    if !matches!(
        b[at.checked_sub(1)?],
        b'"' | b'\'' | b'=' | b' ' | b'\t' | b'\n' | b'\r'
    ) {
        return None;
    }
    let ((ns, ne), _, (s, e)) = name_and_value(b, tag_before(b, at)?)?;
    if s != at || s >= e {
        return None;
    }
    Some((hay.get(ns..ne)?, s, e))
}

/// When `b[start..end]` is the name of a `value` attribute in a start tag with a `name`:
/// the bounds of that name's value, the key of the value after `start..end`.
pub(crate) fn name_of_value(b: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
    if !b[start..end].eq_ignore_ascii_case(b"value") {
        return None;
    }
    let (name, attr, _) = name_and_value(b, tag_before(b, start)?)?;
    (attr == start).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(s: &str) -> Option<(&str, &str)> {
        let at = value_start(s.as_bytes(), s.find('<')?)?;
        let (k, vs, ve) = value_at(s, at)?;
        Some((k, &s[vs..ve]))
    }

    #[test]
    fn a_value_is_keyed_by_its_controls_name() {
        // Attributes in any order, quoted either way or not at all, spaces around `=`,
        // a self-closing slash, any case.
        assert_eq!(
            keyed(r#"<input type="hidden" name="birth_date" value="1984-02-29">"#),
            Some(("birth_date", "1984-02-29"))
        );
        assert_eq!(
            keyed("<INPUT VALUE='s3cr3t!' Name='passwd'/>"),
            Some(("passwd", "s3cr3t!"))
        );
        assert_eq!(
            keyed("<input name = pin value = 4821 >"),
            Some(("pin", "4821"))
        );
        assert_eq!(
            keyed("<button name=\"action\" type=submit value=\"a b\">Go</button>"),
            Some(("action", "a b"))
        );
        // No name, an empty name or value, no `>`: nothing keyed.
        assert_eq!(keyed(r#"<input type="text" value="x">"#), None);
        assert_eq!(keyed(r#"<input name="" value="x">"#), None);
        assert_eq!(keyed(r#"<input name="a" value="">"#), None);
        assert_eq!(keyed(r#"<input name="a" value="x""#), None);
        // `data-value` is another attribute.
        assert_eq!(keyed(r#"<li name="a" data-value="x">"#), None);
    }

    #[test]
    fn the_value_attribute_names_the_name() {
        let s = r#"<p>x</p><input id="v" name="version" value="10.0.19045.1">"#;
        let at = s.find("value=").unwrap_or(0);
        let got = name_of_value(s.as_bytes(), at, at + 5).map(|(a, b)| &s[a..b]);
        assert_eq!(got, Some("version"));
        // Outside a tag, `value=` is its own key.
        let s = "<p>value=10.0.19045.1</p>";
        let at = s.find("value=").unwrap_or(0);
        assert_eq!(name_of_value(s.as_bytes(), at, at + 5), None);
    }
}
