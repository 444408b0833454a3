//! The test suite's own rules about what it needs from the machine (tests/common/prereq.rs):
//! every program a test starts is declared with its Debian package, and CI installs every
//! package a declaration names that a new machine lacks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::prereq::{GROUPS, PROGRAMS, PYTHON_MODULES};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// `(file:line, literal)` for every `PATTERN("literal")` in the test sources.
fn literals_after(pattern: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(&repo().join("tests"), &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find(pattern) {
                rest = &rest[at + pattern.len()..];
                if let Some(end) = rest.find('"') {
                    let place =
                        format!("{}:{}", file.strip_prefix(repo()).unwrap().display(), n + 1);
                    found.push((place, rest[..end].to_owned()));
                }
            }
        }
    }
    found
}

#[test]
fn every_program_a_test_starts_is_declared() {
    let declared: BTreeSet<&str> = PROGRAMS.iter().map(|p| p.name).collect();
    let mut undeclared = Vec::new();
    for (place, program) in literals_after("Command::new(\"")
        .into_iter()
        .chain(literals_after("Need::Program(\""))
    {
        let name = program.rsplit('/').next().unwrap();
        if !declared.contains(name) {
            undeclared.push(format!("{place}: {program}"));
        }
    }
    assert!(
        undeclared.is_empty(),
        "declare these in tests/common/prereq.rs PROGRAMS, with their Debian packages:\n{}",
        undeclared.join("\n")
    );
}

/// A package a declaration names is on a new machine (tests/fixtures/fresh-machine) or
/// installed by .ci/run: CI has what every test needs.
#[test]
fn ci_installs_every_package_a_test_needs() {
    let image: BTreeSet<String> =
        std::fs::read_to_string(repo().join("tests/fixtures/fresh-machine/image-packages.txt"))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
    let ci = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    let start = ci.find("packages=(").expect(".ci/run lists its packages");
    let listed: BTreeSet<&str> = ci[start + "packages=(".len()..]
        .split(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let packages = PROGRAMS
        .iter()
        .map(|p| p.package)
        .chain(PYTHON_MODULES.iter().map(|(_, p)| *p))
        .chain(GROUPS.iter().map(|(_, p)| *p))
        // A package name is one word; the others say where the thing comes from.
        .filter(|p| !p.contains(' '));
    let missing: BTreeSet<&str> = packages
        .filter(|p| !image.contains(*p) && !listed.contains(p))
        .collect();
    assert!(
        missing.is_empty(),
        ".ci/run does not install {missing:?}, and a new machine lacks them"
    );
}
