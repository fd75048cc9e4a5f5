//! Tokens → [`Expr`], with literal comparisons folded and obvious type errors refused.
//!
//! Precedence, as in OTTL: `not` binds tightest, then `and`, then `or`.

use std::cell::Cell;
use std::sync::Arc;

use super::AttrRef;
use super::ast::{CmpOp, Expr, Lit, LogField, Operand, Path, Val, compare, render};
use super::lexer::{Tok, Token, tokenize};
use super::{ConditionError, ConditionTarget, MAX_REGEX_TOTAL_BYTES};
use crate::user_regex::{SearchRegex, compile_regex};
use crate::yaml::read::hint;

/// Nesting of parentheses and `not` allowed in one condition.
const MAX_DEPTH: usize = 64;

/// Comparisons, `IsMatch` calls and parenthesised groups allowed in one condition: every
/// one costs a pass over each batch of spans, logs or points the condition reads.
pub(super) const MAX_TERMS: usize = 1000;

const SPAN_KINDS: &[(&str, i64)] = &[
    ("SPAN_KIND_UNSPECIFIED", 0),
    ("SPAN_KIND_INTERNAL", 1),
    ("SPAN_KIND_SERVER", 2),
    ("SPAN_KIND_CLIENT", 3),
    ("SPAN_KIND_PRODUCER", 4),
    ("SPAN_KIND_CONSUMER", 5),
];

const STATUS_CODES: &[(&str, i64)] = &[
    ("STATUS_CODE_UNSET", 0),
    ("STATUS_CODE_OK", 1),
    ("STATUS_CODE_ERROR", 2),
];

const SPAN_PATHS: &[&str] = &[
    "name",
    "kind",
    "status",
    "duration",
    "attributes",
    "resource",
    "span",
];

const LOG_PATHS: &[&str] = &[
    "severity_number",
    "severity_text",
    "body",
    "attributes",
    "resource",
    "log",
];

/// The OpenTelemetry log data model's severity names, without their `SEVERITY_NUMBER_`
/// prefix: `TRACE` is 1, `TRACE2` 2, … `FATAL4` 24.
const SEVERITIES: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

/// Keys of one `body[…]` path at most.
const MAX_BODY_KEYS: usize = 16;

/// Which enum family a literal came from, to refuse `kind == STATUS_CODE_ERROR`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Family {
    Kind,
    Status,
    Severity,
}

/// Parses `text`; its `IsMatch` regexes may compile to `regex_room` bytes together, which
/// is lowered by what they take (also when the condition is refused).
pub(super) fn parse(
    text: &str,
    target: ConditionTarget,
    regex_room: &Cell<usize>,
) -> Result<Expr, ConditionError> {
    let tokens = tokenize(text)?;
    if tokens.len() == 1 {
        return Err(error(1, "empty condition"));
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        target,
        depth: 0,
        terms: 0,
        regex_room,
    };
    let expr = parser.or()?;
    let token = parser.peek();
    if token.tok != Tok::End {
        let msg = match &token.tok {
            Tok::Op(_) => format!(
                "unexpected {}: a comparison takes two values, join comparisons with `and` or `or`",
                token.tok.describe()
            ),
            tok => format!(
                "unexpected {}, expected `and`, `or` or the end",
                tok.describe()
            ),
        };
        return Err(error(token.column, msg));
    }
    Ok(expr)
}

pub(super) fn parse_attribute(text: &str) -> Result<AttrRef, ConditionError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        target: ConditionTarget::Log,
        depth: 0,
        terms: 0,
        regex_room: &Cell::new(0),
    };
    let first = parser.next();
    let expected = "expected `attributes[\"key\"]`, `resource.attributes[\"key\"]` or (log slis) \
                    `body[\"key\"]`";
    let Tok::Ident(word) = first.tok else {
        let msg = format!("{expected}, found {}", first.tok.describe());
        return Err(error(first.column, msg));
    };
    if !matches!(word.as_str(), "attributes" | "resource" | "body" | "log") {
        return Err(error(first.column, expected));
    }
    let Path::Attr(attr) = parser.path(&word, first.column)? else {
        return Err(error(first.column, expected));
    };
    let rest = parser.peek();
    if rest.tok != Tok::End {
        let msg = format!("unexpected {} after the attribute", rest.tok.describe());
        return Err(error(rest.column, msg));
    }
    Ok(attr)
}

fn error(column: usize, message: impl Into<String>) -> ConditionError {
    ConditionError {
        column,
        message: message.into(),
    }
}

