//! The JSON walker: redacts a JSON text by copying it through and rewriting only what must
//! change.
//!
//! This is why slotel's redaction is worth having over parse → modify → serialize: the
//! walker is a scanner over the original bytes that writes the output as it goes (the
//! bytes up to each edit copied through, then the edit's text) and never builds a tree. Whatever it does not rewrite survives byte for
//! byte: key order, whitespace, number text (`1e3`, `10.50`, `12345678901234567890`
//! stay as written), escapes. A body with nothing to redact costs one pass and no
//! allocation (strings without escapes are scanned in place), and the output is the
//! input itself.
//!
//! Rewritten are: string values with a match (the whole string token, re-escaped), keys
//! with a match (scanned as text: an e-mail or phone number used as a map key; a `drop`
//! removes the member; two keys may then read the same, which JSON allows), values
//! under sensitive keys (a number or a string becomes a redacted string; objects and arrays
//! are walked with every leaf redacted), long integers that are card or resident numbers,
//! and members or elements removed by `drop` (with their comma). Values under ignored
//! keys are parsed but never scanned. A string value that itself holds JSON is walked the
//! same way, to `json.max_nested` levels, and written back re-escaped.
//!
//! The walker is strict (RFC 8259): anything else is an error, and the caller then scans
//! the whole text as text (fail closed). Depth is bounded by `json.max_depth`, counted
//! across nested levels too, so recursion is bounded.

use std::borrow::Cow;

use super::context::{self, Key};
use super::keys::KeyClass;
use super::{Session, Text, TypeId};
use super::{audit, pairs, skip};
use crate::redact::PiiType;

/// Why a text was not walked as JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JsonError {
    /// Not JSON (or not an object or array at the top).
    Invalid,
    /// Nested deeper than `json.max_depth`.
    TooDeep,
}

/// Whether a value is kept or removed by `drop`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Keep,
    Drop,
}

/// True when `text` could be a JSON object or array (the cheap test before walking).
pub(crate) fn looks_like_json(text: &str) -> bool {
    let ws = |c: &&u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let first = text.as_bytes().iter().find(|c| !ws(c));
    if !matches!(first, Some(b'{' | b'[')) {
        return false;
    }
    matches!(
        (first, text.trim_end().as_bytes().last()),
        (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']'))
    )
}

/// Walks `src` (a JSON object or array); `Ok(None)` when nothing changed.
pub(crate) fn redact(
    sess: &mut Session<'_>,
    src: &str,
    depth: usize,
    nested: usize,
) -> Result<Option<String>, JsonError> {
    let mut w = Walker {
        sess,
        src,
        b: src.as_bytes(),
        pos: 0,
        out: String::new(),
        copied: 0,
        nested,
        pem_body: false,
    };
    w.ws();
    if !matches!(w.peek(), Some(b'{' | b'[')) {
        return Err(JsonError::Invalid);
    }
    // The root cannot be dropped: only its members can.
    w.value(KeyClass::Normal, Key::NONE, depth)?;
    w.ws();
    if w.pos != w.b.len() {
        return Err(JsonError::Invalid);
    }
    if w.copied == 0 {
        return Ok(None);
    }
    let mut out = w.out;
    out.push_str(&src[w.copied..]);
    Ok(Some(out))
}

/// Appends `s` as a JSON string token (quotes included).
pub(crate) fn write_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let b = s.as_bytes();
    let mut at = 0;
    let mut i = 0;
    while i < b.len() {
        let (base, block) = skip::block_from(b, i);
        let special = skip::string_mask(&block) >> (i - base);
        if special == 0 {
            i = base + skip::BLOCK;
            continue;
        }
        i += special.trailing_zeros() as usize;
        if i >= b.len() {
            break;
        }
        let (pos, c) = (i, b[i]);
        i += 1;
        let esc = match c {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            c if c < 0x20 => {
                out.push_str(&s[at..pos]);
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(c >> 4)]));
                out.push(char::from(HEX[usize::from(c & 0xf)]));
                at = i;
                continue;
            }
            _ => continue,
        };
        out.push_str(&s[at..pos]);
        out.push_str(esc);
        at = i;
    }
    out.push_str(&s[at..]);
    out.push('"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// What a session knows of a key it has seen: its class (`KeyRules::classify`) and
/// whether the key itself, scanned as text, has nothing to redact. Both depend on the
/// key and the config alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeySeen {
    pub class: KeyClass,
    pub clean: bool,
}

