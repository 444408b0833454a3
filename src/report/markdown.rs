//! The Markdown report, for pasting into a bug report or a forum post: problems first with
//! their fixes and evidence, then a table of every check.

use std::io::{self, Write};

use super::Report;
use crate::finding::Status;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## dockdoc {} report", env!("CARGO_PKG_VERSION"))?;
    writeln!(out)?;
    writeln!(out, "Profiles: {}", report.profiles.join(", "))?;
    for (k, v) in &report.host {
        writeln!(out, "{k}: `{v}`  ")?;
    }
    let c = &report.counts;
    writeln!(
        out,
        "\n**{} failed, {} passed, {} unknown, {} skipped, {} not applicable**\n",
        c.fail, c.pass, c.unknown, c.skipped, c.not_applicable
    )?;
    let problems: Vec<_> = report
        .findings()
        .filter(|f| f.status == Status::Fail)
        .collect();
    if !problems.is_empty() {
        writeln!(out, "### Problems\n")?;
        for f in problems {
            writeln!(
                out,
                "- **{}** `{}` ({}): {}",
                f.severity, f.id, f.area, f.summary
            )?;
            for step in &f.fix {
                match &step.command {
                    Some(cmd) => writeln!(out, "  - fix: {}: `{}`", step.step, cmd)?,
                    None => writeln!(out, "  - fix: {}", step.step)?,
                }
            }
            for e in &f.evidence {
                writeln!(out, "  - `{}` = {}", e.fact, e.state)?;
            }
        }
        writeln!(out)?;
    }
    writeln!(out, "### All checks\n")?;
    writeln!(out, "| status | severity | check | summary |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    for f in report.findings() {
        writeln!(
            out,
            "| {} | {} | `{}` | {} |",
            f.status.as_str(),
            f.severity,
            f.id,
            cell(&f.summary)
        )?;
    }
    Ok(())
}
