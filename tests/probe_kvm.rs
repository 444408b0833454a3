//! The KVM probe against the fixture sysroots, and the KVM checks evaluated on what it found.
//! `/dev/kvm` cannot live in git: the tests that need it copy a scenario and `mknod` it there,
//! which only root can do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dockdoc::catalog::load_builtin;
use dockdoc::eval::evaluate_check;
use dockdoc::facts::{Context, Endpoints, Env, Fact, Facts, Sysroot, Value, kvm, user};
use dockdoc::finding::Status;

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sysroots")
        .join(name)
}

fn context(root: &Path) -> Context {
    Context::new(
        Sysroot::new(root),
        Endpoints::default(),
        Env::from_pairs([("HOME", "/home/alice"), ("USER", "alice")]),
        Duration::from_secs(3),
    )
}

/// The user and kvm probes, then their derived facts, in the order `facts::gather` runs them.
fn gather(root: &Path) -> Facts {
    let ctx = context(root);
    let mut facts = Facts::default();
    user::gather(&ctx, &mut facts);
    kvm::gather(&ctx, &mut facts);
    user::derive(&mut facts);
    kvm::derive(&mut facts);
    facts
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        // Symlinks stay symlinks: a fixture's may point outside the tree (a `*.wants/` link).
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn copy_of(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&scenario(name), dir.path());
    dir
}

/// Creates `/dev/kvm` (char 10:232) in the tree, owned by root and `gid`. `None` after one line
/// naming what stays `unproven` when this process may not create device nodes (a failure under
/// `DOCKDOC_LIVE=require`).
fn mknod_kvm(root: &Path, mode: u32, gid: u32, unproven: &[&str]) -> Option<()> {
    use nix::sys::stat::{Mode, SFlag, makedev, mknod};
    let unproven: Vec<String> = unproven.iter().map(|s| (*s).to_owned()).collect();
    if !common::prereq::ready_for("a /dev/kvm test", &[common::prereq::Need::Root], &unproven) {
        return None;
    }
    let dev = root.join("dev");
    fs::create_dir_all(&dev).unwrap();
    let path = dev.join("kvm");
    if let Err(e) = mknod(
        &path,
        SFlag::S_IFCHR,
        Mode::from_bits_truncate(0o600),
        makedev(10, 232),
    ) {
        common::prereq::skip(
            "a /dev/kvm test",
            &format!("mknod {} failed: {e}", path.display()),
            &unproven,
        );
        return None;
    }
    nix::unistd::chown(
        &path,
        Some(nix::unistd::Uid::from_raw(0)),
        Some(nix::unistd::Gid::from_raw(gid)),
    )
    .unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    Some(())
}

fn set_session_groups(root: &Path, groups: &str) {
    let path = root.join("proc/self/status");
    let text = fs::read_to_string(&path).unwrap();
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("Groups:") {
                format!("Groups:\t{groups} ")
            } else {
                l.to_owned()
            }
        })
        .collect();
    fs::write(&path, out.join("\n") + "\n").unwrap();
}

fn assert_unknown_naming(fact: &Fact, needle: &str) {
    match fact {
        Fact::Unknown { reason } => assert!(reason.contains(needle), "{reason}"),
        other => panic!("expected unknown naming {needle}, got {other:?}"),
    }
}

fn null() -> Fact {
    Fact::known(Value::Null)
}

/// The status of each KVM check on these facts, by id, as the docker-osx profile runs them (the
/// profile is a run fact, which the default profile sets only for Docker Desktop).
fn statuses(facts: &Facts) -> Vec<(String, Status)> {
    let loaded = load_builtin();
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let mut facts = facts.clone();
    facts.set("run.profiles", Fact::known(vec!["docker-osx".to_owned()]));
    loaded
        .catalog
        .checks
        .iter()
        .filter(|c| c.area == "kvm")
        .map(|c| (c.id.clone(), evaluate_check(c, &facts, false).status))
        .collect()
}

fn status_of(statuses: &[(String, Status)], id: &str) -> Status {
    statuses
        .iter()
        .find(|(i, _)| i == id)
        .map(|(_, s)| *s)
        .unwrap_or_else(|| panic!("no check {id}"))
}