impl Session<'_> {
    /// What is known of a key (remembered for the session).
    pub(crate) fn key_seen(&mut self, key: &str) -> KeySeen {
        if let Some(seen) = self.key_memo.get(key) {
            return seen;
        }
        let r = self.redactor;
        let seen = KeySeen {
            class: r.detectors.keys.classify(key),
            clean: r.plain_key(key),
        };
        self.key_memo.put(key, seen);
        seen
    }
}

/// Keys at most this long are remembered.
const MEMO_KEY: usize = 32;
/// Slots in a [`KeyMemo`] (a power of two), two to a set.
const MEMO_SLOTS: usize = 1024;

/// One slot: the key's length plus one (0: empty), its bytes and what is known of it.
type MemoSlot = (u8, [u8; MEMO_KEY], KeySeen);

/// The keys a session has seen, so a key that comes back (in the next member, the next
/// array element, the next body) is not classified and scanned again. Of fixed size
/// (allocated at the first key), in sets of two slots, so two keys whose hashes meet
/// both stay: a key not found goes to its set's first slot and moves the one there to
/// the second.
#[derive(Default)]
pub(crate) struct KeyMemo(Option<Box<[MemoSlot; MEMO_SLOTS]>>);

impl KeyMemo {
    /// The first slot of `key`'s set.
    fn set(key: &[u8]) -> usize {
        (super::context::short_key_hash(key) as usize % (MEMO_SLOTS / 2)) * 2
    }

    pub(crate) fn get(&self, key: &str) -> Option<KeySeen> {
        let k = key.as_bytes();
        let slots = self.0.as_ref()?;
        if k.len() > MEMO_KEY {
            return None;
        }
        let first = Self::set(k);
        slots[first..first + 2]
            .iter()
            .find(|(len, bytes, _)| usize::from(*len) == k.len() + 1 && &bytes[..k.len()] == k)
            .map(|slot| slot.2)
    }

    /// Remembers `key`, in its set's first slot.
    pub(crate) fn put(&mut self, key: &str, seen: KeySeen) {
        let k = key.as_bytes();
        if k.len() > MEMO_KEY {
            return;
        }
        let empty = KeySeen {
            class: KeyClass::Normal,
            clean: false,
        };
        let slots = self
            .0
            .get_or_insert_with(|| Box::new([(0, [0; MEMO_KEY], empty); MEMO_SLOTS]));
        let first = Self::set(k);
        // Already first: what is known of it changes. Else the first moves to the
        // second slot (over the key itself when it was there) and the key comes first.
        let (len, bytes, _) = &slots[first];
        if usize::from(*len) == k.len() + 1 && &bytes[..k.len()] == k {
            slots[first].2 = seen;
            return;
        }
        slots[first + 1] = slots[first];
        let (len, bytes, slot) = &mut slots[first];
        *len = k.len() as u8 + 1;
        bytes[..k.len()].copy_from_slice(k);
        *slot = seen;
    }
}

struct Walker<'a, 's, 'r> {
    sess: &'s mut Session<'r>,
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    /// The output so far: `src[..copied]` with the edits in it applied. Nothing is
    /// copied (and `copied` stays 0) until the first edit, which always ends past the
    /// opening bracket.
    out: String,
    copied: usize,
    nested: usize,
    /// The string being walked is a body line of a PEM private key split over an array.
    pem_body: bool,
}

