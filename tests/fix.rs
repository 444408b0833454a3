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
