//! Who owns what is in the docker CLI's configuration directory (`$DOCKER_CONFIG`, else
//! `~/.docker`). The CLI writes there on `docker login` (config.json) and `docker context`
//! (contexts/), buildx on every build (buildx/), and plugins keep their state beside them. An
//! entry owned by another user makes those writes fail with `permission denied`, and an unreadable
//! config.json makes every command start with `WARNING: Error loading config file`. The usual way
//! in is a docker command run as root with the user's HOME kept (`sudo -E`, `su` without `-`), or
//! a container that bind-mounts `~/.docker` and writes in it as root.
//!
//! The directory belongs to the owner of the home it is in: that is who runs the CLI with it,
//! whoever dockdoc judges (root in a rescue system, the user who ran sudo). With `DOCKER_CONFIG`
//! the directory may be anywhere, so what is in it belongs to the directory's own owner. Symlinks
//! are not followed; nothing is opened but directories, to list them.

use crate::facts::Context;
use crate::facts::sysroot::DirEntry;
use std::os::unix::fs::MetadataExt;

/// How deep the walk goes below the directory: `buildx/activity/default` is 3.
pub const MAX_DEPTH: usize = 3;
/// At most this many entries are looked at; a larger tree leaves the answer unknown.
pub const MAX_ENTRIES: usize = 2048;
/// At most this many entries owned by another user are named; the rest are counted.
pub const MAX_NAMED: usize = 8;

/// What the walk found.
#[derive(Debug, Default, PartialEq)]
pub struct Owners {
    /// The uid the directory belongs to; `None` when it does not exist.
    pub owner: Option<u32>,
    /// Entries owned by another uid, breadth first, at most [`MAX_NAMED`].
    pub foreign: Vec<(String, u32)>,
    /// How many more entries are owned by another uid.
    pub more: usize,
    /// The walk stopped at [`MAX_ENTRIES`] with entries left to look at.
    pub cut: bool,
}

impl Owners {
    /// The entries owned by another user, as `PATH (owner NAME)`, then `and N more`.
    pub fn named(&self, name_of: &dyn Fn(u32) -> String) -> Vec<String> {
        let mut out: Vec<String> = self
            .foreign
            .iter()
            .map(|(path, uid)| format!("{path} (owner {})", name_of(*uid)))
            .collect();
        if self.more > 0 {
            out.push(format!("and {} more", self.more));
        }
        if self.cut {
            out.push(format!(
                "and what lies beyond the first {MAX_ENTRIES} entries, not looked at"
            ));
        }
        out
    }

    fn note(&mut self, path: &str, uid: u32) {
        if self.foreign.len() < MAX_NAMED {
            self.foreign.push((path.to_owned(), uid));
        } else {
            self.more += 1;
        }
    }
}

/// Walks `dir` (an absolute path inside the root). `in_home`: the directory is `$HOME/.docker`,
/// so it belongs to the home's owner. A tree larger than [`MAX_ENTRIES`] in which none of the
/// entries looked at belongs to another user is an error: the rest were not looked at.
pub fn owners(ctx: &Context, dir: &str, in_home: bool) -> Result<Owners, String> {
    let root = &ctx.sysroot;
    let meta = match root.symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if not_found(&e) => return Ok(Owners::default()),
        Err(e) => return Err(e.to_string()),
    };
    let expected = if in_home {
        let home = dir.rsplit_once('/').map_or("/", |(h, _)| h);
        let home = if home.is_empty() { "/" } else { home };
        root.metadata(home).map_err(|e| e.to_string())?.uid()
    } else if meta.is_dir() {
        meta.uid()
    } else {
        // DOCKER_CONFIG names something that is not a directory: nothing in it to own.
        return Ok(Owners::default());
    };
    let mut out = Owners {
        owner: Some(expected),
        ..Owners::default()
    };
    // The directory itself, then breadth first: what sits near the top is found first.
    if meta.uid() != expected {
        out.note(dir, meta.uid());
    }
    if !meta.is_dir() {
        return Ok(out);
    }
    let mut queue = std::collections::VecDeque::from([(dir.to_owned(), 0usize)]);
    let mut seen = 0usize;
    'walk: while let Some((at, depth)) = queue.pop_front() {
        let entries: Vec<DirEntry> = match root.read_dir_entries(&at) {
            Ok(e) => e,
            // A directory of another user that this process may not list: it is named already.
            Err(_) if owned_by_other(ctx, &at, expected) => continue,
            Err(e) => return Err(format!("cannot list {at}: {e}")),
        };
        for entry in entries {
            seen += 1;
            if seen > MAX_ENTRIES {
                out.cut = true;
                break 'walk;
            }
            let path = format!("{at}/{}", entry.name);
            let meta = match root.symlink_metadata(&path) {
                Ok(m) => m,
                // Gone since the listing.
                Err(e) if not_found(&e) => continue,
                Err(e) => return Err(e.to_string()),
            };
            if meta.uid() != expected {
                out.note(&path, meta.uid());
            }
            // Entries of `at` are at depth + 1; one of them is listed when its own are within
            // MAX_DEPTH.
            if entry.is_dir && depth + 1 < MAX_DEPTH {
                queue.push_back((path, depth + 1));
            }
        }
    }
    if out.cut && out.foreign.is_empty() {
        return Err(format!(
            "{dir} holds more than {MAX_ENTRIES} entries within {MAX_DEPTH} levels, and the first {MAX_ENTRIES} belong to its user (uid {expected})"
        ));
    }
    Ok(out)
}