struct Parser<'r> {
    tokens: Vec<Token>,
    pos: usize,
    target: ConditionTarget,
    depth: usize,
    /// Terms read so far (see [`MAX_TERMS`]).
    terms: usize,
    /// What the regexes still to compile may take, in bytes (see [`parse`]).
    regex_room: &'r Cell<usize>,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)].tok
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        token
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(w) if w == word)
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<Token, ConditionError> {
        let token = self.next();
        if token.tok == tok {
            Ok(token)
        } else {
            let msg = format!("expected {what}, found {}", token.tok.describe());
            Err(error(token.column, msg))
        }
    }

    /// `a or b or …`, as a balanced tree (see [`balanced`]).
    fn or(&mut self) -> Result<Expr, ConditionError> {
        let mut terms = vec![self.and()?];
        while self.is_word("or") {
            self.next();
            terms.push(self.and()?);
        }
        Ok(balanced(terms, fold_or))
    }

    /// `a and b and …`, as a balanced tree (see [`balanced`]).
    fn and(&mut self) -> Result<Expr, ConditionError> {
        let mut terms = vec![self.unary()?];
        while self.is_word("and") {
            self.next();
            terms.push(self.unary()?);
        }
        Ok(balanced(terms, fold_and))
    }

    fn unary(&mut self) -> Result<Expr, ConditionError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let column = self.peek().column;
            return Err(error(
                column,
                format!("nesting is deeper than {MAX_DEPTH} levels"),
            ));
        }
        let result = if self.is_word("not") {
            self.next();
            self.unary().map(|e| match e {
                Expr::Const(b) => Expr::Const(!b),
                Expr::Not(inner) => *inner,
                e => Expr::Not(Box::new(e)),
            })
        } else {
            self.primary()
        };
        self.depth -= 1;
        result
    }

    fn primary(&mut self) -> Result<Expr, ConditionError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            let msg = format!(
                "more than {MAX_TERMS} comparisons in one condition: use `IsMatch` with an \
                 alternation, or `group_by`, for long lists of values"
            );
            return Err(error(self.peek().column, msg));
        }
        if self.peek().tok == Tok::LParen {
            self.next();
            let inner = self.or()?;
            self.expect(Tok::RParen, "`)`")?;
            return Ok(inner);
        }
        if let Tok::Ident(name) = &self.peek().tok
            && name.starts_with(|c: char| c.is_ascii_uppercase())
            && *self.peek_at(1) == Tok::LParen
        {
            return self.function();
        }
        let (left, left_column, left_family) = self.value()?;
        let op = match &self.peek().tok {
            Tok::Op(op) => *op,
            tok => {
                if let Operand::Lit(Lit::Bool(b)) = left {
                    return Ok(Expr::Const(b));
                }
                let msg = format!(
                    "expected a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`) after the value, \
                     found {}",
                    tok.describe()
                );
                return Err(error(self.peek().column, msg));
            }
        };
        self.next();
        let (right, right_column, right_family) = self.value()?;
        match (left, right) {
            (Operand::Lit(a), Operand::Lit(b)) => Ok(Expr::Const(compare(a.val(), op, b.val()))),
            (Operand::Path(left), Operand::Lit(lit)) => {
                check(&left, &lit, right_family).map_err(|m| error(right_column, m.to_string()))?;
                Ok(cmp(left, op, Operand::Lit(lit)))
            }
            (Operand::Lit(lit), Operand::Path(right)) => {
                check(&right, &lit, left_family).map_err(|m| error(left_column, m.to_string()))?;
                Ok(cmp(right, op.flip(), Operand::Lit(lit)))
            }
            (Operand::Path(left), Operand::Path(right)) => Ok(cmp(left, op, Operand::Path(right))),
        }
    }

    /// `IsMatch(value, "regex")`, the only function.
    fn function(&mut self) -> Result<Expr, ConditionError> {
        let name = self.next();
        let Tok::Ident(function) = &name.tok else {
            return Err(error(name.column, "expected a function"));
        };
        if function != "IsMatch" {
            let msg = format!(
                "unknown function `{function}`{}",
                hint(function, &["IsMatch"])
            );
            return Err(error(name.column, msg));
        }
        self.expect(Tok::LParen, "`(`")?;
        let (target, target_column, _) = self.value()?;
        self.expect(Tok::Comma, "`,` and a regex")?;
        let pattern = self.next();
        let Tok::Str(pattern_text) = &pattern.tok else {
            let msg = format!(
                "expected the regex as a string, found {}",
                pattern.tok.describe()
            );
            return Err(error(pattern.column, msg));
        };
        let regex = self.compile(pattern_text, pattern.column)?;
        self.expect(Tok::RParen, "`)`")?;
        match target {
            Operand::Lit(lit) => {
                let mut text = String::new();
                let matched = render(lit.val(), &mut text) && regex.is_match(&text);
                Ok(Expr::Const(matched))
            }
            Operand::Path(Path::Duration) => Err(error(
                target_column,
                "`IsMatch` needs a string-like value, `duration` is a duration",
            )),
            Operand::Path(path) => Ok(Expr::IsMatch { path, regex }),
        }
    }

    /// Compiles an `IsMatch` regex and charges what it keeps (compiled form and kept search
    /// caches, [`SearchRegex::memory_usage`]) to the room left; once the room is spent,
    /// later regexes are refused before they compile.
    fn compile(&self, pattern: &str, column: usize) -> Result<Arc<SearchRegex>, ConditionError> {
        let room = self.regex_room.get();
        let spent = || {
            let msg = format!(
                "the `IsMatch` regexes take more than {} MiB together: use fewer or \
                 simpler regexes (`==` for whole values)",
                MAX_REGEX_TOTAL_BYTES >> 20
            );
            error(column, msg)
        };
        if room == 0 {
            return Err(spent());
        }
        let regex = compile_regex(pattern).map_err(|e| error(column, e.to_string()))?;
        let regex = SearchRegex::new(regex);
        match room.checked_sub(regex.memory_usage()) {
            Some(left) => {
                self.regex_room.set(left);
                Ok(Arc::new(regex))
            }
            None => {
                self.regex_room.set(0);
                Err(spent())
            }
        }
    }

    /// A path, a literal or an enum name, with its column.
    fn value(&mut self) -> Result<(Operand, usize, Option<Family>), ConditionError> {
        let token = self.next();
        let column = token.column;
        let lit = |lit| Ok((Operand::Lit(lit), column, None));
        match token.tok {
            Tok::Str(s) => lit(Lit::Str(s)),
            Tok::Int(i) => lit(Lit::Int(i)),
            Tok::Float(f) => lit(Lit::Float(f)),
            Tok::Duration(d) => lit(Lit::Duration(d)),
            Tok::Ident(word) => match word.as_str() {
                "true" => lit(Lit::Bool(true)),
                "false" => lit(Lit::Bool(false)),
                "nil" => lit(Lit::Nil),
                "and" | "or" | "not" => {
                    Err(error(column, format!("expected a value, found `{word}`")))
                }
                w if w.starts_with(|c: char| c.is_ascii_uppercase()) => {
                    let (value, family) =
                        enum_value(w).map_err(|m| error(column, m.to_string()))?;
                    Ok((Operand::Lit(Lit::Int(value)), column, Some(family)))
                }
                _ => {
                    let path = self.path(&word, column)?;
                    Ok((Operand::Path(path), column, None))
                }
            },
            tok => {
                let msg = format!("expected a value, found {}", tok.describe());
                Err(error(column, msg))
            }
        }
    }

    /// The rest of a path whose first word, `first`, was just read.
    fn path(&mut self, first: &str, column: usize) -> Result<Path, ConditionError> {
        let mut word = first.to_string();
        let mut word_column = column;
        let prefix = match self.target {
            ConditionTarget::Span => "span",
            ConditionTarget::Log => "log",
            ConditionTarget::Metric => "",
        };
        if !prefix.is_empty() && word == prefix {
            self.expect(Tok::Dot, &format!("`.` after `{prefix}`"))?;
            let next = self.next();
            let Tok::Ident(w) = next.tok else {
                let msg = format!(
                    "expected a field after `{prefix}.`, found {}",
                    next.tok.describe()
                );
                return Err(error(next.column, msg));
            };
            (word, word_column) = (w, next.column);
        }
        let path = match word.as_str() {
            "attributes" => Path::Attr(AttrRef::Item(self.key("attributes")?)),
            "resource" => {
                self.expect(Tok::Dot, "`.attributes` after `resource`")?;
                let next = self.next();
                if next.tok != Tok::Ident("attributes".into()) {
                    let msg = format!(
                        "expected `attributes` after `resource.`, found {}",
                        next.tok.describe()
                    );
                    return Err(error(next.column, msg));
                }
                Path::Attr(AttrRef::Resource(self.key("resource.attributes")?))
            }
            "body" if self.target == ConditionTarget::Log => {
                Path::Attr(AttrRef::Body(self.body_keys()?))
            }
            "severity_number" if self.target == ConditionTarget::Log => {
                Path::Log(LogField::SeverityNumber)
            }
            "severity_text" if self.target == ConditionTarget::Log => {
                Path::Log(LogField::SeverityText)
            }
            "name" => Path::Name,
            "kind" => Path::Kind,
            "duration" => Path::Duration,
            "status" => {
                self.expect(Tok::Dot, "`.code` after `status`")?;
                let next = self.next();
                if next.tok != Tok::Ident("code".into()) {
                    let msg = format!(
                        "expected `code` after `status.`, found {}",
                        next.tok.describe()
                    );
                    return Err(error(next.column, msg));
                }
                Path::StatusCode
            }
            other => {
                let known: &[&str] = match self.target {
                    ConditionTarget::Span => SPAN_PATHS,
                    ConditionTarget::Log => LOG_PATHS,
                    ConditionTarget::Metric => &["attributes", "resource"],
                };
                let msg = format!("unknown path `{other}`{}", hint(other, known));
                return Err(error(word_column, msg));
            }
        };
        if self.target == ConditionTarget::Metric && !matches!(path, Path::Attr(_)) {
            let msg = format!(
                "{} is a span field: metric conditions read only `attributes[\"k\"]` and \
                 `resource.attributes[\"k\"]`",
                path.describe()
            );
            return Err(error(word_column, msg));
        }
        if self.target == ConditionTarget::Log
            && matches!(
                path,
                Path::Name | Path::Kind | Path::StatusCode | Path::Duration
            )
        {
            let msg = format!(
                "{} is a span field: log conditions read `severity_number`, `severity_text`, \
                 `body`, `body[\"k\"]…`, `attributes[\"k\"]` and `resource.attributes[\"k\"]`",
                path.describe()
            );
            return Err(error(word_column, msg));
        }
        Ok(path)
    }

    /// The `["a"]["b"]…` after `body` (none: the whole body).
    fn body_keys(&mut self) -> Result<Vec<String>, ConditionError> {
        let mut keys = Vec::new();
        while self.peek().tok == Tok::LBracket {
            let open = self.next();
            if keys.len() == MAX_BODY_KEYS {
                let msg = format!("a body path has at most {MAX_BODY_KEYS} keys");
                return Err(error(open.column, msg));
            }
            let token = self.next();
            let Tok::Str(key) = token.tok else {
                let msg = format!(
                    "expected the body key as a string, found {}",
                    token.tok.describe()
                );
                return Err(error(token.column, msg));
            };
            self.expect(Tok::RBracket, "`]`")?;
            keys.push(key);
        }
        Ok(keys)
    }

    /// `["key"]` after `attributes`.
    fn key(&mut self, after: &str) -> Result<String, ConditionError> {
        let msg = format!("`[\"key\"]` after `{after}`");
        self.expect(Tok::LBracket, &msg)?;
        let token = self.next();
        let Tok::Str(key) = token.tok else {
            let msg = format!(
                "expected the attribute key as a string, found {}",
                token.tok.describe()
            );
            return Err(error(token.column, msg));
        };
        self.expect(Tok::RBracket, "`]`")?;
        if self.peek().tok == Tok::LBracket {
            let column = self.peek().column;
            return Err(error(column, "nested keys are not supported"));
        }
        Ok(key)
    }
}

