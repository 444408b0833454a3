//! Rootless Docker, live, with Debian's dockerd started by its own `dockerd-rootless.sh`
//! (/usr/share/docker.io/contrib) under Debian's rootlesskit, slirp4netns and uidmap, as an
//! unprivileged test user (uid 61901). Two ways:
//!
//! * Under the user's systemd: the namespaced systemd of tests/common/systemd.rs boots the scenario
//!   `rootless-user`, whose target starts `user@61901.service`. That is systemd's own unit, PAM
//!   included, run by PID 1 as in a login; only user-runtime-dir@.service is replaced, because
//!   systemd's asks logind, which does not run there. The user manager's bus comes from
//!   dbus-user-session's dbus.socket, and the user unit docker.service is the one
//!   `dockerd-rootless-setuptool.sh install` writes, enabled, in ~/.config/systemd/user. The
//!   binary runs in the namespace as the user: healthy, then the unit really failed.
//! * Started directly, with a session bus from `dbus-daemon --session`, for the states that need
//!   no user manager: no subordinate ids, lingering off and on, XDG_RUNTIME_DIR unset.
//!
//! Run as the user outside that namespace, `systemd --user` prints "Trying to run as user
//! instance, but the system has not been booted with systemd." and exits, so the user-manager
//! test needs the namespaced systemd.
//!
//! What the tests change on the host, each undone by a guard: the user `dockdoc-rootless` and its
//! group (created once and kept, like tests/live/access.rs's user), its lines in /etc/subuid and
//! /etc/subgid, /home/dockdoc-rootless, /run/user/<uid>, /var/lib/systemd/linger/<user>, a link
//! /usr/local/bin/dockerd-rootless.sh, and the mode of /dev/net/tun. rootlesskit opens the tun
//! device inside the user namespace, which needs the 0666 that Arch's and Debian's udev give it;
//! this machine's devtmpfs has it at 0600.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::prereq::{self, Kernel, Need};
use crate::support;

const USER: &str = "dockdoc-rootless";
const SCRIPT: &str = "/usr/share/docker.io/contrib/dockerd-rootless.sh";
const TUN: &str = "/dev/net/tun";
/// A range no other line of this machine's files uses.
const RANGE: &str = "331072:65536";

fn ok(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A rootless daemon run by a user made here: Debian's dockerd-rootless.sh with rootlesskit,
/// slirp4netns on /dev/net/tun, setuid newuidmap and newgidmap, and the user's own bus.
const NEEDS: &[Need] = &[
    Need::Root,
    Need::Program("dockerd"),
    Need::Program("dockerd-rootless.sh"),
    Need::Program("rootlesskit"),
    Need::Program("slirp4netns"),
    Need::Program("newuidmap"),
    Need::Program("newgidmap"),
    Need::Program("dbus-daemon"),
    Need::Program("setpriv"),
    Need::Program("unshare"),
    Need::Program("useradd"),
    Need::Program("groupadd"),
    Need::Program("docker"),
    Need::Program("busybox"),
    Need::Kernel(Kernel::Tun),
];

/// Whether a rootless daemon can run here: [`NEEDS`], then what the packages leave to the
/// machine (newuidmap setuid, unprivileged user namespaces), each a skip line when it fails.
fn ready() -> bool {
    if !prereq::ready(NEEDS) {
        return false;
    }
    let setuid =
        std::fs::metadata("/usr/bin/newuidmap").is_ok_and(|m| m.permissions().mode() & 0o4000 != 0);
    let userns = || {
        ok(Command::new("setpriv").args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "unshare",
            "--user",
            "true",
        ]))
    };
    let why = if !setuid {
        "/usr/bin/newuidmap is not setuid here"
    } else if !userns() {
        "the kernel refuses unprivileged user namespaces here"
    } else {
        return true;
    };
    let test = prereq::current_test();
    prereq::skip(
        &format!("test {test}"),
        why,
        &crate::common::evidence::credited_to(&format!("live {test}")),
    );
    false
}

