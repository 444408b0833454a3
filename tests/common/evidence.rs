//! Coverage as evidence: what each run EVALUATED, and which real part stood behind it.
//!
//! Every scenario replay (tests/scenarios.rs) and every live run (tests/live/support.rs) writes
//! its evaluated statuses into `target/tmp/evidence-uidN/<run>.json`, each with the part that stood
//! behind the facts the check read: `sysroot` (files of a fixture root), `override` (a live fact
//! a scenario wrote by hand, with its `[why]`), `real dockerd`, `real systemd`, `real X server`,
//! `pacman-built DB`, `host files`, or an absence (`no daemon`, `no system bus`).
//!
//! The committed table `tests/snapshots/evidence.md` names, per check, one run where it evaluated
//! to fail and one where it evaluated to pass. It is checked without relying on the order cargo
//! runs the test binaries in: the scenario binary recomputes every scenario row itself, and each
//! live run checks the rows that name it as it finishes. `DOCKDOC_BLESS=1 cargo test --test
//! scenarios evidence` regenerates the table from the evidence files present (run the live suite
//! first so its runs are there).
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use dockdoc::facts::{Source, source_of};
use serde_json::Value;

/// One evaluated result: the status and the part behind it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub status: String,
    pub part: String,
}

/// One run's evaluated results.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunEvidence {
    /// `scenario NAME` or `live TEST#N`.
    pub run: String,
    pub checks: BTreeMap<String, Entry>,
}

/// Where the evidence files go: one directory per uid, so a run as another user (see
/// tests/run-unprivileged) neither needs nor overwrites root's files.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("evidence-uid{}", nix::unistd::Uid::effective()))
}

/// The committed table.
pub fn table_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/evidence.md")
}

/// Writes one run's evidence (a failure to write is a test failure).
pub fn record(evidence: &RunEvidence) {
    let dir = dir();
    std::fs::create_dir_all(&dir).unwrap();
    let file: String = evidence
        .run
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    std::fs::write(
        dir.join(format!("{file}.json")),
        serde_json::to_string_pretty(evidence).unwrap(),
    )
    .unwrap();
}

/// Every evidence file present.
pub fn recorded() -> Vec<RunEvidence> {
    let Ok(entries) = std::fs::read_dir(dir()) else {
        return Vec::new();
    };
    let mut runs: Vec<RunEvidence> = entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .filter_map(|t| serde_json::from_str(&t).ok())
        .collect();
    runs.sort_by(|a, b| a.run.cmp(&b.run));
    runs
}

/// Real parts the live helpers started, by the endpoint or root they are reached at.
static REAL: Mutex<BTreeMap<String, &'static str>> = Mutex::new(BTreeMap::new());

/// Notes that `endpoint` (a Docker URI, a bus address, a root path) is a real part.
pub fn register_real(endpoint: &str, part: &'static str) {
    REAL.lock().unwrap().insert(endpoint.to_owned(), part);
}

fn real(endpoint: &str) -> Option<&'static str> {
    REAL.lock().unwrap().get(endpoint).copied()
}

