//! Engine state on disk, so SLO windows survive restarts.
//!
//! One JSON file, `slo-state.json`, in the state directory: a format version, then per SLO
//! (by service, name and a fingerprint of its definition) every group's lifetime counters
//! and window slots with their sparse histograms, the open time slices of timeslice SLOs,
//! and the metric path's memory (the last point of every cumulative series, carries).
//! It is written to a temporary file, synced and renamed over the old one, so a crash
//! leaves either the old or the new snapshot. The metric path is locked while the SLOs'
//! states are written, so series and windows are of the same moment.
//!
//! Versions: 3 is written. 2 (before calendar windows, time slices and metric series) is
//! still read: its calendar-window SLOs start empty (their windows were rolling then),
//! timeslice SLOs restore their events and start their slices afresh, and cumulative
//! metric series start from a baseline. A snapshot that cannot be read or has another
//! version is moved aside (`slo-state.json.corrupt-<unix seconds>`), an error is logged,
//! and slotel starts empty. SLOs whose definition changed since the snapshot start empty
//! too.
//!
//! A snapshot that parses is still checked before anything of it is used ([`check`]), and
//! moved aside the same way when it fails: the file is at most [`MAX_FILE_BYTES`]; it was
//! not written in the future; every slot id, time slice and cumulative series time lies
//! no later than now plus `max_future` (a slot id far ahead would make every ring treat
//! today's events as too old, freezing the windows at zero for good); good counts are
//! within their totals (the signed slots of ratio metric SLIs excepted) and no sum of
//! counts overflows; a window has at most its ring's slots, a slot at most
//! [`MAX_SLOT_BUCKETS`] latency buckets, an SLO at most `max_groups` + 1 groups, a group at
//! most [`MAX_OPEN_SLICES`] open slices. Slots older than a ring are harmless and ignored.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::metrics::MetricSnapshot;
use super::native::NativeHist;
use super::slices::Slices;
use super::state::{GroupKey, GroupState, SloState};
use super::window::{self, Counts, Ring};
use super::{Engine, LoadedSlo};
use crate::slo::spec::{MetricSli, Sli, SloWindow};

/// The format version written today.
pub const VERSION: u32 = 3;
/// The versions read: today's, and 2 (see the module doc).
const READS: [u32; 2] = [2, VERSION];
const FILE: &str = "slo-state.json";
/// A larger snapshot file is not read (it is moved aside).
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;
/// Latency buckets a snapshot's slot may hold (the HDR geometry has about 23 000).
pub const MAX_SLOT_BUCKETS: usize = 32_768;
/// Open time slices a snapshot's group may hold (as many as a group keeps).
pub const MAX_OPEN_SLICES: usize = 4_096;

type Slots = Vec<super::window::SlotRecord>;

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    written_unix_nanos: u64,
    slos: Vec<SloEntry>,
    /// Since version 3.
    #[serde(default)]
    metrics: MetricSnapshot,
}

#[derive(Serialize, Deserialize)]
struct SloEntry {
    service: String,
    name: String,
    fingerprint: String,
    groups: Vec<GroupEntry>,
    /// The slices of `all` (timeslice SLOs, since version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    all_slices: Option<SlicesEntry>,
}

#[derive(Serialize, Deserialize)]
struct GroupEntry {
    cluster: String,
    extra: Vec<String>,
    good: u64,
    total: u64,
    rings: Vec<Slots>,
    /// Timeslice SLOs, since version 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    slices: Option<SlicesEntry>,
    /// Lifetime latencies (`slotel_slo_latency_seconds`), since version 3.
    #[serde(default, skip_serializing_if = "NativeHist::is_empty")]
    native: NativeHist,
}

/// Open time slices and the bad slices counted in each ring.
#[derive(Serialize, Deserialize)]
struct SlicesEntry {
    since: Option<u64>,
    settled: u64,
    newest: u64,
    /// (slice index, good, total)
    open: Vec<(u64, i64, u64)>,
    /// Per ring: (slot id, bad slices).
    bad: Vec<Vec<(u64, u32)>>,
}

fn slices_entry(s: &Slices, rings: &[Ring]) -> SlicesEntry {
    SlicesEntry {
        since: s.since,
        settled: s.settled,
        newest: s.newest,
        open: s.open.iter().map(|(i, (g, t))| (*i, *g, *t)).collect(),
        bad: rings.iter().map(Ring::export_slices).collect(),
    }
}

fn restore_slices(s: &mut Slices, rings: &mut [Ring], e: &SlicesEntry) {
    s.since = e.since;
    s.settled = e.settled;
    s.newest = e.newest;
    s.open = e.open.iter().map(|(i, g, t)| (*i, (*g, *t))).collect();
    for (ring, bad) in rings.iter_mut().zip(&e.bad) {
        ring.import_slices(bad);
    }
}

/// Why a snapshot could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot write slo state to {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode slo state: {0}")]
    Encode(#[from] serde_json::Error),
}

fn fingerprint(slo: &LoadedSlo) -> String {
    let s = &slo.spec;
    format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{:?}",
        s.objective, s.window, s.budgeting, s.group_by, s.percentiles, s.sli
    )
}

fn group_entry(key: &GroupKey, g: &GroupState) -> GroupEntry {
    GroupEntry {
        cluster: key.cluster.clone(),
        extra: key.extra.clone(),
        good: g.lifetime.good,
        total: g.lifetime.total,
        rings: g.rings.iter().map(|r| r.export()).collect(),
        slices: g.slices.as_ref().map(|s| slices_entry(s, &g.rings)),
        native: g.native.clone(),
    }
}

