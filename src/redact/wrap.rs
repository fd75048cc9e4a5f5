//! Tokens cut by a fixed-width wrap: a log shipper or a terminal that breaks lines at 80
//! columns (MIME base64 at 76, PEM bodies at 64) writes the rest of a long token at the
//! start of the next line, with no separator (`…QuAKUW⏎Ss⏎INFO …`).
//!
//! A line is taken as wrapped when it is exactly as long as a wrap width ([`WIDTHS`]:
//! 64, 72, 76, 80, 100, 120, 128, 132 or 160 characters; a line that is merely long, as
//! a `.env` line with a long key is, ends where its writer ended it), ends in a byte of
//! a token's alphabet and the next line starts with one (no indentation). The
//! next line's leading run of the alphabet (its *continuation*) belongs to the token
//! when:
//!
//! - a match of a variable-length token type ends exactly at the line feed: the match
//!   is extended over the continuation; or
//! - the token the line ends with, joined to the continuation, holds a match that
//!   crosses the cut (a vendor key shorter than its format on the first line, which
//!   alone matched nothing): that match is taken, mapped back across the line feed.
//!
//! A continuation runs to the end of its line, or to a space or tab when it holds both a
//! letter and a digit and does not start like a date or a time, and opens no `key=`
//! pair of its own (unless the token is a URL with a query): a level (`INFO`), a timestamp, a class name or an indented line
//! that follows a full line is not one, and stays.

use super::context::Key;
use super::detect::{Caches, Detectors, Found};
use super::{PiiType, TypeId};

/// The widths lines are wrapped at: PEM bodies (64), mail text (72), MIME base64 (76),
/// consoles and log shippers (80, 100, 120, 132), and wider terminals.
const WIDTHS: [usize; 9] = [64, 72, 76, 80, 100, 120, 128, 132, 160];

/// The narrowest wrap width taken.
const MIN_WIDTH: usize = WIDTHS[0];

/// The longest line, in bytes, whose characters may be as many as the widest width: a
/// character is at most four bytes, so a longer line has more characters than any
/// width and is not counted.
const MAX_WIDTH_BYTES: usize = 4 * WIDTHS[WIDTHS.len() - 1];

/// The longest token read back from the end of a wrapped line.
const MAX_TAIL: usize = 1024;

/// A byte of a token's alphabet: base64 and base64url, hex, URL paths and queries,
/// percent escapes.
#[inline(always)]
fn token_byte(c: u8) -> bool {
    TOKEN_BYTE[usize::from(c)]
}

/// [`token_byte`] of every byte, in one table.
static TOKEN_BYTE: [bool; 256] = super::byte_table(b"-_.+/=~%:?&#@!$*", false);

/// The types whose matches have no fixed length, so a wrapped one goes on past the line
/// feed.
fn extends(ty: TypeId) -> bool {
    [
        PiiType::Jwt,
        PiiType::AuthHeader,
        PiiType::GithubToken,
        PiiType::SlackToken,
        PiiType::ApiKey,
        PiiType::UrlSecret,
        PiiType::UrlPassword,
        PiiType::Secret,
        PiiType::WebhookUrl,
    ]
    .into_iter()
    .any(|t| ty == TypeId::builtin(t))
}

/// The end of the continuation that starts at `b[at]` (a token byte), or `None` when
/// the run there is not one.
fn continuation(b: &[u8], at: usize) -> Option<usize> {
    let end = at
        + b[at..]
            .iter()
            .position(|&c| !token_byte(c))
            .unwrap_or(b.len() - at);
    match b.get(end) {
        None | Some(b'\r' | b'\n') => Some(end),
        Some(b' ' | b'\t') => {
            let run = &b[at..end];
            (run.iter().any(u8::is_ascii_digit)
                && run.iter().any(u8::is_ascii_alphabetic)
                && !time_like(run))
            .then_some(end)
        }
        Some(_) => None,
    }
}

/// Two to four digits and a date's or a time's separator: `2026-12-07T…`, `04:20:44`,
/// `07/12/2026`, `12.07.2026`.
fn time_like(run: &[u8]) -> bool {
    let digits = run.iter().take_while(|c| c.is_ascii_digit()).count();
    (2..=4).contains(&digits) && matches!(run.get(digits), Some(b'-' | b'/' | b':' | b'.'))
}

/// The run of token bytes that ends the line `b[start..end]`, at most [`MAX_TAIL`]
/// bytes.
fn tail(b: &[u8], start: usize, end: usize) -> &[u8] {
    let floor = end.saturating_sub(MAX_TAIL).max(start);
    let lo = b[floor..end]
        .iter()
        .rposition(|&c| !token_byte(c))
        .map_or(floor, |i| floor + i + 1);
    &b[lo..end]
}

