//! Log conditions and fields bound to the body paths of a set of log SLIs: every body path
//! they read is resolved to its slot among the [`BodyPaths`] once, when a request's plan is
//! made, so evaluating a record indexes its body values directly instead of finding each
//! path by comparing its keys (what the reference these are tested against,
//! `Condition::eval_log` in the tests, does per condition and record).

use std::sync::Arc;

use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::user_regex::SearchRegex;

use super::ast::{CmpOp, Expr, Lit, LogField, Operand, Path, Val, compare, render};
use super::body::{BodyView, Unreadable, as_number, latency_nanos};
use super::row::{lookup, resource_attr};
use super::{AttrRef, BodyPaths, Condition};

/// What a bound condition or field reads of a log record.
#[derive(Debug, Clone)]
enum Read {
    SeverityNumber,
    SeverityText,
    /// `attributes[…]` or `resource.attributes[…]`.
    Attr(AttrRef),
    /// A body path, at its slot of the body paths.
    Body(usize),
    /// A body path that is not read, or a path log conditions refuse: always `nil`.
    Nil,
}

impl Read {
    fn of(path: &Path, paths: &BodyPaths) -> Read {
        match path {
            Path::Log(LogField::SeverityNumber) => Read::SeverityNumber,
            Path::Log(LogField::SeverityText) => Read::SeverityText,
            Path::Attr(attr) => Read::of_attr(attr, paths),
            Path::Name | Path::Kind | Path::StatusCode | Path::Duration => Read::Nil,
        }
    }

    fn of_attr(attr: &AttrRef, paths: &BodyPaths) -> Read {
        match attr {
            AttrRef::Body(keys) => paths.slot(keys).map_or(Read::Nil, Read::Body),
            other => Read::Attr(other.clone()),
        }
    }

    #[inline]
    fn get<'a>(&self, row: &Row<'a>) -> Val<'a> {
        match self {
            Read::SeverityNumber => Val::Int(i64::from(row.record.severity_number)),
            Read::SeverityText => Val::Str(&row.record.severity_text),
            Read::Body(slot) => row.body.value(*slot),
            Read::Attr(attr) => match row.body.captured() {
                Some(attributes) => BodyView::captured_attr(attributes, attr),
                None => match attr {
                    AttrRef::Item(key) => lookup(&row.record.attributes, key),
                    AttrRef::Resource(key) => resource_attr(row.resource, key),
                    AttrRef::Body(_) => Val::Nil,
                },
            },
            Read::Nil => Val::Nil,
        }
    }
}

/// One log record as bound conditions read it.
struct Row<'a> {
    record: &'a LogRecord,
    resource: Option<&'a Resource>,
    body: BodyView<'a>,
}

#[derive(Debug, Clone)]
enum Bound {
    Const(bool),
    Not(Box<Bound>),
    And(Box<Bound>, Box<Bound>),
    Or(Box<Bound>, Box<Bound>),
    /// `left op literal`.
    Lit {
        left: Read,
        op: CmpOp,
        right: Lit,
    },
    /// `left op right`, two paths.
    Paths {
        left: Read,
        op: CmpOp,
        right: Read,
    },
    /// `path != nil` (`present`) or `path == nil`: whether a value is there.
    Present {
        read: Read,
        present: bool,
    },
    /// [`Bound::Present`] of a body path, the most common test on a body field: its value
    /// tested where it lies.
    BodyPresent {
        slot: usize,
        present: bool,
    },
    /// `severity_number op n`.
    Severity {
        op: CmpOp,
        value: i64,
    },
    IsMatch {
        read: Read,
        regex: Arc<SearchRegex>,
    },
}

