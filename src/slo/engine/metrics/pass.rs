//! One request through the metric SLIs: filters, increments (delta as is, cumulative
//! through [`Inner::advance`]), late and future points, groups, and carries.

use std::collections::BTreeMap;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets as ExpBuckets;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, DataPointFlags, ExponentialHistogramDataPoint, HistogramDataPoint,
    metric::Data,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::plan::{NamePlan, Plan, Role};
use super::points::{Buckets, Point, sum_value};
use super::series::{Inc, Inner, hash_attributes, hash_scope, series_base};
use crate::slo::engine::state::GroupKey;
use crate::slo::engine::window::Counts;
use crate::slo::engine::{Dropped, LoadedSlo};
use crate::slo::facts::UNKNOWN_CLUSTER;
use crate::slo::metric_limits::{InvalidPoint, check_exponential, check_histogram, check_number};
use crate::slo::ottl::{Val, render};
use crate::slo::spec::{AttrRef, MetricSli, Sli, Slo};

/// The resource's part of a request: what groups and series keys read.
pub(super) struct ResourceCx<'r> {
    pub(super) resource: Option<&'r Resource>,
    pub(super) attributes: &'r [KeyValue],
    pub(super) cluster: String,
    pub(super) hash: u64,
}

/// One pass over a request, holding the metric state's lock.
pub(super) struct Pass<'a, 'p> {
    pub(super) inner: &'a mut Inner,
    pub(super) slos: &'a [Arc<LoadedSlo>],
    pub(super) sides: Vec<usize>,
    pub(super) oldest: u64,
    pub(super) newest: u64,
    pub(super) out: Vec<SloOut>,
    pub(super) plan: &'a Plan<'p>,
    /// Work done in this pass, and where it stops (see [`super::CHUNK_WORK`]).
    pub(super) work: usize,
    pub(super) budget: usize,
    /// Per SLO: the budget adjustments' ranges over `[oldest, newest]`, and the events
    /// they excluded (see [`crate::slo::adjust`]).
    pub(super) adjusted: Vec<(crate::slo::adjust::Ranges, u64)>,
}

/// Where in a request the next pass resumes: indices of the resource, scope, metric and
/// data point.
#[derive(Debug, Default)]
pub(super) struct Cursor {
    rm: usize,
    sm: usize,
    metric: usize,
    point: usize,
}

/// A request's counts for one SLO, by group and event time.
#[derive(Default)]
pub(super) struct SloOut {
    pub(super) counts: BTreeMap<(GroupKey, u64), Acc>,
    pub(super) dropped: Dropped,
}

/// What goes into an SLO's state: `total` events at `t` in group `key` and `good` good
/// ones in the windows (negative: bad events ahead of their totals), and `lifetime` in
/// the lifetime counters.
pub(super) struct Counted {
    pub(super) key: GroupKey,
    pub(super) t: u64,
    pub(super) good: i64,
    pub(super) total: u64,
    pub(super) lifetime: Counts,
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Acc {
    pub(super) good: u64,
    pub(super) bad: u64,
    pub(super) total: u64,
}

pub(super) const NO_RECORDED_VALUE: u32 = DataPointFlags::NoRecordedValueMask as u32;

impl Pass<'_, '_> {
    pub(super) fn point(
        &mut self,
        name: &str,
        np: &NamePlan<'_>,
        rcx: &ResourceCx<'_>,
        base: u64,
        p: &Point<'_>,
    ) {
        let thresholds = np.thresholds.len();
        // Per watch (thresholds, then the count): computed when a use first needs it.
        let mut incs: Vec<Option<Option<Inc>>> = vec![None; thresholds + 1];
        for u in &np.uses {
            if let Some(f) = u.filter
                && !f.eval_point(p.attributes, rcx.resource)
            {
                continue;
            }
            let slot = match u.role {
                Role::Threshold(i) => i,
                _ => thresholds,
            };
            let inc = match incs[slot] {
                Some(inc) => inc,
                None => {
                    let inc = self.increment(name, np, slot, base, p);
                    incs[slot] = Some(inc);
                    inc
                }
            };
            let Some(inc) = inc else { continue };
            if let Role::Threshold(_) = u.role
                && let Some(side) = self.inner.slos.get_mut(&self.sides[u.slo])
                && let Some(e) = &mut side.effective
            {
                e.observe(inc.effective);
            }
            let counts_events = matches!(u.role, Role::Threshold(_) | Role::Total);
            let out = &mut self.out[u.slo];
            if p.time < self.oldest {
                if counts_events {
                    out.dropped.late = out.dropped.late.saturating_add(inc.events);
                }
                continue;
            }
            if p.time > self.newest {
                if counts_events {
                    out.dropped.future = out.dropped.future.saturating_add(inc.events);
                }
                continue;
            }
            if let Some((ranges, n)) = self.adjusted.get_mut(u.slo)
                && ranges.covers(&rcx.cluster, p.time)
            {
                if counts_events {
                    *n = n.saturating_add(inc.events);
                }
                continue;
            }
            if inc.events == 0 && !matches!(u.role, Role::Good | Role::Bad) {
                continue;
            }
            let key = group_key(&self.slos[u.slo].spec, rcx, p.attributes);
            let acc = out.counts.entry((key, p.time)).or_default();
            match u.role {
                Role::Threshold(_) => {
                    acc.total = acc.total.saturating_add(inc.events);
                    acc.good = acc.good.saturating_add(inc.good.min(inc.events));
                }
                Role::Total => acc.total = acc.total.saturating_add(inc.events),
                Role::Good => acc.good = acc.good.saturating_add(inc.events),
                Role::Bad => acc.bad = acc.bad.saturating_add(inc.events),
            }
        }
    }

