//! The row-by-row evaluator: one span (or data point) at a time, straight from the prost
//! types. The reference the Arrow evaluator is tested against, and the path for metric data
//! points.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::AttrRef;
use super::ast::{Expr, Operand, Path, Val, compare, render};

/// Where paths are read from.
pub(super) trait Source {
    fn get(&self, path: &Path) -> Val<'_>;

    /// Whether a string holding a number compares as that number with a number literal
    /// (log records: access logs write `"status": "503"`, `"request_time": "0.123"`).
    fn numeric_strings(&self) -> bool {
        false
    }
}

pub(super) struct SpanSource<'a> {
    pub(super) span: &'a Span,
    pub(super) resource: Option<&'a Resource>,
}

pub(super) struct PointSource<'a> {
    pub(super) attributes: &'a [KeyValue],
    pub(super) resource: Option<&'a Resource>,
}

pub(super) fn lookup<'a>(attributes: &'a [KeyValue], key: &str) -> Val<'a> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .map_or(Val::Nil, |kv| Val::of(kv.value.as_ref()))
}

pub(super) fn resource_attr<'a>(resource: Option<&'a Resource>, key: &str) -> Val<'a> {
    resource.map_or(Val::Nil, |r| lookup(&r.attributes, key))
}

impl Source for SpanSource<'_> {
    fn get(&self, path: &Path) -> Val<'_> {
        let span = self.span;
        match path {
            Path::Name => Val::Str(&span.name),
            Path::Kind => Val::Int(i64::from(span.kind)),
            Path::StatusCode => Val::Int(span.status.as_ref().map_or(0, |s| i64::from(s.code))),
            Path::Duration => Val::Duration(
                span.end_time_unix_nano
                    .saturating_sub(span.start_time_unix_nano),
            ),
            Path::Attr(AttrRef::Item(key)) => lookup(&span.attributes, key),
            Path::Attr(AttrRef::Resource(key)) => resource_attr(self.resource, key),
            // Refused by the parser for span conditions.
            Path::Log(_) | Path::Attr(AttrRef::Body(_)) => Val::Nil,
        }
    }
}

impl Source for PointSource<'_> {
    fn get(&self, path: &Path) -> Val<'_> {
        match path {
            Path::Attr(AttrRef::Item(key)) => lookup(self.attributes, key),
            Path::Attr(AttrRef::Resource(key)) => resource_attr(self.resource, key),
            // Refused by the parser for metric conditions.
            _ => Val::Nil,
        }
    }
}

pub(super) fn eval(expr: &Expr, source: &impl Source) -> bool {
    match expr {
        Expr::Const(b) => *b,
        Expr::Not(e) => !eval(e, source),
        Expr::And(a, b) => eval(a, source) && eval(b, source),
        Expr::Or(a, b) => eval(a, source) || eval(b, source),
        Expr::Cmp { left, op, right } => {
            let right = match right {
                Operand::Lit(lit) => lit.val(),
                Operand::Path(path) => source.get(path),
            };
            let left = source.get(left);
            if source.numeric_strings() {
                compare(
                    super::body::as_number(left, right),
                    *op,
                    super::body::as_number(right, left),
                )
            } else {
                compare(left, *op, right)
            }
        }
        Expr::IsMatch { path, regex } => match source.get(path) {
            Val::Str(s) => regex.is_match(s),
            value => {
                let mut text = String::new();
                render(value, &mut text) && regex.is_match(&text)
            }
        },
    }
}
