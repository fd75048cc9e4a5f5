//! The prefilter: one pass over a string that says, for every detector group, where its
//! first match could start, and which numeric spans each numeric group must look at.
//!
//! The rule that keeps this exact: a group's regex is only ever started at or before the
//! earliest place a match of it can begin, so the leftmost-first search finds what a
//! search over the whole string would have found. Every test here is a *superset* of
//! what the patterns in `detect.rs` can match (a cheap necessary condition), never a
//! narrower one; a string that fails all of them costs this pass and nothing else.
//!
//! What starts a match, per group:
//!
//! - `literal` (`eyJ`, `gh…_`, `github_pat_`, `xox`, `AIza`, `AKIA`…, `Bearer`, `Basic`):
//!   a word start with one of those prefixes;
//! - `alnum` (IBAN, passport): a word start with two capitals (or two small letters) and
//!   two digits, or one of `MSRODG` and a digit;
//! - `secret`: a keyword (`pass`, `token`, …) inside the word before a `:` or `=`;
//! - `url_secret`: a `=` after a word after `?`, `&` or `;`;
//! - `url_password`: a letter at a word start in the scheme before a `://` with an `@`
//!   somewhere after it; `email`: an `@`, from the
//!   start of the local part before it; `pem`: `-----BEGIN` and `PRIVATE KEY`;
//! - `ipv6`: `::`, or seven colons;
//! - numbers: spans of `[0-9 +().-]`, each checked against the shape of every numeric
//!   pattern (a 13-digit run or 6+7 for resident numbers, 3-2-5 or 3-2-4 dashed runs,
//!   a chain of at least 13 digits for cards, a leading `0` or `+82` for Korean
//!   phones, a `+` for international ones, four dotted runs of 1–3 digits for IPv4).

use super::columns;
use super::detect::{
    ALNUM, EMAIL, IPV6, KEYED, LITERAL, NUMBERS, PEM, SECRET, URL_PASSWORD, URL_SECRET, WEBHOOK,
};
use super::skip;
use super::starts::{
    KOREAN_PASSWORD, URL_SECRET_NAMES, VENDOR_PREFIXES, contains, keyword_at, local_part_start,
    may_start_keyword, scheme_start, shapes, webhook_host,
};

/// `[0-9A-Za-z_]`: what an ASCII `\b` calls a word byte.
const WORD: u8 = 1;
const DIGIT: u8 = 2;
/// `@ : < = - _` and a line feed: handled one by one.
const PUNCT: u8 = 4;
/// `[0-9A-Za-z_-]`: a byte of the name before a `:` or `=`.
const NAME: u8 = 8;

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let mut k = 0;
        if b.is_ascii_alphanumeric() || b == b'_' {
            k |= WORD;
        }
        if b.is_ascii_digit() {
            k |= DIGIT;
        }
        if matches!(b, b'@' | b':' | b'<' | b'=' | b'-' | b'_' | b'\n') {
            k |= PUNCT;
        }
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            k |= NAME;
        }
        t[c] = k;
        c += 1;
    }
    t
}

static CLASS: [u8; 256] = classes();

/// The longest word before the `_` or `-` of a vendor prefix (`sq0atp` of `sq0atp-`).
const PREFIX_WORD: usize = longest_prefix_word();

const fn longest_prefix_word() -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < VENDOR_PREFIXES.len() {
        if VENDOR_PREFIXES[i].len() - 1 > n {
            n = VENDOR_PREFIXES[i].len() - 1;
        }
        i += 1;
    }
    n
}

/// For every vendor prefix, the bit of its third byte from the end (its separator last)
/// in the entry of its second: `sk_` sets bit `s & 63` of entry `k`. Every prefix has
/// two bytes before its separator, so a `_` or `-` after a pair without its bit ends
/// none.
const PREFIX_PAIRS: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut i = 0;
    while i < VENDOR_PREFIXES.len() {
        let p = VENDOR_PREFIXES[i];
        t[p[p.len() - 2] as usize] |= 1 << (p[p.len() - 3] & 63);
        i += 1;
    }
    t
};

/// Whether a vendor prefix may end with the `_` or `-` at `q`: false only where
/// [`prefix_start`] finds none, as the two bytes before `q` end no prefix's word
/// (`PREFIX_PAIRS`). Most words fail here, in the scan's loop.
#[inline(always)]
fn may_end_prefix(b: &[u8], q: usize) -> bool {
    q >= 2 && PREFIX_PAIRS[usize::from(b[q - 1])] & (1 << (b[q - 2] & 63)) != 0
}

