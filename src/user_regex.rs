//! Regexes written by users (custom redaction detectors, allow lists, key rules, policy
//! matches in the config; `IsMatch` in SLO conditions), compiled under one policy, alone
//! ([`compile_regex`]) or as a set searched at once ([`compile_set`]): a
//! bounded source, bounded nesting and a bounded compiled size, so a hostile or careless
//! pattern is a clear error instead of a slow start or a stack overflow. The error
//! ([`RegexError`]) says which limit or what syntax; the caller places it (file, line,
//! column).

use std::sync::Mutex;

use regex_automata::util::syntax;
use regex_automata::{Input, meta};

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

/// The search caches a [`SearchRegex`] keeps between searches.
pub const KEPT_CACHES: usize = 2;

/// How much a search cache may grow past its fresh size and still be kept.
pub const KEPT_CACHE_GROWTH: usize = 64 * 1024;

/// A user regex that values from the network are searched with, keeping a bounded amount
/// of search memory between searches.
///
/// A regex's lazy DFA grows a cache as it meets new states (up to 2 MiB a direction), and
/// `meta::Regex` keeps one such cache for every thread that ever searched at once, for as
/// long as the regex lives: with many regexes, many threads and values chosen to meet new
/// states, that is regexes × threads × megabytes. Here at most [`KEPT_CACHES`] caches are
/// kept, each only while it stays within [`KEPT_CACHE_GROWTH`] of its fresh size; a
/// search that finds none idle makes its own, which is freed afterwards unless there is
/// room. So what stays is bounded by [`SearchRegex::memory_usage`] (charged when the regex
/// is loaded), and what a search holds while it runs by one cache, as each thread runs
/// one search at a time.
pub struct SearchRegex {
    regex: meta::Regex,
    idle: Mutex<Vec<meta::Cache>>,
    /// A cache larger than this after a search is dropped.
    keep_bytes: usize,
}

/// The regex's own `Debug` text: state written before structural fingerprints knew an
/// SLO's definition by its conditions' `Debug` text, regexes included
/// (`slo::engine::snapshot::legacy`).
impl std::fmt::Debug for SearchRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.regex.fmt(f)
    }
}

impl SearchRegex {
    pub fn new(regex: meta::Regex) -> Self {
        let keep_bytes = regex
            .create_cache()
            .memory_usage()
            .saturating_add(KEPT_CACHE_GROWTH);
        Self {
            regex,
            idle: Mutex::new(Vec::with_capacity(KEPT_CACHES)),
            keep_bytes,
        }
    }

    /// Whether the regex matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.searcher().is_match(text)
    }

    /// A searcher that holds one cache for many searches (a column of values).
    pub fn searcher(&self) -> Searcher<'_> {
        let cache = self
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop())
            .unwrap_or_else(|| self.regex.create_cache());
        Searcher {
            owner: self,
            cache: Some(cache),
        }
    }

    /// The compiled regex and the most its kept caches may hold, in bytes.
    pub fn memory_usage(&self) -> usize {
        self.regex
            .memory_usage()
            .saturating_add(KEPT_CACHES.saturating_mul(self.keep_bytes))
    }

    /// Search caches kept now (for tests).
    #[cfg(test)]
    fn kept(&self) -> (usize, usize) {
        let idle = self.idle.lock().unwrap();
        (idle.len(), idle.iter().map(meta::Cache::memory_usage).sum())
    }
}

/// One cache of a [`SearchRegex`], given back (or dropped) when the searcher is.
pub struct Searcher<'a> {
    owner: &'a SearchRegex,
    cache: Option<meta::Cache>,
}

impl Searcher<'_> {
    /// Whether the regex matches anywhere in `text`.
    pub fn is_match(&mut self, text: &str) -> bool {
        let cache = self
            .cache
            .get_or_insert_with(|| self.owner.regex.create_cache());
        let input = Input::new(text).earliest(true);
        self.owner.regex.search_half_with(cache, &input).is_some()
    }
}

impl Drop for Searcher<'_> {
    fn drop(&mut self) {
        let Some(cache) = self.cache.take() else {
            return;
        };
        if cache.memory_usage() > self.owner.keep_bytes {
            return;
        }
        if let Ok(mut idle) = self.owner.idle.lock()
            && idle.len() < KEPT_CACHES
        {
            idle.push(cache);
        }
    }
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

    /// Values of many scripts, each meeting new states of a `\w{10}` regex's lazy DFA.
    fn varied_words(n: usize, seed: u32) -> Vec<String> {
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|_| {
                (0..40)
                    .filter_map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        char::from_u32(0x41 + x % 0x2_0000)
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_search_regex_answers_as_the_regex_does() {
        for pattern in [
            r"^/api/(v1|v2)/users/[0-9]+$",
            r"\w{10}",
            "ab|cd",
            "^$",
            r"\bé\b",
        ] {
            let regex = compile_regex(pattern).unwrap();
            let search = SearchRegex::new(regex.clone());
            let mut texts = varied_words(50, 7);
            texts.extend(
                [
                    "",
                    "/api/v1/users/42",
                    "/api/v3/users/1",
                    "xxabyy",
                    "é",
                    " é ",
                ]
                .map(String::from),
            );
            let mut searcher = search.searcher();
            for text in &texts {
                assert_eq!(
                    search.is_match(text),
                    regex.is_match(text),
                    "{pattern} {text:?}"
                );
                assert_eq!(
                    searcher.is_match(text),
                    regex.is_match(text),
                    "{pattern} {text:?}"
                );
            }
        }
    }

    /// However many threads search at once and whatever they search, what a regex keeps
    /// afterwards is at most [`KEPT_CACHES`] caches within their growth: `meta::Regex`
    /// alone keeps one grown cache per thread that searched at once.
    #[test]
    fn a_search_regex_keeps_a_bounded_number_of_small_caches() {
        let search = SearchRegex::new(compile_regex(r"\w{10}").unwrap());
        let fresh = search.regex.create_cache().memory_usage();
        let threads = 8;
        let barrier = std::sync::Barrier::new(threads);
        std::thread::scope(|s| {
            for t in 0..threads {
                let (search, barrier) = (&search, &barrier);
                s.spawn(move || {
                    let mut searcher = search.searcher();
                    // Every thread holds its searcher at once.
                    barrier.wait();
                    let small = ["abc", "hello world"];
                    for text in small.iter().cycle().take(t % 2 * 100) {
                        searcher.is_match(text);
                    }
                    for text in varied_words(if t % 2 == 0 { 2_000 } else { 0 }, t as u32 + 1) {
                        searcher.is_match(&text);
                    }
                });
            }
        });
        let (kept, bytes) = search.kept();
        assert!(kept <= KEPT_CACHES, "{kept} caches kept");
        assert!(
            bytes <= KEPT_CACHES * (fresh + KEPT_CACHE_GROWTH),
            "{bytes} bytes kept"
        );
        // The threads that met many states grew their caches past what is kept.
        let grown = {
            let mut searcher = search.searcher();
            for text in varied_words(2_000, 99) {
                searcher.is_match(&text);
            }
            searcher.cache.as_ref().unwrap().memory_usage()
        };
        assert!(grown > fresh + KEPT_CACHE_GROWTH, "{grown} vs {fresh}");
        assert!(search.kept().1 <= KEPT_CACHES * (fresh + KEPT_CACHE_GROWTH));
        assert!(search.memory_usage() >= search.regex.memory_usage() + KEPT_CACHES * fresh);
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
