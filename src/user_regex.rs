//! Regexes written by users (custom redaction detectors, allow lists, key rules, policy
//! matches in the config; `IsMatch` in SLO conditions), compiled under one policy, alone
//! ([`compile_regex`]) or as a set searched at once ([`compile_set`]): a
//! bounded source, bounded nesting and a bounded compiled size, so a hostile or careless
//! pattern is a clear error instead of a slow start or a stack overflow. The error is a
//! message for the caller to place (file, line, column).

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

/// Compiles one user regex under the size limits.
pub fn compile_regex(pattern: &str) -> Result<meta::Regex, String> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(format!("regex is longer than {MAX_REGEX_LEN} bytes"));
    }
    builder(MAX_REGEX_BYTES, Some(MAX_REGEX_BYTES))
        .build(pattern)
        .map_err(|e| message(&e, "regex is too large: its compiled form", MAX_REGEX_BYTES))
}

/// Compiles user regexes into one multi-pattern regex (pattern `i` is `patterns[i]`): each
/// under the limits of [`compile_regex`], all of them together under
/// [`MAX_REGEX_SET_BYTES`].
pub fn compile_set<P: AsRef<str>>(patterns: &[P]) -> Result<meta::Regex, String> {
    for pattern in patterns {
        compile_regex(pattern.as_ref())?;
    }
    builder(MAX_REGEX_SET_BYTES, None)
        .build_many(patterns)
        .map_err(|e| {
            let what = "regexes are too large together: their compiled form";
            message(&e, what, MAX_REGEX_SET_BYTES)
        })
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

/// The error of a build as a message: too large, or the syntax error's own words.
fn message(e: &meta::BuildError, too_large: &str, limit: usize) -> String {
    if e.size_limit().is_some() {
        return format!("{too_large} exceeds {} KiB", limit / 1024);
    }
    // The syntax error's own text ends with a line "error: <what>".
    let detail = e.syntax_error().map(|se| se.to_string()).and_then(|text| {
        text.lines()
            .find_map(|l| l.strip_prefix("error: ").map(str::to_string))
    });
    match detail {
        Some(what) => format!("invalid regex: {what}"),
        None => format!("invalid regex: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_policy_bounds_length_nesting_and_compiled_size() {
        assert!(compile_regex("EMP-[0-9]{6}").is_ok());
        assert_eq!(
            compile_regex(&"a".repeat(MAX_REGEX_LEN + 1)).unwrap_err(),
            format!("regex is longer than {MAX_REGEX_LEN} bytes")
        );
        assert_eq!(
            compile_regex(r"\w{1000}").unwrap_err(),
            "regex is too large: its compiled form exceeds 512 KiB"
        );
        let deep = format!("{}a{}", "(".repeat(40), ")".repeat(40));
        assert!(
            compile_regex(&deep)
                .unwrap_err()
                .starts_with("invalid regex: ")
        );
        assert_eq!(
            compile_regex("(").unwrap_err(),
            "invalid regex: unclosed group"
        );
    }

    #[test]
    fn a_set_keeps_each_limit_and_bounds_the_whole() {
        let set = compile_set(&["EMP-[0-9]{6}", "ORD-[A-Z]{3}"]).unwrap();
        let found = set.find("order ORD-XYZ").unwrap();
        assert_eq!((found.pattern().as_usize(), found.start()), (1, 6));
        assert_eq!(
            compile_set(&["ok", "("]).unwrap_err(),
            "invalid regex: unclosed group"
        );
        assert_eq!(
            compile_set(&["ok", r"\w{1000}"]).unwrap_err(),
            "regex is too large: its compiled form exceeds 512 KiB"
        );
        // Each within its own limit, too many together.
        let one = r"\w{10}";
        assert!(compile_regex(one).is_ok());
        let many: Vec<String> = (0..40).map(|i| format!("{one}{i}")).collect();
        assert!(compile_set(&many[..4]).is_ok());
        assert_eq!(
            compile_set(&many).unwrap_err(),
            "regexes are too large together: their compiled form exceeds 10240 KiB"
        );
    }
}
