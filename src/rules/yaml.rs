//! A small YAML writer for the fixed shapes `slotel rules` emits: block mappings and
//! sequences, literal blocks for PromQL, and scalars that are plain only when no YAML
//! reader (1.1 or 1.2) could take them for anything but a string; everything else is
//! double-quoted with escapes.

/// A YAML value, keys in the order they are written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Yaml {
    /// A string.
    Str(String),
    /// A multi-line string written as a literal block (`|-`), for PromQL.
    Block(String),
    /// A number, written as given (callers format it).
    Num(String),
    Bool(bool),
    Map(Vec<(String, Yaml)>),
    Seq(Vec<Yaml>),
}

impl Yaml {
    pub(crate) fn str(s: impl Into<String>) -> Yaml {
        Yaml::Str(s.into())
    }

    pub(crate) fn int(n: i64) -> Yaml {
        Yaml::Num(n.to_string())
    }

    /// A mapping from `(key, value)` pairs, in that order.
    pub(crate) fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Yaml)>) -> Yaml {
        Yaml::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A mapping of strings, in the iterator's order.
    pub(crate) fn strings<'a>(entries: impl IntoIterator<Item = (&'a String, &'a String)>) -> Yaml {
        Yaml::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.clone(), Yaml::Str(v.clone())))
                .collect(),
        )
    }
}

/// The document `value` (a mapping) as YAML text, ending in a newline.
pub(crate) fn to_string(value: &Yaml) -> String {
    let mut out = String::new();
    node(&mut out, value, 0);
    out
}

/// Writes `value` as the content of a block at `indent` (already on a fresh line).
fn node(out: &mut String, value: &Yaml, indent: usize) {
    match value {
        Yaml::Map(entries) if !entries.is_empty() => {
            for (key, v) in entries {
                pad(out, indent);
                out.push_str(&scalar(key));
                out.push(':');
                after_key(out, v, indent);
            }
        }
        Yaml::Seq(items) if !items.is_empty() => {
            for item in items {
                // The item's block, written two columns in, then `- ` in place of the first
                // line's indentation.
                let mut inner = String::new();
                match item {
                    Yaml::Map(e) if !e.is_empty() => node(&mut inner, item, indent + 2),
                    Yaml::Seq(i) if !i.is_empty() => node(&mut inner, item, indent + 2),
                    _ => {
                        pad(&mut inner, indent + 2);
                        inline(&mut inner, item, indent + 2);
                    }
                }
                pad(out, indent);
                out.push_str("- ");
                out.push_str(&inner[indent + 2..]);
            }
        }
        other => {
            pad(out, indent);
            inline(out, other, indent);
        }
    }
}

/// What follows `key:`.
fn after_key(out: &mut String, value: &Yaml, indent: usize) {
    match value {
        Yaml::Map(e) if !e.is_empty() => {
            out.push('\n');
            node(out, value, indent + 2);
        }
        Yaml::Seq(i) if !i.is_empty() => {
            out.push('\n');
            node(out, value, indent + 2);
        }
        _ => {
            out.push(' ');
            inline(out, value, indent);
        }
    }
}

/// A scalar, an empty collection or a literal block, then the newline.
fn inline(out: &mut String, value: &Yaml, indent: usize) {
    match value {
        Yaml::Str(s) => out.push_str(&scalar(s)),
        Yaml::Num(n) => out.push_str(n),
        Yaml::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Yaml::Map(_) => out.push_str("{}"),
        Yaml::Seq(_) => out.push_str("[]"),
        Yaml::Block(text) if block_safe(text) => {
            out.push_str("|-");
            for line in text.lines() {
                out.push('\n');
                if !line.is_empty() {
                    pad(out, indent + 2);
                    out.push_str(line);
                }
            }
        }
        Yaml::Block(text) => out.push_str(&quoted(text)),
    }
    out.push('\n');
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A literal block keeps the text as it is when the text has no leading blank or space,
/// no trailing newline or whitespace, and only printable characters.
fn block_safe(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with([' ', '\n'])
        && !text.ends_with(char::is_whitespace)
        && text
            .lines()
            .all(|l| !l.ends_with([' ', '\t']) && l.chars().all(|c| c == '\t' || printable(c)))
        && !text.contains('\r')
}

/// A string as a plain scalar when that is unambiguous, else double-quoted.
pub(crate) fn scalar(s: &str) -> String {
    if plain_safe(s) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// Plain: starts with a letter or `_`, holds only letters, digits, `_`, `-`, `.`, `/`
/// and inner `:` (never before a space), and is none of the words YAML 1.1 reads as
/// booleans or null.
fn plain_safe(s: &str) -> bool {
    const WORDS: [&str; 11] = [
        "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf",
    ];
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':'))
        && !s.ends_with(':')
        && !WORDS.contains(&s.to_ascii_lowercase().as_str())
}

/// A double-quoted scalar; control and other non-printable characters are escaped.
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if printable(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// YAML's printable set, minus the line and paragraph separators and the BOM.
fn printable(c: char) -> bool {
    matches!(c, ' '..='~')
        || (c >= '\u{a0}'
            && !matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            ))
}
