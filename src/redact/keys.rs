//! Key rules: which keys (JSON members, attributes, map entries) have their whole value
//! redacted, and which are never scanned at all.

use regex_automata::meta;

use crate::config::KeyRules as KeyRulesConfig;
use crate::user_regex::compile_set;

use super::{PiiType, RedactError, context};

/// Built-in sensitive names. A key is sensitive when its name, lowercased and stripped of
/// everything but ASCII letters and digits, ends with one of these: `user_password`,
/// `X-Api-Key`, `http.request.header.authorization` and `csrfToken` all are; `max_tokens`
/// and `token_count` are not. `is_builtin_sensitive` holds them by last letter; a test
/// checks that it finds every one (28 there too).
#[cfg(test)]
const SENSITIVE: [&[u8]; 28] = [
    b"password",
    b"passwd",
    b"pwd",
    b"passphrase",
    b"secret",
    b"secretkey",
    b"token",
    b"apikey",
    b"accesskey",
    b"privatekey",
    b"authorization",
    b"credential",
    b"credentials",
    b"cookie",
    b"session",
    b"sessionid",
    b"sessid",
    b"ssn",
    b"cardnumber",
    b"cardno",
    b"cardnum",
    b"creditcard",
    b"cvv",
    b"cvc",
    b"pin",
    b"jumin",
    b"rrn",
    b"otp",
];

/// Keys that are never scanned unless the config says otherwise: ids and times that
/// must survive byte for byte, and the resource attributes SLOs group by.
pub const DEFAULT_IGNORED: [&str; 24] = [
    "trace_id",
    "traceid",
    "trace.id",
    "span_id",
    "spanid",
    "span.id",
    "parent_span_id",
    "parentspanid",
    "parent_id",
    "timestamp",
    "@timestamp",
    "time",
    "ts",
    "observed_timestamp",
    "observedtimestamp",
    "service.name",
    "service.namespace",
    "service.version",
    "service.instance.id",
    "telemetry.sdk.name",
    "telemetry.sdk.language",
    "telemetry.sdk.version",
    "k8s.cluster.name",
    "k8s.namespace.name",
];

/// What a key means for its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyClass {
    /// Scan the value.
    Normal,
    /// Redact the whole value (type `secret`).
    Sensitive,
    /// Leave the value alone, whatever it holds.
    Ignored,
}

/// True when `key` ends, once normalised, with a built-in sensitive name, or its last
/// word is a short spelling of "password" (`pass`, `pw`, `passcode`, `user_pw`,
/// `loginPw`; not `bypass`) or it names one in Korean (`비밀번호`, `패스워드`, `비번`, `…암호`).
pub(crate) fn is_builtin_sensitive(key: &[u8]) -> bool {
    suffix_sensitive(key) || password_word(key)
}

/// The last word of `key` (split at non-alphanumerics and lower→upper case changes) is
/// a spelling of "password", or the key holds one in Korean.
fn password_word(key: &[u8]) -> bool {
    if !key.is_ascii() {
        let korean = ["비밀번호", "패스워드", "비번"];
        return korean
            .iter()
            .any(|w| super::starts::contains(key, w.as_bytes()))
            || key.ends_with("암호".as_bytes());
    }
    let end = key
        .iter()
        .rposition(u8::is_ascii_alphanumeric)
        .map_or(0, |e| e + 1);
    let mut start = end;
    while start > 0 {
        let c = key[start - 1];
        if !c.is_ascii_alphanumeric() {
            break;
        }
        start -= 1;
        // `loginPw`: the word starts at the capital after a lowercase letter.
        if c.is_ascii_uppercase() && start > 0 && key[start - 1].is_ascii_lowercase() {
            break;
        }
    }
    let word = &key[start..end];
    [
        "pass",
        "pw",
        "passcode",
        "passwort",
        "contrasena",
        "senha",
        "mdp",
        "motdepasse",
    ]
    .iter()
    .any(|w| word.eq_ignore_ascii_case(w.as_bytes()))
}

