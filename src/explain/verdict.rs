//! The verdict: matched checks evaluated on the facts the caller gathered, ranked, and rendered.

use std::io::Write;

use serde::Serialize;

use super::endpoint::{Bearing, Reading};
use super::matcher::Match;
use super::signals::Tie;
use super::{BOLD, DIM, GREEN, RED, YELLOW};
use crate::catalog::signals::{Kind, Signal, Vocabulary};
use crate::catalog::{Catalog, Check, Severity};
use crate::eval::{self, Selection};
use crate::facts::{Fact, Facts};
use crate::finding::{Finding, Status};
use crate::terminal::visible;

/// A matched check with its status on this machine (None: not evaluated, `--offline`).
pub(super) struct Candidate<'a> {
    check: &'a Check,
    /// Where the paste ties to it: the matched line, or the line its signals stand on.
    matched: Match,
    /// An `explains` pattern matched (else its signals tied it, or it is related).
    pattern: bool,
    /// How the paste's signals tie to it (also for a pattern match: it ranks by them too).
    tie: Option<Tie>,
    finding: Option<Finding>,
    /// How the endpoint the paste names bears on the check.
    bearing: Bearing,
    /// Not matched by the paste: the check fails on this machine in the area of one that matched
    /// and that this machine does not rule out (an error or a warning; an info check causes no
    /// error), or is the cause of one that matched (`matched` is that one's line).
    related: bool,
    /// The failing candidate this one follows from (one cause, one fix): it ranks after it.
    cause: Option<String>,
    /// Related as the cause of a matched one (not only by its area).
    cause_of_matched: bool,
    /// Only touched by the paste (its signals anywhere, not tied): offered because it fails here.
    touched: bool,
}

impl Candidate<'_> {
    /// How the candidate came to be: `pattern`, `signals`, `touch` (the paste only touches it,
    /// and it fails here), `area` (fails here in a matched one's area), `cause` (a matched one's
    /// cause that fails here).
    fn via(&self) -> &'static str {
        if self.pattern {
            "pattern"
        } else if self.touched {
            "touch"
        } else if !self.related {
            "signals"
        } else if self.cause_of_matched {
            "cause"
        } else {
            "area"
        }
    }

    fn score(&self) -> u32 {
        self.tie.as_ref().map_or(0, |t| t.score)
    }

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
    /// ruled out; tied to the paste before failing in its area; matched by a pattern before
    /// tied by signals; judging the named endpoint;
    /// the message printed first (a cause comes before its consequences); on the same line, the
    /// more specific message; the higher signal score; the cause settled in more public
    /// threads; the more severe check.
    #[allow(clippy::type_complexity)]
    fn rank(
        &self,
    ) -> (
        bool,
        u8,
        bool,
        bool,
        Bearing,
        usize,
        std::cmp::Reverse<usize>,
        std::cmp::Reverse<u32>,
        std::cmp::Reverse<u32>,
        u8,
    ) {
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
            !self.pattern,
            self.bearing,
            if self.pattern { self.matched.line } else { 0 },
            std::cmp::Reverse(self.matched.specificity),
            std::cmp::Reverse(self.score()),
            std::cmp::Reverse(crate::catalog::signals::prevalence(&self.check.id)),
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
    /// How it came to be a candidate: `pattern`, `signals`, `touch`, `cause` or `area`.
    via: &'static str,
    /// The signals that tie the paste to it, most specific first, and their score.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    signals: &'a [String],
    #[serde(skip_serializing_if = "is_zero")]
    score: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct JsonRecognised<'a> {
    id: &'a str,
    line: usize,
}

/// A context or elsewhere signal of the paste, and what it means.
#[derive(Serialize)]
struct JsonNote<'a> {
    signal: &'a str,
    line: usize,
    note: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'a str>,
}

impl<'a> JsonNote<'a> {
    fn of((s, line): &(&'a Signal, usize)) -> JsonNote<'a> {
        JsonNote {
            signal: &s.name,
            line: *line,
            note: s.note.as_deref().unwrap_or_default(),
            fix: s.fix.as_deref(),
        }
    }
}

#[derive(Serialize)]
pub(super) struct JsonVerdict<'a> {
    id: Option<&'a str>,
    reason: String,
    /// On a machine where nothing the paste points at fails: what passes here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ruled_out: Vec<&'a str>,
    /// Then, where to look next.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    look: Vec<String>,
}

#[derive(Serialize)]
struct JsonExplain<'a> {
    schema_version: u32,
    /// The paste names another kind of daemon than this run's endpoint (see
    /// [`super::endpoint::elsewhere`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint_note: Option<&'a str>,
    /// Lines around the error that bear on its cause.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    context: Vec<JsonNote<'a>>,
    /// The paste is about something no check covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    elsewhere: Option<JsonNote<'a>>,
    /// Every check whose `explains` patterns matched, with the line, in order of first match.
    recognised: Vec<JsonRecognised<'a>>,
    /// The candidates, ranked (offline, at most three are offered).
    matches: Vec<JsonMatch<'a>>,
    verdict: JsonVerdict<'a>,
}

