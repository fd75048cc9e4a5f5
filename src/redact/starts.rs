//! What a place must look like for a match to start there: the tests the scan pass
//! (`scan.rs`) applies where it stops. Each is a necessary condition of the patterns in
//! `detect.rs` (a superset of their matches), never a narrower one.

use super::anchored::alnum_len;
use super::detect::{BRN, CARD, IPV4, PHONE, PHONE_INTL, RESIDENT, SSN};

/// Whether a word the `secret` pattern starts with begins at `word[s]` (ASCII
/// case-insensitively, `s + 1 < word.len()`); a superset: `api` stands for `api_key`,
/// `apikey`, `api-key`, `pw` for `pwd` and `pw`, `auth` for `authorization` and `auth`,
/// `sess` for `session`, `sessionid` and `PHPSESSID`'s `sessid`. First its first two
/// letters (every keyword has three or more), then the rest. The scan asks it in a
/// loop of its own, where it is inlined (a closure of an iterator's filter was not).
#[inline(always)]
pub(super) fn keyword_at(word: &[u8], s: usize) -> bool {
    let second = (word[s + 1] | 0x20).wrapping_sub(b'a');
    second < 26 && KEYWORD_PAIRS[usize::from(word[s])] & (1 << second) != 0 && keyword_rest(word, s)
}

/// Every place in `word` where [`keyword_at`] finds a keyword.
#[cfg(test)]
pub(super) fn keyword_starts(word: &[u8]) -> impl Iterator<Item = usize> + '_ {
    (0..word.len().saturating_sub(1)).filter(move |&s| keyword_at(word, s))
}

/// [`keyword_at`] after its first two letters.
fn keyword_rest(word: &[u8], s: usize) -> bool {
    let tail = |t: &[u8]| {
        word.get(s + 1..s + 1 + t.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(t))
    };
    match word[s].to_ascii_lowercase() {
        b'p' => tail(b"ass") || tail(b"w") || tail(b"rivate") || tail(b"in"),
        b's' => tail(b"ecret") || tail(b"ess") || tail(b"id") || tail(b"ignature") || tail(b"sn"),
        b't' => tail(b"oken"),
        b'k' => tail(b"ey"),
        b'a' => tail(b"pi") || tail(b"ccess") || tail(b"uth"),
        b'c' => tail(b"ard") || tail(b"vv") || tail(b"vc") || tail(b"ookie") || tail(b"redential"),
        _ => false,
    }
}

/// Whether a `secret` keyword may start with bytes `a`, `b`: true wherever
/// [`keyword_at`] passes its first test (and at a few more places: a byte that is
/// not a letter may land on a letter's bit).
pub(super) fn may_start_keyword(a: u8, b: u8) -> bool {
    let second = (b | 0x20).wrapping_sub(b'a') & 31;
    KEYWORD_PAIRS[usize::from(a)] & (1 << second) != 0
}

/// Per first byte of a `secret` keyword (either case), its possible second letters
/// (bit `n` for the `n`th letter).
static KEYWORD_PAIRS: [u32; 256] = keyword_pairs();

const fn keyword_pairs() -> [u32; 256] {
    const PAIRS: [(u8, &[u8]); 6] = [
        (b'p', b"awri"),
        (b's', b"eis"),
        (b't', b"o"),
        (b'a', b"pcu"),
        (b'c', b"avor"),
        (b'k', b"e"),
    ];
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < PAIRS.len() {
        let (first, seconds) = PAIRS[i];
        let mut j = 0;
        while j < seconds.len() {
            let bit = 1 << (seconds[j] - b'a');
            t[first as usize] |= bit;
            t[first.to_ascii_uppercase() as usize] |= bit;
            j += 1;
        }
        i += 1;
    }
    t
}

