//! Values whose key is written apart from them, by position or around them:
//!
//! - a CSV column under its header row (RFC 4180: a first line of names separated by
//!   `,`, `;` or a tab, then rows; quoted fields hold separators, line breaks and
//!   doubled quotes);
//! - an SQL value under its column list (`INSERT INTO t (a, "b") VALUES (1, 'x'),
//!   (2, 'y')`; string literals with `''` for a quote);
//! - an XML element's text (`<Passwd>…</Passwd>`, `<ns:ApiKey>…</ns:ApiKey>`), an
//!   Erlang binary in a `{key,<<"…">>}` tuple, and the value of a `multipart/form-data`
//!   part under its `Content-Disposition: form-data; name="…"` line (RFC 7578).
//!
//! A value's key is the header's or column list's name at its position, the element's
//! name, the tuple's atom, or the part's name; it goes through the key rules a JSON key
//! does (`keys.rs`: sensitive, never scanned, or a credential name) and means what the
//! same key means in `key=value` (`context.rs` hints). Nothing here allocates: a header
//! or column list is remembered as at most [`MAX_COLUMNS`] name spans (later columns
//! have no key), and fields are read one after the other by a cursor, each byte once.

/// The most columns whose names are remembered; fields past them have no key.
pub(crate) const MAX_COLUMNS: usize = 64;
/// The longest column name read, in bytes.
const MAX_NAME: usize = 64;
/// How far a CSV header line is read before it is taken not to be one, in bytes.
const MAX_HEADER: usize = 4096;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    /// CSV rows with this separator.
    Csv(u8),
    /// SQL `VALUES` tuples.
    Sql,
}

/// A value placed by position: its bounds in the text (inside its quotes) and its
/// column.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Field {
    pub start: usize,
    pub end: usize,
    pub col: usize,
    /// Written as an unquoted token (SQL `NULL`, a number).
    pub bare: bool,
}

/// The column names of a CSV header or an SQL column list, and a cursor over the
/// fields under them.
#[derive(Clone)]
pub(crate) struct Columns<'a> {
    hay: &'a str,
    names: [(u32, u32); MAX_COLUMNS],
    n: usize,
    shape: Shape,
    /// Where the next field starts; `usize::MAX` once the rows or tuples end.
    pos: usize,
    /// The next field's column.
    col: usize,
    /// The field [`Columns::key_at`] last read.
    last: Option<Field>,
    /// SQL: inside a tuple (its `(` read).
    in_tuple: bool,
}

/// [`name_byte`] of every byte, in one table.
static NAME_BYTE: [bool; 256] = super::byte_table(b"_.- ", true);

/// A byte of a column name: ASCII letters, digits, `_ . -`, a space, non-ASCII.
fn name_byte(c: u8) -> bool {
    NAME_BYTE[usize::from(c)]
}

/// The header row at the start of `b`: two or more names (each optionally in double
/// quotes, at most [`MAX_NAME`] bytes) separated by one of `,`, `;` or a tab, a line
/// break, then a row with that separator in it. `on_name` gets each name's span;
/// returns the separator and where the rows start. Most text fails at its first bytes:
/// a byte that is neither a name's nor a separator, or a name too long.
fn header(b: &[u8], mut on_name: impl FnMut(usize, usize)) -> Option<(u8, usize)> {
    let mut sep = None;
    let mut i = 0;
    let mut count = 0usize;
    loop {
        // One name, quoted or not.
        let (s, e, next) = if b.get(i) == Some(&b'"') {
            let rest = b.get(i + 1..)?;
            let close = i + 1 + rest.iter().take(MAX_NAME + 1).position(|&c| c == b'"')?;
            if !b[i + 1..close].iter().all(|&c| name_byte(c)) {
                return None;
            }
            (i + 1, close, close + 1)
        } else {
            // A name is at most `MAX_NAME` bytes: a long run of words is no header.
            let len = b[i..]
                .iter()
                .take(MAX_NAME + 1)
                .position(|&c| !name_byte(c))
                .unwrap_or((b.len() - i).min(MAX_NAME + 1));
            (i, i + len, i + len)
        };
        let (s, e) = trim_name(b, s, e)?;
        on_name(s, e);
        count += 1;
        match b.get(next) {
            Some(&c @ (b',' | b';' | b'\t')) => {
                if *sep.get_or_insert(c) != c {
                    return None;
                }
                i = next + 1;
                // `a, b`: a blank after the separator.
                while b.get(i) == Some(&b' ') {
                    i += 1;
                }
            }
            Some(b'\r') if b.get(next + 1) == Some(&b'\n') => {
                i = next + 2;
                break;
            }
            Some(b'\n') => {
                i = next + 1;
                break;
            }
            _ => return None,
        }
        if i > MAX_HEADER {
            return None;
        }
    }
    let sep = sep?;
    (count >= 2 && i < b.len() && b[i..].contains(&sep)).then_some((sep, i))
}

