//! The verdict: matched checks evaluated on the facts the caller gathered, ranked, and rendered.

use std::io::Write;

use serde::Serialize;

use super::endpoint::{Bearing, Reading};
use super::matcher::Match;
use super::{BOLD, DIM, GREEN, RED, YELLOW};
use crate::catalog::{Catalog, Check, Severity};
use crate::eval::{self, Selection};
use crate::facts::{Fact, Facts};
use crate::finding::{Finding, Status};
use crate::terminal::visible;

/// A matched check with its status on this machine (None: not evaluated, `--offline`).
pub(super) struct Candidate<'a> {
    check: &'a Check,
    matched: Match,
    finding: Option<Finding>,
    /// How the endpoint the paste names bears on the check.
    bearing: Bearing,
    /// Not matched by the paste: the check fails on this machine in the area of one that matched
    /// and that this machine does not rule out (an error or a warning; an info check causes no
    /// error), or is the cause of one that matched (`matched` is that one's line).
    related: bool,
    /// The failing candidate this one follows from (one cause, one fix): it ranks after it.
    cause: Option<String>,
}

impl Candidate<'_> {
    fn status(&self) -> &'static str {
        if self.bearing == Bearing::Other {
            return "other_endpoint";
        }
        self.finding
            .as_ref()
            .map_or("not_run", |f| f.status.as_str())
    }

    /// This machine rules the check out: it passes or does not apply here. A failure in its
    /// area is then no cause of the paste (the paste's own cause was ruled out, or the error
    /// came from elsewhere).
    fn ruled_out_here(&self) -> bool {
        matches!(
            self.finding.as_ref().map(|f| f.status),
            Some(Status::Pass | Status::NotApplicable)
        )
    }

    /// Offered as a possible cause: not ruled out by the endpoint the paste names.
    fn offered(&self) -> bool {
        self.bearing != Bearing::Other
    }

    /// Lower ranks first: not ruled out by the endpoint; failing here, then undecided, then
    /// ruled out; matched by the paste before failing in its area; judging the named endpoint; the message printed first (a cause comes
    /// before its consequences); on the same line, the more specific message; the more severe
    /// check.
    #[allow(clippy::type_complexity)]
    fn rank(&self) -> (bool, u8, bool, Bearing, usize, std::cmp::Reverse<usize>, u8) {
        let sev = match self.check.severity {
            Severity::Error => 0,
            Severity::Warning => 1,
            Severity::Info => 2,
        };
        let st = match self.finding.as_ref().map(|f| f.status) {
            Some(Status::Fail | Status::Waived) => 0,
            None => 1,
            Some(Status::Unknown) => 2,
            Some(Status::Skipped) => 3,
            Some(Status::NotApplicable) => 4,
            Some(Status::Pass) => 5,
        };
        (
            !self.offered(),
            st,
            self.related,
            self.bearing,
            self.matched.line,
            std::cmp::Reverse(self.matched.specificity),
            sev,
        )
    }
}

#[derive(Serialize)]
struct JsonMatch<'a> {
    id: &'a str,
    title: &'a str,
    line: usize,
    text: &'a str,
    status: &'a str,
    /// The failing check this one follows from on this machine (one cause, one fix).
    #[serde(skip_serializing_if = "Option::is_none")]
    consequence_of: Option<&'a str>,
}

#[derive(Serialize)]
pub(super) struct JsonVerdict<'a> {
    id: Option<&'a str>,
    reason: String,
}

#[derive(Serialize)]
struct JsonExplain<'a> {
    schema_version: u32,
    /// The paste names another kind of daemon than this run's endpoint (see
    /// [`super::endpoint::elsewhere`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint_note: Option<&'a str>,
    matches: Vec<JsonMatch<'a>>,
    verdict: JsonVerdict<'a>,
}