#[test]
fn docker_osx_ready_without_the_device_node() {
    let f = gather(&scenario("docker-osx-ready"));
    assert_eq!(f.get("kvm.cpu_virtualization"), Fact::known(true));
    assert_eq!(f.get("kvm.cpu_vendor"), Fact::known("intel"));
    assert_eq!(f.get("kvm.hypervisor_guest"), Fact::known(false));
    assert_eq!(f.get("kvm.module_loaded"), Fact::known(true));
    assert_eq!(f.get("kvm.vendor_module_loaded"), Fact::known(true));
    assert_eq!(f.get("kvm.ignore_msrs"), Fact::known(true));
    assert_eq!(f.get("kvm.ignore_msrs_persisted"), Fact::known(true));
    assert_eq!(f.get("kvm.nested"), Fact::known(true));
    // git cannot hold the character device.
    assert_eq!(f.get("kvm.device_exists"), Fact::known(false));
    assert_eq!(f.get("kvm.device_group"), null());
    assert_eq!(f.get("kvm.device_mode"), null());
    assert_eq!(f.get("kvm.device_uid"), null());
    assert_eq!(f.get("kvm.device_gid"), null());
    assert_eq!(f.get("kvm.device_accessible"), Fact::known(false));
}

#[test]
fn docker_osx_missing_kvm_is_a_guest_without_kvm() {
    let f = gather(&scenario("docker-osx-missing-kvm"));
    assert_eq!(f.get("kvm.cpu_virtualization"), Fact::known(false));
    assert_eq!(f.get("kvm.cpu_vendor"), Fact::known("intel"));
    assert_eq!(f.get("kvm.hypervisor_guest"), Fact::known(true));
    assert_eq!(f.get("kvm.device_exists"), Fact::known(false));
    assert_eq!(f.get("kvm.device_accessible"), Fact::known(false));
    assert_eq!(f.get("kvm.module_loaded"), Fact::known(false));
    assert_eq!(f.get("kvm.vendor_module_loaded"), Fact::known(false));
    assert_unknown_naming(&f.get("kvm.ignore_msrs"), "kvm is not loaded");
    assert_eq!(f.get("kvm.ignore_msrs_persisted"), Fact::known(false));
    assert_unknown_naming(
        &f.get("kvm.nested"),
        "neither kvm_intel nor kvm_amd is loaded",
    );

    let s = statuses(&f);
    assert_eq!(status_of(&s, "cpu-virtualization-missing"), Status::Fail);
    for id in [
        "kvm-module-not-loaded",
        "kvm-device-missing",
        "kvm-device-permission-denied",
        "user-not-in-kvm-group",
        "session-missing-kvm-group",
        "kvm-ignore-msrs-off",
        "kvm-ignore-msrs-not-persistent",
        "nested-virtualization-off",
    ] {
        assert_eq!(status_of(&s, id), Status::NotApplicable, "{id}");
    }
}

#[test]
fn amd_docker_hosts_have_kvm_amd_with_ignore_msrs_off() {
    for name in [
        "healthy-docker-host",
        "kernel-upgraded-no-reboot",
        "kernel-upgrade-hook-kept-modules",
        "docker-group-not-relogged",
        "not-in-docker-group",
        "daemon-json-broken",
    ] {
        let f = gather(&scenario(name));
        assert_eq!(f.get("kvm.cpu_virtualization"), Fact::known(true), "{name}");
        assert_eq!(f.get("kvm.cpu_vendor"), Fact::known("amd"), "{name}");
        assert_eq!(f.get("kvm.hypervisor_guest"), Fact::known(false), "{name}");
        assert_eq!(f.get("kvm.module_loaded"), Fact::known(true), "{name}");
        assert_eq!(
            f.get("kvm.vendor_module_loaded"),
            Fact::known(true),
            "{name}"
        );
        assert_eq!(f.get("kvm.ignore_msrs"), Fact::known(false), "{name}");
        assert_eq!(
            f.get("kvm.ignore_msrs_persisted"),
            Fact::known(false),
            "{name}"
        );
        // kvm_amd's nested is an integer parameter: `1`.
        assert_eq!(f.get("kvm.nested"), Fact::known(true), "{name}");
        assert_eq!(f.get("kvm.device_exists"), Fact::known(false), "{name}");
    }
}

