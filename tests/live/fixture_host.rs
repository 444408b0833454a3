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