/// `SEVERITY_NUMBER_ERROR` → 17, `SEVERITY_NUMBER_WARN2` → 14, `SEVERITY_NUMBER_UNSPECIFIED` → 0.
fn severity_number(name: &str) -> Option<i64> {
    let rest = name.strip_prefix("SEVERITY_NUMBER_")?;
    if rest == "UNSPECIFIED" {
        return Some(0);
    }
    SEVERITIES.iter().enumerate().find_map(|(i, base)| {
        let step = match rest.strip_prefix(base)? {
            "" => 0,
            "2" => 1,
            "3" => 2,
            "4" => 3,
            _ => return None,
        };
        Some(i as i64 * 4 + 1 + step)
    })
}

/// An enum name of no family (with a hint: the closest name, or the families).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown enum `{name}`{hint}")]
struct UnknownEnum {
    name: String,
    hint: String,
}

fn enum_value(name: &str) -> Result<(i64, Family), UnknownEnum> {
    if let Some(n) = severity_number(name) {
        return Ok((n, Family::Severity));
    }
    let kinds = SPAN_KINDS.iter().map(|(n, v)| (n, v, Family::Kind));
    let statuses = STATUS_CODES.iter().map(|(n, v)| (n, v, Family::Status));
    let mut all = kinds.chain(statuses);
    match all.find(|(n, _, _)| **n == name) {
        Some((_, value, family)) => Ok((*value, family)),
        None => {
            let names: Vec<&str> = SPAN_KINDS
                .iter()
                .chain(STATUS_CODES)
                .map(|(n, _)| *n)
                .collect();
            let close = hint(name, &names);
            let close = if close.starts_with(", did you mean") {
                close
            } else {
                ", expected a SPAN_KIND_*, STATUS_CODE_* or SEVERITY_NUMBER_* name".to_string()
            };
            Err(UnknownEnum {
                name: name.to_string(),
                hint: close,
            })
        }
    }
}

