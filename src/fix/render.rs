//! The plan for people (text), for programs (JSON) and as a POSIX script of its automatable
//! steps. Texts from the machine are shown through [`crate::terminal::visible`] in text, and
//! quoted as shell comments in the script.

use std::io::{self, Write};

use serde::Serialize;

use super::plan::{Plan, RunsAs, Step};
use crate::catalog::Tier;
use crate::terminal::visible;

/// How a step's runner is shown: `root (sudo)` for a user, `root` for root, `you` otherwise.
pub fn runner(runs_as: RunsAs, as_root: bool) -> &'static str {
    match (runs_as, as_root) {
        (RunsAs::Root, false) => {
            "root, through sudo (it asks for your password, dockdoc never sees it)"
        }
        (RunsAs::Root, true) | (RunsAs::User, true) => "root (dockdoc runs as root)",
        (RunsAs::User, false) => "you",
    }
}

/// What `--apply` does with a step, in words.
pub fn disposition(step: &Step) -> String {
    if let Some(n) = step.same_as {
        return format!("the same command as step {n}: run once");
    }
    if let Some(n) = step.after_manual {
        return format!("not run: it follows step {n}, which a person does");
    }
    match step.tier {
        Tier::Inspect => "shown, not run: it only reads".into(),
        Tier::Safe => "run by --apply (--yes accepts it)".into(),
        Tier::Disruptive => "run by --apply only when you say yes to it (--yes does not)".into(),
        Tier::Reboot => "never run by dockdoc: reboot when it suits you".into(),
        Tier::Manual => "never run by dockdoc: a person decides".into(),
    }
}

pub fn text(plan: &Plan, as_root: bool, out: &mut dyn Write) -> io::Result<()> {
    if plan.causes.is_empty() {
        writeln!(out, "Nothing to fix: no selected check fails.")?;
        return Ok(());
    }
    writeln!(
        out,
        "Plan ({} {}; nothing has been changed)",
        plan.causes.len(),
        if plan.causes.len() == 1 {
            "cause"
        } else {
            "causes"
        }
    )?;
    let mut current: Option<&str> = None;
    for (i, step) in plan.steps.iter().enumerate() {
        let n = i + 1;
        if step.tier != Tier::Reboot && current != Some(step.check.as_str()) {
            current = Some(&step.check);
            if let Some(cause) = plan.causes.iter().find(|c| c.check == step.check) {
                writeln!(out)?;
                writeln!(out, "✗ {}  {}", cause.check, visible(&cause.summary))?;
                for c in &cause.consequences {
                    writeln!(out, "  then {c} (fixed with its cause)")?;
                }
            }
        }
        if step.tier == Tier::Reboot && current.is_some() {
            current = None;
            writeln!(out)?;
            writeln!(out, "Last, the reboot:")?;
        }
        writeln!(out, "  {n}. {}", visible(&step.step))?;
        if let Some(cmd) = &step.command {
            writeln!(out, "     $ {}", visible(cmd))?;
        }
        let mut line = format!("     tier {}", step.tier);
        if step.command.is_some() && step.tier.automatable() {
            line.push_str(&format!(", runs as {}", runner(step.runs_as, as_root)));
        }
        writeln!(out, "{line}")?;
        if let Some(changes) = &step.changes {
            writeln!(out, "     changes {}", visible(changes))?;
        }
        if let Some(containers) = &step.containers {
            writeln!(out, "     containers {}", visible(containers))?;
        }
        if step.tier.automatable() {
            let mut undo = Vec::new();
            if !step.writes.is_empty() {
                undo.push(format!(
                    "restore {} from the backup taken before (or remove it if it did not exist)",
                    visible(&step.writes.join(", "))
                ));
            }
            if let Some(u) = &step.undo {
                undo.push(format!("$ {}", visible(u)));
            }
            if undo.is_empty() {
                undo.push("nothing to undo: it changes no configuration".into());
            }
            writeln!(out, "     undo    {}", undo.join(", then "))?;
        }
        writeln!(out, "     → {}", disposition(step))?;
    }
    // Causes whose fix has no step at all still appear, so nothing is hidden.
    for cause in &plan.causes {
        if !plan.steps.iter().any(|s| s.check == cause.check) {
            writeln!(out)?;
            writeln!(out, "✗ {}  {}", cause.check, visible(&cause.summary))?;
            writeln!(
                out,
                "  no step applies here (see dockdoc explain {})",
                cause.check
            )?;
        }
    }
    let automatable = plan.automatable().count();
    let safe = plan
        .automatable()
        .filter(|(_, s)| s.tier == Tier::Safe)
        .count();
    writeln!(out)?;
    writeln!(
        out,
        "{automatable} {} to run ({safe} safe, {} disruptive), {} to read, {} for a person, {} reboot.",
        if automatable == 1 { "step" } else { "steps" },
        automatable - safe,
        plan.count(Tier::Inspect),
        plan.count(Tier::Manual),
        plan.count(Tier::Reboot),
    )?;
    if automatable > 0 {
        writeln!(
            out,
            "Apply: dockdoc fix --apply (asks for each step), or --apply --yes (the safe steps only)."
        )?;
    }
    Ok(())
}

