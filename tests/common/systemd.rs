//! A real systemd for tests: the machine's `/lib/systemd/systemd` booted as PID 1 of a new PID,
//! mount and UTS namespace, with a scenario's units only, reached from the host over its own
//! system bus at `/proc/<pid>/root/run/dbus/system_bus_socket`.
//!
//! How the namespace is made, and why:
//!
//! * `setpriv --pdeathsig KILL unshare --kill-child=KILL --pid --fork --mount --uts --propagation private --mount-proc`: systemd must be
//!   PID 1 to run as the system manager; the mount namespace keeps every mount below private;
//!   the UTS namespace keeps systemd from setting the host's hostname.
//! * Private tmpfs on `/run` and `/tmp` first: systemd and its tmpfiles would otherwise write to
//!   (and clean) the host's shared directories. A scenario whose units write elsewhere lists
//!   those directories in a `dockdoc-tmpfs` file (one per line), each given a private tmpfs too.
//! * The scenario's unit directory is bind-mounted over `/etc/systemd/system`, and the boot
//!   target is `--unit=<scenario>.target` whose units all have `DefaultDependencies=no`: so
//!   sysinit.target and everything the host enabled never starts; only the bus and the
//!   scenario's units run.
//! * cgroups: the host may run a hybrid (v1 + v2) layout without systemd owning it. The script
//!   creates a child cgroup `dockdoc-<name>` in the `name=systemd` hierarchy, moves itself into
//!   it, and shows systemd only that hierarchy (a private tmpfs on `/sys/fs/cgroup` with the
//!   host's `name=systemd` bind-mounted back). systemd then treats `/dockdoc-<name>` as its root
//!   cgroup (as it does in a container without a cgroup namespace), runs in legacy/hybrid mode,
//!   and does not move processes out of the v1 controller cgroups (memory, pids) they run in.
//!   After power-off the harness removes the empty `dockdoc-<name>` trees it made.
//! * `container=dockdoc-test` in PID 1's environment: systemd behaves as in a container
//!   (no udev, no remounts, no unmounting at shutdown), and the environment is otherwise empty.
//! * The host's own docker, containerd and libvirt units are hidden: `/usr/lib/systemd/system` is
//!   replaced by a copy without them, and `/etc/init.d` by an empty tmpfs (the SysV generator
//!   would turn Debian's /etc/init.d/docker into a docker.service), so a scenario without
//!   docker.service sees it `not-found`.
//! * systemd as PID 1 points its stdio at /dev/null and has no journald here, so on failure the
//!   harness shows `systemctl status --all` from inside the namespace instead of a log.
//!
//! Shutdown is `systemctl poweroff` run inside the namespace (nsenter); only if PID 1 has not
//! exited after that does the harness kill it by its pid. Should the test process die first,
//! the parent-death signal ends unshare, and `--kill-child` ends systemd and its namespace.
//!
//! A missing prerequisite (not root, no unshare/nsenter/systemd/dbus-daemon) skips with a
//! one-line reason, unless `DOCKDOC_LIVE=require`, where it is a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::prereq::{self, Kernel, Need};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dockdoc::facts::systemd::{UnitRead, UnitState, read_unit};

const SYSTEMD: &str = "/lib/systemd/systemd";
/// What booting systemd in a PID and mount namespace needs.
pub const BOOT: &[Need] = &[
    Need::Root,
    Need::Program("setpriv"),
    Need::Program("unshare"),
    Need::Program("nsenter"),
    Need::Program("dbus-daemon"),
    Need::Program("systemd"),
    Need::Kernel(Kernel::Cgroup),
];
const BOOT_WAIT: Duration = Duration::from_secs(30);
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The scenario unit directories shipped with the tests.
pub fn units_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/live/units")
}

/// A systemd booted in its own namespaces. Powered off on [`Booted::shutdown`] or drop.
pub struct Booted {
    scenario: String,
    unshare: Child,
    /// systemd's pid as the host sees it (the child of unshare).
    pid: u32,
    dir: PathBuf,
    cgroup: String,
    down: bool,
}

impl Booted {
    /// Boots `tests/live/units/<scenario>` (plus `common/`) and waits until systemd answers on
    /// its system bus. `Ok(None)` means skipped (the reason was printed).
    pub async fn boot(scenario: &str) -> Result<Option<Booted>, String> {
        Self::boot_full(scenario, &[], &[]).await
    }