impl Walker<'_, '_, '_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    /// Replaces `src[start..end]` (at or after everything edited so far) with what
    /// `write` appends.
    fn edit(&mut self, start: usize, end: usize, write: impl FnOnce(&mut String)) {
        if self.out.capacity() == 0 {
            self.out.reserve(self.src.len() + 16);
        }
        self.out.push_str(&self.src[self.copied..start]);
        write(&mut self.out);
        self.copied = end;
    }

    /// A value under a key of class `class`; `hint`: the key, for context (`context.rs`).
    fn value(
        &mut self,
        class: KeyClass,
        hint: Key<'_>,
        depth: usize,
    ) -> Result<Outcome, JsonError> {
        match self.peek().ok_or(JsonError::Invalid)? {
            b'{' => self.container(b'}', class, hint, depth),
            b'[' => self.container(b']', class, hint, depth),
            b'"' => self.string_value(class, hint, depth),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(class, hint),
            _ => Err(JsonError::Invalid),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<Outcome, JsonError> {
        if !self.b[self.pos..].starts_with(word) {
            return Err(JsonError::Invalid);
        }
        self.pos += word.len();
        Ok(Outcome::Keep)
    }

    /// An object (`close` is `}`) or an array (`]`, whose elements keep `hint`).
    fn container(
        &mut self,
        close: u8,
        class: KeyClass,
        hint: Key<'_>,
        depth: usize,
    ) -> Result<Outcome, JsonError> {
        if depth >= self.sess.redactor.json.max_depth {
            return Err(JsonError::TooDeep);
        }
        let object = close == b'}';
        self.pos += 1;
        self.ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(Outcome::Keep);
        }
        let mut kept_any = false;
        let mut comma = 0;
        // The string token under a `name` or `key` member of this object (start, end,
        // escaped), which names the value under its `value` member
        // (`{"name": "DB_PASSWORD", "value": "…"}`); decoded only when that comes.
        let mut pair_name: Option<(usize, usize, bool)> = None;
        // In an array: the string token of the element before (a flag such as
        // `--password` names the element after it), and whether a PEM private key's
        // first line came before this element with no end line since.
        let mut prev: Option<(usize, usize, bool)> = None;
        let mut pem_open = false;
        // In an array: its first element's string token, when it can name a value
        // (`[["date_of_birth", "…"]]`: a pair names its second element).
        let mut pair_first: Option<(usize, usize, bool)> = None;
        let mut index = 0usize;
        loop {
            let start = self.pos;
            // What to roll back to when this member or element is dropped.
            let mark = (self.out.len(), self.copied);
            let mut drop_key = false;
            let mut name = None;
            let at_path;
            let child = if object {
                let (ks, ke, escaped) = self.string_token()?;
                let key = content(self.src, ks, ke, escaped);
                name = Some(key.clone());
                let seen = self.sess.key_seen(&key);
                let child = if class == KeyClass::Normal {
                    seen.class
                } else {
                    class
                };

                // A key can be PII itself (an e-mail used as a map key): scanned as
                // text, unless it or the object is ignored, or it is plain or was
                // scanned clean before.
                let mut written = None;
                if child != KeyClass::Ignored && !seen.clean {
                    let at = self.sess.path_enter(audit::KEY);
                    let found = self.sess.text(&key, true, Key::NONE);
                    self.sess.path_leave(at);
                    if found == Text::Clean {
                        let clean = KeySeen {
                            clean: true,
                            ..seen
                        };
                        self.sess.key_memo.put(&key, clean);
                    }
                    match found {
                        Text::Clean => {}
                        Text::Drop => drop_key = true,
                        Text::Changed(new) => {
                            self.edit(ks, ke, |out| write_string(&new, out));
                            written = Some(new);
                        }
                    }
                }
                // The path names the key as written out.
                at_path = self.sess.path_enter(written.as_deref().unwrap_or(&key));
                self.ws();
                if self.peek() != Some(b':') {
                    return Err(JsonError::Invalid);
                }
                self.pos += 1;
                self.ws();
                child
            } else {
                at_path = self.sess.path_enter("[]");
                class
            };
            // `value` after `name`/`key`: the value sits under the key the name gives.
            let named = match (&name, pair_name) {
                (Some(k), Some((s, e, esc))) if child == KeyClass::Normal && pair_value_key(k) => {
                    Some(content(self.src, s, e, esc))
                }
                _ => None,
            };
            let (child, child_hint) = match (named.as_deref(), &name, child) {
                (Some(n), _, _) => match self.sess.key_seen(n).class {
                    KeyClass::Normal => (KeyClass::Normal, Key(Some(n))),
                    class => (class, Key::NONE),
                },
                (None, Some(k), KeyClass::Normal) => (child, Key(Some(k.as_ref()))),
                (None, Some(_), _) => (child, Key::NONE),
                (None, None, _) => (child, hint),
            };
            // `["--password", "…"]`: the element after a flag sits under the flag's name.
            let flag = prev.and_then(|(s, e, esc)| flag_name(content(self.src, s, e, esc)));
            let flag = match (flag, pair_first) {
                (None, Some((s, e, esc)))
                    if index == 1
                        && self.peek() == Some(b'"')
                        && pairs::closes_array(self.b, self.pos) =>
                {
                    // A name that says nothing of its value leaves it under the array's
                    // key (`"dob": ["primary", "…"]`).
                    let name = content(self.src, s, e, esc);
                    let says = self.sess.key_seen(&name).class != KeyClass::Normal
                        || Key(Some(name.as_ref())).hint() != 0;
                    says.then_some(name)
                }
                (flag, _) => flag,
            };
            let (mut child, child_hint) = match &flag {
                Some(f) if class == KeyClass::Normal => match self.sess.key_seen(f).class {
                    KeyClass::Normal => (KeyClass::Normal, Key(Some(f.as_ref()))),
                    c => (c, Key::NONE),
                },
                _ => (child, child_hint),
            };
            let value_start = self.pos;
            // `["-----BEGIN … PRIVATE KEY-----", "MIIE…", …, "-----END …"]`: every line
            // between the first and the end line is the key's.
            let pem_line = pem_open
                && child != KeyClass::Ignored
                && self.peek() == Some(b'"')
                && !self.b[value_start..].starts_with(b"\"-----END");
            if pem_line {
                child = KeyClass::Sensitive;
            }
            self.pem_body = pem_line;
            let result = self.value(child, child_hint, depth + 1);
            self.pem_body = false;
            let mut outcome = result?;
            if !object {
                let token = &self.b[value_start..self.pos];
                // Only a string starting with `-` can be a flag: the escape check (a pass
                // over the token) is left to those.
                prev = token
                    .starts_with(b"\"-")
                    .then(|| (value_start, self.pos, token.contains(&b'\\')));
                if index == 0
                    && token.len() >= 2
                    && token[0] == b'"'
                    && pairs::is_name(&token[1..token.len() - 1])
                {
                    pair_first = Some((value_start, self.pos, false));
                }
                index += 1;
                pem_open = if token.starts_with(b"\"-----BEGIN ") {
                    contains(token, b"PRIVATE KEY")
                } else {
                    pem_open && token.first() == Some(&b'"') && !token.starts_with(b"\"-----END")
                };
            }
            if let Some(k) = &name
                && pair_name_key(k)
                && self.b[value_start] == b'"'
            {
                let escaped = self.b[value_start..self.pos].contains(&b'\\');
                pair_name = Some((value_start, self.pos, escaped));
            }
            self.sess.path_leave(at_path);
            if drop_key {
                outcome = Outcome::Drop;
            }
            let value_end = self.pos;
            self.ws();
            let next = self.peek().ok_or(JsonError::Invalid)?;
            if next != b',' && next != close {
                return Err(JsonError::Invalid);
            }
            if outcome == Outcome::Drop {
                self.out.truncate(mark.0);
                self.copied = mark.1;
                if kept_any {
                    // `, "k": v` goes, from the comma before it.
                    self.edit(comma, value_end, |_| {});
                } else if next == b',' {
                    // The first one left: it goes with the comma after it.
                    let mut end = self.pos + 1;
                    while matches!(self.b.get(end), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                        end += 1;
                    }
                    self.edit(start, end, |_| {});
                } else {
                    self.edit(start, value_end, |_| {});
                }
            } else {
                kept_any = true;
            }
            self.pos += 1;
            if next == close {
                return Ok(Outcome::Keep);
            }
            comma = self.pos - 1;
            self.ws();
        }
    }

    /// A string token at `pos`: (start, end) including the quotes, and whether it has
    /// escapes. Validates escapes and refuses control characters.
    fn string_token(&mut self) -> Result<(usize, usize, bool), JsonError> {
        let start = self.pos;
        if self.peek() != Some(b'"') {
            return Err(JsonError::Invalid);
        }
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            // Plain bytes, sixteen at a time.
            while i < self.b.len() {
                let (base, block) = skip::block_from(self.b, i);
                let special = skip::string_mask(&block) >> (i - base);
                if special != 0 {
                    i += special.trailing_zeros() as usize;
                    break;
                }
                i = base + skip::BLOCK;
            }
            match self.b.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok((start, i + 1, escaped));
                }
                Some(b'\\') => {
                    escaped = true;
                    match self.b.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            let hex = self.b.get(i + 2..i + 6).ok_or(JsonError::Invalid)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(JsonError::Invalid);
                            }
                            i += 6;
                        }
                        _ => return Err(JsonError::Invalid),
                    }
                }
                _ => return Err(JsonError::Invalid),
            }
        }
    }

    fn string_value(
        &mut self,
        class: KeyClass,
        hint: Key<'_>,
        depth: usize,
    ) -> Result<Outcome, JsonError> {
        let (start, end, escaped) = self.string_token()?;
        if class == KeyClass::Ignored {
            return Ok(Outcome::Keep);
        }
        let value = content(self.src, start, end, escaped);
        let value: &str = &value;
        let result = if class == KeyClass::Sensitive {
            let ty = if self.pem_body {
                PiiType::PrivateKey
            } else {
                PiiType::Secret
            };
            self.sess.whole(TypeId::builtin(ty), value)
        } else {
            let nested = self.nested;
            self.sess.string(value, true, depth, nested, hint)
        };
        match result {
            Text::Clean => Ok(Outcome::Keep),
            Text::Drop => Ok(Outcome::Drop),
            Text::Changed(s) => {
                self.edit(start, end, |out| write_string(&s, out));
                Ok(Outcome::Keep)
            }
        }
    }

    fn number(&mut self, class: KeyClass, hint: Key<'_>) -> Result<Outcome, JsonError> {
        let start = self.pos;
        let b = self.b;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let s = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - s
        };
        let int_start = i;
        let n = digits(&mut i);
        if n == 0 || (n > 1 && b[int_start] == b'0') {
            return Err(JsonError::Invalid);
        }
        let mut integer = true;
        if b.get(i) == Some(&b'.') {
            i += 1;
            integer = false;
            if digits(&mut i) == 0 {
                return Err(JsonError::Invalid);
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            integer = false;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                return Err(JsonError::Invalid);
            }
        }
        self.pos = i;
        let text = &self.src[start..i];
        let result = match class {
            KeyClass::Ignored => return Ok(Outcome::Keep),
            KeyClass::Sensitive => self.sess.whole(TypeId::builtin(PiiType::Secret), text),
            // Only long integers can be card or resident numbers; under a key that
            // says what a number is (`account_no`, `phone`, `dob`), from six digits.
            KeyClass::Normal
                if integer
                    && start == int_start
                    && ((13..=19).contains(&n)
                        || ((6..=19).contains(&n) && hint.hint() & !context::TIME != 0)) =>
            {
                self.sess.text(text, true, hint)
            }
            KeyClass::Normal => return Ok(Outcome::Keep),
        };
        match result {
            Text::Clean => Ok(Outcome::Keep),
            Text::Drop => Ok(Outcome::Drop),
            Text::Changed(s) => {
                self.edit(start, i, |out| write_string(&s, out));
                Ok(Outcome::Keep)
            }
        }
    }
}

