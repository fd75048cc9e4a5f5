//! Salvage of a damaged queue file.
//!
//! Every record that can still be read (and passes its checksum) is copied into a fresh
//! file, `<queue>.redb.salvage`, which then takes the queue's name; the damaged file is
//! kept as `<queue>.redb.damaged-<unix time>` for inspection. The steps are ordered so that
//! a crash at any point loses nothing more: the damaged file keeps the queue's name until
//! the copy is complete, and a complete copy whose rename was cut short is finished by the
//! next start ([`finish_interrupted`]).
//!
//! Reading a damaged B-tree: each record is fetched with its own range query under
//! `catch_unwind`, so one damaged page costs only the records on it. Past a failing key the
//! next start is searched by doubling steps, then bisected back to the first key that reads,
//! so a damaged leaf is skipped in a logarithmic number of probes. If the newest commit
//! cannot be read whole, the previous commit (redb keeps two) is read too and merged: a
//! record it brings back may be delivered twice, which beats losing it.

use std::io;
use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase};

use super::Record;
use super::disk::{
    COUNT, Class, META, NEXT_ID, OpenError, Options, classify, first_in, guarded, open_db, restore,
    write,
};

/// Records copied per transaction while salvaging.
const CHUNK: usize = 1024;
/// Probes (one B-tree descent each) a salvage makes at most per source.
const MAX_PROBES: u64 = 200_000;

/// What a salvage found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Salvage {
    /// Records copied into the fresh file.
    pub salvaged: u64,
    /// Records the damaged file said it held that could not be copied (or, when its counts
    /// were unreadable too, those seen but failing their checksum: a lower bound).
    pub lost: u64,
    /// Whether `lost` is exact (the damaged file's counts were readable).
    pub exact: bool,
    /// Where the damaged file was kept.
    pub aside: PathBuf,
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".salvage");
    PathBuf::from(s)
}

/// Completes or discards a salvage cut short by a crash.
pub fn finish_interrupted(path: &Path) -> io::Result<()> {
    let tmp = tmp_path(path);
    if !tmp.exists() {
        return Ok(());
    }
    if path.exists() {
        // The copy was not complete: the damaged file is still in place; start over.
        std::fs::remove_file(&tmp)
    } else {
        // The copy was complete and the damaged file already set aside.
        std::fs::rename(&tmp, path)
    }
}

/// Copies what can be read of the damaged file at `path` into a fresh file that takes its
/// place. Logs the outcome once at ERROR.
pub fn salvage(path: &Path, opts: &Options, why: &str) -> Result<Salvage, OpenError> {
    let fail = |source: io::Error| OpenError::Salvage {
        path: path.to_path_buf(),
        source,
    };
    let tmp = tmp_path(path);
    if tmp.exists() {
        std::fs::remove_file(&tmp).map_err(fail)?;
    }
    let target = open_db(&tmp, opts, false).map_err(|c| match c {
        Class::Io(e) => fail(e),
        Class::Locked => fail(io::Error::other("salvage file is locked")),
        Class::Format(d) | Class::Damaged(d) => fail(io::Error::other(d)),
    })?;
    // Creates the tables, so counting works before the first copy.
    restore(&target).map_err(|c| fail(class_to_io(c)))?;
    let mut copy = Copy {
        target: &target,
        pending: Vec::new(),
        salvaged: 0,
        bad: 0,
        max_id: None,
    };
    let mut expected = None;
    let mut next_id = 0u64;
    let mut clean = false;
    // The newest commit first; the previous one (redb's repair) only if that was not clean.
    for check in [false, true] {
        let Ok(source) = open_db(path, opts, check) else {
            continue;
        };
        let meta = read_meta(&source);
        if let Some((n, count)) = meta {
            next_id = next_id.max(n);
            expected = expected.or(Some(count));
        }
        let end = meta.map_or(u64::MAX, |(n, _)| n.max(1));
        let before = copy.salvaged + copy.pending.len() as u64;
        clean = copy_from(&source, end, &mut copy).map_err(fail)?;
        // A tree can be damaged so that reads end early without an error: the counts tell.
        let read = copy.salvaged + copy.pending.len() as u64 - before + copy.bad;
        clean &= meta.is_none_or(|(_, count)| read >= count);
        let _ = guarded(move || {
            drop(source);
            Ok(())
        });
        if clean {
            break;
        }
    }
    copy.flush().map_err(fail)?;
    let next_id = next_id.max(copy.max_id.map_or(0, |m| m.saturating_add(1)));
    guarded(|| write(&target, &[], &[], next_id)).map_err(|c| fail(class_to_io(c)))?;
    let (salvaged, bad) = (copy.salvaged, copy.bad);
    let _ = guarded(move || {
        drop(target);
        Ok(())
    });
    let aside = {
        let mut s = path.as_os_str().to_owned();
        s.push(format!(".damaged-{}", jiff::Timestamp::now().as_second()));
        PathBuf::from(s)
    };
    std::fs::rename(path, &aside).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    let (lost, exact) = match expected {
        Some(e) if clean || e >= salvaged => (e.saturating_sub(salvaged).max(bad), true),
        _ => (bad, false),
    };
    let lost_text = if exact {
        lost.to_string()
    } else {
        format!("unknown (at least {lost})")
    };
    tracing::error!(
        path = %path.display(),
        aside = %aside.display(),
        salvaged,
        lost = %lost_text,
        reason = why,
        "disk queue was damaged: salvaged what could be read into a fresh file"
    );
    Ok(Salvage {
        salvaged,
        lost,
        exact,
        aside,
    })
}

