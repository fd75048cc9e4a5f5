//! Secrets in free text after a word that names them and only a space: `passwd
//! Sunny2025#`, `비밀번호는 zG_gQ5vp7 입니다`, `aws secret wJalr…`, `API 키 fa5f…`.
//! (`password=…` and `token: …` are the `secret` pattern's, `detect.rs`.)
//!
//! The rule, per value (a run of printable ASCII after one or more spaces or tabs):
//!
//! - The word before the spaces (or before the line break when the value is wrapped onto
//!   the next, indented line), with one `:` or `=`, a Korean particle (`는`, `를`, …) or
//!   an English `is`/`was` after it taken off, is a **password word** (`password`,
//!   `passwd`, `passphrase`, `passcode`, `pwd`, `pw`, or a compound ending with one of
//!   the first four; `비밀번호`, `패스워드`, `비번`, `암호`) or a **credential word**
//!   (`secret`, `token`, `apikey`, `api_key`, `credential(s)` or a compound ending with
//!   one, `시크릿`, `토큰`; `key`/`키` after `api`, `app`, `client`, `secret`, `access`,
//!   `aws`, `시크릿`, `액세스`, `인증`, `비밀`, `앱`, `클라이언트`). `pass` alone is not one: it is an English verb.
//! - After a password word the value is a password when it reads like one: four to 128
//!   bytes (trailing `.,;:!?)` not counted) holding a digit and a letter, or a symbol
//!   (`!@#$%^&*+=?~|;:,` and the like) with letters or digits, or four digits or more
//!   (a PIN), or three or more words of letters joined by `-` (a passphrase). A
//!   plain word (`password reset link sent`, `password policy updated`), a
//!   path (`pwd /srv/app`), a URL, a masked `********` and Korean text stay.
//! - After a credential word the value is a key when it looks random
//!   ([`context::token_like`]: 32+ hex digits, or 20+ letters and digits with both), or
//!   is 40 base64 characters with capitals and lowercase letters after a phrase holding
//!   `secret`, `aws`, `access`, `시크릿` or `액세스` (an AWS secret access key). `token expired`,
//!   `cache key <hash>` and a token with no such word just before it stay.
//!
//! A value ends at a blank or an HTML tag (`<p>password is …</p>`). Passwords are type
//! `secret`, keys `api_key`. The pass stops only at spaces; the two
//! bytes before them rule out most words, and the value and the words before it are
//! read only after the few that may be marking words.

use crate::redact::PiiType;

use super::TypeId;
use super::context;
use super::detect::Found;
use super::skip;
use super::validate;

/// What the word before a value names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Marker {
    Password,
    /// A credential; `aws`: the phrase says `secret` or `aws`.
    Credential {
        aws: bool,
    },
}

/// Korean particles glued to a marking word (`비밀번호는`, `토큰을`), longest first.
const PARTICLES: [&str; 10] = ["으로", "은", "는", "이", "가", "을", "를", "도", "로", "란"];

