//! The Arrow evaluator: a condition over a whole [`SpanFacts`] batch with compute kernels
//! ([`Condition::eval_batch`]; the row-by-row evaluator is in `ottl`, below facts).
//!
//! Every comparison becomes `arrow_ord::cmp` kernels between a column and a scalar (or two
//! columns), one per pair of value types that can compare (string–string, int–float, …),
//! OR-ed together; a null (missing attribute, other type) becomes false right at the
//! comparison, so `not`, `and` and `or` (`arrow_arith::boolean`) work on plain booleans and
//! match OTTL, where `not (attributes["a"] == 1)` holds when `a` is missing. `and` and `or`
//! skip their right side when the left side already decides every row.
//!
//! A path compared with a literal (most conditions) takes one loop over the column instead
//! (`kernels.rs`), with the same answers, and is evaluated once per request however many
//! conditions hold it ([`Compared`]).
//!
//! `IsMatch` runs the condition's own compiled, size-limited regex over the string values
//! (`arrow_string::regexp` would compile the pattern again on every call); on a
//! dictionary column (resource attributes) it runs once per distinct value.

use std::sync::{Arc, Mutex};

use arrow_arith::boolean::{and, not, or};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Datum, Float64Array, Int32Array, Int64Array, Scalar,
    StringArray, UInt64Array,
};
use arrow_buffer::BooleanBuffer;
use arrow_ord::cmp;
use arrow_schema::DataType;

use super::SpanFacts;
use super::kernels::{self, Rows};
use crate::slo::ottl::Condition;
use crate::slo::ottl::ast::{CmpOp, Expr, Lit, Operand, Path};
use crate::user_regex::SearchRegex;

impl Condition {
    /// Evaluates on every row of `facts` with Arrow kernels: one value per row, no nulls.
    /// Attributes missing from the facts' schema read as absent.
    pub fn eval_batch(&self, facts: &SpanFacts) -> BooleanArray {
        let bits = match eval(self.expr(), facts) {
            // (The same bitmap for every condition alike on every row: made once.)
            Rows::Every(b) => facts.compared.every(b, facts.len()),
            rows => rows.into_bits(facts.len()),
        };
        BooleanArray::new(bits, None)
    }
}

/// The rows `expr` holds on. A side that answers alike on every row decides `and`, `or`
/// and `not` without a pass (and without the other side when it settles them).
fn eval(expr: &Expr, facts: &SpanFacts) -> Rows {
    match expr {
        Expr::Const(b) => Rows::Every(*b),
        Expr::Not(e) => eval(e, facts).not(),
        Expr::And(a, b) => match eval(a, facts) {
            Rows::Every(false) => Rows::Every(false),
            left => left.and(eval(b, facts)),
        },
        Expr::Or(a, b) => match eval(a, facts) {
            Rows::Every(true) => Rows::Every(true),
            left => left.or(eval(b, facts)),
        },
        Expr::Cmp {
            left,
            op,
            right: Operand::Lit(lit),
        } => {
            if let Some(rows) = facts.compared.get(left, *op, lit) {
                return rows;
            }
            let rows = kernels::path_vs_literal(facts, left, *op, lit).unwrap_or_else(|| {
                rows_of(compare_general(
                    facts,
                    left,
                    *op,
                    &Operand::Lit(lit.clone()),
                ))
            });
            facts.compared.put(left, *op, lit, &rows);
            rows
        }
        Expr::Cmp { left, op, right } => rows_of(compare_general(facts, left, *op, right)),
        Expr::IsMatch { path, regex } => rows_of(is_match(facts, path, regex)),
    }
}

/// Comparisons of a path with a literal already evaluated on one [`SpanFacts`]: the
/// conditions of several SLOs often share some (`kind != SPAN_KIND_UNSPECIFIED`,
/// `status.code == STATUS_CODE_ERROR`), and each is then evaluated once per request. At
/// most [`Compared::MOST`] are kept; a copy of the facts starts with none.
#[derive(Default)]
pub(super) struct Compared(Mutex<Kept>);

