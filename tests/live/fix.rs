//! `dockdoc fix` on real parts, each inside namespaces of its own so no test changes the host:
//! Arch's docker units in systemd 252 booted in a PID+mount namespace (whose /var/lib, where
//! the journal of root steps lives, is a private tmpfs: tests/live/units/fix-arch), IP
//! forwarding in a private network namespace, and the plan on fixture roots. strace shows that
//! planning runs and writes nothing.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::common::prereq::{Need, ready};
use crate::harness::Booted;
use crate::support;

/// The checks the socket test fixes: the cause and its consequence. `--only` keeps every other
/// check's steps (a package to install, say) from running in a namespace that shares the
/// host's /usr.
const SOCKET_CHECKS: &[&str] = &[
    "--only",
    "docker-service-inactive",
    "--only",
    "docker-not-enabled",
];

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn output(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run dockdoc")
}

fn plan_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(out)))
}

fn steps_of<'a>(plan: &'a Value, check: &str) -> Vec<&'a Value> {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["check"] == check)
        .collect()
}

fn systemctl(booted: &Booted, args: &[&str]) -> String {
    let out = Command::new("nsenter")
        .args([
            "-t",
            &booted.pid().to_string(),
            "-m",
            "-p",
            "--",
            "systemctl",
        ])
        .args(args)
        .env("SYSTEMD_COLORS", "0")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn boot() -> Option<Booted> {
    if !ready(&[
        Need::Root,
        Need::Program("dockerd"),
        Need::Program("containerd"),
        Need::Program("strace"),
    ]) {
        return None;
    }
    let booted = Booted::boot_parts("fix-arch", &["arch"])
        .await
        .unwrap_or_else(|e| panic!("{e}"))?;
    crate::common::evidence::register_real(
        &format!("unix:///proc/{}/root/run/docker.sock", booted.pid()),
        "real dockerd",
    );
    booted
        .write_inside("/etc/docker/daemon.json", crate::arch::TEST_DAEMON_JSON)
        .unwrap();
    Some(booted)
}

/// The syscalls of a traced run that change something: a program started other than dockdoc
/// itself, a file opened for writing (other than /dev/null), a file removed, renamed or made.
fn changes_in_trace(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter(|l| {
            // `dockerd --validate` reads daemon.json and changes nothing (docs/usage.md, What a
            // run may start); what it might write would still show as a write below.
            let validate = l.contains("dockerd\", [") && l.contains("\"--validate\"");
            let exec = l.contains("execve(")
                && !l.contains("dockdoc\"")
                && !l.contains("<unfinished")
                && !validate;
            let write = l.contains("openat(")
                && ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"]
                    .iter()
                    .any(|f| l.contains(f))
                && !l.contains("\"/dev/null\"");
            let other = [
                "unlink", "rename", "mkdir", "rmdir", "symlink", "chmod", "chown",
            ]
            .iter()
            .any(|c| l.contains(&format!("{c}(")) || l.contains(&format!("{c}at(")));
            exec || write || other
        })
        .map(str::to_owned)
        .collect()
}

const TRACED: &str = "execve,openat,open,creat,unlink,unlinkat,rename,renameat,renameat2,mkdir,mkdirat,rmdir,symlink,symlinkat,chmod,fchmodat,chown,fchownat";

/// docker.socket disabled and stopped, as `pacman -S docker` leaves it: the plan (traced: it
/// starts nothing and writes nothing) shows the step; `fix --apply --yes` enables and starts
/// the units and the check afterwards finds the daemon answering; `fix --undo --yes` leaves
/// them disabled and stopped again.
#[tokio::test]
async fn a_disabled_socket_is_enabled_checked_and_undone() {
    let Some(booted) = boot().await else {
        return;
    };
    assert_eq!(
        systemctl(&booted, &["is-enabled", "docker.socket", "docker.service"]),
        "disabled\ndisabled\n"
    );

    // 1. The plan, under strace: nothing is started, nothing written.
    let mut cmd = Command::new("nsenter");
    cmd.args(["-t", &booted.pid().to_string(), "-m", "-p", "--"])
        .args(["strace", "-f", "-qq", "-o", "/tmp/plan.trace", "-e"])
        .arg(format!("trace={TRACED}"))
        .arg(Booted::BINARY_INSIDE)
        .args(["fix", "--format", "json", "--timeout", "10s"])
        .args(SOCKET_CHECKS)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("HOME", "/nonexistent");
    let out = output(cmd);
    let plan = plan_json(&out);
    let trace =
        std::fs::read_to_string(format!("/proc/{}/root/tmp/plan.trace", booted.pid())).unwrap();
    let changes = changes_in_trace(&trace);
    assert!(
        changes.is_empty(),
        "planning changed something:\n{changes:#?}"
    );
    assert!(trace.contains("execve("), "strace saw nothing:\n{trace}");
    assert_eq!(
        plan["causes"][0]["check"], "docker-service-inactive",
        "{plan:#}"
    );
    assert_eq!(
        plan["causes"][0]["consequences"][0], "docker-not-enabled",
        "{plan:#}"
    );
    let step = steps_of(&plan, "docker-service-inactive")[0];
    assert_eq!(
        step["command"],
        "sudo systemctl enable --now docker.socket docker.service"
    );
    assert_eq!(step["tier"], "safe");
    assert_eq!(step["runs_as"], "root");
    assert_eq!(
        step["undo"],
        "sudo systemctl disable --now docker.socket docker.service"
    );
    assert_eq!(
        systemctl(&booted, &["is-enabled", "docker.socket"]),
        "disabled\n"
    );
    assert_eq!(
        systemctl(&booted, &["is-active", "docker.socket"]),
        "inactive\n"
    );

    // 2. Apply the safe steps without a terminal.
    let mut cmd = booted.dockdoc();
    cmd.args(["fix", "--apply", "--yes", "--timeout", "20s"])
        .args(SOCKET_CHECKS);
    let out = output(cmd);
    let shown = text(&out);
    eprintln!("{shown}");
    assert!(
        shown.contains("✓ docker-service-inactive  failed → fixed"),
        "{shown}"
    );
    assert!(
        shown.contains("then docker-not-enabled: cleared with its cause"),
        "{shown}"
    );
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert_eq!(
        systemctl(&booted, &["is-enabled", "docker.socket", "docker.service"]),
        "enabled\nenabled\n"
    );
    assert_eq!(
        systemctl(&booted, &["is-active", "docker.socket"]),
        "active\n"
    );
    // The check afterwards: the daemon answers.
    let mut cmd = booted.dockdoc();
    cmd.args([
        "check",
        "--profile",
        "docker",
        "--format",
        "json",
        "--timeout",
        "20s",
    ]);
    let run = support::run(cmd);
    run.expect(&[
        ("docker-service-inactive", "pass"),
        ("docker-not-enabled", "pass"),
        ("docker-daemon-unreachable", "pass"),
    ]);
    assert_eq!(
        run.evidence("docker-daemon-unreachable", "docker.reachable")["value"],
        true
    );

    // 3. The journal lists the run; undo reverts it.
    let mut cmd = booted.dockdoc();
    cmd.args(["fix", "--list-runs"]);
    let listed = text(&output(cmd));
    assert!(
        listed.contains("can be undone") && listed.contains("/var/lib/dockdoc/fix/"),
        "{listed}"
    );
    let mut cmd = booted.dockdoc();
    cmd.args(["fix", "--undo", "--yes"]);
    let out = output(cmd);
    let shown = text(&out);
    eprintln!("{shown}");
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("is undone"), "{shown}");
    assert_eq!(
        systemctl(&booted, &["is-enabled", "docker.socket", "docker.service"]),
        "disabled\ndisabled\n"
    );
    assert_eq!(
        systemctl(&booted, &["is-active", "docker.socket"]),
        "inactive\n"
    );
    assert_eq!(
        systemctl(&booted, &["is-active", "docker.service"]),
        "inactive\n"
    );
    // Undone once: a second undo has nothing left.
    let mut cmd = booted.dockdoc();
    cmd.args(["fix", "--undo", "--yes"]);
    let out = output(cmd);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // Without a terminal and without --yes, apply refuses before running anything.
    let mut cmd = booted.dockdoc();
    cmd.args(["fix", "--apply", "--timeout", "10s"])
        .args(SOCKET_CHECKS);
    let out = output(cmd);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a terminal"),
        "{}",
        text(&out)
    );
    assert_eq!(
        systemctl(&booted, &["is-enabled", "docker.socket"]),
        "disabled\n"
    );
    booted.shutdown();
}

