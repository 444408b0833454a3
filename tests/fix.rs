//! `dockdoc fix` on gathered facts: the plan of a fixture root, and before → after across the
//! two fixture roots a fix connects (a user added to the docker group, whose session predates
//! it). The live runs (apply, undo, strace) are in tests/live/fix.rs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use dockdoc::eval::{self, Selection};
use dockdoc::facts::Facts;
use dockdoc::fix::{plan, verify};

const ONLY: &[&str] = &["user-not-in-docker-group", "session-missing-docker-group"];

/// The facts of a fixture root, gathered by the binary.
fn facts_of(sysroot: &str) -> Facts {
    let out = common::bin()
        .args(["facts", "--format", "json", "--root"])
        .arg(common::sysroot(sysroot))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn findings(facts: &Facts) -> Vec<dockdoc::finding::Finding> {
    let selection = Selection {
        profiles: vec!["docker".into()],
        only: ONLY.iter().map(|s| (*s).to_owned()).collect(),
        skip: Vec::new(),
    };
    eval::run(&dockdoc::catalog::load_builtin().catalog, facts, &selection)
}

/// alice is not in the docker group: the plan adds her (safe, as root, undone with gpasswd -d)
/// and leaves the relogin to her. After it, on the root where she is in the group but her
/// session predates it, the cause is fixed and session-missing-docker-group is "waiting for a
/// relogin" with the ways to get a new session now, never "fixed" and never "still failing".
#[test]
fn joining_the_docker_group_waits_for_a_relogin() {
    let catalog = dockdoc::catalog::load_builtin().catalog;
    let before_facts = facts_of("not-in-docker-group");
    let before = findings(&before_facts);
    let the_plan = plan::plan(&before, &before_facts);
    let step = &the_plan.steps[0];
    assert_eq!(step.check, "user-not-in-docker-group");
    assert_eq!(
        step.command.as_deref(),
        Some("sudo usermod -aG docker alice")
    );
    assert_eq!(step.runs_as, plan::RunsAs::Root);
    assert_eq!(step.tier, dockdoc::catalog::Tier::Safe);
    assert_eq!(step.undo.as_deref(), Some("sudo gpasswd -d alice docker"));
    assert_eq!(the_plan.automatable().count(), 1, "{the_plan:#?}");

    let after = findings(&facts_of("docker-group-not-relogged"));
    let lines = verify::compare(&catalog, &the_plan, &before, &after, true);
    let mut out = Vec::new();
    verify::render(&lines, &after, &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("✓ user-not-in-docker-group  failed → fixed"),
        "{out}"
    );
    assert!(
        out.contains("… session-missing-docker-group  passed before → waiting for a relogin"),
        "{out}"
    );
    assert!(
        out.contains("`newgrp docker` (this shell only), `su - $USER`, or log out and back in"),
        "{out}"
    );
    // Had no step run, the same failure would be no one's doing: still failing.
    let lines = verify::compare(&catalog, &the_plan, &before, &after, false);
    assert!(
        matches!(lines[1].verdict, verify::Verdict::StillFailing(_)),
        "{lines:?}"
    );
}

/// The plan as JSON and as a script, from the binary, on a fixture root.
#[test]
fn the_plan_as_json_and_as_a_script() {
    let root = common::sysroot("not-in-docker-group");
    let out = common::bin()
        .args(["fix", "--format", "json", "--root"])
        .arg(&root)
        .args(["--only", ONLY[0]])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let step = &plan["steps"][0];
    for key in ["check", "command", "runs_as", "tier", "changes", "undo"] {
        assert!(!step[key].is_null(), "{key} in {step:#}");
    }
    assert_eq!(step["runs_as"], "root");
    let out = common::bin()
        .args(["fix", "--format", "shell", "--root"])
        .arg(&root)
        .args(["--only", ONLY[0]])
        .output()
        .unwrap();
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.starts_with("#!/bin/sh\n"), "{script}");
    let commands: Vec<&str> = script
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        commands,
        ["set -eu", "sudo usermod -aG docker alice"],
        "{script}"
    );
    assert!(
        script.contains("# undo: sudo gpasswd -d alice docker"),
        "{script}"
    );
    // sh -n: the script parses.
    let check = std::process::Command::new("sh")
        .args(["-n", "-c", &script])
        .status()
        .unwrap();
    assert!(check.success(), "{script}");
}

