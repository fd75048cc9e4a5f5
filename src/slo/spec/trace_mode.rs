//! A journey's trace-aware mode (`mode: trace`): one journey event per trace, bad when any
//! of its member spans is bad (see [`crate::slo::journey::trace`] for the counting).
//!
//! ```yaml
//! journey:
//!   mode: trace          # default `weighted`
//!   max_wait: 30s        # a trace closes this long after its last member span arrived
//!   max_traces: 100000   # open traces held at most (then the least recent closes early)
//!   members:
//!     - slo: login/availability
//!     - slo: payment/availability
//! ```
//!
//! A member span is a span selected by a member SLO (its `where`); it is bad when that
//! SLO would count it bad. Members must be span SLOs listed directly (a metric SLI has no
//! traces, a nested journey's events are not spans) and carry no weight (a trace counts
//! once). These are checked with the set ([`check_members`]).

use std::time::Duration;

use crate::slo::spec::{Sli, values};
use crate::yaml::read::{Ctx, Fields};

/// The longest `max_wait`.
pub const MAX_WAIT: Duration = Duration::from_secs(600);
/// `max_wait` when not given.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);
/// The most open traces one journey may hold (`max_traces`).
pub const MAX_TRACES: u64 = 1_000_000;
/// `max_traces` when not given.
pub const DEFAULT_TRACES: u64 = 100_000;

/// The bounds of a trace-aware journey's table of open traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceMode {
    /// A trace closes once no member span of it arrived for this long.
    pub max_wait: Duration,
    /// Open traces held at most; a new trace beyond it closes the least recently seen one.
    pub max_traces: usize,
}

impl Default for TraceMode {
    fn default() -> Self {
        TraceMode {
            max_wait: DEFAULT_WAIT,
            max_traces: DEFAULT_TRACES as usize,
        }
    }
}

/// Reads `mode`, `max_wait` and `max_traces` of a native `journey:` mapping: `Ok(None)` is
/// the weighted mode, `Err(())` a reported error.
pub(super) fn read(ctx: &mut Ctx<'_>, f: &mut Fields<'_>) -> Result<Option<TraceMode>, ()> {
    let mode = f.opt(ctx, "mode", |c, n, p| {
        c.choice(n, p, &[("weighted", false), ("trace", true)])
    });
    let mode_given = f.get("mode").is_some();
    let wait_node = f.get("max_wait");
    let traces_node = f.get("max_traces");
    let max_wait = f.opt(ctx, "max_wait", |c, n, p| {
        let d = values::duration(c, n, p)?;
        if d < Duration::from_secs(1) || d > MAX_WAIT {
            let msg = format!("must be between 1s and {}s", MAX_WAIT.as_secs());
            c.error(n, p, msg);
            return None;
        }
        Some(d)
    });
    let max_traces = f.opt(ctx, "max_traces", |c, n, p| {
        values::whole(c, n, p, 1, MAX_TRACES)
    });
    match mode {
        None if mode_given => Err(()),
        Some(true) => {
            if (wait_node.is_some() && max_wait.is_none())
                || (traces_node.is_some() && max_traces.is_none())
            {
                return Err(());
            }
            let d = TraceMode::default();
            Ok(Some(TraceMode {
                max_wait: max_wait.unwrap_or(d.max_wait),
                max_traces: max_traces.map_or(d.max_traces, |n| n as usize),
            }))
        }
        _ => {
            let mut ok = true;
            for (key, node) in [("max_wait", wait_node), ("max_traces", traces_node)] {
                if let Some(node) = node {
                    let msg = format!("`{key}` applies to `mode: trace` only");
                    ctx.error(node, &f.path(key), msg);
                    ok = false;
                }
            }
            if ok { Ok(None) } else { Err(()) }
        }
    }
}

