//! Name/value pairs written as two quoted strings side by side:
//!
//! - a header per line, `'name', 'value'` (Envoy's debug dump of a header map);
//! - a two-element array `["name", "value"]` (Sentry's event payload lists request
//!   headers so, and `[name, value]` tuples are how many tools serialise a map).
//!
//! The first string is the key of the second, as in `name: value`. Only pairs are
//! read: the name opens its line or an array, the value closes it.

/// The longest name read, in bytes.
const MAX_NAME: usize = 64;

/// Whether `name` can name a value: 1 to [`MAX_NAME`] bytes of letters, digits, `_`,
/// `.`, `-` (a header field name, RFC 9110 §5.1, without its rarer symbols), at least one
/// a letter, after an optional `:` (HTTP/2 pseudo-headers, `:authority`).
pub(crate) fn is_name(name: &[u8]) -> bool {
    let name = name.strip_prefix(b":").unwrap_or(name);
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name.iter().any(u8::is_ascii_alphabetic)
        && name
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// When the comma at `b[comma]` follows a quoted name (quoted with `q`, the quote the
/// value after the comma opens with) that opens its line or an array (`[`): the name's
/// bounds in `b`.
pub(crate) fn name_before(b: &[u8], comma: usize, q: u8) -> Option<(usize, usize)> {
    let mut i = comma;
    while i > 0 && matches!(b[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    if i == 0 || b[i - 1] != q {
        return None;
    }
    let end = i - 1;
    let from = end.saturating_sub(MAX_NAME + 1);
    let open = from + memchr::memrchr(q, &b[from..end])?;
    let start = open + 1;
    if !is_name(&b[start..end]) {
        return None;
    }
    let mut j = open;
    while j > 0 && matches!(b[j - 1], b' ' | b'\t') {
        j -= 1;
    }
    (j == 0 || matches!(b[j - 1], b'\n' | b'\r' | b'[')).then_some((start, end))
}

/// Where the quoted value that starts at `at` (after its quote `b[at - 1]`) ends, when
/// it closes its line or array: its closing quote, then `]`, a line break or the end.
fn value_end(b: &[u8], at: usize) -> Option<usize> {
    let q = b[at.checked_sub(1)?];
    let line_end = memchr::memchr2(b'\n', b'\r', &b[at..]).map_or(b.len(), |i| at + i);
    let end = at + memchr::memchr(q, &b[at..line_end])?;
    let mut k = end + 1;
    while k < line_end && matches!(b[k], b' ' | b'\t') {
        k += 1;
    }
    (k == line_end || b[k] == b']').then_some(end)
}

/// Where the value of a `'name', 'value'` line starting at `b[line]` (a quote) starts.
pub(crate) fn line_value_start(b: &[u8], line: usize) -> Option<usize> {
    let q = *b.get(line)?;
    let len = b
        .get(line + 1..)?
        .iter()
        .take(MAX_NAME + 1)
        .position(|&c| c == q)?;
    let comma = line + 2 + len;
    if b.get(comma) != Some(&b',') {
        return None;
    }
    let mut at = comma + 1;
    while matches!(b.get(at), Some(b' ' | b'\t')) {
        at += 1;
    }
    if b.get(at) != Some(&q) {
        return None;
    }
    name_before(b, comma, q)?;
    value_end(b, at + 1)?;
    Some(at + 1)
}

/// The name and the bounds of the value of a pair starting at `at` ([`line_value_start`]).
pub(crate) fn value_at(hay: &str, at: usize) -> Option<(&str, usize, usize)> {
    let b = hay.as_bytes();
    let q = b[at.checked_sub(1)?];
    if q != b'"' && q != b'\'' {
        return None;
    }
    let mut comma = at - 1;
    while comma > 0 && matches!(b[comma - 1], b' ' | b'\t') {
        comma -= 1;
    }
    comma = comma.checked_sub(1)?;
    if b[comma] != b',' {
        return None;
    }
    let (ns, ne) = name_before(b, comma, q)?;
    let end = value_end(b, at)?;
    Some((hay.get(ns..ne)?, at, end))
}

/// Whether the JSON string token starting at `b[at]` (a `"`) is an array's last
/// element: the token's closing quote, optional whitespace, then `]`.
pub(crate) fn closes_array(b: &[u8], at: usize) -> bool {
    let mut i = at + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => break,
            _ => i += 1,
        }
    }
    i += 1;
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    b.get(i) == Some(&b']')
}

/// Where a webhook URL that starts at `start` and would run to `end` ends when a list
/// of `name=value` pairs joined by `,` goes on after it (kcat's and Kafka's header
/// lists: `url=https://hooks…/secret,content-type=application/json`): at the first `,`
/// followed by a `name=`. RFC 3986 allows both in a path, but no webhook's path or
/// query holds a `,name=` (their secrets are fixed alphabets), so there the list goes on.
pub(crate) fn list_value_end(b: &[u8], start: usize, end: usize) -> usize {
    let mut from = start;
    while let Some(i) = memchr::memchr(b',', &b[from..end]) {
        let comma = from + i;
        let name = b[comma + 1..end]
            .iter()
            .take(MAX_NAME + 1)
            .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
            .count();
        if (1..=MAX_NAME).contains(&name)
            && b[comma + 1].is_ascii_alphabetic()
            && b.get(comma + 1 + name) == Some(&b'=')
        {
            return comma;
        }
        from = comma + 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_pairs(s: &str) -> Vec<(&str, &str)> {
        let b = s.as_bytes();
        let mut out = Vec::new();
        for line in std::iter::once(0).chain(memchr::memchr_iter(b'\n', b).map(|i| i + 1)) {
            if let Some(at) = line_value_start(b, line)
                && let Some((k, s0, e)) = value_at(s, at)
            {
                out.push((k, &s[s0..e]));
            }
        }
        out
    }

    #[test]
    fn header_lines_pair_a_name_with_a_value() {
        let s = "request headers complete (end_stream=false):\n\
                 ':authority', 'example.org'\n\
                 'x-api-key', 'k=v, w'\n\
                 \"cookie\", \"sid=1\"\r\n\
                 'a', 'b', 'c'\n\
                 'no comma' 'x'\n\
                 'user agent', 'curl/8.5.0'";
        assert_eq!(
            line_pairs(s),
            vec![
                (":authority", "example.org"),
                ("x-api-key", "k=v, w"),
                ("cookie", "sid=1"),
            ]
        );
    }

    #[test]
    fn a_name_opens_its_line_or_array() {
        fn name(s: &str) -> Option<&str> {
            let comma = s.rfind(',')?;
            let q = s.as_bytes()[s.len() - 1];
            name_before(s.as_bytes(), comma, q).map(|(a, b)| &s[a..b])
        }
        assert_eq!(name(r#"[["date_of_birth", ""#), Some("date_of_birth"));
        assert_eq!(name("x\n  'pwd', '"), Some("pwd"));
        assert_eq!(name(r#"["a", "b", ""#), None);
        assert_eq!(name(r#"f("pwd", ""#), None);
        assert_eq!(name(r#"["two words", ""#), None);
    }

    #[test]
    fn a_value_in_a_list_of_pairs_ends_where_the_next_pair_starts() {
        fn end(s: &str) -> &str {
            let start = s.find("https").unwrap_or(0);
            &s[start..list_value_end(s.as_bytes(), start, s.len())]
        }
        let s = "headers url=https://h.example/a;b=c/d,content-type=text/plain,n=1";
        assert_eq!(end(s), "https://h.example/a;b=c/d");
        let s = "headers https://h.example/a,content-type=x";
        assert_eq!(end(s), "https://h.example/a");
        let s = "see https://h.example/a,1=x,b";
        assert_eq!(end(s), "https://h.example/a,1=x,b");
        let s = "url=https://h.example/p?a=1,2";
        assert_eq!(end(s), "https://h.example/p?a=1,2");
    }

    #[test]
    fn an_array_closes_after_its_last_string() {
        assert!(closes_array(br#""x\"]" ]"#, 0));
        assert!(!closes_array(br#""x", "y"]"#, 0));
        assert!(!closes_array(br#""x"#, 0));
    }
}
