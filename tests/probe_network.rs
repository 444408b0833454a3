//! The network facts: nftables.service and its ruleset files, the default route's interface and
//! its forwarding sysctl, the systemd-networkd file of that link, and the resolv.conf the Docker
//! daemon copies into containers, read from the fixture trees and from small trees built here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use common::{copy_tree, sysroot};

use std::path::Path;
use std::time::Duration;

use dockdoc::facts::network::{
    bridge_overlaps, default_route_interface, glob_match, is_docker_bridge, nameservers,
    network_matches, nft_statements, routes,
};
use dockdoc::facts::{Context, Endpoints, Env, Fact, Facts, Sysroot, Value, network};

fn gather(root: &Path) -> Facts {
    let ctx = Context::new(
        Sysroot::new(root),
        Endpoints::default(),
        Env::default(),
        Duration::from_secs(3),
    );
    let mut facts = Facts::default();
    network::gather(&ctx, &mut facts);
    facts
}

fn write(root: &Path, inside: &str, text: &str) {
    let path = root.join(inside.trim_start_matches('/'));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn text(facts: &Facts, key: &str) -> Option<String> {
    facts.text(key).map(str::to_owned)
}

fn unknown_reason(facts: &Facts, key: &str) -> String {
    match facts.get(key) {
        Fact::Unknown { reason } => reason,
        other => panic!("{key} is {other:?}, not unknown"),
    }
}

/// A copy of healthy-docker-host to change one file in.
fn healthy_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&sysroot("healthy-docker-host"), dir.path());
    dir
}

/// /proc/net/route as the kernel writes it: tab-separated, each line padded to 127 characters.
fn route_table(rows: &[&str]) -> String {
    let mut out = format!(
        "{:<127}\n",
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"
    );
    for row in rows {
        out.push_str(&format!("{row:<127}\n"));
    }
    out
}

#[test]
fn healthy_host_passes_every_network_fact() {
    let facts = gather(&sysroot("healthy-docker-host"));
    assert_eq!(facts.bool("network.nftables_enabled"), Some(true));
    assert_eq!(
        facts.value("network.nftables_flush_ruleset"),
        Some(&Value::Null)
    );
    assert_eq!(
        text(&facts, "network.uplink_interface").as_deref(),
        Some("enp3s0")
    );
    assert_eq!(facts.bool("network.uplink_forwarding"), Some(true));
    assert_eq!(
        text(&facts, "network.uplink_network_file").as_deref(),
        Some("/etc/systemd/network/20-wired.network")
    );
    // /etc/resolv.conf is the stub's link, so the daemon reads systemd-resolved's uplink file.
    assert_eq!(
        text(&facts, "network.resolv_conf").as_deref(),
        Some("/run/systemd/resolve/resolv.conf")
    );
    assert_eq!(
        facts.list("network.nameservers").unwrap(),
        ["192.168.1.1".to_owned()]
    );
    assert_eq!(facts.bool("network.nameservers_loopback_only"), Some(false));
}

#[test]
fn firewall_dns_trouble_fails_every_network_fact() {
    let facts = gather(&sysroot("firewall-dns-trouble"));
    assert_eq!(
        text(&facts, "network.nftables_flush_ruleset").as_deref(),
        Some("/etc/nftables.conf:2")
    );
    assert_eq!(facts.bool("network.uplink_forwarding"), Some(false));
    assert_eq!(
        text(&facts, "network.resolv_conf").as_deref(),
        Some("/etc/resolv.conf")
    );
    assert_eq!(
        facts.list("network.nameservers").unwrap(),
        ["::1".to_owned(), "127.0.0.1".to_owned()]
    );
    assert_eq!(facts.bool("network.nameservers_loopback_only"), Some(true));
    // systemd 257.5-1 is in its pacman database (healthy-docker-host has 256.7-1).
    assert_eq!(
        text(&facts, "network.uplink_forwarding_setting").as_deref(),
        Some("IPv4Forwarding=yes")
    );
    assert_eq!(
        text(
            &gather(&sysroot("healthy-docker-host")),
            "network.uplink_forwarding_setting"
        )
        .as_deref(),
        Some("IPv4Forwarding=yes")
    );
}