#[test]
fn guests_without_virtualization() {
    for (name, vendor) in [
        ("non-arch-host", "amd"),
        ("kernel-without-module-support", "intel"),
    ] {
        let f = gather(&scenario(name));
        assert_eq!(
            f.get("kvm.cpu_virtualization"),
            Fact::known(false),
            "{name}"
        );
        assert_eq!(f.get("kvm.cpu_vendor"), Fact::known(vendor), "{name}");
        assert_eq!(f.get("kvm.hypervisor_guest"), Fact::known(true), "{name}");
        assert_eq!(f.get("kvm.module_loaded"), Fact::known(false), "{name}");
        assert_eq!(
            f.get("kvm.ignore_msrs_persisted"),
            Fact::known(false),
            "{name}"
        );
    }
}

#[test]
fn device_0660_kvm_is_open_to_alice_when_her_session_holds_kvm() {
    let dir = copy_of("docker-osx-ready");
    if mknod_kvm(dir.path(), 0o660, 992, &["kvm-device-permission-denied pass, session-missing-kvm-group pass (device 0660 root:kvm)"]).is_none() {
        return;
    }
    let f = gather(dir.path());
    assert_eq!(f.get("kvm.device_exists"), Fact::known(true));
    assert_eq!(f.get("kvm.device_group"), Fact::known("kvm"));
    assert_eq!(f.get("kvm.device_mode"), Fact::known("0660"));
    assert_eq!(f.get("kvm.device_uid"), Fact::known(0i64));
    assert_eq!(f.get("kvm.device_gid"), Fact::known(992i64));
    assert_eq!(f.get("kvm.device_accessible"), Fact::known(true));

    let s = statuses(&f);
    for (id, _) in &s {
        assert_eq!(status_of(&s, id), Status::Pass, "{id}");
    }
}

#[test]
fn device_0660_kvm_is_closed_to_alice_when_her_session_predates_kvm() {
    let dir = copy_of("docker-osx-ready");
    if mknod_kvm(dir.path(), 0o660, 992, &["kvm-device-permission-denied fail, session-missing-kvm-group fail (device 0660 root:kvm)"]).is_none() {
        return;
    }
    set_session_groups(dir.path(), "967 968 998 1000");
    let f = gather(dir.path());
    assert_eq!(f.get("kvm.device_exists"), Fact::known(true));
    assert_eq!(f.get("kvm.device_accessible"), Fact::known(false));

    let s = statuses(&f);
    assert_eq!(status_of(&s, "kvm-device-permission-denied"), Status::Fail);
    assert_eq!(status_of(&s, "session-missing-kvm-group"), Status::Fail);
    assert_eq!(status_of(&s, "user-not-in-kvm-group"), Status::Pass);
    assert_eq!(status_of(&s, "kvm-device-missing"), Status::Pass);
}

#[test]
fn device_0660_kvm_is_closed_to_alice_outside_the_group() {
    let dir = copy_of("docker-osx-missing-kvm");
    if mknod_kvm(
        dir.path(),
        0o660,
        992,
        &["kvm-device-permission-denied fail, user-not-in-kvm-group fail (device 0660 root:kvm)"],
    )
    .is_none()
    {
        return;
    }
    let f = gather(dir.path());
    assert_eq!(f.get("kvm.device_accessible"), Fact::known(false));
    let s = statuses(&f);
    assert_eq!(status_of(&s, "kvm-device-permission-denied"), Status::Fail);
    assert_eq!(status_of(&s, "user-not-in-kvm-group"), Status::Fail);
    assert_eq!(status_of(&s, "session-missing-kvm-group"), Status::Pass);
}

