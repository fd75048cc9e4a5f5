//! Journey SLOs: an SLO whose events are the weighted events of other SLOs (its members),
//! such as a "checkout" journey made of login, cart and pay.
//!
//! Native format (`journey:` in place of `sli:`):
//!
//! ```yaml
//! - name: checkout
//!   objective: 99.5
//!   window: 30d
//!   journey:
//!     members:
//!       - slo: login/availability      # service/name; a bare name is this file's service
//!       - slo: cart/availability
//!       - slo: payment/availability
//!         weight: 2
//! ```
//!
//! OpenSLO composites (objectives with `indicatorRef` and `compositeWeight`) are read into
//! the same type (see `openslo/composite.rs`).
//!
//! `mode: trace` makes it trace-aware: one event per trace, bad when any member span is
//! bad, with the bounds of its open traces (see `trace_mode.rs`).
//!
//! A member is any SLO of the loaded set (span or metric SLI, any service) or another
//! journey. Resolution checks the set as a whole ([`resolve`]): unknown members, a journey
//! listing itself or a cycle of journeys, a member listed twice, a member whose window
//! differs from the journey's, and timeslice members are refused at the member's place.
//! A resolved journey carries its [`Leaf`]s: the non-journey SLOs it weighs, nested
//! journeys multiplied out, which is all the engine and the rules need.

use std::collections::HashMap;

use crate::slo::spec::values;
use crate::slo::spec::{Budgeting, Sli, Slo, SloWindow, SourceRef};
use crate::yaml::read::{Ctx, Fields};
use crate::yaml::{ConfigError, Node, Value};

use super::Parsed;
use super::trace_mode::{self, TraceMode};

/// The largest weight of one member.
pub const MAX_WEIGHT: u64 = 1_000_000;

/// The largest weight of a leaf once nested journeys are multiplied out.
pub const MAX_LEAF_WEIGHT: u64 = 1_000_000_000;

/// The most members of one journey.
pub const MAX_MEMBERS: usize = 100;

/// A journey: its members as written and, once the set is resolved, its leaves.
#[derive(Debug, Clone)]
pub struct Journey {
    pub members: Vec<Member>,
    /// `mode: trace`: one event per trace, bad when any member span is bad, with the
    /// bounds of its open traces ([`super::trace_mode`]); `None`: the weighted mode (the
    /// members' events, weighted, computed when read).
    pub trace: Option<TraceMode>,
    /// The SLOs whose events the journey counts, with their total weight (nested journeys
    /// multiplied out, a leaf reached twice counted with both weights), sorted by service
    /// and name. Empty until [`resolve`] ran.
    pub leaves: Vec<Leaf>,
}

impl PartialEq for Journey {
    /// Same members with the same weights, in the same order (places in the file aside),
    /// and the same leaves: a nested journey's change changes the journeys around it.
    fn eq(&self, other: &Self) -> bool {
        self.leaves == other.leaves
            && self.trace == other.trace
            && self.members.len() == other.members.len()
            && self
                .members
                .iter()
                .zip(&other.members)
                .all(|(a, b)| (&a.service, &a.name, a.weight) == (&b.service, &b.name, b.weight))
    }
}

/// One member as written: an SLO (or journey) by service and name, and its weight.
#[derive(Debug, Clone)]
pub struct Member {
    pub service: String,
    pub name: String,
    /// A whole number ≥ 1: each of the member's events counts this many times.
    pub weight: u64,
    /// Where the reference is written, and its field path, for errors.
    pub at: SourceRef,
    pub path: String,
}

/// A non-journey SLO a journey weighs.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    pub service: String,
    pub name: String,
    pub weight: u64,
    /// The leaf SLO's group label names: its per-cluster roll-ups are the series without
    /// them.
    pub group_labels: Vec<String>,
}

impl Journey {
    /// The journey of `slo`, if it is one.
    pub fn of(slo: &Slo) -> Option<&Journey> {
        match &slo.sli {
            Sli::Journey(j) => Some(j),
            _ => None,
        }
    }

