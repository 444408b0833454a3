//! The README and the manual in docs/: what they show is real and current. Generated text
//! (docs/checks.md from the catalog and the evidence table, the README's sample output, the
//! reports quoted in docs/troubleshooting.md, the bench table in docs/performance.md) fails here
//! when it goes stale; `DOCKDOC_BLESS=1 cargo test --test readme` rewrites docs/checks.md. Every
//! relative link resolves, and docs/usage.md names every command and flag `--help` lists.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::docs;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// README.md, CONTRIBUTING.md and every Markdown file of docs/.
fn manual() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md"), root().join("CONTRIBUTING.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

#[test]
fn checks_doc_is_generated_from_the_catalog_and_the_evidence() {
    let path = docs::checks_md_path();
    let current = std::fs::read_to_string(&path).unwrap();
    let wanted = docs::checks_md(&current);
    if current == wanted {
        return;
    }
    if std::env::var_os("DOCKDOC_BLESS").is_some() {
        std::fs::write(&path, wanted).unwrap();
        return;
    }
    let line = current
        .lines()
        .zip(wanted.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| current.lines().count().min(wanted.lines().count()));
    panic!(
        "docs/checks.md is stale (first difference at line {}): run DOCKDOC_BLESS=1 cargo test --test readme",
        line + 1
    );
}

#[test]
fn readme_starts_with_the_two_commands() {
    let readme = read("README.md");
    let head: String = readme.lines().take(12).collect::<Vec<_>>().join("\n");
    assert!(head.contains("cargo run --release"), "{head}");
    assert!(head.contains("cargo test --locked"), "{head}");
    let ci = read(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test --locked"),
        ".ci/run must run the README's test command"
    );
}

#[test]
fn readme_is_short() {
    let lines = read("README.md").lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines; it holds at most 300, the rest goes into docs/"
    );
}

#[test]
fn readme_output_is_a_real_report() {
    let readme = read("README.md");
    let snapshot = read("tests/snapshots/kernel-upgraded-no-reboot.txt");
    let start = readme.find("<!-- output:start -->").unwrap();
    let end = readme.find("<!-- output:end -->").unwrap();
    assert!(
        readme[start..end].contains(&snapshot),
        "the README's sample output differs from tests/snapshots/kernel-upgraded-no-reboot.txt; copy it over"
    );
}

/// One code block the manual marks with an HTML comment: `<!-- MARK SPEC -->`, then the block.
struct Marked {
    file: String,
    spec: String,
    /// The block's lines, without its fences.
    body: String,
    /// The text after the block.
    after: String,
}

/// Every block marked with `mark` in README.md, CONTRIBUTING.md and docs/ (at least one).
fn marked(mark: &str) -> Vec<Marked> {
    let mut out = Vec::new();
    for file in manual() {
        // A marker starts a line (the manual also quotes markers in the middle of a line).
        let text = format!("\n{}", std::fs::read_to_string(&file).unwrap());
        let line_mark = format!("\n{mark}");
        let mut rest = text.as_str();
        while let Some(at) = rest.find(&line_mark) {
            rest = &rest[at + line_mark.len()..];
            let (spec, after) = rest.split_once(" -->").unwrap();
            let fenced = after.trim_start_matches('\n');
            assert!(
                fenced.starts_with("```"),
                "{}: no code block after {mark}{spec}",
                file.display()
            );
            let block = &fenced[fenced.find('\n').unwrap() + 1..];
            let (body, after) = block.split_once("```").unwrap();
            out.push(Marked {
                file: file.display().to_string(),
                spec: spec.to_owned(),
                body: body.to_owned(),
                after: after.to_owned(),
            });
        }
    }
    assert!(!out.is_empty(), "no block marked {mark}");
    out
}