/// The parameter names of the `url_secret` pattern (`detect.rs`), which a test there
/// checks against it.
pub(crate) const URL_SECRET_NAMES: [&[u8]; 27] = [
    b"access_token",
    b"refresh_token",
    b"id_token",
    b"token",
    b"password",
    b"passwd",
    b"pwd",
    b"secret",
    b"client_secret",
    b"api_key",
    b"apikey",
    b"api-key",
    b"auth",
    b"sig",
    b"signature",
    b"session",
    b"sessionid",
    b"session_id",
    b"PHPSESSID",
    b"JSESSIONID",
    b"code",
    // Signed URLs: CloudFront's and the version-2 signatures of S3 and Cloud Storage
    // (`Signature`), S3's and Cloud Storage's version-4 ones (Azure's SAS is `sig`).
    b"Signature",
    b"X-Amz-Signature",
    b"X-Amz-Credential",
    b"X-Amz-Security-Token",
    b"X-Goog-Signature",
    b"X-Goog-Credential",
];

/// Korean names of a password that start the `secret` pattern before a `:` or `=`.
pub(super) const KOREAN_PASSWORD: [&str; 4] = ["비밀번호", "패스워드", "비번", "암호"];

/// The first bytes of a vendor key's prefix, up to and including its first `_` or `-`
/// (the scan sees those separators): keys that start with a lowercase letter. Those
/// that start with a capital, `g` or `x` are found at their word start.
pub(super) const VENDOR_PREFIXES: [&[u8]; 19] = [
    b"sk_", b"rk_", b"pk_", b"whsec_", b"sk-", b"npm_", b"pypi-", b"key-", b"shpat_", b"shpca_",
    b"shppa_", b"shpss_", b"dop_", b"doo_", b"dor_", b"hf_", b"sq0atp-", b"sq0csp-", b"lin_",
];

/// Webhook hosts that carry their secret in the path: (host, or a host suffix when it
/// starts with `.`; path prefix).
pub(super) const WEBHOOK_HOSTS: [(&[u8], &[u8]); 13] = [
    (b"hooks.slack.com", b"/services/"),
    (b"hooks.slack.com", b"/workflows/"),
    (b"hooks.slack.com", b"/triggers/"),
    (b"discord.com", b"/api/webhooks/"),
    (b"discordapp.com", b"/api/webhooks/"),
    (b".discord.com", b"/api/webhooks/"),
    (b".webhook.office.com", b"/webhookb2/"),
    (b"outlook.office.com", b"/webhook/"),
    (b"chat.googleapis.com", b"/v1/spaces/"),
    (b"hooks.zapier.com", b"/hooks/catch/"),
    (b"api.telegram.org", b"/bot"),
    (b"maker.ifttt.com", b"/trigger/"),
    (b"events.pagerduty.com", b"/integration/"),
];

