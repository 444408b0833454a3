//! Running the plan (`--apply`) and reverting a run (`--undo`): consent per step, backups
//! first, one journal entry per step as it goes, so an interrupted run can still be undone.

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};

use anyhow::{Result, bail};

use super::journal::{self, Entry, Outcome, Run, Saved, Store};
use super::plan::{Plan, Step};
use crate::catalog::Tier;
use crate::terminal::visible;

/// How consent is given.
pub struct Consent<'a> {
    /// `--yes`: the safe tier is accepted, nothing else is asked for or run.
    pub yes: bool,
    /// Where answers come from, when there is a terminal (standard input); `None` without one.
    pub answers: Option<&'a mut dyn BufRead>,
}

impl Consent<'_> {
    /// Whether this step may run: `--yes` accepts the safe tier, a person answers for the
    /// others. Without a terminal and without `--yes` nothing runs (checked before, see
    /// [`refuse_without_consent`]).
    fn ask(&mut self, out: &mut dyn Write, question: &str, tier: Tier) -> Result<bool> {
        if self.yes {
            return Ok(tier == Tier::Safe);
        }
        let Some(answers) = self.answers.as_deref_mut() else {
            return Ok(false);
        };
        write!(out, "{question} [y/N] ")?;
        out.flush()?;
        let mut line = String::new();
        answers.read_line(&mut line)?;
        Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"))
    }
}

/// Without a terminal to ask on and without `--yes`, nothing is run.
pub fn refuse_without_consent(consent: &Consent<'_>, what: &str) -> Result<()> {
    if !consent.yes && consent.answers.is_none() {
        bail!(
            "{what} asks before each step and standard input is not a terminal; run it in a terminal, or give --yes to run the safe steps only"
        );
    }
    Ok(())
}

/// The shell a step runs in. As root, `sudo` in a command is a function that runs the rest of
/// its words directly (its options dropped), so the catalog's commands run unchanged.
fn shell(command: &str, as_root: bool, interactive: bool) -> Command {
    let script = if as_root {
        format!(
            "sudo() {{ while [ \"$#\" -gt 0 ]; do case \"$1\" in --) shift; break;; -*) shift;; *) break;; esac; done; \"$@\"; }}\n{command}"
        )
    } else {
        command.to_owned()
    };
    let mut c = Command::new("sh");
    c.arg("-c").arg(script);
    if !interactive {
        c.stdin(Stdio::null());
    }
    c
}

/// What `--apply` did.
pub struct Applied {
    pub run: Option<String>,
    /// Plan step numbers that ran and succeeded.
    pub ran: Vec<usize>,
    pub failed: Vec<usize>,
}

