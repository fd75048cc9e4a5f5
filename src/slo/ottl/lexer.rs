//! Condition text → tokens, each with its 1-based column (in characters).

use super::ConditionError;
use super::ast::CmpOp;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Op(CmpOp),
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    /// Nanoseconds.
    Duration(u64),
    End,
}

impl Tok {
    /// How an error names the token, e.g. "`and`" or "a string".
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Dot => "`.`".into(),
            Tok::Op(op) => format!("`{}`", op.symbol()),
            Tok::Ident(name) => format!("`{name}`"),
            Tok::Str(_) => "a string".into(),
            Tok::Int(_) | Tok::Float(_) => "a number".into(),
            Tok::Duration(_) => "a duration".into(),
            Tok::End => "the end of the condition".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) column: usize,
}

fn error(column: usize, message: impl Into<String>) -> ConditionError {
    ConditionError {
        column,
        message: message.into(),
    }
}

/// Splits `text` into tokens; the last one is always [`Tok::End`].
pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, ConditionError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let next = chars.get(i + 1).copied();
        let single = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            ',' => Some(Tok::Comma),
            '.' if !next.is_some_and(|n| n.is_ascii_digit()) => Some(Tok::Dot),
            _ => None,
        };
        if let Some(tok) = single {
            tokens.push(Token { tok, column });
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (tok, len) = match c {
            '=' if next == Some('=') => (Tok::Op(CmpOp::Eq), 2),
            '!' if next == Some('=') => (Tok::Op(CmpOp::Ne), 2),
            '<' if next == Some('=') => (Tok::Op(CmpOp::Le), 2),
            '>' if next == Some('=') => (Tok::Op(CmpOp::Ge), 2),
            '<' => (Tok::Op(CmpOp::Lt), 1),
            '>' => (Tok::Op(CmpOp::Gt), 1),
            '=' => return Err(error(column, "unexpected `=`, use `==` to compare")),
            '!' => return Err(error(column, "unexpected `!`, use `not` or `!=`")),
            '&' | '|' => {
                let word = if c == '&' { "and" } else { "or" };
                return Err(error(column, format!("unexpected `{c}`, use `{word}`")));
            }
            '\'' => return Err(error(column, "strings are written in double quotes")),
            '"' => string(&chars, i)?,
            c if c.is_ascii_digit() || c == '.' => number(&chars, i)?,
            '+' | '-' if next.is_some_and(|n| n.is_ascii_digit() || n == '.') => number(&chars, i)?,
            c if c.is_ascii_alphabetic() || c == '_' => {
                let end = (i..chars.len())
                    .find(|&j| !(chars[j].is_ascii_alphanumeric() || chars[j] == '_'))
                    .unwrap_or(chars.len());
                (Tok::Ident(chars[i..end].iter().collect()), end - i)
            }
            c => return Err(error(column, format!("unexpected character {c:?}"))),
        };
        tokens.push(Token { tok, column });
        i += len;
    }
    tokens.push(Token {
        tok: Tok::End,
        column: chars.len() + 1,
    });
    Ok(tokens)
}

/// A double-quoted string starting at `start`: the token and its length in characters.
fn string(chars: &[char], start: usize) -> Result<(Tok, usize), ConditionError> {
    let mut out = String::new();
    let mut i = start + 1;
    while let Some(&c) = chars.get(i) {
        match c {
            '"' => return Ok((Tok::Str(out), i + 1 - start)),
            '\\' => {
                let escaped = match chars.get(i + 1) {
                    Some('"') => '"',
                    Some('\\') => '\\',
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some(other) => {
                        let msg = format!(
                            "invalid escape `\\{other}`, expected one of \\\" \\\\ \\n \\t \\r \
                             (write a regex backslash as `\\\\`)"
                        );
                        return Err(error(i + 1, msg));
                    }
                    None => break,
                };
                out.push(escaped);
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(error(start + 1, "unterminated string"))
}

/// A number or a duration (`300ms`, `1.5s`, `1m30s`) starting at `start`.
fn number(chars: &[char], start: usize) -> Result<(Tok, usize), ConditionError> {
    let column = start + 1;
    let mut i = start;
    if matches!(chars[i], '+' | '-') {
        i += 1;
    }
    let digits_end = |from: usize| {
        (from..chars.len())
            .find(|&j| !chars[j].is_ascii_digit())
            .unwrap_or(chars.len())
    };
    i = digits_end(i);
    let mut float = false;
    if chars.get(i) == Some(&'.') {
        float = true;
        i = digits_end(i + 1);
    }
    let number: String = chars[start..i].iter().collect();
    let unit_end = (i..chars.len())
        .find(|&j| !(chars[j].is_alphabetic() || chars[j] == 'µ'))
        .unwrap_or(chars.len());
    if unit_end == i {
        if chars
            .get(i)
            .is_some_and(|c| c.is_ascii_digit() || *c == '_' || *c == '.')
        {
            return Err(error(column, format!("invalid number `{number}`")));
        }
        let tok = if float {
            number.parse::<f64>().ok().map(Tok::Float)
        } else {
            number.parse::<i64>().ok().map(Tok::Int)
        };
        return match tok {
            Some(tok) => Ok((tok, i - start)),
            None => Err(error(column, format!("invalid number `{number}`"))),
        };
    }
    duration(chars, start)
}

/// Why a text is not one duration literal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("expected a duration such as `300ms`, `1.5s` or `30d`")]
    Empty,
    /// A duration followed by more text.
    #[error("invalid duration {0:?}, expected e.g. `300ms`, `1.5s` or `30d`")]
    Trailing(String),
    /// What the lexer found wrong (a bad number or unit, a negative duration).
    #[error("{}", .0.message)]
    Literal(ConditionError),
}

/// A whole text as one duration literal (`300ms`, `1.5s`, `30d`), in nanoseconds.
pub(super) fn duration_literal(text: &str) -> Result<u64, DurationError> {
    let chars: Vec<char> = text.trim().chars().collect();
    if chars.is_empty() {
        return Err(DurationError::Empty);
    }
    match duration(&chars, 0) {
        Ok((Tok::Duration(nanos), len)) if len == chars.len() => Ok(nanos),
        Ok(_) => Err(DurationError::Trailing(text.trim().to_string())),
        Err(e) => Err(DurationError::Literal(e)),
    }
}

/// `300ms`, `1.5s`, `1m30s`, `250us`: a sum of number-unit parts, in nanoseconds.
fn duration(chars: &[char], start: usize) -> Result<(Tok, usize), ConditionError> {
    let column = start + 1;
    let end = (start..chars.len())
        .find(|&j| !(chars[j].is_alphanumeric() || matches!(chars[j], '.' | 'µ' | '+' | '-')))
        .unwrap_or(chars.len());
    let text: String = chars[start..end].iter().collect();
    let invalid = || {
        error(
            column,
            format!(
                "invalid duration `{text}`, expected e.g. `300ms`, `1.5s` or `1m30s` \
                 (units ns, us, ms, s, m, h, d, w)"
            ),
        )
    };
    if text.starts_with('-') {
        return Err(error(column, "a duration must not be negative"));
    }
    let mut rest = text.trim_start_matches('+');
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        let (value, tail) = rest.split_at(split);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let value: f64 = value.parse().map_err(|_| invalid())?;
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" => 86_400e9,
            "w" => 604_800e9,
            _ => return Err(invalid()),
        };
        total += value * scale;
        rest = tail;
    }
    if !total.is_finite() || total >= u64::MAX as f64 {
        return Err(error(column, format!("duration `{text}` is too large")));
    }
    Ok((Tok::Duration(total.round() as u64), end - start))
}
