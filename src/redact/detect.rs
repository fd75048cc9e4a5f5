//! Detection: every enabled detector, built-in and custom, compiled into a few
//! multi-pattern regexes ([`meta::Regex::new_many`]); validators (Luhn, dates, mod-97, …)
//! run only on their candidates.
//!
//! # Why a few groups and not one automaton
//!
//! One union of all 21 built-in patterns scanned the corpus at about 3 MB/s: their bounded repetitions
//! (`[0-9]{2}…[0-9]{7}`, `(?:[ -]?[0-9]){11,17}`, e-mail local parts, `key=` prefixes) are
//! alive at once inside any run of letters or digits, the lazy DFA's states multiply and
//! it gives up. So the patterns are grouped by what starts a match, and one pass over the
//! string (`scan.rs`) says where each group can start:
//!
//! - `literal` (`eyJ`, `ghp_`, `xox`, `AIza`, `AKIA`, `Bearer`), `alnum` (IBAN, passport),
//!   `email`, `url_secret` (`?token=…`), `pem`, `secret` (`password=…`, `"api_key": …`)
//!   and `url_password`: at exact places (a word start with the right prefix, the start
//!   of the local part before an `@`, a `?`/`&`/`;` before `name=`, a keyword inside the
//!   word before a `:` or `=`, a word start in the scheme before a `://` followed by an
//!   `@`), each tried with an anchored search — forward only, nothing in between. With
//!   the default patterns on, `literal`, `secret`, `url_secret`, `email` and `alnum` read
//!   that search by hand (`literal.rs`, `secret.rs`, `anchored.rs`: the regex's match,
//!   which a differential test checks); any other set of types uses the regex;
//! - `ipv6`: from the first place it can start (the hex group before the first `:` when
//!   there is a `::` or seven colons);
//! - numbers (resident, card, business, social security, phones, IPv4), each only inside
//!   spans of digits and separators whose shape fits it (a 13-digit run or 6+7 for a
//!   resident number, 3-2-4 dashed for an SSN, four dotted runs for IPv4, …), anchored at
//!   the span's run starts, `+` and `(`;
//! - custom detectors, as written, over the whole string.
//!
//! Every test in that pass is a necessary condition of its patterns, so the matches are
//! the same as searching every group over the whole string (checked on the corpus and
//! 30,000 mutated lines against the earlier whole-string search).
//!
//! Built-in patterns match ASCII only and use ASCII word boundaries (`(?-u:\b)`), which the
//! lazy DFA handles on any text, Korean included (a Unicode `\b` would make it give up on
//! the first non-ASCII byte). When a candidate fails its validator, the group's other
//! patterns are tried anchored at the same place before the search moves on by one
//! character, so a failed card candidate cannot hide a resident number that starts at the
//! same digit. Matches of different groups are merged: the earliest start wins, then the
//! group listed first.

use regex_automata::meta::{self, Cache};
use regex_automata::{Anchored, Input, PatternID};

use crate::config::{CustomDetector, RedactionConfig};
use crate::redact::{PiiType, Validator};
use crate::user_regex::compile_set;

use super::context::{self, Hint, Key};
use super::keys::{self, KeyClass, KeyRules};
use super::scan::Scan;
use super::{
    RedactError, TypeId, anchored, cef, columns, literal, markdown, marked, numbers, phones,
    secret, validate,
};

/// One match to redact: a byte span of the scanned string and its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pub start: usize,
    pub end: usize,
    pub ty: TypeId,
}

/// What a pattern is, and so how its candidates are validated.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Builtin(PiiType),
    /// A resident or foreigner number: the validator decides which.
    Resident,
    Custom(TypeId, Option<Validator>),
}

/// The characters past ASCII an e-mail address may hold: those `anchored::intl` takes.
macro_rules! intl {
    () => {
        r"[^\x00-\xBF\xD7\xF7\u{2000}-\u{2BFF}\u{3000}-\u{303F}\u{FE30}-\u{FE4F}\u{FF00}-\u{FF0F}\u{FF1A}-\u{FF20}\u{FF3B}-\u{FF40}\u{FF5B}-\u{FF65}\u{FFF0}-\u{FFFF}\u{1F000}-\u{1FAFF}]"
    };
}

