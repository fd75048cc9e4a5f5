//! Engine state on disk, so SLO windows survive restarts.
//!
//! One JSON file, `slo-state.json`, in the state directory: a format version, then per SLO
//! (by service, name and a fingerprint of its definition) every group's lifetime counters,
//! lifetime latencies (native and classic buckets) and window slots with their sparse
//! histograms (and the raw span counts of sampled span SLIs), the open time slices of timeslice SLOs (of each group, of `all` and of each
//! cluster's roll-up), and the metric path's memory (the last point of every cumulative
//! series, carries). Classic latency buckets missing from a snapshot, or over other
//! bounds, are rebuilt from the native buckets (within their 0.27% width).
//! It is written to a temporary file, synced and renamed over the old one, so a crash
//! leaves either the old or the new snapshot. The metric path is locked while the SLOs'
//! states are written, so series and windows are of the same moment.
//!
//! An SLO's definition is known by its structural fingerprint ([`Slo::fingerprint`]): the
//! same definition however its file is written, on any build or machine.
//!
//! Versions: 4 is written. 3 and 2 (before structural fingerprints) are still read: their
//! entries carry the definition's former `Debug` text, which is computed again for each
//! loaded SLO (once, see [`legacy`]) to match them, so an upgrade keeps every SLO's
//! state; the next snapshot is written in version 4. From 2 (before calendar windows, time
//! slices and metric series), calendar-window SLOs start empty (their windows were rolling
//! then), timeslice SLOs restore their events and start their slices afresh, and
//! cumulative metric series start from a baseline. A snapshot that cannot be read or has
//! another version is moved aside (`slo-state.json.corrupt-<unix seconds>`), an error is
//! logged, and slotel starts empty. SLOs whose definition changed since the snapshot start
//! empty too (counted as skipped, and named in a warning when the snapshot was of an
//! older version).
//!
//! A snapshot that parses is still checked before anything of it is used ([`check`]), and
//! moved aside the same way when it fails: the file is at most [`MAX_FILE_BYTES`]; it was
//! not written in the future; every slot id, time slice and cumulative series time lies
//! no later than now plus `max_future` (a slot id far ahead would make every ring treat
//! today's events as too old, freezing the windows at zero for good); good counts are
//! within their totals (the signed slots of ratio metric SLIs excepted) and no sum of
//! counts overflows; a window has at most its ring's slots, a slot at most
//! [`MAX_SLOT_BUCKETS`] latency buckets, an SLO at most `max_groups` + 1 groups (and as
//! many clusters with slices), a group or cluster at most [`MAX_OPEN_SLICES`] open slices.
//! Slots older than a ring are harmless and ignored.

mod check;
mod legacy;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::metrics::MetricSnapshot;
use super::native::NativeHist;
use super::slices::Slices;
use super::state::{GroupKey, GroupState, SloState};
use super::window::{Counts, Ring};
use super::{Engine, LoadedSlo};
use crate::slo::spec::{Slo, SloWindow};
pub use check::InvalidSnapshot;
use check::check;

/// The format version written today.
pub const VERSION: u32 = 4;
/// The first version with structural fingerprints.
const STRUCTURAL: u32 = 4;
/// The versions read: today's, and 2 and 3 (see the module doc).
const READS: [u32; 3] = [2, 3, VERSION];
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
    /// The write-ahead log's position when the state was copied: everything logged
    /// before it is in this snapshot, nothing after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wal_position: Option<u64>,
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
    /// The slices of each cluster's roll-up (grouped timeslice SLOs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    cluster_slices: Vec<(String, SlicesEntry)>,
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
    /// Lifetime latencies in the SLO's classic buckets; rebuilt from `native` when absent
    /// or of another length.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    classic: Vec<u64>,
    /// Raw span counts per ring (span SLIs once a sampled span came; see `sampled.rs`);
    /// absent: the same as the counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    raw: Option<Vec<Slots>>,
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