#[test]
fn flush_ruleset_is_found_through_includes_with_its_line() {
    let dir = healthy_copy();
    let root = dir.path();
    write(
        root,
        "/etc/nftables.conf",
        "#!/usr/bin/nft -f\n# flush ruleset (a comment does not count)\ntable inet filter {\n}\ninclude \"/etc/nftables.d/*.nft\"\n",
    );
    write(root, "/etc/nftables.d/10-ssh.nft", "table inet ssh {\n}\n");
    // A bare name is looked up in nft's include path, /usr/share on Arch.
    write(
        root,
        "/etc/nftables.d/20-base.nft",
        "include \"nftables/base.rules\"\n",
    );
    write(
        root,
        "/usr/share/nftables/base.rules",
        "include \"./etc/nft/more.rules\"\n",
    );
    // `./` and `../` start from nftables.service's working directory, /.
    write(
        root,
        "/etc/nft/more.rules",
        "define lan = 192.168.1.0/24\n\n  flush   ruleset\n",
    );
    // A directory matched by the glob is skipped, as nft skips it.
    std::fs::create_dir_all(root.join("etc/nftables.d/30-dir.nft")).unwrap();
    let facts = gather(root);
    assert_eq!(
        text(&facts, "network.nftables_flush_ruleset").as_deref(),
        Some("/etc/nft/more.rules:3")
    );
}

#[test]
fn includes_that_loop_or_match_nothing_end_cleanly() {
    let dir = healthy_copy();
    let root = dir.path();
    write(
        root,
        "/etc/nftables.conf",
        "include \"/etc/nftables.conf\"\ninclude \"/etc/none.d/*.nft\"\ntable inet filter { }\n",
    );
    let facts = gather(root);
    assert_eq!(
        facts.value("network.nftables_flush_ruleset"),
        Some(&Value::Null)
    );
}

#[test]
fn a_missing_included_file_is_unknown_naming_the_include() {
    let dir = healthy_copy();
    let root = dir.path();
    write(
        root,
        "/etc/nftables.conf",
        "table inet filter { }\ninclude \"/etc/nft/gone.rules\"\n",
    );
    let reason = unknown_reason(&gather(root), "network.nftables_flush_ruleset");
    assert!(reason.contains("/etc/nft/gone.rules"), "{reason}");
    assert!(
        reason.contains("included from /etc/nftables.conf:2"),
        "{reason}"
    );
}

#[test]
fn nftables_without_the_wants_link_is_not_enabled() {
    let dir = healthy_copy();
    let root = dir.path();
    std::fs::remove_dir_all(root.join("etc/systemd/system")).unwrap();
    assert_eq!(gather(root).bool("network.nftables_enabled"), Some(false));
}

#[test]
fn the_default_route_with_the_lowest_metric_wins() {
    let table = route_table(&[
        "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0",
        "enp3s0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0",
        // Down (no RTF_UP): not a route the kernel uses.
        "wg0\t00000000\t00000000\t0000\t0\t0\t0\t00000000\t0\t0\t0",
        "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
    ]);
    assert_eq!(
        default_route_interface(&table),
        Ok(Some("enp3s0".to_owned()))
    );
    let no_default =
        route_table(&["docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0"]);
    assert_eq!(default_route_interface(&no_default), Ok(None));
}

/// The kernel prints each address as the native integer of its network-order bytes; these rows
/// are what a little-endian machine prints, so the test says so.
fn little_endian() -> bool {
    cfg!(target_endian = "little")
}

#[test]
fn routes_read_as_addresses_and_prefixes() {
    assert!(
        little_endian(),
        "the rows below are a little-endian kernel's"
    );
    let table = route_table(&[
        "enp3s0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0",
        "tun0\t000010AC\t00000000\t0001\t0\t0\t0\t0000F0FF\t0\t0\t0",
    ]);
    let cidrs: Vec<String> = routes(&table).unwrap().iter().map(|r| r.cidr()).collect();
    assert_eq!(cidrs, ["192.168.1.0/24", "172.16.0.0/12"]);
}

