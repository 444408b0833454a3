//! The pacman probe against the fixture sysroots, whose local databases were built by real
//! makepkg + `pacman -U --dbonly` (tests/fixtures/pacman/build-dbs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dockdoc::catalog::load::load_builtin;
use dockdoc::eval::evaluate_check;
use dockdoc::facts::{Context, Endpoints, Env, Fact, Facts, Sysroot, Value, pacman};
use dockdoc::finding::Status;

fn sysroot(scenario: &str) -> PathBuf {
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
    pacman::gather(&ctx, &mut facts);
    for spec in pacman::SCHEMA {
        assert!(facts.facts.contains_key(spec.key), "{} not set", spec.key);
    }
    facts
}

fn gather(scenario: &str) -> Facts {
    gather_at(&sysroot(scenario))
}

fn list(items: &[&str]) -> Fact {
    Fact::known(items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
}

fn text(s: &str) -> Fact {
    Fact::known(s)
}

const NULL: Fact = Fact::Known { value: Value::Null };

/// docker-osx's host packages missing on a plain docker host: all but iptables-nft, which
/// Arch's nft `iptables` provides.
const ALL_BUT_IPTABLES: &[&str] = &[
    "qemu",
    "libvirt",
    "dnsmasq",
    "virt-manager",
    "bridge-utils",
    "flex",
    "bison",
    "edk2-ovmf",
];

struct Expect {
    kernel_packages: &'static [&'static str],
    kernel_releases: &'static [&'static str],
    missing: &'static [&'static str],
    xhost: bool,
}

const OLD_KERNEL: Expect = Expect {
    kernel_packages: &["linux 6.10.5.arch1-1"],
    kernel_releases: &["6.10.5-arch1-1"],
    missing: ALL_BUT_IPTABLES,
    xhost: false,
};

fn assert_scenario(scenario: &str, e: &Expect) {
    let f = gather(scenario);
    let at = |k: &str| (k.to_owned(), scenario.to_owned());
    assert_eq!(
        (f.get("pacman.db_present"), at("db")),
        (Fact::known(true), at("db"))
    );
    assert_eq!(
        (f.get("pacman.docker_version"), at("docker")),
        (text("1:27.3.1-1"), at("docker"))
    );
    assert_eq!(
        (f.get("pacman.kernel_packages"), at("kernels")),
        (list(e.kernel_packages), at("kernels"))
    );
    assert_eq!(
        (f.get("pacman.kernel_releases"), at("releases")),
        (list(e.kernel_releases), at("releases"))
    );
    assert_eq!(
        (f.get("pacman.osx_packages_missing"), at("missing")),
        (list(e.missing), at("missing"))
    );
    let args = if e.missing.is_empty() {
        NULL
    } else {
        text(&e.missing.join(" "))
    };
    assert_eq!(
        (f.get("pacman.osx_packages_missing_args"), at("args")),
        (args, at("args"))
    );
    assert_eq!(
        (f.get("pacman.xhost_installed"), at("xhost")),
        (Fact::known(e.xhost), at("xhost"))
    );
    assert_eq!(
        (f.get("pacman.iptables_package"), at("iptables")),
        (text("iptables"), at("iptables"))
    );
    assert_eq!(
        (f.get("pacman.iptables_backend"), at("backend")),
        (text("nft"), at("backend"))
    );
}

#[test]
fn docker_hosts_with_the_booted_kernel_installed() {
    for scenario in [
        "healthy-docker-host",
        "docker-group-not-relogged",
        "not-in-docker-group",
        "daemon-json-broken",
    ] {
        assert_scenario(scenario, &OLD_KERNEL);
    }
}

#[test]
fn an_upgrade_leaves_only_the_new_kernel_in_the_database() {
    let upgraded = Expect {
        kernel_packages: &["linux 6.11.2.arch1-1"],
        kernel_releases: &["6.11.2-arch1-1"],
        ..OLD_KERNEL
    };
    // With kernel-modules-hook the old tree is kept on disk, but no package owns it.
    for scenario in [
        "kernel-upgraded-no-reboot",
        "kernel-upgrade-hook-kept-modules",
    ] {
        assert_scenario(scenario, &upgraded);
    }
}

#[test]
fn docker_osx_ready_has_every_host_package_through_provides() {
    assert_scenario(
        "docker-osx-ready",
        &Expect {
            missing: &[],
            xhost: true,
            ..OLD_KERNEL
        },
    );
}