    /// The increment of watch `slot` (a threshold, or the count) for point `p`, with the
    /// point's effective threshold for a threshold watch; `None` for an unusable or stale
    /// point.
    pub(super) fn increment(
        &mut self,
        name: &str,
        np: &NamePlan<'_>,
        slot: usize,
        base: u64,
        p: &Point<'_>,
    ) -> Option<Inc> {
        let (good, effective, watch) = match np.thresholds.get(slot) {
            Some(t) => match p.buckets.good(t.threshold) {
                Some((good, effective)) => (good.min(p.count), effective, t.watch),
                None => {
                    self.inner.stats.skipped_points += 1;
                    tracing::debug!(metric = name, "threshold sli on a point without buckets");
                    return None;
                }
            },
            None => (0, None, np.count?),
        };
        if !p.cumulative {
            return Some(Inc {
                events: p.count,
                good,
                effective,
            });
        }
        // A point from the future advances its series (its increment is dropped as
        // future) but is remembered at most `newest` ahead, so a point from the far future
        // makes its series' present points stale for `max_future` at most, not for good.
        let clamped = Point {
            time: p.time.min(self.newest),
            ..*p
        };
        let inc = self.inner.advance(base, watch, &clamped, good)?;
        Some(Inc { effective, ..inc })
    }