fn suffix_sensitive(key: &[u8]) -> bool {
    // The last two letters or digits, lowercased (every name has three or more).
    let mut tail = key
        .iter()
        .rev()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase);
    let (Some(z), Some(y)) = (tail.next(), tail.next()) else {
        return false;
    };
    // Only the names that end with those two (each name is in `SENSITIVE`).
    let names: &[&[u8]] = match [y, z] {
        [b'r', b'd'] => &[b"password", b"creditcard"],
        [b'w', b'd'] => &[b"passwd", b"pwd"],
        [b'i', b'd'] => &[b"sessionid", b"sessid"],
        [b's', b'e'] => &[b"passphrase"],
        [b'i', b'e'] => &[b"cookie"],
        [b'e', b't'] => &[b"secret"],
        [b'e', b'y'] => &[b"secretkey", b"apikey", b"accesskey", b"privatekey"],
        [b'e', b'n'] => &[b"token"],
        [b'o', b'n'] => &[b"authorization", b"session"],
        [b'i', b'n'] => &[b"pin", b"jumin"],
        [b'r', b'n'] => &[b"rrn"],
        [b's', b'n'] if issn_word(key) => return false,
        [b's', b'n'] => &[b"ssn"],
        [b'a', b'l'] => &[b"credential"],
        [b'l', b's'] => &[b"credentials"],
        [b'e', b'r'] => &[b"cardnumber"],
        [b'n', b'o'] => &[b"cardno"],
        [b'u', b'm'] => &[b"cardnum"],
        [b'v', b'v'] => &[b"cvv"],
        [b'v', b'c'] => &[b"cvc"],
        [b't', b'p'] => &[b"otp"],
        _ => return false,
    };
    names.iter().any(|name| ends_with_normalised(key, name))
}

/// Whether the last word of `key` is `issn`, `eissn` or `pissn` (ISO 3297: a serial's
/// number, its electronic or print edition's): it ends as `ssn` does, but names no person.
/// Words split at non-alphanumerics and at a lower→upper case change (`journalIssn`).
fn issn_word(key: &[u8]) -> bool {
    let end = key
        .iter()
        .rposition(u8::is_ascii_alphanumeric)
        .map_or(0, |e| e + 1);
    let word = &key[..end];
    let start = word
        .iter()
        .rposition(|c| !c.is_ascii_alphanumeric())
        .map_or(0, |i| i + 1);
    let mut word = &word[start..];
    // `journalIssn`, `printISSN`: the word starts at the last `I` after a lowercase letter.
    if let Some(i) = word
        .windows(2)
        .rposition(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
    {
        word = &word[i + 1..];
    }
    [&b"issn"[..], b"eissn", b"pissn"]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w))
}

/// Whether `key`'s ASCII letters and digits, lowercased, end with `name` (lowercase).
fn ends_with_normalised(key: &[u8], name: &[u8]) -> bool {
    let mut rest = key.iter().rev().filter(|c| c.is_ascii_alphanumeric());
    name.iter()
        .rev()
        .all(|&n| rest.next().is_some_and(|c| c.to_ascii_lowercase() == n))
}

/// The compiled key rules.
pub(crate) struct KeyRules {
    builtin: bool,
    extra: Option<meta::Regex>,
    /// Ignored keys, lowercase, by length (the last: longer): a key is compared with
    /// the few of its length only.
    ignore: Vec<Vec<String>>,
}

/// The `KeyRules::ignore` slot of a key `len` bytes long.
fn ignore_slot(len: usize) -> usize {
    len.min(64)
}