#[test]
fn a_docker_bridge_overlapping_a_vpn_or_holding_a_nameserver_is_named() {
    assert!(
        little_endian(),
        "the rows below are a little-endian kernel's"
    );
    let docker0 = "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0";
    let lan = "enp3s0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0";
    let default = "enp3s0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0";
    let ns = |a: &str| vec![a.parse().unwrap()];
    // Apart: nothing, and the default route (which holds every subnet) is not an overlap.
    let apart = routes(&route_table(&[default, lan, docker0])).unwrap();
    assert_eq!(
        bridge_overlaps(&apart, &ns("192.168.1.1")),
        Vec::<String>::new()
    );
    // A VPN's wider route around docker0's, and a narrower one inside a compose network's.
    let vpn = routes(&route_table(&[
        default,
        docker0,
        "tun0\t000010AC\t00000000\t0001\t0\t0\t0\t0000F0FF\t0\t0\t0",
        "br-3f2a1b4c5d6e\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
        "wg0\t000512AC\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
    ]))
    .unwrap();
    assert_eq!(
        bridge_overlaps(&vpn, &[]),
        [
            "172.17.0.0/16 (docker0) overlaps 172.16.0.0/12 (tun0)",
            "172.18.0.0/16 (br-3f2a1b4c5d6e) overlaps 172.16.0.0/12 (tun0)",
            "172.18.0.0/16 (br-3f2a1b4c5d6e) overlaps 172.18.5.0/24 (wg0)",
        ]
    );
    // A nameserver inside docker0's subnet (a cloud VPC on 172.17.0.0/16).
    let here = routes(&route_table(&[default, docker0])).unwrap();
    assert_eq!(
        bridge_overlaps(&here, &ns("172.17.0.2")),
        ["172.17.0.0/16 (docker0) holds the nameserver 172.17.0.2"]
    );
    // A full tunnel's halves (OpenVPN's def1) hold every subnet, as the default route does; a
    // blackhole route has no interface, an unreachable one rejects: none is another network.
    let tunnel = routes(&route_table(&[
        docker0,
        "tun0\t00000000\t0100080A\t0003\t0\t0\t0\t00000080\t0\t0\t0",
        "tun0\t00000080\t0100080A\t0003\t0\t0\t0\t00000080\t0\t0\t0",
        "*\t000010AC\t00000000\t0001\t0\t0\t0\t0000F0FF\t0\t0\t0",
        "*\t0000000A\t00000000\t0201\t0\t0\t0\t000000FF\t0\t0\t0",
    ]))
    .unwrap();
    assert_eq!(
        tunnel.iter().map(|r| r.cidr()).collect::<Vec<_>>(),
        [
            "172.17.0.0/16",
            "0.0.0.0/1",
            "128.0.0.0/1",
            "172.16.0.0/12",
            "10.0.0.0/8"
        ]
    );
    assert!(bridge_overlaps(&tunnel, &[]).is_empty());
    // A route that is down is not one the kernel uses.
    let down = routes(&route_table(&[
        docker0,
        "tun0\t000010AC\t00000000\t0000\t0\t0\t0\t0000F0FF\t0\t0\t0",
    ]))
    .unwrap();
    assert!(bridge_overlaps(&down, &[]).is_empty());
}

#[test]
fn dockers_bridges_are_docker0_and_br_with_a_network_id() {
    assert!(is_docker_bridge("docker0"));
    assert!(is_docker_bridge("br-3f2a1b4c5d6e"));
    assert!(!is_docker_bridge("br-lan"));
    assert!(!is_docker_bridge("br0"));
    assert!(!is_docker_bridge("virbr0"));
}

