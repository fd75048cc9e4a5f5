//! The disk queue's store: a redb database, one per exporter.
//!
//! redb is an embedded, crash-safe key-value store (copy-on-write B-trees, checksummed
//! pages, fsync on commit). Records are keyed by a growing id, so iteration order is queue
//! order. Appends and deletes are batched into one write transaction per commit, which is
//! the batched fsync the queue promises.
//!
//! # Layout
//!
//! - table `records`: id → encoded [`Record`](super::Record) (with its own CRC-32);
//! - table `meta`: the next id, the record count and their bytes, written in the same
//!   transaction as the records, so the counts are exact and opening the queue reads none
//!   of its records (start-up time does not grow with the queue).
//!
//! # Faults
//!
//! - Another process holding the file's lock, or an I/O error while opening, is an error:
//!   the file is left alone ([`OpenError`]).
//! - A damaged file (redb reports corruption, or panics on what it reads) is salvaged: every
//!   record that still reads back and passes its checksum is copied into a fresh file, which
//!   takes the queue's name; the damaged file is kept beside it (see [`super::salvage`]).
//! - After an I/O error in a commit redb refuses further use of the database; the queue
//!   then opens it again ([`Store::reopen`], which drops the old handle first) with
//!   backoff until the disk works again.
//! - Every call into redb runs under `catch_unwind`: a panic on damaged pages becomes
//!   [`StoreError::Damaged`].

use std::cell::Cell;
use std::fmt;
use std::io;
use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once, RwLock};
use std::time::Duration;

use redb::backends::FileBackend;
use redb::{
    BackendError, Database, ReadableDatabase, ReadableTable, StorageBackend, TableDefinition,
};

use super::salvage::{self, Salvage};

pub(super) const RECORDS: TableDefinition<u64, &[u8]> = TableDefinition::new("records");
pub(super) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
pub(super) const NEXT_ID: &str = "next_id";
pub(super) const COUNT: &str = "records";
pub(super) const BYTES: &str = "bytes";

/// Wraps the file a store opens (fault injection in tests).
pub type Wrap = Arc<dyn Fn(FileBackend) -> Box<dyn StorageBackend> + Send + Sync>;

/// How a disk queue opens its file.
#[derive(Clone)]
pub struct Options {
    /// redb's page cache, in bytes.
    pub cache_size: usize,
    /// Least time between two compactions of the file.
    pub compact_every: Duration,
    /// Wraps the file before redb sees it; `None` in production.
    pub wrap: Option<Wrap>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            cache_size: 4 * 1024 * 1024,
            compact_every: Duration::from_secs(30),
            wrap: None,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("cache_size", &self.cache_size)
            .field("compact_every", &self.compact_every)
            .field("wrap", &self.wrap.is_some())
            .finish()
    }
}

/// Why a disk queue could not be opened. Nothing is set aside for any of these.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create queue directory {}: {source}", path.display())]
    Dir { path: PathBuf, source: io::Error },
    #[error(
        "disk queue {} is locked by another process (is another slotel using the same queue directory?)",
        path.display()
    )]
    Locked { path: PathBuf },
    #[error("cannot open disk queue {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("disk queue {} needs a storage format upgrade ({detail})", path.display())]
    Format { path: PathBuf, detail: String },
    #[error("cannot salvage damaged disk queue {}: {source}", path.display())]
    Salvage { path: PathBuf, source: io::Error },
}

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The disk refused (full, I/O error): the database must be reopened.
    #[error("disk queue i/o error: {0}")]
    Io(String),
    /// redb found damage (or panicked on it): the file must be salvaged.
    #[error("disk queue is damaged: {0}")]
    Damaged(String),
    /// The database was closed after an earlier error and is not open again yet.
    #[error("disk queue is not open")]
    Closed,
}

/// How an error from redb is handled.
pub(super) enum Class {
    Locked,
    Io(io::Error),
    Format(String),
    Damaged(String),
}

/// Sorts a redb error: lock conflicts and plain I/O errors are the environment's; anything
/// redb says about the file's content is damage.
pub(super) fn classify(e: impl Into<redb::Error>) -> Class {
    match e.into() {
        redb::Error::DatabaseAlreadyOpen | redb::Error::LockProtocolMismatch => Class::Locked,
        redb::Error::Io(e)
            if matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
            ) =>
        {
            Class::Damaged(e.to_string())
        }
        redb::Error::Io(e) => Class::Io(e),
        redb::Error::PreviousIo => Class::Io(io::Error::other("earlier i/o error")),
        redb::Error::DatabaseClosed => Class::Io(io::Error::other("database closed")),
        redb::Error::UpgradeRequired(v) => Class::Format(format!("file format version {v}")),
        other => Class::Damaged(other.to_string()),
    }
}

