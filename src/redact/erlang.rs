//! Erlang map associations whose value is a binary: `#{<<"passwd">> => <<"…">>}`,
//! `#{password => <<"…">>}`, `M#{'api-key' := <<"…">>}` (Erlang reference manual,
//! "Maps": `Key => Value` associations, `Key := Value` updates; "Bit Syntax": a binary
//! written `<<"text">>`, with `\"` and `\\` escapes in the string).
//!
//! The key is the binary, atom or quoted atom before `=>` or `:=`; the value means what
//! it means under the same key in `key=value` (`keys::whole_value`). The scan
//! (`scan.rs`) records the value's start at the `<` of `<<"` after the arrow; nothing
//! here allocates, and every walk back is bounded.

/// The longest key read, in bytes.
const MAX_KEY: usize = 64;
/// The most blanks read around the arrow.
const MAX_BLANKS: usize = 4;

/// Whether `c` is a byte of an unquoted atom (`[a-z][A-Za-z0-9_@]*`).
fn atom_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'@')
}

/// Where the arrow (`=>` or `:=`) before `b[..end]` starts, blanks skipped on both
/// sides of it.
fn arrow_before(b: &[u8], end: usize) -> Option<usize> {
    let blanks = |e: usize| {
        e - b[..e]
            .iter()
            .rev()
            .take(MAX_BLANKS)
            .take_while(|&&c| c == b' ')
            .count()
    };
    let e = blanks(end);
    if e < 2 || !matches!(&b[e - 2..e], b"=>" | b":=") {
        return None;
    }
    Some(blanks(e - 2))
}

/// Whether the `<` at `b[lt]` opens a binary that is a map association's value
/// (`=> <<"`, `:= <<"`), and where the value's text starts.
pub(crate) fn map_value_start(b: &[u8], lt: usize) -> Option<usize> {
    if !b.get(lt..)?.starts_with(b"<<\"") {
        return None;
    }
    arrow_before(b, lt)?;
    Some(lt + 3)
}

/// The key's text before the arrow, which ends at `end`: `<<"key">>`, `'key'` or `key`.
fn key_before(b: &[u8], end: usize) -> Option<(usize, usize)> {
    let from = end.saturating_sub(MAX_KEY + 5);
    let head = &b[from..end];
    if let Some(rest) = head.strip_suffix(b"\">>") {
        let open = memchr::memmem::rfind(rest, b"<<\"")?;
        let (s, e) = (from + open + 3, from + rest.len());
        return (s < e && !b[s..e].contains(&b'"')).then_some((s, e));
    }
    if let Some(rest) = head.strip_suffix(b"'") {
        let open = memchr::memrchr(b'\'', rest)?;
        let (s, e) = (from + open + 1, from + rest.len());
        return (s < e).then_some((s, e));
    }
    let len = head.iter().rev().take_while(|&&c| atom_byte(c)).count();
    let s = end - len;
    (len > 0 && b[s].is_ascii_lowercase()).then_some((s, end))
}

/// The end of the binary's string that starts at `at`: its closing `">>`, a `"` no
/// backslash escapes.
fn value_end(b: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    while let Some(q) = memchr::memchr2(b'"', b'\\', b.get(i..)?) {
        let p = i + q;
        if b[p] == b'\\' {
            i = p + 2;
            continue;
        }
        return b[p..].starts_with(b"\">>").then_some(p);
    }
    None
}

/// The key and the value's span of the association whose value the scan recorded at
/// `at` (just past `<<"`).
pub(crate) fn map_value_at(hay: &str, at: usize) -> Option<(&str, usize, usize)> {
    let b = hay.as_bytes();
    let lt = at.checked_sub(3)?;
    if b.get(lt..at)? != b"<<\"" {
        return None;
    }
    let arrow = arrow_before(b, lt)?;
    let (ks, ke) = key_before(b, arrow)?;
    let e = value_end(b, at)?;
    Some((hay.get(ks..ke)?, at, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(s: &str) -> Option<(String, String)> {
        let lt = s.find("<<\"").map(|i| {
            // The binary after the arrow, not the key's.
            s[i + 3..].find("<<\"").map_or(i, |j| i + 3 + j)
        })?;
        let at = map_value_start(s.as_bytes(), lt)?;
        let (k, vs, ve) = map_value_at(s, at)?;
        Some((k.to_string(), s[vs..ve].to_string()))
    }

    fn kv(k: &str, v: &str) -> Option<(String, String)> {
        Some((k.to_string(), v.to_string()))
    }

    #[test]
    fn associations_give_their_binary_value_a_key() {
        // Map expressions and updates as the reference manual writes them.
        assert_eq!(
            pair(r#"#{<<"passwd">> => <<"x9!vQ,2#m">>}"#),
            kv("passwd", "x9!vQ,2#m")
        );
        assert_eq!(
            pair(r#"#{password=><<"hunter2">>}"#),
            kv("password", "hunter2")
        );
        assert_eq!(pair(r#"M#{'api-key' := <<"k3y">>}"#), kv("api-key", "k3y"));
        // Escapes inside the string: `\"` does not end it.
        assert_eq!(
            pair(r#"#{<<"token">> => <<"a\"b\\">>, x => 1}"#),
            kv("token", r#"a\"b\\"#)
        );
    }

    #[test]
    fn other_binaries_have_no_key() {
        // A list of binaries, a binary in a tuple (`columns.rs` reads `{key,<<"…">>}`),
        // an unclosed string, a variable (capitalised) as key.
        assert_eq!(pair(r#"[<<"a">>, <<"b">>]"#), None);
        assert_eq!(pair(r#"{passwd, <<"x">>}"#), None);
        assert_eq!(pair(r#"#{<<"passwd">> => <<"open"#), None);
        assert_eq!(pair(r#"#{Key => <<"v">>}"#), None);
        assert_eq!(map_value_start(b"a => <", 5), None);
    }
}
