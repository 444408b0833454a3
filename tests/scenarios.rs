//! Scenario tests: for each `tests/fixtures/scenarios/<name>.toml`, gather the facts of a fixture
//! sysroot with the real binary (`dockdoc facts --root …`), apply the scenario's overrides for
//! what only a live system shows (units, the daemon, the X server), replay them with
//! `dockdoc check --facts`, and compare every expected status. The text and JSON reports are
//! snapshotted in `tests/snapshots/`; `DOCKDOC_BLESS=1 cargo test --test scenarios` rewrites them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;
mod formats;
#[path = "common/samples.rs"]
mod samples;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value as Json;

use dockdoc::facts::{Fact, Facts};

use common::evidence;
use common::{
    bin, chown_to_group, chown_to_user, copy_tree, fixtures, is_root, make_char_device, make_socket,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    description: String,
    /// Another scenario whose root, profiles, env, make and facts this one starts from (its
    /// expectations are not inherited).
    extends: Option<String>,
    /// The sysroot under tests/fixtures/sysroots the facts are gathered from.
    root: Option<String>,
    profiles: Option<Vec<String>>,
    /// Environment for gathering (DISPLAY, SUDO_USER, …). HOME defaults to /home/alice.
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// Things git cannot hold, made in a copy of the root: "dev/kvm" (root:kvm 0660),
    /// "dev/kvm acl=u:1000:rw" (the same with that ACL entry), "tmp/.X11-unix/X0",
    /// "run/docker.sock" (root:docker 0660, as docker.socket makes it), any other "….sock",
    /// an empty directory "…/" (as "run/docker.sock/", what a bind mount leaves), and
    /// "DIR tmpfs size=SIZE": a tmpfs of that size mounted at DIR while the facts are gathered,
    /// in a mount namespace of the gathering process only (root), so statvfs(2) of a data root
    /// there reports that much free space, as a filesystem that full would, and "PATH
    /// owner=USER": PATH's tree owned by that user of the copy's /etc/passwd (root; a home is
    /// always its user's in root's copy, as useradd -m makes it).
    #[serde(default)]
    make: Vec<String>,
    /// Files written into the copy of the root, replacing the root's (path relative to the root);
    /// one that starts with `#!` is made executable (0755).
    #[serde(default)]
    files: BTreeMap<String, String>,
    /// Edits of the root's files: pairs of [text, replacement], each text found exactly once. A
    /// `.gz` file is edited inside its compression (/proc/config.gz).
    #[serde(default)]
    edit: BTreeMap<String, Vec<[String; 2]>>,
    /// Paths removed from the copy of the root after it is made (files or directories).
    #[serde(default)]
    remove: Vec<String>,
    /// Fact overrides: a value, { null = true }, or { unknown = "reason" } / { skipped = "reason" }.
    /// Only live facts (src/facts/source.rs) may be overridden, each with a reason in `why`.
    #[serde(default)]
    facts: BTreeMap<String, toml::Value>,
    /// Why a live fact is overridden: a one-line reason per key of `facts`.
    #[serde(default)]
    why: BTreeMap<String, String>,
    /// Expected status per check id.
    expect: BTreeMap<String, String>,
}

/// Facts that differ from machine to machine even under --root, pinned so reports are stable
/// (unless the scenario mounts a tmpfs of a stated size where it is measured).
const PINNED: &[(&str, i64)] = &[("host.data_root_free_bytes", 107_374_182_400)];

/// A `make` item "DIR tmpfs size=SIZE": the directory and the size.
fn tmpfs_item(thing: &str) -> Option<(&str, &str)> {
    let (dir, size) = thing.split_once(" tmpfs size=")?;
    Some((dir, size))
}

/// The fact a tmpfs made for a scenario is measured for.
const TMPFS_FACT: &str = "host.data_root_free_bytes";

/// Whether this process may mount: CAP_SYS_ADMIN (bit 21) in its effective set. Root in a
/// container without it may not.
fn may_mount() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << 21) != 0)
}

fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Scenario {
    let text = std::fs::read_to_string(path).unwrap();
    let mut sc: Scenario =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if let Some(parent) = sc.extends.take() {
        let base = load(&path.with_file_name(format!("{parent}.toml")));
        sc.root = sc.root.or(base.root);
        sc.profiles = sc.profiles.or(base.profiles);
        for (k, v) in base.env {
            sc.env.entry(k).or_insert(v);
        }
        for (k, v) in base.facts {
            sc.facts.entry(k).or_insert(v);
        }
        for (k, v) in base.why {
            sc.why.entry(k).or_insert(v);
        }
        sc.make.extend(base.make);
        sc.make.sort();
        sc.make.dedup();
        for (k, v) in base.files {
            sc.files.entry(k).or_insert(v);
        }
        for (k, v) in base.edit {
            sc.edit.entry(k).or_insert(v);
        }
        sc.remove.extend(base.remove);
    }
    sc
}

/// What is wrong with the scenario's overrides: an override of a fact that is not live (name
/// what to ship instead), a live override without a one-line reason, a reason without an override.
fn override_problems(name: &str, sc: &Scenario) -> Vec<String> {
    use dockdoc::facts::{Source, source_of};
    let mut problems = Vec::new();
    for key in sc.facts.keys() {
        let problem = match source_of(key) {
            None => Some("is not a fact with a source (src/facts/source.rs)".to_owned()),
            Some(Source::File(path)) => Some(format!(
                "is read from a file: put {path} in the fixture sysroot (or `make` it) instead of overriding it"
            )),
            Some(Source::Derived(from)) => Some(format!(
                "is derived from {from}: ship what it is derived from instead of overriding it"
            )),
            Some(Source::Env(vars)) => {
                Some(format!("comes from the environment: set {vars} in [env]"))
            }
            Some(Source::Run(how)) => Some(format!("describes the run: select it with {how}")),
            Some(Source::Live(_)) => match sc.why.get(key) {
                Some(why) if !why.trim().is_empty() && !why.contains('\n') => None,
                Some(_) => Some("needs a one-line reason in [why]".to_owned()),
                None => Some(format!(
                    "is live: say in [why] why no live part here shows it (\"{key}\" = \"…\")"
                )),
            },
        };
        problems.extend(problem.map(|p| format!("{name}: [facts] {key} {p}")));
    }
    for key in sc.why.keys() {
        if !sc.facts.contains_key(key) {
            problems.push(format!("{name}: [why] {key} has no override in [facts]"));
        }
    }
    problems
}

/// The account (uid) whose daemon owns a socket at `path`: run/user/UID/… or home/NAME/….
/// The words of the source table (src/facts/source.rs) that name the facts drawn from owners in
/// the CLI's configuration directory: what an `owner=` item not made as a plain user leaves
/// unfaithful.
const OWNERS_SOURCE: &str = "the owners and modes of the CLI's config directory";

/// The uid and gid of `user` in the copy's /etc/passwd.
fn passwd_ids(root: &Path, user: &str) -> Option<(u32, u32)> {
    std::fs::read_to_string(root.join("etc/passwd"))
        .ok()?
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.first() != Some(&user) {
                return None;
            }
            Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?))
        })
}

/// chown -R, without following symlinks.
fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    if std::fs::symlink_metadata(path).unwrap().is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid, gid);
        }
    }
}

fn user_of_path(root: &Path, path: &str) -> Option<u32> {
    let mut parts = path.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("run"), Some("user"), Some(uid)) => uid.parse().ok(),
        (Some("home"), Some(user), _) => passwd_ids(root, user).map(|(uid, _)| uid),
        _ => None,
    }
}

