//! Run through sudo, dockdoc judges SUDO_USER: their groups, the session of the shell they ran
//! sudo from, and that shell's DOCKER_HOST and ~/.docker/config.json (sudo resets the
//! environment and HOME). Real sudo, a real unprivileged user (created once, idempotently).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::process::Command;

use serde_json::Value as Json;

const USER: &str = "dockdoc-t";

use common::prereq::Need;

/// A user with passwordless sudo, made with useradd, whose shell runs sudo through runuser.
const NEEDS: &[Need] = &[
    Need::Root,
    Need::Program("sudo"),
    Need::Program("runuser"),
    Need::Program("useradd"),
];

fn ok(cmd: &mut Command) -> bool {
    cmd.output().is_ok_and(|o| o.status.success())
}

/// The test user, with passwordless sudo and a config.json naming a context; `Err` says why not.
fn setup() -> Result<String, String> {
    if !ok(Command::new("id").arg(USER))
        && !ok(Command::new("useradd").args(["-m", "-U", "-s", "/bin/bash", USER]))
    {
        return Err(format!("useradd {USER} failed"));
    }
    let sudoers = format!("/etc/sudoers.d/{USER}");
    std::fs::write(&sudoers, format!("{USER} ALL=(root) NOPASSWD: ALL\n")).unwrap();
    std::fs::set_permissions(
        &sudoers,
        std::os::unix::fs::PermissionsExt::from_mode(0o440),
    )
    .unwrap();
    let home = format!("/home/{USER}");
    std::fs::create_dir_all(format!("{home}/.docker")).unwrap();
    std::fs::write(
        format!("{home}/.docker/config.json"),
        r#"{"currentContext":"dockdoc-sudo-ctx"}"#,
    )
    .unwrap();
    ok(Command::new("chown").args(["-R", &format!("{USER}:{USER}"), &format!("{home}/.docker")]));
    Ok(home)
}

/// `dockdoc ARGS` through sudo from a bash owned by the test user (the `; true` keeps bash
/// from exec-ing sudo, so the shell stays the parent, as at a prompt).
fn through_sudo(env: &str, args: &str) -> Json {
    let exe = env!("CARGO_BIN_EXE_dockdoc");
    let out = Command::new("runuser")
        .args(["-u", USER, "--", "bash", "-c"])
        .arg(format!("{env} sudo -n {exe} {args}; true"))
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn value<'a>(facts: &'a Json, key: &str) -> &'a Json {
    &facts["facts"][key]["value"]
}

#[test]
fn under_sudo_the_invoking_user_is_judged_and_told_so() {
    if !common::prereq::ready(NEEDS) {
        return;
    }
    if let Err(reason) = setup() {
        panic!("{reason}");
    }
    let facts = through_sudo("", "facts --format json");
    assert_eq!(value(&facts, "user.name"), USER);
    assert_eq!(value(&facts, "user.sudo_user"), USER);
    assert_eq!(value(&facts, "user.is_root"), false);
    let session = value(&facts, "user.groups_session").as_array().unwrap();
    assert!(session.contains(&Json::from(USER)), "{session:?}");
    assert!(
        !session.contains(&Json::from("root")),
        "the shell's groups, not sudo's: {session:?}"
    );
    // config.json from the user's home, not root's.
    assert_eq!(value(&facts, "docker.context"), "dockdoc-sudo-ctx");
    // DOCKER_HOST from the user's shell, which sudo dropped.
    let facts = through_sudo(
        "export DOCKER_HOST=unix:///nonexistent/dockdoc-sudo.sock;",
        "facts --format json",
    );
    assert_eq!(
        value(&facts, "docker.endpoint"),
        "unix:///nonexistent/dockdoc-sudo.sock"
    );
    assert_eq!(value(&facts, "docker.endpoint_source"), "DOCKER_HOST");

    let report = through_sudo("", "check --profile all --format json");
    let checks = report["checks"].as_array().unwrap();
    let sudo = checks
        .iter()
        .find(|c| c["id"] == "running-under-sudo")
        .unwrap();
    assert_eq!(sudo["status"], "fail", "it says it runs under sudo");
    assert!(sudo["summary"].as_str().unwrap().contains(USER), "{sudo}");
    for c in checks {
        for f in c["fix"].as_array().unwrap() {
            let cmd = f["command"].as_str().unwrap_or_default();
            assert!(
                !cmd.contains(" root"),
                "{}: advice for root: {cmd}",
                c["id"]
            );
        }
    }
}

#[test]
fn root_itself_is_never_told_to_join_a_group() {
    if !common::prereq::ready(&[Need::Root]) {
        return;
    }
    let out = common::bin()
        .args(["check", "--profile", "all", "--format", "json"])
        .env_remove("SUDO_USER")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let report: Json = serde_json::from_slice(&out.stdout).unwrap();
    for c in report["checks"].as_array().unwrap() {
        for f in c["fix"].as_array().unwrap() {
            let cmd = f["command"].as_str().unwrap_or_default();
            assert!(!cmd.contains("usermod"), "{}: {cmd}", c["id"]);
            assert!(!cmd.contains("gpasswd"), "{}: {cmd}", c["id"]);
        }
    }
}