#[test]
fn device_0666_is_open_to_everyone_and_group_checks_stay_quiet() {
    let dir = copy_of("docker-osx-missing-kvm");
    if mknod_kvm(
        dir.path(),
        0o666,
        992,
        &["kvm-device-permission-denied pass (device 0666)"],
    )
    .is_none()
    {
        return;
    }
    let f = gather(dir.path());
    assert_eq!(f.get("kvm.device_mode"), Fact::known("0666"));
    assert_eq!(f.get("kvm.device_accessible"), Fact::known(true));
    let s = statuses(&f);
    assert_eq!(status_of(&s, "kvm-device-permission-denied"), Status::Pass);
    assert_eq!(status_of(&s, "user-not-in-kvm-group"), Status::Pass);
}

#[test]
fn an_unmapped_device_gid_is_shown_as_a_number() {
    let dir = copy_of("docker-osx-ready");
    if mknod_kvm(
        dir.path(),
        0o660,
        78,
        &["kvm.device_group for a gid /etc/group lacks"],
    )
    .is_none()
    {
        return;
    }
    let f = gather(dir.path());
    assert_eq!(f.get("kvm.device_group"), Fact::known("78"));
    assert_eq!(f.get("kvm.device_accessible"), Fact::known(false));
}

#[test]
fn a_regular_file_at_dev_kvm_is_not_the_device() {
    let dir = copy_of("docker-osx-ready");
    fs::create_dir_all(dir.path().join("dev")).unwrap();
    fs::write(dir.path().join("dev/kvm"), "").unwrap();
    let f = gather(dir.path());
    assert_eq!(f.get("kvm.device_exists"), Fact::known(false));
    assert_eq!(f.get("kvm.device_accessible"), Fact::known(false));
}

#[test]
fn unknown_session_makes_accessibility_unknown() {
    let dir = copy_of("docker-osx-ready");
    if mknod_kvm(
        dir.path(),
        0o660,
        992,
        &["kvm.device_accessible unknown without /etc/group"],
    )
    .is_none()
    {
        return;
    }
    fs::remove_file(dir.path().join("etc/group")).unwrap();
    let f = gather(dir.path());
    assert_unknown_naming(&f.get("kvm.device_group"), "/etc/group");
    assert_unknown_naming(&f.get("kvm.device_accessible"), "/etc/group");
}

#[test]
fn docker_osx_ready_passes_everything_but_the_device_node() {
    let f = gather(&scenario("docker-osx-ready"));
    let s = statuses(&f);
    assert_eq!(status_of(&s, "kvm-device-missing"), Status::Fail);
    for id in [
        "cpu-virtualization-missing",
        "kvm-module-not-loaded",
        "kvm-ignore-msrs-off",
        "kvm-ignore-msrs-not-persistent",
        "nested-virtualization-off",
    ] {
        assert_eq!(status_of(&s, id), Status::Pass, "{id}");
    }
    for id in [
        "kvm-device-permission-denied",
        "user-not-in-kvm-group",
        "session-missing-kvm-group",
    ] {
        assert_eq!(status_of(&s, id), Status::NotApplicable, "{id}");
    }
}

#[test]
fn amd_host_fails_ignore_msrs_now_and_across_reboots() {
    let f = gather(&scenario("healthy-docker-host"));
    let s = statuses(&f);
    assert_eq!(status_of(&s, "kvm-ignore-msrs-off"), Status::Fail);
    assert_eq!(
        status_of(&s, "kvm-ignore-msrs-not-persistent"),
        Status::Fail
    );
    assert_eq!(status_of(&s, "nested-virtualization-off"), Status::Pass);
}

#[test]
fn unloaded_vendor_module_fails_the_module_check() {
    let dir = copy_of("docker-osx-ready");
    fs::remove_dir_all(dir.path().join("sys/module/kvm_intel")).unwrap();
    let f = gather(dir.path());
    assert_eq!(f.get("kvm.module_loaded"), Fact::known(true));
    assert_eq!(f.get("kvm.vendor_module_loaded"), Fact::known(false));
    let s = statuses(&f);
    assert_eq!(status_of(&s, "kvm-module-not-loaded"), Status::Fail);
    assert_eq!(status_of(&s, "kvm-device-missing"), Status::NotApplicable);
    assert_eq!(
        status_of(&s, "nested-virtualization-off"),
        Status::NotApplicable
    );
}

