//! The disk queue's store: a redb database, one per exporter.
//!
//! redb is an embedded, crash-safe key-value store (copy-on-write B-trees, checksummed
//! pages, fsync on commit). Records are keyed by a growing id, so iteration order is queue
//! order. Appends and deletes are batched into one write transaction per commit, which is
//! the batched fsync the queue promises.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

const RECORDS: TableDefinition<u64, &[u8]> = TableDefinition::new("records");

pub struct Store {
    db: Database,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Store {
    /// Opens `<dir>/<name>.redb` and lists what it holds as (id, size). A file that
    /// cannot be opened (corrupt, from another program) is renamed aside with a
    /// `.corrupt-<time>` suffix and a new queue is started, so slotel still starts.
    pub fn open(dir: &Path, name: &str) -> Result<(Self, Vec<(u64, usize)>), String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create queue directory {}: {e}", dir.display()))?;
        let file: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{file}.redb"));
        match Self::open_at(&path) {
            Ok(opened) => Ok(opened),
            Err(e) => {
                let aside = PathBuf::from(format!(
                    "{}.corrupt-{}",
                    path.display(),
                    jiff::Timestamp::now().as_second()
                ));
                tracing::error!(path = %path.display(), aside = %aside.display(), error = %e,
                    "disk queue cannot be opened; setting it aside and starting an empty one");
                std::fs::rename(&path, &aside)
                    .map_err(|e| format!("cannot set aside {}: {e}", path.display()))?;
                Self::open_at(&path)
            }
        }
    }

    fn open_at(path: &Path) -> Result<(Self, Vec<(u64, usize)>), String> {
        let db = Database::create(path).map_err(err)?;
        {
            // Make sure the table exists, so reads never see "no such table".
            let txn = db.begin_write().map_err(err)?;
            txn.open_table(RECORDS).map_err(err)?;
            txn.commit().map_err(err)?;
        }
        let mut index = Vec::new();
        {
            let txn = db.begin_read().map_err(err)?;
            let table = txn.open_table(RECORDS).map_err(err)?;
            for item in table.iter().map_err(err)? {
                let (k, v) = item.map_err(err)?;
                index.push((k.value(), v.value().len()));
            }
        }
        Ok((Self { db }, index))
    }

    /// Writes `inserts` and removes `deletes` in one durable transaction.
    pub fn commit(&self, inserts: &[(u64, Vec<u8>)], deletes: &[u64]) -> Result<(), String> {
        let txn = self.db.begin_write().map_err(err)?;
        {
            let mut table = txn.open_table(RECORDS).map_err(err)?;
            for (id, bytes) in inserts {
                table.insert(*id, bytes.as_slice()).map_err(err)?;
            }
            for id in deletes {
                table.remove(*id).map_err(err)?;
            }
        }
        txn.commit().map_err(err)
    }

    pub fn get(&self, id: u64) -> Result<Option<Vec<u8>>, String> {
        let txn = self.db.begin_read().map_err(err)?;
        let table = txn.open_table(RECORDS).map_err(err)?;
        Ok(table.get(id).map_err(err)?.map(|v| v.value().to_vec()))
    }
}
