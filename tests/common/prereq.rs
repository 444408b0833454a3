//! What a test needs from the machine, and the one way a test that cannot have it stops.
//!
//! A test states its needs ([`Need`]: root, programs, a kernel feature, a user bus) and asks
//! [`ready`] (or [`missing`], to decide for itself). A missing need skips the test with one line
//! naming what is missing, with its Debian package, and the checks the test would have proven.
//! Under `DOCKDOC_LIVE=require` (CI) it fails the test instead.
//!
//! Every program a test starts is named in [`PROGRAMS`] with the package that ships it; the
//! `every_program_a_test_starts_is_declared` test in tests/package.rs holds the test sources to
//! that. `tests/fresh-machine` runs the suite where only a new machine's packages are present, so
//! a need left undeclared fails there instead of skipping.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]
#![allow(dead_code)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One thing a test needs from the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// The effective uid is 0.
    Root,
    /// A program, by its name in [`PROGRAMS`].
    Program(&'static str),
    /// A module of Debian's python3, by its import name in [`PYTHON_MODULES`].
    PythonModule(&'static str),
    /// A feature of the running kernel.
    Kernel(Kernel),
    /// A user bus for the running user (`$XDG_RUNTIME_DIR/bus` or `DBUS_SESSION_BUS_ADDRESS`).
    UserBus,
    /// A group of this machine's /etc/group, by its name in [`GROUPS`].
    Group(&'static str),
}

/// Kernel features tests rely on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// A cgroup hierarchy systemd can run on: cgroup2, or the v1 `name=systemd` one.
    Cgroup,
    /// `/dev/net/tun`, for a user-mode network (slirp4netns).
    Tun,
}

/// A program a test may start: its name, where it is looked for (a name without a slash is
/// looked up on `PATH` and in the sbin directories), the Debian package that ships it, and the
/// arguments of a run that must succeed within 10 s for it to count (a file that exists but
/// cannot run is not the program).
pub struct Program {
    pub name: &'static str,
    pub paths: &'static [&'static str],
    pub package: &'static str,
    pub runs: Option<&'static [&'static str]>,
}

const fn program(name: &'static str, package: &'static str) -> Program {
    Program {
        name,
        paths: &[],
        package,
        runs: None,
    }
}