/// What a scenario run as a plain user could not make as the fixture says: each thing, why,
/// and so the facts read from it (the source table's files that name it, and every fact
/// derived from those).
#[derive(Clone, Debug, Default)]
struct Unfaithful {
    things: Vec<(String, String)>,
    /// Live facts the things not made would have given (a tmpfs's free space).
    facts: Vec<&'static str>,
    /// Other names the source table gives those things (`$XDG_RUNTIME_DIR`).
    aliases: Vec<String>,
}

impl Unfaithful {
    fn add(&mut self, path: &str, why: &str) {
        if !self.things.iter().any(|(p, _)| p == path) {
            self.things.push((path.to_owned(), why.to_owned()));
        }
    }

    /// Whether `path` was one of the things not made: it is then as absent as the scenario
    /// wants it after removing it, and no longer unfaithful.
    fn made_absent(&mut self, path: &str) -> bool {
        let before = self.things.len();
        self.things.retain(|(p, _)| p != path);
        self.things.len() < before
    }

    fn is_empty(&self) -> bool {
        self.things.is_empty()
    }

    /// The reasons, for a skip line.
    fn reason(&self) -> String {
        let whys: Vec<String> = self
            .things
            .iter()
            .map(|(p, why)| format!("{p}: {why}"))
            .collect();
        format!(
            "run as uid {}; {}",
            nix::unistd::Uid::effective(),
            whys.join("; ")
        )
    }

    /// The fact keys whose values are not what the fixture stands for.
    fn keys(&self) -> std::collections::BTreeSet<&'static str> {
        use dockdoc::facts::source::{SOURCES, Source};
        let mut keys: std::collections::BTreeSet<&'static str> = SOURCES
            .iter()
            .filter(|(_, src)| {
                matches!(src, Source::File(f) if self
                    .things
                    .iter()
                    .map(|(p, _)| p)
                    .chain(&self.aliases)
                    .any(|p| f.contains(p.as_str())))
            })
            .map(|(k, _)| *k)
            .chain(self.facts.iter().copied())
            .collect();
        // Derived facts name what they combine (`kvm.device_*` for a family): follow them.
        loop {
            let more: Vec<&'static str> = SOURCES
                .iter()
                .filter(|(k, _)| !keys.contains(k))
                .filter(|(_, src)| match src {
                    Source::Derived(from) => from.split(", ").any(|part| {
                        let part = part.split_whitespace().next().unwrap_or_default();
                        match part.strip_suffix('*') {
                            Some(prefix) => keys.iter().any(|k| k.starts_with(prefix)),
                            None => keys.contains(part),
                        }
                    }),
                    _ => false,
                })
                .map(|(k, _)| *k)
                .collect();
            if more.is_empty() {
                return keys;
            }
            keys.extend(more);
        }
    }

    /// Whether a check of the JSON report read any of [`Unfaithful::keys`].
    fn touches(&self, check: &Json) -> bool {
        let keys = self.keys();
        check["evidence"].as_array().is_some_and(|ev| {
            ev.iter()
                .any(|e| e["fact"].as_str().is_some_and(|f| keys.contains(f)))
        })
    }
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
}

/// The name of the primary group of a uid of the tree's /etc/passwd.
fn primary_group(root: &Path, uid: u32) -> String {
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    let gid = passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.get(2) == Some(&uid.to_string().as_str())).then(|| f[3].to_owned())
        })
        .unwrap_or_else(|| panic!("no uid {uid} in the fixture's /etc/passwd"));
    let groups = std::fs::read_to_string(root.join("etc/group")).unwrap();
    groups
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.get(2) == Some(&gid.as_str())).then(|| f[0].to_owned())
        })
        .unwrap_or_else(|| panic!("no group {gid} in the fixture's /etc/group"))
}

/// Gives the running user's own gid to `group` in the tree: its gid and the one the user's gid
/// had there (if any group had it) swap places in /etc/group and in every proc/*/status's Gid
/// and Groups lines. The machine is the same, its groups numbered otherwise; a file the user
/// makes now belongs to `group` as the fixture's facts read it.
fn give_own_gid(root: &Path, group: &str) {
    let own = nix::unistd::Gid::effective().as_raw().to_string();
    let old = common::group_gid(root, group).to_string();
    if own == old {
        return;
    }
    let swap = |id: &str| -> String {
        if id == own {
            old.clone()
        } else if id == old {
            own.clone()
        } else {
            id.to_owned()
        }
    };
    let group_file = root.join("etc/group");
    let text = std::fs::read_to_string(&group_file).unwrap();
    let swapped: Vec<String> = text
        .lines()
        .map(|l| {
            let mut f: Vec<String> = l.split(':').map(str::to_owned).collect();
            if f.len() > 2 {
                f[2] = swap(&f[2]);
            }
            f.join(":")
        })
        .collect();
    std::fs::write(&group_file, swapped.join("\n") + "\n").unwrap();
    // Each account's primary group, by number.
    let passwd_file = root.join("etc/passwd");
    let text = std::fs::read_to_string(&passwd_file).unwrap();
    let swapped: Vec<String> = text
        .lines()
        .map(|l| {
            let mut f: Vec<String> = l.split(':').map(str::to_owned).collect();
            if f.len() > 3 {
                f[3] = swap(&f[3]);
            }
            f.join(":")
        })
        .collect();
    std::fs::write(&passwd_file, swapped.join("\n") + "\n").unwrap();
    let Ok(procs) = std::fs::read_dir(root.join("proc")) else {
        return;
    };
    for entry in procs.flatten() {
        let status = entry.path().join("status");
        let Ok(text) = std::fs::read_to_string(&status) else {
            continue;
        };
        let swapped: Vec<String> = text
            .lines()
            .map(|l| match l.split_once(':') {
                Some((k @ ("Gid" | "Groups"), v)) => {
                    let ids: Vec<String> = v.split_whitespace().map(swap).collect();
                    format!("{k}:\t{}", ids.join(" "))
                }
                _ => l.to_owned(),
            })
            .collect();
        std::fs::write(&status, swapped.join("\n") + "\n").unwrap();
    }
}

/// Replaces each text of `pairs` (found exactly once) in the file; a `.gz` file is edited
/// inside its compression.
fn edit_file(name: &str, path: &Path, pairs: &[[String; 2]]) {
    use std::io::{Read, Write};
    let raw =
        std::fs::read(path).unwrap_or_else(|e| panic!("{name}: edit {}: {e}", path.display()));
    let gz = path.extension().is_some_and(|x| x == "gz");
    let mut text = String::new();
    if gz {
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_string(&mut text)
            .unwrap();
    } else {
        text = String::from_utf8(raw).unwrap();
    }
    for [from, to] in pairs {
        assert_eq!(
            text.matches(from.as_str()).count(),
            1,
            "{name}: edit {}: `{from}` must occur exactly once",
            path.display()
        );
        text = text.replacen(from.as_str(), to, 1);
    }
    if gz {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::write(path, enc.finish().unwrap()).unwrap();
    } else {
        std::fs::write(path, text).unwrap();
    }
}

