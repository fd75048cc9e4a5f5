//! Adjustments made through the API: kept in `slo.state_dir/adjustments.json` (written to a
//! temporary file, synced and renamed over the old one, so a crash leaves the old or the
//! new list, never half of one) and audited in `adjustments-audit.jsonl`, one JSON line
//! per creation or deletion with who and why (rotated to `.1` past 4 MiB). Without a state
//! directory they live in memory until the process ends.
//!
//! At most [`MAX_ADJUSTMENTS`] at once; creating one when full first drops those whose
//! ranges have all ended (audited as `expire`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{Adjustment, Doc, Registry, rfc3339};

/// The state file, in `slo.state_dir`.
pub const FILE: &str = "adjustments.json";
/// The audit log, in `slo.state_dir`.
pub const AUDIT: &str = "adjustments-audit.jsonl";
/// API adjustments at most.
pub const MAX_ADJUSTMENTS: usize = 256;
/// The largest state file read.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// The audit log rotates past this size.
const MAX_AUDIT_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Invalid(#[from] super::AdjustError),
    #[error("{MAX_ADJUSTMENTS} adjustments exist already: delete some first")]
    Full,
    #[error("no adjustment {0:?}")]
    NotFound(String),
    #[error("adjustment {0:?} is defined in an slo file: change the file instead")]
    InFile(String),
    #[error("cannot write the adjustments to {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The state file's content.
#[derive(serde::Serialize, serde::Deserialize)]
struct State {
    adjustments: Vec<Doc>,
}

/// One line of the audit log.
#[derive(serde::Serialize)]
struct AuditLine<'a> {
    at: String,
    action: &'a str,
    id: &'a str,
    author: &'a str,
    reason: &'a str,
    adjustment: &'a Doc,
}

/// The API's adjustments, in the registry the engine reads.
pub struct Store {
    dir: Option<PathBuf>,
    registry: Arc<Registry>,
    /// Serializes changes: each one is written before the next starts.
    list: Mutex<Vec<Arc<Adjustment>>>,
}

impl Store {
    /// Loads the adjustments saved in `dir` into `registry`. An unreadable file is set
    /// aside (`adjustments.json.corrupt-<time>`) and logged; an entry that no longer
    /// validates is skipped and logged.
    pub fn open(dir: Option<&Path>, registry: Arc<Registry>) -> Self {
        let mut list = Vec::new();
        if let Some(dir) = dir {
            let path = dir.join(FILE);
            match read(&path) {
                Ok(None) => {}
                Ok(Some(state)) => {
                    for doc in state.adjustments {
                        let id = doc.id.clone();
                        match Adjustment::new(doc) {
                            Ok(a) => list.push(Arc::new(a)),
                            Err(e) => tracing::error!(
                                id,
                                error = %e,
                                "a saved adjustment no longer validates; skipped"
                            ),
                        }
                    }
                    tracing::info!(adjustments = list.len(), "budget adjustments restored");
                }
                Err(why) => {
                    let (aside, moved) = crate::regular_file::set_aside(&path);
                    tracing::error!(
                        file = %path.display(),
                        moved_to = %aside.display(),
                        moved = moved.is_ok(),
                        reason = %why,
                        "the saved budget adjustments are unreadable; starting without them"
                    );
                }
            }
        }
        registry.set_api(list.clone());
        Self {
            dir: dir.map(Path::to_path_buf),
            registry,
            list: Mutex::new(list),
        }
    }

    /// Whether changes survive a restart.
    pub fn persisted(&self) -> bool {
        self.dir.is_some()
    }