/// Runs the automatable steps of the plan with consent, journaling each.
pub fn apply(
    plan: &Plan,
    consent: &mut Consent<'_>,
    as_root: bool,
    user: &str,
    out: &mut dyn Write,
) -> Result<Applied> {
    let mut applied = Applied {
        run: None,
        ran: Vec::new(),
        failed: Vec::new(),
    };
    let all_stores = journal::stores(as_root);
    let name = journal::new_run_name(&all_stores);
    // One run per store that a step of this run used.
    let mut runs: Vec<(Store, Run)> = Vec::new();
    let user = user.to_owned();
    let started = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut failed_checks: Vec<&str> = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        let n = i + 1;
        let head = format!("{n}. {}: {}", step.check, visible(&step.step));
        let Some(command) = step.command.as_deref().filter(|_| step.automatable()) else {
            writeln!(out, "{head}\n   {}", super::render::disposition(step))?;
            continue;
        };
        if failed_checks.contains(&step.check.as_str()) {
            writeln!(
                out,
                "{head}\n   not run: an earlier step of {} failed",
                step.check
            )?;
            continue;
        }
        writeln!(out, "{head}\n   $ {}", visible(command))?;
        let question = format!(
            "   Run it ({}, as {})?",
            step.tier,
            super::render::runner(step.runs_as, as_root)
        );
        if !consent.ask(out, &question, step.tier)? {
            let why = if consent.yes {
                "not run: --yes accepts only safe steps; run without --yes to be asked"
            } else {
                "not run: you said no"
            };
            writeln!(out, "   {why}")?;
            continue;
        }
        let store = journal::store_for(step.runs_as, as_root)?;
        let slot = match runs.iter().position(|(s, _)| s.dir == store.dir) {
            Some(p) => p,
            None => {
                store.create(&name)?;
                runs.push((
                    store.clone(),
                    Run {
                        run: name.clone(),
                        started: started.clone(),
                        user: user.clone(),
                        entries: Vec::new(),
                        undone: None,
                    },
                ));
                runs.len() - 1
            }
        };
        let Some((store, run)) = runs.get_mut(slot) else {
            bail!("internal: no journal for the run");
        };
        let mut saved: Vec<Saved> = Vec::new();
        for (k, path) in step.writes.iter().enumerate() {
            saved.push(store.save(&name, path, &format!("{n}-{k}"))?);
        }
        run.entries.push(entry(n, step, command, saved));
        store.write(run)?;
        let status = shell(command, as_root, !consent.yes).status();
        let code = status
            .as_ref()
            .ok()
            .and_then(std::process::ExitStatus::code);
        let ok = status.as_ref().is_ok_and(std::process::ExitStatus::success);
        if let Some(e) = run.entries.last_mut() {
            e.outcome = if ok { Outcome::Ran } else { Outcome::Failed };
            e.exit_status = code;
        }
        store.write(run)?;
        if ok {
            writeln!(out, "   done")?;
            applied.ran.push(n);
        } else {
            match status {
                Ok(s) => writeln!(
                    out,
                    "   failed: {s}; the rest of {}'s steps are not run",
                    step.check
                )?,
                Err(e) => writeln!(out, "   failed: cannot run sh: {e}")?,
            }
            applied.failed.push(n);
            failed_checks.push(&step.check);
        }
    }
    if !runs.is_empty() {
        writeln!(
            out,
            "\nJournal: run {name} in {} (undo it with dockdoc fix --undo {name})",
            runs.iter()
                .map(|(s, _)| s.run_dir(&name).display().to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        )?;
        applied.run = Some(name);
    }
    Ok(applied)
}

fn entry(n: usize, step: &Step, command: &str, saved: Vec<Saved>) -> Entry {
    Entry {
        seq: n,
        check: step.check.clone(),
        step: step.step.clone(),
        command: command.to_owned(),
        runs_as: step.runs_as,
        tier: step.tier,
        undo: step.undo.clone(),
        saved,
        outcome: Outcome::Started,
        exit_status: None,
    }
}