#[test]
fn nested_and_ignore_msrs_off_read_as_false() {
    let dir = copy_of("docker-osx-ready");
    fs::write(
        dir.path().join("sys/module/kvm_intel/parameters/nested"),
        "N\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("sys/module/kvm/parameters/ignore_msrs"),
        "N\n",
    )
    .unwrap();
    let f = gather(dir.path());
    assert_eq!(f.get("kvm.nested"), Fact::known(false));
    assert_eq!(f.get("kvm.ignore_msrs"), Fact::known(false));
    let s = statuses(&f);
    assert_eq!(status_of(&s, "kvm-ignore-msrs-off"), Status::Fail);
    assert_eq!(
        status_of(&s, "kvm-ignore-msrs-not-persistent"),
        Status::Pass
    );
    assert_eq!(status_of(&s, "nested-virtualization-off"), Status::Fail);
}

#[test]
fn garbage_in_a_parameter_is_unknown_naming_the_file() {
    let dir = copy_of("docker-osx-ready");
    fs::write(
        dir.path().join("sys/module/kvm/parameters/ignore_msrs"),
        "maybe\n",
    )
    .unwrap();
    fs::remove_file(dir.path().join("sys/module/kvm_intel/parameters/nested")).unwrap();
    let f = gather(dir.path());
    assert_unknown_naming(
        &f.get("kvm.ignore_msrs"),
        "/sys/module/kvm/parameters/ignore_msrs: unexpected value `maybe`",
    );
    assert_unknown_naming(
        &f.get("kvm.nested"),
        "/sys/module/kvm_intel/parameters/nested",
    );
}

#[test]
fn ignore_msrs_persistence_follows_modprobe_d_precedence_and_the_cmdline() {
    let dir = copy_of("healthy-docker-host");
    let root = dir.path();
    let persisted = |root: &Path| gather(root).get("kvm.ignore_msrs_persisted");

    // A vendor default in /usr/lib/modprobe.d, with a continued line.
    fs::create_dir_all(root.join("usr/lib/modprobe.d")).unwrap();
    fs::write(
        root.join("usr/lib/modprobe.d/qemu.conf"),
        "# shipped default\noptions kvm \\\n  ignore_msrs=1\n",
    )
    .unwrap();
    assert_eq!(persisted(root), Fact::known(true));

    // The same file name in /etc/modprobe.d hides it.
    fs::create_dir_all(root.join("etc/modprobe.d")).unwrap();
    fs::write(
        root.join("etc/modprobe.d/qemu.conf"),
        "# options kvm ignore_msrs=1\n",
    )
    .unwrap();
    assert_eq!(persisted(root), Fact::known(false));

    // A file that is not *.conf is not read.
    fs::write(
        root.join("etc/modprobe.d/kvm.conf.bak"),
        "options kvm ignore_msrs=1\n",
    )
    .unwrap();
    assert_eq!(persisted(root), Fact::known(false));

    // Files apply in name order: a later file turning it off wins.
    fs::write(
        root.join("etc/modprobe.d/10-kvm.conf"),
        "options kvm ignore_msrs=Y\n",
    )
    .unwrap();
    assert_eq!(persisted(root), Fact::known(true));
    fs::write(
        root.join("etc/modprobe.d/20-kvm.conf"),
        "options kvm ignore_msrs=0\n",
    )
    .unwrap();
    assert_eq!(persisted(root), Fact::known(false));

    // The kernel command line sets it whatever modprobe.d says.
    fs::write(
        root.join("proc/cmdline"),
        "BOOT_IMAGE=/vmlinuz-linux root=UUID=0a1b rw kvm.ignore_msrs=1 quiet\n",
    )
    .unwrap();
    assert_eq!(persisted(root), Fact::known(true));
}

#[test]
fn an_unreadable_cpuinfo_is_unknown_naming_it() {
    let dir = copy_of("docker-osx-ready");
    fs::remove_file(dir.path().join("proc/cpuinfo")).unwrap();
    let f = gather(dir.path());
    for key in [
        "kvm.cpu_virtualization",
        "kvm.cpu_vendor",
        "kvm.hypervisor_guest",
    ] {
        assert_unknown_naming(&f.get(key), "/proc/cpuinfo");
    }
    let s = statuses(&f);
    assert_eq!(status_of(&s, "cpu-virtualization-missing"), Status::Unknown);
}

