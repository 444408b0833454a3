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

use common::{bin, offered};
use serde_json::Value as Json;

const CLIENTS: &[&str] = &[
    "docker-cli",
    "compose-v2",
    "compose-v1",
    "docker-py",
    "dockerode",
    "go-sdk",
    "testcontainers",
    "buildx",
    "ansible",
    "systemctl",
    "journalctl",
    "dockerd-log",
];
const DISTROS: &[&str] = &[
    "arch",
    "manjaro",
    "endeavouros",
    "debian",
    "ubuntu",
    "fedora",
    "rhel",
    "opensuse",
    "nixos",
    "other",
    "unknown",
];
const FIELDS: [&str; 5] = ["expect", "cause", "settled-by", "client", "distro"];

#[derive(Debug)]
struct Entry {
    file: String,
    line: usize,
    thread: String,
    expect: Vec<String>,
    paste: String,
}

impl Entry {
    fn out_of_scope(&self) -> bool {
        self.expect == ["out-of-scope"]
    }

    /// `test` or `train`: the 64-bit FNV-1a hash of the thread's address, divisible by 3.
    fn half(&self) -> &'static str {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.thread.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        if hash.is_multiple_of(3) {
            "test"
        } else {
            "train"
        }
    }
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/error-corpus")
}

/// Every entry of every corpus file, or the list of what is malformed.
fn parse() -> Result<Vec<Entry>, Vec<String>> {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let starts: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].starts_with("=== "))
            .collect();
        if let Some(&first) = starts.first()
            && let Some(stray) = lines[..first]
                .iter()
                .position(|l| !l.is_empty() && !l.starts_with('#'))
        {
            problems.push(format!("{file}:{}: text before the first entry", stray + 1));
        }
        for (k, &start) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(lines.len());
            let at = format!("{file}:{}", start + 1);
            let thread = lines[start].trim_start_matches("=== ").trim().to_owned();
            if !thread.starts_with("https://") {
                problems.push(format!("{at}: the source is not an https address"));
            }
            let mut fields = BTreeMap::new();
            let mut i = start + 1;
            for name in FIELDS {
                match lines.get(i).and_then(|l| l.split_once(": ")) {
                    Some((key, value)) if key == name && !value.trim().is_empty() => {
                        fields.insert(name, value.trim().to_owned());
                    }
                    _ => problems.push(format!("{at}: line {} should be `{name}: …`", i + 1)),
                }
                i += 1;
            }
            if lines.get(i) != Some(&"---") {
                problems.push(format!("{at}: line {} should be `---`", i + 1));
            }
            let paste = lines[(i + 1).min(end)..end]
                .join("\n")
                .trim_end()
                .to_owned();
            if paste.trim().is_empty() {
                problems.push(format!("{at}: no paste"));
            }
            let client = fields.get("client").map_or("", String::as_str);
            if !client.is_empty() && !CLIENTS.contains(&client) && !client.starts_with("other:") {
                problems.push(format!("{at}: unknown client {client}"));
            }
            let distro = fields.get("distro").map_or("", String::as_str);
            if !distro.is_empty() && !DISTROS.contains(&distro) {
                problems.push(format!("{at}: unknown distro {distro}"));
            }
            entries.push(Entry {
                file: file.clone(),
                line: start + 1,
                thread,
                expect: fields
                    .get("expect")
                    .map(|e| e.split_whitespace().map(str::to_owned).collect())
                    .unwrap_or_default(),
                paste,
            });
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

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
    let docs: Vec<Json> = std::thread::scope(|scope| {
        let handles: Vec<_> = entries
            .chunks(entries.len().div_ceil(8))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|e| {
                            let (code, out) = common::explain_stdin(
                                bin(),
                                &["--offline", "--format", "json"],
                                e.paste.as_bytes(),
                            );
                            assert_eq!(code, 0, "{}:{}: {out}", e.file, e.line);
                            serde_json::from_str::<Json>(&out)
                                .unwrap_or_else(|err| panic!("{err}: {out}"))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
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
