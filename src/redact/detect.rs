//! Detection: every enabled detector, built-in and custom, compiled into one multi-pattern
//! regex ([`meta::Regex::new_many`]) so a string is scanned once, whatever the number of
//! detectors. Candidates then go through their validator (Luhn, dates, mod-97, …).
//!
//! Built-in patterns match ASCII only and use ASCII word boundaries (`(?-u:\b)`), which the
//! lazy DFA handles on any text, Korean included (a Unicode `\b` would make it give up on
//! the first non-ASCII byte). When a candidate fails its validator, the other patterns are
//! tried anchored at the same place before the search moves on by one character, so a
//! failed card candidate cannot hide a resident number that starts at the same digit.

use regex_automata::meta::{self, Cache};
use regex_automata::{Anchored, Input, PatternID};

use crate::config::{CustomDetector, PiiType, RedactionConfig, Validator, compile_regex};

use super::{RedactError, TypeId, validate};

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

/// Built-in patterns in priority order (the first wins when two start at the same place).
/// `\b` is replaced by an ASCII word boundary.
const BUILTIN: &[(PiiType, &str)] = &[
    (
        PiiType::PrivateKey,
        r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----[A-Za-z0-9+/=\s\\:,]*(?:-----END [A-Z ]{0,40}PRIVATE KEY-----)?",
    ),
    (
        PiiType::Jwt,
        r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
    ),
    (
        PiiType::UrlPassword,
        r"\b[A-Za-z][A-Za-z0-9+.-]{1,15}://[A-Za-z0-9._~%!$&'()*+,;=-]+:[A-Za-z0-9._~%!$&'()*+,;=-]+@",
    ),
    (
        PiiType::AuthHeader,
        r"\b(?i:bearer|basic)[ ]+[A-Za-z0-9._~+/-]{8,}=*",
    ),
    (
        PiiType::GithubToken,
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,247})\b",
    ),
    (PiiType::SlackToken, r"\bxox[abposr]-[A-Za-z0-9-]{10,250}"),
    (PiiType::GoogleApiKey, r"\bAIza[0-9A-Za-z_-]{35}"),
    (PiiType::AwsKey, r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    (
        PiiType::Email,
        r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b",
    ),
    (
        PiiType::UrlSecret,
        r"[?&;](?i:access_token|refresh_token|id_token|token|password|passwd|pwd|secret|client_secret|api_key|apikey|api-key|auth|sig|signature|session|sessionid|session_id|code|x-amz-signature|x-amz-credential|x-amz-security-token)=[A-Za-z0-9._~%!$'()*+,:@/=-]+",
    ),
    (
        PiiType::Secret,
        r#"[A-Za-z0-9_.-]*(?i:pass(?:word|wd|phrase)|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|authorization|credentials?|cookie|session(?:[_-]?id)?|ssn|card[_-]?(?:number|num|no)|cvv|cvc|pin)["']?[ \t]*[:=][ \t]*["']?(?:(?i:bearer|basic|token)[ ]+)?[^\s"'&,;}<>\\]+"#,
    ),
    (
        PiiType::Iban,
        r"\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}\b",
    ),
    // Resident and foreigner numbers share one pattern (`Kind::Resident`).
    (
        PiiType::KrRrn,
        r"\b[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[ -]?[0-9]{7}\b",
    ),
    (PiiType::KrBrn, r"\b[0-9]{3}-[0-9]{2}-[0-9]{5}\b"),
    (PiiType::UsSsn, r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b"),
    (PiiType::CreditCard, r"\b[2-6][0-9](?:[ -]?[0-9]){11,17}\b"),
    (
        PiiType::Phone,
        concat!(
            // Mobile: 010-1234-5678, 01012345678, 010 1234 5678, +82 10-1234-5678.
            r"(?:\+82[ -]?0?|\b0)1[016789][ .-]?[0-9]{3,4}[ .-]?[0-9]{4}\b",
            // Landlines and 070, with separators: 02-123-4567, +82-31-123-4567, (02) 123-4567.
            r"|(?:\+82[ -]?0?|\b0)(?:2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70)[ .-][0-9]{3,4}[ .-][0-9]{4}\b",
            r"|\(0(?:2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70)\)[ ]?[0-9]{3,4}[ .-][0-9]{4}\b",
            // Service numbers: 1588-1234.
            r"|\b1(?:5[0-9]{2}|6[0-9]{2}|8[0-9]{2})-[0-9]{4}\b",
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
        r"\b[MSROD](?:[0-9]{8}|[0-9]{3}[A-Z][0-9]{4})\b",
    ),
];

/// The compiled detectors of one config.
pub(crate) struct Detectors {
    /// `None` when every detector is off.
    re: Option<meta::Regex>,
    kinds: Vec<Kind>,
}

impl Detectors {
    /// `custom_ids[i]` is the type of `cfg.custom[i]`.
    pub(crate) fn new(cfg: &RedactionConfig, custom_ids: &[TypeId]) -> Result<Self, RedactError> {
        let mut patterns: Vec<String> = Vec::new();
        let mut kinds = Vec::new();
        for (c, &id) in cfg.custom.iter().zip(custom_ids) {
            let CustomDetector {
                regex, validator, ..
            } = c;
            // Checked by the config decoder already; checked again for embedders.
            compile_regex(regex).map_err(RedactError::Regex)?;
            patterns.push(regex.clone());
            kinds.push(Kind::Custom(id, *validator));
        }
        let frn_on = cfg.action_of(PiiType::KrFrn).is_some();
        for &(t, pattern) in BUILTIN {
            let on = cfg.action_of(t).is_some() || (t == PiiType::KrRrn && frn_on);
            if !on {
                continue;
            }
            patterns.push(pattern.replace(r"\b", r"(?-u:\b)"));
            kinds.push(match t {
                PiiType::KrRrn => Kind::Resident,
                t => Kind::Builtin(t),
            });
        }
        if patterns.is_empty() {
            return Ok(Self { re: None, kinds });
        }
        let re = meta::Regex::new_many(&patterns).map_err(|e| RedactError::Regex(e.to_string()))?;
        Ok(Self {
            re: Some(re),
            kinds,
        })
    }

    /// A search cache for [`Detectors::find`]; one per thread of work.
    pub(crate) fn cache(&self) -> Option<Cache> {
        self.re.as_ref().map(meta::Regex::create_cache)
    }

    /// Appends every validated match in `hay`, left to right and not overlapping, to
    /// `out`. `enabled` says whether a type found by the resident pattern is on.
    pub(crate) fn find(
        &self,
        cache: &mut Option<Cache>,
        hay: &str,
        enabled: impl Fn(PiiType) -> bool,
        out: &mut Vec<Found>,
    ) {
        let (Some(re), Some(cache)) = (&self.re, cache.as_mut()) else {
            return;
        };
        let mut pos = 0;
        while pos < hay.len() {
            let input = Input::new(hay).range(pos..);
            let Some(m) = re.search_with(cache, &input) else {
                break;
            };
            let found = self
                .check(m.pattern(), hay, m.start(), m.end(), &enabled)
                .map(|f| (f, m.end()))
                .or_else(|| self.retry(re, cache, hay, m.start(), m.pattern(), &enabled));
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
        re: &meta::Regex,
        cache: &mut Cache,
        hay: &str,
        start: usize,
        failed: PatternID,
        enabled: &impl Fn(PiiType) -> bool,
    ) -> Option<(Found, usize)> {
        for i in 0..self.kinds.len() {
            let Some(pid) = PatternID::new(i).ok().filter(|p| *p != failed) else {
                continue;
            };
            let input = Input::new(hay)
                .range(start..)
                .anchored(Anchored::Pattern(pid));
            if let Some(m) = re.search_with(cache, &input)
                && let Some(f) = self.check(pid, hay, m.start(), m.end(), enabled)
            {
                return Some((f, m.end()));
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
                    PiiType::CreditCard => (0, validate::card(text)?),
                    PiiType::Iban => (0, validate::iban(text)?),
                    PiiType::KrBrn => validate::brn(text).then_some((0, text.len()))?,
                    PiiType::UsSsn => validate::ssn(text).then_some((0, text.len()))?,
                    PiiType::Ipv4 => validate::ipv4(b, start, end).then_some((0, text.len()))?,
                    PiiType::Ipv6 => validate::ipv6(&hay[start..end]).then_some((0, text.len()))?,
                    PiiType::PhoneIntl => (0, validate::phone_intl(b, start, end)?),
                    PiiType::AuthHeader => validate::auth_header(text)?,
                    PiiType::UrlPassword => validate::url_password(text)?,
                    PiiType::UrlSecret => validate::url_secret(text)?,
                    PiiType::Secret => validate::key_value(text)?,
                    _ => (0, text.len()),
                };
                builtin(t, s, e)
            }
        }
    }
}
