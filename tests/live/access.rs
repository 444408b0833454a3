//! Who may open the socket: the binary run as an unprivileged user against a real dockerd
//! whose socket is root:docker 0660. The user is created once (useradd, idempotent) and kept;
//! /etc/group's docker line gets the user only for the middle case and is restored by a guard.

use std::process::Command;

use crate::support;

pub const USER: &str = "dockdoc-live";

pub fn ensure_user() {
    if Command::new("id")
        .arg("-u")
        .arg(USER)
        .output()
        .unwrap()
        .status
        .success()
    {
        return;
    }
    let status = Command::new("useradd")
        .args(["--system", "--no-create-home", "--user-group"])
        .args(["--shell", "/usr/sbin/nologin", USER])
        .status()
        .unwrap();
    assert!(status.success(), "useradd {USER}");
}

/// Lists the user in the docker group until dropped.
struct InDockerGroup;

impl InDockerGroup {
    fn add() -> InDockerGroup {
        let status = Command::new("gpasswd")
            .args(["-a", USER, "docker"])
            .output()
            .unwrap();
        assert!(status.status.success(), "gpasswd -a: {status:?}");
        InDockerGroup
    }
}

impl Drop for InDockerGroup {
    fn drop(&mut self) {
        let _ = Command::new("gpasswd")
            .args(["-d", USER, "docker"])
            .output();
    }
}

/// The binary as the user: `groups` is `--init-groups` (what a fresh login gets from
/// /etc/group) or `--clear-groups` (a session started before the user was added).
fn as_user(groups: &str, docker_host: &str) -> support::Run {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid", USER, "--regid", USER, groups, "--"])
        .arg(env!("CARGO_BIN_EXE_dockdoc"))
        .args(support::check_args(support::NO_BUS, docker_host))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", "/nonexistent")
        .env("USER", USER)
        .env("XDG_CONFIG_HOME", "/nonexistent");
    support::run(cmd)
}

#[test]
fn a_user_outside_the_socket_group_is_denied() {
    let Some(daemon) = support::private_dockerd(&Default::default()) else {
        return;
    };
    if !crate::common::prereq::ready(&[crate::common::prereq::Need::Group("docker")]) {
        return;
    }
    ensure_user();
    // The temp dir is 0700; the user must reach the socket to be refused by its mode.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(daemon.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let meta = std::fs::metadata(&daemon.socket).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);

    // Not in the group at all.
    let run = as_user("--init-groups", &daemon.uri());
    run.expect(&[
        ("docker-socket-permission-denied", "fail"),
        ("user-not-in-docker-group", "fail"),
        ("session-missing-docker-group", "pass"),
        ("docker-daemon-unreachable", "pass"),
    ]);

    let _member = InDockerGroup::add();
    // Listed in /etc/group, but this session started without the group.
    let run = as_user("--clear-groups", &daemon.uri());
    run.expect(&[
        ("docker-socket-permission-denied", "fail"),
        ("user-not-in-docker-group", "pass"),
        ("session-missing-docker-group", "fail"),
    ]);
    // A fresh login has it: the daemon answers.
    let run = as_user("--init-groups", &daemon.uri());
    run.expect(&[
        ("docker-socket-permission-denied", "pass"),
        ("user-not-in-docker-group", "pass"),
        ("session-missing-docker-group", "pass"),
        ("docker-daemon-unreachable", "pass"),
    ]);
}