/// A block after `<!-- output: tests/snapshots/NAME.txt -->` is a part of that scenario's report,
/// line for line: the walk-through shows what dockdoc printed, not what someone typed.
#[test]
fn quoted_reports_are_real_reports() {
    let problems: Vec<String> = marked("<!-- output: ")
        .into_iter()
        .filter(|m| !read(&m.spec).contains(&m.body))
        .map(|m| format!("{}: the block after {} is not a part of it", m.file, m.spec))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A block after `<!-- replayed by tests/readme.rs: ARGS (exit N) -->` holds what `dockdoc ARGS`,
/// run in the repository, prints now, and the run exits N.
#[test]
fn replayed_examples_are_what_dockdoc_prints() {
    let mut problems = Vec::new();
    for m in marked("<!-- replayed by tests/readme.rs: ") {
        let (args, exit) = m.spec.rsplit_once(" (exit ").unwrap();
        let exit: i32 = exit.trim_end_matches(')').parse().unwrap();
        let out = common::bin()
            .current_dir(root())
            .args(args.split_whitespace())
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        if !m.body.contains(&stdout) || out.status.code() != Some(exit) {
            problems.push(format!(
                "{}: `dockdoc {args}` now prints (exit {:?}):\n{stdout}",
                m.file,
                out.status.code()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether every value of `part` is in `whole`: an object's keys with values that are parts of
/// the whole's, an array's elements parts of the whole's elements, in order.
fn is_part_of(part: &serde_json::Value, whole: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (part, whole) {
        (Value::Object(p), Value::Object(w)) => p
            .iter()
            .all(|(k, v)| w.get(k).is_some_and(|wv| is_part_of(v, wv))),
        (Value::Array(p), Value::Array(w)) => {
            let mut rest = w.iter();
            p.iter().all(|v| rest.any(|wv| is_part_of(v, wv)))
        }
        _ => part == whole,
    }
}

/// A JSON block after `<!-- abridged from: FILE -->` holds only what FILE holds, and the count of
/// checks said after it (`one check of N`) is FILE's.
#[test]
fn abridged_json_is_a_part_of_its_snapshot() {
    for m in marked("<!-- abridged from: ") {
        let example: serde_json::Value = serde_json::from_str(&m.body).unwrap();
        let whole: serde_json::Value = serde_json::from_str(&read(&m.spec)).unwrap();
        assert!(
            is_part_of(&example, &whole),
            "{}: the JSON after {} holds what it does not",
            m.file,
            m.spec
        );
        let total = whole["checks"].as_array().map_or(0, Vec::len);
        if let Some(n) = m.after.split("one check of ").nth(1) {
            let said: String = n.chars().take_while(char::is_ascii_digit).collect();
            assert_eq!(said, total.to_string(), "{}: checks in {}", m.file, m.spec);
        }
    }
}

#[test]
fn performance_table_is_the_last_bench_run() {
    const START: &str = "<!-- bench:start (written by `bench/run --docs`) -->\n";
    let doc = read("docs/performance.md");
    let (a, b) = docs::block(&doc, START, "<!-- bench:end -->")
        .expect("docs/performance.md lacks the bench markers");
    assert!(
        doc[a..b] == read("bench/results.md"),
        "docs/performance.md's table differs from bench/results.md: run `sudo bench/run --profile dist --docs`"
    );
}

/// The headings of a Markdown file as GitHub anchors them (a repeated heading gets `-1`, `-2`).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for line in docs::outside_code_blocks(text) {
        if !line.starts_with('#') {
            continue;
        }
        let heading = line.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let slug = docs::slug(heading);
        let n = seen.entry(slug.clone()).or_insert(0);
        out.insert(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    out
}

/// The targets of the inline links `[text](target)` outside code.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in docs::outside_code_blocks(text) {
        // Code spans hold no links.
        let bare: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join("");
        let mut rest = bare.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            if let Some(end) = rest.find(')') {
                out.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
    }
    out
}

#[test]
fn every_relative_link_resolves() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in manual() {
        let text = std::fs::read_to_string(&file).unwrap();
        let dir = file.parent().unwrap();
        for target in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let linked = if path.is_empty() {
                file.clone()
            } else {
                dir.join(path)
            };
            if !linked.exists() {
                problems.push(format!("{}: {target}: no such file", file.display()));
                continue;
            }
            if let Some(anchor) = anchor {
                let target_text = std::fs::read_to_string(&linked).unwrap_or_default();
                if !anchors(&target_text).contains(anchor) {
                    problems.push(format!("{}: {target}: no such heading", file.display()));
                }
            }
        }
    }
    assert!(checked > 0);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The subcommands and long flags a `--help` lists.
fn help_names(args: &[&str]) -> (Vec<String>, Vec<String>) {
    let out = common::bin().args(args).arg("--help").output().unwrap();
    assert!(out.status.success(), "{args:?} --help failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut commands = Vec::new();
    let mut flags = Vec::new();
    let mut in_commands = false;
    for line in text.lines() {
        if line.ends_with(':') && !line.starts_with(' ') {
            in_commands = line == "Commands:";
            continue;
        }
        let trimmed = line.trim_start();
        // A command's line starts two spaces in; its description's next lines, further.
        if in_commands && line.starts_with("  ") && !line.starts_with("   ") {
            if let Some(name) = trimmed.split_whitespace().next()
                && name != "help"
            {
                commands.push(name.to_owned());
            }
        } else if trimmed.starts_with('-') {
            // The flags, not the description that may follow on the same line.
            let spec = trimmed.split("  ").next().unwrap_or(trimmed);
            for word in spec.split([' ', ',', '=', '[', '<']) {
                if let Some(flag) = word.strip_prefix("--")
                    && !flag.is_empty()
                {
                    flags.push(format!("--{flag}"));
                }
            }
        }
    }
    (commands, flags)
}

/// Whether `doc` names `word` on its own (not as the start of a longer flag or name).
fn names(doc: &str, word: &str) -> bool {
    doc.match_indices(word).any(|(at, _)| {
        let after = doc[at + word.len()..].chars().next();
        let before = doc[..at].chars().next_back();
        !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

#[test]
fn usage_doc_names_every_command_and_flag_of_help() {
    let usage = read("docs/usage.md");
    let (commands, mut flags) = help_names(&[]);
    assert!(!commands.is_empty(), "no commands in --help");
    let mut missing = Vec::new();
    for command in &commands {
        if !names(&usage, &format!("dockdoc {command}")) {
            missing.push(format!("dockdoc {command}"));
        }
        let (subcommands, sub_flags) = help_names(&[command]);
        for sub in subcommands {
            if !names(&usage, &format!("dockdoc {command} {sub}")) {
                missing.push(format!("dockdoc {command} {sub}"));
            }
        }
        flags.extend(sub_flags);
    }
    flags.sort();
    flags.dedup();
    for flag in flags {
        if !names(&usage, &flag) {
            missing.push(flag);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/usage.md does not name what --help lists: {}",
        missing.join(", ")
    );
}
