//! `--root DIR` reads the tree under DIR as if DIR were `/`: no link leads out of it, no file
//! there can hang the run, and a root that is not a directory is a usage error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{bin, copy_tree, sysroot};
use serde_json::Value as Json;

/// A copy of the healthy fixture at `<temp>/root`, and a daemon.json at `<temp>/outside.json`,
/// outside the root, whose key and `hosts` must never show up in what dockdoc reports.
struct Tree {
    dir: tempfile::TempDir,
}

const OUTSIDE_KEY: &str = "outside-only-key";
const OUTSIDE_HOST: &str = "tcp://0.0.0.0:2375";

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&sysroot("healthy-docker-host"), &dir.path().join("root"));
        std::fs::write(
            dir.path().join("outside.json"),
            format!("{{\"{OUTSIDE_KEY}\": true, \"hosts\": [\"{OUTSIDE_HOST}\"]}}\n"),
        )
        .unwrap();
        Tree { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn outside(&self) -> PathBuf {
        self.dir.path().join("outside.json")
    }

    /// Replaces `inside` (a path under the root) with a symlink to `target`.
    fn link(&self, target: &str, inside: &str) {
        let at = self.root().join(inside);
        let _ = std::fs::remove_file(&at);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        symlink(target, at).unwrap();
    }

    /// Replaces `inside` with a FIFO.
    fn fifo(&self, inside: &str) {
        let at = self.root().join(inside);
        let _ = std::fs::remove_file(&at);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        nix::unistd::mkfifo(&at, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    }
}

/// `dockdoc facts --root ROOT --format json`: the facts, by key.
fn facts_of(root: &Path) -> Json {
    let out = bin()
        .args(["facts", "--format", "json", "--root"])
        .arg(root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: Json = serde_json::from_slice(&out.stdout).unwrap();
    json["facts"].clone()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The daemon.json facts say nothing of the file outside the root.
fn assert_outside_not_read(facts: &Json, what: &str) {
    let all = facts.to_string();
    assert!(!all.contains(OUTSIDE_KEY), "{what}: {all}");
    assert!(!all.contains(OUTSIDE_HOST), "{what}: {all}");
}

#[test]
fn an_absolute_link_starts_again_at_the_root() {
    let tree = Tree::new();
    // To the file outside by its host path, and to this machine's /etc/shadow: under the
    // root, neither exists.
    for target in [tree.outside().to_str().unwrap(), "/etc/shadow"] {
        tree.link(target, "etc/docker/daemon.json");
        let facts = facts_of(&tree.root());
        assert_outside_not_read(&facts, target);
        assert_eq!(
            facts["docker.daemon_json_exists"]["value"], false,
            "{target}: {}",
            facts["docker.daemon_json_exists"]
        );
        assert_eq!(
            facts["docker.daemon_json_keys"]["value"],
            Json::Array(vec![])
        );
    }
    // A file the link names inside the root is the one read.
    tree.link("/srv/daemon.json", "etc/docker/daemon.json");
    assert_daemon_json_read_from(&tree, "srv/daemon.json");
}

/// Writes a daemon.json at `inside` (where the root's /etc/docker/daemon.json leads) and
/// shows that it is the one read.
fn assert_daemon_json_read_from(tree: &Tree, inside: &str) {
    let at = tree.root().join(inside);
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::fs::write(at, "{\"debug\": true}\n").unwrap();
    let facts = facts_of(&tree.root());
    assert_eq!(
        facts["docker.daemon_json_keys"]["value"],
        serde_json::json!(["debug"]),
        "{inside}"
    );
}

#[test]
fn a_relative_link_cannot_climb_out_of_the_root() {
    let tree = Tree::new();
    tree.link("../../../outside.json", "etc/docker/daemon.json");
    let facts = facts_of(&tree.root());
    assert_outside_not_read(&facts, "../../../outside.json");
    // `..` at the root stays there: the link leads to ROOT/outside.json, which is not there.
    assert_eq!(facts["docker.daemon_json_exists"]["value"], false);
    assert_daemon_json_read_from(&tree, "outside.json");
}

#[test]
fn a_looping_link_is_unknown_because_of_the_loop() {
    let tree = Tree::new();
    tree.link("loop-b", "etc/docker/daemon.json");
    tree.link("daemon.json", "etc/docker/loop-b");
    let facts = facts_of(&tree.root());
    let keys = &facts["docker.daemon_json_keys"];
    assert_eq!(keys["state"], "unknown", "{keys}");
    assert!(
        keys["reason"]
            .as_str()
            .unwrap()
            .contains("/etc/docker/daemon.json: Too many levels of symbolic links"),
        "{keys}"
    );
}

/// Whether strace runs here (a skip line, or a failure under DOCKDOC_LIVE=require, when not).
fn strace_available(unproven: &str) -> bool {
    common::prereq::ready_for(
        &format!("test {}", common::prereq::current_test()),
        &[common::prereq::Need::Program("strace")],
        &[unproven.to_owned()],
    )
}

#[test]
fn strace_shows_nothing_outside_the_root_opened() {
    if !strace_available("no open outside the root, as the kernel saw it") {
        return;
    }
    let tree = Tree::new();
    tree.link(tree.outside().to_str().unwrap(), "etc/docker/daemon.json");
    tree.link("../../../outside.json", "etc/os-release");
    tree.link("/../outside.json", "etc/resolv.conf");
    tree.link("loop-b", "etc/group");
    tree.link("group", "etc/loop-b");
    let outside = tree.outside();
    let outside = outside.to_str().unwrap();
    // As the kernel resolves (openat2), and as the walk in user space does where the kernel
    // lacks openat2 or a seccomp filter refuses it (strace makes every openat2 fail with ENOSYS,
    // then EPERM).
    let mut runs = Vec::new();
    for inject in [
        None,
        Some("inject=openat2:error=ENOSYS"),
        Some("inject=openat2:error=EPERM"),
    ] {
        let log = tree.dir.path().join("strace.log");
        let mut cmd = Command::new("strace");
        cmd.args(["-f", "-qq", "-yy", "-e", "trace=open,openat,openat2", "-o"])
            .arg(&log);
        if let Some(inject) = inject {
            cmd.args(["-e", inject]);
        }
        let out = cmd
            .arg(env!("CARGO_BIN_EXE_dockdoc"))
            .args(["facts", "--format", "json", "--root"])
            .arg(tree.root())
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{inject:?}: {}", stderr(&out));
        let facts: Json = serde_json::from_slice(&out.stdout).unwrap();
        assert_outside_not_read(&facts, &format!("{inject:?}"));
        let mut facts = facts["facts"].as_object().unwrap().clone();
        // The free space of the filesystem the test runs on changes between the runs.
        facts.retain(|key, _| !key.starts_with("host.data_root_free"));
        runs.push(facts);
        let log = std::fs::read_to_string(&log).unwrap();
        // The links were looked at (the trace is of the right run): by openat2, or, where it
        // failed, one name at a time from the root ...
        match inject {
            None => assert!(log.contains("\"etc/docker/daemon.json\""), "{log}"),
            Some(inject) => assert!(
                log.contains(inject.rsplit('=').next().unwrap())
                    && log.contains(&format!("{}/etc>, \"docker\"", tree.root().display())),
                "{log}"
            ),
        }
        // ... and no descriptor the kernel returned is the file outside.
        let opened: Vec<&str> = log.lines().filter(|l| l.contains(outside)).collect();
        assert!(
            opened.is_empty(),
            "{inject:?}: opened outside the root:\n{}",
            opened.join("\n")
        );
    }
    // The walk gives every fact the kernel's resolution gives.
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
}

#[test]
fn arch_resolv_conf_link_is_judged_by_the_roots_own_resolver_files() {
    let tree = Tree::new();
    let r = tree.root();
    // Arch with systemd-resolved: /etc/resolv.conf is an absolute link to the stub file, and
    // the Docker daemon reads the uplink list, which is only a local resolver on loopback.
    std::fs::create_dir_all(r.join("run/systemd/resolve")).unwrap();
    std::fs::write(
        r.join("run/systemd/resolve/stub-resolv.conf"),
        "nameserver 127.0.0.53\noptions edns0 trust-ad\n",
    )
    .unwrap();
    std::fs::write(
        r.join("run/systemd/resolve/resolv.conf"),
        "nameserver 127.0.0.1\n",
    )
    .unwrap();
    tree.link("/run/systemd/resolve/stub-resolv.conf", "etc/resolv.conf");
    let facts = facts_of(&r);
    assert_eq!(
        facts["network.resolv_conf"]["value"], "/run/systemd/resolve/resolv.conf",
        "{}",
        facts["network.resolv_conf"]
    );
    assert_eq!(
        facts["network.nameservers"]["value"],
        serde_json::json!(["127.0.0.1"])
    );
    let out = bin()
        .args([
            "check",
            "--format",
            "json",
            "--only",
            "container-dns-loopback",
        ])
        .arg("--root")
        .arg(&r)
        .output()
        .unwrap();
    let report: Json =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(
        report["checks"][0]["status"], "fail",
        "{}",
        report["checks"][0]
    );
}

/// Runs dockdoc and reads its standard output until it is a whole JSON document or `limit`
/// passes; the process (and anything it waits on) is then killed. The JSON and when it was
/// complete.
fn json_within(mut cmd: Command, limit: Duration) -> (Option<Json>, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 65536];
        while let Ok(n) = stdout.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Ok(json) = serde_json::from_slice::<Json>(&buf) {
                let _ = tx.send(json);
                return;
            }
        }
    });
    let got = rx.recv_timeout(limit).ok();
    let took = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    (got, took)
}

