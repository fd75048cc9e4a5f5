//! An exporter's own bounded queue, in memory or on disk.
//!
//! # Layout
//!
//! - `mod.rs`: the queue (what is ready, in flight, not yet durable) and its recovery;
//! - `disk.rs`: the redb store behind a disk queue;
//! - `salvage.rs`: copying what still reads out of a damaged file;
//! - `record.rs`: the stored form of one request.
//!
//! # Invariants
//!
//! - Bytes are bounded: [`Queue::has_room`] turns false at `max_bytes`, and the pipeline
//!   then refuses new data with retry-later (backpressure), so nothing is dropped silently.
//!   [`Queue::push`] itself refuses only past twice `max_bytes` (the pipeline checks before
//!   queueing, so a burst already in the pipeline may overshoot a little).
//! - Disk queues: a pushed record becomes visible to consumers, and its [`Ack`] completes,
//!   only once a commit has made it durable (commits are batched, one per
//!   `fsync_interval`). A record is deleted only after the backend accepted it (or gave a
//!   permanent refusal), in a later commit, so a crash redelivers rather than loses, and
//!   redelivers at most what was delivered in the last `fsync_interval` (plus what was in
//!   flight).
//! - Disk queues keep in memory only what was queued since the start; records from before
//!   are read in id order, one at a time, as consumers ask (opening reads counts, not
//!   records).
//! - A disk queue whose disk fails (full, I/O error, damage) refuses new data
//!   ([`Queue::has_room`] is false, [`Queue::blocked`] says why, receivers answer
//!   retry-later) and reopens its file with backoff until a write succeeds again; what was
//!   acknowledged stays on disk, and deletes not yet written are kept until they are.

mod disk;
pub mod record;
mod salvage;

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

pub use disk::{OpenError, Options as DiskOptions, StoreError, Wrap};
pub use record::Record;
pub use salvage::Salvage;

use crate::pipeline::Ack;

/// The queue is past its hard limit, or its disk refuses writes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("exporter queue is full")]
pub struct Full;

/// A disk queue could not make its records durable.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("disk queue cannot write: {0}")]
pub struct Unavailable(pub String);

/// First wait before reopening a disk queue after an error; doubled per failure.
const REOPEN_MIN: Duration = Duration::from_millis(100);
/// Longest wait between two reopen attempts.
const REOPEN_MAX: Duration = Duration::from_secs(5);
/// How long a consumer waits before reading again after a read failed.
const READ_RETRY: Duration = Duration::from_millis(200);
/// Files smaller than this are not compacted.
const COMPACT_MIN_FILE: u64 = 4 * 1024 * 1024;

enum Ready {
    Memory {
        id: u64,
        rec: Record,
    },
    Disk {
        id: u64,
        size: usize,
        restored: bool,
    },
}

struct Unsynced {
    id: u64,
    size: usize,
    encoded: Vec<u8>,
    ack: Option<Ack>,
}

/// Whether a disk queue's store can be written.
#[derive(Clone, Default)]
enum Health {
    #[default]
    Up,
    Down {
        reason: String,
        /// Salvage before reopening.
        damaged: bool,
        /// Opened again since the error; up once a write succeeds.
        reopened: bool,
        retry_at: Instant,
        backoff: Duration,
    },
}

#[derive(Default)]
struct State {
    ready: VecDeque<Ready>,
    unsynced: Vec<Unsynced>,
    done: Vec<u64>,
    /// Queued time (ms) and size of every record taken and not yet done, by id.
    in_flight: BTreeMap<u64, (u64, usize)>,
    bytes: usize,
    records: usize,
    next_id: u64,
    closed: bool,
    /// Stored records not read yet: ids in `start..end` (records from before the start,
    /// or everything after a salvage).
    restored: Option<(u64, u64)>,
    /// A consumer is reading the next restored record.
    restored_busy: bool,
    /// Restored records the store's counts promise and the cursor has not reached yet.
    restored_left: u64,
    /// A salvage ran since the queue opened.
    salvaged_once: bool,
    health: Health,
    /// Records salvaged and lost since last asked ([`Queue::take_salvage_counts`]).
    salvaged: u64,
    lost: u64,
    last_compact: Option<Instant>,
}