/// A broken daemon.json: the plan names the file, line and error and says the step is manual;
/// `fix --apply --yes` runs nothing and writes no journal.
#[tokio::test]
async fn a_broken_daemon_json_is_left_to_a_person() {
    let Some(booted) = boot().await else {
        return;
    };
    let broken = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sysroots/daemon-json-broken/etc/docker/daemon.json"),
    )
    .unwrap();
    booted
        .write_inside("/etc/docker/daemon.json", &broken)
        .unwrap();
    let only = ["--only", "daemon-json-invalid"];
    let mut cmd = booted.dockdoc();
    cmd.args(["fix", "--format", "json"]).args(only);
    let out = output(cmd);
    let plan = plan_json(&out);
    let summary = plan["causes"][0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("/etc/docker/daemon.json")
            && summary.contains("line 4")
            && summary.contains("trailing comma"),
        "{plan:#}"
    );
    let steps = steps_of(&plan, "daemon-json-invalid");
    assert_eq!(steps[0]["tier"], "manual", "{plan:#}");
    assert_eq!(steps[1]["after_manual"], 1, "{plan:#}");
    let mut cmd = booted.dockdoc();
    cmd.args(["fix"]).args(only);
    let shown = text(&output(cmd));
    assert!(
        shown.contains("never run by dockdoc: a person decides"),
        "{shown}"
    );

    let mut cmd = booted.dockdoc();
    cmd.args(["fix", "--apply", "--yes"]).args(only);
    let out = output(cmd);
    let shown = text(&out);
    assert!(!shown.contains("Journal:"), "{shown}");
    assert!(
        shown.contains("✗ daemon-json-invalid  failed → still failing"),
        "{shown}"
    );
    // With the evidence read after the fix.
    assert!(shown.contains("docker.daemon_json_error = "), "{shown}");
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let inside = |p: &str| format!("/proc/{}/root{p}", booted.pid());
    assert!(!Path::new(&inside("/var/lib/dockdoc")).exists());
    assert_eq!(
        std::fs::read_to_string(inside("/etc/docker/daemon.json")).unwrap(),
        broken
    );
    booted.shutdown();
}