#[test]
fn fifos_in_the_root_are_refused_by_type_and_the_run_does_not_wait() {
    let tree = Tree::new();
    for inside in [
        "etc/docker/daemon.json",
        "etc/os-release",
        "etc/group",
        "etc/resolv.conf",
        "proc/cpuinfo",
        "proc/self/status",
    ] {
        tree.fifo(inside);
    }
    let mut cmd = bin();
    cmd.args(["facts", "--format", "json", "--timeout", "2s", "--root"])
        .arg(tree.root());
    let (facts, took) = json_within(cmd, Duration::from_secs(20));
    let facts = facts.unwrap_or_else(|| panic!("no report within {took:?}"))["facts"].clone();
    assert!(took < Duration::from_secs(10), "{took:?}");
    for (key, path) in [
        ("docker.daemon_json_keys", "/etc/docker/daemon.json"),
        ("os.id", "/etc/os-release"),
        ("user.groups_configured", "/etc/group"),
        ("network.nameservers", "/etc/resolv.conf"),
        ("host.cpu_count", "/proc/cpuinfo"),
        ("user.uid", "/proc/self/status"),
    ] {
        let fact = &facts[key];
        assert_eq!(fact["state"], "unknown", "{key}: {fact}");
        let reason = fact["reason"].as_str().unwrap();
        assert!(
            reason.contains(&format!("{path}: is a FIFO")),
            "{key}: {reason}"
        );
    }
}