impl From<Class> for StoreError {
    fn from(c: Class) -> Self {
        match c {
            Class::Locked => StoreError::Io("locked by another process".to_string()),
            Class::Io(e) => StoreError::Io(e.to_string()),
            Class::Format(d) | Class::Damaged(d) => StoreError::Damaged(d),
        }
    }
}

thread_local! {
    /// Set while [`guarded`] runs: a panic there is expected (damage) and reported as an
    /// error, so the panic hook stays quiet about it.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Installs (once) a panic hook that stays quiet inside [`guarded`] and otherwise does what
/// the hook before it did.
fn quiet_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic inside the storage library into [`Class::Damaged`].
/// The first stored record with an id in `from..end`, read in one B-tree descent; a key
/// outside the range (which a damaged tree can hand out) is damage.
pub(super) fn first_in(
    db: &Database,
    from: u64,
    end: u64,
) -> Result<Option<(u64, Vec<u8>)>, Class> {
    let txn = db.begin_read().map_err(classify)?;
    let table = txn.open_table(RECORDS).map_err(classify)?;
    let mut range = table.range(from..end).map_err(classify)?;
    match range.next() {
        Some(item) => {
            let (k, v) = item.map_err(classify)?;
            if !(from..end).contains(&k.value()) {
                return Err(Class::Damaged("key out of order".to_string()));
            }
            Ok(Some((k.value(), v.value().to_vec())))
        }
        None => Ok(None),
    }
}

pub(super) fn guarded<T>(f: impl FnOnce() -> Result<T, Class>) -> Result<T, Class> {
    quiet_panics();
    let was = QUIET.with(|q| q.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    match result {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(Class::Damaged(format!("storage library panicked: {what}")))
        }
    }
}

/// Opens (or creates) the database at `path` with the queue's options.
pub(super) fn open_db(path: &Path, opts: &Options, check: bool) -> Result<Database, Class> {
    guarded(|| {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(Class::Io)?;
        let backend = FileBackend::new(file).map_err(classify)?;
        let mut builder = Database::builder();
        builder
            .set_cache_size(opts.cache_size)
            .set_check_integrity_on_open(check);
        match &opts.wrap {
            Some(wrap) => builder.create_with_backend(Boxed(wrap(backend))),
            None => builder.create_with_backend(backend),
        }
        .map_err(classify)
    })
}

/// What an opened queue holds, read from its `meta` table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restored {
    /// The lowest id stored, if any.
    pub first: Option<u64>,
    /// Ids below this were handed out before; new records take ids from here.
    pub next_id: u64,
    pub records: u64,
    pub bytes: u64,
}

/// Creates the tables if needed and reads the counts, without reading the records (a file
/// written before the `meta` table existed is counted once, then carries it).
pub(super) fn restore(db: &Database) -> Result<Restored, Class> {
    guarded(|| {
        let mut txn = db.begin_write().map_err(classify)?;
        txn.set_quick_repair(true);
        let restored = {
            let records = txn.open_table(RECORDS).map_err(classify)?;
            let mut meta = txn.open_table(META).map_err(classify)?;
            let get = |k| -> Result<Option<u64>, Class> {
                Ok(meta.get(k).map_err(classify)?.map(|v| v.value()))
            };
            let stored = (get(NEXT_ID)?, get(COUNT)?, get(BYTES)?);
            let first = records.first().map_err(classify)?.map(|(k, _)| k.value());
            let last = records.last().map_err(classify)?.map(|(k, _)| k.value());
            let after_last = last.map_or(0, |l| l.saturating_add(1));
            let restored = match stored {
                (Some(next_id), Some(records), Some(bytes)) => Restored {
                    first,
                    next_id: next_id.max(after_last),
                    records,
                    bytes,
                },
                _ => {
                    let (mut n, mut b) = (0u64, 0u64);
                    for item in records.iter().map_err(classify)? {
                        let (_, v) = item.map_err(classify)?;
                        n += 1;
                        b += super::Record::stored_size(v.value().len()) as u64;
                    }
                    Restored {
                        first,
                        next_id: after_last,
                        records: n,
                        bytes: b,
                    }
                }
            };
            meta.insert(NEXT_ID, restored.next_id).map_err(classify)?;
            meta.insert(COUNT, restored.records).map_err(classify)?;
            meta.insert(BYTES, restored.bytes).map_err(classify)?;
            restored
        };
        txn.commit().map_err(classify)?;
        Ok(restored)
    })
}

