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
        Sli::Journey(_) => "a journey",
    };
    Some(format!(
        "member `{reference}` is {what}: a trace-aware journey (`mode: trace`) reads its \
         members' spans, so every member is a span SLO"
    ))
}

/// `mode: trace` with its bounds, as written in a native file (for `definition.rs`).
pub fn yaml(mode: &TraceMode, indent: &str) -> String {
    format!(
        "{indent}mode: trace\n{indent}max_wait: {}s\n{indent}max_traces: {}\n",
        mode.max_wait.as_secs(),
        mode.max_traces
    )
}
