//! Reading the YAML tree: the error sink, the mapping reader that reports unknown keys,
//! typed readers for each kind of value, and the "did you mean" hints.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigError;
use super::interpolate::{self, Lookup};
use super::tree::{Node, Value};

pub(crate) fn local(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Decoding state: where errors go and where `${…}` values come from.
pub(crate) struct Ctx<'a> {
    pub(crate) file: &'a str,
    pub(crate) lookup: &'a dyn Lookup,
    pub(crate) errors: Vec<ConfigError>,
    /// What the file's `${…}` may still expand to, in bytes.
    expandable: usize,
    /// Whether the file's `${…}` have run past [`interpolate::MAX_EXPANDED_BYTES`] (said
    /// once, at the first value that did: the values after it are not expanded).
    too_large: bool,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(file: &'a str, lookup: &'a dyn Lookup, errors: Vec<ConfigError>) -> Self {
        Self {
            file,
            lookup,
            errors,
            expandable: interpolate::MAX_EXPANDED_BYTES,
            too_large: false,
        }
    }
}

impl Ctx<'_> {
    pub(crate) fn error(&mut self, at: &Node, path: &str, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            path: path.to_string(),
            line: at.line,
            column: at.column,
            message: message.into(),
        });
    }

    fn mismatch(&mut self, node: &Node, path: &str, expected: &str) {
        let msg = format!("expected {expected}, found {}", node.describe());
        self.error(node, path, msg);
    }

    /// The entries of a mapping; a null counts as empty.
    pub(crate) fn entries<'n>(&mut self, node: &'n Node, path: &str) -> &'n [(Node, Node)] {
        match &node.value {
            Value::Map(entries) => entries,
            Value::Null => &[],
            _ => {
                self.mismatch(node, path, "a mapping");
                &[]
            }
        }
    }

    /// A key's text; complex keys are an error.
    pub(crate) fn key(&mut self, key: &Node, parent: &str) -> Option<String> {
        match &key.value {
            Value::Scalar { text, .. } => Some(text.clone()),
            _ => {
                self.mismatch(key, parent, "a string key");
                None
            }
        }
    }

    pub(crate) fn seq<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            _ => {
                self.mismatch(node, path, "a list");
                None
            }
        }
    }

    /// A scalar's text, interpolated.
    pub(crate) fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.value {
            Value::Scalar { text, .. } => {
                match interpolate::expand_within(text, self.lookup, &mut self.expandable) {
                    Ok(text) => Some(text),
                    Err(interpolate::InterpolateError::TooLarge) if self.too_large => None,
                    Err(e) => {
                        self.too_large |= matches!(e, interpolate::InterpolateError::TooLarge);
                        self.error(node, path, e.to_string());
                        None
                    }
                }
            }
            _ => {
                self.mismatch(node, path, "a string");
                None
            }
        }
    }

    /// A string run through `parse`, whose error (its message) becomes this field's error.
    pub(crate) fn parsed<T, E: std::fmt::Display>(
        &mut self,
        node: &Node,
        path: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let text = self.string(node, path)?;
        parse(&text)
            .map_err(|e| self.error(node, path, e.to_string()))
            .ok()
    }

    pub(crate) fn non_empty(&mut self, node: &Node, path: &str) -> Option<String> {
        self.parsed(node, path, |s| match s {
            "" => Err("must not be empty".to_string()),
            s => Ok(s.to_string()),
        })
    }

    pub(crate) fn path_buf(&mut self, node: &Node, path: &str) -> Option<PathBuf> {
        self.non_empty(node, path).map(PathBuf::from)
    }

    pub(crate) fn count(&mut self, node: &Node, path: &str) -> Option<usize> {
        self.parsed(node, path, |s| match s.trim().parse::<usize>() {
            Ok(0) => Err("must be greater than 0".to_string()),
            Ok(n) => Ok(n),
            Err(_) => Err(format!("invalid number {s:?}, expected a whole number")),
        })
    }

    /// A [`Ctx::count`] of at most `max`: what becomes tasks, permits or connections.
    pub(crate) fn count_up_to(&mut self, node: &Node, path: &str, max: usize) -> Option<usize> {
        let n = self.count(node, path)?;
        if n > max {
            self.error(node, path, format!("must be at most {max}"));
            return None;
        }
        Some(n)
    }

    pub(crate) fn duration(&mut self, node: &Node, path: &str) -> Option<Duration> {
        self.parsed(node, path, parse_duration)
    }

    /// A [`Ctx::duration`] of at least `min`: what paces a loop (a period of `1ns` would
    /// run it back to back).
    pub(crate) fn duration_at_least(
        &mut self,
        node: &Node,
        path: &str,
        min: Duration,
    ) -> Option<Duration> {
        let d = self.duration(node, path)?;
        if d < min {
            let min = humantime::format_duration(min);
            self.error(node, path, format!("must be at least {min}"));
            return None;
        }
        Some(d)
    }

    pub(crate) fn byte_size(&mut self, node: &Node, path: &str) -> Option<usize> {
        self.parsed(node, path, parse_byte_size)
    }

    pub(crate) fn addr(&mut self, node: &Node, path: &str) -> Option<SocketAddr> {
        self.parsed(node, path, parse_addr)
    }

    pub(crate) fn log_level(&mut self, node: &Node, path: &str) -> Option<String> {
        self.parsed(node, path, |s| {
            if s.trim().is_empty() {
                return Err("must not be empty".to_string());
            }
            match tracing_subscriber::EnvFilter::try_new(s) {
                Ok(_) => Ok(s.to_string()),
                Err(e) => Err(format!("invalid log level {s:?}: {e}")),
            }
        })
    }

    pub(crate) fn choice<T: Copy>(
        &mut self,
        node: &Node,
        path: &str,
        choices: &[(&str, T)],
    ) -> Option<T> {
        self.parsed(node, path, |s| {
            match choices.iter().find(|(name, _)| *name == s) {
                Some((_, value)) => Ok(*value),
                None => {
                    let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
                    Err(format!("invalid value {s:?}{}", hint(s, &names)))
                }
            }
        })
    }
}