impl KeyRules {
    pub(crate) fn new(cfg: &KeyRulesConfig, secret_on: bool) -> Result<Self, RedactError> {
        let extra = match (secret_on, cfg.sensitive.as_slice()) {
            (false, _) | (_, []) => None,
            (true, patterns) => Some(compile_set(patterns)?),
        };
        let mut ignore = vec![Vec::new(); ignore_slot(usize::MAX) + 1];
        let keys = DEFAULT_IGNORED.iter().map(|k| k.to_string());
        for k in keys.chain(cfg.ignore.iter().map(|k| k.to_ascii_lowercase())) {
            ignore[ignore_slot(k.len())].push(k);
        }
        Ok(Self {
            builtin: secret_on && cfg.builtin_sensitive,
            extra,
            ignore,
        })
    }

    /// Whether `key` is one that is never scanned.
    pub(crate) fn ignored(&self, key: &[u8]) -> bool {
        self.ignore
            .get(ignore_slot(key.len()))
            .is_some_and(|slot| slot.iter().any(|k| k.as_bytes().eq_ignore_ascii_case(key)))
    }

    /// Whether the value at `at` in text is written under a key that is never scanned
    /// (`ts=…`, `trace_id: …`), as the same key in JSON would be.
    pub(crate) fn ignored_in_text(&self, b: &[u8], at: usize) -> bool {
        super::context::key_before(b, at).is_some_and(|(key, _)| self.ignored(key))
    }

    pub(crate) fn classify(&self, key: &str) -> KeyClass {
        if self.ignored(key.as_bytes()) {
            return KeyClass::Ignored;
        }
        if (self.builtin && is_builtin_sensitive(key.as_bytes()))
            || self.extra.as_ref().is_some_and(|re| re.is_match(key))
        {
            return KeyClass::Sensitive;
        }
        KeyClass::Normal
    }
}