/// Built-in patterns in priority order (the first wins when two start at the same place).
/// `\b` is replaced by an ASCII word boundary.
pub(super) const BUILTIN: &[(PiiType, &str)] = &[
    (
        // PKCS#1, SEC1, PKCS#8 (also encrypted), OpenSSH and PGP blocks; legacy
        // encrypted ones carry `Proc-Type:` / `DEK-Info: AES-128-CBC,…` headers. The END
        // line is optional: a logger may cut the block.
        PiiType::PrivateKey,
        r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s\\:,.]|-[A-Za-z0-9])*(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?",
    ),
    (
        PiiType::Jwt,
        // A JWS (RFC 7515: its payload is JSON too) or a JWE (RFC 7516: five parts, the
        // second empty for direct encryption); both compact forms are JWTs (RFC 7519 §3).
        r"\beyJ[A-Za-z0-9_-]{5,}\.(?:eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*|[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,})",
    ),
    (
        PiiType::UrlPassword,
        r"\b[A-Za-z][A-Za-z0-9+.-]{1,15}://[A-Za-z0-9._~%!$&'()*+,;=-]*:[A-Za-z0-9._~%!$&'()*+,;=-]+@",
    ),
    (
        PiiType::AuthHeader,
        r"\b(?:[Bb]earer|BEARER|[Bb]asic|BASIC)[ ]+[A-Za-z0-9._~+/-]{8,}=*",
    ),
    (
        PiiType::GithubToken,
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,247})\b",
    ),
    // Slack's token families: bot, user, app (legacy), refresh, rotation, legacy
    // session and workspace, the web client's `xoxc-`; the web client's `d` cookie
    // (`xoxd-`) is URL-encoded base64 (`%2F`, `%2B`, `%3D`), or decoded (`/`, `+`, `=`).
    (
        PiiType::SlackToken,
        r"\bxox(?:[abposrec]-[A-Za-z0-9-]{10,250}|d-[A-Za-z0-9%+/=-]{10,250})",
    ),
    (PiiType::GoogleApiKey, r"\bAIza[0-9A-Za-z_-]{35}"),
    (
        // Vendor-prefixed keys, by their published formats: Stripe secret, restricted
        // and publishable keys and webhook secrets, SendGrid, Twilio API key and Account SIDs,
        // OpenAI and Anthropic, npm, PyPI, GitLab, Grafana, Mailgun, Shopify,
        // DigitalOcean, Hugging Face, Square, Linear, Postman, New Relic, Slack app
        // tokens.
        PiiType::ApiKey,
        concat!(
            r"\b(?:(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{10,247}",
            r"|whsec_[A-Za-z0-9+/=]{24,100}",
            r"|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
            r"|SK[0-9a-fA-F]{32}\b",
            r"|AC[0-9a-f]{32}\b",
            r"|sk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)[0-9]{2}-)?[A-Za-z0-9_-]{20,250}",
            r"|npm_[A-Za-z0-9]{36}\b",
            r"|pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,500}",
            r"|gl(?:pat|dt|rt|ptt|ft|cbt|imt|oas|soat)-[A-Za-z0-9_.-]{20,100}",
            r"|glsa_[A-Za-z0-9_]{32,64}",
            r"|key-[0-9a-f]{32}\b",
            r"|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
            r"|do[por]_v1_[a-f0-9]{64}\b",
            r"|hf_[A-Za-z0-9]{34}\b",
            r"|sq0(?:atp|csp)-[0-9A-Za-z_-]{22,43}",
            r"|lin_api_[A-Za-z0-9]{40}\b",
            r"|PMAK-[a-f0-9]{24}-[a-f0-9]{34}\b",
            r"|NRAK-[A-Z0-9]{27}\b",
            r"|xapp-[0-9]-[A-Za-z0-9-]{10,250})",
        ),
    ),
    (PiiType::AwsKey, r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    (
        PiiType::Email,
        // RFC 5322 dot-atoms and quoted local parts (`"john doe"@`, quotes maybe
        // escaped), RFC 6531 addresses in any script (`josé@bücher.example`, `.рф`): past
        // ASCII, every character but punctuation, symbols and spaces (`anchored::intl`).
        concat!(
            r#"(?:\\{0,3}"[^"\\\r\n]{1,64}\\{0,3}"|(?:[A-Za-z0-9._%+-]|"#,
            intl!(),
            r")+)@(?:[A-Za-z0-9]|",
            intl!(),
            r")(?:(?:[A-Za-z0-9-]|",
            intl!(),
            r"){0,61}(?:[A-Za-z0-9]|",
            intl!(),
            r"))?(?:\.(?:[A-Za-z0-9]|",
            intl!(),
            r")(?:(?:[A-Za-z0-9-]|",
            intl!(),
            r"){0,61}(?:[A-Za-z0-9]|",
            intl!(),
            r"))?)*\.(?:[A-Za-z]{2,24}\b|",
            intl!(),
            r"{2,24})",
        ),
    ),
    (
        PiiType::UrlSecret,
        r"[?&;](?:access_token|refresh_token|id_token|token|password|passwd|pwd|secret|client_secret|api_key|apikey|api-key|auth|sig|signature|session|sessionid|session_id|PHPSESSID|JSESSIONID|code|Signature|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Goog-Signature|X-Goog-Credential)=[A-Za-z0-9._~%!$'()*+,:@/=-]+",
    ),
    (
        PiiType::Secret,
        // Starts at the keyword (so the group has literal prefixes); the validator takes
        // the rest of the key from before it. A quoted value may sit in a wrapper, as
        // Rust's `Debug` and other object dumps print one: `password: Some("…")`, and
        // Python's `repr()` prints bytes as `b'…'`; a value may be wrapped onto the next, indented line (`password=` at a line's end).
        r#"(?:(?i-u:pass(?:word|wd|phrase|code)?|pwd?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|key|auth(?:orization)?|credentials?|cookie|sess(?:ion)?(?:[_-]?id)?|sid|signature|ssn|card[_-]?(?:number|num|no)|cvv|cvc|pin)[A-Za-z0-9_-]*|비밀번호|패스워드|비번|암호)["'\]]?[ \t]*(?::|=>?)[ \t]*(?:\r?\n[ \t]+)?(?:b?"[^"\r\n]+"|b?'[^'\r\n]+'|[A-Z][A-Za-z]{1,15}\((?:"[^"\r\n]+"|'[^'\r\n]+')|["']?(?:(?i-u:bearer|basic|token)[ ]+)?[^\s"'&,;}<>\\]+)"#,
    ),
    (
        PiiType::Iban,
        // Written in capitals or, as some forms and logs lower-case them, in small letters.
        r"\b(?:[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}|[a-z]{2}[0-9]{2}(?:[ ]?[a-z0-9]){11,30})\b",
    ),
    // Resident and foreigner numbers share one pattern (`Kind::Resident`).
    (
        PiiType::KrRrn,
        r"\b[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])(?:[ -]| - )?[0-9]{7}\b",
    ),
    (PiiType::KrBrn, r"\b[0-9]{3}-[0-9]{2}-[0-9]{5}\b"),
    (PiiType::UsSsn, r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b"),
    (PiiType::CreditCard, r"\b[2-6][0-9](?:[ -]?[0-9]){11,17}\b"),
    (
        PiiType::Phone,
        concat!(
            // Mobile: 010-1234-5678, 01012345678, 010 1234 5678, +82 10-1234-5678,
            // +82 (0)10-1234-5678, (+82) 10…, 0082-10-…, +82.10.1234.5678.
            r"(?:(?:\+|\b00)82[ .-]?(?:\(0\)[ ]?|0)?|\(\+82\)[ ]?|\b0)1[016789][ .-]?[0-9]{3,4}[ .-]?[0-9]{4}\b",
            // Landlines and 070, with separators: 02-123-4567, +82-31-123-4567, (02) 123-4567.
            r"|(?:(?:\+|\b00)82[ .-]?(?:\(0\)[ ]?|0)?|\(\+82\)[ ]?|\b0)(?:2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70)[ .-][0-9]{3,4}[ .-][0-9]{4}\b",
            r"|\(0(?:2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70)\)[ ]?[0-9]{3,4}[ .-][0-9]{4}\b",
            // The area code closed without opening: 02)123-4567.
            r"|\b0(?:2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70)\)[ ]?[0-9]{3,4}[ .-][0-9]{4}\b",
            // A mobile prefix in parentheses: (010) 1234-5678.
            r"|\(01[016789]\)[ ]?[0-9]{3,4}[ .-]?[0-9]{4}\b",
            // 050x safe (personal) numbers: 0505-123-4567, 0504-1234-5678.
            r"|(?:(?:\+|\b00)82[ .-]?0?|\b0)50[2-8][ .-]?[0-9]{3,4}[ .-]?[0-9]{4}\b",
        ),
    ),
    (
        PiiType::PhoneIntl,
        r"\+[1-9][0-9]{0,3}(?:[ .-]?\(?[0-9]{1,5}\)?){1,6}",
    ),
    (
        PiiType::Ipv6,
        r"\b(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})\b",
    ),
    (PiiType::Ipv4, r"\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b"),
    (
        PiiType::KrPassport,
        r"\b[MSRODG](?:[0-9]{8}|[0-9]{3}[A-Z][0-9]{4})\b",
    ),
];

/// Which group a built-in pattern is searched in (see the module doc).
pub(super) fn group_of(t: PiiType) -> usize {
    match t {
        PiiType::PrivateKey => PEM,
        PiiType::UrlSecret => URL_SECRET,
        PiiType::Secret => SECRET,
        PiiType::UrlPassword => URL_PASSWORD,
        PiiType::Email => EMAIL,
        PiiType::Iban | PiiType::KrPassport => ALNUM,
        PiiType::Ipv6 => IPV6,
        PiiType::KrRrn | PiiType::KrFrn => RESIDENT,
        PiiType::CreditCard => CARD,
        PiiType::KrBrn => BRN,
        PiiType::UsSsn => SSN,
        PiiType::Phone => PHONE,
        PiiType::PhoneIntl => PHONE_INTL,
        PiiType::Ipv4 => IPV4,
        // Not regexes: `numbers.rs` and `webhooks_in` read them.
        PiiType::DateOfBirth
        | PiiType::KrBankAccount
        | PiiType::KrDriverLicense
        | PiiType::UsPhone => NUMBERS,
        PiiType::WebhookUrl => WEBHOOK,
        _ => LITERAL,
    }
}

/// Groups in priority order (at equal starts the first wins), and what a string must
/// hold for each to be searched at all: a cheap test that skips most strings.
pub(crate) const CUSTOM: usize = 0;
pub(crate) const PEM: usize = 1;
pub(crate) const LITERAL: usize = 2;
pub(crate) const URL_SECRET: usize = 3;
pub(crate) const SECRET: usize = 4;
pub(crate) const URL_PASSWORD: usize = 5;
pub(crate) const EMAIL: usize = 6;
pub(crate) const ALNUM: usize = 7;
pub(crate) const IPV6: usize = 8;
pub(crate) const RESIDENT: usize = 9;
pub(crate) const CARD: usize = 10;
pub(crate) const BRN: usize = 11;
pub(crate) const SSN: usize = 12;
pub(crate) const PHONE: usize = 13;
pub(crate) const PHONE_INTL: usize = 14;
pub(crate) const IPV4: usize = 15;
/// Numbers read by hand (`numbers.rs`), no regex: US phones, licences, and the numbers
/// that need context.
pub(crate) const NUMBERS: usize = 16;
/// Webhook URLs (`hooks.slack.com/services/…`), read by hand from the scheme.
pub(crate) const WEBHOOK: usize = 17;
/// Values keyed apart from them (`columns.rs`): an XML element's text, an Erlang
/// binary in a `{key,<<"…">>}` tuple; read by hand, no regex.
pub(crate) const KEYED: usize = 18;
pub(crate) const GROUPS: usize = 19;

/// The types `numbers.rs` finds.
const NUMBER_TYPES: [PiiType; 8] = [
    PiiType::UsPhone,
    PiiType::KrDriverLicense,
    PiiType::DateOfBirth,
    PiiType::KrBankAccount,
    PiiType::UsSsn,
    PiiType::KrBrn,
    PiiType::KrRrn,
    PiiType::KrFrn,
];

/// The literal group's patterns in their order, all of which `literal.rs` reads.
pub(super) const LITERAL_TYPES: [PiiType; 7] = [
    PiiType::Jwt,
    PiiType::AuthHeader,
    PiiType::GithubToken,
    PiiType::SlackToken,
    PiiType::GoogleApiKey,
    PiiType::ApiKey,
    PiiType::AwsKey,
];

/// The groups searched only inside numeric spans (bit `1 << group`).
const NUMERIC: u32 =
    1 << RESIDENT | 1 << CARD | 1 << BRN | 1 << SSN | 1 << PHONE | 1 << PHONE_INTL | 1 << IPV4;

/// Whether a match of numeric group `group` can start at `b[p]`: the first bytes of
/// its pattern (a necessary condition, so a place that fails it is not searched).
fn may_start(group: usize, b: &[u8], p: usize) -> bool {
    let at = |j: usize| b.get(p + j).copied().unwrap_or(0);
    match group {
        // `\b[0-9]{2}(?:0[1-9]|1[0-2])…`
        RESIDENT => {
            at(0).is_ascii_digit() && at(1).is_ascii_digit() && matches!(at(2), b'0' | b'1')
        }
        // `\b[2-6][0-9]…`
        CARD => matches!(at(0), b'2'..=b'6'),
        // `\b[0-9]{3}-[0-9]{2}-…`
        BRN | SSN => at(0).is_ascii_digit() && at(3) == b'-',
        // `\+82…`, `\b0…`, `\(0…`, `\(\+82…`
        PHONE => match at(0) {
            b'+' => at(1) == b'8' && at(2) == b'2',
            b'0' => true,
            b'(' => at(1) == b'0' || (at(1) == b'+' && at(2) == b'8'),
            _ => false,
        },
        // `\+[1-9]…`
        PHONE_INTL => at(0) == b'+' && matches!(at(1), b'1'..=b'9'),
        // `\b(?:[0-9]{1,3}\.){3}…`
        IPV4 => at(0).is_ascii_digit(),
        _ => true,
    }
}

/// `[0-9A-Za-z_]`: what an ASCII `\b` calls a word byte.
pub(crate) fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Whether an ASCII `\b` holds before `b[p]` when `b[p]` is a word byte.
pub(crate) fn word_starts(b: &[u8], p: usize) -> bool {
    p == 0 || b.get(p - 1).is_some_and(|&c| !is_word(c))
}

/// What an anchored search of a numeric group's one pattern at `p`, its match ending at
/// or before `hi`, finds, worked out by hand where that is cheap: `Some(Some(end))` a
/// match ending at `end`, `Some(None)` no match, `None` ask the regex. `\b` looks
/// outside `..hi`, as the regex's does. A unit test compares each with its pattern.
type Hand = fn(&[u8], usize, usize) -> Option<Option<usize>>;

/// [`Hand`] for a group of several patterns: `Some(Some((pattern, end)))` a match of
/// the group's pattern `pattern` (its index in the group).
type Multi = fn(&[u8], usize, usize) -> Option<Option<(usize, usize)>>;

/// Byte `i` is a digit before `hi`.
fn digit_before(b: &[u8], i: usize, hi: usize) -> bool {
    i < hi && b.get(i).is_some_and(u8::is_ascii_digit)
}

/// The card pattern `\b[2-6][0-9](?:[ -]?[0-9]){11,17}\b`. Its path is forced (each
/// repetition takes a digit, or one of ` -` and then a digit, never both), so the only
/// choice is how many repetitions: the most (greedy) after which `\b` holds, 13 to 19
/// digits followed by a byte that is not a word byte (or the end of `b`).
fn card_match(b: &[u8], p: usize, hi: usize) -> Option<Option<usize>> {
    if !(word_starts(b, p)
        && b.get(p).is_some_and(|c| matches!(c, b'2'..=b'6'))
        && p < hi
        && digit_before(b, p + 1, hi))
    {
        return Some(None);
    }
    let mut digits = 2;
    // Just past the last digit taken.
    let mut pos = p + 2;
    let mut end = None;
    loop {
        if digits >= 13 && !b.get(pos).is_some_and(|&c| is_word(c)) {
            end = Some(pos);
        }
        if digits == 19 {
            break;
        }
        pos = if digit_before(b, pos, hi) {
            pos + 1
        } else if b.get(pos).is_some_and(|c| matches!(c, b' ' | b'-'))
            && digit_before(b, pos + 1, hi)
        {
            pos + 2
        } else {
            break;
        };
        digits += 1;
    }
    Some(end)
}

/// The resident pattern `\b[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[ -]?[0-9]{7}\b`:
/// one path (a ` ` or `-` after the sixth digit is taken, and leaving it out cannot
/// match, as a digit would have to be there).
fn resident_match(b: &[u8], p: usize, hi: usize) -> Option<Option<usize>> {
    let d = |j: usize| digit_before(b, p + j, hi);
    let at = |j: usize| b.get(p + j).copied().unwrap_or(0);
    let month = match at(2) {
        b'0' => matches!(at(3), b'1'..=b'9'),
        b'1' => matches!(at(3), b'0'..=b'2'),
        _ => false,
    };
    let day = match at(4) {
        b'0' => matches!(at(5), b'1'..=b'9'),
        b'1' | b'2' => d(5),
        b'3' => matches!(at(5), b'0' | b'1'),
        _ => false,
    };
    if !(word_starts(b, p) && (0..6).all(d) && month && day) {
        return Some(None);
    }
    let q = if b[p..].get(6..9) == Some(b" - ") {
        9
    } else if matches!(at(6), b' ' | b'-') {
        7
    } else {
        6
    };
    let end = p + q + 7;
    let ok = (q..q + 7).all(d) && !b.get(end).is_some_and(|&c| is_word(c));
    Some(ok.then_some(end))
}

/// The Korean phone pattern, where it is cheap: no branch starts with `1` (a
/// representative number such as `1588-1234` is not personal); at a `0` only the `\b0`
/// and `\b00` branches, which need nine digits or more, with at most one of ` .-`
/// between two of them (so fewer: no match; else the regex decides), or an area code
/// closed by `)` (`02)123-4567`: the regex decides).
fn phone_match(b: &[u8], p: usize, hi: usize) -> Option<Option<usize>> {
    match b.get(p) {
        Some(b'1') => Some(None),
        Some(b'0') => {
            if !word_starts(b, p) {
                return Some(None);
            }
            let mut digits = 1;
            let mut pos = p + 1;
            while digits < 9 {
                if b.get(pos) == Some(&b')') {
                    return None;
                }
                pos = if digit_before(b, pos, hi) {
                    pos + 1
                } else if b.get(pos).is_some_and(|c| matches!(c, b' ' | b'.' | b'-'))
                    && digit_before(b, pos + 1, hi)
                {
                    pos + 2
                } else {
                    return Some(None);
                };
                digits += 1;
            }
            None
        }
        _ => None,
    }
}

/// The IPv4 pattern `\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b`: one path. A run of digits is
/// taken whole (a shorter take leaves a digit where `.` or `\b` must be), so the match
/// is four runs of one to three digits joined by single dots, the last one followed by
/// a byte that is not a word byte (or the end of `b`).
fn ipv4_match(b: &[u8], p: usize, hi: usize) -> Option<Option<usize>> {
    if !word_starts(b, p) {
        return Some(None);
    }
    let mut pos = p;
    for octet in 0..4 {
        let run = pos;
        while pos - run < 4 && digit_before(b, pos, hi) {
            pos += 1;
        }
        if !(1..=3).contains(&(pos - run)) {
            return Some(None);
        }
        if octet < 3 {
            if !(pos < hi && b.get(pos) == Some(&b'.')) {
                return Some(None);
            }
            pos += 1;
        }
    }
    let ok = !b.get(pos).is_some_and(|&c| is_word(c));
    Some(ok.then_some(pos))
}

/// One multi-pattern regex and what each of its patterns is.
struct Group {
    re: meta::Regex,
    kinds: Vec<Kind>,
    /// Which group this is (`CUSTOM` … `IPV4`).
    id: usize,
    /// Its anchored search by hand, where possible (a group of one built-in pattern).
    hand: Option<Hand>,
    /// The same for a group of several patterns, all on (`literal.rs`, the `alnum`
    /// group).
    multi: Option<Multi>,
}

/// The compiled detectors of one config.
pub(crate) struct Detectors {
    groups: Vec<Group>,
    /// Secrets after a marking word and a space (`marked.rs`): `secret` or `api_key` on.
    marked: bool,
    /// Which keys are sensitive or never scanned: asked of every key, the column names
    /// and element names of `columns.rs` too.
    pub(crate) keys: KeyRules,
    /// Bit `1 << id` for each group in `groups`.
    present: u32,
}

impl Caches {
    pub(crate) fn empty() -> Self {
        Caches {
            caches: Vec::new(),
            scan: Scan::new(),
        }
    }
}

/// Search caches, one per group, and the prefilter's scratch space; one per thread of
/// work.
pub(crate) struct Caches {
    caches: Vec<Cache>,
    scan: Scan,
}

impl Caches {
    /// The prefilter's pass over the string [`Detectors::find`] was last asked about.
    pub(crate) fn scan(&self) -> &Scan {
        &self.scan
    }
}

impl Detectors {
    /// `custom_ids[i]` is the type of `cfg.custom[i]`.
    pub(crate) fn new(cfg: &RedactionConfig, custom_ids: &[TypeId]) -> Result<Self, RedactError> {
        let mut patterns: Vec<Vec<String>> = vec![Vec::new(); GROUPS];
        let mut kinds: Vec<Vec<Kind>> = vec![Vec::new(); GROUPS];
        for (c, &id) in cfg.custom.iter().zip(custom_ids) {
            let CustomDetector {
                regex, validator, ..
            } = c;
            // Checked by the config decoder already; checked again (as a set, under the one
            // policy for user regexes) below, for embedders.
            patterns[CUSTOM].push(regex.clone());
            kinds[CUSTOM].push(Kind::Custom(id, *validator));
        }
        let frn_on = cfg.action_of(PiiType::KrFrn).is_some();
        for &(t, pattern) in BUILTIN {
            let on = cfg.action_of(t).is_some() || (t == PiiType::KrRrn && frn_on);
            if !on {
                continue;
            }
            let g = group_of(t);
            patterns[g].push(pattern.replace(r"\b", r"(?-u:\b)"));
            kinds[g].push(match t {
                PiiType::KrRrn => Kind::Resident,
                t => Kind::Builtin(t),
            });
        }
        let mut groups = Vec::new();
        for (g, (patterns, kinds)) in patterns.into_iter().zip(kinds).enumerate() {
            if patterns.is_empty() {
                continue;
            }
            let re = if g == CUSTOM {
                compile_set(&patterns)?
            } else {
                meta::Regex::new_many(&patterns).map_err(|e| RedactError::Builtin(Box::new(e)))?
            };
            let hand: Option<Hand> = match (g, &kinds[..]) {
                (CARD, [Kind::Builtin(PiiType::CreditCard)]) => Some(card_match),
                (RESIDENT, [Kind::Resident]) => Some(resident_match),
                (PHONE, [Kind::Builtin(PiiType::Phone)]) => Some(phone_match),
                (IPV4, [Kind::Builtin(PiiType::Ipv4)]) => Some(ipv4_match),
                (SECRET, [Kind::Builtin(PiiType::Secret)]) => Some(secret::secret_match),
                (URL_SECRET, [Kind::Builtin(PiiType::UrlSecret)]) => {
                    Some(anchored::url_secret_match)
                }
                (EMAIL, [Kind::Builtin(PiiType::Email)]) => Some(anchored::email_match),
                _ => None,
            };
            let all = |types: &[PiiType]| {
                kinds.len() == types.len()
                    && kinds
                        .iter()
                        .zip(types)
                        .all(|(k, t)| matches!(k, Kind::Builtin(u) if u == t))
            };
            let multi: Option<Multi> = match g {
                LITERAL if all(&LITERAL_TYPES) => Some(literal::literal_match),
                ALNUM if all(&[PiiType::Iban, PiiType::KrPassport]) => Some(anchored::alnum_match),
                _ => None,
            };
            groups.push(Group {
                re,
                kinds,
                id: g,
                hand,
                multi,
            });
        }
        let mut present = groups.iter().fold(0, |m, g| m | 1 << g.id);
        if NUMBER_TYPES.iter().any(|&t| cfg.action_of(t).is_some()) {
            present |= 1 << NUMBERS;
        }
        if cfg.action_of(PiiType::WebhookUrl).is_some() {
            present |= 1 << WEBHOOK;
        }
        let marked =
            cfg.action_of(PiiType::Secret).is_some() || cfg.action_of(PiiType::ApiKey).is_some();
        let keys = KeyRules::new(&cfg.keys, cfg.action_of(PiiType::Secret).is_some())?;
        Ok(Self {
            groups,
            marked,
            keys,
            present,
        })
    }

    pub(crate) fn caches(&self) -> Caches {
        let caches = Caches::empty();
        if self.groups.is_empty() {
            return caches;
        }
        Caches {
            caches: self.groups.iter().map(|g| g.re.create_cache()).collect(),
            ..caches
        }
    }

    /// Appends every validated match in `hay` to `out`, left to right and not
    /// overlapping. `enabled` says whether a type found by the resident pattern is on;
    /// `key` is the hint of the key `hay` sits under (`context.rs`, 0: none).
    pub(crate) fn find(
        &self,
        caches: &mut Caches,
        hay: &str,
        key: Key<'_>,
        enabled: impl Fn(PiiType) -> bool,
        out: &mut Vec<Found>,
    ) {
        // What `out` held before: left as it is (the filters below see only this call's
        // matches).
        let base = out.len();
        // One pass: where each group can start, and which numeric spans to look at.
        let scan = &mut caches.scan;
        scan.run(hay.as_bytes());
        let todo = (scan.todo() | (1 << CUSTOM)) & self.present;
        let mut groups_hit = 0;
        // Values keyed by position (a CSV header, an SQL column list): most text fails
        // the test at its first bytes.
        let mut cols = columns::Columns::of(hay, scan.values, scan.newline);
        // The fields again at the end, for the columns whose key is never scanned.
        let fields = cols.clone();
        if self.marked {
            // Whole values under sensitive keys written apart from them.
            if scan.started & (1 << KEYED) != 0 {
                let before = out.len();
                keyed_in(scan, hay, &self.keys, &enabled, out);
                groups_hit += usize::from(out.len() > before);
            }
            if let Some(cols) = &cols {
                let before = out.len();
                positional_in(cols, hay, &self.keys, &enabled, out);
                groups_hit += usize::from(out.len() > before);
            }
            // A Markdown table: more than one line, one of them a row (the scan looked
            // at every line start).
            if scan.newline != usize::MAX && scan.table_row {
                let before = out.len();
                markdown::keyed_cells(hay, |key, s, e| {
                    let ty = keys::whole_value(self.keys.classify(key), key, &hay[s..e]);
                    push_whole(ty, s, e, &enabled, out);
                    ty.is_some()
                });
                groups_hit += usize::from(out.len() > before);
            }
        }
        if todo & (1 << WEBHOOK) != 0 {
            let before = out.len();
            webhooks_in(scan, hay.as_bytes(), out);
            groups_hit += usize::from(out.len() > before);
        }
        // National phone numbers that are a phone key's whole value in text: added last,
        // so that at equal starts every other reading wins (none allocated when none).
        let mut keyed = Vec::new();
        // Hand-read numbers first: at equal starts their context-aware reading wins.
        if todo & (1 << NUMBERS) != 0 {
            let before = out.len();
            numbers_in(
                scan,
                hay.as_bytes(),
                key,
                cols.as_mut(),
                &enabled,
                out,
                &mut keyed,
            );
            groups_hit += usize::from(out.len() > before);
        }
        // `groups` holds the present groups in id (priority) order: stop after the last
        // one with work.
        for (group, cache) in self.groups.iter().zip(caches.caches.iter_mut()) {
            let bit = 1 << group.id;
            if (todo & ((1 << NUMBERS) - 1)) >> group.id == 0 {
                break;
            }
            if todo & bit == 0 {
                continue;
            }
            let before = out.len();
            if NUMERIC & bit != 0 {
                for span in scan.spans.iter().filter(|s| s.groups & bit != 0) {
                    // Where a numeric match can start: `+`, `(`, or a digit after a
                    // non-word byte (every other start needs `\b`).
                    let b = hay.as_bytes();
                    let starts = scan
                        .num_starts
                        .get(span.starts.0..span.starts.1)
                        .unwrap_or_default()
                        .iter()
                        .copied()
                        .filter(|&p| may_start(group.id, b, p));
                    group.find_at(cache, hay, starts, span.end, false, &enabled, out);
                }
            } else if scan.started & bit != 0 {
                let starts = scan
                    .starts
                    .iter()
                    .filter(|(g, _)| usize::from(*g) == group.id)
                    .map(|(_, p)| *p);
                // An e-mail can start anywhere in the local part before its `@`.
                let clamp = group.id == EMAIL;
                group.find_at(cache, hay, starts, hay.len(), clamp, &enabled, out);
            } else {
                // Custom detectors: the whole string.
                let start = if group.id == IPV6 { scan.ipv6 } else { 0 };
                if start < hay.len() {
                    group.find_in(cache, hay, start, hay.len(), &enabled, out);
                }
            }
            groups_hit += usize::from(out.len() > before);
        }
        // Last: at equal starts a pattern's match wins (`token eyJ…` is a JWT).
        if self.marked {
            let before = out.len();
            marked::marked_in(hay.as_bytes(), &enabled, out);
            groups_hit += usize::from(out.len() > before);
        }
        if !keyed.is_empty() {
            out.append(&mut keyed);
            groups_hit += 1;
        }
        if let Some(fields) = fields
            && out.len() > base
        {
            keep_ignored_columns(fields, &self.keys, out, base);
        }
        if out.len() == base {
            // A phone number in a national format, whole, under a key that names a
            // phone, when no detector knew it (most values fail at their length or
            // first byte).
            if let Some(k) = key.0
                && (7..=phones::MAX_PHONE_VALUE).contains(&hay.len())
                && matches!(hay.as_bytes()[0], b'0'..=b'9' | b'+' | b'(')
                && enabled(PiiType::PhoneIntl)
                && phones::phone_shaped(hay.as_bytes())
                && phones::phone_key(k)
            {
                out.push(Found {
                    start: 0,
                    end: hay.len(),
                    ty: TypeId::builtin(PiiType::PhoneIntl),
                });
            }
            return;
        }
        let tidy = |found: &mut Vec<Found>| {
            // A plain epoch under a time key or after `iat=`, `epoch` stays.
            let b = hay.as_bytes();
            found.retain(|f| {
                !(epoch_shaped(&b[f.start..f.end])
                    && (key.hint() | context::text_hint(b, f.start)) & context::TIME != 0)
            });
            if key.0.is_some() {
                // Under a version or user-agent key a dotted quad is a version; under a
                // product-code key a GTIN with its check digit is a barcode.
                let hint = key.hint();
                if hint & (context::VERSION | context::USER_AGENT | context::BARCODE) != 0 {
                    found.retain(|f| !key_keeps(hint, f.ty, &b[f.start..f.end]));
                }
            }
            if groups_hit > 1 {
                // Earliest start first; at equal starts the group listed first (stable sort).
                found.sort_by_key(|f| f.start);
                let mut end = 0;
                found.retain(|f| {
                    let keep = f.start >= end;
                    if keep {
                        end = f.end;
                    }
                    keep
                });
            }
        };
        if base == 0 {
            tidy(out);
        } else {
            let mut mine = out.split_off(base);
            tidy(&mut mine);
            out.append(&mut mine);
        }
    }
}

/// Ten or thirteen digits from `1`: an epoch in seconds or milliseconds (2001–2033).
fn epoch_shaped(text: &[u8]) -> bool {
    matches!(text.len(), 10 | 13) && text[0] == b'1' && text.iter().all(u8::is_ascii_digit)
}

/// A GTIN with its check digit after `sku`, `ean`, `barcode`, … in text.
fn barcode(b: &[u8], start: usize, text: &[u8]) -> bool {
    validate::gtin(text) && context::hint_has(b, start, context::BARCODE)
}

/// A grouped card candidate at `b[start..]` (its text `text`) that another digit group
/// joined by the same separator precedes: part of a longer run of groups, as a 22-digit
/// USPS tracking number in groups of four (`9405 5109 7228 8883 6846 09`) is from its
/// second group on. A group after a card does not unmake it (a security code or an
/// expiry date written after the number: `… 1111 123`, `… 1111 12/28`).
fn after_a_group(b: &[u8], start: usize, text: &[u8]) -> bool {
    let Some(&sep) = text.iter().find(|c| !c.is_ascii_digit()) else {
        return false;
    };
    start >= 2 && b[start - 1] == sep && b[start - 2].is_ascii_digit()
}

/// Whether a found value is a hard negative under a key with hint `key`.
fn key_keeps(key: Hint, ty: TypeId, text: &[u8]) -> bool {
    if ty == TypeId::builtin(PiiType::Ipv4) {
        return key & (context::VERSION | context::USER_AGENT) != 0;
    }
    key & context::BARCODE != 0 && validate::gtin(text)
}

/// Webhook URLs from their scheme to the end of the URL (the secret is its path).
fn webhooks_in(scan: &Scan, b: &[u8], out: &mut Vec<Found>) {
    let mut next = 0;
    for &(g, start) in &scan.starts {
        if usize::from(g) != WEBHOOK || start < next {
            continue;
        }
        let mut end = start
            + b[start..]
                .iter()
                .position(|&c| {
                    c <= b' '
                        || c >= 0x7f
                        || matches!(
                            c,
                            b'"' | b'\'' | b'<' | b'>' | b'\\' | b'`' | b'{' | b'}' | b'|' | b'^'
                        )
                })
                .unwrap_or(b.len() - start);
        while end > start
            && matches!(
                b[end - 1],
                b'.' | b',' | b';' | b':' | b'!' | b'?' | b')' | b']'
            )
        {
            end -= 1;
        }
        let end = super::pairs::list_value_end(b, start, end);
        out.push(Found {
            start,
            end,
            ty: TypeId::builtin(PiiType::WebhookUrl),
        });
        next = end;
    }
}

/// A found whole value, when its type is on.
fn push_whole(
    ty: Option<PiiType>,
    start: usize,
    end: usize,
    enabled: &impl Fn(PiiType) -> bool,
    out: &mut Vec<Found>,
) {
    if let Some(t) = ty.filter(|&t| enabled(t))
        && start < end
    {
        out.push(Found {
            start,
            end,
            ty: TypeId::builtin(t),
        });
    }
}

/// Element texts, Erlang binaries and CEF custom fields under a sensitive or credential
/// key (a CEF field's key is its label).
fn keyed_in(
    scan: &Scan,
    hay: &str,
    rules: &KeyRules,
    enabled: &impl Fn(PiiType) -> bool,
    out: &mut Vec<Found>,
) {
    let base = out.len();
    let mut next = 0;
    let mut labelled = false;
    for &(g, at) in &scan.starts {
        if usize::from(g) != KEYED || at < next {
            continue;
        }
        let keyed = columns::keyed_at(hay, at).or_else(|| super::erlang::map_value_at(hay, at));
        if keyed.is_none()
            && let Some((label, s, e)) = cef::labelled_at(hay, at)
        {
            // The field's value may be anywhere around its label.
            push_whole(
                keys::whole_value(rules.classify(label), label, &hay[s..e]),
                s,
                e,
                enabled,
                out,
            );
            labelled = true;
            continue;
        }
        if let Some((key, s, e)) = keyed {
            let before = out.len();
            push_whole(
                keys::whole_value(rules.classify(key), key, &hay[s..e]),
                s,
                e,
                enabled,
                out,
            );
            if out.len() > before {
                next = e;
            }
        }
    }
    if labelled {
        // Left to right and not overlapping, as every other group's matches.
        let mine = &mut out[base..];
        mine.sort_by_key(|f| f.start);
        let mut end = 0;
        let mut i = base;
        while i < out.len() {
            if out[i].start < end {
                out.remove(i);
            } else {
                end = out[i].end;
                i += 1;
            }
        }
    }
}

/// Fields of CSV rows and SQL tuples under a sensitive or credential column.
fn positional_in(
    cols: &columns::Columns<'_>,
    hay: &str,
    rules: &KeyRules,
    enabled: &impl Fn(PiiType) -> bool,
    out: &mut Vec<Found>,
) {
    for f in cols.clone() {
        let Some(key) = cols.name(f.col) else {
            continue;
        };
        let value = &hay[f.start..f.end];
        if f.bare && value.eq_ignore_ascii_case("null") {
            continue;
        }
        let ty = keys::whole_value(rules.classify(key), key, value).or_else(|| {
            // A national phone number under a column that names a phone, as under a
            // JSON key that does.
            ((7..=phones::MAX_PHONE_VALUE).contains(&value.len())
                && phones::phone_shaped(value.as_bytes())
                && phones::phone_key(key))
            .then_some(PiiType::PhoneIntl)
        });
        push_whole(ty, f.start, f.end, enabled, out);
    }
}

/// Drops the matches in `out[base..]` that lie in a field of a column whose name is a
/// key never scanned (the config's `keys.ignore`), as the same key's value in JSON.
fn keep_ignored_columns(
    fields: columns::Columns<'_>,
    rules: &KeyRules,
    out: &mut Vec<Found>,
    base: usize,
) {
    let mut ignored = 0u64;
    for col in 0..columns::MAX_COLUMNS {
        let Some(name) = fields.name(col) else {
            break;
        };
        if rules.classify(name) == KeyClass::Ignored {
            ignored |= 1 << col;
        }
    }
    if ignored == 0 {
        return;
    }
    let spans: Vec<(usize, usize)> = fields
        .filter(|f| f.col < 64 && ignored & (1 << f.col) != 0)
        .map(|f| (f.start, f.end))
        .collect();
    let mut mine = out.split_off(base);
    mine.retain(|m| !spans.iter().any(|&(s, e)| m.start >= s && m.end <= e));
    out.append(&mut mine);
}

/// The hand-read numbers (`numbers.rs`) of every span that may hold one; a number in
/// a CSV or SQL field has its column's name for key. Into `keyed`, where none was read:
/// the national phone numbers that are a phone key's whole value ([`phones::keyed_in_text`]).
fn numbers_in(
    scan: &Scan,
    b: &[u8],
    outer: Key<'_>,
    mut cols: Option<&mut columns::Columns<'_>>,
    enabled: &impl Fn(PiiType) -> bool,
    out: &mut Vec<Found>,
    keyed: &mut Vec<Found>,
) {
    let bit = 1 << NUMBERS;
    let mut next = 0;
    for span in scan.spans.iter().filter(|s| s.groups & bit != 0) {
        let starts = scan
            .num_starts
            .get(span.starts.0..span.starts.1)
            .unwrap_or_default();
        for &p in starts {
            if p < next {
                continue;
            }
            let key = match &mut cols {
                Some(c) => c.key_at(p).map_or(outer, |k| Key(Some(k))),
                None => outer,
            };
            if let Some((end, ty)) = numbers::at(b, p, key)
                && enabled(ty)
            {
                out.push(Found {
                    start: p,
                    end,
                    ty: TypeId::builtin(ty),
                });
                next = end;
            } else if enabled(PiiType::PhoneIntl)
                && let Some(end) = phones::keyed_in_text(b, p)
            {
                // A national phone number, the whole value of a phone key in text: kept
                // apart, as the other detectors may read it (or a part of it) first.
                keyed.push(Found {
                    start: p,
                    end,
                    ty: TypeId::builtin(PiiType::PhoneIntl),
                });
            } else if p >= 4
                // A year after a month's name or its day follows a space (the first
                // test `month_name_dob` makes, here before a call for every start).
                && b[p - 1] == b' '
                && let Some((start, end)) = numbers::month_name_dob(b, p, key)
                && start >= next
                && enabled(PiiType::DateOfBirth)
            {
                // `March 5, 1990`: the year was the number, the date starts before it.
                out.push(Found {
                    start,
                    end,
                    ty: TypeId::builtin(PiiType::DateOfBirth),
                });
                next = end;
            }
        }
    }
}

impl Group {
    /// Validated matches that start at one of `starts` (ascending) and end before `hi`:
    /// anchored searches only, which is what [`Group::find_in`] finds when `starts` holds
    /// every place a match can begin. `clamp`: a start is the first of a run of places
    /// a match can begin, so one inside an earlier match moves to that match's end.
    #[allow(clippy::too_many_arguments)]
    fn find_at(
        &self,
        cache: &mut Cache,
        hay: &str,
        starts: impl Iterator<Item = usize>,
        hi: usize,
        clamp: bool,
        enabled: &impl Fn(PiiType) -> bool,
        out: &mut Vec<Found>,
    ) {
        // Starts before this are inside a match already found.
        let mut next = 0;
        for mut start in starts {
            if start < next {
                if !clamp {
                    continue;
                }
                start = next;
            }
            if start >= hi {
                continue;
            }
            let b = hay.as_bytes();
            let hand = match (self.hand, self.multi) {
                (Some(h), _) => h(b, start, hi).map(|m| m.map(|end| (PatternID::ZERO, end))),
                (None, Some(h)) => h(b, start, hi).and_then(|m| match m {
                    None => Some(None),
                    Some((pid, end)) => PatternID::new(pid).ok().map(|pid| Some((pid, end))),
                }),
                (None, None) => None,
            };
            let (pid, m_start, m_end) = match hand {
                // Without the regex.
                Some(Some((pid, end))) => (pid, start, end),
                Some(None) => continue,
                None => {
                    let input = Input::new(hay).range(start..hi).anchored(Anchored::Yes);
                    let Some(m) = self.re.search_with(cache, &input) else {
                        continue;
                    };
                    (m.pattern(), m.start(), m.end())
                }
            };
            let found = self
                .check(pid, hay, m_start, m_end, enabled)
                .map(|f| (f, m_end.max(f.end)))
                .or_else(|| self.retry(cache, hay, m_start, hi, pid, enabled));
            if let Some((f, end)) = found {
                out.push(f);
                next = end.max(start + 1);
            }
        }
    }

    /// Validated matches that start and end inside `lo..hi` (`\b` still sees the bytes
    /// around it).
    fn find_in(
        &self,
        cache: &mut Cache,
        hay: &str,
        lo: usize,
        hi: usize,
        enabled: &impl Fn(PiiType) -> bool,
        out: &mut Vec<Found>,
    ) {
        let mut pos = lo;
        while pos < hi {
            let input = Input::new(hay).range(pos..hi);
            let Some(m) = self.re.search_with(cache, &input) else {
                break;
            };
            let found = self
                .check(m.pattern(), hay, m.start(), m.end(), enabled)
                .map(|f| (f, m.end().max(f.end)))
                .or_else(|| self.retry(cache, hay, m.start(), hi, m.pattern(), enabled));
            match found {
                Some((f, end)) => {
                    out.push(f);
                    pos = end.max(pos + 1);
                }
                None => pos = m.start() + 1,
            }
            while !hay.is_char_boundary(pos) {
                pos += 1;
            }
        }
    }

    /// The other patterns, anchored where a candidate failed its validator.
    fn retry(
        &self,
        cache: &mut Cache,
        hay: &str,
        start: usize,
        hi: usize,
        failed: PatternID,
        enabled: &impl Fn(PiiType) -> bool,
    ) -> Option<(Found, usize)> {
        for i in 0..self.kinds.len() {
            let Some(pid) = PatternID::new(i).ok().filter(|p| *p != failed) else {
                continue;
            };
            let input = Input::new(hay)
                .range(start..hi)
                .anchored(Anchored::Pattern(pid));
            if let Some(m) = self.re.search_with(cache, &input)
                && let Some(f) = self.check(pid, hay, m.start(), m.end(), enabled)
            {
                return Some((f, m.end().max(f.end)));
            }
        }
        None
    }

    /// Runs the validator of pattern `pid` on `hay[start..end]`.
    fn check(
        &self,
        pid: PatternID,
        hay: &str,
        start: usize,
        end: usize,
        enabled: &impl Fn(PiiType) -> bool,
    ) -> Option<Found> {
        if start == end {
            return None;
        }
        let b = hay.as_bytes();
        let text = &b[start..end];
        let builtin = |t: PiiType, s: usize, e: usize| {
            Some(Found {
                start: start + s,
                end: start + e,
                ty: TypeId::builtin(t),
            })
        };
        match *self.kinds.get(pid.as_usize())? {
            Kind::Custom(ty, validator) => {
                let ok = match validator {
                    None => true,
                    Some(Validator::Luhn) => validate::luhn(text),
                    Some(Validator::Iban) => validate::iban(text) == Some(text.len()),
                    Some(Validator::KrRrn) => validate::rrn(text).is_some(),
                    Some(Validator::KrBrn) => validate::brn(text),
                };
                ok.then_some(Found { start, end, ty })
            }
            Kind::Resident => {
                if !validate::standalone(b, start, end) {
                    return None;
                }
                let t = validate::rrn(text)?;
                if barcode(b, start, text) {
                    return None;
                }
                enabled(t).then(|| builtin(t, 0, text.len()))?
            }
            Kind::Builtin(t) => {
                let numeric = matches!(
                    t,
                    PiiType::Phone | PiiType::CreditCard | PiiType::UsSsn | PiiType::KrBrn
                );
                if numeric && !validate::standalone(b, start, end) {
                    return None;
                }
                let (s, e) = match t {
                    PiiType::CreditCard if barcode(b, start, text) => return None,
                    PiiType::CreditCard if after_a_group(b, start, text) => return None,
                    PiiType::CreditCard => (0, validate::card(text)?),
                    PiiType::Iban => (0, validate::iban(text)?),
                    PiiType::KrBrn => validate::brn(text).then_some((0, text.len()))?,
                    PiiType::UsSsn => validate::ssn(text).then_some((0, text.len()))?,
                    PiiType::Ipv4 => validate::ipv4(b, start, end).then_some((0, text.len()))?,
                    PiiType::Ipv6 if super::hexrun::longer_than_address(b, start, end) => {
                        return None;
                    }
                    PiiType::Ipv6 => validate::ipv6(&hay[start..end]).then_some((0, text.len()))?,
                    PiiType::PhoneIntl => (0, validate::phone_intl(b, start, end)?),
                    PiiType::AuthHeader => validate::auth_header(text)?,
                    PiiType::UrlPassword => validate::url_password(text)?,
                    PiiType::UrlSecret => validate::url_secret(text)?,
                    PiiType::Secret => {
                        // The key goes on before the keyword the match starts at.
                        let back = b[..start]
                            .iter()
                            .rev()
                            .take_while(|c| {
                                c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
                            })
                            .count();
                        let kv = &b[start - back..end];
                        let (s, e, sensitive) = validate::key_value(kv)?;
                        let (s, e) = (s.checked_sub(back)?, e.checked_sub(back)?);
                        // A `Cookie` header: every cookie it sends, not the first alone.
                        let e = if sensitive && validate::cookie_header(kv) {
                            validate::cookie_pairs_end(b, start + e) - start
                        } else {
                            e
                        };
                        if !sensitive {
                            // `key=…`, `auth: …`: a credential word, so a random token
                            // after it is an API key (as for a column of that name).
                            let key_end = kv.iter().position(|b| {
                                matches!(b, b'"' | b'\'' | b' ' | b'\t' | b':' | b'=')
                            })?;
                            let key = std::str::from_utf8(&kv[..key_end]).ok()?;
                            let value = std::str::from_utf8(&text[s..e]).ok()?;
                            let t = keys::whole_value(KeyClass::Normal, key, value)
                                .filter(|&t| enabled(t))?;
                            return builtin(t, s, e);
                        }
                        (s, e)
                    }
                    PiiType::ApiKey => validate::api_key(text).then_some((0, text.len()))?,
                    PiiType::PrivateKey => (0, validate::pem_end(text)),
                    _ => (0, text.len()),
                };
                builtin(t, s, e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_secret_names_are_the_patterns() {
        let pattern = BUILTIN
            .iter()
            .find(|(t, _)| *t == PiiType::UrlSecret)
            .map(|(_, p)| *p)
            .unwrap_or_default();
        let names = pattern
            .strip_prefix("[?&;](?:")
            .and_then(|p| p.split(")=").next())
            .unwrap_or_default();
        let names: Vec<&[u8]> = names.split('|').map(str::as_bytes).collect();
        assert_eq!(names, super::super::starts::URL_SECRET_NAMES);
    }

    #[test]
    fn hand_matchers_are_their_patterns() {
        let hands: [(PiiType, Hand); 4] = [
            (PiiType::CreditCard, card_match),
            (PiiType::KrRrn, resident_match),
            (PiiType::Phone, phone_match),
            (PiiType::Ipv4, ipv4_match),
        ];
        let pieces: [&str; 26] = [
            "0", "1", "5", "8", "2", "3", " ", "-", ".", "(", ")", "+", "a", "_", "가", "  ",
            "1588-", "010-", "900101-", "4111 ", "10.", "192.168.", "7.", "1.2.3.", " - ", "02)",
        ];
        for (ty, hand) in hands {
            let pattern = BUILTIN
                .iter()
                .find(|(t, _)| *t == ty)
                .map(|(_, p)| p.replace(r"\b", r"(?-u:\b)"))
                .unwrap_or_default();
            let re = meta::Regex::new(&pattern).unwrap();
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            let (mut decided, mut matched) = (0, 0);
            for _ in 0..20_000 {
                let mut s = String::new();
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let len = 6 + (x >> 33) as usize % 30;
                for _ in 0..len {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let r = (x >> 33) as usize;
                    let digit = (b'0' + (r / 5 % 10) as u8) as char;
                    match r % 5 {
                        0 => s.push_str(pieces[r / 5 % pieces.len()]),
                        _ => s.push(digit),
                    }
                }
                let b = s.as_bytes();
                for p in 0..b.len() {
                    for hi in [b.len(), b.len().saturating_sub(2)] {
                        if p >= hi {
                            continue;
                        }
                        let Some(got) = hand(b, p, hi) else { continue };
                        decided += 1;
                        matched += usize::from(got.is_some());
                        let input = Input::new(&s).range(p..hi).anchored(Anchored::Yes);
                        let want = re.search(&input).map(|m| m.end());
                        assert_eq!(got, want, "{ty:?} {s:?} at {p}..{hi}");
                    }
                }
            }
            // The phone matcher only ever rules out (its one branch that matched by
            // hand, representative numbers, is gone).
            assert!(
                decided > 100_000 && (matched > 0 || ty == PiiType::Phone),
                "{ty:?}: {decided} {matched}"
            );
        }
    }
}
