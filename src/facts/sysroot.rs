//! Every file dockdoc reads goes through a [`Sysroot`], so `--root DIR` (and the tests'
//! fixture trees) see exactly what the live system would show.
//!
//! Under a root other than `/`, every path is resolved as if that root were `/`: a symlink's
//! absolute target starts again at the root, `..` at the root stays there, and a loop is
//! `ELOOP`. The kernel does it (openat2(2) with `RESOLVE_IN_ROOT`) where it has openat2, and
//! [`walk`] does the same in user space where it does not. Under `/` the kernel's own
//! resolution is that already, and plain `open` is used.
//!
//! A file is opened with `O_NONBLOCK` (a FIFO then cannot wait for a writer) after a look at
//! what it is through an `O_PATH` descriptor (a device is never opened), and the descriptor
//! opened for reading is checked again with `fstat`: anything but a regular file is refused,
//! with its type named.

mod walk;

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rustix::fs::{Mode, OFlags, RawDir, ResolveFlags};
use rustix::io::Errno;

use crate::error::ProbeError;

pub use walk::{MAX_SYMLINKS, Resolved};

/// Files larger than this are refused: nothing dockdoc reads is legitimately bigger, and a
/// huge file where a small one belongs must not stall the run.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Sysroot {
    root: PathBuf,
    kept: Arc<Kept>,
}

/// What this sysroot has already read, so each file and directory is read once per run: the
/// run sees one snapshot, and probes that need the same source (`/etc/group` for the user and
/// the socket's group, `/proc/cpuinfo` for the CPU count and the virtualisation flags, pacman's
/// local database for the kernel and the packages) share one read.
#[derive(Default)]
struct Kept {
    /// Directories listed by [`Sysroot::read_dir_names_with_prefix`].
    listings: Mutex<HashMap<String, Arc<Listing>>>,
    /// Files read by [`Sysroot::read_bytes`]: their bytes, or the OS error reading them gave.
    files: Mutex<HashMap<String, KeptFile>>,
    /// The root directory (`O_PATH`), opened on first use; the OS error when it cannot be.
    root_fd: OnceLock<Result<OwnedFd, Errno>>,
    /// Set once openat2 answered `ENOSYS` (or `EPERM`): the user-space walk resolves from then on.
    no_openat2: AtomicBool,
}

#[derive(Clone)]
enum KeptFile {
    Bytes(Arc<[u8]>),
    OsError(i32),
}

/// The names of one directory but `.` and `..`: name `i` is `names[ends[i - 1]..ends[i]]`.
struct Listing {
    names: Vec<u8>,
    ends: Vec<usize>,
}

impl Listing {
    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .filter_map(|(start, end)| self.names.get(start..end))
    }
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn keys<V>(m: &Mutex<HashMap<String, V>>) -> Vec<String> {
            m.lock()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        }
        f.debug_struct("Kept")
            .field("listings", &keys(&self.listings))
            .field("files", &keys(&self.files))
            .finish()
    }
}

impl Default for Sysroot {
    fn default() -> Self {
        Sysroot::new("/")
    }
}

/// An entry of a directory: its name and whether it is a directory (not following a symlink).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub is_dir: bool,
}

/// An entry of a directory with its owner and mode, as `lstat` gives them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatEntry {
    pub name: String,
    pub is_dir: bool,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

/// What a file is, as an error message names it ("is a FIFO").
pub fn kind_name(kind: rustix::fs::FileType) -> &'static str {
    use rustix::fs::FileType;
    match kind {
        FileType::RegularFile => "a regular file",
        FileType::Directory => "a directory",
        FileType::Symlink => "a symbolic link",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Unknown => "of an unknown type",
    }
}

