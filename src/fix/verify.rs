//! Before → after: each cause of the plan, and what else changed, judged on the findings of a
//! second gathering after the steps ran. Pure.

use std::io::{self, Write};

use crate::catalog::{Catalog, Tier};
use crate::finding::{Finding, Status};
use crate::terminal::visible;

use super::plan::Plan;

/// What became of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Fixed,
    /// Still failing, with the new summary (the evidence read after the fix).
    StillFailing(String),
    /// Fails, but only because this session predates a group change (`waits_for = "relogin"`).
    WaitingForRelogin(String),
    /// Fails until the reboot the plan ends with.
    WaitingForReboot(String),
    /// Not judged after (unknown, skipped).
    Undecided(String),
}

#[derive(Clone, Debug)]
pub struct Line {
    pub check: String,
    pub verdict: Verdict,
    /// For a cause: its consequences that passed after.
    pub cleared: Vec<String>,
    /// A check that did not fail before (a new failure, or a relogin the fix made necessary).
    pub new: bool,
}

fn fails<'a>(findings: &'a [Finding], id: &str) -> Option<&'a Finding> {
    findings
        .iter()
        .find(|f| f.id == id && f.status == Status::Fail)
}

/// Compares before and after for the plan's causes, then lists checks that fail now and did
/// not before. `ran` tells whether any step ran (a relogin is waited for only then).
pub fn compare(
    catalog: &Catalog,
    plan: &Plan,
    before: &[Finding],
    after: &[Finding],
    ran: bool,
) -> Vec<Line> {
    let waits_relogin =
        |id: &str| catalog.get(id).and_then(|c| c.waits_for.as_deref()) == Some("relogin");
    let verdict = |id: &str| -> Verdict {
        let Some(now) = after.iter().find(|f| f.id == id) else {
            return Verdict::Undecided("not evaluated after the fix".into());
        };
        match now.status {
            Status::Pass | Status::Waived => Verdict::Fixed,
            // No longer judged (the daemon it needs went away, say) is not "fixed".
            Status::NotApplicable => Verdict::Undecided(now.summary.clone()),
            Status::Fail if ran && waits_relogin(id) => {
                Verdict::WaitingForRelogin(now.summary.clone())
            }
            Status::Fail
                if plan
                    .steps
                    .iter()
                    .any(|s| s.check == id && s.tier == Tier::Reboot) =>
            {
                Verdict::WaitingForReboot(now.summary.clone())
            }
            Status::Fail => Verdict::StillFailing(now.summary.clone()),
            Status::Unknown | Status::Skipped => Verdict::Undecided(now.summary.clone()),
        }
    };
    let mut lines: Vec<Line> = plan
        .causes
        .iter()
        .map(|c| Line {
            check: c.check.clone(),
            verdict: verdict(&c.check),
            cleared: c
                .consequences
                .iter()
                .filter(|id| fails(after, id).is_none())
                .cloned()
                .collect(),
            new: false,
        })
        .collect();
    for f in after.iter().filter(|f| f.status == Status::Fail) {
        if fails(before, &f.id).is_none() && !lines.iter().any(|l| l.check == f.id) {
            lines.push(Line {
                check: f.id.clone(),
                verdict: verdict(&f.id),
                cleared: Vec::new(),
                new: true,
            });
        }
    }
    lines
}

/// The group a relogin brings, from the check's `newgrp GROUP` fix command.
fn group_of(after: &[Finding], id: &str) -> Option<String> {
    after
        .iter()
        .find(|f| f.id == id)?
        .fix
        .iter()
        .filter_map(|s| s.command.as_deref())
        .find_map(|c| c.strip_prefix("newgrp ").map(str::to_owned))
}

pub fn render(lines: &[Line], after: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\nAfter the fix (gathered and evaluated again):")?;
    for l in lines {
        let (mark, text) = match &l.verdict {
            Verdict::Fixed => ("✓", "fixed".to_owned()),
            Verdict::StillFailing(s) => ("✗", format!("still failing: {}", visible(s))),
            Verdict::WaitingForRelogin(s) => {
                ("…", format!("waiting for a relogin: {}", visible(s)))
            }
            Verdict::WaitingForReboot(s) => ("…", format!("waiting for a reboot: {}", visible(s))),
            Verdict::Undecided(s) => ("?", format!("not decided: {}", visible(s))),
        };
        let before = if l.new { "passed before" } else { "failed" };
        writeln!(out, "  {mark} {}  {before} → {text}", l.check)?;
        if let Verdict::WaitingForRelogin(_) = l.verdict {
            let group = group_of(after, &l.check);
            let newgrp = group
                .as_deref()
                .map(|g| format!("`newgrp {g}` (this shell only), "))
                .unwrap_or_default();
            writeln!(
                out,
                "      group membership reaches a session at its next login: for a new session now, {newgrp}`su - $USER`, or log out and back in"
            )?;
        }
        // Still failing: the evidence read after the fix, so what changed (or did not) shows.
        if let Verdict::StillFailing(_) = l.verdict
            && let Some(now) = after.iter().find(|f| f.id == l.check)
        {
            for e in &now.evidence {
                writeln!(out, "      {} = {}", visible(&e.fact), e.state.visible())?;
            }
        }
        for c in &l.cleared {
            writeln!(out, "      then {c}: cleared with its cause")?;
        }
    }
    Ok(())
}
