//! The memory of the metric path: previous points of cumulative series (with baselines,
//! resets, restarts, stale points and the series cap), per-SLO carries and effective
//! thresholds; and the hashes that key series.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Weak};

use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};

use super::pass::ResourceCx;
use super::plan::Plan;
use super::points::Point;
use super::{EffectiveThreshold, MetricStats};
use crate::slo::engine::LoadedSlo;
use crate::slo::engine::state::GroupKey;
use crate::slo::spec::{MetricSli, Sli};

/// What a cumulative series is tracked for: a metric's count, or its good count at one
/// threshold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct WatchKey {
    pub(super) name: String,
    /// `f64::to_bits` of the threshold; `None` for the count.
    pub(super) threshold: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Watch {
    pub(super) id: u32,
    /// Series that started before this are baselines when first seen.
    pub(super) since: u64,
}

/// The previous point of a cumulative series.
#[derive(Debug, Clone, Copy)]
pub(super) struct Series {
    pub(super) watch: u32,
    /// The series' hash before the watch ([`series_base`]), to key it again on restore.
    pub(super) base: u64,
    pub(super) start: u64,
    pub(super) time: u64,
    pub(super) count: u64,
    pub(super) good: u64,
    /// Recency, for eviction.
    pub(super) seen: u64,
}

/// Per-SLO memory: what is carried to the next request, and the effective threshold.
#[derive(Debug)]
pub(super) struct SloSide {
    pub(super) slo: Weak<LoadedSlo>,
    pub(super) carry: HashMap<GroupKey, u64>,
    pub(super) effective: Option<EffectiveThreshold>,
}

pub(super) struct Inner {
    pub(super) started: u64,
    /// Whether `watched` was filled once (the first watches date from `started`).
    pub(super) synced: bool,
    pub(super) watched: HashMap<WatchKey, Watch>,
    pub(super) next_watch: u32,
    /// Series first seen that started before this are baselines (set by eviction).
    pub(super) baseline_before: u64,
    /// By hash of series and watch.
    pub(super) series: HashMap<u64, Series>,
    pub(super) max_series: usize,
    pub(super) seq: u64,
    /// By `Arc::as_ptr` of the loaded SLO (kept unique by the `Weak`).
    pub(super) slos: HashMap<usize, SloSide>,
    pub(super) stats: MetricStats,
    /// Keys of the series advanced, while a request is written to the log.
    pub(super) touched: Option<Vec<u64>>,
}

/// An increment of one series.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Inc {
    pub(super) events: u64,
    pub(super) good: u64,
    /// The point's effective threshold (threshold watches only).
    pub(super) effective: Option<f64>,
}

impl Inner {
    pub(super) fn new(started: u64, max_series: usize) -> Self {
        Self {
            started,
            synced: false,
            watched: HashMap::new(),
            next_watch: 0,
            baseline_before: 0,
            series: HashMap::new(),
            max_series,
            seq: 0,
            slos: HashMap::new(),
            stats: MetricStats::default(),
            touched: None,
        }
    }

    /// Makes `watched` match the plan (new watches from `now`, or from `started` the first
    /// time), forgets series of watches no longer needed, fills the plan's watch fields.
    pub(super) fn sync(&mut self, plan: &mut Plan<'_>, now: u64) {
        let since = if self.synced { now } else { self.started };
        self.synced = true;
        let mut keep: HashSet<u32> = HashSet::new();
        for (name, np) in plan.names.iter_mut() {
            let mut watch = |threshold: Option<f64>| {
                let key = WatchKey {
                    name: (*name).to_string(),
                    threshold: threshold.map(f64::to_bits),
                };
                let w = *self.watched.entry(key).or_insert_with(|| {
                    self.next_watch = self.next_watch.wrapping_add(1);
                    Watch {
                        id: self.next_watch,
                        since,
                    }
                });
                keep.insert(w.id);
                w
            };
            for t in &mut np.thresholds {
                t.watch = watch(Some(t.threshold));
            }
            if np.count.is_some() {
                np.count = Some(watch(None));
            }
        }
        if keep.len() != self.watched.len() {
            self.watched.retain(|_, w| keep.contains(&w.id));
            self.series.retain(|_, s| keep.contains(&s.watch));
        }
    }

    /// Forgets SLOs no longer loaded; returns the side of each loaded one, in order.
    pub(super) fn sync_slos(&mut self, slos: &[Arc<LoadedSlo>]) -> Vec<usize> {
        let ids: Vec<usize> = slos.iter().map(|s| Arc::as_ptr(s) as usize).collect();
        if self.slos.len() > ids.len() || ids.iter().any(|id| !self.slos.contains_key(id)) {
            let live: HashSet<usize> = ids.iter().copied().collect();
            self.slos
                .retain(|id, side| live.contains(id) && side.slo.strong_count() > 0);
            for (id, slo) in ids.iter().zip(slos) {
                self.slos.entry(*id).or_insert_with(|| SloSide {
                    slo: Arc::downgrade(slo),
                    carry: HashMap::new(),
                    effective: match &slo.spec.sli {
                        Sli::Metric(MetricSli::Threshold { threshold, .. }) => {
                            Some(EffectiveThreshold::new(*threshold))
                        }
                        _ => None,
                    },
                });
            }
        }
        ids
    }

