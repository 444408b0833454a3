//! Running the binary and reading its JSON report.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{self, prereq};
use crate::dockerd::{self, PrivateDockerd};

/// A bus address where nothing listens.
pub const NO_BUS: &str = "unix:path=/nonexistent/dockdoc-live/system_bus_socket";
/// A Docker endpoint where no socket exists.
pub const NO_DOCKER: &str = "unix:///nonexistent/dockdoc-live/docker.sock";

/// One run of the binary.
pub struct Run {
    pub code: Option<i32>,
    pub json: Value,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn check(&self, id: &str) -> &Value {
        self.json["checks"]
            .as_array()
            .unwrap_or_else(|| panic!("no checks in {}", self.json))
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no check {id} in the report"))
    }

    pub fn status(&self, id: &str) -> String {
        self.check(id)["status"].as_str().unwrap().to_owned()
    }

    pub fn summary(&self, id: &str) -> String {
        self.check(id)["summary"].as_str().unwrap().to_owned()
    }

    /// The evidence a check read for `fact`, as `{state, value|reason}`.
    pub fn evidence(&self, id: &str, fact: &str) -> Value {
        self.check(id)["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["fact"] == fact)
            .cloned()
            .unwrap_or_else(|| panic!("{id} read no {fact}"))
    }

    /// Asserts each check's status, naming the check and its summary on failure.
    pub fn expect(&self, expected: &[(&str, &str)]) {
        for (id, want) in expected {
            assert_eq!(
                self.status(id),
                *want,
                "{id}: {}\nevidence: {}\nstderr: {}",
                self.summary(id),
                self.check(id)["evidence"],
                self.stderr
            );
        }
    }
}

/// Runs `command` (the binary, possibly behind setpriv) and parses its JSON report.
pub fn run(mut command: Command) -> Run {
    let started = Instant::now();
    let out = command.output().expect("run dockdoc");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    record_evidence(&command, &json);
    Run {
        code: out.status.code(),
        json,
        stderr,
        elapsed,
    }
}

/// Writes what this run evaluated (target/tmp/evidence-uidN, see tests/common/evidence.rs) and checks
/// the rows of tests/snapshots/evidence.md that name it. The run is named after the test (the
/// thread libtest runs it on) and its place among the test's runs: `units::some_test#1`.
fn record_evidence(command: &Command, json: &Value) {
    thread_local! {
        static RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }
    let n = RUNS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let thread = std::thread::current();
    let Some(test) = thread.name().filter(|n| *n != "main") else {
        // libtest names the thread after the test unless it runs tests on the main thread.
        return;
    };
    let args: Vec<String> = command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if !args.iter().any(|a| a == "json") || json.get("checks").is_none() {
        return;
    }
    // DOCKER_HOST in the binary's environment, or handed to it by `env K=V …` (a run inside
    // the namespaced systemd).
    let docker_host_env = command
        .get_envs()
        .find(|(k, _)| *k == "DOCKER_HOST")
        .and_then(|(_, v)| v)
        .map(|v| v.to_string_lossy().into_owned())
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("DOCKER_HOST=").map(str::to_owned))
        });
    // A run inside the namespaced systemd (`nsenter -t PID …`) finds that systemd's bus and the
    // namespace's /run/docker.sock by itself: name them as the host sees them. The bus is the
    // real systemd 252; the socket is whatever the test registered for it (a stand-in
    // otherwise).
    let mut args = args;
    if command.get_program() == "nsenter"
        && let Some(pid) = args.get(1).cloned()
    {
        if !args.iter().any(|a| a == "--system-bus") {
            let bus = format!("unix:path=/proc/{pid}/root/run/dbus/system_bus_socket");
            common::evidence::register_real(&bus, "real systemd");
            args.extend(["--system-bus".to_owned(), bus]);
        }
        if !args.iter().any(|a| a == "--docker-host") && docker_host_env.is_none() {
            args.extend([
                "--docker-host".to_owned(),
                format!("unix:///proc/{pid}/root/run/docker.sock"),
            ]);
        }
    }
    let evidence = common::evidence::of_live(
        &format!("{test}#{n}"),
        &args,
        docker_host_env.as_deref(),
        json,
    );
    common::evidence::record(&evidence);
    common::evidence::verify_run(&evidence);
}

/// `dockdoc check --profile all --format json` (the default 3 s timeout) with the given endpoints.
pub fn check_args(system_bus: &str, docker_host: &str) -> Vec<String> {
    [
        "check",
        "--profile",
        "all",
        "--format",
        "json",
        "--system-bus",
        system_bus,
        "--docker-host",
        docker_host,
    ]
    .map(String::from)
    .to_vec()
}

/// The binary with those arguments.
pub fn dockdoc(system_bus: &str, docker_host: &str, extra: &[&str]) -> Run {
    let mut cmd = common::bin();
    cmd.args(check_args(system_bus, docker_host)).args(extra);
    run(cmd)
}

/// A tarball in `dir` of a root holding only /bin/busybox (busybox-static), readable by anyone,
/// for `docker import`.
pub fn busybox_tarball(dir: &std::path::Path) -> std::path::PathBuf {
    let tree = dir.join("busybox-rootfs");
    std::fs::create_dir_all(tree.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", tree.join("bin/busybox")).unwrap();
    let tar = dir.join("busybox.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&tree)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success(), "tar {}", tree.display());
    std::fs::set_permissions(&tar, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    tar
}

/// A private dockerd, or `None` after printing why not (a failure under DOCKDOC_LIVE=require).
pub fn private_dockerd(options: &dockerd::Options) -> Option<PrivateDockerd> {
    if !prereq::ready(dockerd::PRIVATE) {
        return None;
    }
    match PrivateDockerd::start_with(Duration::from_secs(60), options) {
        Ok(d) => {
            common::evidence::register_real(&d.uri(), "real dockerd");
            Some(d)
        }
        Err(e) => panic!("{e}"),
    }
}
