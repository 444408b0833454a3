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
                // A thread stopped at a syscall's entry when another called exit_group: strace
                // detaches it before it could name the call, which never ran.
                "???" if line.ends_with("<detached ...>") => false,
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
               14 +++ exited with 0 +++\n\
               15 ???( <detached ...>\n";
    let found = writes(log);
    assert_eq!(found.len(), 3, "{found:?}");
}

/// Whether the test must stop (after its skip line): strace is missing.
fn skipped_without_strace() -> bool {
    !common::prereq::ready(&[common::prereq::Need::Program("strace")])
}

#[test]
fn check_explain_list_and_facts_never_write() {
    if skipped_without_strace() {
        return;
    }
    let exe = env!("CARGO_BIN_EXE_dockdoc");
    let root = common::fixtures().join("sysroots/healthy-docker-host");
    let root = root.to_str().unwrap();
    let runs: &[&[&str]] = &[
        &["check", "--profile", "all", "-v"],
        &["check", "--profile", "all", "--format", "json"],
        &["check", "--profile", "all", "--root", root],
        &["check", "--profile", "all", "--format", "prometheus"],
        &[
            "check",
            "--profile",
            "all",
            "--format",
            "junit",
            "--root",
            root,
        ],
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
        // The plan of `fix` changes nothing; only --apply and --undo do.
        &["fix", "--profile", "all"],
        &["fix", "--format", "json", "--root", root],
        &["fix", "--format", "shell", "--profile", "all"],
        &["fix", "--list-runs"],
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

/// `--output FILE`, traced: the run's only writes are a new temporary file created next to
/// FILE (O_CREAT|O_EXCL), its mode set to 0644, flushed with fsync, and renamed over FILE.
#[test]
fn output_writes_a_temporary_file_and_renames_it_over_the_target() {
    if skipped_without_strace() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("dockdoc.prom");
    std::fs::write(&target, "old\n").unwrap();
    let root = common::fixtures().join("sysroots/healthy-docker-host");
    let log = dir.path().join("trace");
    let out = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            &format!("{TRACED},fsync,fdatasync"),
            "-o",
        ])
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_dockdoc"))
        .args(["check", "--format", "prometheus", "--root"])
        .arg(&root)
        .arg("--output")
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "nothing on standard output");
    let text = std::fs::read_to_string(&log).unwrap();
    let found = writes(&text);
    let dir_name = dir.path().to_str().unwrap();
    let create = found
        .iter()
        .position(|l| l.contains("O_CREAT") && l.contains("O_EXCL") && l.contains(dir_name))
        .unwrap_or_else(|| panic!("no temporary file was created:\n{}", found.join("\n")));
    let tmp = found[create]
        .split('"')
        .nth(1)
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        tmp.starts_with(".dockdoc.prom.") && tmp.ends_with(".tmp"),
        "{tmp}"
    );
    let rename = found
        .iter()
        .position(|l| l.starts_with_call("rename") && l.contains(&tmp))
        .unwrap_or_else(|| panic!("no rename:\n{}", found.join("\n")));
    assert!(
        found[rename].contains(&format!("{dir_name}/dockdoc.prom\""))
            && found[rename].ends_with("= 0"),
        "{}",
        found[rename]
    );
    let fchmod = found
        .iter()
        .position(|l| l.starts_with_call("fchmod") && l.contains("0644"))
        .unwrap_or_else(|| panic!("no fchmod 0644:\n{}", found.join("\n")));
    let fsync = text
        .lines()
        .position(|l| l.starts_with_call("fsync"))
        .expect("fsync");
    let rename_line = text.lines().position(|l| l == found[rename]).unwrap();
    assert!(create < fchmod && fchmod < rename, "{}", found.join("\n"));
    assert!(
        fsync < rename_line,
        "the file is flushed before the rename:\n{text}"
    );
    // Nothing else was written: the creation, the mode, the flush, the rename and the flush
    // of the directory are all.
    let calls: Vec<&str> = found
        .iter()
        .map(|l| {
            l.split_whitespace()
                .nth(1)
                .unwrap()
                .split('(')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(calls.len(), 5, "{}", found.join("\n"));
    assert_eq!(
        calls[..3],
        ["openat", "fchmod", "fsync"],
        "{}",
        found.join("\n")
    );
    assert!(
        calls[3].starts_with("rename") && calls[4] == "fsync",
        "{}",
        found.join("\n")
    );
    let meta = std::fs::metadata(&target).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o644);
    let content = std::fs::read_to_string(&target).unwrap();
    assert!(content.starts_with("# HELP dockdoc_"), "{content}");
}

/// A run killed just before the rename (strace injects SIGKILL at the rename call) leaves the
/// old file exactly as it was.
#[test]
fn an_interrupted_output_leaves_the_old_file() {
    if skipped_without_strace() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("dockdoc.prom");
    std::fs::write(&target, "# the previous run's metrics\n").unwrap();
    let root = common::fixtures().join("sysroots/healthy-docker-host");
    let out = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            "trace=rename,renameat,renameat2",
            "-e",
            "inject=rename,renameat,renameat2:signal=SIGKILL",
        ])
        .arg(env!("CARGO_BIN_EXE_dockdoc"))
        .args(["check", "--format", "prometheus", "--root"])
        .arg(&root)
        .arg("--output")
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the run was killed: {:?}",
        out.status
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "# the previous run's metrics\n"
    );
}

trait StartsWithCall {
    fn starts_with_call(&self, call: &str) -> bool;
}

impl StartsWithCall for str {
    /// Whether a strace line (`PID call(args…`) is a call whose name begins with `call`.
    fn starts_with_call(&self, call: &str) -> bool {
        self.split_whitespace()
            .nth(1)
            .is_some_and(|c| c.starts_with(call))
    }
}

impl StartsWithCall for String {
    fn starts_with_call(&self, call: &str) -> bool {
        self.as_str().starts_with_call(call)
    }
}
