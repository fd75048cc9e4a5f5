//! Lean span facts: the comparisons the SLOs' conditions make against literals, answered
//! as each span is read, instead of the columns they compare.
//!
//! When every span condition of an SLO set is made of comparisons of `name`, `kind`,
//! `status.code`, `duration` or an attribute with a literal (joined by `and`, `or`, `not`),
//! and nothing else reads the facts' columns (no `group_by`, no capture), the facts of a
//! request read on the wire need none of the columns those comparisons read: the walk
//! answers each comparison for each span as it reads it (one bit of a `u64` a span: at
//! most [`MOST`] comparisons), and the facts hold each comparison's rows instead, where the
//! evaluator finds them before it looks for a column (`eval.rs`, its comparisons already
//! made). The names are not copied, no typed column is built, and the conditions take no
//! pass over columns. The facts keep what the engine reads besides: the end times, the
//! durations, the clusters and services, the trace ids and adjusted counts.
//!
//! The answers are those of the column kernels (`kernels.rs`) on the full facts: a value
//! compares with a literal of its own type (ints and floats as numbers, by a total order;
//! strings bytewise; `false < true`); a value of another type or none meets no operator
//! but `!=`.
//!
//! A [`LeanPlan`] (the comparisons, made once per SLO set with the [`FactsSchema`]) takes
//! part in the schema's comparisons: facts made for one set's comparisons are never read
//! for another's. Facts of a lean schema may also be full (a decoded request): the
//! evaluator reads those as always.
//!
//! [`FactsSchema`]: super::FactsSchema

use std::cmp::Ordering;

use arrow_buffer::{BooleanBuffer, Buffer};

use super::kernels::{Rows, decided};
use crate::slo::ottl::ast::{CmpOp, Expr, Lit, Operand, Path};
use crate::slo::ottl::{AttrRef, Condition, Val};
use crate::slo::spec::{Sli, SloSet};

/// Most comparisons a lean plan holds (one bit each in a span's word).
pub const MOST: usize = 64;

/// The comparisons with a literal that an SLO set's span conditions make, each once.
#[derive(Debug, Clone)]
pub(crate) struct LeanPlan {
    compared: Vec<(Path, CmpOp, Lit)>,
}

/// The same comparisons in the same order (float literals by their bits: a plan equals
/// itself).
impl PartialEq for LeanPlan {
    fn eq(&self, other: &Self) -> bool {
        self.compared.len() == other.compared.len()
            && self
                .compared
                .iter()
                .zip(&other.compared)
                .all(|((p, o, l), (q, r, m))| o == r && p == q && same_literal(l, m))
    }
}

impl Eq for LeanPlan {}

impl LeanPlan {
    /// The plan of `set`: `None` when some span SLO groups by attributes or some span
    /// condition holds anything but comparisons this module answers, or more than [`MOST`].
    pub(crate) fn of(set: &SloSet) -> Option<LeanPlan> {
        let mut plan = LeanPlan {
            compared: Vec::new(),
        };
        for slo in &set.slos {
            let Sli::Spans(sli) = &slo.sli else { continue };
            if !slo.group_by.is_empty() {
                return None;
            }
            plan.add(&sli.filter)?;
            if let Some(bad) = &sli.bad {
                plan.add(bad)?;
            }
        }
        Some(plan)
    }

