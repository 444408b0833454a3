//! The real error samples of `tests/error-samples` (format in its README.md), parsed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// One pasted message and what it must (or must not) match.
#[derive(Debug)]
pub struct Sample {
    pub file: String,
    pub source: String,
    /// Must match: the file's check id plus its `also:` ids (empty for look-alikes).
    pub must: Vec<String>,
    /// Must not match (look-alikes only).
    pub must_not: Vec<String>,
    pub text: String,
}

pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/error-samples")
}

fn parse(file: &str, content: &str) -> Vec<Sample> {
    let mut out: Vec<Sample> = Vec::new();
    let look_alikes = file == "look-alikes.txt";
    let own = file.trim_end_matches(".txt").to_owned();
    let mut header = false;
    for line in content.split_inclusive('\n') {
        if let Some(url) = line.strip_prefix("=== ") {
            let url = url.trim();
            assert!(
                url.starts_with("https://") || url.starts_with("live:tests/live/"),
                "{file}: a sample must cite the thread it came from, or the live test whose real program printed it, got `{url}`"
            );
            out.push(Sample {
                file: file.to_owned(),
                source: url.to_owned(),
                must: if look_alikes {
                    Vec::new()
                } else {
                    vec![own.clone()]
                },
                must_not: Vec::new(),
                text: String::new(),
            });
            header = true;
            continue;
        }
        let Some(current) = out.last_mut() else {
            continue; // free comment before the first sample
        };
        if header {
            if let Some(ids) = line.strip_prefix("also: ") {
                current
                    .must
                    .extend(ids.split_whitespace().map(str::to_owned));
                continue;
            }
            if let Some(ids) = line.strip_prefix("not: ") {
                current
                    .must_not
                    .extend(ids.split_whitespace().map(str::to_owned));
                continue;
            }
        }
        header = false;
        current.text.push_str(line);
    }
    for s in &mut out {
        let trimmed = s.text.trim_end_matches('\n').to_owned();
        s.text = trimmed;
        assert!(
            !s.text.trim().is_empty(),
            "{}: empty sample from {}",
            s.file,
            s.source
        );
    }
    out
}

pub fn all_samples() -> Vec<Sample> {
    let mut files: Vec<_> = std::fs::read_dir(samples_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| parse(f, &std::fs::read_to_string(samples_dir().join(f)).unwrap()))
        .collect()
}