/// What a snapshot knows an SLO's definition by.
fn fingerprint(slo: &Slo) -> String {
    slo.fingerprint().hex()
}

pub(super) use legacy::log_ids as legacy_log_ids;

/// Tests: `file`, a snapshot of `engine`'s SLOs, as format `version` (2 or 3) wrote it,
/// with the former fingerprints.
#[cfg(test)]
pub(super) fn as_former_version(file: &mut serde_json::Value, version: u32, engine: &Engine) {
    file["version"] = version.into();
    let slos = engine.slos();
    for entry in file["slos"].as_array_mut().into_iter().flatten() {
        let slo = slos.iter().find(|s| {
            entry["service"] == s.spec.service.as_str() && entry["name"] == s.spec.name.as_str()
        });
        if let Some(slo) = slo {
            entry["fingerprint"] = legacy::debug_text(&slo.spec).into();
        }
    }
}

fn group_entry(key: &GroupKey, g: &GroupState) -> GroupEntry {
    GroupEntry {
        cluster: key.cluster.clone(),
        extra: key.extra.clone(),
        good: g.lifetime.good,
        total: g.lifetime.total,
        rings: g.rings.iter().map(|r| r.export()).collect(),
        slices: g.slices.as_ref().map(|s| slices_entry(s, &g.rings)),
        native: g.native.get().into_owned(),
        classic: g.classic.counts.clone(),
        raw: g.sampled.as_ref().map(|s| s.export()),
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
        g.native.set(e.native.clone());
    }
    if !state.latency_bounds.is_empty() {
        let native = g.native.get();
        let exact = e.classic.len() == state.latency_bounds.len() + 1
            && e.classic.iter().try_fold(0u64, |a, c| a.checked_add(*c)) == Some(native.count);
        g.classic.counts = if exact {
            e.classic.clone()
        } else {
            native.classic(&state.latency_bounds)
        };
    }
    if let (Some(s), Some(entry)) = (&mut g.slices, &e.slices) {
        restore_slices(s, &mut g.rings, entry);
    }
    if let Some(raw) = &e.raw {
        g.restore_raw(raw);
    }
    Some(g)
}

/// Writes the engine's state under `dir`.
///
/// With the write-ahead log, no request is recorded while the state is copied, and the
/// snapshot records the log position it holds; once the file is durable, the log before
/// it is dropped.
pub fn write(engine: &Engine, dir: &Path) -> Result<(), SnapshotError> {
    let frozen = engine.wal().map(|w| w.freeze());
    let wal_position = frozen.as_ref().map(|f| f.position);
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
                    fingerprint: fingerprint(&slo.spec),
                    groups: groups.into_iter().map(|(k, g)| group_entry(k, g)).collect(),
                    all_slices: state
                        .all_slices
                        .as_ref()
                        .map(|a| slices_entry(&a.slices, &a.rings)),
                    cluster_slices: {
                        let mut c: Vec<_> = state
                            .cluster_slices
                            .iter()
                            .flatten()
                            .map(|(k, a)| (k.clone(), slices_entry(&a.slices, &a.rings)))
                            .collect();
                        c.sort_by(|a, b| a.0.cmp(&b.0));
                        c
                    },
                }
            })
            .collect()
    });
    drop(frozen);
    let file = File {
        version: VERSION,
        written_unix_nanos: engine.now_nanos(),
        slos,
        metrics,
        wal_position,
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
    // The rename must be durable before the log it covers is dropped.
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    if let (Some(w), Some(p)) = (engine.wal(), wal_position) {
        w.covered(p);
    }
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
    /// Where the write-ahead log's replay starts (0 without a snapshot, or one written
    /// without the log).
    pub wal_position: u64,
}