/// A comparison that can never hold because the path's type is fixed, by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum Mismatch {
    #[error("`name` is a string, compare it with a string such as \"GET /\"")]
    Name,
    #[error("`kind` compares with SPAN_KIND_SERVER, SPAN_KIND_CLIENT, … or a number")]
    Kind,
    #[error(
        "`status.code` compares with STATUS_CODE_ERROR, STATUS_CODE_OK, STATUS_CODE_UNSET \
         or a number"
    )]
    StatusCode,
    #[error(
        "`severity_number` compares with SEVERITY_NUMBER_ERROR, SEVERITY_NUMBER_WARN, … or a \
         number"
    )]
    SeverityNumber,
    #[error("`severity_text` is a string, compare it with a string such as \"ERROR\"")]
    SeverityText,
    #[error("`duration` compares with a duration such as `300ms` or `1.5s`")]
    Duration,
    #[error("a duration such as `300ms` compares only with `duration`")]
    DurationOfAttribute,
}

/// Refuses comparisons that can never hold because the path's type is fixed.
fn check(path: &Path, lit: &Lit, family: Option<Family>) -> Result<(), Mismatch> {
    let what = match (path, lit) {
        (_, Lit::Nil) => return Ok(()),
        (Path::Name, Lit::Str(_)) => return Ok(()),
        (Path::Name, _) => Mismatch::Name,
        (Path::Kind, Lit::Int(_) | Lit::Float(_)) if family.is_none_or(|f| f == Family::Kind) => {
            return Ok(());
        }
        (Path::Kind, _) => Mismatch::Kind,
        (Path::StatusCode, Lit::Int(_) | Lit::Float(_))
            if family.is_none_or(|f| f == Family::Status) =>
        {
            return Ok(());
        }
        (Path::StatusCode, _) => Mismatch::StatusCode,
        (Path::Log(LogField::SeverityNumber), Lit::Int(_) | Lit::Float(_))
            if family.is_none_or(|f| f == Family::Severity) =>
        {
            return Ok(());
        }
        (Path::Log(LogField::SeverityNumber), _) => Mismatch::SeverityNumber,
        (Path::Log(LogField::SeverityText), Lit::Str(_)) => return Ok(()),
        (Path::Log(LogField::SeverityText), _) => Mismatch::SeverityText,
        (Path::Duration, Lit::Duration(_)) => return Ok(()),
        (Path::Duration, _) => Mismatch::Duration,
        (Path::Attr(_), Lit::Duration(_)) => Mismatch::DurationOfAttribute,
        (Path::Attr(_), _) => return Ok(()),
    };
    Err(what)
}