fn space(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// A byte a value may hold: printable ASCII but quotes and `\` (a JSON escape).
fn value_byte(c: u8) -> bool {
    c.is_ascii_graphic() && !matches!(c, b'"' | b'\'' | b'\\')
}

/// Appends the secrets after marking words in `b` (`enabled`: whether a type is on).
pub(crate) fn marked_in(b: &[u8], enabled: &impl Fn(PiiType) -> bool, out: &mut Vec<Found>) {
    let (passwords, keys) = (enabled(PiiType::Secret), enabled(PiiType::ApiKey));
    if !passwords && !keys {
        return;
    }
    let mut spaces = Blanks::new(b);
    let mut i = 0;
    while i < b.len() {
        // The next run of spaces or tabs (most bytes are neither).
        let Some(at) = spaces.next_from(i) else {
            break;
        };
        i = at;
        let ws = i;
        while i < b.len() && space(b[i]) {
            i += 1;
        }
        // A value wrapped onto the next, indented line: the word ends the line before.
        let ws = match b[..ws] {
            [.., b'\r', b'\n'] => ws - 2,
            [.., b'\n'] => ws - 1,
            _ => ws,
        };
        // Most words end unlike any marking word: the value after them is not read.
        if !may_end_marker(&b[..ws]) {
            continue;
        }
        // A value opens with at most one quote (`\"` inside a JSON string).
        let v = i + match b.get(i..).unwrap_or_default() {
            [b'"' | b'\'', ..] => 1,
            [b'\\', b'"', ..] => 2,
            _ => 0,
        };
        let mut e = v;
        while e < b.len() && value_byte(b[e]) && !validate::tag_at(b, e) {
            e += 1;
        }
        if e - v < 4 {
            continue;
        }
        // No space in `v..e`: the next run of spaces is after it.
        i = e;
        let Some(marker) = marker_before(&b[..ws]) else {
            continue;
        };
        let value = &b[v..e];
        let (ty, e) = match marker {
            Marker::Password if passwords && password_like(value) => (PiiType::Secret, e),
            Marker::Credential { aws } if keys => {
                // A key holds no `,` or `;` and does not end a sentence or a bracket:
                // `apikey 9f86…,9380` (a CSV cell), `token: Zx81….`
                let token = token_end(value);
                if !key_like(&value[..token], aws) {
                    continue;
                }
                (PiiType::ApiKey, v + token)
            }
            _ => continue,
        };
        out.push(Found {
            start: v,
            end: e,
            ty: TypeId::builtin(ty),
        });
    }
}

/// The length of the token that starts `value`: up to its first `,` or `;`, without
/// the `.`, `)`, `]`, `}` and `>` that close a sentence or a bracket after it.
fn token_end(value: &[u8]) -> usize {
    let mut end = value
        .iter()
        .position(|c| matches!(c, b',' | b';'))
        .unwrap_or(value.len());
    while end > 0 && matches!(value[end - 1], b'.' | b')' | b']' | b'}' | b'>') {
        end -= 1;
    }
    end
}

/// The spaces and tabs of a string, found sixteen bytes at a time
/// (`skip::blank_mask`): the block last looked at and its blanks not yet passed.
struct Blanks<'a> {
    b: &'a [u8],
    base: usize,
    bits: u32,
}

impl<'a> Blanks<'a> {
    fn new(b: &'a [u8]) -> Self {
        let mut s = Blanks {
            b,
            base: 0,
            bits: 0,
        };
        s.load(0);
        s
    }

    /// The block holding `b[from]`, its blanks before `from` dropped.
    fn load(&mut self, from: usize) {
        let (base, block) = skip::block_from(self.b, from);
        self.base = base;
        self.bits = skip::blank_mask(&block) & (!0u32 << (from - base));
    }

    /// The first space or tab at or after `i`.
    #[inline(always)]
    fn next_from(&mut self, i: usize) -> Option<usize> {
        if i >= self.b.len() {
            return None;
        }
        if i < self.base || i >= self.base + skip::BLOCK {
            self.load(i);
        } else {
            self.bits &= !0u32 << (i - self.base);
        }
        loop {
            if self.bits != 0 {
                return Some(self.base + self.bits.trailing_zeros() as usize);
            }
            let from = self.base + skip::BLOCK;
            if from >= self.b.len() {
                return None;
            }
            self.load(from);
        }
    }
}

/// Whether `b` (the text before the spaces) may end with a marking word: its last two
/// bytes (after a `:` or `=`) are those of one (`rd` of `password`, `en` of `token`,
/// `is` of `password is`, …), or its last syllable is the last of a Korean one (`호` of
/// `비밀번호`, `큰` of `토큰`, …), also before a particle. A cheap test that rules out
/// most words of a text.
fn may_end_marker(b: &[u8]) -> bool {
    let b = match b {
        [rest @ .., b':' | b'='] => rest,
        _ => b,
    };
    match *b {
        [.., x, y, z] if z >= 0x80 => {
            let last = [x, y, z];
            if KOREAN_FINAL_BYTES.contains(&last) {
                return true;
            }
            // Every particle is Korean: one that ends `b` ends with its last syllable.
            if !PARTICLE_LAST_BYTES.contains(&last) {
                return false;
            }
            PARTICLES
                .iter()
                .find(|p| b.ends_with(p.as_bytes()))
                .is_some_and(|p| {
                    let rest = &b[..b.len() - p.len()];
                    korean_final(rest) || ascii_final(rest)
                })
        }
        // A non-ASCII byte in fewer than three: no Korean syllable, no particle.
        [.., z] if z >= 0x80 => false,
        _ => ascii_final(b),
    }
}

/// The last three bytes (a Hangul syllable) of every particle.
static PARTICLE_LAST_BYTES: [[u8; 3]; PARTICLES.len()] = {
    let mut t = [[0u8; 3]; PARTICLES.len()];
    let mut i = 0;
    while i < PARTICLES.len() {
        let s = PARTICLES[i].as_bytes();
        let n = s.len();
        t[i] = [s[n - 3], s[n - 2], s[n - 1]];
        i += 1;
    }
    t
};