    /// Boots a scenario on top of shared unit directories (`parts`, e.g. `arch` for Arch's
    /// docker units as shipped), copied in order before the scenario's own files.
    pub async fn boot_parts(scenario: &str, parts: &[&str]) -> Result<Option<Booted>, String> {
        Self::boot_full(scenario, parts, &[]).await
    }

    /// [`Booted::boot`], with `units` (files from elsewhere in the repository, such as the
    /// units the package ships) copied in beside the scenario's.
    pub async fn boot_with(scenario: &str, units: &[&Path]) -> Result<Option<Booted>, String> {
        Self::boot_full(scenario, &[], units).await
    }

    async fn boot_full(
        scenario: &str,
        parts: &[&str],
        extra: &[&Path],
    ) -> Result<Option<Booted>, String> {
        if !prereq::ready(BOOT) {
            return Ok(None);
        }
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("{scenario}-{}-{n}", std::process::id());
        // The units are bound over /etc/systemd/system before the namespace mounts its own /tmp
        // and /run, so a checkout (and its target dir) under /tmp still works.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("systemd-{name}"));
        let _ = fs::remove_dir_all(&dir);
        let units = dir.join("units");
        fs::create_dir_all(&units).map_err(|e| format!("{}: {e}", units.display()))?;
        for part in std::iter::once("common")
            .chain(parts.iter().copied())
            .chain([scenario])
        {
            let src = units_dir().join(part);
            let status = Command::new("cp")
                .arg("-a")
                .arg(format!("{}/.", src.display()))
                .arg(&units)
                .status()
                .map_err(|e| format!("cp: {e}"))?;
            if !status.success() {
                return Err(format!("cannot copy {}", src.display()));
            }
        }
        // The binary under test, reachable inside the namespace whatever /tmp and /run hide.
        // DOCKDOC_LIVE_BIN runs another build in the same namespace (to measure a fix against the
        // build before it).
        let binary = std::env::var_os("DOCKDOC_LIVE_BIN").map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_dockdoc")),
            PathBuf::from,
        );
        fs::copy(&binary, units.join("dockdoc"))
            .map_err(|e| format!("cannot copy the binary: {e}"))?;
        for file in extra {
            let name = file.file_name().unwrap_or_default();
            fs::copy(file, units.join(name)).map_err(|e| format!("{}: {e}", file.display()))?;
        }
        let cgroup = format!("dockdoc-{name}");
        let script = format!(
            r#"set -e
mount --bind {units} /etc/systemd/system
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
# Read through the bind mount: {units} itself is hidden now if the checkout is under /tmp.
if [ -f /etc/systemd/system/dockdoc-tmpfs ]; then
  while read -r dir; do mount -t tmpfs -o mode=0755 tmpfs "$dir"; done < /etc/systemd/system/dockdoc-tmpfs
fi
mkdir -p /run/dbus /run/dockdoc-cg
if [ -e /sys/fs/cgroup/systemd/cgroup.procs ]; then
  mkdir -p /sys/fs/cgroup/systemd/{cgroup}
  echo $$ > /sys/fs/cgroup/systemd/{cgroup}/cgroup.procs
  mount --bind /sys/fs/cgroup/systemd /run/dockdoc-cg
  mount -t tmpfs -o mode=0755 tmpfs /sys/fs/cgroup
  mkdir /sys/fs/cgroup/systemd
  mount --move /run/dockdoc-cg /sys/fs/cgroup/systemd
else
  mkdir -p /sys/fs/cgroup/{cgroup}
  echo $$ > /sys/fs/cgroup/{cgroup}/cgroup.procs
fi
rmdir /run/dockdoc-cg
mkdir /run/dockdoc-lib
cp -a /usr/lib/systemd/system/. /run/dockdoc-lib/
find /run/dockdoc-lib \( -name 'docker.*' -o -name 'containerd.*' -o -name 'libvirt*' -o -name 'virt*d.*' -o -name 'virt*d-*' \) -exec rm -f {{}} +
if [ -d /etc/systemd/system/lib ]; then cp -a /etc/systemd/system/lib/. /run/dockdoc-lib/; fi
mount --bind /run/dockdoc-lib /usr/lib/systemd/system
# The journal and Docker's configuration of the namespace are its own.
if [ -d /var/log/journal ]; then mount -t tmpfs -o mode=2755 tmpfs /var/log/journal; fi
if [ -d /etc/docker ]; then mount -t tmpfs -o mode=0755 tmpfs /etc/docker; fi
if [ -d /etc/init.d ]; then mount -t tmpfs -o mode=0755 tmpfs /etc/init.d; fi
exec env -i container=dockdoc-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  {SYSTEMD} --system --unit={scenario}.target --log-target=console --log-level=info --show-status=no
"#,
            units = units.display(),
        );
        // Safety net if the test dies without powering off: setpriv makes unshare die with
        // the test thread, and --kill-child makes unshare take systemd (PID 1) with it.
        let unshare = Command::new("setpriv")
            .args([
                "--pdeathsig",
                "KILL",
                "unshare",
                "--kill-child=KILL",
                "--pid",
                "--fork",
                "--mount",
                "--uts",
                "--propagation",
                "private",
                "--mount-proc",
                "sh",
                "-c",
                &script,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run unshare: {e}"))?;
        let mut booted = Booted {
            scenario: scenario.to_owned(),
            pid: 0,
            unshare,
            dir,
            cgroup,
            down: false,
        };
        let started = Instant::now();
        booted.pid = loop {
            if let Some(pid) = child_of(booted.unshare.id()) {
                break pid;
            }
            if let Ok(Some(status)) = booted.unshare.try_wait() {
                booted.down = true;
                booted.cleanup();
                return Err(format!("unshare exited before systemd started: {status}"));
            }
            if started.elapsed() > BOOT_WAIT {
                return Err(booted.failure("systemd did not start"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        booted.wait_ready().await?;
        Ok(Some(booted))
    }

    /// The D-Bus address of the namespace's system bus, from the host.
    pub fn address(&self) -> String {
        format!(
            "unix:path=/proc/{}/root/run/dbus/system_bus_socket",
            self.pid
        )
    }

    /// systemd's pid as the host sees it.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Where the binary under test is inside every booted namespace: a copy made at boot, so it
    /// is there whatever the namespace's private /tmp and /run hide (a checkout under /tmp).
    pub const BINARY_INSIDE: &'static str = "/etc/systemd/system/dockdoc";

    /// The binary under test, run inside the namespace's mount and PID namespaces: it sees the
    /// namespace's /run (its system bus, /run/docker.sock, dockerd's pid file), its journal and
    /// its /etc/docker, as dockdoc sees a real machine, with no endpoint given.
    pub fn dockdoc(&self) -> Command {
        self.dockdoc_as(None)
    }

    /// [`Booted::dockdoc`] as an unprivileged user (setpriv with the user's groups from
    /// /etc/group), when `user` is given.
    pub fn dockdoc_as(&self, user: Option<&str>) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.pid.to_string(), "-m", "-p", "--"]);
        if let Some(user) = user {
            cmd.args([
                "setpriv",
                "--reuid",
                user,
                "--regid",
                user,
                "--init-groups",
                "--",
            ]);
        }
        cmd.arg(Self::BINARY_INSIDE)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("XDG_RUNTIME_DIR")
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env("HOME", "/nonexistent");
        cmd
    }

    /// Runs a command inside the namespace (systemctl, for instance) and returns its stdout.
    pub fn run_inside(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("nsenter")
            .args(["-t", &self.pid.to_string(), "-m", "-p", "--"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("nsenter: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "{args:?} in the namespace: {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Writes a file inside the namespace's mount namespace (e.g. its private /etc/docker).
    pub fn write_inside(&self, path: &str, text: &str) -> Result<(), String> {
        let host = format!("/proc/{}/root{path}", self.pid);
        fs::write(&host, text).map_err(|e| format!("{host}: {e}"))
    }

    /// `systemctl status` of every unit, from inside the namespace, for failure messages.
    pub fn status(&self) -> String {
        if self.pid == 0 {
            return String::new();
        }
        Command::new("nsenter")
            .args([
                "-t",
                &self.pid.to_string(),
                "-m",
                "-p",
                "systemctl",
                "status",
            ])
            .args(["--all", "--no-pager", "--lines=5"])
            .stdin(Stdio::null())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    fn failure(&self, what: &str) -> String {
        format!(
            "{what} (scenario {}); systemctl status:\n{}",
            self.scenario,
            self.status()
        )
    }

    async fn connect(&self) -> Result<zbus::Connection, String> {
        let address = self.address();
        let build = async {
            zbus::connection::Builder::address(address.as_str())
                .build()
                .await
        };
        match tokio::time::timeout(CALL_TIMEOUT, build).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timeout".into()),
        }
    }

    /// Waits until systemd answers ListUnitsByNames on the bus (dbus.service is up and systemd has
    /// taken its name).
    async fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < BOOT_WAIT {
            match self.connect().await {
                Ok(conn) => match read_unit(&conn, "dbus.service", CALL_TIMEOUT).await {
                    Ok(_) => return Ok(()),
                    Err(e) => last = e,
                },
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(self.failure(&format!(
            "the bus did not answer within {BOOT_WAIT:?}: {last}"
        )))
    }

    /// Reads a unit now.
    pub async fn unit(&self, name: &str) -> UnitRead {
        let conn = self.connect().await?;
        read_unit(&conn, name, CALL_TIMEOUT).await
    }

    /// Polls a unit until `until` holds (units settle asynchronously after boot).
    pub async fn wait_unit(
        &self,
        name: &str,
        until: impl Fn(&UnitState) -> bool,
    ) -> Result<UnitState, String> {
        let started = Instant::now();
        let mut last = Err(String::from("not read yet"));
        while started.elapsed() < BOOT_WAIT {
            last = self.unit(name).await;
            if let Ok(state) = &last
                && until(state)
            {
                return Ok(state.clone());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(self.failure(&format!("{name} did not reach the state: last {last:?}")))
    }

    /// Powers the namespace's systemd off and waits for it to exit.
    pub fn shutdown(mut self) {
        self.power_off();
    }

    fn power_off(&mut self) {
        if self.down {
            return;
        }
        self.down = true;
        if self.pid != 0 {
            let _ = Command::new("nsenter")
                .args([
                    "-t",
                    &self.pid.to_string(),
                    "-m",
                    "-p",
                    "systemctl",
                    "poweroff",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let started = Instant::now();
        loop {
            if let Ok(Some(_)) = self.unshare.try_wait() {
                break;
            }
            if started.elapsed() > Duration::from_secs(20) {
                // PID 1 did not power off: end it (and with it its namespace) by its pid.
                if self.pid != 0 {
                    let _ = Command::new("kill")
                        .args(["-KILL", &self.pid.to_string()])
                        .status();
                }
                let _ = self.unshare.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.cleanup();
    }

    /// Removes the (empty) cgroup trees systemd left behind and the scenario directory.
    fn cleanup(&self) {
        for hierarchy in [
            "/sys/fs/cgroup/systemd",
            "/sys/fs/cgroup/unified",
            "/sys/fs/cgroup",
        ] {
            remove_cgroup_tree(&Path::new(hierarchy).join(&self.cgroup));
        }
        if std::env::var_os("DOCKDOC_KEEP_SCENARIO").is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for Booted {
    fn drop(&mut self) {
        self.power_off();
    }
}

/// Depth-first rmdir of a cgroup tree (cgroup directories hold only kernel files).
fn remove_cgroup_tree(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup_tree(&entry.path());
            }
        }
        let _ = fs::remove_dir(dir);
    }
}

/// The first child of a process, from /proc.
fn child_of(parent: u32) -> Option<u32> {
    let children =
        fs::read_to_string(format!("/proc/{parent}/task/{parent}/children")).unwrap_or_default();
    if let Some(pid) = children.split_whitespace().next() {
        return pid.parse().ok();
    }
    // Without CONFIG_PROC_CHILDREN, scan for a process whose parent is `parent`.
    fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let stat = fs::read_to_string(e.path().join("stat")).ok()?;
        let after = stat.rsplit_once(')')?.1;
        let ppid: u32 = after.split_whitespace().nth(1)?.parse().ok()?;
        (ppid == parent).then_some(pid)
    })
}