/// Where a vendor key whose prefix ends with the `_` or `-` at `q` starts: the word
/// start before it, when the word and the separator are one of [`VENDOR_PREFIXES`].
fn prefix_start(b: &[u8], q: usize) -> Option<usize> {
    // Every prefix is at most `PREFIX_WORD` letters and digits before its `_` or
    // `-`: a longer word (a hex id before a UUID's `-`) is not read to its start.
    let n = b[..q]
        .iter()
        .rev()
        .take(PREFIX_WORD + 1)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    if n > PREFIX_WORD {
        return None;
    }
    let w = q - n;
    if w == q || (w > 0 && (CLASS[usize::from(b[w - 1])] & WORD != 0 || b[w - 1] == b'-')) {
        return None;
    }
    VENDOR_PREFIXES.contains(&&b[w..=q]).then_some(w)
}

/// The block holding `b[from]` (`skip::block_from`), in it the bytes at or after `from`
/// the pass looks at (`skip::ScanMask::wanted`): `@ : = -` anywhere, a digit, a capital
/// or `e g x b v` where a word starts; and its decoders' bytes (`skip::ScanMask::escape`).
#[inline(always)]
fn wanted_from(b: &[u8], from: usize) -> (usize, u32, u32) {
    let (base, block) = skip::block_from(b, from);
    let word_before = base > 0
        && b.get(base - 1)
            .is_some_and(|&c| CLASS[usize::from(c)] & WORD != 0);
    let m = skip::scan_mask(&block);
    let bits = m.wanted(word_before) & (!0u32 << (from - base));
    (base, bits, m.escape)
}

/// A span of `[0-9 +().-]` with at least four digits, and which numeric groups (bit
/// `1 << group`) may match inside it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub end: usize,
    pub groups: u32,
    /// Where a match can start in it: `num_starts[starts.0..starts.1]`, ascending.
    pub starts: (usize, usize),
}

/// What one pass over a string found.
pub(crate) struct Scan {
    /// The earliest byte an `ipv6` match can start at (`usize::MAX`: none): it is
    /// searched from there on, as its matches start somewhere inside a run this pass
    /// does not split.
    pub ipv6: usize,
    /// Exact candidate starts `(group, byte)`, in byte order per group, for the groups
    /// whose matches can only start at places this pass sees (`literal`, `alnum`,
    /// `email`, `url_secret`, `pem`, `secret`, `url_password`): each is tried with an
    /// anchored search.
    pub starts: Vec<(u8, usize)>,
    /// Groups with at least one entry in `starts` (bit `1 << group`).
    pub started: u32,
    pub spans: Vec<Span>,
    /// The match starts of every span (`Span::starts`).
    pub num_starts: Vec<usize>,
    /// The groups of every span, or-ed.
    span_groups: u32,
    /// The decoders' bytes in the string (`skip::PERCENT_BYTES`, `skip::MARKUP_BYTES`:
    /// some bit of each set when it holds one of its bytes).
    escapes: u32,
    /// The runs of digits of the span being read: (start in the span, length).
    runs: Vec<(usize, usize)>,
    /// Scratch space of `run`.
    schemes: Vec<usize>,
    /// Where the first `VALUES` keyword (any case, a word) is (`usize::MAX`: none):
    /// an SQL `INSERT` may key its values by position (`columns.rs`).
    pub values: usize,
    /// Where the first line feed is (`usize::MAX`: none): only text with one can be
    /// CSV with a header row (`columns.rs`).
    pub newline: usize,
    /// Whether a line starts with `|` after at most three spaces (a Markdown table's
    /// row, `markdown::row_start`): with [`Scan::newline`], whether a table may be there.
    pub table_row: bool,
    /// A digit, a no-break, narrow no-break or thin space, a digit: digits grouped
    /// with a wide blank (`percent::decode_markup` reads it as a space).
    wide_blanks: bool,
}

impl Scan {
    pub(crate) fn new() -> Self {
        Scan {
            ipv6: usize::MAX,
            starts: Vec::new(),
            started: 0,
            spans: Vec::new(),
            num_starts: Vec::new(),
            span_groups: 0,
            escapes: 0,
            runs: Vec::new(),
            schemes: Vec::new(),
            values: usize::MAX,
            newline: usize::MAX,
            table_row: false,
            wide_blanks: false,
        }
    }

    /// The groups with anything to search (bit `1 << group`).
    pub(crate) fn todo(&self) -> u32 {
        let ipv6 = if self.ipv6 == usize::MAX {
            0
        } else {
            1 << IPV6
        };
        self.started | self.span_groups | ipv6
    }

    /// Whether the string scanned last holds a `%` or a `+` (`percent::decode` has
    /// something to look at).
    pub(crate) fn has_percent_bytes(&self) -> bool {
        self.escapes & skip::PERCENT_BYTES != 0
    }