/// The key a command-line flag names (`--db-password` → `db-password`, `-p` → none): one
/// or two dashes, then a letter and at least one more of `[A-Za-z0-9_.-]`, no `=`.
fn flag_name(s: Cow<'_, str>) -> Option<Cow<'_, str>> {
    let dashes = s.bytes().take(2).take_while(|&c| c == b'-').count();
    let name = s.get(dashes..)?;
    let ok = dashes > 0
        && name.len() >= 2
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if !ok {
        return None;
    }
    Some(match s {
        Cow::Borrowed(b) => Cow::Borrowed(&b[dashes..]),
        Cow::Owned(o) => Cow::Owned(o[dashes..].to_string()),
    })
}

/// Whether `needle` occurs in `hay`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A member whose string names the value beside it: `name`, `key` (any case).
pub(super) fn pair_name_key(k: &str) -> bool {
    k.eq_ignore_ascii_case("name") || k.eq_ignore_ascii_case("key")
}

/// The member that holds the value a [`pair_name_key`] member names: `value` (any case).
pub(super) fn pair_value_key(k: &str) -> bool {
    k.eq_ignore_ascii_case("value")
}

/// The decoded content of the valid string token `src[start..end]`.
fn content(src: &str, start: usize, end: usize, escaped: bool) -> Cow<'_, str> {
    let raw = &src[start + 1..end - 1];
    if !escaped {
        return Cow::Borrowed(raw);
    }
    match serde_json::from_str::<String>(&src[start..end]) {
        Ok(s) => Cow::Owned(s),
        Err(_) => Cow::Owned(decode_lossy(raw)),
    }
}