    /// The plan of `conditions` alone (the comparisons of each), as [`LeanPlan::of`].
    #[cfg(test)]
    pub(crate) fn of_conditions<'a>(
        conditions: impl IntoIterator<Item = &'a Condition>,
    ) -> Option<LeanPlan> {
        let mut plan = LeanPlan {
            compared: Vec::new(),
        };
        for c in conditions {
            plan.add(c)?;
        }
        Some(plan)
    }

    fn add(&mut self, condition: &Condition) -> Option<()> {
        self.add_expr(condition.expr())
    }

    fn add_expr(&mut self, expr: &Expr) -> Option<()> {
        match expr {
            Expr::Const(_) => Some(()),
            Expr::Not(e) => self.add_expr(e),
            Expr::And(a, b) | Expr::Or(a, b) => {
                self.add_expr(a)?;
                self.add_expr(b)
            }
            Expr::Cmp {
                left,
                op,
                right: Operand::Lit(lit),
            } => {
                // (Only whether it is a comparison answered here: any slot will do.)
                Test::of(left, lit, |_| Some(0))?;
                let known = self
                    .compared
                    .iter()
                    .any(|(p, o, l)| o == op && p == left && same_literal(l, lit));
                if !known {
                    if self.compared.len() == MOST {
                        return None;
                    }
                    self.compared.push((left.clone(), *op, lit.clone()));
                }
                Some(())
            }
            Expr::Cmp { .. } | Expr::IsMatch { .. } => None,
        }
    }

    /// The comparisons, in the order of their bits.
    pub(super) fn compared(&self) -> &[(Path, CmpOp, Lit)] {
        &self.compared
    }
}

/// The same literal: floats by their bits (as the evaluator's comparisons already made
/// tell them apart).
fn same_literal(a: &Lit, b: &Lit) -> bool {
    match (a, b) {
        (Lit::Float(a), Lit::Float(b)) => a.to_bits() == b.to_bits(),
        (a, b) => a == b,
    }
}

/// A literal as the attribute values that can meet it.
#[derive(Debug, Clone)]
enum Want {
    Int(i64),
    Float(f64),
    Str(Box<[u8]>),
    Bool(bool),
}

impl Want {
    fn of(lit: &Lit) -> Option<Want> {
        Some(match lit {
            Lit::Int(v) => Want::Int(*v),
            Lit::Float(f) => Want::Float(*f),
            Lit::Str(s) => Want::Str(s.as_bytes().into()),
            Lit::Bool(b) => Want::Bool(*b),
            Lit::Nil | Lit::Duration(_) => return None,
        })
    }

    /// How `value` orders against the literal; `None` when it is of no type that meets it.
    #[inline]
    fn order(&self, value: Val<'_>) -> Option<Ordering> {
        match (value, self) {
            (Val::Int(i), Want::Int(x)) => Some(i.cmp(x)),
            (Val::Float(f), Want::Int(x)) => Some(f.total_cmp(&(*x as f64))),
            (Val::Int(i), Want::Float(x)) => Some((i as f64).total_cmp(x)),
            (Val::Float(f), Want::Float(x)) => Some(f.total_cmp(x)),
            (Val::Str(s), Want::Str(x)) => Some(s.as_bytes().cmp(&x[..])),
            (Val::Bool(b), Want::Bool(x)) => Some(b.cmp(x)),
            _ => None,
        }
    }
}

/// What one comparison reads of a span, and the literal.
#[derive(Debug, Clone)]
enum Test {
    Name(Box<[u8]>),
    Kind(i64),
    Status(i64),
    Duration(u64),
    /// The span's attribute of this slot of the item keys.
    Item(usize, Want),
    /// The resource's attribute of this slot of the resource keys.
    Resource(usize, Want),
}

impl Test {
    /// The test of `path` against `lit`, its attribute at `slot(attr)` among the values
    /// the walk gives; `None` for comparisons this module does not answer.
    fn of(path: &Path, lit: &Lit, slot: impl Fn(&AttrRef) -> Option<usize>) -> Option<Test> {
        Some(match (path, lit) {
            (Path::Name, Lit::Str(s)) => Test::Name(s.as_bytes().into()),
            (Path::Kind, Lit::Int(v)) => Test::Kind(*v),
            (Path::StatusCode, Lit::Int(v)) => Test::Status(*v),
            (Path::Duration, Lit::Duration(d)) => Test::Duration(*d),
            (Path::Attr(attr @ AttrRef::Item(_)), lit) => Test::Item(slot(attr)?, Want::of(lit)?),
            (Path::Attr(attr @ AttrRef::Resource(_)), lit) => {
                Test::Resource(slot(attr)?, Want::of(lit)?)
            }
            _ => return None,
        })
    }

