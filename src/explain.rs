//! `dockdoc explain`: a check's documentation (`explain ID`, like `ruff rule` and
//! `clippy --explain`), or the cause of an error message (`explain --error TEXT`, `explain -`).
//!
//! Error text is matched against every check's `explains` patterns, compiled once into a
//! [`RegexSet`] and run over each line in one pass. The matched checks are then evaluated on this
//! machine (same probes, same options), so the candidate that actually fails here comes first
//! and the others are shown as ruled out, with their evidence.

use std::io::{Read, Write};

use anstyle::{AnsiColor, Style};
use anyhow::{Context as _, Result, bail};
use regex::{Regex, RegexSet};
use serde::Serialize;

use crate::catalog::{Catalog, Check, FixStep, Severity};
use crate::cli::{ColorChoice, ExplainArgs, ListFormat};
use crate::eval::{self, Selection};
use crate::facts::Facts;
use crate::finding::{Finding, Status};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const RED: Style = AnsiColor::Red.on_default().bold();
const GREEN: Style = AnsiColor::Green.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();

/// Explain input larger than this is refused: 64 MiB of terminal scroll-back is plenty.
const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Serialize)]
struct Doc<'a> {
    id: &'a str,
    area: &'a str,
    title: &'a str,
    severity: &'a str,
    profiles: &'a [String],
    why: &'a str,
    fix: &'a [FixStep],
    explains: Vec<&'a str>,
    references: &'a [String],
    defined_at: String,
}

fn doc(c: &Check) -> Doc<'_> {
    Doc {
        id: &c.id,
        area: &c.area,
        title: &c.title,
        severity: c.severity.as_str(),
        profiles: &c.profiles,
        why: &c.why,
        fix: &c.fix,
        explains: c.explains.iter().map(|r| r.as_str()).collect(),
        references: &c.references,
        defined_at: c.origin.to_string(),
    }
}

/// Renders one check's documentation as text.
pub fn render_text(c: &Check, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{BOLD}{}{BOLD:#} ({} {}, profiles: {})",
        c.id,
        c.area,
        c.severity,
        c.profiles.join(", ")
    )?;
    writeln!(out, "{}", c.title)?;
    writeln!(out, "\n{BOLD}Why{BOLD:#}\n")?;
    for line in c.why.lines() {
        writeln!(out, "  {line}")?;
    }
    if !c.fix.is_empty() {
        writeln!(out, "\n{BOLD}Fix{BOLD:#}\n")?;
        for (i, f) in c.fix.iter().enumerate() {
            writeln!(out, "  {}. {}", i + 1, f.step)?;
            if let Some(cmd) = &f.command {
                writeln!(out, "       {cmd}")?;
            }
        }
    }
    if !c.explains.is_empty() {
        writeln!(out, "\n{BOLD}Explains errors like{BOLD:#}\n")?;
        for r in &c.explains {
            writeln!(out, "  /{}/", r.as_str())?;
        }
    }
    if !c.references.is_empty() {
        writeln!(out, "\n{BOLD}References{BOLD:#}\n")?;
        for r in &c.references {
            writeln!(out, "  {r}")?;
        }
    }
    Ok(())
}

fn stream(color: ColorChoice) -> anstream::AutoStream<std::io::Stdout> {
    let choice = match color {
        ColorChoice::Auto => anstream::ColorChoice::Auto,
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
    };
    anstream::AutoStream::new(std::io::stdout(), choice)
}

/// Prepares pasted text for matching: ANSI escapes removed, CRLF and lone CR made newlines. Line
/// numbers are those of the paste. Shell `\` continuations are joined later, line by line, by
/// [`logical_lines`].
pub fn normalise(text: &str) -> String {
    let plain = match ansi() {
        Some(re) => re.replace_all(text, ""),
        None => std::borrow::Cow::Borrowed(text),
    };
    let mut out = String::with_capacity(plain.len());
    let mut rest: &str = &plain;
    // One pass: copy up to each CR, then a single newline for CRLF or a lone CR.
    while let Some(i) = rest.find('\r') {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        out.push('\n');
        let tail = tail.strip_prefix('\r').unwrap_or(tail);
        rest = tail.strip_prefix('\n').unwrap_or(tail);
    }
    out.push_str(rest);
    out
}

/// The lines of normalised text with shell `\` continuations joined, so a wrapped
/// `docker run … \` command is one line; each comes with the number (from 1) of its first
/// physical line. Lines without a continuation are borrowed, not copied.
pub fn logical_lines(text: &str) -> impl Iterator<Item = (usize, std::borrow::Cow<'_, str>)> {
    use std::borrow::Cow;
    let mut lines = text.lines().enumerate();
    std::iter::from_fn(move || {
        let (n, line) = lines.next()?;
        let Some(head) = line.strip_suffix('\\') else {
            return Some((n + 1, Cow::Borrowed(line)));
        };
        let mut joined = String::from(head);
        for (_, next) in lines.by_ref() {
            joined.push(' ');
            match next.strip_suffix('\\') {
                Some(more) => joined.push_str(more),
                None => {
                    joined.push_str(next);
                    break;
                }
            }
        }
        Some((n + 1, Cow::Owned(joined)))
    })
}

fn ansi() -> Option<&'static Regex> {
    static ANSI: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    ANSI.get_or_init(|| {
        // CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks), and the
        // two-byte escapes.
        Regex::new(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]").ok()
    })
    .as_ref()
}

/// One check whose patterns matched: where first, and how often.
#[derive(Clone, Debug)]
pub struct Match {
    pub check: usize,
    pub line: usize,
    pub text: String,
    pub count: usize,
}