/// What a trace-aware journey's member may not be, as an error message: `None` when
/// `member` (an SLO of the set, listed with `weight`) fits.
pub(super) fn check_member(reference: &str, member: &Sli, weight: u64) -> Option<String> {
    let what = match member {
        Sli::Spans(_) if weight == 1 => return None,
        Sli::Spans(_) => {
            return Some(format!(
                "member `{reference}` has weight {weight}: a trace-aware journey counts each \
                 trace once, so its members carry no weight"
            ));
        }
        Sli::Metric(_) => "a metric SLI",
        Sli::Logs(_) => "a log SLI",
        Sli::Journey(_) => "a journey",
    };
    Some(format!(
        "member `{reference}` is {what}: a trace-aware journey (`mode: trace`) reads its \
         members' spans, so every member is a span SLO"
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::slo::spec::journey::Journey;
    use crate::slo::spec::{Slo, parse_file};

    const MEMBERS: &str = r#"
service: shop
slos:
  - name: login
    objective: 99.9
    window: 30d
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER
        bad: status.code == STATUS_CODE_ERROR
  - name: pay
    objective: 99
    window: 30d
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER
        latency_threshold: 500ms
  - name: duration
    objective: 98.5
    window: 30d
    sli:
      metric:
        histogram: http.server.request.duration
        threshold: 250ms
"#;

    fn load(journeys: &str) -> Result<Vec<Slo>, Vec<String>> {
        let text = format!("{MEMBERS}{journeys}");
        parse_file(&text, "shop.yaml")
            .map_err(|errors| errors.into_iter().map(|e| e.to_string()).collect())
    }

    fn journey<'a>(slos: &'a [Slo], name: &str) -> &'a Journey {
        let slo = slos.iter().find(|s| s.name == name).expect("loaded");
        Journey::of(slo).expect("a journey")
    }

    fn one_error(journeys: &str, expected: &str) {
        let errors = load(journeys).expect_err("refused");
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{expected:?} not in {errors:#?}"
        );
    }

    #[test]
    fn trace_mode_with_defaults_and_given_bounds() {
        let slos = load(
            r#"
  - name: checkout
    objective: 99
    window: 30d
    journey:
      mode: trace
      members: [{slo: login}, {slo: pay}]
  - name: checkout-tight
    objective: 99
    window: 30d
    journey:
      mode: trace
      max_wait: 2m
      max_traces: 5000
      members: [{slo: login}]
  - name: weighted
    objective: 99
    window: 30d
    journey:
      mode: weighted
      members: [{slo: login}]
"#,
        )
        .unwrap();
        let mode = journey(&slos, "checkout").trace.expect("trace mode");
        assert_eq!(mode.max_wait, Duration::from_secs(30));
        assert_eq!(mode.max_traces, 100_000);
        let mode = journey(&slos, "checkout-tight").trace.unwrap();
        assert_eq!(mode.max_wait, Duration::from_secs(120));
        assert_eq!(mode.max_traces, 5000);
        assert!(journey(&slos, "weighted").trace.is_none());
        let leaves: Vec<&str> = journey(&slos, "checkout")
            .leaves
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        assert_eq!(leaves, ["login", "pay"]);
    }

    #[test]
    fn the_definition_of_a_trace_journey_loads_back() {
        let slos = load(
            "\n  - name: checkout\n    objective: 99\n    window: 30d\n    journey:\n      \
             mode: trace\n      max_wait: 1500ms\n      max_traces: 7\n      members: \
             [{slo: login}, {slo: pay}]\n",
        )
        .unwrap();
        let slo = slos.iter().find(|s| s.name == "checkout").unwrap();
        let yaml = crate::slo::definition::Definition::of(slo).yaml;
        let back = parse_file(&format!("{MEMBERS}---\n{yaml}"), "back.yaml").unwrap();
        let mode = journey(&back, "checkout").trace.expect("trace mode");
        assert_eq!(mode.max_wait, Duration::from_millis(1500), "{yaml}");
        assert_eq!(mode.max_traces, 7);
        assert_eq!(journey(&back, "checkout"), journey(&slos, "checkout"));
    }

    #[test]
    fn a_weighted_journey_weighs_a_trace_journey_as_a_leaf() {
        let slos = load(
            r#"
  - name: checkout
    objective: 99
    window: 30d
    journey:
      mode: trace
      members: [{slo: login}, {slo: pay}]
  - name: site
    objective: 99
    window: 30d
    journey:
      members: [{slo: checkout, weight: 3}, {slo: login}]
"#,
        )
        .unwrap();
        let leaves: Vec<(&str, u64)> = journey(&slos, "site")
            .leaves
            .iter()
            .map(|l| (l.name.as_str(), l.weight))
            .collect();
        assert_eq!(leaves, [("checkout", 3), ("login", 1)]);
    }

    #[test]
    fn refused_members_and_bounds() {
        let head = "\n  - name: checkout\n    objective: 99\n    window: 30d\n    journey:\n";
        one_error(
            &format!("{head}      mode: trace\n      members: [{{slo: duration}}]\n"),
            "member `shop/duration` is a metric SLI: a trace-aware journey",
        );
        one_error(
            &format!("{head}      mode: trace\n      members: [{{slo: login, weight: 2}}]\n"),
            "has weight 2: a trace-aware journey counts each trace once",
        );
        one_error(
            &format!(
                "{head}      members: [{{slo: login}}]\n  - name: outer\n    objective: 99\n    \
                 window: 30d\n    journey:\n      mode: trace\n      members: [{{slo: checkout}}]\n"
            ),
            "member `shop/checkout` is a journey",
        );
        one_error(
            &format!(
                "{head}      mode: trace\n      max_wait: 11m\n      members: [{{slo: login}}]\n"
            ),
            "must be between 1s and 600s",
        );
        one_error(
            &format!(
                "{head}      mode: trace\n      max_traces: 0\n      members: [{{slo: login}}]\n"
            ),
            "max_traces",
        );
        one_error(
            &format!("{head}      max_wait: 10s\n      members: [{{slo: login}}]\n"),
            "`max_wait` applies to `mode: trace` only",
        );
        one_error(
            &format!("{head}      mode: traces\n      members: [{{slo: login}}]\n"),
            "invalid value \"traces\"",
        );
    }
}