/// Whether continuation `cont` opens a `key=value` pair of its own (`POSTAL_CODE=…`, as
/// the next line of a `.env` file or a journal export does) rather than going on with
/// `token`: a name and `=` start it, and `token` is no URL with a query, whose next
/// parameter it could be.
fn new_pair(cont: &[u8], token: &[u8]) -> bool {
    let name = cont
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        .count();
    name > 0
        && cont[0].is_ascii_alphabetic()
        && cont.get(name) == Some(&b'=')
        && !token.contains(&b'?')
}

impl Detectors {
    /// Joins tokens cut at a wrapped line's end to their continuation (module doc).
    /// `found` holds the matches of `hay`, in order and not overlapping, and keeps that.
    /// `first_newline`: where `hay`'s first line feed is.
    pub(crate) fn join_wrapped(
        &self,
        caches: &mut Caches,
        hay: &str,
        first_newline: usize,
        key: Key<'_>,
        enabled: impl Fn(PiiType) -> bool,
        found: &mut Vec<Found>,
    ) {
        let b = hay.as_bytes();
        let mut line_start = 0;
        let mut nl = first_newline;
        let mut joined = String::new();
        let mut mine = Vec::new();
        while nl < b.len() {
            let next = nl + 1;
            let line_end = if nl > line_start && b[nl - 1] == b'\r' {
                nl - 1
            } else {
                nl
            };
            let after = memchr::memchr(b'\n', &b[next..]).map_or(b.len(), |i| next + i);
            if (MIN_WIDTH..=MAX_WIDTH_BYTES).contains(&(line_end - line_start))
                && line_end > line_start
                && token_byte(b[line_end - 1])
                && next < b.len()
                && token_byte(b[next])
                && WIDTHS.contains(&hay[line_start..line_end].chars().count())
                && let Some(cont) = continuation(b, next)
                && !new_pair(&b[next..cont], tail(b, line_start, line_end))
            {
                if let Some(f) = found
                    .iter_mut()
                    .find(|f| f.end == line_end && extends(f.ty))
                {
                    f.end = cont;
                } else if !found.iter().any(|f| f.start < line_end && f.end > line_end) {
                    // The token the line ends with, joined to its continuation.
                    let lo = line_end - tail(b, line_start, line_end).len();
                    let cut = line_end - lo;
                    joined.clear();
                    joined.push_str(&hay[lo..line_end]);
                    joined.push_str(&hay[next..cont]);
                    mine.clear();
                    self.find(caches, &joined, key, &enabled, &mut mine);
                    if let Some(m) = mine.iter().find(|m| m.start < cut && m.end > cut) {
                        let f = Found {
                            start: lo + m.start,
                            end: next + (m.end - cut),
                            ty: m.ty,
                        };
                        found.retain(|g| g.end <= f.start || g.start >= f.end);
                        let at = found.partition_point(|g| g.start < f.start);
                        found.insert(at, f);
                    }
                }
            }
            line_start = next;
            nl = after;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_WIDTH_BYTES, WIDTHS};
    use crate::config::RedactionConfig;
    use crate::redact::Redactor;

    fn redact(s: &str) -> String {
        let r = Redactor::new(&RedactionConfig::default()).unwrap();
        r.session().redact_str(s).unwrap_or_else(|| s.to_string())
    }

    /// `s` cut into lines of `width` characters, as `fold -w` and a console do: no
    /// separator added, the break anywhere.
    fn fold(s: &str, width: usize) -> String {
        let mut out = String::new();
        for line in s.split('\n') {
            let chars: Vec<char> = line.chars().collect();
            for (i, part) in chars.chunks(width).enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out.extend(part);
            }
            out.push('\n');
        }
        out.pop();
        out
    }

    /// `n` characters of `alphabet`, spread by a multiplicative step (a key body).
    fn body(n: usize, alphabet: &[u8], seed: usize) -> String {
        (0..n)
            .map(|i| char::from(alphabet[(seed + i * 37 + i / 5) % alphabet.len()]))
            .collect()
    }

    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// Every part of a folded value is gone, and the lines after it are kept.
    fn cut_and_gone(line: &str, value: &str, after: &str, width: usize) {
        let text = fold(&format!("{line}{value}\n{after}"), width);
        let out = redact(&text);
        let folded = fold(&format!("{line}{value}"), width);
        for part in folded.split('\n') {
            let piece = part.strip_prefix(line).unwrap_or(part);
            assert!(
                piece.len() < 4 || !out.contains(piece),
                "{piece:?} left in {out:?}"
            );
        }
        assert!(out.ends_with(&format!("\n{after}")), "{out:?}");
    }

