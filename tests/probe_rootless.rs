//! The rootless facts, read from the fixture trees and from small trees built here: subid
//! ranges, newuidmap/newgidmap by mode or by file capability (set with setcap on a real file),
//! the user namespace sysctls, and the session kind from XDG_SESSION_ID and logind's session file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::sysroot;

use dockdoc::facts::{Context, Endpoints, Env, Fact, Facts, Sysroot, rootless};

fn gather(root: &Path, env: &[(&str, &str)], uid: i64, name: &str) -> Facts {
    let ctx = Context::new(
        Sysroot::new(root),
        Endpoints::default(),
        Env::from_pairs(env.iter().copied()),
        Duration::from_secs(3),
    );
    let mut facts = Facts::default();
    facts.set("user.uid", Fact::known(uid));
    facts.set("user.name", Fact::known(name));
    rootless::gather(&ctx, &mut facts);
    rootless::derive(&mut facts);
    facts
}

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn the_broken_fixture() {
    let f = gather(&sysroot("rootless-broken"), &[], 1000, "alice");
    assert_eq!(f.get("rootless.subuid_count"), Fact::known(0i64));
    assert_eq!(f.get("rootless.subgid_count"), Fact::known(65536i64));
    assert_eq!(
        f.get("rootless.subid_overlaps"),
        Fact::known(vec![
            "/etc/subgid:1 100000-165535 overlaps bob's 100000-165535 (line 2)".to_owned()
        ])
    );
    assert_eq!(f.get("rootless.newidmap_usable"), Fact::known(false));
    assert_eq!(
        f.get("rootless.userns_blockers"),
        Fact::known(vec!["kernel.unprivileged_userns_clone = 0".to_owned()])
    );
    assert_eq!(
        f.get("rootless.extras_missing"),
        Fact::known(vec![
            "dockerd-rootless.sh".to_owned(),
            "slirp4netns or pasta".to_owned()
        ])
    );
    assert_eq!(f.get("rootless.linger"), Fact::known(false));
    assert_eq!(
        f.get("rootless.undelegated_controllers"),
        Fact::known(vec!["cpu".to_owned(), "io".to_owned()])
    );
    assert_eq!(
        f.get("rootless.xdg_runtime_dir_state"),
        Fact::known("unset")
    );
    assert_eq!(f.get("rootless.session_kind"), Fact::known("none"));
}

#[test]
fn subids_by_uid_and_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "etc/subuid", "1000:200000:65536\n");
    write(dir.path(), "etc/subgid", "alice:200000\n");
    let f = gather(dir.path(), &[], 1000, "alice");
    assert_eq!(f.get("rootless.subuid_count"), Fact::known(65536i64));
    assert_eq!(
        f.get("rootless.subgid_count"),
        Fact::unknown("/etc/subgid:1: expected owner:first:count")
    );
}

#[test]
fn newuidmap_with_file_capabilities_instead_of_setuid() {
    use common::prereq::Need;
    if !common::prereq::ready(&[Need::Root, Need::Program("setcap")]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "usr/bin/newuidmap", "");
    write(dir.path(), "usr/bin/newgidmap", "");
    let uid = dir.path().join("usr/bin/newuidmap");
    let gid = dir.path().join("usr/bin/newgidmap");
    let setcap = |cap: &str, path: &Path| {
        let out = Command::new("setcap").arg(cap).arg(path).output().unwrap();
        assert!(out.status.success(), "setcap: {out:?}");
    };
    setcap("cap_setuid=ep", &uid);
    setcap("cap_setgid=ep", &gid);
    let f = gather(dir.path(), &[], 1000, "alice");
    assert_eq!(f.get("rootless.newidmap_usable"), Fact::known(true));
    assert_eq!(
        f.get("rootless.newidmap_state"),
        Fact::known("/usr/bin/newuidmap has cap_setuid+ep; /usr/bin/newgidmap has cap_setgid+ep")
    );
    // Swapped capabilities do not count: newuidmap needs cap_setuid.
    setcap("cap_setgid=ep", &uid);
    let f = gather(dir.path(), &[], 1000, "alice");
    assert_eq!(f.get("rootless.newidmap_usable"), Fact::known(false));
}

#[test]
fn the_session_kind_from_logind_s_session_file() {
    let dir = tempfile::tempdir().unwrap();
    // logind's session file as systemd 252 writes it, abridged.
    write(
        dir.path(),
        "run/systemd/sessions/3",
        "# This is private data. Do not parse.\nUID=1000\nUSER=alice\nACTIVE=1\nIS_DISPLAY=0\nSTATE=active\nREMOTE=1\nTYPE=tty\nCLASS=user\n",
    );
    let env = [
        ("XDG_SESSION_ID", "3"),
        ("XDG_RUNTIME_DIR", "/run/user/1000"),
    ];
    let alice = gather(dir.path(), &env, 1000, "alice");
    assert_eq!(alice.get("rootless.session_kind"), Fact::known("login"));
    // After `su bob`: alice's variables, bob judged.
    let bob = gather(dir.path(), &env, 1001, "bob");
    assert_eq!(bob.get("rootless.session_kind"), Fact::known("other-user"));
    assert_eq!(
        bob.get("rootless.xdg_runtime_dir_state"),
        Fact::known("missing")
    );
    let gone = gather(dir.path(), &[("XDG_SESSION_ID", "9")], 1000, "alice");
    assert_eq!(gone.get("rootless.session_kind"), Fact::known("stale"));
}
