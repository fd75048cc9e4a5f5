//! Engine state on disk, so SLO windows survive restarts.
//!
//! One JSON file, `slo-state.json`, in the state directory: a format version, then per SLO
//! (by service, name and a fingerprint of its definition) every group's lifetime counters
//! and window slots with their sparse histograms. It is written to a temporary file, synced
//! and renamed over the old one, so a crash leaves either the old or the new snapshot.
//! A snapshot that cannot be read or has another version is moved aside
//! (`slo-state.json.corrupt-<unix seconds>`), an error is logged, and slotel starts empty.
//! SLOs whose definition changed since the snapshot start empty too.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::state::{GroupKey, GroupState, SloState};
use super::window::Counts;
use super::{Engine, LoadedSlo};

/// The format version written today.
pub const VERSION: u32 = 2;
const FILE: &str = "slo-state.json";

type Slots = Vec<super::window::SlotRecord>;

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    written_unix_nanos: u64,
    slos: Vec<SloEntry>,
}

#[derive(Serialize, Deserialize)]
struct SloEntry {
    service: String,
    name: String,
    fingerprint: String,
    groups: Vec<GroupEntry>,
}

#[derive(Serialize, Deserialize)]
struct GroupEntry {
    cluster: String,
    extra: Vec<String>,
    good: u64,
    total: u64,
    rings: Vec<Slots>,
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
    }
}

fn restore_group(state: &SloState, e: &GroupEntry) -> Option<GroupState> {
    if e.rings.len() != state.windows.len() {
        return None;
    }
    let mut g = GroupState::new(&state.windows);
    for (ring, slots) in g.rings.iter_mut().zip(&e.rings) {
        ring.import(slots);
    }
    g.lifetime = Counts {
        good: e.good,
        total: e.total,
    };
    Some(g)
}

/// Writes the engine's state under `dir`.
pub fn write(engine: &Engine, dir: &Path) -> Result<(), SnapshotError> {
    let slos = engine
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
            }
        })
        .collect();
    let file = File {
        version: VERSION,
        written_unix_nanos: engine.now_nanos(),
        slos,
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
    /// SLOs in the snapshot that are no longer loaded or changed definition.
    pub skipped: usize,
}

/// Restores state from `dir` into the engine's loaded SLOs. A missing snapshot is not an
/// error; an unreadable one is moved aside and reported in the log.
pub fn restore(engine: &Engine, dir: &Path) -> Restored {
    let path = dir.join(FILE);
    let bytes = match std::fs::read(&path) {
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
    if file.version != VERSION {
        set_aside(
            &path,
            &format!(
                "it has format version {}, this slotel reads {VERSION}",
                file.version
            ),
        );
        return Restored::default();
    }
    let mut restored = Restored::default();
    let loaded = engine.slos();
    for entry in file.slos {
        let Some(slo) = loaded.iter().find(|s| {
            s.spec.service == entry.service
                && s.spec.name == entry.name
                && fingerprint(s) == entry.fingerprint
        }) else {
            restored.skipped += 1;
            continue;
        };
        let mut state = slo.state();
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
    restored
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