/// A long-lived process in a private network and mount namespace, chrooted into an overlay of
/// the host's / (tmpfs upper) in which the test can shape what this machine looks like: this
/// machine may itself be a container (/.dockerenv), where ip-forwarding-disabled does not
/// apply, so the overlay hides that file; `/etc/sysctl.d` and `/var/lib` are tmpfs. `nsenter`
/// into it runs dockdoc there, with the namespace's own IP forwarding (set to 0 at the start).
/// /proc, /sys, /dev and /tmp (the private dockerd's socket) are the host's, bound in.
struct NetNs {
    holder: std::process::Child,
}

impl NetNs {
    fn start() -> NetNs {
        let mut holder = Command::new("unshare")
            .args(["--net", "--mount", "--propagation", "private", "sh", "-c"])
            .arg(
                r#"set -e
mount -t tmpfs tmpfs /mnt
mkdir /mnt/upper /mnt/work /mnt/root
mount -t overlay overlay -o lowerdir=/,upperdir=/mnt/upper,workdir=/mnt/work /mnt/root
for m in /.dockerenv /run/.containerenv /run/systemd/container; do rm -f "/mnt/root$m"; done
for d in proc sys dev tmp; do mount --rbind "/$d" "/mnt/root/$d"; done
mount -t tmpfs tmpfs /mnt/root/etc/sysctl.d
mount -t tmpfs tmpfs /mnt/root/var/lib
mkdir -p /mnt/root/usr/local/libexec/dockdoc-test
cp "$1" /mnt/root/usr/local/libexec/dockdoc-test/dockdoc
exec chroot /mnt/root sh -c 'sysctl -q -w net.ipv4.ip_forward=0 && echo ready && exec sleep 600'"#,
            )
            .args(["sh", env!("CARGO_BIN_EXE_dockdoc")])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line, "ready\n");
        NetNs { holder }
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.args([
            "-t",
            &self.holder.id().to_string(),
            "-n",
            "-m",
            "-r",
            "-w",
            "--",
            program,
        ]);
        c
    }

    fn path(&self, p: &str) -> String {
        format!("/proc/{}/root{p}", self.holder.id())
    }

    fn ip_forward(&self) -> String {
        let out = self
            .command("cat")
            .arg("/proc/sys/net/ipv4/ip_forward")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn dockdoc(&self, docker_host: &str, args: &[&str]) -> Command {
        let mut c = self.command("/usr/local/libexec/dockdoc-test/dockdoc");
        c.args(args)
            .args([
                "--only",
                "ip-forwarding-disabled",
                "--docker-host",
                docker_host,
            ])
            .args(["--system-bus", support::NO_BUS])
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env("HOME", "/nonexistent");
        c
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// IP forwarding off (in a network namespace of the test's own): the fix writes
/// /etc/sysctl.d/99-dockdoc-ip-forward.conf and applies it, the check passes, and undo
/// removes the file and restores the value; a file of that name that existed before comes back
/// byte for byte, with its mode.
#[test]
fn ip_forwarding_is_turned_on_in_a_file_of_its_own_and_undone() {
    if !ready(&[
        Need::Root,
        Need::Program("unshare"),
        Need::Program("nsenter"),
        Need::Program("sysctl"),
        Need::Program("chroot"),
    ]) {
        return;
    }
    let Some(daemon) = support::private_dockerd(&Default::default()) else {
        return;
    };
    let ns = NetNs::start();
    let file = "/etc/sysctl.d/99-dockdoc-ip-forward.conf";
    let check = |ns: &NetNs| {
        support::run({
            let mut c = ns.dockdoc(&daemon.uri(), &["check", "--format", "json"]);
            c.stdin(Stdio::null());
            c
        })
    };
    for before in [None, Some("# kept by hand\nnet.ipv4.ip_forward = 0\n")] {
        if let Some(text) = before {
            std::fs::write(ns.path(file), text).unwrap();
            std::fs::set_permissions(
                ns.path(file),
                std::os::unix::fs::PermissionsExt::from_mode(0o640),
            )
            .unwrap();
        }
        assert_eq!(ns.ip_forward(), "0");
        check(&ns).expect(&[("ip-forwarding-disabled", "fail")]);
        let plan = plan_json(&output(
            ns.dockdoc(&daemon.uri(), &["fix", "--format", "json"]),
        ));
        let steps = steps_of(&plan, "ip-forwarding-disabled");
        let tiers: Vec<&str> = steps.iter().map(|s| s["tier"].as_str().unwrap()).collect();
        assert_eq!(tiers, ["inspect", "safe", "disruptive"], "{plan:#}");
        assert_eq!(steps[1]["writes"][0], file, "{plan:#}");
        // The restart stops what runs: here, nothing.
        assert_eq!(
            steps[2]["containers"], "no container is running",
            "{plan:#}"
        );

        let out = output(ns.dockdoc(&daemon.uri(), &["fix", "--apply", "--yes"]));
        let shown = text(&out);
        eprintln!("{shown}");
        assert!(
            shown.contains("✓ ip-forwarding-disabled  failed → fixed"),
            "{shown}"
        );
        // The restart of the daemon is disruptive: --yes does not run it.
        assert!(
            shown.contains("not run: --yes accepts only safe steps"),
            "{shown}"
        );
        assert_eq!(ns.ip_forward(), "1");
        assert_eq!(
            std::fs::read_to_string(ns.path(file)).unwrap(),
            "net.ipv4.ip_forward = 1\n"
        );
        check(&ns).expect(&[("ip-forwarding-disabled", "pass")]);

        let out = output(ns.dockdoc(&daemon.uri(), &["fix", "--undo", "--yes"]));
        let shown = text(&out);
        eprintln!("{shown}");
        assert_eq!(out.status.code(), Some(0), "{shown}");
        assert_eq!(ns.ip_forward(), "0");
        match before {
            None => assert!(!Path::new(&ns.path(file)).exists(), "{shown}"),
            Some(text) => {
                assert_eq!(std::fs::read(ns.path(file)).unwrap(), text.as_bytes());
                let mode = std::os::unix::fs::PermissionsExt::mode(
                    &std::fs::metadata(ns.path(file)).unwrap().permissions(),
                );
                assert_eq!(mode & 0o777, 0o640);
            }
        }
    }
    // Asked on a terminal (script(1) gives dockdoc one): yes to the safe step, no to the
    // restart. Then the run is undone by its name.
    if ready(&[Need::Program("script")]) {
        let line = format!(
            "nsenter -t {} -n -m -r -w -- /usr/local/libexec/dockdoc-test/dockdoc fix --apply --only ip-forwarding-disabled --docker-host {} --system-bus {}",
            ns.holder.id(),
            daemon.uri(),
            support::NO_BUS
        );
        let mut script = Command::new("script");
        script
            .args(["-q", "-e", "-c", &line, "/dev/null"])
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = script.spawn().unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"y\nn\n").unwrap();
        let out = child.wait_with_output().unwrap();
        let shown = String::from_utf8_lossy(&out.stdout).into_owned();
        eprintln!("{shown}");
        assert!(
            shown.contains("Run it (safe, as root (dockdoc runs as root))? [y/N]"),
            "{shown}"
        );
        assert!(shown.contains("not run: you said no"), "{shown}");
        assert!(shown.contains("failed → fixed"), "{shown}");
        assert_eq!(ns.ip_forward(), "1");
        let listed = text(&output(ns.dockdoc(&daemon.uri(), &["fix", "--list-runs"])));
        let name = listed
            .lines()
            .find(|l| l.contains("can be undone"))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("{listed}"))
            .to_owned();
        let out = output(ns.dockdoc(&daemon.uri(), &["fix", "--undo", &name, "--yes"]));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(ns.ip_forward(), "0");
        // The file the second round left (the one kept by hand) is back.
        assert_eq!(
            std::fs::read_to_string(ns.path(file)).unwrap(),
            "# kept by hand\nnet.ipv4.ip_forward = 0\n"
        );
    }
    // The host's own forwarding and sysctl.d were never touched.
    assert!(!Path::new(file).exists());
}

