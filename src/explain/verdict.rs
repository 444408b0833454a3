//! The verdict: matched checks evaluated on the facts the caller gathered, ranked, and rendered.

use std::io::Write;

use serde::Serialize;

use super::matcher::Match;
use super::{BOLD, DIM, GREEN, RED, YELLOW};
use crate::catalog::{Catalog, Check, Severity};
use crate::eval::{self, Selection};
use crate::facts::Facts;
use crate::finding::{Finding, Status};

/// A matched check with its status on this machine (None: not evaluated, `--offline`).
pub(super) struct Candidate<'a> {
    check: &'a Check,
    matched: Match,
    finding: Option<Finding>,
}

impl Candidate<'_> {
    fn status(&self) -> &'static str {
        self.finding
            .as_ref()
            .map_or("not_run", |f| f.status.as_str())
    }

    /// Lower ranks first: failing (by severity), then undecided, then ruled out.
    fn rank(&self) -> (u8, u8) {
        let sev = match self.check.severity {
            Severity::Error => 0,
            Severity::Warning => 1,
            Severity::Info => 2,
        };
        let st = match self.finding.as_ref().map(|f| f.status) {
            Some(Status::Fail) => 0,
            None => 1,
            Some(Status::Unknown) => 2,
            Some(Status::Skipped) => 3,
            Some(Status::NotApplicable) => 4,
            Some(Status::Pass) => 5,
        };
        (st, sev)
    }
}

#[derive(Serialize)]
struct JsonMatch<'a> {
    id: &'a str,
    title: &'a str,
    line: usize,
    text: &'a str,
    status: &'a str,
}

#[derive(Serialize)]
pub(super) struct JsonVerdict<'a> {
    id: Option<&'a str>,
    reason: String,
}

#[derive(Serialize)]
struct JsonExplain<'a> {
    schema_version: u32,
    matches: Vec<JsonMatch<'a>>,
    verdict: JsonVerdict<'a>,
}

/// The verdict over ranked candidates: the first failing check, or why there is none.
pub(super) fn verdict<'a>(ranked: &[Candidate<'a>], offline: bool) -> JsonVerdict<'a> {
    match ranked.first() {
        None => JsonVerdict {
            id: None,
            reason:
                "no check recognises this text; run `dockdoc check` to look for problems anyway"
                    .into(),
        },
        Some(_) if offline => JsonVerdict {
            id: ranked
                .first()
                .map(|c| c.check.id.as_str())
                .filter(|_| ranked.len() == 1),
            reason: if ranked.len() == 1 {
                "one check recognises this text (not confirmed on this machine: --offline)".into()
            } else {
                format!(
                    "{} checks recognise this text; run without --offline to let this machine decide",
                    ranked.len()
                )
            },
        },
        Some(first)
            if first
                .finding
                .as_ref()
                .is_some_and(|f| f.status == Status::Fail) =>
        {
            JsonVerdict {
                id: Some(first.check.id.as_str()),
                reason: first
                    .finding
                    .as_ref()
                    .map_or_else(String::new, |f| f.summary.clone()),
            }
        }
        Some(_) => {
            let undecided = ranked
                .iter()
                .filter(|c| {
                    matches!(
                        c.finding.as_ref().map(|f| f.status),
                        Some(Status::Unknown | Status::Skipped)
                    )
                })
                .count();
            JsonVerdict {
                id: None,
                reason: if undecided > 0 {
                    format!(
                        "no matching check fails on this machine, but {undecided} could not be decided here (see below)"
                    )
                } else {
                    "every matching check passes on this machine: the cause is elsewhere, or the error came from another machine".into()
                },
            }
        }
    }
}