/// Every program a test starts, with its Debian package.
pub const PROGRAMS: &[Program] = &[
    Program {
        name: "dockerd",
        paths: &["/usr/sbin/dockerd", "/usr/bin/dockerd"],
        package: "docker.io",
        runs: Some(&["--version"]),
    },
    Program {
        name: "dockerd-23",
        paths: &[concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/dockerd-trixie/usr/sbin/dockerd"
        )],
        package: "docker.io of Debian 13, unpacked under target/ by tests/fixtures/dockerd-trixie/fetch",
        runs: Some(&["--version"]),
    },
    Program {
        name: "containerd",
        paths: &["/usr/bin/containerd"],
        package: "containerd",
        runs: None,
    },
    Program {
        name: "docker",
        paths: &["/usr/bin/docker"],
        package: "docker.io",
        runs: None,
    },
    Program {
        name: "systemd",
        paths: &["/lib/systemd/systemd", "/usr/lib/systemd/systemd"],
        package: "systemd",
        runs: None,
    },
    Program {
        name: "dbus-daemon",
        paths: &["/usr/bin/dbus-daemon"],
        package: "dbus-daemon",
        runs: None,
    },
    Program {
        name: "python3",
        paths: &["/usr/bin/python3"],
        package: "python3",
        runs: None,
    },
    Program {
        name: "busybox",
        paths: &["/bin/busybox"],
        package: "busybox-static",
        runs: None,
    },
    Program {
        name: "node_exporter",
        paths: &["/usr/bin/prometheus-node-exporter"],
        package: "prometheus-node-exporter",
        runs: None,
    },
    Program {
        name: "dockerd-rootless.sh",
        paths: &["/usr/share/docker.io/contrib/dockerd-rootless.sh"],
        package: "docker.io",
        runs: None,
    },
    program("systemctl", "systemd"),
    program("systemd-analyze", "systemd"),
    program("setpriv", "util-linux"),
    program("unshare", "util-linux"),
    program("nsenter", "util-linux"),
    program("nft", "nftables"),
    program("ip", "iproute2"),
    program("runuser", "util-linux"),
    program("kill", "procps"),
    program("chown", "coreutils"),
    program("cp", "coreutils"),
    program("id", "coreutils"),
    program("sha256sum", "coreutils"),
    program("find", "findutils"),
    program("gzip", "gzip"),
    program("tar", "tar"),
    program("sh", "dash"),
    program("bash", "bash"),
    program("getent", "libc-bin"),
    program("ldd", "libc-bin"),
    program("useradd", "passwd"),
    program("groupadd", "passwd"),
    program("gpasswd", "passwd"),
    program("setcap", "libcap2-bin"),
    program("strace", "strace"),
    program("sysctl", "procps"),
    program("chroot", "coreutils"),
    program("script", "bsdutils"),
    program("git", "git"),
    program("curl", "curl"),
    program("groff", "groff-base"),
    program("sudo", "sudo"),
    program("pacman", "pacman-package-manager"),
    program("makepkg", "makepkg"),
    program("fakeroot", "fakeroot"),
    program("bsdtar", "libarchive-tools"),
    program("zstd", "zstd"),
    program("Xvfb", "xvfb"),
    program("xhost", "x11-xserver-utils"),
    program("promtool", "prometheus"),
    program("rootlesskit", "rootlesskit"),
    program("slirp4netns", "slirp4netns"),
    program("newuidmap", "uidmap"),
    program("newgidmap", "uidmap"),
    program("hyperfine", "hyperfine"),
    // The toolchain that builds the tests (rustup's, not a Debian package).
    program("rustc", "rustup's toolchain"),
];

/// Python modules a test imports, with their Debian packages.
pub const PYTHON_MODULES: &[(&str, &str)] = &[
    ("jsonschema", "python3-jsonschema"),
    ("junitparser", "python3-junitparser"),
];

/// Groups a test uses, with the Debian package whose installation creates them.
pub const GROUPS: &[(&str, &str)] = &[("docker", "docker.io")];

/// The declaration of a program. Panics on a name [`PROGRAMS`] lacks: declare it there first.
pub fn declared(name: &str) -> &'static Program {
    PROGRAMS
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("program {name} is not declared in tests/common/prereq.rs"))
}

/// The path of a declared program on this machine, if it is installed (and, for those with a
/// `runs` probe, runs).
pub fn path_of(name: &str) -> Option<String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static FOUND: OnceLock<Mutex<HashMap<String, Option<String>>>> = OnceLock::new();
    let cache = FOUND.get_or_init(Default::default);
    if let Some(hit) = cache.lock().unwrap().get(name) {
        return hit.clone();
    }
    let p = declared(name);
    let found = candidates(p)
        .into_iter()
        .find(|c| executable(Path::new(c)) && p.runs.is_none_or(|args| runs(c, args)));
    cache.lock().unwrap().insert(name.to_owned(), found.clone());
    found
}

fn candidates(p: &Program) -> Vec<String> {
    if !p.paths.is_empty() {
        return p.paths.iter().map(|s| (*s).to_owned()).collect();
    }
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .filter(|d| !d.is_empty())
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| format!("{d}/{}", p.name))
        .collect()
}