/// A kernel upgraded without a reboot (fixture root): the plan ends with the reboot and holds
/// no step dockdoc would run; the shell script has no command; strace shows the planning
/// started nothing and wrote nothing.
#[test]
fn an_upgraded_kernel_plan_ends_with_the_reboot_and_runs_nothing() {
    if !ready(&[Need::Program("strace")]) {
        return;
    }
    let root = crate::common::sysroot("kernel-upgraded-no-reboot");
    let work = tempfile::tempdir().unwrap();
    let trace = work.path().join("plan.trace");
    let only = [
        "--only",
        "running-kernel-modules-missing",
        "--only",
        "kernel-module-unavailable",
        "--only",
        "reboot-pending-kernel-upgrade",
    ];
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-o"])
        .arg(&trace)
        .arg("-e")
        .arg(format!("trace={TRACED}"))
        .arg(env!("CARGO_BIN_EXE_dockdoc"))
        .args(["fix", "--format", "json", "--root"])
        .arg(&root)
        .args(only)
        .env("XDG_CONFIG_HOME", "/nonexistent");
    let out = output(cmd);
    let plan = plan_json(&out);
    let traced = std::fs::read_to_string(&trace).unwrap();
    let changes = changes_in_trace(&traced);
    assert!(
        changes.is_empty(),
        "planning changed something:\n{changes:#?}"
    );
    let steps = plan["steps"].as_array().unwrap();
    let last = steps.last().unwrap();
    assert_eq!(last["tier"], "reboot", "{plan:#}");
    assert_eq!(last["command"], "systemctl reboot", "{plan:#}");
    assert_eq!(
        steps.iter().filter(|s| s["tier"] == "reboot").count(),
        1,
        "one reboot, at the end: {plan:#}"
    );
    assert!(
        steps.iter().all(
            |s| !matches!(s["tier"].as_str(), Some("safe" | "disruptive"))
                || !s["after_manual"].is_null()
        ),
        "nothing to run: {plan:#}"
    );
    let mut cmd = crate::common::bin();
    cmd.args(["fix", "--format", "shell", "--root"])
        .arg(&root)
        .args(only);
    let script = String::from_utf8(output(cmd).stdout).unwrap();
    let commands: Vec<&str> = script
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#') && *l != "set -eu")
        .collect();
    assert!(commands.is_empty(), "{script}");
    assert!(
        script.contains("[reboot]") && script.contains("systemctl reboot"),
        "{script}"
    );
}

