//! Scenario tests: for each `tests/fixtures/scenarios/<name>.toml`, gather the facts of a fixture
//! sysroot with the real binary (`dockdoc facts --root …`), apply the scenario's overrides for
//! what only a live system shows (units, the daemon, the X server), replay them with
//! `dockdoc check --facts`, and compare every expected status. The text and JSON reports are
//! snapshotted in `tests/snapshots/`; `DOCKDOC_BLESS=1 cargo test --test scenarios` rewrites them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value as Json;

use dockdoc::facts::{Fact, Facts};

use common::{bin, copy_tree, fixtures, is_root, make_char_device, make_socket};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    description: String,
    /// Another scenario whose root, profiles, env, make and facts this one starts from (its
    /// expectations are not inherited).
    extends: Option<String>,
    /// The sysroot under tests/fixtures/sysroots the facts are gathered from.
    root: Option<String>,
    profiles: Option<Vec<String>>,
    /// Environment for gathering (DISPLAY, SUDO_USER, …). HOME defaults to /home/alice.
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// Things git cannot hold, made in a copy of the root: "dev/kvm" (root:kvm 0660),
    /// "dev/kvm acl=u:1000:rw" (the same with that ACL entry), "tmp/.X11-unix/X0".
    #[serde(default)]
    make: Vec<String>,
    /// Fact overrides: a value, or { unknown = "reason" } / { skipped = "reason" }.
    #[serde(default)]
    facts: BTreeMap<String, toml::Value>,
    /// Why a live fact is overridden: a one-line reason per key of `facts`.
    #[serde(default)]
    why: BTreeMap<String, String>,
    /// Expected status per check id.
    expect: BTreeMap<String, String>,
}

/// Facts that differ from machine to machine even under --root, pinned so reports are stable.
const PINNED: &[(&str, i64)] = &[("host.data_root_free_bytes", 107_374_182_400)];

fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Scenario {
    let text = std::fs::read_to_string(path).unwrap();
    let mut sc: Scenario =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if let Some(parent) = sc.extends.take() {
        let base = load(&path.with_file_name(format!("{parent}.toml")));
        sc.root = sc.root.or(base.root);
        sc.profiles = sc.profiles.or(base.profiles);
        for (k, v) in base.env {
            sc.env.entry(k).or_insert(v);
        }
        for (k, v) in base.facts {
            sc.facts.entry(k).or_insert(v);
        }
        sc.make.extend(base.make);
        sc.make.sort();
        sc.make.dedup();
    }
    sc
}

fn override_json(v: &toml::Value) -> Json {
    match v {
        toml::Value::Table(t) if t.contains_key("unknown") => {
            serde_json::json!({"state": "unknown", "reason": t["unknown"].as_str().unwrap()})
        }
        toml::Value::Table(t) if t.contains_key("skipped") => {
            serde_json::json!({"state": "skipped", "reason": t["skipped"].as_str().unwrap()})
        }
        other => {
            serde_json::json!({"state": "known", "value": serde_json::to_value(other).unwrap()})
        }
    }
}