#[test]
fn full_gather_derives_accessibility_after_the_user_probe() {
    let dir = copy_of("docker-osx-ready");
    if mknod_kvm(
        dir.path(),
        0o660,
        992,
        &["kvm.device_accessible through facts::gather"],
    )
    .is_none()
    {
        return;
    }
    let ctx = context(dir.path());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let f = rt.block_on(dockdoc::gather::gather(&ctx, Default::default()));
    assert_eq!(f.get("kvm.device_accessible"), Fact::known(true));
    assert_eq!(
        f.get("user.groups_session").as_list().map(|l| l.len()),
        Some(5)
    );
}

#[test]
fn a_device_without_cpu_flags_is_not_reported_as_missing_virtualization() {
    // A guest with a paravirtualized KVM (PVM) has /dev/kvm but neither vmx nor svm.
    let dir = copy_of("docker-osx-missing-kvm");
    if mknod_kvm(
        dir.path(),
        0o660,
        992,
        &["cpu-virtualization-missing pass with a device but no CPU flag"],
    )
    .is_none()
    {
        return;
    }
    let f = gather(dir.path());
    assert_eq!(f.get("kvm.cpu_virtualization"), Fact::known(false));
    let s = statuses(&f);
    assert_eq!(status_of(&s, "cpu-virtualization-missing"), Status::Pass);
}

#[test]
fn pasted_errors_point_at_the_kvm_checks() {
    let loaded = load_builtin();
    let matching = |text: &str| -> Vec<String> {
        loaded
            .catalog
            .checks
            .iter()
            .filter(|c| c.area == "kvm" && c.explains.iter().any(|re| re.is_match(text)))
            .map(|c| c.id.clone())
            .collect()
    };
    let device = [
        "cpu-virtualization-missing",
        "kvm-module-not-loaded",
        "kvm-device-missing",
    ];
    for text in [
        "docker: Error response from daemon: error gathering device information while adding custom device \"/dev/kvm\": no such file or directory.",
        "qemu-system-x86_64: -accel kvm: Could not access KVM kernel module: No such file or directory",
        "TASK ERROR: KVM virtualisation configured, but not available. Either disable in VM configuration or enable in BIOS.",
        "error: unsupported configuration: Domain requires KVM, but it is not available. Check that virtualization is enabled in the host BIOS, and host configuration is setup to load the kvm modules.",
    ] {
        assert_eq!(matching(text), device, "{text}");
    }
    assert_eq!(
        matching(
            "qemu-system-x86_64: Could not access KVM kernel module: Permission denied\nqemu-system-x86_64: failed to initialize kvm: Permission denied"
        ),
        ["kvm-device-permission-denied"],
        "a container's QEMU runs as the container's user: the host user's groups are not its cause"
    );
    assert_eq!(
        matching("00:000 00:000 EB.RH.LRHIP! Err(0xE)"),
        ["kvm-ignore-msrs-off", "kvm-ignore-msrs-not-persistent"]
    );
    assert_eq!(
        matching("[    0.521873] kvm: disabled by bios"),
        ["cpu-virtualization-missing"]
    );
    assert_eq!(
        matching("kvm_amd: SVM disabled (by BIOS) in MSR_VM_CR"),
        ["cpu-virtualization-missing"]
    );
}

/// Does to `path` what `setfacl ARGS` does (`-m SPEC`, `-b`, or nothing), through the ACL
/// xattr (tests/common/acl.rs); `None` (a skip) when the filesystem refuses ACLs.
fn setfacl(path: &Path, args: &[&str]) -> Option<()> {
    let done = match args {
        [] => Ok(()),
        ["-m", spec] => common::acl::modify(path, spec),
        ["-b"] => common::acl::remove_all(path),
        _ => panic!("setfacl {args:?}: not a form this test uses"),
    };
    match done {
        Ok(()) => Some(()),
        Err(e) => {
            common::prereq::skip(
                &format!("test {}", common::prereq::current_test()),
                &format!("this filesystem refuses POSIX ACLs: {e}"),
                &[],
            );
            None
        }
    }
}

