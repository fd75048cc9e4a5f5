//! Values in Markdown tables (GitHub Flavored Markdown, "Tables (extension)"): a header
//! row, a delimiter row (`|---|:---:|`), then body rows, each a line of cells between
//! `|` (a `\|` is a pipe inside a cell; up to three spaces of indentation). A body cell
//! has two keys: the first cell of its row when it is the second cell (`| x-api-key |
//! … |`, a two-column key/value table), and its column's header name (`| user |
//! password |`). The value is the cell's text, blanks trimmed, inside a code span's
//! backticks when it is one.
//!
//! Only rows that start with `|` are read (GFM allows leaving out the leading pipe; such
//! tables are not recognised). Nothing here allocates: at most [`MAX_COLUMNS`] header
//! names are remembered as spans, and each line is read once.

/// The most header names remembered; later columns are keyed by the row alone.
const MAX_COLUMNS: usize = 32;
/// The most blanks before a row's leading `|`.
const MAX_INDENT: usize = 3;

/// Whether `b` may hold a table: more than one line, and a line that starts with `|`
/// (after up to three spaces). `newline` is where the first line break is
/// (`usize::MAX`: none); most strings are one line and cost one comparison.
#[cfg(test)]
pub(crate) fn may_hold_table(b: &[u8], newline: usize) -> bool {
    newline != usize::MAX
        && memchr::memchr_iter(b'|', b).any(|p| {
            let indent = b[..p]
                .iter()
                .rev()
                .take(MAX_INDENT + 1)
                .take_while(|&&c| c == b' ')
                .count();
            indent <= MAX_INDENT && (p == indent || b[p - indent - 1] == b'\n')
        })
}

/// Whether the line that starts at `b[at]` starts with `|` after at most
/// [`MAX_INDENT`] spaces: the test of `may_hold_table` at one line start, which the
/// scan (`scan.rs`) makes at every line feed it stops at.
#[inline(always)]
pub(crate) fn row_start(b: &[u8], at: usize) -> bool {
    matches!(
        b.get(at..),
        Some([b'|', ..] | [b' ', b'|', ..] | [b' ', b' ', b'|', ..] | [b' ', b' ', b' ', b'|', ..])
    )
}

/// The line that starts at `at`, without its line break (and a `\r` before it).
fn line(b: &[u8], at: usize) -> (usize, usize) {
    let end = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |n| at + n);
    let e = if end > at && b[end - 1] == b'\r' {
        end - 1
    } else {
        end
    };
    (e, end)
}

/// Where the cells of a row at `b[at..]` start: just past its leading `|`.
fn row_body(b: &[u8], at: usize) -> Option<usize> {
    let rest = b.get(at..)?;
    let indent = rest
        .iter()
        .take(MAX_INDENT + 1)
        .take_while(|&&c| c == b' ')
        .count();
    (indent <= MAX_INDENT && rest.get(indent) == Some(&b'|')).then_some(at + indent + 1)
}

/// The cells of the row whose cells start at `from` and whose line ends at `end`, each
/// trimmed (and inside its code span's backticks); a last cell after the closing `|`
/// that holds only blanks is none.
fn cells(b: &[u8], from: usize, end: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut at = from;
    std::iter::from_fn(move || {
        if at >= end {
            return None;
        }
        let start = at;
        let mut i = at;
        while i < end && b[i] != b'|' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        let stop = i.min(end);
        at = stop + 1;
        let (mut s, mut e) = (start, stop);
        while s < e && matches!(b[s], b' ' | b'\t') {
            s += 1;
        }
        while e > s && matches!(b[e - 1], b' ' | b'\t') {
            e -= 1;
        }
        if stop == end && s == e {
            return None;
        }
        if e - s >= 2 && b[s] == b'`' && b[e - 1] == b'`' {
            s += 1;
            e -= 1;
            while s < e && b[s] == b' ' {
                s += 1;
            }
            while e > s && b[e - 1] == b' ' {
                e -= 1;
            }
        }
        Some((s, e))
    })
}