/// Whether the URL whose `://` starts at `colon` goes to a webhook host with a
/// secret path.
pub(super) fn webhook_host(b: &[u8], colon: usize) -> bool {
    let rest = &b[colon + 3..];
    let host_end = rest
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-')))
        .unwrap_or(rest.len());
    let host = &rest[..host_end];
    // A port may follow the host.
    let mut path = &rest[host_end..];
    if path.first() == Some(&b':') {
        let digits = path[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        path = &path[1 + digits..];
    }
    WEBHOOK_HOSTS.iter().any(|(h, p)| {
        let host_ok = if h[0] == b'.' {
            host.len() > h.len() && host[host.len() - h.len()..].eq_ignore_ascii_case(h)
        } else {
            host.eq_ignore_ascii_case(h)
        };
        host_ok && path.len() > p.len() + 8 && path[..p.len()].eq_ignore_ascii_case(p)
    }) || mattermost_hook(path)
}

/// The alphabet of Mattermost's ids (its `model.NewId`: 16 random bytes in base32 with
/// this alphabet, the padding cut: 26 characters).
const MATTERMOST_ID: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";

/// A Mattermost incoming webhook's path on any host: `/hooks/` and an id of 26
/// characters of its alphabet (a digit among them), ending the path. Another id under
/// `/hooks/` is not one.
fn mattermost_hook(path: &[u8]) -> bool {
    let Some(id) = path.strip_prefix(b"/hooks/") else {
        return false;
    };
    id.len() >= 26
        && id[..26].iter().all(|c| MATTERMOST_ID.contains(c))
        && id[..26].iter().any(u8::is_ascii_digit)
        && id
            .get(26)
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/')))
}

pub(super) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Where an e-mail whose `@` is at `at` can start: its quoted local part (`"john doe"@`,
/// the quotes maybe escaped by up to three `\`), or the run of local-part characters
/// before it (letters and digits of any script, `._%+-`).
pub(super) fn local_part_start(b: &[u8], at: usize) -> usize {
    if let Some(s) = quoted_start(b, at) {
        return s;
    }
    let mut s = at;
    while s > 0 {
        let c = b[s - 1];
        if c.is_ascii() {
            if !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')) {
                break;
            }
            s -= 1;
            continue;
        }
        // The start of the character that ends at `s`, at most four bytes back.
        let Some(k) = (1..=4.min(s)).find(|&k| b[s - k] & 0xc0 != 0x80) else {
            break;
        };
        if alnum_len(b, s - k, s) != k {
            break;
        }
        s -= k;
    }
    s
}

/// The start of a quoted local part `"…"` (each quote after up to three `\`) that ends
/// right before `@` at `at`: 1 to 64 characters, none of them `"`, `\` or a line break.
fn quoted_start(b: &[u8], at: usize) -> Option<usize> {
    let escapes = |end: usize| {
        b[..end]
            .iter()
            .rev()
            .take(3)
            .take_while(|&&c| c == b'\\')
            .count()
    };
    let close = at.checked_sub(1).filter(|&q| b[q] == b'"')?;
    let content_end = close - escapes(close);
    // 64 characters are at most 256 bytes.
    let lo = content_end.saturating_sub(257);
    let open = b[lo..content_end]
        .iter()
        .rposition(|c| matches!(c, b'"' | b'\\' | b'\r' | b'\n'))
        .map(|i| lo + i)
        .filter(|&o| b[o] == b'"' && o + 1 < content_end)?;
    let chars = b[open + 1..content_end]
        .iter()
        .filter(|&&c| c & 0xc0 != 0x80)
        .count();
    (chars <= 64).then(|| open - escapes(open))
}

/// Where a URL whose `://` is at `colon` can start: the scheme's bytes before it.
pub(super) fn scheme_start(b: &[u8], colon: usize) -> usize {
    colon
        - b[..colon]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
            .count()
}

/// The numeric groups whose pattern can match somewhere in `span` (a superset).
/// `runs`: its runs of digits (start, length), in order; `plus`: it holds a `+`.
/// Inlined into the scan's loop with [`run_shapes`]: out of line, the call and its
/// tables cost 0.6% of a JSON pass (the compiler stopped inlining them as the loop grew).
#[inline(always)]
pub(super) fn shapes(span: &[u8], runs: &[(usize, usize)], digits: usize, plus: bool) -> u32 {
    // Without a `+`, every group needs nine digits or more (SSN 3-2-4, a phone with
    // its leading `0`; the others more) or four runs (IPv4): dates, times, sizes and
    // status codes end here.
    if !plus && digits < 9 && runs.len() < 4 {
        return 0;
    }
    run_shapes(span, runs, digits, plus)
}

/// [`shapes`] without its early answer for short spans.
#[inline(always)]
fn run_shapes(span: &[u8], runs: &[(usize, usize)], digits: usize, plus: bool) -> u32 {
    // Runs of digits, at most 32 looked at (more: every group): start, length, and the
    // byte after it when exactly one byte separates it from the next run (else 0,
    // which no test wants). Three zeroed entries past the last let the tests look
    // ahead without bounds checks.
    const MAX: usize = 32;
    if runs.len() > MAX || span.len() > usize::from(u16::MAX) {
        return u32::MAX;
    }
    let n = runs.len();
    let mut starts = [0u16; MAX + 3];
    let mut lens = [0u16; MAX + 3];
    let mut seps = [0u8; MAX + 3];
    for (r, &(s, l)) in runs.iter().enumerate() {
        // Both fit: `span` is no longer than a `u16` counts.
        starts[r] = s as u16;
        lens[r] = l as u16;
        if let Some(&(next, _)) = runs.get(r + 1)
            && next == s + l + 1
        {
            seps[r] = span[s + l];
        }
    }
    let bit = |g: usize| 1u32 << g;
    let mut groups = 0;
    if plus && digits >= 8 {
        groups |= bit(PHONE_INTL);
    }
    let mut chain = 0;
    for r in 0..n {
        let (s, l, sep) = (usize::from(starts[r]), lens[r], seps[r]);
        let first = span[s];
        let dashed = |a: u16, b: u16, c: u16| {
            l == a && sep == b'-' && lens[r + 1] == b && seps[r + 1] == b'-' && lens[r + 2] == c
        };
        // `900101-1234567`, `900101 1234567`, `900101 - 1234567`.
        let spaced_dash = l == 6
            && lens[r + 1] == 7
            && usize::from(starts[r + 1]) == s + 9
            && &span[s + 6..s + 9] == b" - ";
        if l == 13 || (l == 6 && matches!(sep, b' ' | b'-') && lens[r + 1] == 7) || spaced_dash {
            groups |= bit(RESIDENT);
        }
        if dashed(3, 2, 5) {
            groups |= bit(BRN);
        }
        if dashed(3, 2, 4) {
            groups |= bit(SSN);
        }
        chain += usize::from(l);
        if chain >= 13 {
            groups |= bit(CARD);
        }
        if !matches!(sep, b' ' | b'-') {
            chain = 0;
        }
        if (first == b'0' && digits >= 9)
            || (first == b'8' && s > 0 && span[s - 1] == b'+' && l >= 2 && span[s + 1] == b'2')
        {
            groups |= bit(PHONE);
        }
        if l <= 3
            && r + 3 < n
            && seps[r..r + 3].iter().all(|&x| x == b'.')
            && lens[r + 1..r + 4].iter().all(|&x| x <= 3)
        {
            groups |= bit(IPV4);
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mattermost_incoming_webhooks_on_any_host() {
        // Ids of 26 characters of Mattermost's base32 alphabet.
        let id: String = (0..26)
            .map(|i| char::from(MATTERMOST_ID[(i * 7 + 3) % 32]))
            .collect();
        let hook = |host: &str, path: &str| {
            let url = format!("https://{host}{path}");
            webhook_host(url.as_bytes(), url.find("://").unwrap())
        };
        for tail in ["", "?channel=town-square", "\"", " sent", "#x"] {
            assert!(
                hook("chat.example.com", &format!("/hooks/{id}{tail}")),
                "{tail}"
            );
        }
        assert!(hook("mm.example.org:8065", &format!("/hooks/{id}")));
        // Other ids under `/hooks/`: too short or long, other characters, a path on.
        for path in [
            format!("/hooks/{}", &id[..25]),
            format!("/hooks/{id}y"),
            format!("/hooks/{}", id.to_uppercase()),
            format!("/hooks/{}l", &id[..25]),
            format!("/hooks/{}0", &id[..25]),
            format!("/hooks/{id}/status"),
            format!("/api/hooks/{id}"),
            "/hooks/bysbnydrfgejkmcpqxotuwisza".to_string(),
            "/hooks/deployment-notifications".to_string(),
        ] {
            assert!(!hook("chat.example.com", &path), "{path}");
        }
    }

    #[test]
    fn short_spans_without_a_plus_fit_no_shape() {
        // Every span of up to eight digits in up to three runs, over separators and
        // lengths, with the first digit `0`, `8` or another.
        let seps = [b'-', b' ', b'.', b'/', b'(', b')'];
        let mut next = crate::redact::xorshift(0x243f_6a88_85a3_08d3u64);
        for _ in 0..50_000 {
            let n = 1 + next() as usize % 3;
            let mut span = Vec::new();
            let mut runs = Vec::new();
            let mut digits = 0;
            for r in 0..n {
                if r > 0 {
                    span.push(seps[next() as usize % seps.len()]);
                }
                let l = 1 + next() as usize % 7;
                runs.push((span.len(), l));
                for _ in 0..l {
                    span.push([b'0', b'8', b'2', b'5'][next() as usize % 4]);
                }
                digits += l;
            }
            if digits < 9 {
                assert_eq!(run_shapes(&span, &runs, digits, false), 0, "{span:?}");
            }
        }
    }
}