    /// The answer when every value the path can take gives it (no look at the span).
    fn decided(&self, op: CmpOp) -> Option<bool> {
        let test = if op == CmpOp::Ne { CmpOp::Eq } else { op };
        let (lo, hi) = (i64::from(i32::MIN), i64::from(i32::MAX));
        let answer = match self {
            Test::Kind(v) | Test::Status(v) => decided(test, v.cmp(&lo), v.cmp(&hi)),
            Test::Duration(d) => decided(test, d.cmp(&0), d.cmp(&u64::MAX)),
            // No name is below `""` (and names have no top).
            Test::Name(s) => decided(test, s[..].cmp(&[][..]), Ordering::Less),
            Test::Item(..) | Test::Resource(..) => None,
        }?;
        Some(if op == CmpOp::Ne { !answer } else { answer })
    }
}

/// Whether `op` holds of a value that orders as `order` against the literal (`None`: a
/// value of no type that meets it, which only `!=` holds of).
#[inline]
fn holds(op: CmpOp, order: Option<Ordering>) -> bool {
    match op {
        CmpOp::Eq => order == Some(Ordering::Equal),
        CmpOp::Ne => order != Some(Ordering::Equal),
        CmpOp::Lt => order == Some(Ordering::Less),
        CmpOp::Le => matches!(order, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => order == Some(Ordering::Greater),
        CmpOp::Ge => matches!(order, Some(Ordering::Greater | Ordering::Equal)),
    }
}

/// A [`LeanPlan`] with its attributes found among the keys of a columns' plan: what a
/// span's and a resource's bits are made of.
#[derive(Debug, Clone)]
pub(super) struct Program {
    /// Bits set for every span (comparisons decided by the path's type).
    always: u64,
    /// Comparisons of `kind` and `status.code` as ranges of their values.
    ranges: Vec<Range>,
    /// The bits of those ranges for a kind (and, apart, a status code) below [`SMALL`]:
    /// the kinds and status codes OTLP defines, answered by two look-ups.
    by_kind: [u64; SMALL],
    by_status: [u64; SMALL],
    /// Comparisons of `duration` as ranges of its values.
    durations: Vec<Range>,
    /// Comparisons of the name with `""`: set where the name is empty (or, negated, not).
    empty_names: Vec<(u32, bool)>,
    /// Other comparisons read of the span: its bit, the operator, the test.
    span: Vec<(u32, CmpOp, Test)>,
    /// Comparisons read of the resource.
    resource: Vec<(u32, CmpOp, Test)>,
}

/// Kinds and status codes below this have their ranges' bits in a table.
const SMALL: usize = 8;

/// A comparison of an integer field as the range of values it holds on (or, negated, off
/// it): `value - lo <= width` in wrapping arithmetic, one test with no branch.
#[derive(Debug, Clone, Copy)]
struct Range {
    bit: u32,
    field: Field,
    lo: u64,
    width: u64,
    negated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    Kind,
    Status,
    Duration,
}

impl Range {
    /// The range `op lit` holds on over values of `i64` (kind and status, widened) or of
    /// `u64` (duration), as `u64` after the shift that makes the domain's least value 0;
    /// `None` when it is empty (the comparison is then decided).
    fn of(bit: u32, field: Field, op: CmpOp, lit: i128) -> Option<Range> {
        let (min, max) = match field {
            Field::Kind | Field::Status => (i128::from(i64::MIN), i128::from(i64::MAX)),
            Field::Duration => (0, i128::from(u64::MAX)),
        };
        let (lo, hi, negated) = match op {
            CmpOp::Eq => (lit, lit, false),
            CmpOp::Ne => (lit, lit, true),
            CmpOp::Lt => (min, lit - 1, false),
            CmpOp::Le => (min, lit, false),
            CmpOp::Gt => (lit + 1, max, false),
            CmpOp::Ge => (lit, max, false),
        };
        let (lo, hi) = (lo.max(min), hi.min(max));
        if lo > hi {
            return None;
        }
        // As the `u64` the value is read as (`i64` values offset by 2^63).
        let shift = |v: i128| u64::try_from(v - min).ok();
        Some(Range {
            bit,
            field,
            lo: shift(lo)?,
            width: u64::try_from(hi - lo).ok()?,
            negated,
        })
    }
}

impl Range {
    /// The range's bit for a value read as [`Range`] reads it.
    #[inline(always)]
    fn bits(&self, value: u64) -> u64 {
        let inside = value.wrapping_sub(self.lo) <= self.width;
        u64::from(inside ^ self.negated) << self.bit
    }
}

/// `kind` or `status.code` as [`Range`] reads it: widened to `i64`, then offset by 2^63.
#[inline(always)]
fn of(v: i32) -> u64 {
    (i64::from(v) as u64) ^ (1 << 63)
}

/// The fields of a span the comparisons read.
pub(super) struct SpanFields<'a> {
    pub(super) name: &'a [u8],
    pub(super) kind: i32,
    pub(super) status: i32,
    pub(super) duration: u64,
}

