//! Policy for many hosts: `--fail-on`, waivers and `--output`, run through the binary against
//! the healthy fixture sysroot, where `docker-socket-missing` (error), `xhost-missing`
//! (warning) and `docker-group-is-root-equivalent` (info) fail (no daemon answers under
//! `--root`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::path::Path;

use serde_json::Value as Json;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn dockdoc(args: &[&str]) -> Run {
    let root = common::sysroot("healthy-docker-host");
    let out = common::bin()
        .env("HOME", "/home/alice")
        .args(["check", "--profile", "all", "--color", "never", "--root"])
        .arg(&root)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn check<'a>(report: &'a Json, id: &str) -> &'a Json {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
}

fn waivers(dir: &Path, text: &str) -> String {
    let file = dir.join("waivers.toml");
    std::fs::write(&file, text).unwrap();
    file.to_str().unwrap().to_owned()
}

#[test]
fn fail_on_sets_the_threshold_of_the_exit_status() {
    for (only, fail_on, code) in [
        ("docker-socket-missing", "error", 1),
        ("docker-socket-missing", "warning", 1),
        ("docker-socket-missing", "never", 0),
        ("xhost-missing", "error", 0),
        ("xhost-missing", "warning", 1),
        ("xhost-missing", "never", 0),
        ("docker-group-is-root-equivalent", "warning", 0),
    ] {
        let run = dockdoc(&["--only", only, "--fail-on", fail_on]);
        assert_eq!(
            run.code, code,
            "--only {only} --fail-on {fail_on}: {}",
            run.stdout
        );
    }
    // The default is error.
    assert_eq!(dockdoc(&["--only", "xhost-missing"]).code, 0);
    assert_eq!(dockdoc(&["--only", "docker-socket-missing"]).code, 1);
}

#[test]
fn a_waiver_waives_a_failure_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let current = waivers(
        dir.path(),
        "[[waiver]]\ncheck = \"docker-socket-missing\"\nreason = \"build host, Docker runs on demand\"\nexpires = 2999-12-31\n",
    );
    let run = dockdoc(&["--waivers", &current, "--format", "json"]);
    assert_eq!(run.code, 1, "other error checks still fail: {}", run.stderr);
    let report: Json = serde_json::from_str(&run.stdout).unwrap();
    let c = check(&report, "docker-socket-missing");
    assert_eq!(c["status"], "waived");
    assert_eq!(c["waiver"]["reason"], "build host, Docker runs on demand");
    assert_eq!(c["waiver"]["expires"], "2999-12-31");
    assert_eq!(c["waiver"]["expired"], false);
    assert_eq!(report["summary"]["waived"], 1);
    // Not counted for the exit status ...
    let only = dockdoc(&["--waivers", &current, "--only", "docker-socket-missing"]);
    assert_eq!(only.code, 0, "{}", only.stdout);
    assert!(
        only.stdout
            .contains("waived until 2999-12-31: build host, Docker runs on demand"),
        "{}",
        only.stdout
    );
    // ... nor as failed in the metrics.
    let prom = dockdoc(&["--waivers", &current, "--format", "prometheus"]).stdout;
    for series in [
        "dockdoc_check_failed{check=\"docker-socket-missing\",area=\"access\",severity=\"error\"} 0",
        "dockdoc_check_status{check=\"docker-socket-missing\",area=\"access\",severity=\"error\",status=\"waived\"} 1",
        "dockdoc_check_status{check=\"docker-socket-missing\",area=\"access\",severity=\"error\",status=\"fail\"} 0",
    ] {
        assert!(prom.lines().any(|l| l == series), "no {series} in\n{prom}");
    }

    let expired = waivers(
        dir.path(),
        "[[waiver]]\ncheck = \"docker-socket-missing\"\nreason = \"until the migration\"\nexpires = 2001-01-31\n",
    );
    let run = dockdoc(&["--waivers", &expired, "--only", "docker-socket-missing"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("waiver expired 2001-01-31: until the migration"),
        "{}",
        run.stdout
    );
    let json = dockdoc(&["--waivers", &expired, "--format", "json"]).stdout;
    let report: Json = serde_json::from_str(&json).unwrap();
    let c = check(&report, "docker-socket-missing");
    assert_eq!(c["status"], "fail");
    assert_eq!(c["waiver"]["expired"], true);

    let elsewhere = waivers(
        dir.path(),
        "[[waiver]]\ncheck = \"docker-socket-missing\"\nreason = \"r\"\nexpires = 2999-12-31\nhosts = [\"no-such-host.invalid\"]\n",
    );
    let run = dockdoc(&["--waivers", &elsewhere, "--only", "docker-socket-missing"]);
    assert_eq!(run.code, 1, "the waiver holds on another host only");
}

#[test]
fn a_waiver_for_an_unknown_check_is_a_load_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = waivers(
        dir.path(),
        "# accepted risks\n\n[[waiver]]\ncheck = \"docker-sock-missing\"\nreason = \"typo\"\nexpires = 2999-12-31\n",
    );
    let run = dockdoc(&[
        "--waivers",
        &file,
        "--only",
        "docker-group-is-root-equivalent",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{file}:4:9: no check has the id `docker-sock-missing`"
        )),
        "{}",
        run.stderr
    );
    let missing = dockdoc(&["--waivers", "/nonexistent/waivers.toml"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("/nonexistent/waivers.toml: cannot read"),
        "{}",
        missing.stderr
    );
}