/// The verdict over ranked candidates: the first failing check, or why there is none.
pub(super) fn verdict<'a>(ranked: &[Candidate<'a>], offline: bool) -> JsonVerdict<'a> {
    let offered = ranked.iter().filter(|c| c.offered()).count();
    match ranked.first().filter(|c| c.offered()) {
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
                .filter(|_| offered == 1),
            reason: if offered == 1 {
                "one check recognises this text (not confirmed on this machine: --offline)".into()
            } else {
                format!(
                    "{offered} checks recognise this text; run without --offline to let this machine decide"
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
                        "no matching check fails on this machine, but {undecided} could not be decided here (listed above)"
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
    reading: Reading,
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
    let offered: Vec<&Candidate<'_>> = candidates
        .iter()
        .filter(|c| c.offered() && !c.related)
        .collect();
    let mut lines: Vec<(usize, &str)> = offered
        .iter()
        .map(|c| (c.matched.line, c.matched.text.as_str()))
        .collect();
    lines.sort();
    lines.dedup();
    // The paste's own lines, and below every text filled from the facts, are shown with
    // their control characters made visible.
    for (n, text) in &lines {
        writeln!(out, "  {DIM}line {n}:{DIM:#} {}", visible(text))?;
    }
    let same_line = lines.len() < offered.len();
    if offered.len() > 1 {
        writeln!(
            out,
            "\n{} checks match{}; {}",
            offered.len(),
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
        if !c.offered() {
            let named = reading.why_ruled_out(c.check);
            writeln!(
                out,
                "{DIM}·{DIM:#} {BOLD}{}{BOLD:#}  ruled out (the paste names {named}): {}",
                c.check.id,
                visible(&c.check.title)
            )?;
            continue;
        }
        let follows;
        let (mark, style, word) = match c.finding.as_ref().map(|f| f.status) {
            Some(Status::Fail) if c.cause.is_some() => {
                follows = format!(
                    "fails here, as a consequence of {}",
                    c.cause.as_deref().unwrap_or_default()
                );
                ("✗", RED, follows.as_str())
            }
            Some(Status::Fail) if c.related => ("✗", RED, "fails here, in the same area"),
            Some(Status::Fail) => ("✗", RED, "likely cause"),
            Some(Status::Pass) => ("✓", GREEN, "ruled out"),
            Some(Status::NotApplicable) => ("·", DIM, "ruled out (does not apply here)"),
            Some(Status::Unknown) => ("?", YELLOW, "could not be decided"),
            Some(Status::Skipped) => ("-", DIM, "not checked"),
            Some(Status::Waived) => ("~", DIM, "likely cause, waived"),
            None => ("•", BOLD, "candidate"),
        };
        writeln!(
            out,
            "{style}{mark}{style:#} {BOLD}{}{BOLD:#}  {word}: {}",
            c.check.id,
            visible(&c.check.title)
        )?;
        if let Some(f) = c.finding.as_ref().map(Finding::visible) {
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
        Some(id) => writeln!(out, "{BOLD}Verdict:{BOLD:#} {id}: {}", visible(&v.reason)),
        None => writeln!(out, "{BOLD}Verdict:{BOLD:#} {}", visible(&v.reason)),
    }
}

/// The matched checks, each evaluated on `facts` (when given) with the thresholds of
/// `selection`'s profiles, as `dockdoc check` evaluates them; then the checks of `selection`
/// that fail here in the area of a matched one; ranked, the likely cause first.
pub(super) fn candidates<'a>(
    catalog: &'a Catalog,
    matches: Vec<Match>,
    facts: Option<&Facts>,
    selection: &Selection,
) -> (Vec<Candidate<'a>>, Reading) {
    let mut by_line: Vec<&Match> = matches.iter().collect();
    by_line.sort_by_key(|m| m.line);
    let reading = Reading::of(by_line.iter().map(|m| m.text.as_str()));
    let bearing = |check: &Check| reading.bearing(check);
    let pasted = pasted_ports(by_line.iter().map(|m| m.text.as_str()));
    let facts = facts.map(|f| {
        let mut f = f.clone();
        f.set("run.profiles", Fact::known(selection.profiles.clone()));
        if !pasted.is_empty() {
            crate::facts::with_pasted_ports(&mut f, &pasted);
        }
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
                bearing: bearing(check),
                matched: m,
                finding,
                related: false,
                cause: None,
            })
        })
        .collect();
    if let Some(facts) = &facts {
        // The matched checks beside the selected ones, as one run: which failure follows from
        // which is decided over both, as `check` decides it.
        let mut findings: Vec<Finding> = candidates
            .iter()
            .filter_map(|c| c.finding.clone())
            .collect();
        findings.extend(
            eval::run(catalog, facts, selection)
                .into_iter()
                .filter(|f| !candidates.iter().any(|c| c.check.id == f.id)),
        );
        eval::link_consequences(catalog, facts, &mut findings);
        let cause_of = |id: &str| {
            findings
                .iter()
                .find(|f| f.id == id && f.status == Status::Fail)
                .and_then(|f| f.consequence_of.clone())
        };
        let related: Vec<Candidate<'a>> = findings
            .iter()
            .filter(|f| f.status == Status::Fail)
            .filter(|f| !candidates.iter().any(|c| c.check.id == f.id))
            .filter_map(|f| {
                let check = catalog
                    .get(&f.id)
                    .filter(|c| bearing(c) != Bearing::Other)?;
                let near = candidates.iter().find(|c| {
                    c.offered()
                        && ((c.check.area == check.area
                            && f.severity != Severity::Info
                            && !c.ruled_out_here())
                            || cause_of(&c.check.id).as_deref() == Some(f.id.as_str()))
                })?;
                Some(Candidate {
                    check,
                    matched: near.matched.clone(),
                    bearing: bearing(check),
                    finding: Some(f.clone()),
                    related: true,
                    cause: None,
                })
            })
            .collect();
        candidates.extend(related);
        let listed: Vec<String> = candidates.iter().map(|c| c.check.id.clone()).collect();
        for c in &mut candidates {
            c.cause = cause_of(&c.check.id).filter(|cause| listed.contains(cause));
        }
    }
    candidates.sort_by_key(|c| c.rank());
    (follow_causes(candidates), reading)
}

/// The host ports the matched lines say a rootless daemon could not expose: rootlesskit's
/// "cannot expose privileged port N".
fn pasted_ports<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<u16> {
    static PORT: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let Some(re) = PORT
        .get_or_init(|| regex::Regex::new(r"(?i)cannot expose privileged port (\d+)").ok())
        .as_ref()
    else {
        return Vec::new();
    };
    let mut ports: Vec<u16> = lines
        .flat_map(|l| re.captures_iter(l))
        .filter_map(|c| c.get(1)?.as_str().parse().ok())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Ranked candidates with every consequence moved right after its cause (one cause, one fix:
/// the cause is what to fix first, and the consequences are listed under it).
fn follow_causes(ranked: Vec<Candidate<'_>>) -> Vec<Candidate<'_>> {
    let (consequences, mut rest): (Vec<_>, Vec<_>) =
        ranked.into_iter().partition(|c| c.cause.is_some());
    let mut out = Vec::with_capacity(rest.len() + consequences.len());
    let mut consequences: Vec<Option<Candidate<'_>>> = consequences.into_iter().map(Some).collect();
    for c in rest.drain(..) {
        let id = c.check.id.clone();
        out.push(c);
        for slot in &mut consequences {
            if slot
                .as_ref()
                .is_some_and(|k| k.cause.as_deref() == Some(id.as_str()))
                && let Some(k) = slot.take()
            {
                out.push(k);
            }
        }
    }
    // A cause that is itself listed under another: its consequences at the end, in rank order.
    out.extend(consequences.into_iter().flatten());
    out
}

/// The candidates and the verdict as JSON (`schema_version` 1).
pub(super) fn render_json(
    candidates: &[Candidate<'_>],
    v: JsonVerdict<'_>,
    elsewhere: Option<&str>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let doc = JsonExplain {
        schema_version: 1,
        endpoint_note: elsewhere,
        matches: candidates
            .iter()
            .map(|c| JsonMatch {
                id: &c.check.id,
                title: &c.check.title,
                line: c.matched.line,
                text: &c.matched.text,
                status: c.status(),
                consequence_of: c.cause.as_deref(),
            })
            .collect(),
        verdict: v,
    };
    crate::terminal::write_json(&mut *out, &doc)?;
    writeln!(out)
}