/// A record taken for delivery.
pub struct Taken {
    pub id: u64,
    pub size: usize,
    pub record: Record,
    /// Read back after a restart: it may have been delivered before.
    pub restored: bool,
}

/// What a delivery loop reads off the queue.
pub enum Next {
    Record(Taken),
    /// A stored record did not decode; it has been removed.
    Corrupt,
}

pub struct Queue {
    state: Mutex<State>,
    notify: Notify,
    max_bytes: usize,
    store: Option<Arc<disk::Store>>,
    compact_every: Duration,
}

/// Puts a record picked for reading back if the read is not settled: the read failed, or
/// the pop was cancelled (a consumer stopping) while it waited for the disk. An id of
/// `u64::MAX` stands for the next restored record (the cursor is freed).
struct Undo<'a> {
    queue: &'a Queue,
    pick: Option<Ready>,
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        let Some(pick) = self.pick.take() else {
            return;
        };
        {
            let mut s = self.queue.lock();
            match pick {
                Ready::Disk { id: u64::MAX, .. } => s.restored_busy = false,
                other => s.ready.push_front(other),
            }
        }
        self.queue.notify.notify_waiters();
    }
}

/// What a blocking store call came back with (a panic there is damage).
fn joined<T>(r: Result<Result<T, StoreError>, tokio::task::JoinError>) -> Result<T, StoreError> {
    r.unwrap_or_else(|e| Err(StoreError::Damaged(e.to_string())))
}

