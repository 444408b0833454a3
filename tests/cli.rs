//! The command line as a user meets it: exit statuses, list, explain, facts replay, user check
//! files (good and broken).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::path::Path;

use common::{bin, fixtures};
use serde_json::Value as Json;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

const USER_CHECK: &str = r#"schema = 1
area = "site"
title = "Site rules"

[[check]]
id = "site-forwarding-off"
title = "Our hosts need forwarding"
severity = "error"
profiles = ["docker"]
fails_if = { fact = "kernel.ip_forward", is = false }
summary = "forwarding is off on {kernel.running_release}"
why = "Our containers route between hosts."
fix = [{ step = "Turn it on", command = "sudo sysctl -w net.ipv4.ip_forward=1" }]
"#;

/// A facts file with just what USER_CHECK reads.
fn facts_file(dir: &Path, forward: bool) -> std::path::PathBuf {
    let facts = serde_json::json!({
        "facts": {
            "kernel.ip_forward": {"state": "known", "value": forward},
            "kernel.running_release": {"state": "known", "value": "6.10.5-arch1-1"}
        }
    });
    let path = dir.join(format!("facts-{forward}.json"));
    std::fs::write(&path, facts.to_string()).unwrap();
    path
}

#[test]
fn version_and_help() {
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("dockdoc {}", env!("CARGO_PKG_VERSION")));
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    for word in ["check", "list", "explain", "facts", "--root", "--timeout"] {
        assert!(out.contains(word), "help lacks {word}");
    }
}

#[test]
fn bad_arguments_exit_2() {
    assert_eq!(run(&["--profile", "nope"]).0, 2);
    assert_eq!(run(&["--timeout", "soon"]).0, 2);
    let (code, _, err) = run(&["check", "--only", "no-such-check"]);
    assert_eq!(code, 2);
    assert!(err.contains("no check has the id `no-such-check`"), "{err}");
    let (code, _, err) = run(&["explain", "no-such-check"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-check"), "{err}");
}

#[test]
fn replayed_facts_decide_the_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "site.toml", USER_CHECK);
    let d = dir.path().to_str().unwrap();
    let bad = facts_file(dir.path(), false);
    let (code, out, err) = run(&[
        "check",
        "--checks-dir",
        d,
        "--only",
        "site-forwarding-off",
        "--color",
        "never",
        "--facts",
        bad.to_str().unwrap(),
    ]);
    assert_eq!((code, err.as_str()), (1, ""));
    assert!(
        out.contains("✗ site-forwarding-off  forwarding is off on 6.10.5-arch1-1"),
        "{out}"
    );
    assert!(
        out.contains("fix  Turn it on: sudo sysctl -w net.ipv4.ip_forward=1"),
        "{out}"
    );
    let good = facts_file(dir.path(), true);
    let (code, out, _) = run(&[
        "check",
        "--checks-dir",
        d,
        "--only",
        "site-forwarding-off",
        "--color",
        "never",
        "--facts",
        good.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no problems found, 1 passed"), "{out}");
    // --skip demotes, never hides.
    let (code, out, _) = run(&[
        "check",
        "--checks-dir",
        d,
        "--only",
        "site-forwarding-off",
        "--skip",
        "site-forwarding-off",
        "--format",
        "json",
        "--facts",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let report: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(report["checks"][0]["status"], "skipped");
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["summary"]["skipped"], 1);
}

#[test]
fn a_user_check_replaces_a_builtin_of_the_same_id() {
    let (_, list, _) = run(&["list", "--format", "json"]);
    let builtin: Json = serde_json::from_str(&list).unwrap();
    let Some(first) = builtin.as_array().unwrap().first() else {
        return;
    };
    let id = first["id"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "override.toml",
        &USER_CHECK.replace("site-forwarding-off", id),
    );
    let (code, out, _) = run(&[
        "explain",
        id,
        "--checks-dir",
        dir.path().to_str().unwrap(),
        "--color",
        "never",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("Our containers route between hosts."), "{out}");
}

#[test]
fn a_broken_user_check_file_is_located_and_the_rest_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.toml", USER_CHECK);
    write(
        dir.path(),
        "broken.toml",
        &USER_CHECK
            .replace("site-forwarding-off", "other")
            .replace("why =", "wy ="),
    );
    let bad = facts_file(dir.path(), false);
    let (code, out, err) = run(&[
        "check",
        "--checks-dir",
        dir.path().to_str().unwrap(),
        "--only",
        "site-forwarding-off",
        "--color",
        "never",
        "--facts",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(
        code, 2,
        "a check file that does not load makes the run exit 2"
    );
    assert!(
        err.contains("broken.toml:12:1: unknown field `wy`"),
        "{err}"
    );
    assert!(
        out.contains("site-forwarding-off"),
        "the other checks still ran: {out}"
    );
}

#[test]
fn list_and_explain_cover_every_builtin_check() {
    let (code, out, err) = run(&["list", "--format", "json"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let checks: Json = serde_json::from_str(&out).unwrap();
    for c in checks.as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let (code, text, _) = run(&["explain", id, "--color", "never"]);
        assert_eq!(code, 0, "{id}");
        assert!(text.contains("Why") && text.contains("Fix"), "{id}: {text}");
        let (_, json, _) = run(&["explain", id, "--format", "json"]);
        let doc: Json = serde_json::from_str(&json).unwrap();
        assert_eq!(doc["id"], id);
    }
    let (_, all, _) = run(&["list", "--profile", "all"]);
    let (_, docker, _) = run(&["list", "--profile", "docker"]);
    assert!(all.lines().count() >= docker.lines().count());
}

#[test]
fn facts_round_trip_through_a_file() {
    let root = fixtures().join("sysroots/healthy-docker-host");
    if !root.is_dir() {
        return;
    }
    let (code, out, _) = run(&[
        "facts",
        "--format",
        "json",
        "--root",
        root.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("facts.json");
    std::fs::write(&file, &out).unwrap();
    let (_, live, _) = run(&[
        "check",
        "--format",
        "json",
        "--root",
        root.to_str().unwrap(),
        "--profile",
        "all",
    ]);
    let (_, replayed, _) = run(&[
        "check",
        "--format",
        "json",
        "--facts",
        file.to_str().unwrap(),
        "--profile",
        "all",
    ]);
    // Free space on the data root is measured anew by each run; compare what was judged.
    let strip = |s: &str| {
        let v: Json = serde_json::from_str(s).unwrap();
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].to_string(), c["status"].to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&live), strip(&replayed));
}

#[test]
fn under_root_live_endpoints_are_skipped_with_the_reason() {
    let root = fixtures().join("sysroots/healthy-docker-host");
    if !root.is_dir() {
        return;
    }
    let (_, out, _) = run(&[
        "facts",
        "--format",
        "json",
        "--root",
        root.to_str().unwrap(),
    ]);
    let facts: Json = serde_json::from_str(&out).unwrap();
    let f = &facts["facts"]["docker.reachable"];
    assert_eq!(f["state"], "skipped", "{f}");
    assert!(
        f["reason"].as_str().unwrap().contains("--docker-host"),
        "{f}"
    );
}