/// `name` trimmed of blanks; `None` unless it holds a letter (or non-ASCII) and is at
/// most [`MAX_NAME`] bytes.
fn trim_name(b: &[u8], mut s: usize, mut e: usize) -> Option<(usize, usize)> {
    while s < e && b[s] == b' ' {
        s += 1;
    }
    while e > s && b[e - 1] == b' ' {
        e -= 1;
    }
    let ok = e > s
        && e - s <= MAX_NAME
        && b[s..e]
            .iter()
            .any(|c| c.is_ascii_alphabetic() || *c >= 0x80);
    ok.then_some((s, e))
}

impl<'a> Columns<'a> {
    /// The columns of `hay` when it is CSV with a header row on its first line or, after
    /// one line of prose (`import rejected 1 row:`), on its second (its first line feed
    /// at `newline`), or holds an SQL `INSERT` whose `VALUES` keyword is at `values`
    /// (`usize::MAX`: none).
    #[inline]
    pub(crate) fn of(hay: &'a str, values: usize, newline: usize) -> Option<Self> {
        let b = hay.as_bytes();
        // Text with no line feed in reach is no CSV; the rest mostly fails the header
        // test at its first bytes; only a header is read again, to remember its names.
        if newline <= MAX_HEADER {
            let header_at = |at: usize| {
                b.get(at).is_some_and(|&c| name_byte(c) || c == b'"')
                    && header(&b[at..], |_, _| {}).is_some()
            };
            if header_at(0) {
                return Self::csv(hay, 0);
            }
            if header_at(newline + 1) {
                return Self::csv(hay, newline + 1);
            }
        }
        if values != usize::MAX {
            return Self::sql(hay, values);
        }
        None
    }

    fn empty(hay: &'a str, shape: Shape) -> Self {
        Columns {
            hay,
            names: [(0, 0); MAX_COLUMNS],
            n: 0,
            shape,
            pos: usize::MAX,
            col: 0,
            last: None,
            in_tuple: false,
        }
    }

    fn push(&mut self, s: usize, e: usize) -> Option<()> {
        if self.n < MAX_COLUMNS {
            self.names[self.n] = (u32::try_from(s).ok()?, u32::try_from(e).ok()?);
            self.n += 1;
        }
        Some(())
    }

    /// CSV with a header row ([`header`]) at `at`, its names remembered.
    #[inline(never)]
    fn csv(hay: &'a str, at: usize) -> Option<Self> {
        let mut cols = Self::empty(hay, Shape::Csv(b','));
        let mut ok = true;
        let (sep, rows) = header(&hay.as_bytes()[at..], |s, e| {
            ok &= cols.push(at + s, at + e).is_some();
        })?;
        if !ok {
            return None;
        }
        cols.shape = Shape::Csv(sep);
        cols.pos = at + rows;
        Some(cols)
    }