impl Bound {
    fn of(expr: &Expr, paths: &BodyPaths) -> Bound {
        let boxed = |e: &Expr| Box::new(Bound::of(e, paths));
        match expr {
            Expr::Const(b) => Bound::Const(*b),
            Expr::Not(e) => Bound::Not(boxed(e)),
            Expr::And(a, b) => Bound::And(boxed(a), boxed(b)),
            Expr::Or(a, b) => Bound::Or(boxed(a), boxed(b)),
            Expr::Cmp {
                left,
                op,
                right: Operand::Lit(Lit::Nil),
            } if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
                let present = *op == CmpOp::Ne;
                match Read::of(left, paths) {
                    Read::Body(slot) => Bound::BodyPresent { slot, present },
                    read => Bound::Present { read, present },
                }
            }
            Expr::Cmp {
                left: Path::Log(LogField::SeverityNumber),
                op,
                right: Operand::Lit(Lit::Int(value)),
            } => Bound::Severity {
                op: *op,
                value: *value,
            },
            Expr::Cmp {
                left,
                op,
                right: Operand::Lit(lit),
            } => Bound::Lit {
                left: Read::of(left, paths),
                op: *op,
                right: lit.clone(),
            },
            Expr::Cmp {
                left,
                op,
                right: Operand::Path(right),
            } => Bound::Paths {
                left: Read::of(left, paths),
                op: *op,
                right: Read::of(right, paths),
            },
            Expr::IsMatch { path, regex } => Bound::IsMatch {
                read: Read::of(path, paths),
                regex: regex.clone(),
            },
        }
    }

    fn eval(&self, row: &Row<'_>) -> bool {
        match self {
            Bound::Const(b) => *b,
            Bound::Not(e) => !e.eval(row),
            Bound::And(a, b) => a.eval(row) && b.eval(row),
            Bound::Or(a, b) => a.eval(row) || b.eval(row),
            // `x != nil` holds for every value but nil, `x == nil` for nil alone.
            Bound::Present { read, present } => !matches!(read.get(row), Val::Nil) == *present,
            Bound::BodyPresent { slot, present } => row.body.is_present(*slot) == *present,
            // Two ints: compared as ints, as `compare` does.
            Bound::Severity { op, value } => {
                op.holds(i64::from(row.record.severity_number).cmp(value))
            }
            Bound::Lit { left, op, right } => {
                let (left, right) = (left.get(row), right.val());
                compare(as_number(left, right), *op, as_number(right, left))
            }
            Bound::Paths { left, op, right } => {
                let (left, right) = (left.get(row), right.get(row));
                compare(as_number(left, right), *op, as_number(right, left))
            }
            Bound::IsMatch { read, regex } => match read.get(row) {
                Val::Str(s) => regex.is_match(s),
                value => {
                    let mut text = String::new();
                    render(value, &mut text) && regex.is_match(&text)
                }
            },
        }
    }
}

/// A log condition bound to a set of body paths ([`Condition::bind_log`]).
#[derive(Debug, Clone)]
pub struct LogCondition(Bound);

impl LogCondition {
    /// Evaluates on one log record; `body` holds its body fields at the paths the condition
    /// was bound to.
    pub fn eval(
        &self,
        record: &LogRecord,
        resource: Option<&Resource>,
        body: BodyView<'_>,
    ) -> bool {
        self.0.eval(&Row {
            record,
            resource,
            body,
        })
    }
}

impl Condition {
    /// The condition with every body path it reads resolved to its slot of `paths` (which
    /// should hold them all: one it lacks reads `nil`).
    pub fn bind_log(&self, paths: &BodyPaths) -> LogCondition {
        LogCondition(Bound::of(self.expr(), paths))
    }
}

/// A log record's attribute, resource attribute or body field, its body path (if any)
/// resolved to its slot of a set of body paths: a latency field or a `group_by` field.
#[derive(Debug, Clone)]
pub struct LogFieldRef(Read);

impl LogFieldRef {
    /// `field` bound to `paths` (one they lack reads `nil`).
    pub fn bind(field: &AttrRef, paths: &BodyPaths) -> LogFieldRef {
        LogFieldRef(Read::of_attr(field, paths))
    }

    /// The field's value in one record; `body` holds its body fields at the bound paths.
    pub(crate) fn get<'a>(
        &self,
        record: &'a LogRecord,
        resource: Option<&'a Resource>,
        body: BodyView<'a>,
    ) -> Val<'a> {
        self.0.get(&Row {
            record,
            resource,
            body,
        })
    }

    /// The field as a latency in nanoseconds (`nanos_per_unit` to its unit), or why not.
    pub fn latency(
        &self,
        nanos_per_unit: f64,
        record: &LogRecord,
        resource: Option<&Resource>,
        body: BodyView<'_>,
    ) -> Result<u64, Unreadable> {
        let value = match self.0 {
            // The common case, without the other reads' match.
            Read::Body(slot) => body.value(slot),
            _ => self.get(record, resource, body),
        };
        latency_nanos(value, nanos_per_unit)
    }

    /// The field in its string form (a `group_by` key): empty when absent.
    pub fn string(
        &self,
        record: &LogRecord,
        resource: Option<&Resource>,
        body: BodyView<'_>,
    ) -> String {
        let mut out = String::new();
        render(self.get(record, resource, body), &mut out);
        out
    }
}
