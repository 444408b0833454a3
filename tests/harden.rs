//! A doctor runs on broken machines: garbage input, broken check files, a crashing check, a
//! closed stdout and sudo. dockdoc must finish, tell the truth and change nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{bin, copy_tree, fixtures};
use serde_json::Value as Json;

fn healthy() -> PathBuf {
    fixtures().join("sysroots/healthy-docker-host")
}

fn json_of(out: &Output) -> Json {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}\nstderr:\n{}", stderr(out)))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every piece of evidence in a report: (check id, status, fact, state, reason).
fn evidence(report: &Json) -> Vec<(String, String, String, String, String)> {
    let mut out = Vec::new();
    for c in report["checks"].as_array().unwrap() {
        for e in c["evidence"].as_array().unwrap() {
            out.push((
                c["id"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
                e["fact"].as_str().unwrap().to_owned(),
                e["state"].as_str().unwrap().to_owned(),
                e["reason"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    out
}

/// The healthy fixture with every kind of garbage where its files were. Built at run time:
/// git cannot hold dangling symlinks, loops, unreadable or 1 GB (sparse) files.
fn garbage_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = dir.path();
    copy_tree(&healthy(), r);
    let replace = |inside: &str| {
        let p = r.join(inside);
        if p.is_dir() && !p.is_symlink() {
            std::fs::remove_dir_all(&p).unwrap();
        } else {
            let _ = std::fs::remove_file(&p);
        }
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        p
    };
    // Binary junk, with NULs and invalid UTF-8.
    let junk: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(replace("etc/passwd"), &junk).unwrap();
    std::fs::write(replace("etc/docker/daemon.json"), &junk).unwrap();
    // A truncated gzip.
    let gz = std::fs::read(healthy().join("proc/config.gz")).unwrap();
    std::fs::write(replace("proc/config.gz"), &gz[..gz.len() / 3]).unwrap();
    // An empty file.
    std::fs::write(replace("etc/os-release"), b"").unwrap();
    // A directory where a file belongs, a file where a directory belongs.
    std::fs::create_dir(replace("etc/group")).unwrap();
    std::fs::write(replace("var/lib/pacman/local"), b"junk\n").unwrap();
    std::fs::write(replace("usr/lib/modules"), &junk).unwrap();
    // A dangling symlink, a symlink loop.
    symlink("/nonexistent/status", replace("proc/self/status")).unwrap();
    symlink("cpuinfo-b", replace("proc/cpuinfo")).unwrap();
    symlink("cpuinfo", replace("proc/cpuinfo-b")).unwrap();
    // The network files: a route table of junk, a directory for the ruleset, a resolv.conf loop.
    std::fs::write(replace("proc/net/route"), &junk).unwrap();
    std::fs::create_dir(replace("etc/nftables.conf")).unwrap();
    symlink("resolv.conf-b", replace("etc/resolv.conf")).unwrap();
    symlink("resolv.conf", replace("etc/resolv.conf-b")).unwrap();
    // 1 GB (sparse) where a few kilobytes belong.
    let big = std::fs::File::create(replace("proc/modules")).unwrap();
    big.set_len(1 << 30).unwrap();
    // Unreadable (root reads it anyway; the unprivileged run below does not).
    let meminfo = r.join("proc/meminfo");
    std::fs::set_permissions(&meminfo, std::fs::Permissions::from_mode(0o000)).unwrap();
    dir
}

fn run_on(root: &Path, wrap: &[&str]) -> Output {
    let exe = env!("CARGO_BIN_EXE_dockdoc");
    let (program, args): (&str, Vec<&str>) = match wrap.split_first() {
        Some((first, rest)) => (first, rest.iter().copied().chain([exe]).collect()),
        None => (exe, Vec::new()),
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .args(["--root", root.to_str().unwrap()])
        .args(["--format", "json", "--profile", "all", "--timeout", "10s"])
        .env("RUST_BACKTRACE", "0")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env_remove("SUDO_USER");
    cmd.output().unwrap()
}

fn assert_finished_cleanly(out: &Output) -> Json {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {err}",
        out.status
    );
    json_of(out)
}

/// (fact, what the reason must say) for a representative set of the broken files.
const EXPECTED_UNKNOWN: &[(&str, &str)] = &[
    ("user.is_root", "/proc/self/status: No such file"),
    ("user.groups_configured", "/etc/group: is a directory"),
    ("docker.daemon_json_keys", "/etc/docker/daemon.json"),
    (
        "kernel.config_source",
        "/proc/config.gz: not readable as gzip",
    ),
    ("kernel.modules_unavailable", "/proc/modules: larger than"),
    (
        "kvm.cpu_vendor",
        "/proc/cpuinfo: Too many levels of symbolic links",
    ),
    ("pacman.docker_version", "/var/lib/pacman/local"),
    ("network.uplink_forwarding", "/proc/net/route:1"),
    ("network.nftables_flush_ruleset", "/etc/nftables.conf"),
    (
        "network.resolv_conf_unusable",
        "/etc/resolv.conf: Too many levels of symbolic links",
    ),
];

#[test]
fn a_garbage_root_finishes_with_valid_json_and_says_unknown_with_file_and_reason() {
    let root = garbage_root();
    let out = run_on(root.path(), &[]);
    let report = assert_finished_cleanly(&out);
    let ev = evidence(&report);
    for (fact, says) in EXPECTED_UNKNOWN {
        let hits: Vec<_> = ev.iter().filter(|e| e.2 == *fact).collect();
        assert!(!hits.is_empty(), "no check read {fact}");
        for (id, status, _, state, reason) in hits {
            assert_eq!(state, "unknown", "{id}: {fact} should be unknown");
            assert!(
                reason.contains(says),
                "{id}: {fact}: {reason:?} lacks {says:?}"
            );
            assert!(
                status == "unknown"
                    || status == "skipped"
                    || status == "not_applicable"
                    || status == "pass"
                    || status == "fail",
                "{id}: {status}"
            );
        }
    }
    // A check that reads only broken facts can decide nothing.
    let status_of = |id: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["status"].as_str().unwrap().to_owned())
    };
    for id in [
        "user-not-in-docker-group",
        "kernel-config-missing-docker-features",
        "cpu-virtualization-missing",
        "uplink-forwarding-disabled",
        "nftables-flush-ruleset",
    ] {
        assert_eq!(status_of(id).as_deref(), Some("unknown"), "{id}");
    }
}

#[test]
fn an_unreadable_file_is_unknown_for_an_unprivileged_user() {
    if !common::prereq::ready(common::AS_NOBODY) {
        return;
    }
    let root = garbage_root();
    let out = run_on(
        root.path(),
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ],
    );
    let report = assert_finished_cleanly(&out);
    let ev = evidence(&report);
    let mem: Vec<_> = ev
        .iter()
        .filter(|e| e.2 == "host.mem_available_bytes")
        .collect();
    assert!(!mem.is_empty());
    for (id, _, _, state, reason) in mem {
        assert_eq!(state, "unknown", "{id}");
        assert!(
            reason.contains("/proc/meminfo: Permission denied"),
            "{id}: {reason}"
        );
    }
}

#[test]
fn a_crashing_check_becomes_unknown_and_asks_for_a_bug_report() {
    let victim = "docker-desktop-context";
    let plain = run_on(&healthy(), &[]);
    let before = assert_finished_cleanly(&plain);
    let out = {
        let mut cmd = bin();
        cmd.args([
            "--root",
            healthy().to_str().unwrap(),
            "--format",
            "json",
            "--profile",
            "all",
        ])
        .env("DOCKDOC_TEST_PANIC", victim)
        .env("RUST_BACKTRACE", "0");
        cmd.output().unwrap()
    };
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let after = json_of(&out);
    let checks = after["checks"].as_array().unwrap();
    assert_eq!(
        checks.len(),
        before["checks"].as_array().unwrap().len(),
        "every other check still ran"
    );
    let crashed = checks.iter().find(|c| c["id"] == victim).unwrap();
    assert_eq!(crashed["status"], "unknown");
    let summary = crashed["summary"].as_str().unwrap();
    assert!(
        summary.contains("this is a bug in dockdoc, please report"),
        "{summary}"
    );
    let others_unknown = checks
        .iter()
        .filter(|c| c["id"] != victim && c["summary"].as_str().unwrap().contains("bug in dockdoc"))
        .count();
    assert_eq!(others_unknown, 0);
}

/// Runs dockdoc with a stdout whose reader is already gone: every write fails with EPIPE.
fn with_closed_stdout(args: &[&str]) -> Output {
    let (reader, writer) = nix::unistd::pipe().unwrap();
    drop(reader);
    let child = bin()
        .args(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.wait_with_output().unwrap()
}

/// The exit status of `dockdoc ARGS` with a reader that reads everything.
fn uninterrupted_status(args: &[&str]) -> i32 {
    bin().args(args).output().unwrap().status.code().unwrap()
}

/// A reader that closed before the first write changes nothing but the output: no panic, nothing
/// on stderr, and the exit status the run has with a reader (1 here: under `--root` no daemon
/// answers, so the error-severity `docker-socket-missing` fails; nagios says CRITICAL, 2).
#[test]
fn a_closed_stdout_exits_quietly_with_the_reports_status() {
    let root = healthy();
    let root = root.to_str().unwrap();
    for args in [
        &["--root", root][..],
        &["--root", root, "--format", "json"],
        &["--root", root, "--format", "markdown"],
        &["--root", root, "--format", "nagios"],
        &["--root", root, "--format", "prometheus"],
        &["--root", root, "--format", "junit"],
        &["--format", "nagios", "--facts", "/nonexistent/facts.json"],
        &["list"],
        &["list", "--format", "json"],
        &["explain", "user-not-in-docker-group"],
        &[
            "explain",
            "--error",
            "permission denied while trying to connect to the Docker daemon socket",
        ],
        &["facts", "--root", root],
    ] {
        let whole = uninterrupted_status(args);
        let out = with_closed_stdout(args);
        assert_eq!(
            (out.status.code(), stderr(&out).as_str()),
            (Some(whole), ""),
            "dockdoc {args:?}"
        );
    }
    assert_eq!(uninterrupted_status(&["--root", root]), 1);
    assert_eq!(
        uninterrupted_status(&["--root", root, "--format", "nagios"]),
        2
    );
}

/// Through `| head -1` the reader closes at any moment, before, during or after the one write;
/// the status is the same every time.
#[test]
fn piped_into_head_the_status_is_the_reports_every_time() {
    let exe = env!("CARGO_BIN_EXE_dockdoc");
    let root = healthy();
    for args in [
        format!("--root {} --profile all -v", root.display()),
        format!("--root {} --format nagios", root.display()),
        "list".to_owned(),
        "explain user-not-in-docker-group".to_owned(),
    ] {
        let whole = uninterrupted_status(&args.split(' ').collect::<Vec<_>>()).to_string();
        for head in ["head -1", "head -c 0", "head -c 1"] {
            let script = format!(
                "for i in $(seq 10); do {exe} {args} 2>/dev/fd/3 | {head} >/dev/null; echo ${{PIPESTATUS[0]}}; done"
            );
            let err_file = tempfile::NamedTempFile::new().unwrap();
            let out = Command::new("bash")
                .arg("-c")
                .arg(format!("exec 3>{}; {script}", err_file.path().display()))
                .output()
                .unwrap();
            let statuses = String::from_utf8_lossy(&out.stdout).into_owned();
            let err = std::fs::read_to_string(err_file.path()).unwrap();
            assert!(
                statuses.lines().count() == 10
                    && statuses.lines().all(|s| s == whole)
                    && err.is_empty(),
                "dockdoc {args} | {head}: statuses {statuses:?} (uninterrupted: {whole}), stderr {err:?}"
            );
        }
    }
}

const SITE_CHECK: &str = r#"schema = 1
area = "network"
title = "Site"

[[check]]
id = "site-x"
title = "t"
severity = "warning"
profiles = ["docker"]
fails_if = { fact = "kernel.ip_forward", is = false }
summary = "s"
why = "w"
"#;

/// `explain --offline` of a paste the built-in `user-not-in-docker-group` recognises, with the
/// user check files in `dir`: the exit status and standard error, after asserting that the
/// built-in check still recognised it.
fn explain_with_checks(dir: &Path) -> (Option<i32>, String) {
    let out = bin()
        .args([
            "explain",
            "--offline",
            "--format",
            "json",
            "--error",
            "permission denied while trying to connect to the Docker daemon socket",
        ])
        .args(["--checks-dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("user-not-in-docker-group"),
        "the built-in checks still recognise the paste:\n{stdout}"
    );
    (out.status.code(), stderr(&out))
}

/// An `explains` regex over the size limits is a load error at its file and line; the other
/// checks' patterns, built-in ones included, still recognise a paste.
#[test]
fn an_oversized_explains_regex_is_a_load_error_and_explain_still_recognises() {
    let dir = tempfile::tempdir().unwrap();
    let check = SITE_CHECK.replace(
        "why = \"w\"",
        "why = \"w\"\nexplains = ['(?:\\w{100}){100}']",
    );
    std::fs::write(dir.path().join("big.toml"), check).unwrap();
    let (code, err) = explain_with_checks(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}/big.toml:13:13: the regex in explains exceeds the size limits",
            dir.path().display()
        )),
        "{err}"
    );
}

/// Patterns that load one by one also compile together: two user patterns each near the size
/// limit leave explain recognising what it did, built-in checks included.
#[test]
fn patterns_that_load_one_by_one_still_match_together() {
    let dir = tempfile::tempdir().unwrap();
    for (id, tail) in [("site-big-a", "x"), ("site-big-b", "y")] {
        let check = SITE_CHECK.replace("site-x", id).replace(
            "why = \"w\"",
            &format!("why = \"w\"\nexplains = ['\\w{{200}}{tail}']"),
        );
        std::fs::write(dir.path().join(format!("{id}.toml")), check).unwrap();
    }
    let (code, err) = explain_with_checks(dir.path());
    assert_eq!(code, Some(0), "{err}");
}

/// `consequence_of` in a user's check file that names no check, or makes a cycle, is a load
/// error naming the file.
#[test]
fn consequence_of_cycles_and_unknown_ids_in_user_files_are_load_errors() {
    let dir = tempfile::tempdir().unwrap();
    let linked = |id: &str, cause: &str| {
        SITE_CHECK.replace("site-x", id).replace(
            "why = \"w\"",
            &format!("why = \"w\"\nconsequence_of = [\"{cause}\"]"),
        )
    };
    std::fs::write(dir.path().join("a.toml"), linked("site-a", "site-b")).unwrap();
    std::fs::write(dir.path().join("b.toml"), linked("site-b", "site-a")).unwrap();
    std::fs::write(dir.path().join("c.toml"), linked("site-c", "no-such-check")).unwrap();
    let out = bin()
        .args(["--root", healthy().to_str().unwrap(), "--format", "json"])
        .args(["--checks-dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let d = dir.path().display();
    for want in [
        format!(
            "{d}/a.toml:6:6: `site-a`: `consequence_of` comes back to it: site-a -> site-b -> site-a"
        ),
        format!(
            "{d}/b.toml:6:6: `site-b`: `consequence_of` comes back to it: site-b -> site-a -> site-b"
        ),
        format!(
            "{d}/c.toml:6:6: `site-c`: `consequence_of` names `no-such-check`, which no loaded check has"
        ),
    ] {
        assert!(err.contains(&want), "missing {want:?} in:\n{err}");
    }
    json_of(&out);
}

#[test]
fn broken_check_files_are_located_the_builtins_still_run_and_the_exit_is_2() {
    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    put(
        "unknown-key.toml",
        &SITE_CHECK.replace("why =", "colour = \"red\"\nwhy ="),
    );
    put(
        "wrong-type.toml",
        &SITE_CHECK.replace("severity = \"warning\"", "severity = 3"),
    );
    put(
        "bad-regex.toml",
        &SITE_CHECK.replace("is = false", "matches = \"(unclosed\""),
    );
    put(
        "unknown-fact.toml",
        &SITE_CHECK.replace("kernel.ip_forward", "kernel.no_such_fact"),
    );
    put("dup-a.toml", &SITE_CHECK.replace("site-x", "site-dup"));
    put("dup-b.toml", &SITE_CHECK.replace("site-x", "site-dup"));
    put("junk.toml", "\u{0}\u{1}[[[ not toml");
    let mut huge = SITE_CHECK.replace("site-x", "site-huge");
    while huge.len() < 4 << 20 {
        huge.push_str("# padding ..............................................\n");
    }
    put("huge.toml", &huge);
    let out = bin()
        .args(["--root", healthy().to_str().unwrap(), "--format", "json"])
        .args(["--checks-dir", dir.path().to_str().unwrap()])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let d = dir.path().display();
    for want in [
        format!("{d}/unknown-key.toml:12:1: unknown field `colour`"),
        format!("{d}/wrong-type.toml:8:12: "),
        format!("{d}/bad-regex.toml:10:"),
        format!("{d}/unknown-fact.toml:10:12: unknown fact `kernel.no_such_fact`"),
        format!("{d}/junk.toml:1:"),
        format!("{d}/huge.toml: larger than the 1048576 bytes a check file may have"),
    ] {
        assert!(err.contains(&want), "missing {want:?} in:\n{err}");
    }
    assert!(err.contains("site-dup"), "duplicate id reported:\n{err}");
    assert!(
        err.contains("dup-a.toml") && err.contains("dup-b.toml"),
        "{err}"
    );
    assert!(!err.contains(":0:0:"), "{err}");
    let report = json_of(&out);
    let ids: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"docker-not-installed"),
        "the built-in checks still ran: {ids:?}"
    );
}

/// Found by the daemon_json fuzz target: `-` followed by a multi-byte character in
/// docker.service's ExecStart split a string inside a character and panicked.
#[test]
fn exec_start_with_a_non_ascii_flag_does_not_panic() {
    use dockdoc::facts::docker::exec_start::{flags, hosts};
    let crash = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/seeds/daemon_json/crash-93405f6d0d5d4cfc91a1e1070ef65a478468ce05"),
    )
    .unwrap();
    let line = String::from_utf8_lossy(&crash);
    let found = flags(&line);
    assert!(
        hosts(&found).contains(&"tcp://1.0.0.0RRRRR:2376".to_owned()),
        "{found:?}"
    );
    for line in [
        "dockerd -\u{64b}x",
        "dockerd -\u{e9}",
        "dockerd -é -H unix:///x.sock",
    ] {
        let _ = flags(line);
    }
    assert_eq!(
        hosts(&flags("dockerd -é -H unix:///x.sock")),
        ["unix:///x.sock"]
    );
}

