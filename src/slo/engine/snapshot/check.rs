//! The checks a parsed snapshot passes before anything of it is used (see the parent
//! module's doc for the rules).

use super::{File, LoadedSlo, MAX_OPEN_SLICES, MAX_SLOT_BUCKETS, SlicesEntry, SloEntry};
use crate::slo::engine::window;
use crate::slo::spec::{MetricSli, Sli};

/// Why a snapshot that parses cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InvalidSnapshot {
    #[error("it was written at {written} ns, after now plus max_future ({limit} ns)")]
    WrittenInFuture { written: u64, limit: u64 },
    #[error("slo {slo}: {what} {value} lies after now plus max_future ({limit})")]
    InFuture {
        slo: String,
        what: &'static str,
        value: u64,
        limit: u64,
    },
    #[error("slo {slo}: {what}")]
    Counts { slo: String, what: &'static str },
    #[error("slo {slo}: {what} ({count}, at most {max})")]
    TooMany {
        slo: String,
        what: &'static str,
        count: usize,
        max: usize,
    },
    #[error("metric series {name}: {what}")]
    Series { name: String, what: &'static str },
}

/// Checks a parsed snapshot against its loaded SLOs (`matches`, in the order of
/// `file.slos`; `None` for an SLO no longer loaded, whose entry is not used) and against
/// `limit`, now plus `max_future` in Unix nanoseconds. See the module doc for the rules.
pub(super) fn check(
    file: &File,
    matches: &[Option<std::sync::Arc<LoadedSlo>>],
    limit: u64,
) -> Result<(), InvalidSnapshot> {
    if file.written_unix_nanos > limit {
        return Err(InvalidSnapshot::WrittenInFuture {
            written: file.written_unix_nanos,
            limit,
        });
    }
    for (entry, slo) in file.slos.iter().zip(matches) {
        let Some(slo) = slo else { continue };
        check_slo(entry, slo, limit)?;
    }
    for s in &file.metrics.series {
        let what = if s.time > limit {
            "time after now plus max_future"
        } else if s.start > s.time {
            "start after time"
        } else if s.good > s.count {
            "good count above count"
        } else {
            continue;
        };
        return Err(InvalidSnapshot::Series {
            name: s.name.clone(),
            what,
        });
    }
    Ok(())
}

fn check_slo(entry: &SloEntry, slo: &LoadedSlo, limit: u64) -> Result<(), InvalidSnapshot> {
    let id = || format!("{}/{}", entry.service, entry.name);
    let state = slo.state().new_group();
    // Ring slot ids at `limit`: no slot may be newer.
    let newest: Vec<u64> = state.rings.iter().map(|r| r.slot_id(limit)).collect();
    // Ratio metric SLIs keep signed good counts that may run ahead of their totals.
    let signed = matches!(slo.spec.sli, Sli::Metric(MetricSli::Ratio { .. }));
    let max_groups = slo.spec.max_groups.max(1) + 1;
    if entry.groups.len() > max_groups {
        return Err(InvalidSnapshot::TooMany {
            slo: id(),
            what: "groups",
            count: entry.groups.len(),
            max: max_groups,
        });
    }
    let counts = |what| InvalidSnapshot::Counts { slo: id(), what };
    let future = |what, value| InvalidSnapshot::InFuture {
        slo: id(),
        what,
        value,
        limit,
    };
    let slices = |e: &SlicesEntry, slice_nanos: u64| -> Result<(), InvalidSnapshot> {
        let last = limit / slice_nanos.max(1);
        if e.open.len() > MAX_OPEN_SLICES {
            return Err(InvalidSnapshot::TooMany {
                slo: id(),
                what: "open time slices",
                count: e.open.len(),
                max: MAX_OPEN_SLICES,
            });
        }
        if e.newest > limit {
            return Err(future("newest time slice event", e.newest));
        }
        for (what, v) in [
            ("settled time slice", Some(e.settled)),
            ("first time slice", e.since),
        ]
        .into_iter()
        .chain(e.open.iter().map(|(i, _, _)| ("open time slice", Some(*i))))
        {
            if let Some(v) = v
                && v > last + 1
            {
                return Err(future(what, v));
            }
        }
        if e.bad.len() > newest.len() {
            return Err(counts("more rings of bad time slices than windows"));
        }
        for (ring, newest) in e.bad.iter().zip(&newest) {
            if ring.len() > window::RING {
                return Err(counts("more slots of bad time slices than a ring holds"));
            }
            if let Some((id, _)) = ring.iter().find(|(id, _)| id > newest) {
                return Err(future("bad time slice slot", *id));
            }
        }
        Ok(())
    };
    let slice_nanos = slo.state().slice_cfg.map(|c| c.slice_nanos);
    if let (Some(e), Some(n)) = (&entry.all_slices, slice_nanos) {
        slices(e, n)?;
    }
    if entry.cluster_slices.len() > max_groups {
        return Err(InvalidSnapshot::TooMany {
            slo: id(),
            what: "clusters with time slices",
            count: entry.cluster_slices.len(),
            max: max_groups,
        });
    }
    if let Some(n) = slice_nanos {
        for (_, e) in &entry.cluster_slices {
            slices(e, n)?;
        }
    }
    for g in &entry.groups {
        if g.good > g.total {
            return Err(counts("lifetime good count above its total"));
        }
        if let (Some(e), Some(n)) = (&g.slices, slice_nanos) {
            slices(e, n)?;
        }
        for (slots, newest) in g.rings.iter().zip(&newest) {
            if slots.len() > window::RING {
                return Err(InvalidSnapshot::TooMany {
                    slo: id(),
                    what: "slots in a window",
                    count: slots.len(),
                    max: window::RING,
                });
            }
            let mut ring_total = 0u64;
            for (slot, good, total, buckets) in slots {
                if slot > newest {
                    return Err(future("window slot", *slot));
                }
                if !signed && (*good < 0 || good.unsigned_abs() > *total) {
                    return Err(counts("slot good count outside 0..=total"));
                }
                ring_total = ring_total
                    .checked_add(*total)
                    .ok_or_else(|| counts("window totals overflow"))?;
                if buckets.len() > MAX_SLOT_BUCKETS {
                    return Err(InvalidSnapshot::TooMany {
                        slo: id(),
                        what: "latency buckets in a slot",
                        count: buckets.len(),
                        max: MAX_SLOT_BUCKETS,
                    });
                }
                buckets
                    .iter()
                    .try_fold(0u64, |acc, (_, c)| acc.checked_add(*c))
                    .ok_or_else(|| counts("latency bucket counts overflow"))?;
            }
            if ring_total > g.total {
                return Err(counts("a window holds more events than the lifetime total"));
            }
        }
    }
    Ok(())
}