/// Writes `inserts` and removes `deletes` in one durable transaction, keeping the counts
/// in `meta` exact (the next id at least `min_next_id`). Returns the records and bytes
/// stored after it.
pub(super) fn write(
    db: &Database,
    inserts: &[(u64, Vec<u8>)],
    deletes: &[u64],
    min_next_id: u64,
) -> Result<(u64, u64), Class> {
    let size = |len: usize| super::Record::stored_size(len) as u64;
    let mut txn = db.begin_write().map_err(classify)?;
    txn.set_quick_repair(true);
    let counts = {
        let mut table = txn.open_table(RECORDS).map_err(classify)?;
        let mut meta = txn.open_table(META).map_err(classify)?;
        let get = |meta: &redb::Table<&str, u64>, k| -> Result<u64, Class> {
            Ok(meta.get(k).map_err(classify)?.map_or(0, |v| v.value()))
        };
        let mut next_id = get(&meta, NEXT_ID)?.max(min_next_id);
        let mut records = get(&meta, COUNT)?;
        let mut bytes = get(&meta, BYTES)?;
        for (id, value) in inserts {
            if let Some(old) = table.insert(*id, value.as_slice()).map_err(classify)? {
                records = records.saturating_sub(1);
                bytes = bytes.saturating_sub(size(old.value().len()));
            }
            records += 1;
            bytes += size(value.len());
            next_id = next_id.max(id.saturating_add(1));
        }
        for id in deletes {
            if let Some(old) = table.remove(*id).map_err(classify)? {
                records = records.saturating_sub(1);
                bytes = bytes.saturating_sub(size(old.value().len()));
            }
        }
        if records == 0 {
            bytes = 0;
        }
        meta.insert(NEXT_ID, next_id).map_err(classify)?;
        meta.insert(COUNT, records).map_err(classify)?;
        meta.insert(BYTES, bytes).map_err(classify)?;
        (records, bytes)
    };
    txn.commit().map_err(classify)?;
    Ok(counts)
}

/// The file name of an exporter's queue.
fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The store, opened. `db` is `None` between an I/O error and the reopen that follows it.
pub struct Store {
    path: PathBuf,
    opts: Options,
    db: RwLock<Option<Database>>,
}

/// A store just opened: what it holds, and what a salvage of a damaged file found.
pub struct Opened {
    pub store: Store,
    pub restored: Restored,
    pub salvage: Option<Salvage>,
}