    /// Whether the string scanned last holds a `&` or a `0xEF` byte
    /// (`percent::decode_markup` has something to look at).
    pub(crate) fn has_markup_bytes(&self) -> bool {
        self.escapes & skip::MARKUP_BYTES != 0
    }

    /// Whether the string scanned last groups digits with a wide blank (U+00A0,
    /// U+202F, U+2009: `4111\u{a0}1111…`), which `percent::decode_markup` reads as a
    /// space.
    pub(crate) fn has_wide_blanks(&self) -> bool {
        self.wide_blanks
    }

    fn start(&mut self, group: usize, pos: usize) {
        self.starts.push((group as u8, pos));
        self.started |= 1 << group;
    }

    /// Scans `b`, replacing what was there.
    pub(crate) fn run(&mut self, b: &[u8]) {
        self.ipv6 = usize::MAX;
        self.num_starts.clear();
        self.span_groups = 0;
        self.escapes = 0;
        self.starts.clear();
        self.started = 0;
        self.spans.clear();
        self.values = usize::MAX;
        self.newline = usize::MAX;
        self.table_row = super::markdown::row_start(b, 0);
        self.wide_blanks = false;
        let mut colons = 0usize;
        let mut double_colon = false;
        let mut private = false;
        // The `:` of every `://`, for `url_password` (kept only when an `@` follows).
        let mut schemes = std::mem::take(&mut self.schemes);
        schemes.clear();
        // The local part of the last e-mail candidate ends before this.
        let mut last_at = 0;
        // The bytes to look at (`skip::ScanMask::wanted`), a block at a time: bit `j`
        // of `bits` for byte `base + j`, only those at or after `next`. Every byte is in
        // a block read here or in a numeric span (which notes its `+`), so `escapes`
        // sees all of them.
        let (mut base, mut bits, mut escapes) = wanted_from(b, 0);
        let mut next = 0;
        loop {
            if bits == 0 {
                let from = (base + skip::BLOCK).max(next);
                if from >= b.len() {
                    break;
                }
                let escape;
                (base, bits, escape) = wanted_from(b, from);
                escapes |= escape;
                continue;
            }
            let at = base + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let Some(&c) = b.get(at) else { break };
            let k = CLASS[usize::from(c)];
            if k & DIGIT != 0 {
                // A digit after a non-word byte (digits glued to a word, as in `a1b2`,
                // `v1` or a hex id, are not wanted: every numeric pattern needs `\b`,
                // `+` or `(` before its first digit). The numeric span from here; its
                // bytes need nothing else but a look for `-----BEGIN`.
                next = self.numeric_span(b, at, &mut private);
                let done = next - base;
                bits = if done >= skip::BLOCK {
                    0
                } else {
                    bits & (!0u32 << done)
                };
                continue;
            }
            if k & PUNCT == 0 {
                self.word_start(b, at);
                continue;
            }
            match c {
                b'@' => {
                    let s = local_part_start(b, at).max(last_at);
                    if s < at {
                        self.start(EMAIL, s);
                    }
                    last_at = at + 1;
                }
                b':' => {
                    colons += 1;
                    double_colon |= b.get(at + 1) == Some(&b':');
                    if b[at + 1..].starts_with(b"//") {
                        schemes.push(at);
                        if webhook_host(b, at) {
                            let s = scheme_start(b, at);
                            if s < at {
                                self.start(WEBHOOK, s);
                            }
                        }
                    }
                    self.assignment(b, at, false);
                }
                b'=' => {
                    // `cs1Label=…` (CEF): the label names a field written apart.
                    if let Some(v) = super::cef::label_start(b, at) {
                        self.start(KEYED, v);
                    }
                    self.assignment(b, at, true);
                }
                b'\n' => {
                    self.newline = self.newline.min(at);
                    self.table_row |= super::markdown::row_start(b, at + 1);
                    // A `'name', 'value'` line (a header dump).
                    if matches!(b.get(at + 1), Some(b'\'' | b'"'))
                        && let Some(v) = super::pairs::line_value_start(b, at + 1)
                    {
                        self.start(KEYED, v);
                    }
                    // A blank line after a form-data part's `name="…"` line (the one
                    // test most line feeds fail: a quote three or one bytes back).
                    if at >= 4
                        && (b[at - 4] == b'"' || b[at - 2] == b'"')
                        && let Some(v) = columns::part_start(b, at)
                    {
                        self.start(KEYED, v);
                    }
                }
                // `<Name>` (XML), `,<<"` or `=> <<"` (an Erlang binary): a value keyed
                // apart.
                b'<' => {
                    if let Some(v) = columns::keyed_start(b, at)
                        .or_else(|| super::erlang::map_value_start(b, at))
                    {
                        self.start(KEYED, v);
                    }
                }
                b'-' => {
                    self.pem(b, at, &mut private);
                    self.prefixed(b, at);
                }
                b'_' => self.prefixed(b, at),
                _ => {}
            }
        }
        self.escapes |= escapes;
        if !private {
            self.started &= !(1 << PEM);
        }
        // `last_at` is past the last `@`.
        for &colon in schemes.iter().take_while(|&&c| c < last_at) {
            self.scheme(b, colon);
        }
        self.schemes = schemes;
        if double_colon || colons >= 7 {
            let first = b.iter().position(|&c| c == b':').unwrap_or(0);
            let start = first
                - b[..first]
                    .iter()
                    .rev()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
            self.ipv6 = start;
        }
    }