    /// `INSERT INTO <table> (<names>) VALUES (…)[, (…)]*` with `VALUES` at `values`.
    #[inline(never)]
    fn sql(hay: &'a str, values: usize) -> Option<Self> {
        let b = hay.as_bytes();
        let blank = |c: u8| c.is_ascii_whitespace();
        // Back from `VALUES`: blanks, the column list's `)`.
        let mut j = values;
        while j > 0 && blank(b[j - 1]) {
            j -= 1;
        }
        if j == 0 || b[j - 1] != b')' {
            return None;
        }
        let close = j - 1;
        let limit = close.saturating_sub(MAX_COLUMNS * (MAX_NAME + 4));
        let open = (limit..close).rev().find(|&k| b[k] == b'(')?;
        // Before it: the table's name (maybe quoted or qualified), then `INTO`.
        let mut t = open;
        while t > 0 && blank(b[t - 1]) {
            t -= 1;
        }
        let table_end = t;
        while t > 0
            && (name_byte(b[t - 1]) && b[t - 1] != b' '
                || matches!(b[t - 1], b'"' | b'`' | b'[' | b']'))
        {
            t -= 1;
        }
        if t == table_end {
            return None;
        }
        while t > 0 && blank(b[t - 1]) {
            t -= 1;
        }
        if t < 4 || !b[t - 4..t].eq_ignore_ascii_case(b"into") {
            return None;
        }
        let mut cols = Self::empty(hay, Shape::Sql);
        for part in b[open + 1..close].split(|&c| c == b',') {
            let mut s = part.as_ptr() as usize - b.as_ptr() as usize;
            let mut e = s + part.len();
            while s < e && b[s].is_ascii_whitespace() {
                s += 1;
            }
            while e > s && b[e - 1].is_ascii_whitespace() {
                e -= 1;
            }
            if e - s >= 2 && matches!((b[s], b[e - 1]), (b'"', b'"') | (b'`', b'`') | (b'[', b']'))
            {
                s += 1;
                e -= 1;
            }
            let (s, e) = trim_name(b, s, e)?;
            if !b[s..e].iter().all(|&c| name_byte(c)) {
                return None;
            }
            cols.push(s, e)?;
        }
        // After `VALUES`: blanks and the first tuple's `(`.
        let mut i = values + "VALUES".len();
        while b.get(i).is_some_and(|&c| blank(c)) {
            i += 1;
        }
        if b.get(i) != Some(&b'(') {
            return None;
        }
        cols.pos = i;
        Some(cols)
    }