fn list(items: &[&str]) -> Fact {
    Fact::known(items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
}

#[test]
fn logind_uaccess_acl_opens_a_0660_kvm_device_to_a_user_outside_kvm() {
    // alice (uid 1000) is in neither kvm's member list nor the session's kvm group here.
    let dir = copy_of("docker-osx-missing-kvm");
    if mknod_kvm(
        dir.path(),
        0o660,
        992,
        &["kvm-device-permission-denied pass through logind's uaccess ACL"],
    )
    .is_none()
    {
        return;
    }
    let dev = dir.path().join("dev/kvm");
    // What systemd-logind's uaccess rule does for the user at the seat.
    if setfacl(&dev, &["-m", "u:1000:rw"]).is_none() {
        return;
    }
    let f = gather(dir.path());
    assert_eq!(
        f.get("kvm.device_acl"),
        list(&[
            "user::rw-",
            "user:1000:rw-",
            "group::rw-",
            "mask::rw-",
            "other::---"
        ])
    );
    assert_eq!(f.get("kvm.device_accessible"), Fact::known(true));
    let s = statuses(&f);
    assert_eq!(status_of(&s, "kvm-device-permission-denied"), Status::Pass);
    assert_eq!(status_of(&s, "user-not-in-kvm-group"), Status::Pass);

    // The mask limits the named entry: r-- leaves alice without write access.
    setfacl(&dev, &["-m", "m::r"]).unwrap();
    let f = gather(dir.path());
    assert_eq!(f.get("kvm.device_accessible"), Fact::known(false));
    let s = statuses(&f);
    assert_eq!(status_of(&s, "kvm-device-permission-denied"), Status::Fail);

    // A named group entry for a group her session holds (wheel, 998). `setfacl -b` left the
    // group bits at the old mask, r--.
    setfacl(&dev, &["-b"]).unwrap();
    setfacl(&dev, &["-m", "g:998:rw"]).unwrap();
    let f = gather(dir.path());
    assert_eq!(
        f.get("kvm.device_acl"),
        list(&[
            "user::rw-",
            "group::r--",
            "group:wheel:rw-",
            "mask::rw-",
            "other::---"
        ])
    );
    assert_eq!(f.get("kvm.device_accessible"), Fact::known(true));

    // Without an ACL the list is empty and the mode bits decide.
    setfacl(&dev, &["-b"]).unwrap();
    let f = gather(dir.path());
    assert_eq!(f.get("kvm.device_acl"), list(&[]));
    assert_eq!(f.get("kvm.device_accessible"), Fact::known(false));
}

/// A sysroot whose `/dev/kvm` is a real kvm device node (10:232) made with mknod; run the
/// binary on it with [`as_alice_with_live_proc`], so it judges the uid and groups the kernel
/// gave it.
fn live_credentials_root(mode: u32, acl: &[&str]) -> Option<tempfile::TempDir> {
    let dir = copy_of("docker-osx-ready");
    mknod_kvm(
        dir.path(),
        mode,
        992,
        &["kvm.device_accessible against the kernel's own verdict (ACLs)"],
    )?;
    if !acl.is_empty() {
        setfacl(&dir.path().join("dev/kvm"), acl)?;
    }
    // The temp dir is 0700: the user must reach the device to be judged by its mode.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    Some(dir)
}

/// `setpriv` as uid 1000 (alice in the fixture's /etc/passwd), gid 1000, with exactly the
/// supplementary `groups` (comma-separated gids, or empty).
fn as_alice(groups: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args(alice_args(groups));
    cmd.env_clear().env("PATH", "/usr/bin:/bin");
    cmd
}

/// setpriv's arguments for [`as_alice`], up to and including `--`.
fn alice_args(groups: &str) -> Vec<&str> {
    let mut args = vec!["--reuid", "1000", "--regid", "1000"];
    if groups.is_empty() {
        args.push("--clear-groups");
    } else {
        args.extend(["--groups", groups]);
    }
    args.push("--");
    args
}

/// [`as_alice`] in a mount namespace where this machine's /proc is bind-mounted on the root's
/// `/proc`: the root's `/proc/self` is then the binary's own (a link to the host's /proc would
/// be resolved inside the root, as every link is).
fn as_alice_with_live_proc(groups: &str, root: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount --bind /proc \"$0/proc\" && exec setpriv \"$@\"",
    ])
    .arg(root)
    .args(alice_args(groups))
    .env_clear()
    .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    cmd
}