#[test]
fn docker_osx_missing_kvm_lacks_half_the_host_packages() {
    // qemu-img is installed there, but it does not provide qemu.
    assert_scenario(
        "docker-osx-missing-kvm",
        &Expect {
            missing: &["qemu", "virt-manager", "flex", "bison", "edk2-ovmf"],
            ..OLD_KERNEL
        },
    );
}

#[test]
fn a_root_whose_kernel_comes_from_outside_has_no_kernel_package() {
    assert_scenario(
        "kernel-without-module-support",
        &Expect {
            kernel_packages: &[],
            kernel_releases: &[],
            ..OLD_KERNEL
        },
    );
}

#[test]
fn no_database_makes_db_present_false_and_the_rest_unknown() {
    let f = gather("non-arch-host");
    assert_eq!(f.get("pacman.db_present"), Fact::known(false));
    for spec in pacman::SCHEMA
        .iter()
        .filter(|s| s.key != "pacman.db_present")
    {
        assert_eq!(
            f.get(spec.key),
            Fact::unknown("no pacman database at /var/lib/pacman/local"),
            "{}",
            spec.key
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of a scenario's database in a temporary root.
fn copy_db(scenario: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &sysroot(scenario).join("var/lib/pacman/local"),
        &dir.path().join("var/lib/pacman/local"),
    );
    dir
}

#[test]
fn thousands_of_unrelated_packages_change_nothing_and_are_never_read() {
    let scenario = "docker-osx-ready";
    let expected = gather(scenario);
    let dir = copy_db(scenario);
    let local = dir.path().join("var/lib/pacman/local");
    // Directories with names only: reading any of them would fail and show as unknown.
    for i in 0..3000 {
        let name = match i % 5 {
            0 => format!("python-pkg{i}-1.{i}.0-1"),
            1 => format!("perl-module-{i}-0.{i}-2"),
            2 => format!("lib32-thing{i}-1:2.{i}-1"),
            3 => format!("ttf-font{i}-20240101-1"),
            _ => format!("xorg-app{i}-1.0.{i}-3"),
        };
        fs::create_dir(local.join(name)).unwrap();
    }
    assert_eq!(gather_at(dir.path()), expected);
}

#[test]
fn five_thousand_packages_stray_files_and_a_non_utf8_name_change_nothing() {
    use std::os::unix::ffi::OsStrExt;
    let scenario = "healthy-docker-host";
    let expected = gather(scenario);
    let dir = copy_db(scenario);
    let local = dir.path().join("var/lib/pacman/local");
    // Names only, and many sharing a first letter with a looked-up prefix (`bison`,
    // `bridge-utils`, `docker`, `linux`): reading any of them would fail and show as unknown.
    for i in 0..5000 {
        let name = match i % 4 {
            0 => format!("bench-pkg{i:05}-1.{i}-1"),
            1 => format!("dbus-thing{i}-1.{i}-1"),
            2 => format!("libfoo{i}-2.{i}-1"),
            _ => format!("lua-module{i}-0.{i}-2"),
        };
        fs::create_dir(local.join(name)).unwrap();
    }
    for stray in ["docker.pacnew", "linux-notes", "iptables"] {
        fs::write(local.join(stray), "stray\n").unwrap();
    }
    fs::create_dir(local.join(std::ffi::OsStr::from_bytes(b"docker-\xff\xfe-1-1"))).unwrap();
    fs::create_dir(local.join(std::ffi::OsStr::from_bytes(b"\xffbench-1-1"))).unwrap();
    assert!(local.join("ALPM_DB_VERSION").is_file());
    assert_eq!(gather_at(dir.path()), expected);
}

const JUNK: &[u8] = b"\x7fELF\x02\x01\x01\x00\x00\x00\xff\xfe%NAM\x00\n\n%\n%%\n";

#[test]
fn a_garbage_desc_makes_only_the_facts_that_need_it_unknown_naming_the_file() {
    let dir = copy_db("docker-osx-ready");
    let local = dir.path().join("var/lib/pacman/local");
    fs::write(local.join("docker-1:27.3.1-1/desc"), JUNK).unwrap();
    fs::write(local.join("libvirt-1:10.8.0-1/desc"), JUNK).unwrap();
    let f = gather_at(dir.path());
    assert_eq!(
        f.get("pacman.docker_version"),
        Fact::unknown(
            "cannot tell whether docker is installed: \
             /var/lib/pacman/local/docker-1:27.3.1-1/desc: no %NAME% section"
        )
    );
    // libvirt is there by name, which is all the missing list needs.
    assert_eq!(f.get("pacman.osx_packages_missing"), list(&[]));
    assert_eq!(f.get("pacman.iptables_backend"), text("nft"));
    assert_eq!(
        f.get("pacman.kernel_packages"),
        list(&["linux 6.10.5.arch1-1"])
    );

    // iptables satisfies iptables-nft only through its provides, so its desc is needed.
    fs::write(local.join("iptables-1:1.8.11-2/desc"), "%VERSION%\n1\n\n").unwrap();
    let f = gather_at(dir.path());
    let why = "/var/lib/pacman/local/iptables-1:1.8.11-2/desc: no %NAME% section";
    assert_eq!(f.get("pacman.iptables_backend"), Fact::unknown(why));
    assert_eq!(f.get("pacman.iptables_package"), text("iptables"));
    assert_eq!(
        f.get("pacman.osx_packages_missing"),
        Fact::unknown(format!(
            "cannot tell whether iptables-nft is installed: {why}"
        ))
    );
}

#[test]
fn a_garbage_provider_desc_makes_the_missing_list_unknown() {
    let dir = copy_db("docker-osx-ready");
    let local = dir.path().join("var/lib/pacman/local");
    fs::write(local.join("qemu-full-9.1.0-2/desc"), JUNK).unwrap();
    fs::remove_file(local.join("linux-6.10.5.arch1-1/files")).unwrap();
    let f = gather_at(dir.path());
    let why = "cannot tell whether qemu is installed: \
               /var/lib/pacman/local/qemu-full-9.1.0-2/desc: no %NAME% section";
    assert_eq!(f.get("pacman.osx_packages_missing"), Fact::unknown(why));
    assert_eq!(
        f.get("pacman.osx_packages_missing_args"),
        Fact::unknown(why)
    );
    let Fact::Unknown { reason } = f.get("pacman.kernel_packages") else {
        panic!("kernel_packages should be unknown");
    };
    assert!(
        reason.starts_with("/var/lib/pacman/local/linux-6.10.5.arch1-1/files: "),
        "{reason}"
    );
    assert_eq!(f.get("pacman.docker_version"), text("1:27.3.1-1"));
}

#[test]
fn a_provider_other_than_the_named_package_gives_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let entry = dir
        .path()
        .join("var/lib/pacman/local/docker-git-28.0.0.r1.gabc-1");
    fs::create_dir_all(&entry).unwrap();
    fs::write(
        entry.join("desc"),
        "%NAME%\ndocker-git\n\n%VERSION%\n28.0.0.r1.gabc-1\n\n%PROVIDES%\ndocker=28.0.0\n\n",
    )
    .unwrap();
    let f = gather_at(dir.path());
    assert_eq!(f.get("pacman.docker_version"), text("28.0.0.r1.gabc-1"));
    assert_eq!(f.get("pacman.iptables_package"), NULL);
    assert_eq!(f.get("pacman.iptables_backend"), NULL);
    assert_eq!(f.get("pacman.xhost_installed"), Fact::known(false));
}

#[test]
fn the_packages_check_fails_with_one_pasteable_command() {
    let loaded = load_builtin();
    let check = loaded
        .catalog
        .get("osx-host-packages-missing")
        .expect("check loaded");
    let run = |scenario: &str| {
        let mut f = gather(scenario);
        f.set("os.arch_based", Fact::known(true));
        evaluate_check(check, &f, false)
    };
    let finding = run("docker-osx-missing-kvm");
    assert_eq!(finding.status, Status::Fail);
    assert_eq!(
        finding.summary,
        "docker-osx host packages not installed: qemu, virt-manager, flex, bison, edk2-ovmf"
    );
    assert_eq!(
        finding.fix[0].command.as_deref(),
        Some("sudo pacman -S --needed qemu virt-manager flex bison edk2-ovmf")
    );
    assert_eq!(run("docker-osx-ready").status, Status::Pass);

    let mut f = gather("non-arch-host");
    f.set("os.arch_based", Fact::known(false));
    assert_eq!(
        evaluate_check(check, &f, false).status,
        Status::NotApplicable
    );
}

/// pacman itself, when installed, agrees with the probe on every fixture database.
#[test]
fn pacman_agrees_with_the_probe() {
    let probe = std::process::Command::new("pacman")
        .arg("--version")
        .output();
    if probe.is_err() {
        assert_ne!(
            std::env::var("DOCKDOC_LIVE").as_deref(),
            Ok("require"),
            "pacman is required"
        );
        eprintln!("skipped: pacman is not installed");
        return;
    }
    let pacman = |root: &Path, args: &[&str]| {
        let out = std::process::Command::new("pacman")
            .arg("--config")
            .arg("/dev/null")
            .arg("--root")
            .arg(root)
            .arg("--dbpath")
            .arg(root.join("var/lib/pacman"))
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let osx = [
        "qemu",
        "libvirt",
        "dnsmasq",
        "virt-manager",
        "bridge-utils",
        "flex",
        "bison",
        "iptables-nft",
        "edk2-ovmf",
    ];
    for scenario in [
        "healthy-docker-host",
        "kernel-upgraded-no-reboot",
        "kernel-upgrade-hook-kept-modules",
        "docker-group-not-relogged",
        "not-in-docker-group",
        "daemon-json-broken",
        "docker-osx-ready",
        "docker-osx-missing-kvm",
        "kernel-without-module-support",
    ] {
        let root = sysroot(scenario);
        let f = gather(scenario);
        let missing: Vec<String> = pacman(&root, &[&["-T"][..], &osx[..]].concat())
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            f.get("pacman.osx_packages_missing"),
            Fact::known(missing),
            "{scenario}"
        );
        let docker = pacman(&root, &["-Q", "docker"]);
        assert_eq!(
            f.text("pacman.docker_version"),
            docker.trim().strip_prefix("docker "),
            "{scenario}"
        );
        let kernels: Vec<String> = pacman(&root, &["-Q"])
            .lines()
            .filter(|l| l.starts_with("linux "))
            .map(str::to_owned)
            .collect();
        assert_eq!(
            f.get("pacman.kernel_packages"),
            Fact::known(kernels),
            "{scenario}"
        );
    }
}

/// Every wording of the errors the check explains, from bash, zsh, fish and systemctl.
#[test]
fn the_packages_check_explains_the_errors_of_missing_host_packages() {
    let loaded = load_builtin();
    let check = loaded
        .catalog
        .get("osx-host-packages-missing")
        .expect("check loaded");
    for sample in [
        "bash: virsh: command not found",
        "bash: qemu-system-x86_64: command not found",
        "sh: 1: qemu-img: not found",
        "Failed to enable unit: Unit file libvirtd.service does not exist.",
        "Failed to start libvirtd.service: Unit libvirtd.service not found.",
        "Failed to start virtlogd.service: Unit virtlogd.service could not be found.",
    ] {
        assert!(
            check.explains.iter().any(|re| re.is_match(sample)),
            "{sample}"
        );
    }
    assert!(
        !check
            .explains
            .iter()
            .any(|re| re.is_match("bash: docker: command not found"))
    );
}

/// The CLI plugins by name, and the versions the known-bad data file watches, from databases
/// pacman built.
#[test]
fn plugins_and_watched_versions_come_from_the_database() {
    let healthy = gather("healthy-docker-host");
    assert_eq!(
        healthy.get("pacman.docker_buildx_installed"),
        Fact::known(true)
    );
    assert_eq!(
        healthy.get("pacman.docker_compose_installed"),
        Fact::known(true)
    );
    assert_eq!(
        healthy.get("pacman.watched_versions"),
        list(&["systemd 256.7-1", "docker 1:27.3.1-1"])
    );
    let bare = gather("docker-without-plugins");
    assert_eq!(
        bare.get("pacman.docker_buildx_installed"),
        Fact::known(false)
    );
    assert_eq!(
        bare.get("pacman.docker_compose_installed"),
        Fact::known(false)
    );
    let bad = gather("known-bad-versions");
    assert_eq!(
        bad.get("pacman.watched_versions"),
        list(&[
            "iptables-nft 1:1.8.11-1",
            "systemd 256.7-1",
            "docker 1:27.3.1-1"
        ])
    );
}