impl Queue {
    pub fn memory(max_bytes: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            notify: Notify::new(),
            max_bytes: max_bytes.max(1),
            store: None,
            compact_every: Duration::MAX,
        }
    }

    /// Opens (or creates) the disk queue `<dir>/<name>.redb`; what it holds is ready for
    /// delivery again. A damaged file is salvaged; a lock held by another process or an
    /// I/O error is an error, and the file is left as it is.
    pub fn disk(
        max_bytes: usize,
        dir: &Path,
        name: &str,
        opts: DiskOptions,
    ) -> Result<Self, OpenError> {
        let compact_every = opts.compact_every;
        let opened = disk::Store::open(dir, name, opts)?;
        let r = opened.restored;
        let state = State {
            bytes: usize::try_from(r.bytes).unwrap_or(usize::MAX),
            records: usize::try_from(r.records).unwrap_or(usize::MAX),
            next_id: r.next_id,
            restored: r.first.map(|first| (first, r.next_id)),
            restored_left: r.records,
            salvaged_once: opened.salvage.is_some(),
            salvaged: opened.salvage.as_ref().map_or(0, |s| s.salvaged),
            lost: opened.salvage.as_ref().map_or(0, |s| s.lost),
            ..State::default()
        };
        Ok(Self {
            state: Mutex::new(state),
            notify: Notify::new(),
            max_bytes: max_bytes.max(1),
            store: Some(Arc::new(opened.store)),
            compact_every,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated in a way that
        // matters more than stopping delivery would.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_durable(&self) -> bool {
        self.store.is_some()
    }

    /// Whether the queue takes more now: under `max_bytes`, and its disk (if any) works.
    pub fn has_room(&self) -> bool {
        let s = self.lock();
        s.bytes < self.max_bytes && matches!(s.health, Health::Up)
    }

    /// Why a disk queue refuses data now (its disk failed and it has not recovered yet).
    pub fn blocked(&self) -> Option<String> {
        match &self.lock().health {
            Health::Up => None,
            Health::Down { reason, .. } => Some(reason.clone()),
        }
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Records (salvaged, lost) from damaged files since last asked.
    pub fn take_salvage_counts(&self) -> (u64, u64) {
        let mut s = self.lock();
        (std::mem::take(&mut s.salvaged), std::mem::take(&mut s.lost))
    }

    /// (records, bytes, queued time of the oldest in-flight record in ms).
    pub fn usage(&self) -> (usize, usize, Option<u64>) {
        let s = self.lock();
        let oldest = s.in_flight.values().map(|v| v.0).min();
        let front = match s.ready.front() {
            Some(Ready::Memory { rec, .. }) => Some(rec.queued_ms),
            _ => None,
        };
        let oldest = match (oldest, front) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        (s.records, s.bytes, oldest)
    }

    /// Queues a record. With a disk queue, `ack` completes once the record is durable.
    pub fn push(&self, rec: Record, ack: Option<Ack>) -> Result<(), Full> {
        let size = rec.size();
        let mut s = self.lock();
        if s.closed
            || !matches!(s.health, Health::Up)
            || s.bytes + size > self.max_bytes.saturating_mul(2)
        {
            if let Some(a) = ack {
                a.fail();
            }
            return Err(Full);
        }
        s.bytes += size;
        s.records += 1;
        let id = s.next_id;
        s.next_id += 1;
        if self.store.is_some() {
            s.unsynced.push(Unsynced {
                id,
                size,
                encoded: rec.encode(),
                ack,
            });
        } else {
            s.ready.push_back(Ready::Memory { id, rec });
            drop(s);
            self.notify.notify_one();
        }
        Ok(())
    }

    /// Notes a failed store call: the store is down until reopened (salvaged first if it
    /// is damaged). Logged once per outage.
    fn store_failed(&self, e: &StoreError) {
        let damaged = matches!(e, StoreError::Damaged(_));
        let mut s = self.lock();
        match &mut s.health {
            Health::Up => {
                tracing::error!(
                    path = %self.store.as_ref().map_or_else(String::new, |st| st.path().display().to_string()),
                    error = %e,
                    "disk queue cannot write; refusing new data until it recovers"
                );
                s.health = Health::Down {
                    reason: e.to_string(),
                    damaged,
                    reopened: false,
                    retry_at: Instant::now() + REOPEN_MIN,
                    backoff: REOPEN_MIN,
                };
            }
            Health::Down {
                damaged: d,
                reopened,
                retry_at,
                backoff,
                reason,
            } => {
                if matches!(e, StoreError::Closed) {
                    return;
                }
                *d |= damaged;
                if *reopened {
                    // Reopened, and the disk still fails: wait longer next time.
                    *reopened = false;
                    *backoff = (*backoff * 2).min(REOPEN_MAX);
                    *retry_at = Instant::now() + *backoff;
                    *reason = e.to_string();
                }
            }
        }
    }

    /// Fails what waits to be written (the store is down): the senders retry later. Their
    /// ids are deleted at the next commit in case a failed write reached the disk after all.
    fn fail_unsynced(s: &mut State) {
        for u in std::mem::take(&mut s.unsynced) {
            s.bytes = s.bytes.saturating_sub(u.size);
            s.records = s.records.saturating_sub(1);
            if let Some(a) = u.ack {
                a.fail();
            }
            s.done.push(u.id);
        }
    }

    /// Reopens a store that is down, once its backoff has passed. `Ok` when it is open.
    async fn recover(&self, store: &Arc<disk::Store>) -> Result<(), Unavailable> {
        let (damaged, reason) = {
            let mut s = self.lock();
            let (due, damaged, reason) = match &s.health {
                Health::Up => return Ok(()),
                Health::Down { reopened: true, .. } => return Ok(()),
                Health::Down {
                    retry_at,
                    damaged,
                    reason,
                    ..
                } => (Instant::now() >= *retry_at, *damaged, reason.clone()),
            };
            Self::fail_unsynced(&mut s);
            if !due {
                return Err(Unavailable(reason));
            }
            (damaged, reason)
        };
        let st = store.clone();
        let reopened = tokio::task::spawn_blocking(move || st.reopen(damaged)).await;
        let mut s = self.lock();
        match reopened {
            Ok(Ok((restored, salvage))) => {
                if let Some(report) = salvage {
                    // The file was rebuilt: read everything in it again, except what is in
                    // flight now, and count from what it holds.
                    s.salvaged += report.salvaged;
                    s.lost += report.lost;
                    s.ready.clear();
                    s.restored = restored.first.map(|f| (f, restored.next_id));
                    let in_flight = s.in_flight.len() as u64;
                    s.restored_left = restored.records.saturating_sub(in_flight);
                    s.salvaged_once = true;
                    let pending: usize = s.unsynced.iter().map(|u| u.size).sum();
                    s.records =
                        usize::try_from(restored.records).unwrap_or(usize::MAX) + s.unsynced.len();
                    s.bytes = usize::try_from(restored.bytes).unwrap_or(usize::MAX) + pending;
                    s.next_id = s.next_id.max(restored.next_id);
                }
                if let Health::Down {
                    reopened, damaged, ..
                } = &mut s.health
                {
                    *reopened = true;
                    *damaged = false;
                }
                drop(s);
                self.notify.notify_waiters();
                Ok(())
            }
            Ok(Err(e)) => {
                if let Health::Down {
                    retry_at, backoff, ..
                } = &mut s.health
                {
                    *backoff = (*backoff * 2).min(REOPEN_MAX);
                    *retry_at = Instant::now() + *backoff;
                }
                tracing::debug!(error = %e, "disk queue reopen failed");
                Err(Unavailable(format!("{reason}; reopening: {e}")))
            }
            Err(e) => Err(Unavailable(e.to_string())),
        }
    }

    /// Makes pushed records durable and deletes delivered ones (disk queues; a no-op in
    /// memory). Called every `fsync_interval` and on shutdown. A store that is down is
    /// reopened first (with backoff); it is up again once this write succeeds.
    pub async fn commit(&self) -> Result<(), Unavailable> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        self.recover(store).await?;
        let (unsynced, done, probing) = {
            let mut s = self.lock();
            let probing = !matches!(s.health, Health::Up);
            (
                std::mem::take(&mut s.unsynced),
                std::mem::take(&mut s.done),
                probing,
            )
        };
        if unsynced.is_empty() && done.is_empty() && !probing {
            return Ok(());
        }
        let inserts: Vec<(u64, Vec<u8>)> =
            unsynced.iter().map(|u| (u.id, u.encoded.clone())).collect();
        let st = store.clone();
        let deletes = done.clone();
        let result = joined(
            tokio::task::spawn_blocking(move || {
                st.commit(&inserts, &deletes).map(|c| (c, st.file_len()))
            })
            .await,
        );
        let outcome = {
            let mut s = self.lock();
            match result {
                Ok(((_, stored_bytes), file_len)) => {
                    if !matches!(s.health, Health::Up) {
                        tracing::warn!(path = %store.path().display(), "disk queue recovered; accepting data again");
                        s.health = Health::Up;
                    }
                    for u in unsynced {
                        s.ready.push_back(Ready::Disk {
                            id: u.id,
                            size: u.size,
                            restored: false,
                        });
                        // Dropping the ack completes it (durable).
                        drop(u.ack);
                    }
                    let compact = !done.is_empty()
                        && file_len >= COMPACT_MIN_FILE
                        && stored_bytes.saturating_mul(4) < file_len
                        && s.last_compact
                            .is_none_or(|t| t.elapsed() >= self.compact_every);
                    if compact {
                        s.last_compact = Some(Instant::now());
                    }
                    Ok(compact.then_some(file_len))
                }
                Err(e) => {
                    for u in unsynced {
                        s.bytes = s.bytes.saturating_sub(u.size);
                        s.records = s.records.saturating_sub(1);
                        if let Some(a) = u.ack {
                            a.fail();
                        }
                        // A failed commit may still have reached the disk: delete them later.
                        s.done.push(u.id);
                    }
                    s.done.extend(done);
                    Err(e)
                }
            }
        };
        match outcome {
            Ok(compact) => {
                self.notify.notify_waiters();
                self.notify.notify_one();
                if let Some(file_len) = compact {
                    self.compact(store, file_len).await;
                }
                Ok(())
            }
            Err(e) => {
                self.store_failed(&e);
                Err(Unavailable(e.to_string()))
            }
        }
    }

    /// Gives the free pages of a mostly empty file back to the file system.
    async fn compact(&self, store: &Arc<disk::Store>, before: u64) {
        let st = store.clone();
        let result =
            joined(tokio::task::spawn_blocking(move || st.compact().map(|_| st.file_len())).await);
        match result {
            Ok(after) => {
                tracing::debug!(path = %store.path().display(), before, after, "disk queue compacted");
            }
            Err(e) => self.store_failed(&e),
        }
    }

    /// The next record to deliver; waits while the queue is empty. `None` once the queue
    /// is closed and empty.
    pub async fn pop(&self) -> Option<Next> {
        enum Pick {
            Restored(u64, u64),
            Ready(Ready),
            Wait,
        }
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let pick = {
                let mut s = self.lock();
                match s.restored {
                    Some((from, end)) if !s.restored_busy => {
                        s.restored_busy = true;
                        Pick::Restored(from, end)
                    }
                    _ => match s.ready.pop_front() {
                        Some(r) => Pick::Ready(r),
                        None if s.closed && s.restored.is_none() => return None,
                        None => Pick::Wait,
                    },
                }
            };
            match pick {
                Pick::Wait => notified.await,
                Pick::Restored(from, end) => {
                    if let Some(next) = self.read_restored(from, end).await {
                        return Some(next);
                    }
                }
                Pick::Ready(Ready::Memory { id, rec }) => {
                    let size = rec.size();
                    self.lock().in_flight.insert(id, (rec.queued_ms, size));
                    return Some(Next::Record(Taken {
                        id,
                        size,
                        record: rec,
                        restored: false,
                    }));
                }
                Pick::Ready(Ready::Disk { id, size, restored }) => {
                    if let Some(next) = self.read(id, size, restored).await {
                        return Some(next);
                    }
                }
            }
        }
    }

    /// Reads the next stored record with an id in `from..end` (records from before the
    /// start). `None`: nothing to hand out from there (yet).
    async fn read_restored(&self, from: u64, end: u64) -> Option<Next> {
        let mut undo = Undo {
            queue: self,
            pick: Some(Ready::Disk {
                id: u64::MAX,
                size: 0,
                restored: true,
            }),
        };
        let store = self.store.clone()?;
        let skip: Vec<u64> = self.lock().in_flight.keys().copied().collect();
        let read = joined(
            tokio::task::spawn_blocking(move || {
                let mut from = from;
                // Records in flight when a salvage rebuilt the file are not read again.
                loop {
                    match store.next(from, end)? {
                        Some((id, _)) if skip.binary_search(&id).is_ok() => from = id + 1,
                        other => return Ok(other),
                    }
                }
            })
            .await,
        );
        undo.pick = None;
        let got = {
            let mut s = self.lock();
            s.restored_busy = false;
            match read {
                Ok(Some((id, bytes))) => {
                    // Kept even when `id + 1 == end`: the next read finds the end, checks
                    // the counts and recomputes them.
                    s.restored = Some((id.saturating_add(1), end));
                    s.restored_left = s.restored_left.saturating_sub(1);
                    Ok(Some((id, bytes)))
                }
                Ok(None) if s.restored_left > 0 && !s.salvaged_once => {
                    // The counts promise more than the tree hands out: it is damaged in a
                    // way reads do not notice. Salvage finds what can still be read.
                    Err(StoreError::Damaged(format!(
                        "{} stored records cannot be found",
                        s.restored_left
                    )))
                }
                Ok(None) => {
                    s.restored = None;
                    Self::restored_done(&mut s);
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        };
        self.notify.notify_waiters();
        match got {
            Ok(Some((id, bytes))) => Some(self.decoded(id, None, bytes, true)),
            Ok(None) => None,
            Err(e) => {
                self.read_failed(&e).await;
                None
            }
        }
    }

    /// Every restored record has been handed out: from now on the queue knows each record
    /// it holds, so its counts are recomputed from them (records that a damaged file
    /// promised but did not hold stop counting).
    fn restored_done(s: &mut State) {
        if s.restored_left > 0 {
            tracing::error!(
                missing = s.restored_left,
                "disk queue records promised by its counts could not be read; they are lost"
            );
            s.lost += s.restored_left;
            s.restored_left = 0;
        }
        let ready = s.ready.iter().map(|r| match r {
            Ready::Memory { rec, .. } => rec.size(),
            Ready::Disk { size, .. } => *size,
        });
        let bytes = ready.sum::<usize>()
            + s.in_flight.values().map(|v| v.1).sum::<usize>()
            + s.unsynced.iter().map(|u| u.size).sum::<usize>();
        s.records = s.ready.len() + s.in_flight.len() + s.unsynced.len();
        s.bytes = bytes;
    }

    /// Reads a record queued since the start. `None`: try again (it was put back).
    async fn read(&self, id: u64, size: usize, restored: bool) -> Option<Next> {
        let mut undo = Undo {
            queue: self,
            pick: Some(Ready::Disk { id, size, restored }),
        };
        let store = self.store.clone()?;
        let read = joined(tokio::task::spawn_blocking(move || store.get(id)).await);
        if read.is_ok() {
            undo.pick = None;
        }
        drop(undo);
        match read {
            Ok(Some(bytes)) => Some(self.decoded(id, Some(size), bytes, restored)),
            Ok(None) => {
                tracing::error!(id, "a queue record is missing; skipped");
                let mut s = self.lock();
                s.bytes = s.bytes.saturating_sub(size);
                s.records = s.records.saturating_sub(1);
                Some(Next::Corrupt)
            }
            Err(e) => {
                // Put back (by `undo`) to be read again.
                self.read_failed(&e).await;
                None
            }
        }
    }

    /// A read failed for the store's sake (not the record's): the store goes down and is
    /// reopened by the committer; the reader waits a little before trying again.
    async fn read_failed(&self, e: &StoreError) {
        self.store_failed(e);
        tokio::time::sleep(READ_RETRY).await;
    }

    fn decoded(&self, id: u64, size: Option<usize>, bytes: Vec<u8>, restored: bool) -> Next {
        let size = size.unwrap_or_else(|| Record::stored_size(bytes.len()));
        match Record::decode(&bytes) {
            Ok(record) => {
                self.lock().in_flight.insert(id, (record.queued_ms, size));
                Next::Record(Taken {
                    id,
                    size,
                    record,
                    restored,
                })
            }
            Err(e) => {
                tracing::error!(error = %e, id, "skipping a queue record that cannot be read");
                let mut s = self.lock();
                s.bytes = s.bytes.saturating_sub(size);
                s.records = s.records.saturating_sub(1);
                s.done.push(id);
                Next::Corrupt
            }
        }
    }

    /// The record was delivered or given up on: free its room (and delete it from disk at
    /// the next commit).
    pub fn done(&self, taken: &Taken) {
        let mut s = self.lock();
        s.bytes = s.bytes.saturating_sub(taken.size);
        s.records = s.records.saturating_sub(1);
        s.in_flight.remove(&taken.id);
        if self.store.is_some() {
            s.done.push(taken.id);
        }
    }

    /// Puts a record that was taken but not delivered back at the front (shutdown with a
    /// disk queue: it stays on disk and is delivered after the restart).
    pub fn release(&self, taken: Taken) {
        let mut s = self.lock();
        s.in_flight.remove(&taken.id);
        match &self.store {
            Some(_) => s.ready.push_front(Ready::Disk {
                id: taken.id,
                size: taken.size,
                restored: taken.restored,
            }),
            None => s.ready.push_front(Ready::Memory {
                id: taken.id,
                rec: taken.record,
            }),
        }
    }

    /// No more pushes; consumers finish once the queue is empty.
    pub fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// The disk queue's file, if any.
    pub fn path(&self) -> Option<&Path> {
        self.store.as_ref().map(|s| s.path())
    }
}

#[cfg(test)]
mod tests;