/// The last syllables of the Korean marking words (three UTF-8 bytes each).
const KOREAN_FINALS: [&str; 6] = ["호", "드", "번", "릿", "큰", "키"];

/// [`KOREAN_FINALS`] as byte triples, compared three bytes at once.
static KOREAN_FINAL_BYTES: [[u8; 3]; 6] = {
    let mut t = [[0u8; 3]; 6];
    let mut i = 0;
    while i < KOREAN_FINALS.len() {
        let s = KOREAN_FINALS[i].as_bytes();
        t[i] = [s[0], s[1], s[2]];
        i += 1;
    }
    t
};

/// The last syllables of the Korean marking words.
fn korean_final(b: &[u8]) -> bool {
    let [.., x, y, z] = b else {
        return false;
    };
    KOREAN_FINAL_BYTES.contains(&[*x, *y, *z])
}

/// The last two letters of the English marking words (and of `is`, `was`), lowercase.
const ASCII_FINALS: [&[u8; 2]; 12] = [
    b"rd", b"wd", b"pw", b"se", b"de", b"et", b"en", b"ey", b"al", b"ls", b"is", b"as",
];

/// [`ASCII_FINALS`] as a table: bit `z - 'a'` of entry `y - 'a'`.
static ASCII_FINAL_BITS: [u32; 26] = {
    let mut t = [0u32; 26];
    let mut i = 0;
    while i < ASCII_FINALS.len() {
        let [y, z] = *ASCII_FINALS[i];
        t[(y - b'a') as usize] |= 1 << (z - b'a');
        i += 1;
    }
    t
};

/// Whether `b` ends with the last two letters of an English marking word.
fn ascii_final(b: &[u8]) -> bool {
    let [.., y, z] = b else {
        return false;
    };
    // `| 0x20` lowercases a letter; other bytes land outside `a..=z`, or on a letter
    // only when they were one.
    let (y, z) = ((y | 0x20).wrapping_sub(b'a'), (z | 0x20).wrapping_sub(b'a'));
    y < 26 && z < 26 && ASCII_FINAL_BITS[usize::from(y)] & (1 << z) != 0
}

/// The marking word that ends `b` (the text before the spaces), if any.
fn marker_before(b: &[u8]) -> Option<Marker> {
    let mut end = b.len();
    // `password: x`, `토큰= x`.
    if end > 0 && matches!(b[end - 1], b':' | b'=') {
        end -= 1;
    }
    // `password is x`, `password was x`.
    let w = last_word(&b[..end]);
    if (w.eq_ignore_ascii_case(b"is") || w.eq_ignore_ascii_case(b"was")) && end > w.len() {
        let mut k = end - w.len();
        if !space(b[k - 1]) {
            return None;
        }
        while k > 0 && space(b[k - 1]) {
            k -= 1;
        }
        end = k;
    }
    if let Some(m) = marker_word(&b[..end]) {
        return Some(m);
    }
    // A particle glued on: `비밀번호는`, `password를` (every particle is Korean).
    if b[..end].last().is_none_or(|&c| c < 0x80) {
        return None;
    }
    let p = PARTICLES
        .iter()
        .find(|p| b[..end].ends_with(p.as_bytes()))?;
    marker_word(&b[..end - p.len()])
}

/// The last word of `b`: its ASCII letters, digits, `_`, `-`, `.` and non-ASCII bytes.
fn last_word(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .rev()
        .take_while(|&&c| WORD_BYTE[usize::from(c)])
        .count();
    &b[b.len() - n..]
}

/// The bytes of a word for [`last_word`].
static WORD_BYTE: [bool; 256] = super::byte_table(b"_-.", true);

/// `w` lowercased, its `_`, `-` and `.` dropped, into `buf` (at most its length).
fn normalise<'a>(w: &[u8], buf: &'a mut [u8; 48]) -> &'a [u8] {
    let mut n = 0;
    // A long word: its end says what it is.
    let from = w.len().saturating_sub(buf.len());
    for &c in &w[from..] {
        if matches!(c, b'_' | b'-' | b'.') {
            continue;
        }
        buf[n] = c.to_ascii_lowercase();
        n += 1;
    }
    &buf[..n]
}