fn override_json(v: &toml::Value) -> Json {
    match v {
        toml::Value::Table(t) if t.contains_key("unknown") => {
            serde_json::json!({"state": "unknown", "reason": t["unknown"].as_str().unwrap()})
        }
        toml::Value::Table(t) if t.contains_key("skipped") => {
            serde_json::json!({"state": "skipped", "reason": t["skipped"].as_str().unwrap()})
        }
        // TOML has no null: `{ null = true }` is a known null, as a probe reports "none".
        toml::Value::Table(t) if t.get("null") == Some(&toml::Value::Boolean(true)) => {
            serde_json::json!({"state": "known", "value": null})
        }
        other => {
            serde_json::json!({"state": "known", "value": serde_json::to_value(other).unwrap()})
        }
    }
}

/// Gathers the facts of the scenario's root and applies its overrides. Returns None (with the
/// reason printed) when the scenario needs something only root can make.
fn facts_of(
    name: &str,
    sc: &Scenario,
    work: &Path,
    with_overrides: bool,
) -> Option<(Json, Unfaithful)> {
    let root_name = sc.root.clone().unwrap_or_else(|| panic!("{name}: no root"));
    let src = fixtures().join("sysroots").join(&root_name);
    assert!(src.is_dir(), "{name}: no sysroot {}", src.display());
    let root = work.join("root");
    copy_tree(&src, &root);
    for (path, text) in &sc.files {
        let dest = root.join(path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, text).unwrap();
        // A script is a program a package installed: executable, as pacman leaves it.
        if text.starts_with("#!") {
            set_mode(&dest, 0o755);
        }
    }
    for (path, pairs) in &sc.edit {
        edit_file(name, &root.join(path), pairs);
    }
    // What only root can make is made as root; as a plain user the closest thing is made
    // instead, and the facts it leaves unfaithful are collected (the expectations and reports
    // that read them are not compared).
    let root_user = is_root();
    let mut unfaithful = Unfaithful::default();
    // A socket's group, as a plain user: the user's own gid carries the group's name in the
    // copy (the first socket owned by a user, else docker.socket's docker).
    let mut socket_group: Option<String> = None;
    // Mounted in the gathering process's own mount namespace: (directory, size).
    let mut tmpfs: Vec<(String, String)> = Vec::new();
    let mut owned: Vec<(&str, &str)> = Vec::new();
    for thing in &sc.make {
        match thing.as_str() {
            // "PATH owner=USER": made after the rest (below).
            s if s.contains(" owner=") => owned.push(s.split_once(" owner=").unwrap()),
            s if tmpfs_item(s).is_some() => {
                let (dir, size) = tmpfs_item(s).unwrap();
                std::fs::create_dir_all(root.join(dir)).unwrap();
                if may_mount() {
                    tmpfs.push((dir.to_owned(), size.to_owned()));
                } else {
                    unfaithful.add(
                        &format!("/{dir}"),
                        "mounting a tmpfs needs root (CAP_SYS_ADMIN)",
                    );
                    unfaithful.facts.push(TMPFS_FACT);
                }
            }
            s if s == "dev/kvm" || s.starts_with("dev/kvm acl=") => {
                if !root_user {
                    unfaithful.add("/dev/kvm", "mknod of /dev/kvm (char 10:232) needs root");
                    continue;
                }
                let dev = root.join("dev/kvm");
                make_char_device(&dev, 10, 232, 0o660, "kvm", &root);
                // `dev/kvm acl=SPEC`: the same device with `setfacl -m SPEC` applied.
                if let Some(spec) = s.strip_prefix("dev/kvm acl=") {
                    common::acl::modify(&dev, spec)
                        .unwrap_or_else(|e| panic!("{name}: ACL {spec}: {e}"));
                }
            }
            "run/docker.sock" => {
                make_socket(&root.join(thing));
                // docker.socket's SocketMode=0660 and SocketGroup=docker.
                if root_user {
                    chown_to_group(&root.join(thing), 0o660, "docker", &root);
                } else {
                    socket_group.get_or_insert_with(|| "docker".to_owned());
                    set_mode(&root.join(thing), 0o660);
                }
            }
            s if s.starts_with("tmp/.X11-unix/") => {
                make_socket(&root.join(s));
                // Xorg leaves its socket srwxrwxrwx.
                set_mode(&root.join(s), 0o777);
            }
            // An empty directory (git keeps none): what a bind mount of a missing
            // source, `-v /var/run/docker.sock:…`, leaves at the path.
            // dockerd makes it root:root 0755; as a plain user, the user's gid is named root.
            s if s.ends_with('/') => {
                std::fs::create_dir_all(root.join(s)).unwrap();
                set_mode(&root.join(s), 0o755);
                if !root_user {
                    socket_group.get_or_insert_with(|| "root".to_owned());
                }
            }
            s if s.ends_with(".sock") => {
                // A user's daemon (rootless under run/user/UID, Docker Desktop under the home)
                // makes its socket as that user, mode 0660.
                let owner = user_of_path(&root, s)
                    .unwrap_or_else(|| panic!("{name}: whose socket is {s}?"));
                make_socket(&root.join(s));
                if root_user {
                    chown_to_user(&root.join(s), 0o660, owner, &root);
                } else {
                    socket_group = Some(primary_group(&root, owner));
                    set_mode(&root.join(s), 0o660);
                }
            }
            // git keeps neither the setuid bit nor an owner: shadow installs both setuid root.
            "usr/bin/newuidmap" | "usr/bin/newgidmap" => {
                let path = root.join(thing);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, b"").unwrap();
                if root_user {
                    nix::unistd::chown(&path, Some(nix::unistd::Uid::from_raw(0)), None).unwrap();
                } else {
                    unfaithful.add(
                        &format!("/{thing}"),
                        "a setuid-root file needs root (chown to uid 0)",
                    );
                }
                set_mode(&path, 0o4755);
            }
            // pam_systemd makes /run/user/<uid> mode 0700, owned by the user (as a plain user,
            // the running user, who is then the one it serves).
            s if s.starts_with("run/user/") && s["run/user/".len()..].parse::<u32>().is_ok() => {
                let uid: u32 = s["run/user/".len()..].parse().unwrap();
                let path = root.join(s);
                std::fs::create_dir_all(&path).unwrap();
                if root_user {
                    nix::unistd::chown(&path, Some(nix::unistd::Uid::from_raw(uid)), None).unwrap();
                }
                set_mode(&path, 0o700);
            }
            other => panic!("{name}: cannot make {other}"),
        }
    }
    if let Some(group) = &socket_group {
        give_own_gid(&root, group);
    }
    // useradd -m leaves a home, and what the user makes in it, owned by the user: root's copy
    // is made so (a plain user's copy is all the user's, home and what is in it alike).
    if root_user && let Ok(homes) = std::fs::read_dir(root.join("home")) {
        for home in homes {
            let home = home.unwrap();
            if let Some((uid, gid)) = passwd_ids(&root, &home.file_name().to_string_lossy()) {
                chown_tree(&home.path(), uid, gid);
            }
        }
    }
    // "PATH owner=USER": PATH and everything in it owned by USER of the copy's /etc/passwd and
    // by their primary group (chown -R), as a command run as root leaves what it wrote in a
    // home. `make` is sorted, and "P owner=" sorts before "P/… owner=" (a space before a
    // slash), so an owner given inside a tree applies after the tree's.
    for (path, user) in owned {
        let (uid, gid) = passwd_ids(&root, user)
            .unwrap_or_else(|| panic!("{name}: no user {user} in the fixture's /etc/passwd"));
        let at = root.join(path);
        assert!(at.exists(), "{name}: {path} does not exist to be owned");
        if root_user {
            chown_tree(&at, uid, gid);
        } else {
            unfaithful.add(&format!("/{path}"), "chown to another uid needs root");
            unfaithful.aliases.push(OWNERS_SOURCE.to_owned());
        }
    }
    // dockdoc reads the owner of XDG_RUNTIME_DIR: in a plain user's copy that is the user, where
    // root gives it the uid the scenario names (or its own).
    if let Some(dir) = sc.env.get("XDG_RUNTIME_DIR") {
        let inside = root.join(dir.trim_start_matches('/'));
        if !root_user && inside.exists() {
            unfaithful.add(dir, "its owner is another uid, and chown to it needs root");
            unfaithful.aliases.push("$XDG_RUNTIME_DIR".to_owned());
        }
    }
    for path in &sc.remove {
        // Removing what could not be made leaves the machine the scenario means.
        if unfaithful.made_absent(&format!("/{path}")) {
            continue;
        }
        let p = root.join(path);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&p).unwrap(),
            Ok(_) => std::fs::remove_file(&p).unwrap(),
            Err(e) => panic!("{name}: remove {path}: {e}"),
        }
    }
    for (dir, _) in &tmpfs {
        // The mount hides what is under it: nothing of the fixture may be there.
        let mut inside = std::fs::read_dir(root.join(dir)).unwrap();
        assert!(
            inside.next().is_none(),
            "{name}: {dir} is not empty, and a tmpfs would hide it"
        );
    }
    let mut cmd = if tmpfs.is_empty() {
        bin()
    } else {
        // unshare(1) gives the gathering a private mount namespace: the mounts end with it.
        let mut wrap = std::process::Command::new("/usr/bin/unshare");
        wrap.args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
            .arg(r#"set -e; while [ "$1" != -- ]; do mount -t tmpfs -o "size=$2" tmpfs "$1"; shift 2; done; shift; exec "$@""#)
            .arg("sh");
        for (dir, size) in &tmpfs {
            wrap.arg(root.join(dir)).arg(size);
        }
        wrap.arg("--").arg(bin().get_program());
        wrap
    };
    cmd.env_clear()
        .env("HOME", "/home/alice")
        .env("PATH", "/usr/bin:/bin");
    for (k, v) in &sc.env {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["facts", "--format", "json", "--root"])
        .arg(&root)
        .output()
        .unwrap_or_else(|e| panic!("{name}: cannot run {:?}: {e}", cmd.get_program()));
    assert!(
        out.status.success(),
        "{name}: facts failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut facts: Facts = serde_json::from_slice(&out.stdout).unwrap();
    // Overrides stand for what a live system would have shown; derived facts are computed again
    // from them, and explicit overrides of derived facts win.
    for key in sc.why.keys() {
        assert!(
            sc.facts.contains_key(key),
            "{name}: [why] names {key}, which [facts] does not override"
        );
    }
    let overrides: Vec<(String, Fact)> = sc
        .facts
        .iter()
        .filter(|_| with_overrides)
        .map(|(k, v)| {
            assert!(
                facts.facts.contains_key(k),
                "{name}: override of unknown fact {k}"
            );
            (k.clone(), serde_json::from_value(override_json(v)).unwrap())
        })
        .collect();
    for (k, v) in &overrides {
        facts.set(k, v.clone());
    }
    dockdoc::facts::derive(&mut facts);
    for (k, v) in &overrides {
        facts.set(k, v.clone());
    }
    for (key, value) in PINNED {
        // A tmpfs made for the fact was measured: its value stands.
        let measured = *key == TMPFS_FACT && !tmpfs.is_empty();
        if measured {
            let data_root = facts.text("host.data_root").unwrap_or_default();
            assert!(
                tmpfs.iter().any(|(dir, _)| format!("/{dir}") == data_root),
                "{name}: a tmpfs is made, but not at the data root ({data_root}), where it is measured"
            );
        }
        if !sc.facts.contains_key(*key) && !measured {
            facts.set(key, Fact::known(*value));
        }
    }
    if !sc.facts.contains_key("host.data_root_free") {
        let bytes = facts.int("host.data_root_free_bytes").unwrap_or_default();
        facts.set(
            "host.data_root_free",
            Fact::known(format!("{:.1} GiB", bytes as f64 / 1073741824.0)),
        );
    }
    facts.host.insert(
        "root".into(),
        format!("tests/fixtures/sysroots/{root_name}"),
    );
    let facts = serde_json::to_value(&facts).unwrap();
    Some((facts, unfaithful))
}

fn check_replay(facts_file: &Path, profiles: &[String], format: &str) -> (i32, String) {
    let mut cmd = bin();
    cmd.args(["check", "--color", "never", "--format", format, "--facts"])
        .arg(facts_file);
    for p in profiles {
        cmd.args(["--profile", p]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn snapshot(name: &str, ext: &str, actual: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.{ext}"));
    if std::env::var_os("DOCKDOC_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    (expected != actual).then(|| {
        format!(
            "snapshot {} differs (DOCKDOC_BLESS=1 cargo test --test scenarios to accept):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        )
    })
}

/// Gathers the scenario (with or without its overrides) and replays it: the exit code, the JSON
/// report and, when `text` is set, the text report. None when the scenario was skipped.
/// What one replay rendered: the exit status, JSON, text (when asked for), the Nagios status
/// and output, the JSON, JUnit and Prometheus renderings by file extension, and the facts.
type Replayed = (
    i32,
    String,
    String,
    (i32, String),
    Vec<(&'static str, String)>,
    Json,
    Unfaithful,
);

fn replay(name: &str, sc: &Scenario, with_overrides: bool, text: bool) -> Option<Replayed> {
    let work = tempfile::tempdir().unwrap();
    let (facts, unfaithful) = facts_of(name, sc, work.path(), with_overrides)?;
    let facts_file = work.path().join("facts.json");
    std::fs::write(&facts_file, serde_json::to_string_pretty(&facts).unwrap()).unwrap();
    let profiles = sc.profiles.clone().unwrap_or_else(|| vec!["all".into()]);
    let (code, json) = check_replay(&facts_file, &profiles, "json");
    let (text, nagios, rendered) = if text {
        let rendered = [("json", "json"), ("junit", "xml"), ("prometheus", "prom")]
            .into_iter()
            .map(|(format, ext)| (ext, check_replay(&facts_file, &profiles, format).1))
            .collect();
        (
            check_replay(&facts_file, &profiles, "text").1,
            check_replay(&facts_file, &profiles, "nagios"),
            rendered,
        )
    } else {
        (String::new(), (0, String::new()), Vec::new())
    };
    Some((code, json, text, nagios, rendered, facts, unfaithful))
}

/// One scenario replayed: its declared expectations, exit code, reports and evaluated evidence.
struct ScenarioRun {
    name: String,
    expect: BTreeMap<String, String>,
    code: i32,
    json: String,
    text: String,
    nagios: (i32, String),
    rendered: Vec<(&'static str, String)>,
    evidence: evidence::RunEvidence,
    /// The gathered facts, overrides applied, as `dockdoc facts --format json` writes them.
    facts: Json,
    /// The profiles the scenario selects (none: the default).
    profiles: Vec<String>,
    /// What a plain user could not make as the fixture says.
    unfaithful: Unfaithful,
}

/// Every scenario gathered and replayed once per test binary (the tests below share it).
fn scenario_runs() -> &'static [ScenarioRun] {
    static RUNS: OnceLock<Vec<ScenarioRun>> = OnceLock::new();
    RUNS.get_or_init(|| {
        let mut runs = Vec::new();
        for file in scenario_files() {
            let name = file.file_stem().unwrap().to_string_lossy().into_owned();
            let sc = load(&file);
            assert!(!sc.description.is_empty());
            let Some((code, json, text, nagios, rendered, facts, unfaithful)) =
                replay(&name, &sc, true, true)
            else {
                continue;
            };
            let report: Json = serde_json::from_str(&json).unwrap();
            // A pinned fact is written by hand too, unless a tmpfs was measured for it (as it
            // was when the scenario is faithful: one that could not mount is not).
            let measured = unfaithful.is_empty() && sc.make.iter().any(|m| tmpfs_item(m).is_some());
            let overridden = sc
                .facts
                .keys()
                .cloned()
                .chain(
                    PINNED
                        .iter()
                        .filter(|(k, _)| !(measured && *k == TMPFS_FACT))
                        .map(|(k, _)| (*k).to_owned()),
                )
                .collect();
            let evidence = evidence::of_scenario(&name, &report, &overridden);
            if unfaithful.is_empty() {
                evidence::record(&evidence);
            }
            runs.push(ScenarioRun {
                name,
                expect: sc.expect,
                code,
                json,
                text,
                nagios,
                rendered,
                evidence,
                facts,
                profiles: sc.profiles.clone().unwrap_or_default(),
                unfaithful,
            });
        }
        runs
    })
}

#[test]
fn every_scenario_gives_the_expected_statuses() {
    let mut failures = Vec::new();
    let mut diffs = Vec::new();
    // The monitoring and CI formats of every scenario, checked by their consumers after the loop.
    let rendered = tempfile::tempdir().unwrap();
    let mut plugin_states = std::collections::BTreeSet::new();
    for run in scenario_runs() {
        let name = &run.name;
        let report: Json = serde_json::from_str(&run.json).unwrap();
        let statuses: BTreeMap<&str, &str> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].as_str().unwrap(), c["status"].as_str().unwrap()))
            .collect();
        let checks = report["checks"].as_array().unwrap();
        let touched = |id: &str| {
            !run.unfaithful.is_empty()
                && checks
                    .iter()
                    .any(|c| c["id"] == id && run.unfaithful.touches(c))
        };
        let mut unproven = Vec::new();
        for (id, want) in &run.expect {
            if touched(id) {
                unproven.push(format!("{id} {want}"));
                continue;
            }
            match statuses.get(id.as_str()) {
                Some(got) if got == want => {}
                got => failures.push(format!("{name}: {id}: expected {want}, got {got:?}")),
            }
        }
        let faithful_report = !checks.iter().any(|c| run.unfaithful.touches(c));
        if !faithful_report {
            unproven.push("its report snapshots".to_owned());
        }
        if !run.unfaithful.is_empty() {
            common::prereq::skip(
                &format!("part of scenario {name}"),
                &run.unfaithful.reason(),
                &unproven,
            );
        }
        let has_error = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["status"] == "fail" && c["severity"] == "error");
        assert_eq!(run.code, i32::from(has_error), "{name}: exit status");
        if faithful_report {
            diffs.extend(snapshot(name, "json", &run.json));
            diffs.extend(snapshot(name, "txt", &run.text));
        }
        let (code, nagios) = &run.nagios;
        plugin_states.insert(formats::check_nagios(name, &report, *code, nagios));
        for (ext, out) in &run.rendered {
            std::fs::write(rendered.path().join(format!("{name}.{ext}")), out).unwrap();
        }
    }
    // Healthy, warning, error and unknown scenarios are all among them, when all ran as the
    // fixtures say (as a plain user, those that need root each said what they left unproven).
    if scenario_runs().iter().all(|r| r.unfaithful.is_empty()) {
        assert_eq!(
            plugin_states.into_iter().collect::<Vec<_>>(),
            ["CRITICAL", "OK", "UNKNOWN", "WARNING"]
        );
    }
    match common::prereq::ready_for(
        "checking the formats with their consumers",
        formats::CONSUMERS,
        &[],
    ) {
        false => {}
        true => {
            for run in scenario_runs() {
                let prom = rendered.path().join(format!("{}.prom", run.name));
                if prom.exists() {
                    formats::promtool(&prom);
                }
            }
            formats::validate_dir(rendered.path());
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(diffs.is_empty(), "\n{}", diffs.join("\n"));
}

#[test]
fn overrides_are_live_facts_with_a_reason() {
    let problems: Vec<String> = scenario_files()
        .iter()
        .flat_map(|file| {
            let name = file.file_stem().unwrap().to_string_lossy().into_owned();
            override_problems(&name, &load(file))
        })
        .collect();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

fn check_ids() -> Vec<String> {
    let out = bin().args(["list", "--format", "json"]).output().unwrap();
    let checks: Json = serde_json::from_slice(&out.stdout).unwrap();
    checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

const DOC_START: &str = "<!-- evidence table: generated, see tests/common/evidence.rs -->\n";
const DOC_END: &str = "<!-- end of evidence table -->";

/// Coverage as evidence: every check EVALUATED to fail in one run and to pass in another, and
/// the committed table (tests/snapshots/evidence.md, shown in docs/testing.md and in each entry of
/// docs/checks.md) says which run and
/// which part. Scenario rows are recomputed here; live rows are checked by the live runs that
/// they name (tests/live/support.rs), so no test binary depends on another having run.
#[test]
fn every_check_evaluated_to_fail_and_to_pass_and_the_evidence_table_is_current() {
    let ids = check_ids();
    let fresh: Vec<evidence::RunEvidence> =
        scenario_runs().iter().map(|r| r.evidence.clone()).collect();
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/testing.md");
    let doc = std::fs::read_to_string(&doc_path).unwrap();
    if std::env::var_os("DOCKDOC_BLESS").is_some() {
        let mut all: Vec<evidence::RunEvidence> = evidence::recorded()
            .into_iter()
            .filter(|r| r.run.starts_with("live "))
            .collect();
        all.extend(fresh);
        let table = evidence::render(&evidence::best(&all, &ids));
        std::fs::write(evidence::table_path(), &table).unwrap();
        if let (Some(a), Some(b)) = (doc.find(DOC_START), doc.find(DOC_END)) {
            let updated = format!("{}{DOC_START}{table}{}", &doc[..a], &doc[b..]);
            std::fs::write(&doc_path, updated).unwrap();
        }
        // docs/checks.md names each check's runs too.
        let checks = std::fs::read_to_string(common::docs::checks_md_path()).unwrap();
        std::fs::write(
            common::docs::checks_md_path(),
            common::docs::checks_md(&checks),
        )
        .unwrap();
        return;
    }
    let unfaithful: Vec<&str> = scenario_runs()
        .iter()
        .filter(|r| !r.unfaithful.is_empty())
        .map(|r| r.name.as_str())
        .collect();
    if !unfaithful.is_empty() {
        // Their rows cannot be recomputed here.
        return common::prereq::skip(
            "the evidence table's scenario rows",
            &format!(
                "needs root for what scenarios {} make",
                unfaithful.join(", ")
            ),
            &[],
        );
    }
    let committed = evidence::committed();
    let gathered = evidence::best(&fresh, &ids);
    let mut problems = Vec::new();
    for id in &ids {
        let have = committed.get(id).cloned().unwrap_or_default();
        let best = gathered.get(id).cloned().unwrap_or_default();
        for (status, have, best) in [
            ("fail", &have.fail, &best.fail),
            ("pass", &have.pass, &best.pass),
        ] {
            let ok = match (have, best) {
                (None, _) => {
                    problems.push(format!("{id}: no run evaluates it to {status}"));
                    continue;
                }
                // A scenario on gathered facts is the best evidence and must be the one named.
                (Some(h), Some((run, part)))
                    if run.starts_with("scenario ") && !part.contains("override") =>
                {
                    h == &(run.clone(), part.clone())
                }
                (Some((run, _)), _) if run.starts_with("live ") => true,
                (Some(h), Some(b)) => h == b,
                (Some(_), None) => false,
            };
            if !ok {
                problems.push(format!(
                    "{id} {status}: the table names {have:?}, the scenarios give {best:?}"
                ));
            }
        }
    }
    let table = std::fs::read_to_string(evidence::table_path()).unwrap_or_default();
    match (doc.find(DOC_START), doc.find(DOC_END)) {
        (Some(a), Some(b)) if doc[a + DOC_START.len()..b] == table => {}
        _ => problems.push(
            "docs/testing.md's evidence table differs from tests/snapshots/evidence.md".into(),
        ),
    }
    assert!(
        problems.is_empty(),
        "\n{}\n(regenerate: cargo test --test live; DOCKDOC_BLESS=1 cargo test --test scenarios evidence)",
        problems.join("\n")
    );
}

/// The override replay: every scenario gathered from its root alone, without its `[facts]`
/// overrides. Prints how many declared expectations still hold and which checks never evaluate
/// to fail or to pass from gathered facts. Run it with
/// `cargo test --test scenarios override_replay -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a verdict: run it by name"]
fn override_replay() {
    let out = bin().args(["list", "--format", "json"]).output().unwrap();
    let checks: Json = serde_json::from_slice(&out.stdout).unwrap();
    let mut seen: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    let (mut held, mut total) = (0, 0);
    let mut broken = Vec::new();
    for file in scenario_files() {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let sc = load(&file);
        let Some((_, json, ..)) = replay(&name, &sc, false, false) else {
            continue;
        };
        let report: Json = serde_json::from_str(&json).unwrap();
        let statuses: BTreeMap<String, String> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap().to_owned(),
                    c["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for (id, status) in &statuses {
            let e = seen.entry(id.clone()).or_default();
            e.0 |= status == "fail";
            e.1 |= status == "pass";
        }
        for (id, want) in &sc.expect {
            total += 1;
            match statuses.get(id) {
                Some(got) if got == want => held += 1,
                got => broken.push(format!("{name}: {id}: expected {want}, got {got:?}")),
            }
        }
    }
    let ids: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let never_fail: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| !seen.get(*id).is_some_and(|e| e.0))
        .collect();
    let never_pass: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| !seen.get(*id).is_some_and(|e| e.1))
        .collect();
    println!("{}", broken.join("\n"));
    println!(
        "never fail ({}): {}",
        never_fail.len(),
        never_fail.join(" ")
    );
    println!(
        "never pass ({}): {}",
        never_pass.len(),
        never_pass.join(" ")
    );
    println!(
        "override replay: {held} of {total} expectations hold; of {} checks {} never fail and {} never pass",
        ids.len(),
        never_fail.len(),
        never_pass.len()
    );
}

/// `dockdoc explain --facts FILE --format json -` with `text` on standard input: the ids it
/// offers, in its order: those neither ruled out by the endpoint the paste names nor by this
/// machine (passing, or not applicable here).
fn explain_on(facts_file: &Path, profiles: &[String], text: &str) -> Vec<String> {
    let facts = facts_file.to_string_lossy();
    let mut args = vec!["--facts", facts.as_ref()];
    for p in profiles {
        args.extend(["--profile", p.as_str()]);
    }
    common::offered_here(&common::explain_json(bin(), &args, text))
}

/// Explain as a user meets it: each real sample (tests/error-samples) pasted on a machine that
/// has its cause, a scenario where its check fails: where it is a problem of its own if there is
/// one, else where it follows from another (then that cause, which `check` lists it under, is the
/// right answer), and of those the one with the fewest failures beside it. Its gathered facts,
/// overrides applied, and its profiles. The goal: the right cause among the first two for at
/// least 95% of the samples, and first for most.
#[test]
fn explain_on_a_machine_with_the_cause() {
    // Explained on the scenarios gathered as their fixtures say.
    let runs: Vec<&ScenarioRun> = scenario_runs()
        .iter()
        .filter(|r| r.unfaithful.is_empty())
        .collect();
    // Per scenario: each failing check and the cause it follows from, if any.
    type Failing = Vec<(String, Option<String>)>;
    let failing: Vec<(&ScenarioRun, Failing)> =
        runs.iter().map(|r| (*r, failing_checks(r))).collect();
    let work = tempfile::tempdir().unwrap();
    let samples: Vec<samples::Sample> = samples::all_samples()
        .into_iter()
        .filter(|s| s.file != "look-alikes.txt")
        .collect();
    let (mut two, mut first, mut offered_total) = (0usize, 0usize, 0usize);
    let mut misses = Vec::new();
    let mut no_machine = Vec::new();
    for s in &samples {
        let check = s.file.trim_end_matches(".txt");
        let Some((run, cause)) = failing
            .iter()
            .filter_map(|(r, fails)| {
                let (_, cause) = fails.iter().find(|(id, _)| id == check)?;
                Some((*r, cause.clone(), fails.len()))
            })
            .min_by_key(|(r, cause, n)| (cause.is_some(), *n, r.name.clone()))
            .map(|(r, cause, _)| (r, cause))
        else {
            no_machine.push(format!("{check} ({})", s.source));
            continue;
        };
        let own = cause.as_deref().unwrap_or(check);
        let facts_file = work.path().join(format!("{}.json", run.name));
        if !facts_file.exists() {
            std::fs::write(&facts_file, serde_json::to_string(&run.facts).unwrap()).unwrap();
        }
        let ids = explain_on(&facts_file, &run.profiles, &s.text);
        let at = ids.iter().position(|id| id == own);
        offered_total += ids.len();
        two += usize::from(at.is_some_and(|i| i < 2));
        first += usize::from(at == Some(0));
        if at != Some(0) {
            misses.push(format!(
                "{own} ({check}, {}) on {}: offered {ids:?}",
                s.source, run.name
            ));
        }
    }
    let n = (samples.len() - no_machine.len()) as f64;
    let pct = |k: usize| 100.0 * k as f64 / n;
    eprintln!(
        "explain over {n} real samples, each on a scenario with its cause: among the first two {:.1}%, first {:.1}%; {:.2} candidates on average",
        pct(two),
        pct(first),
        offered_total as f64 / n
    );
    for m in &misses {
        eprintln!("  not first: {m}");
    }
    if runs.len() < scenario_files().len() {
        // Some scenarios ran without what only root makes (each said so): the samples only
        // they fail are not measured here.
        if !no_machine.is_empty() {
            common::prereq::skip(
                &format!("{} samples of explain", no_machine.len()),
                "the scenarios that fail their checks need root for what they make",
                &no_machine,
            );
        }
    } else {
        assert!(
            no_machine.is_empty(),
            "no scenario fails the check of:\n{}",
            no_machine.join("\n")
        );
    }
    assert!(pct(two) >= 95.0, "{}", misses.join("\n"));
}

/// Each failing check of a scenario run, with the check it follows from there, if any.
fn failing_checks(run: &ScenarioRun) -> Vec<(String, Option<String>)> {
    let report: Json = serde_json::from_str(&run.json).unwrap();
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["consequence_of"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[derive(Default)]
struct MachineTally {
    in_scope: usize,
    right: usize,
    first: usize,
    two: usize,
    candidates: usize,
    out_of_scope: usize,
    abstained: usize,
    no_machine: usize,
}

/// Explain over the error corpus (tests/error-corpus) on a machine with the cause: each paste
/// with a settled cause is given to `explain --facts` of a scenario where one of its expected
/// checks fails: a problem of its own if there is one, else the cause it follows from is the
/// right answer; of those, where the settled cause itself (the first expected check) fails if
/// one does, else the next; then the scenario with the fewest failures. Its verdict is judged.
/// Each out-of-scope paste is given to the scenario with the most failures: the verdict must
/// name nothing. Both halves are reported (`-- --nocapture`); only the training half's misses
/// are shown. The figures are copied into docs/explain.md.
#[test]
fn explain_over_the_corpus_on_a_machine_with_the_cause() {
    let runs: Vec<&ScenarioRun> = scenario_runs()
        .iter()
        .filter(|r| r.unfaithful.is_empty())
        .collect();
    if runs.len() < scenario_files().len() {
        return common::prereq::skip(
            "test explain_over_the_corpus_on_a_machine_with_the_cause",
            "some scenarios need root for what they make, and the corpus is measured on all of them",
            &[],
        );
    }
    type Failing<'r> = Vec<(&'r ScenarioRun, Vec<(String, Option<String>)>)>;
    let failing: Failing<'_> = runs.iter().map(|r| (*r, failing_checks(r))).collect();
    let busiest = failing
        .iter()
        .max_by_key(|(r, f)| (f.len(), std::cmp::Reverse(r.name.clone())))
        .map(|(r, _)| *r)
        .unwrap();
    let entries = common::corpus::parse().unwrap_or_else(|p| panic!("\n{}", p.join("\n")));
    let work = tempfile::tempdir().unwrap();
    for r in &runs {
        std::fs::write(
            work.path().join(format!("{}.json", r.name)),
            serde_json::to_string(&r.facts).unwrap(),
        )
        .unwrap();
    }
    // Per entry: the scenario and the right verdicts there, or None (no scenario fails it).
    let plan: Vec<Option<(&ScenarioRun, Vec<String>)>> = entries
        .iter()
        .map(|e| {
            if e.out_of_scope() {
                return Some((busiest, Vec::new()));
            }
            failing
                .iter()
                .flat_map(|(r, fails)| {
                    fails.iter().filter_map(move |(id, cause)| {
                        let rank = e.expect.iter().position(|x| x == id)?;
                        Some((*r, id.clone(), cause.clone(), rank, fails.len()))
                    })
                })
                .min_by_key(|(r, _, cause, rank, n)| (cause.is_some(), *rank, *n, r.name.clone()))
                .map(|(r, id, cause, _, _)| {
                    let mut right = e.expect.clone();
                    if let Some(cause) = cause {
                        right.retain(|x| *x != id);
                        right.insert(0, cause);
                    }
                    (r, right)
                })
        })
        .collect();
    let jobs: Vec<(usize, &common::corpus::Entry)> = entries.iter().enumerate().collect();
    let results: Vec<Option<(Option<String>, Vec<String>)>> =
        common::parallel_map(&jobs, |(k, e)| {
            let (run, _) = plan[*k].as_ref()?;
            let facts = work.path().join(format!("{}.json", run.name));
            let facts = facts.to_string_lossy();
            let mut args = vec!["--facts", facts.as_ref()];
            for p in &run.profiles {
                args.extend(["--profile", p.as_str()]);
            }
            let doc = common::explain_json(bin(), &args, &e.paste);
            let verdict = doc["verdict"]["id"].as_str().map(str::to_owned);
            Some((verdict, common::offered_here(&doc)))
        });
    let mut halves: BTreeMap<&str, MachineTally> = BTreeMap::new();
    let mut misses = Vec::new();
    for ((e, planned), result) in entries.iter().zip(&plan).zip(&results) {
        let t = halves.entry(e.half()).or_default();
        let (Some((run, right)), Some((verdict, offered))) = (planned, result) else {
            t.no_machine += 1;
            continue;
        };
        if e.out_of_scope() {
            t.out_of_scope += 1;
            t.abstained += usize::from(verdict.is_none());
            if e.half() == "train" && verdict.is_some() {
                misses.push(format!(
                    "{}:{} {}: out of scope, on {} named {verdict:?}",
                    e.file, e.line, e.thread, run.name
                ));
            }
            continue;
        }
        t.in_scope += 1;
        t.candidates += offered.len();
        let ok = verdict.as_ref().is_some_and(|v| right.contains(v));
        let at = offered.iter().position(|id| right.contains(id));
        t.right += usize::from(ok);
        t.first += usize::from(at == Some(0));
        t.two += usize::from(at.is_some_and(|i| i < 2));
        if e.half() == "train" && !ok {
            misses.push(format!(
                "{}:{} {}: on {} expected {right:?}, verdict {verdict:?}, offered {offered:?}",
                e.file, e.line, e.thread, run.name
            ));
        }
    }
    let pct = |k: usize, n: usize| {
        if n == 0 {
            0.0
        } else {
            100.0 * k as f64 / n as f64
        }
    };
    for (half, t) in &halves {
        eprintln!(
            "{half}: {} pastes with a cause on a machine with it: verdict right {:.1}%, first {:.1}%, among the first two {:.1}%, {:.2} candidates on average; {} out of scope: no verdict in {:.1}%; {} with no scenario failing their cause",
            t.in_scope,
            pct(t.right, t.in_scope),
            pct(t.first, t.in_scope),
            pct(t.two, t.in_scope),
            if t.in_scope == 0 {
                0.0
            } else {
                t.candidates as f64 / t.in_scope as f64
            },
            t.out_of_scope,
            pct(t.abstained, t.out_of_scope),
            t.no_machine,
        );
    }
    for m in &misses {
        eprintln!("  train miss: {m}");
    }
    let test = halves.get("test").unwrap();
    // What this measurement holds explain to: no worse than it was measured at (see
    // docs/explain.md for the goals it is short of).
    assert!(
        pct(test.right, test.in_scope) >= FLOOR_ON_MACHINE,
        "{}",
        misses.join("\n")
    );
}

/// The least share of the test half's verdicts, on a machine with the cause, that must be right:
/// 68.4% (78 of 114) as measured once the corpus grew to 430 entries. It was 71.6% (78 of 109)
/// at 414 entries, and 72.4% (76 of 105) before those; none of the five test pastes with a cause
/// added since (for docker-config-dir-not-owned and docker-bridge-overlaps-host-network) gets the
/// right verdict: they are prose about a network that stopped answering, and a root-owned
/// `~/.docker/key.json`, which no pattern or signal reads.
const FLOOR_ON_MACHINE: f64 = 68.0;

/// `dockdoc explain --facts` of one scenario run, as JSON.
fn explain_json_on(run: &ScenarioRun, text: &str) -> Json {
    let work = tempfile::tempdir().unwrap();
    let facts = work.path().join("facts.json");
    std::fs::write(&facts, serde_json::to_string(&run.facts).unwrap()).unwrap();
    let facts = facts.to_string_lossy();
    let mut args = vec!["--facts", facts.as_ref()];
    for p in &run.profiles {
        args.extend(["--profile", p.as_str()]);
    }
    common::explain_json(bin(), &args, text)
}

/// The candidates of an `explain --format json` answer that fail on its machine.
fn failing_matches(doc: &Json) -> Vec<&str> {
    doc["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["status"] == "fail")
        .map(|m| m["id"].as_str().unwrap())
        .collect()
}

/// On a machine, evidence decides: words no pattern knows, tied by signals, and the check that
/// fails here is the verdict; where nothing the paste points at fails, the verdict says what was
/// ruled out and where to look next.
#[test]
fn on_a_machine_a_failing_check_the_signals_tie_is_the_verdict() {
    let runs = scenario_runs();
    let find = |name: &str| runs.iter().find(|r| r.name == name).unwrap();
    let (upgraded, healthy) = (
        find("kernel-upgraded-no-reboot"),
        find("healthy-docker-host"),
    );
    for run in [upgraded, healthy] {
        if !run.unfaithful.is_empty() {
            return common::prereq::skip(
                "test on_a_machine_a_failing_check_the_signals_tie_is_the_verdict",
                &run.unfaithful.reason(),
                &[],
            );
        }
    }
    let mtu = "Error response from daemon: failed to set MTU on host interface veth1a2b3c: invalid argument\n";
    let doc = explain_json_on(upgraded, mtu);
    assert_eq!(doc["recognised"], Json::Array(Vec::new()), "{doc:#}");
    assert_eq!(
        doc["verdict"]["id"], "running-kernel-modules-missing",
        "{doc:#}"
    );
    assert_eq!(doc["matches"][0]["via"], "signals", "{doc:#}");
    let doc = explain_json_on(healthy, mtu);
    assert_eq!(doc["verdict"]["id"], Json::Null, "{doc:#}");
    let strings = |v: &Json| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        strings(&doc["verdict"]["ruled_out"])
            .contains(&"running-kernel-modules-missing".to_owned()),
        "{doc:#}"
    );
    let containerd = explain_json_on(
        healthy,
        "failed to start daemon: error while dialing: dial unix /run/containerd/containerd.sock: connect: connection refused\n",
    );
    // The causes a check names are not brought up when this machine rules that check out: a
    // `DOCKER_HOST` built from an unset XDG_RUNTIME_DIR, on a machine without rootless Docker.
    let broken = find("daemon-json-broken");
    if broken.unfaithful.is_empty() {
        let doc = explain_json_on(
            broken,
            "Cannot connect to the Docker daemon at unix:///docker.sock. Is the docker daemon running?\n",
        );
        let offered = failing_matches(&doc);
        assert!(
            !offered
                .iter()
                .any(|id| id.starts_with("rootless-") && *id != "rootless-daemon-not-running"),
            "{doc:#}"
        );
    }
    assert!(
        strings(&containerd["verdict"]["look"])
            .iter()
            .any(|l| l.contains("journalctl -b -u containerd.service")),
        "{containerd:#}"
    );
}

/// A check the paste only touches is the verdict when the paste singles it out: a paste that
/// names rootless Docker and nothing more, on a machine where several rootless prerequisites
/// fail, lists them (rootless Docker's component touches them all) and names none.
#[test]
fn on_a_machine_a_check_the_paste_only_touches_is_named_only_when_the_paste_singles_it_out() {
    let runs = scenario_runs();
    let find = |name: &str| runs.iter().find(|r| r.name == name).unwrap();
    let broken = find("rootless-broken");
    if !broken.unfaithful.is_empty() {
        return common::prereq::skip(
            "test on_a_machine_a_check_the_paste_only_touches_is_named_only_when_the_paste_singles_it_out",
            &broken.unfaithful.reason(),
            &[],
        );
    }
    let doc = explain_json_on(
        broken,
        "Docker rootless will fail randomly after some time.\n",
    );
    assert!(failing_matches(&doc).len() >= 2, "{doc:#}");
    assert_eq!(doc["matches"][0]["via"], "touch", "{doc:#}");
    assert_eq!(doc["verdict"]["id"], Json::Null, "{doc:#}");
    assert!(
        doc["verdict"]["reason"]
            .as_str()
            .unwrap()
            .contains("do not say which one"),
        "{doc:#}"
    );
}

/// A paste about something no check covers gets no verdict even on a machine where what its
/// words touch fails: X's `X Error of failed request` comes after the app reached the display
/// (so access to it is not the fault), and a bind mount whose source is missing is the run
/// command's, though the command passes /dev/kvm. On docker-osx-missing-kvm, where X refuses
/// containers and the CPU has no virtualization, both name nothing and say what they are about.
#[test]
fn on_a_machine_a_paste_about_something_else_gets_no_verdict() {
    let runs = scenario_runs();
    let run = runs
        .iter()
        .find(|r| r.name == "docker-osx-missing-kvm")
        .unwrap();
    if !run.unfaithful.is_empty() {
        return common::prereq::skip(
            "test on_a_machine_a_paste_about_something_else_gets_no_verdict",
            &run.unfaithful.reason(),
            &[],
        );
    }
    for (paste, about) in [
        (
            "$ docker run --rm -e DISPLAY=$DISPLAY -v /tmp/.X11-unix:/tmp/.X11-unix plotter\n\
             X Error of failed request:  BadAccess (attempt to access private resource denied)\n\
             \x20 Major opcode of failed request:  130 (MIT-SHM)\n",
            "x-request-refused",
        ),
        (
            "$ docker run -it --device /dev/kvm -v ./disk:/image sickcodes/docker-osx\n\
             docker: Error response from daemon: invalid mount config for type \"bind\": bind source path does not exist: /home/alice/disk.\n",
            "mount-spec",
        ),
    ] {
        let doc = explain_json_on(run, paste);
        assert_eq!(doc["elsewhere"]["signal"], about, "{doc:#}");
        assert_eq!(doc["verdict"]["id"], Json::Null, "{doc:#}");
        assert!(failing_matches(&doc).is_empty(), "{doc:#}");
    }
}

/// A failure in the area of a matched check is brought up only when this machine leaves that
/// check possible. On docker-osx-ignore-msrs-lost, /dev/kvm opens for alice (the permission
/// checks pass) while ignore_msrs is off: "Permission denied" from KVM is then no ignore_msrs
/// problem, and explain has no verdict rather than a wrong one.
#[test]
fn a_ruled_out_paste_brings_up_nothing_from_its_area() {
    let run = scenario_runs()
        .iter()
        .find(|r| r.name == "docker-osx-ignore-msrs-lost")
        .unwrap();
    if !run.unfaithful.is_empty() {
        return common::prereq::skip(
            "test a_ruled_out_paste_brings_up_nothing_from_its_area",
            &run.unfaithful.reason(),
            &[],
        );
    }
    let work = tempfile::tempdir().unwrap();
    let facts = work.path().join("facts.json");
    std::fs::write(&facts, serde_json::to_string(&run.facts).unwrap()).unwrap();
    let facts = facts.to_string_lossy();
    let doc = common::explain_json(
        bin(),
        &["--facts", facts.as_ref(), "--profile", "docker-osx"],
        "Could not access KVM kernel module: Permission denied\n",
    );
    let ids: Vec<(&str, &str)> = doc["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["status"].as_str().unwrap()))
        .collect();
    assert!(
        ids.contains(&("kvm-device-permission-denied", "pass")),
        "{ids:?}"
    );
    assert!(
        !ids.iter().any(|(id, _)| id.starts_with("kvm-ignore-msrs")),
        "{ids:?}"
    );
    assert_eq!(doc["verdict"]["id"], Json::Null, "{doc:#}");
}
