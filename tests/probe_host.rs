//! The host facts: memory, CPUs, Docker's data root and its free space, docker0, read from
//! the fixture trees and from small trees built here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use common::{check_status, sysroot};

use std::path::Path;
use std::time::Duration;

use dockdoc::facts::{Context, Endpoints, Env, Fact, Facts, Sysroot, Value, host};

fn gather(root: &Path) -> Facts {
    let ctx = Context::new(
        Sysroot::new(root),
        Endpoints::default(),
        Env::from_pairs([("HOME", "/home/alice")]),
        Duration::from_secs(3),
    );
    let mut facts = Facts::default();
    facts.host.insert("root".into(), root.display().to_string());
    host::gather(&ctx, &mut facts);
    facts
}

const KIB: i64 = 1024;
const SCENARIOS: &[&str] = &[
    "healthy-docker-host",
    "kernel-upgraded-no-reboot",
    "kernel-upgrade-hook-kept-modules",
    "docker-group-not-relogged",
    "not-in-docker-group",
    "daemon-json-broken",
    "docker-osx-ready",
    "docker-osx-missing-kvm",
    "non-arch-host",
    "kernel-without-module-support",
];

#[test]
fn memory_of_every_scenario() {
    for scenario in SCENARIOS {
        let facts = gather(&sysroot(scenario));
        let (total, available, shown) = match *scenario {
            "docker-osx-ready" => (32657140, 28902316, "27.6 GiB"),
            "docker-osx-missing-kvm" => (4025424, 2871340, "2.7 GiB"),
            _ => (16284364, 12467508, "11.9 GiB"),
        };
        assert_eq!(
            facts.get("host.mem_total_bytes"),
            Fact::known(total * KIB),
            "{scenario}"
        );
        assert_eq!(
            facts.get("host.mem_available_bytes"),
            Fact::known(available * KIB),
            "{scenario}"
        );
        assert_eq!(
            facts.get("host.mem_available"),
            Fact::known(shown),
            "{scenario}"
        );
    }
}

#[test]
fn docker0_of_every_scenario() {
    for scenario in SCENARIOS {
        let facts = gather(&sysroot(scenario));
        // The bridge module is gone after the upgrade, and the broken daemon.json kept the
        // daemon from creating docker0 since boot.
        let present = !matches!(
            *scenario,
            "kernel-upgraded-no-reboot" | "daemon-json-broken"
        );
        assert_eq!(
            facts.get("host.docker0_exists"),
            Fact::known(present),
            "{scenario}"
        );
        let state = if present {
            Fact::known("down")
        } else {
            Fact::known(Value::Null)
        };
        assert_eq!(facts.get("host.docker0_operstate"), state, "{scenario}");
    }
}

#[test]
fn cpu_count_is_whatever_cpuinfo_says() {
    for scenario in SCENARIOS {
        let root = sysroot(scenario);
        let facts = gather(&root);
        let want = match std::fs::read_to_string(root.join("proc/cpuinfo")) {
            Ok(text) => {
                Fact::known(text.lines().filter(|l| l.starts_with("processor")).count() as i64)
            }
            Err(_) => Fact::unknown("/proc/cpuinfo: No such file or directory (os error 2)"),
        };
        assert_eq!(facts.get("host.cpu_count"), want, "{scenario}");
    }
}

fn statvfs_free(path: &Path) -> i64 {
    let st = nix::sys::statvfs::statvfs(path).unwrap();
    (st.blocks_available() * st.fragment_size()) as i64
}

/// Free space moves while the test runs; anything within 256 MiB is the same filesystem.
fn assert_free_near(fact: &Fact, path: &Path) {
    let got = fact.as_int().unwrap_or_else(|| panic!("{fact:?}"));
    let want = statvfs_free(path);
    assert!((got - want).abs() < 256 << 20, "{got} vs {want}");
}

fn write(root: &Path, inside: &str, text: &str) {
    let path = root.join(inside);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_tree_built_here() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "proc/cpuinfo",
        "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu svm\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\n\nprocessor\t: 2\n\nprocessor\t: 3\n",
    );
    write(
        root,
        "proc/meminfo",
        "MemTotal:        8000000 kB\nMemFree:          100000 kB\n",
    );
    write(
        root,
        "etc/docker/daemon.json",
        r#"{ "data-root": "/srv/docker" }"#,
    );
    std::fs::create_dir_all(root.join("srv")).unwrap();
    write(root, "sys/class/net/docker0/operstate", "up\n");

    let facts = gather(root);
    assert_eq!(facts.get("host.cpu_count"), Fact::known(4i64));
    assert_eq!(
        facts.get("host.mem_total_bytes"),
        Fact::known(8000000 * KIB)
    );
    let no_line = Fact::unknown("/proc/meminfo: no MemAvailable line");
    assert_eq!(facts.get("host.mem_available_bytes"), no_line);
    assert_eq!(facts.get("host.mem_available"), no_line);
    assert_eq!(facts.get("host.data_root"), Fact::known("/srv/docker"));
    // /srv/docker does not exist yet: its parent's filesystem is measured.
    assert_free_near(&facts.get("host.data_root_free_bytes"), &root.join("srv"));
    assert!(
        facts
            .get("host.data_root_free")
            .as_text()
            .is_some_and(|t| t.ends_with("iB") || t.ends_with(" B"))
    );
    assert_eq!(facts.get("host.docker0_exists"), Fact::known(true));
    assert_eq!(facts.get("host.docker0_operstate"), Fact::known("up"));
}