/// A delimiter row's cells: `-` with an optional `:` at either end.
fn is_delimiter(b: &[u8], from: usize, end: usize) -> bool {
    let mut n = 0;
    for (s, e) in cells(b, from, end) {
        let c = &b[s..e];
        let c = c.strip_prefix(b":").unwrap_or(c);
        let c = c.strip_suffix(b":").unwrap_or(c);
        if c.is_empty() || c.iter().any(|&x| x != b'-') {
            return false;
        }
        n += 1;
    }
    n > 0
}

/// Calls `on_value(key, start, end)` for each body cell of each table in `hay` with the
/// keys described in the module's documentation, the row's first cell first; a call
/// that returns `true` took the value (its other key is not tried).
pub(crate) fn keyed_cells(hay: &str, mut on_value: impl FnMut(&str, usize, usize) -> bool) {
    let b = hay.as_bytes();
    let mut header = [(0u32, 0u32); MAX_COLUMNS];
    let mut columns = 0;
    let mut in_table = false;
    // The previous line's cells' start and end, when it was a row.
    let mut prev_row: Option<(usize, usize)> = None;
    let mut at = 0;
    while at < b.len() {
        let (e, next) = line(b, at);
        let row = row_body(b, at).filter(|&s| s <= e);
        at = next + 1;
        let Some(s) = row else {
            in_table = false;
            prev_row = None;
            continue;
        };
        if !in_table {
            if let Some((hs, he)) = prev_row
                && is_delimiter(b, s, e)
            {
                columns = 0;
                for (cs, ce) in cells(b, hs, he).take(MAX_COLUMNS) {
                    // Offsets fit: `hay` is shorter than the JSON limit.
                    header[columns] = (
                        u32::try_from(cs).unwrap_or(u32::MAX),
                        u32::try_from(ce).unwrap_or(u32::MAX),
                    );
                    columns += 1;
                }
                in_table = true;
            } else {
                prev_row = Some((s, e));
            }
            continue;
        }
        let mut first = None;
        for (j, (cs, ce)) in cells(b, s, e).enumerate() {
            if j == 0 {
                first = hay.get(cs..ce);
                continue;
            }
            if cs == ce {
                continue;
            }
            if j == 1
                && let Some(k) = first
                && on_value(k, cs, ce)
            {
                continue;
            }
            if let Some(&(hs, he)) = header.get(j).filter(|_| j < columns)
                && let Some(k) = hay.get(hs as usize..he as usize)
            {
                on_value(k, cs, ce);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::test_text::pairs;

    fn keyed(s: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !may_hold_table(s.as_bytes(), s.find('\n').unwrap_or(usize::MAX)) {
            return out;
        }
        keyed_cells(s, |k, a, e| {
            out.push((k.to_string(), s[a..e].to_string()));
            false
        });
        out
    }

    #[test]
    fn body_cells_are_keyed_by_their_row_and_column() {
        // GFM spec example 198's shape: header, delimiter with alignment, body rows.
        let s = "| name | value |\n| :--- | ---: |\n| api_key | `k3y` |\n| user | kim |\n";
        assert_eq!(
            keyed(s),
            pairs(&[
                ("api_key", "k3y"),
                ("value", "k3y"),
                ("user", "kim"),
                ("value", "kim"),
            ])
        );
        // CRLF, indentation, an escaped pipe inside a cell, a header-keyed third column.
        let s = "text\r\n  | id | user | passwd |\r\n  |--|--|--|\r\n  | 1 | kim | a\\|b |\r\n";
        assert_eq!(
            keyed(s),
            pairs(&[("1", "kim"), ("user", "kim"), ("passwd", "a\\|b")])
        );
    }

    #[test]
    fn no_table_without_a_delimiter_row_or_a_leading_pipe() {
        assert!(keyed("| api_key | k3y |\n| user | kim |\n").is_empty());
        assert!(keyed("api_key | value\n--- | ---\nx | y\n").is_empty());
        assert!(keyed("a | b |\n").is_empty());
        // A blank line ends the table.
        let s = "| k | v |\n|---|---|\n| a | b |\n\n| c | d |\n";
        assert_eq!(keyed(s), pairs(&[("a", "b"), ("v", "b")]));
        // A one-line string is never a table.
        assert!(!may_hold_table(b"| k | v |", usize::MAX));
    }
}