    /// The name of column `col`, if it is remembered.
    pub(crate) fn name(&self, col: usize) -> Option<&'a str> {
        let &(s, e) = self.names.get(col).filter(|_| col < self.n)?;
        self.hay.get(s as usize..e as usize)
    }

    /// The key of the value at `p`: the name of the column of the field that holds it.
    /// Asked at ascending `p` only (a cursor moves forward).
    pub(crate) fn key_at(&mut self, p: usize) -> Option<&'a str> {
        loop {
            match self.last {
                Some(f) if f.end >= p => {
                    return if f.start <= p { self.name(f.col) } else { None };
                }
                _ => self.last = Some(self.next()?),
            }
        }
    }

    /// The next field of a CSV row (quoted per RFC 4180).
    fn next_csv(&mut self, sep: u8) -> Option<Field> {
        let b = self.hay.as_bytes();
        let i = self.pos;
        if i >= b.len() {
            self.pos = usize::MAX;
            return None;
        }
        let (start, end, after, bare) = if b[i] == b'"' {
            // A quoted field: to the quote not followed by another.
            let mut k = i + 1;
            loop {
                match b.get(k) {
                    None => break,
                    Some(b'"') if b.get(k + 1) == Some(&b'"') => k += 2,
                    Some(b'"') => break,
                    Some(_) => k += 1,
                }
            }
            (i + 1, k.min(b.len()), (k + 1).min(b.len()), false)
        } else {
            let len = b[i..]
                .iter()
                .position(|&c| c == sep || c == b'\n' || c == b'\r')
                .unwrap_or(b.len() - i);
            (i, i + len, i + len, true)
        };
        let col = self.col;
        // What ends the field: a separator (next column), a line break (next row).
        let mut next = after;
        match b.get(next) {
            Some(&c) if c == sep => {
                self.col += 1;
                next += 1;
            }
            Some(b'\r' | b'\n') => {
                self.col = 0;
                while matches!(b.get(next), Some(b'\r' | b'\n')) {
                    next += 1;
                }
            }
            // A stray byte after a closing quote: to the end of the field.
            Some(_) => {
                let len = b[next..]
                    .iter()
                    .position(|&c| c == sep || c == b'\n')
                    .unwrap_or(b.len() - next);
                next += len;
                // The separator or line break is read on the next call.
                self.pos = next.max(i + 1);
                return Some(Field {
                    start,
                    end,
                    col,
                    bare,
                });
            }
            None => next = b.len(),
        }
        self.pos = next.max(i + 1);
        Some(Field {
            start,
            end,
            col,
            bare,
        })
    }

    /// The next value of an SQL `VALUES` list: a string literal (`''` a quote in it), or
    /// a token up to the `,` or `)` that ends it (parentheses in it nest).
    fn next_sql(&mut self) -> Option<Field> {
        let b = self.hay.as_bytes();
        let blank = |c: u8| c.is_ascii_whitespace();
        let skip = |mut k: usize| {
            while b.get(k).is_some_and(|&c| blank(c)) {
                k += 1;
            }
            k
        };
        let mut i = skip(self.pos);
        if !self.in_tuple {
            // A tuple starts with `(`; anything else ends the list.
            if b.get(i) != Some(&b'(') {
                self.pos = usize::MAX;
                return None;
            }
            self.in_tuple = true;
            self.col = 0;
            i = skip(i + 1);
        }
        let (start, end, k, bare) = if b.get(i) == Some(&b'\'') {
            let mut k = i + 1;
            loop {
                match b.get(k) {
                    None => break,
                    Some(b'\'') if b.get(k + 1) == Some(&b'\'') => k += 2,
                    Some(b'\'') => break,
                    Some(_) => k += 1,
                }
            }
            (i + 1, k.min(b.len()), (k + 1).min(b.len()), false)
        } else {
            let mut depth = 0usize;
            let mut k = i;
            while let Some(&c) = b.get(k) {
                match c {
                    b'(' => depth += 1,
                    b')' | b',' if depth == 0 => break,
                    b')' => depth -= 1,
                    _ => {}
                }
                k += 1;
            }
            let mut e = k;
            while e > i && blank(b[e - 1]) {
                e -= 1;
            }
            (i, e, k, true)
        };
        let col = self.col;
        let mut k = skip(k);
        match b.get(k) {
            Some(b',') => {
                self.col += 1;
                k += 1;
            }
            Some(b')') => {
                // The tuple ends; another follows after a `,`.
                self.in_tuple = false;
                k = skip(k + 1);
                if b.get(k) == Some(&b',') {
                    k += 1;
                } else {
                    k = b.len();
                }
            }
            _ => k = b.len(),
        }
        self.pos = k.max(i + 1);
        Some(Field {
            start,
            end,
            col,
            bare,
        })
    }
}

impl Iterator for Columns<'_> {
    type Item = Field;

    /// The next field, left to right; each call moves forward at least one byte.
    fn next(&mut self) -> Option<Field> {
        if self.pos >= self.hay.len() {
            return None;
        }
        match self.shape {
            Shape::Csv(sep) => self.next_csv(sep),
            Shape::Sql => self.next_sql(),
        }
    }
}

/// The longest start tag read, in bytes.
const MAX_TAG: usize = 256;
/// The attributes that name an element's text.
const NAME_ATTRS: [&[u8]; 2] = [b" name=", b" key="];

