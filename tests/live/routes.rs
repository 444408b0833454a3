//! Docker's bridge and a VPN's route in the real kernel's routing table: a network namespace of
//! the test's own (`unshare --net`) gets a bridge `docker0` holding 172.17.0.1/16, as dockerd
//! makes it, and a tun device `tun0` whose address puts a route where an OpenVPN client's would.
//! dockdoc reads that namespace's /proc/net/route.

use crate::common::prereq::{Kernel, Need, ready};
use crate::support;

/// `dockdoc check` of the one check in a fresh network namespace holding docker0 and a link
/// `tun0` with `tun_address` (CIDR).
fn judge(tun_address: &str) -> support::Run {
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["--net", "sh", "-c"])
        .arg(
            r#"set -e
ip link add docker0 type bridge
ip addr add 172.17.0.1/16 dev docker0
ip link set docker0 up
ip tuntap add dev tun0 mode tun
ip addr add "$1" dev tun0
ip link set tun0 up
shift
exec "$@""#,
        )
        .args(["sh", tun_address, env!("CARGO_BIN_EXE_dockdoc")])
        .args(support::check_args(
            support::NO_BUS,
            "unix:///nonexistent/docker.sock",
        ))
        .args(["--only", "docker-bridge-overlaps-host-network"])
        .env("XDG_CONFIG_HOME", "/nonexistent");
    support::run(cmd)
}

#[test]
fn a_vpn_route_around_docker0_is_seen_in_the_kernels_table() {
    if !ready(&[
        Need::Root,
        Need::Program("unshare"),
        Need::Program("ip"),
        Need::Kernel(Kernel::Tun),
    ]) {
        return;
    }
    let run = judge("172.16.0.1/12");
    run.expect(&[("docker-bridge-overlaps-host-network", "fail")]);
    assert_eq!(
        run.summary("docker-bridge-overlaps-host-network"),
        "172.17.0.0/16 (docker0) overlaps 172.16.0.0/12 (tun0)"
    );
    let run = judge("10.8.0.2/24");
    run.expect(&[("docker-bridge-overlaps-host-network", "pass")]);
}
