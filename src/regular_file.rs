//! The one way slotel opens a file it reads: the config and SLO files (read again on every
//! reload), `${file:…}` values, TLS certificates and keys, Sloth specs, capture files and
//! the SLO state's log segments.
//!
//! Only regular files are read (symbolic links followed). A FIFO would block the open until
//! a writer came — a reload would then hold the process, which no longer answered SIGTERM —
//! and a device such as `/dev/zero` never ends. The open itself never blocks (`O_NONBLOCK`,
//! which changes nothing for a regular file) and the kind is taken from the opened file,
//! so a file swapped between a check and the open cannot slip through. Reads are bounded
//! by the caller's limit: a file that grows while it is read is read up to the limit.

use std::fs::{File, FileType};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Moves the unusable file `path` aside, to `<name>.corrupt-<Unix seconds>` beside it, so
/// that slotel starts without it and the file is kept for a look; returns where it went
/// and whether the move worked.
pub fn set_aside(path: &Path) -> (PathBuf, io::Result<()>) {
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy().into_owned());
    let aside = path.with_file_name(format!("{name}.corrupt-{}", crate::unix_time::now_secs()));
    let moved = std::fs::rename(path, &aside);
    (aside, moved)
}

/// Opens `path` for reading if it is a regular file; anything else is an error of kind
/// [`io::ErrorKind::InvalidInput`] saying what it is.
pub fn open(path: &Path) -> io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a regular file but {}", describe(kind)),
        ));
    }
    Ok(file)
}

fn describe(kind: FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "of another kind"
    }
}

/// The bytes of the regular file `path`, which may hold at most `max`; past that, an
/// error of kind [`io::ErrorKind::FileTooLarge`]: at once when its size says so (a sparse
/// file is not read through), else once `max + 1` bytes were read (a file growing).
pub fn read(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let file = open_at_most(path, max)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    too_large(bytes.len() as u64, max)?;
    Ok(bytes)
}

/// Why a file the caller names (`what`: "config file", "slo file") could not be read, in
/// the words every such message uses: `cannot read config file: not a regular file but a
/// FIFO`, `slo file is larger than 4 MiB`.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {what}: {}", crate::yaml::interpolate::lowercase_first(&.source.to_string()))]
    Io {
        what: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{what} is larger than {}", size(*.max))]
    TooLarge { what: &'static str, max: u64 },
}

/// [`read_to_string`], its errors named by `what` the file is.
pub fn read_text(path: &Path, max: u64, what: &'static str) -> Result<String, ReadError> {
    read_to_string(path, max).map_err(|source| match source.kind() {
        io::ErrorKind::FileTooLarge => ReadError::TooLarge { what, max },
        _ => ReadError::Io { what, source },
    })
}

/// [`read`] for a text file (UTF-8).
pub fn read_to_string(path: &Path, max: u64) -> io::Result<String> {
    let file = open_at_most(path, max)?;
    let mut text = String::new();
    file.take(max.saturating_add(1)).read_to_string(&mut text)?;
    too_large(text.len() as u64, max)?;
    Ok(text)
}

fn open_at_most(path: &Path, max: u64) -> io::Result<File> {
    let file = open(path)?;
    too_large(file.metadata()?.len(), max)?;
    Ok(file)
}

fn too_large(len: u64, max: u64) -> io::Result<()> {
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("file is larger than {}", size(max)),
        ));
    }
    Ok(())
}

/// `max` in the largest binary unit that divides it.
fn size(max: u64) -> String {
    match max {
        m if m >= 1 << 30 && m % (1 << 30) == 0 => format!("{} GiB", m >> 30),
        m if m >= 1 << 20 && m % (1 << 20) == 0 => format!("{} MiB", m >> 20),
        m if m >= 1 << 10 && m % (1 << 10) == 0 => format!("{} KiB", m >> 10),
        m => format!("{m} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::time::Duration;

    use super::*;

    fn fifo(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("fifo");
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        path
    }

    #[test]
    fn a_fifo_without_a_writer_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = fifo(dir.path());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(read_to_string(&path, 1024)));
        // A blocking open would wait for a writer for ever.
        let e = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the open blocked")
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(e.to_string(), "not a regular file but a FIFO");
    }

    #[test]
    fn an_endless_device_is_refused_and_so_is_a_link_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("token");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        for path in [Path::new("/dev/zero"), &link] {
            let e = read(path, 1 << 20).unwrap_err();
            assert_eq!(e.to_string(), "not a regular file but a character device");
        }
        let e = read(dir.path(), 1 << 20).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file but a directory");
    }

    #[test]
    fn a_regular_file_is_read_up_to_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&[b'a'; 2048])
            .unwrap();
        assert_eq!(read(&path, 2048).unwrap().len(), 2048);
        assert_eq!(read_to_string(&path, 4096).unwrap().len(), 2048);
        let e = read(&path, 2047).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(e.to_string(), "file is larger than 2047 bytes");
        assert_eq!(
            read_to_string(&path, 1024).unwrap_err().to_string(),
            "file is larger than 1 KiB"
        );
    }

    #[test]
    fn a_named_file_is_named_in_each_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slos.yaml");
        std::fs::write(&path, "a".repeat(3 << 20)).unwrap();
        assert_eq!(
            read_text(&path, 4 << 20, "slo file").unwrap().len(),
            3 << 20
        );
        assert_eq!(
            read_text(&path, 2 << 20, "slo file")
                .unwrap_err()
                .to_string(),
            "slo file is larger than 2 MiB"
        );
        assert_eq!(
            read_text(dir.path(), 1 << 20, "config file")
                .unwrap_err()
                .to_string(),
            "cannot read config file: not a regular file but a directory"
        );
        assert_eq!(
            read_text(&dir.path().join("gone"), 1 << 20, "config file")
                .unwrap_err()
                .to_string(),
            "cannot read config file: no such file or directory (os error 2)"
        );
    }

    #[test]
    fn a_sparse_file_past_the_limit_is_refused_by_its_size_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse");
        // 1 TiB of holes: reading it through would take hours.
        std::fs::File::create(&path)
            .unwrap()
            .set_len(1 << 40)
            .unwrap();
        let e = read(&path, 1 << 20).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(e.to_string(), "file is larger than 1 MiB");
    }
}