/// Decodes escapes, turning lone surrogates into U+FFFD (serde_json refuses them).
fn decode_lossy(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    let mut units: Vec<u16> = Vec::new();
    while let Some(c) = chars.next() {
        if c != '\\' {
            flush(&mut units, &mut out);
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                units.push(u16::from_str_radix(&hex, 16).unwrap_or(0xFFFD));
                continue;
            }
            Some(e) => {
                flush(&mut units, &mut out);
                out.push(match e {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    other => other,
                });
            }
            None => {}
        }
    }
    flush(&mut units, &mut out);
    out
}

fn flush(units: &mut Vec<u16>, out: &mut String) {
    out.extend(char::decode_utf16(units.drain(..)).map(|r| r.unwrap_or('\u{FFFD}')));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_keys_are_still_redacted() {
        let r = super::super::Redactor::new(&crate::config::RedactionConfig::default()).unwrap();
        let mut sess = r.session();
        let body = r#"{"kim@example.com": 1, "X-Note": "a", "password": "hunter2"}"#;
        // The same keys body after body: a key with PII is redacted every time, a clean
        // key stays, a sensitive key's value goes every time.
        for _ in 0..3 {
            assert_eq!(
                sess.redact_str(body).as_deref(),
                Some(r#"{"[REDACTED:email]": 1, "X-Note": "a", "password": "[REDACTED:secret]"}"#)
            );
        }
        assert_eq!(sess.redact_str(r#"{"X-Note": "b"}"#), None);
        assert_eq!(sess.total(), 6);
    }

    #[test]
    fn the_key_memo_answers_what_was_put_last_and_keeps_two_keys_a_set() {
        use std::collections::HashMap;
        let mut next = crate::redact::xorshift(0xda94_2042_e4dd_58b5);
        // Keys of one set (four, so two and three take turns at its two slots), many
        // other keys (more than slots), keys too long to be remembered.
        let want = KeyMemo::set(b"phone_number");
        let mut keys: Vec<String> = (0..)
            .map(|i| format!("k{i}"))
            .filter(|k| KeyMemo::set(k.as_bytes()) == want)
            .take(3)
            .collect();
        keys.push("phone_number".to_string());
        keys.extend((0..3000).map(|i| format!("attr.{i}")));
        keys.extend([
            "".to_string(),
            "x".repeat(32),
            "y".repeat(33),
            "계좌번호".to_string(),
        ]);
        let classes = [KeyClass::Normal, KeyClass::Sensitive, KeyClass::Ignored];
        let mut memo = KeyMemo::default();
        let mut model: HashMap<&str, KeySeen> = HashMap::new();
        let (mut hits, mut pair_hits) = (0, 0);
        for round in 0..200_000 {
            // Half the time one of the set's keys: the set's first two, or all four.
            let k = match next() % 4 {
                0 => &keys[(next() % 2) as usize],
                1 => &keys[(next() % 4) as usize],
                _ => &keys[(next() % keys.len() as u64) as usize],
            };
            match memo.get(k) {
                Some(seen) => {
                    assert_eq!(Some(&seen), model.get(k.as_str()), "{k} in round {round}");
                    assert!(k.len() <= MEMO_KEY);
                    hits += 1;
                }
                None => {
                    let seen = KeySeen {
                        class: classes[(next() % 3) as usize],
                        clean: next().is_multiple_of(2),
                    };
                    memo.put(k, seen);
                    model.insert(k, seen);
                }
            }
            // Now and then a key seen is put again, as a key scanned clean is.
            if next().is_multiple_of(8) {
                let seen = KeySeen {
                    class: classes[(next() % 3) as usize],
                    clean: true,
                };
                memo.put(k, seen);
                model.insert(k, seen);
            }
            // Two keys of one set put one after the other are both found.
            if round % 1000 == 999 {
                for k in &keys[..2] {
                    let seen = KeySeen {
                        class: KeyClass::Normal,
                        clean: false,
                    };
                    memo.put(k, seen);
                    model.insert(k, seen);
                }
                for k in &keys[..2] {
                    assert_eq!(memo.get(k).as_ref(), model.get(k.as_str()), "{k}");
                    pair_hits += 1;
                }
            }
        }
        assert!(memo.get(&"y".repeat(33)).is_none());
        assert!(hits > 50_000 && pair_hits == 400, "{hits} {pair_hits}");
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        write_string(
            "a\"b\\c\nd\u{1}e 한국어 plain text longer than eight\t",
            &mut out,
        );
        assert_eq!(
            out,
            r#""a\"b\\c\nd\u0001e 한국어 plain text longer than eight\t""#
        );
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(
            back,
            "a\"b\\c\nd\u{1}e 한국어 plain text longer than eight\t"
        );
    }
}
