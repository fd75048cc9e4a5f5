//! `alerting.exhaustion`: the optional alert "the error budget is exhausted within `within`
//! at the current burn rate", which `slotel rules` turns into an alerting rule on the same
//! time to exhaustion the API, `/metrics` and the status page report
//! (`time_to_exhaustion_seconds`: budget left × SLO window / the long window's burn rate).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::slo::spec::values;
use crate::yaml::Node;
use crate::yaml::read::{Ctx, Fields};

/// The alert name when `alerting.exhaustion.name` is not given.
pub const DEFAULT_EXHAUSTION_ALERT: &str = "SLOErrorBudgetExhaustion";
/// The `severity` label when `alerting.exhaustion.severity` is not given.
pub const DEFAULT_EXHAUSTION_SEVERITY: &str = "ticket";

/// `alerting.exhaustion: {within, for, name, severity, labels, annotations}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExhaustionAlert {
    /// `within`: the alert fires while the budget would be spent in less than this (at
    /// least a minute, at most the longest SLO window).
    pub within: Duration,
    /// `for`: how long the condition must hold before the alert fires (default none; whole
    /// seconds, at most 366d).
    pub hold: Option<Duration>,
    /// `name`: the alert name, [`DEFAULT_EXHAUSTION_ALERT`] when not given.
    pub name: Option<String>,
    /// `severity`: the `severity` label, [`DEFAULT_EXHAUSTION_SEVERITY`] when not given.
    pub severity: Option<String>,
    /// `labels`: extra labels, over those of `alerting.labels`.
    pub labels: BTreeMap<String, String>,
    /// `annotations`: extra annotations, over those of `alerting.annotations`.
    pub annotations: BTreeMap<String, String>,
}

/// Reads `alerting.exhaustion`.
pub(super) fn decode(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<ExhaustionAlert> {
    let mut f = Fields::new(ctx, node, path);
    let within = f.required(ctx, "within", values::duration);
    if let (Some(w), Some(at)) = (within, f.get("within"))
        && (w < Duration::from_secs(60) || w > values::MAX_WINDOW)
    {
        let msg = format!(
            "`within` must be between 1m and {}d",
            values::MAX_WINDOW.as_secs() / 86_400
        );
        ctx.error(at, &f.path("within"), msg);
    }
    let hold = f.opt(ctx, "for", values::duration);
    if let (Some(d), Some(at)) = (hold, f.get("for"))
        && (d.subsec_nanos() != 0 || d > values::MAX_WINDOW)
    {
        let msg = format!(
            "`for` must be whole seconds between 0s and {}d (Prometheus and Grafana rules \
             hold an alert in seconds)",
            values::MAX_WINDOW.as_secs() / 86_400
        );
        ctx.error(at, &f.path("for"), msg);
    }
    let name = f.opt(ctx, "name", super::native::alert_name);
    let severity = f.opt(ctx, "severity", values::non_empty);
    let labels = f.opt(ctx, "labels", |c, n, p| {
        super::native::string_map(c, n, p, true)
    });
    let annotations = f.opt(ctx, "annotations", |c, n, p| {
        super::native::string_map(c, n, p, false)
    });
    f.finish(ctx);
    Some(ExhaustionAlert {
        within: within?,
        hold,
        name,
        severity,
        labels: labels.unwrap_or_default(),
        annotations: annotations.unwrap_or_default(),
    })
}
