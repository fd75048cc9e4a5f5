//! The SLO write-ahead log: with `slo.state_dir`, every request's SLO deltas are on disk
//! before the request is acknowledged, so after `kill -9` the state is the last snapshot
//! plus the log after it — every acknowledged event, each counted once.
//!
//! # What is logged
//!
//! The engine's deltas, not the spans: per SLO, the group key, end time, good/bad and
//! latency of each event it recorded, in recording order, with the request's late and
//! future drops; for metric SLIs, the count records handed to the windows, the carries and
//! the cumulative series as they are after the request. Replay feeds them to the same
//! state calls live recording made (`SloState::record`, `record_counts`), so windows,
//! latency histograms (HDR and native), time slices, the overflow group and the drop
//! counters come out as they were, whatever the clock says at replay — the late/future
//! decisions were taken once, live, and are not taken again. Span facts would have to be
//! classified again at replay (a later clock would drop them as late, an edited SLO would
//! classify them differently) and would carry every attribute a condition reads; a delta is
//! a few bytes per matched event and SLO (key index, time delta, latency: ~8–12 bytes), so a
//! request's log is bounded by its events times its SLOs.
//!
//! # Group commit and acknowledgement
//!
//! Recording takes the log's gate (shared), applies the deltas to the state and appends
//! their frames to an in-memory buffer at the log's next position; the request's
//! acknowledgement waits for that position. One flusher thread writes whatever the buffer
//! holds and makes it durable with one `fdatasync`, then completes every request it
//! covered: requests that arrive during a sync share the next one. Without
//! `slo.state_dir` there is no log and nothing waits.
//!
//! # Snapshots and replay
//!
//! A snapshot takes the gate exclusively for the moment it copies the state, and records
//! the log position then: every delta before it is in the copy, none after it. The log is
//! rotated to a new segment file at that position; once the snapshot file is durable,
//! segments wholly before it are deleted. At start-up the snapshot is restored, then every
//! frame at or after its position is replayed; writing resumes in a new segment at the
//! end of the old ones (a torn tail is never written after). Frames carry their position,
//! so a frame before the snapshot's is skipped even if its segment was not yet deleted:
//! nothing counts twice.
//!
//! # Bounds and damage
//!
//! Each frame has a CRC of its header and of its body: a damaged frame is skipped (the
//! reader searches for the next frame header), a torn frame at the end of a segment is
//! skipped, and both are counted and logged, never a panic. Replay reads one frame at a
//! time (at most [`record::MAX_BODY`] bytes) whatever the log's size. Once the log holds
//! `slo.wal_max_bytes` since the last snapshot, a snapshot is asked for at once; with twice
//! that not covered by a snapshot (snapshots failing), or after a write or sync failed,
//! requests are refused with retry-later (and readiness says why) until the log can be
//! written again: a request is never acknowledged without its deltas on disk.

pub mod record;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

pub use record::{Encoder, ReadStats};

use super::Engine;
use super::state::GroupKey;
use record::{Section, SegmentReader};

/// The log's directory under `slo.state_dir`.
pub const DIR: &str = "slo-wal";
/// How often a failed log tries a new segment file.
const RETRY: Duration = Duration::from_secs(1);

/// Called once a request's deltas are durable (`true`) or could not be written (`false`).
pub type Done = Box<dyn FnOnce(bool) + Send>;

/// The 64-bit FNV-1a hash of `s`: an SLO's id in the log (stable across builds).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Why the log takes no deltas now.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("slo write-ahead log: {0}")]
pub struct Refused(pub String);

struct State {
    /// Frames not yet written, from `pending_start`.
    pending: Vec<u8>,
    pending_start: u64,
    /// The position the next frame gets.
    next: u64,
    durable: u64,
    waiters: VecDeque<(u64, Done)>,
    /// Positions where a new segment starts (snapshots), ascending.
    rotations: VecDeque<u64>,
    /// The position of the last durable snapshot.
    covered: u64,
    /// The position of the last snapshot taken (durable or not).
    snapshot_at: u64,
    /// A snapshot was asked for since `snapshot_at`.
    asked: bool,
    /// Start positions of the segment files on disk, ascending (the last one is written).
    segments: Vec<u64>,
    failed: Option<String>,
    stop: bool,
}