/// Gathers the facts of the scenario's root and applies its overrides. Returns None (with the
/// reason printed) when the scenario needs something only root can make.
fn facts_of(name: &str, sc: &Scenario, work: &Path) -> Option<Json> {
    let root_name = sc.root.clone().unwrap_or_else(|| panic!("{name}: no root"));
    let src = fixtures().join("sysroots").join(&root_name);
    assert!(src.is_dir(), "{name}: no sysroot {}", src.display());
    let root = work.join("root");
    copy_tree(&src, &root);
    for thing in &sc.make {
        match thing.as_str() {
            "dev/kvm" => {
                if !is_root() {
                    eprintln!("skipping scenario {name}: making /dev/kvm needs root");
                    return None;
                }
                make_char_device(&root.join("dev/kvm"), 10, 232, 0o660, "kvm", &root);
            }
            // `dev/kvm acl=SPEC`: the same device with `setfacl -m SPEC` applied.
            s if s.starts_with("dev/kvm acl=") => {
                if !is_root() {
                    eprintln!("skipping scenario {name}: making /dev/kvm needs root");
                    return None;
                }
                let dev = root.join("dev/kvm");
                make_char_device(&dev, 10, 232, 0o660, "kvm", &root);
                let spec = s.trim_start_matches("dev/kvm acl=");
                let out = std::process::Command::new("setfacl")
                    .args(["-m", spec])
                    .arg(&dev)
                    .output()
                    .unwrap_or_else(|e| panic!("{name}: setfacl (package acl): {e}"));
                assert!(
                    out.status.success(),
                    "{name}: setfacl -m {spec}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            s if s.starts_with("tmp/.X11-unix/") || s.ends_with(".sock") => {
                make_socket(&root.join(s))
            }
            other => panic!("{name}: cannot make {other}"),
        }
    }
    let mut cmd = bin();
    cmd.env_clear()
        .env("HOME", "/home/alice")
        .env("PATH", "/usr/bin:/bin");
    for (k, v) in &sc.env {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["facts", "--format", "json", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: facts failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut facts: Facts = serde_json::from_slice(&out.stdout).unwrap();
    // Overrides stand for what a live system would have shown; derived facts are computed again
    // from them, and explicit overrides of derived facts win.
    for key in sc.why.keys() {
        assert!(
            sc.facts.contains_key(key),
            "{name}: [why] names {key}, which [facts] does not override"
        );
    }
    let overrides: Vec<(String, Fact)> = sc
        .facts
        .iter()
        .map(|(k, v)| {
            assert!(
                facts.facts.contains_key(k),
                "{name}: override of unknown fact {k}"
            );
            (k.clone(), serde_json::from_value(override_json(v)).unwrap())
        })
        .collect();
    for (k, v) in &overrides {
        facts.set(k, v.clone());
    }
    dockdoc::facts::derive(&mut facts);
    for (k, v) in &overrides {
        facts.set(k, v.clone());
    }
    for (key, value) in PINNED {
        if !sc.facts.contains_key(*key) {
            facts.set(key, Fact::known(*value));
        }
    }
    if !sc.facts.contains_key("host.data_root_free") {
        let bytes = facts.int("host.data_root_free_bytes").unwrap_or_default();
        facts.set(
            "host.data_root_free",
            Fact::known(format!("{:.1} GiB", bytes as f64 / 1073741824.0)),
        );
    }
    facts.host.insert(
        "root".into(),
        format!("tests/fixtures/sysroots/{root_name}"),
    );
    let facts = serde_json::to_value(&facts).unwrap();
    Some(facts)
}

fn check_replay(facts_file: &Path, profiles: &[String], format: &str) -> (i32, String) {
    let mut cmd = bin();
    cmd.args(["check", "--color", "never", "--format", format, "--facts"])
        .arg(facts_file);
    for p in profiles {
        cmd.args(["--profile", p]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn snapshot(name: &str, ext: &str, actual: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.{ext}"));
    if std::env::var_os("DOCKDOC_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    (expected != actual).then(|| {
        format!(
            "snapshot {} differs (DOCKDOC_BLESS=1 cargo test --test scenarios to accept):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        )
    })
}

#[test]
fn every_scenario_gives_the_expected_statuses() {
    let mut failures = Vec::new();
    let mut diffs = Vec::new();
    for file in scenario_files() {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let sc = load(&file);
        assert!(!sc.description.is_empty());
        let work = tempfile::tempdir().unwrap();
        let Some(facts) = facts_of(&name, &sc, work.path()) else {
            continue;
        };
        let facts_file = work.path().join("facts.json");
        std::fs::write(&facts_file, serde_json::to_string_pretty(&facts).unwrap()).unwrap();

        let profiles = sc.profiles.clone().unwrap_or_else(|| vec!["all".into()]);
        let (code, json) = check_replay(&facts_file, &profiles, "json");
        let report: Json = serde_json::from_str(&json).unwrap();
        let statuses: BTreeMap<&str, &str> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].as_str().unwrap(), c["status"].as_str().unwrap()))
            .collect();
        for (id, want) in &sc.expect {
            match statuses.get(id.as_str()) {
                Some(got) if got == want => {}
                got => failures.push(format!("{name}: {id}: expected {want}, got {got:?}")),
            }
        }
        let has_error = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["status"] == "fail" && c["severity"] == "error");
        assert_eq!(code, i32::from(has_error), "{name}: exit status");
        let mut snapshot_failures = Vec::new();
        snapshot_failures.extend(snapshot(&name, "json", &json));
        let (_, text) = check_replay(&facts_file, &profiles, "text");
        snapshot_failures.extend(snapshot(&name, "txt", &text));
        diffs.extend(snapshot_failures);
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(diffs.is_empty(), "\n{}", diffs.join("\n"));
}

#[test]
fn every_check_fails_in_one_scenario_and_passes_in_another() {
    let out = bin().args(["list", "--format", "json"]).output().unwrap();
    let checks: Json = serde_json::from_slice(&out.stdout).unwrap();
    let mut seen: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for file in scenario_files() {
        for (id, status) in load(&file).expect {
            let e = seen.entry(id).or_default();
            e.0 |= status == "fail";
            e.1 |= status == "pass";
        }
    }
    let mut missing = Vec::new();
    for c in checks.as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        match seen.get(id) {
            Some((true, true)) => {}
            Some((f, p)) => missing.push(format!(
                "{id}: fails in a scenario: {f}, passes in one: {p}"
            )),
            None => missing.push(format!("{id}: in no scenario")),
        }
    }
    assert!(missing.is_empty(), "\n{}", missing.join("\n"));
}
