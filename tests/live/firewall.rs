//! docker-iptables-chains-missing against a real dockerd 20.10 with iptables on, in a network
//! namespace of its own (`unshare --net`): its chains are in that namespace's ruleset (pass);
//! `nft flush ruleset` in that namespace, as a firewall reload that replaces the whole ruleset
//! does, removes them under the running daemon (fail). dockdoc runs in the same namespace
//! (`ip netns exec`, the namespace named for the test with `ip netns attach`), with the host's
//! files from the healthy fixture root (`--root`, no bus: Arch's units from disk, a daemon.json
//! that leaves iptables on, the nft backend). The host's ruleset is never touched.

use std::process::Command;

use crate::common::prereq::{self, Need};
use crate::dockerd::{self, Options};
use crate::support;

/// The daemon's network namespace, named for the test (`ip netns attach`) while it lives.
struct Netns(String);

impl Netns {
    fn attach(pid: u32) -> Netns {
        let name = format!("dockdoc-fw-{pid}");
        let status = Command::new("ip")
            .args(["netns", "attach", &name, &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "ip netns attach {name} {pid}");
        Netns(name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Removes the name only; the namespace lives on with the daemon until it stops.
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.0])
            .status();
    }
}

/// `dockdoc check` inside the daemon's network namespace, with the files of `root` and no bus.
fn judge(ns: &Netns, root: &std::path::Path, uri: &str) -> support::Run {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &ns.0])
        .arg(env!("CARGO_BIN_EXE_dockdoc"))
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .args([
            "check",
            "--profile",
            "all",
            "--format",
            "json",
            "--docker-host",
            uri,
        ])
        .arg("--root")
        .arg(root);
    support::run(cmd)
}

/// `nft ARGS` inside the daemon's network namespace.
fn nft(ns: &Netns, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0, "nft"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nft {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_flushed_ruleset_takes_the_daemons_chains_away() {
    let needs = [
        dockerd::PRIVATE,
        &[Need::Program("ip"), Need::Program("nft")],
    ]
    .concat();
    if !prereq::ready(&needs) {
        return;
    }
    let Some(daemon) = support::private_dockerd(&Options {
        bridge: true,
        iptables: true,
        ..Options::default()
    }) else {
        return;
    };
    let root = crate::common::sysroot("healthy-docker-host");
    let ns = Netns::attach(daemon.pid());

    let chains = nft(&ns, &["list", "chains"]);
    assert!(chains.contains("chain DOCKER-USER"), "{chains}");
    let run = judge(&ns, &root, &daemon.uri());
    run.expect(&[("docker-iptables-chains-missing", "pass")]);

    nft(&ns, &["flush", "ruleset"]);
    let run = judge(&ns, &root, &daemon.uri());
    run.expect(&[("docker-iptables-chains-missing", "fail")]);
    assert_eq!(
        run.evidence(
            "docker-iptables-chains-missing",
            "netfilter.docker_chains_missing"
        )["value"],
        serde_json::json!(["ip filter DOCKER", "ip filter DOCKER-USER", "ip nat DOCKER"])
    );
}