    /// The increment of a cumulative series (`base`, see [`series_base`]) of `watch`
    /// whose point says (`start`, `time`, `count`, `good`); `None` for a stale point.
    pub(super) fn advance(
        &mut self,
        base: u64,
        watch: Watch,
        p: &Point<'_>,
        good: u64,
    ) -> Option<Inc> {
        let key = series_key(base, watch.id);
        if let Some(t) = &mut self.touched {
            t.push(key);
        }
        self.seq += 1;
        let seq = self.seq;
        let since = watch.since.max(self.baseline_before);
        let inc = increment_of(self.series.get(&key), since, p, good);
        let now = Series {
            watch: watch.id,
            base,
            start: p.start,
            time: p.time,
            count: p.count,
            good,
            seen: seq,
        };
        match self.series.get_mut(&key) {
            None => {
                if self.series.len() >= self.max_series {
                    self.evict();
                }
                self.series.insert(key, now);
            }
            Some(prev) if inc.is_none() => {
                prev.seen = seq;
                self.stats.stale_points += 1;
            }
            Some(prev) => *prev = now,
        }
        inc
    }

    /// Forgets the least recently seen tenth of the series; series first seen from now on
    /// that started no later than one of them are baselines.
    pub(super) fn evict(&mut self) {
        let n = (self.max_series / 10).clamp(1, self.series.len().max(1));
        let mut seen: Vec<u64> = self.series.values().map(|s| s.seen).collect();
        if seen.is_empty() {
            return;
        }
        let (_, cut, _) = seen.select_nth_unstable(n - 1);
        let cut = *cut;
        let before = self.series.len();
        let mut latest_start = 0;
        self.series.retain(|_, s| {
            let keep = s.seen > cut;
            if !keep {
                latest_start = latest_start.max(s.start);
            }
            keep
        });
        self.stats.evicted += (before - self.series.len()) as u64;
        // An evicted series that comes back still has its start time (a restart has a
        // later one and counts in full anyway).
        self.baseline_before = self.baseline_before.max(latest_start.saturating_add(1));
    }
}

/// The increment from `prev` (the series' previous point, if remembered) to point `p`
/// with `good` good events; `None` for a stale point. A series first seen is a baseline
/// (no increment) unless it started at or after `since`.
fn increment_of(prev: Option<&Series>, since: u64, p: &Point<'_>, good: u64) -> Option<Inc> {
    let full = Inc {
        events: p.count,
        good,
        effective: None,
    };
    let Some(prev) = prev else {
        return Some(if p.start != 0 && p.start >= since {
            full
        } else {
            Inc::default()
        });
    };
    let restarted = p.start != 0 && prev.start != 0 && p.start != prev.start;
    if (restarted && p.start < prev.start) || (!restarted && p.time <= prev.time) {
        // An older run's point, or one not newer than the last: already counted.
        return None;
    }
    Some(if restarted || p.count < prev.count {
        full
    } else {
        Inc {
            events: p.count - prev.count,
            // A lower good count without a lower count: an exponential histogram that
            // lost scale; no good events in between rather than a reset.
            good: good.saturating_sub(prev.good),
            effective: None,
        }
    })
}

/// The key of a series in [`Inner::series`]: its base hash and its watch.
pub(super) fn series_key(base: u64, watch: u32) -> u64 {
    let mut h = DefaultHasher::new();
    h.write_u64(base);
    h.write_u32(watch);
    h.finish()
}

/// A hash of fixed inputs through the series hashes: a snapshot whose probe differs was
/// written by a build that hashes series differently, and its series cannot be matched.
pub(super) fn hash_probe() -> u64 {
    let attributes = [KeyValue {
        key: "slotel.probe".into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue("v1".into())),
        }),
        ..Default::default()
    }];
    let mut h = DefaultHasher::new();
    "slotel".hash(&mut h);
    h.write_u64(hash_attributes(&attributes));
    h.write_u64(hash_scope(None));
    h.finish()
}

