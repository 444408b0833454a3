//! A check's documentation: `dockdoc explain ID`, as text or JSON.

use std::io::Write;

use serde::Serialize;

use super::BOLD;
use crate::catalog::{Check, FixStep};
use crate::terminal::visible;

#[derive(Serialize)]
pub(super) struct Doc<'a> {
    id: &'a str,
    area: &'a str,
    title: &'a str,
    severity: &'a str,
    profiles: &'a [String],
    /// The kinds of Docker endpoint the check judges; absent: every kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoints: Option<&'a [String]>,
    /// The checks whose failure, in the same run, is taken as this one's cause.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    consequence_of: &'a [String],
    why: &'a str,
    fix: &'a [FixStep],
    explains: Vec<&'a str>,
    references: &'a [String],
    defined_at: String,
}

pub(super) fn doc(c: &Check) -> Doc<'_> {
    Doc {
        id: &c.id,
        area: &c.area,
        title: &c.title,
        severity: c.severity.as_str(),
        profiles: &c.profiles,
        endpoints: c.endpoints.as_deref(),
        consequence_of: &c.consequence_of,
        why: &c.why,
        fix: &c.fix,
        explains: c.explains.iter().map(|r| r.as_str()).collect(),
        references: &c.references,
        defined_at: c.origin.to_string(),
    }
}

/// Renders one check's documentation as text. A user's check file may hold anything, so every
/// value goes through `terminal::visible`: a control sequence in a title or a fix is shown, not
/// obeyed.
pub fn render_text(c: &Check, out: &mut dyn Write) -> std::io::Result<()> {
    let joined = |items: &[String], sep: &str| visible(&items.join(sep)).into_owned();
    writeln!(
        out,
        "{BOLD}{}{BOLD:#} ({} {}, profiles: {})",
        visible(&c.id),
        visible(&c.area),
        c.severity,
        joined(&c.profiles, ", ")
    )?;
    writeln!(out, "{}", visible(&c.title))?;
    match &c.endpoints {
        Some(kinds) => {
            let list = match kinds.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                _ => kinds.join(""),
            };
            writeln!(
                out,
                "Judges {} Docker daemons only (docker.endpoint_kind).",
                visible(&list)
            )?;
        }
        None => writeln!(
            out,
            "Judges every kind of Docker daemon (docker.endpoint_kind)."
        )?,
    }
    if !c.consequence_of.is_empty() {
        writeln!(
            out,
            "Listed under {} when that fails too (one cause, one fix).",
            joined(&c.consequence_of, " or ")
        )?;
    }
    writeln!(out, "\n{BOLD}Why{BOLD:#}\n")?;
    for line in c.why.lines() {
        writeln!(out, "  {}", visible(line))?;
    }
    if !c.fix.is_empty() {
        writeln!(out, "\n{BOLD}Fix{BOLD:#}\n")?;
        for (i, f) in c.fix.iter().enumerate() {
            writeln!(out, "  {}. {}", i + 1, visible(&f.step))?;
            if let Some(cmd) = &f.command {
                writeln!(out, "       {}", visible(cmd))?;
            }
        }
    }
    if !c.explains.is_empty() {
        writeln!(out, "\n{BOLD}Explains errors like{BOLD:#}\n")?;
        for r in &c.explains {
            writeln!(out, "  /{}/", visible(r.as_str()))?;
        }
    }
    if !c.references.is_empty() {
        writeln!(out, "\n{BOLD}References{BOLD:#}\n")?;
        for r in &c.references {
            writeln!(out, "  {}", visible(r))?;
        }
    }
    Ok(())
}
