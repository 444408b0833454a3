//! The text report: one line per area (✓ ! ✗ ?), each problem with its id, summary and one
//! fix line; evidence, passing and not-applicable checks only with `-v`.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::{Group, Report};
use crate::catalog::{FixStep, Severity};
use crate::finding::{Finding, Status};

const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
const GREEN: Style = AnsiColor::Green.on_default();
const BLUE: Style = AnsiColor::Blue.on_default();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

fn mark(f: &Finding) -> (&'static str, Style) {
    match (f.status, f.severity) {
        (Status::Fail, Severity::Error) => ("✗", RED),
        (Status::Fail, Severity::Warning) => ("!", YELLOW),
        (Status::Fail, Severity::Info) => ("i", BLUE),
        (Status::Pass, _) => ("✓", GREEN),
        (Status::Unknown, _) => ("?", YELLOW),
        (Status::Skipped, _) => ("-", DIM),
        (Status::NotApplicable, _) => ("·", DIM),
        (Status::Waived, _) => ("~", DIM),
    }
}

/// The mark of an area: its worst finding.
fn group_mark(g: &Group) -> (&'static str, Style) {
    let fails = |s| g.findings.iter().any(|f| f.is_problem() && f.severity == s);
    if fails(Severity::Error) {
        ("✗", RED)
    } else if fails(Severity::Warning) {
        ("!", YELLOW)
    } else if g.findings.iter().any(|f| f.status == Status::Unknown) {
        ("?", YELLOW)
    } else if fails(Severity::Info) {
        ("i", BLUE)
    } else {
        ("✓", GREEN)
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn group_counts(g: &Group) -> String {
    let count = |st: Status| g.findings.iter().filter(|f| f.status == st).count();
    let sev = |s: Severity| {
        g.findings
            .iter()
            .filter(|f| f.is_problem() && f.severity == s)
            .count()
    };
    let consequences = g
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail && f.consequence_of.is_some())
        .count();
    let mut parts = Vec::new();
    for (n, word) in [
        (sev(Severity::Error), "error"),
        (sev(Severity::Warning), "warning"),
        (sev(Severity::Info), "note"),
    ] {
        if n > 0 {
            parts.push(plural(n, word));
        }
    }
    if consequences > 0 {
        parts.push(format!(
            "{} listed under {}",
            plural(consequences, "consequence"),
            if consequences == 1 {
                "its cause"
            } else {
                "their causes"
            }
        ));
    }
    if count(Status::Pass) > 0 {
        parts.push(format!("{} passed", count(Status::Pass)));
    }
    if count(Status::Unknown) > 0 {
        parts.push(format!("{} unknown", count(Status::Unknown)));
    }
    if count(Status::Skipped) > 0 {
        parts.push(format!("{} skipped", count(Status::Skipped)));
    }
    if count(Status::Waived) > 0 {
        parts.push(format!("{} waived", count(Status::Waived)));
    }
    if parts.is_empty() {
        parts.push("nothing applies".into());
    }
    parts.join(", ")
}

/// One fix line: `<indent><label> <step>: <command>`, the label dimmed and the command bold.
pub fn write_fix_step(
    out: &mut dyn Write,
    indent: &str,
    label: &str,
    step: &FixStep,
) -> io::Result<()> {
    match &step.command {
        Some(cmd) => writeln!(
            out,
            "{indent}{DIM}{label}{DIM:#} {}: {BOLD}{cmd}{BOLD:#}",
            step.step
        ),
        None => writeln!(out, "{indent}{DIM}{label}{DIM:#} {}", step.step),
    }
}

pub fn render(report: &Report, verbose: bool, out: &mut dyn Write) -> io::Result<()> {
    let width = report
        .groups
        .iter()
        .map(|g| g.area.chars().count())
        .max()
        .unwrap_or(0);
    for g in &report.groups {
        let (m, style) = group_mark(g);
        writeln!(
            out,
            "{style}[{m}]{style:#} {BOLD}{:width$}{BOLD:#}  {}",
            g.area,
            group_counts(g)
        )?;
        for f in &g.findings {
            if f.status == Status::Fail && f.consequence_of.is_some() {
                continue;
            }
            let shown = match f.status {
                Status::Fail | Status::Unknown | Status::Waived => true,
                Status::Pass | Status::Skipped | Status::NotApplicable => verbose,
            };
            if !shown {
                continue;
            }
            let (m, style) = mark(f);
            writeln!(
                out,
                "    {style}{m}{style:#} {BOLD}{}{BOLD:#}  {}",
                f.id, f.summary
            )?;
            if f.status == Status::Fail {
                let mut steps = f.fix.iter();
                if let Some(step) = steps.next() {
                    write_fix_step(out, "      ", "fix ", step)?;
                }
                if verbose {
                    for step in steps {
                        write_fix_step(out, "      ", "or  ", step)?;
                    }
                }
                for c in report.consequences_of(&f.id) {
                    let (m, style) = mark(c);
                    writeln!(
                        out,
                        "      {DIM}then{DIM:#} {style}{m}{style:#} {BOLD}{}{BOLD:#}  {}",
                        c.id, c.summary
                    )?;
                }
                writeln!(out, "      {DIM}more{DIM:#} dockdoc explain {}", f.id)?;
            }
            if let Some(w) = &f.waiver {
                let state = if w.expired {
                    "waiver expired"
                } else {
                    "waived until"
                };
                writeln!(out, "      {DIM}{state}{DIM:#} {}: {}", w.expires, w.reason)?;
            }
            if verbose {
                for e in &f.evidence {
                    writeln!(out, "      {DIM}{} = {}{DIM:#}", e.fact, e.state)?;
                }
            }
        }
    }
    let c = &report.counts;
    let errors = report.failed_with(Severity::Error);
    let warnings = report.failed_with(Severity::Warning);
    let notes = report.failed_with(Severity::Info);
    let problems = errors + warnings + notes;
    let mut line = if problems == 0 {
        "no problems found".to_owned()
    } else {
        let mut kinds = Vec::new();
        for (n, w) in [(errors, "error"), (warnings, "warning"), (notes, "note")] {
            if n > 0 {
                kinds.push(plural(n, w));
            }
        }
        format!("{} ({})", plural(problems, "problem"), kinds.join(", "))
    };
    let consequences = report.consequences();
    if consequences > 0 {
        line.push_str(&format!(
            " with {} listed under {}",
            plural(consequences, "consequence"),
            if problems == 1 { "it" } else { "them" }
        ));
    }
    line.push_str(&format!(", {} passed", c.pass));
    if c.unknown > 0 {
        line.push_str(&format!(", {} unknown", c.unknown));
    }
    if c.skipped > 0 {
        line.push_str(&format!(", {} skipped", c.skipped));
    }
    if c.not_applicable > 0 {
        line.push_str(&format!(", {} not applicable", c.not_applicable));
    }
    if c.waived > 0 {
        line.push_str(&format!(", {} waived", c.waived));
    }
    if !verbose && (c.pass + c.skipped + c.not_applicable) > 0 {
        line.push_str(" (run with -v for details)");
    }
    writeln!(out)?;
    let style = if errors > 0 {
        RED
    } else if warnings > 0 {
        YELLOW
    } else {
        GREEN
    };
    writeln!(out, "{style}{line}{style:#}")
}