/// The verdict over ranked candidates: the first failing check, or why there is none (and,
/// on a machine, what was ruled out and where to look next).
pub(super) fn verdict<'a>(
    ranked: &[Candidate<'a>],
    context: &Context<'_>,
    offline: bool,
    facts: Option<&Facts>,
) -> JsonVerdict<'a> {
    let offered = ranked.iter().filter(|c| c.offered()).count();
    let plain = |id: Option<&'a str>, reason: String| JsonVerdict {
        id,
        reason,
        ruled_out: Vec::new(),
        look: Vec::new(),
    };
    match ranked.first().filter(|c| c.offered()) {
        None => match context.elsewhere {
            Some((s, _)) => plain(
                None,
                format!(
                    "the paste is about {}, which no check covers; dockdoc names no cause",
                    s.note.as_deref().unwrap_or("something else")
                ),
            ),
            None => plain(
                None,
                "no check recognises this text; run `dockdoc check` to look for problems anyway"
                    .into(),
            ),
        },
        Some(first) if offline => plain(
            // Offline, a verdict only for the one check a pattern matched: signals alone say
            // what a paste is about, not which cause it has.
            Some(first.check.id.as_str()).filter(|_| offered == 1 && first.pattern),
            if offered == 1 && first.pattern {
                "one check recognises this text (not confirmed on this machine: --offline)".into()
            } else if offered == 1 {
                "one check could explain this text (its signals, no pattern; not confirmed on this machine: --offline)".into()
            } else {
                format!(
                    "{offered} checks could explain this text, the likeliest first; run without --offline to let this machine decide"
                )
            },
        ),
        // A check the paste only touches is the verdict when its words single it out: when
        // another that it touches as closely fails here too (not as its consequence), the
        // paste does not say which of them it is about, and the machine cannot either.
        Some(first) if first.touched && touched_alike(ranked, first) > 0 => plain(
            None,
            format!(
                "{} checks the paste only touches fail on this machine, and its words do not say which one it is about (listed above)",
                touched_alike(ranked, first) + 1
            ),
        ),
        Some(first)
            if first
                .finding
                .as_ref()
                .is_some_and(|f| f.status == Status::Fail) =>
        {
            plain(
                Some(first.check.id.as_str()),
                first
                    .finding
                    .as_ref()
                    .map_or_else(String::new, |f| f.summary.clone()),
            )
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
            let ruled_out: Vec<&str> = ranked
                .iter()
                .filter(|c| c.offered() && c.ruled_out_here())
                .map(|c| c.check.id.as_str())
                .collect();
            let mut look: Vec<String> = Vec::new();
            if let Some(line) = facts.and_then(|f| f.text("journal.docker_last_error")) {
                look.push(format!("dockerd's last error this boot: {line}"));
            }
            look.extend(context.looks.iter().map(|l| (*l).to_owned()));
            JsonVerdict {
                id: None,
                reason: if undecided > 0 {
                    format!(
                        "no check the paste points at fails on this machine, but {undecided} could not be decided here (listed above)"
                    )
                } else {
                    "nothing the paste points at fails on this machine: the cause is elsewhere, or the error came from another machine".into()
                },
                ruled_out,
                look,
            }
        }
    }
}