/// A mapping being read field by field; [`Fields::finish`] reports the keys nobody read.
pub(crate) struct Fields<'n> {
    /// Where errors about the whole mapping point: its key when known, else the mapping
    /// (or, when absent, its parent's place).
    pub(crate) node: &'n Node,
    entries: &'n [(Node, Node)],
    pub(crate) path: String,
    /// Every key asked for, present or not: the known keys.
    known: Vec<&'static str>,
    /// False when the node was not a mapping (already reported): no "missing field" errors.
    pub(crate) valid: bool,
}

impl<'n> Fields<'n> {
    /// Reads `node` as a mapping; null is an empty one.
    pub(crate) fn new(ctx: &mut Ctx<'_>, node: &'n Node, path: &str) -> Self {
        let valid = matches!(node.value, Value::Map(_) | Value::Null);
        Fields {
            node,
            entries: ctx.entries(node, path),
            path: path.to_string(),
            known: Vec::new(),
            valid,
        }
    }

    /// The mapping's entries, in file order.
    pub(crate) fn entries(&self) -> &'n [(Node, Node)] {
        self.entries
    }

    /// Errors about the mapping as a whole (a missing field) point at `key` instead.
    pub(crate) fn at(mut self, key: &'n Node) -> Self {
        self.node = key;
        self
    }

    /// The mapping under `key` when the key is present (null is an empty mapping).
    pub(crate) fn section(&mut self, ctx: &mut Ctx<'_>, key: &'static str) -> Option<Fields<'n>> {
        let (k, v) = self.entry(key)?;
        Some(Fields::new(ctx, v, &self.path(key)).at(k))
    }

    /// The mapping under `key`; absent or null is an empty one.
    pub(crate) fn child(&mut self, ctx: &mut Ctx<'_>, key: &'static str) -> Fields<'n> {
        self.section(ctx, key).unwrap_or_else(|| Fields {
            node: self.node,
            entries: &[],
            path: self.path(key),
            known: Vec::new(),
            valid: self.valid,
        })
    }

    pub(crate) fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The key and value under `key`, null included.
    fn entry(&mut self, key: &'static str) -> Option<(&'n Node, &'n Node)> {
        if !self.known.contains(&key) {
            self.known.push(key);
        }
        let entries = self.entries;
        entries.iter().find_map(|(k, v)| match &k.value {
            Value::Scalar { text, .. } if text == key => Some((k, v)),
            _ => None,
        })
    }

    /// The value under `key`; null counts as absent (the default applies).
    pub(crate) fn get(&mut self, key: &'static str) -> Option<&'n Node> {
        self.entry(key)
            .map(|(_, v)| v)
            .filter(|node| node.value != Value::Null)
    }

    pub(crate) fn opt<'c, T>(
        &mut self,
        ctx: &mut Ctx<'c>,
        key: &'static str,
        read: impl FnOnce(&mut Ctx<'c>, &'n Node, &str) -> Option<T>,
    ) -> Option<T> {
        let node = self.get(key)?;
        read(ctx, node, &self.path(key))
    }

    pub(crate) fn required<'c, T>(
        &mut self,
        ctx: &mut Ctx<'c>,
        key: &'static str,
        read: impl FnOnce(&mut Ctx<'c>, &'n Node, &str) -> Option<T>,
    ) -> Option<T> {
        if self.get(key).is_none() && self.valid {
            ctx.error(
                self.node,
                &self.path,
                format!("missing required field `{key}`"),
            );
        }
        self.opt(ctx, key, read)
    }

    pub(crate) fn finish(self, ctx: &mut Ctx<'_>) {
        self.finish_as(ctx, "key");
    }

    /// Reports every key that was not asked for as an unknown `what`.
    pub(crate) fn finish_as(self, ctx: &mut Ctx<'_>, what: &str) {
        for (key, _) in self.entries {
            let Some(name) = ctx.key(key, &self.path) else {
                continue;
            };
            if !self.known.contains(&name.as_str()) {
                ctx.error(key, &self.path(&name), unknown(what, &name, &self.known));
            }
        }
    }
}