impl Program {
    /// `plan` over the attributes `items` and `resources` (in the order of the values
    /// the walk gives): `None` when one is missing (it never is for the schema's own plan).
    pub(super) fn new(
        plan: &LeanPlan,
        items: &[&AttrRef],
        resources: &[&AttrRef],
    ) -> Option<Program> {
        let mut program = Program {
            always: 0,
            ranges: Vec::new(),
            by_kind: [0; SMALL],
            by_status: [0; SMALL],
            durations: Vec::new(),
            empty_names: Vec::new(),
            span: Vec::new(),
            resource: Vec::new(),
        };
        let slot = |attr: &AttrRef| match attr {
            AttrRef::Item(_) => items.iter().position(|k| *k == attr),
            AttrRef::Resource(_) => resources.iter().position(|k| *k == attr),
            AttrRef::Body(_) => None,
        };
        for (bit, (path, op, lit)) in plan.compared.iter().enumerate() {
            let bit = u32::try_from(bit).ok().filter(|b| *b < 64)?;
            let test = Test::of(path, lit, slot)?;
            let range = |field, lit| Range::of(bit, field, *op, lit);
            if let Some(answer) = test.decided(*op) {
                program.always |= u64::from(answer) << bit;
            } else if matches!(test, Test::Resource(..)) {
                program.resource.push((bit, *op, test));
            } else if let Some(r) = match test {
                Test::Kind(v) => range(Field::Kind, i128::from(v)),
                Test::Status(v) => range(Field::Status, i128::from(v)),
                Test::Duration(d) => range(Field::Duration, i128::from(d)),
                _ => None,
            } {
                if r.field == Field::Duration {
                    program.durations.push(r);
                } else {
                    program.ranges.push(r);
                }
            } else if let (Test::Name(s), CmpOp::Eq | CmpOp::Le) = (&test, op)
                && s.is_empty()
            {
                // (No name is below `""`: at most `""` is `""`.)
                program.empty_names.push((bit, false));
            } else if let (Test::Name(s), CmpOp::Ne | CmpOp::Gt) = (&test, op)
                && s.is_empty()
            {
                program.empty_names.push((bit, true));
            } else {
                program.span.push((bit, *op, test));
            }
        }
        for v in 0..SMALL {
            let value = of(v as i32);
            for r in &program.ranges {
                let table = match r.field {
                    Field::Kind => &mut program.by_kind,
                    Field::Status => &mut program.by_status,
                    Field::Duration => continue,
                };
                table[v] |= r.bits(value);
            }
        }
        Some(program)
    }