pub(super) fn hash_value(v: Option<&AnyValue>, h: &mut DefaultHasher) {
    use any_value::Value;
    match v.and_then(|v| v.value.as_ref()) {
        None => h.write_u8(0),
        Some(Value::StringValue(s)) => {
            h.write_u8(1);
            s.hash(h);
        }
        Some(Value::BoolValue(b)) => {
            h.write_u8(2);
            b.hash(h);
        }
        Some(Value::IntValue(i)) => {
            h.write_u8(3);
            i.hash(h);
        }
        Some(Value::DoubleValue(d)) => {
            h.write_u8(4);
            d.to_bits().hash(h);
        }
        Some(Value::BytesValue(b)) => {
            h.write_u8(5);
            b.hash(h);
        }
        Some(Value::ArrayValue(a)) => {
            h.write_u8(6);
            h.write_usize(a.values.len());
            for item in &a.values {
                hash_value(Some(item), h);
            }
        }
        Some(Value::KvlistValue(l)) => {
            h.write_u8(7);
            h.write_u64(hash_attributes(&l.values));
        }
        Some(Value::StringValueStrindex(i)) => {
            h.write_u8(8);
            i.hash(h);
        }
    }
}

/// A hash of an attribute set that does not depend on the order of its keys.
pub(super) fn hash_attributes(attributes: &[KeyValue]) -> u64 {
    attributes.iter().fold(0u64, |acc, kv| {
        let mut h = DefaultHasher::new();
        kv.key.hash(&mut h);
        hash_value(kv.value.as_ref(), &mut h);
        acc.wrapping_add(h.finish())
    })
}

pub(super) fn hash_scope(scope: Option<&InstrumentationScope>) -> u64 {
    let mut h = DefaultHasher::new();
    if let Some(s) = scope {
        s.name.hash(&mut h);
        s.version.hash(&mut h);
    }
    h.finish()
}

/// The series of a point, before the watch: name, data kind, scope, resource, attributes.
pub(super) fn series_base(
    name: &str,
    kind: u8,
    scope: u64,
    rcx: &ResourceCx<'_>,
    attributes: &[KeyValue],
) -> u64 {
    let mut h = DefaultHasher::new();
    name.hash(&mut h);
    h.write_u8(kind);
    h.write_u64(scope);
    h.write_u64(rcx.hash);
    h.write_u64(hash_attributes(attributes));
    h.finish()
}

/// A cumulative series as written to snapshots: its watch by name (and threshold), not
/// by the run's watch id.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeriesRecord {
    pub name: String,
    /// `f64::to_bits` of the threshold; `None` for a count.
    pub threshold: Option<u64>,
    pub base: u64,
    pub start: u64,
    pub time: u64,
    pub count: u64,
    pub good: u64,
}

impl SeriesRecord {
    fn of(watch: &WatchKey, s: &Series) -> Self {
        Self {
            name: watch.name.clone(),
            threshold: watch.threshold,
            base: s.base,
            start: s.start,
            time: s.time,
            count: s.count,
            good: s.good,
        }
    }
}

impl Inner {
    /// The remembered series, least recently seen first.
    pub(super) fn export_series(&self) -> Vec<SeriesRecord> {
        let names: HashMap<u32, &WatchKey> = self.watched.iter().map(|(k, w)| (w.id, k)).collect();
        let mut series: Vec<&Series> = self.series.values().collect();
        series.sort_by_key(|s| s.seen);
        series
            .into_iter()
            .filter_map(|s| {
                let watch = names.get(&s.watch)?;
                Some(SeriesRecord::of(watch, s))
            })
            .collect()
    }

    /// The series of `keys` (as advanced by a request) still remembered.
    pub(super) fn export_touched(&self, mut keys: Vec<u64>) -> Vec<SeriesRecord> {
        keys.sort_unstable();
        keys.dedup();
        let names: HashMap<u32, &WatchKey> = self.watched.iter().map(|(k, w)| (w.id, k)).collect();
        keys.iter()
            .filter_map(|k| {
                let s = self.series.get(k)?;
                let watch = names.get(&s.watch)?;
                Some(SeriesRecord::of(watch, s))
            })
            .collect()
    }

    /// Remembers series written by [`Inner::export_series`] (up to the series cap). Their
    /// watches start as slotel's first ones do; watches no loaded SLO reads are forgotten
    /// at the next request, with their series.
    pub(super) fn import_series(&mut self, records: Vec<SeriesRecord>) -> usize {
        let since = self.started;
        let mut restored = 0;
        for r in records {
            if self.series.len() >= self.max_series {
                break;
            }
            let key = WatchKey {
                name: r.name,
                threshold: r.threshold,
            };
            let next = &mut self.next_watch;
            let watch = *self.watched.entry(key).or_insert_with(|| {
                *next = next.wrapping_add(1);
                Watch { id: *next, since }
            });
            self.seq += 1;
            let series = Series {
                watch: watch.id,
                base: r.base,
                start: r.start,
                time: r.time,
                count: r.count,
                good: r.good,
                seen: self.seq,
            };
            if self
                .series
                .insert(series_key(r.base, watch.id), series)
                .is_none()
            {
                restored += 1;
            }
        }
        restored
    }
}
