//! What redaction finds and what it does with it: the kinds of personal or secret data
//! ([`PiiType`]), the actions ([`RedactAction`]) and the checks a custom detector's match
//! passes ([`Validator`]). `processors.redaction` names them in the config
//! ([`crate::config::RedactionConfig`]); the names are also the `type` and `action` labels
//! of the metrics.

/// A kind of personal or secret data a built-in detector finds. The name is the type in
/// `[REDACTED:<type>]`, in config keys and in the `type` label of the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiType {
    Email,
    /// Korean mobile, landline and 050x safe numbers, with `+82`/`0082` or without.
    /// Representative numbers (`1588-1234`) are not personal and are left alone.
    Phone,
    /// E.164 numbers written with a leading `+`.
    PhoneIntl,
    CreditCard,
    /// Korean resident registration number (주민등록번호).
    KrRrn,
    /// Korean foreigner registration number (외국인등록번호).
    KrFrn,
    /// Korean business registration number (사업자등록번호).
    KrBrn,
    KrPassport,
    Iban,
    UsSsn,
    Ipv4,
    Ipv6,
    Jwt,
    /// Bearer and Basic credentials.
    AuthHeader,
    AwsKey,
    GithubToken,
    SlackToken,
    GoogleApiKey,
    PrivateKey,
    /// The password of `scheme://user:pass@host`.
    UrlPassword,
    /// Values of sensitive query parameters (`token=`, `password=`, `api_key=`, …).
    UrlSecret,
    /// Values under sensitive keys (JSON members, attributes, `password=…` in text).
    Secret,
    /// A date of birth: a real date under a birth-date key (`dob`, `birthday`,
    /// `생년월일`, …) or after such a word in text. Other dates are never touched.
    DateOfBirth,
    /// A Korean bank account number (계좌번호) in a bank's grouping or plain 10–14
    /// digits, under an account key or after `계좌`, `account` or a bank's name.
    KrBankAccount,
    /// A Korean driver licence number (운전면허번호): `11-22-123456-78` with a region
    /// code first; 12 plain digits only with context.
    KrDriverLicense,
    /// A US (NANP) phone number without `+`: `(415) 555-0134`, `415-555-0134`,
    /// `1-415-555-0134`; 10 plain digits only with context.
    UsPhone,
    /// A webhook URL that carries its secret in the path (Slack, Discord, Teams, …).
    WebhookUrl,
    /// A vendor-prefixed API key (Stripe, SendGrid, OpenAI, GitLab, npm, PyPI, …), or a
    /// long random token under a credential key or after a credential word.
    ApiKey,
}

impl PiiType {
    pub const ALL: [PiiType; 28] = [
        PiiType::Email,
        PiiType::Phone,
        PiiType::PhoneIntl,
        PiiType::CreditCard,
        PiiType::KrRrn,
        PiiType::KrFrn,
        PiiType::KrBrn,
        PiiType::KrPassport,
        PiiType::Iban,
        PiiType::UsSsn,
        PiiType::Ipv4,
        PiiType::Ipv6,
        PiiType::Jwt,
        PiiType::AuthHeader,
        PiiType::AwsKey,
        PiiType::GithubToken,
        PiiType::SlackToken,
        PiiType::GoogleApiKey,
        PiiType::PrivateKey,
        PiiType::UrlPassword,
        PiiType::UrlSecret,
        PiiType::Secret,
        PiiType::DateOfBirth,
        PiiType::KrBankAccount,
        PiiType::KrDriverLicense,
        PiiType::UsPhone,
        PiiType::WebhookUrl,
        PiiType::ApiKey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PiiType::Email => "email",
            PiiType::Phone => "phone",
            PiiType::PhoneIntl => "phone_intl",
            PiiType::CreditCard => "credit_card",
            PiiType::KrRrn => "kr_rrn",
            PiiType::KrFrn => "kr_frn",
            PiiType::KrBrn => "kr_brn",
            PiiType::KrPassport => "kr_passport",
            PiiType::Iban => "iban",
            PiiType::UsSsn => "us_ssn",
            PiiType::Ipv4 => "ipv4",
            PiiType::Ipv6 => "ipv6",
            PiiType::Jwt => "jwt",
            PiiType::AuthHeader => "auth_header",
            PiiType::AwsKey => "aws_key",
            PiiType::GithubToken => "github_token",
            PiiType::SlackToken => "slack_token",
            PiiType::GoogleApiKey => "google_api_key",
            PiiType::PrivateKey => "private_key",
            PiiType::UrlPassword => "url_password",
            PiiType::UrlSecret => "url_secret",
            PiiType::Secret => "secret",
            PiiType::DateOfBirth => "date_of_birth",
            PiiType::KrBankAccount => "kr_bank_account",
            PiiType::KrDriverLicense => "kr_driver_license",
            PiiType::UsPhone => "us_phone",
            PiiType::WebhookUrl => "webhook_url",
            PiiType::ApiKey => "api_key",
        }
    }

    pub fn from_name(name: &str) -> Option<PiiType> {
        PiiType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// What happens to a value a detector or key rule found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RedactAction {
    /// `replace`: `[REDACTED:<type>]`.
    Replace,
    /// `mask`: every letter and digit becomes `*` except the last `mask.keep`.
    Mask,
    /// `hash`: `<type>:<hex>`, a truncated HMAC-SHA256 of the value under `hash.key`.
    Hash,
    /// `drop`: the attribute, JSON member or array element is removed; in free text (a
    /// plain string body, a span name) the match is removed.
    Drop,
}

impl RedactAction {
    pub const ALL: [RedactAction; 4] = [
        RedactAction::Replace,
        RedactAction::Mask,
        RedactAction::Hash,
        RedactAction::Drop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RedactAction::Replace => "replace",
            RedactAction::Mask => "mask",
            RedactAction::Hash => "hash",
            RedactAction::Drop => "drop",
        }
    }
}

/// A check run on a regex match before it counts (custom detectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Validator {
    /// `luhn`: the digits pass the Luhn checksum (payment cards).
    Luhn,
    /// `iban`: ISO 13616 mod-97.
    Iban,
    /// `kr_rrn`: a real birth date and a valid sex digit.
    KrRrn,
    /// `kr_brn`: the business registration number checksum.
    KrBrn,
}

impl Validator {
    /// Each validator with its name in the config.
    pub const NAMED: [(&str, Validator); 4] = [
        ("luhn", Validator::Luhn),
        ("iban", Validator::Iban),
        ("kr_rrn", Validator::KrRrn),
        ("kr_brn", Validator::KrBrn),
    ];
}
