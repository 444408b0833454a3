//! The docker CLI's configuration directory on the real filesystem: a home owned by a plain
//! user (uid 65534), what a root build left in its ~/.docker, and dockdoc run as that user with
//! that HOME (`setpriv`), as the user's own shell would run it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::common::prereq::{Need, ready};
use crate::support;

const NOBODY: u32 = 65534;

/// `dockdoc check` of the one check, as uid 65534 with `home` as HOME.
fn judge(home: &Path) -> support::Run {
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "env",
        "-i",
        "PATH=/usr/bin:/bin",
    ])
    .arg(format!("HOME={}", home.display()))
    .arg("XDG_CONFIG_HOME=/nonexistent")
    .arg(env!("CARGO_BIN_EXE_dockdoc"))
    .args(support::check_args(support::NO_BUS, support::NO_DOCKER))
    .args(["--only", "docker-config-dir-not-owned"]);
    support::run(cmd)
}

fn make(path: &Path, dir: bool, uid: u32, mode: u32) {
    if dir {
        std::fs::create_dir_all(path).unwrap();
    } else {
        std::fs::write(path, "{}").unwrap();
    }
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A home owned by `home_owner` in a temp dir, holding uid 65534's own ~/.docker with a
/// config.json; the temp dir is dropped with the returned guard.
fn home_with_users_docker_dir(home_owner: u32, mode: u32) -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = work.path().join("home");
    make(&home, true, home_owner, mode);
    make(&home.join(".docker"), true, NOBODY, 0o700);
    make(&home.join(".docker/config.json"), false, NOBODY, 0o600);
    (work, home)
}

#[test]
fn what_a_root_build_left_in_a_users_docker_directory_is_named() {
    if !ready(&[Need::Root, Need::Program("setpriv")]) {
        return;
    }
    let (_work, home) = home_with_users_docker_dir(NOBODY, 0o700);
    let run = judge(&home);
    run.expect(&[("docker-config-dir-not-owned", "pass")]);

    // buildx under `sudo -E` (a release that leaves its files to root): buildx/ and
    // buildx/activity/default are root's, 0700 and 0600, so the user cannot even look inside.
    make(&home.join(".docker/buildx"), true, 0, 0o700);
    make(&home.join(".docker/buildx/activity"), true, 0, 0o700);
    make(
        &home.join(".docker/buildx/activity/default"),
        false,
        0,
        0o600,
    );
    let run = judge(&home);
    run.expect(&[("docker-config-dir-not-owned", "fail")]);
    let docker = home.join(".docker");
    assert_eq!(
        run.summary("docker-config-dir-not-owned"),
        format!(
            "nobody cannot use these in {}: {}/buildx (owner root)",
            docker.display(),
            docker.display()
        )
    );
}

#[test]
fn a_home_root_owns_holding_the_users_own_docker_directory_passes() {
    // A home made without -m, or an sshd ChrootDirectory: the home is root's, ~/.docker the
    // user's. Nothing is wrong for the user.
    if !ready(&[Need::Root, Need::Program("setpriv")]) {
        return;
    }
    let (_work, home) = home_with_users_docker_dir(0, 0o755);
    judge(&home).expect(&[("docker-config-dir-not-owned", "pass")]);
}