fn cmp(left: Path, op: CmpOp, right: Operand) -> Expr {
    // A fixed path is never nil: fold `name == nil` and friends.
    if let Operand::Lit(Lit::Nil) = right
        && !matches!(left, Path::Attr(_))
    {
        return Expr::Const(compare(Val::Str(""), op, Val::Nil));
    }
    Expr::Cmp { left, op, right }
}

/// `terms` joined by `fold` as a balanced tree: `and` and `or` are associative, and a
/// chain of thousands of terms would otherwise be as deep, and so would every walk over it
/// (the evaluators, the Arrow kernels, drop), past a thread's stack.
fn balanced(mut terms: Vec<Expr>, fold: fn(Expr, Expr) -> Expr) -> Expr {
    if terms.len() == 1 {
        return terms.pop().expect("one term");
    }
    let right = terms.split_off(terms.len() / 2);
    fold(balanced(terms, fold), balanced(right, fold))
}

fn fold_and(a: Expr, b: Expr) -> Expr {
    match (a, b) {
        (Expr::Const(false), _) | (_, Expr::Const(false)) => Expr::Const(false),
        (Expr::Const(true), e) | (e, Expr::Const(true)) => e,
        (a, b) => Expr::And(Box::new(a), Box::new(b)),
    }
}

fn fold_or(a: Expr, b: Expr) -> Expr {
    match (a, b) {
        (Expr::Const(true), _) | (_, Expr::Const(true)) => Expr::Const(true),
        (Expr::Const(false), e) | (e, Expr::Const(false)) => e,
        (a, b) => Expr::Or(Box::new(a), Box::new(b)),
    }
}