/// The start tag at `b[lt..]` (a `<`): the span of the key it gives the element's
/// text, and where that text starts. `<Name>` and `<ns:Name>` name it themselves; a
/// tag with attributes names it by its `name` or `key` attribute (`<Field
/// name="password">`, `<add key="ApiKey" …>`), or not at all.
fn start_tag(b: &[u8], lt: usize) -> Option<(usize, usize, usize)> {
    if !b.get(lt + 1)?.is_ascii_alphabetic() {
        return None;
    }
    let len = b[lt + 1..]
        .iter()
        .take(MAX_NAME + 1)
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b':')))?;
    let name_end = lt + 1 + len;
    if len > MAX_NAME {
        return None;
    }
    if b.get(name_end) == Some(&b'>') {
        // The local name, after a namespace prefix.
        let local = b[lt + 1..name_end]
            .iter()
            .rposition(|&c| c == b':')
            .map_or(lt + 1, |c| lt + 2 + c);
        return (local < name_end).then_some((local, name_end, name_end + 1));
    }
    if b.get(name_end) != Some(&b' ') {
        return None;
    }
    // Attributes up to the tag's `>`: `name="…"` or `key="…"` (either quote).
    let tag = b.get(name_end..)?;
    let gt = tag
        .iter()
        .take(MAX_TAG)
        .position(|&c| c == b'>' || c == b'<')?;
    if tag[gt] != b'>' || tag[gt - 1] == b'/' {
        return None;
    }
    let attrs = &tag[..gt];
    let mut i = 0;
    while i < attrs.len() {
        let rest = &attrs[i..];
        let named = NAME_ATTRS
            .iter()
            .find(|a| rest.len() > a.len() && rest[..a.len()].eq_ignore_ascii_case(a));
        if let Some(a) = named {
            let q = rest[a.len()];
            if matches!(q, b'"' | b'\'') {
                let vs = i + a.len() + 1;
                let ve = vs + attrs[vs..].iter().position(|&c| c == q)?;
                let (s, e) = trim_name(b, name_end + vs, name_end + ve)?;
                return Some((s, e, name_end + gt + 1));
            }
        }
        i += 1;
    }
    None
}

/// The key and the value of a keyed start the scan recorded (`scan.rs`, `keyed`): an
/// element's text after its start tag (ending at a closing tag), or an Erlang binary
/// after `{key,<<"` (ending at `">>`). `at` is where the value starts.
pub(crate) fn keyed_at(hay: &str, at: usize) -> Option<(&str, usize, usize)> {
    let b = hay.as_bytes();
    if at == 0 {
        return None;
    }
    if b[at - 1] == b'>' {
        let from = at.saturating_sub(MAX_TAG + MAX_NAME + 2);
        let lt = from + memchr::memrchr(b'<', &b[from..at])?;
        let (ks, ke, content) = start_tag(b, lt)?;
        if content != at {
            return None;
        }
        let len = memchr::memchr(b'<', &b[at..])?;
        let mut s = at;
        let mut e = at + len;
        if b.get(e + 1) != Some(&b'/') {
            return None;
        }
        while s < e && b[s].is_ascii_whitespace() {
            s += 1;
        }
        while e > s && b[e - 1].is_ascii_whitespace() {
            e -= 1;
        }
        return Some((hay.get(ks..ke)?, s, e));
    }
    if b[at - 1] == b'\n' {
        // The part's body, to the line break before the next boundary (`--…`).
        let (ks, ke) = part_name(b, at)?;
        let mut end = memchr::memmem::find(&b[at..], b"\n--").map_or(b.len(), |i| at + i);
        if end > at && b[end - 1] == b'\r' {
            end -= 1;
        }
        return Some((hay.get(ks..ke)?, at, end));
    }
    // `<input name="…" value="…">`, `'name', 'value'`.
    if let Some(v) = super::html::value_at(hay, at).or_else(|| super::pairs::value_at(hay, at)) {
        return Some(v);
    }
    // `{key,<<"value">>}`
    if at < 4 || &b[at - 4..at] != b",<<\"" {
        return None;
    }
    let comma = at - 4;
    let ks = b[..comma]
        .iter()
        .rev()
        .take(MAX_NAME + 1)
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
        .map(|n| comma - n)?;
    if ks == comma || ks == 0 || b[ks - 1] != b'{' {
        return None;
    }
    let len = memchr::memmem::find(&b[at..], b"\">>")?;
    Some((hay.get(ks..comma)?, at, at + len))
}