    /// `-----BEGIN` at `i`?
    fn pem(&mut self, b: &[u8], i: usize, private: &mut bool) {
        if b[i..].starts_with(b"-----BEGIN") {
            *private |= contains(&b[i..], b"PRIVATE KEY");
            self.start(PEM, i);
        }
    }

    /// The span of `[0-9 +().-]` around the digit at `i`, where a numeric pattern can
    /// match: from a `+` or `(` just before it, trimmed of trailing separators, kept
    /// when it has four digits or more and some numeric shape fits. Returns where the
    /// run of span bytes ends.
    ///
    /// The digit at `i` follows a non-word byte (or starts `b`), so the span's match
    /// starts are its `+` and `(` and the first digit of each run of digits: every
    /// numeric pattern starts with `+`, `(` or a digit after `\b`.
    fn numeric_span(&mut self, b: &[u8], i: usize, private: &mut bool) -> usize {
        let mark = self.num_starts.len();
        let mut start = i;
        while start > 0 && matches!(b[start - 1], b'+' | b'(') {
            start -= 1;
        }
        self.num_starts.extend(start..i);
        let mut first_plus = b[start..i]
            .iter()
            .position(|&c| c == b'+')
            .map(|p| start + p);
        let mut digits = 0;
        let mut end = i;
        self.runs.clear();
        loop {
            // A run of digits (none after two separators in a row), then one separator.
            let run = end;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            if end > run {
                self.num_starts.push(run);
                self.runs.push((run - start, end - run));
                digits += end - run;
            }
            match b.get(end) {
                Some(b'-') => self.pem(b, end, private),
                Some(&c @ (b'+' | b'(')) => {
                    if c == b'+' {
                        self.escapes |= 1;
                        if first_plus.is_none() {
                            first_plus = Some(end);
                        }
                    }
                    self.num_starts.push(end);
                }
                Some(b' ' | b')' | b'.' | b'/') => {}
                Some(0xc2 | 0xe2 | 0xef) => {
                    self.wide_blanks |= end > run && wide_blank_digit(b, end);
                    break;
                }
                _ => break,
            }
            end += 1;
        }
        let raw_end = end;
        while end > start && !b[end - 1].is_ascii_digit() && b[end - 1] != b')' {
            end -= 1;
        }
        let mut groups = if digits >= 4 {
            let plus = first_plus.is_some_and(|p| p < end);
            shapes(&b[start..end], &self.runs, digits, plus)
        } else {
            0
        };
        // Numbers read by hand (`numbers.rs`): six digits or more, a year before `년`, or
        // a year alone after a month's name or its day (`March 5, 1990`, `5 May 1990`).
        let year_after_name = start == i
            && start >= 2
            && self.runs.len() == 1
            && self.runs[0].1 == 4
            && b[start - 1] == b' '
            && (b[start - 2].is_ascii_alphabetic() || matches!(b[start - 2], b',' | b'.'));
        // A US date `M/D/YY` (a date of birth with its context).
        let short_date = digits < 6
            && self.runs.len() == 3
            && self.runs[0].1 <= 2
            && self.runs[1].1 <= 2
            && self.runs[2].1 == 2
            && self.runs.windows(2).all(|w| {
                let sep = start + w[0].0 + w[0].1;
                w[1].0 == w[0].0 + w[0].1 + 1 && b[sep] == b'/'
            });
        if digits >= 6
            || year_after_name
            || short_date
            || (self.runs.last().is_some_and(|r| r.1 == 4)
                && b[raw_end..].starts_with("년".as_bytes()))
        {
            groups |= 1 << NUMBERS;
        }
        if groups == 0 {
            self.num_starts.truncate(mark);
        } else {
            while self.num_starts.last().is_some_and(|&p| p >= end) {
                self.num_starts.pop();
            }
            self.spans.push(Span {
                end,
                groups,
                starts: (mark, self.num_starts.len()),
            });
            self.span_groups |= groups;
        }
        raw_end
    }

    /// A `_` or `-` at `q`: a vendor key whose prefix ends there starts at the word
    /// start before it (`sk_live_…`, `npm_…`, `pypi-…`).
    #[inline(always)]
    fn prefixed(&mut self, b: &[u8], q: usize) {
        if may_end_prefix(b, q)
            && let Some(w) = prefix_start(b, q)
        {
            self.start(LITERAL, w);
        }
    }