/// A timeout the clock cannot add to now is a usage error, not a panic (exit 101).
#[test]
fn a_timeout_past_the_clocks_range_is_a_usage_error() {
    let root = healthy();
    for timeout in ["18446744073709551615s", "2h", "0s"] {
        let out = bin()
            .args(["check", "--root"])
            .arg(&root)
            .args(["--docker-host", "unix:///nonexistent/docker.sock"])
            .args(["--timeout", timeout])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "--timeout {timeout}: {err}");
        assert!(
            err.contains("--timeout") && !err.contains("panicked"),
            "--timeout {timeout}: {err}"
        );
    }
    let out = bin()
        .args(["check", "--root"])
        .arg(&root)
        .args(["--timeout", "1h"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// A malformed /proc table is an unknown fact whose reason is one line naming the file, the
/// line and what is wrong with it; never a parser's build path or a plea to report its bug.
#[test]
fn a_malformed_proc_table_is_a_one_line_reason_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    common::copy_tree(&healthy(), &root);
    std::fs::write(
        root.join("proc/mounts"),
        "proc /proc proc rw 0 0\ngarbage here\n",
    )
    .unwrap();
    std::fs::write(
        root.join("proc/modules"),
        "veth 40960 0 - Live 0x0\n\u{1}\n",
    )
    .unwrap();
    let out = bin()
        .args(["facts", "--format", "json", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    let facts = json_of(&out);
    for (key, want) in [
        (
            "kernel.cgroup_version",
            "/proc/mounts: line 2 has 2 space-separated fields where 6 are expected",
        ),
        (
            "kernel.modules_loaded",
            "/proc/modules: line 2 has 1 space-separated fields where 6 are expected",
        ),
    ] {
        let fact = &facts["facts"][key];
        assert_eq!(fact["state"], "unknown", "{key}: {fact}");
        let reason = fact["reason"].as_str().unwrap();
        assert_eq!(reason, want, "{key}");
    }
}

/// The control sequences a hostile value carries: reset the terminal (`ESC c`), save the
/// cursor (`ESC 7`), backspace, bell, and a C1 CSI (U+009B) clearing the screen.
const HOSTILE: &str = "al\u{1b}c\u{1b}7\u{8}\u{7}\u{9b}2Jice";

/// The control characters in `out` other than line feeds, after the colour sequences dockdoc
/// writes itself (SGR, `ESC [ … m`) when `coloured`.
fn raw_controls(out: &[u8], coloured: bool) -> Vec<char> {
    let text = String::from_utf8_lossy(out);
    let text = if coloured {
        regex::Regex::new(r"\x1b\[[0-9;]*m")
            .unwrap()
            .replace_all(&text, "")
            .into_owned()
    } else {
        text.into_owned()
    };
    text.chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect()
}

/// A root whose user (uid 1000, as the fixture's /proc/self/status says) is named HOSTILE in
/// /etc/passwd and /etc/group, and whose daemon.json holds a key carrying the same sequences.
fn hostile_root(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    common::copy_tree(&common::sysroot("not-in-docker-group"), &root);
    for file in ["etc/passwd", "etc/group"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let text = text
            .replace("alice:", &format!("{HOSTILE}:"))
            .replace(":alice", &format!(":{HOSTILE}"));
        std::fs::write(root.join(file), text).unwrap();
    }
    std::fs::write(
        root.join("etc/docker/daemon.json"),
        "{\"log-driver\": \"journald\", \"log-levle\\u001bc\\u001b7\\b\\u0007\\u009b2J\": \"debug\"}\n",
    )
    .unwrap();
    root
}

/// Names from /etc/passwd, daemon.json keys and pasted text reach no format's output with a raw
/// control character: every format a person reads shows them as visible escapes, and JSON
/// escapes them and still decodes to the value.
#[test]
fn hostile_values_reach_no_format_with_a_raw_control_character() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile_root(dir.path());
    let shown = "al\\x1bc\\x1b7\\x08\\x07\\u{9b}2Jice";
    let run = |args: &[&str]| {
        let out = bin()
            .env("HOME", "/home/alice")
            .args(args)
            .arg("--root")
            .arg(&root)
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0..=3)),
            "dockdoc {args:?}: {}",
            stderr(&out)
        );
        out.stdout
    };
    // The output of `dockdoc ARGS`, asserted to hold no raw control character.
    let clean = |args: &[&str], coloured: bool| {
        let out = run(args);
        assert_eq!(
            raw_controls(&out, coloured),
            Vec::<char>::new(),
            "dockdoc {args:?}"
        );
        String::from_utf8_lossy(&out).into_owned()
    };
    let check = ["check", "--profile", "all", "-v"];
    for (extra, coloured, must_show) in [
        (&["--color", "never"][..], false, true),
        (&["--color", "always"], true, true),
        (&["--format", "markdown"], false, true),
        (&["--format", "nagios"], false, true),
        (&["--format", "junit"], false, true),
        (&["--format", "prometheus"], false, false),
        (&["--format", "json"], false, false),
    ] {
        let args: Vec<&str> = check.iter().chain(extra).copied().collect();
        let text = clean(&args, coloured);
        assert!(
            !must_show || text.contains(shown),
            "dockdoc {args:?}:\n{text}"
        );
        // Prometheus carries ids and statuses only.
        assert!(
            text.contains("log-levle") || extra.contains(&"prometheus"),
            "dockdoc {args:?}:\n{text}"
        );
    }
    // JSON stays exact: the name decodes to what /etc/passwd holds.
    let report: Json = serde_json::from_slice(&run(&["check", "--format", "json"])).unwrap();
    let summary = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "user-not-in-docker-group")
        .unwrap()["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(summary.starts_with(HOSTILE), "{summary:?}");
    for args in [&["facts"][..], &["facts", "--format", "json"]] {
        clean(args, false);
    }
    let paste = format!(
        "{HOSTILE}: permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock"
    );
    for (extra, coloured) in [
        (&["--color", "never"][..], false),
        (&["--color", "always"], true),
        (&["--format", "json"], false),
    ] {
        let args: Vec<&str> = ["explain", "--error", &paste]
            .iter()
            .chain(extra)
            .copied()
            .collect();
        let text = clean(&args, coloured);
        assert!(
            text.contains("user-not-in-docker-group"),
            "dockdoc {args:?}:\n{text}"
        );
    }
}