/// Reads an open file (a descriptor opened with `O_NONBLOCK`): `fstat` on the descriptor
/// refuses anything but a regular file, naming what it is, and more than `limit` bytes is
/// [`ProbeError::TooLarge`]. `shown` names the file in errors. Shared by the sysroot and by
/// the files named on the command line (`--facts`).
pub fn read_regular(fd: OwnedFd, shown: &str, limit: u64) -> Result<Vec<u8>, ProbeError> {
    let err = |source| ProbeError::Io {
        path: shown.to_owned(),
        source,
    };
    let stat = rustix::fs::fstat(&fd).map_err(|e| err(e.into()))?;
    let kind = rustix::fs::FileType::from_raw_mode(stat.st_mode);
    if kind != rustix::fs::FileType::RegularFile {
        return Err(ProbeError::NotAFile {
            path: shown.to_owned(),
            kind: kind_name(kind),
        });
    }
    let size = u64::try_from(stat.st_size).unwrap_or(0);
    if size > limit {
        return Err(ProbeError::TooLarge {
            path: shown.to_owned(),
            limit,
        });
    }
    // Sized up front: without a hint, reading through `take` starts with 32-byte reads.
    // Files in /proc report size 0; a page holds most of them.
    let hint = usize::try_from(size).unwrap_or(0);
    let mut buf = Vec::with_capacity(if hint == 0 { 4096 } else { hint + 1 });
    // Read one byte past the limit to tell "exactly at the limit" from "too big"; files in
    // /proc report size 0, so the length of what was read is what counts.
    fs::File::from(fd)
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(err)?;
    if buf.len() as u64 > limit {
        return Err(ProbeError::TooLarge {
            path: shown.to_owned(),
            limit,
        });
    }
    Ok(buf)
}

/// Reads a regular file of at most `limit` bytes: a look first (`look`, which opens nothing),
/// so a device is never opened, then `open` (with `O_NONBLOCK`, so a FIFO swapped in cannot
/// wait for a writer) and [`read_regular`] on the descriptor. `shown` names the file in errors.
fn look_then_read(
    shown: &str,
    limit: u64,
    look: impl FnOnce() -> Result<fs::Metadata, ProbeError>,
    open: impl FnOnce() -> Result<OwnedFd, ProbeError>,
) -> Result<Vec<u8>, ProbeError> {
    let meta = look()?;
    if !meta.is_file() {
        return Err(not_a_file(shown, &meta));
    }
    read_regular(open()?, shown, limit)
}

/// Reads a regular file named on the command line (`--facts FILE`), of at most `limit` bytes,
/// with the same guards as a file under the sysroot: a FIFO, a device or a directory is refused
/// by its type, and a larger file by its size, before anything is read.
pub fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, ProbeError> {
    let shown = path.display().to_string();
    let io = |source| ProbeError::Io {
        path: shown.clone(),
        source,
    };
    look_then_read(
        &shown,
        limit,
        || fs::metadata(path).map_err(io),
        || {
            rustix::fs::open(
                path,
                with_always(OFlags::RDONLY | OFlags::NONBLOCK),
                Mode::empty(),
            )
            .map_err(|e| io(e.into()))
        },
    )
}

/// `flags` with what every open adds: no descriptor leaks into a child, and no terminal
/// becomes ours (openat2 refuses any flag but a few with `O_PATH`, which opens nothing).
fn with_always(flags: OFlags) -> OFlags {
    if flags.contains(OFlags::PATH) {
        flags | OFlags::CLOEXEC
    } else {
        flags | OFlags::CLOEXEC | OFlags::NOCTTY
    }
}