    /// The bits of a resource whose attributes are `value(slot)`.
    pub(super) fn resource_bits<'v>(&self, value: impl Fn(usize) -> Val<'v>) -> u64 {
        let mut bits = 0;
        for (bit, op, test) in &self.resource {
            if let Test::Resource(slot, want) = test {
                bits |= u64::from(holds(*op, want.order(value(*slot)))) << bit;
            }
        }
        bits
    }

    /// The bits of a span with `fields` and attributes `value(slot)`, of a resource of
    /// `resource` bits.
    #[inline(always)]
    pub(super) fn span_bits<'v>(
        &self,
        fields: &SpanFields<'_>,
        resource: u64,
        value: impl Fn(usize) -> Val<'v>,
    ) -> u64 {
        let mut bits = self.always | resource;
        // (Negative values are above `SMALL` as `u32`.)
        let (k, s) = (fields.kind as u32 as usize, fields.status as u32 as usize);
        if k < SMALL && s < SMALL {
            bits |= self.by_kind[k] | self.by_status[s];
        } else {
            let (kind, status) = (of(fields.kind), of(fields.status));
            for r in &self.ranges {
                bits |= r.bits(if r.field == Field::Kind { kind } else { status });
            }
        }
        for r in &self.durations {
            bits |= r.bits(fields.duration);
        }
        let empty = fields.name.is_empty();
        for (bit, negated) in &self.empty_names {
            bits |= u64::from(empty ^ negated) << bit;
        }
        for (bit, op, test) in &self.span {
            let order = match test {
                Test::Name(s) => Some(fields.name.cmp(&s[..])),
                Test::Kind(v) => Some(i64::from(fields.kind).cmp(v)),
                Test::Status(v) => Some(i64::from(fields.status).cmp(v)),
                Test::Duration(d) => Some(fields.duration.cmp(d)),
                Test::Item(slot, want) => want.order(value(*slot)),
                Test::Resource(..) => None,
            };
            bits |= u64::from(holds(*op, order)) << bit;
        }
        bits
    }
}

/// Each comparison's rows of the spans' `bits` (one word a span, bit `i` the comparison
/// `i`): what the facts keep for the evaluator.
pub(super) fn rows_of(plan: &LeanPlan, bits: &[u64]) -> Vec<Rows> {
    columns_of(plan.compared.len(), bits)
        .into_iter()
        .map(Rows::of)
        .collect()
}

/// The first `n` (at most [`MOST`]) bits of the spans' words as `n` columns, bit `i` of
/// span `s` at row `s` of column `i`. Eight spans at a time: byte `k` of their eight words
/// (comparisons `8k` to `8k + 7`) gathered into one word, span `j` in byte `j`, and that
/// 8×8 matrix of bits transposed ([`transpose8`]), which leaves each comparison's eight
/// rows in one byte, stored as the column's byte: a few operations for eight spans and
/// eight comparisons, where taking each bit of each span apart is a few for each.
pub(super) fn columns_of(n: usize, bits: &[u64]) -> Vec<BooleanBuffer> {
    let n = n.min(MOST);
    // Whole words of bytes (the padding unset).
    let len = bits.len().div_ceil(64) * 8;
    let mut columns: Vec<Vec<u8>> = (0..n).map(|_| vec![0u8; len]).collect();
    let (eights, tail) = bits.as_chunks::<8>();
    let last = (!tail.is_empty()).then(|| {
        let mut words = [0u64; 8];
        words[..tail.len()].copy_from_slice(tail);
        words
    });
    for (g, eight) in eights.iter().chain(last.as_ref()).enumerate() {
        for (k, columns) in columns.chunks_mut(8).enumerate() {
            let matrix = eight
                .iter()
                .enumerate()
                .fold(0u64, |m, (j, w)| m | ((w >> (8 * k)) & 0xff) << (8 * j));
            let by_comparison = transpose8(matrix);
            for (i, column) in columns.iter_mut().enumerate() {
                if let Some(byte) = column.get_mut(g) {
                    *byte = (by_comparison >> (8 * i)) as u8;
                }
            }
        }
    }
    columns
        .into_iter()
        .map(|bytes| BooleanBuffer::new(Buffer::from_vec(bytes), 0, bits.len()))
        .collect()
}

/// The transpose of an 8×8 matrix of bits, row `r` in byte `r` and column `c` in bit `c`
/// of each byte: bit `8r + c` goes to bit `8c + r` (three exchanges of blocks, as in
/// *Hacker's Delight*, 7–3).
#[inline(always)]
fn transpose8(mut x: u64) -> u64 {
    let t = (x ^ (x >> 7)) & 0x00aa_00aa_00aa_00aa;
    x ^= t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_cccc_0000_cccc;
    x ^= t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_f0f0_f0f0;
    x ^ t ^ (t << 28)
}