pub(super) fn render_explanation(
    candidates: &[Candidate<'_>],
    v: &JsonVerdict<'_>,
    offline: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if candidates.is_empty() {
        writeln!(out, "No check recognises this text.")?;
        writeln!(
            out,
            "Run `dockdoc check` (or `dockdoc check --profile all`) to look for problems anyway."
        )?;
        return Ok(());
    }
    writeln!(out, "{BOLD}Recognised{BOLD:#}")?;
    let mut lines: Vec<(usize, &str)> = candidates
        .iter()
        .map(|c| (c.matched.line, c.matched.text.as_str()))
        .collect();
    lines.sort();
    lines.dedup();
    for (n, text) in &lines {
        writeln!(out, "  {DIM}line {n}:{DIM:#} {text}")?;
    }
    let same_line = lines.len() < candidates.len();
    if candidates.len() > 1 {
        writeln!(
            out,
            "\n{} checks match{}; {}",
            candidates.len(),
            if same_line {
                " (the same message has several possible causes)"
            } else {
                ""
            },
            if offline {
                "without --offline this machine would decide."
            } else {
                "this machine decides:"
            }
        )?;
    }
    writeln!(out)?;
    for c in candidates {
        let (mark, style, word) = match c.finding.as_ref().map(|f| f.status) {
            Some(Status::Fail) => ("✗", RED, "likely cause"),
            Some(Status::Pass) => ("✓", GREEN, "ruled out"),
            Some(Status::NotApplicable) => ("·", DIM, "ruled out (does not apply here)"),
            Some(Status::Unknown) => ("?", YELLOW, "could not be decided"),
            Some(Status::Skipped) => ("-", DIM, "not checked"),
            None => ("•", BOLD, "candidate"),
        };
        writeln!(
            out,
            "{style}{mark}{style:#} {BOLD}{}{BOLD:#}  {word}: {}",
            c.check.id, c.check.title
        )?;
        if let Some(f) = &c.finding {
            if f.status != Status::Pass {
                writeln!(out, "    {}", f.summary)?;
            }
            for step in &f.fix {
                crate::report::human::write_fix_step(out, "    ", "fix ", step)?;
            }
            if f.status != Status::Fail {
                for e in &f.evidence {
                    writeln!(out, "    {DIM}{} = {}{DIM:#}", e.fact, e.state)?;
                }
            }
        }
        writeln!(out, "    {DIM}more{DIM:#} dockdoc explain {}", c.check.id)?;
    }
    writeln!(out)?;
    match v.id {
        Some(id) => writeln!(out, "{BOLD}Verdict:{BOLD:#} {id}: {}", v.reason),
        None => writeln!(out, "{BOLD}Verdict:{BOLD:#} {}", v.reason),
    }
}

/// The matched checks, each evaluated on `facts` (when given) as `dockdoc check --profile all`
/// would, ranked: the likely cause first.
pub(super) fn candidates<'a>(
    catalog: &'a Catalog,
    matches: Vec<Match>,
    facts: Option<&Facts>,
) -> Vec<Candidate<'a>> {
    let selection = Selection {
        profiles: vec!["all".into()],
        only: Vec::new(),
        skip: Vec::new(),
    };
    let facts = facts.map(|f| {
        let mut f = f.clone();
        f.set(
            "run.profiles",
            crate::facts::Fact::known(selection.profiles.clone()),
        );
        f
    });
    let mut candidates: Vec<Candidate<'_>> = matches
        .into_iter()
        .filter_map(|m| {
            let check = catalog.checks.get(m.check)?;
            let finding = facts
                .as_ref()
                .map(|f| eval::evaluate_check(check, f, false));
            Some(Candidate {
                check,
                matched: m,
                finding,
            })
        })
        .collect();
    candidates.sort_by_key(|c| c.rank());
    candidates
}

/// The candidates and the verdict as JSON (`schema_version` 1).
pub(super) fn render_json(
    candidates: &[Candidate<'_>],
    v: JsonVerdict<'_>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let doc = JsonExplain {
        schema_version: 1,
        matches: candidates
            .iter()
            .map(|c| JsonMatch {
                id: &c.check.id,
                title: &c.check.title,
                line: c.matched.line,
                text: &c.matched.text,
                status: c.status(),
            })
            .collect(),
        verdict: v,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