impl Sysroot {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Sysroot {
            root: root.into(),
            kept: Arc::default(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether this is the live system's root (`/`).
    pub fn is_live(&self) -> bool {
        self.root == Path::new("/")
    }

    fn root_fd(&self) -> Result<BorrowedFd<'_>, Errno> {
        let fd = self.kept.root_fd.get_or_init(|| {
            rustix::fs::open(
                &self.root,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
        });
        match fd {
            Ok(fd) => Ok(fd.as_fd()),
            Err(e) => Err(*e),
        }
    }

    /// Opens a path inside the root with `flags`, resolved as if the root were `/` (see the
    /// module's documentation).
    fn open(&self, inside: &str, flags: OFlags) -> Result<OwnedFd, Errno> {
        let flags = with_always(flags);
        if self.is_live() {
            return rustix::fs::open(
                Path::new("/").join(inside.trim_start_matches('/')),
                flags,
                Mode::empty(),
            );
        }
        let root = self.root_fd()?;
        let relative = match inside.trim_start_matches('/') {
            "" => ".",
            r => r,
        };
        if !self.kept.no_openat2.load(Ordering::Relaxed) {
            // EAGAIN: a rename elsewhere raced the kernel's walk; it asks to try again.
            for _ in 0..4 {
                match rustix::fs::openat2(
                    root,
                    relative,
                    flags,
                    Mode::empty(),
                    ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
                ) {
                    // ENOSYS: a kernel before 5.6, or a seccomp filter that hides openat2; EPERM:
                    // Docker's default filter before 20.10.10. A refusal that was not the
                    // filter's comes back the same from the walk's own opens.
                    Err(Errno::NOSYS | Errno::PERM) => {
                        self.kept.no_openat2.store(true, Ordering::Relaxed);
                        break;
                    }
                    Err(Errno::AGAIN) => continue,
                    done => return done,
                }
            }
        }
        walk::open(root, inside, flags)
    }

    /// Opens a path inside the root as [`Sysroot::open`] does, an OS error becoming
    /// [`ProbeError::Io`] naming the path inside the root.
    fn open_or_err(&self, inside: &str, flags: OFlags) -> Result<OwnedFd, ProbeError> {
        self.open(inside, flags).map_err(|e| io_error(inside, e))
    }

    /// Where a path inside the root leads: the absolute path inside the root, with every
    /// symlink followed as if the root were `/`; past a missing name, the rest by its names.
    /// A loop is an error (`ELOOP`).
    pub fn resolve(&self, inside: &str) -> Result<Resolved, ProbeError> {
        let slash;
        let root = if self.is_live() {
            slash = rustix::fs::open(
                "/",
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| io_error(inside, e))?;
            slash.as_fd()
        } else {
            self.root_fd().map_err(|e| io_error(inside, e))?
        };
        walk::resolve(root, inside).map_err(|e| io_error(inside, e))
    }

    /// The path on this machine of a path inside the root, for the calls that take a path
    /// and no descriptor (xattrs, connecting to a socket): under `/` the path itself, under
    /// another root the root joined with where the path leads inside it ([`Sysroot::resolve`]),
    /// which has no symlink left to lead out.
    pub fn host_path(&self, inside: &str) -> Result<PathBuf, ProbeError> {
        if self.is_live() {
            return Ok(Path::new("/").join(inside.trim_start_matches('/')));
        }
        let resolved = self.resolve(inside)?;
        Ok(self.root.join(resolved.path.trim_start_matches('/')))
    }

    /// Reads a text file, refusing files over [`MAX_FILE_BYTES`]. Invalid UTF-8 is replaced,
    /// so garbage still parses into "no such field" rather than an error.
    pub fn read_string(&self, inside: &str) -> Result<String, ProbeError> {
        let bytes = self.read_bytes(inside)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads a file, refusing files over [`MAX_FILE_BYTES`] and anything but a regular file.
    /// A file is read once per sysroot; a later read gets the same bytes, or the same OS error.
    pub fn read_bytes(&self, inside: &str) -> Result<Vec<u8>, ProbeError> {
        let kept = self
            .kept
            .files
            .lock()
            .ok()
            .and_then(|m| m.get(inside).cloned());
        match kept {
            Some(KeptFile::Bytes(bytes)) => return Ok(bytes.to_vec()),
            Some(KeptFile::OsError(code)) => {
                return Err(ProbeError::Io {
                    path: inside.to_owned(),
                    source: std::io::Error::from_raw_os_error(code),
                });
            }
            None => {}
        }
        let read = self.read_bytes_now(inside);
        let keep = match &read {
            Ok(bytes) => Some(KeptFile::Bytes(Arc::from(bytes.as_slice()))),
            Err(ProbeError::Io { source, .. }) => source.raw_os_error().map(KeptFile::OsError),
            // Refusals (a directory, a FIFO, too large) are decided again, cheaply.
            Err(_) => None,
        };
        if let (Some(keep), Ok(mut m)) = (keep, self.kept.files.lock()) {
            m.insert(inside.to_owned(), keep);
        }
        read
    }

    fn read_bytes_now(&self, inside: &str) -> Result<Vec<u8>, ProbeError> {
        // The look goes through a descriptor that opens nothing: a device is never opened (a
        // watchdog would start counting, a tape would rewind).
        look_then_read(
            inside,
            MAX_FILE_BYTES,
            || self.stat(inside, true),
            || self.open_or_err(inside, OFlags::RDONLY | OFlags::NONBLOCK),
        )
    }

    /// Reads a file when it exists; `Ok(None)` when it does not.
    pub fn read_optional(&self, inside: &str) -> Result<Option<String>, ProbeError> {
        match self.read_string(inside) {
            Ok(s) => Ok(Some(s)),
            Err(ProbeError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Metadata, following a final symlink (`follow`) or not, read through an `O_PATH`
    /// descriptor (which opens nothing) under another root, with stat(2) under `/`.
    fn stat(&self, inside: &str, follow: bool) -> Result<fs::Metadata, ProbeError> {
        if self.is_live() {
            let path = Path::new("/").join(inside.trim_start_matches('/'));
            let meta = if follow {
                fs::metadata(path)
            } else {
                fs::symlink_metadata(path)
            };
            return meta.map_err(|source| ProbeError::Io {
                path: inside.to_owned(),
                source,
            });
        }
        let flags = if follow {
            OFlags::PATH
        } else {
            OFlags::PATH | OFlags::NOFOLLOW
        };
        let fd = self.open_or_err(inside, flags)?;
        fs::File::from(fd)
            .metadata()
            .map_err(|source| ProbeError::Io {
                path: inside.to_owned(),
                source,
            })
    }

    /// Whether something exists at the path (following symlinks).
    pub fn exists(&self, inside: &str) -> bool {
        self.stat(inside, true).is_ok()
    }

    /// Metadata following symlinks.
    pub fn metadata(&self, inside: &str) -> Result<fs::Metadata, ProbeError> {
        self.stat(inside, true)
    }

    /// Metadata of the path itself: a final symlink is not followed (the directories on the
    /// way are, inside the root).
    pub fn symlink_metadata(&self, inside: &str) -> Result<fs::Metadata, ProbeError> {
        self.stat(inside, false)
    }

    /// Metadata when the path exists; `Ok(None)` when it does not.
    pub fn metadata_optional(&self, inside: &str) -> Result<Option<fs::Metadata>, ProbeError> {
        match self.stat(inside, true) {
            Ok(m) => Ok(Some(m)),
            Err(ProbeError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The target of a symlink, as written in it (not resolved).
    pub fn read_link(&self, inside: &str) -> Result<String, ProbeError> {
        let fd = self.open_or_err(inside, OFlags::PATH | OFlags::NOFOLLOW)?;
        rustix::fs::readlinkat(&fd, "", Vec::new())
            .map(|t| t.to_string_lossy().into_owned())
            .map_err(|e| io_error(inside, e))
    }

    /// Filesystem statistics of the filesystem holding the path (following symlinks).
    pub fn statvfs(&self, inside: &str) -> Result<rustix::fs::StatVfs, ProbeError> {
        let fd = self.open_or_err(inside, OFlags::PATH)?;
        rustix::fs::fstatvfs(&fd).map_err(|e| io_error(inside, e))
    }

    /// The names of the entries of a directory, sorted. Names that are not UTF-8 are skipped.
    /// Like [`Sysroot::read_dir_names_with_prefix`], the directory is read once per sysroot.
    pub fn read_dir_names(&self, inside: &str) -> Result<Vec<String>, ProbeError> {
        self.read_dir_names_with_prefix(inside, &[""])
    }

    /// The entries of a directory with whether each is a directory, in the order read (not
    /// kept: for walks over trees too large to keep). Names that are not UTF-8 are skipped.
    pub fn read_dir_entries(&self, inside: &str) -> Result<Vec<DirEntry>, ProbeError> {
        let fd = self.open_dir(inside)?;
        let mut out = Vec::new();
        list(&fd, |name, kind| {
            let is_dir = match kind {
                rustix::fs::FileType::Unknown => {
                    // The filesystem does not say: look, without following a symlink.
                    rustix::fs::statat(&fd, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).is_ok_and(
                        |st| {
                            rustix::fs::FileType::from_raw_mode(st.st_mode)
                                == rustix::fs::FileType::Directory
                        },
                    )
                }
                kind => kind == rustix::fs::FileType::Directory,
            };
            if let Ok(name) = std::str::from_utf8(name.to_bytes()) {
                out.push(DirEntry {
                    name: name.to_owned(),
                    is_dir,
                });
            }
        });
        Ok(out)
    }

    /// The entries of a directory with their owners and modes, each looked at relative to the
    /// open directory (no path resolved per entry, no symlink followed). Names that are not
    /// UTF-8 are skipped, and so is an entry gone since the listing.
    pub fn read_dir_stats(&self, inside: &str) -> Result<Vec<StatEntry>, ProbeError> {
        let fd = self.open_dir(inside)?;
        let mut out = Vec::new();
        list(&fd, |name, _| {
            let Ok(text) = std::str::from_utf8(name.to_bytes()) else {
                return;
            };
            if let Ok(st) = rustix::fs::statat(&fd, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
                out.push(StatEntry {
                    name: text.to_owned(),
                    is_dir: rustix::fs::FileType::from_raw_mode(st.st_mode)
                        == rustix::fs::FileType::Directory,
                    uid: st.st_uid,
                    gid: st.st_gid,
                    mode: st.st_mode,
                });
            }
        });
        Ok(out)
    }

    fn open_dir(&self, inside: &str) -> Result<OwnedFd, ProbeError> {
        self.open_or_err(
            inside,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NONBLOCK,
        )
    }

    /// The names of the entries of a directory that start with one of `prefixes`, sorted.
    /// Names that are not UTF-8 are skipped. The directory is read once per sysroot, in one
    /// pass without a `stat` or an allocation per entry; only the matches are split out and
    /// sorted, so a directory of thousands of entries costs little more than the kernel's
    /// listing of it.
    pub fn read_dir_names_with_prefix(
        &self,
        inside: &str,
        prefixes: &[&str],
    ) -> Result<Vec<String>, ProbeError> {
        let listing = self.listing(inside)?;
        let mut names: Vec<String> = listing
            .iter()
            .filter(|name| starts_with_any(name, prefixes))
            .filter_map(|name| std::str::from_utf8(name).ok().map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    /// The names in a directory, read on first use. A failed read is not kept, so it fails
    /// again the same way.
    fn listing(&self, inside: &str) -> Result<Arc<Listing>, ProbeError> {
        if let Some(listing) = self
            .kept
            .listings
            .lock()
            .ok()
            .and_then(|m| m.get(inside).cloned())
        {
            return Ok(listing);
        }
        let fd = self.open_dir(inside)?;
        let mut listing = Listing {
            names: Vec::new(),
            ends: Vec::new(),
        };
        list(&fd, |name, _| {
            listing.names.extend_from_slice(name.to_bytes());
            listing.ends.push(listing.names.len());
        });
        let listing = Arc::new(listing);
        if let Ok(mut m) = self.kept.listings.lock() {
            m.insert(inside.to_owned(), Arc::clone(&listing));
        }
        Ok(listing)
    }
}

/// Calls `each` with the name and type (`Unknown` where the filesystem does not say) of every
/// entry of an open directory but `.` and `..`, in one getdents64 pass into one buffer. A
/// read error ends the listing, as it does for `std::fs::read_dir`.
fn list(fd: &OwnedFd, mut each: impl FnMut(&std::ffi::CStr, rustix::fs::FileType)) {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut dir = RawDir::new(fd, buf.spare_capacity_mut());
    while let Some(Ok(entry)) = dir.next() {
        let name = entry.file_name();
        if name.to_bytes() != b"." && name.to_bytes() != b".." {
            each(name, entry.file_type());
        }
    }
}

fn io_error(inside: &str, errno: Errno) -> ProbeError {
    ProbeError::Io {
        path: inside.to_owned(),
        source: errno.into(),
    }
}

fn not_a_file(inside: &str, meta: &fs::Metadata) -> ProbeError {
    ProbeError::NotAFile {
        path: inside.to_owned(),
        kind: kind_name(rustix::fs::FileType::from_raw_mode(
            std::os::unix::fs::MetadataExt::mode(meta),
        )),
    }
}

/// Whether `name` starts with one of `prefixes`. Most names differ in the first byte, which is
/// compared inline before a call to compare the rest.
fn starts_with_any(name: &[u8], prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| {
        let p = p.as_bytes();
        p.first().is_none_or(|b| name.first() == Some(b)) && name.starts_with(p)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_under_the_root_and_names_the_inside_path_on_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("etc")).unwrap();
        fs::write(dir.path().join("etc/hostname"), "arch\n").unwrap();
        let root = Sysroot::new(dir.path());
        assert_eq!(root.read_string("/etc/hostname").unwrap(), "arch\n");
        let err = root.read_string("/etc/missing").unwrap_err().to_string();
        assert!(err.starts_with("/etc/missing: "), "{err}");
        assert_eq!(root.read_optional("/etc/missing").unwrap(), None);
        let err = root.read_string("/etc").unwrap_err().to_string();
        assert!(err.contains("directory"), "{err}");
    }

    #[test]
    fn dir_stats_give_each_entrys_owner_and_mode_without_following_a_symlink() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        fs::create_dir_all(d.join("sub")).unwrap();
        fs::write(d.join("file"), "").unwrap();
        fs::set_permissions(d.join("file"), fs::Permissions::from_mode(0o640)).unwrap();
        std::os::unix::fs::symlink("/nonexistent", d.join("link")).unwrap();
        let mut got = Sysroot::new(dir.path()).read_dir_stats("/d").unwrap();
        got.sort_by(|a, b| a.name.cmp(&b.name));
        let me = fs::metadata(&d).unwrap();
        let names: Vec<(&str, bool)> = got.iter().map(|e| (e.name.as_str(), e.is_dir)).collect();
        assert_eq!(names, [("file", false), ("link", false), ("sub", true)]);
        assert!(got.iter().all(|e| e.uid == me.uid() && e.gid == me.gid()));
        assert_eq!(got[0].mode & 0o7777, 0o640);
        // The link itself (a dangling one), not its target.
        assert_eq!(got[1].mode & 0o170000, 0o120000);
    }

    #[test]
    fn lists_the_names_with_a_prefix_sorted_skipping_non_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        fs::create_dir(&d).unwrap();
        for name in [
            "linux-2",
            "docker-1",
            "linux-1",
            "dbus-1",
            "lin",
            "xorg-xhost-1",
        ] {
            fs::create_dir(d.join(name)).unwrap();
        }
        fs::write(d.join("ALPM_DB_VERSION"), "9\n").unwrap();
        fs::write(d.join("docker.txt"), "").unwrap();
        fs::create_dir(d.join(std::ffi::OsStr::from_bytes(b"docker-\xff"))).unwrap();
        let root = Sysroot::new(dir.path());
        assert_eq!(
            root.read_dir_names_with_prefix("/d", &["linux", "docker"])
                .unwrap(),
            ["docker-1", "docker.txt", "linux-1", "linux-2"]
        );
        assert!(
            root.read_dir_names_with_prefix("/d", &[])
                .unwrap()
                .is_empty()
        );
        // The empty prefix lists what read_dir_names lists.
        assert_eq!(
            root.read_dir_names_with_prefix("/d", &[""]).unwrap(),
            root.read_dir_names("/d").unwrap()
        );
        for missing in ["/nope", "/d/ALPM_DB_VERSION"] {
            let err = root
                .read_dir_names_with_prefix(missing, &["x"])
                .unwrap_err();
            let plain = root.read_dir_names(missing).unwrap_err();
            assert_eq!(err.to_string(), plain.to_string());
            assert!(
                err.to_string().starts_with(&format!("{missing}: ")),
                "{err}"
            );
        }
    }

    #[test]
    fn a_file_is_read_once_per_sysroot_with_its_bytes_or_its_os_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("etc")).unwrap();
        fs::write(dir.path().join("etc/group"), "docker:x:969:alice\n").unwrap();
        let root = Sysroot::new(dir.path());
        let missing = root.read_bytes("/etc/absent").unwrap_err().to_string();
        assert_eq!(
            root.read_string("/etc/group").unwrap(),
            "docker:x:969:alice\n"
        );
        fs::write(dir.path().join("etc/group"), "changed\n").unwrap();
        fs::write(dir.path().join("etc/absent"), "now here\n").unwrap();
        let clone = root.clone();
        for r in [&root, &clone] {
            assert_eq!(r.read_string("/etc/group").unwrap(), "docker:x:969:alice\n");
            assert_eq!(
                r.read_bytes("/etc/absent").unwrap_err().to_string(),
                missing
            );
        }
        assert_eq!(
            Sysroot::new(dir.path()).read_string("/etc/group").unwrap(),
            "changed\n"
        );
        // A refusal is not an OS error: it is decided again.
        assert!(matches!(
            root.read_bytes("/etc"),
            Err(ProbeError::NotAFile { .. })
        ));
        assert!(matches!(
            root.read_bytes("/etc"),
            Err(ProbeError::NotAFile { .. })
        ));
    }

    #[test]
    fn a_directory_is_listed_once_per_sysroot_and_a_failed_listing_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let root = Sysroot::new(dir.path());
        assert!(root.read_dir_names_with_prefix("/d", &["a"]).is_err());
        fs::create_dir_all(dir.path().join("d/a-1")).unwrap();
        assert_eq!(
            root.read_dir_names_with_prefix("/d", &["a"]).unwrap(),
            ["a-1"]
        );
        fs::create_dir(dir.path().join("d/a-2")).unwrap();
        fs::create_dir(dir.path().join("d/b-1")).unwrap();
        let clone = root.clone();
        for r in [&root, &clone] {
            assert_eq!(
                r.read_dir_names_with_prefix("/d", &["a", "b"]).unwrap(),
                ["a-1"]
            );
        }
        assert_eq!(
            Sysroot::new(dir.path())
                .read_dir_names_with_prefix("/d", &["a", "b"])
                .unwrap(),
            ["a-1", "a-2", "b-1"]
        );
    }

    #[test]
    fn refuses_anything_but_a_regular_file_naming_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        nix::unistd::mkfifo(
            &r.join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        std::os::unix::net::UnixListener::bind(r.join("socket")).unwrap();
        std::os::unix::fs::symlink("/fifo", r.join("link-to-fifo")).unwrap();
        let mut cases = vec![
            ("/fifo", "/fifo: is a FIFO"),
            ("/link-to-fifo", "/link-to-fifo: is a FIFO"),
            ("/socket", "/socket: is a socket"),
            ("/", "/: is a directory"),
        ];
        // mknod needs CAP_MKNOD; the live root's /dev/null stands in without it.
        let null = nix::sys::stat::mknod(
            &r.join("null"),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o666),
            nix::sys::stat::makedev(1, 3),
        );
        if null.is_ok() {
            cases.push(("/null", "/null: is a character device"));
        }
        for walker in [false, true] {
            let root = Sysroot::new(r);
            root.kept.no_openat2.store(walker, Ordering::Relaxed);
            for (inside, says) in &cases {
                let err = root.read_string(inside).unwrap_err();
                assert!(matches!(err, ProbeError::NotAFile { .. }), "{err:?}");
                assert!(err.to_string().starts_with(says), "{err}");
            }
        }
        let err = Sysroot::default().read_string("/dev/null").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/null: is a character device, expected a regular file"
        );
    }

    /// A root with every way a link can lead out of it, and a file of the same name outside
    /// (`outside`) whose content must never be read.
    fn escaping_root() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("etc/docker")).unwrap();
        fs::create_dir_all(root.join("run/systemd/resolve")).unwrap();
        fs::write(dir.path().join("outside.json"), "outside").unwrap();
        fs::write(root.join("outside.json"), "inside").unwrap();
        fs::write(
            root.join("run/systemd/resolve/stub-resolv.conf"),
            "nameserver 127.0.0.1\n",
        )
        .unwrap();
        let link = |target: &str, at: &str| {
            std::os::unix::fs::symlink(target, root.join(at)).unwrap();
        };
        let outside = dir.path().join("outside.json");
        link(outside.to_str().unwrap(), "etc/absolute.json");
        link("../../../outside.json", "etc/docker/climbing.json");
        link("/../../outside.json", "etc/absolute-climbing.json");
        link("loop-b", "etc/loop-a");
        link("loop-a", "etc/loop-b");
        link("/run/systemd/resolve/stub-resolv.conf", "etc/resolv.conf");
        link("/", "etc/slash");
        link("/dev/null", "etc/masked");
        (dir, root)
    }