struct Shared {
    dir: PathBuf,
    gate: RwLock<()>,
    state: Mutex<State>,
    work: Condvar,
    max_bytes: u64,
    wanted: tokio::sync::Notify,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The log of one state directory.
pub struct Wal {
    shared: Arc<Shared>,
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// What replay at start-up found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Segment files read.
    pub segments: usize,
    /// Good frames read, and those at or after the snapshot's position (applied).
    pub frames: u64,
    pub applied: u64,
    /// Sections of SLOs no longer loaded (or whose definition changed): skipped.
    pub unknown_slo: u64,
    /// Frames of the former version (`SLW1`) applied: their SLOs known by the former
    /// fingerprint.
    pub former_frames: u64,
    /// Frames whose CRC held but whose body did not decode: skipped.
    pub bad_bodies: u64,
    /// Damaged and torn frames.
    pub read: ReadStats,
    /// Where writing resumes.
    pub end: u64,
}

fn segment_name(start: u64) -> String {
    format!("{start:016x}.wal")
}

fn segment_path(dir: &Path, start: u64) -> PathBuf {
    dir.join(segment_name(start))
}

/// Segment files in `dir` by start position, ascending.
fn list_segments(dir: &Path) -> std::io::Result<Vec<u64>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let name = e?.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(hex) = name.strip_suffix(".wal")
            && hex.len() == 16
            && let Ok(start) = u64::from_str_radix(hex, 16)
        {
            out.push(start);
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A new segment file; the log's directory is made again if it was removed while running.
fn new_segment(dir: &Path, start: u64) -> std::io::Result<File> {
    std::fs::create_dir_all(dir)?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(segment_path(dir, start))?;
    sync_dir(dir)?;
    Ok(f)
}

impl Wal {
    /// Replays the log under `state_dir` from position `from` (the restored snapshot's)
    /// into `engine`, then opens it for writing and attaches it to the engine.
    pub fn open(
        engine: &Engine,
        state_dir: &Path,
        max_bytes: u64,
        from: u64,
    ) -> std::io::Result<(Arc<Wal>, Replayed)> {
        let dir = state_dir.join(DIR);
        std::fs::create_dir_all(&dir)?;
        let mut segments = list_segments(&dir)?;
        let mut replayed = Replayed {
            end: from,
            ..Replayed::default()
        };
        let current: HashMap<u64, usize> = engine
            .loaded()
            .slos
            .iter()
            .enumerate()
            .map(|(i, s)| (s.wal_id, i))
            .collect();
        // The ids of `SLW1` frames, computed at the first such frame.
        let mut former: Option<HashMap<u64, usize>> = None;
        for &start in &segments {
            // A regular file only (a FIFO would block start-up, a device never end), read
            // up to the length it has now.
            let path = segment_path(&dir, start);
            let located = |e: std::io::Error| {
                std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
            };
            let f = crate::regular_file::open(&path).map_err(located)?;
            let len = f.metadata().map_err(located)?.len();
            replayed.segments += 1;
            replayed.end = replayed.end.max(start.saturating_add(len));
            let mut reader = SegmentReader::new(std::io::Read::take(f, len), start);
            while let Some((lsn, version, body)) = reader.next_frame()? {
                replayed.frames += 1;
                if lsn < from {
                    continue;
                }
                match record::decode(body) {
                    Ok(sections) => {
                        replayed.applied += 1;
                        let ids = if version == 1 {
                            replayed.former_frames += 1;
                            former.get_or_insert_with(|| former_ids(engine))
                        } else {
                            &current
                        };
                        replayed.unknown_slo += engine.apply_logged(sections, ids);
                    }
                    Err(e) => {
                        replayed.bad_bodies += 1;
                        tracing::error!(segment = start, position = lsn, error = %e, "slo wal frame skipped");
                    }
                }
            }
            let s = reader.stats;
            replayed.read.damaged += s.damaged;
            replayed.read.torn += s.torn;
            replayed.read.skipped_bytes += s.skipped_bytes;
        }
        let end = replayed.end;
        let file = new_segment(&dir, end)?;
        if segments.last() != Some(&end) {
            segments.push(end);
        }
        let shared = Arc::new(Shared {
            dir,
            gate: RwLock::new(()),
            state: Mutex::new(State {
                pending: Vec::new(),
                pending_start: end,
                next: end,
                durable: end,
                waiters: VecDeque::new(),
                rotations: VecDeque::new(),
                covered: from,
                snapshot_at: from,
                asked: false,
                segments,
                failed: None,
                stop: false,
            }),
            work: Condvar::new(),
            max_bytes: max_bytes.max(1),
            wanted: tokio::sync::Notify::new(),
        });
        let flusher = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("slo-wal".into())
                .spawn(move || flush_loop(&shared, Some((end, file))))?
        };
        let wal = Arc::new(Wal {
            shared,
            flusher: Mutex::new(Some(flusher)),
        });
        engine.attach_wal(wal.clone());
        Ok((wal, replayed))
    }

    /// Why the log refuses deltas now, if it does: a write or sync failed (until a new
    /// segment could be written), or twice `max_bytes` is not covered by a snapshot.
    pub fn refusing(&self) -> Option<Refused> {
        let st = self.shared.state();
        if let Some(f) = &st.failed {
            return Some(Refused(format!("cannot write: {f}")));
        }
        let oldest = st.segments.first().copied().unwrap_or(st.next);
        let held = st.next.saturating_sub(oldest.max(st.covered));
        (held > self.shared.max_bytes.saturating_mul(2)).then(|| {
            Refused(format!(
                "{held} bytes not covered by a snapshot (twice slo.wal_max_bytes); waiting for a snapshot"
            ))
        })
    }

    /// Starts logging one request: the state changes made until [`Unit::commit`] are
    /// logged together and no snapshot is taken in between.
    pub fn begin(&self) -> Result<Unit<'_>, Refused> {
        if let Some(r) = self.refusing() {
            return Err(r);
        }
        Ok(Unit {
            wal: self,
            _gate: self.shared.gate.read().unwrap_or_else(|p| p.into_inner()),
            enc: Encoder::default(),
        })
    }