    #[test]
    fn lines_longer_than_the_byte_bound_have_no_wrap_width() {
        // Characters of one to four bytes, lines of 60 to 700 characters: a line whose
        // characters number a width has at most `MAX_WIDTH_BYTES` bytes.
        let chars = ['a', 'é', '한', '😀'];
        let mut next = crate::redact::xorshift(0x6a09_e667_f3bc_c908);
        let (mut widths, mut long) = (0, 0);
        for _ in 0..20_000 {
            let n = 60 + (next() % 641) as usize;
            let line: String = (0..n).map(|_| chars[(next() % 4) as usize]).collect();
            let width = WIDTHS.contains(&line.chars().count());
            assert!(
                !width || line.len() <= MAX_WIDTH_BYTES,
                "{n} {}",
                line.len()
            );
            widths += usize::from(width);
            long += usize::from(line.len() > MAX_WIDTH_BYTES);
        }
        let widest = "😀".repeat(WIDTHS[WIDTHS.len() - 1]);
        assert_eq!(widest.len(), MAX_WIDTH_BYTES);
        assert!(widths > 100 && long > 5_000, "{widths} {long}");
    }

    #[test]
    fn tokens_cut_at_the_wrap_width_are_redacted_whole() {
        let after = "INFO  ttl: P17W\nINFO  barcode: 915160829623";
        // A Stripe secret key (`sk_live_` and 99 base62) runs into the next line.
        let stripe = format!("sk_live_{}", body(99, BASE62, 3));
        cut_and_gone("WARN  charge failed, key ", &stripe, after, 80);
        // A SendGrid key (`SG.` 22 `.` 43) cut two characters short: alone, the first
        // line holds no key.
        let sendgrid = format!("SG.{}.{}", body(22, BASE64URL, 5), body(43, BASE64URL, 9));
        cut_and_gone("INFO  value: ", &sendgrid, after, 80);
        // A Slack incoming webhook, cut inside its path.
        let hook = format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            body(8, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 1),
            body(8, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 2),
            body(24, BASE62, 4)
        );
        cut_and_gone("DEBUG notify via ", &hook, after, 80);
        // A JWT over three lines of 64 (a PEM-like width).
        let jwt = format!(
            "eyJhbGciOiJIUzI1NiJ9.eyJ{}.{}",
            body(80, BASE64URL, 6),
            body(43, BASE64URL, 8)
        );
        cut_and_gone("auth ok for session ", &jwt, after, 64);
        // An Anthropic admin key at 76 (MIME base64's width).
        let ant = format!("sk-ant-admin01-{}AA", body(93, BASE64URL, 7));
        cut_and_gone("DEBUG anthropicKey: ", &ant, "DEBUG done", 76);
    }

    #[test]
    fn the_lines_after_a_wrapped_line_are_kept() {
        // A Stripe key that ends a full line: what follows is not its continuation.
        let full = format!("WARN  key sk_live_{}", body(62, BASE62, 11));
        assert_eq!(full.len(), 80);
        for next in [
            "INFO  ttl: P17W",
            "2026-12-07T04:20:44Z worker started",
            "  indented continuation of a message",
            "\tat com.example.Service.run(Service.java:12)",
            "c.e.account.ProfileService update failed",
            "done in 12ms",
        ] {
            let text = format!("{full}\n{next}");
            let out = redact(&text);
            assert!(out.ends_with(&format!("\n{next}")), "{out:?}");
            assert!(!out.contains("sk_live_"), "{out:?}");
        }
        // A line longer than a wrap width ended where its writer ended it: the `.env`
        // line after a long key stays.
        let sendgrid = format!("SG.{}.{}", body(22, BASE64URL, 5), body(43, BASE64URL, 9));
        let env = format!("SENDGRID_API_KEY={sendgrid}\nPOD=payment-worker-0");
        let out = redact(&env);
        assert!(
            !out.contains("SG.") && out.ends_with("\nPOD=payment-worker-0"),
            "{out:?}"
        );
        // A line of a wrap width that ends a pair, then a pair: the next line stays.
        let journal = format!(
            "MESSAGE=Cookie: _gitlab_session={}\nPOSTAL_CODE=61816-8855",
            body(32, b"0123456789abcdef", 3)
        );
        assert_eq!(journal.find('\n'), Some(64));
        let out = redact(&journal);
        assert!(out.ends_with("\nPOSTAL_CODE=61816-8855"), "{out:?}");
        // A key that ends a short line is no wrap: the next line stays.
        let short = format!("token: {}\nPU912565521700352851", body(24, BASE62, 2));
        let out = redact(&short);
        assert!(out.ends_with("\nPU912565521700352851"), "{out:?}");
        // A key of fixed length (AWS access key id) at a full line's end ends there.
        let aws = format!("{}AKIAIOSFODNN7EXAMPLE\nINFOabc", "x ".repeat(30));
        let out = redact(&aws);
        assert!(
            !out.contains("AKIAIOSFODNN7EXAMPLE") && out.ends_with("\nINFOabc"),
            "{out:?}"
        );
    }
}