fn executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether `binary ARGS` exits 0 within 10 s.
fn runs(binary: &str, args: &[&str]) -> bool {
    let Ok(mut child) = Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// What of `needs` this machine lacks, each in a few words naming its package.
pub fn missing(needs: &[Need]) -> Vec<String> {
    needs.iter().filter_map(|n| lacks(*n)).collect()
}

fn lacks(need: Need) -> Option<String> {
    match need {
        Need::Root => (!is_root()).then(|| {
            format!(
                "root (running as uid {})",
                nix::unistd::Uid::effective().as_raw()
            )
        }),
        Need::Program(name) => path_of(name).is_none().then(|| {
            let p = declared(name);
            format!("{name} (Debian package {})", p.package)
        }),
        Need::PythonModule(module) => {
            let package = PYTHON_MODULES
                .iter()
                .find(|(m, _)| *m == module)
                .unwrap_or_else(|| panic!("python module {module} is not declared"))
                .1;
            let ok = path_of("python3").is_some_and(|py| {
                runs(
                    &py,
                    &["-c", &format!("import {module}; assert {module}.__file__")],
                )
            });
            (!ok).then(|| format!("python3's {module} (Debian package {package})"))
        }
        Need::Kernel(Kernel::Cgroup) => (!Path::new("/sys/fs/cgroup/cgroup.procs").exists()
            && !Path::new("/sys/fs/cgroup/systemd/cgroup.procs").exists())
        .then(|| "a cgroup2 or name=systemd hierarchy at /sys/fs/cgroup".to_owned()),
        Need::Kernel(Kernel::Tun) => (!Path::new("/dev/net/tun").exists())
            .then(|| "/dev/net/tun (the tun module)".to_owned()),
        Need::Group(name) => {
            let package = GROUPS
                .iter()
                .find(|(g, _)| *g == name)
                .unwrap_or_else(|| panic!("group {name} is not declared"))
                .1;
            (nix::unistd::Group::from_name(name).ok().flatten().is_none())
                .then(|| format!("group {name} (made by Debian package {package})"))
        }
        Need::UserBus => {
            let runtime = std::env::var("XDG_RUNTIME_DIR").unwrap_or_default();
            let ok = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
                || (!runtime.is_empty() && Path::new(&runtime).join("bus").exists());
            (!ok)
                .then(|| "a user bus (DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus)".to_owned())
        }
    }
}

/// Whether live prerequisites are required (`DOCKDOC_LIVE=require`, as CI sets it).
pub fn live_required() -> bool {
    std::env::var("DOCKDOC_LIVE").is_ok_and(|v| v == "require")
}

/// The running test's name, as the harness names its thread.
pub fn current_test() -> String {
    std::thread::current().name().unwrap_or("main").to_owned()
}

/// Whether the running test has everything in `needs`. When it does not, it is skipped with one
/// line naming what is missing and what the evidence table credits to it ([`skip`]).
pub fn ready(needs: &[Need]) -> bool {
    let test = current_test();
    let mut unproven = super::evidence::credited_to(&format!("live {test}"));
    unproven.extend(super::evidence::credited_to(&test));
    ready_for(&format!("test {test}"), needs, &unproven)
}

/// [`ready`] for `what` (a test, a scenario, one expectation), leaving `unproven` unproven.
pub fn ready_for(what: &str, needs: &[Need], unproven: &[String]) -> bool {
    let lacking = missing(needs);
    if lacking.is_empty() {
        return true;
    }
    skip(what, &format!("needs {}", lacking.join(", ")), unproven);
    false
}

/// The one way a test stops short: under `DOCKDOC_LIVE=require` a failure naming what is
/// missing; otherwise one line on standard error (written past the harness's capture, so it
/// shows in `cargo test`'s output) and, when `DOCKDOC_SKIP_LOG` names a file, the same line
/// appended to it (`tests/fresh-machine` counts them).
pub fn skip(what: &str, reason: &str, unproven: &[String]) {
    let left = if unproven.is_empty() {
        String::new()
    } else {
        format!(" (left unproven: {})", unproven.join(", "))
    };
    let line = format!("skipped {what}: {reason}{left}");
    assert!(!live_required(), "DOCKDOC_LIVE=require, but {line}");
    let _ = writeln!(std::io::stderr().lock(), "{line}");
    let log = std::env::var_os("DOCKDOC_SKIP_LOG");
    if let Some(mut f) = log.and_then(|log| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .ok()
    }) {
        let _ = writeln!(f, "{line}");
    }
}
