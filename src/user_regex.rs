//! Regexes written by users (custom redaction detectors, allow lists, key rules, policy
//! matches in the config; `IsMatch` in SLO conditions), compiled under one policy, alone
//! ([`compile_regex`]) or as a set searched at once ([`compile_set`]): a
//! bounded source, bounded nesting and a bounded compiled size, so a hostile or careless
//! pattern is a clear error instead of a slow start or a stack overflow. The error
//! ([`RegexError`]) says which limit or what syntax; the caller places it (file, line,
//! column).

use regex_automata::meta;
use regex_automata::util::syntax;

/// The longest regex source accepted, in bytes.
pub const MAX_REGEX_LEN: usize = 4096;

/// The largest compiled (NFA) size of one regex, in bytes.
pub const MAX_REGEX_BYTES: usize = 512 * 1024;

/// The deepest nesting of groups and repetitions in one regex.
pub const MAX_REGEX_NEST: u32 = 32;

/// The largest compiled (NFA) size of a set of user regexes searched at once (custom
/// detectors, sensitive keys), in bytes.
pub const MAX_REGEX_SET_BYTES: usize = 10 * 1024 * 1024;

/// Why a user regex was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegexError {
    /// The source is longer than [`MAX_REGEX_LEN`].
    #[error("regex is longer than {MAX_REGEX_LEN} bytes")]
    TooLong,
    /// One regex compiles to more than [`MAX_REGEX_BYTES`].
    #[error("regex is too large: its compiled form exceeds {} KiB", MAX_REGEX_BYTES / 1024)]
    TooLarge,
    /// A set compiles to more than [`MAX_REGEX_SET_BYTES`], each of its regexes within
    /// its own limit.
    #[error(
        "regexes are too large together: their compiled form exceeds {} KiB",
        MAX_REGEX_SET_BYTES / 1024
    )]
    SetTooLarge,
    /// Not a regex, or nested deeper than [`MAX_REGEX_NEST`]: the syntax error's own words.
    #[error("invalid regex: {0}")]
    Syntax(String),
}

/// Compiles one user regex under the size limits.
pub fn compile_regex(pattern: &str) -> Result<meta::Regex, RegexError> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(RegexError::TooLong);
    }
    builder(MAX_REGEX_BYTES, Some(MAX_REGEX_BYTES))
        .build(pattern)
        .map_err(|e| refused(&e, RegexError::TooLarge))
}

/// Compiles user regexes into one multi-pattern regex (pattern `i` is `patterns[i]`): each
/// under the limits of [`compile_regex`], all of them together under
/// [`MAX_REGEX_SET_BYTES`].
pub fn compile_set<P: AsRef<str>>(patterns: &[P]) -> Result<meta::Regex, RegexError> {
    for pattern in patterns {
        compile_regex(pattern.as_ref())?;
    }
    builder(MAX_REGEX_SET_BYTES, None)
        .build_many(patterns)
        .map_err(|e| refused(&e, RegexError::SetTooLarge))
}

/// A builder with the nesting limit and an NFA size limit; `onepass` bounds the optional
/// one-pass DFA (too large only turns that engine off), `None` keeps the crate's default.
fn builder(nfa: usize, onepass: Option<usize>) -> meta::Builder {
    let mut config = meta::Config::new().nfa_size_limit(Some(nfa));
    if let Some(onepass) = onepass {
        config = config.onepass_size_limit(Some(onepass));
    }
    let mut builder = meta::Regex::builder();
    builder
        .syntax(syntax::Config::new().nest_limit(MAX_REGEX_NEST))
        .configure(config);
    builder
}

/// The error of a build: `too_large`, or the syntax error's own words.
fn refused(e: &meta::BuildError, too_large: RegexError) -> RegexError {
    if e.size_limit().is_some() {
        return too_large;
    }
    // The syntax error's own text ends with a line "error: <what>".
    let detail = e.syntax_error().map(|se| se.to_string()).and_then(|text| {
        text.lines()
            .find_map(|l| l.strip_prefix("error: ").map(str::to_string))
    });
    RegexError::Syntax(detail.unwrap_or_else(|| e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_policy_bounds_length_nesting_and_compiled_size() {
        assert!(compile_regex("EMP-[0-9]{6}").is_ok());
        let err = |p: &str| compile_regex(p).unwrap_err();
        let long = err(&"a".repeat(MAX_REGEX_LEN + 1));
        assert_eq!(long, RegexError::TooLong);
        assert_eq!(
            long.to_string(),
            format!("regex is longer than {MAX_REGEX_LEN} bytes")
        );
        assert_eq!(
            err(r"\w{1000}").to_string(),
            "regex is too large: its compiled form exceeds 512 KiB"
        );
        let deep = format!("{}a{}", "(".repeat(40), ")".repeat(40));
        assert!(matches!(err(&deep), RegexError::Syntax(_)));
        assert_eq!(err("(").to_string(), "invalid regex: unclosed group");
    }

    #[test]
    fn a_set_keeps_each_limit_and_bounds_the_whole() {
        let set = compile_set(&["EMP-[0-9]{6}", "ORD-[A-Z]{3}"]).unwrap();
        let found = set.find("order ORD-XYZ").unwrap();
        assert_eq!((found.pattern().as_usize(), found.start()), (1, 6));
        assert_eq!(
            compile_set(&["ok", "("]).unwrap_err().to_string(),
            "invalid regex: unclosed group"
        );
        assert_eq!(
            compile_set(&["ok", r"\w{1000}"]).unwrap_err(),
            RegexError::TooLarge
        );
        // Each within its own limit, too many together.
        let one = r"\w{10}";
        assert!(compile_regex(one).is_ok());
        let many: Vec<String> = (0..40).map(|i| format!("{one}{i}")).collect();
        assert!(compile_set(&many[..4]).is_ok());
        let too_many = compile_set(&many).unwrap_err();
        assert_eq!(too_many, RegexError::SetTooLarge);
        assert_eq!(
            too_many.to_string(),
            "regexes are too large together: their compiled form exceeds 10240 KiB"
        );
    }
}
