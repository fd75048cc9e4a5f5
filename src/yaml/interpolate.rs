//! `${…}` expansion inside string values of a parsed YAML file (the config; SLO files are read
//! without it).
//!
//! Forms: `${env:VAR}`, `${VAR}` (the same), `${env:VAR:-default}` (the default when `VAR`
//! is unset or empty), `${file:PATH}` (the whole file, one trailing newline trimmed; a
//! relative path is relative to the working directory). `$${` is a literal `${`. The result
//! is not expanded again, so a variable's value can never inject YAML or another `${…}`.
//! Error messages name the variable or path, never a value or a file's content.

use std::io;
use std::path::Path;

/// The largest file `${file:…}` reads through [`SystemLookup`].
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The most text the `${…}` of one file may expand to, in bytes, every value together: a
/// short file cannot name a large file or variable over and over.
pub(crate) const MAX_EXPANDED_BYTES: usize = 16 * 1024 * 1024;

/// Where interpolation reads from; tests inject a fake instead of touching the process
/// environment.
pub trait Lookup {
    /// The value of an environment variable, `None` when unset (or not valid UTF-8).
    fn env(&self, name: &str) -> Option<String>;
    /// The whole content of a file.
    fn read_file(&self, path: &Path) -> io::Result<String>;
}

/// The real process environment and file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn read_file(&self, path: &Path) -> io::Result<String> {
        crate::regular_file::read_to_string(path, MAX_FILE_BYTES)
    }
}

/// Why a `${…}` could not be expanded. The message names the variable or path, never a
/// value; the caller places it (file, line, field).
#[derive(Debug, thiserror::Error)]
pub enum InterpolateError {
    #[error("unterminated `${{` (write `$${{` for a literal `${{`)")]
    Unterminated,
    #[error("unknown source {scheme:?} in `${{…}}`, expected `env:` or `file:`")]
    UnknownSource { scheme: String },
    #[error("invalid environment variable name {name:?}")]
    VarName { name: String },
    #[error("environment variable {name:?} is not set")]
    Unset { name: String },
    #[error("empty path in `${{file:}}`")]
    EmptyPath,
    #[error("cannot read file {path:?}: {}", lowercase_first(&.source.to_string()))]
    File { path: String, source: io::Error },
    #[error("`${{…}}` values of this file expand to more than {} MiB", MAX_EXPANDED_BYTES >> 20)]
    TooLarge,
}

/// Expands every `${…}` in `text`.
#[cfg(test)]
pub(crate) fn expand(text: &str, lookup: &dyn Lookup) -> Result<String, InterpolateError> {
    let mut budget = MAX_EXPANDED_BYTES;
    expand_within(text, lookup, &mut budget)
}

/// Expands every `${…}` in `text`, taking the length of what the `${…}` expand to from
/// `budget` (the file's [`MAX_EXPANDED_BYTES`]): an error when it would run out.
pub(crate) fn expand_within(
    text: &str,
    lookup: &dyn Lookup,
    budget: &mut usize,
) -> Result<String, InterpolateError> {
    if !text.contains("${") {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let before = &rest[..start];
        let after = &rest[start + 2..];
        if let Some(before) = before.strip_suffix('$') {
            out.push_str(before);
            out.push_str("${");
            rest = after;
            continue;
        }
        out.push_str(before);
        let Some(end) = after.find('}') else {
            return Err(InterpolateError::Unterminated);
        };
        let value = resolve(&after[..end], lookup)?;
        *budget = budget
            .checked_sub(value.len())
            .ok_or(InterpolateError::TooLarge)?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The value of one `${spec}`.
fn resolve(spec: &str, lookup: &dyn Lookup) -> Result<String, InterpolateError> {
    if let Some(var) = spec.strip_prefix("env:") {
        return env(var, lookup);
    }
    if let Some(path) = spec.strip_prefix("file:") {
        return file(path, lookup);
    }
    match spec.split_once(':') {
        Some((_, default)) if default.starts_with('-') => env(spec, lookup),
        Some((scheme, _)) => Err(InterpolateError::UnknownSource {
            scheme: scheme.to_string(),
        }),
        None => env(spec, lookup),
    }
}

/// `VAR` or `VAR:-default`.
fn env(spec: &str, lookup: &dyn Lookup) -> Result<String, InterpolateError> {
    let (name, default) = match spec.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (spec, None),
    };
    if !is_var_name(name) {
        return Err(InterpolateError::VarName {
            name: name.to_string(),
        });
    }
    match (lookup.env(name), default) {
        (Some(value), Some(default)) if value.is_empty() => Ok(default.to_string()),
        (Some(value), _) => Ok(value),
        (None, Some(default)) => Ok(default.to_string()),
        (None, None) => Err(InterpolateError::Unset {
            name: name.to_string(),
        }),
    }
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn file(path: &str, lookup: &dyn Lookup) -> Result<String, InterpolateError> {
    if path.is_empty() {
        return Err(InterpolateError::EmptyPath);
    }
    let mut text = lookup
        .read_file(Path::new(path))
        .map_err(|source| InterpolateError::File {
            path: path.to_string(),
            source,
        })?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

/// `No such file…` → `no such file…`, to keep messages lowercase.
pub(crate) fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