/// The runs in every store, merged by name (a run with root and user steps is in both).
pub fn all_runs(as_root: bool) -> Vec<(String, Vec<(Store, Run)>)> {
    let mut named: Vec<(String, Vec<(Store, Run)>)> = Vec::new();
    for store in journal::stores(as_root) {
        for run in store.runs() {
            match named.iter_mut().find(|(n, _)| *n == run.run) {
                Some((_, parts)) => parts.push((store.clone(), run)),
                None => named.push((run.run.clone(), vec![(store.clone(), run)])),
            }
        }
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
}

/// `--list-runs`.
pub fn list_runs(as_root: bool, out: &mut dyn Write) -> Result<()> {
    let runs = all_runs(as_root);
    if runs.is_empty() {
        writeln!(out, "No fix runs in the journal.")?;
        return Ok(());
    }
    for (name, parts) in runs {
        let entries: Vec<&Entry> = parts.iter().flat_map(|(_, r)| &r.entries).collect();
        let undone = parts.iter().find_map(|(_, r)| r.undone.clone());
        let mut checks: Vec<&str> = entries.iter().map(|e| e.check.as_str()).collect();
        checks.dedup();
        writeln!(
            out,
            "{name}  {} step{} ({} failed)  {}  {}",
            entries.len(),
            if entries.len() == 1 { "" } else { "s" },
            entries.iter().filter(|e| e.outcome != Outcome::Ran).count(),
            match undone {
                Some(when) => format!("undone {when}"),
                None => "can be undone".to_owned(),
            },
            checks.join(", ")
        )?;
        for (store, _) in &parts {
            writeln!(out, "    {}", store.run_dir(&name).display())?;
        }
    }
    Ok(())
}

/// `--undo [RUN]`: the named run, or the last one not undone yet. Each step is reverted in
/// reverse order: its files restored from the backup, then its undo command.
pub fn undo(
    wanted: Option<&str>,
    consent: &mut Consent<'_>,
    as_root: bool,
    out: &mut dyn Write,
) -> Result<bool> {
    let runs = all_runs(as_root);
    let chosen = match wanted {
        Some(name) => runs.into_iter().find(|(n, _)| n == name),
        None => runs
            .into_iter()
            .rev()
            .find(|(_, parts)| parts.iter().all(|(_, r)| r.undone.is_none())),
    };
    let Some((name, mut parts)) = chosen else {
        match wanted {
            Some(name) => {
                bail!("no fix run named {name} in the journal (see dockdoc fix --list-runs)")
            }
            None => bail!("nothing to undo: every fix run in the journal is undone already"),
        }
    };
    if parts.iter().any(|(_, r)| r.undone.is_some()) {
        bail!("run {name} was undone already");
    }
    writeln!(out, "Undoing run {name}")?;
    let mut order: Vec<(usize, usize)> = Vec::new();
    for (p, (_, run)) in parts.iter().enumerate() {
        for (e, _) in run.entries.iter().enumerate() {
            order.push((p, e));
        }
    }
    order.sort_by_key(|&(p, e)| {
        parts
            .get(p)
            .and_then(|(_, r)| r.entries.get(e))
            .map_or(0, |x| x.seq)
    });
    let mut all_ok = true;
    for &(p, e) in order.iter().rev() {
        let Some((store, run)) = parts.get(p) else {
            continue;
        };
        let Some(entry) = run.entries.get(e) else {
            continue;
        };
        writeln!(
            out,
            "{}. {}: {}",
            entry.seq,
            entry.check,
            visible(&entry.step)
        )?;
        let mut what = Vec::new();
        for s in &entry.saved {
            what.push(if s.existed {
                format!("restore {} from its backup", s.path)
            } else {
                format!("remove {} (it did not exist)", s.path)
            });
        }
        let undo_command = entry
            .undo
            .as_deref()
            .filter(|_| entry.outcome == Outcome::Ran);
        if let Some(u) = undo_command {
            what.push(format!("$ {u}"));
        }
        if what.is_empty() {
            writeln!(out, "   nothing to undo: it changed no configuration")?;
            continue;
        }
        writeln!(out, "   {}", visible(&what.join(", then ")))?;
        let question = format!("   Undo it ({})?", entry.tier);
        if !consent.ask(out, &question, entry.tier)? {
            writeln!(
                out,
                "   not undone: {}",
                if consent.yes {
                    "--yes accepts only safe steps"
                } else {
                    "you said no"
                }
            )?;
            all_ok = false;
            continue;
        }
        let mut ok = true;
        for s in &entry.saved {
            if let Err(err) = store.restore(s) {
                writeln!(out, "   failed: {err:#}")?;
                ok = false;
            }
        }
        if let Some(u) = undo_command {
            let status = shell(u, as_root, !consent.yes).status();
            if !status.as_ref().is_ok_and(std::process::ExitStatus::success) {
                writeln!(out, "   failed: {u}: {status:?}")?;
                ok = false;
            }
        }
        writeln!(out, "   {}", if ok { "undone" } else { "not fully undone" })?;
        all_ok &= ok;
    }
    if all_ok {
        let when = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        for (store, run) in &mut parts {
            run.undone = Some(when.clone());
            store.write(run)?;
        }
        writeln!(out, "Run {name} is undone.")?;
    } else {
        writeln!(
            out,
            "Run {name} is not fully undone; it stays in the journal."
        )?;
    }
    Ok(all_ok)
}

/// Whether dockdoc runs as root.
pub fn as_root() -> bool {
    nix::unistd::geteuid().is_root()
}