    /// For a snapshot: no request is recorded while the returned guard lives; its
    /// position is where the snapshot's state ends in the log. The log starts a new
    /// segment there.
    pub fn freeze(&self) -> Frozen<'_> {
        let gate = self.shared.gate.write().unwrap_or_else(|p| p.into_inner());
        let mut st = self.shared.state();
        let position = st.next;
        if st.rotations.back().is_none_or(|&r| r < position)
            && st.segments.last().is_none_or(|&s| s < position)
        {
            st.rotations.push_back(position);
        }
        st.snapshot_at = position;
        st.asked = false;
        drop(st);
        self.shared.work.notify_one();
        Frozen {
            _gate: gate,
            position,
        }
    }

    /// A snapshot holding everything before `position` is durable: segments wholly before
    /// it are deleted.
    pub fn covered(&self, position: u64) {
        let mut st = self.shared.state();
        st.covered = st.covered.max(position);
        drop(st);
        self.shared.work.notify_one();
    }

    /// Completes when the log has grown past `max_bytes` since the last snapshot.
    pub async fn snapshot_wanted(&self) {
        self.shared.wanted.notified().await;
    }

    /// The next position, the durable one, and the bytes on disk not covered by a
    /// snapshot (for tests and figures).
    pub fn positions(&self) -> (u64, u64, u64) {
        let st = self.shared.state();
        let oldest = st.segments.first().copied().unwrap_or(st.next);
        (
            st.next,
            st.durable,
            st.next.saturating_sub(oldest.max(st.covered)),
        )
    }

    /// Segment files on disk now.
    pub fn segment_count(&self) -> usize {
        self.shared.state().segments.len()
    }

    /// Writes what is pending and stops the flusher.
    pub fn close(&self) {
        self.shared.state().stop = true;
        self.shared.work.notify_one();
        let handle = self
            .flusher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        self.close();
    }
}

/// One request's deltas being recorded (holds the gate shared).
pub struct Unit<'w> {
    wal: &'w Wal,
    _gate: RwLockReadGuard<'w, ()>,
    pub enc: Encoder,
}

