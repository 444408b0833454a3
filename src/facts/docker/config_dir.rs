//! Who owns what is in the docker CLI's configuration directory (`$DOCKER_CONFIG`, else
//! `~/.docker`). The CLI writes there on `docker login` (config.json) and `docker context`
//! (contexts/), and buildx on every build (buildx/). An entry the user cannot write makes those
//! writes fail with `permission denied`, and an unreadable config.json makes every command start
//! with `WARNING: Error loading config file`. The usual way in is a docker command run as root
//! with the user's HOME (`sudo -E`, `sudo --preserve-env=HOME`) by a CLI or buildx that does not
//! give what it creates back to SUDO_USER, or a container that bind-mounts `~/.docker` and
//! writes in it as root.
//!
//! An entry is counted when it belongs neither to the judged user nor, unless root owns it, to
//! the owner of the user's home (a fixture tree copied by a plain user belongs to that user, and
//! a home restored from another machine may carry another uid throughout), and its group or
//! other bits do not let the user make files in it (a directory) or read it (a file: one the
//! user can read is replaced, not written in place, when its directory is the user's). `cli-plugins/` is not looked at: the CLI only runs
//! what is there. The directory itself is followed when it is a symlink (the CLI follows it);
//! nothing in it is, and nothing is opened but directories, to list them.

use crate::facts::Context;
use crate::facts::sysroot::StatEntry;
use std::os::unix::fs::MetadataExt;

/// How deep the walk goes below the directory: buildx keeps its build records at
/// `buildx/refs/<builder>/<node>/<id>`, 5.
pub const MAX_DEPTH: usize = 5;
/// At most this many entries are looked at; a larger tree with nothing counted in the part looked
/// at leaves the answer unknown.
pub const MAX_ENTRIES: usize = 4096;
/// At most this many counted entries are named; the rest are counted.
pub const MAX_NAMED: usize = 8;

/// Who the directory is judged for.
pub struct Judged<'a> {
    pub uid: u32,
    /// The owner of the user's home, when it is known.
    pub home_owner: Option<u32>,
    /// Whether the user holds a group (by gid): lets the group bits count.
    pub in_group: &'a dyn Fn(u32) -> bool,
}

impl Judged<'_> {
    /// Whether the entry stands in the user's way: a directory the user cannot make files in,
    /// or a file the user cannot read (one the user can read is replaced, not written in
    /// place, when its directory is the user's), owned by another user.
    fn in_the_way(&self, e: &StatEntry) -> bool {
        let foreign = e.uid != self.uid && (e.uid == 0 || Some(e.uid) != self.home_owner);
        let (group_bits, other_bits) = if e.is_dir {
            (0o030, 0o003)
        } else {
            (0o040, 0o004)
        };
        foreign
            && e.mode & other_bits != other_bits
            && !(e.mode & group_bits == group_bits && (self.in_group)(e.gid))
    }
}

/// What the walk found.
#[derive(Debug, Default, PartialEq)]
pub struct Owners {
    /// Entries in the user's way, breadth first, with their owners' uids, at most
    /// [`MAX_NAMED`].
    pub foreign: Vec<(String, u32)>,
    /// How many more entries are in the user's way.
    pub more: usize,
    /// The walk stopped at [`MAX_ENTRIES`] with entries left to look at.
    pub cut: bool,
}