#[test]
fn garbage_route_tables_are_errors_naming_the_line() {
    assert_eq!(
        default_route_interface("").unwrap_err(),
        "/proc/net/route:1: not the route table's header line"
    );
    let bad = route_table(&["enp3s0\tnothex\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0"]);
    let err = default_route_interface(&bad).unwrap_err();
    assert!(
        err.starts_with("/proc/net/route:2: `nothex` is not hex"),
        "{err}"
    );
    let short = route_table(&["enp3s0\t00000000"]);
    assert_eq!(
        default_route_interface(&short).unwrap_err(),
        "/proc/net/route:2: fewer than 8 fields"
    );
}

#[test]
fn a_garbage_route_table_makes_the_uplink_facts_unknown() {
    let dir = healthy_copy();
    let root = dir.path();
    write(root, "/proc/net/route", "\u{0}\u{1}binary junk\n");
    let facts = gather(root);
    for key in [
        "network.uplink_interface",
        "network.uplink_forwarding",
        "network.uplink_network_file",
    ] {
        assert!(
            unknown_reason(&facts, key).contains("/proc/net/route:1"),
            "{key}"
        );
    }
}

#[test]
fn no_default_route_leaves_nothing_to_judge() {
    let dir = healthy_copy();
    let root = dir.path();
    write(
        root,
        "/proc/net/route",
        &route_table(&["docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0"]),
    );
    let facts = gather(root);
    assert_eq!(facts.value("network.uplink_interface"), Some(&Value::Null));
    assert_eq!(facts.value("network.uplink_forwarding"), Some(&Value::Null));
}

#[test]
fn a_forwarding_file_with_junk_is_unknown() {
    let dir = healthy_copy();
    let root = dir.path();
    write(root, "/proc/sys/net/ipv4/conf/enp3s0/forwarding", "yes\n");
    let reason = unknown_reason(&gather(root), "network.uplink_forwarding");
    assert!(
        reason.starts_with("/proc/sys/net/ipv4/conf/enp3s0/forwarding: `yes`"),
        "{reason}"
    );
}

#[test]
fn the_network_file_is_chosen_as_networkd_chooses_it() {
    let dir = healthy_copy();
    let root = dir.path();
    // Sorted by file name across the directories: 10-other does not match, 15-usr matches but
    // is hidden by an /etc file of the same name that is masked (a link to /dev/null), so the
    // next match, 20-wired.network in /etc, is the one networkd applies.
    write(
        root,
        "/usr/lib/systemd/network/10-other.network",
        "[Match]\nName=wl*\n",
    );
    write(
        root,
        "/usr/lib/systemd/network/15-usr.network",
        "[Match]\nName=en*\n",
    );
    std::os::unix::fs::symlink("/dev/null", root.join("etc/systemd/network/15-usr.network"))
        .unwrap();
    write(
        root,
        "/run/systemd/network/99-default.network",
        "[Match]\nName=*\n",
    );
    assert_eq!(
        text(&gather(root), "network.uplink_network_file").as_deref(),
        Some("/etc/systemd/network/20-wired.network")
    );
    // Without the /etc files, /run's catch-all is what is left.
    std::fs::remove_dir_all(root.join("etc/systemd/network")).unwrap();
    assert_eq!(
        text(&gather(root), "network.uplink_network_file").as_deref(),
        Some("/usr/lib/systemd/network/15-usr.network")
    );
}

#[test]
fn match_sections() {
    assert!(network_matches("[Match]\nName=enp3s0\n", "enp3s0", None));
    assert!(network_matches(
        "[Match]\nName=eth* en*\n[Network]\nDHCP=yes\n",
        "enp3s0",
        None
    ));
    assert!(!network_matches("[Match]\nName=!en*\n", "enp3s0", None));
    assert!(network_matches(
        "[Match]\nMACAddress=52:54:00:12:34:56\n",
        "enp3s0",
        Some("52:54:00:12:34:56")
    ));
    assert!(!network_matches(
        "[Match]\nMACAddress=52:54:00:12:34:57\n",
        "enp3s0",
        Some("52:54:00:12:34:56")
    ));
    // No [Match] at all matches every link; Name= outside [Match] is not a match key.
    assert!(network_matches("[Network]\nName=wlan0\n", "enp3s0", None));
    assert!(glob_match("en?3s0", "enp3s0"));
}

