//! The user probe against the fixture sysroots: who is judged, the groups /etc/group gives
//! them and the groups their session holds.
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

use dockdoc::facts::{Context, Endpoints, Env, Fact, Facts, Sysroot, Value, user};

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sysroots")
        .join(name)
}

fn gather_env(root: &Path, env: &[(&str, &str)]) -> Facts {
    let mut pairs = vec![("HOME", "/home/alice"), ("USER", "alice")];
    pairs.extend_from_slice(env);
    let ctx = Context::new(
        Sysroot::new(root),
        Endpoints::default(),
        Env::from_pairs(pairs),
        Duration::from_secs(3),
    );
    let mut facts = Facts::default();
    user::gather(&ctx, &mut facts);
    user::derive(&mut facts);
    facts
}

fn gather(root: &Path) -> Facts {
    gather_env(root, &[])
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

fn list(items: &[&str]) -> Fact {
    Fact::known(items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
}

fn status_text(uid: u32, gid: u32, groups: &str, ppid: u32) -> String {
    format!(
        "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nPPid:\t{ppid}\n\
         Uid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{gid}\t{gid}\t{gid}\t{gid}\n\
         FDSize:\t256\nGroups:\t{groups} \n"
    )
}

fn assert_unknown_naming(fact: &Fact, needle: &str) {
    match fact {
        Fact::Unknown { reason } => assert!(reason.contains(needle), "{reason}"),
        other => panic!("expected unknown naming {needle}, got {other:?}"),
    }
}

#[test]
fn healthy_alice_is_in_docker_in_the_file_and_the_session() {
    let f = gather(&scenario("healthy-docker-host"));
    assert_eq!(f.get("user.uid"), Fact::known(1000i64));
    assert_eq!(f.get("user.name"), Fact::known("alice"));
    assert_eq!(f.get("user.is_root"), Fact::known(false));
    assert_eq!(f.get("user.sudo_user"), Fact::known(Value::Null));
    assert_eq!(
        f.get("user.groups_configured"),
        list(&["alice", "wheel", "docker"])
    );
    assert_eq!(
        f.get("user.groups_session"),
        list(&["alice", "docker", "wheel"])
    );
    assert_eq!(f.get("user.docker_group_exists"), Fact::known(true));
    assert_eq!(f.get("user.kvm_group_exists"), Fact::known(true));
    assert_eq!(f.get("user.libvirt_group_exists"), Fact::known(false));
}

#[test]
fn the_docker_scenarios_that_share_healthy_users_agree() {
    let healthy = gather(&scenario("healthy-docker-host"));
    for name in [
        "kernel-upgraded-no-reboot",
        "kernel-upgrade-hook-kept-modules",
        "daemon-json-broken",
        "kernel-without-module-support",
    ] {
        let f = gather(&scenario(name));
        for spec in user::SCHEMA {
            assert_eq!(
                f.get(spec.key),
                healthy.get(spec.key),
                "{name}: {}",
                spec.key
            );
        }
    }
}

#[test]
fn docker_group_not_relogged_has_docker_in_the_file_only() {
    let f = gather(&scenario("docker-group-not-relogged"));
    assert_eq!(
        f.get("user.groups_configured"),
        list(&["alice", "wheel", "docker"])
    );
    assert_eq!(f.get("user.groups_session"), list(&["alice", "wheel"]));
    assert_eq!(f.get("user.docker_group_exists"), Fact::known(true));
}

#[test]
fn not_in_docker_group_has_docker_nowhere() {
    let f = gather(&scenario("not-in-docker-group"));
    assert_eq!(f.get("user.groups_configured"), list(&["alice", "wheel"]));
    assert_eq!(f.get("user.groups_session"), list(&["alice", "wheel"]));
    assert_eq!(f.get("user.docker_group_exists"), Fact::known(true));
}

#[test]
fn docker_osx_ready_has_kvm_and_libvirt_everywhere() {
    let f = gather(&scenario("docker-osx-ready"));
    assert_eq!(
        f.get("user.groups_configured"),
        list(&["alice", "wheel", "kvm", "docker", "libvirt"])
    );
    assert_eq!(
        f.get("user.groups_session"),
        list(&["alice", "docker", "libvirt", "kvm", "wheel"])
    );
    assert_eq!(f.get("user.kvm_group_exists"), Fact::known(true));
    assert_eq!(f.get("user.libvirt_group_exists"), Fact::known(true));
}

#[test]
fn docker_osx_missing_kvm_has_neither_kvm_nor_libvirt() {
    let f = gather(&scenario("docker-osx-missing-kvm"));
    assert_eq!(
        f.get("user.groups_configured"),
        list(&["alice", "wheel", "docker"])
    );
    assert_eq!(
        f.get("user.groups_session"),
        list(&["alice", "docker", "wheel"])
    );
    assert_eq!(f.get("user.libvirt_group_exists"), Fact::known(true));
}

#[test]
fn non_arch_host_reads_debian_files() {
    let f = gather(&scenario("non-arch-host"));
    assert_eq!(f.get("user.name"), Fact::known("alice"));
    assert_eq!(
        f.get("user.groups_configured"),
        list(&["alice", "sudo", "docker"])
    );
    assert_eq!(
        f.get("user.groups_session"),
        list(&["alice", "sudo", "docker"])
    );
    assert_eq!(f.get("user.libvirt_group_exists"), Fact::known(false));
}

#[test]
fn garbage_lines_in_etc_group_are_skipped() {
    let dir = copy_of("docker-group-not-relogged");
    let group = dir.path().join("etc/group");
    let text = fs::read_to_string(&group).unwrap();
    fs::write(
        &group,
        format!(
            "\n\nnot a group line\nbroken:x:abc:alice\n:x:5:alice\n{text}\n\n\u{0}\u{1}garbage\nextra:x:2000:bob,alice,\n"
        ),
    )
    .unwrap();
    let f = gather(dir.path());
    assert_eq!(
        f.get("user.groups_configured"),
        list(&["alice", "wheel", "docker", "extra"])
    );
    assert_eq!(f.get("user.groups_session"), list(&["alice", "wheel"]));
}

#[test]
fn unmapped_session_gids_are_shown_as_numbers() {
    let dir = copy_of("healthy-docker-host");
    fs::write(
        dir.path().join("proc/self/status"),
        status_text(1000, 1000, "967 998 1000 4321", 1),
    )
    .unwrap();
    let f = gather(dir.path());
    assert_eq!(
        f.get("user.groups_session"),
        list(&["alice", "docker", "wheel", "4321"])
    );
}

#[test]
fn an_unreadable_group_file_makes_group_facts_unknown_naming_it() {
    let dir = copy_of("healthy-docker-host");
    fs::remove_file(dir.path().join("etc/group")).unwrap();
    let f = gather(dir.path());
    assert_eq!(f.get("user.name"), Fact::known("alice"));
    for key in [
        "user.groups_configured",
        "user.groups_session",
        "user.docker_group_exists",
        "user.kvm_group_exists",
        "user.libvirt_group_exists",
    ] {
        assert_unknown_naming(&f.get(key), "/etc/group");
    }
}

#[test]
fn an_unreadable_status_makes_identity_unknown_naming_it() {
    let dir = copy_of("healthy-docker-host");
    fs::remove_file(dir.path().join("proc/self/status")).unwrap();
    let f = gather(dir.path());
    for key in [
        "user.uid",
        "user.name",
        "user.is_root",
        "user.groups_configured",
        "user.groups_session",
    ] {
        assert_unknown_naming(&f.get(key), "/proc/self/status");
    }
    assert_eq!(f.get("user.sudo_user"), Fact::known(Value::Null));
    assert_eq!(f.get("user.docker_group_exists"), Fact::known(true));
}

#[test]
fn a_uid_without_passwd_entry_is_unknown_by_name() {
    let dir = copy_of("healthy-docker-host");
    fs::write(
        dir.path().join("proc/self/status"),
        status_text(1500, 1500, "1500", 1),
    )
    .unwrap();
    let f = gather(dir.path());
    assert_eq!(f.get("user.uid"), Fact::known(1500i64));
    assert_unknown_naming(&f.get("user.name"), "/etc/passwd: no entry for uid 1500");
    assert_eq!(f.get("user.groups_session"), list(&["1500"]));
}

#[test]
fn root_without_sudo_is_judged_as_root() {
    let dir = copy_of("healthy-docker-host");
    fs::write(
        dir.path().join("proc/self/status"),
        status_text(0, 0, "0 1 2 3 4 6 10", 1),
    )
    .unwrap();
    let f = gather(dir.path());
    assert_eq!(f.get("user.uid"), Fact::known(0i64));
    assert_eq!(f.get("user.name"), Fact::known("root"));
    assert_eq!(f.get("user.is_root"), Fact::known(true));
    assert_eq!(f.get("user.sudo_user"), Fact::known(Value::Null));
    assert_eq!(f.get("user.groups_configured"), list(&["root"]));
    assert_eq!(
        f.get("user.groups_session"),
        list(&["root", "bin", "daemon", "sys", "4", "6", "10"])
    );
}

#[test]
fn under_sudo_alice_is_judged_with_her_shells_groups() {
    let dir = copy_of("docker-group-not-relogged");
    let root = dir.path();
    // dockdoc (uid 0) <- sudo (uid 0) <- alice's bash, which predates her docker membership.
    fs::write(root.join("proc/self/status"), status_text(0, 0, "0", 4300)).unwrap();
    fs::create_dir_all(root.join("proc/4300")).unwrap();
    fs::write(
        root.join("proc/4300/status"),
        status_text(0, 0, "998 1000", 4242),
    )
    .unwrap();
    fs::create_dir_all(root.join("proc/4242")).unwrap();
    fs::write(
        root.join("proc/4242/status"),
        status_text(1000, 1000, "998 1000", 4100),
    )
    .unwrap();
    let f = gather_env(
        root,
        &[
            ("SUDO_USER", "alice"),
            ("SUDO_UID", "1000"),
            ("SUDO_GID", "1000"),
        ],
    );
    assert_eq!(f.get("user.uid"), Fact::known(1000i64));
    assert_eq!(f.get("user.name"), Fact::known("alice"));
    assert_eq!(f.get("user.is_root"), Fact::known(false));
    assert_eq!(f.get("user.sudo_user"), Fact::known("alice"));
    assert_eq!(
        f.get("user.groups_configured"),
        list(&["alice", "wheel", "docker"])
    );
    assert_eq!(f.get("user.groups_session"), list(&["alice", "wheel"]));
}

#[test]
fn under_sudo_without_a_readable_ancestor_the_session_is_unknown() {
    let dir = copy_of("docker-osx-ready");
    fs::write(
        dir.path().join("proc/self/status"),
        status_text(0, 0, "0", 4242),
    )
    .unwrap();
    let f = gather_env(dir.path(), &[("SUDO_USER", "alice")]);
    assert_eq!(f.get("user.uid"), Fact::known(1000i64));
    assert_eq!(f.get("user.sudo_user"), Fact::known("alice"));
    assert_eq!(
        f.get("user.groups_configured"),
        list(&["alice", "wheel", "kvm", "docker", "libvirt"])
    );
    assert_unknown_naming(&f.get("user.groups_session"), "/proc/4242/status");
    assert_unknown_naming(&f.get("user.groups_session"), "sudo");
}

#[test]
fn sudo_user_is_ignored_when_not_running_as_root() {
    let f = gather_env(&scenario("healthy-docker-host"), &[("SUDO_USER", "bob")]);
    assert_eq!(f.get("user.name"), Fact::known("alice"));
    assert_eq!(f.get("user.sudo_user"), Fact::known(Value::Null));
}
