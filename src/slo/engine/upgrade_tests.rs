//! An upgrade keeps every SLO's state: the state directory of `testdata/slo-state-v3/`
//! was written by slotel before structural fingerprints (commit 43739dc, snapshot format
//! version 3, `SLW1` log frames; see `generate.sh` there), with what that slotel's
//! `/api/v1/slos` reported just before it was killed (`expected.json`). Restored and
//! replayed by this slotel, every SLO counts what it counted then.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::wal::Wal;
use super::{Engine, EngineConfig, ManualClock, snapshot};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/slo-state-v3")
}

/// A copy of the fixture's state directory (restoring may move files, the log writes).
fn state_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = fixture().join("state");
    std::fs::copy(
        from.join("slo-state.json"),
        dir.path().join("slo-state.json"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("slo-wal")).unwrap();
    for e in std::fs::read_dir(from.join("slo-wal")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join("slo-wal").join(e.file_name())).unwrap();
    }
    dir
}

fn snapshot_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("slo-state.json")).unwrap()).unwrap()
}

/// An engine of the fixture's SLOs, its clock a minute after the snapshot was written
/// (within every window of the events it holds).
fn engine(written: u64) -> Arc<Engine> {
    // The path the fixture was written with (from the repository's root, where tests run).
    let set = crate::slo::spec::load(&["testdata/slo-state-v3/slos.yaml".to_string()], false)
        .expect("fixture slos load");
    let clock = Arc::new(ManualClock::new(written + 60_000_000_000));
    Engine::new(EngineConfig::default(), clock, set)
}

type Counts = BTreeMap<(String, String, String), (u64, u64)>;

/// (name, cluster, group) → (total, good) of a `/api/v1/slos` body.
fn counts(status: &serde_json::Value) -> Counts {
    status
        .as_array()
        .expect("a list of slos")
        .iter()
        .map(|s| {
            let text = |k: &str| s[k].as_str().unwrap_or_default().to_string();
            let group = s.get("group").map(|g| g.to_string()).unwrap_or_default();
            (
                (text("name"), text("cluster"), group),
                (s["total"].as_u64().unwrap(), s["good"].as_u64().unwrap()),
            )
        })
        .collect()
}

#[test]
fn a_version_3_snapshot_and_slw1_log_are_restored_whole() {
    let dir = state_copy();
    let old = snapshot_json(dir.path());
    assert_eq!(old["version"], 3);
    let written = old["written_unix_nanos"].as_u64().unwrap();
    let e = engine(written);
    let restored = snapshot::restore(&e, dir.path());
    assert_eq!((restored.slos, restored.skipped), (6, 0), "{restored:?}");
    let (wal, replayed) = Wal::open(&e, dir.path(), 64 << 20, restored.wal_position).unwrap();
    assert!(replayed.applied > 0 && replayed.former_frames == replayed.applied);
    assert_eq!(replayed.unknown_slo, 0, "{replayed:?}");

    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture().join("expected.json")).unwrap()).unwrap();
    let mut want = counts(&expected["slos"]);
    // That slotel never matched `api-latency` (an `IsMatch` condition) with its own
    // snapshot: its report lacks the snapshot's events, which this one restores.
    let entry = old["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "api-latency")
        .unwrap();
    for g in entry["groups"].as_array().unwrap() {
        let (total, good) = (g["total"].as_u64().unwrap(), g["good"].as_u64().unwrap());
        for cluster in [g["cluster"].as_str().unwrap(), "all"] {
            let c = want
                .get_mut(&("api-latency".into(), cluster.into(), String::new()))
                .unwrap();
            *c = (c.0 + total, c.1 + good);
        }
    }
    let got = counts(&serde_json::to_value(e.status()).unwrap());
    assert_eq!(got, want);
    assert!(want.values().all(|(total, _)| *total > 0));

    // The next snapshot is of today's version, and restores the same numbers.
    snapshot::write(&e, dir.path()).unwrap();
    drop(wal);
    assert_eq!(snapshot_json(dir.path())["version"], snapshot::VERSION);
    let again = engine(written);
    let r = snapshot::restore(&again, dir.path());
    assert_eq!((r.slos, r.skipped), (6, 0));
    let (_wal, replayed) = Wal::open(&again, dir.path(), 64 << 20, r.wal_position).unwrap();
    assert_eq!(replayed.unknown_slo, 0);
    assert_eq!(counts(&serde_json::to_value(again.status()).unwrap()), want);
}

#[test]
fn a_former_snapshot_of_a_changed_definition_is_skipped_not_restored() {
    let dir = state_copy();
    let old = snapshot_json(dir.path());
    let written = old["written_unix_nanos"].as_u64().unwrap();
    let path = fixture().join("slos.yaml");
    let changed =
        std::fs::read_to_string(&path)
            .unwrap()
            .replacen("objective: 98.5", "objective: 99.9", 1);
    let file = dir.path().join("slos.yaml");
    std::fs::write(&file, changed).unwrap();
    let set = crate::slo::spec::load(&[file.display().to_string()], false).unwrap();
    let clock = Arc::new(ManualClock::new(written + 60_000_000_000));
    let e = Engine::new(EngineConfig::default(), clock, set);
    let restored = snapshot::restore(&e, dir.path());
    // The journey is matched although its file moved: where its members are written is
    // not part of its definition.
    assert_eq!((restored.slos, restored.skipped), (5, 1));
    let (_wal, replayed) = Wal::open(&e, dir.path(), 64 << 20, restored.wal_position).unwrap();
    assert!(replayed.unknown_slo > 0, "{replayed:?}");
    let st = e.status();
    let latency = st
        .iter()
        .find(|s| s.name == "api-latency" && s.cluster == "all")
        .unwrap();
    assert_eq!(latency.total, 0, "a changed definition starts empty");
}