/// What a value under a key of class `class` is as a whole, when the key says so: a
/// secret under a sensitive key (built-in or configured); an API key for a random token
/// ([`context::token_like`]) under a credential name (`auth`, `signature`); nothing
/// under an ignored key. The one decision for JSON members written in text
/// (`auth=…`), CSV columns, SQL column lists, element names and form-data parts.
pub(crate) fn whole_value(class: KeyClass, key: &str, value: &str) -> Option<PiiType> {
    if value.is_empty() {
        return None;
    }
    match class {
        KeyClass::Ignored => None,
        KeyClass::Sensitive => Some(PiiType::Secret),
        KeyClass::Normal => (context::Key(Some(key)).hint() & context::CREDENTIAL != 0
            && context::token_like(value))
        .then_some(PiiType::ApiKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_values_follow_the_key_rules() {
        let rules = |builtin_sensitive, sensitive: &[&str], ignore: &[&str]| {
            let cfg = KeyRulesConfig {
                builtin_sensitive,
                sensitive: sensitive.iter().map(|s| s.to_string()).collect(),
                ignore: ignore.iter().map(|s| s.to_string()).collect(),
            };
            KeyRules::new(&cfg, true).unwrap()
        };
        let value = |r: &KeyRules, key: &str, v: &str| whole_value(r.classify(key), key, v);
        let builtin = rules(true, &[], &[]);
        assert_eq!(value(&builtin, "db_password", "x"), Some(PiiType::Secret));
        assert_eq!(
            value(&builtin, "SecretAccessKey", "x"),
            Some(PiiType::Secret)
        );
        assert_eq!(value(&builtin, "password", ""), None);
        assert_eq!(value(&builtin, "note", "x"), None);
        let token = "q8Zr2LmX0vT4bN7cJ1wY5kP3";
        assert_eq!(value(&builtin, "signature", token), Some(PiiType::ApiKey));
        assert_eq!(value(&builtin, "signature", "ok"), None);
        // GitHub's webhook header (docs.github.com, "Validating webhook deliveries"):
        // `sha256=` and the HMAC-SHA256 of the body in hex.
        let hub = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            value(&builtin, "X-Hub-Signature-256", hub),
            Some(PiiType::ApiKey)
        );
        assert_eq!(
            value(&builtin, "x_hub_signature_512", hub),
            Some(PiiType::ApiKey)
        );
        // Built-in names off; configured names on; an ignored name wins.
        let configured = rules(false, &["(?i)^nick"], &["db_password", "signature"]);
        assert_eq!(value(&configured, "db_password", "x"), None);
        assert_eq!(value(&configured, "signature", token), None);
        assert_eq!(value(&configured, "SecretAccessKey", "x"), None);
        assert_eq!(value(&configured, "Nickname", "x"), Some(PiiType::Secret));
    }

    #[test]
    fn an_issn_key_is_not_an_ssn_key() {
        // ISO 3297: an ISSN (`0317-8471`) names a serial; its key ends as `ssn` does.
        for key in [
            "issn",
            "ISSN",
            "journal_issn",
            "journalIssn",
            "eISSN",
            "e-issn",
            "print.ISSN",
        ] {
            assert!(!is_builtin_sensitive(key.as_bytes()), "{key}");
        }
        for key in [
            "ssn",
            "user_ssn",
            "customerSsn",
            "SSN",
            "applicant-ssn",
            "missn_ssn",
        ] {
            assert!(is_builtin_sensitive(key.as_bytes()), "{key}");
        }
    }

    #[test]
    fn every_name_is_found_by_its_last_letters() {
        for name in SENSITIVE {
            assert!(
                is_builtin_sensitive(name),
                "{}",
                String::from_utf8_lossy(name)
            );
            let mut key = b"x_".to_vec();
            key.extend_from_slice(name);
            assert!(is_builtin_sensitive(&key));
        }
    }

    #[test]
    fn sensitive_names() {
        for key in [
            "password",
            "user_password",
            "X-Api-Key",
            "http.request.header.authorization",
            "csrfToken",
            "Set-Cookie",
            "card_number",
            "client_secret",
            "aws_secret_access_key",
            "PIN",
            "PHPSESSID",
        ] {
            assert!(is_builtin_sensitive(key.as_bytes()), "{key}");
        }
        for key in [
            "pass",
            "user_pw",
            "loginPw",
            "PASSCODE",
            "비밀번호",
            "사용자_비밀번호",
            "계정암호",
        ] {
            assert!(is_builtin_sensitive(key.as_bytes()), "{key}");
        }
        for key in [
            "bypass",
            "compass",
            "암호화_방식",
            "max_tokens",
            "token_count",
            "user",
            "email",
            "http.route",
            "shipping",
            "",
        ] {
            assert!(!is_builtin_sensitive(key.as_bytes()), "{key}");
        }
    }

    #[test]
    fn classify() {
        let cfg = KeyRulesConfig {
            builtin_sensitive: true,
            sensitive: vec!["^x-internal-".into()],
            ignore: vec!["Request_ID".into()],
        };
        let rules = KeyRules::new(&cfg, true).unwrap();
        assert_eq!(rules.classify("trace_id"), KeyClass::Ignored);
        assert_eq!(rules.classify("TraceId"), KeyClass::Ignored);
        assert_eq!(rules.classify("request_id"), KeyClass::Ignored);
        assert_eq!(rules.classify("x-internal-user"), KeyClass::Sensitive);
        assert_eq!(rules.classify("password"), KeyClass::Sensitive);
        assert_eq!(rules.classify("message"), KeyClass::Normal);
        let text = b"level=info ts=1705242011802 trace_id: 4111111111111111 n=1";
        let at = |w: &[u8]| text.windows(w.len()).position(|x| x == w).unwrap_or(0);
        assert!(rules.ignored_in_text(text, at(b"1705")));
        assert!(rules.ignored_in_text(text, at(b"4111")));
        assert!(!rules.ignored_in_text(text, at(b"info")));
        assert!(!rules.ignored_in_text(text, at(b"1 ")));
        let off = KeyRules::new(&cfg, false).unwrap();
        assert_eq!(off.classify("password"), KeyClass::Normal);
    }
}