impl Owners {
    /// The entries in the user's way, as `PATH (owner NAME)`, then `and N more`.
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

/// Walks `dir` (an absolute path inside the root) for `who`. A tree larger than [`MAX_ENTRIES`]
/// with nothing counted in the part looked at is an error: the rest were not looked at.
pub fn owners(ctx: &Context, dir: &str, who: &Judged) -> Result<Owners, String> {
    let root = &ctx.sysroot;
    let Some(meta) = root.metadata_optional(dir).map_err(|e| e.to_string())? else {
        return Ok(Owners::default());
    };
    let top = StatEntry {
        name: String::new(),
        is_dir: meta.is_dir(),
        uid: meta.uid(),
        gid: meta.gid(),
        mode: meta.mode(),
    };
    if !top.is_dir {
        // DOCKER_CONFIG naming a file (config.json itself, say) is another mistake: the CLI
        // cannot use it at all.
        return Err(format!("{dir} is not a directory"));
    }
    let mut out = Owners::default();
    // The directory itself, then breadth first: what sits near the top is found first.
    if who.in_the_way(&top) {
        out.note(dir, top.uid);
    }
    // Directories to list, with their depth and whether they are in the user's way.
    let mut queue =
        std::collections::VecDeque::from([(dir.to_owned(), 0usize, who.in_the_way(&top))]);
    let mut seen = 0usize;
    'walk: while let Some((at, depth, theirs)) = queue.pop_front() {
        let entries = match root.read_dir_stats(&at) {
            Ok(e) => e,
            // A directory this process may not list, in the user's way: named already.
            Err(_) if theirs => continue,
            // Gone since its parent was listed.
            Err(e) if not_found(&e) => continue,
            Err(e) => return Err(format!("cannot list {at}: {e}")),
        };
        for entry in entries {
            if depth == 0 && entry.name == "cli-plugins" {
                continue;
            }
            seen += 1;
            if seen > MAX_ENTRIES {
                out.cut = true;
                break 'walk;
            }
            let path = format!("{at}/{}", entry.name);
            let cannot = who.in_the_way(&entry);
            if cannot {
                out.note(&path, entry.uid);
            }
            // Entries of `at` are at depth + 1; one of them is listed when its own are within
            // MAX_DEPTH.
            if entry.is_dir && depth + 1 < MAX_DEPTH {
                queue.push_back((path, depth + 1, cannot));
            }
        }
    }
    if out.cut && out.foreign.is_empty() {
        return Err(format!(
            "{dir} holds more than {MAX_ENTRIES} entries within {MAX_DEPTH} levels, and the user may write the first {MAX_ENTRIES}"
        ));
    }
    Ok(out)
}