/// The longest `Content-Disposition` line read back from a part's body, in bytes.
const MAX_PART_HEADER: usize = 512;

/// The span of the name that keys the body of a `multipart/form-data` part starting at
/// `b[at]` (RFC 7578: `Content-Disposition: form-data; name="…"`, then a blank line,
/// then the value); `at` follows the blank line's line feed, and the header line is the
/// one just before the blank line.
fn part_name(b: &[u8], at: usize) -> Option<(usize, usize)> {
    let blank = if b[..at].ends_with(b"\r\n\r\n") {
        4
    } else if b[..at].ends_with(b"\n\n") {
        2
    } else {
        return None;
    };
    let end = at - blank;
    let from = end.saturating_sub(MAX_PART_HEADER);
    let start = memchr::memrchr(b'\n', &b[from..end]).map_or(from, |i| from + i + 1);
    let line = &b[start..end];
    const HEAD: &[u8] = b"content-disposition:";
    if line.len() <= HEAD.len() || !line[..HEAD.len()].eq_ignore_ascii_case(HEAD) {
        return None;
    }
    let rest = &line[HEAD.len()..];
    let params = rest.trim_ascii_start();
    if params.len() < 10 || !params[..10].eq_ignore_ascii_case(b"form-data;") {
        return None;
    }
    // The `name` parameter (not `filename`): after `;` and blanks.
    let n = memchr::memmem::find(params, b"; name=\"")?;
    let vs = start + (line.len() - params.len()) + n + 8;
    let ve = vs + b[vs..end].iter().position(|&c| c == b'"')?;
    trim_name(b, vs, ve)
}

/// Whether the line feed at `b[nl]` ends the blank line after a `multipart/form-data`
/// part's `Content-Disposition: form-data; name="…"` line: where its value starts.
pub(crate) fn part_start(b: &[u8], nl: usize) -> Option<usize> {
    let at = nl + 1;
    (at < b.len() && !matches!(b[at], b'\r' | b'\n') && part_name(b, at).is_some()).then_some(at)
}

/// The key that the key `b[s..e]`, joined to its value by `=`, stands for when the
/// text names the value apart from it: a CEF custom field (`cs3=`) is keyed by its
/// label (`cs3Label=birth_date`, `cef::label_of`), an HTML control's `value` attribute
/// by its `name` attribute (`html::name_of_value`). Most keys fail at their last byte or
/// their length.
pub(crate) fn key_named_apart(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    if e <= s {
        return None;
    }
    if b[e - 1].is_ascii_digit() {
        return super::cef::label_of(b, s, e);
    }
    if e - s == 5 {
        return super::html::name_of_value(b, s, e);
    }
    None
}

