//! What the loaded SLOs read, by metric name: each SLO's roles (threshold, total, good,
//! bad) with their filters, and the series watches (a count, a good count per threshold).

use std::collections::HashMap;
use std::sync::Arc;

use super::series::Watch;
use crate::slo::engine::LoadedSlo;
use crate::slo::ottl::Condition;
use crate::slo::spec::{MetricSli, Sli};

/// What an SLO does with the points of one metric name.
#[derive(Debug, Clone, Copy)]
pub(super) enum Role {
    /// Index into [`NamePlan::thresholds`].
    Threshold(usize),
    Total,
    Good,
    Bad,
}

pub(super) struct Use<'a> {
    pub(super) slo: usize,
    pub(super) role: Role,
    pub(super) filter: Option<&'a Condition>,
}

pub(super) struct ThresholdPlan {
    pub(super) threshold: f64,
    pub(super) watch: Watch,
}

/// Everything the loaded SLOs read from one metric name.
pub(super) struct NamePlan<'a> {
    pub(super) thresholds: Vec<ThresholdPlan>,
    /// Set when a ratio SLI reads the name (its count is tracked).
    pub(super) count: Option<Watch>,
    pub(super) uses: Vec<Use<'a>>,
}

pub(super) struct Plan<'a> {
    pub(super) names: HashMap<&'a str, NamePlan<'a>>,
}

impl<'a> Plan<'a> {
    pub(super) fn new(slos: &'a [Arc<LoadedSlo>]) -> Self {
        let unset = Watch { id: 0, since: 0 };
        let mut names: HashMap<&'a str, NamePlan<'a>> = HashMap::new();
        let mut add = |name: &'a str, slo: usize, role: Role, filter: Option<&'a Condition>| {
            let np = names.entry(name).or_insert_with(|| NamePlan {
                thresholds: Vec::new(),
                count: None,
                uses: Vec::new(),
            });
            if !matches!(role, Role::Threshold(_)) {
                np.count = Some(unset);
            }
            let filter = filter.filter(|f| !f.is_always());
            np.uses.push(Use { slo, role, filter });
        };
        for (i, slo) in slos.iter().enumerate() {
            let Sli::Metric(sli) = &slo.spec.sli else {
                continue;
            };
            match sli {
                MetricSli::Threshold { metric, .. } => {
                    // The threshold index is filled in below.
                    add(&metric.name, i, Role::Threshold(0), metric.filter.as_ref());
                }
                MetricSli::Ratio { good, bad, total } => {
                    add(&total.name, i, Role::Total, total.filter.as_ref());
                    if let Some(g) = good {
                        add(&g.name, i, Role::Good, g.filter.as_ref());
                    }
                    if let Some(b) = bad {
                        add(&b.name, i, Role::Bad, b.filter.as_ref());
                    }
                }
            }
        }
        for np in names.values_mut() {
            for u in &mut np.uses {
                let Role::Threshold(index) = &mut u.role else {
                    continue;
                };
                let Sli::Metric(MetricSli::Threshold { threshold, .. }) = &slos[u.slo].spec.sli
                else {
                    continue;
                };
                *index = match np
                    .thresholds
                    .iter()
                    .position(|t| t.threshold.to_bits() == threshold.to_bits())
                {
                    Some(k) => k,
                    None => {
                        np.thresholds.push(ThresholdPlan {
                            threshold: *threshold,
                            watch: unset,
                        });
                        np.thresholds.len() - 1
                    }
                };
            }
        }
        Plan { names }
    }
}