fn not_found(e: &crate::error::ProbeError) -> bool {
    matches!(e, crate::error::ProbeError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::sysroot::Sysroot;
    use crate::facts::{Endpoints, Env};
    use std::os::unix::fs::PermissionsExt;

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

    fn me() -> u32 {
        rustix::process::geteuid().as_raw()
    }

    /// Judged for a user other than the one running the test, whose home has no known owner:
    /// everything the test makes is another user's.
    fn someone_else(in_group: &dyn Fn(u32) -> bool) -> Judged<'_> {
        Judged {
            uid: me().wrapping_add(1),
            home_owner: None,
            in_group,
        }
    }

    /// `owners` of /home/alice/.docker under `root`, judged for someone else.
    fn others_view(root: &std::path::Path) -> Result<Owners, String> {
        owners(&ctx(root), "/home/alice/.docker", &someone_else(&|_| false))
    }

    fn file(root: &std::path::Path, path: &str, mode: u32) {
        let at = root.join(path);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(&at, "").unwrap();
        std::fs::set_permissions(&at, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn what_the_user_owns_is_not_counted() {
        let t = tempfile::tempdir().unwrap();
        file(t.path(), "home/alice/.docker/config.json", 0o600);
        file(
            t.path(),
            "home/alice/.docker/buildx/activity/default",
            0o600,
        );
        let who = Judged {
            uid: me(),
            home_owner: None,
            in_group: &|_| false,
        };
        let found = owners(&ctx(t.path()), "/home/alice/.docker", &who).unwrap();
        assert_eq!(found, Owners::default());
    }

    #[test]
    fn another_users_entries_count_unless_group_or_other_bits_let_the_user_use_them() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("home/alice/.docker/buildx")).unwrap();
        for (d, mode) in [("", 0o777), ("/buildx", 0o775)] {
            std::fs::set_permissions(
                t.path().join(format!("home/alice/.docker{d}")),
                std::fs::Permissions::from_mode(mode),
            )
            .unwrap();
        }
        file(t.path(), "home/alice/.docker/config.json", 0o600);
        file(t.path(), "home/alice/.docker/shared.json", 0o640);
        file(t.path(), "home/alice/.docker/open.json", 0o644);
        let dir = "/home/alice/.docker";
        let mut found = others_view(t.path()).unwrap().foreign;
        found.sort();
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/home/alice/.docker/buildx",
                "/home/alice/.docker/config.json",
                "/home/alice/.docker/shared.json"
            ]
        );
        let in_group = someone_else(&|_| true);
        let found = owners(&ctx(t.path()), dir, &in_group).unwrap();
        let paths: Vec<&str> = found.foreign.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["/home/alice/.docker/config.json"]);
    }

    #[test]
    fn the_homes_owner_counts_as_the_user_unless_it_is_root() {
        let t = tempfile::tempdir().unwrap();
        file(t.path(), "home/alice/.docker/config.json", 0o600);
        let who = Judged {
            uid: me().wrapping_add(1),
            home_owner: Some(me()),
            in_group: &|_| false,
        };
        let found = owners(&ctx(t.path()), "/home/alice/.docker", &who).unwrap();
        // Root's entries count even in a home root owns.
        assert_eq!(found.foreign.is_empty(), me() != 0, "{found:?}");
    }

    #[test]
    fn cli_plugins_are_not_looked_at() {
        let t = tempfile::tempdir().unwrap();
        file(
            t.path(),
            "home/alice/.docker/cli-plugins/docker-compose",
            0o755,
        );
        std::fs::set_permissions(
            t.path().join("home/alice/.docker"),
            std::fs::Permissions::from_mode(0o777),
        )
        .unwrap();
        assert_eq!(others_view(t.path()).unwrap(), Owners::default());
    }

    #[test]
    fn a_file_where_the_directory_should_be_is_unknown_not_a_fail() {
        let t = tempfile::tempdir().unwrap();
        file(t.path(), "home/alice/.docker", 0o644);
        let why = others_view(t.path()).unwrap_err();
        assert_eq!(why, "/home/alice/.docker is not a directory");
    }

    #[test]
    fn a_missing_directory_is_no_problem() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("home/alice")).unwrap();
        assert_eq!(others_view(t.path()).unwrap(), Owners::default());
    }

    #[test]
    fn a_tree_larger_than_the_bound_leaves_the_answer_unknown_naming_the_bound() {
        let t = tempfile::tempdir().unwrap();
        let refs = t.path().join("home/alice/.docker/buildx/refs");
        std::fs::create_dir_all(&refs).unwrap();
        for k in 0..=MAX_ENTRIES {
            std::fs::write(refs.join(format!("r{k}")), "").unwrap();
        }
        let who = Judged {
            uid: me(),
            home_owner: None,
            in_group: &|_| false,
        };
        let why = owners(&ctx(t.path()), "/home/alice/.docker", &who).unwrap_err();
        assert!(
            why.contains(&format!("more than {MAX_ENTRIES} entries")),
            "{why}"
        );
    }

    #[test]
    fn buildx_records_are_within_reach_and_what_lies_deeper_is_not() {
        let t = tempfile::tempdir().unwrap();
        // Depth 5: buildx/refs/default/default/<id>, a build record; depth 6 is below the bound.
        let refs = "home/alice/.docker/buildx/refs/default/default";
        file(t.path(), &format!("{refs}/wlb4"), 0o600);
        file(t.path(), &format!("{refs}/x/deeper"), 0o600);
        // Every directory on the way may be written by anyone: only the files count.
        let mut at = t.path().join(format!("{refs}/x"));
        while at != t.path().join("home/alice") {
            std::fs::set_permissions(&at, std::fs::Permissions::from_mode(0o777)).unwrap();
            at.pop();
        }
        let found = others_view(t.path()).unwrap();
        let paths: Vec<&str> = found.foreign.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, [format!("/{refs}/wlb4")]);
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
}
