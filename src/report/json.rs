//! The JSON report, `schema_version` 1:
//!
//! ```json
//! {"schema_version": 1, "dockdoc": "0.1.0", "profiles": ["docker"],
//!  "host": {"root": "/"},
//!  "checks": [{"id": "...", "area": "...", "title": "...", "severity": "error|warning|info",
//!              "status": "pass|fail|unknown|skipped|not_applicable|waived", "summary": "...",
//!              "evidence": [{"fact": "kernel.running_release", "state": "known", "value": "6.1.0"}],
//!              "fix": [{"step": "...", "command": "..."}],
//!              "waiver": {"reason": "...", "expires": "2027-03-31", "expired": false}}],
//!  "summary": {"pass": 0, "fail": 0, "unknown": 0, "skipped": 0, "not_applicable": 0,
//!              "waived": 0}}
//! ```
//!
//! Every check of the selected profiles appears exactly once; `waiver` only when one matched.
//! Fields are only ever added within a schema version (`waived` and `waiver` were added to
//! version 1). The JSON Schema is `schema/report.schema.json`, installed as
//! `/usr/share/dockdoc/report.schema.json`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::{Counts, Report};
use crate::finding::Finding;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    dockdoc: &'static str,
    profiles: &'a [String],
    host: BTreeMap<&'a str, &'a str>,
    checks: Vec<&'a Finding>,
    summary: Counts,
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let doc = JsonReport {
        schema_version: SCHEMA_VERSION,
        dockdoc: env!("CARGO_PKG_VERSION"),
        profiles: &report.profiles,
        host: report
            .host
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
        checks: report.findings().collect(),
        summary: report.counts,
    };
    // Serialised into a buffer of its own: serde_json writes a few bytes at a time, which
    // through `dyn Write` is a call each.
    let mut json = Vec::with_capacity(64 * 1024);
    crate::terminal::write_json(&mut json, &doc)?;
    json.push(b'\n');
    out.write_all(&json)
}