fn uid_of(user: &str) -> Option<u32> {
    let out = Command::new("id").args(["-u", user]).output().ok()?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

fn ensure_user() -> u32 {
    if let Some(uid) = uid_of(USER) {
        return uid;
    }
    // The group first, with the same id: newuidmap refuses a process whose gid is not the
    // user's primary group, and the tests run the user with gid = uid.
    let status = Command::new("groupadd")
        .args(["--gid", &MANAGED_UID.to_string(), USER])
        .status()
        .unwrap();
    assert!(status.success(), "groupadd {USER}");
    let status = Command::new("useradd")
        .args(["--uid", &MANAGED_UID.to_string()])
        .args(["--gid", &MANAGED_UID.to_string()])
        .arg("--no-create-home")
        .args(["--shell", "/usr/sbin/nologin", USER])
        .status()
        .unwrap();
    assert!(status.success(), "useradd {USER}");
    uid_of(USER).unwrap()
}

/// Restores a file's content (or removes it) when dropped.
struct Restore {
    path: PathBuf,
    old: Option<Vec<u8>>,
}

impl Restore {
    fn keep(path: &str) -> Restore {
        Restore {
            path: path.into(),
            old: std::fs::read(path).ok(),
        }
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        match &self.old {
            Some(bytes) => {
                let _ = std::fs::write(&self.path, bytes);
            }
            None => {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// Writes /etc/subuid and /etc/subgid with the user's range, or without any line of the user
/// (Debian's useradd gives a new user a range by itself). [`OurSubids`] takes the lines out
/// again.
fn set_subids(with_range: bool) {
    for file in ["/etc/subuid", "/etc/subgid"] {
        let old = std::fs::read_to_string(file).unwrap_or_default();
        let mut text: String = old
            .lines()
            .filter(|l| !l.starts_with(&format!("{USER}:")))
            .map(|l| format!("{l}\n"))
            .collect();
        if with_range {
            text.push_str(&format!("{USER}:{RANGE}\n"));
        }
        std::fs::write(file, text).unwrap();
    }
}

/// Takes the user's lines out of /etc/subuid and /etc/subgid when dropped, and nothing else:
/// other tests on the machine may add their own lines meanwhile.
struct OurSubids;

impl Drop for OurSubids {
    fn drop(&mut self) {
        set_subids(false);
    }
}

/// /dev/net/tun at 0666 until dropped.
struct TunOpen(u32);

impl TunOpen {
    fn open() -> TunOpen {
        let mode = std::fs::metadata(TUN).unwrap().permissions().mode() & 0o7777;
        std::fs::set_permissions(TUN, std::fs::Permissions::from_mode(0o666)).unwrap();
        TunOpen(mode)
    }
}

impl Drop for TunOpen {
    fn drop(&mut self) {
        let _ = std::fs::set_permissions(TUN, std::fs::Permissions::from_mode(self.0));
    }
}

/// A directory removed when dropped.
struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A process group the test started, ended by its id when dropped.
struct Group(Child);

impl Group {
    fn stop(&mut self) {
        // The group's id is its leader's pid: the whole group (rootlesskit, dockerd, slirp4netns).
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.wait();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A command run as the user, in a new process group, with only the given environment.
fn as_user(uid: u32, program: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new("/usr/bin/setpriv");
    cmd.args([
        &format!("--reuid={uid}"),
        &format!("--regid={uid}"),
        "--init-groups",
        "--",
        program,
    ])
    .env_clear()
    .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
    .env("USER", USER);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Whether a daemon answers `/_ping` on the socket.
fn pings(socket: &Path) -> bool {
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /_ping HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.ends_with("OK")
}

/// Starts dockerd-rootless.sh; `Err` holds what it printed when it exited or never answered.
fn start_daemon(
    uid: u32,
    env: &[(&str, &str)],
    socket: &Path,
    log: &Path,
) -> Result<Group, String> {
    let mut cmd = as_user(uid, SCRIPT, env);
    cmd.stdout(std::fs::File::create(log).unwrap())
        .stderr(std::fs::File::create(log).unwrap())
        .process_group(0);
    let mut group = Group(cmd.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if pings(socket) {
            return Ok(group);
        }
        if let Ok(Some(status)) = group.0.try_wait() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!("dockerd-rootless.sh exited ({status}):\n{text}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    group.stop();
    Err(format!(
        "no answer on {} within 60 s:\n{}",
        socket.display(),
        std::fs::read_to_string(log).unwrap_or_default()
    ))
}

/// The binary as the user, `dockdoc check --format json` with the given environment.
fn dockdoc(uid: u32, env: &[(&str, &str)], extra: &[&str]) -> support::Run {
    let mut cmd = as_user(uid, env!("CARGO_BIN_EXE_dockdoc"), env);
    cmd.args(["check", "--format", "json", "--color", "never"])
        .args(extra);
    support::run(cmd)
}

#[test]
fn a_real_rootless_daemon_and_what_breaks_it() {
    let _host = HOST.blocking_lock();
    if !ready() {
        return;
    }
    let uid = ensure_user();
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    std::fs::create_dir(&home).unwrap();
    nix::unistd::chown(&home, Some(uid.into()), Some(uid.into())).unwrap();
    std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let runtime = PathBuf::from(format!("/run/user/{uid}"));
    std::fs::create_dir_all(&runtime).unwrap();
    let _runtime_guard = Dir(runtime.clone());
    nix::unistd::chown(&runtime, Some(uid.into()), Some(uid.into())).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let socket = runtime.join("docker.sock");
    let host = format!("unix://{}", socket.display());
    let runtime_text = runtime.display().to_string();
    let home_text = home.display().to_string();
    let bus = format!("unix:path={}/bus", runtime.display());
    let env = [
        ("HOME", home_text.as_str()),
        ("XDG_RUNTIME_DIR", runtime_text.as_str()),
        ("DOCKER_HOST", host.as_str()),
        ("DBUS_SESSION_BUS_ADDRESS", bus.as_str()),
    ];
    let log = work.path().join("dockerd-rootless.log");
    let _tun = TunOpen::open();

    // No subordinate ids: rootlesskit refuses to start, and dockdoc says why; the text
    // rootlesskit printed, pasted into explain, names the same check.
    let _subid_lines = OurSubids;
    set_subids(false);
    let printed = match start_daemon(uid, &env, &socket, &log) {
        Ok(_) => panic!("the rootless daemon started without subordinate ids"),
        Err(text) => text,
    };
    assert!(printed.contains("No subuid ranges found"), "{printed}");
    let run = dockdoc(uid, &env, &["--profile", "rootless"]);
    run.expect(&[
        ("rootless-subid-missing", "fail"),
        ("rootless-daemon-not-running", "fail"),
    ]);
    // No range at all is an error (an overlap alone would be a warning).
    assert_eq!(run.check("rootless-subid-missing")["severity"], "error");
    explained(
        crate::common::bin(),
        &["--offline"],
        &printed,
        "rootless-subid-missing",
    );

    // The script itself, where the AUR's docker-rootless-extras is not installed: no
    // rootlesskit on PATH, then rootlesskit but no user-mode network. What it prints, pasted,
    // is rootless-extras-missing.
    let bare = tempfile::tempdir().unwrap();
    std::fs::set_permissions(bare.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bare_path = bare.path().display().to_string();
    for (linked, says) in [
        (None, "rootlesskit needs to be installed"),
        (
            Some("/usr/bin/rootlesskit"),
            "Either slirp4netns (>= v0.4.0) or vpnkit needs to be installed",
        ),
    ] {
        if let Some(target) = linked {
            std::os::unix::fs::symlink(target, bare.path().join("rootlesskit")).unwrap();
        }
        let out = as_user(uid, SCRIPT, &env)
            .env("PATH", &bare_path)
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(!out.status.success() && printed.contains(says), "{printed}");
        explained(
            crate::common::bin(),
            &["--offline"],
            &printed,
            "rootless-extras-missing",
        );
    }

    // Healthy: ranges, the extras on PATH, a running daemon, a session bus.
    set_subids(true);
    let _extras = link_extras();
    let mut bus_daemon = as_user(uid, "/usr/bin/dbus-daemon", &env);
    bus_daemon
        .args(["--session", "--nofork", "--nosyslog", "--address", &bus])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let _bus = Group(bus_daemon.spawn().unwrap());
    let mut daemon = start_daemon(uid, &env, &socket, &log).unwrap_or_else(|e| panic!("{e}"));
    crate::common::evidence::register_real(&host, "real rootless dockerd");
    // No --profile: the rootless endpoint selects the rootless checks by itself.
    let healthy = dockdoc(uid, &env, &[]);
    healthy.expect(&[
        ("rootless-daemon-not-running", "pass"),
        ("rootless-subid-missing", "pass"),
        ("rootless-newuidmap-unusable", "pass"),
        ("rootless-userns-disabled", "pass"),
        ("rootless-extras-missing", "pass"),
        ("docker-daemon-unreachable", "pass"),
        // No logind here: nothing made /var/lib/systemd/linger/<user>.
        ("rootless-no-linger", "fail"),
        // Port 1024 and up only (Debian's default, as on Arch), but no container asks for less.
        ("rootless-privileged-port", "pass"),
    ]);
    assert_eq!(
        healthy.evidence("rootless-newuidmap-unusable", "rootless.newidmap_state")["value"],
        "/usr/bin/newuidmap is setuid root; /usr/bin/newgidmap is setuid root"
    );
    // cgroup v1 here: user@<uid>.service has no cgroup.controllers to read.
    assert_eq!(healthy.status("rootless-cgroup-not-delegated"), "unknown");

    privileged_ports(uid, &env, work.path());

    // Lingering on: the file logind's enable-linger writes.
    {
        let linger = format!("/var/lib/systemd/linger/{USER}");
        let _linger = Restore::keep(&linger);
        std::fs::create_dir_all("/var/lib/systemd/linger").unwrap();
        std::fs::write(&linger, b"").unwrap();
        dockdoc(uid, &env, &["--profile", "rootless"]).expect(&[("rootless-no-linger", "pass")]);
    }

    // The daemon stopped, and the shell came from `su -`: no XDG_RUNTIME_DIR, no session.
    daemon.stop();
    let no_session = [("HOME", home_text.as_str()), ("DOCKER_HOST", host.as_str())];
    let run = dockdoc(uid, &no_session, &[]);
    run.expect(&[("rootless-daemon-not-running", "fail")]);
    let summary = run.summary("rootless-daemon-not-running");
    assert!(
        summary.contains("XDG_RUNTIME_DIR is unset: this shell is not a logind login session"),
        "{summary}"
    );
    // dockerd-rootless.sh refuses to start in such a shell too.
    let refused = start_daemon(uid, &no_session, &socket, &log);
    let printed = refused.err().unwrap_or_default();
    assert!(printed.contains("XDG_RUNTIME_DIR"), "{printed}");
}

/// Debian's docker CLI as the user, against the rootless daemon of `env`.
fn docker(uid: u32, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    as_user(uid, "/usr/bin/docker", env)
        .args(args)
        .output()
        .unwrap()
}

/// `docker run -p 80:80` on the rootless daemon really fails, and dockdoc names the container
/// and the port; `dockdoc explain` given the daemon's message names the check and finds it
/// failing here. The container removed and one published on 8080 instead: nothing to report.
fn privileged_ports(uid: u32, env: &[(&str, &str)], work: &Path) {
    let port_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .unwrap()
        .trim()
        .parse::<u32>()
        .unwrap();
    assert!(
        port_start > 80,
        "net.ipv4.ip_unprivileged_port_start is {port_start} here: port 80 would not fail"
    );
    // An image holding only busybox-static, imported as the user.
    let tar = support::busybox_tarball(work);
    docker_ok(
        uid,
        env,
        &["import", tar.to_str().unwrap(), "busybox:local"],
    );

    let out = run_httpd(uid, env, "web80", "80:80");
    let printed = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "port 80 was published: {printed}");
    assert!(
        printed.contains("cannot expose privileged port 80"),
        "{printed}"
    );
    let run = dockdoc(uid, env, &[]);
    run.expect(&[("rootless-privileged-port", "fail")]);
    let summary = run.summary("rootless-privileged-port");
    assert!(
        summary.contains(&format!("ip_unprivileged_port_start = {port_start}"))
            && summary.contains("web80 80->80/tcp"),
        "{summary}"
    );
    assert_eq!(
        run.evidence(
            "rootless-privileged-port",
            "rootless.lowest_port_below_start"
        )["value"],
        80
    );

    // The daemon's own words, pasted into explain as the user: the check is named, and judged
    // failing on this machine.
    let as_the_user = as_user(uid, env!("CARGO_BIN_EXE_dockdoc"), env);
    let matched = explained(as_the_user, &[], &printed, "rootless-privileged-port");
    assert_eq!(matched["status"], "fail", "{matched}");

    // Removed, and published on 8080 instead: it runs, and nothing is below the start.
    docker_ok(uid, env, &["rm", "web80"]);
    let out = run_httpd(uid, env, "web8080", "8080:80");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dockdoc(uid, env, &[]).expect(&[("rootless-privileged-port", "pass")]);
    let mut facts = as_user(uid, env!("CARGO_BIN_EXE_dockdoc"), env);
    facts.args(["facts", "--format", "json"]);
    let facts = support::run(facts);
    assert_eq!(
        facts.json["facts"]["docker.published_host_ports"]["value"],
        serde_json::json!(["web8080 8080->80/tcp"]),
        "{}",
        facts.json
    );

    // `docker run --rm -p 81:80`: refused, and --rm leaves no container to read the port from.
    // The pasted error names it, and explain judges that port here.
    let httpd = ["busybox:local", "/bin/busybox", "httpd", "-f", "-p", "80"];
    let out = docker(
        uid,
        env,
        &[&["run", "--rm", "-p", "81:80"][..], &httpd[..]].concat(),
    );
    let printed = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success() && printed.contains("cannot expose privileged port 81"),
        "{printed}"
    );
    let as_the_user = as_user(uid, env!("CARGO_BIN_EXE_dockdoc"), env);
    let doc = crate::common::explain_json(as_the_user, &[], &printed);
    assert_eq!(doc["verdict"]["id"], "rootless-privileged-port", "{doc:#}");
    let reason = doc["verdict"]["reason"].as_str().unwrap();
    assert!(reason.contains("port 81 (the pasted error)"), "{reason}");
}

/// `docker run -d --name NAME -p PUBLISH` of busybox's httpd on port 80, as the user.
fn run_httpd(uid: u32, env: &[(&str, &str)], name: &str, publish: &str) -> std::process::Output {
    let httpd = ["busybox:local", "/bin/busybox", "httpd", "-f", "-p", "80"];
    let args = [
        &["run", "-d", "--name", name, "-p", publish][..],
        &httpd[..],
    ]
    .concat();
    docker(uid, env, &args)
}

/// [`docker`], which must succeed.
fn docker_ok(uid: u32, env: &[(&str, &str)], args: &[&str]) {
    let out = docker(uid, env, args);
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `explain --format json -` given `text` on stdin, through `explain` (the binary and the
/// subcommand, maybe behind setpriv): the match of the check `id`, which must be there.
fn explained(dockdoc: Command, args: &[&str], text: &str, id: &str) -> serde_json::Value {
    let json = crate::common::explain_json(dockdoc, args, text);
    json["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("explain did not name {id}: {json}"))
}

/// Links Debian's dockerd-rootless.sh into /usr/local/bin (where a `make install` of moby's
/// contrib script, or the AUR package's /usr/bin, would put it) until dropped, unless one is there.
fn link_extras() -> Option<Restore> {
    let link = "/usr/local/bin/dockerd-rootless.sh";
    if Path::new(link).exists() {
        return None;
    }
    let guard = Restore {
        path: link.into(),
        old: None,
    };
    std::os::unix::fs::symlink(SCRIPT, link).unwrap();
    Some(guard)
}

/// The test user of the user-manager test: a fixed uid, because the scenario's target names
/// `user@61901.service`.
const MANAGED_UID: u32 = 61901;

/// The two tests share the user, /etc/subuid, /etc/subgid and /dev/net/tun: one at a time.
static HOST: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A command inside the booted namespace (its mount and PID namespace), as the managed user.
fn in_namespace_as_user(pid: u32, program: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new("nsenter");
    cmd.args(["-t", &pid.to_string(), "-m", "-p", "--", "setpriv"])
        .args([
            &format!("--reuid={MANAGED_UID}"),
            &format!("--regid={MANAGED_UID}"),
            "--init-groups",
            "--",
            "env",
            "-i",
            "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            &format!("USER={USER}"),
        ]);
    for (k, v) in env {
        cmd.arg(format!("{k}={v}"));
    }
    cmd.arg(program);
    cmd
}

/// `systemctl --user <args>` inside the namespace as the user: its output, whatever the status.
fn user_systemctl(pid: u32, env: &[(&str, &str)], args: &[&str]) -> String {
    let out = in_namespace_as_user(pid, "systemctl", env)
        .arg("--user")
        .args(args)
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Polls `systemctl --user is-active docker.service` until it prints `want`.
fn wait_user_unit(pid: u32, env: &[(&str, &str)], want: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if user_systemctl(pid, env, &["is-active", "docker.service"]).trim() == want {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(user_systemctl(
        pid,
        env,
        &["status", "--no-pager", "docker.service"],
    ))
}

/// The binary inside the namespace as the user.
fn dockdoc_in_namespace(pid: u32, env: &[(&str, &str)]) -> support::Run {
    let mut cmd = in_namespace_as_user(pid, crate::harness::Booted::BINARY_INSIDE, env);
    cmd.args(["check", "--format", "json", "--color", "never"]);
    support::run(cmd)
}

/// The rootless daemon as the user's systemd runs it: the real `user@61901.service` (systemd's
/// unit as Debian ships it, PAM included) in the namespaced systemd, its user bus from
/// dbus-user-session's dbus.socket, and the user unit `docker.service` that
/// dockerd-rootless-setuptool.sh writes, enabled. Then the same unit really failing.
#[tokio::test]
async fn the_user_unit_under_user_at_uid_service() {
    let _host = HOST.lock().await;
    if !ready() {
        return;
    }
    let uid = ensure_user();
    assert_eq!(uid, MANAGED_UID, "{USER} exists with another uid");
    let _subid_lines = OurSubids;
    set_subids(true);
    let _tun = TunOpen::open();
    let _extras = link_extras();
    // The home /etc/passwd names: the user manager runs dockerd-rootless.sh there, and the
    // daemon keeps its data under ~/.local/share/docker.
    let home = PathBuf::from(format!("/home/{USER}"));
    std::fs::create_dir_all(&home).unwrap();
    let _home = Dir(home.clone());
    nix::unistd::chown(&home, Some(uid.into()), Some(uid.into())).unwrap();
    // ~/.config/systemd/user: the unit and its default.target.wants link, as
    // `dockerd-rootless-setuptool.sh install` and `systemctl --user enable` leave them.
    let config = home.join(".config");
    let status = Command::new("cp")
        .arg("-a")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/live/rootless-config"))
        .arg(&config)
        .status()
        .unwrap();
    assert!(status.success(), "cp rootless-config");
    let status = Command::new("chown")
        .args(["-R", &format!("{uid}:{uid}")])
        .arg(&config)
        .status()
        .unwrap();
    assert!(status.success(), "chown {}", config.display());
    let booted = match crate::harness::Booted::boot("rootless-user").await {
        Ok(Some(b)) => b,
        Ok(None) => return,
        Err(e) => panic!("{e}"),
    };
    let pid = booted.pid();
    let manager = booted
        .wait_unit(&format!("user@{MANAGED_UID}.service"), |s| {
            s.active_state == "active" || s.active_state == "failed"
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(manager.active_state, "active", "{}", booted.status());
    let runtime = format!("/run/user/{MANAGED_UID}");
    let host = format!("unix://{runtime}/docker.sock");
    let home_text = home.display().to_string();
    let env = [
        ("HOME", home_text.as_str()),
        ("XDG_RUNTIME_DIR", runtime.as_str()),
        ("DOCKER_HOST", host.as_str()),
    ];
    // Type=simple is active at once; the daemon is up when its socket answers.
    let socket = PathBuf::from(format!("/proc/{pid}/root{runtime}/docker.sock"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !pings(&socket) {
        if Instant::now() > deadline {
            let said =
                std::fs::read_to_string(format!("/proc/{pid}/root{runtime}/dockerd-rootless.log"))
                    .unwrap_or_default();
            let tail: Vec<&str> = said
                .lines()
                .rev()
                .filter(|l| !l.contains("level=info") && !l.starts_with('+'))
                .take(15)
                .collect();
            panic!(
                "the rootless daemon did not answer: {}\nits output:\n{}",
                user_systemctl(pid, &env, &["status", "--no-pager", "docker.service"]),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let healthy = dockdoc_in_namespace(pid, &env);
    healthy.expect(&[
        ("rootless-daemon-not-running", "pass"),
        ("rootless-subid-missing", "pass"),
        ("rootless-extras-missing", "pass"),
        ("docker-daemon-unreachable", "pass"),
    ]);
    let facts = support::run({
        let mut c = in_namespace_as_user(pid, crate::harness::Booted::BINARY_INSIDE, &env);
        c.args(["facts", "--format", "json"]);
        c
    });
    let fact = |key: &str| facts.json["facts"][key]["value"].clone();
    assert_eq!(fact("systemd.user_bus"), true, "{}", facts.json);
    assert_eq!(fact("systemd.user_docker_service_active_state"), "active");
    assert_eq!(
        fact("systemd.user_docker_service_unit_file_state"),
        "enabled"
    );
    assert_eq!(fact("systemd.user_docker_service_result"), "success");

    // The ranges go, the unit restarts: rootlesskit refuses, systemd restarts it until the
    // start limit (3 in 60 s) and the unit is failed.
    set_subids(false);
    user_systemctl(pid, &env, &["restart", "docker.service"]);
    wait_user_unit(pid, &env, "failed").unwrap_or_else(|status| panic!("{status}"));
    let failed = dockdoc_in_namespace(pid, &env);
    failed.expect(&[
        ("rootless-daemon-not-running", "fail"),
        ("rootless-subid-missing", "fail"),
    ]);
    let summary = failed.summary("rootless-daemon-not-running");
    assert!(
        summary.contains("the user unit docker.service failed (Result="),
        "{summary}"
    );
    // systemctl's words about the user unit, pasted into explain as the user: the rootless
    // daemon, never the system's docker.service.
    let active = user_systemctl(pid, &env, &["is-active", "docker"]);
    assert_eq!(active, "failed\n");
    let status = user_systemctl(pid, &env, &["status", "--no-pager", "-n", "0", "docker"]);
    eprintln!("systemctl --user status docker:\n{status}");
    for paste in [
        format!("$ systemctl --user is-active docker\n{active}"),
        format!("$ systemctl --user status docker\n{status}"),
    ] {
        let doc = crate::common::explain_json(
            in_namespace_as_user(pid, crate::harness::Booted::BINARY_INSIDE, &env),
            &[],
            &paste,
        );
        assert_eq!(
            doc["verdict"]["id"], "rootless-daemon-not-running",
            "{paste}\n{doc:#}"
        );
        let ids: Vec<&str> = doc["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert!(!ids.contains(&"docker-service-failed"), "{ids:?}");
    }
    booted.shutdown();
}