#[test]
fn output_replaces_the_file_and_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("dockdoc.prom");
    std::fs::write(&target, "old\n").unwrap();
    let run = dockdoc(&[
        "--format",
        "prometheus",
        "--output",
        target.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let content = std::fs::read_to_string(&target).unwrap();
    assert!(
        content.contains("dockdoc_build_info{version=\""),
        "{content}"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["dockdoc.prom"], "no temporary file is left");
    // Text goes to a file without colour, whatever --color says.
    let text = dir.path().join("report.txt");
    let run = common::bin()
        .args(["check", "--color", "always", "--root"])
        .arg(common::sysroot("healthy-docker-host"))
        .arg("--output")
        .arg(&text)
        .output()
        .unwrap();
    assert!(run.stdout.is_empty());
    let content = std::fs::read_to_string(&text).unwrap();
    assert!(
        !content.contains('\u{1b}') && content.contains("problem"),
        "{content}"
    );
    // A directory that does not exist is an error naming the file, exit 2.
    let run = dockdoc(&["--output", "/nonexistent/dir/dockdoc.prom"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("cannot write the report to /nonexistent/dir/dockdoc.prom"),
        "{}",
        run.stderr
    );
}

/// `--output` onto a character device writes through it: the node survives (it is not renamed
/// over), and the device's errors are the run's.
#[test]
fn output_onto_a_device_writes_through_it_and_reports_its_errors() {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    // mknod of a character device needs root (CAP_MKNOD).
    if !common::prereq::ready(&[common::prereq::Need::Root]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // /dev/null's numbers, 1,3, in a directory of the test's own.
    let null = dir.path().join("null");
    nix::sys::stat::mknod(
        &null,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    )
    .unwrap();
    for format in ["text", "prometheus", "json"] {
        let run = dockdoc(&["--format", format, "--output", null.to_str().unwrap()]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        let meta = std::fs::symlink_metadata(&null).unwrap();
        assert!(
            meta.file_type().is_char_device() && meta.rdev() == nix::sys::stat::makedev(1, 3),
            "{format}: the device node was replaced by {:?}",
            meta.file_type()
        );
    }
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file is left");
    // /dev/full takes nothing: ENOSPC is an error, exit 2, naming the file.
    let run = dockdoc(&["--output", "/dev/full"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot write the report to /dev/full")
            && run.stderr.contains("No space left on device"),
        "{}",
        run.stderr
    );
    // A directory is refused, and left as it was.
    let run = dockdoc(&["--output", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("a directory"), "{}", run.stderr);
    assert!(dir.path().is_dir());
}

/// A link to a regular file stays a link: the file it points to is replaced.
#[test]
fn output_through_a_symlink_replaces_the_file_it_points_to() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.prom");
    std::fs::write(&real, "old\n").unwrap();
    let link = dir.path().join("link.prom");
    std::os::unix::fs::symlink("real.prom", &link).unwrap();
    let run = dockdoc(&["--format", "prometheus", "--output", link.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&real)
            .unwrap()
            .contains("dockdoc_build_info")
    );
    // A link that points nowhere is refused; nothing is created.
    let dangling = dir.path().join("dangling.prom");
    std::os::unix::fs::symlink("missing/x.prom", &dangling).unwrap();
    let run = dockdoc(&["--output", dangling.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("points nowhere"), "{}", run.stderr);
}

#[test]
fn nagios_says_unknown_when_dockdoc_cannot_run() {
    let run = dockdoc(&["--format", "nagios", "--facts", "/nonexistent/facts.json"]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.stdout
            .starts_with("DOCKDOC UNKNOWN - dockdoc could not run: cannot read the facts file"),
        "{}",
        run.stdout
    );
}

/// The shipped timer and service pass `systemd-analyze verify` (in a root holding the
/// machine's own units and the binary at /usr/bin/dockdoc, as the package installs it), and
/// `systemd-analyze security` rates the service's exposure 2.0 or lower.
#[test]
fn shipped_units_pass_systemd_analyze() {
    let ok = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("DOCKDOC_LIVE").map_or(true, |v| v != "require"),
            "prerequisite missing: systemd-analyze"
        );
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    }
    let contrib = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib");
    let root = tempfile::tempdir().unwrap();
    let units = root.path().join("etc/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::create_dir_all(root.path().join("usr/bin")).unwrap();
    std::fs::create_dir_all(root.path().join("usr/lib/systemd")).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_dockdoc"),
        root.path().join("usr/bin/dockdoc"),
    )
    .unwrap();
    let system = ["/usr/lib/systemd/system", "/lib/systemd/system"]
        .into_iter()
        .find(|d| Path::new(d).join("sysinit.target").exists())
        .expect("the machine's systemd units");
    let copied = std::process::Command::new("cp")
        .args(["-a", system])
        .arg(root.path().join("usr/lib/systemd/"))
        .status()
        .unwrap();
    assert!(copied.success());
    for unit in ["dockdoc-textfile.service", "dockdoc-textfile.timer"] {
        std::fs::copy(contrib.join(unit), units.join(unit)).unwrap();
    }
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(format!("--root={}", root.path().display()))
        .args(["dockdoc-textfile.service", "dockdoc-textfile.timer"])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(contrib.join("dockdoc-textfile.service"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let exposure: f64 = text
        .lines()
        .find_map(|l| l.split("dockdoc-textfile.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no overall exposure in:\n{text}"));
    assert!(exposure <= 2.0, "exposure {exposure}:\n{text}");
}