impl Store {
    /// Opens (or creates) `<dir>/<name>.redb`. A damaged file is salvaged; a lock held by
    /// another process or an I/O error is an error and leaves the file alone.
    pub fn open(dir: &Path, name: &str, opts: Options) -> Result<Opened, OpenError> {
        std::fs::create_dir_all(dir).map_err(|source| OpenError::Dir {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(format!("{}.redb", file_name(name)));
        let (db, restored, salvage) = open_or_salvage(&path, &opts, false)?;
        Ok(Opened {
            store: Store {
                path,
                opts,
                db: RwLock::new(Some(db)),
            },
            restored,
            salvage,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the file again after an error; salvages it first when `damaged`.
    pub fn reopen(&self, damaged: bool) -> Result<(Restored, Option<Salvage>), OpenError> {
        let mut slot = self.db.write().unwrap_or_else(|e| e.into_inner());
        let old = slot.take();
        let _ = guarded(move || {
            drop(old);
            Ok(())
        });
        let (db, restored, salvage) = open_or_salvage(&self.path, &self.opts, damaged)?;
        *slot = Some(db);
        Ok((restored, salvage))
    }

    fn with_db<T>(&self, f: impl FnOnce(&Database) -> Result<T, Class>) -> Result<T, StoreError> {
        let slot = self.db.read().unwrap_or_else(|e| e.into_inner());
        let db = slot.as_ref().ok_or(StoreError::Closed)?;
        guarded(|| f(db)).map_err(StoreError::from)
    }

    /// Writes `inserts` and removes `deletes` in one durable transaction, keeping the counts
    /// in `meta` exact. Returns the records and bytes stored after it.
    pub fn commit(
        &self,
        inserts: &[(u64, Vec<u8>)],
        deletes: &[u64],
    ) -> Result<(u64, u64), StoreError> {
        self.with_db(|db| write(db, inserts, deletes, 0))
    }

    /// One stored record by id.
    pub fn get(&self, id: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(classify)?;
            let table = txn.open_table(RECORDS).map_err(classify)?;
            let value = table.get(id).map_err(classify)?;
            Ok(value.map(|v| v.value().to_vec()))
        })
    }

    /// The first stored record with an id in `from..end`.
    pub fn next(&self, from: u64, end: u64) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        if from >= end {
            return Ok(None);
        }
        self.with_db(|db| first_in(db, from, end))
    }

    /// The size of the file on disk.
    pub fn file_len(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// Gives the file's free pages back to the file system. Waits for reads in progress and
    /// holds off new ones meanwhile.
    pub fn compact(&self) -> Result<bool, StoreError> {
        let mut slot = self.db.write().unwrap_or_else(|e| e.into_inner());
        let db = slot.as_mut().ok_or(StoreError::Closed)?;
        guarded(|| {
            let mut any = false;
            // redb compacts until no progress is made; a few rounds are plenty.
            for _ in 0..4 {
                match db.compact() {
                    Ok(true) => any = true,
                    Ok(false) => break,
                    Err(redb::CompactionError::Storage(e)) => return Err(classify(e)),
                    // A savepoint or a transaction in the way: try again another time.
                    Err(_) => break,
                }
            }
            Ok(any)
        })
        .map_err(StoreError::from)
    }
}

/// Opens the database, salvaging it when it is damaged (or when `damaged` says so).
fn open_or_salvage(
    path: &Path,
    opts: &Options,
    damaged: bool,
) -> Result<(Database, Restored, Option<Salvage>), OpenError> {
    salvage::finish_interrupted(path).map_err(|source| OpenError::Salvage {
        path: path.to_path_buf(),
        source,
    })?;
    let why = if damaged {
        "damage found while running".to_string()
    } else {
        match open_db(path, opts, false).and_then(|db| restore(&db).map(|r| (db, r))) {
            Ok((db, restored)) => return Ok((db, restored, None)),
            Err(c) => match c {
                Class::Locked => {
                    return Err(OpenError::Locked {
                        path: path.to_path_buf(),
                    });
                }
                Class::Io(source) => {
                    return Err(OpenError::Io {
                        path: path.to_path_buf(),
                        source,
                    });
                }
                Class::Format(detail) => {
                    return Err(OpenError::Format {
                        path: path.to_path_buf(),
                        detail,
                    });
                }
                Class::Damaged(why) => why,
            },
        }
    };
    let report = salvage::salvage(path, opts, &why)?;
    let db = open_db(path, opts, false).map_err(|c| salvage_failed(path, c))?;
    let restored = restore(&db).map_err(|c| salvage_failed(path, c))?;
    Ok((db, restored, Some(report)))
}

/// The freshly written file did not open: nothing more can be done here.
fn salvage_failed(path: &Path, c: Class) -> OpenError {
    match c {
        Class::Locked => OpenError::Locked {
            path: path.to_path_buf(),
        },
        Class::Io(source) => OpenError::Io {
            path: path.to_path_buf(),
            source,
        },
        Class::Format(d) | Class::Damaged(d) => OpenError::Salvage {
            path: path.to_path_buf(),
            source: io::Error::other(d),
        },
    }
}

/// A boxed backend is a backend: every call goes to the box.
#[derive(Debug)]
struct Boxed(Box<dyn StorageBackend>);

impl StorageBackend for Boxed {
    fn len(&self) -> Result<u64, io::Error> {
        self.0.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.0.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.0.set_len(len)
    }
    fn sync_data(&self) -> Result<(), io::Error> {
        self.0.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.0.write(offset, data)
    }
    fn close(&self) -> Result<(), io::Error> {
        self.0.close()
    }
    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.0.try_lock_range(start, end)
    }
    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.0.try_lock_shared_range(start, end)
    }
    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.0.lock_range(start, end)
    }
    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.0.lock_shared_range(start, end)
    }
    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.0.unlock_range(start, end)
    }
    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.0.query_lock_range(start, end)
    }
}