/// What [`Compared`] keeps.
#[derive(Default)]
struct Kept {
    compared: Vec<(Path, CmpOp, Lit, Rows)>,
    /// The bitmaps of a condition that holds on no row and on every row, once made.
    every: [Option<BooleanBuffer>; 2],
}

impl Compared {
    const MOST: usize = 64;

    /// The bitmap of `n` rows all `value` ([`Rows::Every`]), shared by the conditions of
    /// the facts that answer alike on every row.
    fn every(&self, value: bool, n: usize) -> BooleanBuffer {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.every[usize::from(value)]
            .get_or_insert_with(|| Rows::Every(value).into_bits(n))
            .clone()
    }

    fn get(&self, path: &Path, op: CmpOp, lit: &Lit) -> Option<Rows> {
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.compared
            .iter()
            .find(|(p, o, l, _)| *o == op && p == path && same_literal(l, lit))
            .map(|(.., rows)| rows.clone())
    }

    fn put(&self, path: &Path, op: CmpOp, lit: &Lit, rows: &Rows) {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if kept.compared.len() < Self::MOST {
            kept.compared
                .push((path.clone(), op, lit.clone(), rows.clone()));
        }
    }
}

/// The same literal: floats by their bits (`-0.0` is not `0.0` to the kernels, and `NaN`
/// is itself).
fn same_literal(a: &Lit, b: &Lit) -> bool {
    match (a, b) {
        (Lit::Float(a), Lit::Float(b)) => a.to_bits() == b.to_bits(),
        (a, b) => a == b,
    }
}

impl Compared {
    /// Keeps `rows` as the answer of each comparison of `compared` (those of lean facts,
    /// made as the spans were read).
    pub(super) fn hold(&self, compared: &[(Path, CmpOp, Lit)], rows: Vec<Rows>) {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for ((path, op, lit), rows) in compared.iter().zip(rows) {
            if kept.compared.len() < Self::MOST {
                kept.compared.push((path.clone(), *op, lit.clone(), rows));
            }
        }
    }

    /// The bytes of the comparisons' rows kept (bitmaps; not those of the conditions that
    /// hold alike on every row, made as the facts are read).
    pub(super) fn held_bytes(&self) -> usize {
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let bits = |rows: &Rows| match rows {
            Rows::Every(_) => 0,
            Rows::Bits(b) => b.inner().capacity(),
        };
        kept.compared.iter().map(|(.., rows)| bits(rows)).sum()
    }

    /// The comparisons kept, of rows `offset .. offset + len` only, when `keep` (lean
    /// facts, whose columns are not there to compare again); none otherwise.
    pub(super) fn slice(&self, offset: usize, len: usize, keep: bool) -> Compared {
        if !keep {
            return Compared::default();
        }
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let compared = kept
            .compared
            .iter()
            .map(|(path, op, lit, rows)| {
                let rows = match rows {
                    Rows::Every(b) => Rows::Every(*b),
                    Rows::Bits(bits) => Rows::of(bits.slice(offset, len)),
                };
                (path.clone(), *op, lit.clone(), rows)
            })
            .collect();
        Compared(Mutex::new(Kept {
            compared,
            every: [None, None],
        }))
    }
}

impl Clone for Compared {
    fn clone(&self) -> Self {
        Compared::default()
    }
}

impl std::fmt::Debug for Compared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Compared")
    }
}

/// `left op right` with the general kernels (every pair of a path and a literal or path).
pub(super) fn compare_general(
    facts: &SpanFacts,
    left: &Path,
    op: CmpOp,
    right: &Operand,
) -> BooleanArray {
    let left = Side::path(facts, left);
    let right = match right {
        Operand::Lit(lit) => Side::lit(lit),
        Operand::Path(path) => Side::path(facts, path),
    };
    compare(&left, op, &right, facts.len())
}

fn constant(n: usize, value: bool) -> BooleanArray {
    let values = if value {
        BooleanBuffer::new_set(n)
    } else {
        BooleanBuffer::new_unset(n)
    };
    BooleanArray::new(values, None)
}

