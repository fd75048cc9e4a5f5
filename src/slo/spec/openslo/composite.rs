//! OpenSLO composite SLOs, read as journeys: an `SLO` without a top-level `indicator` or
//! `indicatorRef` whose `objectives` each name a member in `indicatorRef`, weighted by
//! `compositeWeight` (default 1):
//!
//! ```yaml
//! spec:
//!   service: shop
//!   budgetingMethod: Occurrences
//!   timeWindow: [{duration: 30d, isRolling: true}]
//!   objectives:
//!     - indicatorRef: login/availability
//!       target: 0.995
//!     - indicatorRef: payment/availability
//!       target: 0.995
//!       compositeWeight: 2
//! ```
//!
//! slotel's reading: `indicatorRef` names an SLO of the loaded set (`service/name`, or a
//! name of the composite's own service) whose indicator is the member's; the composite's
//! events are its members' events, weighted. So every objective gives the same `target`
//! (the journey's one objective), weights are whole numbers (only their ratios matter:
//! 0.5 and 1 are written 1 and 2), and the composite budgets occurrences. An inline
//! `indicator` in an objective is refused: define it as its own SLO and name it.

use crate::slo::spec::journey::{self, Journey, MAX_MEMBERS, MAX_WEIGHT};
use crate::slo::spec::values;
use crate::yaml::Node;
use crate::yaml::read::{Ctx, Fields};

/// The keys that make an objective a composite's.
pub(super) const KEYS: [&str; 3] = ["indicatorRef", "indicator", "compositeWeight"];

/// Whether `objectives` (a list) reads as a composite's.
pub(super) fn is_composite(objectives: &Node) -> bool {
    match &objectives.value {
        crate::yaml::Value::Seq(items) => items.iter().any(|i| journey::has_any(i, &KEYS)),
        _ => false,
    }
}

/// The composite's target and journey from `objectives`; `service` is `spec.service`.
pub(super) fn read(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    service: Option<&str>,
    timeslices: bool,
) -> Option<(f64, Journey)> {
    let errors_before = ctx.errors.len();
    let items = ctx.seq(node, path)?;
    if timeslices {
        let msg = "a composite weighs its members' events: use `budgetingMethod: Occurrences`";
        ctx.error(node, path, msg);
    }
    if items.len() > MAX_MEMBERS {
        let msg = format!("a composite has at most {MAX_MEMBERS} objectives");
        ctx.error(node, path, msg);
        return None;
    }
    let mut members = Vec::new();
    let mut first_target: Option<f64> = None;
    for (i, item) in items.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let mut f = Fields::new(ctx, item, &path);
        f.get("displayName");
        if let Some(at) = f.get("indicator") {
            let msg = "an inline `indicator` in a composite is not supported: define it as its \
                       own slo and name it in `indicatorRef`";
            ctx.error(at, &f.path("indicator"), msg);
        }
        let at = f.get("indicatorRef").unwrap_or(item);
        let reference = if f.get("indicator").is_none() {
            f.required(ctx, "indicatorRef", |c, n, p| {
                journey::reference(c, n, p, service)
            })
        } else {
            None
        };
        let weight = f.opt(ctx, "compositeWeight", |ctx, node, path| {
            let w = values::number(ctx, node, path)?;
            if w.fract() == 0.0 && (1.0..=MAX_WEIGHT as f64).contains(&w) {
                Some(w as u64)
            } else {
                let msg = format!(
                    "`compositeWeight` {w} is not supported: slotel weighs whole events, so \
                     weights are whole numbers from 1 to {MAX_WEIGHT} (only their ratios \
                     matter: write 0.5 and 1 as 1 and 2)"
                );
                ctx.error(node, path, msg);
                None
            }
        });
        let weight_given = f.get("compositeWeight").is_some();
        let target = f.opt(ctx, "target", |c, n, p| values::ratio(c, n, p, false));
        let percent = f.opt(ctx, "targetPercent", |c, n, p| {
            values::percent(c, n, p, false)
        });
        if f.get("target").is_some() == f.get("targetPercent").is_some() && f.valid {
            let msg = "give one of `target` (a ratio such as 0.999) or `targetPercent`";
            ctx.error(f.node, &f.path, msg);
        }
        for key in ["op", "value", "timeSliceTarget", "timeSliceWindow"] {
            if let Some(at) = f.get(key) {
                let msg = format!("`{key}` does not apply to a composite's objective");
                ctx.error(at, &f.path(key), msg);
            }
        }
        let target_node = f.get("target").or(f.get("targetPercent"));
        let target_key = if f.get("target").is_some() {
            "target"
        } else {
            "targetPercent"
        };
        let target_path = f.path(target_key);
        f.finish(ctx);
        if let (Some(t), Some(node)) = (target.or(percent), target_node) {
            match first_target {
                None => first_target = Some(t),
                Some(first) if (first - t).abs() > 1e-12 => {
                    let msg = format!(
                        "every objective of a composite gives the same target (a journey has \
                         one objective): found {}%, the first objective has {}%",
                        t * 100.0,
                        first * 100.0
                    );
                    ctx.error(node, &target_path, msg);
                }
                Some(_) => {}
            }
        }
        if let (Some(reference), Some(weight)) =
            (reference, weight.or((!weight_given).then_some(1)))
        {
            let member_path = format!("{path}.indicatorRef");
            members.push(journey::member(ctx, at, member_path, reference, weight));
        }
    }
    if ctx.errors.len() > errors_before {
        return None;
    }
    Some((
        first_target?,
        Journey {
            members,
            trace: None,
            leaves: Vec::new(),
        },
    ))
}
