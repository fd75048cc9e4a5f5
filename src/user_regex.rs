//! Regexes written by users (custom redaction detectors, allow lists, key rules, policy
//! matches in the config; `IsMatch` in SLO conditions), compiled under one policy: a
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

/// Compiles one user regex under the size limits.
pub fn compile_regex(pattern: &str) -> Result<meta::Regex, String> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(format!("regex is longer than {MAX_REGEX_LEN} bytes"));
    }
    meta::Regex::builder()
        .syntax(syntax::Config::new().nest_limit(MAX_REGEX_NEST))
        .configure(
            meta::Config::new()
                .nfa_size_limit(Some(MAX_REGEX_BYTES))
                .onepass_size_limit(Some(MAX_REGEX_BYTES)),
        )
        .build(pattern)
        .map_err(|e| {
            if e.size_limit().is_some() {
                return format!(
                    "regex is too large: its compiled form exceeds {} KiB",
                    MAX_REGEX_BYTES / 1024
                );
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
        })
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
}
