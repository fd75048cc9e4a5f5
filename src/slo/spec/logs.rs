//! `sli.logs` of the native format: an SLI over log records (access logs).
//!
//! ```yaml
//! sli:
//!   logs:
//!     where: resource.attributes["service.name"] == "ingress-nginx"
//!     bad: body["status"] >= 500
//!     latency: {field: body["request_time"], unit: s}
//!     latency_threshold: 300ms
//! ```
//!
//! `where` and `bad` are log conditions ([`ConditionTarget::Log`]); `latency.field` is an
//! attribute or body path read as a number (strings holding numbers included) in `unit`
//! (`s`, `ms`, `us`, `ns`). `latency_threshold` needs `latency`.

use crate::slo::ottl::ConditionTarget;
use crate::slo::spec::values::{self, Source};
use crate::slo::spec::{AttrRef, LatencyField, LatencyUnit, LogSli, Sli};
use crate::yaml::Node;
use crate::yaml::read::{Ctx, Fields, hint};

pub(super) fn log_sli(ctx: &mut Ctx<'_>, src: &Source<'_>, mut f: Fields<'_>) -> Option<LogSli> {
    let log = ConditionTarget::Log;
    let filter = f.required(ctx, "where", |c, n, p| values::condition(c, src, n, p, log));
    let has_bad = f.get("bad").is_some();
    let bad = f.opt(ctx, "bad", |c, n, p| values::condition(c, src, n, p, log));
    let latency = f
        .section(ctx, "latency")
        .and_then(|l| latency_field(ctx, src, l));
    let has_latency = f.get("latency").is_some();
    let threshold_node = f.get("latency_threshold");
    let latency_threshold = f.opt(ctx, "latency_threshold", values::duration);
    if let Some(node) = threshold_node
        && !has_latency
    {
        let msg = "`latency_threshold` needs `latency: {field: body[\"…\"], unit: s}` (where \
                   each record's latency is)";
        ctx.error(node, &f.path("latency_threshold"), msg);
    }
    if !has_bad && threshold_node.is_none() && f.valid {
        let msg = "give `bad`, `latency_threshold` or both (without them every record is good)";
        ctx.error(f.node, &f.path, msg);
    }
    f.finish(ctx);
    Some(LogSli {
        filter: filter?,
        bad,
        latency,
        latency_threshold,
    })
}

/// `latency: {field: body["request_time"], unit: s}`.
fn latency_field(ctx: &mut Ctx<'_>, src: &Source<'_>, mut f: Fields<'_>) -> Option<LatencyField> {
    let field = f.required(ctx, "field", |c, n, p| values::attribute(c, src, n, p));
    let unit = f.required(ctx, "unit", |c, n, p| {
        values::parsed(c, n, p, |s| {
            LatencyUnit::parse(s).ok_or_else(|| {
                format!("unknown latency unit {s:?}{}", hint(s, &LatencyUnit::NAMES))
            })
        })
    });
    f.finish(ctx);
    Some(LatencyField {
        field: field?,
        unit: unit?,
    })
}

/// Refuses `group_by` body fields outside log SLIs (spans and metric points have no body).
pub(super) fn check_group_by(
    ctx: &mut Ctx<'_>,
    node: Option<&Node>,
    path: &str,
    sli: Option<&Sli>,
    group_by: &[AttrRef],
) {
    let (Some(node), Some(sli)) = (node, sli) else {
        return;
    };
    if matches!(sli, Sli::Logs(_)) {
        return;
    }
    if let Some(attr) = group_by.iter().find(|a| matches!(a, AttrRef::Body(_))) {
        let msg = format!("`{attr}` is a log body field: only log slis group by the body");
        ctx.error(node, path, msg);
    }
}
