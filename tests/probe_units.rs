//! Unit files on disk (`src/facts/units.rs`): Arch's docker.service and docker.socket verbatim
//! in a sysroot, with the drop-ins, masks and enablement links `systemctl` would write.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;
#[path = "common/systemd.rs"]
mod harness;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

use dockdoc::facts::units::{self, OnDisk};
use dockdoc::facts::{Context, Endpoints, Env, Fact, Facts, Sysroot};

const ARCH_EXEC_START: &str =
    "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock";

fn units_fixture(name: &str) -> std::path::PathBuf {
    common::fixtures().join("units/arch").join(name)
}

/// A root with the docker package's two units installed, as pacman leaves them.
fn arch_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&lib).unwrap();
    for unit in ["docker.service", "docker.socket"] {
        std::fs::copy(units_fixture(unit), lib.join(unit)).unwrap();
    }
    dir
}

fn ctx(root: &Path) -> Context {
    Context::new(
        Sysroot::new(root),
        Endpoints::default(),
        Env::default(),
        Duration::from_secs(3),
    )
}

fn read(root: &Path, unit: &str) -> OnDisk {
    units::read(&ctx(root), unit).unwrap()
}

/// What `systemctl enable`/`mask` writes: a symlink at `link` (inside the root) to `target`.
fn link(root: &Path, link: &str, target: &str) {
    let at = root.join(link.trim_start_matches('/'));
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    symlink(target, at).unwrap();
}

fn write(root: &Path, inside: &str, text: &str) {
    let at = root.join(inside.trim_start_matches('/'));
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::fs::write(at, text).unwrap();
}

fn state(load: &str, file: Option<&str>, exec: Option<&str>) -> OnDisk {
    OnDisk {
        load_state: load.into(),
        unit_file_state: file.map(str::to_owned),
        exec_start: exec.map(str::to_owned),
    }
}

#[test]
fn as_installed_both_units_are_loaded_and_disabled() {
    let root = arch_root();
    assert_eq!(
        read(root.path(), "docker.service"),
        state("loaded", Some("disabled"), Some(ARCH_EXEC_START))
    );
    assert_eq!(
        read(root.path(), "docker.socket"),
        state("loaded", Some("disabled"), None)
    );
}

#[test]
fn enablement_links_in_wants_and_requires() {
    let root = arch_root();
    // `systemctl enable docker.socket` (WantedBy=sockets.target).
    link(
        root.path(),
        "/etc/systemd/system/sockets.target.wants/docker.socket",
        "/usr/lib/systemd/system/docker.socket",
    );
    assert_eq!(
        read(root.path(), "docker.socket")
            .unit_file_state
            .as_deref(),
        Some("enabled")
    );
    assert_eq!(
        read(root.path(), "docker.service")
            .unit_file_state
            .as_deref(),
        Some("disabled")
    );
    // `systemctl enable --runtime docker.service`.
    link(
        root.path(),
        "/run/systemd/system/multi-user.target.requires/docker.service",
        "/usr/lib/systemd/system/docker.service",
    );
    assert_eq!(
        read(root.path(), "docker.service")
            .unit_file_state
            .as_deref(),
        Some("enabled-runtime")
    );
}

#[test]
fn masks_by_dev_null_links_and_empty_files() {
    let root = arch_root();
    link(
        root.path(),
        "/etc/systemd/system/docker.socket",
        "/dev/null",
    );
    assert_eq!(
        read(root.path(), "docker.socket"),
        state("masked", Some("masked"), None)
    );
    link(
        root.path(),
        "/run/systemd/system/docker.service",
        "/dev/null",
    );
    assert_eq!(
        read(root.path(), "docker.service"),
        state("masked", Some("masked-runtime"), None)
    );
    let root = arch_root();
    write(root.path(), "/etc/systemd/system/docker.service", "");
    assert_eq!(read(root.path(), "docker.service").load_state, "masked");
}

