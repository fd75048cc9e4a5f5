//! One process per `slo.state_dir`: the directory is locked (an advisory `flock` on
//! `<state_dir>/lock`) before its snapshot is restored and held until the last snapshot
//! is written at shutdown.
//!
//! Two processes on one state directory would each replay the other's write-ahead log,
//! write frames at the same positions and delete segments the other still needs once
//! their own snapshot covers them: events one of them acknowledged would be lost at the
//! next restart. A second slotel (a replica given the same volume, an old pod still
//! draining) is refused at start instead, naming the directory; the first one keeps
//! running untouched. The lock goes with the process, so `kill -9` leaves nothing to
//! clean up.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// The lock file's name in the state directory.
pub const FILE: &str = "lock";

/// Why the state directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum StateLockError {
    #[error(
        "slo state directory {} is locked by another process (is another slotel using the same slo.state_dir?)",
        .0.display()
    )]
    Locked(PathBuf),
    /// The cause is in the message: start-up errors are logged by their message alone.
    #[error("cannot lock the slo state directory {}: {}", .0.display(), .1)]
    Io(PathBuf, std::io::Error),
}

/// The held lock of one state directory; released when dropped (or the process ends).
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

impl StateLock {
    /// Creates `state_dir` if needed and locks it, without waiting.
    pub fn take(state_dir: &Path) -> Result<StateLock, StateLockError> {
        let io = |e| StateLockError::Io(state_dir.to_path_buf(), e);
        std::fs::create_dir_all(state_dir).map_err(io)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(state_dir.join(FILE))
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(StateLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(StateLockError::Locked(state_dir.to_path_buf())),
            Err(TryLockError::Error(e)) => Err(io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_directory_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let first = StateLock::take(&state).unwrap();
        let err = StateLock::take(&state).unwrap_err();
        assert!(matches!(err, StateLockError::Locked(_)), "{err}");
        assert!(err.to_string().contains("locked by another process"));
        drop(first);
        StateLock::take(&state).unwrap();
    }

    #[test]
    fn a_state_dir_that_is_a_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state");
        std::fs::write(&file, b"x").unwrap();
        let err = StateLock::take(&file).unwrap_err();
        assert!(matches!(err, StateLockError::Io(..)), "{err}");
        let said = err.to_string();
        assert!(said.contains(&file.display().to_string()), "{said}");
        assert!(said.contains("os error"), "the cause is said: {said}");
    }
}