impl Unit<'_> {
    /// Appends the deltas; `done` runs once they are durable (or could not be written).
    /// A request that changed nothing completes at once.
    pub fn commit(self, done: Option<Done>) {
        let Unit {
            wal,
            _gate: gate,
            enc,
        } = self;
        let bodies = enc.finish();
        if bodies.is_empty() {
            drop(gate);
            if let Some(d) = done {
                d(true);
            }
            return;
        }
        let shared = &wal.shared;
        let mut st = shared.state();
        for body in &bodies {
            let lsn = st.next;
            let before = st.pending.len();
            record::frame(lsn, body, &mut st.pending);
            st.next += (st.pending.len() - before) as u64;
        }
        drop(gate);
        let end = st.next;
        if let Some(d) = done {
            st.waiters.push_back((end, d));
        }
        let want = !st.asked && end.saturating_sub(st.snapshot_at) >= shared.max_bytes;
        if want {
            st.asked = true;
        }
        drop(st);
        shared.work.notify_one();
        if want {
            shared.wanted.notify_one();
        }
    }
}

/// A snapshot's hold on the log (see [`Wal::freeze`]).
pub struct Frozen<'w> {
    _gate: RwLockWriteGuard<'w, ()>,
    pub position: u64,
}

/// What one flusher round takes from the state.
struct Round {
    bytes: Vec<u8>,
    start: u64,
    rotations: Vec<u64>,
    covered: u64,
}

fn take_round(shared: &Shared, current_ok: bool) -> Option<Round> {
    let mut st = shared.state();
    loop {
        let deletable = st.segments.len() > 1 && st.segments[1] <= st.covered;
        if !st.pending.is_empty() || !st.rotations.is_empty() || deletable {
            break;
        }
        if st.stop {
            return None;
        }
        if !current_ok {
            // A failed log tries a new segment now and then, with nothing pending.
            st = shared
                .work
                .wait_timeout(st, RETRY)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            break;
        }
        st = shared.work.wait(st).unwrap_or_else(|p| p.into_inner());
    }
    let start = st.pending_start;
    let bytes = std::mem::take(&mut st.pending);
    st.pending_start = st.next;
    let rotations = st.rotations.drain(..).collect();
    Some(Round {
        bytes,
        start,
        rotations,
        covered: st.covered,
    })
}

fn flush_loop(shared: &Shared, mut current: Option<(u64, File)>) {
    loop {
        let Some(round) = take_round(shared, current.is_some()) else {
            return;
        };
        let end = round.start + round.bytes.len() as u64;
        let result = write_round(shared, &mut current, &round);
        let mut st = shared.state();
        let mut finished = Vec::new();
        match &result {
            Ok(()) => {
                st.durable = st.durable.max(end);
                st.failed = None;
            }
            Err(e) => {
                if st.failed.is_none() {
                    tracing::error!(error = %e, "slo wal write failed; refusing requests until it can be written");
                }
                st.failed = Some(e.to_string());
                current = None;
                // The log's files were removed (the state directory deleted or replaced):
                // what was logged before lives in memory only until a snapshot holds it.
                if e.kind() == std::io::ErrorKind::NotFound && !st.asked {
                    st.asked = true;
                    shared.wanted.notify_one();
                }
            }
        }
        while st.waiters.front().is_some_and(|(e, _)| *e <= end) {
            if let Some((_, d)) = st.waiters.pop_front() {
                finished.push(d);
            }
        }
        // Segments wholly before the last durable snapshot.
        let mut deleted = Vec::new();
        while st.segments.len() > 1 && st.segments[1] <= round.covered.max(st.covered) {
            deleted.push(st.segments.remove(0));
        }
        drop(st);
        let ok = result.is_ok();
        for d in finished {
            d(ok);
        }
        for start in deleted {
            if let Err(e) = std::fs::remove_file(segment_path(&shared.dir, start)) {
                tracing::warn!(error = %e, segment = start, "cannot delete a covered slo wal segment");
            }
        }
    }
}

/// Writes a round's bytes into the segments (starting new ones at its rotations) and
/// syncs them. A failed log first starts a new segment at the round's start, so frames
/// stay at their positions.
fn write_round(
    shared: &Shared,
    current: &mut Option<(u64, File)>,
    round: &Round,
) -> std::io::Result<()> {
    let open = |start: u64| -> std::io::Result<(u64, File)> {
        let f = new_segment(&shared.dir, start)?;
        let mut st = shared.state();
        if st.segments.last().is_none_or(|&s| s < start) {
            st.segments.push(start);
        }
        Ok((start, f))
    };
    if current.is_none() {
        *current = Some(open(round.start)?);
    }
    let mut at = round.start;
    let end = round.start + round.bytes.len() as u64;
    for &r in &round.rotations {
        let r = r.clamp(at, end);
        if let Some((_, f)) = current.as_mut() {
            f.write_all(&round.bytes[(at - round.start) as usize..(r - round.start) as usize])?;
            f.sync_data()?;
        }
        at = r;
        if current.as_ref().is_some_and(|(s, _)| *s < r) {
            *current = Some(open(r)?);
        }
    }
    if let Some((_, f)) = current.as_mut()
        && at < end
    {
        f.write_all(&round.bytes[(at - round.start) as usize..])?;
        f.sync_data()?;
    }
    // A segment removed from under the log (its directory deleted) takes writes that no
    // restart would read: such a round is not durable, and the next one starts a new file.
    if let Some((_, f)) = current.as_ref()
        && std::os::unix::fs::MetadataExt::nlink(&f.metadata()?) == 0
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the log's segment file was removed",
        ));
    }
    Ok(())
}

