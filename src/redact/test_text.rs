//! What the redaction tests of whole texts share: the default policy's output of a text,
//! and checks that values are gone from it or left in it.

use super::{RedactionConfig, Redactor};

/// `s` redacted with the default policy (itself when nothing was found).
pub fn redact(s: &str) -> String {
    let r = Redactor::new(&RedactionConfig::default()).unwrap();
    r.session().redact_str(s).unwrap_or_else(|| s.to_string())
}

/// Each of `values` is absent from `out`.
pub fn gone(out: &str, values: &[&str]) {
    for v in values {
        assert!(!out.contains(v), "{v:?} left in {out:?}");
    }
}

/// Each of `values` is still in `out`.
pub fn left(out: &str, values: &[&str]) {
    for v in values {
        assert!(out.contains(v), "{v:?} changed in {out:?}");
    }
}

/// Owned (key, value) pairs, to compare with what a reader of keyed values found.
pub fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}