/// The facts a check's evidence read that are known.
fn known_facts(check: &Value) -> Vec<&str> {
    check["evidence"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|f| f["state"] == "known")
                .filter_map(|f| f["fact"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// The statuses of a scenario replay, each with its part: `sysroot`, plus `override of KEYS`
/// when the check read an overridden live fact (or a fact derived from one).
pub fn of_scenario(name: &str, report: &Value, overridden: &BTreeSet<String>) -> RunEvidence {
    let mut checks = BTreeMap::new();
    for check in report["checks"].as_array().unwrap() {
        let mut hand = BTreeSet::new();
        let mut parts = BTreeSet::new();
        for fact in known_facts(check) {
            match source_of(fact) {
                Some(Source::File(_)) => {
                    parts.insert("sysroot".to_owned());
                }
                Some(Source::Env(_)) => {
                    parts.insert("env".to_owned());
                }
                Some(Source::Live(_)) if overridden.contains(fact) => {
                    hand.insert(fact.to_owned());
                }
                Some(Source::Derived(from)) => {
                    let from_hand: Vec<&String> = overridden
                        .iter()
                        .filter(|k| from.contains(k.as_str()))
                        .collect();
                    if from_hand.is_empty() {
                        parts.insert("sysroot".to_owned());
                    }
                    hand.extend(from_hand.into_iter().cloned());
                }
                _ => {}
            }
        }
        let mut part: Vec<String> = parts.into_iter().collect();
        if !hand.is_empty() {
            let keys: Vec<String> = hand.into_iter().collect();
            part.push(format!("override of {}", keys.join(", ")));
        }
        checks.insert(
            check["id"].as_str().unwrap().to_owned(),
            Entry {
                status: check["status"].as_str().unwrap().to_owned(),
                part: part.join(" + "),
            },
        );
    }
    RunEvidence {
        run: format!("scenario {name}"),
        checks,
    }
}

/// The value after `flag` in a command line.
fn arg_after<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// The statuses of a live run of the binary with `args`, each with the real parts behind the
/// facts its check read. `docker_host_env` is the DOCKER_HOST the run was given, which
/// `--docker-host` overrides.
pub fn of_live(
    run: &str,
    args: &[String],
    docker_host_env: Option<&str>,
    report: &Value,
) -> RunEvidence {
    let bus = arg_after(args, "--system-bus");
    let docker = arg_after(args, "--docker-host").or(docker_host_env);
    let root = arg_after(args, "--root");
    let mut checks = BTreeMap::new();
    for check in report["checks"].as_array().unwrap() {
        let mut parts = BTreeSet::new();
        let mut facts: Vec<String> = known_facts(check).into_iter().map(str::to_owned).collect();
        let mut seen = BTreeSet::new();
        while let Some(fact) = facts.pop() {
            if !seen.insert(fact.clone()) {
                continue;
            }
            let fact = fact.as_str();
            let part = match source_of(fact) {
                Some(Source::Live(from)) if from.contains("system bus") => {
                    bus.and_then(real).unwrap_or("no system bus")
                }
                Some(Source::Live(from)) if from.contains("user bus") => "no user bus",
                Some(Source::Live(from)) if from.contains("Docker API") => {
                    match docker.and_then(real) {
                        Some(p) => p,
                        None if docker.is_some_and(|d| d.contains("/nonexistent/")) => "no daemon",
                        None => "fake daemon",
                    }
                }
                Some(Source::Live(from)) if from.contains("X server") => "real X server",
                Some(Source::Live(from)) if from.contains("nftables ruleset") => {
                    "real nftables ruleset"
                }
                Some(Source::Live(from)) if from.contains("statvfs") => root
                    .and_then(|r| real(&format!("{r}#statvfs")))
                    .unwrap_or("host filesystem"),
                Some(Source::Live(_)) => "host filesystem",
                Some(Source::File(_)) => match root {
                    Some(r) if fact.starts_with("pacman.") => real(r).unwrap_or("sysroot"),
                    Some(_) => "sysroot",
                    None => "host files",
                },
                Some(Source::Env(_)) => "env",
                // A derived fact stands on what it is derived from.
                Some(Source::Derived(from)) => {
                    facts.extend(
                        from.split(", ")
                            .filter(|k| source_of(k).is_some())
                            .map(str::to_owned),
                    );
                    continue;
                }
                _ => continue,
            };
            parts.insert(part);
        }
        checks.insert(
            check["id"].as_str().unwrap().to_owned(),
            Entry {
                status: check["status"].as_str().unwrap().to_owned(),
                part: parts.into_iter().collect::<Vec<_>>().join(" + "),
            },
        );
    }
    RunEvidence {
        run: format!("live {run}"),
        checks,
    }
}

/// One row of the table: the run that fails the check and the one that passes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    pub fail: Option<(String, String)>,
    pub pass: Option<(String, String)>,
}

fn is_gathered_scenario(run: &str, part: &str) -> bool {
    run.starts_with("scenario ") && !part.contains("override")
}

/// Whether a result can stand in the table: a live run's verdict on the machine's own files or
/// free space alone would differ from machine to machine, so it needs a part the test started.
fn eligible(run: &str, part: &str) -> bool {
    if !run.starts_with("live ") {
        return true;
    }
    !part.contains("host filesystem")
        && part
            .split(" + ")
            .any(|p| !matches!(p, "" | "host files" | "env"))
}

/// How good a run is as evidence: a scenario on gathered facts (runs everywhere), then a live
/// run, then a scenario that needed an override.
fn rank(run: &str, part: &str) -> u8 {
    if is_gathered_scenario(run, part) {
        0
    } else if run.starts_with("live ") {
        1
    } else {
        2
    }
}

/// The best run per check and status among `runs`.
pub fn best(runs: &[RunEvidence], ids: &[String]) -> BTreeMap<String, Row> {
    let mut rows: BTreeMap<String, Row> =
        ids.iter().map(|id| (id.clone(), Row::default())).collect();
    for r in runs {
        for (id, e) in &r.checks {
            let Some(row) = rows.get_mut(id) else {
                continue;
            };
            if !eligible(&r.run, &e.part) {
                continue;
            }
            let slot = match e.status.as_str() {
                "fail" => &mut row.fail,
                "pass" => &mut row.pass,
                _ => continue,
            };
            let better = match slot {
                None => true,
                Some((run, part)) => (rank(&r.run, &e.part), &r.run) < (rank(run, part), run),
            };
            if better {
                *slot = Some((r.run.clone(), e.part.clone()));
            }
        }
    }
    rows
}

/// The table as markdown.
pub fn render(rows: &BTreeMap<String, Row>) -> String {
    let mut out = String::from(
        "| check | evaluated to fail in | standing on | evaluated to pass in | standing on |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    let cell = |c: &Option<(String, String)>| match c {
        Some((run, part)) => format!("{run} | {part}"),
        None => "— | —".to_owned(),
    };
    for (id, row) in rows {
        out.push_str(&format!(
            "| `{id}` | {} | {} |\n",
            cell(&row.fail),
            cell(&row.pass)
        ));
    }
    out
}

/// Parses the committed table back into rows.
pub fn parse(text: &str) -> BTreeMap<String, Row> {
    let mut rows = BTreeMap::new();
    for line in text.lines().skip(2) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        if cells.len() != 5 {
            continue;
        }
        let slot = |run: &str, part: &str| (run != "—").then(|| (run.to_owned(), part.to_owned()));
        rows.insert(
            cells[0].trim_matches('`').to_owned(),
            Row {
                fail: slot(cells[1], cells[2]),
                pass: slot(cells[3], cells[4]),
            },
        );
    }
    rows
}

/// The committed rows, or none when the table is not there yet.
pub fn committed() -> BTreeMap<String, Row> {
    std::fs::read_to_string(table_path())
        .map(|t| parse(&t))
        .unwrap_or_default()
}

/// The rows of the committed table credited to `run` (or to its numbered runs, `run#N`), as
/// `check status`: what stays unproven when it is skipped.
pub fn credited_to(run: &str) -> Vec<String> {
    let numbered = format!("{run}#");
    let mut out = Vec::new();
    for (id, row) in committed() {
        for (status, slot) in [("fail", &row.fail), ("pass", &row.pass)] {
            if slot
                .as_ref()
                .is_some_and(|(r, _)| r == run || r.starts_with(&numbered))
            {
                out.push(format!("{id} {status}"));
            }
        }
    }
    out
}

/// Asserts that every committed row naming this run holds in it.
pub fn verify_run(evidence: &RunEvidence) {
    let mut wrong = Vec::new();
    for (id, row) in committed() {
        for (want, slot) in [("fail", &row.fail), ("pass", &row.pass)] {
            let Some((run, part)) = slot else { continue };
            if *run != evidence.run {
                continue;
            }
            let got = evidence.checks.get(&id);
            if got.map(|e| (e.status.as_str(), e.part.as_str())) != Some((want, part.as_str())) {
                wrong.push(format!(
                    "{id}: tests/snapshots/evidence.md says {run} evaluates it to {want} on {part}, it gave {got:?}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "stale evidence table (regenerate: cargo test --test live; DOCKDOC_BLESS=1 cargo test --test scenarios evidence):\n{}",
        wrong.join("\n")
    );
}