/// Opens the log under `state_dir` for `engine` after its snapshot was restored (replay
/// from `from`), and logs what replay found.
pub fn start(
    engine: &Engine,
    state_dir: &Path,
    max_bytes: u64,
    from: u64,
) -> std::io::Result<Arc<Wal>> {
    let (wal, r) = Wal::open(engine, state_dir, max_bytes, from)?;
    tracing::info!(
        segments = r.segments,
        frames = r.applied,
        from,
        end = r.end,
        "slo write-ahead log replayed"
    );
    if r.read.damaged + r.read.torn + r.bad_bodies > 0 {
        tracing::warn!(
            damaged = r.read.damaged,
            torn = r.read.torn,
            undecodable = r.bad_bodies,
            skipped_bytes = r.read.skipped_bytes,
            "slo write-ahead log: damaged or torn frames skipped"
        );
    }
    if r.former_frames > 0 {
        tracing::info!(
            frames = r.former_frames,
            "slo write-ahead log: frames of the former format replayed"
        );
    }
    if r.unknown_slo > 0 {
        tracing::info!(
            sections = r.unknown_slo,
            "slo write-ahead log: deltas of slos no longer loaded (or changed) skipped"
        );
    }
    Ok(wal)
}

/// Completes when `engine`'s log asks for a snapshot; never without a log.
pub async fn snapshot_wanted(engine: &Engine) {
    match engine.wal() {
        Some(w) => w.snapshot_wanted().await,
        None => std::future::pending().await,
    }
}

/// The SLO ids of `SLW1` frames (the former fingerprint), by index in the engine's SLOs.
fn former_ids(engine: &Engine) -> HashMap<u64, usize> {
    let mut ids = HashMap::new();
    for (i, s) in engine.loaded().slos.iter().enumerate() {
        for id in super::snapshot::legacy_log_ids(&s.spec) {
            ids.insert(id, i);
        }
    }
    ids
}

impl Engine {
    /// Applies the decoded sections of one logged request, their SLOs found by `ids` (SLO
    /// id → index in the loaded SLOs); returns the sections of SLOs not loaded.
    fn apply_logged(&self, sections: Vec<Section<'_>>, ids: &HashMap<u64, usize>) -> u64 {
        let loaded = self.loaded();
        let find = |id: u64| ids.get(&id).and_then(|&i| loaded.slos.get(i));
        let mut unknown = 0;
        for section in sections {
            match section {
                Section::Spans(s) => {
                    let Some(slo) = find(s.slo) else {
                        unknown += 1;
                        continue;
                    };
                    let mut state = slo.state();
                    for ev in s.spans() {
                        state.record_logged(&s.keys[ev.key], ev.t, ev.good, ev.latency, ev.n);
                    }
                    drop(state);
                    slo.add_dropped(s.dropped);
                }
                Section::Metrics(s) => {
                    let Some(slo) = find(s.slo) else {
                        unknown += 1;
                        continue;
                    };
                    let mut state = slo.state();
                    for ev in s.counts() {
                        state.record_counts(&s.keys[ev.key], ev.t, ev.good, ev.total, ev.lifetime);
                    }
                    drop(state);
                    slo.add_dropped(s.dropped);
                    let carries: Vec<(GroupKey, u64)> =
                        s.carries().map(|(k, v)| (s.keys[k].clone(), v)).collect();
                    self.metrics.replay_carries(slo, &loaded.slos, carries);
                }
                Section::Series(series) => self.metrics.replay_series(series),
            }
        }
        unknown
    }
}