fn restore_group(state: &SloState, e: &GroupEntry) -> Option<GroupState> {
    if e.rings.len() != state.windows.len() {
        return None;
    }
    let mut g = state.new_group();
    for (ring, slots) in g.rings.iter_mut().zip(&e.rings) {
        ring.import(slots);
    }
    g.lifetime = Counts {
        good: e.good,
        total: e.total,
    };
    // An inconsistent histogram starts again empty rather than corrupting merges.
    if e.native.is_valid() {
        g.native = e.native.clone();
    }
    if let (Some(s), Some(entry)) = (&mut g.slices, &e.slices) {
        restore_slices(s, &mut g.rings, entry);
    }
    Some(g)
}

/// Writes the engine's state under `dir`.
pub fn write(engine: &Engine, dir: &Path) -> Result<(), SnapshotError> {
    let (metrics, slos) = engine.with_metric_snapshot(|| {
        engine
            .slos()
            .iter()
            .map(|slo| {
                let state = slo.state();
                let mut groups: Vec<_> = state.groups.iter().collect();
                groups.sort_by(|a, b| a.0.cmp(b.0));
                SloEntry {
                    service: slo.spec.service.clone(),
                    name: slo.spec.name.clone(),
                    fingerprint: fingerprint(slo),
                    groups: groups.into_iter().map(|(k, g)| group_entry(k, g)).collect(),
                    all_slices: state
                        .all_slices
                        .as_ref()
                        .map(|a| slices_entry(&a.slices, &a.rings)),
                }
            })
            .collect()
    });
    let file = File {
        version: VERSION,
        written_unix_nanos: engine.now_nanos(),
        slos,
        metrics,
    };
    let body = serde_json::to_vec(&file)?;
    let path = dir.join(FILE);
    let tmp = dir.join(format!("{FILE}.tmp"));
    let io = |source| SnapshotError::Write {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(&body).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok(())
}

/// What [`restore`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// SLOs whose state was restored.
    pub slos: usize,
    /// SLOs in the snapshot that are no longer loaded or changed definition (or, from a
    /// version 2 snapshot, have a calendar window).
    pub skipped: usize,
    /// Cumulative metric series restored.
    pub series: usize,
}

/// Restores state from `dir` into the engine's loaded SLOs. A missing snapshot is not an
/// error; an unreadable or invalid one (see [`check`]) is moved aside and reported in the
/// log, and nothing of it is used.
pub fn restore(engine: &Engine, dir: &Path) -> Restored {
    let path = dir.join(FILE);
    let bytes = match read_bounded(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Restored::default(),
        Err(e) => {
            set_aside(&path, &format!("cannot read it: {e}"));
            return Restored::default();
        }
    };
    let file: File = match serde_json::from_slice(&bytes) {
        Ok(f) => f,
        Err(e) => {
            set_aside(&path, &format!("cannot parse it: {e}"));
            return Restored::default();
        }
    };
    drop(bytes);
    if !READS.contains(&file.version) {
        set_aside(
            &path,
            &format!(
                "it has format version {}, this slotel reads {READS:?}",
                file.version
            ),
        );
        return Restored::default();
    }
    let loaded = engine.slos();
    let matches: Vec<Option<Arc<LoadedSlo>>> = file
        .slos
        .iter()
        .map(|entry| {
            loaded
                .iter()
                .find(|s| {
                    s.spec.service == entry.service
                        && s.spec.name == entry.name
                        && fingerprint(s) == entry.fingerprint
                        && (file.version >= 3
                            || !matches!(s.spec.window, SloWindow::Calendar { .. }))
                })
                .cloned()
        })
        .collect();
    let limit = engine
        .now_nanos()
        .saturating_add(engine.cfg.max_future.as_nanos() as u64);
    if let Err(e) = check(&file, &matches, limit) {
        set_aside(&path, &e.to_string());
        return Restored::default();
    }
    let mut restored = Restored::default();
    let mut matched = Vec::new();
    for (entry, slo) in file.slos.into_iter().zip(matches) {
        let Some(slo) = slo else {
            restored.skipped += 1;
            continue;
        };
        matched.push(slo.clone());
        let mut state = slo.state();
        if let (Some(a), Some(e)) = (&mut state.all_slices, &entry.all_slices) {
            restore_slices(&mut a.slices, &mut a.rings, e);
        }
        for g in &entry.groups {
            if let Some(gs) = restore_group(&state, g) {
                let key = GroupKey {
                    cluster: g.cluster.clone(),
                    extra: g.extra.clone(),
                };
                if state.groups.len() < state.max_groups + 1 {
                    state.groups.insert(key, gs);
                }
            }
        }
        restored.slos += 1;
    }
    restored.series = engine.restore_metrics(file.metrics, &matched);
    restored
}

/// Reads a file of at most [`MAX_FILE_BYTES`].
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "it is larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

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
fn check(
    file: &File,
    matches: &[Option<Arc<LoadedSlo>>],
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

fn set_aside(path: &Path, why: &str) {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let aside = path.with_file_name(format!("{FILE}.corrupt-{stamp}"));
    let moved = std::fs::rename(path, &aside);
    tracing::error!(
        snapshot = %path.display(),
        moved_to = %aside.display(),
        moved = moved.is_ok(),
        reason = why,
        "slo state snapshot is unusable; starting with empty slo state"
    );
}
