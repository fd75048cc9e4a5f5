//! An exporter's own bounded queue, in memory or on disk.
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
//!   permanent refusal), in a later commit, so a crash redelivers rather than loses.
//! - Disk queues keep only an index in memory (id, size); bodies are read back on delivery.

mod disk;
pub mod record;

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

pub use record::Record;

use crate::pipeline::Ack;

/// The queue is past its hard limit.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("exporter queue is full")]
pub struct Full;

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

#[derive(Default)]
struct State {
    ready: VecDeque<Ready>,
    unsynced: Vec<Unsynced>,
    done: Vec<u64>,
    /// Queued time (ms) of every record taken and not yet done, by id.
    in_flight: BTreeMap<u64, u64>,
    /// Queued time of the oldest ready record, when known without reading it.
    bytes: usize,
    records: usize,
    next_id: u64,
    closed: bool,
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
}

impl Queue {
    pub fn memory(max_bytes: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            notify: Notify::new(),
            max_bytes: max_bytes.max(1),
            store: None,
        }
    }

    /// Opens (or creates) the disk queue `<dir>/<name>.redb`; what it holds is ready for
    /// delivery again. A file that cannot be opened is set aside and a new one started.
    pub fn disk(max_bytes: usize, dir: &Path, name: &str) -> Result<Self, String> {
        let (store, index) = disk::Store::open(dir, name)?;
        let mut state = State::default();
        for (id, size) in index {
            state.bytes += size;
            state.records += 1;
            state.next_id = state.next_id.max(id + 1);
            state.ready.push_back(Ready::Disk {
                id,
                size,
                restored: true,
            });
        }
        Ok(Self {
            state: Mutex::new(state),
            notify: Notify::new(),
            max_bytes: max_bytes.max(1),
            store: Some(Arc::new(store)),
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

    pub fn has_room(&self) -> bool {
        self.lock().bytes < self.max_bytes
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// (records, bytes, queued time of the oldest in-flight record in ms).
    pub fn usage(&self) -> (usize, usize, Option<u64>) {
        let s = self.lock();
        let oldest = s.in_flight.values().min().copied();
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
        if s.closed || s.bytes + size > self.max_bytes.saturating_mul(2) {
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

    /// Makes pushed records durable and deletes delivered ones (disk queues; a no-op in
    /// memory). Called every `fsync_interval` and on shutdown.
    pub async fn commit(&self) -> Result<(), String> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let (unsynced, done) = {
            let mut s = self.lock();
            (std::mem::take(&mut s.unsynced), std::mem::take(&mut s.done))
        };
        if unsynced.is_empty() && done.is_empty() {
            return Ok(());
        }
        let inserts: Vec<(u64, Vec<u8>)> =
            unsynced.iter().map(|u| (u.id, u.encoded.clone())).collect();
        let store = store.clone();
        let deletes = done.clone();
        let result = tokio::task::spawn_blocking(move || store.commit(&inserts, &deletes))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
        let mut s = self.lock();
        match &result {
            Ok(()) => {
                for u in unsynced {
                    s.ready.push_back(Ready::Disk {
                        id: u.id,
                        size: u.size,
                        restored: false,
                    });
                    // Dropping the ack completes it (durable).
                    drop(u.ack);
                }
                drop(s);
                self.notify.notify_waiters();
                self.notify.notify_one();
            }
            Err(_) => {
                for u in unsynced {
                    s.bytes -= u.size;
                    s.records -= 1;
                    if let Some(a) = u.ack {
                        a.fail();
                    }
                }
                s.done.extend(done);
            }
        }
        result
    }

    /// The next record to deliver; waits while the queue is empty. `None` once the queue
    /// is closed and empty.
    pub async fn pop(&self) -> Option<Next> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let ready = {
                let mut s = self.lock();
                match s.ready.pop_front() {
                    Some(r) => Some(r),
                    None if s.closed => return None,
                    None => None,
                }
            };
            let Some(ready) = ready else {
                notified.await;
                continue;
            };
            return Some(match ready {
                Ready::Memory { id, rec } => {
                    let size = rec.size();
                    self.lock().in_flight.insert(id, rec.queued_ms);
                    Next::Record(Taken {
                        id,
                        size,
                        record: rec,
                        restored: false,
                    })
                }
                Ready::Disk { id, size, restored } => self.read(id, size, restored).await,
            });
        }
    }

    async fn read(&self, id: u64, size: usize, restored: bool) -> Next {
        let Some(store) = self.store.clone() else {
            return Next::Corrupt;
        };
        let read = tokio::task::spawn_blocking(move || store.get(id)).await;
        let decoded = match read {
            Ok(Ok(Some(bytes))) => Record::decode(&bytes).map_err(|e| e.to_string()),
            Ok(Ok(None)) => Err("record missing".to_string()),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(e.to_string()),
        };
        match decoded {
            Ok(record) => {
                self.lock().in_flight.insert(id, record.queued_ms);
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
                s.bytes -= size;
                s.records -= 1;
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
}

#[cfg(test)]
mod tests;