/// `--format json`: the plan as data, `schema_version` 1.
#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    dockdoc: &'static str,
    causes: &'a [super::plan::Cause],
    steps: &'a [Step],
}

pub fn json(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        schema_version: 1,
        dockdoc: env!("CARGO_PKG_VERSION"),
        causes: &plan.causes,
        steps: &plan.steps,
    };
    crate::terminal::write_json(out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}

/// A text as shell comment lines: every line starts with `# `, so nothing in it runs.
fn comment(text: &str) -> String {
    visible(text)
        .lines()
        .map(|l| format!("# {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `--format shell`: a POSIX script of the automatable steps (safe and disruptive), each with
/// its check, tier, what it changes and its undo as comments; `set -eu` stops at the first
/// step that fails. The steps it leaves to a person or a reboot are listed at the end.
pub fn shell(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "#!/bin/sh")?;
    writeln!(
        out,
        "# Written by dockdoc {} (dockdoc fix --format shell): the steps it may automate,",
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(
        out,
        "# in the order of the report. Read each one before running this script."
    )?;
    writeln!(out, "set -eu")?;
    for (n, step) in plan.automatable() {
        let Some(cmd) = &step.command else { continue };
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            comment(&format!("{n}. {}: {}", step.check, step.step))
        )?;
        let mut about = format!("tier {}", step.tier);
        if let Some(c) = &step.changes {
            about.push_str(&format!("; changes {c}"));
        }
        if let Some(c) = &step.containers {
            about.push_str(&format!("; {c}"));
        }
        writeln!(out, "{}", comment(&about))?;
        if let Some(u) = &step.undo {
            writeln!(out, "{}", comment(&format!("undo: {u}")))?;
        }
        if !step.writes.is_empty() {
            writeln!(
                out,
                "{}",
                comment(&format!(
                    "writes: {} (back it up first)",
                    step.writes.join(", ")
                ))
            )?;
        }
        writeln!(out, "{cmd}")?;
    }
    let left: Vec<(usize, &Step)> = plan
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.tier, Tier::Manual | Tier::Reboot))
        .map(|(i, s)| (i + 1, s))
        .collect();
    if !left.is_empty() {
        writeln!(out)?;
        writeln!(out, "# Not automated (for a person, or a reboot):")?;
        for (n, s) in left {
            let mut line = format!("{n}. {} [{}]: {}", s.check, s.tier, s.step);
            if let Some(c) = &s.command {
                line.push_str(&format!(": {c}"));
            }
            writeln!(out, "{}", comment(&line))?;
        }
    }
    Ok(())
}
