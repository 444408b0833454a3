//! `--output FILE`, the only write dockdoc makes. What happens depends on what FILE is:
//!
//! - a regular file, or a path that does not exist yet: the report goes to a temporary file in
//!   the same directory (so the rename cannot cross filesystems), is flushed to disk, made mode
//!   0644, and renamed over FILE; then the directory is flushed so the rename survives a crash.
//!   A reader (node_exporter's textfile collector, Ansible) sees the old file or the new one,
//!   never a part. A run interrupted before the rename leaves the old file as it was, and at
//!   most a `.NAME.*.tmp` file, which the textfile collector ignores (it reads `*.prom`);
//! - a character device (a terminal, `/dev/null`) or a FIFO: written through, as a shell's `>`
//!   would, and every write error is the run's (ENOSPC from `/dev/full`); the node is left as
//!   it is. A unix socket is connected to and written through the same way;
//! - a directory or a block device: refused, nothing is written;
//! - a symbolic link: what it points to decides, by the rules above. A link to a regular file
//!   keeps being a link: the file it points to is replaced, in that file's own directory. A
//!   link that points nowhere is refused.

use std::fs::{File, FileType, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` as described above. Errors: the directory cannot be written, the
/// disk or device is full, or `path` names something a report cannot go to (a directory, a
/// block device, a link that points nowhere).
pub fn write_report(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let ty = match std::fs::metadata(path) {
        Ok(meta) => meta.file_type(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(refused("a symbolic link that points nowhere"));
            }
            return write_atomic(path, bytes);
        }
        Err(e) => return Err(e),
    };
    if ty.is_file() {
        // Replace the file a link points to, not the link.
        let target = if std::fs::symlink_metadata(path)?.file_type().is_symlink() {
            std::fs::canonicalize(path)?
        } else {
            path.to_path_buf()
        };
        write_atomic(&target, bytes)
    } else if ty.is_char_device() || ty.is_fifo() {
        write_through(path, bytes)
    } else if ty.is_socket() {
        let mut socket = UnixStream::connect(path)?;
        socket.write_all(bytes)?;
        socket.flush()
    } else {
        Err(refused(kind(ty)))
    }
}

fn refused(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {what}, not a file, device, FIFO or socket a report can go to"),
    )
}

fn kind(ty: FileType) -> &'static str {
    if ty.is_dir() {
        "a directory"
    } else if ty.is_block_device() {
        "a block device"
    } else {
        "neither a file nor a device"
    }
}

/// Opens a character device or FIFO for writing (no truncation, no creation) and writes the
/// whole report. The opened node is checked again: a regular file swapped in since the first
/// look is refused rather than overwritten in place.
fn write_through(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut node = OpenOptions::new().write(true).open(path)?;
    let ty = node.metadata()?.file_type();
    if !(ty.is_char_device() || ty.is_fifo()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it changed from a device or FIFO while it was being opened",
        ));
    }
    node.write_all(bytes)?;
    node.flush()
}

/// Replaces the regular file `path` (or creates it) with `bytes` atomically.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let dir: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file()
        .set_permissions(Permissions::from_mode(0o644))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    File::open(&dir)?.sync_all()
}