    /// A word starts at `i` with a capital or one of `e g x b v`.
    fn word_start(&mut self, b: &[u8], i: usize) {
        let rest = &b[i..];
        let c = rest[0];
        let digit = |j: usize| rest.get(j).is_some_and(u8::is_ascii_digit);
        let upper = |j: usize| rest.get(j).is_some_and(u8::is_ascii_uppercase);
        let lower = |j: usize| rest.get(j).is_some_and(u8::is_ascii_lowercase);
        if (c.is_ascii_uppercase()
            && ((upper(1) && digit(2) && digit(3))
                || (matches!(c, b'M' | b'S' | b'R' | b'O' | b'D' | b'G') && digit(1))))
            || (c.is_ascii_lowercase() && lower(1) && digit(2) && digit(3))
        {
            self.start(ALNUM, i);
        }
        if (c == b'V' || c == b'v')
            && self.values == usize::MAX
            && rest.len() >= 6
            && rest[..6].eq_ignore_ascii_case(b"VALUES")
            && rest
                .get(6)
                .is_none_or(|&n| CLASS[usize::from(n)] & WORD == 0)
        {
            self.values = i;
        }
        let literal = match c {
            b'e' => rest.starts_with(b"eyJ"),
            b'g' => {
                rest.starts_with(b"gh")
                    || rest.starts_with(b"github_pat_")
                    || (rest.starts_with(b"gl")
                        && rest
                            .iter()
                            .skip(2)
                            .take(6)
                            .position(|c| matches!(c, b'-' | b'_'))
                            .is_some())
            }
            b'x' => rest.starts_with(b"xox") || rest.starts_with(b"xapp-"),
            b'A' => {
                [b"AIza", b"AKIA", b"ASIA", b"ABIA", b"ACCA"]
                .iter()
                .any(|p| rest.starts_with(*p))
                // A Twilio Account SID: `AC` and 32 lowercase hex digits.
                || (rest.starts_with(b"AC")
                    && rest.get(2..34).is_some_and(|h| {
                        h.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                    }))
            }
            b'S' => rest.starts_with(b"SG.") || rest.starts_with(b"SK"),
            b'P' => rest.starts_with(b"PMAK-"),
            b'N' => rest.starts_with(b"NRAK-"),
            b'B' | b'b' => {
                rest.get(..6)
                    .is_some_and(|w| w.eq_ignore_ascii_case(b"bearer"))
                    || rest
                        .get(..5)
                        .is_some_and(|w| w.eq_ignore_ascii_case(b"basic"))
            }
            _ => false,
        };
        if literal {
            self.start(LITERAL, i);
        }
    }

    /// A `:` or `=` at `q`: `key=…` and `?token=…` start before it.
    fn assignment(&mut self, b: &[u8], q: usize, eq: bool) {
        let (ws_q, pair_q) = name_before(b, q);
        // `?name=`: only the names the `url_secret` pattern lists (its name is the whole
        // word, as every name is made of word bytes).
        if eq && ws_q > 0 && matches!(b[ws_q - 1], b'?' | b'&' | b';') {
            let name = &b[ws_q..q];
            if URL_SECRET_NAMES
                .iter()
                .any(|n| n.first() == name.first() && *n == name)
            {
                self.start(URL_SECRET, ws_q - 1);
            }
        }
        // `key"  =` : back over blanks, one quote (or PHP's `]`), then the key.
        let mut j = q;
        while j > 0 && matches!(b[j - 1], b' ' | b'\t') {
            j -= 1;
        }
        if j > 0 && matches!(b[j - 1], b'"' | b'\'' | b']') {
            j -= 1;
        }
        let we = j;
        let (ws, pair) = if we == q {
            (ws_q, pair_q)
        } else {
            name_before(b, we)
        };
        if ws == we && we > 0 && b[we - 1] >= 0x80 {
            // `비밀번호: …`
            if let Some(w) = KOREAN_PASSWORD
                .iter()
                .find(|w| b[..we].ends_with(w.as_bytes()))
            {
                self.start(SECRET, we - w.len());
            }
            return;
        }
        // Most names (a time's `12`, `trace`, `lang`) hold no two bytes a keyword
        // starts with: not read again.
        if !pair {
            return;
        }
        let word = &b[ws..we];
        for s in 0..word.len().saturating_sub(1) {
            if keyword_at(word, s) {
                self.start(SECRET, ws + s);
            }
        }
    }

