//! The error corpus (tests/error-corpus, format and split in its README.md): its entries, parsed
//! and checked for form, each with the half of the split it belongs to.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

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
pub struct Entry {
    pub file: String,
    pub line: usize,
    pub thread: String,
    pub expect: Vec<String>,
    pub paste: String,
}

impl Entry {
    pub fn out_of_scope(&self) -> bool {
        self.expect == ["out-of-scope"]
    }

    /// `test` or `train`: the 64-bit FNV-1a hash of the thread's address, divisible by 3.
    pub fn half(&self) -> &'static str {
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

pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/error-corpus")
}

/// Every entry of every corpus file, or the list of what is malformed.
pub fn parse() -> Result<Vec<Entry>, Vec<String>> {
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