fn owned_by_other(ctx: &Context, path: &str, expected: u32) -> bool {
    ctx.sysroot
        .symlink_metadata(path)
        .is_ok_and(|m| m.uid() != expected)
}

fn not_found(e: &crate::error::ProbeError) -> bool {
    matches!(e, crate::error::ProbeError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::sysroot::Sysroot;
    use crate::facts::{Endpoints, Env};

    fn ctx(root: &std::path::Path) -> Context {
        Context::new(
            Sysroot::new(root),
            Endpoints::default(),
            Env::from_pairs([]),
            std::time::Duration::from_secs(1),
        )
    }

    fn name(uid: u32) -> String {
        format!("u{uid}")
    }

    #[test]
    fn named_entries_are_capped_and_the_rest_counted() {
        let mut o = Owners::default();
        for k in 0..MAX_NAMED + 3 {
            o.note(&format!("/d/{k}"), 0);
        }
        o.cut = true;
        let named = o.named(&name);
        assert_eq!(named.len(), MAX_NAMED + 2, "{named:?}");
        assert_eq!(named[0], "/d/0 (owner u0)");
        assert_eq!(named[MAX_NAMED], "and 3 more");
        assert!(named[MAX_NAMED + 1].contains("not looked at"), "{named:?}");
    }

    fn me() -> u32 {
        rustix::process::geteuid().as_raw()
    }

    #[test]
    fn a_directory_that_is_all_the_homes_owners_has_nothing_foreign() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("home/alice/.docker/buildx/activity")).unwrap();
        std::fs::write(t.path().join("home/alice/.docker/config.json"), "{}").unwrap();
        std::fs::write(
            t.path().join("home/alice/.docker/buildx/activity/default"),
            "",
        )
        .unwrap();
        let found = owners(&ctx(t.path()), "/home/alice/.docker", true).unwrap();
        assert_eq!(found.owner, Some(me()));
        assert!(found.named(&name).is_empty(), "{:?}", found.foreign);
    }

    #[test]
    fn a_missing_directory_is_no_problem_and_has_no_owner() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("home/alice")).unwrap();
        let found = owners(&ctx(t.path()), "/home/alice/.docker", true).unwrap();
        assert_eq!(found, Owners::default());
    }

    #[test]
    fn a_tree_larger_than_the_bound_leaves_the_answer_unknown_naming_the_bound() {
        let t = tempfile::tempdir().unwrap();
        let refs = t.path().join("home/alice/.docker/buildx/refs");
        std::fs::create_dir_all(&refs).unwrap();
        for k in 0..=MAX_ENTRIES {
            std::fs::write(refs.join(format!("r{k}")), "").unwrap();
        }
        let why = owners(&ctx(t.path()), "/home/alice/.docker", true).unwrap_err();
        assert!(
            why.contains(&format!("more than {MAX_ENTRIES} entries")),
            "{why}"
        );
    }

    #[test]
    fn entries_below_the_depth_bound_are_not_listed() {
        // A directory at depth MAX_DEPTH is looked at, but not listed: a tree of the same size
        // below it does not count against the entry bound.
        let t = tempfile::tempdir().unwrap();
        let deep = t
            .path()
            .join("home/alice/.docker/buildx/refs/default/default");
        std::fs::create_dir_all(&deep).unwrap();
        for k in 0..=MAX_ENTRIES {
            std::fs::write(deep.join(format!("r{k}")), "").unwrap();
        }
        let found = owners(&ctx(t.path()), "/home/alice/.docker", true).unwrap();
        assert!(found.foreign.is_empty() && !found.cut, "{found:?}");
    }
}
