//! Helpers shared by the integration tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]
#![allow(dead_code)]

pub mod acl;
pub mod corpus;
pub mod docs;
pub mod evidence;
pub mod prereq;

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture sysroot, `tests/fixtures/sysroots/<scenario>`.
pub fn sysroot(scenario: &str) -> PathBuf {
    fixtures().join("sysroots").join(scenario)
}

/// The status of one built-in check when `profile` is selected, evaluated on exactly `pairs`.
pub fn check_status(
    id: &str,
    profile: &str,
    pairs: &[(&str, dockdoc::facts::Fact)],
) -> dockdoc::finding::Status {
    let loaded = dockdoc::catalog::load_builtin();
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let mut facts = dockdoc::facts::Facts::default();
    // The CLI talks to the system daemon unless the pairs say otherwise.
    facts.set(
        "docker.endpoint_kind",
        dockdoc::facts::Fact::known("system"),
    );
    for (k, v) in pairs {
        facts.set(k, v.clone());
    }
    let selection = dockdoc::eval::Selection {
        profiles: vec![profile.to_owned()],
        only: vec![id.to_owned()],
        skip: Vec::new(),
    };
    let findings = dockdoc::eval::run(&loaded.catalog, &facts, &selection);
    assert_eq!(findings.len(), 1, "{id}");
    findings[0].status
}

/// The dockdoc binary built for this test run, with a clean colour environment.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dockdoc"));
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("XDG_CONFIG_HOME", "/nonexistent");
    cmd
}

#[allow(unused_imports)]
pub use prereq::is_root;

/// Copies a directory tree, keeping symlinks as symlinks.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let ty = entry.file_type().unwrap();
        let dest = to.join(entry.file_name());
        if ty.is_symlink() {
            let target = std::fs::read_link(entry.path()).unwrap();
            std::os::unix::fs::symlink(target, &dest).unwrap();
        } else if ty.is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// The gid of a group in a tree's /etc/group.
pub fn group_gid(root: &Path, group: &str) -> u32 {
    let groups = std::fs::read_to_string(root.join("etc/group")).unwrap();
    groups
        .lines()
        .find_map(|l| {
            let mut f = l.split(':');
            (f.next() == Some(group)).then(|| f.nth(1).unwrap().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no group {group} in the fixture"))
}

/// Gives a file to root and the named group of the tree's /etc/group, with `mode`. Needs root.
pub fn chown_to_group(path: &Path, mode: u32, group: &str, root: &Path) {
    nix::unistd::chown(
        path,
        Some(nix::unistd::Uid::from_raw(0)),
        Some(nix::unistd::Gid::from_raw(group_gid(root, group))),
    )
    .unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
}

/// Gives a file to a uid of the tree's /etc/passwd and that account's primary group, with
/// `mode`. Needs root.
pub fn chown_to_user(path: &Path, mode: u32, uid: u32, root: &Path) {
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    let gid: u32 = passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f[2] == uid.to_string()).then(|| f[3].parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no uid {uid} in the fixture's /etc/passwd"));
    nix::unistd::chown(
        path,
        Some(nix::unistd::Uid::from_raw(uid)),
        Some(nix::unistd::Gid::from_raw(gid)),
    )
    .unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
}

/// Makes a character device owned by root and the named group (looked up in the tree's
/// /etc/group). Needs root.
pub fn make_char_device(path: &Path, major: u64, minor: u64, mode: u32, group: &str, root: &Path) {
    use nix::sys::stat::{Mode, SFlag, makedev, mknod};
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    mknod(
        path,
        SFlag::S_IFCHR,
        Mode::from_bits_truncate(mode),
        makedev(major, minor),
    )
    .unwrap();
    chown_to_group(path, mode, group, root);
}

/// Binds a unix socket at the path and leaves the file behind (nobody listens).
pub fn make_socket(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
    drop(listener);
}

/// What running `dockdoc` as an unprivileged user (setpriv to uid 65534) needs.
pub const AS_NOBODY: &[prereq::Need] = &[prereq::Need::Root, prereq::Need::Program("setpriv")];

/// A copy of a fixture sysroot at `<dir>/root` that uid 65534 can reach (`dir` and the root
/// made 0755; everything below keeps the fixture's modes).
pub fn reachable_copy(dir: &Path, scenario: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let root = dir.join("root");
    copy_tree(&sysroot(scenario), &root);
    for p in [dir, root.as_path()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    root
}

/// `dockdoc facts --format json --root ROOT` as uid and gid 65534 with no groups (setpriv).
pub fn facts_as_nobody(root: &Path) -> dockdoc::facts::Facts {
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_dockdoc"))
        .args(["facts", "--format", "json", "--root"])
        .arg(root)
        .env_clear()
        .env("HOME", "/home/alice")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `cmd explain <args> -` (`cmd` runs dockdoc, here, as another user or in a namespace) with
/// `input` on standard input: the exit code and standard output. Standard error must be empty
/// unless it succeeded.
pub fn explain_stdin(mut cmd: Command, args: &[&str], input: &[u8]) -> (i32, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .arg("explain")
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.stderr.is_empty() || out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// `f` over `items`, a few at a time on scoped threads, the results in the items' order (each
/// explain of a corpus or the samples is a process of its own).
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(items.len().div_ceil(8).max(1))
            .map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// The candidates explain offers on a machine, in its order: neither ruled out by the endpoint
/// the paste names nor by the machine (passing, not applicable).
pub fn offered_here(doc: &serde_json::Value) -> Vec<String> {
    doc["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            !matches!(
                m["status"].as_str(),
                Some("other_endpoint" | "pass" | "not_applicable")
            )
        })
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The candidates `explain --format json` offers for a paste, in its order: the matches it did
/// not rule out by the endpoint.
pub fn offered(doc: &serde_json::Value) -> Vec<String> {
    doc["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["status"] != "other_endpoint")
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `cmd explain --format json <args> -` with `paste` on standard input ([`explain_stdin`]),
/// which must succeed: its JSON answer.
pub fn explain_json(cmd: Command, args: &[&str], paste: &str) -> serde_json::Value {
    let args: Vec<&str> = ["--format", "json"].iter().chain(args).copied().collect();
    let (code, out) = explain_stdin(cmd, &args, paste.as_bytes());
    assert_eq!(code, 0, "{out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The optional questions whose answers a profile's built-in checks read, as `check --profile`
/// asks them.
pub fn profile_questions(profile: &str) -> dockdoc::facts::Questions {
    let loaded = dockdoc::catalog::load_builtin();
    dockdoc::facts::Questions::for_keys(
        loaded
            .catalog
            .checks
            .iter()
            .filter(|c| c.profiles.iter().any(|p| p == profile))
            .flat_map(|c| c.fact_keys()),
    )
}
