//! SLO conditions in a subset of OTTL, the language collector users already write in the
//! filter and transform processors.
//!
//! A condition is parsed and compiled once, when its SLO file loads; syntax errors carry
//! their column. It then runs two ways with the same meaning: row by row on the prost types
//! ([`Condition::eval_span`], [`Condition::eval_point`]) and over a whole batch of span
//! facts with Arrow kernels ([`Condition::eval_batch`], in `slo::facts`, which sits above
//! this module: conditions import nothing else of `slo`).
//!
//! # The language
//!
//! - Paths: `name`, `kind`, `status.code`, `duration` (end − start), `attributes["k"]`,
//!   `resource.attributes["k"]` (`span.` may prefix the span fields). Metric conditions
//!   ([`ConditionTarget::Metric`]) read only the two attribute paths. Log conditions
//!   ([`ConditionTarget::Log`]) read `severity_number`, `severity_text`, `body` and body
//!   fields `body["a"]["b"]` of map bodies and JSON string bodies (`log.` may prefix them),
//!   and the two attribute paths; there a string holding a number (`"503"`) compares as
//!   that number with a number literal (see `body.rs`).
//! - Literals: strings in double quotes (escapes `\" \\ \n \t \r`), ints, floats, `true`,
//!   `false`, `nil`, durations (`300ms`, `1.5s`, `1m30s`; units `ns us ms s m h d w`), and the
//!   enums `SPAN_KIND_UNSPECIFIED` … `SPAN_KIND_CONSUMER` and `STATUS_CODE_UNSET`, `_OK`,
//!   `_ERROR`, `SEVERITY_NUMBER_UNSPECIFIED`, `SEVERITY_NUMBER_TRACE` … `SEVERITY_NUMBER_FATAL4`
//!   (ints, as in OTTL).
//! - `==`, `!=`, `<`, `<=`, `>`, `>=`; `not` binds tightest, then `and`, then `or`;
//!   parentheses; `IsMatch(value, "regex")` (an unanchored search in the value's string
//!   form; regexes are compiled under the one policy of [`crate::user_regex`]).
//! - OTTL's comparison rules: values of different types are never equal (`!=` holds, every
//!   other comparison is false), ints and floats compare numerically, a missing attribute is
//!   `nil`. Comparisons that can never hold because a field's type is fixed
//!   (`kind == "SERVER"`, `duration > 5`) are refused at load time instead.
//!
//! # Layout
//!
//! - `mod.rs` (here): [`Condition`] and its errors.
//! - `lexer.rs`, `parser.rs`: text → [`ast`] with columns in errors; literal comparisons are
//!   folded.
//! - `ast.rs`: the compiled form and the comparison rules both evaluators share.
//! - `attr.rs`: [`AttrRef`], an attribute path.
//! - `row.rs`: the row-by-row evaluator.
//! - `body.rs`: log records as a source: body fields read once per record, numbers in
//!   strings, latency fields; `body_json.rs`: a JSON string body's fields in one pass, along
//!   the body paths as a tree of keys (`path_tree.rs`); `bound.rs`: log conditions and
//!   fields with their body paths resolved to slots once a request, not looked up a record.
//! - `tests.rs`: parsing, errors, semantics, and both evaluators against each other;
//!   `log_tests.rs`: log conditions.

pub(crate) mod ast;
mod attr;
mod body;
mod body_json;
#[cfg(test)]
mod body_json_tests;
mod bound;
#[cfg(test)]
mod bound_tests;
mod lexer;
#[cfg(test)]
mod log_tests;
mod parser;
mod path_tree;
mod row;
#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::KeyValue;
#[cfg(test)]
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;

pub use ast::Use;
pub(crate) use ast::{Val, render};
pub use attr::AttrRef;
pub use body::{
    BodyFields, BodyKind, BodyPaths, BodyValue, BodyView, MAX_JSON_BODY, Unreadable, read_into,
};
pub use bound::{LogCondition, LogFieldRef};
pub use lexer::DurationError;

use ast::{Expr, Path};

/// The most the `IsMatch` regexes of one load of the SLO files (every file, every
/// condition) may take compiled, in bytes. One regex may take
/// [`crate::user_regex::MAX_REGEX_BYTES`] and a few milliseconds to compile, and a 4 MiB
/// SLO file holds thousands: without a total, one file could hold gigabytes of compiled
/// regexes. Typical regexes (a route, a few words) take 10–40 KiB, so this allows
/// thousands of them.
pub const MAX_REGEX_TOTAL_BYTES: usize = 128 << 20;

/// Parses a duration literal as conditions write them (`300ms`, `1.5s`, `1m30s`, `30d`;
/// units `ns us ms s m h d w`).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, DurationError> {
    lexer::duration_literal(text).map(std::time::Duration::from_nanos)
}

/// Parses a lone attribute path, `attributes["k"]` or `resource.attributes["k"]` (as
/// `group_by` lists them).
pub fn parse_attribute(text: &str) -> Result<AttrRef, ConditionError> {
    parser::parse_attribute(text)
}

/// A log record's latency field (an attribute or a body field) in nanoseconds, `unit`
/// nanoseconds to the written unit; why not when it is not a non-negative number. The
/// reference that [`LogFieldRef::latency`] is tested against.
#[cfg(test)]
pub fn log_latency(
    field: &AttrRef,
    nanos_per_unit: f64,
    record: &LogRecord,
    resource: Option<&Resource>,
    paths: &BodyPaths,
    body: BodyView<'_>,
) -> Result<u64, Unreadable> {
    let source = body::reference::LogSource {
        record,
        resource,
        paths,
        body,
    };
    body::latency_nanos(source.attr(field), nanos_per_unit)
}