/// Whether the `<` at `b[lt]` starts a keyed value, and where that value starts: a
/// start tag that names its text ([`start_tag`]), or `<<"` after `,`.
pub(crate) fn keyed_start(b: &[u8], lt: usize) -> Option<usize> {
    if *b.get(lt + 1)? == b'<' {
        return (lt > 0 && b[lt - 1] == b',' && b.get(lt + 2) == Some(&b'"')).then_some(lt + 3);
    }
    // `<input name="…" value="…">`: the value attribute, keyed by the name.
    super::html::value_start(b, lt).or_else(|| start_tag(b, lt).map(|(_, _, content)| content))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::test_text::pairs;

    fn fields(s: &str) -> Vec<(String, String)> {
        let values = s.find("VALUES").unwrap_or(usize::MAX);
        let newline = s.find('\n').unwrap_or(usize::MAX);
        let Some(mut cols) = Columns::of(s, values, newline) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while let Some(f) = cols.next() {
            if let Some(name) = cols.name(f.col) {
                out.push((name.to_string(), s[f.start..f.end].to_string()));
            }
        }
        out
    }

    #[test]
    fn csv_fields_are_keyed_by_their_header() {
        // RFC 4180 §2: a header line, CRLF line breaks, quoted fields that hold the
        // separator, a line break and doubled quotes.
        let s = "user,passwd,note\r\nann,\"a,b\"\"c\",\"two\r\nlines\"\r\nbob,s3cret,\r\n";
        assert_eq!(
            fields(s),
            pairs(&[
                ("user", "ann"),
                ("passwd", "a,b\"\"c"),
                ("note", "two\r\nlines"),
                ("user", "bob"),
                ("passwd", "s3cret"),
                ("note", ""),
            ])
        );
        // Semicolons and tabs separate too; a quoted header name.
        assert_eq!(
            fields("\"birth date\";name\n1990-01-02;x"),
            pairs(&[("birth date", "1990-01-02"), ("name", "x")])
        );
        assert_eq!(fields("a\tb\n1\t2"), pairs(&[("a", "1"), ("b", "2")]));
        // After one line of prose, as logs write a rejected row.
        assert_eq!(
            fields("import rejected 1 row:\nid,passwd\n7,s3cret"),
            pairs(&[("id", "7"), ("passwd", "s3cret")])
        );
        assert_eq!(
            fields("rows:\r\n\"dob\";x\r\n1990-01-02;y"),
            pairs(&[("dob", "1990-01-02"), ("x", "y")])
        );
    }

    #[test]
    fn text_that_is_not_csv_has_no_columns() {
        for s in [
            "GET /health 200",
            "level=info msg=ok",
            "one line, with a comma",
            "a,b\n",
            "name\nann",
            "[db] a,b\n1,2",
            "a,b;c\n1,2;3",
            // Prose, then no header: two lines of prose, or numbers.
            "done\nsee above, then below\nok",
            "line one\n1,2\n3,4",
            "a\nb\nc,d\n1,2",
        ] {
            let newline = s.find('\n').unwrap_or(usize::MAX);
            assert!(Columns::of(s, usize::MAX, newline).is_none(), "{s:?}");
        }
    }

    #[test]
    fn sql_values_are_keyed_by_their_column_list() {
        let s = "INSERT INTO app.users (id, \"pass word\", `dob`, note) VALUES \
                 (1, 'it''s', '1990-01-02', NULL), (2,'x,y' , now(), 'z');";
        assert_eq!(
            fields(s),
            pairs(&[
                ("id", "1"),
                ("pass word", "it''s"),
                ("dob", "1990-01-02"),
                ("note", "NULL"),
                ("id", "2"),
                ("pass word", "x,y"),
                ("dob", "now()"),
                ("note", "z"),
            ])
        );
        for s in [
            "SELECT 1 VALUES (2)",
            "UPDATE t SET a = 1 VALUES (2)",
            "INSERT INTO t VALUES (1, 2)",
            "INSERT INTO t (a, b) VALUES",
        ] {
            assert!(fields(s).is_empty(), "{s:?}");
        }
    }

    #[test]
    fn the_cursor_gives_the_key_of_a_position() {
        let s = "INSERT INTO t (a, b) VALUES (12, '34')";
        let mut cols = Columns::of(s, s.find("VALUES").unwrap(), usize::MAX).unwrap();
        let at = |needle: &str| s.find(needle).unwrap();
        assert_eq!(cols.key_at(at("12")), Some("a"));
        assert_eq!(cols.key_at(at("34")), Some("b"));
        assert_eq!(cols.key_at(s.len()), None);
    }

    #[test]
    fn columns_past_the_limit_have_no_key() {
        let header: Vec<String> = (0..MAX_COLUMNS + 2).map(|i| format!("c{i}")).collect();
        let row: Vec<String> = (0..MAX_COLUMNS + 2).map(|i| i.to_string()).collect();
        let s = format!("{}\n{}", header.join(","), row.join(","));
        let got = fields(&s);
        assert_eq!(got.len(), MAX_COLUMNS);
        assert_eq!(got.last().map(|p| p.0.as_str()), Some("c63"));
    }

    #[test]
    fn keyed_values_in_elements_and_binaries() {
        let s = "<a:Envelope><a:Passwd> pw1 </a:Passwd><Note>x</Note></a:Envelope>";
        let lt = s.find("<a:Passwd>").unwrap();
        let at = keyed_start(s.as_bytes(), lt).unwrap();
        let (key, vs, ve) = keyed_at(s, at).unwrap();
        assert_eq!((key, &s[vs..ve]), ("Passwd", "pw1"));
        // An element with attributes names its text by a `name` or `key` attribute.
        let f = "<Field id=\"7\" name='pass word'>x y</Field>";
        let at = keyed_start(f.as_bytes(), 0).unwrap();
        assert_eq!(
            keyed_at(f, at).map(|(k, s, e)| (k, &f[s..e])),
            Some(("pass word", "x y"))
        );
        assert_eq!(keyed_start(b"<Pwd id=\"1\">x</Pwd>", 0), None);
        assert_eq!(keyed_start(b"<a b=\"1\"/>", 0), None);
        // An element holding another is not read.
        assert!(keyed_at("<Pwd><b>x</b></Pwd>", 5).is_none());
        let e = "{update,[{pwd,<<\"p,w\">>},{n,<<\"1\">>}]}";
        let lt = e.find("<<").unwrap();
        let at = keyed_start(e.as_bytes(), lt).unwrap();
        let (key, vs, ve) = keyed_at(e, at).unwrap();
        assert_eq!((key, &e[vs..ve]), ("pwd", "p,w"));
    }

    #[test]
    fn form_data_parts_are_keyed_by_their_name() {
        // RFC 7578 §4.2: each part's `Content-Disposition: form-data; name="…"`, a blank
        // line (CRLF, or LF as some logs store it), the value.
        let s = "--AaB03x\r\nContent-Disposition: form-data; name=\"pass word\"\r\n\r\n\
                 Ho, mE1!\r\n--AaB03x\r\ncontent-disposition: FORM-DATA; name=\"n\"\n\n1\n\
                 --AaB03x\r\nContent-Disposition: form-data; name=\"files\"; \
                 filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nx\r\n--AaB03x--";
        let b = s.as_bytes();
        let got: Vec<(&str, &str)> = (0..b.len())
            .filter(|&i| b[i] == b'\n')
            .filter_map(|nl| part_start(b, nl))
            .filter_map(|at| keyed_at(s, at))
            .map(|(k, vs, ve)| (k, &s[vs..ve]))
            .collect();
        assert_eq!(got, [("pass word", "Ho, mE1!"), ("n", "1")]);
        // Not form-data, no `name`, or a `filename` alone: no key.
        for s in [
            "Content-Disposition: attachment; name=\"password\"\r\n\r\nx",
            "Content-Disposition: form-data\r\n\r\nx",
            "Content-Disposition: form-data; filename=\"password\"\r\n\r\nx",
            "X-Note: form-data; name=\"password\"\r\n\r\nx",
        ] {
            let nl = s.rfind('\n').unwrap();
            assert_eq!(part_start(s.as_bytes(), nl), None, "{s:?}");
        }
    }
}