/// The rows of a general kernel's answer (nulls false).
fn rows_of(array: BooleanArray) -> Rows {
    Rows::of(definite(array).into_parts().0)
}

/// Nulls become false.
fn definite(array: BooleanArray) -> BooleanArray {
    match array.nulls() {
        Some(nulls) if nulls.null_count() > 0 => {
            BooleanArray::new(array.values() & nulls.inner(), None)
        }
        _ => array,
    }
}

fn or_into(acc: Option<BooleanArray>, next: BooleanArray) -> BooleanArray {
    match acc {
        None => next,
        Some(acc) => or(&acc, &next).unwrap_or(acc),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ty {
    Str,
    Int,
    Float,
    Bool,
    Duration,
}

/// A column or a literal.
enum Data {
    Array(ArrayRef),
    Scalar(ArrayRef),
}

impl Data {
    fn array(&self) -> &ArrayRef {
        match self {
            Data::Array(a) | Data::Scalar(a) => a,
        }
    }

    fn with(&self, array: ArrayRef) -> Data {
        match self {
            Data::Array(_) => Data::Array(array),
            Data::Scalar(_) => Data::Scalar(array),
        }
    }

    fn kernel(&self, op: CmpOp, other: &Data) -> Option<BooleanArray> {
        let scalar = |a: &ArrayRef| Scalar::new(a.clone());
        let (l, r): (Box<dyn Datum>, Box<dyn Datum>) = match (self, other) {
            (Data::Array(a), Data::Array(b)) => (Box::new(a.clone()), Box::new(b.clone())),
            (Data::Array(a), Data::Scalar(b)) => (Box::new(a.clone()), Box::new(scalar(b))),
            (Data::Scalar(a), Data::Array(b)) => (Box::new(scalar(a)), Box::new(b.clone())),
            // Two literals never reach here: the parser folds them.
            (Data::Scalar(_), Data::Scalar(_)) => return None,
        };
        let (l, r) = (l.as_ref(), r.as_ref());
        let result = match op {
            CmpOp::Eq | CmpOp::Ne => cmp::eq(l, r),
            CmpOp::Lt => cmp::lt(l, r),
            CmpOp::Le => cmp::lt_eq(l, r),
            CmpOp::Gt => cmp::gt(l, r),
            CmpOp::Ge => cmp::gt_eq(l, r),
        };
        result.ok().map(definite)
    }
}

/// Whether a side can be nil on a row.
enum Presence<'a> {
    Always,
    Never,
    /// An attribute: present where its string or other column is valid.
    Columns(Vec<&'a ArrayRef>),
}

/// One side of a comparison: its value under each type it can take.
struct Side<'a> {
    parts: Vec<(Ty, Data)>,
    presence: Presence<'a>,
}

impl<'a> Side<'a> {
    fn path(facts: &'a SpanFacts, path: &Path) -> Side<'a> {
        // (A fixed column is missing from lean facts only, whose comparisons are all
        // made already: it reads as absent.)
        let fixed = |ty, column: Option<&ArrayRef>| match column {
            Some(column) => Side {
                parts: vec![(ty, Data::Array(column.clone()))],
                presence: Presence::Always,
            },
            None => Side {
                parts: Vec::new(),
                presence: Presence::Never,
            },
        };
        match path {
            Path::Name => fixed(Ty::Str, facts.name_column()),
            Path::Kind => fixed(Ty::Int, facts.kind_column()),
            Path::StatusCode => fixed(Ty::Int, facts.status_column()),
            Path::Duration => fixed(Ty::Duration, Some(facts.duration_column())),
            // Log fields are refused in span conditions.
            Path::Log(_) => Side {
                parts: Vec::new(),
                presence: Presence::Never,
            },
            Path::Attr(attr) => {
                let Some(columns) = facts.attr_columns(attr) else {
                    return Side {
                        parts: Vec::new(),
                        presence: Presence::Never,
                    };
                };
                let typed = [
                    (Ty::Str, &columns.str),
                    (Ty::Int, &columns.int),
                    (Ty::Float, &columns.float),
                    (Ty::Bool, &columns.bool),
                ];
                let parts = typed
                    .into_iter()
                    .filter_map(|(ty, c)| c.as_ref().map(|c| (ty, Data::Array(c.clone()))))
                    .collect();
                let presence = [&columns.str, &columns.other]
                    .into_iter()
                    .flatten()
                    .collect();
                Side {
                    parts,
                    presence: Presence::Columns(presence),
                }
            }
        }
    }

    fn lit(lit: &Lit) -> Side<'static> {
        let part = |ty, array: ArrayRef| Side {
            parts: vec![(ty, Data::Scalar(array))],
            presence: Presence::Always,
        };
        match lit {
            Lit::Nil => Side {
                parts: Vec::new(),
                presence: Presence::Never,
            },
            Lit::Bool(b) => part(Ty::Bool, Arc::new(BooleanArray::from(vec![*b]))),
            Lit::Int(i) => part(Ty::Int, Arc::new(Int64Array::from(vec![*i]))),
            Lit::Float(f) => part(Ty::Float, Arc::new(Float64Array::from(vec![*f]))),
            Lit::Str(s) => part(Ty::Str, Arc::new(StringArray::from(vec![s.as_str()]))),
            Lit::Duration(d) => part(Ty::Duration, Arc::new(UInt64Array::from(vec![*d]))),
        }
    }

    /// Rows where the side is nil; `None` when it never is.
    fn absent(&self, n: usize) -> Option<BooleanArray> {
        match &self.presence {
            Presence::Always => None,
            Presence::Never => Some(constant(n, true)),
            Presence::Columns(columns) => {
                let mut present = constant(n, false);
                for column in columns {
                    let valid = match column.logical_nulls() {
                        Some(nulls) => BooleanArray::new(nulls.inner().clone(), None),
                        None => constant(n, true),
                    };
                    present = or(&present, &valid).unwrap_or(present);
                }
                not(&present).ok()
            }
        }
    }
}

fn compare(left: &Side<'_>, op: CmpOp, right: &Side<'_>, n: usize) -> BooleanArray {
    let mut acc = None;
    for (lt, ld) in &left.parts {
        for (rt, rd) in &right.parts {
            if let Some(result) = compare_part(*lt, ld, op, *rt, rd) {
                acc = Some(or_into(acc, result));
            }
        }
    }
    // nil == nil, nil <= nil and nil >= nil hold.
    if matches!(op, CmpOp::Eq | CmpOp::Ne | CmpOp::Le | CmpOp::Ge)
        && let (Some(l), Some(r)) = (left.absent(n), right.absent(n))
        && let Ok(both) = and(&l, &r)
    {
        acc = Some(or_into(acc, both));
    }
    let equal = acc.unwrap_or_else(|| constant(n, false));
    match op {
        CmpOp::Ne => not(&equal).unwrap_or_else(|_| constant(n, false)),
        _ => equal,
    }
}

fn compare_part(lt: Ty, ld: &Data, op: CmpOp, rt: Ty, rd: &Data) -> Option<BooleanArray> {
    match (lt, rt) {
        (Ty::Str, Ty::Str) | (Ty::Bool, Ty::Bool) | (Ty::Duration, Ty::Duration) => {
            ld.kernel(op, rd)
        }
        (Ty::Int | Ty::Float, Ty::Int | Ty::Float) => {
            let (l, r) = unify_numeric(ld, rd);
            l.kernel(op, &r)
        }
        _ => None,
    }
}

/// The leaf type of a column (the value type of a dictionary).
fn leaf_type(array: &ArrayRef) -> &DataType {
    match array.data_type() {
        DataType::Dictionary(_, value) => value,
        t => t,
    }
}

/// Both sides as the same numeric type: kept when equal; an int literal that fits becomes
/// an `Int32` against an `Int32` column (`kind`, `status.code`); else ints widen to `Int64`
/// and anything with a float to `Float64` (OTTL compares int with float as float64).
fn unify_numeric(l: &Data, r: &Data) -> (Data, Data) {
    let (lt, rt) = (leaf_type(l.array()), leaf_type(r.array()));
    if lt == rt {
        return (l.with(l.array().clone()), r.with(r.array().clone()));
    }
    let int32_literal = |column: &Data, lit: &Data| -> Option<Data> {
        let Data::Scalar(array) = lit else {
            return None;
        };
        let value = array.as_primitive_opt::<Int64Type>()?.value(0);
        let value = i32::try_from(value).ok()?;
        (leaf_type(column.array()) == &DataType::Int32)
            .then(|| Data::Scalar(Arc::new(Int32Array::from(vec![value]))))
    };
    if let Some(r32) = int32_literal(l, r) {
        return (l.with(l.array().clone()), r32);
    }
    if let Some(l32) = int32_literal(r, l) {
        return (l32, r.with(r.array().clone()));
    }
    let target = if lt.is_integer() && rt.is_integer() {
        DataType::Int64
    } else {
        DataType::Float64
    };
    (
        l.with(cast_numeric(l.array(), &target)),
        r.with(cast_numeric(r.array(), &target)),
    )
}

fn cast_numeric(array: &ArrayRef, target: &DataType) -> ArrayRef {
    if let Some(dict) = array.as_any_dictionary_opt() {
        return dict.with_values(cast_numeric(dict.values(), target));
    }
    match (array.data_type(), target) {
        (DataType::Int32, DataType::Int64) => Arc::new(
            array
                .as_primitive::<Int32Type>()
                .unary::<_, Int64Type>(i64::from),
        ),
        (DataType::Int32, DataType::Float64) => Arc::new(
            array
                .as_primitive::<Int32Type>()
                .unary::<_, Float64Type>(f64::from),
        ),
        (DataType::Int64, DataType::Float64) => Arc::new(
            array
                .as_primitive::<Int64Type>()
                .unary::<_, Float64Type>(|v| v as f64),
        ),
        _ => array.clone(),
    }
}

fn is_match(facts: &SpanFacts, path: &Path, regex: &SearchRegex) -> BooleanArray {
    let n = facts.len();
    let columns: Vec<&ArrayRef> = match path {
        Path::Name => facts.name_column().into_iter().collect(),
        Path::Kind => facts.kind_column().into_iter().collect(),
        Path::StatusCode => facts.status_column().into_iter().collect(),
        Path::Duration | Path::Log(_) => Vec::new(),
        Path::Attr(attr) => match facts.attr_columns(attr) {
            Some(c) => [&c.str, &c.other].into_iter().flatten().collect(),
            None => Vec::new(),
        },
    };
    let mut acc = None;
    for column in columns {
        acc = Some(or_into(acc, match_column(column, regex)));
    }
    acc.unwrap_or_else(|| constant(n, false))
}

/// `regex` over a string or int column (a dictionary: once per value); nulls are false.
fn match_column(column: &ArrayRef, regex: &SearchRegex) -> BooleanArray {
    if let Some(dict) = column.as_dictionary_opt::<Int32Type>() {
        let values = match_column(dict.values(), regex);
        let keys = dict.keys();
        let bits = BooleanBuffer::collect_bool(keys.len(), |i| {
            keys.is_valid(i) && values.value(keys.value(i) as usize)
        });
        return BooleanArray::new(bits, None);
    }
    let mut searcher = regex.searcher();
    if let Some(strings) = column.as_string_opt::<i32>() {
        let bits = BooleanBuffer::collect_bool(strings.len(), |i| {
            strings.is_valid(i) && searcher.is_match(strings.value(i))
        });
        return BooleanArray::new(bits, None);
    }
    if let Some(ints) = column.as_primitive_opt::<Int32Type>() {
        let mut text = String::new();
        let bits = BooleanBuffer::collect_bool(ints.len(), |i| {
            text.clear();
            use std::fmt::Write as _;
            let _ = write!(text, "{}", ints.value(i));
            ints.is_valid(i) && searcher.is_match(&text)
        });
        return BooleanArray::new(bits, None);
    }
    constant(column.len(), false)
}