/// A user's root step goes through the real sudo (passwordless here, for a user made inside the
/// namespace's overlay, so the host's /etc is untouched), and so does the root journal: it is
/// written to /var/lib/dockdoc/fix through sudo, and `--undo` by the same user restores the
/// file and the value through sudo too.
#[test]
fn a_users_root_step_and_its_journal_go_through_sudo() {
    if !ready(&[
        Need::Root,
        Need::Program("unshare"),
        Need::Program("nsenter"),
        Need::Program("sysctl"),
        Need::Program("chroot"),
        Need::Program("sudo"),
        Need::Program("useradd"),
        Need::Program("setpriv"),
    ]) {
        return;
    }
    let Some(daemon) = support::private_dockerd(&Default::default()) else {
        return;
    };
    let ns = NetNs::start();
    let user = "dockdoc-fixer";
    let made = ns
        .command("useradd")
        .args(["-M", "-U", "-G", "docker", user])
        .status()
        .unwrap();
    assert!(made.success());
    std::fs::write(
        ns.path(&format!("/etc/sudoers.d/{user}")),
        format!("{user} ALL=(root) NOPASSWD: ALL\n"),
    )
    .unwrap();
    std::fs::set_permissions(
        ns.path(&format!("/etc/sudoers.d/{user}")),
        std::os::unix::fs::PermissionsExt::from_mode(0o440),
    )
    .unwrap();
    let state = "/var/lib/dockdoc-fixer-state";
    std::fs::create_dir(ns.path(state)).unwrap();
    let chowned = ns
        .command("chown")
        .args([&format!("{user}:{user}"), state])
        .status()
        .unwrap();
    assert!(chowned.success());
    let as_user = |args: &[&str]| {
        let mut c = ns.command("setpriv");
        c.args(["--reuid", user, "--regid", user, "--init-groups", "--"])
            .arg("/usr/local/libexec/dockdoc-test/dockdoc")
            .args(args)
            .args([
                "--only",
                "ip-forwarding-disabled",
                "--docker-host",
                &daemon.uri(),
            ])
            .args(["--system-bus", support::NO_BUS])
            .env("XDG_STATE_HOME", state)
            .env("HOME", state)
            .env("XDG_CONFIG_HOME", "/nonexistent");
        output(c)
    };
    let file = "/etc/sysctl.d/99-dockdoc-ip-forward.conf";
    let out = as_user(&["fix", "--apply", "--yes"]);
    let shown = text(&out);
    eprintln!("{shown}");
    assert!(shown.contains("runs as root, through sudo"), "{shown}");
    assert!(shown.contains("failed → fixed"), "{shown}");
    assert_eq!(ns.ip_forward(), "1");
    assert!(Path::new(&ns.path(file)).exists());
    // The root journal, written through sudo: root's, readable by all, backups 0700.
    let runs: Vec<_> = std::fs::read_dir(ns.path("/var/lib/dockdoc/fix"))
        .unwrap_or_else(|e| panic!("no root journal ({e}): {shown}"))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let meta = std::fs::metadata(runs[0].join("run.json")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), 0);
    let journal: Value =
        serde_json::from_slice(&std::fs::read(runs[0].join("run.json")).unwrap()).unwrap();
    assert_eq!(journal["user"], user, "{journal:#}");
    assert_eq!(journal["entries"][0]["runs_as"], "root", "{journal:#}");
    let backup = std::fs::metadata(runs[0].join("backup")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&backup.permissions()) & 0o777,
        0o700
    );

    let out = as_user(&["fix", "--undo", "--yes"]);
    let shown = text(&out);
    eprintln!("{shown}");
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert_eq!(ns.ip_forward(), "0");
    assert!(!Path::new(&ns.path(file)).exists(), "{shown}");
}