#[test]
fn nameservers_parse_as_the_daemon_reads_them() {
    let ns = nameservers(
        "# Generated by NetworkManager\nsearch lan\nnameserver 127.0.0.1\nnameserver fe80::1%enp3s0\nnameserver not-an-address\n nameserver 10.0.0.1 # trailing\n",
    );
    let shown: Vec<String> = ns.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["127.0.0.1", "fe80::1", "10.0.0.1"]);
}

#[test]
fn the_resolved_stub_is_replaced_and_an_absent_uplink_file_is_unknown() {
    let dir = healthy_copy();
    let root = dir.path();
    std::fs::remove_file(root.join("run/systemd/resolve/resolv.conf")).unwrap();
    let reason = unknown_reason(&gather(root), "network.nameservers_loopback_only");
    assert!(
        reason.contains("/run/systemd/resolve/resolv.conf, which the Docker daemon reads instead, does not exist"),
        "{reason}"
    );
}

#[test]
fn a_stub_beside_another_nameserver_is_not_replaced() {
    // The daemon swaps files only when 127.0.0.53 is the only nameserver.
    let dir = healthy_copy();
    let root = dir.path();
    std::fs::remove_file(root.join("etc/resolv.conf")).unwrap();
    write(
        root,
        "/etc/resolv.conf",
        "nameserver 127.0.0.53\nnameserver 127.0.0.1\n",
    );
    let facts = gather(root);
    assert_eq!(
        text(&facts, "network.resolv_conf").as_deref(),
        Some("/etc/resolv.conf")
    );
    assert_eq!(facts.bool("network.nameservers_loopback_only"), Some(true));
}

#[test]
fn no_resolv_conf_is_no_loopback_verdict() {
    let dir = healthy_copy();
    let root = dir.path();
    std::fs::remove_file(root.join("etc/resolv.conf")).unwrap();
    let facts = gather(root);
    assert_eq!(
        facts.list("network.nameservers").unwrap(),
        [] as [String; 0]
    );
    assert_eq!(facts.bool("network.nameservers_loopback_only"), Some(false));
}

#[test]
fn nft_statements_of_garbage_do_not_panic() {
    for junk in [
        "\"unterminated",
        "\\",
        "{{{{;;;}}}}",
        "flush",
        "include",
        "include \"\"",
        "\u{0}\u{ffff}#\n\\\n",
    ] {
        let _ = nft_statements(junk);
    }
    let dir = healthy_copy();
    let root = dir.path();
    write(root, "/etc/nftables.conf", "include \"\"\ninclude \"/\"\n");
    // An include of a directory is unreadable: unknown, never a panic.
    assert!(matches!(
        gather(root).get("network.nftables_flush_ruleset"),
        Fact::Unknown { .. }
    ));
}

#[test]
fn legacy_tables_and_pacsave_files_are_read_from_the_leftovers_fixture() {
    let facts = gather(&sysroot("iptables-legacy-leftovers"));
    assert_eq!(
        facts.list("network.iptables_legacy_tables").unwrap(),
        ["ip nat".to_owned(), "ip filter".to_owned()]
    );
    assert_eq!(
        facts.list("network.iptables_pacsave_files").unwrap(),
        ["/etc/iptables/iptables.rules.pacsave".to_owned()]
    );
    let healthy = gather(&sysroot("healthy-docker-host"));
    assert_eq!(
        healthy.list("network.iptables_legacy_tables").unwrap(),
        [] as [String; 0]
    );
    assert_eq!(
        healthy.list("network.iptables_pacsave_files").unwrap(),
        [] as [String; 0]
    );
}

#[test]
fn a_junk_table_name_is_unknown_with_its_line() {
    let dir = healthy_copy();
    let root = dir.path();
    write(
        root,
        "/proc/net/ip6_tables_names",
        "filter\nno such/table\n",
    );
    let reason = unknown_reason(&gather(root), "network.iptables_legacy_tables");
    assert_eq!(
        reason,
        "/proc/net/ip6_tables_names:2: `no such/table` is not a table name"
    );
}

