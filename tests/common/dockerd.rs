//! A private dockerd for live tests: its own data root, exec root, pidfile and socket in a
//! temporary directory, no iptables and no bridge (or, with `Options::bridge`, a bridge inside a
//! network namespace of its own), so it never touches the host's networking
//! or a system daemon. Stopped by its pid (SIGTERM, then SIGKILL after a grace period) when
//! dropped.
//!
//! Use from a test file with `#[path = "common/dockerd.rs"] mod dockerd;`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::prereq::{self, Need};

/// What a private dockerd needs: root, for its data root, network namespace and socket group.
pub const PRIVATE: &[Need] = &[Need::Root, Need::Program("dockerd")];

/// The dockerd binary, if one is installed and runs (`dockerd --version` answers within 10 s):
/// a file that exists but cannot run (not executable, /dev/null bound over it, a broken
/// install) is not a dockerd.
pub fn dockerd_binary() -> Option<String> {
    prereq::path_of("dockerd")
}

pub struct PrivateDockerd {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub log: PathBuf,
    child: Child,
}

/// How to start a private dockerd beyond the defaults (no bridge, socket group `docker`).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Give the daemon its default bridge network (docker0 and veth pairs), inside a network
    /// namespace of its own (`unshare --net`) so the host's interfaces are never touched.
    pub bridge: bool,
    /// The socket's group (`--group`); dockerd's default is `docker`.
    pub group: Option<String>,
    /// Listen on this unix socket instead of one in the daemon's temp dir (a Docker Desktop or
    /// rootless socket path, for instance); its directory must exist.
    pub socket: Option<std::path::PathBuf>,
    /// Also listen on this TCP address (`-H tcp://ADDR`, loopback only).
    pub tcp: Option<String>,
    /// The storage driver; `vfs` (which works on any filesystem) when unset.
    pub storage_driver: Option<String>,
    /// With `bridge`: let the daemon write its iptables rules (IPv4 only), into the ruleset of
    /// its own network namespace, never the host's.
    pub iptables: bool,
    /// Further flags, after the harness's own (`--registry-mirror=…`, say).
    pub args: Vec<String>,
}

impl PrivateDockerd {
    /// Starts dockerd and waits (up to `wait`) until its socket answers `/_ping`.
    pub fn start(wait: Duration) -> Result<PrivateDockerd, String> {
        Self::start_with(wait, &Options::default())
    }

    /// Starts dockerd with `options` and waits (up to `wait`) until it answers `/_ping`.
    pub fn start_with(wait: Duration, options: &Options) -> Result<PrivateDockerd, String> {
        let binary = dockerd_binary().ok_or("dockerd is not installed")?;
        let binary = binary.as_str();
        // Short path: unix socket paths are limited to 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("dd")
            .tempdir_in("/tmp")
            .map_err(|e| format!("tempdir: {e}"))?;
        let p = dir.path();
        let socket = options.socket.clone().unwrap_or_else(|| p.join("d.sock"));
        let log = p.join("dockerd.log");
        let log_file = std::fs::File::create(&log).map_err(|e| format!("log file: {e}"))?;
        let log_err = log_file.try_clone().map_err(|e| format!("log file: {e}"))?;
        // unshare without --fork execs dockerd, so the child's pid stays dockerd's.
        let mut command = if options.bridge {
            let mut c = Command::new("unshare");
            c.args(["--net", binary]);
            c
        } else {
            Command::new(binary)
        };
        if let Some(group) = &options.group {
            command.arg("--group").arg(group);
        }
        if let Some(addr) = &options.tcp {
            command.arg("-H").arg(format!("tcp://{addr}"));
        }
        let network: &[&str] = if options.bridge && options.iptables {
            &["--ip6tables=false"]
        } else if options.bridge {
            &["--iptables=false", "--ip6tables=false"]
        } else {
            &["--iptables=false", "--ip6tables=false", "--bridge=none"]
        };
        let child = command
            .arg("--data-root")
            .arg(p.join("data"))
            .arg("--exec-root")
            .arg(p.join("exec"))
            .arg("--pidfile")
            .arg(p.join("pid"))
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .args(network)
            .arg(format!(
                "--storage-driver={}",
                options.storage_driver.as_deref().unwrap_or("vfs")
            ))
            .args(&options.args)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot start {binary}: {e}"))?;
        let mut daemon = PrivateDockerd {
            dir,
            socket,
            log,
            child,
        };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                return Err(format!(
                    "dockerd exited with {status} before answering:\n{}",
                    daemon.log_tail()
                ));
            }
            if daemon.pings() {
                return Ok(daemon);
            }
            if started.elapsed() > wait {
                return Err(format!(
                    "dockerd did not answer within {wait:?}:\n{}",
                    daemon.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn uri(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A blocking `/_ping` over the socket.
    fn pings(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::os::unix::net::UnixStream::connect(&self.socket) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.") && answer.ends_with("OK")
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Runs the docker CLI against this daemon.
    pub fn docker(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker")
            .arg("-H")
            .arg(self.uri())
            .args(args)
            .output()
            .expect("run the docker CLI")
    }

    /// SIGTERM, then wait up to 20 s, then SIGKILL.
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateDockerd {
    fn drop(&mut self) {
        self.stop();
    }
}