/// `unknown key "endpont", did you mean `endpoint`?`
pub(crate) fn unknown(what: &str, name: &str, known: &[&str]) -> String {
    format!("unknown {what} {name:?}{}", hint(name, known))
}

/// `, did you mean `x`?` for a close match, else `, expected one of …` (the full list).
pub(crate) fn hint(name: &str, known: &[&str]) -> String {
    let close = known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        // Two edits for longer words, one for short ones (`foo` is not a typo of `slo`).
        .filter(|(d, k)| *d <= if k.chars().count() >= 5 { 2 } else { 1 })
        .min_by_key(|(d, _)| *d);
    match (close, known) {
        (Some((_, k)), _) => format!(", did you mean `{k}`?"),
        (None, []) => String::new(),
        (None, [only]) => format!(", expected `{only}`"),
        (None, _) => {
            let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            format!(", expected one of {}", list.join(", "))
        }
    }
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// Why a duration, byte size or address was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum ValueError {
    #[error("must be greater than 0")]
    Zero,
    #[error("invalid duration {text:?}: {source}")]
    Duration {
        text: String,
        source: humantime::DurationError,
    },
    #[error("duration {text:?} is longer than 100y")]
    DurationTooLong { text: String },
    #[error(
        "invalid byte size {text:?}, expected e.g. `16MiB`, `512KiB`, `1GB` or a number of bytes"
    )]
    ByteSize { text: String },
    #[error("byte size {text:?} is too large")]
    ByteSizeTooLarge { text: String },
    #[error(
        "invalid address {text:?}, expected ip:port such as `127.0.0.1:4317`, \
         `0.0.0.0:4317`, `[::1]:4317` or `localhost:4317`"
    )]
    Addr { text: String },
}

/// The longest duration a config field takes (`100y`, as humantime reads a year). What
/// the config's durations become must neither wrap in `u64` nanoseconds nor overflow when
/// two are added or one is added to the clock: humantime reads up to `u64::MAX` seconds,
/// where `300000000000y` made the snapshot loop panic and `600y` of lateness wrapped to
/// 15 years.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(100 * 31_557_600);

/// `5s`, `250ms`, `1h 30m`; zero and more than [`MAX_DURATION`] are refused.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, ValueError> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d.is_zero() => Err(ValueError::Zero),
        Ok(d) if d > MAX_DURATION => Err(ValueError::DurationTooLong {
            text: text.trim().to_string(),
        }),
        Ok(d) => Ok(d),
        Err(source) => Err(ValueError::Duration {
            text: text.to_string(),
            source,
        }),
    }
}

/// `16MiB`, `512KiB`, `1GB`, `1 MB` or a plain number of bytes; zero is refused.
pub(crate) fn parse_byte_size(text: &str) -> Result<usize, ValueError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let invalid = || ValueError::ByteSize {
        text: text.to_string(),
    };
    let Ok(number) = digits.parse::<u64>() else {
        return Err(invalid());
    };
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" => 1 << 10,
        "mb" => 1_000_000,
        "mib" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        _ => return Err(invalid()),
    };
    match number.checked_mul(multiplier).map(usize::try_from) {
        Some(Ok(0)) => Err(ValueError::Zero),
        Some(Ok(bytes)) => Ok(bytes),
        _ => Err(ValueError::ByteSizeTooLarge {
            text: text.to_string(),
        }),
    }
}

/// `127.0.0.1:4317`, `[::1]:4317`, `0.0.0.0:0`, or `localhost:4317` (→ 127.0.0.1).
pub(crate) fn parse_addr(text: &str) -> Result<SocketAddr, ValueError> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some(Ok(port)) = text.strip_prefix("localhost:").map(str::parse::<u16>) {
        return Ok(local(port));
    }
    Err(ValueError::Addr {
        text: text.to_string(),
    })
}
