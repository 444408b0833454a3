//! `dockdoc explain ID`: a check's documentation, like `ruff rule` and `clippy --explain`.

use std::io::Write;

use anstyle::Style;
use anyhow::{Result, bail};
use serde::Serialize;

use crate::catalog::{Catalog, Check, FixStep};
use crate::cli::{ColorChoice, ExplainArgs, ListFormat};

const BOLD: Style = Style::new().bold();

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

pub fn run(catalog: &Catalog, args: &ExplainArgs) -> Result<u8> {
    let Some(check) = catalog.get(&args.id) else {
        bail!("no check has the id `{}` (see `dockdoc list`)", args.id);
    };
    let choice = match args.color {
        ColorChoice::Auto => anstream::ColorChoice::Auto,
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
    };
    let mut out = anstream::AutoStream::new(std::io::stdout(), choice);
    match args.format {
        ListFormat::Text => render_text(check, &mut out)?,
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &doc(check))?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(0)
}
