//! Output for Nagios, Icinga, Naemon and other hosts of monitoring plugins (the
//! monitoring-plugins development guidelines): a status line
//! `DOCKDOC <STATE> - <text> |errors=N;;;0 warnings=N;;;0 unknown=N;;;0`, then one line per
//! problem (long output), and the exit status 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
//!
//! The state is CRITICAL when an error-severity check failed; else UNKNOWN when an
//! error-severity check could not be decided (a fact it needs is unknown), never OK; else
//! WARNING when a warning-severity check failed; else OK. Waived checks count nowhere. No
//! text line holds a `|`, which would start performance data.

use std::io::{self, Write};

use super::Report;
use crate::catalog::Severity;
use crate::finding::{Finding, Status};

/// A plugin's state; its value is the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        }
    }

    /// The plugin's exit status.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// The state the report maps to.
pub fn state(report: &Report) -> State {
    if report.fails_at(Severity::Error) {
        State::Critical
    } else if report
        .findings()
        .any(|f| f.status == Status::Unknown && f.severity == Severity::Error)
    {
        State::Unknown
    } else if report.fails_at(Severity::Warning) {
        State::Warning
    } else {
        State::Ok
    }
}

/// Plugin text may not hold `|` (it starts performance data) nor line breaks.
fn clean(s: &str) -> String {
    s.replace('|', "/").replace(['\n', '\r'], " ")
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn problem_line(f: &Finding) -> Option<String> {
    let label = match (f.status, f.severity) {
        (Status::Fail, Severity::Error) => "CRITICAL",
        (Status::Fail, Severity::Warning) => "WARNING",
        (Status::Fail, Severity::Info) => "NOTE",
        (Status::Unknown, _) => "UNKNOWN",
        (Status::Waived, _) => "WAIVED",
        (Status::Pass | Status::Skipped | Status::NotApplicable, _) => return None,
    };
    let mut line = format!("{label}: {} ({}): {}", f.id, f.severity, f.summary);
    if let Some(w) = &f.waiver {
        if w.expired {
            line.push_str(&format!(" (waiver expired {}: {})", w.expires, w.reason));
        } else {
            line.push_str(&format!(" (waived until {}: {})", w.expires, w.reason));
        }
    }
    if f.status == Status::Fail
        && let Some(step) = f.fix.first()
    {
        match &step.command {
            Some(cmd) => line.push_str(&format!("; fix: {}: {cmd}", step.step)),
            None => line.push_str(&format!("; fix: {}", step.step)),
        }
    }
    Some(clean(&line))
}

/// Writes the plugin output. `trouble` is a reason dockdoc could not do all it was asked
/// (a check file did not load): the state is then UNKNOWN unless it is CRITICAL. Returns the
/// state, whose [`State::code`] is the exit status. Errors: only those of `out`.
pub fn render(report: &Report, trouble: Option<&str>, out: &mut dyn Write) -> io::Result<State> {
    let mut state = state(report);
    if trouble.is_some() && state != State::Critical {
        state = State::Unknown;
    }
    let errors = report.failed_with(Severity::Error);
    let warnings = report.failed_with(Severity::Warning);
    let unknown = report.counts.unknown;
    let mut text = format!(
        "{}, {}, {unknown} unknown, {} passed",
        plural(errors, "error"),
        plural(warnings, "warning"),
        report.counts.pass
    );
    if report.counts.waived > 0 {
        text.push_str(&format!(", {} waived", report.counts.waived));
    }
    if let Some(t) = trouble {
        text.push_str(&format!("; {t}"));
    }
    writeln!(
        out,
        "DOCKDOC {} - {} |errors={errors};;;0 warnings={warnings};;;0 unknown={unknown};;;0",
        state.as_str(),
        clean(&text)
    )?;
    // Worst first: errors, warnings, unknowns, notes, waived.
    let rank = |f: &Finding| match (f.status, f.severity) {
        (Status::Fail, Severity::Error) => 0,
        (Status::Fail, Severity::Warning) => 1,
        (Status::Unknown, _) => 2,
        (Status::Fail, Severity::Info) => 3,
        _ => 4,
    };
    let mut problems: Vec<&Finding> = report.findings().collect();
    problems.sort_by_key(|f| rank(f));
    for f in problems {
        if let Some(line) = problem_line(f) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(state)
}