/// Restores state from `dir` into the engine's loaded SLOs. A missing snapshot is not an
/// error; an unreadable or invalid one (see [`check`]) is moved aside and reported in the
/// log, and nothing of it is used.
pub fn restore(engine: &Engine, dir: &Path) -> Restored {
    let path = dir.join(FILE);
    // Only a regular file of at most `MAX_FILE_BYTES` is read: a FIFO (which would block
    // start-up), a device or a larger file is unusable, and moved aside like a damaged one.
    let bytes = match crate::regular_file::read(&path, MAX_FILE_BYTES) {
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
    let matches = match_entries(&file, &loaded);
    let limit = engine
        .now_nanos()
        .saturating_add(crate::unix_time::nanos(engine.cfg.max_future));
    if let Err(e) = check(&file, &matches, limit) {
        set_aside(&path, &e.to_string());
        return Restored::default();
    }
    let mut restored = Restored {
        wal_position: file.wal_position.unwrap_or(0),
        ..Restored::default()
    };
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
        if let Some(cfg) = state.slice_cfg {
            let windows = state.windows.clone();
            let limit = state.max_groups + 1;
            if let Some(map) = &mut state.cluster_slices {
                for (cluster, e) in entry.cluster_slices.iter().take(limit) {
                    let a = map
                        .entry(cluster.clone())
                        .or_insert_with(|| super::state::AllSlices::new(cfg, &windows));
                    restore_slices(&mut a.slices, &mut a.rings, e);
                }
            }
        }
        for g in &entry.groups {
            if let Some(gs) = restore_group(&state, g) {
                let key = GroupKey {
                    cluster: g.cluster.clone(),
                    extra: g.extra.clone(),
                };
                if state.groups.len() < state.max_groups + 1 {
                    state.restore_group(key, gs);
                }
            }
        }
        restored.slos += 1;
    }
    restored.series = engine.restore_metrics(file.metrics, &matched);
    if file.version < STRUCTURAL {
        tracing::info!(
            version = file.version,
            slos = restored.slos,
            skipped = restored.skipped,
            "slo state snapshot of an older format read; the next one is written in format {VERSION}"
        );
    }
    restored
}

/// The loaded SLO of each entry of `file`, if any: same service and name, same
/// definition. Entries of versions before 4 are matched by the definition's former text
/// ([`legacy`]), computed once per loaded SLO; a version 2 entry never matches a calendar
/// window.
fn match_entries(file: &File, loaded: &[Arc<LoadedSlo>]) -> Vec<Option<Arc<LoadedSlo>>> {
    let structural = file.version >= STRUCTURAL;
    let keys: Vec<String> = loaded
        .iter()
        .map(|s| {
            if structural {
                fingerprint(&s.spec)
            } else {
                legacy::snapshot_key(&s.spec)
            }
        })
        .collect();
    file.slos
        .iter()
        .map(|entry| {
            let stored = if structural {
                std::borrow::Cow::Borrowed(entry.fingerprint.as_str())
            } else {
                std::borrow::Cow::Owned(legacy::normalize(&entry.fingerprint))
            };
            let found = loaded.iter().zip(&keys).find(|(s, key)| {
                s.spec.service == entry.service
                    && s.spec.name == entry.name
                    && **key == *stored
                    && (file.version >= 3 || !matches!(s.spec.window, SloWindow::Calendar { .. }))
            });
            if found.is_none() && !structural {
                tracing::warn!(
                    service = %entry.service,
                    name = %entry.name,
                    version = file.version,
                    "slo state snapshot: no loaded slo has this slo's definition; its state is not restored"
                );
            }
            found.map(|(s, _)| s.clone())
        })
        .collect()
}

fn set_aside(path: &Path, why: &str) {
    let (aside, moved) = crate::regular_file::set_aside(path);
    tracing::error!(
        snapshot = %path.display(),
        moved_to = %aside.display(),
        moved = moved.is_ok(),
        reason = why,
        "slo state snapshot is unusable; starting with empty slo state"
    );
}