fn class_to_io(c: Class) -> io::Error {
    match c {
        Class::Io(e) => e,
        Class::Locked => io::Error::other("locked"),
        Class::Format(d) | Class::Damaged(d) => io::Error::other(d),
    }
}

/// (next id, record count) from the `meta` table, when it reads.
fn read_meta(db: &Database) -> Option<(u64, u64)> {
    guarded(|| {
        let txn = db.begin_read().map_err(classify)?;
        let meta = txn.open_table(META).map_err(classify)?;
        let get = |k| -> Result<Option<u64>, Class> {
            Ok(meta.get(k).map_err(classify)?.map(|v| v.value()))
        };
        Ok(get(NEXT_ID)?.zip(get(COUNT)?))
    })
    .ok()
    .flatten()
}

struct Copy<'a> {
    target: &'a Database,
    pending: Vec<(u64, Vec<u8>)>,
    salvaged: u64,
    bad: u64,
    max_id: Option<u64>,
}

impl Copy<'_> {
    fn add(&mut self, id: u64, value: Vec<u8>) -> io::Result<()> {
        if Record::decode(&value).is_err() {
            self.bad += 1;
            return Ok(());
        }
        self.max_id = Some(self.max_id.map_or(id, |m| m.max(id)));
        self.pending.push((id, value));
        if self.pending.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let before = self.count()?;
        guarded(|| write(self.target, &self.pending, &[], 0)).map_err(class_to_io)?;
        let after = self.count()?;
        // Ids seen in both commits are counted once.
        self.salvaged += after.saturating_sub(before);
        self.pending.clear();
        Ok(())
    }

    fn count(&self) -> io::Result<u64> {
        guarded(|| {
            let txn = self.target.begin_read().map_err(classify)?;
            let meta = txn.open_table(META).map_err(classify)?;
            Ok(meta.get(COUNT).map_err(classify)?.map_or(0, |v| v.value()))
        })
        .map_err(class_to_io)
    }
}

/// The first record with an id in `from..end`; `Err` if the tree could not be read there.
fn probe(db: &Database, from: u64, end: u64) -> Result<Option<(u64, Vec<u8>)>, Class> {
    guarded(|| first_in(db, from, end))
}

/// Copies every record of `source` that reads. Returns whether it read without error.
fn copy_from(source: &Database, end: u64, copy: &mut Copy<'_>) -> io::Result<bool> {
    let mut cursor = 0u64;
    let mut probes = 0u64;
    let mut clean = true;
    while cursor < end && probes < MAX_PROBES {
        probes += 1;
        match probe(source, cursor, end) {
            Ok(Some((id, value))) => {
                copy.add(id, value)?;
                match id.checked_add(1) {
                    Some(n) => cursor = n,
                    None => break,
                }
            }
            Ok(None) => break,
            Err(_) => {
                clean = false;
                // Find a start past the damage: double the step until a probe reads...
                let failed = cursor;
                let mut step = 1u64;
                let mut found = None;
                while probes < MAX_PROBES {
                    let at = failed.saturating_add(step);
                    if at >= end {
                        break;
                    }
                    probes += 1;
                    if probe(source, at, end).is_ok() {
                        found = Some(at);
                        break;
                    }
                    step = step.saturating_mul(2);
                }
                let Some(mut hi) = found else {
                    break;
                };
                // ...then bisect back to the first start that reads, so no readable record
                // between the damage and that start is skipped.
                let mut lo = failed.saturating_add(step / 2);
                while hi - lo > 1 && probes < MAX_PROBES {
                    probes += 1;
                    let mid = lo + (hi - lo) / 2;
                    if probe(source, mid, end).is_ok() {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
                cursor = hi;
            }
        }
    }
    Ok(clean && probes < MAX_PROBES)
}