#[test]
fn an_empty_tree_names_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let facts = gather(dir.path());
    let no_meminfo = Fact::unknown("/proc/meminfo: No such file or directory (os error 2)");
    assert_eq!(facts.get("host.mem_total_bytes"), no_meminfo);
    assert_eq!(facts.get("host.mem_available"), no_meminfo);
    assert_eq!(
        facts.get("host.cpu_count"),
        Fact::unknown("/proc/cpuinfo: No such file or directory (os error 2)")
    );
    // No daemon.json: Docker's default.
    assert_eq!(facts.get("host.data_root"), Fact::known("/var/lib/docker"));
    assert_free_near(&facts.get("host.data_root_free_bytes"), dir.path());
    assert_eq!(facts.get("host.docker0_exists"), Fact::known(false));
    assert_eq!(
        facts.get("host.docker0_operstate"),
        Fact::known(Value::Null)
    );
}

#[test]
fn a_broken_daemon_json_leaves_the_data_root_unknown() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "etc/docker/daemon.json",
        "{\n  \"log-driver\": \"journald\",\n}\n",
    );
    let facts = gather(dir.path());
    let Fact::Unknown { reason } = facts.get("host.data_root") else {
        panic!("{:?}", facts.get("host.data_root"));
    };
    assert_eq!(
        reason,
        "/etc/docker/daemon.json: trailing comma at line 3 column 1, so the configured data-root cannot be read"
    );
    assert_eq!(
        facts.get("host.data_root_free_bytes"),
        facts.get("host.data_root")
    );
}

#[test]
fn the_daemons_data_root_wins_and_stopped_containers_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data/docker")).unwrap();
    let mut facts = gather(dir.path());
    facts.set("docker.data_root", Fact::known("/data/docker"));
    facts.set(
        "docker.osx_stopped_containers",
        Fact::known(vec!["osx-sonoma".to_owned(), "dreamy_knuth".to_owned()]),
    );
    host::derive(&mut facts);
    assert_eq!(facts.get("host.data_root"), Fact::known("/data/docker"));
    assert_free_near(
        &facts.get("host.data_root_free_bytes"),
        &dir.path().join("data/docker"),
    );
    assert_eq!(
        facts.get("host.docker_osx_stopped_count"),
        Fact::known(2i64)
    );

    facts.set(
        "docker.osx_stopped_containers",
        Fact::known(Vec::<String>::new()),
    );
    host::derive(&mut facts);
    assert_eq!(
        facts.get("host.docker_osx_stopped_count"),
        Fact::known(0i64)
    );

    facts.set(
        "docker.osx_stopped_containers",
        Fact::unknown("the Docker daemon did not answer within 3s"),
    );
    host::derive(&mut facts);
    assert_eq!(
        facts.get("host.docker_osx_stopped_count"),
        Fact::unknown("docker.osx_stopped_containers: the Docker daemon did not answer within 3s")
    );
}

// ---- The storage and docker-osx checks over these facts ---------------------------------

#[test]
fn low_space_threshold_depends_on_the_profile() {
    use dockdoc::finding::Status::*;
    const GIB: i64 = 1 << 30;
    let free = |n: i64| {
        vec![
            ("host.data_root_free_bytes", Fact::known(n)),
            ("host.data_root_free", Fact::known(host::human_bytes(n))),
            ("host.data_root", Fact::known("/var/lib/docker")),
        ]
    };
    let cases = [
        (9 * GIB, "docker", Fail),
        (11 * GIB, "docker", Pass),
        (11 * GIB, "docker-osx", Fail),
        (11 * GIB, "all", Fail),
        (49 * GIB, "docker-osx", Fail),
        (51 * GIB, "docker-osx", Pass),
    ];
    for (bytes, profile, want) in cases {
        assert_eq!(
            check_status("docker-data-root-low-space", profile, &free(bytes)),
            want,
            "{bytes} {profile}"
        );
    }
    let unknown = vec![(
        "host.data_root_free_bytes",
        Fact::unknown("/etc/docker/daemon.json: trailing comma"),
    )];
    assert_eq!(
        check_status("docker-data-root-low-space", "docker", &unknown),
        Unknown
    );
}

#[test]
fn docker_osx_resource_checks() {
    use dockdoc::finding::Status::*;
    let mem = |kib: i64| vec![("host.mem_available_bytes", Fact::known(kib * KIB))];
    // The two fixture machines: 4 GiB (2.7 GiB available) and 32 GiB.
    assert_eq!(
        check_status("host-memory-low", "docker-osx", &mem(2871340)),
        Fail
    );
    assert_eq!(
        check_status("host-memory-low", "docker-osx", &mem(28902316)),
        Pass
    );

    let stopped = |n: i64| {
        vec![
            ("docker.reachable", Fact::known(true)),
            ("host.docker_osx_stopped_count", Fact::known(n)),
        ]
    };
    assert_eq!(
        check_status("docker-osx-stopped-containers", "docker-osx", &stopped(1)),
        Fail
    );
    assert_eq!(
        check_status("docker-osx-stopped-containers", "docker-osx", &stopped(0)),
        Pass
    );

    let driver = |d: &str| {
        vec![
            ("docker.reachable", Fact::known(true)),
            ("docker.storage_driver", Fact::known(d)),
        ]
    };
    assert_eq!(
        check_status("storage-driver-vfs", "docker", &driver("vfs")),
        Fail
    );
    assert_eq!(
        check_status("storage-driver-vfs", "docker", &driver("overlay2")),
        Pass
    );
}