#[test]
fn drop_ins_reset_and_override_exec_start() {
    let root = arch_root();
    // What `systemctl edit docker.service` leaves for a daemon also on TCP.
    write(
        root.path(),
        "/etc/systemd/system/docker.service.d/override.conf",
        "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd -H fd:// -H tcp://0.0.0.0:2375 \\\n    --containerd=/run/containerd/containerd.sock\n",
    );
    assert_eq!(
        read(root.path(), "docker.service").exec_start.as_deref(),
        Some(
            "/usr/bin/dockerd -H fd:// -H tcp://0.0.0.0:2375 --containerd=/run/containerd/containerd.sock"
        )
    );
    // A later drop-in (by name) adds a second ExecStart= without a reset: systemd refuses a
    // Type=notify service with two.
    write(
        root.path(),
        "/run/systemd/system/docker.service.d/zz-debug.conf",
        "[Service]\nExecStart=/usr/bin/dockerd --debug\n",
    );
    let d = read(root.path(), "docker.service");
    assert_eq!(d.load_state, "bad-setting");
    // The same file name in /etc hides the one in /run; a drop-in linked to /dev/null is off.
    write(
        root.path(),
        "/etc/systemd/system/docker.service.d/zz-debug.conf",
        "[Unit]\n",
    );
    link(
        root.path(),
        "/etc/systemd/system/service.d/override.conf",
        "/dev/null",
    );
    let d = read(root.path(), "docker.service");
    assert_eq!(d.load_state, "loaded");
    assert!(d.exec_start.unwrap().contains("tcp://0.0.0.0:2375"));
}

#[test]
fn a_unit_in_etc_wins_over_the_package_and_static_units() {
    let root = arch_root();
    write(
        root.path(),
        "/etc/systemd/system/docker.service",
        "[Service]\nExecStart=/usr/local/bin/dockerd -H unix:///run/docker.sock\n",
    );
    assert_eq!(
        read(root.path(), "docker.service"),
        state(
            "loaded",
            Some("static"),
            Some("/usr/local/bin/dockerd -H unix:///run/docker.sock")
        )
    );
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        read(empty.path(), "docker.service"),
        state("not-found", None, None)
    );
}

#[test]
fn only_keys_the_bus_skipped_are_set() {
    let root = arch_root();
    let mut facts = Facts::default();
    let skipped = Fact::skipped("systemd is not contacted when reading another root (--root)");
    for key in [
        "systemd.docker_service_load_state",
        "systemd.docker_service_unit_file_state",
        "systemd.docker_service_exec_start",
        "systemd.docker_socket_load_state",
        "systemd.docker_socket_active_state",
    ] {
        facts.set(key, skipped.clone());
    }
    // Read from the bus: stands.
    facts.set(
        "systemd.docker_socket_unit_file_state",
        Fact::known("enabled"),
    );
    units::gather(&ctx(root.path()), &mut facts);
    assert_eq!(
        facts.get("systemd.docker_service_exec_start"),
        Fact::known(ARCH_EXEC_START)
    );
    assert_eq!(
        facts.get("systemd.docker_service_unit_file_state"),
        Fact::known("disabled")
    );
    assert_eq!(
        facts.get("systemd.docker_socket_load_state"),
        Fact::known("loaded")
    );
    assert_eq!(
        facts.get("systemd.docker_socket_unit_file_state"),
        Fact::known("enabled")
    );
    // Live states are not on disk.
    assert_eq!(facts.get("systemd.docker_socket_active_state"), skipped);
    let mut none = Facts::default();
    units::gather(&ctx(tempfile::tempdir().unwrap().path()), &mut none);
    assert!(none.facts.is_empty());
}

/// The system's own bus absent (`systemd.system_bus` false): the unit files give what they
/// hold. A bus given with --system-bus that did not answer leaves the keys unknown.
#[test]
fn an_absent_default_bus_leaves_the_unit_files_to_say_what_they_hold() {
    let root = arch_root();
    let down =
        Fact::unknown("cannot connect to the system bus at unix:path=/run/dbus/system_bus_socket");
    let keys = [
        "systemd.docker_service_load_state",
        "systemd.docker_service_exec_start",
        "systemd.docker_socket_active_state",
    ];
    let with_bus = |bus: Fact| {
        let mut facts = Facts::default();
        facts.set("systemd.system_bus", bus);
        for key in keys {
            facts.set(key, down.clone());
        }
        units::gather(&ctx(root.path()), &mut facts);
        facts
    };
    let absent = with_bus(Fact::known(false));
    assert_eq!(
        absent.get("systemd.docker_service_exec_start"),
        Fact::known(ARCH_EXEC_START)
    );
    assert_eq!(
        absent.get("systemd.docker_service_load_state"),
        Fact::known("loaded")
    );
    // Live states are not on disk.
    assert_eq!(absent.get("systemd.docker_socket_active_state"), down);
    let given = with_bus(Fact::unknown(
        "the bus given with --system-bus did not answer",
    ));
    for key in keys {
        assert_eq!(given.get(key), down, "{key}");
    }
}