/// A log record's attribute, resource attribute or body field: the reference that
/// [`LogFieldRef`]'s reads are tested against.
#[cfg(test)]
pub(crate) fn log_field<'a>(
    field: &AttrRef,
    record: &'a LogRecord,
    resource: Option<&'a Resource>,
    paths: &'a BodyPaths,
    body: BodyView<'a>,
) -> Val<'a> {
    let source = body::reference::LogSource {
        record,
        resource,
        paths,
        body,
    };
    source.attr(field)
}

/// An OTLP value in the string form `group_by` and cluster names use; `None` when empty.
pub fn render_any(
    value: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>,
) -> Option<String> {
    let mut out = String::new();
    render(Val::of(value), &mut out).then_some(out)
}

/// What a condition is evaluated on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionTarget {
    /// Spans: every path.
    Span,
    /// Metric data points: only `attributes[…]` and `resource.attributes[…]`.
    Metric,
    /// Log records: `severity_number`, `severity_text`, `body`, `body["k"]…`, the two
    /// attribute paths; strings holding numbers compare as numbers.
    Log,
}

/// A syntax or type error in a condition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ConditionError {
    /// 1-based, in characters of the condition text.
    pub column: usize,
    /// Lowercase, without a trailing period.
    pub message: String,
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub struct Condition {
    text: String,
    target: ConditionTarget,
    /// Shared: clones (one per SLO that holds the condition) are cheap.
    expr: Arc<Expr>,
}

/// Conditions are equal when they were compiled from the same text for the same target:
/// the text determines the compiled form.
impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.target == other.target
    }
}

impl Condition {
    /// Parses and compiles `text` (regexes included), its regexes within
    /// [`MAX_REGEX_TOTAL_BYTES`].
    pub fn parse(text: &str, target: ConditionTarget) -> Result<Condition, ConditionError> {
        Self::parse_within(text, target, &Cell::new(MAX_REGEX_TOTAL_BYTES))
    }

    /// As [`Condition::parse`], its `IsMatch` regexes charged to `regex_room` (bytes of
    /// compiled regex still allowed, shared by every condition of one load of the SLO
    /// files): a regex past it is refused, and once it is spent the regexes after it are
    /// refused before they compile.
    pub fn parse_within(
        text: &str,
        target: ConditionTarget,
        regex_room: &Cell<usize>,
    ) -> Result<Condition, ConditionError> {
        let expr = parser::parse(text, target, regex_room)?;
        Ok(Condition {
            text: text.to_string(),
            target,
            expr: Arc::new(expr),
        })
    }

    /// A condition that always holds (`true`).
    pub fn always(target: ConditionTarget) -> Condition {
        Condition {
            text: "true".to_string(),
            target,
            expr: Arc::new(Expr::Const(true)),
        }
    }

    /// The text it was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn target(&self) -> ConditionTarget {
        self.target
    }

    /// `not (self)`.
    pub fn negate(&self) -> Condition {
        let expr = match &*self.expr {
            Expr::Const(b) => Expr::Const(!b),
            Expr::Not(inner) => (**inner).clone(),
            e => Expr::Not(Box::new(e.clone())),
        };
        Condition {
            text: format!("not ({})", self.text),
            target: self.target,
            expr: Arc::new(expr),
        }
    }

    /// `(self) and (other)`.
    pub fn and(&self, other: &Condition) -> Condition {
        Condition {
            text: format!("({}) and ({})", self.text, other.text),
            target: self.target,
            expr: Arc::new(Expr::And(
                Box::new((*self.expr).clone()),
                Box::new((*other.expr).clone()),
            )),
        }
    }

    /// The attributes it reads.
    pub fn attributes(&self) -> BTreeSet<AttrRef> {
        self.attribute_uses().into_iter().map(|(a, _)| a).collect()
    }

    /// The attributes it reads and which typed columns of each it needs.
    pub fn attribute_uses(&self) -> Vec<(AttrRef, Use)> {
        let mut uses: Vec<(AttrRef, Use)> = Vec::new();
        self.expr.visit(&mut |path, how| {
            if let Path::Attr(attr) = path {
                match uses.iter_mut().find(|(a, _)| a == attr) {
                    Some((_, u)) => *u = u.union(how),
                    None => uses.push((attr.clone(), how)),
                }
            }
        });
        uses.sort();
        uses
    }

    /// The compiled form (for the Arrow evaluator in `slo::facts`).
    pub(crate) fn expr(&self) -> &Expr {
        &self.expr
    }

    /// True when the condition can never fail: `true`, or folded to it.
    pub fn is_always(&self) -> bool {
        matches!(*self.expr, Expr::Const(true))
    }

    /// Evaluates on one span; `resource` is the span's resource.
    pub fn eval_span(&self, span: &Span, resource: Option<&Resource>) -> bool {
        row::eval(&self.expr, &row::SpanSource { span, resource })
    }

    /// Evaluates on one log record; `body` holds the record's body fields at `paths`
    /// ([`read_into`], [`BodyFields::view`]). The reference that [`LogCondition`]s (what
    /// [`Condition::bind_log`] makes) are tested against.
    #[cfg(test)]
    pub fn eval_log(
        &self,
        record: &LogRecord,
        resource: Option<&Resource>,
        paths: &BodyPaths,
        body: BodyView<'_>,
    ) -> bool {
        row::eval(
            &self.expr,
            &body::reference::LogSource {
                record,
                resource,
                paths,
                body,
            },
        )
    }

    /// Evaluates on one metric data point's attributes.
    pub fn eval_point(&self, attributes: &[KeyValue], resource: Option<&Resource>) -> bool {
        row::eval(
            &self.expr,
            &row::PointSource {
                attributes,
                resource,
            },
        )
    }
}
