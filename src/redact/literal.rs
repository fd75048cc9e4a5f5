//! The anchored search of the `literal` group (JWT, authorization header, GitHub,
//! Slack and Google tokens, vendor API keys, AWS keys) read by hand.
//!
//! Every one of these patterns is a literal prefix followed by runs of one byte class,
//! each of a fixed or bounded length, each run ended by a literal or by a byte outside
//! its class: the greedy run is the only way through, so a match is found without
//! backtracking. Entries are listed in the group's priority order (pattern, then
//! alternative), and the first one whose prefix and runs match gives the match the
//! leftmost-first regex gives. The one alternative with an optional part (`sk-` with
//! `proj-`, `admin-`, …, all inside the run's class) ends where the whole run ends
//! whichever way it is read, unless the run reaches its bound: then the regex decides.

use super::detect::{is_word, word_starts};

/// Byte classes, one bit each in [`CLASS`].
const B64URL: u16 = 1; // [A-Za-z0-9_-]
const ALNUM: u16 = 1 << 1; // [A-Za-z0-9]
const AUTH: u16 = 1 << 2; // [A-Za-z0-9._~+/-]
const SLACK: u16 = 1 << 3; // [A-Za-z0-9-]
const WORD: u16 = 1 << 4; // [A-Za-z0-9_]
const HEX: u16 = 1 << 5; // [0-9a-fA-F]
const HEXL: u16 = 1 << 6; // [0-9a-f]
const UPNUM: u16 = 1 << 7; // [0-9A-Z]
const B64: u16 = 1 << 8; // [A-Za-z0-9+/=]
const GITLAB: u16 = 1 << 9; // [A-Za-z0-9_.-]
const SPACE: u16 = 1 << 10; // [ ]
const EQ: u16 = 1 << 11; // =
const DIGIT: u16 = 1 << 12; // [0-9]

const CLASS: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let lower = b.is_ascii_lowercase();
        let upper = b.is_ascii_uppercase();
        let digit = b.is_ascii_digit();
        let alnum = lower || upper || digit;
        let mut m = 0;
        if alnum || b == b'_' || b == b'-' {
            m |= B64URL;
        }
        if alnum {
            m |= ALNUM | SLACK | AUTH | B64 | GITLAB;
        }
        if matches!(b, b'.' | b'_' | b'~' | b'+' | b'/' | b'-') {
            m |= AUTH;
        }
        if b == b'-' {
            m |= SLACK | GITLAB;
        }
        if alnum || b == b'_' {
            m |= WORD;
        }
        if matches!(b, b'_' | b'.') {
            m |= GITLAB;
        }
        if digit || matches!(b, b'a'..=b'f' | b'A'..=b'F') {
            m |= HEX;
        }
        if digit || matches!(b, b'a'..=b'f') {
            m |= HEXL;
        }
        if digit || upper {
            m |= UPNUM;
        }
        if matches!(b, b'+' | b'/' | b'=') {
            m |= B64;
        }
        if b == b' ' {
            m |= SPACE;
        }
        if b == b'=' {
            m |= EQ;
        }
        if digit {
            m |= DIGIT;
        }
        t[c] = m;
        c += 1;
    }
    t
};

/// A run of `class` bytes, `min..=max` long, then the literal `then`. A run followed
/// by another run has a class that holds no byte of the next one (or a fixed length).
struct Run {
    class: u16,
    min: usize,
    max: usize,
    then: &'static [u8],
}

const fn run(class: u16, min: usize, max: usize) -> Run {
    Run {
        class,
        min,
        max,
        then: b"",
    }
}

const fn run_then(class: u16, min: usize, max: usize, then: &'static [u8]) -> Run {
    Run {
        class,
        min,
        max,
        then,
    }
}

/// One alternative: its pattern (index in the group), prefixes, runs, and whether `\b`
/// ends it (the last run's class then is word bytes only, or its length is fixed).
struct Alt {
    pid: usize,
    prefixes: &'static [&'static [u8]],
    runs: &'static [Run],
    boundary: bool,
    /// The `sk-` alternative: its last run reaching `max` is left to the regex.
    ask_at_max: bool,
}

const fn alt(
    pid: usize,
    prefixes: &'static [&'static [u8]],
    runs: &'static [Run],
    boundary: bool,
) -> Alt {
    Alt {
        pid,
        prefixes,
        runs,
        boundary,
        ask_at_max: false,
    }
}

const MAX: usize = usize::MAX;