/// Whether the word that ends `b` is a marking word, and which kind; `aws`: the phrase
/// ending `b` names a secret, AWS or an access key.
fn marker_word(b: &[u8]) -> Option<Marker> {
    let raw = last_word(b);
    if raw.is_empty() {
        return None;
    }
    let mut buf = [0u8; 48];
    let w = normalise(raw, &mut buf);
    let ends = |s: &str| w.ends_with(s.as_bytes());
    let is = |s: &str| w == s.as_bytes();
    // Each word is compared only when its last byte is `w`'s (a word that ends with
    // another byte cannot be `w` nor end it).
    let last = *w.last()?;
    let korean = last >= 0x80;
    let password = match last {
        b'd' => ends("password") || ends("passwd") || is("pwd"),
        b'e' => ends("passphrase") || ends("passcode"),
        b'w' => is("pw"),
        _ if korean => ends("비밀번호") || ends("패스워드") || is("비번") || is("암호"),
        _ => false,
    };
    if password {
        return Some(Marker::Password);
    }
    // A 40-character base64 value after this phrase is an AWS secret access key (read
    // only for a credential word).
    let aws = || {
        let tail = &b[b.len().saturating_sub(48)..];
        // Each place compared only with the names that start with its byte.
        let at = |rest: &[u8], n: &str| {
            rest.get(..n.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(n.as_bytes()))
        };
        (0..tail.len()).any(|i| {
            let rest = &tail[i..];
            match rest[0].to_ascii_lowercase() {
                b's' => at(rest, "secret"),
                b'a' => at(rest, "aws") || at(rest, "access"),
                c if c >= 0x80 => at(rest, "시크릿") || at(rest, "액세스"),
                _ => false,
            }
        })
    };
    let credential = match last {
        b't' => ends("secret"),
        b'n' => ends("token"),
        b'y' => ends("apikey") || ends("secretkey") || ends("accesskey"),
        b'l' => ends("credential"),
        b's' => ends("credentials"),
        _ if korean => {
            ends("시크릿") || ends("토큰") || ends("시크릿키") || ends("인증키") || ends("api키")
        }
        _ => false,
    };
    if credential {
        return Some(Marker::Credential { aws: aws() });
    }
    if (last == b'y' && is("key")) || (korean && is("키")) {
        // The word before: `api key`, `secret key`, `access key`, `시크릿 키`.
        let mut k = b.len() - raw.len();
        if k == 0 || !space(b[k - 1]) {
            return None;
        }
        while k > 0 && space(b[k - 1]) {
            k -= 1;
        }
        let mut buf2 = [0u8; 48];
        let prev = normalise(last_word(&b[..k]), &mut buf2);
        let names = [
            "api",
            "app",
            "client",
            "secret",
            "access",
            "aws",
            "시크릿",
            "액세스",
            "인증",
            "비밀",
            "앱",
            "클라이언트",
        ];
        if names.iter().any(|n| prev.ends_with(n.as_bytes())) {
            return Some(Marker::Credential { aws: aws() });
        }
    }
    None
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len() && hay.windows(needle.len()).any(|w| w == needle)
}

/// `v` without the sentence punctuation after it.
fn trimmed(v: &[u8]) -> &[u8] {
    let n = v
        .iter()
        .rev()
        .take_while(|c| matches!(c, b'.' | b',' | b';' | b':' | b'!' | b'?' | b')'))
        .count();
    &v[..v.len() - n]
}

/// A value after a password word that reads like a password (see the module doc).
fn password_like(v: &[u8]) -> bool {
    let body = trimmed(v);
    if !(4..=128).contains(&body.len()) {
        return false;
    }
    // Already redacted: a second pass leaves it.
    if body.starts_with(b"[REDACTED") {
        return false;
    }
    // A path (`pwd /srv/app`, `~/work`, `~deploy/app`) or a URL; `~` alone starts
    // passwords too (`~294@tauBF0`).
    if body[0] == b'/'
        || (body[0] == b'~' && body.contains(&b'/'))
        || body.starts_with(b"./")
        || body.starts_with(b"../")
        || contains(body, b"://")
    {
        return false;
    }
    let (mut digits, mut letters, mut symbols) = (0, 0, 0);
    for &c in body {
        if c.is_ascii_digit() {
            digits += 1;
        } else if c.is_ascii_alphabetic() {
            letters += 1;
        } else if !matches!(
            c,
            b'-' | b'_' | b'.' | b'/' | b'(' | b')' | b'[' | b']' | b'{' | b'}'
        ) {
            symbols += 1;
        }
    }
    (digits > 0 && letters > 0)
        || (symbols > 0 && digits + letters > 0)
        || (digits == body.len() && digits >= 4)
        || passphrase(body)
}