    /// Turns the request's counts into records. Windows get every increment at its own
    /// time: good (or, as a decrement, bad) increments whether or not their totals came
    /// in the same request. The lifetime counters must stay monotonic, so there good and
    /// bad increments are matched with totals and the excess carried to the group's next
    /// totals.
    pub(super) fn finish(self) -> Vec<(Vec<Counted>, Dropped)> {
        let mut result = Vec::with_capacity(self.out.len());
        for (i, out) in self.out.into_iter().enumerate() {
            let slo = &self.slos[i].spec;
            let mode = match &slo.sli {
                Sli::Metric(MetricSli::Ratio { bad: Some(_), .. }) => Some(true),
                Sli::Metric(MetricSli::Ratio { .. }) => Some(false),
                _ => None,
            };
            let mut records = Vec::with_capacity(out.counts.len());
            let side = self.inner.slos.get_mut(&self.sides[i]);
            let Some((bad_mode, side)) = mode.zip(side) else {
                for ((key, t), acc) in out.counts {
                    if acc.total > 0 {
                        let lifetime = Counts {
                            good: acc.good.min(acc.total),
                            total: acc.total,
                        };
                        records.push(Counted {
                            key,
                            t,
                            good: signed(lifetime.good),
                            total: acc.total,
                            lifetime,
                        });
                    }
                }
                result.push((records, out.dropped));
                continue;
            };
            let max_carries = slo.max_groups.max(1);
            // In key order: each group's timestamps in order.
            for ((key, t), acc) in out.counts {
                let good = if bad_mode {
                    signed(acc.total).saturating_sub(signed(acc.bad))
                } else {
                    signed(acc.good)
                };
                let carried = side.carry.get(&key).copied().unwrap_or(0);
                let want = if bad_mode { acc.bad } else { acc.good }.saturating_add(carried);
                let used = want.min(acc.total);
                let left = want - used;
                let lifetime = Counts {
                    good: if bad_mode { acc.total - used } else { used },
                    total: acc.total,
                };
                if left > 0 {
                    // A key too long for a group (see `GroupKey::fits`) counts in the
                    // overflow group and carries nothing, so carries stay small.
                    if (side.carry.len() < max_carries && key.fits())
                        || side.carry.contains_key(&key)
                    {
                        side.carry.insert(key.clone(), left);
                    }
                } else if carried > 0 {
                    side.carry.remove(&key);
                }
                if acc.total > 0 || good != 0 {
                    records.push(Counted {
                        key,
                        t,
                        good,
                        total: acc.total,
                        lifetime,
                    });
                }
            }
            result.push((records, out.dropped));
        }
        result
    }
}

impl Pass<'_, '_> {
    /// Reads the request from `at` until the pass's work budget is spent; returns whether
    /// it reached the end (else `at` is where the next pass resumes).
    pub(super) fn request(
        &mut self,
        req: &ExportMetricsServiceRequest,
        token: Option<&str>,
        cluster_attribute: &str,
        at: &mut Cursor,
    ) -> bool {
        let plan = self.plan;
        while let Some(rm) = req.resource_metrics.get(at.rm) {
            let resource = rm.resource.as_ref();
            let attributes = resource.map_or(&[][..], |r| &r.attributes[..]);
            let mut rcx: Option<ResourceCx<'_>> = None;
            while let Some(sm) = rm.scope_metrics.get(at.sm) {
                let mut scope: Option<u64> = None;
                while let Some(metric) = sm.metrics.get(at.metric) {
                    if let Some(np) = plan.names.get(metric.name.as_str()) {
                        let rcx = rcx.get_or_insert_with(|| ResourceCx {
                            resource,
                            attributes,
                            cluster: cluster_of(token, attributes, cluster_attribute),
                            hash: hash_attributes(attributes),
                        });
                        let scope = *scope.get_or_insert_with(|| hash_scope(sm.scope.as_ref()));
                        let data = metric.data.as_ref();
                        if let Some(next) =
                            self.metric(&metric.name, data, np, rcx, scope, at.point)
                        {
                            at.point = next;
                            return false;
                        }
                    }
                    at.metric += 1;
                    at.point = 0;
                    self.work += 1;
                    if self.work >= self.budget {
                        return false;
                    }
                }
                at.sm += 1;
                at.metric = 0;
            }
            at.rm += 1;
            at.sm = 0;
        }
        true
    }

