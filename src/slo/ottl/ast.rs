//! The compiled form of a condition, and the value semantics both evaluators share.
//!
//! Comparison rules follow OTTL's: values of different types are never equal (`!=` is true,
//! every other operator false); ints and floats compare numerically; a missing attribute is
//! `nil`, equal only to `nil`; strings compare bytewise; `false < true`. Floats use a total
//! order (`NaN` equals itself and sorts above every number), as Arrow's kernels do, so the
//! two evaluators always agree.

use std::cmp::Ordering;
use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;

use crate::user_regex::SearchRegex;

use super::AttrRef;

/// A boolean expression; comparisons are normalised so that a path is on the left and two
/// literals never meet (they are folded into [`Expr::Const`]).
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Const(bool),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp {
        left: Path,
        op: CmpOp,
        right: Operand,
    },
    /// `IsMatch(path, "re")`: an unanchored search in the string form of the value.
    IsMatch {
        path: Path,
        regex: Arc<SearchRegex>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Path(Path),
    Lit(Lit),
}

/// What a condition can read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Path {
    /// `name`: a string.
    Name,
    /// `kind`: an int (`SPAN_KIND_*`).
    Kind,
    /// `status.code`: an int (`STATUS_CODE_*`).
    StatusCode,
    /// `duration`: end − start, a duration.
    Duration,
    /// A log record's own fields (log conditions only).
    Log(LogField),
    Attr(AttrRef),
}

/// The fields of a log record besides attributes and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum LogField {
    /// `severity_number`: an int (`SEVERITY_NUMBER_*`).
    SeverityNumber,
    /// `severity_text`: a string.
    SeverityText,
}

