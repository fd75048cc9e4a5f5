//! Located errors in a YAML file (the config or an SLO file): each one names the file, the field
//! path and the line and column.

use std::fmt;

/// One problem in a config or SLO file.
///
/// Displays as `{file}:{line}:{column}: {path}: {message}`; the `{path}: ` part is left out
/// when the error belongs to no field (a YAML syntax error), and `:{line}:{column}` is left
/// out when `line` is 0 (the file could not be read at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config's source: a file path or `<embedded>`.
    pub file: String,
    /// The field path, e.g. `receivers.otlp.auth.tokens[1].tenant`; empty when none applies.
    pub path: String,
    /// 1-based line; 0 when the error has no place in the text.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// Lowercase, without a trailing period.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if self.path.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Every error found in one config or one set of SLO files, sorted by position; never
/// empty when returned by [`config::parse`](crate::config::parse),
/// [`config::load`](crate::config::load) or [`slo::spec::load`](crate::slo::spec::load).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The errors, in file order.
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }
}

impl fmt::Display for ConfigErrors {
    /// One error per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
