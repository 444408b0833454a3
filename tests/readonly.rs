//! dockdoc only reads, proven with strace: every run below is traced with `strace -f` over
//! every syscall that opens for writing, creates, renames, removes, links or changes mode or
//! owner, and the test fails on any such call (attempted or not), anywhere.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::process::Command;

const TRACED: &str = "trace=open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,\
unlink,unlinkat,rmdir,chmod,fchmod,fchmodat,chown,fchown,fchownat,truncate,ftruncate,link,linkat,\
symlink,symlinkat";

/// Device files a terminal program may open for writing without changing anything.
const HARMLESS: &[&str] = &["\"/dev/null\"", "\"/dev/tty\"", "\"/dev/pts/"];

/// The offending lines of a strace log: any call that is not an open, and any open with a
/// writing flag, except of a harmless device.
fn writes(log: &str) -> Vec<String> {
    log.lines()
        .filter(|line| {
            let call = line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .split('(')
                .next()
                .unwrap_or_default();
            match call {
                "" | "<..." | "+++" | "---" => false,
                "open" | "openat" | "openat2" => {
                    ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"]
                        .iter()
                        .any(|f| line.contains(f))
                        && !HARMLESS.iter().any(|h| line.contains(h))
                }
                _ => true,
            }
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_filter_catches_writes() {
    let log = "12 openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3\n\
               12 openat(AT_FDCWD, \"/dev/null\", O_RDWR|O_CLOEXEC) = 4\n\
               13 openat(AT_FDCWD, \"/tmp/x\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 5\n\
               13 openat2(AT_FDCWD, \"/tmp/y\", {flags=O_RDWR, mode=0}, 24) = -1 EACCES\n\
               14 unlinkat(AT_FDCWD, \"/tmp/z\", 0) = -1 ENOENT (No such file or directory)\n\
               14 +++ exited with 0 +++\n";
    let found = writes(log);
    assert_eq!(found.len(), 3, "{found:?}");
}

fn strace_available() -> Option<String> {
    match Command::new("strace").arg("-V").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("strace is not installed".into()),
    }
}

#[test]
fn check_explain_list_and_facts_never_write() {
    if let Some(reason) = strace_available() {
        assert!(
            std::env::var("DOCKDOC_LIVE").map_or(true, |v| v != "require"),
            "prerequisite missing: {reason}"
        );
        eprintln!("skipped: {reason}");
        return;
    }
    let exe = env!("CARGO_BIN_EXE_dockdoc");
    let root = common::fixtures().join("sysroots/healthy-docker-host");
    let root = root.to_str().unwrap();
    let runs: &[&[&str]] = &[
        &["check", "--profile", "all", "-v"],
        &["check", "--profile", "all", "--format", "json"],
        &["check", "--profile", "all", "--root", root],
        &[
            "explain",
            "--error",
            "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock",
        ],
        &["explain", "user-not-in-docker-group"],
        &["list"],
        &["facts"],
        &["facts", "--format", "json", "--root", root],
        &["hook", "kernel-upgrade"],
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut opens = 0;
    for (i, args) in runs.iter().enumerate() {
        let log = dir.path().join(format!("trace-{i}"));
        let out = Command::new("strace")
            .args(["-f", "-qq", "-e", TRACED, "-o"])
            .arg(&log)
            .arg(exe)
            .args(*args)
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "dockdoc {args:?}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&log).unwrap();
        opens += text.matches("open").count();
        let found = writes(&text);
        assert!(
            found.is_empty(),
            "dockdoc {args:?} wrote:\n{}",
            found.join("\n")
        );
    }
    assert!(
        opens > 10 * runs.len(),
        "strace saw the runs ({opens} opens)"
    );
}
