//! Actions: what a found value is replaced with.
//!
//! - replace: `[REDACTED:<type>]`
//! - mask: letters, digits and non-ASCII characters become `*` except the last N letters
//!   and digits (at most half of them); punctuation and spaces stay, so `010-1234-5678`
//!   → `***-****-5678`
//! - hash: `<type>:<hex>`, the first `length` hex digits of HMAC-SHA256 over the value's
//!   canonical form (digits only for numbers, lowercase for e-mail, `+82 10…` → `010…`),
//!   so the same person maps to the same token however the value was spelled, in every
//!   log and service that shares the key
//! - drop: removes the field (decided by the caller); in free text, the empty string

use std::fmt::Write as _;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::redact::{PiiType, RedactAction};

use super::Sensitive;

type HmacSha256 = Hmac<Sha256>;

/// The keyed hash, ready to clone per value.
#[derive(Clone)]
pub(crate) struct Hasher {
    mac: Sensitive<HmacSha256>,
    hex_len: usize,
}

impl Hasher {
    pub(crate) fn new(key: &[u8], hex_len: usize) -> Option<Self> {
        let mac = HmacSha256::new_from_slice(key).ok()?;
        Some(Self {
            mac: Sensitive::new(mac),
            hex_len: hex_len.clamp(8, 64),
        })
    }

    /// Appends the first `hex_len` hex digits of the HMAC of `value` to `out`.
    pub(crate) fn write_hex(&self, value: &[u8], out: &mut String) {
        let mut mac = self.mac.expose().clone();
        mac.update(value);
        let digest = mac.finalize().into_bytes();
        for b in digest.iter() {
            let _ = write!(out, "{b:02x}");
        }
        let keep = out.len() - 64 + self.hex_len;
        out.truncate(keep);
    }
}

/// The form of a value that is hashed: equal people, equal hashes.
fn canonical(ty: Option<PiiType>, value: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let alnum = |upper: bool| -> String {
        value
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| if upper { c.to_ascii_uppercase() } else { c })
            .collect()
    };
    match ty {
        Some(PiiType::Email) => Cow::Owned(value.to_ascii_lowercase()),
        Some(PiiType::Phone) => {
            let digits = alnum(false);
            match digits.strip_prefix("82").filter(|_| value.starts_with('+')) {
                Some(rest) => Cow::Owned(format!("0{}", rest.trim_start_matches('0'))),
                None => Cow::Owned(digits),
            }
        }
        Some(PiiType::PhoneIntl) => Cow::Owned(format!("+{}", alnum(false))),
        Some(
            PiiType::CreditCard
            | PiiType::KrRrn
            | PiiType::KrFrn
            | PiiType::KrBrn
            | PiiType::UsSsn
            | PiiType::Iban
            | PiiType::KrPassport,
        ) => Cow::Owned(alnum(true)),
        _ => Cow::Borrowed(value),
    }
}

/// Masks `value` keeping the last `keep` letters and digits.
pub(crate) fn mask(value: &str, keep: usize, out: &mut String) {
    let alnum = value.chars().filter(char::is_ascii_alphanumeric).count();
    // Never reveal more than half of a short value.
    let keep = keep.min(alnum / 2);
    let mut seen = 0;
    for c in value.chars() {
        if c.is_ascii_alphanumeric() {
            seen += 1;
            out.push(if seen + keep > alnum { c } else { '*' });
        } else if c.is_ascii() {
            out.push(c);
        } else {
            out.push('*');
        }
    }
}

/// Appends the replacement of `value` (of type `name`, built-in type `ty` if any) under
/// `action` to `out`. `Drop` appends nothing.
pub(crate) fn apply(
    action: RedactAction,
    name: &str,
    ty: Option<PiiType>,
    value: &str,
    mask_keep: usize,
    hasher: Option<&Hasher>,
    out: &mut String,
) {
    match action {
        RedactAction::Replace => {
            out.push_str("[REDACTED:");
            out.push_str(name);
            out.push(']');
        }
        RedactAction::Mask => mask(value, mask_keep, out),
        RedactAction::Hash => match hasher {
            Some(h) => {
                out.push_str(name);
                out.push(':');
                h.write_hex(canonical(ty, value).as_bytes(), out);
            }
            // The config refuses `hash` without a key; fail closed all the same.
            None => {
                out.push_str("[REDACTED:");
                out.push_str(name);
                out.push(']');
            }
        },
        RedactAction::Drop => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_the_tail_and_the_punctuation() {
        let m = |v: &str, keep| {
            let mut out = String::new();
            mask(v, keep, &mut out);
            out
        };
        assert_eq!(m("010-1234-5678", 4), "***-****-5678");
        assert_eq!(m("4111 1111 1111 1111", 4), "**** **** **** 1111");
        assert_eq!(m("kim@ex.com", 0), "***@**.***");
        assert_eq!(m("1234", 4), "**34");
        assert_eq!(m("홍길동", 2), "***");
    }

    #[test]
    fn hashes_are_keyed_truncated_and_canonical() {
        let h = Hasher::new(b"0123456789abcdef", 16).unwrap();
        let hash = |ty, v: &str| {
            let mut out = String::new();
            apply(RedactAction::Hash, "phone", ty, v, 4, Some(&h), &mut out);
            out
        };
        let a = hash(Some(PiiType::Phone), "010-1234-5678");
        assert_eq!(a.len(), "phone:".len() + 16);
        assert_eq!(a, hash(Some(PiiType::Phone), "01012345678"));
        assert_eq!(a, hash(Some(PiiType::Phone), "+82 10-1234-5678"));
        assert_ne!(a, hash(Some(PiiType::Phone), "010-1234-5679"));
        let other = Hasher::new(b"another key 16 bytes", 16).unwrap();
        let mut b = String::new();
        apply(
            RedactAction::Hash,
            "phone",
            Some(PiiType::Phone),
            "010-1234-5678",
            4,
            Some(&other),
            &mut b,
        );
        assert_ne!(a, b);
    }
}
