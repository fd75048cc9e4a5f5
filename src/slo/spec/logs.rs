//! `sli.logs` of the native format: an SLI over log records (access logs).
//!
//! ```yaml
//! sli:
//!   logs:
//!     where: resource.attributes["service.name"] == "ingress-nginx"
//!     bad: body["status"] >= 500
//!     latency:
//!       field: body["request_time"]
//!       unit: s
//!     latency_threshold: 300ms
//! ```
//!
//! `where` and `bad` are log conditions ([`ConditionTarget::Log`]); `latency.field` is an
//! attribute or body path read as a number (strings holding numbers included) in `unit`
//! (`s`, `ms`, `us`, `ns`). `latency_threshold` needs `latency`.
//!
//! OpenSLO documents reach the same [`LogSli`] through a `slotel` metric source with
//! `signal: logs` (see `openslo/`); `logs_openslo_tests.rs` holds their tests.

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
        let msg = "`latency_threshold` needs `latency` (its `field`: where each record's \
                   latency is, and its `unit`)";
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

/// `latency:` with `field: body["request_time"]` and `unit: s`.
pub(super) fn latency_field(
    ctx: &mut Ctx<'_>,
    src: &Source<'_>,
    mut f: Fields<'_>,
) -> Option<LatencyField> {
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

#[cfg(test)]
#[path = "logs_openslo_tests.rs"]
mod openslo_tests;

#[cfg(test)]
mod tests {
    use crate::slo::spec::{AttrRef, LatencyUnit, Sli, parse_file};

    fn errors(text: &str) -> String {
        let e = parse_file(text, "t.yaml").expect_err("refused");
        e.iter()
            .map(|e| format!("{}:{}: {}: {}", e.line, e.column, e.path, e.message))
            .collect::<Vec<_>>()
            .join("\n")
    }

    const HEAD: &str = "service: edge\nslos:\n  - name: a\n    objective: 99\n    window: 30d\n";

    #[test]
    fn the_examples_load_as_log_slis() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/config/examples/logs");
        for name in ["nginx-ingress.yaml", "envoy.yaml", "app.yaml"] {
            let text = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
            let slos = parse_file(&text, name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert!(slos.iter().all(|s| matches!(s.sli, Sli::Logs(_))), "{name}");
        }
        let text = std::fs::read_to_string(format!("{dir}/nginx-ingress.yaml")).unwrap();
        let slos = parse_file(&text, "nginx-ingress.yaml").unwrap();
        let Sli::Logs(latency) = &slos[1].sli else {
            unreachable!()
        };
        let field = latency.latency.as_ref().unwrap();
        assert_eq!(field.field, AttrRef::Body(vec!["request_time".into()]));
        assert_eq!(field.unit, LatencyUnit::Seconds);
        assert_eq!(
            latency.latency_threshold,
            Some(std::time::Duration::from_millis(300))
        );
        assert_eq!(
            slos[1].group_by,
            vec![AttrRef::Body(vec!["proxy_upstream_name".into()])]
        );
        assert!(slos[1].sli.has_latencies() && !slos[0].sli.has_latencies());
    }

    #[test]
    fn mistakes_are_refused_with_their_place() {
        let e = errors(&format!(
            "{HEAD}    sli:\n      logs:\n        where: body[\"status\"] != nil\n        latency_threshold: 300ms\n"
        ));
        assert!(e.contains("`latency_threshold` needs `latency"), "{e}");
        let e = errors(&format!(
            "{HEAD}    sli:\n      logs:\n        where: body[\"status\"] != nil\n        latency:\n          field: body[\"t\"]\n          unit: sec\n        latency_threshold: 1s\n"
        ));
        assert!(e.contains("unknown latency unit \"sec\""), "{e}");
        let e = errors(&format!(
            "{HEAD}    sli:\n      logs:\n        where: kind == SPAN_KIND_SERVER\n        bad: body[\"status\"] >= 500\n"
        ));
        assert!(e.contains("8:16") && e.contains("span field"), "{e}");
        let e = errors(&format!(
            "{HEAD}    sli:\n      logs:\n        where: body[\"status\"] != nil\n"
        ));
        assert!(e.contains("give `bad`, `latency_threshold` or both"), "{e}");
        let e = errors(&format!(
            "{HEAD}    sli:\n      spans:\n        where: kind == SPAN_KIND_SERVER\n        latency_threshold: 1s\n    group_by: ['body[\"route\"]']\n"
        ));
        assert!(e.contains("only log slis group by the body"), "{e}");
        let e = errors(&format!(
            "{HEAD}    sli:\n      spans:\n        where: body[\"status\"] >= 500\n        latency_threshold: 1s\n"
        ));
        assert!(e.contains("unknown path `body`"), "{e}");
        let e = errors(&format!(
            "{HEAD}    sli:\n      logs:\n        where: 'true'\n        bad: 'true'\n      spans:\n        where: 'true'\n        bad: 'true'\n"
        ));
        assert!(
            e.contains("give one of `spans`, `metric` and `logs`"),
            "{e}"
        );
    }
}
