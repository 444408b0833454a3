//! Every file dockdoc reads goes through a [`Sysroot`], so `--root DIR` (and the tests'
//! fixture trees) see exactly what the live system would show.

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustix::fs::{Mode, OFlags, RawDir};

use crate::error::ProbeError;

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

    /// The host path of an absolute path inside the sysroot.
    pub fn path(&self, inside: &str) -> PathBuf {
        self.root.join(inside.trim_start_matches('/'))
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
        let path = self.path(inside);
        let err = |source| ProbeError::Io {
            path: inside.to_owned(),
            source,
        };
        // Look before opening: opening a FIFO would wait for a writer, forever.
        let meta = fs::metadata(&path).map_err(err)?;
        if meta.is_dir() {
            return Err(ProbeError::NotAFile {
                path: inside.to_owned(),
            });
        }
        if !meta.is_file() {
            return Err(ProbeError::Other(format!(
                "{inside}: not a regular file (a FIFO, socket or device), not reading it"
            )));
        }
        let file = fs::File::open(&path).map_err(err)?;
        // Sized up front: without a hint, reading through `take` starts with 32-byte reads.
        // Files in /proc report size 0; a page holds most of them.
        let hint = usize::try_from(meta.len().min(MAX_FILE_BYTES)).unwrap_or(0);
        let mut buf = Vec::with_capacity(if hint == 0 { 4096 } else { hint + 1 });
        // Read one byte past the limit to tell "exactly at the limit" from "too big"; files in
        // /proc report size 0, so the length of what was read is what counts.
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(err)?;
        if buf.len() as u64 > MAX_FILE_BYTES {
            return Err(ProbeError::TooLarge {
                path: inside.to_owned(),
                limit: MAX_FILE_BYTES,
            });
        }
        Ok(buf)
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

    /// Whether something exists at the path (following symlinks).
    pub fn exists(&self, inside: &str) -> bool {
        self.path(inside).exists()
    }

    /// Metadata following symlinks.
    pub fn metadata(&self, inside: &str) -> Result<fs::Metadata, ProbeError> {
        fs::metadata(self.path(inside)).map_err(|source| ProbeError::Io {
            path: inside.to_owned(),
            source,
        })
    }

    /// Metadata when the path exists; `Ok(None)` when it does not.
    pub fn metadata_optional(&self, inside: &str) -> Result<Option<fs::Metadata>, ProbeError> {
        match fs::metadata(self.path(inside)) {
            Ok(m) => Ok(Some(m)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ProbeError::Io {
                path: inside.to_owned(),
                source,
            }),
        }
    }

    /// The names of the entries of a directory, sorted. Names that are not UTF-8 are skipped.
    pub fn read_dir_names(&self, inside: &str) -> Result<Vec<String>, ProbeError> {
        let err = |source| ProbeError::Io {
            path: inside.to_owned(),
            source,
        };
        let mut names: Vec<String> = fs::read_dir(self.path(inside))
            .map_err(err)?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names)
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
        let err = |errno: rustix::io::Errno| ProbeError::Io {
            path: inside.to_owned(),
            source: errno.into(),
        };
        let fd = rustix::fs::open(
            self.path(inside),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(err)?;
        // getdents64 straight into this buffer; each name is borrowed from it.
        let mut buf = Vec::with_capacity(64 * 1024);
        let mut dir = RawDir::new(&fd, buf.spare_capacity_mut());
        let mut listing = Listing {
            names: Vec::new(),
            ends: Vec::new(),
        };
        // A read error ends the listing, as it does for `std::fs::read_dir`.
        while let Some(Ok(entry)) = dir.next() {
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                listing.names.extend_from_slice(name);
                listing.ends.push(listing.names.len());
            }
        }
        let listing = Arc::new(listing);
        if let Ok(mut m) = self.kept.listings.lock() {
            m.insert(inside.to_owned(), Arc::clone(&listing));
        }
        Ok(listing)
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
    fn refuses_a_fifo_instead_of_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        nix::unistd::mkfifo(
            &dir.path().join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        let err = Sysroot::new(dir.path())
            .read_string("/fifo")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a regular file"), "{err}");
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
