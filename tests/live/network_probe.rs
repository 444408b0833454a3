//! `dockdoc check --probe network` on a private dockerd with its default bridge (in a network
//! namespace of its own): it says what it will create, finds the bridge working, and leaves
//! no container or image behind. Without the flag it creates nothing.

use crate::dockerd::Options;
use crate::support;

fn listing(daemon: &crate::dockerd::PrivateDockerd, args: &[&str]) -> String {
    let out = daemon.docker(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_network_probe_starts_a_container_on_the_bridge_and_cleans_up() {
    let Some(daemon) = support::private_dockerd(&Options {
        bridge: true,
        ..Options::default()
    }) else {
        return;
    };
    let everything = |d: &crate::dockerd::PrivateDockerd| {
        (
            listing(d, &["ps", "-a", "--format", "{{.Names}}"]),
            listing(d, &["images", "-a", "--format", "{{.Repository}}:{{.Tag}}"]),
        )
    };
    assert_eq!(everything(&daemon), (String::new(), String::new()));

    // Without the flag: nothing is created and no probe result is reported.
    let run = support::dockdoc(
        support::NO_BUS,
        &daemon.uri(),
        &["--only", "docker-daemon-unreachable"],
    );
    assert!(
        run.json["host"].get("probe.network").is_none(),
        "{}",
        run.json["host"]
    );
    assert!(!run.stderr.contains("--probe network"), "{}", run.stderr);

    let run = support::dockdoc(
        support::NO_BUS,
        &daemon.uri(),
        &["--probe", "network", "--only", "docker-daemon-unreachable"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // The plan comes first, naming exactly what is created.
    let plan = run
        .stderr
        .find("import an image from an empty tarball, tagged dockdoc-probe:")
        .unwrap_or_else(|| panic!("{}", run.stderr));
    let result = run
        .stderr
        .find("dockdoc --probe network: ok")
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(plan < result, "{}", run.stderr);
    assert!(
        run.stderr.contains("create a container dockdoc-probe-"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.json["host"]["probe.network"],
        "ok: the daemon created a veth pair on the default bridge"
    );
    assert_eq!(everything(&daemon), (String::new(), String::new()));
}

#[test]
fn the_network_probe_is_inconclusive_without_a_bridge() {
    // A daemon without a bridge (--bridge=none) would start the container with no network at
    // all: the probe says it cannot tell, and creates nothing.
    let Some(daemon) = support::private_dockerd(&Options::default()) else {
        return;
    };
    let run = support::dockdoc(
        support::NO_BUS,
        &daemon.uri(),
        &["--probe", "network", "--only", "docker-daemon-unreachable"],
    );
    let result = run.json["host"]["probe.network"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        result.starts_with("inconclusive: inspect the default bridge network: HTTP 404"),
        "{result}\n{}",
        run.stderr
    );
    assert_eq!(listing(&daemon, &["ps", "-a", "-q"]), "");
    assert_eq!(listing(&daemon, &["images", "-a", "-q"]), "");
}