/// The group's patterns in `detect::BUILTIN` order: JWT, authorization header, GitHub,
/// Slack, Google, vendor API keys (in the alternation's order), AWS.
const ALTS: &[Alt] = &[
    alt(
        0,
        &[b"eyJ"],
        &[
            run_then(B64URL, 5, MAX, b".eyJ"),
            run_then(B64URL, 5, MAX, b"."),
            run(B64URL, 0, MAX),
        ],
        false,
    ),
    // JWE compact serialisation (RFC 7516 §7.1): header, encrypted key (empty for
    // `dir`), initialisation vector, ciphertext, authentication tag.
    alt(
        0,
        &[b"eyJ"],
        &[
            run_then(B64URL, 5, MAX, b"."),
            run_then(B64URL, 0, MAX, b"."),
            run_then(B64URL, 5, MAX, b"."),
            run_then(B64URL, 5, MAX, b"."),
            run(B64URL, 5, MAX),
        ],
        false,
    ),
    alt(
        1,
        &[
            b"Bearer", b"bearer", b"BEARER", b"Basic", b"basic", b"BASIC",
        ],
        &[run(SPACE, 1, MAX), run(AUTH, 8, MAX), run(EQ, 0, MAX)],
        false,
    ),
    alt(
        2,
        &[b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_"],
        &[run(ALNUM, 36, 251)],
        true,
    ),
    alt(2, &[b"github_pat_"], &[run(WORD, 22, 247)], true),
    alt(
        3,
        &[
            b"xoxa-", b"xoxb-", b"xoxp-", b"xoxo-", b"xoxs-", b"xoxr-", b"xoxe-",
        ],
        &[run(SLACK, 10, 250)],
        false,
    ),
    alt(4, &[b"AIza"], &[run(B64URL, 35, 35)], false),
    alt(
        5,
        &[
            b"sk_live_",
            b"sk_test_",
            b"rk_live_",
            b"rk_test_",
            b"pk_live_",
            b"pk_test_",
        ],
        &[run(ALNUM, 10, 247)],
        false,
    ),
    alt(5, &[b"whsec_"], &[run(B64, 24, 100)], false),
    alt(
        5,
        &[b"SG."],
        &[run_then(B64URL, 22, 22, b"."), run(B64URL, 43, 43)],
        false,
    ),
    alt(5, &[b"SK"], &[run(HEX, 32, 32)], true),
    alt(5, &[b"AC"], &[run(HEXL, 32, 32)], true),
    Alt {
        pid: 5,
        prefixes: &[b"sk-"],
        runs: &[run(B64URL, 20, 250)],
        boundary: false,
        ask_at_max: true,
    },
    alt(5, &[b"npm_"], &[run(ALNUM, 36, 36)], true),
    alt(
        5,
        &[b"pypi-AgEIcHlwaS5vcmc"],
        &[run(B64URL, 50, 500)],
        false,
    ),
    alt(
        5,
        &[
            b"glpat-", b"gldt-", b"glrt-", b"glptt-", b"glft-", b"glcbt-", b"glimt-", b"gloas-",
            b"glsoat-",
        ],
        &[run(GITLAB, 20, 100)],
        false,
    ),
    alt(5, &[b"glsa_"], &[run(WORD, 32, 64)], false),
    alt(5, &[b"key-"], &[run(HEXL, 32, 32)], true),
    alt(
        5,
        &[b"shpat_", b"shpca_", b"shppa_", b"shpss_"],
        &[run(HEX, 32, 32)],
        true,
    ),
    alt(
        5,
        &[b"dop_v1_", b"doo_v1_", b"dor_v1_"],
        &[run(HEXL, 64, 64)],
        true,
    ),
    alt(5, &[b"hf_"], &[run(ALNUM, 34, 34)], true),
    alt(5, &[b"sq0atp-", b"sq0csp-"], &[run(B64URL, 22, 43)], false),
    alt(5, &[b"lin_api_"], &[run(ALNUM, 40, 40)], true),
    alt(
        5,
        &[b"PMAK-"],
        &[run_then(HEXL, 24, 24, b"-"), run(HEXL, 34, 34)],
        true,
    ),
    alt(5, &[b"NRAK-"], &[run(UPNUM, 27, 27)], true),
    alt(
        5,
        &[b"xapp-"],
        &[run_then(DIGIT, 1, 1, b"-"), run(SLACK, 10, 250)],
        false,
    ),
    alt(
        6,
        &[b"AKIA", b"ASIA", b"ABIA", b"ACCA"],
        &[run(UPNUM, 16, 16)],
        true,
    ),
];

/// Bit `i` for each alternative `ALTS[i]` with a prefix that starts with the byte.
const FIRST: [u32; 256] = {
    assert!(ALTS.len() <= 32);
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < ALTS.len() {
        let prefixes = ALTS[i].prefixes;
        let mut j = 0;
        while j < prefixes.len() {
            t[prefixes[j][0] as usize] |= 1 << i;
            j += 1;
        }
        i += 1;
    }
    t
};

/// The anchored search of the literal group at `p`, its match ending at or before
/// `hi`: `Some(Some((pattern, end)))`, `Some(None)` no match, `None` ask the regex.
pub(crate) fn literal_match(b: &[u8], p: usize, hi: usize) -> Option<Option<(usize, usize)>> {
    if !word_starts(b, p) {
        return Some(None);
    }
    let has = |at: usize, lit: &[u8]| b.get(at..hi).is_some_and(|s| s.starts_with(lit));
    let first = b.get(p).copied()?;
    // The alternatives with a prefix that starts with this byte, in order.
    let mut todo = FIRST[usize::from(first)];
    'alts: while todo != 0 {
        let i = todo.trailing_zeros() as usize;
        todo &= todo - 1;
        let Some(a) = ALTS.get(i) else { break };
        let Some(prefix) = a
            .prefixes
            .iter()
            .find(|s| s.first() == Some(&first) && has(p, s))
        else {
            continue;
        };
        let mut pos = p + prefix.len();
        for r in a.runs {
            let lim = hi.min(b.len()).min(pos.saturating_add(r.max));
            let n = b.get(pos..lim).map_or(0, |s| {
                s.iter()
                    .position(|&c| CLASS[usize::from(c)] & r.class == 0)
                    .unwrap_or(s.len())
            });
            if n < r.min {
                continue 'alts;
            }
            if a.ask_at_max && n == r.max {
                return None;
            }
            pos += n;
            if !r.then.is_empty() {
                if !has(pos, r.then) {
                    continue 'alts;
                }
                pos += r.then.len();
            }
        }
        if a.boundary && b.get(pos).is_some_and(|&c| is_word(c)) {
            continue;
        }
        return Some(Some((a.pid, pos)));
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::super::detect::{BUILTIN, LITERAL, LITERAL_TYPES, group_of};
    use super::*;
    use regex_automata::meta;

    /// The group's regex as `detect.rs` builds it with every type on.
    fn group_regex() -> meta::Regex {
        let (types, patterns): (Vec<_>, Vec<_>) = BUILTIN
            .iter()
            .filter(|(t, _)| group_of(*t) == LITERAL)
            .map(|(t, p)| (*t, p.replace(r"\b", r"(?-u:\b)")))
            .unzip();
        assert_eq!(types, LITERAL_TYPES);
        meta::Regex::new_many(&patterns).unwrap()
    }

    /// Compares the hand reading with the regex at every place of `s`, for two bounds.
    fn compare(re: &meta::Regex, s: &str, decided: &mut usize, matched: &mut usize) {
        let mut counts = (0, 0);
        crate::redact::compare_with_regex(re, literal_match, s, 3, &mut counts);
        *decided += counts.0;
        *matched += counts.1;
    }

    #[test]
    fn literal_group_by_hand_is_the_regex() {
        let re = group_regex();
        let mut pieces: Vec<&[u8]> = ALTS
            .iter()
            .flat_map(|a| a.prefixes.iter().copied())
            .collect();
        pieces.extend_from_slice(&[
            b"eyJ",
            b"gh",
            b"sk",
            b"SK",
            b"AC",
            b"xox",
            b"gl",
            b".",
            b"-",
            b"_",
            b" ",
            b"=",
            b"/",
            b"+",
            b"~",
            b"\xea\xb0\x80",
            b"..",
            b"-1-",
            b"(",
        ]);
        // Bytes to make runs of: lower and upper hex, other letters, digits, `_`, `-`.
        let runs: [&[u8]; 7] = [
            b"0123456789abcdef",
            b"0123456789ABCDEF",
            b"ghijklmnopqrstuvwxyz",
            b"GHIJKLMNOPQRSTUVWXYZ",
            b"0123456789",
            b"aZ9_-",
            b"aZ9.+/=",
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize
        };
        let (mut decided, mut matched) = (0, 0);
        for _ in 0..6_000 {
            let mut s = Vec::new();
            for _ in 0..1 + next() % 6 {
                if next() % 2 == 0 {
                    s.extend_from_slice(pieces[next() % pieces.len()]);
                } else {
                    let class = runs[next() % runs.len()];
                    // Mostly near the fixed lengths, sometimes past the longest bound.
                    let len = match next() % 8 {
                        0 => 240 + next() % 20,
                        1..=3 => 16 + next() % 52,
                        _ => next() % 24,
                    };
                    for _ in 0..len {
                        s.push(class[next() % class.len()]);
                    }
                }
            }
            let s = String::from_utf8(s).unwrap();
            compare(&re, &s, &mut decided, &mut matched);
        }
        assert!(decided > 100_000 && matched > 500, "{decided} {matched}");
        // The test corpora's lines and the documents they hold, at every place.
        for text in crate::redact::corpus_texts() {
            compare(&re, &text, &mut decided, &mut matched);
        }
    }
}