    /// The journey of `slo` if it is a weighted one: numbers computed from its members'
    /// when read, no events of its own. A trace-aware journey has its own events and is,
    /// to the engine, the rules and other journeys, an SLO like a span SLO.
    pub fn weighted(slo: &Slo) -> Option<&Journey> {
        Journey::of(slo).filter(|j| j.trace.is_none())
    }
}

/// `service/name` or `name` (of `service`).
pub(super) fn reference(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    service: Option<&str>,
) -> Option<(String, String)> {
    let text = values::text(ctx, node, path)?;
    let (svc, name) = match text.trim().split_once('/') {
        Some((svc, name)) => (svc.to_string(), name.to_string()),
        None => (service?.to_string(), text.trim().to_string()),
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 128
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if valid(&svc) && valid(&name) {
        Some((svc, name))
    } else {
        let msg = format!(
            "invalid slo reference {text:?}, expected `service/name` (or `name` for an slo of \
             this service)"
        );
        ctx.error(node, path, msg);
        None
    }
}

/// A member at `node`.
pub(super) fn member(
    ctx: &mut Ctx<'_>,
    at: &Node,
    path: String,
    reference: (String, String),
    weight: u64,
) -> Member {
    Member {
        service: reference.0,
        name: reference.1,
        weight,
        at: SourceRef {
            file: ctx.file.to_string(),
            line: at.line,
            column: at.column,
        },
        path,
    }
}

/// The native `journey: {members: [{slo, weight}]}`; `service` is the file's.
pub(super) fn native(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    service: Option<&str>,
) -> Option<Journey> {
    let mut f = Fields::new(ctx, node, path);
    let trace = trace_mode::read(ctx, &mut f);
    let items = f.required(ctx, "members", |ctx, node, path| {
        let items = ctx.seq(node, path)?;
        if items.is_empty() {
            ctx.error(node, path, "must list at least one member slo");
        }
        if items.len() > MAX_MEMBERS {
            let msg = format!("a journey has at most {MAX_MEMBERS} members");
            ctx.error(node, path, msg);
            return None;
        }
        Some(items)
    });
    f.finish(ctx);
    let mut members = Vec::new();
    let mut ok = true;
    for (i, item) in items.into_iter().flatten().enumerate() {
        let path = format!("{path}.members[{i}]");
        let mut m = Fields::new(ctx, item, &path);
        let at = m.get("slo").unwrap_or(item);
        let target = m.required(ctx, "slo", |c, n, p| reference(c, n, p, service));
        let weight = m.opt(ctx, "weight", |c, n, p| {
            values::whole(c, n, p, 1, MAX_WEIGHT)
        });
        let weight_given = m.get("weight").is_some();
        m.finish(ctx);
        match (target, weight.or((!weight_given).then_some(1))) {
            (Some(target), Some(weight)) => {
                members.push(member(ctx, at, format!("{path}.slo"), target, weight))
            }
            _ => ok = false,
        }
    }
    let trace = trace.ok()?;
    (ok && !members.is_empty()).then_some(Journey {
        members,
        trace,
        leaves: Vec::new(),
    })
}

fn located(at: &SourceRef, path: &str, message: String) -> ConfigError {
    ConfigError {
        file: at.file.clone(),
        path: path.to_string(),
        line: at.line,
        column: at.column,
        message,
    }
}

fn key(slo: &Slo) -> (&str, &str) {
    (slo.service.as_str(), slo.name.as_str())
}

fn window_text(w: &SloWindow) -> String {
    match w {
        SloWindow::Rolling(d) => super::window_label(d.as_secs()),
        SloWindow::Calendar { unit, time_zone } => format!(
            "calendar {} ({time_zone})",
            match unit {
                super::CalendarUnit::Week => "week",
                super::CalendarUnit::Month => "month",
            }
        ),
    }
}

/// Checks every journey of the set against the set and fills in its leaves; problems go to
/// `errors`, each at the member it concerns.
pub(super) fn resolve(parsed: &mut [Parsed], errors: &mut Vec<ConfigError>) {
    let index: HashMap<(String, String), usize> = parsed
        .iter()
        .enumerate()
        .map(|(i, p)| ((p.slo.service.clone(), p.slo.name.clone()), i))
        .collect();
    let mut failed = vec![false; parsed.len()];
    for (j, p) in parsed.iter().enumerate() {
        let Some(journey) = Journey::of(&p.slo) else {
            continue;
        };
        let slo = &p.slo;
        for (k, m) in journey.members.iter().enumerate() {
            let mut fail = |msg: String| {
                errors.push(located(&m.at, &m.path, msg));
                failed[j] = true;
            };
            let reference = format!("{}/{}", m.service, m.name);
            if (m.service.as_str(), m.name.as_str()) == key(slo) {
                fail(format!("journey `{reference}` lists itself as a member"));
                continue;
            }
            if journey.members[..k]
                .iter()
                .any(|o| (&o.service, &o.name) == (&m.service, &m.name))
            {
                fail(format!(
                    "`{reference}` is listed twice: list it once, with the sum of the weights"
                ));
                continue;
            }
            let Some(&mi) = index.get(&(m.service.clone(), m.name.clone())) else {
                let names: Vec<String> = parsed
                    .iter()
                    .filter(|o| o.slo.service == m.service)
                    .map(|o| format!("`{}`", o.slo.name))
                    .take(10)
                    .collect();
                let known = if names.is_empty() {
                    format!("no slo of service `{}` is loaded", m.service)
                } else {
                    format!("service `{}` has {}", m.service, names.join(", "))
                };
                fail(format!("unknown member slo `{reference}`: {known}"));
                continue;
            };
            let member = &parsed[mi].slo;
            if member.window != slo.window {
                fail(format!(
                    "member `{reference}` has window {}, the journey {}: a journey and its \
                     members share one window",
                    window_text(&member.window),
                    window_text(&slo.window)
                ));
            }
            if journey.trace.is_some()
                && let Some(msg) = trace_mode::check_member(&reference, &member.sli, m.weight)
            {
                fail(msg);
            }
            if matches!(member.budgeting, Budgeting::Timeslices { .. }) {
                fail(format!(
                    "member `{reference}` budgets time slices: a journey weighs events, so its \
                     members use occurrences budgeting"
                ));
            }
        }
    }
    // Cycles through nested journeys, each reported once at the member that closes it.
    let mut state = vec![0u8; parsed.len()]; // 0 new, 1 on the path, 2 done
    for start in 0..parsed.len() {
        let mut path: Vec<usize> = Vec::new();
        visit(
            parsed,
            &index,
            start,
            &mut state,
            &mut path,
            errors,
            &mut failed,
        );
    }
    // Leaves of the journeys that passed, in an order where nested journeys come first.
    for j in 0..parsed.len() {
        if Journey::of(&parsed[j].slo).is_none() || failed[j] {
            continue;
        }
        let mut leaves: HashMap<(String, String), Leaf> = HashMap::new();
        let mut too_heavy = false;
        collect(parsed, &index, j, 1, 0, &mut leaves, &mut too_heavy);
        let at = parsed[j].slo.source.clone();
        if too_heavy {
            let msg = format!(
                "the weights of nested journeys multiply beyond {MAX_LEAF_WEIGHT} (or nest \
                 deeper than the set holds journeys)"
            );
            errors.push(located(&at, "", msg));
            continue;
        }
        let mut leaves: Vec<Leaf> = leaves.into_values().collect();
        leaves.sort_by(|a, b| (&a.service, &a.name).cmp(&(&b.service, &b.name)));
        if let Sli::Journey(journey) = &mut parsed[j].slo.sli {
            journey.leaves = leaves;
        }
    }
}

/// Depth-first search for cycles of journeys, iterative over members of each node.
fn visit(
    parsed: &[Parsed],
    index: &HashMap<(String, String), usize>,
    node: usize,
    state: &mut [u8],
    path: &mut Vec<usize>,
    errors: &mut Vec<ConfigError>,
    failed: &mut [bool],
) {
    if state[node] != 0 {
        return;
    }
    let Some(journey) = Journey::of(&parsed[node].slo) else {
        state[node] = 2;
        return;
    };
    state[node] = 1;
    path.push(node);
    for m in &journey.members {
        let Some(&next) = index.get(&(m.service.clone(), m.name.clone())) else {
            continue;
        };
        if next == node {
            continue; // reported as listing itself
        }
        match state[next] {
            1 => {
                let from = path.iter().position(|&n| n == next).unwrap_or(0);
                let names: Vec<String> = path[from..]
                    .iter()
                    .chain([&next])
                    .map(|&n| format!("{}/{}", parsed[n].slo.service, parsed[n].slo.name))
                    .collect();
                let msg = format!("journeys form a cycle: {}", names.join(" → "));
                errors.push(located(&m.at, &m.path, msg));
                for &n in &path[from..] {
                    failed[n] = true;
                }
            }
            0 => visit(parsed, index, next, state, path, errors, failed),
            _ => {}
        }
        if failed[next] && Journey::of(&parsed[next].slo).is_some() {
            failed[node] = true;
        }
    }
    path.pop();
    state[node] = 2;
}

/// Adds the leaves of `node` with `weight` (its weight in the journey being resolved).
fn collect(
    parsed: &[Parsed],
    index: &HashMap<(String, String), usize>,
    node: usize,
    weight: u64,
    depth: usize,
    leaves: &mut HashMap<(String, String), Leaf>,
    too_heavy: &mut bool,
) {
    if depth > parsed.len() || weight > MAX_LEAF_WEIGHT {
        *too_heavy = true;
        return;
    }
    let slo = &parsed[node].slo;
    // A trace-aware journey counts its own events: to a journey around it, it is a leaf.
    let journey = if depth == 0 {
        Journey::of(slo)
    } else {
        Journey::weighted(slo)
    };
    let Some(journey) = journey else {
        let leaf = leaves
            .entry((slo.service.clone(), slo.name.clone()))
            .or_insert_with(|| Leaf {
                service: slo.service.clone(),
                name: slo.name.clone(),
                weight: 0,
                group_labels: super::group_label_names(slo),
            });
        leaf.weight = leaf.weight.saturating_add(weight);
        if leaf.weight > MAX_LEAF_WEIGHT {
            *too_heavy = true;
        }
        return;
    };
    for m in &journey.members {
        if let Some(&next) = index.get(&(m.service.clone(), m.name.clone())) {
            let w = weight.saturating_mul(m.weight);
            collect(parsed, index, next, w, depth + 1, leaves, too_heavy);
        }
    }
}

/// Whether `node` is a YAML mapping with any of `keys`.
pub(super) fn has_any(node: &Node, keys: &[&str]) -> bool {
    match &node.value {
        Value::Map(entries) => entries.iter().any(
            |(k, _)| matches!(&k.value, Value::Scalar { text, .. } if keys.contains(&text.as_str())),
        ),
        _ => false,
    }
}

/// Fields of a native SLO that do not apply to a journey, refused at their place:
/// time slices (a journey weighs events), `group_by`, `max_groups` and `percentiles` (a
/// journey is per cluster and has no latencies of its own).
pub(super) fn check_native_fields(ctx: &mut Ctx<'_>, f: &mut Fields<'_>) {
    if let Some(node) = f.get("budgeting_method")
        && matches!(&node.value, Value::Scalar { text, .. } if text.trim() == "timeslices")
    {
        let msg = "a journey weighs its members' events: it budgets occurrences";
        ctx.error(node, &f.path("budgeting_method"), msg);
    }
    for key in ["group_by", "max_groups", "percentiles"] {
        if let Some(node) = f.get(key) {
            let msg = format!(
                "`{key}` does not apply to a journey (it is counted per cluster, from its \
                 members' events)"
            );
            ctx.error(node, &f.path(key), msg);
        }
    }
}