/// `network.iptables_both_backends` from the backend, the module verdict and the legacy tables.
#[test]
fn both_backends_is_derived_from_the_backend_the_modules_and_the_tables() {
    let tables = |t: &[&str]| Fact::known(t.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
    let cases: &[(Fact, Fact, Fact, Option<bool>)] = &[
        // nft with legacy tables loaded, even when no legacy module shows in /proc/modules.
        (
            Fact::known("nft"),
            Fact::known(false),
            tables(&["ip nat"]),
            Some(true),
        ),
        (
            Fact::known("nft"),
            Fact::known(false),
            tables(&[]),
            Some(false),
        ),
        (
            Fact::known("nft"),
            Fact::known(true),
            tables(&[]),
            Some(true),
        ),
        (
            Fact::known("legacy"),
            Fact::known(false),
            tables(&["ip nat"]),
            Some(false),
        ),
        (
            Fact::known("legacy"),
            Fact::known(true),
            tables(&["ip nat"]),
            Some(true),
        ),
        (
            Fact::known(Value::Null),
            Fact::known(false),
            tables(&[]),
            Some(false),
        ),
        (Fact::unknown("x"), Fact::known(false), tables(&[]), None),
        (
            Fact::known("nft"),
            Fact::known(false),
            Fact::unknown("junk"),
            None,
        ),
    ];
    for (backend, modules, legacy, want) in cases {
        let mut facts = Facts::default();
        facts.set("kernel.iptables_backend", backend.clone());
        facts.set("kernel.iptables_backend_mismatch", modules.clone());
        facts.set("network.iptables_legacy_tables", legacy.clone());
        network::derive(&mut facts);
        assert_eq!(
            facts.bool("network.iptables_both_backends"),
            *want,
            "{backend:?} {modules:?} {legacy:?}"
        );
    }
}

/// Why /etc/resolv.conf gives the daemon no nameserver, each case on a copy of the healthy host
/// (whose /etc/resolv.conf is Arch's link to systemd-resolved's stub file).
#[test]
fn an_unusable_resolv_conf_is_told_missing_dangling_or_empty() {
    let said = |root: &Path| gather(root).get("network.resolv_conf_unusable");
    // The stub file is there: usable.
    let dir = healthy_copy();
    assert_eq!(said(dir.path()), Fact::known(Value::Null));
    // resolved stopped: its /run files are gone and the link dangles, resolved inside the root
    // (the link is relative, `../run/systemd/resolve/stub-resolv.conf`).
    std::fs::remove_dir_all(dir.path().join("run/systemd/resolve")).unwrap();
    assert_eq!(
        said(dir.path()),
        Fact::known(
            "/etc/resolv.conf is a link to /run/systemd/resolve/stub-resolv.conf, which does not exist"
        )
    );
    // An absolute link is followed inside the root too, never to this machine's /run.
    std::fs::remove_file(dir.path().join("etc/resolv.conf")).unwrap();
    std::os::unix::fs::symlink(
        "/run/dockdoc-test-absent/resolv.conf",
        dir.path().join("etc/resolv.conf"),
    )
    .unwrap();
    assert_eq!(
        said(dir.path()),
        Fact::known(
            "/etc/resolv.conf is a link to /run/dockdoc-test-absent/resolv.conf, which does not exist"
        )
    );
    // Deleted.
    std::fs::remove_file(dir.path().join("etc/resolv.conf")).unwrap();
    assert_eq!(
        said(dir.path()),
        Fact::known("/etc/resolv.conf does not exist")
    );
    // A file without a nameserver line (a DHCP client that has not written it yet).
    write(
        dir.path(),
        "/etc/resolv.conf",
        "# Generated by NetworkManager\nsearch lan\n",
    );
    assert_eq!(
        said(dir.path()),
        Fact::known("/etc/resolv.conf lists no nameserver address")
    );
}