#[test]
fn reading_the_files_is_bounded_by_the_timeout() {
    // strace stalls one read.
    if !strace_available("a stalled read under --root ends at --timeout") {
        return;
    }
    let tree = Tree::new();
    let stalled = tree.root().join("etc/os-release");
    // strace holds every read(2) of /etc/os-release under the root for 60 s: a read that
    // hangs, as on a stuck network filesystem.
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=read"])
        .arg("-P")
        .arg(&stalled)
        .args(["-e", "inject=read:delay_enter=60s"])
        .arg(env!("CARGO_BIN_EXE_dockdoc"))
        .args(["facts", "--format", "json", "--timeout", "1s", "--root"])
        .arg(tree.root())
        .env("XDG_CONFIG_HOME", "/nonexistent");
    let (facts, took) = json_within(cmd, Duration::from_secs(30));
    let facts = facts.unwrap_or_else(|| panic!("no report within {took:?}"))["facts"].clone();
    assert!(took < Duration::from_secs(10), "{took:?}");
    let os = &facts["os.id"];
    assert_eq!(os["state"], "unknown", "{os}");
    assert_eq!(
        os["reason"].as_str().unwrap(),
        format!(
            "the files under {} were not all read within 1s",
            tree.root().display()
        )
    );
}

#[test]
fn a_root_that_is_not_a_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let missing = dir.path().join("missing");
    for (root, says) in [
        (missing.as_path(), "No such file or directory"),
        (file.as_path(), "not a directory"),
        (fifo.as_path(), "not a directory"),
        (Path::new("/dev/null"), "not a directory"),
    ] {
        for command in [&["check"][..], &["facts"], &["explain", "--error", "x"]] {
            let out = bin()
                .args(command)
                .arg("--root")
                .arg(root)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{root:?} {command:?}: {err}");
            assert!(
                err.contains(&root.display().to_string()) && err.contains(says),
                "{root:?} {command:?}: {err}"
            );
            assert!(out.stdout.is_empty(), "{root:?} {command:?}");
        }
    }
}