/// The compiled patterns of every check, in one set.
pub struct Matcher {
    set: RegexSet,
    /// For each pattern of the set, the index of its check in the catalog.
    owner: Vec<usize>,
}

impl Matcher {
    pub fn new(catalog: &Catalog) -> Result<Matcher> {
        let mut patterns = Vec::new();
        let mut owner = Vec::new();
        for (i, c) in catalog.checks.iter().enumerate() {
            for r in &c.explains {
                patterns.push(r.as_str().to_owned());
                owner.push(i);
            }
        }
        let set = RegexSet::new(&patterns).context("cannot compile the explains patterns")?;
        Ok(Matcher { set, owner })
    }

    /// Matches every line once; returns one entry per matched check, in order of first match.
    pub fn scan(&self, text: &str) -> Vec<Match> {
        let mut found: Vec<Match> = Vec::new();
        for (n, line) in logical_lines(text) {
            let line: &str = line_head(&line);
            // Most lines of a log match nothing: ask the set yes/no first (no allocation), and
            // only then which patterns.
            if !self.set.is_match(line) {
                continue;
            }
            let hits = self.set.matches(line);
            let mut checks: Vec<usize> = hits
                .iter()
                .filter_map(|p| self.owner.get(p).copied())
                .collect();
            checks.dedup();
            for check in checks {
                match found.iter_mut().find(|m| m.check == check) {
                    Some(m) => m.count += 1,
                    None => found.push(Match {
                        check,
                        line: n,
                        text: line.trim().chars().take(300).collect(),
                        count: 1,
                    }),
                }
            }
        }
        found
    }
}

/// Error messages are short; a longer "line" is binary junk or a minified blob. Matching only
/// its head keeps pasted garbage from stalling the regex set.
const MAX_LINE_BYTES: usize = 8 * 1024;

fn line_head(line: &str) -> &str {
    if line.len() <= MAX_LINE_BYTES {
        return line;
    }
    let mut end = MAX_LINE_BYTES;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line.get(..end).unwrap_or_default()
}

/// A matched check with its status on this machine (None: not evaluated, `--offline`).
struct Candidate<'a> {
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
struct JsonVerdict<'a> {
    id: Option<&'a str>,
    reason: String,
}

#[derive(Serialize)]
struct JsonExplain<'a> {
    schema_version: u32,
    matches: Vec<JsonMatch<'a>>,
    verdict: JsonVerdict<'a>,
}

fn read_input(args: &ExplainArgs) -> Result<Option<String>> {
    if let Some(text) = &args.error {
        return Ok(Some(text.clone()));
    }
    if args.target.as_deref() == Some("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        if buf.len() as u64 > MAX_INPUT_BYTES {
            bail!(
                "the input is larger than {MAX_INPUT_BYTES} bytes; paste the part around the error"
            );
        }
        return Ok(Some(String::from_utf8_lossy(&buf).into_owned()));
    }
    Ok(None)
}

/// The verdict over ranked candidates: the first failing check, or why there is none.
fn verdict<'a>(ranked: &[Candidate<'a>], offline: bool) -> JsonVerdict<'a> {
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

pub fn run(catalog: &Catalog, args: &ExplainArgs) -> Result<u8> {
    let mut out = stream(args.color);
    let Some(text) = read_input(args)? else {
        let id = args.target.as_deref().unwrap_or_default();
        let Some(check) = catalog.get(id) else {
            bail!("no check has the id `{id}` (see `dockdoc list`)");
        };
        match args.format {
            ListFormat::Text => render_text(check, &mut out)?,
            ListFormat::Json => {
                serde_json::to_writer_pretty(&mut out, &doc(check))?;
                writeln!(out)?;
            }
        }
        out.flush()?;
        return Ok(0);
    };

    let matcher = Matcher::new(catalog)?;
    let matches = matcher.scan(&normalise(&text));
    let facts: Option<Facts> = if args.offline || matches.is_empty() {
        None
    } else {
        Some(crate::app::gather(&args.probe)?)
    };
    let selection = Selection {
        profiles: vec!["all".into()],
        only: Vec::new(),
        skip: Vec::new(),
    };
    let mut candidates: Vec<Candidate<'_>> = matches
        .into_iter()
        .filter_map(|m| {
            let check = catalog.checks.get(m.check)?;
            let finding = facts.as_ref().map(|f| {
                let mut f = f.clone();
                f.set(
                    "run.profiles",
                    crate::facts::Fact::known(selection.profiles.clone()),
                );
                eval::evaluate_check(check, &f, false)
            });
            Some(Candidate {
                check,
                matched: m,
                finding,
            })
        })
        .collect();
    candidates.sort_by_key(|c| c.rank());
    let v = verdict(&candidates, args.offline);

    match args.format {
        ListFormat::Json => {
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
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        ListFormat::Text => render_explanation(&candidates, &v, args.offline, &mut out)?,
    }
    out.flush()?;
    Ok(0)
}

fn render_explanation(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_strips_colour_and_line_ends_and_continuations_join() {
        let raw = "\x1b[31mdocker: Error\x1b[0m response\r\ndocker run \\\r\n  --device /dev/kvm \\\n  alpine\rdone\n";
        let plain = normalise(raw);
        assert_eq!(
            plain,
            "docker: Error response\ndocker run \\\n  --device /dev/kvm \\\n  alpine\ndone\n"
        );
        let lines: Vec<(usize, String)> = logical_lines(&plain)
            .map(|(n, l)| (n, l.into_owned()))
            .collect();
        assert_eq!(
            lines,
            [
                (1, "docker: Error response".to_owned()),
                (2, "docker run    --device /dev/kvm    alpine".to_owned()),
                (5, "done".to_owned()),
            ]
        );
    }
}