    /// `scheme://` with its `:` at `colon`, and an `@` somewhere after it: where a
    /// `url_password` match can start, a letter after a non-word byte (`\b`) at most
    /// 16 bytes before the colon inside the scheme's bytes.
    fn scheme(&mut self, b: &[u8], colon: usize) {
        let from = scheme_start(b, colon).max(colon.saturating_sub(16));
        for s in from..colon.saturating_sub(1) {
            if b[s].is_ascii_alphabetic() && (s == 0 || CLASS[usize::from(b[s - 1])] & WORD == 0) {
                self.start(URL_PASSWORD, s);
            }
        }
    }
}

/// A no-break (U+00A0), narrow no-break (U+202F) or thin (U+2009) space, or a
/// zero-width format character (U+200B zero-width space, U+200C/U+200D zero-width
/// non-joiner/joiner, U+2060 word joiner, U+FEFF zero-width no-break space: invisible,
/// so digits grouped by them read as one grouped number) at `b[i..]`, and a digit after
/// it: the separator's length in bytes.
pub(crate) fn wide_blank_len(b: &[u8], i: usize) -> Option<usize> {
    let len = match b.get(i..)? {
        [0xc2, 0xa0, ..] => 2,
        [0xe2, 0x80, 0xaf | 0x89 | 0x8b..=0x8d, ..] | [0xe2, 0x81, 0xa0, ..] => 3,
        [0xef, 0xbb, 0xbf, ..] => 3,
        _ => return None,
    };
    b.get(i + len)
        .is_some_and(u8::is_ascii_digit)
        .then_some(len)
}

/// [`wide_blank_len`] finds a separator at `b[i..]`.
pub(crate) fn wide_blank_digit(b: &[u8], i: usize) -> bool {
    wide_blank_len(b, i).is_some()
}

/// The start of the run of `[0-9A-Za-z_-]` that ends at `end`, and whether two bytes
/// of it in a row may start a `secret` keyword (`starts::may_start_keyword`: a
/// superset, so `false` means `keyword_at` finds nothing in it).
fn name_before(b: &[u8], end: usize) -> (usize, bool) {
    let mut s = end;
    let mut pair = false;
    while s > 0 {
        let c = b[s - 1];
        if CLASS[usize::from(c)] & NAME == 0 {
            break;
        }
        if s < end {
            pair |= may_start_keyword(c, b[s]);
        }
        s -= 1;
    }
    (s, pair)
}

#[cfg(test)]
mod tests {
    use super::super::detect::{BRN, CARD, IPV4, NUMBERS, PHONE, PHONE_INTL, RESIDENT, SSN};
    use super::super::starts::keyword_starts;
    use super::*;

    fn scan(s: &str) -> Scan {
        let mut sc = Scan::new();
        sc.run(s.as_bytes());
        sc
    }

    #[test]
    fn clean_words_start_nothing() {
        let s = scan("the quick brown fox jumps over the lazy dog, basement");
        assert_eq!(s.ipv6, usize::MAX);
        assert!(s.starts.is_empty());
        assert!(s.spans.is_empty());
    }

    fn starts(s: &str, group: usize) -> Vec<usize> {
        let sc = scan(s);
        sc.starts
            .iter()
            .filter(|(g, _)| usize::from(*g) == group)
            .map(|(_, p)| *p)
            .collect()
    }