impl Path {
    pub(crate) fn describe(&self) -> String {
        match self {
            Path::Name => "`name`".into(),
            Path::Kind => "`kind`".into(),
            Path::StatusCode => "`status.code`".into(),
            Path::Duration => "`duration`".into(),
            Path::Attr(AttrRef::Item(k)) => format!("`attributes[{k:?}]`"),
            Path::Attr(AttrRef::Resource(k)) => format!("`resource.attributes[{k:?}]`"),
            Path::Attr(attr @ AttrRef::Body(_)) => format!("`{attr}`"),
            Path::Log(LogField::SeverityNumber) => "`severity_number`".into(),
            Path::Log(LogField::SeverityText) => "`severity_text`".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Nanoseconds.
    Duration(u64),
}

impl Lit {
    pub(crate) fn val(&self) -> Val<'_> {
        match self {
            Lit::Nil => Val::Nil,
            Lit::Bool(b) => Val::Bool(*b),
            Lit::Int(i) => Val::Int(*i),
            Lit::Float(f) => Val::Float(*f),
            Lit::Str(s) => Val::Str(s),
            Lit::Duration(d) => Val::Duration(*d),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// The operator with its operands swapped: `a < b` ⇔ `b > a`.
    pub(crate) fn flip(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            op => op,
        }
    }

    pub(crate) fn holds(self, ordering: Ordering) -> bool {
        match self {
            CmpOp::Eq => ordering.is_eq(),
            CmpOp::Ne => ordering.is_ne(),
            CmpOp::Lt => ordering.is_lt(),
            CmpOp::Le => ordering.is_le(),
            CmpOp::Gt => ordering.is_gt(),
            CmpOp::Ge => ordering.is_ge(),
        }
    }
}

/// A value read from a span, a data point or a literal.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Val<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Duration(u64),
    /// Bytes, arrays and maps: only their string form is used (by `IsMatch`).
    Other(&'a Value),
    /// An array or object of a JSON log body, already in its string form (JSON).
    Rendered(&'a str),
}

impl<'a> Val<'a> {
    /// An OTLP attribute value; an empty one is `nil`.
    pub(crate) fn of(value: Option<&'a AnyValue>) -> Val<'a> {
        match value.and_then(|v| v.value.as_ref()) {
            None => Val::Nil,
            Some(Value::StringValue(s)) => Val::Str(s),
            Some(Value::BoolValue(b)) => Val::Bool(*b),
            Some(Value::IntValue(i)) => Val::Int(*i),
            Some(Value::DoubleValue(f)) => Val::Float(*f),
            Some(other) => Val::Other(other),
        }
    }
}

/// `a op b` under OTTL's comparison rules.
pub(crate) fn compare(a: Val<'_>, op: CmpOp, b: Val<'_>) -> bool {
    let ordering = match (a, b) {
        (Val::Nil, Val::Nil) => Some(Ordering::Equal),
        (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(&b)),
        (Val::Int(a), Val::Int(b)) => Some(a.cmp(&b)),
        (Val::Int(a), Val::Float(b)) => Some((a as f64).total_cmp(&b)),
        (Val::Float(a), Val::Int(b)) => Some(a.total_cmp(&(b as f64))),
        (Val::Float(a), Val::Float(b)) => Some(a.total_cmp(&b)),
        (Val::Str(a), Val::Str(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (Val::Duration(a), Val::Duration(b)) => Some(a.cmp(&b)),
        _ => None,
    };
    match ordering {
        // Nil orders with nothing, not even nil: only ==, <=, >= hold between two nils.
        Some(Ordering::Equal) if matches!(a, Val::Nil) => {
            matches!(op, CmpOp::Eq | CmpOp::Le | CmpOp::Ge)
        }
        Some(ordering) => op.holds(ordering),
        None => op == CmpOp::Ne,
    }
}

/// Appends the string form `IsMatch` and `group_by` see (OTTL's "string-like" conversion):
/// strings as they are, numbers and booleans printed, bytes as lowercase hex, arrays and
/// maps as JSON. Returns false for `nil` (nothing appended).
pub(crate) fn render(value: Val<'_>, out: &mut impl std::fmt::Write) -> bool {
    let _ = match value {
        Val::Nil => return false,
        Val::Str(s) => out.write_str(s),
        Val::Bool(b) => write!(out, "{b}"),
        Val::Int(i) => write!(out, "{i}"),
        Val::Float(f) => write!(out, "{f}"),
        Val::Duration(d) => write!(out, "{d}"),
        Val::Other(v) => render_json(v, out),
        Val::Rendered(s) => out.write_str(s),
    };
    true
}

fn render_json(value: &Value, out: &mut impl std::fmt::Write) -> std::fmt::Result {
    match value {
        Value::BytesValue(bytes) => bytes.iter().try_for_each(|b| write!(out, "{b:02x}")),
        Value::ArrayValue(array) => {
            out.write_char('[')?;
            for (i, item) in array.values.iter().enumerate() {
                if i > 0 {
                    out.write_char(',')?;
                }
                json_item(item.value.as_ref(), out)?;
            }
            out.write_char(']')
        }
        Value::KvlistValue(list) => {
            out.write_char('{')?;
            for (i, kv) in list.values.iter().enumerate() {
                if i > 0 {
                    out.write_char(',')?;
                }
                write!(out, "{}:", serde_json::Value::from(kv.key.as_str()))?;
                json_item(kv.value.as_ref().and_then(|v| v.value.as_ref()), out)?;
            }
            out.write_char('}')
        }
        Value::StringValue(s) => out.write_str(s),
        Value::BoolValue(b) => write!(out, "{b}"),
        Value::IntValue(i) => write!(out, "{i}"),
        Value::DoubleValue(f) => write!(out, "{f}"),
        Value::StringValueStrindex(i) => write!(out, "{i}"),
    }
}

/// A value nested in an array or a map, as JSON.
fn json_item(value: Option<&Value>, out: &mut impl std::fmt::Write) -> std::fmt::Result {
    match value {
        None => out.write_str("null"),
        Some(Value::StringValue(s)) => write!(out, "{}", serde_json::Value::from(s.as_str())),
        Some(Value::BytesValue(b)) => {
            out.write_char('"')?;
            render_json(&Value::BytesValue(b.clone()), out)?;
            out.write_char('"')
        }
        Some(Value::DoubleValue(f)) if !f.is_finite() => write!(out, "\"{f}\""),
        Some(other) => render_json(other, out),
    }
}

impl Expr {
    /// Every path the expression reads, with how it is read.
    pub(crate) fn visit(&self, f: &mut impl FnMut(&Path, Use)) {
        match self {
            Expr::Const(_) => {}
            Expr::Not(e) => e.visit(f),
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.visit(f);
                b.visit(f);
            }
            Expr::Cmp { left, right, .. } => match right {
                Operand::Lit(lit) => f(left, Use::of(lit)),
                Operand::Path(right) => {
                    f(left, Use::ANY);
                    f(right, Use::ANY);
                }
            },
            Expr::IsMatch { path, .. } => f(path, Use::TEXT),
        }
    }
}

/// Which typed columns of an attribute a condition needs (a bit set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct Use(pub(crate) u8);

impl Use {
    /// String values.
    pub(crate) const STR: Use = Use(1);
    /// Int values.
    pub(crate) const INT: Use = Use(2);
    /// Double values.
    pub(crate) const FLOAT: Use = Use(4);
    /// Bool values.
    pub(crate) const BOOL: Use = Use(8);
    /// The string form of every non-string value (with `STR`: presence and `IsMatch`).
    /// It holds [`Use::OTHER_BESIDE_INTS`]'s bit: a schema that reads `.other` covers one
    /// that reads it without ints' rows.
    pub(crate) const OTHER: Use = Use(16 | 32);
    /// String-like access: `IsMatch`, `nil` checks, `group_by`.
    pub(crate) const TEXT: Use = Use(Use::STR.0 | Use::OTHER.0);
    pub(crate) const ANY: Use = Use(63);
    /// The `.other` column without the rows of ints (null there), whose string form is
    /// their `.int` value's decimal text: what a capture writes of `.other` (`int_text.rs`:
    /// it leaves those rows out), so nothing is rendered for them unless a condition
    /// reads `.other` too ([`Use::OTHER`]).
    pub(crate) const OTHER_BESIDE_INTS: Use = Use(32);
    /// Every typed column of an attribute, `.other` without ints' rows: the columns a
    /// capture writes.
    pub(crate) const CAPTURED: Use = Use(1 | 2 | 4 | 8 | 32);

    fn of(lit: &Lit) -> Use {
        match lit {
            Lit::Nil => Use::TEXT,
            Lit::Bool(_) => Use::BOOL,
            Lit::Int(_) | Lit::Float(_) => Use(Use::INT.0 | Use::FLOAT.0),
            Lit::Str(_) => Use::STR,
            Lit::Duration(_) => Use(0),
        }
    }

    pub(crate) fn has(self, other: Use) -> bool {
        self.0 & other.0 == other.0
    }

    pub(crate) fn union(self, other: Use) -> Use {
        Use(self.0 | other.0)
    }
}
