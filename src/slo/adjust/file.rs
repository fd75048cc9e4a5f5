//! `adjustments:` in a native SLO file: a list next to `service` and `slos`, each applying
//! to every SLO of the file's service or to those its `slos` names, in every cluster or in
//! those its `clusters` names.
//!
//! ```yaml
//! adjustments:
//!   - reason: weekly database maintenance
//!     rrule: FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0
//!     dtstart: 2026-01-04T02:00:00
//!     time_zone: Europe/Paris
//!     duration: 2h
//!   - reason: datacenter migration
//!     slos: [availability]
//!     clusters: [seoul-prod]
//!     start: 2026-12-10T22:00:00Z
//!     end: 2026-12-11T01:00:00Z
//! ```

use super::{Adjustment, Doc};
use crate::yaml::read::{Ctx, Fields};
use crate::yaml::{Node, Value};

/// The most adjustments one file lists.
pub const MAX_PER_FILE: usize = 256;

/// Reads the `adjustments` list of a file of `service` whose SLOs are `names` and whose
/// weighted journeys are `journeys` (such a journey has no events of its own: its members
/// are adjusted; a trace-aware journey counts its own events and is among `names`).
pub(crate) fn decode(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    service: &str,
    (names, journeys): (&[String], &[String]),
) -> Vec<Adjustment> {
    let Value::Seq(items) = &node.value else {
        let msg = format!("expected a list, found {}", node.describe());
        ctx.error(node, path, msg);
        return Vec::new();
    };
    if items.len() > MAX_PER_FILE {
        ctx.error(
            node,
            path,
            format!("lists more than {MAX_PER_FILE} adjustments"),
        );
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let mut f = Fields::new(ctx, item, &path);
        let reason = f.required(ctx, "reason", |c, n, p| c.string(n, p));
        let slos = f.opt(ctx, "slos", |c, n, p| {
            let items = c.seq(n, p)?;
            let mut out = Vec::new();
            for (j, s) in items.iter().enumerate() {
                let at = format!("{p}[{j}]");
                let name = c.string(s, &at)?;
                if journeys.contains(&name) {
                    let msg = format!(
                        "{name:?} is a weighted journey: its events are its members', adjust those"
                    );
                    c.error(s, &at, msg);
                    continue;
                }
                if !names.contains(&name) {
                    let msg = format!(
                        "no slo {name:?} in this file (its slos: {})",
                        names.join(", ")
                    );
                    c.error(s, &at, msg);
                    continue;
                }
                out.push(name);
            }
            Some(out)
        });
        let clusters = f.opt(ctx, "clusters", |c, n, p| {
            let items = c.seq(n, p)?;
            let mut out = Vec::new();
            for (j, s) in items.iter().enumerate() {
                out.push(c.string(s, &format!("{p}[{j}]"))?);
            }
            Some(out)
        });
        let field = |f: &mut Fields<'_>, ctx: &mut Ctx<'_>, key: &'static str| {
            f.opt(ctx, key, |c, n, p| c.string(n, p))
        };
        let start = field(&mut f, ctx, "start");
        let end = field(&mut f, ctx, "end");
        let rrule = field(&mut f, ctx, "rrule");
        let dtstart = field(&mut f, ctx, "dtstart");
        let time_zone = field(&mut f, ctx, "time_zone");
        let duration = field(&mut f, ctx, "duration");
        let valid = f.valid;
        f.finish(ctx);
        let Some(reason) = reason else { continue };
        if !valid {
            continue;
        }
        let doc = Doc {
            id: format!(
                "file-{:08x}-{}",
                crate::slo::engine::wal::stable_hash(ctx.file) as u32,
                item.line
            ),
            service: service.to_string(),
            slos: slos.unwrap_or_default(),
            clusters: clusters.unwrap_or_default(),
            reason,
            start,
            end,
            rrule,
            dtstart,
            time_zone,
            duration,
            ..Doc::default()
        };
        match Adjustment::new(doc) {
            Ok(a) => out.push(a),
            Err(e) => ctx.error(item, &path, e.to_string()),
        }
    }
    out
}