    #[test]
    fn links_resolve_as_if_the_root_were_slash_by_openat2_and_by_the_walk() {
        let (dir, r) = escaping_root();
        let outside = dir.path().join("outside.json");
        for walker in [false, true] {
            let root = Sysroot::new(&r);
            root.kept.no_openat2.store(walker, Ordering::Relaxed);
            let read = |inside: &str| root.read_string(inside).map_err(|e| e.to_string());
            // An absolute target starts again at the root: the host path is missing there.
            let err = read("/etc/absolute.json").unwrap_err();
            assert!(err.contains("No such file"), "{walker}: {err}");
            assert!(
                !root.exists("/etc/absolute.json"),
                "{walker}: {}",
                outside.display()
            );
            // `..` stays at the root.
            assert_eq!(read("/etc/docker/climbing.json").unwrap(), "inside");
            assert_eq!(read("/etc/absolute-climbing.json").unwrap(), "inside");
            assert_eq!(read("/../../../outside.json").unwrap(), "inside");
            assert_eq!(read("/etc/slash/etc/slash/outside.json").unwrap(), "inside");
            // Arch's own absolute link, under the root.
            assert_eq!(read("/etc/resolv.conf").unwrap(), "nameserver 127.0.0.1\n");
            // A loop is ELOOP.
            let err = read("/etc/loop-a").unwrap_err();
            assert!(err.contains("Too many levels of symbolic links"), "{err}");
            // Directories through links, listed inside the root.
            assert!(
                root.read_dir_names("/etc/slash")
                    .unwrap()
                    .contains(&"outside.json".to_owned())
            );
            assert_eq!(
                root.read_dir_entries("/etc/slash/run/systemd")
                    .unwrap()
                    .into_iter()
                    .map(|e| (e.name, e.is_dir))
                    .collect::<Vec<_>>(),
                [("resolve".to_owned(), true)]
            );
            assert!(root.metadata("/etc/slash/etc").unwrap().is_dir());
            assert!(
                root.symlink_metadata("/etc/slash/etc/slash")
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            assert_eq!(
                root.read_link("/etc/slash/etc/masked").unwrap(),
                "/dev/null"
            );
            assert!(root.statvfs("/etc/slash/etc").is_ok());
        }
        assert_eq!(fs::read_to_string(&outside).unwrap(), "outside");
    }

    #[test]
    fn resolve_gives_the_path_inside_the_root_missing_names_by_name() {
        let (_dir, r) = escaping_root();
        let root = Sysroot::new(&r);
        let resolved = |inside: &str| {
            let got = root.resolve(inside).unwrap();
            (got.path, got.found)
        };
        assert_eq!(
            resolved("/etc/resolv.conf"),
            ("/run/systemd/resolve/stub-resolv.conf".to_owned(), true)
        );
        assert_eq!(
            resolved("/etc/docker/climbing.json"),
            ("/outside.json".to_owned(), true)
        );
        assert_eq!(resolved("/etc/slash/etc/../.."), ("/".to_owned(), true));
        // /dev does not exist under the root: the link still says where it leads.
        assert_eq!(resolved("/etc/masked"), ("/dev/null".to_owned(), false));
        let abs = resolved("/etc/absolute.json");
        assert!(!abs.1 && abs.0.ends_with("/outside.json"), "{abs:?}");
        let err = root.resolve("/etc/loop-b/x").unwrap_err().to_string();
        assert!(err.contains("Too many levels of symbolic links"), "{err}");
        // A file where a directory belongs.
        let err = root.resolve("/outside.json/x").unwrap_err().to_string();
        assert!(err.contains("Not a directory"), "{err}");
        assert_eq!(
            root.host_path("/etc/resolv.conf").unwrap(),
            r.join("run/systemd/resolve/stub-resolv.conf")
        );
        // Under `/`, the path itself.
        assert_eq!(
            Sysroot::default().host_path("/etc/hostname").unwrap(),
            Path::new("/etc/hostname")
        );
    }

    #[test]
    fn the_walk_counts_links_as_the_kernel_does() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs::write(r.join("end"), "end").unwrap();
        // A chain of exactly MAX_SYMLINKS links resolves; one more is ELOOP, as in the kernel.
        let chain = |n: usize, prefix: &str| {
            for i in 0..n {
                let target = if i + 1 == n {
                    "end".to_owned()
                } else {
                    format!("{prefix}{}", i + 1)
                };
                std::os::unix::fs::symlink(target, r.join(format!("{prefix}{i}"))).unwrap();
            }
        };
        chain(MAX_SYMLINKS, "ok");
        chain(MAX_SYMLINKS + 1, "long");
        for walker in [false, true] {
            let root = Sysroot::new(r);
            root.kept.no_openat2.store(walker, Ordering::Relaxed);
            assert_eq!(root.read_string("/ok0").unwrap(), "end", "{walker}");
            let err = root.read_string("/long0").unwrap_err().to_string();
            assert!(err.contains("Too many levels"), "{walker}: {err}");
        }
    }

    #[test]
    fn refuses_files_over_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let f = fs::File::create(dir.path().join("big")).unwrap();
        f.set_len(MAX_FILE_BYTES + 10).unwrap();
        let err = Sysroot::new(dir.path()).read_string("/big").unwrap_err();
        assert!(matches!(err, ProbeError::TooLarge { .. }));
    }
}