    #[test]
    fn starts_are_where_matches_can_begin() {
        assert_eq!(starts("user kim.lee@example.com ok", EMAIL), [5]);
        assert_eq!(starts("a@b@c.com", EMAIL), [0, 2]);
        // A local part in any script starts at its first letter; a quoted one at its
        // opening quote (or the escapes before it).
        assert_eq!(starts("to josé.garcía@example.com", EMAIL), [3]);
        assert_eq!(starts("to “josé@example.com", EMAIL), [6]);
        assert_eq!(starts(r#"to "john doe"@example.com"#, EMAIL), [3]);
        assert_eq!(starts(r#"to \"john doe\"@example.com"#, EMAIL), [3]);
        assert_eq!(starts(r#"to "a" "b"@example.com"#, EMAIL), [7]);
        assert_eq!(starts("/x?a=1&api_key=2;token=3", URL_SECRET), [6, 16]);
        assert_eq!(starts("got Bearer abc and eyJhbGci xeyJ", LITERAL), [4, 19]);
        assert_eq!(starts("iban DE89 3704 M12345678 xM1", ALNUM), [5, 15]);
        assert_eq!(starts("-----BEGIN X-----", PEM), [0]);
        assert_eq!(scan("-----BEGIN X-----").started & (1 << PEM), 0);
        assert_eq!(starts("x postgres://u:p@db", URL_PASSWORD), [2]);
        assert_eq!(starts("x git+ssh://u:p@db", URL_PASSWORD), [2, 6]);
        assert!(starts("x postgres://db", URL_PASSWORD).is_empty());
        assert_eq!(starts("a user_password = 1", SECRET), [7]);
        assert_eq!(starts("tokens: 1, x=2, Api_Key=3", SECRET), [0, 16, 20]);
        assert!(starts("a user_name = 1", SECRET).is_empty());
        assert_eq!(starts("[password] => 1", SECRET), [1]);
        assert_eq!(scan("at 2001:db8::1").ipv6, 3);
        assert_eq!(scan("at 12:30:45").ipv6, usize::MAX);
    }

    #[test]
    fn names_without_a_keyword_pair_hold_no_keyword() {
        // Keywords of the `secret` pattern, cut and recased, glued to digits and
        // separators: wherever `keyword_starts` finds one, `name_before` says so.
        let pieces = [
            "pass",
            "PASSWORD",
            "pw",
            "Pwd",
            "private",
            "pin",
            "secret",
            "session",
            "ssn",
            "token",
            "key",
            "api",
            "access",
            "auth",
            "card",
            "cvv",
            "cvc",
            "cookie",
            "credential",
            "signature",
            "t",
            "T",
            "1",
            "19",
            "-",
            "_",
            "a",
            "s",
            "p",
            "c",
            "k",
            "x",
            "q",
            "2024-12-28T19",
        ];
        let mut next = crate::redact::xorshift(0x9e37_79b9_7f4a_7c15u64);
        let mut found = 0;
        for _ in 0..20_000 {
            let mut w = String::new();
            for _ in 0..(1 + next() % 4) {
                w.push_str(pieces[next() as usize % pieces.len()]);
            }
            let b = w.as_bytes();
            let (start, pair) = name_before(b, b.len());
            assert_eq!(start, 0, "{w:?}");
            if keyword_starts(b).next().is_some() {
                found += 1;
                assert!(pair, "{w:?}");
            }
        }
        assert!(found > 5_000, "{found}");
        assert!(!name_before(b"[2024-12-28T19", 14).1);
        let quoted = b"x \"api_key";
        assert_eq!(name_before(quoted, quoted.len()), (3, true));
    }

    #[test]
    fn escape_bytes_are_those_of_the_string() {
        // Numbers with `+` inside (read by `numeric_span`, past the blocks), the
        // decoders' bytes and plain pieces, glued at random: the pass says a string holds
        // a `%`/`+` or a `&`/`0xEF` exactly when a search of the whole string finds one.
        let pieces: [&[u8]; 18] = [
            b"+82 10-1234-5678",
            b"tel 010 1234 5678 + 1",
            b"1990+03+05",
            b"12+34",
            b"%41",
            b"&amp;",
            "\u{FF10}".as_bytes(),
            b"\xef",
            b"a",
            b"ab12 ",
            b"0",
            b"12345678",
            b" ",
            b"=",
            b"x@y.com ",
            b"key: ",
            b"http://u:p@h/",
            b"(02) 123-4567",
        ];
        let mut next = crate::redact::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut sc = Scan::new();
        let (mut percent, mut markup) = (0, 0);
        for _ in 0..20_000 {
            let mut b = Vec::new();
            for _ in 0..(next() % 8) {
                b.extend_from_slice(pieces[next() as usize % pieces.len()]);
            }
            sc.run(&b);
            let has_percent = memchr::memchr2(b'%', b'+', &b).is_some();
            let has_markup = memchr::memchr2(b'&', 0xef, &b).is_some();
            assert_eq!(sc.has_percent_bytes(), has_percent, "{b:?}");
            assert_eq!(sc.has_markup_bytes(), has_markup, "{b:?}");
            percent += usize::from(has_percent);
            markup += usize::from(has_markup);
        }
        assert!(percent > 5_000 && markup > 5_000, "{percent} {markup}");
    }

    #[test]
    fn numeric_shapes() {
        let groups = |s: &str| scan(s).spans.iter().fold(0, |a, sp| a | sp.groups);
        let bit = |g: usize| 1u32 << g;
        assert_ne!(groups("rrn 900101-1234567") & bit(RESIDENT), 0);
        assert_ne!(groups("card 4111 1111 1111 1111") & bit(CARD), 0);
        assert_ne!(groups("ssn 123-45-6789") & bit(SSN), 0);
        assert_ne!(groups("brn 123-45-67890") & bit(BRN), 0);
        assert_ne!(groups("call 010-1234-5678") & bit(PHONE), 0);
        assert_ne!(groups("call +82 10-1234-5678") & bit(PHONE), 0);
        assert_eq!(groups("call 1588-1234") & bit(PHONE), 0);
        assert_ne!(groups("call +44 20 7946 3373") & bit(PHONE_INTL), 0);
        assert_ne!(groups("from 10.0.0.1") & bit(IPV4), 0);
        assert_eq!(groups("at 2024-02-17 took 1234 ms"), bit(NUMBERS));
        assert_eq!(groups("v1.25.67 and 404"), 0);
        assert_eq!(groups("born 1990년 3월"), bit(NUMBERS));
        assert_eq!(groups("dob 03/05/1990") & bit(NUMBERS), bit(NUMBERS));
        // `M/D/YY` is read by hand; other short numbers are not.
        assert_eq!(groups("dob 8/5/42"), bit(NUMBERS));
        assert_eq!(groups("dob 12/31/99, ok"), bit(NUMBERS));
        assert_eq!(groups("took 8/5/420 ms"), 0);
        assert_eq!(groups("took 8 5 42 ms"), 0);
        assert_eq!(groups("v 8.5.42"), 0);
        // `900101 - 1234567`: a resident number with a spaced dash.
        assert_ne!(groups("rrn 900101 - 1234567") & bit(RESIDENT), 0);
    }

    #[test]
    fn the_pair_before_a_separator_rules_out_no_vendor_prefix() {
        let compare = |b: &[u8], counts: &mut (usize, usize)| {
            for q in (0..b.len()).filter(|&q| matches!(b[q], b'_' | b'-')) {
                let got = prefix_start(b, q);
                let may = may_end_prefix(b, q);
                assert!(
                    may || got.is_none(),
                    "{:?} at {q}",
                    String::from_utf8_lossy(b)
                );
                counts.0 += usize::from(!may);
                counts.1 += usize::from(got.is_some());
            }
        };
        // Prefixes, their words cut or grown, other words and separators.
        let mut words: Vec<Vec<u8>> = VENDOR_PREFIXES
            .iter()
            .flat_map(|p| {
                let w = &p[..p.len() - 1];
                [
                    w.to_vec(),
                    w[1..].to_vec(),
                    [b"x", w].concat(),
                    w.to_ascii_uppercase(),
                ]
            })
            .collect();
        for w in [
            "trace", "span", "id", "a1b2c3d4", "9f", "service", "HF", "S", "k",
        ] {
            words.push(w.as_bytes().to_vec());
        }
        let seps: [&[u8]; 8] = [b"_", b"-", b" ", b"\"", b"=", b"/", b"\xc3\xa9", b""];
        let mut next = crate::redact::xorshift(0x1405_7b7e_f767_814f);
        let mut counts = (0, 0);
        for _ in 0..30_000 {
            let mut s = Vec::new();
            for _ in 0..1 + next() % 6 {
                s.extend_from_slice(&words[(next() % words.len() as u64) as usize]);
                s.extend_from_slice(seps[(next() % seps.len() as u64) as usize]);
            }
            compare(&s, &mut counts);
        }
        assert!(counts.0 > 5_000 && counts.1 > 1_000, "{counts:?}");
        let mut corpus = (0, 0);
        for text in crate::redact::corpus_texts() {
            compare(text.as_bytes(), &mut corpus);
        }
        assert!(corpus.0 > 1_000 && corpus.1 > 0, "{corpus:?}");
    }

    #[test]
    fn table_rows_seen_by_the_scan_are_those_of_the_markdown_test() {
        // GitHub Flavored Markdown table rows (a leading `|` after up to three spaces,
        // delimiter rows, escaped pipes), lines that are not rows (four spaces of
        // indentation, a `|` inside a line), numbers and wide blanks right before a line
        // feed, CRLF: the scan's flag decides exactly what `markdown::may_hold_table` does.
        let pieces: &[&[u8]] = &[
            b"| key | value |",
            b"|---|:---:|",
            b"|",
            b" ",
            b"  ",
            b"    ",
            b"\n",
            b"\r\n",
            b"a | b",
            b"x\\|y",
            b"12 ",
            b"2026-12-07",
            b"+1 (555) 010",
            b"\xc2\xa0",
            b"token=abc",
            b"`code`",
        ];
        let mut next = crate::redact::xorshift(0x2545_f491_4f6c_dd1d);
        let mut sc = Scan::new();
        let (mut tables, mut others) = (0, 0);
        for _ in 0..50_000 {
            let mut b = Vec::new();
            for _ in 0..(next() % 10) {
                b.extend_from_slice(pieces[next() as usize % pieces.len()]);
            }
            sc.run(&b);
            let newline = memchr::memchr(b'\n', &b).unwrap_or(usize::MAX);
            let want = super::super::markdown::may_hold_table(&b, newline);
            assert_eq!(sc.newline, newline, "{b:?}");
            assert_eq!(sc.newline != usize::MAX && sc.table_row, want, "{b:?}");
            tables += usize::from(want);
            others += usize::from(!want);
        }
        assert!(tables > 1_000 && others > 1_000, "{tables} {others}");
    }
}