/// Runs `cmd` for at most `limit`; `None` (after killing it) when it was still running.
fn output_within(cmd: &mut Command, limit: std::time::Duration) -> Option<Output> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn a_facts_file_that_is_not_a_small_regular_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("facts.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    // 1 GiB, sparse: reading it whole would cost 1 GiB of memory.
    let big = dir.path().join("facts-1g.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let cases: [(&Path, &str); 4] = [
        (&fifo, "is a FIFO, expected a regular file"),
        (
            Path::new("/dev/zero"),
            "is a character device, expected a regular file",
        ),
        (dir.path(), "is a directory, expected a regular file"),
        (&big, "larger than 16777216 bytes"),
    ];
    for (path, says) in cases {
        for args in [
            &["check", "--facts"][..],
            &[
                "explain",
                "--error",
                "permission denied while trying to connect to the docker daemon socket",
                "--facts",
            ],
        ] {
            let mut cmd = bin();
            cmd.args(args).arg(path);
            let out = output_within(&mut cmd, std::time::Duration::from_secs(10))
                .unwrap_or_else(|| panic!("{args:?} {path:?}: still running after 10 s"));
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{args:?} {path:?}: {err}");
            assert!(
                err.contains(&format!(
                    "cannot read the facts file: {}: {says}",
                    path.display()
                )),
                "{args:?} {path:?}: {err}"
            );
        }
    }
}

