//! `--output FILE`, the only write dockdoc makes: the report goes to a temporary file in the
//! same directory (so the rename cannot cross filesystems), is flushed to disk, made mode
//! 0644, and renamed over FILE; then the directory is flushed so the rename survives a crash.
//! A reader (node_exporter's textfile collector, Ansible) sees the old file or the new one,
//! never a part. A run interrupted before the rename leaves the old file as it was, and at
//! most a `.NAME.*.tmp` file, which the textfile collector ignores (it reads `*.prom`).

use std::fs::{File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Replaces `path` with `bytes` atomically, as described above. Errors: the directory cannot
/// be written, the disk is full, or `path` names a directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file()
        .set_permissions(Permissions::from_mode(0o644))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}
