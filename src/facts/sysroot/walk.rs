//! Path resolution inside a root, in user space, with the semantics of openat2(2)'s
//! `RESOLVE_IN_ROOT`: the root is `/` for the path and for every symlink met on the way, so an
//! absolute target starts again at the root and `..` at the root stays there. Used where the
//! kernel lacks openat2 (`ENOSYS`, before Linux 5.6, or a seccomp filter that hides it), and
//! for [`resolve`], which needs the path the walk ends at, not only a file descriptor.
//!
//! Each step opens one name relative to the directory the walk is in (`O_NOFOLLOW`), and a
//! symlink is read (`readlinkat`) and its target put in front of the names still to walk; `..`
//! goes back to the directory the walk came from. No step hands a path with a `/` or a `..` to
//! the kernel, so nothing outside the root is looked up.

use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

/// Symlinks followed at most in one resolution, as the kernel's `MAXSYMLINKS`; one more is
/// `ELOOP`.
pub const MAX_SYMLINKS: usize = 40;

/// Where a path inside the root leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The absolute path inside the root, with no symlink, `.` or `..` left in it. Past a name
    /// that does not exist, the rest of the path is taken by its names (`..` still stays at
    /// the root).
    pub path: String,
    /// Whether the whole path exists.
    pub found: bool,
}

/// What to do with the last name of the path.
enum Last {
    /// Open it with these flags (`O_NOFOLLOW` among them: do not follow a final symlink).
    Open(OFlags),
    /// Only find where the path leads.
    Resolve,
}

enum Outcome {
    Opened(OwnedFd),
    Resolved(Resolved),
}

/// The names of a path, without empty names and `.`.
fn names(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|n| !n.is_empty() && *n != ".")
}

/// Opens `inside` (absolute or relative to the root: the same) under `root` with `flags`,
/// resolving it as `RESOLVE_IN_ROOT` would.
pub fn open(root: BorrowedFd<'_>, inside: &str, flags: OFlags) -> Result<OwnedFd, Errno> {
    match walk(root, inside, Last::Open(flags))? {
        Outcome::Opened(fd) => Ok(fd),
        Outcome::Resolved(_) => Err(Errno::NOENT),
    }
}

/// Where `inside` leads under `root`. A missing name is not an error (see
/// [`Resolved::found`]); a loop is `ELOOP`, a file where a directory belongs `ENOTDIR`.
pub fn resolve(root: BorrowedFd<'_>, inside: &str) -> Result<Resolved, Errno> {
    match walk(root, inside, Last::Resolve)? {
        Outcome::Resolved(r) => Ok(r),
        Outcome::Opened(_) => Err(Errno::INVAL),
    }
}

fn walk(root: BorrowedFd<'_>, inside: &str, last: Last) -> Result<Outcome, Errno> {
    let mut todo: VecDeque<String> = names(inside).map(str::to_owned).collect();
    // The directories walked into, each with its descriptor; `None` past a missing name.
    let mut dirs: Vec<(String, Option<OwnedFd>)> = Vec::new();
    let mut links = 0usize;
    let follow_last = match &last {
        Last::Open(flags) => !flags.contains(OFlags::NOFOLLOW),
        Last::Resolve => true,
    };
    while let Some(name) = todo.pop_front() {
        if name == ".." {
            dirs.pop();
            continue;
        }
        let is_last = todo.is_empty();
        let missing = dirs.last().is_some_and(|(_, fd)| fd.is_none());
        if missing {
            dirs.push((name, None));
            continue;
        }
        let here = dirs
            .last()
            .and_then(|(_, fd)| fd.as_ref())
            .map_or(root, AsFd::as_fd);
        match rustix::fs::readlinkat(here, name.as_str(), Vec::new()) {
            Ok(target) if !is_last || follow_last => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Errno::LOOP);
                }
                let target = target.to_string_lossy();
                if target.starts_with('/') {
                    dirs.clear();
                }
                for n in names(&target).rev() {
                    todo.push_front(n.to_owned());
                }
                continue;
            }
            // A final symlink not to be followed: opened itself below.
            Ok(_) | Err(Errno::INVAL) => {}
            Err(Errno::NOENT) if matches!(last, Last::Resolve) => {
                dirs.push((name, None));
                continue;
            }
            Err(e) => return Err(e),
        }
        if is_last {
            match last {
                Last::Open(flags) => {
                    return rustix::fs::openat(
                        here,
                        name.as_str(),
                        flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                        Mode::empty(),
                    )
                    .map(Outcome::Opened);
                }
                Last::Resolve => {
                    dirs.push((name, None));
                    return Ok(Outcome::Resolved(Resolved {
                        path: joined(&dirs),
                        found: true,
                    }));
                }
            }
        }
        let fd = rustix::fs::openat(
            here,
            name.as_str(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        dirs.push((name, Some(fd)));
    }
    // The path ended in a directory reached by `..`, a symlink to one, or the root itself.
    match last {
        Last::Open(flags) => {
            let here = dirs
                .last()
                .and_then(|(_, fd)| fd.as_ref())
                .map_or(root, AsFd::as_fd);
            rustix::fs::openat(here, ".", flags | OFlags::CLOEXEC, Mode::empty())
                .map(Outcome::Opened)
        }
        Last::Resolve => Ok(Outcome::Resolved(Resolved {
            found: dirs.last().is_none_or(|(_, fd)| fd.is_some()),
            path: joined(&dirs),
        })),
    }
}

fn joined(dirs: &[(String, Option<OwnedFd>)]) -> String {
    if dirs.is_empty() {
        return "/".to_owned();
    }
    dirs.iter().fold(String::new(), |mut s, (name, _)| {
        s.push('/');
        s.push_str(name);
        s
    })
}