/// Three or more words of 3 to 12 letters joined by `-`: a generated passphrase
/// (`correct-horse-battery-staple`, a password manager's `word-word-word`).
fn passphrase(v: &[u8]) -> bool {
    let mut words = 0;
    for w in v.split(|&c| c == b'-') {
        if !(3..=12).contains(&w.len()) || !w.iter().all(u8::is_ascii_alphabetic) {
            return false;
        }
        words += 1;
    }
    words >= 3
}

/// A value after a credential word that is a key (see the module doc).
fn key_like(v: &[u8], aws: bool) -> bool {
    let body = trimmed(v);
    let Ok(s) = std::str::from_utf8(body) else {
        return false;
    };
    if context::token_like(s) {
        return true;
    }
    aws && body.len() == 40
        && body
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
        && body.iter().any(u8::is_ascii_uppercase)
        && body.iter().any(u8::is_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_ends_before_a_comma_or_a_closing_mark() {
        assert_eq!(token_end(b"a38ff0528e6ce50574a1d9c87c3cc406,9380"), 32);
        assert_eq!(token_end(b"Zx81hQw2Lm0PqRt5Vb7Nc3Kd)."), 24);
        assert_eq!(token_end(b"Zx81hQw2Lm0PqRt5Vb7Nc3Kd"), 24);
        let mut out = Vec::new();
        let text = b"N,apikey a38ff0528e6ce50574a1d9c87c3cc406,9380";
        marked_in(text, &|_| true, &mut out);
        let found: Vec<&[u8]> = out.iter().map(|f| &text[f.start..f.end]).collect();
        assert_eq!(found, [&b"a38ff0528e6ce50574a1d9c87c3cc406"[..]]);
    }

    #[test]
    fn final_tables_are_their_lists() {
        for y in 0..=255u8 {
            for z in 0..=255u8 {
                let pair = [y.to_ascii_lowercase(), z.to_ascii_lowercase()];
                let want = ASCII_FINALS.iter().any(|f| **f == pair);
                assert_eq!(ascii_final(&[b'x', y, z]), want, "{y} {z}");
            }
        }
        assert!(!ascii_final(b"d"));
        for w in [
            "비밀번호",
            "패스워드",
            "비번",
            "시크릿",
            "토큰",
            "키",
            "x호",
        ] {
            assert!(korean_final(w.as_bytes()), "{w}");
        }
        for w in ["암호화", "번호가", "ab", "호x", ""] {
            let want = KOREAN_FINALS.iter().any(|f| w.ends_with(f));
            assert_eq!(korean_final(w.as_bytes()), want, "{w}");
        }
    }

    /// `may_end_marker` as first written: every particle compared.
    fn may_end_marker_plain(b: &[u8]) -> bool {
        let b = b
            .strip_suffix(b":")
            .or_else(|| b.strip_suffix(b"="))
            .unwrap_or(b);
        if b.last().is_some_and(|&c| c >= 0x80) {
            if korean_final(b) {
                return true;
            }
            return PARTICLES
                .iter()
                .find(|p| b.ends_with(p.as_bytes()))
                .is_some_and(|p| {
                    let rest = &b[..b.len() - p.len()];
                    korean_final(rest) || ascii_final(rest)
                });
        }
        ascii_final(b)
    }

    #[test]
    fn may_end_marker_is_the_plain_test() {
        // Marking words, particles, their pieces and other text glued at random; every
        // prefix asked, as the pass asks at every blank.
        let pieces = [
            "password",
            "pw",
            "token",
            "key",
            "secret",
            "is",
            "was",
            "비밀번호",
            "비번",
            "토큰",
            "키",
            "시크릿",
            "으로",
            "은",
            "는",
            "이",
            "가",
            "을",
            "를",
            "도",
            "로",
            "란",
            "호",
            "드",
            "번",
            "릿",
            "큰",
            "a",
            "d",
            "e",
            ":",
            "=",
            "_",
            "1",
            "가나",
            "é",
            "中",
            "x",
        ];
        let mut next = crate::redact::xorshift(0x2545_f491_4f6c_dd1du64);
        let mut hits = 0;
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..(next() % 6) {
                s.push_str(pieces[next() as usize % pieces.len()]);
            }
            let b = s.as_bytes();
            for end in (0..=b.len()).filter(|&e| s.is_char_boundary(e)) {
                let want = may_end_marker_plain(&b[..end]);
                assert_eq!(may_end_marker(&b[..end]), want, "{:?}", &s[..end]);
                hits += usize::from(want);
            }
        }
        assert!(hits > 10_000, "{hits}");
    }

    #[test]
    fn blanks_are_found_in_order() {
        let long = b"a\tb cccccccccccccccccccccccccccccc\td  e";
        for s in [
            &long[..],
            b"",
            b" ",
            b"ab",
            b"x y\tz",
            &long[..17],
            &long[..33],
        ] {
            // From every place, and going forward from place to place as the pass does.
            for step in 1..4 {
                let mut blanks = Blanks::new(s);
                for i in (0..=s.len() + 1).step_by(step) {
                    let want = s
                        .get(i..)
                        .and_then(|r| r.iter().position(|&c| space(c)))
                        .map(|p| i + p);
                    assert_eq!(blanks.next_from(i), want, "{s:?} from {i}");
                    assert_eq!(Blanks::new(s).next_from(i), want, "{s:?} from {i}");
                }
            }
        }
    }

    fn marker(s: &str) -> Option<Marker> {
        marker_before(s.as_bytes())
    }

    #[test]
    fn marking_words() {
        for s in [
            "password",
            "passwd",
            "user_password",
            "DB-PASSWORD",
            "pwd",
            "PW",
            "passphrase",
            "비밀번호",
            "비밀번호는",
            "새 비밀번호를",
            "패스워드",
            "비번",
            "암호:",
            "password is",
            "Password was",
            "password=",
        ] {
            assert_eq!(marker(s), Some(Marker::Password), "{s}");
        }
        for s in [
            "pass",
            "bypass",
            "compass",
            "암호화",
            "passwords",
            "his",
            "is",
            "",
        ] {
            assert_eq!(marker(s), None, "{s}");
        }
        for (s, aws) in [
            ("aws secret", true),
            ("secret access key", true),
            ("시크릿 키", true),
            ("AWS_SECRET_ACCESS_KEY", true),
            ("apikey", false),
            ("api key", false),
            ("API 키", false),
            ("인증 토큰:", false),
            ("토큰은", false),
            ("client_secret", true),
            ("x-api-key", false),
        ] {
            assert_eq!(marker(s), Some(Marker::Credential { aws }), "{s}");
        }
        for s in ["cache key", "key", "키", "monkey", "tokens", "the"] {
            assert_eq!(marker(s), None, "{s}");
        }
    }

    #[test]
    fn values() {
        for v in [
            "Sunny2025#",
            "zG_gQ5vp7",
            "c%-$r^X_U_giB7^i",
            "hunter2",
            "482913",
            "p@ss!",
            // Words joined by `-` (xkcd 936's example; a password manager's default).
            "correct-horse-battery-staple",
            "fence-Orbit-canyon",
        ] {
            assert!(password_like(v.as_bytes()), "{v}");
        }
        for v in [
            "reset",
            "policy",
            "updated.",
            "Manager",
            "/home/app",
            "~/x",
            "https://x.example",
            "********",
            "(optional)",
            "12",
            "on/off",
            "self-service",
            "up-to-date",
            "state-of-the-art",
            "end-to-end",
            "re-enter-pw",
            "[REDACTED:secret]",
        ] {
            assert!(!password_like(v.as_bytes()), "{v}");
        }
        let aws = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert!(key_like(aws.as_bytes(), true));
        assert!(!key_like(aws.as_bytes(), false));
        assert!(key_like(b"3f786850e387550fdab836ed7e6dc881de23001b", false));
        assert!(!key_like(b"expired", false));
        // A Microsoft Entra client secret: three characters, a digit, `Q~`, then 34 of
        // `[A-Za-z0-9_~.-]` (the documented shape of secrets made since 2020).
        assert!(key_like(b"Xk27Q~bN4.rT8_vLp2Ws9-Yh3Jq6~Mz1Fc5Gd0Ae", false));
        assert_eq!(marker("access key"), Some(Marker::Credential { aws: true }));
        assert!(may_end_marker(b"password:") && may_end_marker("키".as_bytes()));
        assert!(!may_end_marker(b"the") && !may_end_marker(b"x"));
        assert!(may_end_marker("비밀번호는".as_bytes()) && may_end_marker("password를".as_bytes()));
        assert!(!may_end_marker("결제".as_bytes()) && !may_end_marker("실패를".as_bytes()));
    }
}
