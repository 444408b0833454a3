//! The OS and kernel probes against the fixture sysroots, and against copies of them changed
//! to show one more state (a pacman database, garbage in /proc, another iptables backend).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dockdoc::facts::{Context, Endpoints, Env, Fact, Facts, Sysroot, Value, kernel, os};

fn fixture(scenario: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sysroots")
        .join(scenario)
}

fn gather_at(root: &Path) -> Facts {
    let ctx = Context::new(
        Sysroot::new(root),
        Endpoints::default(),
        Env::from_pairs([("HOME", "/home/alice"), ("USER", "alice")]),
        Duration::from_secs(3),
    );
    let mut facts = Facts::default();
    os::gather(&ctx, &mut facts);
    kernel::gather(&ctx, &mut facts);
    kernel::derive(&mut facts);
    facts
}

fn gather(scenario: &str) -> Facts {
    gather_at(&fixture(scenario))
}

/// A copy of a scenario (symlinks kept as symlinks) that a test may change.
fn copy_of(scenario: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(scenario), dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let target = to.join(entry.file_name());
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn write(root: &Path, inside: &str, content: &[u8]) {
    let path = root.join(inside);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

/// A pacman local-db entry as pacman writes it: `files` with a %FILES% section.
fn pacman_entry(root: &Path, name: &str, release: &str) {
    let files = format!(
        "%FILES%\nusr/\nusr/lib/\nusr/lib/modules/\nusr/lib/modules/{release}/\nusr/lib/modules/{release}/kernel/\nusr/lib/modules/{release}/modules.dep\nusr/lib/modules/{release}/pkgbase\nusr/lib/modules/{release}/vmlinuz\n\n"
    );
    let dir = format!("var/lib/pacman/local/{name}");
    let _ = fs::remove_dir_all(root.join("var/lib/pacman/local"));
    write(root, &format!("{dir}/files"), files.as_bytes());
    write(
        root,
        &format!("{dir}/desc"),
        b"%NAME%\nlinux\n\n%VERSION%\nx\n\n",
    );
}

fn list(items: &[&str]) -> Fact {
    Fact::known(Value::List(items.iter().map(|s| (*s).to_owned()).collect()))
}

fn text(s: &str) -> Fact {
    Fact::known(s)
}

fn null() -> Fact {
    Fact::known(Value::Null)
}

fn known(b: bool) -> Fact {
    Fact::known(b)
}

fn unknown_naming(facts: &Facts, key: &str, file: &str) {
    match facts.get(key) {
        Fact::Unknown { reason } => assert!(
            reason.contains(file),
            "{key}: the reason should name {file}: {reason}"
        ),
        other => panic!("{key} should be unknown (naming {file}), is {other:?}"),
    }
}

const DOCKER_MODULES: &[&str] = &[
    "veth",
    "bridge",
    "br_netfilter",
    "overlay",
    "nf_nat",
    "nf_tables",
];

#[test]
fn healthy_host() {
    let f = gather("healthy-docker-host");
    assert_eq!(f.get("os.id"), text("arch"));
    assert_eq!(f.get("os.id_like"), list(&[]));
    assert_eq!(f.get("os.pretty_name"), text("Arch Linux"));
    assert_eq!(f.get("os.arch_based"), known(true));
    assert_eq!(f.get("os.in_container"), known(false));
    assert_eq!(f.get("os.wsl"), known(false));
    assert_eq!(f.get("os.systemd_booted"), known(true));

    assert_eq!(f.get("kernel.running_release"), text("6.10.5-arch1-1"));
    assert_eq!(f.get("kernel.running_pkgbase"), text("linux"));
    assert_eq!(
        f.get("kernel.installed_releases"),
        list(&["6.10.5-arch1-1"])
    );
    assert_eq!(f.get("kernel.running_modules_present"), known(true));
    assert_eq!(f.get("kernel.pending_release"), null());
    assert_eq!(f.get("kernel.module_support"), known(true));
    let loaded = f.list("kernel.modules_loaded").unwrap();
    assert_eq!(loaded.len(), 25);
    for m in DOCKER_MODULES {
        assert!(loaded.iter().any(|l| l == m), "{m} should be loaded");
    }
    assert_eq!(f.get("kernel.required_modules"), list(DOCKER_MODULES));
    assert_eq!(f.get("kernel.modules_unavailable"), list(&[]));
    assert_eq!(f.get("kernel.config_source"), text("/proc/config.gz"));
    assert_eq!(f.get("kernel.config_missing_features"), list(&[]));
    assert_eq!(f.get("kernel.config_complete"), known(true));
    assert_eq!(f.get("kernel.ip_forward"), known(true));
    assert_eq!(f.get("kernel.cgroup_version"), Fact::known(2i64));
    assert_eq!(f.get("kernel.iptables_backend"), text("nft"));
    assert_eq!(f.get("kernel.iptables_backend_mismatch"), known(false));
    assert!(
        f.text("kernel.cmdline")
            .unwrap()
            .starts_with("BOOT_IMAGE=/vmlinuz-linux root=UUID=")
    );
}

#[test]
fn every_scenario_gives_every_key_without_a_probe_bug() {
    for scenario in fs::read_dir(fixture("")).unwrap() {
        let path = scenario.unwrap().path();
        if !path.is_dir() {
            continue;
        }
        let f = gather_at(&path);
        for spec in os::SCHEMA.iter().chain(kernel::SCHEMA) {
            let fact = f.facts.get(spec.key);
            assert!(fact.is_some(), "{}: {} not set", path.display(), spec.key);
        }
        // Only ownership (no pacman database in these trees) may be unknown.
        for (key, fact) in &f.facts {
            if key != "kernel.running_modules_owned" {
                assert!(
                    matches!(fact, Fact::Known { .. }),
                    "{}: {key} is {fact:?}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn kernel_upgraded_without_reboot_loses_the_lazy_modules() {
    let f = gather("kernel-upgraded-no-reboot");
    assert_eq!(f.get("kernel.running_release"), text("6.10.5-arch1-1"));
    assert_eq!(
        f.get("kernel.installed_releases"),
        list(&["6.11.2-arch1-1"])
    );
    assert_eq!(f.get("kernel.running_pkgbase"), text("linux"));
    assert_eq!(f.get("kernel.running_modules_present"), known(false));
    assert_eq!(f.get("kernel.running_modules_owned"), known(false));
    assert_eq!(f.get("kernel.pending_release"), text("6.11.2-arch1-1"));
    assert_eq!(f.get("kernel.module_support"), known(true));
    assert_eq!(
        f.get("kernel.modules_unavailable"),
        list(&["veth", "bridge", "br_netfilter"])
    );
    // /proc/config.gz still describes the running kernel and still says =m.
    assert_eq!(f.get("kernel.config_missing_features"), list(&[]));
}

#[test]
fn hook_kept_modules_still_load_but_a_reboot_is_pending() {
    let f = gather("kernel-upgrade-hook-kept-modules");
    assert_eq!(
        f.get("kernel.installed_releases"),
        list(&["6.11.2-arch1-1"])
    );
    // No pkgbase in the kept tree: the package base comes from the -arch suffix.
    assert_eq!(f.get("kernel.running_pkgbase"), text("linux"));
    assert_eq!(f.get("kernel.running_modules_present"), known(true));
    assert_eq!(f.get("kernel.pending_release"), text("6.11.2-arch1-1"));
    assert_eq!(f.get("kernel.modules_unavailable"), list(&[]));

    let copy = copy_of("kernel-upgrade-hook-kept-modules");
    pacman_entry(copy.path(), "linux-6.11.2.arch1-1", "6.11.2-arch1-1");
    let f = gather_at(copy.path());
    assert_eq!(f.get("kernel.running_modules_owned"), known(false));
}

#[test]
fn ownership_comes_from_the_pacman_database() {
    let copy = copy_of("healthy-docker-host");
    pacman_entry(copy.path(), "linux-6.10.5.arch1-1", "6.10.5-arch1-1");
    assert_eq!(
        gather_at(copy.path()).get("kernel.running_modules_owned"),
        known(true)
    );

    fs::remove_dir_all(copy.path().join("var/lib/pacman/local")).unwrap();
    unknown_naming(
        &gather_at(copy.path()),
        "kernel.running_modules_owned",
        "/var/lib/pacman/local",
    );
}

#[test]
fn kernel_without_module_support_is_not_an_error() {
    let f = gather("kernel-without-module-support");
    assert_eq!(f.get("kernel.running_release"), text("6.1.102"));
    assert_eq!(f.get("kernel.running_pkgbase"), null());
    assert_eq!(f.get("kernel.installed_releases"), list(&[]));
    assert_eq!(f.get("kernel.module_support"), known(false));
    assert_eq!(f.get("kernel.modules_loaded"), list(&[]));
    assert_eq!(f.get("kernel.modules_unavailable"), list(&[]));
    assert_eq!(f.get("kernel.running_modules_present"), known(false));
    assert_eq!(f.get("kernel.running_modules_owned"), known(false));
    assert_eq!(f.get("kernel.pending_release"), null());
    assert_eq!(f.get("kernel.config_source"), text("/proc/config.gz"));
    assert_eq!(f.get("kernel.config_complete"), known(true));
    assert_eq!(f.get("kernel.iptables_backend_mismatch"), known(false));
}

#[test]
fn without_module_support_only_built_in_options_count() {
    let copy = copy_of("kernel-without-module-support");
    let config = "CONFIG_VETH=m\n# CONFIG_MODULES is not set\nCONFIG_BRIDGE=y\nCONFIG_BRIDGE_NETFILTER=y\nCONFIG_OVERLAY_FS=y\nCONFIG_NF_NAT=y\nCONFIG_NF_TABLES=y\n";
    write(copy.path(), "proc/config.gz", &gzip(config));
    let f = gather_at(copy.path());
    assert_eq!(f.get("kernel.module_support"), known(false));
    assert_eq!(f.get("kernel.modules_unavailable"), list(&["veth"]));
    assert_eq!(f.get("kernel.config_complete"), known(false));
    let missing = f.list("kernel.config_missing_features").unwrap();
    assert!(missing.contains(&"CONFIG_NAMESPACES".to_owned()));
    assert!(!missing.contains(&"CONFIG_VETH".to_owned()));
}

#[test]
fn non_arch_host() {
    let f = gather("non-arch-host");
    assert_eq!(f.get("os.id"), text("debian"));
    assert_eq!(
        f.get("os.pretty_name"),
        text("Debian GNU/Linux 12 (bookworm)")
    );
    assert_eq!(f.get("os.arch_based"), known(false));
    assert_eq!(f.get("kernel.running_release"), text("6.1.0-27-amd64"));
    assert_eq!(f.get("kernel.running_pkgbase"), null());
    assert_eq!(f.get("kernel.installed_releases"), list(&[]));
    assert_eq!(f.get("kernel.running_modules_present"), known(true));
    assert_eq!(f.get("kernel.pending_release"), null());
    assert_eq!(
        f.get("kernel.config_source"),
        text("/boot/config-6.1.0-27-amd64")
    );
    assert_eq!(f.get("kernel.config_missing_features"), list(&[]));
    assert_eq!(f.get("kernel.modules_unavailable"), list(&[]));
    // /usr/sbin/iptables -> /etc/alternatives/iptables -> /usr/sbin/iptables-nft -> xtables-nft-multi
    assert_eq!(f.get("kernel.iptables_backend"), text("nft"));
    unknown_naming(&f, "kernel.running_modules_owned", "/var/lib/pacman/local");
}

#[test]
fn docker_osx_ready_has_kvm_loaded() {
    let f = gather("docker-osx-ready");
    let loaded = f.list("kernel.modules_loaded").unwrap();
    for m in ["kvm", "kvm_intel", "irqbypass"] {
        assert!(loaded.iter().any(|l| l == m), "{m} should be loaded");
    }
    let f = gather("docker-osx-missing-kvm");
    assert!(
        !f.list("kernel.modules_loaded")
            .unwrap()
            .iter()
            .any(|l| l == "kvm")
    );
}

#[test]
fn module_files_are_found_by_walking_when_modules_dep_is_missing() {
    let copy = copy_of("healthy-docker-host");
    let tree = copy.path().join("usr/lib/modules/6.10.5-arch1-1");
    fs::remove_file(tree.join("modules.dep")).unwrap();
    let modules = fs::read_to_string(copy.path().join("proc/modules")).unwrap();
    let without_veth: String = modules
        .lines()
        .filter(|l| !l.starts_with("veth "))
        .map(|l| format!("{l}\n"))
        .collect();
    write(copy.path(), "proc/modules", without_veth.as_bytes());
    let f = gather_at(copy.path());
    assert_eq!(f.get("kernel.running_modules_present"), known(true));
    assert_eq!(f.get("kernel.modules_unavailable"), list(&[]));

    fs::remove_file(tree.join("kernel/drivers/net/veth.ko.zst")).unwrap();
    let f = gather_at(copy.path());
    assert_eq!(f.get("kernel.modules_unavailable"), list(&["veth"]));
}

#[test]
fn legacy_backend_needs_ip_tables_and_sees_nft_tables_as_a_mismatch() {
    let copy = copy_of("healthy-docker-host");
    let link = copy.path().join("usr/bin/iptables");
    fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("xtables-legacy-multi", &link).unwrap();
    let f = gather_at(copy.path());
    assert_eq!(f.get("kernel.iptables_backend"), text("legacy"));
    assert_eq!(
        f.get("kernel.required_modules"),
        list(&[
            "veth",
            "bridge",
            "br_netfilter",
            "overlay",
            "nf_nat",
            "ip_tables"
        ])
    );
    // ip_tables is not loaded but its module file is there.
    assert_eq!(f.get("kernel.modules_unavailable"), list(&[]));
    // nft_chain_nat is loaded: Docker (or someone) wrote nft rules.
    assert_eq!(f.get("kernel.iptables_backend_mismatch"), known(true));

    fs::remove_file(&link).unwrap();
    fs::remove_file(copy.path().join("usr/bin/iptables-nft")).unwrap();
    fs::remove_file(copy.path().join("usr/bin/iptables-legacy")).unwrap();
    let f = gather_at(copy.path());
    assert_eq!(f.get("kernel.iptables_backend"), null());
    assert_eq!(f.get("kernel.iptables_backend_mismatch"), known(false));
}

#[test]
fn nft_backend_with_legacy_tables_loaded_is_a_mismatch() {
    let copy = copy_of("healthy-docker-host");
    let mut modules = fs::read_to_string(copy.path().join("proc/modules")).unwrap();
    modules.push_str("iptable_nat 12288 1 - Live 0x0000000000000000\n");
    write(copy.path(), "proc/modules", modules.as_bytes());
    assert_eq!(
        gather_at(copy.path()).get("kernel.iptables_backend_mismatch"),
        known(true)
    );
}

#[test]
fn containers_wsl_and_forwarding() {
    let copy = copy_of("healthy-docker-host");
    write(copy.path(), ".dockerenv", b"");
    write(
        copy.path(),
        "proc/sys/kernel/osrelease",
        b"5.15.153.1-microsoft-standard-WSL2\n",
    );
    write(copy.path(), "proc/sys/net/ipv4/ip_forward", b"0\n");
    fs::remove_dir_all(copy.path().join("run/systemd/system")).unwrap();
    let f = gather_at(copy.path());
    assert_eq!(f.get("os.in_container"), known(true));
    assert_eq!(f.get("os.wsl"), known(true));
    assert_eq!(f.get("os.systemd_booted"), known(false));
    assert_eq!(f.get("kernel.ip_forward"), known(false));
    assert_eq!(f.get("kernel.running_pkgbase"), null());
    assert_eq!(f.get("kernel.running_modules_present"), known(false));
}

#[test]
fn hybrid_cgroups_are_version_1() {
    let copy = copy_of("healthy-docker-host");
    write(
        copy.path(),
        "proc/mounts",
        b"tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n",
    );
    assert_eq!(
        gather_at(copy.path()).get("kernel.cgroup_version"),
        Fact::known(1i64)
    );
}

#[test]
fn garbage_in_proc_gives_unknown_facts_naming_the_file() {
    let copy = copy_of("healthy-docker-host");
    let junk: &[u8] = b"\x00\x9f\xff\x01garbage\x7f\n\x00";
    write(copy.path(), "proc/modules", junk);
    write(copy.path(), "proc/mounts", junk);
    write(copy.path(), "proc/config.gz", junk);
    write(copy.path(), "proc/sys/net/ipv4/ip_forward", b"");
    write(copy.path(), "proc/sys/kernel/osrelease", b"");
    write(copy.path(), "etc/os-release", junk);
    let f = gather_at(copy.path());
    unknown_naming(&f, "kernel.running_release", "/proc/sys/kernel/osrelease");
    unknown_naming(&f, "kernel.modules_loaded", "/proc/modules");
    unknown_naming(&f, "kernel.cgroup_version", "/proc/mounts");
    unknown_naming(&f, "kernel.config_source", "/proc/config.gz");
    unknown_naming(&f, "kernel.config_missing_features", "/proc/config.gz");
    unknown_naming(&f, "kernel.ip_forward", "/proc/sys/net/ipv4/ip_forward");
    unknown_naming(&f, "kernel.modules_unavailable", "/proc/modules");
    // /proc/modules exists, so the kernel supports modules even if the file is unreadable.
    assert_eq!(f.get("kernel.module_support"), known(true));
    // os-release without assignments: the os-release(5) defaults.
    assert_eq!(f.get("os.id"), text("linux"));
    assert_eq!(f.get("os.arch_based"), known(false));
}

#[test]
fn missing_sources_give_unknown_facts_naming_the_file() {
    let empty = tempfile::tempdir().unwrap();
    let f = gather_at(empty.path());
    unknown_naming(&f, "kernel.running_release", "/proc/sys/kernel/osrelease");
    unknown_naming(&f, "os.id", "/etc/os-release");
    unknown_naming(&f, "kernel.ip_forward", "/proc/sys/net/ipv4/ip_forward");
    unknown_naming(&f, "kernel.module_support", "/proc/modules");
    assert_eq!(f.get("kernel.config_source"), null());
    assert_eq!(f.get("kernel.installed_releases"), list(&[]));
    assert_eq!(f.get("kernel.iptables_backend"), null());
    assert_eq!(f.get("os.in_container"), known(false));
}

/// The kernel and network checks over the fixture facts: each fails where it should and
/// nowhere else.
mod checks {
    use super::*;
    use dockdoc::catalog::load_builtin;
    use dockdoc::eval::{Selection, run};
    use dockdoc::finding::Status;

    const KERNEL_CHECKS: &[&str] = &[
        "running-kernel-modules-missing",
        "reboot-pending-kernel-upgrade",
        "kernel-module-unavailable",
        "kernel-config-missing-docker-features",
        "cgroup-v1-only",
        "inside-container-or-wsl",
    ];

    fn statuses(facts: &Facts) -> Vec<(String, Status)> {
        let loaded = load_builtin();
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let selection = Selection {
            profiles: vec!["all".into()],
            only: KERNEL_CHECKS.iter().map(|s| (*s).to_owned()).collect(),
            skip: Vec::new(),
        };
        // The CLI talks to the system daemon, as on the Arch hosts these fixtures are.
        let mut facts = facts.clone();
        facts.set("docker.endpoint_kind", Fact::known("system"));
        run(&loaded.catalog, &facts, &selection)
            .into_iter()
            .map(|f| (f.id, f.status))
            .collect()
    }

    fn failing(facts: &Facts) -> Vec<String> {
        statuses(facts)
            .into_iter()
            .filter(|(_, s)| *s == Status::Fail)
            .map(|(id, _)| id)
            .collect()
    }

    fn undecided(facts: &Facts) -> Vec<String> {
        statuses(facts)
            .into_iter()
            .filter(|(_, s)| matches!(s, Status::Unknown | Status::Skipped))
            .map(|(id, _)| id)
            .collect()
    }

    #[test]
    fn each_scenario_fails_only_its_own_checks() {
        let cases: &[(&str, &[&str])] = &[
            ("healthy-docker-host", &[]),
            ("docker-osx-ready", &[]),
            ("non-arch-host", &[]),
            ("kernel-without-module-support", &[]),
            (
                "kernel-upgraded-no-reboot",
                &[
                    "running-kernel-modules-missing",
                    "kernel-module-unavailable",
                ],
            ),
            (
                "kernel-upgrade-hook-kept-modules",
                &["reboot-pending-kernel-upgrade"],
            ),
        ];
        for (scenario, want) in cases {
            let facts = gather(scenario);
            assert_eq!(failing(&facts), *want, "{scenario}");
            assert_eq!(undecided(&facts), Vec::<String>::new(), "{scenario}");
        }
    }

    #[test]
    fn inside_a_container_only_the_note_remains() {
        let copy = copy_of("kernel-upgraded-no-reboot");
        write(copy.path(), "run/.containerenv", b"");
        write(
            copy.path(),
            "proc/mounts",
            b"cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n",
        );
        assert_eq!(
            failing(&gather_at(copy.path())),
            ["inside-container-or-wsl"]
        );
    }

    #[test]
    fn missing_config_features_and_cgroup_v1_fail() {
        let copy = copy_of("healthy-docker-host");
        write(
            copy.path(),
            "proc/config.gz",
            &gzip("CONFIG_MODULES=y\nCONFIG_VETH=m\n"),
        );
        write(
            copy.path(),
            "proc/mounts",
            b"cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n",
        );
        assert_eq!(
            failing(&gather_at(copy.path())),
            ["kernel-config-missing-docker-features", "cgroup-v1-only"]
        );
    }
}