/// Swaps `path` between a small regular file and a FIFO, by rename, until `stop` is set.
fn swap_file_and_fifo(
    path: PathBuf,
    text: &'static str,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    let dir = path.parent().unwrap().to_owned();
    let mut n = 0u64;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        n += 1;
        let next = dir.join(format!(".swap-{n}"));
        if n.is_multiple_of(2) {
            std::fs::write(&next, text).unwrap();
        } else {
            nix::unistd::mkfifo(&next, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        }
        std::fs::rename(&next, &path).unwrap();
    }
}

#[test]
fn check_files_and_waivers_swapped_for_a_fifo_never_hang_a_run() {
    // A look at the path and then an open of it leaves a window in which a FIFO can take the
    // file's place; a blocking open of a FIFO waits for a writer forever. Each run must end.
    let dir = tempfile::tempdir().unwrap();
    let checks = dir.path().join("checks");
    std::fs::create_dir(&checks).unwrap();
    let facts = dir.path().join("facts.json");
    let out = bin()
        .args(["facts", "--root"])
        .arg(healthy())
        .output()
        .unwrap();
    std::fs::write(&facts, &out.stdout).unwrap();
    let check_file = checks.join("site.toml");
    let waivers = dir.path().join("waivers.toml");
    let check_text = "schema = 1\narea = \"site\"\ntitle = \"Site\"\n";
    let waiver_text = "";
    std::fs::write(&check_file, check_text).unwrap();
    std::fs::write(&waivers, waiver_text).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let racers = [
        (check_file.clone(), check_text),
        (waivers.clone(), waiver_text),
    ]
    .map(|(path, text)| {
        let stop = stop.clone();
        std::thread::spawn(move || swap_file_and_fifo(path, text, stop))
    });
    let mut refused = 0;
    for _ in 0..300 {
        let mut cmd = bin();
        cmd.args(["check", "--format", "json", "--checks-dir"])
            .arg(&checks)
            .arg("--waivers")
            .arg(&waivers)
            .arg("--facts")
            .arg(&facts);
        let out = output_within(&mut cmd, std::time::Duration::from_secs(10));
        let Some(out) = out else {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            panic!("a run was still waiting after 10 s: a FIFO was opened blocking");
        };
        if stderr(&out).contains("not a regular file") {
            refused += 1;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for racer in racers {
        racer.join().unwrap();
    }
    assert!(
        refused > 0,
        "no run met the FIFO: the race was not exercised"
    );
}

#[test]
fn a_check_files_text_and_its_load_errors_reach_the_terminal_without_raw_controls() {
    // A user's check file may hold anything: its documentation (`explain ID`) and the errors
    // it causes at load go to a terminal.
    // As TOML escapes: TOML strings cannot hold the raw bytes, but their escapes decode to them.
    const SEQ: &str = r"\u001Bc\u001B7\u0008\u0007\u009B2J\u001B]0;owned\u0007";
    let dir = tempfile::tempdir().unwrap();
    let good = format!(
        "schema = 1\narea = \"site\"\ntitle = \"Site\"\n\n[[check]]\nid = \"site-hostile-text\"\n\
         title = \"T{SEQ}\"\nseverity = \"info\"\nprofiles = [\"docker\"]\n\
         fails_if = {{ fact = \"os.arch_based\", is = false }}\nsummary = \"s{SEQ}\"\n\
         why = \"\"\"\nline one{SEQ}\nline two\n\"\"\"\n\
         fix = [{{ step = \"step{SEQ}\", command = \"echo{SEQ}\" }}]\n\
         references = [\"https://example.org/{SEQ}\"]\n"
    );
    std::fs::write(dir.path().join("good.toml"), good).unwrap();
    let out = bin()
        .args(["explain", "site-hostile-text", "--checks-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("line one"));
    assert_eq!(raw_controls(&out.stdout, true), Vec::<char>::new());

    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(
        bad.join("bad.toml"),
        format!("schema = 1\narea = \"site\"\ntitle = \"Site\"\n\"k{SEQ}\" = 1\n"),
    )
    .unwrap();
    let out = bin()
        .args(["list", "--checks-dir"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad.toml"), "{}", stderr(&out));
    assert_eq!(
        raw_controls(&out.stderr, false),
        Vec::<char>::new(),
        "{}",
        stderr(&out)
    );
}