    /// The API's adjustments.
    pub fn list(&self) -> Vec<Arc<Adjustment>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Adds a validated adjustment made at `now` (its `id` and `created_at` are set here),
    /// saves and audits it.
    pub fn create(&self, mut doc: Doc, now: u64) -> Result<Arc<Adjustment>, StoreError> {
        let mut list = self.list.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = list.clone();
        if next.len() >= MAX_ADJUSTMENTS {
            let (ended, kept): (Vec<_>, Vec<_>) =
                next.into_iter().partition(|a| a.ended_before(now));
            next = kept;
            for a in &ended {
                self.audit("expire", &a.doc, "slotel", "all its ranges have ended", now);
            }
            if next.len() >= MAX_ADJUSTMENTS {
                return Err(StoreError::Full);
            }
        }
        let mut id = format!("api-{now:x}");
        let mut n = 0u32;
        while next.iter().any(|a| a.doc.id == id) {
            n += 1;
            id = format!("api-{now:x}-{n}");
        }
        doc.id = id;
        doc.created_at = Some(rfc3339(now));
        let added = Arc::new(Adjustment::new(doc).map_err(StoreError::Invalid)?);
        next.push(added.clone());
        self.save(&next)?;
        let author = added.doc.author.as_deref().unwrap_or("");
        self.audit("create", &added.doc, author, &added.doc.reason, now);
        *list = next;
        self.registry.set_api(list.clone());
        Ok(added)
    }

    /// Deletes adjustment `id`, saves and audits who and why.
    pub fn delete(
        &self,
        id: &str,
        author: &str,
        reason: &str,
        now: u64,
    ) -> Result<Arc<Adjustment>, StoreError> {
        let mut list = self.list.lock().unwrap_or_else(|p| p.into_inner());
        let Some(i) = list.iter().position(|a| a.doc.id == id) else {
            if self.registry.all().iter().any(|a| a.doc.id == id) {
                return Err(StoreError::InFile(id.to_string()));
            }
            return Err(StoreError::NotFound(id.to_string()));
        };
        let mut next = list.clone();
        let gone = next.remove(i);
        self.save(&next)?;
        self.audit("delete", &gone.doc, author, reason, now);
        *list = next;
        self.registry.set_api(list.clone());
        Ok(gone)
    }

    fn save(&self, list: &[Arc<Adjustment>]) -> Result<(), StoreError> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let path = dir.join(FILE);
        let io = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        let state = State {
            adjustments: list.iter().map(|a| a.doc.clone()).collect(),
        };
        let body = serde_json::to_vec_pretty(&state).map_err(|e| io(std::io::Error::other(e)))?;
        std::fs::create_dir_all(dir).map_err(io)?;
        let tmp = dir.join(format!("{FILE}.tmp"));
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&body).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(io)?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        Ok(())
    }

    /// Logs a change with who and why, and appends it to the audit log.
    fn audit(&self, action: &str, doc: &Doc, author: &str, reason: &str, now: u64) {
        tracing::info!(
            action,
            id = doc.id,
            service = doc.service,
            author,
            reason,
            "budget adjustment changed"
        );
        let Some(dir) = &self.dir else { return };
        let line = AuditLine {
            at: rfc3339(now),
            action,
            id: &doc.id,
            author,
            reason,
            adjustment: doc,
        };
        let path = dir.join(AUDIT);
        let result = (|| -> std::io::Result<()> {
            if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_AUDIT_BYTES) {
                std::fs::rename(&path, dir.join(format!("{AUDIT}.1")))?;
            }
            let mut body = serde_json::to_vec(&line).map_err(std::io::Error::other)?;
            body.push(b'\n');
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            f.write_all(&body)?;
            f.sync_data()
        })();
        if let Err(e) = result {
            tracing::error!(error = %e, file = %path.display(), "cannot append to the adjustments audit log");
        }
    }
}

/// Why the saved state cannot be used.
#[derive(Debug, thiserror::Error)]
enum Unusable {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("it holds more than {MAX_ADJUSTMENTS} adjustments")]
    TooMany,
}

/// The saved state: `None` when there is none; `Err` when it cannot be used.
fn read(path: &Path) -> Result<Option<State>, Unusable> {
    // A regular file only (a FIFO in the state directory would block start-up), of at most
    // `MAX_FILE_BYTES`.
    let bytes = match crate::regular_file::read(path, MAX_FILE_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let state: State = serde_json::from_slice(&bytes)?;
    if state.adjustments.len() > MAX_ADJUSTMENTS {
        return Err(Unusable::TooMany);
    }
    Ok(Some(state))
}