    /// Reads a metric's points from index `from`; returns the index to resume at when the
    /// work budget ran out before its last point.
    pub(super) fn metric(
        &mut self,
        name: &str,
        data: Option<&Data>,
        np: &NamePlan<'_>,
        rcx: &ResourceCx<'_>,
        scope: u64,
        from: usize,
    ) -> Option<usize> {
        let run = |pass: &mut Self,
                   kind: u8,
                   cumulative: Option<bool>,
                   p: Result<Option<Point<'_>>, InvalidPoint>,
                   flags: u32| {
            let p = match p {
                Ok(p) => p,
                Err(reason) => {
                    pass.inner.stats.invalid_points.add(reason);
                    return;
                }
            };
            let (Some(cumulative), Some(mut p)) = (cumulative, p) else {
                pass.inner.stats.skipped_points += 1;
                return;
            };
            if flags & NO_RECORDED_VALUE != 0 {
                pass.inner.stats.skipped_points += 1;
                return;
            }
            p.cumulative = cumulative;
            let base = if cumulative {
                series_base(name, kind, scope, rcx, p.attributes)
            } else {
                0
            };
            pass.point(name, np, rcx, base, &p);
        };
        // Runs `each` on the points from `from` until the budget is spent.
        fn points<'a, 'p, T>(
            pass: &mut Pass<'a, 'p>,
            all: &[T],
            from: usize,
            cost: impl Fn(&T) -> usize,
            mut each: impl FnMut(&mut Pass<'a, 'p>, &T),
        ) -> Option<usize> {
            for (i, dp) in all.iter().enumerate().skip(from) {
                each(pass, dp);
                pass.work += 1 + cost(dp) / 16;
                if pass.work >= pass.budget && i + 1 < all.len() {
                    return Some(i + 1);
                }
            }
            None
        }
        match data {
            Some(Data::Sum(s)) => {
                let c = cumulative(s.aggregation_temporality).filter(|_| s.is_monotonic);
                points(
                    self,
                    &s.data_points,
                    from,
                    |_| 0,
                    |pass, dp| {
                        let p = check_number(dp).map(|()| {
                            sum_value(dp).map(|count| Point {
                                attributes: &dp.attributes,
                                start: dp.start_time_unix_nano,
                                time: dp.time_unix_nano,
                                cumulative: false,
                                count,
                                buckets: Buckets::None,
                            })
                        });
                        run(pass, 1, c, p, dp.flags);
                    },
                )
            }
            Some(Data::Histogram(h)) => {
                let c = cumulative(h.aggregation_temporality);
                let cost = |dp: &HistogramDataPoint| dp.bucket_counts.len();
                points(self, &h.data_points, from, cost, |pass, dp| {
                    let p = check_histogram(dp).map(|()| {
                        let buckets = if dp.bucket_counts.is_empty() {
                            Buckets::None
                        } else {
                            Buckets::Explicit {
                                bounds: &dp.explicit_bounds,
                                counts: &dp.bucket_counts,
                            }
                        };
                        Some(Point {
                            attributes: &dp.attributes,
                            start: dp.start_time_unix_nano,
                            time: dp.time_unix_nano,
                            cumulative: false,
                            count: dp.count,
                            buckets,
                        })
                    });
                    run(pass, 2, c, p, dp.flags);
                })
            }
            Some(Data::ExponentialHistogram(h)) => {
                let c = cumulative(h.aggregation_temporality);
                let cost = |dp: &ExponentialHistogramDataPoint| {
                    let len = |b: &Option<_>| {
                        b.as_ref().map_or(0, |b: &ExpBuckets| b.bucket_counts.len())
                    };
                    len(&dp.positive) + len(&dp.negative)
                };
                points(self, &h.data_points, from, cost, |pass, dp| {
                    let p = check_exponential(dp).map(|()| {
                        Some(Point {
                            attributes: &dp.attributes,
                            start: dp.start_time_unix_nano,
                            time: dp.time_unix_nano,
                            cumulative: false,
                            count: dp.count,
                            buckets: Buckets::Exponential(dp),
                        })
                    });
                    run(pass, 3, c, p, dp.flags);
                })
            }
            Some(Data::Gauge(g)) => {
                self.inner.stats.skipped_points += g.data_points.len() as u64;
                None
            }
            Some(Data::Summary(s)) => {
                self.inner.stats.skipped_points += s.data_points.len() as u64;
                None
            }
            None => None,
        }
    }
}

/// The cluster of a resource: the token's, else the cluster attribute, else `unknown`.
pub(super) fn cluster_of(
    token: Option<&str>,
    attributes: &[KeyValue],
    cluster_attribute: &str,
) -> String {
    if let Some(c) = token {
        return c.to_string();
    }
    match Val::of(attribute(attributes, cluster_attribute)) {
        Val::Nil | Val::Str("") => UNKNOWN_CLUSTER.to_string(),
        v => {
            let mut s = String::new();
            render(v, &mut s);
            s
        }
    }
}

pub(super) fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

pub(super) fn group_key(slo: &Slo, rcx: &ResourceCx<'_>, point: &[KeyValue]) -> GroupKey {
    GroupKey {
        cluster: rcx.cluster.clone(),
        extra: slo
            .group_by
            .iter()
            .map(|a| {
                let v = match a {
                    AttrRef::Item(k) => attribute(point, k),
                    AttrRef::Resource(k) => attribute(rcx.attributes, k),
                    // Refused for metric SLIs when the SLO loads.
                    AttrRef::Body(_) => None,
                };
                let mut s = String::new();
                render(Val::of(v), &mut s);
                s
            })
            .collect(),
    }
}

pub(super) fn cumulative(temporality: i32) -> Option<bool> {
    match AggregationTemporality::try_from(temporality).ok()? {
        AggregationTemporality::Delta => Some(false),
        AggregationTemporality::Cumulative => Some(true),
        AggregationTemporality::Unspecified => None,
    }
}