#[test]
fn the_binary_judges_dev_kvm_as_the_kernel_does_for_a_real_unprivileged_user() {
    if !common::prereq::ready(common::AS_NOBODY) {
        return;
    }
    // (mode, setfacl arguments, session groups): 992 is kvm, 968 libvirt in the fixture.
    let cases: &[(u32, &[&str], &str)] = &[
        (0o660, &[], ""),
        (0o660, &[], "992"),
        (0o666, &[], ""),
        (0o660, &["-m", "u:1000:rw"], ""),
        (0o660, &["-m", "u:1000:rw,m::r"], ""),
        (0o660, &["-m", "u:1000:r"], "992"),
        (0o666, &["-m", "u:1000:---"], ""),
        (0o660, &["-m", "g:968:rw"], "968"),
        (0o660, &["-m", "g:968:rw"], ""),
        (0o606, &["-m", "g:968:r"], "968"),
        (0o600, &["-m", "g:992:rw,m::rw"], "992"),
    ];
    let mut agreed = 0;
    for (mode, acl, groups) in cases {
        let Some(dir) = live_credentials_root(*mode, acl) else {
            return;
        };
        let dev = dir.path().join("dev/kvm");
        // The kernel's verdict: open the device read-write as the user.
        let kernel = as_alice(groups)
            .args(["sh", "-c", "exec 3<>\"$0\"", dev.to_str().unwrap()])
            .output()
            .unwrap();
        let kernel_allows = kernel.status.success();
        if !kernel_allows {
            assert!(
                String::from_utf8_lossy(&kernel.stderr).contains("Permission denied"),
                "{:?}",
                kernel
            );
        }
        let out = as_alice_with_live_proc(groups, dir.path())
            .arg(env!("CARGO_BIN_EXE_dockdoc"))
            .args(["check", "--root", dir.path().to_str().unwrap()])
            .args([
                "--profile",
                "docker-osx",
                "--only",
                "kvm-device-permission-denied",
            ])
            .args(["--format", "json"])
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        let check = &json["checks"][0];
        let want = if kernel_allows { "pass" } else { "fail" };
        assert_eq!(
            check["status"],
            want,
            "mode {mode:o}, setfacl {acl:?}, groups [{groups}]: the kernel {} it; dockdoc: {}",
            if kernel_allows { "allows" } else { "denies" },
            check
        );
        agreed += 1;
    }
    assert_eq!(agreed, cases.len());
}

#[test]
fn no_fix_overwrites_a_modprobe_d_file_that_may_exist() {
    let loaded = load_builtin();
    let mut writers = 0;
    for check in &loaded.catalog.checks {
        for step in &check.fix {
            let Some(command) = step.command.as_deref() else {
                continue;
            };
            if !command.contains("modprobe.d") {
                continue;
            }
            assert!(
                !command.contains('>'),
                "{}: a redirection into modprobe.d: {command}",
                check.id
            );
            for (at, _) in command.match_indices("tee ") {
                let target = command[at + 4..]
                    .split_whitespace()
                    .find(|w| !w.starts_with('-'))
                    .unwrap_or_default();
                if target.contains("modprobe.d/") {
                    writers += 1;
                    let name = target.rsplit('/').next().unwrap();
                    assert!(
                        name.starts_with("dockdoc-") && name.ends_with(".conf"),
                        "{}: writes {target}, a name a user or package may already have: {command}",
                        check.id
                    );
                }
            }
        }
    }
    assert!(
        writers >= 2,
        "the ignore_msrs and nested fixes write modprobe.d files"
    );
}