/// --apply and --undo act on this machine: not with --root; --yes only with them.
#[test]
fn apply_and_undo_refuse_root_and_yes_needs_them() {
    let root = common::sysroot("not-in-docker-group");
    for args in [
        &["fix", "--apply", "--yes", "--root"][..],
        &["fix", "--undo", "--root"][..],
        &["fix", "--yes", "--root"][..],
    ] {
        let out = common::bin().args(args).arg(&root).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
}

/// A user step, run by a user: its journal is in `$XDG_STATE_HOME/dockdoc/fix/RUN/`, the file
/// it overwrites is backed up there, and `--undo` puts it back byte for byte with its mode. The
/// check is a user's own (`--checks-dir`), failing on any machine that is not Arch-based or is
/// (`os.arch_based` is known either way), so the test needs no particular machine. As root the
/// test runs dockdoc as uid 65534, since root's steps are journaled in /var/lib/dockdoc/fix.
#[test]
fn a_user_step_is_journaled_in_the_state_dir_and_undone_byte_for_byte() {
    use std::os::unix::fs::PermissionsExt;
    let root = nix::unistd::geteuid().is_root();
    if root && !common::prereq::ready(&[common::prereq::Need::Program("setpriv")]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o777)).unwrap();
    let marker = home.join("dockdoc-marker");
    let state = home.join("state");
    let checks = home.join("checks");
    std::fs::create_dir(&checks).unwrap();
    std::fs::write(&marker, b"old\x00bytes\n").unwrap();
    std::fs::set_permissions(&marker, std::fs::Permissions::from_mode(0o640)).unwrap();
    if root {
        std::os::unix::fs::chown(&marker, Some(65534), Some(65534)).unwrap();
    }
    let marker_s = marker.to_str().unwrap();
    std::fs::write(
        checks.join("site.toml"),
        format!(
            r#"schema = 1
area = "site"
title = "Site"

[[check]]
id = "site-marker-stale"
title = "The site marker is stale"
severity = "info"
profiles = ["docker"]
fails_if = {{ any = [{{ fact = "os.arch_based", is = true }}, {{ fact = "os.arch_based", is = false }}] }}
summary = "the marker is stale"
why = "A test check: it fails on every machine, and its fix rewrites a file of dockdoc's own name."
fix = [{{ step = "Rewrite the marker", command = "printf 'new\\n' > {marker_s}", tier = "safe", changes = "{marker_s}: rewritten", writes = ["{marker_s}"] }}]
"#
        ),
    )
    .unwrap();
    let dockdoc = |args: &[&str]| {
        let mut cmd = if root {
            let mut c = std::process::Command::new("setpriv");
            c.args([
                "--reuid",
                "65534",
                "--regid",
                "65534",
                "--clear-groups",
                "--",
            ])
            .arg(env!("CARGO_BIN_EXE_dockdoc"));
            c
        } else {
            std::process::Command::new(env!("CARGO_BIN_EXE_dockdoc"))
        };
        cmd.args(args)
            .args(["--only", "site-marker-stale", "--checks-dir"])
            .arg(&checks)
            .env("XDG_STATE_HOME", &state)
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env("HOME", home)
            .stdin(std::process::Stdio::null());
        let out = cmd.output().unwrap();
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let (code, text) = dockdoc(&[
        "fix",
        "--apply",
        "--yes",
        "--system-bus",
        "unix:path=/nonexistent",
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("still failing"), "{text}");
    assert_eq!(std::fs::read(&marker).unwrap(), b"new\n");
    let runs: Vec<_> = std::fs::read_dir(state.join("dockdoc/fix"))
        .unwrap_or_else(|e| panic!("no user journal ({e}):\n{text}"))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let journal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(runs[0].join("run.json")).unwrap()).unwrap();
    assert_eq!(journal["entries"][0]["runs_as"], "user", "{journal:#}");
    assert_eq!(
        journal["entries"][0]["saved"][0]["existed"], true,
        "{journal:#}"
    );
    assert!(
        !std::path::Path::new("/var/lib/dockdoc/fix")
            .join(runs[0].file_name().unwrap())
            .exists()
    );

    let (code, text) = dockdoc(&["fix", "--undo", "--yes"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(std::fs::read(&marker).unwrap(), b"old\x00bytes\n", "{text}");
    let mode = std::fs::metadata(&marker).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640, "{text}");
}

/// A fix step fits the endpoint it is for: with a rootless DOCKER_HOST and no dockerd, the
/// system socket is not advised, the rootless setup is; with the system daemon, the reverse.
#[test]
fn docker_not_installed_advises_the_daemon_the_cli_talks_to() {
    use dockdoc::facts::Fact;
    let catalog = dockdoc::catalog::load_builtin().catalog;
    let check = catalog.get("docker-not-installed").unwrap();
    let commands = |kind: &str| {
        let mut facts = Facts::default();
        facts.set("docker.endpoint_kind", Fact::known(kind));
        eval::fill_fix(check, &facts)
            .into_iter()
            .filter_map(|s| s.command)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        commands("rootless"),
        [
            "sudo pacman -S docker",
            "dockerd-rootless-setuptool.sh install"
        ]
    );
    assert_eq!(
        commands("system"),
        [
            "sudo pacman -S docker",
            "sudo systemctl enable --now docker.socket"
        ]
    );
}

/// Every plan of the fixture roots is valid against schema/fix-plan.schema.json
/// (python-jsonschema, Draft 2020-12).
#[test]
fn plans_match_their_json_schema() {
    use common::prereq::{Need, ready};
    if !ready(&[Need::Program("python3"), Need::PythonModule("jsonschema")]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sysroots = common::fixtures().join("sysroots");
    let mut n = 0;
    for entry in std::fs::read_dir(&sysroots).unwrap() {
        let root = entry.unwrap().path();
        let out = common::bin()
            .args(["fix", "--format", "json", "--profile", "all", "--root"])
            .arg(&root)
            .output()
            .unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
        std::fs::write(dir.path().join(format!("{n}.json")), &out.stdout).unwrap();
        n += 1;
    }
    let script = r#"
import json, pathlib, sys, jsonschema
schema = json.loads(pathlib.Path(sys.argv[1]).read_text())
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
bad = [f"{p.name}: {e.message}" for p in sorted(pathlib.Path(sys.argv[2]).glob("*.json"))
       for e in v.iter_errors(json.loads(p.read_text()))]
print("\n".join(bad)); sys.exit(1 if bad else 0)
"#;
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/fix-plan.schema.json"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(n > 10, "{n} plans");
}