#[test]
fn every_arch_sysroot_carries_the_package_units_verbatim() {
    // The live unit directories compared with systemd carry them too (as files, not links).
    for dir in ["units-on-disk", "units-masked"] {
        let copy = harness::units_dir().join(dir).join("docker.service");
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            std::fs::read(units_fixture("docker.service")).unwrap(),
            "{}",
            copy.display()
        );
    }
    for entry in std::fs::read_dir(common::fixtures().join("sysroots")).unwrap() {
        let root = entry.unwrap().path();
        if !root.join("var/lib/pacman/local").is_dir()
            || !std::fs::read_dir(root.join("var/lib/pacman/local"))
                .unwrap()
                .any(|e| {
                    e.unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with("docker-1:")
                })
        {
            continue;
        }
        for unit in ["docker.service", "docker.socket"] {
            let copy = root.join("usr/lib/systemd/system").join(unit);
            assert_eq!(
                std::fs::read(&copy).unwrap_or_default(),
                std::fs::read(units_fixture(unit)).unwrap(),
                "{}",
                copy.display()
            );
        }
    }
}

/// The same unit directory read two ways: by systemd 252 booted in a namespace (with it bound
/// over /etc/systemd/system, as the harness does), over its bus; and by `units::read` from a
/// root holding a copy at /etc/systemd/system. Each must say the same.
async fn same_as_systemd(scenario: &str, expected: [OnDisk; 2]) {
    let booted = match harness::Booted::boot(scenario).await {
        Ok(Some(b)) => b,
        Ok(None) => return,
        Err(e) => panic!("{e}"),
    };
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc/systemd/system");
    for part in ["common", scenario] {
        common::copy_tree(&harness::units_dir().join(part), &etc);
    }
    for (unit, expected) in ["docker.service", "docker.socket"]
        .into_iter()
        .zip(expected)
    {
        let live = booted
            .unit(unit)
            .await
            .unwrap_or_else(|e| panic!("{unit}: {e}"));
        let disk = read(root.path(), unit);
        assert_eq!(
            disk,
            OnDisk {
                load_state: live.load_state.clone(),
                unit_file_state: (!live.unit_file_state.is_empty())
                    .then(|| live.unit_file_state.clone()),
                exec_start: live.exec_start.clone(),
            },
            "{scenario}: {unit}: systemd says {live:?}"
        );
        assert_eq!(disk, expected, "{scenario}: {unit}");
    }
    booted.shutdown();
}

#[tokio::test]
async fn a_drop_in_and_an_enabled_socket_read_as_systemd_reads_them() {
    same_as_systemd(
        "units-on-disk",
        [
            state(
                "loaded",
                Some("disabled"),
                Some("/usr/bin/dockerd -H fd:// -H tcp://0.0.0.0:2375 --containerd=/run/containerd/containerd.sock"),
            ),
            state("loaded", Some("enabled"), None),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_masked_socket_and_an_enabled_service_read_as_systemd_reads_them() {
    same_as_systemd(
        "units-masked",
        [
            state("loaded", Some("enabled"), Some(ARCH_EXEC_START)),
            state("masked", Some("masked"), None),
        ],
    )
    .await;
}

#[test]
fn a_unit_directory_this_user_cannot_enter_makes_the_unit_facts_unknown() {
    use std::os::unix::fs::PermissionsExt;
    if !common::prereq::ready(common::AS_NOBODY) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = common::reachable_copy(dir.path(), "healthy-docker-host");
    std::fs::set_permissions(
        root.join("etc/systemd/system"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let f = common::facts_as_nobody(&root);
    for key in [
        "systemd.docker_service_load_state",
        "systemd.docker_service_unit_file_state",
        "systemd.docker_service_exec_start",
        "systemd.docker_socket_load_state",
    ] {
        let Fact::Unknown { reason } = f.get(key) else {
            panic!("{key}: {:?}", f.get(key))
        };
        assert!(
            reason.starts_with("/etc/systemd/system/docker.s")
                && reason.ends_with("Permission denied (os error 13)"),
            "{key}: {reason}"
        );
    }
}
