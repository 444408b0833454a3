//! A real daemon judged on a fixture host: the daemon's answers come from a private dockerd
//! (`--docker-host`), the host's files from a fixture root (`--root`). The checks that need a
//! running daemon and a host file (ip_forward, docker0, the storage driver, a stale daemon) are
//! proven here without a hand-written fact.

use std::path::Path;

use crate::support;

/// `dockdoc check --root ROOT --docker-host URI` with no system bus.
fn judge(root: &Path, docker_host: &str) -> support::Run {
    let mut cmd = crate::common::bin();
    cmd.args(support::check_args(support::NO_BUS, docker_host))
        .arg("--root")
        .arg(root);
    support::run(cmd)
}

/// Like `judge`, with a tmpfs of `size` mounted (in a mount namespace of dockdoc's own) on the
/// root's /tmp, where the private dockerd's data root (/tmp/dd…/data) has its nearest existing
/// ancestor: the free space dockdoc measures is that tmpfs's.
fn judge_on_tmpfs(root: &Path, docker_host: &str, size: &str) -> support::Run {
    let tmp = root.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    crate::common::evidence::register_real(
        &format!("{}#statvfs", root.display()),
        "tmpfs mounted for the test",
    );
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount -t tmpfs -o size="$1" dockdoc-test "$2" && shift 2 && exec "$@""#)
        .args(["sh", size])
        .arg(&tmp)
        .arg(env!("CARGO_BIN_EXE_dockdoc"))
        .args(support::check_args(support::NO_BUS, docker_host))
        .arg("--root")
        .arg(root)
        .env("XDG_CONFIG_HOME", "/nonexistent");
    support::run(cmd)
}

#[test]
fn a_data_root_on_a_small_and_a_large_filesystem() {
    let Some(daemon) = support::private_dockerd(&Default::default()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    for (size, status) in [("64m", "fail"), ("100g", "pass")] {
        let root = work.path().join(size);
        crate::common::copy_tree(&crate::common::sysroot("healthy-docker-host"), &root);
        // A tmpfs's size is a limit, not an allocation: 100g needs no memory.
        let run = judge_on_tmpfs(&root, &daemon.uri(), size);
        run.expect(&[("docker-data-root-low-space", status)]);
    }
}

#[test]
fn a_daemon_on_overlay2_is_not_on_vfs() {
    let Some(daemon) = support::private_dockerd(&crate::dockerd::Options {
        storage_driver: Some("overlay2".into()),
        ..Default::default()
    }) else {
        return;
    };
    let run = judge(
        &crate::common::sysroot("healthy-docker-host"),
        &daemon.uri(),
    );
    run.expect(&[("storage-driver-vfs", "pass")]);
    let driver = run.evidence("storage-driver-vfs", "docker.storage_driver");
    assert_eq!(driver["value"], "overlay2", "{driver}");
}

#[test]
fn a_real_daemon_on_healthy_and_troubled_fixture_hosts() {
    let Some(daemon) = support::private_dockerd(&Default::default()) else {
        return;
    };
    let healthy = crate::common::sysroot("healthy-docker-host");
    let run = judge(&healthy, &daemon.uri());
    run.expect(&[
        ("ip-forwarding-disabled", "pass"),
        ("docker0-bridge-missing", "pass"),
        // The private dockerd runs --storage-driver=vfs.
        ("storage-driver-vfs", "fail"),
        // It is Debian's dockerd 20.10; the fixture's pacman database has docker 1:27.3.1-1.
        ("docker-daemon-stale", "fail"),
    ]);

    // The same host after a sysctl.d file turned forwarding off and before docker0 came back.
    let work = tempfile::tempdir().unwrap();
    let troubled = work.path().join("root");
    crate::common::copy_tree(&healthy, &troubled);
    std::fs::write(troubled.join("proc/sys/net/ipv4/ip_forward"), "0\n").unwrap();
    std::fs::remove_dir_all(troubled.join("sys/class/net/docker0")).unwrap();
    let run = judge(&troubled, &daemon.uri());
    run.expect(&[
        ("ip-forwarding-disabled", "fail"),
        ("docker0-bridge-missing", "fail"),
    ]);
}