/// The other failing candidates the paste touches as closely as `first` (the same signal score
/// or more), that do not follow from it.
fn touched_alike(ranked: &[Candidate<'_>], first: &Candidate<'_>) -> usize {
    ranked
        .iter()
        .skip(1)
        .filter(|c| c.offered() && c.touched && c.score() >= first.score())
        .filter(|c| c.finding.as_ref().is_some_and(|f| f.status == Status::Fail))
        .filter(|c| c.cause.as_deref() != Some(first.check.id.as_str()))
        .count()
}

pub(super) fn render_explanation(
    candidates: &[Candidate<'_>],
    reading: Reading,
    context: &Context<'_>,
    v: &JsonVerdict<'_>,
    offline: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for (s, line) in &context.notes {
        writeln!(
            out,
            "{YELLOW}Note{YELLOW:#} (line {line}): {}",
            s.note.as_deref().unwrap_or_default()
        )?;
        if let Some(fix) = &s.fix {
            writeln!(out, "  first, {fix}")?;
        }
    }
    if !context.notes.is_empty() {
        writeln!(out)?;
    }
    if candidates.is_empty() {
        if let Some((s, line)) = context.elsewhere {
            writeln!(
                out,
                "Line {line} is about {}: no check covers that, so dockdoc names no cause.",
                s.note.as_deref().unwrap_or("something else")
            )?;
            return Ok(());
        }
        writeln!(out, "No check recognises this text.")?;
        writeln!(
            out,
            "Run `dockdoc check` (or `dockdoc check --profile all`) to look for problems anyway."
        )?;
        return Ok(());
    }
    let offered: Vec<&Candidate<'_>> = candidates
        .iter()
        .filter(|c| c.offered() && !c.related)
        .collect();
    // As JSON's `recognised`: the lines a pattern matched; lines only signals tie say so.
    if offered.iter().any(|c| c.pattern) || offered.is_empty() {
        writeln!(out, "{BOLD}Recognised{BOLD:#}")?;
    } else if offered.iter().all(|c| c.touched) {
        writeln!(
            out,
            "{BOLD}Touched by the paste's signals (no check is tied to it){BOLD:#}"
        )?;
    } else {
        writeln!(out, "{BOLD}Tied to the paste by its signals{BOLD:#}")?;
    }
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
    if offered.len() > 1 && offered.iter().all(|c| c.touched) {
        writeln!(
            out,
            "\n{} checks the paste touches fail here:",
            offered.len()
        )?;
    } else if offered.len() > 1 {
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
    // Checks only the signals tied to the paste that pass here are named on one line.
    let quiet = |c: &Candidate<'_>| !offline && !c.pattern && !c.related && c.ruled_out_here();
    for c in candidates.iter().filter(|c| !quiet(c)) {
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
            Some(Status::Fail) if c.related && c.cause_of_matched => (
                "✗",
                RED,
                "fails here, and is a cause of a check the paste points at",
            ),
            Some(Status::Fail) if c.related => ("✗", RED, "fails here, in the same area"),
            Some(Status::Fail) if c.touched => ("✗", RED, "fails here, and the paste touches it"),
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
        if !c.pattern
            && !c.related
            && let Some(t) = &c.tie
        {
            writeln!(
                out,
                "    {DIM}{} by{DIM:#} {}",
                if c.touched {
                    "the paste touches it"
                } else {
                    "tied to the paste"
                },
                t.signals.join(", ")
            )?;
        }
        writeln!(out, "    {DIM}more{DIM:#} dockdoc explain {}", c.check.id)?;
    }
    let passed: Vec<&str> = candidates
        .iter()
        .filter(|c| quiet(c))
        .map(|c| c.check.id.as_str())
        .collect();
    if !passed.is_empty() {
        writeln!(
            out,
            "{GREEN}✓{GREEN:#} also ruled out here: {}",
            passed.join(", ")
        )?;
    }
    writeln!(out)?;
    match v.id {
        Some(id) => writeln!(out, "{BOLD}Verdict:{BOLD:#} {id}: {}", visible(&v.reason))?,
        None => writeln!(out, "{BOLD}Verdict:{BOLD:#} {}", visible(&v.reason))?,
    }
    for l in &v.look {
        writeln!(out, "  look next at {}", visible(l))?;
    }
    Ok(())
}

/// What the paste's other signals say beside the candidates.
#[derive(Default)]
pub(super) struct Context<'v> {
    /// Context lines that bear on the verdict, with their line: shown first, with their fix.
    pub notes: Vec<(&'v Signal, usize)>,
    /// The paste is about something no check covers (its first such line).
    pub elsewhere: Option<(&'v Signal, usize)>,
    /// Where to look next, from the components the paste names.
    pub looks: Vec<&'v str>,
    /// Every check an `explains` pattern matched, and the line: what the words recognise,
    /// before the ranking (and an elsewhere signal) decides what is offered.
    pub recognised: Vec<(String, usize)>,
}

/// At most this many candidates are offered without a machine to decide between them.
pub(super) const OFFLINE_CANDIDATES: usize = 3;

/// The checks the paste points at: those its `explains` patterns matched and those its signals
/// tie it to ([`super::signals`]; none when it is about something no check covers). Each is
/// evaluated on `facts` (when given) with the thresholds of `selection`'s profiles, as
/// `dockdoc check` evaluates them; then the checks of `selection` that fail here as the cause of
/// one of them or in the area of a matched one are added; ranked, the likely cause first.
/// Offline, at most [`OFFLINE_CANDIDATES`] are offered.
pub(super) fn candidates<'a, 'v>(
    catalog: &'a Catalog,
    vocabulary: &'v Vocabulary,
    recognised: super::Recognised,
    facts: Option<&Facts>,
    selection: &Selection,
    offline: bool,
) -> (Vec<Candidate<'a>>, Reading, Context<'v>) {
    let super::Recognised { matches, signals } = recognised;
    let signals = if offline { signals.offline() } else { signals };
    let context = Context {
        recognised: matches
            .iter()
            .filter_map(|m| Some((catalog.checks.get(m.check)?.id.clone(), m.line)))
            .collect(),
        notes: signals
            .of_kind(vocabulary, Kind::Context)
            .into_iter()
            .filter(|(s, _)| s.note.is_some())
            .collect(),
        elsewhere: signals
            .of_kind(vocabulary, Kind::Elsewhere)
            .into_iter()
            .next(),
        looks: signals
            .of_kind(vocabulary, Kind::Component)
            .into_iter()
            .filter_map(|(s, _)| s.look.as_deref())
            .fold(Vec::new(), |mut v, l| {
                if !v.contains(&l) {
                    v.push(l);
                }
                v
            }),
    };
    // A decisive elsewhere signal sets even the matched patterns aside.
    let mut tied: Vec<Match> = if context.elsewhere.is_some_and(|(s, _)| s.decisive) {
        Vec::new()
    } else {
        matches
    };
    let patterned = tied.len();
    if context.elsewhere.is_none() {
        for (check, tie) in signals.ties(vocabulary, catalog) {
            if !tied.iter().any(|m| m.check == check) {
                tied.push(Match {
                    check,
                    line: tie.line,
                    text: signals.text(tie.line).to_owned(),
                    count: 1,
                    specificity: 0,
                });
            }
        }
    }
    let mut by_line: Vec<&Match> = tied.iter().collect();
    by_line.sort_by_key(|m| m.line);
    let mut reading = Reading::of(by_line.iter().map(|m| m.text.as_str()));
    // The endpoint may be named on a line of its own (a rootless unit's status block).
    if reading.endpoint.is_none() {
        reading.endpoint = signals
            .texts
            .iter()
            .find_map(|(_, t)| super::endpoint::Endpoint::named_in(t));
    }
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
    let mut candidates: Vec<Candidate<'_>> = tied
        .into_iter()
        .enumerate()
        .filter_map(|(k, m)| {
            let check = catalog.checks.get(m.check)?;
            // A check only signals tie, of another kind of daemon than the paste names, is not
            // listed at all: no words of the paste recognised it.
            if k >= patterned && bearing(check) == Bearing::Other {
                return None;
            }
            let finding = facts
                .as_ref()
                .map(|f| eval::evaluate_check(check, f, false));
            Some(Candidate {
                check,
                bearing: bearing(check),
                pattern: k < patterned,
                tie: signals.tie(vocabulary, check),
                matched: m,
                finding,
                related: false,
                cause: None,
                cause_of_matched: false,
                touched: false,
            })
        })
        .collect();
    if let Some(facts) = &facts
        && context.elsewhere.is_none()
    {
        // On a machine, evidence decides: a check the paste only touches (its signals stand
        // apart, or say too little to offer it offline) is offered when it fails here.
        let touched: Vec<Candidate<'a>> = catalog
            .checks
            .iter()
            .enumerate()
            .filter(|(_, c)| !candidates.iter().any(|k| k.check.id == c.id))
            .filter(|(_, check)| bearing(check) != Bearing::Other)
            .filter_map(|(index, check)| {
                let tie = signals.touch(vocabulary, check)?;
                let finding = eval::evaluate_check(check, facts, false);
                (finding.status == Status::Fail).then(|| Candidate {
                    check,
                    bearing: bearing(check),
                    pattern: false,
                    matched: Match {
                        check: index,
                        line: tie.line,
                        text: signals.text(tie.line).to_owned(),
                        count: 1,
                        specificity: 0,
                    },
                    tie: Some(tie),
                    finding: Some(finding),
                    related: false,
                    cause: None,
                    cause_of_matched: false,
                    touched: true,
                })
            })
            .collect();
        candidates.extend(touched);
    }
    if let Some(facts) = &facts {
        // The matched checks beside the selected ones, as one run: which failure follows from
        // which is decided over both, as `check` decides it.
        let mut findings: Vec<Finding> = candidates
            .iter()
            .filter_map(|c| c.finding.clone())
            .collect();
        let selected = eval::run(catalog, facts, selection);
        // The causes the candidates name are judged even outside the selected profiles.
        let causes: Vec<Finding> = candidates
            .iter()
            .flat_map(|c| c.check.consequence_of.iter())
            .filter(|id| {
                !candidates.iter().any(|c| &c.check.id == *id)
                    && !selected.iter().any(|f| &f.id == *id)
            })
            .filter_map(|id| catalog.get(id))
            .map(|check| eval::evaluate_check(check, facts, false))
            .collect();
        findings.extend(
            selected
                .into_iter()
                .chain(causes)
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
                // Its cause as this run links them, or a cause it names (`consequence_of`), when
                // this machine leaves it possible: the causes of a check ruled out here are not
                // the paste's.
                let is_cause = |c: &Candidate<'_>| {
                    cause_of(&c.check.id).as_deref() == Some(f.id.as_str())
                        || (c.check.consequence_of.contains(&f.id) && !c.ruled_out_here())
                };
                let near = candidates
                    .iter()
                    .find(|c| c.offered() && is_cause(c))
                    .or_else(|| {
                        candidates.iter().find(|c| {
                            c.offered()
                                && c.pattern
                                && c.check.area == check.area
                                && f.severity != Severity::Info
                                && !c.ruled_out_here()
                        })
                    })?;
                Some(Candidate {
                    check,
                    matched: near.matched.clone(),
                    bearing: bearing(check),
                    pattern: false,
                    tie: signals.tie(vocabulary, check),
                    finding: Some(f.clone()),
                    related: true,
                    cause: None,
                    cause_of_matched: is_cause(near),
                    touched: false,
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
    // Offline, a candidate's possible causes come before it; on a machine its status decides,
    // and a cause that fails here is placed by `follow_causes`.
    let mut ranked = follow_causes(if offline {
        causes_first(candidates)
    } else {
        candidates
    });
    if offline {
        let mut offered = 0;
        ranked.retain(|c| {
            if !c.offered() {
                return true;
            }
            offered += 1;
            offered <= OFFLINE_CANDIDATES
        });
    }
    (ranked, reading, context)
}

/// The host ports the matched lines say a rootless daemon could not expose: rootlesskit's
/// "cannot expose privileged port N".
fn pasted_ports<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<u16> {
    static PORT: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    // The pattern is compiled only for a line that can match it (ASCII case aside).
    let mut lines = lines
        .filter(|l| l.to_ascii_lowercase().contains("privileged port"))
        .peekable();
    if lines.peek().is_none() {
        return Vec::new();
    }
    let Some(re) = super::compiled(&PORT, r"(?i)cannot expose privileged port (\d+)") else {
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

/// Ranked candidates with each one's possible causes (`consequence_of`) among them moved right
/// before it: one cause, one fix, so a user outside the docker group is offered first for
/// "permission denied" on the socket, before the socket's mode. Only the candidates' own order
/// moves; a cause found failing here is placed by [`follow_causes`].
fn causes_first(ranked: Vec<Candidate<'_>>) -> Vec<Candidate<'_>> {
    let mut out: Vec<Candidate<'_>> = Vec::with_capacity(ranked.len());
    let mut rest: Vec<Option<Candidate<'_>>> = ranked.into_iter().map(Some).collect();
    for k in 0..rest.len() {
        let Some(c) = rest.get_mut(k).and_then(Option::take) else {
            continue;
        };
        for slot in rest.iter_mut().skip(k + 1) {
            if slot.as_ref().is_some_and(|d| {
                d.offered() && c.offered() && c.check.consequence_of.contains(&d.check.id)
            }) && let Some(d) = slot.take()
            {
                out.push(d);
            }
        }
        out.push(c);
    }
    out
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
    context: &Context<'_>,
    v: JsonVerdict<'_>,
    elsewhere: Option<&str>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let doc = JsonExplain {
        schema_version: 1,
        endpoint_note: elsewhere,
        context: context.notes.iter().map(JsonNote::of).collect(),
        elsewhere: context.elsewhere.as_ref().map(JsonNote::of),
        recognised: context
            .recognised
            .iter()
            .map(|(id, line)| JsonRecognised { id, line: *line })
            .collect(),
        matches: candidates
            .iter()
            .map(|c| JsonMatch {
                id: &c.check.id,
                title: &c.check.title,
                line: c.matched.line,
                text: &c.matched.text,
                status: c.status(),
                consequence_of: c.cause.as_deref(),
                via: c.via(),
                signals: c.tie.as_ref().map_or(&[][..], |t| &t.signals),
                score: c.score(),
            })
            .collect(),
        verdict: v,
    };
    crate::terminal::write_json(&mut *out, &doc)?;
    writeln!(out)
}
