//! `dockdoc explain` measured on real pastes it was not built from (tests/error-corpus, format
//! and split in its README.md): the corpus is checked for form, then every paste is explained
//! offline and each half of the split is reported.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use common::corpus::parse;
use common::{bin, offered};
use serde_json::Value as Json;

#[test]
fn the_corpus_is_well_formed_names_real_checks_and_is_apart_from_the_samples() {
    let entries = parse().unwrap_or_else(|p| panic!("\n{}", p.join("\n")));
    let loaded = dockdoc::catalog::load::load_builtin();
    let ids: BTreeSet<&str> = loaded
        .catalog
        .checks
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    let used: BTreeSet<String> =
        std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/error-samples"))
            .unwrap()
            .flat_map(|e| {
                let text = std::fs::read_to_string(e.unwrap().path()).unwrap_or_default();
                text.lines()
                    .filter_map(|l| l.strip_prefix("=== "))
                    .map(|l| l.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
    let mut problems = Vec::new();
    let mut seen = BTreeMap::new();
    for e in &entries {
        let at = format!("{}:{}", e.file, e.line);
        if let Some(first) = seen.insert(e.thread.clone(), at.clone()) {
            problems.push(format!("{at}: {} is also at {first}", e.thread));
        }
        if used.contains(&e.thread) {
            problems.push(format!("{at}: {} is an error sample's thread", e.thread));
        }
        if !e.out_of_scope() {
            for id in &e.expect {
                if !ids.contains(id.as_str()) {
                    problems.push(format!("{at}: no check has the id {id}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    assert!(entries.len() >= 300, "{} entries", entries.len());
}

/// The least share of the test half's pastes with a cause whose cause explain offers among the
/// first two, offline.
const OFFLINE_FLOOR: f64 = 60.0;

#[derive(Default)]
struct Tally {
    in_scope: usize,
    first: usize,
    two: usize,
    candidates: usize,
    out_of_scope: usize,
    abstained: usize,
}

impl Tally {
    fn line(&self, half: &str) -> String {
        let pct = |k: usize, n: usize| {
            if n == 0 {
                0.0
            } else {
                100.0 * k as f64 / n as f64
            }
        };
        format!(
            "{half}: {} pastes with a cause: first {:.1}%, among the first two {:.1}%, {:.2} candidates on average; {} out of scope: no candidate in {:.1}%",
            self.in_scope,
            pct(self.first, self.in_scope),
            pct(self.two, self.in_scope),
            if self.in_scope == 0 {
                0.0
            } else {
                self.candidates as f64 / self.in_scope as f64
            },
            self.out_of_scope,
            pct(self.abstained, self.out_of_scope),
        )
    }
}

/// Explains every paste offline and reports each half: is a settled cause first, among the
/// first two; how many candidates; and, for the out-of-scope pastes, whether explain named
/// nothing. The figures are printed (`-- --nocapture`) and copied into docs/explain.md.
#[test]
fn offline_accuracy_on_both_halves() {
    let entries = parse().unwrap_or_else(|p| panic!("\n{}", p.join("\n")));
    let docs: Vec<Json> = common::parallel_map(&entries, |e| {
        let (code, out) = common::explain_stdin(
            bin(),
            &["--offline", "--format", "json"],
            e.paste.as_bytes(),
        );
        assert_eq!(code, 0, "{}:{}: {out}", e.file, e.line);
        serde_json::from_str::<Json>(&out).unwrap_or_else(|err| panic!("{err}: {out}"))
    });
    let mut halves: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    for (e, doc) in entries.iter().zip(&docs) {
        let ids = offered(doc);
        let tally = halves.entry(e.half()).or_default();
        if e.out_of_scope() {
            tally.out_of_scope += 1;
            tally.abstained += usize::from(ids.is_empty());
            if e.half() == "train" && !ids.is_empty() {
                misses.push(format!(
                    "{}:{} {}: out of scope, offered {ids:?}",
                    e.file, e.line, e.thread
                ));
            }
            continue;
        }
        let at = ids.iter().position(|id| e.expect.contains(id));
        tally.in_scope += 1;
        tally.candidates += ids.len();
        tally.first += usize::from(at == Some(0));
        tally.two += usize::from(at.is_some_and(|i| i < 2));
        // Only the training half's misses are shown: the test half is not read to tune.
        if e.half() == "train" && at.is_none_or(|i| i >= 2) {
            misses.push(format!(
                "{}:{} {}: expected {:?}, offered {ids:?}",
                e.file, e.line, e.thread, e.expect
            ));
        }
    }
    for (half, tally) in &halves {
        eprintln!("{}", tally.line(half));
    }
    for m in &misses {
        eprintln!("  train miss: {m}");
    }
    // What this measurement holds explain to: no worse than it was measured at (the goals it is
    // short of are in docs/explain.md).
    let held = halves.get("test").unwrap();
    assert!(
        100.0 * held.two as f64 / held.in_scope as f64 >= OFFLINE_FLOOR,
        "{}",
        held.line("test")
    );
    let total: usize = halves.values().map(|t| t.in_scope + t.out_of_scope).sum();
    assert_eq!(total, entries.len());
    let test = halves
        .get("test")
        .map_or(0, |t| t.in_scope + t.out_of_scope);
    assert!(
        (entries.len() / 4..=entries.len() * 2 / 5).contains(&test),
        "the test half has {test} of {} entries",
        entries.len()
    );
}

/// The prevalence table explain ranks by (checks/data/prevalence.toml) is the count of public
/// threads per settled cause: each error sample of a check's file, and each expected check of
/// an entry of the corpus's training half (the test half is never counted). Regenerate with
/// `DOCKDOC_BLESS=1 cargo test --test corpus prevalence`.
#[test]
fn prevalence_table_counts_the_samples_and_the_training_half() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut threads: BTreeMap<String, usize> = BTreeMap::new();
    for entry in std::fs::read_dir(root.join("tests/error-samples")).unwrap() {
        let path = entry.unwrap().path();
        let Some(id) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".txt"))
        else {
            continue;
        };
        if id == "look-alikes" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let n = text
            .lines()
            .filter(|l| l.starts_with("=== https://"))
            .count();
        *threads.entry(id.to_owned()).or_default() += n;
    }
    for e in parse().unwrap_or_else(|p| panic!("\n{}", p.join("\n"))) {
        if e.half() == "train" && !e.out_of_scope() {
            for id in &e.expect {
                *threads.entry(id.clone()).or_default() += 1;
            }
        }
    }
    let mut want = String::from(
        "# How many public threads each check's cause was settled in: the error samples (tests/error-samples,\n\
         # one per sample of the check's file) and the training half of the error corpus (tests/error-corpus,\n\
         # one per expected check). `dockdoc explain` ranks candidates of the same specificity by it.\n\
         # Generated; regenerate with `DOCKDOC_BLESS=1 cargo test --test corpus prevalence`.\n\
         schema = 1\n\n[threads]\n",
    );
    for (id, n) in threads.iter().filter(|(_, n)| **n > 0) {
        want.push_str(&format!("{id} = {n}\n"));
    }
    let path = root.join("checks/data/prevalence.toml");
    if std::env::var_os("DOCKDOC_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let got = std::fs::read_to_string(&path).unwrap();
    assert!(
        got == want,
        "checks/data/prevalence.toml is stale; regenerate it with `DOCKDOC_BLESS=1 cargo test --test corpus prevalence`"
    );
}
